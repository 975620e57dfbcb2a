"""Home and health endpoints."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Signed-in producers go straight to work; visitors see what Marquee does."""
    if current_user.is_authenticated:
        return redirect(url_for("autoformat.new"))
    return render_template("index.html")


@bp.get("/healthz")
def healthz():
    """Process is up (no dependencies checked: that is /readyz's job)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Database, Redis (when configured) and storage reachable: 200, else 503 naming what failed.
    Cheap enough for a platform health check every few seconds."""
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.services.queue import get_redis
    from webapp.storage import get_storage

    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    conn = get_redis()
    if conn is None:
        checks["redis"] = "not configured (jobs run in the web process)"
    else:
        try:
            conn.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    try:
        get_storage().check()
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
