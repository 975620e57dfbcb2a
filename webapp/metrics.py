"""Prometheus metrics at ``/metrics``, for operators who alert on what producers feel.

Off unless ``METRICS_TOKEN`` is set: then ``/metrics`` answers a scraper that sends
``Authorization: Bearer <token>`` and 404s everyone else (the page tells an attacker nothing, not
even that it exists). Off means nothing is recorded and ``prometheus_client`` is never imported.

Why multiprocess mode: gunicorn runs several web processes and every RQ job runs in a forked work
horse, so a counter kept in one process's memory would show a random slice. ``prometheus_client``'s
multiprocess mode keeps each process's values in small files under ``PROMETHEUS_MULTIPROC_DIR``
(``METRICS_DIR``; by default a folder in the temp dir named after the database, so the web processes
and the workers of one deployment on one host meet there) and sums them at scrape time. Work horses
write under their worker's id rather than their own pid: one horse runs at a time per worker, and
files do not pile up one per job. Gauges that are facts about the database (budget used this month)
are read at scrape time instead.

What is recorded: requests by route and status with latency; jobs by kind and outcome with run time
and queue wait; provider calls by provider and outcome with latency and cost; allowance refusals.
See docs/operations.md for the alerts worth setting on them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, g, request

_lock = threading.Lock()
_metrics: dict[str, Any] | None = None

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
PROVIDER_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300)


def enabled(app: Flask | None = None) -> bool:
    """Whether this deployment records metrics (``METRICS_TOKEN`` is set)."""
    try:
        app = app or current_app._get_current_object()
    except RuntimeError:
        return False
    return bool(app.config.get("METRICS_TOKEN"))


def metrics_dir(app: Flask) -> Path:
    """Where the processes of this deployment keep their values (see the module docstring)."""
    configured = app.config.get("METRICS_DIR") or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        return Path(configured)
    db_url = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"marquee-metrics-{digest}"


def _process_id() -> str:
    """A work horse writes as its worker (``worker.py`` sets MARQUEE_WORKER_PID before forking)."""
    parent = os.environ.get("MARQUEE_WORKER_PID")
    pid = os.getpid()
    if parent and parent.isdigit() and int(parent) != pid:
        return f"rqworker{parent}"
    return str(pid)


def _registry(app: Flask) -> dict[str, Any]:
    """The metric objects, created once per process on first use."""
    global _metrics
    if _metrics is not None:
        return _metrics
    with _lock:
        if _metrics is not None:
            return _metrics
        folder = metrics_dir(app)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        from prometheus_client import Counter, Histogram, values

        values.ValueClass = values.MultiProcessValue(process_identifier=_process_id)
        _metrics = {
            "requests": Histogram(
                "marquee_http_request_duration_seconds",
                "Time to answer an HTTP request, by route and status.",
                ["route", "method", "status"],
                buckets=LATENCY_BUCKETS,
            ),
            "jobs": Counter(
                "marquee_jobs_total", "Finished job attempts, by kind and outcome.", ["kind", "outcome"]
            ),
            "job_seconds": Histogram(
                "marquee_job_duration_seconds",
                "Run time of a job attempt, by kind and outcome.",
                ["kind", "outcome"],
                buckets=JOB_BUCKETS,
            ),
            "job_wait": Histogram(
                "marquee_job_queue_wait_seconds",
                "Time a job waited between being queued and a worker starting it, by kind.",
                ["kind"],
                buckets=JOB_BUCKETS,
            ),
            "provider_calls": Counter(
                "marquee_provider_calls_total",
                "Calls to AI providers, by provider and outcome.",
                ["provider", "outcome"],
            ),
            "provider_cost": Counter(
                "marquee_provider_cost_usd_total", "Money the ledger recorded, by provider.", ["provider"]
            ),
            "provider_seconds": Histogram(
                "marquee_provider_call_duration_seconds",
                "Time an AI provider took to answer, by provider and outcome.",
                ["provider", "outcome"],
                buckets=PROVIDER_BUCKETS,
            ),
            "refusals": Counter(
                "marquee_allowance_refusals_total",
                "Requests refused by a producer's allowance, by kind.",
                ["kind"],
            ),
        }
        return _metrics


def _safe(fn_name: str, *args: Any) -> None:
    """Record without ever failing the work being measured."""
    try:
        app = current_app._get_current_object()
    except RuntimeError:
        return
    if not app.config.get("METRICS_TOKEN"):
        return
    try:
        _RECORDERS[fn_name](_registry(app), *args)
    except Exception:  # metrics are never worth a failed job or request
        app.logger.debug("metrics: could not record %s", fn_name, exc_info=True)


def job_finished(kind: str, outcome: str, run_seconds: float | None, wait_seconds: float | None) -> None:
    """One job attempt ended (``outcome``: succeeded, failed, cancelled, retrying)."""
    _safe("job", kind, outcome, run_seconds, wait_seconds)


def provider_call(provider: str, outcome: str, cost: Any) -> None:
    """One provider call the ledger recorded, with what it cost."""
    _safe("provider", provider, outcome, cost)


def provider_latency(provider: str, outcome: str, seconds: float) -> None:
    _safe("latency", provider, outcome, seconds)


def allowance_refused(kind: str) -> None:
    _safe("refusal", kind)


def _rec_job(m: dict, kind: str, outcome: str, run: float | None, wait: float | None) -> None:
    m["jobs"].labels(kind, outcome).inc()
    if run is not None and run >= 0:
        m["job_seconds"].labels(kind, outcome).observe(run)
    if wait is not None and wait >= 0:
        m["job_wait"].labels(kind).observe(wait)


def _rec_provider(m: dict, provider: str, outcome: str, cost: Any) -> None:
    m["provider_calls"].labels(provider, outcome).inc()
    if cost:
        m["provider_cost"].labels(provider).inc(float(cost))


_RECORDERS = {
    "job": _rec_job,
    "provider": _rec_provider,
    "latency": lambda m, p, o, s: m["provider_seconds"].labels(p, o).observe(s),
    "refusal": lambda m, k: m["refusals"].labels(k).inc(),
}


# ------------------------------------------------------------------------------------- the web side


def init_app(app: Flask) -> None:
    """Time every request and serve ``/metrics`` (404 unless METRICS_TOKEN is set and sent)."""

    @app.before_request
    def _start_timer() -> None:
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("_metrics_started", None)
        if started is not None and app.config.get("METRICS_TOKEN"):
            route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            if route != "/metrics":
                try:
                    _registry(app)["requests"].labels(
                        route, request.method, str(response.status_code)
                    ).observe(time.perf_counter() - started)
                except Exception:
                    app.logger.debug("metrics: could not time the request", exc_info=True)
        return response

    app.add_url_rule("/metrics", "metrics", _scrape)


def _scrape() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        abort(404)
    _registry(current_app)  # sets the folder even before anything was recorded here
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir(current_app)))
    registry.register(_DatabaseCollector())
    body = generate_latest(registry)
    resp = Response(body, mimetype=CONTENT_TYPE_LATEST)
    resp.headers["Cache-Control"] = "no-store"
    return resp


class _DatabaseCollector:
    """Facts the database holds, read at scrape time: budget used per provider this month and the
    jobs waiting or running now (what a queue-depth alert wants, whether or not Redis is up)."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func, select

        from webapp.extensions import db
        from webapp.models import Job, Provider, ProviderSpend

        month = time.strftime("%Y-%m", time.gmtime())
        spent = GaugeMetricFamily(
            "marquee_provider_budget_used_usd",
            "Spent plus reserved this month, by provider.",
            labels=["provider"],
        )
        limit = GaugeMetricFamily(
            "marquee_provider_budget_usd",
            "The provider's monthly budget (absent: no budget set).",
            labels=["provider"],
        )
        rows = db.session.execute(
            select(
                Provider.name, Provider.monthly_budget, ProviderSpend.spent, ProviderSpend.reserved
            ).outerjoin(
                ProviderSpend, (ProviderSpend.provider_id == Provider.id) & (ProviderSpend.month == month)
            )
        ).all()
        for name, budget_value, used, reserved in rows:
            spent.add_metric([name], float((used or 0) + (reserved or 0)))
            if budget_value is not None:
                limit.add_metric([name], float(budget_value))
        yield spent
        yield limit
        jobs = GaugeMetricFamily(
            "marquee_jobs_in_flight", "Jobs queued or running now.", labels=["kind", "status"]
        )
        for kind, status, count in db.session.execute(
            select(Job.kind, Job.status, func.count())
            .where(Job.status.in_(("queued", "running")))
            .group_by(Job.kind, Job.status)
        ):
            jobs.add_metric([kind, status], count)
        yield jobs
        db.session.rollback()
