"""Which priority sector a firm belongs to, and the evidence for it.

Three sources, in order of trust: industry codes (OKVED 2 / NACE Rev. 2, longest listed
prefix wins, so subclass ``28.99.5`` falls back to class ``28.99``), sectors the firm
names itself (ids or labels), and keywords found in the description. The first source
that finds a sector decides the main sector; every match is reported with its evidence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from .config import LANGS, Config
from .suggest import OkvedSuggester
from .text import SectorVocabulary, TermHits
from .values import clean, split_list

#: Where the main sector came from (the ``source`` column of :class:`Detection`).
SOURCE_NONE, SOURCE_CODE, SOURCE_DECLARED, SOURCE_TEXT, SOURCE_DEFAULT = range(5)
_SHARE_SUFFIX = re.compile(r"\s*:\s*[01](?:[.,][0-9]+)?\s*$")
#: Another sector the text speaks for is listed when its evidence (summed positive term weights)
#: is at least this (about one specific word)...
MIN_EVIDENCE = 1.5
#: ...and at least this share of the strongest sector's evidence.
NEAR_BEST = 0.5


def softmax_row(logits: list[float]) -> list[float]:
    """Probabilities from one row of linear scores (plain Python; :func:`softmax` for a matrix)."""
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise probabilities of a rows x sectors matrix of linear scores."""
    if logits.shape[1] == 0:
        return logits
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exps / exps.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Detection:
    """Main sector per row, how it was found and the evidence (columns of equal length)."""

    sector: NDArray[np.int64]  # index into config.sectors; -1 when nothing was given
    source: NDArray[np.int8]
    evidence: pa.Array  # codes or keywords behind the main sector (strings)
    text_scores: NDArray[np.float64]  # rows x sectors: summed term weights (no intercept)
    hits: TermHits
    confidence: NDArray[np.float64]  # 1.0 for a code or declared sector, else the text's probability
    #: rows x sectors, each row summing to 1 (or all 0 with no input): see :func:`share_masses`.
    shares: NDArray[np.float64]
    coded: NDArray[np.bool_]  # a code of the row maps to a sector (no OKVED suggestion needed)


def listed_mask(evidence: NDArray[np.float64], text_ok: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """rows x sectors: the sectors a confident text speaks for, besides its best one (:func:`text_listed`)."""
    top = evidence.max(axis=1, initial=0.0, keepdims=True) if evidence.shape[1] else evidence[:, :1]
    return text_ok[:, None] & (evidence >= MIN_EVIDENCE) & (evidence >= NEAR_BEST * top)


def text_listed(
    evidence: NDArray[np.float64], text_ok: NDArray[np.bool_], text_best: NDArray[np.int64]
) -> NDArray[np.float64]:
    """rows x sectors: each sector the text lists, with its part of the text's weight (a row's parts add
    up to 1). A confident text lists its best sector and every other whose evidence reaches
    :data:`MIN_EVIDENCE` and :data:`NEAR_BEST` of the strongest; the parts follow the evidence, the
    best sector's being the largest (the main sector is never shown behind a larger one)."""
    listed = listed_mask(evidence, text_ok)
    rows = np.flatnonzero(text_ok)
    listed[rows, text_best[rows]] = True
    part = np.where(listed, np.maximum(evidence, 1e-9), 0.0)
    part[rows, text_best[rows]] = part[rows].max(axis=1, initial=0.0)  # the main sector's part is the largest
    total = part.sum(axis=1, keepdims=True)
    return np.divide(part, total, out=np.zeros_like(part), where=total > 0)


def share_masses(
    known: NDArray[np.float64], text_part: NDArray[np.float64], main: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Each row's sectors with their shares: a code or declared sector weighs 1, the text 1 split
    among the sectors it lists (:func:`text_listed`), the main sector at least 1 when nothing else
    names it (and 1 more when it refines a code); a row's weights are then divided by their sum."""
    mass = known + text_part
    rows = np.flatnonzero(main >= 0)
    lone = rows[mass[rows, main[rows]] == 0]
    mass[lone, main[lone]] = 1.0
    total = mass.sum(axis=1, keepdims=True)
    return np.divide(mass, total, out=np.zeros_like(mass), where=total > 0)


def share_cents(shares: list[float], main_first: bool = True) -> list[int]:
    """Shares in hundredths that add up to exactly 100: the first (the main sector) takes the rounding,
    and is never below another.

    >>> share_cents([0.2857, 0.2857, 0.26, 0.1686])
    [29, 28, 26, 17]
    """
    cents = [int(round(v * 100)) for v in shares]
    if cents and main_first:
        cents[0] = 100 - sum(cents[1:])
        # a share rounded up past the main one's (a tie) gives the cent back: the main share stays the largest
        excess = [max(c - cents[0], 0) for c in cents[1:]]
        cents = [cents[0] + sum(excess), *(c - e for c, e in zip(cents[1:], excess, strict=True))]
    return cents


def once(words: list[str]) -> list[str]:
    """Evidence words with each shown once: a word or phrase that a longer listed phrase holds, as
    consecutive words, is dropped (Vietnamese writes a word in syllables: "triển phần" is only the
    middle of "phát triển phần mềm").

    >>> once(["оборудования", "серверное оборудования", "серверное", "серверов"])
    ['серверное оборудования', 'серверов']
    >>> once(["phần mềm", "phát triển", "điện tử", "phát triển phần mềm", "triển phần", "mềm dẻo"])
    ['điện tử', 'phát triển phần mềm', 'mềm dẻo']
    """
    # Each as " w1 w2 ... ": a phrase holds another as consecutive words exactly when its spaced
    # text holds the other's (no word holds a space), and it is longer when it has more words.
    spaced = [_spaced(w) for w in words]
    # only a phrase of two words or more can hold another
    phrases = [(whole, m) for whole, m in spaced if m > 1]
    if not phrases:
        return [w for w, (_, n) in zip(words, spaced, strict=True) if n]
    return [
        w
        for w, (part, n) in zip(words, spaced, strict=True)
        if n and not any(n < m and part in whole for whole, m in phrases)
    ]


@lru_cache(maxsize=65536)
def _spaced(word: str) -> tuple[str, int]:
    """``word`` as :func:`once` compares it, " w1 w2 ... " (case-folded), and its number of words: worked out
    once per word of the vocabulary's evidence, not once per profile."""
    parts = word.casefold().split()
    return f" {' '.join(parts)} ", len(parts)


@dataclass(frozen=True)
class RowDetection:
    """What :class:`Detection` holds for one row, as plain Python (the row path's)."""

    sector: int
    source: int
    evidence: str
    text_scores: list[float]  # per sector
    terms: list[int]  # term ids found in the text, ascending
    confidence: float
    #: What :meth:`SectorDetector.matches_row` needs of the text and detect_row already worked out:
    #: ``(best probability, best sector before refining, evidence per sector or None)``; None for no text.
    text: tuple[float, int, list[float] | None] | None = None


class SectorDetector:
    """Finds sectors from codes, declared sectors and text, vectorised over a batch."""

    def __init__(self, config: Config, cached_vocabulary: bool = False) -> None:
        self.config = config
        self.vocabulary = SectorVocabulary(config, cached=cached_vocabulary)
        self.prefixes = {code: i for i, s in enumerate(config.sectors) for code in s.okved}
        names = {}
        for i, sector in enumerate(config.sectors):
            names[clean(sector.id)] = i
            for spelling in (sector.id.replace("_", " "), sector.id.replace("_", "-")):  # data ai, data-ai
                names.setdefault(clean(spelling), i)
            for lang in LANGS:
                names.setdefault(clean(sector.label[lang]), i)
        self.names = names
        self.other = config.sector_ids.index("other") if "other" in config.sector_ids else -1
        self.tier_rank = np.array([s.tier_weight for s in config.sectors]) * 1e-6
        self.tier_rank_list = self.tier_rank.tolist()
        self.tier_list = [s.tier_weight for s in config.sectors]
        self.code_sector = lru_cache(maxsize=100_000)(self._code_sector)
        self.min_confidence = config.min_confidence
        ids = config.sector_ids
        # refines[c, t]: text of sector t may replace code sector c (sectors.yaml's `refines`).
        self.refines = np.zeros((len(ids), len(ids)), dtype=bool)
        for t, sector in enumerate(config.sectors):
            for c in sector.refines:
                self.refines[ids.index(c), t] = True
        self.refines_list = self.refines.tolist()
        self.suggester = OkvedSuggester(self.vocabulary, lambda code: self.code_sector(code)[0])

    def _code_sector(self, code: str) -> tuple[int, str]:
        """Sector of one code by its longest listed prefix: ``28.99.5`` -> ``28.99`` -> ``28.9``."""
        digits = code.replace(".", "")
        for n in range(len(digits), 1, -1):
            prefix = (
                ".".join((digits[:2], digits[2:4], digits[4:n])).rstrip(".")
                if n > 4
                else (".".join((digits[:2], digits[2:n])).rstrip("."))
            )
            if prefix in self.prefixes:
                return self.prefixes[prefix], prefix
        return -1, ""

    def from_codes(self, codes: tuple[str, ...]) -> tuple[int, list[tuple[int, str]]]:
        """Main sector (the first code's that maps) and every (sector, code) match."""
        matches = [(s, code) for code in codes for s, _ in [self.code_sector(code)] if s >= 0]
        return (matches[0][0] if matches else -1), matches

    def from_declared(self, text: str | None) -> tuple[list[int], str]:
        """Sectors named by id or label, and the leftover free words (searched as text)."""
        found, free = [], []
        for item in split_list(text):
            # "software:0.60", as the `sectors` column of a scored file writes a sector and its share
            index = self.names.get(clean(_SHARE_SUFFIX.sub("", item)))
            if index is None:
                free.append(item)
            elif index not in found:
                found.append(index)
        return found, " ".join(free)

    def detect(
        self,
        code_sector: NDArray[np.int64],
        code_evidence: pa.Array | list[str],
        declared_sector: NDArray[np.int64],
        texts: pa.Array,
        has_input: NDArray[np.bool_],
        known: NDArray[np.float64] | None = None,
    ) -> Detection:
        """Combine the three sources for a batch (codes win, then declared, then text).

        ``known``: rows x sectors, 1 where a code or a declared sector names the sector (for the
        shares; the main code and declared sector alone when not given).
        """
        vocabulary = self.vocabulary
        hits = vocabulary.hits(texts)
        scores = vocabulary.sector_scores(hits)
        n_sectors = scores.shape[1]
        has_text = np.diff(hits.matrix.indptr) > 0
        probs = softmax(scores + vocabulary.intercepts) if n_sectors else scores
        text_best = np.argmax(probs + self.tier_rank, axis=1) if n_sectors else np.full(len(texts), -1)
        text_conf = np.where(has_text, probs.max(axis=1, initial=0.0), 0.0)
        text_ok = has_text & (text_conf >= self.min_confidence)
        # A specific text refines a generic code of its family (35.11 + wind -> clean_energy): the sector
        # of that family the text speaks for most, among those it lists ("electricity; wind farms" too).
        evidence = vocabulary.sector_evidence(hits)
        refine_to = self.refined(code_sector, text_ok, text_best, evidence)
        refine = refine_to >= 0
        text_best = np.where(refine, refine_to, text_best)
        code = (code_sector >= 0) & ~refine
        declared = ~code & ~refine & (declared_sector >= 0)
        text = refine | (~code & ~declared & text_ok)
        sector = np.where(
            code,
            code_sector,
            np.where(declared, declared_sector, np.where(text, text_best, np.where(has_input, self.other, -1))),
        )
        source = np.select(
            [code, declared, text, has_input & (self.other >= 0)],
            [SOURCE_CODE, SOURCE_DECLARED, SOURCE_TEXT, SOURCE_DEFAULT],
            SOURCE_NONE,
        ).astype(np.int8)
        confidence = np.where(code | declared, 1.0, text_conf)
        if known is None:
            known = np.zeros((len(sector), n_sectors))
            for given in (code_sector, declared_sector):
                at = np.flatnonzero(given >= 0)
                known[at, given[at]] = 1.0
        if refine.any():  # the code proves the family; its weight goes to the sector the text refines it to
            known = known.copy()
            known[refine, text_best[refine]] += 1.0
        text_part = text_listed(evidence, text_ok, text_best)
        shares = share_masses(known, text_part, sector.astype(np.int64))
        text_rows = np.flatnonzero(source == SOURCE_TEXT)
        words = vocabulary.evidence_column(hits, text_rows, text_best[text_rows], len(sector))
        if not isinstance(code_evidence, pa.Array):
            code_evidence = pa.array(code_evidence, pa.string())
        evidence = pc.if_else(pa.array(source == SOURCE_TEXT), words, code_evidence)
        return Detection(sector.astype(np.int64), source, evidence, scores, hits, confidence, shares, code_sector >= 0)

    def refined(
        self,
        code_sector: NDArray[np.int64],
        text_ok: NDArray[np.bool_],
        text_best: NDArray[np.int64],
        evidence: NDArray[np.float64],
    ) -> NDArray[np.int64]:
        """Per row, the sector a confident text refines the code's sector to (-1: none): the text's best
        sector if it refines the code's, else the one with most evidence among the refining sectors the
        text lists (:func:`listed_mask`)."""
        out = np.full(len(code_sector), -1, dtype=np.int64)
        rows = np.flatnonzero((code_sector >= 0) & text_ok)
        if not len(rows) or not self.refines.any():
            return out
        can = self.refines[code_sector[rows]]  # rows x sectors the code's sector may be refined to
        best = text_best[rows]
        direct = can[np.arange(len(rows)), best]
        ok = can & listed_mask(evidence[rows], np.ones(len(rows), dtype=bool))
        pick = np.argmax(np.where(ok, evidence[rows], -np.inf), axis=1)
        out[rows] = np.where(direct, best, np.where(ok.any(axis=1), pick, -1))
        return out

    def detect_row(
        self, code_sector: int, code_evidence: str, declared_sector: int, text: str, has_input: bool
    ) -> RowDetection:
        """:meth:`detect` for one row, in plain Python (the same sources, order and evidence)."""
        vocabulary = self.vocabulary
        terms = vocabulary.row_terms(text)
        scores = vocabulary.row_scores(terms)
        text_best, text_conf, seen = -1, 0.0, None
        if scores and terms:
            probs = softmax_row([v + b for v, b in zip(scores, vocabulary.intercept_list, strict=True)])
            ranked = [p + rank for p, rank in zip(probs, self.tier_rank_list, strict=True)]
            text_best = ranked.index(max(ranked))  # the first best, like argmax
            text_conf = max(probs)
            seen = (text_conf, text_best, None)
        text_ok = text_best >= 0 and text_conf >= self.min_confidence
        if code_sector >= 0 and text_ok:
            evidence = vocabulary.row_evidence(terms)
            seen = (text_conf, text_best, evidence)
            refine_to = self._refined_row(code_sector, text_best, evidence)
            text_best = refine_to if refine_to >= 0 else text_best
        if code_sector >= 0 and not (text_ok and self.refines_list[code_sector][text_best]):
            sector, source, confidence = code_sector, SOURCE_CODE, 1.0
        elif code_sector < 0 and declared_sector >= 0:
            sector, source, confidence = declared_sector, SOURCE_DECLARED, 1.0
        elif text_ok:
            sector, source, confidence = text_best, SOURCE_TEXT, text_conf
            code_evidence = ", ".join(vocabulary.evidence_terms(terms, text_best)[:3])
        elif has_input and self.other >= 0:
            sector, source, confidence = self.other, SOURCE_DEFAULT, text_conf
        else:
            sector, source, confidence = -1, SOURCE_NONE, text_conf
        return RowDetection(sector, source, code_evidence, scores, terms, confidence, seen)

    def _refined_row(self, code_sector: int, text_best: int, evidence: list[float]) -> int:
        """:meth:`refined` for one row."""
        can = self.refines_list[code_sector]
        if can[text_best]:
            return text_best
        top = max(evidence, default=0.0)
        best, most = -1, -math.inf
        for s, (e, ok) in enumerate(zip(evidence, can, strict=True)):
            if ok and e >= MIN_EVIDENCE and e >= NEAR_BEST * top and e > most:
                best, most = s, e
        return best

    def suggest_okved(self, detection: Detection) -> pa.Array:
        """The ``okved_suggested`` column: for each row with text and no code that maps, up to three
        OKVED 2 classes (``;``-separated), best first; empty for the other rows."""
        rows = np.flatnonzero(~detection.coded & (np.diff(detection.hits.matrix.indptr) > 0))
        return self.suggester.best_column(
            detection.hits, rows, len(detection.sector), detection.sector, detection.shares > 0
        )

    def suggest_row(self, terms: list[int], sectors: list[dict]) -> list[str]:
        """:meth:`suggest_okved` for one row, from its term ids and its :meth:`matches_row` sectors."""
        if not terms or any(s["source"] == "okved" for s in sectors):
            return []
        index = self.config.sector_ids.index
        listed = [index(s["sector"]) for s in sectors]
        return self.suggester.best_for_terms(terms, listed[0] if listed else -1, listed, len(self.config.sectors))

    def matches(self, detection: Detection, row: int, codes: tuple[str, ...], declared: list[int]) -> list[dict]:
        """Every sector found for one row, with the source and evidence of each, best first."""
        scores = detection.text_scores[row].tolist() if detection.text_scores.size else []
        terms = detection.hits.matrix.indices[detection.hits.matrix.indptr[row] : detection.hits.matrix.indptr[row + 1]]
        return self.matches_row(int(detection.sector[row]), codes, declared, scores, terms.tolist())

    def _text_parts(
        self, scores: list[float], terms: list[int], refined: int = -1, seen: tuple | None = None
    ) -> dict[int, float]:
        """:func:`text_listed` for one row: the sectors a confident text lists, with their parts
        (``refined``: the sector the text refined a code to, which then stands for the text's best;
        ``seen``: :attr:`RowDetection.text` of these scores and terms, so as not to work it out again)."""
        if not (scores and terms):
            return {}
        if seen is None:
            probs = softmax_row([v + b for v, b in zip(scores, self.vocabulary.intercept_list, strict=True)])
            ranked = [p + rank for p, rank in zip(probs, self.tier_rank_list, strict=True)]
            seen = (max(probs), ranked.index(max(ranked)), None)
        confidence, text_best, evidence = seen
        if confidence < self.min_confidence:  # inconclusive text lists nothing
            return {}
        best = refined if refined >= 0 else text_best
        if evidence is None:
            evidence = self.vocabulary.row_evidence(terms)
        top = max(evidence)
        listed = [s for s, e in enumerate(evidence) if s == best or (e >= MIN_EVIDENCE and e >= NEAR_BEST * top)]
        weights = {s: max(evidence[s], 1e-9) for s in listed}
        weights[best] = max(weights.values())  # the main sector's part is the largest, as in text_listed
        total = sum(weights.values())
        return {s: w / total for s, w in weights.items()}

    def matches_row(
        self,
        main: int,
        codes: tuple[str, ...],
        declared: list[int],
        scores: list[float],
        terms: list[int],
        seen: tuple | None = None,
    ) -> list[dict]:
        """:meth:`matches` from one row's main sector, codes, declared sectors, text scores and terms
        (``seen``: their :attr:`RowDetection.text`, when :meth:`detect_row` gave it)."""
        out: dict[int, dict] = {}
        code_matches = self.from_codes(codes)[1]
        named = {s for s, _ in code_matches} | set(declared)
        for s, code in code_matches:
            out.setdefault(s, {"source": "okved", "evidence": []})["evidence"].append(code)
        for s in declared:
            out.setdefault(s, {"source": "declared", "evidence": [self.config.sectors[s].id]})
        parts = self._text_parts(scores, terms, main if main >= 0 and named and main not in named else -1, seen)
        for s in sorted(parts):
            words = once(self.vocabulary.evidence_terms(terms, s))
            entry = out.setdefault(s, {"source": "description", "evidence": []})
            entry.setdefault("keywords", words)
            if entry["source"] == "description":
                entry["evidence"] = words
        if main >= 0 and main not in out:
            out[main] = {"source": "default", "evidence": []}
        mass = {s: (1.0 if s in named else 0.0) + parts.get(s, 0.0) for s in out}
        if main >= 0 and named and main not in named:  # a refined code: as in detect()
            mass[main] += 1.0
        if main >= 0 and mass[main] == 0:
            mass[main] = 1.0
        sectors = self.config.sectors
        if len(out) == 1:  # one sector: all of the share (what the order and share_cents below give it)
            ((s, entry),) = out.items()
            entry["share"] = 1.0
            return [{"sector": sectors[s].id, **entry}]
        total = sum(mass.values())
        # the main sector first, then the larger shares, then the higher tiers
        tier = self.tier_list
        order = sorted(out, key=lambda s: (s != main, -round(mass[s] / total, 2), -tier[s], s))
        for s, cents in zip(order, share_cents([mass[s] / total for s in order]), strict=True):
            out[s]["share"] = cents / 100
        return [{"sector": sectors[s].id, **out[s]} for s in order]
