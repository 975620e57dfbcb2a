"""Shows: the event a producer makes images for, with its slots for poster, square and banner."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow

SLOTS = ("poster", "square", "banner")
# Slots for media beside the images: a promo clip (video) and a voice promo (audio).
MEDIA_SLOTS = {"promo": "video", "voice": "audio"}


class Show(db.Model):
    __tablename__ = "show"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    price_min: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    price_max: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    performers: Mapped[list] = mapped_column(JSON, default=list)
    cta_text: Mapped[str] = mapped_column(String(60), default="Get Tickets")
    ticket_url: Mapped[str] = mapped_column(String(500), default="")
    poster_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    square_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    banner_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    promo_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    voice_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    palette_id: Mapped[int | None] = mapped_column(
        ForeignKey("palette.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    performances = relationship(
        "Performance",
        order_by="Performance.starts_at",
        cascade="all, delete-orphan",
        lazy="selectin",
        back_populates="show",
    )
    poster = relationship("Asset", foreign_keys=[poster_asset_id], lazy="joined")
    square = relationship("Asset", foreign_keys=[square_asset_id], lazy="joined")
    banner = relationship("Asset", foreign_keys=[banner_asset_id], lazy="joined")
    promo = relationship("Asset", foreign_keys=[promo_asset_id], lazy="joined")
    voice = relationship("Asset", foreign_keys=[voice_asset_id], lazy="joined")

    def slot_asset_id(self, slot: str) -> int | None:
        return getattr(self, f"{slot}_asset_id")

    def __repr__(self) -> str:
        return f"<Show {self.id} {self.title!r}>"


class Performance(db.Model):
    """One date of a show. Stored in UTC with the IANA zone it was entered in, so it is shown
    in the venue's local time whatever the viewer's zone."""

    __tablename__ = "performance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("show.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")

    show = relationship("Show", back_populates="performances")

    @property
    def local_start(self) -> datetime:
        from zoneinfo import ZoneInfo

        return self.starts_at.astimezone(ZoneInfo(self.timezone))
