"""Real photos through the pipeline (``photos_dir`` in disaster_images): the user's labelme polygon
or mask file replaces LangSAM's mask, labelme hint lines set the flow, and the video moves exactly
where the user drew, on a real textured photo (scikit-image's coffee cup)."""

import json

import cv2
import dagster as dg
import numpy as np
import pytest
from PIL import Image

from cinema_dag import artefacts
from cinema_dag.assets import cinemagraphs, depth, flow, images, ldis, masks
from cinema_dag.cinemagraph import read_mp4
from cinema_dag.storage import ArtefactStorage

CHAIN = [images.disaster_images, masks.motion_masks, depth.depth_maps, ldis.depth_ldis, flow.flow_fields,
         cinemagraphs.cinemagraphs]
HEIGHT, WIDTH, NUM_FRAMES = 96, 144, 12
# The lower left of the picture moves; the hint points right (50 px of arrow = 1 px per frame).
POLYGON = [[4, 50], [80, 50], [80, 92], [4, 92]]
HINT = [[10, 70], [110, 70]]


def _photo() -> Image.Image:
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the test photos")
    return Image.fromarray(data.coffee()).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def _labelme(shapes) -> dict:
    return {"version": "5.4.1", "shapes": shapes, "imageHeight": HEIGHT, "imageWidth": WIDTH}


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = _photo()
    photo.save(folder / "a_labelled.png")
    (folder / "a_labelled.json").write_text(json.dumps(_labelme([
        {"label": "motion", "points": POLYGON, "shape_type": "polygon"},
        {"label": "hint0", "points": HINT, "shape_type": "line"},
    ])))
    photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "b_masked.png")
    user_mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    user_mask[10:40, 60:130] = 255
    Image.fromarray(user_mask).save(folder / "b_masked_mask.png")
    return folder, np.asarray(photo), user_mask > 0


def _run(resources, instance, folder, **cinemagraph_config):
    run_config = {"ops": {
        "disaster_images": {"config": {"photos_dir": str(folder), "num_images": 4}},
        "cinemagraphs": {"config": {"num_frames": NUM_FRAMES, "fps": 12, "cameras": ["none"], "crf": 0, "gif": False,
                                    **cinemagraph_config}},
    }}
    return dg.materialize(CHAIN, partition_key="flood", resources=resources, instance=instance,
                          run_config=run_config, raise_on_error=False)


@pytest.mark.slow
def test_user_annotations_replace_the_automatic_mask_and_hints(resources, instance, tmp_path, photos, metadata):
    folder, photo, user_mask = photos
    result = _run(resources, instance, folder)
    assert result.success
    storage = ArtefactStorage(tmp_path / "artefacts")

    stored = artefacts.read_images(storage.require("disaster_images", "flood"))
    assert len(stored) == 2
    np.testing.assert_array_equal(np.asarray(stored[0].convert("RGB")), photo)  # the photo itself, not a render
    assert metadata(result, "disaster_images")["annotated"] == 2

    drawn = np.zeros((HEIGHT, WIDTH), bool)
    drawn[50:93, 4:81] = True  # the polygon, vertices included
    mask_a, mask_b = artefacts.read_masks(storage.require("motion_masks", "flood"))
    np.testing.assert_array_equal(mask_a, drawn)
    np.testing.assert_array_equal(mask_b, user_mask)
    assert metadata(result, "motion_masks")["user_masks"] == 2

    flow_a, flow_b = artefacts.read_arrays(storage.require("flow_fields", "flood"), artefacts.FLOW)
    assert metadata(result, "flow_fields")["images_with_labelme_hints"] == 1
    assert not flow_a[~mask_a].any() and not flow_b[~mask_b].any()  # nothing moves outside the drawn region
    inside = flow_a[mask_a]
    # The hint (100 px to the right) is 2 px/frame to the right, and the field follows it.
    assert inside[:, 0].mean() > 1.0 and abs(inside[:, 1]).mean() < 0.25 * inside[:, 0].mean()

    library = json.loads(storage.path("cinemagraphs", "flood", "library.json").read_text())
    first = next(v for v in library if v["image"] == 0)
    frames = read_mp4(storage.path("cinemagraphs", "flood", f"{first['name']}.mp4")).astype(np.int16)
    assert frames.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3)
    changes = np.abs(frames - frames[:1]).max(axis=(0, 3))
    # A still camera: far from the polygon nothing changes; inside it the coffee texture flows.
    far = cv2.dilate(drawn.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    assert changes[far].max() <= 2
    assert (changes[drawn] > 10).mean() > 0.5


def test_a_labelme_file_without_a_motion_polygon_fails_the_asset_clearly(resources, instance, photos):
    folder, _, _ = photos
    (folder / "a_labelled.json").write_text(json.dumps(_labelme([
        {"label": "sky", "points": [[0, 0], [50, 0], [50, 20]], "shape_type": "polygon"}])))
    result = dg.materialize([images.disaster_images], partition_key="flood", resources=resources,
                            instance=instance, raise_on_error=False,
                            run_config={"ops": {"disaster_images": {"config": {"photos_dir": str(folder)}}}})
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "no polygon labelled 'motion'" in str(failure)
    assert "a_labelled.json" in str(failure)
