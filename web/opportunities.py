"""Hanoi's opportunities in the app: parks from the catalogue, projects and partners staff enter,
each opportunity's best leads, each lead's best opportunities, and one-click introductions.

The numbers come from :class:`matcher.recommend.Matcher` (the library); this module stores
staff-entered opportunities, audits every change, and renders. The public self-assessment
result shows "Where in Hanoi", incentives and partners through :func:`matches_for`, which
templates call (see ``templates/opportunities/_assess.html``).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from matcher.errors import ConfigError
from matcher.opportunities import ASKS, LOCATION_TYPES, Opportunity, check_opportunity
from matcher.recommend import FirmMatches, Matcher

from . import services
from .appstate import app_state
from .extensions import db
from .forms import choices, flash_errors
from .i18n import current_lang, field_label
from .inputs import int_arg
from .models import STATUSES, Lead, Note
from .opportunity_models import KEY_PREFIX, STAFF_KINDS, Introduction, StaffOpportunity
from .scoring import get_scorer

bp = Blueprint("opportunities", __name__, url_prefix="/opportunities")
log = logging.getLogger(__name__)
#: Leads ranked on an opportunity's page at most (the best first).
MAX_LEADS = 50
KIND_LABELS = {"park": _l("Park or zone"), "project": _l("Investment project"), "partner": _l("Vietnamese partner")}
LOCATION_LABELS = {
    "hi_tech_park": _l("Hi-tech park"),
    "industrial_park": _l("Industrial park"),
    "digital_zone": _l("Digital technology zone"),
    "other": _l("Elsewhere in Hanoi"),
}


def _base_matcher(scorer) -> Matcher:
    """The matcher of ``scorer`` with the catalogue's opportunities, made once per app and scorer (the app's
    state, ``matchers``: a new weights version has a new scorer, so a new matcher)."""
    return app_state().matchers.get_or_build(scorer, lambda: Matcher(scorer))


def current_matcher() -> Matcher:
    """The matcher of the current weights version with the open staff-entered opportunities added."""
    base = _base_matcher(get_scorer())
    rows = db.session.execute(db.select(StaffOpportunity).where(StaffOpportunity.status == "open")).scalars()
    return base.with_opportunities(o for o in (to_opportunity(base, row) for row in rows) if o is not None)


def to_opportunity(matcher: Matcher, row: StaffOpportunity) -> Opportunity | None:
    """A stored opportunity checked by the catalogue's rules (None, and a log line, if it no longer passes)."""
    try:
        return check_opportunity(row.key, row.spec(), matcher.catalogue, matcher.sector_ids)
    except ConfigError as err:
        log.warning("opportunity %s is skipped: %s", row.key, err)
        return None


def matches_for(profile: dict, lang: str | None = None) -> FirmMatches | None:
    """Where in Hanoi, incentives and partners for one profile (None if it cannot be read)."""
    result = current_matcher().match_profiles([services.clean_profile(profile)], k=3, lang=lang or current_lang())[0]
    return result if isinstance(result, FirmMatches) else None


#: Named apart from the batch jobs' ``STATE_LABELS`` of :mod:`web.i18n`, which every page also gets.
OPPORTUNITY_STATE_LABELS = {
    "open": _l("open"),
    "retired": _l("retired"),
    "operating": _l("operating"),
    "under_construction": _l("under construction"),
    "planned": _l("planned"),
    "unknown": _l("unknown"),
}
CONFIDENCE_LABELS = {
    "stated": _l("stated by the source"),
    "weak": _l("weak source"),
    "conflict": _l("sources disagree"),
    "unconfirmed": _l("unconfirmed"),
    "inferred": _l("our inference"),
    "superseded": _l("legal base changed since"),
}


@bp.app_context_processor
def template_helpers() -> dict:
    """``matches_for`` and the labels, for the self-assessment result and the report."""
    return {
        "matches_for": matches_for,
        "KIND_LABELS": KIND_LABELS,
        "LOCATION_LABELS": LOCATION_LABELS,
        "OPPORTUNITY_STATE_LABELS": OPPORTUNITY_STATE_LABELS,
        "CONFIDENCE_LABELS": CONFIDENCE_LABELS,
    }


@bp.app_template_filter("sector_label")
def _sector_label_filter(sector_id: str) -> str:
    from .i18n import sector_label

    return sector_label(sector_id)


@bp.app_template_filter("field_label")
def _field_label_filter(field: str) -> str:
    return field_label(field)


# -- Staff pages ----------------------------------------------------------------------------------


@bp.before_request
@login_required
def require_login():
    """Every opportunity page needs a staff login."""


class OpportunityForm(FlaskForm):
    """A project Hanoi offers or a Vietnamese firm seeking a partner."""

    kind = SelectField(_l("Kind"), choices=choices((k, KIND_LABELS[k]) for k in STAFF_KINDS))
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=300)])
    name_ru = StringField(_l("Name in Russian"), validators=[DataRequired(), Length(max=300)])
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    targets = SelectMultipleField(
        _l("Sectors it targets"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Tick at least one sector."))],
    )
    asks = SelectMultipleField(
        _l("What it asks of a firm (a partner: what it seeks)"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    offers = StringField(_l("What a partner offers (separate with ';')"), validators=[Optional(), Length(max=500)])
    capital_min_usd = FloatField(_l("Smallest investment, US$"), validators=[Optional(), NumberRange(min=0)])
    capital_max_usd = FloatField(_l("Largest investment, US$"), validators=[Optional(), NumberRange(min=0)])
    deadline = StringField(
        _l("Deadline (YYYY-MM-DD)"),
        validators=[Optional(), Regexp(r"^\d{4}-\d{2}-\d{2}$", message=_l("Write the date as 2026-09-30."))],
    )
    location_type = SelectField(_l("Location"), choices=choices((t, LOCATION_LABELS[t]) for t in LOCATION_TYPES))
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lang = current_lang()
        config = get_scorer().config_
        self.targets.choices = choices((s.id, s.label.get(lang, s.label["en"])) for s in config.sectors)
        self.asks.choices = choices((a, field_label(a)) for a in ASKS)


_FORM_FIELDS = (
    "kind",
    "name_en",
    "name_ru",
    "name_vi",
    "description",
    "offers",
    "capital_min_usd",
    "capital_max_usd",
    "deadline",
    "location_type",
    "contact",
)


def _save(form: OpportunityForm, row: StaffOpportunity) -> bool:
    """Copy the form into ``row`` if the catalogue's rules accept it; else flash why and return False."""
    for name in _FORM_FIELDS:
        value = getattr(form, name).data
        setattr(row, name, value.strip() if isinstance(value, str) else value)
    row.targets = dict.fromkeys(form.targets.data, 1.0)
    row.asks = list(form.asks.data)
    try:
        check_opportunity("new", row.spec(), current_matcher().catalogue, get_scorer().config_.sector_ids)
    except ConfigError as err:
        flash(_("%(field)s: %(problem)s", field=err.key.rsplit(".", 1)[-1], problem=err.problem), "error")
        return False
    return True


def get_staff_opportunity(oid: int) -> StaffOpportunity:
    if oid >= 2**31:
        abort(404)
    return db.get_or_404(StaffOpportunity, oid)


@bp.get("")
def index():
    """Parks from the catalogue and the opportunities staff entered, with a filter by kind."""
    kind = request.args.get("kind", "")
    matcher = _base_matcher(get_scorer())
    parks = [o for o in matcher.catalogue.opportunities if not kind or o.kind == kind]
    query = db.select(StaffOpportunity).order_by(StaffOpportunity.status, StaffOpportunity.id.desc())
    if kind:
        query = query.where(StaffOpportunity.kind == kind)
    staff = db.session.execute(query).scalars().all()
    return render_template(
        "opportunities/index.html",
        parks=parks,
        staff=staff,
        kind=kind,
        lang=current_lang(),
        catalogue=matcher.catalogue,
    )


@bp.route("/new", methods=("GET", "POST"))
def new():
    """Add a project or a partner."""
    form = OpportunityForm()
    if form.validate_on_submit():
        row = StaffOpportunity(created_by_id=services.acting_user().id if services.acting_user() else None)
        if _save(form, row):
            db.session.add(row)
            db.session.flush()
            services.audit("opportunity.create", row, kind=row.kind, name=row.name_en)
            db.session.commit()
            flash(_("The opportunity is saved."), "success")
            return redirect(url_for("opportunities.detail", key=row.key))
    elif form.is_submitted():
        flash_errors(form)
    return render_template("opportunities/form.html", form=form, row=None)


@bp.route("/<int:oid>/edit", methods=("GET", "POST"))
def edit(oid: int):
    """Change a project or a partner (audited with the fields before and after)."""
    row = get_staff_opportunity(oid)
    form = OpportunityForm(obj=row) if request.method == "GET" else OpportunityForm()
    if request.method == "GET":
        form.targets.data, form.asks.data = list(row.targets or {}), list(row.asks or [])
    if form.validate_on_submit():
        before = row.spec()
        if _save(form, row):
            services.audit("opportunity.edit", row, before=before, after=row.spec())
            db.session.commit()
            flash(_("The opportunity is saved."), "success")
            return redirect(url_for("opportunities.detail", key=row.key))
        db.session.rollback()
    elif form.is_submitted():
        flash_errors(form)
    return render_template("opportunities/form.html", form=form, row=row)


@bp.post("/<int:oid>/retire")
def retire(oid: int):
    """Retire an opportunity (it then matches nobody), or open it again."""
    row = get_staff_opportunity(oid)
    FlaskForm().validate_on_submit() or abort(400)
    row.status = "open" if row.status == "retired" else "retired"
    services.audit("opportunity.retire" if row.status == "retired" else "opportunity.reopen", row)
    db.session.commit()
    flash(
        _("The opportunity is retired.") if row.status == "retired" else _("The opportunity is open again."), "success"
    )
    return redirect(url_for("opportunities.detail", key=row.key))


def _opportunity(key: str) -> tuple[Opportunity, StaffOpportunity | None, Matcher]:
    """The opportunity behind ``key`` (a catalogue id or ``staff-N``), its row if staff entered it, and the matcher."""
    matcher = current_matcher()
    row = None
    if key.startswith(KEY_PREFIX) and key[len(KEY_PREFIX) :].isdigit():
        row = get_staff_opportunity(int(key[len(KEY_PREFIX) :]))
        opp = to_opportunity(matcher, row)
    else:
        opp = next((o for o in matcher.catalogue.opportunities if o.id == key), None)
    if opp is None:
        abort(404)
    return opp, row, matcher


def lead_filters() -> dict:
    """The filters of an opportunity's lead list: pipeline status, lowest match score, words of the name."""
    status = request.args.get("status", "")
    return {
        "status": status if status in STATUSES else "",
        "q": (request.args.get("q") or "").strip()[:100],
        "min_score": int_arg("min_score", 0, 0, 100),
    }


@bp.get("/<key>")
def detail(key: str):
    """An opportunity's facts, sources and agency, and its best leads (filtered), each with "introduce"."""
    opp, row, matcher = _opportunity(key)
    f = lead_filters()
    query = db.select(Lead).order_by(Lead.id)
    if f["status"]:
        query = query.where(Lead.status == f["status"])
    if f["q"]:
        query = query.where(Lead.name.ilike("%" + f["q"].replace("%", "\\%").replace("_", "\\_") + "%", escape="\\"))
    leads = db.session.execute(query).scalars().all()
    ranked = matcher.rank_leads([lead.profile() for lead in leads], opp, current_lang()) if leads else []
    best = [(leads[i], m) for i, m in ranked if m is not None and m.score >= f["min_score"]][:MAX_LEADS]
    introduced = {
        i.lead_id
        for i in db.session.execute(db.select(Introduction).where(Introduction.opportunity_key == opp.id)).scalars()
    }
    return render_template(
        "opportunities/detail.html",
        opp=opp,
        row=row,
        best=best,
        f=f,
        statuses=STATUSES,
        introduced=introduced,
        lang=current_lang(),
        catalogue=matcher.catalogue,
        agency=matcher.agencies.get(opp.managing_body or ""),
        form=FlaskForm(),
    )


@bp.post("/<key>/introduce/<int:lead_id>")
def introduce(key: str, lead_id: int):
    """Introduce a lead to an opportunity: an activity on both sides (the lead's notes, the opportunity's list)."""
    opp, _row, matcher = _opportunity(key)
    if lead_id >= 2**31:
        abort(404)
    lead = db.get_or_404(Lead, lead_id)
    FlaskForm().validate_on_submit() or abort(400)
    [(_row_index, match)] = matcher.rank_leads([lead.profile()], opp, current_lang())
    name = opp.name.get(current_lang()) or opp.name["en"]
    user = services.acting_user()
    intro = Introduction(
        lead_id=lead.id,
        opportunity_key=opp.id,
        opportunity_name=name,
        score=match.score if match else None,
        user_id=user.id if user else None,
    )
    db.session.add(intro)
    db.session.add(
        Note(
            lead_id=lead.id,
            author_id=user.id if user else None,
            body=_(
                "Introduced to %(name)s (match %(score)s).", name=name, score=f"{match.score:.1f}" if match else "–"
            ),
        )
    )
    db.session.flush()
    services.audit("lead.introduce", lead, opportunity=opp.id, score=intro.score)
    services.audit("opportunity.introduce", intro, opportunity=opp.id, lead=lead.id)
    db.session.commit()
    flash(_("%(lead)s is introduced to %(name)s.", lead=lead.name, name=name), "success")
    target = request.form.get("next") or ""
    local = target.startswith("/") and not target.startswith(("//", "/\\"))  # never off this site
    return redirect(target if local else url_for("opportunities.detail", key=key))


@bp.get("/lead/<int:lead_id>")
def for_lead(lead_id: int):
    """A lead's best parks and projects, partners to meet and incentive categories."""
    if lead_id >= 2**31:
        abort(404)
    lead = db.get_or_404(Lead, lead_id)
    matcher = current_matcher()
    result = matcher.match_profiles([lead.profile()], k=5, lang=current_lang(), k_partners=5)[0]
    intros = (
        db.session.execute(
            db.select(Introduction).where(Introduction.lead_id == lead.id).order_by(Introduction.id.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "opportunities/lead.html",
        lead=lead,
        result=result,
        intros=intros,
        form=FlaskForm(),
        introduced={i.opportunity_key for i in intros},
    )
