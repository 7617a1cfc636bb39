"""Tests for the opportunity catalogue and the incentive rules: the files validate, every fact has a source,
a wrong key names its line."""

from __future__ import annotations

import pytest

from matcher import ConfigError
from matcher.data import INCENTIVES_YAML, OPPORTUNITIES_YAML
from matcher.fields import LANGS
from matcher.incentives import load_incentives
from matcher.opportunities import COMPONENTS, KINDS, check_opportunity, load_opportunities


@pytest.fixture(scope="module")
def catalogue(config):
    return load_opportunities(sectors=config)


@pytest.fixture(scope="module")
def rules(config, catalogue):
    return load_incentives(sectors=config, agencies=tuple(catalogue.agencies))


def test_project_files_validate(catalogue, rules):
    assert len([o for o in catalogue.opportunities if o.kind == "park"]) >= 15
    assert {o.location_type for o in catalogue.opportunities} >= {"hi_tech_park", "industrial_park", "digital_zone"}
    assert len(rules.rules) >= 15
    assert rules.usd_vnd > 1000


def test_every_park_names_sources_confidence_and_date(catalogue):
    for opp in catalogue.opportunities:
        assert opp.sources, opp.id
        assert all(catalogue.sources[s]["url"].startswith("http") for s in opp.sources), opp.id
        assert opp.confidence and opp.as_of, opp.id
        assert set(opp.name) == set(LANGS) and opp.managing_body in catalogue.agencies, opp.id


def test_every_rule_has_a_legal_source_a_date_and_an_agency(rules, catalogue):
    for rule in rules.rules:
        assert rule.source["ref"] in rules.sources and rule.source["note"], rule.id
        assert rules.sources[rule.source["ref"]]["url"].startswith("http"), rule.id
        assert len(rule.applies_from) >= 4 and rule.confidence, rule.id
        assert rule.agency in catalogue.agencies, rule.id
    assert "confirm with the authority" in rules.disclaimer["en"]


def test_hi_tech_park_targets_only_high_tech(catalogue):
    hoa_lac = catalogue.get("hoa_lac")
    assert hoa_lac.location_type == "hi_tech_park" and hoa_lac.targets["electronics"] == 1.0
    assert "hospitality" not in hoa_lac.targets and "tourism" not in hoa_lac.targets


def test_weights_scale_to_100(catalogue):
    for kind in KINDS:
        assert sum(catalogue.settings.scaled(kind).values()) == pytest.approx(100.0)
        assert set(catalogue.settings.scaled(kind)) == set(COMPONENTS)


def _broken(path, old: str, new: str) -> tuple[str, int]:
    """The file's text with the first ``old`` replaced by ``new``, and the 1-based line of the change."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    return text[:at] + new + text[at + len(old) :], text[:at].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            "    targets: {software: 1.0, electronics",
            "    tragets: {software: 1.0, electronics",
            "opportunities.hoa_lac.tragets",
            "unknown key 'tragets'",
        ),
        (
            "    targets: {software: 1.0, electronics",
            "    targets: {spaceships: 1.0, electronics",
            "opportunities.hoa_lac.targets.spaceships",
            "unknown sector 'spaceships'",
        ),
        (
            "    location_type: hi_tech_park\n",
            "    location_type: moon_base\n",
            "opportunities.hoa_lac.location_type",
            "'moon_base' is not one of",
        ),
        (
            "    sources: [S4, S7, S9, S11, S12, S48]",
            "    sources: [S4, S999]",
            "opportunities.hoa_lac.sources.1",
            "unknown source 'S999'",
        ),
        (
            "    sources: [S4, S7, S9, S11, S12, S48]",
            "    sources: []",
            "opportunities.hoa_lac.sources",
            "must name at least one source",
        ),
        ("    park:    {sector: 55,", "    park:    {sectr: 55,", "match.weights.park.sectr", "unknown key"),
    ],
)
def test_wrong_key_in_catalogue_names_its_line(config, old, new, key, problem):
    text, line = _broken(OPPORTUNITIES_YAML, old, new)
    with pytest.raises(ConfigError) as info:
        load_opportunities("opps.yaml", text=text, sectors=config)
    assert (info.value.key, info.value.line) == (key, line)
    assert problem in info.value.problem
    assert str(info.value).startswith(f"opps.yaml:{line}: {key}: ")


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        (
            "    conditions:\n      - any_of:",
            "    condition:\n      - any_of:",
            "categories.especially_encouraged_hitech.condition",
            "unknown key 'condition'",
        ),
        (
            "      - investment_min_vnd: 6000000000000",
            "      - investment_min_usd: 6000000000000",
            "categories.large_project.conditions.0.investment_min_usd",
            "unknown key",
        ),
        (
            '    applies_from: "2021-03-26"',
            '    applies_from: "26 March 2021"',
            "categories.especially_encouraged_hitech.applies_from",
            "must be a date",
        ),
        (
            "    source: {ref: decree_31_2021,",
            "    source: {ref: nowhere,",
            "categories.especially_encouraged_hitech.source.ref",
            "unknown source 'nowhere'",
        ),
        (
            "      - location_in: [hi_tech_park]",
            "      - location_in: [space]",
            "categories.hi_tech_park_location.conditions.0.location_in.0",
            "not a known location",
        ),
    ],
)
def test_wrong_key_in_rules_names_its_line(config, catalogue, old, new, key, problem):
    text, line = _broken(INCENTIVES_YAML, old, new)
    with pytest.raises(ConfigError) as info:
        load_incentives("rules.yaml", text=text, sectors=config, agencies=tuple(catalogue.agencies))
    assert (info.value.key, info.value.line) == (key, line)
    assert problem in info.value.problem


def test_rule_without_source_is_refused(config, catalogue):
    text, line = _broken(
        INCENTIVES_YAML,
        '    source: {ref: decree_31_2021, note: "Appendix II Part A, heading I: '
        "hi-tech products and technologies, software and cybersecurity products, biotech, renewable "
        'and clean energy."}\n',
        "",
    )
    with pytest.raises(ConfigError) as info:
        load_incentives("rules.yaml", text=text, sectors=config, agencies=tuple(catalogue.agencies))
    assert info.value.key == "categories.especially_encouraged_hitech.source.ref"
    assert info.value.problem == "is required"


def test_staff_entered_opportunity_is_checked_by_the_same_rules(catalogue, config):
    spec = {
        "kind": "project",
        "name": {"en": "Smart lighting", "ru": "Умное освещение", "vi": "Chiếu sáng"},
        "targets": {"smart_city": 1.0},
        "asks": ["tech_transfer"],
        "capital_min_usd": 5e6,
    }
    opp = check_opportunity("p1", spec, catalogue, config.sector_ids)
    assert (opp.kind, opp.asks, opp.capital_min_usd, opp.sources) == ("project", ("tech_transfer",), 5e6, ())
    with pytest.raises(ConfigError) as info:
        check_opportunity("p1", {**spec, "asks": ["bribes"]}, catalogue, config.sector_ids)
    assert info.value.key == "opportunities.p1.asks.0" and info.value.line is None
    with pytest.raises(ConfigError, match="must not be below capital_min_usd"):
        check_opportunity("p1", {**spec, "capital_max_usd": 1e6}, catalogue, config.sector_ids)
