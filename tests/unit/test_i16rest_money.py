"""`jobs.money.hold`: which calls hold budget, and how a resumed provider task takes over its creator's
reservation instead of reserving twice (the database paths are exercised by the integration tests)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from webapp.jobs import money
from webapp.services import budget


@dataclass
class _Row:
    id: int = 7
    monthly_budget: Decimal | None = Decimal("5")


@dataclass
class _Route:
    key_owner: str = "platform"
    provider_row: _Row | None = None
    provider_name: str = "runway"
    model: str = "gen4_turbo"


def test_nothing_is_held_for_own_keys_free_calls_or_a_task_already_paid():
    row = _Row()
    assert money.hold(_Route("user", row), Decimal("0.25")) is None
    assert money.hold(_Route("platform", None), Decimal("0.25")) is None
    assert money.hold(_Route("platform", row), Decimal(0)) is None
    assert money.hold(_Route("platform", row), Decimal("0.25"), resumed=True, paid=True) is None


def test_a_resumed_task_takes_over_its_creators_reservation_without_reserving_again():
    held = money.hold(_Route("platform", _Row(id=3)), Decimal("0.25"), resumed=True)
    assert held == budget.Reservation(3, budget.current_month(), Decimal("0.25"))
