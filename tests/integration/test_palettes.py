"""Palettes end to end: extraction jobs (real RQ worker), custom palettes, staff approval with a real
SMTP server, applying to shows, the CLI, and who may reach which route."""

from __future__ import annotations

import email
import io
import json
import re

import numpy as np
from PIL import Image
from sqlalchemy import select

from tests.conftest import PASSWORD, encode_image

POSTER_COLORS = ["#1b2a49", "#f2efe6", "#d1495b", "#edae49", "#00798c"]


def _artwork(seed: int = 0) -> bytes:
    """A flat poster-like PNG: five colour blocks (different bytes for each seed)."""
    arr = np.zeros((300, 400, 3), dtype=np.uint8)
    widths = [140, 100, 70, 50, 40]
    x = 0
    for hex_value, w in zip(POSTER_COLORS, widths, strict=True):
        arr[:, x : x + w] = [int(hex_value[i : i + 2], 16) for i in (1, 3, 5)]
        x += w
    arr[0, 0] = [seed % 256, 0, 0]
    return encode_image(Image.fromarray(arr), "PNG")


def _ingest(app, owner_id: int, seed: int = 0) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.assets import ingest_upload

    with app.app_context():
        owner = db.session.get(User, owner_id)
        return ingest_upload(owner, _artwork(seed), f"art-{seed}.png").asset.id


def _show(app, owner_id: int, title: str = "Night Bloom") -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import shows as show_service

    with app.app_context():
        return show_service.create_show(db.session.get(User, owner_id), {"title": title}).id


def _palette(app, owner_id: int, **extra) -> int:
    """A palette row built by the pure code from the poster colours (no job needed)."""
    from webapp.extensions import db
    from webapp.imaging.palette import PaletteColor, build_theme
    from webapp.models import Palette

    colours = [
        PaletteColor.from_hex(h, s) for h, s in zip(POSTER_COLORS, [0.35, 0.25, 0.18, 0.12, 0.1], strict=True)
    ]
    theme = build_theme(colours)
    with app.app_context():
        row = Palette(owner_id=owner_id, name="Test palette", **{**theme, **extra})
        db.session.add(row)
        db.session.commit()
        return row.id


def _get(app, model, row_id):
    from webapp.extensions import db

    with app.app_context():
        obj = db.session.get(model, row_id)
        db.session.expunge(obj)
        return obj


def _client(app, make_user, role: str = "producer"):
    c = app.test_client()
    uid, email_addr = make_user(role=role)
    resp = c.post("/login", data={"email": email_addr, "password": PASSWORD})
    assert resp.status_code == 302
    return c, uid


def _mail_text(envelope) -> str:
    msg = email.message_from_bytes(envelope.content)
    part = msg.get_body(("plain",)) if hasattr(msg, "get_body") else msg
    payload = (part or msg).get_payload(decode=True)
    return payload.decode("utf-8") if payload else str(msg)


# --------------------------------------------------------------------------- extraction


def test_extracting_a_library_image_runs_a_job_and_stores_colours_roles_and_report(app, make_user, run_jobs):
    from webapp.models import Job, Palette

    owner, uid = _client(app, make_user)
    asset_id = _ingest(app, uid)
    resp = owner.post("/palettes/new", data={"asset_id": str(asset_id), "n_colors": "6"})
    assert resp.status_code == 302 and "/palettes/jobs/" in resp.headers["Location"]
    job_url = resp.headers["Location"]
    page = owner.get(job_url)
    assert page.status_code == 200 and b"Palette" in page.data  # queued: the polling page
    run_jobs()
    done = owner.get(job_url)
    assert done.status_code == 302 and re.search(r"/palettes/\d+$", done.headers["Location"])
    with app.app_context():
        from webapp.extensions import db

        job = db.session.scalar(select(Job).where(Job.kind == "palette"))
        assert job.status == "succeeded"
        palette = db.session.get(Palette, job.result["palette_id"])
        assert palette.owner_id == uid and palette.source_asset_id == asset_id
        assert palette.status == "extracted" and not palette.is_custom
        assert {c["hex"] for c in palette.colors} == set(POSTER_COLORS)
        assert abs(sum(c["share"] for c in palette.colors) - 1) < 0.01
        assert set(palette.roles) == {"primary", "secondary", "accent", "background", "text"}
        assert palette.contrast["passes"] is True
    detail = owner.get(done.headers["Location"])
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "Contrast report" in text and "Deuteranopia" in text and "/studio?palette=" in text


def test_extracting_a_new_upload_adds_it_to_the_library(app, make_user, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset, Palette

    owner, uid = _client(app, make_user)
    resp = owner.post(
        "/palettes/new",
        data={"image": (io.BytesIO(_artwork(7)), "upload.png"), "n_colors": "5", "ignore_background": "y"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    run_jobs()
    with app.app_context():
        asset = db.session.scalar(select(Asset).where(Asset.owner_id == uid))
        palette = db.session.scalar(select(Palette).where(Palette.owner_id == uid))
        assert asset is not None and palette.source_asset_id == asset.id
        assert len(palette.colors) <= 5


def test_extraction_without_an_image_or_with_junk_is_refused_with_a_message(app, make_user):
    owner, _ = _client(app, make_user)
    resp = owner.post("/palettes/new", data={"n_colors": "6"})
    assert resp.status_code == 422 and "Choose an image" in resp.get_data(as_text=True)
    resp = owner.post(
        "/palettes/new",
        data={"image": (io.BytesIO(b"not an image at all"), "x.png"), "n_colors": "6"},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    resp = owner.post("/palettes/new", data={"n_colors": "12", "asset_id": "1"})
    assert resp.status_code == 422


def test_the_hourly_palette_allowance_is_checked_before_a_job_starts(app, make_user, monkeypatch, run_jobs):
    from webapp.extensions import db
    from webapp.models import Job

    monkeypatch.setitem(app.config, "LIMIT_PALETTE_PER_HOUR", 1)
    owner, uid = _client(app, make_user)
    asset_id = _ingest(app, uid)
    assert owner.post("/palettes/new", data={"asset_id": str(asset_id), "n_colors": "6"}).status_code == 302
    refused = owner.post("/palettes/new", data={"asset_id": str(asset_id), "n_colors": "6"})
    assert refused.status_code == 429 and "palette extractions" in refused.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(Job).where(Job.kind == "palette")).all()) == 1
    run_jobs()  # leave no queued RQ job behind for later tests (ids restart after each test)


def test_a_producer_cannot_extract_from_another_producers_image(app, make_user):
    _, victim = _client(app, make_user)
    asset_id = _ingest(app, victim)
    thief, _ = _client(app, make_user)
    assert thief.post("/palettes/new", data={"asset_id": str(asset_id), "n_colors": "6"}).status_code == 404


def test_asset_page_offers_extract_palette_to_its_owner(app, make_user):
    owner, uid = _client(app, make_user)
    asset_id = _ingest(app, uid)
    page = owner.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert "Extract palette" in page and 'name="asset_id"' in page


# --------------------------------------------------------------------------- apply


def test_a_passing_extracted_palette_is_applied_directly_and_the_show_page_uses_it(app, make_user):
    from webapp.models import Palette, Show

    owner, uid = _client(app, make_user)
    show_id = _show(app, uid)
    pid = _palette(app, uid)
    empty = owner.get(f"/shows/{show_id}").get_data(as_text=True)
    assert "No palette applied yet" in empty
    resp = owner.post(f"/palettes/{pid}/apply", data={"show_id": str(show_id)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/shows/{show_id}")
    palette = _get(app, Palette, pid)
    assert palette.status == "applied" and palette.show_id == show_id and palette.applied_at is not None
    assert _get(app, Show, show_id).palette_id == pid
    page = owner.get(f"/shows/{show_id}").get_data(as_text=True)
    assert "No palette applied yet" not in page
    assert palette.roles["primary"] in page and f"/palettes/{pid}" in page and "Palette history" in page


def test_applying_to_a_second_show_keeps_each_shows_history(app, make_user):
    from webapp.extensions import db
    from webapp.models import Palette, Show

    owner, uid = _client(app, make_user)
    first, second = _show(app, uid, "First"), _show(app, uid, "Second")
    pid = _palette(app, uid)
    owner.post(f"/palettes/{pid}/apply", data={"show_id": str(first)})
    owner.post(f"/palettes/{pid}/apply", data={"show_id": str(second)})
    with app.app_context():
        assert db.session.get(Show, first).palette_id == pid
        copy_id = db.session.get(Show, second).palette_id
        assert copy_id != pid and db.session.get(Palette, copy_id).show_id == second


def test_a_failing_palette_cannot_be_applied(app, make_user):
    from webapp.models import Show

    owner, uid = _client(app, make_user)
    show_id = _show(app, uid)
    roles = {"primary": "#d1495b", "secondary": "#edae49", "accent": "#ffffff", "background": "#ffffff"}
    pid = _palette(app, uid)
    from webapp.extensions import db
    from webapp.models import Palette

    with app.app_context():
        row = db.session.get(Palette, pid)
        row.roles = {**roles, "text": "#eeeeee"}
        db.session.commit()
    resp = owner.post(f"/palettes/{pid}/apply", data={"show_id": str(show_id)}, follow_redirects=True)
    assert "contrast checks fail" in resp.get_data(as_text=True)
    assert _get(app, Show, show_id).palette_id is None


# --------------------------------------------------------------------------- custom palettes and approval


def _save_custom(client, pid: int, **roles) -> int:
    from webapp.imaging.palette import ROLES

    base = {}
    for role in ROLES:
        base[f"{role}_was"] = "#000000"
        base[f"{role}_color"] = "#000000"
        base[f"{role}_hex"] = roles.get(role, "#000000")
    data = {**base, "name": "My custom"}
    resp = client.post(f"/palettes/{pid}/customize", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


CUSTOM = {
    "primary": "#d1495b",
    "secondary": "#00798c",
    "accent": "#1b2a49",
    "background": "#f2efe6",
    "text": "#222222",
}


def test_the_live_check_recomputes_the_report_and_warns_on_failures(app, make_user):
    owner, uid = _client(app, make_user)
    pid = _palette(app, uid)
    palette_roles = _get(app, __import__("webapp.models", fromlist=["Palette"]).Palette, pid).roles
    data = {}
    for role, hex_value in palette_roles.items():
        data.update({f"{role}_was": hex_value, f"{role}_color": hex_value, f"{role}_hex": hex_value})
    data["text_hex"] = palette_roles["background"]  # text in the background colour: 1:1
    resp = owner.post(f"/palettes/{pid}/customize/check", data=data, headers={"HX-Request": "true"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text.lstrip().startswith('<form id="palette-editor"')
    assert 'data-status="fail"' in text and "text on background" in text and "1.00:1" in text
    # The colour picker changed (text box untouched) wins too: black text passes again.
    data["text_hex"] = palette_roles["text"]
    data["text_color"] = "#000000" if palette_roles["background"] != "#000000" else "#ffffff"
    ok = owner.post(f"/palettes/{pid}/customize/check", data=data, headers={"HX-Request": "true"})
    assert 'data-status="pass"' in ok.get_data(as_text=True)
    # Without JS the same endpoint answers with the full page.
    full = owner.post(f"/palettes/{pid}/customize/check", data=data)
    assert "<html" in full.get_data(as_text=True)
    bad = owner.post(f"/palettes/{pid}/customize/check", data={**data, "accent_hex": "#12345"})
    assert "Enter a colour as #rrggbb" in bad.get_data(as_text=True)


def test_approval_flow_mails_the_decision_with_the_report_over_real_smtp(app, make_user, smtp):
    from webapp.extensions import db
    from webapp.models import Palette, Show, User

    owner, uid = _client(app, make_user)
    show_id = _show(app, uid)
    custom_id = _save_custom(owner, _palette(app, uid), **CUSTOM)
    custom = _get(app, Palette, custom_id)
    assert custom.status == "pending_approval" and custom.is_custom and custom.roles == CUSTOM

    # Not applicable while pending.
    owner.post(f"/palettes/{custom_id}/apply", data={"show_id": str(show_id)})
    assert _get(app, Show, show_id).palette_id is None

    staff, staff_id = _client(app, make_user, "staff")
    queue = staff.get("/admin/approvals").get_data(as_text=True)
    assert "My custom" in queue and "Contrast report" in queue and "Show preview" in queue

    no_reason = staff.post(f"/admin/approvals/{custom_id}", data={"decision": "reject", "reason": ""})
    assert no_reason.status_code == 302 and _get(app, Palette, custom_id).status == "pending_approval"
    assert smtp.envelopes == []

    resp = staff.post(f"/admin/approvals/{custom_id}", data={"decision": "approve", "reason": "Lovely."})
    assert resp.status_code == 302
    approved = _get(app, Palette, custom_id)
    assert approved.status == "approved" and approved.reviewer_id == staff_id and approved.reviewed_at

    assert len(smtp.envelopes) == 1
    with app.app_context():
        owner_email = db.session.get(User, uid).email
    assert smtp.envelopes[0].rcpt_tos == [owner_email]
    body = _mail_text(smtp.envelopes[0])
    assert "approved" in body and "Lovely." in body
    assert re.search(r"text on background: \d+\.\d\d:1 — AAA", body)
    assert "accent on background" in body and body.count(":1 —") == 10

    # The producer sees the decision in the app, then applies the palette.
    listing = owner.get("/palettes/").get_data(as_text=True)
    assert "Review decisions" in listing and "Lovely." in listing
    owner.post(f"/palettes/{custom_id}/apply", data={"show_id": str(show_id)})
    assert _get(app, Show, show_id).palette_id == custom_id


def test_rejection_needs_a_reason_and_tells_the_producer_why(app, make_user, smtp):
    from webapp.models import Palette

    owner, uid = _client(app, make_user)
    custom_id = _save_custom(owner, _palette(app, uid), **{**CUSTOM, "text": "#f0f0f0"})
    staff, _ = _client(app, make_user, "staff")
    resp = staff.post(
        f"/admin/approvals/{custom_id}",
        data={"decision": "reject", "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 422 and "Say why" in resp.get_data(as_text=True)
    resp = staff.post(
        f"/admin/approvals/{custom_id}",
        data={"decision": "reject", "reason": "Text is unreadable on the background."},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200 and "Rejected" in resp.get_data(as_text=True)
    rejected = _get(app, Palette, custom_id)
    assert rejected.status == "rejected" and rejected.reason == "Text is unreadable on the background."
    body = _mail_text(smtp.envelopes[0])
    assert "rejected" in body and "unreadable" in body and "FAIL" in body
    page = owner.get(f"/palettes/{custom_id}").get_data(as_text=True)
    assert "Rejected" in page and "unreadable" in page


def test_producers_cannot_approve(app, make_user):
    from webapp.models import Palette

    owner, uid = _client(app, make_user)
    custom_id = _save_custom(owner, _palette(app, uid), **CUSTOM)
    for c in (owner, _client(app, make_user)[0]):
        assert c.get("/admin/approvals").status_code == 404
        assert c.post(f"/admin/approvals/{custom_id}", data={"decision": "approve"}).status_code == 404
    assert _get(app, Palette, custom_id).status == "pending_approval"


def test_staff_cannot_approve_their_own_palette(app, make_user):
    from webapp.models import Palette

    staff, staff_id = _client(app, make_user, "staff")
    custom_id = _save_custom(staff, _palette(app, staff_id), **CUSTOM)
    staff.post(f"/admin/approvals/{custom_id}", data={"decision": "approve"})
    assert _get(app, Palette, custom_id).status == "pending_approval"


def test_palette_hexes_feeds_the_theme_to_the_studio(app, make_user):
    from webapp.extensions import db
    from webapp.models import Palette
    from webapp.services.palettes import palette_hexes

    _, uid = _client(app, make_user)
    pid = _palette(app, uid)
    with app.app_context():
        palette = db.session.get(Palette, pid)
        hexes = palette_hexes(palette)
        assert hexes[0] == palette.roles["primary"]
        assert len(hexes) == len(set(hexes)) and all(re.fullmatch(r"#[0-9a-f]{6}", h) for h in hexes)


# --------------------------------------------------------------------------- CLI


def test_cli_json_has_colors_roles_and_contrast(app, tmp_path):
    path = tmp_path / "art.png"
    path.write_bytes(_artwork())
    result = app.test_cli_runner().invoke(args=["palette", str(path), "--colors", "5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {c["hex"] for c in out["colors"]} == set(POSTER_COLORS)
    for c in out["colors"]:
        assert set(c) >= {"hex", "rgb", "hsl", "share"} and len(c["rgb"]) == 3 and len(c["hsl"]) == 3
    assert set(out["roles"]) == {"primary", "secondary", "accent", "background", "text"}
    pairs = out["contrast"]["pairs"]
    assert len(pairs) == 10 and out["contrast"]["passes"] is True
    assert all({"a", "b", "ratio", "aa", "aaa", "aa_large", "aaa_large", "ui"} <= set(p) for p in pairs)
    table = app.test_cli_runner().invoke(args=["palette", str(path)])
    assert (
        table.exit_code == 0 and "Contrast (WCAG 2.x)" in table.output and "text / background" in table.output
    )
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"nope")
    failed = app.test_cli_runner().invoke(args=["palette", str(junk)])
    assert failed.exit_code != 0


# --------------------------------------------------------------------------- who may do what

VIEW = {"palettes.detail", "palettes.job"}
COLLECTION = {"palettes.index", "palettes.new", "palettes.create"}
CHANGE = {"palettes.apply", "palettes.customize", "palettes.check", "palettes.save_custom"}


def test_every_palette_route_answers_each_role_as_the_authorization_rules_say(app, make_user):
    from webapp.extensions import db
    from webapp.models import Job

    rules = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("palettes.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert {r.endpoint for r, _ in rules} == VIEW | COLLECTION | CHANGE, "classify every new route here"
    owner, uid = _client(app, make_user)
    clients = {
        "anonymous": app.test_client(),
        "owner": owner,
        "other": _client(app, make_user)[0],
        "staff": _client(app, make_user, "staff")[0],
        "admin": _client(app, make_user, "admin")[0],
    }
    show_id = _show(app, uid)
    with app.app_context():
        job = Job(owner_id=uid, kind="palette", status="running", progress=40, input={}, stage="Reading")
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    for rule, method in rules:
        pid = _palette(app, uid)
        url = rule.build({"palette_id": pid, "job_id": job_id}, append_unknown=False)[1]
        data = {"show_id": str(show_id)} if rule.endpoint == "palettes.apply" else {}
        if rule.endpoint in ("palettes.check", "palettes.save_custom"):
            data = {f"{r}_hex": h for r, h in CUSTOM.items()}
        for role in ("anonymous", "other", "staff", "admin", "owner"):
            resp = clients[role].open(url, method=method, data=data)
            where = f"{method} {url} as {role}"
            if role == "anonymous":
                assert resp.status_code == 302 and "/login" in resp.headers["Location"], where
            elif role == "owner" or rule.endpoint in COLLECTION:
                assert resp.status_code < 400 or resp.status_code == 422, (where, resp.status_code)
            elif role == "other":
                assert resp.status_code == 404, where
            elif rule.endpoint in VIEW:
                assert resp.status_code == 200, (where, resp.status_code)
            else:
                assert resp.status_code == 403, (where, resp.status_code)


def test_approvals_are_for_staff_and_admins_only(app, make_user):
    owner, uid = _client(app, make_user)
    custom_id = _save_custom(owner, _palette(app, uid), **CUSTOM)
    anonymous = app.test_client()
    for url, method in (("/admin/approvals", "GET"), (f"/admin/approvals/{custom_id}", "POST")):
        resp = anonymous.open(url, method=method)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        assert owner.open(url, method=method).status_code == 404
    for role in ("staff", "admin"):
        c, _ = _client(app, make_user, role)
        assert c.get("/admin/approvals").status_code == 200
    staff, _ = _client(app, make_user, "staff")
    assert "waiting for review" in staff.get("/palettes/").get_data(as_text=True)
