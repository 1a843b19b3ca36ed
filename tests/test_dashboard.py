"""The offline server's dashboard over HTTP: the page, its live part, and the locked controls.

What a browser does with the page is in ``tests/browser`` (``scripts/browser.sh``); here
the server's side of it: what it answers with and without the control key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from pictograph_testing.clock import VirtualClock
from pictograph_testing.server import CONTROL_KEY_HEADER, FakeServer
from tests.picture_reading import DrawnPage

if TYPE_CHECKING:
    from collections.abc import Iterator

DATASET = "road-signs"
EXPORT = "road-signs-v1"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(scenario="ready-to-train") as served:
        with served.client() as client:
            client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="first", wait=False)
        yield served


@pytest.fixture
def anyone(server: FakeServer) -> Iterator[httpx.Client]:
    """A caller without the control key (a page in a browser that was never given it)."""
    with httpx.Client(base_url=f"{server.base_url}/_fake") as client:
        yield client


def test_the_page_is_served_without_the_key_and_shows_no_api_key(
    server: FakeServer, anyone: httpx.Client
) -> None:
    answer = anyone.get("/ui")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    policy = answer.headers["content-security-policy"]
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert server.api_key not in answer.text
    assert server.control_key is not None
    assert server.control_key not in answer.text
    page = DrawnPage(answer.text)
    assert {bar["data-run-id"] for bar in page.runs.values()} == set(server.fake.world.runs)
    assert page.external == []
    assert page.scripts == 1


def test_the_live_part_follows_the_world(server: FakeServer, anyone: httpx.Client) -> None:
    before = DrawnPage(anyone.get("/ui/world").text)
    with server.control() as control:
        assert control.post("/clock/advance", json={"minutes": 10}).status_code == 200
    after = DrawnPage(anyone.get("/ui/world").text)
    assert float(after.runs["first"]["data-end"]) > float(before.runs["first"]["data-end"])
    assert after.runs["first"]["data-status"] == "completed"
    assert [row["status"] for row in after.rows("runs")] == ["completed"]


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/clock/advance", {"minutes": 10}),
        ("POST", "/clock/speed", {"speed": 0}),
        ("POST", "/reset", {}),
        ("POST", "/snapshot", {"scenario": "ready-to-train"}),
        ("POST", "/faults", {"kind": "status", "status": 503}),
        ("DELETE", "/faults", None),
    ],
)
def test_every_control_the_page_offers_needs_the_key(
    server: FakeServer, anyone: httpx.Client, method: str, route: str, body: object
) -> None:
    before = server.fake.clock.monotonic()
    answer = anyone.request(method, route, json=body)
    assert answer.status_code == 401
    assert CONTROL_KEY_HEADER in answer.json()["error"]
    wrong = anyone.request(method, route, json=body, headers={CONTROL_KEY_HEADER: "fk_wrong"})
    assert wrong.status_code == 401
    assert "is not the server's control key" in wrong.json()["error"]
    assert server.fake.clock.monotonic() == before
    assert not server.fake.faults.pending


def test_the_speed_route_sets_the_pace_and_refuses_nonsense() -> None:
    with FakeServer() as server, server.control() as control:
        answer = control.post("/clock/speed", json={"speed": 0})
        assert answer.status_code == 200
        assert answer.json()["speed"] == 0
        for wrong in ({"speed": -1}, {"speed": "fast"}, {"pace": 2}, {"speed": True}):
            refused = control.post("/clock/speed", json=wrong)
            assert refused.status_code == 422
            assert "speed" in refused.json()["error"]
        assert control.post("/clock/speed", json={"speed": 1000}).json()["speed"] == 1000


def test_changing_speed_keeps_the_time_reached() -> None:
    clock = VirtualClock(speed=0)
    clock.advance(seconds=90)
    clock.set_speed(0.0)
    assert clock.monotonic() == 90
    clock.set_speed(5.0)
    assert clock.speed == 5.0
    assert clock.monotonic() >= 90
    clock.set_speed(0.0)
    paused = clock.monotonic()
    assert clock.monotonic() == paused
    with pytest.raises(ValueError, match="speed"):
        clock.set_speed(-1.0)
