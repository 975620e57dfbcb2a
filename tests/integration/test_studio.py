"""The studio end to end: real Postgres, Redis + RQ worker, the local provider and the real SDKs against
the fake OpenAI and Gemini servers; the overlay editor, saving, slots, retries, templates and the CLI."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PIL import Image

from tests.fakes import FakeGemini, FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

OPENAI_KEY = "sk-studio-platform-0001"
GEMINI_KEY = "AIza-studio-platform-0002"
HX = {"HX-Request": "true"}


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as fake:
        yield fake


@pytest.fixture
def gemini_fake():
    with FakeGemini(valid_key=GEMINI_KEY) as fake:
        yield fake


def configure(app, name, key, base_url):
    from webapp.services import keys, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider(name)
        providers.update_settings(row, {"enabled": True, "base_url": base_url})
        keys.set_platform_key(row, key)


def make_show(app, owner_id, **extra):
    from webapp.models import User
    from webapp.services import shows

    with app.app_context():
        from webapp.extensions import db

        owner = db.session.get(User, owner_id)
        start = datetime(2027, 3, 5, 20, 0, tzinfo=UTC)
        show = shows.create_show(
            owner,
            {
                "title": "Winter Jazz Weekend",
                "venue_name": "The Blue Room",
                "venue_address": "12 Harbour Street\nBrighton",
                "price_min": Decimal("25"),
                "price_max": Decimal("60"),
                "performers": ["Ana Moura", "Trio Azul"],
                "performances": [{"starts_at": start + timedelta(days=d)} for d in range(3)],
                **extra,
            },
        )
        return show.id


def generate(client, **fields):
    data = {
        "mode": "create",
        "image_type": "poster",
        "model": "local:procedural-v1",
        "prompt": "a jazz trio on a small stage, warm spotlights",
        "quality": "low",
        "variations": "1",
        **fields,
    }
    return client.post("/studio/generate", data=data, content_type="multipart/form-data")


def job_id_of(resp) -> int:
    return int(re.search(r"job=(\d+)", resp.headers["Location"]).group(1))


def job(app, job_id):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def counts(app):
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Job, UsageEvent

    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Job)),
            db.session.scalar(select(func.count()).select_from(UsageEvent)),
        )


def asset(app, asset_id):
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        row = db.session.get(Asset, asset_id)
        if row is not None:
            db.session.expunge(row)
        return row


# --------------------------------------------------------------------------- the page and the estimate


def test_studio_page_offers_types_styles_templates_and_the_estimate(client, login):
    login()
    html = client.get("/studio").get_data(as_text=True)
    for text in ("Poster 2:3", "Square 1:1", "Banner 2:1", "Realistic", "Vintage", "Minimalist", "Bold"):
        assert text in html
    assert "Concert under stage lights" in html  # a seeded template
    assert "Estimated cost" in html and "$0.00" in html
    assert "does not count against your hourly allowance" in html  # the offline provider is free


def test_cost_estimate_partial_equals_pricing_estimate(app, client, login, openai_fake):
    from webapp.services import pricing, providers

    configure(app, "openai", OPENAI_KEY, openai_fake.url)
    login()
    resp = client.post(
        "/studio/estimate",
        data={"image_type": "poster", "model": "openai:gpt-image-1.5", "quality": "high", "variations": "3"},
        headers=HX,
    )
    assert resp.status_code == 200
    with app.app_context():
        row = providers.get_provider("openai")
        expected = pricing.estimate(row, "openai", "gpt-image-1.5", "1024x1536", "high", 3)
    assert expected == Decimal("0.60")
    html = resp.get_data(as_text=True)
    assert re.search(r"data-estimate-total>\$0\.60<", html), html
    assert "3 × $0.20" in html and "paid by the platform" in html
    assert "5 of 5 AI images left this hour" in html
    square = client.post(
        "/studio/estimate",
        data={
            "image_type": "square",
            "model": "openai:gpt-image-1-mini",
            "quality": "low",
            "variations": "2",
        },
        headers=HX,
    ).get_data(as_text=True)
    with app.app_context():
        expected = pricing.estimate(
            providers.get_provider("openai"), "openai", "gpt-image-1-mini", "1024x1024", "low", 2
        )
    assert f"${expected:.2f}" in square


def test_prompt_is_rendered_escaped_and_control_characters_are_stripped(app, client, login, run_jobs):
    login()
    resp = generate(client, prompt="<script>alert(1)</script>\x07 neon stage")
    run_jobs()
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; neon stage" in html
    assert job(app, job_id_of(resp)).input["prompt"] == "<script>alert(1)</script> neon stage"


def test_a_too_long_prompt_is_refused_with_the_providers_limit(client, login):
    login()
    resp = generate(client, prompt="x" * 4001)
    assert resp.status_code == 422
    assert "at most 4000" in resp.get_data(as_text=True)


# --------------------------------------------------------------------------- generate, overlay, save, slot


def test_local_poster_for_a_show_then_overlay_without_a_new_call_and_into_the_poster_slot(
    app, client, login, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Show

    uid, _ = login()
    show_id = make_show(app, uid)
    resp = generate(client, show=str(show_id), variations="2")
    assert resp.status_code == 302
    job_id = job_id_of(resp)
    partial = client.get(f"/studio/jobs/{job_id}", headers=HX).get_data(as_text=True)
    assert "hx-get" in partial and 'data-status="pending"' in partial  # polls while queued
    run_jobs()
    partial = client.get(f"/studio/jobs/{job_id}", headers=HX).get_data(as_text=True)
    assert partial.count('data-status="succeeded"') == 2 and "hx-trigger" not in partial
    variation = job(app, job_id).result["variations"][0]
    clean_id = variation["asset_id"]
    before = counts(app)

    editor = client.get(f"/studio/assets/{clean_id}/overlay?show={show_id}").get_data(as_text=True)
    assert 'value="Winter Jazz Weekend"' in editor
    # Issue 15: the poster's dates are compact and locale-aware (Babel), the year only when not this year.
    assert "Mar 5 – 7" in editor and " · 8 PM" in editor and "$25–$60" in editor
    preview = (
        re.search(r'src="(/studio/assets/\d+/preview\.jpg[^"]*)"', editor).group(1).replace("&amp;", "&")
    )
    img = client.get(preview)
    assert img.status_code == 200 and img.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(img.data)).size == (720, 1080)

    form = {
        "spec": "1",
        "show": str(show_id),
        "font": "lato",
        "position": "top",
        "color_mode": "auto",
        "accent_mode": "custom",
        "accent": "#ffcc00",
        "on_title": "y",
        "text_title": "Winter Jazz Weekend",
        "on_date": "y",
        "text_date": "Fri 5 – Sun 7 March 2027, 8 pm",
        "on_cta": "y",
        "text_cta": "Book now",
    }
    panel = client.get(f"/studio/assets/{clean_id}/overlay", query_string={**form, "panel": "1"}, headers=HX)
    assert "font=lato" in panel.get_data(as_text=True)
    saved = client.post(f"/studio/assets/{clean_id}/overlay", data=form)
    assert saved.status_code == 302
    edited_id = int(re.search(r"/studio/assets/(\d+)", saved.headers["Location"]).group(1))
    edited, clean = asset(app, edited_id), asset(app, clean_id)
    assert edited.kind == "edited" and edited.parent_id == clean_id and edited.show_id == show_id
    assert (edited.width, edited.height) == (1200, 1800)
    assert edited.provenance["overlay"]["font"] == "lato" and edited.provenance["min_contrast"] >= 4.5
    assert clean.provenance["overlay"]["texts"]["cta"] == "Book now"  # reopens where it was left
    assert clean.sha256 == variation_sha(app, clean_id)  # the clean image is untouched

    again = client.post(f"/studio/assets/{clean_id}/overlay", data={**form, "font": "garamond"})
    assert again.status_code == 302 and counts(app) == before  # no job, no provider call, no ledger row
    # The re-render replaces the earlier one (issue 19: no pile of same-named renders): the earlier
    # render was used by no show and not starred, so it is gone; the new one is the current render.
    rerender_id = int(re.search(r"/studio/assets/(\d+)", again.headers["Location"]).group(1))
    assert rerender_id != edited_id and asset(app, edited_id) is None
    assert asset(app, rerender_id).provenance["overlay"]["font"] == "garamond"

    assigned = client.post(f"/studio/assets/{rerender_id}/assign", data={"show": str(show_id)})
    assert assigned.status_code == 302
    with app.app_context():
        assert db.session.get(Show, show_id).poster_asset_id == rerender_id


def variation_sha(app, asset_id):
    import hashlib

    from webapp.storage import get_storage

    with app.app_context():
        row = asset(app, asset_id)
        return hashlib.sha256(get_storage().get(row.storage_key)).hexdigest()


def test_reopening_the_editor_of_an_overlaid_image_edits_its_clean_parent(app, client, login, run_jobs):
    _uid, _ = login()
    resp = generate(client)
    run_jobs()
    clean_id = job(app, job_id_of(resp)).result["variations"][0]["asset_id"]
    saved = client.post(
        f"/studio/assets/{clean_id}/overlay",
        data={
            "spec": "1",
            "font": "spartan",
            "position": "bottom",
            "color_mode": "auto",
            "accent_mode": "auto",
            "on_title": "y",
            "text_title": "Late Show",
        },
    )
    edited_id = int(re.search(r"/studio/assets/(\d+)", saved.headers["Location"]).group(1))
    again = client.get(f"/studio/assets/{edited_id}/overlay")
    assert again.status_code == 302 and again.headers["Location"].endswith(
        f"/studio/assets/{clean_id}/overlay"
    )
    editor = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'value="Late Show"' in editor and '<option selected value="spartan">' in editor


def test_saving_with_nothing_switched_on_is_refused(app, client, login, run_jobs):
    login()
    resp = generate(client)
    run_jobs()
    clean_id = job(app, job_id_of(resp)).result["variations"][0]["asset_id"]
    resp = client.post(
        f"/studio/assets/{clean_id}/overlay",
        data={
            "spec": "1",
            "font": "bebas",
            "position": "bottom",
            "color_mode": "auto",
            "accent_mode": "auto",
        },
    )
    assert resp.status_code == 422 and "Switch on at least one item" in resp.get_data(as_text=True)


def test_the_page_warns_when_the_text_cannot_fit(app, client, login, run_jobs):
    login()
    resp = generate(client, image_type="square")
    run_jobs()
    clean_id = job(app, job_id_of(resp)).result["variations"][0]["asset_id"]
    long_title = " ".join(["Supercalifragilistic"] * 14)
    html = client.get(
        f"/studio/assets/{clean_id}/overlay",
        query_string={"spec": "1", "on_title": "y", "text_title": long_title, "font": "bebas"},
    ).get_data(as_text=True)
    assert "data-fit-warning" in html and "too long to fit" in html


def test_autoformat_and_delete_from_a_result(app, client, login, run_jobs):
    login()
    resp = generate(client, variations="2")
    run_jobs()
    job_id = job_id_of(resp)
    first, second = (v["asset_id"] for v in job(app, job_id).result["variations"])
    started = client.post(f"/studio/assets/{first}/autoformat")
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    run_jobs()  # never leave work queued for the next test (job ids restart after each test)
    autoformat_job = job(app, int(started.headers["Location"].rsplit("/", 1)[1]))
    assert autoformat_job.kind == "autoformat" and autoformat_job.input["asset_id"] == first
    assert autoformat_job.status == "succeeded", autoformat_job.error
    deleted = client.post(f"/studio/assets/{second}/delete")
    assert deleted.status_code == 302 and asset(app, second) is None
    html = client.get(f"/studio?job={job_id}").get_data(as_text=True)
    assert "Deleted." in html


# --------------------------------------------------------------------------- fake provider servers


def test_create_through_the_fake_gemini_server(app, client, login, run_jobs, gemini_fake):
    configure(app, "gemini", GEMINI_KEY, gemini_fake.url)
    login()
    resp = generate(client, model="gemini:gemini-2.5-flash-image", image_type="banner", variations="2")
    run_jobs()
    result = job(app, job_id_of(resp)).result
    assert [v["status"] for v in result["variations"]] == ["succeeded", "succeeded"]
    calls = gemini_fake.requests_to(":generateContent")
    assert len(calls) == 2
    sent = calls[0].json["contents"][0]["parts"][0]["text"]
    assert "Do not include any text" in sent
    for variation in result["variations"]:
        row = asset(app, variation["asset_id"])
        assert (row.width, row.height) == (2160, 1089)  # the banner format, whatever Gemini sent
        with app.app_context():
            from webapp.storage import get_storage

            stored = Image.open(io.BytesIO(get_storage().get(row.storage_key)))
        assert stored.size == (2160, 1089)  # the file itself, not only its row


def test_edit_an_uploaded_image_through_the_fake_openai_server(
    app, client, login, run_jobs, openai_fake, photo_jpeg
):
    configure(app, "openai", OPENAI_KEY, openai_fake.url)
    login()
    resp = generate(
        client,
        mode="edit",
        model="openai:gpt-image-1.5",
        image_type="square",
        prompt="turn it into a vintage concert print",
        negative="faces",
        source_upload=(io.BytesIO(photo_jpeg), "band.jpg"),
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    run_jobs()
    data = job(app, job_id_of(resp))
    assert data.status == "succeeded", data.error
    edits = openai_fake.requests_to("/v1/images/edits")
    assert len(edits) == 1 and "avoid: faces" in edits[0].form["prompt"][0]
    out = asset(app, data.result["variations"][0]["asset_id"])
    source = asset(app, data.input["source_asset_id"])
    assert out.kind == "edited" and out.parent_id == source.id and source.filename == "band.jpg"
    assert (out.width, out.height) == (1200, 1200)


def test_edit_a_library_image_with_the_local_provider(app, client, login, run_jobs, photo_png):
    login()
    upload = client.post(
        "/studio/generate",
        data={
            "mode": "edit",
            "image_type": "poster",
            "model": "local:procedural-v1",
            "prompt": "neon remix",
            "quality": "low",
            "variations": "1",
            "source_upload": (io.BytesIO(photo_png), "coffee.png"),
        },
        content_type="multipart/form-data",
    )
    run_jobs()
    source_id = job(app, job_id_of(upload)).input["source_asset_id"]
    page = client.get(f"/studio?asset={source_id}").get_data(as_text=True)
    assert f'value="{source_id}" checked' in page
    resp = generate(
        client, mode="edit", source_asset=str(source_id), prompt="watercolour remix", style="watercolor"
    )
    run_jobs()
    data = job(app, job_id_of(resp))
    assert data.status == "succeeded" and data.input["source_asset_id"] == source_id
    assert asset(app, data.result["variations"][0]["asset_id"]).kind == "edited"


def test_edit_mode_without_an_image_says_what_to_do(client, login):
    login()
    resp = generate(client, mode="edit")
    assert resp.status_code == 422 and "Choose an image to edit, or upload one." in resp.get_data(
        as_text=True
    )


def test_retrying_a_failed_variation_only_reruns_that_one(app, client, login, run_jobs, openai_fake):
    configure(app, "openai", OPENAI_KEY, openai_fake.url)
    login()
    openai_fake.enqueue("success", "server_error", "success")
    resp = generate(client, model="openai:gpt-image-1.5", variations="3")
    run_jobs()
    first = job(app, job_id_of(resp))
    assert [v["status"] for v in first.result["variations"]] == ["succeeded", "failed", "succeeded"]
    html = client.get(f"/studio?job={first.id}").get_data(as_text=True)
    assert "Retry this variation" in html and first.result["variations"][1]["error"] in html
    assert len(openai_fake.requests_to("/v1/images/generations")) == 3

    retried = client.post(f"/studio/jobs/{first.id}/retry")
    run_jobs()
    second = job(app, job_id_of(retried))
    assert len(openai_fake.requests_to("/v1/images/generations")) == 4  # exactly one new call
    assert [v["status"] for v in second.result["variations"]] == ["succeeded"] * 3
    kept = [first.result["variations"][i]["asset_id"] for i in (0, 2)]
    assert [second.result["variations"][i]["asset_id"] for i in (0, 2)] == kept
    assert second.input["retry_of"] == first.id


def test_regenerate_and_more_like_this_start_new_jobs_with_the_same_settings(app, client, login, run_jobs):
    login()
    resp = generate(client, style="vintage", quality="medium", image_type="square")
    run_jobs()
    first = job(app, job_id_of(resp))
    again = job(app, job_id_of(client.post(f"/studio/jobs/{first.id}/regenerate")))
    more = job(
        app, job_id_of(client.post(f"/studio/assets/{first.result['variations'][0]['asset_id']}/more"))
    )
    run_jobs()
    for new in (again, more):
        assert new.id != first.id
        for key in ("prompt", "style", "quality", "image_type", "provider"):
            assert new.input[key] == first.input[key]


def test_show_palette_colours_are_offered_and_sent(app, client, login, run_jobs):
    from webapp.extensions import db
    from webapp.models import Palette, Show

    uid, _ = login()
    show_id = make_show(app, uid)
    with app.app_context():
        palette = Palette(
            owner_id=uid,
            name="Winter",
            colors=[{"hex": "#1a2b3c", "share": 0.5}, {"hex": "#d4af37", "share": 0.5}],
            roles={"primary": "#1a2b3c", "accent": "#d4af37"},
            status="applied",
        )
        db.session.add(palette)
        db.session.flush()
        db.session.get(Show, show_id).palette_id = palette.id
        db.session.commit()
        palette_id = palette.id
    page = client.get(f"/studio?show={show_id}").get_data(as_text=True)
    assert "Use these colours" in page and "#1a2b3c" in page and "#d4af37" in page
    assert "#d4af37" in client.get(f"/studio?palette={palette_id}").get_data(as_text=True)
    resp = generate(client, show=str(show_id), use_palette="y")
    run_jobs()
    data = job(app, job_id_of(resp))
    assert set(data.input["palette"]) == {"#1a2b3c", "#d4af37"} and data.input["show_id"] == show_id


# --------------------------------------------------------------------------- who may do what


def test_other_producers_get_404_everywhere(app, client, login, run_jobs, make_user):
    owner_id, _ = login()
    show_id = make_show(app, owner_id)
    resp = generate(client)
    run_jobs()
    job_id = job_id_of(resp)
    asset_id = job(app, job_id).result["variations"][0]["asset_id"]
    other = app.test_client()
    login(the_client=other)
    for url in (
        f"/studio?job={job_id}",
        f"/studio/jobs/{job_id}",
        f"/studio/assets/{asset_id}",
        f"/studio/assets/{asset_id}/overlay",
        f"/studio/assets/{asset_id}/preview.jpg",
        f"/studio?show={show_id}",
    ):
        assert other.get(url, headers=HX).status_code == 404, url
    for url in (
        f"/studio/jobs/{job_id}/retry",
        f"/studio/jobs/{job_id}/regenerate",
        f"/studio/assets/{asset_id}/overlay",
        f"/studio/assets/{asset_id}/assign",
        f"/studio/assets/{asset_id}/delete",
        f"/studio/assets/{asset_id}/more",
        f"/studio/assets/{asset_id}/autoformat",
    ):
        assert other.post(url, data={"show": str(show_id)}).status_code == 404, url
    assert asset(app, asset_id) is not None
    # and their own image cannot go into someone else's show
    own = generate(other)
    run_jobs()
    own_asset = job(app, job_id_of(own)).result["variations"][0]["asset_id"]
    assert other.post(f"/studio/assets/{own_asset}/assign", data={"show": str(show_id)}).status_code == 404


def test_producers_cannot_reach_the_template_admin(client, login):
    login()
    assert client.get("/admin/templates").status_code == 404
    assert client.post("/admin/templates", data={"name": "x", "text": "y"}).status_code == 404


def test_admin_creates_edits_reorders_and_deletes_templates(app, client, login):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import PromptTemplate

    login(role="admin")
    page = client.get("/admin/templates").get_data(as_text=True)
    assert "Concert under stage lights" in page  # seeded on first use
    created = client.post(
        "/admin/templates", data={"image_type": "poster", "name": "Opera", "text": "An opera house at night"}
    )
    assert created.status_code == 302

    def poster_names():
        with app.app_context():
            rows = db.session.scalars(
                select(PromptTemplate)
                .where(PromptTemplate.image_type == "poster")
                .order_by(PromptTemplate.position, PromptTemplate.id)
            )
            return [(r.id, r.name) for r in rows]

    names = poster_names()
    assert names[-1][1] == "Opera"
    opera_id = names[-1][0]
    client.post(f"/admin/templates/{opera_id}/move", data={"direction": "up"})
    assert [n for _, n in poster_names()][-2] == "Opera"
    edited = client.post(
        f"/admin/templates/{opera_id}",
        data={"image_type": "banner", "name": "Opera wide", "text": "A wide opera"},
    )
    assert edited.status_code == 302
    assert "Opera" not in [n for _, n in poster_names()]
    bad = client.post(f"/admin/templates/{opera_id}", data={"image_type": "poster", "name": "", "text": ""})
    assert bad.status_code == 422
    client.post(f"/admin/templates/{opera_id}/delete")
    with app.app_context():
        assert db.session.get(PromptTemplate, opera_id) is None
    studio = client.get("/studio?type=banner").get_data(as_text=True)
    assert "Wide stage panorama" in studio


# --------------------------------------------------------------------------- the CLI


def test_cli_generate_with_show_details_writes_clean_and_overlaid_files(app, make_user, tmp_path, photo_jpeg):
    uid, _ = make_user(role="admin")
    show_id = make_show(app, uid)
    runner = app.test_cli_runner()
    out = tmp_path / "out"
    result = runner.invoke(
        args=[
            "generate",
            "neon jazz night",
            "--type",
            "poster",
            "--out",
            str(out),
            "--show",
            str(show_id),
            "--overlay",
            "title,date,venue,price,cta",
            "--font",
            "spartan",
            "--position",
            "top",
            "--price",
            "From $20",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 and any(name.endswith("-details.jpg") for name in files), files
    overlaid = Image.open(next(p for p in out.iterdir() if p.name.endswith("-details.jpg")))
    assert overlaid.size == (1200, 1800)
    assert "contrast" in result.output

    source = tmp_path / "band.jpg"
    source.write_bytes(photo_jpeg)
    result = runner.invoke(
        args=[
            "generate",
            "make it a vintage print",
            "--type",
            "square",
            "--out",
            str(out / "edit"),
            "--edit",
            str(source),
            "--title",
            "Late Show",
            "--date",
            "Fri 6 March, 9 pm",
            "--cta",
            "Tickets",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (out / "edit").iterdir())
    assert len(names) == 2 and all(Image.open(out / "edit" / n).size == (1200, 1200) for n in names)


def test_cli_rejects_an_unknown_overlay_item(app, make_user, tmp_path):
    make_user(role="admin")
    result = app.test_cli_runner().invoke(
        args=["generate", "x", "--type", "poster", "--out", str(tmp_path), "--overlay", "title,logo"]
    )
    assert result.exit_code != 0 and "logo" in result.output


def test_the_hourly_allowance_refusal_is_shown_in_the_form(app, client, login, openai_fake):
    from webapp.services import providers

    configure(app, "openai", OPENAI_KEY, openai_fake.url)
    with app.app_context():
        providers.update_settings(providers.get_provider("openai"), {"user_images_per_hour": 1})
    login()
    html = client.post(
        "/studio/estimate",
        data={"image_type": "poster", "model": "openai:gpt-image-1.5", "quality": "low", "variations": "2"},
        headers=HX,
    ).get_data(as_text=True)
    assert "1 of 1 AI images left this hour" in html
    resp = generate(client, model="openai:gpt-image-1.5", variations="2")
    assert resp.status_code == 422
    assert "for this hour" in resp.get_data(as_text=True)
    assert openai_fake.requests_to("/v1/images/generations") == []
