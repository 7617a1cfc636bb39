"""Which priority sector a firm belongs to, and the evidence for it.

Three sources, in order of trust: industry codes (OKVED 2 / NACE Rev. 2, longest listed
prefix wins, so subclass ``28.99.5`` falls back to class ``28.99``), sectors the firm
names itself (ids or labels), and keywords found in the description. The first source
that finds a sector decides the main sector; every match is reported with its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from .config import LANGS, Config
from .text import SectorVocabulary, TermHits
from .values import clean, split_list

#: Where the main sector came from (the ``source`` column of :class:`Detection`).
SOURCE_NONE, SOURCE_CODE, SOURCE_DECLARED, SOURCE_TEXT, SOURCE_DEFAULT = range(5)
#: Text evidence must weigh at least this much (one keyword specific to one sector ~ 3.6).
MIN_TEXT_SCORE = 1.0
#: Other sectors found in text are reported when their evidence is this close to the best.
NEAR_BEST = 0.5


@dataclass(frozen=True)
class Detection:
    """Main sector per row, how it was found and the evidence (columns of equal length)."""

    sector: NDArray[np.int64]  # index into config.sectors; -1 when nothing was given
    source: NDArray[np.int8]
    evidence: pa.Array  # codes or keywords behind the main sector (strings)
    text_scores: NDArray[np.float64]  # rows x sectors
    hits: TermHits


@dataclass(frozen=True)
class RowDetection:
    """What :class:`Detection` holds for one row, as plain Python (the row path's)."""

    sector: int
    source: int
    evidence: str
    text_scores: list[float]  # per sector
    terms: list[int]  # term ids found in the text, ascending


class SectorDetector:
    """Finds sectors from codes, declared sectors and text, vectorised over a batch."""

    def __init__(self, config: Config, cached_vocabulary: bool = False) -> None:
        self.config = config
        self.vocabulary = SectorVocabulary(config, cached=cached_vocabulary)
        self.prefixes = {code: i for i, s in enumerate(config.sectors) for code in s.okved}
        names = {}
        for i, sector in enumerate(config.sectors):
            names[clean(sector.id)] = i
            for lang in LANGS:
                names.setdefault(clean(sector.label[lang]), i)
        self.names = names
        self.other = config.sector_ids.index("other") if "other" in config.sector_ids else -1
        self.tier_rank = np.array([s.tier_weight for s in config.sectors]) * 1e-6
        self.tier_rank_list = self.tier_rank.tolist()
        self.code_sector = lru_cache(maxsize=100_000)(self._code_sector)

    def _code_sector(self, code: str) -> tuple[int, str]:
        """Sector of one code by its longest listed prefix: ``28.99.5`` -> ``28.99`` -> ``28.9``."""
        digits = code.replace(".", "")
        for n in range(len(digits), 1, -1):
            prefix = ".".join((digits[:2], digits[2:4], digits[4:n])).rstrip(".") if n > 4 else (
                ".".join((digits[:2], digits[2:n])).rstrip("."))
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
            index = self.names.get(clean(item))
            if index is None:
                free.append(item)
            elif index not in found:
                found.append(index)
        return found, " ".join(free)

    def detect(
        self,
        code_sector: NDArray[np.int64],
        code_evidence: list[str],
        declared_sector: NDArray[np.int64],
        texts: pa.Array,
        has_input: NDArray[np.bool_],
    ) -> Detection:
        """Combine the three sources for a batch (codes win, then declared, then text)."""
        hits = self.vocabulary.hits(texts)
        scores = self.vocabulary.sector_scores(hits)
        text_best = np.argmax(scores + self.tier_rank, axis=1) if scores.shape[1] else np.full(len(texts), -1)
        text_ok = scores.max(axis=1, initial=0.0) >= MIN_TEXT_SCORE
        sector = np.where(code_sector >= 0, code_sector, np.where(declared_sector >= 0, declared_sector,
                          np.where(text_ok, text_best, np.where(has_input, self.other, -1))))
        source = np.select(
            [code_sector >= 0, declared_sector >= 0, text_ok, has_input & (self.other >= 0)],
            [SOURCE_CODE, SOURCE_DECLARED, SOURCE_TEXT, SOURCE_DEFAULT], SOURCE_NONE,
        ).astype(np.int8)
        text_rows = np.flatnonzero(source == SOURCE_TEXT)
        words = self.vocabulary.evidence_column(hits, text_rows, text_best[text_rows], len(sector))
        evidence = pc.if_else(pa.array(source == SOURCE_TEXT), words, pa.array(code_evidence, pa.string()))
        return Detection(sector.astype(np.int64), source, evidence, scores, hits)

    def detect_row(self, code_sector: int, code_evidence: str, declared_sector: int, text: str,
                   has_input: bool) -> RowDetection:
        """:meth:`detect` for one row, in plain Python (the same sources, order and evidence)."""
        vocabulary = self.vocabulary
        terms = vocabulary.row_terms(text)
        scores = vocabulary.row_scores(terms)
        ranked = [score + rank for score, rank in zip(scores, self.tier_rank_list, strict=True)]
        text_best = ranked.index(max(ranked)) if ranked else -1  # the first best, like argmax
        if code_sector >= 0:
            sector, source = code_sector, SOURCE_CODE
        elif declared_sector >= 0:
            sector, source = declared_sector, SOURCE_DECLARED
        elif max(scores, default=0.0) >= MIN_TEXT_SCORE:
            sector, source = text_best, SOURCE_TEXT
            code_evidence = ", ".join(vocabulary.evidence_terms(terms, text_best)[:3])
        elif has_input and self.other >= 0:
            sector, source = self.other, SOURCE_DEFAULT
        else:
            sector, source = -1, SOURCE_NONE
        return RowDetection(sector, source, code_evidence, scores, terms)

    def matches(self, detection: Detection, row: int, codes: tuple[str, ...], declared: list[int]) -> list[dict]:
        """Every sector found for one row, with the source and evidence of each, best first."""
        scores = detection.text_scores[row].tolist() if detection.text_scores.size else []
        terms = detection.hits.matrix.indices[detection.hits.matrix.indptr[row] : detection.hits.matrix.indptr[row + 1]]
        return self.matches_row(int(detection.sector[row]), codes, declared, scores, terms.tolist())

    def matches_row(self, main: int, codes: tuple[str, ...], declared: list[int], scores: list[float],
                    terms: list[int]) -> list[dict]:
        """:meth:`matches` from one row's main sector, codes, declared sectors, text scores and terms."""
        out: dict[int, dict] = {}
        for s, code in self.from_codes(codes)[1]:
            out.setdefault(s, {"source": "okved", "evidence": []})["evidence"].append(code)
        for s in declared:
            out.setdefault(s, {"source": "declared", "evidence": [self.config.sectors[s].id]})
        near = NEAR_BEST * max([0.0, *scores])  # scores.max(initial=0.0)
        for s, score in enumerate(scores):
            if score < MIN_TEXT_SCORE or score < near:
                continue
            words = self.vocabulary.evidence_terms(terms, s)
            entry = out.setdefault(s, {"source": "description", "evidence": []})
            entry.setdefault("keywords", words)
            if entry["source"] == "description":
                entry["evidence"] = words
        if main >= 0 and main not in out:
            out[main] = {"source": "default", "evidence": []}
        order = sorted(out, key=lambda s: (s != main, -self.config.sectors[s].tier_weight))
        return [{"sector": self.config.sectors[s].id, **out[s]} for s in order]
