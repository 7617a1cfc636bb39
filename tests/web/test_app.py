"""The factory, configuration, schema, commands and security headers."""

import pytest
from sqlalchemy import inspect, text

from web import database_url
from web.commands import bootstrap
from web.extensions import db
from web.models import Lead, User


def test_config_from_test_mapping(app):
    assert app.testing
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024


def test_default_database_is_sqlite_in_instance(tmp_path):
    assert database_url(None, str(tmp_path)) == f"sqlite:///{tmp_path}/matcher.sqlite"
    assert database_url("postgresql://u@h/db", "x") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db", "x") == "postgresql+psycopg://u@h/db"


def test_schema_is_created_by_migrations(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"leads", "assessments", "notes", "users", "audit_log", "batch_jobs", "alembic_version"} <= tables


def test_upgrade_is_idempotent(app, make_app):
    make_app(users=False)  # a second start on the same database upgrades nothing and fails on nothing


def test_bootstrap_loads_samples_and_admin_once(make_app, monkeypatch):
    app = make_app(users=False)
    monkeypatch.setenv("MATCHER_ADMIN_PASSWORD", "from-env-123")
    with app.app_context():
        loaded, password = bootstrap()
        assert loaded > 40 and password == "from-env-123"
        admin = db.session.execute(db.select(User)).scalar_one()
        assert admin.role == "admin" and admin.check_password("from-env-123")
        assert bootstrap() == (0, None)
        assert db.session.execute(db.select(db.func.count(Lead.id))).scalar() == loaded


def test_bootstrap_generates_password(make_app, monkeypatch):
    monkeypatch.delenv("MATCHER_ADMIN_PASSWORD", raising=False)
    app = make_app(users=False)
    with app.app_context():
        _, password = bootstrap()
    assert password and len(password) >= 12


def test_cli_commands(runner):
    result = runner.invoke(args=["upgrade-db"])
    assert "up to date" in result.output
    result = runner.invoke(
        args=["create-user", "bob", "bob@example.org", "--role", "analyst", "--password", "bob-pass-123"]
    )
    assert "created" in result.output


def test_security_headers(client):
    response = client.get("/assess")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_or_cdn(client, auth):
    auth.login("admin")
    for url in ("/assess", "/login", "/leads", "/batch", "/admin/users"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html, url
        assert "https://" not in html.replace("https://sevizotop", ""), url


def test_root_redirects_to_assess(client):
    assert client.get("/").headers["Location"].endswith("/assess")


def test_migrations_match_the_models(app):
    """Alembic's autogenerate finds nothing to add: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def built_here(obj, _name, type_, reflected, _compare_to) -> bool:
        """An index the model builds on another database only (``ddl_if``) is not expected here."""
        only = getattr(obj, "_ddl_if", None) if type_ == "index" and not reflected else None
        return only is None or only.dialect in (None, connection.dialect.name)

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": built_here})
        diff = compare_metadata(context, db.metadata)
    # SQLite cannot tell a server default apart; only table, column and index differences count here.
    kinds = [d[0] if isinstance(d, tuple) else d[0][0] for d in diff]
    assert not [
        k
        for k in kinds
        if k in {"add_table", "remove_table", "add_column", "remove_column", "add_index", "remove_index"}
    ], diff


def test_migration_0003_downgrades_and_upgrades_again(app, migration):
    from alembic import command

    from web.schema import upgrade

    with migration(app) as (connection, config):
        command.downgrade(config, "0002")
        assert "row_version" not in {c["name"] for c in inspect(connection).get_columns("leads")}
    upgrade(app)
    with app.app_context():
        assert "row_version" in {c["name"] for c in inspect(db.engine).get_columns("leads")}
        assert "heartbeat_at" in {c["name"] for c in inspect(db.engine).get_columns("batch_jobs")}


def test_migration_0005_downgrades_and_upgrades_again(app, migration):
    from alembic import command

    from web.schema import upgrade

    added = {"imported_rows", "import_state", "worker_host", "worker_pid", "worker_started"}
    with migration(app) as (connection, config):
        command.downgrade(config, "0004")
        assert not added & {c["name"] for c in inspect(connection).get_columns("batch_jobs")}
        for imported in (0, 7):  # imported all at once before 0005, or not yet
            connection.execute(
                text(
                    "INSERT INTO batch_jobs (filename, lang, state, progress, rows, scored, errors, imported,"
                    " created_at, attempts)"
                    " VALUES ('a.csv', 'en', 'done', 1.0, 9, 7, 2, :imported, CURRENT_TIMESTAMP, 1)"
                ),
                {"imported": imported},
            )
    upgrade(app)
    with app.app_context():
        assert added <= {c["name"] for c in inspect(db.engine).get_columns("batch_jobs")}
        jobs = db.session.execute(text("SELECT imported, imported_rows, import_state FROM batch_jobs ORDER BY id"))
        assert [tuple(row) for row in jobs] == [(0, 0, None), (7, 9, "done")]  # never imported twice


@pytest.mark.parametrize(
    "path", ["/leads/2147483648", "/batch/2147483648", "/api/v1/leads/2147483648", "/admin/weights/2147483648"]
)
def test_ids_beyond_an_integer_column_are_404(client, auth, path):
    auth.login("admin")
    assert client.get(path).status_code == 404


def test_a_post_to_an_id_beyond_an_integer_column_is_404(client, auth):
    auth.login("admin")
    assert client.post("/admin/users/2147483648/role").status_code == 404
