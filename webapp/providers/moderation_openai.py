"""OpenAI's moderation endpoint through the official ``openai`` SDK (issue 17).

``client.moderations.create(model="omni-moderation-latest", input=[text part, image_url part])`` →
``POST /v1/moderations``. The image goes as a data URI (a JPEG no larger than 512 px: moderation does
not need more, and the request stays small). SDK retries are off, like the image adapter: the caller
decides what a failure means (the image is held as "check failed, retry"), never a silent pass.

An answer that does not have the documented shape (no ``results``, ``flagged`` not a boolean,
categories that are not booleans) is a ``MalformedAnswer``: it is treated like any other failure.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

from .base import ProviderError, ProviderUnavailable

MODEL = "omni-moderation-latest"
IMAGE_SIDE = 512


class MalformedAnswer(ProviderUnavailable):
    """The service answered, but not with a moderation result we can read."""


@dataclass(frozen=True)
class ModerationResult:
    flagged: bool
    categories: list[str]  # the wire names of the flagged categories ("self-harm/intent")
    scores: dict[str, float] = field(default_factory=dict)  # wire name -> score, every category
    applied: dict[str, list[str]] = field(default_factory=dict)  # wire name -> ["text", "image"]


def data_uri(image_bytes: bytes) -> str:
    """A small JPEG data URI of the image (RGB, longest side ≤ 512 px)."""
    from PIL import Image

    with Image.open(io.BytesIO(image_bytes)) as im:
        im = im.convert("RGB")
        im.thumbnail((IMAGE_SIDE, IMAGE_SIDE))
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _as_dict(value: Any) -> dict:
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True)
    return dict(value) if isinstance(value, dict) else {}


def parse(response: Any) -> ModerationResult:
    """Read the first result; raise MalformedAnswer when it is not the documented shape."""
    results = getattr(response, "results", None)
    if not isinstance(results, list) or not results:
        raise MalformedAnswer("The moderation service sent an answer without results.", detail="no results")
    first = results[0]
    flagged = getattr(first, "flagged", None)
    categories = _as_dict(getattr(first, "categories", None))
    scores = _as_dict(getattr(first, "category_scores", None))
    applied = _as_dict(getattr(first, "category_applied_input_types", None))
    if not isinstance(flagged, bool) or not categories:
        raise MalformedAnswer(
            "The moderation service sent an answer that could not be read.", detail="flagged/categories"
        )
    if not all(isinstance(v, bool) for v in categories.values()):
        raise MalformedAnswer(
            "The moderation service sent categories that are not yes/no.", detail="categories"
        )
    try:
        clean_scores = {str(k): float(v) for k, v in scores.items()}
    except (TypeError, ValueError):
        raise MalformedAnswer(
            "The moderation service sent scores that are not numbers.", detail="scores"
        ) from None
    names = sorted(k for k, v in categories.items() if v)
    if flagged and not names:
        names = ["unspecified"]
    return ModerationResult(
        flagged=flagged,
        categories=names,
        scores=clean_scores,
        applied={str(k): [str(x) for x in (v or [])] for k, v in applied.items() if isinstance(v, list)},
    )


def moderate(
    api_key: str, text: str, image_bytes: bytes | None, *, base_url: str | None = None, timeout: float = 30.0
) -> ModerationResult:
    """One moderation call over the text and (when given) the image. Raises ProviderError."""
    import openai

    from .openai_provider import _ErrorTranslator

    client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
    parts: list[dict[str, Any]] = [{"type": "text", "text": text or "(no text)"}]
    if image_bytes:
        parts.append({"type": "image_url", "image_url": {"url": data_uri(image_bytes)}})
    try:
        with _ErrorTranslator(api_key, timeout, MODEL):
            response = client.moderations.create(model=MODEL, input=parts)
    except ProviderError:
        raise
    except ValueError as exc:  # a body that is not JSON at all
        raise MalformedAnswer(
            "The moderation service sent an answer that could not be read.", detail=type(exc).__name__
        ) from None
    return parse(response)
