"""The SDK coupling: in place while any fake is active, every original back after the last."""

from __future__ import annotations

import gc
import importlib
import io
import pathlib
import random
import sys
import time
import uuid
import weakref
from types import ModuleType
from typing import Any

import httpx
import pictograph
import pictograph._http.retry
import pictograph.aio
import pytest
from pictograph._http.async_transport import AsyncTransport
from pictograph._http.retry import RetryPolicy
from pictograph._http.transport import Transport
from pictograph.resources._deployment_stream import DeploymentStream
from PIL import Image

from pictograph_testing import FakePictograph, activation
from pictograph_testing._http_client import FakeAsyncHttpClient, FakeHttpClient
from tests.conftest import Sent, is_uuid4_hex, keys_of
from tests.test_workflows import detection_graph

DATASET, EXPORT = "road-signs", "v1"

# The classes whose attributes the coupling may replace: the SDK's transports (their
# client construction), its retry policy, httpx's network transports (respx) and a
# deployment stream's results socket.
_CLASSES = (
    Transport,
    AsyncTransport,
    RetryPolicy,
    httpx.HTTPTransport,
    httpx.AsyncHTTPTransport,
    DeploymentStream,
)

Names = dict[tuple[str, str], object]


def sdk_names() -> Names:
    """Every name the coupling could replace, by (owner, attribute), with its object."""
    names: Names = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not (
            module_name == "pictograph" or module_name.startswith("pictograph.")
        ):
            continue
        for attribute, value in vars(module).items():
            if isinstance(value, ModuleType):
                names[module_name, attribute] = value
    for cls in _CLASSES:
        for attribute, value in vars(cls).items():
            names[cls.__qualname__, attribute] = value
    return names


def changed(before: Names) -> list[tuple[str, str]]:
    """The names that are no longer the object they were in ``before``."""
    now = sdk_names()
    return [key for key, value in before.items() if now.get(key) is not value]


@pytest.fixture
def before() -> Names:
    """The names as they are with no fake active, checked to be the SDK's own objects."""
    assert activation.active_fake() is None
    names = sdk_names()
    # Nothing left over from an earlier test: each module name is the real module ...
    for (owner, attribute), value in names.items():
        if isinstance(value, ModuleType):
            assert value is sys.modules[value.__name__], (owner, attribute)
    # ... and each transport builds its client with the SDK's own method.
    for cls in (Transport, AsyncTransport):
        assert vars(cls)["_build_client"].__module__ == cls.__module__
    return names


def ready(fake: FakePictograph) -> FakePictograph:
    fake.add_dataset(DATASET, images=10, completed_images=10)
    fake.add_export(DATASET, EXPORT)
    return fake


def train(client: pictograph.Client, name: str) -> pictograph.TrainingRun:
    return client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=True)


def coupled(before: Names) -> set[str]:
    """Which couplings are in place, by the attribute that shows each."""
    return {attribute for _, attribute in changed(before)}


# What shows each coupling: the clock (time, asyncio, random), idempotency keys (uuid),
# signed-URL transfers (httpx), respx interception (httpx's transport methods), client
# construction, a stream's results socket.
_EVERY_COUPLING = {
    "_connect",
    "time",
    "asyncio",
    "random",
    "uuid",
    "httpx",
    "handle_request",
    "handle_async_request",
    "_build_client",
}


def test_every_replaced_name_is_the_original_again_after_the_last_fake_stops(
    before: Names,
) -> None:
    with FakePictograph(seed=1) as fake:
        ready(fake)
        assert coupled(before) == _EVERY_COUPLING
        assert vars(pictograph._http.retry)["time"] is not time
        train(fake.client(), "own")
        with pictograph.Client() as client:  # the code under test's own client
            train(client, "built")
        installed = activation.coupling.installed  # read now: uninstalled below
        assert installed

    assert changed(before) == []
    assert not activation.coupling.installed
    assert not activation.coupling.router.routes


def test_nested_fakes_keep_the_sdk_coupled_until_the_outermost_stops(before: Names) -> None:
    outer = ready(FakePictograph(seed=1)).start()
    inner = FakePictograph(seed=2, base_url="https://staging.example.test").start()
    inner.stop()

    assert coupled(before) == _EVERY_COUPLING
    with pictograph.Client() as client:
        assert train(client, "after-inner").status == "completed"
    assert outer.calls

    outer.stop()
    assert changed(before) == []


async def test_an_outer_fakes_client_transfers_to_it_while_an_inner_one_is_active(
    tmp_path: pathlib.Path,
) -> None:
    # Both fakes answer the same host: a signed URL goes to the fake that signed it.
    picture = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(picture)
    with FakePictograph(seed=1) as outer:
        outer.add_dataset("ds", images=2, completed_images=2)
        outer.add_export("ds", "e")
        with FakePictograph(seed=2) as inner, outer.client(max_retries=0) as client:
            uploaded = client.images.upload("ds", str(picture))
            zipped = client.exports.download("ds", "e", tmp_path / "e.zip")
            report = client.datasets.download("ds", tmp_path / "all")
            async with outer.async_client(max_retries=0) as aclient:
                awaited = await aclient.exports.download("ds", "e", tmp_path / "a.zip")
            assert len(inner.calls) == 0
    assert uploaded.filename == "a.png"
    assert zipped.read_bytes() == awaited.read_bytes()
    assert (report.images_downloaded, report.failures) == (3, [])  # the upload too
    assert [c.status for c in outer.calls.filter(method="PUT")] == [200]


@pytest.mark.usefixtures("no_real_waiting")
def test_an_outer_fakes_deployment_answers_while_an_inner_fake_is_active(
    tmp_path: pathlib.Path,
) -> None:
    """Both fakes answer the same gateway: a deployment's call goes to the fake whose
    world holds the deployment (the inner one answered 404 deployment_not_found)."""
    picture = tmp_path / "a.png"
    Image.new("RGB", (32, 24), (200, 40, 40)).save(picture)
    with FakePictograph(seed=1, scenario="ready-to-train") as outer:
        client = outer.client(max_retries=0)
        run = client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="m")
        assert run.model_id is not None
        created = client.deployments.create("m", min_containers=1)
        deployment = client.deployments.wait_until_active(created.deployment)
        with client.deployments.connect(deployment, created.auth_token) as endpoint:
            alone = endpoint.infer(picture.read_bytes())
            with FakePictograph(seed=2) as inner:
                nested = endpoint.infer(picture.read_bytes())
                assert len(inner.calls) == 0
    assert not isinstance(nested, pictograph.ClassificationResult)
    assert not isinstance(alone, pictograph.ClassificationResult)
    assert nested.predictions == alone.predictions


def test_an_outer_fakes_endpoints_answer_in_any_case_while_an_inner_fake_is_active() -> None:
    """A deployment's id in another case and a workflow's endpoint are the outer fake's
    too; a gateway path naming no endpoint is the innermost fake's to answer."""
    with FakePictograph(seed=1, scenario="ready-to-train") as outer:
        client = outer.client(max_retries=0)
        client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="m")
        created = client.deployments.create("m", min_containers=1)
        deployment = client.deployments.wait_until_active(created.deployment)
        client.workflows.create("Lot", detection_graph("m", "road-signs"))
        token = client.workflows.deploy("Lot").endpoint_token
        assert token is not None
        live = client.workflows.wait_until_live("Lot", poll_interval=5)
        assert deployment.id != deployment.id.upper()
        upper = f"{outer.gateway_url}/us-east/{deployment.id.upper()}/predict"
        picture = io.BytesIO()
        Image.new("RGB", (32, 24), (200, 40, 40)).save(picture, "PNG")
        with FakePictograph(seed=2, scenario="ready-to-train") as inner:
            # The inner fake has a workflow endpoint of its own to look among: not this one.
            with inner.client(max_retries=0) as own:
                own.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="m")
                own.workflows.create("Gate", detection_graph("m", "road-signs"))
                own.workflows.deploy("Gate")
            with pictograph.DeploymentClient(upper, created.auth_token) as endpoint:
                assert endpoint.infer(picture.getvalue()).model_type == "object_detection"
            with (
                client.workflows.connect(live, token) as lot,
                lot.open_stream("whip") as stream,
            ):
                assert stream.kind == "whip"
            with httpx.Client() as raw:
                below = raw.get(f"{outer.gateway_url}/us-east")
            assert below.json()["error"] == "not_found"
            assert [c.path for c in inner.calls][-1].endswith("/us-east")


def test_the_outermost_fake_may_stop_first(before: Names) -> None:
    outer = FakePictograph(seed=1).start()
    inner = FakePictograph(seed=2).start()
    outer.stop()
    assert coupled(before) == _EVERY_COUPLING
    inner.stop()
    assert changed(before) == []


@pytest.mark.usefixtures("no_real_waiting")
def test_the_sdk_still_works_after_stop_start_cycles(before: Names) -> None:
    for cycle in range(3):
        with ready(FakePictograph(seed=cycle)) as fake, pictograph.Client() as client:
            run = train(client, f"cycle-{cycle}")
            assert run.status == "completed"
            assert fake.clock.monotonic() > 60  # the wait ran on the virtual clock
            assert isinstance(client._transport._client, FakeHttpClient)
        assert changed(before) == []
    # With no fake active, the SDK builds its clients exactly as it does without us.
    with pictograph.Client(api_key="pk_live_x") as client:
        assert not isinstance(client._transport._client, FakeHttpClient)


async def test_the_async_sdk_still_works_after_stop_start_cycles(before: Names) -> None:
    for cycle in range(2):
        with ready(FakePictograph(seed=cycle)):
            async with pictograph.AsyncClient() as client:
                run = await client.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="async", wait=True
                )
                assert run.status == "completed"
        assert changed(before) == []


def test_an_sdk_module_imported_again_is_coupled_by_the_next_fake(before: Names) -> None:
    # The places to replace are kept from one fake to the next while the loaded modules
    # are the same; a module imported again (importlib.reload, pytester) is a new object
    # under the same name, with as many modules loaded.
    package, name = "pictograph._http", "pictograph._http.retry"
    with FakePictograph():
        pass
    original = sys.modules.pop(name)
    try:
        again = importlib.import_module(name)
        assert again is not original
        with FakePictograph() as fake:
            assert vars(again)["time"] is not time  # the clock's stand-in, in the new one
            vars(again)["time"].sleep(30)
            assert fake.clock.monotonic() == 30
        assert vars(again)["time"] is time
    finally:
        sys.modules[name] = original
        # Importing set it to the new one: put the original back on the package.
        sys.modules[package].retry = original  # type: ignore[attr-defined]
    assert changed(before) == []


def test_a_fake_hands_out_clients_without_leaving_the_sdk_patched(before: Names) -> None:
    fake = FakePictograph(seed=3)

    client = fake.client()
    async_client = fake.async_client()

    assert changed(before) == []
    assert type(client._transport._client) is FakeHttpClient
    assert type(async_client._transport._client) is FakeAsyncHttpClient
    # Its retries still back off on its own clock, with its seeded jitter.
    policy = client._transport._retry
    assert policy._sleep == fake.clock.sleep
    assert policy._rng == fake._jitter_uniform
    # The seeded generator is made when first drawn from, and draws as one made up front.
    assert "jitter" not in vars(fake)
    reference = random.Random(3)
    assert [policy._rng(0.0, 1.0) for _ in range(3)] == [
        reference.uniform(0.0, 1.0) for _ in range(3)
    ]
    assert "jitter" in vars(fake)
    assert client.credits.balance() is not None


def test_the_fake_exposes_its_parsed_base_url() -> None:
    fake = FakePictograph(base_url="http://fake.local:8080/")
    assert fake.url == httpx.URL("http://fake.local:8080")
    assert fake.owns(fake.url.join("/storage/x"))


def test_a_signed_url_and_an_endpoint_are_the_fakes_only_on_its_own_hosts() -> None:
    # An API of its own host: the gateway answers below it, at `/_gateway`.
    with (
        FakePictograph(seed=1, base_url="http://fake.local:8080") as fake,
        fake.client(max_retries=0) as client,
    ):
        fake.add_dataset("d", images=20, completed_images=20, classes=["a"])
        fake.add_export("d", "v1")
        signed = httpx.URL(client.exports.get("d", "v1").download_url or "")
        client.training.create("d", "v1", pipeline_type="yolox", name="r")
        created = client.deployments.create("r", gpu_type="t4")
        active = client.deployments.wait_until_active(created.deployment)
        endpoint = httpx.URL(active.endpoint_url or "")
        assert endpoint.path.startswith("/_gateway/")
        assert fake.signed(signed)
        assert fake.holds_endpoint(endpoint)
        # The same paths on another host are not the fake's.
        assert not fake.signed(signed.copy_with(host="elsewhere.example"))
        assert not fake.holds_endpoint(endpoint.copy_with(host="elsewhere.example"))
        # On its host, only below the gateway's own path.
        lookalike = endpoint.copy_with(path=endpoint.path.replace("/_gateway/", "/_gatewax/"))
        assert not fake.holds_endpoint(lookalike)


# ── idempotency keys: drawn from the fake's seed while coupled ──

DATASETS = "/api/v1/developer/datasets/"


async def every_way_in(fake: FakePictograph) -> None:
    """Write through the fake's own sync and async clients and through the sync and async
    clients the code under test builds, with a read between (which sends no key)."""
    with fake.client(max_retries=0) as own:
        train_later(own.training, "own")
        own.credits.balance()
    async with fake.async_client(max_retries=0) as own_async:
        await own_async.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="own-async", wait=False
        )
    with pictograph.Client() as built:
        train_later(built.training, "built")
    async with pictograph.AsyncClient() as built_async:
        await built_async.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="built-async", wait=False
        )


def train_later(training: Any, name: str) -> None:
    training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)


async def keyed_session(seed: int, sent: Sent) -> tuple[list[str | None], list[object]]:
    """The keys a fresh fake of ``seed`` was sent for :func:`every_way_in`, and its journal."""
    sent.clear()
    with ready(FakePictograph(seed=seed)) as fake:
        await every_way_in(fake)
        # The journal keeps each call's key as sent (a read's: None).
        assert [call.idempotency_key for call in fake.calls] == [key for _, _, key in sent]
        return keys_of(sent), list(fake.api.journal)


async def test_the_same_seed_and_calls_send_the_same_idempotency_keys(
    before: Names, sent_keys: Sent
) -> None:
    keys, journal = await keyed_session(4, sent_keys)
    again, replayed = await keyed_session(4, sent_keys)
    other, _ = await keyed_session(5, sent_keys)

    assert len(keys) == 4
    assert all(is_uuid4_hex(key) for key in keys), keys
    assert len(set(keys)) == 4  # one key per write, none reused within the world
    # Two fresh fakes of one seed: the same keys, and byte-identical journals.
    assert again == keys
    assert replayed == journal
    # Another seed draws other keys.
    assert all(is_uuid4_hex(key) for key in other)
    assert not set(other) & set(keys)
    # Every name the coupling replaced (the idempotency module's uuid among them) is back.
    assert changed(before) == []


def test_a_key_the_caller_gives_is_sent_as_given(sent_keys: Sent) -> None:
    with (
        FakePictograph(seed=1) as fake,
        fake.client(max_retries=0) as own,
        pictograph.Client() as built,
    ):
        for client, tag in ((own, "own"), (built, "built")):
            transport = client._transport
            transport.request("POST", DATASETS, json={"name": f"{tag}-1"}, idempotency_key=tag)
            transport.request(
                "POST", DATASETS, json={"name": f"{tag}-2"}, headers={"Idempotency-Key": tag * 2}
            )
            transport.request("POST", DATASETS, json={"name": f"{tag}-3"})

    given = keys_of(sent_keys, DATASETS)
    assert given[:2] == ["own", "ownown"]
    assert given[3:5] == ["built", "builtbuilt"]
    assert is_uuid4_hex(given[2])
    assert is_uuid4_hex(given[5])


async def test_a_fakes_own_client_draws_as_a_client_the_code_builds(sent_keys: Sent) -> None:
    """The same calls draw the same keys whichever client makes them, whether the fake is
    active or not, and an outer fake's own client draws from the outer fake while an
    inner one is active (never from the inner fake's stream, which its world may use)."""

    def writes(client: Any) -> None:
        transport = client._transport
        train_later(client.training, "a")
        # A key in a header: the SDK draws one anyway (and sends the header's), and so
        # does a fake's own client, so the sequences stay in step.
        transport.request("POST", DATASETS, json={"name": "h"}, headers={"Idempotency-Key": "h"})
        train_later(client.training, "b")

    with ready(FakePictograph(seed=9)) as fake, pictograph.Client() as built:
        writes(built)
    reference = keys_of(sent_keys)
    assert len(reference) == 2
    assert all(is_uuid4_hex(key) for key in reference)

    sent_keys.clear()
    idle = ready(FakePictograph(seed=9))  # never started
    with idle.client(max_retries=0) as own:
        writes(own)
    assert keys_of(sent_keys) == reference

    sent_keys.clear()
    with (
        ready(FakePictograph(seed=9)) as outer,
        FakePictograph(seed=9) as inner,
        outer.client(max_retries=0) as own,
    ):
        writes(own)
        assert len(inner.calls) == 0
    assert keys_of(sent_keys) == reference

    sent_keys.clear()
    with ready(FakePictograph(seed=9)) as fake:
        async with fake.async_client(max_retries=0) as own_async:
            await own_async.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="a", wait=False
            )
    assert keys_of(sent_keys) == reference[:1]


def test_with_no_fake_active_the_sdk_draws_its_own_keys(
    before: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pictograph._http.idempotency import generate_key

    # The SDK's own generator, untouched: whatever uuid.uuid4 gives, never the fake's.
    drawn = [uuid.UUID(int=n, version=4) for n in range(1, 5)]
    monkeypatch.setattr(uuid, "uuid4", iter(drawn).__next__)
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(200, json={"data": {}})

    def write_elsewhere() -> None:
        client = pictograph.Client(api_key="pk_test", base_url="https://elsewhere.example")
        client._transport._client = httpx.Client(
            base_url="https://elsewhere.example", transport=httpx.MockTransport(answer)
        )
        client._transport.request("POST", "/x", json={})

    assert generate_key() == drawn[0].hex  # never coupled
    write_elsewhere()
    # The coupling in place (held from one fake to the next), no fake active.
    activation.hold()
    try:
        with FakePictograph(seed=4):
            pass
        assert activation.coupling.installed
        assert generate_key() == drawn[2].hex
        write_elsewhere()
    finally:
        activation.release()
    assert sent == [drawn[1].hex, drawn[3].hex]
    assert changed(before) == []


async def test_a_fakes_closed_clients_are_freed_without_a_garbage_collection() -> None:
    """Binding a fake's own clients (their retries, their keys) makes no reference cycle:
    a cycle kept every closed client, its httpx client and resources, until a collection,
    which every test after it paid for."""
    with ready(FakePictograph(seed=1)) as fake:
        gc.disable()
        try:
            with fake.client(max_retries=0) as client:
                train_later(client.training, "sync")
                transport = weakref.ref(client._transport)
            del client
            assert transport() is None
            async with fake.async_client(max_retries=0) as async_client:
                await async_client.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="async", wait=False
                )
                async_transport = weakref.ref(async_client._transport)
            del async_client
            assert async_transport() is None
        finally:
            gc.enable()
    assert len(fake.world.runs) == 2  # both writes went through the bound request


@pytest.mark.parametrize("way", ["own", "built", "own-async", "built-async"])
async def test_a_retried_write_sends_one_key_on_every_attempt(sent_keys: Sent, way: str) -> None:
    with ready(FakePictograph(seed=1)) as fake:
        await retried_write(fake, way)

    attempts = keys_of(sent_keys)
    assert len(attempts) == 3
    assert is_uuid4_hex(attempts[0])
    assert attempts == [attempts[0]] * 3
    assert len(fake.world.runs) == 1  # the stored answer replayed, not redone


async def retried_write(fake: FakePictograph, way: str) -> None:
    """One training create, lost twice (a dropped connection, then a 503 after the work)
    and so sent three times, through the client ``way`` names."""
    fake.faults.fail_next("POST", "training/", error="read_error", after=True)
    fake.faults.fail_next("POST", "training/", status=503, after=True)
    if way == "own":
        with fake.client(max_retries=3) as client:
            train_later(client.training, way)
    elif way == "built":
        with pictograph.Client(max_retries=3) as client:
            train_later(client.training, way)
    else:
        async_client = (
            fake.async_client(max_retries=3)
            if way == "own-async"
            else pictograph.AsyncClient(max_retries=3)
        )
        async with async_client:
            await async_client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name=way, wait=False
            )
