"""Actions: one function per thing a producer can start, and the rules every door gets.

Web routes, API views, CLI commands and bulk pumps are *doors*: they translate their input
(form fields, JSON, arguments) into one call here and the result (a Job, or an `ActionError`)
into their response. The action is where the rules live, in one order, for every door:

1. **feature** — the producer's media assistant is switched on;
2. **ownership** — every referenced record (asset, show, job) is the caller's;
3. **validation** — typed input (`AutoformatSettings`, `GenerationRequest`) is checked;
4. **allowance** — the hourly allowance is *reserved* atomically with the job row
   (`services.limits.reserve`, settled when the job ends);
5. **budget** — a platform-paid request the provider's monthly budget cannot cover is refused
   up front (the exact amount is reserved per call inside the job, see `services.budget`).

`ACTIONS` registers each action with its rules and its doors; `tests/integration/
test_action_conformance.py` is generated from it, so a door or action added without its rules
fails a test, and a static test checks that nothing outside this module starts work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from webapp.extensions import db
from webapp.imaging import ImageRejected, inspect_upload
from webapp.imaging.presets import DEFAULT_FORMATS
from webapp.models import Asset, Job, Show, User
from webapp.params import parse_id
from webapp.services import budget, limits
from webapp.services import formats as format_service
from webapp.services import jobs as job_service
from webapp.services.assets import IngestResult, ingest_upload, upload_limits, upload_writer
from webapp.services.upload_analysis import complete_analysis

log = logging.getLogger(__name__)

RULES = ("feature", "ownership", "validation", "allowance", "budget")


@dataclass(frozen=True)
class ActionSpec:
    """An action's name, the rules it enforces and the doors that call it."""

    name: str
    rules: tuple[str, ...]
    doors: tuple[str, ...]
    allowance: str | None = None


ACTIONS: dict[str, ActionSpec] = {}


def _register(spec: ActionSpec) -> None:
    ACTIONS[spec.name] = spec


# The HTTP status a web or API door answers for each refusal code.
ACTION_STATUS = {
    "invalid": 422,
    "not_found": 404,
    "forbidden": 403,
    "limit": 429,
    "budget": 409,
    "conflict": 409,
}


class ActionError(Exception):
    """A refusal with what to do about it; `code` picks the door's status (ACTION_STATUS)."""

    def __init__(
        self,
        code: str,
        message: str,
        errors: dict[str, list[str]] | None = None,
        allowance: limits.Allowance | None = None,
    ) -> None:
        self.code, self.message = code, message
        self.errors = errors or {}
        self.allowance = allowance
        super().__init__(message)

    @classmethod
    def from_limit(cls, exc: limits.LimitReached) -> ActionError:
        from webapp import metrics

        metrics.allowance_refused(exc.allowance.kind)  # every door's refusal passes here
        return cls("limit", exc.message, allowance=exc.allowance)


FEATURE_OFF = (
    "The media assistant is switched off for your account, so new work cannot start. "
    "Ask an admin to switch it on in Admin → Users."
)


def require_feature(user: User) -> None:
    if not user.media_assistant_enabled:
        raise ActionError("forbidden", FEATURE_OFF)


def screen_prompt(*texts: Any) -> None:
    """The admin's prompt block list, before any job, reservation or paid call (a validation refusal
    naming the blocked term)."""
    from webapp.services import prompt_screen

    try:
        prompt_screen.screen(*(t for t in texts if isinstance(t, str)))
    except prompt_screen.BlockedPrompt as exc:
        raise ActionError("invalid", str(exc), {"prompt": [str(exc)]}) from None


def owned(model: type, record_id: Any, user: User, what: str) -> Any:
    """The record if it is the caller's; otherwise the same 'not found' whether it exists or not."""
    rid = parse_id(record_id)  # ids past Postgres' integer (or True, " 1", "²") name no row
    row = db.session.get(model, rid) if rid is not None else None
    if row is None or row.owner_id != user.id:
        raise ActionError("not_found", f"That {what} is not in your account (it may have been deleted).")
    return row


def owned_image(asset_id: Any, user: User) -> Asset:
    """`owned`, and a still image: a clip or an audio file cannot be auto-formatted, edited or sampled."""
    asset = owned(Asset, asset_id, user, "image")
    if not asset.is_image:
        message = f"That is a {asset.media_kind} file, not an image: choose an image."
        raise ActionError("invalid", message, {"asset_id": [message]})
    return asset


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


# --------------------------------------------------------------------------------- palettes


def extract_palette(
    user: User,
    asset_id: Any = None,
    *,
    upload: tuple[bytes, str | None] | None = None,
    n_colors: int = 6,
    ignore_background: bool = False,
    show_id: Any = None,
    idempotency_key: str | None = None,
) -> Job:
    """Extract a palette from an image in the library or from an upload (stored first)."""
    require_feature(user)
    show = owned(Show, show_id, user, "show") if show_id not in (None, "") else None
    asset = owned_image(asset_id, user) if upload is None else None
    if not isinstance(n_colors, int) or isinstance(n_colors, bool) or not 5 <= n_colors <= 8:
        raise ActionError("invalid", "Ask for 5 to 8 colours.", {"colors": ["5 to 8 colours."]})
    try:
        limits.check("palette", user)
        if upload is not None:
            try:
                asset = ingest_upload(user, upload[0], upload[1]).asset
            except ImageRejected as exc:
                raise ActionError("invalid", exc.message, {"file": [exc.message]}) from None
        payload = {
            "asset_id": asset.id,
            "n_colors": n_colors,
            "ignore_background": bool(ignore_background),
            "show_id": show.id if show is not None else None,
        }
        return job_service.start(
            user, "palette", payload, allowance=("palette", 1, None), idempotency_key=idempotency_key
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "extract_palette",
        ("feature", "ownership", "validation", "allowance"),
        ("web:palettes.create", "api:api.extract_palette"),
        "palette",
    )
)


# --------------------------------------------------------------------------------- generation


def generate(user: User, req: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """Create, edit or re-roll AI artwork (`services.generation.GenerationRequest`)."""
    from webapp.services import generation
    from webapp.services.providers import RoutingError

    require_feature(user)
    if req.show_id is not None:
        owned(Show, req.show_id, user, "show")
    if req.operation == "edit":
        owned_image(req.source_asset_id, user)
    screen_prompt(req.prompt, getattr(req, "negative", ""))
    try:
        q = generation.quote(user, req)
        payload = generation.payload_for(user, req, q)
    except (generation.GenerationError, RoutingError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ActionError("invalid", message, {"request": [message]}) from None
    claim = None
    if q.allowance is not None:
        claim = ("ai", int(req.variations), q.allowance.limit if q.allowance.limit is not None else None)
        if q.allowance.limit is None:
            claim = None  # not limited (admins)
    if q.route.key_owner == "platform" and q.route.provider_row is not None and q.total > 0:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    try:
        return job_service.start(
            user, "generate", payload, inline=inline, allowance=claim, idempotency_key=idempotency_key
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "generate",
        ("feature", "ownership", "validation", "allowance", "budget"),
        (
            "web:studio.generate",
            "web:studio.retry",
            "web:studio.regenerate",
            "web:studio.more",
            "api:api.start_generation",
            "cli:generate",
        ),
        "ai",
    )
)


# --------------------------------------------------------------------------------- video and voice


def animate(user: User, settings: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """A clip (`services.media.VideoSettings`) from a library image, or from a still drawn first from a
    prompt (``image_prompt``: exactly one of the two). ``local`` renders offline, free. The still of a
    fresh clip follows the generation rules — provider or tier, the hourly AI allowance, the monthly
    budget up front — and is drawn in the same job (`jobs.video_still`)."""
    from webapp.services import media

    require_feature(user)
    asset = None if settings.fresh else owned(Asset, settings.asset_id, user, "image")
    show = owned(Show, settings.show_id, user, "show") if settings.show_id not in (None, "") else None
    screen_prompt(getattr(settings, "prompt", ""))
    errors = settings.errors()
    if asset is not None and not asset.is_image:
        errors["asset_id"] = ["That is a video or audio file: choose an image to animate."]
    if not errors and not media.provider_can(settings.provider, "animate"):
        errors["provider"] = [
            f"{settings.provider} cannot make video. Choose local (free, offline) or Runway."
        ]
    if not errors and settings.provider != media.LOCAL and media.route_problem(user, settings.provider):
        errors["provider"] = [media.route_problem(user, settings.provider)]
    if errors:
        raise ActionError("invalid", next(iter(errors.values()))[0], errors)
    still, also = _still_for(user, settings, show) if settings.fresh else (None, None)
    try:
        return job_service.start(
            user,
            "video",
            settings.payload(asset, show, still),
            inline=inline,
            allowance=("media", 1, None),
            also=also,
            idempotency_key=idempotency_key,
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


def _still_for(user: User, settings: Any, show: Show | None) -> tuple[dict, tuple | None]:
    """The generation payload of a fresh clip's still and the AI allowance it takes (the rules of
    `generate`: validation and routing, the platform budget checked up front)."""
    from webapp.services import generation
    from webapp.services.providers import RoutingError

    req = settings.still_request(show)
    try:
        q = generation.quote(user, req)
        payload = generation.payload_for(user, req, q)
    except (generation.GenerationError, RoutingError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise ActionError("invalid", message, {"image_prompt": [message]}) from None
    if q.route.key_owner == "platform" and q.route.provider_row is not None and q.total > 0:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    also = None
    if q.allowance is not None and q.allowance.limit is not None:
        also = ("ai", 1, q.allowance.limit)
    return payload, also


def voiceover(user: User, settings: Any, *, idempotency_key: str | None = None, inline: bool = False) -> Job:
    """A spoken promo (`services.media.VoiceSettings`); needs a premium provider that can speak."""
    from webapp.services import media

    require_feature(user)
    show = owned(Show, settings.show_id, user, "show") if settings.show_id not in (None, "") else None
    screen_prompt(getattr(settings, "text", ""))
    errors = settings.errors()
    if errors:
        raise ActionError("invalid", next(iter(errors.values()))[0], errors)
    try:
        limits.check("media", user)  # the allowance is looked at before the provider question
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    provider = settings.provider or media.default_speech_provider()
    if not provider or not media.provider_can(provider, "speak"):
        raise ActionError("invalid", media.VOICE_NEEDS_PREMIUM, {"provider": [media.VOICE_NEEDS_PREMIUM]})
    problem = media.route_problem(user, provider)
    if problem:
        raise ActionError("invalid", problem, {"provider": [problem]})
    payload = {
        "text": settings.text.strip(),
        "voice": settings.voice or None,
        "provider": provider,
        "show_id": show.id if show is not None else None,
    }
    try:
        return job_service.start(
            user,
            "voice",
            payload,
            inline=inline,
            allowance=("media", 1, None),
            idempotency_key=idempotency_key,
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "animate",
        ("feature", "ownership", "validation", "allowance", "budget"),
        ("web:studio.animate", "api:api.start_video", "cli:animate"),
        "media",
    )
)
_register(
    ActionSpec(
        "voiceover",
        ("feature", "ownership", "validation", "allowance"),
        ("web:studio.voiceover", "api:api.start_voiceover", "cli:voiceover"),
        "media",
    )
)


# --------------------------------------------------------------------------------- AI descriptions


def describe_images(user: User, asset_ids: Any, *, idempotency_key: str | None = None) -> Job:
    """Write alt text, title, description and tags from the image with the admin's vision model
    (`services.describe_ai`): one paid call per image, priced, budgeted and allowance-counted like
    generation; a producer's own words are never overwritten."""
    from webapp.services import describe_ai

    require_feature(user)
    ids = asset_ids if isinstance(asset_ids, list | tuple) else [asset_ids]
    if not ids or len(ids) > describe_ai.MAX_ASSETS:
        message = f"Choose 1 to {describe_ai.MAX_ASSETS} images to describe."
        raise ActionError("invalid", message, {"asset_ids": [message]})
    assets = list(dict.fromkeys(owned_image(i, user).id for i in ids))
    try:
        q = describe_ai.quote(user, len(assets))
    except describe_ai.DescribeUnavailable as exc:
        raise ActionError("invalid", str(exc), {"provider": [str(exc)]}) from None
    claim = ("describe", len(assets), None) if q.route.key_owner == "platform" else None
    if q.platform_paid and q.route.provider_row is not None:
        try:
            budget.check(q.route.provider_row, q.total)
        except budget.BudgetExceeded as exc:
            raise ActionError("budget", exc.message) from None
    payload = {
        "asset_ids": assets,
        "provider": q.route.provider_name,
        "model": q.route.model,
        "key_owner": q.route.key_owner,
    }
    try:
        return job_service.start(user, "describe", payload, allowance=claim, idempotency_key=idempotency_key)
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "describe_images",
        ("feature", "ownership", "validation", "allowance", "budget"),
        ("web:library.describe_ai", "api:api.describe_asset"),
        "describe",
    )
)


# --------------------------------------------------------------------------------- job control


def retry_job(user: User, job_id: Any) -> Job:
    """Run a failed or cancelled job again; the allowance is taken again."""
    require_feature(user)
    job = owned(Job, job_id, user, "job")
    if not job.can_retry:
        raise ActionError("conflict", "Only a failed or cancelled job can be retried.")
    try:
        if not job_service.retry(job):
            raise ActionError("conflict", "Only a failed or cancelled job can be retried.")
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    return job


def cancel_job(user: User, job_id: Any) -> Job:
    """Cancel a queued or running job (see `services.jobs.cancel` for what is kept)."""
    job = owned(Job, job_id, user, "job")
    if not job_service.cancel(job):
        raise ActionError("conflict", "This job has already finished.")
    return job


def _staff_job(staff: User, job_id: Any) -> Job:
    if not getattr(staff, "is_admin", False):
        raise ActionError("forbidden", "Only an admin can steer the job queue.")
    rid = parse_id(job_id)
    job = db.session.get(Job, rid) if rid is not None else None
    if job is None:
        raise ActionError("not_found", "That job no longer exists.")
    return job


def staff_retry_job(staff: User, job_id: Any, via: str = "queue dashboard") -> Job:
    """An admin runs someone's failed or cancelled job again (from /admin/queues). The owner's
    allowance is taken again exactly as if they had pressed Retry; the decision is audited."""
    from webapp.services import audit

    job = _staff_job(staff, job_id)
    if not job.can_retry:
        raise ActionError(
            "conflict", f"Job {job.id} is {job.status}: only a failed or cancelled job can be retried."
        )
    try:
        if not job_service.retry(job):
            raise ActionError("conflict", f"Job {job.id} changed meanwhile; reload the page.")
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None
    audit.record(
        "job.retry", f"job:{job.id}", {"via": via, "owner_id": job.owner_id, "kind": job.kind}, actor=staff
    )
    db.session.commit()
    return job


def staff_cancel_job(staff: User, job_id: Any, via: str = "queue dashboard") -> Job:
    """An admin cancels someone's queued or running job; same meaning as the producer's Cancel."""
    from webapp.services import audit

    job = _staff_job(staff, job_id)
    if not job_service.cancel(job):
        raise ActionError("conflict", f"Job {job.id} has already finished ({job.status}).")
    audit.record(
        "job.cancel", f"job:{job.id}", {"via": via, "owner_id": job.owner_id, "kind": job.kind}, actor=staff
    )
    db.session.commit()
    return job


_register(ActionSpec("staff_retry_job", ("admin", "allowance"), ("web:admin.queue_action",)))
_register(ActionSpec("staff_cancel_job", ("admin",), ("web:admin.queue_action",)))

_register(
    ActionSpec(
        "retry_job",
        ("feature", "ownership", "allowance"),
        ("web:activity.retry", "api:api.retry_job"),
    )
)
_register(ActionSpec("cancel_job", ("ownership",), ("web:activity.cancel", "api:api.cancel_job")))


# --------------------------------------------------------------------------------- favourites


def set_favorite(user: User, asset_id: Any, value: Any) -> Asset:
    """Star (``True``) or unstar (``False``) one of the producer's assets. Setting a value, not
    flipping one, makes the request idempotent: two tabs pressing "star" at once both get a star,
    and the one UPDATE statement lands whole whatever else runs."""
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    asset = owned(Asset, asset_id, user, "image")
    if not isinstance(value, bool):
        message = "Send favorite as true or false."
        raise ActionError("invalid", message, {"favorite": [message]})
    db.session.execute(
        update(Asset)
        .where(Asset.id == asset.id, Asset.owner_id == user.id)
        .values(favorite=value)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(asset)
    # Answer with what this request set (a request racing it may have set the other value since;
    # the row holds whichever committed last, whole).
    set_committed_value(asset, "favorite", value)
    return asset


_register(
    ActionSpec(
        "set_favorite",
        ("ownership", "validation"),
        ("web:library.favorite", "api:api.update_asset"),
    )
)
