"""Quality filters for scraped photos: the paper's manual review, made repeatable.

Each image is either kept or rejected with one reason code (and a human detail), in this order —
cheap checks first, costly detectors last and only on what is still kept:

1. ``undecodable`` / ``decompression_bomb`` / ``unsupported_format`` — the bytes are no usable
   JPEG/PNG/WebP (truncated, corrupt), or the header claims more pixels than ``max_pixels``.
2. ``too_small`` — narrower or lower than ``min_width`` × ``min_height``.
3. ``blurry`` — variance of the Laplacian of a fixed-size (512 × 512) grayscale below
   ``blur_threshold``; the fixed size makes the score independent of the resolution.
4. ``duplicate`` / ``near_duplicate`` — the same bytes, or a perceptual hash (pHash, 64 bits)
   within ``hash_distance`` bits of a better copy; the better copy (more pixels, then sharper)
   is the one kept, whatever the input order.
5. ``people`` — a people detector scores at least ``people_threshold`` (default: OpenCV's HOG
   pedestrian detector, which OpenCV 4.x has and 5.0 no longer does; inject e.g. a GroundingDINO
   "person" detector instead).
6. ``text`` — an optional embedded-text detector returns a text-area fraction of at least
   ``text_threshold`` (captions and watermarks burned into news photos). None is on by default;
   :func:`tesseract_text_detector` is one, when Tesseract is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

import cv2
import imagehash
import numpy as np
from PIL import Image, UnidentifiedImageError

from cinema_dag.defaults import DEFAULT_BLUR_THRESHOLD, DEFAULT_HASH_DISTANCE, DEFAULT_MIN_SIZE
from cinema_dag.scraping.manifest import Manifest, ManifestRow

__all__ = [
    "ACCEPTED_FORMATS",
    "BLUR_SIZE",
    "HOG_PEOPLE_THRESHOLD",
    "REASONS",
    "ImageRejectedError",
    "PeopleDetector",
    "TextDetector",
    "blur_score",
    "decode_image_bytes",
    "filter_images",
    "hog_people_detector",
    "perceptual_hash",
    "tesseract_text_detector",
]

ACCEPTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP")
BLUR_SIZE: tuple[int, int] = (512, 512)
HOG_PEOPLE_THRESHOLD = 1.0
"""Default cut on the HOG detector's SVM margin: below ~1, textured scenes (poles, trunks, shapes)
give false detections. A heuristic, not tuned on labelled disaster photos."""
REASONS: tuple[str, ...] = (
    "undecodable",
    "decompression_bomb",
    "unsupported_format",
    "too_small",
    "blurry",
    "duplicate",
    "near_duplicate",
    "people",
    "text",
)

_WORDLIKE = re.compile(r"[\uac00-\ud7a3]|[^\W_]{2,}")

PeopleDetector = Callable[[Image.Image], float]
"""``detect_people(image) -> score``: higher means more likely that people are shown."""
TextDetector = Callable[[Image.Image], float]
"""``detect_text(image) -> fraction``: the share of the image area covered by text, in [0, 1]."""


class ImageRejectedError(ValueError):
    """Raised when image bytes cannot be used; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_image_bytes(
    data: bytes,
    *,
    max_pixels: int | None = None,
    formats: Sequence[str] = ACCEPTED_FORMATS,
) -> Image.Image:
    """Decode image bytes completely, or say why not.

    The header is read first, so a decompression bomb is rejected before a single pixel is
    decoded; then every pixel is decoded, so a truncated file is caught here and not later.

    Args:
        data: the file's bytes.
        max_pixels: the most ``width * height`` allowed; ``None`` uses Pillow's
            ``Image.MAX_IMAGE_PIXELS`` (read at call time). Pillow itself refuses more than twice
            ``Image.MAX_IMAGE_PIXELS`` whatever this says.
        formats: Pillow format names accepted.

    Returns:
        The loaded image, its ``format`` attribute set.

    Raises:
        ImageRejectedError: reason ``undecodable``, ``decompression_bomb`` or ``unsupported_format``.
    """
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if limit is not None and limit <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels!r}")
    if not data:
        raise ImageRejectedError("undecodable", "empty file")
    try:
        # The warning (between 1x and 2x Pillow's limit) is replaced by our own explicit check below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageRejectedError("decompression_bomb", str(e)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise ImageRejectedError("undecodable", f"{type(e).__name__}: {e}") from None
    if image.format not in formats:
        raise ImageRejectedError(
            "unsupported_format", f"format {image.format!r} is not one of {list(formats)}"
        )
    width, height = image.size
    if limit is not None and width * height > limit:
        raise ImageRejectedError(
            "decompression_bomb", f"{width}x{height} = {width * height} pixels > {limit}"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        # Pillow says "image file is truncated (N bytes not processed)" for cut-off files.
        raise ImageRejectedError("undecodable", f"{type(e).__name__}: {e}") from None
    return image


def blur_score(image: Image.Image | np.ndarray) -> float:
    """Variance of the Laplacian of the image as a 512 × 512 grayscale: low means blurry.

    Args:
        image: a PIL image, or an array :math:`(H, W)` gray or :math:`(H, W, 3)` RGB, uint8.

    Returns:
        A non-negative float; sharp photos score in the hundreds or more, ~100 is the usual cut.
    """
    if isinstance(image, Image.Image):
        gray = np.asarray(image.convert("L"))
    else:
        arr = np.asarray(image)
        if arr.ndim == 3 and arr.shape[-1] == 3:
            gray = cv2.cvtColor(np.ascontiguousarray(arr, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        elif arr.ndim == 2:
            gray = arr.astype(np.uint8, copy=False)
        else:
            raise ValueError(f"image must be (H, W) or (H, W, 3); got shape {arr.shape}")
    # INTER_AREA averages when shrinking, so the score does not depend on the source resolution.
    small = cv2.resize(gray, BLUR_SIZE, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT perceptual hash (``imagehash.phash``) as 16 hex digits."""
    return str(imagehash.phash(image.convert("RGB")))


def _hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hog_people_detector(
    *,
    win_stride: tuple[int, int] = (8, 8),
    scale: float = 1.05,
    max_side: int = 640,
) -> PeopleDetector:
    """OpenCV's HOG + linear-SVM pedestrian detector, as a ``detect_people`` callable.

    The score is the largest SVM margin of any detection (0.0 when none); :func:`filter_images`
    cuts it at :data:`HOG_PEOPLE_THRESHOLD`. Images are shrunk to ``max_side`` first to keep it
    fast on a CPU. It finds upright, mostly whole people; crowds at a distance and seated people
    are often missed.

    Raises:
        RuntimeError: when this OpenCV build has no ``HOGDescriptor`` (OpenCV 5 moved it out of
            the main modules; ``opencv-python-headless`` 4.x has it).
    """
    if not hasattr(cv2, "HOGDescriptor"):
        raise RuntimeError(
            f"OpenCV {cv2.__version__} has no cv2.HOGDescriptor (removed from the main modules in "
            "OpenCV 5): install opencv-python-headless<5, or pass detect_people=<callable> "
            "(e.g. a GroundingDINO 'person' detector) or detect_people=None"
        )
    if max_side < 128:
        raise ValueError(f"max_side must be >= 128 (the HOG window is 64x128), got {max_side}")
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect_people(image: Image.Image) -> float:
        rgb = image.convert("RGB")
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        bgr = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
        if bgr.shape[0] < 128 or bgr.shape[1] < 64:
            return 0.0
        _, weights = hog.detectMultiScale(bgr, winStride=win_stride, padding=(8, 8), scale=scale)
        return float(np.max(weights)) if len(weights) else 0.0

    return detect_people


def tesseract_text_detector(
    *,
    lang: str = "kor+eng",
    min_confidence: float = 80.0,
    max_side: int = 1024,
) -> TextDetector:
    """Embedded-text detector on Tesseract: the share of the image covered by confident words.

    Needs the ``pytesseract`` package and the ``tesseract`` program with its language data
    (Debian: ``apt-get install tesseract-ocr tesseract-ocr-kor``). Tesseract runs in sparse-text
    mode (``--psm 11``: captions and watermarks, not a page layout); a word counts when its
    confidence is at least ``min_confidence`` and it has a Hangul syllable or two letters/digits
    (a photo's edges are read as confident ``|`` and ``.``).

    Raises:
        RuntimeError: naming what is missing (package, program or language data).
    """
    try:
        import pytesseract  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise RuntimeError(
            "tesseract_text_detector needs the pytesseract package (pip install pytesseract==0.3.13)"
        ) from None
    try:
        installed = set(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, OSError) as e:
        raise RuntimeError(
            f"tesseract program not found ({e}); on Debian: apt-get install tesseract-ocr tesseract-ocr-kor"
        ) from None
    missing = [lang_ for lang_ in lang.split("+") if lang_ not in installed]
    if missing:
        raise RuntimeError(
            f"tesseract language data {missing} not installed (have {sorted(installed)}); "
            f"on Debian: apt-get install {' '.join('tesseract-ocr-' + m for m in missing)}"
        )

    def detect_text(image: Image.Image) -> float:
        rgb = image.convert("RGB")
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        data = pytesseract.image_to_data(
            rgb, lang=lang, config="--psm 11", output_type=pytesseract.Output.DICT
        )
        area = 0
        for text, conf, w, h in zip(data["text"], data["conf"], data["width"], data["height"], strict=True):
            if float(conf) >= min_confidence and _WORDLIKE.search(text):
                area += int(w) * int(h)
        return min(1.0, area / float(rgb.width * rgb.height))

    return detect_text


def _index_records(records: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    """Records by file name: a record's ``path`` basename, else ``url_sha1`` (the file stem)."""
    index: dict[str, Mapping[str, Any]] = {}
    for rec in records or ():
        if rec.get("path"):
            index[Path(str(rec["path"])).name] = rec
        if rec.get("url_sha1"):
            index.setdefault(str(rec["url_sha1"]), rec)
    return index


def filter_images(
    paths: Sequence[str | os.PathLike[str]],
    records: Iterable[Mapping[str, Any]] | None = None,
    *,
    min_width: int = DEFAULT_MIN_SIZE,
    min_height: int = DEFAULT_MIN_SIZE,
    blur_threshold: float = DEFAULT_BLUR_THRESHOLD,
    hash_distance: int = DEFAULT_HASH_DISTANCE,
    max_pixels: int | None = None,
    detect_people: PeopleDetector | Literal["hog"] | None = "hog",
    people_threshold: float | None = None,
    detect_text: TextDetector | None = None,
    text_threshold: float = 0.02,
) -> Manifest:
    """Keep the usable, distinct, people-free photos; record why each other one was dropped.

    Args:
        paths: image files.
        records: scrape records (``records.jsonl`` rows), matched to files by the basename of their
            ``path`` or by ``url_sha1`` = file stem; they give page URL, image URL and licence.
        min_width, min_height: smallest size kept, in pixels.
        blur_threshold: smallest Laplacian variance kept (on a 512 × 512 gray).
        hash_distance: pHash Hamming distance (of 64 bits) at or below which two images are
            near-duplicates.
        max_pixels: decompression-bomb limit; ``None`` uses Pillow's ``Image.MAX_IMAGE_PIXELS``.
        detect_people: ``"hog"`` (default) for :func:`hog_people_detector`, a callable
            ``image -> score``, or ``None`` to skip.
        people_threshold: scores at or above this reject the image; ``None`` (default): 0.5 for a
            callable (a probability), :data:`HOG_PEOPLE_THRESHOLD` for ``"hog"`` (an SVM margin).
        detect_text: a callable ``image -> text-area fraction``, or ``None`` (default) to skip.
        text_threshold: fractions at or above this reject the image (default 0.02).

    Returns:
        A :class:`~cinema_dag.scraping.manifest.Manifest`; ``kept`` and ``rejected`` keep the input order.

    Raises:
        FileNotFoundError: a path does not exist (a caller's mistake, not an image's).
        ValueError: a threshold is out of range.
    """
    # 1. Check inputs
    if min_width < 1 or min_height < 1:
        raise ValueError(f"min_width and min_height must be >= 1, got {min_width} and {min_height}")
    if blur_threshold < 0:
        raise ValueError(f"blur_threshold must be >= 0, got {blur_threshold}")
    if not 0 <= hash_distance <= 64:
        raise ValueError(f"hash_distance must be in [0, 64], got {hash_distance}")
    if not 0 <= text_threshold <= 1:
        raise ValueError(f"text_threshold must be in [0, 1], got {text_threshold}")
    if isinstance(detect_people, str):
        if detect_people != "hog":
            raise ValueError(f"detect_people must be 'hog', a callable or None, got {detect_people!r}")
        people_fn: PeopleDetector | None = hog_people_detector()
        if people_threshold is None:
            people_threshold = HOG_PEOPLE_THRESHOLD
    else:
        people_fn = detect_people
    if people_threshold is None:
        people_threshold = 0.5
    files = [Path(p) for p in paths]
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(f"image file {str(f)!r} does not exist")
    by_name = _index_records(records)

    # 2. Cheap per-image checks: decode, size, sharpness
    rows: list[ManifestRow] = []
    survivors: list[int] = []  # decoded images are not held: 200 photos of 12 MP would be GBs
    for i, f in enumerate(files):
        data = f.read_bytes()
        rec = by_name.get(f.name) or by_name.get(f.stem) or {}
        row = ManifestRow(
            path=str(f),
            sha1=hashlib.sha1(data).hexdigest(),
            page_url=rec.get("page_url"),
            image_url=rec.get("image_url"),
            licence=rec.get("licence"),
        )
        rows.append(row)
        try:
            image = decode_image_bytes(data, max_pixels=max_pixels)
        except ImageRejectedError as e:
            row.reason, row.detail = e.reason, e.detail
            continue
        row.width, row.height = image.size
        row.phash = perceptual_hash(image)
        if row.width < min_width or row.height < min_height:
            row.reason = "too_small"
            row.detail = f"{row.width}x{row.height} < {min_width}x{min_height}"
            continue
        row.blur = round(blur_score(image), 3)
        if row.blur < blur_threshold:
            row.reason = "blurry"
            row.detail = f"laplacian variance {row.blur:.1f} < {blur_threshold}"
            continue
        survivors.append(i)

    # 3. Duplicates: the best copy (most pixels, then sharpest, then first given) is kept.
    order = sorted(survivors, key=lambda i: (-(rows[i].width * rows[i].height), -rows[i].blur, i))
    representatives: list[int] = []
    for i in order:
        row = rows[i]
        for j in representatives:
            if row.sha1 == rows[j].sha1:
                row.reason, row.duplicate_of = "duplicate", rows[j].path
                row.detail = f"same bytes as {rows[j].path}"
                break
            dist = _hamming(row.phash, rows[j].phash)
            if dist <= hash_distance:
                row.reason, row.duplicate_of = "near_duplicate", rows[j].path
                row.detail = f"phash distance {dist} <= {hash_distance} to {rows[j].path}"
                break
        else:
            representatives.append(i)

    # 4. Detectors, only on the distinct survivors (they are the costly part)
    for i in sorted(representatives):
        row = rows[i]
        image = decode_image_bytes(files[i].read_bytes(), max_pixels=max_pixels)
        if people_fn is not None:
            row.people = round(float(people_fn(image)), 4)
            if row.people >= people_threshold:
                row.reason = "people"
                row.detail = f"people score {row.people:.3f} >= {people_threshold}"
                continue
        if detect_text is not None:
            row.text = round(float(detect_text(image)), 4)
            if row.text >= text_threshold:
                row.reason = "text"
                row.detail = f"text covers {row.text:.1%} of the image >= {text_threshold:.1%}"

    params = {
        "min_width": min_width,
        "min_height": min_height,
        "blur_threshold": blur_threshold,
        "blur_size": list(BLUR_SIZE),
        "hash": "phash-64",
        "hash_distance": hash_distance,
        "max_pixels": Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels,
        "people_detector": _detector_name(detect_people),
        "people_threshold": people_threshold,
        "text_detector": _detector_name(detect_text),
        "text_threshold": text_threshold,
    }
    return Manifest(
        kept=[r for r in rows if r.reason is None],
        rejected=[r for r in rows if r.reason is not None],
        params=params,
    )


def _detector_name(detector: object) -> str | None:
    if detector is None or isinstance(detector, str):
        return detector
    return getattr(detector, "__qualname__", type(detector).__name__)
