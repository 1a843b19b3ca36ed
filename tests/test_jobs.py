"""The jobs feed through the real SDK: runs and exports as jobs, waits and cancels."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    PollTimeoutError,
    ValidationError,
)

from pictograph_testing import GPU_TIERS
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pictograph
    from pictograph.models.job import Job

    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
COLD_START = GPU_TIERS["a10g"].cold_start_seconds


def _start(client: pictograph.Client, name: str, **config: object) -> str:
    return client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, config=config or None, wait=False
    ).id


def _ids(jobs: Iterable[Job]) -> list[str]:
    return [job.id for job in jobs]


# ── a run as a job ──


def test_a_training_run_reads_as_a_job(fake: FakePictograph, client: pictograph.Client) -> None:
    run_id = _start(client, "r1", epochs=10)

    queued = client.jobs.get(run_id)
    assert (queued.id, queued.type, queued.name, queued.status) == (
        run_id,
        "training",
        "r1",
        "queued",
    )
    assert queued.progress == 0.0
    assert queued.cancel_path == f"/api/v1/developer/training/{run_id}/cancel"
    assert queued.cancellable
    assert queued.detail == {
        "pipeline_type": "yolox",
        "current_epoch": 0,
        "total_epochs": 10,
        "gpu_type": "a10g",
    }
    assert queued.dataset_id == fake.world.dataset(fake.organization_id, DATASET).id

    fake.clock.advance(seconds=COLD_START + 5)
    running = client.jobs.get(run_id)
    assert running.status == "running"
    assert running.progress is not None
    assert 0 < running.progress < 100
    assert isinstance(running.progress, float)
    assert running.detail["current_epoch"] >= 1
    assert running.updated_at is not None
    assert running.created_at is not None
    assert running.updated_at > running.created_at

    done = client.jobs.wait(run_id)
    assert done.status == "completed"
    assert done.progress == 100.0
    assert done.cancel_path is None
    assert not done.cancellable
    assert done.completed_at == client.training.get(run_id=run_id).completed_at
    assert done.detail["current_epoch"] == 10


def test_an_export_reads_as_a_job(fake: FakePictograph, client: pictograph.Client) -> None:
    export = client.exports.create(DATASET, "v2", wait=False)

    pending = client.jobs.get(export.id)
    assert (pending.type, pending.status, pending.name, pending.progress) == (
        "export",
        "queued",
        "v2",
        0.0,
    )
    assert pending.cancel_path is None
    assert pending.detail["format"] == "pictograph"
    fake.clock.advance(seconds=3)
    processing = client.jobs.get(export.id)
    assert processing.status == "running"
    assert processing.progress is not None
    assert 0 < processing.progress < 100

    done = client.jobs.wait(export.id)
    assert (done.status, done.progress, done.error) == ("completed", 100.0, None)


def test_a_failed_job_carries_its_error(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.faults.fail_export("disk full")
    export = client.exports.create(DATASET, "doomed", wait=False)
    oom = _start(client, "oom", model_size="x")
    fake.clock.advance(minutes=5)

    assert client.jobs.get(export.id).error == "disk full"
    failed_run = client.jobs.get(oom)
    assert failed_run.status == "failed"
    assert failed_run.error is not None
    assert "out of memory" in failed_run.error


# ── list ──


def test_list_filters_by_status_and_type(fake: FakePictograph, client: pictograph.Client) -> None:
    done = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="done").id
    cancelled = _start(client, "gone")
    client.training.cancel(cancelled)
    running = _start(client, "running", epochs=400)
    fake.clock.advance(seconds=COLD_START + 1)
    queued = _start(client, "queued")
    export = client.exports.create(DATASET, "v2", wait=False).id
    finished_export = client.exports.get(DATASET, EXPORT).id

    assert _ids(client.jobs.list()) == [export, queued, running]
    assert _ids(client.jobs.list(status="active", type="training")) == [queued, running]
    assert _ids(client.jobs.list(status="queued")) == [export, queued]
    assert _ids(client.jobs.list(status="running")) == [running]
    assert _ids(client.jobs.list(status="finished")) == [cancelled, done, finished_export]
    assert _ids(client.jobs.list(status="completed")) == [done, finished_export]
    assert _ids(client.jobs.list(status="cancelled")) == [cancelled]
    assert _ids(client.jobs.list(status="failed")) == []
    assert _ids(client.jobs.list(status="all", type="export")) == [export, finished_export]
    assert _ids(client.jobs.list(status="all")) == [
        export,
        queued,
        running,
        cancelled,
        done,
        finished_export,
    ]
    # Kinds of work the fake does not simulate simply have no jobs.
    assert _ids(client.jobs.list(status="all", type="auto_annotate")) == []


def test_jobs_created_at_one_instant_keep_their_creation_order(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    first = client.exports.create(DATASET, "a", wait=False).id
    run = _start(client, "r")
    last = client.exports.create(DATASET, "b", wait=False).id
    assert _ids(client.jobs.list()) == [last, run, first]


def test_list_pages_newest_first(fake: FakePictograph, client: pictograph.Client) -> None:
    ids = []
    for n in range(5):
        ids.append(_start(client, f"r{n}"))
        fake.clock.advance(seconds=1)
    newest_first = ids[::-1]

    assert _ids(client.jobs.list(page_size=2)) == newest_first
    assert _ids(client.jobs.list(page_size=2, max_total=3)) == newest_first[:3]
    assert client.jobs.list().first() is not None
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        body = http.get("/api/v1/developer/jobs?limit=500&offset=1").json()
    assert body["pagination"] == {"limit": 100, "offset": 1, "total": 5, "has_more": False}
    assert [j["id"] for j in body["data"]] == newest_first[1:]


def test_every_status_pages_as_it_lists(fake: FakePictograph, client: pictograph.Client) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="done")
    for n in range(3):
        _start(client, f"r{n}", epochs=400)
        client.exports.create(DATASET, f"v{n + 2}", wait=False)
        fake.clock.advance(seconds=1)

    for status in ("all", "active", "finished", "queued", "running", "completed"):
        whole = _ids(client.jobs.list(status=status, page_size=100))
        assert _ids(client.jobs.list(status=status, page_size=2)) == whole
        assert _ids(client.jobs.list(status=status, page_size=3, max_total=4)) == whole[:4]
    assert len(_ids(client.jobs.list(status="all"))) == 8


def test_list_refuses_an_unknown_status(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        list(client.jobs.list(status="done"))  # type: ignore[arg-type]
    assert refused.value.field_errors is not None
    assert refused.value.field_errors[0]["loc"] == ["query", "status"]


def test_the_feed_is_the_organizations_own(fake: FakePictograph, client: pictograph.Client) -> None:
    run_id = _start(client, "mine")
    other = fake.world.add_organization(balance_usd=10)
    with fake.client(
        api_key=fake.world.add_api_key(other.id, role="owner").key, max_retries=0
    ) as outsider:
        assert _ids(outsider.jobs.list(status="all")) == []
        with pytest.raises(NotFoundError):
            outsider.jobs.get(run_id)
    with pytest.raises(NotFoundError):
        client.jobs.get(UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        client.jobs.get("not a job")


def test_a_runs_job_is_read_afresh_until_it_ends_and_dated_by_its_last_change(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run_id = _start(client, "r", epochs=10)
    [queued] = client.jobs.list(status="all", type="training")
    assert queued.status == "queued"
    assert queued.created_at is not None
    assert queued.updated_at == queued.created_at

    fake.clock.advance(seconds=COLD_START + 5)
    # The same listing read again: a live run's job is its state now, never kept.
    [running] = client.jobs.list(status="all", type="training")
    assert running.status == "running"
    assert running.updated_at == queued.created_at + timedelta(seconds=COLD_START)

    done = client.jobs.wait(run_id)
    [ended] = client.jobs.list(status="all", type="training")
    assert ended.status == "completed"
    assert ended.completed_at == done.completed_at
    assert ended.updated_at == done.completed_at


def test_an_export_job_reads_its_progress_and_times_off_the_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 20 images without their files: 2 s queued, then 3 s + 0.05 s an image processing.
    export = client.exports.create(DATASET, "v2", wait=False)
    queued = client.jobs.get(export.id)
    assert queued.created_at is not None
    assert queued.updated_at == queued.created_at
    assert queued.detail == {
        "dataset_name": DATASET,
        "format": "pictograph",
        "image_count": 20,
        "include_images": False,
    }

    fake.clock.advance(seconds=2 + 1.3)
    running = client.jobs.get(export.id)
    assert (running.status, running.progress) == ("running", 32.5)
    # Its last change was its start.
    assert running.updated_at == queued.created_at + timedelta(seconds=2)
    fake.clock.advance(seconds=2.68)
    # Never 100 while still processing, however close to the end.
    assert client.jobs.get(export.id).progress == 99.0

    done = client.jobs.wait(export.id)
    assert done.completed_at == queued.created_at + timedelta(seconds=6)
    assert done.updated_at == done.completed_at


def test_a_failed_export_job_has_no_progress_and_ended_when_it_failed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_export("disk full")
    export = client.exports.create(DATASET, "doomed", wait=False)
    fake.clock.advance(minutes=1)

    failed = client.jobs.get(export.id)
    assert (failed.status, failed.progress, failed.error) == ("failed", None, "disk full")
    assert failed.created_at is not None
    assert failed.completed_at == failed.created_at + timedelta(seconds=6)
    assert failed.updated_at == failed.completed_at


def test_the_feed_reads_at_most_the_newest_thousand_jobs(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The fixture's export and a thousand after it: the oldest falls off every filter.
    oldest = client.exports.get(DATASET, EXPORT).id
    newest_first = [fake.add_export(DATASET, f"v{n}").id for n in range(1000)][::-1]

    assert _ids(client.jobs.list(status="all", page_size=100)) == newest_first
    assert _ids(client.jobs.list(status="completed", page_size=100)) == newest_first
    assert oldest not in _ids(client.jobs.list(status="finished", page_size=100))
    with raw(fake) as http:
        body = http.get("/api/v1/developer/jobs?status=all&limit=100&offset=900").json()
    assert body["pagination"] == {"limit": 100, "offset": 900, "total": 1000, "has_more": False}


def test_a_job_id_is_found_in_any_case_and_an_unknown_one_is_named(
    client: pictograph.Client,
) -> None:
    run_id = _start(client, "r")
    assert client.jobs.get(run_id.upper()).id == run_id
    with pytest.raises(NotFoundError) as missing:
        client.jobs.get(UNKNOWN_ID)
    assert missing.value.message == f"Job '{UNKNOWN_ID}' not found"


def test_a_queued_runs_progress_is_a_float_on_the_wire(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The spec: progress is an int on a TrainingRun but a float on a Job.
    run_id = _start(client, "r")
    with raw(fake) as http:
        job = http.get(f"/api/v1/developer/jobs/{run_id}").json()["data"]
    assert job["progress"] == 0.0
    assert isinstance(job["progress"], float)


# ── wait and cancel ──


def test_cancel_a_training_run_through_its_job(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run_id = _start(client, "r")
    fake.clock.advance(seconds=COLD_START + 10)

    cancelled = client.jobs.cancel(run_id)

    assert cancelled.status == "cancelled"
    assert cancelled.cancel_path is None
    assert client.training.get(run_id=run_id).status == "cancelled"
    refunds = [e for e in fake.ledger if e.operation == "training_refund_a10g"]
    assert len(refunds) == 1


def test_nothing_is_sent_for_a_job_that_cannot_be_cancelled(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    export_id = client.exports.get(DATASET, EXPORT).id
    done = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="done").id
    pending_export = client.exports.create(DATASET, "v2", wait=False).id
    sent: list[httpx.Request] = []
    client._transport._client.event_hooks["request"].append(sent.append)

    for job_id, reason in (
        (export_id, "already completed"),
        (done, "already completed"),
        (pending_export, "cannot be cancelled through the API"),
    ):
        with pytest.raises(ValidationError) as refused:
            client.jobs.cancel(job_id)
        assert reason in refused.value.message
    assert [r.method for r in sent] == ["GET"] * 3


def test_a_viewer_cannot_cancel(fake: FakePictograph, client: pictograph.Client) -> None:
    run_id = _start(client, "r")
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert viewer.jobs.get(run_id).cancellable
        with pytest.raises(ForbiddenError):
            viewer.jobs.cancel(run_id)
    assert client.jobs.get(run_id).status == "queued"


def test_wait_raises_for_failed_and_cancelled_jobs(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    oom = _start(client, "oom", model_size="x")
    with pytest.raises(ApiError) as failed:
        client.jobs.wait(oom)
    assert failed.value.code == "job_failed"
    assert "ended with status 'failed'" in failed.value.message

    gone = _start(client, "gone")
    client.training.cancel(gone)
    with pytest.raises(ApiError) as cancelled:
        client.jobs.wait(gone)
    assert cancelled.value.code == "job_cancelled"


def test_wait_times_out_on_the_virtual_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    long_run = _start(client, "long", epochs=400)
    with pytest.raises(PollTimeoutError):
        client.jobs.wait(long_run, timeout=30.0)
    assert fake.clock.monotonic() == 30.0


async def test_async_jobs(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False
    )
    export = await aclient.exports.create(DATASET, "v2", wait=False)

    active = [job.id async for job in aclient.jobs.list()]
    assert active == [export.id, run.id]
    assert (await aclient.jobs.get(run.id)).type == "training"
    done = await aclient.jobs.wait(export.id)
    assert done.status == "completed"

    cancelled = await aclient.jobs.cancel(run.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(ApiError) as ended:
        await aclient.jobs.wait(run.id)
    assert ended.value.code == "job_cancelled"
    assert [job.id async for job in aclient.jobs.list(status="finished", type="training")] == [
        run.id
    ]


async def test_async_an_export_job_reads_its_progress_and_an_unknown_job_is_named(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    export = await aclient.exports.create(DATASET, "v2", wait=False)
    fake.clock.advance(seconds=2 + 1.3)  # 1.3 s of its 4 s processing

    running = await aclient.jobs.get(export.id.upper())
    assert (running.id, running.status, running.progress) == (export.id, "running", 32.5)
    with pytest.raises(NotFoundError) as missing:
        await aclient.jobs.get(UNKNOWN_ID)
    assert missing.value.message == f"Job '{UNKNOWN_ID}' not found"
