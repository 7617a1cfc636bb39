"""MicroBatcher: same results as assess, batched under concurrency, errors per profile."""

from __future__ import annotations

import threading

import pytest

import matcher
from matcher.serving import MicroBatcher

PROFILES = [
    {"name": f"Firm {i}", "okved": code, "training": answer, "investment_usd": f"{i + 1}m"}
    for i, (code, answer) in enumerate([("62.01", "yes"), ("55.10", "planned"), ("26.30", "no"), ("", "")] * 8)
]


def test_results_equal_assess(scorer):
    batcher = MicroBatcher(scorer)
    for profile in PROFILES[:4]:
        for lang in ("en", "ru", "vi"):
            assert batcher.assess(profile, lang) == matcher.assess(profile, scorer, lang)


def test_concurrent_profiles_are_scored_together_and_each_gets_its_own_result(scorer):
    batcher = MicroBatcher(scorer)
    gate = threading.Barrier(len(PROFILES))
    results = [None] * len(PROFILES)

    def run(i):
        gate.wait()
        results[i] = batcher.assess(PROFILES[i], "ru" if i % 2 else "en")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(PROFILES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, result in enumerate(results):
        assert result == matcher.assess(PROFILES[i], scorer, "ru" if i % 2 else "en")
    assert batcher.profiles == len(PROFILES)
    assert batcher.batches < len(PROFILES)  # several profiles shared a scoring call


def test_a_bad_profile_fails_alone(scorer):
    batcher = MicroBatcher(scorer)
    with pytest.raises(matcher.InvalidValue) as info:
        batcher.assess({"name": "Bad", "employees": "many"})
    assert info.value.field == "employees"
    assert batcher.assess({"name": "Good", "okved": "62.01"}).sector == "software"


def test_an_idle_batcher_ends_its_thread_and_starts_again_when_needed(scorer):
    import time

    batcher = MicroBatcher(scorer, idle_seconds=0.05)
    first = batcher.assess({"name": "A", "okved": "62.01"})
    thread = batcher._thread
    deadline = time.monotonic() + 5
    while thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not thread.is_alive() and batcher._thread is None  # an old weights version's batcher lets go
    assert batcher.assess({"name": "A", "okved": "62.01"}) == first
    assert batcher._thread is not None and batcher._thread is not thread
