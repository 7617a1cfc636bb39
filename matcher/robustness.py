"""How stable is a lead's rank when the weights vary? Monte Carlo over weight vectors.

Each of ``n_samples`` weightings scales every base weight by its own draw from
U(1 - spread, 1 + spread); the leads are scored (``S @ w``) and ranked under each. Per lead
the result gives the rank interval (5th-95th percentile, and min-max), the median rank and
the share of weightings that keep it in the top k.

The arithmetic is in :func:`sample_weights`, :func:`grid_ranks` (ranks by counting scores on
a fine grid: no sort per weighting), :func:`chunk_ranks` (the same by sorting, for wide
grids) and :func:`rank_summary` (arrays in, arrays out); :func:`rank_robustness` ties them
together. Leads with equal sub-score rows are scored once, and weightings are processed in
chunks so the score matrix never holds more than ``chunk_size`` weightings.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

QUANTILES = (0.05, 0.5, 0.95)
RESOLUTION = 1e-4  # scores are compared in steps of this share of the total weight
CHUNK_ITEMS = 1 << 18  # scores per chunk by default (2 MB of float64)
MAX_BINS = 1 << 24  # above this many bins per chunk, rank by sorting instead of counting


@dataclass
class RobustnessResult:
    """Per-lead rank statistics over the sampled weightings (ranks: 1 = best, ties share)."""

    rank_low: NDArray[np.int64]  # 5th percentile rank (the better end of the interval)
    rank_median: NDArray[np.int64]
    rank_high: NDArray[np.int64]  # 95th percentile rank
    rank_min: NDArray[np.int64]
    rank_max: NDArray[np.int64]
    p_top_k: NDArray[np.float64]  # share of weightings with rank <= top_k
    base_rank: NDArray[np.int64]  # rank under the base weights
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self, i: int) -> str:
        """One line for lead ``i``, e.g. ``top-10 in 93 % of weightings (ranks 4-12)``."""
        k = self.extra["top_k"]
        return (
            f"top-{k} in {self.p_top_k[i]:.0%} of weightings (ranks {self.rank_low[i]}-{self.rank_high[i]})"
        ).replace("%", " %")


def sample_weights(
    weights: ArrayLike, n_samples: int, spread: float = 0.2, random_state: int | np.random.Generator | None = None
) -> NDArray[np.float64]:
    """Draw ``(n_samples, k)`` weightings: each base weight times U(1 - spread, 1 + spread).

    Examples
    --------
    >>> w = sample_weights([30.0, 70.0], 1000, spread=0.2, random_state=0)
    >>> w.shape, bool((w[:, 0] >= 24).all() and (w[:, 0] <= 36).all())
    ((1000, 2), True)
    """
    base = np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    return base * rng.uniform(1.0 - spread, 1.0 + spread, size=(n_samples, len(base)))


def chunk_ranks(scores: NDArray[np.floating], counts: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """Competition ranks (1 + weight of strictly higher scores) along axis 1 of ``(c, u)`` scores.

    Parameters
    ----------
    scores : (n_weightings, n_items) array
    counts : (n_items,) array, optional
        How many leads each item stands for (default 1 each).

    Returns
    -------
    (n_weightings, n_items) int64 array

    Examples
    --------
    >>> chunk_ranks(np.array([[5.0, 9.0, 5.0, 1.0]])).tolist()
    [[2, 1, 2, 4]]
    >>> chunk_ranks(np.array([[5.0, 9.0, 1.0]]), counts=np.array([2, 3, 1])).tolist()
    [[4, 1, 6]]
    """
    c, u = scores.shape
    order = np.argsort(scores, axis=1)  # ascending; one sort per weighting is the whole cost
    if counts is None:
        ranks_sorted = np.broadcast_to(np.arange(u, 0, -1, dtype=np.int64), (c, u)).copy()
    else:
        ranks_sorted = int(counts.sum()) + 1 - np.cumsum(counts[order], axis=1)
    ordered = np.take_along_axis(scores, order, axis=1)
    _share_tied_ranks(ranks_sorted, ordered[:, 1:] == ordered[:, :-1])
    ranks = np.empty((c, u), dtype=np.int64)
    np.put_along_axis(ranks, order, ranks_sorted, axis=1)
    return ranks


def _share_tied_ranks(ranks_sorted: NDArray[np.int64], ties: NDArray[np.bool_]) -> None:
    """Give each member of a run of equal scores the rank of the run's last (highest) position.

    Ties are rare in sampled scores, so only their positions are touched: each tied position
    looks up the next run end in the flattened array (one pass, no per-row loop).
    """
    c, u = ranks_sorted.shape
    ends = np.ones((c, u), dtype=bool)
    ends[:, :-1] = ~ties
    tied = np.flatnonzero(~ends)
    if len(tied):
        run_ends = np.flatnonzero(ends)
        flat = ranks_sorted.reshape(-1)
        flat[tied] = flat[run_ends[np.searchsorted(run_ends, tied)]]


def grid_ranks(grid: NDArray[np.int64], counts: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """Competition ranks along axis 1 of integer scores, by counting instead of sorting.

    Each row's scores are counted into bins (one per grid step, so the row's range must be
    small: ``rank_robustness`` keeps it near 10,000 steps); the rank of a score is 1 plus the
    count in the bins above it. Costs a few passes over the chunk instead of a sort per row.

    Examples
    --------
    >>> grid_ranks(np.array([[5, 9, 5, 1], [0, 0, 0, 0]])).tolist()
    [[2, 1, 2, 4], [1, 1, 1, 1]]
    >>> grid_ranks(np.array([[5, 9, 1]]), counts=np.array([2, 3, 1])).tolist()
    [[4, 1, 6]]
    """
    c, u = grid.shape
    low = grid.min(axis=1)
    width = int((grid.max(axis=1) - low).max()) + 1
    flat = (grid + (np.arange(c, dtype=np.int64) * width - low)[:, None]).reshape(-1)  # row r: bins r*width...
    per_item = None if counts is None else np.broadcast_to(counts, (c, u)).reshape(-1)
    hist = np.bincount(flat, weights=per_item, minlength=c * width).reshape(c, width)
    at_or_below = np.cumsum(hist, axis=1, dtype=np.int64).reshape(-1)  # items scoring v or less, per row
    ranks = at_or_below[flat]
    np.subtract(u + 1 if counts is None else int(counts.sum()) + 1, ranks, out=ranks)
    return ranks.reshape(c, u)


def column_ranks(grid: NDArray[np.integer], columns: NDArray[np.int64], counts: NDArray[np.int64] | None = None):
    """:func:`grid_ranks` of a few ``columns`` only: 1 plus the weight of the scores above each.

    One comparison with every column per wanted column, instead of counting the whole grid:
    cheaper when few leads are ranked against many (a new lead against the stored ones).

    Examples
    --------
    >>> column_ranks(np.array([[5, 9, 5, 1], [0, 0, 0, 0]]), np.array([0, 3])).tolist()
    [[2, 4], [1, 1]]
    >>> column_ranks(np.array([[5, 9, 1]]), np.array([2]), counts=np.array([2, 3, 1])).tolist()
    [[6]]
    """
    grid = grid.astype(np.int32) if grid.min(initial=0) >= -(2**31) and grid.max(initial=0) < 2**31 else grid
    # 0/1 times the counts, summed by BLAS: exact while the sums stay below 2**24 in float32
    weights = None if counts is None else counts.astype(np.float32 if counts.sum() < 2**24 else np.float64)
    out = np.empty((grid.shape[0], len(columns)), dtype=np.int64)
    for i, j in enumerate(columns):
        above = grid > grid[:, j : j + 1]
        out[:, i] = np.count_nonzero(above, axis=1) if weights is None else above.astype(weights.dtype) @ weights
    out += 1
    return out


def rank_summary(
    ranks: NDArray[np.integer], quantiles: tuple[float, ...] = QUANTILES, block: int = 256, n_jobs: int = 1
) -> NDArray[np.int64]:
    """Per lead (column) of ``(m, u)`` ranks: the quantiles (observed values, inverted CDF), min and max.

    Columns are sorted a block at a time (a radix sort for 16-bit ranks).
    Returns a ``(len(quantiles) + 2, u)`` array: quantiles in order, then min, then max.

    Examples
    --------
    >>> rank_summary(np.arange(1, 11)[:, None], (0.5,)).tolist()
    [[5], [1], [10]]
    """
    m, u = ranks.shape
    picks = [max(0, math.ceil(q * m) - 1) for q in quantiles] + [0, m - 1]
    out = np.empty((len(picks), u), dtype=np.int64)

    def run(j: int) -> None:
        cols = np.ascontiguousarray(ranks[:, j : j + block].T)
        cols.sort(axis=1, kind="stable")
        out[:, j : j + block] = cols[:, picks].T

    _map(run, range(0, u, block), n_jobs)
    return out


def _map(func: Callable[[int], None], starts: range, n_jobs: int) -> None:
    """Run ``func`` on each start, in ``n_jobs`` threads (numpy sorts release the GIL)."""
    if n_jobs == 1:
        for start in starts:
            func(start)
    else:
        with ThreadPoolExecutor(n_jobs) as pool:
            list(pool.map(func, starts))


def _check(matrix: ArrayLike, weights: ArrayLike, n_samples: int, spread: float, top_k: int):
    S = np.asarray(matrix, dtype=np.float64)  # noqa: N806 - the usual name of the matrix
    w = np.asarray(weights, dtype=np.float64)
    if S.ndim != 2 or w.shape != (S.shape[1],):
        raise ValueError(f"matrix must be (n_leads, n_criteria) and weights (n_criteria,), not {S.shape}, {w.shape}")
    if len(S) == 0:
        raise ValueError("matrix must have at least one lead")
    if not 0.0 <= spread < 1.0:
        raise ValueError(f"spread must be in [0, 1), not {spread}")
    if n_samples < 1 or top_k < 1:
        raise ValueError(f"n_samples and top_k must be positive, not {n_samples}, {top_k}")
    return S, w


def rank_robustness(
    matrix: ArrayLike,
    weights: ArrayLike,
    n_samples: int = 10_000,
    spread: float = 0.2,
    top_k: int = 10,
    random_state: int | np.random.Generator | None = None,
    chunk_size: int | None = None,
    resolution: float = RESOLUTION,
    n_jobs: int | None = None,
    rows: ArrayLike | None = None,
    counts: ArrayLike | None = None,
) -> RobustnessResult:
    """Monte Carlo robustness of the ranking of ``matrix @ weights``.

    Parameters
    ----------
    matrix : (n_leads, n_criteria) array of sub-scores (in [0, 1])
    weights : (n_criteria,) array of base weights (points)
    n_samples : int, default 10,000
        Number of weightings.
    spread : float, default 0.2
        Each weight varies within ±spread of its base value (0.2 = ±20 %).
    top_k : int, default 10
    random_state : int or numpy Generator, optional
    chunk_size : int, optional
        Weightings scored at once; by default as many as keep a chunk's scores near 2 MB (in
        cache). Memory is about ``chunk_size * n_leads * 40`` bytes plus the stored ranks
        (``n_samples * n_distinct_rows`` of 2 or 4 bytes: 200 MB for 10,000 x 10,000).
    resolution : float, default 1e-4
        Scores are compared in steps of this share of the total weight (0.01 point when the
        weights add up to 100; the scored CSV ranks on 0.1 point), so scores equal in exact
        arithmetic tie, and ranks are counted rather than sorted.
    n_jobs : int, optional
        Threads working on chunks in parallel (numpy releases the GIL); default: up to 2 CPUs.
    rows : array of int, optional
        Give the statistics of these leads only (indices into ``matrix``, in this order); every
        lead still counts in every ranking, so each figure equals the one of the whole
        computation, while the stored ranks take ``n_samples * len(rows)`` entries at most.
        Ranks a new lead against the others, or the leads a block at a time in bounded memory.
    counts : (n_rows,) array of int, optional
        How many leads each row of ``matrix`` stands for (each at least 1; default 1 each): a
        matrix of distinct rows with their counts gives the figures of its rows repeated, without
        reading them all (``rows`` then indexes the rows given).

    Returns
    -------
    RobustnessResult
        One entry per lead (per ``rows`` entry when given).

    Raises
    ------
    ValueError
        On mismatched shapes, an empty matrix, or a spread outside [0, 1).
    """
    S, w = _check(matrix, weights, n_samples, spread, top_k)  # noqa: N806
    rows_wanted = None if rows is None else _check_rows(rows, len(S))
    rows, inverse, counts_of = np.unique(S, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if counts is not None:
        counts_of = np.bincount(inverse, weights=_check_counts(counts, len(S)), minlength=len(rows)).astype(np.int64)
    n_leads = int(counts_of.sum())
    keep, where = _kept_rows(inverse, len(rows), rows_wanted)
    samples = sample_weights(w, n_samples, spread, random_state)
    ranks = np.empty((n_samples, len(keep)), dtype=np.uint16 if n_leads < 2**16 else np.uint32)
    rows_t = np.ascontiguousarray(rows.T)
    weight_counts = None if len(rows) == n_leads else counts_of
    chunk_size = chunk_size or max(8, CHUNK_ITEMS // len(rows))
    scale = 1.0 / (resolution * w.sum()) if w.sum() > 0 else 1.0

    # Widest score range on the grid: counting needs one bin per step and weighting.
    span = (rows.max(axis=0) @ (w * (1 + spread)) - rows.min(axis=0) @ (w * (1 - spread))) * scale + 2
    by_count = span * chunk_size <= MAX_BINS
    # A few kept rows are compared with every row (about 1 ns per pair) rather than all rows ranked
    # (about 15 ns per bin and 20 ns per row of each weighting): same ranks, measured on 2,809 rows.
    by_column = len(keep) < len(rows) and len(keep) * len(rows) <= 12 * span + 16 * len(rows)

    def on_grid(scores: NDArray[np.float64]) -> NDArray[np.int64]:
        np.multiply(scores, scale, out=scores)
        return np.rint(scores, out=scores).astype(np.int64)

    def rank_on_grid(scores: NDArray[np.float64]) -> NDArray[np.int64]:
        grid = on_grid(scores)
        return grid_ranks(grid, weight_counts) if by_count else chunk_ranks(grid, weight_counts)

    def run(start: int) -> None:
        scores = samples[start : start + chunk_size] @ rows_t
        if by_column:
            ranks[start : start + chunk_size] = column_ranks(on_grid(scores), keep, weight_counts)
            return
        chunk = rank_on_grid(scores)
        ranks[start : start + chunk_size] = chunk if len(keep) == len(rows) else chunk[:, keep]

    jobs = n_jobs or min(2, os.cpu_count() or 1)
    with threadpool_limits(1, user_api="blas"):  # tiny products: BLAS threads would only spin
        _map(run, range(0, n_samples, chunk_size), jobs)
    low, median, high, rmin, rmax = rank_summary(ranks, n_jobs=jobs)
    p_top = np.count_nonzero(ranks <= min(top_k, n_leads), axis=0) / n_samples
    base = rank_on_grid((rows @ w)[None, :])[0][keep]
    extra = {
        "method": "monte-carlo weighted sum",
        "n_samples": n_samples,
        "spread": spread,
        "top_k": top_k,
        "random_state": random_state if not isinstance(random_state, np.random.Generator) else "Generator",
        "quantiles": QUANTILES,
        "n_distinct_rows": len(rows),
        "resolution": resolution,
    }
    return RobustnessResult(*(a[where] for a in (low, median, high, rmin, rmax, p_top, base)), extra=extra)


def _check_rows(rows: ArrayLike, n_leads: int) -> NDArray[np.int64]:
    """``rows`` as an array of lead indices, each within ``[0, n_leads)``."""
    wanted = np.asarray(rows, dtype=np.int64).reshape(-1)
    if len(wanted) == 0 or wanted.min() < 0 or wanted.max() >= n_leads:
        raise ValueError(f"rows must be indices of leads in [0, {n_leads}), at least one")
    return wanted


def _check_counts(counts: ArrayLike, n_rows: int) -> NDArray[np.int64]:
    """``counts`` as an array of one whole count of at least 1 per row."""
    given = np.asarray(counts).reshape(-1)
    if given.shape != (n_rows,) or not np.array_equal(given, np.round(given)) or (given < 1).any():
        raise ValueError(f"counts must be {n_rows} whole numbers of at least 1, one per row of matrix")
    return given.astype(np.int64)


def _kept_rows(inverse: NDArray[np.int64], n_distinct: int, wanted: NDArray[np.int64] | None):
    """The distinct rows whose ranks are kept, and for each wanted lead the position of its row among them."""
    if wanted is None:
        return np.arange(n_distinct), inverse
    keep, where = np.unique(inverse[wanted], return_inverse=True)
    return keep, where.reshape(-1)
