"""The promotion team's contact as firms see it (thanks page, confirmation e-mail, report), set by an admin.

One admin setting (``team_contact``, a :class:`web.models.Setting` row) holds the text in each
language, e.g. ``{"en": "Ms Lan, +84 24 ...", "ru": "...", "vi": "..."}``. It is plain text:
pages escape it and keep its line breaks. A language left empty falls back to English, then to
any language given; nothing given means no contact block.
"""

from __future__ import annotations

from matcher.fields import LANGS

from .extensions import db
from .models import Setting
from .versions import invalidate, snapshot

KEY = "team_contact"
MAX_LENGTH = 2000


def texts() -> dict[str, str]:
    """The contact text per language as the admin saved it (empty strings where none)."""
    stored = snapshot().settings.get(KEY)
    stored = stored if isinstance(stored, dict) else {}
    return {lang: str(stored.get(lang) or "").strip() for lang in LANGS}


def text_in(lang: str) -> str:
    """The contact text in ``lang``, else in English, else in any language given; ``""`` if none."""
    given = texts()
    return given.get(lang) or given["en"] or next((t for t in given.values() if t), "")


def save(values: dict[str, str | None]) -> None:
    """Store the contact text per language (the caller audits and commits)."""
    value = {lang: (values.get(lang) or "").strip()[:MAX_LENGTH] for lang in LANGS}
    row = db.session.get(Setting, KEY)
    if row is None:
        db.session.add(Setting(key=KEY, value=value))
    else:
        row.value = value
    invalidate()
