"""Issue 17, formats beyond three: the preset registry, the format parser (hostile input included)
and golden geometry for every preset and a few custom sizes, rendered through the real pipeline."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from webapp.imaging import AutoformatOptions, autoformat_bytes
from webapp.imaging.geometry import FORMATS, SHADOW_MARGIN, placement
from webapp.imaging.presets import (
    BUILTIN_PRESETS,
    DEFAULT_FORMATS,
    MAX_FORMATS,
    MIN_SIDE,
    FormatSpecError,
    Preset,
    check_preset_name,
    format_label,
    format_title,
    parse_format_list,
    parse_format_spec,
)

EXPECTED = {
    "poster": (1200, 1800),
    "square": (1200, 1200),
    "banner": (2160, 1089),
    "ig-post": (1080, 1080),
    "ig-portrait": (1080, 1350),
    "ig-story": (1080, 1920),
    "fb-event": (1920, 1005),
    "x-post": (1600, 900),
}
CUSTOM = {
    "1600x900": (1600, 900),
    "4:5@1350": (1080, 1350),
    "700x2100": (700, 2100),
    "16:9@1280": (1280, 720),
}

RED, BLUE = (220, 30, 30), (20, 40, 220)


def _framed(size: tuple[int, int]) -> bytes:
    """A red image with a thick blue frame: the frame shows whether the whole artwork is visible."""
    w, h = size
    img = Image.new("RGB", size, BLUE)
    b = max(4, min(w, h) // 8)
    ImageDraw.Draw(img).rectangle((b, b, w - 1 - b, h - 1 - b), fill=RED)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _close(px, colour, tol=60) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(px[:3], colour, strict=True))


# ------------------------------------------------------------------------------------------ registry


def test_every_named_preset_exists_with_its_size_and_a_human_title():
    assert {n: p.size for n, p in BUILTIN_PRESETS.items()} == EXPECTED
    assert BUILTIN_PRESETS["ig-story"].title == "Instagram story 1080×1920"
    assert BUILTIN_PRESETS["fb-event"].title == "Facebook event cover 1920×1005"
    # the show formats are unchanged and still the default
    assert DEFAULT_FORMATS == ("poster", "square", "banner") == tuple(FORMATS)
    for name in DEFAULT_FORMATS:
        assert BUILTIN_PRESETS[name].size == FORMATS[name].size


def test_titles_and_labels_of_presets_and_custom_kinds():
    assert format_title("x-post") == "X/Twitter post 1600×900"
    assert format_title("1600x900") == "Custom 1600×900"
    assert format_label("ig-portrait") == "Instagram portrait"
    assert format_label("1600x900") == "Custom size"
    extra = {"tiktok": Preset("tiktok", 1080, 1920, "TikTok cover", "TikTok")}
    assert format_title("tiktok", extra) == "TikTok cover 1080×1920"


# -------------------------------------------------------------------------------------------- parser


@pytest.mark.parametrize("name", list(EXPECTED))
def test_preset_names_parse_to_their_size(name):
    fmt = parse_format_spec(name)
    assert (fmt.name, fmt.size) == (name, EXPECTED[name])
    assert parse_format_spec(f"  {name.upper()} ").size == EXPECTED[name]


@pytest.mark.parametrize(
    "spec, name, size",
    [
        ("1600x900", "1600x900", (1600, 900)),
        ("1600 x 900", "1600x900", (1600, 900)),
        ("1600×900", "1600x900", (1600, 900)),
        ("1600X900", "1600x900", (1600, 900)),
        ("4:5@1350", "1080x1350", (1080, 1350)),
        ("16:9@1920", "1920x1080", (1920, 1080)),
        ("1:1@100", "100x100", (100, 100)),
        ("9:16@4000", "2250x4000", (2250, 4000)),
        ("100x100", "100x100", (100, 100)),
        ("4000x4000", "4000x4000", (4000, 4000)),
    ],
)
def test_custom_sizes_parse(spec, name, size):
    fmt = parse_format_spec(spec)
    assert (fmt.name, fmt.size) == (name, size)


@pytest.mark.parametrize(
    "spec, words",
    [
        ("0x0", "too small"),
        ("99x100", "too small"),
        ("99999x1", "too small"),
        ("4001x900", "too large"),
        ("99999x999", "too large"),
        ("x", "not a preset or a size"),
        ("4:0@100", "zero in its aspect ratio"),
        ("0:5@1000", "zero in its aspect ratio"),
        ("4:5@0", "too small"),
        ("1:100@4000", "too small"),
        ("4:5@99999", "too large"),
        ("", "empty"),
        ("   ", "empty"),
        ("ig_story", "not a preset or a size"),
        ("ig-stories", "not a preset or a size"),
        ("１６００x９００", "not a preset or a size"),  # full-width digits
        ("١٦٠٠x٩٠٠", "not a preset or a size"),  # Arabic-Indic digits
        ("ig-story\u202e", "not a preset or a size"),
        ("poster\n", None),  # stripped: a trailing newline is harmless
        ("1600x900\x00", "not a preset or a size"),
        ("-1600x900", "not a preset or a size"),
        ("1600x-900", "not a preset or a size"),
        ("1e3x900", "not a preset or a size"),
        ("1600x900x3", "not a preset or a size"),
        ("a" * 500, "not a format"),
        ("../../etc/passwd", "not a preset or a size"),
    ],
)
def test_hostile_and_wrong_specs_are_refused_with_what_to_do(spec, words):
    if words is None:
        assert parse_format_spec(spec).name == "poster"
        return
    with pytest.raises(FormatSpecError) as err:
        parse_format_spec(spec)
    message = err.value.message
    assert words in message
    # every refusal says what is accepted, within the limits
    assert "Use a preset name (poster, square, banner, ig-post" in message
    assert f"WIDTHxHEIGHT between {MIN_SIDE}x{MIN_SIDE} and 4000x4000 px" in message
    assert len(message) < 700 and "\x00" not in message


@pytest.mark.parametrize("value", [None, 1600, 16.9, ["poster"], {"w": 1}, b"poster"])
def test_non_text_specs_are_refused(value):
    with pytest.raises(FormatSpecError, match="must be text"):
        parse_format_spec(value)


def test_limits_come_from_the_caller():
    assert parse_format_spec("3000x2000", max_width=3000, max_height=2000).size == (3000, 2000)
    with pytest.raises(FormatSpecError, match="most is 2000x2000"):
        parse_format_spec("2001x100", max_width=2000, max_height=2000)


def test_lists_dedupe_keep_order_and_are_bounded():
    got = parse_format_list("ig-story, poster,1600x900, ig-story ,poster")
    assert [f.name for f in got] == ["ig-story", "poster", "1600x900"]
    assert [f.name for f in parse_format_list(["4:5@1350", "1080x1350"])] == ["1080x1350"]
    with pytest.raises(FormatSpecError, match="at least one"):
        parse_format_list(" , ,")
    with pytest.raises(FormatSpecError, match=f"at most {MAX_FORMATS}"):
        parse_format_list([f"{100 + i}x{100 + i}" for i in range(MAX_FORMATS + 1)])
    with pytest.raises(FormatSpecError, match="“nope”"):
        parse_format_list("poster,nope")


def test_extra_presets_are_accepted_and_named_in_the_hint():
    extra = {"tiktok": Preset("tiktok", 1080, 1920, "TikTok cover", "TikTok")}
    assert parse_format_spec("tiktok", extra=extra).size == (1080, 1920)
    with pytest.raises(FormatSpecError, match="tiktok"):
        parse_format_spec("nope", extra=extra)
    with pytest.raises(FormatSpecError):
        parse_format_spec("tiktok")


@pytest.mark.parametrize(
    "name, ok",
    [
        ("tiktok-cover", True),
        ("a", True),
        ("a234567890123456", True),
        ("a2345678901234567", False),  # 17 chars
        ("TikTok", False),
        ("tik tok", False),
        ("tik_tok", False),
        ("1080x1920", False),
        ("-cover", False),
        ("poster", False),
        ("ig-story", False),
        ("original", False),
        ("généré", False),
        ("cover\n", False),
        ("", False),
        (None, False),
    ],
)
def test_preset_names_admins_may_choose(name, ok):
    assert (check_preset_name(name) is None) is ok


# ------------------------------------------------------------------------------------ golden geometry


@pytest.mark.parametrize("spec", [*EXPECTED, *CUSTOM])
@pytest.mark.parametrize("src", [(900, 600), (500, 1000)])
@pytest.mark.parametrize("fill", ["blur", "solid"])
def test_fit_modes_give_the_exact_size_with_the_whole_unstretched_artwork(spec, src, fill):
    target = parse_format_spec(spec)
    expected = EXPECTED.get(spec) or CUSTOM[spec]
    data = _framed(src)
    (res,) = autoformat_bytes(
        data, [target], options=AutoformatOptions(fill=fill, shadow=True), out_format="jpeg"
    )
    assert (res.width, res.height) == expected
    out = Image.open(io.BytesIO(res.data)).convert("RGB")
    assert out.size == expected

    left, top, right, bottom = placement(src, expected, shadow=True)
    pw, ph = right - left, bottom - top
    # no stretching: the placed artwork keeps the source's aspect ratio (to the rounding pixel)
    assert abs(pw * src[1] - ph * src[0]) <= max(src), (pw, ph)
    assert abs(pw / ph - src[0] / src[1]) < 0.01
    # it fills the canvas (minus the shadow margin) in its binding dimension
    assert pw == expected[0] - 2 * SHADOW_MARGIN or ph == expected[1] - 2 * SHADOW_MARGIN
    # the whole artwork is visible: its blue frame is there at all four corners, red in the middle
    depth = max(2, min(pw, ph) // 16)
    for x, y in (
        (left + depth, top + depth),
        (right - 1 - depth, top + depth),
        (left + depth, bottom - 1 - depth),
        (right - 1 - depth, bottom - 1 - depth),
    ):
        assert _close(out.getpixel((x, y)), BLUE), (spec, fill, (x, y), out.getpixel((x, y)))
    assert _close(out.getpixel(((left + right) // 2, (top + bottom) // 2)), RED)


@pytest.mark.parametrize("spec", [*EXPECTED, *CUSTOM])
def test_crop_fills_exactly_when_little_is_lost_and_falls_back_otherwise(spec):
    target = parse_format_spec(spec)
    near = (target.width * 3 // 2 + 1, round(target.height * 1.5 * 1.03))  # ~3% off the target's aspect
    far = (
        (target.height, target.width) if target.width != target.height else (target.width * 2, target.height)
    )
    for src, expect_fill in ((near, "crop"), (far, "blur")):
        (res,) = autoformat_bytes(
            _framed(src), [target], options=AutoformatOptions(fill="crop"), out_format="jpeg"
        )
        assert (res.width, res.height) == target.size
        assert Image.open(io.BytesIO(res.data)).size == target.size
        assert res.fill_used == expect_fill, (spec, src, res.fill_used, res.note)
        if expect_fill == "blur":
            assert res.note  # the producer is told why crop was not used


def test_one_decode_renders_every_preset_in_the_order_asked():
    targets = parse_format_list(list(EXPECTED) + list(CUSTOM))
    results = autoformat_bytes(_framed((1200, 800)), targets, out_format="jpeg")
    assert [r.name for r in results] == [t.name for t in targets]
    for r, t in zip(results, targets, strict=True):
        assert (r.width, r.height) == t.size and r.mime_type == "image/jpeg"
        assert Image.open(io.BytesIO(r.data)).size == t.size
