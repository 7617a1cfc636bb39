"""Staff login and logout, and each user's own API token."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_

from . import services
from .extensions import db, login_manager
from .forms import ActionForm, LoginForm
from .models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session; a deactivated account loses its open sessions at once."""
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("leads.index")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """The staff login page."""
    form = LoginForm()
    if form.validate_on_submit():
        name = form.username.data.strip()
        user = db.session.execute(db.select(User).where(or_(
            User.username == name, func.lower(User.email) == name.lower()))).scalar_one_or_none()
        if user is None or not user.active or not user.check_password(form.password.data):
            flash(_("Wrong user name or password."), "error")
        else:
            login_user(user, remember=form.remember.data)
            services.audit("user.login", user, user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out and go back to the public form."""
    if ActionForm().validate_on_submit():
        logout_user()
    return redirect(url_for("assess.form"))


@bp.route("/account", methods=("GET", "POST"))
@login_required
def account():
    """The user's own page: issue a new API token (shown once)."""
    form = ActionForm()
    token = None
    if form.validate_on_submit():
        token = services.issue_token(current_user)
        db.session.commit()
    return render_template("auth/account.html", form=form, token=token)
