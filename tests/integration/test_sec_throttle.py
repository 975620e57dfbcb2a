"""Issue 14, throttling not lockout: per-client login throttles, registration that does not reveal
accounts, and the security events in a filterable, exportable audit log.

Clients get their own REMOTE_ADDR (environ_base) so each test has its own per-IP counters even
though the Redis counters live for the whole session.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_config

pytestmark = pytest.mark.usefixtures("app")

WRONG = "not the password at all"
_ips = itertools.count(1)


def _ip() -> str:
    n = next(_ips)
    return f"10.{uuid.uuid4().int % 200 + 20}.{n // 250}.{n % 250 + 1}"


def _client(app, ip: str | None = None):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = ip or _ip()
    return c


def _login(c, email: str, password: str):
    return c.post("/login", data={"email": email, "password": password})


def _normalised(resp, *emails: str) -> str:
    """The page with the e-mail typed into the form blanked (the form echoes it back) and the CSRF
    token blanked (it is signed with a timestamp, so it differs from one second to the next)."""
    text = resp.get_data(as_text=True)
    for e in emails:
        text = text.replace(e, "EMAIL")
    return re.sub(r'("X-CSRFToken": "|name="csrf_token" type="hidden" value=")[^"]*', r"\1TOKEN", text)


@pytest.fixture(params=["redis", "memory"])
def backend_app(request, app, pg_url, media_root, queue_prefix):
    """The session app (Redis counters) and an app without REDIS_URL (in-process counters)."""
    if request.param == "redis":
        return app
    from webapp import create_app

    return create_app(make_config(pg_url, media_root, queue_prefix, REDIS_URL=None))


def test_attacker_is_throttled_while_the_owner_logs_in_from_another_client(backend_app, make_user):
    _, email = make_user()
    attacker, owner = _client(backend_app), _client(backend_app)
    for _ in range(5):
        resp = _login(attacker, email, WRONG)
        assert resp.status_code == 422 and "Wrong e-mail or password." in resp.get_data(as_text=True)
    resp = _login(attacker, email, WRONG)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert "Too many attempts from your connection. Try again in 15 minutes." in resp.get_data(as_text=True)
    # Even the right password is refused from the throttled client: no guess is ever checked there.
    assert _login(attacker, email, PASSWORD).status_code == 429
    # The owner, elsewhere, is not locked out.
    resp = _login(owner, email, PASSWORD)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/autoformat")


def test_one_client_cannot_spray_passwords_over_many_accounts(pg_url, media_root, queue_prefix):
    from webapp import create_app

    strict = create_app(make_config(pg_url, media_root, queue_prefix, THROTTLE_LOGIN_PER_IP=3))
    sprayer, other = _client(strict), _client(strict)
    for n in range(3):
        assert _login(sprayer, f"victim{n}-{uuid.uuid4().hex[:6]}@example.com", WRONG).status_code == 422
    resp = _login(sprayer, f"another-{uuid.uuid4().hex[:6]}@example.com", WRONG)
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    assert _login(other, f"another-{uuid.uuid4().hex[:6]}@example.com", WRONG).status_code == 422


def test_login_failures_do_not_tell_whether_the_account_exists(app, make_user):
    _, email = make_user()
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    c = _client(app)
    wrong, missing = _login(c, email, WRONG), _login(c, unknown, WRONG)
    assert wrong.status_code == missing.status_code == 422
    assert _normalised(wrong, email) == _normalised(missing, unknown)
    # Both are counted alike: after five failures each, both are throttled with the same answer.
    for _ in range(4):
        _login(c, email, WRONG)
        _login(c, unknown, WRONG)
    throttled_known, throttled_unknown = _login(c, email, WRONG), _login(c, unknown, WRONG)
    assert throttled_known.status_code == throttled_unknown.status_code == 429
    assert _normalised(throttled_known, email) == _normalised(throttled_unknown, unknown)
    assert "Retry-After" in throttled_known.headers and "Retry-After" in throttled_unknown.headers


def test_registering_an_existing_email_looks_like_registering_a_new_one(app, make_user):
    from webapp.extensions import db
    from webapp.models import User

    _, taken = make_user()
    fresh = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    other_password = "a different password 42"
    a, b = _client(app), _client(app)
    form = {"password": other_password, "confirm": other_password}
    new = a.post("/register", data={**form, "email": fresh})
    dup = b.post("/register", data={**form, "email": taken.upper()})
    assert new.status_code == dup.status_code == 302
    assert new.headers["Location"] == dup.headers["Location"] and new.headers["Location"].endswith("/login")
    page_new, page_dup = a.get("/login"), b.get("/login")
    assert _normalised(page_new) == _normalised(page_dup)
    assert "If this e-mail address is new, your account is ready" in page_new.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(func.lower(User.email) == taken)) == 1
    # The existing account keeps its password; the new one works with the password chosen.
    assert _login(_client(app), taken, other_password).status_code == 422
    assert _login(_client(app), taken, PASSWORD).status_code == 302
    assert _login(_client(app), fresh, other_password).status_code == 302


def test_registration_is_throttled_per_client(pg_url, media_root, queue_prefix):
    from webapp import create_app

    strict = create_app(make_config(pg_url, media_root, queue_prefix, THROTTLE_REGISTER_PER_HOUR=2))
    c = _client(strict)
    for _ in range(2):
        email = f"bulk-{uuid.uuid4().hex[:8]}@example.com"
        resp = c.post("/register", data={"email": email, "password": PASSWORD, "confirm": PASSWORD})
        assert resp.status_code == 302
    resp = c.post(
        "/register", data={"email": "one-more@example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    assert "Try again in 60 minutes" in resp.get_data(as_text=True)
    email = f"bulk-{uuid.uuid4().hex[:8]}@example.com"
    other = _client(strict).post(
        "/register", data={"email": email, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert other.status_code == 302


def test_reset_requests_are_throttled_per_client(app, pg_url, media_root, queue_prefix):
    """THROTTLE_RESET_PER_HOUR (5) per client IP, at the helper and at /password/forgot."""
    from webapp import create_app
    from webapp.services import throttle

    strict = create_app(make_config(pg_url, media_root, queue_prefix, THROTTLE_RESET_PER_HOUR=5))
    c = _client(strict)
    for _ in range(5):
        assert c.post("/password/forgot", data={"email": "someone@example.com"}).status_code == 302
    refused = c.post("/password/forgot", data={"email": "someone@example.com"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert _client(strict).post("/password/forgot", data={"email": "x@example.com"}).status_code == 302
    ip = _ip()
    with strict.test_request_context("/password/forgot", method="POST", environ_base={"REMOTE_ADDR": ip}):
        assert throttle.client_ip() == ip
        assert all(throttle.hit("reset", ip).allowed for _ in range(5))
        refused = throttle.hit("reset", ip)
        assert not refused.allowed and 3500 < refused.retry_after <= 3600
        assert throttle.hit("reset", _ip()).allowed


# --------------------------------------------------------------------------- audit


def _admin(app, make_user):
    _, email = make_user(role="admin")
    c = _client(app)
    assert _login(c, email, PASSWORD).status_code == 302
    return c, email


def _csv_rows(resp) -> list[dict]:
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))


def _pending_palette(app, owner_id: int) -> int:
    from webapp.extensions import db
    from webapp.models import Palette

    roles = {"primary": "#1a1a2e", "secondary": "#16213e", "accent": "#e94560", "background": "#ffffff"}
    with app.app_context():
        row = Palette(
            owner_id=owner_id,
            name="Audit me",
            roles={**roles, "text": "#000000"},
            is_custom=True,
            status="pending_approval",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_security_events_are_in_the_audit_log_and_its_csv(app, make_user):
    admin, admin_email = _admin(app, make_user)
    victim_id, victim = make_user()
    attacker_ip = _ip()
    attacker = _client(app, attacker_ip)
    for _ in range(6):
        _login(attacker, victim, WRONG)
    # Role change and media-assistant switch on the admin users page.
    assert admin.post(f"/admin/users/{victim_id}", data={"role": "staff"}).status_code == 302
    assert admin.post(f"/admin/users/{victim_id}", data={"media_assistant": "on"}).status_code == 302
    # Palette approval and rejection.
    approve_id, reject_id = _pending_palette(app, victim_id), _pending_palette(app, victim_id)
    admin.post(f"/admin/approvals/{approve_id}", data={"decision": "approve", "reason": ""})
    admin.post(f"/admin/approvals/{reject_id}", data={"decision": "reject", "reason": "Too pale."})
    # Prompt template create, edit, delete.
    tpl = {"image_type": "poster", "name": "Audit tpl", "text": "A bold theatre poster, red and gold"}
    assert admin.post("/admin/templates", data=tpl).status_code == 302
    from webapp.extensions import db
    from webapp.models import PromptTemplate

    with app.app_context():
        tpl_id = db.session.scalar(select(PromptTemplate.id).where(PromptTemplate.name == "Audit tpl"))
    assert admin.post(f"/admin/templates/{tpl_id}", data={**tpl, "name": "Audit tpl 2"}).status_code == 302
    assert admin.post(f"/admin/templates/{tpl_id}/delete").status_code == 302

    expected = {
        "auth.login.failed": ("anonymous", f"account:{victim}", attacker_ip),
        "auth.login.throttled": ("anonymous", f"account:{victim}", attacker_ip),
        "user.role": (admin_email, f"user:{victim_id}", None),
        "user.media_assistant": (admin_email, f"user:{victim_id}", None),
        "palette.approve": (admin_email, f"palette:{approve_id}", None),
        "palette.reject": (admin_email, f"palette:{reject_id}", None),
        "prompt_template.create": (admin_email, f"prompt_template:{tpl_id}", None),
        "prompt_template.update": (admin_email, f"prompt_template:{tpl_id}", None),
        "prompt_template.delete": (admin_email, f"prompt_template:{tpl_id}", None),
    }
    admin_ip = admin.environ_base["REMOTE_ADDR"]
    for action, (actor, target, ip) in expected.items():
        page = admin.get("/admin/audit", query_string={"action": action})
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and f">{action}</code>" in text and target in text, action
        rows = _csv_rows(admin.get("/admin/audit.csv", query_string={"action": action}))
        assert rows and {r["action"] for r in rows} == {action}, action
        assert any(
            r["actor"] == actor and r["target"] == target and r["ip"] == (ip or admin_ip) for r in rows
        ), (action, rows)
    failed = _csv_rows(admin.get("/admin/audit.csv", query_string={"action": "auth.login.failed"}))
    assert len(failed) == 5 and all(WRONG not in ",".join(r.values()) for r in failed)
    reject = _csv_rows(admin.get("/admin/audit.csv", query_string={"action": "palette.reject"}))
    assert "Too pale." in reject[0]["detail"]
    role = _csv_rows(admin.get("/admin/audit.csv", query_string={"action": "user.role"}))
    assert "from=producer" in role[0]["detail"] and "to=staff" in role[0]["detail"]


def test_audit_filters_by_actor_target_and_date_range(app, make_user):
    admin, admin_email = _admin(app, make_user)
    victim_id, _ = make_user()
    other_id, _ = make_user()
    admin.post(f"/admin/users/{victim_id}", data={"media_assistant": "on"})
    admin.post(f"/admin/users/{other_id}", data={"media_assistant": "on"})
    _login(_client(app), f"stranger-{uuid.uuid4().hex[:6]}@example.com", WRONG)

    def actions(**query) -> list[tuple[str, str]]:
        return [
            (r["action"], r["target"]) for r in _csv_rows(admin.get("/admin/audit.csv", query_string=query))
        ]

    everything = actions()
    assert {("user.media_assistant", f"user:{i}") for i in (victim_id, other_id)} <= set(everything)
    assert "auth.login.failed" in {a for a, _ in everything}
    assert actions(target=f"user:{victim_id}") == [("user.media_assistant", f"user:{victim_id}")]
    by_admin = [row for row in actions(actor=admin_email.split("@")[0]) if row[0] != "auth.login"]
    assert sorted(by_admin) == sorted([("user.media_assistant", f"user:{i}") for i in (victim_id, other_id)])
    assert [a for a, _ in actions(actor="anonymous")] == ["auth.login.failed"]

    today = datetime.now(UTC).date()
    assert len(actions(start=today.isoformat(), end=today.isoformat(), action="user.media_assistant")) == 2
    assert actions(start=(today + timedelta(days=1)).isoformat()) == []
    assert actions(end=(today - timedelta(days=1)).isoformat()) == []
    # The page applies the same filters and links to the CSV with them.
    page = admin.get("/admin/audit", query_string={"target": f"user:{other_id}"}).get_data(as_text=True)
    assert f"user:{other_id}" in page and f"user:{victim_id}<" not in page
    assert f"/admin/audit.csv?target=user:{other_id}" in page.replace("%3A", ":")
    # A backwards range is refused with a message, on the page and in the CSV.
    bad = {"start": today.isoformat(), "end": (today - timedelta(days=2)).isoformat()}
    assert admin.get("/admin/audit", query_string=bad).status_code == 400
    resp = admin.get("/admin/audit.csv", query_string=bad)
    assert resp.status_code == 400 and "end date is before the start date" in resp.get_data(as_text=True)


def test_audit_csv_streams_every_matching_event(app, make_user):
    """More events than one database batch (500): every one is exported, newest first."""
    from webapp.extensions import db
    from webapp.services import audit

    admin, _ = _admin(app, make_user)
    with app.app_context():
        for n in range(1203):
            audit.record("test.bulk", f"item:{n}", {}, actor_label="anonymous")
        db.session.commit()
    resp = admin.get("/admin/audit.csv", query_string={"action": "test.bulk"})
    assert resp.is_streamed
    rows = _csv_rows(resp)
    assert [r["target"] for r in rows] == [f"item:{n}" for n in reversed(range(1203))]
    assert admin.get("/admin/audit.csv").status_code == 200
    assert _client(app).get("/admin/audit.csv").status_code in (302, 404)
