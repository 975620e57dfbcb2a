"""Monthly budgets that hold under concurrency.

Before a paid call its estimated cost is reserved with ONE conditional UPDATE on the provider's
month row: `reserved = reserved + :amount WHERE spent + reserved + :amount <= budget`. Twenty
concurrent requests against a nearly spent budget can therefore never overshoot it. After the
call the reservation is settled to the actual cost (or released if nothing was produced).
Crossing the soft threshold e-mails the admins once per month.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Provider, ProviderSpend, Role, User

log = logging.getLogger(__name__)


class BudgetExceeded(Exception):
    """The reservation would pass the provider's hard stop for this month."""

    def __init__(self, provider: str, budget: Decimal, used: Decimal, amount: Decimal) -> None:
        self.message = (
            f"The monthly budget for {provider} is used up (${used:.2f} of ${budget:.2f}; "
            f"this request needs about ${amount:.2f}). Try a cheaper quality, use your own key, "
            "or ask an admin to raise the budget."
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class Reservation:
    provider_id: int
    month: str
    amount: Decimal


def current_month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def _ensure_row(provider_id: int, month: str) -> None:
    exists = db.session.scalar(
        select(ProviderSpend.id).where(ProviderSpend.provider_id == provider_id, ProviderSpend.month == month)
    )
    if exists:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                ProviderSpend(provider_id=provider_id, month=month, reserved=Decimal(0), spent=Decimal(0))
            )
    except IntegrityError:
        pass  # another request created it first


def reserve(provider: Provider, amount: Decimal) -> Reservation:
    """Reserve `amount` against this month's budget and COMMIT, or raise BudgetExceeded."""
    month = current_month()
    _ensure_row(provider.id, month)
    db.session.commit()
    cond = [ProviderSpend.provider_id == provider.id, ProviderSpend.month == month]
    if provider.monthly_budget is not None:
        cond.append(ProviderSpend.spent + ProviderSpend.reserved + amount <= provider.monthly_budget)
    rows = db.session.execute(
        update(ProviderSpend).where(*cond).values(reserved=ProviderSpend.reserved + amount)
    ).rowcount
    db.session.commit()
    if not rows:
        row = db.session.scalar(select(ProviderSpend).where(*cond[:2]))
        used = (row.spent + row.reserved) if row else Decimal(0)
        raise BudgetExceeded(provider.name, provider.monthly_budget or Decimal(0), used, amount)
    return Reservation(provider.id, month, amount)


def check(provider: Provider, amount: Decimal) -> None:
    """Refuse up front (BudgetExceeded) a request this month's budget cannot cover. Only a look:
    the amount is reserved per call, right before it, by `reserve`."""
    if provider.monthly_budget is None:
        return
    spent, reserved = month_spend(provider.id)
    if spent + reserved + amount > provider.monthly_budget:
        raise BudgetExceeded(provider.name, provider.monthly_budget, spent + reserved, amount)


def settle(reservation: Reservation, actual: Decimal) -> None:
    """Turn the reservation into actual spend (actual may be lower: fewer images came back)."""
    db.session.execute(
        update(ProviderSpend)
        .where(ProviderSpend.provider_id == reservation.provider_id, ProviderSpend.month == reservation.month)
        .values(reserved=ProviderSpend.reserved - reservation.amount, spent=ProviderSpend.spent + actual)
    )
    db.session.commit()
    _maybe_alert(reservation.provider_id, reservation.month)


def release(reservation: Reservation) -> None:
    """Nothing was produced: give the reservation back."""
    settle(reservation, Decimal(0))


def month_spend(provider_id: int, month: str | None = None) -> tuple[Decimal, Decimal]:
    row = db.session.scalar(
        select(ProviderSpend).where(
            ProviderSpend.provider_id == provider_id, ProviderSpend.month == (month or current_month())
        )
    )
    return (row.spent, row.reserved) if row else (Decimal(0), Decimal(0))


def _maybe_alert(provider_id: int, month: str) -> None:
    provider = db.session.get(Provider, provider_id)
    if provider is None or provider.monthly_budget is None or provider.monthly_budget <= 0:
        return
    spent, _reserved = month_spend(provider_id, month)
    threshold = provider.monthly_budget * Decimal(provider.alert_percent) / 100
    if spent < threshold:
        return
    # Claim the alert for this month atomically: exactly one request sends the e-mail.
    claimed = db.session.execute(
        update(Provider)
        .where(
            Provider.id == provider_id,
            or_(Provider.alert_sent_month.is_(None), Provider.alert_sent_month != month),
        )
        .values(alert_sent_month=month)
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    from webapp.mail import send_mail

    admins = [u.email for u in db.session.scalars(select(User).where(User.role == Role.ADMIN.value))]
    pct = spent / provider.monthly_budget * 100
    send_mail(
        admins,
        f"Marquee: {provider.name} has used {pct:.0f}% of its monthly budget",
        (
            f"{provider.name} ({provider.model}) has spent ${spent:.2f} "
            f"of its ${provider.monthly_budget:.2f} budget for {month} "
            f"({pct:.0f}%; alert threshold {provider.alert_percent}%).\n"
            f"At the hard stop new paid generations are refused. Raise the budget at /admin/providers "
            f"if that is not what you want.\n"
        ),
    )
    log.warning(
        "budget alert sent for %s (%s): %.2f of %.2f", provider.name, month, spent, provider.monthly_budget
    )
