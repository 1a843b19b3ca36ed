"""The virtual clock every timestamp and every simulated duration in a fake comes from."""

from __future__ import annotations

import asyncio
import math
import numbers
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from pictograph_testing.bounds import EARLIEST_START, LATEST_INSTANT, MAX_SPEED
from pictograph_testing.sleepers import Sleepers

_T = TypeVar("_T")

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFAULT_START", "VirtualClock", "format_timestamp", "parse_timestamp"]

DEFAULT_START = datetime(2026, 5, 12, 12, 0, 0, tzinfo=timezone.utc)
_HORIZON_TS = LATEST_INSTANT.timestamp()


def _real_elapsed() -> float:
    """Return real seconds from an arbitrary origin, for a clock that runs by itself.

    Read through ``clock_gettime`` where there is one, not ``time.monotonic``:
    freezegun freezes ``time.monotonic`` for the whole process, and a served fake's
    clock (``speed`` above zero) must keep running under a test's ``freeze_time``.
    """
    if _CLOCK_GETTIME is None:
        return time.monotonic()
    return _CLOCK_GETTIME(time.CLOCK_MONOTONIC)


# freezegun leaves clock_gettime alone and time-machine moves only its CLOCK_REALTIME;
# there is none on Windows, where the clock reads time.monotonic (frozen by freezegun).
_CLOCK_GETTIME: Callable[[int], float] | None = getattr(time, "clock_gettime", None)


def _moved_by(name: str, amount: object) -> float:
    """Seconds ``amount`` moves the clock by, as :meth:`VirtualClock.advance`'s ``name``:
    a ``timedelta`` or a number (not a bool, nor text) of zero or more."""
    if isinstance(amount, timedelta):
        seconds = amount.total_seconds()
    elif not isinstance(amount, (bool, str, bytes)) and isinstance(amount, numbers.Real):
        try:
            seconds = float(amount)
        except OverflowError:  # an int past what a float holds
            seconds = math.inf
    else:
        raise TypeError(
            f"advance: {name} must be a number"
            f"{' of seconds or a timedelta' if name == 'delta' else ''}, got "
            f"{type(amount).__name__} "
            f"{amount!r:.40}"
        )
    if math.isnan(seconds):
        raise ValueError(f"advance: {name} is {amount!r:.40}, which is no number of seconds")
    if seconds < 0:
        raise ValueError(
            f"the virtual clock never goes backwards (advance: {name} is {amount!r:.40})"
        )
    return seconds


def _is_real(value: object) -> bool:
    """Whether ``value`` is a real number (numpy's and ``Fraction`` too), not a bool."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def _check_speed(speed: float) -> None:
    if not _is_real(speed):
        raise TypeError(f"speed must be a number, got {speed!r:.60}")
    if not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED:
        raise ValueError(
            f"speed must be 0 (the clock moves by hand) up to {MAX_SPEED:,.0f} virtual "
            f"seconds per real second, got {speed}"
        )


class VirtualClock:
    """Keep virtual time: it moves only when advanced, or when a coupled SDK sleeps.

    Time is held as seconds since the clock's start, so ``monotonic()`` is exact and
    cheap; ``now()`` adds that offset to the start. The clock never goes backwards.
    It is safe to share between threads (the SDK uploads with a thread pool).

    With ``speed`` above zero the clock also runs by itself at ``speed`` times real
    time (the offline server's mode); tests keep the default, a clock that only moves
    when told to, which is what makes them deterministic.
    """

    __slots__ = (
        "_elapsed",
        "_lock",
        "_real_start",
        "_sleepers",
        "_speed",
        "_start",
        "_start_ts",
        "_stop",
    )

    def __init__(self, start: datetime = DEFAULT_START, *, speed: float = 0.0) -> None:
        if not isinstance(start, datetime):
            raise TypeError(f"start must be a timezone-aware datetime, got {start!r:.60}")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware (e.g. tzinfo=timezone.utc)")
        _check_speed(speed)
        if not EARLIEST_START <= start < LATEST_INSTANT:
            raise ValueError(
                f"start must be from {format_timestamp(EARLIEST_START)} and before "
                f"{format_timestamp(LATEST_INSTANT)}, got {start.isoformat()}"
            )
        self._start = start.astimezone(timezone.utc)
        self._start_ts = self._start.timestamp()
        # Where a clock running by itself stops: a second short of the latest instant.
        self._stop = max(0.0, _HORIZON_TS - self._start_ts - 1.0)
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self._speed = speed
        self._real_start = _real_elapsed()
        # Made on the first async sleep: most fakes never sleep on an event loop.
        self._sleepers: Sleepers | None = None

    @property
    def speed(self) -> float:
        """How many virtual seconds pass per real second on their own (0: none)."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Let time run by itself at ``speed`` from now on (0: pause; it moves by hand only).

        The virtual time reached so far is kept: changing pace never moves the clock.
        """
        _check_speed(speed)
        with self._lock:
            self._elapsed = self._read()
            # The clock `monotonic` reads: under freezegun `time.monotonic` stands still.
            self._real_start = _real_elapsed()
            self._speed = speed

    @property
    def start(self) -> datetime:
        """The instant the clock started at."""
        return self._start

    def monotonic(self) -> float:
        """Return virtual seconds since the clock started."""
        if self._speed:
            # Read under the lock: `set_speed` changes three fields, and a reader between
            # two of them would see the clock jump, then go back.
            with self._lock:
                return self._read()
        # Moved by hand only: one field, which each move sets in one step.
        return self._elapsed

    def _read(self) -> float:
        """:meth:`monotonic`, for a caller holding the lock."""
        if self._speed:
            ran = self._elapsed + self._speed * (_real_elapsed() - self._real_start)
            return ran if ran < self._stop else self._stop
        return self._elapsed

    def timestamp(self) -> float:
        """Return the virtual time as a Unix timestamp."""
        return self._start_ts + self.monotonic()

    def time(self) -> float:
        """Return the virtual time as a Unix timestamp: a drop-in for ``time.time``."""
        return self._start_ts + self.monotonic()

    def now(self) -> datetime:
        """Return the virtual time as an aware UTC datetime."""
        return self._start + timedelta(seconds=self.monotonic())

    def advance(
        self,
        delta: timedelta | float | None = None,
        *,
        seconds: float = 0.0,
        minutes: float = 0.0,
        hours: float = 0.0,
    ) -> datetime:
        """Move time forward and return the new virtual time.

        Takes a ``timedelta``, a number of seconds, or the ``seconds=`` / ``minutes=`` /
        ``hours=`` keywords (added together). Each is a number (or ``timedelta``) of zero
        or more, else ``TypeError`` or ``ValueError``, as for moving to or past
        :data:`~pictograph_testing.bounds.LATEST_INSTANT`; the clock stays where it was.
        """
        total = 0.0
        for name, amount, unit in (
            ("delta", delta, 1.0),
            ("seconds", seconds, 1.0),
            ("minutes", minutes, 60.0),
            ("hours", hours, 3600.0),
        ):
            if amount is None and name == "delta":
                continue
            total += unit * _moved_by(name, amount)
        self._move(total)
        return self.now()

    def _move(self, seconds: float) -> None:
        """Move forward ``seconds`` (zero or more, checked), unless that reaches the end."""
        with self._lock:
            self._check_reachable(seconds)
            self._elapsed += seconds

    def reach(self, moment: float) -> None:
        """Move time forward to ``moment`` virtual seconds since the start, exactly;
        nothing if the clock reads that already. Past the last instant: ``ValueError``."""
        if type(moment) is not float and not _is_real(moment):
            raise TypeError(f"moment must be a number of virtual seconds, got {moment!r:.60}")
        if moment != moment:  # NaN compares false with everything, the checks below too
            raise ValueError("the virtual clock cannot move to NaN seconds")
        with self._lock:
            gap = moment - self._read()
            if gap <= 0:
                return
            self._check_reachable(gap)
            # Exact when the clock moves by hand only: a sleeper's wake-up, to the bit.
            self._elapsed = moment if not self._speed else self._elapsed + gap

    def check_reachable(self, seconds: float) -> None:
        """Raise the ``ValueError`` :meth:`advance` would for ``seconds``, moving nothing:
        for what arms a move now and makes it later (a delay fault)."""
        with self._lock:
            self._check_reachable(seconds)

    def _check_reachable(self, total: float) -> None:
        if self._start_ts + self._read() + total >= _HORIZON_TS:
            # Units that overflow a float when added up read "inf": say so in words.
            amount = f"{total:g}s" if math.isfinite(total) else "more seconds than a float holds"
            raise ValueError(
                f"moving the virtual clock {amount} would take it to or past "
                f"{format_timestamp(LATEST_INSTANT)}, where it stops"
            )

    def room(self) -> float:
        """The seconds the clock can still move: to a second short of the latest instant,
        where a clock running by itself stops too."""
        return max(0.0, self._stop - self.monotonic())

    def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` at once: a drop-in for ``time.sleep``.

        With :meth:`monotonic` and :meth:`time`, what to inject into code that takes its
        clock as arguments (``poll(sleep=clock.sleep, monotonic=clock.monotonic)``).
        Refuses what ``time.sleep`` refuses, in its words: a negative length and NaN (a
        deadline already past, a poll interval of NaN), which code under test must not
        get away with here and crash on in production.
        """
        if seconds > 0:
            self._move(float(seconds))
        elif seconds < 0:
            raise ValueError("sleep length must be non-negative")
        elif seconds != seconds:
            raise ValueError("Invalid value NaN (not a number)")

    def hold_while(self, work: asyncio.Future[Any]) -> None:
        """Hold this clock's sleepers on the running event loop until ``work`` is done:
        work on another thread that the loop awaits (``asyncio.to_thread``), which the
        clock must not run ahead of while the loop looks idle."""
        self._sleeping().hold(work)

    async def to_thread(self, func: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """``asyncio.to_thread``, holding this clock until the thread is done."""
        work = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
        self.hold_while(work)
        return await work

    async def async_sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time: a drop-in for ``asyncio.sleep``.

        Sleeps of tasks on one event loop overlap, as real ones do: two tasks that each
        sleep five seconds at once wake together, five seconds on (see
        :mod:`~pictograph_testing.sleepers`). The clock moves once the loop has nothing
        else to run; no real time passes. Zero or less only yields to the loop once.
        ``math.inf`` ("park this task until it is cancelled") waits until cancelled and
        moves no clock, as ``asyncio.sleep`` waits; a finite sleep to or past the last
        instant, which no clock reaches, is refused at once, as :meth:`sleep` refuses it.
        """
        if not seconds > 0:  # NaN too, as `sleep` takes it
            await asyncio.sleep(0)
            return
        if seconds == math.inf:
            # No sleeper wakes after it: a future never set, ended by cancelling only.
            await asyncio.get_running_loop().create_future()
        self.check_reachable(seconds)
        wake_at = self.monotonic() + seconds
        await self._sleeping().sleep_until(wake_at)

    def _sleeping(self) -> Sleepers:
        """The tasks asleep on this clock (made on the first async sleep or hold)."""
        sleepers = self._sleepers
        if sleepers is None:
            sleepers = self._sleepers = Sleepers(self)
        return sleepers

    def __repr__(self) -> str:
        return f"VirtualClock(now={format_timestamp(self.now())})"


if sys.version_info >= (3, 11):
    _from_iso = datetime.fromisoformat
else:  # 3.10 reads only what isoformat writes: the backport reads as 3.11 does
    from backports.datetime_fromisoformat import datetime_fromisoformat as _from_iso


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 date or date-time, read alike on every Python the package runs on.

    What Python 3.11's ``datetime.fromisoformat`` reads (fractions of any length, ``,``
    for ``.``, basic forms such as ``20261231T235959``, offsets as ``+0100``), on 3.10
    too, and ``Z`` or ``z`` for UTC. A text without a zone is UTC; anything else raises
    ``ValueError``.
    """
    moment: datetime = _from_iso(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime as the ISO-8601 UTC text the API sends (``...Z``)."""
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-7] + "Z" if text.endswith(".000000") else text + "Z"
