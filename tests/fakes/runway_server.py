"""A fake Runway API speaking the wire format the official ``runwayml`` SDK uses (checked with 5.24).

    with FakeRunway(valid_key="key_test") as fake:
        client = runwayml.RunwayML(api_key="key_test", base_url=fake.url, max_retries=0)
        fake.enqueue("rate_limited", retry_after=3)   # next create: 429 + Retry-After: 3
        fake.running_polls = 3                        # RUNNING answers before the terminal state

Endpoints: ``POST /v1/text_to_image | image_to_video | text_to_speech`` (create a task; answers
``{id, estimatedCost: {credits}}``), ``GET /v1/tasks/{id}`` (PENDING → RUNNING with ``progress`` →
SUCCEEDED with ``output`` URLs and ``cost`` | FAILED with ``failure``/``failureCode`` | CANCELLED),
``DELETE /v1/tasks/{id}`` (cancels; recorded in ``deleted``), ``GET /v1/organization``. Output URLs
point at ``/outputs/...`` on this server (no key needed, like Runway's signed URLs) and serve real
bytes: a PNG for images, a WAV for speech, a small MP4 for video.

Scripted replies apply to creates only: error kinds answer the create itself; ``task_failed`` and
``task_cancelled`` create a task that later ends that way. ``hold = True`` keeps every task RUNNING
until it is set back to False (worker-kill and cancel tests). ``created_per_key`` counts creates.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import threading
import wave
from collections import Counter
from typing import Any

from ._base import FakeServer, RecordedRequest, Reply, Response, png

CREATE_PATHS = {
    "/v1/text_to_image": "image",
    "/v1/image_to_video": "video",
    "/v1/text_to_speech": "audio",
}
CREDITS = {"image": 8, "video": 25, "audio": 2}  # per task (gen4_image 1080p; 5 s gen4_turbo = 25)
_TASK = re.compile(r"^/v1/tasks/([\w-]+)$")
_OUTPUT = re.compile(r"^/outputs/([\w-]+)/(\d+)\.(png|mp4|wav)$")
_BUCKET = re.compile(r"^/upload-bucket/(\d+)$")


def wav_bytes(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A real, silent mono 16-bit WAV of ``seconds``."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


_CLIP: bytes | None = None


def clip_bytes() -> bytes:
    """A real, playable 1 s 128x228 H.264 MP4 made with PyAV (what Runway's CDN would serve), so
    the app's validation of provider output is exercised for real; cached per process."""
    global _CLIP
    if _CLIP is None:
        import tempfile
        from pathlib import Path

        import av
        import numpy as np

        folder = tempfile.mkdtemp(prefix="fake-runway-")
        path = Path(folder) / "clip.mp4"  # +faststart rewrites the file: a path, not a buffer
        with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream("libx264", rate=24)
            stream.width, stream.height, stream.pix_fmt = 128, 228, "yuv420p"
            for i in range(24):
                frame = np.full((228, 128, 3), (i * 10) % 255, dtype=np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        _CLIP = path.read_bytes()
        path.unlink()
        Path(folder).rmdir()
    return _CLIP


def mp4_bytes() -> bytes:
    """A minimal ISO-BMFF file (``ftyp`` + empty ``moov``/``mdat``): enough for content sniffing; the
    media layer's own tests use real clips."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41") + box(b"moov", b"") + box(b"mdat", b"")


class FakeRunway(FakeServer):
    def __init__(self, valid_key: str | None = "key_test") -> None:
        super().__init__(valid_key)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self.created_per_key: Counter[str] = Counter()
        self.running_polls = 2
        self.hold = False
        self.credit_balance = 1000
        self.image_size = (96, 128)
        self.uploads: dict[str, bytes] = {}  # runway:// URI -> bytes received at the bucket
        self._ids = itertools.count(1)
        self._task_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.root

    def reset(self) -> None:
        super().reset()
        with self._task_lock:
            self.tasks.clear()
            self.deleted.clear()
            self.created_per_key.clear()
            self.uploads.clear()
            self.running_polls, self.hold = 2, False

    @property
    def creates(self) -> int:
        return sum(self.created_per_key.values())

    def key_ok(self, req: RecordedRequest) -> bool:
        if _OUTPUT.match(req.path) or _BUCKET.match(req.path):  # signed URLs: no key
            return True
        if self.valid_key is None:  # any key is accepted
            return bool(req.headers.get("authorization"))
        return req.headers.get("authorization") == f"Bearer {self.valid_key}"

    def bad_key_response(self, req: RecordedRequest) -> Response:
        return Response(401, {"error": "Invalid API key."})

    def _handle(self, req: RecordedRequest) -> Response:
        self._record(req)
        req.key_ok = self.key_ok(req)
        if not req.key_ok:
            return self.bad_key_response(req)
        output = _OUTPUT.match(req.path)
        if output:
            return self._output(*output.groups())
        if req.path == "/v1/uploads" and req.method == "POST":
            number = str(next(self._ids))
            return Response(
                200,
                {
                    "runwayUri": f"runway://uploads/{number}",
                    "uploadUrl": f"{self.root}/upload-bucket/{number}",
                    "fields": {"key": f"uploads/{number}", "policy": "fake"},
                },
            )
        bucket = _BUCKET.match(req.path)
        if bucket and req.method == "POST":
            files = req.files.get("file") or []
            if not files or req.form.get("key") != [f"uploads/{bucket.group(1)}"]:
                return Response(400, {"error": "bad upload form"})
            self.uploads[f"runway://uploads/{bucket.group(1)}"] = files[0].data
            return Response(204, None)
        task = _TASK.match(req.path)
        if task and req.method == "GET":
            return self._retrieve(task.group(1))
        if task and req.method == "DELETE":
            return self._delete(task.group(1))
        if req.path == "/v1/organization" and req.method == "GET":
            return Response(
                200,
                {
                    "creditBalance": self.credit_balance,
                    "tier": {"maxMonthlyCreditSpend": 10000, "models": {}},
                    "usage": {"models": {}},
                },
            )
        if req.path in CREATE_PATHS and req.method == "POST":
            return self._create_with_reply(req)
        return Response(404, {"error": "Not found"})

    def _create_with_reply(self, req: RecordedRequest) -> Response:
        bad = self.validate(req)
        if bad is not None:
            return bad
        reply = self._rate_refusal(req) or self._next_reply()
        req.reply = reply
        if reply.delay and self._stopping.wait(reply.delay):
            return Response(503, {"error": "shutting down"})
        response = self.dispatch(req, reply)
        if reply.status is not None:
            response.status = reply.status
        if reply.body is not None:
            response.body = reply.body
        response.headers.update(reply.headers)
        return response

    def validate(self, req: RecordedRequest) -> Response | None:
        body = req.json if isinstance(req.json, dict) else {}
        if not body.get("model") or not body.get("ratio" if req.path != "/v1/text_to_speech" else "model"):
            return Response(400, {"error": "Validation of body failed", "issues": [{"message": "ratio"}]})
        if req.path == "/v1/text_to_speech" and (body.get("voice") or {}).get("type") != "runway-preset":
            return Response(400, {"error": "Validation of body failed", "issues": [{"message": "voice"}]})
        image = str(body.get("promptImage", ""))
        if req.path == "/v1/image_to_video" and not (
            image.startswith("data:image/") or image in self.uploads
        ):
            return Response(400, {"error": "Invalid promptImage"})
        return None

    def dispatch(self, req: RecordedRequest, reply: Reply) -> Response:
        kind = reply.kind
        if kind in ("success", "slow", "task_failed", "task_cancelled"):
            media = CREATE_PATHS[req.path]
            with self._task_lock:
                task_id = f"task-{next(self._ids):04d}-0000-4000-8000-000000000000"
                self.created_per_key[req.headers.get("authorization", "")[7:]] += 1
                self.tasks[task_id] = {
                    "media": media,
                    "outcome": {"task_failed": "FAILED", "task_cancelled": "CANCELLED"}.get(
                        kind, "SUCCEEDED"
                    ),
                    "polls": 0,
                    "status": "PENDING",
                    "body": req.json,
                }
            return Response(200, {"id": task_id, "estimatedCost": {"credits": CREDITS[media]}})
        if kind in ("rate_limited", "rate_limited_bare"):
            headers = {} if kind == "rate_limited_bare" else {"Retry-After": str(int(reply.retry_after or 7))}
            return Response(429, {"error": "You have exceeded the rate limit."}, headers)
        if kind in ("server_error", "unavailable"):
            return Response(500 if kind == "server_error" else 503, {"error": "Internal error"})
        if kind == "forbidden":
            return Response(403, {"error": "Forbidden"})
        if kind == "unauthorized":
            return Response(401, {"error": "Invalid API key."})
        if kind == "not_found":
            return Response(404, {"error": "Model not found"})
        if kind == "safety":
            return Response(400, {"error": "Content moderation: the prompt was flagged."})
        return Response(400, {"error": "Validation of body failed", "issues": [{"message": "bad value"}]})

    def _retrieve(self, task_id: str) -> Response:
        with self._task_lock:
            task = self.tasks.get(task_id)
            if task is None:
                return Response(404, {"error": "Task not found"})
            base = {"id": task_id, "createdAt": "2026-12-03T12:00:00.000Z"}
            estimated = {"credits": CREDITS[task["media"]]}
            if task["status"] in ("PENDING", "RUNNING") and not self.hold:
                task["polls"] += 1
                if task["polls"] > self.running_polls:
                    task["status"] = task["outcome"]
                else:
                    task["status"] = "RUNNING"
            elif task["status"] in ("PENDING", "RUNNING") and self.hold:
                task["polls"] = min(task["polls"] + 1, self.running_polls)
                task["status"] = "RUNNING"
            status = task["status"]
            if status == "PENDING":
                return Response(200, {**base, "status": "PENDING", "estimatedCost": estimated})
            if status == "RUNNING":
                progress = min(0.99, task["polls"] / (self.running_polls + 1))
                return Response(
                    200, {**base, "status": "RUNNING", "progress": progress, "estimatedCost": estimated}
                )
            if status == "FAILED":
                return Response(
                    200,
                    {
                        **base,
                        "status": "FAILED",
                        "failure": "The generation failed for an internal reason.",
                        "failureCode": "INTERNAL.BAD_OUTPUT",
                        "cost": {"credits": 0},
                    },
                )
            if status == "CANCELLED":
                return Response(200, {**base, "status": "CANCELLED", "cost": {"credits": 0}})
            ext = {"image": "png", "video": "mp4", "audio": "wav"}[task["media"]]
            return Response(
                200,
                {
                    **base,
                    "status": "SUCCEEDED",
                    "output": [f"{self.root}/outputs/{task_id}/0.{ext}"],
                    "cost": {"credits": CREDITS[task["media"]]},
                },
            )

    def _delete(self, task_id: str) -> Response:
        with self._task_lock:
            self.deleted.append(task_id)
            task = self.tasks.get(task_id)
            if task is None:
                return Response(404, {"error": "Task not found"})
            task["status"] = "CANCELLED"
        return Response(204, None)

    def _output(self, task_id: str, _index: str, ext: str) -> Response:
        if task_id not in self.tasks:
            return Response(404, {"error": "expired"})
        if ext == "png":
            number = int(task_id.split("-")[1])  # each task draws a different picture
            return Response(200, png(*self.image_size, number), {"Content-Type": "image/png"})
        if ext == "wav":
            return Response(200, wav_bytes(), {"Content-Type": "audio/wav"})
        return Response(200, clip_bytes(), {"Content-Type": "video/mp4"})
