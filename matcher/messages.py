"""Plain-language phrases of explanations, in English, Russian and Vietnamese.

Labels of sectors, tiers, criteria and bands live in ``sectors.yaml``; the sentence
frames that hold them live here.
"""

from __future__ import annotations

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

#: Names of profile fields as shown to people, per language.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "name": "firm name", "description": "description", "okved": "OKVED codes", "sectors": "sectors",
        "investment_usd": "planned investment (US$)", "employees": "employees",
        "tech_transfer": "technology transfer", "training": "local staff training",
        "local_partner": "local partner", "green": "green commitment", "esg_report": "ESG report",
        "vietnam_presence": "presence in Vietnam", "website": "website", "contact_email": "contact e-mail",
        "city": "city", "id": "id",
    },
    "ru": {
        "name": "название компании", "description": "описание", "okved": "коды ОКВЭД", "sectors": "отрасли",
        "investment_usd": "планируемые инвестиции (долл. США)", "employees": "сотрудники",
        "tech_transfer": "передача технологий", "training": "обучение местных кадров",
        "local_partner": "местный партнёр", "green": "экологичность", "esg_report": "отчёт ESG",
        "vietnam_presence": "присутствие во Вьетнаме", "website": "сайт", "contact_email": "контактный e-mail",
        "city": "город", "id": "id",
    },
    "vi": {
        "name": "tên doanh nghiệp", "description": "mô tả", "okved": "mã OKVED", "sectors": "ngành",
        "investment_usd": "vốn đầu tư dự kiến (USD)", "employees": "số nhân viên",
        "tech_transfer": "chuyển giao công nghệ", "training": "đào tạo nhân lực địa phương",
        "local_partner": "đối tác địa phương", "green": "cam kết xanh", "esg_report": "báo cáo ESG",
        "vietnam_presence": "hiện diện tại Việt Nam", "website": "trang web", "contact_email": "e-mail liên hệ",
        "city": "thành phố", "id": "id",
    },
}


def message(lang: str, key: str, **values: object) -> str:
    """The phrase ``key`` in ``lang`` (English when the language is unknown), filled in."""
    table = MESSAGES.get(lang, MESSAGES["en"])
    return table[key].format(**values)


def format_number(value: float, lang: str) -> str:
    """A whole number with the thousands separator of the language: 5,000,000 / 5 000 000 / 5.000.000."""
    text = f"{int(round(value)):,}"
    return text.replace(",", {"ru": "\u00a0", "vi": "."}.get(lang, ","))
