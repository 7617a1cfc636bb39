"""Tests for matcher/result.py: `assess`, `assess_many` and the ScoreResult they return."""

from __future__ import annotations

import json
import re

import pytest

from matcher import InvalidValue, ScoreResult, assess, assess_many


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "65.5 of 100",
                "band B (good fit)",
                "sector IT and software (Hanoi priority) from OKVED 62.01",
                "strongest: Priority-sector fit +30.0, Local staff training +12.0",
                "best improvement: commit to transferring technology to Vietnamese partners (+16.0)",
            ],
        ),
        (
            "ru",
            [
                "65,5 из 100",
                "категория B (хорошее соответствие)",
                "отрасль ИТ и программное обеспечение (Приоритет Ханоя) по коду ОКВЭД 62.01",
                "главное: Соответствие приоритетным отраслям +30,0",
                "лучше всего повысит балл: взять обязательство передать технологии вьетнамским партнёрам (+16,0)",
            ],
        ),
        (
            "vi",
            [
                "65,5/100 điểm",
                "hạng B (phù hợp)",
                "ngành Công nghệ thông tin và phần mềm (Ưu tiên của Hà Nội) theo mã OKVED 62.01",
                "đóng góp lớn nhất: Phù hợp ngành ưu tiên +30,0",
                "cải thiện tốt nhất: cam kết chuyển giao công nghệ cho đối tác Việt Nam (+16,0)",
            ],
        ),
    ],
)
def test_explanation_in_each_language(make_profile, lang, words):
    result = assess(make_profile(), lang=lang)
    assert result.lang == lang
    for word in words:
        assert word in result.explanation


@pytest.mark.parametrize(
    ("lang", "missing_clause", "sector_label", "band_label"),
    [
        ("en", "missing: local staff training, presence in Vietnam", "IT and software", "good fit"),
        (
            "ru",
            "не указано: обучение местных кадров, присутствие во Вьетнаме",
            "ИТ и программное обеспечение",
            "хорошее соответствие",
        ),
        (
            "vi",
            "còn thiếu: đào tạo nhân lực địa phương, hiện diện tại Việt Nam",
            "Công nghệ thông tin và phần mềm",
            "phù hợp",
        ),
    ],
)
def test_missing_fields_and_labels_in_each_language(make_profile, lang, missing_clause, sector_label, band_label):
    # training and presence unknown, technology transfer committed (see the worked example)
    result = assess(make_profile(training="", vietnam_presence="", tech_transfer="committed"), lang=lang)
    assert result.missing == ["training", "vietnam_presence"]
    assert missing_clause in result.explanation
    assert result.sector_label == sector_label
    assert result.band == "B"
    assert result.band_label == band_label
    # 30 + 8.4 + 16 + 0 + 6 + 4.28 + 0 = 64.68 -> 64.7
    assert result.score == 64.7


def test_contribution_labels_follow_the_language(make_profile):
    labels = {lang: [c.label for c in assess(make_profile(), lang=lang).contributions] for lang in ("en", "ru", "vi")}
    assert labels["en"][0] == "Priority-sector fit"
    assert labels["ru"][0] == "Соответствие приоритетным отраслям"
    assert labels["vi"][0] == "Phù hợp ngành ưu tiên"


def test_improvements_sorted_by_gain_and_shown_as_plus_gain(make_profile):
    result = assess(make_profile(tech_transfer="", green="none", esg_report="no", employees="", investment_usd=""))
    gains = [i.gain for i in result.improvements]
    assert gains == sorted(gains, reverse=True)
    assert all(g > 0 for g in gains)
    # 16 x 1.0 = 16.0 for technology transfer, the biggest gap
    assert (result.improvements[0].field, result.improvements[0].gain) == ("tech_transfer", 16.0)
    top = f"{result.improvements[0].advice} (+{result.improvements[0].gain:.1f})"
    assert top in result.explanation
    assert re.search(r"\(\+\d+\.\d\)$", result.explanation)
    fields = [i.field for i in result.improvements]
    assert len(fields) == len(set(fields))  # one suggestion per field (the next threshold only)
    by_field = {i.field: i for i in result.improvements}
    # unknown investment: the next threshold is US$100,000 -> 8 x 0.7 x 0.3 = 1.68 -> +1.7
    assert by_field["investment_usd"].advice == "plan an investment of at least US$100,000"
    assert by_field["investment_usd"].gain == 1.7
    # unknown employees: 10 -> 8 x 0.3 x 0.3 = 0.72 -> +0.7
    assert by_field["employees"].advice == "a firm of at least 10 employees"
    assert by_field["employees"].gain == 0.7


def test_nothing_left_to_improve():
    result = assess(
        {
            "name": "Perfect",
            "okved": "26.30",
            "description": "Microelectronics",
            "investment_usd": "150m",
            "employees": "2000",
            "tech_transfer": "yes",
            "training": "yes",
            "local_partner": "yes",
            "green": "yes",
            "esg_report": "yes",
            "vietnam_presence": "project",
        }
    )
    assert result.score == 100.0
    assert result.band == "A"
    assert result.improvements == []
    assert result.explanation.endswith("nothing left to improve")
    assert result.completeness == 1.0


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("training", "perhaps", "expected committed, planned or none"),
        ("investment_usd", "lots", "expected an amount in US$"),
        ("employees", "12.5", "expected a whole number"),
        ("okved", "99.999", "not an OKVED 2 / NACE Rev. 2 code"),
        ("vietnam_presence", "factory", "expected none, office or project"),
        ("esg_report", "sometimes", "expected yes or no"),
    ],
)
def test_invalid_value_names_the_field(make_profile, field, value, reason):
    with pytest.raises(InvalidValue) as info:
        assess(make_profile(**{field: value}))
    assert info.value.field == field
    assert info.value.value == value
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{field}: ")


def test_missing_name_is_an_invalid_value(make_profile):
    with pytest.raises(InvalidValue) as info:
        assess(make_profile(name="  "))
    assert info.value.field == "name"


def test_assess_many_keeps_order_and_reports_bad_profiles(make_profile):
    results = assess_many(
        [make_profile(name="A"), make_profile(name="B", employees="many"), make_profile(name="C", okved="55.10")]
    )
    assert isinstance(results[0], ScoreResult) and results[0].name == "A"
    assert isinstance(results[1], InvalidValue) and results[1].field == "employees"
    assert isinstance(results[2], ScoreResult) and results[2].name == "C"
    assert results[2].sector == "hospitality"
    # the same profile scores the same alone and in a batch
    assert results[0].score == assess(make_profile(name="A")).score == 65.5


def test_json_values_and_aliases(make_profile):
    # JSON booleans, numbers and lists are read as the CSV text would be
    profile = make_profile(
        training=True,
        tech_transfer=False,
        employees=120,
        investment_usd=2_000_000,
        okved=["62.01", "63.11"],
        esg_report=True,
    )
    result = assess(profile)
    assert result.score == 65.5
    assert [m["sector"] for m in result.sectors] == ["software", "data_ai"]
    aliased = {"Company": "Alias Ltd", "Описание": "Разрабатываем программное обеспечение", "NACE": "62.01"}
    result = assess(aliased)
    assert result.name == "Alias Ltd"
    assert result.sector == "software"


def test_to_dict_is_json_ready(make_profile):
    data = assess(make_profile(), lang="vi").to_dict()
    text = json.dumps(data, ensure_ascii=False)
    back = json.loads(text)
    assert back["score"] == 65.5
    assert back["sector"] == "software"
    assert sum(c["points"] for c in back["contributions"]) == pytest.approx(back["score"])
    assert back["lang"] == "vi"


@pytest.mark.parametrize("lang", ["en", "ru", "vi"])
def test_results_are_the_objects_their_constructors_make(make_profile, lang):
    # _result builds them without the dataclasses' __init__ (matcher.result._built): the same objects
    from dataclasses import fields

    from matcher.result import Contribution, Improvement

    for result in assess_many(
        [make_profile(), make_profile(okved="", description="software"), {"name": "X"}], lang=lang
    ):
        again = ScoreResult(**{f.name: getattr(result, f.name) for f in fields(ScoreResult)})
        assert result == again and repr(result) == repr(again) and vars(result) == vars(again)
        assert result.contributions and result.improvements
        for item in (*result.contributions, *result.improvements):
            cls = type(item)
            assert cls in (Contribution, Improvement)
            assert vars(item) == vars(cls(**{f.name: getattr(item, f.name) for f in fields(cls)}))
        assert json.loads(json.dumps(result.json_data())) == json.loads(json.dumps(result.to_dict()))


def test_contributions_add_up_to_score(make_profile):
    result = assess(make_profile(investment_usd="3.3m", employees="77", green="planned", esg_report=""))
    assert round(sum(c.points for c in result.contributions), 1) == result.score
    for c in result.contributions:
        assert abs(c.points - c.weight * c.subscore) < 0.1 + 1e-9


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["sector unknown", "missing: okved or description"]),
        ("ru", ["отрасль неизвестна", "не указано: ОКВЭД или описание"]),
        ("vi", ["chưa rõ ngành", "còn thiếu: mã OKVED hoặc mô tả"]),
    ],
)
def test_unknown_sector_explained_in_each_language(make_profile, lang, words):
    result = assess(make_profile(okved="", description="", sectors=""), lang=lang)
    assert result.sector is None
    for word in words:
        assert word in result.explanation


@pytest.mark.parametrize(
    ("lang", "investment", "employees"),
    [
        ("en", "plan an investment of at least US$5,000,000", "a firm of at least 250 employees"),
        ("ru", "запланировать инвестиции не менее 5\u00a0000\u00a0000 долл. США", "компания от 250 сотрудников"),
        ("vi", "lên kế hoạch đầu tư ít nhất 5.000.000 USD", "doanh nghiệp từ 250 nhân viên"),
    ],
)
def test_threshold_advice_names_the_next_threshold_in_local_notation(make_profile, lang, investment, employees):
    # investment 2m (next bound 5m: +1.1) and 120 employees (next bound 250: +0.6), see the worked example
    by_field = {i.field: i for i in assess(make_profile(), lang=lang).improvements}
    assert (by_field["investment_usd"].advice, by_field["investment_usd"].gain) == (investment, 1.1)
    assert (by_field["employees"].advice, by_field["employees"].gain) == (employees, 0.6)


def test_assess_many_of_nothing_is_nothing():
    # e.g. a JSON batch request with an empty list
    assert assess_many([]) == []


def test_nan_from_a_dataframe_is_unknown(make_profile):
    # Rows built with pandas carry float("nan") for empty cells; values.clean() reads NaN as
    # empty, so the profile path must too: unknown, never an invalid value.
    result = assess(make_profile(employees=float("nan"), investment_usd=float("nan")))
    assert "employees" in result.missing and "investment_usd" in result.missing
    assert result.score == 61.2  # the worked example without capacity: 30 + 8.4 + 12 + 6 + 4.8
