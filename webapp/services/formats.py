"""Output formats for every door: built-in and admin presets, custom sizes, remembered choices.

`imaging.presets` knows the built-in presets and how to read ``ig-story`` / ``1600x900`` /
``4:5@1350``; this module adds what needs the app: the presets admins added (table
``format_preset``), the upload limits from the config, and each producer's remembered choice
(``User.format_prefs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select

from webapp.extensions import db
from webapp.imaging.geometry import OutputFormat
from webapp.imaging.presets import (
    BUILTIN_PRESETS,
    DEFAULT_FORMATS,
    MAX_FORMATS,
    MIN_SIDE,
    FormatSpecError,
    Preset,
    check_preset_name,
    format_title,
    parse_format_list,
    parse_format_spec,
)
from webapp.models import FormatPreset, User
from webapp.services import audit

__all__ = [
    "DEFAULT_FORMATS",
    "MAX_FORMATS",
    "FormatSpecError",
    "PresetError",
    "all_presets",
    "create_preset",
    "delete_preset",
    "grouped_presets",
    "limits",
    "remember",
    "remembered",
    "resolve",
    "resolve_list",
    "title_of",
]

FILLS = ("blur", "solid", "crop")
CUSTOM_PLATFORM = "Added by your admin"


class PresetError(ValueError):
    """An admin's new preset is refused; ``errors`` says which field and why."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))


def limits() -> tuple[int, int]:
    """Largest output width and height: the upload limits (what Marquee accepts, it can make)."""
    if not has_app_context():
        return 4000, 4000
    cfg = current_app.config
    return int(cfg.get("UPLOAD_MAX_WIDTH", 4000)), int(cfg.get("UPLOAD_MAX_HEIGHT", 4000))


def admin_presets() -> dict[str, Preset]:
    """Presets admins added, by name, oldest first."""
    rows = db.session.scalars(select(FormatPreset).order_by(FormatPreset.id)).all()
    return {r.name: Preset(r.name, r.width, r.height, r.label, r.platform) for r in rows}


def all_presets() -> dict[str, Preset]:
    """Built-in presets, then admin presets."""
    return {**BUILTIN_PRESETS, **admin_presets()}


def grouped_presets(presets: dict[str, Preset] | None = None) -> dict[str, list[Preset]]:
    """Presets by platform, in first-seen order (the upload form's fieldsets)."""
    groups: dict[str, list[Preset]] = {}
    for p in (presets or all_presets()).values():
        groups.setdefault(p.platform, []).append(p)
    return groups


def resolve(spec: object) -> OutputFormat:
    """One spec -> its format (built-in or admin preset, or a custom size within the limits)."""
    width, height = limits()
    return parse_format_spec(spec, extra=admin_presets(), max_width=width, max_height=height)


def resolve_list(specs: str | Iterable[object]) -> list[OutputFormat]:
    """Several specs (a list, or one comma-separated string) -> formats, duplicates dropped."""
    width, height = limits()
    return parse_format_list(specs, extra=admin_presets(), max_width=width, max_height=height)


def title_of(kind: str, presets: dict[str, Preset] | None = None) -> str:
    """'Instagram story 1080x1920' for 'ig-story', 'Custom 1600x900' for '1600x900'."""
    return format_title(kind, presets if presets is not None else admin_presets())


def is_format_kind(kind: str) -> bool:
    """True for a preset name or a custom size: a library/API filter value naming a format."""
    try:
        resolve(kind)
    except FormatSpecError:
        return False
    return True


# ------------------------------------------------------------------------------ remembered choice


def remembered(user: User) -> dict[str, Any]:
    """What the producer chose last time: {'formats': [...], 'custom': '1600x900', 'fills': {...}}.

    Names that no longer resolve (an admin preset deleted since) are dropped; with nothing left,
    today's three show formats."""
    prefs = getattr(user, "format_prefs", None)
    prefs = prefs if isinstance(prefs, dict) else {}
    presets = all_presets()
    names = [n for n in prefs.get("formats") or [] if isinstance(n, str) and n in presets]
    custom = prefs.get("custom") if isinstance(prefs.get("custom"), str) else ""
    fills = {k: v for k, v in (prefs.get("fills") or {}).items() if isinstance(k, str) and v in FILLS}
    if not names and not custom:
        names = list(DEFAULT_FORMATS)
    return {"formats": names, "custom": custom[:200], "fills": fills}


def remember(
    user: User, formats: Iterable[str], custom: str = "", fills: dict[str, str] | None = None
) -> None:
    """Store the producer's choice (the caller commits)."""
    user.format_prefs = {
        "formats": [str(n) for n in formats][:MAX_FORMATS],
        "custom": (custom or "")[:200],
        "fills": {str(k): v for k, v in (fills or {}).items() if v in FILLS},
    }


def remembered_request(user: User) -> tuple[tuple[str, ...], dict[str, str]]:
    """The remembered choice as an action's `formats` and `fills` (custom sizes included)."""
    prefs = remembered(user)
    custom = [c.strip() for c in prefs["custom"].replace(";", ",").split(",") if c.strip()]
    fills = {k: v for k, v in prefs["fills"].items() if k in prefs["formats"]}
    for spec in custom:
        fills[spec] = prefs["fills"].get("custom", "blur")
    return tuple(prefs["formats"] + custom), fills


# ------------------------------------------------------------------------------------ admin presets


def create_preset(admin: User, name: Any, label: Any, platform: Any, width: Any, height: Any) -> FormatPreset:
    """Validate and add a preset (audited). Raises PresetError with per-field messages."""
    errors: dict[str, list[str]] = {}
    name = name.strip().lower() if isinstance(name, str) else name
    problem = check_preset_name(name)
    if problem is None and db.session.scalar(select(FormatPreset.id).where(FormatPreset.name == name)):
        problem = f"“{name}” is already taken: choose another name."
    if problem:
        errors["name"] = [problem]
    label = label.strip() if isinstance(label, str) else ""
    if not label or len(label) > 60 or not label.isprintable():
        errors["label"] = ["Give a label of 1 to 60 characters, e.g. “TikTok cover”."]
    platform = (platform.strip() if isinstance(platform, str) else "") or CUSTOM_PLATFORM
    if len(platform) > 40 or not platform.isprintable():
        errors["platform"] = ["Give a platform of at most 40 characters, e.g. “TikTok”."]
    max_w, max_h = limits()
    for field, value, most in (("width", width, max_w), ("height", height, max_h)):
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_SIDE <= value <= most:
            errors[field] = [f"Give a whole number of pixels from {MIN_SIDE} to {most}."]
    if errors:
        raise PresetError(errors)
    row = FormatPreset(
        name=name, label=label, platform=platform, width=width, height=height, created_by_id=admin.id
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "format_preset.create",
        f"format_preset:{row.id}",
        {"name": name, "label": label, "platform": platform, "width": width, "height": height},
        actor=admin,
    )
    db.session.commit()
    return row


def delete_preset(admin: User, row: FormatPreset) -> None:
    """Remove an admin preset (audited). Images already made keep their kind and stay filterable."""
    audit.record(
        "format_preset.delete",
        f"format_preset:{row.id}",
        {"name": row.name, "width": row.width, "height": row.height},
        actor=admin,
    )
    db.session.delete(row)
    db.session.commit()


@dataclass(frozen=True)
class FormatChoice:
    """A format as a filter choice: value (the asset kind) and its title."""

    value: str
    title: str


def filter_choices(user: User) -> list[FormatChoice]:
    """Every format a library filter can offer this producer: all presets, then the custom sizes
    (and deleted admin presets) their images were made in."""
    from webapp.models import Asset

    presets = all_presets()
    choices = [FormatChoice(p.name, p.title) for p in presets.values()]
    made = db.session.scalars(
        select(Asset.kind)
        .where(Asset.owner_id == user.id, Asset.source == "autoformat")
        .distinct()
        .order_by(Asset.kind)
    ).all()
    for kind in made:
        if kind not in presets:
            choices.append(FormatChoice(kind, format_title(kind, presets)))
    return choices
