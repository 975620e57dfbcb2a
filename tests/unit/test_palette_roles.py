"""Role assignment: the contrast rules always hold, the primary is never touched, adjustments are minimal."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.imaging.color import contrast_ratio, hex_to_rgb, srgb_to_lab
from webapp.imaging.palette import (
    L_STEP,
    ROLES,
    PaletteColor,
    assign_roles,
    contrast_report,
    min_lightness_shift,
    shift_lightness,
    simulate_cvd,
    verdict_text,
)

hex_colors = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
    lambda rgb: "#{:02x}{:02x}{:02x}".format(*rgb)
)
palettes = st.lists(hex_colors, min_size=1, max_size=8, unique=True).map(
    lambda hexes: [
        PaletteColor.from_hex(h, (len(hexes) - i) / sum(range(1, len(hexes) + 1)))
        for i, h in enumerate(hexes)
    ]
)


def _l(hex_value: str) -> float:
    import numpy as np

    return float(srgb_to_lab(np.array(hex_to_rgb(hex_value), dtype=np.uint8))[0])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(palettes)
def test_roles_always_meet_the_contrast_rules_and_keep_the_primary_exact(colours):
    theme = assign_roles(colours)
    roles = theme.roles
    assert set(roles) == set(ROLES)
    assert contrast_ratio(roles["text"], roles["background"]) >= 4.5
    assert contrast_ratio(roles["accent"], roles["background"]) >= 3.0
    assert roles["primary"] in {c.hex for c in colours}
    assert "primary" not in theme.adjustments
    assert contrast_report(roles)["passes"]
    for role in ("text", "accent"):
        adj = theme.adjustments.get(role)
        if adj is None:  # taken as extracted
            assert roles[role] in {c.hex for c in colours}
        else:
            assert adj.original in {c.hex for c in colours} and adj.adjusted == roles[role]


@settings(max_examples=300, deadline=None)
@given(hex_colors, hex_colors, st.sampled_from([3.0, 4.5]))
def test_lightness_adjustment_is_minimal_a_step_less_fails(colour, background, ratio):
    adj = min_lightness_shift(colour, background, ratio)
    assert adj is not None  # black or white always reaches 4.5 on some side
    assert contrast_ratio(adj.adjusted, background) >= ratio
    if adj.delta_l == 0:
        assert contrast_ratio(colour, background) >= ratio
        return
    sign = 1 if adj.delta_l > 0 else -1
    one_less = shift_lightness(colour, adj.delta_l - sign * L_STEP)
    assert contrast_ratio(one_less, background) < ratio
    assert shift_lightness(colour, adj.delta_l) == adj.adjusted
    assert round(_l(adj.adjusted) - _l(colour), 0) == pytest.approx(round(adj.delta_l, 0), abs=1.5)


def test_lightness_shift_keeps_hue_and_chroma_where_the_gamut_allows():
    import math

    import numpy as np

    base = "#3a6ea5"
    moved = shift_lightness(base, -10)
    a = srgb_to_lab(np.array(hex_to_rgb(base), dtype=np.uint8))
    b = srgb_to_lab(np.array(hex_to_rgb(moved), dtype=np.uint8))
    assert b[0] == pytest.approx(a[0] - 10, abs=0.6)
    assert math.hypot(b[1], b[2]) == pytest.approx(math.hypot(a[1], a[2]), abs=1.0)
    assert math.degrees(math.atan2(b[2], b[1])) == pytest.approx(
        math.degrees(math.atan2(a[2], a[1])), abs=1.5
    )


def test_primary_is_the_most_prominent_saturated_colour():
    colours = [PaletteColor.from_hex(h, s) for h, s in [("#f4f1ea", 0.5), ("#222222", 0.2), ("#c0392b", 0.2)]]
    theme = assign_roles(colours)
    assert theme.roles["primary"] == "#c0392b"
    assert theme.roles["background"] == "#f4f1ea"
    assert theme.roles["text"] == "#222222"


def test_without_a_light_or_dark_colour_the_background_is_the_artworks_own_lightest_or_darkest_colour():
    # Issue 15 changed this: roles come from real colours of the artwork (it used to be an invented tint
    # of the primary). The olive (L* 62) is furthest from mid-grey; it is used unchanged, and text and
    # accent are adjusted only as far as contrast on it needs.
    colours = [PaletteColor.from_hex(h, 1 / 3) for h in ("#3a6ea5", "#c0392b", "#8e9e4f")]
    theme = assign_roles(colours)
    assert theme.roles["background"] == "#8e9e4f"
    assert "background" not in theme.adjustments
    assert contrast_ratio(theme.roles["text"], theme.roles["background"]) >= 4.5
    assert contrast_ratio(theme.roles["accent"], theme.roles["background"]) >= 3.0


def test_a_one_colour_artwork_gets_a_tint_or_shade_of_it_as_the_page():
    theme = assign_roles([PaletteColor.from_hex("#3a6ea5", 1.0)])
    bg = theme.roles["background"]
    assert _l(bg) >= 90 or _l(bg) <= 15
    assert theme.adjustments["background"].original == "#3a6ea5"


def test_a_single_colour_palette_still_gets_every_role():
    theme = assign_roles(["#808080"])
    assert set(theme.roles) == set(ROLES) and contrast_report(theme.roles)["passes"]


def test_contrast_report_lists_every_pair_with_wcag_verdicts():
    report = contrast_report(
        {
            "primary": "#777777",
            "secondary": "#000000",
            "accent": "#767676",
            "background": "#ffffff",
            "text": "#777777",
        }
    )
    assert len(report["pairs"]) == 10
    text = next(p for p in report["pairs"] if (p["a"], p["b"]) == ("text", "background"))
    # #777777 on white is 4.48: a fail, even though it is often printed as 4.5.
    assert text["ratio"] == 4.47 and text["aa"] is False and text["aa_large"] is True and text["ok"] is False
    accent = next(p for p in report["pairs"] if (p["a"], p["b"]) == ("accent", "background"))
    assert accent["aa"] is True and accent["ui"] is True and verdict_text(accent) == "AA"
    assert report["failures"] == ["text on background"] and report["passes"] is False


def _srgb(linear: float) -> int:
    linear = min(max(linear, 0.0), 1.0)
    encoded = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(encoded * 255)


def test_colour_blind_simulation_uses_machado_matrices_in_linear_rgb():
    # Pure red is (1, 0, 0) in linear RGB, so the result is the matrix's first column, companded.
    column = {"protanopia": (0.152286, 0.114503, -0.003882), "deuteranopia": (0.367322, 0.280085, -0.011820)}
    for kind, (r, g, b) in column.items():
        (red,) = simulate_cvd(["#ff0000"], kind)
        assert hex_to_rgb(red) == (_srgb(r), _srgb(g), _srgb(b))
    (green,) = simulate_cvd(["#00ff00"], "tritanopia")  # the second column: green turns cyan
    assert hex_to_rgb(green) == (_srgb(-0.076749), _srgb(0.930809), _srgb(0.691367))
    assert simulate_cvd(["#ffffff"], "tritanopia") == ["#ffffff"]  # each matrix row sums to 1


def test_red_and_green_are_confused_under_deuteranopia_and_protanopia():
    import numpy as np

    from webapp.imaging.color import delta_e_ciede2000

    def de(a: str, b: str) -> float:
        return delta_e_ciede2000(*(srgb_to_lab(np.array(hex_to_rgb(h), dtype=np.uint8)) for h in (a, b)))

    red, green = "#d62728", "#2ca02c"
    assert de(*simulate_cvd([red, green], "deuteranopia")) < 0.5 * de(red, green)
    assert de(*simulate_cvd([red, green], "protanopia")) < 0.5 * de(red, green)
