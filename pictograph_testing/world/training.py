"""Training runs on simulated GPUs: admission, planning, queueing, and the lifecycle.

Nothing here runs in the background. A run's whole future is planned when a worker is
assigned to it (cold start, epoch length, whether it runs out of memory or into the
two-hour cap), and :meth:`TrainingService.advance_to` replays the finished parts of that
future in time order whenever the world catches up with its clock: the same calls at
the same virtual times always give the same runs.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, get_args

from pictograph_testing.catalog import (
    DEFAULT_GPU_TIER,
    EPOCH_OVERHEAD_SECONDS,
    GPU_TIERS,
    OOM_AFTER_SECONDS,
    PIPELINES,
    SERVICE_CAP_SECONDS,
    GpuTier,
    Pipeline,
    Variant,
)
from pictograph_testing.world.billing import billable_minutes, usd
from pictograph_testing.world.class_support import ClassSupport, count_support, left_out_warning
from pictograph_testing.world.entities import TERMINAL, ApiKey, Dataset, Export, Model, TrainingRun
from pictograph_testing.world.errors import (
    DatasetCold,
    FieldError,
    InvalidRequest,
    KeyWithoutCreator,
    NotFound,
    field_error,
    sent,
)
from pictograph_testing.world.exports import export_classes
from pictograph_testing.world.ids import canonical_id, distinct_ids, splitmix64
from pictograph_testing.world.ordered import NewestFirst, SortedIndex

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.state import World

__all__ = [
    "CONFIG_LIMITS",
    "FAILURE_REASONS",
    "Admission",
    "Blocker",
    "FailureReason",
    "Quote",
    "RunFailure",
    "RunPlan",
    "RunRequest",
    "RunView",
    "TierFit",
    "TrainingService",
    "eta_seconds",
    "final_metrics",
    "final_view",
    "live_status",
    "peak_mib",
    "plan_run",
    "run_state",
    "running_snapshot",
]

CONFIG_LIMITS: dict[str, tuple[int, int]] = {
    "epochs": (1, 1000),
    "batch_size": (1, 512),
    "image_size": (32, 4096),
    "image_width": (32, 4096),
    "image_height": (32, 4096),
}
"""The whole-number config fields the API takes, and their inclusive limits."""


@dataclass(frozen=True)
class RunRequest:
    """What ``create`` and ``quote`` send (``name`` is ``None`` for a quote).

    ``gpu_type`` ``None`` (or empty) asks for the catalog's default tier.
    """

    dataset_name: str
    export_name: str
    pipeline_type: str
    gpu_type: str | None
    config: dict[str, Any]
    name: str | None = None
    version_of_model_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The deterministic future of a run on its tier, from the moment it starts."""

    variant: Variant
    tier: GpuTier
    epochs: int
    batch_size: int
    image_width: int
    image_height: int
    images: int
    epoch_seconds: float
    peak_mib: int
    outcome: str
    """``completed``, ``oom`` or ``service_cap``."""
    running_seconds: float
    """Time from ``started_at`` to the run's end if nothing intervenes."""
    planned_seconds: float
    """Training time of all the epochs (what an estimate is based on)."""

    @property
    def fits(self) -> bool:
        return self.peak_mib <= self.tier.total_mib


def peak_mib(variant: Variant, batch_size: int, width: int, height: int) -> int:
    """Predict a run's peak GPU memory: weights plus activations for one batch."""
    scale = (width * height) / float(variant.input_size * variant.input_size)
    return round(variant.base_mib + variant.mib_per_sample * batch_size * scale)


def plan_run(
    variant: Variant,
    tier: GpuTier,
    epochs: int,
    batch_size: int,
    width: int,
    height: int,
    images: int,
) -> RunPlan:
    """Plan a run: epoch length from data and speed; OOM and the service cap decide its end."""
    scale = (width * height) / float(variant.input_size * variant.input_size)
    epoch_seconds = variant.seconds_per_image * scale * images / tier.speed
    epoch_seconds = round(epoch_seconds + EPOCH_OVERHEAD_SECONDS, 3)
    peak = peak_mib(variant, batch_size, width, height)
    planned = epochs * epoch_seconds
    if peak > tier.total_mib:
        # CUDA gives up inside the first epoch: no epoch finishes, so none reports metrics.
        outcome, running = "oom", min(OOM_AFTER_SECONDS, epoch_seconds / 2)
    elif planned > SERVICE_CAP_SECONDS:
        outcome, running = "service_cap", float(SERVICE_CAP_SECONDS)
    else:
        outcome, running = "completed", planned
    return RunPlan(
        variant,
        tier,
        epochs,
        batch_size,
        width,
        height,
        images,
        epoch_seconds,
        peak,
        outcome,
        running,
        planned,
    )


FailureReason = Literal["oom", "preemption", "data_error"]
"""Why an injected failure stops a run (see :class:`RunFailure`)."""
FAILURE_REASONS: tuple[FailureReason, ...] = get_args(FailureReason)


@dataclass(frozen=True)
class RunFailure:
    """A failure a test arranged: the run stops during ``epoch`` (preempted runs requeue,
    cancelled ones end as a user's cancel would end them).

    ``target`` names the run (an id or a name); ``None`` means the next run created.
    """

    reason: str
    epoch: int
    message: str | None = None
    requeue: bool = False
    target: str | None = None
    cancel: bool = False

    def describe(self) -> str:
        if self.requeue:
            what = "preempt and requeue"
        elif self.cancel:
            what = "cancel"
        else:
            what = f"fail ({self.reason})"
        run = f"run {self.target!r}" if self.target is not None else "the next run"
        return f"{what} {run} at epoch {self.epoch}"

    def why_unfired(self) -> str:
        """Say why strict teardown found it unfired: it waits for a run to be created."""
        run = f"run {self.target!r}" if self.target is not None else "run"
        return (
            f"no {run} was created while it was armed to take it (a run takes one "
            "failure: the first armed for it)"
        )


@dataclass(frozen=True)
class Admission:
    """Everything create and quote establish about a request before any write."""

    dataset: Dataset
    export: Export
    pipeline: Pipeline
    requested_gpu: str
    """The tier asked for (the catalog's default when none was): a tier name or ``auto``."""
    plan: RunPlan
    config: dict[str, Any]
    recommended_gpu: str
    autoselect: dict[str, Any] | None
    version_of: Model | None
    support: ClassSupport

    @property
    def classes(self) -> list[str]:
        """The classes the run trains: the export's after overrides, less those left out."""
        return self.support.trainable


@dataclass(frozen=True)
class TierFit:
    """Whether a quoted run would fit one GPU tier's memory, and that tier's price."""

    tier: GpuTier
    fits: bool | None
    """``None`` when the pipeline publishes no memory estimate."""
    micro_usd_per_minute: int


@dataclass(frozen=True)
class Blocker:
    """Why a quoted run could not start now: a machine-readable code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Quote:
    """What a run would cost and whether it could start now, established without a write."""

    admission: Admission
    fits: bool | None
    """Whether the run fits its tier; ``None`` when the pipeline publishes no estimate."""
    tiers: tuple[TierFit, ...]
    """Every tier, cheapest first."""
    billing: Literal["prepaid", "charge_on_success"]
    minutes: int
    """Billable minutes of the planned training time (at least one)."""
    micro_usd_per_minute: int
    total_micro_usd: int
    spendable_micro_usd: int
    required_to_start_micro_usd: int
    """What the balance must hold for create to accept the run: the pre-charge under
    prepaid billing, the start gate under charge-on-success."""
    blocking: tuple[Blocker, ...]

    @property
    def covers_estimate(self) -> bool:
        return self.spendable_micro_usd >= self.total_micro_usd

    @property
    def can_start(self) -> bool:
        return not self.blocking


@dataclass(frozen=True, slots=True, init=False)
class RunView:
    """A run as a poll sees it at one virtual instant: what ``training.get`` shows.

    Built by :func:`run_state`; a run that has ended keeps its last view as ``run.final``.
    """

    status: str
    """``pending``, ``queued``, ``running`` (from the end of the cold start) or terminal."""
    progress: int
    """Percent of the planned training done: 0 before training, at most 99 until completed."""
    epoch: int
    """The epoch in progress (the last one reached once ended); 0 before training starts."""
    metrics: dict[str, Any]
    """The last finished epoch's validation metrics (empty before the first); shared, do
    not mutate."""
    training_seconds: int | None
    """Whole seconds the run trained, once it has ended; ``None`` until then."""
    started_at: float | None
    """Virtual second training started; ``None`` before then, and for a run that ended
    during its cold start."""
    completed_at: float | None
    """Virtual second the run ended; ``None`` while it is live."""
    model_id: str | None = None
    """The trained model, once the run has completed."""
    error_message: str | None = None
    """Why the run failed, once it has."""

    def __init__(
        self,
        status: str,
        progress: int,
        epoch: int,
        metrics: dict[str, Any],
        training_seconds: int | None,
        started_at: float | None,
        completed_at: float | None,
        model_id: str | None = None,
        error_message: str | None = None,
    ) -> None:
        # Built on every poll of a live run: the slots' own setters cost half of the
        # generic object.__setattr__ that a frozen dataclass's generated __init__ uses.
        _set_status(self, status)
        _set_progress(self, progress)
        _set_epoch(self, epoch)
        _set_metrics(self, metrics)
        _set_training_seconds(self, training_seconds)
        _set_started_at(self, started_at)
        _set_completed_at(self, completed_at)
        _set_model_id(self, model_id)
        _set_error_message(self, error_message)


(
    _set_status,
    _set_progress,
    _set_epoch,
    _set_metrics,
    _set_training_seconds,
    _set_started_at,
    _set_completed_at,
    _set_model_id,
    _set_error_message,
) = (RunView.__dict__[f.name].__set__ for f in fields(RunView))


class _Tier:
    """The workers of one GPU tier: the runs on them and the runs waiting, FIFO.

    Both are keyed by run id: membership and removal cost O(1) whatever the number of
    workers (a list would compare dataclasses field by field).
    """

    def __init__(self, spec: GpuTier, workers: int) -> None:
        # A float or a string (from a config file, say) would fail later, mid-scheduling.
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(
                f"a tier needs a whole number of workers, at least one (got {workers!r} "
                f"for {spec.name})"
            )
        self.spec = spec
        self.workers = workers
        self.busy: dict[str, TrainingRun] = {}
        self.waiting: OrderedDict[str, TrainingRun] = OrderedDict()


class TrainingService:
    """Admit, queue, run, finish and cancel training runs on the world's GPU tiers."""

    def __init__(self, world: World, gpu_workers: dict[str, int]) -> None:
        unknown = set(gpu_workers) - set(GPU_TIERS)
        if unknown:
            raise ValueError(f"unknown GPU tier(s) {sorted(unknown)}; known: {list(GPU_TIERS)}")
        self._world = world
        self._tiers = {
            name: _Tier(spec, gpu_workers.get(name, spec.workers))
            for name, spec in GPU_TIERS.items()
        }
        self._next_event = math.inf
        # The planned end of every busy run, soonest first: (ends_at, seq, token, run).
        # An entry is stale once the run's end moved or it left its worker; `_token`
        # holds each busy run's live entry, so stale ones are skipped when they surface.
        self._ends: list[tuple[float, int, int, TrainingRun]] = []
        self._token: dict[str, int] = {}
        self._tokens = 0
        self._seq = 0
        # Each organization's runs in creation order (runs are never removed), and the
        # same per dataset; the newest run of each name; the runs not yet ended; and the
        # ended ones per status (all the organization's, and per dataset), in creation
        # order: a filtered page reads its own rows, not the organization's.
        self._by_org: dict[str, list[TrainingRun]] = {}
        self._by_dataset: dict[tuple[str, str], list[TrainingRun]] = {}
        self._named: dict[tuple[str, str], TrainingRun] = {}
        self._live: dict[str, dict[str, TrainingRun]] = {}
        self._ended: dict[tuple[str, str | None, str], SortedIndex[TrainingRun]] = {}
        # Failures waiting for the run they name (or the next run) to be created.
        self._armed: list[RunFailure] = []
        # Class support per (export, kinds, overrides, images deleted so far): _support.
        self._supports: dict[tuple[Any, ...], ClassSupport] = {}

    # ── admission (shared by create and quote) ──

    def admit(self, key: ApiKey, request: RunRequest) -> Admission:
        """Run every check create and quote share, in the API's order; write nothing."""
        world = self._world
        profile = world.profile
        dataset = world.dataset(key.organization_id, request.dataset_name)
        export = world.export(dataset, request.export_name)
        if export.status != "completed":
            raise InvalidRequest(
                f"Export '{export.name}' must be completed before training "
                f"(current status: {export.status})",
                status=400,
            )
        if export.image_count == 0:
            raise InvalidRequest(
                f"Export '{export.name}' is empty: it names no images.", status=400
            )
        if not profile.allows_pipeline(request.pipeline_type):
            choices = ", ".join(f"'{p}'" for p in sorted(profile.pipelines))
            raise InvalidRequest(
                f"Unknown pipeline_type '{request.pipeline_type}': choose one of {choices}.",
                errors=[
                    field_error(
                        ("body", "pipeline_type"), f"Input should be {choices}", "literal_error"
                    )
                ],
            )
        # Only a tier left out (or null) is the default: blank text is no tier.
        requested = DEFAULT_GPU_TIER if request.gpu_type is None else request.gpu_type
        if requested not in profile.gpu_types:
            choices = ", ".join(f"'{g}'" for g in sorted(profile.gpu_types))
            raise InvalidRequest(
                f"Unknown gpu_type '{requested}': choose one of {choices}.",
                errors=[
                    field_error(("body", "gpu_type"), f"Input should be {choices}", "literal_error")
                ],
            )
        pipeline = PIPELINES[request.pipeline_type]
        config = _unwrap_config(request.config, pipeline)
        variant, epochs, batch, width, height = _read_config(
            config, pipeline, profile.default_epochs
        )
        support = self._support(dataset, export, pipeline, config)
        version_of = self._version_target(key, request, pipeline)
        if profile.min_images and export.image_count < profile.min_images:
            which = f"'{export.status_filter}'" if export.status_filter else "any status"
            raise InvalidRequest(
                f"Training needs at least {profile.min_images} images matching the export's "
                f"status_filter ({which}) to split into train / val / test; export "
                f"'{export.name}' has {export.image_count}.",
                errors=[
                    field_error(
                        ("body", "export_name"),
                        f"needs at least {profile.min_images} images, has {export.image_count}",
                        "dataset_too_small",
                    )
                ],
            )
        recommended = _cheapest_fitting(variant, batch, width, height)
        autoselect: dict[str, Any] | None = None
        if requested == "auto":
            gpu = recommended
            autoselect = {
                "version": 2,
                "requested": "auto",
                "resolved_gpu_type": gpu,
                "predicted_peak_mib": peak_mib(variant, batch, width, height),
            }
        else:
            gpu = requested
        plan = plan_run(variant, GPU_TIERS[gpu], epochs, batch, width, height, export.image_count)
        stored = {
            **{k: v for k, v in config.items() if k != "image_size"},
            "epochs": epochs,
            "batch_size": batch,
            "learning_rate": config.get("learning_rate", pipeline.learning_rate),
            "model_size": variant.name,
            "image_width": width,
            "image_height": height,
        }
        if autoselect is not None:
            stored["gpu_autoselect"] = autoselect
        return Admission(
            dataset,
            export,
            pipeline,
            requested,
            plan,
            stored,
            recommended,
            autoselect,
            version_of,
            support,
        )

    def _support(
        self, dataset: Dataset, export: Export, pipeline: Pipeline, config: dict[str, Any]
    ) -> ClassSupport:
        """The export's support for each class the run would train; refuse a run with none.

        Memoized: an export's contents never change, so a class list, overrides and
        pipeline count the same every time (and creating many runs from one large
        export counts it once).
        """
        world = self._world
        job = world.export_service.jobs[export.id]
        # The classes the export was taken with (a rename or merge since changes the
        # dataset, not the export), those its class_filter selected.
        selected = export_classes(export, job.classes or dataset.class_names)
        overrides = _class_overrides(config)
        classes = _trained_classes(dataset, selected, overrides)
        memo_key = (
            export.id,
            pipeline.trained_kinds,
            tuple(sorted(overrides.items())),
            # Images deleted since the export no longer train: any deletion recounts.
            world.image_service.removals,
        )
        support = self._supports.get(memo_key)
        if support is None:
            support = count_support(job.contents, pipeline, classes, overrides, world.images)
            if not world.profile.checks_class_support:
                support = support.all_trainable()
            self._supports[memo_key] = support
        # Keypoint detection cannot leave a class out: its skeleton needs every one.
        refused = support.untrainable if pipeline.model_type == "keypoint_detection" else []
        if not support.trainable or refused:
            left_out = refused or support.untrainable
            detail = "; ".join(f"'{c.name}': {_REASONS[c.reason or '']}" for c in left_out)
            raise InvalidRequest(
                f"Export '{export.name}' cannot train pipeline '{pipeline.name}', which trains "
                f"on {pipeline.trains_on}: {detail}.",
                code="no_trainable_classes",
                status=400,
            )
        return support

    def _version_target(self, key: ApiKey, request: RunRequest, pipeline: Pipeline) -> Model | None:
        if request.version_of_model_id is None:
            return None
        model = self._world.models.get(canonical_id(request.version_of_model_id))
        if model is None or model.organization_id != key.organization_id:
            raise NotFound(f"Model '{request.version_of_model_id}' not found")
        if model.model_type != pipeline.model_type:
            raise InvalidRequest(
                f"Model '{model.name}' is a {model.model_type} model; pipeline "
                f"'{pipeline.name}' trains {pipeline.model_type} models.",
                status=400,
            )
        return model

    def _require_creator(self, key: ApiKey) -> None:
        """403 ``key_without_creator`` once the key's creator has left the organization."""
        if not self._world.people.is_member(key.organization_id, key.created_by):
            raise KeyWithoutCreator

    def quote(self, key: ApiKey, request: RunRequest) -> Quote:
        """Price a request and say what would stop it starting now; write nothing.

        Any key may ask: a role that cannot start runs is a blocker, not a refusal.
        """
        world = self._world
        admission = self.admit(key, request)
        profile = world.profile
        plan = admission.plan
        gpu = plan.tier.name
        minutes = max(1, billable_minutes(plan.planned_seconds))
        total = profile.cost(gpu, minutes)
        spendable = world.billing.spendable(world.organizations[key.organization_id])
        if profile.billing == "charge_on_success":
            required = profile.start_gate_micro_usd
        else:
            required = profile.cost(gpu, profile.precharge_minutes(plan.planned_seconds))
        blocking: list[Blocker] = []
        if not key.has("member"):
            blocking.append(
                Blocker("forbidden", f"the API key's role '{key.role}' cannot start runs")
            )
        if spendable < required:
            blocking.append(Blocker("insufficient_credits", f"needs {usd(required)}"))
        try:
            self._require_creator(key)
        except KeyWithoutCreator as orphaned:
            blocking.append(Blocker(orphaned.code, orphaned.message))
        try:
            world.cold_storage.require_warm(admission.dataset, "a training run")
        except DatasetCold as cold:
            blocking.append(Blocker(cold.code, cold.message))
        estimated = admission.pipeline.publishes_memory_estimate
        tiers = tuple(
            TierFit(
                tier,
                (plan.peak_mib <= tier.total_mib) if estimated else None,
                profile.rate(tier.name),
            )
            for tier in GPU_TIERS.values()
        )
        return Quote(
            admission=admission,
            fits=plan.fits if estimated else None,
            tiers=tiers,
            billing=profile.billing,
            minutes=minutes,
            micro_usd_per_minute=world.billing.rate(gpu),
            total_micro_usd=total,
            spendable_micro_usd=spendable,
            required_to_start_micro_usd=required,
            blocking=tuple(blocking),
        )

    # ── writes ──

    def create(self, key: ApiKey, request: RunRequest) -> TrainingRun:
        """Admit, charge (per the profile) and queue a new run."""
        world = self._world
        # Before admission: a cold dataset is refused as it stands, with nothing worked
        # out for a run that cannot start (admission memoizes the export's class support).
        dataset = world.dataset(key.organization_id, request.dataset_name)
        world.cold_storage.require_warm(dataset, "a training run")
        admission = self.admit(key, request)
        org = world.organizations[key.organization_id]
        precharge = world.billing.admit_run(
            org, admission.plan.tier.name, admission.plan.planned_seconds
        )
        self._require_creator(key)  # the last check before anything is written, as ordered
        now = world.now()
        self._seq += 1
        run = TrainingRun(
            id=world.ids.uuid(),
            seq=self._seq,
            organization_id=org.id,
            name=request.name or f"{request.pipeline_type}-run-{world.clock.now():%Y%m%d-%H%M%S}",
            dataset_id=admission.dataset.id,
            export_id=admission.export.id,
            export_name=admission.export.name,
            pipeline_type=admission.pipeline.name,
            gpu_type=admission.plan.tier.name,
            requested_gpu_type=admission.requested_gpu,
            config=admission.config,
            classes=admission.classes,
            plan=admission.plan,
            created_at=now,
            created_by=key.created_by,
            billing=world.profile.billing,
            noise_seed=world.ids.noise_seed(),
            # The model as stored (the request may name it in any case).
            version_of_model_id=None if admission.version_of is None else admission.version_of.id,
            warning=left_out_warning(admission.support, admission.pipeline.support_unit),
            history=[("pending", now)],
        )
        world.runs[run.id] = run
        self._by_org.setdefault(org.id, []).append(run)
        self._by_dataset.setdefault((org.id, run.dataset_id), []).append(run)
        self._named[org.id, run.name] = run
        self._live.setdefault(org.id, {})[run.id] = run
        if self._armed:
            run.failure = self._claim_failure(run)
        world.billing.precharge(org, run, precharge)
        # Handing the run to the training service is immediate: create answers `queued`.
        run.status = "queued"
        run.history.append(("queued", now))
        self._submit(run, now)
        return run

    def cancel(self, key: ApiKey, run: TrainingRun) -> TrainingRun:
        if run.terminal:
            raise InvalidRequest(
                f"Cannot cancel training run with status '{run.status}'", status=400
            )
        self._finish(run, self._world.now(), "cancelled", None)
        return run

    def bulk_cancel(self, key: ApiKey, run_ids: list[str]) -> tuple[list[str], list[str]]:
        succeeded: list[str] = []
        not_found: list[str] = []
        for run_id in distinct_ids(run_ids):
            run = self._world.runs.get(canonical_id(run_id))
            if run is None or run.organization_id != key.organization_id or run.terminal:
                not_found.append(run_id)
                continue
            self._finish(run, self._world.now(), "cancelled", None)
            succeeded.append(run_id)
        return succeeded, not_found

    # ── injected failures ──

    def arm_failure(self, failure: RunFailure) -> TrainingRun | None:
        """Attach ``failure`` to the live run it names, or keep it for a run yet to come.

        Return the run it was attached to, if any. An epoch the run has already passed
        stops it in the epoch in progress, at the current instant: what a poll has
        already seen is never rewritten.
        """
        run = self._live_target(failure.target) if failure.target is not None else None
        if run is None:
            self._armed.append(failure)
            return None
        if run.failure is not None:
            # One failure a run: the later one would silently take the earlier's place.
            raise ValueError(
                f"run {failure.target!r} already has a failure armed ("
                f"{run.failure.describe()}); a run takes one"
            )
        run.failure = failure
        if run.started_at is not None and run.ends_at is not None:
            tier = self._tiers[run.gpu_type]
            offset = self._failure_offset(run, failure)
            now = self._world.now()
            if offset is not None:
                run.ends_at = max(run.started_at + offset, now, run.started_at)
            else:
                run.failure = None
            if run.id in tier.busy:
                self._schedule(run)
                self._refresh_next_event()
        return run

    @property
    def armed_failures(self) -> tuple[RunFailure, ...]:
        """The failures waiting for the run they name (or the next run) to be created."""
        return tuple(self._armed)

    def clear_failures(self) -> None:
        """Forget the failures waiting for runs not created yet."""
        self._armed.clear()

    def restore_failures(self, failures: Iterable[RunFailure]) -> None:
        """Make ``failures`` (as :attr:`armed_failures` gave them) the ones waiting."""
        self._armed[:] = failures

    def _live_target(self, ref: str) -> TrainingRun | None:
        run = self._world.runs.get(ref)
        if run is None:
            named = [r for r in self._world.runs.values() if r.name == ref]
            run = max(named, key=lambda r: r.seq) if named else None
        return run if run is not None and not run.terminal else None

    def _claim_failure(self, run: TrainingRun) -> RunFailure | None:
        for index, failure in enumerate(self._armed):
            if failure.target is None or failure.target in (run.id, run.name):
                del self._armed[index]
                return failure
        return None

    @staticmethod
    def _failure_offset(run: TrainingRun, failure: RunFailure) -> float | None:
        """Return when ``failure`` strikes, in seconds after the start, if before the plan's end.

        It strikes halfway through its epoch (the run's last, at the latest).
        """
        plan = run.plan
        epoch = min(failure.epoch, plan.epochs)
        offset = (epoch - 0.5) * plan.epoch_seconds
        return offset if offset < plan.running_seconds else None

    def _strike(self, run: TrainingRun, failure: RunFailure, at: float) -> None:
        run.failure = None
        if failure.requeue:
            self._requeue(run, at)
        elif failure.cancel:
            # As `cancel` ends it (someone cancelled it in the web app): no error message.
            self._finish(run, at, "cancelled", None)
        else:
            self._finish(run, at, "failed", failure_message(run, failure, at))

    def _requeue(self, run: TrainingRun, at: float) -> None:
        """Put a preempted run back at the head of its tier's queue; it starts over.

        The time lost to the preemption is not billed: only the attempt that ends the
        run counts (see :meth:`_finish`).
        """
        tier = self._tiers[run.gpu_type]
        if run.started_at is not None:
            run.history.append(("running", run.started_at))
        run.history.append(("queued", at))
        run.status = "queued"
        run.assigned_at = run.started_at = run.ends_at = None
        del tier.busy[run.id]
        self._token.pop(run.id, None)
        # Back at the head of the queue, and at once on the worker it just freed.
        self._assign(tier, run, at)

    # ── reads ──

    def find(self, key: ApiKey, ref: str) -> TrainingRun:
        """Resolve a run segment for the key's organization (see :meth:`resolve`)."""
        return self.resolve(key.organization_id, ref)

    def resolve(self, organization_id: str, ref: str) -> TrainingRun:
        """Find a run of the organization by id (any case), else the newest of that name,
        or 404."""
        # `by_id` inlined: every poll comes here, and a call costs a third of the lookup.
        runs = self._world.runs
        run = runs.get(ref)
        if run is None:
            run = runs.get(canonical_id(ref))
        if run is not None and run.organization_id == organization_id:
            return run
        newest = self._named.get((organization_id, ref))
        if newest is None:
            raise NotFound("Training run not found")
        return newest

    def listing(
        self, key: ApiKey, *, dataset_name: str | None, status: str | None
    ) -> Sequence[TrainingRun]:
        """The organization's runs, newest first, filtered.

        Unfiltered, a view of the runs (a page of it costs the page); filtered, a list.
        """
        world = self._world
        org_id = key.organization_id
        dataset_id: str | None = None
        if dataset_name is not None:
            try:
                dataset_id = world.dataset(org_id, dataset_name).id
            except NotFound:
                return []
        if status is None:
            if dataset_id is None:
                return NewestFirst(self._by_org.get(org_id, []))
            return NewestFirst(self._by_dataset.get((org_id, dataset_id), []))
        if status in TERMINAL:
            ended = self._ended.get((org_id, dataset_id, status))
            return ended.newest if ended is not None else []
        # Live statuses move with the clock (queued turns running): read the live runs.
        now = world.now()
        return sorted(
            (
                run
                for run in self._live.get(org_id, {}).values()
                if (dataset_id is None or run.dataset_id == dataset_id)
                and live_status(run, now) == status
            ),
            key=_newest_first,
        )

    def of_organization(self, organization_id: str) -> list[TrainingRun]:
        """The organization's runs in creation order (read only)."""
        return self._by_org.get(organization_id, [])

    def worker_counts(self) -> dict[str, int]:
        """How many workers each GPU tier has (this world's setting, else the catalog's)."""
        return {name: tier.workers for name, tier in self._tiers.items()}

    def live(self, organization_id: str) -> list[TrainingRun]:
        """The organization's runs not yet ended: on a worker or waiting for one."""
        return list(self._live.get(organization_id, {}).values())

    # ── the simulation ──

    @property
    def next_event(self) -> float:
        """When a run ends next, at the earliest (for the world's agenda)."""
        return self._next_event

    def advance_to(self, now: float) -> None:
        """Finish, in time order, every run whose planned end is at or before ``now``."""
        if now < self._next_event:
            return
        ends = self._ends
        while ends:
            ends_at, _, token, due = ends[0]
            if self._token.get(due.id) != token:
                heapq.heappop(ends)  # stale: the run moved its end, or left its worker
                continue
            if ends_at > now:
                break
            heapq.heappop(ends)
            del self._token[due.id]
            assert due.ends_at == ends_at
            outcome = due.plan.outcome
            if due.failure is not None:
                self._strike(due, due.failure, due.ends_at)
            elif outcome == "completed":
                self._finish(due, due.ends_at, "completed", None, refresh=False)
            else:
                self._finish(due, due.ends_at, "failed", _failure_message(due), refresh=False)
        self._refresh_next_event()

    def _refresh_next_event(self) -> None:
        ends = self._ends
        while ends and self._token.get(ends[0][3].id) != ends[0][2]:
            heapq.heappop(ends)
        self._next_event = ends[0][0] if ends else math.inf
        self._world.agenda.expect(self._next_event)

    def _schedule(self, run: TrainingRun) -> None:
        """File the busy run's planned end (replacing the one filed before, if any)."""
        assert run.ends_at is not None
        self._tokens += 1
        self._token[run.id] = self._tokens
        heapq.heappush(self._ends, (run.ends_at, run.seq, self._tokens, run))

    def _submit(self, run: TrainingRun, at: float) -> None:
        tier = self._tiers[run.gpu_type]
        if len(tier.busy) < tier.workers:
            self._assign(tier, run, at)
        else:
            tier.waiting[run.id] = run

    def _assign(self, tier: _Tier, run: TrainingRun, at: float) -> None:
        run.assigned_at = at
        run.started_at = at + tier.spec.cold_start_seconds
        run.ends_at = run.started_at + run.plan.running_seconds
        if run.failure is not None:
            offset = self._failure_offset(run, run.failure)
            if offset is None:
                run.failure = None  # the plan ends the run before the failure would
            else:
                run.ends_at = run.started_at + offset
        tier.busy[run.id] = run
        self._schedule(run)
        self._next_event = min(self._next_event, run.ends_at)
        self._world.agenda.expect(run.ends_at)

    def _file_ended(self, run: TrainingRun) -> None:
        org_id = run.organization_id
        del self._live[org_id][run.id]
        ended, status = self._ended, run.status
        for key in ((org_id, None, status), (org_id, run.dataset_id, status)):
            index = ended.get(key)
            if index is None:
                index = ended[key] = SortedIndex(_creation_order)
            index.add(run)

    def _finish(
        self, run: TrainingRun, at: float, status: str, error: str | None, *, refresh: bool = True
    ) -> None:
        """End a run at virtual second ``at``: record it, bill it, free its worker.

        ``refresh=False`` leaves the next event for the caller to find (a catch-up ending
        many runs finds it once, at the end).
        """
        world = self._world
        tier = self._tiers[run.gpu_type]
        run.failure = None  # whatever was armed for it, the run is over
        started = run.started_at is not None and at >= run.started_at
        elapsed = at - run.started_at if started and run.started_at is not None else 0.0
        if started and run.started_at is not None:
            run.history.append(("running", run.started_at))
        run.status = status  # type: ignore[assignment]
        run.completed_at = at
        run.error_message = error
        run.ends_at = at
        run.history.append((status, at))
        world.billing.settle(run, elapsed, at)
        if status == "completed":
            run.model_id = world.registry.record_training(run, at)
        # The final view (`run.final`) is built when first read, from the fields set above.
        self._file_ended(run)
        world.feeds.run_ended(run, at)
        if tier.busy.pop(run.id, None) is not None:
            self._token.pop(run.id, None)
            if tier.waiting:
                self._assign(tier, tier.waiting.popitem(last=False)[1], at)
        else:
            tier.waiting.pop(run.id, None)
        if refresh:
            self._refresh_next_event()


def final_view(run: TrainingRun) -> RunView:
    """Build what an ended run shows from then on (``run.final`` memoises it).

    Read from fields that never change once the run has ended, so building it on first
    read gives what building it at the end would have.
    """
    at = run.completed_at
    assert at is not None
    started_at = run.started_at
    started = started_at is not None and at >= started_at
    elapsed = at - started_at if started_at is not None and started else 0.0
    completed = run.status == "completed"
    if completed:
        progress, epoch = 100, run.plan.epochs
        metrics = epoch_metrics(run, epoch)
    elif started:
        progress, epoch, metrics, _ = running_snapshot(run, at)
    else:
        progress, epoch, metrics = 0, 0, {}
    return RunView(
        run.status,
        progress,
        epoch,
        metrics,
        round(elapsed),
        # A run cancelled during its cold start never started.
        started_at if started else None,
        at,
        run.model_id if completed else None,
        run.error_message,
    )


def _creation_order(run: TrainingRun) -> int:
    return run.seq


def _newest_first(run: TrainingRun) -> int:
    return -run.seq


# ── what a run looks like at a given instant ──


def live_status(run: TrainingRun, now: float) -> str:
    """The status a run shows at ``now`` (queued runs turn running when training starts)."""
    if run.status in TERMINAL:
        return run.status
    if run.started_at is not None and now >= run.started_at:
        return "running"
    return run.status


def running_snapshot(run: TrainingRun, now: float) -> tuple[int, int, dict[str, Any], int]:
    """Progress (0-99), the epoch in progress, the last finished epoch's metrics, and the
    seconds the service expects the run still needs (it cannot foresee failures).

    Every poll of a training run reads this: it is kept to arithmetic and one lookup.
    """
    started = run.started_at
    assert started is not None
    plan = run.plan
    planned = plan.planned_seconds
    elapsed = now - started if now > started else 0.0
    epochs = plan.epochs
    done = int(elapsed // plan.epoch_seconds)
    if done > epochs:
        done = epochs
    metrics = run.metrics_memo.get(done)
    if metrics is None:
        metrics = epoch_metrics(run, done)
    # Comparisons, not min() and max(): each of those builds an iterator over its
    # arguments, which costs more than the arithmetic here.
    progress = int(100.0 * elapsed / planned)
    remaining = math.ceil(started + planned - now)
    return (
        progress if progress < 99 else 99,
        done + 1 if done < epochs else epochs,
        metrics,
        remaining if remaining > 0 else 0,
    )


def run_state(run: TrainingRun, now: float) -> RunView:
    """The run as seen at ``now``: the one view the wire, the jobs feed and tests share."""
    final = run.final
    if final is not None:
        return final
    started = run.started_at
    if started is not None and now >= started:
        progress, epoch, metrics, _ = running_snapshot(run, now)
        return RunView("running", progress, epoch, metrics, None, started, None)
    return RunView(run.status, 0, 0, {}, None, None, None)


def eta_seconds(run: TrainingRun, now: float) -> int | None:
    """Seconds the service expects the run still needs (it cannot foresee failures)."""
    if run.status in TERMINAL or run.started_at is None:
        return None
    return running_snapshot(run, now)[3]


def _noise(run: TrainingRun, epoch: int, salt: int) -> float:
    """A deterministic value in [-0.5, 0.5) for this run, epoch and metric."""
    mixed = splitmix64(run.noise_seed ^ (epoch * 0x9E3779B1) ^ (salt << 40))
    return (mixed % 10_000) / 10_000.0 - 0.5


def epoch_metrics(run: TrainingRun, epoch: int) -> dict[str, Any]:
    """The validation metrics a run reports after ``epoch`` epochs (none before the first)."""
    if epoch <= 0:
        return {}
    memo = run.metrics_memo.get(epoch)
    if memo is not None:
        return memo
    memo = run.metrics_memo[epoch] = _compute_metrics(run, epoch)
    return memo


def final_metrics(run: TrainingRun) -> dict[str, Any]:
    """The metrics a completed run's model version reports: its last epoch's, bar ``epoch``.

    Fresh on every call (the version keeps them, and may be changed in place).
    """
    metrics = _compute_metrics(run, run.plan.epochs)
    del metrics["epoch"]
    return metrics


@lru_cache(maxsize=4096)
def _curve(ceiling: float, images: int, epochs: int, epoch: int) -> tuple[float, float]:
    """The noiseless headline metric and loss after ``epoch`` of ``epochs`` epochs.

    Shared by every run of the same shape (a catch-up ending many alike runs computes
    it once); the noise each run adds is its own.
    """
    fraction = epoch / epochs
    data_factor = 1.0 - 0.5 * math.exp(-images / 150.0)
    learned = 1.0 - math.exp(-4.0 * fraction)
    return ceiling * data_factor * learned, 2.5 * math.exp(-3.0 * fraction) + 0.15


def _compute_metrics(run: TrainingRun, epoch: int) -> dict[str, Any]:
    plan = run.plan
    pipeline = PIPELINES[run.pipeline_type]
    headline, loss = _curve(plan.variant.metric_ceiling, plan.images, plan.epochs, epoch)
    headline = min(0.999, max(0.0, headline + 0.01 * _noise(run, epoch, 1)))
    loss = loss + 0.02 * _noise(run, epoch, 2)
    metrics: dict[str, Any] = {"epoch": epoch, "loss": round(loss, 4)}
    metrics[pipeline.headline_metric] = round(headline, 4)
    if pipeline.model_type == "object_detection":
        metrics["mAP50"] = round(min(0.999, headline * 1.32), 4)
        metrics["precision"] = round(min(0.999, headline * 1.18 + 0.02), 4)
        metrics["recall"] = round(min(0.999, headline * 1.12 + 0.01), 4)
    elif pipeline.model_type == "instance_segmentation":
        metrics["box_mAP"] = round(min(0.999, headline * 1.06), 4)
    elif pipeline.model_type == "semantic_segmentation":
        metrics["pixel_accuracy"] = round(min(0.999, 0.5 + headline * 0.6), 4)
    elif pipeline.model_type == "classification":
        metrics["top5_accuracy"] = round(min(0.999, headline * 1.08 + 0.02), 4)
    return metrics


def failure_message(run: TrainingRun, failure: RunFailure, at: float) -> str:
    """The ``error_message`` of a run an injected failure stopped at ``at``."""
    if failure.message is not None:
        return failure.message
    plan = run.plan
    epoch = running_snapshot(run, at)[1] if run.started_at is not None else 1
    where = f"epoch {epoch} of {plan.epochs}"
    if failure.reason == "oom":
        return (
            f"CUDA out of memory at {where}: tried to allocate 2.00 GiB on the "
            f"{plan.tier.name} ({plan.tier.total_mib} MiB). Lower batch_size or model_size, "
            f"or train on a larger GPU."
        )
    if failure.reason == "preemption":
        return (
            f"The {plan.tier.name} worker was preempted at {where} and the run was stopped; "
            f"start it again to retry."
        )
    return (
        f"Training failed at {where}: a batch from export '{run.export_name}' could not be "
        f"loaded (a corrupt image or an annotation outside its image)."
    )


def _failure_message(run: TrainingRun) -> str:
    plan = run.plan
    if plan.outcome == "oom":
        return (
            f"CUDA out of memory at epoch 1: the run needs about {plan.peak_mib} MiB and the "
            f"{plan.tier.name} has {plan.tier.total_mib} MiB. Lower batch_size or model_size, "
            f"or train on a larger GPU."
        )
    epoch = min(plan.epochs, int(SERVICE_CAP_SECONDS // plan.epoch_seconds) + 1)
    return (
        f"Training exceeded the training service's 2-hour limit at epoch {epoch} of "
        f"{plan.epochs}. Use fewer epochs, a smaller model_size or a faster GPU."
    )


# ── config ──


def _unwrap_config(config: dict[str, Any], pipeline: Pipeline) -> dict[str, Any]:
    """Unwrap a downloaded ``config.json`` (its ``_pictograph`` envelope), as the API does."""
    envelope = config.get("_pictograph")
    if envelope is None:
        return config
    if not isinstance(envelope, dict):
        raise InvalidRequest(
            "config._pictograph must be an object.",
            status=400,
            errors=[
                field_error(("body", "config", "_pictograph"), "must be an object", "dict_type")
            ],
        )
    declared = envelope.get("pipeline")
    if declared is not None and declared != pipeline.name:
        raise InvalidRequest(
            f"This config.json was written for pipeline {sent(declared)}, not '{pipeline.name}'.",
            status=400,
            errors=[
                field_error(
                    ("body", "config", "_pictograph", "pipeline"),
                    f"config is for '{declared}', the run is '{pipeline.name}'",
                    "pipeline_mismatch",
                )
            ],
        )
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise InvalidRequest(
            "config.config must be an object.",
            status=400,
            errors=[field_error(("body", "config", "config"), "must be an object", "dict_type")],
        )
    return inner


def _read_config(
    config: dict[str, Any], pipeline: Pipeline, default_epochs: int
) -> tuple[Variant, int, int, int, int]:
    errors: list[FieldError] = []

    def integer(name: str, default: int) -> int:
        value = config.get(name, default)
        low, high = CONFIG_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                field_error(("body", "config", name), "must be a whole number", "int_type")
            )
            return default
        if not low <= value <= high:
            errors.append(
                field_error(
                    ("body", "config", name), f"must be between {low} and {high}", "range_error"
                )
            )
            return default
        return value

    epochs = integer("epochs", default_epochs)
    batch = integer("batch_size", pipeline.default_batch_size)
    rate = config.get("learning_rate", pipeline.learning_rate)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        errors.append(
            field_error(
                ("body", "config", "learning_rate"), "must be a number in (0, 1]", "range_error"
            )
        )
    size_name = config.get("model_size")
    # A list or an object would not even hash: any non-string is simply not a variant.
    if size_name is not None and (
        not isinstance(size_name, str) or size_name not in pipeline.variants
    ):
        choices = ", ".join(f"'{v}'" for v in pipeline.variants)
        errors.append(
            field_error(
                ("body", "config", "model_size"),
                f"pipeline '{pipeline.name}' has no model_size {sent(size_name)}; choose {choices}",
                "literal_error",
            )
        )
        size_name = None
    variant = pipeline.variant(size_name)
    side = integer("image_size", variant.input_size)
    width = integer("image_width", side)
    height = integer("image_height", side)
    if errors:
        raise InvalidRequest(
            f"The config does not suit pipeline '{pipeline.name}': "
            + "; ".join(f"{e['loc'][-1]} {e['msg']}" for e in errors),
            status=400,
            errors=errors,
        )
    return variant, epochs, batch, width, height


def _class_overrides(config: dict[str, Any]) -> dict[str, str]:
    """The config's ``class_overrides``: absent or ``null`` is none; anything but an object
    is refused (an empty list or a ``0`` is a mistake to name, not "no overrides")."""
    overrides = config.get("class_overrides")
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise InvalidRequest(
            f"config.class_overrides must map class names to class names, got {sent(overrides)}.",
            status=400,
            errors=[
                field_error(("body", "config", "class_overrides"), "must be an object", "dict_type")
            ],
        )
    return overrides


def _trained_classes(
    dataset: Dataset, names: Sequence[str], overrides: dict[str, str]
) -> list[str]:
    """The model's classes once ``class_overrides`` has collapsed ``names`` (the export's)."""
    bad = [t for t in overrides.values() if t not in names]
    if bad:
        raise InvalidRequest(
            f"class_overrides targets must be classes of dataset '{dataset.name}': "
            + ", ".join(sent(t) for t in bad),
            status=400,
            errors=[
                field_error(
                    ("body", "config", "class_overrides"),
                    f"{sent(t)} is not a class",
                    "unknown_class",
                )
                for t in bad
            ],
        )
    trained = list(dict.fromkeys(overrides.get(n, n) for n in names))
    if not trained:
        raise InvalidRequest(
            f"Dataset '{dataset.name}' has no class this run could train.",
            code="no_trainable_classes",
            status=400,
        )
    return trained


_REASONS = {
    "no_training_data": "no labels of that kind anywhere in the export",
    "not_in_train_split": "labelled only in the val or test split",
}


def _cheapest_fitting(variant: Variant, batch: int, width: int, height: int) -> str:
    peak = peak_mib(variant, batch, width, height)
    for name, tier in GPU_TIERS.items():
        if peak <= tier.total_mib:
            return name
    return list(GPU_TIERS)[-1]
