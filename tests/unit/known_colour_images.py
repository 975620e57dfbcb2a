"""Images of known colours for the palette accuracy test and benchmarks/palette.py.

Flat regions of 3-8 colours with anti-aliased edges, JPEG-compressed: what a poster, a logo or flat
illustration looks like after export. The canvas is cut into chunky regions by a treemap of slanted and
wavy cuts (so no region is a thin ribbon, and edges run at every angle), drawn at ``supersample`` times the
size and box-averaged down, which anti-aliases every edge exactly as a renderer does. The true share of
each colour is counted on the supersampled label map, so the truth is exact whatever the layout.

Deterministic for the same arguments; everything is made in memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class KnownImage:
    name: str
    data: bytes
    hexes: tuple[str, ...]
    shares: tuple[float, ...]


def _rgb(hex_value: str) -> tuple[int, int, int]:
    h = hex_value.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _split(items: list[int], shares: list[float]) -> tuple[list[int], list[int]]:
    """Two groups of colour indices with share sums as equal as a greedy split gets."""
    order = sorted(items, key=lambda i: -shares[i])
    left: list[int] = []
    right: list[int] = []
    for i in order:
        (left if sum(shares[j] for j in left) <= sum(shares[j] for j in right) else right).append(i)
    return left, right


def _paint(labels: np.ndarray, box: tuple[int, int, int, int], items, shares, rng) -> None:
    """Fill ``box`` (y0, y1, x0, x1) of ``labels`` with ``items`` by recursive slanted/wavy cuts.

    Each cut splits the box at the share boundary across its longer side; both halves are laid out
    recursively, then the boundary is bent (a slant through the middle of the cut plus whole periods of a
    sine, both area-neutral) by moving only the pixels in a narrow band around it, each side extending
    its own layout's edge row/column.
    """
    y0, y1, x0, x1 = box
    if len(items) == 1:
        labels[y0:y1, x0:x1] = items[0]
        return
    left, right = _split(items, shares)
    frac = sum(shares[i] for i in left) / sum(shares[i] for i in items)
    h, w = y1 - y0, x1 - x0
    vertical = w >= h  # cut across the longer side
    span = w if vertical else h
    cut = min(max(round(frac * span), 1), span - 1)
    slope, amp = rng.uniform(-0.12, 0.12), rng.uniform(0.0, 0.04)
    cycles, phase = int(rng.integers(1, 3)), rng.uniform(0, 2 * np.pi)
    if vertical:
        _paint(labels, (y0, y1, x0, x0 + cut), left, shares, rng)
        _paint(labels, (y0, y1, x0 + cut, x1), right, shares, rng)
    else:
        _paint(labels, (y0, y0 + cut, x0, x1), left, shares, rng)
        _paint(labels, (y0 + cut, y1, x0, x1), right, shares, rng)
    view = labels[y0:y1, x0:x1] if vertical else labels[y0:y1, x0:x1].T  # axis 1 runs across the cut
    band = int(np.ceil(0.1 * span)) + 1
    lo, hi = max(cut - band, 0), min(cut + band, span)
    along = (np.arange(view.shape[0]) + 0.5)[:, None] / view.shape[0]
    across = (np.arange(lo, hi) + 0.5)[None, :] / span
    boundary = frac + slope * (along - 0.5) + amp * np.sin(2 * np.pi * cycles * along + phase)
    first = across < boundary
    cols = np.arange(lo, hi)[None, :]
    first_edge, second_edge = view[:, cut - 1 : cut].copy(), view[:, cut : cut + 1].copy()
    current = view[:, lo:hi]
    view[:, lo:hi] = np.where(
        first & (cols >= cut), first_edge, np.where(~first & (cols < cut), second_edge, current)
    )


def known_colour_image(
    hexes: list[str],
    shares: list[float],
    size: tuple[int, int] = (900, 600),
    seed: int = 0,
    quality: int = 85,
    supersample: int = 2,
    pieces: int = 8,
    name: str = "",
) -> KnownImage:
    """A JPEG of flat regions in ``hexes`` at about ``shares`` of the area (exact shares are returned).

    Each colour is cut into ``pieces`` regions of unequal size scattered over the canvas, so there is a
    lot of edge (a few percent of the pixels are blends at the working scale, as in real artwork).
    """
    width, height = size
    big_w, big_h = width * supersample, height * supersample
    rng = np.random.default_rng(seed)
    owner: list[int] = []
    piece_shares: list[float] = []
    for i, share in enumerate(shares):
        parts = rng.uniform(0.5, 1.5, pieces)
        owner += [i] * pieces
        piece_shares += list(share * parts / parts.sum())
    order = list(rng.permutation(len(owner)))
    piece_labels = np.full((big_h, big_w), -1, dtype=np.int16)
    _paint(piece_labels, (0, big_h, 0, big_w), order, piece_shares, rng)
    labels = np.asarray(owner, dtype=np.int16)[piece_labels]
    counts = np.bincount(labels.ravel(), minlength=len(hexes))
    true_shares = tuple(float(c) / labels.size for c in counts)
    palette = np.array([_rgb(h) for h in hexes], dtype=np.float32)
    # Box-average the supersampled picture: each output pixel is the coverage-weighted mix of colours.
    blocks = labels.reshape(height, supersample, width, supersample)
    coverage = np.zeros((height, width, 3), dtype=np.float32)
    for dy in range(supersample):
        for dx in range(supersample):
            coverage += palette[blocks[:, dy, :, dx]]
    coverage /= supersample * supersample
    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(coverage), 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return KnownImage(name or f"{len(hexes)} colours", buf.getvalue(), tuple(hexes), true_shares)


#: The accuracy suite: 3 to 8 colours, shares from 5 % to 40 %, sizes that hit different reduced-decode
#: scales (1/2, 1/4, 1/8), JPEG quality 75-92. Colours are at least ~15 CIEDE2000 apart. Note that the
#: codec alone moves some flat colours: libjpeg's 8-bit YCbCr round trip turns #f5f0e6 into #f4f0e5
#: (CIEDE2000 0.77) and #212529 into #212429 (1.13) at any quality, which no extractor can undo; so these
#: cases use colours whose JPEG rendition is within the 0.5 target on average (benchmarks/palette.py
#: prints this codec floor beside every score).
CASES: list[dict] = [
    {
        "name": "issue 15: five colours 40/25/15/12/8",
        "hexes": ["#1f3a5f", "#e8dcc4", "#c0392b", "#2e8b57", "#f1c40f"],
        "shares": [0.40, 0.25, 0.15, 0.12, 0.08],
        "size": (1200, 800),
        "quality": 85,
    },
    {
        "name": "three colours 40/35/25",
        "hexes": ["#faf3e0", "#1b262c", "#d35400"],
        "shares": [0.40, 0.35, 0.25],
        "size": (900, 600),
        "quality": 90,
    },
    {
        "name": "four colours, pastel and dark",
        "hexes": ["#a3c4dc", "#f7cac9", "#3d2c5e", "#88b04b"],
        "shares": [0.38, 0.30, 0.20, 0.12],
        "size": (1000, 1000),
        "quality": 90,
    },
    {
        "name": "six colours down to 5 %",
        "hexes": ["#ffffff", "#0b132b", "#e63946", "#457b9d", "#f4a261", "#2a9d8f"],
        "shares": [0.34, 0.22, 0.17, 0.12, 0.10, 0.05],
        "size": (1600, 1000),
        "quality": 75,
    },
    {
        "name": "seven colours, 12 MP-like scale (1/8 decode)",
        "hexes": ["#264653", "#e9c46a", "#f4a261", "#e76f51", "#fefae0", "#6d597a", "#90be6d"],
        "shares": [0.30, 0.20, 0.15, 0.12, 0.10, 0.07, 0.06],
        "size": (2400, 1600),
        "quality": 92,
    },
    {
        "name": "eight colours",
        "hexes": ["#14213d", "#fca311", "#e5e5e5", "#9b2226", "#0a9396", "#8d99ae", "#5f0f40", "#94d2bd"],
        "shares": [0.25, 0.17, 0.14, 0.12, 0.10, 0.09, 0.07, 0.06],
        "size": (1200, 900),
        "quality": 88,
    },
]


def case(index: int, seed: int = 0) -> KnownImage:
    """Case ``index`` of :data:`CASES`, laid out with ``seed`` (layouts differ per seed, truth is exact)."""
    spec = CASES[index]
    params = {k: v for k, v in spec.items() if k not in ("hexes", "shares")}
    return known_colour_image(spec["hexes"], spec["shares"], seed=seed * 100 + index, **params)


def cases(seed: int = 0) -> list[KnownImage]:
    """Every case in :data:`CASES`, laid out with ``seed``."""
    return [case(i, seed) for i in range(len(CASES))]
