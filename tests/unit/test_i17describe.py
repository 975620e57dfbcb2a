"""Offline descriptions and search-friendly file names (issue 17): pure functions, no database."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest

from webapp.models import Asset, Show
from webapp.services import describe
from webapp.services.zipstream import stream_zip


def _asset(**kw) -> Asset:
    base = {
        "kind": "original",
        "filename": "IMG_2041.jpg",
        "content_type": "image/jpeg",
        "width": 1600,
        "height": 1067,
        "media_kind": "image",
        "source": "upload",
        "prompt": None,
        "dominant_colors": [
            {"hex": "#1c2a8f", "share": 0.2},
            {"hex": "#101010", "share": 0.5},
            {"hex": "#121212", "share": 0.1},
        ],
    }
    return Asset(**{**base, **kw})


def test_colour_names_are_plain_words_most_covering_first():
    assert describe.color_name("#1c2a8f") == "navy"
    assert describe.color_name("#f2ea30") == "yellow"
    assert describe.color_name("not a colour") is None
    assert describe.dominant_color_names(_asset()) == ["black", "navy"]  # the two blacks name once
    assert describe.dominant_color_names(_asset(dominant_colors=[])) == []


def test_an_upload_is_described_from_its_name_format_and_colours():
    words = describe.compose_offline(_asset(), None)
    assert words["title"] == "Img 2041"
    assert words["alt_text"] == "Image. Mostly black and navy."
    assert "1600×1067, landscape" in words["description"]
    assert words["tags"][:4] == ["original", "landscape", "black", "navy"]


def test_a_format_made_for_a_show_names_the_show_venue_and_dates():
    show = Show(title="Midnight Jazz", venue_name="Blue Room", performances=[])
    words = describe.compose_offline(_asset(kind="poster", width=1080, height=1350), show)
    assert words["title"] == "Midnight Jazz, Blue Room"
    assert words["alt_text"].startswith("Poster for Midnight Jazz at Blue Room")
    assert "Dates to be announced" in words["description"]
    assert {"poster", "portrait", "midnight jazz", "blue room"} <= set(words["tags"])


def test_a_generated_image_is_described_from_its_prompt_within_the_limits():
    prompt = "A saxophone glowing in blue neon over a rainy street. Moody, cinematic. " + "x " * 400
    words = describe.compose_offline(_asset(kind="generated", source="ai", prompt=prompt), None)
    assert words["title"] == "A saxophone glowing in blue neon over a rainy street"
    assert words["alt_text"].startswith("Artwork: A saxophone glowing in blue neon")
    assert "ai generated" in words["tags"] and "saxophone" in words["tags"]
    assert len(words["alt_text"]) <= 250 and len(words["description"]) <= 500
    assert len(words["tags"]) <= 12 and all(t == t.lower() and len(t) <= 30 for t in words["tags"])


def test_edits_are_checked_field_by_field():
    clean = describe.validate_description(
        {"alt_text": "  A  poster ", "title": "", "tags": "Jazz, jazz , Blue Room,"}
    )
    assert clean == {"alt_text": "A poster", "title": None, "tags": ["jazz", "blue room"]}
    with pytest.raises(describe.DescriptionError) as exc:
        describe.validate_description(
            {
                "alt_text": "a" * 251,
                "title": "t" * 121,
                "description": "d" * 501,
                "tags": [str(i) for i in range(13)],
            }
        )
    assert set(exc.value.errors) == {"alt_text", "title", "description", "tags"}
    assert "251 characters; shorten it to 250" in exc.value.errors["alt_text"]
    assert "13 tags given; keep 12 or fewer" in exc.value.errors["tags"]
    with pytest.raises(describe.DescriptionError, match="Write alt text"):
        describe.validate_description({"alt_text": "   "})
    with pytest.raises(describe.DescriptionError, match="30 characters"):
        describe.validate_description({"tags": ["x" * 31]})
    with pytest.raises(describe.DescriptionError, match="must be text"):
        describe.validate_description({"title": 5})


def test_file_names_are_ascii_slugs_from_the_title_and_format():
    assert describe.slugify("Café Müller — Ünïcödé 🎷") == "cafe-muller-unicode"
    poster = _asset(kind="poster", title="Midnight Jazz, Blue Room")
    assert describe.download_filename(poster) == "midnight-jazz-blue-room-poster.jpg"
    assert describe.download_filename(_asset(title="Café Müller — Ünïcödé 🎷")) == "cafe-muller-unicode.jpg"
    # No title, or one with nothing ASCII left: the stored file name's stem; then "marquee".
    assert describe.download_filename(_asset(title=None)) == "img-2041.jpg"
    assert describe.download_filename(_asset(title="🎷🎺", kind="square")) == "img-2041-square.jpg"
    assert describe.download_filename(_asset(title="", filename="🎷.png", content_type="image/png")) == (
        "marquee.png"
    )
    long = describe.download_filename(_asset(kind="banner", title="word " * 40))
    assert len(long) <= 80 + len(".jpg") and long.endswith("-banner.jpg") and "--" not in long


def test_names_repeated_in_a_zip_get_numbered():
    when = datetime(2026, 12, 3, tzinfo=UTC)
    names = [describe.download_filename(_asset(kind="poster", title="Same Show")) for _ in range(3)]
    data = b"".join(stream_zip([(n, when, [b"x"]) for n in names]))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == [
        "same-show-poster.jpg",
        "same-show-poster-2.jpg",
        "same-show-poster-3.jpg",
    ]
