"""Find each sector's words in free text (English, Russian, Vietnamese) and weigh them.

Words are normalised (NFC, case-folded, ``ё`` -> ``е``, punctuation trimmed) and stemmed
with Snowball (Russian for Cyrillic words, to Snowball's fixed point; English otherwise), so
any inflection of a known Russian word matches; words match whole, never by prefix. Terms
are single words, word pairs and keyword phrases ("trí tuệ nhân tạo"). Their weights are
the learned classifier's (:mod:`matcher.sector_model`, shipped as data) when it was trained
on this very sectors file; a negation cue removes the evidence of its clause
(:func:`negated_tokens`).

Speed: a batch of texts is split into tokens by Arrow, each *distinct* token is
normalised once (and cached across batches), and phrases are found with numpy over the
token stream; no Python loop runs per row. :meth:`SectorVocabulary.row_terms` finds the
very same terms in one text with plain Python, for small batches where Arrow's set-up
would cost more than the work. For a sectors file the shipped classifier was not trained
on, scikit-learn builds the term vocabulary (``CountVectorizer`` over each sector's keyword
list) and weighs terms by how specific they are to one sector (``TfidfTransformer`` idf over
the sectors); that fit is cached between runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import Stemmer
from numpy.typing import NDArray
from scipy import sparse

from .config import LANGS, Config
from .model_file import load_model, training_fingerprint
from .perf import string_buffers

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
_PUNCT = "\"'()[]{}<>«»„“”‘’.,;:!?/\\|-–—_*#&+=%$@~`^"


# -- Negation: a cue removes the evidence of its clause ---------------------------------------------
#: Flags of a raw token (bits), decided by :meth:`SectorVocabulary._token_flags`.
_NEG_AFTER, _NEG_CLAUSE, _CANCEL_NEXT, _CANCEL_PREV, _END, _CONJ = 1, 2, 4, 8, 16, 32
_CUE = _NEG_AFTER | _NEG_CLAUSE
#: Cues whose scope is the rest of their clause (English and Vietnamese put the object after them:
#: "we do not make chips", "không sản xuất điện tử", "no longer").
_NEG_AFTER_WORDS = (
    "not",
    "no",
    "never",
    "don't",
    "doesn't",
    "didn't",
    "won't",
    "cannot",
    "can't",
    "nor",
    "không",
    "chưa",
    "chẳng",
    "ngừng",
)
#: Russian cues: their scope is their whole clause back to a conjunction, since the object often
#: comes first ("электроникой не занимаемся").
_NEG_CLAUSE_WORDS = ("не", "ни", "нет")
#: A cue followed by one of these is no negation ("не только", "not only", "không chỉ", "không
#: gian" = space, "không khí" = air, "không dây" = wireless, "không người lái" = unmanned).
_CANCEL_NEXT_WORDS = (
    "только",
    "менее",
    "более",
    "просто",
    "only",
    "just",
    "less",
    "chỉ",
    "những",
    "gian",
    "khí",
    "dây",
    "người",
    "ngừng",
    "ít",
)
#: A cue after one of these is no negation ("hàng không" = aviation).
_CANCEL_PREV_WORDS = ("hàng",)
#: Where a Russian cue's scope starts at the latest (besides the start of its clause).
_CONJ_WORDS = ("и", "а", "но", "однако", "зато")
#: A token ending so closes a clause (or a dash standing alone).
_END_PATTERN = "[,;.!?:][\"'»”)\\]]*$"
_DASHES = ("-", "–", "—")
_CUE_SET = pa.array(_NEG_AFTER_WORDS + _NEG_CLAUSE_WORDS, pa.string())


#: Kinds of byte for :meth:`SectorVocabulary._numbered`: punctuation of ``_PUNCT`` (ASCII, but the word
#: character ``_``), ASCII digit, ASCII letter, anything else.
_PUNCTUATION, _OTHER, _DIGIT, _LETTER = 0, 1, 2, 3
_BYTE_KIND = np.full(256, _OTHER, dtype=np.uint8)
_BYTE_KIND[[ord(c) for c in _PUNCT if c.isascii() and c != "_"]] = _PUNCTUATION
_BYTE_KIND[np.frombuffer(b"0123456789", np.uint8)] = _DIGIT
_BYTE_KIND[np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)] = _LETTER
#: ASCII bytes lower-cased, ``i`` as ``y`` (as :meth:`SectorVocabulary._may_match` compares starts).
_FOLD = np.arange(256, dtype=np.uint8)
_FOLD[65:91] += 32
_FOLD[ord("i")] = _FOLD[ord("I")] = ord("y")


def negated_tokens(flags: NDArray[np.uint8], rows: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which tokens lie in the scope of a negation cue.

    Parameters
    ----------
    flags : array of uint8
        Each token's flags, tokens in text order, the rows one after the other.
    rows : array of int
        Each token's row.

    A cue's scope runs from the cue to the end of its clause (a token ending in ``, ; . ! ? :``,
    or a dash); a Russian cue's also back to the start of its clause or the conjunction before it.
    """
    n = len(flags)
    idx = np.arange(n)
    first = np.ones(n, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    cue = (flags & _CUE) != 0
    cancel = np.zeros(n, dtype=bool)
    cancel[:-1] = ((flags[1:] & _CANCEL_NEXT) != 0) & ~first[1:]
    cancel[1:] |= ((flags[:-1] & _CANCEL_PREV) != 0) & ~first[1:]
    cue &= ~cancel
    if not cue.any():
        return np.zeros(n, dtype=bool)
    start = first.copy()
    start[1:] |= (flags[:-1] & _END) != 0
    clause = np.cumsum(start) - 1
    first_cue = np.full(clause[-1] + 1, n, dtype=np.int64)
    np.minimum.at(first_cue, clause[cue], idx[cue])
    negated = idx >= first_cue[clause]
    back = cue & ((flags & _NEG_CLAUSE) != 0)
    if back.any():
        sub_start = start.copy()
        sub_start[1:] |= (flags[:-1] & _CONJ) != 0
        sub = np.cumsum(sub_start) - 1
        last_cue = np.full(sub[-1] + 1, -1, dtype=np.int64)
        np.maximum.at(last_cue, sub[back], idx[back])
        negated |= idx <= last_cue[sub]
    return negated


#: Words Snowball would merge with a word of another sector ("hospitality" -> "hospit" = "hospital").
_KEEP_WHOLE = frozenset({"hospitality"})
#: Short Russian roots Snowball cuts into a stem other words share: "уран" and "урал" (uranium, the
#: Urals) both to "ур", "атом" to "ат", "АСЕАН" to the "ас" of "АСУ" (automated control). A word that
#: starts with one keeps at least the root, so its forms share one stem and the words stay apart.
_RU_ROOTS = ("уран", "урал", "атом", "асеан")


#: British spellings read as the American ones, whose stems Snowball makes differently ("centre" -> "centr"
#: but "center" -> "center", "organise" -> "organis" but "organize" -> "organ"): a British description
#: finds the words an American one does. Whole words, so "advertise" or "expertise" stay as they are.
_BRITISH = {
    "centre": "center", "centres": "centers", "tyre": "tire", "tyres": "tires", "aluminium": "aluminum",
    "fibre": "fiber", "fibres": "fibers", "licence": "license",
    "licences": "licenses", "colour": "color", "colours": "colors", "defence": "defense", "catalogue": "catalog",
    "catalogues": "catalogs", "modelling": "modeling", "travelling": "traveling", "jewellery": "jewelry",
    "mould": "mold", "moulds": "molds", "moulding": "molding", "moulded": "molded", "petrol": "gasoline",
    "aeroplane": "airplane", "aeroplanes": "airplanes", "sulphur": "sulfur", "paediatric": "pediatric",
    "paediatrics": "pediatrics", "orthopaedic": "orthopedic", "anaesthesia": "anesthesia",
    "haematology": "hematology", "labour": "labor", "harbour": "harbor",
    "analyse": "analyze", "analysed": "analyzed", "analyses": "analyzes", "analysing": "analyzing",
    "programme": "program", "programmes": "programs", "storey": "story", "tonne": "ton", "tonnes": "tons",
}  # fmt: skip
_BRITISH.update(
    (f"{root}is{end}", f"{root}iz{end}")
    for root in (
        "organ", "optim", "digital", "digit", "util", "special", "author", "local", "recogn", "standard",
        "custom", "steril", "fertil", "pasteur", "modern", "industrial", "urban", "privat", "mechan",
        "visual", "virtual", "monet", "commercial", "central", "decentral", "normal", "stabil", "minim",
        "maxim", "priorit", "categor", "character", "computer", "container", "global", "harmon", "personal",
        "rational", "real", "revital", "summar", "token", "galvan", "ion", "neutral", "mobil", "legal",
        "capital", "miniatur", "robot", "automat", "synchron", "carbon", "electr", "desalin",
    )
    for end in ("e", "ed", "es", "ing", "er", "ers", "ation", "ations")
)  # fmt: skip


def _stem(word: str) -> str:
    """Russian Snowball for Cyrillic, English for plain ASCII; Vietnamese syllables stay as they are.

    Russian words are stemmed until the stem no longer changes: Snowball reads a word without
    ending as one with ("микросхема" -> "микросхем", but "микросхем" -> "микросх"), and the
    fixed point puts the forms of one word back together ("микросх" for both).
    """
    if _CYRILLIC.search(word):
        root = next((r for r in _RU_ROOTS if word.startswith(r)), "")
        for _ in range(4):
            stem = _STEM_RU.stemWord(word)
            if stem == word:
                break
            word = stem
        return root if len(word) < len(root) else word
    if word in _KEEP_WHOLE or not word.isascii():
        return word
    return _STEM_EN.stemWord(_BRITISH.get(word, word))


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
    data = {
        "key": key,
        "sectors": len(docs),
        "terms": terms,
        "term": coo.row.tolist(),
        "sector": coo.col.tolist(),
        "weight": coo.data.tolist(),
    }
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
            (
                np.array(data["weight"], dtype=np.float64),
                (np.array(data["term"], dtype=np.int64), np.array(data["sector"], dtype=np.int64)),
            ),
            shape=(len(terms), len(docs)),
        )
        return terms, weights
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _model_weights(model: dict) -> tuple[list[str], sparse.csr_matrix]:
    """The shipped model's terms and (terms x sectors) weights."""
    terms = [str(t) for t in model["terms"]]
    rows = [t for t, pairs in enumerate(model["weights"]) for _ in pairs]
    cols = [s for pairs in model["weights"] for s, _ in pairs]
    vals = [w for pairs in model["weights"] for _, w in pairs]
    weights = sparse.csr_matrix(
        (np.array(vals, dtype=np.float64), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
        shape=(len(terms), len(model["sectors"])),
    )
    return terms, weights


def _letter_digit(key: pa.Array) -> NDArray[np.bool_]:
    """Which strings hold a letter next to an ASCII digit (what the regex ``\\pL\\d|\\d\\pL`` finds).

    Arrow compiles a regex on every call, and one with a Unicode class costs ~1 ms to compile: a
    fixed cost per chunk larger than the work. Only strings with a digit are looked at, in Python.
    """
    mixed = np.zeros(len(key), dtype=bool)
    has_digit = pc.fill_null(pc.match_substring_regex(key, r"\d"), False).to_numpy(zero_copy_only=False)
    at = np.flatnonzero(has_digit)
    if len(at):
        mixed[at] = [_mixes(value) for value in key.take(pa.array(at)).to_pylist()]
    return mixed


def _mixes(value: str) -> bool:
    return any(
        (a.isalpha() and b in _ASCII_DIGITS) or (a in _ASCII_DIGITS and b.isalpha())
        for a, b in zip(value, value[1:], strict=False)
    )


_ASCII_DIGITS = frozenset("0123456789")


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


def _binary_csr(rows: NDArray[np.int64], terms: NDArray[np.int64], n_rows: int, n_terms: int) -> sparse.csr_matrix:
    """A rows x terms 0/1 CSR matrix from (row, term) pairs, a pair found twice counted once."""
    matrix = sparse.csr_matrix((np.ones(len(rows), np.float64), (rows, terms)), shape=(n_rows, n_terms))
    matrix.data[:] = 1.0  # duplicates were summed: presence is what counts
    return matrix


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
        docs = [[kw for lang in LANGS for kw in sector.keywords.get(lang, ())] for sector in config.sectors]
        self.display: dict[str, str] = {}
        for doc in docs:
            for kw in doc:
                self.display.setdefault(self._term(kw), kw)
        model = load_model()
        #: True when the weights are the shipped learned classifier's: it was trained on these very
        #: sectors, codes and keywords. A sectors file edited since (a keyword added) falls back to
        #: the keyword fit until ``tools/train_sector_model.py`` is run again.
        self.learned = model is not None and model.get("fingerprint") == training_fingerprint(config)
        if self.learned:
            fitted = _model_weights(model)
            shown = dict(zip(model["terms"], model["display"], strict=True))
            self.intercepts = np.array(model["intercepts"], dtype=np.float64)
        else:  # another set of sectors than the model was trained for: the keywords alone
            fitted = _load_fit(docs) if cached else None
            if fitted is None:
                fitted = self._fit(docs)
                if cached:
                    _save_fit(docs, *fitted)
            shown = {}
            self.intercepts = np.zeros(len(self.sector_ids), dtype=np.float64)
        self.intercept_list = self.intercepts.tolist()
        self.terms: list[str] = fitted[0]
        self.weights: sparse.csr_matrix = fitted[1]
        self.term_display = [self.display.get(t) or shown.get(t) or t for t in self.terms]
        self._display_array = pa.array(self.term_display or [""], pa.string())
        self.dense_weights = self.weights.toarray()
        #: Only the weights that speak for a sector: a text's evidence for each sector it may list.
        self.positive_weights = np.maximum(self.dense_weights, 0.0)
        self._build_index()
        # A Snowball stem minus its last letter starts the word it came from (English may add an
        # "e": "making" -> "make", and turn y into i): index those starts by their length.
        # Stems of three letters or fewer ("ai", "iot") must start the word whole.
        starts: dict[int, set[str]] = {}
        for w in self.words:
            k = len(w) if len(w) <= 3 else min(_PREFIX, len(w) - 1)  # short stems: exact start
            starts.setdefault(k, set()).add(w[:k].replace("i", "y"))
        self._start_sets = {k: pa.array(sorted(v), pa.string()) for k, v in starts.items()}
        # A word mixing letters and digits ("Firm2337") is one stem: only a known stem with a
        # digit ("5g", "1с") can match it, and those are few.
        self._digit_starts = pa.array(
            sorted({w[:2].replace("i", "y") for w in self.words if any(ch.isdigit() for ch in w)}), pa.string()
        )
        self._cache: dict[str, tuple[int, ...]] = {}
        self._token_cache: dict[str, tuple[tuple[int, ...], int]] = {}  # the row path's: ids and flags
        self._cue_tokens: set[str] = set()  # the row path's: the tokens of _token_cache that are a cue

    def _pairs(self, kept: NDArray[np.bool_]) -> list[list[tuple[int, float]]]:
        """Per term, ``(sector, weight)`` of the weights ``kept`` marks (terms x sectors), as Python numbers."""
        out: list[list[tuple[int, float]]] = [[] for _ in self.terms]
        terms, sectors = np.nonzero(kept)
        for t, s, w in zip(terms.tolist(), sectors.tolist(), self.dense_weights[terms, sectors].tolist(), strict=True):
            out[t].append((s, w))
        return out

    @cached_property
    def term_speaks(self) -> list[list[tuple[int, float]]]:
        """Per term, ``(sector, weight)`` of each sector it speaks for (a positive weight), as Python numbers:
        the row path's :meth:`row_evidence` adds these up instead of rows of the numpy matrix."""
        return self._pairs(self.dense_weights > 0)

    @cached_property
    def term_weights(self) -> list[list[tuple[int, float]]]:
        """Per term, ``(sector, weight)`` of each sector it weighs on (a weight other than 0), as Python numbers:
        the row path's :meth:`row_scores` adds these up instead of rows of the numpy matrix."""
        return self._pairs(self.dense_weights != 0)

    def _summed(self, pairs: list[list[tuple[int, float]]], terms: list[int]) -> list[float]:
        """Per sector, the sum of the ``pairs`` of ``terms``, added in term order (as the matrix product adds
        them: where it adds a term's 0.0, a sum stays the same)."""
        sums = [0.0] * len(self.sector_ids)
        for t in terms:
            for s, w in pairs[t]:
                sums[s] += w
        return sums

    @cached_property
    def speaking(self) -> list[dict[int, float]]:
        """Per sector, ``{term id: weight}`` of the terms that speak for it (:attr:`term_speaks` by sector):
        the row path's :meth:`evidence_terms` looks terms up there, not in the numpy matrix."""
        out: list[dict[int, float]] = [{} for _ in self.sector_ids]
        for t, pairs in enumerate(self.term_speaks):
            for s, w in pairs:
                out[s][t] = w
        return out

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
        # Phrases are walked word by word through a trie: a prefix of one word has the word's id,
        # a longer prefix an id of its own; (prefix id * n_words + next word id) -> next prefix id.
        # Keys stay far below 2**63 however long the phrase and large the vocabulary.
        step: dict[int, int] = {}
        prefix_term: dict[int, int] = {}
        lengths: set[int] = set()
        next_id = self.n_words
        for term_id, term in enumerate(self.terms):
            parts = term.split()
            if len(parts) < 2:
                continue
            lengths.add(len(parts))
            prefix = words[parts[0]]
            for w in parts[1:]:
                key = prefix * self.n_words + words[w]
                if key not in step:
                    step[key] = next_id
                    next_id += 1
                prefix = step[key]
            prefix_term[prefix] = term_id
        keys = sorted(step)
        self.trie_keys = np.array(keys, dtype=np.int64)
        self.trie_next = np.array([step[k] for k in keys], dtype=np.int64)
        self.prefix_term = np.full(next_id, -1, dtype=np.int64)
        for prefix, term_id in prefix_term.items():
            self.prefix_term[prefix] = term_id
        self.ngram_lengths = sorted(lengths)
        # Single words: term id by word id. Phrases: which words can start one of each length.
        self.word_term = np.full(self.n_words, -1, dtype=np.int64)
        self.phrase_start = {n: np.zeros(self.n_words, dtype=bool) for n in self.ngram_lengths}
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
        # cover[p, w] = 1: term w's words stand, in order, inside the longer term p ("mềm" and
        # "phần mềm" inside "phát triển phần mềm"); shown as evidence, p says what w would.
        ids = {tuple(t.split()): i for i, t in enumerate(self.terms)}
        pairs = [
            (p, ids[part[k : k + n]])
            for part, p in ids.items()
            for n in range(1, len(part))
            for k in range(len(part) - n + 1)
            if part[k : k + n] in ids
        ]
        self.cover = sparse.csr_matrix(
            (np.ones(len(pairs)), ([p for p, _ in pairs], [w for _, w in pairs])),
            shape=(len(self.terms), len(self.terms)),
        )
        self.covered_by: dict[int, list[int]] = {}  # the row path's: term -> the terms it covers
        for p, w in pairs:
            self.covered_by.setdefault(p, []).append(w)

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
        """Id of a stem, matched whole (a stem that merely starts like a known one is unknown)."""
        return self.words.get(stem, -1)

    @staticmethod
    def _token_key(tokens: pa.Array) -> pa.Array:
        """Tokens lower-cased, trimmed of punctuation, NFC, ``ё`` -> ``е`` (what the filters compare)."""
        key = pc.utf8_trim(pc.utf8_lower(tokens), characters=_PUNCT)
        if not pc.all(pc.fill_null(pc.string_is_ascii(key), True)).as_py():
            key = pc.replace_substring(pc.utf8_normalize(key, "NFC"), "ё", "е")
        return key

    @cached_property
    def _digit_start_codes(self) -> NDArray[np.int64]:
        """:attr:`_digit_starts` of two ASCII characters as ``256 * first + second`` (the ones an ASCII word has)."""
        starts = [s for s in self._digit_starts.to_pylist() if len(s) == 2 and s.isascii()]
        return np.array(sorted(256 * ord(s[0]) + ord(s[1]) for s in starts), dtype=np.int64)

    def _numbered(self, tokens: pa.Array) -> NDArray[np.bool_]:
        """Which distinct tokens (no whitespace) are a number or a name with digits, which hold no
        keyword word and no negation cue, decided on the raw bytes: ASCII letters and digits, with
        a digit, in one run between ASCII punctuation (``_PUNCT`` but ``_``, which is a word
        character). All digits: a number, no word (:func:`normalize_words`). Letters and digits:
        :meth:`_may_match` turns it down unless it starts like a known stem with a digit."""
        n = len(tokens)
        buffers = string_buffers(tokens)
        if buffers is None or not n:
            return np.zeros(n, dtype=bool)
        offsets, data = buffers
        lo = int(offsets[0])
        data = data[lo : int(offsets[-1])]
        bounds = offsets - lo
        kind = _BYTE_KIND[data]
        alnum = kind >= _DIGIT
        run = alnum.copy()  # a byte that starts a run of letters and digits
        run[1:] &= ~alnum[:-1]
        run[bounds[:-1][bounds[:-1] < len(data)]] = alnum[bounds[:-1][bounds[:-1] < len(data)]]

        def per_token(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
            total = np.zeros(len(flags) + 1, dtype=np.int64)
            np.cumsum(flags, out=total[1:])
            return total[bounds[1:]] - total[bounds[:-1]]

        numbered = (per_token(kind == _OTHER) == 0) & (per_token(run) == 1) & (per_token(kind == _DIGIT) > 0)
        lettered = numbered & (per_token(kind == _LETTER) > 0)
        if lettered.any():  # letters and digits: kept when its first two (lower-cased, i as y) start a stem
            at = np.flatnonzero(run)
            first = at[lettered[np.searchsorted(bounds[1:], at, side="right")]]
            code = 256 * _FOLD[data[first]].astype(np.int64) + _FOLD[data[first + 1]]
            numbered[np.flatnonzero(lettered)[np.isin(code, self._digit_start_codes)]] = False
        return numbered

    def _may_match(self, tokens: pa.Array, key: pa.Array | None = None) -> NDArray[np.bool_]:
        """Which distinct tokens could hold a keyword word, decided by Arrow over all of them.

        A Snowball stem is a prefix of the normalised word, so a plain word whose start is
        the start of no keyword stem cannot match and never reaches the (slow) stemmer.
        Tokens with inner punctuation ("software/hardware") are always looked at.
        """
        # English Snowball turns a final y into i ("city" -> "citi"): compare with i and y folded.
        key = pc.replace_substring(self._token_key(tokens) if key is None else key, "i", "y")
        if 0 in self._start_sets:  # a one-letter stem: every token may hold it
            return np.ones(len(tokens), dtype=bool)
        mask = pa.array(np.zeros(len(tokens), dtype=bool))
        for k, value_set in self._start_sets.items():
            mask = pc.or_(mask, pc.is_in(pc.utf8_slice_codeunits(key, 0, k), value_set=value_set))
        mixed = pa.array(_letter_digit(key))
        mixed = pc.and_(mixed, pc.invert(pc.is_in(pc.utf8_slice_codeunits(key, 0, 2), value_set=self._digit_starts)))
        mask = pc.and_(mask, pc.invert(mixed))
        mask = pc.or_(mask, pc.invert(pc.utf8_is_alnum(key)))
        return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)

    def _token_flags(self, tokens: pa.Array, key: pa.Array | None = None, lazy: bool = False) -> NDArray[np.uint8]:
        """Negation flags of distinct raw tokens (cue, cancel, clause end, conjunction), by Arrow.

        ``key``: the tokens' :meth:`_token_key`, when already made. ``lazy``: all 0 when no token
        is a cue (a batch without a cue needs no other flag).
        """
        word = self._token_key(tokens) if key is None else key

        def flag(values, bit):
            found = pc.fill_null(pc.is_in(word, value_set=pa.array(values, pa.string())), False)
            return found.to_numpy(zero_copy_only=False).astype(np.uint8) * np.uint8(bit)

        if lazy and not pc.any(pc.is_in(word, value_set=_CUE_SET)).as_py():
            return np.zeros(len(tokens), dtype=np.uint8)
        flags = flag(_NEG_AFTER_WORDS, _NEG_AFTER) | flag(_NEG_CLAUSE_WORDS, _NEG_CLAUSE)
        end = pc.or_(pc.match_substring_regex(tokens, _END_PATTERN), pc.is_in(tokens, value_set=pa.array(_DASHES)))
        flags |= pc.fill_null(end, False).to_numpy(zero_copy_only=False).astype(np.uint8) * np.uint8(_END)
        return (
            flags
            | flag(_CANCEL_NEXT_WORDS, _CANCEL_NEXT)
            | flag(_CANCEL_PREV_WORDS, _CANCEL_PREV)
            | flag(_CONJ_WORDS, _CONJ)
        )

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
            # n consecutive positions of one row first (cheap), then walk the trie for those alone
            ok = (pos[at + n - 1] - pos[at] == n - 1) & (rows[at + n - 1] == rows[at])
            at = at[ok]
            prefix = words[at]
            for k in range(1, n):
                if not len(at) or not len(self.trie_keys):
                    at = at[:0]
                    break
                keys = prefix * self.n_words + words[at + k]
                found = np.searchsorted(self.trie_keys, keys)
                found[found >= len(self.trie_keys)] = 0
                ok = self.trie_keys[found] == keys
                at, prefix = at[ok], self.trie_next[found[ok]]
            term_ids = self.prefix_term[prefix] if len(at) else np.zeros(0, np.int64)
            match = term_ids >= 0
            found_rows.append(rows[at[match]])
            found_terms.append(term_ids[match])
        r = np.concatenate(found_rows) if found_rows else np.zeros(0, np.int64)
        t = np.concatenate(found_terms) if found_terms else np.zeros(0, np.int64)
        return TermHits(_binary_csr(r, t, n_rows, len(self.terms)))

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
        # Numbers and names with numbers ("58960.", "Firm36528") are most distinct tokens of a
        # batch and can hold no keyword word: the Arrow filters look at the others alone.
        look = np.flatnonzero(~self._numbered(uniques))
        words_only = uniques if len(look) == len(uniques) else uniques.take(pa.array(look))
        key = self._token_key(words_only)
        candidates = look[self._may_match(words_only, key)]
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
        keep = counts[occ] > 0  # occurrences holding a keyword word...
        self._drop_negated(keep, occ, parents, uniques, key, look)  # ...and not negated
        where = np.flatnonzero(keep)
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

    def _drop_negated(
        self,
        keep: NDArray[np.bool_],
        occ: NDArray[np.int64],
        parents: NDArray[np.int64],
        uniques: pa.Array,
        key: pa.Array,
        keyed: NDArray[np.int64],
    ) -> None:
        """Clear ``keep`` for the occurrences a negation cue covers; only rows holding a cue are looked at.

        ``key``: the :meth:`_token_key` of the distinct tokens ``uniques[keyed]`` (the others hold no cue).
        """
        cue = np.zeros(len(uniques), dtype=bool)
        cue[keyed] = pc.fill_null(pc.is_in(key, value_set=_CUE_SET), False).to_numpy(zero_copy_only=False)
        if not cue.any():
            return
        has_cue = np.zeros(int(parents[-1]) + 1, dtype=bool)
        has_cue[parents[cue[occ]]] = True
        sel = np.flatnonzero(has_cue[parents])  # the occurrences of those rows, in text order
        sub = np.unique(occ[sel])
        flags = np.zeros(len(uniques), dtype=np.uint8)
        flags[sub] = self._token_flags(uniques.take(pa.array(sub)))
        keep[sel[negated_tokens(flags[occ[sel]], parents[sel])]] = False

    def sector_scores(self, hits: TermHits) -> NDArray[np.float64]:
        """Rows x sectors evidence weight: the sum of the idf of each sector term found."""
        if not len(self.terms):
            return np.zeros((hits.matrix.shape[0], len(self.sector_ids)))
        # sparse x dense gives a dense array at once (sparse x sparse then todense costs ~10x more)
        return np.asarray(hits.matrix @ self.dense_weights, dtype=np.float64)

    def sector_evidence(self, hits: TermHits) -> NDArray[np.float64]:
        """Rows x sectors: the summed positive weights of the terms found (what speaks for each sector)."""
        if not len(self.terms):
            return np.zeros((hits.matrix.shape[0], len(self.sector_ids)))
        return np.asarray(hits.matrix @ self.positive_weights, dtype=np.float64)

    def row_evidence(self, terms: list[int]) -> list[float]:
        """:meth:`sector_evidence` of one text's terms, summed in the same order.

        Only the weights that speak are added (:attr:`term_speaks`): where the product adds a term's
        0.0, the sum stays the same, so the sums are the product's.
        """
        return self._summed(self.term_speaks, terms)

    def evidence(self, hits: TermHits, row: int, sector: int) -> list[str]:
        """The keywords of ``sector`` found in ``row``, as written in ``sectors.yaml``."""
        return self.evidence_terms(hits.matrix.indices[hits.matrix.indptr[row] : hits.matrix.indptr[row + 1]], sector)

    def evidence_terms(self, terms, sector: int) -> list[str]:
        """The words among ``terms`` (term ids) that speak for ``sector``, the heaviest first.

        A word is shown as written in ``sectors.yaml`` when it is a keyword, else as the
        training text most often wrote it.
        """
        weights = self.speaking[sector]
        speaking = [t for t in (terms if type(terms) is list else map(int, terms)) if t in weights]
        covered = self.covered_by
        inside = {w for t in speaking if t in covered for w in covered[t]}  # said by a longer term shown
        found = sorted([(-weights[t], t) for t in speaking if t not in inside])
        display = self.term_display
        return [display[t] for _, t in found]

    # -- One text at a time: the same terms and weights as hits() and sector_scores() ---------------

    def row_terms(self, text: str) -> list[int]:
        """Ids of the terms found in one text, ascending: row ``i`` of ``hits(texts)`` for ``texts[i] == text``.

        Tokens are cut exactly where Arrow's ``ascii_split_whitespace`` cuts them, and numbered
        like :meth:`_token_stream` numbers them, so phrases match the same consecutive words.
        """
        tokens = _ASCII_SPACE.split(text)
        info = self.token_info(tokens)
        # The tokens holding a keyword word (few): a token takes one position per word it holds, any
        # other token (no keyword word, or negated) one.
        live = [(k, parts) for k, (parts, _) in enumerate(info) if parts != _NO_WORD]
        if live and not self._cue_tokens.isdisjoint(tokens):
            flags = np.array([flags for _, flags in info], dtype=np.uint8)
            negated = negated_tokens(flags, np.zeros(len(info), dtype=np.int64)).tolist()
            live = [(k, parts) for k, parts in live if not negated[k]]
        ids = [w for _, parts in live for w in parts]  # word ids, in text order
        if len(ids) == len(live):  # one known word per token (the usual case): its position is the token's
            positions = [k for k, _ in live]
        else:
            positions, ids = [], []
            extra = 0  # positions taken by the words of earlier tokens beyond their first
            for k, parts in live:
                for j, w in enumerate(parts):
                    if w >= 0:
                        positions.append(k + extra + j)
                        ids.append(w)
                extra += len(parts) - 1
        word_term = self.word_term_list
        found = {word_term[w] for w in ids}
        found.discard(-1)
        lengths = self.phrase_lengths
        for at in [at for at, first in enumerate(ids) if first in lengths]:  # the words that may open a phrase
            for n in lengths[ids[at]]:
                if at + n <= len(ids) and positions[at + n - 1] - positions[at] == n - 1:  # n consecutive positions
                    term = self.phrase_terms.get(tuple(ids[at : at + n]))
                    if term is not None:
                        found.add(term)
        return sorted(found)

    def row_scores(self, terms: list[int]) -> list[float]:
        """Evidence weight per sector of one text's terms, summed in term order as the sparse product sums.

        Plain Python, like :meth:`row_evidence`: only the weights other than 0 are added (adding 0.0 leaves a
        sum as it is). Taking the terms' rows of the numpy matrix and summing them costs about as much on
        one thread, but numpy lets go of the GIL while it copies them, and in a server's worker whose other
        threads are waiting for it, each such call hands the GIL over (a context switch) and back.
        """
        return self._summed(self.term_weights, terms)

    def token_ids(self, tokens: list[str]) -> list[tuple[int, ...]]:
        """Stem-ids of each raw token as :meth:`_token_stream` sees it; ``(-1,)`` when it holds no keyword word."""
        return [ids for ids, _ in self.token_info(tokens)]

    def token_info(self, tokens: list[str]) -> list[tuple[tuple[int, ...], int]]:
        """Stem-ids and negation flags of each raw token, as :meth:`_token_stream` sees it.

        A token is looked at once: new tokens go through :meth:`_may_match` and
        :meth:`_token_flags` (Arrow, all of a call's new tokens at once) and :meth:`_word_ids`,
        and the outcome is cached.
        """
        cache = self._token_cache
        infos = list(map(cache.get, tokens))
        if None not in infos:  # every token seen before (the usual case)
            return infos
        new = [t for t, info in zip(tokens, infos, strict=True) if info is None]
        learned = self._learn_tokens(list(dict.fromkeys(new)))
        return [learned[t] if info is None else info for t, info in zip(tokens, infos, strict=True)]

    def _learn_tokens(self, tokens: list[str]) -> dict[str, tuple[tuple[int, ...], int]]:
        """Word ids and flags of new distinct tokens, through the batch path's filter; added to the cache."""
        array = pa.array(tokens, pa.string())
        key = self._token_key(array)
        may = self._may_match(array, key)
        flags = self._token_flags(array, key).tolist()
        candidates = [t for t, m in zip(tokens, may, strict=True) if m]
        ids = dict(zip(candidates, self._word_ids(candidates), strict=True))
        learned = {t: (ids.get(t, _NO_WORD), f) for t, f in zip(tokens, flags, strict=True)}
        if len(self._token_cache) > _CACHE_LIMIT:
            self._token_cache.clear()
            self._cue_tokens.clear()
        self._token_cache.update(learned)
        self._cue_tokens.update(t for t, (_, f) in learned.items() if f & _CUE)
        return learned

    def evidence_column(
        self, hits: TermHits, rows: NDArray[np.int64], sectors: NDArray[np.int64], n_rows: int, limit: int = 3
    ) -> pa.Array:
        """For each row in ``rows``, up to ``limit`` keywords of its sector, joined with ", " (a term that a
        longer term found holds is left to that one, as :meth:`evidence_terms` does)."""
        matrix = hits.matrix
        target = np.full(n_rows, -1, dtype=np.int64)
        target[rows] = sectors
        row_of = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
        terms = matrix.indices
        keep = target[row_of] >= 0
        weight = np.zeros(len(terms))
        weight[keep] = self.dense_weights[terms[keep], target[row_of[keep]]]
        keep &= weight > 0
        row_of, terms, weight = row_of[keep], terms[keep], weight[keep]
        if self.cover.nnz and len(terms):  # what speaks for the sector, less what a longer such term holds
            shown = sparse.csr_matrix((np.ones(len(terms)), (row_of, terms)), shape=(n_rows, len(self.terms)))
            inside = (shown @ self.cover).multiply(shown).tocoo()
            if inside.nnz:
                drop = np.isin(
                    row_of * len(self.terms) + terms, inside.row.astype(np.int64) * len(self.terms) + inside.col
                )
                row_of, terms, weight = row_of[~drop], terms[~drop], weight[~drop]
        order = np.lexsort((terms, -weight, row_of))  # per row, the heaviest first (as evidence_terms)
        row_of, terms = row_of[order], terms[order]
        starts = np.searchsorted(row_of, np.arange(n_rows))
        rank = np.arange(len(row_of)) - starts[row_of]
        row_of, terms = row_of[rank < limit], terms[rank < limit]
        offsets = np.searchsorted(row_of, np.arange(n_rows + 1)).astype(np.int32)
        words = self._display_array.take(pa.array(terms))
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), words), ", ")
