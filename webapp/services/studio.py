"""The AI studio's use-cases: what the page offers, starting and retrying generations, and the show's
details set in type over a result.

Money: every number the studio shows comes from `services.generation.quote` / `services.pricing.estimate`,
the same functions the job reserves and the ledger records with, so the page cannot promise one price and
charge another. Typesetting: the overlay is a specification stored next to the clean image
(Asset.provenance["overlay"]) and rendered on demand by the pure `imaging.overlay`, so changing a word or a
font never calls a provider; a saved overlay is a separate "edited" asset whose parent is the clean image.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.imaging import decode, encode
from webapp.imaging.overlay_spec import ITEMS, OverlaySpec
from webapp.models import Asset, Job, JobStatus, Palette, PromptTemplate, Show, User
from webapp.providers import REGISTRY
from webapp.services import actions, audit, generation, moderation, versions
from webapp.services import jobs as job_service
from webapp.services import shows as show_service
from webapp.services.assets import apply_analysis, commit_new_asset, storage_key, upload_writer
from webapp.services.keys import user_keys
from webapp.services.overlay_colours import overlay_colours
from webapp.services.pricing import PriceMissing, estimate
from webapp.services.providers import RoutingError, enabled_providers
from webapp.services.show_locale import DEFAULT_LOCALE, format_typed_date, poster_dates
from webapp.services.show_text import price_text
from webapp.storage import get_storage

if TYPE_CHECKING:
    from webapp.imaging.overlay import OverlayResult

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 720
RECENT_IMAGES = 48

# Starter prompt templates, seeded when the table is empty (admins edit them at /admin/templates).
# Written as art direction for a backdrop: type is ours, so each leaves calm space where it will go.
STARTER_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "poster",
        "Concert under stage lights",
        "A live band silhouetted on a smoky stage, beams of coloured light cutting through haze, the crowd's "
        "raised hands in the foreground, calm dark space in the lower third for the show details",
    ),
    (
        "poster",
        "Theatre, dramatic and elegant",
        "An empty theatre stage with a single spotlight on a velvet curtain, deep shadows, rich reds and "
        "golds, cinematic composition with quiet space at the bottom",
    ),
    (
        "poster",
        "Comedy night, bold and playful",
        "A vintage microphone on a stand in front of a brick wall, warm spotlight, playful confetti, bold "
        "flat colours, uncluttered top and bottom",
    ),
    (
        "square",
        "Festival crowd at golden hour",
        "An open-air festival crowd at golden hour seen from behind, sun flare over the stage, warm "
        "summer colours, centred subject, simple sky above",
    ),
    (
        "square",
        "Jazz club mood",
        "A saxophone resting on a chair in a dim jazz club, bokeh lights, deep blues and amber, intimate and "
        "moody, plenty of negative space",
    ),
    (
        "banner",
        "Wide stage panorama",
        "A wide panorama of a concert stage from the back of the hall, light beams and haze, the stage on "
        "the right third, dark calm area on the left for text",
    ),
    (
        "banner",
        "Abstract sound waves",
        "Abstract flowing sound waves and light trails on a dark background, vivid gradient colours "
        "concentrated on the right, smooth empty space on the left",
    ),
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    "poster": (
        "A string quartet in an old library at night, candlelight, painterly",
        "Neon-lit city rooftop party, dancers in silhouette, purple and teal",
    ),
    "square": (
        "A single red rose on a grand piano, soft studio light",
        "Colourful paper lanterns over a night market crowd",
    ),
    "banner": (
        "A moody coastline at dusk with a lighthouse beam sweeping the sky",
        "A DJ booth glowing under laser lights, wide shot",
    ),
}


class StudioError(ValueError):
    """Something the producer can fix; the message says what."""


# --------------------------------------------------------------------------- prompt templates


def ensure_templates() -> None:
    """Seed the starter templates when there are none at all (fresh install, emptied table). Lazy and
    idempotent, so no data migration is needed and tests that empty the tables get them back."""
    if db.session.scalar(select(func.count()).select_from(PromptTemplate)):
        return
    for position, (image_type, name, text) in enumerate(STARTER_TEMPLATES):
        db.session.add(PromptTemplate(image_type=image_type, name=name, text=text, position=position))
    db.session.commit()


def templates_by_type() -> dict[str, list[PromptTemplate]]:
    ensure_templates()
    rows = db.session.scalars(select(PromptTemplate).order_by(PromptTemplate.position, PromptTemplate.id))
    out: dict[str, list[PromptTemplate]] = {t: [] for t in generation.IMAGE_TYPES}
    for row in rows:
        out.setdefault(row.image_type, []).append(row)
    return out


def save_template(row: PromptTemplate | None, image_type: str, name: str, text: str) -> PromptTemplate:
    """Create or update; new ones go last in their image type."""
    if image_type not in generation.IMAGE_TYPES:
        raise StudioError("Choose poster, square or banner.")
    if row is None:
        last = db.session.scalar(select(func.max(PromptTemplate.position)))
        row = PromptTemplate(position=(last or 0) + 1)
        db.session.add(row)
    created = row.id is None
    row.image_type, row.name, row.text = image_type, name.strip()[:80], generation.clean_prompt(text, 4000)
    db.session.flush()
    action = "prompt_template.create" if created else "prompt_template.update"
    audit.record(action, f"prompt_template:{row.id}", {"name": row.name, "image_type": row.image_type})
    db.session.commit()
    return row


def delete_template(row: PromptTemplate) -> None:
    audit.record(
        "prompt_template.delete",
        f"prompt_template:{row.id}",
        {"name": row.name, "image_type": row.image_type},
    )
    db.session.delete(row)
    db.session.commit()


def move_template(row: PromptTemplate, step: int) -> None:
    """Swap with the neighbour above (-1) or below (+1) within the same image type."""
    siblings = templates_by_type().get(row.image_type, [])
    index = next(i for i, t in enumerate(siblings) if t.id == row.id)
    other = index + (1 if step > 0 else -1)
    if 0 <= other < len(siblings):
        for i, tpl in enumerate(siblings):  # renumber so equal positions cannot make a swap a no-op
            tpl.position = i
        siblings[index].position, siblings[other].position = other, index
        db.session.commit()


# --------------------------------------------------------------------------- what the page offers


# "Let Marquee choose" entries of the provider select (services.tiers): value, label.
TIER_OPTIONS = (
    ("tier:auto", "Auto — best I can use"),
    ("tier:premium", "Premium — Runway, OpenAI, Gemini"),
    ("tier:budget", "Budget — Hugging Face"),
    ("tier:free", "Free — built-in, offline"),
)


@dataclass
class ModelOption:
    value: str  # "provider:model"
    provider: str
    model: str
    label: str
    unit_price: Decimal | None
    needs_key: bool
    can_edit: bool


def model_options(image_type: str, quality: str) -> list[ModelOption]:
    """Every model of every enabled provider with its price per image at this size and quality (from
    the provider's price table: the function the ledger uses)."""
    out = []
    for row in enabled_providers():
        cls = REGISTRY[row.name]
        size = generation.size_for(row.name, image_type)
        models = [row.model, *(m for m in cls.spec.models if m != row.model)]
        for model in models:
            try:
                price: Decimal | None = estimate(row, row.name, model, size, quality, 1)
            except PriceMissing:
                price = None
            out.append(
                ModelOption(
                    f"{row.name}:{model}",
                    row.name,
                    model,
                    # a provider with one model needs no model name (and fits a phone-width select)
                    f"{cls.spec.display_name} · {model}" if len(models) > 1 else cls.spec.display_name,
                    price,
                    cls.spec.needs_key,
                    cls.spec.can_edit,
                )
            )
    return out


def default_model(image_type: str = "poster") -> str:
    rows = enabled_providers()
    row = next((p for p in rows if p.is_default), rows[0] if rows else None)
    return f"{row.name}:{row.model}" if row else ""


def own_key_providers(user: User) -> list[str]:
    return sorted(user_keys(user))


@dataclass
class Estimate:
    quote: generation.Quote | None
    error: str | None
    allowance: str | None
    variations: int
    seconds: float | None = None  # expected time (services.estimates: measured, else typical)


def quote_for(user: User, req: generation.GenerationRequest) -> Estimate:
    """The live estimate: `generation.quote` exactly (which prices through `pricing.estimate`)."""
    try:
        q = generation.quote(user, req)
    except (generation.GenerationError, RoutingError, PriceMissing) as exc:
        return Estimate(None, str(exc), None, int(req.variations))
    allowance = q.allowance.describe() if q.allowance is not None else None
    from webapp.services.estimates import expected_seconds

    seconds = expected_seconds(q.route.provider_name, int(req.variations))[0]
    return Estimate(q, None, allowance, int(req.variations), seconds)


def recent_images(user: User, limit: int = RECENT_IMAGES, include: int | None = None) -> list[Asset]:
    """Images to edit: the producer's newest, any kind — and `include` (an older image the producer
    came from, `/studio?asset=ID` or "Edit in studio") first, so it is offered and selected."""
    chosen = db.session.get(Asset, include) if include else None
    if chosen is not None and (chosen.owner_id != user.id or chosen.media_kind != "image"):
        chosen = None
    rows = list(
        db.session.scalars(
            select(Asset)
            .where(Asset.owner_id == user.id, Asset.media_kind == "image")
            .order_by(Asset.id.desc())
            .limit(limit)
        )
    )
    if chosen is not None and chosen not in rows:
        rows = [chosen, *rows[: limit - 1]]
    return rows


def _palette_hexes(palette: Palette) -> list[str]:
    """The palettes feature's `palette_hexes` when it is installed; the raw colours otherwise."""
    try:
        from webapp.services.palettes import palette_hexes
    except ImportError:  # the palettes feature is optional for the studio
        return [c["hex"] if isinstance(c, dict) else str(c) for c in palette.colors or []]
    return palette_hexes(palette)


def palette_colours(user: User, show: Show | None, palette_id: int | None) -> tuple[list[str], str]:
    """("use these colours", where they come from): ?palette=<id> first, else the show's applied one."""
    palette = None
    source = ""
    if palette_id:
        palette = db.session.get(Palette, palette_id)
        if palette is None or palette.owner_id != user.id:
            palette = None
        else:
            source = palette.name or "your palette"
    if palette is None and show is not None and show.palette_id:
        palette = db.session.get(Palette, show.palette_id)
        source = f"the palette of {show.title}"
    if palette is None:
        return [], ""
    hexes = [h.lower() for h in _palette_hexes(palette) if isinstance(h, str) and len(h) == 7][:8]
    return hexes, source


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


def slot_for(asset: Asset) -> str | None:
    """The show slot this image's size fits, if any."""
    return next((s for s in show_service.SLOT_SIZES if show_service.asset_fits_slot(asset, s)), None)


def assign(show: Show, asset: Asset) -> str:
    """Put the image in the show's slot of its size; returns the slot name."""
    slot = slot_for(asset)
    if slot is None:
        raise StudioError("This image is not exactly a poster, square or banner size, so it fits no slot.")
    moderation.ensure_publishable(
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
