"""Bulk generation: a batch of prompts, each an item with its own status, all state in Postgres
so a worker restart or a deploy in the middle loses nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class BulkBatch(db.Model):
    __tablename__ = "bulk_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    # draft | running | paused | cancelled | finished | closed
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    key_owner: Mapped[str] = mapped_column(String(16), default="platform")
    image_type: Mapped[str] = mapped_column(String(16), default="poster")
    quality: Mapped[str] = mapped_column(String(16), default="medium")
    variations: Mapped[int] = mapped_column(Integer, default=1)
    style: Mapped[str | None] = mapped_column(String(32), nullable=True)
    show_id: Mapped[int | None] = mapped_column(ForeignKey("show.id", ondelete="SET NULL"), nullable=True)
    autoformat_on_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    concurrency: Mapped[int] = mapped_column(Integer, default=2)
    estimate: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_pump_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BulkItem(db.Model):
    """One prompt. Claimed by exactly one worker at a time (claim token), ordered by position."""

    __tablename__ = "bulk_item"
    __table_args__ = (Index("ix_bulk_item_batch_status_position", "batch_id", "status", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("bulk_batch.id", ondelete="CASCADE"), index=True)
    position: Mapped[float] = mapped_column(Float)
    prompt: Mapped[str] = mapped_column(Text)
    image_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    style: Mapped[str | None] = mapped_column(String(32), nullable=True)
    variations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # pending | running | succeeded | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    claim: Mapped[str | None] = mapped_column(String(40), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    # A provider task (Runway) this item's current variation is waiting on, ``v<n>:<id>[:paid]``, saved
    # before the first poll so an item re-claimed after its worker died resumes it (jobs.provider_tasks).
    provider_task_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BulkImage(db.Model):
    """An image an item produced, selected for publishing by default."""

    __tablename__ = "bulk_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("bulk_item.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("bulk_batch.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"), nullable=True)
    selected: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    revised_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
