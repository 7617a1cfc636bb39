"""Tests for matcher/config.py: the project's sectors.yaml and the checks on broken files."""

from __future__ import annotations

import pytest

from matcher import ConfigError, load_sectors
from matcher.config import LANGS
from matcher.fields import COMPLETE_LANGS

#: The 26 sector ids of README's CSV data contract (stable; other tools read them).
DESIGN_SECTORS = (
    "electronics",
    "precision_engineering",
    "automation",
    "biotech",
    "software",
    "cybersecurity",
    "data_ai",
    "clean_energy",
    "environment",
    "logistics",
    "tourism",
    "trade",
    "energy",
    "nuclear",
    "aerospace",
    "healthcare",
    "automotive",
    "smart_city",
    "education",
    "agrifood",
    "manufacturing",
    "hospitality",
    "retail",
    "construction",
    "finance",
    "other",
)
HANOI_PRIORITY = DESIGN_SECTORS[:9]
CONNECTIVITY = ("logistics", "tourism", "trade")
EXISTING_FDI = ("manufacturing", "hospitality", "retail", "construction")

#: A small but complete sectors file; line numbers below refer to it (line 1 = "format:").
SMALL_YAML = """\
format: hanoi-matcher/sectors
version: 1
sources:
  src: {title: "A report"}
tiers:
  top:
    weight: 1.0
    label: {en: "Top", ru: "Верх", vi: "Đầu"}
    source: {ref: src, note: "n"}
  low:
    weight: 0.2
    label: {en: "Low", ru: "Низ", vi: "Thấp"}
    source: {ref: src, note: "n"}
sectors:
  software:
    tier: top
    label: {en: "Software", ru: "ПО", vi: "Phần mềm"}
    okved: ["62", "63.1"]
    keywords: {en: ["software"], ru: ["программа"], vi: ["phần mềm"]}
    source: {ref: src, note: "n"}
  other:
    tier: low
    label: {en: "Other", ru: "Прочее", vi: "Khác"}
    okved: ["47"]
    source: {ref: src, note: "n"}
criteria:
  sector_fit:
    weight: 60
    label: {en: "Fit", ru: "Отрасль", vi: "Ngành"}
    source: {ref: src, note: "n"}
    inputs:
      sector: {share: 1.0, kind: sector}
  green:
    weight: 40
    label: {en: "Green", ru: "Зелёный", vi: "Xanh"}
    source: {ref: src, note: "n"}
    inputs:
      green:
        share: 0.5
        answers: {committed: 1.0, planned: 0.5, none: 0.0}
      esg_report:
        share: 0.5
        answers: {"yes": 1.0, "no": 0.0}
bands:
  - {band: A, min: 50, label: {en: "good", ru: "хорошо", vi: "tốt"}}
  - {band: B, min: 0, label: {en: "weak", ru: "слабо", vi: "yếu"}}
"""


def test_band_min_tier_loads_with_its_source():
    config = load_sectors(
        "small.yaml",
        text=_mutate(
            45, "  - {band: A, min: 50, min_tier: top, source: {ref: src, note: why}, label: {en: g, ru: х, vi: t}}"
        ),
    )
    assert (config.bands[0].min_tier, dict(config.bands[0].source)) == ("top", {"ref": "src", "note": "why"})
    assert config.bands[1].min_tier is None


def test_project_strong_fit_admits_only_hanoi_priority(config):
    assert [(b.name, b.min_tier) for b in config.bands] == [
        ("A", "hanoi_priority"),
        ("B", None),
        ("C", None),
        ("D", None),
    ]
    assert config.bands[0].source["ref"] == "forum_vns"


def test_small_yaml_loads():
    config = load_sectors("small.yaml", text=SMALL_YAML)
    assert config.sector_ids == ("software", "other")
    assert config.criterion_ids == ("sector_fit", "green")
    assert config.weights().tolist() == [60.0, 40.0]
    assert [b.name for b in config.bands] == ["A", "B"]


def test_project_sectors_yaml_loads(config):
    assert config.version == 1
    assert config.path.endswith("sectors.yaml")
    assert len(config.sectors) >= 26


def test_project_has_every_design_sector(config):
    assert set(DESIGN_SECTORS) <= set(config.sector_ids)
    assert len(set(config.sector_ids)) == len(config.sector_ids)


@pytest.mark.parametrize("sector_id", DESIGN_SECTORS)
def test_every_design_sector_is_complete(config, sector_id):
    sector = config.sector(sector_id)
    assert sector.tier in config.tiers
    assert sector.tier_weight == config.tiers[sector.tier]["weight"]
    assert set(sector.label) == set(LANGS) and all(sector.label[lang].strip() for lang in LANGS)
    assert sector.source["ref"] in config.sources and sector.source["note"].strip()
    if sector_id != "other":
        # every sector but "other" can be found from text in each complete language
        assert all(sector.keywords[lang] for lang in COMPLETE_LANGS), sector_id


def test_every_tier_and_criterion_names_an_existing_source(config):
    for tier_id, tier in config.tiers.items():
        assert tier["source"]["ref"] in config.sources, tier_id
        assert tier["source"]["note"].strip(), tier_id
    for criterion in config.criteria:
        assert criterion.source["ref"] in config.sources, criterion.id
        assert criterion.source["note"].strip(), criterion.id
    for key, source in config.sources.items():
        assert source["title"].strip(), key


@pytest.mark.parametrize(
    ("sector_ids", "tier"),
    [(HANOI_PRIORITY, "hanoi_priority"), (CONNECTIVITY, "connectivity"), (EXISTING_FDI, "existing_fdi")],
)
def test_design_sectors_sit_in_their_tier(config, sector_ids, tier):
    assert {config.sector(s).tier for s in sector_ids} == {tier}


def test_hanoi_priority_outranks_connectivity_outranks_existing_fdi(config):
    weight = {name: tier["weight"] for name, tier in config.tiers.items()}
    assert weight["hanoi_priority"] > weight["connectivity"] > weight["existing_fdi"]
    # and on the sectors themselves
    assert min(config.sector(s).tier_weight for s in HANOI_PRIORITY) > max(
        config.sector(s).tier_weight for s in CONNECTIVITY
    )
    assert min(config.sector(s).tier_weight for s in CONNECTIVITY) > max(
        config.sector(s).tier_weight for s in EXISTING_FDI
    )


def test_criteria_weights_and_bands_are_the_documented_ones(config):
    # the hand-worked numbers in tests/test_scoring.py rely on these
    assert dict(zip(config.criterion_ids, config.weights().tolist(), strict=True)) == {
        "sector_fit": 30.0,
        "green": 14.0,
        "tech_transfer": 16.0,
        "training": 12.0,
        "local_linkage": 12.0,
        "capacity": 8.0,
        "readiness": 8.0,
    }
    assert [(b.name, b.min) for b in config.bands] == [("A", 75.0), ("B", 55.0), ("C", 35.0), ("D", 0.0)]


def test_no_okved_prefix_is_listed_twice(config):
    codes = [code for sector in config.sectors for code in sector.okved]
    assert len(codes) == len(set(codes))


def test_replace_returns_a_copy(config):
    changed = config.replace(bands=config.bands[:1])
    assert len(changed.bands) == 1
    assert len(config.bands) == 4


def _mutate(line: int, new: str) -> str:
    """SMALL_YAML with line ``line`` (1-based) replaced by ``new``."""
    lines = SMALL_YAML.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "new", "key", "error_line", "problem"),
    [
        # unknown tier
        (22, "    tier: lowest", "sectors.other.tier", 22, "unknown tier 'lowest'; known: top, low"),
        # bad weights
        (11, "    weight: 1.5", "tiers.low.weight", 11, "must be between 0 and 1, not 1.5"),
        (34, "    weight: lots", "criteria.green.weight", 34, "not str"),
        (34, "    weight: -5", "criteria.green.weight", 34, "must be between 0 and 1000, not -5"),
        (34, "    weight: 1.0e+308", "criteria.green.weight", 34, "must be between 0 and 1000, not 1e+308"),
        (34, "    weight: .inf", "criteria.green.weight", 34, "must be a finite number, not inf"),
        (34, "    weight: .nan", "criteria.green.weight", 34, "must be a finite number, not nan"),
        (11, "    weight: .nan", "tiers.low.weight", 11, "must be a finite number, not nan"),
        # shares of a criterion's inputs not adding to 1 (0.5 + 0.4): named at the inputs key
        (42, "        share: 0.4", "criteria.green.inputs", 37, "the shares of the inputs must add up to 1"),
        # the same okved prefix under two sectors
        (24, '    okved: ["62"]', "sectors.other.okved.0", 24, "code 62 is already listed under sector 'software'"),
        # a code that is no code
        (24, '    okved: ["04.1"]', "sectors.other.okved.0", 24, "'04.1' is not an OKVED 2 / NACE Rev. 2 code"),
        (24, '    okved: ["62..01"]', "sectors.other.okved.0", 24, "'62..01' is not an OKVED 2 / NACE Rev. 2 code"),
        (24, '    okved: ["62.١"]', "sectors.other.okved.0", 24, "is not an OKVED 2 / NACE Rev. 2 code"),
        # an unquoted code is a YAML number: 62.10 would silently become 62.1
        (24, "    okved: [62.10]", "sectors.other.okved.0", 24, "write the code in quotes: 62.1 is read as a number"),
        # missing or empty label language
        (23, '    label: {en: "Other", ru: "Прочее"}', "sectors.other.label.vi", 23, "is required"),
        (23, '    label: {en: "Other", ru: "", vi: "Khác"}', "sectors.other.label.ru", 23, "must not be empty"),
        # a source that does not exist
        (13, '    source: {ref: nowhere, note: "n"}', "tiers.low.source.ref", 13, "unknown source 'nowhere'"),
        # answers: out of range, or one missing
        (
            40,
            "        answers: {committed: 2, planned: 0.5, none: 0.0}",
            "criteria.green.inputs.green.answers.committed",
            40,
            "must be a sub-score between 0 and 1, not 2",
        ),
        (
            40,
            "        answers: {committed: 1, none: 0.0}",
            "criteria.green.inputs.green.answers",
            40,
            "must give a sub-score for 'planned'",
        ),
        # a band's lowest tier: a tier that exists, with a source; never on the last band
        (
            45,
            "  - {band: A, min: 50, min_tier: best, label: {en: good, ru: хорошо, vi: tốt}}",
            "bands.0.min_tier",
            45,
            "unknown tier 'best'; known: top, low",
        ),
        (
            45,
            "  - {band: A, min: 50, min_tier: top, label: {en: good, ru: хорошо, vi: tốt}}",
            "bands.0.source.ref",
            45,
            "is required",
        ),
        (
            46,
            "  - {band: B, min: 0, min_tier: low, source: {ref: src, note: n}, label: {en: weak, ru: слабо, vi: yếu}}",
            "bands.1.min_tier",
            46,
            "the last band must admit every sector",
        ),
        # bands out of order
        (
            46,
            "  - {band: B, min: 60, label: {en: weak, ru: слабо, vi: yếu}}",
            "bands.1.min",
            46,
            "bands must be listed from the highest minimum down",
        ),
        (1, "format: something/else", "format", 1, "must be 'hanoi-matcher/sectors'"),
        (2, "version: 2", "version", 2, "version 2 is not supported"),
        (7, "    weight: true", "tiers.top.weight", 7, "not bool"),
        # an input that is no profile field, and one input read by two criteria
        (41, "      foo:", "criteria.green.inputs.foo", 41, "unknown profile field 'foo'"),
        (
            32,
            "      esg_report: {share: 1.0, answers: {'yes': 1, 'no': 0}}",
            "criteria.green.inputs.esg_report",
            41,
            "is already used by another criterion",
        ),
        # a criterion id becomes a column name
        (27, "  sector-fit:", "criteria.sector-fit", 27, "a criterion id must be a plain identifier"),
    ],
)
def test_broken_file_names_key_and_line(line, new, key, error_line, problem):
    with pytest.raises(ConfigError) as info:
        load_sectors("small.yaml", text=_mutate(line, new))
    err = info.value
    assert err.key == key
    assert err.line == error_line
    assert problem in err.problem
    assert str(err) == f"small.yaml:{error_line}: {key}: {err.problem}"


@pytest.mark.parametrize("new", ["    tier: [top", "   tier: top"])
def test_yaml_syntax_error_names_the_line(new):
    with pytest.raises(ConfigError) as info:
        load_sectors("small.yaml", text=_mutate(16, new))
    err = info.value
    assert err.key == "(syntax)"
    # the parser reports where it noticed the problem: the broken line or the one after it
    assert err.line in (16, 17)
    assert str(err).startswith(f"small.yaml:{err.line}: (syntax): ")


def test_not_a_mapping():
    with pytest.raises(ConfigError, match="the file must be a YAML mapping"):
        load_sectors("small.yaml", text="- just\n- a list\n")


def test_missing_file_gives_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_sectors(tmp_path / "nope.yaml")


def test_weights_are_scaled_to_100_points():
    text = _mutate(34, "    weight: 2")  # green 2
    text = "\n".join("    weight: 3" if i == 27 else line for i, line in enumerate(text.splitlines()))
    config = load_sectors("small.yaml", text=text + "\n")
    assert [c.weight for c in config.criteria] == [3.0, 2.0]
    assert config.weights().tolist() == [60.0, 40.0]


def test_criterion_weights_adding_up_to_nothing_are_refused():
    """All weights 0 (or a denormal sum) would divide by zero when scaling to 100: every score 0."""
    text = _mutate(34, "    weight: 0")
    for weight in ("0", "1.0e-320"):
        broken = "\n".join(f"    weight: {weight}" if i == 27 else line for i, line in enumerate(text.splitlines()))
        with pytest.raises(ConfigError) as info:
            load_sectors("small.yaml", text=broken + "\n")
        assert (info.value.key, info.value.line, info.value.code) == ("criteria", 26, "total")
        assert info.value.problem.startswith("the criterion weights must add up to at least 0.01, not ")


def test_threshold_bounds_must_be_finite():
    broken = _mutate(
        32,
        "      sector: {share: 0.5, kind: sector}\n      employees: {share: 0.5, thresholds: [[0, 0.0], [.inf, 1.0]]}",
    )
    with pytest.raises(
        ConfigError,
        match=r"criteria\.sector_fit\.inputs\.employees\.thresholds\.1\.0: "
        "must be a finite number, not inf",
    ):
        load_sectors("small.yaml", text=broken)


def test_check_number_codes_and_params():
    from matcher.config import check_number

    with pytest.raises(ConfigError) as info:
        check_number("criteria.x", 1e308, 0, 1000)
    assert (info.value.code, info.value.params) == ("range", {"low": "0", "high": "1000", "value": "1e+308"})
    with pytest.raises(ConfigError) as info:
        check_number("criteria.x", float("-inf"))
    assert (info.value.code, info.value.params) == ("number", {"value": "-inf"})
    assert check_number("x", 3) == 3.0 and isinstance(check_number("x", 3), float)
    with pytest.raises(ConfigError, match=r"x: must be between 0 and 1000, not 1e\+400\+"):
        check_number("x", 10**400, 0, 1000)  # too large for a float: still a clean error
