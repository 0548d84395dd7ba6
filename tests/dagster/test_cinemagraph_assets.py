"""Acceptance of the whole chain on the tiny profile: generated_prompts → … → cinemagraphs."""

import json

import dagster as dg
import numpy as np
import pytest

from cinema_dag.assets import cinemagraphs, depth, flow, images, ldis, masks, prompts
from cinema_dag.cinemagraph import default_camera_kind, frame_steps, read_mp4

CHAIN = [prompts.generated_prompts, images.disaster_images, masks.motion_masks, depth.depth_maps,
         ldis.depth_ldis, flow.flow_fields, cinemagraphs.cinemagraphs]

NUM_FRAMES, WIDTH = 30, 96


@pytest.fixture
def chain(resources, instance):
    run_config = {"ops": {
        "disaster_images": {"config": {"num_images": 1}},
        "cinemagraphs": {"config": {"num_frames": NUM_FRAMES, "fps": 15, "width": WIDTH,
                                    "cameras": ["auto", "none"],
                                    # The tiny model's pictures are noise, which H.264 cannot compress
                                    # without large per-frame errors; encode losslessly so the test
                                    # sees the renderer's loop, not the codec's noise.
                                    "crf": 0}},
    }}
    return dg.materialize(CHAIN, partition_key="flood", resources=resources, instance=instance,
                          run_config=run_config)


@pytest.mark.slow
def test_chain_ends_in_seamless_videos(chain, tmp_path, metadata):
    assert chain.success
    folder = tmp_path / "artefacts" / "cinemagraphs" / "flood"
    library = json.loads((folder / "library.json").read_text())
    assert [v["camera"] for v in library] == [default_camera_kind("flood"), "none"]  # auto = the type's path
    for video in library:
        frames = read_mp4(folder / f"{video['name']}.mp4")
        assert frames.shape == (NUM_FRAMES, WIDTH, WIDTH, 3)
        assert (folder / f"{video['name']}.gif").stat().st_size > 0
        assert (folder / f"{video['name']}.png").exists()
        # The wrap from the last frame to the first is no larger than a typical step of the loop
        # (the median step, with 25% and half a grey level of slack for the camera's speed profile
        # and yuv420p rounding: a real seam on these noise images is several times the median).
        steps = frame_steps(frames)  # the last entry is the wrap, last frame → first
        seam, typical = steps[-1], float(np.median(steps[:-1]))
        assert typical > 0, "the video does not move"
        assert seam <= 1.25 * typical + 0.5, (video["name"], seam, typical)
    md = metadata(chain, "cinemagraphs")
    assert md["num_videos"] == 2 and "data:image/gif;base64," in md["preview"]
    assert md["video"] == str(folder / f"{library[0]['name']}.mp4")  # the UI links the first video's file
    assert metadata(chain, "flow_fields")["num_fields"] == 1
    assert (tmp_path / "artefacts" / "depth_ldis" / "flood" / "points_000.ply").exists()
