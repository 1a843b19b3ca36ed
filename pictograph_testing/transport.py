"""An httpx transport, sync and async, that hands every request to a fake's API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from httpx import ByteStream

if TYPE_CHECKING:
    from pictograph_testing.api.app import Api

__all__ = ["FakeTransport"]


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer httpx requests from a fake, in process: no sockets, no TLS, no threads.

    One instance serves both ``httpx.Client(transport=...)`` and
    ``httpx.AsyncClient(transport=...)``.
    """

    def __init__(self, api: Api) -> None:
        self._api = api

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self._answer(request, body)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return self._answer(request, body)

    def _answer(self, request: httpx.Request, body: bytes) -> httpx.Response:
        status, headers, content = self._api.handle(
            request.method, request.url.raw_path.decode("ascii"), request.headers, body
        )
        headers.append(("content-length", str(len(content))))
        response = httpx.Response(status, headers=headers, stream=ByteStream(content))
        # The body is whole already: hand it over as read. `Response(content=...)` would
        # push it through httpx's chunk decoders first, which costs more than the fake
        # takes to answer; streaming reads (`iter_bytes`, downloads) still work from it.
        response._content = content
        return response
