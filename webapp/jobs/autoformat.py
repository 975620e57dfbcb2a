"""RQ entry point: one original -> one asset per chosen format (poster, square, banner, ig-story, 1600x900…).

Each output's `kind` is its format name: a preset name or the custom size (`1600x900`)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging import FORMATS, AutoformatOptions, OutputFormat, analyze, autoformat_bytes
from webapp.imaging.upscale import upscale_warnings
from webapp.jobs.runner import JobContext, JobError, execute
from webapp.models import Asset
from webapp.services.assets import EXTENSIONS, apply_analysis, stem_of, storage_key
from webapp.services.upload_analysis import complete_analysis
from webapp.storage import get_storage

log = logging.getLogger(__name__)

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def run(job_id: int) -> None:
    """Entry point enqueued by `services.jobs.start(..., "autoformat", ...)`."""
    execute(job_id, _autoformat)


def targets_from_input(payload: dict[str, Any]) -> list[OutputFormat]:
    """The formats a job renders: the names and sizes the action wrote (any preset or custom size),
    or, for a job written before sizes travelled with it, the known show formats it names."""
    sizes = payload.get("sizes")
    names = payload.get("formats", list(FORMATS))
    if isinstance(sizes, dict) and isinstance(names, list):
        targets = []
        for n in names:
            size = sizes.get(n) if isinstance(n, str) else None
            if isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size):
                targets.append(OutputFormat(n, size[0], size[1]))
        if targets:
            return targets
    names = [n for n in names if isinstance(n, str) and n in FORMATS] or list(FORMATS)
    return [FORMATS[n] for n in names]


def options_from_input(
    payload: dict[str, Any],
) -> tuple[list[OutputFormat], dict[str, AutoformatOptions], str]:
    """Parse the job input written by the action (already validated there)."""
    targets = targets_from_input(payload)
    per_format = payload.get("options", {})
    darken = float(payload.get("darken", 0.15))
    shadow = bool(payload.get("shadow", True))
    options = {
        t.name: AutoformatOptions(
            fill=per_format.get(t.name, {}).get("fill", "blur"), darken=darken, shadow=shadow
        )
        for t in targets
    }
    out = payload.get("output", "jpeg")
    if out not in MIME:
        raise JobError(f"Unknown output format {out!r}: choose jpeg, png or webp.")
    return targets, options, out


def _autoformat(ctx: JobContext) -> None:
    source = db.session.get(Asset, ctx.input.get("asset_id"))
    if source is None or source.owner_id != ctx.owner_id:
        raise JobError("The original image was deleted before it could be processed. Upload it again.")
    key, filename, source_id, show_id = source.storage_key, source.filename, source.id, source.show_id
    source_size = (source.width, source.height)
    # Issue 17/20: formats of an unpublished source (an AI draft) are drafts too, published through
    # moderation like their source; formats of a published image (an upload) are published.
    status = "published" if source.status in (None, "published") else "draft"
    analysed = bool(source.thumb_key) or not source.is_image
    db.session.commit()  # close the read before talking to storage

    targets, options, out = options_from_input(ctx.input)
    names = [t.name for t in targets]
    if not analysed:
        # The upload request left the thumbnail and colours to this job (services.upload_analysis).
        # They belong to the original, committed on their own: a later failure of the formats keeps
        # them, and a failed analysis does not cost the producer the formats.
        ctx.progress(2, "Analysing the artwork")
        try:
            complete_analysis(source_id, ctx.writer)
        except Exception:
            db.session.rollback()
            log.warning(
                "job %s: analysis of asset %s failed; its thumbnail is made on first view",
                ctx.job_id,
                source_id,
                exc_info=True,
            )
    ctx.progress(5, "Fetching the artwork")
    data = get_storage().get(key)

    def on_progress(percent: int, stage: str) -> None:
        ctx.progress(8 + percent * 0.8, stage)

    results = autoformat_bytes(data, targets, options=options, out_format=out, progress=on_progress)

    ctx.progress(90, "Saving the images")
    mime = MIME[out]
    stem = stem_of(filename)
    assets: list[Asset] = []
    notes: dict[str, str] = {}
    fills: dict[str, str] = {}
    for res in results:
        sha = hashlib.sha256(res.data).hexdigest()
        existing = db.session.scalar(select(Asset).where(Asset.owner_id == ctx.owner_id, Asset.sha256 == sha))
        fills[res.name] = res.fill_used
        if res.note:
            notes[res.name] = res.note
        if existing is not None:  # a retry or an identical earlier run: reuse, don't store twice
            assets.append(existing)
            continue
        out_key = storage_key(ctx.owner_id, sha, mime, ctx.writer)
        ctx.put(out_key, res.data, mime)
        asset = Asset(
            owner_id=ctx.owner_id,
            kind=res.name,
            storage_key=out_key,
            filename=f"{stem}-{res.name}.{EXTENSIONS[mime]}",
            content_type=mime,
            bytes=len(res.data),
            width=res.width,
            height=res.height,
            sha256=sha,
            parent_id=source_id,
            job_id=ctx.job_id,
            source="autoformat",
            show_id=show_id,
            status=status,
            provenance={
                "source": "autoformat",
                "fill": res.fill_used,
                "job": ctx.job_id,
                "format": res.name,
                "size": [res.width, res.height],
            },
        )
        apply_analysis(asset, analyze(res.data), ctx.put)
        assets.append(asset)
    # An upload much smaller than a format is enlarged and looks soft: say so (issue 15), per format.
    upscale = {w.format: w.as_dict() for w in upscale_warnings(source_size, targets, options)}
    ctx.finish({"formats": names, "output": out, "fills": fills, "notes": notes, "upscale": upscale}, assets)
