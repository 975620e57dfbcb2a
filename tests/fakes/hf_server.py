"""A fake Hugging Face Inference endpoint for ``huggingface_hub.InferenceClient`` (checked with 2.4).

    with FakeHF(valid_key="hf_test_token") as fake:
        client = InferenceClient(token="hf_test_token")
        client.text_to_image("jazz", model=f"{fake.url}/models/stabilityai/stable-diffusion-xl-base-1.0")

``POST /models/{owner}/{name}`` takes ``{"inputs": prompt, "parameters": {...}}`` and answers raw PNG
bytes at the asked width/height (capped small); ``GET /api/whoami-v2`` checks the token. Kinds:
``loading`` (503 ``{"error": "Model … is currently loading", "estimated_time": N}``), ``json_200``
(200 with a JSON body), ``unauthorized`` (401), ``rate_limited`` (429), ``server_error`` (500),
``bad_request`` (400).
"""

from __future__ import annotations

from ._base import FakeServer, RecordedRequest, Reply, Response, png

MAX_SIDE = 128  # images are drawn small (tests need real bytes, not megapixels)


class FakeHF(FakeServer):
    def __init__(self, valid_key: str | None = "hf_test_token") -> None:
        super().__init__(valid_key)

    def key_ok(self, req: RecordedRequest) -> bool:
        if self.valid_key is None:  # any key is accepted
            return bool(req.headers.get("authorization"))
        return req.headers.get("authorization") == f"Bearer {self.valid_key}"

    def bad_key_response(self, req: RecordedRequest) -> Response:
        return Response(401, {"error": "Invalid credentials in Authorization header"})

    def _handle(self, req: RecordedRequest) -> Response:
        response = self._answer(req)
        # The SDK's shared HTTP session keeps connections open; closing each one lets stop() return
        # at once instead of waiting on an idle keep-alive connection.
        response.headers["Connection"] = "close"
        return response

    def _answer(self, req: RecordedRequest) -> Response:
        if req.path == "/api/whoami-v2":
            self._record(req)
            req.key_ok = self.key_ok(req)
            if not req.key_ok:
                return self.bad_key_response(req)
            return Response(200, {"type": "user", "name": "producer", "auth": {"type": "access_token"}})
        if not req.path.startswith("/models/"):
            self._record(req)
            return Response(404, {"error": "Not Found"})
        return super()._handle(req)

    def validate(self, req: RecordedRequest) -> Response | None:
        body = req.json if isinstance(req.json, dict) else {}
        if not isinstance(body.get("inputs"), str) or not body["inputs"].strip():
            return Response(400, {"error": "inputs must be a non-empty string"})
        return None

    def dispatch(self, req: RecordedRequest, reply: Reply) -> Response:
        kind = reply.kind
        model = req.path[len("/models/") :]
        if kind in ("success", "slow"):
            params = (req.json or {}).get("parameters") or {}
            width, height = int(params.get("width") or 1024), int(params.get("height") or 1024)
            scale = MAX_SIDE / max(width, height)
            return Response(
                200,
                png(max(8, round(width * scale)), max(8, round(height * scale)), self.calls),
                {"Content-Type": "image/png"},
            )
        if kind == "loading":
            return Response(
                503,
                {
                    "error": f"Model {model} is currently loading",
                    "estimated_time": reply.retry_after if reply.retry_after is not None else 20.0,
                },
            )
        if kind == "json_200":
            return Response(200, {"generated_text": "I cannot draw that."})
        if kind == "unauthorized":
            return Response(401, {"error": "Invalid credentials in Authorization header"})
        if kind in ("rate_limited", "rate_limited_bare"):
            headers = {} if kind == "rate_limited_bare" else {"Retry-After": str(int(reply.retry_after or 7))}
            return Response(429, {"error": "Rate limit reached. You reached free usage limit."}, headers)
        if kind in ("server_error", "unavailable"):
            return Response(500, {"error": "Internal Server Error"})
        if kind == "not_found":
            return Response(404, {"error": f"Model {model} does not exist"})
        return Response(400, {"error": "Invalid parameters"})
