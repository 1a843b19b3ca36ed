"""Workflow endpoints: a workflow served live (``workflows.deploy``, ``pause``, ``resume``).

A workflow's ``endpoint`` is ``None`` until it is deployed (its create never deploys it,
since SDK 1.69.143). A deploy makes the endpoint ``provisioning`` in its region (``auto``
is the first region: the fake is always nearest it), and
:data:`~pictograph_testing.catalog.DEPLOYMENT_SERVER_START_SECONDS` later it is
``active``, or ``failed`` when a model its graph uses is gone or not ready by then (a
deploy again retries it, in its own region). A graph with errors deploys as ``draft``,
its ``error_message`` saying why, as the SDK's model describes. ``pause`` stops it
(nothing held, nothing billed; runs refused until it is resumed), ``resume`` deploys it
again on its graph as it is now, and each deploy logs anew.

Billing is a deployment's, at the workflow's GPU rate
(:data:`~pictograph_testing.catalog.WORKFLOW_GPUS`): the compute it holds. What an active
endpoint holds is its warm containers (``min_containers``; its streams, see
:mod:`~pictograph_testing.world.streams`, are not billed as uptime), billed per started
container-minute, metered every
:data:`~pictograph_testing.catalog.DEPLOYMENT_METER_SECONDS` and when it is paused,
rescaled or deleted (``workflow_endpoint_<gpu>`` in the ledger). A meter that finds the
credit spent bills what is left and pauses it, as the API does at a zero balance.

Its live log is its current deployment's: its streams' frames and zone events (see
:mod:`~pictograph_testing.world.stream_hosts`), and one ``stats`` record per minute it has
been active (its state, containers and streams then).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import (
    DEPLOYMENT_METER_SECONDS,
    DEPLOYMENT_REGIONS,
    DEPLOYMENT_SERVER_START_SECONDS,
    DEPLOYMENT_STREAMS_PER_CONTAINER,
    WORKFLOW_GPUS,
)
from pictograph_testing.world.billing import billable_minutes, usd_pair
from pictograph_testing.world.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    field_error,
)
from pictograph_testing.world.streams import stream_containers

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import Streams
    from pictograph_testing.world.workflows import Workflow

__all__ = [
    "ENDPOINT_REGIONS",
    "LOG_SECONDS",
    "Endpoint",
    "NotDeployed",
    "WorkflowEndpoints",
    "served_graph",
]

ENDPOINT_REGIONS = ("auto", *(r for r, _, _ in DEPLOYMENT_REGIONS))
"""What ``deploy`` takes for ``region``; ``auto`` is the first real region."""
LOG_SECONDS = 60.0
"""An active endpoint writes one ``stats`` record to its live log per this many seconds."""


class NotDeployed(Conflict):
    """409: a live-endpoint action on a workflow that was never deployed."""

    code = "not_deployed"


class AlreadyDeployed(Conflict):
    code = "already_deployed"


class NotDeployedLog(NotFound):
    """404 for the live log of a workflow that was never deployed (the SDK names it)."""

    code = "not_deployed"


class NoLog(NotFound):
    code = "no_log"


class WorkflowPaused(Conflict):
    """409: a run of a workflow whose endpoint is paused (refused until it is resumed)."""

    code = "workflow_paused"


@dataclass
class Endpoint:
    """A workflow's live endpoint: its settings, its state, its meter and its log."""

    id: str
    workflow_id: str
    organization_id: str
    region: str
    gpu: str
    min_containers: int
    max_containers: int
    scaledown_window: int
    token_prefix: str
    auth_token: str
    """Its ``pk_deploy_`` token, which its streams take as their bearer (shown once)."""
    created_at: float
    updated_at: float
    status: str = "provisioning"
    up_at: float | None = None
    """When a provisioning endpoint comes up (or fails)."""
    started_at: float | None = None
    """When its current deployment came live: its log starts there."""
    paused_at: float | None = None
    error_message: str | None = None
    metered_to: float | None = None
    """Up to when its warm containers were metered (``None``: not active)."""
    container_seconds: float = 0.0
    uptime_seconds: float = 0.0
    charged: int = 0
    """µUSD posted to the ledger for it."""
    settled: int = 0
    """µUSD of its warm containers settled: posted, or written off when the credit ran out."""
    log_until: float | None = None
    """When its current deployment stopped logging (paused or failed), else ``None``."""
    graph: dict[str, Any] | None = None
    """The graph its deployment serves, from when it came up: a save that needs no other
    model, precision or GPU is served from the next stream on; one that cannot stream is
    not served (``error_message`` says why)."""
    updating: bool = False
    """Deployed again after a save: its opens are refused ``endpoint_updating`` until
    it is up."""
    deployed: bool = False
    """Whether it has ever been deployed (provisioned): a draft that never came up has
    not; one resumed into a draft after it was live has."""

    def stream_limit(self) -> int:
        return self.max_containers * DEPLOYMENT_STREAMS_PER_CONTAINER

    def log_mark_count(self, now: float) -> int:
        """How many ``stats`` records its current deployment has written by ``now``: one
        each :data:`LOG_SECONDS` it has been up (until it was paused)."""
        if self.started_at is None:
            return 0
        end = now if self.log_until is None else self.log_until
        return max(0, int((end - self.started_at) // LOG_SECONDS))

    def log_mark(self, n: int) -> float:
        """The instant of its current deployment's ``stats`` record ``n`` (from 0)."""
        assert self.started_at is not None
        return self.started_at + (n + 1) * LOG_SECONDS


class WorkflowEndpoints:
    """Deploy, pause, resume and rescale workflows' endpoints; meter them on the clock."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.endpoints: dict[str, Endpoint] = {}
        """By workflow id."""
        # By the endpoint's own id, for its gateway URL; kept by `deploy` and `forget`.
        self._by_id: dict[str, str] = {}
        # Each endpoint's next event (it comes up, or its warm containers are metered) as
        # (when, order, workflow id). An entry goes stale when its endpoint changes; it is
        # dropped when it reaches the top, so a catch-up costs its events, not the
        # endpoints there are.
        self._heap: list[tuple[float, int, str]] = []
        self._order = 0
        self._next_event = math.inf

    # ── reads ──

    def of(self, workflow: Workflow) -> Endpoint | None:
        return self.endpoints.get(workflow.id)

    def at(self, endpoint_id: str) -> Endpoint | None:
        """The endpoint with this (lower-case) id, which its gateway URL names."""
        workflow_id = self._by_id.get(endpoint_id)
        return None if workflow_id is None else self.endpoints.get(workflow_id)

    def deployed(self, workflow: Workflow) -> Endpoint:
        endpoint = self.endpoints.get(workflow.id)
        if endpoint is None:
            raise NotDeployed(
                f"Workflow '{workflow.name}' has not been deployed: deploy it first "
                "(client.workflows.deploy(...))."
            )
        return endpoint

    def logged(self, workflow: Workflow) -> Endpoint:
        """Its endpoint, for its live log: 404 ``not_deployed`` or ``no_log`` otherwise."""
        endpoint = self.endpoints.get(workflow.id)
        if endpoint is None:
            raise NotDeployedLog(
                f"Workflow '{workflow.name}' has not been deployed, so it has no live log: "
                "deploy it (client.workflows.deploy(...))."
            )
        if endpoint.started_at is None:
            raise NoLog(
                f"Workflow '{workflow.name}' has no live log yet: its endpoint is "
                f"{endpoint.status}. Wait until it is live (client.workflows.wait_until_live)."
            )
        return endpoint

    def refuse_run(self, workflow: Workflow) -> None:
        """409 when its endpoint is paused: its streams and runs wait for its resume."""
        endpoint = self.endpoints.get(workflow.id)
        if endpoint is not None and endpoint.status == "paused":
            raise WorkflowPaused(
                f"Workflow '{workflow.name}' is paused: resume it "
                "(client.workflows.resume(...)) to run it."
            )

    def runtime(self, endpoint: Endpoint, now: float) -> dict[str, Any] | None:
        """What an active endpoint is doing: its warm containers live, else asleep; and
        the containers its streams keep busy."""
        if endpoint.status != "active":
            return None
        warm = endpoint.min_containers
        streams: Streams | None = self._world.built("streams")
        running = streams.running_on(endpoint.id, now) if streams is not None else 0
        return {
            "state": "live" if warm else "asleep",
            "containers": warm,
            "creating": 0,
            "streams": stream_containers(running),
        }

    # ── writes ──

    def deploy(
        self, key: ApiKey, workflow: Workflow, settings: dict[str, Any]
    ) -> tuple[Endpoint, str | None]:
        """Deploy a workflow never deployed, or one whose deploy failed (in its region).

        Returns the endpoint and, when this deploy made it, its token: shown once."""
        world = self._world
        existing = self.endpoints.get(workflow.id)
        if existing is not None and existing.status != "failed":
            raise AlreadyDeployed(
                f"Workflow '{workflow.name}' is already deployed ({existing.status}): pause, "
                "resume or update_endpoint it instead."
            )
        scaling = self._scaling(existing, settings)
        self._require_credit(key, workflow.name, workflow.gpu)
        now = world.now()
        region = settings.get("region") or "auto"
        if existing is not None:
            region = existing.region  # fixed once first deployed
        elif region == "auto":
            region = DEPLOYMENT_REGIONS[0][0]
        endpoint = Endpoint(
            id=existing.id if existing is not None else world.ids.uuid(),
            workflow_id=workflow.id,
            organization_id=workflow.organization_id,
            region=region,
            gpu=workflow.gpu,
            token_prefix=existing.token_prefix if existing is not None else "",
            auth_token=existing.auth_token if existing is not None else "",
            created_at=existing.created_at if existing is not None else now,
            updated_at=now,
            min_containers=scaling["min_containers"],
            max_containers=scaling["max_containers"],
            scaledown_window=scaling["scaledown_window"],
        )
        if existing is not None:  # its bill so far goes on with it
            endpoint.container_seconds = existing.container_seconds
            endpoint.uptime_seconds = existing.uptime_seconds
            endpoint.charged = existing.charged
            endpoint.settled = existing.settled
        token = None
        if existing is None:
            token = f"pk_deploy_{world.ids.hex(40)}"
            endpoint.token_prefix = token[:14] + "…"
            endpoint.auth_token = token
        self.endpoints[workflow.id] = endpoint
        self._by_id[endpoint.id] = workflow.id
        self._provision(workflow, endpoint, now)
        return endpoint, token

    def admit(self, key: ApiKey, name: str, gpu: str, settings: dict[str, Any]) -> None:
        """What a first deploy with ``settings`` would be refused for, checked before the
        workflow is made (SDK 1.69.142's create deploys what it makes)."""
        self._scaling(None, settings)
        self._require_credit(key, name, gpu)

    def pause(self, key: ApiKey, workflow: Workflow) -> Endpoint:
        endpoint = self.deployed(workflow)
        if endpoint.status not in ("provisioning", "active"):
            raise Conflict(
                f"Workflow '{workflow.name}' cannot be paused: its endpoint is "
                f"{endpoint.status}. Only a provisioning or active endpoint pauses."
            )
        self._stop(endpoint, self._world.now())
        return endpoint

    def resume(self, key: ApiKey, workflow: Workflow) -> Endpoint:
        endpoint = self.deployed(workflow)
        if endpoint.status != "paused":
            raise Conflict(
                f"Workflow '{workflow.name}' cannot be resumed: its endpoint is "
                f"{endpoint.status}, not paused."
            )
        self._require_credit(key, workflow.name, workflow.gpu)
        now = self._world.now()
        endpoint.paused_at = None
        endpoint.gpu = workflow.gpu  # deployed again on the workflow as it is now
        self._provision(workflow, endpoint, now)
        return endpoint

    def rescale(self, key: ApiKey, workflow: Workflow, settings: dict[str, Any]) -> Endpoint:
        """Change its autoscaling (what is given): a live one takes it at once, its warm
        containers billed up to now at the old count."""
        endpoint = self.deployed(workflow)
        scaling = self._scaling(endpoint, settings)
        now = self._world.now()
        if endpoint.metered_to is not None:
            self._meter(endpoint, now)
        for name, value in scaling.items():
            setattr(endpoint, name, value)
        endpoint.updated_at = now
        # Warm containers are metered on the clock from now (none when scaled to zero).
        self._watch(endpoint)
        return endpoint

    def saved(self, workflow: Workflow) -> None:
        """A save of the workflow: a ``draft`` endpoint deploys once its graph can stream.

        An active one serves the graph saved from its next stream on, or deploys again
        when it needs another model, precision or GPU (its streams end with its
        containers); a graph that cannot stream leaves it on its last live version, its
        ``error_message`` saying why. A provisioning one comes up on the graph as it is
        then; a paused or failed one deploys the graph as it is when resumed or deployed.
        """
        endpoint = self.endpoints.get(workflow.id)
        if endpoint is None:
            return
        now = self._world.now()
        if endpoint.status == "draft":
            self._provision(workflow, endpoint, now)
            return
        if endpoint.status != "active":
            return
        errors = self._errors(workflow)
        served = served_graph(endpoint, workflow)
        message = " ".join(errors) if errors else None
        if message != endpoint.error_message or (not errors and served is not workflow.graph):
            endpoint.updated_at = now
        endpoint.error_message = message
        if errors:
            return
        if endpoint.gpu != workflow.gpu or _deployed_models(served) != _deployed_models(
            workflow.graph
        ):
            self._redeploy(workflow, endpoint, now)
        else:
            endpoint.graph = workflow.graph

    def forget(self, workflow: Workflow) -> None:
        """A deleted workflow's endpoint stops first, its last minutes billed."""
        endpoint = self.endpoints.pop(workflow.id, None)
        if endpoint is not None:
            del self._by_id[endpoint.id]
            self._streams_end(endpoint, self._world.now())
        if endpoint is not None and endpoint.metered_to is not None:
            self._meter(endpoint, self._world.now())

    # ── the clock ──

    @property
    def next_event(self) -> float:
        return self._next_event

    def advance_to(self, now: float) -> None:
        """Bring every endpoint up to ``now``, in time order: come up, fail, meter."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, workflow_id = heapq.heappop(heap)
            endpoint = self._due(at, workflow_id)
            if endpoint is None:
                continue  # changed since: its next event is another entry
            if endpoint.status == "provisioning":
                self._come_up(endpoint, at)
            else:
                self._meter(endpoint, at)
            self._push(endpoint)
        self._plan()

    def _due(self, at: float, workflow_id: str) -> Endpoint | None:
        """The endpoint whose next event an entry of ``at`` is, or ``None`` if stale."""
        endpoint = self.endpoints.get(workflow_id)
        if endpoint is None or self._event_of(endpoint) != at:
            return None
        return endpoint

    def _push(self, endpoint: Endpoint) -> None:
        at = self._event_of(endpoint)
        if at is not None:
            self._order += 1
            heapq.heappush(self._heap, (at, self._order, endpoint.workflow_id))

    def _watch(self, endpoint: Endpoint) -> None:
        """Its next event changed: put it on the heap, and tell the world's agenda."""
        self._push(endpoint)
        self._plan()

    def _event_of(self, endpoint: Endpoint) -> float | None:
        if endpoint.status == "provisioning":
            return endpoint.up_at
        if endpoint.metered_to is not None and endpoint.min_containers:
            return endpoint.metered_to + DEPLOYMENT_METER_SECONDS
        return None

    def _plan(self) -> None:
        heap = self._heap
        while heap and self._due(heap[0][0], heap[0][2]) is None:
            heapq.heappop(heap)
        self._next_event = heap[0][0] if heap else math.inf
        self._world.agenda.expect(self._next_event)

    # ── inside ──

    def _scaling(self, existing: Endpoint | None, given: dict[str, Any]) -> dict[str, int]:
        """The endpoint's scaling with ``given`` applied, checked whole before any of it is."""
        scaling = {
            "min_containers": existing.min_containers if existing is not None else 0,
            "max_containers": existing.max_containers if existing is not None else 1,
            "scaledown_window": existing.scaledown_window if existing is not None else 60,
        }
        scaling.update({k: v for k, v in given.items() if k in scaling and v is not None})
        if scaling["min_containers"] > scaling["max_containers"]:
            raise InvalidRequest(
                f"min_containers ({scaling['min_containers']}) is more than max_containers "
                f"({scaling['max_containers']}): raise max_containers or lower min_containers.",
                errors=[
                    field_error(
                        ("body", "min_containers"),
                        "must not exceed max_containers",
                        "value_error",
                    )
                ],
            )
        return scaling

    def _require_credit(self, key: ApiKey, name: str, gpu: str) -> None:
        world = self._world
        spendable = world.billing.spendable(world.organizations[key.organization_id])
        if spendable <= 0:
            minute = WORKFLOW_GPUS[gpu].micro_usd_per_minute
            needed, has = usd_pair(minute, spendable)
            raise InsufficientCredits(
                f"Serving workflow '{name}' live needs compute credits (a minute on its GPU "
                f"is {needed}); the organization has {has}. Top up credits first.",
                required=minute,
                remaining=spendable,
            )

    def _errors(self, workflow: Workflow) -> list[str]:
        """Why the workflow as saved cannot stream (nothing: it can)."""
        issues = self._world.workflows.issues(workflow.organization_id, workflow.graph)
        return [i.message for i in issues if i.severity == "error"]

    def _redeploy(self, workflow: Workflow, endpoint: Endpoint, now: float) -> None:
        """Deploy it again for a save: its containers stop (and their streams end), its
        warm ones billed up to now, and it comes up on the graph as saved."""
        if endpoint.metered_to is not None:
            self._meter(endpoint, now)
        if endpoint.status != "active":
            return  # the meter found the credit spent: it paused
        self._streams_end(endpoint, now)
        endpoint.gpu = workflow.gpu
        self._provision(workflow, endpoint, now)
        endpoint.updating = True

    def _provision(self, workflow: Workflow, endpoint: Endpoint, now: float) -> None:
        endpoint.updated_at = now
        endpoint.started_at = None
        endpoint.log_until = None
        endpoint.metered_to = None
        endpoint.graph = None
        endpoint.updating = False
        errors = self._errors(workflow)
        if errors:
            # Deployed, nothing running: the save that makes it streamable deploys it.
            endpoint.status = "draft"
            endpoint.error_message = " ".join(errors)
            endpoint.up_at = None
        else:
            endpoint.status = "provisioning"
            endpoint.deployed = True
            endpoint.error_message = None
            endpoint.up_at = now + DEPLOYMENT_SERVER_START_SECONDS
        self._watch(endpoint)

    def _come_up(self, endpoint: Endpoint, at: float) -> None:
        world = self._world
        workflow = world.workflows.workflows[endpoint.workflow_id]
        errors = self._errors(workflow)
        endpoint.up_at = None
        endpoint.updated_at = at
        endpoint.updating = False
        if errors:
            # What it needed went away while it deployed (a model deleted, say).
            endpoint.status = "failed"
            endpoint.error_message = " ".join(errors)
            return
        endpoint.status = "active"
        endpoint.started_at = at
        endpoint.metered_to = at
        endpoint.graph = workflow.graph

    def _meter(self, endpoint: Endpoint, at: float) -> None:
        """Bill its warm containers up to ``at``; pause it there if the credit ran out."""
        world = self._world
        start = endpoint.metered_to if endpoint.metered_to is not None else at
        endpoint.uptime_seconds += at - start
        endpoint.container_seconds += (at - start) * endpoint.min_containers
        endpoint.metered_to = at
        gpu = WORKFLOW_GPUS[endpoint.gpu]
        owed = billable_minutes(endpoint.container_seconds) * gpu.micro_usd_per_minute
        due = owed - endpoint.settled
        if due <= 0:
            return
        org = world.organizations[endpoint.organization_id]
        payable = min(due, max(0, world.billing.spendable(org)))
        if payable:
            world.billing.post(
                org,
                f"workflow_endpoint_{endpoint.gpu}",
                -payable,
                description=f"Workflow endpoint {endpoint.id} on a {gpu.label}: warm containers",
                metadata={"workflow_id": endpoint.workflow_id, "endpoint_id": endpoint.id},
                at=at,
            )
        endpoint.charged += payable
        endpoint.settled += due  # what it could not pay is written off as it pauses
        if payable < due:
            self._halt(endpoint, at)

    def _stop(self, endpoint: Endpoint, at: float) -> None:
        """Pause it at ``at``, billing its warm containers up to then."""
        if endpoint.metered_to is not None:
            self._meter(endpoint, at)
        if endpoint.status != "paused":  # else the meter found the credit spent
            self._halt(endpoint, at)

    def _halt(self, endpoint: Endpoint, at: float) -> None:
        self._streams_end(endpoint, at)
        endpoint.status = "paused"
        endpoint.updating = False
        endpoint.paused_at = at
        endpoint.updated_at = at
        endpoint.up_at = None
        endpoint.metered_to = None
        if endpoint.started_at is not None:
            endpoint.log_until = at
        self._plan()

    def _streams_end(self, endpoint: Endpoint, at: float) -> None:
        """Its containers stop at ``at``: so do its streams."""
        streams: Streams | None = self._world.built("streams")
        if streams is not None:
            streams.container_stopping(endpoint.id, at)


def served_graph(endpoint: Endpoint, workflow: Workflow) -> dict[str, Any]:
    """The graph a stream opened on ``endpoint`` now runs: its deployment's, or before
    that first came up, ``workflow``'s as saved."""
    return endpoint.graph if endpoint.graph is not None else workflow.graph


def _deployed_models(graph: dict[str, Any]) -> list[tuple[object, object]]:
    """What a deployment of ``graph`` holds: each Model block's model and precision (its
    containers hold their engines; a change to any other block needs none)."""
    return [
        (node["config"].get("model"), node["config"].get("precision", "fp32"))
        for node in graph.get("nodes", [])
        if node.get("type") == "model"
    ]
