"""The world's agenda: the earliest instant any simulated process may next act at."""

from __future__ import annotations

import heapq
import math
from typing import Generic, Protocol, TypeVar

__all__ = ["Agenda", "LiveJobs", "TimedJob"]


class TimedJob(Protocol):
    """A job of a service that ends each job at an instant planned when it starts."""

    id: str
    created_at: float
    ends_at: float


_Job = TypeVar("_Job", bound=TimedJob)


class LiveJobs(Generic[_Job]):
    """A timed service's jobs still under way, by id, and the order they end in.

    Each job is planned once, when it starts, at the end it has then; ending the due
    ones costs a heap pop each, however many are under way. A job dropped before its
    end (cancelled, its owner deleted) leaves its place in the heap until its end comes
    and is passed over then: the service wakes for nothing once, as for any bound.
    """

    __slots__ = ("_ends", "_planned", "agenda", "jobs")

    def __init__(self, agenda: Agenda) -> None:
        self.agenda = agenda
        """The world's agenda, told when the next job ends."""
        self.jobs: dict[str, _Job] = {}
        """The jobs under way, by id, in the order they started (read only)."""
        self._ends: list[tuple[float, float, int, str]] = []
        """(end, start, number, id): a heap, the first to end on top; at one instant the
        older first, then the first started."""
        self._planned = 0

    def start(self, job: _Job) -> None:
        """Take ``job`` on, and tell the agenda when it ends."""
        self.jobs[job.id] = job
        self._planned += 1
        heapq.heappush(self._ends, (job.ends_at, job.created_at, self._planned, job.id))
        self.agenda.expect(job.ends_at)

    def drop(self, job_id: str) -> None:
        """Stop following a job that ends before its time (or was never taken on)."""
        self.jobs.pop(job_id, None)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self.jobs

    @property
    def next_event(self) -> float:
        """When the first job under way ends (infinity for none), or a job dropped
        before then was to: a bound, as the agenda's is (reading it changes nothing)."""
        return self._ends[0][0] if self._ends else math.inf

    def take_due(self, now: float) -> list[_Job]:
        """Stop following, and return, every job due at or before ``now``, in the order
        they end; the agenda hears when the next one does."""
        ends, jobs = self._ends, self.jobs
        due = []
        while ends and ends[0][0] <= now:
            job = jobs.pop(heapq.heappop(ends)[3], None)
            if job is not None:
                due.append(job)
        self.agenda.expect(self.next_event)
        return due


class Agenda:
    """A lower bound on every timed service's next event, so catching up is one comparison.

    Every request catches the world up to the clock. Until the earliest planned event
    (a run's end, an export's next step, an evaluation's end, a deployment's tick, an
    invite's expiry, a month's start) nothing can change, so the services need not be
    asked. A service that plans an event tells the agenda (:meth:`expect`); the world's
    catch-up, once that instant has come, runs them all and then takes their earliest
    next event as the new bound (:attr:`due` only ever rises there).
    """

    __slots__ = ("attempts", "due")

    def __init__(self) -> None:
        self.due = math.inf
        """No service acts before this virtual second (it may act later: a bound)."""
        self.attempts: list[tuple[float, int, str, int]] = []
        """(due, seq, delivery id, generation): every live webhook delivery's next
        attempt, a heap the webhooks service keeps and a courier takes from. Held here
        so a request can see in one look whether there is anything to send."""

    def expect(self, at: float) -> None:
        """Note an event planned at ``at``."""
        if at < self.due:
            self.due = at
