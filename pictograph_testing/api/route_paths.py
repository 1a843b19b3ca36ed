"""One path convention for whatever names the API's routes: faults, the journal, control routes.

A path is either relative to ``/api/v1/developer/`` (``"credits/balance"``) or written in
full (``"/api/v1/developer/credits/balance"``); both mean the same route. A path under
the API (``/api/v1/``) must be one the API has (a route the fake serves, or one the SDK is
known to send that the fake does not serve yet), and a pattern (``*`` within a segment,
``**`` across segments) must match at least one: a typo is a ``ValueError`` naming the
nearest routes, never a fault that silently never fires or a filter that silently
matches nothing. A route template's placeholders (``"datasets/{dataset_id}"``) stand for
any one segment. Paths outside the API (signed storage URLs, a deployment's gateway) and
compiled patterns are taken as they are, but one written with a leading ``/`` that names
an API route only when read relative (``"/credits/balance"``) is refused as the slip it is.
"""

from __future__ import annotations

import difflib
import re
from functools import cache, lru_cache
from urllib.parse import unquote

from pictograph_testing.docs_links import page

__all__ = [
    "API_PREFIX",
    "API_ROOT",
    "DEVELOPER_PATH",
    "GATEWAY_PREFIX",
    "PLACEHOLDER",
    "UnknownRoute",
    "api_path",
    "below_mount",
    "decoded_path",
    "journal_path",
    "one_spelling",
    "other_spelling",
]

GATEWAY_PREFIX = "/_gateway"
"""Where the deployments' gateway is mounted in a fake's paths (its journal, its faults)."""
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


_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


def decoded_path(raw: str) -> str:
    """A request's path as faults and the journal match it: percent-decoded, except that
    an encoded slash stays ``%2F``. A name holding a ``/`` (the SDK sends dataset
    ``"a/b"`` as ``a%2Fb``) is one segment, as the router reads it, so
    ``"datasets/{dataset}"`` and ``"datasets/*"`` match it."""
    if "%" not in raw:
        return raw
    return "%2F".join(unquote(part) for part in _ENCODED_SLASH.split(raw))


def other_spelling(path: str) -> str | None:
    """The other spelling of a route's path: its final ``/`` taken off, or one added
    (the API answers either, never redirecting: the wire spec, section 0.3). ``None``
    where taking it off would leave an empty segment (``datasets//``): one final ``/`` is
    optional, not two."""
    if not path.endswith("/"):
        return path + "/"
    return None if path.endswith("//") or path == "/" else path[:-1]


def one_spelling(path: str) -> str:
    """What a route's two spellings share: ``path`` without its optional final ``/``."""
    other = other_spelling(path)
    return other if other is not None and path.endswith("/") else path


class UnknownRoute(ValueError):
    """A path (and method) the API has no route for."""


def api_path(path: str, method: str | None = None) -> str:
    """Return ``path`` in full form, after checking the API has such a route.

    ``method`` (any case), when given, must be one the route takes. Raise
    :class:`UnknownRoute` for a path under the API prefix that no route matches.
    """
    verb = method.upper() if method is not None else None
    # HEAD is answered wherever GET is: it names GET's routes.
    full, problem = _checked(path, "GET" if verb == "HEAD" else verb)
    if problem is not None:
        raise UnknownRoute(problem)
    return full


@lru_cache(maxsize=1024)
def _checked(path: str, verb: str | None) -> tuple[str, str | None]:
    """``path`` in full, and what is wrong with it (``None``: nothing). Kept: the routes
    never change, and a pattern is checked against every template (a test filtering its
    journal in a loop asks the same few again and again)."""
    full = path if path.startswith("/") else API_PREFIX + path
    if _in_api(full):
        if not _names_a_route(full, verb):
            return full, _unknown(path, full, verb)
    elif _outside_by_a_slash(full, verb):
        relative = full.removeprefix("/")
        return full, (
            f"{path!r} is outside the API: a path that starts with '/' is written in full. "
            f"Write {relative!r} (relative to {API_PREFIX}) or {API_PREFIX + relative!r}"
        )
    return full, None


def _in_api(full: str) -> bool:
    """Whether ``full`` lies under :data:`API_ROOT`, or (a pattern) may reach into it."""
    literal = _WILDCARD.split(full, maxsplit=1)[0]
    return literal.startswith(API_ROOT) or (literal != full and API_ROOT.startswith(literal))


def _outside_by_a_slash(full: str, method: str | None) -> bool:
    """Whether ``full``, outside the API, names a route when read without its leading
    ``/``: a relative path given one ``/`` too many. The fake's own paths (signed URLs,
    gateways, control routes) all start with ``/_``, which no route does."""
    if full.startswith("/_"):
        return False
    return _names_a_route(API_PREFIX + full.removeprefix("/"), method)


def _names_a_route(full: str, method: str | None) -> bool:
    """Whether a route of the API (``method``'s, when given) answers ``full``, a path or a
    pattern under :data:`API_ROOT`."""
    if "*" in full:
        pattern = _tokens(full)
        return any(_overlap(pattern, template) for template in _template_tokens(method))
    below = full[len(API_PREFIX) :] if full.startswith(API_PREFIX) else full
    return _routed(PLACEHOLDER.sub(_ANY_SEGMENT, below), method)


def _routed(raw: str, method: str | None) -> bool:
    from pictograph_testing.api.resources import ROUTER
    from pictograph_testing.api.unserved import sdk_methods_sending

    # Either spelling of a route is the route (see other_spelling).
    other = other_spelling(raw)
    for spelling in (raw,) if other is None else (raw, other):
        sent = spelling if spelling.startswith(API_ROOT) else API_PREFIX + spelling
        for verb in (method,) if method is not None else _METHODS:
            if ROUTER.serves_another_release(verb, spelling) or sdk_methods_sending(verb, sent):
                return True
    return False


def _unknown(path: str, full: str, method: str | None) -> str:
    what = f"{method} {full}" if method is not None else full
    nearest = difflib.get_close_matches(what, _templates(method), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(n) for n in nearest)}?" if nearest else ""
    return (
        f"the API has no route {what} (path given: {path!r}).{hint} Write a path relative "
        f"to {API_PREFIX} ('credits/balance') or in full ('{API_PREFIX}credits/balance'); "
        f"{page('routes')} lists every route"
    )


# ── patterns against route templates ──
#
# A pattern names a route when some path matches both: the two are regular expressions of
# a simple kind, so the question is whether their product automaton accepts anything.
# A token is ("lit", char), ("one", span): one character, or ("star", span): any number,
# where span "seg" keeps within a segment (not '/') and "any" crosses segments.
_Token = tuple[str, str]
_WILDCARD = re.compile(r"\*|" + PLACEHOLDER.pattern)


def _tokens(text: str, *, template: bool = False) -> tuple[_Token, ...]:
    """A pattern (``*``, ``**``, ``{placeholder}``) or a route template as tokens.

    As :func:`~pictograph_testing.journal.path_matcher` matches: in a pattern a placeholder
    is one non-empty segment; in a template ``{path...}`` (or ``{...path}``) spans segments.
    """
    tokens: list[_Token] = []
    for piece in re.split(r"(\*\*|\*|\{[^{}/]*\})", text):
        if piece in ("*", "**"):
            tokens.append(("star", "any" if piece == "**" else "seg"))
        elif piece.startswith("{") and piece.endswith("}") and len(piece) > 2:
            # The SDK surface's templates name a multi-segment parameter `...path}`.
            spans = template and ("..." in piece or piece.endswith("path}"))
            span = "any" if spans else "seg"
            tokens += [("one", span), ("star", span)]
        else:
            tokens += [("lit", char) for char in piece]
    return tuple(tokens)


def _meet(a: _Token, b: _Token) -> bool:
    """Whether one character can be taken by both tokens."""
    if a[0] == "lit" and b[0] == "lit":
        return a[1] == b[1]
    if a[0] == "lit" or b[0] == "lit":
        char, span = (a[1], b[1]) if a[0] == "lit" else (b[1], a[1])
        return char != "/" or span == "any"
    return True  # two classes share every character but '/'


def _overlap(a: tuple[_Token, ...], b: tuple[_Token, ...]) -> bool:
    """Whether some path matches both token sequences."""
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i][0] == "star":
            todo.append((i + 1, j))
        if j < len(b) and b[j][0] == "star":
            todo.append((i, j + 1))
        if i < len(a) and j < len(b) and _meet(a[i], b[j]):
            todo.append((i if a[i][0] == "star" else i + 1, j if b[j][0] == "star" else j + 1))
    return False


@cache
def _template_tokens(method: str | None) -> tuple[tuple[_Token, ...], ...]:
    """Every route ``method`` reaches (any method's, for ``None``) as tokens: served in
    some release, or sent by the SDK and not served."""
    from pictograph_testing.api.unserved import not_served_templates

    every = _all_templates()
    full = {t.partition(" ")[2] for t in every if method is None or t.startswith(method + " ")}
    full |= {path for verb, path in not_served_templates() if method in (None, verb)}
    return tuple(_tokens(path, template=True) for path in sorted(full))


@cache
def _all_templates() -> tuple[str, ...]:
    from pictograph_testing.api.resources import ENDPOINTS

    found: set[str] = set()
    for endpoint in ENDPOINTS:
        for template in (endpoint.path, *(alias for alias, _ in endpoint.aliases)):
            full = template if template.startswith("/") else API_PREFIX + template
            found.add(f"{endpoint.method} {full}")
    return tuple(sorted(found))


def _templates(method: str | None) -> list[str]:
    every = _all_templates()
    if method is None:
        return sorted({t.partition(" ")[2] for t in every})
    return [t for t in every if t.startswith(method + " ")]


def journal_path(path: str, base_url: str, gateway_url: str) -> str:
    """``path`` as the journal shows it, for faults and filters alike: a path as given,
    or the path a URL names of the fake whose API is at ``base_url`` and deployments'
    gateway at ``gateway_url`` (a deployment's ``endpoint_url`` and patterns on it, an
    API URL, a signed storage URL; its query left out). A URL of neither is a
    ``ValueError``."""
    if not path.startswith(("http://", "https://")):
        return path
    url = path.partition("?")[0]
    # The gateway first: beside a base URL other than the API's own it is below it.
    for root, below in ((gateway_url, GATEWAY_PREFIX), (base_url, "")):
        if root and url.startswith(root + "/"):
            return below + url[len(root) :]
    raise ValueError(
        f"{url!r:.200} is not a URL of this fake: its API is at {base_url} and its "
        f"deployments' endpoints at {gateway_url}/ (or give a path: "
        "'training/', '/_gateway/**/predict')"
    )


def below_mount(path: str, mount: str) -> str:
    """``path`` below a fake's ``mount`` (the path of its base URL, ``""`` for none), or
    ``path`` as it is when it lies outside that folder (``/proxyx`` is not under
    ``/proxy``). The mount itself is ``/`` below it, as a host's root is."""
    if mount and (path == mount or path.startswith(mount + "/")):
        return path[len(mount) :] or "/"
    return path
