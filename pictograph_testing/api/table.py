"""The route table: every endpoint of the fake, declared once, beside its handler.

Each resource module declares its endpoints with :func:`endpoint` on the handler::

    @endpoint(
        "POST", "training/{run}/cancel",
        summary="Cancel a run", sdk=("training.cancel", "jobs.cancel"),
        reply=Data("TrainingRun"), errors=(400, 403),
    )
    def cancel(call: Call) -> Reply: ...

and everything else is derived from the declaration: :class:`Router` dispatches on it
(``api/app.py``), the body and query are checked against it before the handler runs, the
role it names is required, and the OpenAPI document and the fidelity page are generated
from it (``pictograph_testing.openapi``).

Path templates are relative to ``/api/v1/developer/``, except the few routes the API keeps
outside it, which are written in full from :data:`API_ROOT` (``/api/v1/api-keys/{key_id}``);
the resource of such a route is the segment after ``/api/v1/``. A segment is a literal, ``{name}``
(one non-empty segment), ``{name:uuid}`` (one segment that is a UUID) or ``{name...}``
(one or more segments, joined with ``/``: directory paths inside image names). Segments
are split on the raw path and decoded one by one, so an encoded ``/`` stays inside its
segment. A handler that finds its arguments name something else raises
:class:`Fallthrough`, and the next matching endpoint is tried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pictograph_testing.api import messages
from pictograph_testing.api.dialects import NEWEST, Span
from pictograph_testing.api.route_paths import API_ROOT
from pictograph_testing.world.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pictograph_testing.api.dialects import Client, Version, Vocabulary, Wire
    from pictograph_testing.api.spec import Obj, Param
    from pictograph_testing.api.wire import Call, Reply
    from pictograph_testing.world.entities import Role

    Handler = Callable[[Call], Reply]

__all__ = [
    "ALL_RELEASES",
    "API_METHODS",
    "ENDPOINTS",
    "RETIRED",
    "WRITES",
    "Bare",
    "Bytes",
    "Data",
    "Endpoint",
    "Fallthrough",
    "Page",
    "ReplyShape",
    "Retired",
    "Router",
    "endpoint",
    "method_not_allowed",
    "no_route",
    "retired",
]


@dataclass(frozen=True)
class Data:
    """``{"data": <schema>}``: the envelope of most routes."""

    schema: str


@dataclass(frozen=True)
class Page:
    """``{<key>: [<schema>], "pagination": {...}}``: a page of a listing."""

    schema: str
    key: str = "data"


@dataclass(frozen=True)
class Bare:
    """The object itself, with no envelope (credits, annotations, batch, notifications)."""

    schema: str


@dataclass(frozen=True)
class Bytes:
    """A file, not JSON (image bytes, zip bundles, signed downloads)."""

    media: str


ReplyShape = Data | Page | Bare | Bytes
ALL_RELEASES = Span()
"""Where a route written in full (starting with ``/``) starts: outside the developer API."""


class Fallthrough(Exception):
    """Raised by a handler whose arguments belong to the next matching endpoint."""


_SEGMENT = re.compile(r"\{(?P<name>[a-z_]+)(?P<kind>:uuid|\.\.\.)?\}")


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One route: what it takes, who may call it, what it answers, which SDK calls use it."""

    method: str
    path: str
    """Relative to ``/api/v1/developer/``, e.g. ``training/{run}/cancel``."""
    handler: Handler
    summary: str
    sdk: tuple[str, ...]
    reply: ReplyShape
    status: int = 200
    role: Role | None = None
    """The least role the key needs (checked after the body), with ``action`` for the
    message; ``None``: any valid key (or a rule inside the world decides)."""
    action: str = ""
    body: Obj | None = None
    body_optional: bool = False
    query: tuple[Param, ...] = ()
    closed_query: bool = False
    """Refuse query parameters the route does not declare."""
    errors: tuple[int, ...] = ()
    """Statuses besides success, 401, 404 and 422 (which any route may answer)."""
    span: Span = ALL_RELEASES
    """The SDK releases that call this route at all."""
    wires: tuple[Wire, ...] = ()
    """How the route differs for older releases (see :mod:`.dialects`)."""
    aliases: tuple[tuple[str, Span], ...] = ()
    """Other paths older releases call this route by (``training/by-name/{run}``), each
    with the releases that send it."""
    values: tuple[Vocabulary, ...] = ()
    """Body fields or query parameters whose values only some releases' API took."""
    unrouted: tuple[tuple[str, tuple[Span, ...]], ...] = ()
    """Paths some releases call for this route that today's API does not serve, never
    served or renamed since (each with the releases that send it; none: any release, for
    a value no directory has, such as an empty segment): the API's own "No route" 404
    for every caller, not a gap of the fake (:meth:`Router.unrouted`)."""

    def wire_for(self, version: Version, client: Client = "sync") -> Wire | None:
        """The dialect of this route that ``version`` speaks; ``None``: today's."""
        for wire in self.wires:
            if wire.span.holds(version, client):
                return wire
        return None

    @property
    def resource(self) -> str:
        return self.path.removeprefix(API_ROOT).split("/", 1)[0]

    @property
    def params(self) -> tuple[str, ...]:
        """The path parameters' names, in order."""
        return tuple(m.group("name") for m in _SEGMENT.finditer(self.path))


@dataclass(frozen=True)
class Retired:
    """A path some releases call for a resource today's API has dropped altogether: its
    own "No route" 404 for every caller, as an endpoint's ``unrouted`` path is, where no
    endpoint of today's stands in its place to declare it."""

    method: str
    path: str
    span: Span
    """The releases that call it."""


RETIRED: list[Retired] = []
"""Every retired path, in declaration order (see :func:`retired`)."""


def retired(span: Span, *routes: tuple[str, str]) -> None:
    """Declare ``routes`` (method, path below ``/api/v1/developer/``), which the releases
    of ``span`` call, retired from the API."""
    RETIRED.extend(Retired(method, path, span) for method, path in routes)


API_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
"""Every method a route of the API may take (HEAD wherever GET is); another one is no
gap of the fake but a method the API never serves (:func:`method_not_allowed`)."""

WRITES = frozenset({"POST", "PUT", "PATCH"})
"""The methods that send a body: an ``Idempotency-Key`` replays their answer, and a body
over the API's limit is refused (413)."""

ENDPOINTS: list[Endpoint] = []
"""Every endpoint, in declaration order (resource modules register on import)."""


def endpoint(
    method: str,
    path: str,
    *,
    summary: str,
    sdk: tuple[str, ...],
    reply: ReplyShape,
    status: int = 200,
    role: Role | None = None,
    action: str = "",
    body: Obj | None = None,
    body_optional: bool = False,
    query: tuple[Param, ...] = (),
    closed_query: bool = False,
    errors: tuple[int, ...] = (),
    span: Span = ALL_RELEASES,
    wires: tuple[Wire, ...] = (),
    aliases: tuple[tuple[str, Span], ...] = (),
    values: tuple[Vocabulary, ...] = (),
    unrouted: tuple[tuple[str, tuple[Span, ...]], ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare the decorated handler as the endpoint ``method path``."""

    def register(handler: Handler) -> Handler:
        ENDPOINTS.append(
            Endpoint(
                method,
                path,
                handler,
                summary,
                sdk,
                reply,
                status,
                role,
                action,
                body,
                body_optional,
                query,
                closed_query,
                errors,
                span,
                wires,
                aliases,
                values,
                unrouted,
            )
        )
        return handler

    return register


# ── matching ──

# A compiled template: literal segments as str, parameters as (name, kind).
_Part = str | tuple[str, str]


def _compile(path: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    for segment in path.split("/"):
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            parts.append(segment)
        else:
            parts.append((match.group("name"), match.group("kind") or ""))
    return tuple(parts)


def _match(parts: tuple[_Part, ...], segments: list[str]) -> dict[str, str] | None:
    rest = next((i for i, p in enumerate(parts) if isinstance(p, tuple) and p[1] == "..."), None)
    if rest is None:
        if len(parts) != len(segments):
            return None
        return _match_fixed(parts, segments)
    head, tail = parts[:rest], parts[rest + 1 :]
    if len(segments) < len(head) + len(tail) + 1:
        return None
    found = _match_fixed(head, segments[: len(head)])
    if found is None:
        return None
    ending = _match_fixed(tail, segments[len(segments) - len(tail) :]) if tail else {}
    if ending is None:
        return None
    middle = segments[len(head) : len(segments) - len(tail)]
    if not all(middle):
        return None
    found.update(ending)
    found[parts[rest][0]] = "/".join(middle)
    return found


def _match_fixed(parts: tuple[_Part, ...], segments: list[str]) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        if isinstance(part, str):
            if part != segment:
                return None
        elif not segment or (part[1] == ":uuid" and not _UUID.fullmatch(segment)):
            return None
        else:
            found[part[0]] = segment
    return found


_Entry = tuple[int, "Endpoint", tuple[_Part, ...], Span]


def _specificity(entry: _Entry) -> tuple[int, int, int]:
    index, _, parts, _ = entry
    has_rest = any(isinstance(p, tuple) and p[1] == "..." for p in parts)
    literals = sum(1 for p in parts if isinstance(p, str))
    return (has_rest, -literals, index)


_KIND_PATTERNS = {
    "": "[^/]+",
    ":uuid": "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "...": "[^/]+(?:/[^/]+)*",
}


_UUID = re.compile(_KIND_PATTERNS[":uuid"])
_EMPTY_FILLERS = ("_", "00000000-0000-4000-8000-000000000000")
"""What stands in for an empty segment when asking which route it was meant for: a name,
and an id where a route takes a UUID."""


def _pattern(parts: tuple[_Part, ...]) -> re.Pattern[str]:
    """The template as one regular expression over an undecoded path (the fast path)."""
    pieces = [
        re.escape(p) if isinstance(p, str) else f"(?P<{p[0]}>{_KIND_PATTERNS[p[1]]})" for p in parts
    ]
    return re.compile("/".join(pieces))


Match = tuple["Endpoint", dict[str, str]]


class Router:
    """Find the endpoint for a method, a raw path (below the API prefix) and a release."""

    def __init__(self, endpoints: list[Endpoint], retired: Sequence[Retired] = ()) -> None:
        table: dict[tuple[str, str], list[_Entry]] = {}
        index = 0
        for e in endpoints:
            for path, span in ((e.path, e.span), *e.aliases):
                parts = _compile(path)
                if not isinstance(parts[0], str):
                    raise ValueError(f"{path!r}: a route's first segment names its resource")
                table.setdefault((e.method, parts[0]), []).append((index, e, parts, span))
                index += 1
        self._table = {
            slot: [
                (e, parts, _pattern(parts), span)
                for _, e, parts, span in sorted(entries, key=_specificity)
            ]
            for slot, entries in table.items()
        }
        self.resources = frozenset(e.resource for e in endpoints)
        self._unrouted: dict[tuple[str, str], list[tuple[tuple[_Part, ...], re.Pattern[str]]]] = {}
        unrouted = [(e.method, path) for e in endpoints for path, _ in e.unrouted]
        unrouted += [(gone.method, gone.path) for gone in retired]
        for method, path in unrouted:
            parts = _compile(path)
            assert isinstance(parts[0], str)
            self._unrouted.setdefault((method, parts[0]), []).append((parts, _pattern(parts)))
        # Polling asks for the same few paths thousands of times: remember recent answers.
        # Shared by every fake in the process; a race only recomputes an entry.
        self._recent: dict[tuple[str, str, Version, Client], list[Match]] = {}

    def candidates(
        self, method: str, raw: str, sdk: Version = NEWEST, client: Client = "sync"
    ) -> list[Match]:
        """Every endpoint that release ``sdk``'s ``client`` reaches with ``method`` and
        ``raw``, most specific first, with its path parameters decoded (callers must not
        change them)."""
        slot = (method, raw, sdk, client)
        recent = self._recent.get(slot)
        if recent is not None:
            return recent
        found = self._match(method, raw, sdk, client)
        if len(self._recent) >= 1024:
            self._recent.clear()
        self._recent[slot] = found
        return found

    def methods_at(self, raw: str, sdk: Version = NEWEST, client: Client = "sync") -> list[str]:
        """The methods (of :data:`API_METHODS`) some endpoint takes at ``raw`` for
        release ``sdk``'s ``client``: what an ``Allow`` header lists."""
        found = [m for m in API_METHODS if m != "HEAD" and self.candidates(m, raw, sdk, client)]
        if "GET" in found:
            found.insert(1, "HEAD")
        return found

    def serves_another_release(self, method: str, raw: str) -> bool:
        """Whether some SDK release reaches an endpoint with ``method`` and ``raw``: a
        path retired (or not yet called) in the caller's release, not one never served."""
        return bool(self._match(method, raw, None, "sync"))

    def sent_empty(self, method: str, raw: str) -> bool:
        """Whether ``raw`` reaches a route of some release once its empty segments are
        filled: an id or name sent empty (``annotation-comments//resolve``), which the
        API answers with its own 404, not a route the fake lacks."""
        segments = raw.split("/")
        if "" not in segments[:-1] and (len(segments) < 2 or segments[-1]):
            return False
        # A trailing empty segment is the id a path ends in (`annotations/a/`), or, after
        # another empty one, the optional final `/` of a route (`datasets//`: a dataset
        # sent empty): a collection's own `/` was matched before this is asked.
        head = segments[:-1] if not segments[-1] and "" in segments[:-1] else None
        for filler in _EMPTY_FILLERS:
            filled = ["/".join(s or filler for s in segments)]
            if head is not None:
                bare = "/".join(s or filler for s in head)
                filled += [bare, bare + "/"]
            if any(self._match(method, path, None, "sync") for path in filled):
                return True
        return False

    def unrouted(self, method: str, raw: str) -> bool:
        """Whether ``method`` and ``raw`` are a path some release calls that the API never
        served or no longer serves (an endpoint's ``unrouted``, a :class:`Retired` path):
        the API's own 404, whoever calls it."""
        slash = raw.find("/")
        entries = self._unrouted.get((method, raw if slash == -1 else raw[:slash]), ())
        if "%" not in raw:
            return any(pattern.fullmatch(raw) for _, pattern in entries)
        segments = [unquote(s) for s in raw.split("/")]
        return any(_match(parts, segments) is not None for parts, _ in entries)

    def _match(self, method: str, raw: str, sdk: Version | None, client: Client) -> list[Match]:
        slash = raw.find("/")
        entries = self._table.get((method, raw if slash == -1 else raw[:slash]), ())
        found: list[Match] = []
        if "%" not in raw:
            # Nothing to decode: each template's expression matches the path as sent.
            for e, _, pattern, span in entries:
                match = pattern.fullmatch(raw)
                if match is not None and (sdk is None or span.holds(sdk, client)):
                    found.append((e, match.groupdict()))
        else:
            # Decode segment by segment, so an encoded '/' stays inside its segment.
            segments = [unquote(s) for s in raw.split("/")]
            entries = self._table.get((method, segments[0]), ())
            for e, parts, _, span in entries:
                args = _match(parts, segments)
                if args is not None and (sdk is None or span.holds(sdk, client)):
                    found.append((e, args))
        if not found and raw.endswith("/") and raw.count("/") == 1:
            # `/jobs/` reaches `/jobs`: a bare collection takes a trailing slash.
            found = [(e, {}) for e, parts, _, span in entries if parts == (raw[:-1],)]
        return found


def no_route(method: str, path: str) -> NotFound:
    """The API's own 404 for a path that is not a route for the caller's release."""
    return NotFound(messages.NO_ROUTE.format(method=method, path=path, hint=""))


def method_not_allowed(method: str, path: str, allowed: list[str]) -> InvalidRequest:
    """The 405 for a method no route takes, with ``Allow`` naming what ``path`` takes.

    Not a :class:`NotImplementedByFake` 404: no release of the API serves the method, so
    it is no gap of the fake to report, and no missing id either.
    """
    here = f"; {path} takes {', '.join(allowed)}" if allowed else ""
    refusal = InvalidRequest(
        messages.METHOD_NOT_ALLOWED.format(
            method=method[:20], methods=", ".join(API_METHODS), here=here
        ),
        status=405,
        code="method_not_allowed",
    )
    refusal.headers = (("allow", ", ".join(allowed)),)
    return refusal
