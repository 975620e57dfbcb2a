"""The OpenAPI 3.1 document, generated from the `@operation` declarations."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from webapp.api.core import OPERATIONS, bp
from webapp.api.reference import annotate
from webapp.api.schemas import COMPONENTS

DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: a job was started",
    204: "No content",
    302: "Redirect to a short-lived storage URL",
    304: "Not modified",
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found (or not yours)",
    409: "Conflict with the object's state",
    413: "Too large",
    422: "Invalid input",
    429: "Rate limited",
    503: "Temporarily unavailable",
}


def document() -> dict[str, Any]:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {}
        for status, schema in sorted(op.responses.items()):
            entry: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "Response")}
            if schema is not None:
                ctype = schema.get("x-content-type")
                if ctype:  # a binary download: document its media type(s), not a JSON schema flag
                    body = {k: v for k, v in schema.items() if k != "x-content-type"}
                    ctypes = [ctype] if isinstance(ctype, str) else list(ctype)
                    entry["content"] = {c: {"schema": body} for c in ctypes}
                else:
                    media = (
                        "application/problem+json"
                        if schema == {"$ref": "#/components/schemas/Problem"}
                        else "application/json"
                    )
                    entry["content"] = {media: {"schema": schema}}
            responses[str(status)] = entry
        implied = [401, 403]
        if op.parameters or op.body:
            implied += [400, 422]
        if any(p.get("in") == "path" for p in op.parameters):
            implied.append(404)
        for status in implied:
            responses.setdefault(
                str(status),
                {
                    "description": DESCRIPTIONS[status],
                    "content": {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                },
            )
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "security": [{"bearer": []}],
            "responses": responses,
            "x-scope": "admin" if op.admin else op.scope,
        }
        if op.parameters:
            item["parameters"] = op.parameters
        if op.body:
            content = {
                ("multipart/form-data" if kind == "multipart" else "application/json"): {"schema": schema}
                for kind, schema in op.body.items()
            }
            item["requestBody"] = {"required": True, "content": content}
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return annotate(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Marquee API",
                "version": "1.0.0",
                "description": "Auto-format, palettes, AI generation, bulk batches, library and shows. "
                "Authenticate with `Authorization: Bearer <token>` (create tokens at "
                "/settings/tokens). Errors are application/problem+json.",
            },
            "servers": [{"url": "/api/v1"}],
            "paths": paths,
            "components": {
                "schemas": COMPONENTS,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }
    )


@bp.get("/openapi.json")
def openapi_json():
    """Public: the document describes the API, it grants nothing."""
    return jsonify(document())
