"""The clock process (`clock: python clock.py` in the Procfile): runs housekeeping on a timer.

One process per deployment. Each task is idempotent, so a restart (or an accidental second
clock) does no harm. Tasks and intervals: webapp.services.maintenance.TASKS.
"""

from __future__ import annotations

import logging
import signal
import sys
import time

from webapp import create_app
from webapp.services.maintenance import TASKS, run

log = logging.getLogger("marquee.clock")
_stop = False


def _graceful(_sig, _frame) -> None:
    global _stop
    _stop = True


def main() -> int:
    app = create_app()
    signal.signal(signal.SIGTERM, _graceful)
    signal.signal(signal.SIGINT, _graceful)
    next_run = dict.fromkeys(TASKS, 0.0)
    log.info("clock started: %s", ", ".join(f"{k} every {v[0]} s" for k, v in TASKS.items()))
    while not _stop:
        now = time.monotonic()
        for name, (interval, _fn) in TASKS.items():
            if now < next_run[name]:
                continue
            next_run[name] = now + interval
            try:
                with app.app_context():
                    result = run(name)
                if result:
                    log.info("%s: %s", name, result)
            except Exception:
                log.exception("clock task %s failed; it runs again in %s s", name, interval)
        time.sleep(1.0)
    log.info("clock stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
