"""The served fake reads a request's body whole before it acts on it.

A client that goes away part-way through its body (a crash, a timeout, a dropped
connection) sent no request: half a JSON object can still parse, and half an image
can still be stored, so a body cut off used to be handled as if it were the whole one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from pictograph_testing import FakePictograph
from pictograph_testing.server import FakeAsgiApp

API = "/api/v1/developer/"
_DATASETS = API + "datasets/"
PNG_START = b"\x89PNG\r\n\x1a\n"


def _serve(
    app: FakeAsgiApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One request through the ASGI app, its body arriving as ``chunks`` (the ASGI
    messages uvicorn hands over); what the app sent back."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
    }
    waiting = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return waiting.pop(0) if waiting else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _json_headers(app: FakeAsgiApp, length: int | bytes) -> list[tuple[bytes, bytes]]:
    announced = length if isinstance(length, bytes) else str(length).encode()
    return [
        (b"x-api-key", app.fake.api_key.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", announced),
    ]


def test_a_body_cut_off_part_way_is_not_handled() -> None:
    app = FakeAsgiApp(lambda _: FakePictograph(seed=1))
    body = json.dumps({"name": "half-sent"}).encode()
    sent = _serve(
        app,
        "POST",
        _DATASETS,
        _json_headers(app, 1000),
        [{"type": "http.request", "body": body, "more_body": True}, {"type": "http.disconnect"}],
    )
    assert sent == []  # no one is left to answer
    assert len(app.fake.calls) == 0
    with app.fake.client(max_retries=0) as client:
        assert client.datasets.list() == []
    assert not app.fake.server_errors


def test_an_upload_cut_off_part_way_stores_nothing() -> None:
    app = FakeAsgiApp(lambda _: FakePictograph(seed=1))
    fake = app.fake
    fake.add_dataset("lot")
    image = {"dataset": "lot", "filename": "a.png", "directory_path": "/"}
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"x-api-key": fake.api_key}
    ) as http:
        signed = http.post(API + "images/upload-url", json={**image, "content_type": "image/png"})
        url = httpx.URL(signed.json()["data"]["upload_url"])
        _serve(
            app,
            "PUT",
            url.raw_path.decode(),
            [(b"content-type", b"image/png"), (b"content-length", b"9000")],
            [
                {"type": "http.request", "body": PNG_START + bytes(100), "more_body": True},
                {"type": "http.disconnect"},
            ],
        )
        registered = http.post(
            API + "images/register",
            json={**image, "file_size": 9000, "content_type": "image/png", "width": 8, "height": 8},
        )
    assert [c.method for c in fake.calls] == ["POST", "POST"]  # no PUT arrived
    assert registered.status_code == 404, registered.text
    assert registered.json()["error"]["message"].startswith("No uploaded bytes for '/a.png'")
    with fake.client(max_retries=0) as client:
        assert client.images.list("lot") == []


def test_a_whole_body_sent_in_chunks_is_handled() -> None:
    app = FakeAsgiApp(lambda _: FakePictograph(seed=1))
    body = json.dumps({"name": "whole"}).encode()
    sent = _serve(
        app,
        "POST",
        _DATASETS,
        _json_headers(app, len(body)),
        [
            {"type": "http.request", "body": body[:5], "more_body": True},
            {"type": "http.request", "body": body[5:], "more_body": False},
        ],
    )
    assert sent[0]["status"] == 201
    with app.fake.client(max_retries=0) as client:
        assert [d.name for d in client.datasets.list()] == ["whole"]


def test_a_content_length_of_digits_int_cannot_read_is_no_server_error() -> None:
    app = FakeAsgiApp(lambda _: FakePictograph(seed=1))
    body = json.dumps({"name": "odd-length"}).encode()
    for announced in ("\u00b2".encode("latin-1"), b"9" * 5000):
        sent = _serve(
            app,
            "POST",
            _DATASETS,
            _json_headers(app, announced),
            [{"type": "http.request", "body": body, "more_body": False}],
        )
        assert sent[0]["status"] < 500
    assert not app.fake.server_errors
