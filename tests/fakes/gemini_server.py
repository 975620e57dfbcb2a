"""A fake Gemini API (Google AI, API-key mode) speaking the real wire format (verified with google-genai 3.4).

    with FakeGemini(valid_key="AIza-test") as fake:
        client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=fake.url))
        fake.enqueue("safety", reason="IMAGE_SAFETY")

Endpoints: ``POST /{version}/models/{model}:generateContent`` and ``GET /{version}/models`` (the SDK's
``models.list``; ``pageSize`` query). Auth: ``x-goog-api-key`` header (or ``?key=``). The SDK sends
``inlineData.mime_type`` in snake_case; both spellings are accepted.

A wrong key gets what Google really sends: 400 INVALID_ARGUMENT with reason API_KEY_INVALID. Set
``bad_key_status = 401`` for a 401 UNAUTHENTICATED instead.

Like the real service it refuses a model it does not have (404 NOT_FOUND; pass ``models=`` to narrow the
image models), image output from a text-only model and an aspect ratio outside the supported list (400
INVALID_ARGUMENT). ``rate_limited`` carries a RetryInfo in the body; ``rate_limited_bare`` carries none.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from ._base import FakeServer, RecordedRequest, Reply, Response, png

# Pixel sizes Gemini image models return at the default 1K resolution.
ASPECT_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}

IMAGE_MODELS = ("gemini-2.5-flash-image", "gemini-3.1-flash-image", "gemini-3-pro-image")
TEXT_MODELS = ("gemini-2.5-flash",)  # listed and callable, but without image output

_GENERATE = re.compile(r"^/(?P<version>v1[a-z0-9]*)/models/(?P<model>[^:]+):generateContent$")
_MODELS = re.compile(r"^/(?P<version>v1[a-z0-9]*)/models$")

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_body(code: int, message: str, details: list[dict] | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN")}
    if details:
        error["details"] = details
    return {"error": error}


def not_found(model: str, version: str) -> Response:
    """Google's answer for a model it does not have (or that cannot generateContent)."""
    message = (
        f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods."
    )
    return Response(404, error_body(404, message))


def _usage(image_tokens: int = 1290) -> dict:
    return {
        "promptTokenCount": 12,
        "candidatesTokenCount": image_tokens,
        "totalTokenCount": 12 + image_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": image_tokens}],
    }


class FakeGemini(FakeServer):
    """``url`` is the bare root: the SDK appends ``/{api_version}/...`` itself."""

    bad_key_status = 400

    def __init__(self, valid_key: str | None = "test-key", models: tuple[str, ...] = IMAGE_MODELS) -> None:
        super().__init__(valid_key)
        self.models = models
        self._image_counter = 0

    def validate(self, req: RecordedRequest) -> Response | None:
        generate = _GENERATE.match(req.path)
        if req.method != "POST" or not generate:
            return None
        model, version = generate.group("model"), generate.group("version")
        if model not in self.models and model not in TEXT_MODELS:
            return not_found(model, version)
        config = (req.json or {}).get("generationConfig") or {}
        if model in TEXT_MODELS and "IMAGE" in (config.get("responseModalities") or []):
            message = "Model does not support the requested response modalities: image"
            return Response(400, error_body(400, message))
        aspect = (config.get("imageConfig") or {}).get("aspectRatio")
        if aspect is not None and aspect not in ASPECT_SIZES:
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {
                            "field": "generation_config.image_config.aspect_ratio",
                            "description": f"Unsupported aspect ratio: {aspect}",
                        }
                    ],
                }
            ]
            return Response(400, error_body(400, "Request contains an invalid argument.", details))
        return None

    def key_ok(self, req: RecordedRequest) -> bool:
        if self.valid_key is None:
            return True
        sent = req.headers.get("x-goog-api-key") or (req.query.get("key") or [""])[0]
        return sent == self.valid_key

    def bad_key_response(self, req: RecordedRequest) -> Response:
        if self.bad_key_status == 401:
            message = (
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential."
            )
            return Response(401, error_body(401, message))
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": "API key not valid. Please pass a valid API key.",
            },
        ]
        return Response(400, error_body(400, "API key not valid. Please pass a valid API key.", details))

    def dispatch(self, req: RecordedRequest, reply: Reply) -> Response:
        generate = _GENERATE.match(req.path)
        models = _MODELS.match(req.path)
        if reply.kind not in ("success", "slow", "safety"):
            return self._error(reply, generate.group("model") if generate else "")
        if req.method == "GET" and models:
            return Response(200, self.models_body())
        if req.method == "POST" and generate:
            if reply.kind == "safety":
                return Response(200, self.blocked_body(reply.reason or "IMAGE_SAFETY"))
            if json_mode(req.json or {}):
                return json_reply(self, req.json or {}, generate.group("model"))
            return Response(200, self._generate(req.json or {}, generate.group("model")))
        return Response(404, error_body(404, f"Method not found: {req.method} {req.path}"))

    def models_body(self) -> dict:
        names = (*self.models, *TEXT_MODELS)
        return {
            "models": [
                {
                    "name": f"models/{n}",
                    "version": "001",
                    "displayName": n,
                    "inputTokenLimit": 32768,
                    "outputTokenLimit": 32768,
                    "supportedGenerationMethods": ["generateContent", "countTokens"],
                }
                for n in names
            ],
            "nextPageToken": "next-page",
        }

    def blocked_body(self, reason: str) -> dict:
        """No image. ``reason`` is a finish reason, or PROMPT_BLOCKED / TEXT_ONLY for the other shapes."""
        if reason == "PROMPT_BLOCKED":
            return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": _usage(0)}
        if reason == "TEXT_ONLY":
            parts = [{"text": "I can't create that image, but I can help with something similar."}]
            candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            return {
                "candidates": [candidate],
                "usageMetadata": _usage(0),
                "modelVersion": "gemini-2.5-flash-image",
            }
        candidate = {"finishReason": reason, "index": 0}
        return {
            "candidates": [candidate],
            "usageMetadata": _usage(0),
            "modelVersion": "gemini-2.5-flash-image",
        }

    def _generate(self, body: dict, model: str) -> dict:
        config = body.get("generationConfig") or {}
        aspect = (config.get("imageConfig") or {}).get("aspectRatio") or "1:1"
        width, height = ASPECT_SIZES[aspect]
        with self._lock:
            index = self._image_counter
            self._image_counter += 1
        parts: list[dict] = []
        if "TEXT" in (config.get("responseModalities") or []):
            parts.append({"text": "Here is your image."})
        data = base64.b64encode(png(width, height, index)).decode()
        parts.append({"inlineData": {"mimeType": "image/png", "data": data}})
        return {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": _usage(),
            "modelVersion": model,
            "responseId": f"fake-{index}",
        }

    def _error(self, reply: Reply, model: str) -> Response:
        kind = reply.kind
        if kind == "unauthorized":
            return Response(401, error_body(401, "Request had invalid authentication credentials."))
        if kind == "forbidden":
            message = (
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API."
            )
            return Response(403, error_body(403, message))
        if kind == "rate_limited_bare":
            message = "Resource has been exhausted (e.g. check quota)."
            return Response(429, error_body(429, message))
        if kind == "rate_limited":
            delay = reply.retry_after if reply.retry_after is not None else 7
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay:g}s"},
            ]
            message = "You exceeded your current quota, please check your plan and billing details."
            # Google sends RetryInfo in the body, not a Retry-After header; add one with headers={...}.
            return Response(429, error_body(429, message, details))
        if kind == "server_error":
            message = (
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting"
            )
            return Response(500, error_body(500, message))
        if kind == "unavailable":
            return Response(503, error_body(503, "The model is overloaded. Please try again later."))
        if kind == "not_found":
            return not_found(model, "v1")
        return Response(400, error_body(400, "Request contains an invalid argument."))


def b64decode_any(data: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (the genai SDK sends URL-safe)."""
    data = data.replace("-", "+").replace("_", "/")
    return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)


def inline_parts(body: dict) -> list[dict]:
    """The ``inlineData`` of a recorded generateContent body: ``mimeType`` (either spelling on the wire),
    ``data`` (as sent) and ``bytes`` (decoded)."""
    found = []
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                mime = inline.get("mimeType") or inline.get("mime_type")
                data = inline.get("data") or ""
                found.append({"mimeType": mime, "data": data, "bytes": b64decode_any(data)})
    return found


# -- JSON-mode generateContent (describing images, issue 17) ---------------------------------------
# ``fake.vision_answer`` switches the answer like the OpenAI fake's (``openai_server.VISION_ANSWERS``);
# timeouts and 429s use ``enqueue("slow", delay=...)`` and ``enqueue("rate_limited")``.


def json_mode(body: dict) -> bool:
    config = body.get("generationConfig") or {}
    return config.get("responseMimeType") == "application/json"


def json_reply(fake: FakeServer, body: dict, model: str) -> Response:
    """A text candidate holding the JSON answer, as Gemini sends for response_mime_type application/json."""
    from .openai_server import vision_text

    config = body.get("generationConfig") or {}
    if not (config.get("responseSchema") or config.get("responseJsonSchema")):
        return Response(400, error_body(400, "A response schema is expected with JSON output here."))
    parts = [p for c in body.get("contents") or [] for p in c.get("parts") or []]
    if not any("inlineData" in p or "inline_data" in p for p in parts):
        return Response(400, error_body(400, "Expected the image as an inline part."))
    text = vision_text(getattr(fake, "vision_answer", "good"))
    return Response(
        200,
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 60, "totalTokenCount": 360},
            "modelVersion": model,
            "responseId": "fake-json",
        },
    )
