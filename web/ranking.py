"""Rankings of the stored leads under weights versions: comparison, robustness, calibration.

The sub-score matrix of the leads is computed by :mod:`matcher` from their stored profiles
(one batch per pattern of unverified commitments), so every version is judged on the same
leads with the same reading of their data. The robustness of the current ranking is computed
in the background and stored with the leads: :mod:`web.ranks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import selectinload

from matcher.calibration import Calibration, suggest_weights
from matcher.compare import Comparison, compare_rankings
from matcher.frame import read_frame
from matcher.profile import table_from_mappings

from .appstate import app_state
from .extensions import db
from .models import Lead, WeightsVersion
from .services import clean_profile
from .versions import current_version, get_setting, scorer_for

#: Outcome of a lead for calibration: 1 invested, 0 dropped, NaN none yet.
OUTCOMES = {"invested": 1.0, "dropped": 0.0}


@dataclass
class LeadMatrix:
    """Sub-scores of leads under one version: ``matrix @ weights`` is their exact score."""

    leads: list[Lead]
    matrix: NDArray[np.float64]
    weights: NDArray[np.float64]
    criteria: list[str]

    @property
    def scores(self) -> NDArray[np.float64]:
        return self.matrix @ self.weights


def all_leads() -> list[Lead]:
    """The leads to rank (every stored lead, oldest first)."""
    # Evidence is loaded with the leads: each lead's unverified commitments are read (one query, not one per lead).
    return list(db.session.execute(db.select(Lead).options(selectinload(Lead.evidence)).order_by(Lead.id)).scalars())


def lead_matrix(leads: list[Lead], version: WeightsVersion | None = None, factor: float | None = None) -> LeadMatrix:
    """The (n_leads, n_criteria) sub-score matrix of ``leads`` under ``version`` (current by default).

    Rows are kept by the app's state (``rows``) by (version fingerprint, unverified commitments, factor,
    lead id, lead ``updated_at``): a lead changed since, or another version, is scored again.
    """
    version = version or current_version()
    scorer = scorer_for(version, (), 1.0)
    factor = float(get_setting("unverified_factor")) if factor is None else float(factor)
    keys = [(version.fingerprint, lead.unverified(), factor, lead.id, lead.updated_at) for lead in leads]
    rows = app_state().rows
    kept = rows.get_many(keys)
    todo = [i for i, key in enumerate(keys) if key not in kept]
    if todo:  # only leads new or changed since they were last put in a matrix are scored again
        scored = subscore_rows([leads[i] for i in todo], version, factor)
        fresh = dict(zip((keys[i] for i in todo), scored, strict=True))
        rows.put_many(fresh.items())
        kept.update(fresh)
    matrix = np.array([kept[key] for key in keys]).reshape(len(leads), len(scorer.config_.criteria))
    return LeadMatrix(
        leads, matrix, np.asarray(scorer.weights_, dtype=np.float64), [c.id for c in scorer.config_.criteria]
    )


def subscore_rows(leads: list[Lead], version: WeightsVersion, factor: float) -> NDArray[np.float64]:
    """The sub-score rows of ``leads`` under ``version``: one batch per pattern of unverified commitments."""
    matrix = np.zeros((len(leads), len(scorer_for(version, (), 1.0).config_.criteria)))
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, lead in enumerate(leads):
        groups.setdefault(lead.unverified(), []).append(i)
    for unverified, rows in groups.items():
        group_scorer = scorer_for(version, unverified, factor)
        table, _ = table_from_mappings([clean_profile(leads[i].profile()) for i in rows])
        matrix[rows] = group_scorer.transform(read_frame(table, group_scorer.detector_))
    return matrix


def compare_versions(a: WeightsVersion, b: WeightsVersion, top_k: int) -> tuple[Comparison, list[Lead]]:
    """Ranks of the current leads under versions A and B side by side."""
    leads = all_leads()
    if not leads:
        raise ValueError("no leads to rank")
    scores_a, scores_b = lead_matrix(leads, a).scores, lead_matrix(leads, b).scores
    return compare_rankings(scores_a, scores_b, [lead.id for lead in leads], top_k=top_k), leads


def calibrate(top_k: int = 10) -> tuple[Calibration, LeadMatrix]:
    """Suggested criterion weights from invested / dropped leads, beside the current ones."""
    lm = lead_matrix(all_leads())
    outcomes = np.array([OUTCOMES.get(lead.status, np.nan) for lead in lm.leads], dtype=np.float64)
    return suggest_weights(lm.matrix, outcomes, lm.weights, ids=[lead.id for lead in lm.leads], top_k=top_k), lm
