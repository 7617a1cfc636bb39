"""The matcher's phrases in English: explanations, reasons, warnings, match reasons.

One module per language of :data:`matcher.fields.LANGUAGES`, read by :mod:`matcher.messages`; a key
missing here is said in English. The web pages' own texts are in ``web/translations``.
"""

#: Sentence frames of explanations (:func:`matcher.messages.message`).
MESSAGES = {
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
}

#: Why a value or row cannot be read, by reason code (:class:`matcher.messages.Reason`).
REASONS = {
    "name_required": "a firm name is required",
    "commitment": "expected committed, planned or none (or yes/no, да/нет, có/không)",
    "yesno": "expected yes or no (also да/нет, có/không, true/false, 1/0)",
    "presence": "expected none, office or project",
    "money": "expected an amount in US$ such as 1500000, 1 500 000, 1.5m or 2bn",
    "separators": "the number has misplaced separators",
    "too_large": "the amount is too large",
    "count": "expected a whole number such as 250",
    "okved": "not an OKVED 2 / NACE Rev. 2 code (like 62.01 or 26.3)",
    "too_many_codes": "more than {limit} different OKVED codes: list at most {limit}",
    "too_long": "more than {limit} characters ({actual}): a longer text goes in a file to /batch",
    "row_empty": "the row is empty",
    "row_fields": "has {actual} fields where the header has {expected}",
    "row_quote": (
        'has {actual} fields where the header has {expected}: a quote (") opened in it is not closed, '
        "so the lines after it were read into this row"
    ),
    "unclosed_quote": "the quoted value is not closed before the end of the file (is the file cut short?)",
}

#: Warnings of a batch run (:func:`matcher.messages.warning`).
WARNINGS = {
    "ignored_columns": "{count} column(s) not used for scoring (passed through unchanged): {columns}",
    "encoding_fallback": "{encoding} cannot hold every character of the output: it was written as UTF-8 with BOM",
    "stray_bytes": "the file is UTF-8 but for a few bytes that are not: each was read as \ufffd (look for it"
    " in the output)",
}

#: Frames of match reasons (:func:`matcher.match_text.phrase`).
PHRASES = {
    "none": "nothing in common",
    "or": " or ",
    "sector_in": "sector: {items}",
    "okved_in": "OKVED code under {items}",
    "location_in": "located in: {items}",
    "investment_min_vnd": "investment of at least {money}",
    "employees_min": "at least {count} employees",
    "commitment": "commitment to {field}",
    "confirm": "to confirm: {text}",
    "unknown": "not in the profile: {text}",
    "gap_investment_min_vnd": "qualifies if the investment reaches {money}",
    "gap_employees_min": "qualifies if the firm employs at least {count} people",
    "gap_commitment": "qualifies with a commitment to {field}",
    "gap_location_in": "qualifies if the project is located in: {items}",
    "gap_sector_in": "only for the sectors: {items}",
    "gap_okved_in": "only for OKVED codes under {items}",
    "vnd": "VND {bn} bn (about US${usd} m)",
    "qualifies": "you may qualify",
    "possible": "possible: the profile leaves something unknown",
    "not_yet": "not yet",
    "hi_tech_park": "a hi-tech park",
    "industrial_park": "an industrial park",
    "digital_zone": "a digital technology zone",
    "other": "elsewhere in Hanoi",
}
