"""JSON API v1 over the real app: tokens, every endpoint's success and error paths, isolation between
producers, problem+json, pagination, ETags and rate-limit headers."""

from __future__ import annotations

import io
import zipfile

import pytest

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def token_for(app, make_user):
    """Make an account and a token of the given scope; returns (user id, headers)."""

    def _make(role: str = "producer", scope: str = "write"):
        from webapp.extensions import db
        from webapp.models import User
        from webapp.services import tokens

        uid, _ = make_user(role=role)
        with app.app_context():
            _, plaintext = tokens.create(db.session.get(User, uid), "test", scope)
        return uid, {"Authorization": f"Bearer {plaintext}"}

    return _make


def _upload(client, headers, data, **form):
    fields = {"file": (io.BytesIO(data), "gig.jpg"), **form}
    return client.post(
        "/api/v1/auto-format", data=fields, headers=headers, content_type="multipart/form-data"
    )


def test_auto_format_job_lifecycle_with_etag_and_zip(client, token_for, run_jobs, photo_jpeg):
    _, h = token_for()
    resp = _upload(client, h, photo_jpeg, output="png", fill_square="solid")
    assert resp.status_code == 202 and resp.headers["Location"].startswith("/api/v1/jobs/")
    job = resp.json
    assert job["status"] == "queued" and job["mode"] == "async" and job["outputs"] == []
    url = f"/api/v1/jobs/{job['id']}"
    first = client.get(url, headers=h)
    etag = first.headers["ETag"]
    assert client.get(url, headers={**h, "If-None-Match": etag}).status_code == 304
    run_jobs()
    done = client.get(url, headers={**h, "If-None-Match": etag})
    assert done.status_code == 200 and done.json["status"] == "succeeded"
    assert sorted((o["kind"], o["width"], o["height"]) for o in done.json["outputs"]) == [
        ("banner", 2160, 1089),
        ("poster", 1200, 1800),
        ("square", 1200, 1200),
    ]
    assert all(o["content_type"] == "image/png" for o in done.json["outputs"])
    z = client.get(f"{url}/download", headers=h)
    with zipfile.ZipFile(io.BytesIO(z.data)) as zf:
        assert len(zf.namelist()) == 3
    listing = client.get("/api/v1/jobs", headers=h).json
    assert [j["id"] for j in listing["items"]] == [job["id"]] and listing["next_cursor"] is None


def test_bad_uploads_are_problem_json_with_field_errors(client, token_for):
    _, h = token_for()
    resp = client.post(
        "/api/v1/auto-format",
        data={"output": "gif", "darken": "99"},
        headers=h,
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert set(resp.json["errors"]) == {"file", "output", "darken"}
    resp = _upload(client, h, b"<svg/>")
    assert resp.status_code == 422 and "JPEG, PNG or WebP" in resp.json["errors"]["file"][0]


def test_cancel_retry_and_conflicts(client, token_for, photo_jpeg):
    _, h = token_for()
    job = _upload(client, h, photo_jpeg).json
    assert client.delete(f"/api/v1/jobs/{job['id']}", headers=h).json["status"] == "cancelled"
    assert client.delete(f"/api/v1/jobs/{job['id']}", headers=h).status_code == 409
    assert client.post(f"/api/v1/jobs/{job['id']}/retry", headers=h).status_code == 202


def test_read_token_cannot_write_and_admin_endpoints_hide(client, token_for):
    _, read = token_for(scope="read")
    resp = client.post("/api/v1/shows", json={"title": "x"}, headers=read)
    assert resp.status_code == 403 and resp.json["type"].endswith("insufficient-scope")
    _, producer = token_for(scope="write")
    assert client.get("/api/v1/admin/ai-models", headers=producer).status_code in (403, 404)


def test_other_producers_token_cannot_reach_my_objects(client, token_for, run_jobs, photo_jpeg):
    _, mine = token_for()
    _, theirs = token_for()
    job = _upload(client, mine, photo_jpeg).json
    run_jobs()
    asset_id = client.get(f"/api/v1/jobs/{job['id']}", headers=mine).json["outputs"][0]["id"]
    show = client.post("/api/v1/shows", json={"title": "Mine"}, headers=mine).json
    for method, url in [
        ("get", f"/api/v1/jobs/{job['id']}"),
        ("get", f"/api/v1/jobs/{job['id']}/download"),
        ("delete", f"/api/v1/jobs/{job['id']}"),
        ("post", f"/api/v1/jobs/{job['id']}/retry"),
        ("get", f"/api/v1/assets/{asset_id}"),
        ("delete", f"/api/v1/assets/{asset_id}"),
        ("get", f"/api/v1/shows/{show['id']}"),
        ("patch", f"/api/v1/shows/{show['id']}"),
    ]:
        resp = getattr(client, method)(url, headers=theirs, json={} if method == "patch" else None)
        assert resp.status_code == 404, (method, url, resp.status_code)
        assert resp.mimetype == "application/problem+json"
    assert client.get("/api/v1/assets", headers=theirs).json["items"] == []


def test_revoked_token_stops_working_at_once(app, client, token_for):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import ApiToken
    from webapp.services import tokens

    _, h = token_for()
    assert client.get("/api/v1/shows", headers=h).status_code == 200
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        tokens.revoke(row)
    resp = client.get("/api/v1/shows", headers=h)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_stored_hashed_and_the_cli_creates_and_revokes(app, make_user):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import ApiToken

    _, email = make_user()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["token", "create", email, "--scope", "write", "--name", "portal"])
    assert out.exit_code == 0, out.output
    plaintext = out.output.strip().splitlines()[-1]
    assert plaintext.startswith("mq_")
    with app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        assert plaintext not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
        token_id = row.id
    c = app.test_client()
    assert c.get("/api/v1/shows", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    assert runner.invoke(args=["token", "revoke", str(token_id)]).exit_code == 0
    assert c.get("/api/v1/shows", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    assert runner.invoke(args=["token", "create", "nobody@example.com"]).exit_code != 0
    assert "admin" in runner.invoke(args=["token", "create", email, "--scope", "admin"]).output


def test_session_requests_need_csrf_but_token_requests_do_not(
    pg_url, media_root, queue_prefix, make_user, token_for
):
    from tests.conftest import PASSWORD, make_config
    from webapp import create_app

    strict = create_app(make_config(pg_url, media_root, queue_prefix, WTF_CSRF_ENABLED=True))
    c = strict.test_client()
    _, email = make_user()
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    c.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    page = c.get("/settings/tokens").get_data(as_text=True)  # login rotated the session's token
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert c.get("/api/v1/shows").status_code == 200  # session GET is fine
    resp = c.post("/api/v1/shows", json={"title": "Gala"})
    assert resp.status_code == 400 and resp.json["type"].endswith("csrf")
    assert c.post("/api/v1/shows", json={"title": "Gala"}, headers={"X-CSRFToken": token}).status_code == 201
    _, h = token_for()
    assert strict.test_client().post("/api/v1/shows", json={"title": "Gala"}, headers=h).status_code == 201


def test_shows_create_patch_validate_and_page(client, token_for):
    _, h = token_for()
    bad = client.post("/api/v1/shows", json={"title": "", "ticket_url": "javascript:alert(1)"}, headers=h)
    assert bad.status_code == 422
    assert client.post("/api/v1/shows", json={"title": "x", "colour": "red"}, headers=h).json["errors"] == {
        "colour": ["Unknown field."]
    }
    created = client.post(
        "/api/v1/shows",
        headers=h,
        json={
            "title": "Spring Gala",
            "venue_name": "Town Hall",
            "timezone": "Europe/London",
            "currency": "GBP",
            "price_min": "25",
            "price_max": 60,
            "performers": ["The Band"],
            "performances": [{"starts_at": "2027-03-06T20:00"}, {"starts_at": "2027-03-07T20:00"}],
        },
    )
    assert created.status_code == 201, created.json
    show = created.json
    assert show["performances"][0]["starts_at"].startswith("2027-03-06T20:00:00+00:00")  # GMT in March
    assert show["price_text"] == "£25–£60"
    patched = client.patch(f"/api/v1/shows/{show['id']}", json={"cta_text": "Book now"}, headers=h)
    assert patched.json["cta_text"] == "Book now" and patched.json["title"] == "Spring Gala"
    assert (
        client.patch(f"/api/v1/shows/{show['id']}", json={"timezone": "Mars/Base"}, headers=h).status_code
        == 422
    )
    for i in range(27):
        client.post("/api/v1/shows", json={"title": f"Show {i}"}, headers=h)
    first = client.get("/api/v1/shows", headers=h)
    assert len(first.json["items"]) == 25 and 'rel="next"' in first.headers["Link"]
    second = client.get(f"/api/v1/shows?cursor={first.json['next_cursor']}", headers=h).json
    assert len(second["items"]) == 3 and second["next_cursor"] is None


def test_assets_filters_delete_and_bad_parameters(app, client, token_for, run_jobs, photo_jpeg):
    _, h = token_for()
    _upload(client, h, photo_jpeg)
    run_jobs()
    assert len(client.get("/api/v1/assets", headers=h).json["items"]) == 4
    posters = client.get("/api/v1/assets?kind=poster", headers=h).json["items"]
    assert [a["kind"] for a in posters] == ["poster"]
    assert client.get("/api/v1/assets?kind=evil&sort=x&color=red", headers=h).status_code == 422
    asset = client.get(f"/api/v1/assets/{posters[0]['id']}", headers=h).json
    # The documented download_url works for a script: bearer token only, no session cookie.
    assert asset["download_url"] == f"http://localhost/api/v1/assets/{asset['id']}/download"
    scripted = app.test_client(use_cookies=False)
    img = scripted.get(asset["download_url"].replace("http://localhost", ""), headers=h)
    assert img.status_code == 200, (img.status_code, img.headers.get("Location"))
    assert img.mimetype == asset["content_type"] == "image/jpeg"
    assert img.data[:3] == b"\xff\xd8\xff" and len(img.data) == asset["bytes"]  # the JPEG itself
    assert img.headers["Content-Disposition"].startswith("attachment")
    _, other = token_for()  # another producer's token: the asset does not exist for them
    refused = scripted.get(f"/api/v1/assets/{asset['id']}/download", headers=other)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    assert scripted.get(f"/api/v1/assets/{asset['id']}/download").status_code == 401
    job = client.get(f"/api/v1/jobs/{asset['job_id']}", headers=h).json  # the job's ZIP, likewise
    zipped = scripted.get(job["download_url"].replace("http://localhost", ""), headers=h)
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as zf:
        assert len(zf.namelist()) == 3
    gone = client.delete(f"/api/v1/assets/{asset['id']}", headers=h)
    assert gone.status_code == 200 and gone.json["deleted"] == asset["id"]
    assert client.get(f"/api/v1/assets/{asset['id']}", headers=h).status_code == 404


def test_hourly_limit_answers_429_with_retry_after(pg_url, media_root, queue_prefix, make_user, photo_jpeg):
    from tests.conftest import make_config
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    limited = create_app(make_config(pg_url, media_root, queue_prefix, LIMIT_AUTOFORMAT_PER_HOUR=1))
    uid, _ = make_user()
    with limited.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "t", "write")
    c = limited.test_client()
    h = {"Authorization": f"Bearer {plaintext}"}
    assert _upload(c, h, photo_jpeg).status_code == 202
    resp = _upload(c, h, photo_jpeg)
    assert resp.status_code == 429 and resp.mimetype == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0 and resp.headers["X-RateLimit-Remaining"] == "0"


def test_own_keys_and_admin_providers_over_the_api(client, token_for):
    _, h = token_for()
    assert client.get("/api/v1/api-keys", headers=h).json == {"items": []}
    bad = client.post("/api/v1/api-keys", json={"provider": "dalle", "key": "x"}, headers=h)
    assert bad.status_code == 422
    assert client.delete("/api/v1/api-keys/openai", headers=h).status_code == 404
    _, admin = token_for(role="admin", scope="admin")
    models = client.get("/api/v1/admin/ai-models", headers=admin).json["items"]
    assert {m["name"] for m in models} >= {"local", "openai", "gemini"}
    assert all(m["key_suffix"] is None or m["key_suffix"].startswith("…") for m in models)
    upd = client.patch("/api/v1/admin/ai-models/local", json={"images_per_minute": 120}, headers=admin)
    assert upd.status_code == 200 and upd.json["images_per_minute"] == 120
    assert (
        client.patch("/api/v1/admin/ai-models/openai", json={"model": "dall-e-3"}, headers=admin).status_code
        == 422
    )
    assert (
        client.post("/api/v1/admin/ai-models/openai/set-default", headers=admin).status_code == 409
    )  # disabled
    assert client.post("/api/v1/admin/ai-models/local/set-default", headers=admin).json["is_default"] is True
    stats = client.get("/api/v1/admin/usage-stats?start_date=2026-01-01&end_date=2026-12-31", headers=admin)
    assert stats.status_code == 200 and "totals" in stats.json
    assert (
        client.get(
            "/api/v1/admin/usage-stats?start_date=2026-12-31&end_date=2026-01-01", headers=admin
        ).status_code
        == 422
    )


def test_unknown_api_urls_and_methods_are_problem_json(client, token_for):
    _, h = token_for()
    assert client.get("/api/v1/nope", headers=h).mimetype == "application/problem+json"
    resp = client.put("/api/v1/shows", headers=h)
    assert resp.status_code == 405 and resp.mimetype == "application/problem+json"
    assert client.get("/api/v1/jobs?cursor=abc", headers=h).status_code == 422


def test_openapi_document_is_valid_and_covers_every_api_route(app, client):
    from openapi_spec_validator import validate

    doc = client.get("/api/v1/openapi.json").json
    validate(doc)
    documented = {(m.upper(), "/api/v1" + p) for p, ops in doc["paths"].items() for m in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_json":
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<int:{arg}>", "{" + arg + "}").replace(f"<{arg}>", "{" + arg + "}")
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_api_reference_page_renders_the_document(client, login):
    login()
    page = client.get("/api").get_data(as_text=True)
    assert "/api/v1/auto-format" in page and "openapi.json" in page


def test_ai_generate_select_and_assign_with_the_offline_provider(client, token_for, run_jobs):
    _, h = token_for()
    bad = client.post("/api/v1/ai-generate", json={"prompt": "x", "variations": 9}, headers=h)
    assert bad.status_code == 422
    assert (
        client.post("/api/v1/ai-generate", json={"prompt": "x", "provider": "openai"}, headers=h).status_code
        == 422
    )
    started = client.post(
        "/api/v1/ai-generate",
        headers=h,
        json={
            "prompt": "neon jazz night, saxophone silhouettes",
            "image_type": "poster",
            "provider": "local",
            "variations": 2,
            "style": "neon",
        },
    )
    assert started.status_code == 202, started.json
    job_id = started.json["id"]
    run_jobs()
    gen = client.get(f"/api/v1/ai-generate/{job_id}", headers=h).json
    assert gen["status"] == "succeeded"
    assert [(o["width"], o["height"], o["kind"]) for o in gen["outputs"]] == [(1200, 1800, "generated")] * 2
    assert gen["outputs"][0]["provenance"]["provider"] == "local"
    show = client.post("/api/v1/shows", json={"title": "Jazz Night"}, headers=h).json
    keep = gen["outputs"][0]["id"]
    sel = client.post(
        f"/api/v1/ai-generate/{job_id}/select",
        headers=h,
        json={
            "asset_ids": [keep],
            "discard_others": True,
            "assign": {"show_id": show["id"], "slot": "poster"},
        },
    )
    assert sel.status_code == 200, sel.json
    assert sel.json["discarded"] == [gen["outputs"][1]["id"]]
    assert client.get(f"/api/v1/shows/{show['id']}", headers=h).json["slots"]["poster"] == keep


def test_bulk_over_the_api(client, app, token_for, run_jobs):
    from tests.conftest import provider_row

    provider_row(app, "openai")  # a paid platform provider exists (enabled or not)
    _, producer = token_for()
    refused = client.post("/api/v1/bulk", json={"prompts": ["a"], "provider": "openai"}, headers=producer)
    assert refused.status_code == 403 and "own" in refused.json["detail"]
    # The free offline generator is open to every producer with the media assistant on.
    free = client.post(
        "/api/v1/bulk", json={"prompts": ["a lone trumpet"], "provider": "local"}, headers=producer
    )
    assert free.status_code == 202, free.json
    _, admin = token_for(role="admin", scope="admin")
    dup = client.post("/api/v1/bulk", json={"prompts": ["a", "A"], "provider": "local"}, headers=admin)
    assert dup.status_code == 422
    started = client.post(
        "/api/v1/bulk",
        headers=admin,
        json={"prompts": ["opera gala", "folk festival"], "provider": "local", "image_type": "square"},
    )
    assert started.status_code == 202, started.json
    batch_id = started.json["id"]
    assert client.post(f"/api/v1/bulk/{batch_id}/resume", headers=admin).status_code == 409
    run_jobs()
    batch = client.get(f"/api/v1/bulk/{batch_id}", headers=admin).json
    assert batch["status"] == "finished" and batch["progress"]["images"] == 2
    published = client.post(f"/api/v1/bulk/{batch_id}/publish", headers=admin).json
    assert published["published"] == 2
    assert client.get(f"/api/v1/bulk/{batch_id}", headers=producer).status_code == 404


def test_palettes_over_the_api(app, client, token_for, run_jobs, photo_jpeg, make_user):
    _, h = token_for()
    job = _upload(client, h, photo_jpeg).json
    run_jobs()
    asset_id = client.get(f"/api/v1/jobs/{job['id']}", headers=h).json["outputs"][0]["id"]
    assert (
        client.post(
            "/api/v1/palettes/extract", json={"asset_id": asset_id, "colors": 12}, headers=h
        ).status_code
        == 422
    )
    started = client.post("/api/v1/palettes/extract", json={"asset_id": asset_id, "colors": 6}, headers=h)
    assert started.status_code == 202, started.json
    run_jobs()
    palettes = client.get("/api/v1/palettes", headers=h).json["items"]
    assert len(palettes) == 1 and len(palettes[0]["colors"]) >= 3
    base = palettes[0]
    assert set(base["roles"]) >= {"primary", "background", "text", "accent"}
    custom = client.post(
        "/api/v1/palettes", json={"base_id": base["id"], "roles": {"text": "#777777"}}, headers=h
    )
    assert custom.status_code == 201 and custom.json["status"] == "pending_approval"
    show = client.post("/api/v1/shows", json={"title": "Colours"}, headers=h).json
    refused = client.post(
        f"/api/v1/palettes/{custom.json['id']}/apply", json={"show_id": show["id"]}, headers=h
    )
    assert refused.status_code == 409
    assert (
        client.patch(
            f"/api/v1/palettes/{custom.json['id']}", json={"decision": "approve"}, headers=h
        ).status_code
        == 404
    )  # producers cannot review
    _, staff = token_for(role="staff")
    approved = client.patch(
        f"/api/v1/palettes/{custom.json['id']}", json={"decision": "approve"}, headers=staff
    )
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    applied = client.post(
        f"/api/v1/palettes/{custom.json['id']}/apply", json={"show_id": show["id"]}, headers=h
    )
    assert applied.status_code == 200 and applied.json["status"] == "applied"
    assert client.get(f"/api/v1/shows/{show['id']}", headers=h).json["palette_id"] == applied.json["id"]
