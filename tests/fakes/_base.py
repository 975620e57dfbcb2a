"""The HTTP machinery shared by the fake provider servers: threading, recording, scripting.

A fake is a real HTTP server on 127.0.0.1 (random port) so the real SDKs, with their real HTTP stacks, can
talk to it. Each request that passes the key check takes the next scripted ``Reply`` from the queue, or the
default ``mode`` when the queue is empty. Every request (good key or not) is recorded.
"""

from __future__ import annotations

import bisect
import io
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

KINDS = (
    "success",  # images as asked
    "slow",  # success after ``delay`` seconds (default 2): longer than a short client timeout
    "unauthorized",  # 401 with the provider's error body
    "forbidden",  # 403
    "rate_limited",  # 429 with Retry-After (``retry_after`` seconds, default 7)
    "rate_limited_bare",  # 429 with no Retry-After header and no retry hint in the body
    "server_error",  # 500
    "unavailable",  # 503
    "safety",  # the provider's content-safety refusal
    "bad_request",  # 400 that is not about safety
    "not_found",  # 404 (unknown model)
    "loading",  # Hugging Face 503 "model is loading" with estimated_time
    "json_200",  # Hugging Face 200 whose body is JSON, not an image
    "task_failed",  # Runway: the task is created, then ends FAILED
    "task_cancelled",  # Runway: the task is created, then ends CANCELLED (by someone else)
)


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``delay`` applies to any kind; ``status``/``body``/``headers`` override the
    provider-specific defaults for that kind (``body`` is JSON-encoded)."""

    kind: str = "success"
    delay: float = 0.0
    retry_after: float | None = None
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Gemini "safety" variants: a finish reason ("IMAGE_SAFETY", "NO_IMAGE"), "PROMPT_BLOCKED" or "TEXT_ONLY".
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown reply kind {self.kind!r}; use one of {', '.join(KINDS)}.")


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """What reached the server. ``headers`` keys are lower-case; ``json`` is set for JSON bodies, ``form`` and
    ``files`` (field name -> list, in order) for multipart bodies. ``at`` is ``time.monotonic()`` on
    arrival."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float
    wall_time: float
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadedFile]] = field(default_factory=dict)
    key_ok: bool = True
    reply: Reply | None = None


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def png(width: int, height: int, index: int = 0) -> bytes:
    """A small-to-encode but real PNG of the given size; ``index`` changes the colour so images differ."""
    hue = (index * 67) % 255
    img = Image.new("RGB", (width, height), (40 + hue // 2, 80, 200 - hue // 2))
    ImageDraw.Draw(img).ellipse(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 200, 60)
    )
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, list[str]], dict[str, list[UploadedFile]]]:
    """multipart/form-data -> (text fields, file fields), both keyed by field name in arrival order."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, list[str]] = {}
    files: dict[str, list[UploadedFile]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None or part.get_content_type().startswith("image/"):
            ctype = part.get("Content-Type")
            files.setdefault(name, []).append(UploadedFile(filename, ctype, payload))
        else:
            form.setdefault(name, []).append(payload.decode())
    return form, files


class FakeServer:
    """Base fake: subclasses implement ``key_ok`` and ``dispatch``.

    Use as a context manager (``with FakeOpenAI() as fake: fake.url``) or call ``start()`` / ``stop()``.
    Script with ``enqueue(...)`` (one reply per request, in order), ``fail_first(n, kind)``, or
    ``set_mode(...)`` (when the queue is empty). Requests the real service would refuse whatever happens
    (unknown model, size, quality, aspect ratio) get its 400/404 from ``validate`` and consume no
    scripted reply. Read back with ``requests`` (a copy), ``calls`` and ``timestamps``; ``reset()`` clears
    both.
    """

    def __init__(self, valid_key: str | None = "test-key") -> None:
        self.valid_key = valid_key
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._mode = Reply()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # A provider's per-minute limit, counted like the provider counts it: at arrival, over a
        # sliding window. Beyond it a request gets the kind "rate_limited" (429 + Retry-After)
        # without taking a scripted reply; refused requests do not count. None: no limit.
        self.rate_limit_per_minute: int | None = None
        self.rate_limit_window: float = 60.0
        self._accepted_at: list[float] = []

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow replies
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        """http://127.0.0.1:PORT (no path)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL to hand the SDK; subclasses override when the SDK expects a path prefix."""
        return self.root

    # -- scripting ------------------------------------------------------------------------------------

    def enqueue(self, *replies: Reply | str, **options: Any) -> None:
        """Queue replies for the next requests. Strings are kinds; ``options`` apply to string kinds."""
        with self._lock:
            for reply in replies:
                self._queue.append(reply if isinstance(reply, Reply) else Reply(kind=reply, **options))

    def fail_first(self, n: int, kind: str = "server_error", **options: Any) -> None:
        """The next ``n`` valid requests fail with ``kind``; the ones after get the mode (success)."""
        self.enqueue(*([kind] * n), **options)

    def set_mode(self, kind: Reply | str = "success", **options: Any) -> None:
        """The reply used whenever the queue is empty."""
        with self._lock:
            self._mode = kind if isinstance(kind, Reply) else Reply(kind=kind, **options)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._mode = Reply()
            self._accepted_at.clear()

    def _rate_refusal(self, req: RecordedRequest) -> Reply | None:
        """A 429 reply when ``req`` would exceed ``rate_limit_per_minute`` in the window ending at its
        arrival; otherwise count it as accepted."""
        if self.rate_limit_per_minute is None:
            return None
        with self._lock:
            start = req.at - self.rate_limit_window
            inside = [t for t in self._accepted_at if start < t <= req.at]
            if len(inside) >= self.rate_limit_per_minute:
                wait = inside[0] + self.rate_limit_window - req.at
                return Reply(kind="rate_limited", retry_after=float(max(1, math.ceil(wait))))
            bisect.insort(self._accepted_at, req.at)  # threads may get here out of arrival order
            return None

    def _next_reply(self) -> Reply:
        with self._lock:
            return self._queue.popleft() if self._queue else self._mode

    # -- recording ------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def timestamps(self) -> list[float]:
        """``time.monotonic()`` of each request's arrival, in order."""
        with self._lock:
            return [r.at for r in self._requests]

    def requests_to(self, path_fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path_fragment in r.path]

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    # -- for subclasses -------------------------------------------------------------------------------

    def key_ok(self, req: RecordedRequest) -> bool:
        raise NotImplementedError

    def bad_key_response(self, req: RecordedRequest) -> Response:
        raise NotImplementedError

    def dispatch(self, req: RecordedRequest, reply: Reply) -> Response:
        raise NotImplementedError

    def validate(self, req: RecordedRequest) -> Response | None:
        """The real service's refusal of this request's parameters, or None when it would accept them."""
        return None

    def _handle(self, req: RecordedRequest) -> Response:
        self._record(req)
        req.key_ok = self.key_ok(req)
        if not req.key_ok:
            return self.bad_key_response(req)
        refused = self.validate(req)
        if refused is not None:
            return refused
        reply = self._rate_refusal(req) or self._next_reply()
        req.reply = reply
        delay = reply.delay if reply.delay else (2.0 if reply.kind == "slow" else 0.0)
        if delay and self._stopping.wait(delay):
            return Response(503, {"error": "shutting down"})
        response = self.dispatch(req, reply)
        if reply.status is not None:
            response.status = reply.status
        if reply.body is not None:
            response.body = reply.body
        response.headers.update(reply.headers)
        return response


def _make_handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            req = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                at=time.monotonic(),
                wall_time=time.time(),
            )
            ctype = req.headers.get("content-type", "")
            if body and ctype.startswith("application/json"):
                req.json = json.loads(body)
            elif body and ctype.startswith("multipart/form-data"):
                req.form, req.files = parse_multipart(ctype, body)
            try:
                response = server._handle(req)
            except Exception as exc:  # a bug in the fake must show up as a 500, not a hung client
                response = Response(500, {"error": {"message": f"fake server bug: {exc!r}"}})
            headers = dict(response.headers)
            if response.status == 204:
                payload, ctype = b"", headers.pop("Content-Type", "application/json")
            elif isinstance(response.body, bytes):  # raw media (image, video, audio)
                payload = response.body
                ctype = headers.pop("Content-Type", "application/octet-stream")
            else:
                payload = json.dumps(response.body).encode()
                ctype = headers.pop("Content-Type", "application/json")
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = do_POST = do_DELETE = _serve

    return Handler
