"""``pictograph-fake demo``: the training guide's path, run on an in-memory fake.

Everything goes through the real SDK: check the dataset, estimate the cost, start three
runs, watch them on the virtual clock (one is cancelled, one outgrows its GPU), then the
ledger with its pre-charges and refunds, the model, and virtual against wall time.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pictograph_testing.fake import FakePictograph

if TYPE_CHECKING:
    from typing import TextIO

    import pictograph
    from pictograph.models.training import TrainingRun

__all__ = ["run_demo"]

_TERMINAL = ("completed", "failed", "cancelled")
_BAR = 24


def _bar(progress: int) -> str:
    filled = _BAR * progress // 100
    return "█" * filled + "·" * (_BAR - filled)


def _line(run: TrainingRun) -> str:
    epochs = f"{run.current_epoch:>3}/{run.total_epochs}"
    return f"  {run.name:<18} {run.gpu_type:<5} {run.status:<10} [{_bar(run.progress)}] " + (
        f"{run.progress:>3}%  epoch {epochs}"
    )


def run_demo(*, seed: int = 1, out: TextIO) -> None:
    """Train on a fresh fake through the real SDK and write what happened to ``out``."""
    wall_start = time.perf_counter()

    def say(text: str = "") -> None:
        out.write(text + "\n")

    with FakePictograph(seed=seed) as fake:
        fake.add_dataset("road-signs", images=120, completed_images=96, classes=["stop", "yield"])
        fake.add_export("road-signs", "road-signs-20260512-120000", status_filter="complete")
        client = fake.client()

        dataset = client.datasets.get("road-signs")
        say(f"dataset {dataset.name!r}: {dataset.completed_image_count} completed images")
        estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)
        say(
            f"estimate: 30 a10g minutes cost ${estimate.total_micro_usd / 1e6:.2f} "
            f"(sufficient: {estimate.sufficient}); balance ${fake.balance_usd:.2f}"
        )

        runs = [
            _start(client, "yolox-run-1", "yolox", "a10g", {"epochs": 50}),
            _start(client, "rfdetr-large", "rfdetr_detection", "a10g", {"model_size": "large"}),
            _start(client, "yolox-cancelled", "yolox", "a10g", {"epochs": 200}),
        ]
        timeline: dict[str, list[str]] = {run.id: [] for run in runs}
        say("\nwatching the runs on the virtual clock (a frame every 5 virtual minutes):")
        shown_at = -1.0
        while True:
            runs = [client.training.get(run.id) for run in runs]
            for run in runs:
                if not timeline[run.id] or timeline[run.id][-1].split()[-1] != run.status:
                    timeline[run.id].append(f"{fake.clock.now():%H:%M:%S} {run.status}")
            done = all(r.status in _TERMINAL for r in runs)
            if fake.clock.monotonic() != shown_at and (fake.clock.monotonic() % 300 == 0 or done):
                shown_at = fake.clock.monotonic()
                say(f"\n{fake.clock.now():%H:%M:%S} (+{fake.clock.monotonic() / 60:.0f} min)")
                for run in runs:
                    say(_line(run))
            if done:
                break
            if fake.clock.monotonic() >= 600 and runs[2].status not in _TERMINAL:
                client.training.cancel(runs[2].id)
                continue
            fake.clock.advance(minutes=1)

        say("\nstatus timeline:")
        for run in runs:
            say(f"  {run.name:<18} " + " → ".join(timeline[run.id]))
            if run.error_message:
                say(f"  {'':<18} {run.error_message}")

        say("\nledger, oldest first (µUSD):")
        for entry in reversed(client.credits.history()):
            run_name = next(
                (r.name for r in runs if r.id == (entry.metadata or {}).get("run_id")), ""
            )
            say(
                f"  {entry.operation:<26}{entry.amount:>+10}  balance {entry.balance_after:>11}"
                f"  {run_name}"
            )

        model = client.models.get(runs[0].model_id)
        say(
            f"\nmodel {model.name!r}: {model.architecture}, {model.model_type}, "
            f"metrics {model.metrics}"
        )
        say(
            f"\n{fake.clock.monotonic() / 60:.0f} virtual minutes in "
            f"{(time.perf_counter() - wall_start) * 1000:.0f} ms of wall time"
        )


def _start(
    client: pictograph.Client, name: str, pipeline: str, gpu: str, config: dict[str, object]
) -> TrainingRun:
    return client.training.create(
        dataset_name="road-signs",
        export_name="road-signs-20260512-120000",
        pipeline_type=pipeline,  # type: ignore[arg-type]
        name=name,
        config=config,
        gpu_type=gpu,  # type: ignore[arg-type]
        wait=False,
    )
