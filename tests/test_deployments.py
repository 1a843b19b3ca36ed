"""Deployments through the real SDK: lifecycle on the virtual clock, billing, the endpoint."""

from __future__ import annotations

import base64
import io
import json
import math
import re
from datetime import timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph import ClassificationResult, DeploymentClient
from pictograph.exceptions import (
    ApiError,
    AuthError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    RateLimitError,
    ValidationError,
)
from PIL import Image

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import (
    DEPLOYMENT_GPUS,
    DEPLOYMENT_METER_SECONDS,
    DEPLOYMENT_SERVER_START_SECONDS,
    DEPLOYMENT_STREAMS_PER_CONTAINER,
    DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
)
from pictograph_testing.webhooks import WebhookRequest
from pictograph_testing.world.storage import SIGNED_URL_TTL_SECONDS
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pictograph
    from pictograph.models.deployment import CreatedDeployment

T4 = DEPLOYMENT_GPUS["t4"]
BUILD = T4.engine_build_seconds
START = DEPLOYMENT_SERVER_START_SECONDS


def _png(width: int = 64, height: int = 48, shade: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _signed_url(
    fake: FakePictograph, name: str = "cat", read: Callable[[], bytes | None] = _png
) -> str:
    """A signed storage URL of the fake's for a PNG named ``name``, whose bytes ``read`` gives
    (``None``: the image is gone)."""
    with fake.world.lock:
        path = fake.world.storage.sign(f"test/{name}", f"{name}.png", "image/png", read)
    return f"{fake.base_url}{path}"


def _train(client: pictograph.Client, name: str = "m1") -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)
    assert run.model_id is not None
    return run.model_id


@pytest.fixture
def model_id(client: pictograph.Client) -> str:
    return _train(client)


@pytest.fixture
def member(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("member"), max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


def _active(client: pictograph.Client, **options: Any) -> CreatedDeployment:
    created = client.deployments.create("m1", **options)
    client.deployments.wait_until_active(created.deployment)
    return created


def _deployment_entries(fake: FakePictograph) -> list[tuple[str, int, float]]:
    return [
        (e.operation, e.amount, e.created_at)
        for e in fake.ledger
        if e.operation.startswith("deployment_")
    ]


# ── create, provisioning, wait ──


def test_create_answers_provisioning_then_builds_then_turns_active(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1", gpu_type="t4", precision="fp16")
    deployment = created.deployment

    assert created.auth_token.startswith("pk_deploy_")
    assert deployment.status == "provisioning"
    assert (deployment.model_id, deployment.gpu_type, deployment.precision) == (
        model_id,
        "t4",
        "fp16",
    )
    assert deployment.name == "m1"
    assert deployment.region == "us-east"
    assert deployment.endpoint_url == (
        f"https://workflows.pictograph.io/us-east/{deployment.id}/predict"
    )
    assert deployment.auth_token_prefix is not None
    assert created.auth_token.startswith(deployment.auth_token_prefix.rstrip("…"))
    assert deployment.engine_build is not None
    assert deployment.engine_build.state == "building"
    assert deployment.engine_build.models[0].estimate_s is None  # no history yet
    assert deployment.runtime is None

    fake.clock.advance(seconds=BUILD)
    built = client.deployments.get(deployment.id)
    assert built.status == "provisioning"
    assert built.engine_build is not None
    assert built.engine_build.state == "built"
    assert built.engine_build.models[0].build_s == BUILD

    fake.clock.advance(seconds=START - 1)
    assert client.deployments.get(deployment.id).status == "provisioning"
    fake.clock.advance(seconds=1)
    active = client.deployments.get(deployment.id)
    assert active.status == "active"
    assert active.started_at is not None
    assert active.runtime is not None
    assert active.runtime.state == "asleep"


def test_a_stored_engine_comes_up_in_about_a_minute(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    first = _active(client, name="first")
    second = client.deployments.create("m1", name="second")

    assert second.deployment.engine_build is None  # the engine was stored by the first
    start = fake.clock.now()
    active = client.deployments.wait_until_active("second")
    assert active.status == "active"
    assert (fake.clock.now() - start).total_seconds() == pytest.approx(START, abs=3.0)
    assert first.deployment.id != second.deployment.id


def test_another_precision_builds_again_with_an_estimate(
    client: pictograph.Client, model_id: str
) -> None:
    _active(client, name="fp32")
    again = client.deployments.create("m1", name="fp16", precision="fp16")
    assert again.deployment.engine_build is not None
    assert again.deployment.engine_build.models[0].estimate_s == BUILD


async def test_async_create_and_wait(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model_id: str
) -> None:
    created = await aclient.deployments.create("m1", gpu_type="a100", min_containers=1)
    assert created.deployment.status == "provisioning"
    active = await aclient.deployments.wait_until_active(created.deployment)
    assert active.status == "active"
    assert active.gpu_type == "a100"
    assert active.runtime is not None
    assert active.runtime.state == "live"
    assert (await aclient.deployments.get("m1")).id == created.deployment.id


def test_wait_until_active_times_out_while_building(
    client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    with pytest.raises(PollTimeoutError, match="building its TensorRT engine"):
        client.deployments.wait_until_active(created.deployment, timeout=30)


def _wire_model(fake: FakePictograph, deployment_id: str) -> Any:
    """The model a deployment embeds on the wire (the SDK's ``Deployment`` reads no more)."""
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        answer = http.get(f"/api/v1/developer/deployments/{deployment_id}")
        listed = http.get("/api/v1/developer/deployments/").json()["deployments"]
    single = answer.json()["deployment"]["models"]
    assert [d["models"] for d in listed if d["id"] == deployment_id] == [single]
    return single


def test_a_deployment_names_its_model_as_it_is_now(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    client.models.update("m1", new_name="renamed")

    building = client.deployments.get("m1")  # its own name is its own: still "m1"
    assert building.engine_build is not None
    assert building.engine_build.models[0].name == "renamed"
    assert _wire_model(fake, created.deployment.id)["name"] == "renamed"

    client.deployments.wait_until_active(created.deployment)
    client.deployments.pause("m1")
    client.models.delete("renamed")
    # The model is gone, its deployment terminated with it: the last name it had stays.
    gone = _wire_model(fake, created.deployment.id)
    assert (gone["id"], gone["name"]) == (model_id, "renamed")
    assert client.deployments.get(created.deployment.id).status == "terminated"


async def test_async_a_deployment_names_its_model_as_it_is_now(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    await aclient.deployments.create("m1")
    await aclient.models.update("m1", new_name="async-renamed")
    deployment = await aclient.deployments.get("m1")
    assert deployment.engine_build is not None
    assert deployment.engine_build.models[0].name == "async-renamed"


async def test_a_failed_deployment_fires_through_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model_id: str
) -> None:
    fake.faults.fail_deployment("Provisioning failed: quota")
    created = await aclient.deployments.create("m1")
    assert fake.faults.unfired == ()
    assert fake.faults.described == ()
    with pytest.raises(ApiError, match="quota") as caught:
        await aclient.deployments.wait_until_active(created.deployment)
    assert caught.value.code == "job_failed"
    assert (await aclient.deployments.get(created.deployment.id)).status == "failed"


def test_a_failed_deployment_says_why_and_is_notified(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    fake.faults.fail_deployment("Provisioning failed: quota")
    armed = fake.faults.described  # read now: the fault fires below
    assert armed == ("fail the next 1 deployment(s)",)
    assert [f.describe() for f in fake.faults.unfired] == list(armed)
    created = client.deployments.create("m1")
    assert fake.faults.unfired == ()
    assert fake.faults.described == ()
    with pytest.raises(ApiError, match="quota") as caught:
        client.deployments.wait_until_active(created.deployment)
    assert caught.value.code == "job_failed"
    failed = client.deployments.get(created.deployment.id)
    assert failed.status == "failed"
    assert failed.error_message == "Provisioning failed: quota"
    kinds = [n.type for n in client.notifications.list()]
    assert "deployment_failed" in kinds
    assert "deployment_active" not in kinds
    with pytest.raises(ConflictError):
        client.deployments.resume(created.deployment.id)
    with pytest.raises(ConflictError):
        client.deployments.update(created.deployment.id, min_containers=1)


def test_active_is_notified_with_the_deployment_and_model(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    (note,) = [n for n in client.notifications.list() if n.type == "deployment_active"]
    assert note.metadata == {"deployment_id": created.deployment.id, "model_id": model_id}


def test_create_refusals(fake: FakePictograph, client: pictograph.Client, model_id: str) -> None:
    with pytest.raises(NotFoundError):
        client.deployments.create("00000000-0000-4000-8000-000000000000")
    with pytest.raises(ValidationError, match="max_containers"):
        client.deployments.create("m1", min_containers=3, max_containers=2)
    with pytest.raises(ValidationError):
        client.deployments.create("m1", max_containers=11)
    with pytest.raises(ValidationError):
        client.deployments.create("m1", gpu_type="h100")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="rate_limit_rpm"):
        client.deployments.create("m1", inference_config={"rate_limit_rpm": 5})
    # The value sent, quoted as JSON spells it.
    with pytest.raises(ValidationError, match=r"between 0 and 1, got true\."):
        client.deployments.create("m1", inference_config={"confidence": True})
    with pytest.raises(ValidationError):
        client.deployments.create("m1", name="a/b")
    client.deployments.create("m1")
    with pytest.raises(ConflictError, match="already exists"):
        client.deployments.create("m1")
    assert len(client.deployments.list()) == 1


def test_a_model_name_with_a_slash_is_no_default_deployment_name(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    client.models.update("m1", new_name="signs/v1")
    before = (len(fake.ledger), fake.balance_micro_usd)

    with pytest.raises(ValidationError) as caught:
        client.deployments.create("signs/v1")

    refusal = caught.value
    assert refusal.status_code == 422
    # It says where the name came from and what to send instead.
    assert "named after its model" in refusal.message
    assert "'signs/v1'" in refusal.message
    assert "name=" in refusal.message
    assert "'signs-v1'" in refusal.message
    assert refusal.field_errors[0]["loc"] == ["body", "name"]
    assert refusal.field_errors[0]["type"] == "missing"
    # Refused, nothing changed: no deployment, no build, no charge.
    assert client.deployments.list() == []
    assert fake.world.deployments.builds == {}
    assert (len(fake.ledger), fake.balance_micro_usd) == before

    created = client.deployments.create("signs/v1", name="signs-v1")
    assert created.deployment.name == "signs-v1"
    assert created.deployment.model_id == model_id


async def test_async_a_model_name_with_a_slash_needs_a_deployment_name(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    await aclient.models.update("m1", new_name="a/b")
    with pytest.raises(ValidationError, match="named after its model"):
        await aclient.deployments.create("a/b")
    assert (await aclient.deployments.create("a/b", name="ab")).deployment.name == "ab"


@pytest.mark.parametrize(
    ("config", "option", "wording"),
    [
        ({"top_k": 0}, "top_k", "inference_config.top_k must be a whole number of at least 1"),
        ({"top_k": 2.5}, "top_k", "got 2.5"),
        ({"class_filter": "stop_sign"}, "class_filter", "must be a list of class names"),
        ({"class_filter": ["stop_sign", 3]}, "class_filter", r"got \["),
    ],
)
def test_an_inference_default_every_request_would_be_refused_for_is_refused_at_create(
    fake: FakePictograph,
    client: pictograph.Client,
    model_id: str,
    config: dict[str, Any],
    option: str,
    wording: str,
) -> None:
    before = (len(fake.ledger), fake.balance_micro_usd)

    with pytest.raises(ValidationError, match=wording) as caught:
        client.deployments.create("m1", inference_config=config)

    assert caught.value.status_code == 422
    assert caught.value.field_errors[0]["loc"] == ["body", "inference_config", option]
    # Nothing made: no deployment to delete, no engine build, no charge.
    assert client.deployments.list() == []
    assert fake.world.deployments.builds == {}
    assert (len(fake.ledger), fake.balance_micro_usd) == before


async def test_async_inference_defaults_are_checked_as_a_request_checks_them(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    with pytest.raises(ValidationError, match="top_k"):
        await aclient.deployments.create("m1", inference_config={"top_k": -1})
    created = await aclient.deployments.create(
        "m1", inference_config={"top_k": 2, "class_filter": ["yield"], "confidence": 0.1}
    )
    deployment = await aclient.deployments.wait_until_active(created.deployment)
    with aclient.deployments.connect(deployment, created.auth_token) as ep:
        result = ep.infer_raw(_png())
    assert {p["name"] for p in result["predictions"]} <= {"yield"}


def test_an_option_sent_as_null_leaves_the_deployments_default(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, inference_config={"confidence": 0.2})
    deployment = client.deployments.get("m1")
    assert deployment.endpoint_url is not None
    image = _png()
    with client.deployments.connect(deployment, created.auth_token) as ep:
        expected = ep.infer_raw(image)
    body = {"image": {"type": "base64", "value": base64.b64encode(image).decode()}}
    url = deployment.endpoint_url
    with httpx.Client(transport=fake.transport_for(httpx.URL(url))) as raw:
        answer = raw.post(
            url,
            json={**body, "confidence": None, "top_k": None, "class_filter": None},
            headers={"Authorization": f"Bearer {created.auth_token}"},
        )
    assert answer.status_code == 200
    assert answer.json() == expected


def test_a_deployment_default_set_to_null_is_no_default(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    """``inference_config={"confidence": None}`` sets nothing: requests and streams are
    answered at the engine's own default, as with no ``inference_config``."""
    camera = "rtsp://cam.example.com:554/gate"
    fake.add_camera(camera, fps=5, frames=4, width=64, height=48)
    plain = _active(client, name="plain")
    nulled = _active(client, name="nulled", inference_config={"confidence": None})
    assert client.deployments.get("nulled").inference_config == {}
    image = _png()
    answers: list[Any] = []
    for created in (plain, nulled):
        with client.deployments.connect(created.deployment, created.auth_token) as ep:
            answers.append(ep.infer_raw(image))
            # A request answered at the engine's default: 0.5, which leaves out a 0.3.
            larger = _png(640, 480)
            assert ep.infer_raw(larger) == ep.infer_raw(larger, confidence=0.5)
            with ep.open_stream(camera) as stream:
                answers.append([frame.result for frame in stream.frames()])
    assert answers[0] == answers[2]
    # Each stream's frames are its own; both are read at the engine's default of 0.5.
    assert len(answers[1]) == len(answers[3]) == 4
    scores = [p.confidence for frames in answers[1::2] for r in frames for p in r.predictions]
    assert scores
    assert min(scores) >= 0.5
    assert fake.server_errors == []


def _drain(fake: FakePictograph) -> None:
    """Spend the organization's whole balance (one ledger debit)."""
    world = fake.world
    with world.lock:
        org = world.organizations[fake.organization_id]
        world.billing.post(org, "adjustment", -fake.balance_micro_usd, description="spent")
    assert fake.balance_micro_usd == 0


def test_create_needs_credit(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _drain(fake)
    with pytest.raises(PaymentRequiredError) as caught:
        client.deployments.create("m1")
    assert caught.value.status_code == 402
    assert client.deployments.list() == []


def test_roles(
    viewer: pictograph.Client, member: pictograph.Client, client: pictograph.Client, model_id: str
) -> None:
    with pytest.raises(ForbiddenError):
        viewer.deployments.create("m1")
    created = member.deployments.create("m1")
    assert viewer.deployments.get(created.deployment.id).id == created.deployment.id
    for act in (viewer.deployments.pause, viewer.deployments.delete):
        with pytest.raises(ForbiddenError):
            act(created.deployment.id)
    with pytest.raises(ForbiddenError):
        viewer.deployments.update(created.deployment.id, name="x")
    with pytest.raises(ForbiddenError):
        viewer.deployments.bulk_pause([created.deployment.id])


def test_another_organizations_deployment_is_not_found(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    other = fake.add_organization()
    with other.client(max_retries=0) as sdk:
        with pytest.raises(NotFoundError):
            sdk.deployments.get(created.deployment.id)
        assert sdk.deployments.list() == []
        # Its bulk verbs find none of ours either: nothing is paused or deleted.
        for bulk in (sdk.deployments.bulk_pause, sdk.deployments.bulk_delete):
            refused = bulk([created.deployment.id])
            assert (refused.succeeded, refused.not_found) == ([], [created.deployment.id])
    assert client.deployments.get(created.deployment.id).status == "provisioning"


# ── list, iter, get ──


def test_list_iter_get_filters(client: pictograph.Client, model_id: str) -> None:
    names = [f"d{i}" for i in range(5)]
    for name in names:
        client.deployments.create("m1", name=name)
    client.deployments.pause("d1")

    assert [d.name for d in client.deployments.list()] == names[::-1]
    assert [d.name for d in client.deployments.list(limit=2, offset=1)] == ["d3", "d2"]
    assert [d.name for d in client.deployments.iter(page_size=2)] == names[::-1]
    assert [d.name for d in client.deployments.list(status="paused")] == ["d1"]
    assert [d.name for d in client.deployments.list(name="d2")] == ["d2"]
    assert len(client.deployments.list(model="m1")) == 5
    assert client.deployments.get("d4").name == "d4"
    with pytest.raises(NotFoundError):
        client.deployments.get("nope")


async def test_async_list_iter(aclient: pictograph.AsyncClient, model_id: str) -> None:
    for name in ("a", "b", "c"):
        await aclient.deployments.create("m1", name=name)
    assert [d.name for d in await aclient.deployments.list(limit=2)] == ["c", "b"]
    assert [d.name async for d in aclient.deployments.iter(page_size=1)] == ["c", "b", "a"]
    # Filters read indexes that follow each change: a pause, a rename, a delete.
    await aclient.deployments.pause("b")
    await aclient.deployments.update("c", name="renamed")
    await aclient.deployments.delete("a")
    assert [d.name for d in await aclient.deployments.list(status="paused")] == ["b"]
    assert [d.name for d in await aclient.deployments.list(status="terminated")] == ["a"]
    assert [d.name for d in await aclient.deployments.list(name="renamed")] == ["renamed"]
    assert await aclient.deployments.list(name="c") == []
    again = await aclient.deployments.create("m1", name="a")  # a terminated one's name is free
    named = await aclient.deployments.list(name="a")
    assert named[0].id == again.deployment.id
    assert [d.status for d in named] == ["provisioning", "terminated"]


# ── quote and compute options ──


def test_quote_prices_warm_and_scale_to_zero(client: pictograph.Client) -> None:
    l4 = DEPLOYMENT_GPUS["l4"].micro_usd_per_minute
    quote = client.deployments.quote(gpu_type="l4", min_containers=2, max_containers=3)
    assert quote.rate_per_min_micro_usd == l4
    assert quote.container_cost_per_hour_micro_usd == l4 * 60
    assert quote.cost_per_hour_micro_usd == quote.warm_cost_per_hour_micro_usd == 2 * l4 * 60
    assert quote.max_cost_per_hour_micro_usd == 3 * l4 * 60
    assert quote.cost_per_day_micro_usd == quote.cost_per_hour_micro_usd * 24
    assert quote.scale_to_zero is False
    zero = client.deployments.quote()
    assert zero.scale_to_zero
    assert zero.warm_cost_per_hour_micro_usd == 0
    assert zero.cost_per_hour_micro_usd == T4.micro_usd_per_minute * 60
    with pytest.raises(ValidationError) as crossed:
        client.deployments.quote(min_containers=2, max_containers=1)
    # A quote takes its containers in the query: the field error points there, not to a body.
    assert crossed.value.field_errors[0]["loc"] == ["query", "max_containers"]
    with pytest.raises(ValidationError):
        client.deployments.quote(region="mars")


async def test_async_quote_and_compute_options(aclient: pictograph.AsyncClient) -> None:
    quote = await aclient.deployments.quote(gpu_type="a100", min_containers=1, max_containers=2)
    assert (
        quote.max_cost_per_hour_micro_usd == 2 * DEPLOYMENT_GPUS["a100"].micro_usd_per_minute * 60
    )
    with pytest.raises(ValidationError) as crossed:
        await aclient.deployments.quote(min_containers=3, max_containers=2)
    assert crossed.value.field_errors[0]["loc"] == ["query", "max_containers"]
    offer = await aclient.deployments.compute_options(region="us-west")
    assert offer.region == "us-west"
    assert [o.key for o in offer.options] == ["t4", "l4", "a100"]


def test_compute_options(client: pictograph.Client) -> None:
    offer = client.deployments.compute_options()
    assert offer.region == "us-east"
    assert [r.id for r in offer.regions] == ["us-east", "us-west"]
    assert offer.regions[0].ping_url == "https://workflows.pictograph.io/us-east/ping"
    assert [(o.key, o.vram_gb) for o in offer.options] == [("t4", 16), ("l4", 24), ("a100", 40)]
    assert [p.precision for p in offer.precisions] == ["fp32", "fp16"]
    assert offer.transfer_per_gib_micro_usd == 240_000


# ── pause, resume, update, delete ──


def test_pause_resume_delete(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    paused = client.deployments.pause("m1")
    assert paused.status == "paused"
    assert paused.paused_at is not None
    with pytest.raises(ConflictError):
        client.deployments.pause("m1")
    with pytest.raises(ApiError) as caught:
        client.deployments.wait_until_active("m1")
    assert caught.value.code == "job_cancelled"

    resumed = client.deployments.resume("m1")
    assert resumed.status == "provisioning"
    with pytest.raises(ConflictError):
        client.deployments.resume("m1")
    assert client.deployments.wait_until_active("m1").status == "active"

    client.deployments.delete("m1")
    gone = client.deployments.get(created.deployment.id)
    assert gone.status == "terminated"
    with pytest.raises(ConflictError):
        client.deployments.delete(created.deployment.id)
    # Its name is free again.
    assert client.deployments.create("m1").deployment.name == "m1"


async def test_async_pause_resume_update_delete(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    created = await aclient.deployments.create("m1")
    assert (await aclient.deployments.pause("m1")).status == "paused"
    assert (await aclient.deployments.resume("m1")).status == "provisioning"
    updated = await aclient.deployments.update("m1", max_containers=3, readme="# hi")
    assert (updated.max_containers, updated.readme) == (3, "# hi")
    await aclient.deployments.delete(created.deployment.id)
    assert (await aclient.deployments.get(created.deployment.id)).status == "terminated"


def test_update_changes_only_what_is_given(client: pictograph.Client, model_id: str) -> None:
    created = _active(client, rate_limit_rpm=100)
    assert created.deployment.rate_limit_rpm == 100
    updated = client.deployments.update(
        "m1", min_containers=1, max_containers=4, scaledown_window=120, name="gate"
    )
    assert (updated.min_containers, updated.max_containers, updated.scaledown_window) == (1, 4, 120)
    assert updated.name == "gate"
    assert updated.rate_limit_rpm == 100
    assert updated.endpoint_url == created.deployment.endpoint_url
    assert client.deployments.update("gate", readme="# Gate").readme == "# Gate"
    assert client.deployments.update("gate", readme="").readme is None
    assert client.deployments.update("gate", rate_limit_rpm=0).rate_limit_rpm is None
    with pytest.raises(ValueError, match="Nothing to change"):
        client.deployments.update("gate")
    with pytest.raises(ValidationError, match="max_containers"):
        client.deployments.update("gate", max_containers=0)
    with pytest.raises(ValidationError, match="max_containers"):
        client.deployments.update("gate", min_containers=5)
    with pytest.raises(ValidationError):
        client.deployments.update("gate", scaledown_window=1)
    client.deployments.create("m1", name="other")
    with pytest.raises(ConflictError):
        client.deployments.update("gate", name="other")
    client.deployments.delete("gate")
    with pytest.raises(ConflictError):
        client.deployments.update(created.deployment.id, readme="x")


def test_raising_the_floor_needs_credit(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _active(client)
    _drain(fake)
    with pytest.raises(PaymentRequiredError):
        client.deployments.update("m1", min_containers=1)
    assert client.deployments.update("m1", max_containers=2).max_containers == 2
    client.deployments.pause("m1")
    with pytest.raises(PaymentRequiredError):
        client.deployments.resume("m1")
    result = client.deployments.bulk_resume(["m1"])
    assert result.succeeded == []
    assert len(result.not_found) == 1


# ── bulk ──


def test_bulk_pause_resume_delete(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    ids = [client.deployments.create("m1", name=n).deployment.id for n in ("a", "b")]
    unknown = "00000000-0000-4000-8000-000000000000"

    paused = client.deployments.bulk_pause(["a", ids[1], ids[1]])
    assert paused.succeeded == ids
    assert paused.count == 2
    again = client.deployments.bulk_pause([*ids, unknown])
    assert again.succeeded == []
    assert again.not_found == [*ids, unknown]

    # One deployment sent twice, in two cases, is one duplicate: collapsed.
    twice = client.deployments.bulk_resume([ids[0].upper(), ids[0]])
    assert (twice.succeeded, twice.not_found, twice.count) == ([ids[0].upper()], [], 1)
    client.deployments.bulk_pause([ids[0]])

    resumed = client.deployments.bulk_resume(ids)
    assert resumed.succeeded == ids
    assert {d.status for d in client.deployments.list()} == {"provisioning"}

    deleted = client.deployments.bulk_delete([*ids, unknown])
    assert deleted.succeeded == ids
    # Releases before the rename read `deleted`: it is sent too.
    assert fake.calls.last.response_json()["deleted"] == ids
    assert deleted.not_found == [unknown]
    assert client.deployments.bulk_delete(ids).not_found == ids
    with pytest.raises(NotFoundError):
        client.deployments.bulk_pause(["no-such-name"])


async def test_async_bulk(aclient: pictograph.AsyncClient, model_id: str) -> None:
    ids = [(await aclient.deployments.create("m1", name=n)).deployment.id for n in ("a", "b")]
    assert (await aclient.deployments.bulk_pause(ids)).count == 2
    assert (await aclient.deployments.bulk_resume(ids)).count == 2
    assert (await aclient.deployments.bulk_delete(ids)).succeeded == ids


# ── billing ──


def test_a_warm_deployment_is_billed_per_started_minute_as_the_clock_moves(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, min_containers=2, max_containers=2)
    started = client.deployments.get("m1").started_at
    assert started is not None
    assert _deployment_entries(fake) == []

    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)
    per_meter = int(DEPLOYMENT_METER_SECONDS // 60) * 2 * T4.micro_usd_per_minute
    entries = _deployment_entries(fake)
    assert [(op, amount) for op, amount, _ in entries] == [("deployment_t4", -per_meter)]

    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS * 2 + 30)
    entries = _deployment_entries(fake)
    assert [amount for _, amount, _ in entries] == [-per_meter] * 3
    times = [at for _, _, at in entries]
    assert times[1] - times[0] == times[2] - times[1] == DEPLOYMENT_METER_SECONDS

    paused = client.deployments.pause("m1")  # 30 s more on two containers: one container-minute
    final = _deployment_entries(fake)[-1]
    assert final[1] == -T4.micro_usd_per_minute
    assert paused.accrued_cost_micro_usd == -sum(a for _, a, _ in _deployment_entries(fake))
    assert paused.uptime_seconds == int(DEPLOYMENT_METER_SECONDS * 3 + 30)

    fake.clock.advance(seconds=3600)  # paused: nothing more
    assert len(_deployment_entries(fake)) == 4
    assert created.deployment.id == paused.id


def test_scale_to_zero_bills_only_while_awake_and_transfer_per_gib(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=90)
    fake.clock.advance(seconds=3600)
    assert _deployment_entries(fake) == []  # asleep all hour

    deployment = client.deployments.get("m1")
    with client.deployments.connect(deployment, created.auth_token) as endpoint:
        endpoint.infer(_png())
        awake = client.deployments.get("m1")
        assert awake.runtime is not None
        assert awake.runtime.state == "live"
        fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)
    entries = _deployment_entries(fake)
    # 90 idle seconds after the request: two started container-minutes.
    assert [(op, amount) for op, amount, _ in entries] == [
        ("deployment_t4", -2 * T4.micro_usd_per_minute)
    ]
    asleep = client.deployments.get("m1")
    assert asleep.runtime is not None
    assert asleep.runtime.state == "asleep"
    assert asleep.transfer_bytes > 0
    assert asleep.metrics is not None
    assert asleep.metrics.requests == 1

    # A big enough transfer is billed per GiB (bytes are metered, not each request).
    fake.world.deployments.deployments[deployment.id].transfer_bytes += 1 << 30
    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)
    transfer = [e for e in fake.ledger if e.operation == "deployment_transfer"]
    assert len(transfer) == 1
    assert transfer[0].amount == -240_000


def test_delete_bills_the_last_minutes(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _active(client, min_containers=1)
    fake.clock.advance(seconds=61)
    client.deployments.delete("m1")
    assert [a for _, a, _ in _deployment_entries(fake)] == [-2 * T4.micro_usd_per_minute]
    fake.clock.advance(seconds=3600)
    assert len(_deployment_entries(fake)) == 1


def _up_for(deployment: pictograph.Deployment) -> float:
    """Seconds a deployment the credit paused ran, from its start to its pause."""
    assert deployment.status == "paused"
    assert deployment.started_at is not None
    assert deployment.paused_at is not None
    return (deployment.paused_at - deployment.started_at).total_seconds()


def _leave(fake: FakePictograph, micro_usd: int) -> None:
    """Spend the organization's balance down to ``micro_usd`` (one ledger debit)."""
    world = fake.world
    with world.lock:
        org = world.organizations[fake.organization_id]
        spent = fake.balance_micro_usd - micro_usd
        world.billing.post(org, "adjustment", -spent, description="spent")
    assert fake.balance_micro_usd == micro_usd


def test_a_deployment_is_paused_when_the_credit_runs_out(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Ten and a half container-minutes of credit: it runs ten, then cannot pay the
    # eleventh, and is paused there with the reason; the balance never goes below zero.
    _leave(fake, 10 * T4.micro_usd_per_minute + T4.micro_usd_per_minute // 2)
    created = _active(client, min_containers=1)
    fake.clock.advance(seconds=3600)
    deployment = client.deployments.get("m1")
    ledger = list(client.credits.iter())

    assert _up_for(deployment) == 600
    assert deployment.uptime_seconds == 600
    assert deployment.accrued_cost_micro_usd == 10 * T4.micro_usd_per_minute
    assert [a for _, a, _ in _deployment_entries(fake)] == [
        -5 * T4.micro_usd_per_minute,
        -5 * T4.micro_usd_per_minute,
    ]
    assert min(e.balance_after or 0 for e in ledger) == fake.balance_micro_usd >= 0
    assert fake.balance_micro_usd == T4.micro_usd_per_minute // 2
    (note,) = [n for n in client.notifications.list() if n.type == "deployment_paused"]
    assert note.message is not None
    assert "compute credit ran out" in note.message
    assert "Top up or raise the budget, then resume it" in note.message
    assert note.metadata == {
        "deployment_id": created.deployment.id,
        "model_id": model_id,
        "reason": "insufficient_credits",
    }
    with pytest.raises(ApiError) as waiting:
        client.deployments.wait_until_active(created.deployment, timeout=5)
    assert waiting.value.code == "job_cancelled"

    # Paused, it costs nothing; it resumes once the credit is back.
    with pytest.raises(PaymentRequiredError):
        client.deployments.resume("m1")
    fake.top_up(10)
    client.deployments.resume("m1")
    assert client.deployments.wait_until_active("m1").status == "active"


def test_a_402_and_a_pause_for_credit_never_say_the_balance_covers_a_minute(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # $0.079 left against a $0.07932 minute: in cents both read $0.08, which would say
    # the organization has what it needs; they are shown to the micro-dollar instead.
    price = T4.micro_usd_per_minute
    _leave(fake, price - 320)
    with pytest.raises(PaymentRequiredError) as caught:
        client.deployments.create("m1")
    assert "costs $0.07932, has $0.079)" in caught.value.message

    fake.top_up(1)
    _leave(fake, 10 * price + price - 320)
    _active(client, min_containers=1)
    fake.clock.advance(seconds=3600)
    (note,) = [n for n in client.notifications.list() if n.type == "deployment_paused"]
    assert note.message is not None
    assert "($0.079 left; a container-minute on t4 costs $0.07932)" in note.message


async def test_async_a_402_to_resume_shows_amounts_that_differ(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model_id: str
) -> None:
    created = await aclient.deployments.create("m1")
    await aclient.deployments.pause(created.deployment.id)
    _leave(fake, T4.micro_usd_per_minute - 1)
    with pytest.raises(PaymentRequiredError) as caught:
        await aclient.deployments.resume("m1")
    assert "costs $0.07932, has $0.079319)" in caught.value.message


def test_every_deployment_of_the_organization_stops_when_its_credit_runs_out(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Two warm deployments draw on one balance: when it can no longer pay a minute,
    # both are paused at that instant, and what was left unbilled is written off.
    _leave(fake, 12 * T4.micro_usd_per_minute)
    _active(client, name="a", min_containers=1)
    _active(client, name="b", min_containers=2, max_containers=2)
    fake.clock.advance(seconds=3600)
    a, b = client.deployments.get("a"), client.deployments.get("b")

    assert (a.status, b.status) == ("paused", "paused")
    assert a.paused_at == b.paused_at
    assert 0 <= fake.balance_micro_usd < T4.micro_usd_per_minute
    assert min(e.balance_after or 0 for e in client.credits.iter()) >= 0
    billed = -sum(a for _, a, _ in _deployment_entries(fake))
    assert a.accrued_cost_micro_usd + b.accrued_cost_micro_usd == billed
    # What could not be billed is written off, never posted: not even as a zero.
    assert all(amount < 0 for _, amount, _ in _deployment_entries(fake))


def test_a_scaled_to_zero_deployment_pauses_when_a_request_would_overdraw(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Asleep it costs nothing, so it waits; the request that wakes it plans the check.
    _leave(fake, 3 * T4.micro_usd_per_minute)
    created = _active(client, scaledown_window=600)
    fake.clock.advance(seconds=3600)
    assert client.deployments.get("m1").status == "active"
    with client.deployments.connect(client.deployments.get("m1"), created.auth_token) as endpoint:
        endpoint.infer(_png())
    fake.clock.advance(seconds=600)
    deployment = client.deployments.get("m1")

    assert deployment.status == "paused"
    assert deployment.uptime_seconds == 180
    assert 0 <= fake.balance_micro_usd < T4.micro_usd_per_minute


async def test_async_sees_a_deployment_paused_for_credit(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model_id: str
) -> None:
    _leave(fake, 2 * T4.micro_usd_per_minute)
    created = await aclient.deployments.create("m1", min_containers=1)
    await aclient.deployments.wait_until_active(created.deployment)
    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)
    deployment = await aclient.deployments.get("m1")

    assert deployment.status == "paused"
    assert deployment.uptime_seconds == 120
    assert fake.balance_micro_usd == 0
    with pytest.raises(PaymentRequiredError):
        await aclient.deployments.resume("m1")


# ── the endpoint ──


def test_the_endpoint_answers_typed_deterministic_predictions(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, inference_config={"confidence": 0.2})
    deployment = client.deployments.get("m1")
    image = _png()
    with client.deployments.connect(deployment, created.auth_token, task="object_detection") as ep:
        result = ep.infer(image)
        again = ep.infer(image)
        raw = ep.infer_raw(image)
        strict = ep.infer(image, confidence=0.99)
    assert result.model_type == "object_detection"
    assert (result.backend, result.device) == ("tensorrt", "cuda")
    assert result.inference_ms is not None
    assert result.inference_ms > 0
    assert result.predictions == again.predictions
    assert raw["model_type"] == "object_detection"
    assert len(raw["predictions"]) == len(result.predictions)
    # Each prediction is numbered from p1 and marked as the engine's, as an annotation is.
    assert raw["predictions"]
    assert [p["id"] for p in raw["predictions"]] == [
        f"p{n}" for n in range(1, len(raw["predictions"]) + 1)
    ]
    assert {tuple(p["attributes"]) for p in raw["predictions"]} == {("auto-annotate",)}
    for p in result.predictions:
        box = p.bounding_box
        assert box.x >= 0
        assert box.x + box.w <= 64 + 1e-6
        assert p.confidence >= 0.2
    assert len(strict.predictions) <= len(result.predictions)
    assert client.deployments.get("m1").metrics.requests == 4  # type: ignore[union-attr]


def test_an_image_url_on_the_fakes_own_storage_is_read_and_another_hosts_is_not(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    own = _signed_url(fake)
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        by_url = ep.infer(own)
        assert not isinstance(by_url, ClassificationResult)
        assert by_url.predictions
        by_bytes = ep.infer(_png())
        assert not isinstance(by_bytes, ClassificationResult)
        assert by_url.predictions == by_bytes.predictions
        # The same path on another port, or on plain http, is another host: not fetched.
        for elsewhere in (
            own.replace("https://api.pictograph.io", "https://api.pictograph.io:8443"),
            own.replace("https://", "http://"),
        ):
            with pytest.raises(ValidationError) as refused:
                ep.infer(elsewhere)
            assert refused.value.code == "no_image_provided"


def test_a_signed_image_url_is_read_while_its_image_is_there_and_until_it_expires(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    cat = _signed_url(fake)
    gone = _signed_url(fake, "gone", lambda: None)
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        with pytest.raises(ValidationError) as missing:
            ep.infer(gone)
        assert missing.value.code == "no_image_provided"
        fake.clock.advance(seconds=SIGNED_URL_TTL_SECONDS - 1)
        assert ep.infer(cat).model_type == "object_detection"
        fake.clock.advance(seconds=1)  # its hour is up, to the instant
        with pytest.raises(ValidationError) as expired:
            ep.infer(cat)
        assert expired.value.code == "no_image_provided"


def test_an_image_url_below_a_base_url_with_a_path_is_read() -> None:
    with FakePictograph(seed=1, base_url="http://localhost:8123/pictograph") as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            _train(client)
            created = _active(client)
        cat = _signed_url(fake)
        with client.deployments.connect(created.deployment, created.auth_token) as ep:
            # The URL the fake hands out: below its base URL's path.
            by_url = ep.infer_raw(cat)
            assert by_url == ep.infer_raw(_png())


def test_a_keypoint_endpoint_numbers_each_instance() -> None:
    # The current profile trains keypoint models; each point found is an instance.
    with FakePictograph(seed=1, profile="current") as fake:
        fake.add_dataset(
            "joints",
            images=10,
            completed_images=10,
            classes=["knee"],
            annotation_types=["keypoint"],
        )
        fake.add_export("joints", "joints-v1")
        with fake.client(max_retries=0) as client:
            client.training.create(
                "joints", "joints-v1", pipeline_type="rfdetr_keypoint", name="kp"
            )
            created = client.deployments.create("kp")
            client.deployments.wait_until_active(created.deployment)
            with client.deployments.connect(created.deployment, created.auth_token) as ep:
                raw = ep.infer_raw(_png(), confidence=0.0)
    assert raw["model_type"] == "keypoint_detection"
    assert raw["predictions"]
    assert [p["instance_id"] for p in raw["predictions"]] == list(
        range(1, len(raw["predictions"]) + 1)
    )


def test_the_endpoint_refusals(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    deployment = created.deployment
    with client.deployments.connect(deployment, created.auth_token) as ep:
        with pytest.raises(ConflictError) as caught:
            ep.infer(_png())
        assert caught.value.code == "deployment_not_active"
        assert caught.value.response == {
            "error": "deployment_not_active",
            "detail": "The deployment is not active (status: provisioning).",
            "status": "provisioning",
        }
        client.deployments.wait_until_active(deployment)
        with pytest.raises(ValidationError) as bad:
            ep.infer(b"not an image")
        assert bad.value.code == "could_not_decode_image"
        with pytest.raises(ValidationError) as option:
            ep.infer(_png(), confidence=2.0)
        assert option.value.code == "invalid_option"
        with pytest.raises(ValidationError) as url:
            ep.infer("https://example.com/cat.jpg")
        assert url.value.code == "no_image_provided"
        with pytest.raises(ValidationError, match="not valid") as unparsable:
            ep.infer("http://[::1")
        assert unparsable.value.code == "no_image_provided"
    with client.deployments.connect(deployment, "pk_deploy_wrong") as wrong:
        with pytest.raises(AuthError) as refused:
            wrong.infer(_png())
        assert refused.value.code == "unauthorized"
    client.deployments.delete("m1")
    with client.deployments.connect(deployment, created.auth_token) as ep:
        with pytest.raises(NotFoundError) as missing:
            ep.infer(_png())
        assert missing.value.code == "deployment_not_found"


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b'{"image": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # past Python's own stack
        b'{"image": {"type": "base64", "value": "x"}, "confidence": NaN}',
        b'{"image": {"type": "url", "value": "https://example.com/\\ud800.jpg"}}',
        # JSON, but not of the endpoint's shape.
        b'{"image": "aGk="}',
        b'{"image": {"value": "aGk="}}',
        b'{"image": {"type": "path", "value": "/tmp/cat.png"}}',
        b'{"image": {"type": "base64", "value": 7}}',
    ],
    ids=[
        "not-json",
        "nested-too-deep",
        "nan",
        "lone-surrogate",
        "image-not-an-object",
        "no-type",
        "another-type",
        "value-not-text",
    ],
)
def test_the_endpoint_refuses_a_body_it_cannot_read_in_words(
    fake: FakePictograph, client: pictograph.Client, model_id: str, body: bytes
) -> None:
    created = client.deployments.create("m1")
    deployment = client.deployments.wait_until_active(created.deployment)
    assert deployment.endpoint_url is not None
    with httpx.Client() as raw:  # the fake intercepts its gateway's host
        answer = raw.post(
            deployment.endpoint_url,
            content=body,
            headers={"Authorization": f"Bearer {created.auth_token}"},
        )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request_body")
    assert answer.json()["detail"].startswith('Send JSON: {"image": {"type": "base64" | "url"')
    assert fake.server_errors == []


def test_the_endpoint_refuses_an_image_it_cannot_decode(
    client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    deployment = client.deployments.wait_until_active(created.deployment)
    with client.deployments.connect(deployment, created.auth_token) as ep:
        with pytest.raises(ValidationError, match="truncated") as truncated:
            ep.infer(_png()[:80])
        assert (truncated.value.status_code, truncated.value.code) == (
            400,
            "could_not_decode_image",
        )
        ico = io.BytesIO()
        Image.new("RGB", (16, 16)).save(ico, "ICO")
        with pytest.raises(ValidationError, match="ICO") as unsupported:
            ep.infer(ico.getvalue())
        assert unsupported.value.code == "could_not_decode_image"
        assert ep.infer(_png()).model_type == "object_detection"


async def test_async_connect_answers_the_same(
    aclient: pictograph.AsyncClient, client: pictograph.Client, model_id: str
) -> None:
    created = await aclient.deployments.create("m1")
    deployment = await aclient.deployments.wait_until_active(created.deployment)
    with aclient.deployments.connect(deployment, created.auth_token) as ep:
        from_async = ep.infer_raw(_png())
    with client.deployments.connect(deployment, created.auth_token) as ep:
        assert ep.infer_raw(_png()) == from_async


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _image_body(image: bytes) -> dict[str, Any]:
    return {"image": {"type": "base64", "value": base64.b64encode(image).decode()}}


def _post_by_hand(
    client: pictograph.Client, created: CreatedDeployment, **request: Any
) -> httpx.Response:
    """POST to the active deployment m1's endpoint with its bearer token, by hand: for the
    bodies and options the SDK never sends."""
    url = client.deployments.get("m1").endpoint_url
    assert url is not None
    with httpx.Client() as raw:  # the fake intercepts its gateway's host
        return raw.post(url, headers=_bearer(created.auth_token), **request)


NO_ROUTE = {"error": "not_found", "detail": "The gateway has no such route."}


@pytest.mark.parametrize(
    ("method", "below", "status", "answer"),
    [
        ("GET", "/us-east/ping", 200, {"region": "us-east", "ok": True}),
        ("GET", "/us-west/ping", 200, {"region": "us-west", "ok": True}),
        ("GET", "/mars/ping", 404, NO_ROUTE),
        ("GET", "/us-east/ping/again", 404, NO_ROUTE),
        ("POST", "/us-east/{id}", 404, NO_ROUTE),
        ("POST", "/us-east/{id}/predict/again", 404, NO_ROUTE),
        ("POST", "/us-east/{id}/sessions/0123456789abcdef/overlay/again", 404, NO_ROUTE),
        (
            "PUT",
            "/us-east/{id}/predict",
            405,
            {"error": "method_not_allowed", "detail": "POST an image to the endpoint."},
        ),
        (
            "POST",
            "/us-west/{id}/predict",
            421,
            {"error": "wrong_region", "detail": "The deployment runs in us-east, not us-west."},
        ),
        # An endpoint's id is found in any case, as the API finds a deployment's.
        ("POST", "/us-east/{ID}/predict", 200, {"model_type": "object_detection"}),
    ],
    ids=[
        "ping",
        "ping-us-west",
        "ping-no-region",
        "below-ping",
        "endpoint-root",
        "below-predict",
        "below-overlay",
        "predict-put",
        "another-region",
        "id-upper-case",
    ],
)
def test_the_gateway_answers_its_ping_and_the_endpoints_routes_and_no_other(
    fake: FakePictograph,
    client: pictograph.Client,
    model_id: str,
    method: str,
    below: str,
    status: int,
    answer: dict[str, Any],
) -> None:
    created = _active(client)
    deployment_id = client.deployments.get("m1").id
    path = below.format(id=deployment_id, ID=deployment_id.upper())
    with httpx.Client() as raw:  # the fake intercepts its gateway's host
        answered = raw.request(
            method,
            f"{fake.gateway_url}{path}",
            json=_image_body(_png()),
            headers=_bearer(created.auth_token),
        )
    assert answered.status_code == status
    assert {key: answered.json()[key] for key in answer} == answer


@pytest.mark.parametrize(
    "authorization",
    ["Bearer pk_deploy_wrong", "bearer {token}", "Digest {token}", "{token}", None],
    ids=["another-token", "lower-case-scheme", "another-scheme", "no-scheme", "none"],
)
def test_the_endpoint_takes_its_own_token_as_a_bearer_only(
    client: pictograph.Client, model_id: str, authorization: str | None
) -> None:
    created = _active(client)
    url = client.deployments.get("m1").endpoint_url
    assert url is not None
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client() as raw:
        answered = raw.post(
            url,
            json=_image_body(_png()),
            headers={k: v.format(token=created.auth_token) for k, v in headers.items()},
        )
    assert (answered.status_code, answered.json()) == (
        401,
        {"error": "unauthorized", "detail": "The deployment refused the bearer token."},
    )


def test_the_endpoint_names_its_engine_and_timings_and_counts_what_it_was_sent(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    sent = json.dumps(_image_body(_png())).encode()
    answered = _post_by_hand(client, created, content=sent)
    refused = _post_by_hand(client, created, content=b"nope")
    assert refused.status_code == 400
    assert answered.headers["x-pictograph-engine"] == "prt"
    assert answered.headers["x-pictograph-device"] == "cuda"
    timing = re.fullmatch(
        r"decode;dur=(\d+\.\d{3}), infer;dur=(\d+\.\d{3}), total;dur=(\d+\.\d{3})",
        answered.headers["server-timing"],
    )
    assert timing is not None
    decode, infer, total = (float(ms) for ms in timing.groups())
    # A small picture decodes in well under the forward pass; the total holds both.
    assert 0 < decode < infer < total
    assert decode + infer < total
    deployment = client.deployments.get("m1")
    # Its bytes are both ways for an answer, and what was sent for a refusal.
    assert deployment.transfer_bytes == len(sent) + len(answered.content) + len(b"nope")
    assert deployment.metrics is not None
    # The refusal took the engine no time: the mean is half the answer's total.
    assert deployment.metrics.avg_latency_ms == round(total / 2, 3)


@pytest.mark.parametrize(
    ("size", "status", "error"),
    [
        (64 * 1024 * 1024, 400, "invalid_request_body"),
        (64 * 1024 * 1024 + 1, 413, "request_too_large"),
    ],
    ids=["at-64-mib", "past-64-mib"],
)
def test_the_endpoint_reads_a_request_up_to_64_mib(
    client: pictograph.Client, model_id: str, size: int, status: int, error: str
) -> None:
    answered = _post_by_hand(client, _active(client), content=b"x" * size)
    assert (answered.status_code, answered.json()["error"]) == (status, error)
    if status == 413:
        assert answered.json()["detail"] == "The request is larger than 64 MiB."


def test_a_class_filter_keeps_the_classes_it_names_and_a_request_overrides_the_default(
    client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, inference_config={"confidence": 0.0, "class_filter": ["yield"]})
    image = _png(320, 240, shade=90)  # a picture both classes are found on

    def names(**options: Any) -> set[str]:
        with client.deployments.connect(created.deployment, created.auth_token) as ep:
            return {p["name"] for p in ep.infer_raw(image, **options)["predictions"]}

    assert names() == {"yield"}  # the deployment's default
    assert names(class_filter=["stop_sign"]) == {"stop_sign"}
    # "None or [] returns every class the deployment is configured to return" (the SDK's
    # infer): an empty filter leaves the deployment's own in force.
    assert names(class_filter=[]) == {"yield"}


@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"confidence": 2.0}, "confidence must be a number between 0 and 1."),
        ({"top_k": 0}, "top_k must be a whole number of at least 1."),
        ({"class_filter": "yield"}, "class_filter must be a list of class names."),
    ],
    ids=["confidence", "top-k", "class-filter"],
)
def test_each_inference_option_out_of_its_bounds_is_refused_in_words(
    client: pictograph.Client, model_id: str, options: dict[str, Any], detail: str
) -> None:
    answered = _post_by_hand(client, _active(client), json={**_image_body(_png()), **options})
    assert (answered.status_code, answered.json()) == (
        400,
        {"error": "invalid_option", "detail": detail},
    )


@pytest.mark.parametrize(
    ("value", "error", "detail"),
    [
        # Past its padding, a character base64 does not have: not skipped.
        ("aGk=!", "could_not_decode_image", "The image is not valid base64."),
        ("c2ln\u00e9", "could_not_decode_image", "The image is not valid base64."),
        ("", "no_image_provided", "The image is empty."),
    ],
    ids=["not-base64", "not-ascii", "empty"],
)
def test_the_endpoint_refuses_image_bytes_it_cannot_read(
    client: pictograph.Client, model_id: str, value: str, error: str, detail: str
) -> None:
    answered = _post_by_hand(
        client, _active(client), json={"image": {"type": "base64", "value": value}}
    )
    assert (answered.status_code, answered.json()) == (400, {"error": error, "detail": detail})


def test_scaling_to_zero_keeps_the_last_container_for_the_idle_window(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _active(client, min_containers=1)
    client.deployments.update("m1", min_containers=0, scaledown_window=30)
    live = client.deployments.get("m1").runtime
    assert live is not None
    assert live.state == "live"
    fake.clock.advance(seconds=30)
    asleep = client.deployments.get("m1").runtime
    assert asleep is not None
    assert asleep.state == "asleep"


def _wake(client: pictograph.Client, created: CreatedDeployment) -> None:
    with client.deployments.connect(
        created.deployment, created.auth_token, task="object_detection"
    ) as endpoint:
        endpoint.infer(_png())


def _state(client: pictograph.Client, ref: str) -> str:
    runtime = client.deployments.get(ref).runtime
    assert runtime is not None
    return runtime.state


def test_a_shorter_idle_window_puts_an_awake_deployment_to_sleep_at_once(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=3600)
    _wake(client, created)
    client.deployments.update("m1", scaledown_window=2)
    fake.clock.advance(seconds=10)
    assert _state(client, "m1") == "asleep"

    fake.clock.advance(hours=2)
    deployment = client.deployments.get("m1")
    # Two awake seconds after the request: one started container-minute, not the hour the
    # old window would have kept it up.
    assert deployment.uptime_seconds == 2
    assert deployment.accrued_cost_micro_usd == T4.micro_usd_per_minute
    billed = [amount for _, amount, _ in _deployment_entries(fake)]
    assert billed == [-T4.micro_usd_per_minute]


def test_a_longer_idle_window_keeps_an_awake_deployment_up_from_its_last_request(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=60)
    _wake(client, created)
    fake.clock.advance(seconds=30)
    client.deployments.update("m1", scaledown_window=600)
    fake.clock.advance(seconds=120)  # past the old window's end
    assert _state(client, "m1") == "live"
    fake.clock.advance(seconds=450)  # 600 s after the request
    assert _state(client, "m1") == "asleep"

    fake.clock.advance(hours=1)
    deployment = client.deployments.get("m1")
    assert deployment.uptime_seconds == 600
    assert deployment.accrued_cost_micro_usd == 10 * T4.micro_usd_per_minute
    assert sum(amount for _, amount, _ in _deployment_entries(fake)) == (
        -deployment.accrued_cost_micro_usd
    )


def test_a_window_already_passed_scales_down_when_it_is_set_not_before(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=3600)
    _wake(client, created)
    fake.clock.advance(seconds=90)
    client.deployments.update("m1", scaledown_window=30)  # idle 90 s: past the new window
    assert _state(client, "m1") == "asleep"
    fake.clock.advance(hours=2)
    deployment = client.deployments.get("m1")
    # The container was up (and billed) until the change, not back-dated to 30 s.
    assert deployment.uptime_seconds == 90
    assert deployment.accrued_cost_micro_usd == 2 * T4.micro_usd_per_minute

    _wake(client, created)  # the next request wakes it for the new window
    fake.clock.advance(seconds=29)
    assert _state(client, "m1") == "live"
    fake.clock.advance(seconds=1)
    assert _state(client, "m1") == "asleep"


async def test_async_update_applies_the_idle_window_at_once(
    fake: FakePictograph,
    aclient: pictograph.AsyncClient,
    client: pictograph.Client,
    model_id: str,
) -> None:
    created = await aclient.deployments.create("m1", scaledown_window=3600)
    await aclient.deployments.wait_until_active(created.deployment)
    _wake(client, created)
    await aclient.deployments.update("m1", scaledown_window=2)
    fake.clock.advance(seconds=10)
    runtime = (await aclient.deployments.get("m1")).runtime
    assert runtime is not None
    assert runtime.state == "asleep"
    fake.clock.advance(hours=2)
    deployment = await aclient.deployments.get("m1")
    assert (deployment.uptime_seconds, deployment.accrued_cost_micro_usd) == (
        2,
        T4.micro_usd_per_minute,
    )


def test_the_request_ceiling_answers_429_until_the_minute_turns(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, rate_limit_rpm=2)
    deployment = client.deployments.get("m1")
    url, token = deployment.endpoint_url, created.auth_token
    assert url is not None
    with DeploymentClient(url, token, max_retries=0) as single_shot:
        single_shot.infer(_png())
        single_shot.infer(_png())
        with pytest.raises(RateLimitError) as caught:
            single_shot.infer(_png())
    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 1
    before = fake.clock.now()
    with client.deployments.connect(deployment, token) as ep:
        ep.infer(_png())  # the SDK waits out the Retry-After on the virtual clock
    assert fake.clock.now() > before


def test_classification_and_segmentation_endpoints(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("tags", images=10, completed_images=10, classes=["cat", "dog"])
    fake.add_export("tags", "tags-v1")
    run = client.training.create("tags", "tags-v1", pipeline_type="classification", name="cls")
    assert run.status == "completed"
    created = client.deployments.create("cls")
    deployment = client.deployments.wait_until_active(created.deployment)
    with client.deployments.connect(deployment, created.auth_token) as ep:
        raw = ep.infer_raw(_png(), confidence=0.0, top_k=1)
        typed = ep.infer(_png(), confidence=0.0)
        with (
            client.deployments.connect(
                deployment, created.auth_token, task="object_detection"
            ) as wrong,
            pytest.raises(ValidationError),
        ):
            wrong.infer(_png())
    assert raw["model_type"] == "classification"
    assert len(raw["predictions"]) == 1
    assert set(raw["predictions"][0]) == {"class", "confidence"}
    assert raw["tags"] == [p["class"] for p in raw["predictions"]]
    assert typed.model_type == "classification"


def test_the_gateway_in_server_mode() -> None:
    import httpx

    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server:
        fake = server.fake
        fake.add_dataset(DATASET, images=20, completed_images=12)
        fake.add_export(DATASET, EXPORT)
        with server.client(max_retries=0) as sdk:
            sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False)
            fake.clock.advance(seconds=3600)
            created = sdk.deployments.create("m1")
            fake.clock.advance(seconds=BUILD + START)
            deployment = sdk.deployments.get("m1")
            assert deployment.status == "active"
            assert deployment.endpoint_url == (
                f"{server.base_url}/_gateway/us-east/{deployment.id}/predict"
            )
            with DeploymentClient(
                deployment.endpoint_url, created.auth_token, task="object_detection"
            ) as ep:
                assert ep.infer(_png()).model_type == "object_detection"
            ping = httpx.get(f"{server.base_url}/_gateway/us-east/ping")
            assert ping.status_code == 200


# ── determinism and snapshots ──


def _scripted(seed: int) -> list[Any]:
    seen: list[Any] = []
    with FakePictograph(seed=seed) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12)
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as sdk:
            _train(sdk)
            created = sdk.deployments.create("m1", min_containers=1)
            deployment = sdk.deployments.wait_until_active(created.deployment)
            with sdk.deployments.connect(deployment, created.auth_token) as ep:
                seen.append(ep.infer_raw(_png(shade=seed % 200)))
            fake.clock.advance(seconds=900)
            sdk.deployments.pause("m1")
            seen.append(sdk.deployments.get("m1").model_dump(mode="json"))
        seen.append([(e.operation, e.amount, e.created_at) for e in fake.ledger])
        seen.append(
            fake.calls[-1].response_body if hasattr(fake.calls[-1], "response_body") else None
        )
    return seen


def test_same_seed_same_calls_same_answers() -> None:
    assert _scripted(5) == _scripted(5)


def test_snapshot_refuses_a_world_with_deployments(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    client.deployments.create("m1")
    client.models.delete("m1")
    with pytest.raises(ValueError, match="deployments"):
        fake.snapshot()


def test_active_and_failed_deployments_send_webhook_events(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    url = "https://hooks.example.com/pictograph"
    client.webhooks.create(url)
    received: list[WebhookRequest] = []

    def inbox(request: WebhookRequest) -> int:
        received.append(request)
        return 200

    fake.webhooks.route(url, inbox)
    _active(client, name="up")
    fake.faults.fail_deployment()
    doomed = client.deployments.create("m1", name="down")
    with pytest.raises(ApiError):
        client.deployments.wait_until_active(doomed.deployment)

    assert [r.event_type for r in received] == ["deployment.active", "deployment.failed"]


# ── its model deleted ──


def test_deleting_its_model_terminates_a_deployment_and_bills_its_last_minutes(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, min_containers=1)
    fake.clock.advance(seconds=61)
    client.models.delete("m1")

    gone = client.deployments.get(created.deployment.id)
    assert gone.status == "terminated"
    assert [a for _, a, _ in _deployment_entries(fake)] == [-2 * T4.micro_usd_per_minute]
    fake.clock.advance(seconds=3600)  # nothing more is billed
    assert len(_deployment_entries(fake)) == 1
    with (
        client.deployments.connect(gone, created.auth_token) as endpoint,
        pytest.raises(NotFoundError),
    ):
        endpoint.infer(_png())


def test_bulk_deleting_models_terminates_each_ones_live_deployments(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    other = _train(client, "m2")
    kept = _train(client, "m3")
    serving = client.deployments.create("m1", name="a").deployment.id
    paused = client.deployments.create("m2", name="b").deployment.id
    client.deployments.pause("b")
    ended = client.deployments.create("m2", name="c").deployment.id
    client.deployments.delete("c")
    untouched = client.deployments.create("m3", name="d").deployment.id

    result = client.models.bulk_delete([model_id, other])
    assert (result.succeeded, result.not_found, result.count) == ([model_id, other], [], 2)
    statuses = {d.id: d.status for d in client.deployments.list()}
    assert statuses == {
        serving: "terminated",
        paused: "terminated",
        ended: "terminated",
        untouched: "provisioning",
    }
    assert client.models.get(model_id=kept).id == kept
    # Their names are free again, as a deployment's delete frees it.
    assert client.deployments.create("m3", name="a").deployment.name == "a"


async def test_async_deleting_its_model_terminates_a_deployment(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    created = await aclient.deployments.create("m1")
    await aclient.models.delete(model_id=model_id)
    assert (await aclient.deployments.get(created.deployment.id)).status == "terminated"
    other = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m2")
    assert other.model_id is not None
    second = await aclient.deployments.create("m2")
    assert (await aclient.models.bulk_delete([other.model_id])).succeeded == [other.model_id]
    assert (await aclient.deployments.get(second.deployment.id)).status == "terminated"


# ── rules a mutation run of world/deployments.py found no test holding ──


def _to(fake: FakePictograph, client: pictograph.Client, ref: str, seconds: float) -> None:
    """Move the clock to ``seconds`` after the deployment ``ref`` came up."""
    started = client.deployments.get(ref).started_at
    assert started is not None
    fake.clock.advance(seconds=seconds - (fake.clock.now() - started).total_seconds())


def test_a_build_that_ends_at_the_instant_counts_in_the_next_estimate(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    client.deployments.create("m1", name="fp32")
    fake.clock.advance(seconds=BUILD)  # the fp32 engine is built at this very instant
    again = client.deployments.create("m1", name="fp16", precision="fp16")
    assert again.deployment.engine_build is not None
    assert again.deployment.engine_build.models[0].estimate_s == BUILD


def test_a_deployment_is_found_by_its_id_in_any_case(
    client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    ident = created.deployment.id
    assert client.deployments.get(ident.upper()).id == ident
    assert [d.id for d in client.deployments.list(model=model_id.upper())] == [ident]


async def test_async_a_deployment_is_found_by_its_id_in_any_case(
    aclient: pictograph.AsyncClient, model_id: str
) -> None:
    created = await aclient.deployments.create("m1")
    ident = created.deployment.id
    assert (await aclient.deployments.get(ident.upper())).id == ident
    listed = await aclient.deployments.list(model=model_id.upper())
    assert [d.id for d in listed] == [ident]


def test_resume_serves_the_models_current_version_and_is_dated(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    first = created.deployment.version_id
    assert first is not None
    client.deployments.pause("m1")
    client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="m1-v2", version_of_model_id=model_id
    )
    current = client.models.versions(model_id=model_id).current_version_id
    assert current not in (None, first)

    fake.clock.advance(seconds=30)
    resumed = client.deployments.resume("m1")
    assert resumed.version_id == current
    assert resumed.paused_at is None
    assert resumed.updated_at == fake.clock.now()


def test_an_update_a_pause_and_a_delete_are_dated_when_made(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client)
    fake.clock.advance(seconds=100)
    assert client.deployments.update("m1", readme="# Gate").updated_at == fake.clock.now()
    fake.clock.advance(seconds=100)
    paused = client.deployments.pause("m1")
    assert paused.updated_at == paused.paused_at == fake.clock.now()
    fake.clock.advance(seconds=100)
    client.deployments.delete("m1")
    deleted_at = fake.clock.now()
    fake.clock.advance(seconds=100)
    assert client.deployments.get(created.deployment.id).updated_at == deleted_at


def test_a_failed_deployment_takes_a_new_name_and_readme(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    fake.faults.fail_deployment()
    created = client.deployments.create("m1")
    fake.clock.advance(seconds=BUILD + START)
    updated = client.deployments.update(created.deployment.id, name="broken", readme="# Why")
    assert (updated.status, updated.name, updated.readme) == ("failed", "broken", "# Why")


def test_a_lower_floor_bills_the_minutes_before_it_at_the_old_one(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _active(client, min_containers=2, max_containers=2)
    _to(fake, client, "m1", 120)
    client.deployments.update("m1", min_containers=1)
    _to(fake, client, "m1", DEPLOYMENT_METER_SECONDS)
    # Two containers for 120 s, then one for 180 s: seven container-minutes.
    assert [a for _, a, _ in _deployment_entries(fake)] == [-7 * T4.micro_usd_per_minute]


def test_a_longer_idle_window_does_not_wake_a_deployment_asleep(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=60)
    _wake(client, created)
    fake.clock.advance(seconds=100)  # asleep since 60 s after the request
    client.deployments.update("m1", scaledown_window=600)
    assert _state(client, "m1") == "asleep"
    fake.clock.advance(hours=1)
    assert client.deployments.get("m1").uptime_seconds == 60


def test_more_warm_containers_spend_the_credit_sooner(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Seven and a half container-minutes: on two containers, three and a half minutes of
    # uptime, well before the meter's first tick.
    price = T4.micro_usd_per_minute
    _leave(fake, 7 * price + price // 2)
    _active(client, min_containers=1, max_containers=2)
    client.deployments.update("m1", min_containers=2)
    fake.clock.advance(hours=1)
    deployment = client.deployments.get("m1")

    assert _up_for(deployment) < 300
    assert deployment.accrued_cost_micro_usd == 7 * price
    assert fake.balance_micro_usd == price // 2


@pytest.mark.parametrize("left_of_the_minute", [None, 0.5], ids=["seconds-left", "under-one"])
def test_the_retry_after_of_a_ceiling_is_the_rest_of_the_minute(
    fake: FakePictograph, client: pictograph.Client, model_id: str, left_of_the_minute: float | None
) -> None:
    created = _active(client, rate_limit_rpm=1)
    deployment = client.deployments.get("m1")
    assert deployment.endpoint_url is not None
    fake.clock.advance(seconds=20)
    if left_of_the_minute is not None:  # a wait under a second is one whole second
        now = fake.clock.now()
        fake.clock.advance(
            seconds=60 - now.second - now.microsecond / 1_000_000 - left_of_the_minute
        )
    with DeploymentClient(deployment.endpoint_url, created.auth_token, max_retries=0) as ep:
        ep.infer(_png())
        with pytest.raises(RateLimitError) as caught:
            ep.infer(_png())
        now = fake.clock.now()
        into = now.second + now.microsecond / 1_000_000
        assert caught.value.retry_after == max(1, math.ceil(60 - into))
        with httpx.Client() as raw:
            again = raw.post(
                deployment.endpoint_url,
                json=_image_body(_png()),
                headers=_bearer(created.auth_token),
            )
        # The header is whole seconds; the words name the ceiling in the singular.
        assert again.headers["retry-after"] == str(max(1, math.ceil(60 - into)))
        assert again.json() == {
            "error": "rate_limited",
            "detail": "The deployment's ceiling of 1 request a minute was reached.",
        }
        fake.clock.advance(seconds=caught.value.retry_after)
        assert ep.infer(_png()).model_type == "object_detection"


def _uncompressed_png(width: int, height: int) -> bytes:
    """A PNG stored without compression: its size (what it costs to send) is fixed."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def test_transfer_is_billed_to_the_nearest_micro_dollar_and_only_once(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, min_containers=1)
    picture = _uncompressed_png(240, 180)
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        ep.infer(picture)
        _to(fake, client, "m1", DEPLOYMENT_METER_SECONDS)
        first = client.deployments.get("m1")
        ep.infer(picture)
        _to(fake, client, "m1", 2 * DEPLOYMENT_METER_SECONDS)
    second = client.deployments.get("m1")

    def exact(sent_bytes: int) -> Fraction:
        return Fraction(sent_bytes * DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB, 1 << 30)

    # What the first request sent costs a fraction of a half or more: it rounds up.
    assert exact(first.transfer_bytes) % 1 >= Fraction(1, 2)
    assert first.transfer_cost_micro_usd == math.floor(exact(first.transfer_bytes)) + 1
    assert second.transfer_bytes == 2 * first.transfer_bytes
    assert second.transfer_cost_micro_usd == math.floor(
        exact(second.transfer_bytes) + Fraction(1, 2)
    )
    # Each tick bills what was sent since the last, priced on the total.
    billed = [-e.amount for e in fake.ledger if e.operation == "deployment_transfer"]
    assert billed == [
        first.transfer_cost_micro_usd,
        second.transfer_cost_micro_usd - first.transfer_cost_micro_usd,
    ]


def test_transfer_the_credit_could_not_pay_is_written_off_not_counted(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Two deployments draw on one balance. When the warm one has spent it, the scaled-to-
    # zero one is billed up to that instant too: its minute and the bytes it sent since its
    # last meter tick are more than is left, and what is not paid is written off.
    price = T4.micro_usd_per_minute
    _leave(fake, 10 * price + 10)
    _active(client, name="warm", min_containers=1)
    cold = _active(client, name="cold")
    _to(fake, client, "warm", 400)  # past the scaled-to-zero one's first meter tick
    with client.deployments.connect(cold.deployment, cold.auth_token) as ep:
        ep.infer(_uncompressed_png(400, 300))
    _to(fake, client, "warm", 700)
    warm, asleep = client.deployments.get("warm"), client.deployments.get("cold")

    assert (warm.status, asleep.status) == ("paused", "paused")
    assert asleep.transfer_bytes > 0
    assert asleep.transfer_cost_micro_usd == 0
    assert asleep.accrued_cost_micro_usd == 10  # the ten µUSD left, towards its minute
    posted = [e for e in fake.ledger if (e.metadata or {}).get("deployment_id") == asleep.id]
    assert [(e.operation, e.amount) for e in posted] == [("deployment_t4", -10)]
    assert fake.balance_micro_usd == 0


def test_the_gateway_counts_each_request_its_bytes_and_its_errors(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, scaledown_window=60)
    image = _png()
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        ep.infer(image)
        once = client.deployments.get("m1").transfer_bytes
        fake.clock.advance(seconds=100)  # asleep for the last 40 s
        ep.infer(image)
        assert client.deployments.get("m1").transfer_bytes == 2 * once
        fake.clock.advance(seconds=5)
        with pytest.raises(ValidationError):
            ep.infer(b"not an image")
        refused_at = fake.clock.now()
    fake.clock.advance(seconds=100)
    deployment = client.deployments.pause("m1")  # its meter reads its uptime to now

    # Up 60 s after the first request, then from the second to 60 s after the third: the
    # request that woke it again did not lose the first one's minute.
    assert deployment.uptime_seconds == 60 + 5 + 60
    assert deployment.metrics is not None
    assert (deployment.metrics.requests, deployment.metrics.errors) == (3, 1)
    assert deployment.metrics.error_rate == round(1 / 3, 4)
    assert deployment.metrics.last_request_at == refused_at


def test_a_top_up_while_it_is_up_moves_where_it_stops(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Three and a half container-minutes, then one more topped up before they are spent:
    # it stops where the fourth minute ends, not at the meter's tick after it.
    price = T4.micro_usd_per_minute
    _leave(fake, 3 * price + price // 2)
    _active(client, min_containers=1)
    _to(fake, client, "m1", 100)
    fake.top_up(price / 1_000_000)
    fake.clock.advance(hours=1)
    deployment = client.deployments.get("m1")

    assert _up_for(deployment) == 240
    assert deployment.accrued_cost_micro_usd == 4 * price
    assert fake.balance_micro_usd == price // 2


def test_a_credit_check_moved_earlier_is_not_also_made_where_it_was(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Planned at 420 s for one warm container, the check moves to 240 s with two; a top-up
    # then finds it paid for, and the meter bills on at its ticks: nothing at 420 s.
    price = T4.micro_usd_per_minute
    _leave(fake, 7 * price + price // 2)
    _active(client, min_containers=1, max_containers=2)
    _to(fake, client, "m1", 60)
    client.deployments.update("m1", min_containers=2)
    _to(fake, client, "m1", 120)
    fake.top_up(1)
    fake.clock.advance(hours=1)
    deployment = client.deployments.get("m1")
    assert deployment.started_at is not None
    started = fake.clock.monotonic() - (fake.clock.now() - deployment.started_at).total_seconds()
    billed = [(at - started, -amount // price) for _, amount, at in _deployment_entries(fake)]

    # The check at 240 s bills the seven minutes and plans the next where the top-up runs
    # out; the meter ticks at 300 s and 600 s; the last minute it pays ends at 630 s.
    assert billed == [(240, 7), (300, 2), (600, 10), (630, 1)]
    assert deployment.status == "paused"


def test_what_another_deployment_spent_brings_a_warm_ones_stop_forward(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # The warm one's stop is planned from the balance it read; the other's minute, billed
    # at that one's meter tick, is read at the warm one's next tick, and the stop moves
    # from 900 s to 840 s.
    price = T4.micro_usd_per_minute
    _leave(fake, 15 * price + price // 2)
    _active(client, name="warm", min_containers=1)
    cold = _active(client, name="cold")
    _to(fake, client, "warm", 100)
    _wake(client, cold)
    fake.clock.advance(hours=1)
    warm = client.deployments.get("warm")

    assert _up_for(warm) == 840
    assert warm.accrued_cost_micro_usd == 14 * price
    assert fake.balance_micro_usd == price // 2


def test_each_gpu_builds_its_engine_in_its_own_time(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    a100 = DEPLOYMENT_GPUS["a100"].engine_build_seconds
    assert a100 != BUILD
    created = client.deployments.create("m1", gpu_type="a100")
    fake.clock.advance(seconds=a100)
    built = client.deployments.get(created.deployment.id).engine_build
    assert built is not None
    assert (built.state, built.models[0].build_s) == ("built", a100)


def test_coming_up_and_failing_are_dated_and_a_failure_names_its_model(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    up = _active(client, name="up")
    active = client.deployments.get("up")
    assert active.started_at is not None
    assert active.updated_at == active.started_at

    fake.faults.fail_deployment()
    down = client.deployments.create("m1", name="down")
    fake.clock.advance(hours=1)
    failed = client.deployments.get("down")
    assert failed.created_at is not None
    assert failed.updated_at == failed.created_at + timedelta(seconds=START)  # engine stored
    (note,) = [n for n in client.notifications.list() if n.type == "deployment_failed"]
    assert note.metadata == {"deployment_id": down.deployment.id, "model_id": model_id}
    assert up.deployment.id != down.deployment.id


def test_a_meter_entry_names_its_deployment_model_and_totals_so_far(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = _active(client, min_containers=1)
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        ep.infer(_uncompressed_png(240, 180))
    _to(fake, client, "m1", 2 * DEPLOYMENT_METER_SECONDS)
    deployment = client.deployments.get("m1")
    names = {"deployment_id": deployment.id, "model_id": model_id}

    metered = [(e.operation, e.metadata) for e in fake.ledger if e.operation.startswith("deploy")]
    assert metered == [
        ("deployment_t4", {**names, "container_minutes": 5}),
        ("deployment_transfer", {**names, "transfer_bytes": deployment.transfer_bytes}),
        ("deployment_t4", {**names, "container_minutes": 10}),
    ]


def test_the_transfer_not_billed_yet_counts_against_the_credit(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # Three container-minutes of credit, less what the request sent: two minutes are
    # paid for, and it stops after them rather than the third.
    price = T4.micro_usd_per_minute
    created = _active(client, scaledown_window=600)
    _leave(fake, 3 * price)
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        ep.infer(_uncompressed_png(400, 300))
    fake.clock.advance(seconds=600)
    deployment = client.deployments.get("m1")

    assert deployment.status == "paused"
    assert deployment.uptime_seconds == 120
    assert deployment.transfer_cost_micro_usd > 0
    assert deployment.accrued_cost_micro_usd == 2 * price + deployment.transfer_cost_micro_usd


def test_a_deployment_left_exactly_a_minutes_credit_runs_that_minute(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    price = T4.micro_usd_per_minute
    _leave(fake, 6 * price)
    _active(client, min_containers=1)
    fake.clock.advance(hours=1)  # the meter's tick at 300 s leaves one minute's price
    deployment = client.deployments.get("m1")

    assert _up_for(deployment) == 360
    assert deployment.accrued_cost_micro_usd == 6 * price
    assert fake.balance_micro_usd == 0


def test_a_deployment_paused_or_deleted_while_provisioning_does_not_come_up(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    client.deployments.create("m1", name="paused")
    client.deployments.pause("paused")
    deleted = client.deployments.create("m1", name="deleted")
    client.deployments.delete("deleted")
    fake.clock.advance(hours=1)

    assert client.deployments.get("paused").status == "paused"
    assert client.deployments.get(deleted.deployment.id).status == "terminated"
    assert [n for n in client.notifications.list() if n.type == "deployment_active"] == []


def test_one_container_minute_of_credit_is_enough_to_deploy(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    price = T4.micro_usd_per_minute
    _leave(fake, price - 1)
    with pytest.raises(PaymentRequiredError) as caught:
        client.deployments.create("m1")
    assert (caught.value.credit_cost, caught.value.credits_remaining) == (price, price - 1)
    fake.top_up(0.000_001)
    assert fake.balance_micro_usd == price
    assert client.deployments.create("m1").deployment.status == "provisioning"


@pytest.mark.parametrize(
    ("left_over", "small_up_for"),
    [(3 * T4.micro_usd_per_minute // 2, 40), (2 * T4.micro_usd_per_minute, 120)],
)
def test_when_one_deployment_spends_the_credit_one_on_a_cheaper_gpu_runs_what_is_left(
    fake: FakePictograph,
    client: pictograph.Client,
    model_id: str,
    left_over: int,
    small_up_for: int,
) -> None:
    # Nine a100 minutes and a little: the a100 stops at 540 s, where the t4 (up for 40 s)
    # is billed its first minute. With half a t4 minute left it stops there too; with a
    # whole one it runs that minute out.
    a100 = DEPLOYMENT_GPUS["a100"].micro_usd_per_minute
    _leave(fake, 9 * a100 + left_over)
    _active(client, name="big", gpu_type="a100", min_containers=1)
    _to(fake, client, "big", 260)
    _active(client, name="small", gpu_type="t4", min_containers=1)
    fake.clock.advance(hours=1)
    big, small = client.deployments.get("big"), client.deployments.get("small")

    assert _up_for(big) == 540
    assert _up_for(small) == small_up_for
    assert small.accrued_cost_micro_usd == math.ceil(small_up_for / 60) * T4.micro_usd_per_minute
    assert (
        fake.balance_micro_usd == left_over - math.ceil(small_up_for / 60) * T4.micro_usd_per_minute
    )


def test_fp16_runs_the_forward_pass_faster(client: pictograph.Client, model_id: str) -> None:
    timings: list[float] = []
    for precision in ("fp32", "fp16"):
        created = _active(client, name=precision, precision=precision)
        with client.deployments.connect(created.deployment, created.auth_token) as ep:
            result = ep.infer(_png())
        assert result.inference_ms is not None
        timings.append(result.inference_ms)
    fp32, fp16 = timings
    assert fp16 < fp32


def test_inference_options_at_their_bounds(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    # A confidence of 1 is in range; a top_k of true is no whole number.
    with pytest.raises(ValidationError, match="top_k"):
        client.deployments.create("m1", inference_config={"top_k": True})
    created = _active(client, inference_config={"confidence": 1.0})
    with client.deployments.connect(created.deployment, created.auth_token) as ep:
        assert ep.infer_raw(_png(), confidence=1.0)["predictions"] == []


# ── rules a mutation run of api/deployments.py found no test holding ──


def _wire(fake: FakePictograph, deployment_id: str) -> Any:
    """A deployment as the API sends it (fields the SDK's ``Deployment`` does not read)."""
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        return http.get(f"/api/v1/developer/deployments/{deployment_id}").json()["deployment"]


def test_a_create_answers_201_and_a_deployment_shows_its_settings_and_prices(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create(
        "m1", region="us-west", min_containers=1, max_containers=3, inference_config={"top_k": 2}
    )
    assert fake.calls.filter(method="POST", path="deployments/").last.status == 201
    deployment = client.deployments.get(created.deployment.id)
    hour = T4.micro_usd_per_minute * 60
    assert deployment.endpoint_url == (
        f"https://workflows.pictograph.io/us-west/{deployment.id}/predict"
    )
    assert deployment.inference_config == {"top_k": 2}
    assert (deployment.cost_per_hour_micro_usd, deployment.max_cost_per_hour_micro_usd) == (
        hour,
        3 * hour,
    )
    assert deployment.stream_limit == 3 * DEPLOYMENT_STREAMS_PER_CONTAINER
    model = _wire(fake, deployment.id)["models"]
    assert (model["model_type"], model["architecture"]) == ("object_detection", "yolox-m")


def test_an_engine_build_under_way_shows_when_it_started_and_no_time_taken(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    created = client.deployments.create("m1")
    fake.clock.advance(seconds=BUILD - 1)
    build = client.deployments.get(created.deployment.id).engine_build
    assert build is not None
    (engine,) = build.models
    assert (engine.state, engine.build_s) == ("building", None)
    assert engine.started_at == created.deployment.created_at
    fake.clock.advance(seconds=1)
    built = client.deployments.get(created.deployment.id).engine_build
    assert built is not None
    assert (built.models[0].state, built.models[0].build_s) == ("built", BUILD)


def test_the_runtime_counts_the_containers_up_and_when_it_was_read(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    cold = _active(client, name="cold")
    _active(client, name="warm", min_containers=2, max_containers=2)

    def runtime(ref: str) -> tuple[str, int]:
        read = client.deployments.get(ref).runtime
        assert read is not None
        assert read.checked_at == fake.clock.now()
        return read.state, read.containers

    assert runtime("cold") == ("asleep", 0)
    assert runtime("warm") == ("live", 2)
    _wake(client, cold)
    fake.clock.advance(seconds=10)
    assert runtime("cold") == ("live", 1)


def test_the_wire_dates_the_meters_last_reading(
    fake: FakePictograph, client: pictograph.Client, model_id: str
) -> None:
    _active(client, min_containers=1)
    deployment_id = client.deployments.get("m1").id
    assert _wire(fake, deployment_id)["last_metered_at"] is None
    _to(fake, client, "m1", DEPLOYMENT_METER_SECONDS + 100)
    started = client.deployments.get("m1").started_at
    assert started is not None
    metered = (started + timedelta(seconds=DEPLOYMENT_METER_SECONDS)).isoformat()
    assert _wire(fake, deployment_id)["last_metered_at"].replace("Z", "+00:00") == metered


def test_the_floor_and_the_ceiling_of_a_create_and_a_status_filter(
    client: pictograph.Client, model_id: str
) -> None:
    with pytest.raises(ValidationError, match="max_containers"):
        client.deployments.create("m1", max_containers=0)
    with pytest.raises(ValidationError, match="rate_limit_rpm"):
        client.deployments.create("m1", rate_limit_rpm=0)
    client.deployments.create("m1")
    # A workflow endpoint's state: no deployment is a draft.
    assert client.deployments.list(status="draft") == []


def test_a_quote_for_one_warm_container_does_not_scale_to_zero(
    client: pictograph.Client,
) -> None:
    warm = client.deployments.quote(min_containers=1)
    assert warm.scale_to_zero is False
    assert "kept warm" in warm.billing_note
    assert "scales to zero" in client.deployments.quote().billing_note


def test_compute_options_price_each_gpu_container(client: pictograph.Client) -> None:
    offer = client.deployments.compute_options()
    assert [
        (o.key, o.is_gpu, o.cpu_cores, o.memory_gib, o.rate_per_min_micro_usd)
        for o in offer.options
    ] == [
        (g.name, True, g.cpu_cores, g.memory_gib, g.micro_usd_per_minute)
        for g in DEPLOYMENT_GPUS.values()
    ]
