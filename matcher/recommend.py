"""Where in Hanoi, which incentives, whom to meet: matches for a few profiles, as results that explain themselves.

:class:`Matcher` holds the catalogue (``opportunities.yaml`` plus any staff-entered ones), the
incentive rules and the sector detector. :meth:`Matcher.match_profiles` reads profiles the way
``matcher score`` does, runs :func:`matcher.match.top_matches` and the incentive rules on them
as one batch, and returns a :class:`FirmMatches` per profile; :meth:`Matcher.rank_leads` ranks
profiles for one opportunity (a staff member's "best leads"). Pages, the API and the CLI render
these numbers and never recompute them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from ._datafile import label
from .errors import InvalidValue
from .firms import FirmFacts, firm_facts
from .frame import ProfileFrame, read_frame
from .incentives import (
    CONFIRM,
    MET,
    MISSED,
    UNKNOWN,
    Condition,
    Context,
    Rules,
    category,
    condition_status,
    load_incentives,
    rule_status,
    source_of,
)
from .match import OpportunityTable, TopMatches, opportunity_table, top_matches
from .match_text import MISSING_FIELDS, missing_masks, phrase, reason_column, vnd_text
from .messages import FIELD_LABELS, format_number
from .opportunities import COMPONENTS, LOCATION_TYPES, Catalogue, Opportunity, load_opportunities
from .profile import table_from_mappings


@dataclass(frozen=True)
class MatchPart:
    """One named contribution of a match score."""

    component: str
    label: str
    weight: float  # points available for this kind of opportunity
    subscore: float
    points: float  # rounded so that the parts add up to the score


@dataclass(frozen=True)
class Match:
    """A firm's match with one opportunity: score, its parts, the reason, and whom to contact."""

    opportunity: str
    kind: str
    name: str
    score: float
    parts: list[MatchPart]
    reason: str
    missing: list[str]
    location_type: str
    status: str
    confidence: str
    agency: dict[str, str] | None
    sources: list[dict[str, Any]]


@dataclass(frozen=True)
class IncentiveResult:
    """One incentive category for a profile: status, conditions met, missed (with the gap), unknown, to confirm."""

    id: str
    label: str
    status: str  # qualifies, possible, not_yet
    status_label: str
    benefit: str
    met: list[str]
    missed: list[str]
    unknown: list[str]
    confirm: list[str]
    source: dict[str, Any]
    applies_from: str
    confidence: str
    agency: dict[str, str] | None
    reachable: bool  # missed only on investment, staff, commitment or location


@dataclass(frozen=True)
class FirmMatches:
    """What the matcher says about one profile."""

    name: str
    matches: list[Match]
    partners: list[Match]
    incentives: list[IncentiveResult]
    location_type: str | None  # where the incentives were judged (the best park's), None if nowhere
    disclaimer: str
    lang: str = "en"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


_REACHABLE = {"investment_min_vnd", "employees_min", "commitment", "location_in"}


class Matcher:
    """The catalogue, the incentive rules and the sector detector, ready to match.

    Parameters
    ----------
    scorer : Scorer, optional
        A fitted scorer whose sector detector reads the profiles; the project's by default.
    catalogue : Catalogue, optional
        Opportunities and match settings; the project's ``opportunities.yaml`` by default.
    rules : Rules, optional
        Incentive rules; the project's ``incentives.yaml`` by default.
    """

    def __init__(self, scorer=None, catalogue: Catalogue | None = None, rules: Rules | None = None) -> None:
        if scorer is None:
            from .scoring import Scorer

            scorer = Scorer(cached_vocabulary=True).fit()
        self.scorer = scorer
        self.detector = scorer.detector_
        self.sector_ids = scorer.config_.sector_ids
        project = _project_catalogue(scorer.config_)
        self.catalogue = catalogue or project
        #: The agencies incentive rules name: those of the project's catalogue (a custom one may list others).
        self.agencies = {**project.agencies, **self.catalogue.agencies}
        self.rules = rules or load_incentives(sectors=scorer.config_, agencies=tuple(project.agencies))
        self._tables: dict[tuple[str, ...], OpportunityTable] = {}

    def with_opportunities(self, extra: Iterable[Opportunity], keep: bool = True) -> Matcher:
        """A matcher whose catalogue also holds (or, ``keep=False``, only holds) ``extra``."""
        return Matcher(self.scorer, self.catalogue.with_opportunities(extra, keep), self.rules)

    def table(self, kinds: tuple[str, ...] = ("park", "project", "partner")) -> OpportunityTable:
        """The matrices of the active opportunities of ``kinds`` (built once per set of kinds)."""
        if kinds not in self._tables:
            chosen = self.catalogue.with_opportunities(
                [o for o in self.catalogue.opportunities if o.kind in kinds], keep=False
            )
            self._tables[kinds] = opportunity_table(chosen, self.sector_ids)
        return self._tables[kinds]

    def facts(self, frame: ProfileFrame) -> FirmFacts:
        """The matcher's view of a batch of profiles."""
        return firm_facts(frame)

    def top(self, facts: FirmFacts, k: int, kinds: tuple[str, ...]) -> tuple[OpportunityTable, TopMatches]:
        """The best ``k`` opportunities of ``kinds`` for every firm."""
        table = self.table(kinds)
        return table, top_matches(facts, table, self.catalogue, k)

    def locations(self, table: OpportunityTable, top: TopMatches) -> np.ndarray:
        """Per firm, the location type of its best match (-1 when it has none, or one without sector overlap)."""
        types = np.array([LOCATION_TYPES.index(o.location_type) for o in table.opportunities] + [-1], dtype=np.int64)
        if not top.index.shape[1]:
            return np.full(len(top.index), -1)
        best = np.where(
            (top.index[:, 0] >= 0) & (top.subscores[:, 0, COMPONENTS.index("sector")] > 0), top.index[:, 0], table.m
        )
        return types[best]

    def context(self, facts: FirmFacts, location: np.ndarray) -> Context:
        """What the incentive rules read for this batch."""
        return Context(facts, location, self.sector_ids, self.rules.usd_vnd)

    # -- A few profiles (a web request, the API) --------------------------------------------------

    def match_profiles(
        self, profiles: Iterable[Mapping[str, Any]], k: int = 3, lang: str = "en", k_partners: int = 3
    ) -> list[FirmMatches | InvalidValue]:
        """Matches, partners and incentive categories of each profile (an unreadable one: its first error)."""
        table_in, _ = table_from_mappings(list(profiles))
        frame = read_frame(table_in, self.detector)
        facts = self.facts(frame)
        places, top = self.top(facts, k, ("park", "project"))
        partner_table, partners = self.top(facts, k_partners, ("partner",))
        ctx = self.context(facts, self.locations(places, top))
        place_reasons = self._reasons(places, top, facts, lang)
        partner_reasons = self._reasons(partner_table, partners, facts, lang)
        errors = {}
        for err in frame.errors:
            errors.setdefault(err.row, err)
        out: list[FirmMatches | InvalidValue] = []
        for row in range(frame.n_rows):
            if row in errors:
                err = errors[row]
                value = table_in.column(err.field)[row].as_py() if err.field in table_in.column_names else None
                out.append(InvalidValue(err.field, value, err.reason))
                continue
            loc = int(ctx.location[row])
            out.append(
                FirmMatches(
                    name=str(table_in.column("name")[row].as_py()).strip(),
                    matches=self._row_matches(places, top, place_reasons, row, facts, lang),
                    partners=self._row_matches(partner_table, partners, partner_reasons, row, facts, lang),
                    incentives=self.incentives_row(ctx, row, lang),
                    location_type=LOCATION_TYPES[loc] if loc >= 0 else None,
                    disclaimer=label(self.rules.disclaimer, lang),
                    lang=lang,
                )
            )
        return out

    def _reasons(self, table: OpportunityTable, top: TopMatches, facts: FirmFacts, lang: str):
        masks = missing_masks(self.catalogue, table, facts, top.index)
        reasons = [
            reason_column(
                self.catalogue, table, top.index[:, r], top.score[:, r], top.contributions[:, r], masks[:, r], lang
            ).to_pylist()
            for r in range(top.index.shape[1])
        ]
        return reasons, masks

    def _row_matches(
        self, table: OpportunityTable, top: TopMatches, reasons, row: int, facts: FirmFacts, lang: str
    ) -> list[Match]:
        texts, masks = reasons
        out = []
        for r in range(top.index.shape[1]):
            j = int(top.index[row, r])
            if j < 0:
                continue
            out.append(
                self.match_of(
                    table.opportunities[j],
                    table.weights[:, j],
                    top.subscores[row, r],
                    top.contributions[row, r],
                    int(top.score[row, r]),
                    texts[r][row],
                    int(masks[row, r]),
                    lang,
                )
            )
        return out

    def match_of(
        self, opp: Opportunity, weights, subs, contributions, score: int, reason: str, mask: int, lang: str
    ) -> Match:
        """A :class:`Match` from one pair's numbers."""
        labels = self.catalogue.settings.labels
        parts = [
            MatchPart(c, label(labels[c], lang), float(weights[i]), float(subs[i]), contributions[i] / 10)
            for i, c in enumerate(COMPONENTS)
            if weights[i] > 0
        ]
        body = self.catalogue.agencies.get(opp.managing_body or "")
        return Match(
            opp.id,
            opp.kind,
            label(opp.name, lang),
            score / 10,
            parts,
            reason,
            [f for b, f in enumerate(MISSING_FIELDS) if mask >> b & 1],
            opp.location_type,
            opp.status,
            opp.confidence,
            self._agency(body, lang),
            [{"id": s, **self.catalogue.sources[s]} for s in opp.sources],
        )

    @staticmethod
    def _agency(body, lang: str) -> dict[str, str] | None:
        return None if body is None else {"id": body.id, "name": label(body.name, lang), "role": label(body.role, lang)}

    # -- Incentives ----------------------------------------------------------------------------------

    def incentives_row(self, ctx: Context, row: int, lang: str) -> list[IncentiveResult]:
        """Every category for firm ``row`` of ``ctx``: qualifying first, then possible, then not yet."""
        out = []
        for rule in self.rules.rules:
            status = int(rule_status(rule, ctx)[row])
            lines: dict[int, list[str]] = {MET: [], MISSED: [], UNKNOWN: [], CONFIRM: []}
            kinds_missed = set()
            for cond in rule.conditions:
                s, text = self._describe(cond, ctx, row, lang)
                lines[s].append(text)
                if s == MISSED:
                    kinds_missed |= _leaf_kinds(cond)
            name = category(status)
            out.append(
                IncentiveResult(
                    rule.id,
                    label(rule.label, lang),
                    name,
                    phrase(lang, name),
                    label(rule.benefit, lang),
                    lines[MET],
                    lines[MISSED],
                    lines[UNKNOWN],
                    lines[CONFIRM],
                    source_of(self.rules, rule),
                    rule.applies_from,
                    rule.confidence,
                    self._agency(self.agencies.get(rule.agency), lang),
                    kinds_missed <= _REACHABLE,
                )
            )
        order = {"qualifies": 0, "possible": 1, "not_yet": 2}
        return sorted(out, key=lambda r: order[r.status])

    def _describe(self, cond: Condition, ctx: Context, row: int, lang: str) -> tuple[int, str]:
        """One condition's status for the row and its words (what it needs, or the gap)."""
        status = int(condition_status(cond, ctx)[row])
        if cond.kind == "any_of":
            parts = [self._describe(c, ctx, row, lang) for c in cond.children]
            shown = [t for s, t in parts if s == MET][:1] if status == MET else [t for _, t in parts]
            return status, phrase(lang, "or").join(shown)
        if status == CONFIRM:
            return status, phrase(lang, "confirm", text=label(cond.text, lang))
        if status == MISSED:
            return status, self.condition_text(cond, lang, gap=True)
        if status == MET:
            return status, self.condition_text(_as_met(cond, ctx, row), lang)
        return status, phrase(lang, "unknown", text=self.condition_text(cond, lang))

    def condition_text(self, cond: Condition, lang: str, gap: bool = False) -> str:
        """What a condition needs ("investment of at least VND 6,000 bn …"), or how to reach it (``gap``)."""
        key = ("gap_" if gap else "") + cond.kind
        if cond.kind == "sector_in":
            sectors = self.scorer.config_
            items = ", ".join(label(sectors.sector(s).label, lang) for s in cond.items)
            return phrase(lang, key, items=items)
        if cond.kind == "okved_in":
            return phrase(lang, key, items=", ".join(cond.items))
        if cond.kind == "location_in":
            return phrase(lang, key, items=", ".join(phrase(lang, t) for t in cond.items))
        if cond.kind == "investment_min_vnd":
            return phrase(lang, key, money=vnd_text(cond.number, self.rules.usd_vnd, lang))
        if cond.kind == "employees_min":
            return phrase(lang, key, count=format_number(cond.number, lang))
        if cond.kind == "commitment":
            return phrase(lang, key, field=FIELD_LABELS.get(lang, FIELD_LABELS["en"])[cond.commitment])
        return phrase(lang, "confirm", text=label(cond.text, lang))

    # -- Staff: the best leads for one opportunity ---------------------------------------------------

    def rank_leads(
        self, profiles: list[Mapping[str, Any]], opportunity: Opportunity, lang: str = "en"
    ) -> list[tuple[int, Match | None]]:
        """Every profile's match with ``opportunity``, best first: (position in ``profiles``, match or None).

        ``None`` marks a profile that cannot be read or is no match (no sector overlap).
        """
        solo = self.with_opportunities([opportunity], keep=False)
        table_in, _ = table_from_mappings(profiles)
        frame = read_frame(table_in, self.detector)
        facts = solo.facts(frame)
        table, top = solo.top(facts, 1, (opportunity.kind,))
        texts, masks = solo._reasons(table, top, facts, lang)
        bad = {e.row for e in frame.errors}
        ranked = []
        for row in range(frame.n_rows):
            if row in bad or top.index[row, 0] < 0:
                ranked.append((row, None))
                continue
            ranked.append(
                (
                    row,
                    solo.match_of(
                        opportunity,
                        table.weights[:, 0],
                        top.subscores[row, 0],
                        top.contributions[row, 0],
                        int(top.score[row, 0]),
                        texts[0][row],
                        int(masks[row, 0]),
                        lang,
                    ),
                )
            )
        return sorted(ranked, key=lambda item: (item[1] is None, -(item[1].score if item[1] else 0), item[0]))


_PROJECT: dict[int, tuple] = {}


def _project_catalogue(sectors) -> Catalogue:
    """The project's ``opportunities.yaml``, read once per sectors configuration."""
    cached = _PROJECT.get(id(sectors))
    if cached is None or cached[0] is not sectors:
        cached = _PROJECT[id(sectors)] = (sectors, load_opportunities(sectors=sectors))
    return cached[1]


def _as_met(cond: Condition, ctx: Context, row: int) -> Condition:
    """A met sector or location condition narrowed to what the firm has (its sectors, its location)."""
    if cond.kind == "sector_in":
        shares = ctx.firms.shares[row].toarray().ravel()
        return replace(cond, items=tuple(s for s in cond.items if shares[ctx.sector_ids.index(s)] > 0))
    if cond.kind == "location_in":
        return replace(cond, items=(LOCATION_TYPES[int(ctx.location[row])],))
    if cond.kind == "okved_in":
        prefixes = tuple(p.replace(".", "") for p in cond.items)
        return replace(cond, items=tuple(c for c in ctx.firms.codes[row] if c.replace(".", "").startswith(prefixes)))
    return cond


def _leaf_kinds(cond: Condition) -> set[str]:
    return set().union(*(_leaf_kinds(c) for c in cond.children)) if cond.kind == "any_of" else {cond.kind}
