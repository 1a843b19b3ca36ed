"""The httpx clients under a fake's SDK clients: plain httpx, minus per-request waste.

Two things httpx repeats on every request cost more than the fake takes to answer:
re-parsing the same relative URL against the base URL, and building urllib request
objects to look for cookies in responses that set none. Both are skipped here when the
result cannot differ (the fake never sets cookies; a given path always merges to the
same URL). The network transports under SDK clients that the code under test builds
for an active fake put off their TLS set-up until a request leaves for the network.
Everything else is stock httpx.

A fake hands out a client per test (the pytest fixture) and httpx's constructor parses
the base URL twice and builds its headers key by key: :meth:`FakeHttpClient.bound` copies
a client built once per base URL, timeout and headers instead, with its own mutable parts.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import Self

__all__ = [
    "API_KEY_HEADER",
    "DeferredAsyncHTTPTransport",
    "DeferredHTTPTransport",
    "FakeAsyncHttpClient",
    "FakeHttpClient",
]

_MERGED_URLS_KEPT = 512
API_KEY_HEADER = "X-API-Key"
"""The header that carries a client's key: the one header its template leaves out."""


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


class _Bound(_MergedUrls):
    """Make clients by copying one built with the same base URL, timeout and headers."""

    _cookies: httpx.Cookies
    _headers: httpx.Headers

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # the httpx client's
        self._merged = {}
        self._cookies = _QuietCookies()

    @classmethod
    def bound(
        cls,
        base_url: str,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport,
        timeout: float,
        headers: tuple[tuple[str, str], ...],
    ) -> Self:
        """A client as ``cls(base_url=..., transport=..., timeout=..., headers=...)`` makes.

        Copied from a template made once per class, base URL, timeout and headers (all
        but the API key's value, which is set on the copy where the template has it):
        what a client may change (its headers, cookies, event hooks, mounts, state) is
        its own; what it only reads (base URL, timeout, relative paths merged against
        the base URL) is shared.
        """
        key = tuple((n, "" if n == API_KEY_HEADER else v) for n, v in headers)
        template = _templates.get((cls, base_url, timeout, key), _MISSING)
        if template is _MISSING:
            template = _template(cls, base_url, timeout, key)
        if template is None:  # an httpx that lays its clients out differently
            return cls(base_url=base_url, transport=transport, timeout=timeout, headers=headers)
        client = cls.__new__(cls)
        state = vars(client)
        state.update(vars(template))
        state["_headers"] = _keyed_headers(template, headers).copy()
        state["_cookies"] = _QuietCookies()
        state["_event_hooks"] = {"request": [], "response": []}
        state["_mounts"] = {}
        state["_transport"] = transport
        return client


class FakeHttpClient(_Bound, httpx.Client):
    """``httpx.Client`` for a fake's ``pictograph.Client``."""


class FakeAsyncHttpClient(_Bound, httpx.AsyncClient):
    """``httpx.AsyncClient`` for a fake's ``pictograph.AsyncClient``."""


# What a client built with a transport and no proxies, mounts or hooks holds, as of
# httpx 0.27 and 0.28. Copying is only safe when every attribute is known: the mutable
# ones are replaced, the rest are immutable or only read.
_CLIENT_STATE = frozenset(
    {
        "_auth",
        "_base_url",
        "_cookies",
        "_default_encoding",
        "_event_hooks",
        "_headers",
        "_merged",
        "_mounts",
        "_params",
        "_state",
        "_timeout",
        "_transport",
        "_trust_env",
        "follow_redirects",
        "max_redirects",
    }
)
_TEMPLATES_KEPT = 64
_templates: dict[tuple[type, str, float, tuple[tuple[str, str], ...]], Any] = {}
_MISSING = object()


def _template(
    cls: type[_Bound], base_url: str, timeout: float, headers: tuple[tuple[str, str], ...]
) -> _Bound | None:
    # Built with no transport of its own (a fake's is set on each copy); its `_merged`
    # is shared by the copies: a path merges to the same URL against the same base.
    template: _Bound | None = cls(
        base_url=base_url, transport=_NO_TRANSPORT, timeout=timeout, headers=dict(headers)
    )
    if set(vars(template)) != _CLIENT_STATE or vars(template)["_mounts"]:
        template = None
    if len(_templates) >= _TEMPLATES_KEPT:
        _templates.clear()
    _templates[cls, base_url, timeout, headers] = template
    return template


def _keyed_headers(template: _Bound, headers: tuple[tuple[str, str], ...]) -> httpx.Headers:
    """The template's headers with the API key's value of ``headers``, each client's to copy.

    Kept per key: a fake per test hands out clients with the same key again and again.
    """
    key = dict(headers).get(API_KEY_HEADER, "")
    found = _headers_by_key.get((template, key))
    if found is None:
        found = template._headers.copy()
        if API_KEY_HEADER in found:
            found[API_KEY_HEADER] = key  # in the template's place: the same header order
        if len(_headers_by_key) >= _TEMPLATES_KEPT:
            _headers_by_key.clear()
        _headers_by_key[template, key] = found
    return found


_headers_by_key: dict[tuple[_Bound, str], httpx.Headers] = {}


class _NoTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The templates' transport: replaced in every copy, never sent a request."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a client template sent a request; this is a bug")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a client template sent a request; this is a bug")


_NO_TRANSPORT = _NoTransport()


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
    route sees its requests. One that outlives the fake (a client an app caches, built
    in one test and used in a later one without a fake) is refused with
    :class:`~pictograph_testing.StrayRequest`: it would send the fake's key to the
    network.
    """

    _setup = httpx.HTTPTransport.__init__

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_after_the_fake(request)
        return super().handle_request(request)

    def close(self) -> None:
        if self.set_up:
            super().close()


class DeferredAsyncHTTPTransport(_DeferredSetup, httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` that sets up TLS and its pool only when first used."""

    _setup = httpx.AsyncHTTPTransport.__init__

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _refuse_after_the_fake(request)
        return await super().handle_async_request(request)

    async def aclose(self) -> None:
        if self.set_up:
            await super().aclose()


def _refuse_after_the_fake(request: httpx.Request) -> None:
    """Refuse a request of a client built for a fake once no fake serves its host."""
    # Imported here: activation builds on this module.
    from pictograph_testing.activation import serves
    from pictograph_testing.strictness import StrayRequest, outlived_message

    if not serves(request.url):
        raise StrayRequest(outlived_message(request.method, request.url))
