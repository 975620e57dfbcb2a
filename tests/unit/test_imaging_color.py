"""Colour science: CIEDE2000 against published reference data, Lab conversions, WCAG contrast, notations."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.color

from webapp.imaging import (
    contrast_ratio,
    delta_e_ciede2000,
    hex_to_rgb,
    lab_to_srgb,
    relative_luminance,
    rgb_to_hex,
    rgb_to_hsl,
    srgb_to_lab,
)

# All 34 pairs of Sharma, Wu & Dalal (2005), "The CIEDE2000 Color-Difference Formula: Implementation Notes,
# Supplementary Test Data, and Mathematical Observations", Table 1: (L1, a1, b1), (L2, a2, b2), dE00.
# They exercise the hue wrap at 180 degrees, zero chroma, and the mean-hue special cases.
SHARMA_2005 = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


# ---------------------------------------------------------------------------------------------------------
# CIEDE2000


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_2005)
def test_ciede2000_matches_sharma_reference_data_to_four_decimals(lab1, lab2, expected):
    assert round(delta_e_ciede2000(lab1, lab2), 4) == pytest.approx(expected, abs=1e-9)


def test_ciede2000_is_symmetric_and_vectorised():
    lab1 = np.array([p[0] for p in SHARMA_2005])
    lab2 = np.array([p[1] for p in SHARMA_2005])
    expected = np.array([p[2] for p in SHARMA_2005])
    forward = delta_e_ciede2000(lab1, lab2)
    assert isinstance(forward, np.ndarray) and forward.shape == (34,)
    np.testing.assert_allclose(forward, expected, atol=5e-5)
    np.testing.assert_allclose(delta_e_ciede2000(lab2, lab1), forward, atol=1e-12)


def test_ciede2000_broadcasts_and_returns_a_float_for_one_pair():
    value = delta_e_ciede2000([50, 2.5, 0], [58, 24, 15])
    assert isinstance(value, float)
    lab1 = np.tile([50.0, 0.0, 0.0], (4, 1, 1))  # (4, 1, 3)
    lab2 = np.tile([60.0, 10.0, -10.0], (1, 5, 1))  # (1, 5, 3)
    grid = delta_e_ciede2000(lab1, lab2)
    assert grid.shape == (4, 5)
    assert delta_e_ciede2000([40, 20, -30], [40, 20, -30]) == 0.0


def test_ciede2000_agrees_with_scikit_image_on_random_colours():
    rng = np.random.default_rng(7)
    lab1 = srgb_to_lab(rng.integers(0, 256, (2000, 3), dtype=np.uint8))
    lab2 = srgb_to_lab(rng.integers(0, 256, (2000, 3), dtype=np.uint8))
    np.testing.assert_allclose(
        delta_e_ciede2000(lab1, lab2), skimage.color.deltaE_ciede2000(lab1, lab2), atol=1e-9
    )


# ---------------------------------------------------------------------------------------------------------
# sRGB <-> CIELAB


def test_lab_of_reference_colours():
    np.testing.assert_allclose(srgb_to_lab([255, 255, 255]), [100, 0, 0], atol=1e-9)
    np.testing.assert_allclose(srgb_to_lab(np.array([0, 0, 0], dtype=np.uint8)), [0, 0, 0], atol=1e-9)
    # Published D65 values for the sRGB primaries (e.g. Bruce Lindbloom's calculator).
    np.testing.assert_allclose(srgb_to_lab([255, 0, 0]), [53.2408, 80.0925, 67.2032], atol=0.01)
    np.testing.assert_allclose(srgb_to_lab([0, 255, 0]), [87.7347, -86.1827, 83.1793], atol=0.01)
    np.testing.assert_allclose(srgb_to_lab([0, 0, 255]), [32.2970, 79.1875, -107.8602], atol=0.01)
    # Middle grey exercises the companding curve: sRGB 119 is L* 50.
    assert srgb_to_lab([119, 119, 119])[0] == pytest.approx(50.0, abs=0.1)


def test_uint8_and_float_inputs_agree_and_shapes_are_kept():
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    lab = srgb_to_lab(pixels)
    assert lab.shape == (6, 7, 3)
    np.testing.assert_allclose(lab, srgb_to_lab(pixels.astype(np.float64)), atol=1e-9)
    np.testing.assert_allclose(lab, skimage.color.rgb2lab(pixels), atol=0.01)  # same maths, own constants


def test_lab_round_trip_is_exact_for_8_bit_colours():
    rng = np.random.default_rng(11)
    pixels = np.concatenate(
        [rng.integers(0, 256, (50_000, 3), dtype=np.uint8), np.eye(3, dtype=np.uint8) * 255]
    )
    back = lab_to_srgb(srgb_to_lab(pixels))
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, pixels)


def test_lab_outside_the_srgb_gamut_is_clipped():
    out = lab_to_srgb([[50, 120, -120], [100, 0, 0], [0, 0, 0]])
    assert out.dtype == np.uint8
    assert out[1].tolist() == [255, 255, 255] and out[2].tolist() == [0, 0, 0]


def test_conversions_refuse_the_wrong_shape():
    with pytest.raises(ValueError):
        srgb_to_lab([1, 2])
    with pytest.raises(ValueError):
        lab_to_srgb(np.zeros((4, 2)))


# ---------------------------------------------------------------------------------------------------------
# WCAG


def test_contrast_extremes():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000") == pytest.approx(21.0)
    assert contrast_ratio("#3a7bd5", "#3a7bd5") == pytest.approx(1.0)


def test_contrast_of_known_pairs():
    # #777777 on white is the classic "looks like 4.5 but fails AA" grey.
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.005)
    assert contrast_ratio("#777777", "#ffffff") < 4.5
    assert contrast_ratio("#767676", "#ffffff") >= 4.5  # the lightest grey that passes
    assert contrast_ratio((0, 0, 255), (255, 255, 255)) == pytest.approx(8.59, abs=0.005)


def test_contrast_is_symmetric():
    assert contrast_ratio("#ff0000", "#00ff00") == contrast_ratio("#00ff00", "#ff0000")


def test_relative_luminance():
    assert relative_luminance((255, 255, 255)) == pytest.approx(1.0)
    assert relative_luminance("#000000") == 0.0
    assert relative_luminance((255, 0, 0)) == pytest.approx(0.2126)
    assert relative_luminance((0, 255, 0)) == pytest.approx(0.7152)
    assert relative_luminance((0, 0, 255)) == pytest.approx(0.0722)
    assert relative_luminance((10, 10, 10)) == pytest.approx(10 / 255 / 12.92)  # linear segment


# ---------------------------------------------------------------------------------------------------------
# Notations


def test_hex_round_trip_and_forms():
    assert hex_to_rgb("#1A2b3C") == (26, 43, 60)
    assert hex_to_rgb("1a2b3c") == (26, 43, 60)
    assert hex_to_rgb("#fa0") == (255, 170, 0)
    assert rgb_to_hex((26, 43, 60)) == "#1a2b3c"
    assert rgb_to_hex(np.array([255, 170, 0], dtype=np.uint8)) == "#ffaa00"
    assert rgb_to_hex((25.6, 43.2, 59.5)) == "#1a2b3c"  # rounded (half to even)


@pytest.mark.parametrize("bad", ["", "#12345", "#12345g", "red", "#1234567"])
def test_bad_hex_is_refused(bad):
    with pytest.raises(ValueError):
        hex_to_rgb(bad)


def test_rgb_out_of_range_is_refused():
    with pytest.raises(ValueError):
        rgb_to_hex((256, 0, 0))
    with pytest.raises(ValueError):
        rgb_to_hex((-1, 0, 0))


@pytest.mark.parametrize(
    ("rgb", "hsl"),
    [
        ((255, 0, 0), (0, 100, 50)),
        ((0, 255, 0), (120, 100, 50)),
        ((0, 0, 255), (240, 100, 50)),
        ((255, 255, 255), (0, 0, 100)),
        ((0, 0, 0), (0, 0, 0)),
        ((128, 128, 128), (0, 0, 50.196)),
        ((255, 0, 128), (329.882, 100, 50)),
        ("#336699", (210, 50, 40)),
    ],
)
def test_rgb_to_hsl(rgb, hsl):
    assert rgb_to_hsl(rgb) == pytest.approx(hsl, abs=1e-3)
