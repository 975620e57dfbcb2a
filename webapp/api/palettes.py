"""API: colour palettes — extract, list, customise, review (staff), apply to a show."""

from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from webapp.api.core import (
    ApiProblem,
    api_user,
    json_body,
    not_found,
    operation,
    owned,
    query_choice,
    query_int,
    validation_error,
)
from webapp.api.media import ID, action_problem, idempotency_key
from webapp.api.schemas import ref
from webapp.api.serializers import iso, job_json
from webapp.extensions import db
from webapp.models import Palette, Show
from webapp.params import MAX_ID, parse_int
from webapp.services import actions
from webapp.services import palettes as palette_service

ERR = ref("Problem")
HEX = {"type": "string", "pattern": "^#?[0-9a-fA-F]{6}$"}
ROLES = {
    "type": "object",
    "properties": dict.fromkeys(("primary", "secondary", "accent", "background", "text"), HEX),
}
ADJUSTMENT = {
    "type": "object",
    "properties": {
        "from": HEX,
        "to": HEX,
        "delta_l": {"type": "number", "description": "CIELAB lightness change"},
        "delta_e": {"type": "number", "description": "CIEDE2000 between the extracted and the used colour"},
        "against": HEX,
        "needed": {"type": "number", "description": "the WCAG ratio the role must reach"},
        "ratio_from": {"type": "number"},
        "ratio_to": {"type": "number"},
        "note": {"type": "string", "description": 'e.g. "darkened from #8a7f7f by ΔE 23.4 to reach 4.5:1 …"'},
    },
}
PALETTE = {
    "type": "object",
    "required": ["id", "name", "status", "is_custom", "colors", "roles", "contrast"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "status": {"type": "string"},
        "is_custom": {"type": "boolean"},
        "colors": {"type": "array", "items": {"type": "object"}},
        "roles": {"type": "object"},
        "adjustments": {
            "type": "object",
            "description": "Roles moved to reach their contrast: role -> how far and why",
            "additionalProperties": ADJUSTMENT,
        },
        "contrast": {"type": "object"},
        "reason": {"type": ["string", "null"]},
        "show_id": {"type": ["integer", "null"]},
        "source_asset_id": {"type": ["integer", "null"]},
        "created_at": {"type": "string"},
        "reviewed_at": {"type": ["string", "null"]},
        "applied_at": {"type": ["string", "null"]},
        "can_apply": {"type": "boolean"},
        "can_apply_reason": {"type": "string"},
    },
}


def _palette_json(p: Palette) -> dict:
    ok, why = palette_service.can_apply(p)
    return {
        "id": p.id,
        "name": p.name,
        "status": p.status,
        "is_custom": p.is_custom,
        "colors": p.colors or [],
        "roles": p.roles or {},
        "adjustments": p.adjustments or {},
        "contrast": p.contrast or {},
        "reason": p.reason,
        "show_id": p.show_id,
        "source_asset_id": p.source_asset_id,
        "created_at": iso(p.created_at),
        "reviewed_at": iso(p.reviewed_at),
        "applied_at": iso(p.applied_at),
        "can_apply": ok,
        "can_apply_reason": why or "",
    }


@operation(
    "POST",
    "/palettes/extract",
    summary="Extract a palette from one of your images or from an upload (a job)",
    scope="write",
    tag="palettes",
    body={
        "json": {
            "type": "object",
            "required": ["asset_id"],
            "properties": {
                "asset_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                "colors": {"type": "integer", "minimum": 5, "maximum": 8},
                "ignore_background": {"type": "boolean"},
                "show_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
            },
        },
        "multipart": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "colors": {"type": "integer", "minimum": 5, "maximum": 8},
                "ignore_background": {"type": "boolean"},
                "show_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            },
        },
    },
    responses={202: ref("Job"), 404: ERR, 422: ERR, 429: ERR},
)
def extract_palette():
    """JSON names an image already in the library; multipart uploads one (stored first)."""
    upload = None
    if request.mimetype == "multipart/form-data":
        file = request.files.get("file")
        if file is None or not file.filename:
            raise validation_error({"file": ["Attach the image as the multipart field `file`."]})
        upload = (file.read(current_app.config["UPLOAD_MAX_BYTES"] + 1), file.filename)
        form = request.form
        colors = _int_field(form.get("colors"), "colors", 6)
        show_id = _int_field(form.get("show_id"), "show_id", None)
        ignore = (form.get("ignore_background") or "").lower() in ("1", "true", "yes", "on")
        asset_id = None
    else:
        body = json_body()
        if not isinstance(body.get("asset_id"), int) or isinstance(body.get("asset_id"), bool):
            raise validation_error({"asset_id": ["The id of one of your images."]})
        colors = body.get("colors", 6)
        if not isinstance(colors, int) or isinstance(colors, bool):
            raise validation_error({"colors": ["5 to 8 colours."]})
        show_id = body.get("show_id")
        if show_id is not None and (not isinstance(show_id, int) or isinstance(show_id, bool)):
            raise validation_error({"show_id": ["A show id."]})
        ignore = body.get("ignore_background") is True
        asset_id = body["asset_id"]
    try:
        job = actions.extract_palette(
            api_user(),
            asset_id,
            upload=upload,
            n_colors=colors,
            ignore_background=ignore,
            show_id=show_id,
            idempotency_key=idempotency_key(),
        )
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    db.session.refresh(job)
    return jsonify(job_json(job, [])), 202, {"Location": f"/api/v1/jobs/{job.id}"}


def _int_field(raw: str | None, name: str, default: int | None) -> int | None:
    """A multipart field through the shared strict parser (webapp.params)."""
    if raw in (None, ""):
        return default
    value = parse_int(raw, lo=0, hi=MAX_ID)
    if value is None:
        raise validation_error({name: ["A whole number."]})
    return value


@operation(
    "GET",
    "/palettes",
    summary="Your palettes, newest first (at most 100)",
    tag="palettes",
    parameters=[
        {
            "name": "status",
            "in": "query",
            "description": "Only palettes in this state.",
            "schema": {"type": "string", "enum": list(palette_service.STATUS_LABELS)},
        },
        {
            "name": "show_id",
            "in": "query",
            "description": "Only palettes made for this show.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        },
    ],
    responses={
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": PALETTE}},
        },
        422: ERR,
    },
)
def list_palettes():
    status = query_choice("status", palette_service.STATUS_LABELS)
    show_id = query_int("show_id", None, 1, MAX_ID, "Give a show id.")
    q = select(Palette).where(Palette.owner_id == api_user().id)
    if status:
        q = q.where(Palette.status == status)
    if show_id:
        q = q.where(Palette.show_id == show_id)
    rows = db.session.scalars(q.order_by(Palette.id.desc()).limit(100)).all()
    return jsonify({"items": [_palette_json(p) for p in rows]})


@operation(
    "POST",
    "/palettes",
    summary="Save a custom palette (roles overridden); it needs staff approval",
    scope="write",
    tag="palettes",
    body={
        "json": {
            "type": "object",
            "required": ["base_id", "roles"],
            "properties": {
                "base_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                "roles": ROLES,
                "name": {"type": "string", "maxLength": 120},
            },
        }
    },
    responses={201: PALETTE, 404: ERR, 422: ERR},
)
def create_palette():
    body = json_body()
    if not isinstance(body.get("base_id"), int):
        raise validation_error({"base_id": ["The id of the palette to start from."]})
    base = owned(Palette, body["base_id"], change=True)
    roles = body.get("roles")
    if not isinstance(roles, dict) or not all(isinstance(v, str) for v in roles.values()):
        raise validation_error({"roles": ["An object of role -> #rrggbb."]})
    merged = {**(base.roles or {}), **roles}
    _, errors = palette_service.parse_roles(merged)
    if errors:
        raise validation_error({f"roles.{k}": [v] for k, v in errors.items()})
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    try:
        palette = palette_service.save_custom(base, api_user(), merged, name)
    except palette_service.PaletteError as exc:
        raise validation_error({"roles": [str(exc)]}, str(exc)) from None
    return jsonify(_palette_json(palette)), 201, {"Location": f"/api/v1/palettes/{palette.id}"}


@operation(
    "PATCH",
    "/palettes/{palette_id}",
    summary="Owner: rename. Staff: approve or reject a pending palette (a reason is required to reject)",
    scope="write",
    tag="palettes",
    parameters=[{"name": "palette_id", **ID}],
    body={
        "json": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 120},
                "decision": {"type": "string", "enum": ["approve", "reject"]},
                "reason": {"type": "string", "maxLength": 2000},
            },
        }
    },
    responses={200: PALETTE, 404: ERR, 409: ERR, 422: ERR},
)
def update_palette(palette_id: int):
    user = api_user()
    palette = owned(Palette, palette_id)  # staff may see others' to review them
    body = json_body()
    if "decision" in body:
        if not user.is_staff:
            raise not_found()
        if body["decision"] not in ("approve", "reject"):
            raise validation_error({"decision": ["approve or reject."]})
        reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
        try:
            palette_service.review(palette, user, body["decision"] == "approve", reason)
        except palette_service.PaletteError as exc:
            raise ApiProblem(409, "Cannot review", str(exc), slug="conflict") from None
    if "name" in body:
        if palette.owner_id != user.id:
            raise ApiProblem(403, "Not yours", "Only the owner can rename a palette.", slug="forbidden")
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise validation_error({"name": ["A name."]})
        palette.name = body["name"].strip()[:120]
        db.session.commit()
    return jsonify(_palette_json(palette))


@operation(
    "POST",
    "/palettes/{palette_id}/apply",
    summary="Apply an approved (or passing) palette to a show",
    scope="write",
    tag="palettes",
    parameters=[{"name": "palette_id", **ID}],
    body={
        "json": {
            "type": "object",
            "required": ["show_id"],
            "properties": {"show_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        }
    },
    responses={200: PALETTE, 404: ERR, 409: ERR, 422: ERR},
)
def apply_palette(palette_id: int):
    palette = owned(Palette, palette_id, change=True)
    body = json_body()
    if not isinstance(body.get("show_id"), int):
        raise validation_error({"show_id": ["A show id."]})
    show = owned(Show, body["show_id"], change=True)
    try:
        applied = palette_service.apply_to_show(palette, show, api_user())
    except palette_service.PaletteError as exc:
        raise ApiProblem(409, "Cannot apply", str(exc), slug="conflict") from None
    return jsonify(_palette_json(applied))
