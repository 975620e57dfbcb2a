"""The actions layer's common ground: `ActionSpec` and the `ACTIONS` registry, `ActionError`
and its HTTP statuses, and the rules every action applies first (feature switch, prompt
screen, ownership). See the package docstring for the order of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.extensions import db
from webapp.models import Asset, User
from webapp.params import parse_id
from webapp.services import limits

RULES = ("feature", "ownership", "validation", "allowance", "budget")


@dataclass(frozen=True)
class ActionSpec:
    """An action's name, the rules it enforces and the doors that call it."""

    name: str
    rules: tuple[str, ...]
    doors: tuple[str, ...]
    allowance: str | None = None


ACTIONS: dict[str, ActionSpec] = {}


def _register(spec: ActionSpec) -> None:
    ACTIONS[spec.name] = spec


# The HTTP status a web or API door answers for each refusal code.
ACTION_STATUS = {
    "invalid": 422,
    "not_found": 404,
    "forbidden": 403,
    "limit": 429,
    "budget": 409,
    "conflict": 409,
}


class ActionError(Exception):
    """A refusal with what to do about it; `code` picks the door's status (ACTION_STATUS)."""

    def __init__(
        self,
        code: str,
        message: str,
        errors: dict[str, list[str]] | None = None,
        allowance: limits.Allowance | None = None,
    ) -> None:
        self.code, self.message = code, message
        self.errors = errors or {}
        self.allowance = allowance
        super().__init__(message)

    @classmethod
    def from_limit(cls, exc: limits.LimitReached) -> ActionError:
        from webapp import metrics

        metrics.allowance_refused(exc.allowance.kind)  # every door's refusal passes here
        return cls("limit", exc.message, allowance=exc.allowance)


FEATURE_OFF = (
    "The media assistant is switched off for your account, so new work cannot start. "
    "Ask an admin to switch it on in Admin → Users."
)


def require_feature(user: User) -> None:
    if not user.media_assistant_enabled:
        raise ActionError("forbidden", FEATURE_OFF)


def screen_prompt(*texts: Any) -> None:
    """The admin's prompt block list, before any job, reservation or paid call (a validation refusal
    naming the blocked term)."""
    from webapp.services import prompt_screen

    try:
        prompt_screen.screen(*(t for t in texts if isinstance(t, str)))
    except prompt_screen.BlockedPrompt as exc:
        raise ActionError("invalid", str(exc), {"prompt": [str(exc)]}) from None


def owned(model: type, record_id: Any, user: User, what: str) -> Any:
    """The record if it is the caller's; otherwise the same 'not found' whether it exists or not."""
    rid = parse_id(record_id)  # ids past Postgres' integer (or True, " 1", "²") name no row
    row = db.session.get(model, rid) if rid is not None else None
    if row is None or row.owner_id != user.id:
        raise ActionError("not_found", f"That {what} is not in your account (it may have been deleted).")
    return row


def owned_image(asset_id: Any, user: User) -> Asset:
    """`owned`, and a still image: a clip or an audio file cannot be auto-formatted, edited or sampled."""
    asset = owned(Asset, asset_id, user, "image")
    if not asset.is_image:
        message = f"That is a {asset.media_kind} file, not an image: choose an image."
        raise ActionError("invalid", message, {"asset_id": [message]})
    return asset
