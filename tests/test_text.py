"""Tests for matcher/text.py: finding each sector's keywords in EN/RU/VI text."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.sectors import softmax
from matcher.text import normalize_words, split_tokens


@pytest.fixture(scope="module")
def vocabulary(scorer):
    return scorer.detector_.vocabulary


def found(vocabulary, texts):
    """Per text, the set of keywords (as written in sectors.yaml) found in it."""
    hits = vocabulary.hits(pa.array(texts, pa.string()))
    matrix = hits.matrix
    return [
        {vocabulary.term_display[t] for t in matrix.indices[matrix.indptr[r] : matrix.indptr[r + 1]]}
        for r in range(len(texts))
    ]


def sector_of(vocabulary, config, text):
    """The sector the text alone gives, or None (no word found, or below the confidence threshold)."""
    hits = vocabulary.hits(pa.array([text]))
    if not hits.matrix.nnz:
        return None
    probs = softmax(vocabulary.sector_scores(hits) + vocabulary.intercepts)[0]
    best = probs.argmax()
    return config.sector_ids[best] if probs[best] >= config.min_confidence else None


def best_of(vocabulary, config, text):
    """The sector the text's words weigh most for (whatever the confidence), or None (no word found)."""
    hits = vocabulary.hits(pa.array([text]))
    if not hits.matrix.nnz:
        return None
    return config.sector_ids[(vocabulary.sector_scores(hits) + vocabulary.intercepts)[0].argmax()]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("Электроники,", ["электроник"]),
        ("ЭЛЕКТРОНИКА", ["электроник"]),
        ("Software/Hardware,", ["softwar", "hardwar"]),
        ("ёлка", normalize_words("елка")),  # ё is read as е
        ("2024", []),
    ],
)
def test_normalize_words(token, expected):
    assert normalize_words(token) == expected


@pytest.mark.parametrize(
    "group",
    [
        ("уран", "урана", "урановый", "урановых"),
        ("урал", "урала", "урале", "Уралом"),
        ("асеан", "АСЕАН"),
        ("атом", "атома", "атомом"),
    ],
)
def test_short_roots_are_not_stemmed_into_each_other(group):
    # Snowball cuts "урал" and "уран" to the same "ур" (a firm "on the Urals" read as nuclear), "АСЕАН"
    # to the "ас" of "АСУ" (automation): the forms of each word keep one stem, the words different ones.
    stems = {tuple(normalize_words(word)) for word in group}
    assert len(stems) == 1
    others = {"уран", "урал", "асеан", "атом", "асу", "ура"} - {group[0]}
    assert not stems & {tuple(normalize_words(word)) for word in others}


def test_every_keyword_finds_its_own_sector(vocabulary, config):
    # Each keyword of sectors.yaml, written alone as a description, must count as evidence for
    # the sector that lists it (its words weigh for that sector).
    keywords = [
        (i, s.id, kw) for i, s in enumerate(config.sectors) for lang in ("en", "ru", "vi") for kw in s.keywords[lang]
    ]
    scores = vocabulary.sector_scores(vocabulary.hits(pa.array([kw for _, _, kw in keywords])))
    not_found = [(sid, kw) for row, (i, sid, kw) in enumerate(keywords) if scores[row, i] <= 0]
    assert not_found == []


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        # Russian inflections of listed words: cases, numbers, adjective agreement
        ("разработка программного обеспечения", "программное обеспечение"),
        ("с программным обеспечением", "программное обеспечение"),
        ("производство микросхем", "микросхема"),
        ("поставки полупроводников", "полупроводник"),
        ("десятки промышленных роботов", "промышленный робот"),
        ("в области кибербезопасности", "кибербезопасность"),
        ("строительство гостиниц", "гостиница"),
        ("сеть ресторанов", "ресторан"),
        ("ЭЛЕКТРОНИКИ", "электроника"),
        # English plural and -ing forms
        ("we sell sensors", "sensor"),
        ("industrial robots", "industrial robot"),
        # Vietnamese, any case, and in decomposed Unicode (NFD, as macOS and some forms send it)
        ("TRÍ TUỆ NHÂN TẠO", "trí tuệ nhân tạo"),
        (unicodedata.normalize("NFD", "Công ty phát triển trí tuệ nhân tạo"), "trí tuệ nhân tạo"),
        (unicodedata.normalize("NFD", "Chuỗi khách sạn"), "khách sạn"),
        # Russian with ё, and hyphenated words
        ("трёхмерные печатные платы", "печатная плата"),
        ("Занимаемся веб-разработкой", "веб-разработка"),
    ],
)
def test_inflected_forms_match(vocabulary, text, keyword):
    assert keyword in found(vocabulary, [text])[0]


def test_phrase_words_must_be_adjacent(vocabulary):
    assert "artificial intelligence" in found(vocabulary, ["artificial intelligence"])[0]
    assert "artificial intelligence" not in found(vocabulary, ["artificial and intelligence"])[0]
    assert "artificial intelligence" not in found(vocabulary, ["artificial big intelligence"])[0]
    assert "trí tuệ nhân tạo" not in found(vocabulary, ["trí tuệ và nhân tạo"])[0]


def test_phrase_does_not_cross_rows(vocabulary):
    rows = found(vocabulary, ["we do artificial", "intelligence is our trade", "artificial intelligence"])
    assert "artificial intelligence" not in rows[0] | rows[1]
    assert "artificial intelligence" in rows[2]


def test_rows_are_independent_and_nulls_allowed(vocabulary):
    texts = ["Hotel chain", None, "", "Phát triển phần mềm", "программное обеспечение"]
    batch = found(vocabulary, texts)
    alone = [found(vocabulary, [t])[0] for t in texts]
    assert batch == alone
    assert batch[1] == set() and batch[2] == set()
    assert "hotel" in batch[0]
    assert "phát triển phần mềm" in batch[3]


def test_repeated_calls_give_the_same_hits(vocabulary):
    # the token cache must not change results
    first = found(vocabulary, ["Кибербезопасность и защита информации"])
    second = found(vocabulary, ["Кибербезопасность и защита информации"])
    assert first == second
    # the keywords, and their words on their own (the learned model weighs each); "и" is no evidence
    assert first == [{"кибербезопасность", "защита информации", "защиты", "информации"}]


def test_punctuation_around_words(vocabulary):
    assert "software" in found(vocabulary, ["(software),"])[0]
    assert "программное обеспечение" in found(vocabulary, ["«Программное обеспечение»."])[0]


@pytest.mark.parametrize(
    ("text", "sector"),
    [
        ("semiconductor wafer fab", "electronics"),
        ("биореактор и штамм", "biotech"),
        ("năng lượng mặt trời", "clean_energy"),
        ("We make nice things", None),
    ],
)
def test_text_scores_pick_the_sector(vocabulary, config, text, sector):
    assert sector_of(vocabulary, config, text) == sector


def test_evidence_lists_keywords_of_one_sector(vocabulary, config):
    hits = vocabulary.hits(pa.array(["hotel with software for bookings"]))
    software = config.sector_ids.index("software")
    hospitality = config.sector_ids.index("hospitality")
    assert vocabulary.evidence(hits, 0, software) == ["software"]
    assert vocabulary.evidence(hits, 0, hospitality) == ["hotel"]


def test_every_keyword_alone_selects_its_own_sector(vocabulary, config):
    # A keyword written alone must make its own sector the best match, unless another sector
    # lists the very same words (then the tier decides). A phrase such as "smart transport" must
    # not lose to a shorter keyword inside it ("transport", logistics), nor "hospitality" to
    # "hospital" because both stem to "hospit".
    owners = {}
    for s in config.sectors:
        for lang in ("en", "ru", "vi"):
            for kw in s.keywords[lang]:
                owners.setdefault(vocabulary._term(kw), set()).add(s.id)
    wrong = []
    for s in config.sectors:
        for lang in ("en", "ru", "vi"):
            for kw in s.keywords[lang]:
                if len(owners[vocabulary._term(kw)]) > 1:
                    continue
                got = best_of(vocabulary, config, kw)
                if got != s.id:
                    wrong.append((kw, s.id, got))
    assert wrong == []


_TEXTS = st.lists(st.none() | st.text(st.sampled_from("ab \t\n\r\x0b\x0c\u00a0\u3000é,"), max_size=12), max_size=8)


@given(_TEXTS, st.integers(0, 3))
def test_split_tokens_cuts_where_arrow_does(texts, start):
    """Stripped of their trailing whitespace, the tokens are Arrow's, row by row, in order (slices too)."""
    array = pa.array(texts, pa.string())[start:]
    tokens, rows = split_tokens(array)
    stripped = pc.ascii_rtrim(tokens, " \t\n\x0b\x0c\r").to_pylist()
    for row, words in enumerate(pc.ascii_split_whitespace(array).to_pylist()):
        mine = [t for t, r in zip(stripped, rows, strict=True) if r == row]
        expected = list(words or [])
        if expected and expected[-1] == "":  # Arrow's empty token after trailing whitespace
            expected.pop()
        assert mine == expected, (array[row], mine, expected)
    assert list(rows) == sorted(rows)
    assert "".join(tokens.to_pylist()) == "".join(t or "" for t in array.to_pylist())


_NUMBERED = st.text(st.sampled_from("0159aiIZ5gGc1_.,-(\"'/ф"), max_size=8)


@pytest.mark.parametrize(
    ("token", "numbered"),
    [
        ("58960.", True),
        ("Firm36528", True),
        ("(2009),", True),
        ("5G,", False),  # starts like the stem "5g"
        ("firm", False),
        ("_12", False),  # "_" is a word character
        ("a1-b2", False),  # two runs: the slow path decides
        ("Ф5", False),
        ("", False),
    ],
)
def test_numbered_tokens(vocabulary, token, numbered):
    assert vocabulary._numbered(pa.array([token]))[0] == numbered


@given(st.lists(_NUMBERED, max_size=12), st.integers(0, 2))
def test_numbered_tokens_hold_no_word_and_no_cue(vocabulary, tokens, start):
    """A token the byte filter sets aside is one the Arrow filters and the stemmer find no word in."""
    array = pa.array(tokens, pa.string())[start:]
    numbered = vocabulary._numbered(array)
    key = vocabulary._token_key(array)
    may = vocabulary._may_match(array, key)
    cue = pc.fill_null(pc.is_in(key, value_set=pa.array(["not", "no", "не", "нет"])), False).to_pylist()
    for token, aside, kept, is_cue in zip(array.to_pylist(), numbered, may, cue, strict=True):
        if aside:
            assert not kept or vocabulary._word_ids([token]) == [(-1,)], token
            assert not is_cue, token


def test_letter_digit_finds_what_the_unicode_regex_finds():
    """The chunk path's letter-next-to-digit check (done in Python: Arrow compiles a ``\\pL`` regex on every
    call, ~1 ms) agrees with the regex on letters and digits of every kind, marks and punctuation."""
    import random

    from matcher.text import _letter_digit

    rng = random.Random(1)
    alphabet = "ab1 9Щя中ⅷ٣²ǅ_-.xyz0ё\u0301ʰ"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(20000)]
    values += ["5g", "1с", "Firm2337", "58960.", "x²", "٣a", "a\u03011"]
    array = pa.array(values)
    expected = pc.fill_null(pc.match_substring_regex(array, r"\pL\d|\d\pL"), False).to_numpy(zero_copy_only=False)
    assert _letter_digit(array).tolist() == expected.tolist()
    assert expected.sum() > 1000  # the sample holds many of both kinds


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("organisation of trade fairs", "organization of trade fairs"),
        ("data centre colocation", "data center colocation"),
        ("tyres and aluminium wheels", "tires and aluminum wheels"),
        ("digitalisation of utilities", "digitalization of utilities"),
        ("paediatric clinic", "pediatric clinic"),
    ],
)
def test_british_spellings_read_as_american_ones(british, american):
    # Snowball stems them apart ("centre" -> "centr", "center" -> "center"): a British text missed the words.
    assert [normalize_words(w) for w in british.split()] == [normalize_words(w) for w in american.split()]


def test_words_that_only_look_british_stay_as_they_are():
    assert [normalize_words(w)[0] for w in ("advertise", "expertise", "enterprise", "franchise")] == [
        "advertis",
        "expertis",
        "enterpris",
        "franchis",
    ]
