"""Alembic environment: runs on the connection the web app hands over (see web/schema.py)."""

from alembic import context
from sqlalchemy import create_engine

config = context.config


def target_metadata():
    """The models' metadata, for ``alembic revision --autogenerate``."""
    import web.models  # noqa: F401  (registers the tables)
    from web.extensions import db

    return db.metadata


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata(), render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:  # the alembic command line: DATABASE_URL or the default SQLite file
    import secrets

    from web import create_app

    app = create_app({"AUTO_UPGRADE": False, "SECRET_KEY": secrets.token_hex(32)})  # signs nothing
    with app.app_context():
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    with create_engine(url).begin() as conn:
        run(conn)
