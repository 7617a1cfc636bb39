"""The learned sector classifier (issue 10): the shipped model, negation, code + text fusion, confidence."""

from __future__ import annotations

import pyarrow as pa
import pytest
from test_rowwise import assert_same

from matcher import assess
from matcher.config import load_sectors
from matcher.sector_model import load_model, training_fingerprint
from matcher.sectors import SOURCE_DEFAULT, SOURCE_TEXT


def detect(scorer, text, okved=""):
    """(main sector, source, confidence) of a text (and code) through the row path."""
    detector = scorer.detector_
    code_sector, matches = detector.from_codes((okved,) if okved else ())
    det = detector.detect_row(code_sector, matches[0][1] if matches else "", -1, text, True)
    return (detector.config.sector_ids[det.sector] if det.sector >= 0 else None), det.source, det.confidence


def test_the_shipped_model_is_trained_on_the_shipped_sectors_file(scorer):
    # Run tools/train_sector_model.py after changing sectors, codes, keywords or the phrases.
    model = load_model()
    assert model is not None
    assert model["fingerprint"] == training_fingerprint(load_sectors())
    assert scorer.detector_.vocabulary.learned


@pytest.mark.parametrize(
    ("text", "sector"),
    [  # issue 10's table (text only)
        ("Производство компьютеров и серверного оборудования", "electronics"),
        ("Компания оказывает услуги по защите информации и аудиту безопасности", "cybersecurity"),
        ("Строительство жилых домов и торговых центров", "construction"),
        ("Выращивание зерновых культур и производство муки", "agrifood"),
        ("Туроператор; электроникой не занимаемся", "tourism"),
        ("Sản xuất điện tử", "electronics"),
    ],
)
def test_issue_examples_from_text(scorer, text, sector):
    got, source, confidence = detect(scorer, text)
    assert (got, source) == (sector, SOURCE_TEXT)
    assert confidence >= scorer.detector_.min_confidence


@pytest.mark.parametrize(
    ("text", "not_sector", "sector"),
    [
        # "Урал" and "уран" were one stem ("ур"): a firm in the Urals read as nuclear
        ("Сеть кофеен на Урале и в Сибири", "nuclear", "hospitality"),
        ("Добыча и обогащение урановой руды", None, "nuclear"),
        # "than" (coal) was an English stop word: Vietnamese coal mining read as nothing
        ("Khai thác than đá tại Quảng Ninh", "other", "energy"),
        ("We employ more than 500 engineers building ERP software", None, "software"),
    ],
)
def test_words_of_one_language_are_not_lost_to_another(scorer, text, not_sector, sector):
    got, source, _ = detect(scorer, text)
    assert (got, source) == (sector, SOURCE_TEXT)
    assert got != not_sector


def test_words_match_whole_after_stemming_not_by_prefix(scorer):
    vocabulary = scorer.detector_.vocabulary
    # "сталь" (steel) is a word of its own, not the start of "стальной"-like brand names of electronics
    assert vocabulary.row_terms("Сталевар") == vocabulary.row_terms("Сталеварами") == []
    assert vocabulary.row_terms("процессоры") == vocabulary.row_terms("процессор")


@pytest.mark.parametrize(
    ("text", "not_sector", "sector"),
    [
        ("Туроператор; электроникой не занимаемся", "electronics", "tourism"),
        ("We do not make chips, we write software", "electronics", "software"),
        ("We no longer produce semiconductors; we run hotels", "electronics", "hospitality"),
        ("Chúng tôi không sản xuất điện tử, chỉ tổ chức tour du lịch", "electronics", "tourism"),
        ("Мы не производим микросхемы, мы разрабатываем программное обеспечение", "electronics", "software"),
    ],
)
def test_negation_removes_the_evidence_of_its_clause(scorer, text, not_sector, sector):
    got, _, _ = detect(scorer, text)
    assert got == sector
    terms = scorer.detector_.vocabulary.row_terms(text)
    words = scorer.detector_.vocabulary.evidence_terms(terms, scorer.config_.sector_ids.index(not_sector))
    assert not {"chips", "semiconductor", "điện tử", "микросхема", "электроника"} & set(words)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Производим не только электронику, но и программное обеспечение", "электроника"),  # not only
        ("We make not only sensors but also software", "sensor"),
        ("Hãng hàng không và bảo dưỡng máy bay", "máy bay"),  # "hàng không" is aviation
        ("Thiết bị điện tử không dây", "điện tử"),  # "không dây" is wireless
    ],
)
def test_words_that_only_look_like_negation(scorer, text, word):
    vocabulary = scorer.detector_.vocabulary
    assert word in {vocabulary.term_display[t] for t in vocabulary.row_terms(text)}


@pytest.mark.parametrize("lang", ["en", "ru", "vi"])
def test_negation_is_the_same_on_both_paths(scorer, lang):
    texts = [
        "Туроператор; электроникой не занимаемся",
        "We do not make chips, we write software",
        "Không sản xuất điện tử. Chúng tôi làm phần mềm",
        "не только электроника, но и роботы",
        "  не  ",
        "not",
        "Hãng hàng không",
        "электроника — не наш профиль, строим дома",
        "We don't do AI; we sell cars, not software. Robots!",
    ]
    assert_same([{"name": f"F{i}", "description": t} for i, t in enumerate(texts)], scorer, lang)
    vocabulary = scorer.detector_.vocabulary
    hits = vocabulary.hits(pa.array(texts))
    for i, text in enumerate(texts):
        row = hits.matrix.indices[hits.matrix.indptr[i] : hits.matrix.indptr[i + 1]]
        assert vocabulary.row_terms(text) == row.tolist()


@pytest.mark.parametrize(
    ("okved", "text", "sector", "also"),
    [
        ("35.11", "wind turbines", "clean_energy", "energy"),  # issue 10: a generic code refined by text
        ("35.11", "Солнечные электростанции", "clean_energy", "energy"),
        ("62.01", "SIEM and penetration testing", "cybersecurity", "software"),
        ("62.01", "Информационная безопасность и защита информации", "cybersecurity", "software"),
        ("35.11", "Coal-fired power plant", "energy", None),  # the code's own family member
        ("26.20", "Wind turbines and solar panels", "electronics", "clean_energy"),  # no family: the code holds
        ("62.01", "Hotel booking engine", "software", None),  # hospitality does not refine software
        # the text's strongest sector is the code's own, but it also speaks for a refining one
        ("35.11", "Производство электроэнергии, в том числе на солнечных электростанциях", "clean_energy", "energy"),
    ],
)
def test_code_and_text_fusion(scorer, okved, text, sector, also):
    result = assess({"name": "A", "okved": okved, "description": text}, scorer)
    assert result.sector == sector
    listed = [m["sector"] for m in result.sectors]
    assert listed[0] == sector
    if also:
        assert also in listed


def test_refines_must_name_another_sector():
    from matcher_testlib import SECTORS_YAML

    from matcher.errors import ConfigError

    text = SECTORS_YAML.read_text(encoding="utf-8").replace("refines: [energy]", "refines: [energie]")
    with pytest.raises(ConfigError, match="energie"):
        load_sectors(text=text)


def test_confidence_is_one_for_a_code_and_a_probability_for_text(scorer):
    assert detect(scorer, "", "62.01")[2] == 1.0
    _, source, confidence = detect(scorer, "Разработка программного обеспечения")
    assert source == SOURCE_TEXT and 0.4 <= confidence < 1.0


def test_inconclusive_text_is_uncertain_not_a_guess(scorer):
    got, source, confidence = detect(scorer, "Our company, founded in 1998, looks for partners.")
    assert (got, source) == ("other", SOURCE_DEFAULT)
    assert confidence < scorer.detector_.min_confidence


def test_results_carry_the_confidence_and_the_uncertain_flag(scorer):
    from matcher import assess_many

    profiles = [
        {"name": "A", "description": "Our company, founded in 1998, looks for partners."},
        {"name": "B", "okved": "62.01"},
        {"name": "C", "description": "Разработка программного обеспечения"},
    ]
    for results in (assess_many(profiles, scorer), assess_many(profiles * 20, scorer)[:3]):  # row and batch paths
        neutral, coded, text = results
        assert (neutral.sector, neutral.sector_uncertain) == ("other", True)
        assert neutral.sector_confidence < scorer.detector_.min_confidence
        assert (coded.sector_confidence, coded.sector_uncertain) == (1.0, False)
        assert (text.sector, text.sector_uncertain) == ("software", False)
        assert 0.4 <= text.sector_confidence <= 1.0
        assert neutral.to_dict()["sector_uncertain"] is True


def test_the_csv_has_a_sector_confidence_column(scorer, tmp_path):
    import csv

    from matcher.batch import score_file

    source = tmp_path / "in.csv"
    source.write_text("name,okved,description\nA,,Our company looks for partners.\nB,62.01,\n", encoding="utf-8")
    score_file(source, tmp_path / "out.csv", scorer)
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-3:] == ["sectors", "sector_confidence", "okved_suggested"]
    assert float(rows[0]["sector_confidence"]) < 0.4 and float(rows[1]["sector_confidence"]) == 1.0


#: Issue 10 asks for 0.90 per language on our own labelled set.
ACCURACY_FLOOR = 0.90


def test_main_sector_accuracy_on_the_labelled_set(scorer):
    import csv
    from collections import defaultdict
    from pathlib import Path

    from matcher import assess_many

    data = Path(__file__).resolve().parent / "data" / "sector_descriptions.csv"
    with open(data, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    results = assess_many(
        [{"name": r["id"], "description": r["description"], "okved": r["okved"] or None} for r in rows], scorer
    )
    right = defaultdict(list)
    for row, result in zip(rows, results, strict=True):
        right[row["lang"]].append(result.sector == row["main_sector"])
    shares = {lang: sum(v) / len(v) for lang, v in right.items()}
    assert min(shares.values()) >= ACCURACY_FLOOR, shares


def test_vietnamese_typed_without_marks_finds_its_sector(scorer):
    # Many write Vietnamese without its marks ("nha may tai che nhua"). The labelled Vietnamese
    # descriptions without a code, stripped of their marks, keep their sector nearly as often as
    # written (91 % of 82 with marks, 88 % without; 26 % before the model learned unmarked pairs).
    import csv
    from pathlib import Path

    from matcher import assess_many
    from matcher.sector_model import without_marks

    path = Path(__file__).resolve().parent / "data" / "sector_descriptions.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["lang"] == "vi" and not r["okved"]]
    assert len(rows) >= 80
    results = assess_many([{"name": "x", "description": without_marks(r["description"])} for r in rows], scorer, "vi")
    right = sum(result.sector == row["main_sector"] for result, row in zip(results, rows, strict=True))
    assert right / len(rows) >= 0.85, right
