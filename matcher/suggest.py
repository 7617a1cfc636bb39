"""OKVED 2 classes a description reads like: "Did you mean 26.20 Manufacture of computers…?".

Each OKVED 2 class (four digits, ``26.20``) is described by the words of the shipped
classifications (see :mod:`matcher.classifications`): its Russian title and the titles of its
subclasses and types, the English NACE Rev. 2 title of the same class with the activities
Eurostat's notes say it includes, and the Vietnamese VSIC 2007 title of the ISIC class it
refines where VSIC's division is ISIC's (:func:`matcher.okved._vsic_safe`). Those texts go
through the sector classifier's own term finder (:meth:`matcher.text.SectorVocabulary.hits`),
so a description and a class share a term exactly when the classifier would see the same
stem or stem pair in both. A class scores the sum of the idf of the terms it shares with the
description, divided by the square root of its own term count (long class texts do not win
by length); terms found in more than :data:`MAX_CLASSES` classes ("production", "services")
say nothing about the class and are left out. The three best classes with a positive score
are suggested, best first.

Everything is a sparse matrix product, so a batch of descriptions is scored at once.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import tempfile
from collections import defaultdict
from contextlib import suppress
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from scipy import sparse

from .classfiles import _outside_nace, _vsic_safe, read_classification
from .text import SectorVocabulary, TermHits, cache_dir

#: A term found in more classes than this is no evidence for any one of them.
MAX_CLASSES = 40
#: How many classes are suggested.
TOP = 3
#: A class of the description's main sector scores 1 + this times more (see :meth:`OkvedSuggester.scores`).
SECTOR_BOOST = 2.0
_EXCLUDES = re.compile(r"\bThis (?:class|group|division) (?:also )?excludes\b.*$", re.S)


def _digits(code: str) -> str:
    return code.replace(".", "")


def class_texts() -> tuple[list[str], list[str]]:
    """The OKVED 2 class codes and, for each, the text of its titles in three languages."""
    okved = read_classification("okved2")
    nace = read_classification("nace2")
    vsic = {r["code"]: r for r in read_classification("vsic2007")}
    codes = [r["code"] for r in okved if r["level"] == "class"]
    parts: dict[str, list[str]] = {c: [] for c in codes}
    for row in okved:  # the class, its subclasses and types
        cls = row["code"][:5]
        if len(row["code"]) >= 5 and cls in parts:
            parts[cls].append(row["title"])
    safe = _vsic_safe(nace, vsic)
    for row in nace:
        if row["level"] == "class" and row["code"] in parts:
            notes = _EXCLUDES.sub("", row.get("notes") or "")
            parts[row["code"]].append(f"{row['title']}. {notes}")
            vi = vsic.get(row.get("isic") or "")
            if vi is not None and row["code"][:2] in safe:
                parts[row["code"]].append(vi["title"])
    return codes, [" . ".join(parts[c]) for c in codes]


class OkvedSuggester:
    """Scores descriptions against every OKVED 2 class through a sector vocabulary's terms.

    Parameters
    ----------
    vocabulary : SectorVocabulary
        The term finder of the sector classifier (its terms are the features).
    sector_of : callable
        A code's sector index (-1 for none): a class of a sector the description was found to
        belong to scores more (:meth:`scores`).
    """

    def __init__(self, vocabulary: SectorVocabulary, sector_of=None) -> None:
        self.vocabulary = vocabulary
        self.sector_of = sector_of

    @cached_property
    def class_sector(self) -> NDArray[np.int64]:
        """Each class's sector index (-1 when ``sector_of`` is not given or finds none)."""
        if self.sector_of is None:
            return np.full(len(self.codes), -1, dtype=np.int64)
        return np.array([self.sector_of(c) for c in self.codes], dtype=np.int64)

    @cached_property
    def _model(self) -> tuple[list[str], sparse.csr_matrix]:
        """Class codes and the (terms x classes) weights: kept in the cache folder between runs."""
        path = cache_dir() / f"okved-classes-{self._key()[:40]}.npz"
        with suppress(OSError, ValueError, KeyError), np.load(path, allow_pickle=False) as kept:  # else fitted anew
            weights = sparse.csr_matrix((kept["data"], kept["indices"], kept["indptr"]), shape=tuple(kept["shape"]))
            return [str(c) for c in kept["codes"]], weights
        codes, weights = self._fit()
        _save_npz(
            path,
            codes=np.array(codes),
            data=weights.data,
            indices=weights.indices,
            indptr=weights.indptr,
            shape=np.array(weights.shape),
        )
        return codes, weights

    def _key(self) -> str:
        """What the weights depend on: this module, the classification files and the vocabulary's terms."""
        digest = hashlib.sha256(Path(__file__).read_bytes())
        for name in ("okved2_ru.csv", "nace_rev2_en.csv", "vsic_vi.csv"):
            digest.update(resources.files("matcher").joinpath("data", "classifications", name).read_bytes())
        digest.update(json.dumps(self.vocabulary.terms, ensure_ascii=False).encode("utf-8"))
        return digest.hexdigest()

    def _fit(self) -> tuple[list[str], sparse.csr_matrix]:
        codes, texts = class_texts()
        found = self.vocabulary.hits(pa.array(texts, pa.string())).matrix  # classes x terms, 0/1
        df = np.asarray(found.sum(axis=0)).ravel()
        idf = np.where((df > 0) & (df <= MAX_CLASSES), np.log((1 + len(codes)) / (1 + df)) + 1.0, 0.0)
        weighted = sparse.csr_matrix(found.multiply(idf[None, :]))
        weighted.eliminate_zeros()
        length = np.sqrt(np.maximum(np.diff(weighted.indptr), 1))
        weighted = sparse.csr_matrix(sparse.diags(1.0 / length) @ weighted)
        return codes, sparse.csr_matrix(weighted.T)  # terms x classes

    @property
    def codes(self) -> list[str]:
        """The OKVED 2 class codes, in the order of the score columns."""
        return self._model[0]

    def scores(
        self,
        hits: TermHits,
        rows: NDArray[np.int64],
        main: NDArray[np.int64] | None = None,
        listed: NDArray[np.bool_] | None = None,
    ) -> sparse.csr_matrix:
        """``len(rows)`` x classes (sparse): how well each chosen row's terms fit each class.

        ``main`` (per row of ``hits``) and ``listed`` (rows of ``hits`` x sectors): a class of the
        row's main sector scores ``1 + SECTOR_BOOST`` times more, of another listed sector
        ``1 + SECTOR_BOOST / 2`` times.
        """
        found = sparse.csr_matrix(hits.matrix[rows] @ self._model[1])
        if main is not None and listed is not None and found.nnz:
            row_of = rows[np.repeat(np.arange(len(rows)), np.diff(found.indptr))]
            sector = self.class_sector[found.indices]
            own = sector >= 0
            boost = np.ones(found.nnz)
            boost[own] += SECTOR_BOOST / 2 * (listed[row_of[own], sector[own]] + (main[row_of[own]] == sector[own]))
            found.data *= boost
        return found

    def best(
        self,
        hits: TermHits,
        rows: NDArray[np.int64],
        main: NDArray[np.int64] | None = None,
        listed: NDArray[np.bool_] | None = None,
        top: int = TOP,
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The best classes of each of ``rows``: ``(counts, classes)``, ``counts[i]`` (at most ``top``)
        class indexes of row ``i`` one after the other in ``classes``, best first, code order on ties."""
        found = self.scores(hits, rows, main, listed)
        found.data[found.data < 0] = 0
        found.eliminate_zeros()
        found.sort_indices()  # class order within a row: ties stay in code order (the sort is stable)
        row_of = np.repeat(np.arange(len(rows)), np.diff(found.indptr))
        # one float key per entry, rows apart by more than any score: a single stable argsort
        span = 2.0 ** np.ceil(np.log2(found.data.max() + 2.0)) if found.nnz else 1.0
        order = np.argsort(row_of * span + (span - found.data), kind="stable")
        rank = np.arange(len(order)) - found.indptr[row_of[order]]
        keep = order[rank < top]
        return np.bincount(row_of[keep], minlength=len(rows)), found.indices[keep]

    def best_column(
        self, hits: TermHits, rows: NDArray[np.int64], n_rows: int, main: NDArray[np.int64], listed: NDArray[np.bool_]
    ) -> pa.Array:
        """A string column of ``n_rows``: the chosen rows' best codes joined with ";", the others empty."""
        counts, classes = self.best(hits, rows, main, listed)
        per_row = np.zeros(n_rows, dtype=np.int64)
        per_row[rows] = counts
        offsets = np.zeros(n_rows + 1, dtype=np.int32)
        np.cumsum(per_row, out=offsets[1:])
        codes = pa.array(self.codes or [""], pa.string()).take(pa.array(classes, pa.int64()))
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), codes), ";")

    def best_for_terms(self, terms: list[int], main: int, listed: list[int], n_sectors: int) -> list[str]:
        """:meth:`best` for one text's term ids (``terms``, ascending), its main sector and listed sector
        indexes, in plain Python (a sparse product per profile costs more than the work): the same sums
        in the same order, the same boost, the same ties."""
        weights = self._rows
        score: defaultdict[int, float] = defaultdict(float)  # a class's sum starts at 0.0, as score.get(c, 0.0)
        for t in terms:
            for c, w in weights[t]:
                score[c] += w
        listed_set = set(listed)
        sector_of = self.class_sector_list
        for c, value in score.items():
            s = sector_of[c]
            if s >= 0:
                score[c] = value * (1.0 + SECTOR_BOOST / 2 * ((s in listed_set) + (s == main)))
        # the highest scores first, the lower code on ties: the TOP smallest (-score, class)
        ranked = heapq.nsmallest(TOP, [(-v, c) for c, v in score.items() if v > 0])
        codes = self.codes
        return [codes[c] for _, c in ranked]

    @cached_property
    def _rows(self) -> list[list[tuple[int, float]]]:
        """Per term, its (class, weight) pairs in class order: the weights for the one-row path."""
        matrix = self._model[1]
        matrix.sort_indices()
        return [
            list(zip(matrix.indices[a:b].tolist(), matrix.data[a:b].tolist(), strict=True))
            for a, b in zip(matrix.indptr[:-1].tolist(), matrix.indptr[1:].tolist(), strict=True)
        ]

    @cached_property
    def class_sector_list(self) -> list[int]:
        return self.class_sector.tolist()

    def title(self, code: str, lang: str) -> str:
        """A class's title in ``lang`` (see :func:`class_titles`)."""
        return self.titles.get(code, {}).get(lang) or code

    @cached_property
    def titles(self) -> dict[str, dict[str, str]]:
        """Class code -> {lang: title}, read from the shipped classifications on first use."""
        return class_titles()


def class_titles() -> dict[str, dict[str, str]]:
    """Each OKVED 2 class's title: Russian from OKVED 2, English from NACE Rev. 2 (Russian where
    OKVED 2 is not NACE, :data:`matcher.okved.NOT_NACE`), Vietnamese from VSIC where its division
    is ISIC's, else English (the rules of :mod:`matcher.okved`)."""
    nace = {r["code"]: r for r in read_classification("nace2") if r["level"] == "class"}
    vsic = {r["code"]: r for r in read_classification("vsic2007")}
    safe = _vsic_safe(list(read_classification("nace2")), vsic)
    out = {}
    for row in read_classification("okved2"):
        if row["level"] != "class":
            continue
        code, en_row = row["code"], nace.get(row["code"])
        en = en_row["title"] if en_row is not None and not _outside_nace(code) else row["title"]
        vi_row = vsic.get(en_row.get("isic") or "") if en_row is not None else None
        vi = vi_row["title"] if vi_row is not None and code[:2] in safe and not _outside_nace(code) else en
        out[code] = {"ru": row["title"], "en": en, "vi": vi}
    return out


def _save_npz(path: Path, **arrays) -> None:
    """Write arrays whole or not at all (a cache folder that cannot be written is skipped)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
