"""The single exception type the app has to understand.

Every refusal of an upload goes through :class:`ImageRejected` so that the upload route and the background
jobs can show ``message`` to a person verbatim and branch on ``code`` without parsing text.
"""

from __future__ import annotations

from typing import Literal

RejectionCode = Literal["empty", "too_large", "bad_type", "too_many_pixels", "corrupt"]

ALLOWED_TYPES_TEXT = "Upload a JPEG, PNG or WebP image."


class ImageRejected(ValueError):
    """An upload we refuse to process.

    ``message`` is a complete sentence (or two) for a person: it says what was wrong *and* what is allowed.
    ``code`` is a short stable slug for programs and metrics: ``empty``, ``too_large``, ``bad_type``,
    ``too_many_pixels`` or ``corrupt``. Subclasses ``ValueError`` so generic "bad input" handlers catch it.
    """

    def __init__(self, message: str, code: RejectionCode) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"ImageRejected({self.message!r}, code={self.code!r})"
