"""Answers kept under their Idempotency-Key, so that a retried write is replayed, not redone."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

__all__ = ["IdempotencySlot", "IdempotencyStore", "StoredResponse", "body_fingerprint"]

IdempotencySlot = tuple[str, str, str]
"""Where an answer is kept: the organization's id, the API key's id, and the
Idempotency-Key the client sent."""


_BOUNDARY = re.compile(r';\s*boundary="?([^";]+)"?', re.IGNORECASE)


def body_fingerprint(body: bytes, content_type: str | None) -> bytes:
    """What a retry under the same Idempotency-Key must send again: the body, with a
    multipart body's boundary left out.

    An HTTP client draws a new boundary for every request it builds (httpx does), so the
    SDK's retry of a multipart upload (``models.predict``) carries the same parts as the
    first attempt between different delimiters: the same request all the same.
    """
    if content_type is None or not content_type.lstrip().lower().startswith("multipart/"):
        return body
    found = _BOUNDARY.search(content_type)
    if found is None:
        return body
    return body.replace(b"--" + found.group(1).strip().encode("latin-1"), b"--")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept under its Idempotency-Key so that a retry replays it."""

    method: str
    path: str
    body_fingerprint: bytes
    """The request body as :func:`body_fingerprint` reads it: a retry must send the same."""
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expires_at: float
    """Virtual second after which the key may be used afresh."""


class IdempotencyStore:
    """Stored answers by slot, forgotten once their TTL has passed on the virtual clock.

    Every answer lives the same TTL and the clock never goes back, so the order answers
    are stored in is the order they expire in: a queue, trimmed from its head on each
    store, keeps memory to what the last TTL stored, with no scan per request.
    """

    __slots__ = ("_answers", "_expiry")

    def __init__(self) -> None:
        self._answers: dict[IdempotencySlot, StoredResponse] = {}
        self._expiry: deque[tuple[float, IdempotencySlot]] = deque()

    def get(self, slot: IdempotencySlot) -> StoredResponse | None:
        return self._answers.get(slot)

    def keep(self, slot: IdempotencySlot, answer: StoredResponse, now: float) -> None:
        """Store ``answer`` under ``slot`` (replacing an expired one) and forget the stale."""
        self.expire(now)
        self._answers[slot] = answer
        self._expiry.append((answer.expires_at, slot))

    def expire(self, now: float) -> None:
        """Forget every answer whose TTL ended at or before ``now``."""
        expiry, answers = self._expiry, self._answers
        while expiry and expiry[0][0] <= now:
            expires_at, slot = expiry.popleft()
            stored = answers.get(slot)
            # A slot stored again since has a later expiry of its own, further back.
            if stored is not None and stored.expires_at == expires_at:
                del answers[slot]

    def __len__(self) -> int:
        return len(self._answers)
