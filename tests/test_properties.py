"""Properties of the model over generated profiles (hypothesis)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import ScoreResult, assess_many
from matcher.batch import score_file
from matcher.explain import advice_text

COMMITMENTS = ("tech_transfer", "training", "local_partner", "green")
EXISTING_FDI_CODES = ("55.10", "56.10", "47.11", "41.20", "43.21", "13.10", "22.29")  # hospitality, retail, ...
PRIORITY_CODES = ("62.01", "26.30", "28.99.5", "72.11", "35.11.4", "38.11", "63.11", "26.51")
DESCRIPTIONS = (
    "Our company looks for partners in Hanoi.",
    "Разрабатываем программное обеспечение",
    "Сеть гостиниц",
    "Công ty phát triển trí tuệ nhân tạo",
    "Chuỗi khách sạn và nhà hàng",
    "Industrial robots and machine vision",
    "Freight forwarding and warehousing",
    "Мы строим жилые комплексы",
)
COMMITMENT_ANSWERS = ("", "none", "planned", "committed", "yes", "no", "да", "нет", "có", "không")

PROPERTY_SETTINGS = settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def money():
    return st.one_of(
        st.just(""),
        st.integers(0, 300_000_000).map(str),
        st.sampled_from(["50k", "1.5m", "2m", "5 000 000", "20,000,000", "0.1bn", "99999", "$3m"]),
    )


@st.composite
def profiles(draw, complete=False):
    """A profile in the data contract; ``complete`` gives every scored field a value."""
    answers = COMMITMENT_ANSWERS[1:] if complete else COMMITMENT_ANSWERS
    profile = {
        "name": draw(st.sampled_from(["Alpha", "ООО «Бета»", "Công ty Gamma"])),
        "description": draw(st.sampled_from(DESCRIPTIONS)),
        "okved": draw(st.sampled_from(("",) * (not complete) + EXISTING_FDI_CODES + PRIORITY_CODES + ("52.10",))),
        "investment_usd": draw(money().filter(lambda v: v or not complete)),
        "employees": draw(st.one_of(st.just("") if not complete else st.nothing(), st.integers(0, 5000).map(str))),
        "esg_report": draw(st.sampled_from(("yes", "no") + (("",) if not complete else ()))),
        "vietnam_presence": draw(st.sampled_from(("none", "office", "project") + (("",) if not complete else ()))),
    }
    for field in COMMITMENTS:
        profile[field] = draw(st.sampled_from(answers))
    return profile


def scored(profiles_, scorer):
    results = assess_many(profiles_, scorer)
    assert all(isinstance(r, ScoreResult) for r in results), results
    return results


@PROPERTY_SETTINGS
@given(profile=profiles(), field=st.sampled_from(COMMITMENTS))
def test_raising_a_commitment_never_lowers_the_score(scorer, profile, field):
    levels = [dict(profile, **{field: level}) for level in ("none", "planned", "committed")]
    scores = [r.score for r in scored(levels, scorer)]
    assert scores[0] <= scores[1] <= scores[2]
    # and the criterion that reads the field grows strictly (every weight is positive)
    assert scores[0] < scores[2]


@PROPERTY_SETTINGS
@given(profile=profiles(), old=st.sampled_from(EXISTING_FDI_CODES), new=st.sampled_from(PRIORITY_CODES))
def test_moving_from_existing_fdi_to_a_hanoi_priority_sector_raises_the_score(scorer, profile, old, new):
    before, after = scored([dict(profile, okved=old), dict(profile, okved=new)], scorer)
    assert before.tier == "existing_fdi" and after.tier == "hanoi_priority"
    assert after.score > before.score
    # by exactly (1.0 - 0.35) x 30 = 19.5 points, give or take the rounding of the two scores
    assert after.score - before.score == pytest.approx(19.5, abs=0.1 + 1e-9)


@PROPERTY_SETTINGS
@given(batch=st.lists(profiles(), min_size=1, max_size=8))
def test_contributions_sum_to_score_and_completeness_in_unit_interval(scorer, batch):
    for result in scored(batch, scorer):
        assert round(sum(c.points for c in result.contributions), 1) == result.score
        assert 0.0 <= result.score <= 100.0
        assert 0.0 <= result.completeness <= 1.0
        for c in result.contributions:
            assert 0.0 <= c.subscore <= 1.0
            assert abs(c.points - c.weight * c.subscore) < 0.1 + 1e-9


@PROPERTY_SETTINGS
@given(profile=profiles(complete=True))
def test_completeness_is_one_when_every_field_is_given(scorer, profile):
    (result,) = scored([profile], scorer)
    assert result.completeness == 1.0
    assert result.missing == []


@PROPERTY_SETTINGS
@given(profile=profiles(), drop=st.sampled_from(COMMITMENTS + ("esg_report", "vietnam_presence", "employees")))
def test_an_unknown_field_lowers_completeness_and_is_listed(scorer, profile, drop):
    full, partial = scored(
        [
            dict(
                profile,
                **{
                    drop: "none"
                    if drop in COMMITMENTS
                    else "0"
                    if drop == "employees"
                    else "no"
                    if drop == "esg_report"
                    else "none"
                },
            ),
            dict(profile, **{drop: ""}),
        ],
        scorer,
    )
    assert drop in partial.missing and drop not in full.missing
    assert partial.completeness < full.completeness


def _targets(scorer, lang="en"):
    """(field, advice text) -> the value that carries the improvement out."""
    out = {}
    for cand in scorer.candidates_:
        value = cand.target
        out[(cand.field, advice_text(cand, lang))] = str(int(value)) if isinstance(value, float) else str(value)
    return out


@PROPERTY_SETTINGS
@given(profile=profiles())
def test_every_stated_gain_is_the_actual_score_change(scorer, profile):
    (result,) = scored([profile], scorer)
    targets = _targets(scorer)
    changed = [dict(profile, **{imp.field: targets[(imp.field, imp.advice)]}) for imp in result.improvements]
    if not changed:
        assert result.explanation.endswith("nothing left to improve")
        return
    for imp, after in zip(result.improvements, scored(changed, scorer), strict=True):
        assert round(after.score - result.score, 1) == imp.gain, imp
        assert imp.gain > 0
    gains = [imp.gain for imp in result.improvements]
    assert gains == sorted(gains, reverse=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(profiles(), min_size=1, max_size=12))
def test_csv_batch_and_single_assessment_agree(scorer, batch):
    fields = [
        "name",
        "description",
        "okved",
        "investment_usd",
        "employees",
        "esg_report",
        "vietnam_presence",
        *COMMITMENTS,
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(batch)
        summary = score_file(path, Path(tmp) / "out.csv", scorer)
        with open(Path(tmp) / "out.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    assert summary.rows == len(batch) == summary.scored
    for row, result in zip(rows, scored(batch, scorer), strict=True):
        assert float(row["score"]) == result.score
        assert row["sector"] == (result.sector or "")
        assert float(row["completeness"]) == result.completeness
        for c in result.contributions:
            assert float(row[f"c_{c.criterion}"]) == c.points
        assert row["explanation"] == result.explanation
        top = result.improvements[0] if result.improvements else None
        assert row["top_improvement"] == (f"{top.advice}: +{top.gain:.1f}" if top else "")
        assert row["missing"] == ";".join(result.missing)


@PROPERTY_SETTINGS
@given(
    profile=profiles(),
    field=st.sampled_from(["investment_usd", "employees"]),
    amounts=st.lists(st.integers(0, 10**9), min_size=2, max_size=5),
)
def test_a_larger_firm_or_investment_never_lowers_the_score(scorer, profile, field, amounts):
    amounts = sorted(amounts)
    scores = [r.score for r in scored([dict(profile, **{field: str(a)}) for a in amounts], scorer)]
    assert scores == sorted(scores)


@PROPERTY_SETTINGS
@given(
    profile=profiles(),
    code=st.sampled_from(EXISTING_FDI_CODES + PRIORITY_CODES),
    description=st.sampled_from(DESCRIPTIONS),
)
def test_a_mapped_code_decides_the_sector_whatever_the_description(scorer, profile, code, description):
    with_code, other_text = scored(
        [dict(profile, okved=code), dict(profile, okved=code, description=description)], scorer
    )
    assert with_code.sector == other_text.sector
    assert with_code.sectors[0]["source"] == "okved"
    assert with_code.sectors[0]["evidence"][0] == code
