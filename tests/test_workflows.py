"""Workflows through the real SDK (sync and async): the block catalogue, templates, the
validator, and saved workflows (create, list, get by name, update, delete, bulk delete,
an uploaded source)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)
from pictograph.models.workflow import WorkflowRun, WorkflowRunCreated

from pictograph_testing.catalog import WORKFLOW_GPUS
from pictograph_testing.world.workflow_nodes import NODES, TEMPLATES, chain_graph
from pictograph_testing.world.workflow_runs import ENGINE_START_SECONDS, QUEUE_SECONDS
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


def _lot(client: pictograph.Client) -> None:
    """The model ``signs`` trained, and ``Lot``: a workflow that runs it over the dataset."""
    _train(client)
    client.workflows.create("Lot", detection_graph("signs"))


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
    keys = "dataset_detection, confident_classes, line_counter, custom"
    with pytest.raises(
        ValidationError, match=f"Unknown template_key 'traffic': choose one of {keys} "
    ) as refused:
        client.workflows.create("Gate", template_key="traffic")
    assert refused.value.status_code == 400
    assert [e["loc"] for e in refused.value.field_errors or []] == [["body", "template_key"]]
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


async def test_a_line_or_zone_named_by_anything_but_text_is_invalid(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    # A geometry's name is how the log and the live view name it: a string, as its kind.
    _train(client)
    graph = _counting_graph()
    graph["nodes"][3]["config"]["geometries"] = [{"kind": "zone", "name": 5}]
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.issues] == [("invalid_config", "lot")]
    assert report.issues[0].message == (
        "Block 'lot' (measure): config.geometries[0].name must be a string, not 5."
    )
    assert (await aclient.workflows.validate(graph)).valid is False
    client.workflows.create("Lot", graph)
    with pytest.raises(ValidationError, match=r"geometries\[0\]\.name must be a string"):
        client.workflows.run("Lot")


@pytest.mark.parametrize(
    ("block", "setting", "value", "says"),
    [
        (1, "confidence", "", "config.confidence must be a number, not ''"),
        (0, "sample_fps", 1e308, "config.sample_fps 1e+308 is outside 0.1 to 60"),
        (0, "sample_fps", 0, "config.sample_fps 0 is outside 0.1 to 60"),
        (0, "duration_seconds", 1e9, "config.duration_seconds 1000000000.0 is outside 0.1 to 3600"),
    ],
)
def test_a_setting_out_of_its_bounds_is_invalid_and_its_run_refused(
    fake: FakePictograph,
    client: pictograph.Client,
    block: int,
    setting: str,
    value: Any,
    says: str,
) -> None:
    # A run reads these settings: each is checked as the invoke source's are, so a run
    # never meets a number it cannot use (a video of 1e308 frames a second, say).
    _train(client)
    graph = detection_graph("signs")
    if block == 0:
        graph["nodes"][0]["config"] = {"kind": "video", "url": "https://cdn.example.com/v"}
    graph["nodes"][block]["config"][setting] = value
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.issues] == [
        ("invalid_config", graph["nodes"][block]["id"])
    ]
    assert says in report.issues[0].message
    client.workflows.create("Lot", graph)
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError, match=re.escape(says)):
        client.workflows.run("Lot")
    assert fake.balance_micro_usd == before
    assert not fake.server_errors


async def test_async_a_video_source_beyond_its_frame_rate_is_invalid(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _train(client)
    graph = detection_graph("signs")
    graph["nodes"][0]["config"] = {"kind": "video", "url": "https://x.example/v", "sample_fps": 61}
    report = await aclient.workflows.validate(graph)
    assert "outside 0.1 to 60" in report.issues[0].message


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
        (
            {"nodes": [{"id": "a", "type": "source"}], "edges": [{"source": ["a"], "target": "a"}]},
            "at graph.edges.0.source: source ['a'] is not the id of a node of the graph",
        ),
        (
            {"nodes": [{"id": "a", "type": "source"}], "edges": [{"source": "a", "target": {}}]},
            "at graph.edges.0.target: target {} is not the id of a node of the graph",
        ),
        (
            {"nodes": [{"id": " ", "type": "source"}]},
            "at graph.nodes.0.id: each node needs a non-empty id",
        ),
        (
            {"nodes": [{"id": "a", "type": "source", "config": "kind=video"}]},
            "at graph.nodes.0.config: a node's config is an object",
        ),
        (
            {"nodes": [{"id": "a", "type": "source"}], "edges": ["a"]},
            'at graph.edges.0: an edge is {"source": ..., "target": ...}',
        ),
    ],
)
def test_a_malformed_graph_is_a_422_that_says_what_to_fix(
    client: pictograph.Client, graph: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as raised:
        client.workflows.validate(graph)
    assert raised.value.status_code == 422
    [error] = raised.value.field_errors or []
    assert error["loc"][:2] == ["body", "graph"]
    with pytest.raises(ValidationError, match=re.escape(message)):
        client.workflows.create("Broken", graph)
    assert client.workflows.list() == []


def _source(**config: Any) -> dict[str, Any]:
    """A graph of one Source block ``src`` (config as given)."""
    return {"nodes": [{"id": "src", "type": "source", "config": config}]}


def _issues(client: pictograph.Client, graph: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The graph's errors, each on its block."""
    return [(i.code, i.node_id) for i in client.workflows.validate(graph).errors]


def test_the_source_card_is_answered_whole(client: pictograph.Client) -> None:
    # Each part of a card is what the editor shows: a setting's note, its default, a
    # requirement that depends on another setting (a string, not a boolean).
    source = client.workflows.nodes().card("source")
    assert (source.label, source.inputs, source.output) == ("Source", [], "frames")
    assert source.summary.startswith("Where the frames come from")
    assert source.new_block == {"kind": "dataset", "dataset": ""}
    assert source.rules == ["A workflow has exactly one Source."]
    assert [(f.key, f.type, f.required, f.default, f.values) for f in source.fields] == [
        ("kind", "string", True, None, ["image", "video", "dataset"]),
        ("dataset", "string", "when kind is dataset", None, None),
        ("directory_path", "string", False, None, None),
        ("sample_fps", "number", False, 1, None),
        ("duration_seconds", "number", False, 10, None),
    ]
    assert source.fields[3].note == "Frames a second read from a video, 0.1 to 60."


def test_a_new_block_holds_the_defaults_its_card_declares(client: pictograph.Client) -> None:
    # The editor adds a block as its new_block: what it sets is what the block does
    # when the setting is left out.
    for card in client.workflows.nodes().nodes:
        defaults = {f.key: f.default for f in card.fields}
        assert set(card.new_block) <= set(defaults), card.type
        for key, value in card.new_block.items():
            if defaults[key] is not None:
                assert value == defaults[key], (card.type, key)


def test_a_run_without_a_setting_does_what_the_cards_default_says(
    client: pictograph.Client,
) -> None:
    _lot(client)
    defaults = {
        (card.type, f.key): f.default
        for card in client.workflows.nodes().nodes
        for f in card.fields
    }
    video = client.workflows.invoke("Lot", source={"kind": "video", "url": "https://x.example/v"})
    assert isinstance(video, WorkflowRunCreated)
    done = client.workflows.wait_for_run(video.run_id, poll_interval=1)
    fps, seconds = defaults["source", "sample_fps"], defaults["source", "duration_seconds"]
    assert (done.sample_fps, done.frames_total) == (fps, fps * seconds)
    assert done.compute.precision == defaults["model", "precision"]


def test_a_source_needs_its_kind_and_a_dataset_source_its_dataset(
    client: pictograph.Client,
) -> None:
    report = client.workflows.validate(_source())
    assert [(i.code, i.node_id) for i in report.errors] == [("config_missing", "src")]
    assert report.errors[0].message == (
        "Block 'src' (source) needs its kind: set config.kind (What the run reads.)."
    )
    assert _issues(client, _source(kind="dataset", dataset="")) == [("config_missing", "src")]
    # A dataset is needed only when the source reads one.
    assert _issues(client, _source(kind="video", url="https://x.example/v")) == []


@pytest.mark.parametrize(
    ("block", "setting", "value"),
    [
        ("det", "confidence", 0),
        ("det", "confidence", 1),
        ("src", "sample_fps", 0.1),
        ("src", "sample_fps", 60),
        ("src", "duration_seconds", 0.1),
        ("src", "duration_seconds", 3600),
    ],
)
def test_a_setting_at_either_bound_is_valid(
    client: pictograph.Client, block: str, setting: str, value: float
) -> None:
    _train(client)
    graph = detection_graph("signs")
    graph["nodes"][0]["config"] = {"kind": "video", "url": "https://x.example/v"}
    graph["nodes"][0 if block == "src" else 1]["config"][setting] = value
    assert _issues(client, graph) == []


@pytest.mark.parametrize(
    ("block", "setting", "value", "says"),
    [
        ("det", "confidence", 1.5, "config.confidence 1.5 is outside 0 to 1."),
        ("det", "confidence", True, "config.confidence must be a number, not True."),
        ("flt", "min_confidence", -0.5, "config.min_confidence -0.5 is outside 0 to 1."),
        ("flt", "classes", {"yield": 1}, "config.classes must be an array, not {'yield': 1}."),
        ("trk", "max_age", 2.5, "config.max_age must be an integer, not 2.5."),
    ],
)
def test_a_setting_of_the_wrong_type_or_out_of_its_range_is_invalid(
    client: pictograph.Client, block: str, setting: str, value: Any, says: str
) -> None:
    _train(client)
    graph = chain_graph(
        ("src", "source", {"kind": "dataset", "dataset": DATASET}),
        ("det", "model", {"model": "signs"}),
        ("flt", "filter", {}),
        ("trk", "track", {}),
        ("out", "output", {}),
    )
    next(n for n in graph["nodes"] if n["id"] == block)["config"][setting] = value
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.issues] == [("invalid_config", block)]
    assert report.issues[0].message.endswith(says)


@pytest.mark.parametrize(
    ("geometry", "says"),
    [
        ({"name": "Lot"}, "config.geometries[0] needs its kind."),
        ({"kind": "zone"}, "config.geometries[0] needs its name."),
        (5, "config.geometries[0] must be an object, not 5."),
        (["zone", "Lot"], "config.geometries[0] must be an object, not ['zone', 'Lot']."),
    ],
)
def test_each_line_or_zone_is_an_object_with_its_kind_and_name(
    client: pictograph.Client, fake: FakePictograph, geometry: Any, says: str
) -> None:
    _train(client)
    graph = _counting_graph()
    graph["nodes"][3]["config"]["geometries"] = [geometry]
    report = client.workflows.validate(graph)
    code = "invalid_config" if "must be" in says else "config_missing"
    assert [(i.code, i.node_id) for i in report.issues] == [(code, "lot")]
    assert report.issues[0].message == f"Block 'lot' (measure): {says}"
    assert fake.server_errors == []


def test_a_second_source_is_named_and_the_first_is_read(client: pictograph.Client) -> None:
    graph = _source(kind="video", url="https://x.example/v")
    graph["nodes"].append({"id": "again", "type": "source", "config": {"kind": "image"}})
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.errors] == [("multiple_sources", "again")]
    assert report.errors[0].message == (
        "Block 'again' (source) is a second Source: a workflow reads from exactly one."
    )


def test_what_a_connection_carries_is_named_on_the_block_it_feeds(
    client: pictograph.Client,
) -> None:
    _train(client)
    graph = chain_graph(
        ("src", "source", {"kind": "dataset", "dataset": DATASET}),
        ("det", "model", {"model": "signs"}),
        ("out", "output", {}),
    )
    graph["nodes"] += [
        {"id": "zap", "type": "teleport", "config": {}},
        {"id": "last", "type": "output", "config": {}},
        {"id": "again", "type": "model", "config": {"model": "signs"}},
    ]
    graph["edges"] += [
        {"source": "zap", "target": "out"},  # an unknown block: named once, as unknown
        {"source": "out", "target": "again"},  # a sink feeds nothing
        {"source": "det", "target": "src"},  # a source takes nothing
    ]
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.issues] == [
        ("port_mismatch", "src"),
        ("unknown_node_type", "zap"),
        ("missing_input", "last"),
        ("sink_feeds", "again"),
        ("cycle", "src"),
    ]
    messages = [i.message for i in report.issues]
    assert messages[0].startswith(
        "Block 'src' (source) takes nothing, but Block 'det' (model) emits detections"
    )
    assert messages[2].startswith("Block 'last' (output) takes detections or tracks or events")
    assert messages[3].startswith(
        "Block 'out' (output) emits nothing, so it cannot feed Block 'again' (model)"
    )


def test_a_cycle_is_named_from_the_block_it_returns_to(client: pictograph.Client) -> None:
    # The walk reaches `a` from `src`, finishes `side` and goes round by `b`: the cycle
    # is `a` and `b`, without the block before it or the branch done before it.
    graph = {
        "nodes": [{"id": i, "type": "filter", "config": {}} for i in ("src", "a", "side", "b")],
        "edges": [
            {"source": "src", "target": "a"},
            {"source": "a", "target": "side"},
            {"source": "a", "target": "b"},
            {"source": "b", "target": "a"},
        ],
    }
    [cycle] = [i for i in client.workflows.validate(graph).issues if i.code == "cycle"]
    assert (cycle.node_id, cycle.message) == (
        "a",
        "Blocks a -> b -> a form a cycle: a graph flows one way; remove one of these connections.",
    )


def test_a_missing_model_is_named_on_its_block(client: pictograph.Client) -> None:
    [missing] = client.workflows.validate(detection_graph("nowhere")).issues
    assert missing.message.startswith("Block 'det' (model): ")
    assert "no model 'nowhere' in your organization" in missing.message


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
    bare = {"nodes": [{"id": "m", "type": "measure", "config": {"geometries": []}}]}
    [_, _, empty] = (await aclient.workflows.validate(bare)).errors
    assert (empty.code, empty.node_id) == ("measure_no_geometry", "m")
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


# ── runs ──


def _counting_graph() -> dict[str, Any]:
    """Source -> Model -> Track -> Measure (a zone and a line) -> Output."""
    graph = detection_graph("signs")
    graph["nodes"][2:2] = [
        {"id": "trk", "type": "track", "config": {}},
        {
            "id": "lot",
            "type": "measure",
            "config": {
                "geometries": [{"kind": "zone", "name": "Lot"}, {"kind": "line", "name": "Gate"}]
            },
        },
    ]
    graph["edges"] = [
        {"source": "src", "target": "det"},
        {"source": "det", "target": "trk"},
        {"source": "trk", "target": "lot"},
        {"source": "lot", "target": "out"},
    ]
    return graph


@pytest.mark.usefixtures("no_real_waiting")
def test_a_run_progresses_on_the_clock_and_is_charged_once_it_completes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.webhooks.create("https://hooks.example.com/runs")
    before = fake.balance_micro_usd
    created = client.workflows.run("Lot")
    assert created.deposit_micro_usd == WORKFLOW_GPUS["t4"].micro_usd_per_minute  # a minute
    assert client.workflows.get_run(created.run_id).status == "queued"
    fake.clock.advance(QUEUE_SECONDS + ENGINE_START_SECONDS + 0.5)
    midway = client.workflows.get_run(created.run_id)
    assert midway.status == "processing"
    assert midway.frames_done is not None
    assert midway.frames_total is not None
    assert 0 < midway.frames_done < midway.frames_total == 20
    assert midway.progress == round(100 * midway.frames_done / 20, 1)
    assert fake.balance_micro_usd == before, "charge-on-success: nothing is held"
    done = client.workflows.wait_for_run(created.run_id, poll_interval=1)
    assert (done.status, done.frames_done, done.progress) == ("completed", 20, 100.0)
    assert done.compute.model_dump() == {"gpu": "t4", "precision": "fp32"}
    [entry] = [e for e in fake.ledger if e.operation == "workflow_t4"]
    assert done.final_micro_usd is not None
    assert entry.amount == -done.final_micro_usd
    assert fake.balance_micro_usd == before - done.final_micro_usd
    [summary] = client.workflows.list_runs("Lot")
    assert summary.runtime_seconds is not None
    processing = summary.runtime_seconds - QUEUE_SECONDS
    assert done.final_micro_usd == math.ceil(
        processing * WORKFLOW_GPUS["t4"].micro_usd_per_minute / 60
    )
    assert (summary.cost_micro_usd, summary.cost_settled, summary.artifact_count) == (
        done.final_micro_usd,
        True,
        1,
    )
    assert client.workflows.get("Lot").last_run_id == created.run_id
    [delivery] = client.webhooks.deliveries()
    assert delivery.event_type == "workflow_run.completed"


def test_the_model_block_predicts_as_models_predict_does(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    done = client.workflows.invoke(
        "Lot", source={"kind": "dataset", "dataset": DATASET}, wait=True, poll_interval=1
    )
    assert isinstance(done, WorkflowRun)
    assert done.status == "completed"
    frames = list(client.workflows.iter_run_log(done.id, stream="frames", full=True))
    assert [f.frame for f in frames] == list(range(20))
    world = fake.world
    first = world.dataset_images(world.dataset(fake.organization_id, DATASET))[0]
    content, _ = world.image_service.content(first)
    predicted = client.models.predict("signs", image=content, confidence=0.25)
    assert frames[0].image_id == first.id
    assert frames[0].annotation_count == len(predicted.annotations)
    assert frames[0].pictograph is not None
    assert sorted(a["name"] for a in frames[0].pictograph["annotations"]) == sorted(
        a["name"] for a in predicted.annotations
    )
    [artifact] = done.artifacts
    downloaded = httpx.Client(transport=fake.transport()).get(artifact["url"])
    # The size a poll reports (kept once the run ended) is the file's.
    assert artifact["size_bytes"] == len(downloaded.content)
    assert client.workflows.get_run(done.id).artifacts == done.artifacts
    results = downloaded.json()
    assert results["run_id"] == done.id
    assert [len(f["detections"]) for f in results["frames"]] == [f.annotation_count for f in frames]


def test_a_measure_logs_events_and_the_log_pages_by_cursor(client: pictograph.Client) -> None:
    _train(client)
    client.workflows.create("Lot", _counting_graph())
    run = client.workflows.run("Lot")
    done = client.workflows.wait_for_run(run.run_id, poll_interval=1)
    assert done.step_results["lot"]["Gate"] == {"kind": "line", "crossings": 0}
    frames = list(client.workflows.iter_run_log(run.run_id, stream="frames"))
    # An event wherever the zone's occupancy (the frame's tracks) changes: an entry where
    # it rises, an exit where it falls, each with its own trigger ("<kind>-<8 hex>").
    inside = [len(f.track_ids) for f in frames]
    before = [inside[i - 1] if i else 0 for i in range(len(inside))]
    changes = [i for i, n in enumerate(inside) if n != before[i]]
    kinds = ["entry" if inside[i] > before[i] else "exit" for i in changes]
    assert set(kinds) == {"entry", "exit"}  # the seeded frames both fill and empty the lot
    events = list(client.workflows.iter_run_log(run.run_id, page_size=3))
    assert [e.frame for e in events] == changes
    assert [(e.trigger or "").partition("-")[0] for e in events] == kinds
    assert len({e.trigger for e in events}) == 2
    moved = [abs(inside[i] - before[i]) for i in changes]
    assert [e.rule_values for e in events] == [
        {f"zone_events:lot:{'in' if k == 'entry' else 'out'}": m}
        for k, m in zip(kinds, moved, strict=True)
    ]
    assert events[0].values_text == f"Lot: {moved[0]} entered · {inside[changes[0]]} inside"
    page = client.workflows.run_log(run.run_id, limit=2, order="desc")
    assert [r.frame for r in page.records] == changes[::-1][:2]
    named = client.workflows.run_log(run.run_id, limit=50).event_names
    assert {(n.name, n.kind) for n in named.values()} == {
        ("Entry · Lot", "entry"),
        ("Exit · Lot", "exit"),
    }
    with pytest.raises(ValidationError, match="is not a cursor of an asc page"):
        client.workflows.run_log(run.run_id, cursor=page.next_cursor)
    klass = frames[0].classes[0]
    only = list(client.workflows.iter_run_log(run.run_id, stream="frames", class_name=klass))
    assert [f.frame for f in only] == [f.frame for f in frames if klass in f.classes]
    summary = client.workflows.run_log_summary(run.run_id)
    assert {k: s.count for k, s in summary.streams.items()} == {
        "frames": 20,
        "events": len(changes),
        "stats": 2,
    }
    # A stats record counts what its source has given, as a live stream's stats do.
    stats = list(client.workflows.iter_run_log(run.run_id, stream="stats"))
    sources = [r.sources for r in stats if r.sources is not None]
    assert len(sources) == len(stats)
    assert sources == [
        [{"kind": s[0]["kind"], "frames": n}] for s, n in zip(sources, (10, 20), strict=True)
    ]
    assert all(s[0]["kind"] for s in sources)


def test_a_cancelled_run_is_free_and_ends_the_wait(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    before = fake.balance_micro_usd
    first = client.workflows.run("Lot")
    second = client.workflows.run("Lot", gpu="l4")
    client.workflows.cancel_run(first.run_id)
    with pytest.raises(ApiError, match="ended with status 'cancelled'"):
        client.workflows.wait_for_run(first.run_id, poll_interval=1)
    with pytest.raises(ConflictError, match="has already ended \\(cancelled\\)"):
        client.workflows.cancel_run(first.run_id)
    result = client.workflows.bulk_cancel_runs([second.run_id, first.run_id, UNKNOWN_ID])
    assert (result.succeeded, result.not_found) == (
        [second.run_id],
        [first.run_id, UNKNOWN_ID],
    )
    fake.clock.advance(3600)
    assert [r.status for r in client.workflows.list_runs("Lot")] == ["cancelled", "cancelled"]
    assert client.workflows.get_run(second.run_id).compute.gpu == "l4"
    assert fake.balance_micro_usd == before


async def test_a_workflows_runs_are_paged_newest_first(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _lot(client)
    started = [client.workflows.run("Lot").run_id for _ in range(5)]
    newest_first = started[::-1]
    assert [r.id for r in client.workflows.list_runs("Lot", limit=2)] == newest_first[:2]
    assert [r.id for r in client.workflows.list_runs("Lot", limit=2, offset=4)] == started[:1]
    assert client.workflows.list_runs("Lot", offset=5) == []
    assert [r.id for r in client.workflows.iter_runs("Lot", page_size=2)] == newest_first
    paged = [r.id async for r in await aclient.workflows.iter_runs("Lot", page_size=3)]
    assert paged == newest_first
    # A run started since is first on the next read.
    latest = client.workflows.run("Lot").run_id
    assert [r.id for r in client.workflows.list_runs("Lot", limit=1)] == [latest]


def test_a_run_whose_model_is_deleted_fails_free_and_says_why(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.webhooks.create("https://hooks.example.com/runs")
    before = fake.balance_micro_usd
    run = client.workflows.run("Lot")
    client.models.delete("signs")
    with pytest.raises(ApiError, match="A model the run uses was deleted while it ran"):
        client.workflows.wait_for_run(run.run_id, poll_interval=1)
    assert client.workflows.get_run(run.run_id).final_micro_usd is None
    assert fake.balance_micro_usd == before
    assert [d.event_type for d in client.webhooks.deliveries()] == ["workflow_run.failed"]


def test_a_refused_run_starts_nothing(fake: FakePictograph, client: pictograph.Client) -> None:
    client.workflows.create("Lot", detection_graph("signs"))
    with pytest.raises(
        ValidationError, match=r"Workflow 'Lot' cannot run: .*no model 'signs'"
    ) as bad:
        client.workflows.run("Lot")
    assert bad.value.status_code == 400
    _train(client)
    with pytest.raises(ValidationError, match="gpu"):
        client.workflows.run("Lot", gpu="a100")
    poor = fake.add_organization(balance_usd=0)
    with poor.client(max_retries=0) as theirs:
        theirs.workflows.create("Empty", detection_graph(""))
        with pytest.raises(ValidationError, match="needs its model"):
            theirs.workflows.run("Empty")
    with pytest.raises(ValidationError, match="No uploaded source at"):
        client.workflows.invoke(
            "Lot", source={"kind": "image", "gcs_uri": "gs://elsewhere/cat.png"}
        )
    assert client.workflows.list_runs("Lot") == []
    assert client.workflows.get("Lot").last_run_id is None


def test_a_run_past_the_balance_is_a_402(fake: FakePictograph, client: pictograph.Client) -> None:
    _lot(client)
    spend = fake.balance_micro_usd - 1_000
    with fake.world.lock:
        org = fake.world.organizations[fake.organization_id]
        fake.world.billing.post(org, "test_spend", -spend, description="spent elsewhere")
    with pytest.raises(PaymentRequiredError, match=r"This run is estimated at \$0\.02"):
        client.workflows.run("Lot")
    assert client.workflows.list_runs("Lot") == []


def test_invoke_runs_over_an_uploaded_image_and_a_linked_video(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    _lot(client)
    world = fake.world
    first = world.dataset_images(world.dataset(fake.organization_id, DATASET))[0]
    content, _ = world.image_service.content(first)
    photo = tmp_path / "photo.png"
    photo.write_bytes(content)
    done = client.workflows.invoke("Lot", source=photo, wait=True, poll_interval=1)
    assert isinstance(done, WorkflowRun)
    assert (done.status, done.frames_total) == ("completed", 1)
    [frame] = client.workflows.run_log(done.id, stream="frames").records
    assert frame.image == "photo.png"
    # The model that ran on it, and how long the graph took on it; an image has no time.
    assert (frame.model_name, frame.model_task, frame.pts) == ("signs", "object_detection", None)
    assert frame.latency_total_ms is not None
    assert frame.latency_total_ms > 0
    video = client.workflows.invoke(
        "Lot",
        source={"kind": "video", "url": "https://cdn.example.com/gate", "sample_fps": 2},
    )
    assert isinstance(video, WorkflowRunCreated)
    assert video.status_url == f"/api/v1/developer/workflows/runs/{video.run_id}"
    ran = client.workflows.wait_for_run(video.run_id, poll_interval=1)
    assert (ran.frames_total, ran.sample_fps) == (20, 2.0)  # 10 s at 2 frames a second
    # Each sampled frame's time in the video: half a second apart.
    frames = client.workflows.iter_run_log(video.run_id, stream="frames")
    assert [f.pts for f in frames] == [n / 2 for n in range(20)]


def test_an_image_link_runs_as_one_frame_the_organization_does_not_know(
    client: pictograph.Client,
) -> None:
    _lot(client)
    # The SDK sends a link's kind from its extension: {"kind": "image", "url": ...}.
    done = client.workflows.invoke(
        "Lot", source="https://cdn.example.com/gate/photo.jpg", wait=True, poll_interval=1
    )
    assert isinstance(done, WorkflowRun)
    assert (done.status, done.frames_total) == ("completed", 1)
    [frame] = client.workflows.run_log(done.id, stream="frames").records
    assert (frame.image, frame.image_id) == ("photo.jpg", None)
    assert (frame.image_width, frame.image_height) == (1280, 720)
    assert (frame.model_name, frame.pts) == ("signs", None)
    # A saved graph whose source is a link: valid, and its run goes as the invoke did.
    graph = detection_graph("signs")
    graph["nodes"][0]["config"] = {"kind": "image", "url": "https://cdn.example.com/gate/photo.jpg"}
    assert client.workflows.validate(graph).valid
    client.workflows.create("Gate", graph)
    ran = client.workflows.wait_for_run(client.workflows.run("Gate").run_id, poll_interval=1)
    assert (ran.status, ran.frames_total) == ("completed", 1)
    [again] = client.workflows.run_log(ran.id, stream="frames").records
    assert again.model_dump(
        include={"image", "image_width", "image_height", "annotation_count"}
    ) == (frame.model_dump(include={"image", "image_width", "image_height", "annotation_count"}))


def test_an_image_under_a_tracking_workflow_is_refused_and_free(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # The SDK's `invoke`: "an image under a tracking pipeline" is a ValidationError (400).
    _train(client)
    client.workflows.create("Gate", _counting_graph())
    photo = tmp_path / "photo.png"
    first = fake.world.dataset_images(fake.world.dataset(fake.organization_id, DATASET))[0]
    photo.write_bytes(fake.world.image_service.content(first)[0])
    before = fake.balance_micro_usd
    for source in (photo, photo.read_bytes(), "https://cdn.example.com/gate/photo.jpg"):
        with pytest.raises(ValidationError, match="An image is one frame") as refused:
            client.workflows.invoke("Gate", source=source)
        assert refused.value.status_code == 400
        assert fake.calls.last.response_json()["error"]["code"] == "invalid_source"
    assert list(client.workflows.list_runs("Gate")) == []
    assert fake.balance_micro_usd == before
    # A video is followed frame to frame.
    video = client.workflows.invoke(
        "Gate", source={"kind": "video", "url": "https://cdn.example.com/v"}
    )
    assert isinstance(video, WorkflowRunCreated)
    # A saved graph that reads an image and tracks is not valid.
    graph = _counting_graph()
    graph["nodes"][0]["config"] = {"kind": "image", "url": "https://cdn.example.com/gate/photo.jpg"}
    report = client.workflows.validate(graph)
    assert [(i.code, i.node_id) for i in report.errors] == [("image_under_tracking", "src")]


async def test_async_an_image_link_under_a_tracking_workflow_is_refused(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _train(client)
    await aclient.workflows.create("Gate", _counting_graph())
    with pytest.raises(ValidationError, match="Track block"):
        await aclient.workflows.invoke(
            "Gate", source={"kind": "image", "url": "https://x.example/a.jpg"}
        )


async def test_the_async_client_invokes_over_an_image_link(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    await aclient.workflows.create("Lot", detection_graph("signs"))
    created = await aclient.workflows.invoke(
        "Lot", source={"kind": "image", "url": "https://cdn.example.com/a"}
    )
    assert isinstance(created, WorkflowRunCreated)
    done = await aclient.workflows.wait_for_run(created.run_id, poll_interval=1)
    assert (done.status, done.frames_total) == ("completed", 1)


def test_a_model_block_with_a_null_confidence_runs_at_the_blocks_default(
    client: pictograph.Client, fake: FakePictograph
) -> None:
    _train(client)
    nulled = detection_graph("signs")
    nulled["nodes"][1]["config"]["confidence"] = None
    default = detection_graph("signs")
    del default["nodes"][1]["config"]["confidence"]
    assert client.workflows.validate(nulled).valid
    runs = []
    for name, graph in (("nulled", nulled), ("default", default)):
        client.workflows.create(name, graph)
        run = client.workflows.wait_for_run(client.workflows.run(name).run_id, poll_interval=1)
        assert run.status == "completed"
        frames = client.workflows.run_log(run.id, stream="frames").records
        runs.append([(f.image, f.annotation_count, f.min_confidence) for f in frames])
    assert runs[0] == runs[1]
    assert fake.server_errors == []


def test_runs_of_another_organization_or_a_deleted_workflow_are_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    run = client.workflows.run("Lot")
    with fake.add_organization().client(max_retries=0) as other:
        with pytest.raises(NotFoundError, match=f"Workflow run '{run.run_id}' not found"):
            other.workflows.get_run(run.run_id)
        with pytest.raises(NotFoundError):
            other.workflows.cancel_run(run.run_id)
        assert other.workflows.bulk_cancel_runs([run.run_id]).not_found == [run.run_id]
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert viewer.workflows.get_run(run.run_id).id == run.run_id
        with pytest.raises(ForbiddenError, match="cannot run workflows"):
            viewer.workflows.run("Lot")
        with pytest.raises(ForbiddenError, match="cannot cancel workflow runs"):
            viewer.workflows.cancel_run(run.run_id)
    client.workflows.delete("Lot")
    with pytest.raises(NotFoundError):
        client.workflows.get_run(run.run_id)
    fake.clock.advance(3600)
    assert not [e for e in fake.ledger if e.operation.startswith("workflow_")]


async def test_the_async_client_runs_workflows(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    await aclient.workflows.create("Lot", _counting_graph())
    created = await aclient.workflows.run("Lot")
    done = await aclient.workflows.wait_for_run(created.run_id, poll_interval=1)
    assert done.status == "completed"
    assert [r.id for r in await aclient.workflows.list_runs("Lot")] == [created.run_id]
    assert [r.id async for r in await aclient.workflows.iter_runs("Lot", page_size=1)] == [
        created.run_id
    ]
    page = await aclient.workflows.run_log(created.run_id, stream="frames", limit=5)
    assert len(page.records) == 5
    assert {(r.model_name, r.model_task, r.pts) for r in page.records} == {
        ("signs", "object_detection", None)
    }
    assert page.next_cursor is not None
    frames = [r async for r in aclient.workflows.iter_run_log(created.run_id, stream="frames")]
    assert len(frames) == 20
    summary = await aclient.workflows.run_log_summary(created.run_id)
    assert summary.streams["frames"].count == 20
    events = await aclient.workflows.run_log(created.run_id, limit=50)
    assert {e.kind for e in events.event_names.values()} == {"entry", "exit"}
    assert all(
        (r.values_text or "").startswith("Lot: ") and r.trigger in events.event_names
        for r in events.records
    )
    invoked = await aclient.workflows.invoke(
        "Lot", source={"kind": "dataset", "dataset": DATASET, "directory_path": "/"}
    )
    assert isinstance(invoked, WorkflowRunCreated)
    other = await aclient.workflows.run("Lot")
    await aclient.workflows.cancel_run(invoked.run_id)
    result = await aclient.workflows.bulk_cancel_runs([other.run_id, invoked.run_id])
    assert (result.succeeded, result.not_found) == ([other.run_id], [invoked.run_id])
    assert (await aclient.workflows.get_run(other.run_id)).status == "cancelled"


def test_an_invoke_source_without_its_kind_or_file_is_refused(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    made = client.workflows.create("Lot", detection_graph())
    with _raw(fake) as raw:
        kindless = raw.post(f"workflows/{made.id}/invoke", json={"source": {"dataset": DATASET}})
        fileless = raw.post(f"workflows/{made.id}/invoke", json={"source": {"kind": "image"}})
    assert kindless.status_code == 422
    assert kindless.json()["error"]["message"] == (
        "The source needs its kind: 'dataset', 'video' or 'image'."
    )
    assert fileless.status_code == 400
    assert fileless.json()["error"]["message"].startswith(
        "A source of kind 'image' needs its gcs_uri"
    )
    assert client.workflows.list_runs("Lot") == []


# ── the jobs feed ──


def test_runs_are_workflow_run_jobs_in_the_feed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "signs")  # a training job created at the same instant as the runs
    client.workflows.create("Lot", detection_graph("signs"))
    first = client.workflows.run("Lot")
    second = client.workflows.run("Lot")
    [active] = client.jobs.list(type="workflow_run", status="queued", max_total=1)
    assert (active.id, active.type, active.status) == (second.run_id, "workflow_run", "queued")
    assert active.name == "Lot"
    assert active.dataset_id == client.datasets.get(DATASET).id
    assert active.cancellable
    assert client.jobs.cancel(second.run_id).status == "cancelled"  # through the run's route
    done = client.jobs.wait(first.run_id, poll_interval=1)
    assert (done.status, done.progress) == ("completed", 100.0)
    assert done.detail["frames_done"] == done.detail["frames_total"] == 20
    cancelled = client.jobs.get(second.run_id)
    assert (cancelled.status, cancelled.cancellable) == ("cancelled", False)
    everything = list(client.jobs.list(status="all"))
    ids = [j.id for j in everything]
    assert ids[:2] == [second.run_id, first.run_id], "newest first, after the training run"
    assert [j.type for j in everything].count("training") == 1
    assert [j.id for j in client.jobs.list(status="cancelled", type="workflow_run")] == [
        second.run_id
    ]
    with fake.add_organization().client(max_retries=0) as other, pytest.raises(NotFoundError):
        other.jobs.get(first.run_id)


def test_a_deleted_workflows_runs_leave_the_feed_and_the_others_stay(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "signs")
    client.workflows.create("Lot A", detection_graph("signs"))
    client.workflows.create("Lot B", detection_graph("signs"))
    gone = [client.workflows.run("Lot A").run_id for _ in range(2)]
    kept = client.workflows.run("Lot B").run_id
    fake.clock.advance(3600)
    assert {j.id for j in client.jobs.list(status="all", type="workflow_run")} == {*gone, kept}
    client.workflows.delete("Lot A")
    assert [j.id for j in client.jobs.list(status="all", type="workflow_run")] == [kept]
    assert [j.id for j in client.jobs.list(status="completed", type="workflow_run")] == [kept]
    with pytest.raises(NotFoundError):
        client.jobs.get(gone[0])
    assert client.jobs.get(kept).status == "completed"


async def test_the_async_jobs_feed_shows_workflow_runs(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _lot(client)
    started = await aclient.workflows.run("Lot")
    job = await aclient.jobs.get(started.run_id)
    assert (job.type, job.status) == ("workflow_run", "queued")
    assert [j.id async for j in aclient.jobs.list(type="workflow_run")] == [started.run_id]


def _release(fake: FakePictograph, version: str) -> httpx.Client:
    """A client of an SDK release's wire (the installed SDK cannot send an older body)."""
    return httpx.Client(
        transport=fake.transport(),
        base_url=f"{fake.base_url}/api/v1/developer/",
        headers={"X-API-Key": fake.api_key, "User-Agent": f"pictograph-python/{version}"},
    )


@pytest.mark.usefixtures("no_real_waiting")
def test_sdk_1_69_113s_precision_is_the_model_blocks_and_a_runs_own(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    compute = {"gpu": "l4", "precision": "fp16"}
    with _release(fake, "1.69.113") as old:
        made = old.post(
            "workflows/",
            json={"name": "Lot", "graph": detection_graph("signs"), "compute": compute},
        )
        wrong = old.patch(
            f"workflows/{made.json()['workflow']['id']}", json={"compute": {"precision": "int8"}}
        )
        over = old.post(
            f"workflows/{made.json()['workflow']['id']}/run",
            json={"compute": {"precision": "fp32"}},
        )
        listed = old.get("workflows/")
    assert made.status_code == 200
    assert made.json()["workflow"]["compute"] == compute
    assert listed.json()["workflows"][0]["compute"] == compute
    assert wrong.status_code == 400
    # Where the precision is since 1.69.115: the Model block's, which today's SDK reads.
    lot = client.workflows.get("Lot")
    assert lot.graph["nodes"][1]["config"]["precision"] == "fp16"
    assert lot.compute.model_dump() == {"gpu": "l4"}
    at_fp16 = client.workflows.wait_for_run(client.workflows.run("Lot").run_id, poll_interval=1)
    at_fp32 = client.workflows.wait_for_run(over.json()["run_id"], poll_interval=1)
    assert at_fp16.compute.model_dump() == {"gpu": "l4", "precision": "fp16"}
    assert at_fp32.compute.model_dump() == {"gpu": "l4", "precision": "fp32"}
    with _release(fake, "1.69.115") as newer:
        refused = newer.post("workflows/", json={"name": "Gate", "compute": compute})
    assert refused.status_code == 422
    assert "compute.precision: Extra inputs are not permitted" in refused.json()["error"]["message"]


def _free_organization(fake: FakePictograph) -> Any:
    """A second organization, on the Free plan, with the dataset and export to train."""
    org = fake.add_organization(name="Small")
    org.subscription_tier = "free"
    org.add_dataset(DATASET, images=20, completed_images=20, classes=["stop_sign", "yield"])
    org.add_export(DATASET, EXPORT)
    return org


def test_a_free_plans_run_log_keeps_events_and_stats_but_no_frames(fake: FakePictograph) -> None:
    # The SDK's RunLogPage: "False on a plan that logs events and stats only (Free): the
    # frames stream is empty".
    with _free_organization(fake).client(max_retries=0) as client:
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
        client.workflows.create("Lot", _counting_graph())
        run = client.workflows.wait_for_run(client.workflows.run("Lot").run_id, poll_interval=1)
        frames = client.workflows.run_log(run.id, stream="frames", limit=5)
        events = client.workflows.run_log(run.id, limit=50)
        summary = client.workflows.run_log_summary(run.id)

    assert run.status == "completed"
    assert frames.records == []
    assert frames.next_cursor is None
    assert frames.log_frames is False
    assert events.log_frames is False
    assert events.records  # the lot's entries and exits are still logged
    assert summary.log_frames is False
    assert summary.streams["frames"].count == 0
    assert summary.streams["frames"].first_ts is None
    assert summary.streams["events"].count == len(events.records)
    assert summary.streams["stats"].count == 2  # one per ten frames, as on a paid plan


async def test_async_a_free_plans_run_log_has_no_frames(fake: FakePictograph) -> None:
    async with _free_organization(fake).async_client(max_retries=0) as aclient:
        await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
        await aclient.workflows.create("Lot", _counting_graph())
        created = await aclient.workflows.run("Lot")
        await aclient.workflows.wait_for_run(created.run_id, poll_interval=1)
        frames = [r async for r in aclient.workflows.iter_run_log(created.run_id, stream="frames")]
        summary = await aclient.workflows.run_log_summary(created.run_id)

    assert frames == []
    assert summary.log_frames is False
    assert summary.streams["frames"].count == 0
    assert summary.streams["stats"].count == 2


def test_sdk_1_69_113s_precision_beside_a_graph_without_its_nodes_list(
    fake: FakePictograph,
) -> None:
    # The precision goes on each Model block; a graph with no list of blocks has none to
    # take it, and is saved (or refused) as it would be without the precision.
    compute = {"gpu": "t4", "precision": "fp16"}
    with _release(fake, "1.69.113") as old:
        blank = old.post("workflows/", json={"name": "Blank", "graph": {}, "compute": compute})
        broken = old.post(
            "workflows/", json={"name": "Broken", "graph": {"nodes": "src"}, "compute": compute}
        )
    assert blank.status_code == 200
    assert blank.json()["workflow"]["graph"] == {"nodes": [], "edges": []}
    assert broken.status_code == 422
    assert "at graph.nodes: nodes must be a list" in broken.json()["error"]["message"]
    assert fake.server_errors == []


def test_the_templates_hold_what_each_use_case_starts_from(client: pictograph.Client) -> None:
    found = {t.key: t.graph for t in client.workflows.templates()}
    assert list(found) == ["dataset_detection", "confident_classes", "line_counter", "custom"]
    assert found["custom"] == {"version": 1, "nodes": [], "edges": []}

    def config(key: str, block: str) -> Any:
        return next(n["config"] for n in found[key]["nodes"] if n["id"] == block)

    assert config("confident_classes", "filter") == {"classes": [], "min_confidence": 0.5}
    assert config("line_counter", "source") == {"kind": "video", "sample_fps": 5}
    assert config("line_counter", "measure") == {
        "geometries": [{"kind": "line", "name": "Gate"}, {"kind": "zone", "name": "Lot"}]
    }
