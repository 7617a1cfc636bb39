"""Search that ignores case and accents in Cyrillic, Latin and Vietnamese, on SQLite and PostgreSQL alike.

Each lead keeps ``search_text``: its searchable fields folded by :func:`fold` (written by the
model on every insert and update). A query is folded the same way and matched with ``LIKE``, so
"роботех" finds "Роботех", "dien tu" finds "điện tử" and "Đông Á" finds "dong a", without
depending on the database's collation (SQLite's ``LIKE`` folds only ASCII). On PostgreSQL a
trigram index (``pg_trgm``) serves the ``LIKE '%…%'``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

#: Letters that carry no combining mark to strip (NFKD leaves them whole).
_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe"})


def fold(text: str | None) -> str:
    """``text`` lower-cased (casefold), without diacritics, đ as d, spaces collapsed.

    Examples
    --------
    >>> fold("Công ty TNHH Điện tử")
    'cong ty tnhh dien tu'
    >>> fold("РОБОТЕХ Ёлка")
    'роботех елка'
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def fold_fields(values: Iterable[str | None]) -> str:
    """The folded text of several fields, one line each (so a word never runs across two fields)."""
    return "\n".join(fold(v) for v in values if v)


#: The most words of a query that are searched for (see :func:`like_patterns`).
MAX_WORDS = 16


def like_patterns(query: str) -> list[str]:
    """One ``LIKE`` pattern (escape ``\\``) per word of the folded query: every word must occur.

    Each word counts once ("volga Volga" is "volga"), and only the first :data:`MAX_WORDS` (16) different
    words are searched for; the rest of the query is left out. A condition per word of a query of a
    thousand words made SQLite refuse the statement ("Expression tree is too large (maximum depth
    1000)", from about 500 words), and PostgreSQL matched each lead's text against every one of them; each
    number of words is also a shape of statement the list builds and keeps (:func:`web.leads.list_statement`).
    """
    words = list(dict.fromkeys(fold(query).split()))[:MAX_WORDS]
    return ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words]
