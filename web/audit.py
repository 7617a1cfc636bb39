"""The audit log: who did what to which object, with JSON details (:class:`web.models.AuditLog`).

A module of its own, below :mod:`web.services` and :mod:`web.versions` (both record actions),
so that neither has to import the other (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from .extensions import db
from .models import AuditLog, User


def acting_user() -> User | None:
    """The logged-in user, or ``None`` for anonymous requests and background work."""
    try:
        return current_user if current_user and current_user.is_authenticated else None
    except (AttributeError, RuntimeError):
        return None


def audit(action: str, obj: Any, user: User | None = None, **details: Any) -> AuditLog:
    """Record who did ``action`` to ``obj`` (a model instance), with JSON ``details``; the new entry (added to
    the session)."""
    user = user or acting_user()
    entry = AuditLog(
        user_id=user.id if user else None,
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else action.split(".")[0],
        object_id=getattr(obj, "id", None),
        details=details,
    )
    db.session.add(entry)
    return entry
