"""Admin settings stored in the database (`AppSetting`): a key and a JSON value.

`put` adds the change to the caller's transaction (the caller audits and commits); `get` answers
None for a setting never saved, so the caller falls back to its configured default.
"""

from __future__ import annotations

from typing import Any

from webapp.extensions import db
from webapp.models import AppSetting


def get(key: str, default: Any = None) -> Any:
    row = db.session.get(AppSetting, key)
    return default if row is None or row.value is None else row.value


def put(key: str, value: Any) -> None:
    row = db.session.get(AppSetting, key)
    if row is None:
        db.session.add(AppSetting(key=key, value=value))
    else:
        row.value = value
