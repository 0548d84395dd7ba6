"""Quality filters: decoding guards, blur, perceptual duplicates, detectors, the manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from cinema_dag.scraping.manifest import Manifest, read_manifest, write_manifest
from cinema_dag.vision.quality import (
    ImageRejectedError,
    blur_score,
    decode_image_bytes,
    filter_images,
    hog_people_detector,
    perceptual_hash,
    tesseract_text_detector,
)


def photo(seed: int, size=(640, 480)) -> Image.Image:
    """A sharp synthetic photo: random rectangles over coarse noise, distinct per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    image = Image.fromarray(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)).resize(
        size, Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        draw.rectangle(
            (x, y, x + int(rng.integers(8, w // 2)), y + int(rng.integers(8, h // 2))),
            fill=tuple(int(c) for c in rng.integers(0, 256, 3)),
        )
    return image


def encode(image: Image.Image, fmt="PNG", **kw) -> bytes:
    buf = BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def save(tmp_path: Path, name: str, image: Image.Image, fmt="PNG") -> Path:
    path = tmp_path / name
    path.write_bytes(encode(image, fmt))
    return path


class TestDecode:
    def test_ok(self):
        image = decode_image_bytes(encode(photo(0), "JPEG"))
        assert image.size == (640, 480) and image.format == "JPEG"

    def test_truncated(self):
        data = encode(photo(0), "JPEG")
        with pytest.raises(ImageRejectedError, match="truncated") as e:
            decode_image_bytes(data[: len(data) // 2])
        assert e.value.reason == "undecodable"

    @pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
    def test_garbage(self, data):
        with pytest.raises(ImageRejectedError) as e:
            decode_image_bytes(data)
        assert e.value.reason == "undecodable"

    def test_bomb_by_header_before_decoding(self):
        # 1-bit PNG that claims 1000 x 1000; limit 500 000 pixels: rejected without decoding.
        data = encode(Image.new("1", (1000, 1000)))
        with pytest.raises(ImageRejectedError, match="1000x1000 = 1000000 pixels > 500000") as e:
            decode_image_bytes(data, max_pixels=500_000)
        assert e.value.reason == "decompression_bomb"
        assert decode_image_bytes(data, max_pixels=1_000_000).size == (1000, 1000)

    def test_format_not_accepted(self):
        with pytest.raises(ImageRejectedError, match="'GIF'") as e:
            decode_image_bytes(encode(photo(0), "GIF"))
        assert e.value.reason == "unsupported_format"

    def test_bad_limit(self):
        with pytest.raises(ValueError, match="max_pixels must be positive, got 0"):
            decode_image_bytes(b"x", max_pixels=0)


class TestBlurAndHash:
    def test_blur_orders_sharpness(self):
        sharp = photo(1)
        soft = sharp.filter(ImageFilter.GaussianBlur(2))
        softer = sharp.filter(ImageFilter.GaussianBlur(8))
        assert blur_score(sharp) > blur_score(soft) > blur_score(softer) >= 0
        assert blur_score(sharp) > 100 > blur_score(softer)

    def test_blur_independent_of_resolution(self):
        image = photo(1)
        big = image.resize((1280, 960), Image.Resampling.NEAREST)
        assert blur_score(big) == pytest.approx(blur_score(image), rel=0.05)

    def test_blur_accepts_arrays(self):
        arr = np.asarray(photo(1))
        assert blur_score(arr) == pytest.approx(blur_score(photo(1)))
        assert blur_score(arr[..., 0]) > 0
        with pytest.raises(ValueError, match=r"\(1, 2, 3, 4\)"):
            blur_score(np.zeros((1, 2, 3, 4)))

    def test_phash_sees_resized_copy_not_other_photo(self):
        a, b = perceptual_hash(photo(1)), perceptual_hash(photo(1).resize((320, 240)))
        c = perceptual_hash(photo(2))
        dist = lambda x, y: (int(x, 16) ^ int(y, 16)).bit_count()  # noqa: E731
        assert len(a) == 16 and dist(a, b) <= 2 and dist(a, c) > 16


class TestFilterImages:
    def test_reasons_and_order(self, tmp_path):
        paths = [
            save(tmp_path, "copy.png", photo(1).resize((480, 360))),  # smaller copy, given first
            save(tmp_path, "orig.png", photo(1)),
            save(tmp_path, "same.png", photo(1)),  # identical bytes to orig.png
            save(tmp_path, "blur.png", photo(2).filter(ImageFilter.GaussianBlur(8))),
            save(tmp_path, "tiny.png", photo(3, (200, 120))),
            save(tmp_path, "ok.jpg", photo(4), "JPEG"),
        ]
        (tmp_path / "bad.jpg").write_bytes(encode(photo(5), "JPEG")[:500])
        paths.append(tmp_path / "bad.jpg")
        m = filter_images(paths, detect_people=None)
        reasons = {Path(r.path).name: r.reason for r in m.kept + m.rejected}
        assert reasons == {
            "copy.png": "near_duplicate",
            "orig.png": None,
            "same.png": "duplicate",
            "blur.png": "blurry",
            "tiny.png": "too_small",
            "ok.jpg": None,
            "bad.jpg": "undecodable",
        }
        assert [Path(r.path).name for r in m.kept] == ["orig.png", "ok.jpg"]  # input order
        by = {Path(r.path).name: r for r in m.rejected}
        assert by["copy.png"].duplicate_of == str(paths[1]) and by["same.png"].duplicate_of == str(paths[1])
        assert by["tiny.png"].detail == "200x120 < 256x256"
        assert by["bad.jpg"].width is None and by["blur.png"].blur < 100
        assert m.reasons() == {
            "near_duplicate": 1,
            "duplicate": 1,
            "blurry": 1,
            "too_small": 1,
            "undecodable": 1,
        }
        orig = m.kept[0]
        assert orig.sha1 == hashlib.sha1(paths[1].read_bytes()).hexdigest() and orig.width == 640

    def test_records_joined_by_path_or_url_sha1(self, tmp_path):
        a = save(tmp_path, "a" * 40 + ".png", photo(1))
        b = save(tmp_path, "b" * 40 + ".png", photo(2))
        records = [
            {
                "path": "images/" + a.name,
                "page_url": "https://p/1",
                "image_url": "https://i/1",
                "licence": "KOGL-1",
            },
            {"url_sha1": "b" * 40, "page_url": "https://p/2", "image_url": "https://i/2", "licence": None},
        ]
        m = filter_images([a, b], records, detect_people=None)
        assert [(r.page_url, r.image_url, r.licence) for r in m.kept] == [
            ("https://p/1", "https://i/1", "KOGL-1"),
            ("https://p/2", "https://i/2", None),
        ]

    def test_people_and_text_detectors_run_on_distinct_survivors_only(self, tmp_path):
        paths = [save(tmp_path, f"{i}.png", photo(10 + i)) for i in range(3)]
        paths.append(save(tmp_path, "dup.png", photo(10).resize((600, 450))))
        paths.append(save(tmp_path, "small.png", photo(20, (64, 64))))
        seen: list[tuple[int, int]] = []

        def people(image):
            seen.append(image.size)
            return 0.9 if image.getpixel((0, 0)) == photo(11).getpixel((0, 0)) else 0.1

        m = filter_images(
            paths, detect_people=people, detect_text=lambda im: 0.5 if im.size == (640, 480) else 0
        )
        assert len(seen) == 3  # not the duplicate, not the small one
        by = {Path(r.path).name: r for r in m.rejected}
        assert by["1.png"].reason == "people" and by["1.png"].people == 0.9
        assert by["0.png"].reason == "text" and by["0.png"].text == 0.5 and "50.0%" in by["0.png"].detail
        assert m.params["people_detector"].endswith("people") and m.params["people_threshold"] == 0.5

    def test_checks(self, tmp_path):
        p = save(tmp_path, "a.png", photo(1))
        with pytest.raises(FileNotFoundError, match="nope.png"):
            filter_images([tmp_path / "nope.png"], detect_people=None)
        with pytest.raises(ValueError, match="hash_distance must be in \\[0, 64\\], got 65"):
            filter_images([p], hash_distance=65, detect_people=None)
        with pytest.raises(ValueError, match="'yolo'"):
            filter_images([p], detect_people="yolo")
        with pytest.raises(ValueError, match="min_width"):
            filter_images([p], min_width=0, detect_people=None)


class TestManifestFile:
    def test_round_trip_atomic(self, tmp_path):
        p = save(tmp_path, "a.png", photo(1))
        shutil.copy(p, tmp_path / "b.png")
        m = filter_images(
            [p, tmp_path / "b.png"], [{"path": "a.png", "page_url": "https://p/산불"}], detect_people=None
        )
        out = write_manifest(m, tmp_path / "out" / "manifest.json")
        text = out.read_text(encoding="utf-8")
        assert "산불" in text  # Korean kept readable
        data = json.loads(text)
        assert data["counts"] == {"kept": 1, "rejected": 1, "duplicate": 1}
        assert read_manifest(out) == m
        assert [f.name for f in out.parent.iterdir()] == ["manifest.json"]
        assert Manifest.from_dict(m.to_dict()) == m


class TestHog:
    @pytest.mark.skipif(not hasattr(cv2, "HOGDescriptor"), reason=f"OpenCV {cv2.__version__} has no HOG")
    def test_default_detector_scores(self, tmp_path):
        detect = hog_people_detector()
        assert detect(Image.new("RGB", (320, 240), (120, 160, 200))) == 0.0
        assert detect(Image.new("RGB", (40, 40))) == 0.0  # smaller than the HOG window
        m = filter_images([save(tmp_path, "a.png", photo(1))])  # the default path runs HOG
        row = (m.kept + m.rejected)[0]
        assert row.people is not None and (row.reason == "people") == (row.people >= 1.0)
        assert m.params["people_detector"] == "hog" and m.params["people_threshold"] == 1.0

    @pytest.mark.skipif(hasattr(cv2, "HOGDescriptor"), reason="this OpenCV has HOG")
    def test_missing_hog_names_the_fix(self):
        with pytest.raises(RuntimeError, match="opencv-python-headless<5"):
            hog_people_detector()


def _tesseract_or_skip():
    try:
        return tesseract_text_detector()
    except RuntimeError as e:
        pytest.skip(str(e))


class TestTesseract:
    def test_detects_burned_in_korean_caption(self):
        font_path = Path("/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf")
        detect = _tesseract_or_skip()
        if not font_path.exists():
            pytest.skip("fonts-nanum is not installed")
        from PIL import ImageFont

        image = photo(3)
        assert detect(image) < 0.02
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 380, 640, 480), fill=(0, 0, 0))
        draw.text(
            (20, 400),
            "집중호우 피해 현장 연합뉴스",
            font=ImageFont.truetype(str(font_path), 40),
            fill=(255, 255, 255),
        )
        assert detect(image) > 0.03
