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
  (whole credits), request fields the release names differently (``renames``:
  ``dataset_id`` for ``dataset``, ``folder_path`` for ``directory_path``), or a rewrite
  of the reply declared in the resource module.

``renames`` are applied to the request before any check: to the query's parameter
names, to the body's keys and to the keys of objects in the body's lists (the
``images`` of a bulk upload). The route's spec and handler then see today's names, so
a misspelt field is refused in the release's own terms only by what it renamed to.

Handlers never branch on a version: they answer today's shape, and the route's wire for
the caller's release rewrites it. The newest release pays nothing for this.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import Obj

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.api.spec import Field
    from pictograph_testing.api.wire import Reply
    from pictograph_testing.world.errors import ApiRefusal

__all__ = [
    "BY_NAME_PATHS",
    "DATASETS_BY_NAME",
    "FOLDER_PATHS",
    "GPU_COUNT",
    "IMAGES_BY_ID",
    "INTEGER_CREDITS",
    "LEGACY_ENVELOPES",
    "NEWEST",
    "OLDEST",
    "NewerSdkWarning",
    "Span",
    "Version",
    "Wire",
    "before",
    "check_installed_sdk",
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


class NewerSdkWarning(UserWarning):
    """The installed SDK is newer than every release whose wire the fake knows."""


@functools.cache
def check_installed_sdk() -> Version | None:
    """The installed SDK's release; warn (once) when it is newer than :data:`NEWEST`.

    A newer SDK gets the newest dialect the fake knows, which is right until the API
    changes; the warning says so instead of letting a test fail in a puzzling way.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = parse_version(version("pictograph"))
    except (PackageNotFoundError, ValueError):
        return None
    if installed > NEWEST:
        warnings.warn(
            f"pictograph {format_version(installed)} is newer than the newest SDK release "
            f"pictograph-testing knows ({format_version(NEWEST)}); the fake answers it in "
            f"{format_version(NEWEST)}'s wire. Upgrade pictograph-testing, or pin "
            f"pictograph<={format_version(NEWEST)}.",
            NewerSdkWarning,
            stacklevel=3,
        )
    return installed


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
    hoist: bool = False
    """The release reads the ``data`` object's fields at the root of the reply."""
    extra_fields: dict[str, Field] = field(default_factory=dict)
    """Body fields the release sends that today's API refuses: accepted, then ignored."""
    rewrite: Callable[[Any], Any] | None = None
    """A change to the decoded reply (after the envelope), declared by the resource."""
    refuse: Callable[[ApiRefusal], ApiRefusal] | None = None
    """A change to the route's refusals (the 402's units, for one)."""
    renames: dict[str, str] = field(default_factory=dict)
    """Request names the release sends for today's (``{"folder_path": "directory_path"}``):
    query parameters, body keys and keys of objects in body lists, renamed before the
    checks."""
    note: str = ""
    """What changed, for the docs' table of dialects."""

    def rename_query(self, query: dict[str, list[str]]) -> None:
        """Give the release's query parameters today's names (in place)."""
        for old, new in self.renames.items():
            if old in query:
                query.setdefault(new, []).extend(query.pop(old))

    def rename_body(self, fields: object) -> None:
        """Give the release's body keys today's names (in place), one level into lists.

        A key already sent under today's name is left alone: the spec then refuses the
        old one as unknown rather than the fake picking one of the two.
        """
        if not self.renames or not isinstance(fields, dict):
            return
        objects = [fields]
        for value in fields.values():
            if isinstance(value, list):
                objects.extend(item for item in value if isinstance(item, dict))
        for obj in objects:
            for old, new in self.renames.items():
                if old in obj and new not in obj:
                    obj[new] = obj.pop(old)

    def body(self, spec: Obj) -> Obj:
        """The route's body spec as this span of releases sends it."""
        if not self.extra_fields:
            return spec
        return Obj({**spec.fields, **self.extra_fields}, extra=spec.extra)

    def adapt(self, answer: Reply) -> Reply:
        """Rewrite today's successful JSON reply into this span's shape."""
        if answer.status >= 400 or answer.content_type != "application/json":
            return answer
        if self.envelope is None and self.rewrite is None and not self.hoist:
            return answer
        payload = json.loads(answer.body)
        if self.envelope is not None and isinstance(payload, dict) and "data" in payload:
            payload = {self.envelope: payload.pop("data"), **payload}
        elif self.hoist and isinstance(payload, dict) and isinstance(payload.get("data"), dict):
            payload = {**payload.pop("data"), **payload}
        if self.rewrite is not None:
            payload = self.rewrite(payload)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return type(answer)(answer.status, body, answer.headers, answer.content_type)


# ── the releases where the wire changed (each route declares which it follows) ──

LEGACY_ENVELOPES = before("1.61.0")
"""Replies under resource-named keys (``training_run``, ``models``...), not ``data``."""
INTEGER_CREDITS = before("1.1.0")
"""Money in whole legacy credits, not micro-USD."""
BY_NAME_PATHS = before("1.69.44", since="1.61.0")
"""Names addressed as ``/{resource}/by-name/{name}`` (runs, models, datasets, exports)."""
DATASETS_BY_NAME = before("1.69.44")
"""``datasets.get(name)`` as ``/datasets/by-name/{name}``, from the first release."""
GPU_COUNT = before("1.69.106", since="1.67.3")
"""``training.create`` sends ``gpu_count``."""
IMAGES_BY_ID = before("1.69.44", since="1.61.0")
"""Images and annotations addressed by id (``/images/{id}``, ``/annotations/{id}``), and
datasets by ``dataset_id`` in bodies and the images list (``dataset_name`` from 1.69.30)."""
FOLDER_PATHS = before("1.69.43", since="1.61.0")
"""``folder_path`` (and batch ``target_folder_path``) where today says ``directory_path``."""
