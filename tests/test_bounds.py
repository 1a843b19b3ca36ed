"""Memory stays bounded: bodies, uploads, the journal, idempotency answers, signed URLs.

Plus what the server answers itself: an injected delay held in real time, and targets
and headers too long to serve, in the API's envelope. Each repro is a test, in process
and over the server where it applies.
"""

from __future__ import annotations

import json
import math
import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ApiError, RequestTimeoutError
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing.api.app import MAX_BODY_BYTES
from pictograph_testing.bounds import MAX_BALANCE_USD
from pictograph_testing.catalog import IDEMPOTENCY_TTL_SECONDS, MAX_IMAGE_BYTES
from pictograph_testing.journal import JOURNAL_BODY_LIMIT, MAX_JOURNAL_LIMIT
from pictograph_testing.server import MAX_HEADER_BYTES, MAX_TARGET_BYTES, FakeServer
from pictograph_testing.world.storage import EXPIRED_URL_MEMORY_SECONDS, SIGNED_URL_TTL_SECONDS
from pictograph_testing.world.video_files import mp4_header
from tests.image_files import write_image

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DEV = "/api/v1/developer"
DATASET = "road-signs"
MiB = 1024 * 1024


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(scenario="ready-to-train", seed=3) as served:
        yield served


def _raw(fake: FakePictograph) -> httpx.Client:
    return httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    )


def _oversized_image(tmp_path: Path) -> Path:
    """A real PNG, padded past the upload limit (decoders ignore bytes after IEND)."""
    return _padded_image(tmp_path, MAX_IMAGE_BYTES + 1)


def _padded_image(tmp_path: Path, size: int) -> Path:
    """A real PNG, padded to ``size`` bytes in all."""
    path = tmp_path / "huge.png"
    PILImage.new("RGB", (8, 8)).save(path)
    with path.open("ab") as padded:
        padded.write(b"\0" * (size - path.stat().st_size))
    return path


# ── bodies over the limit: refused while streaming, never kept ──


def test_an_oversized_body_is_refused_before_it_is_kept(server: FakeServer) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        nonlocal sent
        yield b'{"name": "'
        for _ in range(40):
            sent += MiB
            yield b"x" * MiB
        yield b'"}'

    headers = {"X-API-Key": server.api_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
        streamed = http.post(f"{DEV}/datasets/", content=chunks())
        announced = http.post(f"{DEV}/datasets/", content=b"y" * (MAX_BODY_BYTES + 1))
    # The size said is all that was sent, the part read past the limit too.
    for answer, size in ((streamed, 40 * MiB + 12), (announced, MAX_BODY_BYTES + 1)):
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "payload_too_large"
        assert f"is {size:,} bytes" in answer.json()["error"]["message"]
        assert "at most 32 MiB" in answer.json()["error"]["message"]
    assert sent == 40 * MiB  # the client sent it all and still read the answer
    # Journaled without the body; nothing was created.
    calls = server.fake.calls
    assert [(c.status, c.body) for c in calls] == [(413, b""), (413, b"")]
    with server.client(max_retries=0) as client:
        assert [d.name for d in client.datasets.list()] == [DATASET]


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "streamed"])
def test_an_oversized_control_body_is_refused(server: FakeServer, announced: bool) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: refused once the limit is passed
        for _ in range(33):
            yield b" " * MiB

    body = b" " * (MAX_BODY_BYTES + 1) if announced else chunks()
    with server.control(timeout=30) as control:
        answer = control.post("/faults", content=body)
    assert answer.status_code == 413
    # The control plane's own shape, not the API's envelope, and never journaled.
    assert answer.json() == {"error": "the body is over 32 MiB"}
    assert len(server.fake.calls) == 0
    assert not server.fake.faults.armed


def test_a_signed_upload_over_25_mib_is_refused_in_process(tmp_path: Path) -> None:
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        client.datasets.create("big", classes=[{"name": "x", "type": "bbox"}])
        with pytest.raises(ApiError) as refused:
            client.images.upload("big", _oversized_image(tmp_path))
        assert refused.value.status_code == 413
        assert "EntityTooLarge" in str(refused.value.response)
        assert client.images.list("big") == []
        put = fake.calls.filter(method="PUT").last
        assert put.status == 413
        assert put.truncated
        assert len(put.body) == JOURNAL_BODY_LIMIT
        assert put.body_size == (tmp_path / "huge.png").stat().st_size
    assert fake.world.storage.held() == 1  # the signed upload URL; no bytes were kept


def test_a_signed_upload_of_exactly_25_mib_is_taken(tmp_path: Path) -> None:
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        client.datasets.create("big", classes=[{"name": "x", "type": "bbox"}])
        image = client.images.upload("big", _padded_image(tmp_path, MAX_IMAGE_BYTES))
        assert image.file_size == MAX_IMAGE_BYTES
        assert fake.calls.filter(method="PUT").last.status == 200


def test_a_signed_upload_over_25_mib_is_refused_over_the_server(
    server: FakeServer, tmp_path: Path
) -> None:
    with server.client(max_retries=0) as client:
        client.datasets.create("big", classes=[{"name": "x", "type": "bbox"}])
        with pytest.raises(ApiError) as refused:
            client.images.upload("big", _oversized_image(tmp_path))
        assert refused.value.status_code == 413
        # Storage's own refusal (XML, as object stores answer), not the API's envelope.
        assert "EntityTooLarge" in str(refused.value.response)
        assert client.images.list("big") == []
    put = server.fake.calls.filter(method="PUT").last
    assert (put.status, put.body) == (413, b"")


def test_a_video_over_an_images_25_mib_uploads_over_the_server(
    server: FakeServer, tmp_path: Path
) -> None:
    # The server sizes a storage body by what its signed URL takes: a video's 1 GB.
    big = tmp_path / "long.mp4"
    big.write_bytes(
        mp4_header(duration_seconds=60, fps=25, width=64, height=64, mdat=bytes(26 << 20))
    )
    with server.client(max_retries=0) as client:
        info = client.video.upload(big)
        assert client.video.probe(info.gcs_path).frame_count == 1500
    put = server.fake.calls.filter(method="PUT").last
    assert (put.status, put.body_size) == (200, big.stat().st_size)


# ── idempotency answers expire on the virtual clock ──


def test_idempotency_answers_expire_after_the_ttl() -> None:
    fake = FakePictograph(seed=1)
    store = fake.api.idempotency
    with _raw(fake) as http:
        for n in range(5):
            answer = http.post(
                f"{DEV}/datasets/", json={"name": f"d{n}"}, headers={"Idempotency-Key": f"k{n}"}
            )
            assert answer.status_code == 201
        first: dict[str, Any] = {"json": {"name": "d0"}, "headers": {"Idempotency-Key": "k0"}}
        replay = http.post(f"{DEV}/datasets/", **first)
        assert replay.headers["idempotent-replayed"] == "true"
        assert len(store) == 5
        fake.clock.advance(seconds=IDEMPOTENCY_TTL_SECONDS - 1)
        assert len(store) == 5  # nothing leaves before its time
        fake.clock.advance(seconds=1)
        # The next stored answer trims the expired ones: memory follows the clock.
        http.post(f"{DEV}/datasets/", json={"name": "late"}, headers={"Idempotency-Key": "k9"})
        assert len(store) == 1
        # An expired key acts afresh (here: the name is taken now, so a 409).
        again = http.post(f"{DEV}/datasets/", **first)
        assert again.status_code == 409
        assert "idempotent-replayed" not in again.headers


def test_an_idempotency_key_replays_for_24_hours_and_not_at_the_24th() -> None:
    # The SDK's contract: the backend deduplicates for 24 hours. A retry a second short of
    # that replays; one at 24 hours to the second runs afresh (the name is taken: a 409).
    fake = FakePictograph(seed=1)
    first: dict[str, Any] = {"json": {"name": "d0"}, "headers": {"Idempotency-Key": "k0"}}
    with _raw(fake) as http:
        assert http.post(f"{DEV}/datasets/", **first).status_code == 201
        fake.clock.advance(timedelta(hours=24) - timedelta(seconds=1))
        replay = http.post(f"{DEV}/datasets/", **first)
        fake.clock.advance(timedelta(seconds=1))
        again = http.post(f"{DEV}/datasets/", **first)

    assert (replay.status_code, replay.headers.get("idempotent-replayed")) == (201, "true")
    assert again.status_code == 409
    assert "idempotent-replayed" not in again.headers


def test_an_idempotency_key_is_the_organizations_and_the_routes_own() -> None:
    # Another organization sending the same key and body gets its own answer, not this
    # one's; the same key on another route is a conflict, never this route's replay.
    fake = FakePictograph(seed=1)
    other = fake.add_organization(name="Other")
    body, key = {"name": "d0"}, {"Idempotency-Key": "k0"}
    with _raw(fake) as http:
        made = http.post(f"{DEV}/datasets/", json=body, headers=key)
        theirs = http.post(
            f"{DEV}/datasets/", json=body, headers={**key, "X-API-Key": other.api_key}
        )
        elsewhere = http.post(f"{DEV}/training/", json=body, headers=key)

    assert made.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["data"]["id"] != made.json()["data"]["id"]
    with other.client(max_retries=0) as sdk:
        assert [d.name for d in sdk.datasets.list()] == ["d0"]
    assert elsewhere.status_code == 409
    assert elsewhere.json()["error"]["code"] == "conflict"
    assert "idempotent-replayed" not in elsewhere.headers


def test_a_read_under_an_idempotency_key_is_answered_afresh() -> None:
    # Only writes are replayed: a GET that carries a key reads the world as it is now.
    fake = FakePictograph(seed=1)
    key = {"Idempotency-Key": "k0"}
    with _raw(fake) as http:
        before = http.get(f"{DEV}/datasets/", headers=key)
        assert http.post(f"{DEV}/datasets/", json={"name": "d0"}).status_code == 201
        after = http.get(f"{DEV}/datasets/", headers=key)

    assert before.json()["data"] == []
    assert [d["name"] for d in after.json()["data"]] == ["d0"]
    assert "idempotent-replayed" not in after.headers
    assert len(fake.api.idempotency) == 0


def test_a_refusal_under_an_idempotency_key_is_kept_and_replayed() -> None:
    # A 4xx is an answer the API gave: a retry under the same key gets it again, even
    # once the request would now succeed; a new key acts afresh.
    fake = FakePictograph(seed=1)
    taken: dict[str, Any] = {"json": {"name": "d0"}, "headers": {"Idempotency-Key": "k1"}}
    with _raw(fake) as http:
        made = http.post(f"{DEV}/datasets/", json={"name": "d0"})
        refused = http.post(f"{DEV}/datasets/", **taken)
        assert http.delete(f"{DEV}/datasets/{made.json()['data']['id']}").status_code == 200
        replayed = http.post(f"{DEV}/datasets/", **taken)
        fresh = http.post(
            f"{DEV}/datasets/", json={"name": "d0"}, headers={"Idempotency-Key": "k2"}
        )

    assert refused.status_code == 409
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (409, "true")
    assert replayed.json() == refused.json()
    assert fresh.status_code == 201


def _multipart(boundary: str, name: str) -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'
        f"--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary=BBB",
        'multipart/form-data; boundary="BBB"',
        "Multipart/Form-Data; Boundary=BBB",
        " multipart/form-data; boundary=BBB",
        "multipart/form-data; boundary=BBB ",
    ],
    ids=["plain", "quoted", "capitalised", "leading-space", "trailing-space"],
)
def test_a_multipart_retry_is_the_same_request_whatever_its_boundary(content_type: str) -> None:
    # An HTTP client draws a boundary per request: a retry of the same parts under the
    # same key is a replay however the header spells its boundary; other parts conflict.
    fake = FakePictograph(seed=1)
    key = {"Idempotency-Key": "k0"}
    with _raw(fake) as http:
        first = http.post(
            f"{DEV}/datasets/",
            content=_multipart("AAA", "d0"),
            headers={**key, "Content-Type": "multipart/form-data; boundary=AAA"},
        )
        retried = http.post(
            f"{DEV}/datasets/",
            content=_multipart("BBB", "d0"),
            headers={**key, "Content-Type": content_type},
        )
        other = http.post(
            f"{DEV}/datasets/",
            content=_multipart("BBB", "d1"),
            headers={**key, "Content-Type": content_type},
        )

    assert retried.headers.get("idempotent-replayed") == "true"
    assert (retried.status_code, retried.content) == (first.status_code, first.content)
    assert other.status_code == 409
    assert "already used for a different request" in other.json()["error"]["message"]


def test_a_multipart_body_without_a_boundary_is_compared_whole() -> None:
    fake = FakePictograph(seed=1)
    headers = {"Idempotency-Key": "k0", "Content-Type": "multipart/form-data"}
    with _raw(fake) as http:
        http.post(f"{DEV}/datasets/", content=_multipart("AAA", "d0"), headers=headers)
        same = http.post(f"{DEV}/datasets/", content=_multipart("AAA", "d0"), headers=headers)
        other = http.post(f"{DEV}/datasets/", content=_multipart("AAA", "d1"), headers=headers)

    assert same.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 409
    assert "idempotent-replayed" not in other.headers


# ── signed URLs are forgotten a day after they expire ──


def test_signed_urls_are_forgotten_after_a_day() -> None:
    with FakePictograph(scenario="ready-to-train", seed=1) as fake, _raw(fake) as http:

        def sign() -> str:
            answer = http.get(f"{DEV}/datasets/{DATASET}/download", params={"limit": 1})
            return str(answer.json()["data"]["items"][0]["image_url"])

        urls = [sign() for _ in range(20)]
        held = fake.world.storage.held()
        assert held >= 20
        fake.clock.advance(seconds=SIGNED_URL_TTL_SECONDS)
        assert http.get(urls[0]).status_code == 403  # expired, still known
        fake.clock.advance(seconds=EXPIRED_URL_MEMORY_SECONDS)
        fresh = sign()  # signing trims what expired a day ago
        assert fake.world.storage.held() == held - 20 + 1
        assert http.get(urls[0]).status_code == 404
        assert http.get(fresh).status_code == 200


# ── the journal: capped, bodies cut, pages bounded ──


def test_the_journal_keeps_the_newest_calls_and_counts_the_rest() -> None:
    fake = FakePictograph(seed=1, journal_limit=5)
    with fake.client(max_retries=0) as client:
        for _ in range(8):
            client.credits.balance()
    calls = fake.calls
    assert (len(calls), calls.dropped) == (5, 3)
    assert [c.index for c in calls] == [3, 4, 5, 6, 7]
    assert calls[0].index == 3
    assert calls[-1].index == 7
    calls.clear()
    assert (len(calls), calls.dropped) == (0, 0)
    for limit in (0, 10**20):  # past what a deque holds: a ValueError, not an OverflowError
        with pytest.raises(ValueError, match="journal_limit must be a whole number from 1"):
            FakePictograph(journal_limit=limit)


@pytest.mark.parametrize("balance", [-0.01, math.inf, math.nan, 1e10, True])
def test_a_balance_out_of_bounds_is_refused(balance: float) -> None:
    with pytest.raises(ValueError, match="balance_usd must be a number of dollars from 0"):
        FakePictograph(balance_usd=balance)
    fake = FakePictograph(seed=2)
    with pytest.raises(ValueError, match="balance_usd must be a number of dollars from 0"):
        fake.add_organization(balance_usd=balance)
    # Nothing was made: the next organization is the one a fresh fake makes first.
    added = fake.add_organization(balance_usd=MAX_BALANCE_USD)
    assert added.id == FakePictograph(seed=2).add_organization().id
    with added.client(max_retries=0) as client:
        assert client.credits.balance().included_allowance_micro_usd == MAX_BALANCE_USD * 1e6


def test_the_journal_cuts_long_bodies() -> None:
    fake = FakePictograph(seed=1)
    description = "d" * (JOURNAL_BODY_LIMIT + 10)
    with _raw(fake) as http:
        http.post(f"{DEV}/datasets/", json={"name": "long", "description": description})
    call = fake.calls.last
    assert call.truncated
    assert len(call.body) == JOURNAL_BODY_LIMIT
    assert call.body_size > JOURNAL_BODY_LIMIT
    # The answer echoes the description: it is cut too, its size kept.
    assert call.response_size > len(call.response_body) == JOURNAL_BODY_LIMIT
    # Too little kept to parse: said in words, not a JSONDecodeError mid-string.
    for read, which in ((call.json, "request"), (call.response_json, "response")):
        with pytest.raises(ValueError, match=f"the {which} body of call 0 .* the journal kept"):
            read()


def test_a_body_of_exactly_the_journal_limit_is_kept_whole() -> None:
    """The journal keeps the first MiB of a body: one of a MiB is not cut, one a byte
    longer is."""
    fake = FakePictograph(seed=1)
    with _raw(fake) as http:
        for size in (JOURNAL_BODY_LIMIT, JOURNAL_BODY_LIMIT + 1):
            # Not JSON: refused with a short answer, so only the request's size counts.
            http.post(
                f"{DEV}/datasets/",
                content=b"x" * size,
                headers={"content-type": "application/json"},
            )
    whole, cut = fake.calls
    assert (whole.status, cut.status) == (422, 422)
    assert not whole.truncated
    assert (len(whole.body), whole.body_size) == (JOURNAL_BODY_LIMIT, JOURNAL_BODY_LIMIT)
    assert cut.truncated
    assert (len(cut.body), cut.body_size) == (JOURNAL_BODY_LIMIT, JOURNAL_BODY_LIMIT + 1)


@pytest.mark.parametrize(("limit", "kept"), [(1, 1), (MAX_JOURNAL_LIMIT, 3)])
def test_a_journal_limit_may_be_anything_from_one_to_the_largest(limit: int, kept: int) -> None:
    fake = FakePictograph(seed=1, journal_limit=limit)
    with fake.client(max_retries=0) as client:
        for _ in range(3):
            client.credits.balance()
    assert (len(fake.calls), fake.calls.dropped) == (kept, 3 - kept)
    assert fake.calls[-1].index == 2


def test_a_body_that_is_not_json_says_so(tmp_path: Path) -> None:
    with FakePictograph(scenario="ready-to-train") as fake, fake.client() as client:
        client.images.upload("road-signs", write_image(tmp_path / "up.png"))
    put = fake.calls.filter(method="PUT").last
    with pytest.raises(ValueError, match=r"request body of call \d+ \(PUT .*\) is not JSON"):
        put.json()


def test_a_body_nested_past_pythons_stack_is_read_back_as_no_json(fake: FakePictograph) -> None:
    deep = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        answer = http.post(
            f"{DEV}/datasets/",
            content=deep,
            headers={"x-api-key": fake.api_key, "content-type": "application/json"},
        )
    assert answer.json()["error"]["details"]["errors"][0]["type"] == "too_deep"
    # Kept as sent: the journal's readers say it is no JSON they can read, in words.
    with pytest.raises(ValueError, match=r"request body of call 0 \(POST .*\) is not JSON"):
        fake.calls.last.json()
    assert not fake.calls.filter(json={"name": []})
    assert fake.calls.filter(method="POST").last.status == 422


def test_the_journal_over_http_pages_and_says_what_it_dropped() -> None:
    with FakeServer(journal_limit=4) as server, server.control() as control:
        headers = {"X-API-Key": server.api_key}
        with httpx.Client(base_url=server.base_url, headers=headers) as http:
            for _ in range(6):
                http.get(f"{DEV}/credits/balance")
            big = "b" * (JOURNAL_BODY_LIMIT + 1)
            http.post(f"{DEV}/datasets/", json={"name": "big", "description": big})
        page = control.get("/journal", params={"limit": 2}).json()
        assert (page["total"], page["dropped"], page["since"], page["next"]) == (7, 3, 0, 5)
        assert [c["index"] for c in page["calls"]] == [3, 4]
        rest = control.get("/journal", params={"since": page["next"]}).json()
        assert [c["index"] for c in rest["calls"]] == [5, 6]
        assert rest["next"] is None
        cut = rest["calls"][1]["request"]
        assert cut["truncated"] is True
        assert cut["size"] > JOURNAL_BODY_LIMIT


def test_a_journal_page_stops_after_its_byte_budget() -> None:
    with FakeServer() as server, server.control() as control:
        headers = {"X-API-Key": server.api_key}
        with httpx.Client(base_url=server.base_url, headers=headers) as http:
            for n in range(12):  # 12 bodies of a MiB each: more than one page holds
                http.post(f"{DEV}/datasets/", json={"name": f"d{n}", "description": "x" * MiB})
        page = control.get("/journal").json()
        assert 1 <= len(page["calls"]) < 12
        assert page["next"] == len(page["calls"])
        seen = len(page["calls"])
        while page["next"] is not None:
            page = control.get("/journal", params={"since": page["next"]}).json()
            seen += len(page["calls"])
        assert seen == 12


@pytest.mark.parametrize("large", ["request", "response"])
def test_a_journal_pages_budget_counts_what_was_sent_and_what_was_answered(large: str) -> None:
    with FakeServer() as server, server.control() as control:
        headers = {"X-API-Key": server.api_key}
        with httpx.Client(base_url=server.base_url, headers=headers) as http:
            if large == "request":  # over a MiB sent each time (kept cut), a short 404 answered
                for _ in range(12):
                    http.post(f"{DEV}/no-such-route", content=b"x" * (MiB + 1))
            else:  # nothing sent, a MiB answered each time
                http.post(f"{DEV}/datasets/", json={"name": "big", "description": "x" * MiB})
                for _ in range(11):
                    http.get(f"{DEV}/datasets/big")
        page = control.get("/journal").json()
    assert page["total"] == 12
    assert 1 <= len(page["calls"]) <= 8  # it stops once 8 MiB of bodies are in it
    assert page["next"] == len(page["calls"])
    # Each large body is kept cut, and said to be, with the size it had.
    record = page["calls"][1][large]
    assert (record["truncated"], record["size"] > JOURNAL_BODY_LIMIT) == (True, True)


# ── an injected delay over the server is real time ──


def test_a_delay_over_the_server_makes_a_client_time_out(server: FakeServer) -> None:
    server.fake.faults.delay_next(1.0, "GET", "credits/balance")
    # A second of real delay outlasts a 0.3 s timeout; 0.2 s fits in 5 s.
    with server.client(max_retries=0, timeout=0.3) as client, pytest.raises(RequestTimeoutError):
        client.credits.balance()
    server.fake.faults.delay_next(0.2, "GET", "credits/balance")
    with server.client(max_retries=0, timeout=5) as client:
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000
    # The virtual clock moved as it does in process: each delay, once.
    assert server.fake.clock.monotonic() == pytest.approx(1.2)


@pytest.mark.usefixtures("no_real_waiting")
def test_a_delay_in_process_times_out_on_the_virtual_clock() -> None:
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0, timeout=30) as client:
        fake.faults.delay_next(45, "GET", "credits/balance")
        with pytest.raises(RequestTimeoutError):
            client.credits.balance()
    assert fake.calls.last.status == 0


# ── what the server refuses before routing, in the API's envelope ──


def _raw_http(server: FakeServer, request_line: str, *headers: str) -> tuple[int, Any]:
    """Send one request by hand (httpx refuses URLs this long); return status and JSON."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    lines = [request_line, f"Host: {host}:{port}", f"X-API-Key: {server.api_key}", *headers]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(("\r\n".join([*lines, "Connection: close", "", ""])).encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_megabyte_path_gets_the_apis_envelope(server: FakeServer) -> None:
    with server.client(max_retries=0) as client:
        client.credits.balance()
    status, answer = _raw_http(server, f"GET {DEV}/datasets/{'a' * MiB} HTTP/1.1")
    assert status == 414
    error = answer["error"]
    assert error["code"] == "uri_too_long"
    assert f"at most {MAX_TARGET_BYTES:,}" in error["message"]
    call = server.fake.calls.last
    assert call.status == 414
    assert len(call.target) <= JOURNAL_BODY_LIMIT
    # A refusal is a request of its own, with an id of its own.
    assert server.fake.calls[0].request_id != call.request_id


def test_a_megabyte_header_gets_the_apis_envelope(server: FakeServer) -> None:
    headers = {"X-API-Key": server.api_key, "X-Padding": "p" * MiB}
    with httpx.Client(base_url=server.base_url, headers=headers) as http:
        answer = http.get(f"{DEV}/credits/balance")
    assert answer.status_code == 431
    error = answer.json()["error"]
    assert error["code"] == "headers_too_large"
    assert f"at most {MAX_HEADER_BYTES:,}" in error["message"]


@pytest.mark.parametrize("oversized", ["target", "headers"])
def test_the_control_plane_refuses_a_huge_target_or_headers_in_its_own_shape(
    server: FakeServer, oversized: str
) -> None:
    if oversized == "target":
        status, answer = _raw_http(server, f"GET /_fake/?{'a' * MAX_TARGET_BYTES} HTTP/1.1")
        expected, limit = 414, MAX_TARGET_BYTES
    else:
        padding = {"X-Padding": "p" * MiB, **server.control_headers}
        with httpx.Client(base_url=server.base_url, headers=padding) as http:
            refused = http.get("/_fake/clock")
        status, answer = refused.status_code, refused.json()
        expected, limit = 431, MAX_HEADER_BYTES
    assert status == expected
    # A control route's {"error": "..."}, not the API's envelope, and never journaled.
    assert list(answer) == ["error"]
    assert f"at most {limit:,}" in answer["error"]
    assert len(server.fake.calls) == 0
