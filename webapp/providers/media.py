"""The contract for video and voice: what a clip or a spoken promo request carries, what comes back, and
the hooks a long provider task needs from the job that runs it.

Stills keep ``ImageRequest``/``GeneratedImage`` (``base``). Video and audio are separate because their
providers work differently: a Runway generation is a *task* that runs for minutes, may be cancelled, and
is paid once it starts. The job must therefore learn the task id before it waits (so a retried job
resumes the same task instead of paying for a second one), report progress while it waits, and stop
when the producer cancels. ``TaskHooks`` is that conversation; the offline renderer uses the same hooks
for progress and cancel, so one job code path drives every provider.

Nothing here knows about Flask or the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

MediaKind = Literal["video", "audio"]

# Output formats for clips: name -> (width, height). Story is the Instagram/TikTok vertical.
VIDEO_FORMATS: dict[str, tuple[int, int]] = {
    "story": (1080, 1920),
    "square": (1080, 1080),
    "landscape": (1920, 1080),
}
MOTIONS = ("push-in", "pull-out", "pan-left", "pan-right", "pan-up", "pan-down")
MIN_SECONDS, MAX_SECONDS = 2, 10
MAX_SCRIPT_CHARS = 1000


@dataclass(frozen=True)
class VideoRequest:
    """A clip made from one still image (``image``: encoded PNG/JPEG bytes)."""

    image: bytes
    image_mime: str
    format: str = "story"  # a key of VIDEO_FORMATS
    seconds: int = 6
    motion: str = "push-in"  # a value of MOTIONS (the offline renderer); providers may ignore it
    prompt: str = ""  # what should move (premium providers); the offline renderer ignores it
    title: str = ""  # optional title reveal (offline renderer)
    subtitle: str = ""
    model: str | None = None


@dataclass(frozen=True)
class SpeechRequest:
    """A spoken promo: ``text`` read by a preset ``voice``."""

    text: str
    voice: str | None = None
    model: str | None = None


@dataclass
class GeneratedMedia:
    """One video or audio file, already downloaded into memory (provider URLs expire)."""

    data: bytes
    mime: str  # video/mp4, audio/mpeg, audio/wav
    kind: MediaKind
    duration_s: float
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)  # provider figures, e.g. {"credits": 25}
    task_id: str | None = None


class TaskCancelled(Exception):
    """The producer cancelled while the task ran; the adapter has already asked the provider to stop."""


@dataclass
class TaskHooks:
    """How a long task talks to the job running it.

    ``resume_task_id``: a task an earlier attempt of this job created; poll it, never create another.
    ``save_task_id(task_id)``: called once, right after the create call returns and before the first poll;
    the job commits it so a worker killed mid-wait can be resumed. ``progress(fraction, stage)``: 0 to 1 and a
    short text. ``cancelled()``: True once the producer cancelled; the adapter then cancels the provider
    task and raises ``TaskCancelled``.
    """

    resume_task_id: str | None = None
    # The longest this call may wait on the provider's task, if shorter than the provider's own limit
    # (a job on the web process's thread pool gives the thread back; Retry resumes the task).
    wait_limit: float | None = None
    save_task_id: Callable[[str], None] = lambda _task_id: None
    progress: Callable[[float, str], None] = lambda _fraction, _stage: None
    cancelled: Callable[[], bool] = lambda: False


@runtime_checkable
class VideoProvider(Protocol):
    """An adapter that can animate a still (offline renderer, Runway)."""

    def animate(self, request: VideoRequest, hooks: TaskHooks) -> GeneratedMedia: ...


@runtime_checkable
class SpeechProvider(Protocol):
    """An adapter that can read a script aloud (Runway)."""

    def speak(self, request: SpeechRequest, hooks: TaskHooks) -> GeneratedMedia: ...
