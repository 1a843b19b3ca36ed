"""Scale benchmark: what a request costs as the world grows.

Run with ``python benchmarks/bench_scale.py`` (worlds of 100, 1,000 and 10,000 runs;
``--quick``: 100 and 1,000, for CI). Each size is one world: one dataset holding as many
images as the world has runs, that many runs created (queued on ``2 x size`` workers of
one tier, so every run trains at once) and then completed by one clock move (the
*catch-up*, timed once per size: whole-world work, it grows about ``N``). Then, on the
finished world, interleaved rounds of the per-request calls through the real SDK:

- ``training.iter``: one page of 50 runs (the cost per page of iterating them all);
- ``jobs.list``: the first page of the jobs feed;
- ``training.get``: one run by id;
- ``models.list``: the newest 50 models;
- ``datasets.list`` and ``images.list(100)``;
- ``credits.history``: the newest 50 ledger entries.

Printed: the median in microseconds per call per size, and the growth between the
smallest and the largest size (``x1`` is flat: the cost does not grow with the world).
The ratio is what to read; absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import TYPE_CHECKING

from pictograph_testing import FakePictograph
from pictograph_testing.world.training import RunRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    import pictograph

DATASET, EXPORT, TIER = "road-signs", "road-signs-v1", "a10g"


def build(size: int) -> tuple[FakePictograph, float]:
    """A world of ``size`` completed runs; return it and the catch-up's seconds."""
    fake = FakePictograph(seed=7, balance_usd=1e9, gpu_workers={TIER: 2 * size})
    fake.add_dataset(DATASET, images=size, completed_images=size)
    fake.add_export(DATASET, EXPORT, status_filter="complete")
    world = fake.world
    request = RunRequest(DATASET, EXPORT, "yolox", TIER, {"epochs": 1}, name="scale")
    with world.lock:
        for _ in range(size):
            world.training.create(world.default_key, request)
    fake.clock.advance(hours=48)
    gc.collect()
    started = time.perf_counter()
    with world.lock:
        world.catch_up()
    return fake, time.perf_counter() - started


def calls(client: pictograph.Client, run_id: str, size: int) -> dict[str, Callable[[], object]]:
    """The per-request operations, each one SDK call (or one page)."""
    return {
        # A page from the middle: iterating every run costs N/50 of these.
        "training.iter (a page of 50)": lambda: client.training.list(limit=50, offset=size // 2),
        "jobs.list (first page)": lambda: next(iter(client.jobs.list(status="all"))),
        "training.get": lambda: client.training.get(run_id),
        "models.list(50)": lambda: client.models.list(limit=50),
        "datasets.list": lambda: client.datasets.list(),
        "images.list(100)": lambda: client.images.list(DATASET, limit=100),
        "credits.history(50)": lambda: client.credits.history(limit=50),
    }


def measure(sizes: list[int], rounds: int) -> dict[str, dict[int, float]]:
    """Median seconds per operation per size (rounds interleaved across sizes)."""
    worlds: dict[int, FakePictograph] = {}
    results: dict[str, dict[int, float]] = {"catch-up (complete N runs)": {}}
    for size in sizes:
        fake, seconds = build(size)
        worlds[size] = fake
        results["catch-up (complete N runs)"][size] = seconds
    clients = {size: fake.client() for size, fake in worlds.items()}
    ops = {
        size: calls(clients[size], next(iter(fake.world.runs)), size)
        for size, fake in worlds.items()
    }
    samples: dict[str, dict[int, list[float]]] = {}
    for _ in range(rounds):
        for size in sizes:
            for name, op in ops[size].items():
                started = time.perf_counter()
                op()
                samples.setdefault(name, {}).setdefault(size, []).append(
                    time.perf_counter() - started
                )
    for name, per_size in samples.items():
        results[name] = {size: statistics.median(times) for size, times in per_size.items()}
    for client in clients.values():
        client.close()
    return results


def report(results: dict[str, dict[int, float]], sizes: list[int]) -> None:
    """Print µs per call per size and the growth from the smallest to the largest size."""
    width = max(len(name) for name in results)
    header = "".join(f"{size:>12,}" for size in sizes)
    print(f"{'operation (median µs)':<{width}}{header}{'growth':>10}")
    for name, per_size in results.items():
        row = "".join(f"{per_size[size] * 1e6:>12,.0f}" for size in sizes)
        growth = per_size[sizes[-1]] / per_size[sizes[0]]
        print(f"{name:<{width}}{row}{'x' + format(growth, '.1f'):>10}")
    print(f"(sizes: runs = images = models; growth: {sizes[-1]:,} over {sizes[0]:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 100 and 1,000 (CI)")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    rounds = 15 if args.quick else 31
    report(measure(sizes, rounds), sizes)


if __name__ == "__main__":
    main()
