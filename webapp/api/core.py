"""The JSON API's plumbing: token auth, scopes, problem+json errors, cursors, and the OpenAPI
document generated from the same declarations that register the routes (so the two cannot
drift apart).

Each endpoint is declared once with `@operation(...)`: its path, method, scope, parameters,
request schema and response schemas. That declaration registers the Flask route, wraps it with
authentication and error handling, and becomes its entry in `/api/v1/openapi.json`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from webapp.extensions import csrf
from webapp.text import with_article

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # token requests are exempt; session requests are checked in `_authenticate`

PROBLEM = "application/problem+json"


class ApiProblem(Exception):
    """Raised by endpoints; rendered as application/problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        errors: dict | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.slug, self.headers = errors, slug, headers or {}


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    errors: dict | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"/api/v1/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def validation_error(errors: dict[str, list[str]], detail: str = "Some fields are invalid.") -> ApiProblem:
    return ApiProblem(422, "Invalid request", detail, errors=errors, slug="validation")


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    scope: str
    tag: str
    parameters: list[dict] = field(default_factory=list)
    body: dict | None = None  # {"json": schema} or {"multipart": schema}
    responses: dict[int, dict | None] = field(default_factory=dict)  # status -> schema (None: no body)
    admin: bool = False


OPERATIONS: list[Operation] = []


def _flask_path(path: str) -> str:
    return re.sub(r"\{(\w+_id)\}", r"<int:\1>", re.sub(r"\{provider\}", "<provider>", path))


def operation(
    method: str,
    path: str,
    *,
    summary: str,
    scope: str = "read",
    tag: str = "misc",
    parameters: list[dict] | None = None,
    body: dict | None = None,
    responses: dict[int, dict | None] | None = None,
    admin: bool = False,
) -> Callable:
    """Declare, register and document one endpoint."""

    def decorate(fn: Callable) -> Callable:
        op = Operation(
            method.upper(),
            path,
            fn.__name__,
            summary,
            scope,
            tag,
            parameters or [],
            body,
            responses or {200: None},
            admin,
        )
        OPERATIONS.append(op)

        @wraps(fn)
        def view(*args: Any, **kwargs: Any):
            try:
                _authenticate(op)
                return fn(*args, **kwargs)
            except ApiProblem as exc:
                return problem_response(exc.status, exc.title, exc.detail, exc.errors, exc.slug, exc.headers)

        bp.add_url_rule(_flask_path(path), endpoint=fn.__name__, view_func=view, methods=[op.method])
        return view

    return decorate


def _authenticate(op: Operation) -> None:
    """Bearer token (scope-checked, CSRF-exempt) or a logged-in browser session (CSRF-checked)."""
    from webapp.services import tokens

    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        try:
            found = tokens.authenticate(header[7:].strip())
        except tokens.TokenExpired as exc:
            raise ApiProblem(
                401,
                "Token expired",
                f"This token expired on {exc.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Create a new one at /settings/tokens.",
                slug="token-expired",
                headers={"WWW-Authenticate": 'Bearer realm="marquee", error="invalid_token"'},
            ) from None
        if found is None:
            raise ApiProblem(
                401,
                "Invalid token",
                "The token is unknown or revoked. Create a new one at /settings/tokens.",
                slug="invalid-token",
                headers={"WWW-Authenticate": 'Bearer realm="marquee"'},
            )
        user, row = found
        if not tokens.allows(row.scope, "admin" if op.admin else op.scope):
            raise ApiProblem(
                403,
                "Insufficient scope",
                f"This endpoint needs {with_article('admin' if op.admin else op.scope)} token; "
                f"this one is {row.scope}.",
                slug="insufficient-scope",
            )
        g.api_user, g.api_token = user, row
    elif current_user.is_authenticated:
        if op.method not in ("GET", "HEAD", "OPTIONS") and current_app.config.get("WTF_CSRF_ENABLED", True):
            from flask_wtf.csrf import CSRFError

            try:
                csrf.protect()
            except CSRFError:
                raise ApiProblem(
                    400,
                    "CSRF token missing",
                    "Browser-session requests that change data must "
                    "send the X-CSRFToken header. Scripts should use a bearer token.",
                    slug="csrf",
                ) from None
        g.api_user, g.api_token = current_user._get_current_object(), None
    else:
        raise ApiProblem(
            401,
            "Authentication required",
            "Send `Authorization: Bearer <token>`; create a token at /settings/tokens.",
            slug="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="marquee"'},
        )
    if op.admin and not g.api_user.is_admin:
        raise ApiProblem(404, "Not found", "No such resource.", slug="not-found")
    _require_second_factor(op)
    if op.tag not in ("keys", "jobs", "meta") and not op.admin and not g.api_user.media_assistant_enabled:
        raise ApiProblem(
            403,
            "Media assistant not enabled",
            "Ask your administrator to enable the media assistant for your account.",
            slug="not-enabled",
        )


def _require_second_factor(op: Operation) -> None:
    """Admin-scope tokens (and admin operations from a browser session) need two-factor when
    MARQUEE_REQUIRE_ADMIN_MFA makes it mandatory; once a user has turned it on, admin-scope tokens
    created before that (not issued behind a second factor) stop working."""
    from webapp.services import mfa as mfa_service

    user, token = g.api_user, g.api_token
    admin_use = (token is not None and token.scope == "admin") or (token is None and op.admin)
    if not admin_use:
        return
    if not user.mfa_enabled and mfa_service.required_for(user):
        raise ApiProblem(
            403,
            "Two-factor required",
            "Admin access needs two-factor authentication: turn it on at /settings/two-factor, "
            "then use this token again.",
            slug="mfa-required",
        )
    if token is not None and user.mfa_enabled and token.created_at < user.totp_enabled_at:
        raise ApiProblem(
            403,
            "Two-factor required",
            "This admin token was created before two-factor was turned on for its account: "
            "create a new one at /settings/tokens.",
            slug="mfa-required",
        )


def api_user():
    return g.api_user


def json_body() -> dict[str, Any]:
    """The request's JSON object, parsed here (after `_authenticate`, never before: an anonymous
    body is not read). NUL characters are refused as everywhere else (webapp.security)."""
    from webapp.security import _has_nul

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiProblem(
            400,
            "JSON object expected",
            "Send a JSON object with Content-Type: application/json.",
            slug="bad-json",
        )
    if _has_nul(data):
        raise ApiProblem(
            400,
            "Invalid characters",
            "The request contains a NUL character; remove it and try again.",
            slug="bad-request",
        )
    return data


def query_int(name: str, default: int | None, lo: int, hi: int, message: str = "") -> int | None:
    """A whole number from the query string through the shared strict parser (webapp.params):
    `default` when absent or empty, 422 naming the parameter and its range otherwise."""
    from webapp.params import parse_int

    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw, lo=lo, hi=hi)
    if value is None:
        raise validation_error({name: [message or f"Give a whole number from {lo} to {hi}."]})
    return value


def query_choice(name: str, allowed: Iterable[str]) -> str | None:
    """One of `allowed` from the query string, None when absent or empty; 422 naming the
    allowed values otherwise (a filter must never be silently ignored)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    choices = list(allowed)
    if raw not in choices:
        raise validation_error({name: [f"Choose one of {', '.join(choices)}."]})
    return raw


def not_found() -> ApiProblem:
    return ApiProblem(404, "Not found", "No such resource, or it is not yours.", slug="not-found")


def owned(model, object_id: int, *, change: bool = False):
    """Same rule as the pages: owner (or staff for reads) — 404 for everyone else. Ids from JSON
    bodies arrive here unchecked: one no row can have (past Postgres' integer, or a boolean) is
    the same 404, never a database error."""
    from webapp.extensions import db
    from webapp.params import parse_id

    if parse_id(object_id) is None:
        raise not_found()
    obj = db.session.get(model, object_id)
    user = g.api_user
    if obj is None or (obj.owner_id != user.id and not (user.is_staff and not change)):
        raise not_found()
    return obj


def paginate_link(next_cursor: str | None, **args: Any) -> dict[str, str]:
    if not next_cursor:
        return {}
    from urllib.parse import urlencode

    query = urlencode({**{k: v for k, v in args.items() if v not in (None, "")}, "cursor": next_cursor})
    return {"Link": f'<{request.base_url}?{query}>; rel="next"'}


def register_error_handlers(app) -> None:
    """Anything under /api/ answers problem+json, never HTML — including 404/405/413/500."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if request.path.startswith("/api/"):
            return problem_response(exc.code or 500, exc.name, exc.description or exc.name)
        return exc

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        if not request.path.startswith("/api/"):
            raise exc  # the pages' own 500 handling (and test tracebacks) apply
        app.logger.exception("unhandled API error")
        return problem_response(500, "Internal error", "Something went wrong; it has been logged.")
