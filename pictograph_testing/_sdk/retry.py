"""Make a fake's own SDK clients back off on the fake's clock, with its seeded jitter.

The SDK's ``RetryPolicy`` binds its sleeps and its jitter source when it is built; a
client the code under test builds while a fake is active binds the clock coupling's
stand-ins (see :mod:`.clock`), which follow whichever fake is innermost. A fake's own
clients are bound to that fake instead, active or not, so their backoff never blocks
and repeats from the fake's seed. Only those clients' own policies change: nothing in
the SDK's modules or classes does, so there is nothing to restore.
"""

from __future__ import annotations

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
    # Concurrent tasks' backoffs overlap on the clock, as every coupled sleep does.
    policy._async_sleep = clock.async_sleep
    policy._rng = jitter
