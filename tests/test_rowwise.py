"""The row-wise path for small batches gives exactly the results of the vectorised path.

:func:`matcher.result.assess_rowwise` (plain Python per profile) and
:func:`matcher.result.assess_vectorised` (Arrow and numpy over the batch) must agree on every
field of every :class:`ScoreResult` (floats bit for bit, explanation strings, improvements,
sector evidence) and on every :class:`InvalidValue` (field, value, reason).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matcher_testlib import SAMPLE_CSV, SECTORS_YAML, read_csv
from scipy import sparse

from matcher import InvalidValue, Scorer, ScoreResult, load_sectors
from matcher import result as result_module
from matcher.config import LANGS
from matcher.profile import row_cells, table_from_mappings
from matcher.result import SMALL_BATCH, assess_many, assess_rowwise, assess_vectorised
from matcher.text import TermHits
from matcher.weights import apply_weights, weights_of

_CONFIG = load_sectors(SECTORS_YAML)


def _sample_profiles():
    header, *rows = read_csv(SAMPLE_CSV)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _key(outcome):
    """What must be equal: the whole result, or the error's type, field, value, reason and message."""
    if isinstance(outcome, InvalidValue):
        return ("error", outcome.field, outcome.value, outcome.reason, str(outcome))
    return outcome


def assert_same(profiles, scorer, lang):
    rowwise = assess_rowwise(profiles, scorer, lang)
    vectorised = assess_vectorised(profiles, scorer, lang)
    assert len(rowwise) == len(vectorised) == len(profiles)
    for i, (a, b) in enumerate(zip(rowwise, vectorised, strict=True)):
        assert _key(a) == _key(b), f"profile {i}: {profiles[i]!r}"


# ---------------------------------------------------------------------------------------------
# Scorers: the project's weights and edited weights versions (as web/versions.py builds them)
# ---------------------------------------------------------------------------------------------
def _edited_config():
    weights = weights_of(_CONFIG)
    scaled = {
        f: {a: v * 0.7 for a, v in weights["answers"][f].items()}
        for f in ("tech_transfer", "training", "local_partner", "green")
    }
    return apply_weights(
        _CONFIG,
        {
            "criteria": {"sector_fit": 22.5, "green": 17, "tech_transfer": 9.3, "readiness": 13},
            "tiers": {t: round(w * 0.9, 3) for t, w in weights["tiers"].items()},
            "answers": scaled,
            "thresholds": {
                "investment_usd": [[0, 0.05], [123456.7, 0.33], [2_500_000, 0.61], [7e7, 1.0]],
                "employees": [[1, 0.2], [33, 0.45], [777, 0.9]],
            },
        },
    )


def _even_config():
    """Every criterion weighs the same (100/7 points each): many contributions round awkwardly."""
    return apply_weights(_CONFIG, {"criteria": {c.id: 1.0 for c in _CONFIG.criteria}})


SCORERS = {
    "default": Scorer(config=_CONFIG).fit(),
    "edited": Scorer(config=_edited_config()).fit(),
    "even": Scorer(config=_even_config()).fit(),
}


# ---------------------------------------------------------------------------------------------
# The 48 sample profiles
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_sample_profiles_one_by_one(lang):
    scorer = SCORERS["default"]
    for profile in _sample_profiles():
        assert_same([profile], scorer, lang)


@pytest.mark.parametrize("scorer_name", sorted(SCORERS))
@pytest.mark.parametrize("lang", LANGS)
def test_sample_profiles_as_one_batch(lang, scorer_name):
    profiles = _sample_profiles()
    assert len(profiles) == 48
    assert_same(profiles, SCORERS[scorer_name], lang)


def test_samples_cover_every_sector_source_and_errors():
    """The comparison above is only worth something if the samples reach every branch."""
    results = assess_rowwise(_sample_profiles(), SCORERS["default"], "en")
    sources = {e["source"] for r in results if not isinstance(r, InvalidValue) for e in r.sectors}
    assert {"okved", "declared", "description", "default"} <= sources
    assert any(r.improvements for r in results if not isinstance(r, InvalidValue))


# ---------------------------------------------------------------------------------------------
# Generated profiles
# ---------------------------------------------------------------------------------------------
def _keywords():
    words = {lang: [] for lang in LANGS}
    for sector in _CONFIG.sectors:
        for lang in LANGS:
            words[lang].extend(sector.keywords.get(lang, ()))
    return words


KEYWORDS = _keywords()
RU_ENDINGS = ("", "а", "ы", "ов", "ами", "ах", "е", "ой", "ого", "ому", "ую", "ные", "ных", "ия", "ий")
FILLER = (
    "Our company",
    "plans to open",
    "an office in Hanoi",
    "Наша компания",
    "планирует",
    "и также",
    "Công ty chúng tôi",
    "dự kiến mở",
    "văn phòng tại Hà Nội",
    "since 2009",
    "Firm 42",
    "ltd.",
    "—",
    "&",
)
NUMBERS = ("2009", "42", "3", "1.5", "3D", "x2")
INNER_NUMBERS = tuple(f"{s}{n}{t}" for s in " \u00a0" for n in NUMBERS for t in "\u00a0/-")
SEPARATORS = (" ", " ", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\u00a0", "\u3000", "\u2009", "\x1c", "")
PUNCT = ("", "", "", ",", ".", "!", "?", ";", ":", "(", ")", "«", "»", '"', "'", "/", "-", "—", "…", "🚀", "👍🏽")
COMMITMENT_WORDS = (
    "",
    " ",
    "committed",
    "Committed",
    " PLANNED ",
    "planned",
    "none",
    "yes",
    "no",
    "да",
    "Нет",
    "нет",
    "có",
    "không",
    "khong",
    "dự kiến",
    "cam kết",
    "có kế hoạch",
    "обязательство",
    "планируем",
    "maybe",
    "commit",
    "x",
    "✓",
    "-",
    "1",
    "0",
    "true",
    "False",
    "perhaps",
    "может быть",
    True,
    False,
    1,
    0,
    None,
)
YESNO_WORDS = ("", "yes", "no", "Да", "нет", "có", "không", "y", "n", "true", "0", "x", "maybe", "unknown", True)
PRESENCE_WORDS = (
    "",
    "none",
    "office",
    "Project",
    " project ",
    "офис",
    "представительство",
    "văn phòng",
    "dự án",
    "проект",
    "no",
    "0",
    "factory",
    "elsewhere",
)
MONEY = (
    "",
    "1.5m",
    "1 500 000",
    "1.000,5",
    "1,500,000",
    "2bn",
    "$3m",
    "USD 250000",
    "250000",
    "0",
    "12.75",
    "1.500.000",
    "1,5",
    "abc",
    "1..5",
    "1,2,3",
    "12 тыс",
    "5 triệu",
    "3 tỷ",
    " 42 ",
    "0.3bn",
    "50k",
    "50 K",
    "١٢٣",
    "123456789012345",
    "1234567890123456.5",
    "0.1",
    "00012",
    "1e5",
    "5 млн долл. США",
    "2 mln",
    "99999.999999999999999",
    "7 zillion",
    "1,000.5",
    "100 000,25",
    1500000,
    2.5e7,
    1e20,
    120.0,
    float("nan"),
)
COUNTS = (
    "",
    "120",
    "1 200",
    "1,5",
    "2k",
    "-5",
    "abc",
    "0",
    "1000000001",
    "1000000000",
    "0012",
    "49",
    "50",
    "999",
    "1000",
    "1.5k",
    250,
    250.0,
    3.5,
    "10 тыс",
)
CODES = (
    "",
    "62.01",
    "26.3",
    "28.99.5",
    "62.01;63.11",
    "62.01, 26.30",
    "99.99",
    "00.1",
    "abc",
    "62.01.",
    "47.11 55.10",
    "71.12.1",
    "24.46;71.12.1",
    "55.10",
    "52.10",
    "62",
    "6201",
    "35.11.4",
    ["62.01", "26.3"],
)
SECTOR_NAMES = tuple([s.id for s in _CONFIG.sectors] + [s.label[lang] for s in _CONFIG.sectors for lang in LANGS])


@st.composite
def words(draw):
    """One keyword, phrase or filler word, maybe inflected, re-cased and punctuated.

    The spaces inside a phrase may become other separators or take a number in between:
    "smart 2009\u00a0transport" is a phrase for Arrow (one token "2009\u00a0transport",
    whose digits are no word) but not for a tokeniser that also splits at U+00A0.
    """
    lang = draw(st.sampled_from(LANGS))
    word = draw(st.sampled_from(KEYWORDS[lang] + list(FILLER) + list(NUMBERS)))
    if lang == "ru" and draw(st.booleans()):
        word += draw(st.sampled_from(RU_ENDINGS))
    word = draw(st.sampled_from([str, str.upper, str.title, str.lower]))(word)
    if " " in word and draw(st.booleans()):
        inner = st.sampled_from(SEPARATORS + INNER_NUMBERS)
        word = "".join(part + (draw(inner) if i < word.count(" ") else "") for i, part in enumerate(word.split(" ")))
    return draw(st.sampled_from(PUNCT)) + word + draw(st.sampled_from(PUNCT))


@st.composite
def texts(draw, max_words=8):
    parts = draw(st.lists(st.tuples(words(), st.sampled_from(SEPARATORS)), max_size=max_words))
    return draw(st.sampled_from(SEPARATORS)) + "".join(w + s for w, s in parts)


def _declared():
    free = texts(max_words=2)
    return st.lists(st.one_of(st.sampled_from(SECTOR_NAMES), free), max_size=3).map(lambda items: ";".join(items))


FIELD_VALUES = {
    "id": st.sampled_from(["T-1", "", 7]),
    "name": st.sampled_from(
        ["ООО «Тест»", "Firm A", "Công ty X", " padded ", "", " ", "\u00a0", "\u3000\t", 123, None]
    ),
    "description": texts(),
    "okved": st.sampled_from(CODES),
    "sectors": _declared(),
    "investment_usd": st.one_of(
        st.sampled_from(MONEY), st.integers(0, 10**12).map(str), st.floats(0, 1e13, allow_nan=False)
    ),
    "employees": st.one_of(st.sampled_from(COUNTS), st.integers(0, 10**6)),
    "tech_transfer": st.sampled_from(COMMITMENT_WORDS),
    "training": st.sampled_from(COMMITMENT_WORDS),
    "local_partner": st.sampled_from(COMMITMENT_WORDS),
    "green": st.sampled_from(COMMITMENT_WORDS),
    "esg_report": st.sampled_from(YESNO_WORDS),
    "vietnam_presence": st.sampled_from(PRESENCE_WORDS),
    "website": st.just("https://x.example"),
    "contact_email": st.just("a@x.example"),
    "city": st.sampled_from(["Moscow", "Томск", ""]),
}
#: Other spellings of contract fields (aliases, case, spaces) and keys that are no field at all.
ODD_KEYS = {
    "Company": "name",
    "ОКВЭД": "okved",
    " Investment_USD ": "investment_usd",
    "Описание": "description",
    "e-mail": "contact_email",
    "notes": None,
}


@st.composite
def generated_profiles(draw):
    fields = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, max_size=len(FIELD_VALUES)))
    if draw(st.integers(0, 9)) > 0 and "name" not in fields:  # most profiles have a name
        fields.append("name")
    profile = {f: draw(FIELD_VALUES[f]) for f in fields}
    for key, field in ODD_KEYS.items():
        if draw(st.integers(0, 5)) == 0:
            profile[key] = draw(FIELD_VALUES[field]) if field else "free text"
    return profile


PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@PROPERTY
@given(
    batch=st.lists(generated_profiles(), min_size=1, max_size=6),
    lang=st.sampled_from(LANGS),
    scorer_name=st.sampled_from(sorted(SCORERS)),
)
def test_generated_profiles_agree(batch, lang, scorer_name):
    assert_same(batch, SCORERS[scorer_name], lang)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(description=texts(max_words=14), lang=st.sampled_from(LANGS))
def test_descriptions_alone_agree(description, lang):
    """Only a name and a description: every sector (and its evidence) comes from the text."""
    assert_same([{"name": "A", "description": description}], SCORERS["default"], lang)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.one_of(texts(max_words=10), st.text(max_size=30)), min_size=1, max_size=5))
def test_row_terms_are_the_batch_hits(batch):
    """One text at a time, the row path finds exactly the terms of its row in the batch hits."""
    vocabulary = SCORERS["default"].detector_.vocabulary
    hits = vocabulary.hits(pa.array(batch, pa.string()))
    scores = vocabulary.sector_scores(hits)
    evidence = vocabulary.sector_evidence(hits)
    for i, text in enumerate(batch):
        terms = vocabulary.row_terms(text)
        assert terms == hits.matrix.indices[hits.matrix.indptr[i] : hits.matrix.indptr[i + 1]].tolist(), text
        assert vocabulary.row_scores(terms) == scores[i].tolist()
        assert vocabulary.row_evidence(terms) == evidence[i].tolist()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_row_evidence_is_the_batch_evidence_for_any_terms(data):
    """The row path's evidence (only the weights that speak, added in term order) equals the matrix product's."""
    vocabulary = SCORERS["default"].detector_.vocabulary
    terms = sorted(data.draw(st.sets(st.integers(0, len(vocabulary.terms) - 1), max_size=40)))
    matrix = sparse.csr_matrix(
        (np.ones(len(terms)), (np.zeros(len(terms), dtype=np.int64), terms)), shape=(1, len(vocabulary.terms))
    )
    assert vocabulary.row_evidence(terms) == vocabulary.sector_evidence(TermHits(matrix)).tolist()[0]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_row_scores_are_the_batch_scores_for_any_terms(data):
    """The row path's scores (the weights other than 0, added in term order) equal the matrix product's, to
    the last bit: any set of terms, not only the ones a text can hold together."""
    vocabulary = SCORERS["default"].detector_.vocabulary
    terms = sorted(data.draw(st.sets(st.integers(0, len(vocabulary.terms) - 1), max_size=40)))
    matrix = sparse.csr_matrix(
        (np.ones(len(terms)), (np.zeros(len(terms), dtype=np.int64), terms)), shape=(1, len(vocabulary.terms))
    )
    assert vocabulary.row_scores(terms) == vocabulary.sector_scores(TermHits(matrix)).tolist()[0]


def test_a_number_inside_a_non_ascii_space_token_does_not_break_a_phrase():
    phrase = next(k for s in _CONFIG.sectors for k in s.keywords["en"] if k.count(" ") == 1)
    head, _, tail = phrase.partition(" ")
    text = f"{head} 2009\u00a0{tail}"
    vocabulary = SCORERS["default"].detector_.vocabulary
    assert vocabulary.row_terms(text) == vocabulary.hits(pa.array([text])).matrix.indices.tolist()
    assert_same([{"name": "A", "description": text}], SCORERS["default"], "en")


def test_a_phrase_split_between_description_and_free_sector_words_is_found():
    """The batch path joins description and free declared words with a space; so does the row path."""
    phrase = next(k for s in _CONFIG.sectors for k in s.keywords["en"] if " " in k)
    head, _, tail = phrase.partition(" ")
    profiles = [
        {"name": "A", "description": f"We do {head}", "sectors": tail},
        {"name": "B", "description": f"  {head}\u00a0{tail}  ", "sectors": ""},
    ]
    assert_same(profiles, SCORERS["default"], "en")
    assert any(e["source"] == "description" for e in assess_rowwise(profiles[:1], SCORERS["default"], "en")[0].sectors)


def test_the_first_bad_field_of_a_row_is_reported_like_the_batch_path():
    bad = {
        "name": "A",
        "okved": "00.1",
        "employees": "abc",
        "investment_usd": "1..5",
        "green": "perhaps",
        "esg_report": "maybe",
    }
    profiles = [bad, {"name": " "}, {"description": "no name"}, {**bad, "green": "yes"}, {"name": "ok"}]
    assert_same(profiles, SCORERS["default"], "en")
    first = assess_rowwise(profiles, SCORERS["default"], "en")
    assert [getattr(r, "field", None) for r in first] == ["green", "name", "name", "esg_report", None]


# ---------------------------------------------------------------------------------------------
# The pieces: cells, dispatch, to_dict
# ---------------------------------------------------------------------------------------------
@PROPERTY
@given(profile=generated_profiles())
def test_row_cells_are_the_cells_of_the_batch_table(profile):
    """The row path reads the very text the batch path puts into its Arrow table."""
    table, _ = table_from_mappings([profile])
    cells = row_cells(profile)
    assert set(cells) <= set(table.column_names)  # a table without columns still has "name" (null)
    assert {name: cells.get(name) for name in table.column_names} == table.to_pylist()[0]


def test_row_cells_keep_the_first_non_empty_spelling_and_clean_surrogates():
    profile = {"Company": None, "name": "First", "NAME": "Second", "description": "bad \ud800 text", "x": 2.5e7}
    table, _ = table_from_mappings([profile])
    assert row_cells(profile) == table.to_pylist()[0]
    assert row_cells(profile)["name"] == "First"


def test_assess_many_takes_the_row_path_for_small_batches_only(monkeypatch):
    calls = []
    monkeypatch.setattr(
        result_module, "assess_rowwise", lambda p, s, lang: calls.append(("rows", len(p))) or assess_rowwise(p, s, lang)
    )
    monkeypatch.setattr(
        result_module,
        "assess_vectorised",
        lambda p, s, lang: calls.append(("batch", len(p))) or assess_vectorised(p, s, lang),
    )
    small = _sample_profiles()[:3]
    many = (_sample_profiles() * (SMALL_BATCH // 48 + 1))[: SMALL_BATCH + 1]
    assert assess_many(iter(small), SCORERS["default"]) == assess_vectorised(small, SCORERS["default"], "en")
    assess_many(many, SCORERS["default"])
    assert calls == [("rows", 3), ("batch", SMALL_BATCH + 1)]


@pytest.mark.parametrize("lang", LANGS)
def test_to_dict_equals_asdict(lang):
    for result in assess_rowwise(_sample_profiles(), SCORERS["edited"], lang):
        if isinstance(result, InvalidValue):
            continue
        fast = result.to_dict()
        assert fast == dataclasses.asdict(result)
        assert list(fast) == [f.name for f in dataclasses.fields(result)]
        assert fast["sectors"] is not result.sectors and fast["sectors"][0] is not result.sectors[0]
        assert all(isinstance(c, dict) for c in fast["contributions"] + fast["improvements"])
        assert not any(isinstance(v, float) and math.isnan(v) for v in fast.values())


# ---------------------------------------------------------------------------------------------
# Stage by stage: each row kernel against its batch function on the same batch (read, detect,
# score, explain). The row kernels stay because a batch of one through the batch functions costs
# ~4 ms against ~0.1 ms (bench/bench_single.py --stages; docs/architecture.md, "One profile").
# ---------------------------------------------------------------------------------------------
def _stages(batch, scorer, lang):
    """The batch path's frame, scores and explanations, and the row path's reading of each profile."""
    from matcher.explain import worded_columns
    from matcher.frame import read_frame
    from matcher.rowwise import read_row

    table, _ = table_from_mappings(batch)
    frame = read_frame(table, scorer.detector_)
    scores = scorer.evaluate(frame)
    explanations = worded_columns(scorer, frame, scores, lang)["explanation"].to_pylist()
    return frame, scores, explanations, [read_row(p, scorer.detector_) for p in batch]


def _stage_batches():
    samples = _sample_profiles()
    return [samples[i : i + 6] for i in range(0, len(samples), 6)]


STAGE_CASES = [(name, batch) for name in sorted(SCORERS) for batch in _stage_batches()]


@pytest.mark.parametrize(("scorer_name", "batch"), STAGE_CASES)
def test_stage_read_row_is_read_frame(scorer_name, batch):
    """read: typed answers and numbers, codes, declared sectors and the first error of each row."""
    from matcher.config import ANSWER_INPUTS

    frame, _, _, rows = _stages(batch, SCORERS[scorer_name], "en")
    first_error = {}
    for err in frame.errors:
        first_error.setdefault(err.row, err)
    for i, row in enumerate(rows):
        if i in first_error:
            assert isinstance(row, InvalidValue) and (row.field, row.reason) == (
                first_error[i].field,
                first_error[i].reason,
            )
            continue
        assert row.codes == frame.codes[i] and row.declared == frame.declared[i]
        for field, levels in ANSWER_INPUTS.items():
            index = int(frame.answers[field][i])
            assert row.answers[field] == (levels[index] if index >= 0 else None), field
        for field, values in frame.numbers.items():
            assert (row.numbers[field] is None) == math.isnan(values[i]), field
            assert row.numbers[field] is None or row.numbers[field] == values[i], field


@pytest.mark.parametrize(("scorer_name", "batch"), STAGE_CASES)
def test_stage_detect_row_is_detect(scorer_name, batch):
    """detect: main sector, source, evidence, confidence, text scores and terms of each row."""
    frame, _, _, rows = _stages(batch, SCORERS[scorer_name], "en")
    det = frame.detection
    for i, row in enumerate(rows):
        if isinstance(row, InvalidValue):
            continue
        d = row.detection
        assert (d.sector, d.source) == (int(det.sector[i]), int(det.source[i]))
        assert d.evidence == det.evidence[i].as_py()
        # softmax sums its terms in another order on each path (the last bits differ); results keep
        # two decimals (ScoreResult.sector_confidence), which the whole-result tests compare exactly
        assert d.confidence == pytest.approx(float(det.confidence[i]), rel=1e-12, abs=1e-12)
        assert d.text_scores == det.text_scores[i].tolist()
        assert d.terms == _row_terms(det, i)
        scorer = SCORERS[scorer_name]
        assert scorer.detector_.matches_row(
            d.sector, row.codes, row.declared, d.text_scores, d.terms
        ) == scorer.detector_.matches(det, i, frame.codes[i], frame.declared[i])


def _row_terms(det, i):
    return det.hits.matrix.indices[det.hits.matrix.indptr[i] : det.hits.matrix.indptr[i + 1]].tolist()


@pytest.mark.parametrize(("scorer_name", "batch"), STAGE_CASES)
def test_stage_evaluate_row_is_evaluate(scorer_name, batch):
    """score: every number of each row (sub-scores, contributions, score, band, missing, gains)."""
    scorer = SCORERS[scorer_name]
    _, scores, _, rows = _stages(batch, scorer, "en")
    for i, row in enumerate(rows):
        if not isinstance(row, InvalidValue):
            det = row.detection
            assert scorer.evaluate_row(det.sector, det.source, row.answers, row.numbers) == scores.row(i)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("scorer_name", "batch"), STAGE_CASES[::3])
def test_stage_explain_row_is_worded_columns(scorer_name, batch, lang):
    """explain: the explanation sentence of each row, in every language."""
    from matcher.explain import explain_row

    scorer = SCORERS[scorer_name]
    _, scores, explanations, rows = _stages(batch, scorer, lang)
    for i, row in enumerate(rows):
        if not isinstance(row, InvalidValue):
            assert explain_row(scorer, scores.row(i), row.detection, lang) == explanations[i]


@pytest.mark.parametrize(
    "name",
    ["\u200b\u200b", "\ufeff", "\u3164", "\u0301", "_", " \u2060 ", "\u3164\u115f\u1160\uffa0", "\u00a0\u3000"],
)
def test_a_name_nobody_can_see_is_no_name_on_both_paths(name):
    # zero-width spaces, a byte-order mark, Hangul fillers, a lone accent: the lead would show a blank name
    profiles = [{"name": name, "okved": "62.01"}, {"name": f"{name}A{name}"}, {"name": "١٢"}]
    assert_same(profiles, SCORERS["default"], "en")
    first, second, digits = assess_rowwise(profiles, SCORERS["default"], "en")
    assert isinstance(first, InvalidValue) and first.field == "name" and first.reason.code == "name_required"
    assert isinstance(second, ScoreResult) and isinstance(digits, ScoreResult)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=6))
def test_both_paths_agree_on_what_counts_as_a_name(name):
    from matcher.frame import named
    from matcher.rowwise import is_named

    assert named(pa.array([name])).tolist() == [is_named(name)]


def test_a_letter_newer_than_pythons_unicode_tables_is_a_name_on_both_paths():
    # U+11F04 (Kawi, Unicode 15) is unassigned in Python 3.11's tables; Arrow's tables know it as a letter.
    from matcher.frame import named
    from matcher.rowwise import is_named

    for name in ("\U00011f04", "\u200b\U00011f04", "\U000e0080"):  # the last is unassigned everywhere
        assert named(pa.array([name])).tolist() == [is_named(name)]
