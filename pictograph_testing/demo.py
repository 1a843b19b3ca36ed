"""``pictograph-fake demo``: the training guide's path, run on an in-memory fake.

Everything goes through the real SDK, as a user's script would: create a dataset,
upload generated road-sign images, annotate them, mark them complete, export (waiting
on the virtual clock), estimate the cost, start three runs and watch them (one is
cancelled, one outgrows its GPU), then the ledger with its pre-charges and refunds, the
model's ONNX weights, and virtual against wall time.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pictograph_testing.catalog import MICRO_USD
from pictograph_testing.fake import FakePictograph

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from typing import TextIO

    import pictograph
    from pictograph.models.training import TrainingRun

__all__ = ["run_demo"]

DATASET = "road-signs"
EXPORT = "road-signs-v1"
IMAGES = 12
_TERMINAL = ("completed", "failed", "cancelled")
_BAR = 24
_FRAME_SECONDS = 120
"""Virtual seconds between two frames of the progress display."""
_CANCEL_AT_SECONDS = 600
"""When the demo changes its mind about the long run (virtual seconds since the start)."""


def _bar(progress: int) -> str:
    filled = _BAR * progress // 100
    return "█" * filled + "·" * (_BAR - filled)


def _line(run: TrainingRun) -> str:
    epochs = f"{run.current_epoch:>3}/{run.total_epochs}"
    return f"  {run.name:<16} {run.gpu_type:<5} {run.status:<10} [{_bar(run.progress)}] " + (
        f"{run.progress:>3}%  epoch {epochs}"
    )


def _sign(path: Path, shade: int, kind: str) -> tuple[float, float, float, float]:
    """Draw a small road-sign picture; return the sign's box (x, y, w, h) in pixels."""
    from PIL import Image, ImageDraw

    width, height = 96, 72
    picture = Image.new("RGB", (width, height), (90 + shade % 60, 130, 90))
    draw = ImageDraw.Draw(picture)
    x, y, size = 12 + shade % 40, 10 + shade % 20, 36
    if kind == "stop":
        draw.regular_polygon((x + size / 2, y + size / 2, size / 2), 8, fill=(200, 30, 30))
    else:
        draw.polygon([(x, y), (x + size, y), (x + size / 2, y + size)], fill=(240, 240, 240))
    picture.save(path)
    return float(x), float(y), float(size), float(size)


def run_demo(*, seed: int = 1, out: TextIO, report: str | os.PathLike[str] | None = None) -> None:
    """Run the guide's path on a fresh fake through the real SDK; write what happened.

    With ``report``, end by writing the world as an HTML report there (``fake.report``).
    """
    wall_start = time.perf_counter()

    def say(text: str = "") -> None:
        out.write(text + "\n")

    say("pictograph-fake demo: the training guide's path, through the real pictograph SDK,")
    say("on an in-memory fake (no network, virtual time)\n")
    with FakePictograph(seed=seed) as fake, tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        client = fake.client()
        _prepare(client, workdir, say)
        estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)
        say(
            f"5. estimate: 30 a10g minutes cost {_dollars(estimate.total_micro_usd)} "
            f"(sufficient: {estimate.sufficient}); balance {_dollars(fake.balance_micro_usd)}"
        )
        runs = [
            _start(client, "yolox-run-1", "yolox", {"epochs": 50}),
            _start(client, "rfdetr-large", "rfdetr_detection", {"model_size": "large"}),
            _start(client, "yolox-long", "yolox", {"epochs": 200}),
        ]
        runs = _watch(fake, client, runs, say)

        say("\nstatus timeline:")
        for run in runs:
            say(f"  {run.name:<16} " + " → ".join(_timeline(fake, run.id)))
            if run.error_message:
                say(f"  {'':<16} {run.error_message}")

        say("\nledger, oldest first:")
        entries = list(reversed(client.credits.history()))
        amounts = _aligned([_dollars(e.amount, signed=True) for e in entries])
        balances = _aligned([_dollars(e.balance_after) for e in entries])
        for entry, amount, balance in zip(entries, amounts, balances, strict=True):
            run_name = next(
                (r.name for r in runs if r.id == (entry.metadata or {}).get("run_id")), ""
            )
            say(f"  {entry.operation:<26}{amount}  balance {balance}  {run_name}")

        model = client.models.get(model_id=runs[0].model_id)
        weights = client.models.download(model_id=model.id, output_path=workdir / "model.onnx")
        say(
            f"\nmodel {model.name!r}: {model.architecture}, {model.model_type}, "
            f"metrics {model.metrics}"
        )
        say(f"  downloaded {weights.name}: {weights.stat().st_size:,} bytes, a real ONNX graph")
        say(
            f"\n{fake.clock.monotonic() / 60:.0f} virtual minutes and {len(fake.calls)} "
            f"requests in {(time.perf_counter() - wall_start) * 1000:.0f} ms of wall time"
        )
        if report is not None:
            say(f"\nreport: {fake.report(report, title='pictograph-fake demo')}")


def _dollars(micro_usd: int | None, *, signed: bool = False) -> str:
    """Write µUSD as dollars: to the cent, or to the µUSD where a charge is finer.

    Rounding to cents would hide half-cent GPU minutes and make the ledger's balances
    not add up on the page. ``None`` (a field the reply left out) is ``n/a``.
    """
    if micro_usd is None:
        return "n/a"
    sign = "-" if micro_usd < 0 else "+" if signed else ""
    whole, fraction = divmod(abs(micro_usd), MICRO_USD)
    cents = f"{fraction:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}${whole:,}.{cents}"


def _aligned(amounts: list[str]) -> list[str]:
    """Pad dollar amounts so their decimal points line up in a column."""
    split = [amount.partition(".") for amount in amounts]
    wholes = max((len(w) for w, _, _ in split), default=0)
    fractions = max((len(f) for _, _, f in split), default=0)
    return [f"{w:>{wholes}}{dot or ' '}{f:<{fractions}}" for w, dot, f in split]


def _prepare(client: pictograph.Client, workdir: Path, say: Callable[[str], None]) -> None:
    """Dataset, images, annotations, completion and export: what training needs first."""
    from pictograph import BBoxAnnotation, BoundingBox

    client.datasets.create(
        DATASET,
        annotation_types=["bbox"],
        classes=[{"name": "stop", "type": "bbox"}, {"name": "yield", "type": "bbox"}],
    )
    say(f"1. dataset {DATASET!r} created, classes stop and yield")
    image_ids = []
    for n in range(IMAGES):
        kind = ("stop", "yield")[n % 2]
        path = workdir / f"{kind}-{n:02d}.png"
        x, y, w, h = _sign(path, 7 * n, kind)
        image = client.images.upload(DATASET, path)
        client.annotations.save(
            DATASET,
            image.filename,
            [BBoxAnnotation(name=kind, bounding_box=BoundingBox(x=x, y=y, w=w, h=h))],
        )
        image_ids.append(image.id)
    say(f"2. uploaded {IMAGES} generated images (signed URL, PUT, register) and boxed each sign")
    client.batch.update(DATASET, image_ids, status="complete")
    dataset = client.datasets.get(DATASET)
    say(
        f"3. marked them complete: completed_image_count {dataset.completed_image_count} "
        "(the guide wants at least 5)"
    )
    export = client.exports.create(DATASET, EXPORT, status_filter="complete", wait=True)
    say(
        f"4. export {export.name!r} {export.status} (waited on the virtual clock): "
        f"{export.image_count} images, {export.annotation_count} annotations"
    )


def _watch(
    fake: FakePictograph,
    client: pictograph.Client,
    runs: list[TrainingRun],
    say: Callable[[str], None],
) -> list[TrainingRun]:
    """Poll every virtual minute, draw a frame now and then, cancel the long run."""
    start = fake.clock.monotonic()
    say(
        f"\ntraining three runs on simulated GPUs "
        f"(a frame every {_FRAME_SECONDS // 60} virtual minutes):"
    )
    shown_at = -1.0
    while True:
        runs = [client.training.get(run_id=run.id) for run in runs]
        elapsed = fake.clock.monotonic() - start
        done = all(r.status in _TERMINAL for r in runs)
        if elapsed != shown_at and (elapsed % _FRAME_SECONDS == 0 or done):
            shown_at = elapsed
            say(f"\n{fake.clock.now():%H:%M:%S} (+{elapsed / 60:.0f} min)")
            for run in runs:
                say(_line(run))
        if done:
            return runs
        if elapsed >= _CANCEL_AT_SECONDS and runs[2].status not in _TERMINAL:
            client.training.cancel(run_id=runs[2].id)
            say(f"  … cancelling {runs[2].name}: its refund shows in the ledger")
            continue
        fake.clock.advance(minutes=1)


def _timeline(fake: FakePictograph, run_id: str) -> list[str]:
    """The run's statuses as the polls saw them, each with the virtual time it was first seen."""
    seen: list[str] = []
    last = ""
    for call in fake.calls.filter(path=f"/api/v1/developer/training/{run_id}*"):
        body = call.response_json()
        status = body["data"]["status"] if isinstance(body, dict) and "data" in body else ""
        if status and status != last:
            seen.append(f"{call.at:%H:%M:%S} {status}")
            last = status
    return seen


def _start(
    client: pictograph.Client, name: str, pipeline: str, config: dict[str, object]
) -> TrainingRun:
    return client.training.create(
        dataset_name=DATASET,
        export_name=EXPORT,
        pipeline_type=pipeline,  # type: ignore[arg-type]
        name=name,
        config=config,
        gpu_type="a10g",
        wait=False,
    )
