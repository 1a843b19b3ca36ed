"""Webhooks behind the offline server: real HTTP to a receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from pictograph.exceptions import ValidationError

from pictograph_testing.server import FakeServer, base_url_of, bind
from tests.test_webhooks import OTHER, URL, verify

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

DATASET = "road-signs"


class LocalReceiver:
    """A user's receiver served by uvicorn on a loopback port (not the network)."""

    def __init__(self, server: FakeServer) -> None:
        self.fake_server = server
        self.secret = ""
        self.seen: list[dict[str, Any]] = []
        self.balances: list[float] = []
        self.entered = threading.Event()
        """Set when a delivery reaches the handler."""
        self.gate: threading.Event | None = None
        """When set to an event, the handler waits for it before answering."""
        sock = bind()
        self.url = base_url_of(sock) + "/hook"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, log_level="warning", access_log=False, lifespan="off", interface="asgi3"
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.01)

    async def app(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.entered.set()
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 10)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        valid = verify(self.secret, headers["x-pictograph-signature"], body)
        # Call the fake back while it waits for this answer.
        balance = await asyncio.to_thread(self._balance)
        self.balances.append(balance)
        self.seen.append({"path": scope["path"], "valid": valid, "event": json.loads(body)})
        await send({"type": "http.response.start", "status": 200 if valid else 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def _balance(self) -> float:
        with self.fake_server.client(max_retries=0) as client:
            return client.credits.balance().remaining_usd

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


@pytest.fixture
def served() -> Iterator[tuple[FakeServer, LocalReceiver]]:
    with FakeServer(seed=5) as server:
        server.fake.add_dataset(DATASET, images=20, completed_images=12)
        receiver = LocalReceiver(server)
        try:
            yield server, receiver
        finally:
            receiver.stop()


# The route as spelt, with a trailing slash, or with a query: each is sent on the
# server's loop, so the receiver's call back to the fake is answered meanwhile.
@pytest.mark.parametrize(
    "deliver", ["/webhooks/deliver", "/webhooks/deliver/", "/webhooks/deliver?now"]
)
def test_the_server_posts_signed_deliveries_to_a_local_receiver(
    served: tuple[FakeServer, LocalReceiver], deliver: str
) -> None:
    server, receiver = served
    with server.control() as control, server.client(max_retries=0) as client:
        # Loopback is refused at registration, as the API does: route the public URL.
        with pytest.raises(ValidationError, match="not publicly routable"):
            client.webhooks.create(receiver.url.replace("http://", "https://"))
        receiver.secret = client.webhooks.create(URL).secret
        routed = control.post("/webhooks/routes", json={"url": URL, "target": receiver.url})
        assert routed.json() == {"routes": {URL: receiver.url}}

        result = client.webhooks.test(URL)
        client.exports.create(DATASET, "v2", wait=False)
        server.fake.clock.advance(minutes=1)
        answer = control.post(deliver)

        assert answer.status_code == 200
        sent = answer.json()

        assert result["delivered"] is True
        assert result["status_code"] == 200
        assert sent == {"sent": 1}
        assert [s["event"]["type"] for s in receiver.seen] == ["webhook.test", "export.ready"]
        assert all(s["valid"] and s["path"] == "/hook" for s in receiver.seen)
        assert receiver.balances == [100.0, 100.0]
        [delivery] = client.webhooks.deliveries()
        assert delivery.status == "delivered"
        assert delivery.last_status_code == 200


def test_deliver_waits_for_a_round_already_sending(
    served: tuple[FakeServer, LocalReceiver],
) -> None:
    server, receiver = served
    receiver.gate = threading.Event()
    with server.control() as control, server.client(max_retries=0) as client:
        receiver.secret = client.webhooks.create(URL).secret
        control.post("/webhooks/routes", json={"url": URL, "target": receiver.url})
        client.exports.create(DATASET, "v2", wait=False)
        server.fake.clock.advance(minutes=1)
        client.credits.balance()  # its answer starts a round that sends export.ready
        assert receiver.entered.wait(10), "the round never reached the receiver"
        # Let the receiver answer only once the deliver call is (very likely) waiting.
        threading.Timer(0.2, receiver.gate.set).start()

        control.post("/webhooks/deliver")

        # Answered only once the attempt under way was made (the count it sends depends
        # on whether the round was still sending when the call arrived).
        assert [s["event"]["type"] for s in receiver.seen] == ["export.ready"]
        assert control.post("/webhooks/deliver").json() == {"sent": 0}


def test_an_unreachable_receiver_fails_the_delivery_with_the_error(
    served: tuple[FakeServer, LocalReceiver],
) -> None:
    server, receiver = served
    receiver.stop()
    with server.control() as control, server.client(max_retries=0) as client:
        client.webhooks.create(URL)
        control.post("/webhooks/routes", json={"url": URL, "target": receiver.url})

        result = client.webhooks.test(URL)

        assert result["delivered"] is False
        assert result["status_code"] is None
        assert result["error"].startswith("ConnectError")
        bad = control.post("/webhooks/routes", json={"url": URL})
        assert bad.status_code == 422
        removed = control.post("/webhooks/routes", json={"url": URL, "target": None})
        assert removed.json() == {"routes": {}} == control.get("/webhooks/routes").json()
        assert control.get("/snapshot").status_code == 409


def test_routes_name_an_in_process_receiver_and_deliver_answers_in_process() -> None:
    def receiver(request: object) -> int:
        return 204

    with FakeServer(seed=5) as server, server.control() as control:
        server.fake.webhooks.route(URL, receiver)

        listed = control.get("/webhooks/routes")
        added = control.post(
            "/webhooks/routes", json={"url": OTHER, "target": "http://127.0.0.1:9/h"}
        )
        status, _, body = server.app.control("POST", "/_fake/webhooks/deliver", b"")

        assert listed.status_code == added.status_code == 200
        assert listed.json() == {"routes": {URL: f"<in process: {receiver.__qualname__}>"}}
        assert added.json()["routes"][OTHER] == "http://127.0.0.1:9/h"
        assert (status, json.loads(body)) == (200, {"sent": 0})
        assert control.get("/").json()["server_errors"] == []

        # One come due since: the call in process sends it, and says so.
        server.fake.add_dataset(DATASET, images=20, completed_images=12)
        with server.client(max_retries=0) as client:
            client.webhooks.create(URL)
            client.exports.create(DATASET, "v2", wait=False)
        server.fake.clock.advance(minutes=1)
        _, _, body = server.app.control("POST", "/_fake/webhooks/deliver", b"")
        assert json.loads(body) == {"sent": 1}


@pytest.mark.parametrize("kind", ["function", "wsgi"])
def test_a_sync_receiver_may_read_the_served_api_back(kind: str) -> None:
    # A sync receiver runs off the server's event loop: its call back is answered.
    with FakeServer(seed=5) as server:
        read_back: list[int] = []

        def balance() -> int:
            headers = {"x-api-key": server.api_key}
            with httpx.Client(base_url=server.base_url, timeout=5) as http:
                status = http.get("/api/v1/developer/credits/balance", headers=headers)
            read_back.append(status.status_code)
            return 204

        def function(request: object) -> int:
            return balance()

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            start_response(f"{balance()} No Content", [])
            return []

        server.fake.webhooks.route(URL, function if kind == "function" else wsgi)
        with server.client(max_retries=0) as client:
            created = client.webhooks.create(URL, event_types=["training_run.completed"])
            result = client.webhooks.test(created.endpoint.id)

        assert (result["delivered"], result["status_code"]) == (True, 204), result
        assert read_back == [200]
        assert server.fake.server_errors == []
