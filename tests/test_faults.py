"""Faults on demand, through the real SDK (sync and async): failed, slow and dropped
requests, retries and Idempotency-Key replay, failing and preempted runs, rate limits."""

from __future__ import annotations

import asyncio
import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    AuthError,
    ConflictError,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)

from pictograph_testing import FailureReason, FakePictograph, FaultSpec, TeardownCheckFailed
from pictograph_testing.catalog import GPU_TIERS, SERVICE_CAP_SECONDS
from pictograph_testing.world.images import synthetic_image
from tests.conftest import DATASET, EXPORT, create_past_the_cap

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing.server import FakeServer

CREATE = ("POST", "training/")
A10G_COLD_START = GPU_TIERS["a10g"].cold_start_seconds


def start(client: pictograph.Client, name: str = "run", **kwargs: Any) -> Any:
    return client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False, **kwargs
    )


async def astart(client: pictograph.AsyncClient, name: str = "run", **kwargs: Any) -> Any:
    return await client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False, **kwargs
    )


async def balance(fake: FakePictograph, use_async: bool, **options: Any) -> None:
    """Read the balance with a fresh client of the fake, sync or async."""
    if use_async:
        async with fake.async_client(**options) as asdk:
            await asdk.credits.balance()
    else:
        with fake.client(**options) as sdk:
            sdk.credits.balance()


async def create(fake: FakePictograph, use_async: bool, **options: Any) -> Any:
    """Start a run with a fresh client of the fake, sync or async, without waiting."""
    if use_async:
        async with fake.async_client(**options) as asdk:
            return await astart(asdk)
    with fake.client(**options) as sdk:
        return start(sdk)


def run_ids(fake: FakePictograph) -> list[str]:
    """The ids of the runs the fake holds, as the SDK lists them (newest first)."""
    with fake.client(max_retries=0) as sdk:
        return [run.id for run in sdk.training.list()]


def precharges(fake: FakePictograph) -> list[Any]:
    return [e for e in fake.ledger if e.operation.endswith("_per_minute")]


# ── a status before or after the handler ──


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
def test_a_create_retried_after_a_503_makes_one_run_and_one_charge(
    fake: FakePictograph, after: bool
) -> None:
    fake.faults.fail_next(*CREATE, status=503, after=after)

    with fake.client() as sdk:
        run = start(sdk)

    assert [e.metadata for e in precharges(fake)] == [{"run_id": run.id}]
    first, second = fake.calls
    assert first.status == 503
    assert first.fault == f"injected 503 {'after' if after else 'before'} the handler"
    assert first.response_json()["error"]["code"] == "service_unavailable"
    assert second.status == 200
    assert second.fault is None
    assert second.response_json()["data"]["id"] == run.id
    assert run_ids(fake) == [run.id]


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
async def test_an_async_create_retried_after_a_503_makes_one_run_and_one_charge(
    fake: FakePictograph, after: bool
) -> None:
    fake.faults.fail_next(*CREATE, status=503, after=after)

    async with fake.async_client() as sdk:
        run = await astart(sdk)

    assert len(precharges(fake)) == 1
    assert [c.status for c in fake.calls] == [503, 200]
    assert run_ids(fake) == [run.id]


def test_without_an_idempotency_key_a_lost_answer_means_the_work_is_done_twice(
    fake: FakePictograph,
) -> None:
    # Why the SDK sends Idempotency-Key: a raw retry of a POST whose answer was lost.
    fake.faults.fail_next(*CREATE, status=503, after=True)
    body = {"dataset_name": DATASET, "export_name": EXPORT, "pipeline_type": "yolox"}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        headers = {"X-API-Key": fake.api_key}
        assert http.post("/api/v1/developer/training/", json=body, headers=headers).is_error
        assert http.post("/api/v1/developer/training/", json=body, headers=headers).is_success

    assert len(run_ids(fake)) == 2
    assert len(precharges(fake)) == 2


def test_the_replayed_answer_is_the_stored_one(fake: FakePictograph) -> None:
    fake.faults.fail_next(*CREATE, status=502, after=True)
    body = {"dataset_name": DATASET, "export_name": EXPORT, "pipeline_type": "yolox"}
    headers = {"X-API-Key": fake.api_key, "Idempotency-Key": "0" * 32}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        lost = http.post("/api/v1/developer/training/", json=body, headers=headers)
        replayed = http.post("/api/v1/developer/training/", json=body, headers=headers)

    assert lost.status_code == 502
    assert lost.json()["error"]["details"] == {"injected": True}
    assert replayed.status_code == 200
    assert replayed.headers["idempotent-replayed"] == "true"
    assert len(run_ids(fake)) == 1


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_multipart_upload_retried_after_a_lost_answer_is_replayed(
    fake: FakePictograph, use_async: bool
) -> None:
    # httpx draws a new multipart boundary for each attempt: the retry is the same
    # request all the same, and gets the stored answer, not a 409.
    with fake.client(max_retries=0) as sdk:
        sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    image = synthetic_image(64, 48, "image/png", "a")
    fake.faults.fail_next("POST", "models/{model}/predict", status=503, after=True)

    if use_async:
        async with fake.async_client() as asdk:
            result = await asdk.models.predict("m1", image=image, confidence=0.05)
    else:
        with fake.client() as sdk:
            result = sdk.models.predict("m1", image=image, confidence=0.05)

    lost, replayed = fake.calls.filter("POST", "models/{model}/predict")
    assert (lost.status, replayed.status) == (503, 200)
    assert lost.body != replayed.body  # another boundary
    assert result.model_type == "object_detection"
    assert fake.world.inference_pool.used_today == 1  # run once


def test_another_file_under_the_same_key_is_still_a_conflict(fake: FakePictograph) -> None:
    with fake.client(max_retries=0) as sdk:
        model_id = sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1").model_id
    headers = {"X-API-Key": fake.api_key, "Idempotency-Key": "1" * 32}
    url = f"/api/v1/developer/models/{model_id}/predict"
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        first, second = (
            http.post(url, files={"file": ("a.png", content)}, headers=headers)
            for content in (
                synthetic_image(64, 48, "image/png", "a"),
                synthetic_image(64, 48, "image/png", "b"),
            )
        )

    assert first.status_code == 200
    assert second.status_code == 409
    assert "already used for a different request" in second.json()["error"]["message"]


def test_other_query_values_under_the_same_key_are_a_conflict(fake: FakePictograph) -> None:
    # `models.predict` sends its thresholds in the query: another threshold under one
    # key is another request, refused, not answered with the first one's findings.
    with fake.client(max_retries=0) as sdk:
        model_id = sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1").model_id
    headers = {"X-API-Key": fake.api_key, "Idempotency-Key": "2" * 32}
    url = f"/api/v1/developer/models/{model_id}/predict"
    image = synthetic_image(64, 48, "image/png", "a")
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        first, again, other = (
            http.post(
                url,
                params={"confidence_threshold": threshold},
                files={"file": ("a.png", image)},
                headers=headers,
            )
            for threshold in (0.95, 0.95, 0.05)
        )

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    message = other.json()["error"]["message"]
    assert "already used for a different request" in message
    assert "confidence_threshold=0.95" in message
    assert fake.world.inference_pool.used_today == 1


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_every_retryable_status_is_retried_until_the_fault_is_spent(
    fake: FakePictograph, status: int
) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=status, times=2)

    with fake.client() as sdk:
        sdk.credits.balance()

    assert [c.status for c in fake.calls] == [status, status, 200]
    assert fake.calls.filter(fault=True).assert_called(times=2)
    assert not fake.faults.pending


def test_a_fault_that_outlasts_the_retries_reaches_the_caller(fake: FakePictograph) -> None:
    fault = fake.faults.fail_next("GET", "credits/balance", status=500, times=4)

    with fake.client() as sdk, pytest.raises(ServerError) as raised:
        sdk.credits.balance()

    assert raised.value.status_code == 500
    assert raised.value.code == "internal_error"
    assert fault.fired == 4
    assert fault.remaining == 0
    fake.calls.assert_called("GET", "/api/v1/developer/credits/balance", status=500, times=4)


def test_a_4xx_fault_is_not_retried(fake: FakePictograph) -> None:
    fake.faults.fail_next("POST", "training/*", status=409, message="Busy: try later.")

    with fake.client() as sdk, pytest.raises(ConflictError, match=r"Busy: try later\."):
        start(sdk)

    assert len(fake.calls) == 1
    assert not run_ids(fake)


# ── 429 and Retry-After ──


def test_a_429_is_waited_out_on_the_virtual_clock(fake: FakePictograph) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=429, retry_after=7)

    with fake.client() as sdk:
        sdk.credits.balance()

    first, second = fake.calls
    assert first.status == 429
    assert first.response_json()["error"]["details"]["retry_after"] == 7
    # The SDK waits max(Retry-After, its backoff): 7 s of virtual time, no real time.
    assert second.elapsed - first.elapsed == pytest.approx(7.0)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_429_without_retries_is_a_rate_limit_error(
    fake: FakePictograph, use_async: bool
) -> None:
    fake.faults.fail_next(status=429, retry_after=30)

    with pytest.raises(RateLimitError) as raised:
        await balance(fake, use_async, max_retries=0)

    assert raised.value.retry_after == 30
    assert raised.value.code == "rate_limited"


@pytest.mark.parametrize(("seconds", "attempts"), [(120.0, 4), (120.00001, 1), (12.3456789, 4)])
def test_a_retry_after_is_sent_as_the_float_it_is(
    fake: FakePictograph, seconds: float, attempts: int
) -> None:
    """The SDK waits out a Retry-After of up to 120 s and raises past it: a wait a hair
    over reaches it as what it is, not rounded to 120."""
    fake.faults.fail_next("GET", "credits/balance", status=429, retry_after=seconds, times=4)
    with fake.client() as sdk, pytest.raises(RateLimitError) as raised:
        sdk.credits.balance()
    assert raised.value.retry_after == seconds
    assert len(fake.calls) == attempts


def test_a_retry_after_beyond_the_sdks_patience_is_raised_at_once(fake: FakePictograph) -> None:
    fake.faults.fail_next(status=429, retry_after=600, times=5)

    with fake.client() as sdk, pytest.raises(RateLimitError) as raised:
        sdk.credits.balance()

    assert raised.value.retry_after == 600
    assert len(fake.calls) == 1  # over 120 s: the SDK does not wait, it raises


# ── transport errors ──


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ("connect", NetworkError),
        ("connect_timeout", RequestTimeoutError),
        ("read_timeout", RequestTimeoutError),
        ("read_error", NetworkError),
    ],
)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_transport_errors_reach_the_sdk_as_network_errors(
    fake: FakePictograph, error: Any, raised: type[Exception], use_async: bool
) -> None:
    fake.faults.fail_next("GET", "credits/balance", error=error)

    with pytest.raises(raised) as caught:
        await balance(fake, use_async, max_retries=0)

    assert "injected by pictograph-testing" in str(caught.value)
    call = fake.calls.last
    assert call.status == 0
    assert call.response_body == b""
    assert call.fault is not None
    assert call.fault.startswith("injected ")


@pytest.mark.parametrize("error", ["connect", "read_timeout", "read_error"])
def test_transport_errors_are_retried(fake: FakePictograph, error: Any) -> None:
    fake.faults.fail_next("GET", "credits/balance", error=error, times=3)

    with fake.client() as sdk:
        sdk.credits.balance()

    assert [c.status for c in fake.calls] == [0, 0, 0, 200]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_timeout_after_the_work_is_replayed_not_repeated(
    fake: FakePictograph, use_async: bool
) -> None:
    fake.faults.fail_next(*CREATE, error="read_timeout", after=True)

    run = await create(fake, use_async)

    assert len(precharges(fake)) == 1
    assert [c.status for c in fake.calls] == [0, 200]
    assert run_ids(fake) == [run.id]


def test_a_connection_that_never_opened_cannot_fail_after_the_handler(
    fake: FakePictograph,
) -> None:
    with pytest.raises(ValueError, match="before any request reaches the handler"):
        fake.faults.fail_next(error="connect", after=True)


# ── delays ──


def test_a_delay_answers_later_on_the_virtual_clock(fake: FakePictograph) -> None:
    fake.faults.delay_next(12.5, "GET", "credits/balance")

    with fake.client() as sdk:
        sdk.credits.balance()
        sdk.credits.balance()

    slow, quick = fake.calls
    assert slow.fault == "delayed 12.5s"
    assert slow.elapsed == pytest.approx(12.5)
    assert quick.elapsed == pytest.approx(12.5)
    assert quick.fault is None


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("delay", [45, 10], ids=["past-the-timeout", "as-long-as-the-timeout"])
async def test_a_delay_that_reaches_the_client_timeout_is_a_timeout_with_the_work_done(
    fake: FakePictograph, use_async: bool, delay: int
) -> None:
    # The client's read timeout fires when the wait reaches it: an answer due at that
    # very instant is not read either.
    fake.faults.delay_next(delay, *CREATE)

    with pytest.raises(RequestTimeoutError):
        await create(fake, use_async, max_retries=0, timeout=10)

    # The client gave up at its 10 s timeout; the run was created all the same.
    assert fake.clock.monotonic() == pytest.approx(10.0)
    assert fake.calls.last.fault == f"delayed {delay}s: timed out"
    assert len(run_ids(fake)) == 1


async def test_concurrent_delays_overlap_on_the_virtual_clock(fake: FakePictograph) -> None:
    # Two requests in flight at once, each answered 5 s late, are both answered 5 s on,
    # as against a slow API: their delays share the timeline, as coupled sleeps do.
    fake.faults.delay_next(5, "GET", "credits/balance", times=2)
    async with fake.async_client() as sdk:
        await asyncio.gather(sdk.credits.balance(), sdk.credits.balance())
        assert fake.clock.monotonic() == pytest.approx(5.0)
        assert [c.elapsed for c in fake.calls] == pytest.approx([5.0, 5.0])
        assert [c.fault for c in fake.calls] == ["delayed 5s", "delayed 5s"]

        # Different delays: each is answered at its own, and a quick request between them
        # at once.
        fake.faults.delay_next(3, "GET", "credits/balance")
        fake.faults.delay_next(8, "GET", "credits/history")
        await asyncio.gather(sdk.credits.history(), sdk.credits.balance(), sdk.datasets.list())
    assert fake.clock.monotonic() == pytest.approx(13.0)
    # The journal lists them as they were answered.
    answered = [(c.path.rsplit("/", 1)[-1], c.elapsed) for c in fake.calls[2:]]
    assert answered == [("", 5.0), ("balance", 8.0), ("history", 13.0)]


async def test_a_request_cancelled_during_its_delay_is_journaled_unanswered(
    fake: FakePictograph,
) -> None:
    fake.faults.delay_next(5, "GET", "credits/balance")
    async with fake.async_client() as sdk:
        slow = asyncio.ensure_future(sdk.credits.balance())

        async def cancel_it() -> None:
            await fake.clock.async_sleep(1)
            slow.cancel()

        await cancel_it()
        with pytest.raises(asyncio.CancelledError):
            await slow
    assert fake.clock.monotonic() == pytest.approx(1.0)
    (call,) = fake.calls
    assert call.status == 0
    assert call.elapsed == pytest.approx(1.0)
    assert call.fault == "delayed 5s; cancelled while the answer was delayed"


async def test_concurrent_delays_past_the_timeout_time_out_together(
    fake: FakePictograph,
) -> None:
    fake.faults.delay_next(45, *CREATE, times=2)
    async with fake.async_client(max_retries=0, timeout=10) as sdk:
        failed = await asyncio.gather(
            sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a", wait=False),
            sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="b", wait=False),
            return_exceptions=True,
        )
    assert [type(f) for f in failed] == [RequestTimeoutError, RequestTimeoutError]
    assert fake.clock.monotonic() == pytest.approx(10.0)
    assert [c.fault for c in fake.calls] == ["delayed 45s: timed out"] * 2
    assert len(run_ids(fake)) == 2  # the work was done all the same


# ── matching ──


def test_faults_match_method_and_path_patterns(fake: FakePictograph) -> None:
    with fake.client() as sdk:
        run = start(sdk)
        fake.faults.fail_next("GET", "training/*", status=503)  # one segment
        fake.faults.fail_next("POST", "/api/v1/developer/**", status=503)  # any depth
        fake.faults.fail_next(path=re.compile(r".*/credits/(balance|history)"), status=503)
        sdk.training.get(run_id=run.id)
        sdk.training.cancel(run_id=run.id)
        sdk.credits.history()

    assert not fake.faults.pending
    assert [c.status for c in fake.calls.filter(fault=True)] == [503, 503, 503]
    assert [c.path.split("/")[4] for c in fake.calls.filter(fault=True)] == [
        "training",
        "training",
        "credits",
    ]


def test_a_fault_waits_for_a_matching_request(fake: FakePictograph) -> None:
    fault = fake.faults.fail_next("DELETE", "models/*", status=500)

    with fake.client() as sdk:
        sdk.credits.balance()
        start(sdk)

    assert fault.fired == 0
    pending = fake.faults.pending  # read now: cleared below
    assert pending == (fault,)
    assert not fake.calls.filter(fault=True)
    fake.faults.clear()
    assert not fake.faults.pending
    assert not fake.faults.armed


def test_faults_fire_in_the_order_they_were_armed(fake: FakePictograph) -> None:
    fake.faults.fail_next(status=502)
    fake.faults.fail_next(status=504)

    with fake.client() as sdk:
        sdk.credits.balance()

    assert [c.status for c in fake.calls] == [502, 504, 200]


def test_faults_touch_signed_url_transfers_too(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m")
    assert run.model_id is not None
    fake.faults.fail_next("GET", "/_storage/**", status=503)

    with pytest.raises(ApiError, match="HTTP 503"):
        client.models.download(model_id=run.model_id, output_path=tmp_path / "m.onnx")

    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 200}, "status must be a 4xx or 5xx"),
        ({"status": 503, "error": "connect"}, "not both"),
        ({"error": "dns"}, "unknown transport error"),
        ({"error": "read_error", "retry_after": 3}, "a transport error .* sends no answer"),
        ({"error": "connect", "message": "down"}, "a transport error .* sends no answer"),
        ({"times": 0}, "times must be a whole number >= 1"),
        ({"retry_after": -1}, "retry_after must be a finite number of seconds >= 0"),
        (
            {"retry_after": math.inf},
            r"retry_after must be a finite number of seconds >= 0, got inf",
        ),
        ({"after": "yes"}, "after must be true or false"),
        ({"method": 7}, "method must be a string"),
    ],
)
def test_impossible_faults_are_refused(
    fake: FakePictograph, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fake.faults.fail_next(**kwargs)
    assert not fake.faults.armed


@pytest.mark.parametrize("seconds", [-5, 0, math.inf, math.nan, True])
def test_a_delay_of_no_time_or_of_endless_time_is_refused(
    fake: FakePictograph, seconds: float
) -> None:
    with pytest.raises(ValueError, match=r"seconds must be a finite number of seconds > 0, got "):
        fake.faults.delay_next(seconds, "GET", "credits/balance")
    assert not fake.faults.armed


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "trainig/*", "no route GET /api/v1/developer/trainig/\\*"),
        ("GET", "credit/**", "Did you mean 'GET /api/v1/developer/credits/"),
        ("POST", "credits/*", "no route POST /api/v1/developer/credits/\\*"),
        ("DELETE", "training/*", "no route DELETE"),
        (None, "/api/v1/developer/nothing/*", "no route /api/v1/developer/nothing/\\*"),
        ("GET", "/credits/balance", "Write 'credits/balance' \\(relative"),
        ("POST", "/training/*/cancel", "is outside the API"),
        ("GET", "/api/v1/api-key/", "Did you mean 'GET /api/v1/api-keys/'"),  # written in full
    ],
)
def test_a_pattern_or_path_that_reaches_no_route_is_refused(
    fake: FakePictograph, method: str | None, path: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fake.faults.fail_next(method, path, optional=True)
    with pytest.raises(ValueError, match=message):
        fake.calls.filter(method, path)
    with pytest.raises(ValueError, match=message):
        fake.faults.arm({"kind": "delay", "seconds": 1, "method": method, "path": path})
    assert not fake.faults.armed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "training/*"),
        ("POST", "training/*/cancel"),
        (None, "**"),
        ("POST", "models/*-*/predict"),  # a literal where the route has a placeholder
        ("GET", "annotations/*/**"),  # a route whose last parameter spans segments
        ("DELETE", "/api/v1/api-keys/*"),  # a route written in full
        ("PATCH", "annotation-comments/*"),  # sent by the SDK, not served by the fake
        ("PUT", "/_storage/**"),  # outside the API: taken as it is
    ],
)
def test_a_pattern_that_reaches_a_route_is_armed(
    fake: FakePictograph, method: str | None, path: str
) -> None:
    fault = fake.faults.fail_next(method, path, optional=True)
    assert fake.faults.pending == (fault,)
    assert not fake.calls.filter(method, path)


# ── runs that fail or are preempted ──


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("oom", "CUDA out of memory at epoch 3 of 5: tried to allocate 2.00 GiB on the a10g"),
        ("preemption", "The a10g worker was preempted at epoch 3 of 5 and the run was stopped"),
        ("data_error", "Training failed at epoch 3 of 5: a batch from export"),
    ],
)
def test_a_run_fails_at_the_chosen_epoch(
    fake: FakePictograph, client: pictograph.Client, reason: FailureReason, message: str
) -> None:
    fake.faults.fail_run(epoch=3, reason=reason)

    with pytest.raises(ApiError, match="ended with status 'failed'") as raised:
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="doomed", config={"epochs": 5}
        )

    assert raised.value.code == "job_failed"
    run = client.training.get("doomed")
    assert run.status == "failed"
    assert run.error_message is not None
    assert run.error_message.startswith(message)
    assert run.current_epoch == 3
    assert run.metrics["epoch"] == 2  # the last epoch that finished
    assert run.model_id is None
    # Prepaid: what the run did not use comes back.
    refunds = [e for e in fake.ledger if e.operation.startswith("training_refund_")]
    assert [e.metadata for e in refunds] == [{"run_id": run.id}]
    notifications = client.notifications.list()
    assert notifications[0].type == "training_failed"


def test_an_injected_failure_strikes_inside_its_epoch_not_at_its_first_instant(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Epochs of one run are equally long: a failure "during epoch 3 of 5" ends the run
    # strictly after two fifths of a whole run's training time, before three fifths.
    whole = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="whole", config={"epochs": 5}
    ).training_time_seconds
    assert whole is not None
    fake.faults.fail_run(epoch=3)
    with pytest.raises(ApiError):
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="doomed", config={"epochs": 5}
        )

    failed = client.training.get("doomed").training_time_seconds
    assert failed is not None
    assert 2 * whole / 5 < failed < 3 * whole / 5


async def test_an_async_wait_sees_the_injected_failure(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.faults.fail_run(epoch=1, reason="oom", message="CUDA out of memory (injected).")

    with pytest.raises(ApiError, match=re.escape("CUDA out of memory (injected).")):
        await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a")


def test_a_failed_run_costs_nothing_under_charge_on_success(
    current_fake: FakePictograph,
) -> None:
    current_fake.faults.fail_run(epoch=2, reason="data_error")
    with current_fake.client() as sdk, pytest.raises(ApiError):
        sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", config={"epochs": 3}, name="f")

    assert current_fake.ledger == ()


def test_a_failure_can_name_a_run_yet_to_come(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_run("second", epoch=1)
    assert len(fake.faults.pending_run_failures) == 1

    first = start(client, "first")
    second = start(client, "second")
    fake.clock.advance(hours=1)

    assert client.training.get(run_id=first.id).status == "completed"
    assert client.training.get(run_id=second.id).status == "failed"
    assert not fake.faults.pending_run_failures


def test_a_failure_armed_for_a_running_run_strikes_at_its_epoch(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, config={"epochs": 10})
    fake.clock.advance(A10G_COLD_START + 1)
    assert client.training.get(run_id=run.id).status == "running"

    fake.faults.fail_run(run.id, epoch=4)
    fake.clock.advance(hours=1)

    failed = client.training.get(run_id=run.id)
    assert failed.status == "failed"
    assert failed.current_epoch == 4


def test_a_failure_armed_for_an_epoch_past_the_service_cap_never_strikes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The two-hour cap stops the run before its last epoch: that ends it, as it would
    # have without the fault, and the fault's epoch is never reached.
    run = create_past_the_cap(fake, client)
    fake.clock.advance(A10G_COLD_START + 60)
    assert run.total_epochs is not None

    fake.faults.fail_run(run.id, epoch=run.total_epochs)
    fake.clock.advance(SERVICE_CAP_SECONDS)

    failed = client.training.get(run_id=run.id)
    assert failed.status == "failed"
    assert failed.error_message is not None
    assert "2-hour limit" in failed.error_message
    assert failed.training_time_seconds == SERVICE_CAP_SECONDS


def test_an_epoch_already_past_strikes_at_once(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, config={"epochs": 10})
    fake.clock.advance(A10G_COLD_START + 30)
    seen = client.training.get(run_id=run.id)
    assert seen.current_epoch > 1

    fake.faults.fail_run(run.id, epoch=1)

    failed = client.training.get(run_id=run.id)
    assert failed.status == "failed"
    assert failed.current_epoch == seen.current_epoch  # what was seen is not rewritten
    assert failed.completed_at is not None
    assert failed.completed_at >= seen.started_at  # type: ignore[operator]


def test_an_epoch_past_the_last_strikes_in_the_last(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_run(epoch=99)
    with pytest.raises(ApiError):
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 2}
        )
    assert client.training.get("r").current_epoch == 2


def test_a_preempted_run_is_requeued_and_completes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.preempt_run(epoch=2)

    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="spot", config={"epochs": 3}
    )

    assert run.status == "completed"
    statuses = [status for status, _ in fake.world.runs[run.id].history]
    assert statuses == ["pending", "queued", "running", "queued", "running", "completed"]
    # Only the attempt that finished is billed: one cold start, three epochs.
    assert run.started_at is not None
    assert run.completed_at is not None
    assert run.training_time_seconds == round((run.completed_at - run.started_at).total_seconds())


def test_a_second_failure_for_a_run_that_has_one_is_refused_not_swapped(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """A run takes one failure: a second one armed for it would silently replace the
    first (which then never fired, and teardown never said so)."""
    fake.faults.fail_run(epoch=2, reason="oom")
    run = start(client, config={"epochs": 10})
    with pytest.raises(ValueError, match=r"already has a failure armed \(fail \(oom\) the next"):
        fake.faults.fail_run(run.id, epoch=8, reason="data_error")
    fake.clock.advance(hours=1)
    done = client.training.get(run_id=run.id)
    assert (done.status, done.current_epoch) == ("failed", 2)
    assert "out of memory" in (done.error_message or "").lower()


def test_a_failure_left_for_a_later_run_of_a_name_says_so(fake: FakePictograph) -> None:
    fake.faults.preempt_run("r", epoch=2)
    fake.faults.fail_run("r", epoch=5)
    with fake.client() as client:
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r")
    [unfired] = fake.faults.unfired
    assert unfired.why_unfired() == (
        "no run 'r' was created while it was armed to take it (a run takes one failure: "
        "the first armed for it)"
    )
    fake.faults.clear()  # seen: the test's own teardown need not report it again


def test_a_preempted_run_shows_queued_again_while_it_waits(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, config={"epochs": 5})
    fake.faults.preempt_run(run.id, epoch=2)
    fake.clock.advance(A10G_COLD_START + 15)  # into epoch 2: preempted, cold start again

    assert client.training.get(run_id=run.id).status == "queued"
    assert client.training.wait_for_completion(run_id=run.id).status == "completed"


def test_a_requeued_run_training_again_reports_its_second_start(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = start(client, config={"epochs": 5})
    fake.faults.preempt_run(run.id, epoch=2)
    fake.clock.advance(A10G_COLD_START + 5)
    first = client.training.get(run_id=run.id)
    fake.clock.advance(10)  # into epoch 2: preempted, cold start again
    assert client.training.get(run_id=run.id).status == "queued"
    fake.clock.advance(A10G_COLD_START)
    second = client.training.get(run_id=run.id)

    assert first.status == second.status == "running"
    assert first.started_at is not None
    assert second.started_at is not None
    assert second.started_at > first.started_at
    # What the listing (encoded afresh) says of the same run at the same instant.
    assert second == client.training.list()[0]


def test_a_failure_for_a_name_takes_the_newest_live_run_of_that_name(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # As `training.get` does with a name two runs share: the newest is the one meant.
    older = start(client, "nightly", config={"epochs": 10})
    newer = start(client, "nightly", config={"epochs": 10})
    assert client.training.get("nightly").id == newer.id

    fake.faults.fail_run("nightly", epoch=2)
    fake.clock.advance(hours=1)

    assert client.training.get(run_id=older.id).status == "completed"
    failed = client.training.get(run_id=newer.id)
    assert (failed.status, failed.current_epoch) == ("failed", 2)


def test_a_run_preempted_while_training_completes_within_one_long_catch_up(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # One advance replays the preemption, the second cold start and the whole second
    # attempt: the first attempt's planned end, passed on the way, ends nothing.
    run = start(client, config={"epochs": 5})
    fake.clock.advance(A10G_COLD_START + 1)
    fake.faults.preempt_run(run.id, epoch=3)
    fake.clock.advance(hours=1)

    done = client.training.get(run_id=run.id)
    assert done.status == "completed"
    statuses = [status for status, _ in fake.world.runs[run.id].history]
    assert statuses == ["pending", "queued", "running", "queued", "running", "completed"]
    assert done.started_at is not None
    assert (done.started_at - run.created_at).total_seconds() > 2 * A10G_COLD_START


def test_a_failure_naming_an_ended_run_waits_for_the_next_run_of_that_name(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # An ended run cannot fail again: the name means the next run created with it.
    done = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="nightly", config={"epochs": 3}
    )
    fake.faults.fail_run("nightly", epoch=2)
    assert len(fake.faults.pending_run_failures) == 1

    again = start(client, "nightly", config={"epochs": 3})
    fake.clock.advance(hours=1)

    assert client.training.get(run_id=done.id).status == "completed"
    failed = client.training.get(run_id=again.id)
    assert (failed.status, failed.current_epoch) == ("failed", 2)


@pytest.mark.parametrize("armed", ["before create", "while running"])
def test_a_run_out_of_memory_ends_so_though_a_cancel_was_armed_for_its_first_epoch(
    fake: FakePictograph, client: pictograph.Client, armed: str
) -> None:
    # YOLOX x at its default batch needs more than an A10G has: it dies halfway through
    # its first epoch, the very instant a failure armed for that epoch would strike. A
    # failure strikes only before the plan's own end, so the run's own end wins the tie.
    if armed == "before create":
        fake.faults.cancel_run("oom", epoch=1)
    run = start(client, "oom", config={"model_size": "x"})
    if armed == "while running":
        fake.clock.advance(A10G_COLD_START)
        assert client.training.get(run_id=run.id).status == "running"
        fake.faults.cancel_run(run.id, epoch=1)
    fake.clock.advance(minutes=10)

    failed = client.training.get(run_id=run.id)
    assert failed.status == "failed"
    assert "out of memory" in (failed.error_message or "")
    assert failed.training_time_seconds is not None
    assert failed.training_time_seconds < A10G_COLD_START
    assert not fake.faults.unfired


def test_a_failure_armed_before_a_run_for_an_epoch_past_the_service_cap_never_strikes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The run's plan is made when it gets its worker: the two-hour cap ends it first, and
    # the failure armed for it before it was created never strikes (nor waits for a run).
    fake.faults.fail_run("long", epoch=1000, reason="data_error", message="never seen")
    run = create_past_the_cap(fake, client)
    fake.clock.advance(A10G_COLD_START + SERVICE_CAP_SECONDS)

    failed = client.training.get(run_id=run.id)
    assert failed.status == "failed"
    assert "2-hour limit" in (failed.error_message or "")
    assert failed.training_time_seconds == SERVICE_CAP_SECONDS
    assert not fake.faults.unfired


async def train_and_wait(fake: FakePictograph, use_async: bool, name: str, **kwargs: Any) -> Any:
    """``training.create(wait=True)`` with a fresh client of the fake, sync or async."""
    if use_async:
        async with fake.async_client() as asdk:
            return await asdk.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name=name, **kwargs
            )
    with fake.client() as sdk:
        return sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, **kwargs)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_run_cancelled_by_someone_else_ends_the_wait_on_it(
    fake: FakePictograph, use_async: bool
) -> None:
    """Code that waits on a run (`create(wait=True)`) must handle a cancel it did not make:
    the SDK raises ApiError `job_cancelled` with the run in its response."""
    fake.faults.cancel_run(epoch=2)

    with pytest.raises(ApiError, match="ended with status 'cancelled'") as raised:
        await train_and_wait(fake, use_async, "r", config={"epochs": 4})

    assert raised.value.code == "job_cancelled"
    assert isinstance(raised.value.response, dict)
    assert raised.value.response["status"] == "cancelled"
    with fake.client() as client:
        run = client.training.get("r")
        assert (run.status, run.current_epoch, run.error_message, run.model_id) == (
            "cancelled",
            2,
            None,
            None,
        )
        # Billed as a cancel is: prepaid, what it did not use comes back.
        refunds = [e for e in fake.ledger if e.operation.startswith("training_refund_")]
        assert [e.metadata for e in refunds] == [{"run_id": run.id}]
        assert client.notifications.list() == []  # a cancel is not news, as a user's is not


@pytest.mark.pictograph(faults=[FaultSpec.cancel_run("nightly", epoch=1)])
def test_a_cancel_named_in_the_marker_ends_that_run(
    pictograph_fake: FakePictograph, pictograph_client: pictograph.Client
) -> None:
    pictograph_fake.add_dataset(DATASET, images=10, completed_images=10)
    pictograph_fake.add_export(DATASET, EXPORT)
    assert pictograph_fake.faults.described == ("cancel run 'nightly' at epoch 1",)
    other = start(pictograph_client, "other")
    nightly = start(pictograph_client, "nightly")
    pictograph_fake.clock.advance(hours=1)

    assert pictograph_client.training.get(run_id=other.id).status == "completed"
    assert pictograph_client.training.get(run_id=nightly.id).status == "cancelled"


def test_run_faults_are_checked(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match="unknown failure reason"):
        # Deliberately a reason the Literal refuses: the fake must refuse it.
        fake.faults.fail_run(reason="cosmic rays")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="epoch must be a whole number >= 1"):
        fake.faults.preempt_run(epoch=0)
    with pytest.raises(ValueError, match="epoch must be a whole number >= 1"):
        fake.faults.cancel_run(epoch=0)
    with pytest.raises(ValueError, match="run must be a run id or name"):
        fake.faults.cancel_run(7)  # type: ignore[arg-type]


async def export_and_wait(fake: FakePictograph, use_async: bool) -> Any:
    if use_async:
        async with fake.async_client(max_retries=0) as aclient:
            return await aclient.exports.create(DATASET, "broken", wait=True)
    with fake.client(max_retries=0) as client:
        return client.exports.create(DATASET, "broken", wait=True)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_an_export_can_be_made_to_fail(fake: FakePictograph, use_async: bool) -> None:
    fake.faults.fail_export("disk full")
    armed = fake.faults.described  # read now: the fault fires below
    assert armed == ("fail the next 1 export(s)",)
    assert [f.describe() for f in fake.faults.unfired] == ["fail the next 1 export(s)"]
    with pytest.raises(ApiError, match="disk full"):
        await export_and_wait(fake, use_async)
    # Fired: neither listed as armed nor held against the test at teardown.
    assert fake.faults.described == ()
    assert fake.faults.unfired == ()


JOB_FAULTS = ["fail_export", "fail_evaluation", "fail_deployment"]
JOB_NOUNS = {
    "fail_export": "export",
    "fail_evaluation": "evaluation",
    "fail_deployment": "deployment",
}


@pytest.mark.parametrize("method", JOB_FAULTS)
def test_an_unfired_job_failure_fails_the_block_with_a_hint_that_fits(method: str) -> None:
    noun = JOB_NOUNS[method]
    expected = f"fail the next 2 {noun}\\(s\\): no {noun} was created while it was armed"
    with pytest.raises(TeardownCheckFailed, match=expected) as caught, FakePictograph() as fake:
        getattr(fake.faults, method)("boom", times=2)
    assert "Check the method and path" not in str(caught.value)
    assert "optional=True" in str(caught.value)


@pytest.mark.parametrize("method", JOB_FAULTS)
def test_an_optional_job_failure_may_stay_unfired(method: str) -> None:
    with FakePictograph() as fake:
        getattr(fake.faults, method)(optional=True)
        assert fake.faults.unfired == ()
    spec = getattr(FaultSpec, method)(optional=True)
    assert spec["optional"] is True
    with FakePictograph(faults=[spec]) as fake:
        assert len(fake.faults.described) == 1


def test_a_run_fault_left_unfired_says_no_run_was_created() -> None:
    faults = [
        FaultSpec.fail_run(epoch=3),
        FaultSpec.preempt_run("nightly"),
        FaultSpec.cancel_run("weekly", epoch=2),
    ]
    with pytest.raises(TeardownCheckFailed) as caught, FakePictograph(faults=faults):
        pass
    message = str(caught.value)
    assert "fail (oom) the next run at epoch 3: no run was created while it was armed" in message
    # Each kind names what it would have done: a preemption is not a failure.
    assert (
        "preempt and requeue run 'nightly' at epoch 1: no run 'nightly' was created while it "
        "was armed" in message
    )
    assert "cancel run 'weekly' at epoch 2: no run 'weekly' was created" in message
    assert "Check the method and path" not in message


def test_every_armed_kind_is_listed_in_the_words_arm_answers(fake: FakePictograph) -> None:
    specs: list[dict[str, Any]] = [
        {"kind": "status", "method": "GET", "path": "credits/balance", "status": 503},
        {"kind": "run_failure", "epoch": 2},
        {"kind": "export_failure", "times": 2},
        {"kind": "evaluation_failure"},
        {"kind": "deployment_failure", "message": "no GPU"},
        {"kind": "rate_limit", "requests": 10, "per_seconds": 60.0},
        {"kind": "inference_pool"},
    ]
    armed = fake.faults.arm_all(specs)
    described = fake.faults.described  # read now: cleared below
    assert (
        described
        == tuple(armed)
        == (
            "injected 503 before the handler",
            "fail (oom) the next run at epoch 2",
            "fail the next 2 export(s)",
            "fail the next 1 evaluation(s)",
            "fail the next 1 deployment(s)",
            "rate limit 10 per 60s",
            "hosted inference capacity spent for the day",
        )
    )
    fake.faults.clear()
    assert fake.faults.described == ()


# ── rate limiting ──


def test_a_rate_limit_refuses_with_retry_after_until_the_window_turns(
    fake: FakePictograph,
) -> None:
    fake.faults.rate_limit(2, per_seconds=60)

    with fake.client(max_retries=0) as sdk:
        sdk.credits.balance()
        sdk.credits.balance()
        with pytest.raises(RateLimitError) as raised:
            sdk.credits.balance()

    assert raised.value.retry_after == 60
    body = fake.calls.last.response_json()
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["details"] == {"retry_after": 60, "limit": 2, "window_seconds": 60.0}
    assert fake.calls.last.fault == "rate limited"


def test_the_sdk_waits_out_the_rate_limit(fake: FakePictograph) -> None:
    fake.faults.rate_limit(3, per_seconds=10)

    with fake.client() as sdk:
        for _ in range(7):
            sdk.credits.balance()

    statuses = [c.status for c in fake.calls]
    assert statuses.count(200) == 7
    assert statuses.count(429) == 2
    assert fake.clock.monotonic() >= 20


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_slowed_request_still_counts_against_the_rate_limit(
    fake: FakePictograph, use_async: bool
) -> None:
    """A delay (or any fault that lets the request reach the API) leaves the limit as it
    is: it answers first, and a fault it refused stays armed for the next request."""
    fake.faults.rate_limit(2, per_seconds=60)
    fake.faults.delay_next(0.5, "GET", "credits/balance", times=3)
    await balance(fake, use_async, max_retries=0)
    await balance(fake, use_async, max_retries=0)
    with pytest.raises(RateLimitError):
        await balance(fake, use_async, max_retries=0)
    assert [c.fault for c in fake.calls][-1] == "rate limited"
    [left] = fake.faults.pending  # the third delay waits for its request
    assert left.remaining == 1
    fake.clock.advance(60)
    await balance(fake, use_async, max_retries=0)
    assert fake.calls.last.fault is not None
    assert "delay" in fake.calls.last.fault


def test_a_request_dropped_before_the_api_is_not_counted(fake: FakePictograph) -> None:
    fake.faults.rate_limit(1, per_seconds=60)
    fake.faults.fail_next("GET", "credits/balance", error="connect")
    with fake.client() as sdk:
        sdk.credits.balance()  # retried after the connect error: the one request counted
    assert [c.status for c in fake.calls] == [0, 200]


def test_the_budget_is_per_key(fake: FakePictograph) -> None:
    fake.faults.rate_limit(1)
    with (
        fake.client(max_retries=0) as first,
        fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as second,
    ):
        first.credits.balance()
        second.credits.balance()
        with pytest.raises(RateLimitError):
            first.credits.balance()
        fake.faults.rate_limit(None)
        first.credits.balance()


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_key_the_api_refuses_gets_its_401_under_a_rate_limit(
    fake: FakePictograph, use_async: bool
) -> None:
    """A disabled or expired key is refused as it is without a limit: a 429 would tell
    the SDK to wait and try again a key that can never get in."""
    with fake.client() as owner:
        disabled = owner.api_keys.create("off")
        owner.api_keys.update(disabled.key_id, is_active=False)
        expiring = owner.api_keys.create("brief", expires_at=fake.clock.now() + timedelta(hours=1))
    fake.clock.advance(hours=1)
    fake.faults.rate_limit(1, per_seconds=60)
    for key, reason in ((disabled.api_key, "inactive"), (expiring.api_key, "expired")):
        for _ in range(3):
            with pytest.raises(AuthError):
                await balance(fake, use_async, api_key=key, max_retries=0)
            assert fake.calls.last.status == 401
            assert fake.calls.last.response_json()["error"]["details"]["reason"] == reason
    # The live key's budget is untouched by them.
    await balance(fake, use_async, max_retries=0)
    assert fake.calls.last.status == 200


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_revoked_or_deleted_key_gets_its_401_under_a_rate_limit(
    fake: FakePictograph, use_async: bool
) -> None:
    with fake.client() as owner:
        deleted = owner.api_keys.create("gone")
        owner.api_keys.delete(deleted.key_id)
    revoked = fake.add_api_key("member")
    fake.revoke_api_key(revoked)
    fake.faults.rate_limit(1, per_seconds=60)
    for key in (deleted.api_key, revoked):
        for _ in range(3):
            with pytest.raises(AuthError):
                await balance(fake, use_async, api_key=key, max_retries=0)
            assert fake.calls.last.status == 401
            assert fake.calls.last.response_json()["error"]["details"]["reason"] == "revoked"
    await balance(fake, use_async, max_retries=0)
    assert fake.calls.last.status == 200


def test_a_rate_limit_can_be_set_when_the_fake_is_made() -> None:
    with FakePictograph(rate_limit=1) as fake, fake.client(max_retries=0) as sdk:
        sdk.credits.balance()
        with pytest.raises(RateLimitError) as raised:
            sdk.credits.balance()
    assert raised.value.retry_after == 60


# ── round 3 of mutation testing: what the faults promised and nothing checked ──


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_fault_for_one_method_lets_the_others_on_its_path_through(
    fake: FakePictograph, use_async: bool
) -> None:
    fault = fake.faults.fail_next(*CREATE, status=503)
    if use_async:
        async with fake.async_client(max_retries=0) as asdk:
            await asdk.training.list()  # GET on the fault's path: not its method
            assert fault.fired == 0
            with pytest.raises(ServerError):
                await astart(asdk)
    else:
        with fake.client(max_retries=0) as sdk:
            sdk.training.list()
            assert fault.fired == 0
            with pytest.raises(ServerError):
                start(sdk)
    assert [(c.method, c.status) for c in fake.calls] == [("GET", 200), ("POST", 503)]
    assert fault.fired == 1


@pytest.mark.parametrize("status", [400, 599])
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_any_4xx_or_5xx_can_be_armed_from_400_to_599(
    fake: FakePictograph, status: int, use_async: bool
) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=status)
    with pytest.raises(ApiError) as raised:
        await balance(fake, use_async, max_retries=0)
    assert raised.value.status_code == status
    assert fake.calls.last.status == status


@pytest.mark.parametrize("status", [399, 600])
def test_a_status_just_outside_4xx_and_5xx_is_refused(fake: FakePictograph, status: int) -> None:
    with pytest.raises(ValueError, match="status must be a 4xx or 5xx code"):
        fake.faults.fail_next("GET", "credits/balance", status=status)
    assert not fake.faults.armed


@pytest.mark.parametrize("times", [True, 1.5, "2"])
def test_times_that_is_not_a_whole_number_is_refused(fake: FakePictograph, times: Any) -> None:
    with pytest.raises(ValueError, match="times must be a whole number >= 1"):
        fake.faults.fail_next("GET", "credits/balance", times=times)
    assert not fake.faults.armed


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_retry_after_of_zero_is_sent_as_zero(fake: FakePictograph, use_async: bool) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=429, retry_after=0)
    with pytest.raises(RateLimitError) as raised:
        await balance(fake, use_async, max_retries=0)
    assert raised.value.retry_after == 0
    assert fake.calls.last.response_json()["error"]["details"]["retry_after"] == 0


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_rate_limits_retry_after_is_the_whole_seconds_left_in_the_window(
    fake: FakePictograph, use_async: bool
) -> None:
    """Retry-After is the time until the window turns, in whole seconds rounded up (a
    client waiting less would be refused again)."""
    fake.faults.rate_limit(1, per_seconds=60)
    started = fake.clock.monotonic()
    await balance(fake, use_async, max_retries=0)
    waits = []
    for moved in (20.25, 39.5):  # 20.25 s and 59.75 s into the window
        fake.clock.advance(moved)
        with pytest.raises(RateLimitError) as raised:
            await balance(fake, use_async, max_retries=0)
        waits.append(raised.value.retry_after)
    assert fake.clock.monotonic() - started == pytest.approx(59.75)
    assert waits == [40, 1]
    fake.clock.advance(0.25)  # the window turns: a new budget
    await balance(fake, use_async, max_retries=0)
    assert fake.calls.last.status == 200


def test_an_unfired_request_fault_names_the_requests_it_waited_for() -> None:
    fake = FakePictograph()
    fake.faults.fail_next("GET", "credits/history", status=503)
    fake.faults.fail_next(path=re.compile(r".*/credits/history"), status=502)
    fake.faults.fail_next(status=500)
    with pytest.raises(TeardownCheckFailed) as caught:
        fake.verify()
    message = str(caught.value)
    assert "3 fault(s) armed and never fired" in message
    why = "no request matched its method and path"
    assert f"injected 503 before the handler for GET /api/v1/developer/credits/history: {why}" in (
        message
    )
    assert f"injected 502 before the handler for any method .*/credits/history: {why}" in message
    assert f"injected 500 before the handler for any method on any path: {why}" in message


def test_a_refused_list_leaves_no_job_failure_or_spent_pool_behind(fake: FakePictograph) -> None:
    """Armed whole or not at all: a list refused at its last spec takes back the job
    failures and the spent inference pool its earlier specs armed."""
    specs = [{"kind": "export_failure"}, {"kind": "inference_pool"}, {"kind": "?"}]
    with pytest.raises(ValueError, match="fault kind must be one of"):
        fake.faults.arm_all(specs)
    assert fake.faults.described == ()
    assert fake.faults.unfired == ()


# ── faults as data: the marker and the control route ──


@pytest.mark.pictograph(
    faults=[
        {"kind": "status", "method": "GET", "path": "credits/balance", "status": 503},
        # No run is created: without `optional` the test would fail at teardown.
        {"kind": "run_failure", "epoch": 1, "reason": "oom", "optional": True},
    ]
)
def test_the_marker_arms_faults(pictograph_fake: FakePictograph) -> None:
    assert len(pictograph_fake.faults.pending) == 1
    assert len(pictograph_fake.faults.pending_run_failures) == 1
    with pictograph_fake.client() as sdk:
        sdk.credits.balance()
    assert [c.status for c in pictograph_fake.calls] == [503, 200]


@pytest.mark.pictograph(rate_limit=2)
def test_the_marker_sets_a_rate_limit(pictograph_fake: FakePictograph) -> None:
    with pictograph_fake.client(max_retries=0) as sdk:
        sdk.credits.balance()
        sdk.credits.balance()
        with pytest.raises(RateLimitError):
            sdk.credits.balance()


@pytest.mark.parametrize(
    ("spec", "described"),
    [
        ({"kind": "status", "status": 503, "after": True}, "injected 503 after the handler"),
        ({"kind": "error", "error": "read_timeout"}, "injected ReadTimeout before the handler"),
        ({"kind": "delay", "seconds": 3, "path": "credits/*"}, "delayed 3s"),
        ({"kind": "run_failure", "run": "r", "epoch": 2}, "fail (oom) run 'r' at epoch 2"),
        ({"kind": "preemption", "epoch": 1}, "preempt and requeue the next run at epoch 1"),
        ({"kind": "cancellation", "run": "r", "epoch": 3}, "cancel run 'r' at epoch 3"),
        ({"kind": "export_failure", "times": 2}, "fail the next 2 export(s)"),
        ({"kind": "export_failure", "optional": True}, "fail the next 1 export(s)"),
        ({"kind": "evaluation_failure", "optional": True}, "fail the next 1 evaluation(s)"),
        ({"kind": "deployment_failure", "times": 3}, "fail the next 3 deployment(s)"),
        ({"kind": "inference_pool"}, "hosted inference capacity spent for the day"),
        ({"kind": "rate_limit", "requests": 5, "per_seconds": 1}, "rate limit 5 per 1s"),
    ],
)
def test_faults_arm_from_json(fake: FakePictograph, spec: dict[str, Any], described: str) -> None:
    assert fake.faults.arm(spec) == described
    fake.faults.clear()  # armed to be described, not to fire


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"status": 503}, "fault kind must be one of"),
        ({"kind": "status", "colour": "red"}, "unknown: colour"),
        ({"kind": "error"}, "an error fault needs 'error'"),
        ({"kind": "delay"}, "arguments do not fit"),
        ({"kind": "status", "status": "503"}, "status must be a 4xx or 5xx"),
        (
            {"kind": "export_failure", "colour": "red"},
            "^an export_failure fault takes message, optional, times; unknown: colour$",
        ),
        ({"kind": "inference_pool", "days": 1}, "^an inference_pool fault takes nothing;"),
    ],
)
def test_bad_fault_specs_are_refused(
    fake: FakePictograph, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fake.faults.arm(spec)


def test_a_list_of_faults_is_armed_whole_or_not_at_all(fake: FakePictograph) -> None:
    good = {"kind": "status", "status": 503}
    run = {"kind": "run_failure", "epoch": 2}
    with pytest.raises(ValueError, match="fault kind must be one of"):
        fake.faults.arm_all([good, run, {"kind": "rate_limit", "requests": 2}, {"kind": "?"}])

    assert not fake.faults.armed
    assert not fake.faults.pending_run_failures
    assert fake.faults.arm_all([good, run]) == [
        "injected 503 before the handler",
        "fail (oom) the next run at epoch 2",
    ]
    fake.faults.clear()  # armed to be counted, not to fire


# ── the server's control route ──


def test_the_control_route_arms_lists_and_clears_faults() -> None:
    from pictograph_testing.server import FakeAsgiApp

    app = FakeAsgiApp(lambda _: FakePictograph(seed=2))

    def control(method: str, body: bytes = b"") -> tuple[int, Any]:
        status, _, content = app.control(method, "/_fake/faults", body)
        return status, json.loads(content)

    status, armed = control("POST", b'{"kind": "status", "path": "credits/*", "times": 2}')
    assert status == 200
    assert armed["armed"] == ["injected 503 before the handler"]
    assert armed["pending"] == [
        {
            "fault": "injected 503 before the handler",
            "method": None,
            "path": "/api/v1/developer/credits/*",
            "remaining": 2,
        }
    ]
    status, both = control(
        "POST",
        b'{"faults": [{"kind": "preemption", "epoch": 2}, {"kind": "rate_limit", "requests": 9}]}',
    )
    assert both["armed"] == [
        "preempt and requeue the next run at epoch 2",
        "rate limit 9 per 60s",
    ]
    assert control("GET")[1]["run_failures"] == ["preempt and requeue the next run at epoch 2"]
    status, refused = control("POST", b'{"faults": [{"kind": "delay"}]}')
    assert status == 422
    assert "arguments do not fit" in refused["error"]
    status, refused = control("POST", b'{"faults": []}')
    assert status == 422
    assert 'or several ({"faults": [{"kind": ...}, ...]})' in refused["error"]
    # A bare list is not the body: the refusal names the one that is.
    status, refused = control("POST", b'[{"kind": "status"}]')
    assert status == 422
    assert refused["error"].startswith("the body must be a JSON object: a fault (")
    assert '{"faults": [' in refused["error"]
    # A pattern armed in process is listed by its text (JSON has no pattern).
    app.fake.faults.fail_next("GET", re.compile(r"credits/\w+"), status=503)
    assert control("GET")[1]["pending"][-1]["path"] == r"credits/\w+"
    assert control("DELETE") == (200, {"pending": [], "run_failures": [], "faults": []})
    assert not app.fake.faults.armed


def test_faults_armed_over_http_reach_the_sdk() -> None:
    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server, server.control() as control:
        faults = [
            {"kind": "status", "method": "GET", "path": "credits/balance", "status": 503},
            {"kind": "error", "method": "GET", "path": "credits/history", "error": "connect"},
        ]
        assert control.post("/faults", json={"faults": faults}).status_code == 200
        with server.client(max_retries=0) as sdk:
            with pytest.raises(ServerError):
                sdk.credits.balance()
            with pytest.raises(NetworkError):
                sdk.credits.history()
            sdk.credits.balance()
    assert [c.status for c in server.fake.calls] == [503, 0, 200]


@pytest.mark.parametrize("retry_after", ["ß", "1\r\nX-Injected: yes", "1\x00"])
def test_a_retry_after_no_header_can_carry_is_refused_when_armed(retry_after: str) -> None:
    from pictograph_testing.server import FakeServer

    spec = {"kind": "status", "path": "credits/balance", "status": 429}
    with FakeServer(seed=3) as server, server.control() as control:
        with pytest.raises(ValueError, match="retry_after must be a number of seconds or"):
            server.fake.faults.fail_next(status=429, retry_after=retry_after)
        refused = control.post("/faults", json={**spec, "retry_after": retry_after})
        assert refused.status_code == 422
        assert "printable ASCII" in refused.json()["error"]
        assert not server.fake.faults.armed


def test_a_retry_after_text_reaches_the_sdk_over_http_as_a_header_carries_it() -> None:
    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server:
        server.fake.faults.fail_next("GET", "credits/balance", status=429, retry_after=" 5 ")
        with server.client(max_retries=0) as sdk, pytest.raises(RateLimitError) as raised:
            sdk.credits.balance()
    assert raised.value.retry_after == 5.0
    assert [c.status for c in server.fake.calls] == [429]


async def export_over_http(server: FakeServer, use_async: bool) -> Any:
    import pictograph

    if use_async:
        async with pictograph.AsyncClient(
            api_key=server.api_key, base_url=server.base_url, max_retries=0
        ) as aclient:
            return await aclient.exports.create(DATASET, "broken", wait=False)
    with server.client(max_retries=0) as sdk:
        return sdk.exports.create(DATASET, "broken", wait=False)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_the_control_route_lists_every_armed_kind_until_it_fires(use_async: bool) -> None:
    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server, server.control() as control:
        server.fake.add_dataset(DATASET, images=4, completed_images=4)
        faults = [
            {"kind": "run_failure", "epoch": 2, "optional": True},
            {"kind": "export_failure", "message": "disk full"},
            {"kind": "evaluation_failure", "optional": True},
            {"kind": "deployment_failure", "optional": True},
            {"kind": "rate_limit", "requests": 1000},
            {"kind": "inference_pool"},
        ]
        posted = control.post("/faults", json={"faults": faults})
        assert posted.status_code == 200
        armed = posted.json()["armed"]
        assert armed == [
            "fail (oom) the next run at epoch 2",
            "fail the next 1 export(s)",
            "fail the next 1 evaluation(s)",
            "fail the next 1 deployment(s)",
            "rate limit 1000 per 60s",
            "hosted inference capacity spent for the day",
        ]
        # The POST's answer and the GET agree, word for word.
        assert posted.json()["faults"] == armed == control.get("/faults").json()["faults"]

        created = await export_over_http(server, use_async)
        assert control.post("/clock/advance", json={"hours": 1}).status_code == 200
        with server.client(max_retries=0) as sdk:
            ended = sdk.exports.get(DATASET, created.name)
        assert (ended.status, ended.error_message) == ("failed", "disk full")
        # The export failure fired: it is no longer armed; the rest still are.
        listed = control.get("/faults").json()["faults"]
        assert listed == [words for words in armed if words != "fail the next 1 export(s)"]
        assert control.delete("/faults").json()["faults"] == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_delay_with_no_room_left_on_the_clock_takes_the_room_left(use_async: bool) -> None:
    """Armed while it fitted, a delay meets a clock moved near its horizon since: the
    clock stops a second short of 2200-01-01 (as a running clock does) and the request
    is answered, not refused by the clock's own ValueError."""
    start = datetime(2199, 12, 31, 23, 59, tzinfo=timezone.utc)
    with FakePictograph(seed=1, start=start) as fake:
        fake.faults.delay_next(5, "GET", "credits/balance")
        fake.clock.advance(58.5)
        await balance(fake, use_async, max_retries=0)
        assert fake.calls.last.status == 200
        assert fake.clock.now() == datetime(2199, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
        assert fake.clock.room() == 0
        assert not fake.server_errors


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_delay_past_the_timeout_times_out_alike_near_the_clocks_end(
    use_async: bool,
) -> None:
    # Whether the client times out is the full delay's to say, sync or async, however
    # little room the clock has left to wait it out.
    start = datetime(2199, 12, 31, 23, 59, tzinfo=timezone.utc)
    with FakePictograph(seed=1, start=start) as fake:
        fake.faults.delay_next(30, "GET", "credits/balance")
        fake.clock.advance(55)
        with pytest.raises(RequestTimeoutError):
            await balance(fake, use_async, max_retries=0, timeout=10)
        assert fake.clock.now() == datetime(2199, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
