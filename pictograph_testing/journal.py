"""The request journal: every call a fake answered, and short, readable assertions on it.

The fake's API records each request as a plain tuple; nothing is decoded
until a test asks. ``fake.calls`` is a live view of that list::

    assert fake.calls.filter(method="POST", path="/api/v1/developer/training/")
    run_id = fake.calls.filter(method="POST").last.response_json()["data"]["id"]
    fake.calls.assert_called(method="GET", path="/api/v1/developer/training/*", times=3)

A failed assertion lists the calls the fake saw, so the test report shows what happened.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, overload
from urllib.parse import parse_qsl

from pictograph_testing.api.route_paths import (
    PLACEHOLDER,
    api_path,
    decoded_path,
    journal_path,
    other_spelling,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "JOURNAL_BODY_LIMIT",
    "JOURNAL_LIMIT",
    "MAX_JOURNAL_LIMIT",
    "Call",
    "CallList",
    "CallLog",
    "Journal",
    "JournalEntry",
    "path_matcher",
]

JOURNAL_LIMIT = 10_000
"""Calls a fake's journal keeps by default: the newest; older ones are dropped and counted."""
MAX_JOURNAL_LIMIT = sys.maxsize
"""The largest ``journal_limit``: the most items a ``deque`` can be bounded to."""
JOURNAL_BODY_LIMIT = 1024 * 1024
"""Bytes of each request and response body the journal keeps; the rest is cut off."""


class JournalEntry(NamedTuple):
    """What the API recorded of one request, undecoded.

    A request dropped by an injected transport error has status 0 and an empty body.
    """

    method: str
    """As sent (any case)."""
    target: str
    """The raw target: path and query exactly as sent."""
    body: bytes
    status: int
    response_body: bytes
    elapsed: float
    """Virtual seconds since the clock's start when the call was answered."""
    request_id: str
    """The ``X-Request-Id`` the API answered with."""
    fault: str | None
    """What an injected fault did to the call, or ``None``."""
    sizes: tuple[int, int] | None = None
    """The request's and the response's sizes when a body was cut to fit the journal."""
    idempotency_key: str | None = None
    """The request's ``Idempotency-Key`` header, or ``None`` when it sent none."""


_Recorded = tuple[
    str, str, bytes, int, bytes, float, str, "str | None", "tuple[int, int] | None", "str | None"
]
"""A :class:`JournalEntry`'s fields as kept: a plain tuple of plain values, which costs a
tenth of building the entry and which the garbage collector stops tracking, so a full
journal adds nothing to every collection. Entries are built when a test reads them."""
_entry = JournalEntry._make


class CallLog:
    """The calls an API answered: the newest ``limit``, each body cut at ``body_limit``.

    Appending is the hot path (one per request), so it costs a length check per body and
    a bounded deque's append; an entry pushed out is counted in :attr:`dropped`.
    :meth:`record` is called holding ``lock`` (the API's world lock), which readers take
    to copy the calls: a test reading the journal while other threads still make requests
    must neither see the deque change under it nor pair an entry with another's index.
    """

    __slots__ = ("_entries", "_recorded", "body_limit", "lock")

    def __init__(
        self,
        limit: int = JOURNAL_LIMIT,
        body_limit: int = JOURNAL_BODY_LIMIT,
        lock: threading.RLock | None = None,
    ) -> None:
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= MAX_JOURNAL_LIMIT
        ):
            raise ValueError(
                f"journal_limit must be a whole number from 1 to {MAX_JOURNAL_LIMIT:,}, "
                f"got {limit!r:.40}"
            )
        self._entries: deque[_Recorded] = deque(maxlen=limit)
        self.body_limit = body_limit
        self._recorded = 0
        self.lock = lock if lock is not None else threading.RLock()

    @property
    def limit(self) -> int:
        return self._entries.maxlen or 0

    def record(
        self,
        method: str,
        target: str,
        body: bytes,
        status: int,
        response_body: bytes,
        elapsed: float,
        request_id: str,
        fault: str | None,
        idempotency_key: str | None = None,
    ) -> None:
        """Append one call, cutting a body longer than the limit and dropping the oldest."""
        cap = self.body_limit
        sizes = None
        if len(body) > cap or len(response_body) > cap:
            sizes = (len(body), len(response_body))
            body, response_body = body[:cap], response_body[:cap]
        self._recorded += 1
        self._entries.append(
            (
                method,
                target,
                body,
                status,
                response_body,
                elapsed,
                request_id,
                fault,
                sizes,
                idempotency_key,
            )
        )

    @property
    def dropped(self) -> int:
        """How many of the oldest calls were dropped to keep the newest ``limit``."""
        return self._recorded - len(self._entries)

    @property
    def total(self) -> int:
        """Every call recorded since the start (or the last clear), dropped ones included."""
        return self._recorded

    def page(self, since: int, limit: int) -> list[tuple[int, JournalEntry]]:
        """Up to ``limit`` calls from absolute index ``since``, with their indexes."""
        with self.lock:
            dropped = self.dropped
            start = max(since - dropped, 0)
            chunk = list(itertools.islice(self._entries, start, start + limit))
        return list(enumerate(map(_entry, chunk), dropped + start))

    def snapshot(self) -> list[tuple[int, JournalEntry]]:
        """Every call kept, with its index, as of one instant."""
        with self.lock:
            kept = self._entries.copy()
            dropped = self._recorded - len(kept)
        return list(enumerate(map(_entry, kept), dropped))

    def at(self, position: int) -> tuple[int, JournalEntry]:
        """The call at ``position`` among those kept (negative counts from the newest),
        with its index; ``IndexError`` when there is none."""
        with self.lock:
            kept = len(self._entries)
            where = position if position >= 0 else kept + position
            if not 0 <= where < kept:
                raise IndexError("journal index out of range")
            return self._recorded - kept + where, _entry(self._entries[where])

    def clear(self) -> None:
        with self.lock:
            self._entries.clear()
            self._recorded = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        with self.lock:
            kept = self._entries.copy()
        return map(_entry, kept)

    def __getitem__(self, position: int) -> JournalEntry:
        return _entry(self._entries[position])


_BYTES = {"request": "body", "response": "response_body"}
"""Where a call's bodies are, as bytes."""
_LISTED = 40
"""Calls a failure message lists (the most recent); the rest are counted."""
_TARGET_SHOWN = 200
"""Characters of a target a failure message shows: a long query (a list of ids, say)
is cut, so each call stays one readable line."""


class Call:
    """One request the fake answered, decoded on demand."""

    __slots__ = ("_entry", "_start", "index")

    def __init__(self, entry: JournalEntry, index: int, start: datetime) -> None:
        self._entry = entry
        self._start = start
        self.index = index
        """Position in the fake's journal (0 for the first call the fake answered)."""

    @property
    def method(self) -> str:
        return self._entry.method.upper()

    @property
    def target(self) -> str:
        """The path and query exactly as sent (percent-encoding kept)."""
        return self._entry.target

    @property
    def path(self) -> str:
        """The path, percent-decoded, without the query; a ``/`` within a name stays
        ``%2F``, so the path has the segments the API routed."""
        return _path(self._entry.target)

    @property
    def query(self) -> str:
        """The raw query string, without the ``?``."""
        return self._entry.target.partition("?")[2]

    @property
    def params(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def body(self) -> bytes:
        """The request body (its first ``JOURNAL_BODY_LIMIT`` bytes: see :attr:`truncated`)."""
        return self._entry.body

    @property
    def truncated(self) -> bool:
        """Whether the journal kept only the start of the request or the response body."""
        return self._entry.sizes is not None

    @property
    def body_size(self) -> int:
        """The request body's size as sent, even when the journal kept only its start."""
        sizes = self._entry.sizes
        return len(self._entry.body) if sizes is None else sizes[0]

    @property
    def response_size(self) -> int:
        """The response body's size as answered, even when the journal kept only its start."""
        sizes = self._entry.sizes
        return len(self._entry.response_body) if sizes is None else sizes[1]

    def json(self) -> Any:
        """The request body parsed as JSON; ``None`` for an empty body. A body that is
        not JSON (an upload's bytes, a form) or that the journal cut is a ``ValueError``
        saying which."""
        return self._parsed(self._entry.body, self.body_size, "request")

    @property
    def status(self) -> int:
        return self._entry.status

    @property
    def response_body(self) -> bytes:
        return self._entry.response_body

    def response_json(self) -> Any:
        """The response body parsed as JSON; ``None`` for an empty body (a ``ValueError``
        for one that is not JSON, as :meth:`json`)."""
        return self._parsed(self._entry.response_body, self.response_size, "response")

    def _parsed(self, body: bytes, size: int, which: str) -> Any:
        if not body:
            return None
        if len(body) < size:
            raise ValueError(
                f"the {which} body of call {self.index} ({self.method} {self.path}) is "
                f"{size:,} bytes, and the journal kept its first {len(body):,}: too few "
                f"to parse; read its start as bytes (call.{_BYTES[which]})"
            )
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested too deep
            raise ValueError(
                f"the {which} body of call {self.index} ({self.method} {self.path}) is not "
                f"JSON ({type(exc).__name__}: {exc}); read it as bytes (call.{_BYTES[which]})"
            ) from None

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the fake's clock started, when the call was answered."""
        return self._entry.elapsed

    @property
    def at(self) -> datetime:
        """The virtual instant the call was answered."""
        return self._start + timedelta(seconds=self._entry.elapsed)

    @property
    def request_id(self) -> str:
        return self._entry.request_id

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` the request sent (the SDK sends one with every POST and
        PATCH, the same on each retry of it), or ``None``."""
        return self._entry.idempotency_key

    @property
    def unserved(self) -> bool:
        """Whether the fake answered 404 ``not_implemented_by_fake``: a route it does not
        serve yet (see ``FakePictograph.unserved_calls``)."""
        return _unserved(self._entry)

    @property
    def fault(self) -> str | None:
        """What an injected fault did to this call, or ``None``.

        For example ``injected 503 before the handler``, ``delayed 5s`` or ``rate
        limited``. A call a transport error dropped has ``status`` 0 and no body.
        """
        return self._entry.fault

    def __repr__(self) -> str:
        return f"<Call #{self.index} {_describe(self._entry)}>"


class CallList(Sequence[Call]):
    """Calls in the order the fake answered them, with filters and assertions."""

    def __init__(
        self,
        entries: Sequence[tuple[int, JournalEntry]],
        start: datetime,
        urls: tuple[str, str] = ("", ""),
    ) -> None:
        self._indexed = entries
        self._start = start
        # The fake's API and gateway URLs: a path given as one of its URLs is read as
        # faults read it.
        self._urls = urls

    # ── the sequence ──

    def _pairs(self) -> Sequence[tuple[int, JournalEntry]]:
        return self._indexed

    def __len__(self) -> int:
        return len(self._pairs())

    def __bool__(self) -> bool:
        return len(self._pairs()) > 0

    @overload
    def __getitem__(self, index: int) -> Call: ...
    @overload
    def __getitem__(self, index: slice) -> CallList: ...
    def __getitem__(self, index: int | slice) -> Call | CallList:
        pairs = self._pairs()
        if isinstance(index, slice):
            part = slice(index.start, index.stop, index.step)
            bounds = ":".join("" if b is None else str(b) for b in (part.start, part.stop))
            if part.step is not None:
                bounds += f":{part.step}"
            return self._narrowed(list(pairs[index]), f"[{bounds}]")
        position, entry = pairs[index]
        return Call(entry, position, self._start)

    def __iter__(self) -> Iterator[Call]:
        start = self._start
        for position, entry in self._pairs():
            yield Call(entry, position, start)

    @property
    def first(self) -> Call:
        """The earliest call; ``AssertionError`` (listing the journal) when there is none."""
        if not self:
            raise AssertionError(f"expected at least one call, {self._seen()}")
        return self[0]

    @property
    def last(self) -> Call:
        """The latest call; ``AssertionError`` (listing the journal) when there is none."""
        if not self:
            raise AssertionError(f"expected at least one call, {self._seen()}")
        return self[-1]

    # ── filters ──

    def filter(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        status: int | None = None,
        params: Mapping[str, object] | None = None,
        json: Mapping[str, object] | None = None,
        where: Callable[[Call], bool] | None = None,
        fault: bool | None = None,
    ) -> CallList:
        """Return the calls that match every criterion given.

        ``path`` is compared with the percent-decoded path (no query). A string is
        relative to ``/api/v1/developer/`` (``"credits/balance"``), written in full, or
        a URL of the fake (a deployment's ``endpoint_url``, an API URL), as for faults;
        one the API has no route for (or a pattern that matches no route) is a
        ``ValueError``, not an empty match. It is an exact match unless it holds
        ``*``, which matches within one path segment (``**`` matches across segments) or a
        route template's ``{placeholder}`` (one segment); a compiled pattern must match the
        whole path.
        ``params`` and ``json`` match when each key given has that value in the query or
        the top level of the JSON body (other keys may be there too); a ``params`` value
        is compared as httpx sends it (``True`` as ``true``, ``None`` as empty). ``fault=True``
        keeps the calls an injected fault touched, ``fault=False`` the others. ``where``
        is any further predicate.
        """
        if isinstance(path, str):
            path = journal_path(path, *self._urls)
        match = _Criteria(method, path, status, params, json, where, fault)
        start = self._start
        return self._narrowed(
            [(i, e) for i, e in self._pairs() if match(i, e, start)], match.describe()
        )

    def _narrowed(self, pairs: list[tuple[int, JournalEntry]], how: str) -> CallList:
        """Some of these calls, chosen ``how``: a failure names every step from the
        journal and lists all the calls the fake answered, not just the last step's."""
        narrowed = CallList(pairs, self._start, self._urls)
        if self._origin is None:
            narrowed._criteria = how
            narrowed._origin = self
        else:
            narrowed._criteria = f"{self._criteria}, then {how}"
            narrowed._origin = self._origin
        return narrowed

    # ── assertions ──

    def assert_called(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        times: int | None = None,
        status: int | None = None,
        params: Mapping[str, object] | None = None,
        json: Mapping[str, object] | None = None,
        where: Callable[[Call], bool] | None = None,
        fault: bool | None = None,
    ) -> CallList:
        """Assert some call matches (exactly ``times`` calls, if given); return the matches."""
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 0
        ):
            raise ValueError(f"times must be a whole number of calls, 0 or more, not {times!r}")
        found = self.filter(
            method, path, status=status, params=params, json=json, where=where, fault=fault
        )
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = "a call" if times is None else f"exactly {times} call{'s' * (times != 1)}"
        raise AssertionError(
            f"expected {wanted} matching {found._criteria}; {len(found)} matched.\n"
            + found._every()._listing(found)
        )

    def assert_not_called(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        status: int | None = None,
        params: Mapping[str, object] | None = None,
        json: Mapping[str, object] | None = None,
        where: Callable[[Call], bool] | None = None,
        fault: bool | None = None,
    ) -> None:
        """Assert no call matches."""
        found = self.filter(
            method, path, status=status, params=params, json=json, where=where, fault=fault
        )
        if found:
            raise AssertionError(
                f"expected no call matching {found._criteria}; {len(found)} matched.\n"
                + found._every()._listing(found)
            )

    # ── reporting ──

    _criteria = ""
    _origin: CallList | None = None

    def _every(self) -> CallList:
        """The calls these were chosen from: what a failure lists."""
        return self if self._origin is None else self._origin

    def _seen(self) -> str:
        if self._origin is not None:
            return f"none matched {self._criteria}.\n" + self._origin._listing(self)
        return "the fake answered none." if not self else self._listing(self)

    def summary(self) -> str:
        """These calls, one line each: what a failing test's report shows of the fake.

        Each line has the call's position, its virtual time since the fake started, the
        method, target and status, and an error's code. Runs of the same request (a poll
        loop) fold into one line, and only the most recent 40 lines are shown.
        """
        return self._listing(None)

    def _listing(self, marked: CallList | None) -> str:
        """List the calls seen, marking those in ``marked`` (when given).

        Runs of the same request (a poll loop) fold into one line, and only the most
        recent ``_LISTED`` lines are shown, so a long wait still reads at a glance.
        """
        pairs = self._pairs()
        if not pairs:
            return "The fake answered no calls."
        chosen = set() if marked is None else {i for i, _ in marked._pairs()}
        runs: list[list[Any]] = []  # [first index, last index, first entry, last entry, flag]
        for position, entry in pairs:
            flag = "*" if position in chosen else " "
            last = runs[-1] if runs else None
            if last is not None and last[4] == flag and _describe(last[3]) == _describe(entry):
                last[1], last[3] = position, entry
            else:
                runs.append([position, position, entry, entry, flag])
        legend = "" if marked is None else "; * = matched"
        lines = [f"Calls the fake answered ({len(pairs)}{legend}):"]
        if len(runs) > _LISTED:
            hidden = sum(r[1] - r[0] + 1 for r in runs[:-_LISTED])
            lines.append(f"   ... {hidden} earlier calls")
        for first, last, head, tail, flag in runs[-_LISTED:]:
            shown = _describe(head, _TARGET_SHOWN)
            if first == last:
                lines.append(f" {flag} #{first:<4} +{head.elapsed:.1f}s  {shown}")
            else:
                span = f"#{first}-{last}"
                times = f"+{head.elapsed:.1f}s..+{tail.elapsed:.1f}s"
                lines.append(f" {flag} {span:<5} {times}  {shown}  (x{last - first + 1})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CallList of {len(self)}: {', '.join(_describe(e) for _, e in self._pairs())}>"


class Journal(CallList):
    """The calls one fake answered, live: a new request shows up at once.

    It keeps the newest ``journal_limit`` calls (10,000 unless the fake was made with
    another): :attr:`dropped` counts the older ones, and a call's ``index`` counts from
    the first call ever answered, so indexes stay stable as old calls go.
    """

    def __init__(self, entries: CallLog, start: datetime, urls: tuple[str, str] = ("", "")) -> None:
        super().__init__((), start, urls)
        self._entries = entries

    def _pairs(self) -> Sequence[tuple[int, JournalEntry]]:
        return self._entries.snapshot()

    @property
    def dropped(self) -> int:
        """How many of the oldest calls were dropped to keep the journal within its limit."""
        return self._entries.dropped

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(len(self._entries))

    @overload
    def __getitem__(self, index: int) -> Call: ...
    @overload
    def __getitem__(self, index: slice) -> CallList: ...
    def __getitem__(self, index: int | slice) -> Call | CallList:
        if isinstance(index, slice):
            return super().__getitem__(index)
        # Straight to the entry: `calls[-1]` must not copy a long journal.
        position, entry = self._entries.at(index)
        return Call(entry, position, self._start)

    def clear(self) -> None:
        """Forget the calls so far (set-up traffic, say); later calls count from 0 again."""
        self._entries.clear()


# What a request's method can be: the journal keeps the refused ones too (a 405).
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def _check_criteria(
    method: object,
    path: object,
    status: object,
    params: object,
    json_body: object,
    where: object,
    fault: object,
) -> None:
    """Refuse a criterion no call can be matched by (a mistake, which would make
    ``assert_not_called`` pass whatever the fake answered), naming it."""
    if method is not None and (not isinstance(method, str) or method.upper() not in _HTTP_METHODS):
        raise ValueError(f"method must be one of {', '.join(_HTTP_METHODS)}, not {method!r}")
    if path is not None and not isinstance(path, (str, re.Pattern)):
        raise TypeError(f"path must be a string or a compiled pattern, not {path!r}")
    if status is not None and (
        isinstance(status, bool)
        or not isinstance(status, int)
        or not (status == 0 or 100 <= status <= 599)
    ):
        raise ValueError(
            f"status must be an HTTP status code (100 to 599, or 0 for a call the client "
            f"got no answer to), not {status!r}"
        )
    for name, value in (("params", params), ("json", json_body)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a mapping of names to values, not {value!r}")
    if where is not None and not callable(where):
        raise TypeError(f"where must be a function of a call, not {where!r}")
    if fault is not None and not isinstance(fault, bool):
        raise TypeError(f"fault must be True, False or None, not {fault!r}")


class _Criteria:
    """One filter: a predicate over raw entries, and its description for messages."""

    __slots__ = ("_fault", "_json", "_method", "_params", "_path", "_status", "_text", "_where")

    def __init__(
        self,
        method: str | None,
        path: str | re.Pattern[str] | None,
        status: int | None,
        params: Mapping[str, object] | None,
        json_body: Mapping[str, object] | None,
        where: Callable[[Call], bool] | None,
        fault: bool | None = None,
    ) -> None:
        _check_criteria(method, path, status, params, json_body, where, fault)
        self._method = method.upper() if method is not None else None
        self._path = path_matcher(api_path(path, method) if isinstance(path, str) else path)
        self._status = status
        self._params = (
            {k: _query_value(v) for k, v in params.items()} if params is not None else None
        )
        self._json = json_body
        self._where = where
        self._fault = fault
        parts = []
        for label, value in (
            ("method", self._method),
            ("path", path.pattern if isinstance(path, re.Pattern) else path),
            ("status", status),
            ("params", dict(params) if params is not None else None),
            ("json", dict(json_body) if json_body is not None else None),
            ("where", getattr(where, "__name__", "<predicate>") if where is not None else None),
            ("fault", fault),
        ):
            if value is not None:
                parts.append(f"{label}={value!r}")
        self._text = ", ".join(parts) or "anything"

    def describe(self) -> str:
        return self._text

    def __call__(self, index: int, entry: JournalEntry, start: datetime) -> bool:
        if self._method is not None and entry.method.upper() != self._method:
            return False
        if self._status is not None and entry.status != self._status:
            return False
        if self._fault is not None and (entry.fault is not None) != self._fault:
            return False
        if self._path is not None and not self._path(_path(entry.target)):
            return False
        if self._params is not None:
            sent = dict(parse_qsl(entry.target.partition("?")[2], keep_blank_values=True))
            if any(sent.get(k) != v for k, v in self._params.items()):
                return False
        if self._json is not None:
            body = _json_object(entry.body)
            if body is None or any(k not in body or body[k] != v for k, v in self._json.items()):
                return False
        return self._where is None or self._where(Call(entry, index, start))


def _path(target: str) -> str:
    return decoded_path(target.partition("?")[0])


def path_matcher(path: str | re.Pattern[str] | None) -> Callable[[str], bool] | None:
    """Compile a path criterion (exact, ``*``/``**`` glob, or regex) to a predicate.

    A path matches in either spelling, with or without its final ``/``, as the API
    answers both (``training`` is ``training/``; see ``route_paths.other_spelling``).
    """
    if path is None:
        return None
    match: Callable[[str], bool]
    if isinstance(path, re.Pattern):
        pattern = path
        match = lambda candidate: pattern.fullmatch(candidate) is not None  # noqa: E731
    elif "*" not in path and "{" not in path:
        match = path.__eq__
    else:
        # A route template's placeholder is one segment, never an empty one.
        pieces = [p for p in re.split(r"(\*\*|\*|" + PLACEHOLDER.pattern + ")", path) if p]
        glob = tuple(
            piece if piece in ("**", "*") else _SEGMENT if PLACEHOLDER.fullmatch(piece) else piece
            for piece in pieces
        )
        match = lambda candidate: _glob_match(glob, candidate)  # noqa: E731

    def either_spelling(candidate: str) -> bool:
        if match(candidate):
            return True
        other = other_spelling(candidate)
        return other is not None and match(other)

    return either_spelling


_SEGMENT = "{}"
"""A placeholder in a compiled glob: one segment's characters, at least one."""


def _glob_match(glob: tuple[str, ...], candidate: str) -> bool:
    """Whether ``candidate`` matches ``glob`` whole: ``**`` any characters, ``*`` any
    within a segment, :data:`_SEGMENT` one or more within a segment, else literal text.

    Walks the glob once, keeping every position of ``candidate`` its pieces so far can end
    at, so its cost is the glob's length times the candidate's, whatever the pattern (a
    regex of many ``.*`` backtracks for ever on a long path it does not match).
    """
    end = len(candidate)
    ends = [0]
    for piece in glob:
        if piece == "**":
            ends = list(range(ends[0], end + 1))
        elif piece in ("*", _SEGMENT):
            reached: list[int] = []
            low = 1 if piece == _SEGMENT else 0
            for start in ends:
                stop = candidate.find("/", start)
                stop = end if stop == -1 else stop
                first = max(start + low, reached[-1] + 1 if reached else 0)
                reached.extend(range(first, stop + 1))
            ends = reached
        else:
            ends = [p + len(piece) for p in ends if candidate.startswith(piece, p)]
        if not ends:
            return False
    return ends[-1] == end


def _query_value(value: object) -> str:
    """``value`` as httpx writes it in a query (the SDK's ``archived=True`` is sent as
    ``archived=true``), so a test passes the value its code passed."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # a body the API refused, kept as it was sent
        return None
    return parsed if isinstance(parsed, dict) else None


def _unserved(entry: JournalEntry) -> bool:
    # Read from the answer, so recording a call costs nothing extra.
    return entry.status == 404 and b'"code":"not_implemented_by_fake"' in entry.response_body


def _describe(entry: JournalEntry, width: int | None = None) -> str:
    """One line for a call; its target cut after ``width`` characters when given."""
    answer = "no answer" if entry.status == 0 else str(entry.status)
    target = entry.target
    if width is not None and len(target) > width:
        target = f"{target[:width]}... ({len(target) - width:,} more characters)"
    text = f"{entry.method.upper()} {target} -> {answer}"
    if _unserved(entry):
        text += " [not served by the fake]"
    elif entry.status >= 400:
        # The error's code says which refusal it was (a 409 is a conflict of many kinds).
        error = (_json_object(entry.response_body) or {}).get("error")
        code = error.get("code") if isinstance(error, dict) else None
        if isinstance(code, str):
            text += f" {code}"
    return text if entry.fault is None else f"{text} [{entry.fault}]"
