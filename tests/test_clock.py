"""The virtual clock, and the SDK's waits coupled to it while a fake is active."""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
import types
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pictograph
import pictograph._http.retry
import pictograph.aio.resources.training
import pictograph.resources.training
import pytest

from pictograph_testing import FakePictograph, VirtualClock
from pictograph_testing.bounds import EARLIEST_START, LATEST_INSTANT, MAX_SPEED
from pictograph_testing.clock import DEFAULT_START, format_timestamp, parse_timestamp
from tests.conftest import DATASET, EXPORT


def test_clock_starts_at_the_documented_instant() -> None:
    clock = VirtualClock()
    assert clock.now() == datetime(2026, 5, 12, 12, 0, tzinfo=timezone.utc)
    assert clock.monotonic() == 0.0


def test_advance_takes_a_timedelta_seconds_or_keywords() -> None:
    clock = VirtualClock()
    clock.advance(timedelta(minutes=1))
    # Each move answers the virtual time it reached.
    assert clock.advance(30) == clock.start + timedelta(seconds=90)
    clock.advance(seconds=15, minutes=1, hours=1)
    assert clock.monotonic() == 60 + 30 + 15 + 60 + 3600
    assert clock.now() == clock.start + timedelta(seconds=3765)


def test_clock_never_goes_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance(seconds=-1)
    assert clock.monotonic() == 0.0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        (("90",), {}, TypeError, "delta must be a number of seconds or a timedelta, got str"),
        ((b"90",), {}, TypeError, "got bytes"),
        ((True,), {}, TypeError, "got bool True"),
        # A number, yet no amount of time: a complex one has no order to move forward in.
        ((1j,), {}, TypeError, "delta must be a number of seconds or a timedelta, got complex"),
        ((), {"seconds": "90"}, TypeError, "seconds must be a number, got str"),
        ((), {"hours": None}, TypeError, "hours must be a number, got NoneType"),
        ((), {"hours": 1, "minutes": -30}, ValueError, "never goes backwards .* minutes is -30"),
        ((-5,), {"seconds": 10}, ValueError, "never goes backwards .* delta is -5"),
        ((timedelta(seconds=-1),), {}, ValueError, "never goes backwards"),
        ((float("nan"),), {}, ValueError, "delta is nan, which is no number of seconds"),
        ((10**400,), {}, ValueError, "more seconds than a float holds"),
    ],
)
def test_advance_refuses_what_is_not_an_amount_of_time_and_moves_nothing(
    args: tuple[object, ...], kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    """Each amount on its own is a number (or timedelta) of zero or more, as the control
    route's are: text, bools and a negative unit netted against a positive one are not."""
    clock = VirtualClock()
    with pytest.raises(error, match=words):
        clock.advance(*args, **kwargs)  # type: ignore[arg-type]
    assert clock.monotonic() == 0.0


def test_advance_takes_any_real_number() -> None:
    from fractions import Fraction

    clock = VirtualClock()
    # Deliberately a real number the annotation does not name: advance takes it as one.
    clock.advance(Fraction(3, 2), minutes=0, hours=0.5)  # type: ignore[arg-type]
    assert clock.monotonic() == 1801.5


def test_reach_refuses_nan_and_leaves_the_clock_working() -> None:
    clock = VirtualClock()
    clock.advance(5)
    with pytest.raises(ValueError, match="NaN"):
        clock.reach(float("nan"))
    assert clock.monotonic() == 5.0
    clock.reach(7.5)
    assert clock.now() == clock.start + timedelta(seconds=7.5)


def test_reach_moves_to_the_moment_exactly_and_never_back() -> None:
    clock = VirtualClock()
    clock.advance(0.2)
    # Less than a second ahead, and where `0.2 + (0.9 - 0.2)` is not 0.9: a sleeper
    # wakes at the very moment it asked for.
    clock.reach(0.9)
    assert clock.monotonic() == 0.9
    clock.reach(0.5)  # behind the clock: nothing
    assert clock.monotonic() == 0.9


@pytest.mark.parametrize("moment", [True, "5", None])
def test_reach_refuses_what_is_not_a_number_of_seconds(moment: object) -> None:
    clock = VirtualClock()
    with pytest.raises(TypeError, match="moment must be a number of virtual seconds"):
        clock.reach(moment)  # type: ignore[arg-type]
    assert clock.monotonic() == 0.0


def test_the_last_instant_bounds_every_move_and_room_says_how_far_is_left() -> None:
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=10))
    # Room runs to a second short of the last instant, where a running clock stops.
    assert clock.room() == 9.0
    clock.advance(5)
    assert clock.room() == 4.0
    # Counted from where the clock is, not from its start; the last instant itself is
    # out of reach too.
    with pytest.raises(
        ValueError, match=r"^moving the virtual clock 5s would take it to or past 2200-01-01T"
    ):
        clock.advance(5)
    with pytest.raises(ValueError, match="to or past"):
        clock.check_reachable(5)
    with pytest.raises(ValueError, match="to or past"):
        clock.reach(10)
    assert clock.monotonic() == 5.0
    clock.check_reachable(4.5)  # moves nothing
    assert clock.monotonic() == 5.0
    clock.advance(4.5)  # past the room a running clock has, short of the last instant
    assert clock.room() == 0.0


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(datetime(2026, 1, 1))


@pytest.mark.parametrize("start", ["2026-05-12T12:00:00Z", date(2026, 5, 12), 1_778_587_200])
def test_a_start_that_is_not_a_datetime_is_refused_in_words(start: object) -> None:
    with pytest.raises(TypeError, match="start must be a timezone-aware datetime, got"):
        VirtualClock(start)  # type: ignore[arg-type]


def test_a_start_may_be_from_the_earliest_instant_up_to_just_before_the_latest() -> None:
    assert VirtualClock(EARLIEST_START).now() == EARLIEST_START
    last = LATEST_INSTANT - timedelta(microseconds=1)
    assert VirtualClock(last).now() == last
    bounds = "start must be from 1970-01-01T00:00:00Z and before 2200-01-01T00:00:00Z"
    for start in (EARLIEST_START - timedelta(microseconds=1), LATEST_INSTANT):
        with pytest.raises(ValueError, match=bounds):
            VirtualClock(start)


def test_a_start_in_another_zone_reads_as_the_same_instant_in_utc() -> None:
    clock = VirtualClock(datetime(2026, 5, 12, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    clock.advance(minutes=1)
    # Every timestamp a fake sends is UTC, whatever zone the test started it in.
    assert clock.start == DEFAULT_START
    assert clock.start.utcoffset() == clock.now().utcoffset() == timedelta(0)
    assert clock.now().isoformat() == "2026-05-12T12:01:00+00:00"


def test_time_and_timestamp_read_the_virtual_unix_time() -> None:
    clock = VirtualClock()
    clock.advance(90)
    # `time()` is the drop-in for `time.time`: seconds since the epoch, not the start.
    assert clock.time() == clock.timestamp() == DEFAULT_START.timestamp() + 90


def test_sdk_modules_are_coupled_only_while_active() -> None:
    fake = FakePictograph()
    assert vars(pictograph.resources.training)["time"] is time
    with fake:
        coupled = vars(pictograph.resources.training)["time"]
        assert coupled is not time
        coupled.sleep(3600)
        assert fake.clock.monotonic() == 3600
        assert coupled.monotonic() == 3600
        # The global module is never touched: the test runner keeps real time.
        assert time.sleep is not coupled.sleep
        assert vars(pictograph._http.retry)["random"] is not random
    assert vars(pictograph.resources.training)["time"] is time
    assert vars(pictograph.aio.resources.training)["asyncio"] is asyncio
    assert vars(pictograph._http.retry)["random"] is random


def test_the_innermost_active_fake_owns_the_clock() -> None:
    outer, inner = FakePictograph(seed=1), FakePictograph(seed=2)
    with outer:
        with inner:
            vars(pictograph.resources.training)["time"].sleep(10)
        vars(pictograph.resources.training)["time"].sleep(1)
        assert vars(pictograph.resources.training)["time"] is not time
    assert (outer.clock.monotonic(), inner.clock.monotonic()) == (1, 10)


def test_activating_twice_is_refused() -> None:
    fake = FakePictograph()
    with fake, pytest.raises(RuntimeError, match="already active"):
        fake.start()
    with pytest.raises(RuntimeError, match="not active"):
        fake.stop()


@pytest.mark.usefixtures("no_real_waiting")
def test_a_two_hour_wait_returns_at_once(fake: FakePictograph, client: pictograph.Client) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 200}, timeout=7200
    )
    assert run.status == "completed"
    assert fake.clock.monotonic() >= run.training_time_seconds  # type: ignore[operator]


def test_poll_timeout_fires_at_the_exact_virtual_deadline(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 500}, wait=False
    )
    start = fake.clock.monotonic()
    with pytest.raises(pictograph.exceptions.PollTimeoutError):
        client.training.wait_for_completion(run.id, poll_interval=5.0, timeout=600.0)
    assert fake.clock.monotonic() - start == 600.0
    assert client.training.get(run.id).status == "running"


async def test_async_waits_are_virtual(fake: FakePictograph) -> None:
    async with fake.async_client(max_retries=0) as client:
        run = await client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False
        )
        start = fake.clock.monotonic()
        with pytest.raises(pictograph.exceptions.PollTimeoutError):
            await client.training.wait_for_completion(run.id, poll_interval=5.0, timeout=30.0)
        assert fake.clock.monotonic() - start == 30.0


# ── async sleeps overlap on the timeline ──


async def test_concurrent_waits_each_poll_every_interval_on_one_timeline(
    fake: FakePictograph,
) -> None:
    async with fake.async_client(max_retries=0) as client:
        runs = [
            await client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name=f"r{n}", wait=False
            )
            for n in range(3)
        ]
        first_poll = len(fake.calls)
        done = await asyncio.gather(
            *(client.training.wait_for_completion(run.id, poll_interval=5.0) for run in runs)
        )
    assert [run.status for run in done] == ["completed"] * 3
    polls = list(fake.calls)[first_poll:]
    for run in runs:
        moments = [call.elapsed for call in polls if call.path.endswith(run.id)]
        # Five virtual seconds between a run's polls, as against the real API: the
        # three tasks' sleeps overlap instead of adding up to fifteen.
        gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
        assert len(gaps) > 3
        assert gaps == [5.0] * len(gaps)
    # The clock stops at the poll that saw the last run end, as one waiter's would.
    ended = max(run.completed_at for run in done if run.completed_at is not None)
    assert 0 <= (fake.clock.now() - ended).total_seconds() < 5.0


async def test_sleeps_of_different_lengths_wake_in_order_of_their_moments() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.async_sleep(seconds)
        woke.append((name, clock.monotonic()))

    await asyncio.gather(sleeper("long", 30), sleeper("short", 3), sleeper("tie", 3))
    assert woke == [("short", 3.0), ("tie", 3.0), ("long", 30.0)]
    assert clock.monotonic() == 30.0


async def test_a_cancelled_sleeper_neither_moves_the_clock_nor_holds_the_others() -> None:
    clock = VirtualClock()
    doomed = asyncio.ensure_future(clock.async_sleep(3600))
    await asyncio.sleep(0)  # asleep now
    doomed.cancel()
    await clock.async_sleep(10)
    assert doomed.cancelled()
    assert clock.monotonic() == 10.0


async def test_a_task_that_keeps_the_loop_busy_does_not_stall_the_clock() -> None:
    clock = VirtualClock()
    stop = False

    async def busy() -> int:
        turns = 0
        while not stop:
            await asyncio.sleep(0)  # the real one: always ready, never asleep
            turns += 1
        return turns

    spinner = asyncio.ensure_future(busy())
    await clock.async_sleep(5)
    stop = True
    assert await spinner > 0
    assert clock.monotonic() == 5.0


def test_one_clock_sleeps_on_one_event_loop_after_another() -> None:
    clock = VirtualClock()

    async def side_by_side() -> None:
        await asyncio.gather(clock.async_sleep(5), clock.async_sleep(5))

    asyncio.run(side_by_side())
    asyncio.run(side_by_side())
    assert clock.monotonic() == 10.0


@pytest.mark.parametrize("seconds", [-0.5, float("nan")])
def test_a_sleep_refuses_what_time_sleep_refuses_in_its_words(seconds: float) -> None:
    with pytest.raises(ValueError) as real:
        time.sleep(seconds)
    clock = VirtualClock()
    with pytest.raises(ValueError) as virtual:
        clock.sleep(seconds)
    assert str(virtual.value) == str(real.value)
    clock.sleep(0.0)  # nothing, as time.sleep(0) is
    assert clock.monotonic() == 0.0


def test_an_sdk_wait_polling_every_nan_seconds_fails_as_it_would_for_real(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """The SDK refuses a poll interval of zero or less; NaN gets past that check and its
    first sleep raises, where a sleep that let it through would poll forever."""
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    with pytest.raises(ValueError, match="NaN"):
        client.training.wait_for_completion(run.id, poll_interval=float("nan"), timeout=60.0)
    assert fake.clock.monotonic() == 0.0


async def test_the_clock_waits_for_the_sdks_file_threads_as_for_a_busy_loop(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    """The async SDK writes a download through ``asyncio.to_thread``: while a thread
    works the loop looks idle, yet a gathered wait's sleep must not move the clock, or
    how far it moved would follow the thread's real speed."""
    names = [i.filename for i in await aclient.images.list(DATASET, limit=6)]
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 300}, wait=False
    )

    async def downloads() -> None:
        for name in names:
            await aclient.images.download(DATASET, name, tmp_path / name)

    done, _ = await asyncio.gather(aclient.training.wait_for_completion(run.id), downloads())
    assert done.status == "completed"
    fetched = [c.elapsed for c in fake.calls if c.method == "GET" and "/images/" in c.path]
    assert len(fetched) >= len(names)
    assert set(fetched) == {0.0}  # file work takes no virtual time
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan")])
async def test_an_async_sleep_of_nothing_only_yields(seconds: float) -> None:
    clock = VirtualClock()
    ran: list[str] = []

    async def ready() -> None:
        ran.append("ready")

    waiting = asyncio.ensure_future(ready())
    await clock.async_sleep(seconds)
    # As `asyncio.sleep(0)` does: a task ready to run gets its turn during the sleep.
    assert ran == ["ready"]
    await waiting
    assert clock.monotonic() == 0.0


async def test_an_async_sleep_past_the_last_instant_is_refused_at_once() -> None:
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=10))
    with pytest.raises(ValueError, match="to or past"):
        await clock.async_sleep(60)
    assert clock.monotonic() == 0.0
    await clock.async_sleep(5)  # still sleeps within its bounds
    assert clock.monotonic() == 5.0


async def test_a_refused_async_sleep_does_not_wait_for_the_other_sleepers() -> None:
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=10))
    short = asyncio.ensure_future(clock.async_sleep(5))
    await asyncio.sleep(0)  # asleep now
    with pytest.raises(ValueError, match="to or past"):
        await clock.async_sleep(60)
    # Refused before it slept: the clock has not moved on to wake the other sleeper.
    assert clock.monotonic() == 0.0
    await short
    assert clock.monotonic() == 5.0


async def test_an_async_sleep_of_infinity_waits_until_cancelled_and_moves_no_clock() -> None:
    """`await asyncio.sleep(math.inf)` parks a task until it is cancelled; so does the
    clock's, and code coupled to it (`clock_modules`), while other sleepers run."""
    clock = VirtualClock()
    parked = asyncio.ensure_future(clock.async_sleep(float("inf")))
    await clock.async_sleep(30)
    assert not parked.done()
    parked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await parked
    assert clock.monotonic() == 30.0

    worker = types.ModuleType("parked_worker")
    worker.asyncio = asyncio  # type: ignore[attr-defined]
    sys.modules["parked_worker"] = worker
    try:
        with FakePictograph(clock_modules=["parked_worker"]) as fake:
            task = asyncio.ensure_future(worker.asyncio.sleep(float("inf")))
            await worker.asyncio.sleep(5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert fake.clock.monotonic() == 5.0
    finally:
        del sys.modules["parked_worker"]


def _retry_delays(seed: int) -> float:
    """Virtual seconds a user-built client's retries wait on a 503, 503, 200 sequence."""
    answers = iter([503, 503, 200])

    def flaky(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={"ok": True})

    with FakePictograph(seed=seed) as fake:
        # Built while active: its retry policy binds the coupled sleep and jitter.
        client = pictograph.Client(api_key="pk_test", base_url="https://elsewhere.example")
        client._transport._client = httpx.Client(
            base_url="https://elsewhere.example", transport=httpx.MockTransport(flaky)
        )
        client.credits.balance()
        return fake.clock.monotonic()


def test_retry_backoff_runs_on_the_virtual_clock_with_seeded_jitter() -> None:
    waited = _retry_delays(seed=5)
    # Backoff 1 s then 2 s, each times a jitter in [0.75, 1.25].
    assert 0.75 * 3 <= waited <= 1.25 * 3
    assert _retry_delays(seed=5) == waited


async def test_concurrent_retries_back_off_on_one_timeline(fake: FakePictograph) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=503, times=2)
    async with fake.async_client(max_retries=1) as client:
        await asyncio.gather(client.credits.balance(), client.credits.balance())
    # Each task backs off one second times a jitter in [0.75, 1.25], both at once: the
    # clock moves by the longer backoff, where their sum would be 1.5 s or more.
    assert 0.75 <= fake.clock.monotonic() <= 1.25


# ── a clock that runs by itself ──


@pytest.mark.parametrize("speed", [MAX_SPEED * 1.5, 1e18, float("inf"), -1.0])
def test_a_speed_past_the_bound_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed must be 0"):
        VirtualClock(speed=speed)
    clock = VirtualClock(speed=5)
    with pytest.raises(ValueError, match="up to 1,000,000"):
        clock.set_speed(speed)
    assert clock.speed == 5
    with pytest.raises(ValueError, match="speed must be 0"):
        FakePictograph(speed=speed)


@pytest.mark.parametrize("speed", [True, "1000", None])
def test_a_speed_that_is_not_a_number_is_refused_in_words(speed: object) -> None:
    with pytest.raises(TypeError, match="speed must be a number, got"):
        VirtualClock(speed=speed)  # type: ignore[arg-type]
    clock = VirtualClock()
    with pytest.raises(TypeError, match="speed must be a number, got"):
        clock.set_speed(speed)  # type: ignore[arg-type]
    assert clock.speed == 0


def test_a_running_clock_has_run_no_further_than_real_time_times_its_speed() -> None:
    # Bounded by real readings taken around it: whatever the machine's pace, a clock
    # counts from its own making (or its last change of pace), not from some earlier
    # origin of the real clock.
    before = time.monotonic()
    clock = VirtualClock(speed=1000.0)
    ran = clock.monotonic()
    after = time.monotonic()
    assert 0.0 <= ran <= (after - before) * 1000.0

    paused = VirtualClock()
    made = time.monotonic()
    while time.monotonic() - made < 0.01:
        pass  # real time passing while the clock is paused, which it must not make up for
    before = time.monotonic()
    paused.set_speed(1000.0)
    ran = paused.monotonic()
    after = time.monotonic()
    assert 0.0 <= ran <= (after - before) * 1000.0


def test_a_running_clock_started_within_its_last_second_stays_at_its_start() -> None:
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=0.5), speed=MAX_SPEED)
    # No room to run: it stays where it started, never before it.
    assert [clock.monotonic() for _ in range(100)] == [0.0] * 100
    assert clock.room() == 0.0


def test_a_running_clock_stops_short_of_the_latest_instant() -> None:
    # Two virtual seconds before the bound, at the fastest pace: two real microseconds.
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=2))
    clock.set_speed(MAX_SPEED)
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings)
    assert readings[-1] == LATEST_INSTANT - timedelta(seconds=1)
    assert clock.monotonic() == 1.0


def test_a_running_clock_never_goes_back_while_its_pace_changes() -> None:
    # `set_speed` changes three fields; a reader on another thread (a request handler)
    # between two of them saw the clock jump ahead, then back, even below zero.
    import sys
    import threading

    clock = VirtualClock(speed=10_000.0)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    stop = threading.Event()
    backwards: list[tuple[float, float]] = []

    def read() -> None:
        last = clock.monotonic()
        while not stop.is_set():
            now = clock.monotonic()
            if now < last:
                backwards.append((last, now))
            last = now

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(200):
            time.sleep(0.0002)  # the reader runs between changes, as a server's requests do
            clock.set_speed(10_000.0 + n % 2)
    finally:
        stop.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert backwards == []


async def test_a_coupled_modules_thread_work_stays_on_a_thread_and_its_sleeps_on_the_clock() -> (
    None
):
    """Only `sleep`, `monotonic` and `time` follow the clock in a `clock_modules` module:
    its `asyncio.to_thread` runs on a worker thread, as without the fake (in place, a
    worker waiting for what the loop hands it blocked the loop for good)."""
    import queue
    import threading

    worker = types.ModuleType("handing_worker")
    worker.asyncio = asyncio  # type: ignore[attr-defined]
    sys.modules["handing_worker"] = worker
    try:
        with FakePictograph(clock_modules=["handing_worker"]) as fake:
            items: queue.Queue[int] = queue.Queue()
            waiting = asyncio.ensure_future(worker.asyncio.to_thread(items.get, timeout=30))
            await asyncio.sleep(0)
            items.put(42)
            assert await waiting == 42
            elsewhere = await worker.asyncio.to_thread(threading.get_ident)
            assert elsewhere != threading.get_ident()
            await worker.asyncio.sleep(90)
            assert fake.clock.monotonic() == 90.0
    finally:
        del sys.modules["handing_worker"]


def test_an_async_dataset_download_sends_its_requests_in_the_same_order_every_run(
    tmp_path: Path,
) -> None:
    """The async SDK downloads a dataset's files through `asyncio.as_completed`, which
    starts them in the order of a set (memory addresses): the journal differed run to
    run. They start in the order the SDK lists them, so the same calls repeat it."""

    def journal(run: int) -> list[tuple[str, str, str]]:
        with FakePictograph(seed=1) as fake:
            fake.add_dataset("road-signs", images=12, completed_images=12)

            async def download() -> None:
                async with fake.async_client() as client:
                    await client.datasets.download("road-signs", tmp_path / str(run))

            asyncio.run(download())
            return [(call.method, call.target, call.request_id) for call in fake.calls]

    first = journal(0)
    # Kept alive between runs, so the next runs' objects land at other addresses.
    ballast = [object() for _ in range(1000)]
    assert all(journal(run) == first for run in range(1, 5))
    assert len(ballast) == 1000
    fetched = [target for _, target, _ in first if target.startswith("/_storage/")]
    assert [target.rsplit("/", 1)[1] for target in fetched] == [
        f"img-{n:05d}.jpg" for n in range(1, 13)
    ]


# ── the API's timestamps ──

_UTC_NOON = datetime(2026, 5, 12, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-05-12T12:00:00Z", timedelta(0)),
        ("2026-05-12T12:00:00z", timedelta(0)),
        ("2026-05-12T14:00:00+02:00", timedelta(hours=2)),
        ("2026-05-12T12:00:00", timedelta(0)),  # no zone: UTC
    ],
)
def test_a_timestamp_reads_as_its_instant_in_its_own_zone(text: str, offset: timedelta) -> None:
    moment = parse_timestamp(text)
    assert moment == _UTC_NOON
    assert moment.utcoffset() == offset


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 5, 12, 14, 0, tzinfo=timezone(timedelta(hours=2))), "2026-05-12T12:00:00Z"),
        (_UTC_NOON + timedelta(microseconds=500_000), "2026-05-12T12:00:00.500000Z"),
    ],
)
def test_a_timestamp_is_sent_in_utc_with_a_fraction_only_when_it_has_one(
    moment: datetime, text: str
) -> None:
    assert format_timestamp(moment) == text
    assert parse_timestamp(text) == moment


def test_a_clock_shows_its_virtual_time_in_the_apis_words() -> None:
    clock = VirtualClock()
    clock.advance(minutes=1)
    assert repr(clock) == "VirtualClock(now=2026-05-12T12:01:00Z)"
