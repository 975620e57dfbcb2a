"""The RQ worker process (`python worker.py` in the Procfile).

Heavy imports happen here, before RQ forks a work horse per job, so each job does not pay for
Pillow, numpy and scikit-learn again. The app is built once. SIGTERM (a Heroku dyno restart or a
deploy) lets the current job finish within the platform's grace period: RQ's warm shutdown. A
housekeeping thread sweeps jobs of dead workers and jobs lost from Redis every minute.

The worker lowers its own CPU priority first (`WORKER_NICE`, default 15; work horses inherit it):
where web and job processes share cores, a page must win the CPU and a job may wait (issue 18,
docs/scaling.md "Pages under load"). On machines of their own the level changes nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from rq import Queue, Worker

from webapp import create_app
from webapp.jobs.runner import set_worker_app
from webapp.preload import preload
from webapp.services.queue import QUEUE_NAMES, get_redis, queue_name

log = logging.getLogger("marquee.worker")

#: Default niceness of job workers: at 15 the kernel gives a runnable nice-0 web thread ~97% of a
#: contended core (CFS weights 1024 vs 36).
DEFAULT_NICE = 15


def lower_priority(env: dict[str, str] | None = None) -> int:
    """Make this process at least as nice as WORKER_NICE (0-19) and return the niceness it runs at.

    Absolute, not an increment: `nice -n 15 python worker.py` (the old Procfile) and WORKER_NICE=15
    together still give 15. A process can always lower its own priority, never raise it, so a value
    below the current one leaves it as it is."""
    raw = (env if env is not None else os.environ).get("WORKER_NICE", str(DEFAULT_NICE)).strip()
    try:
        target = int(raw)
    except ValueError:
        raise SystemExit(f"WORKER_NICE={raw!r} is not a whole number: use 0 (no change) to 19.") from None
    if not 0 <= target <= 19:
        raise SystemExit(f"WORKER_NICE={target} is out of range: use 0 (no change) to 19.")
    current = os.nice(0)
    if target > current:
        current = os.nice(target - current)
    return current


def _housekeeping(app, stop: threading.Event, every: float) -> None:
    from webapp.services.jobs import sweep

    while not stop.wait(every):
        try:
            with app.app_context():
                result = sweep()
                if any(result.values()):
                    log.info("housekeeping: %s", result)
        except Exception:
            log.exception("housekeeping pass failed")


def main(argv: list[str]) -> int:
    # Work horses record /metrics under this worker's id, not one file per forked job.
    os.environ["MARQUEE_WORKER_PID"] = str(os.getpid())
    niceness = lower_priority()
    preload()  # SDKs, numpy, scikit-learn, PyAV, the job modules: 1-3 s paid once, before forking
    app = create_app()
    set_worker_app(app)
    with app.app_context():
        conn = get_redis()
        if conn is None:
            print("REDIS_URL is not set: there is nothing for a worker to do (jobs run in the web process).")
            return 2
        names = argv or list(QUEUE_NAMES)
        queues = [Queue(queue_name(n), connection=conn) for n in names]
        from webapp.services.jobs import sweep

        log.info("startup sweep: %s", sweep())
        log.info("job worker running at nice %d", niceness)
    stop = threading.Event()
    threading.Thread(
        target=_housekeeping, args=(app, stop, float(os.environ.get("SWEEP_SECONDS", "60"))), daemon=True
    ).start()
    worker = Worker(queues, connection=conn)
    try:
        worker.work(with_scheduler=True, logging_level=os.environ.get("LOG_LEVEL", "INFO"))
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
