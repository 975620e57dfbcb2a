"""API: auto-format an image already in the library, and estimate any generation or bulk request.

Both are doors onto the same functions the pages use: `actions.autoformat_asset` and the studio's
and bulk page's quotes (`services.estimates.estimate`)."""

from __future__ import annotations

from flask import jsonify

from webapp.api.core import api_user, json_body, operation, owned, validation_error
from webapp.api.formats import FILLS_FIELD, FORMATS_FIELD, fills_from, formats_from
from webapp.api.media import ID, action_problem, idempotency_key
from webapp.api.schemas import ref
from webapp.api.serializers import job_json
from webapp.extensions import db
from webapp.imaging.presets import DEFAULT_FORMATS
from webapp.models import Asset
from webapp.services import actions, estimates, generation
from webapp.services.actions import FILLS, OUTPUTS, AutoformatSettings

ERR = ref("Problem")
FILL = {"type": "string", "enum": list(FILLS)}


@operation(
    "POST",
    "/assets/{asset_id}/auto-format",
    summary="Auto-format an image already in your library (poster, square and banner, "
    "or the `formats` you list)",
    scope="write",
    tag="autoformat",
    parameters=[{"name": "asset_id", **ID}],
    body={
        "json": {
            "type": "object",
            "properties": {
                "output": {"type": "string", "enum": list(OUTPUTS)},
                "formats": FORMATS_FIELD,
                "fills": FILLS_FIELD,
                "fill_poster": FILL,
                "fill_square": FILL,
                "fill_banner": FILL,
                "darken": {"type": "integer", "minimum": 0, "maximum": 60},
                "shadow": {"type": "boolean"},
            },
            "additionalProperties": False,
        }
    },
    responses={202: ref("Job"), 404: ERR, 422: ERR, 429: ERR},
)
def autoformat_asset(asset_id: int):
    asset = owned(Asset, asset_id, change=True)
    body = json_body()
    fields = {"output", "formats", "fills", "fill_poster", "fill_square", "fill_banner", "darken", "shadow"}
    unknown = sorted(set(body) - fields)
    if unknown:
        raise validation_error({k: ["Unknown field."] for k in unknown})
    errors: dict[str, list[str]] = {}
    shadow = body.get("shadow", True)
    if not isinstance(shadow, bool):
        errors["shadow"] = ["true or false."]
    darken = body.get("darken", 15)
    formats = formats_from(body.get("formats"), errors)
    pairs = {slot: body[f"fill_{slot}"] for slot in ("poster", "square", "banner") if f"fill_{slot}" in body}
    if "fills" in body and not isinstance(body["fills"], dict):
        errors["fills"] = ['Give an object of format name to fill, e.g. {"ig-story": "crop"}.']
    elif isinstance(body.get("fills"), dict):
        pairs.update(body["fills"])
    fills = fills_from(pairs, formats or DEFAULT_FORMATS, errors)
    if errors:
        raise validation_error(errors)
    settings = AutoformatSettings(
        formats=formats or DEFAULT_FORMATS,
        fills=fills,
        darken=darken if isinstance(darken, int) else -1,
        shadow=shadow,
        output=body.get("output", "jpeg") if isinstance(body.get("output", "jpeg"), str) else "",
    )
    try:
        job = actions.autoformat_asset(api_user(), asset.id, settings, idempotency_key=idempotency_key())
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    db.session.refresh(job)
    return jsonify(job_json(job, [])), 202, {"Location": f"/api/v1/jobs/{job.id}"}


ESTIMATE_INPUT = {
    "type": "object",
    "properties": {
        "prompt": {"type": "string", "maxLength": 4000},
        "prompts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 500,
            "items": {"type": "string", "minLength": 1, "maxLength": 1000},
        },
        "mode": {"type": "string", "enum": ["create", "edit"]},
        "image_type": {"type": "string", "enum": list(generation.IMAGE_TYPES)},
        "provider": {
            "type": ["string", "null"],
            "enum": ["openai", "gemini", "runway", "huggingface", "local", None],
        },
        "model": {"type": ["string", "null"]},
        "quality": {"type": "string", "enum": list(generation.QUALITIES)},
        "variations": {"type": "integer", "minimum": 1, "maximum": 4},
        "use_own_key": {"type": ["boolean", "null"]},
        "tier": {"type": ["string", "null"], "enum": ["free", "budget", "premium", "auto", None]},
        "media": {"type": "string", "enum": ["video", "voiceover"]},
        "seconds": {"type": "integer", "minimum": 2, "maximum": 10},
        "text": {"type": "string", "maxLength": 1000},
    },
    "additionalProperties": False,
}
ESTIMATE = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["generate", "bulk", "video", "voiceover"]},
        "images": {"type": "integer"},
        "cost": {"type": "string"},
        "currency": {"type": "string"},
        "seconds": {"type": ["number", "null"]},
        "seconds_basis": {"type": "string"},
        "provider": {"type": "string"},
        "model": {"type": "string"},
        "tier": {"type": "string", "enum": ["free", "budget", "premium"]},
        "reason_chosen": {"type": "string"},
        "key_owner": {"type": "string"},
        "allowed": {"type": "boolean"},
        "reason": {"type": ["string", "null"]},
        "allowance": {"type": ["string", "null"]},
    },
}


@operation(
    "POST",
    "/estimate",
    summary="Cost and expected time of a generation (`prompt`), a bulk run (`prompts`), a clip "
    "(`media: video`, `seconds`) or a voice-over (`media: voiceover`, `text`)",
    scope="read",
    tag="ai",
    body={"json": ESTIMATE_INPUT},
    responses={200: ESTIMATE, 422: ERR},
)
def estimate():
    body = json_body()
    unknown = sorted(set(body) - set(ESTIMATE_INPUT["properties"]))
    if unknown:
        raise validation_error({k: ["Unknown field."] for k in unknown})
    try:
        result = estimates.estimate(api_user(), body)
    except estimates.EstimateError as exc:
        raise validation_error(exc.errors, exc.message) from None
    return jsonify(result)
