"""The bulk refusal: a message for the person at the form (`services.bulk` and its parts)."""


class BulkError(ValueError):
    """A refusal with a message for the person at the form."""
