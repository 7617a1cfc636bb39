"""OKVED fields of hostile size on the public paths: POST /api/v1/score, its batch, the /assess form.

Too many distinct codes is a 400 naming the field and the reason ``too_many_codes`` (worded in the
request's language); the unknown-code warnings of a long field are worked out afresh, not kept, so
requests with distinct multi-megabyte fields cannot grow a worker's memory.
"""

from __future__ import annotations

import pytest
from matcher_testlib import distinct_codes

from matcher.messages import Reason
from matcher.values import MAX_CODES
from web.appstate import app_state
from web.scoring import LONG_OKVED, _unknown_codes, okved_index


@pytest.mark.parametrize("lang", ["en", "ru", "vi"])
@pytest.mark.parametrize("as_list", [False, True])
def test_score_refuses_more_codes_than_a_profile_may_list(client, lang, as_list):
    codes = distinct_codes(MAX_CODES + 1)
    okved = codes if as_list else ";".join(codes)
    response = client.post(f"/api/v1/score?lang={lang}", json={"name": "A", "okved": okved})
    assert response.status_code == 400
    data = response.get_json()
    assert (data["field"], data["reason_code"]) == ("okved", "too_many_codes")
    assert data["message"] == Reason("too_many_codes", limit=MAX_CODES).said(lang)
    assert data["reason"] == Reason("too_many_codes", limit=MAX_CODES) and data["reason"] in data["error"]
    assert len(data["error"]) < 300  # the value is not echoed whole


def test_score_takes_as_many_codes_as_a_profile_may_list(client):
    response = client.post("/api/v1/score", json={"name": "A", "okved": ";".join(distinct_codes(MAX_CODES))})
    assert response.status_code == 200


def test_score_batch_names_the_profile_with_too_many_codes(client):
    body = [{"name": "A", "okved": "62.01"}, {"name": "B", "okved": ";".join(distinct_codes(MAX_CODES + 1))}]
    data = client.post("/api/v1/score/batch?lang=ru", json=body).get_json()
    assert (data["scored"], data["errors"]) == (1, 1)
    item = data["results"][1]
    assert (item["index"], item["field"], item["reason_code"]) == (1, "okved", "too_many_codes")
    assert item["message"] == Reason("too_many_codes", limit=MAX_CODES).said("ru")


def test_the_warnings_of_a_long_field_are_the_same_and_not_kept(app, client):
    short = "99.99.99; 28.99"
    first = client.post("/api/v1/score", json={"name": "A", "okved": short}).get_json()["warnings"]
    assert [w["code"] for w in first] == ["99.99.99"]
    with app.app_context():
        kept = len(app_state().unknown_codes)
    assert kept == 1
    for n in range(5):
        long = short + ";" + " " * (LONG_OKVED + n * 500)  # distinct long fields (the API reads 5,000), same codes
        data = client.post("/api/v1/score", json={"name": "A", "okved": long}).get_json()
        assert data["warnings"] == first
    with app.app_context():
        assert len(app_state().unknown_codes) == kept


def test_unknown_codes_of_a_long_field_are_what_split_reads(app):
    codes = distinct_codes(MAX_CODES)
    long = "; ".join(codes)
    assert len(long) > LONG_OKVED
    with app.app_context():
        index = okved_index()
        assert _unknown_codes(index, long) == index.split(long).unknown
        assert _unknown_codes(index, "99.99.99") == ("99.99.99",)
        assert len(app_state().unknown_codes) == 1


def test_the_form_answers_a_huge_okved_field(client):
    # Werkzeug takes at most 500 kB of form fields in memory (a 413 beyond)
    response = client.post("/assess", data={"name": "A", "okved": "28.99" + " " * 400_000})
    assert response.status_code == 200 and "28.99" in response.get_data(as_text=True)
    response = client.post("/assess", data={"name": "A", "okved": "; ".join(distinct_codes(MAX_CODES + 1))})
    assert response.status_code == 200
