"""Tests for matcher/weights.py: weights as data, checked changes, diff, YAML export, fingerprint."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from matcher import ConfigError, Scorer, load_sectors
from matcher.weights import Change, apply_weights, diff_weights, fingerprint, to_yaml, weights_of


def test_weights_of_reads_every_editable_number(config):
    w = weights_of(config)
    assert w["criteria"] == {
        "sector_fit": 30.0,
        "green": 14.0,
        "tech_transfer": 16.0,
        "training": 12.0,
        "local_linkage": 12.0,
        "capacity": 8.0,
        "readiness": 8.0,
    }
    assert w["tiers"]["bilateral"] == 0.55 and w["tiers"]["general"] == 0.15
    assert w["sector_tiers"]["software"] == "hanoi_priority" and w["sector_tiers"]["other"] == "general"
    assert w["shares"]["green"] == 0.8 and w["shares"]["esg_report"] == 0.2 and w["shares"]["sector"] == 1.0
    assert w["answers"]["green"] == {"none": 0.0, "planned": 0.5, "committed": 1.0}
    assert w["answers"]["vietnam_presence"] == {"none": 0.0, "office": 0.6, "project": 1.0}
    assert w["thresholds"]["employees"] == [[0.0, 0.1], [10.0, 0.3], [50.0, 0.5], [250.0, 0.75], [1000.0, 1.0]]
    assert json.loads(json.dumps(w)) == w  # plain data, ready for a JSON column


def test_apply_weights_returns_a_new_config(config):
    new = apply_weights(
        config,
        {
            "criteria": {"green": 24},
            "tiers": {"general": 0.3},
            "sector_tiers": {"finance": "connectivity"},
            "answers": {"green": {"planned": 0.25}},
            "thresholds": {"employees": [[0, 0.2], [100, 1.0]]},
            "shares": {"green": 0.5, "esg_report": 0.5},
        },
    )
    assert config.criteria[1].weight == 14.0  # the original never changes
    w = weights_of(new)
    assert w["criteria"]["green"] == 24.0 and w["tiers"]["general"] == 0.3
    assert new.sector("other").tier_weight == 0.3
    assert new.sector("finance").tier == "connectivity" and new.sector("finance").tier_weight == 0.7
    assert w["answers"]["green"] == {"none": 0.0, "planned": 0.25, "committed": 1.0}
    assert new.criteria[5].inputs[1].thresholds == ((0.0, 0.2), (100.0, 1.0))
    assert w["shares"]["esg_report"] == 0.5
    # Points: 24 of 110 for green after the change.
    assert Scorer(config=new).fit().weights_[1] == pytest.approx(24 * 100 / 110)


def test_new_weights_change_the_score(config, make_profile):
    from matcher import assess

    profile = make_profile()  # green "planned", esg "yes": green sub-score 0.8*0.5 + 0.2*1 = 0.6
    before = assess(profile, Scorer(config=config).fit())
    after = assess(profile, Scorer(config=apply_weights(config, {"answers": {"green": {"planned": 1.0}}})).fit())
    # Green sub-score becomes 0.8*1 + 0.2*1 = 1.0: +0.4 x 14 points = +5.6.
    assert after.score - before.score == pytest.approx(5.6, abs=0.05)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"criteria": {"green": -1}}, "criteria.green: must be between 0 and 1000, not -1"),
        ({"criteria": {"green": 1e308}}, "criteria.green: must be between 0 and 1000, not 1e+308"),
        ({"criteria": {"green": math.inf}}, "criteria.green: must be a finite number, not inf"),
        ({"criteria": {"green": math.nan}}, "criteria.green: must be a finite number, not nan"),
        ({"answers": {"green": {"planned": math.nan}}}, "answers.green.planned: must be a finite number, not nan"),
        ({"thresholds": {"employees": [[math.inf, 1]]}}, "thresholds.employees.0: must be a finite number, not inf"),
        ({"criteria": {"green": "ten"}}, "criteria.green: must be a number, not 'ten'"),
        ({"criteria": {"nope": 1}}, "criteria.nope: unknown criterion"),
        (
            {
                "criteria": dict.fromkeys(
                    ("sector_fit", "green", "tech_transfer", "training", "local_linkage", "capacity", "readiness"), 0
                )
            },
            "criteria: the criterion weights must add up to at least 0.01, not 0",
        ),
        ({"tiers": {"general": 2}}, "tiers.general: must be between 0 and 1, not 2"),
        ({"sector_tiers": {"finance": "gold"}}, "sector_tiers.finance: unknown tier 'gold'"),
        ({"sector_tiers": {"banking": "general"}}, "sector_tiers.banking: unknown sector"),
        ({"sector_tiers": {"finance": ["general"]}}, "sector_tiers.finance: unknown tier ['general']"),
        ({"shares": {"green": 0.5}}, "shares.green, shares.esg_report: the shares of criterion 'green' must add up"),
        ({"answers": {"green": {"maybe": 1}}}, "answers.green.maybe: unknown answer"),
        ({"answers": {"green": {"planned": 1.5}}}, "answers.green.planned: must be between 0 and 1"),
        ({"answers": {"employees": {"none": 0}}}, "answers.employees: unknown input with answers"),
        ({"thresholds": {"employees": [[10, 0.1], [5, 0.2]]}}, "thresholds.employees.1: lower bounds must increase"),
        ({"thresholds": {"employees": []}}, "thresholds.employees: must list at least one"),
        ({"thresholds": {"employees": [[10]]}}, "thresholds.employees.0: must be a pair"),
        ({"bands": {}}, "bands: unknown section"),
        ([1, 2], "weights must be a mapping"),
    ],
)
def test_apply_weights_names_the_key_at_fault(config, data, message):
    with pytest.raises(ConfigError) as info:
        apply_weights(config, data)
    assert message in str(info.value)


def test_yes_no_answers_may_come_as_yaml_booleans(config):
    new = apply_weights(config, {"answers": {"esg_report": {True: 0.9}}})
    assert weights_of(new)["answers"]["esg_report"] == {"no": 0.0, "yes": 0.9}


def test_diff_weights_hand_worked(config):
    new = apply_weights(
        config,
        {
            "criteria": {"green": 20},
            "answers": {"training": {"planned": 0.4}},
            "sector_tiers": {"finance": "connectivity"},
        },
    )
    assert diff_weights(config, new) == [
        Change("criteria.green", 14.0, 20.0),
        Change("sector_tiers.finance", "general", "connectivity"),
        Change("answers.training.planned", 0.5, 0.4),
    ]
    assert diff_weights(config, config) == []
    assert diff_weights({"criteria": {"a": 1.0}}, {"criteria": {"b": 1.0}}) == [
        Change("criteria.a", 1.0, None),
        Change("criteria.b", None, 1.0),
    ]


def test_to_yaml_round_trips_after_a_change(config):
    new = apply_weights(
        config,
        {
            "criteria": {"training": 15},
            "tiers": {"bilateral": 0.6},
            "thresholds": {"investment_usd": [[0, 0.2], [1e6, 0.8]]},
        },
    )
    text = to_yaml(new)
    assert text.startswith("# Exported by `matcher weights export`; weights fingerprint")
    back = load_sectors(text=text)
    assert back.replace(path="") == new.replace(path="")
    assert fingerprint(back) == fingerprint(new)


def test_to_yaml_round_trips_the_project_file(config):
    assert load_sectors(text=to_yaml(config)).replace(path="") == config.replace(path="")


def test_fingerprint_is_a_stable_short_hash_of_the_weights_only(config):
    fp = fingerprint(config)
    assert len(fp) == 12 and int(fp, 16) >= 0
    assert fingerprint(weights_of(config)) == fp
    assert fingerprint(apply_weights(config, {})) == fp
    renamed = config.replace(path="elsewhere.yaml", sources={**config.sources, "x": {"title": "y"}})
    assert fingerprint(renamed) == fp  # labels, sources and paths are not weights
    assert fingerprint(apply_weights(config, {"criteria": {"green": 14.5}})) != fp
    assert fingerprint(apply_weights(config, {"criteria": {"green": 14}})) == fp  # 14 == 14.0


def test_points_still_add_up_to_100_after_apply(config):
    new = apply_weights(config, {"criteria": {"sector_fit": 60}})
    assert np.sum(new.weights()) == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("spread", 0.95, "spread: must be between 0 and 0.9, not 0.95"),
        ("spread", -0.1, "spread: must be between 0 and 0.9, not -0.1"),
        ("spread", math.nan, "spread: must be a finite number, not nan"),
        ("top_k", 0, "top_k: must be between 1 and 1000, not 0"),
        ("top_k", 2.5, "top_k: must be a whole number, not 2.5"),
        ("top_k", 10**20, "top_k: must be between 1 and 1000, not 1e+20"),
        ("unverified_factor", 1e308, "unverified_factor: must be between 0 and 1, not 1e+308"),
        ("unverified_factor", math.inf, "unverified_factor: must be a finite number, not inf"),
        ("n_samples", "many", "n_samples: must be a number, not 'many'"),
        ("colour", 1, "colour: unknown setting"),
    ],
)
def test_check_setting_refuses_with_the_setting_named(key, value, message):
    from matcher.weights import check_setting

    with pytest.raises(ConfigError) as info:
        check_setting(key, value)
    assert message in str(info.value)


def test_check_setting_accepts_the_bounds():
    from matcher.weights import check_setting

    assert [check_setting("spread", 0.9), check_setting("top_k", 1000.0), check_setting("unverified_factor", 0)] == [
        0.9,
        1000,
        0.0,
    ]
    assert isinstance(check_setting("top_k", 1000.0), int)


# --- weights files exported by the app (matcher score --weights) ------------------------------------


def test_a_weights_file_reads_back_and_scores_as_its_config_does(tmp_path):
    from matcher import Scorer, assess
    from matcher.weights import WeightsFile, apply_weights, read_weights_file, scale_answers, weights_file

    base = load_sectors()
    weights = weights_of(apply_weights(base, {"criteria": {"training": 40.0, "sector_fit": 10.0}}))
    version = WeightsFile(weights, "v2 abc", fingerprint(apply_weights(base, weights)), 0.5, ("green", "training"))
    path = tmp_path / "w.yaml"
    path.write_text(weights_file(version), encoding="utf-8")
    assert read_weights_file(str(path)) == version
    config = version.apply(base)
    expected = scale_answers(apply_weights(base, weights), ("green", "training"), 0.5)
    assert config == expected
    profile = {"name": "A", "okved": "26.11", "training": "yes", "green": "yes"}
    got, full = (
        assess(profile, Scorer(config=config).fit()),
        assess(profile, Scorer(config=apply_weights(base, weights)).fit()),
    )
    assert got.score < full.score  # unverified claims count half


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("format: other\n", "format"),
        ("[1, 2]\n", "format"),
        ("format: hanoi-matcher-weights/1\nweights: 3\n", "weights"),
        ("format: hanoi-matcher-weights/1\nweights: {}\nunverified: {factor: 2}\n", "unverified.factor"),
        ("format: hanoi-matcher-weights/1\nweights: {}\nunverified: {fields: [nope]}\n", "unverified.fields"),
        ("format: hanoi-matcher-weights/1\nweights: {criteria: {nope: 1}}\n", "criteria.nope"),
        ("format: hanoi-matcher-weights/1\nfingerprint: '000000000000'\nweights: {}\n", "fingerprint"),
    ],
)
def test_a_bad_weights_file_names_the_key(text, key):
    from matcher.errors import ConfigError
    from matcher.weights import read_weights_file

    with pytest.raises(ConfigError) as caught:
        read_weights_file(text=text).apply(load_sectors())
    assert caught.value.key == key
