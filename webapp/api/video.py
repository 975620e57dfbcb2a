"""API: clips (`POST /videos`) and spoken promos (`POST /voiceovers`) — 202 and a job, like generation.

Both call the same actions as the studio and the CLI (`actions.animate` / `actions.voiceover`); the job's
output is a video or audio asset (`media_kind`, `duration_s`, `codec` in the Asset schema).
"""

from __future__ import annotations

from flask import jsonify

from webapp.api.core import api_user, json_body, operation, validation_error
from webapp.api.media import action_problem, idempotency_key
from webapp.api.schemas import ref
from webapp.api.serializers import job_json
from webapp.extensions import db
from webapp.providers.media import MAX_SCRIPT_CHARS, MAX_SECONDS, MIN_SECONDS, MOTIONS, VIDEO_FORMATS
from webapp.services import actions
from webapp.services import jobs as job_service
from webapp.services.media import VideoSettings, VoiceSettings

ERR = ref("Problem")
ONE_SOURCE = "Give exactly one of asset_id (animate a library image) or prompt (draw a still first)."
ID_FIELD = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
VIDEO_INPUT = {
    "type": "object",
    "description": "Exactly one of `asset_id` (animate a library image) and `prompt` (draw a still first "
    "with `image_provider`, a provider or a tier, then animate it; the still is saved as the clip's parent).",
    "properties": {
        "asset_id": ID_FIELD,
        "prompt": {"type": "string", "minLength": 1, "maxLength": 4000},
        "image_provider": {"type": "string", "minLength": 1, "maxLength": 40},
        "image_quality": {"type": "string", "enum": ["low", "medium", "high"]},
        "format": {"type": "string", "enum": list(VIDEO_FORMATS)},
        "seconds": {"type": "integer", "minimum": MIN_SECONDS, "maximum": MAX_SECONDS},
        "motion": {"type": "string", "enum": list(MOTIONS)},
        "title_reveal": {"type": "boolean"},
        "provider": {"type": "string", "minLength": 1, "maxLength": 40},
        "motion_prompt": {"type": "string", "maxLength": MAX_SCRIPT_CHARS},
        "show_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
    },
}
VOICE_INPUT = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_SCRIPT_CHARS},
        "voice": {"type": ["string", "null"], "maxLength": 80},
        "provider": {"type": ["string", "null"], "maxLength": 40},
        "show_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
    },
}


def _checked(body: dict, schema: dict) -> dict:
    """Unknown fields and wrong JSON types are refused before the action sees them."""
    props = schema["properties"]
    errors: dict[str, list[str]] = {k: ["Unknown field."] for k in sorted(set(body) - set(props))}
    types = {"integer": int, "string": str, "boolean": bool}
    for key, value in body.items():
        if key not in props or value is None:
            continue
        allowed = props[key]["type"] if isinstance(props[key]["type"], list) else [props[key]["type"]]
        ok = any(
            isinstance(value, types[t]) and not (t == "integer" and isinstance(value, bool))
            for t in allowed
            if t in types
        )
        if not ok:
            errors[key] = [f"Must be {' or '.join(t for t in allowed if t != 'null')}."]
    for key in schema.get("required", ()):
        if body.get(key) is None:
            errors.setdefault(key, ["Required."])
    if errors:
        raise validation_error(errors)
    return body


def _accepted(job, location: str):
    db.session.refresh(job)
    return jsonify(job_json(job, job_service.outputs_of(job))), 202, {"Location": location}


@operation(
    "POST",
    "/videos",
    summary="Animate one of your images, or a still drawn from a prompt, into an MP4 clip (local: free)",
    scope="write",
    tag="ai",
    body={"json": VIDEO_INPUT},
    responses={202: ref("Job"), 404: ERR, 422: ERR, 429: ERR},
)
def start_video():
    body = _checked(json_body(), VIDEO_INPUT)
    if (body.get("asset_id") is None) == (body.get("prompt") is None):
        raise validation_error({"asset_id": [ONE_SOURCE]})
    settings = VideoSettings(
        asset_id=body.get("asset_id"),
        image_prompt=body.get("prompt") or "",
        image_provider=body.get("image_provider") or "free",
        image_quality=body.get("image_quality") or "medium",
        format=body.get("format", "story"),
        seconds=body.get("seconds", 6),
        motion=body.get("motion", "push-in"),
        title_reveal=bool(body.get("title_reveal", False)),
        provider=body.get("provider") or "local",
        prompt=body.get("motion_prompt") or "",
        show_id=body.get("show_id"),
    )
    try:
        job = actions.animate(api_user(), settings, idempotency_key=idempotency_key())
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    return _accepted(job, f"/api/v1/jobs/{job.id}")


@operation(
    "POST",
    "/voiceovers",
    summary="Read a script aloud with a premium provider's voice (Runway); no offline voice exists",
    scope="write",
    tag="ai",
    body={"json": VOICE_INPUT},
    responses={202: ref("Job"), 404: ERR, 422: ERR, 429: ERR},
)
def start_voiceover():
    body = _checked(json_body(), VOICE_INPUT)
    settings = VoiceSettings(
        text=body["text"], voice=body.get("voice"), provider=body.get("provider"), show_id=body.get("show_id")
    )
    try:
        job = actions.voiceover(api_user(), settings, idempotency_key=idempotency_key())
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    return _accepted(job, f"/api/v1/jobs/{job.id}")
