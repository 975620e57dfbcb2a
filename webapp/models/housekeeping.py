"""Bookkeeping that makes deletes safe: storage keys waiting to be removed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class StorageTombstone(db.Model):
    """A stored object to delete. Written in the same transaction that deletes the asset rows, and
    removed once the object is gone, so a crash between the two leaves a note, never an orphan."""

    __tablename__ = "storage_tombstone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(512), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
