"""Suggest weights from past outcomes (invested / dropped); never applies them.

A non-negative ridge regression of the outcome on the criterion sub-scores gives one
coefficient per criterion; rescaled to the current total, those are the suggested weights
(the model is a weighted sum, so only their ratios matter to the ranking). Both the current
and the suggested weights are judged on the same held-out folds (ROC AUC and average
precision of ``S @ w``), with the regularisation chosen by an inner cross-validation.
With too few outcomes the result says so and nothing is fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.linear_model import Ridge
from sklearn.metrics import average_precision_score, make_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from .compare import Comparison, compare_rankings

MIN_OUTCOMES = 20
MIN_PER_CLASS = 5
ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass
class Calibration:
    """A suggestion beside the current weights; ``fitted`` is False when there was too little to go on."""

    fitted: bool
    message: str
    current_weights: NDArray[np.float64]
    suggested_weights: NDArray[np.float64] | None = None
    auc_current: float | None = None
    auc_suggested: float | None = None
    ap_current: float | None = None
    ap_suggested: float | None = None
    comparison: Comparison | None = None  # ranks of every lead, current (A) vs suggested (B)
    extra: dict[str, Any] = field(default_factory=dict)

    def biggest_moves(self, n: int = 10) -> list[dict[str, Any]]:
        """The leads whose rank would change most under the suggested weights."""
        return self.comparison.biggest_moves(n) if self.comparison is not None else []


def fit_weights(
    matrix: NDArray[np.float64],
    y: NDArray[np.int64],
    alphas: Sequence[float] = ALPHAS,
    n_splits: int = 5,
    random_state: int | None = 0,
) -> tuple[NDArray[np.float64], float]:
    """Non-negative ridge coefficients of ``y`` on the sub-scores, alpha chosen by stratified CV (ROC AUC).

    Returns the coefficients (one per criterion, >= 0) and the chosen alpha.
    """
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    search = GridSearchCV(Ridge(positive=True), {"alpha": list(alphas)}, cv=cv, scoring=make_scorer(roc_auc_score))
    search.fit(matrix, y)
    return np.asarray(search.best_estimator_.coef_, dtype=np.float64), float(search.best_params_["alpha"])


def rescale(coef: NDArray[np.float64], total: float) -> NDArray[np.float64]:
    """Coefficients scaled to add up to ``total`` (the current weights' sum).

    Examples
    --------
    >>> rescale(np.array([0.2, 0.6, 0.0]), 100.0).tolist()
    [25.0, 75.0, 0.0]
    """
    return coef * (total / coef.sum())


def held_out_quality(
    matrix: NDArray[np.float64],
    y: NDArray[np.int64],
    current: NDArray[np.float64],
    alphas: Sequence[float],
    n_splits: int,
    random_state: int | None,
) -> dict[str, NDArray[np.float64]]:
    """Per outer fold: AUC and average precision of the current and of the fold's fitted weights."""
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    out: dict[str, list[float]] = {"auc_current": [], "auc_suggested": [], "ap_current": [], "ap_suggested": []}
    for train, test in cv.split(matrix, y):
        inner = max(2, min(n_splits, _min_class(y[train])))
        coef, _ = fit_weights(matrix[train], y[train], alphas, n_splits=inner, random_state=random_state)
        for name, w in (("current", current), ("suggested", coef)):
            scores = matrix[test] @ w
            out[f"auc_{name}"].append(roc_auc_score(y[test], scores))
            out[f"ap_{name}"].append(average_precision_score(y[test], scores))
    return {k: np.array(v) for k, v in out.items()}


def _min_class(y: NDArray[np.int64]) -> int:
    return int(min(np.count_nonzero(y == 1), np.count_nonzero(y == 0)))


def _labelled(outcomes: ArrayLike, n: int) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Which leads have an outcome (1 or 0; NaN or -1 = none yet) and those outcomes."""
    values = np.asarray(outcomes, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"outcomes must have one value per lead ({n}), not shape {values.shape}")
    known = (values == 0) | (values == 1)
    if np.any(~known & ~np.isnan(values) & (values != -1)):
        raise ValueError("outcomes must be 1 (invested), 0 (dropped), or NaN / -1 (no outcome yet)")
    return known, values[known].astype(np.int64)


def suggest_weights(
    matrix: ArrayLike,
    outcomes: ArrayLike,
    current_weights: ArrayLike,
    ids: Sequence[Any] | None = None,
    random_state: int | None = 0,
    n_splits: int = 5,
    top_k: int = 10,
    alphas: Sequence[float] = ALPHAS,
) -> Calibration:
    """Suggest weights that would have ranked past outcomes better.

    Parameters
    ----------
    matrix : (n_leads, n_criteria) array of sub-scores
    outcomes : (n_leads,) array
        1 = invested, 0 = dropped, NaN or -1 = no outcome yet (such leads are only re-ranked).
    current_weights : (n_criteria,) array
    ids : sequence, optional
        Lead ids for the rank comparison (default: row positions).
    random_state : int, optional
        Seeds the fold split.
    n_splits : int, default 5
        Outer and inner folds (fewer when a class is small).
    top_k : int, default 10
        For the rank comparison of current and suggested weights.
    alphas : sequence of float
        Ridge penalties tried by the inner cross-validation.

    Returns
    -------
    Calibration
        ``fitted`` is False, with a message, when there are fewer than 20 outcomes or fewer
        than 5 of either class, or when no criterion predicts the outcomes.
    """
    S = np.asarray(matrix, dtype=np.float64)  # noqa: N806 - the usual name of the matrix
    current = np.asarray(current_weights, dtype=np.float64)
    if S.ndim != 2 or current.shape != (S.shape[1],):
        raise ValueError(
            f"matrix must be (n_leads, n_criteria) and weights (n_criteria,), not {S.shape}, {current.shape}"
        )
    known, y = _labelled(outcomes, len(S))
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    extra = {
        "n_outcomes": len(y),
        "n_invested": n_pos,
        "n_dropped": n_neg,
        "random_state": random_state,
        "model": "Ridge(positive=True)",
        "alphas": tuple(alphas),
    }
    if len(y) < MIN_OUTCOMES or min(n_pos, n_neg) < MIN_PER_CLASS:
        message = (
            f"too few outcomes to suggest weights: {n_pos} invested and {n_neg} dropped; need at least "
            f"{MIN_OUTCOMES} in all and {MIN_PER_CLASS} of each"
        )
        return Calibration(False, message, current, extra=extra)
    folds = min(n_splits, n_pos, n_neg)
    coef, alpha = fit_weights(S[known], y, alphas, n_splits=folds, random_state=random_state)
    if coef.sum() <= 0:
        return Calibration(
            False,
            "no criterion predicts the outcomes: keep the current weights",
            current,
            extra={**extra, "alpha": alpha},
        )
    suggested = rescale(coef, current.sum())
    quality = held_out_quality(S[known], y, current, alphas, folds, random_state)
    ids = list(range(len(S))) if ids is None else list(ids)
    comparison = compare_rankings(S @ current, S @ suggested, ids, top_k=top_k)
    extra.update(alpha=alpha, n_splits=folds, folds={k: v.tolist() for k, v in quality.items()})
    means = {k: float(v.mean()) for k, v in quality.items()}
    message = (
        f"held-out ROC AUC {means['auc_current']:.3f} -> {means['auc_suggested']:.3f}, "
        f"average precision {means['ap_current']:.3f} -> {means['ap_suggested']:.3f}"
    )
    return Calibration(
        True,
        message,
        current,
        suggested,
        means["auc_current"],
        means["auc_suggested"],
        means["ap_current"],
        means["ap_suggested"],
        comparison,
        extra,
    )
