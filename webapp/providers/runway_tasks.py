"""Runway's task discipline, shared by its image, video and voice calls.

Every Runway generation is a *task* that is paid once it starts, so this module owns the two traps
PROVIDERS.md records:

* a create is sent exactly once: the client has ``max_retries=0`` and we never resend after an
  answer might have been lost; the task id is handed to ``hooks.save_task_id`` before the first poll,
  and a job that already has one (``hooks.resume_task_id``) polls it instead of creating another;
* ``wait_for_task_output`` is never used (it ignores CANCELLED and blocks for minutes): we poll
  ``tasks.retrieve`` ourselves with capped exponential backoff, report progress, honour the
  producer's cancel (``tasks.delete``), and download every output at once (the URLs expire).

The poll interval comes from ``RUNWAY_POLL_SECONDS`` (default 2 s, capped at 8 times that) and the total
wait from ``RUNWAY_TASK_TIMEOUT_SECONDS`` (default 900 s), so tests can poll every few milliseconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import (
    BadRequest,
    ContentBlocked,
    InvalidKey,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SdkErrorTranslator,
    key_suffix,
    parse_retry_after,
    redact,
)
from .media import TaskCancelled, TaskHooks

MAX_OUTPUT_BYTES = 200 * 1024 * 1024  # a 10 s 1080p clip is a few MB; anything this big is wrong
DOWNLOAD_TIMEOUT = 120.0


@dataclass
class TaskResult:
    """A succeeded task: its id, the downloaded outputs (bytes, content type) and what it cost."""

    task_id: str
    outputs: list[tuple[bytes, str]]
    credits: float | None


def poll_settings() -> tuple[float, float]:
    """(first poll interval, overall timeout) in seconds, from the environment."""
    try:
        interval = max(0.001, float(os.environ.get("RUNWAY_POLL_SECONDS", "2")))
    except ValueError:
        interval = 2.0
    try:
        timeout = max(1.0, float(os.environ.get("RUNWAY_TASK_TIMEOUT_SECONDS", "900")))
    except ValueError:
        timeout = 900.0
    return interval, timeout


class TaskRunner:
    """Create-once-then-poll for one Runway client. ``sleep`` and ``clock`` are injectable."""

    def __init__(
        self,
        client: Any,
        key: str | None,
        timeout: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.key = key
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.poll_interval, self.task_timeout = poll_settings()

    def run(self, create: Callable[[], Any], hooks: TaskHooks, what: str) -> TaskResult:
        """Create (or resume) the task, wait for it, download its outputs."""
        task_id = hooks.resume_task_id
        if not task_id:
            if hooks.cancelled():
                raise TaskCancelled("Cancelled before the Runway task was created.")
            with ErrorTranslator(self.key, self.timeout, creating=True):
                created = create()
            task_id = str(created.id)
            hooks.save_task_id(task_id)
        hooks.progress(0.0, f"Runway is {what}")
        return self._wait(task_id, hooks, what)

    def _wait(self, task_id: str, hooks: TaskHooks, what: str) -> TaskResult:
        limit = self.task_timeout
        if hooks.wait_limit is not None:
            limit = max(0.001, min(limit, hooks.wait_limit))
        deadline = self.clock() + limit
        interval = self.poll_interval
        cap = self.poll_interval * 8
        while True:
            if hooks.cancelled():
                self.cancel(task_id)
                raise TaskCancelled("Cancelled; Runway was asked to stop the task.")
            with ErrorTranslator(self.key, self.timeout, task=True):
                task = self.client.tasks.retrieve(task_id)
            status = str(getattr(task, "status", ""))
            if status == "SUCCEEDED":
                urls = list(getattr(task, "output", None) or [])
                if not urls:
                    raise ProviderUnavailable(
                        "Runway finished the task without any output. Try again.",
                        may_have_billed=True,
                        retryable=False,
                    )
                hooks.progress(0.95, "Downloading from Runway")
                outputs = [download(url, self.timeout) for url in urls]
                cost = getattr(task, "cost", None)
                return TaskResult(task_id, outputs, getattr(cost, "credits", None))
            if status == "FAILED":
                raise finished(failure_error(task))
            if status == "CANCELLED":
                raise finished(
                    ProviderUnavailable(
                        "The Runway task was cancelled outside Marquee (in Runway's dashboard or by another "
                        "client). Start it again if you still want it.",
                        retryable=False,
                        detail=f"task {task_id} CANCELLED",
                    )
                )
            if status == "RUNNING":
                progress = float(getattr(task, "progress", 0) or 0)
                hooks.progress(min(0.9, max(0.0, progress) * 0.9), f"Runway is {what}")
            elif status == "THROTTLED":
                hooks.progress(0.0, "Waiting in Runway's queue (the account's concurrency limit)")
            if self.clock() >= deadline:
                raise ProviderUnavailable(
                    f"Runway did not finish within {limit:g} seconds.",
                    may_have_billed=True,
                    detail=f"task {task_id} still {status}",
                )
            self.sleep(interval)
            interval = min(cap, interval * 1.6)

    def cancel(self, task_id: str) -> None:
        """``DELETE /v1/tasks/{id}``; a failure to cancel is not the producer's problem."""
        import contextlib

        with contextlib.suppress(Exception):
            self.client.tasks.delete(task_id)


def finished(exc: ProviderError) -> ProviderError:
    """Mark an error as "the task is over": a retried job must create a new task, not resume this one.
    Errors without the mark leave the task resumable (a timeout, a failed poll or download)."""
    exc.task_finished = True  # type: ignore[attr-defined]
    return exc


def failure_error(task: Any) -> ProviderError:
    """A FAILED task as a typed error carrying Runway's failure text."""
    text = str(getattr(task, "failure", "") or "no reason given")[:300]
    code = str(getattr(task, "failure_code", "") or "")
    detail = f"FAILED {code}: {text}"
    if code.startswith("SAFETY") or "moderation" in text.lower() or "content" in code.lower():
        return ContentBlocked(
            f"Runway's content moderation refused this ({text}). Reword the prompt or use another image.",
            detail=detail,
        )
    if code.startswith("INPUT") or code.startswith("ASSET"):
        return BadRequest(f"Runway could not use the input: {text}", detail=detail)
    return ProviderUnavailable(
        f"Runway could not finish the task: {text}. Try again.",
        retryable=False,
        detail=detail,
    )


def download(url: str, timeout: float) -> tuple[bytes, str]:
    """Fetch one output URL into memory (size-capped): Runway's URLs expire within 24-48 h."""
    import httpx

    try:
        with httpx.stream("GET", url, timeout=min(timeout, DOWNLOAD_TIMEOUT), follow_redirects=True) as r:
            if r.status_code != 200:
                raise ProviderUnavailable(
                    f"Runway's output could not be downloaded (HTTP {r.status_code}).",
                    may_have_billed=True,
                )
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > MAX_OUTPUT_BYTES:
                    raise ProviderUnavailable(
                        "Runway's output is larger than Marquee accepts.",
                        may_have_billed=True,
                        retryable=False,
                    )
                chunks.append(chunk)
            ctype = r.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
            return b"".join(chunks), ctype
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            "Runway's output could not be downloaded.",
            may_have_billed=True,
            detail=type(exc).__name__,
        ) from None


class ErrorTranslator(SdkErrorTranslator):
    """``runwayml`` exceptions -> ours, key scrubbed, chain cut (the SDK error holds the request).

    ``creating``: the call was a task create. A timeout there may have started a paid task whose id we
    never learnt, so it is reported as possibly billed and never retried blindly by us.
    """

    def __init__(self, key: str | None, timeout: float, *, creating: bool = False, task: bool = False):
        super().__init__(key, timeout)
        self.creating, self.task = creating, task

    def translate(self, exc: Exception) -> ProviderError | None:
        import runwayml

        if not isinstance(exc, runwayml.RunwayMLError):
            return None
        if isinstance(exc, runwayml.APITimeoutError):
            return ProviderUnavailable(
                f"Runway did not answer within {self.timeout:g} seconds. Try again in a few minutes"
                + ("; a task may have started and been billed." if self.creating else "."),
                may_have_billed=self.creating,
                retryable=not self.creating,
                detail="timeout",
            )
        if isinstance(exc, runwayml.APIConnectionError):
            return ProviderUnavailable(
                "Could not reach Runway. Check the server's internet connection and try again.",
                detail=redact(f"{type(exc.__cause__).__name__}: {exc.__cause__}", self.key),
            )
        if not isinstance(exc, runwayml.APIStatusError):
            return ProviderUnavailable(
                "Runway sent a response we could not understand. Try again later.",
                detail=redact(f"{type(exc).__name__}: {exc}", self.key),
            )
        status = exc.status_code
        message = redact(_message(exc), self.key)
        detail = f"HTTP {status}: {message}"
        if status == 401:
            return InvalidKey(
                f"Runway refused the API key ending {key_suffix(self.key or '')}. Check it in Settings: "
                "it may be mistyped or revoked.",
                detail=detail,
            )
        if status == 403:
            return InvalidKey(
                f"The Runway key ending {key_suffix(self.key or '')} may not do this ({message}).",
                detail=detail,
            )
        if status == 429:
            retry_after = parse_retry_after(exc.response.headers)
            wait = f" in {retry_after:.0f} seconds" if retry_after is not None else " in a minute"
            return RateLimited(
                f"Runway is limiting this account (too many tasks at once, or the daily limit). "
                f"Try again{wait}.",
                retry_after=retry_after,
                detail=detail,
            )
        if status >= 500:
            return ProviderUnavailable(
                f"Runway is having problems (HTTP {status}). Try again in a few minutes.", detail=detail
            )
        if status == 404 and self.task:
            return finished(
                ProviderUnavailable(
                    "Runway no longer knows this task (it was deleted). Start the job again.",
                    retryable=False,
                    detail=detail,
                )
            )
        if "credit" in message.lower():
            return RateLimited(
                "The Runway account has run out of credits. Add credits in Runway's developer portal, then "
                "try again.",
                retryable=False,
                detail=detail,
            )
        return BadRequest(f"Runway rejected the request: {message}", detail=detail)


def _message(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        for field in ("error", "message"):
            value = body.get(field)
            if isinstance(value, str) and value:
                issues = body.get("issues")
                if isinstance(issues, list) and issues:
                    first = issues[0]
                    extra = first.get("message") if isinstance(first, dict) else None
                    if extra:
                        return f"{value} ({extra})"
                return value
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
    return str(getattr(exc, "message", "") or exc)
