"""Read a stream's results from the fake that serves its deployment, in process.

A ``DeploymentStream`` (SDK 1.69.140 on) reads each frame's result on a WebSocket that
it opens with ``websockets``, outside httpx, so neither the fake's transport nor respx
sees it. While a fake is active, the stream's ``_connect`` asks first whether a fake
owns the results URL's host: if one does, the connection is an in-process one that reads
the fake's stream (:class:`pictograph_testing.stream_socket.InProcessResults`); else the
SDK's own connect runs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import httpx

from pictograph_testing._sdk.layout import optional_module

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from pictograph_testing.transport import FakeTransport

__all__ = ["ResultsSocketCoupling"]

_STREAM_MODULE = "pictograph.resources._deployment_stream"


class ResultsSocketCoupling:
    """Route a ``DeploymentStream``'s results socket to the fake owning its host."""

    def __init__(self, owner: Callable[[httpx.URL], FakeTransport | None]) -> None:
        self._owner = owner
        # What install puts in place, worked out once per loaded module (the coupling is
        # put in place and taken out around many tests): (class, original, replacement).
        self._module: ModuleType | None = None
        self._plan: tuple[type, Any, Any] | None = None
        self._installed = False

    def install(self) -> None:
        module = sys.modules.get(_STREAM_MODULE) or optional_module(_STREAM_MODULE)
        plan = self._plan
        if module is not self._module or (
            plan is not None and plan[0].__dict__.get("_connect") is not plan[1]
        ):
            # A module loaded anew, or another hand replaced the method since: plan again.
            self._module, plan = module, _plan_for(module, self._owner)
            self._plan = plan
        if plan is not None:
            plan[0]._connect = plan[2]  # type: ignore[attr-defined]
            self._installed = True

    def uninstall(self) -> None:
        if self._installed and self._plan is not None:
            self._plan[0]._connect = self._plan[1]  # type: ignore[attr-defined]
        self._installed = False


def _plan_for(
    module: ModuleType | None, owner: Callable[[httpx.URL], FakeTransport | None]
) -> tuple[type, Any, Any] | None:
    """``DeploymentStream``, its own ``_connect`` and the one that asks the fakes first;
    ``None`` for a release before streams."""
    stream_class = getattr(module, "DeploymentStream", None) if module is not None else None
    original = stream_class.__dict__.get("_connect") if stream_class is not None else None
    if stream_class is None or original is None:
        return None

    def _connect(stream: Any) -> Any:
        url = _http_url(stream.results_url)
        transport = owner(url)
        if transport is None:
            return original(stream)
        # The SDK's own headers for the stream: its bearer token.
        return transport.results_socket(url, dict(stream._headers))

    return stream_class, original, _connect


def _http_url(results_url: str) -> httpx.URL:
    """The results socket's URL as the fakes' hosts are known: ``ws`` is ``http``."""
    scheme, _, rest = results_url.partition("://")
    return httpx.URL(("https" if scheme == "wss" else "http") + "://" + rest)
