"""Encodings the api layer keeps between requests, so that hot replies skip JSON work.

None of this is state of the world: it is derived from it, owned by one :class:`Api
<pictograph_testing.api.app.Api>`, and dropping it would change no byte of any reply.
"""

from __future__ import annotations

__all__ = ["RunWire", "WireCache"]

_ISO_LIMIT = 4096
"""Formatted instants kept before the memo starts over (polls reuse a few instants)."""
_ENDED_JOBS_LIMIT = 4096
"""Encoded jobs kept before that memo starts over (a page holds at most 1,000)."""


class RunWire:
    """One run's encoded pieces: the fields that never change, and metrics per epoch."""

    __slots__ = ("head", "metrics", "running_since", "running_tail")

    def __init__(self, head: str) -> None:
        # Kept as text: a reply is joined as text and encoded once (JSON text, so the
        # bytes are those the encoder wrote).
        self.head = head
        """``{"data":`` and the fixed fields of the ``TrainingRun`` object, without the
        closing brace."""
        self.metrics: dict[int, str] = {}
        """Encoded metrics, keyed by the epoch in progress while the run runs."""
        self.running_since: float | None = None
        """The start ``running_tail`` was written for (a preempted run starts again)."""
        self.running_tail = ""
        """The fields after ``eta_seconds`` while the run trains, and the closing braces."""


class WireCache:
    """The api layer's memo of one world's encodings: timestamps and runs."""

    __slots__ = ("ended_jobs", "iso", "runs")

    def __init__(self) -> None:
        self.iso: dict[float, str] = {}
        """Virtual seconds to the API's ISO-8601 text (see ``Call.iso``)."""
        self.runs: dict[str, RunWire] = {}
        """Run id to its encoded pieces (see ``api.training.run_reply``)."""
        self.ended_jobs: dict[str, bytes] = {}
        """An ended run's ``Job`` object, encoded (it never changes again; bounded)."""

    def remember_ended_job(self, job_id: str, encoded: bytes) -> bytes:
        """Keep an ended run's encoded ``Job``; bounded like the instants' memo."""
        if len(self.ended_jobs) >= _ENDED_JOBS_LIMIT:
            self.ended_jobs.clear()
        self.ended_jobs[job_id] = encoded
        return encoded

    def remember_iso(self, seconds: float, text: str) -> str:
        """Keep ``text`` as the rendering of ``seconds``; bounded, so it cannot grow forever."""
        if len(self.iso) >= _ISO_LIMIT:
            self.iso.clear()
        self.iso[seconds] = text
        return text
