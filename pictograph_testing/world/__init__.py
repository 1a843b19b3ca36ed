"""The domain, with no HTTP: entities, rules and invariants."""

__all__: list[str] = []
