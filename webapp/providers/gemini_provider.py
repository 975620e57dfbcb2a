"""Google Gemini native image output ("Nano Banana") through the official ``google-genai`` SDK.

Imagen's ``generate_images`` does not work with an API key in current SDKs, so images come from
``models.generate_content`` with ``response_modalities=["IMAGE"]``. One call gives one image: ``n`` images
are ``n`` calls (each with its own seed when a seed is given, so they differ).

The SDK does not retry unless asked (we do not ask: the job layer owns retries). The client is kept on the
instance for as long as the adapter lives: a client built inline and dropped can be garbage-collected mid-call
("Cannot send a request, as the client has been closed").
"""

from __future__ import annotations

import re
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

# Aspect ratios the API accepts: 1:1, 2:3, 3:2, 3:4, 4:3, 9:16, 16:9, 21:9 (2:1 is not one). A banner is
# 16:9, the closest standard wide format; OpenAI's banner is 3:2 because that is its widest size.
ASPECT_RATIOS = {"poster": "2:3", "square": "1:1", "banner": "16:9"}

# Finish reasons that mean "the model chose not to draw this", not a malfunction.
BLOCK_REASONS = {
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "IMAGE_OTHER",
    "NO_IMAGE",
}


@register
class GeminiProvider(ImageProvider):
    """``generate_content`` with image output; edits send the source images inline with the instruction."""

    spec: ClassVar[ProviderSpec] = ProviderSpec(
        name="gemini",
        display_name="Google Gemini",
        models=("gemini-2.5-flash-image", "gemini-3.1-flash-image", "gemini-3-pro-image"),
        default_model="gemini-2.5-flash-image",
        needs_key=True,
        can_edit=True,
        max_images_per_call=1,
        prompt_limit=8000,
    )
    sdk_module: ClassVar[str | None] = "google.genai"

    def __init__(
        self, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout)
        from google import genai
        from google.genai import types

        self._types = types
        # HttpOptions.timeout is in milliseconds.
        options = types.HttpOptions(base_url=base_url, timeout=max(1, round(self.timeout * 1000)))
        self._client = genai.Client(api_key=self._api_key, http_options=options)

    def size_for(self, image_type: str) -> str:
        """The aspect ratio requested (Gemini picks the pixels, about 1 megapixel)."""
        self.check_image_type(image_type)
        return ASPECT_RATIOS[image_type]

    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """``request.n`` calls, one image each."""
        prompt = build_prompt(request)
        return self._run(request, lambda: prompt, prompt)

    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        """Instruction first, then the source images as inline parts, ``request.n`` times."""
        if not source_images:
            raise BadRequest("Choose at least one source image to edit.")
        types = self._types
        instruction = build_prompt(request)
        parts = [types.Part.from_bytes(data=data, mime_type=sniff_mime(data)) for data in source_images]
        return self._run(request, lambda: [instruction, *parts], instruction)

    def validate_key(self) -> None:
        """List one small page of models: free, authenticated, 400/401/403 for a bad key."""
        with _ErrorTranslator(self._api_key, self.timeout):
            pager = self._client.models.list(config={"page_size": 5})
            _ = pager.page

    # ----------------------------------------------------------------------------------------------------

    def _run(self, request: ImageRequest, contents: Any, prompt: str) -> list[GeneratedImage]:
        model = self.model_for(request)
        self.check_prompt(prompt)
        types = self._types
        images: list[GeneratedImage] = []
        for i in range(request.n):
            config = types.GenerateContentConfig(
                response_modalities=["IMAGE"],
                image_config=types.ImageConfig(aspect_ratio=self.size_for(request.image_type)),
                seed=None if request.seed is None else request.seed + i,
            )
            try:
                with _ErrorTranslator(self._api_key, self.timeout, model):
                    response = self._client.models.generate_content(
                        model=model, contents=contents(), config=config
                    )
                images.append(_image_from(response))
            except ProviderError as exc:
                if images:
                    # Earlier calls in this batch were billed; hand their images to the caller with the error.
                    exc.partial_images = images
                    exc.may_have_billed = True
                raise
        return images


def _image_from(response: Any) -> GeneratedImage:
    """The first image part of a response, or ContentBlocked when the model declined to draw."""
    feedback = getattr(response, "prompt_feedback", None)
    blocked_prompt = getattr(feedback, "block_reason", None) if feedback else None
    candidates = response.candidates or []
    finish = _enum_name(candidates[0].finish_reason) if candidates else None
    text: list[str] = []
    for part in response.parts or []:
        inline = part.inline_data
        if inline is not None and inline.data and (inline.mime_type or "").startswith("image/"):
            width, height = image_size(inline.data, "Google Gemini")
            usage = (
                response.usage_metadata.model_dump(mode="json", exclude_none=True)
                if response.usage_metadata
                else {}
            )
            return GeneratedImage(
                data=inline.data, mime_type=inline.mime_type, width=width, height=height, usage=usage
            )
        if part.text:
            text.append(part.text.strip())
    reason = _enum_name(blocked_prompt) or finish
    if blocked_prompt or (finish in BLOCK_REASONS):
        return_message = (
            f"Google Gemini's safety filters declined this request ({reason}). Reword the prompt "
            "(or use another source image) and try again."
        )
    else:
        said = f' It replied: "{" ".join(text)[:200]}"' if text else ""
        return_message = (
            f"Google Gemini answered without an image ({reason or 'no reason given'}).{said} "
            "Reword the prompt and try again."
        )
    raise ContentBlocked(
        return_message, detail=f"finish_reason={finish} block_reason={_enum_name(blocked_prompt)}"
    )


def _enum_name(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "name", value))


class _ErrorTranslator(SdkErrorTranslator):
    """Context manager turning SDK and raw httpx2 exceptions into ours, key scrubbed, chain cut.

    Timeouts and refused connections are not SDK errors here: they surface as raw ``httpx2`` exceptions.
    """

    def translate(self, exc: Exception) -> ProviderError | None:
        import httpx2
        from google.genai import errors

        if isinstance(exc, httpx2.TimeoutException):
            # Only a read timeout comes after Google has the whole request (it may be drawing a billed image).
            sent = isinstance(exc, httpx2.ReadTimeout)
            return ProviderUnavailable(
                f"Google Gemini did not answer within {self.timeout:g} seconds. Try again in a few minutes"
                + ("; the timed-out request may still have been billed." if sent else "."),
                may_have_billed=sent,
                detail="timeout " + type(exc).__name__,
            )
        if isinstance(exc, (httpx2.ConnectError, httpx2.UnsupportedProtocol)):
            return ProviderUnavailable(
                "Could not reach Google Gemini. Check the server's internet connection and try again.",
                detail=redact(f"{type(exc).__name__}: {exc}", self.key),
            )
        if isinstance(exc, httpx2.TransportError):
            return ProviderUnavailable(
                "The connection to Google Gemini broke during the request. Try again.",
                may_have_billed=True,
                detail=redact(f"{type(exc).__name__}: {exc}", self.key),
            )
        if isinstance(exc, errors.ServerError):
            return ProviderUnavailable(
                f"Google Gemini is having problems (HTTP {exc.code}). Try again in a few minutes.",
                detail=self._detail(exc),
            )
        if isinstance(exc, errors.ClientError):
            return self._client_error(exc)
        if isinstance(exc, errors.APIError):
            return ProviderUnavailable(
                "Google Gemini sent a response we could not understand. Try again later.",
                detail=self._detail(exc),
            )
        return None

    def _detail(self, exc: Any) -> str:
        return redact(f"HTTP {exc.code} {exc.status}: {exc.message}", self.key)

    def _client_error(self, exc: Any) -> ProviderError:
        code = exc.code
        message = redact(str(exc.message or ""), self.key)
        detail = self._detail(exc)
        suffix = key_suffix(self.key or "")
        if code in (401, 403) or (code == 400 and _mentions_bad_key(exc)):
            return InvalidKey(
                f"Google refused the Gemini API key ending {suffix}. Check it in Settings: it may be "
                "mistyped, restricted to other APIs, or revoked.",
                detail=detail,
            )
        if code == 429:
            # Without a Retry-After header or a RetryInfo entry retry_after stays None: the job layer then
            # waits its own default before trying again.
            retry_after = parse_retry_after(getattr(exc.response, "headers", None)) or _retry_info(
                exc.details
            )
            wait = f" in {retry_after:.0f} seconds" if retry_after is not None else " in a minute"
            return RateLimited(
                f"Google Gemini is limiting how fast this key can make images (or its quota is used up). "
                f"Try again{wait}.",
                retry_after=retry_after,
                detail=detail,
            )
        if code == 404:
            what = f"the model {self.model!r}" if self.model else "this model or endpoint"
            return BadRequest(
                f"Google Gemini does not offer {what} to this key ({message}). Choose another model, or ask "
                "an administrator to change the provider's model.",
                detail=detail,
            )
        return BadRequest(f"Google Gemini rejected the request: {message}", detail=detail)


def _mentions_bad_key(exc: Any) -> bool:
    text = f"{exc.message} {exc.details}".lower()
    return "api key not valid" in text or "api_key_invalid" in text or "api key expired" in text


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _retry_info(details: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` entry ({"retryDelay": "37s"}) in the error body, if any."""
    error = details.get("error", details) if isinstance(details, dict) else None
    entries = error.get("details") if isinstance(error, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict) and str(entry.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(entry.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None
