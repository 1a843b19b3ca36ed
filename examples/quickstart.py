"""Train a detector on the fake through the real SDK, and show what happened.

The training guide's path: check the dataset, estimate the cost, start a run, watch it
move through its statuses on the virtual clock, then read the ledger and fetch the model.
"""

from __future__ import annotations

import time

from pictograph_testing import FakePictograph


def main() -> None:
    wall_start = time.perf_counter()
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("road-signs", images=120, completed_images=96, classes=["stop", "yield"])
        fake.add_export("road-signs", "road-signs-20260512-120000", status_filter="complete")
        client = fake.client()

        dataset = client.datasets.get("road-signs")
        print(f"dataset {dataset.name}: {dataset.completed_image_count} completed images")
        estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)
        print(
            f"30 a10g minutes cost ${estimate.total_micro_usd / 1e6:.2f}; "
            f"sufficient: {estimate.sufficient}"
        )

        run = client.training.create(
            dataset_name="road-signs",
            export_name="road-signs-20260512-120000",
            pipeline_type="yolox",
            name="yolox-run-1",
            config={"epochs": 50},
            gpu_type="a10g",
            wait=False,
        )
        print(f"\n{'virtual time':<22}{'status':<11}{'epoch':>7}{'progress':>10}  metrics")
        while True:
            run = client.training.get(run.id)
            epoch = f"{run.current_epoch}/{run.total_epochs}"
            headline = ", ".join(f"{k}={v}" for k, v in run.metrics.items() if k != "epoch")
            print(
                f"{fake.clock.now():%H:%M:%S} (+{fake.clock.monotonic():>5.0f} s) "
                f"{run.status:<11}{epoch:>7}{run.progress:>9}%  {headline}"
            )
            if run.status in ("completed", "failed", "cancelled"):
                break
            fake.clock.advance(minutes=2)

        print("\nledger (newest first):")
        for entry in client.credits.history():
            print(
                f"  {entry.operation:<28}{entry.amount / 1e6:>+10.4f} USD  "
                f"balance {entry.balance_after / 1e6:.4f} USD"
            )
        model = client.models.get(run.model_id)
        print(
            f"\nmodel {model.name!r} ({model.architecture}, {model.model_type}), "
            f"classes {model.class_mapping}"
        )
        print(
            f"\n{fake.clock.monotonic() / 60:.1f} virtual minutes in "
            f"{(time.perf_counter() - wall_start) * 1000:.0f} ms of wall time"
        )


if __name__ == "__main__":
    main()
