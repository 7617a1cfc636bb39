"""OKVED 2 codes as people type them (matcher.okved): reading, existence, titles, search."""

from __future__ import annotations

import pytest

from matcher.okved import default_index, fold, normalise


@pytest.fixture(scope="module")
def index():
    return default_index()


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("28,99", "28.99"),
        ("28.99", "28.99"),
        ("2899", "28.99"),
        ("26", "26"),
        ("28.9", "28.9"),
        (" 62.01 ", "62.01"),
        ("ОКВЭД 62.01", "62.01"),
        ("OKVED: 62.01", "62.01"),
        ("28.9.", "28.9"),
        ("289", "28.9"),
        ("28991", "28.99.1"),
        ("99.99.99", "99.99.99"),
    ],
)
def test_normalise_reads_the_usual_spellings(typed, code):
    assert normalise(typed) == code


@pytest.mark.parametrize("typed", ["", "abc", "6", "62.001", "62 01", "1234567", "62..01", None])
def test_normalise_refuses_what_is_no_code(typed):
    assert normalise(typed) is None


def test_exists_knows_okved_and_nace_codes_only(index):
    assert all(index.exists(c) for c in ("26", "28.9", "28.99", "62.01", "26.20.1", "85.41"))
    assert not index.exists("99.99.99") and not index.exists("04") and not index.exists("62.09.9")


def test_titles_in_three_languages(index):
    assert index.title("26.20", "ru") == "Производство компьютеров и периферийного оборудования"
    assert index.title("26.20", "en") == "Manufacture of computers and peripheral equipment"
    # a whole division where VSIC and ISIC agree gets the Vietnamese title
    assert index.title("26", "vi") == "Sản xuất sản phẩm điện tử, máy vi tính và sản phẩm quang học"
    assert index.title("99.99.99", "en") is None


def test_vietnamese_title_never_guessed_below_the_division(index):
    """VSIC 0111 is rice while NACE/ISIC 01.11 is cereals except rice: the English title stands in."""
    assert (
        index.title("01.11", "vi")
        == index.title("01.11", "en")
        == "Growing of cereals (except rice), leguminous crops and oil seeds"
    )


def test_english_title_of_a_subclass_is_its_class_and_education_stays_russian(index):
    assert index.title("26.20.1", "en") == "Manufacture of computers and peripheral equipment"
    assert index.title("26.20.1", "ru") == "Производство компьютеров"
    # OKVED's section P is not NACE's, digit for digit: no English title is borrowed
    assert index.title("85.41", "en") == index.title("85.41", "ru")


def test_split_reads_a_field_of_codes(index):
    split = index.split("28,99; 26 28.9 99.99.99, 62.01,26.3 foo ОКВЭД 62.01")
    assert split.codes == ("28.99", "26", "28.9", "62.01", "26.3")
    assert split.unknown == ("99.99.99",)
    assert split.unreadable == ("foo",)


def test_search_by_code_prefix(index):
    codes = [e.code for e in index.search("28.9", "en", 11)]
    assert codes == [
        "28.9",
        "28.91",
        "28.92",
        "28.93",
        "28.94",
        "28.95",
        "28.96",
        "28.99",
        "28.91.1",
        "28.91.2",
        "28.91.3",
    ]  # broader codes first, then code order
    assert [e.code for e in index.search("ОКВЭД 62,01", "ru", 1)] == ["62.01"]


@pytest.mark.parametrize(
    ("query", "lang", "code"),
    [
        ("компьют", "ru", "26.20"),
        ("КОМПЬЮТЕРОВ периферийного", "ru", "26.20"),
        ("computers peripheral", "en", "26.20"),
        ("san xuat may vi tinh", "vi", "26"),
        ("Máy vi tính", "vi", "26"),
        ("programming", "en", "62.01"),
    ],
)
def test_search_by_title_words_in_any_language(index, query, lang, code):
    assert code in [e.code for e in index.search(query, lang, 20)]


def test_search_matches_whole_word_prefixes_only(index):
    # "пьютер" is inside "компьютер", never at a word's start
    assert index.search("пьютер", "ru") == []
    assert index.search("", "ru") == [] and index.search("   ", "en") == []


def test_search_limit_is_bounded(index):
    assert len(index.search("производство", "ru", 1000)) == 50
    assert len(index.search("производство", "ru", 0)) == 1


def test_search_entries_carry_their_sector(index):
    entry = index.search("62.01", "en", 1)[0]
    assert (entry.code, entry.sector) == ("62.01", "software")


def test_fold_ignores_case_and_diacritics():
    assert fold("Sản Xuất Điện") == "san xuat dien" and fold("Ёлка") == "елка"
