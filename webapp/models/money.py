"""AI providers, keys, the usage ledger, budgets and the audit log.

Money columns are Numeric (exact decimals), never floats: a ledger that drifts by fractions of
a cent per image is wrong by dollars per month.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models.base import UTCDateTime, utcnow

MONEY = Numeric(12, 4)


class Provider(db.Model):
    """A provider the platform can pay for. The key is encrypted with the platform vault."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)  # registry name: openai | gemini | local …
    # free | budget | premium (services.pricing.TIERS gives the default; None means that default)
    tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Adapter options, e.g. {"routing": "fal-ai"} for Hugging Face.
    options: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    model: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    fallback_order: Mapped[int] = mapped_column(Integer, default=100)
    default_quality: Mapped[str] = mapped_column(String(16), default="medium")
    base_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    encrypted_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_suffix: Mapped[str | None] = mapped_column(String(8), nullable=True)
    images_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    user_images_per_hour: Mapped[int] = mapped_column(Integer, default=5)
    price_table: Mapped[dict] = mapped_column(JSON, default=dict)  # {model: {size: {quality: "0.05"}}}
    monthly_budget: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    alert_percent: Mapped[int] = mapped_column(Integer, default=80)
    alert_sent_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_test_message: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_tested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class UserKey(db.Model):
    """A producer's own provider key, encrypted with the user vault (a different key set)."""

    __tablename__ = "user_key"
    __table_args__ = (UniqueConstraint("owner_id", "provider", name="uq_user_key_owner_provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_suffix: Mapped[str] = mapped_column(String(8))
    use_own: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    last_validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_validation_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_validation_message: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProviderSpend(db.Model):
    """Reserved and settled spend of one provider in one month.

    Reservations are one conditional UPDATE (`... WHERE spent + reserved + :amount <= budget`), so
    concurrent requests can never push the month past its hard stop, on Postgres or SQLite.
    """

    __tablename__ = "provider_spend"
    __table_args__ = (UniqueConstraint("provider_id", "month", name="uq_provider_spend_provider_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11"
    reserved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    spent: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))


class UsageEvent(db.Model):
    """The ledger: one row per provider call, priced by the same table as the estimate."""

    __tablename__ = "usage_event"
    __table_args__ = (Index("ix_usage_event_created_provider", "created_at", "provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(16))  # generate | edit
    size: Mapped[str] = mapped_column(String(16))
    quality: Mapped[str] = mapped_column(String(16))
    images: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    key_owner: Mapped[str] = mapped_column(String(16))  # platform | user
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("job.id", ondelete="SET NULL"), nullable=True, index=True
    )
    outcome: Mapped[str] = mapped_column(String(24))  # success | blocked | rate_limited | unavailable | ...
    # The provider's tier when the call was made (None on rows from before tiers: see ledger.tier_of_event).
    tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who did what to a key or a setting, when, and from where. Never holds a secret."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Palette(db.Model):
    """Colours of an image and the theme built from them (roles with guaranteed contrast)."""

    __tablename__ = "palette"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    source_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), nullable=True, index=True
    )
    show_id: Mapped[int | None] = mapped_column(
        ForeignKey("show.id", ondelete="SET NULL", use_alter=True), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(120), default="")
    colors: Mapped[list] = mapped_column(JSON, default=list)
    roles: Mapped[dict] = mapped_column(JSON, default=dict)
    adjustments: Mapped[dict] = mapped_column(JSON, default=dict)
    contrast: Mapped[dict] = mapped_column(JSON, default=dict)
    is_custom: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), default="extracted", index=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PromptTemplate(db.Model):
    """Prompt starters per image type, editable by admins at /admin/templates."""

    __tablename__ = "prompt_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_type: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ApiToken(db.Model):
    """A personal access token for the JSON API. Only its SHA-256 is stored; the token itself is
    shown once. Tokens are 190 bits of randomness, so a plain hash (not a slow password hash) is
    the right tool: nothing to brute-force, and lookups stay O(1) by index."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(8))  # read | write | admin
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # None: never expires (read/write scope only; admin-scope tokens always have one).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or utcnow())
