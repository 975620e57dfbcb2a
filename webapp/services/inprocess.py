"""Jobs in the web process, for when there is no job queue (no REDIS_URL, or Redis unreachable).

A small, bounded pool of background threads (`IN_PROCESS_JOB_THREADS`, default 2) runs the same
entry points RQ workers run. The request that starts a job only commits the row and hands its id
to the pool, so it returns at once and the job page's polling partial shows progress exactly as
with workers; no job is ever tied to a request's lifetime (gunicorn's timeout, a closed browser).

Jobs survive as rows, not as threads. Each queued row names the process that owns it in
`Job.worker` (`web:<host>:<pid>:<token>`; the token tells a restarted process from its
predecessor when the pid is reused, as in containers). When a process finds a row whose owner is
gone (`recover`): a job that had not started yet is taken over and run; a job that was running is
marked failed with Retry — its work was cut off half way and may have written files, so running
it again is the producer's call. Rows owned by another live process on this host, or by another
host, are left alone (a running one still becomes stale through its heartbeat).

Limits: the pool lives and dies with the process. It is for development and single-process
deployments (README); production runs RQ workers.
"""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

PREFIX = "web:"

_lock = threading.Lock()
_pool: _Pool | None = None
_identity: tuple[int, str] | None = None  # (pid, name), recomputed after a fork
_running_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("marquee_in_process", default=None)


def identity() -> str:
    """This process's owner name for in-process jobs: `web:<host>:<pid>:<random token>`."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, f"{PREFIX}{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
    return _identity[1]


def running_as() -> str | None:
    """The owner name while a pool thread runs a job (the runner records it as the job's worker)."""
    return _running_as.get()


def task_wait_limit() -> float | None:
    """How long a job on this pool may wait on a provider's task (Runway) before giving its thread back,
    or None outside the pool. The job then fails with Retry, the task keeps running at the provider and
    Retry resumes it (no second task, nothing billed twice); `IN_PROCESS_TASK_WAIT_SECONDS`, default
    300."""
    if running_as() is None:
        return None
    from flask import current_app

    try:
        return max(1.0, float(current_app.config.get("IN_PROCESS_TASK_WAIT_SECONDS", 300)))
    except (TypeError, ValueError):
        return 300.0


def owner_alive(worker: str | None) -> bool | None:
    """Whether the process named by an in-process job's `worker` still runs.

    True: this process, or another live process on this host. False: a process on this host that
    is gone (or a predecessor whose pid this process now has). None: unknown (another host, or not
    an in-process owner) — leave such rows to the heartbeat sweep."""
    if not worker or not worker.startswith(PREFIX):
        return None
    try:
        host, pid_text, _token = worker[len(PREFIX) :].rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    if pid == os.getpid():
        return worker == identity()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: not ours, but alive
        return True
    return True


class _Pool:
    """N daemon threads draining one queue. Daemon threads, not concurrent.futures: stopping the
    server (Ctrl+C) must not wait for a long AI job; the row it leaves is recovered at next start."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tasks: queue.SimpleQueue[tuple[Callable[..., None], tuple]] = queue.SimpleQueue()
        self._pid = os.getpid()
        for n in range(size):
            threading.Thread(target=self._work, name=f"marquee-job-{n}", daemon=True).start()

    def submit(self, fn: Callable[..., None], *args: object) -> None:
        self._tasks.put((fn, args))

    def _work(self) -> None:
        while True:
            fn, args = self._tasks.get()
            try:
                fn(*args)
            except Exception:  # the runner records failures on the row; never kill the thread
                log.exception("in-process job crashed outside the runner")


def _get_pool(app: Flask) -> _Pool:
    global _pool
    with _lock:
        if _pool is None or _pool._pid != os.getpid():  # a forked child does not inherit threads
            _pool = _Pool(max(1, int(app.config.get("IN_PROCESS_JOB_THREADS", 2))))
        return _pool


def submit(app: Flask, entry_point: Callable[[int], object], job_id: int) -> None:
    """Run `entry_point(job_id)` on the pool, inside an app context of `app`."""
    _get_pool(app).submit(_run, app, entry_point, job_id, identity())


def _run(app: Flask, entry_point: Callable[[int], object], job_id: int, owner: str) -> None:
    token = _running_as.set(owner)
    try:
        with app.app_context():
            entry_point(job_id)
    except Exception:
        log.info("in-process job %s failed; the row says why", job_id)
    finally:
        _running_as.reset(token)
