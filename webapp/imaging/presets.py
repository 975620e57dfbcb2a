"""Named output presets (shows and social platforms) and the parser for custom sizes.

Pure: no Flask, no database. The three show formats stay in ``geometry.FORMATS`` (show slots rely on
them); this module adds the social presets and turns what a producer types (``ig-story``,
``1600x900``, ``4:5@1350``) into an :class:`OutputFormat`. Admin-added presets come from the database
(``services.formats``) and are passed in as ``extra``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .geometry import FORMATS, OutputFormat

#: Smallest side of any output, in pixels (a thumbnail-sized "format" is a typo, not a format).
MIN_SIDE = 100
#: At most this many formats per request: each one is a full render and encode.
MAX_FORMATS = 12
#: A preset name: lowercase ASCII letters, digits and hyphens, starting with a letter.
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
#: Names that already mean something else as an asset kind, so no preset may take them.
RESERVED_NAMES = frozenset({"original", "generated", "edited", "video", "audio", "custom", "palette"})

# ASCII digits only: int() would also read other scripts' digits ("١٢٠٠").
_SIZE_RE = re.compile(r"^([0-9]{1,6}) *[x×] *([0-9]{1,6})$")
_RATIO_RE = re.compile(r"^([0-9]{1,4}) *: *([0-9]{1,4}) *@ *([0-9]{1,6})$")


@dataclass(frozen=True)
class Preset:
    """A named canvas with a human label and the platform it is for (the upload form groups by it)."""

    name: str
    width: int
    height: int
    label: str
    platform: str

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def title(self) -> str:
        """'Instagram story 1080x1920'."""
        return f"{self.label} {self.width}×{self.height}"

    def as_format(self) -> OutputFormat:
        return OutputFormat(self.name, self.width, self.height)


SHOWS = "Show formats"
INSTAGRAM = "Instagram"
FACEBOOK = "Facebook"
X_TWITTER = "X (Twitter)"

#: The built-in presets, in the order the upload form shows them. The first three are ``FORMATS``.
BUILTIN_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("poster", *FORMATS["poster"].size, "Poster", SHOWS),
        Preset("square", *FORMATS["square"].size, "Square", SHOWS),
        Preset("banner", *FORMATS["banner"].size, "Banner", SHOWS),
        Preset("ig-post", 1080, 1080, "Instagram post", INSTAGRAM),
        Preset("ig-portrait", 1080, 1350, "Instagram portrait", INSTAGRAM),
        Preset("ig-story", 1080, 1920, "Instagram story", INSTAGRAM),
        Preset("fb-event", 1920, 1005, "Facebook event cover", FACEBOOK),
        Preset("x-post", 1600, 900, "X/Twitter post", X_TWITTER),
    )
}

#: What a request gets when it names no formats: today's three show formats.
DEFAULT_FORMATS: tuple[str, ...] = tuple(FORMATS)


class FormatSpecError(ValueError):
    """A format the producer typed that is not a preset or an allowed size; ``message`` says what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def custom_name(width: int, height: int) -> str:
    """The name (and asset kind) of a custom size: '1600x900'."""
    return f"{width}x{height}"


def _hint(presets: Mapping[str, Preset], max_width: int, max_height: int) -> str:
    names = ", ".join(presets)
    return (
        f"Use a preset name ({names}) or WIDTHxHEIGHT between {MIN_SIDE}x{MIN_SIDE} and "
        f"{max_width}x{max_height} px (e.g. 1600x900), or an aspect ratio and long side (e.g. 4:5@1350)."
    )


def _check_size(spec: str, width: int, height: int, max_width: int, max_height: int, hint: str) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise FormatSpecError(f"“{spec}” is too small: each side needs at least {MIN_SIDE} px. {hint}")
    if width > max_width or height > max_height:
        raise FormatSpecError(f"“{spec}” is too large: the most is {max_width}x{max_height} px. {hint}")


def parse_format_spec(
    spec: object,
    *,
    extra: Mapping[str, Preset] | None = None,
    max_width: int = 4000,
    max_height: int = 4000,
) -> OutputFormat:
    """``'ig-story'`` -> the preset; ``'1600x900'`` -> a custom 1600x900; ``'4:5@1350'`` -> 1080x1350
    (aspect ratio, then the long side). Sizes must lie within ``MIN_SIDE`` and the upload limits.

    ``extra`` adds (admin) presets to the built-in ones. Raises :class:`FormatSpecError` with a message
    that lists what is accepted.
    """
    presets = {**BUILTIN_PRESETS, **(extra or {})}
    hint = _hint(presets, max_width, max_height)
    if not isinstance(spec, str):
        raise FormatSpecError(f"A format must be text. {hint}")
    text = spec.strip().lower()
    # Echoed back in the message: printable, bounded (a control or bidi character becomes "?").
    shown = "".join(c if (c.isprintable() and c.isascii()) or c == "×" else "?" for c in text[:40])
    if not text:
        raise FormatSpecError(f"The format is empty. {hint}")
    if len(text) > 40:
        raise FormatSpecError(f"“{shown}…” is not a format. {hint}")
    if text in presets:
        return presets[text].as_format()
    m = _SIZE_RE.fullmatch(text)
    if m:
        width, height = int(m.group(1)), int(m.group(2))
        _check_size(shown, width, height, max_width, max_height, hint)
        return OutputFormat(custom_name(width, height), width, height)
    m = _RATIO_RE.fullmatch(text)
    if m:
        rw, rh, long_side = (int(g) for g in m.groups())
        if rw < 1 or rh < 1:
            raise FormatSpecError(f"“{shown}” has a zero in its aspect ratio: use e.g. 4:5@1350. {hint}")
        if rw >= rh:
            width, height = long_side, max(1, round(long_side * rh / rw))
        else:
            width, height = max(1, round(long_side * rw / rh)), long_side
        _check_size(shown, width, height, max_width, max_height, hint)
        return OutputFormat(custom_name(width, height), width, height)
    raise FormatSpecError(f"“{shown}” is not a preset or a size. {hint}")


def parse_format_list(
    specs: str | Iterable[object],
    *,
    extra: Mapping[str, Preset] | None = None,
    max_width: int = 4000,
    max_height: int = 4000,
) -> list[OutputFormat]:
    """A comma-separated string or a list of specs -> formats, duplicates dropped, order kept.

    Raises :class:`FormatSpecError` naming the first bad entry (or an empty / too long list).
    """
    items = specs.split(",") if isinstance(specs, str) else list(specs)
    items = [s for s in items if not (isinstance(s, str) and not s.strip())]
    if not items:
        hint = _hint({**BUILTIN_PRESETS, **(extra or {})}, max_width, max_height)
        raise FormatSpecError(f"Choose at least one format. {hint}")
    out: dict[str, OutputFormat] = {}
    for spec in items:
        fmt = parse_format_spec(spec, extra=extra, max_width=max_width, max_height=max_height)
        out.setdefault(fmt.name, fmt)
    if len(out) > MAX_FORMATS:
        raise FormatSpecError(f"Choose at most {MAX_FORMATS} formats at once ({len(out)} were given).")
    return list(out.values())


def check_preset_name(name: object) -> str | None:
    """Why ``name`` cannot be a new preset's name, or None if it can."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        return (
            "Use 1 to 16 lowercase letters, digits and hyphens, starting with a letter (e.g. tiktok-cover)."
        )
    if name in BUILTIN_PRESETS or name in RESERVED_NAMES:
        return f"“{name}” is already taken: choose another name."
    if _SIZE_RE.fullmatch(name):
        return "A name cannot look like a size (WIDTHxHEIGHT): choose a word."
    return None


def format_title(name: str, presets: Mapping[str, Preset] | None = None) -> str:
    """A human title for a format name or asset kind: 'Instagram story 1080x1920', 'Custom 1600x900'."""
    preset = {**BUILTIN_PRESETS, **(presets or {})}.get(name)
    if preset is not None:
        return preset.title
    m = _SIZE_RE.fullmatch(name or "")
    if m:
        return f"Custom {m.group(1)}×{m.group(2)}"
    return (name or "").replace("-", " ").capitalize()


def format_label(name: str, presets: Mapping[str, Preset] | None = None) -> str:
    """A format's label without its size: 'Instagram story', 'Custom size', 'Poster'."""
    preset = {**BUILTIN_PRESETS, **(presets or {})}.get(name)
    if preset is not None:
        return preset.label
    if _SIZE_RE.fullmatch(name or ""):
        return "Custom size"
    return (name or "").replace("-", " ").capitalize()
