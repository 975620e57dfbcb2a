"""Issue 19, the library: stacks (an original with its formats and renders as one tile), favourites
(web, HTMX, API, concurrent stars) and overlay re-renders as versions — real Postgres, Redis/RQ and
local storage; nothing of ours mocked."""

from __future__ import annotations

import io
import re
import threading

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.usefixtures("app")

TILE = '<li class="tile'
MEMBER = '<li class="stack__item'


def _upload(client, data: bytes, name: str):
    form = {
        "output": "jpeg",
        "darken": "15",
        "shadow": "y",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
        "image": [(io.BytesIO(data), name)],
    }
    return client.post("/autoformat", data=form, content_type="multipart/form-data")


def _spec(title: str):
    from webapp.imaging.overlay import OverlaySpec

    return OverlaySpec.from_dict({"texts": {"title": title}, "enabled": ["title"], "position": "bottom"})


def _render(app, uid: int, source_id: int, title: str) -> int:
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import studio

    with app.app_context():
        user = db.session.get(User, uid)
        return studio.save_with_overlay(user, db.session.get(Asset, source_id), _spec(title)).id


def _stack_world(app, client, uid, photo_jpeg, run_jobs) -> dict[str, int]:
    """An uploaded original, its 3 formats, a 4th (a poster on a solid colour) and 2 overlay renders."""
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import actions

    assert _upload(client, photo_jpeg, "Gala Night.jpg").status_code in (302, 303)
    run_jobs()
    with app.app_context():
        original = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "original"))
        settings = actions.AutoformatSettings(formats=("poster",), fills={"poster": "solid"})
        actions.autoformat_asset(db.session.get(User, uid), original.id, settings)
        original_id = original.id
    run_jobs()
    with app.app_context():
        formats = {
            a.kind: a.id
            for a in db.session.scalars(
                select(Asset).where(Asset.parent_id == original_id).order_by(Asset.id.desc())
            )
        }
        n_formats = len(list(db.session.scalars(select(Asset.id).where(Asset.parent_id == original_id))))
    assert n_formats == 4
    renders = [
        _render(app, uid, formats["poster"], "Gala Night"),
        _render(app, uid, formats["square"], "Gala Night"),
    ]
    return {"original": original_id, **formats, "render_poster": renders[0], "render_square": renders[1]}


def test_an_original_with_four_formats_and_two_renders_is_one_expandable_tile(
    app, client, login, photo_jpeg, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Asset
    from webapp.services import tokens

    uid, _ = login()
    ids = _stack_world(app, client, uid, photo_jpeg, run_jobs)
    page = client.get("/library").get_data(as_text=True)
    assert page.count(TILE) == 1
    assert "+4 formats, 2 renders" in page
    assert page.count('<details class="stack"') == 1 and page.count(MEMBER) == 6
    with app.app_context():
        names = [a.filename for a in db.session.scalars(select(Asset).where(Asset.owner_id == uid))]
    assert len(names) == 7
    for name in names:
        assert f'title="{name}"' in page  # the expanded stack lists every member
    # Filters match members: the stack is listed, its tile shows the banner, the match is marked.
    banner = client.get("/library?kind=banner").get_data(as_text=True)
    assert banner.count(TILE) == 1
    cover = re.search(r'class="tile__name"[^>]*title="([^"]+)"', banner).group(1)
    assert cover.endswith("-banner.jpg")
    # Under a filter the stack lists only what matches (here the cover alone) and links to the rest.
    assert "1 of 7 in its stack match" in banner and banner.count(MEMBER) == 0
    poster = client.get("/library?kind=poster").get_data(as_text=True)
    assert poster.count(TILE) == 1 and poster.count(MEMBER) == 1 and "2 of 7 in its stack match" in poster
    assert "No images match" in client.get("/library?kind=banner&source=upload").get_data(as_text=True)

    # The API still lists assets flat, with the stack on each one.
    with app.app_context():
        from webapp.models import User

        _, token = tokens.create(db.session.get(User, uid), "t", "read")
    resp = client.get("/api/v1/assets?limit=100", headers={"Authorization": f"Bearer {token}"})
    items = resp.get_json()["items"]
    assert len(items) == 7
    assert {i["group_id"] for i in items} == {ids["original"]}
    assert {i["group_size"] for i in items} == {7}
    by_id = {i["id"]: i for i in items}
    assert by_id[ids["render_poster"]]["parent_id"] == ids["poster"]
    assert by_id[ids["original"]]["parent_id"] is None and by_id[ids["original"]]["favorite"] is False


def test_pagination_counts_stacks_not_assets(app, client, login, photo_jpeg, run_jobs):
    from tests.integration.test_library import _insert_assets

    uid, _ = login()
    _stack_world(app, client, uid, photo_jpeg, run_jobs)  # 7 assets, one stack (the oldest)
    _insert_assets(app, uid, 48)  # 48 single-asset stacks, newer
    first = client.get("/library").get_data(as_text=True)
    assert first.count(TILE) == 48 and "Load more" in first
    cursor = re.search(r'href="/library\?cursor=([^"&]+)', first).group(1)
    second = client.get(f"/library?cursor={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert second.count(TILE) == 1 and "+4 formats, 2 renders" in second and "Load more" not in second


def test_star_and_the_favourites_filter_on_the_web_and_the_api(
    app, client, login, photo_jpeg, run_jobs, make_user
):
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import tokens

    uid, _ = login()
    ids = _stack_world(app, client, uid, photo_jpeg, run_jobs)
    assert "No images match" in client.get("/library?favorites=1").get_data(as_text=True)

    # Without JavaScript: the form posts and returns to the page it came from.
    resp = client.post(
        f"/assets/{ids['banner']}/favorite", data={"favorite": "1", "next": "/library?kind=banner"}
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/library?kind=banner"
    # Never an open redirect.
    resp = client.post(
        f"/assets/{ids['banner']}/favorite", data={"favorite": "1", "next": "//evil.example/x"}
    )
    assert resp.headers["Location"].endswith(f"/assets/{ids['banner']}")
    fav = client.get("/library?favorites=1").get_data(as_text=True)
    assert fav.count(TILE) == 1
    assert re.search(r'class="tile__name"[^>]*title="([^"]+)"', fav).group(1).endswith("-banner.jpg")
    assert 'aria-pressed="true"' in fav

    # HTMX: the button is swapped for its new state.
    swapped = client.post(
        f"/assets/{ids['original']}/favorite", data={"favorite": "1"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert (
        swapped.lstrip().startswith("<button") and 'aria-pressed="true"' in swapped and 'value="0"' in swapped
    )
    fav = client.get("/library?favorites=1").get_data(as_text=True)
    assert re.search(r'class="tile__name"[^>]*title="([^"]+)"', fav).group(1) == "Gala Night.jpg"
    detail = client.get(f"/assets/{ids['original']}").get_data(as_text=True)
    assert "Unstar Gala Night.jpg" in detail and "In your favourites" in detail

    # Refusals: a bad value, another producer's image.
    assert client.post(f"/assets/{ids['square']}/favorite", data={"favorite": "maybe"}).status_code == 422
    other = app.test_client()
    _, other_email = make_user()
    from tests.conftest import PASSWORD

    other.post("/login", data={"email": other_email, "password": PASSWORD})
    assert other.post(f"/assets/{ids['square']}/favorite", data={"favorite": "1"}).status_code == 404

    # The API: read the star, set it with PATCH, filter by it.
    with app.app_context():
        _, token = tokens.create(db.session.get(User, uid), "t", "write")
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/assets?favorite=true", headers=auth).get_json()["items"]
    assert {i["id"] for i in listed} == {ids["banner"], ids["original"]}
    patched = client.patch(f"/api/v1/assets/{ids['banner']}", json={"favorite": False}, headers=auth)
    assert patched.status_code == 200 and patched.get_json()["favorite"] is False
    assert patched.get_json()["group_size"] == 7
    patched = client.patch(
        f"/api/v1/assets/{ids['square']}", json={"favorite": True, "title": "Square"}, headers=auth
    )
    assert patched.status_code == 200 and patched.get_json()["favorite"] is True
    assert patched.get_json()["title"] == "Square"
    bad = client.patch(f"/api/v1/assets/{ids['square']}", json={"favorite": "yes"}, headers=auth)
    assert bad.status_code == 422 and "true or false" in bad.get_data(as_text=True)
    assert client.get("/api/v1/assets?favorite=perhaps", headers=auth).status_code == 422
    listed = client.get("/api/v1/assets?favorite=true", headers=auth).get_json()["items"]
    assert {i["id"] for i in listed} == {ids["square"], ids["original"]}
    with app.app_context():
        starred = set(db.session.scalars(select(Asset.id).where(Asset.owner_id == uid, Asset.favorite)))
    assert starred == {ids["square"], ids["original"]}


def test_concurrent_stars_land_consistently(app, make_user):
    """Two requests at once on one image (and on two images of one stack): each answers the state it
    set, the database ends in a state one of them set, and nothing is lost or half-written."""
    from tests.integration.test_action_conformance import _small_jpeg
    from webapp.extensions import db
    from webapp.models import Asset, User
    from webapp.services import tokens
    from webapp.services.assets import ingest_upload

    uid, _ = make_user()
    with app.app_context():
        user = db.session.get(User, uid)
        a = ingest_upload(user, _small_jpeg(0), "a.jpg").asset.id
        b = ingest_upload(user, _small_jpeg(40), "b.jpg").asset.id
        _, token = tokens.create(user, "t", "write")
    auth = {"Authorization": f"Bearer {token}"}

    def race(calls: list[tuple[int, bool]]) -> list[tuple[int, bool, int, bool]]:
        barrier = threading.Barrier(len(calls))
        out: list = [None] * len(calls)

        def run(i: int, asset_id: int, value: bool) -> None:
            c = app.test_client()
            barrier.wait(timeout=30)
            resp = c.patch(f"/api/v1/assets/{asset_id}", json={"favorite": value}, headers=auth)
            out[i] = (asset_id, value, resp.status_code, (resp.get_json() or {}).get("favorite"))

        threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        return out

    for _ in range(5):
        results = race([(a, True), (a, False)])
        assert all(r[2] == 200 for r in results), results
        with app.app_context():
            final = db.session.get(Asset, a).favorite
        assert final in (True, False)
        # Each answer is the value that request set; the row holds one of them, whole.
        assert all(r[3] is r[1] for r in results)
        results = race([(a, True), (a, True), (b, True)])
        assert all(r[2] == 200 and r[3] is True for r in results), results
        with app.app_context():
            assert db.session.get(Asset, a).favorite is True and db.session.get(Asset, b).favorite is True
        results = race([(a, False), (b, False)])
        with app.app_context():
            assert db.session.get(Asset, a).favorite is False and db.session.get(Asset, b).favorite is False


def test_re_rendering_twice_leaves_one_current_tile_and_never_loses_a_shows_file(
    app, client, login, photo_jpeg, run_jobs
):
    from webapp.extensions import db
    from webapp.models import Asset, Show
    from webapp.storage import get_storage

    uid, _ = login()
    assert _upload(client, photo_jpeg, "Tour.jpg").status_code in (302, 303)
    run_jobs()
    with app.app_context():
        poster = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "poster"))
        poster_id = poster.id
    v1 = _render(app, uid, poster_id, "Tour 2027")
    with app.app_context():
        show = Show(owner_id=uid, title="Tour 2027", poster_asset_id=v1)
        db.session.add(show)
        db.session.commit()
        show_id = show.id
    v2 = _render(app, uid, poster_id, "Tour 2027 — new dates")
    with app.app_context():
        v2_key = db.session.get(Asset, v2).storage_key
    v3 = _render(app, uid, poster_id, "Tour 2027 — final")
    assert len({v1, v2, v3}) == 3

    with app.app_context():
        rows = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.parent_id == poster_id))}
        renders = {i: a for i, a in rows.items() if a.is_overlay_render}
        assert set(renders) == {v1, v3}  # v2: replaced and used by nothing, so deleted
        assert renders[v1].superseded and not renders[v3].superseded
        assert db.session.get(Show, show_id).poster_asset_id == v1  # the show keeps its file
        v1_key = renders[v1].storage_key
        store = get_storage()
        assert store.get(v1_key)  # the bytes are still there
        assert not store.exists(v2_key)  # v2's file went with it

    page = client.get("/library").get_data(as_text=True)
    assert page.count(TILE) == 1
    # One current render: the name appears once among tiles and stack members, the old one is "older".
    current = re.findall(r'class="(?:tile__name|stack__name)"[^>]*title="([^"]+)"', page)
    assert current.count("Tour-poster-with-details.jpg") == 1
    assert "Older version from" in page and "in use ×1" in page
    older = client.get(f"/assets/{v1}").get_data(as_text=True)
    assert 'data-testid="older-version"' in older

    # The same render again is the existing one (no copy), and it stays current.
    assert _render(app, uid, poster_id, "Tour 2027 — final") == v3
    # Re-rendering the previous look makes v1 current again rather than a duplicate.
    assert _render(app, uid, poster_id, "Tour 2027") == v1
    with app.app_context():
        assert not db.session.get(Asset, v1).superseded
        assert db.session.get(Asset, v3) is None  # unused and replaced: deleted
        assert db.session.get(Show, show_id).poster_asset_id == v1

    # Deleting the current render brings back the previous one that a show uses.
    v4 = _render(app, uid, poster_id, "Tour 2028")
    with app.app_context():
        assert db.session.get(Asset, v1).superseded
    assert client.post(f"/assets/{v4}/delete", data={"confirm": "yes"}).status_code in (302, 303)
    with app.app_context():
        assert not db.session.get(Asset, v1).superseded


def test_deleting_the_original_keeps_the_rest_of_its_stack_together(app, client, login, photo_jpeg, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset

    uid, _ = login()
    assert _upload(client, photo_jpeg, "Solo.jpg").status_code in (302, 303)
    run_jobs()
    with app.app_context():
        original = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "original"))
        poster = db.session.scalar(select(Asset).where(Asset.owner_id == uid, Asset.kind == "poster"))
        original_id, poster_id = original.id, poster.id
    render = _render(app, uid, poster_id, "Solo")
    assert client.post(f"/assets/{original_id}/delete", data={"confirm": "yes"}).status_code in (302, 303)
    with app.app_context():
        assert db.session.get(Asset, render).group_id == poster_id  # the poster is its stack now
        assert db.session.get(Asset, poster_id).group_id is None
    page = client.get("/library").get_data(as_text=True)
    assert page.count(TILE) == 3  # poster (with its render), square, banner
    assert "+1 render" in page


def test_an_originals_page_lists_its_whole_stack_and_a_render_links_back_to_the_original(
    app, client, login, photo_jpeg, run_jobs
):
    uid, _ = login()
    ids = _stack_world(app, client, uid, photo_jpeg, run_jobs)

    def related(asset_id: int) -> tuple[list[int], str]:
        page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
        section = page.split('id="related"', 1)[1].split("</section>", 1)[0]
        return [int(i) for i in re.findall(r'href="/assets/(\d+)"', section)], section

    listed, _ = related(ids["original"])
    # 4 formats made from it, and the 2 renders made from two of them: the whole stack, once each.
    family = {ids[k] for k in ("poster", "square", "banner", "render_poster", "render_square")}
    assert family <= set(listed) and len(listed) == len(set(listed)) == 6

    listed, section = related(ids["render_poster"])
    assert listed[0] == ids["poster"]  # "Made from" first
    assert ids["original"] in listed and "The original" in section
    assert ids["render_square"] in listed and ids["render_poster"] not in listed
