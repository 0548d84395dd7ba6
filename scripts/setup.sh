#!/usr/bin/env bash
# Installs cinema-dag into ./.venv: the system library open3d needs, then the pinned Python set.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# open3d's wheel links against libusb-1.0 (Debian package libusb-1.0-0).
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libusb-1.0-0 >/dev/null
  else
    echo "error: install libusb-1.0 (Debian/Ubuntu: libusb-1.0-0) for open3d, then re-run" >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# torch==2.13.0 is pinned in pyproject.toml: the CPU wheel; an unpinned torch would pull a CUDA build.
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
echo "cinema-dag installed in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
