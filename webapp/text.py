"""Small wording helpers, so generated sentences read as a person would write them."""

from __future__ import annotations

_AN_EXCEPTIONS = ("uni", "use", "one", "eu")  # "a unicorn", "a user", "a one-off"
_A_EXCEPTIONS = ("hour", "honest", "heir")  # "an hour"


def article(word: str) -> str:
    """'a' or 'an' for `word` by how it sounds (good enough for our nouns: "an admin token",
    "an image", "an OpenAI model", "a user key")."""
    w = (word or "").strip().lower()
    if not w:
        return "a"
    if w.startswith(_A_EXCEPTIONS):
        return "an"
    if w.startswith(_AN_EXCEPTIONS):
        return "a"
    return "an" if w[0] in "aeiou" else "a"


def with_article(word: str) -> str:
    return f"{article(word)} {word}"


def add_sentence(message: str, sentence: str) -> str:
    """Append `sentence` unless the message already says it (no "Nothing was saved. Nothing was saved.")."""
    core = sentence.rstrip(".").lower()
    if core in message.lower():
        return message
    return f"{message.rstrip()} {sentence}".strip()
