"""What the lead list shows of each lead on a page, read as plain rows and worded once per request.

The page's template only prints these strings. Rendered in Jinja, each row cost two macro
calls, a dozen translated messages and label look-ups (each finding the request's locale and
the scorer's config again) and three number formats: about half a millisecond a row, 13 ms a
page of 25 at 100,000 leads, more than the page's SQL. Here the labels and message formats are
looked up once per language and weights version (:class:`Labels`), every number is formatted
once per value, and each row is made as HTML (:func:`rows`): 0.5 ms of CPU for 25 rows, where
worded rows printed by a Jinja loop (an output, an escape and three generator levels for each of
some 550 pieces) took 1.0 ms. The filter form's options and the sector facet links are made here
too, from parts built once per language and weights version.

The page reads rows of the columns it prints (:func:`select_rows`, with the assignee's name and
the stored rank joined), then the page's sectors and evidence in one query each: 1.4 ms of CPU
at 100,000 leads on PostgreSQL, where loading :class:`Lead` objects with their sectors, evidence
and rank through the ORM's loader options took 4.2 ms (the profile's long texts stay unread too).
"""

from __future__ import annotations

import operator
import re
from datetime import date
from types import SimpleNamespace
from typing import Any, NamedTuple

from flask import request, url_for
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Select, bindparam, cast, func, literal_column, null, select, union_all

from .appstate import app_state
from .dupfind import shares_a_key
from .extensions import one_of, read_rows
from .i18n import (
    EVIDENCE_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    band_label,
    current_lang,
    field_label,
    query_base,
    query_pair,
    query_url,
    query_urls,
    sector_label,
)
from .listing import ASCENDING, SORTS
from .models import COMMITMENTS, Evidence, Lead, LeadRank, LeadSector, RankState, SavedView, Task, User, stated
from .ranks import OVERVIEW_COLUMNS, STATE_ID, stored_from
from .scoring import get_config, weights_version

#: The columns of a lead the list reads: what it prints and sorts by (:mod:`web.keyset`: every sort column).
LIST_COLUMNS = tuple(
    getattr(Lead, c)
    for c in (
        *("id", "name", "city", "source", "sector", "score", "band", "completeness", "status", "created_at"),
        *("sort_score", *COMMITMENTS),
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
    assignee's name (``assignee``) and the stored rank (``rank_base``, ``rank_low``...) joined, and whether
    another lead shares a key with it (``duplicate``: :func:`web.dupfind.shares_a_key`)."""
    return (
        leads.with_only_columns(
            *LIST_COLUMNS,
            User.username.label("assignee"),
            *(getattr(LeadRank, c).label(f"rank_{c}") for c in RANK_FIELDS),
            shares_a_key().label("duplicate"),
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
        # a template's message: the translation as it is, not escaped
        self.duplicate = str(Markup(_("possible duplicate")))
        self.sector_html = {s: str(escape(label)) for s, label in self.sectors.items()}
        self.status_html = {k: str(escape(v)) for k, v in self.status.items()}
        # the filter form's options: (value, start of the option, its end), the label escaped as the template did
        self.sector_choices = [
            (s, f'<option value="{escape(s)}"', f">{escape(name)} (") for s, name in self.sectors.items()
        ]
        self.band_choices = [
            (b.name, f'<option value="{escape(b.name)}"', f">{escape(b.name)} · {escape(band_label(b.name))}</option>")
            for b in config.bands
        ]
        self.status_choices = _choices(self.status_options)
        self.source_choices = _choices(self.source_options)
        self.chips: dict[tuple, str] = {}  # evidence chips by the states of a lead's commitments (listview._evidence)
        self._numbers: dict[float, str] = {}
        self._percents: dict[float | None, str] = {}
        self._percents_html: dict[float | None, str] = {}

    def sector(self, sector: str | None) -> str:
        return self.sectors.get(sector, sector) if sector else "—"

    def number_html(self, value: float | None) -> str:
        """``value`` with one decimal as the language writes it (the ``number`` filter), escaped."""
        if value is None:
            return "—"
        if value not in self._numbers:
            self._numbers[value] = str(escape(format_decimal(value, format="#,##0.0")))
        return self._numbers[value]

    def percent(self, value: float | None) -> str:
        """A fraction as a whole percentage (the ``percent`` filter)."""
        if value not in self._percents:
            self._percents[value] = "—" if value is None else format_percent(value)
        return self._percents[value]

    def percent_html(self, value: float | None) -> str:
        """:meth:`percent`, escaped."""
        if value not in self._percents_html:
            self._percents_html[value] = str(escape(self.percent(value)))
        return self._percents_html[value]


def _choices(labels: dict[str, Markup]) -> list[tuple[str, str, str]]:
    """Options of ``labels`` (printed as they are) as :attr:`Labels.sector_choices` has them."""
    return [(k, f'<option value="{escape(k)}"', f">{label}</option>") for k, label in labels.items()]


def options(choices: list[tuple[str, str, str]], selected: str | None = None) -> Markup:
    """The ``<option>`` elements of ``choices`` (:class:`Labels`), the one of value ``selected`` selected."""
    return Markup("".join(f"{start}{' selected' if value == selected else ''}{end}" for value, start, end in choices))


def sector_options(labels: Labels, selected: str, facets: dict[str, int]) -> Markup:
    """The sector filter's options: each sector with its number of matching leads."""
    return Markup(
        "".join(
            f"{start}{' selected' if value == selected else ''}{end}{facets.get(value, 0)})</option>"
            for value, start, end in labels.sector_choices
        )
    )


def facet_links(labels: Labels, selected: str, facets: dict[str, int]) -> Markup:
    """The links of the sector facets, most leads first (ties in the facets' order), as the template wrote
    them (each link on a line of its own; the active one, with a blank line after it, removes the filter)."""
    ordered = sorted(facets.items(), key=operator.itemgetter(1), reverse=True)
    urls = query_urls("sector", (sector for sector, _n in ordered), page=None, after=None, before=None)
    out = []
    for (sector, n), url in zip(ordered, urls, strict=True):
        name = _html_of(labels.sector_html, sector)
        if sector == selected:
            url = escape(query_url(sector=None, page=None, after=None, before=None))
            out.append(
                f'\n  <a class="chip facet active" aria-current="true" href="{url}">{name} '
                f'<span class="facet-count">{n}</span> ×</a>\n  \n  '
            )
        else:
            out.append(
                f'\n  <a class="chip facet" href="{_esc(url)}">{name} <span class="facet-count">{n}</span></a>\n  '
            )
    return Markup("".join(out))


def sort_link_of(f: dict):
    """``sort_link(key, label)`` of the list's template: the heading of a column that sorts the list by ``key``
    (:mod:`web.listing`), for the filters ``f``. The active sort shows its direction and turns it; another
    starts in its own default direction. Its URL is ``query_url(sort=key, dir=..., page=None, after=None,
    before=None)``, the other arguments encoded once."""
    sort, direction = f.get("sort"), f.get("dir")
    path, base = query_base(drop=("page", "after", "before"))

    def sort_link(key: str, label: str) -> Markup:
        active = (sort or "score") == key
        default = "asc" if key in ASCENDING else "desc"
        current = (direction or default) if active else default
        next_dir = ("asc" if current == "desc" else "desc") if active else default
        pairs = {**base, "sort": _SORT_PAIRS.get(key) or query_pair("sort", key), "dir": _DIR_PAIRS[next_dir]}
        url = _esc(f"{path}?{'&'.join(pairs.values())}")
        # the line breaks the template's macro printed (one after each of its four set tags)
        if not active:
            return Markup(f'\n\n\n\n<a href="{url}" class="sort">{escape(label)}</a>')
        order, arrow = ("descending", "▼") if current == "desc" else ("ascending", "▲")
        return Markup(
            f'\n\n\n\n<a href="{url}" class="sort active" aria-sort="{order}">{escape(label)} '
            f'<span aria-hidden="true">{arrow}</span></a>'
        )

    return sort_link


_SORT_PAIRS = {key: query_pair("sort", key) for key in SORTS}
_DIR_PAIRS = {d: query_pair("dir", d) for d in ("asc", "desc")}


def _shell_query():
    """The lead list's header and toolbar in one statement (three cost 0.45 ms of CPU a page, one 0.15):
    the user's overdue follow-ups (part 0: ``n``), the active staff by username (part 1: ``id``, ``name``),
    the user's saved views by name (part 2: ``id``, ``name``, ``query``), and the row of the stored ranks'
    overview (part 3: :data:`web.ranks.OVERVIEW_COLUMNS`; a round trip to the database fewer). Built once
    per process; the user and the day are parameters. Each part's other columns are empty, typed (of two
    untyped empty columns, PostgreSQL makes text)."""
    shell = {"n": func.count(), "id": User.id, "name": User.username, "query": SavedView.query}
    ranked = {c.key: c for c in OVERVIEW_COLUMNS}

    def empty(columns: dict) -> list:
        return [cast(null(), c.type).label(name) for name, c in columns.items()]

    def part(n: int):
        return literal_column(str(n)).label("part")

    overdue = (
        select(part(0), shell["n"].label("n"), *empty({k: shell[k] for k in ("id", "name", "query")}), *empty(ranked))
        .select_from(Task)
        .where(Task.assignee_id == bindparam("user"), Task.done_at.is_(None), Task.due_on < bindparam("today"))
    )
    staff = select(
        part(1), *empty({"n": shell["n"]}), User.id, User.username, *empty({"query": shell["query"]}), *empty(ranked)
    ).where(User.active)
    views = select(
        part(2), *empty({"n": shell["n"]}), SavedView.id, SavedView.name, SavedView.query, *empty(ranked)
    ).where(SavedView.user_id == bindparam("user"))
    overview = select(part(3), *empty(shell), *ranked.values()).where(RankState.id == STATE_ID)
    return union_all(overdue, staff, views, overview).order_by(literal_column("part"), literal_column("name"))


_SHELL = _shell_query()


def list_shell() -> dict:
    """What the lead list shows around the leads for the logged-in user, read once per request
    (:func:`_shell_query`): ``overdue`` (a count), ``staff`` (rows of id and username), ``views`` (rows),
    ``ranks`` (the row :func:`web.ranks.overview` reads, None without one)."""
    environ = request.environ  # this request's (g can outlive it: an app context pushed around several)
    found = environ.get("matcher.list_shell")
    if found is None:
        found = {"overdue": 0, "staff": [], "views": [], "ranks": None}
        for row in read_rows(_SHELL, {"user": current_user.id, "today": date.today()}).all():
            if row.part == 0:
                found["overdue"] = row.n
            elif row.part == 3:
                found["ranks"] = row
            else:
                found["staff" if row.part == 1 else "views"].append(row)
        environ["matcher.list_shell"] = found
    return found


def _sectors_and_evidence():
    """The secondary sectors (part 0: by lead and sector) and the evidence rows (part 1: by id) of the leads
    ``ids``, in one statement built once per process (two cost a statement's CPU more)."""
    secondary = select(
        literal_column("0").label("part"),
        LeadSector.lead_id.label("lead_id"),
        LeadSector.sector.label("name"),
        null().label("status"),
        null().label("evidence_id"),
    ).where(one_of(LeadSector.lead_id, "ids"), ~LeadSector.main)
    backed = select(literal_column("1"), Evidence.lead_id, Evidence.field, Evidence.status, Evidence.id).where(
        one_of(Evidence.lead_id, "ids")
    )
    order = ("part", "evidence_id", "lead_id", "name")  # evidence_id: empty for every sector row
    return union_all(secondary, backed).order_by(*(literal_column(c) for c in order))


_SECTORS_AND_EVIDENCE = _sectors_and_evidence()


def plain(found: list) -> list[SimpleNamespace]:
    """The rows ``found`` (of :func:`select_rows`) as plain objects with the same attributes: the page reads
    each row thirty times (its wording), and an attribute of a SQLAlchemy row costs ten times
    one of a namespace."""
    if not found:
        return []
    fields = found[0]._fields
    return [SimpleNamespace(**dict(zip(fields, row, strict=True))) for row in found]


def current_labels() -> Labels:
    """The :class:`Labels` of the request's language and the current weights version."""
    return app_state().labels.get_or_build((current_lang(), weights_version()), Labels)


def rows(leads: list, first: int, info: dict[str, Any]) -> list[Markup]:
    """The printed rows of ``leads`` (rows of :func:`select_rows`; ``first``: position of the first in the
    list; ``info``: the :func:`web.ranks.overview` of the stored ranks), each the HTML of a table row."""
    ids = [lead.id for lead in leads]
    others: dict[int, list[str]] = {i: [] for i in ids}
    evidence: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for part, lead_id, name, status, _id in read_rows(_SECTORS_AND_EVIDENCE, {"ids": ids}).all():
            if part == 0:
                others[lead_id].append(name)
            else:  # the first row of a field, as Lead.evidence_of reads
                evidence[lead_id].setdefault(name, status)
    ranked = [lead for lead in leads if lead.rank_base is not None]  # None: no rank joined, not ranked yet
    robust = stored_from([(lead.id, Rank(*_rank_of(lead))) for lead in ranked], info)
    labels = current_labels()
    base = escape(url_for("leads.index"))
    out = []
    for position, lead in enumerate(leads, first):
        ev = evidence[lead.id]
        out.append(_row(lead, position, labels, base, robust.get(lead.id), lead.duplicate, others[lead.id], ev))
    return out


def _row(
    lead, position: int, labels: Labels, base: str, robust: dict | None, duplicate: bool, others: list, evidence: dict
) -> Markup:
    """One row of the list (the template prints the rows one after the other), every value escaped."""
    source = labels.source.get(lead.source, lead.source)
    url = f"{base}/{lead.id}"
    name = _esc(lead.name)
    place = _esc(f"{lead.city} · {source}" if lead.city and lead.source else (lead.city or source or ""))
    dup = f' <a class="chip dup" href="{url}#duplicates">{labels.duplicate}</a>' if duplicate else ""
    band = _esc(lead.band) if lead.band else ""
    band_chip = f'<span class="band">{band}</span>' if band else ""
    completeness = labels.percent_html(lead.completeness)
    meter = round((lead.completeness or 0) * 100, 1)
    status, status_label = _esc(lead.status), _html_of(labels.status_html, lead.status)
    select = _esc(labels.select % {"name": lead.name})
    return Markup(
        "\n  <tr>"
        f'\n    <td class="select-col"><input type="checkbox" name="ids" value="{lead.id}" form="bulk" '
        f'aria-label="{select}"></td>'
        f'\n    <td class="num muted">{position}</td>'
        f'\n    <td><a href="{url}" class="lead-name">{name}</a>{dup}<div class="muted small">{place}</div></td>'
        f"\n    <td>{_sector_html(lead.sector, labels)}{_others(others, labels)}</td>"
        f'\n    <td class="num"><span class="score-badge band-{band or "none"}">'
        f"<strong>{labels.number_html(lead.score)}</strong>{band_chip}</span></td>"
        f'\n    <td class="small nowrap robust">{_robust(robust, labels)}</td>'
        f'\n    <td class="small evidence-cell nowrap">{_evidence(lead, evidence, labels)}</td>'
        '\n    <td><svg class="meter" viewBox="0 0 100 8" width="100" height="8" role="img" '
        f'aria-label="{completeness}" xmlns="http://www.w3.org/2000/svg"><rect width="100" height="8" rx="4" '
        f'class="meter-track"/><rect width="{meter}" height="8" rx="4" class="meter-fill"/></svg> '
        f'<span class="small">{completeness}</span></td>'
        f'\n    <td><span class="status status-{status}">{status_label}</span></td>'
        f"\n    <td>{_esc(lead.assignee or '—')}</td>"
        f'\n    <td class="small muted nowrap">{lead.created_at.strftime("%Y-%m-%d")}</td>'
        "\n  </tr>\n  "
    )


#: A character markupsafe's escape replaces.
_SPECIAL = re.compile("[&<>'\"]")


def _esc(text: str) -> str:
    """``text`` escaped as markupsafe's escape does it, in a third of its time for the most frequent text that
    has nothing to escape."""
    return text if type(text) is str and not _SPECIAL.search(text) else str(escape(text))


def _sector_html(sector: str | None, labels: Labels) -> str:
    """:meth:`Labels.sector`, escaped."""
    return _html_of(labels.sector_html, sector) if sector else "—"


def _html_of(escaped: dict[str, str], key: str) -> str:
    """The escaped label of ``key``, else ``key`` escaped."""
    found = escaped.get(key)
    return _esc(key) if found is None else found


def _others(sectors: list[str], labels: Labels) -> str:
    """The lead's secondary sectors, if any."""
    if not sectors:
        return ""
    return f'<div class="muted small secondary-sectors">+ {", ".join(_sector_html(s, labels) for s in sectors)}</div>'


def _robust(r: dict | None, labels: Labels) -> str:
    if not r:
        return "—"
    top = _esc(labels.top % {"k": r["top_k"], "p": labels.percent(r["p_top_k"])})
    return f'{top}<div class="muted">{_esc(labels.ranks % {"low": r["low"], "high": r["high"]})}</div>'


def _evidence(lead, evidence: dict[str, str], labels: Labels) -> str:
    """The evidence chip: how many stated commitments staff verified, each one's state in the title
    (``evidence``: field -> status of the lead's evidence rows; "declared" where it has none). The same
    states make the same chip: kept with the labels."""
    states = tuple((f, evidence.get(f, "declared")) for f in stated(lead))
    chip = labels.chips.get(states)
    if chip is None:
        chip = labels.chips[states] = _chip(states, labels)
    return chip


def _chip(states: tuple[tuple[str, str], ...], labels: Labels) -> str:
    if not states:
        return '<span class="muted">—</span>'
    n = sum(1 for _f, s in states if s == "verified")
    title = "; ".join(f"{labels.fields[f]}: {labels.evidence[s]}" for f, s in states)
    kind = "ev-verified" if n == len(states) else "ev-declared"
    text = labels.verified % {"n": n, "total": len(states)}
    return f'<span class="chip {kind}" title="{_esc(title)}">{_esc(text)}</span>'
