"""Staff login and logout, and each user's own API token."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, or_
from werkzeug.security import check_password_hash, generate_password_hash

from . import services, sessions
from .appstate import app_state
from .extensions import db, login_manager
from .forms import ActionForm, LoginForm
from .inputs import local_path
from .models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a live login session (see :mod:`web.sessions`); None once it has ended."""
    return sessions.load_session_user(session_id)


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only (anything else goes to the lead list)."""
    return local_path(target) or url_for("leads.index")


def _decoy_hash(method: str) -> str:
    """A hash to check a password against when the account does not exist (same method, same cost).

    Made once per app and method (the app's state, ``decoy_hashes``).
    """
    return app_state().decoy_hashes.get_or_build(
        method, lambda: generate_password_hash("decoy password for unknown accounts", method=method)
    )


def find_login(name: str) -> User | None:
    """The account a login name means: its user name, or its e-mail address in any case."""
    return db.session.execute(
        db.select(User).where(or_(User.username == name, func.lower(User.email) == name.lower()))
    ).scalar_one_or_none()


def check_login(name: str, password: str) -> User | None:
    """The active account ``name``/``password`` opens, else None, in the same time either way.

    An unknown name or a deactivated account still costs one password check, so the answer time
    does not tell which accounts exist.
    """
    user = find_login(name)
    stored = user.password_hash if user is not None else _decoy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    matches = check_password_hash(stored, password)
    return user if user is not None and user.active and matches else None


@bp.route("/login", methods=("GET", "POST"))
def login():
    """The staff login page."""
    form = LoginForm()
    if form.validate_on_submit():
        user = check_login(form.username.data.strip(), form.password.data)
        if user is None:
            flash(_("Wrong user name or password."), "error")
        else:
            sessions.start_session(user)
            login_user(user, remember=form.remember.data)
            services.audit("user.login", user, user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out and go back to the public form."""
    if ActionForm().validate_on_submit():
        if current_user.is_authenticated:
            sessions.end_session(current_user)
            db.session.commit()
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
