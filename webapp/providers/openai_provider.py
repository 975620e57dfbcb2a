"""OpenAI GPT Image models through the official ``openai`` SDK.

The SDK's own retries are switched off (``max_retries=0``): the job layer already retries with its own
backoff and bookkeeping, and stacking the SDK's 2 retries under each of ours would multiply attempts and,
after a read timeout, could pay for the same image more than once without our ledger seeing it.

gpt-image-1 and DALL·E are shut down (see docs PROVIDERS.md) and deliberately not offered.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

from .base import (
    BadRequest,
    ContentBlocked,
    GeneratedImage,
    ImageProvider,
    ImageRequest,
    InvalidKey,
    ProviderError,
    ProviderSpec,
    ProviderUnavailable,
    RateLimited,
    SdkErrorTranslator,
    build_prompt,
    image_size,
    key_suffix,
    parse_retry_after,
    redact,
    register,
    sniff_mime,
)

SIZES = {"poster": "1024x1536", "square": "1024x1024", "banner": "1536x1024"}

# Error codes / phrases OpenAI uses when its safety system refuses a prompt or a source image.
# The error *type* "image_generation_user_error" is also used for other user errors (bad image files), so it
# is not enough on its own.
_MODERATION_CODES = {"moderation_blocked", "content_policy_violation"}
_MODERATION_PHRASES = ("safety system", "content policy")


@register
class OpenAIProvider(ImageProvider):
    """``images.generate`` / ``images.edit`` with PNG output; several images come from one call."""

    spec: ClassVar[ProviderSpec] = ProviderSpec(
        name="openai",
        display_name="OpenAI",
        models=("gpt-image-1.5", "gpt-image-1-mini"),
        default_model="gpt-image-1.5",
        needs_key=True,
        can_edit=True,
        max_images_per_call=4,
        prompt_limit=32000,
    )
    sdk_module: ClassVar[str | None] = "openai"

    def __init__(
        self, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout)
        import openai

        self._client = openai.OpenAI(
            api_key=self._api_key, base_url=base_url, timeout=self.timeout, max_retries=0
        )

    def size_for(self, image_type: str) -> str:
        """gpt-image sizes: portrait for posters, landscape for banners (3:2, the widest it offers)."""
        self.check_image_type(image_type)
        return SIZES[image_type]

    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """One ``images.generate`` call for all ``n`` images."""
        model = self.model_for(request)
        prompt = build_prompt(request)
        self.check_prompt(prompt)
        with self._translate_errors(model):
            response = self._client.images.generate(
                model=model,
                prompt=prompt,
                size=self.size_for(request.image_type),
                quality=request.quality,
                n=request.n,
                output_format="png",
            )
        return self._images(response)

    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        """One ``images.edit`` call; one source is the ``image`` field, several are repeated ``image[]``."""
        if not source_images:
            raise BadRequest("Choose at least one source image to edit.")
        model = self.model_for(request)
        prompt = build_prompt(request)
        self.check_prompt(prompt)
        files = []
        for i, data in enumerate(source_images):
            mime = sniff_mime(data)
            files.append((f"source-{i + 1}.{mime.split('/')[1]}", data, mime))
        with self._translate_errors(model):
            response = self._client.images.edit(
                model=model,
                # One file goes as the classic single ``image`` field (every model accepts it); a list, even
                # of one, would be sent as ``image[]``.
                image=files[0] if len(files) == 1 else files,
                prompt=prompt,
                size=self.size_for(request.image_type),
                quality=request.quality,
                n=request.n,
                output_format="png",
            )
        return self._images(response)

    def validate_key(self) -> None:
        """``GET /models``: free, authenticated, and fails with 401 for a bad key."""
        with self._translate_errors():
            self._client.models.list()

    # ----------------------------------------------------------------------------------------------------

    def _images(self, response: Any) -> list[GeneratedImage]:
        usage = response.usage.model_dump(mode="json", exclude_none=True) if response.usage else {}
        images = []
        for i, item in enumerate(response.data or []):
            if not item.b64_json:
                continue
            try:
                data = base64.b64decode(item.b64_json, validate=True)
            except (binascii.Error, ValueError):
                raise ProviderUnavailable(
                    "OpenAI returned an image that could not be read. Try again.", may_have_billed=True
                ) from None
            width, height = image_size(data, "OpenAI")
            images.append(
                GeneratedImage(
                    data=data,
                    mime_type="image/png",
                    width=width,
                    height=height,
                    revised_prompt=item.revised_prompt,
                    usage=usage if i == 0 else {},
                )
            )
        if not images:
            raise ContentBlocked(
                "OpenAI returned no image for this request. Reword the prompt and try again.",
                may_have_billed=True,
            )
        return images

    def _translate_errors(self, model: str | None = None) -> _ErrorTranslator:
        return _ErrorTranslator(self._api_key, self.timeout, model)


class _ErrorTranslator(SdkErrorTranslator):
    """``openai`` exceptions -> ours, with the key scrubbed (the protocol is in SdkErrorTranslator)."""

    def translate(self, exc: Exception) -> ProviderError | None:
        import httpx2
        import openai

        if not isinstance(exc, openai.OpenAIError):
            return None
        if isinstance(exc, openai.APITimeoutError):
            # A connect timeout never reached OpenAI; a read timeout may have produced a billed image.
            sent = not isinstance(exc.__cause__, httpx2.ConnectTimeout)
            return ProviderUnavailable(
                f"OpenAI did not answer within {self.timeout:g} seconds. Try again in a few minutes"
                + ("; the timed-out request may still have been billed." if sent else "."),
                may_have_billed=sent,
                detail="timeout " + type(exc.__cause__).__name__,
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__
            sent = not isinstance(
                cause, (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.UnsupportedProtocol)
            )
            return ProviderUnavailable(
                "Could not reach OpenAI. Check the server's internet connection and try again."
                if not sent
                else "The connection to OpenAI broke during the request. Try again.",
                may_have_billed=sent,
                detail=redact(f"{type(cause).__name__}: {cause}", self.key),
            )
        if not isinstance(exc, openai.APIStatusError):
            return ProviderUnavailable(
                "OpenAI sent a response we could not understand. Try again later.",
                detail=redact(f"{type(exc).__name__}: {exc}", self.key),
            )

        status = exc.status_code
        code = exc.code or ""
        server_message = redact(_error_message(exc), self.key)
        detail = f"HTTP {status}{' ' + code if code else ''}: {server_message}"
        suffix = key_suffix(self.key or "")
        if isinstance(exc, openai.AuthenticationError):
            return InvalidKey(
                f"OpenAI refused the API key ending {suffix}. Check it in Settings: it may be mistyped "
                "or revoked.",
                detail=detail,
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return InvalidKey(
                f"The OpenAI key ending {suffix} is not allowed to do this ({server_message}). Check the "
                "key's project permissions or organisation verification at platform.openai.com.",
                detail=detail,
            )
        if isinstance(exc, openai.RateLimitError):
            if code == "insufficient_quota" or "quota" in server_message.lower():
                return RateLimited(
                    "The OpenAI account behind this key has run out of credit. Add credit at "
                    "platform.openai.com, then try again.",
                    retryable=False,
                    detail=detail,
                )
            # Often there is no Retry-After (only x-ratelimit-* headers): retry_after stays None and the job
            # layer waits its own default before trying again.
            retry_after = parse_retry_after(exc.response.headers)
            wait = f" in {retry_after:.0f} seconds" if retry_after is not None else " in a minute"
            return RateLimited(
                f"OpenAI is limiting how fast this key can make images. Try again{wait}.",
                retry_after=retry_after,
                detail=detail,
            )
        if status >= 500:
            return ProviderUnavailable(
                f"OpenAI is having problems (HTTP {status}). Try again in a few minutes.", detail=detail
            )
        if _is_moderation(code, server_message):
            return ContentBlocked(
                "OpenAI's safety system rejected this request. Reword the prompt (or use another source "
                "image) and try again.",
                detail=detail,
            )
        if getattr(exc, "param", None) == "model" or code == "model_not_found":
            what = f"the model {self.model!r}" if self.model else "this model"
            return BadRequest(
                f"OpenAI does not offer {what} to this key ({server_message}). Choose another model, or ask "
                "an administrator to change the provider's model.",
                detail=detail,
            )
        if isinstance(exc, openai.NotFoundError):
            return BadRequest(f"OpenAI does not offer this ({server_message}).", detail=detail)
        return BadRequest(f"OpenAI rejected the request: {server_message}", detail=detail)


def _error_message(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", "") or exc)


def _is_moderation(code: str, message: str) -> bool:
    lowered = message.lower()
    return code in _MODERATION_CODES or any(phrase in lowered for phrase in _MODERATION_PHRASES)
