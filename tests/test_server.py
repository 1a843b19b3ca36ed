"""The offline server: the real SDK by ``base_url``, plain HTTP, and the control routes.

Every server here listens on a free loopback port in a background thread and stops when
its ``with`` block ends. Nothing couples the SDK's clock to a served fake: time moves
through the control route (``speed=0``) or by itself (``speed`` > 0).
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

import httpx
import pictograph
import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import AuthError, NetworkError, NotFoundError, RequestTimeoutError

from pictograph_testing import FakePictograph
from pictograph_testing.bounds import MAX_SPEED
from pictograph_testing.openapi import openapi_document
from pictograph_testing.server import FakeServer, bind
from tests.conftest import is_uuid4_hex
from tests.image_files import raw, write_images
from tests.test_webhooks import URL as HOOK

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEV = "/api/v1/developer"
DATASET, EXPORT = "road-signs", "road-signs-v1"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A server with the `ready-to-train` world; its clock moves only by hand."""
    with FakeServer(scenario="ready-to-train", seed=3) as served:
        yield served


@pytest.fixture
def http(server: FakeServer) -> Iterator[httpx.Client]:
    """Plain HTTP with the API key and the control key: it may call any route."""
    headers = {"X-API-Key": server.api_key, **server.control_headers}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client


def _advance(http: httpx.Client, **amount: float) -> dict[str, Any]:
    answer = http.post("/_fake/clock/advance", json=amount)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


# ── the real SDK, by base_url ──


def test_the_sdk_trains_and_downloads_over_http(
    server: FakeServer, http: httpx.Client, tmp_path: Path
) -> None:
    with server.client(max_retries=0) as client:
        assert client.datasets.get(DATASET).completed_image_count == 12
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="over-http", wait=False
        )
        assert run.status == "queued"
        _advance(http, hours=1)
        done = client.training.get(run_id=run.id)
        assert done.status == "completed"
        assert done.model_id is not None
        weights = client.models.download(model_id=done.model_id, output_path=tmp_path / "m.onnx")
        # The signed URL pointed back at this server, and the SDK fetched it unauthenticated.
        assert weights.stat().st_size > 0
        assert client.credits.history()[0].operation == "training_refund_a10g"
    assert server.fake.server_errors == []


def test_the_sdk_uploads_annotates_and_exports_over_http(
    server: FakeServer, http: httpx.Client, tmp_path: Path
) -> None:
    paths = write_images(tmp_path, ["a.png", "b.png"])
    with server.client(max_retries=0) as client:
        client.datasets.create("signs", classes=[{"name": "stop", "type": "bbox"}])
        ids = []
        for path in paths:
            image = client.images.upload("signs", path)
            client.annotations.save(
                "signs",
                image.filename,
                [BBoxAnnotation(name="stop", bounding_box=BoundingBox(x=1, y=1, w=8, h=8))],
            )
            ids.append(image.id)
        client.batch.update("signs", ids, status="complete")
        export = client.exports.create("signs", "v1", status_filter="complete", wait=False)
        assert export.status == "pending"
        _advance(http, seconds=30)
        assert client.exports.get("signs", "v1").status == "completed"
        archive = client.exports.download("signs", "v1", tmp_path / "x.zip")
        assert archive.stat().st_size > 0
        assert client.images.download("signs", "a.png", tmp_path / "back.png").read_bytes() == (
            paths[0].read_bytes()
        )


def test_the_servers_clients_draw_their_keys_from_the_served_fake(server: FakeServer) -> None:
    """Not from a fake active beside the server: a fresh fake of the same seed per test
    (as the plugin's) would restart its keys, and this world, which outlives it, would
    replay the first test's answer to the second's write."""

    def create(client: pictograph.Client, name: str) -> str:
        run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)
        return run.id

    runs = []
    for name in ("first", "second"):
        with FakePictograph(seed=3), server.client(max_retries=0) as client:
            runs.append(create(client, name))
    keys = [call.idempotency_key for call in server.fake.calls.filter("POST", "training/")]
    assert len(set(runs)) == 2
    assert len(set(keys)) == 2
    assert None not in keys
    # The served fake's seed draws them: the same calls in process send the same keys.
    with FakePictograph(scenario="ready-to-train", seed=3) as fake, fake.client() as client:
        for name in ("first", "second"):
            create(client, name)
    assert [call.idempotency_key for call in fake.calls.filter("POST", "training/")] == keys


def _keys_sent_off_the_fake(server: FakeServer, seed: int) -> tuple[list[str], list[str]]:
    """Two writes (the second lost once after its work, so retried) that clients the code
    builds send to ``server`` while a fresh in-process fake of ``seed`` is active, sync
    and async; and the keys the same writes carry to that in-process fake."""
    earlier = len(server.fake.calls.filter("POST", "training/"))
    server.fake.faults.fail_next("POST", "training/", status=503, after=True)
    with FakePictograph(scenario="ready-to-train", seed=seed) as beside:
        with pictograph.Client(api_key=server.api_key, base_url=server.base_url) as built:
            built.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a", wait=False)

        async def write_async() -> None:
            async with pictograph.AsyncClient(
                api_key=server.api_key, base_url=server.base_url, max_retries=0
            ) as built_async:
                await built_async.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="b", wait=False
                )
            async with pictograph.AsyncClient() as on_the_fake:
                await on_the_fake.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="c", wait=False
                )

        asyncio.run(write_async())
        with pictograph.Client() as on_the_fake_too:
            on_the_fake_too.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="d", wait=False
            )
        seeded = [call.idempotency_key for call in beside.calls.filter("POST", "training/")]
    sent = [call.idempotency_key for call in server.fake.calls.filter("POST", "training/")]
    return [key for key in sent[earlier:] if key], [key for key in seeded if key]


def test_a_write_to_a_host_no_fake_serves_leaves_with_a_key_of_its_own(
    server: FakeServer,
) -> None:
    """A seeded key is for the fakes: sent to any other host (a staging API, a server
    reached by a plain Client), it would come again every run, or every test with a fresh
    fake of one seed, and that host would answer with a stored answer, doing nothing."""
    first, seeded = _keys_sent_off_the_fake(server, seed=3)
    again, seeded_again = _keys_sent_off_the_fake(server, seed=3)

    # Three attempts each time: the lost write and its retry, then the async write.
    assert len(first) == len(again) == 3
    # A retry resends its key.
    assert first[0] == first[1]
    assert again[0] == again[1]
    assert len({first[0], first[2], again[0], again[2]}) == 4
    assert all(is_uuid4_hex(key) for key in first + again)
    # The fake beside drew the same seeded keys both times; none left for the server.
    assert len(seeded) == 2
    assert seeded == seeded_again
    assert not set(seeded) & set(first + again)
    # Every write was done: four runs, none answered from a stored one.
    assert len(server.fake.world.runs) == 4


def test_a_fast_clock_finishes_runs_by_itself() -> None:
    # 2000 virtual seconds per real second: a 12-minute run ends in well under a second.
    with (
        FakeServer(scenario="ready-to-train", speed=2000) as server,
        server.client(max_retries=0) as client,
    ):
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="fast", poll_interval=0.05, timeout=30
        )
        assert run.status == "completed"
        assert server.fake.clock.speed == 2000


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_servers_own_clients_go_straight_to_it_whatever_proxy_the_shell_names(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell with `HTTP(S)_PROXY` (a company's proxy, say): the server's clients and its
    control client reach the server on loopback, never the proxy (which would get the
    API key and the control key); here the proxy is a port nothing listens on."""
    proxy = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with server.client(max_retries=0) as client:
        assert client.datasets.get(DATASET).name == DATASET
    async with server.async_client(max_retries=0) as aclient:
        assert (await aclient.datasets.get(DATASET)).name == DATASET
    with server.control() as control:
        assert control.get("/clock").status_code == 200
    # A plain client of the user's own does use the proxy: only the fake's own go direct.
    with (
        pytest.raises(NetworkError),
        pictograph.Client(
            api_key=server.api_key, base_url=server.base_url, max_retries=0
        ) as theirs,
    ):
        theirs.datasets.get(DATASET)


def test_the_sdk_sees_the_apis_errors(server: FakeServer) -> None:
    with server.client(max_retries=0) as client, pytest.raises(NotFoundError):
        client.training.get("no-such-run")
    stranger = server.client(api_key="pk_live_wrong", max_retries=0)
    with stranger, pytest.raises(AuthError):
        stranger.credits.balance()


# ── plain HTTP ──


def test_plain_http_gets_the_same_envelopes(server: FakeServer, http: httpx.Client) -> None:
    balance = http.get(f"{DEV}/credits/balance")
    assert balance.status_code == 200
    assert balance.json()["included_allowance_micro_usd"] == 100_000_000
    assert balance.headers["x-request-id"].startswith("req_")
    unauthenticated = httpx.get(f"{server.base_url}{DEV}/credits/balance")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "unauthorized"
    # A name holding '/' travels percent-encoded and stays one segment.
    http.post(f"{DEV}/datasets/", json={"name": "a/b c"})
    assert http.get(f"{DEV}/datasets/a%2Fb%20c").json()["data"]["name"] == "a/b c"


def test_the_server_sends_the_headers_the_fake_sends_in_process(server: FakeServer) -> None:
    # No `Date` from the machine's clock and no `Server`: the same calls, the same bytes.
    paths = (f"{DEV}/credits/balance", f"{DEV}/training/no-such-run")
    with FakePictograph(scenario="ready-to-train", seed=3) as fake, raw(fake) as inside:
        answered = [inside.get(path) for path in paths]
    key = {"X-API-Key": server.api_key}
    served = [httpx.get(f"{server.base_url}{path}", headers=key) for path in paths]
    for over_http, in_process in zip(served, answered, strict=True):
        assert over_http.headers.multi_items() == in_process.headers.multi_items()
        assert over_http.content == in_process.content
    assert "date" not in served[0].headers


def test_the_sdk_gets_the_same_error_over_http_as_in_process(server: FakeServer) -> None:
    with server.client(max_retries=0) as client, pytest.raises(NotFoundError) as over_http:
        client.training.get("no-such-run")
    with (
        FakePictograph(scenario="ready-to-train", seed=3) as fake,
        fake.client(max_retries=0) as client,
        pytest.raises(NotFoundError) as in_process,
    ):
        client.training.get("no-such-run")
    assert str(over_http.value) == str(in_process.value)


async def test_async_the_sdk_gets_the_same_error_over_http(server: FakeServer) -> None:
    async with server.async_client(max_retries=0) as client:
        with pytest.raises(NotFoundError) as over_http:
            await client.training.get("no-such-run")
    with FakePictograph(scenario="ready-to-train", seed=3) as fake:
        async with fake.async_client(max_retries=0) as client:
            with pytest.raises(NotFoundError) as in_process:
                await client.training.get("no-such-run")
    assert str(over_http.value) == str(in_process.value)
    async with server.async_client(api_key="pk_live_wrong", max_retries=0) as stranger:
        with pytest.raises(AuthError):
            await stranger.credits.balance()


def test_control_routes_are_unreachable_through_the_api(
    server: FakeServer, http: httpx.Client
) -> None:
    for path in (f"{DEV}/_fake/reset", f"{DEV}/training/%2F_fake%2Freset", "/api/_fake/reset"):
        answer = http.post(path)
        assert answer.status_code == 404, path
        # No such route, or (the encoded one) no such run: never the control route.
        assert answer.json()["error"]["code"] in ("not_implemented_by_fake", "not_found")
    assert http.get(f"{DEV}/datasets/{DATASET}").status_code == 200  # nothing was reset
    assert http.get("/_fake/nothing-here").status_code == 404
    assert http.get("/_fake/nothing-here").json() == {
        "error": "no control route GET /_fake/nothing-here"
    }
    # The dashboard is read only: a POST to its address is no route either.
    assert http.post("/_fake/ui", json={}).json() == {"error": "no control route POST /_fake/ui"}


# ── control routes ──


def test_info_and_the_clock(server: FakeServer, http: httpx.Client) -> None:
    info = http.get("/_fake/").json()
    assert info["base_url"] == server.base_url
    assert info["api_key"] == server.api_key
    assert (info["profile"], info["seed"], info["speed"]) == ("classic", 3, 0.0)
    assert info["now"] == "2026-05-12T12:00:00Z"
    assert http.get("/_fake").json()["api_key"] == server.api_key
    moved = _advance(http, minutes=2, seconds=5)
    assert moved["monotonic"] == 125.0
    assert moved["now"] == "2026-05-12T12:02:05Z"
    assert http.get("/_fake/clock").json()["monotonic"] == 125.0
    for bad in ({}, {"seconds": -1}, {"seconds": "5"}, {"days": 1}, {"seconds": True}):
        refused = http.post("/_fake/clock/advance", json=bad)
        assert refused.status_code == 422, bad
    assert http.post("/_fake/clock/advance", content=b"[").status_code == 422
    assert http.get("/_fake/clock").json()["monotonic"] == 125.0


def test_a_loaded_world_keeps_the_servers_pace_and_journal_limit() -> None:
    with FakeServer(speed=0.5, journal_limit=2) as served, served.control() as control:
        info = control.post("/snapshot", json={"scenario": "one-image-short"}).json()
        with served.client(max_retries=0) as client:
            for _ in range(3):
                client.credits.balance()
        journal = control.get("/journal").json()
        calls = control.get("/").json()["calls"]
    assert info["speed"] == 0.5
    assert calls == 3  # every call answered, kept or dropped
    assert (journal["total"], journal["dropped"], len(journal["calls"])) == (3, 1, 2)


def test_reset_gives_a_fresh_world_with_the_same_settings(
    server: FakeServer, http: httpx.Client
) -> None:
    assert http.post(f"{DEV}/datasets/", json={"name": "scratch"}).status_code == 201
    _advance(http, hours=1)
    info = http.post("/_fake/reset").json()
    assert info["monotonic"] == 0.0
    assert info["api_key"] == server.api_key
    assert http.get(f"{DEV}/datasets/scratch").status_code == 404
    assert http.get(f"{DEV}/datasets/{DATASET}").status_code == 200  # the scenario is back


def test_dump_and_load_the_world(server: FakeServer, http: httpx.Client) -> None:
    http.post(f"{DEV}/datasets/", json={"name": "kept"})
    snapshot = http.get("/_fake/snapshot").json()
    assert snapshot["schema_version"] == 1
    expected = http.get(f"{DEV}/datasets/kept").json()
    http.post("/_fake/reset")
    assert http.get(f"{DEV}/datasets/kept").status_code == 404
    loaded = http.post("/_fake/snapshot", json=snapshot)
    assert loaded.status_code == 200
    assert loaded.json()["api_key"] == server.api_key
    assert http.get(f"{DEV}/datasets/kept").json() == expected
    named = http.post("/_fake/snapshot", json={"scenario": "one-image-short"})
    assert named.status_code == 200
    assert http.get(f"{DEV}/datasets/{DATASET}").json()["data"]["completed_image_count"] == 4
    assert http.post("/_fake/snapshot", json={"scenario": "no-such"}).status_code == 422
    assert http.post("/_fake/snapshot", json={"datasets": []}).status_code == 422


def test_a_world_with_runs_cannot_be_dumped_yet(http: httpx.Client) -> None:
    body = {
        "dataset_name": DATASET,
        "export_name": EXPORT,
        "pipeline_type": "yolox",
        "name": "r",
    }
    assert http.post(f"{DEV}/training/", json=body).status_code == 200
    refused = http.get("/_fake/snapshot")
    assert refused.status_code == 409
    assert "training runs" in refused.json()["error"]


def test_the_journal_lists_the_apis_calls(http: httpx.Client) -> None:
    http.get(f"{DEV}/credits/balance")
    http.post(f"{DEV}/datasets/", json={"name": "j"}, headers={"Idempotency-Key": "k-1"})
    http.get("/_fake/clock")  # control routes are not journaled
    journal = http.get("/_fake/journal").json()
    assert journal["total"] == 2
    first, second = journal["calls"]
    assert (first["method"], first["path"], first["status"]) == (
        "GET",
        f"{DEV}/credits/balance",
        200,
    )
    assert first["request"] is None
    assert second["request"] == {"json": {"name": "j"}}
    assert (first["idempotency_key"], second["idempotency_key"]) == (None, "k-1")
    assert second["response"]["json"]["data"]["name"] == "j"
    assert second["at"] == "2026-05-12T12:00:00Z"
    page = http.get("/_fake/journal", params={"since": 1, "limit": 5}).json()
    assert [c["index"] for c in page["calls"]] == [1]
    assert http.get("/_fake/journal", params={"since": "x"}).status_code == 422


@pytest.mark.parametrize(
    "query",
    [
        {"since": ""},  # sent without a value: not the default
        {"since": "\u00b2"},  # a digit to str.isdigit, not to int()
        {"limit": "\u0663"},  # an Arabic-Indic three
        {"since": "9" * 23},  # past any index a page can start at
        {"limit": "9" * 5000},  # past what int() converts
    ],
)
def test_the_journal_refuses_what_is_not_a_small_whole_number(
    http: httpx.Client, query: dict[str, str]
) -> None:
    refused = http.get("/_fake/journal", params=query)
    assert refused.status_code == 422
    message = refused.json()["error"]
    [(name, _)] = query.items()
    lowest = {"since": 0, "limit": 1}[name]
    assert f"{name} must be a whole number from {lowest} to 999,999,999,999,999" in message
    assert len(message) < 200  # a long value is quoted cut short


def test_the_journal_pages_from_the_largest_index_it_takes(http: httpx.Client) -> None:
    http.get(f"{DEV}/credits/balance")

    page = http.get("/_fake/journal", params={"since": "9" * 15})

    assert page.status_code == 200
    assert page.json() == {
        "total": 1,
        "dropped": 0,
        "since": 10**15 - 1,
        "next": None,
        "calls": [],
    }


def test_a_journal_page_holds_a_thousand_calls_at_most(
    server: FakeServer, http: httpx.Client
) -> None:
    # In process: the same journal, and a thousand calls in a moment.
    with server.fake.client(max_retries=0) as client:
        for _ in range(1001):
            client.credits.balance()

    default = http.get("/_fake/journal").json()
    asked = http.get("/_fake/journal", params={"limit": 5000}).json()

    for page in (default, asked):
        assert (len(page["calls"]), page["next"], page["total"]) == (1000, 1000, 1001)


def test_the_journal_refuses_a_page_of_no_calls(http: httpx.Client) -> None:
    # A page of none would answer next == since, and a client following next loops.
    http.get("/api/v1/developer/credits/balance")

    refused = http.get("/_fake/journal", params={"limit": "0"})
    page = http.get("/_fake/journal", params={"limit": "1"}).json()

    assert refused.status_code == 422
    assert "limit must be a whole number from 1 to" in refused.json()["error"]
    assert len(page["calls"]) == 1


@pytest.mark.parametrize("keys", [5, True, "k"])
def test_a_snapshot_whose_api_keys_are_no_list_is_refused(http: httpx.Client, keys: object) -> None:
    before = http.get("/_fake/snapshot").json()
    refused = http.post("/_fake/snapshot", json={"schema_version": 1, "api_keys": keys})
    assert refused.status_code == 422
    assert "api_keys must be a list" in refused.json()["error"]
    assert http.get("/_fake/snapshot").json() == before


@pytest.mark.parametrize("speed", [1e18, 1e15, MAX_SPEED * 2, -1, "fast"])
def test_a_speed_beyond_the_bound_is_refused_and_the_clock_keeps_its_pace(
    http: httpx.Client, speed: object
) -> None:
    refused = http.post("/_fake/clock/speed", json={"speed": speed})
    assert refused.status_code == 422
    assert "from 0 to 1,000,000" in refused.json()["error"]
    clock = http.get("/_fake/clock")
    assert clock.status_code == 200
    assert clock.json()["speed"] == 0.0
    assert http.post("/_fake/clock/speed", json={"speed": MAX_SPEED}).json()["speed"] == MAX_SPEED
    assert http.post("/_fake/clock/speed", json={"speed": 0}).json()["speed"] == 0.0


def test_the_journal_keeps_binary_bodies_as_base64(server: FakeServer, http: httpx.Client) -> None:
    image_id = http.get(f"{DEV}/images/", params={"dataset": DATASET}).json()["data"][0]["id"]
    picture = http.get(f"{DEV}/images/{image_id}")
    assert picture.status_code == 200
    listed, read = http.get("/_fake/journal").json()["calls"]
    # The target as sent, query and all; the path without it.
    assert (listed["target"], listed["path"]) == (
        f"{DEV}/images/?dataset={DATASET}",
        f"{DEV}/images/",
    )
    record = read["response"]
    assert record["size"] == len(picture.content)
    assert "base64" in record


def test_the_openapi_document_is_served(server: FakeServer, http: httpx.Client) -> None:
    document = http.get("/_fake/openapi.json").json()
    assert document == openapi_document(server.base_url)
    assert f"{DEV}/training/{{run}}" in document["paths"]


def test_the_root_opens_the_dashboard_in_a_browser(server: FakeServer, http: httpx.Client) -> None:
    journaled = len(server.fake.calls)
    with httpx.Client(base_url=server.base_url, headers=server.control_headers) as browser:
        root = browser.get("/")
        page = browser.get("/?from=bookmark", follow_redirects=True)
        icon = browser.get("/favicon.ico")
    assert (root.status_code, root.headers["location"]) == (307, "/_fake/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Never cached (it shows the world now), never read as another type.
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.url.path == "/_fake/ui"
    assert icon.status_code == 404
    # Neither is a call to the API: not journaled, not a gap of the fake.
    assert len(server.fake.calls) == journaled
    assert http.get("/_fake/unserved").json()["unserved_calls"] == []
    # Anything else outside the API is still the API's answer.
    assert http.get("/index.html").status_code == 404


# ── the server's own life ──


def test_a_connection_made_as_soon_as_the_port_is_bound_waits_to_be_served() -> None:
    """`serve` prints its URL once the port is bound, before uvicorn starts: a script that
    reads the line and connects at once must wait in the backlog, as against any server,
    not be refused (curl's exit 7, the SDK's NetworkError). The SDK's side of it, over a
    real `serve`, is in tests/test_cli.py."""
    sock = bind()
    try:
        with socket.create_connection(sock.getsockname()[:2], timeout=5):
            pass  # refused (ECONNREFUSED) while the socket was bound but not listening
    finally:
        sock.close()


def test_the_server_stops_and_frees_its_port() -> None:
    server = FakeServer().start()
    port = int(server.base_url.rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    server.stop()
    server.stop()  # stopping twice is harmless
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_stopped_server_says_so() -> None:
    server = FakeServer()
    assert "stopped" in repr(server)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.fake


def test_settings_reach_the_fake() -> None:
    with FakeServer(profile="current", seed=9, balance_usd=5.0, api_key="pk_live_mine") as server:
        fake = server.fake
        assert (fake.profile, fake.seed, fake.balance_usd) == ("current", 9, 5.0)
        assert server.api_key == "pk_live_mine"
        assert server.base_url.startswith("http://127.0.0.1:")
        assert "serving" in repr(server)


def test_an_injected_transport_fault_drops_the_connection(
    server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.fake.faults.fail_next("GET", "credits/balance", error="read_error")
    with server.client(max_retries=0) as client:
        with pytest.raises(NetworkError):
            client.credits.balance()
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000
    # An injected drop is no error of the server's: its log says nothing of it.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")] == []
    with server.control() as control:
        dropped, answered = control.get("/journal").json()["calls"]
    assert (dropped["status"], answered["status"]) == (0, 200)
    assert dropped["fault"] is not None
    assert answered["fault"] is None


def test_a_server_that_cannot_build_its_world_says_why() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        FakeServer(scenario="no-such-world").start()


@pytest.mark.parametrize("seconds", [1e300, 200 * 365 * 86400.0])
def test_a_delay_past_the_clocks_last_instant_is_refused_when_armed(
    server: FakeServer, http: httpx.Client, seconds: float
) -> None:
    # Armed, it would have moved the clock past 2200 on the next request: a 500 then.
    refused = http.post("/_fake/faults", json={"kind": "delay", "seconds": seconds})
    assert refused.status_code == 422
    assert "2200-01-01" in refused.json()["error"]
    assert http.get("/_fake/faults").json()["faults"] == []
    with pytest.raises(ValueError, match="2200-01-01"):
        server.fake.faults.delay_next(seconds)
    with server.client(max_retries=0) as client:
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000
    assert server.fake.server_errors == []


def test_a_client_that_gives_up_on_a_delay_leaves_nothing_held_at_shutdown(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # The held answer ends with its client: stopping the server then cancels nothing,
    # and uvicorn logs no "Exception in ASGI application" (to the process's stderr).
    with FakeServer(scenario="ready-to-train") as server:
        server.fake.faults.delay_next(30, "GET", "credits/balance")
        with (
            server.client(max_retries=0, timeout=0.2) as client,
            pytest.raises(RequestTimeoutError),
        ):
            client.credits.balance()
    logged = capfd.readouterr().err
    assert "Exception in ASGI application" not in logged
    assert "graceful shutdown exceeded" not in logged


@pytest.mark.parametrize("retry_after", ["1\r\nX-Injected: yes", "日本", "a\x00b"])
def test_a_retry_after_no_header_can_carry_is_refused_when_armed(
    server: FakeServer, http: httpx.Client, retry_after: str
) -> None:
    # Armed, the answer could not be sent: uvicorn cut the connection, a 500 in its log.
    spec = {"kind": "status", "status": 429, "retry_after": retry_after}
    refused = http.post("/_fake/faults", json=spec)
    assert refused.status_code == 422
    assert "retry_after must be a number of seconds or a header's text" in refused.json()["error"]
    assert http.get("/_fake/faults").json()["faults"] == []
    with server.client(max_retries=0) as client:
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000


def test_a_retry_after_date_reaches_the_client_as_armed(
    server: FakeServer, http: httpx.Client
) -> None:
    date = "Wed, 13 May 2026 12:00:00 GMT"
    spec = {"kind": "status", "status": 503, "retry_after": date}
    assert http.post("/_fake/faults", json=spec).status_code == 200
    answer = http.get(f"{DEV}/credits/balance")
    assert (answer.status_code, answer.headers["retry-after"]) == (503, date)


def test_an_advance_whose_units_overflow_says_so_in_words(http: httpx.Client) -> None:
    # 1e305 hours is a finite number; in seconds it is past what a float holds.
    refused = http.post("/_fake/clock/advance", json={"hours": 1e305})
    assert refused.status_code == 422
    assert refused.json()["error"] == (
        "moving the virtual clock more seconds than a float holds would take it to or past "
        "2200-01-01T00:00:00Z, where it stops"
    )
    assert http.get("/_fake/clock").json()["monotonic"] == 0.0


@pytest.mark.parametrize(
    ("route", "body", "words"),
    [
        ("/clock/advance", None, 'send {"seconds": N} (or "minutes", "hours")'),
        ("/clock/advance", {"seconds": 1, "days": 1}, 'send {"seconds": N}'),
        ("/clock/advance", {"minutes": -1}, "each a number >= 0"),
        ("/clock/speed", {"speed": True}, 'send {"speed": N}'),
        ("/clock/speed", {"speed": 1, "pace": 2}, 'send {"speed": N}'),
        ("/faults", [], 'the body must be a JSON object: a fault ({"kind": ...}) or several'),
        ("/faults", {"faults": []}, 'send a fault ({"kind": ...}) or several'),
        ("/faults", {"faults": {"kind": "status"}}, 'send a fault ({"kind": ...}) or several'),
        ("/faults", {"faults": [{"kind": "status"}], "kind": "status"}, "unknown: faults"),
        ("/webhooks/routes", {"url": 5, "target": None}, 'send {"url": "<registered URL>"'),
        ("/webhooks/routes", {"url": HOOK, "target": 5}, "must be callable or a URL, got 5"),
        ("/webhooks/routes", {"url": HOOK, "target": ""}, "must be http or https, got ''"),
        ("/cameras", {"source": 5}, 'send {"source": "<rtsp://, rtsps:// or https:// URL>"}'),
        ("/snapshot", {"scenario": 5}, "send a scenario document"),
        ("/snapshot", {"datasets": []}, 'send a scenario document (with "schema_version")'),
        ("/snapshot", {"scenario": "ready-to-train", "seed": 1}, "send a scenario document"),
    ],
)
def test_a_control_body_of_another_shape_is_refused_saying_what_to_send(
    server: FakeServer, http: httpx.Client, route: str, body: object, words: str
) -> None:
    refused = http.post(f"/_fake{route}", json=body)

    assert refused.status_code == 422
    assert words in refused.json()["error"]
    # Nothing was applied: the clock, the faults, the routes and the world as they were.
    assert http.get("/_fake/clock").json() == {
        "now": "2026-05-12T12:00:00Z",
        "monotonic": 0.0,
        "speed": 0.0,
    }
    assert not server.fake.faults.armed
    assert http.get("/_fake/webhooks/routes").json() == {"routes": {}}
    assert http.get("/_fake/cameras").json() == {"cameras": []}
    assert http.get(f"{DEV}/datasets/{DATASET}").status_code == 200


def test_an_advance_of_nothing_is_answered_and_leaves_the_clock(http: httpx.Client) -> None:
    moved = http.post("/_fake/clock/advance", json={"seconds": 0})

    assert moved.status_code == 200
    assert moved.json()["monotonic"] == 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_public_url_is_where_signed_urls_point_and_a_host_it_answers(tmp_path: Path) -> None:
    # A client that reaches the server by another name than the bound address (another
    # container, by its service name) follows signed URLs written with that name.
    port = _free_port()
    public = f"http://localhost:{port}"
    given = public + "/"  # a trailing slash is taken off
    with FakeServer(scenario="ready-to-train", seed=3, port=port, public_url=given) as served:
        assert served.base_url == public
        with served.client(max_retries=0) as client:
            export = client.exports.get(DATASET, EXPORT)
            assert export.download_url is not None
            assert export.download_url.startswith(f"{public}/_storage/")
            client.images.upload(DATASET, write_images(tmp_path, ["up.png"])[0])
            assert client.images.get(DATASET, "up.png").filename == "up.png"
        assert served.fake.server_errors == []
    # Without it, the bound address is what they name.
    with FakeServer(scenario="ready-to-train", seed=3) as served, served.client() as client:
        url = client.exports.get(DATASET, EXPORT).download_url
        assert url is not None
        assert url.startswith(f"{served.base_url}/_storage/")
        assert served.base_url.startswith("http://127.0.0.1:")


def test_a_public_url_s_host_is_answered_as_the_container_names_it() -> None:
    # `fake.test` resolves nowhere here: the request goes to the bound address and names
    # the public host in its Host header, as a client in another container would.
    port = _free_port()
    bound = f"http://127.0.0.1:{port}"
    with FakeServer(
        scenario="ready-to-train", seed=3, port=port, public_url=f"http://fake.test:{port}"
    ) as served:
        headers = {"X-API-Key": served.api_key, "Host": f"fake.test:{port}"}
        with httpx.Client(base_url=bound, headers=headers) as raw:
            answer = raw.get(f"{DEV}/exports/{EXPORT}", params={"dataset": DATASET})
            assert answer.status_code == 200
            assert f"http://fake.test:{port}/_storage/" in answer.text
            other = raw.get(f"{DEV}/credits/balance", headers={"Host": f"elsewhere:{port}"})
            assert other.status_code == 421


def test_a_public_ipv6_address_is_written_in_brackets() -> None:
    port = _free_port()
    with FakeServer(port=port, public_url=f"http://[::1]:{port}/") as served:
        assert served.base_url == served.fake.base_url == f"http://[::1]:{port}"


@pytest.mark.parametrize(
    "url",
    ["fake:8765", "ftp://fake:8765", "http://", "http://fake:8765/api", "http://fake:99999"],
)
def test_a_public_url_that_is_no_servers_address_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        FakeServer(public_url=url)


# ── an absolute-form request target, as a client sends to a proxy ──


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeServer, str]]:
    """A server whose public name resolves nowhere, reached as the HTTP proxy of its own
    address: the SDK's httpx then sends each request's target in absolute form."""
    port = _free_port()
    public = f"http://fake.test:{port}"
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    with FakeServer(scenario="ready-to-train", seed=3, port=port, public_url=public) as served:
        yield served, public


def test_the_sdk_through_a_proxy_is_routed_by_the_target_s_path(
    proxied: tuple[FakeServer, str],
) -> None:
    served, public = proxied
    with pictograph.Client(api_key=served.api_key, base_url=public, max_retries=0) as client:
        assert client.datasets.get(DATASET).completed_image_count == 12
        client.annotations.save(
            DATASET,
            "img-00001.jpg",
            [BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=3, h=4))],
        )
        assert len(client.annotations.get(DATASET, "img-00001.jpg")) == 1
        with pytest.raises(NotFoundError):
            client.datasets.get("no-such-dataset")
    assert served.fake.calls[0].path == f"{DEV}/datasets/{DATASET}"
    assert served.fake.server_errors == []


async def test_the_async_sdk_through_a_proxy_is_routed_by_the_target_s_path(
    proxied: tuple[FakeServer, str],
) -> None:
    served, public = proxied
    async with pictograph.AsyncClient(
        api_key=served.api_key, base_url=public, max_retries=0
    ) as client:
        assert (await client.datasets.get(DATASET)).completed_image_count == 12


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_an_absolute_target_s_host_is_checked_in_place_of_the_host_header(
    server: FakeServer,
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    key = server.api_key.encode()

    def get(target: str, host: str) -> bytes:
        return _exchange(
            port,
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n".encode()
            + b"X-API-Key: "
            + key
            + b"\r\n\r\n",
        )

    served = get(f"http://127.0.0.1:{port}{DEV}/datasets/{DATASET}?x=1", "elsewhere")
    assert served.startswith(b"HTTP/1.1 200 ")
    assert b'"completed_image_count":12' in served.replace(b" ", b"")
    # The target's authority is the request's host (RFC 9112 3.2.2): a served Host
    # header does not let a foreign one through.
    foreign = get(f"http://rebound.example:{port}{DEV}/datasets/{DATASET}", "127.0.0.1")
    assert foreign.startswith(b"HTTP/1.1 421 ")
    assert b"rebound.example" in foreign
    # No path at all is the root (a browser's, sent to the dashboard), and the scheme is
    # read without regard to case.
    root = get(f"HTTP://localhost:{port}", "127.0.0.1")
    assert root.startswith(b"HTTP/1.1 307 ")
    assert b"location: /_fake/ui\r\n" in root
    # The control routes are found by the path too.
    headers = "".join(f"{k}: {v}\r\n" for k, v in server.control_headers.items())
    clock = _exchange(
        port,
        f"GET http://127.0.0.1:{port}/_fake/clock HTTP/1.1\r\nHost: x\r\n{headers}"
        "Connection: close\r\n\r\n".encode(),
    )
    assert clock.startswith(b"HTTP/1.1 200 ")
    assert b"monotonic" in clock


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:{port}{path}", "{rel}"])
def test_a_target_that_is_no_path_is_a_400_and_no_gap_of_the_fake(
    server: FakeServer, target: str
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    sent = target.format(port=port, path=f"{DEV}/datasets/", rel=f"{DEV}/datasets/".lstrip("/"))
    answer = _exchange(
        port,
        f"GET {sent} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {server.api_key}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "bad_request_target"
    assert f"The request target '{sent}' is not a path" in body["error"]["message"]
    assert not server.fake.unserved_calls


def test_a_request_that_names_no_host_is_refused(server: FakeServer) -> None:
    # HTTP/1.0 lets a request leave Host out; it then names no address the server answers to.
    port = int(server.base_url.rsplit(":", 1)[1])
    api = _exchange(
        port, f"GET {DEV}/datasets/ HTTP/1.0\r\nX-API-Key: {server.api_key}\r\n\r\n".encode()
    )
    assert api.startswith(b"HTTP/1.1 421 ")
    assert b"names no Host: send a Host header naming one of" in api
    assert b'"code":"misdirected_request"' in api.replace(b" ", b"")
    headers = "".join(f"{k}: {v}\r\n" for k, v in server.control_headers.items())
    reset = _exchange(port, f"POST /_fake/reset HTTP/1.0\r\n{headers}\r\n".encode())
    assert reset.startswith(b"HTTP/1.1 421 ")
    with server.client(max_retries=0) as client:  # the SDK, which names its host, is served
        assert client.datasets.get(DATASET).completed_image_count == 12


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_injected_transport_fault_sends_no_status_line(server: FakeServer, method: str) -> None:
    # A dropped connection is closed with nothing sent: no client, not even one that
    # trusts the status line or expects no body (HEAD), reads an answer.
    server.fake.faults.fail_next(method, "credits/balance", error="connect")
    port = int(server.base_url.rsplit(":", 1)[1])
    request = (
        f"{method} {DEV}/credits/balance HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"X-API-Key: {server.api_key}\r\nConnection: close\r\n\r\n"
    )
    try:
        answer = _exchange(port, request.encode())
    except ConnectionResetError:  # closed before the request was read whole: still nothing
        answer = b""
    assert answer == b""
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": server.api_key}) as http:
        server.fake.faults.fail_next(method, "credits/balance", error="read_error")
        with pytest.raises(httpx.TransportError):
            http.request(method, f"{DEV}/credits/balance")
        assert http.request(method, f"{DEV}/credits/balance").status_code == 200


def test_webhooks_due_go_out_though_the_client_left_during_a_delay() -> None:
    # The request was handled; only its answer had no one left to read it.
    delivered = threading.Event()
    url = "https://hooks.example.com/pictograph"
    with FakeServer(seed=5) as server:
        server.fake.add_dataset("road-signs", images=5, completed_images=5)
        server.fake.webhooks.route(url, lambda _: delivered.set())
        with server.client(max_retries=0) as client:
            client.webhooks.create(url)
            client.exports.create("road-signs", "v2", wait=False)
        server.fake.clock.advance(minutes=1)  # export.ready is due
        server.fake.faults.delay_next(2, "GET", "credits/balance")
        with (
            server.client(max_retries=0, timeout=0.2) as client,
            pytest.raises(RequestTimeoutError),
        ):
            client.credits.balance()
        assert delivered.wait(timeout=30)


def test_without_the_server_extra_the_server_says_which_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No uvicorn (the `[server]` extra left out): `FakeServer` and `serve` both say
    what to install, instead of a bare `No module named 'uvicorn'` from deep inside."""
    from pictograph_testing.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'pictograph-testing\[server\]'"):
        FakeServer().start()
    assert main(["serve", "--port", "0"]) == 2
    assert "pip install 'pictograph-testing[server]'" in capsys.readouterr().err


def test_a_control_key_no_client_could_send_is_refused_before_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The control key travels in a header: one that is not printable ASCII would lock
    the control routes for good (and crashed `serve`'s banner on an ASCII terminal)."""
    from pictograph_testing.cli import main

    with pytest.raises(ValueError, match="control_key must be printable ASCII"):
        FakeServer(control_key="fk_é")
    with pytest.raises(ValueError, match="control_key must be printable ASCII"):
        FakeServer(control_key="fk a")
    assert main(["serve", "--port", "0", "--control-key", "fk_é"]) == 2
    assert "control_key must be printable ASCII" in capsys.readouterr().err
