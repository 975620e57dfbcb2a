"""RQ entry point: one library image -> a Palette row (colours, roles, adjustments, contrast report)."""

from __future__ import annotations

from webapp.extensions import db
from webapp.imaging.palette import DEFAULT_COLORS, MAX_COLORS, MIN_COLORS, build_theme, extract_palette
from webapp.jobs.runner import JobContext, JobError, execute
from webapp.models import Asset, Palette, Show
from webapp.services.palettes import EXTRACTED, default_name
from webapp.storage import get_storage


def run(job_id: int) -> None:
    """Entry point enqueued by `services.jobs.start(..., "palette", ...)`."""
    execute(job_id, _extract)


def _extract(ctx: JobContext) -> None:
    source = db.session.get(Asset, ctx.input.get("asset_id"))
    if source is None or source.owner_id != ctx.owner_id:
        raise JobError("The image was deleted before its colours could be read. Choose another image.")
    key, asset_id, name = source.storage_key, source.id, default_name(source)
    show_id = ctx.input.get("show_id")
    if show_id is not None:
        show = db.session.get(Show, show_id)
        show_id = show.id if show is not None and show.owner_id == ctx.owner_id else None
    db.session.commit()  # close the read before talking to storage

    n_colors = int(ctx.input.get("n_colors") or DEFAULT_COLORS)
    if not MIN_COLORS <= n_colors <= MAX_COLORS:
        raise JobError(f"Choose between {MIN_COLORS} and {MAX_COLORS} colours.")
    ctx.progress(10, "Fetching the image")
    data = get_storage().get(key)
    ctx.progress(40, "Reading the colours")
    # Library images were validated at ingest; the decoder's own generous pixel ceiling still applies.
    colours = extract_palette(data, n_colors, ignore_background=bool(ctx.input.get("ignore_background")))
    theme = build_theme(colours)
    ctx.progress(90, "Checking contrast")
    palette = Palette(
        owner_id=ctx.owner_id,
        source_asset_id=asset_id,
        show_id=show_id,
        name=name,
        colors=theme["colors"],
        roles=theme["roles"],
        adjustments=theme["adjustments"],
        contrast=theme["contrast"],
        is_custom=False,
        status=EXTRACTED,
    )
    db.session.add(palette)
    db.session.flush()  # the id goes into the job's result; finish() commits both in one transaction
    ctx.finish({"palette_id": palette.id, "colors": len(colours)}, [])
