"""AstroConsult: the application factory.

`create_app(config)` reads like a table of contents: each register step
binds one concern and is a few lines long.
"""

import os
import warnings

from flask import Flask, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import event

from . import (
    i18n,
    observability,
    realtime,  # noqa: F401  (handlers attach to `socketio` before any init_app, so every app gets them)
    security,
)
from .config import Config
from .extensions import csrf, db, htmx, limiter, login_manager, migrate, socketio
from .models.types import alembic_compare_type
from .services.messaging import attachment_storage

# Eventlet is the product owner's choice; its maintainers' deprecation notice is known (DESIGN.md).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def create_app(config=None):
    """Build the app from a Config instance (default: the environment)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config if config is not None else Config())
    configure_database(app)
    register_extensions(app)
    app.extensions["attachment_storage"] = attachment_storage.from_config(app.config, app.instance_path)
    register_blueprints(app)
    register_features()
    register_realtime(app)
    register_commands(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    observability.init_app(app)
    return app


def configure_database(app):
    """DATABASE_URL, or SQLite under instance/; pool sized for concurrent greenlets."""
    url = app.config.get("DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "astroconsult.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    else:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_size": app.config["DB_POOL_SIZE"],
            "max_overflow": app.config["DB_POOL_SIZE"],
            "pool_pre_ping": True,
        }


def _sqlite_connect(dbapi_connection, _record):
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers
    # and the one writer work side by side. pysqlite opens a transaction just
    # before the first write, so reads never hold a snapshot that a later write
    # would have to upgrade. (The price: no SAVEPOINTs, which the services do
    # not use; a refused operation rolls the whole transaction back.)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def register_extensions(app):
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connect)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        compare_type=alembic_compare_type,
        render_as_batch=True,  # SQLite can only alter a table by copying it
    )
    security.init_app(app)  # first: it sets an upload's body limit before CSRFProtect reads the form
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    _register_login(app)


def _register_login(app):
    from .services.users import login_sessions

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.localize_callback = str  # flashed as text in the request's language (a session holds no lazy string)
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id):
        # The cookie's login session must still be live, and the account active: a logout, "log out
        # everywhere" or a suspension takes effect at the next request or socket event, wherever it is.
        return login_sessions.live_user(user_id, session.get("login_id"))


def register_blueprints(app):
    from .blueprints.admin import bp as admin_bp
    from .blueprints.api import bp as api_bp
    from .blueprints.astrologers import bp as astrologers_bp
    from .blueprints.attachments import bp as attachments_bp
    from .blueprints.auth import bp as auth_bp
    from .blueprints.consultations import bp as consultations_bp
    from .blueprints.dashboard import bp as dashboard_bp
    from .blueprints.health import bp as health_bp
    from .blueprints.kundli import bp as kundli_bp
    from .blueprints.notifications import bp as notifications_bp
    from .blueprints.payments import bp as payments_bp
    from .blueprints.push import bp as push_bp
    from .blueprints.wallet import bp as wallet_bp

    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(astrologers_bp)
    app.register_blueprint(wallet_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(kundli_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(push_bp)


def register_features():
    """Each job channel and each signal receiver registers itself where it is defined (services/jobs.py
    and services/signals.py import none of them): imported here, so every process (web, worker, CLI)
    has them all, whatever it happened to import before."""
    from .services.ai import matching, safety, summaries  # noqa: F401  jobs; safety: session_ended
    from .services.astrologers import follows, marketplace, performance  # noqa: F401  signals
    from .services.billing import session_bar  # noqa: F401  minute(s)_charged
    from .services.consultations import caps, queue  # noqa: F401  minute_charged, session_ended
    from .services.money import topup_refunds  # noqa: F401  the gateway_refund job (an outbox)
    from .services.notifications import account_mail, push, receipts  # noqa: F401  jobs; receipts: signals
    from .services.users import data_export  # noqa: F401  the data_export job


def register_realtime(app):
    """Bind Socket.IO; the handlers of webapp.realtime were attached when this module was imported."""
    from .realtime.broadcast import ClosingRedisManager
    from .realtime.events import register_direct
    from .realtime.writer import ChatWriter

    public = app.config.get("PUBLIC_URL")
    queue = app.config.get("REDIS_URL")
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=queue,
        channel=app.config["SOCKETIO_CHANNEL"],
        # Several processes over Redis: a logout or suspension closes the sockets in every one of them.
        **({"client_manager": ClosingRedisManager(queue, channel=app.config["SOCKETIO_CHANNEL"])} if queue else {}),
        # The accepted Origin comes from configuration, not from a Host header a proxy may rewrite;
        # unset (development), Engine.IO accepts only the request's own origin.
        cors_allowed_origins=[public] if public else None,
    )
    app.extensions["chat_writer"] = ChatWriter(app)
    register_direct()


def register_commands(app):
    from .cli import register

    register(app)


def register_errorhandlers(app):
    """The error pages, and the transaction boundary that answers refusals (webapp/boundary.py)."""
    from . import boundary, error_pages

    error_pages.register(app)
    boundary.init_app(app)


def register_template_helpers(app):
    from .templating import register

    register(app)
