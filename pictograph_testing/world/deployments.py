"""Model deployments: provisioning, engine builds, pause and resume, metering, the gateway's
side of a request.

A deployment is ``provisioning`` from create (and resume) until its server is up: one
:data:`~pictograph_testing.catalog.DEPLOYMENT_SERVER_START_SECONDS` after its engine is on
hand, and a model version's first deployment on a GPU at a precision builds that engine
first (:attr:`~pictograph_testing.catalog.DeploymentGpu.engine_build_seconds`; a build
under way is shared). It is then ``active`` until paused or deleted (or its model is).
Everything happens lazily on the virtual clock: :meth:`DeploymentService.advance_to` pops
due events from a heap (a server coming up, a failure striking, a meter tick).

Billing, by uptime and by data: a live deployment accrues container-seconds (its warm
containers all the time; with ``min_containers=0`` one container while awake, from a
request until ``scaledown_window`` idle seconds after the last one) and the bytes its
requests send through its endpoint. Every :data:`DEPLOYMENT_METER_SECONDS` of its uptime,
and when it is paused or deleted, the meter posts what is owed: one
``deployment_<gpu>`` debit for the started container-minutes not yet billed, and one
``deployment_transfer`` debit for the GiB sent, each priced cumulatively so nothing is
lost to rounding.

Credit: the meter never bills past the organization's credit. While a deployment is up,
the instant its uptime will have spent the last whole container-minute the balance pays
for is planned as an event (a ``dry`` check, moved as requests wake it, its scaling
changes or the balance is read again at each meter tick). When the spendable balance can
no longer pay one container-minute on its GPU (what ``create`` and ``resume`` need), it
is paused there, like a pause by hand, with a ``deployment_paused`` notification saying
why; so is every other deployment of the organization that can no longer pay its own.
What a meter could not bill (the uptime of others between their ticks, bytes sent just
before) is written off, never posted: the balance does not go below zero for uptime.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from pictograph_testing.catalog import (
    DEPLOYMENT_GPUS,
    DEPLOYMENT_METER_SECONDS,
    DEPLOYMENT_REGIONS,
    DEPLOYMENT_SERVER_START_SECONDS,
    DEPLOYMENT_STREAMS_PER_CONTAINER,
    DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
)
from pictograph_testing.world.billing import billable_minutes, usd, usd_pair
from pictograph_testing.world.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    field_error,
    sent,
)
from pictograph_testing.world.failures import FailureQueue
from pictograph_testing.world.ids import distinct_ids
from pictograph_testing.world.ordered import NewestFirst, SortedIndex, by_seq, index_in

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pictograph_testing.world.entities import ApiKey, Model
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import Streams

__all__ = [
    "AUTO_REGION",
    "DEFAULT_FAILURE",
    "DEPLOYMENT_STATUSES",
    "GIB",
    "INFERENCE_OPTIONS",
    "OUT_OF_CREDIT",
    "Deployment",
    "DeploymentService",
    "DeploymentStatus",
    "EngineBuild",
    "check_scaling",
    "engine_timings",
    "inference_option_problem",
    "resolve_region",
    "transfer_cost",
]

DeploymentStatus = Literal["provisioning", "active", "paused", "failed", "terminated"]
DEPLOYMENT_STATUSES: tuple[DeploymentStatus, ...] = get_args(DeploymentStatus)
AUTO_REGION = "auto"
GIB = 1 << 30
DEFAULT_FAILURE = "Provisioning failed: the server did not start (injected by pictograph-testing)"
_Event = Literal["up", "fail", "meter", "dry"]
OUT_OF_CREDIT = (
    "Deployment '{name}' was paused: the organization's compute credit ran out "
    "({left} left; a container-minute on {gpu} costs {price}). Top up or raise the "
    "budget, then resume it."
)
"""The ``deployment_paused`` notification of a deployment the meter stopped."""


def transfer_cost(sent_bytes: int) -> int:
    """What ``sent_bytes`` of a deployment's requests' data cost (µUSD, rounded half up)."""
    return (sent_bytes * DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB * 2 + GIB) // (2 * GIB)


@dataclass
class EngineBuild:
    """One TensorRT build of a model version for a GPU at a precision (stored once built)."""

    model_id: str
    gpu: str
    precision: str
    started_at: float
    ends_at: float
    estimate_s: float | None
    """How long earlier builds on that GPU took (their mean); ``None`` with no history."""

    def built(self, now: float) -> bool:
        return now >= self.ends_at


class _BuildHistory:
    """How long one GPU's engine builds took, for the estimate a new build shows: the mean
    of those finished by then, kept as a sum (a build is counted once it has ended)."""

    __slots__ = ("_count", "_total", "_unfinished")

    def __init__(self) -> None:
        self._unfinished: list[tuple[float, float]] = []
        """(ends at, seconds taken) of the builds not counted yet: a heap, soonest first."""
        self._total = 0.0
        self._count = 0

    def add(self, build: EngineBuild) -> None:
        heapq.heappush(self._unfinished, (build.ends_at, build.ends_at - build.started_at))

    def mean(self, now: float) -> float | None:
        """The mean seconds of the builds ended by ``now``; ``None`` before the first."""
        unfinished = self._unfinished
        while unfinished and unfinished[0][0] <= now:
            self._total += heapq.heappop(unfinished)[1]
            self._count += 1
        return round(self._total / self._count, 1) if self._count else None


@dataclass
class Deployment:
    """One deployment of a model: its settings, its state, its meter and its gateway counts."""

    id: str
    seq: int
    organization_id: str
    model_id: str
    version_id: str
    model_name: str
    """Its model's name: kept in step with a rename, the last one known once it is deleted."""
    model_type: str
    architecture: str
    name: str
    region: str
    gpu_type: str
    precision: str
    min_containers: int
    max_containers: int
    scaledown_window: int
    rate_limit_rpm: int | None
    inference_config: dict[str, Any]
    auth_token: str
    created_by: str
    created_at: float
    updated_at: float
    readme: str | None = None
    status: DeploymentStatus = "provisioning"
    up_at: float | None = None
    """When its server comes up (or its failure strikes) while it is provisioning."""
    started_at: float | None = None
    paused_at: float | None = None
    error_message: str | None = None
    build: EngineBuild | None = None
    """The build it waited on, or ``None`` when its engine was already stored."""
    generation: int = 0
    """Bumped on every pause, resume and delete: events of an older generation are void."""
    failure: str | None = None
    """A failure a test armed: it strikes when the server would come up."""
    # The meter.
    accrued_to: float | None = None
    container_seconds: float = 0.0
    uptime_seconds: float = 0.0
    awake_since: float | None = None
    awake_until: float = -math.inf
    uptime_charged: int = 0
    """µUSD of uptime settled: posted, or written off when the credit ran out."""
    transfer_bytes: int = 0
    transfer_charged: int = 0
    """µUSD of transfer settled: posted, or written off when the credit ran out."""
    uptime_written_off: int = 0
    transfer_written_off: int = 0
    last_metered_at: float | None = None
    dry_at: float | None = None
    """When its uptime will have spent the credit it can pay for, if it is up till then."""
    # The gateway's counts.
    requests: int = 0
    errors: int = 0
    latency_ms_total: float = 0.0
    last_request_at: float | None = None
    window: tuple[int, int] = (-1, 0)
    """The rate-limit window: (its minute, requests admitted in it)."""

    @property
    def live(self) -> bool:
        """Not terminated: its name is taken and its endpoint exists."""
        return self.status != "terminated"

    def stream_limit(self) -> int:
        """How many streams it runs at once: each of its containers runs
        :data:`~pictograph_testing.catalog.DEPLOYMENT_STREAMS_PER_CONTAINER`."""
        return self.max_containers * DEPLOYMENT_STREAMS_PER_CONTAINER

    @property
    def transfer_cost(self) -> int:
        """What its transfer was billed: the ledger's ``deployment_transfer`` for it."""
        return self.transfer_charged - self.transfer_written_off

    @property
    def accrued_cost(self) -> int:
        """What it was billed: what the ledger holds for it."""
        return self.uptime_charged - self.uptime_written_off + self.transfer_cost

    def running_containers(self, now: float) -> int:
        """The containers up and billed at ``now``."""
        if not self.awake(now):
            return 0
        return max(1, self.min_containers)

    def awake(self, now: float) -> bool:
        """Whether a container is up: always with warm ones, else within the idle window."""
        if self.status != "active":
            return False
        return self.min_containers >= 1 or now < self.awake_until


class DeploymentService:
    """Every organization's deployments, their engine builds, and the heap of what is due."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.deployments: dict[str, Deployment] = {}
        # Indexes, so that a page or a name check costs what it returns, not the
        # organization's every deployment: by creation (``seq``), model, name and status.
        self._by_org: dict[str, list[Deployment]] = {}
        self._by_model: dict[tuple[str, str], list[Deployment]] = {}
        self._by_name: dict[tuple[str, str], SortedIndex[Deployment]] = {}
        self._by_status: dict[tuple[str, str], SortedIndex[Deployment]] = {}
        self._live_named: dict[tuple[str, str], Deployment] = {}
        """The live deployment holding each name of an organization (names are unique among
        live deployments; a terminated one frees its name)."""
        self._by_token: dict[str, Deployment] = {}
        self.builds: dict[tuple[str, str, str], EngineBuild] = {}
        self._build_history: dict[str, _BuildHistory] = {}
        """Per GPU, how long its builds took: what a new build's estimate is read from."""
        self._heap: list[tuple[float, int, str, int, _Event]] = []
        self._order = 0
        self._seq = 0
        self.failures = FailureQueue("deployment", DEFAULT_FAILURE)
        """The failures armed for the next deployments (``fake.faults.fail_deployment``)."""

    # ── reads ──

    def find(self, key: ApiKey, ref: str) -> Deployment:
        """The organization's deployment with id ``ref``, or 404."""
        found = self.deployments.get(ref.strip().lower())
        if found is None or found.organization_id != key.organization_id:
            raise NotFound(f"Deployment '{ref}' not found")
        return found

    def listing(
        self,
        key: ApiKey,
        *,
        model_id: str | None,
        name: str | None,
        status: str | None,
    ) -> Sequence[Deployment]:
        """The organization's deployments, newest first, filtered (a view: do not change it).

        Unfiltered or by status alone, a page of it costs the page; by name or model, the
        deployments of that name or model are read (a handful).
        """
        org = key.organization_id
        model = model_id.strip().lower() if model_id is not None else None
        candidates: Sequence[Deployment]
        if name is not None:
            named = self._by_name.get((org, name))
            candidates = named.newest if named is not None else ()
        elif model is not None:
            candidates = NewestFirst(self._by_model.get((org, model), []))
        elif status is not None:
            index = self._by_status.get((org, status))
            return index.newest if index is not None else ()
        else:
            return NewestFirst(self._by_org.get(org, []))
        return [
            d
            for d in candidates
            if (model is None or d.model_id == model) and (status is None or d.status == status)
        ]

    def by_token(self, token: str) -> Deployment | None:
        return self._by_token.get(token)

    def model_deleted(self, model: Model) -> None:
        """Terminate ``model``'s live deployments, as a delete of each would: a deployment
        cannot serve (or keep billing for) a model whose row is gone, and the SDK's
        ``models.delete`` / ``bulk_delete`` document no refusal for a deployed model."""
        for deployment in self._by_model.get((model.organization_id, model.id), ()):
            if deployment.live:
                self.delete(deployment)

    def model_renamed(self, model: Model) -> None:
        """Follow ``model``'s new name in its deployments (a handful, read by index)."""
        for deployment in self._by_model.get((model.organization_id, model.id), ()):
            deployment.model_name = model.name

    # ── create ──

    def create(
        self,
        key: ApiKey,
        model: Model,
        *,
        name: str | None,
        region: str,
        gpu_type: str,
        precision: str,
        min_containers: int,
        max_containers: int,
        scaledown_window: int,
        rate_limit_rpm: int | None,
        inference_config: dict[str, Any],
    ) -> Deployment:
        """Deploy ``model`` (it must be ``ready``): ``provisioning`` until its server is up.

        Everything is checked before anything changes: the model's status (409), the
        autoscaling bounds (422), the name among the organization's live deployments (409)
        and the organization's credit (402).
        """
        world = self._world
        now = world.now()
        if model.status != "ready":
            raise Conflict(
                f"Model '{model.name}' is {model.status}; only a 'ready' model can be deployed."
            )
        check_scaling(min_containers, max_containers)
        _check_inference_config(inference_config)
        if name is None and "/" in model.name:
            # The default is the model's name, as the SDK documents it; one that cannot be
            # a deployment's is refused saying so, not renamed behind the caller's back
            # (they would look the deployment up by the name they expect).
            raise InvalidRequest(
                f"A deployment sent without a name is named after its model, and model "
                f"'{model.name}' has a '/' in its name, which a deployment name must not "
                f"have. Send a name for the deployment (name=...), such as "
                f"'{model.name.replace('/', '-')}'.",
                errors=[
                    field_error(
                        ("body", "name"),
                        "Field required: the model's name holds '/', so it cannot be the "
                        "deployment's",
                        "missing",
                    )
                ],
            )
        chosen = name if name is not None else model.name
        self._check_name_free(key.organization_id, chosen, None)
        self._check_credit(key.organization_id, gpu_type, "deploy a model")
        version = model.current
        self._seq += 1
        deployment = Deployment(
            id=world.ids.uuid(),
            seq=self._seq,
            organization_id=key.organization_id,
            model_id=model.id,
            version_id=version.id,
            model_name=model.name,
            model_type=model.model_type,
            architecture=version.architecture,
            name=chosen,
            region=resolve_region(region),
            gpu_type=gpu_type,
            precision=precision,
            min_containers=min_containers,
            max_containers=max_containers,
            scaledown_window=scaledown_window,
            rate_limit_rpm=rate_limit_rpm or None,
            # An option set to null is not set: the engine's default stands, as for a
            # request's own options.
            inference_config={k: v for k, v in inference_config.items() if v is not None},
            auth_token=f"pk_deploy_{world.ids.hex(40)}",
            created_by=key.created_by,
            created_at=now,
            updated_at=now,
        )
        deployment.failure = self.failures.take()
        self.deployments[deployment.id] = deployment
        org = key.organization_id
        self._by_org.setdefault(org, []).append(deployment)
        self._by_model.setdefault((org, model.id), []).append(deployment)
        self._file_name(deployment)
        index_in(self._by_status, (org, deployment.status), by_seq).add(deployment)
        self._by_token[deployment.auth_token] = deployment
        self._provision(deployment, now)
        return deployment

    # ── lifecycle ──

    def pause(self, deployment: Deployment) -> Deployment:
        """Stop its server and its meter (its last minutes are billed now); 409 unless it is
        provisioning or active."""
        if deployment.status not in ("provisioning", "active"):
            raise Conflict(
                f"Deployment '{deployment.name}' is {deployment.status}; only a provisioning "
                "or active deployment can be paused."
            )
        self._paused(deployment, self._world.now())
        return deployment

    def resume(self, deployment: Deployment) -> Deployment:
        """Provision a paused deployment again, on its model's current version."""
        if deployment.status != "paused":
            raise Conflict(
                f"Deployment '{deployment.name}' is {deployment.status}; only a paused "
                "deployment can be resumed."
            )
        model = self._world.models.get(deployment.model_id)
        if model is None or model.status != "ready":
            raise Conflict(
                f"Deployment '{deployment.name}' cannot be resumed: its model "
                f"'{deployment.model_name}' is no longer ready. Deploy another model."
            )
        self._check_credit(deployment.organization_id, deployment.gpu_type, "resume a deployment")
        now = self._world.now()
        deployment.version_id = model.current.id
        deployment.architecture = model.current.architecture
        self._set_status(deployment, "provisioning")
        deployment.paused_at = None
        deployment.updated_at = now
        self._provision(deployment, now)
        return deployment

    def delete(self, deployment: Deployment) -> None:
        """Terminate it: its server stops (its last minutes are billed), its endpoint goes."""
        if deployment.status == "terminated":
            raise Conflict(f"Deployment '{deployment.name}' is already terminated.")
        now = self._world.now()
        self._settle(deployment, now)
        self._set_status(deployment, "terminated")
        self._release_name(deployment)
        deployment.updated_at = now
        deployment.up_at = None

    def update(self, key: ApiKey, deployment: Deployment, changes: dict[str, Any]) -> Deployment:
        """Change its name, README, autoscaling or request ceiling: only what ``changes``
        holds (all checked before any is applied)."""
        scaling = {"min_containers", "max_containers", "scaledown_window"} & set(changes)
        if deployment.status == "terminated" or (scaling and deployment.status == "failed"):
            raise Conflict(
                f"Deployment '{deployment.name}' is {deployment.status}: its settings cannot "
                "change. Deploy the model again."
            )
        low = changes.get("min_containers", deployment.min_containers)
        high = changes.get("max_containers", deployment.max_containers)
        check_scaling(low, high)
        name = changes.get("name")
        if name is not None and name != deployment.name:
            self._check_name_free(deployment.organization_id, name, deployment)
        if low > deployment.min_containers:
            self._check_credit(
                deployment.organization_id, deployment.gpu_type, "keep more containers warm"
            )
        now = self._world.now()
        self._accrue(deployment, now)
        window = changes.get("scaledown_window", deployment.scaledown_window)
        if deployment.status == "active" and low == 0 < deployment.min_containers:
            # Its last warm container scales down after the idle window, like any other.
            deployment.awake_since = now
            deployment.awake_until = now + window
        elif window != deployment.scaledown_window and low == 0 and deployment.awake(now):
            # An active deployment takes a scaling change at once: the awake container's
            # idle time counts from the request (or scale-down) that set its window, so the
            # new window applies from there. One already idle longer scales down now, not
            # in the past: it was up, and billed, until this change.
            idle_from = deployment.awake_until - deployment.scaledown_window
            deployment.awake_until = max(now, idle_from + window)
        for field_name, value in changes.items():
            if field_name == "name":
                self._rename(deployment, value)
            elif field_name == "readme":
                deployment.readme = value or None
            elif field_name == "rate_limit_rpm":
                deployment.rate_limit_rpm = value or None
            else:
                setattr(deployment, field_name, value)
        deployment.updated_at = now
        if scaling:
            # More (or fewer) containers spend the credit sooner (or later).
            self._watch_credit(deployment, now)
        return deployment

    def bulk(
        self, key: ApiKey, action: Literal["pause", "resume", "delete"], ids: list[str]
    ) -> tuple[list[str], list[str]]:
        """Apply ``action`` to each id (duplicates collapsed); an id that does not resolve in
        the organization, or cannot take the action, is reported as not found."""
        if not ids:
            raise InvalidRequest(
                "deployment_ids must name at least one deployment.",
                errors=[field_error(("body", "deployment_ids"), "must not be empty", "too_short")],
            )
        succeeded: list[str] = []
        not_found: list[str] = []
        for ref in distinct_ids(ids):
            found = self.deployments.get(ref.strip().lower())
            if found is None or found.organization_id != key.organization_id:
                not_found.append(ref)
                continue
            try:
                if action == "pause":
                    self.pause(found)
                elif action == "resume":
                    self.resume(found)
                else:
                    self.delete(found)
            except (Conflict, InsufficientCredits):
                not_found.append(ref)
                continue
            succeeded.append(ref)
        return succeeded, not_found

    def fail_next(self, message: str = DEFAULT_FAILURE, *, count: int = 1) -> None:
        """Make the next ``count`` deployments created fail where their server would come up."""
        self.failures.arm(message, count=count)

    # ── the gateway ──

    def admit_request(self, deployment: Deployment, now: float) -> float | None:
        """Count one request against its ceiling; the seconds to wait when it is over."""
        ceiling = deployment.rate_limit_rpm
        minute = math.floor(now / 60.0)
        start, count = deployment.window
        if start != minute:
            start, count = minute, 0
        if ceiling is not None and count >= ceiling:
            deployment.window = (start, count)
            return max(1.0, math.ceil((minute + 1) * 60.0 - now))
        deployment.window = (start, count + 1)
        return None

    def record_request(
        self, deployment: Deployment, now: float, sent_bytes: int, latency_ms: float, ok: bool
    ) -> None:
        """An answered request: it wakes a scaled-to-zero deployment, its bytes are metered,
        and the gateway counts it."""
        if deployment.status == "active":
            self._accrue(deployment, now)
            if deployment.min_containers == 0:
                if now >= deployment.awake_until:
                    deployment.awake_since = now
                deployment.awake_until = now + deployment.scaledown_window
            deployment.transfer_bytes += sent_bytes
            self._watch_credit(deployment, now)
        deployment.requests += 1
        if not ok:
            deployment.errors += 1
        deployment.latency_ms_total += latency_ms
        deployment.last_request_at = now

    def stream_activity(self, deployment: Deployment, now: float) -> None:
        """A stream on it was opened, read or called at ``now``: a scaled-to-zero
        deployment stays up (and billed) as for a request, which the counts leave out."""
        if deployment.status != "active":
            return
        self._accrue(deployment, now)
        if deployment.min_containers == 0:
            if now >= deployment.awake_until:
                deployment.awake_since = now
            deployment.awake_until = max(deployment.awake_until, now + deployment.scaledown_window)
        self._watch_credit(deployment, now)

    # ── the simulation ──

    @property
    def next_event(self) -> float:
        """When a deployment acts next, at the earliest (for the world's agenda)."""
        return self._heap[0][0] if self._heap else math.inf

    def advance_to(self, now: float) -> None:
        """Carry out, in time order, every event due at or before ``now``."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, deployment_id, generation, kind = heapq.heappop(heap)
            deployment = self.deployments[deployment_id]
            if deployment.generation != generation:
                continue
            if kind == "up":
                self._come_up(deployment, at)
            elif kind == "fail":
                self._fail(deployment, at)
            elif kind == "dry":
                if deployment.dry_at != at:
                    continue  # moved since: a later (or earlier) check stands instead
                deployment.dry_at = None
                self._accrue(deployment, at)
                self._charge(deployment, at)
                if not self._ran_dry(deployment, at):
                    self._watch_credit(deployment, at)
            else:
                self._accrue(deployment, at)
                self._charge(deployment, at)
                if not self._ran_dry(deployment, at):
                    self._schedule(deployment, at + DEPLOYMENT_METER_SECONDS, "meter")
                    self._watch_credit(deployment, at)

    def _schedule(self, deployment: Deployment, at: float, kind: _Event) -> None:
        self._order += 1
        heapq.heappush(self._heap, (at, self._order, deployment.id, deployment.generation, kind))
        self._world.agenda.expect(at)

    def _provision(self, deployment: Deployment, now: float) -> None:
        deployment.generation += 1
        deployment.error_message = None
        engine = (deployment.version_id, deployment.gpu_type, deployment.precision)
        build = self.builds.get(engine)
        if build is None:
            build = self._start_build(deployment, now)
            self.builds[engine] = build
        deployment.build = None if build.built(now) else build
        ready = max(now, build.ends_at)
        deployment.up_at = ready + DEPLOYMENT_SERVER_START_SECONDS
        self._schedule(deployment, deployment.up_at, "up" if deployment.failure is None else "fail")

    def _start_build(self, deployment: Deployment, now: float) -> EngineBuild:
        gpu = deployment.gpu_type
        history = self._build_history.get(gpu)
        if history is None:
            history = self._build_history[gpu] = _BuildHistory()
        build = EngineBuild(
            model_id=deployment.model_id,
            gpu=gpu,
            precision=deployment.precision,
            started_at=now,
            ends_at=now + DEPLOYMENT_GPUS[gpu].engine_build_seconds,
            estimate_s=history.mean(now),
        )
        history.add(build)
        return build

    def _come_up(self, deployment: Deployment, at: float) -> None:
        self._set_status(deployment, "active")
        deployment.started_at = at
        deployment.updated_at = at
        deployment.up_at = None
        deployment.accrued_to = at
        deployment.awake_since = None
        deployment.awake_until = -math.inf
        self._schedule(deployment, at + DEPLOYMENT_METER_SECONDS, "meter")
        self._world.feeds.notify(
            deployment.organization_id,
            "deployment_active",
            "Deployment active",
            at=at,
            message=f"Deployment '{deployment.name}' is active and answering at its endpoint.",
            metadata={"deployment_id": deployment.id, "model_id": deployment.model_id},
            user_id=deployment.created_by,
        )
        if not self._ran_dry(deployment, at):
            self._watch_credit(deployment, at)

    def _fail(self, deployment: Deployment, at: float) -> None:
        self._set_status(deployment, "failed")
        deployment.error_message = deployment.failure or DEFAULT_FAILURE
        deployment.failure = None
        deployment.updated_at = at
        deployment.up_at = None
        self._world.feeds.notify(
            deployment.organization_id,
            "deployment_failed",
            "Deployment failed",
            at=at,
            message=f"Deployment '{deployment.name}' failed: {deployment.error_message}",
            metadata={"deployment_id": deployment.id, "model_id": deployment.model_id},
            user_id=deployment.created_by,
        )

    # ── the meter ──

    def _accrue(self, deployment: Deployment, now: float) -> None:
        """Add the container-seconds from the last accrual to ``now``."""
        start = deployment.accrued_to
        if deployment.status != "active" or start is None or now <= start:
            return
        if deployment.min_containers >= 1:
            span = now - start
            deployment.container_seconds += span * deployment.min_containers
            deployment.uptime_seconds += span
        else:
            since = deployment.awake_since
            low = start if since is None else max(start, since)
            high = min(now, deployment.awake_until)
            if high > low:
                deployment.container_seconds += high - low
                deployment.uptime_seconds += high - low
        deployment.accrued_to = now

    def _charge(self, deployment: Deployment, at: float) -> None:
        """Post what the deployment owes beyond what it was billed (nothing: no entry), as
        far as the organization's credit goes; the rest is written off (see the module)."""
        world = self._world
        org = world.organizations[deployment.organization_id]
        gpu = DEPLOYMENT_GPUS[deployment.gpu_type]
        minutes = billable_minutes(deployment.container_seconds)
        owed = minutes * gpu.micro_usd_per_minute - deployment.uptime_charged
        sent = transfer_cost(deployment.transfer_bytes) - deployment.transfer_charged
        payable = max(0, world.billing.spendable(org))
        metadata = {"deployment_id": deployment.id, "model_id": deployment.model_id}
        if owed > 0:
            paid = min(owed, payable)
            payable -= paid
            deployment.uptime_charged += owed
            deployment.uptime_written_off += owed - paid
            if paid > 0:
                unpaid = "" if paid == owed else f"; {usd(owed - paid)} unpaid: credit ran out"
                world.billing.post(
                    org,
                    f"deployment_{gpu.name}",
                    -paid,
                    description=f"Deployment '{deployment.name}' on {gpu.name} "
                    f"({owed // gpu.micro_usd_per_minute} container-min{unpaid})",
                    metadata={**metadata, "container_minutes": minutes},
                    at=at,
                )
        if sent > 0:
            paid = min(sent, payable)
            deployment.transfer_charged += sent
            deployment.transfer_written_off += sent - paid
            if paid > 0:
                world.billing.post(
                    org,
                    "deployment_transfer",
                    -paid,
                    description=f"Deployment '{deployment.name}' data transfer",
                    metadata={**metadata, "transfer_bytes": deployment.transfer_bytes},
                    at=at,
                )
        deployment.last_metered_at = at

    # ── credit ──

    def _watch_credit(self, deployment: Deployment, at: float) -> None:
        """Plan the check at the instant an up deployment's uptime will have spent the last
        whole container-minute the organization's balance pays for (unless it sleeps first,
        or an earlier check is planned: that one plans again)."""
        running = deployment.running_containers(at)
        if deployment.status != "active" or running == 0:
            return
        self._accrue(deployment, at)
        world = self._world
        price = DEPLOYMENT_GPUS[deployment.gpu_type].micro_usd_per_minute
        unsent = transfer_cost(deployment.transfer_bytes) - deployment.transfer_charged
        left = world.billing.spendable(world.organizations[deployment.organization_id]) - unsent
        # Container-seconds paid for so far plus those the balance still pays for, in
        # whole minutes as they are billed: past this, a minute starts that it cannot pay.
        payable = (deployment.uptime_charged // price + max(0, left) // price) * 60
        dry_at = at + max(0.0, payable - deployment.container_seconds) / running
        if deployment.min_containers == 0 and dry_at >= deployment.awake_until:
            return  # it sleeps first; the request that wakes it watches again
        planned = deployment.dry_at
        if planned is not None and at <= planned <= dry_at:
            return
        deployment.dry_at = dry_at
        self._schedule(deployment, dry_at, "dry")

    def _ran_dry(self, deployment: Deployment, at: float) -> bool:
        """Pause the organization's deployments that can no longer pay a container-minute,
        when ``deployment`` is one of them; whether it was."""
        world = self._world
        org = world.organizations[deployment.organization_id]
        if (
            world.billing.spendable(org)
            >= DEPLOYMENT_GPUS[deployment.gpu_type].micro_usd_per_minute
        ):
            return False
        # They draw on one balance: the others are billed up to now, and those it no
        # longer pays for stop here too, not at their own next check.
        active = self._by_status.get((org.id, "active"))
        for other in list(active.newest) if active is not None else [deployment]:
            if other is not deployment:
                self._accrue(other, at)
                self._charge(other, at)
            left = world.billing.spendable(org)
            if left < DEPLOYMENT_GPUS[other.gpu_type].micro_usd_per_minute:
                self._pause_unpaid(other, at, left)
            else:
                self._watch_credit(other, at)  # its last plan read a larger balance
        return True

    def _paused(self, deployment: Deployment, at: float) -> None:
        """Stop its server and its meter at ``at``, billing what is owed until then."""
        self._settle(deployment, at)
        self._set_status(deployment, "paused")
        deployment.paused_at = at
        deployment.updated_at = at
        deployment.up_at = None

    def _pause_unpaid(self, deployment: Deployment, at: float, left: int) -> None:
        self._paused(deployment, at)
        gpu = DEPLOYMENT_GPUS[deployment.gpu_type]
        shown_price, shown_left = usd_pair(gpu.micro_usd_per_minute, max(0, left))
        self._world.feeds.notify(
            deployment.organization_id,
            "deployment_paused",
            "Deployment paused",
            at=at,
            message=OUT_OF_CREDIT.format(
                name=deployment.name,
                left=shown_left,
                gpu=gpu.name,
                price=shown_price,
            ),
            metadata={
                "deployment_id": deployment.id,
                "model_id": deployment.model_id,
                "reason": "insufficient_credits",
            },
            user_id=deployment.created_by,
        )

    def _settle(self, deployment: Deployment, now: float) -> None:
        """Stop the meter and its events, billing what is owed up to ``now``; its
        streams end with its containers."""
        deployment.generation += 1
        streams: Streams | None = self._world.built("streams")
        if streams is not None:
            streams.container_stopping(deployment.id, now)
        if deployment.status == "active":
            self._accrue(deployment, now)
            self._charge(deployment, now)
        deployment.accrued_to = None
        deployment.awake_since = None
        deployment.awake_until = -math.inf
        deployment.dry_at = None

    # ── indexes ──

    def _set_status(self, deployment: Deployment, status: DeploymentStatus) -> None:
        org = deployment.organization_id
        self._by_status[org, deployment.status].remove(deployment)
        deployment.status = status
        index_in(self._by_status, (org, status), by_seq).add(deployment)

    def _file_name(self, deployment: Deployment) -> None:
        slot = (deployment.organization_id, deployment.name)
        index_in(self._by_name, slot, by_seq).add(deployment)
        if deployment.live:
            self._live_named[slot] = deployment

    def _release_name(self, deployment: Deployment) -> None:
        slot = (deployment.organization_id, deployment.name)
        if self._live_named.get(slot) is deployment:
            del self._live_named[slot]

    def _rename(self, deployment: Deployment, name: str) -> None:
        org = deployment.organization_id
        self._by_name[org, deployment.name].remove(deployment)
        self._release_name(deployment)
        deployment.name = name
        self._file_name(deployment)

    # ── rules ──

    def _check_name_free(self, org_id: str, name: str, ignore: Deployment | None) -> None:
        if "/" in name:
            raise InvalidRequest(
                f"Deployment name '{name}' must not contain '/'.",
                errors=[field_error(("body", "name"), "must not contain '/'", "value_error")],
            )
        other = self._live_named.get((org_id, name))
        if other is not None and other is not ignore:
            raise Conflict(
                f"A live deployment named '{name}' already exists in this organization; "
                "choose another name (or delete that one)."
            )

    def _check_credit(self, org_id: str, gpu_type: str, action: str) -> None:
        world = self._world
        spendable = world.billing.spendable(world.organizations[org_id])
        needed = DEPLOYMENT_GPUS[gpu_type].micro_usd_per_minute
        if spendable < needed:
            costs, has = usd_pair(needed, spendable)
            raise InsufficientCredits(
                f"Not enough compute credit to {action} (one container-minute on {gpu_type} "
                f"costs {costs}, has {has}).",
                required=needed,
                remaining=spendable,
            )


def engine_timings(deployment: Deployment, width: int, height: int) -> tuple[float, float, float]:
    """The engine's own decode, forward-pass and total times: fixed by GPU, precision, size."""
    megapixels = width * height / 1_000_000
    decode = round(0.4 + 1.2 * megapixels, 3)
    infer = DEPLOYMENT_GPUS[deployment.gpu_type].infer_ms_fp32
    if deployment.precision == "fp16":
        infer /= 2
    infer = round(infer * (1 + 0.05 * megapixels), 3)
    return decode, infer, round(decode + infer + 0.3, 3)


def resolve_region(region: str) -> str:
    """The region a deployment runs in: ``auto`` is the nearest, always the first here."""
    return DEPLOYMENT_REGIONS[0][0] if region == AUTO_REGION else region


def check_scaling(low: int, high: int, *, sent_in: Literal["body", "query"] = "body") -> None:
    """Refuse (422) a ceiling below the floor; the field error points where they were sent
    (a quote takes them in its query)."""
    if high < low:
        raise InvalidRequest(
            f"max_containers ({high}) must not be below min_containers ({low}).",
            errors=[
                field_error(
                    (sent_in, "max_containers"), "must be at least min_containers", "value_error"
                )
            ],
        )


def inference_option_problem(name: str, value: Any) -> str | None:
    """What is wrong with the inference option ``name`` set to ``value`` (``None``: not
    set), as a request sends it or a deployment's ``inference_config`` sets its default;
    ``None`` when nothing is. One rule for both: a default that every request would be
    refused for is refused when it is set, not on each request after."""
    if value is None or name not in _OPTION_RULES:
        return None
    fits, problem, _ = _OPTION_RULES[name]
    return None if fits(value) else f"{name} {problem}"


def _unit_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0.0 <= value <= 1.0


def _count(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def _class_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(c, str) for c in value)


_OPTION_RULES: dict[str, tuple[Callable[[Any], bool], str, tuple[str, str]]] = {
    "confidence": (
        _unit_number,
        "must be a number between 0 and 1",
        ("Input should be between 0 and 1", "range_error"),
    ),
    "top_k": (
        _count,
        "must be a whole number of at least 1",
        ("Input should be greater than or equal to 1", "greater_than_equal"),
    ),
    "class_filter": (
        _class_names,
        "must be a list of class names",
        ("Input should be a valid list of strings", "list_type"),
    ),
}
"""Each request option: whether a value fits, what the refusal says, and its field error."""
INFERENCE_OPTIONS: tuple[str, ...] = tuple(_OPTION_RULES)
"""The options a request (or a deployment's ``inference_config``) may set for the engine."""


def _check_inference_config(config: dict[str, Any]) -> None:
    if "rate_limit_rpm" in config:
        raise InvalidRequest(
            "A request ceiling is not an inference_config key: send rate_limit_rpm beside it.",
            errors=[
                field_error(
                    ("body", "inference_config", "rate_limit_rpm"),
                    "Extra inputs are not permitted",
                    "extra_forbidden",
                )
            ],
        )
    for name, (_, _, (detail, kind)) in _OPTION_RULES.items():
        problem = inference_option_problem(name, config.get(name))
        if problem is not None:
            raise InvalidRequest(
                f"inference_config.{problem}, got {sent(config[name])}.",
                errors=[field_error(("body", "inference_config", name), detail, kind)],
            )
