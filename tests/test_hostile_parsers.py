"""Hostile input for every parser: properties that hold for any text, any JSON value, any CSV row.

The value readers (matcher/values.py), OKVED codes (values, sectors, config), the batch reader
(matcher/frame.py), JSON profiles (matcher/profile.py, matcher/result.py) and CSV files
(matcher/batch.py). Each property either never raises anything but the project's own errors
(matcher/errors.py) and names the field at fault, or reads back what was written, or loses no row.
Example counts are kept small: the whole file runs in a few seconds.
"""

from __future__ import annotations

import csv
import math
import string

import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from matcher_testlib import SECTORS_YAML, read_csv

from matcher import ConfigError, InvalidValue, assess, assess_many, load_sectors
from matcher.batch import score_file
from matcher.config import ANSWER_INPUTS
from matcher.frame import read_frame
from matcher.io.defuse import FORMULA_CHARS, defuse, defuse_cell
from matcher.profile import FIELDS, table_from_mappings, to_cell
from matcher.values import (
    ACCEPTED_WORDS,
    COMMITMENT_LEVELS,
    PRESENCE_LEVELS,
    VALID_DIVISIONS,
    is_code,
    parse_codes,
    parse_commitment,
    parse_count,
    parse_money,
    parse_presence,
    parse_yesno,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
READERS = {
    "training": parse_commitment,
    "esg_report": parse_yesno,
    "vietnam_presence": parse_presence,
    "investment_usd": parse_money,
    "employees": parse_count,
    "okved": parse_codes,
}
#: Characters the readers treat specially, to reach their corners more often than plain text does.
SPECIAL = list("0123456789 .,;'$-+eEkmbн\u00a0\u2009\t\n\"=@") + ["млн", "tỷ", "usd", "да", "có", "١", "²"]
SPACES = st.text(alphabet=" \t\u00a0\u3000", max_size=2)

tricky_text = st.one_of(st.text(max_size=24), st.lists(st.sampled_from(SPECIAL), max_size=10).map("".join))
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
division = st.sampled_from(sorted(VALID_DIVISIONS))
code = st.builds(
    lambda d, a, b: d + (f".{a}" if a else "") + (f".{b}" if a and b else ""),
    division,
    st.sampled_from(["", "1", "01", "9", "99"]),
    st.sampled_from(["", "1", "12"]),
)


def random_case(draw, word: str) -> str:
    """``word`` in a random mix of upper and lower case."""
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


# --- scalar values ------------------------------------------------------------------------------------


@FAST
@given(st.sampled_from(sorted(READERS)), st.one_of(tricky_text, any_json))
def test_a_value_reader_returns_or_raises_invalid_value_naming_its_field(field, value):
    try:
        READERS[field](field, value)
    except InvalidValue as exc:
        assert exc.field == field and exc.reason
        assert str(exc).startswith(f"{field}: ")


@FAST
@given(st.data(), st.sampled_from(["commitment", "yesno", "presence"]))
def test_every_accepted_word_reads_in_any_case_with_spaces_around(data, kind):
    reader, levels = {
        "commitment": (parse_commitment, COMMITMENT_LEVELS),
        "yesno": (parse_yesno, ("no", "yes")),
        "presence": (parse_presence, PRESENCE_LEVELS),
    }[kind]
    word = data.draw(st.sampled_from(sorted(ACCEPTED_WORDS[kind])))
    text = data.draw(SPACES) + random_case(data.draw, word) + data.draw(SPACES)
    assert reader("f", text) in levels
    assert reader("f", text) == reader("f", word)


@pytest.mark.parametrize("level", COMMITMENT_LEVELS)
def test_a_commitment_level_reads_back_as_itself(level):
    assert parse_commitment("green", level) == level
    assert parse_commitment("green", level.upper()) == level


@FAST
@given(st.sampled_from([parse_commitment, parse_yesno, parse_presence, parse_money, parse_count]), SPACES)
def test_empty_or_blank_is_unknown_not_no(reader, blank):
    assert reader("f", blank) is None
    assert reader("f", None) is None
    assert parse_codes("okved", blank) == ()


def grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@FAST
@given(st.integers(0, 10**15), st.sampled_from([",", " ", "\u00a0", "'", "."]), st.sampled_from(["", "$", "USD "]))
def test_whole_amounts_round_trip_in_every_grouping(n, sep, currency):
    assert parse_money("investment_usd", str(n)) == n
    assert parse_money("investment_usd", currency + grouped(n, sep)) == n


@FAST
@given(st.integers(0, 10**9), st.integers(1, 99))
def test_decimal_amounts_round_trip_with_point_or_comma(whole, cents):
    exact = float(f"{whole}.{cents:02d}")
    assert parse_money("investment_usd", f"{grouped(whole, ',')}.{cents:02d}") == exact  # 1,500,000.25
    assert parse_money("investment_usd", f"{grouped(whole, '.')},{cents:02d}") == exact  # 1.500.000,25
    assert parse_money("investment_usd", f"{grouped(whole, ' ')},{cents:02d}") == exact  # 1 500 000,25


@FAST
@given(
    st.decimals(0, 10**6, places=2, allow_nan=False),
    st.sampled_from([("k", 1e3), ("m", 1e6), ("mln", 1e6), ("млн", 1e6), ("triệu", 1e6), ("bn", 1e9), ("tỷ", 1e9)]),
    SPACES,
)
def test_amounts_with_a_multiplier(number, multiplier, space):
    word, factor = multiplier
    text = f"{number:f}".rstrip("0").rstrip(".") or "0"
    assume(not ("." in text and len(text.split(".")[1]) == 3))  # 1.500m is the European 1500m
    assert parse_money("investment_usd", f"{text}{space}{word}") == pytest.approx(float(text) * factor, rel=1e-12)


@FAST
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_a_json_number_reads_back_as_the_same_amount(number):
    assert parse_money("investment_usd", to_cell(number)) == number


@FAST
@given(st.integers(0, 10**9), st.sampled_from([",", " ", "\u00a0"]))
def test_counts_round_trip_and_fractions_are_refused(n, sep):
    assert parse_count("employees", str(n)) == n
    assert parse_count("employees", grouped(n, sep)) == n
    assert parse_count("employees", to_cell(float(n))) == n
    with pytest.raises(InvalidValue, match="^employees: expected a whole number"):
        parse_count("employees", f"{n}.5")


@FAST
@given(st.integers(10**9 + 1, 10**30))
def test_counts_beyond_a_billion_are_refused(n):
    with pytest.raises(InvalidValue) as info:
        parse_count("employees", str(n))
    assert info.value.field == "employees"


# --- OKVED codes ---------------------------------------------------------------------------------------


@FAST
@given(
    st.lists(code, max_size=6), st.lists(st.sampled_from([";", ",", " ", "; ", " , ", "\n"]), min_size=6, max_size=6)
)
def test_codes_round_trip_whatever_the_separators(codes, seps):
    text = "".join(c + s for c, s in zip(codes, seps, strict=False))
    assert parse_codes("okved", text) == tuple(dict.fromkeys(codes))
    assert all(is_code(c) for c in parse_codes("okved", text))


@FAST
@given(st.text(alphabet="0123456789.²١٢ ", min_size=1, max_size=8))
def test_a_code_is_read_or_refused_naming_the_bad_item(text):
    try:
        codes = parse_codes("okved", text)
    except InvalidValue as exc:
        assert exc.field == "okved" and exc.value in text and "OKVED" in exc.reason
    else:
        assert all(is_code(c) and c.isascii() for c in codes)


@pytest.mark.parametrize("text", ["62.٠١", "٦٢.01", "62.²", "62..01", "62.01.1.1", "00.1", "04"])
def test_codes_in_other_digits_or_shapes_are_refused(text):
    with pytest.raises(InvalidValue, match="^okved: "):
        parse_codes("okved", text)


@FAST
@given(st.lists(code, max_size=4))
def test_the_detector_maps_any_codes_to_a_listed_prefix(scorer, codes):
    detector = scorer.detector_
    main, matches = detector.from_codes(tuple(codes))
    assert -1 <= main < len(scorer.config_.sectors)
    for sector, matched in matches:
        listed = scorer.config_.sectors[sector].okved
        assert any(matched.replace(".", "").startswith(p.replace(".", "")) for p in listed)


@SLOW
@given(st.one_of(st.text(max_size=10), st.integers(), st.floats(allow_nan=False), st.none(), code))
def test_an_okved_entry_in_sectors_yaml_loads_or_names_its_key(entry):
    data = yaml.safe_load(SECTORS_YAML.read_text(encoding="utf-8"))
    first = next(iter(data["sectors"]))
    data["sectors"] = {k: v for k, v in data["sectors"].items() if k in (first, "other")}  # small: fast to load
    data["sectors"][first]["okved"] = [entry]
    try:
        config = load_sectors(text=yaml.safe_dump(data, allow_unicode=True))
    except ConfigError as exc:
        assert f"sectors.{first}.okved.0: " in str(exc)
    else:
        assert str(entry) in config.sector(first).okved


# --- batches of values (matcher/frame.py) ---------------------------------------------------------------


@FAST
@given(
    st.sampled_from([*ANSWER_INPUTS, "investment_usd", "employees", "okved"]),
    st.lists(tricky_text, min_size=1, max_size=6),
)
def test_the_batch_reader_agrees_with_the_value_readers(scorer, field, values):
    frame = read_frame(pa.table({"name": ["Firm"] * len(values), field: values}), scorer.detector_)
    reader = READERS.get(field, parse_commitment)  # the other answers are commitments
    for row, value in enumerate(values):
        errors = [e for e in frame.errors if e.row == row]
        try:
            expected = reader(field, value)
        except InvalidValue:
            assert [e.field for e in errors] == [field] and not frame.ok[row]
            continue
        assert not errors and frame.ok[row]
        if field in ("investment_usd", "employees"):
            got = frame.numbers[field][row]
            assert (math.isnan(got) and expected is None) or got == expected
        elif field == "okved":
            assert frame.codes[row] == expected
        else:
            index = frame.answers[field][row]
            assert (ANSWER_INPUTS[field][index] if index >= 0 else None) == expected


# --- JSON profiles (matcher/profile.py, matcher/result.py) ----------------------------------------------

keys = st.one_of(
    st.sampled_from([*FIELDS, "Name", " NAME ", "company", "Investment", "оквэд", "e-mail"]), st.text(max_size=8)
)


@FAST
@given(st.lists(st.dictionaries(keys, any_json, max_size=6), min_size=1, max_size=4))
def test_any_json_profiles_give_one_result_or_field_error_each(scorer, profiles):
    table, original_keys = table_from_mappings(profiles)
    assert table.num_rows == len(profiles) and len(original_keys) == len(profiles)
    results = assess_many(profiles, scorer)
    assert len(results) == len(profiles)
    for result in results:
        if isinstance(result, InvalidValue):
            assert result.field in FIELDS and result.reason
        else:
            assert 0 <= result.score <= 100
            assert sum(c.points for c in result.contributions) == pytest.approx(result.score, abs=1e-6)


@FAST
@given(st.text(max_size=10).map(lambda s: s + "\ud800" + s), st.sampled_from(["name", "description", "Notes"]))
def test_unpaired_surrogates_never_sink_a_batch(scorer, text, key):
    results = assess_many([{"name": "Good"}, {"name": "Other", key: text}], scorer)
    assert results[0].name == "Good"
    assert not isinstance(results[1], InvalidValue) or results[1].field in FIELDS


@FAST
@given(
    st.sampled_from(sorted(set(READERS) - {"okved"})), st.text(alphabet=string.ascii_letters, min_size=1, max_size=6)
)
def test_assess_names_the_field_of_a_bad_value(scorer, field, word):
    try:
        READERS[field](field, word)
    except InvalidValue:
        with pytest.raises(InvalidValue) as info:
            assess({"name": "Firm", field: word}, scorer)
        assert info.value.field == field


# --- CSV rows (matcher/batch.py) ------------------------------------------------------------------------

cell = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "yes",
            "нет",
            "1.5m",
            "lots",
            "62.01",
            "99.9",
            "=1+1",
            " -2",
            "@x",
            "\ta",
            "a\nb",
            'say "hi"',
            "x,y",
            "office",
            "Разработка ПО",
            "phần mềm",
        ]
    ),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12),
)
CSV_HEADER = ["id", "name", "investment_usd", "employees", "training", "okved", "notes"]


@SLOW
@given(st.lists(st.lists(cell, min_size=len(CSV_HEADER) - 1, max_size=len(CSV_HEADER) - 1), min_size=1, max_size=8))
def test_every_csv_row_is_scored_or_reported_once(scorer, tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("rows")
    with open(folder / "in.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([CSV_HEADER, *[[f"r{i}", *row] for i, row in enumerate(rows)]])
    summary = score_file(folder / "in.csv", folder / "out.csv", scorer)
    out, report = read_csv(folder / "out.csv"), read_csv(folder / "out.errors.csv")
    scored_ids = [r[0] for r in out[1:]]
    reported_ids = [r[3] for r in report[1:]]
    assert sorted(scored_ids + reported_ids, key=lambda i: int(i[1:])) == [f"r{i}" for i in range(len(rows))]
    assert (summary.rows, summary.scored, summary.errors) == (len(rows), len(scored_ids), len(reported_ids))
    for line in report[1:]:
        assert int(line[0]) >= 2 and line[2]
        assert all(c in CSV_HEADER for c in line[1].split("; ")), line


# --- formula cells -------------------------------------------------------------------------------------


@FAST
@given(
    st.text(max_size=10),
    st.sampled_from(
        ["", " ", "  ", "\u00a0", "\t", "\r", "\x1c", "\x85", "\u1680", "\u2003", "\u205f", "\u3000", "\u200b"]
    ),
    st.sampled_from(["", *FORMULA_CHARS]),
    st.integers(0, 2),
)
def test_a_cell_is_defused_exactly_when_a_formula_character_leads(text, space, lead, start):
    cell_text = space + lead + text
    risky = cell_text[:1] in FORMULA_CHARS or cell_text.lstrip()[:1] in FORMULA_CHARS
    assert defuse_cell(cell_text) == ("'" + cell_text if risky else cell_text)
    column = pa.array(["x", "", cell_text, "plain"])[start:]  # a slice: its first value is not at byte 0
    assert defuse(column).to_pylist() == ["x", "", defuse_cell(cell_text), "plain"][start:]


@FAST
@given(st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=8))
def test_the_vectorised_defuse_matches_the_cell_one(texts):
    out = defuse(pa.array(texts, pa.string())).to_pylist()
    assert out == [None if t is None else defuse_cell(t) for t in texts]


# --- clean_text: the one rule for text from outside (matcher/values.py) -------------------------------

_UNWANTED = {chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}


@settings(max_examples=300, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_clean_text_leaves_only_storable_text(text):
    from matcher.values import clean_text

    out = clean_text(text)
    assert not _UNWANTED & set(out)
    out.encode("utf-8")  # no lone surrogate left: UTF-8 (and so any database) can hold it
    assert clean_text(out) == out
    kept = [c for c in text if c not in _UNWANTED]
    assert len(out) == len(kept)  # only the unwanted characters go; surrogates become U+FFFD one for one
    if not _UNWANTED & set(text) and not any("\ud800" <= c <= "\udfff" for c in text):
        assert out is text or out == text


@given(
    st.recursive(
        st.text() | st.integers() | st.none(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=10,
    )
)
@settings(max_examples=100, derandomize=True, database=None)
def test_clean_data_cleans_every_string_of_a_json_value(value):
    import json

    from matcher.values import clean_data

    assert "\\u0000" not in json.dumps(clean_data(value))
