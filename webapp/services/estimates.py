"""What a generation or a bulk run will cost and take, before anything is spent.

The numbers come from the functions the pages show (`generation.quote` for the studio,
`bulk.summarize` for the bulk page), so the API's `POST /estimate` cannot disagree with them.
Expected time is measured, not guessed: the median duration of this provider's recent finished
generations, per image; bulk runs are also bounded by the provider's images-per-minute limit.
"""

from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Job, JobStatus, User
from webapp.services import bulk, generation
from webapp.services.providers import RoutingError

SAMPLE = 50
# Seconds an image typically takes, shown until this platform has measured its own (a Runway task
# queues, runs and is downloaded; Hugging Face may first load the model).
TYPICAL_SECONDS = {"local": 1.0, "openai": 20.0, "gemini": 10.0, "runway": 30.0, "huggingface": 10.0}


class EstimateError(ValueError):
    def __init__(self, message: str, errors: dict[str, list[str]]) -> None:
        self.message, self.errors = message, errors
        super().__init__(message)


def seconds_per_image(provider: str) -> float | None:
    """Median seconds per image of this provider's last finished generations (None: no data)."""
    rows = db.session.execute(
        select(Job.started_at, Job.finished_at, Job.input)
        .where(Job.kind == "generate", Job.status == JobStatus.SUCCEEDED.value, Job.finished_at.is_not(None))
        .order_by(Job.id.desc())
        .limit(SAMPLE * 4)
    ).all()
    samples = []
    for started, finished, payload in rows:
        payload = payload or {}
        if started is None or payload.get("provider") not in (provider, None):
            continue
        samples.append((finished - started).total_seconds() / max(1, int(payload.get("variations", 1))))
        if len(samples) >= SAMPLE:
            break
    return round(statistics.median(samples), 1) if samples else None


def expected_seconds(name: str, images: int) -> tuple[float | None, str]:
    """Seconds for `images` images on provider `name`, measured here when we can, else typical."""
    per_image = seconds_per_image(name)
    typical = TYPICAL_SECONDS.get(name)
    if per_image is not None:
        return per_image * images, f"median {per_image} s an image over recent {name} generations"
    if typical is not None:
        return (
            typical * images,
            f"typical {typical:g} s an image on {name}; not yet measured on this platform",
        )
    return None, "no finished generations on this provider yet to measure"


def _text(body: dict[str, Any], key: str, default: str | None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise EstimateError(f"{key} must be a string.", {key: ["Must be a string."]})
    return value


# Typical seconds of work per second of clip (offline renderer) and per task (Runway), until this
# platform has finished media jobs to measure.
TYPICAL_MEDIA_SECONDS = {("video", "local"): 1.5, ("video", "runway"): 60.0, ("voiceover", "runway"): 20.0}


def _media_seconds(kind: str, provider: str, clip_seconds: int) -> tuple[float, str]:
    """Median wall time of this platform's last finished jobs of this kind and provider, else typical."""
    job_kind = "video" if kind == "video" else "voice"
    rows = db.session.execute(
        select(Job.started_at, Job.finished_at, Job.input)
        .where(Job.kind == job_kind, Job.status == "succeeded", Job.started_at.is_not(None))
        .order_by(Job.id.desc())
        .limit(50)
    ).all()
    samples = sorted(
        (finished - started).total_seconds()
        / (max(1, int((payload or {}).get("seconds", 1))) if kind == "video" else 1)
        for started, finished, payload in rows
        if finished and ((payload or {}).get("provider") or "local") == provider
    )
    unit = clip_seconds if kind == "video" and provider == "local" else 1
    if samples:
        return samples[len(samples) // 2] * unit, f"measured on the last {len(samples)} {job_kind} jobs"
    typical = TYPICAL_MEDIA_SECONDS.get((kind, provider), 60.0)
    return typical * unit, f"typical for {provider}; not yet measured on this platform"


def media_estimate_for(user: User, body: dict[str, Any]) -> dict[str, Any]:
    """A clip (`seconds`) or a voice-over (`text`): cost from the price table (what the job will
    record in the ledger), the tier, and the expected time."""
    from webapp.services import pricing
    from webapp.services.providers import plan

    kind = body["media"]
    provider = _text(body, "provider", None) or ("local" if kind == "video" else "runway")
    model = _text(body, "model", None)
    seconds = body.get("seconds", 6)
    if kind == "video" and (
        not isinstance(seconds, int) or isinstance(seconds, bool) or not 2 <= seconds <= 10
    ):
        raise EstimateError("A clip is 2 to 10 seconds long.", {"seconds": ["2 to 10."]})
    text = _text(body, "text", "") or ""
    if kind == "voiceover" and not text.strip():
        raise EstimateError("Write the script to estimate.", {"text": ["Required for a voice-over."]})
    if kind == "voiceover" and provider == "local":
        raise EstimateError(
            "Voice-overs need a premium provider such as Runway.", {"provider": ["No offline voice."]}
        )
    if provider == "local":
        cost, tier, owner, model = Decimal(0), "free", "platform", "offline-kenburns"
    else:
        try:
            route = plan(user, provider, "video")[0]
        except (RoutingError, IndexError) as exc:
            message = str(exc) or f"{provider} is not set up."
            raise EstimateError(message, {"provider": [message]}) from None
        model = model or ("gen4_turbo" if kind == "video" else "eleven_multilingual_v2")
        billed = (5 if seconds <= 7 else 10) if (kind == "video" and model == "gen4_turbo") else seconds
        try:
            cost = (
                pricing.media_estimate(route.provider_row, provider, model, seconds=billed)
                if kind == "video"
                else pricing.media_estimate(route.provider_row, provider, model, chars=len(text))
            )
        except LookupError as exc:
            raise EstimateError(str(exc), {"provider": [str(exc)]}) from None
        tier, owner = pricing.tier_of(route.provider_row, provider), route.key_owner
    wait, basis = _media_seconds(kind, provider, seconds if isinstance(seconds, int) else 6)
    return {
        "kind": kind,
        "images": 0,
        "cost": str(cost),
        "currency": "USD",
        "seconds": round(wait, 1),
        "seconds_basis": basis,
        "provider": provider,
        "model": model,
        "tier": tier,
        "reason_chosen": "the provider you chose",
        "key_owner": owner,
        "allowed": True,
        "reason": None,
        "allowance": None,
    }


def estimate(user: User, body: dict[str, Any]) -> dict[str, Any]:
    """`prompt` (one generation), `prompts` (a bulk run), or `media` (a clip or a voice-over) with
    the same options as starting it."""
    if body.get("media") is not None:
        if body.get("media") not in ("video", "voiceover"):
            raise EstimateError("media is video or voiceover.", {"media": ["video or voiceover."]})
        return media_estimate_for(user, body)
    variations = body.get("variations", 1)
    if not isinstance(variations, int) or isinstance(variations, bool) or not 1 <= variations <= 4:
        raise EstimateError("Ask for 1 to 4 variations.", {"variations": ["1 to 4."]})
    own = body.get("use_own_key")
    common = {
        "image_type": _text(body, "image_type", "poster") or "poster",
        "provider": _text(body, "provider", None),
        "model": _text(body, "model", None),
        "quality": _text(body, "quality", "medium") or "medium",
    }
    tier = _text(body, "tier", None)
    prompts = body.get("prompts")
    if prompts is not None:
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
            raise EstimateError(
                "prompts must be a list of prompt strings.", {"prompts": ["A list of strings."]}
            )
        parsed = bulk.parse_prompts("\n".join(p.replace("\n", " ") for p in prompts))
        if parsed.problems:
            raise EstimateError("Some prompts need fixing.", {"prompts": parsed.problems})
        settings = bulk.BatchSettings(
            variations=variations, use_own_key=own if isinstance(own, bool) else None, **common
        )
        try:
            summary = bulk.summarize(user, parsed, settings)
        except bulk.BulkError as exc:
            raise EstimateError(str(exc), {"request": [str(exc)]}) from None
        per_image = seconds_per_image(summary.provider)
        by_rate = summary.images * 60 / max(1, summary.per_minute)
        seconds = max(by_rate, (per_image or 0) * summary.images / max(1, 2))
        return {
            "kind": "bulk",
            "images": summary.images,
            "cost": str(summary.cost),
            "currency": "USD",
            "seconds": round(seconds, 1),
            "seconds_basis": (
                f"{summary.per_minute} images a minute (the provider's limit)"
                + (f"; {per_image} s an image measured on recent generations" if per_image else "")
            ),
            "provider": summary.provider,
            "model": summary.model,
            "key_owner": summary.key_owner,
            "allowed": summary.allowed,
            "reason": summary.reason,
            "allowance": None,
        }
    req = generation.GenerationRequest(
        prompt=_text(body, "prompt", "") or "",
        variations=variations,
        use_own_key=own if isinstance(own, bool) else None,
        operation="edit" if body.get("mode") == "edit" else "generate",
        tier=tier,
        **common,
    )
    try:
        q = generation.quote(user, req)
    except (generation.GenerationError, RoutingError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise EstimateError(message, {"request": [message]}) from None
    seconds, basis = expected_seconds(q.route.provider_name, variations)
    return {
        "kind": "generate",
        "images": variations,
        "cost": str(q.total),
        "currency": "USD",
        "seconds": round(seconds, 1) if seconds is not None else None,
        "seconds_basis": basis,
        "provider": q.route.provider_name,
        "model": q.route.model,
        "tier": q.tier,
        "reason_chosen": q.reason,
        "key_owner": q.route.key_owner,
        "allowed": q.allowance is None
        or q.allowance.remaining is None
        or q.allowance.remaining >= variations,
        "reason": None
        if q.allowance is None or q.allowance.remaining is None or q.allowance.remaining >= variations
        else q.allowance.refusal(),
        "allowance": q.allowance.describe() if q.allowance is not None else None,
    }
