"""Close an async SDK client on the event loop its connections belong to.

A real ``pictograph.AsyncClient`` (contract mode's) keeps its connections open between
requests, and each belongs to the loop that opened it: closed from any other loop, or
after that loop has closed, its socket is never closed and is collected with a
``ResourceWarning`` (an error under ``filterwarnings = error``). A sync fixture cannot
know the test's loop, so the client tells it: its first request on a loop parks an
async generator there, which the loop's shutdown (``asyncio.run``, ``asyncio.Runner``,
pytest-asyncio and anyio all shut their async generators down before closing) finishes
by closing the client, on that loop. A teardown that finds the loop still open closes
it there itself.

The httpx client is reached as ``client._transport._client``, as it is in every SDK
release with an async client (1.16.0 onwards).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    import httpx
    import pictograph

__all__ = ["LoopBoundClosing"]


class LoopBoundClosing:
    """Close ``sdk`` on the loop its requests ran on: at that loop's shutdown, or at
    :meth:`close` if the loop is still open then."""

    def __init__(self, sdk: pictograph.AsyncClient) -> None:
        self._sdk = sdk
        self._loop: asyncio.AbstractEventLoop | None = None
        # Held here: a loop keeps its async generators only weakly.
        self._guard: AsyncGenerator[None, None] | None = None
        http: httpx.AsyncClient = sdk._transport._client
        http.event_hooks["request"].append(self._on_request)

    async def _on_request(self, request: httpx.Request) -> None:
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        # The first request on this loop: what it opens must be closed on it.
        self._loop = loop
        self._guard = self._closed_at_shutdown()
        await self._guard.__anext__()

    async def _closed_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self._sdk.aclose()

    def close(self) -> None:
        """Close the client now if its loop is still open and idle; else its loop's
        shutdown does (or did)."""
        loop, guard = self._loop, self._guard
        if loop is None or guard is None:
            # It never sent a request: no connection is open, so no loop owns one.
            asyncio.run(self._sdk.aclose())
            return
        if not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(guard.aclose())
