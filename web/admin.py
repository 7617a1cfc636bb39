"""Admin pages: staff users (list, create, change role, (de)activate, issue API tokens) and site settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_

from . import contact, services
from .extensions import db
from .forms import ActionForm, TeamContactForm, UserForm, choices, flash_errors
from .i18n import ROLE_LABELS
from .models import ROLES, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    """Only admins manage users."""
    if not current_user.is_admin:
        abort(403)


def _user_form() -> UserForm:
    form = UserForm()
    form.role.choices = choices((r, str(ROLE_LABELS[r])) for r in ROLES)
    return form


@bp.route("/users", methods=("GET", "POST"))
def users():
    """The staff list and a form to add a member."""
    form = _user_form()
    if form.validate_on_submit():
        taken = db.session.execute(
            db.select(User).where(
                or_(
                    func.lower(User.email) == form.email.data.strip().lower(),
                    User.username == form.username.data.strip(),
                )
            )
        ).first()
        if taken:
            flash(_("A user with this e-mail or user name exists already."), "error")
        else:
            user = services.create_user(form.email.data, form.username.data, form.password.data, form.role.data)
            db.session.commit()
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        flash_errors(form)
    people = db.session.execute(db.select(User).order_by(User.username)).scalars().all()
    return render_template("admin/users.html", form=form, people=people, action=ActionForm())


@bp.post("/users/<int:user_id>/<any(role, active, token):what>")
def change(user_id: int, what: str):
    """Switch a user's role, (de)activate them, or issue them a new API token."""
    user = db.get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if user.id == current_user.id and what != "token":
        flash(_("You cannot change your own role or deactivate yourself."), "error")
        return redirect(url_for("admin.users"))
    token = None
    if what == "role":
        user.role = "admin" if user.role == "analyst" else "analyst"
        services.audit("user.role", user, role=user.role)
    elif what == "active":
        user.active = not user.active
        services.audit("user.active", user, active=user.active)
    else:
        token = services.issue_token(user)
    db.session.commit()
    if token:
        return render_template("admin/token.html", user=user, token=token)
    flash(_("Saved."), "success")
    return redirect(url_for("admin.users"))


@bp.route("/settings", methods=("GET", "POST"))
def settings():
    """The team's contact shown to firms after they send their self-assessment, in each language."""
    form = TeamContactForm(data=contact.texts())
    if form.validate_on_submit():
        contact.save({lang: form[lang].data for lang in contact.LANGS})
        services.audit("settings.contact", None, **contact.texts())
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.settings"))
    if form.is_submitted():
        flash_errors(form)
    return render_template("admin/settings.html", form=form)
