"""The hand-written labelled set tests/data/sector_descriptions.csv is well formed."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from matcher.classifications import read_classification

DATA = Path(__file__).resolve().parent / "data" / "sector_descriptions.csv"
COLUMNS = ["id", "lang", "description", "okved", "sectors", "main_sector", "note"]
LANGS = ("en", "ru", "vi")
#: The examples of issue 10's table, verbatim, with the sector they should get.
ISSUE_EXAMPLES = [
    ("ru", "Производство компьютеров и серверного оборудования", "", "electronics"),
    ("ru", "Компания оказывает услуги по защите информации и аудиту безопасности", "", "cybersecurity"),
    ("ru", "Строительство жилых домов и торговых центров", "", "construction"),
    ("ru", "Выращивание зерновых культур и производство муки", "", "agrifood"),
    ("ru", "Туроператор; электроникой не занимаемся", "", "tourism"),
    ("vi", "Sản xuất điện tử", "", "electronics"),
    ("en", "wind turbines", "35.11", "clean_energy"),
]


@pytest.fixture(scope="module")
def rows():
    with open(DATA, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_ids_are_unique_and_languages_known(rows):
    assert len({row["id"] for row in rows}) == len(rows)
    assert {row["lang"] for row in rows} == set(LANGS)
    assert all(row["id"].startswith(row["lang"] + "-") for row in rows)


def test_at_least_70_rows_per_language(rows):
    counts = Counter(row["lang"] for row in rows)
    assert min(counts[lang] for lang in LANGS) >= 70, counts


def test_every_row_is_labelled_with_known_sectors(rows, config):
    for row in rows:
        sectors = row["sectors"].split(";")
        assert row["description"].strip() and row["note"].strip(), row["id"]
        assert set(sectors) <= set(config.sector_ids), row["id"]
        assert len(set(sectors)) == len(sectors) and row["main_sector"] == sectors[0], row["id"]


def test_every_sector_has_three_rows_per_language(rows, config):
    counts = Counter((row["lang"], row["main_sector"]) for row in rows)
    missing = [(lang, s) for lang in LANGS for s in config.sector_ids if counts[(lang, s)] < 3]
    assert missing == []


def test_codes_exist_and_are_a_minority(rows):
    okved = {r["code"] for r in read_classification("okved2")}
    coded = [row for row in rows if row["okved"]]
    assert [row["okved"] for row in coded if row["okved"] not in okved] == []
    assert 0.15 <= len(coded) / len(rows) <= 0.3


def test_the_hard_cases_are_all_there(rows):
    notes = Counter(note for row in rows for note in row["note"].split(";"))
    for note in (
        "negation",
        "multi",
        "incidental",
        "brand-noun",
        "generic-word",
        "no-vocabulary",
        "code-refined",
        "code-wins",
        "other",
    ):
        assert notes[note] >= 3, (note, notes[note])
    assert all(len(row["sectors"].split(";")) > 1 for row in rows if "multi" in row["note"])


def test_issue_examples_are_included_verbatim(rows):
    found = {(row["lang"], row["description"], row["okved"]): row["main_sector"] for row in rows}
    assert [found.get(example[:3]) for example in ISSUE_EXAMPLES] == [example[3] for example in ISSUE_EXAMPLES]
