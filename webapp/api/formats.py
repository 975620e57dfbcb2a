"""API: the output formats (issue 17), and how auto-format requests name them.

`formats` is a list of preset names (`ig-story`, or one an admin added) and custom sizes (`1600x900`,
`4:5@1350`): a JSON array, or one comma-separated string (multipart forms may also repeat the field).
Fills are per format: `fills: {"ig-story": "crop"}` in JSON, `fill_<format>` fields in both.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from webapp.api.core import operation
from webapp.imaging.presets import MAX_FORMATS, MIN_SIDE
from webapp.services import formats as format_service
from webapp.services.actions import FILLS

FORMATS_FIELD = {
    "description": "Preset names (GET /formats) and custom sizes WIDTHxHEIGHT or W:H@LONGSIDE, "
    "as an array or one comma-separated string. Default: poster, square, banner.",
    "oneOf": [
        {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_FORMATS,
            "items": {"type": "string", "maxLength": 40},
        },
        {"type": "string", "maxLength": 500},
    ],
}
FILLS_FIELD = {
    "type": "object",
    "description": 'Fill per format name, e.g. {"ig-story": "crop"}.',
    "additionalProperties": {"type": "string", "enum": list(FILLS)},
}
PRESET = {
    "type": "object",
    "required": ["name", "label", "platform", "width", "height", "builtin"],
    "properties": {
        "name": {"type": "string"},
        "label": {"type": "string"},
        "platform": {"type": "string"},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "builtin": {"type": "boolean"},
    },
}


def formats_from(value: Any, errors: dict[str, list[str]]) -> tuple[str, ...] | None:
    """The `formats` input as a tuple of specs (validated later by the action), or None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(s.strip() for s in value.split(",") if s.strip()) or ("",)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value[: MAX_FORMATS * 2]) or ("",)
    errors["formats"] = ['Give a list of format names or sizes, e.g. ["ig-story", "1600x900"].']
    return None


def fills_from(
    pairs: dict[str, Any], formats: tuple[str, ...], errors: dict[str, list[str]]
) -> dict[str, str]:
    """Per-format fills: each value must be a fill; those for formats not asked for are ignored."""
    fills: dict[str, str] = {}
    chosen = {f.strip().lower() for f in formats}
    for name, fill in pairs.items():
        key = str(name)[:40]
        if not isinstance(fill, str) or fill not in FILLS:
            errors[f"fill_{key}"] = ["Choose blur, solid or crop."]
        elif key.strip().lower() in chosen:
            fills[key] = fill
    return fills


@operation(
    "GET",
    "/formats",
    summary="The output formats auto-format offers: built-in and admin presets, and custom size limits",
    tag="autoformat",
    responses={
        200: {
            "type": "object",
            "required": ["presets", "custom"],
            "properties": {
                "presets": {"type": "array", "items": PRESET},
                "custom": {"type": "object"},
            },
        }
    },
)
def list_formats():
    from webapp.imaging.presets import BUILTIN_PRESETS

    max_w, max_h = format_service.limits()
    presets = [
        {
            "name": p.name,
            "label": p.label,
            "platform": p.platform,
            "width": p.width,
            "height": p.height,
            "builtin": p.name in BUILTIN_PRESETS,
        }
        for p in format_service.all_presets().values()
    ]
    custom = {
        "min_side": MIN_SIDE,
        "max_width": max_w,
        "max_height": max_h,
        "max_formats": MAX_FORMATS,
        "examples": ["1600x900", "4:5@1350"],
    }
    return jsonify({"presets": presets, "custom": custom})
