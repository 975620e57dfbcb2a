"""Issue 17, formats beyond three, through every door against real Postgres, Redis and RQ workers:
the upload form (presets + custom sizes, remembered), results page, ZIP, library filter, the API,
the CLI and the admin presets page."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

pytestmark = pytest.mark.usefixtures("app")

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "webapp"]


def _post(client, data: bytes, name: str = "gala.jpg", **fields):
    form = {"image": (io.BytesIO(data), name), "output": "jpeg", "darken": "15", "shadow": "y"}
    form["formats_shown"] = "1"
    form.update(fields)
    return client.post("/autoformat", data=form, content_type="multipart/form-data")


def _last_job(app):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.scalar(select(Job).order_by(Job.id.desc()))
        db.session.expunge_all()
        return job


def _outputs(app, job_id):
    from webapp.extensions import db
    from webapp.models import Asset, Job
    from webapp.services import jobs as job_service

    with app.app_context():
        job = db.session.get(Job, job_id)
        out = [(a.kind, a.width, a.height, a.id, a.provenance) for a in job_service.outputs_of(job)]
        assert all(isinstance(a, tuple) for a in out)
        db.session.expunge_all()
        _ = Asset
        return out


def test_web_upload_with_ig_story_and_custom_sizes_results_zip_library_and_remembered(
    app, client, login, run_jobs, photo_jpeg
):
    login()
    page = client.get("/autoformat").get_data(as_text=True)
    # grouped by platform, every preset offered; the show formats preselected on a first visit
    for group in ("Show formats", "Instagram", "Facebook", "X (Twitter)"):
        assert f"<legend>{group}</legend>" in page
    for name in ("poster", "square", "banner", "ig-post", "ig-portrait", "ig-story", "fb-event", "x-post"):
        assert f'name="formats" value="{name}"' in page
    assert re.search(r'value="poster" data-format-pick="poster" checked', page)
    assert not re.search(r'value="ig-story" data-format-pick="ig-story" checked', page)
    assert "Instagram story <span" in page and "1080×1920" in page

    resp = _post(
        client,
        photo_jpeg,
        formats="ig-story",
        **{"fill_ig-story": "solid", "fill_poster": "blur"},
        custom_sizes="1600x900, 4:5@1350",
        fill_custom="blur",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    job = _last_job(app)
    assert job.input["formats"] == ["ig-story", "1600x900", "1080x1350"]
    assert job.input["options"]["ig-story"] == {"fill": "solid"}
    run_jobs()
    job = _last_job(app)
    assert job.status == "succeeded", job.error
    outs = _outputs(app, job.id)
    assert [(k, w, h) for k, w, h, _, _ in outs] == [
        ("ig-story", 1080, 1920),
        ("1600x900", 1600, 900),
        ("1080x1350", 1080, 1350),
    ]
    assert outs[0][4]["format"] == "ig-story" and outs[0][4]["fill"] == "solid"

    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "<strong>Instagram story</strong>" in html and "1080×1920" in html
    assert "<strong>Custom size</strong>" in html and "1600×900" in html
    assert "results--many" in html and "Download all three (ZIP)" in html
    assert "use-for-show" not in html  # no show format among them: nothing to assign to a show

    for kind, w, h, asset_id, _ in outs:
        dl = client.get(f"/assets/{asset_id}/download")
        assert dl.status_code == 200 and Image.open(io.BytesIO(dl.data)).size == (w, h)
        assert kind in dl.headers["Content-Disposition"]

    z = client.get(f"/jobs/{job.id}/download.zip")
    assert z.status_code == 200
    with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
        names = zf.namelist()
        assert len(names) == 3
        for suffix, size in (
            ("ig-story", (1080, 1920)),
            ("1600x900", (1600, 900)),
            ("1080x1350", (1080, 1350)),
        ):
            (member,) = [n for n in names if n.endswith(f"-{suffix}.jpg")]
            assert Image.open(io.BytesIO(zf.read(member))).size == size

    lib = client.get("/library?kind=ig-story").get_data(as_text=True)
    assert f"/assets/{outs[0][3]}" in lib and f"/assets/{outs[1][3]}" not in lib
    assert '<option value="1600x900">Custom 1600×900</option>' in lib or "Custom 1600×900" in lib
    lib = client.get("/library?kind=1600x900").get_data(as_text=True)
    assert f"/assets/{outs[1][3]}" in lib and f"/assets/{outs[0][3]}" not in lib
    assert "Not a valid choice" not in lib

    # remembered: the next visit preselects ig-story and the custom sizes, not the show formats
    page = client.get("/autoformat").get_data(as_text=True)
    assert re.search(r'value="ig-story" data-format-pick="ig-story" checked', page)
    assert not re.search(r'value="poster" data-format-pick="poster" checked', page)
    assert 'value="1600x900, 4:5@1350"' in page
    assert re.search(
        r'id="fill_ig-story"[^>]*>\s*<option value="blur" >[^<]*</option><option value="solid" selected', page
    )

    # "Auto-format" from the library uses the remembered choice too
    from webapp.extensions import db
    from webapp.models import Asset

    with app.app_context():
        original = db.session.scalar(select(Asset.id).where(Asset.kind == "original"))
    resp = client.post(f"/assets/{original}/autoformat")
    assert resp.status_code == 302
    again = _last_job(app)
    assert again.id != job.id and again.input["formats"] == ["ig-story", "1600x900", "1080x1350"]
    assert again.input["options"]["ig-story"] == {"fill": "solid"}


def test_web_refuses_no_format_and_bad_custom_sizes_and_starts_nothing(app, client, login, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import Asset, Job

    login()
    resp = _post(client, photo_jpeg)  # the checkboxes were shown and none ticked
    assert resp.status_code == 422
    assert "Choose at least one format" in resp.get_data(as_text=True)
    resp = _post(client, photo_jpeg, formats="ig-post", custom_sizes="99999x1")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "too small" in body and "WIDTHxHEIGHT between 100x100" in body
    resp = _post(client, photo_jpeg, formats="ig-post", custom_sizes="4:0@100")
    assert resp.status_code == 422 and "zero in its aspect ratio" in resp.get_data(as_text=True)
    # the refused page keeps what was typed
    assert 'value="4:0@100"' in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Job.id)) is None and db.session.scalar(select(Asset.id)) is None


def test_api_formats_with_presets_and_wxh_fills_and_kind_filter(app, client, make_user, run_jobs, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, _ = make_user()
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "test", "write")
    h = {"Authorization": f"Bearer {plaintext}"}

    listed = client.get("/api/v1/formats", headers=h).json
    assert {p["name"] for p in listed["presets"]} >= {"ig-story", "fb-event", "x-post", "poster"}
    assert listed["custom"]["max_width"] == 4000 and listed["custom"]["min_side"] == 100

    bad = client.post(
        "/api/v1/auto-format",
        data={"file": (io.BytesIO(photo_jpeg), "gig.jpg"), "formats": "ig-post,0x0"},
        headers=h,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "too small" in bad.json["errors"]["formats"][0]

    resp = client.post(
        "/api/v1/auto-format",
        data={
            "file": (io.BytesIO(photo_jpeg), "gig.jpg"),
            "formats": "fb-event,1600x900",
            "fill_fb-event": "solid",
        },
        headers=h,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 202, resp.json
    job_id = resp.json["id"]
    run_jobs()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=h).json
    assert job["status"] == "succeeded"
    kinds = {o["kind"]: (o["width"], o["height"]) for o in job["outputs"]}
    assert kinds == {"fb-event": (1920, 1005), "1600x900": (1600, 900)}
    with app.app_context():
        from webapp.models import Asset

        source_id = db.session.scalar(select(Asset.id).where(Asset.kind == "original"))

    # JSON door on an image already in the library: a list, fills by name, a ratio spec
    again = client.post(
        f"/api/v1/assets/{source_id}/auto-format",
        json={"formats": ["x-post", "4:5@1350"], "fills": {"x-post": "solid"}},
        headers=h,
    )
    assert again.status_code == 202, again.json
    run_jobs()
    job = client.get(f"/api/v1/jobs/{again.json['id']}", headers=h).json
    assert sorted((o["kind"], o["width"], o["height"]) for o in job["outputs"]) == [
        ("1080x1350", 1080, 1350),
        ("x-post", 1600, 900),
    ]
    refused = client.post(
        f"/api/v1/assets/{source_id}/auto-format",
        json={"formats": ["x-post"], "fills": {"x-post": "stretch"}},
        headers=h,
    )
    assert refused.status_code == 422 and "fill_x-post" in refused.json["errors"]
    refused = client.post(f"/api/v1/assets/{source_id}/auto-format", json={"formats": [3]}, headers=h)
    assert refused.status_code == 422 and "formats" in refused.json["errors"]
    refused = client.post(f"/api/v1/assets/{source_id}/auto-format", json={"formats": ["ünïcödé"]}, headers=h)
    assert refused.status_code == 422 and "Use a preset name" in refused.json["errors"]["formats"][0]

    items = client.get("/api/v1/assets?kind=x-post", headers=h).json["items"]
    assert [(i["kind"], i["width"]) for i in items] == [("x-post", 1600)]
    items = client.get("/api/v1/assets?kind=1600x900", headers=h).json["items"]
    assert [i["kind"] for i in items] == ["1600x900"]
    assert client.get("/api/v1/assets?kind=bogus", headers=h).status_code == 422
    doc = client.get("/api/v1/openapi.json").json
    body = doc["paths"]["/assets/{asset_id}/auto-format"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert "formats" in body["schema"]["properties"]


def test_admin_adds_a_preset_producers_use_it_and_removal_is_audited(
    app, client, login, run_jobs, photo_jpeg
):
    from webapp.extensions import db
    from webapp.models import AuditEvent, FormatPreset

    admin = app.test_client()
    login(role="admin", the_client=admin)
    page = admin.get("/admin/formats")
    assert page.status_code == 200 and "Instagram story" in page.get_data(as_text=True)
    for bad, words in (
        ({"name": "Tik Tok"}, "lowercase letters"),
        ({"name": "ig-story"}, "already taken"),
        ({"width": "99999"}, "from 100 to 4000"),
        ({"width": "0"}, "from 100 to 4000"),
    ):
        form = {
            "name": "tiktok-cover",
            "label": "TikTok cover",
            "platform": "TikTok",
            "width": "1080",
            "height": "1920",
        }
        form.update(bad)
        resp = admin.post("/admin/formats", data=form)
        assert resp.status_code == 422 and words in resp.get_data(as_text=True), bad
    resp = admin.post(
        "/admin/formats",
        data={
            "name": "tiktok-cover",
            "label": "TikTok cover",
            "platform": "TikTok",
            "width": "1080",
            "height": "1920",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(FormatPreset).where(FormatPreset.name == "tiktok-cover"))
        assert (row.width, row.height, row.platform) == (1080, 1920, "TikTok")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "format_preset.create"))
        assert event.detail["name"] == "tiktok-cover" and event.target == f"format_preset:{row.id}"
        preset_id = row.id
    # a producer is not let in
    login()
    assert client.get("/admin/formats").status_code == 404
    page = client.get("/autoformat").get_data(as_text=True)
    assert "<legend>TikTok</legend>" in page and 'value="tiktok-cover"' in page

    resp = _post(client, photo_jpeg, formats="tiktok-cover")
    assert resp.status_code == 302
    run_jobs()
    job = _last_job(app)
    assert job.status == "succeeded"
    assert [(k, w, h) for k, w, h, _, _ in _outputs(app, job.id)] == [("tiktok-cover", 1080, 1920)]

    resp = admin.post("/admin/formats/delete", data={"preset_id": str(preset_id)})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(FormatPreset, preset_id) is None
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "format_preset.delete"))
    # gone from the choices, but images made in it stay filterable; the remembered choice drops it
    page = client.get("/autoformat").get_data(as_text=True)
    assert 'value="tiktok-cover"' not in page
    assert re.search(r'value="poster" data-format-pick="poster" checked', page)
    lib = client.get("/library?kind=tiktok-cover").get_data(as_text=True)
    assert "Not a valid choice" not in lib and "Tiktok cover" in lib


def _cli_env(tmp_path: Path, **extra) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE_URL"))
    }
    env.update(
        SECRET_KEY="cli-test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        STORAGE_URL=f"file://{tmp_path / 'media'}",
    )
    env.update(extra)
    return env


def test_cli_formats_presets_custom_and_errors(tmp_path, photo_jpeg):
    (tmp_path / "gala.jpg").write_bytes(photo_jpeg)
    out = tmp_path / "out"
    cmd = [
        *FLASK,
        "autoformat",
        str(tmp_path / "gala.jpg"),
        "--formats",
        "poster,ig-story,1600x900",
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=_cli_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["gala-1600x900.jpg", "gala-ig-story.jpg", "gala-poster.jpg"]
    for name, size in (
        ("gala-poster.jpg", (1200, 1800)),
        ("gala-ig-story.jpg", (1080, 1920)),
        ("gala-1600x900.jpg", (1600, 900)),
    ):
        assert Image.open(out / name).size == size
    assert "1080x1920" in proc.stdout

    bad = subprocess.run(
        [
            *FLASK,
            "autoformat",
            str(tmp_path / "gala.jpg"),
            "--formats",
            "poster,0x0",
            "--out",
            str(tmp_path / "bad"),
        ],
        cwd=ROOT,
        env=_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert bad.returncode == 2 and "too small" in bad.stderr and "WIDTHxHEIGHT between" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_cli_uses_a_preset_an_admin_added(app, pg_url, tmp_path, photo_jpeg):
    from webapp.extensions import db
    from webapp.models import FormatPreset

    with app.app_context():
        db.session.add(
            FormatPreset(
                name="ticket-hero", label="Ticket page hero", platform="Tickets", width=1500, height=500
            )
        )
        db.session.commit()
    (tmp_path / "gala.jpg").write_bytes(photo_jpeg)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *FLASK,
            "autoformat",
            str(tmp_path / "gala.jpg"),
            "--formats",
            "ticket-hero,ig-post",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=_cli_env(tmp_path, DATABASE_URL=pg_url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out / "gala-ticket-hero.jpg").size == (1500, 500)
    assert Image.open(out / "gala-ig-post.jpg").size == (1080, 1080)


def test_near_duplicate_choice_keeps_the_chosen_formats_and_fills(app, client, login, run_jobs):
    from skimage import data as samples

    from tests.conftest import encode_image

    login()
    coffee = Image.fromarray(samples.coffee())
    first = _post(client, encode_image(coffee, "JPEG", quality=90), name="coffee.jpg", formats="poster")
    assert first.status_code == 302
    smaller = encode_image(coffee.resize((480, 320)), "JPEG", quality=70)
    html = _post(
        client,
        smaller,
        name="coffee-small.jpg",
        formats="ig-portrait",
        custom_sizes="1600x900",
        fill_custom="solid",
    ).get_data(as_text=True)
    assert "already have" in html
    assert '<input type="hidden" name="formats" value="ig-portrait">' in html
    assert '<input type="hidden" name="fill_1600x900" value="solid">' in html
    form = {
        "formats_shown": "1",
        "formats": ["ig-portrait", "1600x900"],
        "fill_1600x900": "solid",
        "output": "jpeg",
        "darken": "15",
        "shadow": "y",
        "new_asset_id": re.search(r'name="new_asset_id" value="(\d+)"', html).group(1),
        "existing_asset_id": re.search(r'name="existing_asset_id" value="(\d+)"', html).group(1),
        "choice": "keep",
    }
    resp = client.post("/autoformat/duplicate", data=form)
    assert resp.status_code == 302
    job = _last_job(app)
    assert job.input["formats"] == ["ig-portrait", "1600x900"]
    assert job.input["options"]["1600x900"] == {"fill": "solid"}
