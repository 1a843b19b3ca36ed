"""A deployment's live stream on every release that has streams (1.69.140 on): a camera
opened through ``DeploymentClient.open_stream``, its frames read as the release types them,
its state, its overlay and its stop."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from pictograph_testing._sdk.layout import optional_module, sdk_version
from tests.matrix.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

CAMERA = "rtsp://cam.example.com/gate"


def _streams() -> None:
    if optional_module("pictograph.resources._deployment_stream") is None:
        pytest.skip(f"pictograph {sdk_version()} has no streams (1.69.140 on)")


def _deployed(sdk: pictograph.Client) -> tuple[pictograph.Deployment, str]:
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    created = sdk.deployments.create("signs", gpu_type="t4", min_containers=1)
    return sdk.deployments.wait_until_active(created.deployment, poll_interval=5), (
        created.auth_token
    )


def test_a_camera_is_streamed_read_switched_and_stopped(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _streams()
    from pictograph import DetectionResult

    world.add_camera(CAMERA, fps=10, frames=12)
    deployment, token = _deployed(sdk)
    with (
        sdk.deployments.connect(deployment, token, task="object_detection") as endpoint,
        endpoint.open_stream(CAMERA) as stream,
    ):
        assert (stream.kind, stream.stream_limit) == ("rtsp", 4)
        first = list(itertools.islice(stream.frames(), 2))
        assert [f.index for f in first] == [0, 1]
        assert all(isinstance(f.result, DetectionResult) for f in first)
        assert stream.state().engine["status"] == "running"
        assert stream.set_overlay(False) is False
        rest = list(stream.frames())  # a new read: live, from the frame of its instant
        assert rest[-1].index == 11
        assert stream.ended == "source_ended"
