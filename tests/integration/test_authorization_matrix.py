"""Every route of the library, jobs and auto-format features, for every kind of visitor.

Generated from the URL map, so a new route in these blueprints cannot be forgotten: the test fails
until it is classified here. Expectations: anonymous -> log-in page; the owner -> works;
another producer -> 404 (ids are not confirmed) and nothing changes; staff and admins -> may view
everyone's work, may not change it (403).
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD

BLUEPRINTS = ("library.", "activity.", "autoformat.")
# Routes that name no object of the owner (lists, the upload form, multi-select posts).
NO_OBJECT = {
    "library.index",
    "library.selection",
    "library.download_zip",
    "activity.index",
    "autoformat.new",
    "autoformat.create",
    "autoformat.resolve_duplicate",
}


# GET pages that exist only to change something (a delete confirmation): owner only.
CHANGE_PAGES = {"library.delete"}


@pytest.fixture
def world(app, client, make_user, run_jobs, photo_jpeg):
    """An owner with an auto-formatted upload in a batch, plus the other visitors."""
    from webapp.extensions import db
    from webapp.models import Asset, Job

    _, owner_email = make_user()
    client.post("/login", data={"email": owner_email, "password": PASSWORD})
    resp = client.post(
        "/autoformat",
        data={
            "image": [
                (io.BytesIO(photo_jpeg), "a.jpg"),
                (io.BytesIO(photo_jpeg[:-10] + b"\xff\xd9"), "b.jpg"),
            ],
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
        },
        content_type="multipart/form-data",
    )
    assert "/jobs/batches/" in resp.headers["Location"]
    run_jobs()
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.status == "succeeded"))
        poster = db.session.scalar(select(Asset).where(Asset.kind == "poster"))
        ids = {"job_id": job.id, "asset_id": poster.id, "batch_id": job.batch_id}
    visitors = {"owner": client}
    for role in ("producer", "staff", "admin"):
        c = app.test_client()
        _, email = make_user(role=role)
        c.post("/login", data={"email": email, "password": PASSWORD})
        visitors["other" if role == "producer" else role] = c
    visitors["anonymous"] = app.test_client()
    return ids, visitors


def _routes(app, ids):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(BLUEPRINTS):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = rule.build({k: ids[k] for k in rule.arguments}, append_unknown=False)[1]
            yield rule.endpoint, method, url


def _state(app):
    from webapp.extensions import db
    from webapp.models import Asset, Job

    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Asset)),
            tuple(db.session.execute(select(Job.id, Job.status).order_by(Job.id)).all()),
        )


def test_every_route_answers_each_visitor_as_it_should(app, world):
    ids, visitors = world
    routes = list(_routes(app, ids))
    assert len(routes) >= 15
    before = _state(app)
    for endpoint, method, url in routes:
        send = visitors["anonymous"].get if method == "GET" else visitors["anonymous"].post
        resp = send(url)
        resp.close()
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], (endpoint, method)

        for who in ("other", "staff", "admin"):
            c = visitors[who]
            resp = (
                c.get(url, headers={"HX-Request": "true"})
                if method == "GET"
                else c.post(
                    url,
                    data={
                        "ids": [ids["asset_id"]],
                        "confirm": "yes",
                        "action": "delete",
                        "new_asset_id": ids["asset_id"],
                        "existing_asset_id": ids["asset_id"],
                        "choice": "existing",
                        "output": "jpeg",
                        "darken": "15",
                        "fill_poster": "blur",
                        "fill_square": "blur",
                        "fill_banner": "blur",
                    },
                )
            )
            code = resp.status_code
            resp.get_data()  # finish streamed bodies (ZIPs) so their request context is released
            resp.close()
            if endpoint in NO_OBJECT:
                # Their own (empty) view, or an action that finds none of the owner's objects.
                assert code in (200, 302, 400, 404, 422), (who, endpoint, method, code)
            elif who == "other":
                assert code == 404, (who, endpoint, method, code)
            elif method == "GET" and endpoint not in CHANGE_PAGES:
                assert code in (200, 302), (who, endpoint, method, code)
            else:
                assert code == 403, (who, endpoint, method, code)
        assert _state(app) == before, f"{endpoint} {method} changed someone else's work"

    owner = visitors["owner"]
    for endpoint, method, url in routes:
        if method == "GET":
            if endpoint == "library.download_zip":
                url += f"?ids={ids['asset_id']}"
            resp = owner.get(url)
            resp.get_data()
            assert resp.status_code in (200, 302), endpoint


def test_staff_see_others_job_but_get_no_cancel_or_retry_buttons(app, world):
    ids, visitors = world
    page = visitors["staff"].get(f"/jobs/{ids['job_id']}").get_data(as_text=True)
    assert "Download all three" in page
    assert "/cancel" not in page and "/retry" not in page
