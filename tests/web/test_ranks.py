"""Stored ranks (web/ranks.py): computed in the background, refreshed after a weights change and a new
lead, one computation at a time; the lead list's order and pages (web/listing.py) served by indexes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from web import ranks
from web.extensions import db
from web.listing import ordering
from web.models import Lead, LeadRank, RankState, User, utcnow
from web.services import issue_token


@pytest.fixture
def leads(app, make_lead):
    ids = [
        make_lead(name="Volga Robotics"),
        make_lead(
            name="Volga-Mekong Travel", okved="79.11", description="tours to Hanoi", training="", investment_usd="50000"
        ),
        make_lead(
            name="NordChip",
            okved="26.11",
            description="microelectronics",
            tech_transfer="committed",
            green="committed",
            local_partner="committed",
            esg_report="yes",
            employees="300",
        ),
    ]
    ranks.wait()
    assert full_run(app) == ["full"]  # one full run over the three, whatever order the background took
    return ids


def full_run(app) -> list[str]:
    """Mark the stored ranks stale and compute them here, as a background job would."""
    with app.app_context():
        db.session.execute(update(RankState).values(key="stale"))
        db.session.commit()
    return ranks.run(app)


def stored(app) -> tuple[RankState, dict[int, LeadRank]]:
    with app.app_context():
        state = db.session.get(RankState, 1)
        rows = {r.lead_id: r for r in db.session.execute(db.select(LeadRank)).scalars()}
        db.session.expunge_all()
        return state, rows


def test_new_leads_are_ranked_in_the_background_and_incrementally(app, leads, make_lead):
    state, rows = stored(app)
    assert sorted(rows) == sorted(leads) and (state.n_leads, state.n_added) == (3, 0)
    assert state.version_label.startswith("v1 ") and state.as_of is not None
    assert {rows[i].base for i in leads} == {1, 2, 3}
    newest = make_lead(name="Kama Chips", okved="26.11", description="chips", tech_transfer="committed")
    ranks.wait()
    after, rows_after = stored(app)
    assert (after.n_leads, after.n_added) == (state.n_leads, state.n_added + 1)  # no full run: only the new one
    assert after.as_of == state.as_of
    assert all(rows_after[i].as_of == rows[i].as_of for i in leads)
    assert rows_after[newest].as_of > state.as_of
    assert full_run(app) == ["full"]  # a full run ranks the new lead exactly as it was ranked on its own
    _, full = stored(app)
    for column in ("base", "low", "median", "high", "p_top_k", "subscores"):
        assert getattr(full[newest], column) == getattr(rows_after[newest], column), column


def test_a_new_lead_is_ranked_against_leads_with_equal_answers_as_a_full_run_ranks_it(app, leads, make_lead):
    """The stored leads are read grouped by their sub-scores: leads with equal answers count once each."""
    twins = [make_lead(name=f"Volga Robotics {i}") for i in range(4)]  # the sub-scores of leads[0]
    ranks.wait()
    assert full_run(app) == ["full"]
    _, before = stored(app)
    for new in (
        {"name": "Kama Robotics"},  # equal to the twins: the tie shares their rank
        {
            "name": "Kama Tours",
            "okved": "79.11",
            "description": "tours",
            "training": "",
            "investment_usd": "50000",
        },  # below
    ):
        lead = make_lead(**new)
        ranks.wait()
        state, alone = stored(app)
        assert state.n_added == 1
        assert full_run(app) == ["full"]
        _, full = stored(app)
        for column in ("base", "low", "median", "high", "p_top_k", "subscores"):
            assert getattr(full[lead], column) == getattr(alone[lead], column), (new["name"], column)
    assert alone[lead].base > before[twins[0]].base + len(twins)  # behind every twin, each counted


def test_weights_change_ranks_every_lead_again(app, client, auth, leads):
    before, rows = stored(app)
    auth.login("admin")
    response = client.post(
        "/admin/weights",
        data={
            "criteria.sector_fit": "100",
            "tiers.hanoi_priority": "0",
            "tiers.connectivity": "1",
            "reason": "connectivity first",
        },
        follow_redirects=True,
    )
    assert "Saved as version v2" in response.get_data(as_text=True)
    ranks.wait()
    after, rows_after = stored(app)
    assert after.version_label.startswith("v2 ") and after.key != before.key and after.as_of > before.as_of
    assert all(rows_after[i].as_of == after.as_of for i in leads)
    assert (rows[leads[1]].base, rows_after[leads[1]].base) == (3, 1)  # the travel firm leads under the new weights
    html = client.get("/leads").get_data(as_text=True)
    assert "weights v2 " in html and "Being updated" not in html


def test_evidence_change_ranks_the_lead_again(app, client, auth, leads):
    _, rows = stored(app)
    auth.login("admin")
    client.post(
        f"/leads/{leads[0]}/evidence/training",
        data={"ev-training-status": "verified", "ev-training-note": "contract seen"},
    )
    ranks.wait()
    _, after = stored(app)
    assert after[leads[0]].as_of > rows[leads[0]].as_of and after[leads[1]].as_of == rows[leads[1]].as_of


def test_list_view_computes_nothing_and_says_ranks_are_due(make_app, monkeypatch):
    app = make_app(RANKS_BACKGROUND=False)
    with app.app_context():
        from web.services import create_lead, score

        profile = {"name": "Volga Robotics", "okved": "28.99"}
        lead_id = create_lead(profile, score(profile), "assess").id
        db.session.commit()
    monkeypatch.setattr(ranks, "rank_robustness", lambda *a, **k: pytest.fail("ranked on the request path"))
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    html = client.get("/leads").get_data(as_text=True)
    assert "Robustness not computed yet." in html and "Being updated in the background." in html
    assert client.get(f"/leads/{lead_id}").status_code == 200


def test_one_computation_at_a_time(app, leads, monkeypatch):
    with app.app_context():
        first, second = ranks.holder_name(), ranks.holder_name()
        assert ranks.acquire(first) and not ranks.acquire(second)
        assert ranks.work() == ["busy"]  # another process holds it: nothing computed here
        db.session.execute(update(RankState).values(held_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert ranks.acquire(second)  # the first one's lease ran out (its process died): taken over
        assert not ranks.renew(first)
        with pytest.raises(ranks.LeaseLost):
            ranks.full_run(first)  # a computation that lost its lease stores nothing
        ranks.release(first)  # not its lease any more: nothing happens
        assert db.session.get(RankState, 1).holder == second
        ranks.release(second)
        assert db.session.get(RankState, 1).holder is None
    # two computations started together: one does the work, the other finds the lease taken
    calls, started = [], threading.Event()
    full_run = ranks.full_run

    def slow_full_run(name):
        calls.append(name)
        started.set()
        time.sleep(0.5)
        return full_run(name)

    monkeypatch.setattr(ranks, "full_run", slow_full_run)
    with app.app_context():
        db.session.execute(update(RankState).values(key="stale"))
        db.session.commit()
    results = []
    threads = [threading.Thread(target=lambda: results.append(ranks.run(app))) for _ in range(2)]
    threads[0].start()
    started.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1 and sorted(results) == [["busy"], ["full"]]


def test_the_computation_runs_its_statements_on_one_core_and_leaves_the_pool_as_it_was(app, leads, monkeypatch):
    # PostgreSQL's parallel workers would spread the computation's scans over every core, and the pages served
    # meanwhile would wait for them; the setting lasts for the computation's own transactions only.
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def workers() -> str:
        return db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() if postgres else "-"

    with app.app_context():
        default = workers()
    seen, step = [], ranks.step

    def step_and_look(name):
        seen.append(workers())
        did = step(name)
        seen.append(workers())  # a transaction begun after the step's commit
        return did

    monkeypatch.setattr(ranks, "step", step_and_look)
    assert full_run(app) == ["full"]
    assert seen and set(seen) == ({"0"} if postgres else {"-"}), seen
    if postgres:
        assert default != "0"
    for _ in range(3):  # every pooled connection, the computation's included, as it was
        with app.app_context():
            assert workers() == default
            db.session.rollback()


def test_a_computation_whose_connection_died_ends_quietly(app, monkeypatch):
    # the database went away mid-computation: the ROLLBACK of closing its session fails too; the thread's
    # future must not hold that error (the app's teardown waits on it), and the session leaves the registry
    from sqlalchemy.exc import OperationalError

    def lost():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    closing = db.session.remove
    calls = []

    def remove_fails_once():
        calls.append(1)
        if len(calls) == 1:
            lost()
        closing()

    monkeypatch.setattr(ranks, "work", lost)
    monkeypatch.setattr(db.session, "remove", remove_fails_once)
    assert ranks.run(app) == ["failed"]
    assert calls  # closed (then again by the app context's teardown), its failure kept in the thread
    monkeypatch.undo()
    assert full_run(app) == ["full"]  # the next computation works


@pytest.fixture
def token(app):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one()
        value = issue_token(user)
        db.session.commit()
        return value


@pytest.mark.parametrize("sort", ["", "&sort=name&dir=asc", "&sort=score&dir=asc", "&sort=created"])
def test_pages_hold_every_lead_once_with_ties(app, client, make_lead, token, sort):
    ids = [make_lead(name=f"Twin {i % 3}") for i in range(11)]  # same profile: equal scores, and equal names
    ids += [make_lead(name="Solo", okved="79.11", training="")]
    seen, pages = [], 0
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        pages += 1
        data = client.get(f"/api/v1/leads?per_page=5&page={pages}{sort}", headers=headers).get_json()
        seen += [(lead["id"], lead["score"], lead["name"]) for lead in data["leads"]]
        if pages >= data["pages"]:
            break
    assert sorted(i for i, _, _ in seen) == sorted(ids) and pages == 3 and data["total"] == 12
    if not sort:  # best first, ties newest first
        assert seen == sorted(seen, key=lambda row: (-row[1], -row[0]))
    elif "name" in sort:
        assert seen == sorted(seen, key=lambda row: (row[2], row[0]))
    auth_html = client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    assert auth_html.status_code == 302
    shown = []
    for page in (1, 2, 3):
        html = client.get(f"/leads?per_page=5&page={page}{sort}").get_data(as_text=True)
        shown += [int(found) for found in re.findall(r'href="/leads/(\d+)"', html)]
    assert shown == [i for i, _, _ in seen]


def test_default_order_is_read_from_an_index(app, make_lead):
    make_lead()
    with app.app_context():
        query = db.select(Lead.id).order_by(*ordering({})).limit(25)
        sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                conn.execute(text("SET enable_seqscan = off"))  # a tiny table: make the planner show the index path
                conn.execute(text("SET enable_bitmapscan = off"))
                plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
            assert "ix_leads_sort_score_id" in plan and "Sort" not in plan, plan
        else:
            plan = " ".join(str(r[-1]) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "ix_leads_sort_score_id" in plan and "TEMP B-TREE" not in plan, plan


def test_sort_score_follows_the_score(app, make_lead):
    lead_id = make_lead()
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.sort_score == lead.score
        lead.score = None
        db.session.commit()
        assert db.session.get(Lead, lead_id).sort_score == -1.0


def test_ranks_in_blocks_of_a_small_memory_budget_are_the_same(make_app):
    """Ranks computed a block of distinct rows at a time (tiny memory budget) equal those computed at once."""
    app = make_app(RANKS_BACKGROUND=False)
    with app.app_context():
        from web.services import create_leads

        create_leads(
            [
                {
                    "name": f"Firm {i}",
                    "okved": ("62.01", "26.11", "47.11")[i % 3],
                    "training": ("committed", "none", "planned")[i % 3 if i % 2 else 0],
                    "investment_usd": str(50_000 * (i + 1)),
                }
                for i in range(12)
            ],
            "sample",
        )
        db.session.commit()
        results = []
        for budget in (128, 0):
            app.config["RANKS_MEMORY_MB"] = budget  # 0: one distinct row per block
            name = ranks.holder_name()
            assert ranks.acquire(name)
            ranks.full_run(name)
            ranks.release(name)
            results.append(
                {
                    r.lead_id: (r.base, r.low, r.median, r.high, r.p_top_k)
                    for r in db.session.execute(db.select(LeadRank)).scalars()
                }
            )
        assert results[0] == results[1] and len(results[0]) == 12
        assert min(v[0] for v in results[0].values()) == 1 and max(v[3] for v in results[0].values()) <= 12


def test_with_redis_the_computation_goes_to_the_queue(make_app):
    from web import taskqueue
    from web.services import create_lead, score

    app = make_app(REDIS_URL="redis://127.0.0.1:6379/0", BATCH_QUEUE=f"test-ranks-{uuid.uuid4().hex}")
    with app.app_context():
        queue = taskqueue.queue()
        try:
            for name in ("Volga Robotics", "NordChip"):  # the second finds the first computation still waiting
                profile = {"name": name, "okved": "28.99"}
                create_lead(profile, score(profile), "api")
                db.session.commit()
            assert [job.func_name for job in queue.jobs] == ["web.worker.run_ranks_job"]
            assert ranks.run(app) == ["full"]  # what run_ranks_job does in a work horse of `matcher worker`
            assert db.session.execute(db.select(db.func.count(LeadRank.lead_id))).scalar() == 2
        finally:
            taskqueue.connection().delete(taskqueue.RANKS_LAST.format(queue=queue.name))
            queue.delete(delete_jobs=True)
            taskqueue.connection().close()


def test_list_total_is_remembered_and_new_leads_are_counted_alone(make_app, monkeypatch):
    from web import listing
    from web.services import create_lead, score

    app = make_app(LEADS_COUNT_SECONDS=60)
    counts = []
    count = listing._count
    monkeypatch.setattr(listing, "_count", lambda query: counts.append(str(query)) or count(query))

    def add(name: str) -> None:
        with app.app_context():
            create_lead({"name": name}, score({"name": name}), "api")
            db.session.commit()

    def total(url: str) -> int:
        return int(re.search(r'<span class="count"[^>]*>(\d+)</span>', client.get(url).get_data(as_text=True))[1])

    add("First")
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    assert total("/leads") == 1 and total("/leads?sort=name") == 1
    assert len(counts) == 1  # the same leads in another order: counted once
    add("Second")
    assert total("/leads") == 2 and len(counts) == 2  # the new lead counted alone: among the ids above the last
    assert "leads.id >" in counts[-1] and total("/leads") == 2 and len(counts) == 2
    assert total("/leads?q=Second") == 1
    assert len(counts) == 3  # another filter: counted on its own
    assert 'title="Counted at ' in client.get("/leads").get_data(as_text=True)  # the list says it is remembered


def test_a_computation_on_the_worker_yields_the_cpu_to_the_pages(tmp_path):
    """run_ranks_job runs in a work horse of its own: it lowers that process's priority, never raises it."""
    code = """
import os, sys
from web import create_app
from web.ranks import yield_cpu

app = create_app({"TESTING": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "RANKS_NICE": 7})
before = os.getpriority(os.PRIO_PROCESS, 0)
yield_cpu(app)
lowered = os.getpriority(os.PRIO_PROCESS, 0)
os.setpriority(os.PRIO_PROCESS, 0, 12)
yield_cpu(app)
print(before, lowered, os.getpriority(os.PRIO_PROCESS, 0))
"""
    done = subprocess.run(
        [sys.executable, "-c", code, f"sqlite:///{tmp_path / 'nice.sqlite'}"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    before, lowered, after = map(int, done.stdout.split())
    assert (lowered, after) == (max(before, 7), 12)
