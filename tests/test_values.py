"""Tests for matcher/values.py: the tolerant readers of single profile values."""

from __future__ import annotations

import unicodedata

import pytest

from matcher.errors import InvalidValue
from matcher.values import (
    clean,
    parse_codes,
    parse_commitment,
    parse_count,
    parse_money,
    parse_presence,
    parse_yesno,
    split_list,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # English words
        ("committed", "committed"),
        ("Committed ", "committed"),
        ("COMMITTED", "committed"),
        ("planned", "planned"),
        ("Plan", "planned"),
        ("none", "none"),
        # yes / no, true / false, 1 / 0
        ("yes", "committed"),
        ("Y", "committed"),
        ("no", "none"),
        ("true", "committed"),
        ("TRUE", "committed"),
        ("false", "none"),
        ("1", "committed"),
        ("0", "none"),
        # Russian
        ("да", "committed"),
        ("Да", "committed"),
        ("ДА", "committed"),
        ("нет", "none"),
        ("планируем", "planned"),
        ("планируется", "planned"),
        ("обязуемся", "committed"),
        # Vietnamese (also typed without diacritics, and in decomposed Unicode)
        ("có", "committed"),
        ("CÓ", "committed"),
        (unicodedata.normalize("NFD", "có"), "committed"),
        ("co", "committed"),
        ("không", "none"),
        ("khong", "none"),
        ("cam kết", "committed"),
        ("dự kiến", "planned"),
        ("kế hoạch", "planned"),
    ],
)
def test_parse_commitment(text, expected):
    assert parse_commitment("training", text) == expected


@pytest.mark.parametrize("text", ["", "   ", None, float("nan"), "\t"])
def test_empty_commitment_is_unknown_not_no(text):
    # Unknown is not "no": an empty cell gives None, never "none".
    assert parse_commitment("green", text) is None
    assert parse_yesno("esg_report", text) is None
    assert parse_presence("vietnam_presence", text) is None


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("training", "maybe not"),
        ("tech_transfer", "2"),
        ("local_partner", "perhaps"),
        ("green", "возможно"),
        ("training", "yes please"),
    ],
)
def test_bad_commitment_raises_naming_the_field(field, text):
    with pytest.raises(InvalidValue) as info:
        parse_commitment(field, text)
    assert info.value.field == field
    assert info.value.value == text
    assert str(info.value).startswith(f"{field}: ")
    assert "committed, planned or none" in info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes", "yes"),
        ("Да", "yes"),
        ("có", "yes"),
        ("true", "yes"),
        ("1", "yes"),
        ("no", "no"),
        ("нет", "no"),
        ("không", "no"),
        ("false", "no"),
        ("0", "no"),
    ],
)
def test_parse_yesno(text, expected):
    assert parse_yesno("esg_report", text) == expected


def test_bad_yesno_raises_naming_the_field():
    with pytest.raises(InvalidValue, match=r"^esg_report: expected yes or no") as info:
        parse_yesno("esg_report", "sometimes")
    assert info.value.field == "esg_report"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("none", "none"),
        ("office", "office"),
        ("Representative office", "office"),
        ("офис", "office"),
        ("представительство", "office"),
        ("văn phòng", "office"),
        ("project", "project"),
        ("проект", "project"),
        ("dự án", "project"),
        ("нет", "none"),
    ],
)
def test_parse_presence(text, expected):
    assert parse_presence("vietnam_presence", text) == expected


def test_bad_presence_raises_naming_the_field():
    with pytest.raises(InvalidValue, match=r"^vietnam_presence: expected none, office or project"):
        parse_presence("vietnam_presence", "factory")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500000", 1_500_000.0),
        ("1 500 000", 1_500_000.0),
        ("1\u00a0500\u00a0000", 1_500_000.0),  # non-breaking spaces, as Russian spreadsheets write them
        ("1,500,000", 1_500_000.0),
        ("1'500'000", 1_500_000.0),
        ("1.5m", 1_500_000.0),
        ("1.5M", 1_500_000.0),
        ("1.5 million", 1_500_000.0),
        ("2bn", 2_000_000_000.0),
        ("2 bn", 2_000_000_000.0),
        ("0.3bn", 300_000_000.0),
        ("$2m", 2_000_000.0),
        ("US$ 3m", 3_000_000.0),
        ("1 500 000 USD", 1_500_000.0),
        ("500k", 500_000.0),
        ("1,5 млн", 1_500_000.0),
        ("2 млрд", 2_000_000_000.0),
        ("12 тыс", 12_000.0),
        ("5 triệu", 5_000_000.0),
        ("3 tỷ", 3_000_000_000.0),
        ("250000.50", 250_000.5),
        ("1.234.567", 1_234_567.0),  # dots as thousands separators, as Russian and Vietnamese write
        ("1 500 000,50", 1_500_000.5),  # decimal comma
        ("0", 0.0),
    ],
)
def test_parse_money(text, expected):
    assert parse_money("investment_usd", text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "  ", None])
def test_empty_money_is_unknown(text):
    assert parse_money("investment_usd", text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "expected an amount in US$"),
        ("1.5x", "expected an amount in US$"),
        ("-5", "expected an amount in US$"),
        ("1e6", "expected an amount in US$"),
        ("€2m", "expected an amount in US$"),
        ("1.2.3m", "misplaced separators"),
        # Three comma-separated groups where the last is not three digits are no number at
        # all: neither "1,5,0" nor "1,00,5" may be read as a decimal comma (15.0 / 100.5).
        ("1,5,0", "misplaced separators"),
        ("1,00,5", "misplaced separators"),
    ],
)
def test_bad_money_raises_naming_the_field(text, reason):
    with pytest.raises(InvalidValue) as info:
        parse_money("investment_usd", text)
    assert info.value.field == "investment_usd"
    assert str(info.value).startswith("investment_usd: ")
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [("250", 250), ("1 200", 1200), ("1,200", 1200), ("1.5k", 1500), ("0", 0), (" 42 ", 42)],
)
def test_parse_count(text, expected):
    value = parse_count("employees", text)
    assert value == expected
    assert isinstance(value, int)


@pytest.mark.parametrize("text", ["12.5", "-3", "abc", "2bn", "many"])
def test_bad_count_raises_naming_the_field(text):
    with pytest.raises(InvalidValue, match=r"^employees: expected a whole number") as info:
        parse_count("employees", text)
    assert info.value.field == "employees"


def test_empty_count_is_unknown():
    assert parse_count("employees", "") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("62.01", ("62.01",)),
        ("26.3", ("26.3",)),
        ("28.99.5", ("28.99.5",)),
        ("62", ("62",)),
        ("62.01;63.11", ("62.01", "63.11")),
        ("62.01, 63.11", ("62.01", "63.11")),
        ("62.01,63.11", ("62.01", "63.11")),
        (" 62.01 ; 63.11 ", ("62.01", "63.11")),
        ("62.01;62.01", ("62.01",)),
        ("", ()),
        (None, ()),
    ],
)
def test_parse_codes(text, expected):
    assert parse_codes("okved", text) == expected


@pytest.mark.parametrize(
    ("text", "bad_item"),
    [
        ("99.999", "99.999"),  # a class has at most two digits
        ("04.1", "04.1"),  # division 04 does not exist in NACE Rev. 2
        ("abc", "abc"),
        ("62.011", "62.011"),
        ("00", "00"),
        ("1.2", "1.2"),
        ("62.01;04.1", "04.1"),  # one bad code spoils the cell: it is reported, not dropped
    ],
)
def test_invalid_codes_raise_and_are_never_guessed(text, bad_item):
    with pytest.raises(InvalidValue) as info:
        parse_codes("okved", text)
    assert info.value.field == "okved"
    assert info.value.value == bad_item
    assert "not an OKVED 2 / NACE Rev. 2 code" in info.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a; b", ["a", "b"]), ("a,b,,", ["a", "b"]), ("", []), (None, []), (" x ", ["x"])],
)
def test_split_list(text, expected):
    assert split_list(text) == expected


def test_clean_normalises_case_space_and_unicode():
    assert clean("  Có ") == "có"
    assert clean(unicodedata.normalize("NFD", "Có")) == "có"
    assert clean(None) == ""
    assert clean(float("nan")) == ""


@pytest.mark.parametrize(("text", "meant"), [("1.000,5", 1000.5), ("12.345,67", 12345.67), ("2.500,00", 2500.0)])
def test_dot_thousands_with_decimal_comma_is_never_misread(text, meant):
    # "1.000,5" is a thousand and a half in Russian / Vietnamese writing. Reading it correctly or
    # refusing it are both fine; reading it as 1.0005 is a silent guess.
    try:
        value = parse_money("investment_usd", text)
    except InvalidValue as exc:
        assert exc.field == "investment_usd"
    else:
        assert value == pytest.approx(meant)
