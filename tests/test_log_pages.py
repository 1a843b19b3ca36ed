"""A workflow's logs read page by page: a run's and a live endpoint's.

A page is built from where its cursor points, so these check what that must keep: the
records a page holds, whatever its size, order or filter; a cursor that keeps its place
while the streams go on logging; and a clear 400 for a cursor that is not one.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pictograph.exceptions import ValidationError
from pictograph.models.workflow import RunLogOrder, RunLogStream

from pictograph_testing import FakePictograph
from pictograph_testing.world.streams import STREAM_LOG_LIMIT
from tests.test_streams import CAMERA, _counter_live
from tests.test_workflows import _counting_graph, _train

if TYPE_CHECKING:
    import pictograph
    from pictograph import RunLogPage, RunLogRecord


def _two_streams(fake: FakePictograph, client: pictograph.Client) -> tuple[str, str]:
    """The workflow ``Counter`` live, and two streams of a 10 fps camera that ran on it
    side by side for a while (300 frames and 120); their ids."""
    fake.add_camera(CAMERA, fps=10, frames=300)
    live, token = _counter_live(client, min_containers=1)
    with client.workflows.connect(live, token) as endpoint, endpoint.open_stream(CAMERA) as first:
        fake.clock.advance(seconds=5)
        with endpoint.open_stream(CAMERA) as second:
            assert len(list(itertools.islice(second.frames(), 120))) == 120
        # Read to its end (a stream nobody reads goes idle); the log holds every frame
        # the camera sent, read or not.
        assert list(first.frames())
    assert first.ended == "source_ended"
    fake.clock.advance(seconds=130)  # two stats records
    return first.id, second.id


def _pages(read: Any, **query: Any) -> list[RunLogPage]:
    """Every page of a log, each read with the cursor of the one before."""
    pages = [read(**query)]
    while pages[-1].next_cursor:
        pages.append(read(cursor=pages[-1].next_cursor, **query))
    return pages


def _records(read: Any, **query: Any) -> list[RunLogRecord]:
    return [record for page in _pages(read, **query) for record in page.records]


def _place(record: RunLogRecord) -> tuple[Any, ...]:
    return (record.ts, record.source, record.frame, record.record_index, record.type)


def _first_of(records: list[RunLogRecord], values: Any) -> Any:
    """The first value any record has (or one that none has: a filter that keeps none)."""
    return next((v for r in records for v in values(r)), "none-such")


def _counting_run(client: pictograph.Client, *, wait: bool = True) -> str:
    """The model ``signs`` trained, ``Lot`` counting with it, and the id of a run of
    ``Lot``: finished, or (``wait=False``) not started yet."""
    _train(client)
    client.workflows.create("Lot", _counting_graph())
    run_id = client.workflows.run("Lot").run_id
    if wait:
        client.workflows.wait_for_run(run_id, poll_interval=1)
    return run_id


# Each filter as the query sends it, and as the client would apply it to the whole log.
_FILTERS: dict[str, Any] = {
    "none": lambda _: ({}, lambda r: True),
    "class": lambda _: ({"class_name": "stop"}, lambda r: "stop" in r.classes),
    "track": lambda rs: (
        {"track_id": _first_of(rs[1:], lambda r: r.track_ids)},
        lambda r: _first_of(rs[1:], lambda r: r.track_ids) in r.track_ids,
    ),
    "confidence": lambda _: (
        {"min_confidence": 0.6},
        lambda r: r.max_confidence is not None and r.max_confidence >= 0.6,
    ),
    "source": lambda rs: ({"source": rs[-1].source}, lambda r: r.source == rs[-1].source),
    "trigger": lambda rs: (
        {"trigger": _first_of(rs, lambda r: [r.trigger] if r.trigger else [])},
        lambda r: r.trigger == _first_of(rs, lambda r: [r.trigger] if r.trigger else []),
    ),
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stream=st.sampled_from(["frames", "events", "stats"]),
    order=st.sampled_from(["asc", "desc"]),
    limit=st.one_of(st.integers(1, 9), st.integers(10, 200)),
    kind=st.sampled_from(sorted(_FILTERS)),
)
def test_any_page_size_order_and_filter_reads_the_log_as_one_read_does(
    fake: FakePictograph,
    client: pictograph.Client,
    stream: RunLogStream,
    order: RunLogOrder,
    limit: int,
    kind: str,
) -> None:
    if not client.workflows.list():
        _two_streams(fake, client)
    read = client.workflows.live_log
    whole = _records(read, workflow="Counter", stream=stream, order="asc", limit=200)
    assert whole, stream
    query, wanted = _FILTERS[kind](whole)
    pages = _pages(read, workflow="Counter", stream=stream, order=order, limit=limit, **query)
    # Each page says which stream and order it holds (the SDK defaults `order` to asc).
    assert {(page.stream, page.order) for page in pages} == {(stream, order)}
    paged = [record for page in pages for record in page.records]
    expected = [r for r in whole if wanted(r)]
    if order == "desc":
        expected.reverse()
    assert [_place(r) for r in paged] == [_place(r) for r in expected]


def test_both_streams_frames_are_merged_in_time_order_and_counted(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    first, second = _two_streams(fake, client)
    frames = _records(client.workflows.live_log, workflow="Counter", order="asc", limit=37)
    assert [(r.source, r.frame) for r in frames if r.source == second] == [
        (second, n) for n in range(120)
    ]
    assert [r.frame for r in frames if r.source == first] == list(range(300))
    assert [r.ts for r in frames] == sorted(r.ts for r in frames)
    summary = client.workflows.live_log_summary("Counter").streams
    assert summary["frames"].count == 420
    assert (summary["frames"].first_ts, summary["frames"].last_ts) == (frames[0].ts, frames[-1].ts)
    # The summary counts each stream without reading it: as many as its pages hold.
    for stream in ("events", "stats"):
        records = _records(client.workflows.live_log, workflow="Counter", stream=stream, limit=200)
        assert summary[stream].count == len(records) > 1
        assert (summary[stream].first_ts, summary[stream].last_ts) == (
            records[-1].ts,
            records[0].ts,
        )


def test_a_live_stats_record_counts_each_stream_running_then(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # As a stream's own stats messages do (and a run's stats records): its kind, the
    # frames it had sent, its camera's rate.
    fake.add_camera(CAMERA, fps=10, frames=900)
    live, token = _counter_live(client, min_containers=1)
    with client.workflows.connect(live, token) as endpoint, endpoint.open_stream(CAMERA) as stream:
        assert len(list(itertools.islice(stream.frames(), 700))) == 700
        stats = _records(client.workflows.live_log, workflow="Counter", stream="stats", limit=50)
    [minute] = stats
    [source] = minute.sources or []
    assert source["kind"] == "rtsp"
    assert source["fps"] == 10.0
    assert 500 <= source["frames"] <= 700


def test_reading_newest_first_while_a_stream_runs_neither_repeats_nor_skips(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=600)
    live, token = _counter_live(client, min_containers=1)
    with client.workflows.connect(live, token) as endpoint, endpoint.open_stream(CAMERA) as stream:
        frames = stream.frames()
        assert len(list(itertools.islice(frames, 100))) == 100
        newest = client.workflows.live_log("Counter", limit=30)
        assert [r.frame for r in newest.records] == list(range(99, 69, -1))
        # Twenty frames more are logged before the next page is read: it goes on from
        # the last record of the first, not twenty records later.
        assert len(list(itertools.islice(frames, 20))) == 20
        older = client.workflows.live_log("Counter", limit=30, cursor=newest.next_cursor)
        assert [r.frame for r in older.records] == list(range(69, 39, -1))
        # Oldest first, a page read later takes in what was logged meanwhile.
        oldest = client.workflows.live_log("Counter", order="asc", limit=60)
        assert len(list(itertools.islice(frames, 30))) == 30
        rest = _records(
            client.workflows.live_log,
            workflow="Counter",
            order="asc",
            limit=200,
            cursor=oldest.next_cursor,
        )
        assert [r.frame for r in oldest.records + rest] == list(range(150))


async def test_the_async_client_pages_a_live_log_by_its_cursors(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    first, _ = _two_streams(fake, client)
    seen: list[tuple[str | None, int | None]] = []
    cursor = None
    while True:
        page = await aclient.workflows.live_log("Counter", order="desc", limit=50, cursor=cursor)
        seen += [(r.source, r.frame) for r in page.records]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 420
    assert seen[0] == (first, 299)
    summary = await aclient.workflows.live_log_summary("Counter")
    assert summary.streams["frames"].count == 420


def test_a_last_page_exactly_full_is_the_last(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 420 frames in pages of 140: the third page is full and the log's end, so it has no
    # next_cursor ("None on the last one"), never a cursor to an empty fourth page.
    _two_streams(fake, client)
    for order in ("asc", "desc"):
        pages = _pages(client.workflows.live_log, workflow="Counter", order=order, limit=140)
        assert [len(page.records) for page in pages] == [140, 140, 140]
        assert pages[-1].next_cursor is None
    # Pages of 1 and of 200, the sizes' bounds: as full as asked, with a next page.
    for limit in (1, 200):
        page = client.workflows.live_log("Counter", order="asc", limit=limit)
        assert (len(page.records), page.next_cursor is not None) == (limit, True)


async def test_a_last_page_exactly_full_is_the_last_async(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _two_streams(fake, client)
    sizes, cursor = [], None
    while True:
        page = await aclient.workflows.live_log("Counter", order="asc", limit=105, cursor=cursor)
        sizes.append(len(page.records))
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sizes == [105, 105, 105, 105]


async def test_a_cursor_past_either_end_reads_an_empty_last_page_one_past_any_time_is_refused(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _two_streams(fake, client)
    pages: tuple[tuple[RunLogOrder, str], ...] = (
        ("asc", "asc:1e+300:0:0"),
        ("desc", "desc:-1e+300:0:0"),
    )
    for order, cursor in pages:
        page = client.workflows.live_log("Counter", order=order, limit=5, cursor=cursor)
        assert (page.records, page.next_cursor) == ([], None)
        again = await aclient.workflows.live_log("Counter", order=order, limit=5, cursor=cursor)
        assert (again.records, again.next_cursor) == ([], None)
    # In the cursor's form, but a time no float holds (an infinity): no record's place.
    for cursor in ("asc:1e+999:0:0", "asc:-1e+999:0:0"):
        with pytest.raises(ValidationError, match="is not a cursor of an asc page"):
            client.workflows.live_log("Counter", order="asc", limit=5, cursor=cursor)
        with pytest.raises(ValidationError, match="is not a cursor of an asc page"):
            await aclient.workflows.live_log("Counter", order="asc", limit=5, cursor=cursor)


def test_a_frames_record_and_a_stats_message_come_only_with_full(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # "``pictograph`` ... and ``message`` ... come only with ``full=True``."
    _two_streams(fake, client)
    fields: tuple[tuple[RunLogStream, str], ...] = (("frames", "pictograph"), ("stats", "message"))
    for stream, field in fields:
        brief = client.workflows.live_log("Counter", stream=stream, limit=5)
        full = client.workflows.live_log("Counter", stream=stream, limit=5, full=True)
        assert brief.records
        assert [getattr(r, field) for r in brief.records] == [None] * len(brief.records)
        assert all(getattr(r, field) for r in full.records)
        assert [r.ts for r in full.records] == [r.ts for r in brief.records]
    # The default organization's plan (pro) is a paid one: it logs every frame.
    assert brief.log_frames is True
    assert client.workflows.live_log_summary("Counter").log_frames is True


def test_min_confidence_keeps_a_frame_exactly_that_confident(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # "Frames whose best annotation is at least this confident": equal is enough.
    _two_streams(fake, client)
    frames = _records(client.workflows.live_log, workflow="Counter", limit=200)
    best = max(r.max_confidence for r in frames if r.max_confidence is not None)
    kept = _records(client.workflows.live_log, workflow="Counter", min_confidence=best, limit=200)
    assert kept
    assert {r.max_confidence for r in kept} == {best}


@pytest.mark.parametrize("limit", [0, 201])
def test_a_page_size_outside_1_to_200_is_refused(
    fake: FakePictograph, client: pictograph.Client, limit: int
) -> None:
    _two_streams(fake, client)
    with pytest.raises(ValidationError, match="limit"):
        client.workflows.live_log("Counter", limit=limit)


# Cursors shaped like the fake's (an order, a time, a rank, a number), and any text.
_CURSORS = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"(asc|desc):[-+0-9.einfa]{0,8}:[0-9]{0,3}:[0-9]{0,4}", fullmatch=True),
    st.sampled_from(["asc:nan:0:1", "asc:-nan:0:0", "asc:inf:0:1", "asc:-inf:0:1"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=_CURSORS)
# Digits `int` refuses though `str.isdigit` takes them, and more than `int` reads: a 400
# too, not a 500; so are digits of other scripts, and a time with an underscore.
@example(cursor="asc:1.0:\u00b2:0")
@example(cursor="asc:1.0:0:" + "9" * 5000)
@example(cursor="asc:1.0:\u0661:0")
@example(cursor="asc:\u0661.0:0:0")
@example(cursor="asc:1_0.0:0:0")
@example(cursor="asc: 1.0:0:0")
def test_any_cursor_gets_a_page_or_a_400_that_says_what_to_send(
    fake: FakePictograph, client: pictograph.Client, cursor: str
) -> None:
    if not client.workflows.list():
        _counting_run(client)
    (run,) = client.workflows.list_runs("Lot")
    refused: ValidationError | None = None
    try:
        page = client.workflows.run_log(run.id, stream="frames", cursor=cursor, limit=5)
    except ValidationError as error:
        refused = error
    if refused is not None:
        assert "is not a cursor of an asc page: send the next_cursor" in str(refused)
    else:
        # Only the fake's own form, in ASCII digits, names a place.
        assert re.fullmatch(r"asc:-?[0-9.]+(e[-+][0-9]+)?:[0-9]+:[0-9]+", cursor, re.ASCII)
        assert math.isfinite(float(cursor.split(":")[1]))  # nan names no record's time
        assert len(page.records) <= 5
    assert not fake.server_errors


async def test_an_event_type_keeps_only_the_events_of_that_type(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    run_id = _counting_run(client)
    events = _records(client.workflows.run_log, run_id=run_id, stream="events", limit=50)
    # A graph that counts and captures nothing logs events of one type only.
    assert events
    assert {e.type for e in events} == {"event"}
    same = _records(client.workflows.run_log, run_id=run_id, event_type="event", limit=50)
    assert [_place(r) for r in same] == [_place(r) for r in events]
    assert _records(client.workflows.run_log, run_id=run_id, event_type="capture", limit=50) == []
    page = await aclient.workflows.run_log(run_id, event_type="capture_uploaded")
    assert (page.records, page.next_cursor) == ([], None)


async def test_a_run_not_started_yet_has_logged_nothing_and_no_time(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    run_id = _counting_run(client, wait=False)
    for summary in (
        client.workflows.run_log_summary(run_id),
        await aclient.workflows.run_log_summary(run_id),
    ):
        read = {name: (s.count, s.first_ts, s.last_ts) for name, s in summary.streams.items()}
        assert read == dict.fromkeys(("frames", "events", "stats"), (0, None, None))
    for stream in ("frames", "events", "stats"):
        page = client.workflows.run_log(run_id, stream=stream)
        assert (page.records, page.next_cursor) == ([], None)


def test_a_refused_cursor_is_a_400_at_its_field_quoting_80_characters_of_it(
    client: pictograph.Client,
) -> None:
    run_id = _counting_run(client)
    with pytest.raises(ValidationError) as refused:
        client.workflows.run_log(run_id, order="desc", cursor="c" * 81 + "-the-rest")
    error = refused.value
    assert error.status_code == 400
    assert [tuple(e["loc"]) for e in error.field_errors] == [("query", "cursor")]
    # A cursor is echoed cut short: whatever was sent, the message stays a line.
    assert error.message.startswith(
        f"cursor '{'c' * 80}' is not a cursor of a desc page: send the next_cursor"
    )
    assert "the-rest" not in error.message


def test_a_runs_events_are_logged_oldest_first_across_its_zones(client: pictograph.Client) -> None:
    _train(client)
    graph = _counting_graph()
    graph["nodes"][3]["config"]["geometries"].append({"kind": "zone", "name": "Dock"})
    client.workflows.create("Lot", graph)
    run = client.workflows.wait_for_run(client.workflows.run("Lot").run_id, poll_interval=1)
    events = _records(client.workflows.run_log, run_id=run.id, stream="events", limit=4)
    assert events
    frames = [e.frame for e in events if e.frame is not None]
    assert len(frames) == len(events)
    assert frames == sorted(frames)
    named = {(e.frame, e.trigger) for e in events}
    assert len(named) == len(events)
    names = client.workflows.run_log(run.id, stream="events", limit=1).event_names
    assert {n.name for n in names.values()} == {
        "Entry · Lot",
        "Exit · Lot",
        "Entry · Dock",
        "Exit · Dock",
    }
    # Each frame's events in the graph's order: the Lot's before the Dock's.
    for _, same_frame in itertools.groupby(events, key=lambda e: e.frame):
        zones = [names[e.trigger].name.split(" · ")[1] for e in same_frame if e.trigger]
        assert zones == sorted(zones, key=["Lot", "Dock"].index)


@pytest.mark.slow
def test_a_stream_longer_than_its_log_keeps_the_newest_and_its_cursors_their_place(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    total = STREAM_LOG_LIMIT + 600
    fake.add_camera(CAMERA, fps=30, frames=total)
    live, token = _counter_live(client, min_containers=1)
    with client.workflows.connect(live, token) as endpoint, endpoint.open_stream(CAMERA) as stream:
        frames = stream.frames()
        assert len(list(itertools.islice(frames, STREAM_LOG_LIMIT))) == STREAM_LOG_LIMIT
        first = client.workflows.live_log("Counter", order="asc", limit=100)
        assert [r.frame for r in first.records] == list(range(100))
        assert len(list(frames)) == 600  # 600 more: the oldest 600 leave the log
    after = client.workflows.live_log("Counter", order="asc", limit=200, cursor=first.next_cursor)
    assert [r.frame for r in after.records] == list(range(600, 800))
    summary = client.workflows.live_log_summary("Counter").streams["frames"]
    assert summary.count == STREAM_LOG_LIMIT
    newest = client.workflows.live_log("Counter", limit=1).records
    assert [r.frame for r in newest] == [total - 1]
