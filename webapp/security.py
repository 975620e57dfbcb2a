"""Response headers and error pages that every route shares.

The Content-Security-Policy allows no inline script or style: behaviour lives in static/js and
htmx is configured (meta htmx-config) not to inject styles or eval.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

CSP_TEMPLATE = (
    "default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"
)
HSTS = "max-age=31536000; includeSubDomains"


def image_sources(storage_url: str, endpoint_url: str | None, region: str) -> str:
    """img-src: our own origin, blob: (the upload preview draws the chosen file through
    URL.createObjectURL) and, with S3 storage, the one origin presigned links point at — not
    `https:`, which let any page element beacon anywhere."""
    sources = ["'self'", "blob:"]
    parts = urlsplit(storage_url or "")
    if parts.scheme == "s3" and parts.netloc:
        if endpoint_url:
            ep = urlsplit(endpoint_url)
            sources.append(f"{ep.scheme}://{ep.netloc}")
            # Virtual-hosted style puts the bucket in the host name.
            sources.append(f"{ep.scheme}://{parts.netloc}.{ep.netloc}")
        else:
            sources += [
                f"https://{parts.netloc}.s3.amazonaws.com",
                f"https://{parts.netloc}.s3.{region}.amazonaws.com",
            ]
    return " ".join(sources)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


API_JSON_MAX_BYTES = 64 * 1024  # the largest API JSON body (a price table) is a few KB
# A bulk batch is the one large JSON body: 500 prompts of up to 1,000 characters, escaped.
BULK_JSON_MAX_BYTES = 4 * 1024 * 1024
UPLOAD_MARGIN_BYTES = 1024 * 1024  # multipart framing and the form fields next to one file


def body_limit(app: Flask) -> int:
    """The most this request may send. API: small JSON (a bulk batch's prompts excepted), or one
    upload (UPLOAD_MAX_BYTES plus framing); elsewhere the global MAX_CONTENT_LENGTH (a browser
    batch of up to 20 uploads)."""
    if request.path.startswith("/api/"):
        if request.mimetype == "multipart/form-data":
            return int(app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)) + UPLOAD_MARGIN_BYTES
        if request.path.rstrip("/") == "/api/v1/bulk":
            return BULK_JSON_MAX_BYTES
        return int(app.config.get("API_JSON_MAX_BYTES", API_JSON_MAX_BYTES))
    return int(app.config.get("MAX_CONTENT_LENGTH") or 0) or 2**63


def _authenticated() -> bool:
    """A logged-in browser or a bearer request (even one refused: its answer is still private)."""
    if getattr(g, "api_user", None) is not None or request.headers.get("Authorization"):
        return True
    from flask_login import current_user

    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # no login manager in this context (a failed request early on)
        return False


def init_security(app: Flask) -> None:
    @app.before_request
    def _refuse_oversized_bodies():
        """Refuse a body larger than this route takes before a byte of it is read: from the
        declared Content-Length at once, and (for chunked bodies without one) by capping the
        stream, which Werkzeug turns into 413 when a reader goes past it. An anonymous 20 MB
        body to the API therefore costs nothing but this check."""
        limit = body_limit(app)
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            return _error(
                413,
                "Request too large",
                f"This address accepts at most {limit // 1024:,} KB per request.",
            )

    @app.before_request
    def _refuse_nul_bytes():
        """No text we store or search may contain NUL (Postgres refuses it, and no person types
        one): refuse such input at the door with a clear 400 instead of failing deep inside.
        The API's bodies are left alone here: they are parsed only after authentication
        (webapp.api.core.json_body applies the same rule), so an anonymous body is never read."""
        values = list(request.args.values())
        if not request.path.startswith("/api/"):
            values += list(request.form.values())
            if request.is_json:
                values.append(request.get_json(silent=True))
        if any(_has_nul(v) for v in values):
            return _error(
                400, "Invalid characters", "The request contains a NUL character; remove it and try again."
            )

    csp = CSP_TEMPLATE.format(
        img_src=image_sources(
            app.config.get("STORAGE_URL", ""),
            app.config.get("S3_ENDPOINT_URL"),
            app.config.get("S3_REGION", "us-east-1"),
        )
    )
    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        resp.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        resp.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if production:
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        if _authenticated() and not request.path.startswith("/static/"):
            # Pages and API answers for an account (tokens, keys, admin pages, private media)
            # must not stay in a shared or back-button cache.
            resp.headers["Cache-Control"] = "no-store"
            resp.headers.setdefault("Pragma", "no-cache")
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
