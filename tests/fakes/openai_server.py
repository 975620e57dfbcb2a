"""A fake OpenAI Images API speaking the real wire format (verified with openai 3.54).

    with FakeOpenAI(valid_key="sk-test-123") as fake:
        client = openai.OpenAI(api_key="sk-test-123", base_url=fake.url, max_retries=0)
        fake.enqueue("rate_limited", retry_after=3)   # next request: 429 + Retry-After: 3
        fake.set_mode("success")                      # everything after that

Endpoints: ``POST /v1/images/generations`` (JSON), ``POST /v1/images/edits`` (multipart; ``image`` or
repeated ``image[]`` file fields), ``GET /v1/models``, ``POST /v1/moderations`` (issue 17: see
``moderations``; ``flag_text`` / ``flag_image`` make given inputs flagged).
Auth: ``Authorization: Bearer KEY``.

Like the real service (docs PROVIDERS.md) it refuses, with a 400 ``invalid_value`` naming the ``param``,
models it does not offer (``gpt-image-1`` and DALL-E are shut down; pass ``models=`` to narrow the list),
sizes, qualities, formats, backgrounds and ``n`` outside what gpt-image models take, and a missing prompt.
``rate_limited`` sends ``Retry-After``; ``rate_limited_bare`` is a 429 without it (what OpenAI often
sends: only ``x-ratelimit-*`` headers).
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable

from ._base import FakeServer, RecordedRequest, Reply, Response, png

IMAGE_MODELS = ("gpt-image-1.5", "gpt-image-1-mini")  # current per PROVIDERS.md
# param -> values the gpt-image models accept, in the order the service lists them in its error message.
ALLOWED = {
    "size": ("1024x1024", "1024x1536", "1536x1024", "auto"),
    "quality": ("low", "medium", "high", "auto"),
    "output_format": ("png", "jpeg", "webp"),
    "background": ("opaque", "transparent", "auto"),
    "input_fidelity": ("high", "low"),
}

# kind -> (status, error type, error code, message template): the bodies the real API sends.
ERRORS = {
    "unauthorized": (
        401, "invalid_request_error", "invalid_api_key",
        "Incorrect API key provided: {masked}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    "forbidden": (
        403, "invalid_request_error", None,
        "Your organization must be verified to use the model `gpt-image-1.5`.",
    ),
    "rate_limited": (
        429, "requests", "rate_limit_exceeded",
        "Rate limit reached for gpt-image-1.5 in organization org-fake on images per minute (IPM): "
        "Limit 5, Used 5, Requested 1. Please try again in {retry_after}s.",
    ),
    "rate_limited_bare": (
        429, "requests", "rate_limit_exceeded",
        "Rate limit reached for gpt-image-1.5 in organization org-fake on images per minute (IPM): "
        "Limit 5, Used 5, Requested 1.",
    ),
    "server_error": (
        500, "server_error", None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    "unavailable": (503, "server_error", None, "The engine is currently overloaded, please try again later."),
    "safety": (
        400, "image_generation_user_error", "moderation_blocked",
        "Your request was rejected as a result of our safety system. "
        "Your request may contain content that is not allowed by our safety system.",
    ),
    "bad_request": (
        400, "invalid_request_error", "invalid_value",
        "Invalid value: 'huge'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
    ),
    "not_found": (
        404, "invalid_request_error", "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
}  # fmt: skip


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _listing(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + ("," if len(quoted) > 2 else "") + " and " + quoted[-1]


def invalid_value(param: str, value: object, supported: tuple[str, ...]) -> Response:
    """The real 400 for a parameter value the service does not take."""
    message = f"Invalid value: '{value}'. Supported values are: {_listing(supported)}."
    return Response(400, error_body(message, "invalid_request_error", "invalid_value", param))


def _masked(key: str) -> str:
    # Like the real service: a prefix, stars, the last four characters.
    return key[:3] + "*" * max(4, len(key) - 7) + key[-4:] if len(key) > 8 else "*" * len(key)


class FakeOpenAI(FakeServer):
    """``url`` ends in ``/v1`` (what ``OpenAI(base_url=...)`` expects)."""

    def __init__(self, valid_key: str | None = "test-key", models: tuple[str, ...] = IMAGE_MODELS) -> None:
        super().__init__(valid_key)
        self.models = models
        # Moderation: text containing one of these (case-insensitive) is flagged for the mapped category;
        # an image for which a predicate (PIL image -> bool) is true is flagged for its category.
        self.flagged_texts: dict[str, str] = {}
        self.flagged_images: list[tuple[Callable, str]] = []

    def flag_text(self, fragment: str, category: str = "violence") -> None:
        self.flagged_texts[fragment.lower()] = category

    def flag_image(self, predicate: Callable, category: str = "violence/graphic") -> None:
        self.flagged_images.append((predicate, category))

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def validate(self, req: RecordedRequest) -> Response | None:
        if req.method == "POST" and req.path == "/v1/moderations":
            return moderation_refusal(req.json or {})
        if req.method != "POST" or req.path not in ("/v1/images/generations", "/v1/images/edits"):
            return None
        if req.path.endswith("/edits"):
            params: dict = {name: values[-1] for name, values in req.form.items()}
        else:
            params = req.json or {}
        if not params.get("prompt"):
            body = error_body(
                "Missing required parameter: 'prompt'.",
                "invalid_request_error",
                "missing_required_parameter",
                "prompt",
            )
            return Response(400, body)
        model = params.get("model") or "dall-e-2"  # the service's default is a retired model
        if model not in self.models:
            return invalid_value("model", model, self.models)
        for param, allowed in ALLOWED.items():
            if param in params and params[param] is not None and params[param] not in allowed:
                return invalid_value(param, params[param], allowed)
        try:
            n = int(params.get("n") or 1)
        except (TypeError, ValueError):
            n = 0
        if not 1 <= n <= 10:
            message = f"Invalid 'n': integer between 1 and 10 expected, got {params.get('n')!r}."
            return Response(400, error_body(message, "invalid_request_error", "integer_out_of_range", "n"))
        return None

    def key_ok(self, req: RecordedRequest) -> bool:
        if self.valid_key is None:
            return True
        return req.headers.get("authorization") == f"Bearer {self.valid_key}"

    def bad_key_response(self, req: RecordedRequest) -> Response:
        sent = req.headers.get("authorization", "").removeprefix("Bearer ")
        return self._error("unauthorized", Reply(kind="unauthorized"), masked=_masked(sent))

    def dispatch(self, req: RecordedRequest, reply: Reply) -> Response:
        if reply.kind not in ("success", "slow"):
            model = (req.json or {}).get("model") or (req.form.get("model") or [""])[0]
            return self._error(reply.kind, reply, model=model)
        if req.method == "GET" and req.path == "/v1/models":
            return Response(200, self.models_body())
        if req.method == "POST" and req.path == "/v1/responses":
            return responses_reply(self, req)
        if req.method == "POST" and req.path == "/v1/moderations":
            return moderations(self, req.json or {})
        if req.method == "POST" and req.path == "/v1/images/generations":
            return self._images(req.json or {})
        if req.method == "POST" and req.path == "/v1/images/edits":
            fields = {name: values[-1] for name, values in req.form.items()}
            if not (req.files.get("image") or req.files.get("image[]")):
                body = error_body(
                    "Missing required parameter: 'image'.",
                    "invalid_request_error",
                    "missing_required_parameter",
                    "image",
                )
                return Response(400, body)
            return self._images(fields)
        return Response(
            404, error_body(f"Invalid URL ({req.method} {req.path})", "invalid_request_error", None)
        )

    def models_body(self) -> dict:
        created = 1_760_000_000
        names = (*self.models, "gpt-4o")
        data = [{"id": n, "object": "model", "created": created, "owned_by": "system"} for n in names]
        return {"object": "list", "data": data}

    def _images(self, params: dict) -> Response:
        size = params.get("size") or "auto"
        if size == "auto":
            size = "1024x1024"
        width, height = (int(v) for v in size.split("x"))
        n = int(params.get("n") or 1)
        quality = params.get("quality") or "auto"
        # Like the real service, every call draws new pictures (the request count varies the colour).
        self._drawn = getattr(self, "_drawn", 0) + 1  # not cleared by reset(): images never repeat
        first = self._drawn * 4
        data = [{"b64_json": base64.b64encode(png(width, height, first + i)).decode()} for i in range(n)]
        body = {
            "created": int(time.time()),
            "background": "opaque",
            "data": data,
            "output_format": params.get("output_format") or "png",
            "quality": "medium" if quality == "auto" else quality,
            "size": size,
            "usage": {
                "input_tokens": 50,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 50},
                "output_tokens": 1056 * n,
                "output_tokens_details": {"image_tokens": 1056 * n, "text_tokens": 0},
                "total_tokens": 50 + 1056 * n,
            },
        }
        return Response(200, body)

    def _error(self, kind: str, reply: Reply, **fmt: str) -> Response:
        status, type_, code, message = ERRORS[kind]
        retry_after = reply.retry_after if reply.retry_after is not None else 7
        fmt.setdefault("masked", "")
        fmt.setdefault("model", "")
        body = error_body(message.format(retry_after=f"{retry_after:g}", **fmt), type_, code)
        headers = {"x-request-id": "req_fake"}
        if kind == "rate_limited":  # "rate_limited_bare" deliberately sends none
            headers["retry-after"] = f"{retry_after:g}"
        return Response(status, body, headers)


# -- POST /v1/responses (describing images, issue 17) -----------------------------------------------

#: What the fake's vision model says. Set ``fake.vision_answer`` to one of VISION_ANSWERS (default "good"), or
#: to a dict to send that object as the answer. Timeouts and 429s use the usual ``enqueue("slow", delay=...)``
#: and ``enqueue("rate_limited")``.
VISION_ANSWERS = ("good", "malformed", "missing", "long", "unsafe")
VISION_WORDS = {
    "alt_text": "A yellow disc glowing on a deep blue background.",
    "title": "Yellow moon over blue",
    "description": "A round yellow shape sits in the middle of a calm blue field, like a moon at night.",
    "tags": ["moon", "blue", "yellow", "night"],
}


def vision_text(mode: object) -> str:
    """The model's output text for a switch value (shared with the Gemini fake)."""
    if isinstance(mode, dict):
        return json.dumps(mode)
    if mode == "malformed":
        return '{"alt_text": "A yellow disc on blue", "title": "Yellow'  # cut off mid-string
    if mode == "missing":
        return json.dumps({"title": "Only a title"})
    if mode == "long":
        long = dict(VISION_WORDS)
        long.update(
            alt_text="word " * 200,
            title="Title " * 60,
            description="x" * 2000,
            tags=[f"tag{i}" for i in range(40)] + ["a" * 90],
        )
        return json.dumps(long)
    if mode == "unsafe":
        return json.dumps(
            {
                **VISION_WORDS,
                "alt_text": "A disc\u202e<script>alert(1)</script>\u0000 on blue",
                "title": "Moon\u200b",
            }
        )
    return json.dumps(VISION_WORDS)


def responses_reply(fake: FakeServer, req: RecordedRequest) -> Response:
    """A Responses API answer with structured output, like the service sends for text.format json_schema."""
    body = req.json or {}
    model = body.get("model") or ""
    fmt = ((body.get("text") or {}).get("format")) or {}
    content = ((body.get("input") or [{}])[0] or {}).get("content") or []
    if not any(part.get("type") == "input_image" for part in content if isinstance(part, dict)):
        return Response(
            400, error_body("Expected an input_image part.", "invalid_request_error", None, "input")
        )
    if fmt.get("type") != "json_schema" or not fmt.get("strict"):
        return Response(
            400, error_body("Expected a strict json_schema format.", "invalid_request_error", None)
        )
    text = vision_text(getattr(fake, "vision_answer", "good"))
    with fake._lock:
        fake._responses = getattr(fake, "_responses", 0) + 1
        n = fake._responses
    answer = {
        "id": f"resp_fake{n}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": model,
        "output": [
            {
                "id": f"msg_fake{n}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "text": {"format": fmt},
        "usage": {
            "input_tokens": 120,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 60,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 180,
        },
    }
    return Response(200, answer)


# --------------------------------------------------------------------------------- moderation

MODERATION_MODELS = ("omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest")
# The categories omni-moderation answers, and which of them it judges from images too.
MODERATION_CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)  # fmt: skip
IMAGE_CATEGORIES = frozenset(
    ("self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic")
)


def moderation_refusal(params: dict) -> Response | None:
    """The real 400s: a missing input, an unknown model, an input part of an unknown type."""
    if "input" not in params or params["input"] in (None, "", []):
        body = error_body(
            "Missing required parameter: 'input'.",
            "invalid_request_error",
            "missing_required_parameter",
            "input",
        )
        return Response(400, body)
    model = params.get("model") or "omni-moderation-latest"
    if model not in MODERATION_MODELS:
        return invalid_value("model", model, MODERATION_MODELS)
    parts = params["input"] if isinstance(params["input"], list) else [params["input"]]
    for i, part in enumerate(parts):
        if isinstance(part, str):
            continue
        if not isinstance(part, dict) or part.get("type") not in ("text", "image_url"):
            return invalid_value(
                f"input[{i}].type",
                (part or {}).get("type") if isinstance(part, dict) else part,
                ("text", "image_url"),
            )
    return None


def _decode_data_uri(url: str):
    from PIL import Image

    if not url.startswith("data:") or ";base64," not in url:
        return None
    try:
        return Image.open(io.BytesIO(base64.b64decode(url.split(";base64,", 1)[1]))).convert("RGB")
    except Exception:
        return None


def moderations(fake: FakeOpenAI, params: dict) -> Response:
    """``POST /v1/moderations``: one result over all the input parts, in the real wire format."""
    parts = params["input"] if isinstance(params["input"], list) else [params["input"]]
    texts, images = [], []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif part.get("type") == "text":
            texts.append(str(part.get("text") or ""))
        else:
            images.append(_decode_data_uri(((part.get("image_url") or {}).get("url")) or ""))
    text = " ".join(texts).lower()
    hits: dict[str, set[str]] = {}
    for fragment, category in fake.flagged_texts.items():
        if fragment in text:
            hits.setdefault(category, set()).add("text")
    for image in images:
        for predicate, category in fake.flagged_images:
            if image is not None and predicate(image):
                hits.setdefault(category, set()).add("image")
    kinds = (["text"] if texts else []) + (["image"] if images else [])
    categories = {c: c in hits for c in MODERATION_CATEGORIES}
    scores = {c: (0.93 if c in hits else 0.0004) for c in MODERATION_CATEGORIES}
    applied = {c: [k for k in kinds if k == "text" or c in IMAGE_CATEGORIES] for c in MODERATION_CATEGORIES}
    result = {
        "flagged": bool(hits),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }
    fake._moderated = getattr(fake, "_moderated", 0) + 1
    body = {
        "id": f"modr-fake{fake._moderated}",
        "model": params.get("model") or "omni-moderation-latest",
        "results": [result],
    }
    return Response(200, body)
