"""The overlay's specification: which items, their texts, the type pairing, the layout and nudges, the
colours. Stored as JSON next to the clean image (Asset.provenance["overlay"]) and rendered on demand, so it
is built from untrusted input by ``OverlaySpec.from_dict``, which never raises. PURE."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import fonts
from .fonts import FAMILIES
from .overlay_layout import NUDGES, POSITIONS
from .overlay_text import HARD_CAP, MAX_CHARS, clean_text

ITEMS = ("custom", "title", "performers", "date", "venue", "address", "price", "cta")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


# --------------------------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class OverlaySpec:
    """What to write and how. ``color``/``accent`` are "#rrggbb" or "auto" (accent: the button's fill;
    auto means the text colour). ``position`` is the layout (``POSITIONS``); ``offset`` and
    ``size_step`` are the producer's nudges (-2..+2: down/up in 3 % steps, smaller/larger in 10 % steps).
    Build from untrusted input with ``from_dict``: it never raises."""

    texts: Mapping[str, str] = field(default_factory=dict)
    enabled: frozenset[str] = frozenset({"title", "date", "venue", "price", "cta"})
    font: str = fonts.DEFAULT_FAMILY
    position: str = "bottom"
    color: str = "auto"
    accent: str = "auto"
    offset: int = 0
    size_step: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> OverlaySpec:
        """A clean spec from JSON or form data: control characters stripped, lengths capped (the title
        only at a hard bound: a title over its limit is refused on save, never silently cut), unknown
        items, fonts, positions, nudges and colours replaced by defaults (a stored spec must always
        re-render)."""
        data = data or {}
        raw_texts = data.get("texts") or {}
        texts = {
            item: clean_text(
                str(raw_texts.get(item) or ""), HARD_CAP if item == "title" else MAX_CHARS.get(item, 200)
            )
            for item in ITEMS
            if isinstance(raw_texts, Mapping)
        }
        enabled_raw = data.get("enabled")
        enabled = (
            frozenset(i for i in enabled_raw if i in ITEMS)
            if isinstance(enabled_raw, list | tuple | set | frozenset)
            else cls.enabled
        )
        return cls(
            texts=texts,
            enabled=enabled,
            font=data.get("font") if data.get("font") in FAMILIES else fonts.DEFAULT_FAMILY,
            position=data.get("position") if data.get("position") in POSITIONS else "bottom",
            color=_color(data.get("color")),
            accent=_color(data.get("accent")),
            offset=_nudge(data.get("offset")),
            size_step=_nudge(data.get("size_step")),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; stored in Asset.provenance["overlay"] next to the clean image."""
        return {
            "version": 2,
            "texts": {i: self.texts.get(i, "") for i in ITEMS if self.texts.get(i)},
            "enabled": [i for i in ITEMS if i in self.enabled],
            "font": self.font,
            "position": self.position,
            "color": self.color,
            "accent": self.accent,
            "offset": self.offset,
            "size_step": self.size_step,
        }

    def visible(self) -> list[tuple[str, str]]:
        """(item, text) pairs that will be drawn, in reading order."""
        return [(i, self.texts.get(i, "").strip()) for i in ITEMS if i in self.enabled and self.texts.get(i)]


def _nudge(value: Any) -> int:
    try:
        step = int(str(value).strip()) if value not in (None, "") else 0
    except ValueError:
        return 0
    return step if step in NUDGES else 0


def _color(value: Any) -> str:
    return value.lower() if isinstance(value, str) and _HEX.fullmatch(value) else "auto"


def _rgb(hex_value: str) -> tuple[int, int, int]:
    return int(hex_value[1:3], 16), int(hex_value[3:5], 16), int(hex_value[5:7], 16)
