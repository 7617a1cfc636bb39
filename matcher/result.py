"""Score one profile (or a few) and return a result that explains itself.

Two paths give identical results. Many profiles go the way of a CSV chunk: an Arrow
table, :func:`matcher.frame.read_frame`, :meth:`Scorer.evaluate` and
:func:`matcher.explain.render_batch` (:func:`assess_vectorised`). Up to
:data:`SMALL_BATCH` profiles (a web request) go row by row in plain Python with the same
readers, tables and phrases: :func:`matcher.rowwise.read_row`, :meth:`Scorer.evaluate_row`
and :func:`matcher.explain.explain_row` (:func:`assess_rowwise`), which skips the batch
path's fixed cost of a few milliseconds per call (each stage's row kernel, its cost and its
parity test: docs/architecture.md, "One profile"). :class:`ScoreResult` then holds the
numbers the model computed; pages and the API render them and never recompute them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import InvalidValue
from .explain import advice_texts, explain_row, missing_row, worded_columns
from .frame import read_frame
from .profile import table_from_mappings
from .rowwise import read_row
from .scoring import RowScores, Scorer
from .sectors import SOURCE_DEFAULT

#: Batches up to this size take the row-wise path: bench/bench_single.py measured both paths
#: equally fast at about 128 profiles (the row path ~0.11 ms per profile, the batch path ~4 ms
#: per call plus ~0.09 ms per profile), so this stays a little below.
SMALL_BATCH = 96


@dataclass(frozen=True)
class Contribution:
    """One criterion's part of the score."""

    criterion: str
    label: str
    weight: float  # points available
    subscore: float  # in [0, 1]
    points: float  # weight x subscore, rounded so that all points add up to the score


@dataclass(frozen=True)
class Improvement:
    """A change the firm could make and the points it would add, as the model computes them."""

    field: str
    advice: str
    gain: float


@dataclass(frozen=True)
class ScoreResult:
    """Score, band, contributions, sectors with evidence, missing fields, improvements."""

    name: str
    score: float
    band: str
    band_label: str
    sector: str | None
    sector_label: str | None
    tier: str | None
    contributions: list[Contribution]
    sectors: list[dict[str, Any]]
    missing: list[str]
    completeness: float
    improvements: list[Improvement]
    explanation: str
    lang: str
    params: dict[str, Any] = field(default_factory=dict)
    #: 1.0 for a sector a code or the firm's own choice gives; else the text classifier's
    #: probability for its best sector (0 when the text holds no known word).
    sector_confidence: float = 0.0
    #: No code, no declared sector and text below ``detection.min_confidence``: the sector
    #: (``other``) is a placeholder; staff should review it, the firm should pick its sector.
    sector_uncertain: bool = False
    #: For a profile with a description and no code that maps: up to three OKVED 2 classes it reads
    #: like, best first, each ``{"code", "title"}`` (title in ``lang``).
    okved_suggested: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: what ``dataclasses.asdict`` gives, at a fraction of its cost."""
        return {name: _plain(getattr(self, name)) for name in _RESULT_FIELDS}

    def json_data(self, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """What :meth:`to_dict` gives (less the fields in ``skip``), for serialising at once: the same
        content, but sharing the result's own lists and dicts instead of copying them (read only).

        Examples
        --------
        >>> result = assess({"name": "A", "okved": "62.01"})
        >>> result.json_data(skip=("params",)) == {k: v for k, v in result.to_dict().items() if k != "params"}
        True
        """
        data = {name: getattr(self, name) for name in _RESULT_FIELDS if name not in skip}
        for name in ("contributions", "improvements"):
            if name in data:
                data[name] = [{key: getattr(item, key) for key in _ITEM_FIELDS[type(item)]} for item in data[name]]
        return data


_RESULT_FIELDS = tuple(f.name for f in fields(ScoreResult))
_ITEM_FIELDS = {cls: tuple(f.name for f in fields(cls)) for cls in (Contribution, Improvement)}
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """A deep copy with dataclasses turned into dicts, as ``dataclasses.asdict`` makes it."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [_plain(v) for v in value]
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    if kind in _ITEM_FIELDS:
        return {name: _plain(getattr(value, name)) for name in _ITEM_FIELDS[kind]}
    if kind is tuple:
        return tuple(_plain(v) for v in value)
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else copy.deepcopy(value)


@lru_cache(maxsize=8)
def default_scorer(sectors_path: str | None = None) -> Scorer:
    """A fitted scorer for a sectors file, built once per process."""
    return Scorer(sectors_path=sectors_path).fit()


def assess(profile: Mapping[str, Any], scorer: Scorer | None = None, lang: str = "en") -> ScoreResult:
    """Score one profile.

    Parameters
    ----------
    profile : mapping
        Field -> value as in the data contract (CSV-like text, numbers or booleans).
    scorer : Scorer, optional
        A fitted scorer; the project's ``sectors.yaml`` by default.
    lang : {"en", "ru", "vi"}
        Language of labels, explanation and advice.

    Returns
    -------
    ScoreResult

    Raises
    ------
    InvalidValue
        For the first value that cannot be read, naming its field.
    """
    results = assess_many([profile], scorer, lang)
    if isinstance(results[0], InvalidValue):
        raise results[0]
    return results[0]


def assess_many(
    profiles: Iterable[Mapping[str, Any]], scorer: Scorer | None = None, lang: str = "en"
) -> list[ScoreResult | InvalidValue]:
    """Score several profiles; a profile that cannot be read yields its first :class:`InvalidValue`.

    Up to :data:`SMALL_BATCH` profiles are scored row by row, more as one vectorised batch;
    both give the same results.
    """
    scorer = scorer or default_scorer()
    profiles = list(profiles)
    if len(profiles) <= SMALL_BATCH:
        return assess_rowwise(profiles, scorer, lang)
    return assess_vectorised(profiles, scorer, lang)


def assess_rowwise(profiles: list[Mapping[str, Any]], scorer: Scorer, lang: str) -> list[ScoreResult | InvalidValue]:
    """:func:`assess_many` one profile at a time in plain Python (cheapest for a few profiles)."""
    params = _params(scorer)
    out: list[ScoreResult | InvalidValue] = []
    for profile in profiles:
        row = read_row(profile, scorer.detector_)
        if isinstance(row, InvalidValue):
            out.append(row)
            continue
        det = row.detection
        scores = scorer.evaluate_row(det.sector, det.source, row.answers, row.numbers)
        sectors = scorer.detector_.matches_row(
            det.sector, row.codes, row.declared, det.text_scores, det.terms, det.text
        )
        out.append(
            _result(
                scorer,
                row.name,
                scores,
                det.sector,
                sectors,
                explain_row(scorer, scores, det, lang),
                lang,
                params,
                det.confidence,
                det.source == SOURCE_DEFAULT,
                det.terms,
            )
        )
    return out


def assess_vectorised(profiles: list[Mapping[str, Any]], scorer: Scorer, lang: str) -> list[ScoreResult | InvalidValue]:
    """:func:`assess_many` as one Arrow/numpy batch (cheapest for many profiles)."""
    table, _ = table_from_mappings(profiles)
    frame = read_frame(table, scorer.detector_)
    scores = scorer.evaluate(frame)
    columns = worded_columns(scorer, frame, scores, lang)
    first_error = {}
    for err in frame.errors:
        first_error.setdefault(err.row, err)
    scored = frame_results(
        scorer,
        table,
        frame,
        scores,
        columns["explanation"].to_pylist(),
        lang,
        [row for row in range(frame.n_rows) if row not in first_error],
    )
    out: list[ScoreResult | InvalidValue] = []
    for row in range(frame.n_rows):
        if row in first_error:
            err = first_error[row]
            value = table.column(err.field)[row].as_py() if err.field in table.column_names else None
            out.append(InvalidValue(err.field, value, err.reason))
            continue
        out.append(next(scored))
    return out


def frame_results(scorer: Scorer, table, frame, scores, explanations: list[str | None], lang: str, rows: Iterable[int]):
    """The :class:`ScoreResult` of each of ``rows`` of a scored batch (rows without errors), in order.

    Parameters
    ----------
    scorer : Scorer
        The fitted scorer that scored the batch.
    table : pyarrow Table or RecordBatch
        The batch with contract column names (``name`` at least).
    frame, scores
        :func:`~matcher.frame.read_frame` and :meth:`Scorer.evaluate` of the batch.
    explanations : list of str
        The ``explanation`` column :func:`~matcher.explain.render_batch` gave in ``lang``.
    lang : {"en", "ru", "vi"}
    rows : iterable of int
        Positions in the batch.

    Returns
    -------
    iterator of ScoreResult
    """
    params = _params(scorer)
    names = table.column("name")
    for row in rows:
        main = int(frame.detection.sector[row])
        yield _result(
            scorer,
            str(names[row].as_py()).strip(),
            scores.row(row),
            main,
            scorer.detector_.matches(frame.detection, row, frame.codes[row], frame.declared[row]),
            explanations[row],
            lang,
            params,
            float(frame.detection.confidence[row]),
            bool(frame.detection.source[row] == SOURCE_DEFAULT),
            _row_terms(frame.detection.hits, row),
        )


def _params(scorer: Scorer) -> dict[str, Any]:
    """The scorer's parameters as every result records them (those that decide its numbers)."""
    return scorer.scoring_params() | {"config": scorer.config_.path}


@dataclass(frozen=True)
class _Labels:
    """A fitted scorer's names and labels in one language, looked up once (not once per result)."""

    criteria: tuple[tuple[str, str, float], ...]  # (id, label, weight) per criterion
    candidate_fields: tuple[str, ...]
    bands: tuple[str, ...]
    sectors: tuple[str, ...]


_LABELS: dict[tuple[int, str], tuple[Any, _Labels]] = {}


def _labels(scorer: Scorer, lang: str) -> _Labels:
    """:class:`_Labels` of ``scorer`` in ``lang``, built once per fit and language."""
    cached = _LABELS.get((id(scorer), lang))
    if cached is None or cached[0] is not scorer.weights_:  # a new fit makes new weights_
        if len(_LABELS) > 256:
            _LABELS.clear()
        config = scorer.config_
        labels = _Labels(
            tuple(
                (c.id, c.label.get(lang, c.label["en"]), float(w))
                for c, w in zip(config.criteria, scorer.weights_, strict=True)
            ),
            tuple(c.field for c in scorer.candidates_),
            tuple(b.label.get(lang, b.label["en"]) for b in config.bands),
            tuple(s.label.get(lang, s.label["en"]) for s in config.sectors),
        )
        cached = _LABELS[(id(scorer), lang)] = (scorer.weights_, labels)
    return cached[1]


@lru_cache(maxsize=4096)
def _round2(value: float) -> float:
    """``np.round(value, 2)`` as a Python float (a scorer gives few distinct completeness values)."""
    return float(np.round(np.float64(value), 2))


def _built(cls: type, **values: Any) -> Any:
    """An instance of the frozen dataclass ``cls`` holding ``values`` (every field): what ``cls(**values)``
    makes, without its ``__init__`` setting each field through ``object.__setattr__`` (half the cost of
    a result's ~15 objects; tests/test_result.py checks both equal)."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


def _first(item: tuple) -> Any:
    """A sort key: the first of a tuple."""
    return item[0]


def _row_terms(hits, row: int) -> list[int]:
    matrix = hits.matrix
    return matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]].tolist()


def _result(
    scorer: Scorer,
    name: str,
    scores: RowScores,
    main: int,
    sectors: list[dict],
    explanation: str,
    lang: str,
    params: dict,
    confidence: float = 0.0,
    uncertain: bool = False,
    terms: list[int] | None = None,
) -> ScoreResult:
    """One profile's result from its row of scores, main sector, sector matches, explanation and text terms."""
    config = scorer.config_
    detector = scorer.detector_
    labels = _labels(scorer, lang)
    suggested = [
        {"code": code, "title": detector.suggester.title(code, lang)}
        for code in detector.suggest_row(terms or [], sectors)
    ]
    contributions = [
        _built(
            Contribution, criterion=criterion, label=label, weight=weight, subscore=subscore, points=float(points) / 10
        )
        for (criterion, label, weight), subscore, points in zip(
            labels.criteria, scores.subscores, scores.contributions, strict=True
        )
    ]
    gains = [
        (gain, field, advice)
        for field, advice, gain in zip(labels.candidate_fields, advice_texts(scorer, lang), scores.gains, strict=True)
        if gain > 0
    ]
    gains.sort(key=_first, reverse=True)  # the largest gain first, ties in candidate order (a stable sort)
    improvements = [
        _built(Improvement, field=field, advice=advice, gain=float(gain) / 10) for gain, field, advice in gains
    ]
    sector = config.sectors[main] if main >= 0 else None
    band = config.bands[scores.band]
    return _built(
        ScoreResult,
        name=name,
        score=float(scores.score) / 10,
        band=band.name,
        band_label=labels.bands[scores.band],
        sector=sector.id if sector else None,
        sector_label=labels.sectors[main] if sector else None,
        tier=sector.tier if sector else None,
        contributions=contributions,
        sectors=sectors,
        missing=list(missing_row(scorer, scores.missing, lang)[0]),
        completeness=_round2(scores.completeness),
        improvements=improvements,
        explanation=explanation,
        lang=lang,
        params=dict(params),
        sector_confidence=_round2(confidence),
        sector_uncertain=uncertain,
        okved_suggested=suggested,
    )
