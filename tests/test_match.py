"""Tests for matcher/match.py and matcher/recommend.py: the match score, its parts, reasons and incentives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.match import top_matches
from matcher.opportunities import COMPONENTS, load_opportunities
from matcher.recommend import Matcher
from matcher.scoring import Scorer

SMALL = """\
format: hanoi-matcher/opportunities
version: 1
as_of: "2026-01-01"
sources:
  s: {title: "A page", url: "https://example.org"}
agencies:
  board:
    name: {en: "Board", ru: "Управление", vi: "Ban"}
    role: {en: "r", ru: "r", vi: "r"}
    sources: [s]
    confidence: stated
match:
  weights:
    park: {sector: 50, asks: 30, size: 0, readiness: 20, partner: 0}
    project: {sector: 40, asks: 20, size: 20, readiness: 20, partner: 0}
    partner: {sector: 40, asks: 20, size: 0, readiness: 10, partner: 30}
  labels:
    sector: {en: "sector fit", ru: "отрасль", vi: "ngành"}
    asks: {en: "asks", ru: "требования", vi: "yêu cầu"}
    size: {en: "size", ru: "масштаб", vi: "quy mô"}
    readiness: {en: "readiness", ru: "готовность", vi: "sẵn sàng"}
    partner: {en: "partner", ru: "партнёр", vi: "đối tác"}
  require_sector_overlap: true
  commitment_values: {committed: 1.0, planned: 0.5, none: 0.0}
  presence_values: {project: 1.0, office: 0.6, none: 0.0}
  default_asks: [tech_transfer, training, local_partner, green]
  default_asks_source: s
opportunities:
  park:
    kind: park
    location_type: hi_tech_park
    name: {en: "Tech Park", ru: "Технопарк", vi: "Khu công nghệ"}
    targets: {software: 1.0, electronics: 0.5}
    asks: [tech_transfer, training]
    managing_body: board
    sources: [s]
    confidence: stated
    as_of: "2026"
  project:
    kind: project
    name: {en: "Smart lights", ru: "Умный свет", vi: "Đèn thông minh"}
    targets: {smart_city: 1.0, software: 0.5}
    asks: [tech_transfer]
    capital_min_usd: 4000000
  partner:
    kind: partner
    name: {en: "Hanoi Soft JSC", ru: "Ханой Софт", vi: "Công ty Hà Nội Soft"}
    targets: {software: 1.0}
    asks: [training]
"""

FULL = {
    "tech_transfer": "committed",
    "training": "committed",
    "local_partner": "committed",
    "green": "committed",
    "vietnam_presence": "project",
    "investment_usd": "50m",
    "employees": "400",
}


@pytest.fixture(scope="module")
def scorer():
    return Scorer(cached_vocabulary=True).fit()


@pytest.fixture(scope="module")
def matcher(scorer):
    return Matcher(scorer)


@pytest.fixture(scope="module")
def small(scorer):
    return Matcher(scorer, load_opportunities("small.yaml", text=SMALL, sectors=scorer.config_))


def _parts(match):
    return {p.component: p.points for p in match.parts}


def test_worked_example(small):
    """Software firm: sector 1.0 x 50; asks (1.0 + 0.5) / 2 x 30 = 22.5; readiness 0.6 x 20 = 12."""
    [result] = small.match_profiles(
        [
            {
                "name": "Soft",
                "okved": "62.01",
                "tech_transfer": "committed",
                "training": "planned",
                "vietnam_presence": "office",
            }
        ]
    )
    park = next(m for m in result.matches if m.opportunity == "park")
    assert _parts(park) == {"sector": 50.0, "asks": 22.5, "readiness": 12.0}
    assert park.score == 84.5
    project = next(m for m in result.matches if m.opportunity == "project")
    # sector 0.5 x 40; asks 1.0 x 20; size unknown 0 of 20; readiness 0.6 x 20 = 12
    assert _parts(project) == {"sector": 20.0, "asks": 20.0, "size": 0.0, "readiness": 12.0}
    assert project.missing == ["investment_usd"]
    [partner] = result.partners
    # sector 40; asks (training planned) 0.5 x 20; readiness 0.6 x 10; partner unknown: 0 of 30
    assert _parts(partner) == {"sector": 40.0, "asks": 10.0, "readiness": 6.0, "partner": 0.0}
    assert partner.missing == ["local_partner"]


def test_size_below_the_minimum_counts_its_share(small):
    [result] = small.match_profiles([{"name": "Soft", "okved": "62.01", "investment_usd": "1m"}])
    project = next(m for m in result.matches if m.opportunity == "project")
    assert _parts(project)["size"] == 5.0  # 1m / 4m x 20


def test_unknown_is_not_no(small):
    unknown, no = small.match_profiles(
        [
            {"name": "A", "okved": "62.01", "training": "committed"},
            {"name": "B", "okved": "62.01", "training": "committed", "tech_transfer": "none"},
        ]
    )
    park_u = next(m for m in unknown.matches if m.opportunity == "park")
    park_n = next(m for m in no.matches if m.opportunity == "park")
    assert _parts(park_u)["asks"] == _parts(park_n)["asks"] == 15.0
    assert "tech_transfer" in park_u.missing and "tech_transfer" not in park_n.missing
    assert "missing" in park_u.reason and "technology transfer" in park_u.reason


def test_hi_tech_electronics_firm_goes_first_to_an_electronics_park(matcher):
    [result] = matcher.match_profiles(
        [{"name": "Микроэлектроника", "okved": "26.11", **FULL, "description": "microelectronics and chip design"}], k=3
    )
    first = matcher.catalogue.get(result.matches[0].opportunity)
    assert first.kind == "park" and first.targets.get("electronics") == 1.0
    assert result.matches[0].score == 100.0
    assert result.location_type in ("hi_tech_park", "industrial_park")
    statuses = {i.id: i.status for i in result.incentives}
    assert statuses["especially_encouraged_hitech"] == "qualifies"
    assert statuses["cit_10_percent"] == "qualifies"
    assert statuses["special_procedure"] == "qualifies"


def test_hi_tech_firm_at_hoa_lac_qualifies_for_the_hi_tech_park_category(matcher):
    hoa_lac = matcher.with_opportunities([matcher.catalogue.get("hoa_lac")], keep=False)
    [result] = hoa_lac.match_profiles([{"name": "Chip", "okved": "26.11", **FULL}])
    assert result.location_type == "hi_tech_park"
    category = next(i for i in result.incentives if i.id == "hi_tech_park_location")
    assert category.status == "qualifies" and category.confirm  # the hi-tech criteria stay to confirm
    fund = next(i for i in result.incentives if i.id == "isf_chips_ai")
    assert fund.status == "possible" and "qualifies if the investment reaches VND 6,000 bn" in fund.unknown[0]


def test_an_amount_beyond_any_in_dong_meets_every_investment_minimum(matcher):
    """US$ 1e306 is infinite in dong (the overflow once made the API answer 500): at least any minimum."""
    from matcher.profile import to_cell

    amount = to_cell(1e306)  # as the API reads a JSON number: its 307 digits
    [result] = matcher.match_profiles(
        [{"name": "Firm", "description": "unknown", "employees": "100", "investment_usd": amount}]
    )
    [unknown_amount] = matcher.match_profiles([{"name": "Firm", "description": "unknown", "employees": "100"}])
    assert [i.status for i in result.incentives] != [i.status for i in unknown_amount.incentives]


def test_hotel_chain_matches_no_hi_tech_park(matcher):
    [result] = matcher.match_profiles(
        [{"name": "Гостиничная сеть", "okved": "55.10", **FULL, "description": "hotel chain"}],
        k=len(matcher.catalogue.opportunities),
    )
    kinds = {matcher.catalogue.get(m.opportunity).location_type for m in result.matches}
    assert "hi_tech_park" not in kinds
    assert next(i for i in result.incentives if i.id == "especially_encouraged_hitech").status == "not_yet"


def test_missed_size_says_what_would_qualify(matcher):
    [result] = matcher.match_profiles([{"name": "Big", "okved": "62.01", "investment_usd": "10m", "employees": "5000"}])
    large = next(i for i in result.incentives if i.id == "large_project")
    assert large.status == "not_yet" and large.reachable
    assert large.missed == ["qualifies if the investment reaches VND 6,000 bn (about US$230.8 m)"]


_ANSWERS = st.sampled_from(["committed", "planned", "none", ""])


@given(
    training=_ANSWERS,
    local=_ANSWERS,
    green=_ANSWERS,
    presence=st.sampled_from(["project", "office", "none", ""]),
    code=st.sampled_from(["62.01", "26.11", "72.11", "28.99", ""]),
    invest=st.sampled_from(["", "1m", "20m"]),
)
def test_asked_technology_transfer_ranks_a_committed_firm_higher(small, training, local, green, presence, code, invest):
    base = {
        "name": "F",
        "okved": code,
        "training": training,
        "local_partner": local,
        "green": green,
        "vietnam_presence": presence,
        "investment_usd": invest,
    }
    committed, uncommitted = small.match_profiles(
        [{**base, "tech_transfer": "committed"}, {**base, "tech_transfer": "none"}], k=3
    )
    for opp in ("park", "project"):  # both ask for technology transfer
        mine = next((m for m in committed.matches if m.opportunity == opp), None)
        theirs = next((m for m in uncommitted.matches if m.opportunity == opp), None)
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.score > theirs.score


def test_contributions_add_up_to_the_score(matcher, scorer):
    rng = np.random.default_rng(7)
    answers = ["committed", "planned", "none", ""]
    profiles = [
        {
            "name": f"F{i}",
            "okved": rng.choice(["62.01", "26.11", "55.10", "49.41", "", "28.99"]),
            "investment_usd": rng.choice(["", "100000", "3m", "70m"]),
            "tech_transfer": rng.choice(answers),
            "training": rng.choice(answers),
            "local_partner": rng.choice(answers),
            "vietnam_presence": rng.choice(["project", "office", ""]),
        }
        for i in range(60)
    ]
    for result in matcher.match_profiles(profiles, k=5):
        for m in result.matches:
            assert sum(p.points for p in m.parts) == pytest.approx(m.score)
            assert m.reason.startswith(m.name)


def test_batch_in_chunks_equals_one_pass(matcher):
    from matcher.frame import read_frame
    from matcher.profile import table_from_mappings

    profiles = [
        {"name": f"F{i}", "okved": code, "training": t}
        for i, (code, t) in enumerate([("62.01", "committed"), ("26.11", ""), ("", "none"), ("55.10", "")] * 5)
    ]
    frame = read_frame(table_from_mappings(profiles)[0], matcher.detector)
    facts = matcher.facts(frame)
    table = matcher.table()
    whole = top_matches(facts, table, matcher.catalogue, 4)
    chunked = top_matches(facts, table, matcher.catalogue, 4, chunk=3)
    assert np.array_equal(whole.index, chunked.index) and np.array_equal(whole.contributions, chunked.contributions)
    assert whole.contributions.shape[2] == len(COMPONENTS)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("Tech Park", "sector fit")), ("ru", ("Технопарк", "отрасль")), ("vi", ("Khu công nghệ", "ngành"))],
)
def test_reasons_in_three_languages(small, lang, words):
    [result] = small.match_profiles([{"name": "Soft", "okved": "62.01"}], lang=lang)
    park = next(m for m in result.matches if m.opportunity == "park")
    assert all(w in park.reason for w in words)
    assert result.incentives[0].status_label and result.disclaimer


def test_rank_leads_for_one_opportunity(small):
    profiles = [
        {"name": "Hotel", "okved": "55.10"},
        {"name": "Soft", "okved": "62.01", "tech_transfer": "committed"},
        {"name": "Soft2", "okved": "62.01"},
        {"name": ""},
    ]
    ranked = small.rank_leads(profiles, small.catalogue.get("park"))
    assert [row for row, _ in ranked] == [1, 2, 0, 3]
    assert ranked[0][1].score > ranked[1][1].score and ranked[2][1] is None and ranked[3][1] is None


def test_retired_opportunity_matches_nobody(small):
    from dataclasses import replace

    retired = replace(small.catalogue.get("park"), status="retired")
    [result] = small.with_opportunities([retired], keep=False).match_profiles([{"name": "Soft", "okved": "62.01"}])
    assert result.matches == []
