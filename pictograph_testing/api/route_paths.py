"""One path convention for whatever names the API's routes: faults, the journal, control routes.

A path is either relative to ``/api/v1/developer/`` (``"credits/balance"``) or written in
full (``"/api/v1/developer/credits/balance"``); both mean the same route. A path under
the API prefix with no ``*`` must be one the API has (a route the fake serves, or one the
SDK is known to send that the fake does not serve yet): a typo is a ``ValueError`` naming
the nearest routes, never a fault that silently never fires or a filter that silently
matches nothing. A route template's placeholders (``"datasets/{dataset_id}"``) stand for
any one segment. Paths outside the API (``/_fake/...``, signed storage URLs) and compiled
patterns are taken as they are.
"""

from __future__ import annotations

import difflib
import re
from functools import cache

__all__ = ["API_PREFIX", "API_ROOT", "DEVELOPER_PATH", "PLACEHOLDER", "UnknownRoute", "api_path"]

API_ROOT = "/api/v1/"
"""Where every route of the API lies (those outside the developer API are written in full)."""
API_PREFIX = f"{API_ROOT}developer/"
"""The developer API, which route templates are relative to."""
DEVELOPER_PATH = API_PREFIX.removesuffix("/")
""":data:`API_PREFIX` without its closing slash, to join with a path that has one."""
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::uuid|\.\.\.)?\}")
# What a placeholder stands for when checking a template: a segment any parameter takes.
_ANY_SEGMENT = "00000000-0000-4000-8000-000000000000"


class UnknownRoute(ValueError):
    """A path (and method) the API has no route for."""


def api_path(path: str, method: str | None = None) -> str:
    """Return ``path`` in full form, after checking the API has such a route.

    ``method`` (any case), when given, must be one the route takes. Raise
    :class:`UnknownRoute` for a path under the API prefix that no route matches.
    """
    full = path if path.startswith("/") else API_PREFIX + path
    if not full.startswith(API_PREFIX) or "*" in full:
        return full
    raw = PLACEHOLDER.sub(_ANY_SEGMENT, full[len(API_PREFIX) :])
    verb = method.upper() if method is not None else None
    if not _routed(raw, verb):
        raise UnknownRoute(_unknown(path, full, verb))
    return full


def _routed(raw: str, method: str | None) -> bool:
    from pictograph_testing.api.resources import ROUTER
    from pictograph_testing.api.unserved import sdk_methods_sending

    for verb in (method,) if method is not None else _METHODS:
        if ROUTER.serves_another_release(verb, raw) or sdk_methods_sending(verb, API_PREFIX + raw):
            return True
    return False


def _unknown(path: str, full: str, method: str | None) -> str:
    what = f"{method} {full}" if method is not None else full
    nearest = difflib.get_close_matches(what, _templates(method), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(n) for n in nearest)}?" if nearest else ""
    return (
        f"the API has no route {what} (path given: {path!r}).{hint} Write a path relative "
        f"to {API_PREFIX} ('credits/balance') or in full ('{API_PREFIX}credits/balance'); "
        "docs/routes.md lists every route"
    )


@cache
def _all_templates() -> tuple[str, ...]:
    from pictograph_testing.api.resources import ENDPOINTS

    found: set[str] = set()
    for endpoint in ENDPOINTS:
        for template in (endpoint.path, *(alias for alias, _ in endpoint.aliases)):
            found.add(f"{endpoint.method} {API_PREFIX}{template}")
    return tuple(sorted(found))


def _templates(method: str | None) -> list[str]:
    every = _all_templates()
    if method is None:
        return sorted({t.partition(" ")[2] for t in every})
    return [t for t in every if t.startswith(method + " ")]
