"""Several sectors per firm with shares, and OKVED suggestions from text (issue 10, points 3, 5 and 8)."""

from __future__ import annotations

import csv

import pytest

from matcher import assess, assess_many
from matcher.batch import score_file

PROFILES = [
    {
        "name": "Both",
        "description": "We design microchips and sensors, and write the embedded software and cloud platform for them.",
    },
    {"name": "Coded", "okved": "62.01", "description": "Contract manufacturing of printed circuit boards"},
    {"name": "Two codes", "okved": "62.01; 26.20"},
    {"name": "Declared", "sectors": "logistics; software"},
    {"name": "Refined", "okved": "35.11", "description": "wind farms"},
    {
        "name": "Refined by a second sector",
        "okved": "35.11",
        "description": "Производство электроэнергии, в том числе на солнечных электростанциях",
    },
    {"name": "Text only", "description": "Производство компьютеров и серверного оборудования"},
    {"name": "Neutral", "description": "Our company, founded in 1998, looks for partners."},
    {"name": "Nothing"},
]


def _shares(result):
    return [(s["sector"], s["share"]) for s in result.sectors]


@pytest.mark.parametrize("profile", PROFILES, ids=[p["name"] for p in PROFILES])
def test_shares_add_up_and_the_main_sector_comes_first(scorer, profile):
    result = assess(profile, scorer)
    shares = _shares(result)
    if not shares:
        assert result.sector is None
        return
    assert shares[0][0] == result.sector
    assert round(sum(share for _, share in shares), 2) == 1.0
    assert all(0 < share <= 1 for _, share in shares)
    assert len({sector for sector, _ in shares}) == len(shares)


def test_a_firm_in_two_fields_is_in_both(scorer):
    both = dict(_shares(assess(PROFILES[0], scorer)))
    assert {"electronics", "software"} <= set(both)
    two_codes = _shares(assess(PROFILES[2], scorer))
    assert two_codes == [("software", 0.5), ("electronics", 0.5)]
    declared = _shares(assess(PROFILES[3], scorer))
    assert dict(declared) == {"logistics": 0.5, "software": 0.5} and declared[0][0] == "logistics"


def test_a_refined_code_gives_its_weight_to_the_refined_sector(scorer):
    shares = _shares(assess(PROFILES[4], scorer))
    assert shares[0][0] == "clean_energy" and "energy" in dict(shares)
    assert shares[0][1] > dict(shares)["energy"]


def test_the_csv_sectors_column_is_what_the_api_gives(scorer, tmp_path):
    """Same shares, order and suggestions in the CSV (vectorised) and in results (row path)."""
    fields = ["name", "okved", "sectors", "description"]
    source = tmp_path / "in.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(PROFILES)
    score_file(source, tmp_path / "out.csv", scorer)
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    results = assess_many(PROFILES, scorer)  # row by row (a small batch)
    batch = assess_many(PROFILES * 50, scorer)[: len(PROFILES)]  # one vectorised batch
    for row, result, vectorised in zip(rows, results, batch, strict=True):
        assert row["sectors"] == ";".join(f"{s}:{share:.2f}" for s, share in _shares(result))
        assert row["okved_suggested"] == ";".join(s["code"] for s in result.okved_suggested)
        assert row["sector"] == (result.sector or "")
        assert result.to_dict() == vectorised.to_dict()


def test_okved_suggestions_from_text(scorer):
    for lang, text, code in [
        ("ru", "Производство компьютеров и серверного оборудования", "26.20"),
        ("en", "We write accounting and ERP software", "58.29"),
        ("vi", "Sản xuất linh kiện điện tử", "26.11"),
    ]:
        result = assess({"name": "A", "description": text}, scorer, lang=lang)
        codes = [s["code"] for s in result.okved_suggested]
        assert code in codes and len(codes) <= 3, (text, codes)
        assert all(s["title"] for s in result.okved_suggested)
    ru = assess({"name": "A", "description": "Производство компьютеров"}, scorer, lang="ru").okved_suggested
    assert ru[0] == {"code": "26.20", "title": "Производство компьютеров и периферийного оборудования"}


def test_no_suggestion_when_a_code_gives_the_sector(scorer):
    assert assess({"name": "A", "okved": "26.20", "description": "computers"}, scorer).okved_suggested == []
    assert assess({"name": "A"}, scorer).okved_suggested == []
    # a code that exists but is in no listed sector leaves the text to speak
    assert assess({"name": "A", "okved": "99.99.99", "description": "Production of computers"}, scorer).okved_suggested


def test_the_main_sector_has_the_largest_share_on_the_labelled_set(scorer):
    """The main sector is never shown behind a larger one: one profile and a batch agree, row by row."""
    from matcher_testlib import ROOT

    with open(ROOT / "tests" / "data" / "sector_descriptions.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    profiles = [{"name": r["id"], "description": r["description"], "okved": r["okved"]} for r in rows]
    # two sectors with equal parts: rounding must not put the second one above the main one
    profiles.append(
        {
            "name": "Tie",
            "description": "Разработка программного обеспечения и центры обработки данных; производство электроники",
        }
    )
    several = 0
    for one, batch in zip([assess(p, scorer) for p in profiles], assess_many(profiles, scorer), strict=True):
        shares = _shares(batch)
        assert _shares(one) == shares
        if len(shares) > 1:
            several += 1
            assert shares[0][1] >= max(share for _, share in shares[1:]), shares
    assert several >= 50  # the property is tried on many firms with several sectors


@pytest.mark.parametrize(
    ("description", "shown"),
    [
        ("Phát triển phần mềm cho doanh nghiệp", "phát triển phần mềm"),  # not also "phần mềm", "mềm", "triển phần"
        ("We build industrial robots", "industrial robot"),
    ],
)
def test_evidence_leaves_a_word_to_the_longer_term_that_holds_it(scorer, tmp_path, description, shown):
    """The explanation's words (CSV and one profile alike) name a phrase once, not also the words inside it."""
    result = assess({"name": "A", "description": description}, scorer)
    words = result.sectors[0]["evidence"]
    assert shown in words
    inside = [w for w in words if w != shown and f" {w} " in f" {shown} "]
    assert not inside, words
    src = tmp_path / "in.csv"
    src.write_text(f"name,description\nA,{description}\n", encoding="utf-8")
    score_file(src, tmp_path / "out.csv", scorer)
    with open(tmp_path / "out.csv", encoding="utf-8") as handle:
        explanation = next(csv.DictReader(handle))["explanation"]
    assert explanation == result.explanation
    listed = explanation.split("from the words: ")[1].split(";")[0].split(", ")
    assert shown in listed and not [w for w in listed if w != shown and f" {w} " in f" {shown} "]
