"""Flask extensions, created unbound here and bound to the app in :func:`web.create_app`."""

from flask_babel import Babel
from flask_login import AnonymousUserMixin, LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Boolean, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class Base(DeclarativeBase):
    """Declarative base of every model."""


class AnonymousUser(AnonymousUserMixin):
    """A visitor who is not logged in: no staff rights (role checks read ``is_admin`` without a login check)."""

    is_admin = False


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
login_manager.anonymous_user = AnonymousUser
csrf = CSRFProtect()
babel = Babel()


def read_rows(statement, params: dict | None = None):
    """The result of ``statement``, a SELECT of columns (no mapped objects), run on the session's connection.

    The ORM's execution around it (objects to load, pending changes to flush first) costs a third of a
    short statement's CPU: for the reads of a page, which have neither. In the session's transaction.
    For statements built once per process: a connection maps the columns of a statement built anew to
    those of the cached one on every run (half a millisecond for the list's 27 columns). Take the rows with
    ``.all()`` rather than iterating over the result: one fetch, not one per row (0.06 ms fewer for 75 rows).
    """
    return db.session.connection().execute(statement, params)


class OneOf(ColumnElement):
    """Condition: a column's value is among those of the list parameter ``name``, given when the statement runs.

    ``column = ANY(:name)`` on PostgreSQL: one array parameter, where ``column IN (:name)`` with an expanding
    parameter (as other databases run it) renders a placeholder per value on every run: the list page's
    statement of its 25 ids (twice) took 0.26 ms of CPU that way, 0.20 ms with the array.
    """

    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it is (SQLite: no "= 1" after it in an OR)
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("name", InternalTraversal.dp_string)]

    def __init__(self, column, name: str) -> None:
        self.column, self.name = column, name


def one_of(column, name: str) -> OneOf:
    """:class:`OneOf`: ``column`` is one of the values of the list parameter ``name``."""
    return OneOf(column, name)


@compiles(OneOf)
def _one_of_in(element: OneOf, compiler, **kw) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _one_of_any(element: OneOf, compiler, **kw) -> str:
    return compiler.process(element.column == any_(bindparam(element.name, type_=ARRAY(element.column.type))), **kw)


def give_ids(objects: list) -> None:
    """Give new objects of one model their primary keys from its PostgreSQL sequence, in one statement.

    An object whose id is known is written without RETURNING, and psycopg then sends the rows of a flush as
    one prepared statement (executemany); without the ids, SQLAlchemy writes them as one INSERT of every
    row's values with RETURNING, whose text psycopg parses in Python placeholder by placeholder: at 1,000 leads
    a chunk, that parsing was 40 % of a batch import's CPU on PostgreSQL. Other databases: nothing is done
    (SQLite numbers the rows itself, at no such cost).
    """
    if not objects or db.session.get_bind().dialect.name != "postgresql":
        return
    table = type(objects[0]).__table__
    (column,) = table.primary_key.columns
    sequence = func.pg_get_serial_sequence(table.name, column.name)
    with db.session.no_autoflush:  # objects already added keep their place in the next flush, ids and all
        ids = db.session.execute(
            select(func.nextval(sequence)).select_from(func.generate_series(1, len(objects)))
        ).scalars()
    for obj, new_id in zip(objects, ids, strict=True):
        setattr(obj, column.key, new_id)
