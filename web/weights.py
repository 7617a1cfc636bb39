"""Admin pages for the weights: edit and version, re-score, compare versions, robustness settings, calibrate."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from matcher import ConfigError
from matcher.weights import diff_weights, weights_file

from . import ranking, services, versions
from .charts import slope_chart
from .extensions import db
from .forms import ActionForm, RankingSettingsForm, ReasonForm, flash_errors
from .i18n import config_error_text, current_lang
from .inputs import int_arg
from .models import Lead

bp = Blueprint("weights", __name__, url_prefix="/admin/weights")
#: Sections of a weights set an admin edits on the page, with the range of their values.
EDITABLE = ("criteria", "tiers", "answers", "sector_tiers")


@bp.before_request
@login_required
def require_admin():
    """Only admins see and change the weights."""
    if not current_user.is_admin:
        abort(403)


def weights_from_form(form, base: dict) -> tuple[dict, list[str]]:
    """The weights of ``base`` with the page's edited values put over them, and unreadable entries."""
    weights = {name: {k: (dict(v) if isinstance(v, dict) else v) for k, v in base[name].items()} for name in base}
    bad = []
    for key, text in form.items():
        parts = key.split(".")
        if parts[0] not in EDITABLE or len(parts) != (3 if parts[0] == "answers" else 2):
            continue
        if parts[0] == "sector_tiers":  # a tier name, checked by matcher.weights.apply_weights
            weights["sector_tiers"][parts[1]] = text.strip()
            continue
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            bad.append(key)
            continue
        target = weights[parts[0]] if len(parts) == 2 else weights["answers"].setdefault(parts[1], {})
        target[parts[-1]] = value
    return weights, bad


def _settings_form() -> RankingSettingsForm:
    return RankingSettingsForm(
        data={
            "spread": round(float(versions.get_setting("spread")) * 100),
            "top_k": versions.get_setting("top_k"),
            "unverified_factor": versions.get_setting("unverified_factor"),
        }
    )


@bp.route("", methods=("GET", "POST"))
def index():
    """The current weights as an editable table, the ranking settings and every version with its changes."""
    current = versions.current_version()
    form = ReasonForm()
    if form.is_submitted():
        saved = _save(form, versions.current_version().weights)
        if saved:
            return redirect(url_for("weights.index"))
    return render_template(
        "weights/index.html",
        current=current,
        weights=current.weights,
        form=form,
        settings_form=_settings_form(),
        history=versions.history(),
        action=ActionForm(),
    )


def _save(form: ReasonForm, base: dict) -> bool:
    """Save the posted weights as a new version if they changed, are valid and a reason is given."""
    weights, bad = weights_from_form(request.form, base)
    if bad:
        flash(_("Not a number: %(keys)s", keys=", ".join(bad)), "error")
        return False
    if not diff_weights(base, weights):
        flash(_("Nothing changed: no new version saved."), "info")
        return False
    if not form.validate():
        flash_errors(form)
        return False
    try:
        version = versions.save_version(weights, form.reason.data, current_user)
    except ConfigError as err:
        db.session.rollback()
        flash(_("Weights not saved: %(error)s", error=config_error_text(err)), "error")
        return False
    db.session.commit()
    flash(
        _("Saved as version %(label)s. Re-score the leads to apply it to stored scores.", label=version.label),
        "success",
    )
    return True


@bp.get("/<int:version_id>")
def show(version_id: int):
    """One version, read-only, with its changes against the current version."""
    version = db.get_or_404(versions.WeightsVersion, version_id, description=_("No weights version with this number."))
    current = versions.current_version()
    return render_template(
        "weights/show.html",
        version=version,
        weights=version.weights,
        current=current,
        changes=diff_weights(version.weights, current.weights),
    )


@bp.get("/export.yaml")
@bp.get("/<int:version_id>/export.yaml")
def export(version_id: int | None = None):
    """A version (default: the current one) as a weights file for ``matcher score --weights FILE``."""
    version = (
        versions.current_version()
        if version_id is None
        else db.get_or_404(versions.WeightsVersion, version_id, description=_("No weights version with this number."))
    )
    text = weights_file(versions.export(version))
    name = "weights-" + "-".join(version.label.split()) + ".yaml"
    return Response(
        text, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/settings")
def settings():
    """Store the robustness spread and k and the factor for unverified claims."""
    form = RankingSettingsForm()
    if form.validate_on_submit():
        versions.set_setting("spread", form.spread.data / 100)
        versions.set_setting("top_k", form.top_k.data)
        versions.set_setting("unverified_factor", float(form.unverified_factor.data))
        services.audit(
            "weights.settings",
            None,
            spread=form.spread.data / 100,
            top_k=form.top_k.data,
            unverified_factor=float(form.unverified_factor.data),
        )
        db.session.commit()
        flash(_("Settings saved."), "success")
    else:
        flash_errors(form)
    return redirect(url_for("weights.index"))


@bp.post("/rescore")
def rescore():
    """Score every lead again under the current version; show each lead's old and new score."""
    if not ActionForm().validate_on_submit():
        abort(400)
    leads = list(db.session.execute(db.select(Lead).order_by(Lead.id)).scalars())
    changes = services.rescore(leads, current_lang())
    services.audit("weights.rescore", versions.current_version(), leads=len(changes))
    label = versions.current_version().label
    db.session.commit()
    return render_template("weights/rescore.html", changes=changes, label=label)


def _version_arg(name: str, default):
    version = versions.get_version(int_arg(name, 0, 0))
    return version or default


@bp.get("/compare")
def compare():
    """Ranks of the current leads under two versions, entering/leaving the top k, Kendall's tau, a chart."""
    all_versions = versions.all_versions()
    b = _version_arg("b", all_versions[0])
    a = _version_arg("a", all_versions[1] if len(all_versions) > 1 else all_versions[0])
    top_k = int_arg("k", int(versions.get_setting("top_k")), 1, 1000)
    try:
        comparison, leads = ranking.compare_versions(a, b, top_k)
    except ValueError:  # no leads to rank yet: the page says so
        comparison, leads = None, []
    names = {lead.id: lead for lead in leads}
    chart = slope_chart(comparison.rows(), names, top_k) if comparison else None
    return render_template(
        "weights/compare.html",
        a=a,
        b=b,
        k=top_k,
        versions=all_versions,
        c=comparison,
        names=names,
        chart=chart,
        changes=diff_weights(a.weights, b.weights),
    )


@bp.route("/calibrate", methods=("GET", "POST"))
def calibrate():
    """Suggested criterion weights from past outcomes beside the current ones; adopt them with a reason."""
    form = ReasonForm()
    cal, lm = ranking.calibrate(int(versions.get_setting("top_k")))
    if form.is_submitted() and cal.fitted:
        current = versions.current_version().weights
        suggested = {c: round(float(w), 2) for c, w in zip(lm.criteria, cal.suggested_weights, strict=True)}
        if _adopt(form, current, suggested):
            return redirect(url_for("weights.index"))
    names = {lead.id: lead for lead in lm.leads}
    rows = list(
        zip(
            lm.criteria,
            cal.current_weights,
            cal.suggested_weights if cal.fitted else [None] * len(lm.criteria),
            strict=True,
        )
    )
    return render_template(
        "weights/calibrate.html", cal=cal, rows=rows, names=names, form=form, moves=cal.biggest_moves(20)
    )


def _adopt(form: ReasonForm, current: dict, suggested: dict) -> bool:
    if not form.validate():
        flash_errors(form)
        return False
    try:
        version = versions.save_version({**current, "criteria": suggested}, form.reason.data, current_user)
    except ConfigError as err:
        db.session.rollback()
        flash(_("Weights not saved: %(error)s", error=config_error_text(err)), "error")
        return False
    db.session.commit()
    flash(
        _("Saved as version %(label)s. Re-score the leads to apply it to stored scores.", label=version.label),
        "success",
    )
    return True
