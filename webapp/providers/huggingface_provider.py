"""Hugging Face Inference (budget tier): Stable Diffusion / FLUX text-to-image via ``huggingface_hub``.

The model is whatever Hub id the admin chooses (``owner/name``); ``routing`` picks who serves it
(``hf-inference``, ``auto``, ``fal-ai``, ``together``, …; set from the provider row's options). A base URL
(tests, a private endpoint) is used as ``{base_url}/models/{model id}``: the SDK posts to a URL model
unchanged. The SDK does not retry; neither do we here (the job layer owns retries).

Facts (PROVIDERS.md): a 503 "model is loading" carries ``estimated_time`` in its JSON body — reported as
``RateLimited(retry_after=estimated_time)``, retryable; a 200 with a JSON body (not an image) raises
``PIL.UnidentifiedImageError`` in the SDK — reported as a clear error, possibly billed.
"""

from __future__ import annotations

import io
import json
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
    key_suffix,
    parse_retry_after,
    redact,
    register,
)

# Pixel sizes near our formats in multiples of 64 (SDXL's training buckets; FLUX accepts them too).
SIZES = {"poster": "832x1216", "square": "1024x1024", "banner": "1344x768"}
ROUTINGS = ("hf-inference", "auto", "fal-ai", "together", "replicate", "nscale", "wavespeed", "zai-org")
DEFAULT_ROUTING = "hf-inference"
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}/[\w.\-]{1,96}$")


@register
class HuggingFaceProvider(ImageProvider):
    """``InferenceClient.text_to_image``; one image per call."""

    spec: ClassVar[ProviderSpec] = ProviderSpec(
        name="huggingface",
        display_name="Hugging Face",
        models=("stabilityai/stable-diffusion-xl-base-1.0", "black-forest-labs/FLUX.1-schnell"),
        default_model="stabilityai/stable-diffusion-xl-base-1.0",
        needs_key=True,
        can_edit=False,
        max_images_per_call=1,
        prompt_limit=2000,
    )
    sdk_module: ClassVar[str | None] = "huggingface_hub"

    def __init__(
        self, api_key: str | None = None, *, base_url: str | None = None, timeout: float = 60.0
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout=timeout)
        self.routing = DEFAULT_ROUTING

    def configure(self, options: dict[str, Any] | None) -> None:
        """Provider-row options: ``routing``."""
        routing = (options or {}).get("routing")
        if routing in ROUTINGS:
            self.routing = routing

    @classmethod
    def accepts_model(cls, model: str) -> bool:
        """Any Hub model id the admin chose (the service says whether it does text-to-image)."""
        return bool(_MODEL_ID.fullmatch(model or ""))

    def model_for(self, request: ImageRequest) -> str:
        model = request.model or self.spec.default_model
        if not self.accepts_model(model):
            raise BadRequest(f"{model!r} is not a Hugging Face model id (owner/name).")
        return model

    def size_for(self, image_type: str) -> str:
        self.check_image_type(image_type)
        return SIZES[image_type]

    def validate_key(self) -> None:
        """``GET /api/whoami-v2``: free, authenticated, 401 for a bad token."""
        from huggingface_hub import HfApi

        endpoint = self.base_url.rstrip("/") if self.base_url else None
        with _ErrorTranslator(self._api_key, self.timeout):
            HfApi(endpoint=endpoint, token=self._api_key).whoami(token=self._api_key)

    def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        from huggingface_hub import InferenceClient

        model = self.model_for(request)
        prompt = build_prompt(request)
        self.check_prompt(prompt)
        width, height = (int(v) for v in self.size_for(request.image_type).split("x"))
        if self.base_url:
            client = InferenceClient(token=self._api_key, timeout=self.timeout)
            target = f"{self.base_url.rstrip('/')}/models/{model}"
        else:
            client = InferenceClient(provider=self.routing, token=self._api_key, timeout=self.timeout)
            target = model
        images: list[GeneratedImage] = []
        for i in range(request.n):
            try:
                with _ErrorTranslator(self._api_key, self.timeout, model):
                    picture = client.text_to_image(
                        prompt,
                        model=target,
                        width=width,
                        height=height,
                        seed=None if request.seed is None else request.seed + i,
                    )
            except ProviderError as exc:
                if images:
                    exc.partial_images, exc.may_have_billed = images, True
                raise
            buf = io.BytesIO()
            picture.save(buf, "PNG")
            images.append(
                GeneratedImage(
                    data=buf.getvalue(),
                    mime_type="image/png",
                    width=picture.width,
                    height=picture.height,
                    usage={"model": model, "routing": "url" if self.base_url else self.routing},
                )
            )
        return images

    def edit(self, request: ImageRequest, source_images: list[bytes]) -> list[GeneratedImage]:
        raise BadRequest("Hugging Face text-to-image cannot edit images; choose OpenAI or Gemini to edit.")


class _ErrorTranslator(SdkErrorTranslator):
    """``huggingface_hub`` / ``httpx2`` / PIL exceptions -> ours, token scrubbed, chain cut."""

    def translate(self, exc: Exception) -> ProviderError | None:
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError
        from PIL import UnidentifiedImageError

        if isinstance(exc, InferenceTimeoutError):
            return ProviderUnavailable(
                f"Hugging Face did not answer within {self.timeout:g} seconds. Try again in a few minutes.",
                may_have_billed=True,
                detail="timeout",
            )
        if isinstance(exc, UnidentifiedImageError):
            return ProviderUnavailable(
                "Hugging Face answered without an image (the model sent text instead). Check that the "
                "admin's model does text-to-image, or try another routing.",
                may_have_billed=True,
                retryable=False,
                detail="200 with a non-image body",
            )
        if isinstance(exc, HfHubHTTPError):
            return self._http(exc)
        import httpx2

        if isinstance(exc, httpx2.TransportError):
            return ProviderUnavailable(
                "Could not reach Hugging Face. Check the server's internet connection and try again.",
                detail=redact(f"{type(exc).__name__}: {exc}", self.key),
            )
        if isinstance(exc, ValueError) and "provider" in str(exc).lower():
            return BadRequest(f"Hugging Face cannot route this model: {redact(str(exc), self.key)}")
        return None

    def _http(self, exc: Any) -> ProviderError:
        response = exc.response
        status = response.status_code
        body = _json(response)
        message = redact(str(body.get("error") or exc.server_message or "")[:300], self.key)
        detail = f"HTTP {status}: {message}"
        if status in (401, 403):
            return InvalidKey(
                f"Hugging Face refused the token ending {key_suffix(self.key or '')}. Check it in Settings: "
                "it may be mistyped, revoked or lack the Inference permission.",
                detail=detail,
            )
        if status == 503 and "estimated_time" in body:
            try:
                wait = max(1.0, float(body["estimated_time"]))
            except (TypeError, ValueError):
                wait = 20.0
            return RateLimited(
                f"Hugging Face is loading the model; try again in about {wait:.0f} seconds.",
                retry_after=wait,
                retryable=True,
                detail=detail,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers)
            return RateLimited(
                "Hugging Face is limiting this token. Try again in a minute.",
                retry_after=retry_after,
                detail=detail,
            )
        if status == 402:
            return RateLimited(
                "The Hugging Face account has used its inference credits. Add credit at huggingface.co.",
                retryable=False,
                detail=detail,
            )
        if status >= 500:
            return ProviderUnavailable(
                f"Hugging Face is having problems (HTTP {status}). Try again in a few minutes.", detail=detail
            )
        if "nsfw" in message.lower() or "safety" in message.lower():
            return ContentBlocked(
                "Hugging Face's safety checker refused this prompt. Reword it.", detail=detail
            )
        if status == 404:
            return BadRequest(
                f"Hugging Face does not serve the model {self.model!r} this way ({message}). Ask an admin to "
                "choose another model or routing.",
                detail=detail,
            )
        return BadRequest(f"Hugging Face rejected the request: {message or 'no reason given'}", detail=detail)


def _json(response: Any) -> dict:
    try:
        value = json.loads(response.content or b"{}")
    except (ValueError, TypeError, AttributeError):
        return {}
    return value if isinstance(value, dict) else {}
