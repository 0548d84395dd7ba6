import base64
import re

import numpy as np
import pytest
from PIL import Image

from cinema_dag import artefacts
from cinema_dag.previews import flow_to_color, gif_markdown, overlay_mask, png_markdown


def decode_inline(markdown: str, mime: str) -> Image.Image:
    payload = re.search(rf"data:{mime};base64,([A-Za-z0-9+/=]+)", markdown).group(1)
    import io

    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_png_markdown_is_a_small_inline_thumbnail():
    md = png_markdown([np.zeros((600, 300, 3), np.uint8)] * 2)
    assert md.count("data:image/png;base64,") == 2
    assert max(decode_inline(md, "image/png").size) <= 192


def test_gif_markdown_loops():
    frames = np.stack([np.full((40, 40, 3), i * 20, np.uint8) for i in range(10)])
    gif = decode_inline(gif_markdown(frames), "image/gif")
    assert gif.is_animated and gif.n_frames == 10 and gif.info.get("loop") == 0


def test_flow_to_color_direction_and_zero():
    flow = np.zeros((2, 2, 2), np.float32)
    flow[0, 0] = (1, 0)    # right
    flow[0, 1] = (-1, 0)   # left
    rgb = flow_to_color(flow)
    assert tuple(rgb[1, 1]) == (255, 255, 255)  # still = white
    assert rgb[0, 0, 0] > rgb[0, 0, 2] and rgb[0, 1, 2] > rgb[0, 1, 0]  # right reddish, left bluish


def test_overlay_mask_checks_size():
    with pytest.raises(ValueError, match="does not match"):
        overlay_mask(np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4), bool))


def test_masks_and_arrays_round_trip_losslessly(tmp_path):
    mask = np.random.default_rng(0).random((7, 9)) > 0.5
    artefacts.write_masks(tmp_path, [mask, ~mask])
    back = artefacts.read_masks(tmp_path)
    assert len(back) == 2 and (back[0] == mask).all() and back[1].dtype == bool
    depth = np.random.default_rng(1).random((5, 6)).astype(np.float32)
    artefacts.write_arrays(tmp_path, [depth], "disparity")
    assert np.array_equal(artefacts.read_arrays(tmp_path, "disparity")[0], depth)


def test_corrupt_upstream_image_is_a_clear_error(tmp_path):
    (tmp_path / "image_000.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ValueError, match=r"cannot decode .*image_000\.png"):
        artefacts.read_images(tmp_path)


def test_gif_markdown_stays_within_its_byte_budget_on_noise():
    frames = np.random.default_rng(0).integers(0, 256, (60, 128, 128, 3), dtype=np.uint8)
    markdown = gif_markdown(frames, max_bytes=150_000)
    assert len(markdown) <= 150_000
    assert decode_inline(markdown, "image/gif").n_frames >= 4
