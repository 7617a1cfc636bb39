"""Read and check ``sectors.yaml``: sectors, tiers, criteria, bands and their sources.

:func:`load_sectors` returns a frozen :class:`Config`; any problem raises
:class:`~matcher.errors.ConfigError` naming the key path and the line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .data import SECTORS_YAML
from .errors import ConfigError
from .fields import COMPLETE_LANGS, LANGS, NUMBER_KINDS, REGISTRY
from .values import is_code

FORMAT = "hanoi-matcher/sectors"
SUPPORTED_VERSIONS = (1,)
DEFAULT_PATH = SECTORS_YAML  # inside the package: an installed wheel reads it from any folder

#: Profile fields a criterion may read, and the answers each accepts (from the field registry).
ANSWER_INPUTS: dict[str, tuple[str, ...]] = {f.name: f.answers.levels for f in REGISTRY if f.answers}
NUMBER_INPUTS = tuple(f.name for f in REGISTRY if f.kind in NUMBER_KINDS)

#: The largest weight of one criterion. Weights are points before they are scaled to add up
#: to 100; with at most this much each, and at least :data:`MIN_TOTAL_WEIGHT` together, the
#: scaling (100 / total) can neither overflow nor divide by zero. 1e308 would: every score 0.
MAX_WEIGHT = 1000.0
#: The smallest sum of the criterion weights (some criterion must count).
MIN_TOTAL_WEIGHT = 0.01


def check_number(key: str, value: Any, low: float = 0.0, high: float = math.inf) -> float:
    """The one check of a configured number: finite and within [low, high].

    Used for every weight, share, sub-score and bound of a sectors file, of a weights set an
    admin saves (:func:`matcher.weights.apply_weights`) and of the ranking settings
    (:func:`matcher.weights.check_setting`).

    Parameters
    ----------
    key : str
        The dotted key named in the error, e.g. ``criteria.training``.
    value : object
        The value to check; a bool is no number.
    low, high : float
        Inclusive bounds.

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        ``code="number"`` when ``value`` is not a finite number, ``code="range"`` when it is
        outside [low, high].

    Examples
    --------
    >>> check_number("criteria.training", 12, 0, MAX_WEIGHT)
    12.0
    >>> check_number("criteria.training", 1e308, 0, MAX_WEIGHT)
    Traceback (most recent call last):
    matcher.errors.ConfigError: criteria.training: must be between 0 and 1000, not 1e+308
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, f"must be a number, not {value!r}", code="number", params={"value": repr(value)})
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, not {value}", code="number", params={"value": str(value)})
    if not low <= value <= high:  # exact for ints of any size, which float() may not hold
        expected = f"at least {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        huge = isinstance(value, int) and abs(value) > 1e300  # f"{value:g}" would overflow
        shown = f"{'-' if value < 0 else ''}1e+{len(str(abs(value))) - 1}+" if huge else f"{value:g}"
        raise ConfigError(
            key,
            f"must be {expected}, not {shown}",
            code="range",
            params={"low": f"{low:g}", "high": f"{high:g}", "value": shown},
        )
    return float(value)


def check_total(key: str, weights: Any) -> float:
    """The sum of criterion ``weights``, checked to be at least :data:`MIN_TOTAL_WEIGHT`.

    Raises
    ------
    ConfigError
        ``code="total"``, e.g. ``criteria: the criterion weights must add up to at least 0.01, not 0``.
    """
    total = math.fsum(weights)
    if not total >= MIN_TOTAL_WEIGHT:
        raise ConfigError(
            key,
            f"the criterion weights must add up to at least {MIN_TOTAL_WEIGHT:g}, not {total:g}",
            code="total",
            params={"low": f"{MIN_TOTAL_WEIGHT:g}", "value": f"{total:g}"},
        )
    return total


@dataclass(frozen=True)
class Sector:
    """One sector: its tier, labels, OKVED prefixes, keywords and source."""

    id: str
    tier: str
    tier_weight: float
    label: Mapping[str, str]
    okved: tuple[str, ...]
    keywords: Mapping[str, tuple[str, ...]]
    source: Mapping[str, str]
    #: Sectors of the same family this one makes more specific (a code of one of them yields to text of this one).
    refines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Input:
    """How one profile field feeds a criterion.

    ``answers`` maps each answer to a sub-score; ``thresholds`` maps a number to the
    sub-score of the highest lower bound it reaches; ``kind == "sector"`` takes the tier weight.
    """

    field: str
    share: float
    kind: str
    answers: Mapping[str, float] = field(default_factory=dict)
    thresholds: tuple[tuple[float, float], ...] = ()
    advice: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion:
    """A criterion: weight in points (of 100), its inputs, labels and source."""

    id: str
    weight: float
    label: Mapping[str, str]
    inputs: tuple[Input, ...]
    source: Mapping[str, str]


@dataclass(frozen=True)
class Band:
    """A score band: name, lower bound, labels and, optionally, the lowest sector tier it admits.

    ``min_tier`` (a tier id) keeps a firm whose sector's tier weighs less out of the band,
    whatever its score: it gets the next band down that admits it. ``source`` says why.
    """

    name: str
    min: float
    label: Mapping[str, str]
    min_tier: str | None = None
    source: Mapping[str, str] | None = None


#: ``detection.min_confidence`` when the sectors file does not set it.
DEFAULT_MIN_CONFIDENCE = 0.4


@dataclass(frozen=True)
class Config:
    """The whole of ``sectors.yaml``, checked; change it with :meth:`replace`."""

    version: int
    sources: Mapping[str, Mapping[str, str]]
    tiers: Mapping[str, Mapping[str, Any]]
    sectors: tuple[Sector, ...]
    criteria: tuple[Criterion, ...]
    bands: tuple[Band, ...]
    path: str = ""
    #: Below this text confidence (0..1), with no code and no declared sector, the sector is uncertain.
    min_confidence: float = DEFAULT_MIN_CONFIDENCE

    def replace(self, **changes: Any) -> Config:
        """Return a copy with ``changes`` applied (the original never changes)."""
        return replace(self, **changes)

    @property
    def sector_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sectors)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def sector(self, sector_id: str) -> Sector:
        return self.sectors[self.sector_ids.index(sector_id)]

    def weights(self):
        """Criterion weights scaled to add up to 100 points, in criterion order."""
        import numpy as np

        raw = np.array([c.weight for c in self.criteria], dtype=np.float64)
        return raw * (100.0 / raw.sum())


class _Checker:
    """Walks the parsed YAML next to its node tree so errors can name the line."""

    def __init__(self, root_node: yaml.Node | None, path: str) -> None:
        self.root = root_node
        self.path = path

    def line(self, keys: tuple[Any, ...]) -> int | None:
        node, line = self.root, None
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if k.value == str(key)]
                if not match:
                    break
                line, node = match[0][0].start_mark.line + 1, match[0][1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def fail(self, keys: tuple[Any, ...], problem: str) -> ConfigError:
        return ConfigError(self.name(keys), problem, self.line(keys), self.path)

    @staticmethod
    def name(keys: tuple[Any, ...]) -> str:
        return ".".join(str(k) for k in keys) or "(top)"

    def get(self, data: Any, keys: tuple[Any, ...], kind: type | tuple[type, ...], required: bool = True) -> Any:
        value = data
        for key in keys:
            if isinstance(value, dict):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                value = None
        if value is None:
            if required:
                raise self.fail(keys, "is required")
            return None
        if not isinstance(value, kind) or isinstance(value, bool) and kind in (int, float, (int, float)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise self.fail(keys, f"must be a {names}, not {type(value).__name__}")
        return value

    def number(self, data: Any, keys: tuple[Any, ...], low: float = 0.0, high: float = math.inf) -> float:
        try:
            return check_number(self.name(keys), self.get(data, keys, (int, float)), low, high)
        except ConfigError as err:
            raise err.located(self.line(keys), self.path) from None

    def labels(self, data: Any, keys: tuple[Any, ...]) -> dict[str, str]:
        """Labels in every language: required in the complete ones, English where another lacks one."""
        labels = self.get(data, keys, dict)
        for lang in LANGS:
            text = self.get(data, (*keys, lang), str, required=lang in COMPLETE_LANGS)
            if text is not None and not text.strip():
                raise self.fail((*keys, lang), "must not be empty")
        return {lang: labels.get(lang) or labels["en"] for lang in LANGS}

    def source(self, data: Any, keys: tuple[Any, ...], sources: Mapping[str, Any]) -> dict[str, str]:
        ref = self.get(data, (*keys, "ref"), str)
        if ref not in sources:
            raise self.fail((*keys, "ref"), f"unknown source {ref!r}; known: {', '.join(sources)}")
        return {"ref": ref, "note": self.get(data, (*keys, "note"), str)}


#: libyaml's safe loader where PyYAML was built with it: parsing sectors.yaml twice (for the
#: data and for the line of each key) took 0.12-0.15 s in pure Python, most of a model's fit.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_checked(path: Path, text: str | None, fmt: str, versions: tuple[int, ...]) -> tuple[dict, _Checker]:
    """The file's data and a checker over its nodes; the ``format`` and ``version`` keys checked.

    Raises
    ------
    ConfigError
        For an unreadable file, a YAML syntax error (with its line), or a wrong format/version.
    """
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # _LOADER is a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            "(syntax)", str(getattr(exc, "problem", exc)), mark.line + 1 if mark else None, str(path)
        ) from None
    check = _Checker(node, str(path))
    if not isinstance(data, dict):
        raise check.fail((), "the file must be a YAML mapping")
    if data.get("format") != fmt:
        raise check.fail(("format",), f"must be {fmt!r}")
    version = check.get(data, ("version",), int)
    if version not in versions:
        raise check.fail(("version",), f"version {version} is not supported (supported: {versions})")
    return data, check


def load_sectors(path: str | Path | None = None, text: str | None = None) -> Config:
    """Read and check a sectors file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; defaults to the project's ``sectors.yaml``.
    text : str, optional
        YAML text to read instead of a file (``path`` is then only used in messages).

    Returns
    -------
    Config
        Frozen, checked configuration.

    Raises
    ------
    ConfigError
        Naming the key, the line and the problem.
    """
    path = Path(path) if path else DEFAULT_PATH
    data, check = read_checked(path, text, FORMAT, SUPPORTED_VERSIONS)
    sources = check.get(data, ("sources",), dict)
    for key in sources:
        check.get(data, ("sources", key, "title"), str)
    tiers = _read_tiers(check, data, sources)
    sectors = _read_sectors(check, data, sources, tiers)
    criteria = _read_criteria(check, data, sources)
    bands = _read_bands(check, data, sources, tiers)
    min_confidence = DEFAULT_MIN_CONFIDENCE
    if data.get("detection") is not None:
        check.get(data, ("detection",), dict)
        if "min_confidence" in data["detection"]:
            min_confidence = check.number(data, ("detection", "min_confidence"), 0.0, 1.0)
    return Config(data["version"], sources, tiers, sectors, criteria, bands, str(path), min_confidence)


def _read_tiers(check: _Checker, data: dict, sources: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    tiers = {}
    for key in check.get(data, ("tiers",), dict):
        tiers[key] = {
            "weight": check.number(data, ("tiers", key, "weight"), 0.0, 1.0),
            "label": check.labels(data, ("tiers", key, "label")),
            "source": check.source(data, ("tiers", key, "source"), sources),
        }
    return tiers


def _read_sectors(
    check: _Checker, data: dict, sources: Mapping[str, Any], tiers: Mapping[str, Any]
) -> tuple[Sector, ...]:
    sectors, owner = [], {}
    raw = check.get(data, ("sectors",), dict)
    if not raw:
        raise check.fail(("sectors",), "must list at least one sector")
    for sid in raw:
        keys = ("sectors", sid)
        tier = check.get(data, (*keys, "tier"), str)
        if tier not in tiers:
            raise check.fail((*keys, "tier"), f"unknown tier {tier!r}; known: {', '.join(tiers)}")
        listed = check.get(data, (*keys, "okved"), list, required=False) or []
        for i, code in enumerate(listed):
            if not isinstance(code, str):  # 62.10 unquoted would be read as the number 62.1
                raise check.fail((*keys, "okved", i), f"write the code in quotes: {code!r} is read as a number")
            if not is_code(code):
                raise check.fail((*keys, "okved", i), f"{code!r} is not an OKVED 2 / NACE Rev. 2 code")
        codes = tuple(listed)
        for i, code in enumerate(codes):
            if code in owner:
                raise check.fail((*keys, "okved", i), f"code {code} is already listed under sector {owner[code]!r}")
            owner[code] = sid
        words = check.get(data, (*keys, "keywords"), dict, required=False) or {}
        keywords = {}
        for lang in LANGS:
            items = words.get(lang) or []
            if not isinstance(items, list) or not all(isinstance(w, str) and w.strip() for w in items):
                raise check.fail((*keys, "keywords", lang), "must be a list of words or phrases")
            keywords[lang] = tuple(w.strip() for w in items)
        sectors.append(
            Sector(
                sid,
                tier,
                tiers[tier]["weight"],
                check.labels(data, (*keys, "label")),
                codes,
                keywords,
                check.source(data, (*keys, "source"), sources),
                _read_refines(check, data, keys),
            )
        )
    return tuple(sectors)


def _read_refines(check: _Checker, data: dict, keys: tuple[Any, ...]) -> tuple[str, ...]:
    """The ``refines`` list of one sector: ids of other sectors of the file."""
    listed = check.get(data, (*keys, "refines"), list, required=False) or []
    for i, sid in enumerate(listed):
        if sid not in data["sectors"] or sid == keys[-1]:
            raise check.fail((*keys, "refines", i), f"{sid!r} is not another sector of this file")
    return tuple(listed)


def _read_input(check: _Checker, data: dict, keys: tuple[Any, ...], name: str) -> Input:
    share = check.number(data, (*keys, "share"), 0.0, 1.0)
    spec = check.get(data, keys, dict)
    advice = check.labels(data, (*keys, "advice")) if "advice" in spec else {}
    if spec.get("kind") == "sector" or name == "sector":
        return Input("sector", share, "sector")
    if name in ANSWER_INPUTS:
        answers = check.get(data, (*keys, "answers"), dict)
        answers = {({True: "yes", False: "no"}.get(k, k) if isinstance(k, bool) else k): v for k, v in answers.items()}
        for answer in ANSWER_INPUTS[name]:
            if answer not in answers:
                raise check.fail((*keys, "answers"), f"must give a sub-score for {answer!r}")
        extra = set(map(str, answers)) - set(ANSWER_INPUTS[name])
        if extra:
            raise check.fail((*keys, "answers"), f"unknown answers {sorted(extra)}; expected {ANSWER_INPUTS[name]}")
        mapped = {}
        for answer in ANSWER_INPUTS[name]:
            value = answers[answer]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise check.fail((*keys, "answers", answer), f"must be a sub-score between 0 and 1, not {value!r}")
            mapped[answer] = float(value)
        return Input(name, share, "answers", answers=mapped, advice=advice)
    if name in NUMBER_INPUTS:
        pairs = check.get(data, (*keys, "thresholds"), list)
        thresholds = []
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, (int, float)) for v in pair)):
                raise check.fail((*keys, "thresholds", i), "must be a pair [lower bound, sub-score]")
            check.number(data, (*keys, "thresholds", i, 0), -math.inf)
            if not 0 <= pair[1] <= 1 or (thresholds and pair[0] <= thresholds[-1][0]):
                raise check.fail((*keys, "thresholds", i), "sub-scores lie in [0, 1] and bounds must increase")
            thresholds.append((float(pair[0]), float(pair[1])))
        if not thresholds:
            raise check.fail((*keys, "thresholds"), "must list at least one [lower bound, sub-score]")
        return Input(name, share, "thresholds", thresholds=tuple(thresholds), advice=advice)
    known = ", ".join(["sector", *ANSWER_INPUTS, *NUMBER_INPUTS])
    raise check.fail(keys, f"unknown profile field {name!r}; known: {known}")


def _read_criteria(check: _Checker, data: dict, sources: Mapping[str, Any]) -> tuple[Criterion, ...]:
    criteria, used = [], set()
    for cid in check.get(data, ("criteria",), dict):
        keys = ("criteria", cid)
        if not str(cid).isidentifier():
            raise check.fail(keys, "a criterion id must be a plain identifier (it becomes the c_<id> column)")
        inputs = tuple(
            _read_input(check, data, (*keys, "inputs", name), name) for name in check.get(data, (*keys, "inputs"), dict)
        )
        for item in inputs:
            if item.field in used:
                raise check.fail((*keys, "inputs", item.field), "is already used by another criterion")
            used.add(item.field)
        if not math.isclose(sum(i.share for i in inputs), 1.0, abs_tol=1e-6):
            raise check.fail((*keys, "inputs"), "the shares of the inputs must add up to 1")
        criteria.append(
            Criterion(
                cid,
                check.number(data, (*keys, "weight"), 0.0, MAX_WEIGHT),
                check.labels(data, (*keys, "label")),
                inputs,
                check.source(data, (*keys, "source"), sources),
            )
        )
    try:
        check_total("criteria", [c.weight for c in criteria])
    except ConfigError as err:
        raise err.located(check.line(("criteria",)), check.path) from None
    if "sector" not in used:
        raise check.fail(("criteria",), "one criterion must read the input 'sector'")
    return tuple(criteria)


def _read_bands(check: _Checker, data: dict, sources: Mapping[str, Any], tiers: Mapping[str, Any]) -> tuple[Band, ...]:
    raw = check.get(data, ("bands",), list)
    bands = []
    for i, _ in enumerate(raw):
        name = check.get(data, ("bands", i, "band"), str)
        low = check.number(data, ("bands", i, "min"), 0.0, 100.0)
        if bands and low >= bands[-1].min:
            raise check.fail(("bands", i, "min"), "bands must be listed from the highest minimum down")
        min_tier, source = _band_tier(check, data, i, sources, tiers)
        bands.append(Band(name, low, check.labels(data, ("bands", i, "label")), min_tier, source))
    if not bands or bands[-1].min != 0:
        raise check.fail(("bands",), "the last band must start at 0 so every score has a band")
    if bands[-1].min_tier is not None:
        raise check.fail(("bands", len(bands) - 1, "min_tier"), "the last band must admit every sector")
    return tuple(bands)


def _band_tier(
    check: _Checker, data: dict, i: int, sources: Mapping[str, Any], tiers: Mapping[str, Any]
) -> tuple[str | None, dict[str, str] | None]:
    """A band's optional ``min_tier`` (a tier id) and the ``source`` it then needs."""
    min_tier = check.get(data, ("bands", i, "min_tier"), str, required=False)
    if min_tier is None:
        return None, None
    if min_tier not in tiers:
        raise check.fail(("bands", i, "min_tier"), f"unknown tier {min_tier!r}; known: {', '.join(tiers)}")
    return min_tier, check.source(data, ("bands", i, "source"), sources)
