"""Read and check ``opportunities.yaml``: parks, projects, partners, agencies and match weights.

:func:`load_opportunities` returns a frozen :class:`Catalogue`; any problem raises
:class:`~matcher.errors.ConfigError` naming the key and its line, as :func:`matcher.config.load_sectors`
does for ``sectors.yaml``. Opportunities that staff enter in the web app are checked by the same
rules with :func:`check_opportunity` and added with :meth:`Catalogue.with_opportunities`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._datafile import CONFIDENCE, date_text, one_of, only_keys, optional_labels, parse, read_sources, source_list
from .config import MAX_WEIGHT, Config, _Checker, check_total, load_sectors
from .data import OPPORTUNITIES_YAML
from .errors import ConfigError
from .profile import COMMITMENT_FIELDS
from .values import COMMITMENT_LEVELS, PRESENCE_LEVELS

FORMAT = "hanoi-matcher/opportunities"
SUPPORTED_VERSIONS = (1,)
#: Kinds of opportunity: a park (or zone), a project Hanoi offers, a Vietnamese firm seeking a partner.
KINDS = ("park", "project", "partner")
#: Where a project would sit; incentive rules read it (``location_in``).
LOCATION_TYPES = ("hi_tech_park", "industrial_park", "digital_zone", "other")
STATUSES = ("operating", "under_construction", "planned", "open", "closed", "retired", "unknown")
#: The named parts of a match score (matcher/match.py), in order.
COMPONENTS = ("sector", "asks", "size", "readiness", "partner")
#: What an opportunity may ask of a firm: the firm's commitment fields.
ASKS = COMMITMENT_FIELDS
_OPPORTUNITY_KEYS = (
    "kind",
    "location_type",
    "name",
    "location",
    "area_ha",
    "status",
    "targets",
    "asks",
    "offers",
    "facts",
    "managing_body",
    "developer",
    "capital_min_usd",
    "capital_max_usd",
    "deadline",
    "contact",
    "sources",
    "confidence",
    "as_of",
)
_TOP_KEYS = ("format", "version", "as_of", "sources", "agencies", "match", "opportunities")
_MATCH_KEYS = (
    "weights",
    "labels",
    "require_sector_overlap",
    "commitment_values",
    "presence_values",
    "default_asks",
    "default_asks_source",
)


@dataclass(frozen=True)
class Agency:
    """A body an investor deals with: names, what it does, sources."""

    id: str
    name: Mapping[str, str]
    role: Mapping[str, str]
    sources: tuple[str, ...]
    confidence: str


@dataclass(frozen=True)
class Opportunity:
    """A park, a project Hanoi offers, or a Vietnamese firm seeking a partner.

    ``targets`` maps sector ids to how much the opportunity wants them (0-1); ``asks`` lists the
    commitments it asks of a firm (for a partner: what the Vietnamese firm seeks); ``offers``
    lists, as free words, what a partner offers.
    """

    id: str
    kind: str
    name: Mapping[str, str]
    targets: Mapping[str, float]
    asks: tuple[str, ...] = ()
    location_type: str = "other"
    location: Mapping[str, str] = field(default_factory=dict)
    area_ha: float | None = None
    status: str = "open"
    offers: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)
    managing_body: str | None = None
    developer: str = ""
    capital_min_usd: float | None = None
    capital_max_usd: float | None = None
    deadline: str | None = None
    contact: str = ""
    sources: tuple[str, ...] = ()
    confidence: str = "stated"
    as_of: str | None = None
    asks_given: bool = True  # False: the catalogue's default asks apply


@dataclass(frozen=True)
class MatchSettings:
    """How a match score is made: weights per kind (points, scaled to 100) and answer values."""

    weights: Mapping[str, Mapping[str, float]]
    labels: Mapping[str, Mapping[str, str]]
    require_sector_overlap: bool
    commitment_values: Mapping[str, float]
    presence_values: Mapping[str, float]
    default_asks: tuple[str, ...]
    default_asks_source: str

    def scaled(self, kind: str) -> dict[str, float]:
        """The weights of ``kind`` scaled to add up to 100 points."""
        raw = self.weights[kind]
        total = math.fsum(raw.values())
        return {c: raw[c] * 100.0 / total for c in COMPONENTS}


@dataclass(frozen=True)
class Catalogue:
    """The whole opportunities file, checked; add staff-entered ones with :meth:`with_opportunities`."""

    version: int
    as_of: str
    sources: Mapping[str, Mapping[str, Any]]
    agencies: Mapping[str, Agency]
    settings: MatchSettings
    opportunities: tuple[Opportunity, ...]
    path: str = ""

    def with_opportunities(self, extra: Iterable[Opportunity], keep: bool = True) -> Catalogue:
        """A copy holding ``extra`` after (``keep``) or instead of the file's opportunities."""
        return replace(self, opportunities=(self.opportunities if keep else ()) + tuple(extra))

    def get(self, opportunity_id: str) -> Opportunity:
        """The opportunity with this id (KeyError if none)."""
        for opp in self.opportunities:
            if opp.id == opportunity_id:
                return opp
        raise KeyError(opportunity_id)

    def asks_of(self, opp: Opportunity) -> tuple[str, ...]:
        """What ``opp`` asks for: its own list, or the catalogue's default when it named none."""
        return opp.asks if opp.asks_given else self.settings.default_asks


def load_opportunities(
    path: str | Path | None = None, text: str | None = None, sectors: Config | None = None
) -> Catalogue:
    """Read and check an opportunities file.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; the project's ``opportunities.yaml`` by default.
    text : str, optional
        YAML text to read instead (``path`` then only names it in messages).
    sectors : Config, optional
        The sectors whose ids ``targets`` may name; the project's ``sectors.yaml`` by default.

    Returns
    -------
    Catalogue

    Raises
    ------
    ConfigError
        Naming the key, its line and the problem.
    """
    path = Path(path) if path else OPPORTUNITIES_YAML
    sectors = sectors or load_sectors()
    data, check = parse(path, text, FORMAT, SUPPORTED_VERSIONS)
    only_keys(check, data, (), _TOP_KEYS)
    sources = read_sources(check, data)
    agencies = _read_agencies(check, data, sources)
    settings = _read_settings(check, data, sources)
    raw = check.get(data, ("opportunities",), dict, required=False) or {}
    opportunities = tuple(
        _read_opportunity(check, data, ("opportunities", oid), str(oid), sources, agencies, sectors.sector_ids)
        for oid in raw
    )
    return Catalogue(1, date_text(check, data, ("as_of",)), sources, agencies, settings, opportunities, str(path))


def check_opportunity(
    opp_id: str, spec: Mapping[str, Any], catalogue: Catalogue, sector_ids: Iterable[str]
) -> Opportunity:
    """Check one opportunity given as plain data (a staff form, an API body) by the file's rules.

    Raises
    ------
    ConfigError
        Whose ``key`` names the field at fault (``targets.spaceships``), without a line.
    """
    data = {"opportunities": {opp_id: dict(spec)}}
    check = _Checker(None, "")
    return _read_opportunity(
        check, data, ("opportunities", opp_id), opp_id, catalogue.sources, catalogue.agencies, tuple(sector_ids)
    )


def _read_agencies(check: _Checker, data: dict, sources: Mapping[str, Any]) -> dict[str, Agency]:
    out = {}
    for aid in check.get(data, ("agencies",), dict):
        keys = ("agencies", aid)
        only_keys(check, data, keys, ("name", "role", "sources", "confidence"))
        out[aid] = Agency(
            aid,
            check.labels(data, (*keys, "name")),
            check.labels(data, (*keys, "role")),
            source_list(check, data, (*keys, "sources"), sources, required=True),
            one_of(check, data, (*keys, "confidence"), CONFIDENCE),
        )
    return out


def _read_settings(check: _Checker, data: dict, sources: Mapping[str, Any]) -> MatchSettings:
    keys = ("match",)
    only_keys(check, data, keys, _MATCH_KEYS)
    weights = {}
    for kind in KINDS:
        wkeys = (*keys, "weights", kind)
        only_keys(check, data, wkeys, COMPONENTS)
        weights[kind] = {c: check.number(data, (*wkeys, c), 0.0, MAX_WEIGHT) for c in COMPONENTS}
        try:
            check_total(".".join(wkeys), weights[kind].values())
        except ConfigError as err:
            raise err.located(check.line(wkeys), check.path) from None
    only_keys(check, data, (*keys, "weights"), KINDS)
    labels = {c: check.labels(data, (*keys, "labels", c)) for c in COMPONENTS}
    commitment = _answer_values(check, data, (*keys, "commitment_values"), COMMITMENT_LEVELS)
    presence = _answer_values(check, data, (*keys, "presence_values"), PRESENCE_LEVELS)
    asks = _asks(check, data, (*keys, "default_asks"))
    ref = check.get(data, (*keys, "default_asks_source"), str)
    if ref not in sources:
        raise check.fail((*keys, "default_asks_source"), f"unknown source {ref!r}")
    return MatchSettings(
        weights, labels, check.get(data, (*keys, "require_sector_overlap"), bool), commitment, presence, asks, ref
    )


def _answer_values(check: _Checker, data: dict, keys: tuple, levels: tuple[str, ...]) -> dict[str, float]:
    only_keys(check, data, keys, levels)
    return {level: check.number(data, (*keys, level), 0.0, 1.0) for level in levels}


def _asks(check: _Checker, data: dict, keys: tuple, required: bool = True) -> tuple[str, ...]:
    items = check.get(data, keys, list, required=required) or []
    for i, item in enumerate(items):
        if item not in ASKS:
            raise check.fail((*keys, i), f"{item!r} is not one of {', '.join(ASKS)}")
    return tuple(dict.fromkeys(items))


def _read_opportunity(
    check: _Checker,
    data: dict,
    keys: tuple,
    oid: str,
    sources: Mapping[str, Any],
    agencies: Mapping[str, Agency],
    sector_ids: tuple[str, ...],
) -> Opportunity:
    spec = only_keys(check, data, keys, _OPPORTUNITY_KEYS)
    kind = one_of(check, data, (*keys, "kind"), KINDS)
    body = check.get(data, (*keys, "managing_body"), str, required=False)
    if body is not None and body not in agencies:
        raise check.fail((*keys, "managing_body"), f"unknown agency {body!r}; known: {', '.join(agencies)}")
    low, high = (_money(check, data, (*keys, k)) for k in ("capital_min_usd", "capital_max_usd"))
    if low is not None and high is not None and high < low:
        raise check.fail((*keys, "capital_max_usd"), "must not be below capital_min_usd")
    area = check.get(data, (*keys, "area_ha"), (int, float), required=False)
    return Opportunity(
        id=oid,
        kind=kind,
        name=check.labels(data, (*keys, "name")),
        targets=_targets(check, data, (*keys, "targets"), sector_ids),
        asks=_asks(check, data, (*keys, "asks"), required=False),
        location_type=one_of(check, data, (*keys, "location_type"), LOCATION_TYPES, required=False) or "other",
        location=optional_labels(check, data, (*keys, "location")),
        area_ha=None if area is None else check.number(data, (*keys, "area_ha"), 0.0),
        status=one_of(check, data, (*keys, "status"), STATUSES, required=False) or "open",
        offers=tuple(str(o) for o in check.get(data, (*keys, "offers"), list, required=False) or ()),
        facts=optional_labels(check, data, (*keys, "facts")),
        managing_body=body,
        developer=check.get(data, (*keys, "developer"), str, required=False) or "",
        capital_min_usd=low,
        capital_max_usd=high,
        deadline=date_text(check, data, (*keys, "deadline"), required=False),
        contact=check.get(data, (*keys, "contact"), str, required=False) or "",
        sources=source_list(check, data, (*keys, "sources"), sources, required=kind == "park"),
        confidence=one_of(check, data, (*keys, "confidence"), CONFIDENCE, required=kind == "park") or "stated",
        as_of=date_text(check, data, (*keys, "as_of"), required=kind == "park"),
        asks_given="asks" in spec,
    )


def _targets(check: _Checker, data: dict, keys: tuple, sector_ids: tuple[str, ...]) -> dict[str, float]:
    targets = check.get(data, keys, dict)
    for sid in targets:
        if sid not in sector_ids:
            raise check.fail((*keys, sid), f"unknown sector {sid!r}; sector ids are those of sectors.yaml")
    out = {sid: check.number(data, (*keys, sid), 0.0, 1.0) for sid in targets}
    if not any(out.values()):
        raise check.fail(keys, "must target at least one sector with a weight above 0")
    return out


def _money(check: _Checker, data: dict, keys: tuple) -> float | None:
    if check.get(data, keys, (int, float), required=False) is None:
        return None
    return check.number(data, keys, 0.0)
