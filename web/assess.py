"""Public self-assessment: the form, the result with its chart, submitting it as a lead, and what follows.

The answers live in the page, not on the server ("nothing is stored unless you send it"): a
language switch or "Change my answers" posts them back (``keep=form`` shows the form again,
see ``static/assess.js``). A sent self-assessment gets a random report token
(:class:`web.models.ReportLink`): the thanks page (also after a language switch, through the
session) and the confirmation e-mail link to the one-page report with it, never by lead id.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

import matcher

from . import contact, mail, services
from .extensions import db
from .forms import HELP, AssessForm, SubmitLeadForm, flash_errors
from .i18n import current_lang, field_label, reason_text
from .models import ReportLink, token_digest
from .scoring import okved_options, sector_choices

bp = Blueprint("assess", __name__)
SENT_KEY = "sent_report"  # session key: the report token of the firm's last submission (its thanks page)


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


def _form_page(form: AssessForm, status: int = 200):
    """The self-assessment form page, its OKVED list and sector picker in the page's language."""
    lang = current_lang()
    return render_template(
        "assess/form.html", form=form, help=HELP, okved=okved_options(lang), sector_groups=sector_choices(lang)
    ), status


@bp.route("/assess", methods=("GET", "POST"))
def form():
    """The self-assessment form; on a valid POST, the result page; with ``keep=form``, the form with the answers."""
    form = AssessForm()
    if request.method == "POST" and request.form.get("keep") == "form":
        return _form_page(form)  # a language switch or "Change my answers": no checks, no messages yet
    if form.validate_on_submit():
        result = _score_or_flash(form)
        if result is not None:
            submit = SubmitLeadForm(formdata=None, data=form.data)
            return render_template("assess/result.html", result=result, form=submit)
    elif form.is_submitted():
        flash_errors(form)
        _score_or_flash(form)  # the values matcher cannot read too, so every error shows at once
    return _form_page(form)


@bp.post("/assess/report")
def print_report():
    """The one-page report of answers not sent (posted from the result page), to print or save as PDF."""
    form = AssessForm()
    if not form.validate_on_submit() or (result := _score_or_flash(form)) is None:
        flash_errors(form)
        return _form_page(form, 400)
    return render_template(
        "assess/report.html",
        name=result.name,
        a=result,
        score=result.score,
        band=result.band,
        sector=result.sector,
        created=None,
        token=None,
    )


@bp.route("/assess/submit", methods=("GET", "POST"))
def submit():
    """Store the assessed profile as a new lead, re-scored on the server; GET shows the last thanks page again."""
    if request.method == "GET":
        return _thanks(session.get(SENT_KEY)) if session.get(SENT_KEY) else redirect(url_for("assess.form"))
    form = SubmitLeadForm()
    if not form.validate_on_submit():
        flash_errors(form)
        result = _score_or_flash(form) if form.name.data else None
        if result is None:
            return _form_page(form, 400)
        return render_template("assess/result.html", result=result, form=form), 400
    result = _score_or_flash(form)
    if result is None:
        return _form_page(form, 400)
    profile = {**form.profile(), "contact_email": form.contact_email.data}
    lead = services.create_lead(profile, result, "assess", consent=True)
    token = secrets.token_urlsafe(24)
    db.session.add(ReportLink(token_hash=token_digest(token), lead=lead, assessment=lead.latest))
    db.session.commit()
    session[SENT_KEY] = token
    mail.after_submission(lead, lead.latest, token, current_lang())
    return _thanks(token)


def _link(token: str | None) -> ReportLink:
    """The report link of ``token``, or a 404 (also for a lead or assessment deleted since)."""
    link = db.session.get(ReportLink, token_digest(token)) if token else None
    if link is None or link.assessment is None or link.lead is None:
        abort(404, description=_("This report does not exist (any more)."))
    return link


def _thanks(token: str):
    """The thanks page: the score sent, what happens next, the team's contact and the report link."""
    link = _link(token)
    lead = link.lead
    mailed = mail.enabled() and lead.consent and bool(mail.PLAIN_ADDRESS.fullmatch(lead.contact_email or ""))
    return render_template(
        "assess/thanks.html",
        lead=lead,
        a=link.assessment,
        token=token,
        mailed=mailed,
        contact=contact.text_in(current_lang()),
    )


@bp.get("/assess/report/<token>")
def report(token: str):
    """The one-page report of a sent self-assessment, in the reader's language, to print or save as PDF."""
    link = _link(token)
    a = link.assessment
    return render_template(
        "assess/report.html",
        name=link.lead.name,
        a=a.shown_in(current_lang()),
        score=a.score,
        band=a.band,
        sector=a.sector,
        created=a.created_at,
        token=token,
        contact=contact.text_in(current_lang()),
    )
