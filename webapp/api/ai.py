"""API: AI generation (single requests) and bulk batches, over the same services as the pages."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from webapp.api.core import ApiProblem, api_user, json_body, not_found, operation, owned, validation_error
from webapp.api.media import ID, action_problem, idempotency_key
from webapp.api.schemas import ref
from webapp.api.serializers import asset_json, iso, job_json
from webapp.extensions import db
from webapp.models import Asset, BulkBatch, BulkImage, BulkItem, Job, Show
from webapp.services import actions, generation
from webapp.services import bulk as bulk_service
from webapp.services import jobs as job_service
from webapp.services.pricing import PriceMissing
from webapp.services.providers import RoutingError

ERR = ref("Problem")
GEN_INPUT = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 4000},
        "mode": {"type": "string", "enum": ["create", "edit"]},
        "source_asset_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "image_type": {"type": "string", "enum": list(generation.IMAGE_TYPES)},
        "provider": {
            "type": ["string", "null"],
            "enum": ["openai", "gemini", "runway", "huggingface", "local", None],
        },
        "model": {"type": ["string", "null"]},
        "quality": {"type": "string", "enum": list(generation.QUALITIES)},
        "variations": {"type": "integer", "minimum": 1, "maximum": 4},
        "style": {"type": ["string", "null"], "enum": [*generation.STYLES, None]},
        "negative": {"type": "string", "maxLength": 500},
        "palette": {
            "type": "array",
            "maxItems": 8,
            "items": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
        },
        "use_own_key": {"type": ["boolean", "null"]},
        "show_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
        "tier": {"type": ["string", "null"], "enum": ["free", "budget", "premium", "auto", None]},
    },
}


@operation(
    "POST",
    "/ai-generate",
    summary="Start an AI generation (create or edit)",
    scope="write",
    tag="ai",
    body={"json": GEN_INPUT},
    responses={202: ref("Job"), 404: ERR, 422: ERR, 429: ERR},
)
def start_generation():
    body = json_body()
    unknown = set(body) - set(GEN_INPUT["properties"])
    if unknown:
        raise validation_error({k: ["Unknown field."] for k in sorted(unknown)})
    user = api_user()
    mode = body.get("mode", "create")
    if mode not in ("create", "edit"):
        raise validation_error({"mode": ["create or edit."]})
    source = None
    if mode == "edit":
        sid = body.get("source_asset_id")
        if not isinstance(sid, int):
            raise validation_error({"source_asset_id": ["Edit mode needs the id of one of your images."]})
        source = owned(Asset, sid, change=True)
    show_id = body.get("show_id")
    if show_id is not None:
        if not isinstance(show_id, int):
            raise validation_error({"show_id": ["A show id."]})
        owned(Show, show_id, change=True)
    for key, kind in (
        ("prompt", str),
        ("negative", str),
        ("image_type", str),
        ("quality", str),
        ("model", str),
        ("provider", str),
        ("style", str),
        ("tier", str),
    ):
        if body.get(key) is not None and not isinstance(body[key], kind):
            raise validation_error({key: ["Must be a string."]})
    variations = body.get("variations", 1)
    if not isinstance(variations, int) or isinstance(variations, bool):
        raise validation_error({"variations": ["1 to 4."]})
    palette = body.get("palette") or []
    if not isinstance(palette, list) or not all(isinstance(c, str) for c in palette):
        raise validation_error({"palette": ["A list of #rrggbb colours."]})
    req = generation.GenerationRequest(
        prompt=body.get("prompt") or "",
        image_type=body.get("image_type", "poster"),
        provider=body.get("provider"),
        model=body.get("model"),
        quality=body.get("quality", "medium"),
        variations=variations,
        style=body.get("style"),
        negative=body.get("negative") or "",
        palette=palette,
        use_own_key=body.get("use_own_key") if isinstance(body.get("use_own_key"), bool) else None,
        show_id=show_id,
        operation="edit" if mode == "edit" else "generate",
        source_asset_id=source.id if source else None,
        tier=body.get("tier"),
    )
    try:
        job = actions.generate(user, req, idempotency_key=idempotency_key())
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    db.session.refresh(job)
    return (
        jsonify(job_json(job, job_service.outputs_of(job))),
        202,
        {"Location": f"/api/v1/ai-generate/{job.id}"},
    )


def _generation(job_id: int, change: bool = False) -> Job:
    job = owned(Job, job_id, change=change)
    if job.kind != "generate":
        raise not_found()
    return job


def _partial_outputs(job: Job) -> list[Asset]:
    ids = (job.result or {}).get("asset_ids") or []
    if not ids:
        return []
    found = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@operation(
    "GET",
    "/ai-generate/{job_id}",
    summary="A generation: status, each variation, images",
    tag="ai",
    parameters=[{"name": "job_id", **ID}],
    responses={200: ref("Job"), 404: ERR},
)
def get_generation(job_id: int):
    job = _generation(job_id)
    job_service.refresh_if_stale(job)
    return jsonify(job_json(job, _partial_outputs(job)))


@operation(
    "POST",
    "/ai-generate/{job_id}/select",
    summary="Keep chosen variations (and optionally assign one to a show slot); discard the others",
    scope="write",
    tag="ai",
    parameters=[{"name": "job_id", **ID}],
    body={
        "json": {
            "type": "object",
            "required": ["asset_ids"],
            "properties": {
                "asset_ids": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 4,
                    "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                },
                "discard_others": {"type": "boolean"},
                "assign": {
                    "type": "object",
                    "required": ["show_id", "slot"],
                    "properties": {
                        "show_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                        "slot": {"type": "string", "enum": ["poster", "square", "banner"]},
                    },
                },
            },
        }
    },
    responses={
        200: {
            "type": "object",
            "required": ["kept", "discarded"],
            "properties": {
                "kept": {"type": "array", "items": ref("Asset")},
                "discarded": {"type": "array", "items": {"type": "integer"}},
                "assigned": {"type": ["object", "null"]},
            },
        },
        404: ERR,
        409: ERR,
        422: ERR,
    },
)
def select_variations(job_id: int):
    from webapp.services import shows as show_service
    from webapp.services.library import delete_assets

    job = _generation(job_id, change=True)
    body = json_body()
    ids = body.get("asset_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise validation_error({"asset_ids": ["A list of this generation's image ids."]})
    outputs = {a.id: a for a in _partial_outputs(job)}
    if not outputs:
        raise ApiProblem(409, "Nothing to select", "This generation has no images (yet).", slug="conflict")
    if any(i not in outputs for i in ids):
        raise validation_error({"asset_ids": [f"Choose among {sorted(outputs)}."]})
    assigned = None
    assign = body.get("assign")
    if assign is not None:
        if not isinstance(assign, dict) or not isinstance(assign.get("show_id"), int):
            raise validation_error({"assign": ["Give show_id and slot."]})
        show = owned(Show, assign["show_id"], change=True)
        try:
            show_service.assign_slot(show, assign.get("slot"), outputs[ids[0]])
        except ValueError as exc:
            raise validation_error({"assign": [str(exc)]}, str(exc)) from None
        assigned = {"show_id": show.id, "slot": assign.get("slot"), "asset_id": ids[0]}
    discarded: list[int] = []
    if body.get("discard_others") is True:
        drop = [a for i, a in outputs.items() if i not in ids]
        discarded = [a.id for a in drop]
        delete_assets(drop)
    return jsonify(
        {"kept": [asset_json(outputs[i]) for i in ids], "discarded": discarded, "assigned": assigned}
    )


# ------------------------------------------------------------------------------------------------- bulk

BATCH = {
    "type": "object",
    "required": ["id", "name", "status", "provider", "model", "progress"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "status": {"type": "string"},
        "provider": {"type": "string"},
        "model": {"type": "string"},
        "key_owner": {"type": "string"},
        "image_type": {"type": "string"},
        "quality": {"type": "string"},
        "variations": {"type": "integer"},
        "estimate": {"type": "string"},
        "created_at": {"type": "string"},
        "finished_at": {"type": ["string", "null"]},
        "progress": {"type": "object"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}


def _batch_json(batch: BulkBatch, detail: bool = False) -> dict:
    p = bulk_service.progress(batch)
    out = {
        "id": batch.id,
        "name": batch.name,
        "status": batch.status,
        "provider": batch.provider,
        "model": batch.model,
        "key_owner": batch.key_owner,
        "image_type": batch.image_type,
        "quality": batch.quality,
        "variations": batch.variations,
        "estimate": str(batch.estimate),
        "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at),
        "progress": {
            "total": p.total,
            "done": p.done,
            "failed": p.failed,
            "running": p.running,
            "pending": p.pending,
            "cancelled": p.cancelled,
            "images": p.images,
            "percent": p.percent,
            "rate_per_minute": p.rate_per_minute,
            "eta_minutes": p.eta_minutes,
            "cost": str(p.cost),
        },
    }
    if detail:
        items = db.session.scalars(
            select(BulkItem).where(BulkItem.batch_id == batch.id).order_by(BulkItem.position, BulkItem.id)
        ).all()
        images = db.session.scalars(select(BulkImage).where(BulkImage.batch_id == batch.id)).all()
        by_item: dict[int, list] = {}
        for img in images:
            by_item.setdefault(img.item_id, []).append(
                {
                    "id": img.id,
                    "asset_id": img.asset_id,
                    "selected": img.selected,
                    "published": img.published,
                    "revised_prompt": img.revised_prompt,
                }
            )
        out["items"] = [
            {
                "id": it.id,
                "prompt": it.prompt,
                "status": it.status,
                "error": it.error,
                "attempts": it.attempts,
                "images": by_item.get(it.id, []),
            }
            for it in items
        ]
    return out


@operation(
    "GET",
    "/bulk",
    summary="Your bulk batches",
    tag="bulk",
    responses={
        200: {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": BATCH}},
        }
    },
)
def list_batches():
    rows = db.session.scalars(
        select(BulkBatch).where(BulkBatch.owner_id == api_user().id).order_by(BulkBatch.id.desc()).limit(100)
    ).all()
    return jsonify({"items": [_batch_json(b) for b in rows]})


@operation(
    "POST",
    "/bulk",
    summary="Start a batch from a list of prompts (own key, or admin)",
    scope="write",
    tag="bulk",
    body={
        "json": {
            "type": "object",
            "required": ["prompts"],
            "properties": {
                "prompts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 500,
                    "items": {"type": "string", "minLength": 1, "maxLength": 1000},
                },
                "provider": {
                    "type": ["string", "null"],
                    "enum": ["openai", "gemini", "runway", "huggingface", "local", None],
                },
                "model": {"type": ["string", "null"]},
                "image_type": {"type": "string", "enum": list(generation.IMAGE_TYPES)},
                "quality": {"type": "string", "enum": list(generation.QUALITIES)},
                "variations": {"type": "integer", "minimum": 1, "maximum": 4},
                "style": {"type": ["string", "null"], "enum": [*generation.STYLES, None]},
                "name": {"type": "string", "maxLength": 120},
                "autoformat_on_publish": {"type": "boolean"},
            },
        }
    },
    responses={202: BATCH, 403: ERR, 422: ERR},
)
def start_batch():
    body = json_body()
    prompts = body.get("prompts")
    if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        raise validation_error({"prompts": ["A list of prompt strings."]})
    parsed = bulk_service.parse_prompts("\n".join(p.replace("\n", " ") for p in prompts))
    if parsed.problems:
        raise validation_error({"prompts": parsed.problems})
    variations = body.get("variations", 1)
    if not isinstance(variations, int) or isinstance(variations, bool) or not 1 <= variations <= 4:
        raise validation_error({"variations": ["1 to 4."]})
    settings = bulk_service.BatchSettings(
        provider=body.get("provider") if isinstance(body.get("provider"), str) else None,
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        image_type=body.get("image_type", "poster") if isinstance(body.get("image_type", ""), str) else "",
        quality=body.get("quality", "medium") if isinstance(body.get("quality", ""), str) else "",
        variations=variations,
        style=body.get("style") if isinstance(body.get("style"), str) else None,
        autoformat_on_publish=body.get("autoformat_on_publish") is True,
        name=body.get("name") if isinstance(body.get("name"), str) else "",
    )
    user = api_user()
    allowed, reason = bulk_service.who_may_run(user, settings)
    if not allowed:
        raise ApiProblem(403, "Bulk needs your own key", reason or "", slug="own-key-required")
    try:
        batch = bulk_service.create_and_start(user, parsed, settings)
    except (bulk_service.BulkError, generation.GenerationError, RoutingError, PriceMissing) as exc:
        raise validation_error({"batch": [str(exc)]}, str(exc)) from None
    return jsonify(_batch_json(batch)), 202, {"Location": f"/api/v1/bulk/{batch.id}"}


@operation(
    "GET",
    "/bulk/{batch_id}",
    summary="A batch with its items and images",
    tag="bulk",
    parameters=[{"name": "batch_id", **ID}],
    responses={200: BATCH, 404: ERR},
)
def get_batch(batch_id: int):
    return jsonify(_batch_json(owned(BulkBatch, batch_id), detail=True))


def _batch_action(batch_id: int, action: str):
    batch = owned(BulkBatch, batch_id, change=True)
    try:
        if action == "publish":
            try:
                n = bulk_service.publish(batch, api_user())
            except bulk_service.PublishedWithRefusals as exc:
                return jsonify({**_batch_json(batch), "published": exc.published, "warning": str(exc)})
            return jsonify({**_batch_json(batch), "published": n})
        bulk_service.set_status(
            batch, {"pause": "paused", "resume": "running", "cancel": "cancelled"}[action]
        )
    except bulk_service.BulkError as exc:
        raise ApiProblem(409, f"Cannot {action}", str(exc), slug="conflict") from None
    return jsonify(_batch_json(batch))


for _action in ("pause", "resume", "cancel", "publish"):

    def _make(action: str):
        def view(batch_id: int):
            return _batch_action(batch_id, action)

        view.__name__ = f"{action}_batch"
        summary = {
            "pause": "Pause a running batch",
            "resume": "Resume a paused batch",
            "cancel": "Cancel: pending items are cancelled, running ones finish",
            "publish": "Publish the selected images to the library",
        }[action]
        operation(
            "POST",
            f"/bulk/{{batch_id}}/{action}",
            summary=summary,
            scope="write",
            tag="bulk",
            parameters=[{"name": "batch_id", **ID}],
            responses={200: BATCH, 404: ERR, 409: ERR},
        )(view)

    _make(_action)
