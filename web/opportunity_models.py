"""Database models of opportunities staff enter (projects Hanoi offers, Vietnamese firms seeking partners)
and of introductions of leads to opportunities.

Kept beside :mod:`web.models` (same ``db``, same metadata, imported by :mod:`web.models`'s importers
through :mod:`web.opportunities`) so that the opportunity feature stays in modules of its own.
Parks and zones are not stored here: they live in the library's ``opportunities.yaml``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matcher.fields import LANGS

from .extensions import db
from .models import Lead, User, utcnow

#: Kinds staff may enter (parks come from the catalogue file).
STAFF_KINDS = ("project", "partner")
OPPORTUNITY_STATES = ("open", "retired")
KEY_PREFIX = "staff-"


class StaffOpportunity(db.Model):
    """An investment project Hanoi offers, or a Vietnamese firm looking for a partner."""

    __tablename__ = "opportunities"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="project")
    name_en: Mapped[str] = mapped_column(Text)
    name_ru: Mapped[str] = mapped_column(Text)
    name_vi: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    targets: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # sector id -> weight (0-1)
    asks: Mapped[list[str]] = mapped_column(JSON, default=list)  # commitments asked (a partner: what it seeks)
    offers: Mapped[str | None] = mapped_column(Text)  # what a partner offers, free words
    capital_min_usd: Mapped[float | None]
    capital_max_usd: Mapped[float | None]
    deadline: Mapped[str | None] = mapped_column(String(10))
    location_type: Mapped[str] = mapped_column(String(20), default="other")
    contact: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()

    @property
    def key(self) -> str:
        """The opportunity's id in the matcher's catalogue (``staff-12``)."""
        return f"{KEY_PREFIX}{self.id}"

    def spec(self) -> dict[str, Any]:
        """The opportunity as the catalogue file would hold it (checked by ``matcher.opportunities``)."""
        spec: dict[str, Any] = {
            # a language without a name column of its own (one added later) shows the English name
            "kind": self.kind,
            "name": {lang: getattr(self, f"name_{lang}", self.name_en) for lang in LANGS},
            "targets": dict(self.targets or {}),
            "asks": list(self.asks or []),
            "offers": [o.strip() for o in (self.offers or "").split(";") if o.strip()],
            "location_type": self.location_type or "other",
            "status": "retired" if self.status == "retired" else "open",
            "contact": self.contact or "",
        }
        if self.description:
            spec["facts"] = dict.fromkeys(LANGS, self.description)
        for key in ("capital_min_usd", "capital_max_usd", "deadline"):
            if getattr(self, key) not in (None, ""):
                spec[key] = getattr(self, key)
        return spec


class Introduction(db.Model):
    """A lead introduced to an opportunity by a staff member (shown on both pages)."""

    __tablename__ = "introductions"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    opportunity_key: Mapped[str] = mapped_column(String(80), index=True)
    opportunity_name: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[Lead] = relationship()
    user: Mapped[User | None] = relationship()
