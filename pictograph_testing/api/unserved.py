"""Routes the fake does not serve: a 404 that says so, and a record of every such call.

The real API answers an unknown path with a plain 404, which reads like a wrong id. A
fake that answered the same way would hide its own gaps: a test would chase a missing
dataset when the truth is that the fake has no such route yet. So a request that no
endpoint of the route table serves, for any SDK release, gets a 404 with the code
``not_implemented_by_fake`` and a message naming the route, the SDK methods known to send
it, and ``docs/fidelity.md``; the call is kept in ``FakePictograph.unserved_calls``.

A path that the table serves to *other* releases (one retired in the caller's release),
and a collection asked for without its trailing ``/``, are not gaps of the fake: they
keep the API's own "No route" 404 (``api/table.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from pictograph_testing.api.route_paths import DEVELOPER_PATH
from pictograph_testing.api.sdk_surface import NOT_SERVED
from pictograph_testing.docs_links import page
from pictograph_testing.world.errors import NotFound

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "CODE",
    "FIDELITY_PAGE",
    "NotImplementedByFake",
    "UnservedCall",
    "not_served_templates",
    "sdk_methods_sending",
]

CODE = "not_implemented_by_fake"
FIDELITY_PAGE = page("fidelity")
_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s,()]*)")
_PARAMETER = re.compile(r"(\{[a-z_]+\})")


@dataclass(frozen=True)
class UnservedCall:
    """One request the fake answered with 404 ``not_implemented_by_fake``."""

    method: str
    path: str
    """The path as sent (percent-encoding kept), without the query."""
    sdk_methods: tuple[str, ...]
    """The SDK methods known to send this route (``"webhooks.list"``); may be empty."""
    request_id: str
    """The ``X-Request-Id`` of the answer: find the call in ``fake.calls`` by it."""
    at: datetime
    """The virtual instant the call was answered."""


class NotImplementedByFake(NotFound):
    """The 404 for a route the fake does not serve (yet), said plainly."""

    code = CODE

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        self.sdk_methods = sdk_methods_sending(method, path)
        sent_by = f" (sent by {', '.join(self.sdk_methods)})" if self.sdk_methods else ""
        super().__init__(
            f"pictograph-testing does not implement {method} {path} yet{sent_by}; this is a "
            f"gap of the fake, not a missing id. {FIDELITY_PAGE} lists what the fake "
            "serves; FakePictograph.unserved_calls lists every such call.",
            details={
                "method": method,
                "path": path,
                "sdk_methods": list(self.sdk_methods),
                "see": FIDELITY_PAGE,
            },
        )


def sdk_methods_sending(method: str, path: str) -> tuple[str, ...]:
    """The not-served SDK methods whose routes match ``method path`` most closely."""
    matched: list[tuple[int, str]] = []
    for verb, pattern, literal, sdk_method in _not_served_routes():
        if verb == method and pattern.fullmatch(path):
            matched.append((literal, sdk_method))
    if not matched:
        return ()
    best = max(literal for literal, _ in matched)
    return tuple(sorted({sdk_method for literal, sdk_method in matched if literal == best}))


@cache
def not_served_templates() -> tuple[tuple[str, str], ...]:
    """Each ``(METHOD, full path template)`` of :data:`NOT_SERVED`: the routes the SDK sends
    that the fake does not answer (``{name}`` a segment, ``{...path}`` any number)."""
    return tuple(
        (verb, template if template.startswith("/api/") else DEVELOPER_PATH + template)
        for text in NOT_SERVED.values()
        for verb, template in _ROUTE.findall(text)
    )


@cache
def _not_served_routes() -> tuple[tuple[str, re.Pattern[str], int, str], ...]:
    """Each ``METHOD /path`` of :data:`NOT_SERVED` as a pattern over a sent path, with the
    length of its literal text (the more, the more specific)."""
    routes: list[tuple[str, re.Pattern[str], int, str]] = []
    for sdk_method, text in NOT_SERVED.items():
        for verb, template in _ROUTE.findall(text):
            full = template if template.startswith("/api/") else DEVELOPER_PATH + template
            pieces = _PARAMETER.split(full)
            regex = "".join(
                (".+" if piece.endswith("path}") else "[^/]+")
                if _PARAMETER.fullmatch(piece)
                else re.escape(piece)
                for piece in pieces
            )
            literal = sum(len(p) for p in pieces if not _PARAMETER.fullmatch(p))
            routes.append((verb, re.compile(regex), literal, sdk_method))
    return tuple(routes)
