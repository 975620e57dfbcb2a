"""API: auto-format, jobs, assets and shows — thin adapters over the same services as the pages."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import InvalidOperation

from flask import current_app, jsonify, request
from sqlalchemy import select

from webapp.api.core import (
    ApiProblem,
    api_user,
    json_body,
    not_found,
    operation,
    owned,
    paginate_link,
    query_choice,
    query_int,
    validation_error,
)
from webapp.api.formats import fills_from, formats_from
from webapp.api.schemas import ref
from webapp.api.serializers import asset_json, job_json, show_json
from webapp.downloads import serve_asset_file, zip_response
from webapp.extensions import db
from webapp.imaging.presets import DEFAULT_FORMATS
from webapp.models import Asset, Job, JobStatus, Show
from webapp.params import MAX_ID, parse_id, parse_int
from webapp.services import actions, limits
from webapp.services import formats as format_service
from webapp.services import jobs as job_service
from webapp.services import library as library_service
from webapp.services import shows as show_service
from webapp.services.actions import ACTION_STATUS, ActionError, AutoformatSettings
from webapp.services.library_stacks import group_sizes
from webapp.storage import StorageError

API_PAGE_MAX = 100

ID = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
CURSOR = {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200}}
ERR = ref("Problem")
JOB_STATUSES = [s.value for s in JobStatus]


def action_problem(exc: ActionError) -> ApiProblem:
    """An action's refusal as problem+json: the same message the pages show."""
    if exc.code == "limit" and exc.allowance is not None:
        return _limit_problem(limits.LimitReached(exc.allowance))
    if exc.code == "invalid":
        return validation_error(exc.errors or {"request": [exc.message]}, exc.message)
    if exc.code == "not_found":
        return not_found()
    titles = {"forbidden": "Not allowed", "budget": "Budget used up", "conflict": "Conflict"}
    return ApiProblem(
        ACTION_STATUS.get(exc.code, 409), titles.get(exc.code, "Refused"), exc.message, slug=exc.code
    )


def idempotency_key() -> str | None:
    """The `Idempotency-Key` request header: the same key gets the same job back."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        return None
    if len(key) > 64 or not key.isascii() or not key.isprintable():
        raise validation_error({"Idempotency-Key": ["At most 64 printable ASCII characters."]})
    return f"api:{key}"


def _limit_problem(exc: limits.LimitReached) -> ApiProblem:
    a = exc.allowance
    reset = int(a.resets_at.timestamp()) if a.resets_at else 0
    return ApiProblem(
        429,
        "Hourly limit reached",
        exc.message,
        slug="rate-limited",
        headers={
            "Retry-After": str(a.minutes_to_reset * 60),
            "X-RateLimit-Limit": str(a.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
    )


# ----------------------------------------------------------------------------------------- auto-format

FILL = {"type": "string", "enum": ["blur", "solid", "crop"]}


@operation(
    "POST",
    "/auto-format",
    summary="Upload artwork and start an auto-format job",
    scope="write",
    tag="autoformat",
    body={
        "multipart": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "output": {"type": "string", "enum": ["jpeg", "png", "webp"]},
                "formats": {
                    "type": "string",
                    "maxLength": 500,
                    "description": "Comma-separated preset names (GET /formats) and custom sizes "
                    "(1600x900, 4:5@1350); default poster,square,banner. `fill_<format>` sets each "
                    "format's fill, e.g. fill_ig-story=crop.",
                },
                "fill_poster": FILL,
                "fill_square": FILL,
                "fill_banner": FILL,
                "darken": {"type": "integer", "minimum": 0, "maximum": 60},
                "shadow": {"type": "boolean"},
            },
        }
    },
    responses={202: ref("Job"), 413: ERR, 422: ERR, 429: ERR},
)
def auto_format():
    user = api_user()
    upload = request.files.get("file")
    errors: dict[str, list[str]] = {}
    if upload is None or not upload.filename:
        errors["file"] = [
            "Attach the artwork as the multipart field `file` (JPEG, PNG or WebP, up to 10 MB)."
        ]
    output = request.form.get("output", "jpeg")
    if output not in ("jpeg", "png", "webp"):
        errors["output"] = ["Choose jpeg, png or webp."]
    specs = request.form.getlist("formats")
    formats = formats_from(",".join(specs), errors) if specs else None
    # A multipart part whose name does not decode arrives with the name None: not a fill.
    pairs = {k[5:]: v for k, v in request.form.items() if isinstance(k, str) and k.startswith("fill_")}
    fills = fills_from(pairs, formats or DEFAULT_FORMATS, errors)
    darken = parse_int(request.form.get("darken", "15"), lo=0, hi=60)
    if darken is None:
        errors["darken"] = ["Darkening must be a whole number from 0 to 60."]
        darken = 15
    shadow = request.form.get("shadow", "true").lower() not in ("false", "0", "no", "off")
    if errors:
        raise validation_error(errors)
    settings = AutoformatSettings(
        formats=formats or DEFAULT_FORMATS, fills=fills, darken=darken, shadow=shadow, output=output
    )
    data = upload.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)
    try:
        job = actions.autoformat_upload(
            user, data, upload.filename, settings, idempotency_key=idempotency_key()
        ).job
    except ActionError as exc:
        raise action_problem(exc) from None
    except StorageError:
        raise ApiProblem(
            503,
            "Storage unavailable",
            "Nothing was saved; try again in a minute.",
            headers={"Retry-After": "60"},
        ) from None
    db.session.refresh(job)
    resp = jsonify(job_json(job, job_service.outputs_of(job)))
    resp.status_code = 202
    resp.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return resp


# ------------------------------------------------------------------------------------------------ jobs


@operation(
    "GET",
    "/jobs",
    summary="List your jobs, newest first",
    tag="jobs",
    parameters=[
        CURSOR,
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
        {
            "name": "job_type",
            "in": "query",
            "description": "Only jobs of this kind.",
            "schema": {"type": "string", "enum": list(job_service.JOB_KINDS)},
        },
        {
            "name": "status",
            "in": "query",
            "description": "Only jobs in this state.",
            "schema": {"type": "string", "enum": JOB_STATUSES},
        },
    ],
    responses={
        200: {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref("Job")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        422: ERR,
    },
)
def list_jobs():
    user = api_user()
    limit = _int_arg("limit", 25, 1, 100)
    before = _cursor_id()
    kind = query_choice("job_type", job_service.JOB_KINDS)
    status = query_choice("status", JOB_STATUSES)
    q = select(Job).where(Job.owner_id == user.id).order_by(Job.id.desc()).limit(limit + 1)
    if before:
        q = q.where(Job.id < before)
    if kind:
        q = q.where(Job.kind == kind)
    if status:
        q = q.where(Job.status == status)
    rows = list(db.session.scalars(q))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [job_json(j, job_service.outputs_of(j)) for j in rows]
    nxt = str(rows[-1].id) if more and rows else None
    return (
        jsonify({"items": items, "next_cursor": nxt}),
        200,
        paginate_link(nxt, limit=limit, job_type=kind, status=status),
    )


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    value = query_int(name, default, lo, hi)
    assert value is not None
    return value


def _cursor_id() -> int | None:
    """Keyset cursor of the id-ordered lists: the last id of the previous page."""
    return query_int("cursor", None, 1, MAX_ID, "Use the next_cursor value from the previous page.")


@operation(
    "GET",
    "/jobs/{job_id}",
    summary="Job status, progress and outputs (ETag-aware)",
    tag="jobs",
    parameters=[{"name": "job_id", **ID}],
    responses={200: ref("Job"), 304: None, 404: ERR},
)
def get_job(job_id: int):
    job = owned(Job, job_id)
    job_service.refresh_if_stale(job)
    body = job_json(job, job_service.outputs_of(job))
    etag = hashlib.sha256(
        repr(
            (
                job.status,
                job.progress,
                job.stage,
                job.attempts,
                job.error,
                sorted(body["result"].items(), key=str),
            )
        ).encode()
    ).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        return "", 304, {"ETag": f'"{etag}"'}
    resp = jsonify(body)
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@operation(
    "POST",
    "/jobs/{job_id}/retry",
    summary="Retry a failed or cancelled job",
    scope="write",
    tag="jobs",
    parameters=[{"name": "job_id", **ID}],
    responses={202: ref("Job"), 404: ERR, 409: ERR},
)
def retry_job(job_id: int):
    job = owned(Job, job_id, change=True)
    try:
        actions.retry_job(api_user(), job.id)
    except ActionError as exc:
        raise action_problem(exc) from None
    db.session.refresh(job)
    return jsonify(job_json(job, [])), 202


@operation(
    "DELETE",
    "/jobs/{job_id}",
    summary="Cancel a queued or running job",
    scope="write",
    tag="jobs",
    parameters=[{"name": "job_id", **ID}],
    responses={200: ref("Job"), 404: ERR, 409: ERR},
)
def cancel_job(job_id: int):
    job = owned(Job, job_id, change=True)
    try:
        actions.cancel_job(api_user(), job.id)
    except ActionError as exc:
        raise action_problem(exc) from None
    return jsonify(job_json(job, []))


@operation(
    "GET",
    "/jobs/{job_id}/download",
    summary="ZIP of a finished job's outputs",
    tag="jobs",
    parameters=[{"name": "job_id", **ID}],
    responses={200: {"type": "string", "format": "binary", "x-content-type": "application/zip"}, 404: ERR},
)
def download_job(job_id: int):
    job = owned(Job, job_id)
    outputs = job_service.outputs_of(job)
    if not outputs:
        raise ApiProblem(404, "No outputs", "This job has no finished images (yet).", slug="not-found")
    return zip_response(outputs, f"marquee-job-{job.id}.zip")


# ---------------------------------------------------------------------------------------------- assets


@operation(
    "GET",
    "/assets",
    summary="Your library, filtered and paged",
    tag="assets",
    parameters=[
        CURSOR,
        {
            "name": "kind",
            "in": "query",
            "description": "A kind (" + ", ".join(library_service.KINDS) + ") or a format: a preset name "
            "(GET /formats) or a custom size such as 1600x900.",
            "schema": {"type": "string", "maxLength": 40},
        },
        {"name": "media", "in": "query", "schema": {"type": "string", "enum": list(library_service.MEDIA)}},
        {
            "name": "status",
            "in": "query",
            "description": "draft, held (waiting for a moderation decision), published or rejected; "
            "without it, everything but rejected images.",
            "schema": {"type": "string", "enum": list(library_service.STATUSES)},
        },
        {
            "name": "source",
            "in": "query",
            "schema": {"type": "string", "enum": list(library_service.SOURCES)},
        },
        {"name": "show_id", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": list(library_service.SORTS)}},
        {"name": "color", "in": "query", "schema": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}},
        {
            "name": "favorite",
            "in": "query",
            "description": "`true`: only starred assets.",
            "schema": {"type": "string", "enum": ["true", "false"]},
        },
        {
            "name": "limit",
            "in": "query",
            "description": f"Items per page (default {library_service.PAGE_SIZE}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": API_PAGE_MAX},
        },
    ],
    responses={
        200: {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref("Asset")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        422: ERR,
    },
)
def list_assets():
    import re

    a = request.args
    errors: dict[str, list[str]] = {}
    if (
        a.get("kind")
        and a["kind"] not in library_service.KINDS
        and not format_service.is_format_kind(a["kind"])
    ):
        errors["kind"] = [
            f"Choose one of {', '.join(library_service.KINDS)}, a preset name (GET /api/v1/formats) "
            "or a custom size such as 1600x900."
        ]
    if a.get("media") and a["media"] not in library_service.MEDIA:
        errors["media"] = [f"Choose one of {', '.join(library_service.MEDIA)}."]
    if a.get("status") and a["status"] not in library_service.STATUSES:
        errors["status"] = [f"Choose one of {', '.join(library_service.STATUSES)}."]
    if a.get("source") and a["source"] not in library_service.SOURCES:
        errors["source"] = [f"Choose one of {', '.join(library_service.SOURCES)}."]
    if a.get("sort") and a["sort"] not in library_service.SORTS:
        errors["sort"] = [f"Choose one of {', '.join(library_service.SORTS)}."]
    if a.get("color") and not re.fullmatch(r"#[0-9a-fA-F]{6}", a["color"]):
        errors["color"] = ["Give a colour like #1a2b3c."]
    if len(a.get("q", "")) > 100:
        errors["q"] = ["Search for at most 100 characters."]
    if len(a.get("cursor", "")) > 200:
        errors["cursor"] = ["Use the next_cursor value from the previous page."]
    limit = parse_int(a.get("limit", str(library_service.PAGE_SIZE)), lo=1, hi=API_PAGE_MAX)
    if limit is None:
        errors["limit"] = [f"Give a whole number of items per page from 1 to {API_PAGE_MAX}."]
    if a.get("favorite", "false") not in ("true", "false"):
        errors["favorite"] = ["Give favorite=true (only starred assets) or favorite=false."]
    show_id = parse_id(a.get("show_id"))
    if a.get("show_id") and show_id is None:
        errors["show_id"] = ["Give a show id."]
    if errors:
        raise validation_error(errors)
    flt = library_service.LibraryFilter(
        kind=a.get("kind", ""),
        source=a.get("source", ""),
        media=a.get("media", ""),
        status=a.get("status", ""),
        show_id=show_id,
        q=a.get("q", "").strip(),
        sort=a.get("sort", "newest"),
        color=a.get("color", "").lower(),
        cursor=a.get("cursor", ""),
        favorites=a.get("favorite") == "true",
    )
    page = library_service.gallery(api_user(), flt, page_size=limit or library_service.PAGE_SIZE)
    sizes = group_sizes([i.asset.group_root_id for i in page.items])
    items = [asset_json(i.asset, i.usage, sizes.get(i.asset.group_root_id)) for i in page.items]
    return (
        jsonify({"items": items, "next_cursor": page.next_cursor}),
        200,
        paginate_link(
            page.next_cursor,
            **{
                k: a.get(k)
                for k in (
                    "kind",
                    "media",
                    "status",
                    "source",
                    "show_id",
                    "q",
                    "sort",
                    "color",
                    "favorite",
                    "limit",
                )
            },
        ),
    )


@operation(
    "GET",
    "/assets/{asset_id}",
    summary="One asset",
    tag="assets",
    parameters=[{"name": "asset_id", **ID}],
    responses={200: ref("Asset"), 404: ERR},
)
def get_asset(asset_id: int):
    asset = owned(Asset, asset_id)
    usage = len(library_service.usages([asset])[asset.id].slots)
    size = group_sizes([asset.group_root_id]).get(asset.group_root_id)
    return jsonify(asset_json(asset, usage, size))


@operation(
    "GET",
    "/assets/{asset_id}/download",
    summary="The asset's image file, as an attachment with its file name",
    tag="assets",
    parameters=[{"name": "asset_id", **ID}],
    responses={
        200: {
            "type": "string",
            "format": "binary",
            "x-content-type": [
                "image/jpeg",
                "image/png",
                "image/webp",
                "video/mp4",
                "audio/mpeg",
                "audio/wav",
                "audio/mp4",
            ],
        },
        302: None,
        404: ERR,
    },
)
def download_asset(asset_id: int):
    """The file behind an asset's `download_url`. A token client cannot use the library page (it
    wants a browser session), so the API serves the same bytes under the same rule: owner, or
    staff for reading; 404 for anyone else. With S3 storage this is a 302 to a presigned URL."""
    asset = owned(Asset, asset_id)
    return serve_asset_file(asset, asset.storage_key, asset.content_type, asset.filename, download=True)


@operation(
    "DELETE",
    "/assets/{asset_id}",
    summary="Delete an asset everywhere (clears show slots)",
    scope="write",
    tag="assets",
    parameters=[{"name": "asset_id", **ID}],
    responses={
        200: {
            "type": "object",
            "required": ["deleted", "cleared_slots"],
            "properties": {
                "deleted": {"type": "integer"},
                "cleared_slots": {"type": "array", "items": {"type": "object"}},
            },
        },
        404: ERR,
    },
)
def delete_asset(asset_id: int):
    asset = owned(Asset, asset_id, change=True)
    used = library_service.usages([asset])[asset.id].slots
    cleared = [{"show_id": s.id, "slot": slot} for s, slot in used]
    library_service.delete_assets([asset])
    return jsonify({"deleted": asset_id, "cleared_slots": cleared})


# ----------------------------------------------------------------------------------------------- shows


@operation(
    "GET",
    "/shows",
    summary="Your shows, newest first",
    tag="shows",
    parameters=[CURSOR],
    responses={
        200: {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref("Show")},
                "next_cursor": {"type": ["string", "null"]},
            },
        },
        422: ERR,
    },
)
def list_shows():
    before = _cursor_id()
    q = select(Show).where(Show.owner_id == api_user().id).order_by(Show.id.desc()).limit(26)
    if before:
        q = q.where(Show.id < before)
    rows = list(db.session.scalars(q))
    nxt = str(rows[24].id) if len(rows) > 25 else None
    return jsonify({"items": [show_json(s) for s in rows[:25]], "next_cursor": nxt}), 200, paginate_link(nxt)


def _show_data(body: dict) -> dict:
    allowed = {
        "title",
        "venue_name",
        "venue_address",
        "timezone",
        "currency",
        "price_min",
        "price_max",
        "performers",
        "cta_text",
        "ticket_url",
        "performances",
    }
    unknown = set(body) - allowed
    if unknown:
        raise validation_error({k: ["Unknown field."] for k in sorted(unknown)})
    data = dict(body)
    for key in ("title", "venue_name", "venue_address", "timezone", "currency", "cta_text", "ticket_url"):
        if key in data and not isinstance(data[key], str):
            raise validation_error({key: ["Must be a string."]})
    if "performers" in data and (
        not isinstance(data["performers"], list) or not all(isinstance(p, str) for p in data["performers"])
    ):
        raise validation_error({"performers": ["Must be a list of names."]})
    price_errors = {}
    for key in ("price_min", "price_max"):
        if key in data:
            try:
                data[key] = show_service.parse_price(data[key])
            except ValueError as exc:
                price_errors[key] = [str(exc)]  # our own message, never decimal's
    if price_errors:
        raise validation_error(price_errors)
    if "performances" in data:
        items = data["performances"]
        if not isinstance(items, list):
            raise validation_error({"performances": ["Must be a list of {starts_at, timezone}."]})
        parsed = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("starts_at"), str):
                raise validation_error({f"performances[{i}]": ["Give starts_at like 2027-03-06T20:00."]})
            try:
                starts = datetime.fromisoformat(item["starts_at"])
            except ValueError:
                raise validation_error(
                    {f"performances[{i}].starts_at": ["Use ISO 8601, e.g. 2027-03-06T20:00."]}
                ) from None
            tz = item.get("timezone")
            if tz is not None and not isinstance(tz, str):
                raise validation_error({f"performances[{i}].timezone": ["Must be an IANA zone name."]})
            parsed.append({"starts_at": starts, "timezone": tz})
        data["performances"] = parsed
    return data


def _save_show(fn, *args):
    """The service's checks raise ValueError with a message for the producer; anything from
    decimal would be its internals ("[<class 'decimal.ConversionSyntax'>]"), so never echo it."""
    try:
        return fn(*args)
    except ValueError as exc:
        db.session.rollback()
        raise validation_error({"show": [str(exc)]}, str(exc)) from None
    except InvalidOperation:
        db.session.rollback()
        message = "A number in the show is not valid; prices are numbers such as 25 or 25.50."
        raise validation_error({"show": [message]}, message) from None


@operation(
    "POST",
    "/shows",
    summary="Create a show",
    scope="write",
    tag="shows",
    body={"json": ref("ShowInput")},
    responses={201: ref("Show"), 422: ERR},
)
def create_show():
    data = _show_data(json_body())
    show = _save_show(show_service.create_show, api_user(), data)
    return jsonify(show_json(show)), 201, {"Location": f"/api/v1/shows/{show.id}"}


@operation(
    "GET",
    "/shows/{show_id}",
    summary="One show",
    tag="shows",
    parameters=[{"name": "show_id", **ID}],
    responses={200: ref("Show"), 404: ERR},
)
def get_show(show_id: int):
    return jsonify(show_json(owned(Show, show_id)))


@operation(
    "PATCH",
    "/shows/{show_id}",
    summary="Change a show (fields you send)",
    scope="write",
    tag="shows",
    parameters=[{"name": "show_id", **ID}],
    body={"json": ref("ShowInput")},
    responses={200: ref("Show"), 404: ERR, 422: ERR},
)
def update_show(show_id: int):
    show = owned(Show, show_id, change=True)
    data = _show_data(json_body())
    return jsonify(show_json(_save_show(show_service.update_show, show, data)))


__all__ = ["not_found"]
