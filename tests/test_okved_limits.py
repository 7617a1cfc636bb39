"""OKVED fields of hostile size: one reader caps the codes of a profile, both readers stay linear.

A profile lists at most :data:`matcher.values.MAX_CODES` distinct codes (real firms list up to a few
hundred in EGRUL); more is an error of the ``okved`` field with the reason ``too_many_codes``, the
same on the row path, the vectorised path and a batch file, since they share
:func:`matcher.values.parse_codes`. Repeating a code does not count against the cap. Both readers
keep the first spelling of each code in the order written, and read inputs of a million items or
15 MB of spaces (what a 20 MB request holds) in one linear pass: no timings here, the sizes are what
the quadratic readers took tens of seconds on.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matcher_testlib import distinct_codes, read_csv

from matcher import InvalidValue
from matcher.batch import score_file
from matcher.messages import REASONS, Reason
from matcher.okved import LABEL_WORDS, Split, default_index, normalise
from matcher.result import assess_rowwise, assess_vectorised
from matcher.values import MAX_CODES, parse_codes


@pytest.fixture(scope="module")
def index():
    return default_index()


# --- the cap ----------------------------------------------------------------------------------------


def test_the_cap_is_a_few_hundred_codes():
    assert 300 <= MAX_CODES <= 1000


def test_exactly_the_cap_is_read_in_the_order_written():
    codes = distinct_codes(MAX_CODES)
    assert parse_codes("okved", "; ".join(codes)) == tuple(codes)


@pytest.mark.parametrize("n", [MAX_CODES + 1, 100_000])
def test_more_distinct_codes_than_the_cap_are_refused_as_a_whole(n):
    text = ";".join(distinct_codes(n))
    with pytest.raises(InvalidValue) as info:
        parse_codes("okved", text)
    exc = info.value
    assert (exc.field, exc.code, exc.value) == ("okved", "too_many_codes", text)
    assert exc.reason == Reason("too_many_codes", limit=MAX_CODES) and str(MAX_CODES) in exc.reason
    assert str(exc).startswith("okved: ")


def test_repeated_codes_do_not_count_against_the_cap():
    codes = distinct_codes(MAX_CODES)
    text = ";".join(codes * 3) + "; " + "; ".join(c + "." for c in codes)  # "62.01." is "62.01" again
    assert parse_codes("okved", text) == tuple(codes)
    assert parse_codes("okved", "62.01;" * 1_000_000) == ("62.01",)


def test_the_first_fault_in_reading_order_is_the_one_reported():
    codes = distinct_codes(MAX_CODES + 1)
    with pytest.raises(InvalidValue) as bad_first:
        parse_codes("okved", ";".join([*codes[:10], "04.1", *codes[10:]]))
    assert (bad_first.value.code, bad_first.value.value) == ("okved", "04.1")
    with pytest.raises(InvalidValue) as cap_first:
        parse_codes("okved", ";".join([*codes, "04.1"]))
    assert cap_first.value.code == "too_many_codes"


def test_the_new_reason_is_worded_in_every_language_with_its_limit():
    assert set(REASONS["too_many_codes"]) >= {"en", "ru", "vi"}
    said = {lang: Reason("too_many_codes", limit=MAX_CODES).said(lang) for lang in ("en", "ru", "vi")}
    assert all(str(MAX_CODES) in text for text in said.values())
    assert len(set(said.values())) == 3


def test_row_and_vectorised_paths_refuse_too_many_codes_alike(scorer):
    many = ";".join(distinct_codes(MAX_CODES + 1))
    profiles = [
        {"name": "A", "okved": many},
        {"name": "B", "okved": ";".join(distinct_codes(MAX_CODES))},
        {"name": "C", "okved": many, "employees": "lots"},  # the answers are read before the codes
        {"name": "D", "okved": "62.01;" * 10_000},
    ]
    rowwise = assess_rowwise(profiles, scorer, "ru")
    vectorised = assess_vectorised(profiles, scorer, "ru")
    for a, b in zip(rowwise, vectorised, strict=True):
        if isinstance(a, InvalidValue):
            assert isinstance(b, InvalidValue)
            assert (a.field, a.value, a.reason, a.code, str(a)) == (b.field, b.value, b.reason, b.code, str(b))
        else:
            assert a == b
    assert [getattr(r, "field", None) for r in rowwise] == ["okved", None, "employees", None]
    assert rowwise[0].code == vectorised[0].code == "too_many_codes"
    assert rowwise[0].value == many


def test_a_batch_file_reports_the_cell_with_too_many_codes(scorer, tmp_path):
    many = ";".join(distinct_codes(MAX_CODES + 1))
    path = tmp_path / "in.csv"
    path.write_text(f'name,okved\nA,"{many}"\nB,62.01\n', encoding="utf-8")
    summary = score_file(path, tmp_path / "out.csv", scorer, lang="vi")
    assert (summary.scored, summary.errors) == (1, 1)
    report = read_csv(tmp_path / "out.errors.csv")
    assert report[1][:3] == ["2", "okved", Reason("too_many_codes", limit=MAX_CODES).said("vi")]


# --- linear reading ---------------------------------------------------------------------------------


def test_parse_codes_of_huge_blank_padding_is_the_one_code():
    assert parse_codes("okved", "62.01" + " " * 15_000_000) == ("62.01",)
    assert parse_codes("okved", " \n;, " * 1_000_000 + "26.3") == ("26.3",)


def test_split_keeps_the_first_of_each_in_the_order_written(index):
    split = index.split("99.99.99; 62.01 foo 26.3 62.01 99.99.99 bar 62,01 foo 99.99.98 26.3")
    assert split == Split(("62.01", "26.3"), ("99.99.99", "99.99.98"), ("foo", "bar"))


def test_split_reads_huge_inputs(index):
    assert index.split("62.01" + " " * 15_000_000) == Split(("62.01",), (), ())
    assert index.split("62.01;" * 3_000_000) == Split(("62.01",), (), ())
    codes = distinct_codes(100_000)
    split = index.split(";".join(codes))
    assert split.codes == tuple(c for c in codes if index.exists(c))
    assert split.unknown == tuple(c for c in codes if not index.exists(c))
    assert split.unreadable == ()


def test_split_drops_label_words_around_codes_in_any_case(index):
    text = "ОКВЭД: 62.01; okved2 26.3, Nace:28.99 КОД 28.9 mã 62.02 Code: 26.11 ОКВЭД2 оквэд"
    assert index.split(text).codes == ("62.01", "26.3", "28.99", "28.9", "62.02", "26.11")
    # "nace" is a word of its own before "-", "OKVED" is not one inside "OKVEDX"
    assert index.split("OKVEDX 62.01 nace-26.3").unreadable == ("OKVEDX", "-26.3")


def _old_split(index, text: object) -> Split:
    """The reader as it was (a label pass per word, lists): the meaning the linear one must keep."""
    codes, unknown, bad = [], [], []
    text = str(text or "")
    for label in LABEL_WORDS:
        text = re.sub(rf"(?i)(?<!\w){re.escape(label)}(?!\w):?", " ", text)
    for item in re.split(r"[;\s]+|,\s+", text):
        if not item.strip(",."):
            continue
        for part in index._read_item(item):
            code = normalise(part)
            target = bad if code is None else codes if index.exists(code) else unknown
            value = part if code is None else code
            if value not in target:
                target.append(value)
    return Split(tuple(codes), tuple(unknown), tuple(bad))


_PIECES = st.sampled_from(
    [
        "62.01",
        "62,01",
        "28,99",
        "2899",
        "26",
        "99.99.99",
        "26.3",
        "62.01,26.3",
        "foo",
        "x1",
        "ОКВЭД",
        "оквэд2",
        "OKVED",
        "Okved2",
        "окved",
        "NACE",
        "код",
        "Code",
        "mã",
        "MA",
        "ma",
        "2",
        "okvedx",
        "-",
        ".",
    ]
)
_GLUE = st.sampled_from(["", " ", ";", ",", ", ", ":", ": ", "\n", "  ;  ", ",,", "\t"])


@settings(max_examples=300)
@given(st.lists(st.tuples(_PIECES, _GLUE), max_size=12))
def test_split_reads_exactly_as_before(pairs):
    text = "".join(piece + glue for piece, glue in pairs)
    index = default_index()
    assert index.split(text) == _old_split(index, text)
