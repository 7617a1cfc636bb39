"""Consent withdrawn: a lead is anonymised (numbers kept, the firm unidentifiable) or deleted, after confirmation.

Both are audited without personal data and cannot be undone: the confirmation asks for the reason
and for the lead's number typed by hand, so a stray click does nothing. Earlier audit entries of
the lead lose the personal details they carried (names, e-mails, old and new values).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from . import services
from .extensions import db
from .forms import EraseForm
from .leads import get_lead
from .models import AuditLog, Lead, utcnow

bp = Blueprint("erasure", __name__, url_prefix="/leads")
#: Lead columns that identify the firm or a person: emptied by anonymisation.
PERSONAL = ("ext_id", "description", "website", "contact_email", "city", "inn", "ogrn")
#: Audit actions whose details may name people or carry entered values.
PERSONAL_DETAILS = (
    "lead.edit",
    "contact.add",
    "contact.remove",
    "lead.merge",
    "lead.evidence",
    "lead.assign",
    "lead.create",
    "task.add",
    "task.done",
)


@bp.before_request
@login_required
def require_login():
    """Erasing leads is for staff."""


def scrub_trail(lead_id: int) -> int:
    """Blank the details of the lead's earlier audit entries that may carry personal data; returns how many."""
    entries = (
        db.session.execute(
            db.select(AuditLog).where(
                AuditLog.object_type == "lead", AuditLog.object_id == lead_id, AuditLog.action.in_(PERSONAL_DETAILS)
            )
        )
        .scalars()
        .all()
    )
    for entry in entries:
        entry.details = {"erased": True}
    return len(entries)


def anonymise(lead: Lead, reason: str) -> None:
    """Keep the lead's scores, status and history; remove everything that identifies the firm or its people.

    Note, activity and task texts become "—" (they may name people); their dates and authors stay.
    """
    for field in PERSONAL:
        setattr(lead, field, None)
    lead.name = f"#{lead.id}"
    lead.extras, lead.consent, lead.anonymised_at = {}, False, utcnow()
    lead.contacts.clear()
    for note in lead.notes:
        note.body = "—"
    for row in lead.evidence:
        row.note = ""
    for activity in lead.activities:
        activity.summary = "—"
    for task in lead.tasks:
        task.title = "—"
    scrubbed = scrub_trail(lead.id)
    services.audit("lead.anonymise", lead, reason=reason, scrubbed_entries=scrubbed)


def delete(lead: Lead, reason: str) -> None:
    """Delete the lead with its history, notes, evidence and contacts; the audit keeps that it happened."""
    scrubbed = scrub_trail(lead.id)
    services.audit(
        "lead.delete",
        lead,
        reason=reason,
        source=lead.source,
        status=lead.status,
        score=lead.score,
        scrubbed_entries=scrubbed,
    )
    db.session.delete(lead)


@bp.route("/<int:lead_id>/erase", methods=("GET", "POST"))
def erase(lead_id: int):
    """The confirmation page; on a confirmed POST, anonymise or delete the lead."""
    lead = get_lead(lead_id)
    form = EraseForm()
    form.lead_number = lead.id
    if not form.validate_on_submit():
        return render_template("leads/erase.html", lead=lead, form=form), 400 if request.method == "POST" else 200
    reason = form.reason.data.strip()
    if form.mode.data == "delete":
        delete(lead, reason)
        db.session.commit()
        flash(_("Lead #%(id)s was deleted with its history, notes and contacts.", id=lead_id), "success")
        return redirect(url_for("leads.index"))
    anonymise(lead, reason)
    db.session.commit()
    flash(
        _("Lead #%(id)s was anonymised: its scores stay, nothing identifies the firm any more.", id=lead_id), "success"
    )
    return redirect(url_for("leads.detail", lead_id=lead_id))
