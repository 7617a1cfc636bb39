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

#: Firms matched at once: (chunk x opportunities) float32 matrices stay near 20 MB for 500.
CHUNK_FIRMS = 10_000
#: Opportunities no firm is matched to.
INACTIVE = ("retired", "closed")


@dataclass(frozen=True)
class OpportunityTable:
    """The active opportunities of a catalogue as matrices (column ``j`` is ``opportunities[j]``).

    ``linear`` holds, per opportunity, the points that every column of a firm's design row
    (:func:`design_matrix`) is worth: target weight x sector points for each sector share, ask
    share x asks points for each commitment value, the readiness and partner points, and a
    constant (the asks points of an opportunity that asks nothing, the size points of one with
    no minimum). All parts but size are then one matrix product.
    """

    opportunities: tuple[Opportunity, ...]
    targets: NDArray[np.float32]  # (n_sectors, m)
    asks: NDArray[np.float32]  # (n_asks, m), each column adds up to 1 (or 0: asks nothing)
    asks_nothing: NDArray[np.bool_]  # (m,)
    capital_min: NDArray[np.float64]  # (m,), NaN = no minimum
    weights: NDArray[np.float64]  # (n_components, m): points, each column adding up to 100
    linear: NDArray[np.float32]  # (n_sectors + n_asks + 3, m)
    sized: NDArray[np.int64]  # columns with a capital minimum
    inverse_capital: NDArray[np.float32]  # (m,) 1 / minimum, 0 where none
    size_points: NDArray[np.float32]  # (m,) size weight where a minimum is set, else 0

    @property
    def m(self) -> int:
        return len(self.opportunities)


def opportunity_table(catalogue: Catalogue, sector_ids: tuple[str, ...]) -> OpportunityTable:
    """Matrices of the catalogue's active opportunities."""
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
        len(COMPONENTS), len(opps)
    )
    # A minimum of 0 is no minimum.
    capital = np.array([o.capital_min_usd or np.nan for o in opps], dtype=np.float64)
    nothing = asks.sum(axis=0) == 0
    w = dict(zip(COMPONENTS, weights, strict=True))
    constant = nothing * w["asks"] + np.isnan(capital) * w["size"]
    linear = np.vstack([targets * w["sector"], asks * w["asks"], w["readiness"], w["partner"], constant])
    has_min = ~np.isnan(capital)
    inverse = np.where(has_min, 1.0 / np.where(has_min, capital, 1.0), 0.0)
    return OpportunityTable(
        opps,
        targets,
        asks,
        nothing,
        capital,
        weights,
        linear.astype(np.float32),
        np.flatnonzero(has_min),
        inverse.astype(np.float32),
        np.where(has_min, w["size"], 0.0).astype(np.float32),
    )


def answer_values(index: NDArray[np.int8], levels: tuple[str, ...], values) -> NDArray[np.float32]:
    """Each answer's value (0 where unknown, index -1)."""
    table = np.array([values[level] for level in levels] + [0.0], dtype=np.float32)
    return table[index.astype(np.int64)]


def design_matrix(firms: FirmFacts, catalogue: Catalogue) -> NDArray[np.float32]:
    """(n, n_sectors + n_asks + 3): sector shares, commitment values, readiness, partner wish, 1."""
    settings = catalogue.settings
    commitments = [answer_values(firms.commitments[a], COMMITMENT_LEVELS, settings.commitment_values) for a in ASKS]
    return np.column_stack(
        [
            firms.shares.toarray(),
            *commitments,
            answer_values(firms.presence, PRESENCE_LEVELS, settings.presence_values),
            answer_values(firms.commitments["local_partner"], COMMITMENT_LEVELS, settings.commitment_values),
            np.ones(firms.n, np.float32),
        ]
    ).astype(np.float32)


def score_matrix(
    firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue, design: NDArray[np.float32]
) -> NDArray[np.float32]:
    """The (n, m) match scores (float32), -inf where a pair is no match.

    A pair is no match when the firm's sector is known and the opportunity targets none of
    the firm's sectors (with the file's ``require_sector_overlap``). The sector shares are
    sparse, but with a few dozen sectors the overlap is fastest as a dense BLAS product.
    """
    n_sectors = table.targets.shape[0]
    score = design @ table.linear
    if len(table.sized):
        invest = np.nan_to_num(firms.investment_usd, nan=0.0).astype(np.float32)
        size = np.multiply.outer(invest, table.inverse_capital)  # no minimum: 0, weighed 0 below
        np.minimum(size, 1.0, out=size)
        size *= table.size_points
        score += size
    if catalogue.settings.require_sector_overlap:
        overlap = design[:, :n_sectors] @ table.targets
        no_match = overlap <= 0
        no_match &= firms.sector_known[:, None]
        np.putmask(score, no_match, -np.inf)
    return score


def pick_subscores(
    firms: FirmFacts, table: OpportunityTable, design: NDArray[np.float32], cand: NDArray[np.int64]
) -> NDArray[np.float64]:
    """(n, k, n_components) sub-scores of the picked pairs, in float64 (their points are rounded from these)."""
    n_sectors, n_asks = table.targets.shape[0], len(ASKS)
    shares = design[:, :n_sectors].astype(np.float64)
    commitments = design[:, n_sectors : n_sectors + n_asks].astype(np.float64)
    sector = np.einsum("ns,nks->nk", shares, table.targets.T.astype(np.float64)[cand])
    asks = np.einsum("na,nka->nk", commitments, table.asks.T.astype(np.float64)[cand]) + table.asks_nothing[cand]
    cap = table.capital_min[cand]
    invest = np.nan_to_num(firms.investment_usd, nan=0.0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(np.isnan(cap), 1.0, np.minimum(1.0, invest / cap))
    k = cand.shape[1]
    ready = np.repeat(design[:, n_sectors + n_asks, None].astype(np.float64), k, axis=1)
    partner = np.repeat(design[:, n_sectors + n_asks + 1, None].astype(np.float64), k, axis=1)
    return np.stack([sector, asks, size, ready, partner], axis=2)


@dataclass
class TopMatches:
    """The best ``k`` opportunities of each firm; ``index`` is -1 where a firm has fewer matches."""

    index: NDArray[np.int64]  # (n, k) column in the OpportunityTable
    score: NDArray[np.int64]  # (n, k) tenths of a point
    contributions: NDArray[np.int64]  # (n, k, n_components) tenths, adding up to score
    subscores: NDArray[np.float64]  # (n, k, n_components)


def top_matches(
    firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue, k: int, chunk: int = CHUNK_FIRMS
) -> TopMatches:
    """The best ``k`` opportunities of every firm, a chunk of firms at a time.

    Ties go to the opportunity listed first.
    """
    parts = [
        _top_chunk(firms.take(np.arange(s, min(s + chunk, firms.n))), table, catalogue, k)
        for s in range(0, firms.n, chunk)
    ] or [_top_chunk(firms, table, catalogue, k)]
    return TopMatches(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("index", "score", "contributions", "subscores"))
    )


def _top_chunk(firms: FirmFacts, table: OpportunityTable, catalogue: Catalogue, k: int) -> TopMatches:
    c = len(COMPONENTS)
    if table.m == 0 or k == 0 or firms.n == 0:
        return TopMatches(
            np.full((firms.n, k), -1, np.int64),
            np.zeros((firms.n, k), np.int64),
            np.zeros((firms.n, k, c), np.int64),
            np.zeros((firms.n, k, c)),
        )
    design = design_matrix(firms, catalogue)
    score = score_matrix(firms, table, catalogue, design)
    kk = min(k, table.m)
    cand, valid = best_columns(score, kk)
    subs = pick_subscores(firms, table, design, cand)
    contrib, total = round_tenths((subs * table.weights.T[cand]).reshape(-1, c))
    out = TopMatches(np.where(valid, cand, -1), total.reshape(firms.n, kk), contrib.reshape(firms.n, kk, c), subs)
    return _pad(out, k) if kk < k else out


def best_columns(score: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The ``k`` best columns of each row, best first, ties to the lower column; ``score`` is used up.

    ``k`` passes of ``argmax`` (which returns the first of equal maxima) over the matrix, each
    then setting the found cells to -inf: for the few matches a firm gets, several times faster
    than ``argpartition`` over 500 columns, and ties are broken the same way at every place.

    Examples
    --------
    >>> cols, ok = best_columns(np.array([[1.0, 3.0, 3.0, -np.inf]], dtype=np.float32), 4)
    >>> np.where(ok, cols, -1).tolist()
    [[1, 2, 0, -1]]
    """
    rows = np.arange(len(score))
    cols = np.empty((len(score), k), dtype=np.int64)
    ok = np.empty((len(score), k), dtype=bool)
    for r in range(k):
        best = score.argmax(axis=1)
        cols[:, r] = best
        ok[:, r] = np.isfinite(score[rows, best])
        score[rows, best] = -np.inf
    return cols, ok


def _pad(top: TopMatches, k: int) -> TopMatches:
    """Widen to ``k`` columns (fewer opportunities than ``k``) with empty matches."""
    extra = k - top.index.shape[1]
    return TopMatches(
        np.pad(top.index, ((0, 0), (0, extra)), constant_values=-1),
        np.pad(top.score, ((0, 0), (0, extra))),
        np.pad(top.contributions, ((0, 0), (0, extra), (0, 0))),
        np.pad(top.subscores, ((0, 0), (0, extra), (0, 0))),
    )
