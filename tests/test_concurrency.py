"""Many threads creating, polling and cancelling against one world lose no update.

Each thread drives the real SDK; a further thread moves the clock meanwhile. Afterwards
every create answered is exactly one run, every cancel answered holds, every request
is in the journal once, and the ledger invariants stand.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pictograph
import pytest
from pictograph.exceptions import ValidationError

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT
from tests.invariants import check_balances, check_charges, check_models

THREADS = 8
OPERATIONS = 40
"""Per thread: creates, polls, lists, quotes, balance reads and cancels, interleaved."""
CLOCK_STEPS = 200


@dataclass
class Tally:
    """What one thread saw answered."""

    created: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    requests: int = 0
    errors: list[BaseException] = field(default_factory=list)


def _worker(client: pictograph.Client, seed: int, start: threading.Barrier, tally: Tally) -> None:
    pick = random.Random(seed)
    start.wait()
    try:
        for n in range(OPERATIONS):
            choice = pick.random()
            tally.requests += 1
            if choice < 0.35 or not tally.created:
                run = client.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name=f"t{seed}-{n}", wait=False
                )
                tally.created.append(run.id)
            elif choice < 0.55:
                client.training.get(run_id=pick.choice(tally.created))
            elif choice < 0.65:
                client.training.list(limit=20)
            elif choice < 0.75:
                client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
            elif choice < 0.85:
                client.credits.balance()
            else:
                run_id = pick.choice(tally.created)
                # A ValidationError: the run was over already (cancelled, or finished).
                with contextlib.suppress(ValidationError):
                    tally.cancelled.append(client.training.cancel(run_id=run_id).id)
    except BaseException as exc:  # surfaced by the test, not lost in the thread
        tally.errors.append(exc)


def _clock(fake: FakePictograph, start: threading.Barrier) -> None:
    start.wait()
    for _ in range(CLOCK_STEPS):
        fake.clock.advance(seconds=3)


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads every microsecond, not every 5 ms: races get their chance."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("eager_switching")
@pytest.mark.parametrize("shared_client", [False, True], ids=["client per thread", "one client"])
def test_threads_creating_polling_and_cancelling_lose_no_update(shared_client: bool) -> None:
    with FakePictograph(seed=4, balance_usd=10_000.0) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=20, classes=["a", "b"])
        fake.add_export(DATASET, EXPORT)
        shared = fake.client(max_retries=0)
        clients = [shared if shared_client else fake.client(max_retries=0) for _ in range(THREADS)]
        tallies = [Tally() for _ in range(THREADS)]
        start = threading.Barrier(THREADS + 1)
        threads = [
            threading.Thread(target=_worker, args=(clients[i], i, start, tallies[i]))
            for i in range(THREADS)
        ]
        threads.append(threading.Thread(target=_clock, args=(fake, start)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert not any(thread.is_alive() for thread in threads)
        assert [e for t in tallies for e in t.errors] == []
        assert not fake.server_errors
        world = fake.world
        created = [run_id for t in tallies for run_id in t.created]
        # Every create answered is exactly one run: none lost, none doubled.
        assert len(created) == len(set(created)) == len(world.runs)
        assert set(created) == set(world.runs)
        # Every request is in the journal once, with its own request id, in order.
        journal = fake.calls
        assert len(journal) == sum(t.requests for t in tallies)
        assert len({call.request_id for call in journal}) == len(journal)
        assert [call.elapsed for call in journal] == sorted(call.elapsed for call in journal)
        # A cancel that was answered holds; the ledger adds up.
        for run_id in (r for t in tallies for r in t.cancelled):
            assert fake.run(run_id).status == "cancelled"
        operations = Counter(e.operation for e in fake.ledger)
        assert operations["training_a10g_per_minute"] == len(created)
        check_balances(world)
        check_charges(world)
        check_models(world)
        for client in {*clients, shared}:
            client.close()


async def test_concurrent_async_creates_lose_no_update() -> None:
    with FakePictograph(seed=4, balance_usd=10_000.0) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=20, classes=["a", "b"])
        fake.add_export(DATASET, EXPORT)
        async with fake.async_client(max_retries=0) as sdk:
            runs = await asyncio.gather(
                *(
                    sdk.training.create(
                        DATASET, EXPORT, pipeline_type="yolox", name=f"a{n}", wait=False
                    )
                    for n in range(THREADS * 5)
                )
            )
            cancelled = await asyncio.gather(
                *(sdk.training.cancel(run_id=run.id) for run in runs[::2])
            )

    assert len({run.id for run in runs}) == len(fake.world.runs) == THREADS * 5
    assert {run.status for run in cancelled} == {"cancelled"}
    check_balances(fake.world)
    check_charges(fake.world)


def test_a_second_fake_in_another_thread_is_refused_while_one_is_active() -> None:
    # Fakes are process-wide: a second one in another thread took over the first's
    # clients and clock (one thread's wait ran on the other's clock and timed out).
    refused: list[RuntimeError] = []

    def start_another() -> None:
        try:
            with FakePictograph(seed=2):
                pass
        except RuntimeError as error:
            refused.append(error)

    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        other = threading.Thread(target=start_another)
        other.start()
        other.join()
        # The thread's own code shares the test's fake: a Client() it builds reaches it.
        seen: list[int] = []
        reader = threading.Thread(
            target=lambda: seen.append(len(pictograph.Client().datasets.list()))
        )
        reader.start()
        reader.join()
        assert seen == [len(client.datasets.list())]
    [error] = refused
    assert "another thread has a FakePictograph active: fakes are process-wide" in str(error)
    # Once the first has stopped, another thread may start its own.
    started: list[bool] = []
    later = threading.Thread(
        # stop() answers nothing: the append records that the start and the stop both ran.
        target=lambda: started.append(FakePictograph(seed=3).start().stop() is None)  # type: ignore[func-returns-value]
    )
    later.start()
    later.join()
    assert started == [True]
