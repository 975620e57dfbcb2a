"""Video and voice requests: what a producer may ask for, which adapter does it, and how the result
becomes an asset.

The actions (`services.actions.animate` / `voiceover`) validate a `VideoSettings` / `VoiceSettings` here
and start the job; the job (`webapp.jobs.video`) asks `video_provider` / `speech_provider` for the adapter
by name — ``local`` is the offline renderer, any other name goes through `providers.create_provider` and
must satisfy the `VideoProvider` / `SpeechProvider` contract of `providers.media` — and records the file
with `media_asset`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webapp.models import Asset, AssetSource, Show
from webapp.providers.media import (
    MAX_SCRIPT_CHARS,
    MAX_SECONDS,
    MIN_SECONDS,
    MOTIONS,
    VIDEO_FORMATS,
)

LOCAL = "local"
VOICE_NEEDS_PREMIUM = (
    "Voice needs a premium provider such as Runway: Marquee has no offline voice. An admin can set one up "
    "with `flask --app webapp provider set runway --key …` (or in Admin → Providers), then choose it here."
)


class MediaUnavailable(Exception):
    """The chosen provider cannot make this kind of media (or is not set up): a message to act on."""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


STILL_CHOICES = ("free", "budget", "premium", "auto")  # tiers; any other value names a provider


@dataclass(frozen=True)
class VideoSettings:
    """A clip from one library image (``asset_id``) or from a still drawn first (``image_prompt``, with
    ``image_provider``: a provider name or a tier, and ``image_quality``). ``prompt`` is the motion text
    a premium video provider reads."""

    asset_id: Any = None
    format: str = "story"
    seconds: Any = 6
    motion: str = "push-in"
    title_reveal: bool = False
    provider: str = LOCAL
    prompt: str = ""
    show_id: Any = None
    image_prompt: str = ""
    image_provider: str = "free"
    image_quality: str = "medium"

    @property
    def fresh(self) -> bool:
        """The clip starts from a still drawn for it (a prompt), not a library image."""
        return self.asset_id in (None, "")

    def errors(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        has_prompt = isinstance(self.image_prompt, str) and bool(self.image_prompt.strip())
        if self.fresh and not has_prompt:
            found["asset_id"] = ["Choose an image to animate, or describe a new one to draw first."]
        elif not self.fresh and has_prompt:
            found["prompt"] = ["Give either an image or a prompt for a new one, not both."]
        if self.format not in VIDEO_FORMATS:
            found["format"] = [f"Choose {', '.join(VIDEO_FORMATS)}."]
        seconds = _int(self.seconds)
        if seconds is None or not MIN_SECONDS <= seconds <= MAX_SECONDS:
            found["seconds"] = [f"A clip lasts {MIN_SECONDS} to {MAX_SECONDS} seconds (a whole number)."]
        if self.motion not in MOTIONS:
            found["motion"] = [f"Choose {', '.join(MOTIONS)}."]
        if not isinstance(self.prompt, str) or len(self.prompt) > MAX_SCRIPT_CHARS:
            found["prompt"] = [f"Describe the motion in at most {MAX_SCRIPT_CHARS} characters."]
        if not isinstance(self.provider, str) or not self.provider:
            found["provider"] = ["Choose a provider (local is free and offline)."]
        return found

    def still_request(self, show: Show | None) -> Any:
        """The generation request for the still of a fresh clip (validated by the generation rules)."""
        from webapp.services.generation import GenerationRequest

        choice = self.image_provider or "free"
        tiered = choice in STILL_CHOICES
        return GenerationRequest(
            prompt=self.image_prompt,
            image_type={"story": "poster", "square": "square", "landscape": "banner"}[self.format],
            provider=None if tiered else choice,
            tier=choice if tiered else None,
            quality=self.image_quality or "medium",
            variations=1,
            show_id=show.id if show is not None else None,
        )

    def payload(self, asset: Asset | None, show: Show | None, still: dict | None = None) -> dict[str, Any]:
        title = subtitle = ""
        if self.title_reveal:
            if asset is None and show is None:
                title = self.image_prompt.strip()[:60]
            else:
                title, subtitle = title_lines(show, asset)
        return {
            "asset_id": asset.id if asset is not None else None,
            "still": still,
            "format": self.format,
            "seconds": int(self.seconds),
            "motion": self.motion,
            "title": title,
            "subtitle": subtitle,
            "provider": self.provider,
            "prompt": self.prompt.strip(),
            "show_id": show.id if show is not None else None,
        }


@dataclass(frozen=True)
class VoiceSettings:
    """A spoken promo: a script read by a preset voice."""

    text: str
    voice: str | None = None
    provider: str | None = None
    show_id: Any = None

    def errors(self) -> dict[str, list[str]]:
        if not isinstance(self.text, str) or not self.text.strip():
            return {"text": ["Write the script to read aloud."]}
        if len(self.text) > MAX_SCRIPT_CHARS:
            return {"text": [f"Keep the script under {MAX_SCRIPT_CHARS} characters."]}
        return {}


def title_lines(show: Show | None, asset: Asset) -> tuple[str, str]:
    """The title reveal's two lines: the show's title and its dates, else the image's name."""
    if show is not None:
        from webapp.services.show_text import date_summary

        return show.title, date_summary(show)
    return asset.filename.rsplit(".", 1)[0].replace("-", " ").replace("_", " "), ""


def provider_can(name: str, method: str) -> bool:
    """Whether the registered adapter `name` implements `animate` / `speak` (checked on the class, so
    nothing is constructed and no key is read)."""
    from webapp.providers import REGISTRY

    if name == LOCAL and method == "animate":
        return True
    cls = REGISTRY.get(name)
    return cls is not None and callable(getattr(cls, method, None))


def route_problem(user: Any, provider: str) -> str | None:
    """Why a remote media provider cannot be used by this producer (not enabled, no key), or None."""
    from webapp.services.providers import RoutingError, plan

    try:
        plan(user, provider, "video")
    except RoutingError as exc:
        return str(exc)
    return None


def _adapter(name: str, key: str | None, base_url: str | None, timeout: float) -> Any:
    from webapp.providers import create_provider

    return create_provider(name, key, base_url=base_url, timeout=timeout)


def video_provider(
    name: str, key_for: Callable[[], tuple[str | None, str | None]], timeout: float, scale: float = 1.0
) -> Any:
    """The adapter that animates for provider `name`. `key_for()` -> (key, base_url) is only called for
    a remote provider. Raises MediaUnavailable when that provider cannot make video."""
    from webapp.providers.local_video import LocalVideoProvider
    from webapp.providers.media import VideoProvider

    if name == LOCAL:
        return LocalVideoProvider(scale=scale)
    if not provider_can(name, "animate"):
        raise MediaUnavailable(f"The provider {name!r} cannot make video. Choose local (free) or Runway.")
    key, base_url = key_for()
    adapter = _adapter(name, key, base_url, timeout)
    if not isinstance(adapter, VideoProvider):
        raise MediaUnavailable(f"The provider {name!r} cannot make video. Choose local (free) or Runway.")
    return adapter


def speech_provider(
    name: str | None, key_for: Callable[[], tuple[str | None, str | None]], timeout: float
) -> Any:
    """The adapter that reads a script aloud; there is no offline one (MediaUnavailable says what to do)."""
    from webapp.providers.media import SpeechProvider

    if not name or name == LOCAL or not provider_can(name, "speak"):
        raise MediaUnavailable(VOICE_NEEDS_PREMIUM)
    key, base_url = key_for()
    adapter = _adapter(name, key, base_url, timeout)
    if not isinstance(adapter, SpeechProvider):
        raise MediaUnavailable(VOICE_NEEDS_PREMIUM)
    return adapter


def default_speech_provider() -> str | None:
    """The first enabled provider whose adapter can speak, or None (then voice is refused up front)."""
    from webapp.services.providers import enabled_providers

    return next((p.name for p in enabled_providers() if provider_can(p.name, "speak")), None)


def media_asset(
    owner_id: int,
    data: bytes,
    info: Any,
    thumb: bytes,
    writer: str,
    put: Callable[[str, bytes, str], None],
    *,
    filename: str,
    parent_id: int | None,
    job_id: int | None,
    show_id: int | None,
    provenance: dict[str, Any],
) -> Asset:
    """Store a validated video/audio file and its thumbnail through `put` (the writer's tracked storage,
    attempt-scoped keys) and return the not-yet-committed asset."""
    from webapp.services.assets import storage_key, thumb_key_for

    sha = hashlib.sha256(data).hexdigest()
    key = storage_key(owner_id, sha, info.content_type, writer)
    put(key, data, info.content_type)
    thumb_key = thumb_key_for(key)
    put(thumb_key, thumb, "image/webp")
    return Asset(
        owner_id=owner_id,
        kind=info.kind,
        media_kind=info.kind,
        storage_key=key,
        thumb_key=thumb_key,
        filename=filename,
        content_type=info.content_type,
        bytes=len(data),
        width=info.width or 0,
        height=info.height or 0,
        duration_s=info.duration_s,
        codec=info.codec,
        sha256=sha,
        parent_id=parent_id,
        job_id=job_id,
        show_id=show_id,
        source=AssetSource.ANIMATE.value if provenance.get("provider") == LOCAL else AssetSource.AI.value,
        provenance=provenance,
        dominant_colors=[],
    )
