"""Each app's own state (web/appstate.py): one bounded LRU rule, no sharing between apps, a scorer per version."""

from __future__ import annotations

import copy
import threading

import pytest

from web import appstate, listing, versions
from web.appstate import LRU, AppState, Current, app_state
from web.extensions import db
from web.opportunities import _base_matcher
from web.scoring import get_scorer


def test_an_lru_keeps_at_most_its_size_and_drops_the_least_recently_used():
    cache = LRU(3)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # "a" is now the most recently used: "b" goes first
    cache.put("d", "D")
    assert len(cache) == 3 and "b" not in cache and cache.get("b", "gone") == "gone"
    cache.put_many((key, key) for key in "efghij")
    assert len(cache) == 3 and [k for k in "abcdefghij" if k in cache] == ["h", "i", "j"]
    assert cache.get_many("ahzj") == {"h": "h", "j": "j"}
    with pytest.raises(ValueError):
        LRU(0)


def test_an_lru_builds_a_missing_value_once_and_keeps_the_first_one_stored():
    cache = LRU(2)
    built = []
    assert cache.get_or_build("k", lambda: built.append(1) or "first") == "first"
    assert cache.get_or_build("k", lambda: built.append(2) or "second") == "first"
    assert built == [1]

    def racing():  # another thread stores the key while this one builds: both use the stored value
        cache.put("r", "stored")
        return "built"

    assert cache.get_or_build("r", racing) == "stored"
    assert cache.pop("r") == "stored" and cache.pop("r") is None
    cache.clear()
    assert len(cache) == 0


def test_one_thread_at_a_time_claims_a_key_to_build_it_again():
    cache = LRU(2)
    assert cache.claim("k") and not cache.claim("k")
    answers = []
    thread = threading.Thread(target=lambda: answers.append(cache.claim("k")))
    thread.start()
    thread.join()
    assert answers == [False]
    cache.release("k")
    assert cache.claim("k")
    cache.release("k")
    cache.release("never claimed")


def test_current_keeps_a_value_for_its_time_and_never_keeps_one_read_during_a_committed_change(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(appstate.time, "monotonic", lambda: now[0])
    current: Current[int] = Current()
    reads = iter(range(1, 100))
    assert current.get(lambda: next(reads), ttl=1.0) == 1
    now[0] += 0.5
    assert current.get(lambda: next(reads), ttl=1.0) == 1  # within its time
    now[0] += 1.0
    assert current.get(lambda: next(reads), ttl=1.0) == 2  # read again after it
    current.forget()
    assert current.get(lambda: next(reads), ttl=1.0) == 3

    def read_while_a_change_commits():
        current.forget_committed()
        return 99

    current.forget()
    assert current.get(read_while_a_change_commits, ttl=1.0) == 99  # used by this caller...
    assert current.get(lambda: next(reads), ttl=1.0) == 4  # ...but not kept


def test_every_cache_of_an_app_is_bounded():
    caches = AppState().caches()
    assert {"scorers", "matchers", "counts", "figures", "rows", "unknown_codes", "decoy_hashes", "redis"} <= set(caches)
    assert all(isinstance(cache, LRU) and 1 <= cache.maxsize <= 200_000 for cache in caches.values())


def _save_version(training: float) -> int:
    """Save the current weights with another weight of training as a new version (in a request); its id."""
    weights = copy.deepcopy(versions.current_version().weights)
    weights["criteria"]["training"] = training
    version = versions.save_version(weights, f"training {training}", None)
    db.session.commit()
    return version.id


def test_two_apps_in_one_process_share_no_state(make_app):
    a, b = make_app(), make_app(users=False, LEADS_COUNT_SECONDS=30)
    assert app_state(a) is not app_state(b)
    for name, cache in app_state(a).caches().items():
        assert cache is not app_state(b).caches()[name], name
    with a.test_request_context():
        _save_version(60.0)
        new = versions.snapshot()
        assert app_state() is app_state(a)
        scorer_a = get_scorer()
        listing.remembered(("test",), 30.0, lambda: 7, lambda since, until: 0)
    with b.test_request_context():  # the same database: B reads v2 and fits its own scorer for it
        assert versions.snapshot().fingerprint == new.fingerprint
        scorer_b = get_scorer()
        assert listing.remembered(("test",), 30.0, lambda: 8, lambda since, until: 0)[0] == 8
    assert scorer_b is not scorer_a and list(scorer_b.weights_) == list(scorer_a.weights_)
    assert app_state(a).counts.get(("test",))[2] == 7 and app_state(b).counts.get(("test",))[2] == 8
    with b.app_context():
        assert _base_matcher(scorer_b) is app_state(b).matchers.get(scorer_b)
    assert app_state(a).matchers.get(scorer_b) is None


def test_a_new_weights_version_builds_its_own_scorer_and_matcher(app):
    with app.test_request_context():
        first = get_scorer()
        first_matcher = _base_matcher(first)
        version_id = _save_version(60.0)
    with app.test_request_context():
        version = versions.get_version(version_id)
        second = get_scorer()
        assert versions.snapshot().id == version.id
        assert second is not first and second.weights_ is not first.weights_
        assert list(second.weights_) != list(first.weights_)
        assert _base_matcher(second) is not first_matcher and _base_matcher(second) is _base_matcher(second)
        assert ("scorer", versions.file_config().path, version.fingerprint, (), 1.0) in app_state().scorers
        assert versions.scorer_for(version) is second  # built once per version


def test_scorers_of_old_versions_age_out_and_are_built_again_when_asked_for(app):
    with app.test_request_context():
        app_state().scorers.maxsize = 4
        v2_id = _save_version(60.0)
    with app.test_request_context():
        v2 = versions.get_version(v2_id)
        kept = versions.scorer_for(v2)
        for training in (10.0, 20.0, 30.0):  # three more versions, each a config and a scorer
            _save_version(training)
            get_scorer()
            assert len(app_state().scorers) <= 4
        again = versions.scorer_for(v2)
        assert again is not kept and list(again.weights_) == list(kept.weights_)


def test_the_lists_remembered_figures_stay_bounded(make_app, make_lead):
    make_lead(name="Volga Robotics")  # on the database of the `app` fixture, which made the users
    app = make_app(users=False, LEADS_COUNT_SECONDS=30)
    app_state(app).counts.maxsize = 3
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "admin-pass-123"})
    for q in ("a", "b", "c", "d", "e", "Volga"):
        assert client.get(f"/leads?q={q}").status_code == 200
        assert 1 <= len(app_state(app).counts) <= 3
    assert "Volga Robotics" in client.get("/leads?q=Volga").get_data(as_text=True)
