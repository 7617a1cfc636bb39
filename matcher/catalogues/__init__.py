"""The matcher's translation catalogues: one module per language (``en.py``, ``ru.py``...).

Each defines ``MESSAGES``, ``REASONS``, ``WARNINGS`` and ``PHRASES`` (dicts keyed by phrase or
reason code); :func:`load` reads the one of a language. A new language adds its module here
(and its :class:`matcher.fields.Language` record); see docs/architecture.md.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def load(lang: str) -> ModuleType | None:
    """The catalogue of ``lang``, or ``None`` when the language has none (its texts are then English)."""
    try:
        return importlib.import_module(f"{__name__}.{lang}")
    except ModuleNotFoundError:
        return None


def tables(name: str, langs) -> dict[str, dict[str, str]]:
    """Language -> the table ``name`` of its catalogue, for every language of ``langs`` that has one."""
    found = {}
    for lang in langs:
        module = load(lang)
        if module is not None and hasattr(module, name):
            found[lang] = dict(getattr(module, name))
    return found


def by_key(per_lang: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Language -> key -> text turned into key -> language -> text (keys in English's order)."""
    keys = list(per_lang.get("en", {}))
    keys += [k for table in per_lang.values() for k in table if k not in keys]
    return {k: {lang: table[k] for lang, table in per_lang.items() if k in table} for k in keys}
