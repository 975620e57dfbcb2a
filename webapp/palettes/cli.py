"""`flask --app webapp palette IMAGE [--colors N] [--json] [--ignore-background]`.

Runs the same pure extraction, role assignment and contrast report as the web job, on a local file, with
no database: a designer can check an artwork's theme from a terminal or a script (--json).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from webapp.imaging.palette_limits import DEFAULT_COLORS, MAX_COLORS, MIN_COLORS


@click.command("palette")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--colors",
    "n_colors",
    type=click.IntRange(MIN_COLORS, MAX_COLORS),
    default=DEFAULT_COLORS,
    show_default=True,
    help="How many dominant colours to extract.",
)
@click.option("--ignore-background", is_flag=True, help="Leave out a plain white/black/transparent surround.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: colors, roles, adjustments, contrast.")
def palette_command(image: Path, n_colors: int, ignore_background: bool, as_json: bool) -> None:
    """Print IMAGE's dominant colours, theme roles and the WCAG contrast of every role pair."""
    from webapp.config import load_settings
    from webapp.imaging import ImageRejected, UploadLimits
    from webapp.imaging.palette import build_theme, extract_palette

    settings = load_settings()
    limits = UploadLimits(settings.upload_max_bytes, settings.upload_max_width, settings.upload_max_height)
    try:
        colours = extract_palette(
            image.read_bytes(), n_colors, ignore_background=ignore_background, limits=limits
        )
    except ImageRejected as exc:
        raise click.ClickException(f"{image}: {exc.message}") from exc
    theme = build_theme(colours)
    if as_json:
        click.echo(json.dumps(theme, indent=2))
        return
    click.echo(_table(theme))


def _table(theme: dict) -> str:
    """A plain-text report that lines up in any terminal (no colour codes: it is often piped)."""
    lines = ["Colours", f"  {'hex':<8} {'rgb':<15} {'hsl':<20} {'share':>6}"]
    for c in theme["colors"]:
        rgb = ",".join(str(v) for v in c["rgb"])
        h, s, light = c["hsl"]
        hsl = f"{h:.0f}°,{s:.0f}%,{light:.0f}%"
        lines.append(f"  {c['hex']:<8} {rgb:<15} {hsl:<20} {c['share'] * 100:5.1f}%")
    lines += ["", "Roles"]
    for role, hex_value in theme["roles"].items():
        adj = theme["adjustments"].get(role)
        if adj and adj.get("note"):
            note = f"  ({adj['note']})"
        elif adj:
            note = f"  (adjusted from {adj['from']}, ΔL {adj['delta_l']:+.2f})"
        else:
            note = "  (as extracted)"
        lines.append(f"  {role:<11} {hex_value}{note}")
    lines += ["", "Contrast (WCAG 2.x)", f"  {'pair':<24} {'ratio':>8} AA   AAA  AA-lg AAA-lg UI   required"]
    mark = {True: "pass", False: "fail"}
    for p in theme["contrast"]["pairs"]:
        need = f"{p['required']:g}:1 {'ok' if p['ok'] else 'FAIL'}" if p["required"] else ""
        lines.append(
            f"  {p['a'] + ' / ' + p['b']:<24} {p['ratio']:6.2f}:1 {mark[p['aa']]:<4} {mark[p['aaa']]:<4} "
            f"{mark[p['aa_large']]:<5} {mark[p['aaa_large']]:<6} {mark[p['ui']]:<4} {need}"
        )
    lines.append("")
    lines.append("All required checks pass." if theme["contrast"]["passes"] else "Required checks FAIL.")
    return "\n".join(lines)
