"""The wire: routes per resource, envelopes, errors, pagination, idempotency."""

__all__: list[str] = []
