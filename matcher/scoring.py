"""The weighted model: criterion sub-scores in [0, 1] times weights, 0-100 points.

Where a CSV row becomes a score: :func:`input_values` turns typed profile columns into
per-input sub-scores, :func:`criterion_matrix` sums them into criteria, :func:`wsm`
weighs them, and :class:`Scorer` (the one model class, a scikit-learn compatible estimator)
wraps it all for a batch (:meth:`Scorer.evaluate`). Every number is kept in tenths of a point,
rounded so that the per-criterion contributions add up exactly to the score.

:meth:`Scorer.evaluate_row` is the score stage's row kernel: the same arithmetic for one profile
in plain Python, from the same fitted tables, for small batches (numpy's fixed cost per call,
~0.4 ms for a batch of one against ~0.01 ms, is what a web request would pay). Sums run left to
right in both (see :func:`row_sums`), so the two agree to the last bit;
``tests/test_rowwise.py`` checks it stage by stage.
"""

from __future__ import annotations

import inspect
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import ANSWER_INPUTS, NUMBER_INPUTS, Config, Input, load_sectors
from .frame import ProfileFrame
from .sectors import SOURCE_NONE, SectorDetector


def row_sums(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row sums added column by column, left to right: what a plain Python loop over one row gives.

    (numpy's own ``sum`` may add pairwise, which rounds differently from one row added alone.)
    """
    total = np.zeros(len(matrix))
    for j in range(matrix.shape[1]):
        total += matrix[:, j]
    return total


def _left_sum(values) -> float:
    """Plain left-to-right sum of floats (``sum`` may compensate on newer Pythons; this never does)."""
    total = 0.0
    for value in values:
        total += value
    return total


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
    return contributions, row_sums(contributions)


def round_tenths(contributions: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Round contributions to tenths of a point so that they add up to the rounded score.

    The score is rounded half up to one decimal; the contributions are floored and the
    tenths still owed go to those with the largest remainders (largest-remainder method).
    """
    tenths = contributions * 10.0
    score = np.floor(row_sums(tenths) + 0.5 + 1e-9).astype(np.int64)
    floors = np.floor(tenths + 1e-9).astype(np.int64)
    owed = score - floors.sum(axis=1)
    order = np.argsort(-(tenths - floors), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(order.shape[1])[None, :].repeat(len(order), 0), axis=1)
    return floors + (ranks < owed[:, None]), score


def round_tenths_row(contributions: list[float]) -> tuple[list[int], int]:
    """:func:`round_tenths` for one row of plain floats (the same steps, the same ties)."""
    tenths = [c * 10.0 for c in contributions]
    score = math.floor(_left_sum(tenths) + 0.5 + 1e-9)
    floors = [math.floor(t + 1e-9) for t in tenths]
    owed = score - sum(floors)
    order = sorted(range(len(tenths)), key=lambda j: -(tenths[j] - floors[j]))  # stable, like argsort
    for j in order[: max(owed, 0)]:
        floors[j] += 1
    return floors, score


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

    def row(self, i: int) -> RowScores:
        """Row ``i`` as plain Python numbers."""
        return RowScores(
            self.subscores[i].tolist(),
            self.contributions[i].tolist(),
            int(self.score[i]),
            int(self.band[i]),
            self.missing[i].tolist(),
            float(self.completeness[i]),
            self.gains[i].tolist(),
        )


@dataclass
class RowScores:
    """One profile's row of :class:`BatchScores` (the row path computes it directly)."""

    subscores: list[float]  # per criterion
    contributions: list[int]  # per criterion, tenths of a point
    score: int  # tenths of a point
    band: int
    missing: list[bool]  # per input, in `Scorer.inputs_` order
    completeness: float
    gains: list[int]  # per candidate, tenths of a point


class Scorer:
    """The weighted model, fitted to a sectors file; a scikit-learn estimator without scikit-learn's base.

    One class for the library, the command line and the web app: it follows scikit-learn's estimator
    API (``get_params``, ``set_params``, ``repr``; ``sklearn.base.clone`` works) by itself, so that a
    process that finds its sector vocabulary already fitted never imports scikit-learn (about 1 s).

    Parameters
    ----------
    sectors_path : str, optional
        The sectors file; the project's ``sectors.yaml`` by default.
    config : Config, optional
        An already loaded configuration (wins over ``sectors_path``), e.g. a stored
        weights version.
    cached_vocabulary : bool, default False
        Whether :meth:`fit` may reuse a sector vocabulary that scikit-learn fitted earlier for the
        same keywords (kept on disk, see :class:`matcher.text.SectorVocabulary`); ``matcher score``
        sets it. The shipped learned classifier needs no fit either way.

    Examples
    --------
    >>> Scorer().fit().config_.criteria[0].id
    'sector_fit'
    >>> Scorer(sectors_path="x.yaml")
    Scorer(sectors_path='x.yaml')
    """

    def __init__(
        self, sectors_path: str | None = None, config: Config | None = None, cached_vocabulary: bool = False
    ) -> None:
        self.sectors_path = sectors_path
        self.config = config
        self.cached_vocabulary = cached_vocabulary

    @classmethod
    def _get_param_names(cls) -> tuple[str, ...]:
        """The constructor's parameter names, sorted (as scikit-learn's ``BaseEstimator`` lists them)."""
        return _param_names(cls)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters by name (scikit-learn's estimator API; none is an estimator)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Scorer:
        """Set constructor parameters (scikit-learn's estimator API); returns ``self``."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. Valid parameters are: {valid}.")
            setattr(self, name, value)
        return self

    def scoring_params(self) -> dict[str, Any]:
        """:meth:`get_params` less ``cached_vocabulary``, which changes no number: what a result records."""
        params = self.get_params(deep=False)
        del params["cached_vocabulary"]
        return params

    def __repr__(self) -> str:
        """Parameters that differ from their defaults, as scikit-learn shows an estimator."""
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        shown = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if value is not defaults[name] and value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(shown)})"

    def fit(self, X=None, y=None) -> Scorer:  # noqa: N803 - scikit-learn signature
        """Load and check the configuration, build the sector detector; returns ``self``."""
        self.config_ = self.config if self.config is not None else load_sectors(self.sectors_path)
        self.detector_ = SectorDetector(self.config_, cached_vocabulary=self.cached_vocabulary)
        self.weights_ = self.config_.weights()
        self.inputs_ = [(c, item) for c in self.config_.criteria for item in c.inputs]
        self.candidates_ = [cand for _, item in self.inputs_ for cand in self._candidates(item)]
        # Points each input can move: criterion weight x the input's share (inputs_ order).
        self.input_weights_ = np.array(
            [self.weights_[self.config_.criteria.index(c)] * item.share for c, item in self.inputs_]
        )
        self.row_tables_ = _RowTables(self)
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
        mins = np.array(self.row_tables_.band_mins)
        band = np.asarray(self.row_tables_.band_for)[
            frame.detection.sector, len(mins) - np.searchsorted(mins, score, side="right")
        ]
        missing = np.column_stack([np.isnan(values[item.field]) for _, item in self.inputs_])
        if "sector" in values:  # a firm that gave no code nor text has an unknown sector
            col = [i for i, (_, item) in enumerate(self.inputs_) if item.field == "sector"][0]
            missing[:, col] = frame.detection.source == SOURCE_NONE
        completeness = 1.0 - row_sums(missing * self.input_weights_) / 100.0
        gains = self._gains(values, subscores, score)
        gains = self._keep_nearest_threshold(gains)
        return BatchScores(
            values, subscores, contributions, score, band, missing, completeness, self.candidates_, gains
        )

    def _gains(
        self, values: dict[str, NDArray[np.float64]], subscores: NDArray[np.float64], score: NDArray[np.int64]
    ) -> NDArray[np.int64]:
        """Points (tenths) each candidate change would add: the model re-scored with that input changed.

        The model is a weighted sum, so changing one input moves the exact score by
        weight x share x (new sub-score - old); the new score is rounded like any score.
        """
        exact = wsm(subscores, self.weights_)[1]
        weight_of = {item.field: w for (_, item), w in zip(self.inputs_, self.input_weights_, strict=True)}
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

    # -- One profile in plain Python: evaluate()'s arithmetic, step for step -------------------------

    def evaluate_row(
        self, sector: int, source: int, answers: Mapping[str, str | None], numbers: Mapping[str, float | None]
    ) -> RowScores:
        """Score one profile: :meth:`evaluate` for a batch of one, without numpy's per-call cost.

        ``answers`` maps each answer field to its answer (``None`` = unknown), ``numbers``
        each number field to its value; ``sector`` and ``source`` come from the detector.
        """
        tables = self.row_tables_
        values = {}
        for field, kind, table in tables.inputs:  # tables.value of each input, inline
            if kind == "sector":
                values[field] = tables.tiers[sector] if sector >= 0 else math.nan
            elif kind == "answers":
                answer = answers[field]
                values[field] = math.nan if answer is None else table[answer]
            else:
                number = numbers[field]
                values[field] = math.nan if number is None else table[1][bisect_right(table[0], number)]
        subscores = [0.0] * len(tables.shares)
        for j, shares in enumerate(tables.shares):
            for field, share in shares:
                subscores[j] += share * _zero_nan(values[field])
        parts = [s * w for s, w in zip(subscores, tables.weights, strict=True)]
        contributions, score = round_tenths_row(parts)
        band = tables.band_for[sector][len(tables.band_mins) - bisect_right(tables.band_mins, score)]
        missing = [
            source == SOURCE_NONE if field == "sector" else values[field] != values[field]
            for field, _, _ in tables.inputs
        ]
        unknown = _left_sum([w if m else 0.0 for m, w in zip(missing, tables.input_weights, strict=True)])
        gains = self._row_gains(values, _left_sum(parts), score)
        return RowScores(subscores, contributions, score, band, missing, 1.0 - unknown / 100.0, gains)

    def _row_gains(self, values: dict[str, float], exact: float, score: int) -> list[int]:
        """:meth:`_gains` then :meth:`_keep_nearest_threshold` for one profile."""
        gains = []
        for field, value, weight in self.row_tables_.candidates:
            current = _zero_nan(values[field])
            gains.append(
                math.floor((exact + weight * (value - current)) * 10.0 + 0.5 + 1e-9) - score if value > current else 0
            )
        for same_number in self.row_tables_.threshold_candidates:
            taken = False
            for j in same_number:
                gains[j] = 0 if taken else gains[j]
                taken = taken or gains[j] > 0
        return gains


class _RowTables:
    """A fitted scorer's lookup tables as plain Python numbers, for :meth:`Scorer.evaluate_row`."""

    def __init__(self, scorer: Scorer) -> None:
        self.weights = scorer.weights_.tolist()
        self.input_weights = scorer.input_weights_.tolist()
        self.weight_of = {item.field: w for (_, item), w in zip(scorer.inputs_, self.input_weights, strict=True)}
        self.tiers = [s.tier_weight for s in scorer.config_.sectors]
        self.band_mins = (np.array([b.min for b in scorer.config_.bands])[::-1] * 10).tolist()
        self.band_for = band_table(scorer.config_)
        self.thresholds = {
            item.field: ([b for b, _ in item.thresholds], [0.0] + [s for _, s in item.thresholds])
            for _, item in scorer.inputs_
            if item.kind == "thresholds"
        }
        self.candidates = [(c.field, c.value, self.weight_of[c.field]) for c in scorer.candidates_]
        #: Per input (``inputs_`` order): field, kind and what :meth:`value` reads it with (answers: the
        #: sub-score per answer; thresholds: bounds and sub-scores).
        self.inputs = [
            (item.field, item.kind, item.answers if item.kind == "answers" else self.thresholds.get(item.field))
            for _, item in scorer.inputs_
        ]
        #: Per criterion, (field, share) of each of its inputs.
        self.shares = [[(item.field, item.share) for item in c.inputs] for c in scorer.config_.criteria]
        self.threshold_candidates = [
            [j for j, c in enumerate(scorer.candidates_) if c.field == name] for name in NUMBER_INPUTS
        ]

    def value(
        self, item: Input, sector: int, answers: Mapping[str, str | None], numbers: Mapping[str, float | None]
    ) -> float:
        """One input's sub-score (NaN when unknown), as :func:`input_values` gives it."""
        if item.kind == "sector":
            return self.tiers[sector] if sector >= 0 else math.nan
        if item.kind == "answers":
            answer = answers[item.field]
            return math.nan if answer is None else item.answers[answer]
        number = numbers[item.field]
        if number is None:
            return math.nan
        bounds, subs = self.thresholds[item.field]
        return subs[bisect_right(bounds, number)]


def band_table(config: Config) -> list[list[int]]:
    """``table[sector][b]``: the band of a firm of that sector whose score alone earns band ``b``.

    The one place bands meet sector tiers: a band whose ``min_tier`` weighs more than the
    sector's tier passes the firm to the next band down that admits it. The last row is for
    a firm of unknown sector (index -1), which no band with a ``min_tier`` admits.

    Examples
    --------
    >>> from matcher.config import load_sectors
    >>> config = load_sectors()
    >>> table = band_table(config)
    >>> table[config.sector_ids.index("software")][0], table[config.sector_ids.index("hospitality")][0]
    (0, 1)
    """
    weights = [s.tier_weight for s in config.sectors] + [-math.inf]
    floors = [-math.inf if b.min_tier is None else config.tiers[b.min_tier]["weight"] for b in config.bands]
    return [[next(j for j in range(b, len(floors)) if w >= floors[j]) for b in range(len(floors))] for w in weights]


def _zero_nan(value: float) -> float:
    """``np.nan_to_num(value, nan=0.0)`` for one sub-score (sub-scores are never infinite)."""
    return 0.0 if value != value else value


@cache
def _param_names(cls: type) -> tuple[str, ...]:
    """A class's constructor parameter names, sorted; read once (``inspect.signature`` costs ~40 us)."""
    return tuple(sorted(name for name in inspect.signature(cls.__init__).parameters if name != "self"))


#: The model's earlier name (one class: :class:`Scorer`).
ScoringModel = Scorer
