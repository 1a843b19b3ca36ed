"""The httpx clients under a fake's SDK clients: plain httpx, minus per-request waste.

Two things httpx repeats on every request cost more than the fake takes to answer:
re-parsing the same relative URL against the base URL, and building urllib request
objects to look for cookies in responses that set none. Both are skipped here when the
result cannot differ (the fake never sets cookies; a given path always merges to the
same URL). Everything else is stock httpx.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["FakeAsyncHttpClient", "FakeHttpClient"]

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
