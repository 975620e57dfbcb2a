"""The show's applied palette as the overlay's starting colours.

When a show has a palette applied, the studio overlay opens with the palette's text colour for the type and
its accent for the call-to-action button (the same roles the show's public preview uses for text and the
ticket button). The producer can still switch either back to Automatic or pick another colour; a spec
already saved on the image wins over the palette. The overlay keeps its contrast promise either way: a picked
colour gets a soft shade behind it wherever the picture would make it hard to read.
"""

from __future__ import annotations

import re

from webapp.extensions import db
from webapp.models import Palette, Show

_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def applied_palette(show: Show | None) -> Palette | None:
    """The palette applied to ``show`` (same owner), if any."""
    if show is None or not show.palette_id:
        return None
    palette = db.session.get(Palette, show.palette_id)
    if palette is None or palette.owner_id != show.owner_id:
        return None
    return palette


def overlay_colours(show: Show | None) -> dict[str, str]:
    """{"color": text hex, "accent": accent hex} from the show's applied palette ({} without one)."""
    palette = applied_palette(show)
    roles = (palette.roles or {}) if palette is not None else {}
    out: dict[str, str] = {}
    for field, role in (("color", "text"), ("accent", "accent")):
        value = roles.get(role)
        if isinstance(value, str) and _HEX.fullmatch(value):
            out[field] = value.lower()
    return out
