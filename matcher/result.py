"""Score one profile (or a few) and return a result that explains itself.

A JSON object or a form goes through the very same path as a CSV chunk: it becomes a
one-row Arrow table, :func:`matcher.frame.read_frame` reads it, :class:`Scorer` scores
it and :func:`matcher.explain.render_batch` words it. :class:`ScoreResult` then holds the
numbers the model computed; pages and the API render them and never recompute them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import InvalidValue
from .explain import advice_text, missing_fields, render_batch
from .frame import read_frame
from .profile import table_from_mappings
from .scoring import Scorer


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

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


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
    """Score several profiles; a profile that cannot be read yields its first :class:`InvalidValue`."""
    scorer = scorer or default_scorer()
    table, _ = table_from_mappings(profiles)
    frame = read_frame(table, scorer.detector_)
    scores = scorer.evaluate(frame)
    columns = render_batch(scorer, frame, scores, lang)
    subscores = scores.subscores
    params = scorer.get_params(deep=False) | {"config": scorer.config_.path}
    first_error = {}
    for err in frame.errors:
        first_error.setdefault(err.row, err)
    out: list[ScoreResult | InvalidValue] = []
    for row in range(frame.n_rows):
        if row in first_error:
            err = first_error[row]
            value = table.column(err.field)[row].as_py() if err.field in table.column_names else None
            out.append(InvalidValue(err.field, value, err.reason))
            continue
        out.append(_result(scorer, table, frame, scores, subscores, columns, row, lang, params))
    return out


def _result(scorer, table, frame, scores, subscores, columns, row: int, lang: str, params: dict) -> ScoreResult:
    config = scorer.config_
    contributions = [
        Contribution(c.id, c.label.get(lang, c.label["en"]), float(w), float(subscores[row, j]),
                     float(scores.contributions[row, j]) / 10)
        for j, (c, w) in enumerate(zip(config.criteria, scorer.weights_, strict=True))
    ]
    gains = scores.gains[row]
    improvements = sorted(
        (Improvement(c.field, advice_text(c, lang), float(gains[j]) / 10) for j, c in enumerate(scores.candidates)
         if gains[j] > 0),
        key=lambda imp: -imp.gain,
    )
    main = int(frame.detection.sector[row])
    sector = config.sectors[main] if main >= 0 else None
    band = config.bands[int(scores.band[row])]
    codes, declared = frame.codes[row], frame.declared[row]
    return ScoreResult(
        name=str(table.column("name")[row].as_py()).strip(),
        score=float(scores.score[row]) / 10,
        band=band.name,
        band_label=band.label.get(lang, band.label["en"]),
        sector=sector.id if sector else None,
        sector_label=sector.label.get(lang, sector.label["en"]) if sector else None,
        tier=sector.tier if sector else None,
        contributions=contributions,
        sectors=scorer.detector_.matches(frame.detection, row, codes, declared),
        missing=missing_fields(scorer, scores.missing[row]),
        completeness=float(np.round(scores.completeness[row], 2)),
        improvements=improvements,
        explanation=columns["explanation"][row].as_py(),
        lang=lang,
        params=dict(params),
    )
