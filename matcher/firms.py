"""A batch of firms as the matcher sees them: sector shares, commitments, size, readiness.

:func:`firm_facts` turns a :class:`~matcher.frame.ProfileFrame` (what ``matcher score`` reads)
into :class:`FirmFacts`, the columns that :mod:`matcher.match` and :mod:`matcher.incentives`
read. Sector shares are a sparse (n_firms, n_sectors) matrix: the main sector gets
``main_share`` when other sectors were found too (codes, declared sectors, text close to the
best), and the others split the rest; a firm with no sector evidence has an empty row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .frame import ProfileFrame
from .profile import COMMITMENT_FIELDS
from .sectors import MIN_TEXT_SCORE, NEAR_BEST, SOURCE_NONE, SectorDetector


@dataclass
class FirmFacts:
    """Columns of one batch of firms (every array has ``n`` rows)."""

    n: int
    shares: sp.csr_matrix  # (n, n_sectors) float32, rows add up to 1 (or 0 when unknown)
    sector_known: NDArray[np.bool_]
    commitments: dict[str, NDArray[np.int8]]  # index into COMMITMENT_LEVELS, -1 = unknown
    presence: NDArray[np.int8]  # index into PRESENCE_LEVELS, -1 = unknown
    investment_usd: NDArray[np.float64]  # NaN = unknown
    employees: NDArray[np.float64]
    codes: list[tuple[str, ...]]

    def take(self, rows: NDArray[np.int64]) -> FirmFacts:
        """The firms at ``rows`` (in that order)."""
        return FirmFacts(len(rows), self.shares[rows], self.sector_known[rows],
                         {f: v[rows] for f, v in self.commitments.items()}, self.presence[rows],
                         self.investment_usd[rows], self.employees[rows], [self.codes[r] for r in rows])


def sector_presence(frame: ProfileFrame, detector: SectorDetector) -> NDArray[np.bool_]:
    """(n, n_sectors) booleans: every sector found for each firm (main, codes, declared, text near the best)."""
    n_sectors = len(detector.config.sectors)
    found = np.zeros((frame.n_rows, n_sectors), dtype=bool)
    scores = frame.detection.text_scores
    if scores.size:
        found |= (scores >= MIN_TEXT_SCORE) & (scores >= NEAR_BEST * scores.max(axis=1, keepdims=True))
    rows, cols = _listed_sectors(frame, detector)
    found[rows, cols] = True
    main = frame.detection.sector
    has_main = main >= 0
    found[np.flatnonzero(has_main), main[has_main]] = True
    return found


def _listed_sectors(frame: ProfileFrame, detector: SectorDetector) -> tuple[list[int], list[int]]:
    """Row and sector indices of the sectors named by codes or declared, each distinct value read once."""
    cache: dict[tuple, tuple[int, ...]] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, (codes, declared) in enumerate(zip(frame.codes, frame.declared, strict=True)):
        key = (codes, tuple(declared))
        sectors = cache.get(key)
        if sectors is None:
            sectors = cache[key] = tuple({s for s, _ in detector.from_codes(codes)[1]} | set(declared))
        rows.extend([i] * len(sectors))
        cols.extend(sectors)
    return rows, cols


def share_matrix(found: NDArray[np.bool_], main: NDArray[np.int64], main_share: float) -> sp.csr_matrix:
    """Sector shares from the sectors found and the main one.

    Examples
    --------
    >>> m = share_matrix(np.array([[True, True, True], [False, True, False]]), np.array([0, 1]), 0.6)
    >>> np.round(m.toarray().astype(float), 2).tolist()
    [[0.6, 0.2, 0.2], [0.0, 1.0, 0.0]]
    """
    count = found.sum(axis=1)
    others = np.maximum(count - 1, 1)
    rest = np.where(count > 1, (1.0 - main_share) / others, 0.0)
    dense = found * rest[:, None]
    has_main = main >= 0
    rows = np.flatnonzero(has_main)
    dense[rows, main[has_main]] = np.where(count[has_main] > 1, main_share, 1.0)
    return sp.csr_matrix(dense.astype(np.float32))


def firm_facts(frame: ProfileFrame, detector: SectorDetector, main_share: float) -> FirmFacts:
    """The matcher's view of a batch read by :func:`matcher.frame.read_frame`."""
    found = sector_presence(frame, detector)
    return FirmFacts(
        n=frame.n_rows,
        shares=share_matrix(found, frame.detection.sector, main_share),
        sector_known=frame.detection.source != SOURCE_NONE,
        commitments={f: frame.answers[f] for f in COMMITMENT_FIELDS},
        presence=frame.answers["vietnam_presence"],
        investment_usd=frame.numbers["investment_usd"],
        employees=frame.numbers["employees"],
        codes=frame.codes,
    )
