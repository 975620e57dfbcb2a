"""Server-side SVG charts for the admin usage page.

Why SVG from the server: the page must work without JavaScript and under a CSP that forbids inline
script and style, and the numbers are already in hand when the page renders. Every chart is a
self-contained `<svg role="img">` with a `<title>` and `<desc>` (read by screen readers), axis labels,
a legend, and a `<title>` per bar for pointer users. Colours are SVG presentation attributes
(`fill=`), not `style=`; text and grid lines use `currentColor` plus CSS classes from
static/css/features/admin.css so they follow the light/dark theme.

Pure functions: numbers in, `Markup` out. No Flask, no database.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

# Fixed colours per provider so a provider keeps its colour across charts and pages; chosen to be
# distinguishable for common colour-vision deficiencies and readable on light and dark surfaces.
SERIES_COLOURS = {
    "openai": "#0f766e",
    "gemini": "#2563eb",
    "local": "#a21caf",
    "runway": "#b45309",
    "huggingface": "#ca8a04",
}
EXTRA_COLOURS = ("#d97706", "#7c3aed", "#dc2626", "#4d7c0f", "#0891b2")
OWNER_COLOURS = {"platform": "#7c3aed", "own key": "#0f766e"}

_ids = itertools.count(1)

Number = Decimal | int | float


@dataclass(frozen=True)
class Layout:
    """Geometry of a bar chart in viewBox units (the SVG scales to its container's width)."""

    width: int = 720
    height: int = 280
    left: int = 64
    right: int = 16
    top: int = 40
    bottom: int = 44

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom


def colour_for(name: str, index: int) -> str:
    return SERIES_COLOURS.get(name) or EXTRA_COLOURS[index % len(EXTRA_COLOURS)]


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and evenly spaced round numbers (1, 2, 2.5, 5 x 10^k) whose last tick is >= maximum."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(i * step, 10) for i in range(round(top / step) + 1)]


def _fmt(value: float, money: bool) -> str:
    if money:
        return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _short_day(day: str) -> str:
    """'2026-11-03' -> '3 Nov' (axis labels must stay short)."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    try:
        _y, m, d = day.split("-")
        return f"{int(d)} {months[int(m) - 1]}"
    except (ValueError, IndexError):
        return day


def _open(title: str, desc: str, layout: Layout, cls: str) -> tuple[list[str], str]:
    uid = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart {cls}" viewBox="0 0 {layout.width} {layout.height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return parts, uid


def _legend(parts: list[str], names: Sequence[str], colours: Sequence[str], layout: Layout) -> None:
    x = layout.left
    for name, colour in zip(names, colours, strict=True):
        parts.append(f'<rect x="{x}" y="12" width="12" height="12" rx="2" fill="{colour}"/>')
        parts.append(f'<text class="chart__legend" x="{x + 18}" y="22">{escape(name)}</text>')
        x += 30 + 8 * len(name)


def _y_axis(parts: list[str], ticks: list[float], layout: Layout, money: bool, label: str) -> float:
    """Grid lines and labels; returns the value at the top of the plot."""
    top_value = ticks[-1] or 1.0
    for tick in ticks:
        y = layout.top + layout.plot_h * (1 - tick / top_value)
        parts.append(
            f'<line class="chart__grid" x1="{layout.left}" x2="{layout.width - layout.right}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.35 if tick == 0 else 0.12}"/>'
        )
        parts.append(
            f'<text class="chart__tick" x="{layout.left - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(tick, money))}</text>"
        )
    parts.append(
        f'<text class="chart__axis-label" transform="translate(14 {layout.top + layout.plot_h / 2:.0f}) '
        f'rotate(-90)" text-anchor="middle">{escape(label)}</text>'
    )
    return top_value


def _x_labels(parts: list[str], days: Sequence[str], layout: Layout) -> None:
    """A label every few days, spaced so labels (about 48 units wide) never overlap."""
    n = len(days)
    slot = layout.plot_w / n
    every = max(1, math.ceil(48 / slot))
    base = layout.top + layout.plot_h
    shown = [i for i in range(n) if i % every == 0]
    if shown[-1] != n - 1 and (n - 1 - shown[-1]) * slot >= 48:
        shown.append(n - 1)
    for i in shown:
        x = layout.left + slot * (i + 0.5)
        parts.append(
            f'<text class="chart__tick" x="{x:.1f}" y="{base + 18}" text-anchor="middle">'
            f"{escape(_short_day(days[i]))}</text>"
        )
    parts.append(
        f'<text class="chart__axis-label" x="{layout.left + layout.plot_w / 2:.0f}" '
        f'y="{layout.height - 4}" text-anchor="middle">Day (UTC)</text>'
    )


def stacked_bars(
    days: Sequence[str],
    series: dict[str, Sequence[Number]],
    *,
    title: str,
    desc: str,
    y_label: str,
    money: bool = False,
    layout: Layout | None = None,
) -> Markup:
    """One bar per day, stacked by series (provider). `series[name][i]` is the value on days[i]."""
    layout = layout or Layout()
    names = list(series)
    colours = [colour_for(n, i) for i, n in enumerate(names)]
    totals = [sum(float(series[n][i]) for n in names) for i in range(len(days))]
    parts, _ = _open(title, desc, layout, "chart--bars")
    _legend(parts, names, colours, layout)
    top_value = _y_axis(parts, nice_ticks(max(totals, default=0)), layout, money, y_label)
    n = max(1, len(days))
    slot = layout.plot_w / n
    bar_w = max(1.0, min(48.0, slot * 0.72))
    base = layout.top + layout.plot_h
    for i, day in enumerate(days):
        x = layout.left + slot * i + (slot - bar_w) / 2
        y = base
        for name, colour in zip(names, colours, strict=True):
            value = float(series[name][i])
            if value <= 0:
                continue
            h = layout.plot_h * value / top_value
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{max(h, 0.5):.1f}" '
                f'fill="{colour}">'
                f"<title>{escape(day)} · {escape(name)}: {escape(_fmt(value, money))}</title></rect>"
            )
    _x_labels(parts, days, layout)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def bars(
    days: Sequence[str],
    values: Sequence[Number],
    *,
    title: str,
    desc: str,
    y_label: str,
    name: str = "Images",
    colour: str = "#7c3aed",
    layout: Layout | None = None,
) -> Markup:
    """A single series of bars (images per day)."""
    return _single(days, values, title, desc, y_label, name, colour, layout or Layout())


def _single(
    days: Sequence[str],
    values: Sequence[Number],
    title: str,
    desc: str,
    y_label: str,
    name: str,
    colour: str,
    layout: Layout,
) -> Markup:
    parts, _ = _open(title, desc, layout, "chart--bars")
    _legend(parts, [name], [colour], layout)
    top_value = _y_axis(parts, nice_ticks(max((float(v) for v in values), default=0)), layout, False, y_label)
    n = max(1, len(days))
    slot = layout.plot_w / n
    bar_w = max(1.0, min(48.0, slot * 0.72))
    base = layout.top + layout.plot_h
    for i, day in enumerate(days):
        value = float(values[i])
        if value <= 0:
            continue
        h = layout.plot_h * value / top_value
        x = layout.left + slot * i + (slot - bar_w) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(day)}: {escape(_fmt(value, False))} {escape(name.lower())}</title></rect>"
        )
    _x_labels(parts, days, layout)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def share_bar(parts_in: Sequence[tuple[str, Number]], *, title: str, desc: str, money: bool = True) -> Markup:
    """One horizontal 100% bar split into labelled shares (platform vs own key)."""
    layout = Layout(width=400, height=96, left=0, right=0, top=52, bottom=8)
    total = sum(float(v) for _, v in parts_in)
    names = [n for n, _ in parts_in]
    colours = [OWNER_COLOURS.get(n) or colour_for(n, i) for i, n in enumerate(names)]
    out, _ = _open(title, desc, layout, "chart--share")
    x = 0.0
    legend_y = 2
    for (name, value), colour in zip(parts_in, colours, strict=True):
        share = float(value) / total if total else 0.0
        label = f"{name}: {_fmt(float(value), money)} ({share:.0%})"
        out.append(f'<rect x="0" y="{legend_y}" width="12" height="12" rx="2" fill="{colour}"/>')
        out.append(f'<text class="chart__legend" x="18" y="{legend_y + 10}">{escape(label)}</text>')
        legend_y += 20
        if share <= 0:
            continue
        w = layout.plot_w * share
        out.append(
            f'<rect x="{x:.1f}" y="{layout.top}" width="{w:.1f}" height="{layout.plot_h}" fill="{colour}">'
            f"<title>{escape(label)}</title></rect>"
        )
        x += w
    if not total:
        out.append(
            f'<rect class="chart__empty" x="0" y="{layout.top}" width="{layout.plot_w}" '
            f'height="{layout.plot_h}" fill="currentColor" fill-opacity="0.08"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text is escaped above
