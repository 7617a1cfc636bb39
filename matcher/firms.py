"""A batch of firms as the matcher sees them: sector shares, commitments, size, readiness.

:func:`firm_facts` turns a :class:`~matcher.frame.ProfileFrame` (what ``matcher score`` reads)
into :class:`FirmFacts`, the columns that :mod:`matcher.match` and :mod:`matcher.incentives`
read. Sector shares are a sparse (n_firms, n_sectors) matrix: the detection's own shares
(:func:`matcher.sectors.share_masses`, the ``sectors`` column of ``matcher score``); a firm
with no sector evidence has an empty row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from .frame import ProfileFrame
from .profile import COMMITMENT_FIELDS
from .sectors import SOURCE_NONE


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
        return FirmFacts(
            len(rows),
            self.shares[rows],
            self.sector_known[rows],
            {f: v[rows] for f, v in self.commitments.items()},
            self.presence[rows],
            self.investment_usd[rows],
            self.employees[rows],
            [self.codes[r] for r in rows],
        )


def firm_facts(frame: ProfileFrame) -> FirmFacts:
    """The matcher's view of a batch read by :func:`matcher.frame.read_frame`."""
    return FirmFacts(
        n=frame.n_rows,
        shares=sp.csr_matrix(frame.detection.shares.astype(np.float32)),
        sector_known=frame.detection.source != SOURCE_NONE,
        commitments={f: frame.answers[f] for f in COMMITMENT_FIELDS},
        presence=frame.answers["vietnam_presence"],
        investment_usd=frame.numbers["investment_usd"],
        employees=frame.numbers["employees"],
        codes=frame.codes,
    )
