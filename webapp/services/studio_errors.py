"""The studio's refusal: something the producer can fix (`services.studio` and its parts)."""


class StudioError(ValueError):
    """Something the producer can fix; the message says what."""
