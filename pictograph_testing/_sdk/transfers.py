"""Route the SDK's signed-URL transfers to the active fake, in the SDK's own modules only.

The SDK fetches model weights (and export archives, image bytes) with a fresh
``httpx.Client`` that carries no credentials, outside the client a test configured.
While a fake is active, the ``httpx`` name in the modules that do this is replaced by a
stand-in whose clients send the fake's own URLs to the fake and everything else to the
network as usual.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["TransferRouting"]

# Modules that move bytes to or from signed URLs with their own httpx clients.
_TRANSFER_MODULES = (
    "pictograph.resources.models",
    "pictograph.aio._download",
    "pictograph.resources.exports",
    "pictograph.aio.resources.exports",
    "pictograph.resources.datasets",
    "pictograph.aio.resources.datasets",
    # Video uploads went to signed URLs through a fresh client up to 1.0.x.
    "pictograph.resources.video",
)

_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits", "trust_env")


class _Router(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Send a request to the fake that owns its URL, else to a real transport."""

    def __init__(
        self,
        resolve: Callable[[httpx.URL], Any],
        make_sync: Callable[[], httpx.BaseTransport],
        make_async: Callable[[], httpx.AsyncBaseTransport],
    ) -> None:
        self._resolve = resolve
        self._make_sync = make_sync
        self._make_async = make_async
        self._sync: httpx.BaseTransport | None = None
        self._async: httpx.AsyncBaseTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fake = self._resolve(request.url)
        if fake is not None:
            response: httpx.Response = fake.handle_request(request)
            return response
        if self._sync is None:
            self._sync = self._make_sync()
        return self._sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fake = self._resolve(request.url)
        if fake is not None:
            response: httpx.Response = await fake.handle_async_request(request)
            return response
        if self._async is None:
            self._async = self._make_async()
        return await self._async.handle_async_request(request)

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()


class _HttpxStandIn(ModuleType):
    """``httpx`` as the SDK's transfer modules see it while a fake is active."""

    def __init__(self, resolve: Callable[[httpx.URL], Any]) -> None:
        super().__init__("httpx")
        self._resolve = resolve

    def __getattr__(self, name: str) -> Any:
        return getattr(httpx, name)

    def Client(self, *args: Any, **kwargs: Any) -> httpx.Client:
        if "transport" not in kwargs:
            kwargs["transport"] = self._router(kwargs)
        return httpx.Client(*args, **kwargs)

    def AsyncClient(self, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        if "transport" not in kwargs:
            kwargs["transport"] = self._router(kwargs)
        return httpx.AsyncClient(*args, **kwargs)

    def _router(self, client_kwargs: dict[str, Any]) -> _Router:
        # The real transport is only built if a request leaves for another host, so the
        # fake's own downloads skip the TLS set-up a fresh client would pay.
        real = {k: client_kwargs[k] for k in _TRANSPORT_OPTIONS if k in client_kwargs}
        return _Router(
            self._resolve,
            lambda: httpx.HTTPTransport(**real),
            lambda: httpx.AsyncHTTPTransport(**real),
        )

    def put(self, url: Any, **kwargs: Any) -> httpx.Response:
        with self.Client(timeout=kwargs.pop("timeout", httpx.USE_CLIENT_DEFAULT)) as client:
            return client.put(url, **kwargs)

    def get(self, url: Any, **kwargs: Any) -> httpx.Response:
        follow = kwargs.pop("follow_redirects", False)
        timeout = kwargs.pop("timeout", httpx.USE_CLIENT_DEFAULT)
        with self.Client(timeout=timeout, follow_redirects=follow) as client:
            return client.get(url, **kwargs)


class _TransportModuleStandIn(_HttpxStandIn):
    """``httpx`` as the SDK's own transports see it: only one-off transfer clients change.

    The transports build their API client with a ``base_url``; that client is left
    alone. The clients they open without one carry a single signed-URL upload.
    """

    def Client(self, *args: Any, **kwargs: Any) -> httpx.Client:
        if "base_url" in kwargs:
            return httpx.Client(*args, **kwargs)
        return super().Client(*args, **kwargs)

    def AsyncClient(self, *args: Any, **kwargs: Any) -> httpx.AsyncClient:
        if "base_url" in kwargs:
            return httpx.AsyncClient(*args, **kwargs)
        return super().AsyncClient(*args, **kwargs)


# The SDK's transports: their module-level `httpx.put` (sync) and fresh AsyncClient
# (async) carry image uploads to signed URLs. The async one exists since 1.16.0; a
# module the installed SDK lacks is simply not in ``sys.modules``.
_TRANSPORT_MODULES = ("pictograph._http.transport", "pictograph._http.async_transport")


class TransferRouting:
    """Install and remove the ``httpx`` stand-ins in the SDK's transfer modules."""

    def __init__(self, resolve: Callable[[httpx.URL], Any]) -> None:
        self._stand_in = _HttpxStandIn(resolve)
        self._transport_stand_in = _TransportModuleStandIn(resolve)
        self._saved: list[tuple[ModuleType, Any]] = []

    def install(self) -> None:
        """Put the stand-ins in place of ``httpx`` in the loaded transfer modules."""
        if self._saved:
            return
        for names, stand_in in (
            (_TRANSFER_MODULES, self._stand_in),
            (_TRANSPORT_MODULES, self._transport_stand_in),
        ):
            for name in names:
                module = sys.modules.get(name)
                if module is not None and vars(module).get("httpx") is httpx:
                    self._saved.append((module, httpx))
                    vars(module)["httpx"] = stand_in

    def uninstall(self) -> None:
        """Put the real ``httpx`` back wherever :meth:`install` replaced it."""
        for module, original in self._saved:
            vars(module)["httpx"] = original
        self._saved.clear()
