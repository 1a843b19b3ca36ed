"""An httpx transport, sync and async, that hands every request to a fake's API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from httpx import ByteStream

from pictograph_testing.faults import TransportFault

if TYPE_CHECKING:
    from pictograph_testing.api.app import Api, Response

__all__ = ["FakeTransport"]

# The httpx exception each injected transport error is (see faults.TRANSPORT_ERRORS).
_ERRORS: dict[str, type[httpx.TransportError]] = {
    "connect": httpx.ConnectError,
    "connect_timeout": httpx.ConnectTimeout,
    "read_timeout": httpx.ReadTimeout,
    "read_error": httpx.ReadError,
}


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer httpx requests from a fake, in process: no sockets, no TLS, no threads.

    One instance serves both ``httpx.Client(transport=...)`` and
    ``httpx.AsyncClient(transport=...)``.
    """

    def __init__(self, api: Api, *, prefix: str = "") -> None:
        self._api = api
        # A host of its own (the deployments' gateway) is answered below this path.
        self._prefix = prefix

    def _target(self, request: httpx.Request) -> str:
        return self._prefix + request.url.raw_path.decode("ascii")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        api = self._api
        # Only an armed fault needs the client's timeout (a delay may outlast it).
        timeout = _read_timeout(request) if api.faults.armed else None
        try:
            answer = api.handle(
                request.method, self._target(request), request.headers, body, timeout
            )
        except TransportFault as fault:
            raise _ERRORS[fault.kind](fault.message, request=request) from None
        return _response(answer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        api = self._api
        timeout = _read_timeout(request) if api.faults.armed else None
        try:
            # Async: webhooks due go to their receivers on this event loop.
            status, headers, content, _ = await api.handle_async(
                request.method, self._target(request), request.headers, body, timeout
            )
        except TransportFault as fault:
            raise _ERRORS[fault.kind](fault.message, request=request) from None
        return _response((status, headers, content))


def _response(answer: Response) -> httpx.Response:
    status, headers, content = answer
    if not any(name == "content-length" for name, _ in headers):  # HEAD sets its own
        headers.append(("content-length", str(len(content))))
    response = httpx.Response(status, headers=headers, stream=ByteStream(content))
    # The body is whole already: hand it over as read. `Response(content=...)` would
    # push it through httpx's chunk decoders first, which costs more than the fake
    # takes to answer; streaming reads (`iter_bytes`, downloads) still work from it.
    response._content = content
    return response


def _read_timeout(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout")
    read = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(read) if isinstance(read, (int, float)) else None
