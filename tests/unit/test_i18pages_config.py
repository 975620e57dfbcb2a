"""Issue 18, pages under load: the gunicorn settings the Procfile's `web` process gets, read the
way gunicorn reads them (gunicorn.conf.py imported as a module, each value through gunicorn's own
validators), and the job workers' priority rule (worker.lower_priority) in a child process."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_conf(monkeypatch, **env: str):
    for name in (
        "WEB_CONCURRENCY",
        "WEB_WORKER_CLASS",
        "WEB_THREADS",
        "WEB_TIMEOUT",
        "WEB_KEEPALIVE",
        "PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _through_gunicorn(module) -> dict:
    from gunicorn.config import Config

    cfg = Config()
    for name in ("bind", "workers", "worker_class", "threads", "timeout", "keepalive", "accesslog"):
        cfg.set(name, getattr(module, name))
    return {
        "bind": cfg.bind,
        "workers": cfg.workers,
        "worker_class": cfg.worker_class_str,
        "threads": cfg.threads,
        "timeout": cfg.timeout,
        "keepalive": cfg.keepalive,
    }


def test_defaults_are_threaded_workers_without_keepalive_stickiness(monkeypatch):
    values = _through_gunicorn(_load_conf(monkeypatch))
    assert values["worker_class"] == "gthread"
    assert values["workers"] == 2 and values["threads"] == 8
    assert values["keepalive"] == 0  # docs/scaling.md: kept-alive connections pin clients to one process
    assert values["timeout"] == 60 and values["bind"] == ["0.0.0.0:8000"]


def test_the_environment_overrides_each_setting(monkeypatch):
    module = _load_conf(
        monkeypatch,
        WEB_CONCURRENCY="3",
        WEB_WORKER_CLASS="sync",
        WEB_THREADS="1",
        WEB_TIMEOUT="30",
        WEB_KEEPALIVE="5",
        PORT="9001",
    )
    values = _through_gunicorn(module)
    assert values == {
        "bind": ["0.0.0.0:9001"],
        "workers": 3,
        "worker_class": "sync",
        "threads": 1,
        "timeout": 30,
        "keepalive": 5,
    }


def test_sync_with_threads_is_gthread_in_gunicorns_eyes(monkeypatch):
    """Why the benchmark's --web-class sync also passes --threads 1: gunicorn runs a "sync" worker
    with more than one thread as gthread."""
    values = _through_gunicorn(_load_conf(monkeypatch, WEB_WORKER_CLASS="sync"))
    assert values["worker_class"] == "gthread" and values["threads"] == 8


def test_numeric_libraries_get_one_thread_per_process(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    _load_conf(monkeypatch)
    import os

    assert os.environ["OMP_NUM_THREADS"] == "1"


def _lower_priority_in_child(start_nice: int, value: str) -> subprocess.CompletedProcess:
    code = (
        f"import os, sys; os.nice({start_nice}); sys.path.insert(0, {str(ROOT)!r}); import worker; "
        f"print(worker.lower_priority({{'WORKER_NICE': {value!r}}}), os.nice(0))"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize(
    ("start", "value", "expected"),
    [(0, "15", 15), (15, "15", 15), (5, "12", 12), (17, "10", 17), (0, "0", 0)],
)
def test_worker_niceness_is_absolute_and_only_ever_lowers_priority(start, value, expected):
    """WORKER_NICE is a level, not an increment: the old `nice -n 15 python worker.py` plus the
    default gives 15, not 19; a process already nicer than asked stays as it is."""
    done = _lower_priority_in_child(start, value)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == [str(expected), str(expected)]


@pytest.mark.parametrize("value", ["high", "-5", "20"])
def test_a_bad_worker_nice_stops_the_worker_with_what_to_do(value):
    done = _lower_priority_in_child(0, value)
    assert done.returncode != 0
    assert "WORKER_NICE" in done.stderr and "0 (no change) to 19" in done.stderr
