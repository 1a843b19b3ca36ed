"""Answers kept under their Idempotency-Key, so that a retried write is replayed, not redone."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IdempotencySlot", "StoredResponse"]

IdempotencySlot = tuple[str, str, str]
"""Where an answer is kept: the organization's id, the API key's id, and the
Idempotency-Key the client sent."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept under its Idempotency-Key so that a retry replays it."""

    method: str
    path: str
    body_fingerprint: bytes
    """The request body as sent: a retry must send the same bytes."""
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expires_at: float
    """Virtual second after which the key may be used afresh."""
