"""Incentive categories as rules (``incentives.yaml``): which a profile meets, misses, or must confirm.

Each condition of a rule gives, for every firm of a batch at once, one of four statuses:
``MISSED`` (the profile says no), ``UNKNOWN`` (the profile does not say), ``CONFIRM`` (no profile
can say: the authority must confirm) or ``MET``. ``any_of`` takes the best of its conditions,
a rule the worst of its own, so a category is:

* ``qualifies`` when every condition is met or only left to confirm,
* ``possible`` when nothing is missed but the profile leaves something unknown (an ``any_of``
  whose best alternative is only to confirm counts as unknown: "revenue of VND 20,000 bn a year"
  is no fact to lean on),
* ``not_yet`` when a condition is missed; :func:`gap_text` says what would change that
  ("qualifies if the investment reaches VND 6,000 bn (about US$230.8 m)").

Everything here is indicative, as the file's disclaimer says; every rule carries its legal
source, the date it applies from and its confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._datafile import CONFIDENCE, date_text, label, one_of, only_keys, parse, read_sources
from .config import Config, _Checker, load_sectors
from .data import INCENTIVES_YAML
from .firms import FirmFacts
from .opportunities import ASKS, LOCATION_TYPES
from .values import COMMITMENT_LEVELS, is_code

FORMAT = "hanoi-matcher/incentives"
SUPPORTED_VERSIONS = (1,)
MISSED, UNKNOWN, CONFIRM, MET = 0, 1, 2, 3
STATUS_NAMES = {MET: "qualifies", CONFIRM: "qualifies", UNKNOWN: "possible", MISSED: "not_yet"}
CONDITION_KINDS = (
    "sector_in",
    "okved_in",
    "location_in",
    "investment_min_vnd",
    "employees_min",
    "commitment",
    "any_of",
    "confirm",
)
_RULE_KEYS = ("label", "benefit", "conditions", "source", "applies_from", "confidence", "agency")


@dataclass(frozen=True)
class Condition:
    """One condition of a rule: its kind and what it needs."""

    kind: str
    items: tuple[str, ...] = ()  # sector ids, code prefixes or location types
    number: float = 0.0  # investment (VND) or employees
    commitment: str = ""  # commitment field (tech_transfer, training...)
    level: int = 0  # least commitment level (index into COMMITMENT_LEVELS)
    text: Mapping[str, str] = field(default_factory=dict)  # confirm
    children: tuple[Condition, ...] = ()  # any_of


@dataclass(frozen=True)
class Rule:
    """An incentive category: labels, benefit, conditions, legal source, date, confidence, agency."""

    id: str
    label: Mapping[str, str]
    benefit: Mapping[str, str]
    conditions: tuple[Condition, ...]
    source: Mapping[str, str]
    applies_from: str
    confidence: str
    agency: str


@dataclass(frozen=True)
class Rules:
    """The whole incentives file, checked."""

    version: int
    as_of: str
    disclaimer: Mapping[str, str]
    usd_vnd: float
    sources: Mapping[str, Mapping[str, Any]]
    rules: tuple[Rule, ...]
    path: str = ""


def load_incentives(
    path: str | Path | None = None,
    text: str | None = None,
    sectors: Config | None = None,
    agencies: tuple[str, ...] | None = None,
) -> Rules:
    """Read and check an incentives file (the project's ``incentives.yaml`` by default).

    ``agencies`` lists the agency ids a rule may name (those of ``opportunities.yaml`` by default).

    Raises
    ------
    ConfigError
        Naming the key, its line and the problem.
    """
    path = Path(path) if path else INCENTIVES_YAML
    sector_ids = (sectors or load_sectors()).sector_ids
    if agencies is None:
        from .opportunities import load_opportunities

        agencies = tuple(load_opportunities().agencies)
    data, check = parse(path, text, FORMAT, SUPPORTED_VERSIONS)
    only_keys(check, data, (), ("format", "version", "as_of", "disclaimer", "usd_vnd", "sources", "categories"))
    sources = read_sources(check, data)
    only_keys(check, data, ("usd_vnd",), ("rate", "as_of", "confidence"))
    rate = check.number(data, ("usd_vnd", "rate"), 1.0)
    rules = tuple(
        _read_rule(check, data, ("categories", rid), str(rid), sources, sector_ids, agencies)
        for rid in check.get(data, ("categories",), dict)
    )
    return Rules(
        1, date_text(check, data, ("as_of",)), check.labels(data, ("disclaimer",)), rate, sources, rules, str(path)
    )


def _read_rule(
    check: _Checker,
    data: dict,
    keys: tuple,
    rid: str,
    sources: Mapping[str, Any],
    sector_ids: tuple[str, ...],
    agencies: tuple[str, ...],
) -> Rule:
    only_keys(check, data, keys, _RULE_KEYS)
    items = check.get(data, (*keys, "conditions"), list)
    if not items:
        raise check.fail((*keys, "conditions"), "must list at least one condition")
    conditions = tuple(_read_condition(check, data, (*keys, "conditions", i), sector_ids) for i in range(len(items)))
    source = check.source(data, (*keys, "source"), sources)
    return Rule(
        rid,
        check.labels(data, (*keys, "label")),
        check.labels(data, (*keys, "benefit")),
        conditions,
        source,
        date_text(check, data, (*keys, "applies_from")),
        one_of(check, data, (*keys, "confidence"), CONFIDENCE),
        one_of(check, data, (*keys, "agency"), agencies),
    )


def _read_condition(check: _Checker, data: dict, keys: tuple, sector_ids: tuple[str, ...]) -> Condition:
    spec = only_keys(check, data, keys, CONDITION_KINDS)
    if len(spec) != 1:
        raise check.fail(keys, f"a condition has exactly one of {', '.join(CONDITION_KINDS)}")
    kind = next(iter(spec))
    at = (*keys, kind)
    if kind in ("sector_in", "okved_in", "location_in"):
        values = check.get(data, at, list)
        known = {"sector_in": sector_ids, "location_in": LOCATION_TYPES}.get(kind)
        for i, value in enumerate(values):
            if (
                not isinstance(value, str)
                or (known is not None and value not in known)
                or (kind == "okved_in" and not is_code(value))
            ):
                raise check.fail((*at, i), f"{value!r} is not a known {kind[:-3].replace('okved', 'OKVED code')}")
        return Condition(kind, items=tuple(values))
    if kind in ("investment_min_vnd", "employees_min"):
        return Condition(kind, number=check.number(data, at, 0.0))
    if kind == "commitment":
        only_keys(check, data, at, ("field", "min"))
        return Condition(
            kind,
            commitment=one_of(check, data, (*at, "field"), ASKS),
            level=COMMITMENT_LEVELS.index(one_of(check, data, (*at, "min"), COMMITMENT_LEVELS[1:])),
        )
    if kind == "confirm":
        return Condition(kind, text=check.labels(data, at))
    children = check.get(data, at, list)
    if len(children) < 2:
        raise check.fail(at, "must list at least two conditions")
    return Condition(
        kind, children=tuple(_read_condition(check, data, (*at, i), sector_ids) for i in range(len(children)))
    )


# -- Evaluation: one status array per condition, for a whole batch ----------------------------------


@dataclass
class Context:
    """What the conditions read: the firms, where each project would go, the sector ids and the rate."""

    firms: FirmFacts
    location: NDArray[np.int64]  # index into LOCATION_TYPES per firm, -1 = not chosen
    sector_ids: tuple[str, ...]
    usd_vnd: float


def condition_status(cond: Condition, ctx: Context) -> NDArray[np.int8]:
    """The status of ``cond`` for every firm of ``ctx``."""
    firms, n = ctx.firms, ctx.firms.n
    if cond.kind == "confirm":
        return np.full(n, CONFIRM, np.int8)
    if cond.kind == "any_of":  # an alternative left to confirm is one the profile does not show
        best = np.max([condition_status(c, ctx) for c in cond.children], axis=0)
        return np.where(best == CONFIRM, UNKNOWN, best).astype(np.int8)
    if cond.kind == "sector_in":
        cols = [ctx.sector_ids.index(s) for s in cond.items]
        has = np.asarray((firms.shares[:, cols] > 0).sum(axis=1)).ravel() > 0
        return _status(has, ~firms.sector_known)
    if cond.kind == "okved_in":
        return _codes_status(firms.codes, cond.items)
    if cond.kind == "location_in":
        wanted = np.isin(ctx.location, [LOCATION_TYPES.index(t) for t in cond.items])
        return _status(wanted, ctx.location < 0)
    if cond.kind == "commitment":
        answer = firms.commitments[cond.commitment]
        return _status(answer >= cond.level, answer < 0)
    # An amount in US$ near the largest float is infinite in dong (still at least any minimum); NaN is unknown.
    with np.errstate(invalid="ignore", over="ignore"):
        values = firms.investment_usd * ctx.usd_vnd if cond.kind == "investment_min_vnd" else firms.employees
        return _status(values >= cond.number, np.isnan(values))


def _status(met: NDArray[np.bool_], unknown: NDArray[np.bool_]) -> NDArray[np.int8]:
    return np.where(unknown, UNKNOWN, np.where(met, MET, MISSED)).astype(np.int8)


def _codes_status(codes: list[tuple[str, ...]], prefixes: tuple[str, ...]) -> NDArray[np.int8]:
    """MET when a code's digits start with a listed prefix's (``26.11`` under ``26.1``), UNKNOWN with no codes."""
    digits = tuple(p.replace(".", "") for p in prefixes)
    cache: dict[tuple[str, ...], int] = {}
    out = np.empty(len(codes), np.int8)
    for i, row in enumerate(codes):
        status = cache.get(row)
        if status is None:
            hit = any(c.replace(".", "").startswith(digits) for c in row)
            status = cache[row] = UNKNOWN if not row else MET if hit else MISSED
        out[i] = status
    return out


def rule_status(rule: Rule, ctx: Context) -> NDArray[np.int8]:
    """The worst status of the rule's conditions, per firm."""
    return np.min([condition_status(c, ctx) for c in rule.conditions], axis=0).astype(np.int8)


def evaluate_batch(rules: Rules, ctx: Context) -> NDArray[np.int8]:
    """(n, n_rules) statuses: every rule for every firm."""
    return np.column_stack([rule_status(r, ctx) for r in rules.rules]) if rules.rules else np.zeros((ctx.firms.n, 0))


def category(status: int) -> str:
    """``qualifies``, ``possible`` or ``not_yet`` for a rule's status."""
    return STATUS_NAMES[int(status)]


def source_of(rules: Rules, rule: Rule) -> dict[str, Any]:
    """The rule's source entry with its note."""
    return {**rules.sources[rule.source["ref"]], "note": rule.source["note"]}


__all__ = [
    "CONFIRM",
    "MET",
    "MISSED",
    "UNKNOWN",
    "Condition",
    "Context",
    "Rule",
    "Rules",
    "category",
    "condition_status",
    "evaluate_batch",
    "label",
    "load_incentives",
    "rule_status",
    "source_of",
]
