"""`flask provider|keys|generate|usage`, as an operator runs them (test CLI runner + one real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import provider_row
from tests.fakes import FakeOpenAI

pytestmark = pytest.mark.usefixtures("app")

KEY = "sk-cli-platform-key-5e6f"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def _run(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input, catch_exceptions=False)

    return _run


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=KEY) as fake:
        yield fake


_provider = provider_row


def test_provider_set_tests_the_key_from_stdin_then_saves_everything(app, cli, openai_fake):
    result = cli(
        "provider",
        "set",
        "openai",
        "--key-stdin",
        "--enable",
        "--default",
        "--model",
        "gpt-image-1-mini",
        "--monthly-budget",
        "25.50",
        "--images-per-minute",
        "10",
        "--base-url",
        openai_fake.url,
        input=KEY + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "…5e6f" in result.output and KEY not in result.output
    assert "now the default" in result.output
    p = _provider(app, "openai")
    assert (p.enabled, p.is_default, p.model, p.images_per_minute) == (True, True, "gpt-image-1-mini", 10)
    assert p.monthly_budget == Decimal("25.50") and p.base_url == openai_fake.url
    assert p.key_suffix == "…5e6f" and p.encrypted_key
    assert not _provider(app, "local").is_default


def test_provider_set_refused_key_exits_nonzero_with_the_reason(app, cli, openai_fake):
    cli("provider", "set", "openai", "--base-url", openai_fake.url)
    result = cli("provider", "set", "openai", "--key-stdin", input="sk-wrong-cli-key-0000\n")
    assert result.exit_code != 0
    assert "refused the key" in result.output and "not saved" in result.output
    assert "sk-wrong-cli-key-0000" not in result.output
    assert _provider(app, "openai").encrypted_key is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--model", "dall-e-3"), "has no model"),
        (("--base-url", "ftp://example.com"), "http:// or https://"),
        (("--monthly-budget", "lots"), "must be dollars"),
        (("--monthly-budget", "1.005"), "at most 2 decimals"),
        (("--default",), "Enable the provider"),
    ],
)
def test_provider_set_refuses_bad_options(app, cli, args, message):
    result = cli("provider", "set", "openai", *args)
    assert result.exit_code != 0 and message in result.output
    p = _provider(app, "openai")
    assert p.model == "gpt-image-1.5" and p.base_url is None and not p.is_default


def test_unknown_provider_is_an_error(cli):
    result = cli("provider", "test", "midjourney")
    assert result.exit_code != 0 and "Unknown provider" in result.output


def test_provider_test_reports_ok_and_failure(cli, openai_fake):
    cli("provider", "set", "openai", "--base-url", openai_fake.url, "--key-stdin", input=KEY + "\n")
    ok = cli("provider", "test", "openai")
    assert ok.exit_code == 0 and "openai: OK" in ok.output
    openai_fake.valid_key = "sk-revoked"
    failed = cli("provider", "test", "openai")
    assert failed.exit_code == 1 and "FAILED" in failed.output and "refused the key" in failed.output
    assert KEY not in ok.output + failed.output


def test_provider_list_shows_a_table_with_suffix_budget_and_spend(app, cli, openai_fake):
    cli(
        "provider",
        "set",
        "openai",
        "--base-url",
        openai_fake.url,
        "--key-stdin",
        "--monthly-budget",
        "100",
        input=KEY + "\n",
    )
    with app.app_context():
        from webapp.extensions import db
        from webapp.models import Provider
        from webapp.services import budget

        provider = db.session.get(Provider, _provider(app, "openai").id)
        budget.settle(budget.reserve(provider, Decimal("1.25")), Decimal("1.25"))
    result = cli("provider", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "ENABLED", "DEFAULT", "MODEL", "KEY", "BUDGET", "MONTH", "SPEND"]
    openai_line = next(line for line in lines if line.startswith("openai"))
    assert "…5e6f" in openai_line and "$100.00" in openai_line and "$1.25" in openai_line
    local_line = next(line for line in lines if line.startswith("local"))
    assert "yes" in local_line and "(none needed)" in local_line
    assert KEY not in result.output


def test_keys_rotate_reencrypts_every_key_and_prints_counts(app, cli, openai_fake, make_user, monkeypatch):
    from cryptography.fernet import Fernet

    from webapp.crypto import _development_keys
    from webapp.extensions import db
    from webapp.models import User, UserKey
    from webapp.services import keys

    cli("provider", "set", "openai", "--base-url", openai_fake.url, "--key-stdin", input=KEY + "\n")
    uid, _ = make_user()
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", openai_fake.url)  # own keys: operator's URL only
    with app.app_context():
        keys.add_user_key(db.session.get(User, uid), "openai", KEY)
        old = {
            name: app.config.get(f"{name.upper()}_KEYS_FERNET") or _development_keys(name)
            for name in ("platform", "user")
        }
    new = {name: Fernet.generate_key().decode() for name in old}
    saved = {k: app.config.get(k) for k in ("PLATFORM_KEYS_FERNET", "USER_KEYS_FERNET")}
    try:
        # As an operator would: the new key first, the old one kept after it until rotation is done.
        for name in old:
            app.config[f"{name.upper()}_KEYS_FERNET"] = f"{new[name]},{old[name]}"
        app.extensions.pop("marquee_vaults", None)
        result = cli("keys", "rotate")
        assert result.exit_code == 0, result.output
        assert "Re-encrypted 1 platform key(s) and 1 user key(s)." in result.output
        with app.app_context():
            user_token = db.session.query(UserKey).one().encrypted_key
        assert (
            Fernet(new["platform"].encode()).decrypt(bytes(_provider(app, "openai").encrypted_key))
            == KEY.encode()
        )
        assert Fernet(new["user"].encode()).decrypt(bytes(user_token)) == KEY.encode()
    finally:
        app.config.update(saved)
        app.extensions.pop("marquee_vaults", None)


def test_generate_without_an_admin_says_to_create_one(cli, tmp_path):
    result = cli("generate", "a jazz night", "--type", "poster", "--out", str(tmp_path))
    assert result.exit_code != 0 and "create-admin" in result.output


def test_generate_writes_every_variation_and_the_cost(app, cli, make_user, tmp_path):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Job, UsageEvent

    make_user("admin@example.com", role="admin")
    out = tmp_path / "out"
    result = cli(
        "generate",
        "neon jazz night",
        "--type",
        "square",
        "--variations",
        "2",
        "--quality",
        "low",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        job = db.session.scalar(select(Job))
        assert job.status == "succeeded" and job.mode == "sync"
        rows = list(db.session.scalars(select(UsageEvent)))
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"square-{job.id}-1.jpg", f"square-{job.id}-2.jpg"]
    with Image.open(files[0]) as im:
        assert im.size == (1200, 1200)
    assert len(rows) == 2 and all(r.provider == "local" and r.key_owner == "platform" for r in rows)
    assert "cost $0.0000" in result.output and "Estimate:" in result.output


def test_generate_through_openai_reports_failures_and_exits_nonzero_when_all_failed(
    app, cli, make_user, tmp_path, openai_fake
):
    make_user("admin@example.com", role="admin")
    cli(
        "provider",
        "set",
        "openai",
        "--enable",
        "--base-url",
        openai_fake.url,
        "--key-stdin",
        input=KEY + "\n",
    )
    openai_fake.enqueue("success", "safety")
    result = cli(
        "generate",
        "a gala",
        "--type",
        "banner",
        "--provider",
        "openai",
        "--variations",
        "2",
        "--quality",
        "low",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "variation 2: failed" in result.output and "$0.0130" in result.output
    assert len(list(tmp_path.glob("banner-*-1.jpg"))) == 1
    openai_fake.set_mode("server_error")
    failed = cli(
        "generate",
        "a gala",
        "--type",
        "banner",
        "--provider",
        "openai",
        "--quality",
        "low",
        "--out",
        str(tmp_path / "none"),
    )
    assert failed.exit_code == 1 and "failed" in failed.output
    assert KEY not in result.output + failed.output


def test_usage_prints_this_months_spend_per_provider_as_text_and_json(app, cli, make_user):
    from webapp.extensions import db
    from webapp.models import UsageEvent

    uid, _ = make_user()
    with app.app_context():
        for provider, cost, owner, images in (
            ("openai", "0.05", "platform", 1),
            ("openai", "0.034", "user", 1),
            ("gemini", "0", "platform", 0),
        ):
            db.session.add(
                UsageEvent(
                    user_id=uid,
                    provider=provider,
                    model="m",
                    operation="generate",
                    size="s",
                    quality="low",
                    images=images,
                    cost=Decimal(cost),
                    key_owner=owner,
                    outcome="success",
                )
            )
        db.session.commit()
    text = cli("usage")
    assert text.exit_code == 0
    openai_line = next(line for line in text.output.splitlines() if line.startswith("openai"))
    assert openai_line.split() == ["openai", "2", "2", "$0.08", "$0.05", "$0.03"]
    data = json.loads(cli("usage", "--json").output)
    assert data["providers"]["openai"] == {
        "images": 2,
        "requests": 2,
        "cost": "0.0840",
        "platform": "0.0500",
        "own_key": "0.0340",
    }
    assert data["providers"]["gemini"]["requests"] == 1 and data["total"]["requests"] == 3


def test_provider_list_in_a_real_subprocess(app, pg_url, media_root):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "STORAGE_URL"))
    }
    env.update(SECRET_KEY="cli-test", DATABASE_URL=pg_url, STORAGE_URL=f"file://{media_root}")
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "provider", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("NAME")
    assert {line.split()[0] for line in proc.stdout.splitlines()[1:]} == {
        "openai",
        "gemini",
        "runway",
        "huggingface",
        "local",
    }
