"""Compare the rankings that two weight sets give the same leads.

:func:`rank_desc` ranks scores (1 = best, ties share the best rank, as in the scored CSV);
:func:`compare_rankings` puts two rankings side by side: Kendall's tau, the leads that
enter or leave the top k, and each lead's move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import kendalltau, rankdata


def rank_desc(scores: ArrayLike, decimals: int = 9) -> NDArray[np.int64]:
    """Competition ranks of scores, highest first: 1 + the number of strictly higher scores.

    Scores are first rounded to ``decimals`` places, so that scores equal in exact arithmetic
    (e.g. 0.6 x 12 + 0.4 x 12 and 12.0) tie despite float rounding.

    Examples
    --------
    >>> rank_desc([50.0, 80.0, 50.0, 10.0]).tolist()
    [2, 1, 2, 4]
    """
    values = np.round(np.asarray(scores, dtype=np.float64), decimals)
    return rankdata(-values, method="min").astype(np.int64)


@dataclass
class Comparison:
    """Two rankings of the same leads side by side.

    ``change`` is ``rank_a - rank_b``: positive when a lead moves up under weights B.
    ``entered`` lists the leads in B's top k but not A's (best first under B), ``left`` those
    in A's top k but not B's (best first under A). Ties at the cut count as inside.
    """

    ids: list[Any]
    rank_a: NDArray[np.int64]
    rank_b: NDArray[np.int64]
    change: NDArray[np.int64]
    tau: float
    p_value: float
    top_k: int
    entered: list[Any]
    left: list[Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per lead, best under B first: id, rank_a, rank_b, change."""
        return [self._row(i) for i in np.lexsort((self.rank_a, self.rank_b))]

    def biggest_moves(self, n: int = 10) -> list[dict[str, Any]]:
        """The ``n`` leads whose rank changes most (largest absolute change first)."""
        order = np.argsort(-np.abs(self.change), kind="stable")[:n]
        return [self._row(i) for i in order if self.change[i] != 0]

    def _row(self, i: int) -> dict[str, Any]:
        return {
            "id": self.ids[i],
            "rank_a": int(self.rank_a[i]),
            "rank_b": int(self.rank_b[i]),
            "change": int(self.change[i]),
        }


def _top(ranks: NDArray[np.int64], k: int) -> NDArray[np.bool_]:
    return ranks <= k


def compare_rankings(scores_a: ArrayLike, scores_b: ArrayLike, ids: Sequence[Any], top_k: int = 10) -> Comparison:
    """Rank the leads under both score vectors and compare.

    Parameters
    ----------
    scores_a, scores_b : (n,) arrays
        Scores of the same leads under weights A (e.g. current) and B (e.g. proposed).
    ids : sequence of length n
        Lead ids, in the order of the scores.
    top_k : int, default 10

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        When the lengths differ or ``top_k`` is not positive.

    Examples
    --------
    >>> c = compare_rankings([3.0, 2.0, 1.0], [1.0, 2.0, 3.0], ["x", "y", "z"], top_k=1)
    >>> c.rank_b.tolist(), c.entered, c.left, c.tau
    ([3, 2, 1], ['z'], ['x'], -1.0)
    """
    a = np.asarray(scores_a, dtype=np.float64)
    b = np.asarray(scores_b, dtype=np.float64)
    ids = list(ids)
    if a.ndim != 1 or a.shape != b.shape or len(ids) != len(a):
        raise ValueError(f"scores_a, scores_b and ids must have one equal length, not {a.shape}, {b.shape}, {len(ids)}")
    if top_k < 1:
        raise ValueError(f"top_k must be a positive integer, not {top_k}")
    rank_a, rank_b = rank_desc(a), rank_desc(b)
    tau, p_value = (float("nan"), float("nan"))
    if len(a) >= 2:
        result = kendalltau(-rank_a, -rank_b)  # on the ranks: ties the ranks keep are ties in tau too
        tau, p_value = float(result.statistic), float(result.pvalue)
    in_a, in_b = _top(rank_a, top_k), _top(rank_b, top_k)
    entered = [ids[i] for i in np.lexsort((np.arange(len(a)), rank_b)) if in_b[i] and not in_a[i]]
    left = [ids[i] for i in np.lexsort((np.arange(len(a)), rank_a)) if in_a[i] and not in_b[i]]
    extra = {"method": "kendalltau (tau-b)", "n_leads": len(a), "n_moved": int(np.count_nonzero(rank_a != rank_b))}
    return Comparison(ids, rank_a, rank_b, rank_a - rank_b, tau, p_value, top_k, entered, left, extra)
