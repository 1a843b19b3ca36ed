"""The blocks a workflow graph can hold, the templates it starts from, and the validator.

Declared once here: ``workflows.nodes()`` lists :data:`NODES`, ``workflows.templates()``
lists :data:`TEMPLATES`, and :func:`graph_issues` holds a graph to both (``validate``,
and the ``validation`` of every workflow the API answers).

A graph is ``{"version": 1, "nodes": [{"id", "type", "config"}], "edges": [{"source",
"target"}]}``: each edge carries the output of its ``source`` block into its ``target``
block. A block takes one of the ports its card names in ``inputs`` and emits its
``output`` port (a sink emits none). The shape is checked first (:func:`graph_shape`: a
malformed graph is a 422 that says which part to fix); what a run of a well-formed graph
would be refused for is a list of issues, each on its block.

What the fake's blocks do when a run executes them is documented on each card's
``summary`` and in ``docs/workflows.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from pictograph_testing.wording import article
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "GRAPH_NOTES",
    "IMAGE_UNDER_TRACKING",
    "MEASURED",
    "NODES",
    "PORTS",
    "SAMPLE_FPS",
    "TEMPLATES",
    "TEMPLATE_KEYS",
    "UNIT",
    "VIDEO_SECONDS",
    "Issue",
    "NodeField",
    "NodeType",
    "Template",
    "at_precision",
    "chain_graph",
    "empty_graph",
    "graph_issues",
    "graph_shape",
    "node_type",
    "run_precision",
    "template",
    "topological",
    "tracks_an_image",
]

MEASURED = {"line": "line_cross", "zone": "occupancy"}
"""What the Measure block counts on each kind of geometry (the API's measure names)."""
PORTS = ("frames", "detections", "tracks", "events")
"""What flows along an edge: a source's frames, a model's detections, a tracker's tracks,
a measure's events."""

IMAGE_UNDER_TRACKING = (
    "An image is one frame, and a Track block follows objects from frame to frame: run "
    "this workflow over a video or a dataset, or take its Track block out."
)
"""Why a run over one image is refused when its graph tracks (the SDK's `invoke` names
this 400), and why a saved graph that reads an image and tracks is not valid."""


def tracks_an_image(source: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a run reading ``source`` (a Source block's config, or an invoke's source)
    through ``nodes`` would track one image (:data:`IMAGE_UNDER_TRACKING`)."""
    return source.get("kind") == "image" and any(n["type"] == "track" for n in nodes)


GRAPH_NOTES = (
    'A graph is {"version": 1, "nodes": [...], "edges": [...]}.',
    'A node is {"id": "<unique>", "type": "<block type>", "config": {...}}.',
    'An edge is {"source": "<node id>", "target": "<node id>"}: the source block\'s output '
    "feeds the target block.",
    "A block takes one of the ports its card lists in inputs; a sink (output None) feeds nothing.",
    "The graph flows one way: no cycles.",
)


@dataclass(frozen=True)
class NodeField:
    """One setting of a block's config (``WorkflowNodeField``)."""

    key: str
    type: str
    required: bool | str = False
    default: Any = None
    values: tuple[Any, ...] | None = None
    note: str = ""
    fields: tuple[NodeField, ...] | None = None
    bounds: tuple[float, float] | None = None
    """The least and the most a number may be (both allowed); ``None``: any."""

    def card(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "values": list(self.values) if self.values is not None else None,
            "note": self.note,
            "fields": [f.card() for f in self.fields] if self.fields is not None else None,
        }


@dataclass(frozen=True)
class NodeType:
    """One block type (``WorkflowNodeCard``) and what a run of it costs on the clock."""

    type: str
    label: str
    summary: str
    inputs: tuple[str, ...]
    output: str | None
    new_block: Mapping[str, Any]
    fields: tuple[NodeField, ...]
    rules: tuple[str, ...]
    seconds_per_frame: float
    """Virtual seconds the block takes over one frame on a T4 (an L4 takes
    ``WorkflowGpu.speed`` of that)."""

    def setting(self, config: Mapping[str, Any], key: str) -> Any:
        """The block's ``key`` setting: as ``config`` sets it, else (absent or null) the
        field's declared default."""
        value = config.get(key)
        if value is None:
            return next(f.default for f in self.fields if f.key == key)
        return value

    def card(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "summary": self.summary,
            "inputs": list(self.inputs),
            "output": self.output,
            "new_block": dict(self.new_block),
            "fields": [f.card() for f in self.fields],
            "rules": list(self.rules),
        }


_NUMBER_TYPES = {"number": (int, float), "integer": (int,), "string": (str,), "array": (list,)}

UNIT = (0.0, 1.0)
"""A confidence's range."""
SAMPLE_FPS = (0.1, 60.0)
"""Frames a second a run may read from a video (a Source's, or an invoke source's)."""
VIDEO_SECONDS = (0.1, 3600.0)
"""How long a video a run reads may be said to last, in seconds."""

NODES: tuple[NodeType, ...] = (
    NodeType(
        "source",
        "Source",
        "Where the frames come from: each image of a dataset (or one directory of it), an "
        "uploaded image, or an uploaded video's frames. A run's invoke source replaces it.",
        (),
        "frames",
        {"kind": "dataset", "dataset": ""},
        (
            NodeField(
                "kind",
                "string",
                True,
                None,
                ("image", "video", "dataset"),
                "What the run reads.",
            ),
            NodeField(
                "dataset",
                "string",
                "when kind is dataset",
                None,
                None,
                "A dataset of your organization, by name or id.",
            ),
            NodeField(
                "directory_path",
                "string",
                False,
                None,
                None,
                "One directory of the dataset (its subdirectories included); none: all of it.",
            ),
            NodeField(
                "sample_fps",
                "number",
                False,
                1,
                None,
                "Frames a second read from a video, 0.1 to 60.",
                bounds=SAMPLE_FPS,
            ),
            NodeField(
                "duration_seconds",
                "number",
                False,
                10,
                None,
                "How long a linked video lasts, 0.1 to 3,600 seconds.",
                bounds=VIDEO_SECONDS,
            ),
        ),
        ("A workflow has exactly one Source.",),
        0.02,
    ),
    NodeType(
        "model",
        "Model",
        "Runs a ready model of your organization over each frame: the detections (or tags) "
        "its current version predicts for that image, as models.predict would, at or above "
        "the block's confidence.",
        ("frames",),
        "detections",
        {"model": "", "precision": "fp32", "confidence": 0.25},
        (
            NodeField("model", "string", True, None, None, "A ready model, by name or id."),
            NodeField(
                "precision",
                "string",
                False,
                "fp32",
                ("fp32", "fp16"),
                "fp16 runs at half precision: faster, accuracy-equivalent.",
            ),
            NodeField(
                "confidence",
                "number",
                False,
                0.25,
                None,
                "The lowest score kept, 0 to 1.",
                bounds=UNIT,
            ),
        ),
        ("It needs frames: a Source upstream.", "Its model must be ready."),
        0.05,
    ),
    NodeType(
        "filter",
        "Filter",
        "Keeps the detections of the classes it names (none named: every class) at or above "
        "its min_confidence; passes the rest of the frame through unchanged.",
        ("detections",),
        "detections",
        {"classes": [], "min_confidence": 0.0},
        (
            NodeField("classes", "array", False, None, None, "Class names kept; none: all."),
            NodeField(
                "min_confidence", "number", False, 0.0, None, "The lowest score kept.", bounds=UNIT
            ),
        ),
        ("It needs detections: a Model upstream.",),
        0.001,
    ),
    NodeType(
        "track",
        "Track",
        "Gives each detection a track id. Frames of the fake do not move, so each "
        "detection is its own track: '<class>-<n>', numbered per class in the frame.",
        ("detections",),
        "tracks",
        {"max_age": 30},
        (NodeField("max_age", "integer", False, 30, None, "Frames a lost track is kept."),),
        ("It needs detections: a Model or Filter upstream.",),
        0.002,
    ),
    NodeType(
        "measure",
        "Measure",
        "Counts per line and zone: a zone's occupancy is the tracks in the frame; a line "
        "counts crossings, and the fake's tracks never move, so a line counts none. A "
        "frame where a zone's occupancy rises logs an entry event, one where it falls an "
        "exit.",
        ("tracks",),
        "events",
        {"geometries": []},
        (
            NodeField(
                "geometries",
                "array",
                True,
                None,
                None,
                "The lines and zones counted.",
                (
                    NodeField("kind", "string", True, None, ("line", "zone")),
                    NodeField("name", "string", True, None, None, "How the log names it."),
                ),
            ),
        ),
        ("It needs a Track block upstream.", "It needs at least one line or zone."),
        0.001,
    ),
    NodeType(
        "output",
        "Output",
        "Writes what reaches it into the run's results file (results.json, one entry per "
        "frame), an artifact of the run.",
        ("detections", "tracks", "events"),
        None,
        {"format": "json"},
        (NodeField("format", "string", False, "json", ("json",), "The results file's format."),),
        ("It needs something to write: a Model, Filter, Track or Measure upstream.",),
        0.001,
    ),
)
"""Every block type, in the editor's order."""

_BY_TYPE = {node.type: node for node in NODES}

_MISSING_CODES = {"model": "model_missing", "geometries": "measure_no_geometry"}
"""The API's own codes for a setting a run needs that is not set (the SDK's tests and
error table name these two); any other is ``config_missing``."""


@dataclass(frozen=True)
class Template:
    """A use case a workflow starts from (``WorkflowTemplate``)."""

    key: str
    title: str
    description: str
    graph: Mapping[str, Any]

    def card(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "graph": _copy(self.graph),
        }


def empty_graph() -> dict[str, Any]:
    """A blank canvas: what a workflow made with neither a graph nor a template holds."""
    return {"version": 1, "nodes": [], "edges": []}


def chain_graph(*nodes: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A graph of ``nodes`` (id, type, config), each feeding the next."""
    return {
        "version": 1,
        "nodes": [{"id": i, "type": t, "config": c} for i, t, c in nodes],
        "edges": [{"source": a[0], "target": b[0]} for a, b in pairwise(nodes)],
    }


TEMPLATES: tuple[Template, ...] = (
    Template(
        "dataset_detection",
        "Detect objects in a dataset",
        "Run a model over every image of a dataset and write its detections to a file.",
        chain_graph(
            ("source", "source", {"kind": "dataset", "dataset": ""}),
            ("model", "model", {"model": "", "precision": "fp32", "confidence": 0.25}),
            ("output", "output", {"format": "json"}),
        ),
    ),
    Template(
        "confident_classes",
        "Keep confident detections",
        "Run a model over a dataset, keep the confident detections of chosen classes.",
        chain_graph(
            ("source", "source", {"kind": "dataset", "dataset": ""}),
            ("model", "model", {"model": "", "precision": "fp32", "confidence": 0.25}),
            ("filter", "filter", {"classes": [], "min_confidence": 0.5}),
            ("output", "output", {"format": "json"}),
        ),
    ),
    Template(
        "line_counter",
        "Count crossings and occupancy",
        "Track what a model detects in a video and count it per line and zone.",
        chain_graph(
            ("source", "source", {"kind": "video", "sample_fps": 5}),
            ("model", "model", {"model": "", "precision": "fp32", "confidence": 0.25}),
            ("track", "track", {"max_age": 30}),
            (
                "measure",
                "measure",
                {
                    "geometries": [
                        {"kind": "line", "name": "Gate"},
                        {"kind": "zone", "name": "Lot"},
                    ]
                },
            ),
            ("output", "output", {"format": "json"}),
        ),
    ),
    Template("custom", "Custom", "A blank canvas.", empty_graph()),
)
"""The use cases of "New workflow", in the app's order."""

TEMPLATE_KEYS = tuple(t.key for t in TEMPLATES)


def template(key: str) -> Template:
    """The template of that key, or 400 naming the keys there are."""
    for found in TEMPLATES:
        if found.key == key:
            return found
    raise InvalidRequest(
        f"Unknown template_key '{key}': choose one of {', '.join(TEMPLATE_KEYS)} "
        "(client.workflows.templates() lists them).",
        status=400,
        errors=[field_error(("body", "template_key"), "unknown template", "value_error")],
    )


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# ── the shape: a 422 ──


def _malformed(loc: tuple[str | int, ...], message: str) -> InvalidRequest:
    where = ".".join(str(part) for part in loc)
    return InvalidRequest(
        f"The graph is malformed at {where}: {message}",
        errors=[field_error(("body", *loc), message, "value_error")],
    )


def graph_shape(graph: Any, loc: tuple[str | int, ...] = ("graph",)) -> dict[str, Any]:
    """``graph`` as a well-formed graph (a copy, lists defaulted), or 422 naming the part
    that is malformed: not an object, nodes or edges not lists, a node without a string
    ``id`` and ``type``, two nodes of one id, an edge that names no node of the graph."""
    if not isinstance(graph, dict):
        raise _malformed(loc, 'a graph is an object: {"version": 1, "nodes": [], "edges": []}')
    shaped: dict[str, Any] = _copy(graph)
    ids: set[str] = set()
    for part in ("nodes", "edges"):
        if not isinstance(shaped.setdefault(part, []), list):
            raise _malformed((*loc, part), f"{part} must be a list")
    for i, node in enumerate(shaped["nodes"]):
        if not isinstance(node, dict):
            raise _malformed((*loc, "nodes", i), 'a node is {"id": ..., "type": ..., "config": {}}')
        for key in ("id", "type"):
            if not isinstance(node.get(key), str) or not node[key].strip():
                raise _malformed((*loc, "nodes", i, key), f"each node needs a non-empty {key}")
        if not isinstance(node.setdefault("config", {}), dict):
            raise _malformed((*loc, "nodes", i, "config"), "a node's config is an object")
        if node["id"] in ids:
            raise _malformed((*loc, "nodes", i, "id"), f"two nodes have the id '{node['id']}'")
        ids.add(node["id"])
    for i, edge in enumerate(shaped["edges"]):
        if not isinstance(edge, dict):
            raise _malformed((*loc, "edges", i), 'an edge is {"source": ..., "target": ...}')
        for key in ("source", "target"):
            named = edge.get(key)
            if not isinstance(named, str) or named not in ids:
                raise _malformed(
                    (*loc, "edges", i, key),
                    f"{key} {_quoted(edge.get(key))} is not the id of a node of the graph",
                )
    return shaped


def _quoted(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


# ── what a run would refuse: issues ──


@dataclass(frozen=True)
class Issue:
    """One thing a run of a graph would refuse (``error``) or wants known (``warning``)."""

    code: str
    message: str
    node_id: str | None = None
    severity: str = "error"

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "node_id": self.node_id,
            "severity": self.severity,
        }


@dataclass
class _Graph:
    nodes: dict[str, dict[str, Any]]
    feeds: dict[str, list[str]] = field(default_factory=dict)
    """Node id -> the ids of the nodes its output feeds."""
    fed_by: dict[str, list[str]] = field(default_factory=dict)


def _name(node: dict[str, Any]) -> str:
    return f"Block '{node['id']}' ({node['type']})"


def graph_issues(
    graph: dict[str, Any],
    lookup: Callable[[str, str], Issue | None],
) -> list[Issue]:
    """Every issue of a well-formed graph (see :func:`graph_shape`): errors first, then
    warnings, each in the graph's order. ``lookup(kind, ref)`` checks a model or a
    dataset a block names in the organization (``kind`` is ``model`` or ``dataset``): an
    issue without a node, or None when it is there and usable."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    shape = _Graph(nodes, {i: [] for i in nodes}, {i: [] for i in nodes})
    for edge in graph["edges"]:
        shape.feeds[edge["source"]].append(edge["target"])
        shape.fed_by[edge["target"]].append(edge["source"])
    issues: list[Issue] = []
    sources = [n for n in nodes.values() if n["type"] == "source"]
    if not sources:
        issues.append(
            Issue(
                "no_source",
                "The graph has no Source block: add one (type 'source') for the run to read.",
            )
        )
    for extra in sources[1:]:
        issues.append(
            Issue(
                "multiple_sources",
                f"{_name(extra)} is a second Source: a workflow reads from exactly one.",
                extra["id"],
            )
        )
    issues.extend(
        Issue("image_under_tracking", IMAGE_UNDER_TRACKING, source["id"])
        for source in sources
        if tracks_an_image(source["config"], nodes.values())
    )
    for node in nodes.values():
        card = _BY_TYPE.get(node["type"])
        if card is None:
            issues.append(
                Issue(
                    "unknown_node_type",
                    f"Block '{node['id']}' has type '{node['type']}', which is no block type: "
                    f"use one of {', '.join(_BY_TYPE)} (client.workflows.nodes() lists them).",
                    node["id"],
                )
            )
            continue
        issues.extend(_edge_issues(shape, node, card))
        issues.extend(_config_issues(node, card, lookup))
    issues.extend(_cycle_issues(shape))
    if not any(n["type"] == "output" for n in nodes.values()) and nodes:
        issues.append(
            Issue(
                "no_output",
                "No Output block: a run's results are only in its log. Add an Output block "
                "for a results file.",
                severity="warning",
            )
        )
    return [i for i in issues if i.severity == "error"] + [
        i for i in issues if i.severity != "error"
    ]


def _edge_issues(shape: _Graph, node: dict[str, Any], card: NodeType) -> list[Issue]:
    issues: list[Issue] = []
    if card.inputs and not shape.fed_by[node["id"]]:
        issues.append(
            Issue(
                "missing_input",
                f"{_name(node)} takes {' or '.join(card.inputs)} but nothing feeds it: connect "
                f"a block that emits {' or '.join(card.inputs)} to it.",
                node["id"],
            )
        )
    for source_id in shape.fed_by[node["id"]]:
        source = shape.nodes[source_id]
        emitted = _BY_TYPE[source["type"]].output if source["type"] in _BY_TYPE else None
        if source["type"] not in _BY_TYPE:
            continue  # reported as an unknown type already
        if emitted is None:
            issues.append(
                Issue(
                    "sink_feeds",
                    f"{_name(source)} emits nothing, so it cannot feed {_name(node)}: "
                    "remove that connection.",
                    node["id"],
                )
            )
        elif emitted not in card.inputs:
            issues.append(
                Issue(
                    "port_mismatch",
                    f"{_name(node)} takes {' or '.join(card.inputs) or 'nothing'}, but "
                    f"{_name(source)} emits {emitted}: connect it to a block that takes "
                    f"{emitted}.",
                    node["id"],
                )
            )
    return issues


def _config_issues(
    node: dict[str, Any], card: NodeType, lookup: Callable[[str, str], Issue | None]
) -> list[Issue]:
    config = node["config"]
    issues: list[Issue] = []
    for setting in card.fields:
        value = config.get(setting.key)
        needed = setting.required is True or (
            setting.required == "when kind is dataset" and config.get("kind") == "dataset"
        )
        # Blank text is a text setting left unset; for a number it is the wrong type.
        if value is None or (value == "" and setting.type == "string") or value == []:
            if needed:
                code = _MISSING_CODES.get(setting.key, "config_missing")
                issues.append(
                    Issue(
                        code,
                        f"{_name(node)} needs its {setting.key}: set config.{setting.key} "
                        f"({setting.note or setting.type}).",
                        node["id"],
                    )
                )
            continue
        if _mistyped(setting, value):
            issues.append(
                Issue(
                    "invalid_config",
                    f"{_name(node)}: config.{setting.key} must be {article(setting.type)} "
                    f"{setting.type}, not {_quoted(value)}.",
                    node["id"],
                )
            )
            continue
        if setting.values is not None and value not in setting.values:
            issues.append(
                Issue(
                    "invalid_config",
                    f"{_name(node)}: config.{setting.key} {_quoted(value)} is not one of "
                    f"{', '.join(map(str, setting.values))}.",
                    node["id"],
                )
            )
            continue
        if setting.bounds is not None and not setting.bounds[0] <= value <= setting.bounds[1]:
            low, high = (f"{b:g}" for b in setting.bounds)
            issues.append(
                Issue(
                    "invalid_config",
                    f"{_name(node)}: config.{setting.key} {value} is outside {low} to {high}.",
                    node["id"],
                )
            )
        elif setting.key in ("model", "dataset"):
            found = lookup(setting.key, value)
            if found is not None:
                issues.append(Issue(found.code, f"{_name(node)}: {found.message}", node["id"]))
        elif setting.fields is not None:
            issues.extend(_item_issues(node, setting, value))
    return issues


def _mistyped(setting: NodeField, value: Any) -> bool:
    """Whether ``value`` is not of the setting's type (a boolean is no number or text)."""
    kinds = _NUMBER_TYPES.get(setting.type, ())
    return isinstance(value, bool) or bool(kinds and not isinstance(value, kinds))


def _item_issues(node: dict[str, Any], setting: NodeField, items: list[Any]) -> list[Issue]:
    assert setting.fields is not None
    for index, item in enumerate(items):
        where = f"config.{setting.key}[{index}]"
        if not isinstance(item, dict):
            return [Issue("invalid_config", _not_an_object(node, where, item), node["id"])]
        for inner in setting.fields:
            value = item.get(inner.key)
            if value is None and inner.required is True:
                return [
                    Issue(
                        "config_missing",
                        f"{_name(node)}: {where} needs its {inner.key}.",
                        node["id"],
                    )
                ]
            if value is not None and _mistyped(inner, value):
                return [
                    Issue(
                        "invalid_config",
                        f"{_name(node)}: {where}.{inner.key} must be {article(inner.type)} "
                        f"{inner.type}, not {_quoted(value)}.",
                        node["id"],
                    )
                ]
            if inner.values is not None and value is not None and value not in inner.values:
                return [
                    Issue(
                        "invalid_config",
                        f"{_name(node)}: {where}.{inner.key} {_quoted(value)} is not one of "
                        f"{', '.join(map(str, inner.values))}.",
                        node["id"],
                    )
                ]
    return []


def _cycle_issues(shape: _Graph) -> list[Issue]:
    """One issue per cycle found by a depth-first walk, naming its blocks in order."""
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    path: list[str] = []
    issues: list[Issue] = []

    def walk(node_id: str) -> None:
        state[node_id] = 1
        path.append(node_id)
        for target in shape.feeds[node_id]:
            if state.get(target) == 1:
                loop = [*path[path.index(target) :], target]
                issues.append(
                    Issue(
                        "cycle",
                        f"Blocks {' -> '.join(loop)} form a cycle: a graph flows one way; "
                        "remove one of these connections.",
                        target,
                    )
                )
            elif target not in state:
                walk(target)
        path.pop()
        state[node_id] = 2

    for node_id in shape.nodes:
        if node_id not in state:
            walk(node_id)
    return issues


def topological(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The graph's blocks in an order where each comes after every block feeding it (the
    graph has no cycle: a run validated it)."""
    fed_by: dict[str, int] = {n["id"]: 0 for n in graph["nodes"]}
    feeds: dict[str, list[str]] = {n["id"]: [] for n in graph["nodes"]}
    for edge in graph["edges"]:
        fed_by[edge["target"]] += 1
        feeds[edge["source"]].append(edge["target"])
    by_id = {n["id"]: n for n in graph["nodes"]}
    ready = [i for i, count in fed_by.items() if count == 0]
    order: list[dict[str, Any]] = []
    while ready:
        current = ready.pop(0)
        order.append(by_id[current])
        for target in feeds[current]:
            fed_by[target] -= 1
            if fed_by[target] == 0:
                ready.append(target)
    return order


def node_type(name: str) -> NodeType:
    return _BY_TYPE[name]


def at_precision(graph: Any, precision: str) -> Any:
    """``graph`` with every Model block run at ``precision`` (a copy; SDK 1.69.113 and
    1.69.114 sent a workflow's or a run's precision, each Model block's own since).
    Anything but a graph is returned as it is, for the graph's own checks to refuse."""
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        return graph
    nodes = [
        {**node, "config": {**(node.get("config") or {}), "precision": precision}}
        if isinstance(node, dict)
        and node.get("type") == "model"
        and isinstance(node.get("config") or {}, dict)
        else node
        for node in graph["nodes"]
    ]
    return {**graph, "nodes": nodes}


def run_precision(nodes: Iterable[dict[str, Any]]) -> str:
    """The precision a run of these blocks reports: fp16 once a Model block runs at it."""
    fp16 = any(
        n.get("type") == "model" and (n.get("config") or {}).get("precision") == "fp16"
        for n in nodes
    )
    return "fp16" if fp16 else "fp32"


def _not_an_object(node: dict[str, Any], where: str, item: Any) -> str:
    return f"{_name(node)}: {where} must be an object, not {_quoted(item)}."
