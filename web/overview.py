"""Staff overview: the pipeline, sectors, scores, intake and conversion of all leads, drawn as SVG.

The figures come from three aggregate queries over the leads table (two GROUP BYs and one pass of
conditional sums): the page reads a few dozen numbers, never the leads themselves, and reads them
again only when a lead was added, changed or deleted (:func:`figures`), so it stays fast at 100,000
leads (``bench/bench_overview.py``).
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
from .appstate import app_state
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


def pipeline_counts() -> dict[tuple[str, str], int]:
    """Leads per (source, status): one GROUP BY that both the funnel and the conversion are read from."""
    rows = db.session.execute(db.select(Lead.source, Lead.status, func.count()).group_by(Lead.source, Lead.status))
    return {(source, status): int(n) for source, status, n in rows}


def status_counts(pairs: dict[tuple[str, str], int]) -> dict[str, int]:
    """Leads per pipeline status."""
    out: dict[str, int] = {}
    for (_source, status), n in pairs.items():
        out[status] = out.get(status, 0) + n
    return out


def funnel(counts: dict[str, int]) -> list[dict]:
    """Per pipeline stage: leads there now and leads that reached it (there now or at a later stage)."""
    out = []
    for i, status in enumerate(PIPELINE):
        out.append(
            {"status": status, "now": counts.get(status, 0), "reached": sum(counts.get(s, 0) for s in PIPELINE[i:])}
        )
    return out


def conversion_by_source(pairs: dict[tuple[str, str], int]) -> list[dict]:
    """Per source: leads, how many are at an advanced stage now, how many invested; largest source first."""
    out: dict[str, dict] = {}
    for (source, status), n in pairs.items():
        row = out.setdefault(source, {"source": source, "total": 0, "advanced": 0, "invested": 0})
        row["total"] += n
        row["advanced"] += n if status in ADVANCED else 0
        row["invested"] += n if status == "invested" else 0
    return sorted(out.values(), key=lambda r: (-r["total"], r["source"]))


def sector_mix(limit: int = TOP_SECTORS) -> list[tuple[str | None, int]]:
    """(main sector, leads) for the ``limit`` largest sectors, then ``("*", n)`` for all other leads."""
    rows = db.session.execute(
        db.select(Lead.sector, func.count().label("n")).group_by(Lead.sector).order_by(func.count().desc(), Lead.sector)
    ).all()
    top = [(sector, n) for sector, n in rows[:limit]]
    rest = sum(n for _sector, n in rows[limit:])
    return top + ([("*", rest)] if rest else [])


def week_starts(today: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays starting the last ``weeks`` weeks, the current one last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def scores_and_intake(starts: list[date], bins: int = SCORE_BINS) -> dict:
    """In one pass over the leads: leads per score bin of width 100 / ``bins`` (the last one includes 100),
    unscored leads, the average score, and leads created in each week starting at ``starts`` (UTC)."""
    width = 100 / bins
    score_parts = [
        _sum_if(and_(Lead.score >= i * width, Lead.score < (i + 1) * width if i < bins - 1 else True))
        for i in range(bins)
    ]
    bounds = [datetime(d.year, d.month, d.day) for d in starts]
    bounds.append(bounds[-1] + timedelta(weeks=1))
    week_parts = [
        _sum_if(and_(Lead.created_at >= lo, Lead.created_at < hi)) for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    row = db.session.execute(
        db.select(*score_parts, _sum_if(Lead.score.is_(None)), func.avg(Lead.score), *week_parts)
    ).one()
    return {
        "bins": [int(n) for n in row[:bins]],
        "unscored": int(row[bins]),
        "average": None if row[bins + 1] is None else float(row[bins + 1]),
        "weekly": [int(n) for n in row[bins + 2 :]],
    }


def headline(counts: dict[str, int], figures: dict) -> dict:
    """The figures above the charts: leads, new this week, average score, invested."""
    return {
        "total": sum(counts.values()),
        "this_week": figures["weekly"][-1],
        "average": figures["average"],
        "invested": counts.get("invested", 0),
    }


def _share(part: int, whole: int) -> str:
    return percent(part / whole) if whole else "—"


def funnel_chart(counts: dict[str, int]) -> dict:
    """The funnel as bars: leads that reached each stage, each bar linking to the leads there now."""
    stages = funnel(counts)
    first = stages[0]["reached"] if stages else 0
    rows = [
        {
            "label": _("%(stage)s (now %(n)s)", stage=STATUS_LABELS[s["status"]], n=number(s["now"], 0)),
            "value": s["reached"],
            "text": f"{number(s['reached'], 0)} ({_share(s['reached'], first)})",
            "href": url_for("leads.index", status=s["status"]),
            "kind": f"status-{s['status']}",
        }
        for s in stages
    ]
    dropped = counts.get("dropped", 0)
    rows.append(
        {
            "label": str(STATUS_LABELS["dropped"]),
            "value": dropped,
            "text": number(dropped, 0),
            "href": url_for("leads.index", status="dropped"),
            "kind": "status-dropped",
        }
    )
    return charts.bar_chart(rows)


def sector_chart(mix: list[tuple[str | None, int]]) -> dict:
    """The sector mix as bars (main sector of each lead), each linking to the leads of the sector."""
    total = sum(n for _s, n in mix)
    rows = []
    for sector, n in mix:
        label = _("other sectors") if sector == "*" else sector_label(sector)
        href = url_for("leads.index", sector=sector) if sector not in ("*", None) else None
        rows.append(
            {"label": label, "value": n, "text": f"{number(n, 0)} ({_share(n, total)})", "href": href, "kind": "sector"}
        )
    return charts.bar_chart(rows)


def score_chart(bins: list[int]) -> dict:
    """The score distribution as columns of 10 points each."""
    width = 100 // len(bins)
    columns = [
        {
            "label": str(i * width),
            "value": n,
            "text": number(n, 0),
            "title": f"{i * width}–{(i + 1) * width}: {number(n, 0)}",
            "kind": "score",
        }
        for i, n in enumerate(bins)
    ]
    return charts.column_chart(columns)


def weekly_chart(starts: list[date], counts: list[int]) -> dict:
    """New leads per week as columns, every third week (this one included) labelled with its Monday's date."""
    locale = get_locale()
    columns = [
        {
            "label": format_skeleton("MMMd", d, locale=locale),
            "value": n,
            "text": number(n, 0),
            "title": f"{format_skeleton('yMMMd', d, locale=locale)}: {number(n, 0)}",
            "kind": "week",
        }
        for d, n in zip(starts, counts, strict=True)
    ]
    return charts.column_chart(columns, label_every=3)


def conversion_chart(rows: list[dict]) -> dict:
    """Per source, the share of its leads at an advanced stage and the share that invested."""
    bars = []
    for r in rows:
        source = str(SOURCE_LABELS.get(r["source"], r["source"]))
        total = number(r["total"], 0)
        for key, label in (
            ("advanced", _("%(source)s (%(n)s): meeting or later", source=source, n=total)),
            ("invested", _("%(source)s (%(n)s): invested", source=source, n=total)),
        ):
            bars.append(
                {
                    "label": label,
                    "value": r[key] / r["total"] if r["total"] else 0,
                    "text": f"{_share(r[key], r['total'])} · {number(r[key], 0)}",
                    "href": None,
                    "kind": key,
                }
            )
    return charts.bar_chart(bars, full=1.0)  # shares against 100 %, not against the largest share


def figures(starts: list[date]) -> dict:
    """The numbers behind the page, read again only when the leads changed (or a new week began).

    A change is seen by one cheap query: how many leads there are, the newest id and the latest
    ``updated_at`` (every ORM or Core update bumps it). The numbers are kept per app (the app's state,
    ``figures``: one entry), so several processes each keep their own and none serves another database's
    figures.
    """
    signature = tuple(db.session.execute(db.select(func.count(), func.max(Lead.id), func.max(Lead.updated_at))).one())
    key = (signature, starts[-1])
    kept = app_state().figures.get(key)
    if kept is not None:
        return kept
    pairs = pipeline_counts()
    return app_state().figures.put(key, {"pairs": pairs, "sectors": sector_mix(), **scores_and_intake(starts)})


@bp.get("")
def index():
    """The overview page: headline figures and five charts of all leads, from aggregate queries."""
    starts = week_starts(utcnow().date())
    found = figures(starts)
    counts = status_counts(found["pairs"])
    return render_template(
        "overview/index.html",
        head=headline(counts, found),
        unscored=found["unscored"],
        funnel=funnel_chart(counts),
        sectors=sector_chart(found["sectors"]),
        scores=score_chart(found["bins"]),
        weeks=weekly_chart(starts, found["weekly"]),
        conversion=conversion_chart(conversion_by_source(found["pairs"])),
    )
