"""The server's control plane is locked: a key, JSON only, the Host checked, scenarios by name.

Each test is a hostile request from another local process or a web page in a local
browser, turned into a test: it is refused, and the world is as it was. In process the
same controls stay open (`FakeAsgiApp.control`, `FakePictograph`, the plugin's ini).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from pictograph_testing import FakePictograph
from pictograph_testing.scenarios import available_scenarios
from pictograph_testing.server import (
    CONTROL_KEY_HEADER,
    REDACTED,
    FakeAsgiApp,
    FakeServer,
    served_hosts,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytest_plugins = ["pytester"]

DEV = "/api/v1/developer"
DATASET = "road-signs"
SECRET = "aws_secret_access_key"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(scenario="ready-to-train", seed=3) as served:
        yield served


@pytest.fixture
def stranger(server: FakeServer) -> Iterator[httpx.Client]:
    """Another local process: it can reach the port, and knows no control key."""
    with httpx.Client(base_url=server.base_url) as client:
        yield client


def _world_is_untouched(server: FakeServer) -> None:
    with server.client(max_retries=0) as client:
        assert client.datasets.get(DATASET).completed_image_count == 12
    assert server.fake.clock.monotonic() == 0.0
    assert not server.fake.faults.armed


# ── the control key ──


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/_fake/reset", None),
        ("POST", "/_fake/clock/advance", {"hours": 1}),
        ("POST", "/_fake/snapshot", {"scenario": "one-image-short"}),
        ("POST", "/_fake/faults", {"kind": "status", "status": 503}),
        ("DELETE", "/_fake/faults", None),
        ("GET", "/_fake/faults", None),
        ("GET", "/_fake/journal", None),
        ("GET", "/_fake/cameras", None),
        ("POST", "/_fake/cameras", {"source": "rtsp://cam.example.com/gate"}),
    ],
)
def test_control_routes_need_the_key(
    server: FakeServer, stranger: httpx.Client, method: str, route: str, body: object
) -> None:
    wrong = "is not the server's control key"
    for headers, problem in [
        ({}, "is missing"),
        ({CONTROL_KEY_HEADER: "fk_guess"}, wrong),
        ({CONTROL_KEY_HEADER: ""}, wrong),  # sent empty: given, and not the key
    ]:
        answer = stranger.request(method, route, json=body, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.json()["error"].startswith(f"{CONTROL_KEY_HEADER} {problem}: ")
    _world_is_untouched(server)
    with server.control() as control:
        assert control.request(method, route.removeprefix("/_fake"), json=body).status_code == 200


def test_without_the_key_the_info_and_the_snapshot_hide_the_api_keys(
    server: FakeServer, stranger: httpx.Client
) -> None:
    info = stranger.get("/_fake/")
    assert info.status_code == 200
    assert info.json()["api_key"] == REDACTED
    assert server.api_key not in info.text
    snapshot = stranger.get("/_fake/snapshot")
    assert snapshot.status_code == 200
    assert server.api_key not in snapshot.text
    assert {key["key"] for key in snapshot.json()["api_keys"]} == {REDACTED}
    assert stranger.get("/_fake/clock").status_code == 200
    assert stranger.get("/_fake/openapi.json").status_code == 200
    with server.control() as control:
        assert control.get("/").json()["api_key"] == server.api_key
        full = control.get("/snapshot").json()
        assert server.api_key in {key["key"] for key in full["api_keys"]}
        # A redacted snapshot cannot be loaded back: its keys are gone.
        refused = control.post("/snapshot", json=snapshot.json())
        assert refused.status_code == 422
        assert "redacted" in refused.json()["error"]
        assert control.post("/snapshot", json=full).status_code == 200


@pytest.mark.parametrize("route", ["/_fake/", "/_fake/clock", "/_fake/snapshot", "/_fake/ui"])
def test_a_head_on_an_open_route_answers_as_its_get_does(
    stranger: httpx.Client, route: str
) -> None:
    got = stranger.get(route)

    head = stranger.head(route)

    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)


def test_a_head_on_a_keyed_route_needs_the_key_as_its_get_does(
    server: FakeServer, stranger: httpx.Client
) -> None:
    assert stranger.head("/_fake/journal").status_code == 401
    with server.control() as control:
        head = control.head("/journal")
        assert head.status_code == 200
        assert int(head.headers["content-length"]) == len(control.get("/journal").content)


def test_the_key_can_be_given_or_turned_off() -> None:
    with FakeServer(control_key="fk_mine") as server, httpx.Client() as http:
        assert server.control_key == "fk_mine"
        url = f"{server.base_url}/_fake/reset"
        assert http.post(url, json={}, headers={CONTROL_KEY_HEADER: "fk_mine"}).status_code == 200
        assert http.post(url, json={}).status_code == 401
    with FakeServer(control_auth=False) as server, httpx.Client() as http:
        assert server.control_key is None
        assert http.post(f"{server.base_url}/_fake/reset", json={}).status_code == 200
        assert http.get(f"{server.base_url}/_fake/").json()["api_key"] == server.api_key
    with pytest.raises(ValueError, match="not both"):
        FakeServer(control_key="fk_x", control_auth=False)


def test_the_control_client_sends_headers_given_beside_the_key(server: FakeServer) -> None:
    with server.control(headers={"X-Request-Id": "r-1"}) as control:
        answer = control.get("/journal")
    assert answer.status_code == 200
    assert answer.request.headers["X-Request-Id"] == "r-1"


def test_two_servers_get_different_keys() -> None:
    first, second = FakeServer(seed=1), FakeServer(seed=1)
    assert first.control_key != second.control_key
    assert first.control_key is not None
    assert first.control_key.startswith("fk_")


def test_in_process_control_is_trusted() -> None:
    app = FakeAsgiApp(lambda _: FakePictograph(seed=2))
    status, _, content = app.control("GET", "/_fake/", b"")
    assert status == 200
    assert json.loads(content)["api_key"] == app.fake.api_key


# ── JSON only: no form or text/plain post from a web page ──


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_control_posts_must_be_json(server: FakeServer, content_type: str | None) -> None:
    headers = {CONTROL_KEY_HEADER: server.control_key or ""}
    if content_type is not None:
        headers["Content-Type"] = content_type
    with httpx.Client(base_url=server.base_url, headers=headers) as http:
        for route, body in (
            ("/_fake/clock/advance", b'{"hours": 1}'),
            ("/_fake/reset", b""),
            ("/_fake/snapshot", b'{"scenario": "one-image-short"}'),
        ):
            answer = http.post(route, content=body)
            assert answer.status_code == 415, (route, answer.text)
            assert "application/json" in answer.json()["error"]
        _world_is_untouched(server)
        # A read or a DELETE carries no body to type: a page cannot post one through them.
        assert http.get("/_fake/journal").status_code == 200
        assert http.delete("/_fake/faults").status_code == 200


# ── the Host header: no DNS rebinding ──


def test_a_foreign_host_is_refused_everywhere(server: FakeServer) -> None:
    evil = {"Host": "evil.example.com:8765", "X-API-Key": server.api_key}
    with httpx.Client(base_url=server.base_url, headers=evil) as http:
        api = http.get(f"{DEV}/datasets/{DATASET}")
        assert api.status_code == 421
        assert api.json()["error"]["code"] == "misdirected_request"
        assert "evil.example.com" in api.json()["error"]["message"]
        control = http.post("/_fake/reset", json={}, headers=server.control_headers)
        assert control.status_code == 421
        assert http.get("/_fake/").status_code == 421
    port = server.base_url.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", "LOCALHOST", f"127.0.0.1:{port}"):
        with httpx.Client(base_url=server.base_url, headers={"Host": host}) as http:
            assert http.get("/_fake/clock").status_code == 200, host
    _world_is_untouched(server)
    # The refused API call is journaled, as every API call is.
    assert [(c.status, c.path) for c in server.fake.calls] == [
        (421, f"{DEV}/datasets/{DATASET}"),
        (200, f"{DEV}/datasets/{DATASET}"),
    ]


def test_a_long_foreign_host_is_named_cut_short(server: FakeServer) -> None:
    # A refusal quotes the Host it refused, but no more of it than a person reads.
    name = "a" * 300 + ".example.com"
    with httpx.Client(base_url=server.base_url, headers={"Host": name}) as http:
        refused = http.get("/_fake/clock")
    assert refused.status_code == 421
    assert f"Host '{'a' * 200}'" in refused.json()["error"]


def test_a_server_bound_to_every_interface_answers_any_ip_address_and_says_so() -> None:
    # No page can rebind an IP address; a name is still checked.
    every = served_hosts("http://0.0.0.0:8765")
    loopback = served_hosts("http://127.0.0.1:8765")

    assert every("10.1.2.3:8765")
    assert every("[fe80::1]:8765")
    assert not every("evil.example.com:8765")
    assert not loopback("10.1.2.3:8765")
    assert every.names == "0.0.0.0, localhost or any IP address"
    assert loopback.names == "127.0.0.1, localhost"


def test_more_host_names_can_be_allowed() -> None:
    with (
        FakeServer(allowed_hosts=["fake.internal"]) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        assert http.get("/_fake/clock", headers={"Host": "fake.internal:80"}).status_code == 200
        assert http.get("/_fake/clock", headers={"Host": "other.internal"}).status_code == 421


# ── scenarios: by name from registered folders, never a path over HTTP ──


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({SECRET: "AKIA...", "schema_version": 1}))
    return path


def test_a_path_sent_over_http_opens_no_file(server: FakeServer, tmp_path: Path) -> None:
    secret = _secret_file(tmp_path)
    answers = []
    with server.control() as control:
        for ref in (str(secret), str(tmp_path / "missing.json"), "../../etc/passwd", "/etc"):
            answer = control.post("/snapshot", json={"scenario": ref})
            assert answer.status_code == 422, ref
            assert SECRET not in answer.text
            answers.append(answer.json()["error"].replace(json.dumps(ref)[1:-1], "<ref>"))
    # The same words for a file that exists and one that does not: no existence oracle.
    assert answers[0] == answers[1]
    assert "not a scenario name" in answers[0]
    _world_is_untouched(server)


def test_scenarios_load_by_name_from_registered_folders(tmp_path: Path) -> None:
    folder = tmp_path / "worlds"
    folder.mkdir()
    (folder / "mine.json").write_text(
        json.dumps({"schema_version": 1, "seed": 8, "datasets": [{"name": "owned"}]})
    )
    assert "mine" in available_scenarios([folder])
    assert "mine" not in available_scenarios()
    # In process, by name, from the folder.
    fake = FakePictograph(scenario="mine", scenario_dirs=[folder])
    assert fake.seed == 8
    with pytest.raises(ValueError, match="unknown scenario 'mine'"):
        FakePictograph(scenario="mine")
    # Over HTTP, by name, from the server's folders.
    with FakeServer(scenario_dirs=[folder]) as server, server.control() as control:
        # The dashboard offers it beside the package's own.
        assert '<option value="mine">mine</option>' in control.get("/ui").text
        assert control.post("/snapshot", json={"scenario": "mine"}).status_code == 200
        assert server.fake.seed == 8
        with server.client(max_retries=0) as client:
            assert client.datasets.get("owned").name == "owned"


def test_the_plugin_reads_scenario_folders_from_the_ini(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    folder = pytester.path / "worlds"
    folder.mkdir()
    (folder / "tiny.json").write_text(json.dumps({"schema_version": 1, "seed": 41}))
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "pictograph_scenario = tiny\npictograph_scenario_dirs = worlds\n"
    )
    pytester.makepyfile(
        """
        def test_seeded(pictograph_fake):
            assert pictograph_fake.seed == 41
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
