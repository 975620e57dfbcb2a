"""gunicorn settings for the `web` process (gunicorn reads ./gunicorn.conf.py by itself).

Why these (measured with benchmarks/load.py; figures and reasoning in docs/scaling.md):

* Threaded workers (`gthread`): a sync worker is held by one request from start to end, so with
  two of them two slow uploads made every page and poll wait behind them (page p95 1.6-2 s). With
  threads, a page never waits for an upload to finish, only for its share of the CPU.
* No keep-alive (`WEB_KEEPALIVE`, default 0): gthread's main thread accepts every connection it
  can, and a kept-alive connection stays with the process that accepted it, so with keep-alive the
  first process took all 50 simulated producers and the second sat idle (py-spy; CPU split 7.5 s /
  3.0 s, then 5.4 s / 5.4 s without). A router or reverse proxy in front keeps client connections
  alive itself; set WEB_KEEPALIVE=2..5 only when clients talk to gunicorn directly and few of them.
* Uploads do little CPU work in the request (validate, hash, store; the job makes the thumbnail
  and colours), and job workers lower their own CPU priority (`WORKER_NICE` in worker.py), so when
  uploads saturate the machine it is jobs that slow down, not pages.
* Numeric libraries are kept to one thread per process: a web process serves many requests at
  once already, and OpenMP/BLAS pools sized to every core would fight them (and each other).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - a container's port
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("WEB_THREADS", "8"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "0"))
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
