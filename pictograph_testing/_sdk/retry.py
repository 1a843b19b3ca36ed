"""Make a fake's own SDK clients back off on the fake's clock, with its seeded jitter.

The SDK's ``RetryPolicy`` binds its sleeps and its jitter source when it is built; a
client the code under test builds while a fake is active binds the clock coupling's
stand-ins (see :mod:`.clock`), which follow whichever fake is innermost. A fake's own
clients are bound to that fake instead, active or not, so their backoff never blocks
and repeats from the fake's seed. Only those clients' own policies change: nothing in
the SDK's modules or classes does, so there is nothing to restore.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.clock import VirtualClock

__all__ = ["bind_retries"]


def bind_retries(client: Any, clock: VirtualClock, jitter: Callable[[float, float], float]) -> None:
    """Make ``client``'s retry policy sleep on ``clock`` and draw its jitter with ``jitter``
    (``random.Random.uniform``'s signature)."""
    policy = client._transport._retry
    policy._sleep = clock.sleep
    policy._async_sleep = _VirtualAsyncSleep(clock)
    policy._rng = jitter


class _VirtualAsyncSleep:
    """``asyncio.sleep`` for a policy: the clock moves, the task still yields once."""

    __slots__ = ("_clock",)

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    async def __call__(self, seconds: float) -> None:
        self._clock.sleep(seconds)
        # Yield to the loop, as a real sleep would, so other tasks get their turn.
        await asyncio.sleep(0)
