"""Tests for matcher/sectors.py: each sector rule (codes, declared sectors, text) and its evidence."""

from __future__ import annotations

import pytest

from matcher import InvalidValue, assess

#: A description with no keyword of any sector: the sector then comes from the other inputs.
NEUTRAL = "Our company, founded in 1998, looks for partners."


@pytest.mark.parametrize(
    ("code", "sector", "prefix"),
    [
        ("62.01", "software", "62"),
        ("62", "software", "62"),
        ("26.30", "electronics", "26.3"),
        ("26.3", "electronics", "26.3"),
        ("28.99.5", "automation", "28.99"),  # subclass falls back to its class
        ("28.99", "automation", "28.99"),
        ("55.10", "hospitality", "55"),
        ("35.11.4", "clean_energy", "35.11.4"),  # renewables subclass: its own, longer prefix
        ("35.11.1", "energy", "35"),  # other power generation: division 35
        ("35.11.3", "nuclear", "35.11.3"),
        ("71.12.1", "construction", "71.12"),
        ("25.62", "precision_engineering", "25.62"),
        ("25.61", "manufacturing", "25.61"),
        ("28.29", "manufacturing", "28.2"),
        ("28.30", "agrifood", "28.30"),
        ("63.11", "data_ai", "63.1"),
        ("72.11", "biotech", "72.11"),
        ("47.11", "retail", "47"),
        ("85.41", "education", "85"),
        ("64.19", "finance", "64"),
        ("79.11", "tourism", "79"),
        ("52.10", "logistics", "52"),
    ],
)
def test_okved_prefix_gives_sector(scorer, config, code, sector, prefix):
    index, matched = scorer.detector_.code_sector(code)
    assert config.sector_ids[index] == sector
    assert matched == prefix


def test_every_listed_prefix_maps_to_its_own_sector(scorer, config):
    for sector in config.sectors:
        for code in sector.okved:
            index, matched = scorer.detector_.code_sector(code)
            assert (config.sector_ids[index], matched) == (sector.id, code)


@pytest.mark.parametrize("code", ["96.02", "84.11", "99"])
def test_valid_code_in_no_listed_sector_maps_to_nothing(scorer, code):
    assert scorer.detector_.code_sector(code) == (-1, "")


@pytest.mark.parametrize(
    ("okved", "sector", "tier", "evidence"),
    [
        ("62.01", "software", "hanoi_priority", "62.01"),
        ("26.30", "electronics", "hanoi_priority", "26.30"),
        ("28.99.5", "automation", "hanoi_priority", "28.99.5"),
        ("55.10", "hospitality", "existing_fdi", "55.10"),
        ("35.11.4", "clean_energy", "hanoi_priority", "35.11.4"),
        ("46.90", "trade", "connectivity", "46.90"),
    ],
)
def test_okved_sector_in_result_with_evidence(make_profile, okved, sector, tier, evidence):
    result = assess(make_profile(okved=okved, description=NEUTRAL, sectors=""))
    assert result.sector == sector
    assert result.tier == tier
    assert result.sectors[0] == {"sector": sector, "source": "okved", "evidence": [evidence], "share": 1.0}
    assert f"from OKVED {evidence}" in result.explanation


def test_codes_win_over_text(make_profile):
    result = assess(make_profile(okved="62.01", description="Hotel and restaurant chain in Hanoi"))
    assert result.sector == "software"
    assert result.sectors[0]["source"] == "okved"
    # the text evidence is still reported, after the main sector
    by_sector = {m["sector"]: m for m in result.sectors}
    assert by_sector["hospitality"]["source"] == "description"
    assert {"hotel", "restaurant"} <= set(by_sector["hospitality"]["evidence"])  # with the model's other words


def test_valid_but_unlisted_code_falls_through_to_the_text(make_profile):
    result = assess(make_profile(okved="96.02", description="Custom software development"))
    assert result.sector == "software"
    assert result.sectors[0]["source"] == "description"
    # every keyword phrase found, among the words the learned model weighs for software (heaviest first);
    # "software" alone is not repeated beside the phrases that hold it
    evidence = result.sectors[0]["evidence"]
    assert {"custom software", "software development"} <= set(evidence)
    assert "software" not in evidence and len(evidence) == len(set(evidence))


def test_first_mapped_code_decides_and_all_codes_are_reported(make_profile):
    result = assess(make_profile(okved="96.02;55.10;62.01", description=NEUTRAL))
    assert result.sector == "hospitality"
    assert {m["sector"]: m["evidence"] for m in result.sectors} == {"hospitality": ["55.10"], "software": ["62.01"]}


@pytest.mark.parametrize(
    ("declared", "sector"),
    [
        ("data_ai", "data_ai"),
        ("cybersecurity", "cybersecurity"),
        ("Cybersecurity", "cybersecurity"),  # the English label
        ("Кибербезопасность", "cybersecurity"),  # the Russian label
        ("An ninh mạng", "cybersecurity"),  # the Vietnamese label
        ("tourism; logistics", "tourism"),  # the first named wins
        ("data-ai", "data_ai"),  # an id typed with a hyphen or a space instead of its underscore
        ("Precision Engineering", "precision_engineering"),
        ("smart-city", "smart_city"),
    ],
)
def test_declared_sector_ids_and_labels(make_profile, declared, sector):
    result = assess(make_profile(okved="", description=NEUTRAL, sectors=declared))
    assert result.sector == sector
    assert result.sectors[0]["source"] == "declared"
    assert "as declared" in result.explanation


def test_declared_free_words_are_searched_as_text(make_profile):
    result = assess(make_profile(okved="", description=NEUTRAL, sectors="industrial robots"))
    assert result.sector == "automation"
    assert result.sectors[0]["source"] == "description"


def test_codes_win_over_declared_and_declared_over_text(make_profile):
    assert assess(make_profile(okved="55.10", sectors="software", description=NEUTRAL)).sector == "hospitality"
    assert assess(make_profile(okved="", sectors="software", description="Hotel chain")).sector == "software"


@pytest.mark.parametrize(
    ("description", "sector", "evidence"),
    [
        # Russian only, inflected forms of the listed words
        ("Разрабатываем программное обеспечение для промышленных предприятий", "software", ["программное обеспечение"]),
        ("Разработка программного обеспечения на заказ", "software", ["программное обеспечение"]),
        ("Производим микросхемы и датчики", "electronics", ["датчик", "микросхема"]),
        ("Выпускаем промышленных роботов", "automation", ["промышленный робот", "робот"]),
        ("Услуги по кибербезопасности", "cybersecurity", ["кибербезопасность"]),
        ("Сеть гостиниц и ресторанов", "hospitality", ["гостиница", "ресторан"]),
        # English only
        (
            "We build industrial robots and machine vision systems",
            "automation",
            ["industrial robot", "machine vision"],
        ),  # "robotics" (the stem robot) is said by "industrial robot"
        ("Penetration testing and incident response", "cybersecurity", ["incident response", "penetration testing"]),
        ("Biotechnology: probiotics by fermentation", "biotech", ["biotechnology", "fermentation", "probiotic"]),
        ("Smart city platform for traffic lights", "smart_city", ["smart city"]),
        ("Dairy products for supermarkets", "agrifood", ["dairy"]),
        # "hospitality" (hospitality) and "hospital" (healthcare) share the stem "hospit"
        ("Hospitality group", "hospitality", ["hospitality"]),
        ("Smart transport systems for cities", "smart_city", ["smart transport"]),
        # Vietnamese only
        ("Công ty phát triển trí tuệ nhân tạo", "data_ai", ["trí tuệ nhân tạo"]),
        ("Sản xuất linh kiện điện tử và cảm biến", "electronics", ["cảm biến", "linh kiện điện tử"]),
        ("Chuỗi khách sạn và nhà hàng", "hospitality", ["khách sạn", "nhà hàng"]),
        ("Công ty xây dựng nhà ở", "construction", ["nhà ở", "xây dựng"]),
        ("Bảo dưỡng máy bay", "aerospace", ["bảo dưỡng máy bay"]),
    ],
)
def test_text_only_gives_sector_with_keyword_evidence(make_profile, description, sector, evidence):
    result = assess(make_profile(okved="", sectors="", description=description))
    assert result.sector == sector
    main = result.sectors[0]
    assert (main["sector"], main["source"]) == (sector, "description")
    # the keywords found, among the other words the learned model weighs for the sector; a word a
    # listed phrase holds is shown once, in the phrase
    shown = set(main["evidence"]) | {w for phrase in main["evidence"] for w in phrase.split()}
    assert set(evidence) <= shown
    assert len(main["evidence"]) == len(set(main["evidence"]))
    assert "from the words: " in result.explanation


def test_description_without_keyword_is_other(make_profile):
    result = assess(make_profile(okved="", sectors="", description=NEUTRAL))
    assert result.sector == "other"
    assert result.tier == "general"
    assert result.sectors == [{"sector": "other", "source": "default", "evidence": [], "share": 1.0}]
    assert "sector uncertain" in result.explanation and result.sector_uncertain
    assert "description" not in result.missing
    assert result.contributions[0].points == 4.5  # general tier 0.15 x 30


def test_empty_description_and_codes_is_unknown_and_missing(make_profile):
    result = assess(make_profile(okved="", sectors="", description=""))
    assert result.sector is None
    assert result.tier is None
    assert result.sectors == []
    assert result.missing[:2] == ["description", "okved"]
    assert result.contributions[0].points == 0.0
    assert "sector unknown" in result.explanation


def test_profile_with_nothing_but_a_name_is_unknown_and_missing():
    # README's CSV data contract: only `name` is required; a profile with nothing else is scored, sector unknown.
    result = assess({"name": "Only a name"})
    assert result.sector is None
    assert result.score == 0.0
    assert "description" in result.missing and "okved" in result.missing
    assert result.completeness == 0.0


def test_profile_with_only_a_code_and_no_description_field(make_profile):
    # No `description` key at all (a JSON object or a CSV without that column).
    result = assess(make_profile(description=None, sectors=None, okved="62.01"))
    assert result.sector == "software"
    assert result.sectors[0]["evidence"] == ["62.01"]


def test_invalid_code_is_reported_not_guessed(make_profile):
    with pytest.raises(InvalidValue) as info:
        assess(make_profile(okved="62.011"))
    assert info.value.field == "okved"
    assert info.value.value == "62.011"
