"""Possible duplicate leads on the lead page and the list, and their merge after a confirmation step."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from . import dedup, dupfind, services
from .extensions import db
from .forms import MergeForm
from .i18n import current_lang
from .leads import get_lead

bp = Blueprint("duplicates", __name__, url_prefix="/leads")
#: Why two leads look alike, as shown to staff.
REASON_LABELS = {
    "name": _l("same name without legal form"),
    "inn": _l("same INN"),
    "ogrn": _l("same OGRN"),
    "domain": _l("same website or e-mail domain"),
}


@bp.before_request
@login_required
def require_login():
    """Duplicates and merges are for staff."""


@bp.app_template_global()
def possible_duplicates(lead) -> list[dedup.Match]:
    """Other leads that look like the same firm (for the lead page)."""
    return dupfind.duplicates_of(lead)


@bp.app_template_global()
def duplicate_ids(leads) -> set[int]:
    """Which leads of a list page look like another lead (one query)."""
    return dupfind.duplicate_ids(leads)


@bp.app_template_global()
def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))


def _pair(lead_id: int, other_id: int):
    keep, gone = get_lead(lead_id), get_lead(other_id)
    if keep.id == gone.id:
        abort(404)
    return keep, gone


@bp.get("/<int:lead_id>/merge/<int:other_id>")
def confirm_merge(lead_id: int, other_id: int):
    """What merging the other lead into this one keeps, fills and removes; asks for confirmation."""
    keep, gone = _pair(lead_id, other_id)
    return render_template(
        "leads/merge.html",
        keep=keep,
        gone=gone,
        plan=dedup.merge_plan(keep, gone),
        reasons=dedup.reasons(keep, gone),
        form=MergeForm(),
    )


@bp.post("/<int:lead_id>/merge/<int:other_id>")
def merge(lead_id: int, other_id: int):
    """Merge the other lead into this one (only with the confirmation ticked); audited."""
    keep, gone = _pair(lead_id, other_id)
    form = MergeForm()
    if not form.validate_on_submit():
        for error in form.same_firm.errors or [_("The form expired; please try again.")]:
            flash(str(error), "error")
        return redirect(url_for("duplicates.confirm_merge", lead_id=keep.id, other_id=gone.id))
    name, gone_id = gone.name, gone.id
    merge_leads(keep, gone, current_lang())
    db.session.commit()
    flash(
        _(
            "Lead #%(id)s (%(name)s) was merged into this one: its history, notes and audit trail are kept here.",
            id=gone_id,
            name=name,
        ),
        "success",
    )
    return redirect(url_for("leads.detail", lead_id=keep.id))


def merge_leads(keep, gone, lang: str = "en") -> list[str]:
    """Merge lead ``gone`` into ``keep``: nothing of either is lost but ``gone``'s row; returns the fields filled.

    ``keep`` gains the fields it lacked, ``gone``'s score history, notes, contacts, activities, tasks
    and the evidence of commitments it has none for (other evidence is written into the audit entry), its consent and
    assignee where it had none. ``gone``'s audit entries stay as they were, and ``keep``'s page
    shows them (:func:`web.dupfind.trail_ids`). ``keep`` is then scored again, so its latest assessment is
    its current score. The caller commits.
    """
    filled = dedup.merge_plan(keep, gone)
    for field in filled:
        setattr(keep, field, getattr(gone, field))
    keep.extras = {**(gone.extras or {}), **(keep.extras or {})}
    keep.consent = keep.consent or gone.consent
    keep.assigned_to = keep.assigned_to or gone.assigned_to
    for item in [*gone.notes, *gone.assessments, *gone.contacts, *gone.activities, *gone.tasks]:
        item.lead = keep
    own = {e.field for e in keep.evidence}
    dropped = [{"field": e.field, "status": e.status, "note": e.note} for e in gone.evidence if e.field in own]
    for row in [e for e in gone.evidence if e.field not in own]:
        row.lead = keep
    services.audit(
        "lead.merge",
        keep,
        merged_id=gone.id,
        merged_name=gone.name,
        merged_status=gone.status,
        merged_score=gone.score,
        filled=filled,
        evidence_dropped=dropped,
    )
    db.session.delete(gone)
    db.session.flush()
    services.rescore([keep], lang)
    return filled
