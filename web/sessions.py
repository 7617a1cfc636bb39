"""Staff login sessions kept server-side, so that logging out really ends them.

Flask's session is a signed cookie: without a server-side record, a copied cookie (or the
remember cookie) keeps working after logout until it expires. Here every login gets a random
token; the cookie carries ``"<user id>:<token>"`` (:meth:`web.models.User.get_id`) and the
database keeps a digest of the token (:class:`web.models.LoginSession`). A request whose token has
no row logs nobody in.

Sessions end:

- on logout (that session only): :func:`end_session`;
- on a password change or deactivation (every session of that user): a ``before_flush`` hook
  sees the change, whichever code made it (admin page, CLI command, a script), see :func:`install`;
- after ``SESSION_MAX_DAYS`` days (default 14; the remember cookie lasts as long).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import bindparam, delete, event, inspect, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import LoginSession, User, token_digest, utcnow

DEFAULT_MAX_DAYS = 14


def max_age() -> timedelta:
    """How long a login lasts at most (``SESSION_MAX_DAYS``)."""
    return timedelta(days=float(current_app.config.get("SESSION_MAX_DAYS", DEFAULT_MAX_DAYS)))


def start_session(user: User) -> str:
    """Record a new login of ``user``; sets ``user.session_token`` (call before ``login_user``)."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=token_digest(token)))
    user.session_token = token
    return token


def load_session_user(session_id: str) -> User | None:
    """The active user of a live session id ``"<user id>:<token>"``, else None (one query)."""
    user_id, sep, token = session_id.partition(":")
    if not sep or not token or not user_id.isdigit() or len(user_id) > 10:
        return None  # a bare id: a cookie from before server-side sessions, or a forged one
    row = db.session.execute(_SESSION_USER, {"user_id": int(user_id), "token_hash": token_digest(token)}).first()
    if row is None or not row[0].active or row[1] < utcnow() - max_age():
        return None
    user = row[0]
    user.session_token = token
    return user


#: The user and login time of a session: built once per process (on every staff request; building it cost
#: as much CPU as running it).
_SESSION_USER = (
    select(User, LoginSession.created_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), LoginSession.token_hash == bindparam("token_hash"))
)


def end_session(user: User) -> None:
    """End the session ``user`` was loaded for (logout)."""
    if user.session_token:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == token_digest(user.session_token)))
        user.session_token = None


def end_all_sessions(user_id: int) -> None:
    """End every session of a user (password changed, account deactivated)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))


def purge_expired() -> int:
    """Delete sessions older than the maximum age; returns how many."""
    result = db.session.execute(delete(LoginSession).where(LoginSession.created_at < utcnow() - max_age()))
    return result.rowcount or 0


def _changed(user: User, attribute: str) -> bool:
    return inspect(user).attrs[attribute].history.has_changes()


def _end_sessions_on_credential_change(session: Session, _context, _instances) -> None:
    """Before a flush: a user whose password changed, or who was deactivated, loses every session."""
    for obj in list(session.dirty):
        if (
            isinstance(obj, User)
            and obj.id is not None
            and (_changed(obj, "password_hash") or (_changed(obj, "active") and not obj.active))
        ):
            session.execute(delete(LoginSession).where(LoginSession.user_id == obj.id))


def install(app: Flask) -> None:
    """Hook the credential-change rule into every ORM session, and size the remember cookie."""
    app.config.setdefault("SESSION_MAX_DAYS", DEFAULT_MAX_DAYS)
    days = float(app.config["SESSION_MAX_DAYS"])
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=days))
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(days=days))
    if not event.contains(Session, "before_flush", _end_sessions_on_credential_change):
        event.listen(Session, "before_flush", _end_sessions_on_credential_change)
