"""The world's agenda: the earliest instant any simulated process may next act at."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Agenda", "TimedJob", "earliest_end", "take_due"]


class TimedJob(Protocol):
    """A job of a service that ends each job at an instant planned when it starts."""

    id: str
    created_at: float
    ends_at: float


_Job = TypeVar("_Job", bound=TimedJob)


def take_due(live: dict[str, _Job], now: float) -> list[_Job]:
    """Remove from ``live`` and return every job due at or before ``now``, in the order
    they end (the older first at one instant)."""
    due = sorted(
        (job for job in live.values() if job.ends_at <= now),
        key=lambda job: (job.ends_at, job.created_at),
    )
    for job in due:
        del live[job.id]
    return due


def earliest_end(jobs: Iterable[TimedJob]) -> float:
    """When the first of ``jobs`` ends (infinity for none): a service's next event."""
    return min((job.ends_at for job in jobs), default=math.inf)


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
