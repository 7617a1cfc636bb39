"""Staff overview: the pipeline, sectors, scores, intake and conversion of all leads, drawn as SVG.

Every figure is one aggregate query (GROUP BY or conditional sums) over the leads table: the page
reads a few dozen numbers, never the leads themselves, so it stays fast at 100,000 leads.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_skeleton
from flask import Blueprint, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import and_, case, func

from . import charts
from .extensions import db
from .i18n import SOURCE_LABELS, STATUS_LABELS, number, percent, sector_label
from .models import Lead, utcnow

bp = Blueprint("overview", __name__, url_prefix="/overview")
#: The pipeline in order; a lead at a stage has passed the ones before it. "dropped" stands apart.
PIPELINE = ("new", "contacted", "meeting", "proposal", "invested")
#: Stages that count as "advanced": the firm met the team or went further.
ADVANCED = ("meeting", "proposal", "invested")
SCORE_BINS = 10
WEEKS = 12
TOP_SECTORS = 8


@bp.before_request
@login_required
def require_login():
    """The overview needs a staff login."""


def _sum_if(condition):
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a count of matching rows inside one aggregate query."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def status_counts() -> dict[str, int]:
    """Leads per pipeline status."""
    rows = db.session.execute(db.select(Lead.status, func.count()).group_by(Lead.status))
    return {status: n for status, n in rows}


def funnel(counts: dict[str, int]) -> list[dict]:
    """Per pipeline stage: leads there now and leads that reached it (there now or at a later stage)."""
    out = []
    for i, status in enumerate(PIPELINE):
        out.append({"status": status, "now": counts.get(status, 0),
                    "reached": sum(counts.get(s, 0) for s in PIPELINE[i:])})
    return out


def sector_mix(limit: int = TOP_SECTORS) -> list[tuple[str | None, int]]:
    """(main sector, leads) for the ``limit`` largest sectors, then ``("*", n)`` for all other leads."""
    rows = db.session.execute(db.select(Lead.sector, func.count().label("n")).group_by(Lead.sector)
                              .order_by(func.count().desc(), Lead.sector)).all()
    top = [(sector, n) for sector, n in rows[:limit]]
    rest = sum(n for _sector, n in rows[limit:])
    return top + ([("*", rest)] if rest else [])


def score_histogram(bins: int = SCORE_BINS) -> tuple[list[int], int]:
    """Leads per score bin of width 100 / ``bins`` (the last bin includes 100), and unscored leads."""
    width = 100 / bins
    parts = [_sum_if(and_(Lead.score >= i * width, Lead.score < (i + 1) * width if i < bins - 1 else True))
             for i in range(bins)]
    row = db.session.execute(db.select(*parts, _sum_if(Lead.score.is_(None)))).one()
    return [int(n) for n in row[:bins]], int(row[bins])


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays starting the last ``weeks`` weeks, the current one last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def weekly_new(starts: list[date]) -> list[int]:
    """Leads created in each week starting at ``starts`` (UTC), from one range query."""
    bounds = [datetime(d.year, d.month, d.day) for d in starts] + [
        datetime(starts[-1].year, starts[-1].month, starts[-1].day) + timedelta(weeks=1)]
    parts = [_sum_if(and_(Lead.created_at >= lo, Lead.created_at < hi)) for lo, hi in zip(bounds, bounds[1:])]
    row = db.session.execute(db.select(*parts).where(Lead.created_at >= bounds[0])).one()
    return [int(n) for n in row]


def conversion_by_source() -> list[dict]:
    """Per source: leads, how many are at an advanced stage now, how many invested; largest source first."""
    rows = db.session.execute(
        db.select(Lead.source, func.count(), _sum_if(Lead.status.in_(ADVANCED)), _sum_if(Lead.status == "invested"))
        .group_by(Lead.source).order_by(func.count().desc(), Lead.source)).all()
    return [{"source": s, "total": int(n), "advanced": int(adv), "invested": int(inv)} for s, n, adv, inv in rows]


def headline(counts: dict[str, int], weekly: list[int]) -> dict:
    """The figures above the charts: leads, new this week, average score, invested."""
    average = db.session.execute(db.select(func.avg(Lead.score))).scalar()
    return {"total": sum(counts.values()), "this_week": weekly[-1] if weekly else 0,
            "average": float(average) if average is not None else None, "invested": counts.get("invested", 0)}


def _share(part: int, whole: int) -> str:
    return percent(part / whole) if whole else "—"


def funnel_chart(counts: dict[str, int]) -> dict:
    """The funnel as bars: leads that reached each stage, each bar linking to the leads there now."""
    stages = funnel(counts)
    first = stages[0]["reached"] if stages else 0
    rows = [{"label": _("%(stage)s (now %(n)s)", stage=STATUS_LABELS[s["status"]], n=number(s["now"], 0)),
             "value": s["reached"], "text": f"{number(s['reached'], 0)} ({_share(s['reached'], first)})",
             "href": url_for("leads.index", status=s["status"]), "kind": f"status-{s['status']}"}
            for s in stages]
    dropped = counts.get("dropped", 0)
    rows.append({"label": str(STATUS_LABELS["dropped"]), "value": dropped, "text": number(dropped, 0),
                 "href": url_for("leads.index", status="dropped"), "kind": "status-dropped"})
    return charts.bar_chart(rows)


def sector_chart(mix: list[tuple[str | None, int]]) -> dict:
    """The sector mix as bars (main sector of each lead), each linking to the leads of the sector."""
    total = sum(n for _s, n in mix)
    rows = []
    for sector, n in mix:
        label = _("other sectors") if sector == "*" else sector_label(sector)
        href = url_for("leads.index", sector=sector) if sector not in ("*", None) else None
        rows.append({"label": label, "value": n, "text": f"{number(n, 0)} ({_share(n, total)})", "href": href,
                     "kind": "sector"})
    return charts.bar_chart(rows)


def score_chart(bins: list[int]) -> dict:
    """The score distribution as columns of 10 points each."""
    width = 100 // len(bins)
    columns = [{"label": str(i * width), "value": n, "text": number(n, 0),
                "title": f"{i * width}–{(i + 1) * width}: {number(n, 0)}", "kind": "score"}
               for i, n in enumerate(bins)]
    return charts.column_chart(columns)


def weekly_chart(starts: list[date], counts: list[int]) -> dict:
    """New leads per week as columns, every third week labelled with its Monday's date."""
    locale = get_locale()
    columns = [{"label": format_skeleton("MMMd", d, locale=locale), "value": n, "text": number(n, 0),
                "title": f"{format_skeleton('yMMMd', d, locale=locale)}: {number(n, 0)}", "kind": "week"}
               for d, n in zip(starts, counts)]
    return charts.column_chart(columns, label_every=3)


def conversion_chart(rows: list[dict]) -> dict:
    """Per source, the share of its leads at an advanced stage and the share that invested."""
    bars = []
    for r in rows:
        source = str(SOURCE_LABELS.get(r["source"], r["source"]))
        total = number(r["total"], 0)
        for key, label in (("advanced", _("%(source)s (%(n)s): meeting or later", source=source, n=total)),
                           ("invested", _("%(source)s (%(n)s): invested", source=source, n=total))):
            bars.append({"label": label, "value": r[key] / r["total"] if r["total"] else 0,
                         "text": f"{_share(r[key], r['total'])} · {number(r[key], 0)}", "href": None, "kind": key})
    return charts.bar_chart(bars, full=1.0)  # shares against 100 %, not against the largest share


@bp.get("")
def index():
    """The overview page: headline figures and five charts of all leads."""
    counts = status_counts()
    starts = week_starts(utcnow().date())
    weekly = weekly_new(starts)
    bins, unscored = score_histogram()
    return render_template(
        "overview/index.html", head=headline(counts, weekly), unscored=unscored,
        funnel=funnel_chart(counts), sectors=sector_chart(sector_mix()), scores=score_chart(bins),
        weeks=weekly_chart(starts, weekly), conversion=conversion_chart(conversion_by_source()))
