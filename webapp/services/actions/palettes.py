"""The palette action: a palette from a library image or an upload."""

from __future__ import annotations

from typing import Any

from webapp.imaging import ImageRejected
from webapp.models import Job, Show, User
from webapp.services import jobs as job_service
from webapp.services import limits
from webapp.services.actions.core import (
    ActionError,
    ActionSpec,
    _register,
    owned,
    owned_image,
    require_feature,
)
from webapp.services.assets import ingest_upload

# --------------------------------------------------------------------------------- palettes


def extract_palette(
    user: User,
    asset_id: Any = None,
    *,
    upload: tuple[bytes, str | None] | None = None,
    n_colors: int = 6,
    ignore_background: bool = False,
    show_id: Any = None,
    idempotency_key: str | None = None,
) -> Job:
    """Extract a palette from an image in the library or from an upload (stored first)."""
    require_feature(user)
    show = owned(Show, show_id, user, "show") if show_id not in (None, "") else None
    asset = owned_image(asset_id, user) if upload is None else None
    if not isinstance(n_colors, int) or isinstance(n_colors, bool) or not 5 <= n_colors <= 8:
        raise ActionError("invalid", "Ask for 5 to 8 colours.", {"colors": ["5 to 8 colours."]})
    try:
        limits.check("palette", user)
        if upload is not None:
            try:
                asset = ingest_upload(user, upload[0], upload[1]).asset
            except ImageRejected as exc:
                raise ActionError("invalid", exc.message, {"file": [exc.message]}) from None
        payload = {
            "asset_id": asset.id,
            "n_colors": n_colors,
            "ignore_background": bool(ignore_background),
            "show_id": show.id if show is not None else None,
        }
        return job_service.start(
            user, "palette", payload, allowance=("palette", 1, None), idempotency_key=idempotency_key
        )
    except limits.LimitReached as exc:
        raise ActionError.from_limit(exc) from None


_register(
    ActionSpec(
        "extract_palette",
        ("feature", "ownership", "validation", "allowance"),
        ("web:palettes.create", "api:api.extract_palette"),
        "palette",
    )
)
