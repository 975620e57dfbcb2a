"""What a job body is given and may raise: `JobContext` (progress and cancel checks, its own stored
files, one-transaction `finish`) and the job exceptions. `jobs.runner` runs a body with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Asset, Job, JobStatus, utcnow
from webapp.services.describe import describe_new
from webapp.storage import get_storage

log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The row was cancelled while the job ran: stop, clean up, leave the row as it is."""


class JobError(Exception):
    """A failure with a message a producer can act on; never retried automatically."""


class RetryableJobError(JobError):
    """A failure with a producer-readable message that a later attempt may not meet (a provider's 500, a
    refused connection, a rate limit, none of which produced a billable image): RQ's Retry runs the job again,
    the row meanwhile queued with the message and "Retrying automatically"."""


@dataclass
class JobContext:
    """Handed to a job body. Everything it writes goes through here so failures can undo it."""

    job_id: int
    owner_id: int
    kind: str
    input: dict[str, Any]
    attempt: int
    app: Flask
    stored_keys: list[str] = field(default_factory=list)

    @property
    def writer(self) -> str:
        """This attempt's name in storage keys: its files are its own (see assets.storage_key)."""
        return f"j{self.job_id}a{self.attempt}"

    def _mine(self):
        """The row is still this attempt's: running, and not claimed again since (a slow attempt
        that the sweeper gave up on must not finish over the retry that replaced it)."""
        return (Job.id == self.job_id, Job.status == JobStatus.RUNNING.value, Job.attempts == self.attempt)

    def progress(self, percent: float, stage: str) -> None:
        """Record progress; raises JobCancelled if the row is no longer running."""
        with db.engine.begin() as conn:
            rows = conn.execute(
                update(Job)
                .where(*self._mine())
                .values(progress=max(0, min(99, int(percent))), stage=stage[:200], heartbeat_at=utcnow())
            ).rowcount
        if not rows:
            raise JobCancelled

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store bytes and remember the key so a failure removes them again."""
        get_storage().put(key, data, content_type)
        self.stored_keys.append(key)

    def _flush_assets(self, assets: list[Asset]) -> list[Asset]:
        """Insert the new assets; where another job committed the same bytes meanwhile (unique per
        owner and sha256), use its asset and delete only the copy this attempt wrote."""
        for _ in range(3):
            try:
                for asset in assets:
                    if asset.id is None:
                        describe_new(asset)  # offline alt text etc. (reads the show row only)
                for asset in assets:
                    db.session.add(asset)
                db.session.flush()
                return assets
            except IntegrityError:
                db.session.rollback()
                resolved: list[Asset] = []
                for asset in assets:
                    winner = (
                        None
                        if asset.id is not None
                        else db.session.scalar(
                            select(Asset).where(
                                Asset.owner_id == asset.owner_id, Asset.sha256 == asset.sha256
                            )
                        )
                    )
                    if winner is None:
                        resolved.append(asset)
                        continue
                    self.discard_keys([k for k in (asset.storage_key, asset.thumb_key) if k])
                    resolved.append(winner)
                assets = resolved
        raise RuntimeError("could not record the job's assets after three attempts")

    def discard_keys(self, keys: list[str]) -> None:
        """Delete some of this attempt's own files (only keys it wrote are ever touched)."""
        store = get_storage()
        for key in keys:
            if key not in self.stored_keys:
                continue
            self.stored_keys.remove(key)
            try:
                store.delete(key)
            except Exception:
                log.exception("could not remove %s", key)

    def discard_stored(self) -> None:
        store = get_storage()
        for key in self.stored_keys:
            try:
                store.delete(key)
            except Exception:  # best effort; the orphan sweeper catches the rest
                log.exception("could not remove %s after a failed job", key)
        self.stored_keys.clear()

    def finish(self, result: dict[str, Any], assets: list[Asset]) -> None:
        """Insert the job's assets and mark it succeeded in ONE transaction.

        The status update is conditional on the row still running: if it was cancelled in the
        meantime nothing is committed and the stored files are removed.
        """
        try:
            assets = self._flush_assets(assets)
            if assets:  # otherwise the body recorded its own (committed earlier, e.g. per variation)
                result = {**result, "asset_ids": [a.id for a in assets]}
            rows = db.session.execute(
                update(Job)
                .where(*self._mine())
                .values(
                    status=JobStatus.SUCCEEDED.value,
                    progress=100,
                    stage="Done",
                    result=result,
                    error=None,
                    finished_at=utcnow(),
                )
            ).rowcount
            if not rows:
                db.session.rollback()
                raise JobCancelled
            db.session.commit()
            self.stored_keys.clear()  # now owned by committed assets
        except BaseException:
            db.session.rollback()
            raise
