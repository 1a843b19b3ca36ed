"""Vision tools through the real SDK: SAM3 always first, then the ready models and the
active deployments, each with a card written from what the world stores and priced from
the catalogue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import ConflictError, NotFoundError

from pictograph_testing.api.tools import INPUT_KINDS
from pictograph_testing.catalog import DEPLOYMENT_GPUS, HOSTED_INFERENCE, SAM3_IMAGE_MICRO_USD
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph


def _train(client: pictograph.Client, name: str) -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)
    assert run.model_id is not None
    return run.model_id


def test_sam3_is_the_only_tool_of_a_new_organization(client: pictograph.Client) -> None:
    tools = client.tools.list()
    assert [(t.tool, t.kind, t.id, t.status) for t in tools] == [("sam3", "sam3", None, "ready")]
    card = client.tools.describe("sam3")
    assert card.tool == "sam3"
    image = card.mode("image")
    assert image is not None
    assert image.accepts("url")
    assert not image.accepts("dataset")
    assert (image.cost.micro_usd, image.cost.per) == (SAM3_IMAGE_MICRO_USD, "image")
    for mode in card.modes:
        assert [i.kind for i in mode.inputs] == list(INPUT_KINDS)
        assert mode.run.cli
        assert mode.run.python
    assert "client.sam3.predict" in card.to_markdown()


def test_a_ready_model_and_its_active_deployment_are_tools(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    model_id = _train(client, "Sign Finder")
    created = client.deployments.create("Sign Finder", name="signs-endpoint", gpu_type="t4")
    assert [t.tool for t in client.tools.list()] == ["sam3", "model/Sign Finder"]
    client.deployments.wait_until_active(created.deployment)
    tools = client.tools.list()
    assert [t.tool for t in tools] == ["sam3", "model/Sign Finder", "deployment/signs-endpoint"]
    assert [t.tool for t in client.tools.list(kind="deployment")] == ["deployment/signs-endpoint"]
    assert client.tools.list(kind="workflow") == []

    card = client.tools.describe("model/Sign Finder")
    assert (card.id, card.task, card.status) == (model_id, "object_detection", "ready")
    assert [(c.name, c.type) for c in card.classes] == [("stop_sign", "bbox"), ("yield", "bbox")]
    confidence = card.parameters[0]
    assert (confidence.minimum, confidence.maximum) == (
        HOSTED_INFERENCE.min_confidence,
        HOSTED_INFERENCE.max_confidence,
    )
    hosted, deploy = card.mode("hosted"), card.mode("deploy")
    assert hosted is not None
    assert hosted.cost.free
    assert deploy is not None
    assert {o["compute"]: o["micro_usd_per_minute"] for o in deploy.cost.options} == {
        g.name: g.micro_usd_per_minute for g in DEPLOYMENT_GPUS.values()
    }
    assert [r.tool for r in card.related] == ["deployment/signs-endpoint"]
    # A UUID works in place of a name.
    assert client.tools.describe(f"model/{model_id}").tool == "model/Sign Finder"

    endpoint = client.tools.describe("deployment/signs-endpoint")
    assert (endpoint.kind, endpoint.facts["compute"]) == ("deployment", "t4")
    mode = endpoint.mode("endpoint")
    assert mode is not None
    assert mode.cost.micro_usd == DEPLOYMENT_GPUS["t4"].micro_usd_per_minute
    assert [r.tool for r in endpoint.related] == ["model/Sign Finder"]


def test_refusals_name_the_tool(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError, match="Model 'nope' not found"):
        client.tools.describe("model/nope")
    with pytest.raises(NotFoundError, match="Workflow 'Door counter' not found"):
        client.tools.describe("workflow/Door counter")
    with pytest.raises(NotFoundError, match="Deployment 'gone' not found"):
        client.tools.describe("deployment/gone")
    _train(client, "m1")
    created = client.deployments.create("m1", name="paused-endpoint")
    client.deployments.wait_until_active(created.deployment)
    client.deployments.pause(created.deployment.id)
    with pytest.raises(ConflictError, match="not active \\(status: paused\\)"):
        client.tools.describe("deployment/paused-endpoint")
    assert [t.tool for t in client.tools.list()] == ["sam3", "model/m1"]


def test_another_organizations_model_is_not_a_tool(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "ours")
    other = fake.add_organization()
    with other.client() as them:
        assert [t.tool for t in them.tools.list()] == ["sam3"]
        with pytest.raises(NotFoundError):
            them.tools.describe("model/ours")


def test_the_listing_pages_across_kinds(fake: FakePictograph, client: pictograph.Client) -> None:
    for name in ("a", "b", "c"):
        _train(client, name)
    headers = {"X-API-Key": fake.api_key}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as raw:
        path = "/api/v1/developer/tools/vision/"
        first = raw.get(path, params={"limit": 2}, headers=headers).json()
        assert [r["tool"] for r in first["data"]] == ["sam3", "model/c"]
        assert first["pagination"]["has_more"] is True
        rest = raw.get(path, params={"limit": 2, "offset": 2}, headers=headers).json()
        assert [r["tool"] for r in rest["data"]] == ["model/b", "model/a"]
        assert rest["pagination"] == {"limit": 2, "offset": 2, "total": 4, "has_more": False}
        refused = raw.get(path, params={"kind": "dataset"}, headers=headers)
        assert refused.status_code == 422
        assert "kind" in refused.text
        unknown = raw.get(path + "dataset/x", headers=headers)
        assert unknown.status_code == 404
        assert "No tool kind 'dataset'" in unknown.text


async def test_the_async_client_lists_and_describes(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    assert [t.tool for t in await aclient.tools.list()] == ["sam3", "model/m1"]
    assert [t.tool for t in await aclient.tools.list(kind="sam3")] == ["sam3"]
    card = await aclient.tools.describe("model/m1")
    assert card.id == run.model_id
    assert (await aclient.tools.describe("sam3")).mode("text") is not None
    with pytest.raises(NotFoundError):
        await aclient.tools.describe("model/nope")
