"""SQLAlchemy models. Models never commit: the service that owns the transaction does."""

from webapp.models.asset import Asset, AssetColor, AssetKind, AssetSource, AssetStatus, MediaKind
from webapp.models.base import utcnow
from webapp.models.bulk import BulkBatch, BulkImage, BulkItem
from webapp.models.formats import FormatPreset
from webapp.models.housekeeping import StorageTombstone
from webapp.models.job import AllowanceReservation, Job, JobBatch, JobMode, JobStatus, ReservationState
from webapp.models.moderation import AppSetting
from webapp.models.money import (
    ApiToken,
    AuditEvent,
    Palette,
    PromptTemplate,
    Provider,
    ProviderSpend,
    UsageEvent,
    UserKey,
)
from webapp.models.show import MEDIA_SLOTS, SLOTS, Performance, Show
from webapp.models.user import Role, User

__all__ = [
    "MEDIA_SLOTS",
    "SLOTS",
    "AllowanceReservation",
    "ApiToken",
    "AppSetting",
    "Asset",
    "AssetColor",
    "AssetKind",
    "AssetSource",
    "AssetStatus",
    "AuditEvent",
    "BulkBatch",
    "BulkImage",
    "BulkItem",
    "FormatPreset",
    "Job",
    "JobBatch",
    "JobMode",
    "JobStatus",
    "MediaKind",
    "Palette",
    "Performance",
    "PromptTemplate",
    "Provider",
    "ProviderSpend",
    "ReservationState",
    "Role",
    "Show",
    "StorageTombstone",
    "UsageEvent",
    "User",
    "UserKey",
    "utcnow",
]
