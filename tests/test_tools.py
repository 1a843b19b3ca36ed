"""Vision tools through the real SDK: SAM3 always first, then the ready models, the
active deployments and the workflows, each with a card written from what the world stores
and priced from the catalogue."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from tests.image_files import raw

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
    with raw(fake) as http:
        path = "/api/v1/developer/tools/vision/"
        first = http.get(path, params={"limit": 2}).json()
        assert [r["tool"] for r in first["data"]] == ["sam3", "model/c"]
        assert first["pagination"]["has_more"] is True
        rest = http.get(path, params={"limit": 2, "offset": 2}).json()
        assert [r["tool"] for r in rest["data"]] == ["model/b", "model/a"]
        assert rest["pagination"] == {"limit": 2, "offset": 2, "total": 4, "has_more": False}
        refused = http.get(path, params={"kind": "dataset"})
        assert refused.status_code == 422
        assert "kind" in refused.text
        unknown = http.get(path + "dataset/x")
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
    with raw(fake) as http:
        got = http.get("/api/v1/developer/tools/vision/workflow/Door counter")
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


# ── what each card states, field by field ──

TOOLS_PATH = "/api/v1/developer/tools/vision/"


def test_a_listing_page_holds_at_most_500_tools_and_500_by_default(fake: FakePictograph) -> None:
    with raw(fake) as http:
        # The SDK asks for pages of 500: a page the API would cut shorter, or a default of
        # fewer, makes a caller without the SDK's pager miss tools.
        plain = http.get(TOOLS_PATH).json()
        assert plain["pagination"] == {"limit": 500, "offset": 0, "total": 1, "has_more": False}
        asked_more = http.get(TOOLS_PATH, params={"limit": 1000})
        assert asked_more.status_code == 200
        assert asked_more.json()["pagination"]["limit"] == 500
        # SAM3 has one card, at `sam3`: it takes no name after its kind.
        named_sam3 = http.get(TOOLS_PATH + "sam3/anything")
        assert named_sam3.status_code == 404
        assert "No tool kind 'sam3'" in named_sam3.text


def test_sam3s_card_states_its_task_price_limits_and_prompt_threshold(
    client: pictograph.Client,
) -> None:
    [row] = client.tools.list()
    assert (row.task, row.status) == ("promptable_segmentation", "ready")
    card = client.tools.describe("sam3")
    assert card.task == "promptable_segmentation"
    # Word for word the summary of the API's own SAM3 card (SDK 1.69.146's tool_cards.json).
    assert (
        card.summary
        == row.summary
        == (
            "SAM3 is the built-in segmentation model: it needs no training. Prompt it with a "
            "phrase, a box or a point and it returns the matching objects as polygons or boxes. "
            "Use it to draft labels for any class, including ones no model of yours knows yet."
        )
    )
    assert card.facts == {
        "training_required": False,
        "classes": "Any: you name them in the prompt.",
    }
    assert card.output is not None
    assert card.output.type == "polygon"
    [threshold] = card.parameters
    assert (threshold.name, threshold.default, threshold.minimum, threshold.maximum) == (
        "confidence_threshold",
        None,
        0.0,
        1.0,
    )
    assert threshold.applies_to == ["image", "text", "box", "point"]
    image = card.mode("image")
    assert image is not None
    assert image.limits["note"] == (
        "One image up to 25 MB and 50 megapixels, and one prompt per call: `text`, `box` or "
        "`point`."
    )
    # A prompt saves nothing; it is charged per image, in dollars as the price list says.
    assert SAM3_IMAGE_MICRO_USD == 10_000
    for name in ("image", "text", "box", "point"):
        mode = card.mode(name)
        assert mode is not None
        assert mode.writes is False, name
        assert mode.cost.summary.startswith("$0.01 per image, charged once"), name
    # The drafting modes say where a file or a video goes first, and their price per image.
    dataset, similar = card.mode("dataset"), card.mode("similar")
    assert dataset is not None
    assert similar is not None
    assert AUTO_ANNOTATE.sam3_micro_usd_per_pass == 2_500
    assert dataset.cost.summary.startswith("About $0.0025 per image for one class, estimated;")
    assert similar.cost.summary.startswith("About $0.0025 per image, estimated;")
    for mode in (dataset, similar):
        notes = {i.kind: (i.supported, i.note) for i in mode.inputs}
        assert notes["file"] == (False, "Upload to a dataset first.")
        assert notes["video"] == (False, "Extract frames into a dataset first.")


def test_a_models_card_states_its_facts_confidence_and_calls(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "Sign Finder")
    _train(client, "Spare")
    created = client.deployments.create("Sign Finder", name="signs-endpoint")
    client.deployments.wait_until_active(created.deployment)
    card = client.tools.describe("model/Sign Finder")
    assert card.facts == {
        "architecture": "yolox-m",
        "precision": "fp32",
        "version": 1,
        "trained_on": DATASET,
        "export": EXPORT,
        "visibility": "private",
    }
    assert card.output is not None
    assert card.output.type == "bbox"
    # The API's own model card: 0.5 by default, for the hosted and the local runs and
    # the dataset's drafts (auto_annotate.dataset's confidence_threshold).
    [confidence] = card.parameters
    assert (confidence.name, confidence.default) == ("confidence", 0.5)
    assert confidence.applies_to == ["hosted", "local", "dataset"]
    hosted, local, drafted, deploy = (
        card.mode(m) for m in ("hosted", "local", "dataset", "deploy")
    )
    assert hosted is not None
    assert local is not None
    assert drafted is not None
    assert deploy is not None
    for mode in (hosted, local):
        assert [i.kind for i in mode.inputs if i.supported] == list(INPUT_KINDS)
        assert mode.cost.free
    assert hosted.run.python == 'result = client.models.predict("Sign Finder", image="photo.jpg")'
    assert local.run.python == 'model = get_model("Sign Finder", task="object_detection")'
    assert drafted.cost.summary.startswith("About $0.001 per image, estimated.")
    # Deploying: takes no input, writes a deployment, quoted on the cheapest GPU per minute.
    cheapest = min(DEPLOYMENT_GPUS.values(), key=lambda g: g.micro_usd_per_minute)
    assert not any(i.supported for i in deploy.inputs)
    assert deploy.writes == "Creates a deployment, billed while it is up."
    assert (deploy.cost.micro_usd, deploy.cost.per) == (cheapest.micro_usd_per_minute, "minute")
    assert deploy.run.cli == f'pictograph deployments create "Sign Finder" --gpu {cheapest.name}'
    # Only the endpoint serving this model is related to it.
    assert [r.tool for r in card.related] == ["deployment/signs-endpoint"]
    assert client.tools.describe("model/Spare").related == []


def test_a_deployments_card_states_its_settings_and_how_to_call_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "Sign Finder")
    created = client.deployments.create(
        "Sign Finder",
        name="signs-endpoint",
        gpu_type="l4",
        min_containers=1,
        max_containers=3,
        scaledown_window=120,
    )
    # Until its server is up it is no tool: its card is refused with its status.
    with pytest.raises(ConflictError, match="not active \\(status: provisioning\\)"):
        client.tools.describe("deployment/signs-endpoint")
    client.deployments.wait_until_active(created.deployment)
    [row] = client.tools.list(kind="deployment")
    assert (
        row.summary == "An endpoint serving Sign Finder (object detection) on L4. Status: active."
    )
    card = client.tools.describe("deployment/signs-endpoint")
    assert card.facts == {
        "model": "Sign Finder",
        "compute": "l4",
        "precision": "fp32",
        "min_containers": 1,
        "max_containers": 3,
        "scaledown_seconds": 120,
    }
    endpoint = card.mode("endpoint")
    assert endpoint is not None
    # The endpoint takes one image, not a video or a dataset.
    assert [i.kind for i in endpoint.inputs if i.supported] == ["file", "url", "bytes"]
    assert "The deployment's auth token." in endpoint.requires
    assert endpoint.run.python == (
        f'client.deployments.connect("{created.deployment.id}").infer("photo.jpg")'
    )


def test_a_workflows_summary_and_facts_follow_its_graph(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "m1")
    source = ("src", "source", {"kind": "dataset", "dataset": DATASET})
    client.workflows.create(
        "Bare",
        chain_graph(source, ("out", "output", {})),
        readme="What the readme says.",
        description="What the description says.",
    )
    bare = client.tools.describe("workflow/Bare")
    assert bare.summary == "A workflow that runs no model yet. Outputs: json."
    assert bare.about == "What the readme says."  # a readme supersedes the description
    assert (bare.facts["tracker"], bare.facts["outputs"]) == (None, ["json"])
    # A frame's price reads in dollars to two significant figures.
    file_mode = bare.mode("file")
    assert file_mode is not None
    assert file_mode.cost.micro_usd == 7
    assert file_mode.cost.summary.startswith("About $0.0000070 per frame, estimated.")

    client.workflows.create("No output", chain_graph(source, ("det", "model", {"model": "m1"})))
    no_output = client.tools.describe("workflow/No output")
    assert no_output.summary == "A workflow that runs m1."
    # No Output block is a warning, not an error: the workflow is ready and its card lists
    # no validation error.
    assert (no_output.status, no_output.facts["validation_errors"]) == ("ready", [])
    assert no_output.output is not None
    assert "the outputs the graph names (none yet)" in no_output.output.description

    # One model twice is one related tool; each output format is named once.
    twice = chain_graph(
        source,
        ("a", "model", {"model": "m1"}),
        ("b", "model", {"model": "m1"}),
        ("o1", "output", {"format": "json"}),
        ("o2", "output", {"format": "json"}),
        ("o3", "output", {"format": "csv"}),
    )
    client.workflows.create("Twice", twice)
    card = client.tools.describe("workflow/Twice")
    assert card.summary == "A workflow that runs m1 + m1. Outputs: json, csv."
    assert card.facts["outputs"] == ["json", "csv"]
    assert [r.tool for r in card.related] == ["model/m1"]

    # A model block naming no model, or one the organization lacks, is still listed.
    client.workflows.create("Unnamed", chain_graph(source, ("det", "model", {})))
    unnamed = client.tools.describe("workflow/Unnamed")
    assert unnamed.summary == "A workflow that runs an unnamed model."
    client.workflows.create("Pending", chain_graph(source, ("det", "model", {"model": "later"})))
    pending = client.tools.describe("workflow/Pending")
    assert pending.facts["models"] == [{"kind": "trained", "name": "later", "classes": []}]
    assert pending.summary == "A workflow that runs later."


def test_a_workflow_card_is_written_for_a_graph_a_run_would_refuse(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "m1")
    source = ("src", "source", {"kind": "dataset", "dataset": DATASET})
    client.workflows.create("Bare", chain_graph(source, ("out", "output", {})))
    bare_price = client.tools.describe("workflow/Bare").mode("file").cost.micro_usd  # type: ignore[union-attr]

    # No blocks at all: nothing to run, nothing to pay, no source to name.
    client.workflows.create("Empty", {"nodes": [], "edges": []})
    empty = client.tools.describe("workflow/Empty")
    assert empty.status == "invalid"
    assert empty.summary == "A workflow that runs no model yet."
    assert empty.facts["source_kind"] is None
    file_mode = empty.mode("file")
    assert file_mode is not None
    assert file_mode.cost.micro_usd == 0
    assert file_mode.cost.summary.startswith("About $0 per frame, estimated.")

    # A block of no known type is named in the errors and adds nothing to the price.
    client.workflows.create("Odd", chain_graph(source, ("x", "blur", {}), ("out", "output", {})))
    odd = client.tools.describe("workflow/Odd")
    assert [e["code"] for e in odd.facts["validation_errors"]] == ["unknown_node_type"]
    assert odd.mode("file").cost.micro_usd == bare_price  # type: ignore[union-attr]

    # A geometry that is not an object is an error, and no measure.
    client.workflows.create(
        "Geo",
        chain_graph(
            source,
            ("det", "model", {"model": "m1"}),
            ("trk", "track", {}),
            ("lot", "measure", {"geometries": ["zone", {"kind": "zone", "name": "A"}]}),
        ),
    )
    geo = client.tools.describe("workflow/Geo")
    assert geo.facts["measures"] == [{"name": "A", "kind": "zone", "measure": "occupancy"}]
    assert "invalid_config" in [e["code"] for e in geo.facts["validation_errors"]]


def test_a_segmentation_models_card_predicts_polygons(client: pictograph.Client) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="sm_pytorch", name="Road Masks")
    card = client.tools.describe("model/Road Masks")
    assert card.task == "semantic_segmentation"
    assert card.output is not None
    assert card.output.type == "polygon"
    assert [(c.name, c.type) for c in card.classes] == [
        ("stop_sign", "polygon"),
        ("yield", "polygon"),
    ]
