"""The httpx clients under a fake's SDK clients: plain httpx, minus per-request waste.

Two things httpx repeats on every request cost more than the fake takes to answer:
re-parsing the same relative URL against the base URL, and building urllib request
objects to look for cookies in responses that set none. Both are skipped here when the
result cannot differ (the fake never sets cookies; a given path always merges to the
same URL). The network transports under SDK clients that the code under test builds
for an active fake put off their TLS set-up until a request leaves for the network.
Everything else is stock httpx.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DeferredAsyncHTTPTransport",
    "DeferredHTTPTransport",
    "FakeAsyncHttpClient",
    "FakeHttpClient",
]

_MERGED_URLS_KEPT = 512


class _QuietCookies(httpx.Cookies):
    """A cookie jar that only does the work of reading cookies when there are some."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class _MergedUrls:
    """Remember what each relative path merged to against the client's base URL."""

    _merged: dict[str, httpx.URL]
    base_url: httpx.URL

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        if not isinstance(url, str):
            return super()._merge_url(url)  # type: ignore[misc, no-any-return]
        merged = self._merged.get(url)
        if merged is None:
            if len(self._merged) >= _MERGED_URLS_KEPT:
                self._merged.clear()
            merged = self._merged[url] = super()._merge_url(url)  # type: ignore[misc]
        return merged


class FakeHttpClient(_MergedUrls, httpx.Client):
    """``httpx.Client`` for a fake's ``pictograph.Client``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._merged = {}
        self._cookies = _QuietCookies()


class FakeAsyncHttpClient(_MergedUrls, httpx.AsyncClient):
    """``httpx.AsyncClient`` for a fake's ``pictograph.AsyncClient``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._merged = {}
        self._cookies = _QuietCookies()


class _DeferredSetup:
    """Postpone a network transport's ``__init__`` until an attribute it sets is read."""

    _setup: ClassVar[Callable[..., None]]

    def __init__(self, **options: Any) -> None:
        # Deliberately not the base __init__ yet: that is the cost deferred.
        self._deferred: dict[str, Any] | None = options
        self._setup_lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the base __init__ sets (its connection pool).
        lock = vars(self).get("_setup_lock")
        if lock is None or name.startswith("__"):
            raise AttributeError(name)
        with lock:
            options = self._deferred
            if options is not None:
                self._deferred = None
                type(self)._setup(self, **options)
        return object.__getattribute__(self, name)

    @property
    def set_up(self) -> bool:
        """Whether the real transport was needed (a request left for the network)."""
        return self._deferred is None


class DeferredHTTPTransport(_DeferredSetup, httpx.HTTPTransport):
    """``httpx.HTTPTransport`` that sets up TLS and its pool only when first used.

    The SDK clients built while a fake is active get one: building a network transport
    costs ~20 ms (loading the CA bundle), and a client whose every request the fake
    answers never needs it. It is still a real ``HTTPTransport``, so the fake's respx
    route sees its requests, and one that outlives the fake reaches the network.
    """

    _setup = httpx.HTTPTransport.__init__

    def close(self) -> None:
        if self.set_up:
            super().close()


class DeferredAsyncHTTPTransport(_DeferredSetup, httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` that sets up TLS and its pool only when first used."""

    _setup = httpx.AsyncHTTPTransport.__init__

    async def aclose(self) -> None:
        if self.set_up:
            await super().aclose()
