"""JSON API v1 under /api/v1: the same services, limits, budgets, audit and authorization as the
pages, exposed for scripts and the ticketing portal."""

from webapp.api import (  # noqa: F401  (they declare the operations)
    ai,
    describe,
    formats,
    keys_admin,
    media,
    openapi,
    palettes,
    providers_status,
    video,
    work,
)
from webapp.api.core import bp, register_error_handlers

__all__ = ["bp", "register_error_handlers"]
