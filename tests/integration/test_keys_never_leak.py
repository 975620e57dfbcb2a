"""A provider key, once given to Marquee, never comes back out: not in a page, a partial, a CSV, a CLI
line, a log record (DEBUG included, SDK loggers included), an exception, or any database column.

The keys carry a distinctive marker so that any fragment longer than the 4-character suffix is caught.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.fakes import FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

MARKER = "SECRETSECRET"
PLATFORM_KEY = f"sk-test-{MARKER}-1234"
USER_KEY = f"sk-user-{MARKER}-5678"
REFUSED_KEY = f"sk-refused-{MARKER}-0000"
SECRETS = (PLATFORM_KEY, USER_KEY, REFUSED_KEY, MARKER)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # includes formatted args and any traceback


@pytest.fixture
def all_logs() -> Iterator[_Collect]:
    """Every log record at DEBUG from every logger (works with or without pytest's logging plugin)."""
    handler = _Collect()
    root = logging.getLogger()
    noisy = ("openai", "httpx", "httpcore", "google_genai", "urllib3", "webapp", "rq")
    saved = (root.level, {n: logging.getLogger(n).level for n in noisy})
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"key material ({secret[:12]}…) found in {where}"


def _dump_database(app) -> str:
    """Every row of every table as text (bytes decoded leniently)."""
    from webapp.extensions import db

    out = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).all():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    out.append(f"{table.name}: {value}")
    return "\n".join(out)


def test_keys_never_leak_anywhere(app, login, make_user, run_jobs, all_logs, monkeypatch):
    from webapp.extensions import db
    from webapp.models import Job, User
    from webapp.providers import create_provider
    from webapp.services import actions, generation, keys, providers

    admin = app.test_client()
    producer = app.test_client()
    bodies: list[tuple[str, str]] = []

    def grab(label: str, resp) -> None:
        bodies.append((label, resp.get_data(as_text=True)))
        bodies.append((f"{label} headers", str(resp.headers)))

    with FakeOpenAI(valid_key=None) as fake:
        # Own keys never follow the admin's base URL, only the operator's (issue 14).
        monkeypatch.setitem(app.config, "OPENAI_BASE_URL", fake.url)
        # --- admin: refused key, accepted key, every admin page, test (page and HTMX) -----------------
        login(role="admin", the_client=admin)
        with app.app_context():
            providers.ensure_providers()
        admin_data = {
            "model": "gpt-image-1.5",
            "enabled": "y",
            "fallback_order": "10",
            "default_quality": "low",
            "base_url": fake.url,
            "images_per_minute": "60",
            "user_images_per_hour": "5",
            "monthly_budget": "",
            "alert_percent": "80",
        }
        from webapp.services.pricing import DEFAULT_PRICES

        for model, sizes in DEFAULT_PRICES["openai"].items():
            for size, prices in sizes.items():
                for quality, price in prices.items():
                    admin_data[f"price__{model}__{size}__{quality}"] = price
        grab("save settings", admin.post("/admin/providers/openai", data=admin_data, follow_redirects=True))
        fake.valid_key = PLATFORM_KEY
        grab("refused key", admin.post("/admin/providers/openai/key", data={"api_key": REFUSED_KEY}))
        grab(
            "set key",
            admin.post("/admin/providers/openai/key", data={"api_key": PLATFORM_KEY}, follow_redirects=True),
        )
        admin.post("/admin/providers/openai/default")
        for url in (
            "/admin/providers",
            "/admin/providers/openai",
            "/admin/providers/gemini",
            "/admin/audit",
            "/admin/usage",
            "/admin/usage.csv",
            "/admin/users",
        ):
            grab(url, admin.get(url))
        grab("test key", admin.post("/admin/providers/openai/test", follow_redirects=True))
        grab("test key htmx", admin.post("/admin/providers/openai/test", headers={"HX-Request": "true"}))

        # --- producer: own key added, pages, test ---------------------------------------------------
        uid, email = make_user()
        producer.post("/login", data={"email": email, "password": PASSWORD})
        fake.valid_key = USER_KEY
        grab(
            "refused user key",
            producer.post("/settings/keys", data={"provider": "openai", "api_key": REFUSED_KEY}),
        )
        grab(
            "add user key",
            producer.post(
                "/settings/keys", data={"provider": "openai", "api_key": USER_KEY}, follow_redirects=True
            ),
        )
        for url in ("/settings", "/settings/keys"):
            grab(url, producer.get(url))
        with app.app_context():
            key_id = keys.user_keys(db.session.get(User, uid))["openai"].id
        grab("user test", producer.post(f"/settings/keys/{key_id}/test", follow_redirects=True))

        # --- a failing 401: both keys revoked at the provider ----------------------------------------
        fake.valid_key = "sk-rotated-by-the-provider"
        grab("admin 401 test", admin.post("/admin/providers/openai/test", follow_redirects=True))
        grab("admin 401 htmx", admin.post("/admin/providers/openai/test", headers={"HX-Request": "true"}))
        grab("user 401 test", producer.post(f"/settings/keys/{key_id}/test", follow_redirects=True))
        grab("user 401 htmx", producer.post(f"/settings/keys/{key_id}/test", headers={"HX-Request": "true"}))
        assert "refused the key" in bodies[-2][1]

        # A generation on the revoked platform key and one on the revoked own key: 401 in the job.
        with app.app_context():
            user = db.session.get(User, uid)
            jobs = [
                actions.generate(
                    user,
                    generation.GenerationRequest(
                        prompt="a jazz night",
                        image_type="poster",
                        provider="openai",
                        quality="low",
                        use_own_key=own,
                    ),
                ).id
                for own in (False, True)
            ]
        run_jobs()
        with app.app_context():
            for job_id, suffix in zip(jobs, ("…1234", "…5678"), strict=True):
                job = db.session.get(Job, job_id)
                assert job.status == "failed" and suffix in job.error
                bodies.append((f"job {job_id} error", job.error))
        for job_id in jobs:
            grab(f"job page {job_id}", producer.get(f"/jobs/{job_id}"))
            grab(
                f"job partial {job_id}",
                producer.get(f"/jobs/{job_id}/status", headers={"HX-Request": "true"}),
            )
        grab("admin usage after", admin.get("/admin/usage"))
        grab("admin csv after", admin.get("/admin/usage.csv"))
        grab("admin audit after", admin.get("/admin/audit"))

        # --- CLI -------------------------------------------------------------------------------------
        runner = app.test_cli_runner()
        for args in (["provider", "list"], ["provider", "test", "openai"], ["usage", "--json"], ["usage"]):
            result = runner.invoke(args=args)
            bodies.append((f"cli {' '.join(args)}", result.output + repr(result.exception)))

        # --- exceptions raised with the key in hand -----------------------------------------------------
        with app.app_context():
            provider = providers.get_provider("openai")
            try:
                keys.set_platform_key(provider, REFUSED_KEY)
            except keys.KeyRefused as exc:
                bodies.append(("KeyRefused", f"{exc!s} {exc!r} {exc.args!r}"))
            adapter = create_provider("openai", PLATFORM_KEY, base_url=fake.url, timeout=5)
            bodies.append(("adapter repr", repr(adapter)))
            try:
                adapter.validate_key()
            except Exception as exc:
                bodies.append(
                    ("InvalidKey", f"{exc!s} {exc!r} {getattr(exc, 'detail', '')} {exc.__cause__!r}")
                )
            fake.enqueue("unauthorized")
            try:
                from webapp.providers import ImageRequest

                adapter.generate(ImageRequest(prompt="x", image_type="square"))
            except Exception as exc:
                bodies.append(
                    ("generate 401", f"{exc!s} {exc!r} {getattr(exc, 'detail', '')} {exc.__cause__!r}")
                )

    # The plaintext did reach the provider (so the test exercised real calls) ...
    assert any(r.headers.get("authorization") == f"Bearer {PLATFORM_KEY}" for r in fake.requests)
    assert any(r.headers.get("authorization") == f"Bearer {USER_KEY}" for r in fake.requests)
    # ... and nowhere else.
    for label, text in bodies:
        _assert_clean(text, label)
    assert all_logs.lines, "no log records captured"
    _assert_clean("\n".join(all_logs.lines), "logs")
    dump = _dump_database(app)
    assert "…1234" in dump and "…5678" in dump  # suffixes are what we keep
    _assert_clean(dump, "the database")
