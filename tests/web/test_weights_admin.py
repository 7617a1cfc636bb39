"""Weights versions, re-scoring, version comparison, robustness, calibration and evidence of commitments."""

from __future__ import annotations

import pytest

from matcher.config import load_sectors
from matcher.weights import fingerprint
from web import ranking, ranks
from web.extensions import db
from web.models import Assessment, AuditLog, Lead, WeightsVersion
from web.services import create_leads


@pytest.fixture
def leads(make_lead):
    return {
        "robots": make_lead(name="Volga Robotics"),
        "travel": make_lead(
            name="Volga-Mekong Travel", okved="79.11", description="tours to Hanoi", training="", investment_usd="50000"
        ),
        "chips": make_lead(
            name="NordChip",
            okved="26.11",
            description="microelectronics",
            tech_transfer="committed",
            green="committed",
            local_partner="committed",
            esg_report="yes",
            employees="300",
        ),
    }


def save(client, reason="more weight to training", **values):
    return client.post("/admin/weights", data={**values, "reason": reason}, follow_redirects=True)


def test_first_start_makes_version_1_and_assessments_record_it(app, leads):
    with app.app_context():
        (version,) = db.session.execute(db.select(WeightsVersion)).scalars().all()
        assert version.is_current and version.label == f"v1 {fingerprint(load_sectors())}"
        assert version.weights["criteria"]["sector_fit"] == 30.0
        for a in db.session.execute(db.select(Assessment)).scalars():
            assert (a.weights_version_id, a.weights_version, a.unverified_factor) == (version.id, version.label, 1.0)


def test_only_admins_see_the_weights(client, auth):
    auth.login("analyst")
    assert client.get("/admin/weights").status_code == 403
    assert client.post("/admin/weights/rescore").status_code == 403
    auth.logout()
    assert client.get("/admin/weights").status_code == 302


@pytest.mark.parametrize(
    ("values", "reason", "message"),
    [
        ({"criteria.training": "20"}, "", "Give the reason for the new weights."),
        ({"criteria.training": "lots"}, "why", "Not a number: criteria.training"),
        ({"tiers.general": "2"}, "why", "tiers.general: must be between 0 and 1, not 2"),
        ({"criteria.training": "12"}, "why", "Nothing changed"),
    ],
)
def test_bad_edits_save_nothing(app, client, auth, values, reason, message):
    auth.login("admin")
    html = save(client, reason, **values).get_data(as_text=True)
    assert message in html
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(WeightsVersion.id))).scalar() == 1


def test_moving_a_sector_to_another_tier_is_a_new_version(app, client, auth, leads):
    auth.login("admin")
    assert 'name="sector_tiers.tourism"' in client.get("/admin/weights").get_data(as_text=True)
    html = save(client, "tourism is a priority now", **{"sector_tiers.tourism": "hanoi_priority"}).get_data(
        as_text=True
    )
    assert "Saved as version v2 " in html and "sector_tiers.tourism" in html
    with app.app_context():
        v2 = db.session.execute(db.select(WeightsVersion).filter_by(is_current=True)).scalar_one()
        assert v2.weights["sector_tiers"]["tourism"] == "hanoi_priority"
    html = save(client, "why", **{"sector_tiers.tourism": "nonsense"}).get_data(as_text=True)
    assert "sector_tiers.tourism: unknown tier" in html


def test_save_version_rescore_and_history(app, client, auth, leads):
    auth.login("admin")
    html = save(
        client, **{"criteria.sector_fit": "0", "criteria.training": "60", "answers.training.planned": "0.25"}
    ).get_data(as_text=True)
    assert "Saved as version v2 " in html
    assert "criteria.sector_fit" in html and "more weight to training" in html and "admin" in html
    with app.app_context():
        v1, v2 = db.session.execute(db.select(WeightsVersion).order_by(WeightsVersion.id)).scalars()
        assert (v1.is_current, v2.is_current) == (False, True)
        assert v2.weights["criteria"]["training"] == 60.0 and v2.weights["answers"]["training"]["planned"] == 0.25
        assert v2.author.username == "admin"
        old = {lead.name: lead.score for lead in db.session.execute(db.select(Lead)).scalars()}
    html = client.get(f"/admin/weights/{v1.id}").get_data(as_text=True)  # v1 stays readable
    assert "30.00" in html and "30 → <strong>0</strong>" in html
    html = client.post("/admin/weights/rescore").get_data(as_text=True)
    assert "re-scored under v2" in html and "3 leads re-scored" in html and "Rank before" in html
    with app.app_context():
        for lead in db.session.execute(db.select(Lead)).scalars():
            assert lead.latest.weights_version_id == v2.id and lead.latest.weights_version == v2.label
            assert len(lead.assessments) == 2
        new = {lead.name: lead.score for lead in db.session.execute(db.select(Lead)).scalars()}
    assert new["Volga-Mekong Travel"] < old["Volga-Mekong Travel"]  # no training: loses the sector points
    assert f"{old['NordChip']:.1f}" in html and f"{new['NordChip']:.1f}" in html
    # new leads are scored with the current version
    assert "v2 " in client.get(f"/leads/{leads['robots']}").get_data(as_text=True)


def test_compare_versions(app, client, auth, leads):
    auth.login("admin")
    save(client, **{"criteria.sector_fit": "100", "tiers.hanoi_priority": "0", "tiers.connectivity": "1"})
    response = client.get("/admin/weights/compare?a=1&b=2&k=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kendall" in html and "<svg" in html and "slope" in html and "<script" not in html
    assert "Leave the top 1 under B" in html and "NordChip" in html
    with app.app_context():
        a, b = db.session.get(WeightsVersion, 1), db.session.get(WeightsVersion, 2)
        comparison, _ = ranking.compare_versions(a, b, 1)
    assert comparison.entered == [leads["travel"]] and comparison.left == [leads["chips"]]
    assert -1.0 <= comparison.tau < 1.0


def test_robustness_is_stored_and_shown_with_its_time(app, client, auth, leads):
    auth.login("admin")
    client.post("/admin/weights/settings", data={"spread": "30", "top_k": "2", "unverified_factor": "1"})
    for _ in range(20):  # the new settings are ranked in the background (a run of the old ones may finish first)
        ranks.wait()
        with app.app_context():
            if not ranks.due():
                break
            ranks.schedule(app)
    html = client.get("/leads").get_data(as_text=True)
    assert "top-2 in 100%" in html and "ranks 3–3" in html  # NordChip stays in the top two under any weighting
    assert "Robustness as of " in html and "3 leads" in html and "Being updated" not in html
    html = client.get(f"/leads/{leads['chips']}").get_data(as_text=True)
    assert "Rank robustness" in html and "As of " in html and ", weights v1 " in html
    # percentages as each language writes them (the spread was "30 %" in English, and "90 %" everywhere)
    assert "±30%, the rank stays between" in html and " in 90% of weightings" in html
    ru = client.get(f"/leads/{leads['chips']}?lang=ru").get_data(as_text=True)
    assert "±30\xa0%, место остаётся" in ru and " в 90\xa0% вариантов" in ru


def test_calibration_too_few_outcomes(client, auth, make_lead):
    auth.login("admin")
    html = client.get("/admin/weights/calibrate").get_data(as_text=True)  # no leads at all
    assert "Too few outcomes" in html and "Adopt" not in html
    assert "No leads to rank yet." in client.get("/admin/weights/compare").get_data(as_text=True)
    make_lead(status="invested")
    html = client.get("/admin/weights/calibrate").get_data(as_text=True)
    assert "Too few outcomes" in html and "Outcomes: 1 invested, 0 dropped." in html


def test_calibration_suggests_and_adopts_with_reason(app, client, auth):
    with app.app_context():
        profiles = [
            {
                "name": f"Firm {i}",
                "okved": "62.01" if i % 3 else "47.11",
                "training": "committed" if i % 2 else "none",
                "investment_usd": str(100_000 * (i + 1)),
            }
            for i in range(30)
        ]
        create_leads(profiles, "sample")
        for lead in db.session.execute(db.select(Lead)).scalars():
            lead.status = "invested" if lead.training == "committed" else "dropped"
        db.session.commit()
    auth.login("admin")
    html = client.get("/admin/weights/calibrate").get_data(as_text=True)
    assert "Held-out ROC AUC" in html and "Suggested weight" in html and "Too few" not in html
    assert "Give the reason" in client.post("/admin/weights/calibrate", data={"reason": ""}).get_data(as_text=True)
    html = client.post("/admin/weights/calibrate", data={"reason": "outcomes 2026"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Saved as version v2" in html
    with app.app_context():
        version = db.session.execute(db.select(WeightsVersion).filter_by(is_current=True)).scalar_one()
        assert version.reason == "outcomes 2026"
        assert version.weights["criteria"]["training"] > 12.0


def test_evidence_is_audited_filtered_and_weighted(app, client, auth, leads):
    auth.login("admin")
    html = client.get("/leads?verified=1").get_data(as_text=True)
    # travel states no commitment: nothing verified, so not listed (issue 13: it used to be)
    assert "NordChip" not in html and "Volga-Mekong Travel" not in html
    response = client.post(
        f"/leads/{leads['robots']}/evidence/training",
        data={"ev-training-status": "verified", "ev-training-note": "saw the contract"},
        follow_redirects=True,
    )
    assert "Evidence saved" in response.get_data(as_text=True)
    assert "saw the contract" in response.get_data(as_text=True)  # in the audit trail
    assert "Say how the claim was checked" in client.post(
        f"/leads/{leads['robots']}/evidence/training", data={"ev-training-status": "verified"}, follow_redirects=True
    ).get_data(as_text=True)
    html = client.get("/leads?verified=1").get_data(as_text=True)
    assert "Volga Robotics" in html and "NordChip" not in html
    with app.app_context():
        entry = db.session.execute(db.select(AuditLog).filter_by(action="lead.evidence")).scalar_one()
        assert entry.details == {"field": "training", "old": "declared", "new": "verified", "note": "saw the contract"}
        before = {lead.id: lead.score for lead in db.session.execute(db.select(Lead)).scalars()}
    # unverified claims count half: NordChip's three claims lose points, the verified training does not
    client.post("/admin/weights/settings", data={"spread": "20", "top_k": "10", "unverified_factor": "0.5"})
    client.post("/admin/weights/rescore")
    with app.app_context():
        after = {lead.id: lead for lead in db.session.execute(db.select(Lead)).scalars()}
        assert after[leads["robots"]].score == before[leads["robots"]]
        assert after[leads["chips"]].score < before[leads["chips"]]
        assert after[leads["chips"]].latest.unverified_factor == 0.5


@pytest.mark.parametrize(("lang", "text"), [("ru", "Сохранить как новую версию"), ("vi", "Lưu thành phiên bản mới")])
def test_weights_pages_are_translated(client, auth, leads, lang, text):
    auth.login("admin")
    assert text in client.get(f"/admin/weights?lang={lang}").get_data(as_text=True)
    html = client.get("/leads").get_data(as_text=True)
    assert {"ru": "Устойчивость", "vi": "Độ ổn định"}[lang] in html


def test_upgrade_from_0001_links_old_assessments_to_version_1(make_app):
    from sqlalchemy import text

    from web.schema import upgrade

    old = make_app(users=False, AUTO_UPGRADE=False)
    upgrade(old, "0001")
    with old.app_context():
        db.session.execute(
            text(
                "INSERT INTO leads (name, extras, consent, source, status, created_at, updated_at) "
                "VALUES ('Old Firm', '{}', false, 'sample', 'new', '2026-01-01', '2026-01-01')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO assessments (lead_id, score, band, contributions, matched_sectors, completeness, missing, "
                "improvements, explanation, lang, texts, weights_version, created_at) VALUES ((SELECT id FROM leads), "
                "50, 'B', '[]', '[]', 1, '[]', '[]', '', 'en', '{}', 'sectors.yaml v1 0123456789ab', '2026-01-01')"
            )
        )
        db.session.commit()
    app = make_app(users=False)  # upgrades to 0002 and makes the sectors file version 1
    with app.app_context():
        assessment = db.session.execute(db.select(Assessment)).scalar_one()
        assert assessment.weights_version_id == 1 and assessment.weights_version == "sectors.yaml v1 0123456789ab"
        assert db.session.get(WeightsVersion, 1).is_current


def test_slope_chart_puts_tied_ranks_on_separate_rows():
    from web.charts import slope_chart

    rows = [
        {"id": 1, "rank_a": 1, "rank_b": 2, "change": -1},
        {"id": 2, "rank_a": 1, "rank_b": 1, "change": 0},
        {"id": 3, "rank_a": 3, "rank_b": 3, "change": 0},
    ]
    chart = slope_chart(rows, {}, top_k=2)
    ys = {line["name"]: (line["y1"], line["y2"]) for line in chart["lines"]}
    assert ys == {"1": (52.0, 52.0), "2": (30.0, 30.0), "3": (74.0, 74.0)}  # ties ordered by the other side
    assert chart["cut"] == {"a": 63.0, "b": 63.0}
    assert [line["kind"] for line in chart["lines"]] == ["same", "down", "same"]


def test_migration_0002_downgrades_and_upgrades_again(app, migration):
    from alembic import command
    from sqlalchemy import inspect

    from web.schema import upgrade

    with migration(app) as (connection, config):
        command.downgrade(config, "0001")
        assert "weights_versions" not in inspect(connection).get_table_names()
    upgrade(app)
    with app.app_context():
        assert {"weights_versions", "evidence", "settings"} <= set(inspect(db.engine).get_table_names())


def test_other_processes_score_with_a_saved_version_within_the_cache_time(make_app, monkeypatch):
    """Two app instances on one database stand for two processes: B picks up A's new version."""
    import time as real_time

    from web import appstate

    now = real_time.monotonic()
    monkeypatch.setattr(appstate.time, "monotonic", lambda: now)  # a slow machine never outlasts the cache time
    a = make_app()
    b = make_app(users=False, WEIGHTS_CACHE_SECONDS=5.0)
    body = {"name": "Volga Robotics", "okved": "28.99", "training": "committed"}
    b_client = b.test_client()
    first = b_client.post("/api/v1/score", json=body).get_json()
    assert first["weights_version"].startswith("v1 ")
    a_client = a.test_client()
    a_client.post("/login", data={"username": "admin", "password": "admin-pass-123"})  # the real form
    assert "Saved as version v2 " in save(a_client, **{"criteria.training": "60"}).get_data(as_text=True)
    # A uses v2 at once; B still answers from its cached snapshot, and says so consistently.
    assert a_client.post("/api/v1/score", json=body).get_json()["weights_version"].startswith("v2 ")
    cached = b_client.post("/api/v1/score", json=body).get_json()
    assert cached["weights_version"] == first["weights_version"] and cached["score"] == first["score"]
    # After the cache time B scores with v2, and the score follows the new weights.
    later = now + 6.0
    monkeypatch.setattr(appstate.time, "monotonic", lambda: later)
    fresh = b_client.post("/api/v1/score", json=body).get_json()
    assert fresh["weights_version"].startswith("v2 ") and fresh["score"] > first["score"]


def test_lead_matrix_reuses_rows_only_of_unchanged_leads(app, leads):
    with app.test_request_context():
        before = ranking.lead_matrix(ranking.all_leads())
        lead = db.session.get(Lead, leads["travel"])
        lead.training = "committed"  # bumps updated_at: this lead's row must be scored again
        db.session.commit()
        after = ranking.lead_matrix(ranking.all_leads())
        j = before.criteria.index("training")
        changed = [i for i, row in enumerate(after.leads) if row.id == leads["travel"]][0]
        assert after.matrix[changed, j] > before.matrix[changed, j]
        same = [i for i in range(len(after.leads)) if i != changed]
        assert (after.matrix[same] == before.matrix[same]).all()


def test_the_command_line_scores_as_the_app_after_a_weights_edit(app, client, auth, tmp_path):
    """Edit weights in the app, download them, score with ``matcher score --weights``: the web's scores."""
    import csv
    import io

    from web_testlib import upload, wait_done

    from matcher.cli import main

    auth.login("admin")
    saved = save(client, **{"criteria.training": "45", "answers.training.planned": "0.3"})
    assert "Saved as version v2" in saved.get_data(as_text=True)
    client.post("/admin/weights/settings", data={"spread": "20", "top_k": "10", "unverified_factor": "0.6"})
    with client.get("/admin/weights/export.yaml") as response:
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        exported = response.get_data()
    with app.app_context():
        label = db.session.execute(db.select(WeightsVersion.label).filter_by(is_current=True)).scalar()
    assert label.startswith("v2 ") and f"version: {label}".encode() in exported
    assert f"--weights weights-{label.replace(' ', '-')}.yaml" in client.get("/admin/weights").get_data(as_text=True)
    data = (
        b"id,name,description,okved,training,green,employees,investment_usd\n"
        b"1,Volga Robotics,industrial robots,28.99,planned,yes,120,2m\n"
        b"2,NordChip,microelectronics,26.11,committed,no,300,\n"
        b"3,Tour Co,tours to Hanoi,79.11,,,10,50000\n"
    )
    job_id = int(upload(client, data).headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    with client.get(f"/batch/{job_id}/scored.csv") as response:
        web = {r["id"]: r["score"] for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
    (tmp_path / "in.csv").write_bytes(data)
    (tmp_path / "weights.yaml").write_bytes(exported)
    sectors = app.config.get("SECTORS_PATH")
    argv = [
        "score",
        str(tmp_path / "in.csv"),
        "-o",
        str(tmp_path / "out.csv"),
        "-q",
        *(["--sectors", str(sectors)] if sectors else []),
    ]

    def cli_scores(*extra: str) -> dict[str, str]:
        assert main([*argv, *extra]) == 0
        with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
            return {r["id"]: r["score"] for r in csv.DictReader(handle)}

    assert cli_scores("--weights", str(tmp_path / "weights.yaml")) == web
    assert cli_scores() != web  # without the file: the sectors file's own weights
    profile = {
        "name": "Volga Robotics",
        "description": "industrial robots",
        "okved": "28.99",
        "training": "planned",
        "green": "yes",
        "employees": "120",
        "investment_usd": "2m",
    }
    assert client.post("/api/v1/score", json=profile).get_json()["score"] == float(web["1"])
