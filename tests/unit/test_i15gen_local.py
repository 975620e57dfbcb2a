"""The free generator follows the prompt, every style holds its look on 16 seeds, edits keep the subject.

Rendered small (the renderer works at any size) so 8 styles x 16 seeds cost a few seconds. Colour
measurements use plain numpy here (k-means, HSV), not the app's palette module, so these tests judge the
generator alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from webapp.providers.local_edit import choose_treatment, stylise
from webapp.providers.local_render import render
from webapp.providers.local_words import read_prompt

SIZE = (256, 384)
STYLES = ("realistic", "cinematic", "artistic", "modern", "vintage", "minimalist", "bold", "neon")
# One prompt per seed, several of them contrary to a style (a calm dawn in neon, a pastel morning in bold).
PROMPTS = (
    "a red and gold theatre at night",
    "calm blue sea at dawn",
    "string quartet concert",
    "comedy night",
    "garden party in spring",
    "city rooftop jazz",
    "space odyssey",
    "dance festival",
    "an evening of poetry",
    "energetic techno rave",
    "romantic pink wedding",
    "quiet white minimal exhibition",
    "sunny beach day",
    "dark gothic opera",
    "festive christmas market",
    "pastel yoga morning",
)


def measure(img: Image.Image) -> dict[str, float]:
    """The properties the styles promise, on a 0..1 scale (luminance is Rec. 601, as Pillow's "L")."""
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255
    luma = a @ np.array([0.299, 0.587, 0.114], np.float32)
    mx, mn = a.max(-1), a.min(-1)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0)
    blurred = np.asarray(img.convert("L").filter(ImageFilter.GaussianBlur(2)), dtype=np.float32) / 255
    h, w = luma.shape
    b = 16
    blocks = luma[: h // b * b, : w // b * b].reshape(h // b, b, w // b, b).std(axis=(1, 3))
    k = h // 8
    corners = np.concatenate([luma[:k, :k], luma[:k, -k:], luma[-k:, :k], luma[-k:, -k:]]).mean()
    centre = luma[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].mean()
    return {
        "mean": float(luma.mean()),
        "contrast": float(luma.std()),
        "saturation": float(sat.mean()),
        "highlight_chroma": float(np.percentile(mx - mn, 99)),  # the most colourful 1 %
        "grain": float((luma - blurred).std()),
        "calm": float((blocks < 0.03).mean()),  # share of 16 px blocks with almost no variation
        "vignette": float(corners / max(float(centre), 1e-3)),
    }


# What each style promises (STYLE_HINTS in providers/base.py), as bounds on the measurements.
STYLE_RULES = {
    "neon": {"mean": (0, 0.2), "highlight_chroma": (0.5, 1), "saturation": (0.35, 1)},
    "bold": {"saturation": (0.5, 1), "contrast": (0.16, 1)},
    # muted: no vivid colour anywhere (HSV saturation of warm darks runs high, so chroma is measured too)
    "vintage": {"saturation": (0, 0.45), "highlight_chroma": (0, 0.5), "grain": (0.035, 1)},
    "minimalist": {"calm": (0.55, 1), "grain": (0, 0.04)},  # grain here also counts crisp edges
    "cinematic": {"vignette": (0, 0.6), "contrast": (0.09, 1)},
    "realistic": {"saturation": (0.12, 0.76), "grain": (0.02, 0.07), "calm": (0, 0.6)},
    "artistic": {"calm": (0, 0.35), "grain": (0.025, 1), "saturation": (0.12, 0.76)},
    "modern": {"calm": (0.35, 1), "saturation": (0.25, 1), "contrast": (0.06, 1)},
}


@pytest.mark.parametrize("style", STYLES)
def test_every_style_holds_its_look_on_16_seeds(style):
    failures = []
    for seed, prompt in enumerate(PROMPTS):
        values = measure(render(prompt, SIZE, style=style, seed=seed))
        for key, (lo, hi) in STYLE_RULES[style].items():
            if not lo <= values[key] <= hi:
                failures.append(f"seed {seed} {prompt!r}: {key} {values[key]:.3f} not in [{lo}, {hi}]")
    assert not failures, "\n".join(failures)


def test_same_prompt_and_seed_give_the_same_pixels_and_seeds_differ():
    a = render("jazz night at the blue room", SIZE, seed=4)
    b = render("jazz night at the blue room", SIZE, seed=4)
    c = render("jazz night at the blue room", SIZE, seed=5)
    assert a.tobytes() == b.tobytes()
    assert np.abs(np.asarray(a, np.float32) - np.asarray(c, np.float32)).mean() > 8


def _mean_hue_and_luma(prompt: str) -> tuple[float, float, float]:
    """Mean luminance, and the red-minus-blue balance, over 4 seeds in the default (unstyled) mode."""
    reds, blues, lumas = [], [], []
    for seed in range(4):
        a = np.asarray(render(prompt, SIZE, style="realistic", seed=seed), np.float32) / 255
        reds.append(a[..., 0].mean())
        blues.append(a[..., 2].mean())
        lumas.append((a @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
    return float(np.mean(lumas)), float(np.mean(reds)), float(np.mean(blues))


def test_theatre_at_night_is_darker_and_warmer_than_a_calm_sea_at_dawn():
    night_luma, night_r, night_b = _mean_hue_and_luma("a red and gold theatre at night")
    dawn_luma, dawn_r, dawn_b = _mean_hue_and_luma("calm blue sea at dawn")
    assert dawn_luma > night_luma + 0.12, (dawn_luma, night_luma)
    assert night_r - night_b > 0.05  # warm
    assert dawn_b - dawn_r > 0.05  # cool
    assert night_r - night_b > dawn_r - dawn_b + 0.15


def _kmeans(pixels: np.ndarray, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plain k-means (k-means++ start) in RGB 0..255; returns centres and their shares."""
    rng = np.random.default_rng(seed)
    centres = [pixels[rng.integers(len(pixels))]]
    for _ in range(k - 1):
        d = np.min([((pixels - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(pixels[rng.choice(len(pixels), p=d / d.sum())])
    c = np.array(centres)
    for _ in range(20):
        label = ((pixels[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        c = np.array([pixels[label == i].mean(0) if (label == i).any() else c[i] for i in range(k)])
    return c, np.bincount(label, minlength=k) / len(pixels)


def _hsv(rgb: np.ndarray) -> np.ndarray:
    """RGB 0..255 rows -> HSV rows (hue 0..1)."""
    import colorsys

    return np.array([colorsys.rgb_to_hsv(*(c / 255)) for c in rgb])


@pytest.mark.parametrize(
    ("prompt", "named"),
    [
        ("a red and gold theatre at night", {"red": (208, 36, 43), "gold": (212, 162, 42)}),
        ("teal and orange summer festival", {"teal": (17, 128, 127), "orange": (236, 122, 28)}),
        ("crimson velvet cabaret", {"crimson": (179, 18, 58)}),
    ],
)
def test_named_colours_are_among_the_dominant_colours(prompt, named):
    """Each named colour is a dominant colour (a k-means cluster with >= 3 % of the picture) of its hue
    (within 0.05) and at least half its saturation and brightness: a shade of it, as lit in the scene."""
    misses = []
    for seed in range(4):
        img = render(prompt, SIZE, style="realistic", seed=seed)
        pixels = np.asarray(img.reduce(2), np.float32).reshape(-1, 3)
        centres, shares = _kmeans(pixels, 8)
        found = _hsv(centres[shares >= 0.03])
        for name, rgb in named.items():
            h, s, v = _hsv(np.array([rgb], np.float32))[0]
            hue_gap = np.minimum(np.abs(found[:, 0] - h), 1 - np.abs(found[:, 0] - h))
            ok = (hue_gap <= 0.05) & (found[:, 1] >= 0.5 * s) & (found[:, 2] >= 0.5 * v)
            if not ok.any():
                misses.append(f"seed {seed}: no dominant colour is a shade of {name}")
    assert not misses, "\n".join(misses)


@pytest.mark.parametrize(
    ("prompt", "family"),
    [
        ("string quartet in an old library", "music"),
        ("an empty theatre stage with a velvet curtain", "theatre"),
        ("contemporary ballet evening", "dance"),
        ("stand-up comedy night", "comedy"),
        ("a walk in the botanical garden", "nature"),
        ("downtown rooftop skyline", "city"),
        ("moody coastline with a lighthouse", "sea"),
        ("planetarium show about distant galaxies", "space"),
        ("smoky jazz club", "club"),
        ("something nice", "abstract"),
    ],
)
def test_the_prompt_nouns_pick_the_motif_family(prompt, family):
    assert read_prompt(prompt).family == family


def test_day_night_and_mood_words_are_read():
    assert read_prompt("calm blue sea at dawn").time == "day"
    assert read_prompt("a red and gold theatre at night").time == "night"
    calm, energetic = read_prompt("calm piano evening").mood, read_prompt("energetic rave").mood
    assert calm.density < 1 < energetic.density
    assert calm.contrast < 1 < energetic.contrast
    assert read_prompt("a dark mysterious opera").mood.dark is True


# ---------------------------------------------------------------------------- edit mode


def _synthetic_photos() -> list[Image.Image]:
    """Three "photos" with structure: a portrait-like head on a backdrop, a horizon scene, a still life."""
    out = []
    rng = np.random.default_rng(3)
    for kind in range(3):
        img = Image.new("RGB", (640, 480), (90, 110, 140))
        d = ImageDraw.Draw(img)
        for y in range(480):  # a sky or wall gradient
            d.line([(0, y), (640, y)], fill=(60 + y // 4, 80 + y // 6, 150 - y // 8))
        if kind == 0:
            d.ellipse((230, 80, 410, 300), fill=(214, 170, 140))
            d.rectangle((180, 300, 460, 480), fill=(40, 60, 120))
            d.ellipse((280, 160, 300, 180), fill=(30, 30, 30))
            d.ellipse((340, 160, 360, 180), fill=(30, 30, 30))
        elif kind == 1:
            d.polygon([(0, 330), (200, 200), (380, 300), (640, 180), (640, 480), (0, 480)], fill=(50, 90, 50))
            d.ellipse((480, 60, 560, 140), fill=(250, 230, 180))
        else:
            d.rectangle((100, 260, 540, 440), fill=(120, 80, 50))
            d.ellipse((200, 140, 320, 300), fill=(200, 40, 40))
            d.rectangle((380, 120, 440, 290), fill=(230, 230, 220))
        noise = rng.normal(0, 6, (480, 640, 3))
        img = Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))
        out.append(img.filter(ImageFilter.GaussianBlur(1)))
    return out


def _photos() -> list[Image.Image]:
    from skimage import data

    return [*_synthetic_photos(), Image.fromarray(data.astronaut()), Image.fromarray(data.coffee())]


def _viewing_luma(img: Image.Image) -> np.ndarray:
    """Luminance at viewing scale: a 256 px wide thumbnail, sigma 1 px (the eye integrates a dot screen)."""
    small = img.convert("L").resize((256, round(img.height * 256 / img.width)), Image.Resampling.BOX)
    return np.asarray(small.filter(ImageFilter.GaussianBlur(1)), np.float32) / 255


EDIT_SIZE = (512, 512)


@pytest.mark.parametrize(
    ("prompt", "style", "palette", "treatment"),
    [
        ("duotone in the show colours", None, ["#1b2a6b", "#f2b705", "#e8543e"], "duotone"),
        ("halftone print", None, None, "halftone"),
        ("vintage poster", None, None, "vintage"),
        ("restyle it", "cinematic", None, "grade"),
        ("restyle it", "neon", ["#0d0221", "#ff2a6d", "#05d9e8"], "duotone"),
    ],
)
def test_edit_treatments_keep_the_subject_and_a_sane_exposure(prompt, style, palette, treatment):
    from skimage.metrics import structural_similarity

    assert choose_treatment(prompt, style, 0) == treatment
    problems = []
    for i, photo in enumerate(_photos()):
        out = stylise(photo, EDIT_SIZE, prompt=prompt, style=style, seed=i, palette=palette)
        assert out.size == EDIT_SIZE
        ref = ImageOps.fit(photo.convert("RGB"), EDIT_SIZE, Image.Resampling.LANCZOS, centering=(0.5, 0.45))
        a, b = _viewing_luma(ref), _viewing_luma(out)
        score = structural_similarity(a, b, data_range=1.0)
        if score < 0.5:
            problems.append(f"photo {i}: SSIM {score:.2f}")
        # Exposure: never near-black or washed out, and not far from the photo's own.
        if not (0.12 <= b.mean() <= 0.85 and abs(b.mean() - a.mean()) <= 0.2):
            problems.append(f"photo {i}: mean luminance {b.mean():.2f} (source {a.mean():.2f})")
        # Harsh posterisation collapses the tones into a few flat ones: compare with the source's.
        tones = (np.histogram(b, bins=64, range=(0, 1))[0] > b.size * 0.002).sum()
        source_tones = (np.histogram(a, bins=64, range=(0, 1))[0] > a.size * 0.002).sum()
        if tones < 0.6 * source_tones:
            problems.append(f"photo {i}: {tones} tones where the source has {source_tones}")
    assert not problems, "\n".join(problems)


def test_edit_treatment_follows_prompt_words_then_style():
    assert choose_treatment("comic book halftone", "vintage", 1) == "halftone"
    assert choose_treatment("make it look retro", None, 1) == "vintage"
    assert choose_treatment("make it pop", "minimalist", 1) == "halftone"
    assert choose_treatment("restyle", "bold", 1) == "halftone"
    assert choose_treatment("restyle", "modern", 1) == "duotone"
    assert choose_treatment("restyle", None, 1) in ("duotone", "halftone", "vintage")
    assert choose_treatment("restyle", None, 1) == choose_treatment("restyle", None, 1)
