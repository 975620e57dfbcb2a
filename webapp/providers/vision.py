"""Describing an image with a vision model: OpenAI's Responses API or Gemini, structured JSON out.

One call per image: the image (a downscaled JPEG sent as a data URI, ``detail: low``) and a short
text saying what is known about it (prompt, show). The answer is the model's raw JSON text; the
caller (`services.describe_ai`) parses and validates it, so malformed output never reaches a row.
SDK errors become our `ProviderError`s through each adapter's own error translator (timeouts,
429 with Retry-After, bad keys), with the key scrubbed.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from webapp.providers.base import BadRequest

#: Small vision models the SDKs list (PROVIDERS.md). Models the SDK marks as shutting down
#: (gpt-5-mini, gpt-4.1-mini) are left out on purpose.
VISION_MODELS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-5.4-nano", "gpt-5.4-mini", "gpt-5-nano", "gpt-4.1-nano"),
    "gemini": ("gemini-2.5-flash",),
}
DEFAULT_VISION_MODEL = {"openai": "gpt-5.4-nano", "gemini": "gemini-2.5-flash"}

#: The JSON schema every answer must follow (strict: all fields required, nothing else).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "alt_text": {"type": "string", "description": "What the image shows, for a screen reader."},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["alt_text", "title", "description", "tags"],
    "additionalProperties": False,
}


STRICT = {"schema": SCHEMA, "strict": True}


def can_describe(provider_name: str) -> bool:
    return provider_name in VISION_MODELS


def data_uri(image: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def describe(provider: Any, model: str, image: bytes, mime: str, text: str) -> str:
    """The model's answer text (JSON, unchecked) for one image. `provider` is a created adapter
    (`providers.create_provider`): its SDK client, timeout and error translator are reused."""
    name = provider.spec.name
    if name == "openai":
        return _openai(provider, model, image, mime, text)
    if name == "gemini":
        return _gemini(provider, model, image, mime, text)
    raise BadRequest(f"{provider.spec.display_name} cannot describe images; choose OpenAI or Gemini.")


def _openai(provider: Any, model: str, image: bytes, mime: str, text: str) -> str:
    content = [
        {"type": "input_text", "text": text},
        {"type": "input_image", "image_url": data_uri(image, mime), "detail": "low"},
    ]
    with provider._translate_errors(model):
        response = provider._client.responses.create(
            model=model,
            input=[{"role": "user", "content": content}],
            text={
                "format": {
                    "type": "json_schema",
                    "name": "image_description",
                    "schema": SCHEMA,
                    "strict": True,
                }
            },
        )
    return response.output_text or ""


@lru_cache(maxsize=1)
def _gemini_model() -> type:
    from pydantic import BaseModel

    class ImageDescription(BaseModel):
        alt_text: str
        title: str
        description: str
        tags: list[str]

    return ImageDescription


def _gemini(provider: Any, model: str, image: bytes, mime: str, text: str) -> str:
    from webapp.providers.gemini_provider import _ErrorTranslator

    types = provider._types
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=_gemini_model()
    )
    contents = [text, types.Part.from_bytes(data=image, mime_type=mime)]
    with _ErrorTranslator(provider._api_key, provider.timeout, model):
        response = provider._client.models.generate_content(model=model, contents=contents, config=config)
    return response.text or ""
