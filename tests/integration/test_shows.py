"""Shows: create and edit with validation, dates in the venue's zone, slots, fill from a real
auto-format job, delete, the feature flag, and who may reach which route. Real Postgres and Redis."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

pytestmark = pytest.mark.usefixtures("app")


# --------------------------------------------------------------------------- helpers


def _form(**overrides) -> dict:
    """A valid show form: one performance in New York, two blank rows."""
    data = {
        "title": "The Midnight Revue",
        "venue_name": "Roxy Hall",
        "venue_address": "12 Main Street\nSpringfield",
        "timezone": "America/New_York",
        "currency": "USD",
        "price_min": "25",
        "price_max": "60",
        "performers": "Ada Lovelace\n\n  Grace Hopper  \n",
        "cta_text": "Get Tickets",
        "ticket_url": "https://tickets.example.com/revue",
        "performances-0-performance_id": "",
        "performances-0-date": "2026-03-06",
        "performances-0-time": "20:00",
        "performances-0-timezone": "",
        "performances-1-performance_id": "",
        "performances-1-date": "",
        "performances-1-time": "",
        "performances-1-timezone": "",
        "performances-2-performance_id": "",
        "performances-2-date": "",
        "performances-2-time": "",
        "performances-2-timezone": "Europe/London",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(app, model) -> int:
    from webapp.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _show(app, show_id: int | None = None):
    """The show (latest when no id), detached with its performances loaded."""
    from webapp.extensions import db
    from webapp.models import Show

    with app.app_context():
        query = (
            select(Show).order_by(Show.id.desc())
            if show_id is None
            else select(Show).where(Show.id == show_id)
        )
        show = db.session.scalar(query)
        if show is not None:
            list(show.performances)
            db.session.expunge_all()
        return show


def _asset(app, owner_id: int, kind: str, size: tuple[int, int], **extra) -> int:
    """An asset row (the bytes are not needed to assign it to a slot)."""
    from webapp.extensions import db
    from webapp.models import Asset

    sha = uuid.uuid4().hex + uuid.uuid4().hex
    with app.app_context():
        asset = Asset(
            owner_id=owner_id,
            kind=kind,
            storage_key=f"users/{owner_id}/{sha[:2]}/{sha}.jpg",
            filename=f"{kind}-{sha[:6]}.jpg",
            content_type="image/jpeg",
            bytes=1000,
            width=size[0],
            height=size[1],
            sha256=sha,
            **extra,
        )
        db.session.add(asset)
        db.session.commit()
        return asset.id


def _make_show(app, owner_id: int, **data) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import shows as show_service

    with app.app_context():
        owner = db.session.get(User, owner_id)
        return show_service.create_show(owner, {"title": "Owned show", **data}).id


def _succeeded_job(app, owner_id: int) -> int:
    """A finished auto-format job row with its three outputs (for routes that only read it)."""
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = Job(owner_id=owner_id, kind="autoformat", status="succeeded", progress=100, input={})
        db.session.add(job)
        db.session.commit()
        sizes = {"poster": (1200, 1800), "square": (1200, 1200), "banner": (2160, 1089)}
        ids = [_asset(app, owner_id, kind, size, job_id=job.id) for kind, size in sizes.items()]
        job = db.session.get(Job, job.id)
        job.result = {"asset_ids": ids}
        db.session.commit()
        return job.id


def _upload(client, data: bytes, name: str = "artwork.jpg"):
    form = {"image": (io.BytesIO(data), name), "output": "jpeg", "darken": "15", "shadow": "y"}
    form.update({"fill_poster": "blur", "fill_square": "blur", "fill_banner": "blur"})
    return client.post("/autoformat", data=form, content_type="multipart/form-data")


def _text(resp) -> str:
    """The body with HTML entities decoded, so messages read as the producer sees them."""
    return html.unescape(resp.get_data(as_text=True))


# --------------------------------------------------------------------------- create / edit


def test_created_show_stores_performances_in_utc_and_shows_them_in_venue_time(app, client, login):
    login()
    resp = client.post(
        "/shows",
        data=_form(
            **{
                "performances-1-date": "2026-07-04",
                "performances-1-time": "7:30 pm",
                "performances-1-timezone": "Europe/London",
            }
        ),
    )
    show = _show(app)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/shows/{show.id}")
    assert show.title == "The Midnight Revue" and show.timezone == "America/New_York"
    assert show.performers == ["Ada Lovelace", "Grace Hopper"]
    assert (show.price_min, show.price_max, show.currency) == (Decimal("25"), Decimal("60"), "USD")
    first, second = show.performances
    assert first.starts_at == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # 20:00 EST is 01:00 UTC next day
    assert first.timezone == "America/New_York"
    assert second.starts_at == datetime(2026, 7, 4, 18, 30, tzinfo=UTC)  # 19:30 BST
    assert second.timezone == "Europe/London"

    page = _text(client.get(f"/shows/{show.id}"))
    assert "Fri 6 March 2026, 8:00 pm (America/New_York)" in page
    assert "Sat 4 July 2026, 7:30 pm (Europe/London)" in page
    assert "$25–$60" in page
    assert "No palette applied yet" in page
    assert 'href="https://tickets.example.com/revue"' in page
    for slot in ("poster", "square", "banner"):
        assert f'id="slot-{slot}"' in page
    assert page.count("Assign an image") == 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Give the show a title"),
        ({"title": "x" * 201}, "200 characters"),
        ({"ticket_url": "javascript:alert(1)"}, "starting with https://"),
        ({"ticket_url": "tickets.example.com"}, "starting with https://"),
        ({"price_min": "80", "price_max": "60"}, "lowest price is higher than the highest"),
        ({"price_min": "-5"}, "cannot be negative"),
        ({"price_min": "ten"}, "Enter a number such as 25"),
        ({"timezone": "Mars/Olympus_Mons"}, "is not a time zone we know"),
        (
            {
                "performances-2-date": "2026-04-01",
                "performances-2-time": "19:00",
                "performances-2-timezone": "Nowhere/X",
            },
            "is not a time zone we know",
        ),
        ({"performances-0-date": "2026-02-30"}, "Enter the date as YYYY-MM-DD"),
        ({"performances-0-time": "25:99"}, "Enter the start time as HH:MM"),
        ({"performances-0-time": ""}, "Add the start time"),
        (
            {
                "performances-0-date": "2026-03-29",
                "performances-0-time": "01:30",
                "timezone": "Europe/London",
            },
            "clocks go forward",
        ),
        ({"performers": "\n".join(f"Act {i}" for i in range(31))}, "at most 30"),
        ({"performers": "y" * 121}, "120 characters"),
        ({"cta_text": "z" * 61}, "60 characters"),
        ({"currency": "XYZ"}, "Not a valid choice"),
    ],
)
def test_invalid_show_form_is_shown_again_with_422_and_what_to_fix(app, client, login, overrides, message):
    from webapp.models import Show

    login()
    resp = client.post("/shows", data=_form(**overrides))
    body = _text(resp)
    assert resp.status_code == 422
    assert message in body
    assert "field--error" in body and "Check the fields marked below" in body
    assert _count(app, Show) == 0


def test_show_without_performances_is_allowed_as_a_draft_with_a_hint(app, client, login):
    login()
    resp = client.post("/shows", data=_form(**{"performances-0-date": "", "performances-0-time": ""}))
    assert resp.status_code == 302
    show = _show(app)
    assert show.performances == []
    page = _text(client.get(f"/shows/{show.id}"))
    assert "No performances yet" in page and "Dates to be announced" in page


def test_empty_prices_read_free_and_single_price_reads_one_amount(app, client, login):
    login()
    client.post("/shows", data=_form(price_min="", price_max=""))
    assert "Free" in _text(client.get(f"/shows/{_show(app).id}"))
    client.post("/shows", data=_form(title="Euro night", currency="EUR", price_min="12.5", price_max=""))
    assert "€12.50" in _text(client.get(f"/shows/{_show(app).id}"))


def test_edit_form_shows_local_times_and_saves_removals_and_new_dates(app, client, login):
    login()
    client.post(
        "/shows",
        data=_form(**{"performances-1-date": "2026-03-07", "performances-1-time": "20:00"}),
    )
    show = _show(app)
    first, second = show.performances

    edit = _text(client.get(f"/shows/{show.id}/edit"))
    assert 'value="2026-03-06"' in edit and 'value="20:00"' in edit  # venue time, not UTC
    assert edit.count('type="date"') == 5  # two existing rows + three blank ones
    assert "Remove" in edit

    resp = client.post(
        f"/shows/{show.id}/edit",
        data=_form(
            title="The Midnight Revue (extended)",
            **{
                "performances-0-performance_id": str(first.id),
                "performances-0-date": "2026-03-06",
                "performances-0-time": "21:00",
                "performances-1-performance_id": str(second.id),
                "performances-1-date": "2026-03-07",
                "performances-1-time": "20:00",
                "performances-1-remove": "y",
                "performances-2-date": "2026-03-08",
                "performances-2-time": "15:00",
                "performances-2-timezone": "",
            },
        ),
    )
    assert resp.status_code == 302
    edited = _show(app, show.id)
    assert edited.title == "The Midnight Revue (extended)"
    assert [(p.id, p.starts_at) for p in edited.performances] == [
        (first.id, datetime(2026, 3, 7, 2, 0, tzinfo=UTC)),
        (
            edited.performances[1].id,
            datetime(2026, 3, 8, 19, 0, tzinfo=UTC),
        ),  # 15:00 EDT (after 8 March switch)
    ]
    assert edited.performances[1].id not in (first.id, second.id)


def test_performance_ids_of_another_show_are_not_moved_by_an_edit(app, client, login):
    uid, _ = login()
    victim = _make_show(app, uid, performances=[{"starts_at": datetime(2026, 5, 1, 19), "timezone": "UTC"}])
    victim_perf = _show(app, victim).performances[0].id
    client.post("/shows", data=_form())
    mine = _show(app)
    client.post(f"/shows/{mine.id}/edit", data=_form(**{"performances-0-performance_id": str(victim_perf)}))
    assert _show(app, victim).performances[0].id == victim_perf
    assert _show(app, mine.id).performances[0].id != victim_perf


def test_add_more_dates_shows_three_more_blank_rows_without_saving(app, client, login):
    from webapp.models import Show

    login()
    resp = client.post("/shows", data=_form(title="", more_dates="1"))
    body = _text(resp)
    assert resp.status_code == 200
    assert body.count('type="date"') == 6
    assert "field--error" not in body
    assert _count(app, Show) == 0


def test_htmx_form_post_returns_partial_on_error_and_redirect_header_on_success(app, client, login):
    login()
    bad = client.post("/shows", data=_form(title=""), headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "<html" not in _text(bad) and 'id="show-form"' in _text(bad)
    good = client.post("/shows", data=_form(), headers={"HX-Request": "true"})
    assert good.status_code == 200 and good.headers["HX-Redirect"] == f"/shows/{_show(app).id}"


def test_new_show_defaults_to_the_zone_of_the_producers_latest_show(app, client, login):
    login()
    client.post("/shows", data=_form(timezone="Asia/Tokyo"))
    page = _text(client.get("/shows/new"))
    assert re.search(r'<option selected value="Asia/Tokyo">|<option value="Asia/Tokyo" selected>', page)


def test_edit_form_keeps_a_zone_that_is_not_in_the_list_selected(app, client, login):
    uid, _ = login()
    show_id = _make_show(app, uid, timezone="US/Eastern")
    edit = _text(client.get(f"/shows/{show_id}/edit"))
    assert re.search(r'<option selected value="US/Eastern">|<option value="US/Eastern" selected>', edit)


# --------------------------------------------------------------------------- words


def test_date_summary_collapses_runs_and_falls_back_when_times_differ(app):
    from webapp.models import Performance, Show
    from webapp.services.show_text import date_summary, format_performances, price_text

    def show(*starts: tuple[int, int, int, int, int], zone: str = "Europe/London", **kw) -> Show:
        from webapp.services.show_rules import local_to_utc

        s = Show(title="t", timezone=zone, currency=kw.pop("currency", "USD"), **kw)
        s.performances = [
            Performance(starts_at=local_to_utc(datetime(*parts), zone), timezone=zone) for parts in starts
        ]
        return s

    assert date_summary(show((2026, 3, 6, 20, 0), (2026, 3, 7, 20, 0), (2026, 3, 8, 20, 0))) == (
        "Fri 6 – Sun 8 March 2026, 8 pm"
    )
    assert date_summary(show((2026, 3, 6, 19, 30))) == "Fri 6 March 2026, 7:30 pm"
    assert date_summary(show((2026, 3, 7, 14, 0), (2026, 3, 7, 20, 0))) == "Sat 7 March 2026, 2 pm and 8 pm"
    assert (
        date_summary(show((2026, 2, 27, 20, 0), (2026, 3, 1, 20, 0)))
        == "Fri 27 February – Sun 1 March 2026, 8 pm"
    )
    assert date_summary(show((2025, 12, 31, 20, 0), (2026, 1, 2, 20, 0))) == (
        "Wed 31 December 2025 – Fri 2 January 2026, 8 pm"
    )
    assert (
        date_summary(show((2026, 3, 6, 20, 0), (2026, 3, 8, 15, 0)))
        == "Fri 6 – Sun 8 March 2026, various times"
    )
    assert date_summary(show()) == "Dates to be announced"
    assert format_performances(show((2026, 3, 6, 20, 0))) == ["Fri 6 March 2026, 8:00 pm (Europe/London)"]

    assert price_text(show(price_min=Decimal("25"), price_max=Decimal("25"))) == "$25"
    assert price_text(show(price_min=Decimal("25"), price_max=Decimal("60"))) == "$25–$60"
    assert price_text(show(price_min=None, price_max=None)) == "Free"
    assert price_text(show(price_min=Decimal("0"), price_max=Decimal("0"))) == "Free"
    assert price_text(show(price_min=Decimal("0"), price_max=Decimal("15"))) == "Free–$15"
    assert price_text(show(currency="GBP", price_min=Decimal("1200"), price_max=None)) == "£1,200"
    assert (
        price_text(show(currency="CHF", price_min=Decimal("30"), price_max=Decimal("45.5")))
        == "CHF 30–CHF 45.50"
    )


# --------------------------------------------------------------------------- slots


def test_owner_assigns_and_clears_a_slot_with_a_fitting_image(app, client, login):
    uid, _ = login()
    show_id = _make_show(app, uid)
    poster = _asset(app, uid, "poster", (1200, 1800))

    picker = _text(client.get(f"/shows/{show_id}/slots/poster"))
    assert f'name="asset_id" value="{poster}"' in picker
    assert f"/assets/{poster}/thumb" in picker and 'loading="lazy"' in picker

    resp = client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": poster})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/shows/{show_id}#slot-poster")
    assert _show(app, show_id).poster_asset_id == poster
    page = _text(client.get(f"/shows/{show_id}"))
    assert f"/assets/{poster}/thumb" in page and 'width="1200" height="1800"' in page

    resp = client.post(f"/shows/{show_id}/slots/poster/clear")
    assert resp.status_code == 302
    assert _show(app, show_id).poster_asset_id is None


def test_generated_image_of_the_exact_size_fits_and_other_sizes_are_refused(app, client, login):
    uid, _ = login()
    show_id = _make_show(app, uid)
    generated = _asset(app, uid, "generated", (2160, 1089))
    wrong_size = _asset(app, uid, "edited", (2000, 1000))

    assert client.post(f"/shows/{show_id}/slots/banner", data={"asset_id": generated}).status_code == 302
    resp = client.post(f"/shows/{show_id}/slots/banner", data={"asset_id": wrong_size})
    assert resp.status_code == 422 and "exactly 2160×1089" in _text(resp)
    assert _show(app, show_id).banner_asset_id == generated


def test_wrong_kind_image_is_refused_with_the_reason(app, client, login):
    uid, _ = login()
    show_id = _make_show(app, uid)
    square = _asset(app, uid, "square", (1200, 1200))
    original = _asset(app, uid, "original", (1200, 1800))
    for asset_id in (square, original):
        resp = client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": asset_id})
        assert resp.status_code == 422
        assert "does not fit the poster slot" in _text(resp)
    assert _show(app, show_id).poster_asset_id is None


def test_another_producers_image_is_refused_like_a_missing_one(app, client, login, make_user):
    uid, _ = login()
    other_id, _ = make_user()
    show_id = _make_show(app, uid)
    theirs = _asset(app, other_id, "poster", (1200, 1800))
    for asset_id in (theirs, 999_999):
        resp = client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": asset_id})
        assert resp.status_code == 422
        assert "not in this show's library" in _text(resp)
    assert _show(app, show_id).poster_asset_id is None
    assert f'value="{theirs}"' not in _text(client.get(f"/shows/{show_id}/slots/poster"))


def test_picker_lists_only_fitting_images_newest_first_24_per_page(app, client, login):
    from webapp.extensions import db
    from webapp.models import Asset
    from webapp.services.shows import asset_fits_slot, fits_slot_clause

    uid, _ = login()
    show_id = _make_show(app, uid)
    posters = [_asset(app, uid, "poster", (1200, 1800)) for _ in range(26)]
    generated = _asset(app, uid, "generated", (1200, 1800))
    misfits = [
        _asset(app, uid, "square", (1200, 1200)),
        _asset(app, uid, "generated", (1200, 1200)),
        _asset(app, uid, "original", (1200, 1800)),
    ]
    page1 = _text(client.get(f"/shows/{show_id}/slots/poster"))
    listed = [int(i) for i in re.findall(r'name="asset_id" value="(\d+)"', page1)]
    assert listed == [generated, *reversed(posters)][:24]
    assert "Page 1 of 2" in page1 and "27 images fit" in page1
    page2 = _text(client.get(f"/shows/{show_id}/slots/poster?page=2"))
    assert [int(i) for i in re.findall(r'name="asset_id" value="(\d+)"', page2)] == posters[:3][::-1]
    for misfit in misfits:
        assert f'value="{misfit}"' not in page1 + page2

    with app.app_context():  # the Python rule and the SQL rule agree on every asset
        for slot in ("poster", "square", "banner"):
            in_sql = set(db.session.scalars(select(Asset.id).where(fits_slot_clause(slot))))
            in_py = {a.id for a in db.session.scalars(select(Asset)) if asset_fits_slot(a, slot)}
            assert in_sql == in_py


def test_picker_and_show_page_mark_drafts_held_and_older_renders(app, client, login):
    """A draft or held image can still be chosen (the owner may be about to publish it), but never
    unawares; a render a newer one replaced is left off the show's images unless a slot uses it."""
    uid, _ = login()
    show_id = _make_show(app, uid)
    draft = _asset(app, uid, "poster", (1200, 1800), status="draft", show_id=show_id)
    held = _asset(app, uid, "poster", (1200, 1800), status="held", show_id=show_id)
    published = _asset(app, uid, "poster", (1200, 1800), status="published", show_id=show_id)
    older = _asset(app, uid, "generated", (1200, 1800), show_id=show_id, superseded=True)
    older_in_slot = _asset(app, uid, "generated", (1200, 1200), show_id=show_id, superseded=True)
    assert client.post(f"/shows/{show_id}/slots/square", data={"asset_id": older_in_slot}).status_code in (
        302,
        303,
    )

    picker = _text(client.get(f"/shows/{show_id}/slots/poster"))
    tiles = {
        int(m.group(2)): m.group(1)
        for m in re.finditer(r'<li class="tile picker__tile[^"]*">(.*?value="(\d+)")', picker, re.S)
    }
    assert 'data-status="draft"' in tiles[draft] and 'data-status="held"' in tiles[held]
    assert "data-status" not in tiles[published]
    assert "Older version" in tiles[older]

    page = _text(client.get(f"/shows/{show_id}"))
    gallery = page.split('id="images-h"', 1)[1]
    shown = [int(i) for i in re.findall(r'href="/assets/(\d+)"', gallery)]
    assert older not in shown, "a replaced render is not one of the show's images"
    assert older_in_slot in shown and "Older version" in gallery  # in a slot: listed, and marked
    assert {draft, held, published} <= set(shown)
    assert 'data-status="held"' in gallery and 'data-status="draft"' in gallery


def test_htmx_assign_swaps_the_slot_and_closes_the_picker(app, client, login):
    uid, _ = login()
    show_id = _make_show(app, uid)
    poster = _asset(app, uid, "poster", (1200, 1800))
    square = _asset(app, uid, "square", (1200, 1200))
    hx = {"HX-Request": "true"}

    picker = _text(client.get(f"/shows/{show_id}/slots/poster", headers=hx))
    assert "<html" not in picker and 'hx-target="#slot-poster"' in picker

    resp = client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": poster}, headers=hx)
    body = _text(resp)
    assert resp.status_code == 200
    assert 'id="slot-poster"' in body and 'hx-swap-oob="innerHTML"' in body
    assert "Poster set to" in body

    refused = client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": square}, headers=hx)
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#slot-picker"
    assert "does not fit" in _text(refused)


def test_autoformat_result_fills_all_three_slots_after_a_real_job(app, client, login, run_jobs, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import Asset, Job

    uid, _ = login()
    show_id = _make_show(app, uid, title="Festival of Light")
    assert _upload(client, photo_jpeg).status_code == 302
    with app.app_context():
        job_id = db.session.scalar(select(Job.id).order_by(Job.id.desc()))

    queued = client.post(f"/shows/{show_id}/fill-from-job", data={"job_id": job_id})
    assert queued.status_code == 422 and "has not finished" in _text(queued)

    run_jobs()
    job_page = _text(client.get(f"/jobs/{job_id}"))
    assert "Use these for show" in job_page and "Festival of Light" in job_page

    resp = client.post(f"/shows/{show_id}/fill-from-job", data={"job_id": job_id})
    assert resp.status_code == 302
    show = _show(app, show_id)
    with app.app_context():
        outputs = {a.kind: a for a in db.session.scalars(select(Asset).where(Asset.job_id == job_id))}
        assert {slot: show.slot_asset_id(slot) for slot in ("poster", "square", "banner")} == {
            k: a.id for k, a in outputs.items()
        }
        assert {a.show_id for a in outputs.values()} == {show_id}
    page = _text(client.get(f"/shows/{show_id}"))
    assert "Images made for this show" in page and page.count("/thumb") >= 6


def test_use_for_show_form_on_results_fills_the_chosen_show(app, client, login):
    uid, _ = login()
    job_id = _succeeded_job(app, uid)
    assert "New show" in _text(client.get(f"/jobs/{job_id}"))  # no shows yet: offer to make one

    show_id = _make_show(app, uid)
    resp = client.post("/shows/fill-from-job", data={"job_id": job_id, "show_id": show_id})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/shows/{show_id}")
    assert all(_show(app, show_id).slot_asset_id(s) for s in ("poster", "square", "banner"))

    hx = client.post(
        "/shows/fill-from-job", data={"job_id": job_id, "show_id": show_id}, headers={"HX-Request": "true"}
    )
    assert hx.status_code == 200 and "now use these images" in _text(hx) and "<html" not in _text(hx)
    missing = client.post("/shows/fill-from-job", data={"job_id": job_id})
    assert missing.status_code == 422 and "Choose the show" in _text(missing)


def test_another_producers_job_cannot_fill_a_show(app, client, login, make_user):
    uid, _ = login()
    other_id, _ = make_user()
    show_id = _make_show(app, uid)
    their_job = _succeeded_job(app, other_id)
    assert client.post(f"/shows/{show_id}/fill-from-job", data={"job_id": their_job}).status_code == 404
    assert (
        client.post("/shows/fill-from-job", data={"job_id": their_job, "show_id": show_id}).status_code == 404
    )
    assert _show(app, show_id).poster_asset_id is None


def test_usage_counts_and_shows_using_asset_report_every_slot(app, make_user):
    from webapp.extensions import db
    from webapp.models import Show
    from webapp.services.shows import assign_slot, shows_using_asset, usage_counts

    uid, _ = make_user()
    first, second = _make_show(app, uid, title="A"), _make_show(app, uid, title="B")
    poster = _asset(app, uid, "poster", (1200, 1800))
    generated = _asset(app, uid, "generated", (1200, 1200))
    unused = _asset(app, uid, "banner", (2160, 1089))
    with app.app_context():
        from webapp.models import Asset

        a, b = db.session.get(Show, first), db.session.get(Show, second)
        assign_slot(a, "poster", db.session.get(Asset, poster))
        assign_slot(b, "poster", db.session.get(Asset, poster))
        assign_slot(b, "square", db.session.get(Asset, generated))
        assert usage_counts([poster, generated, unused]) == {poster: 2, generated: 1, unused: 0}
        assert [(s.title, slot) for s, slot in shows_using_asset(poster)] == [
            ("A", "poster"),
            ("B", "poster"),
        ]
        assert shows_using_asset(unused) == []


# --------------------------------------------------------------------------- list and delete


def test_show_list_has_only_my_shows_newest_first_with_next_date_and_counts(app, client, login, make_user):
    uid, _ = login()
    other_id, _ = make_user()
    _make_show(app, other_id, title="Not mine")
    _make_show(app, uid, title="Older show")
    client.post("/shows", data=_form(title="Newer show", **{"performances-0-date": "2099-01-02"}))
    page = _text(client.get("/shows"))
    assert "Not mine" not in page
    assert page.index("Newer show") < page.index("Older show")
    assert "Next:</span> Fri 2 January 2099, 8:00 pm (America/New_York)" in page
    assert "0/3</strong> slots filled" in page and "No dates yet" in page


def test_deleting_a_show_keeps_its_images_and_unlinks_them(app, client, login):
    from webapp.extensions import db
    from webapp.models import Asset, Show

    uid, _ = login()
    show_id = _make_show(app, uid)
    poster = _asset(app, uid, "poster", (1200, 1800))
    made_for_it = _asset(app, uid, "generated", (1200, 1200), show_id=show_id)
    client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": poster})

    confirm = _text(client.get(f"/shows/{show_id}/delete"))
    # Both count as the show's images: the one made for it and the one chosen for its poster slot.
    assert (
        "Your images are not deleted" in confirm
        and "The 2 images made for this show stay in My images" in confirm
    )
    assert 'method="post"' in confirm and 'name="csrf_token"' in confirm

    resp = client.post(f"/shows/{show_id}/delete")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/shows")
    assert _count(app, Show) == 0
    with app.app_context():
        assets = {a.id: a for a in db.session.scalars(select(Asset))}
        assert set(assets) == {poster, made_for_it}
        assert assets[made_for_it].show_id is None


# --------------------------------------------------------------------------- access


def test_media_assistant_switched_off_answers_403_and_changes_nothing(app, client, login):
    from webapp.extensions import db
    from webapp.models import Show, User

    uid, _ = login()
    show_id = _make_show(app, uid)
    poster = _asset(app, uid, "poster", (1200, 1800))
    with app.app_context():
        db.session.get(User, uid).feature_flags = {"media_assistant_enabled": False}
        db.session.commit()

    for url in (
        "/shows",
        "/shows/new",
        f"/shows/{show_id}",
        f"/shows/{show_id}/edit",
        f"/shows/{show_id}/slots/poster",
    ):
        resp = client.get(url)
        assert resp.status_code == 403 and "not enabled" in _text(resp), url
    assert client.post("/shows", data=_form()).status_code == 403
    assert client.post(f"/shows/{show_id}/edit", data=_form(title="Changed")).status_code == 403
    assert client.post(f"/shows/{show_id}/slots/poster", data={"asset_id": poster}).status_code == 403
    assert client.post(f"/shows/{show_id}/delete").status_code == 403
    assert _count(app, Show) == 1
    show = _show(app, show_id)
    assert show.title == "Owned show" and show.poster_asset_id is None


COLLECTION = {"shows.index", "shows.new", "shows.create"}  # act on the caller's own shows
VIEW = {
    "shows.detail",
    "shows.preview",
    "shows.preview_theme",
    "shows.preview_poster",
}  # staff and admins may look
CHANGE = {  # the owner only: staff and admins get 403, other producers 404
    "shows.edit",
    "shows.update",
    "shows.confirm_delete",
    "shows.delete",
    "shows.picker",
    "shows.assign",
    "shows.clear",
    "shows.fill_from_job",
    "shows.use_job",
    "shows.assign_media",
    "shows.clear_media",
}


def test_every_show_route_answers_each_role_as_the_authorization_rules_say(app, login, make_user):
    rules = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("shows.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert {r.endpoint for r, _ in rules} == COLLECTION | VIEW | CHANGE, "classify every new route here"

    clients = {role: app.test_client() for role in ("anonymous", "owner", "other", "staff", "admin")}
    owner_id, _ = login(the_client=clients["owner"])
    login(the_client=clients["other"])
    login(role="staff", the_client=clients["staff"])
    login(role="admin", the_client=clients["admin"])

    for rule, method in rules:
        show_id = _make_show(app, owner_id, title="Table show")  # fresh each time: delete must not leak
        poster = _asset(app, owner_id, "poster", (1200, 1800))
        job_id = _succeeded_job(app, owner_id)
        clip = _asset(app, owner_id, "video", (360, 640), media_kind="video", duration_s=2.0, codec="h264")
        url = rule.build({"show_id": show_id, "slot": "poster", "media": "promo"}, append_unknown=False)[1]
        data = {
            "shows.create": _form(),
            "shows.update": _form(),
            "shows.assign": {"asset_id": poster},
            "shows.assign_media": {"asset_id": clip},
            "shows.fill_from_job": {"job_id": job_id},
            "shows.use_job": {"job_id": job_id, "show_id": show_id},
        }.get(rule.endpoint, {})

        for role in ("anonymous", "other", "staff", "admin", "owner"):
            c = clients[role]
            resp = c.open(url, method=method, data=data)
            where = f"{method} {url} as {role}"
            if role == "anonymous":
                assert resp.status_code == 302 and "/login" in resp.headers["Location"], where
            elif role == "owner" or rule.endpoint in COLLECTION:
                assert 200 <= resp.status_code < 400, (where, resp.status_code, _text(resp)[:300])
            elif role == "other":
                assert resp.status_code == 404, where
            elif rule.endpoint in VIEW:
                assert resp.status_code == 200, where
            else:
                assert resp.status_code == 403, where
            if role != "owner" and rule.endpoint not in COLLECTION:
                show = _show(app, show_id)  # nobody but the owner changed anything
                assert show is not None and show.title == "Table show" and show.poster_asset_id is None, where
