"""Failures a test armed for jobs still to come: the next exports, evaluations, deployments.

Each service keeps one :class:`FailureQueue`; the next job it creates takes the oldest
failure's message. A failure armed in one call is one :class:`JobFailure` however many
jobs it strikes, so what is armed can be listed, and checked at teardown, as it was armed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["FailureQueue", "JobFailure"]


@dataclass(eq=False)
class JobFailure:
    """The next ``remaining`` jobs of one kind (``job``: ``"export"``, ...) end ``failed``.

    Compared by identity: two failures armed alike are still two faults to account for.
    """

    job: str
    message: str
    remaining: int
    optional: bool = False
    """Whether a test may end without it firing (strict teardown does not ask for it)."""
    fired: int = 0
    """How many jobs it has failed so far."""

    def describe(self) -> str:
        """Say what it still does: ``fail the next 2 export(s)``."""
        return f"fail the next {self.remaining} {self.job}(s)"

    def why_unfired(self) -> str:
        """Say why strict teardown found it unfired."""
        return f"no {self.job} was created while it was armed"


class FailureQueue:
    """The failures armed for one service's next jobs, oldest first."""

    def __init__(self, job: str, default: str) -> None:
        self._job = job
        self._default = default
        self._queue: deque[JobFailure] = deque()

    def arm(
        self, message: str | None = None, *, count: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``count`` jobs fail with ``message`` (the service's own if ``None``)."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        message = self._default if message is None else message
        failure = JobFailure(self._job, message, count, optional)
        self._queue.append(failure)
        return failure

    def take(self) -> str | None:
        """The message the job being created fails with, if a failure is armed for it."""
        if not self._queue:
            return None
        failure = self._queue[0]
        failure.remaining -= 1
        failure.fired += 1
        if failure.remaining <= 0:
            self._queue.popleft()
        return failure.message

    def clear(self) -> None:
        """Forget every armed failure."""
        self._queue.clear()

    def restore(self, failures: Iterable[JobFailure]) -> None:
        """Make ``failures`` (as :attr:`armed` gave them) the ones armed: an all-or-nothing arm."""
        self._queue = deque(failures)

    @property
    def armed(self) -> tuple[JobFailure, ...]:
        """The failures still to strike, oldest first."""
        return tuple(self._queue)

    @property
    def messages(self) -> tuple[str, ...]:
        """The message of each job still to fail, in order (as a scenario stores them)."""
        return tuple(f.message for f in self._queue for _ in range(f.remaining))
