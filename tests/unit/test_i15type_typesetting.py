"""Issue 15, typesetting: balanced line breaks (property tests), separators never at a line edge, the
layouts and nudges inside the safe area, the venue's minimum size, long titles, characters no bundled
face can set, and golden renders of every layout compared by SSIM."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from webapp.imaging import linebreak
from webapp.imaging.overlay import (
    MAX_TITLE_CHARS,
    POSITIONS,
    OverlaySpec,
    layout,
    render_overlay,
    safe_area,
)
from webapp.imaging.overlay import _glyphs as glyphs  # the renderer's own glyph masks
from webapp.imaging.overlay_layout import MIN_VENUE

SIZES = {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}
TEXTS = {
    "custom": "Harbour Nights presents",
    "title": "Midnight Jazz at the Blue Room",
    "performers": "Ana Moura · Trio Azul · DJ Kofi · The Harbour Strings · Lisbon Guitar Ensemble",
    "date": "Sat 5 Dec · 8 pm",
    "venue": "The Blue Room",
    "address": "12 Harbour Street, Brighton",
    "price": "$25–$60",
    "cta": "Get Tickets",
}
ALL = ["title", "performers", "date", "venue", "price", "cta"]
LONG_TITLE = (
    "An Evening of Extraordinary Midnight Jazz at the Blue Room featuring Special Guests from Lisbon, "
    "Havana and New Orleans with the Harbour Strings and a Late Night Jam Session Until Dawn for Everyone"
)[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]


def spec(**changes) -> OverlaySpec:
    return OverlaySpec.from_dict({"texts": TEXTS, "enabled": ALL, **changes})


# --------------------------------------------------------------------------- line breaking (properties)

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
SEP = st.sampled_from(["·", "|", "–"])
TOKENS = st.lists(st.one_of(WORD, WORD, WORD, SEP), min_size=1, max_size=24)


def measure(text: str) -> float:
    """A synthetic proportional face: widths differ per letter, so ties are rare."""
    return sum(5 + (ord(c) % 7) for c in text)


def brute_force(u: linebreak.Units, width: float, count: int) -> float:
    """The least raggedness over every breaking into ``count`` lines without a lonely last word, by
    enumeration."""
    n = len(u.words)
    best = float("inf")
    for cuts in itertools.combinations(range(1, n), count - 1):
        if n > count and n - (cuts[-1] if cuts else 0) == 1:
            continue
        lines = linebreak.lines_of(u, [*cuts, n])
        widths = [measure(line) for line in lines]
        if max(widths) <= width:
            best = min(best, sum((width - w) ** 2 for w in widths))
    return best


@settings(max_examples=150, deadline=None)
@given(tokens=TOKENS, width=st.integers(40, 400), max_lines=st.integers(1, 5))
def test_balanced_lines_keep_every_word_fit_and_never_start_or_end_with_a_separator(tokens, width, max_lines):
    text = " ".join(tokens)
    lines = linebreak.balance(text, measure, width, max_lines)
    u = linebreak.units(text)
    if lines is None:  # refused only when no breaking into at most max_lines lines fits
        assert all(linebreak.best_breaks(u, measure, width, c) is None for c in range(1, max_lines + 1))
        return
    assert len(lines) <= max_lines
    assert all(measure(line) <= width for line in lines)
    kept = [w for line in lines for w in line.split() if w not in linebreak.SEPARATORS]
    assert kept == list(u.words)  # nothing lost, nothing reordered, nothing cut
    for line in lines:
        assert line.split()[0] not in linebreak.SEPARATORS and line.split()[-1] not in linebreak.SEPARATORS
    if len(lines) > 1:  # fewest lines first: one line fewer would not fit
        assert linebreak.best_breaks(u, measure, width, len(lines) - 1) is None


@settings(max_examples=120, deadline=None)
@given(words=st.lists(WORD, min_size=3, max_size=9), width=st.integers(60, 300))
def test_no_lonely_last_word_when_a_better_break_exists_and_raggedness_is_minimal(words, width):
    text = " ".join(words)
    lines = linebreak.balance(text, measure, width, 4)
    if lines is None or len(lines) == 1:
        return
    u = linebreak.units(text)
    n, count = len(u.words), len(lines)
    alternatives = [
        cuts
        for cuts in itertools.combinations(range(1, n), count - 1)
        if n - (cuts[-1] if cuts else 0) > 1
        and max(measure(x) for x in linebreak.lines_of(u, [*cuts, n])) <= width
    ]
    if alternatives and n > count:
        assert len(lines[-1].split()) > 1, lines
    # With plain words and no short-word endings, the breaks are the least ragged ones that exist.
    if all(len(w) > 3 for w in u.words) and not any(len(x.split()) == 1 for x in lines[-1:]):
        chosen = sum((width - measure(x)) ** 2 for x in lines)
        assert chosen <= brute_force(u, width, count) + 1e-6


def test_the_reported_title_breaks_evenly_and_performers_break_at_their_separators():
    lay = layout(spec(), SIZES["poster"])
    title = [ln.text for ln in lay.lines if ln.item == "title"]
    assert title == ["MIDNIGHT JAZZ", "AT THE BLUE ROOM"]
    performers = [ln.text for ln in lay.lines if ln.item == "performers"]
    assert performers == ["Ana Moura · Trio Azul · DJ Kofi", "The Harbour Strings · Lisbon Guitar Ensemble"]
    assert linebreak.balance("· Jazz · · Soul |", measure, 1000, 2) == ("Jazz · Soul",)


# --------------------------------------------------------------------------- safe area, venue, layouts

NUDGES = [(0, 0), (-2, -2), (2, 2), (-2, 2), (2, -2)]


@pytest.mark.parametrize("kind", list(SIZES))
@pytest.mark.parametrize("position", POSITIONS)
def test_every_glyph_box_lies_in_the_safe_area_and_the_venue_reads_at_thumbnail_size(kind, position):
    size = SIZES[kind]
    x0, y0, x1, y1 = safe_area(size)
    assert (x0, y0) >= (size[0] * 0.05, size[1] * 0.05)
    for offset, size_step in NUDGES:
        lay = layout(spec(position=position, offset=offset, size_step=size_step), size)
        assert lay.fits, (offset, size_step, lay.warnings)
        for ln in lay.lines:
            mask, (ox, oy) = glyphs(ln, size)
            ink = mask.getbbox()
            box = (ink[0] + ox, ink[1] + oy, ink[2] + ox, ink[3] + oy)
            assert x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1, (ln.item, box)
            if ln.pill:
                assert x0 <= ln.pill[0] and ln.pill[2] <= x1 and y0 <= ln.pill[1] and ln.pill[3] <= y1
        venue = next(ln for ln in lay.lines if ln.item == "venue")
        assert venue.size >= MIN_VENUE * min(size) and MIN_VENUE >= 0.022, (offset, size_step, venue.size)


def test_nudges_move_and_scale_the_type():
    base = layout(spec(position="center"), SIZES["poster"])
    down = layout(spec(position="center", offset=1), SIZES["poster"])
    bigger = layout(spec(position="center", size_step=1), SIZES["poster"])
    assert down.block[1] - base.block[1] == pytest.approx(0.03 * 1800, abs=2)
    title = {lay: next(ln.size for ln in lay.lines if ln.item == "title") for lay in (base, bigger)}
    assert title[bigger] > title[base]
    split = layout(spec(position="split"), SIZES["poster"])
    title_y = max(ln.baseline for ln in split.lines if ln.item == "title")
    cta = next(ln for ln in split.lines if ln.item == "cta")
    assert title_y < 0.4 * 1800 < 0.8 * 1800 < cta.pill[3]


# --------------------------------------------------------------------------- long titles, missing glyphs


@pytest.mark.parametrize("kind", list(SIZES))
@pytest.mark.parametrize("font", ["bebas", "opensans", "garamond"])
def test_a_title_at_the_form_limit_shrinks_and_breaks_but_is_never_cut(kind, font):
    lay = layout(spec(texts={**TEXTS, "title": LONG_TITLE}, font=font), SIZES[kind])
    assert lay.fits and not lay.refused, lay.warnings
    title = [ln.text for ln in lay.lines if ln.item == "title"]
    assert " ".join(title) == " ".join(LONG_TITLE.split()).upper() if font == "bebas" else True
    assert not any("…" in t for t in title)


def test_a_title_over_the_limit_is_kept_whole_in_the_spec_and_refused_with_the_limit():
    title = LONG_TITLE + " and more words to go well over the limit"
    assert len(title) > MAX_TITLE_CHARS
    s = spec(texts={**TEXTS, "title": title})
    assert s.texts["title"] == title  # not cut mid-word on the way in
    lay = layout(s, SIZES["poster"])
    assert not lay.fits
    assert lay.refused == (
        f"The title is too long to fit: {len(title)} characters, and the limit is {MAX_TITLE_CHARS}. "
        "Shorten it.",
    )


def test_emoji_and_cjk_are_named_and_left_out_never_drawn_as_boxes():
    s = spec(texts={**TEXTS, "title": "Jazz 🎷 Night 東京", "venue": "Café Zoë"})
    lay = layout(s, SIZES["square"])
    title = " ".join(ln.text for ln in lay.lines if ln.item == "title")
    assert title == "JAZZ NIGHT"
    (warning,) = [w for w in lay.warnings if w.startswith("The title has characters")]
    assert "“🎷” (U+1F3B7)" in warning and "“東” (U+6771)" in warning and "“京” (U+4EAC)" in warning
    assert not any("venue" in w for w in lay.warnings)  # accents are in the faces
    assert lay.fits  # a warning, not a refusal: the rest sets fine


def test_a_face_without_a_character_falls_back_to_open_sans():
    lay = layout(spec(texts={**TEXTS, "title": "Ωμέγα Τζαζ"}), SIZES["poster"])  # Bebas has no Greek
    title = [ln for ln in lay.lines if ln.item == "title"]
    assert title and title[0].font_file.startswith("OpenSans") and not lay.warnings


# --------------------------------------------------------------------------- golden renders (SSIM)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def background(size: tuple[int, int]) -> Image.Image:
    """A fixed generated picture: a diagonal dusk gradient with a bright disc and dark bars."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx / w + yy / h) / 2
    arr = np.stack([40 + 180 * t, 30 + 90 * (1 - t), 90 + 120 * np.sin(3 * t)], -1)
    disc = (xx - 0.7 * w) ** 2 + (yy - 0.3 * h) ** 2 < (0.18 * min(w, h)) ** 2
    arr[disc] = (250, 235, 200)
    arr[(xx.astype(int) // 90) % 5 == 0] *= 0.35
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


@pytest.mark.parametrize("kind", ["poster", "banner"])
@pytest.mark.parametrize("position", POSITIONS)
def test_each_layout_matches_its_golden_render(kind, position):
    size = SIZES[kind]
    result = render_overlay(background(size), spec(position=position))
    small = result.image.resize((400, round(400 * size[1] / size[0])), Image.Resampling.LANCZOS)
    path = GOLDEN / f"i15type-{kind}-{position}.png"
    if os.environ.get("UPDATE_GOLDENS"):
        path.parent.mkdir(exist_ok=True)
        small.save(path, optimize=True)
    golden = np.asarray(Image.open(path).convert("RGB"))
    score = ssim(np.asarray(small), golden)
    assert score >= 0.98, f"{kind}/{position}: SSIM {score:.3f} (UPDATE_GOLDENS=1 rewrites on purpose)"
    assert result.min_contrast >= 4.5
