"""Workflows: saved node graphs of an organization (``client.workflows``).

A workflow holds a graph of the blocks :mod:`.workflow_nodes` declares; every answer
that carries one carries its ``validation`` too, worked out from the graph and the
organization as it is now (a model trained since makes a Model block valid). A name is
unique in its organization: a create that takes a used name gets ``name (2)``, as the
API's create path does (the SDK resolves names by listing and relies on it); a rename
to a used name is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import DEFAULT_WORKFLOW_GPU
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.ids import by_id, distinct_ids, numbered_name
from pictograph_testing.world.workflow_nodes import (
    Issue,
    empty_graph,
    graph_issues,
    graph_shape,
    template,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.state import World

__all__ = [
    "SOURCE_BUCKET",
    "WORKFLOW_STATUSES",
    "Workflow",
    "WorkflowService",
]

WORKFLOW_STATUSES = ("draft", "ready", "archived")
SOURCE_BUCKET = "gs://pictograph-fake-workflow-sources"
"""Where uploaded workflow sources live: ``<bucket>/<organization id>/<id>/<filename>``."""


@dataclass
class Workflow:
    id: str
    organization_id: str
    name: str
    graph: dict[str, Any]
    created_at: float
    updated_at: float
    description: str | None = None
    readme: str | None = None
    template_key: str | None = None
    status: str = "draft"
    gpu: str = DEFAULT_WORKFLOW_GPU
    last_run_id: str | None = None
    created_by: str | None = None
    run_ids: list[str] = field(default_factory=list)
    """Its runs, oldest first."""


class WorkflowService:
    """Create, read, change and delete workflows; check graphs against the organization."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.workflows: dict[str, Workflow] = {}
        """Every workflow, by id, in the order they were made."""
        # Each organization's workflows by id (in the order made) and by name: kept by
        # create, update and delete, so a read costs the organization's, not the world's.
        self._of_organization: dict[str, dict[str, Workflow]] = {}
        self._by_name: dict[tuple[str, str], Workflow] = {}

    @property
    def holds_state(self) -> bool:
        """Whether any workflow was made (a snapshot cannot keep one yet)."""
        return bool(self.workflows)

    # ── reads ──

    def of_organization(self, organization_id: str) -> list[Workflow]:
        """The organization's workflows, newest first."""
        return list(reversed(self._of_organization.get(organization_id, {}).values()))

    def get(self, key: ApiKey, ref: str) -> Workflow:
        """The organization's workflow with this id (or this name), or 404."""
        found = by_id(self.workflows, ref.strip())
        if found is not None and found.organization_id == key.organization_id:
            return found
        named = self._named(key.organization_id, ref)
        if named is not None:
            return named
        raise NotFound(f"Workflow '{ref}' not found")

    def _named(self, organization_id: str, name: str) -> Workflow | None:
        return self._by_name.get((organization_id, name))

    def issues(self, organization_id: str, graph: dict[str, Any]) -> list[Issue]:
        """What a run of ``graph`` (well formed) would be refused for, in the organization."""

        def lookup(kind: str, ref: str) -> Issue | None:
            world = self._world
            if kind == "dataset":
                try:
                    world.dataset(organization_id, ref)
                except NotFound:
                    return Issue("dataset_not_found", f"no dataset '{ref}' in your organization.")
                return None
            try:
                model = world.registry.of_organization(organization_id, ref)
            except NotFound:
                return Issue("model_not_found", f"no model '{ref}' in your organization.")
            if model.status != "ready":
                return Issue(
                    "model_not_ready",
                    f"model '{model.name}' is {model.status}: a run needs a ready model.",
                )
            return None

        return graph_issues(graph, lookup)

    # ── writes ──

    def create(
        self,
        key: ApiKey,
        name: str,
        *,
        graph: Any = None,
        readme: str | None = None,
        description: str | None = None,
        template_key: str | None = None,
        gpu: str | None = None,
    ) -> Workflow:
        """Make a workflow from a graph, a template's graph, or a blank canvas."""
        if graph is not None:
            shaped = graph_shape(graph)
        elif template_key is not None:
            shaped = graph_shape(template(template_key).graph)
        else:
            shaped = empty_graph()
        if template_key is not None and graph is not None:
            template(template_key)  # an unknown key is refused with a graph too
        world = self._world
        now = world.now()
        free = name
        n = 2
        while self._named(key.organization_id, free) is not None:
            free = numbered_name(name, n)
            n += 1
        workflow = Workflow(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            name=free,
            graph=shaped,
            created_at=now,
            updated_at=now,
            description=description,
            readme=readme,
            template_key=template_key,
            gpu=gpu or DEFAULT_WORKFLOW_GPU,
            created_by=key.created_by,
        )
        self.workflows[workflow.id] = workflow
        self._of_organization.setdefault(workflow.organization_id, {})[workflow.id] = workflow
        self._by_name[workflow.organization_id, workflow.name] = workflow
        return workflow

    def update(self, key: ApiKey, workflow: Workflow, changes: dict[str, Any]) -> Workflow:
        """Change what ``changes`` names; all of it is checked before any of it is applied."""
        graph = graph_shape(changes["graph"]) if "graph" in changes else None
        name = changes.get("name")
        if name is not None and name != workflow.name:
            taken = self._named(workflow.organization_id, name)
            if taken is not None:
                raise Conflict(
                    f"A workflow named '{name}' already exists in your organization: choose "
                    "another name.",
                    details={"workflow_id": taken.id},
                )
        if graph is not None:
            workflow.graph = graph
        if name is not None:
            del self._by_name[workflow.organization_id, workflow.name]
            workflow.name = name
            self._by_name[workflow.organization_id, name] = workflow
        for attribute in ("readme", "description", "status"):
            if changes.get(attribute) is not None:
                setattr(workflow, attribute, changes[attribute])
        if changes.get("gpu") is not None:
            workflow.gpu = changes["gpu"]
        workflow.updated_at = self._world.now()
        endpoints = self._world.built("workflow_endpoints")
        if endpoints is not None:
            endpoints.saved(workflow)
        return workflow

    def delete(self, key: ApiKey, workflow: Workflow) -> None:
        """Delete the workflow and its run history (its live runs stop, free; its endpoint
        stops, its last minutes billed)."""
        runs = self._world.built("workflow_runs")
        if runs is not None:
            runs.forget(workflow)
        endpoints = self._world.built("workflow_endpoints")
        if endpoints is not None:
            endpoints.forget(workflow)
        del self.workflows[workflow.id]
        del self._of_organization[workflow.organization_id][workflow.id]
        del self._by_name[workflow.organization_id, workflow.name]

    def bulk_delete(self, key: ApiKey, ids: list[str]) -> tuple[list[str], list[str]]:
        """Delete each workflow named (duplicates collapsed); one that does not resolve in
        the organization is reported as not found."""
        if not ids:
            raise InvalidRequest(
                "workflow_ids must name at least one workflow.",
                errors=[field_error(("body", "workflow_ids"), "must not be empty", "too_short")],
            )
        deleted: list[str] = []
        not_found: list[str] = []
        for ref in distinct_ids(ids):
            found = by_id(self.workflows, ref.strip())
            if found is None or found.organization_id != key.organization_id:
                not_found.append(ref)
                continue
            self.delete(key, found)
            deleted.append(ref)
        return deleted, not_found

    # ── uploaded sources ──

    def sign_source_upload(self, key: ApiKey, filename: str, content_type: str) -> tuple[str, str]:
        """A signed PUT URL (its path) for one source file, and the ``gcs_uri`` it will
        have once its bytes arrive."""
        world = self._world
        folder = world.ids.uuid()
        slot = (f"workflow-sources/{key.organization_id}", folder, filename)
        path = world.storage.sign_upload(slot, content_type, ttl_seconds=3600.0)
        return path, f"{SOURCE_BUCKET}/{key.organization_id}/{folder}/{filename}"

    def source_bytes(self, key: ApiKey, uri: str) -> bytes | None:
        """The bytes uploaded to ``uri`` (a ``gcs_uri`` of the key's organization), if any."""
        prefix = f"{SOURCE_BUCKET}/{key.organization_id}/"
        if not uri.startswith(prefix) or uri[len(prefix) :].count("/") != 1:
            return None
        folder, filename = uri[len(prefix) :].split("/")
        slot = self._world.storage.received(
            (f"workflow-sources/{key.organization_id}", folder, filename)
        )
        return slot.content if slot is not None else None
