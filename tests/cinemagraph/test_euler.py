import pytest
import torch

from cinema_dag.cinemagraph.euler import EulerIntegrator, integrate_flow, integrate_loop


def _constant(vx, vy, h=20, w=30):
    flow = torch.zeros(h, w, 2)
    flow[..., 0], flow[..., 1] = vx, vy
    return flow


def test_constant_field_moves_points_linearly():
    start = torch.tensor([[3.0, 4.0], [10.5, 7.25]])
    out = integrate_flow(_constant(0.5, -0.25), start, 8)
    assert out.shape == (9, 2, 2)
    for t in range(9):
        assert torch.allclose(out[t], start + t * torch.tensor([0.5, -0.25]), atol=1e-4)


def test_loop_halves_go_opposite_ways_and_share_the_start():
    start = torch.tensor([[12.0, 9.0]])
    forward, backward = integrate_loop(_constant(0.4, 0.1), start, 10)
    assert torch.equal(forward[0], backward[0])
    assert torch.allclose(forward[10], start + torch.tensor([4.0, 1.0]), atol=1e-4)
    assert torch.allclose(backward[10], start - torch.tensor([4.0, 1.0]), atol=1e-4)


def test_bilinear_sampling_between_pixels():
    flow = torch.zeros(10, 10, 2)
    flow[:, :, 0] = torch.arange(10.0)[None, :] * 0.1  # vx = 0.1 * x
    it = EulerIntegrator(flow, torch.tensor([[2.5, 5.0]]))
    it.step()
    assert it.position[0, 0].item() == pytest.approx(2.5 + 0.25, abs=1e-5)  # nearest sampling would give 0.2 or 0.3


def test_zero_field_outside_the_image_stops_points():
    it = EulerIntegrator(_constant(3.0, 0.0, 5, 5), torch.tensor([[3.0, 2.0]]))
    for _ in range(10):
        it.step()
    assert it.position[0, 0].item() < 8.0  # left the image and stopped just outside


def test_reset_and_bad_inputs():
    it = EulerIntegrator(_constant(1.0, 0.0), torch.tensor([[1.0, 1.0]]))
    it.step()
    it.reset()
    assert it.steps == 0 and torch.allclose(it.position, torch.tensor([[1.0, 1.0]]))
    with pytest.raises(ValueError, match="flow"):
        EulerIntegrator(torch.zeros(5, 5), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="direction"):
        EulerIntegrator(_constant(0, 0), torch.zeros(1, 2), direction=2)
    with pytest.raises(ValueError, match="num_steps"):
        integrate_flow(_constant(0, 0), torch.zeros(1, 2), -1)
