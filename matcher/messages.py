"""Plain-language phrases of explanations, in English, Russian and Vietnamese.

Labels of sectors, tiers, criteria and bands live in ``sectors.yaml``, the labels of the profile
fields in the field registry (:mod:`matcher.fields`); the sentence frames that hold them, and the
reasons a value cannot be read (by reason code), live here.
"""

from __future__ import annotations

from .catalogues import by_key, tables
from .fields import BY_LANG, LANGS, REGISTRY

#: Sentence frames of explanations, per language (from the catalogues of :mod:`matcher.catalogues`).
MESSAGES: dict[str, dict[str, str]] = tables("MESSAGES", LANGS)

#: Names of profile fields as shown to people, per language (from the field registry).
FIELD_LABELS: dict[str, dict[str, str]] = {lang: {f.name: f.labels[lang] for f in REGISTRY} for lang in LANGS}


def message(lang: str, key: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` (English when the language is unknown), filled in."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES["en"][key]
    return text.format(**values)


def format_number(value: float, lang: str, digits: int = 0) -> str:
    """A number with the separators of the language (:class:`matcher.fields.Language`).

    Examples
    --------
    >>> format_number(5e6, "en"), format_number(5e6, "ru"), format_number(5e6, "vi"), format_number(1234.56, "vi", 1)
    ('5,000,000', '5\xa0000\xa0000', '5.000.000', '1.234,6')
    """
    language = BY_LANG.get(lang, BY_LANG["en"])
    if not digits:
        return f"{int(round(value)):,}".replace(",", language.thousands)
    whole, _, decimals = f"{value:,.{digits}f}".partition(".")
    return whole.replace(",", language.thousands) + language.decimal + decimals


#: Why a row cannot be scored, by reason code: the code is the key of every translation (here, and
#: for the web pages). English is what :class:`~matcher.errors.InvalidValue` carries, as a
#: :class:`Reason`; :func:`reason_text` words a reason in another language by its code.
REASONS: dict[str, dict[str, str]] = by_key(tables("REASONS", LANGS))
_REASON_CODES = {texts["en"]: code for code, texts in REASONS.items() if "{" not in texts["en"]}

#: Warnings of a batch run, per language.
WARNINGS: dict[str, dict[str, str]] = by_key(tables("WARNINGS", LANGS))


def reason(code: str, lang: str = "en", **values: object) -> str:
    """The reason ``code`` of :data:`REASONS` in ``lang`` (English when the language is unknown), filled in.

    Examples
    --------
    >>> reason("row_fields", "ru", actual=3, expected=5)
    'в строке полей: 3, а в заголовке: 5'
    """
    texts = REASONS[code]
    return texts.get(lang, texts["en"]).format(**values)


class Reason(str):
    """Why a value cannot be read: the English text (what the error report and the API show), which
    also carries its reason code and parameters, so that every language words it by code.

    A ``str`` (it compares, hashes and serialises as its English text), so code that passes reasons
    around as text keeps working; :func:`reason_text` words it in another language by its code,
    never by its English wording: rewording a reason in :data:`REASONS` loses no translation.

    Parameters
    ----------
    code : str
        A key of :data:`REASONS`, e.g. ``"count"`` or ``"okved"``.
    item : str, optional
        The part of the value at fault when it is not the whole value (one code of several);
        the reason then reads ``'<item>': <reason>``.
    **params
        The values the reason's text names (``{actual}``...).

    Examples
    --------
    >>> r = Reason("okved", item="x1")
    >>> r, r.code
    ("'x1': not an OKVED 2 / NACE Rev. 2 code (like 62.01 or 26.3)", 'okved')
    >>> r.said("ru")
    "'x1': это не код ОКВЭД 2 / NACE Rev. 2 (например 62.01 или 26.3)"
    """

    code: str
    item: str | None
    params: dict[str, object]

    def __new__(cls, code: str, item: str | None = None, **params: object) -> Reason:
        text = reason(code, "en", **params)
        self = super().__new__(cls, text if item is None else f"{item!r}: {text}")
        self.code, self.item, self.params = code, item, params
        return self

    def __reduce__(self):  # pickled as its code, not as its English text
        return _reason, (self.code, self.item, self.params)

    def said(self, lang: str) -> str:
        """This reason in ``lang`` (English when the language has no text for it)."""
        text = reason(self.code, lang, **self.params)
        return text if self.item is None else f"{self.item!r}: {text}"


def _reason(code: str, item: str | None, params: dict[str, object]) -> Reason:
    return Reason(code, item, **params)


def reason_text(text: str, lang: str) -> str:
    """A reason of :class:`~matcher.errors.InvalidValue` worded in ``lang``.

    A :class:`Reason` is worded by its code. Plain text (a reason from before reasons had
    codes) is matched against the English of :data:`REASONS`, also after a value
    (``'62..01': not an OKVED 2 ...``); any other text is given back as it is.

    Examples
    --------
    >>> reason_text(Reason("count"), "vi")
    'cần một số nguyên, ví dụ 250'
    >>> reason_text("'x1': not an OKVED 2 / NACE Rev. 2 code (like 62.01 or 26.3)", "ru")
    "'x1': это не код ОКВЭД 2 / NACE Rev. 2 (например 62.01 или 26.3)"
    """
    if isinstance(text, Reason):
        return text.said(lang)
    code = _REASON_CODES.get(text)
    if code is not None:
        return reason(code, lang)
    value, sep, rest = text.rpartition(": ")
    if sep and rest in _REASON_CODES:
        return f"{value}: {reason(_REASON_CODES[rest], lang)}"
    return text


def warning(key: str, lang: str = "en", **values: object) -> str:
    """The batch warning ``key`` of :data:`WARNINGS` in ``lang``, filled in."""
    texts = WARNINGS[key]
    return texts.get(lang, texts["en"]).format(**values)
