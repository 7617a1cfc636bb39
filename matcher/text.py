"""Find each sector's keywords in free text (English, Russian, Vietnamese).

Words are normalised (NFC, case-folded, ``ё`` -> ``е``, punctuation trimmed) and stemmed
with Snowball (Russian for Cyrillic words, English otherwise), so any inflection of a
listed Russian word matches. Keywords may be phrases ("trí tuệ nhân tạo").

Speed: a batch of texts is split into tokens by Arrow, each *distinct* token is
normalised once (and cached across batches), and phrases are found with numpy over the
token stream; no Python loop runs per row. :meth:`SectorVocabulary.row_terms` finds the
very same terms in one text with plain Python, for small batches where Arrow's set-up
would cost more than the work. scikit-learn builds the term vocabulary
(``CountVectorizer`` over each sector's keyword list) and weighs terms by how specific
they are to one sector (``TfidfTransformer`` idf over the sectors).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import Stemmer
from numpy.typing import NDArray
from scipy import sparse

from .config import LANGS, Config

_STEM_RU = Stemmer.Stemmer("russian")
_STEM_EN = Stemmer.Stemmer("english")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SPLIT = re.compile(r"[^\w]+")
#: The separators of Arrow's ``ascii_split_whitespace`` (ASCII only: U+00A0 and U+3000 stay inside tokens).
_ASCII_SPACE_CHARS = " \t\n\x0b\x0c\r"
_ASCII_SPACE = re.compile(f"[{_ASCII_SPACE_CHARS}]+")
_NO_WORD = (-1,)
_CACHE_LIMIT = 2_000_000
_PREFIX = 5
_RU_MIN = 5
_PUNCT = "\"'()[]{}<>«»„“”‘’.,;:!?/\\|-–—_*#&+=%$@~`^"


#: Words Snowball would merge with a word of another sector ("hospitality" -> "hospit" = "hospital").
_KEEP_WHOLE = frozenset({"hospitality"})


def _stem(word: str) -> str:
    """Russian Snowball for Cyrillic, English for plain ASCII; Vietnamese syllables stay as they are."""
    if _CYRILLIC.search(word):
        return _STEM_RU.stemWord(word)
    if word in _KEEP_WHOLE or not word.isascii():
        return word
    return _STEM_EN.stemWord(word)


def normalize_words(token: str) -> list[str]:
    """Turn one raw token into the stems it holds ("Software/Hardware," -> two stems).

    Examples
    --------
    >>> normalize_words("Электроники,")
    ['электроник']
    """
    token = unicodedata.normalize("NFC", token).casefold().replace("ё", "е")
    return [_stem(part) for part in _SPLIT.split(token) if part and not part.isdigit()]


# -- The fitted vocabulary, kept between runs ---------------------------------------------------------

#: Bump when what a cached fit holds changes shape.
_FIT_FORMAT = 1


def cache_dir() -> Path:
    """Where fitted vocabularies are kept: ``$MATCHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/hanoi-matcher``."""
    if os.environ.get("MATCHER_CACHE_DIR"):
        return Path(os.environ["MATCHER_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hanoi-matcher"


def _fit_key(docs: list[list[str]]) -> str:
    """What a fit depends on: the keyword lists, this module's code (the analyzer) and the libraries'
    versions. Any change gives another key, so a stale fit is never read."""
    digest = hashlib.sha256()
    digest.update(f"{_FIT_FORMAT}\0".encode())
    digest.update(Path(__file__).read_bytes())
    for dist in ("scikit-learn", "PyStemmer"):
        try:
            digest.update(f"\0{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{dist}=?".encode())
    digest.update(json.dumps(docs, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _fit_path(docs: list[list[str]]) -> tuple[Path, str]:
    key = _fit_key(docs)
    return cache_dir() / f"vocabulary-{key[:40]}.json", key


def _save_fit(docs: list[list[str]], terms: list[str], weights: sparse.csr_matrix) -> None:
    """Keep a fit for the next run (written whole or not at all; a cache that cannot be written is skipped)."""
    path, key = _fit_path(docs)
    coo = weights.tocoo()
    data = {"key": key, "sectors": len(docs), "terms": terms,
            "term": coo.row.tolist(), "sector": coo.col.tolist(), "weight": coo.data.tolist()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:  # e.g. a full disk: leave no half-written file behind
        Path(tmp).unlink(missing_ok=True)


def _load_fit(docs: list[list[str]]) -> tuple[list[str], sparse.csr_matrix] | None:
    """A fit kept by :func:`_save_fit` for these very keywords, or None (none kept, or not readable)."""
    path, key = _fit_path(docs)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["key"] != key or data["sectors"] != len(docs):
            return None
        terms = [str(t) for t in data["terms"]]
        weights = sparse.csr_matrix(
            (np.array(data["weight"], dtype=np.float64), (np.array(data["term"], dtype=np.int64),
                                                          np.array(data["sector"], dtype=np.int64))),
            shape=(len(terms), len(docs)))
        return terms, weights
    except (OSError, ValueError, KeyError, TypeError):
        return None


def string_buffers(column: pa.Array) -> tuple[NDArray[np.int32], NDArray[np.uint8]] | None:
    """The offsets and bytes of a string array without nulls as numpy views (no copy); None otherwise.

    Value ``i`` is ``data[offsets[i]:offsets[i + 1]]`` (a sliced array's offsets need not start at 0).
    """
    if column.type != pa.string() or column.null_count:
        return None
    _, offsets, data = column.buffers()
    offsets = np.frombuffer(offsets, np.int32, len(column) + 1, column.offset * 4)
    return offsets, (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))


def split_tokens(texts: pa.Array | pa.ChunkedArray) -> tuple[pa.StringArray, NDArray[np.int64]]:
    """Cut texts into tokens where ASCII whitespace starts a new word, without copying the text.

    Each token is a word with the whitespace that follows it (a text's leading whitespace is a
    token of its own), so the tokens tile the text buffer and can share it. Stripped of that
    whitespace, they are the tokens of Arrow's ``ascii_split_whitespace``, in the same order,
    minus its empty token for a text that ends in whitespace or is empty: positions of the
    words inside one text keep the same differences. Returns the tokens and each one's row.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    if texts.null_count:
        texts = pc.fill_null(texts, "")
    n = len(texts)
    data_buffer = texts.buffers()[2]
    if n == 0 or data_buffer is None:
        return pa.array([], pa.string()), np.zeros(0, np.int64)
    offsets, data = string_buffers(texts)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = data[lo:hi]
    space = (data == 32) | (data - np.uint8(9) <= 4)  # " ", or \t \n \v \f \r (9..13)
    cut = np.empty(hi - lo + 1, dtype=bool)
    cut[:-1] = ~space  # a word starts after whitespace...
    cut[1:-1] &= space[:-1]
    cut[offsets[:-1] - lo] = True  # ...and every text starts a token (an empty one at the end does not)
    cut[-1] = False
    starts = np.flatnonzero(cut)
    bounds = np.empty(len(starts) + 1, dtype=np.int32)
    bounds[:-1] = starts
    bounds[-1] = hi - lo
    bounds += lo
    first = np.searchsorted(starts, offsets[:-1] - lo)  # each text's first token (an empty text has none)
    rows = np.repeat(np.arange(n), np.diff(first, append=len(starts)))
    tokens = pa.StringArray.from_buffers(len(starts), pa.py_buffer(bounds), data_buffer)
    return tokens, rows


@dataclass(frozen=True)
class TermHits:
    """Which keyword terms each row contains: a binary rows x terms CSR matrix."""

    matrix: sparse.csr_matrix


class SectorVocabulary:
    """The keyword terms of every sector, ready to find in text.

    Parameters
    ----------
    config : Config
        Sectors with their keywords in EN/RU/VI.
    """

    def __init__(self, config: Config, cached: bool = False) -> None:
        self.sector_ids = config.sector_ids
        docs = [
            [kw for lang in LANGS for kw in sector.keywords.get(lang, ())] for sector in config.sectors
        ]
        self.display: dict[str, str] = {}
        for doc in docs:
            for kw in doc:
                self.display.setdefault(self._term(kw), kw)
        fitted = _load_fit(docs) if cached else None
        if fitted is None:
            fitted = self._fit(docs)
            if cached:
                _save_fit(docs, *fitted)
        self.terms: list[str] = fitted[0]
        self.weights: sparse.csr_matrix = fitted[1]
        self.term_display = [self.display[t] for t in self.terms]
        self.dense_weights = self.weights.toarray()
        # The same weights as Python lists for the row path: per term, its (sector, weight) pairs.
        self.term_sectors = [[(s, w) for s, w in enumerate(row) if w > 0] for row in self.dense_weights.tolist()]
        self._build_index()
        # A Snowball stem minus its last letter starts the word it came from (English may add an
        # "e": "making" -> "make", and turn y into i): index those starts by their length.
        # Stems of three letters or fewer ("ai", "iot") must start the word whole.
        starts: dict[int, set[str]] = {}
        for w in self.words:
            k = len(w) if len(w) <= 3 else min(_PREFIX, len(w) - 1)  # short stems: exact start
            starts.setdefault(k, set()).add(w[:k].replace("i", "y"))
        self._start_sets = {k: pa.array(sorted(v), pa.string()) for k, v in starts.items()}
        longer: dict[str, set[int]] = {}
        for w, i in self.words.items():
            if _CYRILLIC.search(w):
                for cut in (1, 2):
                    if len(w) - cut >= _RU_MIN:
                        longer.setdefault(w[:-cut], set()).add(i)
        self._ru_longer = {k: next(iter(v)) for k, v in longer.items() if len(v) == 1}
        self._cache: dict[str, tuple[int, ...]] = {}
        self._token_cache: dict[str, tuple[int, ...]] = {}  # the row path's: after the _may_match filter

    def _fit(self, docs: list[list[str]]) -> tuple[list[str], sparse.csr_matrix]:
        """The terms and their (terms x sectors) weights, fitted by scikit-learn over the keyword lists."""
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

        vectorizer = CountVectorizer(analyzer=self._analyze, binary=True)
        if any(docs):
            sector_terms = vectorizer.fit_transform(docs)
            terms = list(vectorizer.get_feature_names_out())
        else:
            sector_terms, terms = sparse.csr_matrix((len(docs), 0)), []
        idf = TfidfTransformer(norm=None, smooth_idf=True).fit(sector_terms) if terms else None
        # weights[t, s]: how much term t says "sector s": terms shared by sectors count less
        # (idf), and a phrase counts once per word, so "smart transport" outweighs the
        # "transport" inside it.
        length = np.array([len(t.split()) for t in terms], dtype=np.float64)
        return terms, sparse.csr_matrix(sector_terms.multiply(idf.idf_ * length).T if idf else sector_terms.T)

    @staticmethod
    def _term(keyword: str) -> str:
        return " ".join(w for token in keyword.split() for w in normalize_words(token))

    def _analyze(self, doc: list[str]) -> list[str]:
        return [t for t in (self._term(kw) for kw in doc) if t]

    def _build_index(self) -> None:
        """Number every stem that occurs in a term; index terms by their stem-id n-grams."""
        words: dict[str, int] = {}
        for term in self.terms:
            for w in term.split():
                words.setdefault(w, len(words))
        self.words = words
        self.n_words = max(len(words), 1)
        self.ngram_keys: dict[int, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
        by_len: dict[int, list[tuple[int, int]]] = {}
        for term_id, term in enumerate(self.terms):
            key = 0
            for w in term.split():
                key = key * self.n_words + words[w]
            by_len.setdefault(len(term.split()), []).append((key, term_id))
        for n, pairs in by_len.items():
            pairs.sort()
            self.ngram_keys[n] = (
                np.array([k for k, _ in pairs], dtype=np.int64),
                np.array([t for _, t in pairs], dtype=np.int64),
            )
        # Single words: term id by word id. Phrases: which words can start one of each length.
        self.word_term = np.full(self.n_words, -1, dtype=np.int64)
        self.phrase_start = {n: np.zeros(self.n_words, dtype=bool) for n in self.ngram_keys if n > 1}
        # The same for the row path: phrase term id by its word ids, phrase lengths by first word id.
        self.phrase_terms: dict[tuple[int, ...], int] = {}
        self.phrase_lengths: dict[int, tuple[int, ...]] = {}
        for term_id, term in enumerate(self.terms):
            parts = term.split()
            if len(parts) == 1:
                self.word_term[words[parts[0]]] = term_id
            else:
                self.phrase_start[len(parts)][words[parts[0]]] = True
                self.phrase_terms[tuple(words[w] for w in parts)] = term_id
                lengths = self.phrase_lengths.get(words[parts[0]], ())
                if len(parts) not in lengths:
                    self.phrase_lengths[words[parts[0]]] = (*lengths, len(parts))
        self.word_term_list = self.word_term.tolist()

    def _word_ids(self, tokens: list[str]) -> list[tuple[int, ...]]:
        """Stem-ids of each raw token (-1 for a stem in no keyword); cached across batches."""
        cache = self._cache
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for token in tokens:
            if token not in cache:
                parts = tuple(self._word_id(w) for w in normalize_words(token))
                cache[token] = parts if any(i >= 0 for i in parts) else (-1,)
        return [cache[t] for t in tokens]

    def _word_id(self, stem: str) -> int:
        """Id of a stem; Russian stems also match a keyword stem two letters longer or shorter.

        Snowball treats some inflections of one Russian word differently ("ресторан" ->
        "рестора", "ресторанов" -> "ресторан"), so near stems of five letters or more count.
        """
        found = self.words.get(stem, -1)
        if found >= 0 or len(stem) < _RU_MIN or not _CYRILLIC.search(stem):
            return found
        for cut in (1, 2):
            if len(stem) - cut >= _RU_MIN and stem[:-cut] in self.words:
                return self.words[stem[:-cut]]
        return self._ru_longer.get(stem, -1)

    def _may_match(self, tokens: pa.Array) -> NDArray[np.bool_]:
        """Which distinct tokens could hold a keyword word, decided by Arrow over all of them.

        A Snowball stem is a prefix of the normalised word, so a plain word whose start is
        the start of no keyword stem cannot match and never reaches the (slow) stemmer.
        Tokens with inner punctuation ("software/hardware") are always looked at.
        """
        # English Snowball turns a final y into i ("city" -> "citi"): compare with i and y folded.
        key = pc.utf8_trim(pc.utf8_lower(tokens), characters=_PUNCT)
        if not pc.all(pc.fill_null(pc.string_is_ascii(key), True)).as_py():
            key = pc.replace_substring(pc.utf8_normalize(key, "NFC"), "ё", "е")
        key = pc.replace_substring(key, "i", "y")
        if 0 in self._start_sets:  # a one-letter stem: every token may hold it
            return np.ones(len(tokens), dtype=bool)
        mask = pa.array(np.zeros(len(tokens), dtype=bool))
        for k, value_set in self._start_sets.items():
            mask = pc.or_(mask, pc.is_in(pc.utf8_slice_codeunits(key, 0, k), value_set=value_set))
        mask = pc.or_(mask, pc.invert(pc.utf8_is_alnum(key)))
        return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)

    def hits(self, texts: pa.Array | pa.ChunkedArray) -> TermHits:
        """Find the terms in each text.

        Parameters
        ----------
        texts : pyarrow string array
            One text per row (nulls allowed).

        Returns
        -------
        TermHits
            Binary rows x terms matrix.
        """
        n_rows = len(texts)
        # Only keyword words come back; a phrase must sit on consecutive positions of one row.
        pos, rows, words = self._token_stream(texts)
        found_rows, found_terms = [], []
        if len(words):
            single = self.word_term[words]
            found_rows.append(rows[single >= 0])
            found_terms.append(single[single >= 0])
        for n, starts in self.phrase_start.items():
            if len(words) < n:
                continue
            at = np.flatnonzero(starts[words[: len(words) - n + 1]])  # positions that can open a phrase
            keys = words[at]
            ok = np.ones(len(at), dtype=bool)
            for k in range(1, n):
                ok &= (pos[at + k] - pos[at] == k) & (rows[at + k] == rows[at])
                keys = keys * self.n_words + words[at + k]
            at, keys = at[ok], keys[ok]
            sorted_keys, term_ids = self.ngram_keys[n]
            found = np.searchsorted(sorted_keys, keys)
            found[found >= len(sorted_keys)] = 0
            match = sorted_keys[found] == keys
            found_rows.append(rows[at[match]])
            found_terms.append(term_ids[found[match]])
        r = np.concatenate(found_rows) if found_rows else np.zeros(0, np.int64)
        t = np.concatenate(found_terms) if found_terms else np.zeros(0, np.int64)
        matrix = sparse.csr_matrix((np.ones(len(r), np.float64), (r, t)), shape=(n_rows, len(self.terms)))
        matrix.data[:] = 1.0  # duplicates were summed: presence is what counts
        return TermHits(matrix)

    def _token_stream(self, texts: pa.Array | pa.ChunkedArray) -> tuple[NDArray[np.int64], ...]:
        """Position, row and stem-id of every token that is a keyword word, in text order.

        Positions count words, so a token holding several words ("software/hardware") takes
        several positions and phrases can be matched on consecutive positions.
        """
        tokens, parents = split_tokens(texts)
        encoded = pc.dictionary_encode(tokens)
        empty = np.zeros(0, np.int64)
        if len(encoded) == 0:
            return empty, empty, empty
        uniques = pc.ascii_rtrim(encoded.dictionary, _ASCII_SPACE_CHARS)
        candidates = np.flatnonzero(self._may_match(uniques))
        per_candidate = self._word_ids(uniques.take(pa.array(candidates)).to_pylist())
        known = [j for j, ids in enumerate(per_candidate) if ids != (-1,)]
        if not known:
            return empty, empty, empty
        counts = np.zeros(len(uniques), dtype=np.int64)  # words per distinct token, 0 = no keyword word
        counts[candidates[known]] = [len(per_candidate[j]) for j in known]
        parts = np.fromiter((i for j in known for i in per_candidate[j]), dtype=np.int64)
        starts = np.zeros(len(uniques), dtype=np.int64)
        starts[candidates[known]] = np.cumsum(counts[candidates[known]]) - counts[candidates[known]]
        occ = encoded.indices.to_numpy(zero_copy_only=False)
        where = np.flatnonzero(counts[occ] > 0)  # occurrences holding a keyword word
        n_parts = counts[occ[where]]
        # Position of each word: token position plus the extra words of earlier multi-word tokens.
        extra = np.cumsum(n_parts - 1) - (n_parts - 1)
        first = where + extra
        within = np.arange(int(n_parts.sum())) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
        positions = np.repeat(first, n_parts) + within
        words = parts[np.repeat(starts[occ[where]], n_parts) + within]
        rows = np.repeat(parents[where], n_parts)
        keep = words >= 0
        return positions[keep], rows[keep], words[keep]

    def sector_scores(self, hits: TermHits) -> NDArray[np.float64]:
        """Rows x sectors evidence weight: the sum of the idf of each sector term found."""
        return np.asarray((hits.matrix @ self.weights).todense(), dtype=np.float64)

    def evidence(self, hits: TermHits, row: int, sector: int) -> list[str]:
        """The keywords of ``sector`` found in ``row``, as written in ``sectors.yaml``."""
        return self.evidence_terms(hits.matrix.indices[hits.matrix.indptr[row] : hits.matrix.indptr[row + 1]], sector)

    def evidence_terms(self, terms, sector: int) -> list[str]:
        """The keywords of ``sector`` among ``terms`` (term ids, ascending), as written in ``sectors.yaml``."""
        return [self.term_display[t] for t in terms if self.dense_weights[t, sector] > 0]

    # -- One text at a time: the same terms and weights as hits() and sector_scores() ---------------

    def row_terms(self, text: str) -> list[int]:
        """Ids of the terms found in one text, ascending: row ``i`` of ``hits(texts)`` for ``texts[i] == text``.

        Tokens are cut exactly where Arrow's ``ascii_split_whitespace`` cuts them, and numbered
        like :meth:`_token_stream` numbers them, so phrases match the same consecutive words.
        """
        positions: list[int] = []  # of each keyword word, in text order
        ids: list[int] = []  # its word id
        position = 0
        for parts in self.token_ids(_ASCII_SPACE.split(text)):
            if parts == _NO_WORD:  # no keyword word: the token takes one position
                position += 1
                continue
            for w in parts:
                if w >= 0:
                    positions.append(position)
                    ids.append(w)
                position += 1
        found = {self.word_term_list[w] for w in ids}
        found.discard(-1)
        for at, first in enumerate(ids):
            for n in self.phrase_lengths.get(first, ()):
                if at + n <= len(ids) and positions[at + n - 1] - positions[at] == n - 1:  # n consecutive positions
                    term = self.phrase_terms.get(tuple(ids[at : at + n]))
                    if term is not None:
                        found.add(term)
        return sorted(found)

    def row_scores(self, terms: list[int]) -> list[float]:
        """Evidence weight per sector of one text's terms, summed in term order as the sparse product sums."""
        scores = [0.0] * len(self.sector_ids)
        for t in terms:
            for s, weight in self.term_sectors[t]:
                scores[s] += weight
        return scores

    def token_ids(self, tokens: list[str]) -> list[tuple[int, ...]]:
        """Stem-ids of each raw token as :meth:`_token_stream` sees it; ``(-1,)`` when it holds no keyword word.

        A token is looked at once: new tokens go through :meth:`_may_match` (Arrow, all of a
        call's new tokens at once) and :meth:`_word_ids`, and the outcome is cached.
        """
        cache = self._token_cache
        known: dict[str, tuple[int, ...]] = {}
        new = []
        for token in tokens:
            ids = cache.get(token)
            if ids is None:
                new.append(token)
            else:
                known[token] = ids
        if new:
            known.update(self._learn_tokens(list(dict.fromkeys(new))))
        return [known[t] for t in tokens]

    def _learn_tokens(self, tokens: list[str]) -> dict[str, tuple[int, ...]]:
        """Word ids of new distinct tokens, through the batch path's filter; added to the cache."""
        may = self._may_match(pa.array(tokens, pa.string()))
        candidates = [t for t, m in zip(tokens, may, strict=True) if m]
        ids = dict(zip(candidates, self._word_ids(candidates), strict=True))
        learned = {t: ids.get(t, _NO_WORD) for t in tokens}
        if len(self._token_cache) > _CACHE_LIMIT:
            self._token_cache.clear()
        self._token_cache.update(learned)
        return learned

    def evidence_column(self, hits: TermHits, rows: NDArray[np.int64], sectors: NDArray[np.int64],
                        n_rows: int, limit: int = 3) -> pa.Array:
        """For each row in ``rows``, up to ``limit`` keywords of its sector, joined with ", "."""
        matrix = hits.matrix
        target = np.full(n_rows, -1, dtype=np.int64)
        target[rows] = sectors
        row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
        terms = matrix.indices
        keep = target[row_of] >= 0
        keep[keep] = self.dense_weights[terms[keep], target[row_of[keep]]] > 0
        row_of, terms = row_of[keep], terms[keep]
        starts = np.searchsorted(row_of, np.arange(n_rows))
        rank = np.arange(len(row_of)) - starts[row_of]
        row_of, terms = row_of[rank < limit], terms[rank < limit]
        offsets = np.searchsorted(row_of, np.arange(n_rows + 1)).astype(np.int32)
        words = pa.array(self.term_display or [""], pa.string()).take(pa.array(terms))
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), words), ", ")
