"""Alt text, title, description and tags for every image (issue 17), and the file names built from them.

Without a vision provider the words are composed offline from what Marquee already knows about the
asset — its prompt, its show (title, venue, dates), its format, size and stored dominant colours — so
writing them costs nothing: no image is decoded. Such words carry ``described_by='offline'`` and the
asset page says so; a producer's edit sets ``'producer'`` and is never overwritten.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from webapp.extensions import db
from webapp.imaging.presets import format_label
from webapp.models import Asset, Show
from webapp.services.show_text import date_summary

ALT_MAX = 250
TITLE_MAX = 120
DESCRIPTION_MAX = 500
TAGS_MAX = 12
TAG_MAX = 30
SLUG_MAX = 80
OFFLINE = "offline"
PRODUCER = "producer"

#: A small set of plain colour names and an sRGB anchor for each; a colour is named by its nearest.
COLOR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "white": (245, 245, 245),
    "grey": (128, 128, 128),
    "red": (200, 30, 30),
    "orange": (240, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 150, 60),
    "teal": (0, 128, 128),
    "blue": (40, 90, 210),
    "navy": (20, 30, 90),
    "purple": (120, 50, 160),
    "pink": (240, 130, 180),
    "brown": (120, 70, 30),
    "beige": (220, 200, 160),
}

#: How each kind reads in a sentence. Kinds not listed (new presets) read as their own name.
KIND_WORDS: dict[str, str] = {
    "original": "image",
    "poster": "poster",
    "square": "square image",
    "banner": "banner",
    "generated": "artwork",
    "edited": "artwork with show details",
}

#: Kinds whose name is not worth repeating in a file name.
_PLAIN_KINDS = {"original", "generated", "edited"}

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "to",
        "from",
        "by",
        "is",
        "are",
        "be",
        "as",
        "into",
        "over",
        "under",
        "this",
        "that",
        "its",
        "it",
        "very",
        "some",
        "style",
        "photo",
        "image",
        "picture",
        "poster",
        "show",
    ]
)


class DescriptionError(ValueError):
    """The producer's words do not fit; `errors` maps each field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def color_name(hex_color: str) -> str | None:
    """'#1a2b8c' -> 'navy': the nearest of a dozen everyday names (None if not a colour)."""
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", hex_color or "")
    if not m:
        return None
    r, g, b = (int(m.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    rgb = (r, g, b)
    return min(COLOR_NAMES, key=lambda n: sum((x - y) ** 2 for x, y in zip(rgb, COLOR_NAMES[n], strict=True)))


def dominant_color_names(asset: Asset, limit: int = 2) -> list[str]:
    """The names of the asset's most dominant stored colours, most covering first, without repeats."""
    colors = sorted(asset.dominant_colors or [], key=lambda c: -(c.get("share") or 0))
    names: list[str] = []
    for c in colors:
        name = color_name(c.get("hex", ""))
        if name and name not in names:
            names.append(name)
        if len(names) == limit:
            break
    return names


def clip(text: str, limit: int) -> str:
    """``text`` on one line and at most ``limit`` characters, cut at a word with "…" when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


def _prompt_subject(prompt: str | None) -> str:
    """The prompt's first sentence, as a subject ('A saxophone in blue neon')."""
    if not prompt:
        return ""
    first = re.split(r"(?<=[.!?])\s|\n", prompt.strip(), maxsplit=1)[0].rstrip(".!? ")
    return first[:1].upper() + first[1:]


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]{3,}", text.lower()) if w not in _STOP]


def _tag(text: str) -> str:
    return " ".join(text.lower().split())[:TAG_MAX].strip()


def compose_offline(asset: Asset, show: Show | None) -> dict[str, Any]:
    """The four fields composed from known facts only (pure: no queries, no image decode)."""
    kind_word = KIND_WORDS.get(asset.kind) or format_label(asset.kind)  # "Instagram story", "Custom size"
    colors = dominant_color_names(asset)
    subject = _prompt_subject(asset.prompt)
    venue = (show.venue_name or "").strip() if show is not None else ""
    dates = date_summary(show) if show is not None else ""
    if show is not None:
        title = show.title + (f", {venue}" if venue else "")
    elif subject:
        title = subject
    else:
        stem = asset.filename.rsplit(".", 1)[0]
        title = re.sub(r"[-_]+", " ", stem).strip().capitalize() or "Untitled image"
    what = kind_word[:1].upper() + kind_word[1:]
    if show is not None:
        what += f" for {show.title}" + (f" at {venue}" if venue else "")
    alt = what + (f": {subject}" if subject else "")
    if colors:
        alt += f". Mostly {' and '.join(colors)}"
    alt += "."
    orientation = (
        "square"
        if asset.width == asset.height
        else ("portrait" if asset.height > asset.width else "landscape")
    )
    desc = f"{what} ({asset.width}×{asset.height}, {orientation})"
    if dates and show is not None:
        desc += f", {dates}"
    desc += "."
    if asset.prompt:
        desc += f" Made from the prompt “{clip(asset.prompt, 240)}”."
    if colors:
        desc += f" Dominant colours: {' and '.join(colors)}."
    tags: list[str] = []
    candidates = [asset.kind, orientation, *colors]
    if asset.source == "ai":
        candidates.append("ai generated")
    if show is not None:
        candidates += [show.title, venue]
    candidates += _words(asset.prompt or "")[:6]
    for c in candidates:
        t = _tag(c)
        if t and t not in tags:
            tags.append(t)
    return {
        "alt_text": clip(alt, ALT_MAX),
        "title": clip(title, TITLE_MAX),
        "description": clip(desc, DESCRIPTION_MAX),
        "tags": tags[:TAGS_MAX],
    }


def describe_new(asset: Asset) -> None:
    """Write offline words on a not-yet-committed image asset (no-op for video/audio or if described).

    Called where assets are committed (services.assets, the job runner), so every new image has
    alt text from the start. Only the show row is read (and only when the asset has one)."""
    if not asset.is_image or asset.described_by:
        return
    show = db.session.get(Show, asset.show_id) if asset.show_id else None
    for key, value in compose_offline(asset, show).items():
        setattr(asset, key, value)
    asset.described_by = OFFLINE


def ensure_described(assets: Iterable[Asset | None]) -> None:
    """Backfill images stored before issue 17 the first time they are shown.

    A fixed number of statements however many images a page shows (the gallery promises that): one
    query for their shows (only if any has one) and one executemany UPDATE, in its own short
    transaction so the caller's loaded objects are not expired (and re-read one by one); the words
    are then set on those objects as already stored. A producer's edit made meanwhile wins."""
    todo = [a for a in assets if a is not None and a.id is not None and a.is_image and not a.described_by]
    if not todo:
        return
    show_ids = {a.show_id for a in todo if a.show_id}
    shows = (
        {s.id: s for s in db.session.scalars(select(Show).where(Show.id.in_(show_ids)))} if show_ids else {}
    )
    rows = []
    for a in todo:
        words = {**compose_offline(a, shows.get(a.show_id)), "described_by": OFFLINE}
        rows.append({"_id": a.id, **words})
        for key, value in words.items():
            set_committed_value(a, key, value)
    table = Asset.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.described_by.is_(None))
        .values({k: bindparam(k) for k in ("alt_text", "title", "description", "tags", "described_by")})
    )
    with db.engine.begin() as conn:
        conn.execute(stmt, rows)


def parse_tags(raw: str | list[str] | None) -> list[str]:
    """'Jazz, Blue Room' or ['Jazz', 'Blue Room'] -> ['jazz', 'blue room'] (order kept, no repeats)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    tags: list[str] = []
    for item in items:
        t = " ".join(str(item).lower().split())
        if t and t not in tags:
            tags.append(t)
    return tags


def validate_description(data: dict[str, Any]) -> dict[str, Any]:
    """Check a producer's edit; return the cleaned fields present in `data`. Raises DescriptionError."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, limit, label in (
        ("alt_text", ALT_MAX, "Alt text"),
        ("title", TITLE_MAX, "Title"),
        ("description", DESCRIPTION_MAX, "Description"),
    ):
        if key not in data:
            continue
        value = data[key]
        if value is not None and not isinstance(value, str):
            errors[key] = f"{label} must be text."
            continue
        value = " ".join((value or "").split()) if key != "description" else (value or "").strip()
        if len(value) > limit:
            errors[key] = f"{label} is {len(value)} characters; shorten it to {limit} or fewer."
        clean[key] = value or None
    if "alt_text" in clean and not clean["alt_text"]:
        errors["alt_text"] = "Write alt text: say what the image shows, for people who cannot see it."
    if "tags" in data:
        raw = data["tags"]
        if raw is not None and not isinstance(raw, str | list):
            errors["tags"] = "Tags must be a list of words (or comma-separated text)."
        else:
            tags = parse_tags(raw)
            if len(tags) > TAGS_MAX:
                errors["tags"] = f"{len(tags)} tags given; keep {TAGS_MAX} or fewer."
            elif any(len(t) > TAG_MAX for t in tags):
                errors["tags"] = f"Each tag must be {TAG_MAX} characters or fewer."
            clean["tags"] = tags
    if errors:
        raise DescriptionError(errors)
    return clean


def update_description(asset: Asset, data: dict[str, Any]) -> Asset:
    """Apply a producer's edit (validated first: nothing is written on an error) and commit."""
    clean = validate_description(data)
    for key, value in clean.items():
        setattr(asset, key, value)
    asset.described_by = PRODUCER
    db.session.commit()
    return asset


def slugify(text: str | None, limit: int = SLUG_MAX) -> str:
    """'Café Müller — Ünïcödé 🎷' -> 'cafe-muller-unicode': ASCII, lowercase, hyphens, ≤ limit."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] if "-" in slug[:limit] else slug[:limit]
    return slug.strip("-")


def download_filename(asset: Asset) -> str:
    """The search-friendly name a download gets: title slug + format + extension
    ('midnight-jazz-blue-room-poster.jpg'); the stored file name's stem when there is no title."""
    suffix = "" if asset.kind in _PLAIN_KINDS or not asset.is_image else slugify(asset.kind, 20)
    room = SLUG_MAX - (len(suffix) + 1 if suffix else 0)
    base = slugify(asset.title, room) or slugify(asset.filename.rsplit(".", 1)[0], room) or "marquee"
    if suffix and not base.endswith(suffix):
        base = f"{base}-{suffix}"
    return f"{base[:SLUG_MAX]}.{asset.extension}"
