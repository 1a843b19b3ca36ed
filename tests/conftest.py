"""Shared fixtures: an active fake with a dataset and an export ready to train.

Also the hypothesis profiles: ``ci`` (the default: a fixed, derandomized example budget,
so every run of the suite tries the same examples) and ``long`` (the documented long
property run), picked with ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx
import pictograph
import pytest
from hypothesis import HealthCheck, settings

from pictograph_testing import FakePictograph
from pictograph_testing.transport import FakeTransport

if TYPE_CHECKING:
    from pictograph.models.training import TrainingRun

# Examples build worlds and drive the real SDK: wall time per example varies with the
# machine, so no deadline, and slow data generation is expected, not a defect.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "long", max_examples=2000, stateful_step_count=60, deadline=None, suppress_health_check=_QUIET
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The project's `timeout` (pyproject.toml) fails a test that hangs; the long budget's
    # property runs take minutes by design, so under it no test is timed.
    if PROFILE == "long":
        for item in items:
            item.add_marker(pytest.mark.timeout(0))


# The SDK's lazily imported submodules (PEP 562 ``__getattr__``) are loaded up front:
# freezegun's module scan (tests/test_time_libraries.py, docs/clock.md) reads every
# attribute of every module, which imports them, and a pytester test's teardown would
# then drop them from sys.modules again while the ``pictograph`` package still holds them.
# Releases before 1.16.0 (the SDK matrix) have neither module.
for _lazy in ("pictograph.agents", "pictograph.aio"):
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(_lazy)

# The browser tests need chromium, and the replay of the SDK's unit suite needs its sdist:
# each runs in a pytest of its own (scripts/browser.sh, scripts/sdk_replay.sh).
collect_ignore = ["browser", "sdk_contract"]

DATASET = "road-signs"
EXPORT = "road-signs-20260512-120000"


def create_past_the_cap(fake: FakePictograph, client: pictograph.Client) -> TrainingRun:
    """Add a dataset of 2,000 labelled images and its export, and create (without
    waiting) a default YOLOX run ``long`` on them: its plan, on an A10G, runs past the
    two-hour service cap."""
    fake.add_dataset("huge", images=2000, completed_images=2000)
    fake.add_export("huge", "huge-v1")
    return client.training.create("huge", "huge-v1", pipeline_type="yolox", name="long", wait=False)


@pytest.fixture
def fake() -> Iterator[FakePictograph]:
    """An active classic-profile fake with a 20-image dataset and a completed export."""
    with FakePictograph(seed=1) as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


@pytest.fixture
def current_fake() -> Iterator[FakePictograph]:
    """The same world under the ``current`` profile (charge-on-success)."""
    with FakePictograph(seed=1, profile="current") as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


@pytest.fixture
def client(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(max_retries=0) as sdk:
        yield sdk


@pytest.fixture
async def aclient(fake: FakePictograph) -> AsyncIterator[pictograph.AsyncClient]:
    async with fake.async_client(max_retries=0) as sdk:
        yield sdk


Sent = list[tuple[str, str, "str | None"]]
"""What :func:`sent_keys` records: (method, path, ``Idempotency-Key`` or ``None``)."""
TRAINING_PATH = "/api/v1/developer/training/"


@pytest.fixture
def sent_keys(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Every request any fake receives, as (method, path, its ``Idempotency-Key`` or
    ``None``), oldest first: what the SDK sent, whichever way it reached the fake."""
    sent: Sent = []
    handle, handle_async = FakeTransport.handle_request, FakeTransport.handle_async_request

    def note(request: httpx.Request) -> None:
        sent.append((request.method, request.url.path, request.headers.get("Idempotency-Key")))

    def handle_request(self: FakeTransport, request: httpx.Request) -> httpx.Response:
        note(request)
        return handle(self, request)

    async def handle_async_request(self: FakeTransport, request: httpx.Request) -> httpx.Response:
        note(request)
        return await handle_async(self, request)

    monkeypatch.setattr(FakeTransport, "handle_request", handle_request)
    monkeypatch.setattr(FakeTransport, "handle_async_request", handle_async_request)
    return sent


def keys_of(sent: Sent, path: str = TRAINING_PATH) -> list[str | None]:
    """The ``Idempotency-Key`` of each POST to ``path`` in ``sent``, in the order sent."""
    return [key for method, sent_path, key in sent if method == "POST" and sent_path == path]


def is_uuid4_hex(key: str | None) -> bool:
    """Whether ``key`` has the shape of ``uuid4().hex``: 32 lowercase hex, version 4."""
    if key is None or len(key) != 32 or key != key.lower():
        return False
    parsed = uuid.UUID(hex=key)
    return parsed.hex == key and parsed.version == 4 and parsed.variant == uuid.RFC_4122


@pytest.fixture
def no_real_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything sleeps for real for more than a tick.

    The fake's promise is that waits run on its virtual clock: with the SDK coupled, a
    two-hour poll never reaches the real ``time.sleep`` or ``asyncio.sleep``. Asserting
    that, rather than a wall-clock bound, keeps the test exact on a loaded machine.
    """
    import asyncio
    import time

    real_sleep, real_async_sleep = time.sleep, asyncio.sleep

    def sleep(seconds: float) -> None:
        assert seconds <= 0.05, f"a real time.sleep({seconds}) during a virtual wait"
        real_sleep(seconds)

    async def async_sleep(seconds: float, result: object = None) -> object:
        assert seconds <= 0.05, f"a real asyncio.sleep({seconds}) during a virtual wait"
        return await real_async_sleep(seconds, result)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
