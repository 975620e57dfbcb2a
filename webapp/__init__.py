"""Marquee: one artwork in, every image a show needs out.

`create_app(config=None)` is a short list of register_* calls. Tests pass a mapping that
overrides the environment; production reads the environment once through `webapp.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webapp.config import PROJECT_ROOT, load_settings

if TYPE_CHECKING:  # Flask is imported inside create_app so `webapp.imaging` stays light for the CLI
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` keys are Flask config keys (e.g. SQLALCHEMY_DATABASE_URI)."""
    from flask import Flask

    settings = load_settings()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.update(settings.as_flask_config())
    if config:
        app.config.update(config)
        if "DATABASE_URL" in config and "SQLALCHEMY_DATABASE_URI" not in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
        if "SQLALCHEMY_ENGINE_OPTIONS" not in config:  # options must match the database actually used
            from webapp.config import _engine_options

            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    register_converters(app)
    register_logging(app, settings.generated_secret)
    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_metrics(app)
    register_cli(app)
    register_template_helpers(app)
    register_in_process_jobs(app)
    return app


def register_metrics(app: Flask) -> None:
    from webapp import metrics

    metrics.init_app(app)


def register_in_process_jobs(app: Flask) -> None:
    """At a web process's first request, look once for in-process jobs (no job queue) that a
    previous process left unfinished: resume those that never started, fail the interrupted ones
    with Retry (`services.jobs.recover_in_process_jobs`). Not at start-up itself: `create_app`
    also runs for `flask db upgrade`, before the tables exist."""
    import threading

    pending = threading.Event()
    pending.set()

    @app.before_request
    def _recover_in_process_jobs() -> None:
        if not pending.is_set():
            return
        pending.clear()
        from webapp.extensions import db
        from webapp.services.jobs import recover_in_process_jobs

        try:
            recover_in_process_jobs()
        except Exception:
            db.session.rollback()
            app.logger.exception("could not recover in-process jobs of a previous process")


def register_converters(app: Flask) -> None:
    """`<int:...>` ids above Postgres' integer range would reach the database and fail there:
    bound them so such URLs are plain 404s. ASCII digits only: Werkzeug's digit class also matches
    other scripts' digits ("١٢"), which `int()` would quietly turn into an id."""
    from werkzeug.routing import IntegerConverter

    from webapp.params import MAX_ID

    class BoundedInt(IntegerConverter):
        regex = r"[0-9]+"

        def __init__(self, url_map, *args, **kwargs) -> None:
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = BoundedInt


def register_logging(app: Flask, generated_secret: bool) -> None:
    """JSON logs in production (LOG_FORMAT=json), readable lines in development; secrets redacted
    from every record; a request id on every request, returned as X-Request-ID."""
    import os

    from flask import g, request

    from webapp import logging_setup

    json_logs = os.environ.get("LOG_FORMAT", "json" if app.config.get("ENV_NAME") == "production" else "text")
    logging_setup.configure(json_logs == "json", os.environ.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _request_id() -> None:
        g.request_id = logging_setup.new_request_id(request.headers.get("X-Request-ID"))
        logging_setup.request_id_var.set(g.request_id)

    @app.after_request
    def _echo_request_id(resp):
        rid = g.get("request_id")
        if rid:
            resp.headers["X-Request-ID"] = rid
        return resp

    if generated_secret:
        app.logger.info("Using a generated development SECRET_KEY (set SECRET_KEY in production).")


def register_extensions(app: Flask) -> None:
    from webapp import models  # noqa: F401  (models must be imported for migrations)
    from webapp.extensions import csrf, db, login_manager, migrate

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from webapp.services import sessions

        return sessions.load_user(user_id)

    if uri.startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - sqlite only
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()


def register_blueprints(app: Flask) -> None:
    from webapp.activity.routes import bp as activity_bp
    from webapp.admin.routes import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.api import register_error_handlers
    from webapp.api.pages import bp as tokens_bp
    from webapp.auth.routes import bp as auth_bp
    from webapp.autoformat.routes import bp as autoformat_bp
    from webapp.bulk.routes import bp as bulk_bp
    from webapp.library.routes import bp as library_bp
    from webapp.main import bp as main_bp
    from webapp.palettes.routes import bp as palettes_bp
    from webapp.settings.routes import bp as settings_bp
    from webapp.shows.routes import bp as shows_bp
    from webapp.studio.routes import bp as studio_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
    register_error_handlers(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(autoformat_bp)
    app.register_blueprint(bulk_bp)
    app.register_blueprint(activity_bp)
    app.register_blueprint(library_bp)
    app.register_blueprint(shows_bp)
    app.register_blueprint(studio_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(palettes_bp)


def register_security(app: Flask) -> None:
    from webapp.security import init_security

    init_security(app)


def register_cli(app: Flask) -> None:
    from webapp.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from webapp.templating import init_templating

    init_templating(app)
