"""Hostile input, finding by finding: each repro of the hardening report, as a test.

In process through the transport (and the real SDK where it can send the input), and
over HTTP against a :class:`FakeServer` where the server adds its own path (control
routes, uvicorn). Every refusal is the API's envelope with a 4xx, and leaves the world's
digest as it was.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ForbiddenError, ServerError, ValidationError

from pictograph_testing import FakePictograph
from pictograph_testing.api import messages
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.bounds import LATEST_INSTANT, MAX_JSON_DEPTH
from pictograph_testing.server import FakeServer
from tests.image_files import write_image
from tests.invariants import state_digest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DATASET = "road-signs"
EXPORT = "road-signs-v1"
DEV = "/api/v1/developer/"
WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8")


@pytest.fixture
def fake() -> Iterator[FakePictograph]:
    with FakePictograph(scenario="ready-to-train") as built:
        yield built


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(scenario="ready-to-train") as served:
        yield served


def _http(server: FakeServer) -> httpx.Client:
    """A client of the served fake that may use its control routes (JSON bodies, the key)."""
    headers = {**server.control_headers, "content-type": "application/json"}
    return httpx.Client(base_url=server.base_url, headers=headers)


def _send(
    fake: FakePictograph, method: str, path: str, body: bytes = b"", **headers: str
) -> httpx.Response:
    # A route outside the developer API (`/api/v1/api-keys/`) is written in full.
    target = path if path.startswith("/") else DEV + path
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        return http.request(
            method, target, content=body, headers={"x-api-key": fake.api_key, **headers}
        )


def _refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"]
    assert error["message"]
    return error


# ── 1. lone surrogates, whatever the encoding ──

JSON_ROUTES = [
    (e.method, e.path, next(iter(e.body.fields)))
    for e in ENDPOINTS
    if e.body is not None and e.body.fields and "{" not in e.path
]


@pytest.mark.parametrize("encoding", WIDE)
@pytest.mark.parametrize(("method", "path", "field"), JSON_ROUTES)
def test_a_lone_surrogate_is_refused_in_every_encoding(
    fake: FakePictograph, method: str, path: str, field: str, encoding: str
) -> None:
    before = state_digest(fake.world)
    calls = len(fake.calls)
    body = json.dumps({field: "x\ud800"}, ensure_ascii=False).encode(encoding, "surrogatepass")
    error = _refused(_send(fake, method, path, body))
    assert error["message"] == messages.LONE_SURROGATE.format(subject=messages.REQUEST_BODY)
    assert len(fake.calls) == calls + 1
    assert state_digest(fake.world) == before
    assert fake.server_errors == []


def test_a_retried_create_with_a_surrogate_acts_never(fake: FakePictograph) -> None:
    body = '{"dataset_name":"road-signs","export_name":"road-signs-v1","pipeline_type":"yolox",'
    body += '"name":"r\ud800"}'
    before = state_digest(fake.world)
    for _ in range(3):
        sent = body.encode("utf-16-le", "surrogatepass")
        _refused(_send(fake, "POST", "training/", sent, **{"idempotency-key": "k"}))
    assert state_digest(fake.world) == before
    assert fake.world.runs == {}


def test_a_lone_surrogate_over_http(server: FakeServer) -> None:
    body = '{"name":"x\ud800"}'.encode("utf-16-le", "surrogatepass")
    calls = len(server.fake.calls)
    with _http(server) as http:
        answer = http.post(DEV + "datasets/", content=body, headers={"x-api-key": server.api_key})
        assert answer.status_code == 422
        assert answer.json()["error"]["message"] == messages.LONE_SURROGATE.format(
            subject=messages.REQUEST_BODY
        )
        assert http.get(DEV + "datasets/", headers={"x-api-key": server.api_key}).is_success
    assert len(server.fake.calls) == calls + 2
    assert server.fake.server_errors == []


# ── 2. the clock's bounds ──


def test_the_clock_refuses_to_pass_its_horizon_in_process(fake: FakePictograph) -> None:
    now = fake.clock.now()
    for seconds in (1e14, math.inf, math.nan, 10**400):
        with pytest.raises(ValueError, match=r"past|backwards|no number of seconds"):
            fake.clock.advance(seconds=seconds)
        assert fake.clock.now() == now
    assert fake.clock.advance(days_to(LATEST_INSTANT, fake) - 1) < LATEST_INSTANT
    assert fake.client().credits.balance() is not None


@pytest.mark.parametrize(
    ("argument", "value", "error"),
    [
        ("seed", "1", TypeError),
        ("seed", 1.5, TypeError),
        ("seed", True, TypeError),
        ("seed", -1, ValueError),
        ("seed", 2**53 + 1, ValueError),
        ("api_key", 5, TypeError),
        ("base_url", 5, TypeError),
        ("base_url", None, TypeError),
        ("sdk_version", 1.4, TypeError),
        ("start", "2026-01-01", TypeError),
        ("speed", True, TypeError),
        ("speed", None, TypeError),
    ],
)
def test_a_fake_refuses_an_argument_of_the_wrong_type_or_range_naming_it(
    argument: str, value: object, error: type[Exception]
) -> None:
    if value is True:
        one: dict[str, Any] = {argument: 1}  # the case's argument, whatever its type
        FakePictograph(**one)  # True == 1: no check may remember the answer
    with pytest.raises(error, match=f"^{argument} must be"):
        FakePictograph(**{argument: value})  # type: ignore[arg-type]


def test_any_seed_a_fake_takes_loads_back_from_its_snapshot() -> None:
    for seed in (0, 2**53):
        snapshot = FakePictograph(seed=seed).snapshot()
        again = FakePictograph(scenario=snapshot)
        assert again.seed == seed
        assert again.snapshot() == snapshot


def days_to(moment: Any, fake: FakePictograph) -> float:
    return float((moment - fake.clock.now()).total_seconds())


def test_the_clock_advance_route_refuses_before_moving(server: FakeServer) -> None:
    with _http(server) as http:
        before = http.get("/_fake/clock").json()
        for body in (b'{"seconds": 1e14}', b'{"seconds": 1e400}', b'{"hours": NaN}'):
            refused = http.post("/_fake/clock/advance", content=body)
            assert refused.status_code == 422, refused.text
            assert "error" in refused.json()
        assert http.get("/_fake/clock").json() == before
        key = {"x-api-key": server.api_key}
        assert http.get(DEV + "credits/balance", headers=key).is_success
        assert http.post(DEV + "datasets/", json={"name": "after"}, headers=key).is_success


# ── 3. control routes: deep JSON, bad snapshots; a scenario loads whole or not at all ──


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
        b'{"schema_version":1,"seed":null}',
        b'{"schema_version":1,"balance_usd":Infinity}',
        b'{"schema_version":1,"balance_usd":1e400}',
        b'{"schema_version":1,"clock":{"start":"9999-12-31T23:59:59Z"}}',
        b'{"schema_version":1,"clock":{"elapsed_seconds":1e12}}',
        b'{"schema_version":1,"datasets":[{"name":"d","images":[{"filename":"..\\\\x.png"}]}]}',
        b'{"schema_version":1,"name":"\\ud800"}',
    ],
)
def test_a_bad_snapshot_is_refused_and_the_world_stays(server: FakeServer, body: bytes) -> None:
    with _http(server) as http:
        http.post("/_fake/reset")
        served = server.fake
        before = state_digest(served.world)
        refused = http.post("/_fake/snapshot", content=body)
        assert refused.status_code == 422, refused.text
        assert server.fake is served
        assert state_digest(served.world) == before
        assert http.get(DEV + "datasets/", headers={"x-api-key": server.api_key}).is_success
        assert http.get("/_fake/").json()["server_errors"] == []


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/_fake/faults", b"[" * 100_000),
        ("/_fake/clock/advance", b'{"seconds":' * 50 + b"1" + b"}" * 50),
        ("/_fake/faults", b'{"kind": "\\udc00"}'),
    ],
)
def test_every_control_route_limits_its_json(server: FakeServer, route: str, body: bytes) -> None:
    with _http(server) as http:
        refused = http.post(route, content=body)
        assert refused.status_code == 422, refused.text
        assert http.get("/_fake/").json()["server_errors"] == []


def test_a_snapshot_loads_back_over_http(server: FakeServer) -> None:
    with _http(server) as http:
        http.post("/_fake/reset")
        document = http.get("/_fake/snapshot").json()
        assert http.post("/_fake/snapshot", json=document).is_success
        assert http.get("/_fake/snapshot").json() == document


# ── 4. NaN and Infinity: refused, never stored, never served ──


# The SDK cannot send these (httpx encodes JSON with allow_nan=False): hand-built bodies.
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
@pytest.mark.parametrize("key", ["weight_decay", "momentum", "patience", "mosaic", "seed", "odd"])
@pytest.mark.parametrize("path", ["training/", "training/quote"])
def test_non_finite_config_values_are_422(
    fake: FakePictograph, path: str, key: str, value: str
) -> None:
    before = state_digest(fake.world)
    body = '{"dataset_name":"road-signs","export_name":"road-signs-v1","pipeline_type":"yolox",'
    body += f'"name":"n","config":{{"{key}":{value}}}}}'
    error = _refused(_send(fake, "POST", path, body.encode()))
    assert "use finite numbers" in error["message"]
    assert state_digest(fake.world) == before
    assert fake.world.runs == {}


def test_non_finite_numbers_are_422_over_http(server: FakeServer) -> None:
    body = b'{"name":"d","description":"x","classes":[{"name":"a","type":"bbox","w":NaN}]}'
    with _http(server) as http:
        answer = http.post(DEV + "datasets/", content=body, headers={"x-api-key": server.api_key})
        assert answer.status_code == 422
        assert "use finite numbers" in answer.json()["error"]["message"]


# ── the fake's own failures: an enveloped 500, journaled, kept in server_errors ──


def test_a_failure_inside_the_fake_is_an_enveloped_500(fake: FakePictograph) -> None:
    # A world broken by hand (no request can store this: scenarios and routes check it).
    dataset = next(iter(fake.world.datasets.values()))
    dataset.created_at = "not a time"  # type: ignore[assignment]
    answer = _send(fake, "GET", "datasets/")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert fake.calls.last.status == 500
    assert [type(e).__name__ for e in fake.server_errors] == ["TypeError"]


def test_a_failure_inside_the_fake_ends_a_stream_as_its_engine_stopping(
    fake: FakePictograph,
) -> None:
    """A stream's results are read in the test's process: a failure inside the fake
    must reach its reader as the engine's stop the SDK knows, never as a traceback."""
    camera = "rtsp://cam.example.com:554/gate"
    fake.add_camera(camera, fps=5, frames=4, width=64, height=48)
    with fake.client(max_retries=0) as client:
        client.training.create(DATASET, "road-signs-v1", pipeline_type="yolox", name="m")
        created = client.deployments.create("m", min_containers=1)
        deployment = client.deployments.wait_until_active(created.deployment)
        # A world broken by hand (no route can store it: create checks the options).
        fake.world.deployments.deployments[deployment.id].inference_config = {"confidence": "x"}
        endpoint = client.deployments.connect(deployment, created.auth_token)
        stream = endpoint.open_stream(camera)
        with endpoint, stream, pytest.raises(ServerError) as stopped:
            list(stream.frames())
    assert stopped.value.code == "session_failed"
    assert "see FakePictograph.server_errors" in str(stopped.value)
    assert [type(e).__name__ for e in fake.server_errors] == ["ValueError"]


def test_a_failure_inside_the_fake_over_http(server: FakeServer) -> None:
    with _http(server) as http:
        http.post("/_fake/reset")
        broken = next(iter(server.fake.world.datasets.values()))
        broken.created_at = "not a time"  # type: ignore[assignment]
        answer = http.get(DEV + "datasets/", headers={"x-api-key": server.api_key})
        assert answer.status_code == 500
        assert answer.json()["error"]["code"] == "internal_error"
        assert http.get("/_fake/journal").json()["calls"][-1]["status"] == 500
        [error] = http.get("/_fake/").json()["server_errors"]
        assert error.startswith(f"{type(server.fake.server_errors[0]).__name__}: ")
        http.post("/_fake/reset")


# ── 7. smaller findings ──


def test_a_viewer_never_gets_an_owners_stored_reply(fake: FakePictograph) -> None:
    body = json.dumps({"name": "owners"}).encode()
    created = _send(fake, "POST", "datasets/", body, **{"idempotency-key": "same"})
    assert created.status_code in (200, 201)
    viewer = fake.add_api_key("viewer")
    replay = _send(
        fake, "POST", "datasets/", body, **{"idempotency-key": "same", "x-api-key": viewer}
    )
    _refused(replay, 403)
    assert "idempotent-replayed" not in replay.headers
    again = _send(fake, "POST", "datasets/", body, **{"idempotency-key": "same"})
    assert again.headers["idempotent-replayed"] == "true"


def test_a_viewer_may_not_delete_a_notification(fake: FakePictograph) -> None:
    notification = fake.world.feeds.notify(
        fake.organization_id, "export_ready", "Export ready", at=0.0
    )
    viewer = fake.client(api_key=fake.add_api_key("viewer"), max_retries=0)
    with pytest.raises(ForbiddenError):
        viewer.notifications.delete(notification.id)
    assert viewer.notifications.list()[0].id == notification.id
    fake.client(api_key=fake.add_api_key("member")).notifications.delete(notification.id)
    assert fake.client().notifications.list() == []


async def test_a_viewer_may_not_delete_a_notification_async(fake: FakePictograph) -> None:
    notification = fake.world.feeds.notify(fake.organization_id, "x", "X", at=0.0)
    async with fake.async_client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        with pytest.raises(ForbiddenError):
            await viewer.notifications.delete(notification.id)


def _png(width: int, height: int, *, truncate: bool = False) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    rows = zlib.compress(b"\x00" + b"\x00\x00\x00" * min(width, 4))
    content = b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return content[: len(content) // 2] if truncate else content


BAD_IMAGES = {
    "garbage.png": b"not an image at all",
    "empty.png": b"",
    "truncated.png": None,
    "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_a_file_that_is_no_image_is_refused(
    fake: FakePictograph, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    if BAD_IMAGES[name] is None:
        write_image(path.with_suffix(".src.png"), (40, 30))
        content = path.with_suffix(".src.png").read_bytes()
        path.write_bytes(content[: len(content) // 2])
    else:
        path.write_bytes(BAD_IMAGES[name] or b"")
    client = fake.client(max_retries=0)
    count = client.datasets.get(DATASET).image_count
    with pytest.raises(ValidationError) as refused:
        client.images.upload(DATASET, path, content_type="image/png")
    assert "is not an image the API takes" in str(refused.value)
    assert client.datasets.get(DATASET).image_count == count
    assert fake.server_errors == []


async def test_a_file_that_is_no_image_is_refused_async(
    fake: FakePictograph, tmp_path: Path
) -> None:
    path = tmp_path / "garbage.jpg"
    path.write_bytes(b"\xff\xd8 not really")
    async with fake.async_client(max_retries=0) as client:
        with pytest.raises(ValidationError):
            await client.images.upload(DATASET, path)


def test_an_image_too_large_to_decode_is_refused(fake: FakePictograph) -> None:
    # The SDK refuses to upload it (Pillow's bomb check): the three requests by hand.
    content = _png(100_000, 100_000)
    entry = {"dataset": DATASET, "filename": "huge.png", "content_type": "image/png"}
    signed = _send(fake, "POST", "images/upload-url", json.dumps(entry).encode())
    url = signed.json()["data"]["upload_url"]
    with httpx.Client(transport=fake.transport()) as http:
        assert http.put(url, content=content, headers={"content-type": "image/png"}).is_success
    before = state_digest(fake.world)
    error = _refused(_send(fake, "POST", "images/register", json.dumps(entry).encode()))
    assert "pixels" in error["message"]
    assert state_digest(fake.world) == before


@pytest.mark.parametrize(
    ("width", "height", "words"),
    [(10**9, 10**9, "between 1 and 16384"), (16_384, 16_384, "pixels")],
)
def test_a_registered_size_no_image_file_could_have_is_refused(
    fake: FakePictograph, tmp_path: Path, width: int, height: int, words: str
) -> None:
    """A size is taken as registered (a COCO export draws masks at it): one no file could
    have is refused, as an uploaded file of that size would be."""
    content = write_image(tmp_path / "big.png").read_bytes()
    entry = {"dataset": DATASET, "filename": "big.png", "content_type": "image/png"}
    signed = _send(fake, "POST", "images/upload-url", json.dumps(entry).encode())
    with httpx.Client(transport=fake.transport()) as http:
        put = http.put(
            signed.json()["data"]["upload_url"],
            content=content,
            headers={"content-type": "image/png"},
        )
        assert put.is_success
    before = state_digest(fake.world)
    sized = {**entry, "width": width, "height": height}
    error = _refused(_send(fake, "POST", "images/register", json.dumps(sized).encode()))
    assert words in json.dumps(error)
    assert state_digest(fake.world) == before
    registered = {**entry, "width": 16_384, "height": 4_096}
    assert _send(fake, "POST", "images/register", json.dumps(registered).encode()).is_success
    assert fake.server_errors == []


def test_signed_upload_urls_are_percent_encoded(fake: FakePictograph, tmp_path: Path) -> None:
    path = write_image(tmp_path / "a b#c?d%.png")
    answer = _send(
        fake,
        "POST",
        "images/upload-url",
        json.dumps(
            {"dataset": DATASET, "filename": path.name, "content_type": "image/png"}
        ).encode(),
    )
    assert answer.json()["data"]["upload_url"].endswith("/a%20b%23c%3Fd%25.png")
    image = fake.client(max_retries=0).images.upload(DATASET, path)
    assert image.filename == path.name
    nul = json.dumps({"dataset": DATASET, "filename": "a\x00.png", "content_type": "image/png"})
    _refused(_send(fake, "POST", "images/upload-url", nul.encode()))


def test_a_name_that_would_escape_the_export_folder_is_refused(
    fake: FakePictograph, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "..\\..\\evil.png")
    client = fake.client(max_retries=0)
    with pytest.raises(ValidationError) as refused:
        client.images.upload(DATASET, path)
    assert "backslash" in str(refused.value)
    with pytest.raises(ValidationError):
        client.images.upload(DATASET, write_image(tmp_path / "ok.png"), directory_path="/a\\..")


def test_head_is_served_where_get_is(fake: FakePictograph, server: FakeServer) -> None:
    got = _send(fake, "GET", "datasets/")
    head = _send(fake, "HEAD", "datasets/")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(got.content))
    assert _send(fake, "HEAD", "datasets/nope").status_code == 404
    with _http(server) as http:
        key = {"x-api-key": server.api_key}
        remote = http.head(DEV + "credits/balance", headers=key)
        assert (remote.status_code, remote.content) == (200, b"")
        length = len(http.get(DEV + "credits/balance", headers=key).content)
        assert remote.headers["content-length"] == str(length)


# ── 8. numbers too long to read, methods no route takes, bodies labelled as no JSON ──

LONG_DIGITS = "9" * 5000  # int() reads at most 4,300 digits


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("datasets/?", "limit"),
        ("training/?", "offset"),
        ("credits/history?", "offset"),
        ("images/?dataset=road-signs&", "offset"),
        ("credits/estimate?operation=training&", "quantity"),
    ],
)
@pytest.mark.parametrize("digits", [LONG_DIGITS, "0" * 5000 + "1" + "0" * 309])
def test_a_query_number_of_thousands_of_digits_is_422(
    fake: FakePictograph, path: str, name: str, digits: str
) -> None:
    count = len(digits.lstrip("0"))
    error = _refused(_send(fake, "GET", f"{path}{name}={digits}"))
    assert error["message"] == messages.QUERY_DIGITS.format(name=name, count=count, limit=309)
    assert error["details"]["errors"][0]["loc"] == ["query", name]
    assert fake.server_errors == []
    # Leading zeros are no digits of the number: a long run of them reads as the number.
    padded = _send(fake, "GET", f"datasets/?offset={'0' * 5000}1")
    assert padded.json()["pagination"]["offset"] == 1


@pytest.mark.parametrize("number", [LONG_DIGITS, "-" + LONG_DIGITS, "1" + "0" * 309])
def test_a_body_number_of_thousands_of_digits_is_refused_for_its_size(
    fake: FakePictograph, number: str
) -> None:
    before = state_digest(fake.world)
    body = f'{{"name":"n","description":{number}}}'.encode()
    error = _refused(_send(fake, "POST", "datasets/", body, **{"content-type": "application/json"}))
    assert error["message"].startswith(f"The request body holds the number {number[:40]}...")
    assert error["details"]["errors"][0]["type"] == "finite_number"
    assert state_digest(fake.world) == before
    assert fake.server_errors == []


def test_a_user_agent_naming_a_release_of_thousands_of_digits_is_answered(
    fake: FakePictograph, server: FakeServer
) -> None:
    plain = _send(fake, "GET", "datasets/")
    for release in (LONG_DIGITS, "1." + LONG_DIGITS, f"1.2.{LONG_DIGITS}"):
        agent = {"user-agent": f"pictograph-python/{release}"}
        answer = _send(fake, "GET", "datasets/", b"", **agent)
        assert (answer.status_code, answer.content) == (200, plain.content)
    assert fake.server_errors == []
    with _http(server) as http:
        key = {"x-api-key": server.api_key, "user-agent": f"pictograph-python/{LONG_DIGITS}"}
        assert http.get(DEV + "credits/balance", headers=key).status_code == 200
        assert http.get("/_fake/").json()["server_errors"] == []


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "CONNECT", "FOO"])
@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("datasets/", "GET, HEAD, POST"),
        ("datasets/road-signs", "GET, HEAD, PATCH, DELETE"),
        ("images/upload-url", "POST"),
        ("no-such-resource/", ""),
    ],
)
def test_a_method_no_route_takes_is_405_naming_what_the_path_takes(
    fake: FakePictograph, method: str, path: str, allow: str
) -> None:
    before = state_digest(fake.world)
    answer = _send(fake, method, path, b'{"name":"x"}')
    error = _refused(answer, 405)
    assert error["code"] == "method_not_allowed"
    assert error["message"].startswith(f"The API does not serve {method} requests")
    assert answer.headers["allow"] == allow
    if allow:
        assert error["message"].endswith(f"{DEV}{path} takes {allow}.")
    # No gap of the fake: no release of the API serves the method.
    assert fake.unserved_calls == ()
    assert fake.calls.last.status == 405
    assert state_digest(fake.world) == before


def test_a_method_no_route_takes_is_405_over_http(server: FakeServer) -> None:
    with _http(server) as http:
        key = {"x-api-key": server.api_key}
        answer = http.request("OPTIONS", DEV + "datasets/", headers=key)
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET, HEAD, POST"
        assert answer.json()["error"]["code"] == "method_not_allowed"
        assert http.get("/_fake/unserved").json()["unserved_calls"] == []


@pytest.mark.parametrize(
    "kind",
    ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data"],
)
def test_a_json_body_labelled_as_text_or_a_form_is_422(fake: FakePictograph, kind: str) -> None:
    before = state_digest(fake.world)
    answer = _send(fake, "POST", "datasets/", b'{"name":"labelled"}', **{"content-type": kind})
    error = _refused(answer)
    assert error["message"] == messages.BODY_NOT_JSON.format(kind=kind)
    assert error["details"]["errors"][0]["loc"] == ["body"]
    assert state_digest(fake.world) == before
    assert "labelled" not in [d.name for d in fake.client().datasets.list()]


@pytest.mark.parametrize("kind", [None, "", "application/json", "application/merge-patch+json"])
def test_a_json_body_with_no_type_or_a_json_type_is_read(
    fake: FakePictograph, kind: str | None
) -> None:
    headers = {} if kind is None else {"content-type": kind}
    answer = _send(fake, "POST", "datasets/", b'{"name":"read"}', **headers)
    assert answer.status_code == 201, answer.text


def test_a_json_body_labelled_as_text_is_422_over_http(server: FakeServer) -> None:
    # What fetch() sends for a JSON string with no headers set.
    with _http(server) as http:
        key = {"x-api-key": server.api_key, "content-type": "text/plain;charset=UTF-8"}
        answer = http.post(DEV + "datasets/", content=b'{"name":"fetched"}', headers=key)
        assert answer.status_code == 422
        assert "application/json" in answer.json()["error"]["message"]
        names = [d["name"] for d in http.get(DEV + "datasets/", headers=key).json()["data"]]
        assert "fetched" not in names


# ── 9. a header sent twice ──


def _twice(first: str, second: str) -> list[tuple[str, str]]:
    return [("x-api-key", first), ("x-api-key", second)]


BOGUS_KEY = "pk_test_0000000000000000000000000000"


def test_a_header_sent_twice_reads_as_its_first_value(fake: FakePictograph) -> None:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        let_in = http.get(DEV + "credits/balance", headers=_twice(fake.api_key, BOGUS_KEY))
        refused = http.get(DEV + "credits/balance", headers=_twice(BOGUS_KEY, fake.api_key))
        # Not ASCII: httpx decodes it, and the first value still wins.
        odd: list[tuple[str, str | bytes]] = [
            ("x-api-key", fake.api_key),
            ("x-api-key", "pk_tést".encode()),
            ("x-note", "café".encode()),
        ]
        # httpx takes str and bytes values mixed at run time; its types say one or the other.
        decoded = http.get(DEV + "credits/balance", headers=odd)  # type: ignore[arg-type]
    assert let_in.status_code == 200
    assert _refused(refused, 401)["details"]["reason"] == "unknown"
    assert decoded.status_code == 200


def test_a_header_sent_twice_reads_as_its_first_value_over_http(server: FakeServer) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        let_in = http.get(DEV + "credits/balance", headers=_twice(server.api_key, BOGUS_KEY))
        refused = http.get(DEV + "credits/balance", headers=_twice(BOGUS_KEY, server.api_key))
    assert let_in.status_code == 200
    assert _refused(refused, 401)["details"]["reason"] == "unknown"


# ── 10. what a refusal quotes back ──


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("training/", "status="),  # a choice
        ("datasets/", "limit="),  # a whole number
        ("training/", "offset=-9"),  # a whole number out of range (of 300 digits)
    ],
)
def test_a_refused_value_is_quoted_back_cut_short(
    fake: FakePictograph, path: str, query: str
) -> None:
    sent = "9" * 299 if query.endswith("9") else "x" * 16_000
    error = _refused(_send(fake, "GET", f"{path}?{query}{sent}"))
    cut = (query.partition("=")[2] + sent)[: messages.SHOWN_LIMIT] + "..."
    assert cut in error["message"]
    assert len(error["message"]) < 300
