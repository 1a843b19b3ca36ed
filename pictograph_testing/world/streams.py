"""Live streams: a camera's frames through a deployment or a workflow, on the virtual clock.

A stream opens on an active deployment, or a workflow's endpoint (``POST
{endpoint}/sessions``; :mod:`.stream_hosts` says what each makes of a frame), with a
source: a camera it connects to (``rtsp://``, ``rtsps://``, a WebRTC camera's
``https://`` WHEP URL) or ``whip`` (the video sent to it). The fake reaches no network,
so a camera is one the test registered (:meth:`Streams.add_camera`): its frame rate, its
size and how many frames it sends before it stops (``None``: it never does). A ``whip``
stream gets no video in the fake (no WebRTC): it sends its reader a ``stats`` message a
second and nothing else.

Nothing about a stream is planned on the agenda: when it ends, and why, is read off the
clock when it is looked at. It ends at the earliest of: its stop (``DELETE``), its
host's containers stopping (a pause, a deletion, credit run dry), its camera's last
frame, :data:`~pictograph_testing.catalog.STREAM_IDLE_SECONDS` after its reader was last
active (the fake counts a read of its results, its state and its overlay as activity,
whatever the source), and :data:`~pictograph_testing.catalog.STREAM_MAX_SECONDS` after
it opened. Its frames are live: a reader that connects late misses the ones before.
"""

from __future__ import annotations

import ipaddress
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import SplitResult, urlsplit

from pictograph_testing.catalog import (
    DEPLOYMENT_STREAMS_PER_CONTAINER,
    STREAM_IDLE_SECONDS,
    STREAM_MAX_SECONDS,
)
from pictograph_testing.world.video_files import MAX_VIDEO_SIDE

if TYPE_CHECKING:
    from pictograph_testing.world.state import World
    from pictograph_testing.world.workflow_runs import Frame

__all__ = [
    "ENDED_WORDS",
    "MAX_CAMERA_FPS",
    "RESULTS_PROTOCOL",
    "STREAM_LOG_LIMIT",
    "Camera",
    "Closing",
    "LoggedFrame",
    "ResultsReader",
    "Stream",
    "StreamHost",
    "StreamLog",
    "StreamProblem",
    "StreamView",
    "Streams",
    "camera_problem",
    "make_camera",
    "source_problem",
    "stream_containers",
]

RESULTS_PROTOCOL = "pictograph.results.v1"
"""The results socket's subprotocol."""
ENDED_WORDS = {
    "stopped": "its viewer stopped it",
    "container_stopped": "the container is stopping",
    "source_ended": "its source ended",
    "idle": f"no request for {STREAM_IDLE_SECONDS} s",
    "time_limit": f"its {STREAM_MAX_SECONDS // 3600} h limit",
}
"""The gateway's words for why a stream ended, the reason its results socket closes
with (the SDK reads its ``ended`` from them)."""
# Ties go to the first: a camera whose last frame goes at the idle limit ended its
# source. (A stop, or a container's, never ties: a stream has ended at its end's
# instant, so neither reaches it.)
_END_ORDER = ("stopped", "container_stopped", "source_ended", "idle", "time_limit")
STREAM_LOG_LIMIT = 10_000
"""The newest frames, and events, a workflow stream's log keeps."""
MAX_CAMERA_FPS = 240
"""The highest frame rate a camera may send."""
_CAMERA_SCHEMES = {"rtsp": "rtsp", "rtsps": "rtsp", "https": "whep"}
_PRIVATE_SUFFIXES = (".local", ".internal", ".localdomain", ".lan", ".home.arpa")


@dataclass(frozen=True)
class Camera:
    """A camera a stream can connect to: where it is, its frame rate and size, and how
    many frames it sends before it stops (``None``: it never stops)."""

    source: str
    fps: float = 30.0
    width: int = 1280
    height: int = 720
    frames: int | None = None

    @property
    def kind(self) -> str:
        """The stream kind it makes: ``rtsp`` or ``whep``."""
        return _CAMERA_SCHEMES[urlsplit(self.source).scheme.lower()]


@dataclass
class Stream:
    """One stream: where its video comes from and the instants that decide its end."""

    id: str
    host_id: str
    """The deployment's id, or the workflow endpoint's, it runs on."""
    kind: str
    camera: Camera | None
    overlay: bool
    opened_at: float
    last_active: float
    stopped_at: float | None = None
    container_stopped_at: float | None = None
    log: StreamLog = field(default_factory=lambda: StreamLog())
    """A workflow's frames through its graph, in order, and its events (its live log)."""
    runs: Any = None
    """What it runs, as its host served it when it opened (a workflow endpoint's graph:
    a save is live from the next stream on; ``None`` for a deployment's)."""

    @property
    def expires_at(self) -> float:
        return self.opened_at + STREAM_MAX_SECONDS

    @property
    def fps(self) -> float:
        return self.camera.fps if self.camera is not None else 0.0

    def end(self) -> tuple[float, str]:
        """When it ends (or ended) as things stand, and why (a key of :data:`ENDED_WORDS`).

        An idle end moves with every activity, so it holds only once the clock passed it.
        """
        camera = self.camera
        candidates = {
            "stopped": self.stopped_at,
            "container_stopped": self.container_stopped_at,
            "source_ended": (
                self.opened_at + camera.frames / camera.fps
                if camera is not None and camera.frames is not None
                else None
            ),
            "idle": self.last_active + STREAM_IDLE_SECONDS,
            "time_limit": self.expires_at,
        }
        at, why = math.inf, "time_limit"
        for reason in _END_ORDER:
            moment = candidates[reason]
            if moment is not None and moment < at:
                at, why = moment, reason
        return at, why

    def ended(self, now: float) -> str | None:
        """Why it ended, if it had by ``now``."""
        at, why = self.end()
        return why if at <= now else None

    def frames_before(self, moment: float) -> int:
        """How many of its frames were sent before ``moment`` (a camera's, up to its end)."""
        camera = self.camera
        if camera is None or moment <= self.opened_at:
            return 0
        sent = math.ceil((moment - self.opened_at) * camera.fps - 1e-9)
        return sent if camera.frames is None else min(sent, camera.frames)

    def frames_through(self, moment: float) -> int:
        """How many of its frames were sent up to ``moment``, one due at it included."""
        camera = self.camera
        if camera is None or moment < self.opened_at:
            return 0
        sent = math.floor((moment - self.opened_at) * camera.fps + 1e-9) + 1
        return sent if camera.frames is None else min(sent, camera.frames)

    def frame_time(self, index: int) -> float:
        return self.opened_at + index / self.fps


class LoggedFrame(NamedTuple):
    """A frame as a workflow's graph left it, when it was sent, and its lines' and
    zones' counts after it."""

    frame: Frame
    at: float
    measures: dict[str, dict[str, int]]


class StreamLog:
    """What a workflow's stream logged: its frames through the graph, in order, and its
    zones' events; the newest :data:`STREAM_LOG_LIMIT` of each are kept (the counts go
    on over every frame)."""

    def __init__(self) -> None:
        self.folded = 0
        """Frames run through the graph so far (their counts are in :attr:`counts`)."""
        self.counts: dict[str, dict[str, int]] = {}
        self.frames: deque[LoggedFrame] = deque(maxlen=STREAM_LOG_LIMIT)
        """The newest frames logged: frame ``n`` is at ``n - first_frame``."""
        self.events: deque[dict[str, Any]] = deque(maxlen=STREAM_LOG_LIMIT)
        """The newest events logged: event ``n`` (counted from the stream's first) is at
        ``n - first_event``."""
        self.events_logged = 0
        self.triggers: dict[str, dict[str, Any]] = {}
        """The first event of each trigger (they name the triggers in the log)."""

    @property
    def first_frame(self) -> int:
        """The number (its frame's index) of the oldest frame the log keeps."""
        return self.folded - len(self.frames)

    @property
    def first_event(self) -> int:
        """The number of the oldest event the log keeps."""
        return self.events_logged - len(self.events)

    def add(self, logged: LoggedFrame) -> None:
        self.frames.append(logged)
        self.folded = logged.frame.index + 1

    def add_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.events_logged += 1
        self.triggers.setdefault(event["trigger"], event)

    def frame(self, index: int) -> LoggedFrame | None:
        """Frame ``index``, if the log still keeps it."""
        first = self.first_frame
        return self.frames[index - first] if first <= index < self.folded else None

    def counts_now(self) -> dict[str, dict[str, int]]:
        return {name: dict(these) for name, these in self.counts.items()}


@dataclass(frozen=True)
class StreamView:
    """A stream as the fake sees it at one instant (:attr:`FakePictograph.streams`)."""

    id: str
    host_id: str
    """The deployment's id, or the workflow endpoint's, it runs on."""
    kind: str
    """``rtsp``, ``whep`` or ``whip``."""
    source: str | None
    """Its camera's URL as added (``None`` for ``whip``)."""
    overlay: bool
    opened_at: float
    """Virtual seconds since the clock started, as ``fake.clock.monotonic()`` reads."""
    ended: str | None
    """Why it ended (as ``DeploymentStream.ended`` names it), or ``None`` while it runs."""
    ended_at: float | None
    frames_sent: int
    """Its camera's frames sent by now (or by its end)."""


class StreamProblem(Exception):
    """A stream call the gateway refuses: its status, its ``error`` slug and its words;
    ``extra`` goes into the body beside them."""

    def __init__(self, status: int, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.extra = extra


class Closing(NamedTuple):
    """How a results socket closes: its code and its reason."""

    code: int
    reason: str


def _stats_source(stream: Stream, at: float) -> dict[str, Any]:
    """One stream as a stats record counts it at ``at``: its kind and the frames sent."""
    source: dict[str, Any] = {"kind": stream.kind, "frames": stream.frames_before(at)}
    if stream.camera is not None:
        source["fps"] = stream.camera.fps
    return source


def source_problem(source: Any) -> str | None:
    """What is wrong with an open's ``source`` as sent, or ``None``."""
    if not isinstance(source, dict):
        return 'source must be an object: {"kind": "whip"} or {"kind": "rtsp" | "whep", "uri"}'
    kind = source.get("kind")
    if kind == "whip":
        return None
    if kind not in ("rtsp", "whep"):
        return 'source.kind must be "whip", "rtsp" or "whep"'
    uri = source.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        return f"a {kind} source needs its camera's uri"
    parts = _split(uri)
    expected = ("rtsp", "rtsps") if kind == "rtsp" else ("https",)
    if parts is None or parts.scheme.lower() not in expected or not parts.hostname:
        # Never the URI itself: a camera's URL can carry its password.
        return f"a {kind} source's uri is a {' or '.join(s + '://' for s in expected)} URL"
    return None


def camera_problem(source: str) -> str | None:
    """Why a camera at ``source`` is not one a deployment may connect to (its address is
    not public), or ``None``."""
    parts = _split(source)
    host = (parts.hostname or "").lower() if parts is not None else ""
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES) or "." not in host.strip("[]"):
        return "the camera's address is not public"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return None if address.is_global else "the camera's address is not public"


def make_camera(source: str, *, fps: float, frames: int | None, width: int, height: int) -> Camera:
    """A camera as :meth:`FakePictograph.add_camera` takes one; ``ValueError`` says what
    to fix."""
    if not isinstance(source, str):
        raise ValueError("add_camera: source must be the camera's URL")
    scheme = source.strip().partition(":")[0].lower()
    if scheme not in ("rtsp", "rtsps", "https"):
        # Never the URL itself: a camera's URL can carry its password.
        raise ValueError(
            "add_camera: a camera's source is an rtsp://, rtsps:// or https:// (WHEP) URL"
        )
    kind = "whep" if scheme == "https" else "rtsp"
    problem = source_problem({"kind": kind, "uri": source}) or camera_problem(source)
    if problem is not None:
        raise ValueError(f"add_camera: {problem}")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= MAX_CAMERA_FPS:
        raise ValueError(f"add_camera: fps must be above 0 and at most {MAX_CAMERA_FPS}")
    if frames is not None and (not _whole(frames) or frames < 1):
        raise ValueError("add_camera: frames must be a whole number of at least 1, or None")
    for name, side in (("width", width), ("height", height)):
        if not _whole(side) or not 1 <= side <= MAX_VIDEO_SIDE:
            raise ValueError(
                f"add_camera: {name} must be a whole number from 1 to {MAX_VIDEO_SIDE}"
            )
    return Camera(source.strip(), float(fps), width, height, frames)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class StreamHost(Protocol):
    """What a stream runs on: a deployment, or a workflow's endpoint."""

    @property
    def id(self) -> str:
        """Its id, which its gateway URL names."""
        ...

    @property
    def what(self) -> str:
        """What it is, in the gateway's words (``deployment``, ``workflow endpoint``)."""
        ...

    @property
    def status(self) -> str:
        """Its state (``active`` when it streams)."""
        ...

    def stream_limit(self) -> int:
        """How many streams it runs at once."""
        ...

    def activity(self, now: float) -> None:
        """A stream on it was opened, read or called at ``now``."""
        ...

    def version(self) -> Any:
        """What a stream opened now runs, kept with it (``Stream.runs``)."""
        ...

    def frame(self, stream: Stream, camera: Camera, index: int) -> dict[str, Any]:
        """Frame ``index`` of ``stream``'s camera as its engine sends it."""
        ...


def stream_containers(running: int) -> int:
    """The containers that ``running`` streams keep busy."""
    return -(-running // DEPLOYMENT_STREAMS_PER_CONTAINER)


def _split(uri: str) -> SplitResult | None:
    """``uri`` split, or ``None`` when it cannot be (an unclosed or unknown ``[...]`` host)."""
    try:
        parts = urlsplit(uri.strip())
        _ = parts.hostname
    except ValueError:
        return None
    return parts


def camera_key(source: str) -> str:
    """How a camera is looked up: its URL without surrounding space, scheme and host in
    lower case (the rest as given: paths and credentials are case-sensitive)."""
    parts = urlsplit(source.strip())
    return parts._replace(scheme=parts.scheme.lower(), netloc=_netloc(parts.netloc)).geturl()


def _netloc(netloc: str) -> str:
    credentials, at, host = netloc.rpartition("@")
    return f"{credentials}{at}{host.lower()}"


class Streams:
    """Every stream, and the cameras they can connect to."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.cameras: dict[str, Camera] = {}
        self._streams: dict[str, Stream] = {}
        # The streams each host may still be running: what its limit counts.
        self._of_host: dict[str, dict[str, Stream]] = {}
        # Every stream each host ran, oldest first: what its log's stats count.
        self._ever_on: dict[str, list[Stream]] = {}

    @property
    def holds_state(self) -> bool:
        """Whether it holds anything a snapshot would have to capture."""
        return bool(self.cameras or self._streams)

    def views(self, now: float) -> tuple[StreamView, ...]:
        """Every stream opened, oldest first, as things stand at ``now``."""
        views = []
        for stream in self._streams.values():
            end_at, why = stream.end()
            ended = end_at <= now
            views.append(
                StreamView(
                    id=stream.id,
                    host_id=stream.host_id,
                    kind=stream.kind,
                    source=stream.camera.source if stream.camera is not None else None,
                    overlay=stream.overlay,
                    opened_at=stream.opened_at,
                    ended=why if ended else None,
                    ended_at=end_at if ended else None,
                    frames_sent=_sent(stream, end_at, why) if ended else stream.frames_through(now),
                )
            )
        return tuple(views)

    # ── cameras ──

    def add_camera(self, camera: Camera) -> Camera:
        self.cameras[camera_key(camera.source)] = camera
        return camera

    # ── streams ──

    def get(self, host: StreamHost, stream_id: str) -> Stream | None:
        stream = self._streams.get(stream_id)
        return stream if stream is not None and stream.host_id == host.id else None

    def running_on(self, host_id: str, now: float) -> int:
        """How many of its streams had not ended by ``now`` (those that ended are let go)."""
        streams = self._of_host.get(host_id)
        if not streams:
            return 0
        for stream in [s for s in streams.values() if s.ended(now) is not None]:
            del streams[stream.id]
        return len(streams)

    def ever_on(self, host_id: str) -> list[Stream]:
        """Every stream opened on it, oldest first."""
        return list(self._ever_on.get(host_id, ()))

    def open(self, host: StreamHost, source: dict[str, Any], overlay: bool, now: float) -> Stream:
        """Open a stream on an active host; :class:`StreamProblem` when it cannot."""
        camera = None
        if source["kind"] != "whip":
            uri: str = source["uri"]
            if camera_problem(uri) is not None:
                raise StreamProblem(
                    400,
                    "unsafe_source",
                    f"The {host.what} connects only to a camera with a public address.",
                )
            camera = self.cameras.get(camera_key(uri))
            if camera is None:
                raise StreamProblem(
                    502,
                    "session_failed",
                    "The stream's engine could not reach the camera: pictograph-testing "
                    "reaches no network; register the camera first with "
                    "fake.add_camera(url, fps=..., frames=...).",
                )
        limit = host.stream_limit()
        if self.running_on(host.id, now) >= limit:
            raise StreamProblem(
                429,
                "stream_limit",
                f"This {host.what} runs {limit} stream(s) at once.",
                stream_limit=limit,
            )
        stream = Stream(
            id=self._world.ids.hex(16),
            host_id=host.id,
            kind=camera.kind if camera is not None else "whip",
            camera=camera,
            overlay=overlay,
            opened_at=now,
            last_active=now,
            runs=host.version(),
        )
        self._streams[stream.id] = stream
        self._of_host.setdefault(host.id, {})[stream.id] = stream
        self._ever_on.setdefault(host.id, []).append(stream)
        host.activity(now)
        return stream

    def touch(self, host: StreamHost, stream: Stream, now: float) -> None:
        """Its reader was active at ``now``: it is not idle, and its host stays up."""
        stream.last_active = max(stream.last_active, now)
        host.activity(now)

    def set_overlay(self, stream: Stream, on: bool) -> None:
        stream.overlay = on

    def stop(self, stream: Stream, now: float) -> None:
        stream.stopped_at = now

    def container_stopping(self, host_id: str, at: float) -> None:
        """Its host's containers stop at ``at``: every stream still running ends."""
        for stream in self._of_host.pop(host_id, {}).values():
            if stream.end()[0] > at:
                stream.container_stopped_at = at

    # ── what a stream sends ──

    def stats_message(self, stream: Stream, second: int) -> dict[str, Any]:
        """The stream's numbers at its ``second``-th second: frames sent so far."""
        source = _stats_source(stream, stream.opened_at + second)
        return {"type": "stats", "source": stream.id, "uptime_s": second, "sources": [source]}

    def sources_at(self, host_id: str, at: float) -> list[dict[str, Any]]:
        """The host's streams running at ``at`` (as they ended, if they have), each as
        its stats message counts it."""
        return [
            _stats_source(stream, at)
            for stream in self._ever_on.get(host_id, [])
            if stream.opened_at <= at < stream.end()[0]
        ]

    def state(self, stream: Stream, now: float) -> dict[str, Any]:
        """The engine's own account of a running stream (``GET`` of the stream)."""
        engine: dict[str, Any] = {
            "status": "running",
            "uptime_s": round(now - stream.opened_at, 3),
            "frame_messages": stream.frames_through(now),
            "overlay": stream.overlay,
            "whep": [],
        }
        if stream.kind == "whip":
            engine["whip"] = {"connected": False}
        return engine


class ResultsReader:
    """One connection to a stream's results socket: what it sends next, and when.

    Pure bookkeeping: the caller holds the world lock while it asks, and lets the clock
    run (outside the lock) until the next message is due.
    """

    def __init__(self, streams: Streams, host: StreamHost, stream: Stream, now: float) -> None:
        self._streams = streams
        self._host = host
        self.stream = stream
        # Live: a reader that connects late misses what was sent before.
        self._frame = stream.frames_before(now)
        self._second = max(0, math.ceil(now - stream.opened_at - 1e-9))
        streams.touch(host, stream, now)

    def due(self) -> float:
        """When its next message (or its close) is due."""
        return min(
            self._next_frame_at(), self.stream.opened_at + self._second, self.stream.end()[0]
        )

    def take(self, now: float) -> dict[str, Any] | Closing | None:
        """The message due by ``now`` (a stats message before a frame of the same instant),
        the close once the stream ended, or ``None`` when nothing is due yet.

        A read is its reader's activity, unless the stream had ended before it: what was
        sent until the end (and waited in the socket) is read, then the close.
        """
        stream = self.stream
        end_at, why = stream.end()
        if end_at > now:
            self._streams.touch(self._host, stream, now)
            end_at = math.inf  # read now: it cannot end before the next message
        stats_at = stream.opened_at + self._second
        frame_at = self._next_frame_at()
        first = min(stats_at, frame_at)
        if end_at <= first:
            return Closing(1000, ENDED_WORDS[why])
        if first > now:
            return None
        if stats_at <= frame_at:
            self._second += 1
            return self._streams.stats_message(stream, self._second - 1)
        self._frame += 1
        assert stream.camera is not None  # a frame is due: it has a camera
        return self._host.frame(stream, stream.camera, self._frame - 1)

    def _next_frame_at(self) -> float:
        camera = self.stream.camera
        if camera is None or (camera.frames is not None and self._frame >= camera.frames):
            return math.inf
        return self.stream.frame_time(self._frame)


_ASKED = frozenset({"stopped"})
"""The end a request makes (the stream's own stop): at an instant the clock had reached,
whose frames were sent already. A container may stop on the clock (credit run out)."""


def _sent(stream: Stream, end_at: float, why: str) -> int:
    """The frames an ended stream sent. A stop request came at an instant whose frames had
    gone out (as the live count has it); an end the clock brings (idle, time limit) comes
    before a frame due at its instant."""
    return stream.frames_through(end_at) if why in _ASKED else stream.frames_before(end_at)
