"""Auto-format actions: an upload, or an image already in the library."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from webapp.extensions import db
from webapp.imaging import ImageRejected, inspect_upload
from webapp.imaging.presets import DEFAULT_FORMATS
from webapp.models import Asset, Job, User
from webapp.services import formats as format_service
from webapp.services import jobs as job_service
from webapp.services import limits
from webapp.services.actions.core import (
    ActionError,
    ActionSpec,
    _register,
    owned_image,
    require_feature,
)
from webapp.services.assets import IngestResult, ingest_upload, upload_limits, upload_writer
from webapp.services.upload_analysis import complete_analysis

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------- auto-format

FILLS = ("blur", "solid", "crop")
OUTPUTS = ("jpeg", "png", "webp")


@dataclass(frozen=True)
class AutoformatSettings:
    """How to auto-format: which formats, fill per format, darkening (percent), shadow, output.

    `formats` are preset names (built-in or admin-added) or custom sizes (`1600x900`, `4:5@1350`),
    see `services.formats`; `fills` is keyed the same way (a fill for a format not chosen is ignored).
    """

    formats: tuple[str, ...] = DEFAULT_FORMATS
    fills: dict[str, str] = field(default_factory=dict)
    darken: int = 15
    shadow: bool = True
    output: str = "jpeg"

    def errors(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        try:
            format_service.resolve_list(self.formats)
        except format_service.FormatSpecError as exc:
            found["formats"] = [exc.message]
        for name, fill in self.fills.items():
            try:
                key = format_service.resolve(name).name
            except format_service.FormatSpecError:
                key = None
            if key is None or fill not in FILLS:
                found[f"fill_{name}"[:60]] = ["Choose blur, solid or crop."]
        if not isinstance(self.darken, int) or isinstance(self.darken, bool) or not 0 <= self.darken <= 60:
            found["darken"] = ["Darkening must be a whole number from 0 to 60."]
        if self.output not in OUTPUTS:
            found["output"] = ["Choose jpeg, png or webp."]
        return found

    def targets(self) -> list[Any]:
        """The chosen formats, resolved (call after `errors()` came back empty)."""
        return format_service.resolve_list(self.formats)

    def payload(self, asset_id: int) -> dict[str, Any]:
        targets = self.targets()
        fills = {format_service.resolve(k).name: v for k, v in self.fills.items()}
        return {
            "asset_id": asset_id,
            "formats": [t.name for t in targets],
            # Sizes travel with the job: an admin preset deleted before the job runs still renders.
            "sizes": {t.name: [t.width, t.height] for t in targets},
            "options": {t.name: {"fill": fills.get(t.name, "blur")} for t in targets},
            "darken": self.darken / 100,
            "shadow": bool(self.shadow),
            "output": self.output,
        }


def _validated(settings: AutoformatSettings | None) -> AutoformatSettings:
    settings = settings or AutoformatSettings()
    errors = settings.errors()
    if errors:
        raise ActionError("invalid", "Some auto-format settings need changing.", errors)
    return settings


def _start_autoformat(
    user: User, asset: Asset, settings: AutoformatSettings, idempotency_key: str | None, batch_id: int | None
) -> Job:
    try:
        return job_service.start(
            user,
            "autoformat",
            settings.payload(asset.id),
            batch_id=batch_id,
            allowance=("autoformat", 1, None),
            idempotency_key=idempotency_key,
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


@dataclass
class UploadOutcome:
    """An upload was stored; `job` is None when the producer must first choose between the new
    image and a near-duplicate already in the library."""

    ingest: IngestResult
    job: Job | None


def autoformat_upload(
    user: User,
    data: bytes,
    filename: str | None,
    settings: AutoformatSettings | None = None,
    *,
    idempotency_key: str | None = None,
    batch_id: int | None = None,
    ask_about_near_duplicates: bool = False,
) -> UploadOutcome:
    """Store an upload and auto-format it. The allowance is looked at before anything is stored
    (a refused upload leaves nothing) and reserved with the job."""
    require_feature(user)
    settings = _validated(settings)
    try:
        info = inspect_upload(data, upload_limits())  # a bad file is refused for what it is, first
    except ImageRejected as exc:
        raise ActionError("invalid", exc.message, {"file": [exc.message]}) from None
    try:
        limits.check("autoformat", user)
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    try:
        # The thumbnail and colours are the job's work (services.upload_analysis): the request
        # validates, hashes, stores and answers the near-duplicate question, nothing more.
        ingest = ingest_upload(user, data, filename, info=info, defer_analysis=True)
    except ImageRejected as exc:
        raise ActionError("invalid", exc.message, {"file": [exc.message]}) from None
    job = None
    try:
        if not (ask_about_near_duplicates and ingest.near_duplicates):
            job = _start_autoformat(user, ingest.asset, settings, idempotency_key, batch_id)
    finally:
        if job is None and ingest.created:
            # No job of its own (the producer is asked about a near-duplicate first, or the job was
            # refused): analyse now, as before, rather than leave the original without colours.
            _analyse_now(ingest.asset.id)
    return UploadOutcome(ingest, job)


def _analyse_now(asset_id: int) -> None:
    try:
        complete_analysis(asset_id, upload_writer())
    except Exception:  # the thumbnail is then made on first view (library.ensure_thumbnail)
        db.session.rollback()
        log.warning("analysis of upload %s failed; left to its first thumbnail view", asset_id, exc_info=True)


def autoformat_asset(
    user: User,
    asset_id: Any,
    settings: AutoformatSettings | None = None,
    *,
    idempotency_key: str | None = None,
    batch_id: int | None = None,
) -> Job:
    """Auto-format an image already in the library."""
    require_feature(user)
    asset = owned_image(asset_id, user)
    if asset.status in ("held", "rejected"):  # issue 17: no formats of an image moderation stopped
        message = "This image is held or rejected by moderation, so it cannot be auto-formatted yet."
        raise ActionError("invalid", message, {"asset_id": [message]})
    return _start_autoformat(user, asset, _validated(settings), idempotency_key, batch_id)


_register(
    ActionSpec(
        "autoformat_upload",
        ("feature", "validation", "allowance"),
        ("web:autoformat.create", "api:api.auto_format"),
        "autoformat",
    )
)
_register(
    ActionSpec(
        "autoformat_asset",
        ("feature", "ownership", "validation", "allowance"),
        (
            "web:library.autoformat",
            "web:studio.autoformat",
            "web:autoformat.resolve_duplicate",
            "web:bulk.publish",
            "api:api.autoformat_asset",
        ),
        "autoformat",
    )
)
