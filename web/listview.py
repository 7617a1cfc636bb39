"""What the lead list shows of each lead on a page, worded once per request.

The page's template only prints these strings. Rendered in Jinja, each row cost two macro
calls, a dozen translated messages and label look-ups (each finding the request's locale and
the scorer's config again) and three number formats: about half a millisecond a row, 13 ms a
page of 25 at 100,000 leads, more than the page's SQL. Here the labels and message formats are
looked up once per request (:class:`Labels`) and every number is formatted once per value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from .i18n import EVIDENCE_LABELS, SOURCE_LABELS, STATUS_LABELS, field_label, sector_label
from .models import COMMITMENTS, Lead
from .scoring import get_config


class Labels:
    """The list's labels and message formats in the request's language, each looked up once."""

    def __init__(self) -> None:
        config = get_config()
        self.sectors = {s: sector_label(s) for s in config.sector_ids}
        self.status = {k: str(v) for k, v in STATUS_LABELS.items()}
        self.source = {k: str(v) for k, v in SOURCE_LABELS.items()}
        self.evidence = {k: str(v) for k, v in EVIDENCE_LABELS.items()}
        self.fields = {f: field_label(f) for f in COMMITMENTS}
        self.top = _("top-%(k)s in %(p)s")
        self.ranks = _("ranks %(low)s–%(high)s")
        self.verified = _("%(n)s of %(total)s verified")
        self.select = _("Select %(name)s")
        self._numbers: dict[float, str] = {}
        self._percents: dict[float | None, str] = {}

    def sector(self, sector: str | None) -> str:
        return self.sectors.get(sector, sector) if sector else "—"

    def number(self, value: float | None) -> str:
        """``value`` with one decimal as the language writes it (the ``number`` filter)."""
        if value is None:
            return "—"
        if value not in self._numbers:
            self._numbers[value] = format_decimal(value, format="#,##0.0")
        return self._numbers[value]

    def percent(self, value: float | None) -> str:
        """A fraction as a whole percentage (the ``percent`` filter)."""
        if value not in self._percents:
            self._percents[value] = "—" if value is None else format_percent(value)
        return self._percents[value]


@dataclass(frozen=True)
class Row:
    """One lead of the list, as printed."""

    id: int
    position: int
    url: str
    name: str
    select_label: str
    duplicate: bool
    place: str
    sector: str
    others: str
    score: str
    band: str | None
    robust: tuple[str, str] | None
    evidence: tuple[str, str, str] | None  # chip class, title, text
    completeness: str
    meter: float
    status: str
    status_label: str
    assignee: str
    added: str


def rows(leads: list[Lead], first: int, robust: dict[int, dict[str, Any]], duplicates: set[int]) -> list[Row]:
    """The printed rows of ``leads`` (``first``: position of the first in the list)."""
    labels = Labels()
    base = url_for("leads.index")
    return [
        _row(lead, first + i, labels, base, robust.get(lead.id), lead.id in duplicates) for i, lead in enumerate(leads)
    ]


def _row(lead: Lead, position: int, labels: Labels, base: str, robust: dict | None, duplicate: bool) -> Row:
    others = ", ".join(labels.sector(r.sector) for r in lead.sector_rows if not r.main)
    source = labels.source.get(lead.source, lead.source)
    return Row(
        id=lead.id,
        position=position,
        url=f"{base}/{lead.id}",
        name=lead.name,
        select_label=labels.select % {"name": lead.name},
        duplicate=duplicate,
        place=f"{lead.city} · {source}" if lead.city and lead.source else (lead.city or source or ""),
        sector=labels.sector(lead.sector),
        others=others,
        score=labels.number(lead.score),
        band=lead.band,
        robust=_robust(robust, labels),
        evidence=_evidence(lead, labels),
        completeness=labels.percent(lead.completeness),
        meter=round((lead.completeness or 0) * 100, 1),
        status=lead.status,
        status_label=labels.status.get(lead.status, lead.status),
        assignee=lead.assigned_to.username if lead.assigned_to else "—",
        added=lead.created_at.strftime("%Y-%m-%d"),
    )


def _robust(r: dict | None, labels: Labels) -> tuple[str, str] | None:
    if not r:
        return None
    return (
        labels.top % {"k": r["top_k"], "p": labels.percent(r["p_top_k"])},
        labels.ranks % {"low": r["low"], "high": r["high"]},
    )


def _evidence(lead: Lead, labels: Labels) -> tuple[str, str, str] | None:
    """The evidence chip: how many stated commitments staff verified, each one's state in the title."""
    stated = lead.stated()
    if not stated:
        return None
    states = {f: lead.evidence_of(f) for f in stated}
    n = sum(1 for s in states.values() if s == "verified")
    title = "; ".join(f"{labels.fields[f]}: {labels.evidence[s]}" for f, s in states.items())
    return (
        "ev-verified" if n == len(stated) else "ev-declared",
        title,
        labels.verified % {"n": n, "total": len(stated)},
    )
