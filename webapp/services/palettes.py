"""Palettes: extraction jobs, custom palettes, staff approval, applying a palette to a show.

The rules live here so routes, the studio and the admin pages agree on them:

* An extracted palette is applied directly when its required contrast checks pass (they always do after
  extraction, because role assignment adjusts colours until they pass; the check is repeated anyway).
* A custom palette (a producer overrode roles) needs a staff decision first: pending_approval ->
  approved | rejected. The producer is e-mailed the decision with the contrast report and sees it in the
  app. Nobody reviews their own palette.
* Applying sets Show.palette_id, stamps applied_at and marks the palette applied. A palette belongs to at
  most one show (Palette.show_id), so applying one that already belongs to another show applies a copy:
  each show keeps an honest history.

Colours are computed by the pure module ``webapp.imaging.palette``; this module only stores and decides.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import url_for
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.imaging.palette_limits import ROLES
from webapp.mail import send_mail
from webapp.models import Asset, Job, Palette, Show, User, utcnow
from webapp.services import audit

log = logging.getLogger(__name__)

EXTRACTED, PENDING, APPROVED, REJECTED, APPLIED = (
    "extracted",
    "pending_approval",
    "approved",
    "rejected",
    "applied",
)
STATUS_LABELS = {
    EXTRACTED: "Extracted",
    PENDING: "Waiting for approval",
    APPROVED: "Approved",
    REJECTED: "Rejected",
    APPLIED: "Applied",
}
ROLE_LABELS = {
    "primary": "Primary",
    "secondary": "Secondary",
    "accent": "Accent",
    "background": "Background",
    "text": "Text",
}
HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: How long a review decision stays in the notice list on /palettes.
NOTICE_DAYS = 14


class PaletteError(Exception):
    """A refusal a producer can act on (shown as a flash or a form error)."""


# --------------------------------------------------------------------------- extraction


def palette_of_job(job: Job) -> Palette | None:
    """The palette a succeeded palette job made (None while running, or if it was deleted)."""
    palette_id = (job.result or {}).get("palette_id")
    return db.session.get(Palette, palette_id) if palette_id else None


def default_name(asset: Asset | None) -> str:
    if asset is None:
        return "Palette"
    stem = asset.filename.rsplit(".", 1)[0] if "." in asset.filename else asset.filename
    return f"{stem[:100]} palette"


# --------------------------------------------------------------------------- reading


def palette_hexes(palette: Palette) -> list[str]:
    """The theme's colours for the studio ("use this palette"): primary, secondary, accent, background,
    text, without repeats.

    The roles rather than the raw extraction, because they are what the producer chose (and for custom
    palettes, what staff approved); generation should draw in the theme the show page will use.
    """
    seen: list[str] = []
    for role in ROLES:
        value = (palette.roles or {}).get(role)
        if value and value.lower() not in seen:
            seen.append(value.lower())
    if not seen:
        seen = [c["hex"] for c in palette.colors or []]
    return seen


def checks_pass(palette: Palette) -> bool:
    """The required pairs (text/background 4.5, accent/background 3) pass, recomputed from the roles."""
    from webapp.imaging.palette_roles import contrast_report  # numpy: not at start-up

    return bool(palette.roles) and contrast_report(palette.roles)["passes"]


def can_apply(palette: Palette) -> tuple[bool, str]:
    """(whether it may be applied to a show, why not)."""
    if palette.status in (APPROVED, APPLIED):
        return True, ""
    if palette.status == PENDING:
        return False, "A custom palette can be applied once staff approve it."
    if palette.status == REJECTED:
        return False, "This palette was rejected. Make a new custom palette from it and send that for review."
    if palette.is_custom:
        return False, "A custom palette needs staff approval before it can be applied."
    if not checks_pass(palette):
        return False, "Its contrast checks fail, so it cannot be applied."
    return True, ""


def list_for(owner: User, limit: int = 60) -> list[Palette]:
    return list(
        db.session.scalars(
            select(Palette)
            .where(Palette.owner_id == owner.id)
            .order_by(Palette.created_at.desc())
            .limit(limit)
        )
    )


def recent_decisions(owner: User) -> list[Palette]:
    """Custom palettes staff decided on in the last NOTICE_DAYS: the notice list on /palettes."""
    since = utcnow() - timedelta(days=NOTICE_DAYS)
    return list(
        db.session.scalars(
            select(Palette)
            .where(
                Palette.owner_id == owner.id, Palette.reviewed_at.is_not(None), Palette.reviewed_at >= since
            )
            .order_by(Palette.reviewed_at.desc())
            .limit(10)
        )
    )


def history_for_show(show: Show) -> list[Palette]:
    """Every palette made for or applied to the show, newest first."""
    return list(
        db.session.scalars(
            select(Palette)
            .where(Palette.show_id == show.id)
            .order_by(Palette.applied_at.desc().nulls_last(), Palette.created_at.desc())
        )
    )


def show_panel(show: Show) -> dict[str, Any]:
    """What the show page's palette card renders: the applied palette (or None) and the history."""
    applied = db.session.get(Palette, show.palette_id) if show.palette_id else None
    return {
        "palette": applied,
        "roles": [(role, ROLE_LABELS[role], applied.roles[role]) for role in ROLES if applied.roles.get(role)]
        if applied
        else [],
        "history": history_for_show(show),
        "labels": STATUS_LABELS,
    }


def applyable_shows(owner: User) -> list[Show]:
    return list(db.session.scalars(select(Show).where(Show.owner_id == owner.id).order_by(Show.title)))


def pending_count() -> int:
    return int(db.session.scalar(select(func.count()).where(Palette.status == PENDING)) or 0)


def pending() -> list[Palette]:
    """Palettes waiting for a decision, oldest first (first come, first served)."""
    return list(
        db.session.scalars(select(Palette).where(Palette.status == PENDING).order_by(Palette.created_at))
    )


def recently_reviewed(limit: int = 20) -> list[Palette]:
    return list(
        db.session.scalars(
            select(Palette)
            .where(Palette.reviewed_at.is_not(None))
            .order_by(Palette.reviewed_at.desc())
            .limit(limit)
        )
    )


def theme_view(roles: Mapping[str, str]) -> dict[str, Any]:
    """Report, colour-blind simulations and preview colours for a set of roles (saved or being edited)."""
    from webapp.imaging.palette_roles import contrast_report, on_color, simulate_roles, verdict_text

    report = contrast_report(roles)
    for pair in report["pairs"]:
        pair["verdict"] = verdict_text(pair)
    simulations = simulate_roles(roles)
    return {
        "roles": dict(roles),
        "role_list": [(r, ROLE_LABELS[r], roles[r]) for r in ROLES if r in roles],
        "report": report,
        "labels": ROLE_LABELS,
        "simulations": simulations,
        "on": {role: on_color(hex_) for role, hex_ in roles.items()},
        "sim_on": {kind: {r: on_color(h) for r, h in sim.items()} for kind, sim in simulations.items()},
    }


# --------------------------------------------------------------------------- custom palettes


def parse_roles(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(roles as lowercase #rrggbb, errors by role) from submitted values."""
    roles: dict[str, str] = {}
    errors: dict[str, str] = {}
    for role in ROLES:
        raw = (values.get(role) or "").strip()
        if raw and not raw.startswith("#"):
            raw = "#" + raw
        if not HEX_RE.match(raw):
            errors[role] = "Enter a colour as #rrggbb, for example #1a2b3c."
        else:
            roles[role] = raw.lower()
    return roles, errors


def save_custom(base: Palette, owner: User, roles: Mapping[str, str], name: str) -> Palette:
    """A new custom palette from ``base`` with the producer's roles, sent for staff approval."""
    from webapp.imaging.palette_roles import contrast_report  # numpy: not at start-up

    checked, errors = parse_roles(roles)
    if errors:
        raise PaletteError("Every role needs a colour written as #rrggbb.")
    palette = Palette(
        owner_id=owner.id,
        source_asset_id=base.source_asset_id,
        show_id=base.show_id,
        name=(name.strip() or f"{base.name} (custom)")[:120],
        colors=list(base.colors or []),
        roles=checked,
        adjustments={},
        contrast=contrast_report(checked),
        is_custom=True,
        status=PENDING,
    )
    db.session.add(palette)
    db.session.commit()
    return palette


# --------------------------------------------------------------------------- review


@dataclass(frozen=True)
class Decision:
    palette: Palette
    mailed: bool


def review(palette: Palette, reviewer: User, approve: bool, reason: str) -> Decision:
    """Approve or reject a pending palette (a reason is required to reject), then e-mail the producer."""
    from webapp.imaging.palette_roles import contrast_report  # numpy: not at start-up

    reason = (reason or "").strip()
    if palette.status != PENDING:
        raise PaletteError("This palette is not waiting for a decision any more.")
    if palette.owner_id == reviewer.id:
        raise PaletteError("You cannot review your own palette; ask another member of staff.")
    if not approve and not reason:
        raise PaletteError("Say why the palette is rejected, so the producer can fix it.")
    palette.status = APPROVED if approve else REJECTED
    palette.reviewer_id = reviewer.id
    palette.reviewed_at = utcnow()
    palette.reason = reason[:2000] or None
    palette.contrast = contrast_report(palette.roles)
    audit.record(
        "palette.approve" if approve else "palette.reject",
        f"palette:{palette.id}",
        {
            "name": palette.name,
            "owner": palette.owner_id,
            **({"reason": palette.reason} if palette.reason else {}),
        },
        reviewer,
    )
    db.session.commit()
    owner = db.session.get(User, palette.owner_id)
    mailed = send_mail([owner.email] if owner else [], *decision_mail(palette))
    return Decision(palette, mailed)


def decision_mail(palette: Palette) -> tuple[str, str]:
    """(subject, text) of the decision e-mail: the verdict, the reason and every pair's ratio."""
    from webapp.imaging.palette_roles import contrast_report, verdict_text  # numpy: not at start-up

    approved = palette.status == APPROVED
    verdict = "approved" if approved else "rejected"
    report = contrast_report(palette.roles)
    lines = [
        f"Your custom palette “{palette.name}” was {verdict}.",
        "",
    ]
    if palette.reason:
        lines += [f"{'Note' if approved else 'Reason'} from the reviewer: {palette.reason}", ""]
    lines.append(
        "You can now apply it to a show."
        if approved
        else "Make a new custom palette from it and send it again."
    )
    lines += ["", "Roles:"]
    lines += [f"  {ROLE_LABELS[r]:<11} {palette.roles[r]}" for r in ROLES if r in palette.roles]
    lines += ["", "Contrast (WCAG 2.x):"]
    for pair in report["pairs"]:
        need = (
            f" (needs {pair['required']:g}:1: {'pass' if pair['ok'] else 'FAIL'})" if pair["required"] else ""
        )
        lines.append(
            f"  {pair['a']} on {pair['b']}: {pair['ratio']:.2f}:1 — {verdict_text(pair)}; "
            f"UI {'pass' if pair['ui'] else 'fail'}{need}"
        )
    try:
        link = url_for("palettes.detail", palette_id=palette.id, _external=True)
        lines += ["", f"See it in Marquee: {link}"]
    except RuntimeError:  # outside a request (a script): no link
        pass
    return f"Palette {verdict}: {palette.name}", "\n".join(lines)


# --------------------------------------------------------------------------- applying


def apply_to_show(palette: Palette, show: Show, user: User) -> Palette:
    """Make ``palette`` the show's palette. Both must be the user's; the palette must be applicable."""
    if palette.owner_id != user.id or show.owner_id != user.id:
        raise PaletteError("You can only apply your own palettes to your own shows.")
    ok, why = can_apply(palette)
    if not ok:
        raise PaletteError(why)
    target = palette
    if palette.show_id is not None and palette.show_id != show.id:
        target = Palette(
            owner_id=palette.owner_id,
            source_asset_id=palette.source_asset_id,
            name=palette.name,
            colors=list(palette.colors or []),
            roles=dict(palette.roles or {}),
            adjustments=dict(palette.adjustments or {}),
            contrast=dict(palette.contrast or {}),
            is_custom=palette.is_custom,
            reviewer_id=palette.reviewer_id,
            reviewed_at=palette.reviewed_at,
            reason=palette.reason,
        )
        db.session.add(target)
    target.show_id = show.id
    target.status = APPLIED
    target.applied_at = utcnow()
    db.session.flush()
    show.palette_id = target.id
    db.session.commit()
    return target
