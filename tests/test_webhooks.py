"""Webhooks through the real SDK: endpoints, secrets, events, signed deliveries, retries."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import respx
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PictographError,
    ValidationError,
)

from pictograph_testing import FakePictograph
from pictograph_testing.webhooks import CANCELLED, WebhookRequest
from pictograph_testing.world.webhooks import (
    AUTO_DISABLE_AFTER,
    EVENT_OF_KIND,
    RETRY_DELAYS,
    ROTATION_GRACE_SECONDS,
)
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from pathlib import Path

    import pictograph

URL = "https://hooks.example.com/pictograph"
OTHER = "https://hooks.example.com/other"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def verify(secret: str, header: str, body: bytes) -> bool:
    """The receiver's check, as the SDK documents it: HMAC-SHA256 over ``"{t}.{body}"``.

    ``header`` is ``t=<ts>,v1=<hmac>`` (a second ``v1`` while a secret is rotated).
    """
    pairs = [part.split("=", 1) for part in header.split(",")]
    timestamp = next(value for name, value in pairs if name == "t")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(expected, value) for name, value in pairs if name == "v1")


class Inbox:
    """A plain-callable receiver: keeps every request, answers the statuses given in turn."""

    def __init__(self, *statuses: int) -> None:
        self.requests: list[WebhookRequest] = []
        self._statuses = list(statuses)

    def __call__(self, request: WebhookRequest) -> int:
        self.requests.append(request)
        return self._statuses.pop(0) if self._statuses else 200

    def types(self) -> list[str | None]:
        return [r.event_type for r in self.requests]


async def _read(receive: Callable[[], Awaitable[dict[str, Any]]]) -> bytes:
    body = b""
    while True:
        message = await receive()
        chunk: bytes = message.get("body", b"")
        body += chunk
        if not message.get("more_body"):
            return body


def asgi_receiver(secret: list[str], seen: list[dict[str, Any]]) -> Any:
    """A user's ASGI receiver (what a FastAPI or Starlette route does): 400 when unsigned."""

    async def app(
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        body = await _read(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        valid = verify(secret[0], headers["x-pictograph-signature"], body)
        seen.append({"path": scope["path"], "valid": valid, "event": json.loads(body)})
        await send({"type": "http.response.start", "status": 200 if valid else 400, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def _train(client: pictograph.Client, name: str) -> Any:
    return client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)


# ── endpoints: create, list, get, event types ──


def test_create_returns_the_secret_once_and_list_and_get_never_do(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = client.webhooks.create(
        URL,
        description="prod receiver",
        event_types=["training_run.completed"],
        auth_headers={"Authorization": "Bearer tok"},
    )

    endpoint = created.endpoint
    assert created.secret.startswith("whsec_")
    assert endpoint.url == URL
    assert endpoint.description == "prod receiver"
    assert endpoint.event_types == ["training_run.completed"]
    assert endpoint.enabled is True
    assert endpoint.secret_version == 1
    assert endpoint.secret_prefix == created.secret[:10]
    assert endpoint.auth_header_names == ["Authorization"]
    assert endpoint.organization_id == fake.organization_id
    assert endpoint.created_at is not None
    assert endpoint.created_at.year == 2026
    listed = client.webhooks.list()
    assert [e.id for e in listed] == [endpoint.id]
    assert client.webhooks.get(URL) == listed[0] == client.webhooks.get(endpoint.id)
    # Neither the secret nor the header values ever come back.
    for call in fake.calls.filter(method="GET"):
        assert created.secret.encode() not in call.response_body
        assert b"Bearer tok" not in call.response_body


async def test_async_create_list_get_and_event_types(aclient: pictograph.AsyncClient) -> None:
    created = await aclient.webhooks.create(URL, event_types=["export.ready"])

    assert created.secret.startswith("whsec_")
    assert [e.url for e in await aclient.webhooks.list()] == [URL]
    assert (await aclient.webhooks.get(URL)).id == created.endpoint.id
    types = await aclient.webhooks.event_types()
    assert "export.ready" in types
    assert "workflow_run.completed" in types


def test_event_types_are_the_sdks_workflow_events_and_what_the_fake_simulates(
    client: pictograph.Client,
) -> None:
    types = client.webhooks.event_types()

    assert types[:4] == [
        "workflow_run.completed",
        "workflow_run.failed",
        "workflow_stream.events",
        "workflow_stream.ended",
    ]
    assert set(types[4:]) == set(EVENT_OF_KIND.values()) - set(types[:4])
    assert len(types) == len(set(types))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "must be https"),
        ("https://127.0.0.1/hook", "not publicly routable"),
        ("https://localhost:8443/hook", "not publicly routable"),
        ("https://169.254.169.254/latest/meta-data", "not publicly routable"),
        ("https://10.1.2.3/hook", "not publicly routable"),
        ("https://[::1]:8443/hook", "not publicly routable"),
        ("https://intranet/hook", "not publicly routable"),
        ("https://metadata.google.internal/x", "not publicly routable"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("not a url", "must be https"),
        # Loopback and private addresses however a resolver reads them.
        ("https://127.1/hook", "not publicly routable"),
        ("https://0x7f.0.0.1/hook", "not publicly routable"),
        ("https://0177.0.0.1/hook", "not publicly routable"),
        ("https://2130706433/hook", "not publicly routable"),
        ("https://10.1/hook", "not publicly routable"),
        ("https://localhost./hook", "not publicly routable"),
        ("https://metadata.google.internal./x", "not publicly routable"),
        ("https://[::ffff:127.0.0.1]/hook", "not publicly routable"),
        ("https://[64:ff9b::a9fe:a9fe]/x", "not publicly routable"),  # NAT64 of metadata
        ("https://[2002:a00:1::]/hook", "not publicly routable"),  # 6to4 of 10.0.0.1
        ("https://[::ffff:0:7f00:1]/hook", "not publicly routable"),  # translated 127.0.0.1
        ("https://[64:ff9b:1::a00:1]/hook", "not publicly routable"),  # local-use NAT64
        ("https://[fec0::1]/hook", "not publicly routable"),  # site-local
        ("https://224.0.0.1/hook", "not publicly routable"),  # multicast
        ("https://3758096385/hook", "not publicly routable"),  # the same, as one number
        ("https://127.0.0.1../hook", "not publicly routable"),
        # Dots and digits IDNA reads as ASCII ones: an HTTP client sends to 127.0.0.1.
        ("https://127\u30020.0.1/hook", "'127.0.0.1' is not publicly routable"),
        ("https://169.254.169\uff0e254/latest/meta-data", "not publicly routable"),
        ("https://10.0.0\uff611/hook", "not publicly routable"),
        ("https://\uff11\uff12\uff17.0.0.1/hook", "not publicly routable"),
        ("https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/x", "not publicly"),
        ("https://a\u3002\u3002b.example/x", "IDNA cannot encode"),
        ("https://a..b.example/x", "empty label"),
        ("https://.example/x", "empty label"),
        ("https://hooks.example.com:0/x", "port 0"),
        ("https://hooks.example.com/a b", r"holds \" \" at position 27"),
        ("https://hooks.example.com/x\n", r"holds \"\\n\" at position 27"),
    ],
)
def test_create_refuses_urls_that_are_not_https_and_public(
    client: pictograph.Client, url: str, why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        client.webhooks.create(url)
    assert client.webhooks.list() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://bot:hunter2@hooks.example.com/x",  # refused for its scheme
        "https://bot:hunter2@hooks.example.com:99999/x",  # refused for its port
        "https://bot:hunter2@/x",  # refused for its missing host
    ],
)
def test_a_refused_url_is_quoted_without_its_password(client: pictograph.Client, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        client.webhooks.create(url)
    assert "hunter2" not in caught.value.message
    assert "***@" in caught.value.message


def test_a_public_international_host_is_taken_as_sent(client: pictograph.Client) -> None:
    created = client.webhooks.create("https://hooks.b\u00fccher.example/x")
    assert created.endpoint.url == "https://hooks.b\u00fccher.example/x"


async def test_async_refuses_a_loopback_host_spelled_with_ideographic_dots(
    aclient: pictograph.AsyncClient,
) -> None:
    with pytest.raises(ValidationError, match=r"'127\.0\.0\.1' is not publicly routable"):
        await aclient.webhooks.create("https://127\u30020.0.1/hook")
    await aclient.webhooks.create(URL)
    with pytest.raises(ValidationError, match="not publicly routable"):
        await aclient.webhooks.update(URL, url="https://10.0.0\uff0e1/hook")
    assert [e.url for e in await aclient.webhooks.list()] == [URL]


def test_create_refuses_unknown_event_types_and_bad_auth_headers(
    client: pictograph.Client,
) -> None:
    with pytest.raises(ValidationError, match=r"Unknown event type.*'run\.completed'"):
        client.webhooks.create(URL, event_types=["run.completed"])
    with pytest.raises(ValidationError, match="not a valid HTTP header name"):
        client.webhooks.create(URL, auth_headers={"Bad Name": "x"})
    with pytest.raises(ValidationError, match="on one line"):
        client.webhooks.create(URL, auth_headers={"X-Token": "a\r\nInjected: 1"})
    # A header goes out as ASCII bytes: anything else would fail every delivery.
    with pytest.raises(ValidationError, match="printable ASCII"):
        client.webhooks.create(URL, auth_headers={"X-Token": "café"})
    for framing in ("Content-Length", "transfer-encoding", "Host"):
        with pytest.raises(ValidationError, match=f"'{framing}' frames the request"):
            client.webhooks.create(URL, auth_headers={framing: "1"})
    assert client.webhooks.list() == []


def test_one_header_spelled_twice_is_refused_not_half_sent(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Header names are case-insensitive: a delivery could carry only one of the values.
    with pytest.raises(ValidationError) as caught:
        client.webhooks.create(URL, auth_headers={"X-Token": "a", "x-token": "b"})
    assert "'X-Token' and 'x-token' name the same header" in caught.value.message
    assert caught.value.field_errors[0]["loc"] == ["body", "auth_headers"]
    assert client.webhooks.list() == []

    client.webhooks.create(URL, auth_headers={"X-Token": "a"})
    with pytest.raises(ValidationError, match="name the same header"):
        client.webhooks.update(URL, auth_headers={"AUTHORIZATION": "1", "Authorization": "2"})
    [endpoint] = client.webhooks.list()
    assert endpoint.auth_header_names == ["X-Token"]
    sent: list[WebhookRequest] = []
    fake.webhooks.route(URL, sent.append)
    assert client.webhooks.test(URL)["delivered"]
    assert sent[0].header("X-Token") == "a"


async def test_async_one_header_spelled_twice_is_refused(
    aclient: pictograph.AsyncClient,
) -> None:
    with pytest.raises(ValidationError, match="name the same header"):
        await aclient.webhooks.create(URL, auth_headers={"x-key": "1", "X-Key": "1"})
    assert await aclient.webhooks.list() == []


def test_update_checks_the_url_and_headers_as_create_does(client: pictograph.Client) -> None:
    client.webhooks.create(URL, auth_headers={"Authorization": "Bearer tok"})

    with pytest.raises(ValidationError, match="not publicly routable"):
        client.webhooks.update(URL, url="https://127.1/hook")
    with pytest.raises(ValidationError, match="frames the request"):
        client.webhooks.update(URL, auth_headers={"Transfer-Encoding": "chunked"})

    [endpoint] = client.webhooks.list()
    assert endpoint.url == URL
    assert endpoint.auth_header_names == ["Authorization"]


def test_a_route_to_a_url_httpx_cannot_send_to_is_refused(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match="not a URL httpx can send to"):
        fake.webhooks.route(URL, "http://[::1")
    for hostless in ("http://", "https:///path"):
        with pytest.raises(ValueError, match="needs a host"):
            fake.webhooks.route(URL, hostless)
    with pytest.raises(ValueError, match="port must be 1 to 65535"):
        fake.webhooks.route(URL, "http://127.0.0.1:99999/hook")
    with pytest.raises(ValueError, match="must be http or https"):
        fake.webhooks.route(URL, "ftp://hooks.example.com/x")
    assert fake.webhooks.routes() == {}


def test_a_url_is_registered_once_and_matched_exactly(client: pictograph.Client) -> None:
    client.webhooks.create(URL)

    with pytest.raises(ConflictError, match="already registered"):
        client.webhooks.create(URL)
    # A trailing slash is another URL (the SDK resolves URLs exactly, too).
    client.webhooks.create(URL + "/")
    with pytest.raises(NotFoundError, match=re.escape("nowhere.example.com")):
        client.webhooks.get("https://nowhere.example.com/hook")
    with pytest.raises(NotFoundError, match="not found"):
        client.webhooks.get(UNKNOWN_ID)


def test_a_url_is_free_again_once_its_endpoint_moves_or_goes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = URL + "/other"
    made = client.webhooks.create(URL)
    client.webhooks.update(made.endpoint.id, url=URL)  # its own URL again: no clash
    client.webhooks.update(made.endpoint.id, url=other)
    client.webhooks.create(URL)  # the URL it left is free
    with pytest.raises(ConflictError, match="already registered"):
        client.webhooks.create(other)
    client.webhooks.delete(made.endpoint.id)
    client.webhooks.create(other)
    # Another organization's endpoints are no clash.
    rival = fake.add_organization(name="Rival")
    rival.client().webhooks.create(URL)
    assert sorted(e.url for e in client.webhooks.list()) == [URL, other]


async def test_async_a_url_moved_away_is_free_again(aclient: pictograph.AsyncClient) -> None:
    made = await aclient.webhooks.create(URL)
    await aclient.webhooks.update(made.endpoint.id, url=URL + "/moved")
    await aclient.webhooks.create(URL)
    with pytest.raises(ConflictError, match="already registered"):
        await aclient.webhooks.create(URL + "/moved")


def test_managing_endpoints_needs_an_admin_key_reading_them_does_not(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    with fake.client(api_key=fake.add_api_key("member"), max_retries=0) as member:
        with pytest.raises(ForbiddenError, match="manage webhooks"):
            member.webhooks.create(OTHER)
        with pytest.raises(ForbiddenError):
            member.webhooks.rotate_secret(URL)
        with pytest.raises(ForbiddenError):
            member.webhooks.delete(URL)
        assert [e.url for e in member.webhooks.list()] == [URL]


def test_another_organizations_endpoints_are_not_found(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    endpoint = client.webhooks.create(URL).endpoint
    with fake.add_organization().client(max_retries=0) as other:
        assert other.webhooks.list() == []
        with pytest.raises(NotFoundError):
            other.webhooks.get(endpoint.id)


# ── update and delete ──


def test_update_changes_only_what_is_sent(client: pictograph.Client) -> None:
    client.webhooks.create(URL, description="a", event_types=["export.ready"])

    updated = client.webhooks.update(URL, description="b", enabled=False)

    assert updated.description == "b"
    assert updated.enabled is False
    assert updated.event_types == ["export.ready"]
    moved = client.webhooks.update(URL, url=OTHER, event_types=[], auth_headers={"X-K": "v"})
    assert moved.url == OTHER
    assert moved.event_types == []
    assert moved.auth_header_names == ["X-K"]
    assert client.webhooks.update(OTHER, auth_headers={}).auth_header_names is None


def test_update_refuses_bad_fields_and_changes_nothing(client: pictograph.Client) -> None:
    client.webhooks.create(URL)
    client.webhooks.create(OTHER)

    with pytest.raises(ValueError, match="at least one field"):
        client.webhooks.update(URL)
    with pytest.raises(ConflictError):
        client.webhooks.update(URL, url=OTHER, description="never")
    with pytest.raises(ValidationError, match="Unknown event type"):
        client.webhooks.update(URL, event_types=["nope"], description="never")
    with pytest.raises(ValidationError, match="https"):
        client.webhooks.update(URL, url="http://hooks.example.com/")
    with pytest.raises(NotFoundError):
        client.webhooks.update(UNKNOWN_ID, enabled=False)
    assert client.webhooks.get(URL).description is None


async def test_async_update_delete_and_rotate(aclient: pictograph.AsyncClient) -> None:
    created = await aclient.webhooks.create(URL)

    assert (await aclient.webhooks.update(URL, enabled=False)).enabled is False
    rotated = await aclient.webhooks.rotate_secret(URL)
    assert rotated.secret != created.secret
    assert rotated.endpoint.secret_version == 2
    await aclient.webhooks.delete(URL)
    assert await aclient.webhooks.list() == []
    with pytest.raises(NotFoundError):
        await aclient.webhooks.delete(created.endpoint.id)
    with pytest.raises(NotFoundError):
        await aclient.webhooks.get(URL)
    with pytest.raises(ValueError, match="at least one field"):
        await aclient.webhooks.update(OTHER)
    with pytest.raises(ValidationError, match="https"):
        await aclient.webhooks.create("http://hooks.example.com/")
    with pytest.raises(NotFoundError):
        await aclient.webhooks.rotate_secret(UNKNOWN_ID)


def test_delete_removes_the_endpoint_and_its_delivery_history(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    endpoint = client.webhooks.create(URL).endpoint
    client.exports.create(DATASET, "v2")
    assert len(client.webhooks.deliveries()) == 1

    client.webhooks.delete(URL)

    assert client.webhooks.list() == []
    assert client.webhooks.deliveries() == []
    with pytest.raises(NotFoundError):
        client.webhooks.get(endpoint.id)


# ── test events ──


def test_test_sends_a_signed_event_and_answers_what_the_receiver_said(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    secret = client.webhooks.create(URL).secret
    inbox = Inbox(200, 503)
    fake.webhooks.route(URL, inbox)

    ok = client.webhooks.test(URL)
    refused = client.webhooks.test(URL)

    assert ok["delivered"] is True
    assert ok["status_code"] == 200
    assert ok["error"] is None
    assert refused["delivered"] is False
    assert refused["status_code"] == 503
    assert refused["error"] == "The endpoint answered 503."
    request = inbox.requests[0]
    assert request.event_type == "webhook.test"
    assert request.json()["data"] == {"endpoint_id": client.webhooks.get(URL).id}
    assert verify(secret, request.headers["X-Pictograph-Signature"], request.body)
    # A test event is not an event of the world: nothing is logged.
    assert client.webhooks.deliveries() == []
    with pytest.raises(NotFoundError):
        client.webhooks.test(UNKNOWN_ID)


@pytest.mark.parametrize(
    ("fault", "raised", "status"),
    [
        ({"status": 503}, "ServerError", 503),
        ({"error": "read_timeout"}, "RequestTimeoutError", 0),
    ],
)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_fault_after_the_handler_of_test_loses_the_answer_not_the_event(
    fake: FakePictograph,
    client: pictograph.Client,
    fault: dict[str, Any],
    raised: str,
    status: int,
    use_async: bool,
) -> None:
    """``after=True``: the work is done, the answer lost; a test's work is its event."""
    client.webhooks.create(URL)
    inbox = Inbox(200)
    fake.webhooks.route(URL, inbox)
    fake.faults.fail_next("POST", "webhooks/endpoints/*/test", after=True, **fault)

    async def test() -> None:
        if use_async:
            async with fake.async_client(max_retries=0) as aclient:
                await aclient.webhooks.test(URL)
        else:
            with fake.client(max_retries=0) as sdk:
                sdk.webhooks.test(URL)

    with pytest.raises(PictographError) as lost:
        await test()
    assert type(lost.value).__name__ == raised
    assert [r.event_type for r in inbox.requests] == ["webhook.test"]
    assert fake.calls.last.status == status
    assert fake.calls.last.fault is not None
    assert "after the handler" in fake.calls.last.fault


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_delayed_test_is_answered_late_with_its_event_sent(
    fake: FakePictograph, client: pictograph.Client, use_async: bool
) -> None:
    # A delay loses nothing: the event goes out and its delivery is answered, 5 s on.
    client.webhooks.create(URL)
    inbox = Inbox(200)
    fake.webhooks.route(URL, inbox)
    fake.faults.delay_next(5, "POST", "webhooks/endpoints/*/test")
    if use_async:
        async with fake.async_client(max_retries=0) as aclient:
            delivery = await aclient.webhooks.test(URL)
    else:
        delivery = client.webhooks.test(URL)
    assert delivery["delivered"] is True
    assert [r.event_type for r in inbox.requests] == ["webhook.test"]
    assert (fake.calls.last.status, fake.calls.last.fault) == (200, "delayed 5s")
    assert fake.clock.monotonic() == pytest.approx(5.0)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_the_sdk_s_retry_of_a_lost_test_replays_its_answer_not_the_event(
    fake: FakePictograph, client: pictograph.Client, use_async: bool
) -> None:
    """The retry carries the first attempt's Idempotency-Key: one event, its answer
    replayed (a second test event went out, and the SDK reported that one)."""
    client.webhooks.create(URL)
    inbox = Inbox(200)
    fake.webhooks.route(URL, inbox)
    fake.faults.fail_next("POST", "webhooks/endpoints/*/test", status=503, after=True)

    if use_async:
        async with fake.async_client() as aclient:
            answer = await aclient.webhooks.test(URL)
    else:
        with fake.client() as sdk:
            answer = sdk.webhooks.test(URL)

    [event] = inbox.requests
    assert answer["delivery_id"] == event.headers["X-Pictograph-Delivery"]
    lost, replayed = fake.calls.filter("POST", "webhooks/endpoints/*/test")
    assert (lost.status, replayed.status) == (503, 200)
    assert replayed.response_json()["delivery_id"] == event.headers["X-Pictograph-Delivery"]


def test_test_to_an_unrouted_url_is_kept_in_sent(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)

    assert client.webhooks.test(URL)["delivered"] is True

    [sent] = fake.webhooks.sent
    assert sent.receiver == "sink"
    assert sent.status_code == 200
    assert sent.request.url == URL
    assert sent.delivery_id is None


def test_with_network_an_unrouted_url_is_posted_to_as_registered(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The offline server's courier (`network = True`): an unrouted URL gets a real HTTP
    # POST, here answered by respx in place of the receiver's host, not a sink.
    fake.webhooks.network = True
    secret = client.webhooks.create(URL).secret
    with respx.mock() as outside:
        host = outside.post(URL).respond(503)
        result = client.webhooks.test(URL)

    [posted] = host.calls
    assert verify(secret, posted.request.headers["x-pictograph-signature"], posted.request.content)
    assert json.loads(posted.request.content)["type"] == "webhook.test"
    assert (result["delivered"], result["status_code"]) == (False, 503)
    [sent] = fake.webhooks.sent
    assert (sent.receiver, sent.status_code) == ("http", 503)


async def test_async_with_network_an_unrouted_url_is_posted_to_as_registered(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.webhooks.network = True
    await aclient.webhooks.create(URL)
    with respx.mock() as outside:
        host = outside.post(URL).respond(204)
        result = await aclient.webhooks.test(URL)

    assert host.call_count == 1
    assert (result["delivered"], result["status_code"]) == (True, 204)
    assert [s.receiver for s in fake.webhooks.sent] == ["http"]


async def test_async_test_awaits_an_asgi_app_that_calls_the_fake_back(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    secret = [(await aclient.webhooks.create(URL)).secret]
    seen: list[dict[str, Any]] = []
    verifying = asgi_receiver(secret, seen)
    balances: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        # The receiver reads the fake while the fake waits for its answer.
        balances.append((await aclient.credits.balance()).remaining_usd)
        await verifying(scope, receive, send)

    fake.webhooks.route(URL, app)

    result = await aclient.webhooks.test(URL)

    assert result["delivered"] is True
    assert result["status_code"] == 200
    assert seen == [{"path": "/pictograph", "valid": True, "event": seen[0]["event"]}]
    assert balances == [100.0]
    assert seen[0]["event"]["type"] == "webhook.test"


# ── secrets ──


def test_rotate_secret_signs_with_both_secrets_during_the_grace_window(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    old = client.webhooks.create(URL).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)

    rotated = client.webhooks.rotate_secret(URL)
    client.webhooks.test(URL)
    fake.clock.advance(seconds=ROTATION_GRACE_SECONDS)
    client.webhooks.test(URL)

    new = rotated.secret
    assert rotated.endpoint.secret_version == 2
    assert new != old
    assert rotated.endpoint.secret_prefix == new[:10]
    during, after = inbox.requests
    signature = during.headers["X-Pictograph-Signature"]
    assert signature.count("v1=") == 2
    assert verify(new, signature, during.body)
    assert verify(old, signature, during.body)
    signature = after.headers["X-Pictograph-Signature"]
    assert signature.count("v1=") == 1
    assert verify(new, signature, after.body)
    assert not verify(old, signature, after.body)
    with pytest.raises(NotFoundError):
        client.webhooks.rotate_secret(UNKNOWN_ID)


def test_an_attempt_due_in_the_grace_window_is_signed_by_both_secrets_however_late_it_goes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The run ends minutes after the rotation; nothing asks until the window is over,
    # so the courier sends its event then. It is signed as it was due: by both secrets.
    old = client.webhooks.create(URL).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)
    new = client.webhooks.rotate_secret(URL).secret
    rotated_at = fake.clock.now()
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)

    fake.clock.advance(seconds=ROTATION_GRACE_SECONDS + 3600)
    client.webhooks.list()

    [request] = inbox.requests
    assert (request.at - rotated_at).total_seconds() < ROTATION_GRACE_SECONDS
    signature = request.headers["X-Pictograph-Signature"]
    assert signature.count("v1=") == 2
    assert verify(old, signature, request.body)
    assert verify(new, signature, request.body)


async def test_async_an_attempt_due_in_the_grace_window_is_signed_by_both_secrets(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    old = (await aclient.webhooks.create(URL)).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)
    new = (await aclient.webhooks.rotate_secret(URL)).secret
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)

    fake.clock.advance(seconds=2 * ROTATION_GRACE_SECONDS)
    await aclient.webhooks.list()

    [request] = inbox.requests
    signature = request.headers["X-Pictograph-Signature"]
    assert verify(old, signature, request.body)
    assert verify(new, signature, request.body)


def test_auth_headers_are_sent_but_never_replace_pictographs_own(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    secret = client.webhooks.create(
        URL, auth_headers={"Authorization": "Bearer tok", "X-Pictograph-Signature": "forged"}
    ).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)

    client.webhooks.test(URL)

    [request] = inbox.requests
    assert request.header("authorization") == "Bearer tok"
    assert verify(secret, request.header("x-pictograph-signature") or "", request.body)


# ── what sends events ──


def test_training_runs_send_completed_failed_and_cancelled(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)

    done = _train(client, "ok")
    fake.faults.fail_run("doomed", reason="oom")
    with pytest.raises(ApiError, match="failed"):
        _train(client, "doomed")
    failed = client.training.get("doomed")
    cancelled = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="stopped", wait=False
    )
    client.training.cancel(cancelled.id)

    assert inbox.types() == [
        "training_run.completed",
        "training_run.failed",
        "training_run.cancelled",
    ]
    completed, crashed, stopped = (r.json() for r in inbox.requests)
    assert completed["data"]["run_id"] == done.id
    assert completed["data"]["model_id"]
    assert crashed["data"]["run_id"] == failed.id
    assert "failed" in crashed["message"]
    assert stopped["data"] == {"run_id": cancelled.id, "dataset_id": cancelled.dataset_id}
    # A cancel is a webhook event, not a notification.
    assert [n.type for n in client.notifications.list()] == [
        "training_failed",
        "training_complete",
    ]


def test_a_runs_events_carry_the_title_and_message_of_its_news(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A completed run's event says what its notification says; a cancel, not news in the
    # feed, still says it in words of its own.
    client.webhooks.create(URL)
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)

    _train(client, "ok")
    stopped = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="stopped", wait=False
    )
    client.training.cancel(stopped.id)
    fake.webhooks.deliver()

    completed, cancelled = (r.json() for r in inbox.requests)
    assert (completed["title"], completed["message"]) == (
        "Training complete",
        "Your model 'ok' is ready.",
    )
    assert (cancelled["title"], cancelled["message"]) == (
        "Training cancelled",
        "Training run 'stopped' was cancelled.",
    )


def test_exports_send_ready_and_failed(fake: FakePictograph, client: pictograph.Client) -> None:
    client.webhooks.create(URL, event_types=["export.ready", "export.failed"])
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)

    ready = client.exports.create(DATASET, "v2")
    fake.faults.fail_export("disk full")
    client.exports.create(DATASET, "v3", wait=False)
    fake.clock.advance(minutes=1)
    fake.webhooks.deliver()

    assert inbox.types() == ["export.ready", "export.failed"]
    event = inbox.requests[0].json()
    assert event["data"] == {
        "export_id": ready.id,
        "dataset_id": ready.dataset_id,
        "export_name": "v2",
    }
    assert event["created_at"] == inbox.requests[0].at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_credits_low_is_sent_once_when_the_balance_falls_below_two_dollars() -> None:
    with FakePictograph(seed=3, profile="current", balance_usd=2.1) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12)
        fake.add_export(DATASET, EXPORT)
        inbox = Inbox()
        fake.webhooks.route(URL, inbox)
        with fake.client(max_retries=0) as client:
            client.webhooks.create(URL, event_types=["credits.low"])
            _train(client, "first")
            low = fake.balance_micro_usd
            fake.top_up(0.1)  # still below: no new crossing when it is spent

            assert low < 2_000_000
            [request] = inbox.requests
            event = request.json()
            assert event["type"] == "credits.low"
            assert event["data"]["balance_micro_usd"] == low
            assert event["data"]["threshold_micro_usd"] == 2_000_000
            assert event["data"]["operation"].startswith("training_")
            # The entry that crossed the threshold, by its id.
            [crossing] = [e for e in client.credits.history() if e.balance_after == low]
            assert event["data"]["ledger_entry_id"] == crossing.id


def _classic_at(dollars: float) -> FakePictograph:
    fake = FakePictograph(seed=3, balance_usd=dollars)
    fake.add_dataset(DATASET, images=20, completed_images=12)
    fake.add_export(DATASET, EXPORT)
    return fake


def _precharge_of_a_run(client: pictograph.Client) -> int:
    return client.training.quote(
        DATASET, EXPORT, pipeline_type="yolox"
    ).balance.required_to_start_micro_usd


def test_a_debit_down_to_exactly_two_dollars_is_not_credits_low() -> None:
    # "Below $2.00": a pre-charge that leaves exactly $2.00 sends nothing.
    with _classic_at(2.0) as fake, fake.client(max_retries=0) as client:
        inbox = Inbox()
        fake.webhooks.route(URL, inbox)
        client.webhooks.create(URL, event_types=["credits.low"])
        fake.top_up(_precharge_of_a_run(client) / 1_000_000)
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
        fake.webhooks.deliver()

        assert fake.balance_micro_usd == 2_000_000
        assert inbox.requests == []


def test_a_debit_from_exactly_two_dollars_is_credits_low() -> None:
    # Exactly $2.00 is not low yet, so the first debit from it crosses the threshold.
    with _classic_at(2.0) as fake, fake.client(max_retries=0) as client:
        inbox = Inbox()
        fake.webhooks.route(URL, inbox)
        client.webhooks.create(URL, event_types=["credits.low"])
        precharge = _precharge_of_a_run(client)
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
        fake.webhooks.deliver()

        [request] = inbox.requests
        event = request.json()
        assert event["type"] == "credits.low"
        assert event["data"]["balance_micro_usd"] == 2_000_000 - precharge
        assert event["data"]["threshold_micro_usd"] == 2_000_000
        assert event["data"]["operation"] == "training_a10g_per_minute"


@pytest.mark.parametrize(("kind", "event_type"), sorted(EVENT_OF_KIND.items()))
def test_every_notification_kind_sends_its_event_type(
    fake: FakePictograph, client: pictograph.Client, kind: str, event_type: str
) -> None:
    # Deployments and evaluations end through the same feed: what they notify is sent.
    client.webhooks.create(URL)
    with fake.world.lock:
        fake.world.feeds.notify(
            fake.organization_id, kind, "Title", at=fake.world.now(), metadata={"id": "x"}
        )

    [delivery] = client.webhooks.deliveries()
    assert delivery.event_type == event_type
    assert delivery.status == "delivered"


def test_subscriptions_choose_what_each_endpoint_receives(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    everything, exports, disabled = Inbox(), Inbox(), Inbox()
    client.webhooks.create(URL)
    client.webhooks.create(OTHER, event_types=["export.ready"])
    client.webhooks.create(URL + "/off")
    client.webhooks.update(URL + "/off", enabled=False)
    for url, inbox in ((URL, everything), (OTHER, exports), (URL + "/off", disabled)):
        fake.webhooks.route(url, inbox)

    _train(client, "run")
    client.exports.create(DATASET, "v2")

    assert everything.types() == ["training_run.completed", "export.ready"]
    assert exports.types() == ["export.ready"]
    assert disabled.requests == []


# ── deliveries, retries, replay ──


def test_a_failing_receiver_is_retried_with_backoff_on_the_clock_then_dead_lettered(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox(*([500] * 10))
    fake.webhooks.route(URL, inbox)
    client.exports.create(DATASET, "v2")
    first = inbox.requests[0].at

    [delivery] = client.webhooks.deliveries(status="failed")
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.next_retry_at is not None
    assert (delivery.next_retry_at - first).total_seconds() == RETRY_DELAYS[0]
    for delay in RETRY_DELAYS:
        fake.clock.advance(seconds=delay - 1)
        fake.webhooks.deliver()
        before = len(inbox.requests)
        fake.clock.advance(seconds=1)
        fake.webhooks.deliver()
        assert len(inbox.requests) == before + 1

    offsets = [(r.at - first).total_seconds() for r in inbox.requests]
    assert offsets == [0, 60, 360, 2160, 9360, 38160]
    [dead] = client.webhooks.deliveries(status="dead_letter")
    assert dead.attempts == 6
    assert dead.next_retry_at is None
    assert dead.last_error == "The endpoint answered 500."
    assert client.webhooks.get(URL).consecutive_failures == 6
    # Retries are signed afresh, at the time of each attempt.
    stamps = {r.headers["X-Pictograph-Signature"].split(",")[0] for r in inbox.requests}
    assert len(stamps) == 6


async def test_async_a_retry_due_before_a_request_is_sent_before_it_is_answered(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    # The clock moved past a retry's time with no request: the next request sends it
    # first, so what it reads already holds the retry's outcome.
    await aclient.webhooks.create(URL)
    inbox = Inbox(500, 200)
    fake.webhooks.route(URL, inbox)
    await aclient.exports.create(DATASET, "v2")
    fake.clock.advance(seconds=RETRY_DELAYS[0])

    [delivery] = await aclient.webhooks.deliveries()
    assert len(inbox.requests) == 2
    assert (delivery.attempts, delivery.last_status_code) == (2, 200)


def test_retries_due_in_one_catch_up_are_all_sent_in_order(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox(500, 500)
    fake.webhooks.route(URL, inbox)
    client.exports.create(DATASET, "v2")

    fake.clock.advance(hours=1)
    client.webhooks.list()  # any request sends what came due

    assert [(r.at - inbox.requests[0].at).total_seconds() for r in inbox.requests] == [0, 60, 360]
    [delivery] = client.webhooks.deliveries()
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert client.webhooks.get(URL).consecutive_failures == 0


def test_replay_requeues_a_dead_letter_with_a_fresh_budget(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox(*([500] * 6))
    fake.webhooks.route(URL, inbox)
    client.exports.create(DATASET, "v2")
    fake.clock.advance(hours=24)
    fake.webhooks.deliver()
    [dead] = client.webhooks.deliveries(status="dead_letter")

    client.webhooks.replay(dead.id)

    [delivered] = client.webhooks.deliveries()
    assert delivered.id == dead.id
    assert delivered.status == "delivered"
    assert delivered.attempts == 1
    assert delivered.delivery_id == dead.delivery_id
    # The same event, byte for byte, signed at the replay's time.
    assert inbox.requests[-1].body == inbox.requests[0].body
    with pytest.raises(ConflictError, match="'delivered'"):
        client.webhooks.replay(dead.id)
    with pytest.raises(NotFoundError):
        client.webhooks.replay(UNKNOWN_ID)


async def test_async_deliveries_and_replay(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    answers = [503]
    received: list[str | None] = []

    async def handler(request: WebhookRequest) -> int:
        # A coroutine receiver is awaited on the client's own loop.
        received.append(request.event_type)
        await asyncio.sleep(0)
        return answers.pop() if answers else 200

    fake.webhooks.route(URL, handler)
    await aclient.exports.create(DATASET, "v2")

    [failed] = await aclient.webhooks.deliveries(endpoint=URL, status="failed")
    await aclient.webhooks.replay(failed.id)

    [delivered] = await aclient.webhooks.deliveries(endpoint=URL)
    assert delivered.status == "delivered"
    assert delivered.attempts == 1
    with pytest.raises(ConflictError):
        await aclient.webhooks.replay(failed.id)
    with pytest.raises(ValidationError):
        await aclient.webhooks.deliveries(limit=201)


def test_an_endpoint_that_keeps_failing_is_disabled_until_re_enabled(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    fake.webhooks.route(URL, Inbox(*([500] * 100)))
    for n in range(3):
        client.exports.create(DATASET, f"v{n}")
        fake.clock.advance(hours=24)
        fake.webhooks.deliver()

    endpoint = client.webhooks.get(URL)
    assert endpoint.enabled is False
    assert endpoint.consecutive_failures == AUTO_DISABLE_AFTER
    assert endpoint.disabled_reason == "Disabled after 15 consecutive failed deliveries."
    statuses = sorted(d.status for d in client.webhooks.deliveries())
    assert statuses == ["dead_letter"] * 3
    with pytest.raises(ConflictError, match="disabled"):
        client.webhooks.replay(client.webhooks.deliveries()[0].id)

    enabled = client.webhooks.update(URL, enabled=True)

    assert enabled.enabled is True
    assert enabled.consecutive_failures == 0
    assert enabled.disabled_reason is None


def test_disabling_an_endpoint_dead_letters_its_queued_attempts_at_once(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox(*([500] * 100))
    fake.webhooks.route(URL, inbox)
    for n in range(3):
        client.exports.create(DATASET, f"v{n}")
    # Three deliveries fail together, five times each: the fifteenth failure disables.
    for delay in RETRY_DELAYS[:4]:
        fake.clock.advance(seconds=delay)
        fake.webhooks.deliver()

    assert len(inbox.requests) == AUTO_DISABLE_AFTER
    assert client.webhooks.get(URL).enabled is False
    deliveries = client.webhooks.deliveries()
    assert [d.status for d in deliveries] == ["dead_letter"] * 3
    assert [d.next_retry_at for d in deliveries] == [None] * 3
    # The one that failed last keeps its answer; the two waiting to retry say why they end.
    assert sorted(d.last_error or "" for d in deliveries) == [
        "The endpoint answered 500.",
        "The endpoint is disabled.",
        "The endpoint is disabled.",
    ]
    # Re-enabled, nothing of theirs is sent by itself; a replay sends one.
    client.webhooks.update(URL, enabled=True)
    fake.clock.advance(seconds=RETRY_DELAYS[4])
    fake.webhooks.deliver()
    assert len(inbox.requests) == AUTO_DISABLE_AFTER
    fake.webhooks.route(URL, Inbox())
    client.webhooks.replay(deliveries[0].id)
    assert client.webhooks.deliveries(status="delivered")[0].id == deliveries[0].id


async def test_async_disabling_by_hand_dead_letters_a_queued_retry(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    inbox = Inbox(500)
    fake.webhooks.route(URL, inbox)
    await aclient.exports.create(DATASET, "v2")
    [failed] = await aclient.webhooks.deliveries(status="failed")
    assert failed.next_retry_at is not None

    await aclient.webhooks.update(URL, enabled=False)

    [dead] = await aclient.webhooks.deliveries()
    assert dead.status == "dead_letter"
    assert dead.next_retry_at is None
    assert dead.last_error == "The endpoint is disabled."
    await aclient.webhooks.update(URL, enabled=True)
    fake.clock.advance(seconds=RETRY_DELAYS[0])
    assert await fake.webhooks.deliver_async() == 0
    assert len(inbox.requests) == 1


def _failing(request: WebhookRequest) -> int:
    return 500


def _failing_then_late(fake: FakePictograph, client: pictograph.Client, step: int) -> list[Any]:
    """Eight exports' events fail twice each, so the endpoint is disabled at the
    fifteenth failure, a minute after they were ready; a run ends minutes later. The
    clock moves an hour in ``step`` seconds at a time, a request after each."""
    client.webhooks.create(URL)
    fake.webhooks.route(URL, _failing)
    for n in range(8):
        client.exports.create(DATASET, f"v{n}", wait=False)
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="late", wait=False)
    for _ in range(3600 // step):
        fake.clock.advance(seconds=step)
        client.webhooks.list()
    return [delivery.model_dump() for delivery in client.webhooks.deliveries(limit=100)]


def test_an_endpoint_disabled_during_a_long_clock_move_gets_nothing_that_happened_after(
    client: pictograph.Client, fake: FakePictograph
) -> None:
    deliveries = _failing_then_late(fake, client, 3600)

    assert client.webhooks.get(URL).enabled is False
    disabled_at = max(sent.request.at for sent in fake.webhooks.sent)
    # The run ended after the endpoint was disabled: its event is not the endpoint's,
    # though the courier learnt of the failures only after the catch-up published it.
    assert [d["event_type"] for d in deliveries] == ["export.ready"] * 8
    assert all(d["created_at"] <= disabled_at for d in deliveries)
    # Moved a minute at a time, the world is the same, ids included.
    with FakePictograph(seed=1) as stepwise:
        stepwise.add_dataset(
            DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"]
        )
        stepwise.add_export(DATASET, EXPORT)
        with stepwise.client(max_retries=0) as other:
            assert _failing_then_late(stepwise, other, 60) == deliveries


async def test_async_an_endpoint_disabled_during_a_long_clock_move_gets_nothing_after(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    fake.webhooks.route(URL, _failing)
    for n in range(8):
        await aclient.exports.create(DATASET, f"v{n}", wait=False)
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)

    fake.clock.advance(hours=1)
    await aclient.webhooks.list()

    assert (await aclient.webhooks.get(URL)).enabled is False
    deliveries = await aclient.webhooks.deliveries(limit=100)
    assert [d.event_type for d in deliveries] == ["export.ready"] * 8


def test_deliveries_filter_by_endpoint_and_status_and_page(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    client.webhooks.create(OTHER)
    fake.webhooks.route(OTHER, Inbox(500))
    for n in range(3):
        client.exports.create(DATASET, f"v{n}")

    everything = client.webhooks.deliveries()
    assert len(everything) == 6
    created = [d.created_at for d in everything if d.created_at is not None]
    assert len(created) == len(everything)
    assert created == sorted(created, reverse=True)
    [failed] = client.webhooks.deliveries(status="failed")
    assert failed.endpoint_id == client.webhooks.get(OTHER).id
    assert len(client.webhooks.deliveries(endpoint=URL)) == 3
    assert client.webhooks.deliveries(limit=2, offset=1) == everything[1:3]
    assert client.webhooks.deliveries(status="pending") == []
    with pytest.raises(ValidationError, match="limit"):
        client.webhooks.deliveries(limit=201)
    with pytest.raises(ValidationError, match="status"):
        client.webhooks.deliveries(status="lost")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        client.webhooks.deliveries(endpoint=UNKNOWN_ID)


def test_deliveries_pages_take_1_to_200_and_refuse_0_201_and_a_negative_offset(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    for n in range(3):
        client.exports.create(DATASET, f"v{n}")
    everything = client.webhooks.deliveries()

    assert client.webhooks.deliveries(limit=200) == everything
    assert client.webhooks.deliveries(limit=1) == everything[:1]
    assert client.webhooks.deliveries(limit=2, offset=2) == everything[2:]
    assert client.webhooks.deliveries(offset=3) == []
    for limit in (0, 201):
        with pytest.raises(ValidationError, match="limit"):
            client.webhooks.deliveries(limit=limit)
    with pytest.raises(ValidationError, match="offset"):
        client.webhooks.deliveries(offset=-1)


async def test_async_deliveries_pages_refuse_a_limit_of_0_and_a_negative_offset(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    await aclient.exports.create(DATASET, "v2")

    assert len(await aclient.webhooks.deliveries(limit=200)) == 1
    with pytest.raises(ValidationError, match="limit"):
        await aclient.webhooks.deliveries(limit=0)
    with pytest.raises(ValidationError, match="offset"):
        await aclient.webhooks.deliveries(offset=-1)


@pytest.mark.parametrize(("status", "delivered"), [(299, True), (300, False), (199, False)])
def test_only_a_2xx_answer_delivers(
    fake: FakePictograph, client: pictograph.Client, status: int, delivered: bool
) -> None:
    client.webhooks.create(URL)
    fake.webhooks.route(URL, Inbox(status, status))

    client.exports.create(DATASET, "v2")
    tested = client.webhooks.test(URL)

    [delivery] = client.webhooks.deliveries()
    assert delivery.last_status_code == status
    assert delivery.status == ("delivered" if delivered else "failed")
    assert delivery.last_error == (None if delivered else f"The endpoint answered {status}.")
    assert (tested["delivered"], tested["status_code"]) == (delivered, status)
    assert [sent.status_code for sent in fake.webhooks.sent] == [status, status]


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        (None, 200, None),
        (100, 100, "The endpoint answered 100."),
        (599, 599, "The endpoint answered 599."),
        (600, 500, "The receiver returned 600: return None, an HTTP status code or a response."),
    ],
)
def test_what_a_plain_callable_returns_is_its_status_from_100_to_599(
    fake: FakePictograph,
    client: pictograph.Client,
    answer: int | None,
    status: int,
    error: str | None,
) -> None:
    client.webhooks.create(URL)
    fake.webhooks.route(URL, lambda request: answer)

    client.exports.create(DATASET, "v2")

    [delivery] = client.webhooks.deliveries()
    assert (delivery.last_status_code, delivery.last_error) == (status, error)
    assert [(sent.receiver, sent.status_code) for sent in fake.webhooks.sent] == [
        ("callable", status)
    ]
    assert fake.webhooks.sent[0].delivery_id == delivery.id


def test_a_receiver_that_raises_is_a_500_naming_what_it_raised(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    def broken(request: WebhookRequest) -> None:
        raise RuntimeError("the database is down")

    client.webhooks.create(URL)
    fake.webhooks.route(URL, broken)

    client.exports.create(DATASET, "v2")
    tested = client.webhooks.test(URL)

    raised = "The receiver raised RuntimeError: the database is down"
    [delivery] = client.webhooks.deliveries()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        "failed",
        500,
        raised,
    )
    assert (tested["delivered"], tested["status_code"], tested["error"]) == (False, 500, raised)
    assert [(sent.status_code, sent.error) for sent in fake.webhooks.sent] == [(500, raised)] * 2


def test_a_receiver_url_may_name_ports_1_to_65535(fake: FakePictograph) -> None:
    for port in (0, 65536):
        with pytest.raises(ValueError, match="port must be 1 to 65535"):
            fake.webhooks.route(URL, f"http://127.0.0.1:{port}/hook")
    assert fake.webhooks.routes() == {}
    for port in (1, 65535):
        fake.webhooks.route(URL, f"http://127.0.0.1:{port}/hook")
        assert fake.webhooks.routes() == {URL: f"http://127.0.0.1:{port}/hook"}


def test_an_endpoint_shows_when_its_last_delivery_was_attempted(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.webhooks.create(URL)
    inbox = Inbox(500)
    fake.webhooks.route(URL, inbox)
    assert client.webhooks.get(URL).last_delivery_at is None

    client.exports.create(DATASET, "v2")
    assert client.webhooks.get(URL).last_delivery_at == inbox.requests[0].at
    fake.clock.advance(seconds=RETRY_DELAYS[0])
    fake.webhooks.deliver()
    fake.clock.advance(minutes=5)
    client.webhooks.test(URL)  # a test event is no delivery

    failed_then_delivered = inbox.requests[1].at
    assert client.webhooks.get(URL).last_delivery_at == failed_then_delivered
    [delivery] = client.webhooks.deliveries()
    # Delivered on its retry: the first attempt's error is gone with its status code.
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert (delivery.last_status_code, delivery.last_error) == (200, None)
    assert delivery.delivered_at == failed_then_delivered


async def test_async_a_replayed_delivery_forgets_its_error_and_its_queued_retry(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    inbox = Inbox(503)
    fake.webhooks.route(URL, inbox)
    await aclient.exports.create(DATASET, "v2")
    [failed] = await aclient.webhooks.deliveries()
    assert failed.last_error == "The endpoint answered 503."
    assert failed.next_retry_at is not None

    await aclient.webhooks.replay(failed.id)

    [delivered] = await aclient.webhooks.deliveries()
    assert (delivered.status, delivered.last_status_code, delivered.last_error) == (
        "delivered",
        200,
        None,
    )
    assert (await aclient.webhooks.get(URL)).last_delivery_at == delivered.delivered_at
    # The retry it was waiting for when replayed is not sent after all.
    fake.clock.advance(seconds=RETRY_DELAYS[0])
    assert await fake.webhooks.deliver_async() == 0
    assert len(inbox.requests) == 2


def test_the_previous_secret_signs_for_24_hours_to_the_second(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    old = client.webhooks.create(URL).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)
    new = client.webhooks.rotate_secret(URL).secret

    fake.clock.advance(seconds=24 * 3600 - 1)
    client.webhooks.test(URL)
    fake.clock.advance(seconds=1)
    client.webhooks.test(URL)

    last_second, after = (r.headers["X-Pictograph-Signature"] for r in inbox.requests)
    assert last_second.count("v1=") == 2
    assert verify(old, last_second, inbox.requests[0].body)
    assert after.count("v1=") == 1
    assert verify(new, after, inbox.requests[1].body)
    assert not verify(old, after, inbox.requests[1].body)


def test_the_signatures_t_is_the_attempts_whole_unix_second(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Sent at a fraction past a second, the attempt is signed with that second (cut,
    # not rounded up): the ``t`` a receiver compares with its own clock.
    secret = client.webhooks.create(URL).secret
    inbox = Inbox()
    fake.webhooks.route(URL, inbox)
    fake.clock.advance(seconds=0.75)

    client.webhooks.test(URL)

    [request] = inbox.requests
    assert request.at.microsecond == 750_000
    signature = request.headers["X-Pictograph-Signature"]
    assert signature.startswith(f"t={int(request.at.timestamp())},v1=")
    assert verify(secret, signature, request.body)


def test_an_endpoint_disabled_by_its_receiver_gets_no_attempt_already_queued(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Two exports are ready in one clock move: both deliveries are queued at once. The
    # receiver of the first disables the endpoint; the second, queued and not yet sent,
    # ends then as a dead letter and is never sent.
    client.webhooks.create(URL)
    inbox = Inbox()
    seen: list[list[tuple[str, bool]]] = []

    def disabling(request: WebhookRequest) -> int:
        seen.append([(d.status, d.next_retry_at is None) for d in client.webhooks.deliveries()])
        client.webhooks.update(URL, enabled=False)
        return inbox(request)

    fake.webhooks.route(URL, disabling)
    for n in range(2):
        client.exports.create(DATASET, f"v{n}", wait=False)

    def any_request() -> None:
        client.webhooks.list()  # sends what came due

    fake.clock.advance(hours=1)
    _without_deadlock(any_request)

    [request] = inbox.requests
    # While the first was sent, the second waited: pending, with no retry to come.
    assert seen == [[("pending", True), ("pending", True)]]
    second, first = client.webhooks.deliveries()
    assert (first.status, first.attempts) == ("delivered", 1)
    assert first.delivery_id == request.header("X-Pictograph-Delivery")
    assert (second.status, second.attempts, second.next_retry_at) == ("dead_letter", 0, None)
    assert second.last_error == "The endpoint is disabled."
    fake.clock.advance(hours=1)
    assert fake.webhooks.deliver() == 0


def test_a_fifteenth_failure_on_a_first_attempt_keeps_its_delivery(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Fourteen failures, then a new event whose first attempt fails: the endpoint is
    # disabled by that attempt, and its delivery stays in the log (a dead letter).
    client.webhooks.create(URL)
    fake.webhooks.route(URL, _failing)
    for n in range(2):
        client.exports.create(DATASET, f"v{n}")
    fake.clock.advance(hours=24)
    fake.webhooks.deliver()  # two deliveries, six failed attempts each
    client.exports.create(DATASET, "v2")
    fake.clock.advance(seconds=RETRY_DELAYS[0])
    fake.webhooks.deliver()  # its first attempt and first retry: fourteen
    assert client.webhooks.get(URL).consecutive_failures == AUTO_DISABLE_AFTER - 1

    client.exports.create(DATASET, "v3")

    endpoint = client.webhooks.get(URL)
    assert (endpoint.enabled, endpoint.consecutive_failures) == (False, AUTO_DISABLE_AFTER)
    last, waiting, *dead = client.webhooks.deliveries()
    assert len(dead) == 2
    assert (last.status, last.attempts, last.last_status_code) == ("dead_letter", 1, 500)
    assert last.last_error == "The endpoint answered 500."
    assert (waiting.status, waiting.attempts) == ("dead_letter", 2)
    assert waiting.last_error == "The endpoint is disabled."
    assert len(fake.webhooks.sent) == AUTO_DISABLE_AFTER


# ── determinism ──


def _recorded_run(seed: int) -> list[tuple[bytes, tuple[tuple[str, str], ...]]]:
    with FakePictograph(seed=seed) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12)
        fake.add_export(DATASET, EXPORT)
        inbox = Inbox(500)
        fake.webhooks.route(URL, inbox)
        with fake.client(max_retries=0) as client:
            client.webhooks.create(URL)
            _train(client, "run")
            client.exports.create(DATASET, "v2")
            client.webhooks.test(URL)
            fake.clock.advance(minutes=5)
            fake.webhooks.deliver()
            listing = json.dumps([d.model_dump(mode="json") for d in client.webhooks.deliveries()])
        return [(r.body, tuple(r.headers.items())) for r in inbox.requests] + [
            (listing.encode(), ())
        ]


def test_deliveries_are_byte_identical_for_the_same_seed_and_calls() -> None:
    first, again, other = _recorded_run(7), _recorded_run(7), _recorded_run(8)

    assert len(first) == 5
    assert first == again
    assert first != other


# ── receivers that call the fake back ──


def _without_deadlock(action: Callable[[], None], seconds: float = 120.0) -> None:
    failure: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "a receiver calling the fake back deadlocked it"
    if failure:
        raise failure[0]


def test_receivers_that_call_the_fake_back_do_not_deadlock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    secret = [client.webhooks.create(URL).secret]
    client.webhooks.create(OTHER)
    client.webhooks.create(URL + "/wsgi")
    seen: list[dict[str, Any]] = []
    verifying = asgi_receiver(secret, seen)
    reads: list[str] = []

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        # A sync client inside an ASGI app: it runs on a loop of its own meanwhile.
        reads.append(client.webhooks.get(URL).url)
        await verifying(scope, receive, send)

    def callback(request: WebhookRequest) -> None:
        reads.append(client.training.get(request.json()["data"]["run_id"]).status)

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        reads.append(str(len(client.webhooks.deliveries())))
        start_response("204 No Content", [])
        return [b""]

    fake.webhooks.route(URL, asgi_app)
    fake.webhooks.route(OTHER, callback)
    fake.webhooks.route(URL + "/wsgi", wsgi_app)

    def train_then_test() -> None:
        _train(client, "run")
        client.webhooks.test(URL)

    _without_deadlock(train_then_test)

    assert [s["valid"] for s in seen] == [True, True]
    assert "completed" in reads
    assert URL in reads
    assert sorted(d.status for d in client.webhooks.deliveries()) == ["delivered"] * 3


# ── the rest of the fake ──


def test_snapshot_refuses_a_world_with_webhooks(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.snapshot()
    client.webhooks.create(URL)

    with pytest.raises(ValueError, match="webhook endpoints"):
        fake.snapshot()


def test_route_refuses_what_is_not_a_receiver(fake: FakePictograph) -> None:
    with pytest.raises(TypeError, match="one argument"):
        fake.webhooks.route(URL, lambda a, b, c, d: None)
    with pytest.raises(TypeError, match="async"):
        fake.webhooks.route(URL, lambda scope, receive, send: None)
    with pytest.raises(ValueError, match="http or https"):
        fake.webhooks.route(URL, "ftp://example.com")


# ── the SDK's command line ──


def test_the_sdks_webhooks_commands_run_against_the_fake(
    fake: FakePictograph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pictograph.cli.commands.webhooks import app
    from typer.testing import CliRunner

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("pictograph.cli._config.CONFIG_DIR", tmp_path / ".pictograph")
    monkeypatch.setattr("pictograph.cli._config.CONFIG_PATH", tmp_path / ".pictograph" / "c.toml")
    runner = CliRunner()
    fake.webhooks.route(URL, Inbox(500))

    def run(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--api-key", fake.api_key])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    created = run("create", URL, "--event", "export.ready", "--auth-header", "X-K: v")
    fake.add_export(DATASET, "v2", status="processing")
    fake.clock.advance(minutes=1)
    fake.webhooks.deliver()
    [failed] = run("deliveries", "--status", "failed", "--json")
    replayed = run("replay", failed["id"])
    listed = run("list", "--json")

    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["export.ready"]
    assert replayed == {"id": failed["id"], "replayed": True}
    assert listed[0]["auth_header_names"] == ["X-K"]
    assert run("test", URL)["delivered"] is True
    assert run("rotate-secret", URL)["secret_version"] == 2
    assert "credits.low" in run("event-types")["event_types"]


# ── cancelled while a receiver is awaited ──


class Stalled:
    """An async receiver that never answers: it says it started, then waits forever."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def __call__(self, request: WebhookRequest) -> int:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("a stalled receiver never answers")


async def _cancel_once_started(stalled: Stalled, task: asyncio.Task[Any]) -> None:
    # wait_for bounds the wait: if the receiver is never reached, the test fails, not hangs.
    await asyncio.wait_for(stalled.started.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_delivery_cancelled_mid_send_is_recorded_and_retried(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    fake.webhooks.route(URL, Inbox(500))
    await aclient.exports.create(DATASET, "v2")  # the first attempt fails: a retry is queued
    stalled = Stalled()
    fake.webhooks.route(URL, stalled)
    fake.clock.advance(seconds=RETRY_DELAYS[0])

    await _cancel_once_started(stalled, asyncio.create_task(fake.webhooks.deliver_async()))

    inbox = Inbox()
    fake.webhooks.route(URL, inbox)
    [delivery] = await aclient.webhooks.deliveries()
    assert delivery.status == "failed"
    assert delivery.attempts == 2
    assert delivery.last_error == CANCELLED
    # The attempt was made (the receiver had it): it is in `sent`, unanswered.
    assert [(s.status_code, s.error) for s in fake.webhooks.sent[-1:]] == [(None, CANCELLED)]
    fake.clock.advance(seconds=RETRY_DELAYS[1])
    assert await fake.webhooks.deliver_async() == 1
    [delivered] = await aclient.webhooks.deliveries()
    assert delivered.status == "delivered"
    assert delivered.attempts == 3
    assert inbox.types() == ["export.ready"]


async def test_a_test_event_cancelled_mid_send_is_journaled_as_dropped(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.webhooks.create(URL)
    stalled = Stalled()
    fake.webhooks.route(URL, stalled)

    await _cancel_once_started(stalled, asyncio.create_task(aclient.webhooks.test(URL)))

    [call] = fake.calls.filter(method="POST", path="webhooks/endpoints/{endpoint_id}/test")
    assert call.status == 0
    assert call.fault == "cancelled while the webhook receiver was awaited"
    # Nothing is left holding the world: the next call is answered.
    assert (await aclient.credits.balance()).remaining_usd == 100.0


# ── what a receiver may be, and what it may answer ──


async def _status_of(tag: str, answer: int, request: WebhookRequest) -> int:
    return answer


async def test_the_clock_stands_still_while_a_sync_receiver_works_on_its_thread(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    """A plain receiver runs on a worker thread, the event loop free meanwhile; the clock
    waits for it as for a busy loop, so what it sees and does does not follow its real
    speed: gathered waits' sleeps move nothing until it has answered."""
    await aclient.webhooks.create(URL, event_types=["training_run.completed"])
    seen: list[tuple[float, float]] = []

    def receiver(request: WebhookRequest) -> int:
        before = fake.clock.monotonic()
        for _ in range(500):
            time.sleep(0)  # yields to the loop's thread, as real work would
        with fake.client() as inside:
            inside.credits.balance()
        seen.append((before, fake.clock.monotonic()))
        return 200

    fake.webhooks.route(URL, receiver)
    short, long = [
        await aclient.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name=name, config={"epochs": epochs}, wait=False
        )
        for name, epochs in (("short", 5), ("long", 200))
    ]
    await asyncio.gather(
        aclient.training.wait_for_completion(short.id, poll_interval=5),
        aclient.training.wait_for_completion(long.id, poll_interval=5),
    )
    assert len(seen) == 2
    assert all(before == after for before, after in seen)
    balances = [c.elapsed for c in fake.calls.filter("GET", "credits/balance")]
    assert balances == [before for before, _ in seen]


async def test_an_async_receiver_behind_a_partial_is_awaited(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    # A partial (or a lambda) of a coroutine function is not one itself: what it returns is.
    await aclient.webhooks.create(URL)
    fake.webhooks.route(URL, functools.partial(_status_of, "p", 503))

    from_sync = client.webhooks.test(URL)
    from_async = await aclient.webhooks.test(URL)

    assert from_sync["status_code"] == from_async["status_code"] == 503
    assert [s.status_code for s in fake.webhooks.sent] == [503, 503]


def test_a_receiver_with_an_optional_parameter_is_a_plain_callable(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    got: list[str] = []

    def receiver(request: WebhookRequest, verbose: bool = False) -> int:
        got.append(type(request).__name__)
        return 204

    client.webhooks.create(URL)
    fake.webhooks.route(URL, receiver)

    assert client.webhooks.test(URL)["status_code"] == 204
    assert got == ["WebhookRequest"]
    assert fake.webhooks.sent[-1].receiver == "callable"


@pytest.mark.parametrize("answer", [0, False, "200", 1000, object()])
async def test_a_receiver_answering_no_status_is_a_500_from_either_client(
    fake: FakePictograph,
    client: pictograph.Client,
    aclient: pictograph.AsyncClient,
    answer: object,
) -> None:
    async def receiver(request: WebhookRequest) -> object:
        return answer

    await aclient.webhooks.create(URL)
    fake.webhooks.route(URL, receiver)

    results = [client.webhooks.test(URL), await aclient.webhooks.test(URL)]

    for result in results:
        assert (result["delivered"], result["status_code"]) == (False, 500)
    assert all("The receiver returned" in (s.error or "") for s in fake.webhooks.sent)


def _answered_with(answer: object) -> tuple[dict[str, Any], list[bytes]]:
    """What the API answers when the receiver returns ``answer``: to ``webhooks.test``,
    and every reply of a session whose export sends an event that fails the same way."""
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=4, completed_images=4)
        client.webhooks.create(URL)
        fake.webhooks.route(URL, lambda request: answer)
        tested = client.webhooks.test(URL)
        client.exports.create(DATASET, EXPORT)
        [failed] = client.webhooks.deliveries(status="failed")
        assert failed.last_error == tested["error"]
        return tested, [call.response_body for call in fake.calls]


def test_a_receiver_returning_an_object_is_named_the_same_in_every_run() -> None:
    # Two objects, two memory addresses: neither may reach the answers, which the same
    # seed and calls must repeat byte for byte.
    first, again = _answered_with(object()), _answered_with(object())

    assert first[0]["error"] == (
        "The receiver returned <object object>: return None, an HTTP status code or a response."
    )
    assert first == again


class GaveUp(BaseException):
    """What ``pytest.fail`` and ``pytest.skip`` raise: past ``except Exception``."""


def test_a_receiver_raising_past_exception_fails_the_attempt_which_is_retried(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    calls: list[str | None] = []

    def receiver(request: WebhookRequest) -> int:
        calls.append(request.event_type)
        if len(calls) == 1:
            raise GaveUp("the receiver gave up")
        return 200

    client.webhooks.create(URL)
    fake.webhooks.route(URL, receiver)
    with pytest.raises(GaveUp):
        client.exports.create(DATASET, "v2")  # its answer is lost with the round

    [failed] = client.webhooks.deliveries()
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error == "The attempt was interrupted: GaveUp: the receiver gave up"
    assert fake.webhooks.sent[0].error == failed.last_error
    fake.clock.advance(seconds=RETRY_DELAYS[0])
    assert fake.webhooks.deliver() == 1
    [delivered] = client.webhooks.deliveries()
    assert (delivered.status, delivered.attempts) == ("delivered", 2)
    assert calls == ["export.ready", "export.ready"]


def _route_to_a_receiver_that_gives_up(fake: FakePictograph, client: pictograph.Client) -> None:
    """An endpoint at ``URL`` whose receiver raises past ``except Exception`` every time."""

    def receiver(request: WebhookRequest) -> int:
        raise GaveUp("no")

    client.webhooks.create(URL)
    fake.webhooks.route(URL, receiver)


def test_a_test_event_whose_receiver_raises_past_exception_is_journaled_as_dropped(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _route_to_a_receiver_that_gives_up(fake, client)
    with pytest.raises(GaveUp):
        client.webhooks.test(URL)

    [call] = fake.calls.filter(method="POST", path="webhooks/endpoints/{endpoint_id}/test")
    assert call.status == 0
    assert call.fault == "interrupted while the webhook receiver ran: GaveUp"


def test_a_test_event_interrupted_under_a_fault_is_journaled_with_both(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _route_to_a_receiver_that_gives_up(fake, client)
    fake.faults.delay_next(5, "POST", "webhooks/endpoints/*/test")
    with pytest.raises(GaveUp):
        client.webhooks.test(URL)

    assert fake.calls.last.status == 0
    assert fake.calls.last.fault == (
        "delayed 5s; interrupted while the webhook receiver ran: GaveUp"
    )
