"""Paying for one provider call: the budget held for it, then its ledger row and settlement together.

Every paid call — a still (`jobs.generate`), a clip or a voice-over (`jobs.video`), a bulk item — goes
through the same three steps:

1. `hold` the price on a platform key's monthly budget before anything is sent (raises
   `budget.BudgetExceeded`). A call that resumes a provider task an earlier attempt created takes over
   that attempt's reservation instead of reserving again, and a task already in the ledger holds
   nothing: a resumed task is never reserved, recorded or billed twice.
2. the call, with no database transaction open.
3. `Charge.settle`: one ledger row with what the call cost (the price table's figure, or $0 when the
   provider certainly produced nothing) and the held budget turned into that spend. `Charge.note`
   records an outcome at $0 and leaves the budget held — for a provider task that lives on and that a
   retry resumes (and pays for then).

The ledger row is written before the budget is settled, because `ledger.record` commits the session:
a caller that flags a task as paid (`provider_tasks.mark_paid`) has that flag committed with the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from webapp.services import budget, ledger

CANCELLED_TASK = "Cancelled while the provider's task ran; it was asked to stop."
TASK_CONTINUES = "The provider's task continues; Retry resumes it."


def resume_advice(message: str) -> str:
    """A provider error whose task lives on, as the job shows it: what happened (the provider's
    words), then what Retry does. Only the job knows the task is saved and resumable, so the advice
    is the job's to give, once, and never the provider adapter's."""
    return f"{message} Retry resumes the same provider task (no second charge)."


def hold(
    route: Any, price: Decimal, *, resumed: bool = False, paid: bool = False
) -> budget.Reservation | None:
    """The budget held for one call through `route` (None: own key, free, or nothing left to pay).

    ``resumed``: the call resumes a provider task whose creator reserved `price` and died; its
    reservation is taken over. ``paid``: that task is already in the ledger."""
    if route.key_owner != "platform" or route.provider_row is None or price <= 0 or paid:
        return None
    if resumed:
        return budget.Reservation(route.provider_row.id, budget.current_month(), price)
    return budget.reserve(route.provider_row, price)


@dataclass
class Charge:
    """One provider call's money: who asked, through which route, for what, and the budget held."""

    user_id: int | None
    route: Any
    operation: str
    size: str
    quality: str
    job_id: int | None
    reservation: budget.Reservation | None = None

    def settle(self, cost: Decimal, outcome: str, detail: str | None = None, count: int = 0) -> None:
        """Write the ledger row (`count` outputs for `cost`) and turn the held budget into that spend
        (cost 0 releases it). Idempotent for the budget: a second settle only adds a ledger row."""
        ledger.record(
            self.user_id,
            self.route,
            self.operation,
            self.size,
            self.quality,
            count,
            cost,
            self.job_id,
            outcome,
            detail,
        )
        if self.reservation is not None:
            budget.settle(self.reservation, cost)
            self.reservation = None

    def note(self, outcome: str, detail: str | None) -> None:
        """Record an outcome at $0 and keep the budget held (the provider's task continues)."""
        ledger.record(
            self.user_id, self.route, self.operation, self.size, self.quality, 0, Decimal(0), self.job_id,
            outcome, detail,
        )  # fmt: skip

    def release(self) -> None:
        """Nothing was sent: give the held budget back, no ledger row."""
        if self.reservation is not None:
            budget.settle(self.reservation, Decimal(0))
            self.reservation = None
