"""The contract every image provider adapter meets, and the typed errors it raises.

The rest of the app (jobs, pricing, views) codes against this module only: an adapter takes a key and an
``ImageRequest``, returns ``GeneratedImage`` objects or raises one of the ``ProviderError`` subclasses below.
SDK exceptions never cross this boundary, because each SDK has its own hierarchy and their messages can
carry (parts of) the API key; ours carry a message a producer can act on and two flags the job layer needs:
``retryable`` (is trying again later sensible?) and ``may_have_billed`` (could the provider have charged for
an image we never received? the ledger must then record a possible charge rather than nothing).

Nothing here knows about Flask or the database.
"""

from __future__ import annotations

import email.utils
import io
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from PIL import Image

IMAGE_TYPES = ("poster", "square", "banner")
QUALITIES = ("low", "medium", "high")
MAX_IMAGES = 4

# Styles the UI offers. Adapters for real models turn them into a phrase appended to the prompt; the local
# provider turns them into a drawing recipe. Unknown styles are passed through as free text.
STYLE_HINTS: dict[str, str] = {
    "realistic": "photorealistic, natural lighting, shallow depth of field",
    "artistic": "painterly illustration, expressive brush strokes, rich texture",
    "modern": "clean modern graphic design, geometric shapes, bold contrast",
    "vintage": "vintage print look, muted colours, film grain, retro typography-free layout",
    "minimalist": "minimalist composition, lots of negative space, few elements",
    "bold": "bold saturated colours, dramatic lighting, high energy",
    "neon": "neon glow, dark background, vivid electric colours",
    "cinematic": "cinematic lighting, atmospheric haze, dramatic composition",
}


# --------------------------------------------------------------------------------------------------------
# Errors


class ProviderError(Exception):
    """Base of every failure an adapter reports; ``str(exc)`` is ``message``.

    ``message`` says what happened and what to do, in words a producer understands. ``detail`` is an
    optional technical note for logs (status code, provider error code), already scrubbed of the key.
    ``retryable`` tells the job layer whether a later attempt could succeed. ``may_have_billed`` is True only
    when the request may have reached the provider and produced a billable image (a read timeout after
    sending, an earlier successful call in a multi-call batch), so the ledger can flag a possible charge.
    """

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        may_have_billed: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else retryable
        self.may_have_billed = may_have_billed
        self.detail = detail
        # Images that arrived before the failure (multi-call providers such as Gemini); a job may keep them.
        self.partial_images: list[GeneratedImage] = []

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, retryable={self.retryable}, "
            f"may_have_billed={self.may_have_billed})"
        )


class InvalidKey(ProviderError):
    """The key is missing, wrong, revoked or lacks permission: only a person can fix it."""


class RateLimited(ProviderError):
    """The provider asked us to slow down; ``retry_after`` is its hint in seconds, when it gave one."""

    default_retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        retryable: bool | None = None,
        may_have_billed: bool = False,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable, may_have_billed=may_have_billed, detail=detail)
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, retry_after={self.retry_after})"


class ContentBlocked(ProviderError):
    """The provider's safety system refused the prompt or the result; rewording is the fix, not retrying."""


class ProviderUnavailable(ProviderError):
    """Server errors, timeouts, refused connections, a missing SDK: not the producer's fault."""

    default_retryable = True


class BadRequest(ProviderError):
    """The request itself is wrong (unknown model, prompt too long, unsupported image): fix and resend."""


# --------------------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class ImageRequest:
    """What the producer asked for, independent of any provider.

    Validated on construction so that every adapter can rely on it and a bad value is reported before any
    network call (and so before any charge). ``model`` None means the adapter's default model.
    """

    prompt: str
    image_type: str
    quality: str = "medium"
    n: int = 1
    style: str | None = None
    seed: int | None = None
    palette: list[str] | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if not self.prompt or not self.prompt.strip():
            raise BadRequest("Describe the image you want: the prompt is empty.")
        if self.image_type not in IMAGE_TYPES:
            raise BadRequest(f"Unknown image type {self.image_type!r}; use one of {', '.join(IMAGE_TYPES)}.")
        if self.quality not in QUALITIES:
            raise BadRequest(f"Unknown quality {self.quality!r}; use one of {', '.join(QUALITIES)}.")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_IMAGES:
            raise BadRequest(f"Ask for 1 to {MAX_IMAGES} images at a time.")
        for colour in self.palette or []:
            if not _HEX.fullmatch(colour.strip()):
                raise BadRequest(f"{colour!r} is not a hex colour like #1a2b3c.")


_HEX = re.compile(r"#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True)
class GeneratedImage:
    """One image as the provider delivered it (bytes untouched), with its real pixel size.

    ``usage`` holds the provider's own usage figures (tokens etc.). When one call produced several images
    the call's usage is on the first image only, so summing ``usage`` over a batch never double counts.
    """

    data: bytes = field(repr=False)
    mime_type: str
    width: int
    height: int
    revised_prompt: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSpec:
    """Static facts about a provider that the UI and the price table need without instantiating it."""

    name: str
    display_name: str
    models: tuple[str, ...]
    default_model: str
    needs_key: bool
    can_edit: bool
    max_images_per_call: int
    prompt_limit: int


# --------------------------------------------------------------------------------------------------------
# Helpers shared by the adapters


def key_suffix(key: str) -> str:
    """The only form of a key we ever show or log: "…" and its last four characters."""
    return "…" + key[-4:] if key else "…"


# Shapes of OpenAI ("sk-…") and Google ("AIza…") keys, so a key echoed by a server is scrubbed even when
# it is not the one we sent.
_KEY_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{10,}|hf_[A-Za-z0-9]{10,}|key_[0-9a-f]{32,})"
)


def redact(text: str, key: str | None) -> str:
    """``text`` with our key (and anything shaped like a provider key) replaced by its suffix."""
    if key:
        text = text.replace(key, key_suffix(key))
    return _KEY_SHAPES.sub(lambda m: key_suffix(m.group(0).rstrip("*")), text)


class SdkErrorTranslator(ABC):
    """Context manager every adapter wraps its SDK calls in: an SDK exception leaves as one of ours.

    Subclasses only say how (``translate``); the protocol lives here once. ``from None`` cuts the chain on
    purpose: an SDK exception holds the request (with the Authorization header) and a server message that
    can quote the key, and loggers print the whole chain. Exceptions ``translate`` does not recognise
    (None) and our own ``ProviderError`` pass through unchanged.
    """

    def __init__(self, key: str | None, timeout: float, model: str | None = None) -> None:
        self.key, self.timeout, self.model = key, timeout, model

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, ProviderError) or not isinstance(exc, Exception):
            return False
        translated = self.translate(exc)
        if translated is None:
            return False
        raise translated from None

    @abstractmethod
    def translate(self, exc: Exception) -> ProviderError | None:
        """Ours for an SDK or transport exception, or None to let it pass through."""


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), if present."""
    if headers is None:
        return None
    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
    except (AttributeError, TypeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def sniff_mime(data: bytes) -> str:
    """MIME type from the magic bytes; providers need it for uploads and we should not trust file names."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise BadRequest("The source image is not a PNG, JPEG or WebP file.")


def image_size(data: bytes, provider: str) -> tuple[int, int]:
    """Width and height read from the image header: what we got, not what we asked for."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception as exc:  # Pillow raises several types for garbage; all mean the same here
        raise ProviderUnavailable(
            f"{provider} returned an image that could not be read. Try again.",
            may_have_billed=True,
            detail=f"{type(exc).__name__}: {exc}",
        ) from None


def build_prompt(request: ImageRequest) -> str:
    """The prompt sent to a text-to-image model: the producer's words plus style and palette hints."""
    parts = [request.prompt.strip()]
    if request.style:
        parts.append(f"Style: {STYLE_HINTS.get(request.style.lower(), request.style)}.")
    if request.palette:
        parts.append(f"Colour palette: {', '.join(c.strip() for c in request.palette)}.")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------------------
# The adapter base class and its registry


class ImageProvider(ABC):
    """One image service behind a uniform interface.

    Subclasses set ``spec`` and implement ``generate``, ``edit``, ``validate_key`` and ``size_for``. They
    are cheap to construct (no network); one instance may serve several calls but is not meant to be shared
    between threads.
    """

    spec: ClassVar[ProviderSpec]
    sdk_module: ClassVar[str | None] = None  # importable module that must exist for enabled()

    def __init__(
        self, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        if not self.enabled():
            raise ProviderUnavailable(
                f"{self.spec.display_name} is not available on this server (its Python package "
                f"{self.sdk_module!r} is not installed). Ask an administrator.",
                retryable=False,
            )
        if self.spec.needs_key and not (api_key and api_key.strip()):
            raise InvalidKey(f"No {self.spec.display_name} API key is set. Add one in Settings.")
        self._api_key = api_key.strip() if api_key else None
        self.base_url = base_url
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        key = f"key={key_suffix(self._api_key)!r}, " if self._api_key else ""
        return f"{type(self).__name__}({key}base_url={self.base_url!r}, timeout={self.timeout})"

    @classmethod
    def enabled(cls) -> bool:
        """False when the SDK this adapter needs is not importable, so the UI can hide the provider."""
        if cls.sdk_module is None:
            return True
        import importlib.util

        try:
            return importlib.util.find_spec(cls.sdk_module) is not None
        except ModuleNotFoundError:  # a missing parent package ("google") raises instead of returning None
            return False

    @abstractmethod
    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """``request.n`` new images from the prompt."""

    @abstractmethod
    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        """``request.n`` images derived from ``source_images`` as the prompt instructs."""

    @abstractmethod
    def validate_key(self) -> None:
        """Make the cheapest authenticated call; raise InvalidKey or ProviderUnavailable if it fails."""

    @abstractmethod
    def size_for(self, image_type: str) -> str:
        """The provider-native size or aspect ratio requested for an image type (a price table key)."""

    @classmethod
    def accepts_model(cls, model: str) -> bool:
        """Whether ``model`` is one this provider can be asked for (a fixed list unless overridden)."""
        return model in cls.spec.models

    def configure(self, options: dict[str, Any] | None) -> None:
        """Apply the provider row's extra options (e.g. Hugging Face routing); most adapters have none."""
        return None

    def model_for(self, request: ImageRequest) -> str:
        """The model to use; unknown names are refused here so no call is made (and billed) for them."""
        model = request.model or self.spec.default_model
        if model not in self.spec.models:
            raise BadRequest(
                f"{self.spec.display_name} has no model {model!r}; "
                f"choose one of {', '.join(self.spec.models)}."
            )
        return model

    def check_prompt(self, prompt: str) -> None:
        """Refuse prompts longer than the provider accepts before sending them."""
        if len(prompt) > self.spec.prompt_limit:
            raise BadRequest(
                f"The prompt is {len(prompt)} characters; {self.spec.display_name} accepts at most "
                f"{self.spec.prompt_limit}. Shorten it."
            )

    def check_image_type(self, image_type: str) -> None:
        if image_type not in IMAGE_TYPES:
            raise BadRequest(f"Unknown image type {image_type!r}; use one of {', '.join(IMAGE_TYPES)}.")


P = TypeVar("P", bound=type[ImageProvider])

REGISTRY: dict[str, type[ImageProvider]] = {}


def register(cls: P) -> P:
    """Class decorator: make an adapter available under ``cls.spec.name``."""
    REGISTRY[cls.spec.name] = cls
    return cls


def get_provider_class(name: str) -> type[ImageProvider]:
    """The adapter class for a provider name; ValueError for a name we do not know (a config error)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown image provider {name!r}; known: {', '.join(sorted(REGISTRY))}.") from None


def create_provider(
    name: str, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
) -> ImageProvider:
    """An adapter instance ready to call; raises ProviderUnavailable if its SDK is missing."""
    return get_provider_class(name)(api_key, base_url=base_url, timeout=timeout)
