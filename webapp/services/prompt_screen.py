"""The prompt block list (issue 17): words and phrases an admin does not want in any prompt.

Every generation door goes through an action (or the bulk service) that calls `screen` before any
job, reservation or paid call. A term matches whole words, case-insensitively, across any run of
spaces or punctuation ("blood  bath" matches "blood bath"); the refusal names the term.
"""

from __future__ import annotations

import re
from functools import lru_cache

from webapp.extensions import db
from webapp.models import User
from webapp.services import audit, settings_store

KEY = "moderation.blocklist"
MAX_TERMS = 500
MAX_TERM = 80


class BlockedPrompt(ValueError):
    def __init__(self, term: str) -> None:
        self.term = term
        super().__init__(
            f"The prompt contains “{term}”, which is on this platform's block list. "
            "Remove it and try again (an admin keeps the list in Admin → Moderation)."
        )


def terms() -> list[str]:
    value = settings_store.get(KEY, [])
    return [str(t) for t in value] if isinstance(value, list) else []


def parse(text: str) -> list[str]:
    """One term per line (or comma-separated); blank lines dropped, repeats removed, order kept."""
    out: list[str] = []
    for raw in re.split(r"[\n,]", text or ""):
        term = " ".join(raw.split()).lower()
        if term and term not in out:
            out.append(term)
    return out


def validate(items: list[str]) -> list[str]:
    if len(items) > MAX_TERMS:
        raise ValueError(f"{len(items)} terms given; keep the list to {MAX_TERMS} or fewer.")
    long = next((t for t in items if len(t) > MAX_TERM), None)
    if long:
        raise ValueError(f"“{long[:30]}…” is longer than {MAX_TERM} characters; shorten it.")
    return items


def save(actor: User, text: str) -> list[str]:
    """Replace the list (validated first: nothing is written on an error); audited with what changed."""
    items = validate(parse(text))
    before = terms()
    settings_store.put(KEY, items)
    audit.record(
        "moderation.blocklist",
        "moderation",
        {"added": [t for t in items if t not in before], "removed": [t for t in before if t not in items]},
        actor,
    )
    db.session.commit()
    return items


@lru_cache(maxsize=64)
def _pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in term.split()]  # "c++" stays "c++"; spaces match any separator
    return re.compile(r"(?<!\w)" + r"[\W_]+".join(words) + r"(?!\w)", re.IGNORECASE)


def blocked_term(*texts: str | None) -> str | None:
    joined = "\n".join(t for t in texts if t)
    if not joined:
        return None
    for term in terms():
        if term.split() and _pattern(term).search(joined):
            return term
    return None


def screen(*texts: str | None, error: type[Exception] | None = None) -> None:
    """Raise BlockedPrompt (or `error` with the same message) naming the first blocked term found."""
    term = blocked_term(*texts)
    if term is not None:
        exc = BlockedPrompt(term)
        raise exc if error is None else error(str(exc))
