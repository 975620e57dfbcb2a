"""Issue 15 over HTTP (real Postgres, Redis + RQ, the offline provider): the show form's title limit,
prices read in the producer's locale (browser or setting), unsettable characters named, and the overlay's
layouts and nudges re-rendered and saved without a new job or ledger row."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from PIL import Image

from tests.integration.test_shows import _count, _form, _show
from tests.integration.test_studio import counts, generate, job, job_id_of, make_show

pytestmark = pytest.mark.usefixtures("app")


def _asset(app, asset_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        row = db.session.get(Asset, asset_id)
        db.session.expunge(row)
        return row


# --------------------------------------------------------------------------- the show form


def test_the_title_limit_is_the_posters_and_is_stated_on_the_form(app, client, login):
    from webapp.imaging.overlay import MAX_TITLE_CHARS
    from webapp.models import Show

    login()
    page = client.get("/shows/new").get_data(as_text=True)
    assert f'maxlength="{MAX_TITLE_CHARS}"' in page and f"Up to {MAX_TITLE_CHARS} characters" in page
    before = _count(app, Show)
    refused = client.post("/shows", data=_form(title="Jazz " * 41))
    assert refused.status_code == 422 and f"Keep the title to {MAX_TITLE_CHARS}" in refused.get_data(True)
    assert _count(app, Show) == before
    title = ("Midnight Jazz " * 15)[:MAX_TITLE_CHARS].strip()
    assert client.post("/shows", data=_form(title=title)).status_code == 302
    assert _show(app).title == title  # whole, never cut


def test_a_comma_price_is_refused_in_english_and_read_in_german(app, client, login):
    from webapp.models import Show

    login()
    before = _count(app, Show)
    en = client.post(
        "/shows", data=_form(price_min="25,50", price_max=""), headers={"Accept-Language": "en-US"}
    )
    assert en.status_code == 422 and "for cents write 25.50" in en.get_data(as_text=True)
    assert _count(app, Show) == before  # never saved as 2550
    de = client.post(
        "/shows", data=_form(price_min="25,50", price_max="1.250"), headers={"Accept-Language": "de-DE,de"}
    )
    assert de.status_code == 302
    show = _show(app)
    assert (show.price_min, show.price_max) == (Decimal("25.50"), Decimal("1250"))
    edit = client.get(f"/shows/{show.id}/edit", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert 'value="25,50"' in edit  # written back the way it is read, so saving again keeps it


def test_the_locale_setting_wins_over_the_browser(app, client, login):
    login()
    page = client.get("/settings/region").get_data(as_text=True)
    assert "Language and region" in page and "en_US" in page
    saved = client.post("/settings/region", data={"locale": "de_DE"})
    assert saved.status_code == 302
    page = client.get("/settings/region", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "14.–16. März 2027" in page and "25,50" in page
    resp = client.post(
        "/shows", data=_form(price_min="25,50", price_max=""), headers={"Accept-Language": "en"}
    )
    assert resp.status_code == 302 and _show(app).price_min == Decimal("25.50")
    assert client.post("/settings/region", data={"locale": "xx_XX"}).status_code == 422


def test_characters_no_typeface_can_set_are_named_when_the_show_is_saved(app, client, login):
    login()
    resp = client.post("/shows", data=_form(title="Jazz 🎷 東京"), follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "Posters cannot set" in page and "U+1F3B7" in page and "U+6771" in page


# --------------------------------------------------------------------------- layouts and nudges


def test_layouts_and_nudges_re_render_and_save_without_a_new_job_or_ledger_row(app, client, login, run_jobs):
    uid, _ = login()
    show_id = make_show(app, uid)
    resp = generate(client, show=str(show_id))
    run_jobs()
    clean_id = job(app, job_id_of(resp)).result["variations"][0]["asset_id"]
    before = counts(app)

    editor = client.get(f"/studio/assets/{clean_id}/overlay?show={show_id}").get_data(as_text=True)
    assert "Mar 5 – 7" in editor and " · 8 PM" in editor  # the year only when not this year
    assert "VARIOUS" not in editor.upper()
    for label in (
        "Bottom band",
        "Top band",
        "Centred stack",
        "Title top, details bottom",
        "Up 2",
        "Larger 2",
    ):
        assert label in editor
    thumbs = re.findall(r'class="layout-pick__thumb" src="([^"]+)"', editor)
    assert len(thumbs) == 4
    thumb = client.get(thumbs[3].replace("&amp;", "&"))
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.data)).width == 160

    form = {
        "spec": "1",
        "show": str(show_id),
        "font": "bebas",
        "position": "split",
        "offset": "2",
        "size_step": "-1",
        "color_mode": "auto",
        "accent_mode": "auto",
        "on_title": "y",
        "text_title": "Winter Jazz Weekend 🎷",
        "on_venue": "y",
        "text_venue": "The Blue Room",
        "on_cta": "y",
        "text_cta": "Tickets",
    }
    panel = client.get(f"/studio/assets/{clean_id}/overlay", query_string={**form, "panel": "1"})
    text = panel.get_data(as_text=True)
    assert "offset=2" in text and "size_step=-1" in text and "position=split" in text
    assert "U+1F3B7" in text  # named on the form, not drawn as a box
    preview = client.get(f"/studio/assets/{clean_id}/preview.jpg", query_string=form)
    assert preview.status_code == 200

    saved = client.post(f"/studio/assets/{clean_id}/overlay", data=form)
    assert saved.status_code == 302
    edited_id = int(re.search(r"/studio/assets/(\d+)", saved.headers["Location"]).group(1))
    overlay = _asset(app, edited_id).provenance["overlay"]
    assert (overlay["position"], overlay["offset"], overlay["size_step"]) == ("split", 2, -1)
    assert "U+1F3B7" in client.get(f"/studio/assets/{edited_id}").get_data(as_text=True)
    nudged = client.post(
        f"/studio/assets/{clean_id}/overlay", data={**form, "offset": "-2", "size_step": "2"}
    )
    assert nudged.status_code == 302
    assert counts(app) == before  # re-rendered over the same image: no job, no provider call, no ledger row


def test_an_overlay_title_over_the_limit_is_refused_not_cut(app, client, login, run_jobs):
    login()
    resp = generate(client)
    run_jobs()
    clean_id = job(app, job_id_of(resp)).result["variations"][0]["asset_id"]
    form = {"spec": "1", "position": "bottom", "on_title": "y", "text_title": "Jazz " * 45}
    refused = client.post(f"/studio/assets/{clean_id}/overlay", data=form)
    assert refused.status_code == 422 and "That text is too long: at most 200 characters" in refused.get_data(
        as_text=True
    )
