"""OKVED 2 codes as people type them: read, check, title in three languages, search.

The code list is the shipped OKVED 2 (Russian titles, divisions to types) with NACE Rev. 2
(English) and VSIC 2007 (Vietnamese) beside it (see :mod:`matcher.classifications`):

- A code **exists** when OKVED 2 or NACE Rev. 2 lists it (``99.99.99`` does not).
- Its **English title** is the NACE Rev. 2 title of the same code; a code below the NACE class
  (OKVED subclasses and types) shows its class's title. Outside section P (education), group
  19.3 and division 92 an OKVED 2 code's first four digits are the NACE class; there, and
  wherever NACE lacks the code, the Russian title stands.
- Its **Vietnamese title** is VSIC 2007's only for a division whose VSIC classes are exactly
  the ISIC Rev. 4 classes NACE refines in it (:func:`_vsic_safe`). Below the division VSIC's
  codes are not ISIC's (VSIC 0111 is rice, ISIC 0111 cereals except rice), so the English
  title stands in there: never a Vietnamese title that could name something else.

Examples
--------
>>> normalise(" ОКВЭД 28,99 "), normalise("2899"), normalise("28.9."), normalise("abc")
('28.99', '28.99', '28.9', None)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .classfiles import NOT_NACE, _digits, _outside_nace, _vsic_safe  # noqa: F401
from .classifications import labelled_classes, read_classification

LANGS = ("ru", "en", "vi")
#: Words people write before a code ("ОКВЭД 62.01", "NACE: 26.2"); dropped when reading.
LABEL_WORDS = frozenset({"оквэд", "оквэд2", "окved", "okved", "okved2", "nace", "код", "code", "mã", "ma"})
_SHAPE = re.compile(r"^[0-9]{2}(?:\.[0-9]{1,2}(?:\.[0-9]{1,2})?)?$")
_DIGITS_ONLY = re.compile(r"^[0-9]{2,6}$")
_WORD = re.compile(r"\w+")
#: What separates the items of a typed field: ``;``, spaces, or a comma before a space (``28,99`` is one item).
_ITEM_SEPARATORS = re.compile(r"[;\s]+|,\s+")
#: A label word standing as a word of its own (any case), with the colon after it: one pattern for them all.
_LABEL = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(LABEL_WORDS, key=len, reverse=True)) + r")(?!\w):?",
    re.IGNORECASE,
)
MAX_LIMIT = 50


def normalise(text: object) -> str | None:
    """One code as typed -> its dotted form (``"28,99"``, ``"2899"`` -> ``"28.99"``), or ``None``.

    Reads a decimal comma, a trailing dot, surrounding spaces, a leading "ОКВЭД"/"OKVED"/"NACE"
    and bare digits (two to six: ``26``, ``289`` -> ``28.9``, ``28991`` -> ``28.99.1``). Says
    nothing about whether the code exists (see :func:`exists`).
    """
    words = str(text or "").replace(":", " ").split()
    while words and fold(words[0]) in LABEL_WORDS:
        words = words[1:]
    if len(words) != 1:
        return None
    code = words[0].replace(",", ".").rstrip(".")
    if _DIGITS_ONLY.match(code):
        code = ".".join(p for p in (code[:2], code[2:4], code[4:]) if p)
    return code if _SHAPE.match(code) else None


def fold(text: str) -> str:
    """Lower case without diacritics (``"Sản xuất"`` -> ``"san xuat"``, ``"ё"`` -> ``"е"``)."""
    text = unicodedata.normalize("NFKD", str(text).casefold().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c)).replace("ё", "е")


@dataclass(frozen=True)
class Entry:
    """One OKVED 2 / NACE code: level, sector id (``None`` if its classes disagree), titles by language."""

    code: str
    level: str
    sector: str | None
    titles: dict[str, str]
    words: frozenset[str] = field(default=frozenset(), repr=False)


@dataclass(frozen=True)
class Split:
    """A typed OKVED field read item by item: the codes that exist, and what is not one."""

    codes: tuple[str, ...]
    unknown: tuple[str, ...]  # well-formed codes no classification lists (``99.99.99``)
    unreadable: tuple[str, ...]  # items that are no code at all


class OkvedIndex:
    """The code list with titles in three languages; built once (see :func:`default_index`)."""

    def __init__(self, sectors_path: str | None = None) -> None:
        from .config import load_sectors

        rows = labelled_classes(load_sectors(sectors_path))
        nace = {r.code: r for r in rows if r.system == "nace2"}
        vsic = {r.code: r for r in rows if r.system == "vsic2007"}
        safe = _vsic_safe(read_classification("nace2"), vsic)
        codes = {r.code: r for r in rows if r.system == "okved2"}
        for code, row in nace.items():
            codes.setdefault(code, row)
        self.entries = {code: self._entry(row, nace, vsic, safe) for code, row in codes.items()}
        self.order = sorted(self.entries, key=_code_key)

    @staticmethod
    def _entry(row, nace, vsic, safe) -> Entry:
        titles = {row.lang: row.title}
        ru = titles.get("ru")
        if not _outside_nace(row.code):
            cls = row.code[:5]
            en_row = nace.get(row.code) or nace.get(cls)
            if en_row is not None:
                titles["en"] = en_row.title
                if en_row.code in safe:
                    titles["vi"] = vsic[_digits(en_row.code)].title
        titles.setdefault("en", ru or row.title)
        titles.setdefault("ru", titles["en"])
        titles.setdefault("vi", titles["en"])
        words = frozenset(w for t in titles.values() for w in _WORD.findall(fold(t)))
        return Entry(row.code, row.level, row.sector, titles, words)

    def exists(self, code: str) -> bool:
        """Whether OKVED 2 or NACE Rev. 2 lists ``code`` (dotted, as :func:`normalise` gives it)."""
        return code in self.entries

    def title(self, code: str, lang: str = "en") -> str | None:
        """The code's title in ``lang`` (falling back as the module says), or ``None`` if it does not exist."""
        entry = self.entries.get(code)
        return None if entry is None else entry.titles.get(lang, entry.titles["en"])

    def split(self, text: object) -> Split:
        """Read a typed field of codes (``;``, spaces or ``", "`` between them; ``28,99`` is one code).

        Each code (and each unreadable item) once, where it first appears. Label words ("ОКВЭД:") are
        dropped item by item: no label spans a separator and the characters around an item are
        separators, so that reads as dropping them from the whole text would. One pass over the text,
        then one look at each distinct item: a field of megabytes of spaces or of a million repeated
        codes costs a fraction of a second.
        """
        codes: dict[str, None] = {}
        unknown: dict[str, None] = {}
        bad: dict[str, None] = {}
        for raw in dict.fromkeys(_ITEM_SEPARATORS.split(str(text or ""))):
            for item in _unlabelled(raw):
                if not item.strip(",."):
                    continue
                for part in self._read_item(item):
                    code = normalise(part)
                    if code is None:
                        bad.setdefault(part)
                    else:
                        (codes if self.exists(code) else unknown).setdefault(code)
        return Split(tuple(codes), tuple(unknown), tuple(bad))

    def _read_item(self, item: str) -> list[str]:
        """``"28,99"`` is one code if it exists; ``"62.01,26.3"`` is two."""
        if "," not in item.strip(","):
            return [item.strip(",")]
        whole = normalise(item)
        if whole is not None and self.exists(whole):
            return [item]
        return [p for p in item.split(",") if p]

    def search(self, query: object, lang: str = "en", limit: int = 10) -> list[Entry]:
        """Codes starting with the query's code (broader codes first), or whose titles (any language) have every
        query word.

        A query word matches a title word it begins (case and diacritics ignored): "комп" finds
        "компьютеров", "san xuat" finds "Sản xuất". Matches in ``lang``'s title come first, broader
        codes (divisions, groups, classes) before narrower ones, then code order.
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        text = " ".join(w for w in str(query or "").split() if fold(w).strip(":") not in LABEL_WORDS)
        code = normalise(text) or (text.strip().rstrip(".") if re.fullmatch(r"[0-9]{1}", text.strip()) else None)
        if code is not None:
            return self._by_code(code, limit)
        words = _WORD.findall(fold(text))
        if not words:
            return []
        found = [self.entries[c] for c in self.order if _has_words(self.entries[c].words, words)]
        return sorted(
            found, key=lambda e: (not _has_words(_WORD.findall(fold(e.titles.get(lang, ""))), words), e.code.count("."))
        )[:limit]

    def _by_code(self, code: str, limit: int) -> list[Entry]:
        digits = _digits(code)
        found = [self.entries[c] for c in self.order if _digits(c).startswith(digits)]
        return sorted(found, key=lambda e: e.code.count("."))[:limit]


def _unlabelled(item: str) -> list[str]:
    """The items one item of a typed field holds once its label words are dropped (``"ОКВЭД:62.01"`` -> ``"62.01"``)."""
    text = _LABEL.sub(" ", item)
    return [item] if text == item else _ITEM_SEPARATORS.split(text)


def _has_words(title_words, words: list[str]) -> bool:
    return all(any(t.startswith(w) for t in title_words) for w in words)


def _code_key(code: str) -> list[int]:
    return [int(p) for p in code.split(".")]


@lru_cache(maxsize=4)
def default_index(sectors_path: str | None = None) -> OkvedIndex:
    """The index for a sectors file, built once per process (about two seconds)."""
    return OkvedIndex(sectors_path)
