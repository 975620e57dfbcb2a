"""Theme roles from a palette, with legible contrast; the WCAG report; colour-vision previews.

Why it works this way:

* **Roles** (primary, secondary, accent, background, text) are picked from the extracted colours with rules
  a designer would use, and the two pairs people read are *guaranteed*: text on background >= 4.5:1 (WCAG AA
  body text) and accent on background >= 3:1 (WCAG non-text contrast). Every role is a real colour of the
  artwork. Primary and background are never altered (the brand colour, and the page the artwork gives);
  when no colour meets a rule, the closest one is moved in lightness only (hue and chroma kept in CIELCh
  where the sRGB gamut allows, chroma reduced where it does not) by the smallest lightness step that
  passes, found by binary search on a 0.01 L* grid. Each change is recorded with how far it went (CIEDE2000
  and L*) and why (the ratio before and after), so the palette page can say "darkened from ... by ΔE 9 to
  reach 4.5:1".
* **Colour-vision previews** use Machado, Oliveira & Fernandes (2009) matrices at severity 1.0, applied to
  linear RGB as the paper prescribes.

Pure: numbers in, dataclasses and dicts out. No Flask, no database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .color import (
    _compand,
    _linearize,
    contrast_ratio,
    delta_e_ciede2000,
    hex_to_rgb,
    lab_to_srgb,
    rgb_to_hex,
    srgb_to_lab,
)
from .palette_color import PaletteColor
from .palette_limits import ROLES

#: Below this CIEDE2000 two colours count as the same (secondary must differ from primary by this much).
MERGE_DELTA_E = 6.0
#: A colour needs at least this chroma (C*ab) to be a brand colour (primary/accent) rather than a neutral.
SATURATED_CHROMA = 20.0
#: Palette colours at least this light (L*) / at most this dark can serve as a page background as they are.
LIGHT_BACKGROUND_L, DARK_BACKGROUND_L = 90.0, 15.0
#: Background made from the primary when the palette has no other colour at all (one-colour artwork).
TINT_L, TINT_MAX_CHROMA, SHADE_L, SHADE_MAX_CHROMA = 96.0, 8.0, 12.0, 12.0

#: The pairs a theme must pass, and the minimum ratio: (foreground, background, ratio).
REQUIRED = (("text", "background", 4.5), ("accent", "background", 3.0))
#: WCAG 2.x thresholds reported for every pair.
VERDICTS = {"aa": 4.5, "aaa": 7.0, "aa_large": 3.0, "aaa_large": 4.5, "ui": 3.0}
#: Search resolution for lightness adjustments (L* units).
L_STEP = 0.01

# Machado, Oliveira & Fernandes 2009, "A Physiologically-based Model for Simulation of Color Vision
# Deficiency", severity 1.0 (dichromacy). They act on linear RGB.
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}


# ----------------------------------------------------------------------------------------------------------
# Lightness adjustment in CIELCh


def _lab_of(hex_value: str) -> np.ndarray:
    return srgb_to_lab(np.array(hex_to_rgb(hex_value), dtype=np.uint8))


def _in_gamut_hex(lightness: float, chroma: float, hue: float) -> str:
    """The colour at (L, C, h) as hex; where it is outside sRGB, the largest in-gamut chroma at that L and h.

    Chroma is searched on 64 steps at once (one vectorised conversion); an 8-bit round trip within 1.5 dE76
    counts as in gamut (8-bit rounding alone is below ~0.7), provided the lightness itself lands within
    0.75 L*: near white or black the clipped colour can be 1.5 dE away almost all in L*, and the shift
    reported to the producer ("L* +5") must be the shift they get.
    """
    lightness = min(max(lightness, 0.0), 100.0)
    fractions = np.linspace(1.0, 0.0, 65)
    c = chroma * fractions
    lab = np.stack([np.full_like(c, lightness), c * math.cos(hue), c * math.sin(hue)], axis=1)
    rgb = lab_to_srgb(lab)
    back = srgb_to_lab(rgb)
    ok = (np.linalg.norm(back - lab, axis=1) < 1.5) & (np.abs(back[:, 0] - lab[:, 0]) < 0.75)
    index = int(np.argmax(ok)) if ok.any() else len(fractions) - 1
    return rgb_to_hex(rgb[index])


def shift_lightness(hex_value: str, delta_l: float) -> str:
    """``hex_value`` with its CIELAB lightness moved by ``delta_l``, hue and chroma kept where possible."""
    lab = _lab_of(hex_value)
    if delta_l == 0:
        return rgb_to_hex(hex_to_rgb(hex_value))
    chroma = math.hypot(lab[1], lab[2])
    hue = math.atan2(lab[2], lab[1])
    return _in_gamut_hex(float(lab[0]) + delta_l, chroma, hue)


@dataclass(frozen=True)
class Adjustment:
    """A role colour that had to move to pass its contrast rule: from -> to, by how much, and why.

    ``against`` is the colour it must contrast with and ``needed`` the WCAG ratio it must reach (both
    ``None`` for the one-colour fallback background, which is a tint or shade rather than a fix).
    """

    original: str
    adjusted: str
    delta_l: float
    against: str | None = None
    needed: float | None = None

    @property
    def delta_e(self) -> float:
        """CIEDE2000 between the extracted and the used colour: how far the role moved, as people see it."""
        return float(delta_e_ciede2000(_lab_of(self.original), _lab_of(self.adjusted)))

    def note(self) -> str:
        """One sentence for the page and the CLI: "darkened from #4a4040 by ΔE 9.1 to reach 4.5:1 ..."."""
        if self.against is None or self.needed is None:
            shade = "tint" if self.delta_l > 0 else "shade"
            return (
                f"a {shade} of the primary {self.original} (ΔE {self.delta_e:.1f}): the artwork has no "
                "other colour to use as a page"
            )
        if self.original == self.adjusted:
            return f"as extracted ({contrast_ratio(self.original, self.against):.2f}:1)"
        verb = "darkened" if self.delta_l < 0 else "lightened"
        before = math.floor(contrast_ratio(self.original, self.against) * 100) / 100
        after = math.floor(contrast_ratio(self.adjusted, self.against) * 100) / 100
        return (
            f"{verb} from {self.original} by ΔE {self.delta_e:.1f} (L* {self.delta_l:+.2f}) to reach "
            f"{self.needed:g}:1 on {self.against} ({before:.2f}:1 before, {after:.2f}:1 now)"
        )

    def as_dict(self) -> dict[str, Any]:
        """Stored in ``Palette.adjustments`` and printed by the CLI; ``from``/``to``/``delta_l`` are the
        original keys (kept for compatibility), the rest say how far and why."""
        out: dict[str, Any] = {"from": self.original, "to": self.adjusted, "delta_l": round(self.delta_l, 2)}
        out["delta_e"] = round(self.delta_e, 2)
        if self.against is not None and self.needed is not None:
            out.update(
                against=self.against,
                needed=self.needed,
                ratio_from=math.floor(contrast_ratio(self.original, self.against) * 100) / 100,
                ratio_to=math.floor(contrast_ratio(self.adjusted, self.against) * 100) / 100,
            )
        out["note"] = self.note()
        return out


def min_lightness_shift(hex_value: str, against: str, ratio: float) -> Adjustment | None:
    """Smallest L* change (on the :data:`L_STEP` grid) that gives ``ratio`` against ``against``.

    Both directions are tried (darker and lighter); the smaller passing change wins. ``None`` only when
    neither black nor white reaches the ratio (never for ratios up to 4.58, the best a mid grey allows).
    Binary search keeps "step k passes, step k-1 fails", so no smaller change on the grid passes next to
    the answer, whatever 8-bit rounding does to monotonicity.
    """
    original = rgb_to_hex(hex_to_rgb(hex_value))
    if contrast_ratio(original, against) >= ratio:
        return Adjustment(original, original, 0.0, against, ratio)
    start = float(_lab_of(original)[0])
    best: Adjustment | None = None
    for sign, room in ((-1.0, start), (1.0, 100.0 - start)):
        top = math.ceil(room / L_STEP)
        if top <= 0 or contrast_ratio(shift_lightness(original, sign * top * L_STEP), against) < ratio:
            continue
        lo, hi = 0, top  # lo fails, hi passes
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if contrast_ratio(shift_lightness(original, sign * mid * L_STEP), against) >= ratio:
                hi = mid
            else:
                lo = mid
        delta = round(sign * hi * L_STEP, 2)
        if best is None or abs(delta) < abs(best.delta_l):
            best = Adjustment(original, shift_lightness(original, delta), delta, against, ratio)
    return best


# ----------------------------------------------------------------------------------------------------------
# Roles


@dataclass(frozen=True)
class Theme:
    """Role -> hex, plus the adjustments made to reach the contrast rules (role -> Adjustment)."""

    roles: dict[str, str]
    adjustments: dict[str, Adjustment]

    def adjustments_dict(self) -> dict[str, dict[str, Any]]:
        return {role: adj.as_dict() for role, adj in self.adjustments.items()}


def _colours(colors: Iterable[PaletteColor | Mapping[str, Any] | str]) -> list[PaletteColor]:
    out = []
    for c in colors:
        if isinstance(c, PaletteColor):
            out.append(c)
        elif isinstance(c, str):
            out.append(PaletteColor.from_hex(c))
        else:
            out.append(PaletteColor.from_hex(c["hex"], float(c.get("share", 0.0))))
    return out


def _distinct(a: PaletteColor, b: PaletteColor) -> bool:
    return float(delta_e_ciede2000(a.lab, b.lab)) >= MERGE_DELTA_E


def _pick_background(colours: list[PaletteColor], primary: PaletteColor) -> tuple[str, Adjustment | None]:
    """A real colour of the artwork, unchanged: the most prominent very light (L* >= 90) or very dark
    (L* <= 15) one, else the one whose lightness is furthest from mid-grey (the lightest or darkest the
    artwork has, so text and accent need the least adjusting). Only a one-colour artwork gets a tint or
    shade of its primary, since the page cannot be the same colour as everything on it."""
    others = [c for c in colours if c is not primary]
    for c in others:  # by prominence
        if c.lab[0] >= LIGHT_BACKGROUND_L or c.lab[0] <= DARK_BACKGROUND_L:
            return c.hex, None
    if others:
        return max(others, key=lambda c: (abs(c.lab[0] - 50.0), -c.chroma, c.share)).hex, None
    hue = math.atan2(primary.lab[2], primary.lab[1])
    tint = _in_gamut_hex(TINT_L, min(primary.chroma, TINT_MAX_CHROMA), hue)
    shade = _in_gamut_hex(SHADE_L, min(primary.chroma, SHADE_MAX_CHROMA), hue)
    # Whichever sets the brand colour off better: a light page for a dark primary and vice versa.
    chosen = tint if contrast_ratio(primary.hex, tint) >= contrast_ratio(primary.hex, shade) else shade
    return chosen, Adjustment(primary.hex, chosen, round(float(_lab_of(chosen)[0]) - primary.lab[0], 2))


def _fit(candidates: list[PaletteColor], background: str, ratio: float) -> tuple[str, Adjustment | None]:
    """The first candidate (caller's preference order) passing ``ratio`` on ``background`` as it is; else
    the candidate that needs the smallest change (CIEDE2000) to pass, changed by exactly that much."""
    for c in candidates:
        if contrast_ratio(c.hex, background) >= ratio:
            return c.hex, None
    options = [a for a in (min_lightness_shift(c.hex, background, ratio) for c in candidates) if a]
    if not options:  # unreachable for ratio <= 4.58 (black or white always passes); keep a safe answer
        black_wins = contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background)
        colour = "#000000" if black_wins else "#ffffff"
        return colour, Adjustment(candidates[0].hex, colour, 0.0, background, ratio)
    best = min(options, key=lambda a: (round(a.delta_e, 6), abs(a.delta_l)))
    return best.adjusted, best


def assign_roles(colors: Sequence[PaletteColor | Mapping[str, Any] | str]) -> Theme:
    """Primary, secondary, accent, background and text from extracted colours (most prominent first).

    * primary: the most prominent colour with chroma >= SATURATED_CHROMA (else the most prominent), exact.
    * background: the most prominent very light (L* >= 90) or very dark (L* <= 15) colour, else the
      colour furthest from mid-grey in lightness, unchanged (a tint or shade of the primary only when the
      artwork has a single colour).
    * text: the most neutral colour (the primary included) reaching 4.5:1 on the background; else the one
      needing the smallest change (CIEDE2000, lightness only), changed by exactly that much.
    * secondary: the most prominent saturated colour left that is distinct from the primary (else any
      colour left); no contrast rule, it decorates.
    * accent: of the saturated colours left (else any left, else the primary), the most saturated reaching
      3:1 on the background; else the one needing the smallest change, changed by exactly that much.
    """
    colours = _colours(colors)
    if not colours:
        raise ValueError("A palette needs at least one colour.")
    saturated = [c for c in colours if c.chroma >= SATURATED_CHROMA]
    primary = saturated[0] if saturated else colours[0]
    adjustments: dict[str, Adjustment] = {}

    background, bg_adj = _pick_background(colours, primary)
    if bg_adj:
        adjustments["background"] = bg_adj
    rest = [c for c in colours if c is not primary and c.hex != background]

    # The primary may carry text too (navy headings on cream are a classic), so it is a candidate as well.
    by_neutrality = sorted([*rest, primary], key=lambda c: (c.chroma, -c.share))
    text, text_adj = _fit(by_neutrality, background, 4.5)
    if text_adj and text_adj.delta_l:
        adjustments["text"] = text_adj
    text_source = text_adj.original if text_adj else text

    pool = [c for c in rest if c.hex != text_source]
    vivid = [c for c in pool if c.chroma >= SATURATED_CHROMA]
    secondary = next(
        iter(
            [c for c in vivid if _distinct(c, primary)] or [c for c in pool if _distinct(c, primary)] or pool
        ),
        None,
    ) or (rest[0] if rest else primary)

    # An accent has to pop: the saturated leftovers if there are any, adjusted before a dull one is taken.
    leftovers = [c for c in pool if c is not secondary]
    accent_pool = [c for c in leftovers if c.chroma >= SATURATED_CHROMA] or leftovers or [primary]
    by_chroma = sorted(accent_pool, key=lambda c: (-c.chroma, -c.share))
    accent, accent_adj = _fit(by_chroma, background, 3.0)
    if accent_adj and accent_adj.delta_l:
        adjustments["accent"] = accent_adj

    roles = {
        "primary": primary.hex,
        "secondary": secondary.hex,
        "accent": accent,
        "background": background,
        "text": text,
    }
    return Theme(roles, adjustments)


# ----------------------------------------------------------------------------------------------------------
# Contrast report


def contrast_report(roles: Mapping[str, str]) -> dict[str, Any]:
    """Every pair of roles with its WCAG ratio and verdicts, and whether the required pairs pass.

    ``pairs``: [{"a", "b", "ratio" (2 places), "aa", "aaa", "aa_large", "aaa_large", "ui",
    "required" (minimum or None), "ok" (None when not required)}]; ``failures``: the required pairs that
    miss, as "text on background"; ``passes``: no failures. Verdicts use the exact ratio, never the
    rounded one (the printed ratio is truncated, so a failing 4.499 never reads "4.50").
    """
    required = {(a, b): r for a, b, r in REQUIRED}
    present = [r for r in ROLES if r in roles] + [r for r in roles if r not in ROLES]
    pairs = []
    failures = []
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            key = (a, b) if (a, b) in required else (b, a)
            ratio = contrast_ratio(roles[a], roles[b])
            minimum = required.get(key)
            ok = None if minimum is None else ratio >= minimum
            if ok is False:
                failures.append(f"{key[0]} on {key[1]}")
            entry = {"a": key[0], "b": key[1], "ratio": math.floor(ratio * 100) / 100}
            entry.update({name: ratio >= threshold for name, threshold in VERDICTS.items()})
            entry.update(required=minimum, ok=ok)
            pairs.append(entry)
    pairs.sort(key=lambda p: (p["required"] is None, -(p["required"] or 0), -p["ratio"]))
    return {"pairs": pairs, "failures": failures, "passes": not failures}


def verdict_text(pair: Mapping[str, Any]) -> str:
    """ "AAA", "AA", "AA large only" or "Fails" for body text: the verdict people look for first."""
    if pair["aaa"]:
        return "AAA"
    if pair["aa"]:
        return "AA"
    if pair["aa_large"]:
        return "AA large only"
    return "Fails"


# ----------------------------------------------------------------------------------------------------------
# Colour-vision deficiency


def simulate_cvd(hexes: Sequence[str], kind: str) -> list[str]:
    """How ``hexes`` look with protanopia, deuteranopia or tritanopia (Machado 2009, severity 1.0)."""
    matrix = CVD_MATRICES[kind]
    rgb = np.array([hex_to_rgb(h) for h in hexes], dtype=np.float64) / 255.0
    simulated = _compand(_linearize(rgb) @ matrix.T)
    return [rgb_to_hex(np.rint(c * 255.0)) for c in simulated]


def simulate_roles(roles: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """{"deuteranopia": {role: hex}, "protanopia": ..., "tritanopia": ...}."""
    names = list(roles)
    return {
        kind: dict(zip(names, simulate_cvd([roles[n] for n in names], kind), strict=True))
        for kind in ("deuteranopia", "protanopia", "tritanopia")
    }


def on_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (labels on swatches and buttons)."""
    return (
        "#000000"
        if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background)
        else "#ffffff"
    )


def build_theme(colors: Sequence[PaletteColor]) -> dict[str, Any]:
    """Everything the CLI and the job store for a fresh extraction: colours, roles, adjustments, contrast."""
    theme = assign_roles(colors)
    return {
        "colors": [c.as_dict() for c in colors],
        "roles": theme.roles,
        "adjustments": theme.adjustments_dict(),
        "contrast": contrast_report(theme.roles),
    }
