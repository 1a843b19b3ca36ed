"""respx interception: code that builds its own client reaches the active fake, nothing else."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpcore
import httpx
import pictograph
import pytest
import respx

from pictograph_testing import FakePictograph, activation
from pictograph_testing._http_client import DeferredAsyncHTTPTransport, DeferredHTTPTransport
from pictograph_testing._sdk.interception import NetworkTransportMocker
from pictograph_testing.strictness import StrayRequest, TeardownCheckFailed

DATASET, EXPORT = "road-signs", "v1"


def train_detector(dataset: str, export: str) -> pictograph.TrainingRun:
    """Application code: builds its own client from the environment, as users' code does."""
    with pictograph.Client() as client:
        return client.training.create(dataset, export, pipeline_type="yolox", name="detector")


async def train_detector_async(dataset: str, export: str) -> pictograph.TrainingRun:
    async with pictograph.AsyncClient() as client:
        return await client.training.create(
            dataset, export, pipeline_type="yolox", name="detector", wait=True
        )


@pytest.fixture
def ready() -> Iterator[FakePictograph]:
    with FakePictograph(seed=2) as fake:
        fake.add_dataset(DATASET, images=10, completed_images=10)
        fake.add_export(DATASET, EXPORT)
        yield fake


class _CannedPool(httpcore.ConnectionPool):
    """A connection pool that answers 418 itself: the network, without the network."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        self.seen.append(request.url.host.decode())
        return httpcore.Response(418, content=b"from the network transport")


# ── code that builds its own client ──


def test_code_that_builds_its_own_client_is_intercepted(ready: FakePictograph) -> None:
    run = train_detector(DATASET, EXPORT)

    assert run.status == "completed"
    ready.calls.assert_called(method="POST", path="/api/v1/developer/training/", times=1)
    assert ready.run("detector").status == "completed"


@pytest.mark.usefixtures("no_real_waiting")
def test_the_async_client_code_builds_completes_a_wait_instantly(ready: FakePictograph) -> None:
    run = asyncio.run(train_detector_async(DATASET, EXPORT))

    assert run.status == "completed"
    assert ready.clock.monotonic() > 60
    assert ready.calls.filter(method="GET", path="/api/v1/developer/training/*")


def test_a_plain_httpx_client_reaches_the_fake_and_its_signed_urls(ready: FakePictograph) -> None:
    train_detector(DATASET, EXPORT)
    with httpx.Client(base_url=ready.base_url, headers={"X-API-Key": ready.api_key}) as http:
        link = http.get("/api/v1/developer/models/detector/download", params={"format": "onnx"})
        weights = httpx.get(link.json()["data"]["download_url"])

    assert link.status_code == 200
    assert weights.status_code == 200
    assert weights.content.startswith(b"\x08")  # an ONNX protobuf
    assert ready.calls.last.path.startswith("/_storage/")


async def test_a_plain_async_httpx_client_reaches_the_fake(ready: FakePictograph) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{ready.base_url}/api/v1/developer/credits/balance",
            headers={"X-API-Key": ready.api_key},
        )

    assert response.status_code == 200
    assert ready.calls.last.path == "/api/v1/developer/credits/balance"


def test_a_client_built_before_the_fake_started_is_intercepted_while_it_runs() -> None:
    with FakePictograph(seed=1) as early:
        key = early.api_key
    http = httpx.Client(base_url=early.base_url, headers={"X-API-Key": key})
    http._transport._pool = _CannedPool()  # type: ignore[attr-defined]

    with FakePictograph(seed=1) as fake:
        during = http.get("/api/v1/developer/credits/balance")
    after = http.get("/api/v1/developer/credits/balance")

    assert during.status_code == 200
    assert fake.calls.last.path == "/api/v1/developer/credits/balance"
    assert after.status_code == 418  # the fake stopped: back to the network transport


# ── what is left alone ──


def test_another_host_goes_to_the_network_transport_untouched(ready: FakePictograph) -> None:
    pool = _CannedPool()
    with httpx.Client() as http:
        http._transport._pool = pool  # type: ignore[attr-defined]
        response = http.get("https://example.com/elsewhere")

    assert response.status_code == 418
    assert response.content == b"from the network transport"
    assert pool.seen == ["example.com"]
    ready.calls.assert_not_called(path="/elsewhere")


def test_another_host_is_left_to_the_tests_own_respx_router(ready: FakePictograph) -> None:
    with respx.mock(assert_all_called=True) as router:
        elsewhere = router.get("https://example.com/thing").respond(201, text="mine")
        with pictograph.Client() as client:
            balance = client.credits.balance()
        response = httpx.get("https://example.com/thing")
        # The fake's traffic never reached the test's router.
        assert [c.request.url.host for c in router.calls] == ["example.com"]

    assert elsewhere.call_count == 1
    assert response.status_code == 201
    assert balance.included_remaining_micro_usd == 100_000_000


def test_a_strict_respx_router_of_the_test_still_refuses_unmocked_hosts(
    ready: FakePictograph,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get("https://example.com/known").respond(200)
        with pytest.raises(AssertionError, match="not mocked"):
            httpx.get("https://example.org/unknown")


def test_a_client_with_a_transport_of_its_own_is_not_taken_over(ready: FakePictograph) -> None:
    mine = httpx.MockTransport(lambda request: httpx.Response(299, text="injected"))
    with httpx.Client(transport=mine, base_url=ready.base_url) as http:
        response = http.get("/api/v1/developer/credits/balance")

    assert response.status_code == 299
    assert not ready.calls


def test_nothing_is_intercepted_without_an_active_fake() -> None:
    assert not NetworkTransportMocker._swapped
    assert httpx.HTTPTransport.handle_request.__module__ == "httpx._transports.default"
    pool = _CannedPool()
    with httpx.Client() as http:
        http._transport._pool = pool  # type: ignore[attr-defined]
        response = http.get("https://api.pictograph.io/api/v1/developer/credits/balance")
    assert response.status_code == 418


# ── several fakes ──


def test_the_innermost_fake_on_a_host_answers() -> None:
    # The same seed mints the same key, so one client is valid in both worlds.
    with FakePictograph(seed=1) as outer, pictograph.Client(api_key=outer.api_key) as client:
        with FakePictograph(seed=1) as inner:
            client.credits.balance()
        client.credits.balance()

    assert len(inner.calls) == 1
    assert len(outer.calls) == 1


def test_fakes_on_different_hosts_each_get_their_traffic() -> None:
    with (
        FakePictograph(seed=1) as one,
        FakePictograph(seed=2, base_url="https://staging.example.test") as two,
    ):
        httpx.get(f"{one.base_url}/api/v1/developer/credits/balance")
        httpx.get(f"{two.base_url}/api/v1/developer/credits/balance")
        routes = list(activation.coupling.router.routes)

    # The default fake also routes its deployments' gateway host (workflows.pictograph.io).
    assert [r.name for r in routes] == [
        f"pictograph-fake {host.scheme}://{host.host}" for fake in (one, two) for host in fake.hosts
    ]
    assert len(routes) == 3
    assert [c.path for c in one.calls] == ["/api/v1/developer/credits/balance"]
    assert [c.path for c in two.calls] == ["/api/v1/developer/credits/balance"]
    assert not activation.coupling.router.routes


# ── the environment ──


@pytest.mark.parametrize("profile", [None, "research"])
def test_the_sdk_cli_reaches_the_fake_whatever_the_users_config_file_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str | None
) -> None:
    """`pictograph login --base-url` saved a staging base URL (and a profile) in the
    user's config file: the command line, run in process under a default fake, reads
    `PICTOGRAPH_BASE_URL` before the file, so it reaches the fake, not staging."""
    from pictograph.cli import _config
    from pictograph.cli._app import app
    from typer.testing import CliRunner

    config = tmp_path / "config.toml"
    config.write_text(
        '[default]\napi_key = "pk_live_' + "a" * 24 + '"\n'
        'base_url = "https://staging.pictograph.io"\n'
        '[research]\napi_key = "pk_live_' + "b" * 24 + '"\n'
        'base_url = "https://research.pictograph.io"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(_config, "CONFIG_DIR", tmp_path)
    monkeypatch.setattr(_config, "CONFIG_PATH", config)
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
    if profile is not None:
        monkeypatch.setenv("PICTOGRAPH_PROFILE", profile)
    with FakePictograph(seed=1, strict=True) as fake:
        result = CliRunner().invoke(app, ["credits", "balance"])
        assert result.exit_code == 0, result.output
        assert [call.path for call in fake.calls] == ["/api/v1/developer/credits/balance"]
    assert "PICTOGRAPH_BASE_URL" not in os.environ


def test_the_key_is_in_the_environment_while_active(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    monkeypatch.setenv("PICTOGRAPH_BASE_URL", "https://staging.pictograph.io")

    with FakePictograph(seed=1) as fake:
        assert os.environ["PICTOGRAPH_API_KEY"] == fake.api_key
        assert os.environ["PICTOGRAPH_BASE_URL"] == fake.base_url  # the default too
        with FakePictograph(seed=2, base_url="http://fake.local:8080") as inner:
            assert os.environ["PICTOGRAPH_API_KEY"] == inner.api_key
            assert os.environ["PICTOGRAPH_BASE_URL"] == "http://fake.local:8080"
            with pictograph.Client() as client:
                client.credits.balance()
        assert os.environ["PICTOGRAPH_API_KEY"] == fake.api_key
        assert os.environ["PICTOGRAPH_BASE_URL"] == "https://api.pictograph.io"

    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    assert os.environ["PICTOGRAPH_BASE_URL"] == "https://staging.pictograph.io"
    assert inner.calls.last.target == "/api/v1/developer/credits/balance"


@pytest.mark.skipif(os.name != "posix", reason="an environment of bytes is POSIX's")
def test_a_value_that_is_not_text_is_put_back_byte_for_byte(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Read from the environment's encoded table, decoded and encoded again as os.environ
    # does (surrogateescape): bytes no encoding reads survive the fake.
    monkeypatch.setitem(os.environb, b"PICTOGRAPH_API_KEY", b"pk_live_\xff\xfe")
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)

    with FakePictograph(seed=1) as fake:
        assert os.environb[b"PICTOGRAPH_API_KEY"] == fake.api_key.encode()
        with pictograph.Client() as client:
            client.credits.balance()

    assert os.environb[b"PICTOGRAPH_API_KEY"] == b"pk_live_\xff\xfe"
    assert "PICTOGRAPH_BASE_URL" not in os.environ
    assert fake.calls.last.target == "/api/v1/developer/credits/balance"


def test_held_the_routes_stay_until_released_and_the_environment_is_restored_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the plugin does between one test's fake and the next one's.
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    activation.hold()
    try:
        with FakePictograph(seed=1) as first:
            routes = [r.name for r in activation.coupling.router.routes]
            assert os.environ["PICTOGRAPH_API_KEY"] == first.api_key
        assert routes == [f"pictograph-fake https://{host.host}" for host in first.hosts]
        # Stopped but held: the variable is the test's own again (a monkeypatch undone
        # after the fake stops finds what it set), and the routes stay...
        assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
        assert [r.name for r in activation.coupling.router.routes] == routes
        # ...answering nothing: the stopped fake's host is a stray host to a strict fake
        # on another one, as if it had no route.
        strict = FakePictograph(seed=2, base_url="https://staging.example.test", strict=True)
        strict.start()
        try:
            with pytest.raises(StrayRequest, match=r"api\.pictograph\.io"):
                httpx.get(f"{first.base_url}/api/v1/developer/credits/balance")
        finally:
            strict.stop()
        assert [c.url for c in strict.stray_calls] == [
            f"{first.base_url}/api/v1/developer/credits/balance"
        ]
        assert len(first.calls) == 0
        # The next fake on those hosts finds them routed (no route is added), and answers.
        routes.append("pictograph-fake https://staging.example.test")
        with FakePictograph(seed=1) as second, pictograph.Client() as client:
            client.credits.balance()
            assert [r.name for r in activation.coupling.router.routes] == routes
        assert len(second.calls) == 1
        assert len(first.calls) == 0
    finally:
        activation.release()
    assert not activation.coupling.router.routes
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"


def test_a_fake_that_fails_to_start_leaves_the_one_before_it_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clock module that cannot be imported: the start is undone, nothing of it stays.
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    broken = FakePictograph(
        seed=2, base_url="https://staging.example.test", clock_modules=["no_such_module_here"]
    )
    with FakePictograph(seed=1) as outer:
        routes = [r.name for r in activation.coupling.router.routes]
        with pytest.raises(ValueError, match="cannot import 'no_such_module_here'"):
            broken.start()
        assert activation.active_fake() is outer
        assert [r.name for r in activation.coupling.router.routes] == routes
        assert os.environ["PICTOGRAPH_API_KEY"] == outer.api_key
        with pictograph.Client() as client:
            client.credits.balance()
        assert len(outer.calls) == 1
    # Alone, it leaves the SDK uncoupled and the environment as it was.
    with pytest.raises(ValueError, match="cannot import 'no_such_module_here'"):
        broken.start()
    assert activation.active_fake() is None
    assert not activation.coupling.installed
    assert not activation.coupling.router.routes
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    with pytest.raises(RuntimeError, match="not active"):
        broken.stop()


def test_a_key_an_inner_fake_gave_is_undone_when_written_back_after_the_fakes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A monkeypatch whose undo runs after the fakes stopped, and that saw the inner one's
    # key: the key it writes back is a fake's, put back to what was there before.
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    late = pytest.MonkeyPatch()
    try:
        with FakePictograph(seed=1), FakePictograph(seed=2) as inner:
            late.setenv("PICTOGRAPH_API_KEY", "pk_live_the_tests")
        assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    finally:
        late.undo()
    assert os.environ["PICTOGRAPH_API_KEY"] == inner.api_key
    assert activation.undo_stale_environment() == ["PICTOGRAPH_API_KEY"]
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    # Once only: the same key written again later is the test's own.
    monkeypatch.setenv("PICTOGRAPH_API_KEY", inner.api_key)
    assert activation.undo_stale_environment() == []
    assert os.environ["PICTOGRAPH_API_KEY"] == inner.api_key


def test_a_value_of_the_tests_own_after_the_fakes_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    # The fakes' own base URL, set by the test before them: nothing to undo either.
    monkeypatch.setenv("PICTOGRAPH_BASE_URL", "https://api.pictograph.io")
    with FakePictograph(seed=1) as first:
        pass
    activation.undo_stale_environment()
    with FakePictograph(seed=2):
        pass
    # An earlier fake's key, set by the test itself after the last fake stopped: only
    # the keys of the last fakes to run are theirs to undo.
    monkeypatch.setenv("PICTOGRAPH_API_KEY", first.api_key)
    assert activation.undo_stale_environment() == []
    assert os.environ["PICTOGRAPH_API_KEY"] == first.api_key
    assert os.environ["PICTOGRAPH_BASE_URL"] == "https://api.pictograph.io"


def test_a_stale_key_is_not_undone_while_a_fake_is_active(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    with FakePictograph(seed=1) as first:
        pass
    with FakePictograph(seed=2) as second:
        monkeypatch.setenv("PICTOGRAPH_API_KEY", first.api_key)
        assert activation.undo_stale_environment() == []
        assert os.environ["PICTOGRAPH_API_KEY"] == first.api_key
    assert second.api_key != first.api_key


def test_a_live_session_names_the_live_api_and_puts_the_environment_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK reads its settings whatever their case: other spellings of the names.
    other_url, other_key = "pictograph_base_url", "Pictograph_Api_Key"
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")
    monkeypatch.setenv("PICTOGRAPH_BASE_URL", "https://staging.example.test")
    monkeypatch.setenv(other_url, "http://127.0.0.1:9")
    monkeypatch.setenv(other_key, "pk_live_elsewhere")
    # No key given: the shell's stays, and so does its other spelling.
    restore = activation.point_at_live("https://live.example.test", None)
    assert os.environ["PICTOGRAPH_BASE_URL"] == "https://live.example.test"
    assert other_url not in os.environ
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    assert os.environ[other_key] == "pk_live_elsewhere"
    restore()
    assert os.environ["PICTOGRAPH_BASE_URL"] == "https://staging.example.test"
    assert os.environ[other_url] == "http://127.0.0.1:9"
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_mine"
    assert os.environ[other_key] == "pk_live_elsewhere"
    # A key given where the shell has none: back to none after.
    monkeypatch.delenv("PICTOGRAPH_API_KEY")
    restore = activation.point_at_live(None, "pk_live_session")
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_session"
    assert other_key not in os.environ
    assert os.environ["PICTOGRAPH_BASE_URL"] == "https://staging.example.test"
    restore()
    assert "PICTOGRAPH_API_KEY" not in os.environ
    assert os.environ[other_key] == "pk_live_elsewhere"


def test_an_inner_fake_on_another_host_takes_its_route_with_it() -> None:
    with FakePictograph(seed=1) as outer:
        routes = [r.name for r in activation.coupling.router.routes]
        with FakePictograph(seed=2, base_url="https://staging.example.test"):
            assert len(activation.coupling.router.routes) == len(routes) + 1
        assert [r.name for r in activation.coupling.router.routes] == routes
        with pictograph.Client() as client:
            client.credits.balance()
    assert len(outer.calls) == 1


def test_another_tools_patch_of_the_transport_neither_hides_the_fake_nor_outlives_itself() -> None:
    # As pytest-httpx's httpx_mock does, through monkeypatch: patch the network transport
    # (here before the fake started), put back what it found when it ends (while the
    # plugin holds the coupling between tests).
    original = httpx.HTTPTransport.handle_request
    seen: list[str] = []

    def other_tool(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(299)

    activation.hold()
    try:
        httpx.HTTPTransport.handle_request = other_tool  # type: ignore[method-assign]
        with FakePictograph(seed=1) as first, pictograph.Client() as client:
            client.credits.balance()
            assert httpx.get("https://example.com/").status_code == 299
        httpx.HTTPTransport.handle_request = original  # type: ignore[method-assign]
        # The next fake still gets its host's traffic, not the network...
        with FakePictograph(seed=1) as second, pictograph.Client() as client:
            client.credits.balance()
            # ...and a tool patching over the held interception does not answer for it.
            httpx.HTTPTransport.handle_request = other_tool  # type: ignore[method-assign]
            activation.coupling.keep_interception_on_top()
            client.credits.balance()
            httpx.HTTPTransport.handle_request = original  # type: ignore[method-assign]
    finally:
        activation.release()
    assert len(first.calls) == 1
    assert len(second.calls) == 2
    assert seen == ["example.com"]
    # The other tool's patch, long ended, is not put back when the coupling is removed.
    assert httpx.HTTPTransport.handle_request is original
    assert not NetworkTransportMocker._swapped


# ── the SDK's client, minus TLS ──


def test_an_sdk_client_built_under_a_fake_is_the_one_the_sdk_builds() -> None:
    with pictograph.Client(api_key="pk_live_x", timeout=12.5) as reference:
        real = reference._transport._client
    with FakePictograph(seed=1):
        built = pictograph.Client(api_key="pk_live_x", timeout=12.5)._transport._client
    assert isinstance(built, httpx.Client)
    assert built.base_url == real.base_url
    assert built.timeout == real.timeout
    assert dict(built.headers) == dict(real.headers)
    assert isinstance(built._transport, DeferredHTTPTransport)
    set_up = built._transport.set_up  # read now: set up below
    assert not set_up
    # Setting up the deferred transport gives the pool the SDK's own would have.
    pool, reference_pool = built._transport._pool, real._transport._pool  # type: ignore[attr-defined]
    assert built._transport.set_up
    assert pool._max_connections == reference_pool._max_connections
    assert pool._max_keepalive_connections == reference_pool._max_keepalive_connections
    assert pool._http2 == reference_pool._http2
    built.close()


def test_an_async_sdk_client_built_under_a_fake_is_the_one_the_sdk_builds() -> None:
    reference = pictograph.AsyncClient(api_key="pk_live_x")
    real = reference._transport._client
    with FakePictograph(seed=1):
        built = pictograph.AsyncClient(api_key="pk_live_x")._transport._client
    assert isinstance(built, httpx.AsyncClient)
    assert (built.base_url, built.timeout) == (real.base_url, real.timeout)
    assert dict(built.headers) == dict(real.headers)
    pool, reference_pool = built._transport._pool, real._transport._pool  # type: ignore[attr-defined]
    assert (pool._max_connections, pool._http2) == (
        reference_pool._max_connections,
        reference_pool._http2,
    )


def test_an_sdk_client_for_another_host_is_built_as_usual(ready: FakePictograph) -> None:
    with pictograph.Client(api_key="k", base_url="https://other.example.test") as client:
        assert not isinstance(client._transport._client._transport, DeferredHTTPTransport)


def test_the_fakes_traffic_never_sets_up_a_network_transport(ready: FakePictograph) -> None:
    with pictograph.Client() as client:
        client.credits.balance()
        transport = client._transport._client._transport
        assert isinstance(transport, DeferredHTTPTransport)
        assert not transport.set_up


def test_a_client_that_outlives_its_fake_is_refused_not_sent_to_the_network() -> None:
    """An app caches the client it built under one test's fake and uses it later with no
    fake: the request is refused at once, naming why, and the network transport is never
    set up (it would carry the fake's key to the real API, and retry in real time)."""
    with FakePictograph(seed=1) as fake:
        cached = pictograph.Client(max_retries=0)
        assert cached.credits.balance() is not None
    with pytest.raises(StrayRequest, match="built while a FakePictograph served"):
        cached.credits.balance()
    deferred = cached._transport._client._transport
    assert isinstance(deferred, DeferredHTTPTransport)
    assert not deferred.set_up
    # Under a new fake of the same host (and so the same key), it is answered again.
    with FakePictograph(seed=1) as again:
        cached.credits.balance()
        assert len(again.calls) == 1
    assert len(fake.calls) == 1
    cached.close()


async def test_async_a_client_that_outlives_its_fake_is_refused() -> None:
    with FakePictograph(seed=1):
        cached = pictograph.AsyncClient(max_retries=0)
        await cached.credits.balance()
    with pytest.raises(StrayRequest, match="no fake serves it now"):
        await cached.credits.balance()
    deferred = cached._transport._client._transport
    assert isinstance(deferred, DeferredAsyncHTTPTransport)
    assert not deferred.set_up
    await cached.aclose()


@pytest.mark.parametrize(
    "base_url",
    ["http://api.pictograph.io", "https://api.pictograph.io:8443", "https://api.pictograph.io."],
)
def test_the_real_pictograph_is_refused_while_a_fake_runs_strict_or_not(base_url: str) -> None:
    """Another scheme, port or spelling of the fake's own host is the real Pictograph:
    refused (with the fake's key it would have reached the real API), and listed at
    teardown; any other host is still left alone unless the fake is strict."""
    fake = FakePictograph(seed=1).start()
    try:
        with (
            pictograph.Client(base_url=base_url, max_retries=0) as client,
            pytest.raises(StrayRequest, match="it is the real Pictograph's"),
        ):
            client.credits.balance()
        assert [call.url.split("/api/")[0] for call in fake.stray_calls] == [base_url]
        assert len(fake.calls) == 0
    finally:
        fake.stop()
    with pytest.raises(TeardownCheckFailed, match="request\\(s\\) to hosts"):
        fake.verify()


def test_a_pictograph_host_can_be_allowed() -> None:
    with FakePictograph(seed=1, allow_hosts=["api.pictograph.io:8443"]) as fake:
        assert fake.refuse_stray(httpx.Request("GET", "https://api.pictograph.io:8443/x")) is None
        refused = fake.refuse_stray(httpx.Request("GET", "http://api.pictograph.io/x"))
        assert refused is not None
        assert "real Pictograph" in refused
        fake.stray_calls.clear()
        assert fake.refuse_stray(httpx.Request("GET", "https://example.com/x")) is None


# ── as a decorator (for unittest and plain functions) ──


def test_a_decorated_function_gets_a_fresh_active_fake_per_call() -> None:
    seen: list[FakePictograph] = []

    @FakePictograph(seed=7, balance_usd=5.0)
    def job(label: str, pictograph_fake: FakePictograph) -> str:
        assert pictograph_fake.active
        with pictograph.Client() as client:
            client.credits.balance()
        seen.append(pictograph_fake)
        return label

    # The decorator supplies pictograph_fake by name; its type takes a fake off the
    # signature only when it is the first parameter.
    assert job("a") == "a"  # type: ignore[call-arg]
    assert job("b") == "b"  # type: ignore[call-arg]

    first, second = seen
    assert first is not second
    assert (first.seed, first.balance_usd) == (7, 5.0)
    assert len(first.calls) == len(second.calls) == 1  # nothing carried over
    assert not first.active
    assert activation.active_fake() is None


def test_the_fake_parameter_is_hidden_from_pytest() -> None:
    import inspect

    @FakePictograph()
    def test_thing(tmp_path: object, pictograph_fake: FakePictograph) -> None:
        """Docstring kept."""

    assert list(inspect.signature(test_thing).parameters) == ["tmp_path"]
    assert test_thing.__name__ == "test_thing"
    assert test_thing.__doc__ == "Docstring kept."


def test_a_decorated_function_without_the_parameter_still_runs_inside_a_fake() -> None:
    @FakePictograph(seed=3)
    def job() -> str | None:
        return os.environ.get("PICTOGRAPH_API_KEY")

    assert job() is not None
    assert activation.active_fake() is None


def test_a_decorated_coroutine_function_runs_inside_a_fake() -> None:
    @FakePictograph(seed=4)
    async def job(pictograph_fake: FakePictograph) -> str:
        async with pictograph.AsyncClient() as client:
            await client.credits.balance()
        return pictograph_fake.calls.last.path

    assert asyncio.run(job()) == "/api/v1/developer/credits/balance"


def test_a_decorated_unittest_method_receives_the_fake() -> None:
    import unittest

    class Case(unittest.TestCase):
        @FakePictograph(seed=5)
        def test_balance(self, pictograph_fake: FakePictograph) -> None:
            with pictograph.Client() as client:
                client.credits.balance()
            pictograph_fake.calls.assert_called(method="GET", times=1)

    result = unittest.TestResult()
    Case("test_balance").run(result)
    assert result.wasSuccessful(), result.failures + result.errors


def test_decorating_a_class_is_refused_with_a_reason() -> None:
    with pytest.raises(TypeError, match="decorate each test method"):
        FakePictograph()(type("Case", (), {}))
