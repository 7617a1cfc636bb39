"""Staff lead screening: ranked list with filters, export, lead page, pipeline, notes, report.

Edits of a lead (status, assignment, evidence) are optimistically locked: each form carries the
lead's ``row_version`` it was rendered with, and a save based on an older one is refused with
409 and the page showing the other person's change beside what this user entered.
"""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import Select, and_, bindparam, false, or_
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import listing, listview, ranks, services
from .dupfind import trail_ids
from .extensions import db
from .facets import sector_facets
from .forms import AssignForm, EvidenceForm, NoteForm, StatusForm, choices, flash_errors
from .i18n import EVIDENCE_LABELS, STATUS_LABELS, current_lang, field_label
from .inputs import int_arg
from .listing import ordering
from .models import COMMITMENTS, EVIDENCE, SOURCES, STATUSES, AuditLog, Evidence, Lead, LeadSector, User
from .search import like_patterns

bp = Blueprint("leads", __name__, url_prefix="/leads")
#: Audited actions that change a lead's own row (and so its row_version); notes do not.
LEAD_EDITS = ("lead.status", "lead.assign", "lead.evidence", "lead.edit", "lead.merge", "lead.anonymise")


@bp.before_request
@login_required
def require_login():
    """Every lead page needs a staff login."""


def filters_from(args) -> dict:
    """The list filters present in the query string, cleaned."""
    out = {k: (args.get(k) or "").strip() for k in ("sector", "band", "status", "q", "sort", "dir", "verified")}
    try:
        out["min_completeness"] = max(0.0, min(1.0, float(args.get("min_completeness") or 0) / 100))
    except ValueError:
        out["min_completeness"] = 0.0
    out.update(workspace_filters(args))
    return out


def workspace_filters(args) -> dict:
    """The filters of the team's workspace: a lead's source, and "mine" (assigned to whoever asks)."""
    source = (args.get("source") or "").strip()
    return {"source": source if source in SOURCES else "", "mine": "1" if args.get("mine") else ""}


def workspace_conditions(f: dict) -> list:
    """Conditions for :func:`workspace_filters`; "mine" with nobody logged in matches nothing."""
    conditions = [Lead.source == bindparam("f_source", f["source"])] if f.get("source") else []
    if f.get("mine"):
        user = g.get("api_user") or services.acting_user()
        conditions.append(Lead.assigned_to_id == bindparam("f_user", user.id) if user else false())
    return conditions


def filtered_query(f: dict) -> Select:
    """The SELECT of leads matching the filters, in the chosen order (score, best first, by default).

    Each value is a named parameter (``f_band``, ``f_q0``...; :func:`filter_params`), so that a page's
    statement built for one set of values serves any other of the same shape (:func:`list_statement`).
    """
    query = db.select(Lead).options(joinedload(Lead.assigned_to))  # a join on a key: no query of its own
    if f.get("sector"):
        query = query.where(sector_condition(f["sector"]))
    for key in ("band", "status"):
        if f.get(key):
            query = query.where(getattr(Lead, key) == bindparam(f"f_{key}", f[key]))
    query = query.where(*workspace_conditions(f))
    if f.get("verified"):
        query = query.where(*verified_only())
    if f.get("min_completeness"):
        query = query.where(Lead.completeness >= bindparam("f_min_completeness", f["min_completeness"] - 1e-9))
    if f.get("q"):
        query = query.where(*search_conditions(f["q"]))
    return query.order_by(*ordering(f))


def list_statement(kind: str, f: dict, build) -> listing.Statement:
    """The list's SELECT for the filters ``f`` as ``build(filtered_query(f))`` makes it (``kind`` names
    ``build``), built once per app and shape of filters: the values are parameters. A statement built
    anew for every page cost 0.7 ms of CPU more than one built once (building it, finding its cached
    compiled form, mapping that form's columns to its own)."""
    search = like_patterns(f["q"]) if f.get("q") else []
    nobody = bool(f.get("mine")) and (g.get("api_user") or services.acting_user()) is None
    shape = (kind, tuple(sorted(k for k, v in f.items() if v and k not in ("q", "dir", "sort"))), len(search), nobody)
    params = {f"f_{k}": f[k] for k in ("sector", "band", "status", "source") if f.get(k)}
    if f.get("min_completeness"):
        params["f_min_completeness"] = f["min_completeness"] - 1e-9
    if f.get("mine") and not nobody:
        params["f_user"] = (g.get("api_user") or services.acting_user()).id
    params.update({f"f_q{i}": pattern for i, pattern in enumerate(search)})
    return listing.Statement(shape, lambda: build(filtered_query(f)), params)


def search_conditions(q: str) -> list:
    """Conditions: every word of ``q`` occurs in the lead's searched fields, ignoring case and accents."""
    return [
        Lead.search_text.like(bindparam(f"f_q{i}", pattern), escape="\\") for i, pattern in enumerate(like_patterns(q))
    ]


def sector_condition(sector: str):
    """Condition: ``sector`` is among the lead's detected sectors (main or secondary)."""
    return (
        db.select(LeadSector.lead_id)
        .where(LeadSector.lead_id == Lead.id, LeadSector.sector == bindparam("f_sector", sector))
        .exists()
    )


def verified_only() -> list:
    """Conditions: the lead states at least one commitment, and staff verified every one it states."""

    def verified(field: str):
        return (
            db.select(Evidence.id)
            .where(Evidence.lead_id == Lead.id, Evidence.field == field, Evidence.status == "verified")
            .exists()
        )

    column = {f: getattr(Lead, f) for f in COMMITMENTS}
    states_one = or_(*(and_(column[f].is_not(None), column[f] != "") for f in COMMITMENTS))
    return [states_one, *(or_(column[f].is_(None), column[f] == "", verified(f)) for f in COMMITMENTS)]


@bp.get("")
def index():
    """The ranked, filterable, sortable lead list, a keyset page at a time (web/listing.py)."""
    from flask import current_app

    f = filters_from(request.args)
    # first: the overview of the ranks reads the largest lead id the page's total needs (listing.last_id); with
    # the header's figures, in one statement
    info = ranks.ensure(listview.list_shell()["ranks"])
    rows_of = list_statement("leads.rows", f, listview.select_rows)
    page = listing.paginate(rows_of, f, request.args, _per_page(), lambda: filtered_query(f))
    items = listview.plain(page.items)
    rows = listview.rows(items, page.first, info)
    labels = listview.current_labels()  # looked up once per language and weights version
    facets = sector_facets(f, filtered_query)
    return render_template(
        "leads/index.html",
        page=page,
        rows=rows,
        f=f,
        facets=facets,
        options={  # the filter form's and the bulk bar's <option>s (web/listview.py)
            "sector": listview.sector_options(labels, f["sector"], facets),
            "band": listview.options(labels.band_choices, f["band"]),
            "status": listview.options(labels.status_choices, f["status"]),
            "source": listview.options(labels.source_choices, f["source"]),
            "bulk_status": listview.options(labels.status_choices),
        },
        facet_links=listview.facet_links(labels, f["sector"], facets) if facets else "",
        sort_link=listview.sort_link_of(f),
        ranks_info=info,
        count_seconds=int(current_app.config.get("LEADS_COUNT_SECONDS", listing.COUNT_SECONDS)),
    )


def _per_page() -> int:
    from flask import current_app

    return int_arg("per_page", current_app.config["LEADS_PER_PAGE"], 1, 200)


@bp.get("/export.csv")
def export():
    """The current filtered list as CSV, with the columns of ``matcher score``."""
    query = filtered_query(filters_from(request.args)).options(selectinload(Lead.assessments))
    leads = db.session.execute(query).scalars().all()
    out = io.StringIO()
    services.write_csv(out, [services.export_header(), *services.export_rows(leads)])
    services.audit("lead.export", None, rows=len(leads), filters=request.args.to_dict())
    db.session.commit()
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=leads.csv"},
    )


def get_lead(lead_id: int) -> Lead:
    """The lead or a 404 (also for a number beyond 32 bits, which PostgreSQL would refuse as an id)."""
    if lead_id >= 2**31:
        abort(404, _("No lead with this number."))
    return db.get_or_404(Lead, lead_id, description=_("No lead with this number."))


def staff_choices() -> list[tuple[int, str]]:
    """Staff members a lead can be assigned to (0 = nobody)."""
    users = db.session.execute(db.select(User).where(User.active).order_by(User.username)).scalars()
    return [(0, "—"), *[(u.id, u.username) for u in users]]


def _forms(lead: Lead):
    status = StatusForm(prefix="status", data={"status": lead.status})
    status.status.choices = choices((s, str(STATUS_LABELS[s])) for s in STATUSES)
    assign = AssignForm(prefix="assign", data={"assignee": lead.assigned_to_id or 0})
    assign.assignee.choices = choices(staff_choices())
    return status, assign, NoteForm(prefix="note")


@bp.get("/<int:lead_id>")
def detail(lead_id: int):
    """A lead's full breakdown, score history, notes, pipeline, assignment and audit trail."""
    return _render_detail(get_lead(lead_id))


def _render_detail(
    lead: Lead,
    conflict: dict | None = None,
    status_form=None,
    assign_form=None,
    evidence: dict[str, EvidenceForm] | None = None,
):
    """The lead page; after a refused edit, ``conflict`` says why and the edited form keeps what was entered."""
    status, assign, note = _forms(lead)
    trail = (
        db.session.execute(
            db.select(AuditLog)
            .where(  # with the trails of leads merged into this one
                AuditLog.object_type == "lead", AuditLog.object_id.in_(trail_ids(lead))
            )
            .order_by(AuditLog.id.desc())
        )
        .scalars()
        .all()
    )
    shown = lead.latest.shown_in(current_lang()) if lead.latest else None
    return render_template(
        "leads/detail.html",
        lead=lead,
        a=lead.latest,
        shown=shown,
        status_form=status_form or status,
        assign_form=assign_form or assign,
        note_form=note,
        trail=trail,
        robust=ranks.stored_for([lead]).get(lead.id),
        evidence_forms=_evidence_forms(lead, evidence or {}),
        conflict=conflict,
    )


def _evidence_forms(lead: Lead, entered: dict[str, EvidenceForm]) -> list[tuple[str, EvidenceForm]]:
    """One form per commitment the lead states, showing its current evidence (or what was just entered)."""
    out = []
    for field in COMMITMENTS:
        if getattr(lead, field):
            row = next((e for e in lead.evidence if e.field == field), None)
            form = entered.get(field) or EvidenceForm(
                prefix=f"ev-{field}", data={"status": lead.evidence_of(field), "note": row.note if row else ""}
            )
            form.status.choices = choices((s, str(EVIDENCE_LABELS[s])) for s in EVIDENCE)
            out.append((field, form))
    return out


def is_stale(lead: Lead) -> bool:
    """Whether the posted form was rendered from an older version of the lead than the stored one.

    A form without ``row_version`` (an older client) is not checked here; the database still
    refuses a save that races with another one (:class:`StaleDataError`).
    """
    sent = request.form.get("row_version", type=int)
    return sent is not None and sent != lead.row_version


def last_change(lead: Lead) -> str:
    """Who changed the lead last and when, as "by NAME at TIME UTC" (the name when the audit log knows it)."""
    entry = db.session.execute(
        db.select(AuditLog)
        .where(AuditLog.object_type == "lead", AuditLog.object_id == lead.id, AuditLog.action.in_(LEAD_EDITS))
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    when = lead.updated_at.strftime("%Y-%m-%d %H:%M:%S")
    # the entry is only the last change if it was written with it (a re-score changes leads unaudited)
    if entry is not None and entry.user is not None and abs(entry.created_at - lead.updated_at) < timedelta(seconds=30):
        return _("by %(user)s at %(time)s UTC", user=entry.user.username, time=when)
    return _("at %(time)s UTC", time=when)


def refuse(lead_id: int, entered: list[tuple[str, str]], **forms):
    """The lead page with HTTP 409: someone else saved first; nothing of this edit was stored.

    The page shows the lead as stored now (and so carries its new ``row_version``: saving the
    kept input again applies it over the other change, knowingly).
    """
    db.session.rollback()  # drop this request's changes; the lead is read again as stored now
    lead = get_lead(lead_id)
    message = _(
        "Someone else changed this lead since you opened it (%(change)s). Your change was not saved. "
        "The page now shows their version; what you entered is kept in the form below: check it and "
        "save again if it still applies.",
        change=last_change(lead),
    )
    return _render_detail(lead, conflict={"message": message, "entered": entered}, **forms), 409


def commit_or_refuse(lead_id: int, entered: list[tuple[str, str]], **forms):
    """Commit the edit of a lead: ``None`` when saved, else (another save won the race) the 409 page."""
    try:
        db.session.commit()
    except StaleDataError:
        return refuse(lead_id, entered, **forms)
    return None


@bp.post("/<int:lead_id>/evidence/<field>")
def set_evidence(lead_id: int, field: str):
    """Set how one commitment of the lead is backed (declared, verified, estimated), with a note."""
    lead = get_lead(lead_id)
    if field not in COMMITMENTS or not getattr(lead, field):
        abort(404)
    form = EvidenceForm(prefix=f"ev-{field}")
    form.status.choices = choices((s, str(EVIDENCE_LABELS[s])) for s in EVIDENCE)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("leads.detail", lead_id=lead.id) + "#evidence")
    entered = [(field_label(field), f"{EVIDENCE_LABELS[form.status.data]} · {form.note.data}")]
    if is_stale(lead):
        return refuse(lead_id, entered, evidence={field: form})
    services.set_evidence(lead, field, form.status.data, form.note.data)
    refused = commit_or_refuse(lead_id, entered, evidence={field: form})
    if refused:
        return refused
    flash(
        _(
            "Evidence saved: %(field)s is %(status)s.",
            field=field_label(field),
            status=EVIDENCE_LABELS[form.status.data],
        ),
        "success",
    )
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#evidence")


@bp.post("/<int:lead_id>/status")
def change_status(lead_id: int):
    """Move the lead in the pipeline."""
    lead = get_lead(lead_id)
    form, _assign, _note = _forms(lead)
    form.process(request.form)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("leads.detail", lead_id=lead.id))
    entered = [(_("Status"), str(STATUS_LABELS[form.status.data]))]
    if is_stale(lead):
        return refuse(lead_id, entered, status_form=form)
    if services.set_status(lead, form.status.data):
        refused = commit_or_refuse(lead_id, entered, status_form=form)
        if refused:
            return refused
        flash(_("Status changed to %(status)s.", status=STATUS_LABELS[lead.status]), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/assign")
def change_assignee(lead_id: int):
    """Assign the lead to a staff member."""
    lead = get_lead(lead_id)
    _status, form, _note = _forms(lead)
    form.process(request.form)
    if not form.validate_on_submit():
        flash_errors(form)
        return redirect(url_for("leads.detail", lead_id=lead.id))
    user = db.session.get(User, form.assignee.data) if form.assignee.data else None
    entered = [(_("Assigned to"), user.username if user else "—")]
    if is_stale(lead):
        return refuse(lead_id, entered, assign_form=form)
    if services.assign(lead, user):
        refused = commit_or_refuse(lead_id, entered, assign_form=form)
        if refused:
            return refused
        flash(_("Assignment saved."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/notes")
def add_note(lead_id: int):
    """Add a note to the lead."""
    lead = get_lead(lead_id)
    form = NoteForm(prefix="note")
    if form.validate_on_submit():
        services.add_note(lead, form.body.data)
        db.session.commit()
        flash(_("Note added."), "success")
    else:
        flash_errors(form)
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#notes")


@bp.get("/<int:lead_id>/report")
def report(lead_id: int):
    """A printable one-page fit report."""
    lead = get_lead(lead_id)
    if lead.latest is None:
        abort(404)
    return render_template("leads/report.html", lead=lead, a=lead.latest, shown=lead.latest.shown_in(current_lang()))
