"""Record every request the SDK's unit tests send to pytest-httpx, with the canned reply.

Loaded with ``-p tests.sdk_contract.recorder`` (or by module name on ``PYTHONPATH``) into a
run of the SDK's own ``tests/unit``; writes one JSON line per request answered by a canned
reply to the file ``SDK_REPLAY_RECORD`` names. The SDK's tests are not changed: the plugin
wraps pytest-httpx's ``HTTPXMock`` request handlers, so it sees exactly the pairs the tests
exercise (not the ones they register and never reach). Lines are written in run order with
the test's node id and a per-test sequence number, so a sort makes the file deterministic.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import IO, Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pytest_httpx import HTTPXMock

_sink: IO[str] | None = None
_current_test = ""
_sequence = 0


def _decode(content: bytes, content_type: str) -> Any:
    """Return the JSON a body carries, or None when it carries something else."""
    if "json" not in content_type and not content.lstrip().startswith((b"{", b"[")):
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _record(request: httpx.Request, response: httpx.Response) -> None:
    global _sequence
    if _sink is None:
        return
    body = _decode(request.content, request.headers.get("content-type", ""))
    reply_type = response.headers.get("content-type", "")
    try:
        reply_content = response.read()
    except (httpx.StreamError, RuntimeError):
        reply_content = b""
    _sequence += 1
    line = {
        "test": _current_test,
        "seq": _sequence,
        "method": request.method,
        "path": request.url.path,
        "query": parse_qsl(request.url.query.decode(), keep_blank_values=True),
        "body": body,
        "multipart": "multipart/form-data" in request.headers.get("content-type", ""),
        "status": response.status_code,
        "reply": _decode(reply_content, reply_type),
        "reply_type": reply_type.split(";")[0],
    }
    _sink.write(json.dumps(line, sort_keys=True) + "\n")


def _unread(response: httpx.Response) -> httpx.Response:
    # The same reset pytest-httpx applies, so the SDK still reads the body we consumed.
    response.is_stream_consumed = False
    response.is_closed = False
    if hasattr(response, "_content"):
        del response._content
    return response


_sync_handler = HTTPXMock._handle_request
_async_handler = HTTPXMock._handle_async_request


def _recording_handle_request(
    self: HTTPXMock, real_transport: httpx.HTTPTransport, request: httpx.Request
) -> httpx.Response:
    response = _sync_handler(self, real_transport, request)
    _record(request, response)
    return _unread(response)


async def _recording_handle_async_request(
    self: HTTPXMock, real_transport: httpx.AsyncHTTPTransport, request: httpx.Request
) -> httpx.Response:
    response = await _async_handler(self, real_transport, request)
    _record(request, response)
    return _unread(response)


_async_sleep = asyncio.sleep


async def _no_wait(delay: float, result: Any = None) -> Any:
    return await _async_sleep(0, result)


def _install() -> None:
    """Record through pytest-httpx, and take the waits out of the run.

    Retry backoff and polling sleep for real in the SDK's tests; the recordings need the
    requests, not the waits, so sleeping returns at once (a test that times itself may
    fail: its pairs are recorded all the same).
    """
    HTTPXMock._handle_request = _recording_handle_request  # type: ignore[method-assign]
    HTTPXMock._handle_async_request = _recording_handle_async_request  # type: ignore[method-assign]
    time.sleep = lambda seconds: None
    asyncio.sleep = _no_wait


# At import (`-p recorder`), before any test module takes its own reference to `sleep`.
_install()


def pytest_configure(config: pytest.Config) -> None:
    global _sink
    target = os.environ.get("SDK_REPLAY_RECORD")
    if target:
        # Under pytest-xdist every worker writes a file of its own; the caller merges them.
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            target = f"{target}.{worker}"
        _sink = open(target, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run


def pytest_unconfigure(config: pytest.Config) -> None:
    if _sink is not None:
        _sink.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _current_test, _sequence
    _current_test = item.nodeid
    _sequence = 0
