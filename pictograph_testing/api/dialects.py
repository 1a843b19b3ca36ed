"""Wire dialects: what each SDK release expects of a route, declared beside the route.

Every SDK sends ``User-Agent: pictograph-python/<version>`` (sync) or
``pictograph-python-async/<version>`` (async); the fake reads the release from it, or
takes an explicit ``sdk_version`` (for clients that replace the header, and for curl),
and answers in that release's dialect. Without either, the newest.

A route declares its dialects in the route table (``@endpoint(..., span=..., wires=...)``):

- ``span``: the releases that call the route at all (``/training/by-name/{name}`` is only
  sent by 1.61.0 to 1.69.43);
- ``wires``: for a span of releases, how the route's request and reply differ from
  today's: the envelope key the release reads (``training_run`` instead of ``data``),
  body fields it sends that today's API refuses (``gpu_count``), the units of money
  (whole credits), or a rewrite of the reply declared in the resource module.

Handlers never branch on a version: they answer today's shape, and the route's wire for
the caller's release rewrites it. The newest release pays nothing for this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import Obj

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.api.spec import Field
    from pictograph_testing.api.wire import Reply

__all__ = [
    "NEWEST",
    "OLDEST",
    "Span",
    "Version",
    "Wire",
    "before",
    "format_version",
    "parse_version",
    "sdk_version_of",
    "since",
]

Version = tuple[int, int, int]
OLDEST: Version = (1, 0, 0)
NEWEST: Version = (1, 69, 146)
"""The newest SDK release whose wire the fake knows (and the suite has run against)."""

_AGENT = re.compile(r"pictograph-python(?:-async)?/([0-9]+(?:\.[0-9]+){0,2})")
_VERSION = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?")
_seen: dict[str, Version | None] = {}


def parse_version(text: str) -> Version:
    """``"1.40"`` → ``(1, 40, 0)``; ``ValueError`` for anything that is not a release."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an SDK release (like '1.40.0')")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


def format_version(version: Version) -> str:
    return ".".join(map(str, version))


def sdk_version_of(user_agent: str | None) -> Version | None:
    """The SDK release named in a ``User-Agent`` header, or ``None`` (not the SDK)."""
    if user_agent is None:
        return None
    if user_agent in _seen:
        return _seen[user_agent]
    match = _AGENT.search(user_agent)
    found = parse_version(match.group(1)) if match else None
    if len(_seen) > 256:
        _seen.clear()
    _seen[user_agent] = found
    return found


@dataclass(frozen=True)
class Span:
    """The releases from ``since`` up to, not including, ``until``."""

    since: Version = OLDEST
    until: Version | None = None

    def holds(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)

    def __str__(self) -> str:
        low = format_version(self.since)
        return f"{low}+" if self.until is None else f"{low} to before {format_version(self.until)}"


def since(version: str) -> Span:
    """The releases from ``version`` on."""
    return Span(parse_version(version))


def before(version: str, *, since: str | None = None) -> Span:
    """The releases before ``version`` (and from ``since``, if given)."""
    low = parse_version(since) if since is not None else OLDEST
    return Span(low, parse_version(version))


@dataclass(frozen=True)
class Wire:
    """How one route's request and reply differ for a span of SDK releases."""

    span: Span
    envelope: str | None = None
    """The key the release reads the reply under, instead of ``data`` (a page's items,
    for a listing)."""
    extra_fields: dict[str, Field] = field(default_factory=dict)
    """Body fields the release sends that today's API refuses: accepted, then ignored."""
    rewrite: Callable[[Any], Any] | None = None
    """A change to the decoded reply (after the envelope), declared by the resource."""
    note: str = ""
    """What changed, for the docs' table of dialects."""

    def body(self, spec: Obj) -> Obj:
        """The route's body spec as this span of releases sends it."""
        if not self.extra_fields:
            return spec
        return Obj({**spec.fields, **self.extra_fields}, extra=spec.extra)

    def adapt(self, answer: Reply) -> Reply:
        """Rewrite today's successful JSON reply into this span's shape."""
        if answer.status >= 400 or answer.content_type != "application/json":
            return answer
        if self.envelope is None and self.rewrite is None:
            return answer
        payload = json.loads(answer.body)
        if self.envelope is not None and isinstance(payload, dict) and "data" in payload:
            payload = {self.envelope: payload.pop("data"), **payload}
        if self.rewrite is not None:
            payload = self.rewrite(payload)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return type(answer)(answer.status, body, answer.headers, answer.content_type)
