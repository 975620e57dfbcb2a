"""Jinja filters and globals the templates share."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, request


def filesize(num: int | None) -> str:
    if num is None:
        return "—"
    size = float(num)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def timeago(value: datetime | None) -> str:
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - value).total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return value.strftime("%d %b %Y")


def is_htmx() -> bool:
    """Page vs partial is decided from the HX-Request header, never from element ids."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def new_idempotency_key() -> str:
    """A one-time key rendered into forms that start work: submitting the same form twice (a
    double click, a resend) starts the work once (see services.jobs.start)."""
    import secrets

    return secrets.token_urlsafe(16)


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.filters["timeago"] = timeago
    from webapp.imaging.presets import format_label, format_title

    app.jinja_env.filters["format_label"] = format_label  # 'ig-story' -> 'Instagram story'
    app.jinja_env.filters["format_title"] = format_title  # 'ig-story' -> 'Instagram story 1080×1920'
    app.jinja_env.globals["is_htmx"] = is_htmx
    app.jinja_env.globals["new_idempotency_key"] = new_idempotency_key
