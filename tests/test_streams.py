"""A deployment's live streams through the real SDK (1.69.140 on): open a camera, read each
frame's result on the virtual clock, read its state, switch its overlay, stop it, and every
way a stream ends or is refused. The SDK streams from its sync ``DeploymentClient`` only."""

from __future__ import annotations

import itertools
import json
import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pictograph import ClassificationResult, DeploymentClient, DetectionResult, StreamFrame
from pictograph.exceptions import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from pictograph.models.training import PipelineType

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import (
    DEPLOYMENT_GPUS,
    DEPLOYMENT_METER_SECONDS,
    DEPLOYMENT_SERVER_START_SECONDS,
    DEPLOYMENT_STREAMS_PER_CONTAINER,
    STREAM_IDLE_SECONDS,
    STREAM_MAX_SECONDS,
)
from pictograph_testing.world.streams import MAX_CAMERA_FPS
from tests.conftest import DATASET, EXPORT
from tests.test_deployments import _leave, _png
from tests.test_workflow_endpoints import _counter

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pictograph

CAMERA = "rtsp://cam.example.com:554/lot"


def _deployed(
    client: pictograph.Client, pipeline: PipelineType = "yolox", **options: Any
) -> tuple[pictograph.Deployment, str]:
    client.training.create(DATASET, EXPORT, pipeline_type=pipeline, name="signs")
    created = client.deployments.create("signs", gpu_type="t4", **options)
    return client.deployments.wait_until_active(created.deployment), created.auth_token


def _endpoint(client: pictograph.Client, **options: Any) -> DeploymentClient[Any]:
    deployment, token = _deployed(client, min_containers=1, **options)
    return client.deployments.connect(deployment, token, task="object_detection")


def _gateway_calls(fake: FakePictograph) -> list[tuple[str, str, int]]:
    return [
        (c.method, c.path.rsplit("/sessions", 1)[-1] or "/", c.status)
        for c in fake.calls
        if "/sessions" in c.path
    ]


def test_a_camera_streams_each_frame_through_the_model_until_it_stops(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=25, width=640, height=480)
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        opened = fake.clock.monotonic()
        messages = list(stream.messages())
        assert fake.clock.monotonic() - opened == pytest.approx(2.5)  # 25 frames at 10 fps
        assert (stream.ended, stream.ended_detail) == ("source_ended", "its source ended")
    frames = [m for m in messages if m["type"] == "frame"]
    assert [m["frame"] for m in frames] == list(range(25))
    assert [m["pts"] for m in frames[:3]] == [0.0, 0.1, 0.2]
    # A stats message each second of the stream, before that instant's frame.
    stats = [(i, m) for i, m in enumerate(messages) if m["type"] == "stats"]
    assert [(i, m["uptime_s"], m["sources"][0]["frames"]) for i, m in stats] == [
        (0, 0, 0),
        (11, 1, 10),
        (22, 2, 20),
    ]
    first = frames[0]
    assert first["model"] == {"name": "signs", "task": "object_detection"}
    assert first["pictograph"]["annotation_count"] == len(first["pictograph"]["annotations"])
    assert {a["name"] for m in frames for a in m["pictograph"]["annotations"]} <= {
        "stop_sign",
        "yield",
    }
    # Leaving the block stopped a stream that had already ended: quietly (a 410).
    assert _gateway_calls(fake) == [
        ("POST", "/", 201),
        ("GET", f"/{stream.id}/results", 101),
        ("DELETE", f"/{stream.id}", 410),
    ]
    # The socket's handshake is a request of its own: every call has its own id.
    ids = [c.request_id for c in fake.calls]
    assert len(set(ids)) == len(ids)


def test_frames_are_the_sdks_typed_results(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_camera(CAMERA, fps=30, frames=3)
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        frames = list(stream.frames())
    assert [type(f) for f in frames] == [StreamFrame] * 3
    first = frames[0]
    assert isinstance(first.result, DetectionResult)
    assert (first.index, first.pts, first.width, first.height) == (0, 0.0, 1280, 720)
    assert first.result.backend == "tensorrt"
    assert first.result.inference_ms == first.latency_ms.inference
    assert first.latency_ms.total is not None
    assert first.latency_ms.engine is not None
    assert first.latency_ms.total > first.latency_ms.engine
    assert [p.name for p in first.result.predictions] == [
        a["name"] for a in first.message["pictograph"]["annotations"]
    ]
    assert frames[0].measures == {}  # a deployment's stream has no lines or zones


def test_a_classifier_streams_ranked_labels(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, frames=2)
    deployment, token = _deployed(client, "classification", min_containers=1)
    with (
        client.deployments.connect(deployment, token, task="classification") as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        frames = list(stream.frames())
    assert len(frames) == 2
    for frame in frames:
        assert isinstance(frame.result, ClassificationResult)
        scores = frame.message["tag_confidences"]
        assert [c.name for c in frame.result.classes] == frame.message["pictograph"]["image_tags"]
        assert [c.confidence for c in frame.result.classes] == [
            scores[c.name] for c in frame.result.classes
        ]


def test_the_open_says_where_the_stream_is_and_when_it_ends(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera("https://cam.example.com/whep")
    endpoint = _endpoint(client, max_containers=2)
    with endpoint.open_stream("https://cam.example.com/whep", overlay=False) as stream:
        assert (stream.kind, stream.overlay, stream.whip_url) == ("whep", False, None)
        assert stream.stream_limit == 2 * DEPLOYMENT_STREAMS_PER_CONTAINER
        assert stream.opened_at is not None
        assert stream.opened_at == fake.clock.now()
        assert stream.expires_at == stream.opened_at + timedelta(seconds=STREAM_MAX_SECONDS)
        assert stream.ice_servers == [{"urls": "stun:stun.l.google.com:19302"}]
        (deployment,) = client.deployments.list()
        session = f"{fake.gateway_url}/us-east/{deployment.id}/sessions/{stream.id}"
        assert stream.url == session
        assert stream.whep_url == f"{session}/whep"
        assert stream.results_url == session.replace("https://", "wss://") + "/results"
    with endpoint.open_stream("whip") as sent_to:
        assert (sent_to.kind, sent_to.whip_url) == ("whip", f"{sent_to.url}/whip")
    endpoint.close()


def test_state_overlay_and_stop(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_camera(CAMERA, fps=4)
    with _endpoint(client) as endpoint:
        stream = endpoint.open_stream(CAMERA)
        fake.clock.advance(seconds=2)
        state = stream.state()
        assert (state.session, state.kind) == (stream.id, "rtsp")
        assert (state.opened_at, state.expires_at) == (stream.opened_at, stream.expires_at)
        assert state.engine == {
            "status": "running",
            "uptime_s": 2.0,
            "frame_messages": 9,  # frames 0..8, at 0, 0.25, ... 2.0 s
            "overlay": True,
            "whep": [],
        }
        assert stream.set_overlay(False) is False
        assert stream.overlay is False
        assert stream.state().engine["overlay"] is False
        stream.stop()
        assert stream.ended == "stopped"
        assert list(stream.frames()) == []  # a stopped stream reads nothing more
        with pytest.raises(ApiError) as gone:
            stream.state()
        assert (gone.value.status_code, gone.value.code) == (410, "session_ended")
        assert "its viewer stopped it" in str(gone.value)


def test_a_reader_that_connects_late_misses_the_frames_before(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10)  # a live camera: it never stops on its own
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        assert [f.index for f in itertools.islice(stream.frames(), 3)] == [0, 1, 2]
        fake.clock.advance(seconds=10)
        later = next(stream.frames())
        assert (later.index, later.pts) == (102, 10.2)  # the frame of the instant it connects


def test_a_stream_nobody_reads_ends_idle(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_camera(CAMERA, fps=10)
    with _endpoint(client) as endpoint:
        with endpoint.open_stream(CAMERA) as stream:
            read = stream.messages()
            assert next(read)["type"] == "stats"
            fake.clock.advance(seconds=STREAM_IDLE_SECONDS + 1)
            # What was sent while nobody read waited in the socket, up to the end.
            waiting = list(read)
            assert [m["frame"] for m in waiting if m["type"] == "frame"] == list(range(300))
            assert (stream.ended, stream.ended_detail) == ("idle", "no request for 30 s")
        # One never read ends idle too; a reader that connects after that is told it ended.
        quiet = endpoint.open_stream("whip")
        fake.clock.advance(seconds=STREAM_IDLE_SECONDS)
        assert list(quiet.messages()) == []
        assert quiet.ended == "ended"
        quiet.stop()  # quietly: it had ended


def test_a_read_stream_ends_at_its_four_hour_limit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with _endpoint(client) as endpoint, endpoint.open_stream("whip") as stream:
        messages = list(stream.messages())  # no video: a stats message a second
    assert (stream.ended, stream.ended_detail) == ("time_limit", "its 4 h limit")
    assert len(messages) == STREAM_MAX_SECONDS
    assert messages[-1]["uptime_s"] == STREAM_MAX_SECONDS - 1
    assert fake.clock.monotonic() >= STREAM_MAX_SECONDS


def test_pausing_the_deployment_ends_its_streams(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA)
    deployment, token = _deployed(client, min_containers=1)
    with client.deployments.connect(deployment, token) as endpoint:
        stream = endpoint.open_stream(CAMERA)
        read = stream.frames()
        assert next(read).index == 0
        client.deployments.pause(deployment.id)
        assert list(read) == []
        assert stream.ended == "container_stopped"
        stream.stop()  # it had ended: quiet
        with pytest.raises(ConflictError) as paused:
            endpoint.open_stream(CAMERA)
        assert paused.value.code == "deployment_not_active"


@pytest.mark.parametrize(
    "call",
    [lambda stream: stream.set_overlay(False), lambda stream: stream.state()],
    ids=["overlay", "state"],
)
def test_a_call_on_a_stream_nobody_reads_keeps_it_from_going_idle(
    fake: FakePictograph, client: pictograph.Client, call: Callable[[Any], object]
) -> None:
    with _endpoint(client) as endpoint, endpoint.open_stream("whip") as stream:
        for _ in range(3):
            fake.clock.advance(seconds=STREAM_IDLE_SECONDS - 1)
            call(stream)
        assert stream.state().engine["status"] == "running"


def test_a_stream_whose_deployment_was_deleted_is_not_found_when_read(
    client: pictograph.Client,
) -> None:
    deployment, token = _deployed(client, min_containers=1)
    with client.deployments.connect(deployment, token) as endpoint:
        stream = endpoint.open_stream("whip")
        client.deployments.delete(deployment.id)
        # The results socket is refused with the gateway's slug, which the SDK makes the code.
        with pytest.raises(NotFoundError) as gone:
            list(stream.messages())
    assert gone.value.code == "deployment_not_found"


def test_a_stream_opened_at_its_endpoints_id_in_another_case_is_where_its_id_says(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    deployment, token = _deployed(client, min_containers=1)
    assert deployment.id != deployment.id.upper()
    upper = f"{fake.gateway_url}/us-east/{deployment.id.upper()}/predict"
    with DeploymentClient(upper, token) as endpoint, endpoint.open_stream("whip") as stream:
        assert stream.url == f"{fake.gateway_url}/us-east/{deployment.id}/sessions/{stream.id}"


def test_a_stream_carries_a_class_named_beyond_ascii_as_it_was_named(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("panneaux", images=20, completed_images=12, classes=["cédez", "arrêt"])
    fake.add_export("panneaux", "panneaux-v1")
    fake.add_camera(CAMERA, fps=10, frames=20)
    client.training.create("panneaux", "panneaux-v1", pipeline_type="yolox", name="panneaux")
    created = client.deployments.create("panneaux", gpu_type="t4", min_containers=1)
    deployment = client.deployments.wait_until_active(created.deployment)
    with (
        client.deployments.connect(
            deployment, created.auth_token, task="object_detection"
        ) as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        names = {p.name for frame in stream.frames() for p in frame.result.predictions}
    assert names
    assert names <= {"cédez", "arrêt"}


def test_the_fake_lists_every_stream_and_how_each_ended(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    from pictograph_testing import StreamView

    streams = fake.streams  # read now: streams open below
    assert streams == ()
    fake.add_camera(CAMERA, fps=10, frames=20)
    with _endpoint(client) as endpoint:
        stopped = endpoint.open_stream(CAMERA)
        read = endpoint.open_stream(CAMERA)
        fake.clock.advance(seconds=1)
        stopped.stop()
        list(read.frames())
        whip = endpoint.open_stream("whip")
    opened = fake.streams[0].opened_at
    assert fake.streams == (
        StreamView(
            stopped.id,
            fake.streams[0].host_id,
            "rtsp",
            CAMERA,
            True,
            opened,
            "stopped",
            opened + 1,
            # Frames 0-10: frame 10 was due at the instant the stop came, and went out
            # as the clock reached it (the live count said 11 before the stop, too).
            11,
        ),
        StreamView(
            read.id,
            fake.streams[0].host_id,
            "rtsp",
            CAMERA,
            True,
            opened,
            "source_ended",
            opened + 2,
            20,
        ),
        StreamView(whip.id, fake.streams[0].host_id, "whip", None, True, opened + 2, None, None, 0),
    )
    fake.clock.advance(seconds=STREAM_IDLE_SECONDS)
    assert [(s.ended, s.ended_at) for s in fake.streams][2] == ("idle", opened + 32)


def test_a_camera_sends_thirty_frames_a_second_unless_told(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, frames=60)
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        opened = fake.clock.monotonic()
        frames = [m for m in stream.messages() if m["type"] == "frame"]
        assert fake.clock.monotonic() - opened == pytest.approx(2.0)  # 60 frames at 30 fps
    assert len(frames) == fake.streams[0].frames_sent == 60


def test_a_stopped_streams_count_is_the_frames_its_reader_got(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """Read up to the instant it is stopped: the frame due then was received, and counted,
    before the stop and after it alike."""
    fake.add_camera(CAMERA, fps=1, frames=60)
    with _endpoint(client) as endpoint:
        stream = endpoint.open_stream(CAMERA)
        received = []
        for frame in stream.frames():
            received.append(frame)
            if len(received) == 3:
                break
        before = fake.streams[0].frames_sent
        stream.stop()
    assert before == fake.streams[0].frames_sent == len(received) == 3


def test_a_stream_left_running_fails_teardown_when_asked() -> None:
    from pictograph_testing import TeardownCheckFailed

    with FakePictograph(seed=1, assert_streams_stopped=True) as checked:
        checked.add_dataset(DATASET, images=20, completed_images=12)
        checked.add_export(DATASET, EXPORT)
        checked.add_camera(CAMERA)
        with checked.client(max_retries=0) as sdk, _endpoint(sdk) as endpoint:
            endpoint.open_stream(CAMERA).stop()
            left = endpoint.open_stream(CAMERA)
            with pytest.raises(TeardownCheckFailed, match=r"1 stream\(s\) still running") as failed:
                checked.verify()
            assert left.id in str(failed.value)
            left.stop()
        checked.verify()  # nothing left running


def test_the_report_has_a_table_of_streams(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    fake.add_camera("rtsp://user:secret@cam.example.com/lot", frames=30)
    with _endpoint(client) as endpoint:
        with endpoint.open_stream("rtsp://user:secret@cam.example.com/lot") as stream:
            list(stream.frames())
        endpoint.open_stream("whip")
    page = fake.report(tmp_path / "report.html").read_text(encoding="utf-8")
    table = page[page.index('<table id="streams">') :]
    table = table[: table.index("</table>")]
    assert stream.id in table
    assert "source_ended at" in table
    assert table.count("<tr>") == 3  # the head and a row a stream
    assert "secret" not in page  # a camera's URL is never shown


def test_a_deployment_runs_four_streams_a_container(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA)
    deployment, token = _deployed(client, min_containers=1, max_containers=1)
    with client.deployments.connect(deployment, token) as endpoint:
        streams = [endpoint.open_stream(CAMERA) for _ in range(DEPLOYMENT_STREAMS_PER_CONTAINER)]
        runtime = client.deployments.get(deployment.id).runtime
        assert runtime is not None
        assert (runtime.containers, runtime.streams) == (1, 1)
        with pytest.raises(RateLimitError) as full:
            endpoint.open_stream(CAMERA)
        assert full.value.code == "stream_limit"
        assert "4 stream(s) at once" in str(full.value)
        assert full.value.response["stream_limit"] == DEPLOYMENT_STREAMS_PER_CONTAINER
        streams[0].stop()
        streams.append(endpoint.open_stream(CAMERA))  # a place was freed
        for stream in streams[1:]:
            stream.stop()
    runtime = client.deployments.get(deployment.id).runtime
    assert runtime is not None
    assert runtime.streams == 0


def test_a_scaled_to_zero_deployment_stays_up_while_its_stream_is_read(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=1, frames=600)
    deployment, token = _deployed(client, min_containers=0, scaledown_window=60)
    with (
        client.deployments.connect(deployment, token) as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        assert len(list(stream.frames())) == 600
    awake = client.deployments.get(deployment.id)
    assert awake.runtime is not None
    assert awake.runtime.state == "live"
    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)  # to the meter's next reading
    asleep = client.deployments.get(deployment.id)
    assert asleep.runtime is not None
    assert asleep.runtime.state == "asleep"
    # Up from the open to a window after the last read (599 s, its last frame).
    assert asleep.uptime_seconds == 599 + 60
    assert asleep.metrics is not None
    assert asleep.metrics.requests == 0  # a stream's reads are no requests


def test_opens_the_deployment_refuses(fake: FakePictograph, client: pictograph.Client) -> None:
    deployment, token = _deployed(client, min_containers=1)
    endpoint = client.deployments.connect(deployment, token)
    for private in ("rtsp://10.0.0.7/cam", "rtsp://localhost:8554/cam", "rtsp://cam.local/x"):
        with pytest.raises(ValidationError) as unsafe:
            endpoint.open_stream(private)
        assert unsafe.value.code == "unsafe_source"
    with pytest.raises(ServerError) as unknown:
        endpoint.open_stream("rtsp://user:secret@cam.example.com/other")
    assert unknown.value.code == "session_failed"
    assert "fake.add_camera" in str(unknown.value)
    assert "secret" not in str(unknown.value)  # a camera's URL is never repeated
    with (
        client.deployments.connect(deployment, "pk_deploy_wrong") as stranger,
        pytest.raises(AuthError),
    ):
        stranger.open_stream("whip")
    endpoint.close()
    # What the SDK never sends (it checks the source first), the gateway refuses too.
    assert deployment.endpoint_url is not None
    sessions = deployment.endpoint_url.removesuffix("/predict") + "/sessions"
    bearer = {"Authorization": f"Bearer {token}"}
    unfit = (  # JSON the fake cannot hold: nested past Python's stack, NaN, a lone surrogate
        b'{"source": {"kind": "whip"}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"source": {"kind": "whip", "fps": NaN}}',
        b'{"source": {"kind": "rtsp", "uri": "rtsp://cam.example.com/\\ud800"}}',
    )
    with httpx.Client() as raw:  # the fake intercepts its gateway's host
        for body in (b"nope", b'{"source": {"kind": "rtmp"}}', b'{"source": {"kind": "rtsp"}}'):
            refused = raw.post(sessions, content=body, headers=bearer)
            assert (refused.status_code, refused.json()["error"]) == (400, "invalid_source")
        assert refused.json()["detail"] == (
            "The stream's source is not valid: a rtsp source needs its camera's uri."
        )
        put = raw.put(sessions, json={"source": {"kind": "whip"}}, headers=bearer)
        assert (put.status_code, put.json()) == (
            405,
            {"error": "method_not_allowed", "detail": "POST to the sessions to open a stream."},
        )
        for body in unfit:
            refused = raw.post(sessions, content=body, headers=bearer)
            assert (refused.status_code, refused.json()["detail"]) == (
                400,
                "The stream's source is not valid: send JSON.",
            )
        overlay = raw.post(
            sessions, json={"source": {"kind": "whip"}, "overlay": "yes"}, headers=bearer
        )
        assert (overlay.status_code, overlay.json()) == (
            400,
            {"error": "invalid_request_body", "detail": "overlay must be true or false."},
        )
        opened = raw.post(sessions, json={"source": {"kind": "whip"}}, headers=bearer).json()
        # An open that does not say is drawn on; it idles out as the catalog says.
        assert (opened["overlay"], opened["idle_timeout_s"]) == (True, STREAM_IDLE_SECONDS)
        session = sessions + "/" + opened["session"]
        assert raw.post(session + "/whip", headers=bearer).json() == {  # no WebRTC
            "error": "not_found",
            "detail": "pictograph-testing does not simulate WebRTC (a stream's video in and "
            "out): read the stream's results (DeploymentStream.frames) instead.",
        }
        assert raw.get(session + "/stats", headers=bearer).json() == {
            "error": "not_found",
            "detail": "The gateway has no such route.",
        }
        upgrade = raw.get(session + "/results", headers=bearer)
        assert (upgrade.status_code, upgrade.json()) == (
            426,
            {
                "error": "upgrade_required",
                "detail": "A stream's results come on a WebSocket (subprotocol "
                "pictograph.results.v1).",
            },
        )
        assert raw.put(session, headers=bearer).json() == {
            "error": "method_not_allowed",
            "detail": "GET or DELETE this path.",
        }
        assert raw.put(session + "/overlay", json={"on": True}, headers=bearer).status_code == 405
        assert raw.post(session + "/results", headers=bearer).status_code == 405
        assert raw.get(sessions + "/0123456789abcdef", headers=bearer).json()["error"] == (
            "session_not_found"
        )
        assert raw.post(session + "/overlay", json={"on": 1}, headers=bearer).status_code == 400
        deep = b'{"on": true, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert raw.post(session + "/overlay", content=deep, headers=bearer).json() == {
            "error": "invalid_request_body",
            "detail": 'Send {"on": true | false}.',
        }
        assert raw.post(session + "/overlay", json={"on": False}, headers=bearer).json() == {
            "session": opened["session"],
            "overlay": False,
        }
        assert raw.delete(session, headers=bearer).json() == {
            "session": opened["session"],
            "stopped": True,
        }
    assert fake.server_errors == []


def test_add_camera_says_what_to_fix(fake: FakePictograph) -> None:
    for source, says in [
        # Every scheme a camera may have is named, WHEP's https:// too.
        ("http://cam.example.com/x", r"rtsp://, rtsps:// or https:// \(WHEP\) URL"),
        ("ftp://cam.example.com/x", r"rtsp://, rtsps:// or https:// \(WHEP\) URL"),
        ("https:///x", "https:// URL"),
        ("rtsp://192.168.1.20/x", "not public"),
        ("rtsp:///x", "rtsp:// or rtsps:// URL"),
    ]:
        with pytest.raises(ValueError, match=says):
            fake.add_camera(source)
    with pytest.raises(ValueError, match="fps"):
        fake.add_camera(CAMERA, fps=0)
    with pytest.raises(ValueError, match="frames"):
        fake.add_camera(CAMERA, frames=0)
    with pytest.raises(ValueError, match="width"):
        fake.add_camera(CAMERA, width=0)
    camera = fake.add_camera("RTSP://Cam.Example.com:554/lot", fps=25)
    assert camera.fps == 25.0
    assert fake.world.streams.cameras  # filed under its URL, scheme and host in lower case


def test_a_snapshot_is_refused_once_a_camera_is_added(fake: FakePictograph) -> None:
    from pictograph_testing import scenarios

    scenarios.snapshot(fake.world)  # nothing of streams yet
    fake.add_camera(CAMERA)
    with pytest.raises(ValueError, match="cameras or streams"):
        scenarios.snapshot(fake.world)


def _frames_of(seed: int) -> list[bytes]:
    with FakePictograph(seed=seed) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        fake.add_camera(CAMERA, fps=5, frames=10)
        with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
            return [repr(sorted(m.items())).encode() for m in stream.messages()]


def test_the_same_seed_streams_the_same_frames() -> None:
    first = _frames_of(5)
    assert first == _frames_of(5)
    assert first != _frames_of(6)


def test_the_sdks_cli_prints_each_frame_as_a_json_line(
    fake: FakePictograph,
    client: pictograph.Client,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pictograph.cli._app import app
    from typer.testing import CliRunner

    monkeypatch.setattr("pictograph.cli._config.CONFIG_DIR", tmp_path / ".pictograph")
    monkeypatch.setattr("pictograph.cli._config.CONFIG_PATH", tmp_path / ".pictograph" / "c.toml")
    fake.add_camera(CAMERA, fps=5)
    deployment, token = _deployed(client, min_containers=1)
    args = ["deployments", "stream", deployment.id, CAMERA, "--token", token, "--frames", "4"]
    env = {"PICTOGRAPH_API_KEY": fake.api_key, "PICTOGRAPH_BASE_URL": fake.base_url}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["frame"] for line in lines] == [0, 1, 2, 3]
    # The command stopped the stream when it ended.
    assert _gateway_calls(fake)[-1][::2] == ("DELETE", 200)


_OPEN_REFUSALS = ("invalid_source", "unsafe_source", "session_failed", "invalid_request_body")
_SOURCES = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["whip", "rtsp", "whep", "rtmp", ""]),
            "uri": st.one_of(
                st.text(max_size=40),
                st.builds(
                    "{}://{}/{}".format,
                    st.sampled_from(["rtsp", "rtsps", "https", "http"]),
                    st.text(max_size=20),
                    st.text(max_size=8),
                ),
                st.integers(),
            ),
        }
    ),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=_SOURCES, overlay=st.one_of(st.booleans(), st.none(), st.text(max_size=3)))
def test_any_open_gets_an_answer_the_sdk_types(
    fake: FakePictograph, client: pictograph.Client, source: Any, overlay: Any
) -> None:
    if not client.deployments.list():
        _deployed(client, min_containers=1, max_containers=10)
    (deployment,) = client.deployments.list()
    assert deployment.endpoint_url is not None
    sessions = deployment.endpoint_url.removesuffix("/predict") + "/sessions"
    token = fake.world.deployments.deployments[deployment.id].auth_token
    body: dict[str, Any] = {"source": source}
    if overlay is not None:
        body["overlay"] = overlay
    with httpx.Client() as raw:
        answered = raw.post(sessions, json=body, headers={"Authorization": f"Bearer {token}"})
        assert answered.status_code in (201, 400, 502), answered.text
        if answered.status_code == 201:
            stream = sessions + "/" + answered.json()["session"]
            assert raw.delete(stream, headers={"Authorization": f"Bearer {token}"}).is_success
        else:
            assert answered.json()["error"] in (
                "invalid_source",
                "unsafe_source",
                "session_failed",
                "invalid_request_body",
            )


# ── a workflow's endpoint (1.69.142 on): each frame through every block of its graph ──


def _counter_live(client: pictograph.Client, **scaling: Any) -> tuple[Any, str]:
    """The workflow ``Counter`` (a Model, a Filter, a Track, a zone, a line and a zone),
    deployed and live, and its endpoint's token."""
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    client.workflows.create("Counter", _counter())
    token = client.workflows.deploy("Counter", **scaling).endpoint_token
    assert token is not None
    return client.workflows.wait_until_live("Counter", poll_interval=5), token


def test_a_workflow_endpoint_streams_each_frame_through_its_graph(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=40)
    live, token = _counter_live(client)
    with (
        client.workflows.connect(live, token) as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        frames = list(stream.frames())
    assert [f.index for f in frames] == list(range(40))
    assert stream.ended == "source_ended"
    assert live.endpoint is not None
    # Each frame names its lines and zones as the endpoint's live view does.
    assert {m.id for m in live.endpoint.live.measures} == {"Lot", "Gate", "Dock"}
    zone_totals = []
    for frame in frames:
        assert isinstance(frame.result, DetectionResult)
        assert frame.message["model"] == {"name": "signs", "task": "object_detection"}
        assert set(frame.measures) == {"Lot", "Gate", "Dock"}
        assert frame.measures["Gate"] == {"in": 0, "out": 0, "total": 0}  # nothing moves
        lot = frame.measures["Lot"]
        # Who is in the zone is who is tracked on the frame; in and out count the changes.
        assert lot["total"] == len(frame.result.predictions)
        assert lot["in"] - lot["out"] == lot["total"]
        assert frame.measures["Dock"] == lot
        zone_totals.append(lot["total"])
    assert frames[-1].measures["Lot"]["in"] == sum(
        max(0, now - before) for before, now in itertools.pairwise([0, *zone_totals])
    )
    # The graph's time per frame, as its run's frame records give it.
    assert frames[0].latency_ms.total == frames[0].latency_ms.inference


def _frame_25(*, read_all: bool) -> StreamFrame[Any]:
    """Frame 25 of a Counter's stream, in a new world: read after every frame before it,
    or after only five of them and a late reconnect."""
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        fake.add_camera(CAMERA, fps=10)
        live, token = _counter_live(client)
        with client.workflows.connect(live, token) as endpoint:
            stream = endpoint.open_stream(CAMERA)
            if read_all:
                return next(f for f in stream.frames() if f.index == 25)
            assert [f.index for f in itertools.islice(stream.frames(), 5)] == list(range(5))
            fake.clock.advance(seconds=2.1)  # 0.4 s read; frame 25 is at 2.5 s
            return next(stream.frames())


def test_a_workflow_streams_counts_do_not_depend_on_what_was_read() -> None:
    late, every = _frame_25(read_all=False), _frame_25(read_all=True)
    assert late.index == every.index == 25
    assert late.measures == every.measures
    assert late.measures["Lot"]["in"] >= late.measures["Lot"]["total"] > 0


def test_pausing_a_workflow_ends_its_streams_and_its_token_is_its_own(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA)
    live, token = _counter_live(client)
    with client.workflows.connect(live, token) as endpoint:
        stream = endpoint.open_stream(CAMERA)
        read = stream.frames()
        assert next(read).index == 0
        busy = client.workflows.get("Counter").endpoint
        assert busy is not None
        assert busy.runtime is not None
        assert busy.runtime.streams == 1  # one container's worth of streams
        client.workflows.pause("Counter")
        assert list(read) == []
        assert stream.ended == "container_stopped"
        with pytest.raises(ConflictError) as paused:
            endpoint.open_stream(CAMERA)
        assert paused.value.code == "deployment_not_active"
        assert "workflow endpoint is not active (status: paused)" in str(paused.value)
    with (
        client.workflows.connect(live, "pk_deploy_" + "0" * 40) as stranger,
        pytest.raises(AuthError),
    ):
        stranger.open_stream(CAMERA)


def _measured(frame: StreamFrame[Any]) -> set[str]:
    return set(frame.measures)


def test_a_save_is_live_from_the_endpoints_next_stream(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """A save that needs no other model, precision or GPU deploys nothing: the streams
    opened after it run the graph saved, those opened before it keep theirs."""
    fake.add_camera(CAMERA, fps=10, frames=20)
    live, token = _counter_live(client)
    with client.workflows.connect(live, token) as endpoint:
        before = endpoint.open_stream(CAMERA)
        read_before = before.frames()
        assert _measured(next(read_before)) == {"Lot", "Gate", "Dock"}
        graph = _counter()
        graph["nodes"][4]["config"]["geometries"] = [{"kind": "zone", "name": "Yard"}]
        client.workflows.update("Counter", graph=graph)
        saved = client.workflows.get("Counter").endpoint
        assert saved is not None
        assert (saved.status, saved.error_message) == ("active", None)
        assert [m.id for m in saved.live.measures] == ["Yard"]
        after = endpoint.open_stream(CAMERA)
        read_after = after.frames()
        # A reader connecting to the older stream now (a new socket) finds it as it was.
        read_before = before.frames()
        for _ in range(5):  # side by side, each on the graph it opened with
            assert _measured(next(read_after)) == {"Yard"}
            assert _measured(next(read_before)) == {"Lot", "Gate", "Dock"}
        before.stop()
        after.stop()
    # The live log holds each stream's frames as it ran them.
    for stream, names in ((before, {"Lot", "Gate", "Dock"}), (after, {"Yard"})):
        logged = client.workflows.live_log("Counter", source=stream.id, limit=50).records
        assert logged
        assert all(record.measures and set(record.measures) <= names for record in logged)


def test_a_save_that_needs_another_model_deploys_the_endpoint_again(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """Another precision: the endpoint deploys again, its streams end with its containers,
    and an open is refused ``endpoint_updating`` (tried again by the SDK) until it is up."""
    fake.add_camera(CAMERA, fps=10)
    live, token = _counter_live(client)
    with client.workflows.connect(live, token) as endpoint:
        running = endpoint.open_stream(CAMERA)
        reading = running.frames()
        assert next(reading).index == 0
        graph = _counter()
        graph["nodes"][1]["config"]["precision"] = "fp32"
        saved_at = fake.clock.monotonic()
        client.workflows.update("Counter", graph=graph)
        redeploying = client.workflows.get("Counter").endpoint
        assert redeploying is not None
        assert redeploying.status == "provisioning"
        assert list(reading) == []
        assert running.ended == "container_stopped"
        # Between whole seconds, the wait it names is rounded up to the next one.
        fake.clock.advance(seconds=0.5)
        assert live.endpoint is not None
        sessions = live.endpoint.endpoint_url
        assert sessions is not None
        with httpx.Client() as raw:
            wait = raw.post(
                sessions,
                json={"source": {"kind": "whip"}},
                headers={"Authorization": f"Bearer {token}"},
            )
        up_in = math.ceil(DEPLOYMENT_SERVER_START_SECONDS - 0.5)
        assert (wait.status_code, wait.headers["retry-after"]) == (409, str(up_in))
        assert wait.json() == {
            "error": "endpoint_updating",
            "detail": "The workflow's endpoint is being deployed again after a save; "
            f"retry in {up_in} s.",
        }
        with pytest.raises(ConflictError) as updating:
            endpoint.open_stream(CAMERA)
        assert updating.value.code == "endpoint_updating"
        refused = [c for c in fake.calls if c.path.endswith("/sessions")]
        assert [c.status for c in refused] == [201, 409, 409, 409, 409]  # the SDK tried twice more
        assert refused[-1].response_body.startswith(b'{"error":"endpoint_updating"')
        client.workflows.pause("Counter")  # a pause while it deploys again: not updating
        with pytest.raises(ConflictError) as paused:
            endpoint.open_stream(CAMERA)
        assert paused.value.code == "deployment_not_active"
        client.workflows.resume("Counter")
        up = client.workflows.wait_until_live("Counter", poll_interval=5)
        assert fake.clock.monotonic() - saved_at >= DEPLOYMENT_SERVER_START_SECONDS
        assert up.endpoint is not None
        assert [m.precision for m in up.endpoint.live.models] == ["fp32"]
        with endpoint.open_stream(CAMERA) as again:
            assert next(again.frames()).index == 0


def test_a_save_that_cannot_stream_leaves_the_endpoint_on_its_last_live_version(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=5)
    live, token = _counter_live(client)
    broken = _counter(model="no-such-model")
    client.workflows.update("Counter", graph=broken)
    kept = client.workflows.get("Counter").endpoint
    assert kept is not None
    assert kept.status == "active"
    assert kept.error_message is not None
    assert "no-such-model" in kept.error_message
    assert [m.name for m in kept.live.models] == ["signs"]
    with client.workflows.connect(live, token) as endpoint, endpoint.open_stream(CAMERA) as s:
        frames = list(s.frames())
    assert [f.message["model"]["name"] for f in frames] == ["signs"] * 5
    client.workflows.update("Counter", graph=_counter())
    mended = client.workflows.get("Counter").endpoint
    assert mended is not None
    assert (mended.status, mended.error_message) == ("active", None)


# ── through the offline server: the results socket is a real WebSocket ──


def _served_deployment(server: Any) -> tuple[Any, str]:
    fake = server.fake
    fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    fake.add_export(DATASET, EXPORT)
    with server.client(max_retries=0) as sdk:
        sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs", wait=False)
        fake.clock.advance(seconds=3600)
        created = sdk.deployments.create("signs", min_containers=1)
        fake.clock.advance(seconds=3600)
        deployment = sdk.deployments.get("signs")
        assert deployment.status == "active"
        return deployment, created.auth_token


def test_a_served_fake_streams_over_a_real_websocket() -> None:
    from pictograph import DeploymentClient

    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server:
        deployment, token = _served_deployment(server)
        with server.control() as control:  # as from another language: a control route
            refused = control.post("/cameras", json={"source": CAMERA, "fps": 0})
            assert (refused.status_code, refused.json()["error"]) == (
                422,
                "add_camera: fps must be above 0 and at most 240",
            )
            assert control.post("/cameras", json={"source": CAMERA, "colour": 1}).status_code == 422
            added = control.post("/cameras", json={"source": CAMERA, "fps": 20, "frames": 6})
            assert added.json()["cameras"] == [
                {"source": CAMERA, "fps": 20.0, "frames": 6, "width": 1280, "height": 720}
            ]
        with (
            DeploymentClient(deployment.endpoint_url, token, task="object_detection") as ep,
            ep.open_stream(CAMERA) as stream,
        ):
            assert stream.results_url.startswith("ws://127.0.0.1:")
            # The clock moves by hand only: the socket moves it, in real time (0.3 s).
            frames = list(stream.frames())
        assert [f.index for f in frames] == list(range(6))
        assert isinstance(frames[0].result, DetectionResult)
        assert stream.ended == "source_ended"
        # The socket itself, as any WebSocket client reaches it: it closes with the
        # gateway's refusal as 4xxx (the SDK types it), or 4404 for no such stream.
        from websockets.exceptions import ConnectionClosed, InvalidStatus
        from websockets.sync.client import connect

        closes = []
        unknown = stream.results_url.replace(stream.id, "0123456789abcdef")
        session = stream.results_url.removesuffix("/results")
        endpoint = session.split("/sessions/")[0]
        for url, bearer in [
            (stream.results_url, "pk_deploy_nope"),
            (unknown, token),
            (stream.results_url, token),  # it ended
            # What is no stream's results socket: no such route.
            (f"{session}/overlay", token),
            (f"{stream.results_url}/more", token),
            (endpoint, token),
            (f"{endpoint}/predict", "pk_deploy_nope"),
        ]:
            with connect(
                url,
                additional_headers={"Authorization": f"Bearer {bearer}"},
                subprotocols=["pictograph.results.v1"],  # type: ignore[list-item]
            ) as socket:
                assert socket.subprotocol == "pictograph.results.v1"
                with pytest.raises(ConnectionClosed) as closed:
                    socket.recv()
                assert closed.value.rcvd is not None
                closes.append((closed.value.rcvd.code, closed.value.rcvd.reason))
        assert closes == [
            (4401, "unauthorized"),
            (4404, "session_not_found"),
            (4410, "session_ended"),
            *[(4404, "not_found")] * 4,
        ]
        handshakes = [c.status for c in server.fake.calls if c.path.endswith("/results")]
        assert handshakes == [101, 401, 101, 101]
        # The control plane has no sockets: refused, and never in the API's journal.
        answered = len(server.fake.calls)
        control_url = server.base_url.replace("http://", "ws://") + "/_fake/reset"
        with pytest.raises(InvalidStatus):
            connect(control_url, additional_headers=server.control_headers)
        assert len(server.fake.calls) == answered


def test_a_results_socket_checks_the_host_and_takes_no_subprotocol_unasked() -> None:
    import socket

    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server:
        path = "/_gateway/nowhere/results"
        host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
        # A page that rebinds its own name to the server is refused at the handshake, as
        # its HTTP requests are (and journaled as they are, a 421).
        with (
            socket.create_connection((host, int(port))) as rebound,
            pytest.raises(InvalidStatus) as refused,
        ):
            connect(f"ws://evil.example.com:{port}{path}", sock=rebound)
        assert refused.value.response.status_code == 403
        assert [(c.status, c.path) for c in server.fake.calls] == [(421, path)]
        # A client that asks for no subprotocol is given none (a websocket client fails
        # a handshake that picks one it did not ask for): it reads the stream's close.
        with connect(f"ws://{host}:{port}{path}") as results:
            assert results.subprotocol is None
            with pytest.raises(ConnectionClosed) as closed:
                results.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4404  # no such gateway host: the gateway's 404


def test_a_served_fake_at_speed_sends_frames_as_its_clock_reaches_them() -> None:
    from pictograph import DeploymentClient

    from pictograph_testing.server import FakeServer

    with FakeServer(seed=3) as server:
        deployment, token = _served_deployment(server)
        server.fake.add_camera(CAMERA, fps=10, frames=50)
        with DeploymentClient(deployment.endpoint_url, token) as ep:
            server.fake.clock.set_speed(10.0)  # 50 frames at 10 fps: 5 s, half a second here
            with ep.open_stream(CAMERA) as stream:
                frames = list(stream.frames())
            # Live: the frames sent before the socket connected (its time at this pace)
            # are missed; the rest came as the clock reached them, to the camera's end.
            assert frames
            first = frames[0].index
            assert first is not None
            assert [f.index for f in frames] == list(range(first, 50))
            # The instant it opened on the server's clock, not when its answer was read
            # here (the clock runs meanwhile): the close came at its camera's end.
            [view] = server.fake.streams
            assert (view.ended, view.ended_at) == ("source_ended", view.opened_at + 5.0)
            assert server.fake.clock.monotonic() >= view.opened_at + 5.0


def test_a_workflow_endpoints_log_counts_its_streams_each_minute(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=1)
    live, token = _counter_live(client, min_containers=1)
    with client.workflows.connect(live, token) as endpoint:
        fake.clock.advance(seconds=40)  # 20 s before the first minute's mark
        with endpoint.open_stream(CAMERA), endpoint.open_stream(CAMERA) as read:
            # Two streams: the unread one goes idle 30 s in (after the first mark), the
            # read one runs 100 s (past the second).
            assert len(list(itertools.islice(read.frames(), 100))) == 100
        fake.clock.advance(seconds=200)
    stats = list(client.workflows.iter_live_log("Counter", stream="stats", order="asc", full=True))
    assert [r.message["streams"] for r in stats if r.message is not None] == [2, 1, 0, 0, 0]


_SEGMENTS = st.one_of(
    st.sampled_from(["", "results", "overlay", "whep", "whip", "x", "%2F", "..", "sessions"]),
    st.text(alphabet="abcdef0123456789-_%.", max_size=20),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    segments=st.lists(_SEGMENTS, max_size=3),
    body=st.one_of(st.binary(max_size=40), st.builds(lambda o: json.dumps(o).encode(), _SOURCES)),
    known=st.booleans(),
)
def test_no_stream_call_is_a_server_error(
    fake: FakePictograph,
    client: pictograph.Client,
    method: str,
    segments: list[str],
    body: bytes,
    known: bool,
) -> None:
    if not client.deployments.list():
        _deployed(client, min_containers=1, max_containers=10)
        fake.add_camera(CAMERA)
    (deployment,) = client.deployments.list()
    assert deployment.endpoint_url is not None
    sessions = deployment.endpoint_url.removesuffix("/predict") + "/sessions"
    bearer = {
        "Authorization": f"Bearer {fake.world.deployments.deployments[deployment.id].auth_token}"
    }
    with httpx.Client() as raw:
        if known:  # a stream of the deployment's, then a path below it
            opened = raw.post(sessions, json={"source": {"kind": "whip"}}, headers=bearer)
            segments = [opened.json()["session"], *segments]
        target = "/".join([sessions, *segments])
        answered = raw.request(method, target, content=body, headers=bearer)
        assert answered.status_code < 500, answered.text
        if method != "HEAD":
            assert isinstance(answered.json()["error" if answered.is_error else "session"], str)
        fake.clock.advance(seconds=31)  # every stream opened here goes idle


def test_a_workflow_endpoints_live_log_holds_what_its_streams_ran(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=30)
    live, token = _counter_live(client)
    with client.workflows.connect(live, token) as endpoint:
        with endpoint.open_stream(CAMERA) as stream:
            frames = list(stream.frames())
        unread = endpoint.open_stream(CAMERA)  # logged as it runs, read or not
        fake.clock.advance(seconds=1)
        unread.stop()
    logged = list(client.workflows.iter_live_log("Counter", stream="frames", order="asc"))
    assert [(r.source, r.frame) for r in logged] == [
        *((stream.id, n) for n in range(30)),
        *((unread.id, n) for n in range(10)),  # frames 0-9: stopped as frame 10 was due
    ]
    for record, frame in zip(logged, frames, strict=False):
        assert record.annotation_count == len(frame.result.predictions)
        assert record.measures["Lot"] == frame.measures["Lot"]["total"]
        assert record.model_name == "signs"
    # Its zones' events: each rise and fall of who is in them, named as the app names them.
    page = client.workflows.live_log("Counter", stream="events", order="asc", limit=200)
    mine = [r for r in page.records if r.source == stream.id]
    entered = sum(
        next(iter(r.rule_values.values()))
        for r in mine
        if r.rule_values is not None and r.trigger is not None and r.trigger.startswith("entry-")
    )
    assert entered == frames[-1].measures["Lot"]["in"] + frames[-1].measures["Dock"]["in"]
    assert {page.event_names[r.trigger].name for r in mine if r.trigger is not None} <= {
        "Entry · Lot",
        "Exit · Lot",
        "Entry · Dock",
        "Exit · Dock",
    }
    summary = client.workflows.live_log_summary("Counter").streams
    assert summary["frames"].count == 40
    assert summary["events"].count == len(page.records)


def test_a_stream_that_wakes_a_deployment_keeps_the_uptime_of_the_request_before(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=1, frames=10)
    deployment, token = _deployed(client, min_containers=0, scaledown_window=60)
    with client.deployments.connect(deployment, token) as endpoint:
        endpoint.infer(_png())  # up for the 60 s window
        fake.clock.advance(seconds=100)  # asleep for 40 s
        with endpoint.open_stream(CAMERA) as stream:
            assert len(list(stream.frames())) == 10
    fake.clock.advance(seconds=DEPLOYMENT_METER_SECONDS)
    # The request's minute, then the stream's 9 s and a window after its last read.
    assert client.deployments.get(deployment.id).uptime_seconds == 60 + 9 + 60


def test_a_stream_keeping_a_deployment_up_stops_where_the_credit_runs_out(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    price = DEPLOYMENT_GPUS["t4"].micro_usd_per_minute
    fake.add_camera(CAMERA, fps=1)
    deployment, token = _deployed(client, min_containers=0, scaledown_window=60)
    _leave(fake, 3 * price + price // 2)
    with (
        client.deployments.connect(deployment, token) as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        frames = list(stream.frames())
    assert stream.ended == "container_stopped"
    paused = client.deployments.get(deployment.id)
    assert paused.status == "paused"
    # Three container-minutes paid for, from the open: the stream's 180 frames.
    assert paused.uptime_seconds == 180
    assert len(frames) == 180
    assert paused.accrued_cost_micro_usd == 3 * price


# ── rules a mutation run of world/streams.py found no test holding ──


def test_a_camera_at_its_bounds_and_written_with_spaces_is_taken(fake: FakePictograph) -> None:
    camera = fake.add_camera(
        "  rtsps://Cam.Example.com/lot  ", fps=MAX_CAMERA_FPS, width=16_384, height=16_384
    )
    assert camera.source == "rtsps://Cam.Example.com/lot"
    assert (camera.fps, type(camera.fps)) == (240.0, float)
    assert (camera.width, camera.height) == (16_384, 16_384)
    assert camera.kind == "rtsp"  # rtsps is RTSP over TLS: an rtsp stream


def test_add_camera_refuses_what_is_not_public_or_not_a_whole_number(fake: FakePictograph) -> None:
    # A single-label name, and an address neither private nor global (shared address
    # space), are no public camera either.
    for source in ("rtsp://camera1/lot", "rtsp://100.64.0.1/lot", "rtsp://localhost/lot"):
        with pytest.raises(ValueError, match="not public"):
            fake.add_camera(source)
    for option in ("frames", "width", "height"):
        with pytest.raises(ValueError, match=option):
            fake.add_camera(CAMERA, **{option: True})


def test_a_camera_is_found_whatever_the_case_of_its_scheme_and_host_but_not_its_password(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera("RTSP://Cam.Example.com:554/Lot", fps=10)
    fake.add_camera("rtsp://viewer:a@B@cam.example.com/private", fps=10)
    with _endpoint(client) as endpoint:
        with endpoint.open_stream("rtsp://cam.example.com:554/Lot") as stream:
            assert stream.kind == "rtsp"
        with endpoint.open_stream("rtsp://viewer:a@B@CAM.example.com/private") as stream:
            assert stream.kind == "rtsp"
        with pytest.raises(ApiError) as wrong:
            endpoint.open_stream("rtsp://viewer:a@b@cam.example.com/private")
        assert wrong.value.status_code == 502


def test_a_stream_ends_for_the_first_reason_of_its_instant(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A camera whose last frame goes at the idle limit ended its source; the deployment's
    # pause at the instant a camera's last frame went leaves that stream as it ended.
    fake.add_camera(CAMERA, fps=1, frames=STREAM_IDLE_SECONDS)
    fake.add_camera("rtsp://cam.example.com/short", fps=10, frames=10)
    fake.add_camera(CAMERA.replace("lot", "gate"), fps=10)
    with _endpoint(client) as endpoint:
        quiet = endpoint.open_stream(CAMERA)
        fake.clock.advance(seconds=STREAM_IDLE_SECONDS)
        view = {s.id: s for s in fake.streams}[quiet.id]
        assert (view.ended, view.ended_at) == ("source_ended", view.opened_at + STREAM_IDLE_SECONDS)
        last = endpoint.open_stream("rtsp://cam.example.com/short")
        live = endpoint.open_stream(CAMERA.replace("lot", "gate"))
        fake.clock.advance(seconds=1)
        (deployment,) = client.deployments.list()
        client.deployments.pause(deployment.id)
    views = {s.id: s for s in fake.streams}
    assert views[last.id].ended == "source_ended"
    # A container's stop comes before the frame due at its instant (frames 0-9 went).
    assert (views[live.id].ended, views[live.id].frames_sent) == ("container_stopped", 10)


def test_a_stream_sends_its_first_frame_as_it_opens(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=4)
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        assert fake.streams[0].frames_sent == 1  # frame 0 is due at the opening instant
        assert stream.state().engine["frame_messages"] == 1
        fake.clock.advance(seconds=1.25)
        assert stream.state().engine["uptime_s"] == 1.25
        assert len(stream.id) == 16  # hex digits


def test_a_whip_stream_has_no_video_connected_and_a_late_reader_gets_the_next_second(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with _endpoint(client) as endpoint, endpoint.open_stream("whip") as stream:
        assert stream.state().engine["whip"] == {"connected": False}
        fake.clock.advance(seconds=1.5)
        first = next(stream.messages())
    assert (first["type"], first["uptime_s"]) == ("stats", 2)
