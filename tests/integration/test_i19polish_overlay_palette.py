"""The studio overlay opens with the show's applied palette colours (issue 19: "the overlay does not pick
it up"): text colour = the palette's text role, button colour = its accent, both as "Pick" so the producer
sees and can change them; a show without a palette keeps Automatic; a saved spec still wins."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_palettes import _ingest, _palette, _show

pytestmark = pytest.mark.usefixtures("app")


def _roles(app, palette_id: int) -> dict[str, str]:
    from webapp.extensions import db
    from webapp.models import Palette

    with app.app_context():
        return dict(db.session.get(Palette, palette_id).roles)


def _attach(app, asset_id: int, show_id: int) -> None:
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        db.session.get(Asset, asset_id).show_id = show_id
        db.session.commit()


def _value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no {name} field"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _checked(page: str, name: str) -> str:
    for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', page):
        if "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return ""


def _producer(app, make_user, client):
    from tests.conftest import PASSWORD

    uid, email = make_user()  # producers have the media assistant unless an admin switched it off
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return uid


def test_the_overlay_preselects_the_applied_palettes_colours_and_they_stay_changeable(app, client, make_user):
    uid = _producer(app, make_user, client)
    show_id = _show(app, uid, "Night Bloom")
    pid = _palette(app, uid)
    applied = client.post(f"/palettes/{pid}/apply", data={"show_id": str(show_id)})
    assert applied.status_code in (302, 303)
    asset_id = _ingest(app, uid)
    _attach(app, asset_id, show_id)
    roles = _roles(app, pid)

    page = client.get(f"/studio/assets/{asset_id}/overlay").get_data(as_text=True)
    assert _checked(page, "color_mode") == "custom" and _value(page, "color") == roles["text"].lower()
    assert _checked(page, "accent_mode") == "custom" and _value(page, "accent") == roles["accent"].lower()
    assert "data-overlay-palette" in page and "Test palette" in page
    # The preview image is rendered with those colours (the URL carries them).
    assert f"color={roles['text'].lower().replace('#', '%23')}" in page

    # The producer can still change them: the preview follows what they submit, not the palette.
    changed = client.get(
        f"/studio/assets/{asset_id}/overlay",
        query_string={
            "spec": "1",
            "show": show_id,
            "color_mode": "auto",
            "accent_mode": "custom",
            "accent": "#123456",
            "text_title": "Night Bloom",
            "on_title": "y",
        },
    ).get_data(as_text=True)
    assert _checked(changed, "color_mode") == "auto"
    assert _value(changed, "accent") == "#123456"


def test_without_an_applied_palette_the_overlay_stays_automatic(app, client, make_user):
    uid = _producer(app, make_user, client)
    show_id = _show(app, uid, "Plain Show")
    asset_id = _ingest(app, uid, seed=3)
    _attach(app, asset_id, show_id)
    page = client.get(f"/studio/assets/{asset_id}/overlay").get_data(as_text=True)
    assert _checked(page, "color_mode") == "auto" and _checked(page, "accent_mode") == "auto"
    assert "data-overlay-palette" not in page


def test_fill_in_from_a_show_with_a_palette_takes_its_colours(app, client, make_user):
    uid = _producer(app, make_user, client)
    plain = _show(app, uid, "Plain Show")
    themed = _show(app, uid, "Themed Show")
    pid = _palette(app, uid)
    client.post(f"/palettes/{pid}/apply", data={"show_id": str(themed)})
    asset_id = _ingest(app, uid, seed=5)
    _attach(app, asset_id, plain)
    page = client.get(
        f"/studio/assets/{asset_id}/overlay", query_string={"spec": "1", "show": themed, "fill": "1"}
    ).get_data(as_text=True)
    assert _value(page, "color") == _roles(app, pid)["text"].lower()
    assert _checked(page, "color_mode") == "custom"
