"""Vision tools through the real SDK: SAM3 always first, then the ready models, the
active deployments and the workflows, each with a card written from what the world stores
and priced from the catalogue."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ConflictError, NotFoundError

from pictograph_testing.api.tools import INPUT_KINDS
from pictograph_testing.catalog import (
    AUTO_ANNOTATE,
    DEPLOYMENT_GPUS,
    HOSTED_INFERENCE,
    SAM3_IMAGE_MICRO_USD,
    WORKFLOW_GPUS,
    WORKFLOW_SOURCE_LIMITS,
)
from pictograph_testing.world.auto_annotate import SIMILAR_MAX_IMAGES
from pictograph_testing.world.workflow_nodes import chain_graph
from pictograph_testing.world.workflow_runs import ENGINE_START_SECONDS, QUEUE_SECONDS
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph


def _train(client: pictograph.Client, name: str) -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)
    assert run.model_id is not None
    return run.model_id


API_IMAGE_LIMITS = {"images_per_call": 1, "max_bytes": 26_214_400, "max_pixels": 50_000_000}
"""What the API's cards state for a mode that takes one image (SAM3's, a model's hosted)."""


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
    # The API's limits, as its own SAM3 card states them (SDK 1.69.146's tool_cards.json).
    assert {k: image.limits[k] for k in ("images_per_call", "max_bytes", "max_pixels")} == (
        API_IMAGE_LIMITS
    )
    assert image.limits["note"].startswith("One image up to 25 MB and 50 megapixels")
    assert [card.mode(m).limits for m in ("text", "box", "point")] == [  # type: ignore[union-attr]
        {"images_per_call": 1}
    ] * 3
    assert "Limits: One image up to 25 MB" in card.to_markdown()
    assert [m.mode for m in card.modes] == ["image", "text", "box", "point", "dataset", "similar"]
    for mode in card.modes:
        assert [i.kind for i in mode.inputs] == list(INPUT_KINDS)
        assert mode.run.cli
        assert mode.run.python
    assert "client.sam3.predict" in card.to_markdown()


def test_sam3s_drafting_modes_say_what_a_job_takes_and_costs(client: pictograph.Client) -> None:
    card = client.tools.describe("sam3")
    drafting = {m: card.mode(m) for m in ("dataset", "similar")}
    for mode in drafting.values():
        assert mode is not None
        assert mode.accepts("dataset")
        assert not mode.accepts("file")
        assert mode.writes == "Annotations on the dataset's images."
        assert (mode.cost.per, mode.cost.estimate) == ("image", True)
    dataset, similar = drafting["dataset"], drafting["similar"]
    assert dataset is not None
    assert similar is not None
    # One job of at most so many images: the fake refuses (or leaves for later) beyond.
    assert (dataset.limits, similar.limits) == (
        {"images_per_call": AUTO_ANNOTATE.max_images},
        {"images_per_call": SIMILAR_MAX_IMAGES},
    )
    # Its price per image for one class is what a quote of that many images says.
    quote = client.auto_annotate.quote(projected=[{"count": 10}], classes=[{"name": "stop"}])
    assert quote.estimated_credits == 10 * (dataset.cost.micro_usd or 0)


def test_a_ready_model_and_its_active_deployment_are_tools(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    model_id = _train(client, "Sign Finder")
    created = client.deployments.create("Sign Finder", name="signs-endpoint", gpu_type="t4")
    assert [t.tool for t in client.tools.list()] == ["sam3", "model/Sign Finder"]
    client.deployments.wait_until_active(created.deployment)
    tools = client.tools.list()
    assert [t.tool for t in tools] == ["sam3", "model/Sign Finder", "deployment/signs-endpoint"]
    assert tools[1].summary == ("An object detection model (yolox) that predicts stop_sign, yield.")
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
    hosted, deploy, local = card.mode("hosted"), card.mode("deploy"), card.mode("local")
    assert hosted is not None
    assert hosted.cost.free
    assert {k: hosted.limits[k] for k in API_IMAGE_LIMITS} == API_IMAGE_LIMITS
    assert local is not None
    assert local.limits == {"note": "None from the platform: speed is this machine's."}
    # Drafts over a dataset: a batch job with the model, priced per image as quoted.
    drafted = card.mode("dataset")
    assert drafted is not None
    assert drafted.limits == {"images_per_call": AUTO_ANNOTATE.max_images}
    assert (drafted.writes, drafted.cost.estimate) == ("Annotations on the dataset's images.", True)
    quote = client.auto_annotate.quote(projected=[{"count": 4}], model="Sign Finder")
    assert quote.estimated_credits == 4 * (drafted.cost.micro_usd or 0)
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
    assert mode.limits["images_per_call"] == 1
    assert [r.tool for r in endpoint.related] == ["model/Sign Finder"]


def test_refusals_name_the_tool(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError, match="Model 'nope' not found"):
        client.tools.describe("model/nope")
    with pytest.raises(NotFoundError, match="Workflow 'Door counter' not found"):
        client.tools.describe("workflow/Door counter")
    client.workflows.create("Old counter", _counting_graph("m0"), description="Retired.")
    client.workflows.update("Old counter", status="archived")
    with pytest.raises(ConflictError, match="'Old counter' is archived"):
        client.tools.describe("workflow/Old counter")
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
    client.workflows.create("Our counter", _counting_graph("ours"))
    other = fake.add_organization()
    with other.client() as them:
        assert [t.tool for t in them.tools.list()] == ["sam3"]
        with pytest.raises(NotFoundError):
            them.tools.describe("model/ours")
        with pytest.raises(NotFoundError, match="Workflow 'Our counter' not found"):
            them.tools.describe("workflow/Our counter")


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
    assert [m.mode for m in card.modes] == ["hosted", "local", "dataset", "deploy"]
    sam3 = await aclient.tools.describe("sam3")
    assert sam3.mode("text") is not None
    assert sam3.mode("similar").limits == {"images_per_call": SIMILAR_MAX_IMAGES}  # type: ignore[union-attr]
    assert sam3.mode("image").limits["max_pixels"] == API_IMAGE_LIMITS["max_pixels"]  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        await aclient.tools.describe("model/nope")


# ── workflows ──

API_WORKFLOW_CARD = json.loads((Path(__file__).parent / "sdk_cards" / "workflow.json").read_text())
"""The API's own workflow card, ``cards["workflow/Door counter"]`` of the SDK's
``tests/fixtures/tool_cards.json`` (1.69.146), copied as it is."""


def _counting_graph(model: str) -> dict[str, Any]:
    """Source (a dataset) -> Model -> Track -> Measure (a zone and a line) -> Output."""
    return chain_graph(
        ("src", "source", {"kind": "dataset", "dataset": DATASET}),
        ("det", "model", {"model": model, "confidence": 0.25}),
        ("trk", "track", {}),
        (
            "lot",
            "measure",
            {"geometries": [{"kind": "zone", "name": "Lot"}, {"kind": "line", "name": "Gate"}]},
        ),
        ("out", "output", {"format": "json"}),
    )


def _same_shape(ours: Any, api: Any, where: str = "card") -> None:
    """``ours`` has ``api``'s keys (in its order), types and nesting; a list of ours is
    held item by item to the API's first item (the two lists may differ in length)."""
    if isinstance(api, dict):
        assert isinstance(ours, dict), where
        assert list(ours) == list(api), where
        for key, value in api.items():
            _same_shape(ours[key], value, f"{where}.{key}")
    elif isinstance(api, list):
        assert isinstance(ours, list), where
        if api:
            assert ours, f"{where} is empty where the API's card has items"
            for index, item in enumerate(ours):
                _same_shape(item, api[min(index, len(api) - 1)], f"{where}[{index}]")
    else:
        assert type(ours) is type(api), f"{where}: {type(ours).__name__} vs {type(api).__name__}"


def test_a_workflows_card_has_the_apis_shape_field_by_field(fake: FakePictograph) -> None:
    with fake.client() as client:
        _train(client, "Shelf Detector")
        client.workflows.create(
            "Door counter", _counting_graph("Shelf Detector"), readme="Counts the lot."
        )
    headers = {"X-API-Key": fake.api_key}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as raw:
        got = raw.get("/api/v1/developer/tools/vision/workflow/Door counter", headers=headers)
    assert got.status_code == 200
    card = got.json()["data"]
    _same_shape(card, API_WORKFLOW_CARD)
    # Where the API's card states a fact of the API, not of its workflow, ours says the same.
    for ours, api in zip(card["modes"], API_WORKFLOW_CARD["modes"], strict=True):
        assert (ours["mode"], ours["inputs"], ours["limits"], ours["requires"]) == (
            api["mode"],
            api["inputs"],
            api["limits"],
            api["requires"],
        )
        assert (ours["run"]["cli"], ours["run"]["python"], ours["run"]["http"]) == (
            api["run"]["cli"],
            api["run"]["python"],
            api["run"]["http"],
        )
    assert card["notes"] == API_WORKFLOW_CARD["notes"]
    assert card["parameters"] == API_WORKFLOW_CARD["parameters"]


def test_a_workflow_is_a_tool_described_from_its_graph(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "signs")
    made = client.workflows.create("Lot", _counting_graph("signs"), description="Counts the lot.")
    client.workflows.create("Pending", _counting_graph("later"))
    assert [t.tool for t in client.tools.list()] == [
        "sam3",
        "model/signs",
        "workflow/Pending",
        "workflow/Lot",
    ]
    rows = {t.tool: t for t in client.tools.list(kind="workflow")}
    assert [(t.status, t.task) for t in rows.values()] == [
        ("invalid", "workflow"),
        ("ready", "workflow"),
    ]
    assert rows["workflow/Lot"].summary == (
        "A workflow that runs signs, tracks each object across frames, counts occupancy in "
        "zones and counts line crossings. Outputs: json."
    )

    card = client.tools.describe("workflow/Lot")
    assert (card.id, card.status, card.about) == (made.id, "ready", "Counts the lot.")
    assert card.facts == {
        "source_kind": "dataset",
        "models": [{"kind": "trained", "name": "signs", "classes": ["stop_sign", "yield"]}],
        "tracker": "per_class",
        "measures": [
            {"name": "Lot", "kind": "zone", "measure": "occupancy"},
            {"name": "Gate", "kind": "line", "measure": "line_cross"},
        ],
        "outputs": ["json"],
        "node_count": 5,
        "validation_errors": [],
    }
    assert [(r.tool, r.relation) for r in card.related] == [
        ("model/signs", "A model this workflow runs.")
    ]
    assert [m.mode for m in card.modes] == ["file", "url", "dataset"]
    url, dataset = card.mode("url"), card.mode("dataset")
    assert url is not None
    assert dataset is not None
    assert url.accepts("video")
    assert not url.accepts("file")
    assert dataset.accepts("dataset")
    assert not dataset.accepts("video")
    assert url.limits["max_video_bytes"] == WORKFLOW_SOURCE_LIMITS.max_video_bytes
    assert dataset.limits["images_per_call"] == WORKFLOW_SOURCE_LIMITS.images_per_run
    assert client.tools.describe(f"workflow/{made.id}").tool == "workflow/Lot"
    assert "- tracker: per_class" in card.to_markdown()

    # A graph a run would refuse is listed as invalid, its card saying what to fix.
    pending = client.tools.describe("workflow/Pending")
    assert pending.status == "invalid"
    assert [e["code"] for e in pending.facts["validation_errors"]] == ["model_not_found"]
    assert pending.related == []


@pytest.mark.usefixtures("no_real_waiting")
def test_a_workflows_price_per_frame_is_what_its_runs_take(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "signs")
    client.workflows.create("Lot", _counting_graph("signs"))
    for gpu in WORKFLOW_GPUS.values():
        client.workflows.update("Lot", compute={"gpu": gpu.gpu})
        mode = client.tools.describe("workflow/Lot").mode("dataset")
        assert mode is not None
        assert (mode.cost.per, mode.cost.estimate) == ("frame", True)
        started = client.workflows.run("Lot")
        done = client.workflows.wait_for_run(started.run_id, poll_interval=1)
        [summary] = [r for r in client.workflows.list_runs("Lot") if r.id == started.run_id]
        assert summary.runtime_seconds is not None
        processing = summary.runtime_seconds - QUEUE_SECONDS - ENGINE_START_SECONDS
        assert done.frames_total is not None
        per_frame = round(processing / done.frames_total, 6)
        assert mode.cost.micro_usd == math.ceil(per_frame * gpu.micro_usd_per_minute / 60)
        assert mode.cost.summary.endswith("a failed or cancelled run is free.")


async def test_the_async_client_describes_a_workflow(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    made = await aclient.workflows.create("Gate", _counting_graph("m1"))
    assert [t.tool for t in await aclient.tools.list(kind="workflow")] == ["workflow/Gate"]
    card = await aclient.tools.describe("workflow/Gate")
    assert (card.id, card.status, card.facts["node_count"]) == (made.id, "ready", 5)
    assert [r.tool for r in card.related] == ["model/m1"]
    await aclient.workflows.update("Gate", status="archived")
    assert await aclient.tools.list(kind="workflow") == []
    with pytest.raises(ConflictError):
        await aclient.tools.describe("workflow/Gate")
