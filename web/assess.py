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


def _score_or_flash(form: AssessForm):
    """Score the form's profile; flash the field at fault and return None if a value cannot be read."""
    try:
        return services.score(form.profile(), current_lang())
    except matcher.InvalidValue as exc:
        reason = reason_text(exc.reason)
        field = form._fields.get(exc.field)
        if field is not None:
            field.errors = [*field.errors, reason]
        flash(f"{field_label(exc.field)}: {reason}", "error")
        return None


def _form_page(form) -> str:
    """The self-assessment form page, its OKVED list and sector picker in the page's language."""
    lang = current_lang()
    return render_template("assess/form.html", form=form, help=HELP, okved=okved_options(lang),
                           sector_groups=sector_choices(lang))


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
    return _form_page(form)


@bp.post("/assess/submit")
def submit():
    """Store the assessed profile as a new lead, re-scored on the server."""
    form = SubmitLeadForm()
    if not form.validate_on_submit():
        flash_errors(form)
        result = _score_or_flash(form) if form.name.data else None
        if result is None:
            return _form_page(form), 400
        return render_template("assess/result.html", result=result, form=form), 400
    result = _score_or_flash(form)
    if result is None:
        return _form_page(form), 400
    profile = {**form.profile(), "contact_email": form.contact_email.data}
    lead = services.create_lead(profile, result, "assess", consent=True)
    db.session.commit()
    flash(_("Thank you. Your profile has been sent to the Hanoi investment promotion team."), "success")
    return render_template("assess/thanks.html", result=result, reference=lead.id)
