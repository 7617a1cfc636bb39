"""A transparent match score for (firm, opportunity), computed for whole batches at once.

The match score (0-100) is the sum of five named contributions, each a weight (points of the
opportunity's kind, from ``opportunities.yaml``, scaled to 100) times a sub-score in [0, 1]:

``sector``
    the firm's sector shares times the opportunity's target weights, summed
    (a sparse (firms x sectors) matrix times a dense (sectors x opportunities) one);
``asks``
    the mean value of the firm's commitments to what the opportunity asks for
    (technology transfer, training, local partner, green); 1 when it asks for nothing;
``size``
    planned investment against the opportunity's minimum capital (1 at or above it, the
    ratio below it); 1 when it names no minimum;
``readiness``
    the firm's presence in Vietnam (project, office, none);
``partner``
    the firm's wish for a Vietnamese partner (its ``local_partner`` answer), which counts
    only for partners (their weight is 0 for the other kinds).

An answer the firm left empty adds nothing and is reported missing: unknown is not "no". A
pair whose sector overlap is 0 while the firm's sector is known is no match (the file's
``require_sector_overlap``). :func:`top_matches` keeps the best ``k`` of every firm in one
pass over (firms x opportunities) matrices, a chunk of firms at a time: no loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .firms import FirmFacts
from .opportunities import ASKS, COMPONENTS, Catalogue, Opportunity
from .scoring import round_tenths
from .values import COMMITMENT_LEVELS, PRESENCE_LEVELS

#: Firms matched at once: (chunk x opportunities) float64 matrices stay near 40 MB for 500.
CHUNK_FIRMS = 10_000
#: Opportunities no firm is matched to.
INACTIVE = ("retired", "closed")


@dataclass(frozen=True)
class OpportunityTable:
    """The active opportunities of a catalogue as matrices (column ``j`` is ``opportunities[j]``)."""

    opportunities: tuple[Opportunity, ...]
    targets: NDArray[np.float32]  # (n_sectors, m)
    asks: NDArray[np.float32]  # (n_asks, m), each column adds up to 1 (or 0: asks nothing)
    asks_nothing: NDArray[np.bool_]  # (m,)
    capital_min: NDArray[np.float64]  # (m,), NaN = no minimum
    weights: NDArray[np.float64]  # (n_components, m): points, each column adding up to 100

    @property
    def m(self) -> int:
        return len(self.opportunities)


def opportunity_table(catalogue: Catalogue, sector_ids: tuple[str, ...]) -> OpportunityTable:
    """Matrices of the catalogue's active opportunities, for :func:`subscores`."""
    opps = tuple(o for o in catalogue.opportunities if o.status not in INACTIVE)
    targets = np.zeros((len(sector_ids), len(opps)), dtype=np.float32)
    asks = np.zeros((len(ASKS), len(opps)), dtype=np.float32)
    for j, opp in enumerate(opps):
        for sid, weight in opp.targets.items():
            targets[sector_ids.index(sid), j] = weight
        asked = catalogue.asks_of(opp)
        for a in asked:
            asks[ASKS.index(a), j] = 1.0 / len(asked)
    weights = np.array([[catalogue.settings.scaled(o.kind)[c] for o in opps] for c in COMPONENTS]).reshape(
        len(COMPONENTS), len(opps))
    capital = np.array([np.nan if o.capital_min_usd is None else o.capital_min_usd for o in opps], dtype=np.float64)
    return OpportunityTable(opps, targets, asks, asks.sum(axis=0) == 0, capital, weights)


def answer_values(index: NDArray[np.int8], levels: tuple[str, ...], values) -> NDArray[np.float32]:
    """Each answer's value (0 where unknown, index -1)."""
    table = np.array([values[level] for level in levels] + [0.0], dtype=np.float32)
    return table[index.astype(np.int64)]


def subscores(firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue) -> dict[str, NDArray]:
    """Every component's sub-score for every (firm, opportunity): (n, m) arrays, or (n,) for firm-only ones.

    Examples
    --------
    See ``tests/test_match.py::test_worked_example`` for numbers worked by hand.
    """
    settings = catalogue.settings
    commitments = np.column_stack([answer_values(firms.commitments[a], COMMITMENT_LEVELS,
                                                 settings.commitment_values) for a in ASKS])
    sector = np.asarray(firms.shares @ table.targets, dtype=np.float64)
    asks = commitments @ table.asks + table.asks_nothing[None, :]
    invest = firms.investment_usd[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(np.isnan(table.capital_min)[None, :], 1.0,
                        np.where(np.isnan(invest), 0.0, np.minimum(1.0, invest / table.capital_min[None, :])))
    return {
        "sector": sector, "asks": asks, "size": size,
        "readiness": answer_values(firms.presence, PRESENCE_LEVELS, settings.presence_values),
        "partner": answer_values(firms.commitments["local_partner"], COMMITMENT_LEVELS, settings.commitment_values),
    }


def match_scores(subs: dict[str, NDArray], table: OpportunityTable) -> NDArray[np.float64]:
    """The (n, m) match scores: the weighted sum of the sub-scores (exact, not rounded)."""
    total = np.zeros_like(subs["sector"])
    for c, weights in zip(COMPONENTS, table.weights, strict=True):
        value = subs[c]
        total += (value if value.ndim == 2 else value[:, None]) * weights[None, :]
    return total


def eligible(subs: dict[str, NDArray], firms: FirmFacts, catalogue: Catalogue) -> NDArray[np.bool_]:
    """(n, m): pairs that may match (sector overlap above 0, or the firm's sector unknown)."""
    if not catalogue.settings.require_sector_overlap:
        return np.ones(subs["sector"].shape, dtype=bool)
    return (subs["sector"] > 0) | ~firms.sector_known[:, None]


@dataclass
class TopMatches:
    """The best ``k`` opportunities of each firm; ``index`` is -1 where a firm has fewer matches."""

    index: NDArray[np.int64]  # (n, k) column in the OpportunityTable
    score: NDArray[np.int64]  # (n, k) tenths of a point
    contributions: NDArray[np.int64]  # (n, k, n_components) tenths, adding up to score
    subscores: NDArray[np.float64]  # (n, k, n_components)


def top_matches(firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue, k: int,
                chunk: int = CHUNK_FIRMS) -> TopMatches:
    """The best ``k`` opportunities of every firm, a chunk of firms at a time.

    Ties go to the opportunity listed first.
    """
    parts = [_top_chunk(firms.take(np.arange(s, min(s + chunk, firms.n))), table, catalogue, k)
             for s in range(0, firms.n, chunk)] or [_empty(k)]
    return TopMatches(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                        ("index", "score", "contributions", "subscores")))


def _empty(k: int) -> TopMatches:
    c = len(COMPONENTS)
    return TopMatches(np.zeros((0, k), np.int64), np.zeros((0, k), np.int64), np.zeros((0, k, c), np.int64),
                      np.zeros((0, k, c)))


def _top_chunk(firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue, k: int) -> TopMatches:
    if table.m == 0 or k == 0:
        c = len(COMPONENTS)
        return TopMatches(np.full((firms.n, k), -1, np.int64), np.zeros((firms.n, k), np.int64),
                          np.zeros((firms.n, k, c), np.int64), np.zeros((firms.n, k, c)))
    subs = subscores(firms, table, catalogue)
    exact = match_scores(subs, table)
    ok = eligible(subs, firms, catalogue)
    keyed = np.where(ok, exact - np.arange(table.m) * 1e-9, -np.inf)  # ties: the first listed wins
    kk = min(k, table.m)
    cand = np.argpartition(-keyed, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(keyed, cand, axis=1), axis=1, kind="stable")
    cand = np.take_along_axis(cand, order, axis=1)
    valid = np.isfinite(np.take_along_axis(keyed, cand, axis=1))
    rows = np.arange(firms.n)[:, None]
    picked = np.stack([(subs[c][rows, cand] if subs[c].ndim == 2 else np.repeat(subs[c][:, None], kk, axis=1))
                       for c in COMPONENTS], axis=2)
    points = picked * table.weights.T[cand]
    contrib, score = round_tenths(points.reshape(-1, len(COMPONENTS)))
    index = np.where(valid, cand, -1)
    out = TopMatches(index, score.reshape(firms.n, kk), contrib.reshape(firms.n, kk, -1), picked)
    return _pad(out, k) if kk < k else out


def _pad(top: TopMatches, k: int) -> TopMatches:
    """Widen to ``k`` columns (fewer opportunities than ``k``) with empty matches."""
    extra = k - top.index.shape[1]
    return TopMatches(np.pad(top.index, ((0, 0), (0, extra)), constant_values=-1),
                      np.pad(top.score, ((0, 0), (0, extra))),
                      np.pad(top.contributions, ((0, 0), (0, extra), (0, 0))),
                      np.pad(top.subscores, ((0, 0), (0, extra), (0, 0))))
