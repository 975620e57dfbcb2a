"""Numbers, filters and errors at the edges, on the real app (Postgres, Redis, RQ):

- ids, pages and cursors past Postgres' range, or spelled with digits `int()` refuses ("²"),
  answer a 4xx — never a 500, never the driver's or Python's text — on every page and API route
  (one listed case per reported bug, then a sweep over every GET route of the URL map);
- the API's list filters (jobs by job_type/status, palettes by status/show_id) filter, refuse
  unknown values naming the allowed ones, and are in the OpenAPI document;
- a bad price answers a human message, not "[<class 'decimal.ConversionSyntax'>]";
- a stored key that cannot be decrypted any more answers 409 on every key-test route, is
  recorded and audited, and its plaintext is never logged.

The DataError safety net (webapp/security.py) would turn a database range error into a 400 too,
so the listed cases also assert it did not fire: each route refuses the value itself.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.conftest import PASSWORD, provider_row

# The route matrix's fixture: producer A owns one of everything (and the fakes it needs).
from tests.integration.test_route_matrix import (  # noqa: F401
    _param_value,
    _send,
    gemini_fake,
    openai_fake,
    world,
)

pytestmark = pytest.mark.usefixtures("app")

HUGE = "99999999999999999999"  # past bigint: Postgres answers "bigint out of range"
SUPERSCRIPT = "²"  # str.isdigit() says yes, int() says ValueError
VALUES = (HUGE, SUPERSCRIPT)
INTERNALS = ("<class", "Traceback", "DataError", "psycopg", "ConversionSyntax", "InvalidOperation")
SAFETY_NET = "database refused a request value"


def _login(app, email: str):
    client = app.test_client()
    resp = client.post("/login", data={"email": email, "password": PASSWORD})
    assert resp.status_code == 302
    return client


def _no_internals(body: str) -> None:
    leaked = [marker for marker in INTERNALS if marker in body]
    assert not leaked, f"the answer shows Python/driver internals {leaked}: {body[:600]}"


def _net_fired(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if SAFETY_NET in r.getMessage()]


# ------------------------------------------------------------------ the reported pages, one by one

PAGE_CASES = [
    ("/shows?page={v}", "a"),
    ("/shows/{show}/slots/poster?page={v}", "a"),
    ("/studio?job={v}", "a"),
    ("/studio?asset={v}", "a"),
    ("/studio?show={v}", "a"),
    ("/studio?palette={v}", "a"),
    ("/studio?template={v}", "a"),
    ("/bulk/{bulk}/updates?after={v}&shown=0", "a"),
    ("/bulk/{bulk}/updates?after=0&shown={v}", "a"),
    ("/jobs?before={v}", "a"),
    ("/library/download.zip?ids={v}", "a"),
    ("/admin/audit?before={v}", "admin"),
    ("/shows/{v}", "a"),  # path converter
    ("/jobs/{v}", "a"),
]


@pytest.fixture
def small_world(app, make_user):
    """A producer with a show and a bulk batch, and an admin: what the listed pages need."""
    from decimal import Decimal

    from webapp.extensions import db
    from webapp.models import BulkBatch, Job, User
    from webapp.services import shows

    a_id, a_email = make_user()
    _, admin_email = make_user(role="admin")
    with app.app_context():
        show = shows.create_show(db.session.get(User, a_id), {"title": "Numbers night"})
        bulk = BulkBatch(
            owner_id=a_id,
            name="b",
            status="running",
            provider="local",
            model="procedural-v1",
            estimate=Decimal(0),
        )
        job = Job(owner_id=a_id, kind="autoformat", status="succeeded", input={}, queue="images")
        db.session.add_all([bulk, job])
        db.session.commit()
        return {"show": show.id, "bulk": bulk.id, "job": job.id}, {"a": a_email, "admin": admin_email}


@pytest.mark.parametrize("value", VALUES, ids=["huge", "superscript"])
@pytest.mark.parametrize(("template", "who"), PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_pages_refuse_numbers_out_of_range_with_a_4xx(app, small_world, caplog, template, who, value):
    ids, emails = small_world
    client = _login(app, emails[who])
    url = template.format(v=value, show=ids["show"], bulk=ids["bulk"])
    with caplog.at_level(logging.ERROR):
        resp = _send(client, "GET", url, headers={"HX-Request": "true"})
    assert 400 <= resp.status_code < 500, f"{url} -> {resp.status_code}"
    _no_internals(resp.get_data(as_text=True))
    assert not _net_fired(caplog), f"{url}: the route let the value reach Postgres"


# Forms post ids too (hidden fields, radio lists, checkboxes): the same values must be refused
# by the form or the route, not by Postgres.
AUTOFORMAT = {
    "output": "jpeg",
    "fill_poster": "blur",
    "fill_square": "blur",
    "fill_banner": "blur",
    "darken": "15",
    "choice": "keep",
}
FORM_CASES = [
    ("/shows/{show}/slots/poster", {"asset_id": "{v}"}),
    ("/shows/{show}/fill-from-job", {"job_id": "{v}"}),
    ("/shows/fill-from-job", {"job_id": "{v}", "show_id": "{show}"}),
    ("/shows/fill-from-job", {"job_id": "{job}", "show_id": "{v}"}),
    ("/autoformat/duplicate", {**AUTOFORMAT, "new_asset_id": "{v}", "existing_asset_id": "1"}),
    ("/autoformat/duplicate", {**AUTOFORMAT, "new_asset_id": "1", "existing_asset_id": "{v}"}),
    ("/palettes/new", {"asset_id": "{v}", "n_colors": "6"}),
    ("/studio/estimate", {"palette": "{v}", "show": "{v}", "source_asset": "{v}"}),
    ("/bulk/{bulk}/selection", {"shown": "{v}", "ids": "{v}"}),
    ("/library/selection", {"ids": "{v}", "action": "zip"}),
]


@pytest.mark.parametrize("value", VALUES, ids=["huge", "superscript"])
@pytest.mark.parametrize(("template", "form"), FORM_CASES, ids=[c[0] for c in FORM_CASES])
def test_posted_ids_out_of_range_never_reach_the_database(app, small_world, caplog, template, form, value):
    ids, emails = small_world
    client = _login(app, emails["a"])
    url = template.format(show=ids["show"], bulk=ids["bulk"])
    data = {k: v.format(v=value, **ids) for k, v in form.items()}
    with caplog.at_level(logging.ERROR):
        resp = _send(client, "POST", url, data=data, headers={"HX-Request": "true"})
    assert resp.status_code < 500, f"{url} {data} -> {resp.status_code}"
    _no_internals(resp.get_data().decode("utf-8", "replace"))
    assert not _net_fired(caplog), f"{url}: the route let the value reach Postgres"


# ------------------------------------------------------------------------------- the API, listed

API_CASES = [
    "/api/v1/assets?show_id={v}",
    "/api/v1/jobs?cursor={v}",
    "/api/v1/jobs?limit={v}",
    "/api/v1/shows?cursor={v}",
    "/api/v1/palettes?show_id={v}",
    "/api/v1/jobs/{v}",
    "/api/v1/shows/{v}",
    "/api/v1/assets/{v}",
]


@pytest.fixture
def api_headers(app, make_user):
    """A producer's write token: (user id, headers)."""
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, _ = make_user()
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "hostile numbers", "write")
    return uid, {"Authorization": f"Bearer {plaintext}"}


@pytest.mark.parametrize("value", VALUES, ids=["huge", "superscript"])
@pytest.mark.parametrize("template", API_CASES)
def test_api_refuses_numbers_out_of_range_with_problem_json(client, api_headers, caplog, template, value):
    _, h = api_headers
    with caplog.at_level(logging.ERROR):
        resp = client.get(template.format(v=value), headers=h)
    assert 400 <= resp.status_code < 500, f"{template} -> {resp.status_code}"
    assert resp.mimetype == "application/problem+json"
    _no_internals(resp.get_data(as_text=True))
    assert not _net_fired(caplog)


def test_json_body_ids_past_the_range_are_404_not_500(client, api_headers):
    _, h = api_headers
    for body in ({"asset_id": 2**70}, {"asset_id": 2**31}, {"asset_id": True}):
        resp = client.post("/api/v1/palettes/extract", json=body, headers=h)
        assert resp.status_code in (404, 422) and resp.mimetype == "application/problem+json", body
        _no_internals(resp.get_data(as_text=True))


# ------------------------------------------------------------------------------- API list filters


def _job(owner_id: int, kind: str, status: str) -> int:
    from webapp.extensions import db
    from webapp.models import Job

    job = Job(owner_id=owner_id, kind=kind, status=status, input={}, queue="images")
    db.session.add(job)
    db.session.commit()
    return job.id


def test_jobs_filter_by_job_type_and_status(app, client, api_headers):
    uid, h = api_headers
    with app.app_context():
        af_ok = _job(uid, "autoformat", "succeeded")
        af_failed = _job(uid, "autoformat", "failed")
        gen_ok = _job(uid, "generate", "succeeded")
        pal_queued = _job(uid, "palette", "queued")

    def ids(query: str) -> list[int]:
        resp = client.get(f"/api/v1/jobs{query}", headers=h)
        assert resp.status_code == 200, resp.json
        return [j["id"] for j in resp.json["items"]]

    assert ids("") == [pal_queued, gen_ok, af_failed, af_ok]
    assert ids("?job_type=autoformat") == [af_failed, af_ok]
    assert ids("?status=succeeded") == [gen_ok, af_ok]
    assert ids("?job_type=autoformat&status=failed") == [af_failed]
    assert ids("?job_type=palette&status=succeeded") == []
    # The next-page link keeps the filters, so page two is filtered the same way.
    first = client.get("/api/v1/jobs?job_type=autoformat&limit=1", headers=h)
    assert first.json["items"][0]["id"] == af_failed
    link = re.search(r"<([^>]+)>", first.headers["Link"]).group(1)
    assert "job_type=autoformat" in link
    second = client.get(link.replace("http://localhost", ""), headers=h)
    assert [j["id"] for j in second.json["items"]] == [af_ok]


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("/api/v1/jobs?job_type=resize", "job_type", "autoformat, generate, palette"),
        ("/api/v1/jobs?status=done", "status", "queued, running, succeeded, failed, cancelled"),
        ("/api/v1/palettes?status=approve", "status", "pending_approval"),
    ],
)
def test_unknown_filter_values_are_refused_naming_the_allowed_ones(
    client, api_headers, query, field, allowed
):
    _, h = api_headers
    resp = client.get(query, headers=h)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert allowed in resp.json["errors"][field][0]


def test_palettes_filter_by_status_and_show(app, client, api_headers):
    from webapp.extensions import db
    from webapp.models import Palette, User
    from webapp.services import shows

    uid, h = api_headers
    with app.app_context():
        show = shows.create_show(db.session.get(User, uid), {"title": "Filter night"})
        rows = [
            Palette(owner_id=uid, name="a", status="extracted", colors=[], roles={}),
            Palette(owner_id=uid, name="b", status="approved", colors=[], roles={}, show_id=show.id),
            Palette(owner_id=uid, name="c", status="pending_approval", colors=[], roles={}, show_id=show.id),
        ]
        db.session.add_all(rows)
        db.session.commit()
        a, b, c = (p.id for p in rows)
        show_id = show.id

    def ids(query: str) -> list[int]:
        resp = client.get(f"/api/v1/palettes{query}", headers=h)
        assert resp.status_code == 200, resp.json
        return [p["id"] for p in resp.json["items"]]

    assert ids("") == [c, b, a]
    assert ids("?status=approved") == [b]
    assert ids(f"?show_id={show_id}") == [c, b]
    assert ids(f"?show_id={show_id}&status=pending_approval") == [c]
    assert ids(f"?show_id={show_id + 1000}") == []


def test_openapi_lists_the_filters(client):
    doc = client.get("/api/v1/openapi.json").json

    def params(path: str) -> dict:
        return {p["name"]: p["schema"] for p in doc["paths"][path]["get"].get("parameters", [])}

    jobs = params("/jobs")
    assert jobs["job_type"]["enum"] == ["autoformat", "generate", "palette", "video", "voice", "describe"]
    assert set(jobs["status"]["enum"]) == {"queued", "running", "succeeded", "failed", "cancelled"}
    palettes = params("/palettes")
    assert "approved" in palettes["status"]["enum"] and palettes["show_id"]["type"] == "integer"
    assert palettes["show_id"]["maximum"] == 2**31 - 1


# ------------------------------------------------------------------------------------ prices


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "Enter a number such as 25"),
        ("NaN", "Enter a number such as 25"),
        ("Infinity", "Enter a number such as 25"),
        ("²", "Enter a number such as 25"),
        ("1e30", "too large"),
        (25.555, "two decimal places"),
        (True, "Enter a number such as 25"),
        (-1, "cannot be negative"),
    ],
)
def test_show_prices_answer_a_human_message(client, api_headers, price, message):
    _, h = api_headers
    created = client.post("/api/v1/shows", json={"title": "Price night", "price_min": price}, headers=h)
    assert created.status_code == 422 and created.mimetype == "application/problem+json"
    assert message in created.json["errors"]["price_min"][0]
    _no_internals(created.get_data(as_text=True))
    show = client.post("/api/v1/shows", json={"title": "Price night"}, headers=h).json
    patched = client.patch(f"/api/v1/shows/{show['id']}", json={"price_max": price}, headers=h)
    assert patched.status_code == 422 and message in patched.json["errors"]["price_max"][0]
    _no_internals(patched.get_data(as_text=True))


def test_show_prices_still_accept_numbers_and_strings(client, api_headers):
    _, h = api_headers
    resp = client.post(
        "/api/v1/shows", json={"title": "Paid", "price_min": 12, "price_max": "25.50"}, headers=h
    )
    assert resp.status_code == 201, resp.json
    assert (resp.json["price_min"], resp.json["price_max"]) == ("12.00", "25.50")


@pytest.mark.parametrize("budget", ["abc", "²", "1e30", 1e30, "-5", True, "12.345"])
def test_admin_api_budget_answers_a_human_message(app, client, make_user, budget):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, _ = make_user(role="admin")
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "admin", "admin")
    resp = client.patch(
        "/api/v1/admin/ai-models/local",
        json={"monthly_budget": budget},
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "USD" in resp.json["errors"]["monthly_budget"][0]
    _no_internals(resp.get_data(as_text=True))


# -------------------------------------------------------------------------- undecryptable keys

SECRET = "sk-undecryptable-0000-secret-9f3a"


def _foreign_ciphertext() -> bytes:
    """A key encrypted under a Fernet key this app does not have (one rotated away)."""
    return Fernet(Fernet.generate_key()).encrypt(SECRET.encode())


def _audits(app, action: str) -> list[dict]:
    from webapp.extensions import db
    from webapp.models import AuditEvent

    with app.app_context():
        return [e.detail for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def _user_key(app, owner_id: int) -> int:
    from webapp.extensions import db
    from webapp.models import UserKey

    with app.app_context():
        row = UserKey(
            owner_id=owner_id, provider="openai", encrypted_key=_foreign_ciphertext(), key_suffix="…9f3a"
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _no_secret(caplog, *bodies: str) -> None:
    assert all(SECRET not in body for body in bodies)
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_own_key_that_cannot_be_decrypted_answers_409_on_the_api_and_the_page(app, api_headers, caplog):
    from webapp.extensions import db
    from webapp.models import User, UserKey

    uid, h = api_headers
    key_id = _user_key(app, uid)
    with app.app_context():
        email = db.session.get(User, uid).email
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        api = client.post("/api/v1/api-keys/openai/validate", headers=h)
        page = _login(app, email)
        partial = page.post(f"/settings/keys/{key_id}/test", headers={"HX-Request": "true"})
        plain = page.post(f"/settings/keys/{key_id}/test")
        after = page.get("/settings/keys")
    assert api.status_code == 409 and api.mimetype == "application/problem+json"
    assert "enter the key again" in api.json["detail"]
    assert partial.status_code == 409 and "enter the key again" in partial.get_data(as_text=True)
    assert plain.status_code == 302 and "enter the key again" in after.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(UserKey, key_id)
        assert row.last_validation_ok is False and "enter the key again" in row.last_validation_message
    tests = _audits(app, "user_key.test")
    assert len(tests) == 3 and all(d["reason"] == "undecryptable" and not d["ok"] for d in tests)
    _no_internals(api.get_data(as_text=True) + partial.get_data(as_text=True))
    _no_secret(
        caplog, api.get_data(as_text=True), partial.get_data(as_text=True), after.get_data(as_text=True)
    )


def test_platform_key_that_cannot_be_decrypted_answers_409_on_the_api_and_the_page(app, make_user, caplog):
    from webapp.extensions import db
    from webapp.models import Provider, User
    from webapp.services import tokens

    row = provider_row(app, "openai")
    with app.app_context():
        provider = db.session.get(Provider, row.id)
        provider.encrypted_key, provider.key_suffix = _foreign_ciphertext(), "…9f3a"
        db.session.commit()
    uid, email = make_user(role="admin")
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "admin", "admin")
    client = app.test_client()
    with caplog.at_level(logging.DEBUG):
        api = client.post(
            "/api/v1/admin/ai-models/openai/test", headers={"Authorization": f"Bearer {plaintext}"}
        )
        page = _login(app, email)
        partial = page.post("/admin/providers/openai/test", headers={"HX-Request": "true"})
        plain = page.post("/admin/providers/openai/test")
        after = page.get("/admin/providers")
    assert api.status_code == 409 and api.mimetype == "application/problem+json"
    assert "enter the key again" in api.json["detail"]
    assert partial.status_code == 409 and "enter the key again" in partial.get_data(as_text=True)
    assert plain.status_code == 302 and "enter the key again" in after.get_data(as_text=True)
    with app.app_context():
        provider = db.session.get(Provider, row.id)
        assert provider.last_test_ok is False and "enter the key again" in provider.last_test_message
    tests = _audits(app, "platform_key.test")
    assert len(tests) == 3 and all(d["reason"] == "undecryptable" and not d["ok"] for d in tests)
    _no_internals(api.get_data(as_text=True) + partial.get_data(as_text=True))
    _no_secret(
        caplog, api.get_data(as_text=True), partial.get_data(as_text=True), after.get_data(as_text=True)
    )


# ------------------------------------------------------------- the sweep: every GET route, every number

# Query parameters the code reads, found in the source by the patterns below. Each must be
# classified: INT_PARAMS get the hostile numbers; OTHER_PARAMS are text, choices or dates (their
# own tests cover them). A new parameter fails `test_every_query_parameter_is_classified` until it
# is put in one of the two sets, so the sweep cannot silently miss it.
INT_PARAMS = {
    "page",
    "before",
    "after",
    "shown",
    "ids",
    "cursor",
    "job",
    "asset",
    "show",
    "palette",
    "template",
    "show_id",
    "asset_id",
    "limit",
    "example",
}
OTHER_PARAMS = {
    "q",
    "type",
    "next",
    "from",
    "which",
    "v",
    "fill",
    "panel",
    "spec",
    "by_color",
    "kind",
    "source",
    "sort",
    "color",
    "job_type",
    "status",
    "start_date",
    "end_date",
    "action",
    "actor",
    "target",
    "start",
    "end",
    "media",  # image | video | audio (library and API filter)
    "favorite",  # API: "true" narrows to starred assets; anything else does not
    "favorites",  # library form: a checkbox (BooleanField)
}
_READS = re.compile(
    r"""\b(?:args\.get|args\.getlist|values\.get|args\[|id_arg\(|int_arg\(|query_int\(|query_choice\()\s*["'](\w+)["']"""
)
WEBAPP = Path(__file__).resolve().parents[2] / "webapp"


def _query_params_in_source(app) -> set[str]:
    names = set()
    for path in WEBAPP.rglob("*.py"):
        text = path.read_text()
        names |= set(_READS.findall(text))
        if "page_arg()" in text:  # webapp.params.page_arg reads "page"
            names.add("page")
    with app.test_request_context():
        from webapp.api.openapi import document

        for item in document()["paths"].values():
            for op in item.values():
                names |= {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    # GET filter forms read their fields from the query string.
    from webapp.admin.forms import AuditFilterForm, UsageFilterForm
    from webapp.library.forms import LibraryFilterForm

    for form in (AuditFilterForm, UsageFilterForm, LibraryFilterForm):
        names |= {name for name, value in vars(form).items() if hasattr(value, "field_class")}
    return names


def test_every_query_parameter_is_classified(app):
    found = _query_params_in_source(app)
    assert "page" in found and "job_type" in found  # the scan sees both pages and the API
    unknown = found - INT_PARAMS - OTHER_PARAMS
    assert not unknown, f"classify these query parameters in {__file__}: {sorted(unknown)}"


def test_every_get_route_survives_hostile_numbers_in_every_integer_parameter(app, world, caplog):  # noqa: F811
    ids, emails = world
    client = _login(app, emails["a"])
    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "auth.logout"):
            continue
        values = {arg: _param_value(rule.endpoint, arg, ids) for arg in rule.arguments}
        routes.append(rule.build(values, append_unknown=False)[1])
    assert len(routes) > 50
    problems = []
    requests = 0
    for url in routes:
        for name in sorted(INT_PARAMS):
            for value in VALUES:
                # As htmx sends it: partials need the header, and pages parse before branching.
                caplog.clear()
                with caplog.at_level(logging.ERROR):
                    resp = _send(
                        client, "GET", url, query_string={name: value}, headers={"HX-Request": "true"}
                    )
                requests += 1
                body = resp.get_data().decode("utf-8", "replace")  # images and ZIPs too
                if resp.status_code >= 500 or any(m in body for m in INTERNALS) or _net_fired(caplog):
                    problems.append(f"GET {url}?{name}={value} -> {resp.status_code} {_net_fired(caplog)}")
    assert requests == len(routes) * len(INT_PARAMS) * len(VALUES)
    assert not problems, "\n".join(problems)
