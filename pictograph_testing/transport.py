"""An httpx transport, sync and async, that hands every request to a fake's API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import itemgetter
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
                request.method, self._target(request), _header_map(request.headers), body, timeout
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
                request.method,
                self._target(request),
                _header_map(request.headers),
                body,
                timeout,
            )
        except TransportFault as fault:
            raise _ERRORS[fault.kind](fault.message, request=request) from None
        return _response((status, headers, content))


def _header_map(headers: httpx.Headers) -> Mapping[str, str]:
    """The request's headers, for the API's few lookups by lower-case name.

    Each lookup in ``httpx.Headers`` scans every header and decodes it; a dict of the raw
    bytes built in one C-level pass costs less than the first lookup. A name sent twice
    keeps httpx's own rules (its values joined): the ``Headers`` are handed over as they are.
    """
    entries = headers._list
    raw = dict(zip(map(_NAME, entries), map(_VALUE, entries), strict=True))
    return _RawHeaders(raw, headers) if len(raw) == len(entries) else headers


_NAME, _VALUE = itemgetter(1), itemgetter(2)


class _RawHeaders(Mapping[str, str]):
    """Request headers by lower-case name over their raw bytes, decoded when looked up."""

    __slots__ = ("_headers", "_raw")

    def __init__(self, raw: dict[bytes, bytes], headers: httpx.Headers) -> None:
        self._raw = raw
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self._raw.get(name.encode())
        if value is None:
            return default
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:  # httpx's own rules for other bytes
            decoded: str | None = self._headers.get(name, default)
            return decoded

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name.decode() for name in self._raw)

    def __len__(self) -> int:
        return len(self._raw)


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
