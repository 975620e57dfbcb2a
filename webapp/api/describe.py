"""PATCH /api/v1/assets/{id}: a producer's own alt text, title, description and tags (issue 17);
POST /api/v1/assets/{id}/describe: the same words written by the AI describer, as a job.

The same service and checks as the asset page's form (services.describe); over-long fields and too
many tags answer 422 naming each field, and nothing is written."""

from __future__ import annotations

from flask import jsonify

from webapp.api.core import api_user, json_body, operation, owned, validation_error
from webapp.api.media import action_problem, idempotency_key
from webapp.api.schemas import ref
from webapp.api.serializers import asset_json, job_json
from webapp.extensions import db
from webapp.models import Asset
from webapp.params import MAX_ID
from webapp.services import actions, describe
from webapp.services.library_stacks import group_sizes

ID = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
ERR = ref("Problem")


@operation(
    "PATCH",
    "/assets/{asset_id}",
    summary="Change an image's alt text, title, description, tags or star (fields you send)",
    scope="write",
    tag="assets",
    parameters=[{"name": "asset_id", **ID}],
    body={"json": ref("AssetDescriptionInput")},
    responses={200: ref("Asset"), 404: ERR, 422: ERR},
)
def update_asset(asset_id: int):
    asset = owned(Asset, asset_id, change=True)
    data = json_body()
    fields = {k: data[k] for k in ("alt_text", "title", "description", "tags") if k in data}
    unknown = sorted(set(data) - set(fields) - {"favorite"})
    if unknown:
        raise validation_error(
            {
                k: ["Not a field you can change; send alt_text, title, description, tags or favorite."]
                for k in unknown
            }
        )
    if not fields and "favorite" not in data:
        raise validation_error(
            {"body": ["Send at least one of alt_text, title, description, tags or favorite."]}
        )
    if "favorite" in data and not isinstance(data["favorite"], bool):
        raise validation_error({"favorite": ["Send favorite as true or false."]})
    if fields and not asset.is_image:
        raise validation_error({"asset": ["Only images carry alt text, titles and tags."]})
    if fields:
        try:
            describe.update_description(asset, fields)
        except describe.DescriptionError as exc:
            db.session.rollback()
            raise validation_error({k: [v] for k, v in exc.errors.items()}, str(exc)) from None
    if "favorite" in data:
        try:
            asset = actions.set_favorite(api_user(), asset.id, data["favorite"])
        except actions.ActionError as exc:
            raise action_problem(exc) from None
    return jsonify(asset_json(asset, group_size=group_sizes([asset.group_root_id]).get(asset.group_root_id)))


@operation(
    "POST",
    "/assets/{asset_id}/describe",
    summary="Describe an image with the AI describer (alt text, title, description, tags); a job",
    scope="write",
    tag="assets",
    parameters=[{"name": "asset_id", **ID}],
    responses={202: ref("Job"), 404: ERR, 409: ERR, 422: ERR, 429: ERR},
)
def describe_asset(asset_id: int):
    """Starts a `describe` job (priced per image, budget and hourly allowance like generation);
    words a producer wrote are kept. Poll the job at the Location header."""
    asset = owned(Asset, asset_id, change=True)
    try:
        job = actions.describe_images(api_user(), [asset.id], idempotency_key=idempotency_key())
    except actions.ActionError as exc:
        raise action_problem(exc) from None
    db.session.refresh(job)
    return jsonify(job_json(job, [])), 202, {"Location": f"/api/v1/jobs/{job.id}"}
