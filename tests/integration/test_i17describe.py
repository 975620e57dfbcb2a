"""Describe every image (issue 17) over the real app: offline words at creation and on first view,
producer edits (page and API), library search, alt= on tiles and show slots, download names."""

from __future__ import annotations

import html
import io
import zipfile

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def world(app, client, make_user, run_jobs, photo_jpeg):
    """A producer (logged in on `client`, plus a write token) with an upload made for a show,
    auto-formatted, and a generated image with a prompt for the same show."""
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import actions, generation, providers, shows, tokens
    from webapp.services.assets import ingest_upload

    uid, email = make_user()
    client.post("/login", data={"email": email, "password": PASSWORD})
    with app.app_context():
        providers.ensure_providers()
        user = db.session.get(User, uid)
        upload = ingest_upload(user, photo_jpeg, "IMG_2041.jpg").asset
        show = shows.create_show(user, {"title": "Midnight Jazz", "venue_name": "Blue Room"})
        upload.show_id = show.id  # uploaded for the show: its formats inherit it
        db.session.commit()
        ids = {"user": uid, "upload": upload.id, "show": show.id}
        upload_words = (upload.described_by, upload.title, upload.alt_text)
        actions.autoformat_asset(user, upload.id)
        actions.generate(
            user,
            generation.GenerationRequest(
                prompt="A saxophone glowing in blue neon. Rainy street.",
                provider="local",
                variations=1,
                show_id=show.id,
                image_type="square",
            ),
        )
        _, plaintext = tokens.create(user, "test", "write")
    run_jobs()
    with app.app_context():
        for a in db.session.scalars(select(Asset).where(Asset.owner_id == uid)):
            ids[a.kind] = a.id
    return ids, {"Authorization": f"Bearer {plaintext}"}, upload_words


def _asset(app, asset_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        row = db.session.get(Asset, asset_id)
        db.session.expunge(row)
        return row


def test_every_new_image_is_described_offline(app, client, world):
    ids, _, (by, title, alt) = world
    assert (by, title) == ("offline", "Img 2041") and alt.startswith("Image.")
    poster = _asset(app, ids["poster"])
    assert poster.described_by == "offline"
    assert poster.title == "Midnight Jazz, Blue Room"
    assert poster.alt_text.startswith("Poster for Midnight Jazz at Blue Room")
    assert "Dates to be announced" in poster.description and {"poster", "midnight jazz"} <= set(poster.tags)
    generated = _asset(app, ids["generated"])
    assert generated.alt_text.startswith("Artwork for Midnight Jazz at Blue Room: A saxophone glowing")
    assert {"ai generated", "saxophone"} <= set(generated.tags)
    page = client.get(f"/assets/{ids['poster']}").get_data(as_text=True)
    assert "Written automatically from the prompt and show — edit it." in page
    assert f'alt="{html.escape(poster.alt_text)}"' in page
    api = client.get(f"/api/v1/assets/{ids['poster']}", headers=world[1]).json
    assert api["alt_text"] == poster.alt_text and api["tags"] == poster.tags
    assert api["title"] == poster.title and api["described_by"] == "offline"


def test_older_images_are_described_when_first_shown(app, client, world):
    from webapp.extensions import db
    from webapp.models import Asset

    ids, _, _ = world
    with app.app_context():
        db.session.execute(
            update(Asset)
            .where(Asset.id == ids["banner"])
            .values(alt_text=None, title=None, described_by=None)
        )
        db.session.commit()
    page = client.get("/library").get_data(as_text=True)
    banner = _asset(app, ids["banner"])
    assert banner.described_by == "offline" and banner.title == "Midnight Jazz, Blue Room"
    assert isinstance(banner.tags, list) and "banner" in banner.tags
    assert f'alt="{html.escape(banner.alt_text)}"' in page


def test_the_producer_edits_the_words_on_the_asset_page(app, client, world):
    ids, _, _ = world
    url = f"/assets/{ids['square']}/describe"
    too_long = client.post(
        url, data={"alt_text": "a" * 251, "title": "ok", "tags": ",".join("abcdefghijklm")}
    )
    body = too_long.get_data(as_text=True)
    assert too_long.status_code == 400
    assert (
        "251 characters; shorten it to 250 or fewer." in body and "13 tags given; keep 12 or fewer." in body
    )
    assert _asset(app, ids["square"]).described_by == "offline"  # nothing written
    resp = client.post(
        url,
        data={
            "alt_text": "A saxophonist under a blue spotlight",
            "title": "Café Müller — Ünïcödé 🎷",
            "description": "Square for Instagram.",
            "tags": "Saxophone, Spotlight",
        },
    )
    assert resp.status_code == 303
    square = _asset(app, ids["square"])
    assert square.described_by == "producer" and square.tags == ["saxophone", "spotlight"]
    assert square.title == "Café Müller — Ünïcödé 🎷"
    page = client.get(f"/assets/{ids['square']}").get_data(as_text=True)
    assert "Written by you." in page and 'alt="A saxophonist under a blue spotlight"' in page
    download = client.get(f"/assets/{ids['square']}/download")
    assert download.headers["Content-Disposition"] == "attachment; filename=cafe-muller-unicode-square.jpg"
    download.close()


def test_the_api_edits_the_words_with_clear_errors(app, client, make_user, world):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    ids, h, _ = world
    url = f"/api/v1/assets/{ids['poster']}"
    bad = client.patch(url, json={"title": "t" * 121, "tags": [f"t{i}" for i in range(13)]}, headers=h)
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"title", "tags"}
    assert "shorten it to 120" in bad.json["errors"]["title"][0]
    assert client.patch(url, json={"colour": "red"}, headers=h).status_code == 422
    ok = client.patch(url, json={"title": "Midnight Jazz Poster", "tags": ["Jazz", "Poster"]}, headers=h)
    assert ok.status_code == 200, ok.json
    assert ok.json["title"] == "Midnight Jazz Poster" and ok.json["tags"] == ["jazz", "poster"]
    assert ok.json["described_by"] == "producer" and ok.json["alt_text"].startswith("Poster for")
    other, _ = make_user()
    with app.app_context():
        _, theirs = tokens.create(db.session.get(User, other), "t", "write")
    resp = client.patch(url, json={"title": "Mine now"}, headers={"Authorization": f"Bearer {theirs}"})
    assert resp.status_code == 404


def test_library_search_finds_images_by_their_words(client, world):
    ids, h, _ = world
    client.patch(f"/api/v1/assets/{ids['banner']}", json={"tags": ["trumpet"], "title": "Horns"}, headers=h)
    by_tag = client.get("/library?q=trumpet").get_data(as_text=True)
    assert f"/assets/{ids['banner']}" in by_tag and f"/assets/{ids['poster']}" not in by_tag
    by_title = client.get("/api/v1/assets?q=horns", headers=h).json
    assert [a["id"] for a in by_title["items"]] == [ids["banner"]]
    by_alt = client.get("/library?q=glowing+in+blue+neon").get_data(as_text=True)
    assert f"/assets/{ids['generated']}" in by_alt


def test_show_slots_use_the_alt_text_and_zips_get_unique_names(app, client, world):
    ids, h, _ = world
    resp = client.post(f"/shows/{ids['show']}/slots/poster", data={"asset_id": str(ids["poster"])})
    assert resp.status_code in (200, 302, 303)
    poster = _asset(app, ids["poster"])
    page = client.get(f"/shows/{ids['show']}").get_data(as_text=True)
    assert f'alt="{html.escape(poster.alt_text)}"' in page
    # Two formats with the same title: the ZIP numbers the second; an untitled one keeps its stem.
    for kind in ("square", "banner"):
        client.patch(f"/api/v1/assets/{ids[kind]}", json={"title": "Midnight Jazz"}, headers=h)
    client.patch(f"/api/v1/assets/{ids['upload']}", json={"title": ""}, headers=h)
    zipped = client.get(
        f"/library/download.zip?ids={ids['poster']}&ids={ids['square']}&ids={ids['banner']}&ids={ids['upload']}"
    )
    names = sorted(zipfile.ZipFile(io.BytesIO(zipped.data)).namelist())
    assert names == sorted(
        [
            "midnight-jazz-blue-room-poster.jpg",
            "midnight-jazz-square.jpg",
            "midnight-jazz-banner.jpg",
            "img_2041.jpg".replace("_", "-"),
        ]
    )
