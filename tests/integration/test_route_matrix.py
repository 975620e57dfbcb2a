"""Every route of the app (pages, partials, downloads, API), generated from the URL map, for
anonymous, producer A (the owner), producer B, staff and admin — and every state-changing route
without its CSRF token. A new route with a parameter this file does not know fails the test until
it is classified here, so no route can be forgotten.

Rules pinned (the same everywhere):
- anonymous: pages redirect to the log-in page; the API answers 401; only public pages answer.
- producer B: every URL naming one of A's objects answers 404 (ids are not confirmed) and changes
  nothing; nobody ever gets a 5xx.
- staff and admin may look at others' objects but their change requests leave A's objects as they
  were; admin-only pages answer 404 to everyone else.
- with CSRF on, a logged-in POST/PATCH/DELETE without the token is refused with 400.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.usefixtures("app")

PUBLIC = {
    "main.index",
    "main.healthz",
    "main.readyz",
    "auth.login",
    "auth.register",
    "api.openapi_json",
    "static",
}
ADMIN_ONLY_PREFIXES = ("/admin/", "/api/v1/admin/")
STAFF_ALLOWED = {"admin.approvals", "admin.review_palette"}
# Parameters that are not object ids: any value is fine.
FREE_PARAMS = {
    "slot": "poster",
    "action": "pause",
    "which": "all",
    "name": "local",
    "provider": "openai",
    "filename": "css/app.css",
}


@pytest.fixture
def world(app, make_user, run_jobs, photo_jpeg, photo_png):
    """Producer A owns one of everything; B, staff and admin exist."""
    from webapp.crypto import user_vault
    from webapp.extensions import db
    from webapp.models import (
        ApiToken,
        Asset,
        BulkBatch,
        BulkImage,
        BulkItem,
        Job,
        JobBatch,
        Palette,
        PromptTemplate,
        User,
        UserKey,
    )
    from webapp.services import actions, generation, shows, tokens
    from webapp.services import jobs as job_service
    from webapp.services.assets import ingest_upload

    a_id, a_email = make_user("owner-a@example.com")
    b_id, b_email = make_user("other-b@example.com")
    _, staff_email = make_user("staff@example.com", role="staff")
    _, admin_email = make_user("admin@example.com", role="admin")
    with app.app_context():
        a = db.session.get(User, a_id)
        original = ingest_upload(a, photo_jpeg, "art.jpg").asset
        batch = JobBatch(owner_id=a.id, kind="autoformat", title="2 images")
        db.session.add(batch)
        db.session.commit()
        af = job_service.start(
            a, "autoformat", {"asset_id": original.id, "output": "jpeg"}, batch_id=batch.id
        )
        gen = actions.generate(
            a, generation.GenerationRequest(prompt="jazz night", provider="local", variations=1)
        )
        pal_job = actions.extract_palette(a, original.id, n_colors=6)
        show = shows.create_show(a, {"title": "A's Show"})
        ids = {
            "af": af.id,
            "gen": gen.id,
            "pal": pal_job.id,
            "jobbatch": batch.id,
            "show": show.id,
            "original": original.id,
        }
    run_jobs()
    with app.app_context():
        a = db.session.get(User, a_id)
        generated = db.session.scalar(select(Asset).where(Asset.owner_id == a_id, Asset.kind == "generated"))
        palette = db.session.scalar(select(Palette).where(Palette.owner_id == a_id))
        bulk = BulkBatch(
            owner_id=a_id,
            name="b",
            status="finished",
            provider="local",
            model="procedural-v1",
            estimate=Decimal(0),
        )
        db.session.add(bulk)
        db.session.flush()
        item = BulkItem(batch_id=bulk.id, position=0, prompt="x", status="succeeded")
        db.session.add(item)
        db.session.flush()
        image = BulkImage(item_id=item.id, batch_id=bulk.id, asset_id=generated.id)
        key = UserKey(
            owner_id=a_id,
            provider="openai",
            encrypted_key=user_vault().encrypt("sk-test-owner-a-0000"),
            key_suffix="…0000",
        )
        template = PromptTemplate(image_type="poster", name="t", text="a poster")
        db.session.add_all([image, key, template])
        token_row, _ = tokens.create(a, "a's token", "write")
        db.session.commit()
        ids.update(
            generated=generated.id,
            palette=palette.id,
            bulk=bulk.id,
            item=item.id,
            image=image.id,
            key=key.id,
            token=token_row.id,
            template=template.id,
            b_user=b_id,
        )
        assert db.session.get(Job, ids["af"]).status == "succeeded"
        assert isinstance(db.session.get(ApiToken, token_row.id), ApiToken)
    return ids, {"a": a_email, "b": b_email, "staff": staff_email, "admin": admin_email}


def _param_value(endpoint: str, name: str, ids: dict) -> object:
    if name in FREE_PARAMS:
        return FREE_PARAMS[name]
    if name == "job_id":
        if endpoint.startswith("studio.") or endpoint in ("api.get_generation", "api.select_variations"):
            return ids["gen"]
        if endpoint.startswith("palettes."):
            return ids["pal"]
        return ids["af"]
    if name == "batch_id":
        return ids["jobbatch"] if endpoint.startswith("activity.") else ids["bulk"]
    if name == "asset_id":
        return ids["generated"]
    table = {
        "show_id": "show",
        "palette_id": "palette",
        "item_id": "item",
        "image_id": "image",
        "key_id": "key",
        "token_id": "token",
        "template_id": "template",
        "user_id": "b_user",
    }
    if name in table:
        return ids[table[name]]
    raise AssertionError(
        f"{endpoint}: classify the URL parameter {name!r} in tests/integration/test_route_matrix.py"
    )


OWNED_PARAMS = {
    "job_id",
    "batch_id",
    "asset_id",
    "show_id",
    "palette_id",
    "item_id",
    "image_id",
    "key_id",
    "token_id",
}


def _routes(app, ids):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: _param_value(rule.endpoint, arg, ids) for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        owned = bool(set(rule.arguments) & OWNED_PARAMS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url, owned


def _snapshot(app):
    from webapp.extensions import db
    from webapp.models import ApiToken, Asset, BulkBatch, BulkImage, Job, Palette, Show, UserKey

    with app.app_context():
        return (
            tuple(db.session.execute(select(Job.id, Job.status, Job.attempts).order_by(Job.id)).all()),
            db.session.scalar(select(func.count()).select_from(Asset)),
            tuple(
                db.session.execute(
                    select(Show.id, Show.title, Show.poster_asset_id, Show.palette_id).order_by(Show.id)
                ).all()
            ),
            tuple(db.session.execute(select(Palette.id, Palette.status).order_by(Palette.id)).all()),
            tuple(db.session.execute(select(BulkBatch.id, BulkBatch.status)).all()),
            tuple(db.session.execute(select(BulkImage.id, BulkImage.selected, BulkImage.published)).all()),
            tuple(db.session.execute(select(UserKey.id, UserKey.use_own)).all()),
            tuple(db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()),
        )


def _login(app, email):
    c = app.test_client()
    resp = c.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302
    return c


def _send(client, method, url, **kw):
    resp = getattr(client, method.lower())(url, **kw)
    resp.get_data()  # finish streamed bodies so their context is released
    resp.close()
    return resp


def test_every_route_for_every_kind_of_visitor(app, world):
    ids, emails = world
    routes = list(_routes(app, ids))
    assert len(routes) > 120
    visitors = {"anonymous": app.test_client()}
    for who in ("b", "staff", "admin"):
        visitors[who] = _login(app, emails[who])
    before = _snapshot(app)
    problems: list[str] = []
    for endpoint, method, url, owned in routes:
        if endpoint == "auth.logout":
            continue  # would end the visitors' sessions; covered in test_auth
        api = url.startswith("/api/")
        for who, client in visitors.items():
            resp = _send(client, method, url, data={}, headers={"HX-Request": "true"} if not api else {})
            code = resp.status_code
            where = f"{who} {method} {url} ({endpoint}) -> {code}"
            if code >= 500:
                problems.append(where + ": server error")
            elif who == "anonymous":
                if endpoint in PUBLIC:
                    continue
                if api and code != 401:
                    problems.append(where + ": API should answer 401")
                if not api and not (code == 302 and "/login" in resp.headers.get("Location", "")):
                    problems.append(where + ": should redirect to log in")
            elif url.startswith(ADMIN_ONLY_PREFIXES) and who != "admin" and endpoint not in STAFF_ALLOWED:
                if code not in (403, 404):
                    problems.append(where + ": admin-only route answered a non-admin")
            elif who == "b" and owned and code != 404:
                problems.append(where + ": another producer must get 404")
        after = _snapshot(app)
        if after != before:
            problems.append(f"{method} {url} ({endpoint}) changed the owner's objects for a non-owner")
            before = after
    assert not problems, "\n".join(problems)


def test_every_state_changing_route_refuses_requests_without_csrf(pg_url, media_root, queue_prefix, world):
    from webapp import create_app

    ids, emails = world
    strict = create_app(make_config(pg_url, media_root, queue_prefix, WTF_CSRF_ENABLED=True))
    c = strict.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert (
        c.post(
            "/login", data={"email": emails["admin"], "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    before = _snapshot(strict)
    problems = []
    checked = 0
    for endpoint, method, url, _owned in _routes(strict, ids):
        if method == "GET" or endpoint in ("auth.login", "auth.register"):
            continue
        checked += 1
        resp = _send(c, method, url, data={"x": "1"}, headers={"HX-Request": "true"})
        if resp.status_code != 400:
            problems.append(f"{method} {url} ({endpoint}) -> {resp.status_code} without a CSRF token")
    assert checked > 60
    assert not problems, "\n".join(problems)
    assert _snapshot(strict) == before
