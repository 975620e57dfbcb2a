"""RQ entry points for media: ``video`` (a still -> an MP4 clip) and ``voice`` (a script -> speech).

One code path for every provider: the adapter is chosen by name (`services.media.video_provider` /
`speech_provider`; ``local`` is the offline renderer) and talks to this job only through `TaskHooks`:
progress, the producer's cancel, and ``save_task_id``, which commits a remote provider's task id on the
job row (``Job.provider_task_id``) before the first poll, so a retried attempt resumes the same paid task
(``resume_task_id``) instead of starting a second one. What comes back is validated like any untrusted
file (`media.probe`) before it is stored, with a thumbnail, as an asset.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from webapp.base_urls import BaseUrlRefused
from webapp.extensions import db
from webapp.jobs import money, provider_tasks
from webapp.jobs.runner import JobCancelled, JobContext, JobError, RetryableJobError, execute
from webapp.models import Asset, Job, JobStatus, Show, User
from webapp.providers.media import SpeechRequest, TaskCancelled, TaskHooks, VideoRequest
from webapp.services import media
from webapp.storage import get_storage


def run(job_id: int) -> None:
    """Entry point enqueued by `services.jobs.start(..., "video", ...)`."""
    execute(job_id, _animate)


def run_voice(job_id: int) -> None:
    """Entry point enqueued by `services.jobs.start(..., "voice", ...)`."""
    execute(job_id, _speak)


CLIP_TAG = "clip:"  # Job.provider_task_id of a clip's or voice-over's task (a still's is v<n>:)


def _hooks(ctx: JobContext, start: float, span: float) -> tuple[TaskHooks, bool]:
    """Hooks bound to this attempt's row (progress maps 0..1 into [start, start+span] percent), and
    whether the task being resumed is already in the ledger."""
    stored = db.session.scalar(select(Job.provider_task_id).where(Job.id == ctx.job_id))
    db.session.commit()
    resume = stored[len(CLIP_TAG) :] if stored and stored.startswith(CLIP_TAG) else None
    paid = bool(resume and resume.endswith(provider_tasks.PAID))
    if resume and paid:
        resume = resume[: -len(provider_tasks.PAID)]

    def save_task_id(task_id: str) -> None:
        with db.engine.begin() as conn:
            rows = conn.execute(
                update(Job).where(*ctx._mine()).values(provider_task_id=f"{CLIP_TAG}{task_id}"[:200])
            ).rowcount
        if not rows:
            raise JobCancelled

    def cancelled() -> bool:
        with db.engine.connect() as conn:
            row = conn.execute(select(Job.status, Job.attempts).where(Job.id == ctx.job_id)).first()
        return row is None or row.status != JobStatus.RUNNING.value or row.attempts != ctx.attempt

    def progress(fraction: float, stage: str) -> None:
        import contextlib

        # A cancel is noticed by ``cancelled`` (which also stops the provider's task and records the
        # charge); raising here would skip both.
        with contextlib.suppress(JobCancelled):
            ctx.progress(start + span * max(0.0, min(1.0, fraction)), stage)

    from webapp.services.inprocess import task_wait_limit

    hooks = TaskHooks(
        resume_task_id=resume,
        save_task_id=save_task_id,
        progress=progress,
        cancelled=cancelled,
        wait_limit=task_wait_limit(),
    )
    return hooks, paid


def _task_pending(job_id: int) -> bool:
    """A clip task is stored on the row and not yet in the ledger (a retry would resume it)."""
    stored = db.session.scalar(select(Job.provider_task_id).where(Job.id == job_id))
    db.session.commit()
    return bool(stored and stored.startswith(CLIP_TAG) and not stored.endswith(provider_tasks.PAID))


def _set_task(job_id: int, value: str | None, *, commit: bool = True) -> None:
    db.session.execute(update(Job).where(Job.id == job_id).values(provider_task_id=value))
    if commit:
        db.session.commit()


def _key_for(ctx: JobContext, name: str):
    """(key, base_url) for a remote provider, the producer's own key first (the generation rules)."""

    def resolve() -> tuple[str | None, str | None]:
        from webapp.jobs.generate import _key_for as route_key
        from webapp.services.keys import base_url_for
        from webapp.services.providers import RoutingError, plan

        user = db.session.get(User, ctx.owner_id)
        try:
            route = plan(user, name, "video")[0]
        except (RoutingError, IndexError) as exc:
            raise JobError(str(exc) or f"{name} is not set up.") from None
        try:
            base_url = base_url_for(
                route.provider_name, route.provider_row, own_key=route.key_owner == "user"
            )
        except BaseUrlRefused as exc:
            raise JobError(f"{exc} Nothing was sent; an admin must fix the provider's base URL.") from None
        return route_key(route, user), base_url

    return resolve


def _call(fn: Any) -> Any:
    """Run an adapter call, translating the contract's failures into the runner's."""
    from webapp.providers import ProviderError

    try:
        return fn()
    except TaskCancelled:
        raise JobCancelled from None
    except media.MediaUnavailable as exc:
        raise JobError(str(exc)) from None
    except ProviderError as exc:
        raise (RetryableJobError if exc.retryable else JobError)(str(exc)) from None


def _paid(
    ctx: JobContext,
    name: str,
    operation: str,
    size: str,
    model: str,
    units: dict[str, int],
    call: Any,
    paid: bool = False,
    resumed: bool = False,
) -> Any:
    """A remote clip or voice-over goes through the same money rules as a still (`jobs.money`): priced
    from the price table (`pricing.media_estimate`, what the estimate showed), held on a platform key's
    monthly budget before the call, settled and written to the ledger after it. A cancelled task was
    started and is not refunded, so it is recorded as possibly billed, never as $0. A resumed task
    (``resumed``: an earlier attempt created it and died) takes over that attempt's budget; once its
    ledger row is written the row's task id is flagged paid (``paid`` on the next attempt), so it is
    never recorded twice. A task that lives on after a failure (a timeout, a lost poll) is not charged
    now: the retry resumes it and pays then. The free offline renderer costs nothing and records nothing."""
    if name == media.LOCAL:
        return _call(call)
    from webapp.providers import ProviderError
    from webapp.services import budget
    from webapp.services.pricing import media_estimate
    from webapp.services.providers import RoutingError, plan

    user = db.session.get(User, ctx.owner_id)
    try:
        route = plan(user, name, "video")[0]
    except (RoutingError, IndexError) as exc:
        raise JobError(str(exc) or f"{name} is not set up.") from None
    route = type(route)(route.provider_name, model, route.key_owner, route.provider_row, route.user_key_id)
    price = media_estimate(route.provider_row, name, model, **units)
    charge = money.Charge(user.id, route, operation, size, "medium", ctx.job_id)
    try:
        charge.reservation = money.hold(route, price, resumed=resumed, paid=paid)
    except budget.BudgetExceeded as exc:
        raise JobError(str(exc)) from None
    db.session.commit()  # no transaction open while the provider works

    try:
        result = call()
    except TaskCancelled:
        if not paid:
            charge.settle(
                price,
                "cancelled_maybe_billed",
                money.CANCELLED_TASK,
            )
        raise JobCancelled from None
    except ProviderError as exc:
        if getattr(exc, "task_finished", False):
            _set_task(ctx.job_id, None)  # over at the provider: a retry starts a new task
        elif paid or _task_pending(ctx.job_id):
            if not paid:
                charge.note(
                    type(exc).__name__.lower(),
                    f"{exc.message} {money.TASK_CONTINUES}",
                )
            raise RetryableJobError(money.resume_advice(exc.message)) from None
        if not paid:
            charge.settle(
                price if exc.may_have_billed else Decimal(0), type(exc).__name__.lower(), exc.message
            )
        raise (RetryableJobError if exc.retryable else JobError)(str(exc)) from None
    except media.MediaUnavailable as exc:
        charge.release()
        raise JobError(str(exc)) from None
    if not paid:
        if result.task_id:  # flagged paid in the ledger row's transaction
            _set_task(ctx.job_id, f"{CLIP_TAG}{result.task_id}{provider_tasks.PAID}"[:200], commit=False)
        charge.settle(price, "success", None, count=1)
    return result


def _store(ctx: JobContext, result: Any, **fields: Any) -> Asset:
    from webapp.media.probe import MediaRejected, probe, thumbnail

    try:
        info = probe(result.data, result.mime)
        thumb = thumbnail(result.data, info)
    except MediaRejected as exc:
        raise JobError(f"The provider returned a file Marquee cannot keep: {exc.message}") from None
    return media.media_asset(
        ctx.owner_id, result.data, info, thumb, ctx.writer, ctx.put, job_id=ctx.job_id, **fields
    )


def _animate(ctx: JobContext) -> None:
    fresh = bool(ctx.input.get("still"))
    if fresh:  # step 1 of 2: draw the still (jobs.video_still), then animate it like a library image
        from webapp.jobs.video_still import SHARE, still_asset

        source = still_asset(ctx)
    else:
        source = db.session.get(Asset, ctx.input.get("asset_id"))
    if source is None or source.owner_id != ctx.owner_id or not source.is_image:
        raise JobError("The image was deleted before it could be animated. Choose another image.")
    key, filename, source_id, mime = source.storage_key, source.filename, source.id, source.content_type
    show_id = ctx.input.get("show_id")
    if show_id is not None and db.session.get(Show, show_id) is None:
        show_id = None
    db.session.commit()  # close the read before talking to storage

    name = ctx.input.get("provider") or media.LOCAL
    start = SHARE + 2 if fresh else 5.0
    step = "Step 2 of 2: " if fresh else ""
    ctx.progress(start - 2, f"{step}Fetching the image")
    data = get_storage().get(key)
    cfg = current_app.config
    adapter = _call(
        lambda: media.video_provider(
            name,
            _key_for(ctx, name),
            float(cfg.get("PROVIDER_TIMEOUT_SECONDS", 90)),
            float(cfg.get("LOCAL_VIDEO_SCALE", 1.0)),
        )
    )
    request = VideoRequest(
        image=data,
        image_mime=mime,
        format=ctx.input["format"],
        seconds=int(ctx.input["seconds"]),
        motion=ctx.input.get("motion", "push-in"),
        prompt=ctx.input.get("prompt", ""),
        title=ctx.input.get("title", ""),
        subtitle=ctx.input.get("subtitle", ""),
    )
    hooks, paid = _hooks(ctx, start, 90 - start)
    ctx.progress(
        start, step + ("Rendering the clip" if name == media.LOCAL else "Asking the provider for the clip")
    )
    billed = request.seconds
    if name != media.LOCAL and (request.model or "gen4_turbo") == "gen4_turbo":
        billed = 5 if request.seconds <= 7 else 10  # the only lengths gen4_turbo makes (and bills)
    result = _paid(
        ctx,
        name,
        "video",
        request.format,
        request.model or "gen4_turbo",
        {"seconds": billed},
        lambda: adapter.animate(request, hooks),
        paid=paid,
        resumed=bool(hooks.resume_task_id),
    )
    ctx.progress(92, "Checking and saving the clip")
    stem = filename.rsplit(".", 1)[0] or "clip"
    asset = _store(
        ctx,
        result,
        filename=f"{stem}-{request.format}.mp4",
        parent_id=source_id,
        show_id=show_id,
        provenance={
            "source": "animate",
            "provider": name,
            "format": request.format,
            "seconds": request.seconds,
            "motion": request.motion,
            "title_reveal": bool(request.title),
            "task_id": result.task_id,
            "usage": result.usage,
        },
    )
    result_info = {"kind": "video", "provider": name, "format": request.format}
    if fresh:
        result_info["still_asset_id"] = source_id
    ctx.finish(result_info, [asset])


def _speak(ctx: JobContext) -> None:
    name = ctx.input.get("provider")
    cfg = current_app.config
    adapter = _call(
        lambda: media.speech_provider(
            name, _key_for(ctx, name), float(cfg.get("PROVIDER_TIMEOUT_SECONDS", 90))
        )
    )
    request = SpeechRequest(text=ctx.input["text"], voice=ctx.input.get("voice"))
    hooks, paid = _hooks(ctx, 5, 85)
    ctx.progress(5, "Asking the provider to read the script")
    result = _paid(
        ctx,
        name,
        "voice",
        "speech",
        request.model or "eleven_multilingual_v2",
        {"chars": len(request.text)},
        lambda: adapter.speak(request, hooks),
        paid=paid,
        resumed=bool(hooks.resume_task_id),
    )
    ctx.progress(92, "Checking and saving the voice promo")
    ext = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/mp4": "m4a"}.get(result.mime, "mp3")
    asset = _store(
        ctx,
        result,
        filename=f"voice-promo.{ext}",
        parent_id=None,
        show_id=ctx.input.get("show_id"),
        provenance={
            "source": "voiceover",
            "provider": name,
            "voice": request.voice,
            "task_id": result.task_id,
        },
    )
    asset.prompt = request.text
    ctx.finish({"kind": "voice", "provider": name}, [asset])
