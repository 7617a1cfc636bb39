"""The matcher's phrases in Russian: explanations, reasons, warnings, match reasons.

One module per language of :data:`matcher.fields.LANGUAGES`, read by :mod:`matcher.messages`; a key
missing here is said in English. The web pages' own texts are in ``web/translations``.
"""

#: Sentence frames of explanations (:func:`matcher.messages.message`).
MESSAGES = {
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
}

#: Why a value or row cannot be read, by reason code (:class:`matcher.messages.Reason`).
REASONS = {
    "name_required": "нужно название компании",
    "commitment": "ожидается: есть обязательство, планируется или нет (или yes/no, да/нет, có/không)",
    "yesno": "ожидается да или нет (также yes/no, có/không, true/false, 1/0)",
    "presence": "ожидается: нет, офис или проект",
    "money": "ожидается сумма в долларах США, например 1500000, 1 500 000, 1.5m или 2bn",
    "separators": "в числе неверно стоят разделители",
    "too_large": "слишком большая сумма",
    "count": "ожидается целое число, например 250",
    "okved": "это не код ОКВЭД 2 / NACE Rev. 2 (например 62.01 или 26.3)",
    "too_many_codes": "больше {limit} разных кодов ОКВЭД: укажите не больше {limit}",
    "too_long": "длиннее {limit} символов ({actual}): более длинный текст загрузите файлом в /batch",
    "row_empty": "строка пуста",
    "row_fields": "в строке полей: {actual}, а в заголовке: {expected}",
    "row_quote": (
        'в строке полей: {actual}, а в заголовке: {expected}: открытая в ней кавычка (") не закрыта, '
        "и следующие строки прочитаны как её часть"
    ),
    "unclosed_quote": "значение в кавычках не закрыто до конца файла (файл обрезан?)",
}

#: Warnings of a batch run (:func:`matcher.messages.warning`).
WARNINGS = {
    "ignored_columns": "столбцы, не учтённые при оценке (переданы без изменений), {count}: {columns}",
    "encoding_fallback": "в кодировке {encoding} нельзя записать все символы результата: он записан в UTF-8 с BOM",
    "stray_bytes": "файл в UTF-8, кроме нескольких байтов: каждый из них прочитан как \ufffd (ищите этот знак"
    " в результате)",
}

#: Frames of match reasons (:func:`matcher.match_text.phrase`).
PHRASES = {
    "none": "ничего общего",
    "or": " или ",
    "sector_in": "отрасль: {items}",
    "okved_in": "код ОКВЭД в группе {items}",
    "location_in": "размещение: {items}",
    "investment_min_vnd": "инвестиции не менее {money}",
    "employees_min": "не менее {count} сотрудников",
    "commitment": "обязательство: {field}",
    "confirm": "уточнить: {text}",
    "unknown": "нет в профиле: {text}",
    "gap_investment_min_vnd": "подходит, если инвестиции достигнут {money}",
    "gap_employees_min": "подходит, если в компании не менее {count} сотрудников",
    "gap_commitment": "подходит при обязательстве: {field}",
    "gap_location_in": "подходит, если проект разместится: {items}",
    "gap_sector_in": "только для отраслей: {items}",
    "gap_okved_in": "только для кодов ОКВЭД {items}",
    "vnd": "{bn} млрд донгов (около {usd} млн долл. США)",
    "qualifies": "вероятно, подходите",
    "possible": "возможно: в профиле не хватает данных",
    "not_yet": "пока нет",
    "hi_tech_park": "технопарк",
    "industrial_park": "индустриальный парк",
    "digital_zone": "зона цифровых технологий",
    "other": "в другом месте Ханоя",
}
