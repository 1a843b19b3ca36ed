"""An httpx transport, sync and async, that hands every request to a fake's API."""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING

import httpx
from httpx import ByteStream

from pictograph_testing.faults import TransportFault

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pictograph_testing.api.app import Api
    from pictograph_testing.stream_socket import InProcessResults

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
        # `url.raw_path`, without encoding the text to bytes only to decode it again.
        reference = request.url._uri_reference
        query = reference.query
        path = reference.path or "/"
        return self._prefix + (path if query is None else f"{path}?{query}")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        api = self._api
        # Only an armed fault needs the client's timeout (a delay may outlast it).
        timeout = _read_timeout(request) if api.faults.armed else None
        try:
            answer = api.handle(
                request.method, self._target(request), _header_map(request.headers), body, timeout
            )
        except TransportFault as fault:
            raise _ERRORS[fault.kind](fault.message, request=request) from None
        status, headers, content = answer  # the API's headers carry content-length
        response = httpx.Response(status, headers=headers, stream=ByteStream(content))
        response._content = content  # see _response
        return response

    def results_socket(self, url: httpx.URL, headers: Mapping[str, str]) -> InProcessResults:
        """A stream's results socket at ``url`` (its ``ws`` scheme read as ``http``),
        answered by the fake in process; ``headers`` by lower-case name."""
        target = self._target(httpx.Request("GET", url))
        return self._api.results_socket(target, {k.lower(): v for k, v in headers.items()})

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        api = self._api
        timeout = _read_timeout(request) if api.faults.armed else None
        try:
            # Async: webhooks due go to their receivers on this event loop, and an injected
            # delay is slept on the virtual clock, overlapping other requests' delays.
            status, headers, content, _ = await api.handle_async(
                request.method,
                self._target(request),
                _header_map(request.headers),
                body,
                timeout,
                sleep_delays=True,
            )
        except TransportFault as fault:
            raise _ERRORS[fault.kind](fault.message, request=request) from None
        return _response(status, headers, content)


def _header_map(headers: httpx.Headers) -> Mapping[str, str]:
    """The request's headers, for the API's few lookups by lower-case name.

    Each lookup in ``httpx.Headers`` scans every header and decodes it. A client sends
    the same headers request after request, so their decoded map is kept by their raw
    bytes, and its lookups run no Python at all. A name sent twice reads as its first
    value, as the API (and the fake's server) reads it.
    """
    found = _decoded(tuple(headers._list))
    return _first_values(headers) if found is None else found


@lru_cache(maxsize=256)
def _decoded(entries: tuple[tuple[bytes, bytes, bytes], ...]) -> Mapping[str, str] | None:
    """Headers by lower-case name, read-only; ``None`` for a value that is not ASCII,
    which keeps httpx's own rule (its encoding guessed)."""
    values = list(map(_VALUE, entries))
    if not all(map(bytes.isascii, values)):
        return None
    found: dict[str, str] = {}
    for name, value in zip(map(_NAME, entries), values, strict=True):
        found.setdefault(name.decode(), value.decode())
    return MappingProxyType(found)


def _first_values(headers: httpx.Headers) -> dict[str, str]:
    """Each header's first value, decoded as httpx decodes it."""
    # Reversed: a name's first value is the last written, so it stays.
    return dict(reversed(headers.multi_items()))


_NAME, _VALUE = itemgetter(1), itemgetter(2)


def _response(status: int, headers: list[tuple[str, str]], content: bytes) -> httpx.Response:
    # The API's headers carry content-length.
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
