"""The AI studio's use-cases: what the page offers, starting and retrying generations, and the show's
details set in type over a result.

Money: every number the studio shows comes from `services.generation.quote` / `services.pricing.estimate`,
the same functions the job reserves and the ledger records with, so the page cannot promise one price and
charge another. Typesetting: the overlay is a specification stored next to the clean image
(Asset.provenance["overlay"]) and rendered on demand by the pure `imaging.overlay`, so changing a word or a
font never calls a provider; a saved overlay is a separate "edited" asset whose parent is the clean image.

The module is split by idea: `studio_templates` (prompt templates), `studio_options` (what the page
offers), `studio_overlay` (the details in type), `studio_errors`; this module holds generations, what
happens to a result and the CLI, and re-exports the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging.overlay_spec import ITEMS, OverlaySpec
from webapp.models import Asset, Job, JobStatus, Show, User
from webapp.services import actions, generation, publishing
from webapp.services import jobs as job_service
from webapp.services import shows as show_service
from webapp.services.show_locale import DEFAULT_LOCALE, format_typed_date

# The studio's parts, one idea each; callers keep writing `studio.<name>` for all of them.
from webapp.services.studio_errors import StudioError
from webapp.services.studio_options import (
    RECENT_IMAGES,
    TIER_OPTIONS,
    Estimate,
    ModelOption,
    default_model,
    model_options,
    own_key_providers,
    palette_colours,
    quote_for,
    recent_images,
)
from webapp.services.studio_overlay import (
    PREVIEW_WIDTH,
    clean_source,
    default_spec,
    preview_jpeg,
    render,
    save_with_overlay,
    show_texts,
    spec_fields,
    spec_from_fields,
)
from webapp.services.studio_templates import (
    EXAMPLES,
    STARTER_TEMPLATES,
    delete_template,
    ensure_templates,
    move_template,
    save_template,
    templates_by_type,
)
from webapp.storage import get_storage

__all__ = [
    "EXAMPLES",
    "PREVIEW_WIDTH",
    "RECENT_IMAGES",
    "STARTER_TEMPLATES",
    "TIER_OPTIONS",
    "Estimate",
    "ModelOption",
    "StudioError",
    "Variation",
    "assign",
    "autoformat",
    "clean_source",
    "cli_overlay",
    "cli_prepare",
    "default_model",
    "default_spec",
    "delete_template",
    "delete_variation",
    "ensure_templates",
    "generation_jobs",
    "generation_view",
    "ingest_source",
    "model_options",
    "more_like",
    "move_template",
    "own_key_providers",
    "palette_colours",
    "preview_jpeg",
    "quote_for",
    "recent_images",
    "regenerate",
    "render",
    "request_from_input",
    "retry_failed",
    "save_template",
    "save_with_overlay",
    "show_texts",
    "slot_for",
    "spec_fields",
    "spec_from_fields",
    "start",
    "templates_by_type",
    "variations",
]


# --------------------------------------------------------------------------- generations


def ingest_source(user: User, data: bytes, filename: str | None) -> Asset:
    """An uploaded image to edit becomes a library original first (validated like every upload)."""
    from webapp.services.assets import ingest_upload

    return ingest_upload(user, data, filename).asset


def start(user: User, req: generation.GenerationRequest) -> Job:
    """Start a generation (create or edit). Raises GenerationError/RoutingError/LimitReached."""
    if req.operation == "edit":
        src = db.session.get(Asset, req.source_asset_id) if req.source_asset_id else None
        if src is None or src.owner_id != user.id:
            raise StudioError("Choose an image from your library, or upload one, to edit.")
    return actions.generate(user, req)


def request_from_input(data: dict[str, Any], **changes: Any) -> generation.GenerationRequest:
    """Rebuild the request a job was started with (regenerate, retry, more like this)."""
    known = {
        "prompt",
        "image_type",
        "provider",
        "model",
        "quality",
        "variations",
        "style",
        "negative",
        "palette",
        "use_own_key",
        "show_id",
        "operation",
        "source_asset_id",
    }
    fields = {k: v for k, v in data.items() if k in known and v is not None}
    fields.update(changes)
    fields.setdefault("prompt", "")
    return generation.GenerationRequest(**fields)


def retry_failed(user: User, job: Job) -> Job:
    """A new job with the same input that runs ONLY the variations that failed: the succeeded ones are
    handed over as `previous_variations` and neither redrawn nor paid for again."""
    previous = [v for v in (job.result or {}).get("variations") or [] if v.get("status") == "succeeded"]
    if not any(v.get("status") == "failed" for v in (job.result or {}).get("variations") or []) and (
        job.status != JobStatus.FAILED.value
    ):
        raise StudioError("Nothing failed in this generation, so there is nothing to retry.")
    req = request_from_input(job.input or {})
    req.extra = {"previous_variations": previous, "retry_of": job.id}
    return actions.generate(user, req)


def regenerate(user: User, job: Job) -> Job:
    """The same settings again: new pictures (seeds come from the new job)."""
    return actions.generate(user, request_from_input(job.input or {}))


def more_like(user: User, asset: Asset) -> Job:
    """New variations from the prompt and settings that made this image."""
    job = db.session.get(Job, asset.job_id) if asset.job_id else None
    if job is None or job.kind != "generate" or not asset.prompt:
        raise StudioError("Only AI-generated images can be varied; this one has no prompt.")
    return actions.generate(user, request_from_input(job.input or {}, seed=None))


@dataclass
class Variation:
    index: int
    status: str  # pending | drawing | succeeded | failed
    asset: Asset | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def variations(job: Job) -> list[Variation]:
    """One entry per requested variation, finished ones first known from the partial result the job
    publishes while it runs; the rest are pending (or drawing, for the next one in line)."""
    wanted = int((job.input or {}).get("variations") or 1)
    done = {v.get("index"): v for v in (job.result or {}).get("variations") or []}
    ids = [v.get("asset_id") for v in done.values() if v.get("asset_id")]
    assets = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)))} if ids else {}
    out, drawing_marked = [], False
    for i in range(wanted):
        v = done.get(i)
        if v is None:
            status = "pending"
            if job.status == JobStatus.RUNNING.value and not drawing_marked:
                status, drawing_marked = "drawing", True
            elif job.is_final:
                status = "failed"
            out.append(Variation(i, status, error=None if status != "failed" else job.error))
        elif v.get("status") == "succeeded":
            out.append(Variation(i, "succeeded", assets.get(v.get("asset_id")), detail=v))
        else:
            out.append(Variation(i, "failed", error=v.get("error") or job.error, detail=v))
    return out


def generation_view(job: Job) -> dict[str, Any]:
    """Everything the results partial renders."""
    job_service.refresh_if_stale(job)
    items = variations(job)
    show = (
        db.session.get(Show, (job.input or {}).get("show_id")) if (job.input or {}).get("show_id") else None
    )
    return {
        "job": job,
        "variations": items,
        "failed": sum(1 for v in items if v.status == "failed"),
        "show": show,
        "spent": sum((Decimal(str(v.detail.get("cost") or 0)) for v in items), Decimal(0)),
    }


def generation_jobs(user: User, limit: int = 6) -> list[Job]:
    return list(
        db.session.scalars(
            select(Job)
            .where(Job.owner_id == user.id, Job.kind == "generate")
            .order_by(Job.id.desc())
            .limit(limit)
        )
    )


# --------------------------------------------------------------------------- a result: slot, formats


def slot_for(asset: Asset) -> str | None:
    """The show slot this image's size fits, if any."""
    return next((s for s in show_service.SLOT_SIZES if show_service.asset_fits_slot(asset, s)), None)


def assign(show: Show, asset: Asset) -> str:
    """Put the image in the show's slot of its size; returns the slot name."""
    slot = slot_for(asset)
    if slot is None:
        raise StudioError("This image is not exactly a poster, square or banner size, so it fits no slot.")
    publishing.ensure_publishable(
        db.session.get(User, asset.owner_id), asset
    )  # draft → published, or refused
    show_service.assign_slot(show, slot, asset)
    if asset.show_id is None:
        asset.show_id = show.id
        db.session.commit()
    return slot


def autoformat(user: User, asset: Asset) -> Job:
    """All three formats from this image in one click (the library's auto-format, default options)."""
    return actions.autoformat_asset(user, asset.id)


def delete_variation(asset: Asset) -> None:
    from webapp.services.library import delete_assets

    delete_assets([asset])


# --------------------------------------------------------------------------- the CLI (`flask generate`)


def cli_prepare(
    admin: User,
    show_id: int | None,
    texts: dict[str, str | None],
    overlay: str | None,
    font: str | None,
    position: str | None,
    edit_path: str | None,
    nudge: tuple[int, int] = (0, 0),
) -> tuple[Show | None, OverlaySpec | None, int | None]:
    """(show, overlay spec or None, source asset id for --edit) from the command's options.

    An overlay is wanted when any of --show/--overlay/a text/--font/--position is given. Items: the
    --overlay list, else every item that has a text. Explicit texts override the show's; an ISO --date
    ("2026-12-05 20:00") is worded like the poster's own dates. ``nudge``: (offset, size_step)."""
    from pathlib import Path

    show = None
    if show_id is not None:
        show = db.session.get(Show, show_id)
        if show is None:
            raise StudioError(f"There is no show #{show_id}.")
    given = {k: v for k, v in texts.items() if v}
    wanted = show is not None or overlay or given or font or position
    spec = None
    if wanted:
        if given.get("date"):
            given["date"] = format_typed_date(given["date"], DEFAULT_LOCALE)
        merged = {**show_texts(show), **given}
        if overlay:
            items = [i.strip() for i in overlay.split(",") if i.strip()]
            unknown = [i for i in items if i not in ITEMS]
            if unknown:
                raise StudioError(f"Unknown overlay item(s): {', '.join(unknown)}. Use: {', '.join(ITEMS)}.")
        else:
            items = [i for i in ITEMS if merged.get(i) and i != "address"]
        spec = OverlaySpec.from_dict(
            {
                "texts": merged,
                "enabled": items,
                "font": font,
                "position": position or "bottom",
                "offset": nudge[0],
                "size_step": nudge[1],
            }
        )
    source_id = None
    if edit_path:
        path = Path(edit_path)
        source_id = ingest_source(admin, path.read_bytes(), path.name).id
    return show, spec, source_id


def cli_overlay(admin: User, asset: Asset, spec: OverlaySpec, show: Show | None, target: Any) -> str:
    """Save the overlaid version (an "edited" asset, as from the web) and write it to ``target``."""
    try:
        saved = save_with_overlay(admin, asset, spec, show)
    except StudioError as exc:
        return f"{target}  not written: {exc}"
    target.write_bytes(get_storage().get(saved.storage_key))
    worst = (saved.provenance or {}).get("min_contrast")
    notes = "".join(f"\n  warning: {w}" for w in (saved.provenance or {}).get("warnings") or [])
    return f"{target}  with show details, contrast {worst}:1 or better{notes}"
