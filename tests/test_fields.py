"""matcher/fields.py: the field registry is consistent, and the library's field lists derive from it."""

from __future__ import annotations

import pickle

import pytest

from matcher import messages
from matcher.config import ANSWER_INPUTS, NUMBER_INPUTS
from matcher.fields import BY_NAME, LANGS, REGISTRY, check_registry, form_groups
from matcher.messages import FIELD_LABELS, Reason, reason_text
from matcher.profile import FIELDS, HEADER_ALIASES, field_for
from matcher.values import READERS


def test_the_registry_is_consistent():
    check_registry()


def test_the_contract_lists_derive_from_the_registry():
    assert FIELDS == tuple(f.name for f in REGISTRY)
    assert set(ANSWER_INPUTS) == {f.name for f in REGISTRY if f.answers}
    assert all(ANSWER_INPUTS[name] == BY_NAME[name].answers.levels for name in ANSWER_INPUTS)
    assert NUMBER_INPUTS == ("investment_usd", "employees")
    assert all(BY_NAME[name].kind in READERS for name in (*ANSWER_INPUTS, *NUMBER_INPUTS))


@pytest.mark.parametrize("field", REGISTRY, ids=lambda f: f.name)
def test_every_field_is_a_csv_column_under_its_name_labels_and_aliases(field):
    assert field_for(field.name) == field.name
    for lang in LANGS:
        assert FIELD_LABELS[lang][field.name] == field.labels[lang]
        assert field_for(field.labels[lang]) == field.name
        assert all(field_for(alias) == field.name for alias in HEADER_ALIASES[field.name].get(lang, ()))


def test_every_form_field_is_in_one_group():
    shown = [f.name for _, _, _, fields in form_groups() for f in fields]
    assert sorted(shown) == sorted(f.name for f in REGISTRY if f.group)
    assert len(shown) == len(set(shown))


def test_a_reason_is_worded_by_its_code_not_by_its_english(monkeypatch):
    """Rewording a reason in English keeps its translations: they are found by the code."""
    russian = Reason("count").said("ru")
    monkeypatch.setitem(messages.REASONS, "count", {**messages.REASONS["count"], "en": "a whole number, e.g. 250"})
    reworded = Reason("count")
    assert reworded == "a whole number, e.g. 250" and reworded.code == "count"
    assert reason_text(reworded, "ru") == russian == "ожидается целое число, например 250"


def test_a_reason_survives_pickling_with_its_code():
    reason = pickle.loads(pickle.dumps(Reason("okved", item="x1")))
    assert isinstance(reason, Reason) and reason.code == "okved" and reason.item == "x1"
    assert reason == "'x1': not an OKVED 2 / NACE Rev. 2 code (like 62.01 or 26.3)"


def test_every_registry_field_is_a_column_of_the_scored_csv(tmp_path, scorer):
    import csv

    from matcher.batch import score_file

    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([[f.name for f in REGISTRY], ["1", "Volga", *[""] * (len(REGISTRY) - 2)]])
    score_file(source, tmp_path / "out.csv", scorer)
    with open(tmp_path / "out.csv", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    # a field named like a result column is kept as <name>_input (the firm's own `sectors`)
    assert [h.removesuffix("_input") for h in header[: len(REGISTRY)]] == [f.name for f in REGISTRY]
