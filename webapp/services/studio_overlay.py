"""The show's details set in type over a studio result: the overlay spec's defaults, its preview and the
saved "edited" asset (see `services.studio` for why the overlay is a spec rendered on demand).
"""

from __future__ import annotations

import hashlib
import io
import logging
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging import decode, encode
from webapp.imaging.overlay_spec import ITEMS, OverlaySpec
from webapp.models import Asset, Show, User
from webapp.services import shows as show_service
from webapp.services import versions
from webapp.services.assets import apply_analysis, commit_new_asset, storage_key, upload_writer
from webapp.services.overlay_colours import overlay_colours
from webapp.services.show_locale import DEFAULT_LOCALE, poster_dates
from webapp.services.show_text import price_text
from webapp.services.studio_errors import StudioError
from webapp.storage import get_storage

if TYPE_CHECKING:
    from webapp.imaging.overlay import OverlayResult

log = logging.getLogger(__name__)


PREVIEW_WIDTH = 720


# --------------------------------------------------------------------------- the show's details in type


def show_texts(show: Show | None, locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """The overlay's default texts, filled in from the show (each can be overridden in the form).
    Dates are the performances' venue-local times, worded compactly in the producer's ``locale``."""
    if show is None:
        return {}
    return {
        "title": show.title,
        "performers": " · ".join(show.performers or []),
        "date": poster_dates([p.local_start for p in show.performances], locale),
        "venue": show.venue_name or "",
        "address": ", ".join(
            part.strip() for part in (show.venue_address or "").splitlines() if part.strip()
        ),
        "price": price_text(show),
        "cta": show.cta_text or show_service.DEFAULT_CTA,
    }


def default_spec(asset: Asset, show: Show | None, locale: str = DEFAULT_LOCALE) -> OverlaySpec:
    """The spec last used on this image, else one filled in from the show (its texts, and the colours of
    its applied palette: see `services.overlay_colours`)."""
    stored = (asset.provenance or {}).get("overlay")
    if stored:
        return OverlaySpec.from_dict(stored)
    texts = show_texts(show, locale)
    enabled = [i for i in ("title", "performers", "date", "venue", "price", "cta") if texts.get(i)]
    return OverlaySpec.from_dict({"texts": texts, "enabled": enabled, **overlay_colours(show)})


def clean_source(asset: Asset) -> Asset:
    """The image an overlay goes on: an overlaid image's clean parent (never type over type)."""
    if (asset.provenance or {}).get("source") == "overlay" and asset.parent_id:
        parent = db.session.get(Asset, asset.parent_id)
        if parent is not None and parent.owner_id == asset.owner_id:
            return parent
    return asset


def _pixels(asset: Asset) -> Image.Image:
    return decode(get_storage().get(asset.storage_key))


def render(asset: Asset, spec: OverlaySpec) -> OverlayResult:
    """The clean image with the spec set on it, full size."""
    from webapp.imaging.overlay import render_overlay  # numpy: imported when used, not at start-up

    return render_overlay(_pixels(asset), spec)


def preview_jpeg(asset: Asset, spec: OverlaySpec, width: int = PREVIEW_WIDTH) -> bytes:
    """What the page shows before saving: rendered at full size (so the type is set exactly as it will
    be saved), reduced for the browser (``width``: 80..720 px, small for the layout thumbnails)."""
    image = render(asset, spec).image
    width = min(PREVIEW_WIDTH, max(80, width))
    if image.width > width:
        height = round(image.height * width / image.width)
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85, progressive=True)
    return buf.getvalue()


def save_with_overlay(user: User, asset: Asset, spec: OverlaySpec, show: Show | None = None) -> Asset:
    """Store the overlaid image as a new "edited" asset (parent: the clean image, provenance: the spec),
    and remember the spec on the clean image so the editor reopens where the producer left off."""
    if asset.owner_id != user.id:
        raise StudioError("That image is not in your library.")
    if not spec.visible():
        raise StudioError("Switch on at least one item (the title, for example) before saving.")
    result = render(asset, spec)
    if result.layout.refused:  # over a stated limit: refused, never saved cut short
        raise StudioError(" ".join(result.layout.refused))
    data = encode(result.image, "jpeg")
    sha = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(select(Asset).where(Asset.owner_id == user.id, Asset.sha256 == sha))
    asset.provenance = {**(asset.provenance or {}), "overlay": spec.to_dict()}
    if existing is not None:
        db.session.commit()
        if existing.parent_id == asset.id:
            versions.make_current(existing)  # the same render again: it is the current one again
        return existing
    key = storage_key(user.id, sha, "image/jpeg", upload_writer())
    store = get_storage()
    written: list[str] = []

    def put(k: str, payload: bytes, content_type: str) -> None:
        store.put(k, payload, content_type)
        written.append(k)

    put(key, data, "image/jpeg")
    stem = asset.filename.rsplit(".", 1)[0]
    edited = Asset(
        status="published" if asset.status == "published" else "draft",  # an unchecked source stays unchecked
        owner_id=user.id,
        kind="edited",
        storage_key=key,
        filename=f"{stem}-with-details.jpg",
        content_type="image/jpeg",
        bytes=len(data),
        width=result.image.width,
        height=result.image.height,
        sha256=sha,
        parent_id=asset.id,
        show_id=(show.id if show is not None else asset.show_id),
        source="ai" if asset.source == "ai" else asset.source,
        prompt=asset.prompt,
        provenance={
            "source": "overlay",
            "overlay": spec.to_dict(),
            "parent": asset.id,
            "text_color": result.text_color,
            "scrim": result.scrim,
            "min_contrast": result.min_contrast,
            "fits": result.fits,
            "warnings": list(result.warnings),
            **{k: v for k, v in (asset.provenance or {}).items() if k in ("provider", "model", "prompt")},
        },
    )
    try:
        from webapp.imaging import analyze  # numpy: imported when used, not at start-up

        apply_analysis(edited, analyze(data), put)
    except BaseException:
        db.session.rollback()
        for k in written:
            try:
                store.delete(k)
            except Exception:
                log.exception("could not remove %s after a failed save", k)
        raise
    saved = commit_new_asset(edited, written)
    versions.make_current(saved)  # a re-render replaces the previous render of this image
    return saved


def spec_from_fields(values: dict[str, Any]) -> OverlaySpec:
    """A spec from the editor's flat fields (on_<item>, text_<item>, font, position, colours)."""
    return OverlaySpec.from_dict(
        {
            "texts": {i: values.get(f"text_{i}") or "" for i in ITEMS},
            "enabled": [i for i in ITEMS if values.get(f"on_{i}")],
            "font": values.get("font"),
            "position": values.get("position"),
            "offset": values.get("offset"),
            "size_step": values.get("size_step"),
            "color": values.get("color") if values.get("color_mode") == "custom" else "auto",
            "accent": values.get("accent") if values.get("accent_mode") == "custom" else "auto",
        }
    )


def spec_fields(spec: OverlaySpec) -> dict[str, str]:
    """The inverse of `spec_from_fields`: query arguments for the preview URL."""
    out: dict[str, str] = {"font": spec.font, "position": spec.position}
    if spec.offset:
        out["offset"] = str(spec.offset)
    if spec.size_step:
        out["size_step"] = str(spec.size_step)
    for item in ITEMS:
        if spec.texts.get(item):
            out[f"text_{item}"] = spec.texts[item]
        if item in spec.enabled:
            out[f"on_{item}"] = "y"
    if spec.color != "auto":
        out["color_mode"], out["color"] = "custom", spec.color
    if spec.accent != "auto":
        out["accent_mode"], out["accent"] = "custom", spec.accent
    return out
