"""Tests for matcher/scoring.py: the weighted model, rounding, and each criterion by hand.

Weights (sectors.yaml, checked in tests/test_config.py::test_criteria_weights_and_bands_are_the_documented_ones):
sector_fit 30, green 14, tech_transfer 16, training 12, local_linkage 12, capacity 8, readiness 8.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matcher import assess, assess_many, wsm
from matcher.scoring import round_tenths, threshold_values


def points(result):
    """criterion id -> contribution in points."""
    return {c.criterion: c.points for c in result.contributions}


# ---------------------------------------------------------------------------------------
# wsm and round_tenths with hand-worked numbers


def test_wsm_hand_worked():
    matrix = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, 0.25]])
    weights = np.array([50.0, 30.0, 20.0])
    contributions, scores = wsm(matrix, weights)
    # row 1: 50 x 1 + 30 x 0.5 + 20 x 0 = 50 + 15 + 0 = 65
    # row 2: 50 x 0.2 + 30 x 1 + 20 x 0.25 = 10 + 30 + 5 = 45
    assert contributions.tolist() == [[50.0, 15.0, 0.0], [10.0, 30.0, 5.0]]
    assert scores.tolist() == [65.0, 45.0]


@pytest.mark.parametrize(
    ("contributions", "parts", "score"),
    [
        # exact tenths stay as they are
        ([[30.0, 8.4, 12.0]], [[300, 84, 120]], 504),
        # 4.28 + 8.4 = 12.68 -> score 12.7; floors 4.2 + 8.4 = 12.6 owe one tenth -> to 4.28 (remainder .8)
        ([[4.28, 8.4]], [[43, 84]], 127),
        # 1.04 + 1.04 + 1.04 = 3.12 -> 3.1; floors 1.0 x 3 = 3.0 owe one tenth -> the first (stable order)
        ([[1.04, 1.04, 1.04]], [[11, 10, 10]], 31),
        # 0.05 rounds half up to 0.1
        ([[0.05, 0.0]], [[1, 0]], 1),
        # 3.36 + 1.12 + 5.6 = 10.08 -> 10.1; floors 3.3 + 1.1 + 5.6 = 10.0 owe one -> 3.36 (.6 > .2)
        ([[3.36, 1.12, 5.6]], [[34, 11, 56]], 101),
        # 2.25 + 2.25 = 4.5; floors 2.2 + 2.2 = 4.4 owe one tenth -> the first of equal remainders
        ([[2.25, 2.25]], [[23, 22]], 45),
    ],
)
def test_round_tenths_hand_worked(contributions, parts, score):
    tenths, total = round_tenths(np.array(contributions))
    assert tenths.tolist() == parts
    assert total.tolist() == [score]
    assert tenths.sum(axis=1).tolist() == [score]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda k: st.tuples(
            hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.just(k)), elements=st.floats(0, 1)),
            hnp.arrays(np.float64, st.just(k), elements=st.floats(0.01, 100)),
        )
    )
)
def test_contributions_always_add_up_to_the_score(args):
    matrix, weights = args
    weights = weights * (100.0 / weights.sum())  # points per criterion, adding up to 100, as Config.weights()
    contributions, scores = wsm(matrix, weights)
    tenths, total = round_tenths(contributions)
    assert (tenths.sum(axis=1) == total).all()
    # the score is the weighted sum rounded to one decimal
    assert np.all(np.abs(total / 10 - scores) <= 0.05 + 1e-6)
    # no contribution moves by a tenth or more
    assert np.all(np.abs(tenths / 10 - contributions) < 0.1 + 1e-6)
    assert (tenths >= 0).all()


def test_threshold_values_hand_worked(scorer, config):
    capacity = config.criteria[config.criterion_ids.index("capacity")]
    invest = capacity.inputs[0]
    assert invest.field == "investment_usd"
    numbers = np.array([np.nan, 0, 99_999, 100_000, 2e6, 5e6, 2e7, 1e8, 5e9])
    got = threshold_values(invest, numbers)
    assert np.isnan(got[0])
    assert got[1:].tolist() == [0.1, 0.1, 0.3, 0.55, 0.75, 0.9, 1.0, 1.0]


# ---------------------------------------------------------------------------------------
# Each criterion: a hand-worked contribution in points.
# The base profile (tests/matcher_testlib.py BASE_PROFILE) gives exact tenths everywhere except
# capacity, so the criterion under test shows its exact points.


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # tier weight x 30
        ({"okved": "62.01"}, 30.0),  # hanoi_priority 1.0
        ({"okved": "52.10"}, 21.0),  # logistics, connectivity 0.7
        ({"okved": "86.10"}, 16.5),  # healthcare, bilateral 0.55
        ({"okved": "55.10"}, 10.5),  # hospitality, existing_fdi 0.35
        ({"okved": "64.19"}, 4.5),  # finance, general 0.15
        ({"okved": "", "description": "Our firm looks for partners."}, 4.5),  # other, general
        ({"okved": "", "description": ""}, 0.0),  # unknown sector contributes nothing
    ],
)
def test_criterion_sector_fit(make_profile, overrides, expected):
    assert points(assess(make_profile(**overrides)))["sector_fit"] == expected


@pytest.mark.parametrize(
    ("green", "esg", "expected"),
    [
        # 14 x (0.8 x green + 0.2 x esg); green: committed 1, planned 0.5, none 0; esg: yes 1, no 0
        ("committed", "yes", 14.0),  # 14 x (0.8 + 0.2)
        ("committed", "", 11.2),  # 14 x 0.8, esg unknown = 0
        ("planned", "yes", 8.4),  # 14 x (0.4 + 0.2)
        ("planned", "no", 5.6),  # 14 x 0.4
        ("none", "yes", 2.8),  # 14 x 0.2
        ("", "", 0.0),
        ("да", "có", 14.0),
    ],
)
def test_criterion_green(make_profile, green, esg, expected):
    assert points(assess(make_profile(green=green, esg_report=esg)))["green"] == expected


@pytest.mark.parametrize(
    ("criterion", "field", "weight"),
    [
        ("tech_transfer", "tech_transfer", 16.0),
        ("training", "training", 12.0),
        ("local_linkage", "local_partner", 12.0),
    ],
)
@pytest.mark.parametrize(("answer", "subscore"), [("committed", 1.0), ("planned", 0.5), ("none", 0.0), ("", 0.0)])
def test_criterion_commitments(make_profile, criterion, field, weight, answer, subscore):
    # tech_transfer: 16 / 8 / 0 / 0; training and local_linkage: 12 / 6 / 0 / 0
    result = assess(make_profile(**{field: answer}))
    assert points(result)[criterion] == weight * subscore
    assert (field in result.missing) == (answer == "")


@pytest.mark.parametrize(
    ("investment", "employees", "expected"),
    [
        # 8 x (0.7 x investment sub-score + 0.3 x employees sub-score)
        ("100m", "1000", 8.0),  # 8 x (0.7 x 1.0 + 0.3 x 1.0)
        ("5m", "1000", 6.6),  # 8 x (0.525 + 0.3) = 6.6
        ("2m", "120", 4.3),  # 8 x (0.385 + 0.15) = 4.28 -> 4.3
        ("1 000 000", "50", 4.3),  # 8 x (0.385 + 0.15) = 4.28 -> 4.3
        ("20m", "", 5.0),  # 8 x 0.63 = 5.04 -> 5.0
        ("", "250", 1.8),  # 8 x 0.225 = 1.8
        ("0", "0", 0.8),  # 8 x (0.07 + 0.03) = 0.8
        ("99,999", "9", 0.8),  # below the second bounds: still the first
        ("100000", "10", 2.4),  # 8 x (0.21 + 0.09) = 2.4
        ("", "", 0.0),
    ],
)
def test_criterion_capacity(make_profile, investment, employees, expected):
    assert points(assess(make_profile(investment_usd=investment, employees=employees)))["capacity"] == expected


@pytest.mark.parametrize(
    ("presence", "expected"),
    [("project", 8.0), ("office", 4.8), ("none", 0.0), ("", 0.0), ("представительство", 4.8)],
)
def test_criterion_readiness(make_profile, presence, expected):
    # 8 x (project 1.0, office 0.6, none 0.0)
    assert points(assess(make_profile(vietnam_presence=presence)))["readiness"] == expected


def test_yaml_mapping_behind_the_hand_worked_numbers(config):
    """The answer -> sub-score tables the numbers above were worked out from."""
    inputs = {item.field: item for c in config.criteria for item in c.inputs}
    commitment = {"committed": 1.0, "planned": 0.5, "none": 0.0}
    for name in ("tech_transfer", "training", "local_partner", "green"):
        assert dict(inputs[name].answers) == commitment
    assert dict(inputs["esg_report"].answers) == {"no": 0.0, "yes": 1.0}
    assert dict(inputs["vietnam_presence"].answers) == {"none": 0.0, "office": 0.6, "project": 1.0}
    assert (inputs["green"].share, inputs["esg_report"].share) == (0.8, 0.2)
    assert (inputs["investment_usd"].share, inputs["employees"].share) == (0.7, 0.3)
    assert inputs["employees"].thresholds == ((0, 0.1), (10, 0.3), (50, 0.5), (250, 0.75), (1000, 1.0))
    assert inputs["investment_usd"].thresholds == (
        (0, 0.1),
        (1e5, 0.3),
        (1e6, 0.55),
        (5e6, 0.75),
        (2e7, 0.9),
        (1e8, 1.0),
    )


def test_full_worked_example(make_profile):
    """One whole profile, worked out on paper.

    Profile: OKVED 62.01 (software, hanoi_priority, tier weight 1.0), investment "2m",
    120 employees, tech_transfer none, training committed, local_partner planned,
    green planned, ESG report yes, presence office.

        sector_fit     30 x 1.0                          = 30.00
        green          14 x (0.8 x 0.5 + 0.2 x 1.0)      =  8.40
        tech_transfer  16 x 0.0                          =  0.00
        training       12 x 1.0                          = 12.00
        local_linkage  12 x 0.5                          =  6.00
        capacity        8 x (0.7 x 0.55 + 0.3 x 0.5)     =  4.28
        readiness       8 x 0.6                          =  4.80
                                                   total = 65.48 -> 65.5 (band B: 55 <= 65.5 < 75)

    Rounded contributions: floors 30.0 + 8.4 + 0 + 12.0 + 6.0 + 4.2 + 4.8 = 65.4, one tenth
    owed -> capacity (the only remainder) -> 4.3; 30.0 + 8.4 + 12.0 + 6.0 + 4.3 + 4.8 = 65.5.

    Improvements (re-scored totals, minus 65.48 rounded = 65.5):
        tech_transfer committed: 81.48 -> 81.5: +16.0
        local_partner committed: 71.48 -> 71.5: +6.0
        green committed: 65.48 + 14 x 0.4 = 71.08 -> 71.1: +5.6
        presence project: 65.48 + 8 x 0.4 = 68.68 -> 68.7: +3.2
        investment 5m: 65.48 + 8 x 0.7 x 0.2 = 66.60 -> 66.6: +1.1
        employees 250: 65.48 + 8 x 0.3 x 0.25 = 66.08 -> 66.1: +0.6
    """
    result = assess(make_profile())
    assert points(result) == {
        "sector_fit": 30.0,
        "green": 8.4,
        "tech_transfer": 0.0,
        "training": 12.0,
        "local_linkage": 6.0,
        "capacity": 4.3,
        "readiness": 4.8,
    }
    assert result.score == 65.5
    assert result.band == "B"
    assert result.band_label == "good fit"
    assert result.completeness == 1.0
    assert result.missing == []
    subscores = {c.criterion: c.subscore for c in result.contributions}
    assert subscores["capacity"] == pytest.approx(0.535)
    assert subscores["green"] == pytest.approx(0.6)
    assert [(i.field, i.gain) for i in result.improvements] == [
        ("tech_transfer", 16.0),
        ("local_partner", 6.0),
        ("green", 5.6),
        ("vietnam_presence", 3.2),
        ("investment_usd", 1.1),
        ("employees", 0.6),
    ]
    assert result.improvements[0].advice == "commit to transferring technology to Vietnamese partners"
    assert result.improvements[4].advice == "plan an investment of at least US$5,000,000"


@pytest.mark.parametrize(
    ("score_overrides", "band"),
    [
        # 30 + 14 + 16 + 12 + 12 + 8 + 8 = 100 -> A
        (
            {
                "tech_transfer": "yes",
                "local_partner": "yes",
                "green": "yes",
                "investment_usd": "200m",
                "employees": "5000",
                "vietnam_presence": "project",
            },
            "A",
        ),
        # 65.5, the worked example -> B
        ({}, "B"),
        # 30 + 2.8 + 0 + 0 + 0 + 4.3 + 0 = 37.1 -> C
        ({"training": "no", "local_partner": "no", "green": "no", "vietnam_presence": "none"}, "C"),
        # 10.5 + 0 + 0 + 0 + 0 + 0.8 + 0 = 11.3 -> D
        (
            {
                "okved": "55.10",
                "training": "no",
                "local_partner": "no",
                "green": "no",
                "esg_report": "no",
                "vietnam_presence": "none",
                "investment_usd": "0",
                "employees": "0",
            },
            "D",
        ),
    ],
)
def test_bands(make_profile, score_overrides, band):
    assert assess(make_profile(**score_overrides)).band == band


def test_scorer_transform_gives_subscores_in_unit_interval(scorer, make_profile):
    from matcher.frame import read_frame
    from matcher.profile import table_from_mappings

    table, _ = table_from_mappings([make_profile(), make_profile(okved="55.10", training="", green="none")])
    matrix = scorer.transform(read_frame(table, scorer.detector_))
    assert matrix.shape == (2, 7)
    assert ((matrix >= 0) & (matrix <= 1)).all()
    assert matrix[0].tolist() == pytest.approx([1.0, 0.6, 0.0, 1.0, 0.5, 0.535, 0.6])
    assert matrix[1].tolist() == pytest.approx([0.35, 0.2, 0.0, 0.0, 0.5, 0.535, 0.6])


def test_scorer_follows_the_estimator_api(scorer):
    from sklearn.base import clone

    assert set(scorer.get_params()) == {"sectors_path", "config", "cached_vocabulary"}
    copy = clone(scorer)
    assert not hasattr(copy, "config_")  # clone keeps parameters, not fitted state
    assert copy.fit() is copy
    assert copy.weights_.tolist() == scorer.weights_.tolist() == [30.0, 14.0, 16.0, 12.0, 12.0, 8.0, 8.0]
    assert copy.config_.criterion_ids == scorer.config_.criterion_ids


def test_weights_come_from_the_sectors_file(tmp_path):
    """Another sectors file, another model: the small file of tests/test_config.py.

    sector_fit 60 (software: tier "top", 1.0), green 40 (green 0.5 + ESG report 0.5):
    okved 62.01, green planned, ESG yes -> 60 x 1.0 + 40 x (0.5 x 0.5 + 0.5 x 1.0) = 60 + 30 = 90.0, band A.
    A shop (okved 47, tier "low" 0.2), green none, ESG unknown -> 60 x 0.2 = 12.0, band B.
    """
    from test_config import SMALL_YAML

    from matcher import Scorer

    path = tmp_path / "small.yaml"
    path.write_text(SMALL_YAML, encoding="utf-8")
    small = Scorer(sectors_path=str(path)).fit()
    first, second = assess_many(
        [
            {"name": "A", "okved": "62.01", "description": "x", "green": "planned", "esg_report": "yes"},
            {"name": "B", "okved": "47.11", "description": "x", "green": "none"},
        ],
        small,
    )
    assert (first.score, first.band, first.sector) == (90.0, "A", "software")
    assert points(first) == {"sector_fit": 60.0, "green": 30.0}
    assert (second.score, second.band, second.sector) == (12.0, "B", "other")
    assert second.missing == ["esg_report"]
    assert first.params["config"] == str(path)


ALL_COMMITMENTS = {
    "tech_transfer": "yes",
    "training": "yes",
    "local_partner": "yes",
    "green": "yes",
    "esg_report": "yes",
    "investment_usd": "200m",
    "employees": "5000",
    "vietnam_presence": "project",
}


@pytest.mark.parametrize(("okved", "band"), [("55.10", "B"), ("47.11", "B"), ("62.01", "A"), ("26.20", "A")])
def test_strong_fit_needs_a_hanoi_priority_sector(make_profile, okved, band):
    """sectors.yaml: band A admits only hanoi_priority sectors. A hotel chain (55.10, tier existing_fdi 0.35)
    with every commitment scores 30 x 0.35 + 70 = 80.5, above A's 75, and is still a good fit (B)."""
    hotel = assess(make_profile(okved=okved, **ALL_COMMITMENTS))
    assert hotel.score >= 75
    assert hotel.band == band


def test_band_rule_is_the_same_on_the_batch_and_the_row_path(make_profile):
    profiles = [make_profile(okved=code, **ALL_COMMITMENTS) for code in ("55.10", "62.01")]
    assert [r.band for r in assess_many(profiles)] == [assess(p).band for p in profiles] == ["B", "A"]


def test_a_firm_of_unknown_sector_is_never_a_strong_fit():
    from matcher.config import load_sectors
    from matcher.scoring import band_table

    table = band_table(load_sectors())
    assert table[-1] == [1, 1, 2, 3]  # band A needs a known priority sector; B, C, D are by score alone
