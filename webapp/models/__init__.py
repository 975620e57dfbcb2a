"""SQLAlchemy models. Models never commit: the service that owns the transaction does."""

from webapp.models.asset import Asset, AssetKind
from webapp.models.base import utcnow
from webapp.models.job import Job, JobMode, JobStatus
from webapp.models.user import Role, User

__all__ = ["Asset", "AssetKind", "Job", "JobMode", "JobStatus", "Role", "User", "utcnow"]
