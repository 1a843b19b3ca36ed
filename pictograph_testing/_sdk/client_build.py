"""Let the SDK's transports take a prepared httpx client instead of building their own.

``pictograph.Client`` always builds its own ``httpx.Client``, which sets up TLS (about
23 ms). While the hook is in place, ``Transport._build_client`` and
``AsyncTransport._build_client`` first look for a client to adopt (a fake's own clients
need no TLS), then, for a base URL an active fake serves, build the client the SDK would
build but with its network transport set up only if a request ever leaves for the
network (the fake's respx route answers it either way). Every other construction is
untouched.

The hook is held, not just installed: activation holds it while any fake is active, and
building a fake's own client holds it for the duration of the build (a fake need not be
active to hand out clients). The SDK's own methods are back in place once nothing holds
it.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from pictograph_testing._http_client import (
    DeferredAsyncHTTPTransport,
    DeferredHTTPTransport,
    FakeAsyncHttpClient,
    FakeHttpClient,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ClientBuildHook", "deferred_sdk_client"]

_Built = TypeVar("_Built")

_METHOD = "_build_client"

# The httpx client a transport being built should adopt. A context variable, so only the
# thread building a fake's client is affected.
_adopt: ContextVar[httpx.Client | httpx.AsyncClient | None] = ContextVar(
    "pictograph_testing_adopt", default=None
)


class ClientBuildHook:
    """Replace the SDK transports' ``_build_client`` while held; restore it when released."""

    def __init__(self, serves: Callable[[httpx.URL], bool]) -> None:
        self._serves = serves
        self._holds = 0
        # Holds come from the activating thread and from any thread building a client.
        self._lock = threading.Lock()
        self._saved: list[tuple[type, Any]] = []

    def install(self) -> None:
        """Hold the hook: put it in place if nothing held it yet."""
        with self._lock:
            self._holds += 1
            if self._holds == 1:
                self._patch()

    def uninstall(self) -> None:
        """Release one hold: put the SDK's own methods back when none is left."""
        with self._lock:
            if not self._holds:
                return
            self._holds -= 1
            if not self._holds:
                while self._saved:
                    owner, original = self._saved.pop()
                    setattr(owner, _METHOD, original)

    def adopting(
        self, http: httpx.Client | httpx.AsyncClient, build: Callable[[], _Built]
    ) -> _Built:
        """Call ``build`` (which makes an SDK client) so that its transport adopts ``http``."""
        self.install()
        token = _adopt.set(http)
        try:
            return build()
        finally:
            _adopt.reset(token)
            self.uninstall()

    def _patch(self) -> None:
        from pictograph._http.async_transport import AsyncTransport
        from pictograph._http.transport import Transport

        serves = self._serves
        for owner, is_async in ((Transport, False), (AsyncTransport, True)):
            original = vars(owner)[_METHOD]

            def _build_client(
                transport: Any, _original: Any = original, _is_async: bool = is_async
            ) -> Any:
                adopted = _adopt.get()
                if adopted is not None:
                    return adopted
                deferred = deferred_sdk_client(transport, is_async=_is_async, serves=serves)
                return deferred if deferred is not None else _original(transport)

            self._saved.append((owner, original))
            setattr(owner, _METHOD, _build_client)


def deferred_sdk_client(
    transport: Any, *, is_async: bool, serves: Callable[[httpx.URL], bool]
) -> httpx.Client | httpx.AsyncClient | None:
    """The httpx client the SDK builds, minus the TLS set-up, if a fake ``serves`` its URL.

    The arguments are the SDK's own (``Transport._build_client`` in 1.69); the test
    suite checks them against a client the SDK builds itself.
    """
    from pictograph._http import async_transport
    from pictograph._http import transport as sync_transport

    module = async_transport if is_async else sync_transport
    try:
        base_url = transport._config.base_url.rstrip("/")
        limits = httpx.Limits(
            max_connections=module.DEFAULT_MAX_CONNECTIONS,
            max_keepalive_connections=module.DEFAULT_MAX_KEEPALIVE,
        )
        options: dict[str, Any] = {
            "base_url": base_url,
            "timeout": transport._config.timeout,
            "headers": {
                "X-API-Key": transport._api_key,
                "User-Agent": module._build_user_agent(),
                "Accept": "application/json",
            },
        }
    except AttributeError:
        return None  # an SDK built differently: let it build its own client, TLS and all
    if not serves(httpx.URL(base_url)):
        return None
    if is_async:
        return FakeAsyncHttpClient(
            **options, transport=DeferredAsyncHTTPTransport(http2=True, limits=limits)
        )
    return FakeHttpClient(**options, transport=DeferredHTTPTransport(http2=False, limits=limits))
