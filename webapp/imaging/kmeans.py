"""A small weighted k-means (k-means++ seeding, Lloyd iterations) and two-colour unmixing, in numpy.

Why not scikit-learn: on the ~10k points a palette clusters, sklearn's fixed costs (input validation,
threadpool set-up) are most of the run time and importing it costs about a second in every fresh
process (the CLI, the in-process job mode). Here a whole fit is a few matrix products: under 2 ms.

Why weights: a pixel's weight says how much it should count when *locating* colours. Palette
extraction gives pixels inside flat regions weight ~1 and pixels on edges (anti-aliasing, JPEG
ringing, the 8x8 averages of a reduced JPEG decode that straddle a boundary) weight ~0, so blends
between two colours never pull a centre or form a cluster of their own.

Deterministic: every random choice comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np


def _sq_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(N, K) squared Euclidean distances, via |x|^2 - 2 x.c + |c|^2 (clipped at 0 for rounding)."""
    d = (x * x).sum(axis=1)[:, None] - 2.0 * x @ centres.T + (centres * centres).sum(axis=1)[None, :]
    return np.maximum(d, 0.0)


def _nearest(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of each point's nearest centre (|x|^2 is the same for every centre, so it is left out)."""
    return np.argmin((centres * centres).sum(axis=1)[None, :] - 2.0 * x @ centres.T, axis=1)


def _draw(rng: np.random.Generator, mass: np.ndarray) -> int:
    """One index drawn with probability proportional to ``mass`` (cheaper than ``rng.choice(p=...)``)."""
    cumulative = np.cumsum(mass)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(mass) - 1))


def kmeans_pp(x: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with points drawn in proportion to weight x D^2.

    Fewer than ``k`` centres come back when the points hold fewer distinct positions (D^2 all zero).
    """
    centres = [x[_draw(rng, weights)]]
    closest = ((x - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        mass = weights * closest
        if mass.sum() <= 0:
            break
        centre = x[_draw(rng, mass)]
        centres.append(centre)
        np.minimum(closest, ((x - centre) ** 2).sum(axis=1), out=closest)
    return np.array(centres)


def _means(x: np.ndarray, weights: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(weighted mean of each label's points (k, D), weighted mass (k,))."""
    mass = np.bincount(labels, weights=weights, minlength=k)
    sums = np.stack(
        [np.bincount(labels, weights=weights * x[:, d], minlength=k) for d in range(x.shape[1])], 1
    )
    return sums / np.maximum(mass, 1e-300)[:, None], mass


def lloyd(
    x: np.ndarray, weights: np.ndarray, centres: np.ndarray, max_iter: int = 60, tol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd iterations from ``centres`` -> (centres, labels, weighted inertia).

    A centre that loses all its (weighted) members is dropped rather than re-seeded: callers ask for an
    upper bound on the number of colours, so an empty cluster just means fewer colours exist.
    """
    for _ in range(max_iter):
        labels = _nearest(x, centres)
        moved, mass = _means(x, weights, labels, len(centres))
        keep = mass > 0
        done = bool(keep.all()) and float(((moved - centres) ** 2).sum()) <= tol
        centres = moved[keep]
        if done:
            break
    d = _sq_distances(x, centres)
    labels = np.argmin(d, axis=1)
    inertia = float((weights * d[np.arange(len(x)), labels]).sum())
    return centres, labels, inertia


def weighted_kmeans(
    x: np.ndarray, weights: np.ndarray, k: int, seed: int = 0, n_init: int = 4, subsample: int = 2500
) -> tuple[np.ndarray, np.ndarray]:
    """Best of ``n_init`` seeded k-means++ starts by weighted inertia -> (centres (K', D), labels (N,)).

    Several starts because one unlucky seeding can put two centres in one big region and make a third
    straddle two smaller ones (exactly how a 25 % beige and an 8 % yellow used to come out as one colour).
    The starts are compared on a fixed random ``subsample`` of the points (cheap), and only the winner is
    refined on all of them.
    """
    if len(x) == 0:
        raise ValueError("No points to cluster.")
    x = np.asarray(x, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones(len(x))
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(x), subsample, replace=False)) if len(x) > subsample else np.arange(len(x))
    xs, ws = x[pick], weights[pick]
    if ws.sum() <= 0:
        xs, ws = x, weights
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(max(1, n_init)):
        fit = lloyd(xs, ws, kmeans_pp(xs, ws, k, rng), max_iter=15, tol=1e-2)
        if best is None or fit[2] < best[2] - 1e-9:
            best = fit
    assert best is not None
    centres, labels, _ = lloyd(x, weights, best[0], max_iter=30, tol=1e-3)
    return centres, labels


def unmix(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point as a blend of the two centres that explain it best -> (i, j, alpha), alpha for i.

    A pixel on the boundary between two flat colours A and B is (in gamma-encoded RGB, where both
    anti-aliasing and JPEG's DCT average) ``alpha * A + (1 - alpha) * B``; projecting it onto the segment
    A-B recovers alpha, so its area is split between the two colours instead of going wholly to
    whichever is nearest — or to an unrelated third colour that happens to lie between them.
    With one centre every point is (0, 0, 1).
    """
    n, k = len(points), len(centres)
    if k == 1:
        zero = np.zeros(n, dtype=np.intp)
        return zero, zero, np.ones(n)
    ii, jj = np.triu_indices(k, 1)
    points = np.asarray(points, dtype=np.float32)
    a, b = centres[ii].astype(np.float32), centres[jj].astype(np.float32)  # (P, D)
    ab = a - b
    denom = np.maximum((ab * ab).sum(axis=1), 1e-12)
    # alpha for each (point, pair): ((p - b) . (a - b)) / |a - b|^2, clipped to the segment.
    alpha = np.clip(((points[:, None, :] - b[None]) * ab[None]).sum(axis=2) / denom[None], 0.0, 1.0)
    blend = alpha[..., None] * a[None] + (1.0 - alpha[..., None]) * b[None]
    residual = ((points[:, None, :] - blend) ** 2).sum(axis=2)
    best = np.argmin(residual, axis=1)
    rows = np.arange(n)
    return ii[best], jj[best], alpha[rows, best]
