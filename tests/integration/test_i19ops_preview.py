"""The show's preview page in its applied palette, and its share link."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image
from sqlalchemy import select

from tests.integration.test_shows import _form

pytestmark = pytest.mark.usefixtures("app")
ROLES = {
    "background": "#101820",
    "surface": "#1c2630",
    "text": "#f4efe6",
    "primary": "#f2aa4c",
    "secondary": "#3a4f63",
    "accent": "#e4572e",
}


def _poster_bytes() -> bytes:
    img = Image.new("RGB", (1200, 1800), (60, 30, 90))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def _show_with_palette_and_poster(app, client, uid: int) -> int:
    from webapp.extensions import db
    from webapp.models import Palette, Show, User
    from webapp.services import shows as show_service
    from webapp.services.assets import ingest_upload

    resp = client.post("/shows", data=_form(title="Midnight Jazz at the Blue Room"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:800]
    with app.app_context():
        show = db.session.scalar(select(Show).where(Show.owner_id == uid))
        palette = Palette(owner_id=uid, name="Blue room", colors=[], roles=ROLES, status="approved")
        db.session.add(palette)
        db.session.flush()
        show.palette_id = palette.id
        poster = ingest_upload(db.session.get(User, uid), _poster_bytes(), "poster.jpg").asset
        poster.kind = "poster"  # as auto-format's poster output is
        db.session.commit()
        show_service.assign_slot(show, "poster", poster)
        db.session.commit()
        return show.id


def test_preview_is_themed_and_shareable(app, client, login):
    uid, _ = login()
    show_id = _show_with_palette_and_poster(app, client, uid)

    page = client.get(f"/shows/{show_id}/preview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("Midnight Jazz at the Blue Room", "Roxy Hall", "Ada Lovelace · Grace Hopper", "Get Tickets"):
        assert text in html
    assert 'href="https://tickets.example.com/revue"' in html
    assert f"/shows/{show_id}/preview/theme.css" in html
    css = client.get(f"/shows/{show_id}/preview/theme.css")
    assert css.mimetype == "text/css"
    assert "--show-background: #101820;" in css.get_data(as_text=True)
    assert "--show-accent: #e4572e;" in css.get_data(as_text=True)
    assert client.get(f"/shows/{show_id}/preview/poster").status_code == 200

    # The share link works without an account: page, theme and poster; nothing else of the owner.
    share = html.split('aria-label="Share link"')[0].rsplit('value="', 1)[1].split('"', 1)[0]
    token = parse_qs(urlparse(share.replace("&amp;", "&")).query)["share"][0]
    stranger = app.test_client()
    shared = stranger.get(f"/shows/{show_id}/preview?share={token}")
    assert shared.status_code == 200 and "Midnight Jazz at the Blue Room" in shared.get_data(as_text=True)
    assert "Share link" not in shared.get_data(as_text=True)
    assert stranger.get(f"/shows/{show_id}/preview/theme.css?share={token}").status_code == 200
    poster = stranger.get(f"/shows/{show_id}/preview/poster?share={token}")
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert stranger.get(f"/shows/{show_id}").status_code == 302  # the show page itself needs a login

    # A forged, altered or other show's token shows nothing; no token at all asks to log in.
    assert stranger.get(f"/shows/{show_id}/preview?share={token[:-2]}xx").status_code == 404
    assert stranger.get(f"/shows/{show_id + 1}/preview?share={token}").status_code == 404
    assert stranger.get(f"/shows/{show_id}/preview").status_code == 302


def test_preview_of_another_producers_show_is_404(app, client, login, make_user):
    from tests.conftest import PASSWORD

    uid, _ = login()
    show_id = _show_with_palette_and_poster(app, client, uid)
    other = app.test_client()
    _, email = make_user()
    other.post("/login", data={"email": email, "password": PASSWORD})
    assert other.get(f"/shows/{show_id}/preview").status_code == 404
    assert other.get(f"/shows/{show_id}/preview/poster").status_code == 404


def test_show_images_include_its_slots(app, client, login):
    uid, _ = login()
    show_id = _show_with_palette_and_poster(app, client, uid)
    html = client.get(f"/shows/{show_id}").get_data(as_text=True)
    assert "No images have been made for this show yet." not in html
    assert "1 image" in html


def test_palette_preview_card_uses_the_shows_words(app, client, login):
    uid, _ = login()
    show_id = _show_with_palette_and_poster(app, client, uid)
    from webapp.extensions import db
    from webapp.models import Show

    with app.app_context():
        palette_id = db.session.get(Show, show_id).palette_id
    html = client.get(f"/palettes/{palette_id}?show={show_id}").get_data(as_text=True)
    assert "Doors 7 pm" not in html and "All ages" not in html
