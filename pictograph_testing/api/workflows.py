"""``/api/v1/developer/workflows``: saved node graphs, their catalogue and their checks.

The SDK addresses a workflow by id (it resolves a name by listing ``GET /workflows/``);
the replies carry it under ``workflow`` (a list under ``workflows``), each with the
``validation`` its graph has in the organization now. The blocks and templates are
declared once in :mod:`pictograph_testing.world.workflow_nodes`, the GPUs and their
prices in :mod:`pictograph_testing.catalog`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import ID_LIST, NAME, Field, Json, Obj, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import DEFAULT_WORKFLOW_GPU, WORKFLOW_GPUS, WORKFLOW_PRECISIONS
from pictograph_testing.world.workflow_nodes import (
    GRAPH_NOTES,
    NODES,
    PORTS,
    TEMPLATES,
    graph_shape,
)
from pictograph_testing.world.workflows import WORKFLOW_STATUSES

if TYPE_CHECKING:
    from pictograph_testing.world.workflows import Workflow

__all__ = ["workflow_payload"]

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
_README = Str(max_length=20_000)
_STATUS = Str(enum=WORKFLOW_STATUSES)
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
    role="member",
    action="create workflows",
    errors=(400, 403),
)
def create(call: Call) -> Reply:
    body = call.fields()
    workflow = call.world.workflows.create(
        call.key,
        body["name"],
        graph=body.get("graph"),
        readme=body.get("readme"),
        description=body.get("description"),
        template_key=body.get("template_key"),
        gpu=(body.get("compute") or {}).get("gpu"),
    )
    return _answer(call, workflow)


@endpoint(
    "POST",
    "workflows/upload-url",
    summary="A signed URL to PUT a run's source file to, and the gcs_uri it will have",
    sdk=("workflows.upload_source",),
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
    return reply({"upload_url": call.base_url + path, "gcs_uri": gcs_uri})


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
    sdk=("workflows.get",),
    reply=Bare("WorkflowReply"),
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
        "endpoint": None,
        "created_at": call.iso(workflow.created_at),
        "updated_at": call.iso(workflow.updated_at),
    }
