"""Tolerant readers for single profile values.

Every reader takes the raw text of one cell and returns a typed value, ``None`` for an
empty cell (unknown is not "no"), or raises :class:`~matcher.errors.InvalidValue` naming
the field. The batch reader calls these same functions on each distinct value of a
column, so a CSV cell, a JSON value and a form field are read by one set of rules.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

from .errors import InvalidValue
from .fields import ANSWER_KINDS, words
from .messages import Reason

#: Commitment levels, in increasing order of commitment (declared in :mod:`matcher.fields`).
COMMITMENT_LEVELS = ANSWER_KINDS["commitment"].levels
PRESENCE_LEVELS = ANSWER_KINDS["presence"].levels
YESNO_LEVELS = ANSWER_KINDS["yesno"].levels

#: Answer words of no language in particular; each language's own are in the registry (:func:`matcher.fields.words`).
_YES = {*words("yes"), "1", "x", "✓", "committed"}
_NO = {*words("no"), "0", "none", "-"}
_COMMITMENT = {**dict.fromkeys(words("committed"), "committed"), **dict.fromkeys(words("planned"), "planned")}
_PRESENCE = {
    **dict.fromkeys((*words("none"), "0"), "none"),
    **dict.fromkeys(words("office"), "office"),
    **dict.fromkeys(words("project"), "project"),
}
#: Every spelling each reader accepts (trimmed and case-folded), for documents such as the OpenAPI schema.
ACCEPTED_WORDS = {
    "commitment": frozenset(_COMMITMENT) | _YES | _NO,
    "yesno": frozenset(_YES | _NO),
    "presence": frozenset(_PRESENCE),
}
_MULTIPLIERS = {
    **dict.fromkeys(words("thousand"), 1e3),
    **dict.fromkeys(words("million"), 1e6),
    **dict.fromkeys(words("billion"), 1e9),
}
_MONEY = re.compile(r"^(?P<num>\d[\d\s,.' ]*)\s*(?P<mult>[^\d\s.,]*)\.?$")
_CURRENCY = re.compile(r"(?i)^(us\$|usd|\$)\s*|\s*(usd|us\$|\$|долл\.?( сша)?)$")
# The patterns of the readers below, compiled once (re's own cache costs a lookup per call).
_GROUPING = re.compile(r"[\s' ]")
_DOT_GROUPS = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?")
_COMMA_GROUPS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")
_LIST_SEPARATORS = re.compile(r"[;,\n]")
# ASCII digits only: Python's \d also takes other scripts' digits, which no code table lists.
_CODE = re.compile(r"^[0-9]{2}(?:\.[0-9]{1,2}(?:\.[0-9]{1,2})?)?$")
#: The most distinct codes one profile may list: EGRUL records firms with up to a few hundred OKVED
#: codes; more is an error of the field (``too_many_codes``), not a list to read at any length.
MAX_CODES = 500
#: NACE Rev. 2 / OKVED 2 divisions that exist; any other two-digit start is not a code.
VALID_DIVISIONS = frozenset(
    f"{d:02d}"
    for d in [
        *range(1, 4),
        *range(5, 10),
        *range(10, 34),
        35,
        *range(36, 40),
        *range(41, 44),
        *range(45, 48),
        *range(49, 54),
        55,
        56,
        *range(58, 64),
        *range(64, 67),
        68,
        *range(69, 76),
        *range(77, 83),
        84,
        85,
        *range(86, 89),
        *range(90, 94),
        *range(94, 97),
        97,
        98,
        99,
    ]
)


#: C0 and C1 control characters except tab, line feed and carriage return, and DEL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Halves of UTF-16 surrogate pairs: a str may hold them (JSON's "\\ud800"), UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without control characters (tab, CR and LF kept), lone surrogates as U+FFFD.

    The one rule for text that comes from outside (forms, query strings, JSON, CSV cells
    stored as leads): PostgreSQL's text cannot hold NUL and no database holds a lone
    surrogate, and neither they nor other control characters mean anything in a profile.

    Examples
    --------
    >>> clean_text("Volga\\x00 Robo\\x07tics\\tLtd\\r\\n")
    'Volga Robotics\\tLtd\\r\\n'
    >>> clean_text("a\\ud800b")
    'a\\ufffdb'
    """
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def clean_data(value: object) -> object:
    """``value`` with :func:`clean_text` applied to every string in it (keys of mappings too).

    Lists, tuples and dicts are copied; other values are returned as they are.

    Examples
    --------
    >>> clean_data({"name\\x00": ["a\\x00", 1, None]})
    {'name': ['a', 1, None]}
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_data(k): clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clean_data(v) for v in value)
    return value


def clean(text: object) -> str:
    """Return ``text`` as a trimmed, NFC-normalised, lower-case string ("" for None)."""
    if text is None:
        return ""
    if isinstance(text, float) and math.isnan(text):
        return ""
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def parse_commitment(field: str, text: object) -> str | None:
    """Read a commitment: ``committed``, ``planned`` or ``none``; yes/no words too.

    Examples
    --------
    >>> parse_commitment("training", "да"), parse_commitment("training", "Planned")
    ('committed', 'planned')
    >>> parse_commitment("training", "") is None
    True
    """
    value = clean(text)
    if not value:
        return None
    if value in _COMMITMENT:
        return _COMMITMENT[value]
    if value in _YES:
        return "committed"
    if value in _NO:
        return "none"
    raise InvalidValue(field, text, Reason("commitment"))


def parse_yesno(field: str, text: object) -> str | None:
    """Read a yes/no answer in English, Russian or Vietnamese; ``None`` when empty."""
    value = clean(text)
    if not value:
        return None
    if value in _YES:
        return "yes"
    if value in _NO:
        return "no"
    raise InvalidValue(field, text, Reason("yesno"))


def parse_presence(field: str, text: object) -> str | None:
    """Read an existing Vietnam presence: ``none``, ``office`` or ``project``."""
    value = clean(text)
    if not value:
        return None
    if value in _PRESENCE:
        return _PRESENCE[value]
    raise InvalidValue(field, text, Reason("presence"))


def _plain_number(digits: str) -> float:
    """Read digits with thousands separators (space, comma, apostrophe) and a decimal point."""
    digits = _GROUPING.sub("", digits)
    if _DOT_GROUPS.fullmatch(digits):  # 1.500.000 or 1.000,5: dots group thousands
        digits = digits.replace(".", "").replace(",", ".")
    if digits.count(",") > 1 and not _COMMA_GROUPS.fullmatch(digits):
        raise ValueError(digits)
    if "," in digits and "." not in digits:
        head, _, tail = digits.rpartition(",")
        # "1,5" is a decimal comma; "1,500" and "1,500,000" are thousands separators.
        digits = digits.replace(",", "") if len(tail) == 3 else f"{head.replace(',', '')}.{tail}"
    else:
        digits = digits.replace(",", "")
    if digits.count(".") > 1:
        raise ValueError(digits)
    return float(digits)


def parse_money(field: str, text: object) -> float | None:
    """Read an amount in US$: ``1500000``, ``1 500 000``, ``1,500,000``, ``1.5m``, ``2bn``.

    Examples
    --------
    >>> parse_money("investment_usd", "1.5m"), parse_money("investment_usd", "2 bn")
    (1500000.0, 2000000000.0)
    """
    value = _CURRENCY.sub("", clean(text)).strip()
    if not value:
        return None
    match = _MONEY.match(value)
    mult = match and (match["mult"] or "")
    if not match or (mult and mult.rstrip(".") not in _MULTIPLIERS):
        raise InvalidValue(field, text, Reason("money"))
    try:
        number = _plain_number(match["num"].strip())
    except ValueError:
        raise InvalidValue(field, text, Reason("separators")) from None
    number *= _MULTIPLIERS.get(mult.rstrip("."), 1.0)
    if not math.isfinite(number):
        raise InvalidValue(field, text, Reason("too_large"))
    return number


def parse_count(field: str, text: object) -> int | None:
    """Read a whole, non-negative count such as a number of employees."""
    value = clean(text)
    if not value:
        return None
    try:
        number = parse_money(field, value)
    except InvalidValue:
        number = None
    if number is None or number != int(number) or number > 10**9:
        raise InvalidValue(field, text, Reason("count"))
    return int(number)


def split_list(text: object) -> list[str]:
    """Split a ``;``- or ``,``-separated cell into trimmed, non-empty items."""
    return [part.strip() for part in _LIST_SEPARATORS.split(str(text or "")) if part.strip()]


def is_code(text: str) -> bool:
    """Whether ``text`` is one OKVED 2 / NACE Rev. 2 code as :func:`parse_codes` reads it.

    Two ASCII digits naming a division that exists, then up to two groups of one or two digits.

    Examples
    --------
    >>> is_code("62.01"), is_code("26.3"), is_code("28.99.5"), is_code("04.1"), is_code("62..01")
    (True, True, True, False, False)
    """
    return bool(_CODE.match(text)) and text[:2] in VALID_DIVISIONS


def parse_codes(field: str, text: object) -> tuple[str, ...]:
    """Read OKVED 2 / NACE Rev. 2 codes: ``62.01``, ``26.3``, ``28.99.5``; ``;`` or ``,`` separated.

    A code is kept as written (minus spaces), once, where it first appears; one that is not a
    valid code raises, it is never guessed at. More than :data:`MAX_CODES` distinct codes raise
    too (a repeated code counts once). Whichever fault comes first in the text is the one raised.
    One pass over the text: a field of a million items or of megabytes of spaces costs a fraction
    of a second.
    """
    codes: dict[str, None] = {}
    # The items between runs of ";", "," and spaces (str.split's whitespace is re's \s, three times
    # faster), each distinct one once in the order of first appearance: a repeated item neither adds
    # a code nor hides a fault its first appearance would have raised.
    items = clean(text).replace(",", " ").replace(";", " ").split()
    for item in dict.fromkeys(items):
        code = item.rstrip(".")
        if code in codes:  # "62.01." after "62.01"
            continue
        if not is_code(code):
            raise InvalidValue(field, item, Reason("okved"))
        codes[code] = None
        if len(codes) > MAX_CODES:
            raise InvalidValue(field, text, Reason("too_many_codes", limit=MAX_CODES))
    return tuple(codes)


#: The reader of each field kind of :mod:`matcher.fields` that is read into a typed column.
READERS: dict[str, Callable[[str, object], object]] = {
    "commitment": parse_commitment,
    "yesno": parse_yesno,
    "presence": parse_presence,
    "money": parse_money,
    "count": parse_count,
    "codes": parse_codes,
}
