"""Read a stream's results from the fake that serves its deployment, in process.

A ``DeploymentStream`` (SDK 1.69.140 on) reads each frame's result on a WebSocket that
it opens with ``websockets``, outside httpx, so neither the fake's transport nor respx
sees it. While a fake is active, the stream's ``_connect`` asks first whether a fake
owns the results URL's host: if one does, the connection is an in-process one that reads
the fake's stream (:class:`pictograph_testing.stream_socket.InProcessResults`); else the
SDK's own connect runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from pictograph_testing._sdk.layout import optional_module

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.transport import FakeTransport

__all__ = ["ResultsSocketCoupling"]

_STREAM_MODULE = "pictograph.resources._deployment_stream"


class ResultsSocketCoupling:
    """Route a ``DeploymentStream``'s results socket to the fake owning its host."""

    def __init__(self, owner: Callable[[httpx.URL], FakeTransport | None]) -> None:
        self._owner = owner
        self._replaced: tuple[type, Any] | None = None

    def install(self) -> None:
        module = optional_module(_STREAM_MODULE)
        stream_class = getattr(module, "DeploymentStream", None) if module else None
        original = stream_class.__dict__.get("_connect") if stream_class is not None else None
        if stream_class is None or original is None:
            return  # a release before streams
        owner = self._owner

        def _connect(stream: Any) -> Any:
            url = _http_url(stream.results_url)
            transport = owner(url)
            if transport is None:
                return original(stream)
            # The SDK's own headers for the stream: its bearer token.
            return transport.results_socket(url, dict(stream._headers))

        self._replaced = (stream_class, original)
        stream_class._connect = _connect

    def uninstall(self) -> None:
        if self._replaced is not None:
            stream_class, original = self._replaced
            stream_class._connect = original  # type: ignore[attr-defined]
            self._replaced = None


def _http_url(results_url: str) -> httpx.URL:
    """The results socket's URL as the fakes' hosts are known: ``ws`` is ``http``."""
    scheme, _, rest = results_url.partition("://")
    return httpx.URL(("https" if scheme == "wss" else "http") + "://" + rest)
