"""Model -> JSON, one function per resource, shared by every endpoint that returns it."""

from __future__ import annotations

from typing import Any

from flask import url_for

from webapp.models import Asset, Job, Show


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def asset_json(a: Asset, usage: int | None = None, group_size: int | None = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "filename": a.filename,
        "content_type": a.content_type,
        "bytes": a.bytes,
        "width": a.width,
        "height": a.height,
        "sha256": a.sha256,
        "source": a.source,
        "prompt": a.prompt,
        "show_id": a.show_id,
        "parent_id": a.parent_id,
        "job_id": a.job_id,
        "dominant_colors": a.dominant_colors or [],
        "provenance": _public_provenance(a.provenance or {}),
        "usage": usage if usage is not None else 0,
        "created_at": iso(a.created_at),
        "url": url_for("library.file", asset_id=a.id, _external=True),
        # The API's own route: it takes the bearer token (the library page wants a session).
        "download_url": url_for("api.download_asset", asset_id=a.id, _external=True),
        "thumbnail_url": url_for("library.thumb", asset_id=a.id, _external=True),
        "media_kind": a.media_kind or "image",
        "duration_s": a.duration_s,
        "codec": a.codec,
        "alt_text": a.alt_text,
        "title": a.title,
        "description": a.description,
        "tags": list(a.tags or []),
        "described_by": a.described_by,
        # Issue 19: the library's stack (its original's id, and how many assets it holds), the star,
        # and whether a newer overlay render of the same image replaced this one.
        "group_id": a.group_root_id,
        "group_size": group_size if group_size is not None else 1,
        "favorite": bool(a.favorite),
        "superseded": bool(a.superseded),
        "status": a.status or "published",
        "moderation": _moderation_json(a.moderation),
    }


def _moderation_json(m: dict[str, Any] | None) -> dict[str, Any] | None:
    """The last moderation verdict without who reviewed it (staff e-mails stay internal)."""
    if not m:
        return None
    keep = ("state", "categories", "scores", "message", "checked_at", "decision", "decided_at")
    return {k: m.get(k) for k in keep if k in m}


def _public_provenance(p: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k not in ("key", "api_key")}


def job_json(job: Job, outputs: list[Asset]) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "mode": job.mode,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "outputs": [asset_json(a) for a in outputs],
        "result": {k: v for k, v in (job.result or {}).items() if k != "asset_ids"},
        "download_url": url_for("api.download_job", job_id=job.id, _external=True) if outputs else None,
    }


def show_json(show: Show) -> dict[str, Any]:
    from webapp.services.show_text import date_summary, price_text

    return {
        "id": show.id,
        "title": show.title,
        "venue_name": show.venue_name,
        "venue_address": show.venue_address,
        "timezone": show.timezone,
        "currency": show.currency,
        "price_min": str(show.price_min) if show.price_min is not None else None,
        "price_max": str(show.price_max) if show.price_max is not None else None,
        "price_text": price_text(show),
        "performers": list(show.performers or []),
        "cta_text": show.cta_text,
        "ticket_url": show.ticket_url,
        "palette_id": show.palette_id,
        "performances": [
            {"starts_at": iso(p.starts_at), "timezone": p.timezone, "local": p.local_start.isoformat()}
            for p in show.performances
        ],
        "slots": {
            "poster": show.poster_asset_id,
            "square": show.square_asset_id,
            "banner": show.banner_asset_id,
            "promo": show.promo_asset_id,
            "voice": show.voice_asset_id,
        },
        "date_summary": date_summary(show),
    }
