"""Flask extensions, created unbound here and bound to the app in :func:`web.create_app`."""

from flask_babel import Babel
from flask_login import AnonymousUserMixin, LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


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
