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
