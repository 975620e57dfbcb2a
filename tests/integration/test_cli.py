"""`flask --app webapp autoformat` and migrations from the command line, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "webapp"]


def _env(tmp_path: Path, **extra) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE_URL"))
    }
    env.update(
        SECRET_KEY="cli-test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        STORAGE_URL=f"file://{tmp_path / 'media'}",
    )
    env.update(extra)
    return env


def test_autoformat_cli_writes_three_files_per_input_and_fails_on_bad_input(tmp_path, photo_jpeg, photo_png):
    (tmp_path / "gala.jpg").write_bytes(photo_jpeg)
    (tmp_path / "coffee.png").write_bytes(photo_png)
    (tmp_path / "notes.jpg").write_bytes(b"this is not an image")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *FLASK,
            "autoformat",
            str(tmp_path / "gala.jpg"),
            str(tmp_path / "notes.jpg"),
            str(tmp_path / "coffee.png"),
            "--out",
            str(out),
            "--format",
            "png",
        ],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "notes.jpg" in proc.stderr and "JPEG, PNG or WebP" in proc.stderr
    sizes = {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}
    for stem in ("gala", "coffee"):
        for kind, size in sizes.items():
            img = Image.open(out / f"{stem}-{kind}.png")
            assert img.format == "PNG" and img.size == size
    assert not list(out.glob("notes-*"))


def test_autoformat_cli_succeeds_with_default_jpeg(tmp_path, photo_jpeg):
    (tmp_path / "a.jpg").write_bytes(photo_jpeg)
    proc = subprocess.run(
        [*FLASK, "autoformat", str(tmp_path / "a.jpg"), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "a-banner.jpg",
        "a-poster.jpg",
        "a-square.jpg",
    ]


def test_db_upgrade_builds_schema_on_empty_sqlite(tmp_path):
    proc = subprocess.run(
        [*FLASK, "db", "upgrade"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert {"user_account", "asset", "job", "alembic_version"} <= tables


def test_migrations_match_the_models_on_postgres(app):
    """Autogenerate against the migrated Postgres schema finds nothing to add: the schema is
    created only by migrations, and they are complete."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from webapp.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
