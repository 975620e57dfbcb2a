"""Start-up stays light: building the app imports no provider SDK, no scikit-learn, no queue client
and no migration machinery (issue 18). Every CLI call, web process and worker pays for what the
app imports; these are imported where they are used (the worker preloads them before forking).

Checked in a fresh interpreter through `sys.modules` — what was imported, not how long it took.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_STARTUP = (
    "openai",
    "google.genai",
    "sklearn",
    "rq",
    "redis",
    "flask_migrate",
    "alembic",
    "cryptography",
    "pyotp",
    "segno",
    "numpy",
)


def _run(code: str, tmp_path: Path, argv: list[str] | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SECRET_KEY": "startup-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.sqlite3'}",
        "STORAGE_URL": f"file://{tmp_path / 'media'}",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(
        argv or [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_creating_the_app_imports_no_sdk_sklearn_queue_or_migrations(tmp_path):
    code = (
        "import json, sys\n"
        "import webapp\n"
        "app = webapp.create_app()\n"
        "with app.test_request_context('/'):\n"
        "    app.url_map.bind('localhost').match('/healthz')\n"
        f"print(json.dumps([m for m in {NOT_AT_STARTUP!r} if m in sys.modules]))\n"
    )
    proc = _run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_worker_preloads_what_the_app_leaves_out(tmp_path):
    """The other half of the bargain: `webapp.preload.preload` (called by worker.py before RQ
    forks) imports the SDKs that are installed and scikit-learn, so jobs do not pay for them."""
    code = (
        "import importlib.util, json, sys\n"
        "from webapp.preload import preload\n"
        "preload()\n"
        "wanted = [m for m in ('openai', 'google.genai', 'sklearn.cluster', 'numpy')\n"
        "          if importlib.util.find_spec(m.split('.')[0]) is not None]\n"
        "print(json.dumps([m for m in wanted if m not in sys.modules]))\n"
    )
    proc = _run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_db_command_is_listed_without_importing_alembic_and_still_works(tmp_path):
    """`flask db …` is a stand-in until used: `--help` lists it; running it loads Flask-Migrate."""
    code = (
        "import sys\n"
        "import webapp\n"
        "app = webapp.create_app()\n"
        "assert 'db' in app.cli.list_commands(None)\n"
        "print(app.cli.get_command(None, 'db').get_short_help_str())\n"
        "assert 'alembic' not in sys.modules\n"
    )
    proc = _run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Perform database migrations." in proc.stdout
    flask = [sys.executable, "-m", "flask", "--app", "webapp", "db"]
    for args, expected in ((["upgrade"], "Running upgrade"), (["current"], "(head)")):
        proc = _run("", tmp_path, argv=[*flask, *args])
        assert proc.returncode == 0, proc.stderr
        assert expected in proc.stdout + proc.stderr
