"""Vectorised z-buffer point splatting in plain torch (same code on CPU and CUDA).

One ``scatter_reduce_(amin)`` of a packed 64-bit key per point does the whole depth test:

    key = float32_bits(depth) << 32 | point_id

Positive float32 bit patterns order like the floats, so the smallest key at a pixel is the nearest
point, and its id (the low word) says which colour to fetch: no second pass, no atomics of our own,
no PyTorch3D or CuPy. Ties in depth go to the smaller id.

Convention:
    Splats go to a *padded* grid of ``(H + 4) x (W + 4)`` pixels. Image pixel ``(i, j)`` is padded
    pixel ``(i + 2, j + 2)``. The first ring around the image holds the points that really land
    just outside it (they are the image's edge pixels' neighbours when cracks are closed); every
    point farther out is clamped into the outer ring (the "sentinel" pixels), so the scatter needs
    no mask and no ``where``. An empty pixel holds :func:`empty_key`: depth +inf and the sentinel id
    (one past the last point), whose colour table entry is transparent.
"""

from __future__ import annotations

import math
import sys

import torch
import torch.nn.functional as F

__all__ = [
    "EMPTY_DEPTH_BITS",
    "PAD",
    "HI_WORD",
    "LO_WORD",
    "empty_key",
    "pack_keys",
    "unpack_keys",
    "PaddedGrid",
    "splat_keys",
    "fill_cracks",
    "crack_tolerance",
    "fill_holes",
    "fill_holes_tiled",
    "splat_points",
]

PAD = 2
"""Width of the padded grid's border: one ring of real neighbours, one sentinel ring."""

EMPTY_DEPTH_BITS = 0x7F800000
"""Bit pattern of float32 +inf: the depth of an empty pixel."""

# A little-endian int64 is (low int32, high int32) in memory; big-endian the other way round.
LO_WORD, HI_WORD = (0, 1) if sys.byteorder == "little" else (1, 0)


def empty_key(sentinel_id: int) -> int:
    """The key of an empty pixel: depth +inf, id ``sentinel_id``."""
    if not 0 <= sentinel_id < 2**31:
        raise ValueError(f"`sentinel_id` must be in [0, 2**31); got {sentinel_id}")
    return (EMPTY_DEPTH_BITS << 32) | sentinel_id


def pack_keys(depth: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
    """Keys ``bits(depth) << 32 | id`` for positive finite depths.

    Args:
        depth: ``float32 (P,)``, > 0.
        ids: ``(P,)`` non-negative ids below 2**31; default ``arange(P)``.

    Returns:
        ``int64 (P,)``.

    Example:
        >>> keys = pack_keys(torch.tensor([2.0, 1.0]))
        >>> unpack_keys(keys)
        (tensor([2., 1.]), tensor([0, 1]))
    """
    if depth.dtype != torch.float32 or depth.ndim != 1:
        raise ValueError(f"`depth` must be float32 (P,); got {depth.dtype} {tuple(depth.shape)}")
    if ids is None:
        ids = torch.arange(depth.shape[0], device=depth.device)
    keys = torch.empty(depth.shape[0], dtype=torch.int64, device=depth.device)
    words = keys.view(torch.int32).view(-1, 2)
    words[:, HI_WORD] = depth.view(torch.int32)
    words[:, LO_WORD] = ids.to(torch.int32)
    return keys


def unpack_keys(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(depth float32, id int64)`` of packed keys (empty pixels give ``inf`` and the sentinel id)."""
    words = keys.contiguous().view(torch.int32).view(-1, 2)
    depth = words[:, HI_WORD].contiguous().view(torch.float32).view(keys.shape)
    return depth, words[:, LO_WORD].to(torch.int64).view(keys.shape)


class PaddedGrid:
    """Geometry of the padded splat grid for an ``H x W`` image (see the module docstring)."""

    def __init__(self, height: int, width: int) -> None:
        if height < 1 or width < 1:
            raise ValueError(f"image size must be positive; got {height}x{width}")
        self.height, self.width = int(height), int(width)
        self.padded_height = self.height + 2 * PAD
        self.padded_width = self.width + 2 * PAD
        self.numel = self.padded_height * self.padded_width
        # Padded pixel (row, col) sits at row * padded_width + col.

    def __repr__(self) -> str:
        return f"PaddedGrid(height={self.height}, width={self.width})"

    def new_buffer(self, empty: int, device: torch.device | str | None = None) -> torch.Tensor:
        """A flat ``int64`` key buffer filled with ``empty``."""
        return torch.full((self.numel,), empty, dtype=torch.int64, device=device)

    def view2d(self, buffer: torch.Tensor) -> torch.Tensor:
        """``(H + 4, W + 4)`` view of a flat buffer."""
        return buffer.view(self.padded_height, self.padded_width)

    def interior(self, buffer: torch.Tensor) -> torch.Tensor:
        """``(H, W)`` (strided) view of the image pixels of a flat buffer."""
        return self.view2d(buffer)[PAD:-PAD, PAD:-PAD]

    def padded_index(self, flat: torch.Tensor) -> torch.Tensor:
        """Padded flat index of image flat indices ``row * W + col``."""
        rows = torch.div(flat, self.width, rounding_mode="floor")
        return flat + rows * (2 * PAD) + PAD * (self.padded_width + 1)

    def clear_border(self, buffer: torch.Tensor, empty: int) -> None:
        """Reset the outer sentinel ring (where far off-image points were clamped) to ``empty``."""
        grid = self.view2d(buffer)
        grid[0].fill_(empty)
        grid[-1].fill_(empty)
        grid[:, 0].fill_(empty)
        grid[:, -1].fill_(empty)

    def pixel_index(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Padded flat index of the pixel nearest to image coordinates ``(x, y)`` (any shape).

        Off-image points go to the border. Reference implementation (the renderer inlines a faster
        version with preallocated buffers and constants folded in).
        """
        col = (x + (PAD + 0.5)).clamp_(0, self.padded_width - 1).floor_()
        row = (y + (PAD + 0.5)).clamp_(0, self.padded_height - 1).floor_()
        return (row * self.padded_width + col).to(torch.int64)


def splat_keys(buffer: torch.Tensor, pixels: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Z-buffer: ``buffer[p] = min(buffer[p], keys[i] for i with pixels[i] == p)``, in place.

    Args:
        buffer: flat ``int64`` key buffer.
        pixels: ``int64 (P,)`` flat indices into ``buffer``.
        keys: ``int64 (P,)`` packed keys.

    Returns:
        ``buffer``.
    """
    return buffer.scatter_reduce_(0, pixels, keys, reduce="amin", include_self=True)


def crack_tolerance(relative: float = 0.03) -> int:
    """Key offset meaning "nearer by about ``relative``" (float bits are piecewise-linear in log2)."""
    if not 0 < relative < 1:
        raise ValueError(f"`relative` must be in (0, 1); got {relative!r}")
    # One unit of the float32 exponent (2**23 in bits) doubles the value: log2(1 + r) of it.
    return round(math.log2(1.0 + relative) * 2**23) << 32


def fill_cracks(
    grid2d: torch.Tensor, tolerance: int | None = None, work: torch.Tensor | None = None, passes: int = 2
) -> None:
    """Close one-pixel cracks in a padded key grid, in place.

    A pixel is a crack when its left and right neighbours, or its upper and lower neighbours, are
    both nearer than it by more than ``tolerance`` (an empty pixel is infinitely far): a magnified
    surface that let a far point (or nothing) show through a gap between its own samples. It takes
    the farther neighbour of the qualifying pair (of the nearer pair when both qualify).
    Silhouettes are not fattened, and the corner pixel of a far region is kept: there only one
    side of each pair is near.

    Magnifying by a few percent opens whole crack rows and columns. Where one crosses the other,
    the crossing pixels have empty neighbours on all sides; the second pass closes them from the
    pixels the first pass filled (a diagonal test in one pass would also eat far regions'
    corners, and misses crossings where the column steps sideways by a pixel).

    In key space each pass is branch-free: ``key = min(key, min(max(L, R), max(U, D)) + tol)``;
    adding ``tol`` (zero low bits) keeps the neighbour's id and only pushes its depth back by ~3%.

    Args:
        grid2d: ``int64 (..., h + 2, w + 2)`` view of keys: the inner ``h x w`` pixels are filled,
            the first and last row and column serve as neighbours only (they must hold empty keys
            or real neighbours, never clamped off-image points; see :meth:`PaddedGrid.clear_border`).
            A row window of a padded buffer works, so only rows that changed need the work.
        tolerance: key offset, default :func:`crack_tolerance`.
        work: optional ``int64`` scratch of at least twice the filled pixels (avoids allocations).
        passes: number of passes (2 closes crossings; each pass costs 5 element-wise ops).
    """
    tol = crack_tolerance() if tolerance is None else int(tolerance)
    lead = grid2d.shape[:-2]
    h, w = grid2d.shape[-2] - 2, grid2d.shape[-1] - 2
    if h <= 0 or w <= 0:
        return
    shape = (*lead, h, w)
    count = math.prod(shape)
    if work is None or work.numel() < 2 * count:
        work = torch.empty(2 * count, dtype=torch.int64, device=grid2d.device)
    best = work[:count].view(shape)
    pair = work[count : 2 * count].view(shape)
    g = grid2d
    centre = g[..., 1:-1, 1:-1]
    for _ in range(passes):
        torch.maximum(g[..., 1:-1, :-2], g[..., 1:-1, 2:], out=best)  # left, right
        torch.maximum(g[..., :-2, 1:-1], g[..., 2:, 1:-1], out=pair)  # up, down
        torch.minimum(best, pair, out=best)
        best.add_(tol)
        torch.minimum(centre, best, out=centre)


def fill_holes(image: torch.Tensor, holes: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Fill ``holes`` by push-pull (a weighted image pyramid), so no unfilled pixel remains.

    Going down, each level averages the valid pixels of the level above (weighted); going up, each
    hole takes the bilinearly upsampled value of the coarser level. Far content can be preferred
    by passing a ``weight`` that grows with depth (disocclusions show background, not the object
    that moved away).

    Args:
        image: ``float32 (C, H, W)`` or a batch ``(B, C, H, W)``.
        holes: ``bool (H, W)`` or ``(B, H, W)``.
        weight: optional ``float32`` of the holes' shape, >= 0: confidence of the valid pixels
            (0: not used as context).

    Returns:
        a new image equal to ``image`` outside ``holes``. An image (of a batch) without any valid
        pixel comes back unchanged.
    """
    batched = image.ndim == 4
    if not batched:
        if image.ndim != 3:
            raise ValueError(f"`image` must be (C, H, W) or (B, C, H, W); got {tuple(image.shape)}")
        image, holes = image[None], holes[None]
        weight = None if weight is None else weight[None]
    if holes.shape != (image.shape[0], *image.shape[2:]):
        raise ValueError(f"`holes` must match `image`'s (B, H, W); got {tuple(holes.shape)} for {tuple(image.shape)}")
    valid = (~holes).to(image.dtype)[:, None]  # Bx1xHxW
    w = valid if weight is None else valid * weight[:, None]  # weight 0 = "do not use this pixel"
    levels = [torch.cat([image * w, w], 1)]  # Bx(C+1)xHxW
    while max(levels[-1].shape[-2:]) > 1 and bool((levels[-1][:, -1] <= 0).any()):
        levels.append(F.avg_pool2d(levels[-1], 2, ceil_mode=True))
    top = levels[-1]
    estimate = top[:, :-1] / top[:, -1:].clamp_min(1e-30)
    for level in reversed(levels[:-1]):
        up = F.interpolate(estimate, size=level.shape[-2:], mode="bilinear", align_corners=False)
        wl = level[:, -1:]
        estimate = torch.where(wl > 0, level[:, :-1] / wl.clamp_min(1e-30), up)
    has_valid = (w.flatten(1) > 0).any(1)[:, None, None, None]
    out = torch.where(holes[:, None] & has_valid, estimate, image)
    return out if batched else out[0]


_NEIGHBOUR_FILL_MAX = 4096
_NEIGHBOURS = torch.tensor([(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if dy or dx])


def _fill_from_neighbours(
    image: torch.Tensor, holes: torch.Tensor, weight: torch.Tensor | None, coords: torch.Tensor, channels: int
) -> torch.Tensor:
    """Fill holes from valid pixels within 2 px (weighted mean); returns the holes left over."""
    height, width = holes.shape
    offsets = _NEIGHBOURS.to(coords.device)
    near = coords[:, None, :] + offsets  # Kx24x2
    rows, cols = near[..., 0], near[..., 1]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    w = (inside & ~holes[rows, cols]).float()
    if weight is not None:
        w = w * weight[rows, cols]
    total = w.sum(1)
    done = total > 0
    if bool(done.any()):
        colours = image[rows[done], cols[done], :channels].float()  # Dx24xC
        mean = (colours * w[done, :, None]).sum(1) / total[done, None]
        r, c = coords[done, 0], coords[done, 1]
        image[r, c, :channels] = mean.add_(0.5).clamp_(0, 255).to(torch.uint8)
        if image.shape[-1] > channels:
            image[r, c, channels:] = 255
    return coords[~done]


def fill_holes_tiled(
    image: torch.Tensor,
    holes: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    tile: int = 32,
    margin: int = 16,
    max_tiles: int = 256,
) -> None:
    """Fill the ``holes`` of a ``uint8 (H, W, C)`` image in place, only around them.

    Holes are usually a few pixels scattered along mask edges and image borders, where a
    full-frame pyramid would be wasted. Each ``tile x tile`` block that holds holes is cut out with
    ``margin`` pixels of context (edge pixels replicated at the border), all such crops go through
    one batched :func:`fill_holes`, and each tile's own holes are written back. A crop without any
    valid pixel (a hole wider than the context), or more than ``max_tiles`` tiles, falls back to
    one pyramid over the bounding box of the holes with context on every side.

    Args:
        image: ``uint8 (H, W, C)``; the first three channels are filled (others, e.g. alpha, are
            set to 255 at the holes).
        holes: ``bool (H, W)``.
        weight: optional finite ``float32 (H, W)`` >= 0, confidence of valid pixels (e.g. depth,
            to prefer background; 0 = not context); holes' entries are ignored.
    """
    height, width = holes.shape
    device = image.device
    coords = holes.nonzero()
    if coords.numel() == 0:
        return
    if weight is not None:
        weight = torch.where(holes, torch.zeros((), device=device), weight)
    channels = min(3, image.shape[-1])
    if len(coords) <= _NEIGHBOUR_FILL_MAX:
        # Few holes (slivers along edges): a weighted mean of the valid pixels within 2 px costs a
        # handful of small gathers; only holes with no valid neighbour go on to the pyramids.
        coords = _fill_from_neighbours(image, holes, weight, coords, channels)
        if coords.numel() == 0:
            return
        holes = torch.zeros_like(holes)
        holes[coords[:, 0], coords[:, 1]] = True
    tiles_across = -(-width // tile)
    tile_ids = torch.div(coords[:, 0], tile, rounding_mode="floor") * tiles_across
    tile_ids += torch.div(coords[:, 1], tile, rounding_mode="floor")
    occupied = torch.bincount(tile_ids, minlength=tiles_across * -(-height // tile)).nonzero().squeeze(1)
    tiles = torch.stack([occupied // tiles_across, occupied % tiles_across], 1)  # Tx2 (row, col)
    # Crops overlap by their margins: past some count one pyramid over the box is cheaper.
    if len(tiles) <= max_tiles and len(tiles) * (tile + 2 * margin) ** 2 <= 2 * height * width:
        span = torch.arange(-margin, tile + margin, device=device)  # S
        rows = tiles[:, :1] * tile + span  # TxS, unclamped
        cols = tiles[:, 1:] * tile + span
        r_idx, c_idx = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
        crop = image[r_idx[:, :, None], c_idx[:, None, :], :channels]  # TxSxSxC
        crop_holes = holes[r_idx[:, :, None], c_idx[:, None, :]]
        crop_weight = None if weight is None else weight[r_idx[:, :, None], c_idx[:, None, :]]
        filled = fill_holes(crop.permute(0, 3, 1, 2).float(), crop_holes, crop_weight)  # TxCxSxS
        usable = ~crop_holes if crop_weight is None else ~crop_holes & (crop_weight > 0)
        ok = usable.flatten(1).any(1)  # crops with context
        centre = slice(margin, margin + tile)
        inside = (rows[:, centre] < height)[:, :, None] & (cols[:, centre] < width)[:, None, :]
        write = crop_holes[:, centre, centre] & inside & ok[:, None, None]
        values = filled[:, :, centre, centre].permute(0, 2, 3, 1)[write].add_(0.5).clamp_(0, 255).to(torch.uint8)
        rr = r_idx[:, centre, None].expand(-1, -1, tile)[write]
        cc = c_idx[:, None, centre].expand(-1, tile, -1)[write]
        image[rr, cc, :channels] = values
        if image.shape[-1] > channels:
            image[rr, cc, channels:] = 255
        if bool(ok.all()):
            return
        holes = holes.clone()
        holes[rr, cc] = False
        coords = holes.nonzero()
        if coords.numel() == 0:
            return
    # One pyramid over the remaining holes' bounding box, with context as wide as the box.
    (r0, c0), (r1, c1) = coords.min(0).values.tolist(), (coords.max(0).values + 1).tolist()
    pad = max(margin, (r1 - r0) // 2, (c1 - c0) // 2)
    r0, r1, c0, c1 = max(0, r0 - pad), min(height, r1 + pad), max(0, c0 - pad), min(width, c1 + pad)
    box_holes = holes[r0:r1, c0:c1]
    box_weight = None if weight is None else weight[r0:r1, c0:c1]
    rgb = image[r0:r1, c0:c1, :channels]
    filled = fill_holes(rgb.permute(2, 0, 1).float(), box_holes, box_weight)
    rgb[box_holes] = filled.permute(1, 2, 0)[box_holes].add_(0.5).clamp_(0, 255).to(torch.uint8)
    if image.shape[-1] > channels:
        image[r0:r1, c0:c1, channels:][box_holes] = 255


def splat_points(
    xyz: torch.Tensor,
    colors: torch.Tensor,
    size: tuple[int, int],
    *,
    focal: float | None = None,
    camera_centre: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Z-buffer splat of coloured points seen from a translated camera: the nearest point wins.

    A simple, allocation-happy entry point for one-off renders and tests; the cinemagraph renderer
    uses the same key scheme with preallocated buffers.

    Args:
        xyz: ``float32 (P, 3)`` source-camera points, ``z > camera_centre[2]``.
        colors: ``uint8 (P, 3)``.
        size: output ``(H, W)``.
        focal: pixels, default ``max(H, W)``; principal point at the image centre.
        camera_centre: camera position in the source frame (no rotation).

    Returns:
        image ``uint8 (H, W, 3)`` (black where empty) and coverage ``bool (H, W)``.

    Example:
        >>> img, cov = splat_points(
        ...     torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[255, 0, 0]], dtype=torch.uint8), (3, 3))
        >>> img[1, 1].tolist(), int(cov.sum())
        ([255, 0, 0], 1)
    """
    if xyz.ndim != 2 or xyz.shape[1] != 3 or colors.shape != xyz.shape or colors.dtype != torch.uint8:
        raise ValueError(
            f"`xyz` must be (P, 3) and `colors` uint8 (P, 3); got {tuple(xyz.shape)}, {tuple(colors.shape)} "
            f"{colors.dtype}"
        )
    height, width = size
    f = float(max(height, width)) if focal is None else float(focal)
    grid = PaddedGrid(height, width)
    cx, cy, cz = (float(c) for c in camera_centre)
    z = (xyz[:, 2] - cz).to(torch.float32)
    if bool((z <= 0).any()):
        raise ValueError("every point must be in front of the camera (z > camera_centre[2])")
    x = f * (xyz[:, 0] - cx) / z + (width - 1) / 2.0
    y = f * (xyz[:, 1] - cy) / z + (height - 1) / 2.0
    n = xyz.shape[0]
    buffer = grid.new_buffer(empty_key(n), xyz.device)
    splat_keys(buffer, grid.pixel_index(x, y), pack_keys(z))
    _, ids = unpack_keys(grid.interior(buffer).reshape(-1))
    table = torch.cat([colors, torch.zeros(1, 3, dtype=torch.uint8, device=colors.device)])
    return table[ids].view(height, width, 3), (ids < n).view(height, width)
