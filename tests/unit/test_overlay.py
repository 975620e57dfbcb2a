"""The show-details overlay: bundled fonts, the spec, layout and fitting, and legibility measured
independently from the rendered pixels on dark, light and busy backgrounds."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.unit.imaging_samples import photo
from webapp.imaging import fonts
from webapp.imaging.overlay import ITEMS, OverlaySpec, kind_for, layout, render_overlay

TEXTS = {
    "custom": "Harbour Nights presents",
    "title": "The Midnight Jazz Collective",
    "performers": "Ana Moura · Trio Azul · DJ Kofi",
    "date": "Fri 6 – Sun 8 March 2026, 8 pm",
    "venue": "The Blue Room",
    "address": "12 Harbour Street, Brighton",
    "price": "$25–$60",
    "cta": "Get Tickets",
}
SIZES = {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}


def spec(**changes) -> OverlaySpec:
    data = {"texts": TEXTS, "enabled": list(ITEMS), **changes}
    return OverlaySpec.from_dict(data)


# --------------------------------------------------------------------------- backgrounds


def solid(size, rgb):
    return Image.new("RGB", size, rgb)


def checkerboard(size, cell=23):
    yy, xx = np.indices((size[1], size[0]))
    board = ((yy // cell + xx // cell) % 2 * 255).astype(np.uint8)
    return Image.fromarray(np.stack([board] * 3, -1))


def noise(size, seed=7):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def stripes(size):
    """Hard vertical bands of white, black and saturated colours: worst case for an average."""
    colours = [(255, 255, 255), (0, 0, 0), (255, 220, 0), (0, 40, 200), (255, 0, 80), (128, 128, 128)]
    arr = np.zeros((size[1], size[0], 3), np.uint8)
    for i in range(0, size[0], 37):
        arr[:, i : i + 37] = colours[(i // 37) % len(colours)]
    return Image.fromarray(arr)


BACKGROUNDS = {
    "dark": lambda s: solid(s, (12, 10, 30)),
    "light": lambda s: solid(s, (246, 244, 238)),
    "mid-grey": lambda s: solid(s, (128, 128, 128)),
    "astronaut": lambda s: photo(s, "astronaut"),
    "coffee": lambda s: photo(s, "coffee"),
    "chelsea": lambda s: photo(s, "chelsea"),
    "checkerboard": checkerboard,
    "noise": noise,
    "stripes": stripes,
}


# --------------------------------------------------------------------------- an independent contrast check


def _lum(pixels: np.ndarray) -> np.ndarray:
    c = pixels.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def _hex_lum(hex_color: str) -> float:
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    return float(_lum(rgb[None, :])[0])


def measured_contrasts(result) -> list[tuple[str, float]]:
    """For every line: the lowest contrast between its colour and any single rendered pixel around its
    glyphs (glyph pixels and their anti-aliased fringe excluded), computed from the output image alone."""
    out = np.asarray(result.image)
    glyphs = np.asarray(result.text_mask.filter(ImageFilter.MaxFilter(5))) > 0
    found = []
    for line in result.lines:
        x0, y0, x1, y1 = line.box
        if line.item == "cta":  # the label sits on the button: measure inside the pill, around the label
            ink = np.argwhere(np.asarray(result.text_mask)[y0:y1, x0:x1] > 0)
            (iy0, ix0), (iy1, ix1) = ink.min(0), ink.max(0)
            x0, y0, x1, y1 = x0 + ix0 - 4, y0 + iy0 - 4, x0 + ix1 + 5, y0 + iy1 + 5
        region = out[y0:y1, x0:x1][~glyphs[y0:y1, x0:x1]]
        assert region.size, f"no background pixels measured around the {line.item}"
        lum = _lum(region)
        text = _hex_lum(line.color)
        hi, lo = np.maximum(lum, text), np.minimum(lum, text)
        found.append((line.item, float(((hi + 0.05) / (lo + 0.05)).min())))
    return found


@pytest.mark.parametrize("kind", list(SIZES))
@pytest.mark.parametrize("background", list(BACKGROUNDS))
def test_every_line_reaches_4_5_to_1_against_its_worst_background_pixel(kind, background):
    size = SIZES[kind]
    result = render_overlay(BACKGROUNDS[background](size), spec())
    assert {ln.item for ln in result.lines} == set(ITEMS)
    for item, contrast in measured_contrasts(result):
        assert contrast >= 4.5, f"{item} on {background} ({kind}): {contrast:.2f}:1"
    assert result.min_contrast >= 4.5


@pytest.mark.parametrize("color", ["#ffcc00", "#3366ff", "#808080", "#ff2266"])
@pytest.mark.parametrize("background", ["astronaut", "noise", "stripes", "light"])
def test_a_picked_colour_is_kept_and_made_legible(color, background):
    result = render_overlay(BACKGROUNDS[background](SIZES["poster"]), spec(color=color, position="top"))
    assert result.text_color == color
    for item, contrast in measured_contrasts(result):
        assert contrast >= 4.5, f"{item} in {color} on {background}: {contrast:.2f}:1"


def test_auto_colour_needs_no_help_on_plain_dark_or_light_backgrounds():
    dark = render_overlay(solid(SIZES["poster"], (10, 10, 20)), spec())
    light = render_overlay(solid(SIZES["poster"], (250, 250, 250)), spec())
    assert (dark.text_color, dark.scrim) == ("#ffffff", 0)
    assert (light.text_color, light.scrim) == ("#111111", 0)


def test_the_scrim_is_the_smallest_opacity_that_passes():
    grey = 176
    result = render_overlay(solid(SIZES["poster"], (grey, grey, grey)), spec(color="#ffffff"))
    expected = next(
        a / 100
        for a in range(101)
        if (1.05) / (_lum(np.array([[round(grey * (1 - a / 100))] * 3], np.uint8))[0] + 0.05) >= 4.5
    )
    assert result.scrim == pytest.approx(expected, abs=0.011)
    assert result.text_color == "#ffffff"


def test_a_busy_photo_gets_a_scrim_and_a_plain_one_only_a_shadow_when_contrast_is_thin():
    busy = render_overlay(photo(SIZES["square"], "astronaut"), spec())
    assert busy.scrim > 0
    thin = render_overlay(solid(SIZES["square"], (90, 90, 110)), spec())
    assert thin.scrim == 0 and thin.shadow and thin.text_color == "#ffffff"


# --------------------------------------------------------------------------- layout and fitting


@pytest.mark.parametrize("kind", list(SIZES))
@pytest.mark.parametrize("position", ["top", "center", "bottom"])
def test_layout_stays_inside_the_canvas_in_reading_order_with_a_clear_hierarchy(kind, position):
    size = SIZES[kind]
    lay = layout(spec(position=position), size)
    assert lay.fits and not lay.warnings
    assert kind_for(size) == kind
    order = [ln.item for ln in lay.lines]
    assert order.index("title") < order.index("date") < order.index("venue") < order.index("cta")
    for ln in lay.lines:
        assert ln.x >= 0 and ln.x + ln.width <= size[0]
        assert ln.size <= ln.baseline <= size[1]
    sizes = {ln.item: ln.size for ln in lay.lines}
    assert sizes["title"] >= 2.5 * max(v for k, v in sizes.items() if k != "title")
    cta = next(ln for ln in lay.lines if ln.item == "cta")
    px0, py0, px1, py1 = cta.pill
    assert px0 < cta.x and cta.x + cta.width < px1 and py0 < cta.baseline < py1
    top, bottom, height = lay.block[1], lay.block[3], size[1]
    expected = {
        "top": top < 0.1 * height,
        "center": abs((top + bottom) / 2 - height / 2) < 0.05 * height,
        "bottom": bottom > 0.9 * height,
    }
    assert expected[position], (position, lay.block)


def test_lines_never_overlap():
    lay = layout(spec(), SIZES["poster"])
    baselines = [ln.baseline for ln in lay.lines if ln.item != "price"]
    assert baselines == sorted(baselines)
    for upper, lower in zip(lay.lines, lay.lines[1:], strict=False):
        if lower.baseline != upper.baseline:
            assert lower.baseline - lower.size * 0.7 > upper.baseline, (upper.item, lower.item)


def test_a_very_long_title_shrinks_and_wraps_into_balanced_lines():
    short = layout(spec(texts={**TEXTS, "title": "Jazz"}), SIZES["poster"])
    long_title = "The Extraordinary and Completely Unforgettable Midnight Jazz Collective Reunion Tour"
    long = layout(spec(texts={**TEXTS, "title": long_title}), SIZES["poster"])
    short_size = next(ln.size for ln in short.lines if ln.item == "title")
    lines = [ln for ln in long.lines if ln.item == "title"]
    assert long.fits
    assert lines[0].size < short_size
    assert 2 <= len(lines) <= 3
    assert " ".join(ln.text for ln in lines) == long_title.upper()
    widths = [ln.width for ln in lines]
    assert min(widths) > 0.6 * max(widths), widths  # balanced, no lonely last word
    block_w = long.block[2] - long.block[0]
    assert max(widths) <= block_w


def test_a_title_that_cannot_fit_is_cut_and_reported():
    # Issue 15 changed this: a long title first shrinks, then breaks into more lines (up to 6), and a
    # title past the limit is refused (``refused``); the preview cuts after a whole word, never inside one.
    absurd = " ".join(["Supercalifragilistic"] * 40)
    lay = layout(spec(texts={**TEXTS, "title": absurd}), SIZES["square"])
    assert not lay.fits
    assert any("title" in w for w in lay.warnings) and any("the limit is 200" in r for r in lay.refused)
    title_lines = [ln for ln in lay.lines if ln.item == "title"]
    assert len(title_lines) <= 6 and title_lines[-1].text.endswith("SUPERCALIFRAGILISTIC…")
    assert all(ln.x + ln.width <= SIZES["square"][0] for ln in title_lines)


def test_one_unbreakable_word_wider_than_the_poster_is_cut_with_an_ellipsis():
    lay = layout(spec(texts={"title": "W" * 300}, enabled=["title"]), SIZES["poster"])
    (line,) = [ln for ln in lay.lines if ln.item == "title"]
    assert not lay.fits and line.text.endswith("…") and line.x + line.width <= SIZES["poster"][0]


# --------------------------------------------------------------------------- fonts and the spec


def test_fonts_are_bundled_with_their_licences_and_load_from_the_package():
    files = fonts.font_files()
    assert len(FAMILIES := fonts.FAMILIES) >= 5 and len(files) >= 5
    total = 0
    for path in files:
        assert path.parent == fonts.FONT_DIR and path.is_file()
        total += path.stat().st_size
        font = fonts.load(path.name, 40)
        assert font.getlength("Tickets") > 0
        assert str(fonts.FONT_DIR) in font.path
    licences = {p.name.split("-")[0] for p in fonts.FONT_DIR.glob("*-LICENSE*.txt")}
    assert {"BebasNeue", "LeagueSpartan", "OpenSans", "Lato", "EBGaramond"} <= licences
    assert total < 5 * 1024 * 1024
    assert {f.key for f in FAMILIES.values()} == {"bebas", "spartan", "lato", "opensans", "garamond"}
    with pytest.raises(ValueError, match="not a bundled font"):
        fonts.load("../../../etc/passwd", 20)


@pytest.mark.parametrize("family", ["bebas", "spartan", "lato", "opensans", "garamond"])
def test_every_family_sets_every_item_legibly(family):
    result = render_overlay(photo(SIZES["poster"], "coffee"), spec(font=family))
    assert result.fits
    assert min(c for _, c in measured_contrasts(result)) >= 4.5


def test_spec_from_untrusted_input_is_cleaned_and_round_trips():
    dirty = OverlaySpec.from_dict(
        {
            "texts": {"title": "Jazz\x00\x1b Night\n\tLive  ", "cta": "x" * 500, "bogus": "no"},
            "enabled": ["title", "cta", "bogus"],
            "font": "comic-sans",
            "position": "sideways",
            "color": "red",
            "accent": "#ABCDEF",
        }
    )
    assert dirty.texts["title"] == "Jazz Night Live"
    assert len(dirty.texts["cta"]) == 40
    assert dirty.enabled == frozenset({"title", "cta"})
    assert (dirty.font, dirty.position, dirty.color, dirty.accent) == ("bebas", "bottom", "auto", "#abcdef")
    assert OverlaySpec.from_dict(dirty.to_dict()) == dirty
    assert OverlaySpec.from_dict(None).visible() == []


def test_re_rendering_the_same_spec_gives_the_same_picture():
    """The live preview re-renders on every change: with the font cache warm, the same spec must give
    the same pixels (no flicker between previews). How fast it renders is measured by
    benchmarks/overlay.py, not asserted here."""
    img = photo(SIZES["poster"], "astronaut")
    first = render_overlay(img, spec())
    again = render_overlay(img, spec())
    assert first.fits and again.fits
    assert np.array_equal(np.asarray(first.image), np.asarray(again.image))
    assert np.asarray(first.image).shape == (1800, 1200, 3)
    assert not np.array_equal(np.asarray(first.image), np.asarray(img))  # the text was set
