"""Hosted test inference: the shared daily CPU pool ``models.predict`` draws on."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

from pictograph_testing.catalog import HOSTED_INFERENCE
from pictograph_testing.world.errors import ApiRefusal

if TYPE_CHECKING:
    from pictograph_testing.world.state import World

__all__ = ["InferencePool", "PoolSpent"]

_DAY = 86400.0


class PoolSpent(ApiRefusal):
    """429: the day's shared inference capacity is used up (``Retry-After``: next UTC day)."""

    status = 429
    code = "inference_capacity_exhausted"

    def __init__(self, retry_after: int, *, by_test: bool = False) -> None:
        super().__init__(
            "Hosted test inference has used up today's shared CPU capacity; it refills at "
            f"00:00 UTC (in {retry_after} s). Run the model on this machine with "
            "client.models.load(...) in the meantime: it has no limit.",
            details={"retry_after": retry_after},
        )
        self.headers = (("retry-after", str(retry_after)),)
        if by_test:
            self.fault = "inference pool exhausted"  # faults.exhaust_inference_pool()


class InferencePool:
    """Count the images hosted inference runs per virtual UTC day, for the whole world.

    The pool is shared by every organization, as the real service's is: when it is spent
    (:data:`~pictograph_testing.catalog.HOSTED_INFERENCE` ``daily_images``, or a test
    spent it with ``fake.faults.exhaust_inference_pool()``) every call is refused until
    the day turns.
    """

    def __init__(self, world: World) -> None:
        self._world = world
        self._day = -1
        self._used = 0
        self.spent_day: int | None = None
        """The virtual day a test spent with :meth:`exhaust` (``None``: not spent)."""

    def _today(self, now: float) -> tuple[int, float]:
        """The virtual UTC day number and the seconds left in it."""
        start = self._world.clock.start
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        elapsed = (start - midnight) / timedelta(seconds=1) + now
        day = int(elapsed // _DAY)
        return day, (day + 1) * _DAY - elapsed

    def admit(self, now: float) -> None:
        """Take one image from today's pool, or refuse with :class:`PoolSpent`."""
        day, left = self._today(now)
        if day != self._day:
            self._day, self._used = day, 0
        if self.spent_day == day or self._used >= HOSTED_INFERENCE.daily_images:
            raise PoolSpent(max(1, math.ceil(left)), by_test=self.spent_day == day)
        self._used += 1

    def exhaust(self) -> None:
        """Spend what is left of today's pool: every call is refused until the day turns."""
        self.spent_day = self._today(self._world.now())[0]

    def refill(self) -> None:
        """Forget that today's pool was spent by :meth:`exhaust` (``faults.clear()``)."""
        self.spent_day = None

    @property
    def spent_by_test(self) -> bool:
        """Whether :meth:`exhaust` holds for the current virtual day (it lifts at 00:00 UTC)."""
        return self.spent_day == self._today(self._world.now())[0]

    @property
    def used_today(self) -> int:
        """Images run so far on the current virtual day."""
        day, _ = self._today(self._world.now())
        return self._used if day == self._day else 0
