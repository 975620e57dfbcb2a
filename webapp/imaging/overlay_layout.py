"""Where every line of the overlay goes: the layouts, the nudges, the safe area and type sizes.
PURE: fonts and arithmetic only, no pixels touched (tests check geometry on this alone).

Layouts (``OverlaySpec.position``): a bottom band, a top band, a centred stack, and a split with the title
at the top and the details at the bottom. A nudge moves the type in steps of 3 % of the height and scales
it in steps of 10 %; both are clamped so that nothing leaves the SAFE AREA: 5 % of each side of any
format (social crops and printers' trims eat the edge). Every text auto-fits its width: the largest size
that fits in a few balanced lines; a title that is still too long may break into more lines at a smaller
size; only past ``MAX_TITLE_CHARS`` (the show form's own limit) is it refused. The venue never drops below
``MIN_VENUE`` of the short side so it still reads on a phone-sized thumbnail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import fonts
from .fonts import Family
from .overlay_text import MAX_CHARS, settable

if TYPE_CHECKING:  # the spec lives in overlay.py, which imports this module
    from .overlay import OverlaySpec

ITEM_LABELS = {
    "custom": "Your own text",
    "title": "Title",
    "performers": "Performers",
    "date": "Dates and times",
    "venue": "Venue",
    "address": "Address",
    "price": "Price",
    "cta": "Button (call to action)",
}
POSITIONS = ("bottom", "top", "center", "split")
POSITION_LABELS = {
    "bottom": "Bottom band",
    "top": "Top band",
    "center": "Centred stack",
    "split": "Title top, details bottom",
}
NUDGES = (-2, -1, 0, 1, 2)
NUDGE_STEP = 0.03  # of the height, per vertical nudge step
SIZE_STEP = 1.1  # type scale per size nudge step
SAFE = 0.05  # safe margin on every side, of that side's length
MIN_VENUE = 0.022  # the venue's smallest size, of the short side


@dataclass(frozen=True)
class _Role:
    face: str  # "display" | "text" | "strong"
    size: float  # of min(width, height)
    floor: float
    lines: int
    caps: bool = False  # small capitals line: upper case + tracking when the family sets strong in caps


_ROLES = {
    "custom": _Role("strong", 0.028, 0.018, 2, caps=True),
    "title": _Role("display", 0.16, 0.05, 3),
    "performers": _Role("text", 0.046, 0.024, 2),
    "date": _Role("strong", 0.04, 0.024, 2),
    "venue": _Role("strong", 0.042, max(0.026, MIN_VENUE), 2),
    "address": _Role("text", 0.028, 0.018, 2),
    "price": _Role("strong", 0.04, 0.02, 1),
    "cta": _Role("strong", 0.032, 0.02, 1, caps=True),
}
#: A long title may take more, smaller lines before it is reported (shrink, then break, then refuse).
_LONG_TITLE = _Role("display", 0.16, 0.03, 6)
_TITLE_SIZE = {"poster": 0.16, "square": 0.13, "banner": 0.15}
# Space above each item, in units of the detail size; the venue's address hangs close under it.
_GAP_BEFORE = {"title": 0.55, "performers": 0.7, "date": 0.55, "venue": 0.5, "address": 0.15, "price": 0.9}


@dataclass(frozen=True)
class Line:
    """One line of type: left edge and baseline in canvas pixels; ``pill`` is the button box for the CTA."""

    item: str
    text: str
    font_file: str
    size: int
    x: int
    baseline: int
    width: int
    tracking: float = 0.0
    pill: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    kind: str
    align: str
    lines: tuple[Line, ...]
    block: tuple[int, int, int, int]
    fits: bool
    warnings: tuple[str, ...]
    safe: tuple[int, int, int, int] = (0, 0, 0, 0)
    refused: tuple[str, ...] = ()  # reasons saving must refuse (over a stated limit)


def kind_for(size: tuple[int, int]) -> str:
    """poster / square / banner from the aspect ratio: the overlay does not need to be told."""
    ratio = size[0] / size[1]
    return "poster" if ratio < 0.8 else "banner" if ratio > 1.4 else "square"


def safe_area(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box every glyph must stay inside: ``SAFE`` of each side in from the edge."""
    w, h = size
    return math.ceil(w * SAFE), math.ceil(h * SAFE), math.floor(w * (1 - SAFE)), math.floor(h * (1 - SAFE))


@dataclass
class _Set:
    item: str
    face: str
    lines: tuple[str, ...]
    size: int
    tracking: float
    fits: bool
    leading: float
    dropped: tuple[str, ...] = ()


def _typeset(spec: OverlaySpec, fam: Family, kind: str, unit: int, width: int, scale: float) -> list[_Set]:
    out = []
    for item, text in spec.visible():
        role = _ROLES[item]
        face, text, dropped = settable(getattr(fam, role.face), role.face, text)
        if not text:
            continue
        caps = (role.caps and fam.strong_upper) or (role.face == "display" and fam.display_upper)
        tracked = role.caps and fam.strong_upper
        if caps:
            text = text.upper()
        share = _TITLE_SIZE[kind] if item == "title" else role.size
        max_size = max(int(unit * share * scale), math.ceil(unit * role.floor))
        tracking_em = fam.tracking if tracked else 0.0
        room = width if item != "cta" else width * 0.8
        floor = math.ceil(unit * role.floor)
        fitted = fonts.fit(face, text, room, max_size, floor, role.lines, tracking_em)
        if not fitted.fits and item == "title":
            long = _LONG_TITLE
            fitted = fonts.fit(face, text, room, floor, math.ceil(unit * long.floor), long.lines, tracking_em)
        leading = fam.leading if role.face == "display" else 1.28
        out.append(
            _Set(
                item,
                face,
                fitted.lines,
                fitted.size,
                tracking_em * fitted.size,
                fitted.fits,
                leading,
                tuple(dropped),
            )
        )
    return out


def _metrics(face: str, size: int) -> tuple[int, int]:
    """(cap height, descender) in px: titles are stacked on cap height so caps-only faces sit tight."""
    font = fonts.load(face, size)
    cap = -font.getbbox("H", anchor="ls")[1]
    desc = font.getbbox("gjpqy", anchor="ls")[3]
    return cap, desc


def _warnings(spec: OverlaySpec, sets: list[_Set], over: bool) -> tuple[list[str], list[str]]:
    """(warnings for the page, refusals for saving)."""
    from .overlay_text import describe

    warnings, refused = [], []
    for item, text in spec.visible():
        limit = MAX_CHARS.get(item)
        if limit and len(text) > limit:
            label = ITEM_LABELS[item].lower()
            refused.append(
                f"The {label} is too long to fit: {len(text)} characters, and the limit is {limit}. "
                "Shorten it."
            )
    for s in sets:
        if s.dropped:
            warnings.append(
                f"The {ITEM_LABELS[s.item].lower()} has characters no bundled typeface can set: "
                f"{describe(list(s.dropped))}. They are left out; replace them with words."
            )
        if not s.fits:
            refused.append(
                f"The {ITEM_LABELS[s.item].lower()} is too long to fit even at the smallest size and was "
                "cut after the last whole word that fits. Shorten it."
            )
    if over:
        refused.append("Everything together does not fit in the space for text: switch some items off.")
    return warnings + refused, refused


def layout(spec: OverlaySpec, size: tuple[int, int]) -> Layout:
    """Where every line goes for the spec's layout and nudges."""
    width_px, height_px = size
    kind = kind_for(size)
    fam = fonts.family(spec.font)
    unit = min(width_px, height_px)
    safe = safe_area(size)
    margin_x = max(safe[0], round(width_px * (0.06 if kind == "banner" else 0.075)))
    margin_y = max(safe[1], round(height_px * (0.09 if kind == "banner" else 0.06)))
    align = "left" if kind == "banner" else "center"
    block_w = round(width_px * 0.52) if kind == "banner" else width_px - 2 * margin_x
    region = {"poster": 0.5, "square": 0.58, "banner": 0.82}[kind] * height_px
    if spec.position in ("center", "split"):
        region = max(region, 0.82 * height_px)
    detail = unit * _ROLES["price"].size
    boost = SIZE_STEP**spec.size_step

    scale = 1.0
    while True:
        sets = _typeset(spec, fam, kind, unit, block_w, scale * boost)
        groups = _groups(spec, sets, block_w, detail * max(scale, 0.7))
        total = sum(t for _, t in groups) + (detail * 1.5 if len(groups) > 1 else 0)
        if total <= region or scale <= 0.55:
            break
        scale = round(scale * 0.9, 3)
    warnings, refused = _warnings(spec, sets, total > region)
    tops = _place(spec.position, groups, size, margin_y, safe, spec.offset)
    lines = []
    for (rows, _), top in zip(groups, tops, strict=True):
        lines += _position_rows(rows, top, margin_x, block_w, align)
    block_top = min(tops, default=margin_y)
    block_bottom = max((top + t for (_, t), top in zip(groups, tops, strict=True)), default=margin_y)
    block = (margin_x, max(0, block_top), margin_x + block_w, min(height_px, round(block_bottom)))
    fits = all(s.fits for s in sets) and total <= region and not refused
    return Layout(size, kind, align, tuple(lines), block, fits, tuple(warnings), safe, tuple(refused))


def _groups(
    spec: OverlaySpec, sets: list[_Set], block_w: int, detail: float
) -> list[tuple[list[_Row], float]]:
    """One stacked group, or two for the split layout (the title and what precedes it, then the rest)."""
    if spec.position == "split" and any(s.item == "title" for s in sets):
        cut = next(i for i, s in enumerate(sets) if s.item == "title") + 1
        head, tail = sets[:cut], sets[cut:]
        return [g for g in (_stack(head, block_w, detail), _stack(tail, block_w, detail)) if g[0]]
    return [_stack(sets, block_w, detail)]


def _place(
    position: str,
    groups: list[tuple[list[_Row], float]],
    size: tuple[int, int],
    margin_y: int,
    safe: tuple[int, int, int, int],
    offset: int,
) -> list[int]:
    """Each group's top edge: the layout's place, moved by the nudge, clamped into the safe area
    (a little inside it, for accents above capitals)."""
    height_px = size[1]
    pad = round(height_px * 0.006)
    lo, hi = safe[1] + pad, safe[3] - pad
    totals = [t for _, t in groups]
    whole = sum(totals)
    if position == "split" and len(groups) == 2:
        wanted = [margin_y, height_px - margin_y - totals[1]]
    elif position == "top":
        wanted = [margin_y]
    elif position == "center":
        wanted = [(height_px - whole) / 2]
    else:
        wanted = [height_px - margin_y - whole]
    dy = offset * NUDGE_STEP * height_px
    return [round(min(max(top + dy, lo), max(lo, hi - t))) for top, t in zip(wanted, totals, strict=True)]


def _position_rows(rows: list[_Row], top: int, margin_x: int, block_w: int, align: str) -> list[Line]:
    lines = []
    for row in rows:
        row_x = margin_x + (round((block_w - row.width) / 2) if align == "center" else 0)
        for part in row.parts:
            pill = None
            if part.pill is not None:
                px0, py0, px1, py1 = part.pill
                pill = (row_x + px0, top + py0, row_x + px1, top + py1)
            lines.append(
                Line(
                    part.item,
                    part.text,
                    part.font_file,
                    part.size,
                    row_x + part.x,
                    top + part.baseline,
                    part.width,
                    part.tracking,
                    pill,
                )
            )
    return lines


@dataclass
class _Row:
    """One row of the block: its width, and lines with x relative to the row, y relative to the block."""

    width: int
    parts: list[Line]


def _stack(sets: list[_Set], block_w: int, detail: float) -> tuple[list[_Row], float]:
    rows: list[_Row] = []
    y = 0.0
    by_item = {s.item: s for s in sets}
    for s in sets:
        if s.item == "cta" and "price" in by_item:
            continue  # set together with the price
        if rows:
            y += detail * _GAP_BEFORE.get(s.item, 0.5)
        if s.item in ("price", "cta"):
            y = _ticket_rows(rows, by_item.get("price"), by_item.get("cta"), y, block_w, detail)
            continue
        cap, desc = _metrics(s.face, s.size)
        for n, text in enumerate(s.lines):
            y += cap if n == 0 else s.size * s.leading
            w = round(fonts.width(fonts.load(s.face, s.size), text, s.tracking))
            rows.append(_Row(w, [Line(s.item, text, s.face, s.size, 0, round(y), w, s.tracking)]))
        y += desc if any(ch.islower() for ch in "".join(s.lines)) else round(s.size * 0.06)
    return rows, y


def _ticket_rows(
    rows: list[_Row], price: _Set | None, cta: _Set | None, y: float, block_w: int, detail: float
) -> float:
    """The price and the button side by side when both fit on one row (a ticket line), else stacked.
    The gap keeps the price's measured box well clear of the button and its shadow."""
    price_line = None
    if price is not None and price.lines:
        pw = round(fonts.width(fonts.load(price.face, price.size), price.lines[0], price.tracking))
        price_line = Line("price", price.lines[0], price.face, price.size, 0, 0, pw, price.tracking)
    if cta is None or not cta.lines:
        if price_line is not None:
            cap, desc = _metrics(price_line.font_file, price_line.size)
            rows.append(_Row(price_line.width, [_moved(price_line, 0, round(y + cap))]))
            y += cap + desc
        return y
    font = fonts.load(cta.face, cta.size)
    label_w = round(fonts.width(font, cta.lines[0], cta.tracking))
    cap, _ = _metrics(cta.face, cta.size)
    pill_w, pill_h = label_w + round(2.4 * cta.size), cap + round(1.5 * cta.size)
    gap = round(detail * 1.2)
    together = price_line is not None and price_line.width + gap + pill_w <= block_w
    if price_line is not None and not together:
        pcap, pdesc = _metrics(price_line.font_file, price_line.size)
        rows.append(_Row(price_line.width, [_moved(price_line, 0, round(y + pcap))]))
        y += pcap + pdesc + detail * 0.8
    pill_x = price_line.width + gap if together and price_line is not None else 0
    top = round(y)
    base = round(top + (pill_h + cap) / 2)
    button = Line(
        "cta",
        cta.lines[0],
        cta.face,
        cta.size,
        pill_x + (pill_w - label_w) // 2,
        base,
        label_w,
        cta.tracking,
        (pill_x, top, pill_x + pill_w, top + pill_h),
    )
    parts = [_moved(price_line, 0, base), button] if together and price_line is not None else [button]
    rows.append(_Row(pill_x + pill_w, parts))
    return y + pill_h


def _moved(line: Line, x: int, baseline: int) -> Line:
    return Line(
        line.item, line.text, line.font_file, line.size, x, baseline, line.width, line.tracking, line.pill
    )
