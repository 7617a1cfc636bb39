"""Plain-language phrases of explanations, in English, Russian and Vietnamese.

Labels of sectors, tiers, criteria and bands live in ``sectors.yaml``, the labels of the profile
fields in the field registry (:mod:`matcher.fields`); the sentence frames that hold them, and the
reasons a value cannot be read (by reason code), live here.
"""

from __future__ import annotations

from .fields import BY_LANG, LANGS, REGISTRY

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "head": "{score} of 100, band {band} ({band_label})",
        "sector": "sector {sector} ({tier}) {how}",
        "sector_unknown": "sector unknown (no OKVED code or description)",
        "from_code": "from OKVED {evidence}",
        "from_declared": "as declared",
        "from_text": "from the words: {evidence}",
        "from_default": "— sector uncertain: no known code, and the description does not say clearly enough",
        "strongest": "strongest: {items}",
        "missing": "missing: {items}",
        "improve": "best improvement: {advice} (+{gain})",
        "nothing_to_improve": "nothing left to improve",
        "field_sector": "okved or description",
        "unknown_code": "{code} is not an OKVED 2 code: no sector was read from it",
    },
    "ru": {
        "head": "{score} из 100, категория {band} ({band_label})",
        "sector": "отрасль {sector} ({tier}) {how}",
        "sector_unknown": "отрасль неизвестна (нет кода ОКВЭД и описания)",
        "from_code": "по коду ОКВЭД {evidence}",
        "from_declared": "по заявлению компании",
        "from_text": "по словам: {evidence}",
        "from_default": "— отрасль не определена: нет известного кода ОКВЭД, а описание недостаточно ясно",
        "strongest": "главное: {items}",
        "missing": "не указано: {items}",
        "improve": "лучше всего повысит балл: {advice} (+{gain})",
        "nothing_to_improve": "улучшать нечего",
        "field_sector": "ОКВЭД или описание",
        "unknown_code": "{code} — не код ОКВЭД 2: отрасль по нему не определена",
    },
    "vi": {
        "head": "{score}/100 điểm, hạng {band} ({band_label})",
        "sector": "ngành {sector} ({tier}) {how}",
        "sector_unknown": "chưa rõ ngành (không có mã OKVED hoặc mô tả)",
        "from_code": "theo mã OKVED {evidence}",
        "from_declared": "theo doanh nghiệp tự khai",
        "from_text": "theo các từ: {evidence}",
        "from_default": "— chưa xác định được ngành: không có mã ngành hợp lệ và mô tả chưa đủ rõ",
        "strongest": "đóng góp lớn nhất: {items}",
        "missing": "còn thiếu: {items}",
        "improve": "cải thiện tốt nhất: {advice} (+{gain})",
        "nothing_to_improve": "không còn gì để cải thiện",
        "field_sector": "mã OKVED hoặc mô tả",
        "unknown_code": "{code} không phải là mã OKVED 2: không xác định được ngành từ mã này",
    },
}

#: Names of profile fields as shown to people, per language (from the field registry).
FIELD_LABELS: dict[str, dict[str, str]] = {lang: {f.name: f.labels[lang] for f in REGISTRY} for lang in LANGS}


def message(lang: str, key: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` (English when the language is unknown), filled in."""
    table = MESSAGES.get(lang, MESSAGES["en"])
    return table[key].format(**values)


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
REASONS: dict[str, dict[str, str]] = {
    "name_required": {"en": "a firm name is required", "ru": "нужно название компании",
                      "vi": "cần có tên doanh nghiệp"},
    "commitment": {
        "en": "expected committed, planned or none (or yes/no, да/нет, có/không)",
        "ru": "ожидается: есть обязательство, планируется или нет (или yes/no, да/нет, có/không)",
        "vi": "cần một trong: đã cam kết, dự kiến hoặc không (hoặc yes/no, да/нет, có/không)"},
    "yesno": {"en": "expected yes or no (also да/нет, có/không, true/false, 1/0)",
              "ru": "ожидается да или нет (также yes/no, có/không, true/false, 1/0)",
              "vi": "cần có hoặc không (cũng được: yes/no, да/нет, true/false, 1/0)"},
    "presence": {"en": "expected none, office or project", "ru": "ожидается: нет, офис или проект",
                 "vi": "cần một trong: chưa có, văn phòng hoặc dự án"},
    "money": {"en": "expected an amount in US$ such as 1500000, 1 500 000, 1.5m or 2bn",
              "ru": "ожидается сумма в долларах США, например 1500000, 1 500 000, 1.5m или 2bn",
              "vi": "cần một số tiền USD, ví dụ 1500000, 1 500 000, 1.5m hoặc 2bn"},
    "separators": {"en": "the number has misplaced separators", "ru": "в числе неверно стоят разделители",
                   "vi": "số có dấu phân cách đặt sai chỗ"},
    "too_large": {"en": "the amount is too large", "ru": "слишком большая сумма", "vi": "số tiền quá lớn"},
    "count": {"en": "expected a whole number such as 250", "ru": "ожидается целое число, например 250",
              "vi": "cần một số nguyên, ví dụ 250"},
    "okved": {"en": "not an OKVED 2 / NACE Rev. 2 code (like 62.01 or 26.3)",
              "ru": "это не код ОКВЭД 2 / NACE Rev. 2 (например 62.01 или 26.3)",
              "vi": "không phải mã OKVED 2 / NACE Rev. 2 (ví dụ 62.01 hoặc 26.3)"},
    "row_empty": {"en": "the row is empty", "ru": "строка пуста", "vi": "dòng trống"},
    "row_fields": {"en": "has {actual} fields where the header has {expected}",
                   "ru": "в строке полей: {actual}, а в заголовке: {expected}",
                   "vi": "dòng có {actual} trường trong khi tiêu đề có {expected}"},
    "unclosed_quote": {
        "en": "the quoted value is not closed before the end of the file (is the file cut short?)",
        "ru": "значение в кавычках не закрыто до конца файла (файл обрезан?)",
        "vi": "giá trị trong ngoặc kép chưa được đóng trước khi hết tệp (tệp bị cắt?)"},
}
_REASON_CODES = {texts["en"]: code for code, texts in REASONS.items() if "{" not in texts["en"]}

#: Warnings of a batch run, per language.
WARNINGS: dict[str, dict[str, str]] = {
    "ignored_columns": {
        "en": "{count} column(s) not used for scoring (passed through unchanged): {columns}",
        "ru": "столбцы, не учтённые при оценке (переданы без изменений), {count}: {columns}",
        "vi": "{count} cột không được dùng để chấm điểm (giữ nguyên trong tệp kết quả): {columns}"},
    "encoding_fallback": {
        "en": "{encoding} cannot hold every character of the output: it was written as UTF-8 with BOM",
        "ru": "в кодировке {encoding} нельзя записать все символы результата: он записан в UTF-8 с BOM",
        "vi": "bảng mã {encoding} không chứa được mọi ký tự của kết quả: tệp được ghi bằng UTF-8 có BOM"},
}


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
