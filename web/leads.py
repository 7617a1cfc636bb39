"""Staff lead screening: ranked list with filters, export, lead page, pipeline, notes, report."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import Select, or_
from sqlalchemy.orm import selectinload

from . import ranking, services
from .extensions import db
from .forms import AssignForm, EvidenceForm, NoteForm, StatusForm, choices, flash_errors
from .i18n import EVIDENCE_LABELS, STATUS_LABELS, current_lang, field_label
from .models import COMMITMENTS, EVIDENCE, STATUSES, AuditLog, Evidence, Lead, User
from .scoring import get_config

bp = Blueprint("leads", __name__, url_prefix="/leads")
SORTS = {"score": Lead.score, "name": Lead.name, "completeness": Lead.completeness, "status": Lead.status,
         "created": Lead.created_at, "sector": Lead.sector, "band": Lead.band}


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
    return out


def filtered_query(f: dict) -> Select:
    """The SELECT of leads matching the filters, in the chosen order (score, best first, by default)."""
    query = db.select(Lead).options(selectinload(Lead.assigned_to))
    for key in ("sector", "band", "status"):
        if f.get(key):
            query = query.where(getattr(Lead, key) == f[key])
    if f.get("verified"):
        query = query.where(*verified_only())
    if f.get("min_completeness"):
        query = query.where(Lead.completeness >= f["min_completeness"] - 1e-9)
    if f.get("q"):
        pattern = "%" + f["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            Lead.name, Lead.description, Lead.okved, Lead.city, Lead.contact_email, Lead.ext_id))))
    column = SORTS.get(f.get("sort") or "score", Lead.score)
    descending = (f.get("dir") or ("asc" if column in (Lead.name, Lead.sector, Lead.status) else "desc")) == "desc"
    order = column.desc() if descending else column.asc()
    if db.engine.dialect.name == "postgresql":
        order = order.nulls_last()
    return query.order_by(order, Lead.id.desc())


def verified_only() -> list:
    """Conditions: every commitment the lead states is verified by staff."""
    def verified(field: str):
        return db.select(Evidence.id).where(Evidence.lead_id == Lead.id, Evidence.field == field,
                                            Evidence.status == "verified").exists()

    column = {f: getattr(Lead, f) for f in COMMITMENTS}
    return [or_(column[f].is_(None), column[f] == "", verified(f)) for f in COMMITMENTS]


@bp.get("")
def index():
    """The ranked, filterable, sortable, paginated lead list."""
    f = filters_from(request.args)
    query = filtered_query(f).options(selectinload(Lead.evidence))
    page = db.paginate(query, per_page=_per_page(), max_per_page=200, error_out=False)
    config = get_config()
    return render_template("leads/index.html", page=page, f=f, statuses=STATUSES, config_sectors=config.sector_ids,
                           config_bands=[b.name for b in config.bands], robust=ranking.robustness())


def _per_page() -> int:
    from flask import current_app

    return request.args.get("per_page", current_app.config["LEADS_PER_PAGE"], type=int)


@bp.get("/export.csv")
def export():
    """The current filtered list as CSV, with the columns of ``matcher score``."""
    query = filtered_query(filters_from(request.args)).options(selectinload(Lead.assessments))
    leads = db.session.execute(query).scalars().all()
    out = io.StringIO()
    services.write_csv(out, [services.export_header(), *services.export_rows(leads)])
    services.audit("lead.export", None, rows=len(leads), filters=request.args.to_dict())
    db.session.commit()
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=leads.csv"})


def get_lead(lead_id: int) -> Lead:
    """The lead or a 404."""
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
    lead = get_lead(lead_id)
    status, assign, note = _forms(lead)
    trail = db.session.execute(db.select(AuditLog).where(
        AuditLog.object_type == "lead", AuditLog.object_id == lead.id).order_by(AuditLog.id.desc())).scalars().all()
    shown = lead.latest.shown_in(current_lang()) if lead.latest else None
    return render_template("leads/detail.html", lead=lead, a=lead.latest, shown=shown, status_form=status,
                           assign_form=assign, note_form=note, trail=trail, robust=ranking.robustness().get(lead.id),
                           evidence_forms=_evidence_forms(lead))


def _evidence_forms(lead: Lead) -> list[tuple[str, EvidenceForm]]:
    """One form per commitment the lead states, showing its current evidence."""
    out = []
    for field in COMMITMENTS:
        if getattr(lead, field):
            row = next((e for e in lead.evidence if e.field == field), None)
            form = EvidenceForm(prefix=f"ev-{field}", data={"status": lead.evidence_of(field),
                                                             "note": row.note if row else ""})
            form.status.choices = choices((s, str(EVIDENCE_LABELS[s])) for s in EVIDENCE)
            out.append((field, form))
    return out


@bp.post("/<int:lead_id>/evidence/<field>")
def set_evidence(lead_id: int, field: str):
    """Set how one commitment of the lead is backed (declared, verified, estimated), with a note."""
    lead = get_lead(lead_id)
    if field not in COMMITMENTS or not getattr(lead, field):
        abort(404)
    form = EvidenceForm(prefix=f"ev-{field}")
    if form.validate_on_submit():
        services.set_evidence(lead, field, form.status.data, form.note.data)
        db.session.commit()
        flash(_("Evidence saved: %(field)s is %(status)s.", field=field_label(field),
                status=EVIDENCE_LABELS[form.status.data]), "success")
    else:
        flash_errors(form)
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#evidence")


@bp.post("/<int:lead_id>/status")
def change_status(lead_id: int):
    """Move the lead in the pipeline."""
    lead = get_lead(lead_id)
    form, _assign, _note = _forms(lead)
    form.process(request.form)
    if form.validate_on_submit() and services.set_status(lead, form.status.data):
        db.session.commit()
        flash(_("Status changed to %(status)s.", status=STATUS_LABELS[lead.status]), "success")
    elif form.errors:
        flash_errors(form)
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/assign")
def change_assignee(lead_id: int):
    """Assign the lead to a staff member."""
    lead = get_lead(lead_id)
    _status, form, _note = _forms(lead)
    form.process(request.form)
    if form.validate_on_submit():
        user = db.session.get(User, form.assignee.data) if form.assignee.data else None
        if services.assign(lead, user):
            db.session.commit()
            flash(_("Assignment saved."), "success")
    else:
        flash_errors(form)
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
