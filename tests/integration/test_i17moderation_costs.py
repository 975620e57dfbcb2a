"""Moderation costs follow the generation rules (issue 17): the price comes from the OpenAI price
table, each call is a ledger row and settles the month's spend, and a budget that cannot cover the
checks refuses the publish up front with nothing changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_i17moderation_flow import (
    OPENAI_KEY,
    _client,
    assets_of,
    bulk_drafts,
    configure_moderation,
    moderation_ledger,
)


@pytest.fixture
def fake():
    with FakeOpenAI(valid_key=OPENAI_KEY) as server:
        yield server


def _price(app, price: str, budget: str | None = None) -> int:
    from webapp.extensions import db
    from webapp.services import providers

    with app.app_context():
        row = providers.get_provider("openai")
        row.price_table = {**row.price_table, "omni-moderation-latest": {"moderation": {"medium": price}}}
        row.monthly_budget = Decimal(budget) if budget is not None else None
        db.session.commit()
        return row.id


def test_a_priced_check_is_ledgered_and_spent_and_a_short_budget_refuses_up_front(
    app, make_user, run_jobs, fake
):
    from webapp.extensions import db
    from webapp.models import ProviderSpend

    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "one\ntwo")

    provider_id = _price(app, "0.25", budget="0.30")  # two checks cost 0.50: more than the month allows
    page = producer.post(f"/bulk/{batch_id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "budget" in page.lower() and "Nothing was published" in page
    assert {a.status for a in assets_of(app, uid).values()} == {"draft"}
    assert fake.requests_to("/v1/moderations") == [] and moderation_ledger(app) == []

    _price(app, "0.25", budget="10")
    producer.post(f"/bulk/{batch_id}/publish")
    assert {a.status for a in assets_of(app, uid).values()} == {"published"}
    rows = moderation_ledger(app)
    assert [r[4] for r in rows] == [Decimal("0.2500"), Decimal("0.2500")]
    with app.app_context():
        spend = db.session.scalar(select(ProviderSpend).where(ProviderSpend.provider_id == provider_id))
        assert spend.spent == Decimal("0.5000") and spend.reserved == Decimal("0")


def _most_in_flight(requests, delay: float) -> int:
    """How many checks the fake was answering at once: each request is busy from its arrival for
    ``delay`` seconds (the fake's scripted wait)."""
    edges = sorted([(r.at, 1) for r in requests] + [(r.at + delay, -1) for r in requests])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_a_bulk_publish_checks_several_images_at_once_and_still_pays_each_check_once(
    app, make_user, run_jobs, fake
):
    """Eight drafts against a service that takes 1.5 s per check: the calls overlap (at most
    MODERATION_CONCURRENCY, 4, at a time) instead of keeping the request open for eight round trips,
    and each call is still one ledger row and one settled price, with nothing left reserved."""
    from webapp.extensions import db
    from webapp.models import ProviderSpend

    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "\n".join(f"poster idea {i}" for i in range(8)))
    provider_id = _price(app, "0.25", budget="10")
    fake.set_mode("slow", delay=1.5)

    producer.post(f"/bulk/{batch_id}/publish")

    calls = fake.requests_to("/v1/moderations")
    most = _most_in_flight(calls, 1.5)
    print(f"\nFIGURES moderation: {len(calls)} checks, at most {most} in flight")
    assert len(calls) == 8 and 2 <= most <= 4
    assert {a.status for a in assets_of(app, uid).values()} == {"published"}
    rows = moderation_ledger(app)
    assert [(r[3], r[4]) for r in rows] == [("success", Decimal("0.2500"))] * 8
    with app.app_context():
        spend = db.session.scalar(select(ProviderSpend).where(ProviderSpend.provider_id == provider_id))
        assert spend.spent == Decimal("2.0000") and spend.reserved == Decimal("0")


def test_a_moderation_service_that_is_down_is_asked_one_round_not_once_per_image(
    app, make_user, run_jobs, fake
):
    """Every check fails: after the first round (at most MODERATION_CONCURRENCY calls) the rest are
    held as "check failed, retry" without calling the service; failed calls cost nothing."""
    from webapp.extensions import db
    from webapp.models import ProviderSpend

    make_user(role="admin")
    configure_moderation(app, fake)
    producer, uid = _client(app, make_user)
    batch_id = bulk_drafts(app, uid, run_jobs, "\n".join(f"poster idea {i}" for i in range(8)))
    provider_id = _price(app, "0.25", budget="10")
    fake.set_mode("server_error")

    producer.post(f"/bulk/{batch_id}/publish")

    assert len(fake.requests_to("/v1/moderations")) == 4
    assets = assets_of(app, uid).values()
    assert {a.status for a in assets} == {"held"}
    assert {(a.moderation or {}).get("state") for a in assets} == {"error"}
    rows = moderation_ledger(app)
    assert len(rows) == 4 and {(r[3], r[4]) for r in rows} == {("unavailable", Decimal("0"))}
    with app.app_context():
        spend = db.session.scalar(select(ProviderSpend).where(ProviderSpend.provider_id == provider_id))
        assert spend is None or (spend.spent == Decimal("0") and spend.reserved == Decimal("0"))
