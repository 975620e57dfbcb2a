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
