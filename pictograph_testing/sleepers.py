"""Async sleeps on a virtual clock that overlap, as real sleeps do.

Two tasks that each sleep five seconds at the same moment wake five seconds later, not
ten: their sleeps share the timeline. A sleeping task registers the virtual moment it
wakes at; while any task sleeps, a callback on the event loop waits until the loop has
nothing else to run and no task has just gone to sleep, then moves the clock to the
earliest of those moments and wakes every task due by then. So ``asyncio.gather`` of
several ``wait_for_completion`` polls each run every five virtual seconds, as they
would against the real API, and virtual time still never waits on real time.

Work the loop awaits on another thread (``VirtualClock.to_thread``: a sync webhook
receiver, or code of the user's own) holds the clock too, until it is done
(:meth:`Sleepers.hold`): the loop looks idle meanwhile, but the clock must not run
ahead of what that thread does next, or how far it ran would depend on the thread's
real speed. (The SDK's own file work runs in place: see ``_sdk.clock``.)

A task that sleeps while no other is asleep and nothing else is queued to run moves
the clock at once. The loop's queue of ready callbacks is read where the loop has one
(asyncio's own loops); elsewhere (uvloop) only tasks that have just gone to sleep hold
the clock. A task that keeps the loop busy without sleeping holds it for at most
:data:`PATIENCE` turns: after that the clock moves all the same, which is what every
sleep did before they overlapped.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pictograph_testing.clock import VirtualClock

__all__ = ["PATIENCE", "Sleepers"]

PATIENCE = 64
"""Turns of the event loop the clock waits for busy tasks before it moves anyway."""

_Sleeper = tuple[float, int, "asyncio.Future[None]"]


class Sleepers:
    """The tasks asleep on one clock, per event loop (a loop's sleepers go with it)."""

    __slots__ = ("_clock", "_latest", "_loops")

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSleepers] = (
            weakref.WeakKeyDictionary()
        )
        # The loop slept on last: nearly always the loop of the next sleep too, found
        # without the weak dictionary's lookup on every poll.
        self._latest: _LoopSleepers | None = None

    async def sleep_until(self, wake_at: float) -> None:
        """Sleep the calling task until the clock reads ``wake_at`` (virtual seconds)."""
        loop = asyncio.get_running_loop()
        await self._of(loop).sleep_until(wake_at, loop)

    def hold(self, work: asyncio.Future[Any]) -> None:
        """Move the clock for no sleeper on the running loop until ``work`` (a thread's,
        which the loop awaits) is done."""
        self._of(asyncio.get_running_loop()).hold(work)

    def _of(self, loop: asyncio.AbstractEventLoop) -> _LoopSleepers:
        sleepers = self._latest
        if sleepers is None or sleepers.loop() is not loop:
            sleepers = self._loops.get(loop)
            if sleepers is None:
                sleepers = self._loops[loop] = _LoopSleepers(self._clock, loop)
            self._latest = sleepers
        return sleepers


class _LoopSleepers:
    """The tasks asleep on one clock in one event loop, by the moment each wakes at."""

    __slots__ = (
        "_busy_turns",
        "_clock",
        "_fresh",
        "_heap",
        "_held",
        "_order",
        "_settling",
        "loop",
    )

    def __init__(self, clock: VirtualClock, loop: asyncio.AbstractEventLoop) -> None:
        self._clock = clock
        # Only a weak reference: the loop owns this, through Sleepers' weak keys.
        self.loop = weakref.ref(loop)
        self._heap: list[_Sleeper] = []
        # Ties wake in the order the tasks went to sleep: the same calls, the same order.
        self._order = itertools.count()
        self._fresh = False
        self._settling = False
        self._busy_turns = 0
        self._held = 0
        """Threads' work in flight that the loop awaits (see :meth:`hold`)."""

    def hold(self, work: asyncio.Future[Any]) -> None:
        self._held += 1
        work.add_done_callback(self._released)

    def _released(self, _: asyncio.Future[Any]) -> None:
        self._held -= 1
        loop = self.loop()
        if not self._held and self._heap and not self._settling and loop is not None:
            self._again(loop)

    async def sleep_until(self, wake_at: float, loop: asyncio.AbstractEventLoop) -> None:
        if not self._heap and not self._held and _ready_count(loop) == 0:
            # Nobody else asleep and nothing else to run: no sleep can overlap this one.
            # Move now and yield once, without the turns a wait on the loop costs.
            self._clock.reach(wake_at)
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._heap, (wake_at, next(self._order), woken))
        self._fresh = True
        if not self._settling:
            self._settling = True
            loop.call_soon(self._settle)
        # A cancelled task cancels `woken` too: it is dropped when it reaches the top.
        await woken

    def _settle(self) -> None:
        """One turn of the loop: wait while tasks are still going to sleep or running,
        else move the clock to the earliest wake-up and wake whoever is due."""
        self._settling = False
        loop = self.loop()
        heap = self._heap
        while heap and heap[0][2].done():
            heapq.heappop(heap)  # a cancelled sleeper
        if loop is None or not heap or self._held:
            return  # the last held work to end settles again (`_released`)
        if self._fresh or (_ready_count(loop) and self._busy_turns < PATIENCE):
            # Someone just went to sleep (another may follow this turn), or tasks still
            # run: give them this turn before the clock moves.
            self._busy_turns = 0 if self._fresh else self._busy_turns + 1
            self._fresh = False
            self._again(loop)
            return
        self._busy_turns = 0
        wake_at, _, first = heapq.heappop(heap)
        try:
            self._clock.reach(wake_at)
        except ValueError as refusal:  # past the clock's last instant: the sleeper's error
            first.set_exception(refusal)
        else:
            first.set_result(None)
            now = self._clock.monotonic()
            while heap and heap[0][0] <= now:
                due = heapq.heappop(heap)[2]
                if not due.done():
                    due.set_result(None)
        if heap:
            self._again(loop)

    def _again(self, loop: asyncio.AbstractEventLoop) -> None:
        self._settling = True
        loop.call_soon(self._settle)


def _ready_count(loop: asyncio.AbstractEventLoop) -> int | None:
    """How many callbacks other than the one running are queued to run now; ``None``
    where the loop does not say (uvloop)."""
    ready = getattr(loop, "_ready", None)
    return len(ready) if isinstance(ready, deque) else None
