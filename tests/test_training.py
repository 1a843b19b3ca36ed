"""Every training method of the real SDK (sync and async) against the fake.

The default run of these tests is YOLOX ``m`` on the fixture's 20-image export: 50 epochs
of a few seconds each on an A10G, after the tier's cold start. Time only moves when a test
advances the virtual clock or the SDK sleeps while waiting.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing.catalog import GPU_TIERS, SERVICE_CAP_SECONDS, profile_named
from tests.conftest import DATASET, EXPORT, create_past_the_cap

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph
    from pictograph.models.training import TrainingRun

A10G_COLD_START = GPU_TIERS["a10g"].cold_start_seconds
A100_COLD_START = GPU_TIERS["a100"].cold_start_seconds
CLASSIC = profile_named("classic")
CURRENT = profile_named("current")
CLASSIC_A10G_RATE = CLASSIC.rate("a10g")
CURRENT_A10G_RATE = CURRENT.rate("a10g")
RANK = {"pending": 0, "queued": 1, "running": 2, "completed": 3, "failed": 3, "cancelled": 3}
# Values the SDK's type hints rule out, sent anyway to see the API refuse them.
NO_NAME: Any = None
T4: Any = "t4"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def start(client: pictograph.Client, name: str = "run", **kwargs: Any) -> TrainingRun:
    """Create a YOLOX run on the fixture export without waiting for it."""
    kwargs.setdefault("pipeline_type", "yolox")
    return client.training.create(DATASET, EXPORT, name=name, wait=False, **kwargs)


def entries(fake: FakePictograph, operation: str) -> list[Any]:
    return [e for e in fake.ledger if e.operation == operation]


def raw_http(fake: FakePictograph, api_key: str | None = None) -> httpx.Client:
    """An httpx client on the fake, for requests the SDK would never send."""
    return httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"X-API-Key": api_key or fake.api_key},
    )


@pytest.fixture
def poor_current() -> Iterator[FakePictograph]:
    """A charge-on-success fake whose balance is below the $2.00 start gate."""
    with FakePictograph(seed=1, profile="current", balance_usd=1.5) as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


# ── create ──


def test_create_wait_returns_the_completed_run(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="yolox-run-1", config={"epochs": 50}
    )

    assert run.status == "completed"
    assert run.name == "yolox-run-1"
    assert UUID.match(run.id)
    assert run.model_id is not None
    assert run.progress == 100
    assert run.total_epochs == 50
    assert run.current_epoch == run.total_epochs
    assert run.training_time_seconds is not None
    assert run.training_time_seconds > 0
    assert run.started_at is not None
    assert run.completed_at is not None
    assert run.started_at - run.created_at == timedelta(seconds=A10G_COLD_START)
    assert (run.completed_at - run.started_at).total_seconds() == run.training_time_seconds
    assert run.metrics["epoch"] == 50
    assert 0 < run.metrics["mAP"] < 1
    assert run.error_message is None
    assert run.gpu_type == "a10g"
    assert run.pipeline_type == "yolox"
    # The SDK waited on the virtual clock: the run's whole life passed in no real time.
    assert fake.clock.monotonic() >= (run.completed_at - run.created_at).total_seconds()
    # The resulting model exists.
    model = client.models.get(model_id=run.model_id)
    assert model.id == run.model_id


async def test_async_create_wait_returns_the_completed_run(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="async-1")

    assert run.status == "completed"
    assert run.progress == 100
    assert run.current_epoch == run.total_epochs == 50
    assert run.model_id is not None
    assert run.training_time_seconds is not None
    assert run.started_at is not None
    assert run.completed_at is not None
    assert fake.clock.monotonic() > A10G_COLD_START


def test_create_without_wait_returns_a_queued_run(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "queued-1")

    assert run.status == "queued"
    assert run.progress == 0
    assert run.current_epoch == 0
    assert run.metrics == {}
    assert run.model_id is None
    assert run.started_at is None
    assert run.completed_at is None
    assert run.training_time_seconds is None
    assert run.created_at == fake.clock.now()
    assert fake.clock.monotonic() == 0


async def test_async_create_without_wait_returns_a_queued_run(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="aq", wait=False
    )
    assert run.status == "queued"
    assert fake.clock.monotonic() == 0


def test_create_without_a_name_defaults_to_pipeline_run_timestamp(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(minutes=90, seconds=7)
    # The guide: `name` may be None and then defaults to `<pipeline>-run-<ts>`.
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="classification", name=NO_NAME, wait=False
    )
    assert run.name == "classification-run-20260512-133007"
    assert client.training.get(run.name).id == run.id


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_create_refuses_an_empty_or_overlong_name(client: pictograph.Client, name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        start(client, name)
    assert caught.value.status_code == 422
    assert caught.value.field_errors[0]["loc"] == ["body", "name"]
    assert client.training.list() == []


def test_create_stores_the_config_with_defaults_filled_in(client: pictograph.Client) -> None:
    run = start(client)

    assert run.total_epochs == 50
    assert run.config == {
        "epochs": 50,
        "batch_size": 16,
        "learning_rate": 0.01,
        "model_size": "m",
        "image_width": 640,
        "image_height": 640,
    }


def test_create_keeps_given_config_values(client: pictograph.Client) -> None:
    run = start(
        client,
        config={
            "epochs": 7,
            "batch_size": 4,
            "model_size": "s",
            "learning_rate": 0.002,
            "image_size": 512,
            "mosaic": True,
        },
    )

    assert run.total_epochs == 7
    assert run.config["epochs"] == 7
    assert run.config["batch_size"] == 4
    assert run.config["model_size"] == "s"
    assert run.config["learning_rate"] == 0.002
    # The older `image_size` key becomes the recorded width and height.
    assert (run.config["image_width"], run.config["image_height"]) == (512, 512)
    assert "image_size" not in run.config
    # Unknown keys are kept for the pipeline (which ignores them).
    assert run.config["mosaic"] is True


@pytest.mark.parametrize(
    ("pipeline", "config", "size", "side"),
    [
        ("rfdetr_detection", {}, "medium", 576),
        ("rfdetr_detection", {"model_size": "large"}, "large", 704),
        ("classification", {}, "resnet50", 224),
        ("classification", {"model_size": "efficientnet_b3"}, "efficientnet_b3", 300),
        ("sm_pytorch", {}, "resnet34", 512),
    ],
)
def test_create_records_each_pipelines_default_variant_and_input_size(
    client: pictograph.Client, pipeline: str, config: dict[str, Any], size: str, side: int
) -> None:
    run = start(client, pipeline_type=pipeline, config=config)

    assert run.pipeline_type == pipeline
    assert run.config["model_size"] == size
    assert (run.config["image_width"], run.config["image_height"]) == (side, side)


# ── lifecycle on the virtual clock ──


def test_run_moves_from_queued_to_running_to_completed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = start(client, config={"epochs": 10})

    fake.clock.advance(seconds=A10G_COLD_START - 1)
    run = client.training.get(run_id=created.id)
    assert run.status == "queued"
    assert run.started_at is None
    assert run.progress == 0

    fake.clock.advance(seconds=2)
    run = client.training.get(run_id=created.id)
    assert run.status == "running"
    assert run.started_at is not None
    assert (run.started_at - created.created_at).total_seconds() == A10G_COLD_START
    assert run.completed_at is None
    assert run.model_id is None
    assert run.eta_seconds is not None
    assert run.eta_seconds > 0

    fake.clock.advance(minutes=30)
    run = client.training.get(run_id=created.id)
    assert run.status == "completed"
    assert run.progress == 100
    assert run.current_epoch == 10
    assert run.eta_seconds is None
    assert run.model_id is not None
    assert run.completed_at is not None
    assert run.started_at is not None
    assert run.training_time_seconds == (run.completed_at - run.started_at).total_seconds()
    # Once ended, a run does not change any more.
    fake.clock.advance(hours=5)
    assert client.training.get(run_id=created.id) == run


def test_progress_epochs_eta_and_metrics_only_move_forward(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = start(client)
    seen: list[TrainingRun] = [created]
    polled_at = [fake.clock.now()]
    while seen[-1].status not in ("completed", "failed", "cancelled"):
        fake.clock.advance(seconds=7)
        seen.append(client.training.get(run_id=created.id))
        polled_at.append(fake.clock.now())

    statuses = [r.status for r in seen]
    assert statuses[0] == "queued"
    assert "running" in statuses
    assert statuses[-1] == "completed"
    assert [RANK[s] for s in statuses] == sorted(RANK[s] for s in statuses)

    running = [r for r in seen if r.status == "running"]
    assert len(running) > 10
    progress = [r.progress for r in running]
    epochs = [r.current_epoch for r in running]
    etas = [r.eta_seconds for r in running]
    metric_epochs = [r.metrics.get("epoch", 0) for r in running]
    assert progress == sorted(progress)
    assert progress[-1] > progress[0]
    assert all(0 <= p < 100 for p in progress)
    assert epochs == sorted(epochs)
    assert all(1 <= e <= 50 for e in epochs)
    assert all(e is not None for e in etas)
    assert etas == sorted((e or 0 for e in etas), reverse=True)
    assert etas[0] is not None
    assert etas[-1] is not None
    assert etas[0] > etas[-1]
    # Every running snapshot's ETA points at the moment the run really completes.
    end = seen[-1].completed_at
    assert end is not None
    for run, moment in zip(seen, polled_at, strict=True):
        if run.status == "running":
            assert moment + timedelta(seconds=run.eta_seconds or 0) == end
    assert metric_epochs == sorted(metric_epochs)
    # The metrics describe the last finished epoch, the one before the epoch in progress.
    assert all(r.metrics.get("epoch", 0) == r.current_epoch - 1 for r in running)
    # Training learns: the loss falls and the headline metric rises over the run.
    first = next(r.metrics for r in running if r.metrics)
    assert seen[-1].metrics["loss"] < first["loss"]
    assert seen[-1].metrics["mAP"] > first["mAP"]


def test_progress_is_whole_percent_rounded_down_and_eta_whole_seconds_rounded_up(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Five epochs of 6 seconds: 30 seconds of training.
    run = start(client, config={"epochs": 5})
    fake.clock.advance(seconds=A10G_COLD_START + 5)
    assert client.training.get(run_id=run.id).progress == 16  # 5 of 30 seconds: 16.7 %

    fake.clock.advance(seconds=0.5)
    polled = client.training.get(run_id=run.id)
    assert polled.progress == 18  # 5.5 of 30 seconds: 18.3 %
    assert polled.eta_seconds == 25  # 24.5 seconds are left: the eta is never short

    fake.clock.advance(seconds=24)
    polled = client.training.get(run_id=run.id)
    assert (polled.status, polled.progress) == ("running", 98)  # 29.5 of 30 seconds
    assert polled.eta_seconds == 1
    # Waiting as long as the eta says finds the run done.
    fake.clock.advance(seconds=polled.eta_seconds)
    assert client.training.get(run_id=run.id).status == "completed"


async def test_async_run_moves_through_its_lifecycle(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    created = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="life", wait=False
    )
    statuses = []
    for _ in range(200):
        run = await aclient.training.get(run_id=created.id)
        statuses.append(run.status)
        if run.status == "completed":
            break
        fake.clock.advance(seconds=15)
    assert statuses[0] == "queued"
    assert "running" in statuses
    assert statuses[-1] == "completed"
    assert [RANK[s] for s in statuses] == sorted(RANK[s] for s in statuses)


def test_the_same_calls_give_the_same_runs() -> None:
    def story() -> list[dict[str, Any]]:
        with FakePictograph(seed=7) as world:
            world.add_dataset(DATASET, images=20, completed_images=12)
            world.add_export(DATASET, EXPORT)
            with world.client(max_retries=0) as sdk:
                start(sdk, "a")
                world.clock.advance(minutes=2)
                sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="b")
                return [r.model_dump(mode="json") for r in sdk.training.list()]

    assert story() == story()


# ── per-tier capacity and queueing ──


@pytest.fixture
def one_a10g() -> Iterator[FakePictograph]:
    """A classic fake with a single A10G worker."""
    with FakePictograph(seed=1, gpu_workers={"a10g": 1}) as world:
        world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        world.add_export(DATASET, EXPORT)
        yield world


@pytest.mark.parametrize(
    ("workers", "words"),
    [
        ({"t4": 1}, "unknown GPU tier(s) ['t4']; known: ['a10g', 'a100', 'h100']"),
        # A tier without a worker would queue its runs for ever; `True` is no count.
        ({"a10g": 0}, "at least one (got 0 for a10g)"),
        ({"a10g": True}, "at least one (got True for a10g)"),
    ],
)
def test_a_worker_count_no_tier_could_run_on_is_refused(
    workers: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        FakePictograph(gpu_workers=workers)


def test_a_second_run_waits_for_the_only_worker(one_a10g: FakePictograph) -> None:
    fake = one_a10g
    with fake.client(max_retries=0) as client:
        first = start(client, "first")
        second = start(client, "second")
        assert second.status == "queued"

        fake.clock.advance(seconds=A10G_COLD_START + 30)
        assert client.training.get("first").status == "running"
        waiting = client.training.get("second")
        assert waiting.status == "queued"
        assert waiting.started_at is None
        assert waiting.eta_seconds is None
        assert [r.id for r in client.training.list(status="queued")] == [second.id]
        assert [r.id for r in client.training.list(status="running")] == [first.id]

        fake.clock.advance(hours=1)
        done = client.training.get("first")
        after = client.training.get("second")
        assert done.status == "completed"
        assert after.status == "completed"
        assert done.completed_at is not None
        assert after.started_at is not None
        # The second run got the worker the moment the first ended, then cold-started.
        assert (after.started_at - done.completed_at).total_seconds() == A10G_COLD_START


def test_cancelling_the_running_run_frees_its_worker(one_a10g: FakePictograph) -> None:
    fake = one_a10g
    with fake.client(max_retries=0) as client:
        start(client, "first")
        second = start(client, "second")
        fake.clock.advance(seconds=A10G_COLD_START + 30)

        cancelled = client.training.cancel("first")
        assert cancelled.status == "cancelled"
        cancel_time = fake.clock.now()

        fake.clock.advance(seconds=A10G_COLD_START - 1)
        assert client.training.get(run_id=second.id).status == "queued"
        fake.clock.advance(seconds=2)
        now_running = client.training.get(run_id=second.id)
        assert now_running.status == "running"
        assert now_running.started_at is not None
        assert (now_running.started_at - cancel_time).total_seconds() == A10G_COLD_START


def test_cancelling_a_waiting_run_keeps_the_queue_in_order(one_a10g: FakePictograph) -> None:
    fake = one_a10g
    with fake.client(max_retries=0) as client:
        start(client, "first")
        start(client, "second")
        third = start(client, "third")
        assert client.training.cancel("second").status == "cancelled"

        fake.clock.advance(hours=1)
        assert client.training.get("first").status == "completed"
        assert client.training.get("second").status == "cancelled"
        assert client.training.get(run_id=third.id).status == "completed"


def test_a_full_tier_does_not_hold_up_other_tiers(one_a10g: FakePictograph) -> None:
    fake = one_a10g
    with fake.client(max_retries=0) as client:
        start(client, "a10g-1")
        start(client, "a10g-2")
        on_a100 = start(client, "a100-1", gpu_type="a100")
        assert on_a100.gpu_type == "a100"

        fake.clock.advance(seconds=A100_COLD_START + 1)
        assert client.training.get("a100-1").status == "running"
        assert client.training.get("a10g-2").status == "queued"


def test_default_capacity_runs_several_a10g_runs_at_once(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    workers = GPU_TIERS["a10g"].workers
    for i in range(workers + 1):
        start(client, f"r{i}")
    fake.clock.advance(seconds=A10G_COLD_START + 1)

    assert len(client.training.list(status="running")) == workers
    assert len(client.training.list(status="queued")) == 1


def test_waiting_runs_get_the_worker_in_the_order_they_were_created(
    one_a10g: FakePictograph,
) -> None:
    fake = one_a10g
    with fake.client(max_retries=0) as client:
        runs = [start(client, name, config={"epochs": 3}) for name in ("first", "second", "third")]
        fake.clock.advance(hours=1)
        done = [client.training.get(run_id=run.id) for run in runs]

    assert [run.status for run in done] == ["completed"] * 3
    # First in, first out: each run got the worker the instant the one before it ended.
    for before, after in itertools.pairwise(done):
        assert before.completed_at is not None
        assert after.started_at is not None
        assert (after.started_at - before.completed_at).total_seconds() == A10G_COLD_START


def test_runs_ending_at_the_same_instant_end_in_creation_order(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Alike runs created together end together: their refunds and models follow creation
    # order, as their history and listings do.
    runs = [start(client, name, config={"epochs": 3}) for name in ("a", "b", "c")]
    fake.clock.advance(hours=1)
    done = [client.training.get(run_id=run.id) for run in runs]

    assert len({run.completed_at for run in done}) == 1
    refunds = entries(fake, "training_refund_a10g")
    assert [e.metadata["run_id"] for e in refunds] == [run.id for run in runs]
    assert [m.id for m in client.models.list()] == [run.model_id for run in reversed(done)]


# ── get ──


def test_get_by_name_returns_the_most_recent_run_of_that_name(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    older = start(client, "nightly")
    fake.clock.advance(minutes=1)
    newer = start(client, "nightly")
    assert newer.id != older.id

    assert client.training.get("nightly").id == newer.id
    assert client.training.get(run_id=older.id).id == older.id
    assert client.training.get(run_id=newer.id).id == newer.id


def test_a_name_is_matched_case_for_case(client: pictograph.Client) -> None:
    # Ids are read in any case; names are labels, and two that differ in case are two.
    lower = start(client, "nightly")
    upper = start(client, "Nightly")

    assert client.training.get("nightly").id == lower.id
    assert client.training.get("Nightly").id == upper.id
    assert client.training.cancel("Nightly").id == upper.id
    assert client.training.get(run_id=lower.id).status == "queued"


def test_a_run_names_its_organization_dataset_export_and_creator(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "traced")
    [founder] = client.organizations.list_members()

    assert run.organization_id == fake.organization_id
    assert run.created_by == founder.user_id
    assert run.dataset_id == client.datasets.get(DATASET).id
    assert run.export_id == client.exports.get(DATASET, EXPORT).id
    # The wire also names the export; the SDK's model has no field for it.
    client.training.get(run_id=run.id)
    assert fake.calls.last.response_json()["data"]["export_name"] == EXPORT


def test_get_accepts_a_uuid_passed_positionally(client: pictograph.Client) -> None:
    run = start(client, "by-uuid")
    fetched = client.training.get(run.id)
    assert fetched.id == run.id
    assert fetched.name == "by-uuid"


@pytest.mark.parametrize(
    "name", ["a/b c", "régression ü/模型", "100% done?#x", "quote", "bulk-cancel", "v1.0", "a+b"]
)
def test_names_that_need_percent_encoding_round_trip(
    fake: FakePictograph, client: pictograph.Client, name: str
) -> None:
    run = start(client, name)

    assert run.name == name
    assert client.training.get(name).id == run.id
    cancelled = client.training.cancel(name)
    assert cancelled.id == run.id
    assert cancelled.status == "cancelled"


async def test_async_get_by_name_id_and_encoded_name(aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="a/b c", wait=False
    )
    assert (await aclient.training.get("a/b c")).id == run.id
    assert (await aclient.training.get(run_id=run.id)).id == run.id
    assert (await aclient.training.get(run.id)).id == run.id


def test_a_name_the_client_normalises_away_is_the_apis_404_not_a_gap(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # httpx resolves `/training/..` to the developer root, where no route lies: the
    # API's own 404, so a test is not failed at teardown for a route the fake lacks.
    # (No run can be named `..`: see tests/test_validation.py.)
    start(client, "m")
    with pytest.raises(NotFoundError, match="No route GET /api/v1/developer"):
        client.training.get("..")
    assert fake.unserved_calls == ()


def test_get_an_unknown_run_is_not_found(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.training.get("never-created")
    assert caught.value.status_code == 404
    assert caught.value.code == "not_found"
    assert "not found" in caught.value.message.lower()

    with pytest.raises(NotFoundError):
        client.training.get(run_id="00000000-0000-4000-8000-000000000000")


async def test_async_get_an_unknown_run_is_not_found(aclient: pictograph.AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await aclient.training.get("nope")


def test_runs_of_another_organization_are_invisible(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "mine")
    with fake.world.lock:
        other_org = fake.world.add_organization(balance_usd=10)
        other_key = fake.world.add_api_key(other_org.id, role="owner").key

    with fake.client(api_key=other_key, max_retries=0) as other:
        with pytest.raises(NotFoundError):
            other.training.get(run_id=run.id)
        with pytest.raises(NotFoundError):
            other.training.get("mine")
        with pytest.raises(NotFoundError):
            other.training.cancel(run_id=run.id)
        assert other.training.list() == []
        result = other.training.bulk_cancel([run.id])
        assert result.succeeded == []
        assert result.not_found == [run.id]

    assert client.training.get(run_id=run.id).status == "queued"


# ── list and iter ──


@pytest.fixture
def five_runs(fake: FakePictograph, client: pictograph.Client) -> list[TrainingRun]:
    """Five runs, oldest first: three on road-signs (one completed), two on birds."""
    fake.add_dataset("birds", images=10, completed_images=10, classes=["gull"])
    fake.add_export("birds", "birds-v1")
    runs = [client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="done")]
    for name in ("r1", "r2"):
        runs.append(start(client, name))
    for name in ("b1", "b2"):
        runs.append(
            client.training.create(
                "birds", "birds-v1", pipeline_type="classification", name=name, wait=False
            )
        )
    return runs


def test_list_returns_every_run_newest_first(
    client: pictograph.Client, five_runs: list[TrainingRun]
) -> None:
    listed = client.training.list()
    assert [r.id for r in listed] == [r.id for r in reversed(five_runs)]


def test_list_filters_by_dataset_name_and_status(
    fake: FakePictograph, client: pictograph.Client, five_runs: list[TrainingRun]
) -> None:
    birds = client.training.list(dataset_name="birds")
    assert {r.name for r in birds} == {"b1", "b2"}
    road = client.training.list(dataset_name=DATASET)
    assert {r.name for r in road} == {"done", "r1", "r2"}

    assert [r.name for r in client.training.list(status="completed")] == ["done"]
    assert {r.name for r in client.training.list(status="queued")} == {"r1", "r2", "b1", "b2"}
    assert client.training.list(status="running") == []
    assert client.training.list(status="cancelled") == []

    queued_birds = client.training.list(dataset_name="birds", status="queued")
    assert {r.name for r in queued_birds} == {"b1", "b2"}
    # An ended status is read per dataset too.
    assert [r.name for r in client.training.list(dataset_name=DATASET, status="completed")] == [
        "done"
    ]
    assert client.training.list(dataset_name="birds", status="completed") == []

    # The status filter follows the virtual clock: queued runs turn running after cold start.
    fake.clock.advance(seconds=A10G_COLD_START + 1)
    assert {r.name for r in client.training.list(status="running")} == {"r1", "r2", "b1", "b2"}
    assert client.training.list(status="queued") == []


def test_list_with_an_unknown_dataset_is_empty(
    client: pictograph.Client, five_runs: list[TrainingRun]
) -> None:
    assert client.training.list(dataset_name="no-such-dataset") == []
    assert list(client.training.iter(dataset_name="no-such-dataset")) == []


def test_list_refuses_an_unknown_status(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.training.list(status=cast("Any", "finished"))
    assert caught.value.status_code == 422
    assert caught.value.field_errors[0]["loc"] == ["query", "status"]


def test_list_pages_with_limit_and_offset(
    client: pictograph.Client, five_runs: list[TrainingRun]
) -> None:
    newest_first = [r.id for r in reversed(five_runs)]
    assert [r.id for r in client.training.list(limit=2)] == newest_first[:2]
    assert [r.id for r in client.training.list(limit=2, offset=2)] == newest_first[2:4]
    assert [r.id for r in client.training.list(limit=2, offset=4)] == newest_first[4:]
    assert client.training.list(limit=2, offset=5) == []


def test_iter_follows_has_more_across_small_pages(
    client: pictograph.Client, five_runs: list[TrainingRun]
) -> None:
    pages: list[tuple[int, int]] = []

    def record(request: httpx.Request) -> None:
        if request.url.path == "/api/v1/developer/training/":
            params = request.url.params
            pages.append((int(params["offset"]), int(params["limit"])))

    client._transport._client.event_hooks["request"].append(record)
    newest_first = [r.id for r in reversed(five_runs)]

    assert [r.id for r in client.training.iter(page_size=2)] == newest_first
    assert pages == [(0, 2), (2, 2), (4, 2)]

    # A last page that is full: has_more=false ends it without asking for an empty page.
    pages.clear()
    assert [r.id for r in client.training.iter(dataset_name=DATASET, page_size=3)] == [
        r.id for r in reversed(five_runs[:3])
    ]
    assert pages == [(0, 3)]


def test_iter_stops_at_max_total(client: pictograph.Client, five_runs: list[TrainingRun]) -> None:
    newest_first = [r.id for r in reversed(five_runs)]
    assert [r.id for r in client.training.iter(page_size=2, max_total=3)] == newest_first[:3]
    assert [r.id for r in client.training.iter(status="queued", page_size=1)] == newest_first[:4]


async def test_async_list_and_iter(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    created = []
    for i in range(5):
        created.append(
            await aclient.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name=f"a{i}", wait=False
            )
        )
    newest_first = [r.id for r in reversed(created)]

    assert [r.id for r in await aclient.training.list(limit=3)] == newest_first[:3]
    assert [r.id for r in await aclient.training.list(limit=3, offset=3)] == newest_first[3:]
    assert [r.id async for r in aclient.training.iter(page_size=2)] == newest_first
    assert [r.id async for r in aclient.training.iter(page_size=2, max_total=3)] == (
        newest_first[:3]
    )
    assert await aclient.training.list(dataset_name="ghost") == []
    with pytest.raises(ValidationError):
        await aclient.training.list(status=cast("Any", "done"))


# ── cancel ──


def test_cancel_a_queued_run(fake: FakePictograph, client: pictograph.Client) -> None:
    run = start(client, "to-cancel")

    cancelled = client.training.cancel("to-cancel")

    assert cancelled.id == run.id
    assert cancelled.status == "cancelled"
    assert cancelled.completed_at == fake.clock.now()
    assert cancelled.started_at is None
    assert cancelled.error_message is None
    assert cancelled.model_id is None
    fake.clock.advance(hours=2)
    after = client.training.get(run_id=run.id)
    assert after.status == "cancelled"
    assert after.model_id is None
    assert client.models.list() == []


def test_a_run_cancelled_while_queued_shows_no_progress(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Progress, epoch and metrics move only while a worker trains (`running`).
    queued = start(client, "to-cancel")

    cancelled = client.training.cancel("to-cancel")

    assert (queued.progress, queued.current_epoch, queued.metrics) == (0, 0, {})
    assert (cancelled.progress, cancelled.current_epoch, cancelled.metrics) == (0, 0, {})
    assert cancelled.training_time_seconds == 0
    # Cancelled in its cold start, it never ran: its history has no `running`.
    statuses = [status for status, _ in fake.world.runs[queued.id].history]
    assert statuses == ["pending", "queued", "cancelled"]


async def test_async_a_run_cancelled_while_queued_shows_no_progress(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="to-cancel", wait=False
    )
    cancelled = await aclient.training.cancel("to-cancel")
    assert (cancelled.progress, cancelled.current_epoch, cancelled.metrics) == (0, 0, {})
    assert cancelled.training_time_seconds == 0


def test_at_the_instant_training_starts_the_run_is_running_everywhere(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client)
    fake.clock.advance(seconds=A10G_COLD_START)

    running = client.training.get(run_id=run.id)
    assert running.status == "running"
    assert running.started_at == fake.clock.now()
    assert running.current_epoch == 1
    [listed] = client.training.list(status="running")
    assert (listed.id, listed.status, listed.started_at) == (run.id, "running", running.started_at)
    assert listed.current_epoch == 1
    assert client.training.list(status="queued") == []

    # Cancelled at that same instant: what the poll saw is kept, nothing was trained.
    cancelled = client.training.cancel(run_id=run.id)
    assert cancelled.started_at == running.started_at
    assert cancelled.current_epoch == running.current_epoch
    assert cancelled.progress == running.progress == 0
    assert cancelled.training_time_seconds == 0
    [precharge] = entries(fake, "training_a10g_per_minute")
    [refund] = entries(fake, "training_refund_a10g")
    assert refund.amount == -precharge.amount


def test_cancel_a_running_run_freezes_its_progress(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client)
    fake.clock.advance(seconds=A10G_COLD_START + 100)
    running = client.training.get(run_id=run.id)
    assert running.status == "running"

    cancelled = client.training.cancel(run_id=run.id)

    assert cancelled.status == "cancelled"
    assert cancelled.progress == running.progress
    assert cancelled.current_epoch == running.current_epoch
    assert cancelled.metrics == running.metrics
    assert cancelled.training_time_seconds == 100
    assert cancelled.eta_seconds is None
    fake.clock.advance(hours=1)
    assert client.training.get(run_id=run.id) == cancelled


@pytest.mark.parametrize(("trained", "reported"), [(100.4, 100), (100.6, 101)])
def test_training_time_is_the_seconds_trained_rounded_to_the_nearest(
    fake: FakePictograph, client: pictograph.Client, trained: float, reported: int
) -> None:
    run = start(client)
    fake.clock.advance(seconds=A10G_COLD_START + trained)
    cancelled = client.training.cancel(run_id=run.id)
    assert cancelled.training_time_seconds == reported


def test_cancel_by_name_cancels_the_most_recent_run(client: pictograph.Client) -> None:
    older = start(client, "twin")
    newer = start(client, "twin")

    assert client.training.cancel("twin").id == newer.id
    assert client.training.get(run_id=older.id).status == "queued"


@pytest.mark.parametrize("ending", ["completed", "cancelled", "failed"])
def test_cancelling_an_ended_run_is_refused(
    fake: FakePictograph, client: pictograph.Client, ending: str
) -> None:
    config = {"model_size": "x"} if ending == "failed" else {}
    run = start(client, "ended", config=config)
    if ending == "cancelled":
        client.training.cancel(run_id=run.id)
    fake.clock.advance(hours=1)
    assert client.training.get(run_id=run.id).status == ending

    with pytest.raises(ValidationError) as caught:
        client.training.cancel(run_id=run.id)

    assert caught.value.status_code == 400
    assert caught.value.message == f"Cannot cancel training run with status '{ending}'"
    assert client.training.get(run_id=run.id).status == ending


def test_cancel_an_unknown_run_is_not_found(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.training.cancel("ghost")


async def test_async_cancel(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="ac", wait=False
    )
    fake.clock.advance(seconds=A10G_COLD_START + 10)
    cancelled = await aclient.training.cancel("ac")
    assert cancelled.id == run.id
    assert cancelled.status == "cancelled"
    with pytest.raises(ValidationError) as caught:
        await aclient.training.cancel(run_id=run.id)
    assert caught.value.status_code == 400
    assert caught.value.message == "Cannot cancel training run with status 'cancelled'"


# ── billing: classic (pre-charge and refunds) ──


def test_classic_precharges_at_create(fake: FakePictograph, client: pictograph.Client) -> None:
    before = fake.balance_micro_usd
    run = start(client)

    [precharge] = entries(fake, "training_a10g_per_minute")
    assert precharge.amount < 0
    # Pre-charged in whole minutes, at least five.
    assert any(-precharge.amount == CLASSIC.cost("a10g", m) for m in range(5, 121))
    assert precharge.metadata == {"run_id": run.id}
    assert fake.balance_micro_usd == before + precharge.amount


def test_classic_refunds_unused_minutes_after_a_completed_run(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = fake.balance_micro_usd
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="under-budget")
    assert run.training_time_seconds is not None

    [precharge] = entries(fake, "training_a10g_per_minute")
    [refund] = entries(fake, "training_refund_a10g")
    used = CLASSIC.cost("a10g", math.ceil(run.training_time_seconds / 60))
    assert refund.amount > 0
    assert refund.metadata == {"run_id": run.id}
    assert -precharge.amount - refund.amount == used
    assert fake.balance_micro_usd == before - used

    history = client.credits.history()
    assert history[0].operation == "training_refund_a10g"
    assert history[0].amount == refund.amount
    assert history[1].operation == "training_a10g_per_minute"
    assert history[1].amount == precharge.amount


# Started minutes count: 100 seconds of training are two, and half a second is a whole one.
@pytest.mark.parametrize(("seconds", "minutes"), [(100, 2), (0.5, 1)])
def test_classic_cancel_of_a_running_run_refunds_what_it_did_not_use(
    fake: FakePictograph, client: pictograph.Client, seconds: float, minutes: int
) -> None:
    before = fake.balance_micro_usd
    run = start(client)
    fake.clock.advance(seconds=A10G_COLD_START + seconds)
    client.training.cancel(run_id=run.id)

    [precharge] = entries(fake, "training_a10g_per_minute")
    [refund] = entries(fake, "training_refund_a10g")
    assert refund.amount > 0
    assert refund.metadata == {"run_id": run.id}
    assert -precharge.amount - refund.amount == CLASSIC.cost("a10g", minutes)
    assert fake.balance_micro_usd == before - CLASSIC.cost("a10g", minutes)
    assert [e.operation for e in client.credits.history()][:2] == [
        "training_refund_a10g",
        "training_a10g_per_minute",
    ]
    # The refund is posted once, whatever happens later.
    fake.clock.advance(hours=3)
    assert len(entries(fake, "training_refund_a10g")) == 1


def test_classic_cancel_before_training_refunds_everything(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = fake.balance_micro_usd
    start(client, "never-trained")
    client.training.cancel("never-trained")

    [precharge] = entries(fake, "training_a10g_per_minute")
    [refund] = entries(fake, "training_refund_a10g")
    assert refund.amount == -precharge.amount
    assert fake.balance_micro_usd == before


def test_classic_failed_run_is_refunded_what_it_did_not_use(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = fake.balance_micro_usd
    start(client, "oom", config={"model_size": "x"})
    fake.clock.advance(hours=1)

    [precharge] = entries(fake, "training_a10g_per_minute")
    [refund] = entries(fake, "training_refund_a10g")
    assert refund.amount > 0
    # The run died within its first minute: one minute is kept.
    assert -precharge.amount - refund.amount == CLASSIC.cost("a10g", 1)
    assert fake.balance_micro_usd == before - CLASSIC.cost("a10g", 1)


# ── billing: current (charge on success) ──


def test_current_charges_once_on_success(current_fake: FakePictograph) -> None:
    fake = current_fake
    before = fake.balance_micro_usd
    with fake.client(max_retries=0) as client:
        queued = start(client, "paid")
        # Read into names: the charge is posted below.
        queued_ledger = fake.ledger
        assert queued_ledger == ()
        fake.clock.advance(seconds=A10G_COLD_START + 60)
        started_ledger = fake.ledger
        assert started_ledger == ()

        run = client.training.wait_for_completion(run_id=queued.id)
        assert run.training_time_seconds is not None

        [charge] = fake.ledger
        minutes = math.ceil(run.training_time_seconds / 60)
        assert charge.operation == "training_a10g"
        assert charge.amount == -CURRENT.cost("a10g", minutes)
        assert charge.metadata == {"run_id": run.id}
        assert fake.balance_micro_usd == before + charge.amount
        assert [(e.operation, e.amount) for e in client.credits.history()] == [
            ("training_a10g", charge.amount)
        ]
        fake.clock.advance(hours=2)
        assert len(fake.ledger) == 1


def test_current_never_charges_cancelled_or_failed_runs(current_fake: FakePictograph) -> None:
    fake = current_fake
    before = fake.balance_micro_usd
    with fake.client(max_retries=0) as client:
        start(client, "cancel-queued")
        client.training.cancel("cancel-queued")
        running = start(client, "cancel-running")
        fake.clock.advance(seconds=A10G_COLD_START + 200)
        client.training.cancel(run_id=running.id)
        start(client, "oom", config={"model_size": "x"})
        fake.clock.advance(hours=1)

        assert client.training.get("oom").status == "failed"
        assert fake.ledger == ()
        assert client.credits.history() == []
        assert fake.balance_micro_usd == before


# ── bulk_cancel ──


def test_bulk_cancel_reports_succeeded_and_not_found(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    done = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="done")
    queued = start(client, "q")
    running = start(client, "r")
    fake.clock.advance(seconds=A10G_COLD_START + 5)
    unknown = "00000000-0000-4000-8000-000000000000"

    result = client.training.bulk_cancel([queued.id, running.id, queued.id, done.id, unknown])

    assert result.succeeded == [queued.id, running.id]
    assert result.not_found == [done.id, unknown]
    assert result.count == 2
    assert client.training.get(run_id=queued.id).status == "cancelled"
    assert client.training.get(run_id=running.id).status == "cancelled"
    assert client.training.get(run_id=done.id).status == "completed"

    again = client.training.bulk_cancel([queued.id, running.id])
    assert again.succeeded == []
    assert again.not_found == [queued.id, running.id]
    assert again.count == 0


def test_bulk_cancel_and_get_take_an_id_in_any_case(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "shouted")
    other = start(client, "kept")

    assert client.training.get(run_id=run.id.upper()).id == run.id
    result = client.training.bulk_cancel([run.id.upper()])

    assert result.succeeded == [run.id.upper()]
    assert result.not_found == []
    assert client.training.get(run_id=run.id).status == "cancelled"
    assert client.training.get(run_id=other.id).status == "queued"
    # One run sent twice, in two cases, is one duplicate: collapsed, never "not found".
    twice = client.training.bulk_cancel([other.id.upper(), other.id])
    assert (twice.succeeded, twice.not_found, twice.count) == ([other.id.upper()], [], 1)


def test_bulk_cancel_refunds_each_classic_run_once(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = fake.balance_micro_usd
    runs = [start(client, f"r{i}") for i in range(3)]
    ids = [r.id for r in runs]
    client.training.bulk_cancel(ids + ids)
    client.training.bulk_cancel(ids)

    refunds = entries(fake, "training_refund_a10g")
    assert sorted(e.metadata["run_id"] for e in refunds) == sorted(ids)
    assert fake.balance_micro_usd == before


def test_bulk_cancel_of_nothing_is_refused(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.training.bulk_cancel([])
    assert caught.value.status_code in (400, 422)
    assert caught.value.field_errors[0]["loc"] == ["body", "run_ids"]


async def test_async_bulk_cancel(aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="b", wait=False
    )
    result = await aclient.training.bulk_cancel([run.id, run.id, "nope"])
    assert result.succeeded == [run.id]
    assert result.not_found == ["nope"]
    assert result.count == 1
    again = await aclient.training.bulk_cancel([run.id])
    assert again.not_found == [run.id]
    other = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="c", wait=False
    )
    assert (await aclient.training.get(run_id=other.id.upper())).status == "queued"
    assert (await aclient.training.bulk_cancel([other.id.upper()])).succeeded == [other.id.upper()]
    with pytest.raises(ValidationError):
        await aclient.training.bulk_cancel([])


# ── wait_for_completion ──


def test_wait_for_completion_returns_the_completed_run(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "waited")

    done = client.training.wait_for_completion("waited", poll_interval=1)

    assert done.id == run.id
    assert done.status == "completed"
    assert done.completed_at is not None
    # Polling once a second, the SDK returns within a second of the run's end.
    assert 0 <= (fake.clock.now() - done.completed_at).total_seconds() < 1


def test_wait_for_a_cancelled_run_raises_job_cancelled(client: pictograph.Client) -> None:
    run = start(client, "stopped")
    client.training.cancel(run_id=run.id)

    with pytest.raises(ApiError) as caught:
        client.training.wait_for_completion(run_id=run.id)

    assert type(caught.value) is ApiError
    assert caught.value.code == "job_cancelled"
    assert caught.value.status_code is None
    assert "'cancelled'" in caught.value.message
    assert isinstance(caught.value.response, dict)
    assert caught.value.response["id"] == run.id
    assert caught.value.response["status"] == "cancelled"


def test_wait_for_a_failed_run_raises_job_failed(client: pictograph.Client) -> None:
    run = start(client, "oom", config={"model_size": "x"})

    with pytest.raises(ApiError) as caught:
        client.training.wait_for_completion(run.id)

    assert caught.value.code == "job_failed"
    assert caught.value.status_code is None
    assert "out of memory" in caught.value.message
    assert caught.value.response["status"] == "failed"


def test_create_wait_raises_job_failed_for_a_failing_run(client: pictograph.Client) -> None:
    with pytest.raises(ApiError) as caught:
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="oom", config={"model_size": "x"}
        )
    assert caught.value.code == "job_failed"
    assert client.training.get("oom").status == "failed"


def test_wait_times_out_at_the_virtual_deadline_and_the_run_keeps_going(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "slow")
    before = fake.clock.monotonic()

    with pytest.raises(PollTimeoutError) as caught:
        client.training.wait_for_completion(run_id=run.id, poll_interval=5, timeout=60)

    assert fake.clock.monotonic() == before + 60
    assert "slow" in str(caught.value)
    still = client.training.get(run_id=run.id)
    assert still.status == "running"
    assert still.progress < 100
    fake.clock.advance(hours=1)
    assert client.training.get(run_id=run.id).status == "completed"


def test_create_wait_times_out_on_a_run_longer_than_the_timeout(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(PollTimeoutError):
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="t", poll_interval=10, timeout=120
        )
    assert fake.clock.monotonic() == 120
    assert client.training.get("t").status == "running"


async def test_async_wait_for_completion(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="aw", wait=False
    )
    before = fake.clock.monotonic()
    with pytest.raises(PollTimeoutError):
        await aclient.training.wait_for_completion("aw", poll_interval=4, timeout=60)
    assert fake.clock.monotonic() == before + 60
    assert (await aclient.training.get(run_id=run.id)).status == "running"

    done = await aclient.training.wait_for_completion(run_id=run.id, poll_interval=2)
    assert done.status == "completed"

    other = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="ax", wait=False
    )
    await aclient.training.cancel(run_id=other.id)
    with pytest.raises(ApiError) as caught:
        await aclient.training.wait_for_completion(run_id=other.id)
    assert caught.value.code == "job_cancelled"

    with pytest.raises(ApiError) as failed:
        await aclient.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="ay", config={"model_size": "x"}
        )
    assert failed.value.code == "job_failed"


# ── errors: what create refuses ──


def test_a_missing_dataset_or_export_is_not_found(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as no_dataset:
        client.training.create("missing", EXPORT, pipeline_type="yolox", name="x")
    assert no_dataset.value.status_code == 404
    assert "Dataset 'missing' not found" in no_dataset.value.message

    with pytest.raises(NotFoundError) as no_export:
        client.training.create(DATASET, "v99", pipeline_type="yolox", name="x")
    assert "Export 'v99'" in no_export.value.message
    assert client.training.list() == []


@pytest.mark.parametrize(
    ("pipeline", "gpu", "field"),
    [
        ("detectron3", "a10g", "pipeline_type"),
        ("yolox", "t4", "gpu_type"),
        ("yolox", "auto", "gpu_type"),
        ("rfdetr_keypoint", "a10g", "pipeline_type"),
    ],
)
def test_classic_refuses_unknown_pipelines_and_gpus(
    fake: FakePictograph, client: pictograph.Client, pipeline: Any, gpu: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        client.training.create(DATASET, EXPORT, pipeline_type=pipeline, gpu_type=gpu, name="x")
    assert caught.value.status_code == 422
    assert caught.value.field_errors[0]["loc"] == ["body", field]
    assert fake.ledger == ()
    assert client.training.list() == []


@pytest.mark.parametrize(("pipeline", "gpu"), [("detectron2", "a10g"), ("yolox", "t4")])
def test_current_refuses_unknown_pipelines_and_gpus(
    current_fake: FakePictograph, pipeline: Any, gpu: Any
) -> None:
    with current_fake.client(max_retries=0) as client, pytest.raises(ValidationError) as caught:
        client.training.create(DATASET, EXPORT, pipeline_type=pipeline, gpu_type=gpu, name="x")
    assert caught.value.status_code == 422


def test_current_resolves_gpu_auto_to_the_cheapest_tier_that_fits(
    current_fake: FakePictograph,
) -> None:
    with current_fake.client(max_retries=0) as client:
        small = start(client, "small", gpu_type="auto")
        large = start(client, "large", gpu_type="auto", config={"model_size": "x"})

    assert small.gpu_type == "a10g"
    assert small.config["gpu_autoselect"]["version"] == 2
    assert small.config["gpu_autoselect"]["requested"] == "auto"
    assert small.config["gpu_autoselect"]["resolved_gpu_type"] == "a10g"
    # YOLOX-x at batch 16 does not fit the A10G's memory: auto picks the A100.
    assert large.gpu_type == "a100"
    assert large.config["gpu_autoselect"]["resolved_gpu_type"] == "a100"
    peak = large.config["gpu_autoselect"]["predicted_peak_mib"]
    assert GPU_TIERS["a10g"].total_mib < peak <= GPU_TIERS["a100"].total_mib


def test_a_named_gpu_records_no_autoselect(current_fake: FakePictograph) -> None:
    with current_fake.client(max_retries=0) as client:
        run = start(client, gpu_type="h100")
    assert run.gpu_type == "h100"
    assert "gpu_autoselect" not in run.config


def test_current_accepts_rfdetr_keypoint(current_fake: FakePictograph) -> None:
    current_fake.add_dataset("poses", images=6, completed_images=6, annotation_types=["keypoint"])
    current_fake.add_export("poses", "poses-v1")
    with current_fake.client(max_retries=0) as client:
        run = client.training.create(
            "poses", "poses-v1", pipeline_type="rfdetr_keypoint", name="kp"
        )
    assert run.status == "completed"
    assert run.pipeline_type == "rfdetr_keypoint"
    assert run.config["model_size"] == "preview"


@pytest.mark.parametrize(
    ("pipeline", "reported", "at_least"),
    [
        # `at_least`: a metric that is never below another, whatever the model (a box
        # matched at IoU 0.5 is matched at 0.5:0.95 less often; the top 5 hold the top 1).
        ("yolox", {"mAP", "mAP50", "precision", "recall"}, ("mAP50", "mAP")),
        ("rfdetr_detection", {"mAP", "mAP50", "precision", "recall"}, ("mAP50", "mAP")),
        ("rfdetr_segmentation", {"mask_mAP", "box_mAP"}, ("box_mAP", "mask_mAP")),
        ("sm_pytorch", {"mIoU", "pixel_accuracy"}, ("pixel_accuracy", "mIoU")),
        ("classification", {"accuracy", "top5_accuracy"}, ("top5_accuracy", "accuracy")),
    ],
)
def test_a_run_reports_its_tasks_metrics_and_its_model_keeps_them(
    client: pictograph.Client, pipeline: Any, reported: set[str], at_least: tuple[str, str]
) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type=pipeline, name="m", config={"epochs": 3}
    )
    assert set(run.metrics) == {"epoch", "loss", *reported}
    assert run.metrics["epoch"] == 3
    assert run.metrics["loss"] > 0
    assert all(0.0 < run.metrics[name] < 1.0 for name in reported)
    higher, lower = at_least
    assert run.metrics[higher] >= run.metrics[lower]
    assert run.model_id is not None
    model = client.models.get(model_id=run.model_id)
    assert model.metrics == {k: v for k, v in run.metrics.items() if k != "epoch"}


def _add_tiny_dataset(fake: FakePictograph) -> None:
    fake.add_dataset("tiny", images=4, completed_images=4, classes=["cat"])
    fake.add_export("tiny", "tiny-v1")


def test_classic_refuses_a_dataset_below_five_images(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _add_tiny_dataset(fake)

    with pytest.raises(ValidationError) as caught:
        client.training.create("tiny", "tiny-v1", pipeline_type="yolox", name="x")

    assert caught.value.status_code == 422
    assert "at least 5 images" in caught.value.message
    assert "has 4" in caught.value.message
    assert caught.value.field_errors[0]["type"] == "dataset_too_small"
    assert fake.ledger == ()
    with pytest.raises(ValidationError):
        client.training.quote("tiny", "tiny-v1", pipeline_type="yolox")


def test_classic_counts_only_images_matching_the_status_filter(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("mostly-todo", images=30, completed_images=3)
    fake.add_export("mostly-todo", "done-only", status_filter="complete")
    fake.add_export("mostly-todo", "everything")

    with pytest.raises(ValidationError) as caught:
        client.training.create("mostly-todo", "done-only", pipeline_type="yolox", name="x")
    assert "'complete'" in caught.value.message
    run = client.training.create(
        "mostly-todo", "everything", pipeline_type="yolox", name="y", wait=False
    )
    assert run.status == "queued"


def test_current_has_no_minimum_dataset_size(current_fake: FakePictograph) -> None:
    _add_tiny_dataset(current_fake)
    with current_fake.client(max_retries=0) as client:
        run = client.training.create("tiny", "tiny-v1", pipeline_type="yolox", name="x")
    assert run.status == "completed"


@pytest.mark.parametrize("status", ["pending", "processing", "failed"])
def test_an_export_that_is_not_completed_is_refused(
    fake: FakePictograph, client: pictograph.Client, status: str
) -> None:
    fake.add_export(DATASET, "unfinished", status=status)

    with pytest.raises(ValidationError) as caught:
        client.training.create(DATASET, "unfinished", pipeline_type="yolox", name="x")

    assert caught.value.status_code == 400
    assert "must be completed" in caught.value.message
    assert f"current status: {status}" in caught.value.message


def test_an_empty_export_is_refused(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_dataset("blank", images=0)
    fake.add_export("blank", "blank-v1")
    with pytest.raises(ValidationError) as caught:
        client.training.create("blank", "blank-v1", pipeline_type="yolox", name="x")
    assert caught.value.status_code == 400
    assert "empty" in caught.value.message


@pytest.mark.parametrize(
    ("config", "fields"),
    [
        ({"epochs": 0}, ["epochs"]),
        ({"epochs": 1001}, ["epochs"]),
        ({"epochs": "ten"}, ["epochs"]),
        ({"batch_size": 0}, ["batch_size"]),
        ({"learning_rate": 0}, ["learning_rate"]),
        ({"model_size": "huge"}, ["model_size"]),
        ({"image_width": 8}, ["image_width"]),
        ({"epochs": 0, "model_size": "huge"}, ["epochs", "model_size"]),
    ],
)
def test_a_config_the_pipeline_cannot_train_is_refused_with_field_errors(
    fake: FakePictograph, client: pictograph.Client, config: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        start(client, config=config)

    assert caught.value.status_code == 400
    assert [e["loc"] for e in caught.value.field_errors] == [["body", "config", f] for f in fields]
    for f in fields:
        assert f in caught.value.message
    assert fake.ledger == ()


def test_class_overrides_must_target_existing_classes(client: pictograph.Client) -> None:
    run = start(client, config={"class_overrides": {"yield": "stop_sign"}})
    assert run.config["class_overrides"] == {"yield": "stop_sign"}
    with pytest.raises(ValidationError) as caught:
        start(client, config={"class_overrides": {"yield": "giraffe"}})
    assert caught.value.status_code == 400
    assert "giraffe" in caught.value.message


@pytest.mark.parametrize(
    ("config", "quoted"),
    [
        ({"class_overrides": {"yield": None}}, "'road-signs': null"),
        ({"class_overrides": {"yield": {"a": 1}}}, "'road-signs': {\"a\": 1}"),
        ({"_pictograph": {"pipeline": ["yolox"]}, "config": {}}, 'pipeline ["yolox"], not'),
        ({"_pictograph": {"pipeline": False}, "config": {}}, "pipeline false, not"),
        ({"model_size": ["m"]}, 'no model_size ["m"]'),
    ],
)
def test_a_refused_config_value_is_quoted_as_json(
    client: pictograph.Client, config: dict[str, Any], quoted: str
) -> None:
    # What the caller sent, spelled as they sent it: null, false, ["m"], not None or ['m'].
    with pytest.raises(ValidationError) as caught:
        client.training.quote(DATASET, EXPORT, pipeline_type="yolox", config=config)
    assert caught.value.status_code == 400
    assert quoted in caught.value.message


def test_classic_402_carries_the_precharge() -> None:
    with FakePictograph(seed=1, balance_usd=0.01) as poor:
        poor.add_dataset(DATASET, images=20, completed_images=12)
        poor.add_export(DATASET, EXPORT)
        with poor.client(max_retries=0) as sdk:
            quote = sdk.training.quote(DATASET, EXPORT, pipeline_type="yolox")
            with pytest.raises(PaymentRequiredError) as caught:
                sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="x")
            assert sdk.training.list() == []
        error = caught.value
        assert error.status_code == 402
        assert error.code == "insufficient_credits"
        assert error.unit == "micro_usd"
        assert error.credits_remaining == 10_000
        assert error.credit_cost == quote.balance.required_to_start_micro_usd
        assert error.credit_cost > error.credits_remaining
        assert error.upgrade_url
        assert poor.ledger == ()


def test_current_402_below_the_two_dollar_gate(poor_current: FakePictograph) -> None:
    with poor_current.client(max_retries=0) as client:
        with pytest.raises(PaymentRequiredError) as caught:
            start(client)
        assert client.training.list() == []
    error = caught.value
    assert error.status_code == 402
    assert error.credit_cost == 2_000_000
    assert error.credits_remaining == 1_500_000
    assert error.unit == "micro_usd"
    assert "$2.00" in error.message
    assert poor_current.ledger == ()


def test_a_402_shows_a_balance_of_fractional_cents_in_cents() -> None:
    # $2.00 against $1.234567: the amounts differ in cents, so both are shown in cents.
    with (
        _exactly(1.234567) as fake,
        fake.client(max_retries=0) as client,
        pytest.raises(PaymentRequiredError) as caught,
    ):
        start(client)
    assert caught.value.credits_remaining == 1_234_567
    assert "(needs $2.00, has $1.23)" in caught.value.message


@pytest.mark.parametrize(
    ("dollars", "has"), [(1.999999, "$1.999999"), (1.996, "$1.996"), (1.99501, "$1.99501")]
)
def test_a_402_shows_a_balance_within_a_cent_of_the_gate_to_the_micro_dollar(
    dollars: float, has: str
) -> None:
    # In cents the balance would read "$2.00", what the run needs: it is shown exactly.
    with (
        _exactly(dollars) as fake,
        fake.client(max_retries=0) as client,
        pytest.raises(PaymentRequiredError) as caught,
    ):
        start(client)
    assert f"(needs $2.00, has {has})." in caught.value.message


def _exactly(dollars: float, profile: ProfileName = "current") -> FakePictograph:
    world = FakePictograph(seed=1, profile=profile, balance_usd=dollars)
    world.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    world.add_export(DATASET, EXPORT)
    return world


def test_current_starts_a_run_with_exactly_the_two_dollar_gate() -> None:
    # The gate is "spendable >= $2.00": exactly $2.00 starts a run, and nothing is debited.
    with _exactly(2.0) as fake, fake.client(max_retries=0) as client:
        quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
        run = start(client)

        assert quote.balance.required_to_start_micro_usd == 2_000_000
        assert quote.can_start is True
        assert quote.blocking == []
        assert run.status == "queued"
        assert fake.ledger == ()
        assert fake.balance_micro_usd == 2_000_000


async def test_async_current_starts_a_run_with_exactly_the_two_dollar_gate() -> None:
    with _exactly(2.0) as fake:
        async with fake.async_client(max_retries=0) as aclient:
            run = await aclient.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="x", wait=False
            )
        assert run.status == "queued"
        assert fake.ledger == ()


def test_classic_starts_a_run_with_exactly_its_precharge() -> None:
    # The balance exactly covers the pre-charge: the run starts and leaves $0.00.
    with _exactly(0.01, profile="classic") as fake, fake.client(max_retries=0) as client:
        required = client.training.quote(
            DATASET, EXPORT, pipeline_type="yolox"
        ).balance.required_to_start_micro_usd
        fake.top_up((required - 10_000) / 1_000_000)
        assert fake.balance_micro_usd == required

        quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
        run = start(client)

        assert quote.can_start is True
        assert quote.blocking == []
        assert run.status == "queued"
        [precharge] = entries(fake, "training_a10g_per_minute")
        assert precharge.amount == -required
        assert precharge.balance_after == 0
        assert client.credits.balance().budget_remaining_micro_usd == 0


async def test_async_create_errors(poor_current: FakePictograph) -> None:
    async with poor_current.async_client(max_retries=0) as aclient:
        with pytest.raises(PaymentRequiredError) as caught:
            await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="x")
        assert caught.value.credit_cost == 2_000_000
        with pytest.raises(NotFoundError):
            await aclient.training.create("missing", EXPORT, pipeline_type="yolox", name="x")
        with pytest.raises(ValidationError) as bad:
            await aclient.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="x", gpu_type=T4
            )
        assert bad.value.status_code == 422


def test_a_viewer_key_cannot_start_or_cancel_runs(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "owned")
    viewer_key = fake.add_api_key("viewer")

    with fake.client(api_key=viewer_key, max_retries=0) as viewer:
        with pytest.raises(ForbiddenError) as create_refused:
            viewer.training.create(DATASET, EXPORT, pipeline_type="yolox", name="v")
        with pytest.raises(ForbiddenError):
            viewer.training.cancel(run_id=run.id)
        with pytest.raises(ForbiddenError):
            viewer.training.bulk_cancel([run.id])
        # Reading is allowed.
        assert viewer.training.get(run_id=run.id).status == "queued"
        assert [r.id for r in viewer.training.list()] == [run.id]

        quote = viewer.training.quote(DATASET, EXPORT, pipeline_type="yolox")

    assert create_refused.value.status_code == 403
    assert create_refused.value.code == "forbidden"
    assert quote.can_start is False
    assert [b.code for b in quote.blocking] == ["forbidden"]
    assert client.training.get(run_id=run.id).status == "queued"
    assert len(client.training.list()) == 1


async def test_async_viewer_is_forbidden(fake: FakePictograph) -> None:
    viewer_key = fake.add_api_key("viewer")
    async with fake.async_client(api_key=viewer_key, max_retries=0) as viewer:
        with pytest.raises(ForbiddenError):
            await viewer.training.create(DATASET, EXPORT, pipeline_type="yolox", name="v")
        with pytest.raises(ForbiddenError):
            await viewer.training.bulk_cancel(["x"])
        quote = await viewer.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    assert quote.can_start is False
    assert quote.blocking[0].code == "forbidden"


def _key_of_a_removed_member(fake: FakePictograph, client: pictograph.Client) -> str:
    """A member key made by someone the owner then removed from the organization."""
    bob = fake.add_member("bob@example.com", "member")
    key = fake.add_api_key("member", member=bob)
    client.organizations.remove_member(bob.id)
    return key


def test_a_key_whose_creator_left_starts_no_run_and_its_quote_says_why(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    key = _key_of_a_removed_member(fake, client)
    balance = client.credits.balance()
    with fake.client(api_key=key, max_retries=0) as orphaned:
        quote = orphaned.training.quote(DATASET, EXPORT, pipeline_type="yolox")
        with pytest.raises(ForbiddenError) as refused:
            orphaned.training.create(DATASET, EXPORT, pipeline_type="yolox", name="o")
        assert orphaned.datasets.get(DATASET).name == DATASET  # it still reads

    assert quote.can_start is False
    assert [b.code for b in quote.blocking] == ["key_without_creator"]
    assert refused.value.status_code == 403
    assert refused.value.code == "key_without_creator"
    assert "creator is no longer a member" in str(refused.value)
    assert client.training.list() == []
    assert client.credits.balance() == balance
    # A key of a current member starts the run.
    assert start(client, "by-owner").status == "queued"


async def test_async_a_key_whose_creator_left_starts_no_run(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    key = _key_of_a_removed_member(fake, client)
    async with fake.async_client(api_key=key, max_retries=0) as orphaned:
        quote = await orphaned.training.quote(DATASET, EXPORT, pipeline_type="yolox")
        with pytest.raises(ForbiddenError) as refused:
            await orphaned.training.create(DATASET, EXPORT, pipeline_type="yolox", name="o")
    assert [b.code for b in quote.blocking] == ["key_without_creator"]
    assert refused.value.code == "key_without_creator"
    assert client.training.list() == []


def test_a_member_key_can_start_and_cancel(fake: FakePictograph) -> None:
    member_key = fake.add_api_key("member")
    with fake.client(api_key=member_key, max_retries=0) as member:
        run = start(member, "by-member")
        assert member.training.cancel(run_id=run.id).status == "cancelled"


# ── quote ──


def test_quote_describes_the_run_create_would_start(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    quote = client.training.quote(DATASET, EXPORT, pipeline_type="rfdetr_detection")

    assert quote.dataset_name == DATASET
    assert quote.export_name == EXPORT
    assert quote.image_count == 20
    assert quote.pipeline_type == "rfdetr_detection"
    assert quote.requested_gpu_type == "a10g"
    assert quote.gpu_type == "a10g"
    assert quote.fits is True
    assert quote.recommended_gpu_type == "a10g"
    assert quote.gpu_autoselect is None
    assert [t.gpu_type for t in quote.tiers] == ["a10g", "a100", "h100"]
    assert all(t.fits is True for t in quote.tiers)
    assert [t.total_mib for t in quote.tiers] == [t.total_mib for t in GPU_TIERS.values()]
    # Each tier at its own price, not the price of the tier the run would use.
    assert [t.micro_usd_per_minute for t in quote.tiers] == [
        CLASSIC.rate(t.gpu_type) for t in quote.tiers
    ]
    assert quote.dataset_id == client.datasets.get(DATASET).id
    assert quote.export_id == client.exports.get(DATASET, EXPORT).id
    assert quote.annotation_count == client.exports.get(DATASET, EXPORT).annotation_count
    assert quote.epochs == 50
    assert quote.classes == ["stop_sign", "yield"]
    assert quote.class_support is not None
    assert [c.name for c in quote.class_support.classes] == ["stop_sign", "yield"]
    assert quote.class_support.pipeline_type == "rfdetr_detection"
    assert quote.estimate.minutes > 0
    assert quote.estimate.micro_usd_per_minute == CLASSIC_A10G_RATE
    assert quote.estimate.total_micro_usd == CLASSIC.cost("a10g", quote.estimate.minutes)
    assert quote.balance.budget_remaining_micro_usd == fake.balance_micro_usd
    assert quote.balance.covers_estimate is True
    assert quote.can_start is True
    assert quote.blocking == []

    # Nothing was written.
    assert client.training.list() == []
    assert fake.ledger == ()

    run = client.training.create(
        DATASET, EXPORT, pipeline_type="rfdetr_detection", name="x", wait=False
    )
    assert run.config == quote.config
    assert run.gpu_type == quote.gpu_type
    assert run.total_epochs == quote.epochs
    [precharge] = entries(fake, "training_a10g_per_minute")
    assert -precharge.amount == quote.balance.required_to_start_micro_usd


def test_quote_reports_memory_fit_per_tier(client: pictograph.Client) -> None:
    quote = client.training.quote(
        DATASET, EXPORT, pipeline_type="rfdetr_detection", config={"model_size": "large"}
    )
    fits = {t.gpu_type: t.fits for t in quote.tiers}
    assert fits["h100"] is True
    assert fits["a10g"] is False
    assert quote.fits is False
    assert quote.recommended_gpu_type == next(g for g, ok in fits.items() if ok)


def test_auto_picks_the_largest_tier_when_no_tier_holds_the_run() -> None:
    # RF-DETR large at batch 8 and 1280 px peaks near 88.6 GB: more than any tier has.
    config = {"model_size": "large", "batch_size": 8, "image_size": 1280}
    with FakePictograph(seed=1, profile="current") as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=20, completed_images=20, classes=["stop_sign"])
        fake.add_export(DATASET, EXPORT)
        quote = client.training.quote(
            DATASET, EXPORT, pipeline_type="rfdetr_detection", gpu_type="auto", config=config
        )
        assert [t.fits for t in quote.tiers] == [False, False, False]
        assert quote.recommended_gpu_type == quote.gpu_type == "h100"
        assert quote.fits is False
        assert quote.gpu_autoselect is not None
        peak = quote.gpu_autoselect["predicted_peak_mib"]
        assert peak > GPU_TIERS["h100"].total_mib

        # The run starts on that tier all the same, and runs out of its memory.
        run = client.training.create(
            DATASET,
            EXPORT,
            pipeline_type="rfdetr_detection",
            gpu_type="auto",
            config=config,
            name="too-big",
            wait=False,
        )
        assert run.gpu_type == "h100"
        fake.clock.advance(hours=1)
        ended = client.training.get(run_id=run.id)
    assert ended.status == "failed"
    assert ended.error_message == (
        f"CUDA out of memory at epoch 1: the run needs about {peak} MiB and the h100 has "
        f"{GPU_TIERS['h100'].total_mib} MiB. Lower batch_size or model_size, or train on a "
        "larger GPU."
    )


def test_quote_for_yolox_has_no_memory_estimate(client: pictograph.Client) -> None:
    quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    assert quote.fits is None
    assert all(t.fits is None for t in quote.tiers)


def test_quote_blocks_when_the_balance_is_too_low(poor_current: FakePictograph) -> None:
    with poor_current.client(max_retries=0) as client:
        quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox", gpu_type="auto")
        assert client.training.list() == []
    assert quote.can_start is False
    assert [b.code for b in quote.blocking] == ["insufficient_credits"]
    assert quote.balance.required_to_start_micro_usd == 2_000_000
    assert quote.balance.budget_remaining_micro_usd == 1_500_000
    assert quote.requested_gpu_type == "auto"
    assert quote.gpu_autoselect is not None
    assert quote.gpu_autoselect["resolved_gpu_type"] == quote.gpu_type
    assert quote.tiers[0].micro_usd_per_minute == CURRENT_A10G_RATE
    assert poor_current.ledger == ()


@pytest.mark.parametrize(
    ("profile", "billing"),
    [
        ("classic", "the run is pre-charged and refunded what it does not use."),
        ("current", "a run is billed once, when it succeeds, for the GPU time it used."),
    ],
)
def test_quote_notes_how_its_profile_bills_a_run(profile: ProfileName, billing: str) -> None:
    with _exactly(100.0, profile) as fake, fake.client(max_retries=0) as client:
        quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    assert quote.estimate.note == f"An estimate only: {billing}"


def test_quote_says_when_the_balance_does_not_cover_the_estimate() -> None:
    # A cent cannot pay for a minute of any tier: the estimate is not covered.
    with _exactly(0.01) as fake, fake.client(max_retries=0) as client:
        quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    assert quote.balance.budget_remaining_micro_usd == 10_000
    assert quote.estimate.total_micro_usd > 10_000
    assert quote.balance.covers_estimate is False
    assert quote.can_start is False


def test_quote_lists_every_reason_a_run_cannot_start(poor_current: FakePictograph) -> None:
    # A viewer's key on a balance below the gate: two blocks, both reported.
    viewer_key = poor_current.add_api_key("viewer")
    with poor_current.client(api_key=viewer_key, max_retries=0) as viewer:
        quote = viewer.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    assert quote.can_start is False
    assert sorted(b.code for b in quote.blocking) == ["forbidden", "insufficient_credits"]
    assert all(b.message for b in quote.blocking)


def test_quote_raises_what_create_would_raise(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_export(DATASET, "pending", status="pending")
    with pytest.raises(NotFoundError):
        client.training.quote("missing", EXPORT, pipeline_type="yolox")
    with pytest.raises(ValidationError) as not_done:
        client.training.quote(DATASET, "pending", pipeline_type="yolox")
    assert not_done.value.status_code == 400
    with pytest.raises(ValidationError) as bad_gpu:
        client.training.quote(DATASET, EXPORT, pipeline_type="yolox", gpu_type=T4)
    assert bad_gpu.value.status_code == 422
    with pytest.raises(ValidationError) as bad_config:
        client.training.quote(DATASET, EXPORT, pipeline_type="yolox", config={"epochs": 0})
    assert bad_config.value.status_code == 400


async def test_async_quote(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    quote = await aclient.training.quote(DATASET, EXPORT, pipeline_type="classification")
    assert quote.can_start is True
    assert quote.pipeline_type == "classification"
    assert quote.config["model_size"] == "resnet50"
    assert await aclient.training.list() == []
    assert fake.ledger == ()


# ── OOM and the two-hour cap ──


def test_a_config_too_big_for_the_a10g_runs_out_of_memory(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "oom", config={"model_size": "x"})
    fake.clock.advance(minutes=10)
    failed = client.training.get(run_id=run.id)

    assert failed.status == "failed"
    assert failed.error_message is not None
    # It names the epoch it died in and what the tier has.
    assert failed.error_message.startswith("CUDA out of memory at epoch 1: the run needs about ")
    assert f" MiB and the a10g has {GPU_TIERS['a10g'].total_mib} MiB." in failed.error_message
    assert failed.model_id is None
    assert failed.completed_at is not None
    assert failed.eta_seconds is None
    # It died in its first epoch, so no epoch finished.
    assert failed.current_epoch == 1
    assert failed.metrics == {}


def test_the_same_config_completes_on_an_a100(client: pictograph.Client) -> None:
    run = client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="yolox",
        name="big",
        config={"model_size": "x"},
        gpu_type="a100",
    )
    assert run.status == "completed"
    assert run.gpu_type == "a100"


def test_a_run_longer_than_two_hours_fails_at_the_service_cap(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = create_past_the_cap(fake, client)

    fake.clock.advance(seconds=A10G_COLD_START + SERVICE_CAP_SECONDS - 1)
    last_poll = client.training.get(run_id=run.id)
    assert last_poll.status == "running"
    fake.clock.advance(seconds=2)
    failed = client.training.get(run_id=run.id)

    assert failed.status == "failed"
    assert failed.error_message is not None
    assert "2-hour limit" in failed.error_message
    assert failed.training_time_seconds == SERVICE_CAP_SECONDS
    assert failed.current_epoch < (failed.total_epochs or 0)
    # Its progress stays where the cap stopped it (a second after the last poll).
    assert 0 < failed.progress == last_poll.progress < 100
    # The message names the epoch the cap stopped, as the run itself reports it.
    assert f"at epoch {failed.current_epoch} of {failed.total_epochs}." in failed.error_message
    assert failed.model_id is None
    with pytest.raises(ApiError) as caught:
        client.training.wait_for_completion(run_id=run.id)
    assert caught.value.code == "job_failed"
    assert "2-hour limit" in caught.value.message


def test_a_run_stopped_at_the_service_cap_used_its_whole_precharge(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The pre-charge never exceeds the two-hour cap, and a run stopped at the cap used all
    # of it: nothing is left to give back, so no refund entry (refunds are positive).
    before = fake.balance_micro_usd
    run = create_past_the_cap(fake, client)
    fake.clock.advance(seconds=A10G_COLD_START + SERVICE_CAP_SECONDS + 1)
    assert client.training.get(run_id=run.id).status == "failed"

    [precharge] = entries(fake, "training_a10g_per_minute")
    assert precharge.amount == -CLASSIC.cost("a10g", SERVICE_CAP_SECONDS // 60)
    assert entries(fake, "training_refund_a10g") == []
    assert [e.operation for e in client.credits.history()] == ["training_a10g_per_minute"]
    assert fake.balance_micro_usd == before + precharge.amount


def test_a_faster_tier_trains_the_same_run_in_less_time(client: pictograph.Client) -> None:
    # The A100 works through images twice as fast as the A10G (each epoch's fixed
    # overhead does not shrink): the same run trains in less time there.
    config = {"epochs": 5}
    on_a10g = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="slow", config=config
    )
    on_a100 = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="fast", config=config, gpu_type="a100"
    )
    assert on_a10g.training_time_seconds is not None
    assert on_a100.training_time_seconds is not None
    assert on_a100.training_time_seconds < on_a10g.training_time_seconds


@pytest.mark.parametrize(("image_size", "fits"), [(664, True), (665, False)])
def test_a_run_needing_exactly_its_tiers_memory_fits(
    fake: FakePictograph, client: pictograph.Client, image_size: int, fits: bool
) -> None:
    # RF-DETR nano at batch 8 and 664 px is predicted to peak at exactly the A10G's
    # memory: the quote says it fits, and the run completes; a pixel more does not fit.
    config = {"model_size": "nano", "batch_size": 8, "image_size": image_size, "epochs": 2}
    quote = client.training.quote(DATASET, EXPORT, pipeline_type="rfdetr_detection", config=config)
    assert quote.fits is fits
    assert quote.tiers[0].fits is fits

    run = client.training.create(
        DATASET, EXPORT, pipeline_type="rfdetr_detection", name="snug", config=config, wait=False
    )
    fake.clock.advance(hours=1)
    done = client.training.get(run_id=run.id)
    assert done.status == ("completed" if fits else "failed")
    assert ("out of memory" in (done.error_message or "")) is not fits


def test_a_run_planned_for_exactly_two_hours_completes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 600 epochs of 12 seconds: the run needs the whole two hours, and exceeds nothing.
    fake.add_dataset("two-hours", images=80, completed_images=80)
    fake.add_export("two-hours", "two-hours-v1")
    run = client.training.create(
        "two-hours",
        "two-hours-v1",
        pipeline_type="yolox",
        name="exact",
        config={"epochs": 600},
        wait=False,
    )
    fake.clock.advance(seconds=A10G_COLD_START + SERVICE_CAP_SECONDS)

    done = client.training.get(run_id=run.id)
    assert done.status == "completed"
    assert done.error_message is None
    assert done.training_time_seconds == SERVICE_CAP_SECONDS
    assert done.current_epoch == done.total_epochs == 600


# ── config.json round-trip ──

ENVELOPE = {
    "_pictograph": {"schema_version": 1, "pipeline": "yolox"},
    "config": {"epochs": 3, "batch_size": 2},
}


def test_a_downloaded_config_envelope_is_unwrapped(client: pictograph.Client) -> None:
    run = start(client, config=ENVELOPE)
    assert "_pictograph" not in run.config
    assert "config" not in run.config
    assert run.config["epochs"] == 3
    assert run.config["batch_size"] == 2
    assert run.total_epochs == 3


def test_a_config_file_path_is_read_and_unwrapped(
    client: pictograph.Client, tmp_path: Path
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(ENVELOPE), encoding="utf-8")

    run = start(client, config=path)
    assert run.config["epochs"] == 3
    quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox", config=str(path))
    assert quote.config == run.config


def test_a_config_for_another_pipeline_is_refused(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as caught:
        start(client, pipeline_type="rfdetr_detection", config=ENVELOPE)
    assert caught.value.status_code == 400
    assert "yolox" in caught.value.message
    assert caught.value.field_errors[0]["loc"] == ["body", "config", "_pictograph", "pipeline"]


# ── versions of a model ──


def test_version_of_model_id_adds_a_version_to_the_same_model(client: pictograph.Client) -> None:
    first = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="v1")
    assert first.model_id is not None

    second = client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="rfdetr_detection",
        name="v2",
        version_of_model_id=first.model_id,
    )

    assert second.model_id == first.model_id
    versions = client.models.versions(model_id=first.model_id)
    assert sorted(v.version_number or 0 for v in versions.versions) == [1, 2]
    by_number = {v.version_number: v for v in versions.versions}
    assert by_number[1].training_run_id == first.id
    assert by_number[2].training_run_id == second.id
    assert versions.current_version_id == by_number[2].version_id
    assert len(client.models.list()) == 1


def test_version_of_model_id_and_a_dataset_id_are_read_in_any_case(
    client: pictograph.Client,
) -> None:
    first = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="v1")
    assert first.model_id is not None
    second = client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="yolox",
        name="v2",
        version_of_model_id=first.model_id.upper(),
    )
    assert second.model_id == first.model_id
    assert first.dataset_id is not None
    assert client.datasets.get(dataset_id=first.dataset_id.upper()).id == first.dataset_id


def test_version_of_an_unknown_model_is_not_found(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        start(client, version_of_model_id="00000000-0000-4000-8000-000000000000")
    assert client.training.list() == []


def test_version_of_something_that_is_no_model_id_is_refused(client: pictograph.Client) -> None:
    # Refused as a malformed id, before any lookup: no model could have it.
    with pytest.raises(ValidationError) as created:
        start(client, version_of_model_id="nightly")
    with pytest.raises(ValidationError) as quoted:
        client.training.quote(DATASET, EXPORT, pipeline_type="yolox", version_of_model_id="nightly")

    for caught in (created, quoted):
        assert caught.value.status_code == 422
        assert caught.value.message.startswith("'nightly' is not a valid ")
        assert caught.value.field_errors is not None
        [error] = caught.value.field_errors
        assert (error["loc"], error["type"]) == (["body", "version_of_model_id"], "uuid_parsing")
    assert client.training.list() == []


def test_version_of_a_model_of_another_task_is_refused(client: pictograph.Client) -> None:
    detector = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="det")
    with pytest.raises(ValidationError) as caught:
        start(client, pipeline_type="classification", version_of_model_id=detector.model_id)
    assert caught.value.status_code == 400


# ── raw HTTP: idempotency, routes, request ids ──

CREATE_BODY = {
    "dataset_name": DATASET,
    "export_name": EXPORT,
    "pipeline_type": "yolox",
    "gpu_type": "a10g",
    "config": {},
    "name": "idem",
}


def test_a_repeated_idempotency_key_replays_the_create(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    headers = {"Idempotency-Key": "5f1c0d6e2a8b4c3d9e7f6a5b4c3d2e1f"}
    with raw_http(fake) as http:
        first = http.post("/api/v1/developer/training/", json=CREATE_BODY, headers=headers)
        fake.clock.advance(seconds=5)
        second = http.post("/api/v1/developer/training/", json=CREATE_BODY, headers=headers)

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.content == first.content
    assert len(client.training.list()) == 1
    assert len(entries(fake, "training_a10g_per_minute")) == 1


def test_an_idempotency_key_reused_for_another_body_conflicts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    with raw_http(fake) as http:
        assert (
            http.post("/api/v1/developer/training/", json=CREATE_BODY, headers=headers).status_code
            == 200
        )
        other = http.post(
            "/api/v1/developer/training/", json={**CREATE_BODY, "name": "other"}, headers=headers
        )

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"
    assert [r.name for r in client.training.list()] == ["idem"]


def test_distinct_idempotency_keys_create_distinct_runs(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with raw_http(fake) as http:
        for key in ("a", "b"):
            response = http.post(
                "/api/v1/developer/training/", json=CREATE_BODY, headers={"Idempotency-Key": key}
            )
            assert response.status_code == 200
    assert len(client.training.list()) == 2


def test_a_create_body_with_gpu_count_is_refused(fake: FakePictograph) -> None:
    with raw_http(fake) as http:
        response = http.post("/api/v1/developer/training/", json={**CREATE_BODY, "gpu_count": 2})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", "gpu_count"]


def test_a_quote_body_with_a_name_is_refused(fake: FakePictograph) -> None:
    # The quote takes the create body without `name` (the SDK never sends one there).
    with raw_http(fake) as http:
        response = http.post("/api/v1/developer/training/quote", json=CREATE_BODY)
    assert response.status_code == 422
    [error] = response.json()["error"]["details"]["errors"]
    assert (error["loc"], error["type"]) == (["body", "name"], "extra_forbidden")


def test_the_collection_route_without_its_slash_is_answered_never_redirected(
    fake: FakePictograph,
) -> None:
    with raw_http(fake) as http:
        post = http.post("/api/v1/developer/training", json=CREATE_BODY)
        get = http.get("/api/v1/developer/training")
        with_slash = http.get("/api/v1/developer/training/")
    assert (post.status_code, get.status_code) == (200, 200)
    assert "location" not in post.headers
    assert "location" not in get.headers
    assert [r["id"] for r in get.json()["data"]] == [post.json()["data"]["id"]]
    assert get.json() == with_slash.json()


def test_by_name_prefix_is_not_a_route(fake: FakePictograph, client: pictograph.Client) -> None:
    start(client, "named")
    with raw_http(fake) as http:
        assert http.get("/api/v1/developer/training/by-name/named").status_code == 404


def test_every_response_carries_a_request_id(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, "rid")
    with raw_http(fake) as http:
        responses = [
            http.get(f"/api/v1/developer/training/{run.id}"),
            http.get("/api/v1/developer/training/", params={"limit": 1}),
            http.get("/api/v1/developer/training/nope"),
            http.get("/api/v1/developer/training/", params={"status": "bogus"}),
            http.post("/api/v1/developer/training/", json={"name": "x"}),
            http.post("/api/v1/developer/training/bulk-cancel", json={"run_ids": []}),
            http.get("/api/v1/developer/training"),
        ]
    with raw_http(fake, api_key="pk_live_wrong") as anonymous:
        responses.append(anonymous.get("/api/v1/developer/training/"))

    assert [r.status_code for r in responses] == [200, 200, 404, 422, 422, 422, 200, 401]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_the_sdk_reports_the_request_id_of_an_error(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.training.get("nope")
    assert caught.value.request_id


def test_list_pagination_object_reports_has_more(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    for i in range(3):
        start(client, f"p{i}")
    with raw_http(fake) as http:
        first = http.get("/api/v1/developer/training/", params={"limit": 2}).json()
        last = http.get("/api/v1/developer/training/", params={"limit": 2, "offset": 2}).json()
    assert first["pagination"]["has_more"] is True
    assert len(first["data"]) == 2
    assert last["pagination"]["has_more"] is False
    assert len(last["data"]) == 1
    assert first["pagination"]["total"] == 3


@pytest.mark.parametrize(("asked", "served"), [(12, 12), (1000, 1000), (5000, 1000)])
def test_list_cuts_a_page_at_a_thousand_runs(
    fake: FakePictograph, client: pictograph.Client, asked: int, served: int
) -> None:
    runs = [start(client, f"p{i}") for i in range(12)]

    assert len(client.training.list(limit=asked)) == len(runs)

    # A larger limit is cut to the cap, not refused: the page says the limit it used.
    assert fake.calls.last.response_json()["pagination"]["limit"] == served


def test_the_fake_answered_no_request_with_a_server_error(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # A sweep of odd but valid calls; each must be answered, never with a 500.
    start(client, "sweep", config={"class_overrides": {}})
    client.training.list(limit=1000, offset=10_000)
    client.training.bulk_cancel(["not-a-uuid", ""])
    with raw_http(fake) as http:
        http.post("/api/v1/developer/training/", content=b"not json")
        http.post("/api/v1/developer/training/", json=[1, 2])
        http.post("/api/v1/developer/training/quote", json={**CREATE_BODY, "config": None})
        http.post("/api/v1/developer/training/bulk-cancel", json={"run_ids": [1]})
        http.get("/api/v1/developer/training/", params={"limit": "x"})
    assert fake.server_errors == []


@pytest.mark.parametrize(
    ("argument", "value"), [("pipeline_type", "yolo-nas"), ("gpu_type", "t4"), ("gpu_type", "")]
)
def test_an_unknown_pipeline_or_gpu_is_refused_naming_the_choices(
    client: pictograph.Client, argument: str, value: str
) -> None:
    options: dict[str, Any] = {"pipeline_type": "yolox", argument: value}
    with pytest.raises(ValidationError) as refused:
        client.training.create(DATASET, EXPORT, name="r", **options)
    assert f"Unknown {argument} '{value}': choose one of '" in refused.value.message
    assert client.training.list() == []


async def test_async_a_blank_gpu_type_is_no_tier(aclient: pictograph.AsyncClient) -> None:
    # Left out (or null) is the default tier; blank text is refused as any unknown tier.
    with pytest.raises(ValidationError, match="Unknown gpu_type '': choose one of"):
        await aclient.training.quote(DATASET, EXPORT, pipeline_type="yolox", gpu_type="")  # type: ignore[arg-type]
    assert await aclient.training.list() == []
