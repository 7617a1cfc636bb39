"""What the lead list shows of each lead on a page, read as plain rows and worded once per request.

The page's template only prints these strings. Rendered in Jinja, each row cost two macro
calls, a dozen translated messages and label look-ups (each finding the request's locale and
the scorer's config again) and three number formats: about half a millisecond a row, 13 ms a
page of 25 at 100,000 leads, more than the page's SQL. Here the labels and message formats are
looked up once per request (:class:`Labels`) and every number is formatted once per value.

The page reads rows of the columns it prints (:func:`select_rows`, with the assignee's name and
the stored rank joined), then the page's sectors and evidence in one query each: 1.4 ms of CPU
at 100,000 leads on PostgreSQL, where loading :class:`Lead` objects with their sectors, evidence
and rank through the ORM's loader options took 4.2 ms (the profile's long texts stay unread too).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple

from flask import url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Select, bindparam, literal_column, null, select, union_all

from .appstate import app_state
from .extensions import read_rows
from .i18n import EVIDENCE_LABELS, SOURCE_LABELS, STATUS_LABELS, current_lang, field_label, sector_label
from .models import COMMITMENTS, Evidence, Lead, LeadRank, LeadSector, User, stated
from .ranks import stored_from
from .scoring import get_config, weights_version

#: The columns of a lead the list reads: what it prints, sorts by (:mod:`web.keyset`: every sort column)
#: and finds duplicates by (:mod:`web.dupfind`).
LIST_COLUMNS = tuple(
    getattr(Lead, c)
    for c in (
        *("id", "name", "city", "source", "sector", "score", "band", "completeness", "status", "created_at"),
        *("sort_score", "name_key", "inn", "ogrn", "web_domain", "mail_domain", *COMMITMENTS),
    )
)
RANK_FIELDS = ("base", "low", "median", "high", "p_top_k", "as_of")
_rank_of = operator.attrgetter(*(f"rank_{c}" for c in RANK_FIELDS))  # a row's stored rank, in RANK_FIELDS order


class Rank(NamedTuple):
    """A lead's stored rank as the list reads it (the columns of :class:`LeadRank` it shows)."""

    base: int
    low: int
    median: int
    high: int
    p_top_k: float
    as_of: Any


def select_rows(leads: Select) -> Select:
    """The rows of the list's columns for the leads ``leads`` selects (its filters and order kept), with the
    assignee's name (``assignee``) and the stored rank (``rank_base``, ``rank_low``...) joined."""
    return (
        leads.with_only_columns(
            *LIST_COLUMNS,
            User.username.label("assignee"),
            *(getattr(LeadRank, c).label(f"rank_{c}") for c in RANK_FIELDS),
            maintain_column_froms=True,
        )
        .outerjoin(User, User.id == Lead.assigned_to_id)
        .outerjoin(LeadRank, LeadRank.lead_id == Lead.id)
    )


class Labels:
    """The list's labels and message formats in the request's language, each looked up once per language
    and weights version (kept in the app's state: built in 0.6 ms, a tenth of a page), with the numbers
    they formatted."""

    def __init__(self) -> None:
        config = get_config()
        self.sectors = {s: sector_label(s) for s in config.sector_ids}
        self.status = {k: str(v) for k, v in STATUS_LABELS.items()}
        self.source = {k: str(v) for k, v in SOURCE_LABELS.items()}
        self.evidence = {k: str(v) for k, v in EVIDENCE_LABELS.items()}
        self.fields = {f: field_label(f) for f in COMMITMENTS}
        # the filter form's options, printed as the lazy labels print themselves (as they are, not escaped)
        self.status_options = {k: Markup(v) for k, v in self.status.items()}
        self.source_options = {k: Markup(v) for k, v in self.source.items()}
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


def _sectors_and_evidence():
    """The secondary sectors (part 0: by lead and sector) and the evidence rows (part 1: by id) of the leads
    ``ids``, in one statement built once per process (two cost a statement's CPU more)."""
    ids = bindparam("ids", expanding=True)
    secondary = select(
        literal_column("0").label("part"),
        LeadSector.lead_id.label("lead_id"),
        LeadSector.sector.label("name"),
        null().label("status"),
        null().label("evidence_id"),
    ).where(LeadSector.lead_id.in_(ids), ~LeadSector.main)
    backed = select(literal_column("1"), Evidence.lead_id, Evidence.field, Evidence.status, Evidence.id).where(
        Evidence.lead_id.in_(ids)
    )
    order = ("part", "evidence_id", "lead_id", "name")  # evidence_id: empty for every sector row
    return union_all(secondary, backed).order_by(*(literal_column(c) for c in order))


_SECTORS_AND_EVIDENCE = _sectors_and_evidence()


def plain(found: list) -> list[SimpleNamespace]:
    """The rows ``found`` (of :func:`select_rows`) as plain objects with the same attributes: the page reads
    each row thirty times (its wording, its duplicates), and an attribute of a SQLAlchemy row costs ten times
    one of a namespace."""
    return [SimpleNamespace(**row._asdict()) for row in found]


def current_labels() -> Labels:
    """The :class:`Labels` of the request's language and the current weights version."""
    return app_state().labels.get_or_build((current_lang(), weights_version()), Labels)


def rows(leads: list, first: int, info: dict[str, Any], duplicates: set[int]) -> list[Row]:
    """The printed rows of ``leads`` (rows of :func:`select_rows`; ``first``: position of the first in the
    list; ``info``: the :func:`web.ranks.overview` of the stored ranks)."""
    ids = [lead.id for lead in leads]
    others: dict[int, list[str]] = {i: [] for i in ids}
    evidence: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for part, lead_id, name, status, _id in read_rows(_SECTORS_AND_EVIDENCE, {"ids": ids}):
            if part == 0:
                others[lead_id].append(name)
            else:  # the first row of a field, as Lead.evidence_of reads
                evidence[lead_id].setdefault(name, status)
    ranked = [lead for lead in leads if lead.rank_base is not None]  # None: no rank joined, not ranked yet
    robust = stored_from([(lead.id, Rank(*_rank_of(lead))) for lead in ranked], info)
    labels = current_labels()
    base = url_for("leads.index")
    out = []
    for position, lead in enumerate(leads, first):
        dup, ev = lead.id in duplicates, evidence[lead.id]
        out.append(_row(lead, position, labels, base, robust.get(lead.id), dup, others[lead.id], ev))
    return out


def _row(
    lead, position: int, labels: Labels, base: str, robust: dict | None, duplicate: bool, others: list, evidence: dict
) -> Row:
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
        others=", ".join(labels.sector(s) for s in others),
        score=labels.number(lead.score),
        band=lead.band,
        robust=_robust(robust, labels),
        evidence=_evidence(lead, evidence, labels),
        completeness=labels.percent(lead.completeness),
        meter=round((lead.completeness or 0) * 100, 1),
        status=lead.status,
        status_label=labels.status.get(lead.status, lead.status),
        assignee=lead.assignee or "—",
        added=lead.created_at.strftime("%Y-%m-%d"),
    )


def _robust(r: dict | None, labels: Labels) -> tuple[str, str] | None:
    if not r:
        return None
    return (
        labels.top % {"k": r["top_k"], "p": labels.percent(r["p_top_k"])},
        labels.ranks % {"low": r["low"], "high": r["high"]},
    )


def _evidence(lead, evidence: dict[str, str], labels: Labels) -> tuple[str, str, str] | None:
    """The evidence chip: how many stated commitments staff verified, each one's state in the title
    (``evidence``: field -> status of the lead's evidence rows; "declared" where it has none)."""
    states = {f: evidence.get(f, "declared") for f in stated(lead)}
    if not states:
        return None
    n = sum(1 for s in states.values() if s == "verified")
    title = "; ".join(f"{labels.fields[f]}: {labels.evidence[s]}" for f, s in states.items())
    return (
        "ev-verified" if n == len(states) else "ev-declared",
        title,
        labels.verified % {"n": n, "total": len(states)},
    )
