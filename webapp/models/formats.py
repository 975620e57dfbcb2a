"""Output presets admins add next to the built-in ones (imaging.presets.BUILTIN_PRESETS)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow


class FormatPreset(db.Model):
    """A named canvas size producers can pick in auto-format, the API and the CLI."""

    __tablename__ = "format_preset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(16), unique=True)  # [a-z][a-z0-9-]*, also the asset kind
    label: Mapped[str] = mapped_column(String(60))
    platform: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
