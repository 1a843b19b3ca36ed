"""A stream's calls on the gateway: open, state, overlay, stop, and its results.

A stream runs on a deployment or on a workflow's endpoint (see ``world.stream_hosts``).

``POST /{region}/{id}/sessions`` opens a stream (``OpenedStream``), ``GET`` and
``DELETE`` of ``/sessions/{stream}`` read its state and stop it, ``POST
/sessions/{stream}/overlay`` turns its drawing on or off. Its results come on a WebSocket
at ``/sessions/{stream}/results``: an in-process client reaches it through
:func:`open_results` (the SDK's ``DeploymentStream`` is coupled to it while a fake is
active); over HTTP that path answers ``426``. Its WebRTC paths (``/whep``, ``/whip``) are
not simulated. The streams themselves are :mod:`pictograph_testing.world.streams`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pictograph_testing.api import strict_json
from pictograph_testing.api.errors import gateway_error_body
from pictograph_testing.api.wire import Reply, encode
from pictograph_testing.catalog import STREAM_ICE_SERVERS, STREAM_IDLE_SECONDS
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.streams import (
    ENDED_WORDS,
    RESULTS_PROTOCOL,
    Closing,
    ResultsReader,
    StreamHost,
    StreamProblem,
    source_problem,
)

if TYPE_CHECKING:
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import Stream

__all__ = ["answer", "open_results", "open_stream"]

_WEBRTC = (
    "pictograph-testing does not simulate WebRTC (a stream's video in and out): read the "
    "stream's results (DeploymentStream.frames) instead."
)


def open_stream(
    world: World, host: StreamHost, sessions: str, method: str, body: bytes, now: float
) -> Reply:
    """``POST {sessions}`` on an active host: open a stream, answer where it is (its paths
    below ``sessions``, the sessions' path on the gateway's host)."""
    if method != "POST":
        return _refused(405, "method_not_allowed", "POST to the sessions to open a stream.")
    request = strict_json.object_or_none(body)
    if request is None:
        return _refused(400, "invalid_source", "The stream's source is not valid: send JSON.")
    source = request.get("source")
    problem = source_problem(source)
    if problem is not None or not isinstance(source, dict):
        return _refused(400, "invalid_source", f"The stream's source is not valid: {problem}.")
    overlay = request.get("overlay", True)
    if not isinstance(overlay, bool):
        return _refused(400, "invalid_request_body", "overlay must be true or false.")
    try:
        stream = world.streams.open(host, source, overlay, now)
    except StreamProblem as problem_found:
        return _problem(problem_found)
    base = f"{sessions}/{stream.id}"
    paths = {
        "session": base,
        "whep": f"{base}/whep",
        "overlay": f"{base}/overlay",
        "results": f"{base}/results",
    }
    if stream.kind == "whip":
        paths["whip"] = f"{base}/whip"
    return Reply(
        201,
        encode(
            {
                "session": stream.id,
                "kind": stream.kind,
                "overlay": stream.overlay,
                "stream_limit": host.stream_limit(),
                "idle_timeout_s": STREAM_IDLE_SECONDS,
                "opened_at": _iso(world, stream.opened_at),
                "expires_at": _iso(world, stream.expires_at),
                "ice_servers": [dict(server) for server in STREAM_ICE_SERVERS],
                "paths": paths,
            }
        ),
    )


def answer(
    world: World, host: StreamHost, method: str, rest: list[str], body: bytes, now: float
) -> Reply:
    """A stream's own call: ``rest`` is the path after ``sessions`` (its id, then what)."""
    stream = world.streams.get(host, rest[0])
    what = rest[1] if len(rest) > 1 else None
    if what in ("whep", "whip"):
        return _refused(404, "not_found", _WEBRTC)
    if what not in (None, "overlay", "results"):
        return _refused(404, "not_found", "The gateway has no such route.")
    if stream is None:
        return _refused(404, "session_not_found", f"No stream of this {host.what} has this id.")
    allowed = {None: ("GET", "DELETE"), "overlay": ("POST",), "results": ("GET",)}[what]
    if method not in allowed:
        return _refused(405, "method_not_allowed", f"{' or '.join(allowed)} this path.")
    ended = stream.ended(now)
    if ended is not None:
        return _refused(410, "session_ended", f"The stream ended: {ENDED_WORDS[ended]}.")
    if what == "results":
        return _refused(
            426,
            "upgrade_required",
            f"A stream's results come on a WebSocket (subprotocol {RESULTS_PROTOCOL}).",
        )
    streams = world.streams
    if what == "overlay":
        request = strict_json.object_or_none(body)
        on = request.get("on") if request is not None else None
        if not isinstance(on, bool):
            return _refused(400, "invalid_request_body", 'Send {"on": true | false}.')
        streams.touch(host, stream, now)
        streams.set_overlay(stream, on)
        return Reply(200, encode({"session": stream.id, "overlay": on}))
    streams.touch(host, stream, now)
    if method == "DELETE":
        streams.stop(stream, now)
        return Reply(200, encode({"session": stream.id, "stopped": True}))
    return Reply(200, encode(_state(world, stream, now)))


def open_results(world: World, host: StreamHost, path: str, now: float) -> ResultsReader | Closing:
    """Connect to a stream's results socket at ``path`` (below the gateway): a reader, or
    the close the socket answers at once (no such stream, or it ended)."""
    parts = path.strip("/").split("/")
    if len(parts) != 5 or parts[4] != "results":
        return Closing(4404, "not_found")
    stream = world.streams.get(host, parts[3])
    if stream is None:
        return Closing(4404, "session_not_found")
    if stream.ended(now) is not None:
        return Closing(4410, "session_ended")
    return ResultsReader(world.streams, host, stream, now)


def _state(world: World, stream: Stream, now: float) -> dict[str, Any]:
    return {
        "session": stream.id,
        "kind": stream.kind,
        "opened_at": _iso(world, stream.opened_at),
        "expires_at": _iso(world, stream.expires_at),
        "engine": world.streams.state(stream, now),
    }


def _problem(problem: StreamProblem) -> Reply:
    return Reply(problem.status, gateway_error_body(problem.slug, problem.detail, **problem.extra))


def _refused(status: int, slug: str, detail: str) -> Reply:
    return Reply(status, gateway_error_body(slug, detail))


def _iso(world: World, seconds: float) -> str:
    return format_timestamp(world.clock.start + timedelta(seconds=seconds))
