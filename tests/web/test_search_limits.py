"""Lead search with many words (web/search.py): each word once, at most ``MAX_WORDS`` of them, on SQLite and
PostgreSQL alike; never a 500 (SQLite refused a query of ~500 LIKE conditions: "Expression tree is too large")."""

from __future__ import annotations

import pytest

from web.search import MAX_WORDS, like_patterns


def test_repeated_words_give_one_pattern_each():
    assert like_patterns("Volga VOLGA volgá robots volga") == ["%volga%", "%robots%"]
    assert like_patterns(" ".join(["a"] * 1000)) == ["%a%"]


def test_the_words_beyond_the_cap_are_left_out():
    words = [f"w{i}" for i in range(1000)]
    assert 10 <= MAX_WORDS <= 20
    assert like_patterns(" ".join(words)) == [f"%{w}%" for w in words[:MAX_WORDS]]
    # repeats do not use up the cap
    assert like_patterns(" ".join(["w0"] * 50 + words)) == [f"%{w}%" for w in words[:MAX_WORDS]]


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["a"] * 600, True),
        (["volga"] * 1000, True),
        (["robotics"] + [f"w{i}" for i in range(999)], False),
        (["volga", "robotics"] * 500, True),
    ],
    ids=["600-times-a", "1000-times-volga", "1000-words", "two-words-500-times"],
)
def test_many_words_on_the_list_the_api_and_the_export(client, auth, headers, make_lead, words, found):
    make_lead(name="Volga Robotics")
    q = "+".join(words)
    api = client.get(f"/api/v1/leads?q={q}", headers=headers)
    assert api.status_code == 200
    assert [lead["name"] for lead in api.get_json()["leads"]] == (["Volga Robotics"] if found else [])
    assert api.get_json()["total"] == int(found)
    auth.login()
    page = client.get(f"/leads?q={q}")
    assert page.status_code == 200 and ("Volga Robotics" in page.get_data(as_text=True)) == found
    export = client.get(f"/leads/export.csv?q={q}")
    assert export.status_code == 200 and ("Volga Robotics" in export.get_data(as_text=True)) == found
