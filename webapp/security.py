"""Response headers and error pages that every route shares.

The Content-Security-Policy allows no inline script or style: behaviour lives in static/js and
htmx is configured (meta htmx-config) not to inject styles or eval.
"""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

CSP = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def init_security(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_bytes():
        """No text we store or search may contain NUL (Postgres refuses it, and no person types
        one): refuse such input at the door with a clear 400 instead of failing deep inside."""
        values = list(request.args.values()) + list(request.form.values())
        if request.is_json:
            values.append(request.get_json(silent=True))
        if any(_has_nul(v) for v in values):
            return _error(
                400, "Invalid characters", "The request contains a NUL character; remove it and try again."
            )

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if request.headers.get("HX-Request"):
            resp.headers.setdefault("Vary", "HX-Request")
        return resp

    def _error(status: int, title: str, detail: str):
        if request.path.startswith("/api/"):  # the API never answers HTML
            from webapp.api.core import problem_response

            return problem_response(status, title, detail)
        template = "_partials/_error.html" if request.headers.get("HX-Request") else "error.html"
        return render_template(template, status=status, title=title, detail=detail), status

    @app.errorhandler(400)
    def _bad_request(e):
        # Our own 400s (webapp.params) say which parameter is wrong and what it may be.
        return _error(400, "Bad request", e.description or "The request could not be understood.")

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        """Safety net: a value the database cannot hold (an id past Postgres' integer range, say)
        is the request's fault, so 400 — never a 500 and never the driver's message. Routes parse
        their input with webapp.params so this should not fire; the log line says where it did."""
        from webapp.extensions import db

        db.session.rollback()
        app.logger.error(
            "database refused a request value (%s) on %s %s; parse it with webapp.params",
            type(getattr(exc, "orig", exc)).__name__,
            request.method,
            request.url_rule.rule if request.url_rule else request.path,
        )
        return _error(400, "Bad request", "A value in the request is out of range.")

    @app.errorhandler(404)
    def _not_found(_e):
        return _error(404, "Not found", "That page or image does not exist, or it is not yours.")

    @app.errorhandler(403)
    def _forbidden(_e):
        return _error(403, "Not allowed", "Your account cannot do that.")

    @app.errorhandler(413)
    def _too_large(_e):
        limit = app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024) / (1024 * 1024)
        return _error(
            413, "File too large", f"The upload is larger than {limit:g} MB. Upload a smaller image."
        )

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        return _error(
            400, "Form expired", "The form expired or was sent from another site. Reload and try again."
        )

    @app.errorhandler(500)
    def _server_error(_e):
        return _error(500, "Something went wrong", "We have logged it. Try again in a moment.")
