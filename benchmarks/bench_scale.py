"""Scale benchmark: what a request costs as the world grows.

Run with ``python benchmarks/bench_scale.py`` (worlds of 100, 1,000 and 10,000 runs;
``--quick``: 100 and 1,000, for CI; ``--markdown``: only the table, in Markdown, for
``docs/benchmarks.md``). Each size ``N`` is three worlds:

- a *finished* one: one dataset holding ``N`` images, ``N`` runs created (queued on
  ``2 x N`` workers of one tier, so every run trains at once) and then completed by one
  clock move (the *catch-up*, timed once per size: whole-world work, it grows about
  ``N``; reported per size and per run);
- a *busy* one: ``N`` runs training at once on ``N`` workers, none near its end;
- a *ledger* of ``10 x N`` entries (100,000 at the largest size), top-ups and debits of
  two operations in turn;
- after the catch-up, the finished world also gets a deployment of each of its ``N``
  models and ``N`` model evaluations (queued or running: none ends while its clock
  stands), a fourth world holds ``N`` webhook deliveries of one endpoint, and a fifth a
  workflow run over ``N`` images (its log: ``N`` frames, their events and stats).

Then, interleaved across sizes, rounds of the per-request calls through the real SDK:

- ``training.get`` on the busy world just after ``clock.advance`` (the next request
  pays the catch-up of a clock move that ends nothing);
- ``training.iter``: one page of 50 runs (the cost per page of iterating them all), and
  a page of the runs filtered by status;
- ``jobs.list``: the first page of the jobs feed, and the feed filtered by a status
  none of the ``N`` runs has (``failed``);
- ``notifications.list(unread_only=True)``: a page of the ``N`` unread notifications
  the completed runs left;
- ``training.get``: one run by id;
- ``models.list(50)`` (and a page from the middle of those of one type),
  ``datasets.list`` and ``images.list(100)`` (and pages from the middle of the images
  of one stage, and of one split); ``images.get`` by filename; ``images.delete`` of one
  image for good;
- ``exports.get`` of an export of ``N`` images, each round a fresh one (its
  ``file_size`` is sized, never built);
- ``credits.balance``, ``credits.history(50)`` and ``credits.usage_by_operation`` (this
  month's, and ever) against the ledger world;
- ``deployments.list`` (the first page, and a page of those provisioning),
  ``model_evaluations.list`` and ``webhooks.deliveries`` (the first page, and a page of
  those delivered);
- ``workflows.run_log``: the newest page of 50 frames, and the page after a cursor half
  way through (reading the log page by page costs ``N/50`` of these), and
  ``workflows.run_log_summary``.

Printed: the median in microseconds per call per size, the growth from the smallest
to the largest size (``x1`` is flat) and the fitted growth exponent ``k`` of
``time ~ N^k`` (0: flat; 1: linear), and the memory a run holds once completed (per
1,000 runs, from ``tracemalloc``). The ratios are what to read; absolute times depend
on the machine.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

from pictograph_testing import FakePictograph
from pictograph_testing.world.training import RunRequest

if TYPE_CHECKING:
    import pictograph

DATASET, EXPORT, TIER = "road-signs", "road-signs-v1", "a10g"
CATCH_UP = "catch-up: complete N runs (per run)"
LEDGER_PER_RUN = 10
"""Ledger entries per run of the size: 100,000 at 10,000."""
LEDGER_DEBITS = ("inference_image", "training_a10g")
EVALUATED, EVALUATED_EXPORT = "held-out", "held-out-v1"
HOOK = "https://hooks.example.com/scale"


def build(size: int) -> tuple[FakePictograph, float]:
    """A world of ``size`` completed runs; return it and the catch-up's seconds."""
    fake = _world_with_runs(size, workers=2 * size, epochs=1)
    fake.clock.advance(hours=48)
    gc.collect()
    world = fake.world
    started = time.perf_counter()
    with world.lock:
        world.catch_up()
    return fake, time.perf_counter() - started


def _world_with_runs(size: int, *, workers: int, epochs: int) -> FakePictograph:
    fake = FakePictograph(seed=7, balance_usd=1e9, gpu_workers={TIER: workers})
    fake.add_dataset(DATASET, images=size, completed_images=size)
    fake.add_export(DATASET, EXPORT, status_filter="complete")
    world = fake.world
    request = RunRequest(DATASET, EXPORT, "yolox", TIER, {"epochs": epochs}, name="scale")
    with world.lock:
        for _ in range(size):
            world.training.create(world.default_key, request)
    return fake


def after_training(fake: FakePictograph) -> None:
    """Deploy each of the finished world's models, and evaluate each on a small export.

    The clock stands from here on, so every deployment stays ``provisioning`` and every
    evaluation queued or running: the listings read them as they are.
    """
    fake.add_dataset(EVALUATED, images=10, completed_images=10)
    export = fake.add_export(EVALUATED, EVALUATED_EXPORT, status_filter="complete")
    world = fake.world
    key = world.default_key
    with world.lock:
        for number, model in enumerate(list(world.models.values())):
            world.deployments.create(
                key,
                model,
                name=f"deployed-{number}",
                region="auto",
                gpu_type="t4",
                precision="fp32",
                min_containers=0,
                max_containers=1,
                scaledown_window=60,
                rate_limit_rpm=None,
                inference_config={},
            )
            world.evaluations.create(
                key, model, export, iou_threshold=0.5, confidence_threshold=0.5
            )


def hooks(size: int) -> FakePictograph:
    """A world whose one webhook endpoint has ``size`` deliveries, all delivered."""
    fake = FakePictograph(seed=7)
    fake.webhooks.route(HOOK, lambda request: 200)
    with fake.client() as client:
        client.webhooks.create(HOOK, event_types=["export.ready"])
        world = fake.world
        with world.lock:
            for _ in range(size):
                world.feeds.notify(
                    world.default_org.id, "export_ready", "Export ready", at=world.now()
                )
        client.webhooks.deliveries(limit=1)  # a request sends every attempt due
    return fake


def logged_run(size: int) -> tuple[FakePictograph, str, str]:
    """A world whose one workflow ran over a dataset of ``size`` images (a Model block,
    a Track, a zone, an Output): the run's id, and the cursor of the log's page that ends
    half way through its frames."""
    fake = FakePictograph(seed=7, balance_usd=1e9)
    fake.add_dataset(DATASET, images=size, completed_images=size)
    fake.add_export(DATASET, EXPORT, status_filter="complete")
    with fake.client() as client:
        # The fake is not active here, so the SDK's waits would sleep: its clock is moved.
        # Few epochs: 50 over 10,000 images outlast the training service's 2-hour limit.
        trained = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="signs", config={"epochs": 2}, wait=False
        )
        # Training takes longer the more images: move on until it is done.
        while (trained := client.training.get(run_id=trained.id)).status != "completed":
            assert trained.status in ("pending", "queued", "running"), trained.status
            fake.clock.advance(hours=12)
        nodes = [
            {"id": "src", "type": "source", "config": {"kind": "dataset", "dataset": DATASET}},
            {"id": "det", "type": "model", "config": {"model": "signs"}},
            {"id": "trk", "type": "track", "config": {}},
            {
                "id": "lot",
                "type": "measure",
                "config": {"geometries": [{"kind": "zone", "name": "Lot"}]},
            },
            {"id": "out", "type": "output", "config": {}},
        ]
        edges = [{"source": a["id"], "target": b["id"]} for a, b in itertools.pairwise(nodes)]
        client.workflows.create("scale", {"version": 1, "nodes": nodes, "edges": edges})
        started = client.workflows.run("scale")
        while (run := client.workflows.get_run(started.run_id)).status != "completed":
            fake.clock.advance(hours=1)
        cursor, read = None, 0
        while read < size // 2:
            page = client.workflows.run_log(
                run.id, stream="frames", limit=min(200, size // 2 - read), cursor=cursor
            )
            read, cursor = read + len(page.records), page.next_cursor
        assert cursor is not None
    return fake, run.id, cursor


def busy(size: int) -> FakePictograph:
    """A world of ``size`` runs all training on ``size`` workers, far from their ends."""
    fake = _world_with_runs(size, workers=size, epochs=300)
    fake.clock.advance(minutes=10)  # past the cold start: every run is training
    return fake


def ledger(size: int) -> FakePictograph:
    """A world whose ledger holds ``LEDGER_PER_RUN x size`` entries: a top-up, then a
    debit of each of two operations, in turn."""
    fake = FakePictograph(seed=7, balance_usd=10)
    world = fake.world
    org = world.default_org
    with world.lock:
        for number in range(LEDGER_PER_RUN * size):
            if number % 3 == 0:
                world.billing.top_up(org, 2)
            else:
                operation = LEDGER_DEBITS[number % 3 - 1]
                world.billing.post(org, operation, -1, description="A debit")
    return fake


def memory_per_thousand_runs(size: int = 1000) -> float:
    """Bytes a world holds per 1,000 completed runs (runs, models, ledger, feed...)."""
    fake = FakePictograph(seed=7, balance_usd=1e9, gpu_workers={TIER: 2 * size})
    fake.add_dataset(DATASET, images=10, completed_images=10)
    fake.add_export(DATASET, EXPORT, status_filter="complete")
    world = fake.world
    request = RunRequest(DATASET, EXPORT, "yolox", TIER, {"epochs": 1}, name="scale")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    with world.lock:
        for _ in range(size):
            world.training.create(world.default_key, request)
        fake.clock.advance(hours=48)
        world.catch_up()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held * 1000 / size


class Prepared(NamedTuple):
    """An operation whose set-up is not timed: ``timed(prepare())``."""

    prepare: Callable[[], Any]
    timed: Callable[[Any], object]


Operation: TypeAlias = Callable[[], object] | Prepared


def calls(
    client: pictograph.Client,
    fake: FakePictograph,
    busy_fake: FakePictograph,
    busy_client: pictograph.Client,
    ledger_client: pictograph.Client,
    hooks_client: pictograph.Client,
    logged: tuple[pictograph.Client, str, str],
    size: int,
) -> dict[str, Operation]:
    """The per-request operations, each one SDK call (or one page)."""
    log_client, logged_id, half_way = logged
    run_id = next(iter(fake.world.runs))
    busy_id = next(iter(busy_fake.world.runs))
    exports = iter(range(1_000_000))

    def after_advance() -> object:
        busy_fake.clock.advance(seconds=1)
        return busy_client.training.get(busy_id)

    def fresh_export() -> str:
        name = f"sized-{next(exports)}"
        fake.add_export(DATASET, name)
        return name

    # One image archived (the newest): a plain page steps over it, and only it.
    client.images.delete(DATASET, client.images.list(DATASET, limit=1)[0].id)
    named = client.images.list(DATASET, limit=1, offset=size // 2)[0].filename
    # Every image in a split: a page by split (or stage) reads its own index.
    client.images.assign_splits(DATASET, train=70, val=20, test=10)

    def a_live_image() -> str:
        # From the middle, another each round, always older than the named one (which
        # stays at its offset).
        return str(client.images.list(DATASET, limit=1, offset=size // 2 + 1)[0].id)

    return {
        "training.get after clock.advance (N busy runs)": after_advance,
        # A page from the middle: iterating every run costs N/50 of these.
        "training.iter (a page of 50)": lambda: client.training.list(limit=50, offset=size // 2),
        "training.list(status=completed, 50)": lambda: client.training.list(
            status="completed", limit=50, offset=size // 2
        ),
        "jobs.list (first page)": lambda: next(iter(client.jobs.list(status="all"))),
        # No run failed: the filter finds nothing, without reading the N that completed.
        "jobs.list(status=failed) (none of N)": lambda: list(client.jobs.list(status="failed")),
        # Every completed run left an unread notification.
        "notifications.list(unread_only, 50) (N unread)": lambda: client.notifications.list(
            unread_only=True, limit=50
        ),
        "training.get": lambda: client.training.get(run_id),
        "models.list(50)": lambda: client.models.list(limit=50),
        "models.list(model_type=object_detection, 50)": lambda: client.models.list(
            model_type="object_detection", limit=50, offset=size // 2
        ),
        "datasets.list": lambda: client.datasets.list(),
        "images.list(100) (one of N archived)": lambda: client.images.list(DATASET, limit=100),
        # Pages a quarter of the way in, of 50 images of one stage (all are complete),
        # and of 20 of one split (70 % are in train).
        "images.list(status=complete, 50)": lambda: client.images.list(
            DATASET, status="complete", limit=50, offset=size // 4
        ),
        "images.list(split=train, 20)": lambda: client.images.list(
            DATASET, split="train", limit=20, offset=size // 4
        ),
        "images.delete(permanent) (one of N)": Prepared(
            a_live_image, lambda image_id: client.images.delete(DATASET, image_id, permanent=True)
        ),
        # What the SDK resolves a filename with (annotation comments, similarity search).
        "images.get(filename)": lambda: client.images.get(DATASET, named),
        "exports.get (N images, first get)": Prepared(
            fresh_export, lambda name: client.exports.get(DATASET, name)
        ),
        "credits.balance (ledger 10 x N)": lambda: ledger_client.credits.balance(),
        "credits.history(50) (ledger 10 x N)": lambda: ledger_client.credits.history(limit=50),
        "credits.usage_by_operation (ledger 10 x N)": lambda: (
            ledger_client.credits.usage_by_operation()
        ),
        "credits.usage_by_operation(all) (ledger 10 x N)": lambda: (
            ledger_client.credits.usage_by_operation(range="all")
        ),
        "deployments.list (first page of N)": lambda: client.deployments.list(limit=50),
        "deployments.list(status=provisioning, 50)": lambda: client.deployments.list(
            status="provisioning", limit=50, offset=size // 2
        ),
        "model_evaluations.list (first page of N)": lambda: client.model_evaluations.list(limit=50),
        "webhooks.deliveries (first page of N)": lambda: hooks_client.webhooks.deliveries(limit=50),
        "webhooks.deliveries(status=delivered, 50)": lambda: hooks_client.webhooks.deliveries(
            status="delivered", limit=50, offset=size // 2
        ),
        "workflows.run_log (newest 50 of N frames)": lambda: log_client.workflows.run_log(
            logged_id, stream="frames", limit=50, order="desc"
        ),
        "workflows.run_log (50 frames after a cursor half way)": lambda: (
            log_client.workflows.run_log(logged_id, stream="frames", limit=50, cursor=half_way)
        ),
        "workflows.run_log_summary (N frames)": lambda: log_client.workflows.run_log_summary(
            logged_id
        ),
    }


def measure(sizes: list[int], rounds: int) -> dict[str, dict[int, float]]:
    """Median seconds per operation per size (rounds interleaved across sizes)."""
    results: dict[str, dict[int, float]] = {CATCH_UP: {}}
    ops: dict[int, dict[str, Operation]] = {}
    clients: list[pictograph.Client] = []
    for size in sizes:
        fake, seconds = build(size)
        results[CATCH_UP][size] = seconds / size
        after_training(fake)
        busy_fake, ledger_fake, hooks_fake = busy(size), ledger(size), hooks(size)
        log_fake, logged_id, half_way = logged_run(size)
        made = [fake.client(), busy_fake.client(), ledger_fake.client(), hooks_fake.client()]
        made.append(log_fake.client())
        clients += made
        logged = (made[4], logged_id, half_way)
        ops[size] = calls(made[0], fake, busy_fake, made[1], made[2], made[3], logged, size)
    samples: dict[str, dict[int, list[float]]] = {}
    for _ in range(rounds):
        for size in sizes:
            for name, op in ops[size].items():
                if isinstance(op, Prepared):
                    prepared = op.prepare()
                    started = time.perf_counter()
                    op.timed(prepared)
                else:
                    started = time.perf_counter()
                    op()
                samples.setdefault(name, {}).setdefault(size, []).append(
                    time.perf_counter() - started
                )
    for name, per_size in samples.items():
        results[name] = {size: statistics.median(times) for size, times in per_size.items()}
    for client in clients:
        client.close()
    return results


def exponent(per_size: dict[int, float]) -> float:
    """The least-squares slope of log(time) over log(size): ``k`` in ``time ~ N^k``."""
    points = [(math.log(size), math.log(seconds)) for size, seconds in per_size.items()]
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def _rows(results: dict[str, dict[int, float]], sizes: list[int]) -> list[list[str]]:
    rows = []
    for name, per_size in results.items():
        growth = per_size[sizes[-1]] / per_size[sizes[0]]
        rows.append(
            [
                name,
                *(f"{per_size[size] * 1e6:,.1f}" for size in sizes),
                f"x{growth:.1f}",
                f"{exponent(per_size):+.2f}",
            ]
        )
    return rows


def report(results: dict[str, dict[int, float]], sizes: list[int], memory: float) -> None:
    """Print µs per call per size, the growth and the fitted exponent; then the memory."""
    rows = _rows(results, sizes)
    width = max(len(row[0]) for row in rows)
    header = "".join(f"{size:>12,}" for size in sizes)
    print(f"{'operation (median µs)':<{width}}{header}{'growth':>9}{'k':>7}")
    for name, *cells, growth, k in rows:
        print(f"{name:<{width}}{''.join(f'{c:>12}' for c in cells)}{growth:>9}{k:>7}")
    print(f"(sizes: N runs = images = models = frames; growth: {sizes[-1]:,} over {sizes[0]:,};")
    print(" k: fitted exponent of time ~ N^k, 0 flat, 1 linear)")
    print(f"memory per 1,000 completed runs: {memory / 2**20:.2f} MiB")


HEADING = "Scale: cost as the world grows"
"""The section this script writes in docs/benchmarks.md (``--markdown``)."""


def markdown(results: dict[str, dict[int, float]], sizes: list[int], memory: float) -> None:
    """Print the same figures as this script's section of ``docs/benchmarks.md``."""
    print(f"## {HEADING}")
    print()
    print(
        "`python benchmarks/bench_scale.py`: for each size N, a world of N runs completed by "
        "one clock move (the catch-up), then given a deployment of each of its N models and "
        "N model evaluations; a world of N runs training at once; a ledger of 10 x N "
        "entries; a world of N webhook deliveries; and a workflow run over N images; then, "
        "interleaved across sizes, the "
        "per-request calls through the real SDK. Figures are medians in µs per call (the "
        "catch-up per run completed)."
    )
    print()
    sized = " | ".join(f"N = {size:,}" for size in sizes)
    print(f"| operation (median µs per call) | {sized} | growth | k |")
    print("|---" * (len(sizes) + 3) + "|")
    for name, *cells, growth, k in _rows(results, sizes):
        print(f"| {name} | {' | '.join(cells)} | {growth} | {k} |")
    print()
    print(
        f"Growth: N = {sizes[-1]:,} over N = {sizes[0]:,}; k: the fitted exponent of "
        f"time ~ N^k (0: flat, 1: linear). Memory a completed run holds: "
        f"{memory / 2**20:.2f} MiB per 1,000 runs (tracemalloc)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 100 and 1,000 (CI)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    rounds = 15 if args.quick else 31
    results = measure(sizes, rounds)
    memory = memory_per_thousand_runs()
    (markdown if args.markdown else report)(results, sizes, memory)


if __name__ == "__main__":
    main()
