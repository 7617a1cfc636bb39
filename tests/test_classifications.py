"""Tests for matcher/classifications.py and tools/build_classification_corpus.py: the shipped
classification titles, and the sector each class gets through sectors.yaml's code prefixes."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from matcher import assess
from matcher.classifications import SYSTEMS, coverage_gaps, label_codes, labelled_classes, read_classification

ROOT = Path(__file__).resolve().parent.parent

#: Sectors no official class teaches, per language, and why. A new gap (or a closed one) must
#: be written here: the classifier's hand-written phrases have to cover these.
KNOWN_GAPS = {
    # No OKVED 2 / NACE code is information security: sectors.yaml lists no prefix for it.
    "ru": ["cybersecurity"],
    # NACE has no renewables subclass (OKVED's 35.11.4 is national): wind and solar are 35.11.
    "en": ["cybersecurity", "clean_energy"],
    # ISIC 7210 is both NACE 72.11 (biotech) and 72.19 (other); ISIC 7110 both 71.11 (smart
    # city) and 71.12 (construction): those VSIC classes stay unlabelled.
    "vi": ["biotech", "cybersecurity", "clean_energy", "smart_city"],
}


@pytest.fixture(scope="module")
def classes(scorer):
    """Every shipped class, labelled with the fitted scorer's own detector."""
    return labelled_classes(detector=scorer.detector_)


@pytest.fixture(scope="module")
def by_code(classes):
    return {(row.system, row.code): row for row in classes}


@pytest.mark.parametrize(
    ("system", "code", "title"),
    [
        ("okved2", "26.20", "Производство компьютеров и периферийного оборудования"),
        ("nace2", "62.01", "Computer programming activities"),
        ("vsic2007", "2620", "Sản xuất máy vi tính và thiết bị ngoại vi của máy vi tính"),
    ],
)
def test_shipped_files_hold_the_official_titles(system, code, title):
    rows = {row["code"]: row for row in read_classification(system)}
    assert rows[code]["title"] == title


def test_shipped_files_have_every_class():
    counts = {system: sum(row["level"] == "class" for row in read_classification(system)) for system in SYSTEMS}
    # OKVED 2 and NACE Rev. 2 have 615 classes (OKVED adds a few national ones); VSIC 2007 437.
    assert counts["nace2"] == 615 and counts["okved2"] >= 615 and counts["vsic2007"] == 437


def test_nace_notes_are_the_includes_not_the_excludes():
    row = next(r for r in read_classification("nace2") if r["code"] == "26.20")
    assert "computer servers" in row["notes"]  # "This class includes ... computer servers"
    assert "manufacture of electronic components" not in row["notes"]  # an "excludes" line


def test_unknown_system_is_refused():
    with pytest.raises(ValueError, match="okved2"):
        read_classification("isic4")


@pytest.mark.parametrize(
    ("system", "code", "sector", "via"),
    [
        ("okved2", "26.20", "electronics", "code"),
        ("okved2", "62.01", "software", "code"),
        ("okved2", "35.11", "energy", "code"),
        ("okved2", "35.11.4", "clean_energy", "code"),  # the renewables subclass
        ("okved2", "84.11", "other", "code"),  # public administration: no listed prefix
        ("okved2", "26", None, "none"),  # division 26: electronics and precision engineering
        ("okved2", "28.3", "agrifood", "below"),  # group 28.3 is only class 28.30
        ("nace2", "26.20", "electronics", "code"),
        ("nace2", "62.01", "software", "code"),
        ("nace2", "28.14", "manufacturing", "code"),
        ("vsic2007", "2620", "electronics", "isic"),
        ("vsic2007", "26200", "electronics", "isic"),  # subclass: its class's sector
        ("vsic2007", "6201", "software", "isic"),
        ("vsic2007", "2813", "manufacturing", "isic"),  # ISIC 2813 = NACE 28.13 + 28.14
        ("vsic2007", "4511", "automotive", "isic"),  # not an ISIC class: ISIC group 451
        ("vsic2007", "7210", None, "none"),  # NACE 72.11 biotech and 72.19 other disagree
        ("vsic2007", "26", None, "none"),
    ],
)
def test_known_codes_get_their_sector(by_code, system, code, sector, via):
    row = by_code[(system, code)]
    assert (row.sector, row.via) == (sector, via)


def test_every_sector_is_taught_in_every_language_or_listed(classes, config):
    labelled = [row for row in classes if row.sector is not None]
    assert coverage_gaps(labelled, config.sector_ids) == KNOWN_GAPS


def test_labels_are_the_sector_a_firm_with_that_code_gets(classes, scorer):
    """One table drives both: a class's label is what assess() gives a firm with only that code."""
    rows = [r for r in classes if r.system == "okved2" and r.via == "code" and r.level in ("class", "subclass")]
    for row in rows[::40]:
        result = assess({"name": "Firm", "okved": row.code}, scorer)
        assert result.sector == row.sector, row.code


def test_a_parent_with_mixed_children_is_unlabelled(scorer):
    labels = label_codes(["27", "27.11", "27.12"], scorer.detector_)
    assert labels["27"] == (None, "none")
    assert labels["27.11"] == ("manufacturing", "code") and labels["27.12"] == ("automation", "code")


def _build_module():
    spec = importlib.util.spec_from_file_location("build_corpus", ROOT / "tools" / "build_classification_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_keeps_titles_and_includes_only(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "okved2_ru.csv").write_text(
        'section,code,name_ru,level\nJ,,"ИНФОРМАЦИЯ  И СВЯЗЬ",section\nJ,62.01,"Разработка\n программ",class\n',
        encoding="utf-8",
    )
    (source / "nace_rev2_en.csv").write_text(
        '"Order";"Level";"Code";"Parent";"Description";"This_item_includes";"This_item_also_includes";'
        '"Rulings";"This_item_excludes";"Reference_to_ISIC_Rev._4"\n'
        '1;1;"J";"";"INFORMATION";"";"";"";"";"J"\n'
        '2;4;"62.01";"62.0";"Computer programming";"This class includes:\n- writing code";"- web pages";'
        '"a ruling";"- publishing, see 58.29";"6201"\n',
        encoding="utf-8",
    )
    (source / "vsic2007_vi.csv").write_text(
        "level,code,name_vi\n1,J,THÔNG TIN\n4,6201,Lập trình máy vi tính\n", encoding="utf-8"
    )
    module = _build_module()
    monkeypatch.setattr(module, "TARGET", tmp_path / "out")
    assert module.main([str(source)]) == 0

    def read(name):
        with open(tmp_path / "out" / name, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    assert read("okved2_ru.csv") == [{"code": "62.01", "level": "class", "title": "Разработка / программ"}]
    assert read("nace_rev2_en.csv") == [
        {
            "code": "62.01",
            "level": "class",
            "title": "Computer programming",
            "isic": "6201",
            "notes": "This class includes: / - writing code / - web pages",
        }
    ]
    assert read("vsic_vi.csv") == [{"code": "6201", "level": "class", "title": "Lập trình máy vi tính"}]
