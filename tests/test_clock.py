"""The virtual clock, and the SDK's waits coupled to it while a fake is active."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta, timezone

import httpx
import pictograph
import pictograph._http.retry
import pictograph.aio.resources.training
import pictograph.resources.training
import pytest

from pictograph_testing import FakePictograph, VirtualClock
from pictograph_testing.bounds import LATEST_INSTANT, MAX_SPEED
from tests.conftest import DATASET, EXPORT


def test_clock_starts_at_the_documented_instant() -> None:
    clock = VirtualClock()
    assert clock.now() == datetime(2026, 5, 12, 12, 0, tzinfo=timezone.utc)
    assert clock.monotonic() == 0.0


def test_advance_takes_a_timedelta_seconds_or_keywords() -> None:
    clock = VirtualClock()
    clock.advance(timedelta(minutes=1))
    clock.advance(30)
    clock.advance(seconds=15, minutes=1, hours=1)
    assert clock.monotonic() == 60 + 30 + 15 + 60 + 3600
    assert clock.now() == clock.start + timedelta(seconds=3765)


def test_clock_never_goes_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance(seconds=-1)
    assert clock.monotonic() == 0.0


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(datetime(2026, 1, 1))


def test_sdk_modules_are_coupled_only_while_active() -> None:
    fake = FakePictograph()
    assert pictograph.resources.training.time is time
    with fake:
        coupled = pictograph.resources.training.time
        assert coupled is not time
        coupled.sleep(3600)
        assert fake.clock.monotonic() == 3600
        assert coupled.monotonic() == 3600
        # The global module is never touched: the test runner keeps real time.
        assert time.sleep is not coupled.sleep
        assert pictograph._http.retry.random is not random
    assert pictograph.resources.training.time is time
    assert pictograph.aio.resources.training.asyncio is asyncio
    assert pictograph._http.retry.random is random


def test_the_innermost_active_fake_owns_the_clock() -> None:
    outer, inner = FakePictograph(seed=1), FakePictograph(seed=2)
    with outer:
        with inner:
            pictograph.resources.training.time.sleep(10)
        pictograph.resources.training.time.sleep(1)
        assert pictograph.resources.training.time is not time
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


def test_a_running_clock_stops_short_of_the_latest_instant() -> None:
    # Two virtual seconds before the bound, at the fastest pace: two real microseconds.
    clock = VirtualClock(LATEST_INSTANT - timedelta(seconds=2))
    clock.set_speed(MAX_SPEED)
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings)
    assert readings[-1] == LATEST_INSTANT - timedelta(seconds=1)
    assert clock.monotonic() == 1.0
