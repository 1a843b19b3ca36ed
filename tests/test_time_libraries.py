"""The fake beside time-machine and freezegun: each keeps its own time, neither breaks.

time-machine and freezegun move wall time (``time.time``, ``datetime.now``; freezegun
also ``time.monotonic``) for the whole process; the fake's virtual clock moves only when
advanced or when coupled code sleeps. A test may use both: the fake's timestamps,
polling and deadlines stay on its clock, the user's ``datetime.now()`` stays frozen,
and everything is put back in whichever order they stop.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from types import ModuleType

import freezegun
import pytest
import time_machine

from pictograph_testing import FakePictograph
from pictograph_testing.clock import DEFAULT_START, VirtualClock

pytest_plugins = ["pytester"]

FROZEN = datetime(2030, 1, 1, tzinfo=timezone.utc)

# The user's code: it polls with the standard library and stamps its own records.
JOBS = """
import asyncio
import time
from datetime import datetime, timezone
from time import monotonic

import pictograph


def wait_for_run(run_id, timeout=7200.0):
    client = pictograph.Client()
    deadline = monotonic() + timeout
    while (status := client.training.get(run_id).status) not in ("completed", "failed"):
        if monotonic() > deadline:
            raise TimeoutError(run_id)
        time.sleep(30)
    return status


async def wait_async(run_id):
    async with pictograph.AsyncClient() as client:
        while (run := await client.training.get(run_id)).status != "completed":
            await asyncio.sleep(30)
    return run.status


def stamp():
    return datetime.now(timezone.utc)
"""

TRAVELS: dict[str, Callable[[], AbstractContextManager[object]]] = {
    "freezegun": lambda: freezegun.freeze_time(FROZEN),
    "freezegun-tick": lambda: freezegun.freeze_time(FROZEN, tick=True),
    "time-machine": lambda: time_machine.travel(FROZEN, tick=False),
    "time-machine-tick": lambda: time_machine.travel(FROZEN),
}


@pytest.fixture
def jobs() -> Iterator[ModuleType]:
    module = ModuleType("timed_jobs")
    exec(compile(JOBS, "timed_jobs.py", "exec"), vars(module))
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def _ready(fake: FakePictograph) -> FakePictograph:
    fake.add_dataset("road-signs", images=30, completed_images=30)
    fake.add_export("road-signs", "v1")
    return fake


def _exercise(fake: FakePictograph, jobs: ModuleType) -> None:
    """Train three ways under frozen wall time; check which clock each part followed."""
    client = fake.client()
    run = client.training.create("road-signs", "v1", pipeline_type="yolox", name="n", wait=False)
    assert run.created_at == DEFAULT_START  # the fake's clock, not the frozen one
    assert jobs.wait_for_run(run.id) == "completed"  # the user's loop on the fake's clock
    assert fake.clock.monotonic() >= 300
    assert jobs.stamp().year == FROZEN.year  # the user's datetime.now(): still frozen
    assert datetime.now(timezone.utc).year == FROZEN.year

    waited = client.training.create("road-signs", "v1", pipeline_type="yolox", name="w")
    assert waited.status == "completed"  # the SDK's own wait=True poll
    assert waited.completed_at is not None
    assert waited.completed_at.year == DEFAULT_START.year

    again = client.training.create("road-signs", "v1", pipeline_type="yolox", name="a", wait=False)
    # asyncio's own sleep would wait on frozen time.monotonic under freezegun; the
    # coupled one moves the fake's clock and never waits on one of the loop's timers.
    assert asyncio.run(jobs.wait_async(again.id)) == "completed"


def _real(jobs: ModuleType) -> bool:
    return jobs.time is time and jobs.asyncio is asyncio and jobs.monotonic is time.monotonic


@pytest.mark.parametrize("travel", TRAVELS, ids=list(TRAVELS))
def test_wall_time_frozen_around_the_fake(travel: str, jobs: ModuleType) -> None:
    with TRAVELS[travel](), _ready(FakePictograph(clock_modules=["timed_jobs"])) as fake:
        _exercise(fake, jobs)
    assert _real(jobs)
    assert datetime.now(timezone.utc).year < FROZEN.year


@pytest.mark.parametrize("travel", TRAVELS, ids=list(TRAVELS))
def test_wall_time_frozen_inside_the_fake(travel: str, jobs: ModuleType) -> None:
    with _ready(FakePictograph(clock_modules=["timed_jobs"])) as fake, TRAVELS[travel]():
        _exercise(fake, jobs)
    assert _real(jobs)


def test_the_fake_moves_no_wall_time_and_frozen_time_moves_no_fake(jobs: ModuleType) -> None:
    with freezegun.freeze_time(FROZEN) as frozen, FakePictograph() as fake:
        fake.clock.advance(hours=2)
        assert datetime.now(timezone.utc) == FROZEN
        frozen.tick(3600)  # freezegun's own clock moves; the fake's does not
        assert fake.clock.monotonic() == 7200.0
    with time_machine.travel(FROZEN, tick=False) as traveller, FakePictograph() as fake:
        traveller.shift(3600)
        assert fake.clock.monotonic() == 0.0
        assert time.time() == FROZEN.timestamp() + 3600


def test_the_plugin_with_freezegun_and_time_machine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:cacheprovider -p no:xdist")
    pytester.makepyfile(timed_jobs=JOBS)
    pytester.makepyfile(
        """
        from datetime import datetime, timezone

        import freezegun
        import pytest

        import timed_jobs

        CLOCK = pytest.mark.pictograph(clock_modules=["timed_jobs"])


        def train(client):
            run = client.training.create(
                "road-signs", "v1", pipeline_type="yolox", name="n", wait=False
            )
            assert timed_jobs.wait_for_run(run.id) == "completed"
            return run


        def ready(fake):
            fake.add_dataset("road-signs", images=30, completed_images=30)
            fake.add_export("road-signs", "v1")


        @CLOCK
        @freezegun.freeze_time("2030-01-01")
        def test_freezegun_decorator(pictograph_fake, pictograph_client):
            ready(pictograph_fake)
            run = train(pictograph_client)
            assert run.created_at.year == 2026
            assert timed_jobs.stamp().year == 2030
            assert pictograph_fake.clock.monotonic() >= 300


        @CLOCK
        def test_time_machine_fixture(time_machine, pictograph_fake, pictograph_client):
            time_machine.move_to(datetime(2030, 1, 1, tzinfo=timezone.utc), tick=False)
            ready(pictograph_fake)
            train(pictograph_client)
            assert timed_jobs.stamp().year == 2030
            time_machine.shift(3600)
            assert pictograph_fake.run("n").status == "completed"


        @CLOCK
        async def test_async_under_freezegun(pictograph_fake, pictograph_async_client):
            ready(pictograph_fake)
            with freezegun.freeze_time("2030-01-01"):
                run = await pictograph_async_client.training.create(
                    "road-signs", "v1", pipeline_type="yolox", name="a", wait=True
                )
                assert run.status == "completed"
                assert await timed_jobs.wait_async(run.id) == "completed"
        """
    )
    # In a process of its own: freezegun reads every attribute of every loaded module,
    # which imports the SDK's lazy submodules, and an in-process session would then drop
    # them from sys.modules on the way out while the SDK package still holds them.
    pytester.runpytest_subprocess().assert_outcomes(passed=3)


@pytest.mark.parametrize("travel", ["freezegun", "time-machine"])
def test_a_clock_that_runs_by_itself_keeps_running_under_frozen_time(travel: str) -> None:
    # A served fake's clock (speed above zero) follows real elapsed time, not time.monotonic.
    with TRAVELS[travel]():
        clock = VirtualClock(speed=1000)
        time.sleep(0.01)  # a real sleep: neither library patches time.sleep
        assert clock.monotonic() > 0


@pytest.mark.parametrize("travel", ["freezegun", "time-machine"])
def test_changing_pace_under_frozen_time_keeps_the_clock_where_it_was(travel: str) -> None:
    clock = VirtualClock()
    clock.advance(60)
    with TRAVELS[travel]():
        clock.set_speed(10)
        # Read against real elapsed time, from the moment the pace changed: a few
        # microseconds on, never a jump (freezegun's frozen monotonic once moved it back).
        assert 60.0 <= clock.monotonic() < 61.0
        clock.set_speed(0)
    assert 60.0 <= clock.monotonic() < 61.0
