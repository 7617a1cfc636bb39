"""Public self-assessment: the form, the result with its chart, and submitting it as a lead."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

import matcher

from . import services
from .extensions import db
from .forms import HELP, AssessForm, SubmitLeadForm, flash_errors
from .i18n import current_lang, field_label, reason_text
from .scoring import okved_options, sector_choices

bp = Blueprint("assess", __name__)


@bp.get("/")
def index():
    """The site opens on the self-assessment."""
    return redirect(url_for("assess.form"))


def read_all(form: AssessForm):
    """Score the form's answers: (result or None, every answer matcher cannot read as (field, reason)).

    matcher stops at a profile's first unreadable value, so each one found is set aside and the rest
    read again (at most once per field): the form then shows all its errors at once. Fields the form
    itself refused are left out, as is a second error on them: they have their error already.
    """
    refused = {name for name, field in form._fields.items() if field.errors}
    profile = {k: v for k, v in form.profile().items() if k not in refused}
    found: list[tuple[str, str]] = []
    for _attempt in range(len(profile) + 1):
        try:
            result = services.score(profile, current_lang())
        except matcher.InvalidValue as exc:
            if exc.field in refused or profile.pop(exc.field, None) is None:
                return None, found
            found.append((exc.field, reason_text(exc.reason)))
        else:
            return (None if found else result), found
    return None, found


def _score_or_flash(form: AssessForm):
    """Score the form's profile; if values cannot be read, flash and mark every one of them and return None."""
    result, errors = read_all(form)
    for name, reason in errors:
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, reason]
        flash(f"{field_label(name)}: {reason}", "error")
    return result


@bp.route("/assess", methods=("GET", "POST"))
def form():
    """The self-assessment form; on a valid POST, the result page."""
    form = AssessForm()
    if form.validate_on_submit():
        result = _score_or_flash(form)
        if result is not None:
            submit = SubmitLeadForm(formdata=None, data=form.data)
            return render_template("assess/result.html", result=result, form=submit)
    elif form.is_submitted():
        flash_errors(form)
        _score_or_flash(form)  # the values matcher cannot read too, so every error shows at once
    return render_template("assess/form.html", form=form, help=HELP, okved=okved_options(),
                           sector_groups=sector_choices())


@bp.post("/assess/submit")
def submit():
    """Store the assessed profile as a new lead, re-scored on the server."""
    form = SubmitLeadForm()
    if not form.validate_on_submit():
        flash_errors(form)
        result = _score_or_flash(form) if form.name.data else None
        if result is None:
            return render_template("assess/form.html", form=form, help=HELP, okved=okved_options(),
                           sector_groups=sector_choices()), 400
        return render_template("assess/result.html", result=result, form=form), 400
    result = _score_or_flash(form)
    if result is None:
        return render_template("assess/form.html", form=form, help=HELP, okved=okved_options(),
                           sector_groups=sector_choices()), 400
    profile = {**form.profile(), "contact_email": form.contact_email.data}
    lead = services.create_lead(profile, result, "assess", consent=True)
    db.session.commit()
    flash(_("Thank you. Your profile has been sent to the Hanoi investment promotion team."), "success")
    return render_template("assess/thanks.html", result=result, reference=lead.id)
