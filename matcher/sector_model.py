"""The learned sector classifier: a linear model over stemmed words and word pairs, shipped as data.

``tools/train_sector_model.py`` trains it offline (scikit-learn, deterministic) on labelled text
the package ships: the official classification titles (OKVED 2 in Russian, NACE Rev. 2 in English
with Eurostat's "includes" notes, VSIC 2007 in Vietnamese, each labelled through the code prefixes
of ``sectors.yaml``), the keywords of ``sectors.yaml`` and the hand-written phrases of
``matcher/data/sector_phrases.csv``. It writes ``matcher/data/sector_model.json``: the terms
(stems, or two stems joined by a space), per term its weight for each sector, and one intercept
per sector. :class:`matcher.text.SectorVocabulary` reads that file without scikit-learn; a
text's score for a sector is the sum of the weights of the terms found in it plus the
intercept, so every decision can list the words that drove it.

Features are whole tokens: a raw token is cut and stemmed by :func:`matcher.text.normalize_words`
(so "Software/Hardware" gives two stems) and pairs are consecutive stems of one text.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from .config import LANGS, Config
from .model_file import MODEL_FILE, MODEL_FORMAT, PHRASES_FILE, load_model, training_fingerprint  # noqa: F401

_ASCII_SPACE = re.compile(r"[ \t\n\x0b\x0c\r]+")
_STOP_STEMS: frozenset[str] | None = None
_PAIR_ONLY_STEMS: frozenset[str] = frozenset()
_BOILERPLATE: dict[int, frozenset[tuple[str, ...]]] = {}


#: Function words: they take a position in the text but are no evidence (as stems).
STOP_WORDS = frozenset(
    """
a the and or of for in on to with by at from as is are be was were we our us their them this that these
those which who other such not no nor into via per all any each own
и в во на с со по для из к ко о об от до за или а но что как это мы наш наша наше наши его ее их также
прочие прочих прочий прочее других другие друг при под над без же ли то так все всех который которые
у через после между сам сами свой своя свое свои собственный собственная собственное
và của các cho với trong là có được những một này đó để từ theo khác hoặc như tại bằng về do ra vào
""".split()
) | frozenset(
    """
company companies firm corporation ltd llc jsc inc co year years vietnam vietnamese hanoi russia russian moscow
staff employees employee employ people team partner partners headquarters headquartered founded established
leading leader local plan plans planned planning expect expects currently today million billion usd will next
across hire hiring group groups
компания компании ооо ао пао год года лет вьетнам вьетнамский вьетнамская ханой россия российский российская
москва сотрудник сотрудников персонал партнер партнеры команда представительство филиал лидер ведущий
основана основан свыше около более планирует планируем планировать млн млрд долларов местный местных местного
группа группы
năm nga tỷ triệu trên chuyên sẽ
""".split()
)

#: Generic words that say nothing about a sector alone but do inside a pair ("customer" but "customs
#: clearance", "market" but "stock market", "city" but "smart city", the pronoun "it" but "IT services"):
#: no feature of their own, their pairs stay. Vietnamese syllables of the boilerplate below are here too,
#: so "công" of "công ty" never counts while "công nghệ" does. English function words that are also
#: Vietnamese syllables are here rather than stop words: "than" (coal: "khai thác than", "than đá"),
#: "an" (safe: "an ninh mạng", "an toàn").
PAIR_ONLY_WORDS = frozenset(
    """
customer customers client clients market markets office offices city cities project projects invest investment
an than
open provider provides provide services service it its serve serves serving
клиент клиенты рынок рынке рынка офис город проект проекты инвестиции инвестировать работы работаем предприятие
открыть откроет открывает
услуги
công ty chúng tôi nhân viên khách hàng thị trường văn phòng đối tác việt nam hà nội dự kiến kế hoạch tập đoàn
doanh nghiệp thành lập phố đầu tư mở rộng
""".split()
)

#: Boilerplate of several words (Vietnamese words are several syllables): every word of such a run is
#: blanked, so no single or pair of it is evidence; its syllables stay evidence elsewhere in pairs.
BOILERPLATE_PHRASES = (
    "công ty",
    "chúng tôi",
    "nhân viên",
    "khách hàng",
    "thị trường",
    "văn phòng",
    "đối tác",
    "việt nam",
    "hà nội",
    "dự kiến",
    "kế hoạch",
    "tập đoàn",
    "doanh nghiệp",
    "thành lập",
    "thành phố",
    "đầu tư",
    "mở rộng",
    "hàng đầu",
    "người lao động",
    "hồ chí minh",
    "liên bang nga",
    "viet nam",
    "ho chi minh",
    # the local-training commitment every investor names: no evidence for education
    "đào tạo nhân viên",
    "đào tạo nhân lực",
    "đào tạo người lao động",
    "đào tạo lao động địa phương",
    "обучение персонала",
    "обучать персонал",
    "обучение местных кадров",
    "обучать местных",
    "обучим местных",
    "train local staff",
    "train local",
    "training local",
    "staff training",
)


def analyze(text: str, phrases: frozenset[str] = frozenset(), singles: bool = True) -> list[str]:
    """Stems, consecutive stem pairs and longer listed ``phrases`` of one text, as the matcher finds them.

    A token with no word (a number) takes a position, so no pair spans it. ``phrases`` are
    keyword terms of three words or more (stems joined by spaces). ``singles=False``: pairs and
    phrases only.

    Examples
    --------
    >>> analyze("Производство компьютеров")
    ['производств', 'компьютер', 'производств компьютер']
    """
    from .text import normalize_words

    global _STOP_STEMS, _PAIR_ONLY_STEMS, _BOILERPLATE
    if _STOP_STEMS is None:
        _STOP_STEMS, _PAIR_ONLY_STEMS, _BOILERPLATE = _stop_stems()
    stems: list[str | None] = []
    for token in _ASCII_SPACE.split(text):
        parts = normalize_words(token)
        stems.extend(parts if parts else [None])
    _blank_boilerplate(stems, _BOILERPLATE)  # before the stop words, so a run may hold one
    stems = [None if s in _STOP_STEMS else s for s in stems]
    alone = [s for s in stems if s and s not in _PAIR_ONLY_STEMS] if singles else []
    pairs = [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False) if a and b]
    longer = []
    for n in sorted({p.count(" ") + 1 for p in phrases}):
        for i in range(len(stems) - n + 1):
            window = stems[i : i + n]
            if all(window) and " ".join(window) in phrases:
                longer.append(" ".join(window))
    return alone + pairs + longer


def _example_terms(example: Example, phrases: frozenset[str]) -> list[str]:
    """:func:`analyze` of a training example (its text, with or without single words)."""
    return analyze(example.text, phrases, example.singles)


def _blank_boilerplate(stems: list[str | None], runs: dict[int, frozenset[tuple[str, ...]]]) -> None:
    """Set every stem of a boilerplate run (``runs``: length -> stem tuples) to None, in place."""
    for n, known in runs.items():
        for i in range(len(stems) - n + 1):
            if tuple(stems[i : i + n]) in known:
                stems[i : i + n] = [None] * n


def _stop_stems() -> tuple[frozenset[str], frozenset[str], dict[int, frozenset[tuple[str, ...]]]]:
    """Stop stems, pair-only stems, and boilerplate runs by length (longest first), as stems."""
    from .text import normalize_words

    def stems(words: Iterable[str]) -> frozenset[str]:
        return frozenset(p for w in words for p in normalize_words(w))

    runs: dict[int, set[tuple[str, ...]]] = {}
    for phrase in {*BOILERPLATE_PHRASES, *map(without_marks, BOILERPLATE_PHRASES)}:  # "cong ty" as "công ty"
        run = tuple(p for w in phrase.split() for p in normalize_words(w))  # stop words included
        runs.setdefault(len(run), set()).add(run)
    return (stems(STOP_WORDS), stems(PAIR_ONLY_WORDS), {n: frozenset(runs[n]) for n in sorted(runs, reverse=True)})


def keyword_terms(config: Config) -> frozenset[str]:
    """Every keyword of ``sectors.yaml`` as a term (stems joined by spaces)."""
    from .text import SectorVocabulary

    return frozenset(
        SectorVocabulary._term(kw) for s in config.sectors for lang in LANGS for kw in s.keywords.get(lang, ())
    )


def keyword_phrases(config: Config) -> frozenset[str]:
    """The keyword terms of three words or more: features of their own, as the matcher finds them."""
    from .text import SectorVocabulary

    terms = (SectorVocabulary._term(kw) for s in config.sectors for lang in LANGS for kw in s.keywords.get(lang, ()))
    return frozenset(t for t in terms if t.count(" ") >= 2)


@dataclass(frozen=True)
class Example:
    """One labelled training text."""

    lang: str
    text: str
    sector: str
    origin: str  # "classification", "keyword" or "phrase"
    group: str = ""  # classification rows: system and class, held out together in cross-validation
    singles: bool = True  # False: only its word pairs and phrases are features (text without marks)


def read_phrases() -> list[Example]:
    """The hand-written training phrases shipped in ``matcher/data/sector_phrases.csv``."""
    path = resources.files(__package__).joinpath("data", PHRASES_FILE)
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return [Example(r["lang"], r["text"], r["sector"], "phrase") for r in rows]


def training_examples(config: Config) -> list[Example]:
    """Every labelled text the model learns from: classification rows, keywords, phrases."""
    from .classifications import labelled_classes

    out = []
    for row in labelled_classes(config):
        if row.sector is None:
            continue
        group = f"{row.system}:{row.code.replace('.', '')[:4]}"  # a class with its subclasses and types
        out.append(Example(row.lang, row.title, row.sector, "classification", group))
        if row.notes:
            out.append(Example(row.lang, row.text, row.sector, "classification", group))
    for sector in config.sectors:
        for lang in LANGS:
            for kw in sector.keywords.get(lang, ()):
                out.append(Example(lang, kw, sector.id, "keyword"))
    out.extend(e for e in read_phrases() if e.sector in config.sector_ids)
    return out + unmarked_copies(out)


def without_marks(text: str) -> str:
    """Vietnamese as it is often typed, without its tone and vowel marks (đ as d).

    Examples
    --------
    >>> without_marks("Nhà máy tái chế nhựa, Đà Nẵng")
    'Nha may tai che nhua, Da Nang'
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def unmarked_copies(examples: list[Example]) -> list[Example]:
    """Each Vietnamese example once more without its marks, so that a description typed without them
    ("nha may tai che nhua") finds the same sector (in the same cross-validation group).

    Only their word pairs and phrases count: a syllable without its marks is often an English word
    ("day" for "dạy", teach, and "dây", wire), a pair of them seldom is.
    """
    out = []
    for e in examples:
        plain = without_marks(e.text) if e.lang == "vi" else e.text
        if plain != e.text:
            out.append(Example(e.lang, plain, e.sector, e.origin, e.group, singles=False))
    return out


#: Terms weighing less than this for every sector are not shipped.
MIN_TERM_WEIGHT = 0.2
#: How much one example of each origin counts: descriptions look like phrases more than titles.
ORIGIN_WEIGHT = {"classification": 1.0, "keyword": 4.0, "phrase": 4.0}


def make_estimator(c: float = 4.0):
    """The linear classifier (scikit-learn, imported here only)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, class_weight="balanced")


def fit(examples: list[Example], sector_ids: Iterable[str], c: float = 4.0, phrases: frozenset[str] = frozenset()):
    """Fit vectorizer and classifier; returns ``(terms, coef (sectors x terms), intercepts, classes)``."""
    from functools import partial

    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=partial(_example_terms, phrases=phrases), binary=True, min_df=1)
    x = vectorizer.fit_transform(examples)
    y = [e.sector for e in examples]
    weight = [ORIGIN_WEIGHT[e.origin] for e in examples]
    model = make_estimator(c).fit(x, y, sample_weight=weight)
    return list(vectorizer.get_feature_names_out()), model.coef_, model.intercept_, list(model.classes_)


def display_forms(examples: Iterable[Example]) -> dict[str, str]:
    """Per stem, the word it was most often written as in the training text (shown as evidence)."""
    from collections import Counter

    from .text import _PUNCT, normalize_words

    seen: dict[str, Counter] = {}
    for e in examples:
        for token in _ASCII_SPACE.split(e.text):
            parts = normalize_words(token)
            if len(parts) == 1:
                seen.setdefault(parts[0], Counter())[token.strip(_PUNCT).casefold()] += 1
    return {stem: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for stem, c in seen.items()}


def to_json(
    terms,
    coef,
    intercept,
    classes,
    sector_ids,
    display: dict[str, str] | None = None,
    min_weight: float = 0.05,
    min_term_weight: float = MIN_TERM_WEIGHT,
    keep: frozenset[str] = frozenset(),
) -> dict:
    """The shipped form: per term its (sector, weight) pairs with |weight| >= ``min_weight``.

    A term whose largest weight is below ``min_term_weight`` is left out: it hardly moves a
    decision, and every word less is a word the matcher need not look for. Terms in ``keep``
    (the keywords of ``sectors.yaml``) stay whenever they weigh for some sector.
    """
    ids = list(sector_ids)
    column = {c: i for i, c in enumerate(classes)}
    rows_terms, weights = [], []
    for t, term in enumerate(terms):
        pairs = [
            [ids.index(c), round(float(coef[column[c], t]), 4)]
            for c in classes
            if abs(coef[column[c], t]) >= min_weight
        ]
        if any(w >= (0.0 if term in keep else min_term_weight) and w > 0 for _, w in pairs):
            rows_terms.append(term)
            weights.append(pairs)
    intercepts = [round(float(intercept[column[s]]), 4) if s in column else -10.0 for s in ids]
    display = display or {}
    shown = [" ".join(display.get(w, w) for w in term.split()) for term in rows_terms]
    return {
        "format": MODEL_FORMAT,
        "sectors": ids,
        "terms": rows_terms,
        "display": shown,
        "weights": weights,
        "intercepts": intercepts,
    }


def cross_validate(
    examples: list[Example],
    sector_ids: Iterable[str],
    c: float = 4.0,
    folds: int = 5,
    phrases: frozenset[str] = frozenset(),
) -> dict:
    """Held-out accuracy on the classification titles per language.

    The classification examples are cut into ``folds`` folds by class (a class, its subclasses
    and types, and the same text with notes, are held out together, so no near-copy of a
    held-out title is learned); each fold is scored by a model fitted on everything else
    (other titles, keywords, phrases). Returns language -> share right.
    """
    import numpy as np

    groups = sorted({e.group for e in examples if e.origin == "classification"})
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    right: dict[str, list[bool]] = {}
    for k in range(folds):
        held = {i for i, e in enumerate(examples) if e.origin == "classification" and fold_of[e.group] == k}
        train = [e for i, e in enumerate(examples) if i not in held]
        terms, coef, intercept, classes = fit(train, sector_ids, c=c, phrases=phrases)
        index = {t: i for i, t in enumerate(terms)}
        for i in sorted(held):
            e = examples[i]
            cols = [index[t] for t in set(_example_terms(e, phrases)) if t in index]
            scores = coef[:, cols].sum(axis=1) + intercept
            right.setdefault(e.lang, []).append(classes[int(np.argmax(scores))] == e.sector)
    return {lang: round(sum(v) / len(v), 4) for lang, v in sorted(right.items())}
