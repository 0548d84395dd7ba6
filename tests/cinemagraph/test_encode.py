import numpy as np
import pytest
from PIL import Image

from cinema_dag.cinemagraph.encode import even_size, read_mp4, write_gif, write_mp4, write_poster


def _frames(n=6, h=24, w=32):
    t = np.arange(n)[:, None, None, None]
    y = np.arange(h)[None, :, None, None]
    x = np.arange(w)[None, None, :, None]
    phase = x / 9.0 + y / 7.0 + t / 2.0 + np.array([0.0, 0.3, 0.6])
    return (128 + 90 * np.sin(phase)).astype(np.uint8)  # smooth: H.264 keeps it close


def test_mp4_decodes_with_the_configured_frame_count_and_size(tmp_path):
    frames = _frames()
    path = write_mp4(frames, tmp_path / "loop.mp4", fps=25, crf=10)
    assert [p.name for p in tmp_path.iterdir()] == ["loop.mp4"]
    back = read_mp4(path)
    assert back.shape == frames.shape
    assert np.abs(back.astype(int) - frames).mean() < 6  # lossy, but the same picture


def test_odd_sizes_are_padded_to_even(tmp_path):
    frames = _frames(4, 23, 31)
    back = read_mp4(write_mp4(frames, tmp_path / "odd.mp4"))
    assert back.shape == (4, *even_size(23, 31), 3) == (4, 24, 32, 3)


def test_gif_loops_forever(tmp_path):
    frames = _frames(5)
    path = write_gif(frames, tmp_path / "loop.gif", fps=25)
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.info["loop"] == 0 and gif.info["duration"] == 40
        assert gif.size == (32, 24)
    with Image.open(write_gif(frames, tmp_path / "small.gif", max_side=16)) as small:
        assert small.size == (16, 12)


def test_poster_png(tmp_path):
    frame = _frames(1)[0]
    with Image.open(write_poster(frame, tmp_path / "poster.png")) as png:
        assert np.array_equal(np.asarray(png), frame)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="frames"):
        write_mp4(np.zeros((2, 8, 8), np.uint8), tmp_path / "a.mp4")
    with pytest.raises(ValueError, match=r"\.mp4"):
        write_mp4(_frames(), tmp_path / "a.avi")
    with pytest.raises(ValueError, match="fps"):
        write_gif(_frames(), tmp_path / "a.gif", fps=0)
