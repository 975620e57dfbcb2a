"""Issue 14, keys and hosts: provider keys go only to allow-listed hosts, a producer's own key never
follows an admin's base URL, the API refuses large bodies unread and authenticates before parsing,
and every page carries the security headers. HTTP level, real Postgres/Redis, fake providers."""

from __future__ import annotations

import io

import pytest

from tests.conftest import make_config, provider_row
from tests.fakes import FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

PLATFORM_KEY = "sk-platform-sec-hosts-0001"
OWN_KEY = "sk-producer-own-sec-hosts-0002"
TWENTY_MB = 20 * 1024 * 1024


def _disallowed(fake: FakeOpenAI) -> str:
    """The same live fake, named by a host the allow-list (http://127.0.0.1) does not hold: a key
    sent there would arrive, so an empty request log proves nothing was sent."""
    return fake.url.replace("127.0.0.1", "localhost")


def _admin_token(app, uid: int) -> dict[str, str]:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "sec hosts", "admin")
    return {"Authorization": f"Bearer {plaintext}"}


def _form(app, name: str, **overrides) -> dict:
    from webapp.admin.forms import provider_form
    from webapp.extensions import db
    from webapp.providers import REGISTRY
    from webapp.services.providers import ensure_providers, get_provider

    with app.test_request_context(), app.app_context():
        ensure_providers()
        form = provider_form(get_provider(name), REGISTRY[name].spec)
        data = {}
        for f in form:
            if f.type == "CSRFTokenField":
                continue
            if f.type == "BooleanField":
                if f.data:
                    data[f.name] = "y"
                continue
            data[f.name] = "" if f.data is None else str(f.data)
        db.session.remove()
    data.update(overrides)
    return data


def _platform(app, base_url: str | None, key: str | None = PLATFORM_KEY) -> None:
    from webapp.services import keys, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider("openai")
        providers.update_settings(row, {"enabled": True, "base_url": base_url, "monthly_budget": None})
        if key:
            keys.set_platform_key(row, key)
        providers.set_default(row)


def test_base_url_outside_the_allow_list_is_refused_at_every_door_and_nothing_reaches_it(app, client, login):
    uid, _ = login(role="admin")
    headers = _admin_token(app, uid)
    with FakeOpenAI(valid_key=None) as fake:
        bad = _disallowed(fake)
        page = client.post("/admin/providers/openai", data=_form(app, "openai", base_url=bad))
        assert page.status_code == 422
        assert "not an allowed host" in page.get_data(as_text=True)

        api = client.patch("/api/v1/admin/ai-models/openai", json={"base_url": bad}, headers=headers)
        assert api.status_code == 422, api.json
        assert "PROVIDER_BASE_URL_ALLOWLIST" in api.json["errors"]["base_url"][0]
        api = client.patch(
            "/api/v1/admin/ai-models/openai", json={"base_url": bad, "key": PLATFORM_KEY}, headers=headers
        )
        assert api.status_code == 422

        cli = app.test_cli_runner().invoke(
            args=["provider", "set", "openai", "--base-url", bad, "--key-stdin"], input=PLATFORM_KEY + "\n"
        )
        assert cli.exit_code != 0 and "not an allowed host" in cli.output

        assert fake.requests == []
        row = provider_row(app, "openai")
        assert row.base_url is None and row.encrypted_key is None


def test_a_stored_url_that_is_not_allowed_is_never_used(app, client, login, run_jobs):
    """A URL saved before the allow-list was tightened: the key test and a generation refuse it
    right before sending, and the fake behind it sees nothing."""
    from webapp.extensions import db
    from webapp.models import Job, Provider, User
    from webapp.services import actions, generation

    uid, _ = login(role="admin")
    with FakeOpenAI(valid_key=None) as fake:
        _platform(app, fake.url)
        with app.app_context():
            row = db.session.query(Provider).filter_by(name="openai").one()
            row.base_url = _disallowed(fake)  # as if stored under an older allow-list
            db.session.commit()
        fake.reset()

        client.post("/admin/providers/openai/test")
        page = client.get("/admin/providers/openai").get_data(as_text=True)
        assert "not an allowed host" in page

        with app.app_context():
            job = actions.generate(
                db.session.get(User, uid),
                generation.GenerationRequest(
                    prompt="a jazz night", image_type="poster", provider="openai", quality="low"
                ),
            )
            job_id = job.id
        run_jobs()
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job.status == "failed" and "not an allowed host" in job.error
        assert fake.requests == []


def test_changing_the_base_url_asks_for_the_key_again(app, client, login):
    uid, _ = login(role="admin")
    headers = _admin_token(app, uid)
    with FakeOpenAI(valid_key=None) as first, FakeOpenAI(valid_key=None) as second:
        _platform(app, first.url)
        assert provider_row(app, "openai").key_suffix

        resp = client.post(
            "/admin/providers/openai", data=_form(app, "openai", base_url=second.url), follow_redirects=True
        )
        assert "enter the key again" in resp.get_data(as_text=True)
        row = provider_row(app, "openai")
        assert row.base_url == second.url and row.encrypted_key is None and row.key_suffix is None
        assert second.requests == []  # the old key was not carried over to the new host

        # API: a new URL and the key together; the key is tested at, and saved for, the new URL.
        resp = client.patch(
            "/api/v1/admin/ai-models/openai",
            json={"base_url": first.url, "key": PLATFORM_KEY},
            headers=headers,
        )
        assert resp.status_code == 200, resp.json
        row = provider_row(app, "openai")
        assert row.base_url == first.url and row.encrypted_key is not None
        assert any(PLATFORM_KEY in str(r.headers) for r in first.requests)
        assert second.requests == []


def test_own_key_never_goes_to_the_admins_host(app, client, login, run_jobs, monkeypatch):
    from webapp.extensions import db
    from webapp.models import Job, User
    from webapp.services import actions, generation

    with FakeOpenAI(valid_key=None) as admins, FakeOpenAI(valid_key=None) as operators:
        _platform(app, admins.url)  # the admin's gateway (allow-listed) carries the platform key
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", operators.url)  # the deployment's own
        admins.reset()
        uid, _ = login()
        resp = client.post("/settings/keys", data={"provider": "openai", "api_key": OWN_KEY})
        assert resp.status_code == 302
        with app.app_context():
            job_id = actions.generate(
                db.session.get(User, uid),
                generation.GenerationRequest(
                    prompt="a jazz night",
                    image_type="poster",
                    provider="openai",
                    quality="low",
                    use_own_key=True,
                ),
            ).id
        run_jobs()
        with app.app_context():
            assert db.session.get(Job, job_id).status == "succeeded"
        assert all(OWN_KEY not in str(r.headers) for r in admins.requests)
        assert admins.requests == []
        assert any(OWN_KEY in str(r.headers) for r in operators.requests_to("/images/generations"))


class _Body(io.RawIOBase):
    """A body of `size` bytes made on demand; `read_bytes` says how much the server pulled."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the stream (seek to the end, tell)
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = self.size + offset if whence == 2 else offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"{" * n
        self.pos += n
        self.read_bytes += n
        return n


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("PATCH", "/api/v1/admin/ai-models/openai", "application/json"),
        ("POST", "/api/v1/ai-generate", "application/json"),
        ("POST", "/api/v1/auto-format", "multipart/form-data; boundary=x"),
    ],
)
def test_a_20_mb_anonymous_body_is_refused_unread(client, method, path, content_type):
    body = _Body(TWENTY_MB)
    resp = client.open(
        path,
        method=method,
        input_stream=body,
        content_length=TWENTY_MB,
        headers={"Content-Type": content_type},
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"
    assert body.read_bytes == 0


def test_json_is_parsed_only_after_authentication(app, client, make_user):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    # Anonymous: a JSON body with a NUL (which the parser would refuse with 400) gets 401 unread.
    resp = client.post(
        "/api/v1/api-keys",
        data='{"provider": "openai", "key": "sk-a\\u0000b-0000"}',
        content_type="application/json",
    )
    assert resp.status_code == 401
    # Authenticated: the same body is parsed and refused for what it is.
    uid, _ = make_user()
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "t", "write")
    resp = client.post(
        "/api/v1/api-keys",
        data='{"provider": "openai", "key": "sk-a\\u0000b-0000"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert resp.status_code == 400 and "NUL" in resp.json["detail"]
    # Small JSON only: 65 KB is over the API's JSON limit even with a valid token.
    resp = client.post(
        "/api/v1/api-keys",
        data="{" + " " * (65 * 1024) + "}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert resp.status_code == 413
    # ... except a bulk batch, whose 500 prompts of 1,000 characters must fit.
    prompts = ["a jazz night in the park " * 40] * 500
    resp = client.post(
        "/api/v1/bulk", json={"prompts": prompts}, headers={"Authorization": f"Bearer {plaintext}"}
    )
    assert resp.status_code != 413 and not resp.json["type"].endswith("/bad-json"), resp.json


def test_security_headers_and_no_store_for_accounts(app, client, login, make_user):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    anon = client.get("/login")
    for name, value in (
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ):
        assert anon.headers[name] == value
    assert "geolocation=()" in anon.headers["Permissions-Policy"]
    csp = anon.headers["Content-Security-Policy"]
    img_src = next(d for d in csp.split(";") if d.strip().startswith("img-src")).split()[1:]
    assert img_src == ["'self'", "blob:"]
    assert "Strict-Transport-Security" not in anon.headers  # not in development
    assert "no-store" not in anon.headers.get("Cache-Control", "")

    login(role="admin")
    for path in ("/settings/tokens", "/admin/providers", "/library"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Cache-Control"] == "no-store", path

    uid, _ = make_user()
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "t", "read")
    resp = app.test_client().get("/api/v1/jobs", headers={"Authorization": f"Bearer {plaintext}"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"


def test_production_sends_hsts_and_s3_images_are_the_only_other_source(pg_url, media_root, queue_prefix):
    from webapp import create_app

    prod = create_app(
        make_config(
            pg_url,
            media_root,
            queue_prefix,
            ENV_NAME="production",
            STORAGE_URL="s3://marquee-media/prod",
            S3_ENDPOINT_URL="https://s3.example.net",
        )
    )
    resp = prod.test_client().get("/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csp = resp.headers["Content-Security-Policy"]
    img_src = next(d for d in csp.split(";") if d.strip().startswith("img-src")).split()[1:]
    assert img_src == ["'self'", "blob:", "https://s3.example.net", "https://marquee-media.s3.example.net"]


def test_trusted_hosts_stop_host_reflection(app, pg_url, media_root, queue_prefix, make_user):
    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import tokens

    uid, _ = make_user()
    with app.app_context():
        _, plaintext = tokens.create(db.session.get(User, uid), "t", "read")
    trusted = create_app(make_config(pg_url, media_root, queue_prefix, TRUSTED_HOSTS=["marquee.example"]))
    c = trusted.test_client()
    h = {"Authorization": f"Bearer {plaintext}"}
    evil = c.get("/api/v1/jobs?limit=1", headers={**h, "Host": "evil.example"})
    assert evil.status_code == 400 and "http://evil.example" not in evil.get_data(as_text=True)
    assert "Link" not in evil.headers
    good = c.get("/api/v1/jobs?limit=1", headers={**h, "Host": "marquee.example"})
    assert good.status_code == 200


@pytest.mark.parametrize(
    ("url", "allowlist", "allowed"),
    [
        ("https://api.openai.com/v1", "", True),  # the provider's own host is always allowed
        ("http://api.openai.com/v1", "", False),  # ... over https only
        ("https://gw.example.com/v1", "", False),
        ("https://gw.example.com/v1", "gw.example.com", True),  # a bare host means https
        ("http://gw.example.com/v1", "gw.example.com", False),
        ("https://evil.gw.example.com/v1", "gw.example.com", False),  # exact host, no wildcards
        ("https://gw.example.com:8443/v1", "https://gw.example.com:443", False),
        ("https://gw.example.com/v1", "https://gw.example.com:443", True),  # the default port counts
        ("http://127.0.0.1:5123/v1", "http://127.0.0.1", True),  # no port in the entry: any port
        ("http://localhost:5123/v1", "http://127.0.0.1", False),
        ("https://generativelanguage.googleapis.com", "", False),  # gemini's host is not openai's
    ],
)
def test_allow_list_rules(url, allowlist, allowed):
    from webapp.base_urls import is_allowed

    assert is_allowed(url, "openai", allowlist) is allowed


def test_start_up_refuses_an_environment_base_url_off_the_allow_list():
    from webapp.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match=r"OPENAI_BASE_URL: evil\.example is not an allowed host"):
        load_settings({"OPENAI_BASE_URL": "https://evil.example/v1"})
    settings = load_settings(
        {"OPENAI_BASE_URL": "https://evil.example/v1", "PROVIDER_BASE_URL_ALLOWLIST": "https://evil.example"}
    )
    assert settings.openai_base_url == "https://evil.example/v1"
    with pytest.raises(ConfigError, match="not an origin"):
        load_settings({"PROVIDER_BASE_URL_ALLOWLIST": "https://gw.example.com/v1"})
    trusted = load_settings({"TRUSTED_HOSTS": "marquee.example, www.marquee.example"}).as_flask_config()
    assert trusted["TRUSTED_HOSTS"] == ("marquee.example", "www.marquee.example")
    assert load_settings({}).as_flask_config()["TRUSTED_HOSTS"] is None


def test_keys_rotate_with_the_old_key_removed_explains_the_mistake(app, make_user):
    from cryptography.fernet import Fernet

    from webapp.extensions import db
    from webapp.models import UserKey

    uid, _ = make_user()
    with app.app_context():
        from webapp.crypto import user_vault

        row = UserKey(owner_id=uid, provider="openai", encrypted_key=user_vault().encrypt(OWN_KEY))
        row.key_suffix = "…0002"
        db.session.add(row)
        db.session.commit()
        before = bytes(row.encrypted_key)
    saved = app.config.get("USER_KEYS_FERNET")
    try:
        app.config["USER_KEYS_FERNET"] = Fernet.generate_key().decode()  # the old key dropped too soon
        app.extensions.pop("marquee_vaults", None)
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    finally:
        app.config["USER_KEYS_FERNET"] = saved
        app.extensions.pop("marquee_vaults", None)
    assert result.exit_code == 1
    assert "keep the OLD key after it" in result.output and "Nothing was changed" in result.output
    assert "Traceback" not in result.output and "InvalidToken" not in result.output
    with app.app_context():
        assert bytes(db.session.scalars(db.select(UserKey)).one().encrypted_key) == before
