"""Core benchmark: the fake's per-call cost against a static-mock floor, and virtual waits.

Run with ``python benchmarks/bench_core.py`` (``--quick`` for fewer rounds). It prints:

- the per-call cost of ``client.training.get`` against the fake, as a ratio to the same
  call against a static ``httpx.MockTransport`` that returns a canned body (the floor:
  what the SDK itself costs); both are measured in the same run, interleaved;
- the wall time of ``create(wait=True)`` for a ~30-minute simulated run polled at the
  default 5 s interval;
- the wall time until ``PollTimeoutError`` after a 7,200 s virtual wait.

Targets (issue "Core fake"): ratio <= 1.25x, create-and-wait < 50 ms, poll timeout < 250 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pictograph

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from collections.abc import Callable

DATASET, EXPORT = "road-signs", "v1"


def _world(**kwargs: object) -> FakePictograph:
    fake = FakePictograph(seed=1, **kwargs)  # type: ignore[arg-type]
    fake.add_dataset(DATASET, images=100, completed_images=100, classes=["stop", "yield"])
    fake.add_export(DATASET, EXPORT)
    return fake


def _per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def canned_get(fake: FakePictograph, run_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and body the fake answers to ``GET`` of that run, right now."""
    return fake.api.handle(
        "GET", f"/api/v1/developer/training/{run_id}", {"x-api-key": fake.api_key}, b""
    )


def static_floor(
    fake: FakePictograph, canned: tuple[int, list[tuple[str, str]], bytes]
) -> pictograph.Client:
    """A client like the fake's own whose transport is a static mock answering ``canned``.

    Only the transport differs from the fake's client, so a ratio against it is the
    fake's own cost.
    """
    status, headers, body = canned
    floor_client = fake.client(max_retries=0)
    floor_client._transport._client._transport = httpx.MockTransport(
        lambda _: httpx.Response(status, headers=headers, content=body)
    )
    return floor_client


def bench_get_ratio(rounds: int, calls: int) -> tuple[float, float, float]:
    """Median per-call seconds against the fake and the floor, and the median ratio."""
    with _world() as fake:
        client = fake.client(max_retries=0)
        run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
        fake.clock.advance(minutes=3)  # a running run: the live fields are computed
        floor_client = static_floor(fake, canned_get(fake, run.id))

        def on_fake() -> object:
            return client.training.get(run_id=run.id)

        def on_floor() -> object:
            return floor_client.training.get(run_id=run.id)

        for fn in (on_fake, on_floor):
            _per_call(fn, calls // 4)  # warm up
        fakes, floors, ratios = [], [], []
        for _ in range(rounds):
            f = _per_call(on_fake, calls)
            s = _per_call(on_floor, calls)
            fakes.append(f)
            floors.append(s)
            ratios.append(f / s)
    return statistics.median(fakes), statistics.median(floors), statistics.median(ratios)


def bench_create_wait(rounds: int) -> tuple[float, float, int]:
    """Best wall ms of create(wait=True) of a ~30-minute run; its virtual minutes; polls."""
    walls = []
    virtual = 0.0
    polls = 0
    for _ in range(rounds):
        with _world() as fake:
            client = fake.client(max_retries=0)
            requests_before = len(fake.calls)
            start = time.perf_counter()
            run = client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 128}
            )
            walls.append(time.perf_counter() - start)
            assert run.status == "completed"
            virtual = fake.clock.monotonic() / 60
            polls = len(fake.calls) - requests_before - 1
    return min(walls) * 1000, virtual, polls


def bench_poll_timeout(rounds: int) -> tuple[float, int]:
    """Best wall ms until PollTimeoutError after a 7,200 s virtual wait; polls made."""
    walls = []
    polls = 0
    for _ in range(rounds):
        with _world() as fake:
            client = fake.client(max_retries=0)
            run = client.training.create(
                DATASET,
                EXPORT,
                pipeline_type="yolox",
                name="r",
                config={"epochs": 900},
                wait=False,
            )
            requests_before = len(fake.calls)
            start = time.perf_counter()
            try:
                client.training.wait_for_completion(run.id, timeout=7200.0)
            except pictograph.exceptions.PollTimeoutError:
                walls.append(time.perf_counter() - start)
            else:
                raise AssertionError("expected PollTimeoutError")
            assert fake.clock.monotonic() == 7200.0
            polls = len(fake.calls) - requests_before
    return min(walls) * 1000, polls


def bench_full_path(rounds: int) -> tuple[float, int]:
    """Best wall ms of the documented path from image files to ONNX weights; its requests."""
    from pictograph import BBoxAnnotation, BoundingBox
    from PIL import Image

    walls = []
    requests = 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        files = []
        for n in range(5):
            path = folder / f"img{n}.png"
            Image.new("RGB", (64, 48), (40 * n, 90, 160)).save(path)
            files.append(path)
        for round_number in range(rounds):
            with FakePictograph(seed=1) as fake:
                start = time.perf_counter()
                client = fake.client(max_retries=0)
                dataset = client.datasets.create(
                    "ds1", annotation_types=["bbox"], classes=[{"name": "thing", "type": "bbox"}]
                )
                ids = []
                for path in files:
                    image = client.images.upload(dataset.id, path)
                    client.annotations.save(
                        "ds1",
                        image.filename,
                        [
                            BBoxAnnotation(
                                name="thing", bounding_box=BoundingBox(x=4, y=4, w=20, h=16)
                            )
                        ],
                    )
                    ids.append(image.id)
                client.batch.update("ds1", ids, status="complete")
                assert client.datasets.get("ds1").completed_image_count == 5
                client.exports.create("ds1", "exp1", status_filter="complete", wait=True)
                run = client.training.create(
                    "ds1", "exp1", pipeline_type="yolox", name="run1", config={"epochs": 1}
                )
                client.models.get(model_id=run.model_id)
                client.models.download(
                    model_id=run.model_id, output_path=folder / f"m{round_number}.onnx"
                )
                walls.append(time.perf_counter() - start)
                requests = len(fake.calls)
    return min(walls) * 1000, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (for CI)")
    args = parser.parse_args()
    rounds, calls = (3, 1000) if args.quick else (7, 3000)

    fake_s, floor_s, ratio = bench_get_ratio(rounds, calls)
    wait_ms, virtual_min, polls = bench_create_wait(rounds)
    timeout_ms, timeout_polls = bench_poll_timeout(rounds)
    path_ms, path_requests = bench_full_path(rounds)

    print("pictograph-testing core benchmark")
    print(
        f"  training.get per call: fake {fake_s * 1e6:.1f} us, static-mock floor "
        f"{floor_s * 1e6:.1f} us, ratio {ratio:.3f}x (target <= 1.25x)"
    )
    print(
        f"  create(wait=True) of a {virtual_min:.1f}-virtual-minute run ({polls} polls at 5 s): "
        f"{wait_ms:.1f} ms wall (target < 50 ms)"
    )
    print(
        f"  PollTimeoutError after 7200 s virtual ({timeout_polls} polls): "
        f"{timeout_ms:.1f} ms wall (target < 250 ms)"
    )
    print(
        f"  full path, 5 image files to downloaded ONNX weights: {path_ms:.1f} ms wall, "
        f"{path_requests} requests"
    )


if __name__ == "__main__":
    main()
