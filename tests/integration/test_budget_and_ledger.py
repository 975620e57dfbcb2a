"""Budgets under concurrency, the budget alert e-mail, and ledger rows written by real generation jobs
(RQ worker, real SDKs against the fake OpenAI and Gemini servers), including fallback rules."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest

from tests.fakes import FakeGemini, FakeOpenAI, Reply

pytestmark = pytest.mark.usefixtures("app")

OPENAI_KEY = "sk-platform-budget-test-0001"
GEMINI_KEY = "AIza-platform-budget-test-0002"


@pytest.fixture
def openai_fake():
    with FakeOpenAI(valid_key=None) as fake:
        yield fake


@pytest.fixture
def gemini_fake():
    with FakeGemini(valid_key=None) as fake:
        yield fake


def configure(
    app, name: str, *, key: str | None = None, base_url: str | None = None, default: bool = False, **settings
) -> int:
    """Enable a platform provider pointed at a fake, with a (tested) key; returns its id."""
    from webapp.services import keys, providers

    with app.app_context():
        providers.ensure_providers()
        row = providers.get_provider(name)
        providers.update_settings(row, {"enabled": True, "base_url": base_url, **settings})
        if key:
            keys.set_platform_key(row, key)
        if default:
            providers.set_default(row)
        return row.id


def ledger_rows(app):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import UsageEvent

    with app.app_context():
        rows = list(db.session.scalars(select(UsageEvent).order_by(UsageEvent.id)))
        for r in rows:
            db.session.expunge(r)
        return rows


def spend(app, provider_id):
    from webapp.services import budget

    with app.app_context():
        return budget.month_spend(provider_id)


def start(app, uid, **fields):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import actions, generation

    with app.app_context():
        user = db.session.get(User, uid)
        job = actions.generate(user, generation.GenerationRequest(prompt="a jazz night by the sea", **fields))
        return job.id


def job_state(app, job_id):
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        return job.status, job.error, dict(job.result or {})


# --------------------------------------------------------------------------- budget


def test_concurrent_reservations_never_pass_the_budget(app):
    """20 threads, each with its own app context and connection; room for exactly 7."""
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services import budget

    amount = Decimal("0.05")
    pid = configure(app, "openai", monthly_budget=Decimal("0.37"))
    barrier = threading.Barrier(20)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with app.app_context():
            provider = db.session.get(Provider, pid)
            db.session.commit()
            barrier.wait()
            try:
                budget.reserve(provider, amount)
                outcome = "ok"
            except budget.BudgetExceeded:
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 20
    assert results.count("ok") == 7
    spent, reserved = spend(app, pid)
    assert spent == 0 and reserved == Decimal("0.35") <= Decimal("0.37")


def test_settle_and_release_arithmetic(app):
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services import budget

    pid = configure(app, "openai", monthly_budget=Decimal("1.00"))
    with app.app_context():
        provider = db.session.get(Provider, pid)
        a = budget.reserve(provider, Decimal("0.40"))
        b = budget.reserve(provider, Decimal("0.40"))
        assert budget.month_spend(pid) == (Decimal(0), Decimal("0.80"))
        with pytest.raises(budget.BudgetExceeded, match=r"used up \(\$0\.80 of \$1\.00"):
            budget.reserve(provider, Decimal("0.21"))
        budget.settle(a, Decimal("0.25"))  # fewer images came back than reserved
        assert budget.month_spend(pid) == (Decimal("0.25"), Decimal("0.40"))
        budget.release(b)
        assert budget.month_spend(pid) == (Decimal("0.25"), Decimal(0))
        budget.reserve(provider, Decimal("0.75"))  # exactly up to the hard stop is allowed
        assert budget.month_spend(pid) == (Decimal("0.25"), Decimal("0.75"))
        # No budget: nothing is refused, spend is still counted.
        provider.monthly_budget = None
        db.session.commit()
        budget.settle(budget.reserve(provider, Decimal("50")), Decimal("50"))
        assert budget.month_spend(pid)[0] == Decimal("50.25")


def test_soft_threshold_mails_the_admins_exactly_once(app, make_user, smtp):
    from webapp.extensions import db
    from webapp.models import Provider
    from webapp.services import budget

    make_user("boss@example.com", role="admin")
    make_user("ops@example.com", role="admin")
    make_user("producer@example.com")
    pid = configure(app, "openai", monthly_budget=Decimal("10.00"), alert_percent=50)

    def reserve_and_settle(amount: str) -> None:
        with app.app_context():
            provider = db.session.get(Provider, pid)
            budget.settle(budget.reserve(provider, Decimal(amount)), Decimal(amount))
            db.session.remove()

    reserve_and_settle("4.00")
    assert smtp.envelopes == []
    # Several requests cross the threshold at the same moment: one e-mail.
    threads = [threading.Thread(target=reserve_and_settle, args=("0.50",)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    reserve_and_settle("1.00")
    assert len(smtp.envelopes) == 1
    envelope = smtp.envelopes[0]
    assert sorted(envelope.rcpt_tos) == ["boss@example.com", "ops@example.com"]
    text = envelope.content.decode()
    assert "openai has used" in text and "$10.00" in text
    assert spend(app, pid)[0] == Decimal("8.00")


# --------------------------------------------------------------------------- ledger from real jobs


def test_local_generation_job_writes_ledger_rows_priced_by_the_estimate(app, make_user, run_jobs):
    from webapp.extensions import db
    from webapp.models import Asset
    from webapp.services import pricing, providers

    uid, _ = make_user()
    job_id = start(app, uid, image_type="square", variations=2, quality="low")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    rows = ledger_rows(app)
    assert len(rows) == 2
    with app.app_context():
        row = providers.get_provider("local")
        expected = pricing.estimate(row, "local", row.model, "1024x1024", "low", 1)
        assert db.session.query(Asset).filter_by(job_id=job_id).count() == 2
    for r in rows:
        assert (r.provider, r.key_owner, r.outcome, r.images, r.job_id) == (
            "local",
            "platform",
            "success",
            1,
            job_id,
        )
        assert r.cost == expected and r.size == "1024x1024" and r.user_id == uid


def test_openai_generation_job_ledger_and_budget_match_the_estimate(app, make_user, run_jobs, openai_fake):
    from webapp.services import pricing, providers

    pid = configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, monthly_budget=Decimal("5"))
    uid, _ = make_user()
    job_id = start(app, uid, image_type="poster", provider="openai", variations=2, quality="low")
    run_jobs()
    status, error, result = job_state(app, job_id)
    assert status == "succeeded", error
    assert len(openai_fake.requests_to("/v1/images/generations")) == 2
    rows = ledger_rows(app)
    with app.app_context():
        expected = pricing.estimate(
            providers.get_provider("openai"), "openai", "gpt-image-1.5", "1024x1536", "low", 1
        )
    assert expected == Decimal("0.013")
    assert [(r.provider, r.outcome, r.images, r.cost, r.key_owner) for r in rows] == [
        ("openai", "success", 1, expected, "platform")
    ] * 2
    assert spend(app, pid) == (Decimal("0.026"), Decimal(0))
    assert {v["cost"] for v in result["variations"]} == {"0.0130"}


def test_rate_limited_openai_falls_back_to_gemini_and_both_are_in_the_ledger(
    app, make_user, run_jobs, openai_fake, gemini_fake
):
    configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True)
    configure(app, "gemini", key=GEMINI_KEY, base_url=gemini_fake.url)
    openai_fake.enqueue("rate_limited", retry_after=60)  # too long to wait for in the job
    uid, _ = make_user()
    job_id = start(app, uid, image_type="poster", quality="medium")
    run_jobs()
    status, error, result = job_state(app, job_id)
    assert status == "succeeded", error
    rows = ledger_rows(app)
    assert [(r.provider, r.outcome, r.images, r.cost, r.key_owner) for r in rows] == [
        ("openai", "rate_limited", 0, Decimal(0), "platform"),
        ("gemini", "success", 1, Decimal("0.039"), "platform"),
    ]
    assert result["variations"][0]["fell_back"] is True and result["variations"][0]["provider"] == "gemini"
    assert len(gemini_fake.requests_to(":generateContent")) == 1


def test_no_fallback_after_a_timeout_that_may_have_been_billed(
    app, make_user, run_jobs, openai_fake, gemini_fake, monkeypatch
):
    pid = configure(
        app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, default=True, monthly_budget=Decimal("5")
    )
    configure(app, "gemini", key=GEMINI_KEY, base_url=gemini_fake.url)
    monkeypatch.setitem(app.config, "PROVIDER_TIMEOUT_SECONDS", 0.5)
    openai_fake.enqueue(Reply("slow", delay=3))
    uid, _ = make_user()
    job_id = start(app, uid, image_type="poster", quality="medium")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "failed" and error
    rows = ledger_rows(app)
    assert [(r.provider, r.outcome, r.cost) for r in rows] == [
        ("openai", "timeout_maybe_billed", Decimal("0.05"))
    ]
    assert gemini_fake.requests_to(":generateContent") == []
    assert spend(app, pid) == (Decimal("0.05"), Decimal(0))  # counted, never silently $0


def test_own_key_never_falls_back_unless_the_producer_allowed_it(
    app, client, login, run_jobs, openai_fake, gemini_fake, monkeypatch
):
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import keys

    configure(app, "gemini", key=GEMINI_KEY, base_url=gemini_fake.url, default=True)
    configure(app, "openai", base_url=openai_fake.url)  # platform openai enabled but has no key
    # Own keys never follow the admin's base URL, only the operator's (issue 14).
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", openai_fake.url)
    uid, _ = login()
    with app.app_context():
        row = keys.add_user_key(db.session.get(User, uid), "openai", "sk-producer-own-0003")
        key_id = row.id

    openai_fake.enqueue("rate_limited", retry_after=60)
    job_id = start(app, uid, image_type="square", provider="openai", quality="low")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "failed" and "limiting how fast" in error
    assert [(r.provider, r.key_owner, r.outcome) for r in ledger_rows(app)] == [
        ("openai", "user", "rate_limited")
    ]
    assert gemini_fake.requests_to(":generateContent") == []

    client.post(
        f"/settings/keys/{key_id}/preferences",
        data={"pref-openai-use_own": "y", "pref-openai-allow_fallback": "y"},
    )
    openai_fake.enqueue("rate_limited", retry_after=60)
    job_id = start(app, uid, image_type="square", provider="openai", quality="low")
    run_jobs()
    status, error, _ = job_state(app, job_id)
    assert status == "succeeded", error
    assert [(r.provider, r.key_owner, r.outcome) for r in ledger_rows(app)[1:]] == [
        ("openai", "user", "rate_limited"),
        ("gemini", "platform", "success"),
    ]
    assert len(gemini_fake.requests_to(":generateContent")) == 1


def test_hourly_limit_refusal_says_when_the_next_image_frees_up(app, make_user, openai_fake, monkeypatch):
    from webapp.extensions import db
    from webapp.services.actions import ActionError

    configure(app, "openai", key=OPENAI_KEY, base_url=openai_fake.url, user_images_per_hour=2)
    uid, _ = make_user()
    start(app, uid, image_type="poster", provider="openai", quality="low", variations=2)  # queued: counts
    with pytest.raises(ActionError) as caught:
        start(app, uid, image_type="poster", provider="openai", quality="low")
    assert caught.value.code == "limit"
    message = caught.value.message
    assert "You have used your 2 AI images for this hour" in message
    assert "own provider key" in message
    minutes = int(re.search(r"frees up in (\d+) min", message).group(1))
    assert 55 <= minutes <= 61
    # Own-key use is not limited. Own keys follow the operator's base URL, never the admin's.
    monkeypatch.setitem(app.config, "OPENAI_BASE_URL", openai_fake.url)
    with app.app_context():
        from webapp.models import User
        from webapp.services import keys

        keys.add_user_key(db.session.get(User, uid), "openai", "sk-producer-own-0004")
    assert start(app, uid, image_type="poster", provider="openai", quality="low")
