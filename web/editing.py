"""Staff enter a lead by hand, edit a lead's answers after a call (scored again, audited), keep contact persons."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

import matcher
from matcher.fields import REGISTRY
from matcher.values import READERS

from . import dedup, dupfind, services
from .extensions import db
from .forms import HELP, ContactForm, LeadForm
from .i18n import current_lang, field_label, number, reason_text
from .leads import get_lead
from .models import PROFILE_COLUMNS, Contact, Lead

bp = Blueprint("editing", __name__, url_prefix="/leads")
#: Lead columns the edit form writes: the registry's profile fields (``id`` is no answer), the firm's numbers.
EDITED = (*(f for f in PROFILE_COLUMNS if f != "ext_id"), "inn", "ogrn")
#: The answer fields and their readers: a stored "да" is shown as the form's own choice.
_CANONICAL = {f.name: READERS[f.kind] for f in REGISTRY if f.answers}


@bp.before_request
@login_required
def require_login():
    """Entering and editing leads is for staff."""


def form_data(lead: Lead) -> dict[str, Any]:
    """The lead's answers as the form shows them: yes/no words as the form's own choices (да -> committed)."""
    data: dict[str, Any] = {f: getattr(lead, f) or "" for f in EDITED}
    for field, parse in _CANONICAL.items():
        # a value that cannot be read is kept as stored: lead_form offers it as a choice, so saving keeps it
        with contextlib.suppress(matcher.InvalidValue):
            data[field] = parse(field, data[field]) or ""
    data["sectors"] = [s.strip() for s in (lead.sectors or "").split(";") if s.strip()]
    return data


def lead_form(lead: Lead | None = None) -> LeadForm:
    """The form, filled from ``lead`` on GET; stored answers the form cannot express stay choosable."""
    data = form_data(lead) if lead is not None else {}
    form = LeadForm(data=data) if request.method == "GET" else LeadForm()
    for field in _CANONICAL:
        value = data.get(field)
        if value and value not in {choice.value for choice in form[field].choices}:
            form[field].choices = [*form[field].choices, SelectChoice(value, value)]
    known = {c[0] for c in form.sectors.choices}
    form.sectors.choices += [(s, s) for s in data.get("sectors", []) if s not in known]
    _fit_stored_lengths(form, data)
    return form


def _fit_stored_lengths(form: LeadForm, data: dict[str, Any]) -> None:
    """Let each field hold its stored value: a batch import stores a firm's text as its file gave it, which
    may be longer than the form takes from a person typing. Saving other changes must not fail on it."""
    for name, value in data.items():
        if not isinstance(value, str) or name not in form:
            continue
        field = form[name]
        if any(isinstance(v, Length) and v.max != -1 and len(value) > v.max for v in field.validators):
            field.validators = [Length(max=len(value)) if isinstance(v, Length) else v for v in field.validators]
            field.flags.maxlength = len(value)  # the page's maxlength too


def _score(form: LeadForm):
    """Score the form's profile, or None with the field at fault marked and flashed."""
    try:
        return services.score(form.profile(), current_lang())
    except matcher.InvalidValue as exc:
        reason = reason_text(exc.reason)
        if exc.field in form._fields:
            form[exc.field].errors = [*form[exc.field].errors, reason]
        flash(f"{field_label(exc.field)}: {reason}", "error")
        return None


def _page(form: LeadForm, lead: Lead | None = None, status: int = 200):
    return render_template("leads/edit.html", form=form, lead=lead, help=HELP), status


@bp.route("/new", methods=("GET", "POST"))
def new():
    """A lead entered by staff (after a phone call, a fair): scored like any other; duplicates are shown."""
    form = lead_form()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.is_submitted() else 200)
    result = _score(form)
    if result is None:
        return _page(form, status=400)
    lead = services.create_lead(form.profile(), result, "manual", consent=False)
    lead.inn, lead.ogrn = dedup.digits(form.inn.data) or None, dedup.digits(form.ogrn.data) or None
    db.session.flush()
    duplicates = dupfind.duplicates_of(lead)
    db.session.commit()
    flash(_("Lead created and scored: %(score)s.", score=number(result.score)), "success")
    if duplicates:
        flash(_("This firm may already be in the list: see “Possible duplicates” below."), "warning")
    return redirect(url_for("leads.detail", lead_id=lead.id))


def apply_edit(lead: Lead, form: LeadForm) -> dict[str, list]:
    """Write the form's answers into the lead; returns ``{field: [old, new]}`` for each one that changed."""
    profile = form.profile()
    values = {f: profile.get(f) for f in EDITED if f not in ("inn", "ogrn")}
    values.update(inn=dedup.digits(form.inn.data) or None, ogrn=dedup.digits(form.ogrn.data) or None)
    changes = {}
    for field, value in values.items():
        if (getattr(lead, field) or None) != (value or None):
            changes[field] = [getattr(lead, field), value]
            setattr(lead, field, value)
    return changes


@bp.route("/<int:lead_id>/edit", methods=("GET", "POST"))
def edit(lead_id: int):
    """Edit a lead's answers; a change scores the lead again under the current weights (audited)."""
    lead = get_lead(lead_id)
    form = lead_form(lead)
    if not form.validate_on_submit():
        return _page(form, lead, 400 if form.is_submitted() else 200)
    if request.form.get("row_version", type=int) not in (None, lead.row_version):
        flash(
            _(
                "Someone else changed this lead since you opened it. Your answers are kept below: check the "
                "lead and save again."
            ),
            "error",
        )
        return _page(form, lead, 409)
    if _score(form) is None:  # an answer the model cannot read: nothing is saved
        return _page(form, lead, 400)
    old_score = lead.score
    changes = apply_edit(lead, form)
    if not changes:
        flash(_("Nothing changed."), "info")
        return redirect(url_for("leads.detail", lead_id=lead.id))
    services.rescore([lead], current_lang())
    services.audit("lead.edit", lead, changes=changes, old_score=old_score, new_score=lead.score)
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        flash(
            _(
                "Someone else changed this lead since you opened it. Your answers are kept below: check the "
                "lead and save again."
            ),
            "error",
        )
        return _page(form, get_lead(lead_id), 409)
    flash(
        _(
            "Answers saved and the lead scored again: %(old)s → %(new)s.",
            old=number(old_score) if old_score is not None else "—",
            new=number(lead.score),
        ),
        "success",
    )
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.post("/<int:lead_id>/contacts")
def add_contact(lead_id: int):
    """Add a contact person to the lead (audited)."""
    lead = get_lead(lead_id)
    form = ContactForm(prefix="contact")
    if form.validate_on_submit():
        contact = Contact(
            name=form.name.data.strip(),
            role=(form.role.data or "").strip() or None,
            email=(form.email.data or "").strip() or None,
            phone=(form.phone.data or "").strip() or None,
        )
        lead.contacts.append(contact)
        services.audit("contact.add", lead, name=contact.name, role=contact.role)
        db.session.commit()
        flash(_("Contact person added."), "success")
    else:
        for name, errors in form.errors.items():
            for error in errors:
                flash(f"{form[name].label.text}: {error}", "error")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#contacts")


@bp.post("/<int:lead_id>/contacts/<int:contact_id>/delete")
def remove_contact(lead_id: int, contact_id: int):
    """Remove a contact person from the lead (audited)."""
    lead = get_lead(lead_id)
    contact = next((c for c in lead.contacts if c.id == contact_id), None)
    if contact is None:
        abort(404)
    lead.contacts.remove(contact)
    services.audit("contact.remove", lead, name=contact.name, role=contact.role)
    db.session.commit()
    flash(_("Contact person removed."), "success")
    return redirect(url_for("leads.detail", lead_id=lead.id) + "#contacts")


@bp.app_template_global()
def contact_form() -> ContactForm:
    """An empty contact form for the lead page."""
    return ContactForm(prefix="contact", formdata=None)
