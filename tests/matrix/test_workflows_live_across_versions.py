"""A workflow served live on every release that has ``workflows.deploy`` (1.69.142 on),
sync and async. 1.69.142's ``create`` took the endpoint's region and scaling and deployed
what it made; from 1.69.143 only ``deploy`` does."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest

from pictograph_testing._sdk.layout import sdk_version
from tests.matrix.conftest import DATASET, EXPORT, WORKFLOW_GRAPH

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph


def _live_workflows(client: Any) -> Any:
    workflows = getattr(client, "workflows", None)
    if workflows is None or not hasattr(workflows, "deploy"):
        pytest.skip(f"pictograph {sdk_version()} cannot serve a workflow live")
    return workflows


def test_a_workflow_is_deployed_paused_and_resumed(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    workflows = _live_workflows(sdk)
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    if "region" in inspect.signature(workflows.create).parameters:
        # 1.69.142: the create sends the endpoint's scaling and deploys it.
        made = workflows.create("Lot", WORKFLOW_GRAPH, region="us-west", min_containers=1)
    else:
        workflows.create("Lot", WORKFLOW_GRAPH)
        made = workflows.deploy("Lot", region="us-west", min_containers=1)
    assert made.endpoint_token.startswith("pk_deploy_")
    assert (made.endpoint.status, made.endpoint.region) == ("provisioning", "us-west")
    live = workflows.wait_until_live("Lot", poll_interval=5)
    assert live.endpoint.status == "active"
    world.clock.advance(120)
    paused = workflows.pause("Lot")
    assert paused.endpoint.status == "paused"
    assert paused.endpoint.accrued_cost_micro_usd > 0
    assert workflows.live_log_summary("Lot").streams["stats"].count == 2
    assert workflows.resume("Lot").endpoint.status == "provisioning"


async def test_async_a_workflow_is_deployed_and_scaled(
    world: FakePictograph, sdk: pictograph.Client, async_sdk: pictograph.AsyncClient
) -> None:
    workflows = _live_workflows(async_sdk)
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    sdk.workflows.create("Lot", WORKFLOW_GRAPH)
    made = await workflows.deploy("Lot")
    assert made.endpoint is not None
    await workflows.wait_until_live("Lot", poll_interval=5)
    scaled = await workflows.update_endpoint("Lot", max_containers=2)
    assert scaled.endpoint.stream_limit == 8
