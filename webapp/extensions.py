"""Unbound Flask extensions, created once and bound in `create_app`.

Nothing here knows about an app or a request; services import `db` only.
"""

from flask import current_app, request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints, so migrations can alter them on PostgreSQL and SQLite alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
socketio = SocketIO()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address)


def configured(name):
    """A rate limit read from app.config[name] at request time (Config.RATELIMIT_* lists them)."""
    return lambda: current_app.config[name]


def user_or_address():
    """Rate-limit key: the logged-in user, else the client address."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else get_remote_address()


def login_account():
    """Rate-limit key of a login attempt: the account it names, however it is typed."""
    return "account:" + (request.form.get("identifier") or "").strip().lower()
