"""Bare extension objects. Models and views import these; `create_app` binds them. No I/O here."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so migrations are stable and SQLite batch mode can alter tables.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LazyMigrate:
    """Flask-Migrate, imported only when a migration command runs or its configuration is read.

    Importing `flask_migrate` imports Alembic, Mako and Pygments (~100 ms, a tenth of start-up),
    which no request, job or other command needs. `init_app` registers a stand-in `db` command
    and a stand-in `app.extensions["migrate"]`; either one, when used, initialises the real
    `flask_migrate.Migrate`, which then replaces both with its own."""

    def init_app(self, app: Flask, db: SQLAlchemy, **kwargs: Any) -> None:
        config = _LazyMigrateConfig(app, db, kwargs)
        app.extensions["migrate"] = config
        app.cli.add_command(_LazyCommand("db", "Perform database migrations.", config), name="db")


class _LazyMigrateConfig:
    """Stands in for Flask-Migrate's config object until an attribute of it is read."""

    def __init__(self, app: Flask, db: SQLAlchemy, kwargs: dict[str, Any]) -> None:
        self._app, self._db, self._kwargs = app, db, kwargs

    def resolve(self) -> Any:
        real = self._app.extensions.get("migrate")
        if real is self:
            from flask_migrate import Migrate

            Migrate().init_app(self._app, self._db, **self._kwargs)  # replaces both stand-ins
            real = self._app.extensions["migrate"]
        return real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)


class _LazyCommand(click.Command):
    """A command that lists itself (name and help) without importing its implementation; parsing
    and running its arguments go to the real command, loaded on first use."""

    def __init__(self, name: str, short_help: str, config: _LazyMigrateConfig) -> None:
        super().__init__(name, short_help=short_help, help=short_help)
        self._config = config

    def _real(self) -> click.Command:
        self._config.resolve()
        from flask_migrate.cli import db as real

        return real

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any):
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self._real().invoke(ctx)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
