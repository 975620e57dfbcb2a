"""Staff decisions on images moderation held (issue 17): the Approvals queue, approve / reject.

A decision is one conditional UPDATE ``… WHERE status = 'held'``: of two staff deciding at once, one
wins, and only the winner audits and e-mails the producer (like palette approvals, services.palettes).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from webapp.extensions import db
from webapp.mail import send_mail
from webapp.models import Asset, AssetStatus, User, utcnow
from webapp.services import audit
from webapp.services.moderation import AlreadyDecided, ModerationError
from webapp.services.publishing import make_published


def held(limit: int = 100) -> list[Asset]:
    return list(
        db.session.scalars(
            select(Asset).where(Asset.status == AssetStatus.HELD.value).order_by(Asset.id).limit(limit)
        )
    )


def held_count() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(Asset).where(Asset.status == AssetStatus.HELD.value)
        )
        or 0
    )


@dataclass
class Decision:
    asset: Asset
    mailed: bool


def decide(asset_id: int, staff: User, approve: bool, reason: str = "") -> Decision:
    """Approve (→ published) or reject (→ rejected, out of the library and shows) a held image.
    Exactly one of several concurrent decisions wins; the others get AlreadyDecided."""
    reason = " ".join((reason or "").split())[:300]
    owner_id = db.session.scalar(select(Asset.owner_id).where(Asset.id == asset_id))
    if owner_id is None:
        raise AlreadyDecided("That image no longer exists.")
    if owner_id == staff.id:
        raise ModerationError("You cannot decide on your own image: another staff member must review it.")
    new = AssetStatus.PUBLISHED.value if approve else AssetStatus.REJECTED.value
    won = db.session.execute(
        update(Asset)
        .where(Asset.id == asset_id, Asset.status == AssetStatus.HELD.value)
        .values(status=new, hidden=not approve)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise AlreadyDecided("Someone already decided on this image (or it is no longer held).")
    asset = db.session.get(Asset, asset_id)
    db.session.refresh(asset)
    verdict = dict(asset.moderation or {})
    verdict.update(
        decision="approved" if approve else "rejected",
        reviewer=staff.email,
        reason=reason or None,
        decided_at=utcnow().isoformat(timespec="seconds"),
    )
    asset.moderation = verdict
    if approve:
        make_published(asset)
    audit.record(
        f"moderation.{'approve' if approve else 'reject'}",
        f"asset:{asset.id}",
        {"owner": asset.owner_id, "categories": verdict.get("categories"), "reason": reason or None},
        staff,
    )
    db.session.commit()
    owner = db.session.get(User, asset.owner_id)
    mailed = send_mail([owner.email] if owner else [], *decision_mail(asset))
    return Decision(asset, mailed)


def decision_mail(asset: Asset) -> tuple[str, str]:
    verdict = asset.moderation or {}
    approved = asset.status == AssetStatus.PUBLISHED.value
    what = asset.title or asset.filename
    subject = f"Your image “{what}” was {'approved' if approved else 'rejected'}"
    lines = [
        f"A staff member reviewed your image “{what}”, which moderation held before publishing.",
        f"Moderation said: {', '.join(verdict.get('categories') or []) or verdict.get('message') or 'held'}.",
        "It is now published in your library."
        if approved
        else "It was rejected: it stays out of your library and shows.",
    ]
    if verdict.get("reason"):
        lines.append(f"Reason: {verdict['reason']}")
    return subject, "\n".join(lines) + "\n"
