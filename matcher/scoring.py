"""The weighted model: criterion sub-scores in [0, 1] times weights, 0-100 points.

Where a CSV row becomes a score: :func:`input_values` turns typed profile columns into
per-input sub-scores, :func:`criterion_matrix` sums them into criteria, :func:`wsm`
weighs them, and :class:`Scorer` wraps it all for a batch (:meth:`Scorer.evaluate`).
Every number is kept in tenths of a point, rounded so that the per-criterion
contributions add up exactly to the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator

from .config import ANSWER_INPUTS, NUMBER_INPUTS, Config, Input, load_sectors
from .frame import ProfileFrame
from .sectors import SOURCE_NONE, SectorDetector


def wsm(matrix: NDArray[np.float64], weights: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weighted sum model.

    Parameters
    ----------
    matrix : (n_profiles, n_criteria) array of sub-scores in [0, 1]
    weights : (n_criteria,) array of points per criterion

    Returns
    -------
    contributions : (n_profiles, n_criteria) array, ``matrix * weights``
    scores : (n_profiles,) array, the row sums

    Examples
    --------
    >>> c, s = wsm(np.array([[1.0, 0.5]]), np.array([60.0, 40.0]))
    >>> c.tolist(), s.tolist()
    ([[60.0, 20.0]], [80.0])
    """
    contributions = matrix * weights
    return contributions, contributions.sum(axis=1)


def round_tenths(contributions: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Round contributions to tenths of a point so that they add up to the rounded score.

    The score is rounded half up to one decimal; the contributions are floored and the
    tenths still owed go to those with the largest remainders (largest-remainder method).
    """
    tenths = contributions * 10.0
    score = np.floor(tenths.sum(axis=1) + 0.5 + 1e-9).astype(np.int64)
    floors = np.floor(tenths + 1e-9).astype(np.int64)
    owed = score - floors.sum(axis=1)
    order = np.argsort(-(tenths - floors), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(order.shape[1])[None, :].repeat(len(order), 0), axis=1)
    return floors + (ranks < owed[:, None]), score


def input_values(item: Input, frame: ProfileFrame, config: Config) -> NDArray[np.float64]:
    """One input's sub-score per row, NaN where the firm left it unknown."""
    if item.kind == "sector":
        tiers = np.append(np.array([s.tier_weight for s in config.sectors]), np.nan)
        return tiers[frame.detection.sector]  # index -1 picks the NaN
    if item.kind == "answers":
        table = np.array([item.answers[a] for a in ANSWER_INPUTS[item.field]] + [np.nan])
        return table[frame.answers[item.field].astype(np.int64)]
    return threshold_values(item, frame.numbers[item.field])


def threshold_values(item: Input, numbers: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sub-score of the highest threshold each number reaches (0 below the first; NaN kept)."""
    bounds = np.array([b for b, _ in item.thresholds])
    subs = np.append(0.0, [s for _, s in item.thresholds])
    out = subs[np.searchsorted(bounds, np.nan_to_num(numbers, nan=-1.0), side="right")]
    return np.where(np.isnan(numbers), np.nan, out)


def criterion_matrix(config: Config, values: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
    """Sum each criterion's inputs (share x sub-score, unknown = 0) into an (n, k) matrix."""
    n = len(next(iter(values.values())))
    matrix = np.zeros((n, len(config.criteria)))
    for j, criterion in enumerate(config.criteria):
        for item in criterion.inputs:
            matrix[:, j] += item.share * np.nan_to_num(values[item.field], nan=0.0)
    return matrix


@dataclass(frozen=True)
class Candidate:
    """A change the firm could make: set ``field`` so its sub-score becomes ``value``."""

    field: str
    value: float  # sub-score after the change
    target: object  # the answer or the number to reach
    advice: dict


@dataclass
class BatchScores:
    """Everything the model computed for a batch; CLI, API and pages render these numbers."""

    values: dict[str, NDArray[np.float64]]  # per input field, sub-score or NaN
    subscores: NDArray[np.float64]  # (n, k) criterion sub-scores in [0, 1]
    contributions: NDArray[np.int64]  # (n, k) tenths of a point
    score: NDArray[np.int64]  # (n,) tenths of a point
    band: NDArray[np.int64]  # index into config.bands
    missing: NDArray[np.bool_]  # (n, n_inputs), in `Scorer.inputs_` order
    completeness: NDArray[np.float64]
    candidates: list[Candidate]
    gains: NDArray[np.int64]  # (n, n_candidates) tenths of a point, 0 where nothing to gain


class Scorer(BaseEstimator):
    """Score profile batches with the weights of a sectors file.

    Parameters
    ----------
    sectors_path : str, optional
        The sectors file; the project's ``sectors.yaml`` by default.
    config : Config, optional
        An already loaded configuration (wins over ``sectors_path``), e.g. a stored
        weights version.
    """

    def __init__(self, sectors_path: str | None = None, config: Config | None = None) -> None:
        self.sectors_path = sectors_path
        self.config = config

    def fit(self, X=None, y=None) -> Scorer:  # noqa: N803 - scikit-learn signature
        """Load and check the configuration, build the sector detector; returns ``self``."""
        self.config_ = self.config if self.config is not None else load_sectors(self.sectors_path)
        self.detector_ = SectorDetector(self.config_)
        self.weights_ = self.config_.weights()
        self.inputs_ = [(c, item) for c in self.config_.criteria for item in c.inputs]
        self.candidates_ = [cand for _, item in self.inputs_ for cand in self._candidates(item)]
        return self

    def _candidates(self, item: Input) -> list[Candidate]:
        if item.kind == "answers":
            best = max(item.answers, key=lambda a: item.answers[a])
            return [Candidate(item.field, item.answers[best], best, dict(item.advice))]
        if item.kind == "thresholds":
            return [Candidate(item.field, s, b, dict(item.advice)) for b, s in item.thresholds if b > 0]
        return []

    def transform(self, frame: ProfileFrame) -> NDArray[np.float64]:
        """The (n_profiles, n_criteria) matrix of sub-scores."""
        return criterion_matrix(self.config_, self._values(frame))

    def _values(self, frame: ProfileFrame) -> dict[str, NDArray[np.float64]]:
        return {item.field: input_values(item, frame, self.config_) for _, item in self.inputs_}

    def evaluate(self, frame: ProfileFrame) -> BatchScores:
        """Score a batch: contributions, score, band, missing, completeness, improvement gains."""
        values = self._values(frame)
        subscores = criterion_matrix(self.config_, values)
        contributions, score = round_tenths(wsm(subscores, self.weights_)[0])
        mins = np.array([b.min for b in self.config_.bands])[::-1] * 10
        band = len(mins) - np.searchsorted(mins, score, side="right")
        missing = np.column_stack([np.isnan(values[item.field]) for _, item in self.inputs_])
        if "sector" in values:  # a firm that gave no code nor text has an unknown sector
            col = [i for i, (_, item) in enumerate(self.inputs_) if item.field == "sector"][0]
            missing[:, col] = frame.detection.source == SOURCE_NONE
        share = np.array([self.weights_[self.config_.criteria.index(c)] * item.share for c, item in self.inputs_])
        completeness = 1.0 - (missing * share).sum(axis=1) / 100.0
        gains = self._gains(values, subscores, score)
        gains = self._keep_nearest_threshold(gains)
        return BatchScores(values, subscores, contributions, score, band, missing, completeness, self.candidates_,
                           gains)

    def _gains(self, values: dict[str, NDArray[np.float64]], subscores: NDArray[np.float64],
               score: NDArray[np.int64]) -> NDArray[np.int64]:
        """Points (tenths) each candidate change would add: the model re-scored with that input changed.

        The model is a weighted sum, so changing one input moves the exact score by
        weight x share x (new sub-score - old); the new score is rounded like any score.
        """
        exact = wsm(subscores, self.weights_)[1]
        weight_of = {item.field: self.weights_[self.config_.criteria.index(c)] * item.share for c, item in self.inputs_}
        gains = np.zeros((len(score), len(self.candidates_)), dtype=np.int64)
        for j, cand in enumerate(self.candidates_):
            current = np.nan_to_num(values[cand.field], nan=0.0)
            better = cand.value > current
            new_exact = exact + weight_of[cand.field] * (cand.value - current)
            new_score = np.floor(new_exact * 10.0 + 0.5 + 1e-9).astype(np.int64)
            gains[:, j] = np.where(better, new_score - score, 0)
        return gains

    def _keep_nearest_threshold(self, gains: NDArray[np.int64]) -> NDArray[np.int64]:
        """Of several thresholds of one number, suggest only the next one up (the smallest step)."""
        for name in NUMBER_INPUTS:
            taken = np.zeros(len(gains), dtype=bool)
            for j in [j for j, c in enumerate(self.candidates_) if c.field == name]:
                gains[taken, j] = 0
                taken |= gains[:, j] > 0
        return gains

