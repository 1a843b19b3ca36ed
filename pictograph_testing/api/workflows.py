"""``/api/v1/developer/workflows``: saved node graphs, their catalogue and their checks.

The SDK addresses a workflow by id (it resolves a name by listing ``GET /workflows/``);
the replies carry it under ``workflow`` (a list under ``workflows``), each with the
``validation`` its graph has in the organization now. The blocks and templates are
declared once in :mod:`pictograph_testing.world.workflow_nodes`, the GPUs and their
prices in :mod:`pictograph_testing.catalog`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    WORKFLOW_ENDPOINT_ON_CREATE,
    WORKFLOW_PRECISION,
    WORKFLOW_PREDICT_URL,
    Wire,
)
from pictograph_testing.api.gateway import endpoint_url
from pictograph_testing.api.log_pages import LogSource, log_page, log_summary
from pictograph_testing.api.spec import ID_LIST, NAME, Bool, Field, Int, Json, Num, Obj, Param, Str
from pictograph_testing.api.table import Bare, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import (
    DEFAULT_WORKFLOW_GPU,
    DEPLOYMENT_MAX_CONTAINERS,
    DEPLOYMENT_MAX_MIN_CONTAINERS,
    DEPLOYMENT_SCALEDOWN_SECONDS,
    DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
    WORKFLOW_GPUS,
    WORKFLOW_LIVE_COLORS,
    WORKFLOW_PRECISIONS,
)
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error
from pictograph_testing.world.predictions import prediction_kind
from pictograph_testing.world.storage import SIGNED_URL_TTL_SECONDS
from pictograph_testing.world.stream_hosts import WorkflowHost
from pictograph_testing.world.workflow_endpoints import (
    ENDPOINT_REGIONS,
    LOG_SECONDS,
    served_graph,
)
from pictograph_testing.world.workflow_nodes import (
    GRAPH_NOTES,
    MEASURED,
    NODES,
    PORTS,
    SAMPLE_FPS,
    TEMPLATES,
    VIDEO_SECONDS,
    at_precision,
    graph_shape,
    run_precision,
    template,
)
from pictograph_testing.world.workflow_runs import first_of_each_trigger
from pictograph_testing.world.workflows import WORKFLOW_STATUSES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pictograph_testing.world.streams import Stream, Streams
    from pictograph_testing.world.workflow_endpoints import Endpoint
    from pictograph_testing.world.workflow_runs import Frame as WorkflowFrame
    from pictograph_testing.world.workflow_runs import Run as WorkflowRunState
    from pictograph_testing.world.workflows import Workflow

__all__ = ["log_sources", "run_payload", "run_summary", "workflow_payload"]

_GRAPH_DOC: dict[str, Any] = {
    "type": "object",
    "description": " ".join(GRAPH_NOTES),
    "properties": {
        "version": {"type": "integer"},
        "nodes": {"type": "array", "items": {"type": "object"}},
        "edges": {"type": "array", "items": {"type": "object"}},
    },
}
_GRAPH = Json(doc=_GRAPH_DOC)
_COMPUTE = Obj({"gpu": Field(Str(enum=tuple(WORKFLOW_GPUS), status=400), nullable=False)})
_PRECISIONS = tuple(p for p, _, _ in WORKFLOW_PRECISIONS)
"""A Model block's precisions, the default first."""
# SDK 1.69.113 and 1.69.114 sent a precision beside the GPU, the workflow's or the run's; it
# is each Model block's since (WORKFLOW_PRECISION).
_COMPUTE_WITH_PRECISION = Obj(
    {
        **_COMPUTE.fields,
        "precision": Field(Str(enum=_PRECISIONS, status=400), nullable=False),
    }
)
_README = Str(max_length=20_000)
_STATUS = Str(enum=WORKFLOW_STATUSES)
_MIN = Field(Int(minimum=0, maximum=DEPLOYMENT_MAX_MIN_CONTAINERS))
_MAX = Field(Int(minimum=1, maximum=DEPLOYMENT_MAX_CONTAINERS))
_SCALEDOWN = Field(
    Int(minimum=DEPLOYMENT_SCALEDOWN_SECONDS[0], maximum=DEPLOYMENT_SCALEDOWN_SECONDS[1])
)
DEPLOY = Obj(
    {
        "region": Field(Str(enum=ENDPOINT_REGIONS)),
        "min_containers": _MIN,
        "max_containers": _MAX,
        "scaledown_window": _SCALEDOWN,
    }
)
CREATE = Obj(
    {
        "name": Field(NAME, required=True),
        "graph": Field(_GRAPH),
        "readme": Field(_README),
        "description": Field(Str(max_length=2_000)),
        "template_key": Field(Str(min_length=1)),
        "compute": Field(_COMPUTE),
    }
)
UPDATE = Obj(
    {
        "name": Field(NAME, nullable=False),
        "readme": Field(_README),
        "description": Field(Str(max_length=2_000)),
        "graph": Field(_GRAPH, nullable=False),
        "status": Field(_STATUS, nullable=False),
        "compute": Field(_COMPUTE, nullable=False),
    },
    at_least_one="key",
)
_MANAGE: dict[str, Any] = {"role": "member", "errors": (403,)}


def _with_precision(payload: dict[str, Any]) -> dict[str, Any]:
    """A reply's workflows with their compute's ``precision``, as 1.69.113 and 1.69.114 read it."""
    found = [payload["workflow"]] if "workflow" in payload else payload.get("workflows", [])
    for workflow in found:
        workflow["compute"] = {
            **workflow["compute"],
            "precision": run_precision(workflow["graph"]["nodes"]),
        }
    return payload


# The workflow routes 1.69.113 and 1.69.114 read a workflow's compute from: its precision too.
_PRECISION_READ = Wire(
    WORKFLOW_PRECISION, rewrite=_with_precision, note="reads a workflow's `compute.precision`"
)


def _with_predict_urls(payload: dict[str, Any]) -> dict[str, Any]:
    """A reply's workflow endpoints at the ``/predict`` URL 1.69.142 and 1.69.143 read
    (their streams open on the ``/sessions`` beside it)."""
    found = [payload["workflow"]] if "workflow" in payload else payload.get("workflows", [])
    for workflow in found:
        served = workflow.get("endpoint")
        if served is not None and served["endpoint_url"].endswith(_SESSIONS):
            served["endpoint_url"] = served["endpoint_url"][: -len(_SESSIONS)] + "/predict"
    return payload


_SESSIONS = "/sessions"
# The workflow routes 1.69.142 and 1.69.143 read an endpoint's URL from.
_PREDICT_URL_READ = Wire(
    WORKFLOW_PREDICT_URL,
    rewrite=_with_predict_urls,
    note="reads a workflow endpoint's `endpoint_url` ending in `/predict`",
)


# On create, 1.69.142 has a wire of its own (WORKFLOW_ENDPOINT_ON_CREATE, which reads the
# /predict URL too): the /predict URL alone is the releases after it.
assert WORKFLOW_ENDPOINT_ON_CREATE.until is not None
_PREDICT_URL_AFTER_CREATE_DEPLOYED = replace(
    WORKFLOW_PREDICT_URL, since=WORKFLOW_ENDPOINT_ON_CREATE.until
)


def _precision_sent(compute: Field) -> Wire:
    """The wire of a route 1.69.113 and 1.69.114 send a workflow's precision to (create,
    update): ``compute`` as the route declares it, with the precision."""
    return Wire(
        WORKFLOW_PRECISION,
        extra_fields={"compute": replace(compute, spec=_COMPUTE_WITH_PRECISION)},
        rewrite=_with_precision,
        note="sends and reads a workflow's `compute.precision` (each Model block's since)",
    )


_RUN_PRECISION = Wire(
    WORKFLOW_PRECISION,
    extra_fields={"compute": Field(_COMPUTE_WITH_PRECISION)},
    note="sends the run's `compute.precision` over its Model blocks'",
)


@endpoint(
    "GET",
    "workflows/compute-options",
    summary="The GPUs a workflow runs on, their prices, and a Model block's precisions",
    sdk=("workflows.compute_options",),
    reply=Bare("WorkflowComputeOptions"),
)
def compute_options(call: Call) -> Reply:
    return reply(
        {
            "success": True,
            "gpus": [
                {
                    "gpu": g.gpu,
                    "label": g.label,
                    "vram_gb": g.vram_gb,
                    "description": f"{g.vram_gb} GB VRAM",
                    "rate_per_min_micro_usd": g.micro_usd_per_minute,
                }
                for g in WORKFLOW_GPUS.values()
            ],
            "precisions": [
                {"precision": p, "label": label, "description": text}
                for p, label, text in WORKFLOW_PRECISIONS
            ],
            "default": {"gpu": DEFAULT_WORKFLOW_GPU, "precision": WORKFLOW_PRECISIONS[0][0]},
        }
    )


@endpoint(
    "GET",
    "workflows/nodes",
    summary="Every block a workflow graph can hold: ports, settings and rules",
    sdk=("workflows.nodes",),
    reply=Bare("WorkflowNodeCatalog"),
)
def nodes(call: Call) -> Reply:
    return reply(
        {
            "graph": {"ports": list(PORTS), "notes": list(GRAPH_NOTES)},
            "nodes": [node.card() for node in NODES],
        }
    )


@endpoint(
    "GET",
    "workflows/templates",
    summary="The use cases a workflow starts from, each with its graph",
    sdk=("workflows.templates",),
    reply=Bare("WorkflowTemplateList"),
)
def templates(call: Call) -> Reply:
    return reply({"templates": [t.card() for t in TEMPLATES]})


@endpoint(
    "POST",
    "workflows/validate",
    summary="Whether a run of a graph would start: every issue, each on its block",
    sdk=("workflows.validate",),
    reply=Bare("WorkflowValidation"),
    body=Obj({"graph": Field(_GRAPH, required=True)}),
)
def validate(call: Call) -> Reply:
    graph = graph_shape(call.fields()["graph"])
    issues = call.world.workflows.issues(call.key.organization_id, graph)
    return reply(
        {
            "valid": not any(i.severity == "error" for i in issues),
            "issues": [i.payload() for i in issues],
        }
    )


@endpoint(
    "GET",
    "workflows/",
    summary="Every workflow of the organization, newest first",
    sdk=("workflows.list",),
    reply=Bare("WorkflowList"),
    wires=(_PRECISION_READ, _PREDICT_URL_READ),
)
def list_workflows(call: Call) -> Reply:
    rows = call.world.workflows.of_organization(call.key.organization_id)
    return reply({"workflows": [workflow_payload(call, w) for w in rows]})


@endpoint(
    "POST",
    "workflows/",
    summary="Create a workflow from a graph, a template, or a blank canvas",
    sdk=("workflows.create",),
    reply=Bare("WorkflowReply"),
    body=CREATE,
    wires=(
        Wire(
            WORKFLOW_ENDPOINT_ON_CREATE,
            extra_fields=dict(DEPLOY.fields),
            # The release reads its endpoint's URL as 1.69.143 does (a span inside it).
            rewrite=_with_predict_urls,
            note="takes the endpoint's `region` and scaling, and deploys it when one is sent; "
            "reads its `endpoint_url` ending in `/predict`",
        ),
        _precision_sent(CREATE.fields["compute"]),
        # The releases after the one above that read the /predict URL.
        replace(_PREDICT_URL_READ, span=_PREDICT_URL_AFTER_CREATE_DEPLOYED),
    ),
    role="member",
    action="create workflows",
    errors=(400, 402, 403),
)
def create(call: Call) -> Reply:
    body = call.fields()
    # Only SDK 1.69.142 sends these (today's create refuses them): it served a workflow
    # live on its create. Its create with every endpoint default sends none of them, and
    # is today's create, which never deploys.
    endpoint = {k: body[k] for k in DEPLOY.fields if body.get(k) is not None}
    compute = body.get("compute") or {}
    gpu = compute.get("gpu")
    graph = body.get("graph")
    if compute.get("precision") is not None:
        if graph is None and body.get("template_key") is not None:
            graph = template(body["template_key"]).graph
        graph = at_precision(graph, compute["precision"])
    if endpoint:
        # Checked before anything is made: a refused deploy leaves no workflow behind.
        call.world.workflow_endpoints.admit(
            call.key, body["name"], gpu or DEFAULT_WORKFLOW_GPU, endpoint
        )
    workflow = call.world.workflows.create(
        call.key,
        body["name"],
        graph=graph,
        readme=body.get("readme"),
        description=body.get("description"),
        template_key=body.get("template_key"),
        gpu=gpu,
    )
    if not endpoint:
        return _answer(call, workflow)
    _, token = call.world.workflow_endpoints.deploy(call.key, workflow, endpoint)
    return reply(
        {"success": True, "workflow": workflow_payload(call, workflow), "endpoint_token": token}
    )


@endpoint(
    "POST",
    "workflows/upload-url",
    summary="A signed URL to PUT a run's source file to, and the gcs_uri it will have",
    sdk=("workflows.upload_source", "workflows.invoke"),
    reply=Bare("WorkflowUploadInfo"),
    body=Obj(
        {
            "filename": Field(NAME, required=True),
            "content_type": Field(Str(min_length=1, max_length=200), required=True),
        }
    ),
    action="upload workflow sources",
    **_MANAGE,
)
def upload_url(call: Call) -> Reply:
    body = call.fields()
    path, gcs_uri = call.world.workflows.sign_source_upload(
        call.key, body["filename"], body["content_type"]
    )
    return reply({"success": True, "upload_url": call.base_url + path, "gcs_uri": gcs_uri})


@endpoint(
    "POST",
    "workflows/bulk-delete",
    summary="Delete many workflows; ids not in the organization are reported, not refused",
    sdk=("workflows.bulk_delete",),
    reply=Bare("BulkDeleteResult"),
    body=Obj({"workflow_ids": Field(ID_LIST("workflow id strings"), required=True)}),
    action="delete workflows",
    **_MANAGE,
)
def bulk_delete(call: Call) -> Reply:
    deleted, not_found = call.world.workflows.bulk_delete(call.key, call.fields()["workflow_ids"])
    return reply(
        {
            "success": True,
            "succeeded": deleted,
            "deleted": deleted,
            "not_found": not_found,
            "count": len(deleted),
        }
    )


@endpoint(
    "GET",
    "workflows/{workflow}",
    summary="A workflow by id, with what a run of it would still be refused for",
    sdk=("workflows.get", "workflows.wait_until_live"),
    reply=Bare("WorkflowReply"),
    wires=(_PRECISION_READ, _PREDICT_URL_READ),
)
def get_workflow(call: Call) -> Reply:
    return _answer(call, _workflow(call))


@endpoint(
    "PATCH",
    "workflows/{workflow}",
    summary="Rename it, or change its card, graph, status or compute",
    sdk=("workflows.update",),
    reply=Bare("WorkflowReply"),
    body=UPDATE,
    wires=(_precision_sent(UPDATE.fields["compute"]), _PREDICT_URL_READ),
    action="update workflows",
    errors=(400, 403, 409),
    role="member",
)
def update(call: Call) -> Reply:
    workflow = _workflow(call)
    changes = dict(call.fields())
    compute = changes.pop("compute", None)
    if compute is not None:
        changes["gpu"] = compute.get("gpu")
        if compute.get("precision") is not None:
            changes["graph"] = at_precision(
                changes.get("graph", workflow.graph), compute["precision"]
            )
    return _answer(call, call.world.workflows.update(call.key, workflow, changes))


@endpoint(
    "DELETE",
    "workflows/{workflow}",
    summary="Delete a workflow and its run history",
    sdk=("workflows.delete",),
    reply=Bare("Success"),
    action="delete workflows",
    **_MANAGE,
)
def delete(call: Call) -> Reply:
    call.world.workflows.delete(call.key, _workflow(call))
    return reply({"success": True})


def _workflow(call: Call) -> Workflow:
    return call.world.workflows.get(call.key, call.path_args["workflow"])


def _answer(call: Call, workflow: Workflow) -> Reply:
    return reply({"success": True, "workflow": workflow_payload(call, workflow)})


def workflow_payload(call: Call, workflow: Workflow) -> dict[str, Any]:
    """A ``Workflow`` as the API answers it, its validation worked out now."""
    issues = call.world.workflows.issues(workflow.organization_id, workflow.graph)
    return {
        "id": workflow.id,
        "organization_id": workflow.organization_id,
        "name": workflow.name,
        "description": workflow.description,
        "readme": workflow.readme,
        "graph": workflow.graph,
        "template_key": workflow.template_key,
        "status": workflow.status,
        "compute": {"gpu": workflow.gpu},
        "last_run_id": workflow.last_run_id,
        "validation": [i.payload() for i in issues if i.severity == "error"],
        "endpoint": _endpoint_payload(call, workflow),
        "created_at": call.iso(workflow.created_at),
        "updated_at": call.iso(workflow.updated_at),
    }


def _endpoint_payload(call: Call, workflow: Workflow) -> dict[str, Any] | None:
    """Its ``WorkflowEndpoint``, or ``None`` when it was never deployed."""
    endpoints = call.world.built("workflow_endpoints")
    found: Endpoint | None = endpoints.of(workflow) if endpoints is not None else None
    if found is None:
        return None
    rate = WORKFLOW_GPUS[found.gpu].micro_usd_per_minute * 60
    return {
        "id": found.id,
        "status": found.status,
        "region": found.region,
        "gpu_type": found.gpu,
        "min_containers": found.min_containers,
        "max_containers": found.max_containers,
        "scaledown_window": found.scaledown_window,
        "endpoint_url": endpoint_url(call.base_url, found.region, found.id, "sessions"),
        "auth_token_prefix": found.token_prefix,
        "error_message": found.error_message,
        "engine_build": None,
        "stream_limit": found.stream_limit() if found.status != "draft" else 0,
        "deployed": found.deployed,
        "runtime": endpoints.runtime(found, call.now),
        "live": _live(call, workflow, served_graph(found, workflow)),
        "cost_per_hour_micro_usd": rate,
        "max_cost_per_hour_micro_usd": rate * found.max_containers,
        # A stream's data is billed as a deployment's (the fake bills its streams' none).
        "transfer_per_gib_micro_usd": DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
        "accrued_cost_micro_usd": found.charged,
        "uptime_seconds": int(found.uptime_seconds),
        "transfer_bytes": 0,
        "transfer_cost_micro_usd": 0,
        "created_at": call.iso(found.created_at),
        "started_at": call.iso(found.started_at),
        "paused_at": call.iso(found.paused_at),
        "updated_at": call.iso(found.updated_at),
    }


def _live(call: Call, workflow: Workflow, served: dict[str, Any]) -> dict[str, Any]:
    """What its live stream runs, reports and draws (``WorkflowLive``), read off the graph
    its endpoint serves (``served``): each Model block's model (one gone is left out), the
    classes they find (a Filter's classes, when it names some), and each line and zone,
    named as a frame's ``measures`` name it. Its Output writes a results file, which acts
    on no event, so ``events`` is empty (and ``live_outputs`` stays null: no live output
    acts on its streams).

    A draft may hold any values a block's settings do not take (its errors say so, and
    it deploys as ``draft``): what is not a model, a class or a line or zone is left out.
    """
    nodes = served.get("nodes", [])
    models: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}  # each class and its annotation type, in the order found
    kept: set[str] | None = None
    for node in nodes:
        config = node["config"]
        if node["type"] == "model":
            try:
                model = call.world.registry.of_organization(
                    workflow.organization_id, str(config.get("model") or "")
                )
            except NotFound:
                continue
            precision = config.get("precision")
            models.append(
                {
                    "model_id": model.id,
                    "name": model.name,
                    "precision": precision if precision in _PRECISIONS else _PRECISIONS[0],
                    "model_type": model.model_type,
                }
            )
            for name in model.current.classes:
                kinds.setdefault(name, prediction_kind(model.model_type))
        elif node["type"] == "filter" and isinstance(config.get("classes"), list):
            named = {c for c in config["classes"] if isinstance(c, str)}
            if named:
                kept = named if kept is None else kept & named
    classes = [name for name in kinds if kept is None or name in kept]
    measures: list[dict[str, Any]] = []
    counted = dict.fromkeys(MEASURED, 0)
    for node in nodes:
        geometries = node["config"].get("geometries") if node["type"] == "measure" else None
        for geometry in geometries if isinstance(geometries, list) else ():
            if not isinstance(geometry, dict) or not isinstance(geometry.get("name"), str):
                continue
            kind = geometry.get("kind")
            # A draft's graph may hold any JSON here: only a known kind is shown.
            if not isinstance(kind, str) or kind not in counted:
                continue
            counted[kind] += 1
            measures.append(
                {
                    "id": geometry["name"],
                    "name": geometry["name"],
                    "kind": kind,
                    "measure": MEASURED[kind],
                    "label": f"{'L' if kind == 'line' else 'P'}{counted[kind]}",
                    "color": _color(len(measures)),
                }
            )
    return {
        "models": models,
        "measures": measures,
        "classes": classes,
        "class_colors": {name: _color(n) for n, name in enumerate(classes)},
        "class_types": {name: kinds[name] for name in classes},
        "events": [],
    }


def _color(n: int) -> str:
    return WORKFLOW_LIVE_COLORS[n % len(WORKFLOW_LIVE_COLORS)]


# ── runs ──

_RUN_BODY = Obj({"compute": Field(_COMPUTE)})
_SOURCE = Obj(
    {
        # Checked by the handler, not as required: a broken field beside a missing kind is
        # the one reported, as the SDK always sends a kind.
        "kind": Field(Str(enum=("dataset", "video", "image"), status=400), nullable=False),
        "dataset": Field(Str(min_length=1)),
        "directory_path": Field(Str()),
        "gcs_uri": Field(Str(min_length=1)),
        "sample_fps": Field(Num(minimum=SAMPLE_FPS[0], maximum=SAMPLE_FPS[1])),
        "duration_seconds": Field(Num(minimum=VIDEO_SECONDS[0], maximum=VIDEO_SECONDS[1])),
        "url": Field(Str(min_length=1)),
    }
)
_LOG_QUERY = (
    Param("stream", Str(enum=("frames", "events", "stats")), default="events"),
    Param("limit", Int(minimum=1, maximum=200), default=50),
    Param("cursor", Str()),
    Param("order", Str(enum=("asc", "desc")), default="asc"),
    Param("full", Bool(), default=False),
    Param("class", Str()),
    Param("track_id", Str()),
    Param("min_confidence", Num(minimum=0, maximum=1)),
    Param("source", Str()),
    Param("type", Str()),
    Param("trigger", Str()),
)


@endpoint(
    "POST",
    "workflows/{workflow}/run",
    summary="Start a run of a workflow over its own source (charged when it completes)",
    sdk=("workflows.run",),
    reply=Bare("WorkflowRunCreated"),
    body=_RUN_BODY,
    body_optional=True,
    wires=(_RUN_PRECISION,),
    role="member",
    action="run workflows",
    errors=(400, 402, 403, 409),
)
def run(call: Call) -> Reply:
    compute = call.fields().get("compute") or {}
    started = call.world.workflow_runs.start(
        call.key, _workflow(call), None, compute.get("gpu"), precision=compute.get("precision")
    )
    return reply(
        {"success": True, "run_id": started.id, "deposit_micro_usd": started.deposit_micro_usd}
    )


@endpoint(
    "POST",
    "workflows/{workflow}/invoke",
    summary="Run a saved workflow over a source given now (a dataset, an upload, a link)",
    sdk=("workflows.invoke",),
    reply=Bare("WorkflowRunCreated"),
    body=Obj({"source": Field(_SOURCE, required=True), "compute": Field(_COMPUTE)}),
    wires=(_RUN_PRECISION,),
    role="member",
    action="run workflows",
    errors=(400, 402, 403, 409),
)
def invoke(call: Call) -> Reply:
    body = call.fields()
    source = {k: v for k, v in body["source"].items() if v is not None}
    if "kind" not in source:
        raise InvalidRequest(
            "The source needs its kind: 'dataset', 'video' or 'image'.",
            errors=[field_error(("body", "source", "kind"), "Field required", "missing")],
        )
    if source["kind"] == "dataset" and not source.get("dataset"):
        raise InvalidRequest(
            "A dataset source names its dataset: send source.dataset (a name or an id).",
            status=400,
            errors=[field_error(("body", "source", "dataset"), "required", "missing")],
        )
    if source["kind"] != "dataset" and not (source.get("gcs_uri") or source.get("url")):
        raise InvalidRequest(
            f"A source of kind '{source['kind']}' needs its gcs_uri (from "
            "client.workflows.upload_source) or a url.",
            status=400,
            errors=[field_error(("body", "source", "gcs_uri"), "required", "missing")],
        )
    compute = body.get("compute") or {}
    started = call.world.workflow_runs.start(
        call.key, _workflow(call), source, compute.get("gpu"), precision=compute.get("precision")
    )
    return reply(
        {
            "success": True,
            "run_id": started.id,
            "deposit_micro_usd": started.deposit_micro_usd,
            "status_url": f"/api/v1/developer/workflows/runs/{started.id}",
        }
    )


@endpoint(
    "GET",
    "workflows/{workflow}/runs",
    summary="A page of a workflow's runs, newest first",
    sdk=("workflows.list_runs", "workflows.iter_runs"),
    reply=Page("WorkflowRunSummary"),
    query=page_params(100),
)
def list_runs(call: Call) -> Reply:
    runs = call.world.workflow_runs.of_workflow(_workflow(call))
    chunk, pagination = page(runs, call.args["offset"], call.args["limit"])
    return reply({"data": [run_summary(call, r) for r in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "workflows/runs/bulk-cancel",
    summary="Cancel many runs; ids not in the organization, or ended, are reported",
    sdk=("workflows.bulk_cancel_runs",),
    reply=Bare("BulkActionResult"),
    body=Obj({"run_ids": Field(ID_LIST("run id strings"), required=True)}),
    role="member",
    action="cancel workflow runs",
    errors=(403,),
)
def bulk_cancel(call: Call) -> Reply:
    succeeded, not_found = call.world.workflow_runs.bulk_cancel(call.key, call.fields()["run_ids"])
    return reply(
        {"success": True, "succeeded": succeeded, "not_found": not_found, "count": len(succeeded)}
    )


@endpoint(
    "GET",
    "workflows/runs/{run_id}",
    summary="A run: its status, progress, step results, artifacts and charge",
    sdk=("workflows.get_run", "workflows.wait_for_run", "workflows.invoke"),
    reply=Bare("WorkflowRunReply"),
)
def get_run(call: Call) -> Reply:
    return reply({"run": run_payload(call, _run(call))})


@endpoint(
    "POST",
    "workflows/runs/{run_id}/cancel",
    summary="Cancel a queued or processing run (free)",
    sdk=("workflows.cancel_run", "jobs.cancel"),
    reply=Bare("Success"),
    role="member",
    action="cancel workflow runs",
    errors=(403, 409),
)
def cancel_run(call: Call) -> Reply:
    call.world.workflow_runs.cancel(call.key, _run(call))
    return reply({"success": True})


@endpoint(
    "GET",
    "workflows/runs/{run_id}/log",
    summary="One page of a run's log (frames, events or stats), as far as the run has got",
    sdk=("workflows.run_log", "workflows.iter_run_log"),
    reply=Bare("RunLogPage"),
    query=_LOG_QUERY,
    # 400: a cursor from a page of the other order.
    errors=(400,),
)
def run_log(call: Call) -> Reply:
    run = _run(call)
    stream = call.args["stream"]
    names = _event_names(run.triggers.values()) if stream == "events" else {}
    return log_page(call, log_sources(call, run, stream), names, stream)


@endpoint(
    "GET",
    "workflows/runs/{run_id}/log/summary",
    summary="What a run has logged so far, per stream: counts, first and last times",
    sdk=("workflows.run_log_summary",),
    reply=Bare("RunLogSummary"),
)
def run_log_summary(call: Call) -> Reply:
    run = _run(call)
    return log_summary(call, lambda stream: log_sources(call, run, stream))


def _run(call: Call) -> WorkflowRunState:
    return call.world.workflow_runs.get(call.key, call.path_args["run_id"])


def _latency_ms(run: WorkflowRunState) -> float:
    """What a frame takes through every block of the run's graph, in milliseconds."""
    return round(run.frame_seconds * 1000, 3)


def _pts(run: WorkflowRunState, index: int) -> float | None:
    """A frame's time in its video (seconds), by the rate it was sampled at."""
    if run.source.get("kind") != "video" or not run.sample_fps:
        return None
    return round(index / run.sample_fps, 6)


def _event_names(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Each event record's ``trigger`` named as the app names it (``Entry · Lot``)."""
    return {
        e["trigger"]: {"name": f"{e['kind'].capitalize()} · {e['name']}", "kind": e["kind"]}
        for e in events
    }


_ZONE_WORDS = {"entry": ("in", "entered"), "exit": ("out", "left")}
"""A zone event's rule value (PRT's key ends in it) and the word its values are said in."""


def _zone_values(event: dict[str, Any]) -> dict[str, Any]:
    """A zone event's ``rule_values`` under PRT's key (as the SDK's example shows one)
    and the same in words (``Lot: 1 entered · 3 inside``)."""
    value, word = _ZONE_WORDS[event["kind"]]
    return {
        "rule_values": {f"zone_events:{event['measure']}:{value}": event["moved"]},
        "values_text": f"{event['name']}: {event['moved']} {word} · {event['inside']} inside",
    }


def log_sources(call: Call, run: WorkflowRunState, stream: str) -> list[LogSource]:
    """The run's records of ``stream`` (it is their one source), as far as it has got."""
    done = run.frames_done(call.now)
    engine = f"prt-{run.id[:8]}"
    if stream == "frames":
        frames = run.frames
        latency = _latency_ms(run)
        model = (run.model_name, run.model_task)

        def frame_row(n: int) -> dict[str, Any]:
            frame = frames[n]
            return _frame_row(
                call,
                frame,
                at=run.frame_at(frame.index),
                engine=engine,
                source="source",
                # A video's frame has its time in the video; an image has none.
                pts=_pts(run, frame.index),
                latency=latency,
                model=model,
            )

        return [LogSource("source", 0, 0, done, run.frame_at, frame_row)]
    if stream == "events":
        events = run.events  # in time order (see execute_blocks)

        def event_at(n: int) -> float:
            return run.frame_at(events[n]["frame"])

        def event_row(n: int) -> dict[str, Any]:
            return _event_row(call, events[n], n, at=event_at(n), engine=engine)

        written = bisect_left(events, done, key=itemgetter("frame"))
        return [LogSource("source", 0, 0, written, event_at, event_row)]
    # stats: one record per ten frames done, and the last frame's
    total = len(run.frames)
    tens = done // 10
    marks = tens + (1 if done == total and total % 10 else 0)

    def mark(n: int) -> int:
        return 10 * n + 9 if n < tens else total - 1

    def stats_row(n: int) -> dict[str, Any]:
        i = mark(n)
        return {
            "ts": call.iso(run.frame_at(i)),
            "engine_run": engine,
            "seq": i // 10,
            "record_index": n,
            "type": "stats",
            "source": "source",
            "frame": i,
            "latency_total_ms": _latency_ms(run),
            "message": {"frames_done": i + 1, "frames_total": total},
            # As a live stream's stats message counts its source (what the SDK's CLI
            # lists for a stats record).
            "sources": [{"kind": run.source.get("kind"), "frames": i + 1}],
        }

    return [LogSource("source", 0, 0, marks, lambda n: run.frame_at(mark(n)), stats_row)]


def _frame_row(
    call: Call,
    frame: WorkflowFrame,
    *,
    at: float,
    engine: str,
    source: str,
    pts: float | None,
    latency: float,
    model: tuple[str | None, str | None],
) -> dict[str, Any]:
    """A frames record of a log: a frame as the graph left it."""
    scores = [p.score for p in frame.found]
    return {
        "ts": call.iso(at),
        "engine_run": engine,
        "seq": frame.index // 10,
        "record_index": frame.index % 10,
        "source": source,
        "frame": frame.index,
        "pts": pts,
        "image": frame.image,
        "image_id": frame.image_id,
        "image_index": frame.index,
        "image_width": frame.width,
        "image_height": frame.height,
        "annotation_count": len(frame.found),
        "classes": sorted({p.name for p in frame.found}),
        "track_ids": frame.track_ids,
        "min_confidence": min(scores) if scores else None,
        "max_confidence": max(scores) if scores else None,
        "latency_total_ms": latency,
        "model_name": model[0],
        "model_task": model[1],
        "measures": frame.occupancy or None,
        "pictograph": {"annotations": [_detection_row(p) for p in frame.found]},
    }


def _event_row(
    call: Call, event: dict[str, Any], n: int, *, at: float, engine: str, source: str = "source"
) -> dict[str, Any]:
    """An events record of a log: a zone's entry or exit."""
    return {
        "ts": call.iso(at),
        "engine_run": engine,
        "seq": event["frame"] // 10,
        "record_index": n,
        "type": "event",
        "source": source,
        "frame": event["frame"],
        "trigger": event["trigger"],
        "sequence": n,
        "classes": event["classes"],
        "track_ids": event["track_ids"],
        **_zone_values(event),
        "message": dict(event),
    }


def _detection_row(found: Any) -> dict[str, Any]:
    return {"name": found.name, "score": found.score, "type": found.kind, "box": found.box}


def _artifacts(call: Call, run: WorkflowRunState) -> list[dict[str, Any]]:
    if run.status != "completed" or not run.writes_results:
        return []
    runs = call.world.workflow_runs
    url = call.world.storage.sign_lasting(
        f"workflow-run/{run.id}/results.json",
        "results.json",
        "application/json",
        lambda: runs.results(run) if run.id in runs.runs else None,
        run.completed_at + SIGNED_URL_TTL_SECONDS if run.completed_at is not None else 0.0,
    )
    return [
        {
            "name": "results.json",
            "content_type": "application/json",
            "size_bytes": runs.results_size(run),
            "url": call.base_url + url,
        }
    ]


def _progress(run: WorkflowRunState, done: int) -> float:
    return 100.0 if run.status == "completed" else round(100.0 * done / len(run.frames), 1)


def _compute(run: WorkflowRunState) -> dict[str, str]:
    return {"gpu": run.gpu, "precision": run.precision}


def run_payload(call: Call, run: WorkflowRunState) -> dict[str, Any]:
    """A ``WorkflowRun`` as it stands on the clock now."""
    done = run.frames_done(call.now)
    ended = run.status == "completed"
    return {
        "id": run.id,
        "organization_id": run.organization_id,
        "workflow_id": run.workflow_id,
        "status": call.world.workflow_runs.status(run),
        "progress": _progress(run, done),
        "frames_total": len(run.frames),
        "frames_done": done,
        "sample_fps": run.sample_fps,
        "step_results": run.step_results if ended else {},
        "condition_results": {},
        "artifacts": _artifacts(call, run),
        "warnings": [],
        "deposit_micro_usd": run.deposit_micro_usd,
        "final_micro_usd": run.final_micro_usd,
        "error": run.error,
        "has_log": True,
        "compute": _compute(run),
        "engine_build": None,
        "created_at": call.iso(run.created_at),
        "completed_at": call.iso(run.completed_at),
    }


def run_summary(call: Call, run: WorkflowRunState) -> dict[str, Any]:
    """A ``WorkflowRunSummary``: a run as a listing shows it."""
    done = run.frames_done(call.now)
    settled = run.status not in ("queued", "processing")
    return {
        "id": run.id,
        "status": call.world.workflow_runs.status(run),
        "created_at": call.iso(run.created_at),
        "completed_at": call.iso(run.completed_at),
        "runtime_seconds": (
            round(run.completed_at - run.created_at, 3) if run.completed_at is not None else None
        ),
        "cost_micro_usd": (run.final_micro_usd or 0) if settled else run.deposit_micro_usd,
        "cost_settled": settled,
        "frames_done": done,
        "frames_total": len(run.frames),
        "progress": _progress(run, done),
        "artifact_count": len(_artifacts(call, run)),
        "has_log": True,
        "compute": _compute(run),
        "engine_build": None,
        "error": run.error,
    }


# ── the live endpoint ──

SCALING = Obj(
    {"min_containers": _MIN, "max_containers": _MAX, "scaledown_window": _SCALEDOWN},
    at_least_one="value",
)
_LIVE: dict[str, Any] = {"role": "member", "errors": (402, 403, 409)}


@endpoint(
    "POST",
    "workflows/{workflow}/deploy",
    summary="Serve a workflow live: its endpoint in a region with its autoscaling",
    sdk=("workflows.deploy",),
    reply=Bare("WorkflowReply"),
    wires=(_PREDICT_URL_READ,),
    body=DEPLOY,
    body_optional=True,
    action="deploy workflows",
    **_LIVE,
)
def deploy(call: Call) -> Reply:
    workflow = _workflow(call)
    _, token = call.world.workflow_endpoints.deploy(call.key, workflow, dict(call.fields()))
    answer: dict[str, Any] = {"success": True, "workflow": workflow_payload(call, workflow)}
    if token is not None:
        answer["endpoint_token"] = token  # once: the deploy that made the endpoint
    return reply(answer)


@endpoint(
    "POST",
    "workflows/{workflow}/pause",
    summary="Stop a workflow's endpoint: nothing held, nothing billed, runs refused",
    sdk=("workflows.pause",),
    reply=Bare("WorkflowReply"),
    wires=(_PREDICT_URL_READ,),
    action="pause workflows",
    **_LIVE,
)
def pause(call: Call) -> Reply:
    workflow = _workflow(call)
    call.world.workflow_endpoints.pause(call.key, workflow)
    return _answer(call, workflow)


@endpoint(
    "POST",
    "workflows/{workflow}/resume",
    summary="Deploy a paused workflow's endpoint again, on its graph as it is now",
    sdk=("workflows.resume",),
    reply=Bare("WorkflowReply"),
    wires=(_PREDICT_URL_READ,),
    action="resume workflows",
    **_LIVE,
)
def resume(call: Call) -> Reply:
    workflow = _workflow(call)
    call.world.workflow_endpoints.resume(call.key, workflow)
    return _answer(call, workflow)


@endpoint(
    "PATCH",
    "workflows/{workflow}/endpoint",
    summary="Change a workflow endpoint's autoscaling; a live one takes it at once",
    sdk=("workflows.update_endpoint",),
    reply=Bare("WorkflowReply"),
    wires=(_PREDICT_URL_READ,),
    body=SCALING,
    action="scale workflow endpoints",
    role="member",
    errors=(400, 403, 409),
)
def update_endpoint(call: Call) -> Reply:
    workflow = _workflow(call)
    call.world.workflow_endpoints.rescale(call.key, workflow, dict(call.fields()))
    return _answer(call, workflow)


_LIVE_LOG_QUERY = tuple(
    Param(p.name, p.spec, default={"stream": "frames", "order": "desc"}.get(p.name, p.default))
    for p in _LOG_QUERY
)


@endpoint(
    "GET",
    "workflows/{workflow}/endpoint/log",
    summary="One page of a workflow's live log (its current deployment's), newest first",
    sdk=("workflows.live_log", "workflows.iter_live_log"),
    reply=Bare("RunLogPage"),
    query=_LIVE_LOG_QUERY,
    # 400: a cursor from a page of the other order.
    errors=(400,),
)
def live_log(call: Call) -> Reply:
    stream = call.args["stream"]
    log = _LiveLog(call, call.world.workflow_endpoints.logged(_workflow(call)))
    names = _event_names(_live_triggers(log.ran)) if stream == "events" else {}
    return log_page(call, log.sources(stream), names, stream)


@endpoint(
    "GET",
    "workflows/{workflow}/endpoint/log/summary",
    summary="What a workflow's live endpoint has logged, per stream",
    sdk=("workflows.live_log_summary",),
    reply=Bare("RunLogSummary"),
)
def live_log_summary(call: Call) -> Reply:
    log = _LiveLog(call, call.world.workflow_endpoints.logged(_workflow(call)))
    return log_summary(call, log.sources)


class _LiveLog:
    """What a workflow endpoint's current deployment has logged by now, read by one call:
    each frame its streams ran through the graph and each of their zones' events (the
    newest ``STREAM_LOG_LIMIT`` of each, a source per stream), and a ``stats`` record
    each minute it has been active. The streams are run up to now once, and only for
    what reads them (a stats page does not)."""

    def __init__(self, call: Call, found: Endpoint) -> None:
        self._call = call
        self._found = found
        self._engine = f"prt-{found.id[:8]}"

    @cached_property
    def host(self) -> WorkflowHost:
        """What runs its streams' frames, each through the graph it opened with."""
        world = self._call.world
        return WorkflowHost(world, self._found, world.workflows.workflows[self._found.workflow_id])

    @cached_property
    def ran(self) -> list[Stream]:
        """The streams its current deployment ran, oldest first, each logged up to now."""
        call, found = self._call, self._found
        streams: Streams | None = call.world.built("streams")
        if streams is None or found.started_at is None:
            return []
        ran = [s for s in streams.ever_on(found.id) if s.opened_at >= found.started_at]
        for each in ran:
            self.host.fold_until(each, call.now)
        return ran

    def sources(self, stream: str) -> list[LogSource]:
        """The sources of ``stream``: a stream's frames or its zones' events each, or the
        endpoint's stats."""
        call, engine = self._call, self._engine
        if stream == "stats":
            return [_live_stats(call, self._found, engine)]
        ran = self.ran
        if stream == "events":
            return [_events_source(call, each, rank, engine) for rank, each in enumerate(ran)]
        return [
            _frames_source(call, each, rank, engine, self.host.latency_ms(each), self._model(each))
            for rank, each in enumerate(ran)
        ]

    def _model(self, stream: Stream) -> tuple[str | None, str | None]:
        first = self.host.first_model(stream)
        return (first.name, first.model_type) if first is not None else (None, None)


def _live_triggers(ran: list[Stream]) -> Iterable[dict[str, Any]]:
    """The first event of each trigger the streams ``ran`` logged."""
    return first_of_each_trigger(
        event for each in ran for event in each.log.triggers.values()
    ).values()


def _frames_source(
    call: Call,
    each: Stream,
    rank: int,
    engine: str,
    latency: float,
    model: tuple[str | None, str | None],
) -> LogSource:
    """A stream's frames, numbered by their index in the stream."""
    log = each.log
    first = log.first_frame

    def at(n: int) -> float:
        return log.frames[n - first].at

    def row(n: int) -> dict[str, Any]:
        logged = log.frames[n - first]
        return _frame_row(
            call,
            logged.frame,
            at=logged.at,
            engine=engine,
            source=each.id,
            pts=round(logged.frame.index / each.fps, 6),
            latency=latency,
            model=model,
        )

    return LogSource(each.id, rank, first, len(log.frames), at, row)


def _events_source(call: Call, each: Stream, rank: int, engine: str) -> LogSource:
    """A stream's zones' events, numbered from the stream's first."""
    log = each.log
    first = log.first_event

    def at(n: int) -> float:
        return each.frame_time(log.events[n - first]["frame"])

    def row(n: int) -> dict[str, Any]:
        return _event_row(call, log.events[n - first], n, at=at(n), engine=engine, source=each.id)

    return LogSource(each.id, rank, first, len(log.events), at, row)


def _live_stats(call: Call, found: Endpoint, engine: str) -> LogSource:
    """A ``stats`` record each minute the deployment has been up: its state and the
    streams that ran then."""
    streams: Streams | None = call.world.built("streams")

    def row(n: int) -> dict[str, Any]:
        at = found.log_mark(n)
        # Each stream running then, as its own stats messages count it.
        sources = streams.sources_at(found.id, at) if streams is not None else []
        return {
            "ts": call.iso(at),
            "engine_run": engine,
            "seq": n,
            "record_index": 0,
            "type": "stats",
            "source": "live",
            "frame": None,
            "message": {
                "state": "live" if found.min_containers else "asleep",
                "containers": found.min_containers,
                "streams": len(sources),
                "uptime_seconds": round((n + 1) * LOG_SECONDS),
            },
            "sources": sources,
        }

    return LogSource("live", 0, 0, found.log_mark_count(call.now), found.log_mark, row)
