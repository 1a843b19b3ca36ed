"""Workflows through the real SDK (sync and async): the block catalogue, templates, the
validator, and saved workflows (create, list, get by name, update, delete, bulk delete,
an uploaded source)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ConflictError, ForbiddenError, NotFoundError, ValidationError

from pictograph_testing.catalog import WORKFLOW_GPUS
from pictograph_testing.world.workflow_nodes import NODES, TEMPLATES
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _train(client: pictograph.Client, name: str = "signs") -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)
    assert run.model_id is not None
    return name


def detection_graph(model: str = "", dataset: str = DATASET) -> dict[str, Any]:
    """Source (a dataset) -> Model -> Output."""
    return {
        "version": 1,
        "nodes": [
            {"id": "src", "type": "source", "config": {"kind": "dataset", "dataset": dataset}},
            {"id": "det", "type": "model", "config": {"model": model, "confidence": 0.25}},
            {"id": "out", "type": "output", "config": {}},
        ],
        "edges": [{"source": "src", "target": "det"}, {"source": "det", "target": "out"}],
    }


# ── the catalogue ──


def test_compute_options_list_each_gpu_at_the_catalogs_price(client: pictograph.Client) -> None:
    options = client.workflows.compute_options()
    assert [(g.gpu, g.vram_gb, g.rate_per_min_micro_usd) for g in options.gpus] == [
        (g.gpu, g.vram_gb, g.micro_usd_per_minute) for g in WORKFLOW_GPUS.values()
    ]
    assert [p.precision for p in options.precisions] == ["fp32", "fp16"]
    assert options.default.gpu == "t4"


def test_nodes_and_templates_are_the_declared_ones(client: pictograph.Client) -> None:
    catalog = client.workflows.nodes()
    assert [n.type for n in catalog.nodes] == [n.type for n in NODES]
    measure = catalog.card("measure")
    assert (measure.inputs, measure.output) == (["tracks"], "events")
    [geometries] = measure.fields
    assert geometries.fields is not None
    assert [(f.key, f.values) for f in geometries.fields] == [
        ("kind", ["line", "zone"]),
        ("name", None),
    ]
    assert catalog.card("output").output is None
    assert catalog.graph["ports"] == ["frames", "detections", "tracks", "events"]
    found = client.workflows.templates()
    assert [t.key for t in found] == [t.key for t in TEMPLATES]
    made = client.workflows.create("Gate", template_key="line_counter")
    assert made.graph == next(t.graph for t in found if t.key == "line_counter")
    assert made.template_key == "line_counter"
    # The template's Model block names no model yet: that is what a run would still need.
    assert [(i.code, i.node_id) for i in made.validation] == [("model_missing", "model")]


def test_an_unknown_template_is_refused_and_makes_nothing(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError, match="Unknown template_key 'traffic': choose one of"):
        client.workflows.create("Gate", template_key="traffic")
    assert client.workflows.list() == []


# ── the validator ──


def test_validate_names_unknown_blocks_missing_inputs_and_cycles(
    client: pictograph.Client,
) -> None:
    graph = {
        "version": 1,
        "nodes": [
            {"id": "src", "type": "source", "config": {"kind": "dataset", "dataset": DATASET}},
            {"id": "det", "type": "model", "config": {"model": "nowhere"}},
            {"id": "zap", "type": "teleport"},
            {"id": "trk", "type": "track"},
            {"id": "flt", "type": "filter"},
        ],
        "edges": [
            {"source": "trk", "target": "flt"},
            {"source": "flt", "target": "trk"},
            {"source": "src", "target": "zap"},
        ],
    }
    report = client.workflows.validate(graph)
    assert report.valid is False
    codes = [(i.code, i.node_id, i.severity) for i in report.issues]
    assert codes == [
        ("missing_input", "det", "error"),
        ("model_not_found", "det", "error"),
        ("unknown_node_type", "zap", "error"),
        ("port_mismatch", "flt", "error"),
        ("cycle", "trk", "error"),
        ("no_output", None, "warning"),
    ]
    messages = {i.code: i.message for i in report.issues}
    assert messages["missing_input"] == (
        "Block 'det' (model) takes frames but nothing feeds it: connect a block that emits "
        "frames to it."
    )
    assert (
        "type 'teleport', which is no block type: use one of source, model"
        in (messages["unknown_node_type"])
    )
    assert messages["cycle"].startswith("Blocks trk -> flt -> trk form a cycle")
    assert "no model 'nowhere' in your organization" in messages["model_not_found"]
    assert [i.code for i in report.errors] == [c for c, _, s in codes if s == "error"]


def test_a_graph_is_valid_once_its_model_is_trained(client: pictograph.Client) -> None:
    graph = detection_graph("signs")
    assert [i.code for i in client.workflows.validate(graph).issues] == ["model_not_found"]
    _train(client)
    assert client.workflows.validate(graph).model_dump() == {"valid": True, "issues": []}
    graph["nodes"][0]["config"]["dataset"] = "elsewhere"
    graph["nodes"][1]["config"]["precision"] = "int4"
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.issues] == [
        ("dataset_not_found", "src"),
        ("invalid_config", "det"),
    ]
    assert report.issues[1].message == (
        "Block 'det' (model): config.precision 'int4' is not one of fp32, fp16."
    )


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"nodes": {}}, "The graph is malformed at graph.nodes: nodes must be a list"),
        ({"nodes": [{"id": "a"}]}, "at graph.nodes.0.type: each node needs a non-empty type"),
        (
            {"nodes": [{"id": "a", "type": "source"}, {"id": "a", "type": "output"}]},
            "at graph.nodes.1.id: two nodes have the id 'a'",
        ),
        (
            {"nodes": [{"id": "a", "type": "source"}], "edges": [{"source": "a", "target": "b"}]},
            "at graph.edges.0.target: target 'b' is not the id of a node of the graph",
        ),
    ],
)
def test_a_malformed_graph_is_a_422_that_says_what_to_fix(
    client: pictograph.Client, graph: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as raised:
        client.workflows.validate(graph)
    assert raised.value.status_code == 422
    with pytest.raises(ValidationError, match=re.escape(message)):
        client.workflows.create("Broken", graph)
    assert client.workflows.list() == []


# ── saved workflows ──


def test_create_list_get_by_name_update_and_delete(client: pictograph.Client) -> None:
    first = client.workflows.create("Lot", detection_graph(), readme="# Lot")
    second = client.workflows.create("Lot", compute={"gpu": "l4"})
    # A taken name is numbered, as the API's create path does: names stay unique.
    assert (first.name, second.name) == ("Lot", "Lot (2)")
    assert second.graph == {"version": 1, "nodes": [], "edges": []}
    assert [i.code for i in second.validation] == ["no_source"]
    assert second.compute.gpu == "l4"
    assert [w.name for w in client.workflows.list()] == ["Lot (2)", "Lot"]
    got = client.workflows.get("Lot")
    assert (got.id, got.readme, got.status, got.endpoint) == (first.id, "# Lot", "draft", None)
    assert [i.code for i in got.validation] == ["model_missing"]
    changed = client.workflows.update(
        "Lot", name="Lot A", status="ready", compute={"gpu": "l4"}, readme="# A"
    )
    assert (changed.name, changed.status, changed.compute.gpu, changed.readme) == (
        "Lot A",
        "ready",
        "l4",
        "# A",
    )
    assert client.workflows.get(first.id).name == "Lot A"
    client.workflows.delete("Lot A")
    with pytest.raises(NotFoundError):
        client.workflows.get(first.id)
    assert [w.name for w in client.workflows.list()] == ["Lot (2)"]


def test_a_refused_update_changes_nothing(client: pictograph.Client) -> None:
    client.workflows.create("Lot", detection_graph())
    client.workflows.create("Gate")
    before = client.workflows.get("Lot")
    with pytest.raises(ConflictError, match="A workflow named 'Gate' already exists"):
        client.workflows.update("Lot", name="Gate", graph={"nodes": []})
    with pytest.raises(ValidationError, match="gpu"):
        client.workflows.update("Lot", compute={"gpu": "a100"}, readme="changed")
    with pytest.raises(ValidationError, match=r"graph\.nodes\.0"):
        client.workflows.update("Lot", graph={"nodes": ["x"]}, name="Other")
    assert client.workflows.get("Lot") == before


def test_bulk_delete_reports_what_it_did_not_find(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    kept = client.workflows.create("Kept")
    gone = client.workflows.create("Gone")
    other = fake.add_organization().client(max_retries=0)
    theirs = other.workflows.create("Theirs")
    result = client.workflows.bulk_delete(["Gone", theirs.id, UNKNOWN_ID, gone.id])
    assert (result.succeeded, result.not_found, result.count) == (
        [gone.id],
        [theirs.id, UNKNOWN_ID],
        1,
    )
    assert [w.id for w in client.workflows.list()] == [kept.id]
    assert [w.id for w in other.workflows.list()] == [theirs.id]
    with pytest.raises(NotFoundError, match="No workflow named 'Gone'"):
        client.workflows.bulk_delete(["Gone"])
    other.close()


def test_another_organizations_workflow_is_a_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with fake.add_organization().client(max_retries=0) as other:
        theirs = other.workflows.create("Theirs")
    for call in (
        lambda: client.workflows.get(theirs.id),
        lambda: client.workflows.update(theirs.id, readme="mine"),
        lambda: client.workflows.delete(theirs.id),
    ):
        with pytest.raises(NotFoundError, match=f"Workflow '{theirs.id}' not found"):
            call()
    with pytest.raises(NotFoundError, match="No workflow named 'Theirs'"):
        client.workflows.get("Theirs")


def test_a_viewer_reads_but_does_not_write(fake: FakePictograph, client: pictograph.Client) -> None:
    client.workflows.create("Lot")
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert [w.name for w in viewer.workflows.list()] == ["Lot"]
        assert viewer.workflows.validate({"nodes": []}).valid is False
        for call in (
            lambda: viewer.workflows.create("Mine"),
            lambda: viewer.workflows.update("Lot", readme="x"),
            lambda: viewer.workflows.delete("Lot"),
            lambda: viewer.workflows.bulk_delete(["Lot"]),
        ):
            with pytest.raises(ForbiddenError, match="role 'viewer' cannot"):
                call()
    assert [w.name for w in client.workflows.list()] == ["Lot"]


def test_upload_source_puts_the_file_under_the_organizations_prefix(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(32))
    uri = client.workflows.upload_source(clip)
    assert uri.startswith(f"gs://pictograph-fake-workflow-sources/{fake.organization_id}/")
    assert uri.endswith("/clip.mp4")
    # A raw request the SDK cannot send: a body without the content type.
    with _raw(fake) as raw:
        answer = raw.post("workflows/upload-url", json={"filename": "clip.mp4"})
    assert answer.status_code == 422
    assert "content_type" in answer.json()["error"]["message"]


def _raw(fake: FakePictograph) -> httpx.Client:
    return httpx.Client(
        base_url=f"{fake.base_url}/api/v1/developer/",
        headers={"X-API-Key": fake.api_key},
        transport=fake.transport(),
    )


def test_a_graph_that_is_not_an_object_is_a_422(fake: FakePictograph) -> None:
    # The SDK sends dict(graph): only a raw request sends a list.
    with _raw(fake) as raw:
        answer = raw.post("workflows/validate", json={"graph": []})
        made = raw.post("workflows/", json={"name": "Broken", "graph": "x"})
    assert answer.status_code == made.status_code == 422
    assert answer.json()["error"]["message"] == (
        "The request failed validation: graph: Input should be a valid dictionary"
    )


async def test_the_async_client_manages_workflows(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    assert [n.type for n in (await aclient.workflows.nodes()).nodes] == [n.type for n in NODES]
    assert [t.key for t in await aclient.workflows.templates()] == [t.key for t in TEMPLATES]
    assert (await aclient.workflows.compute_options()).default.gpu == "t4"
    report = await aclient.workflows.validate({"nodes": [{"id": "m", "type": "model"}]})
    assert [i.code for i in report.errors] == ["no_source", "missing_input", "model_missing"]
    made = await aclient.workflows.create("Lot", detection_graph())
    assert (await aclient.workflows.get("Lot")).id == made.id
    changed = await aclient.workflows.update("Lot", name="Lot B")
    assert [w.name for w in await aclient.workflows.list()] == [changed.name]
    clip = tmp_path / "frame.png"
    clip.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    assert (await aclient.workflows.upload_source(clip)).endswith("/frame.png")
    await aclient.workflows.create("Other")
    result = await aclient.workflows.bulk_delete(["Other"])
    assert result.count == 1
    await aclient.workflows.delete("Lot B")
    assert await aclient.workflows.list() == []


def test_a_snapshot_refuses_workflows_rather_than_leave_them_out(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.snapshot()  # a world without workflows is captured
    client.workflows.create("Lot")
    with pytest.raises(ValueError, match="cannot capture workflows or their runs yet"):
        fake.snapshot()
