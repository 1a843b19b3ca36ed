"""A stream's results socket answered in process: what the SDK uses of a WebSocket.

The SDK reads a deployment stream's results with ``websockets``' ``ClientConnection``:
a context manager whose ``recv`` gives each message and raises ``ConnectionClosed``, with
the close the server sent, once the stream ended. :class:`InProcessResults` is that,
reading the fake's stream (see ``Api.results_socket``); the SDK's stream reaches it
through :mod:`pictograph_testing._sdk.results_socket`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

__all__ = ["InProcessResults", "closed_connection"]


class InProcessResults:
    """A results socket answered by a fake: what the SDK uses of ``websockets``'
    ``ClientConnection`` (a context manager, ``recv``, ``close``).

    ``recv`` lets the virtual clock run to the next message (a frame, a second's stats),
    as a socket read waits for it, and raises ``ConnectionClosed`` with the close the
    fake gives once the stream ended, as ``websockets`` does.
    """

    def __init__(self, next_message: Callable[[], tuple[bytes | None, tuple[int, str] | None]]):
        self._next_message = next_message
        self._closed: tuple[int, str] | None = None

    def __enter__(self) -> InProcessResults:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def recv(self, timeout: float | None = None, decode: bool | None = None) -> str:
        if self._closed is None:
            message, closing = self._next_message()
            if message is not None:
                return message.decode()
            self._closed = closing or (1000, "")
        raise _closed(*self._closed)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is None:
            self._closed = (code, reason)


def closed_connection(code: int, reason: str) -> InProcessResults:
    """A connection that closes at once, as a socket for a stream that is gone does."""
    return InProcessResults(lambda: (None, (code, reason)))


def _closed(code: int, reason: str) -> Exception:
    from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
    from websockets.frames import Close

    kind = ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError
    return kind(Close(code, reason), None)
