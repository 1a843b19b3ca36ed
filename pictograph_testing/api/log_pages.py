"""Pages of a workflow's logs (a run's, or a live endpoint's), built a page at a time.

A log stream (``frames``, ``events`` or ``stats``) is read from one or more sources: a
run is one, a live endpoint has one per stream its cameras ran. Each source holds its
records in time order, numbered (a number stays with its record while the source keeps
it), and builds a record only when asked for it. A page merges the sources from where
its cursor points and builds the records it looks at, no others: finding where to start
costs O(log n) per source, filling the page O(page) (plus the records a filter skips).
Before, every page built the whole log, so reading a long stream's log page by page cost
the square of its length.

A cursor names the last record of its page by its place in the merged order (its time,
its source's rank, its number), so the next page starts right after it, in either order,
however many records the sources have logged (or dropped) since.
"""

from __future__ import annotations

import heapq
import math
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Reply, reply
from pictograph_testing.catalog import PLANS
from pictograph_testing.wording import article
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from pictograph_testing.api.wire import Call

__all__ = ["LOG_STREAMS", "LogSource", "log_page", "log_summary"]

LOG_STREAMS = ("frames", "events", "stats")
"""A log's streams, as the SDK's ``RunLogStream`` names them."""

_Place = tuple[float, int, int]
"""A record's place in a log's merged order: its time, its source's rank, its number."""


@dataclass(frozen=True)
class LogSource:
    """One source's records of one log stream, oldest first.

    Records are numbered ``first`` to ``first + count - 1``; ``at`` gives a record's
    time and ``row`` builds it, each by number. ``name`` is what its records say as their
    ``source`` (the ``source`` filter picks sources by it); ``rank`` orders sources whose
    records fall at the same instant.
    """

    name: str
    rank: int
    first: int
    count: int
    at: Callable[[int], float]
    row: Callable[[int], dict[str, Any]]

    def place(self, number: int) -> _Place:
        return (self.at(number), self.rank, number)

    def places(self, after: _Place | None, *, descending: bool) -> Iterator[_Place]:
        """The places of its records after ``after`` in the page's order (all of them
        for ``None``), found by bisection: the records before are never looked at."""
        numbers = range(self.first, self.first + self.count)
        if descending:
            end = len(numbers) if after is None else bisect_left(numbers, after, key=self.place)
            return (self.place(numbers[i]) for i in range(end - 1, -1, -1))
        start = 0 if after is None else bisect_right(numbers, after, key=self.place)
        return (self.place(numbers[i]) for i in range(start, len(numbers)))


def log_page(
    call: Call, sources: Sequence[LogSource], names: Mapping[str, Any], stream: str
) -> Reply:
    """The page of ``stream`` the call's query asks for, read from ``sources``; an events
    page names its triggers with ``names``."""
    args = call.args
    order, limit = args["order"], args["limit"]
    descending = order == "desc"
    after = _after(args["cursor"], order)
    logs_frames = _logs_frames(call)
    if stream == "frames" and not logs_frames:
        sources = []
    if args["source"] is not None:
        sources = [s for s in sources if s.name == args["source"]]
    by_rank = {s.rank: s for s in sources}
    merged = heapq.merge(
        *(s.places(after, descending=descending) for s in sources), reverse=descending
    )
    # One record past the page: whether a next page exists.
    kept: list[tuple[_Place, dict[str, Any]]] = []
    for place in merged:
        record = by_rank[place[1]].row(place[2])
        if _kept(record, args):
            kept.append((place, record))
            if len(kept) > limit:
                break
    more = len(kept) > limit
    chunk = [record for _, record in kept[:limit]]
    if not args["full"]:
        chunk = [{k: v for k, v in r.items() if k not in ("message", "pictograph")} for r in chunk]
    return reply(
        {
            "stream": stream,
            "order": order,
            "records": chunk,
            "next_cursor": _cursor(order, kept[limit - 1][0]) if more else None,
            "log_frames": logs_frames,
            "event_names": dict(names),
        }
    )


def log_summary(call: Call, sources_of: Callable[[str], Sequence[LogSource]]) -> Reply:
    """Each stream's count and its first and last record's time, from its sources' ends
    (no record is built)."""
    streams: dict[str, Any] = {}
    logs_frames = _logs_frames(call)
    for stream in LOG_STREAMS:
        if stream == "frames" and not logs_frames:
            sources = []
        else:
            sources = [s for s in sources_of(stream) if s.count]
        streams[stream] = {
            "count": sum(s.count for s in sources),
            "first_ts": call.iso(min(s.at(s.first) for s in sources)) if sources else None,
            "last_ts": (
                call.iso(max(s.at(s.first + s.count - 1) for s in sources)) if sources else None
            ),
        }
    return reply({"log_frames": logs_frames, "streams": streams})


def _logs_frames(call: Call) -> bool:
    """Whether the caller's plan keeps every frame in a run's log (Free does not)."""
    organization = call.world.organizations[call.key.organization_id]
    return PLANS[organization.subscription_tier].logs_frames


_CURSOR = re.compile(
    r"(?P<order>asc|desc):(?P<at>-?[0-9]{1,20}(?:\.[0-9]{1,20})?(?:e[-+][0-9]{1,3})?)"
    r":(?P<rank>[0-9]{1,19}):(?P<number>[0-9]{1,19})",
    re.ASCII,
)
"""What :func:`_cursor` writes: a float's repr and two counts, in ASCII digits only
(``str.isdigit`` takes ``²``, which ``int`` refuses), of bounded length."""


def _cursor(order: str, place: _Place) -> str:
    at, rank, number = place
    return f"{order}:{at!r}:{rank}:{number}"


def _after(cursor: str | None, order: str) -> _Place | None:
    """The place a cursor names (``None``: no cursor, the first page); a cursor of the
    other order, or not one of the fake's, is a 400."""
    if cursor is None:
        return None
    found = _CURSOR.fullmatch(cursor)
    # A record's time is finite: an overflowing one would match no place.
    if found is not None and found["order"] == order and math.isfinite(float(found["at"])):
        return (float(found["at"]), int(found["rank"]), int(found["number"]))
    raise InvalidRequest(
        f"cursor '{cursor:.80}' is not a cursor of {article(order)} {order} page: send the "
        "next_cursor of the previous page, in the same order.",
        status=400,
        errors=[field_error(("query", "cursor"), "unknown cursor", "value_error")],
    )


def _kept(record: dict[str, Any], args: dict[str, Any]) -> bool:
    """Whether ``record`` passes the query's filters."""
    if args["class"] is not None and args["class"] not in record.get("classes", []):
        return False
    if args["track_id"] is not None and args["track_id"] not in record.get("track_ids", []):
        return False
    if args["min_confidence"] is not None and (
        record.get("max_confidence") is None or record["max_confidence"] < args["min_confidence"]
    ):
        return False
    for key, name in (("source", "source"), ("type", "type"), ("trigger", "trigger")):
        if args[key] is not None and record.get(name) != args[key]:
            return False
    return True
