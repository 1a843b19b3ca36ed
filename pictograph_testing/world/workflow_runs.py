"""Workflow runs: a saved graph executed over its source on the virtual clock.

A run is ``queued`` for :data:`QUEUE_SECONDS`, then ``processing``: its engine starts
(:data:`ENGINE_START_SECONDS`), then takes each frame in turn, each frame costing the
sum of its blocks' ``seconds_per_frame`` (the Model block's halved at fp16) scaled by
the GPU's ``speed``. Everything a run finds is worked out when it starts, from the
source and the model versions current then, so its log, its progress and its results
are the same however the clock is read; the log and the frames done show what the
clock has reached.

What the blocks do is declared on their cards (:mod:`.workflow_nodes`): a Source reads
a dataset's images (one directory's, with its subdirectories, when it names one), an
uploaded image, or an uploaded or linked video's frames (the fake decodes no video: a
video gives ``duration_seconds`` (10 by default) x ``sample_fps`` frames of 1280x720,
each predicted as an image the organization does not know); a Model block predicts as
``models.predict`` does; Filter, Track and Measure pass on what they keep, number and
count; an Output block writes ``results.json``, the run's artifact.

Billing is charge-on-success, as the SDK documents: ``run`` and ``invoke`` need the
estimate spendable (402 otherwise) and charge nothing; a completed run is charged once,
for its processing seconds at its GPU's rate (``workflow_<gpu>`` in the ledger); a
failed or cancelled run is free. A completed run sends ``workflow_run.completed``, a
failed one ``workflow_run.failed`` (webhook events only: a run is not news in the feed).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import WORKFLOW_GPUS
from pictograph_testing.world.agenda import LiveJobs
from pictograph_testing.world.billing import usd_pair
from pictograph_testing.world.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    field_error,
)
from pictograph_testing.world.ids import distinct_ids
from pictograph_testing.world.job_kinds import WORKFLOW_RUN_JOB, JobOrder, JobView, job_order
from pictograph_testing.world.ordered import NewestLookedUp
from pictograph_testing.world.predictions import content_hash, image_size, predict_for
from pictograph_testing.world.workflow_nodes import (
    IMAGE_UNDER_TRACKING,
    at_precision,
    node_type,
    run_precision,
    topological,
    tracks_an_image,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.entities import ApiKey, Image, Model
    from pictograph_testing.world.predictions import Prediction
    from pictograph_testing.world.state import World
    from pictograph_testing.world.workflows import Workflow

__all__ = [
    "DEFAULT_VIDEO_SECONDS",
    "ENGINE_START_SECONDS",
    "FRAME_SIZE",
    "QUEUE_SECONDS",
    "Frame",
    "Run",
    "WorkflowRuns",
    "execute_blocks",
    "first_of_each_trigger",
    "seconds_per_frame",
    "workflow_run_order",
    "zone_event",
]

QUEUE_SECONDS = 2.0
"""How long a run waits for a runner before it starts."""
ENGINE_START_SECONDS = 5.0
"""How long a started run's engine takes to load before its first frame."""
DEFAULT_VIDEO_SECONDS = 10.0
"""The length assumed for a video whose ``duration_seconds`` is not given."""
FRAME_SIZE = (1280, 720)
"""The size of a frame the fake cannot read: a video's (it decodes none) and a linked
image's (it fetches no link)."""
_ACTIVE = ("queued", "processing")
_JOB_STATUS = {"processing": "running", "error": "failed"}


@dataclass
class Frame:
    """One frame as the run's blocks left it."""

    index: int
    image: str
    image_id: str | None
    width: int
    height: int
    digest: str
    known: Image | None = None
    found: list[Prediction] = field(default_factory=list)
    track_ids: list[str] = field(default_factory=list)
    occupancy: dict[str, int] = field(default_factory=dict)


@dataclass
class Run:
    id: str
    organization_id: str
    workflow_id: str
    gpu: str
    precision: str
    created_at: float
    starts_at: float
    ends_at: float
    frame_seconds: float
    frames: list[Frame]
    source: dict[str, Any]
    model_ids: list[str]
    events: list[dict[str, Any]]
    step_results: dict[str, Any]
    deposit_micro_usd: int
    writes_results: bool
    sample_fps: float | None = None
    status: str = "queued"
    error: str | None = None
    final_micro_usd: int | None = None
    completed_at: float | None = None
    workflow_name: str = ""
    """Its workflow's name when it started: the name its job shows."""
    dataset_id: str = ""
    """The dataset it reads, if its source is one."""
    seq: int = 0
    runs_before: int = 0
    """Training runs created before it: its place among them in the jobs feed."""
    model_name: str | None = None
    model_task: str | None = None
    """Its first Model block's model when it ran (its name and task), as each frame's
    record names it; ``None`` for a graph without one."""
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The first of its events of each trigger (they name the triggers in its log)."""

    def frames_done(self, now: float) -> int:
        if self.status == "completed":
            return len(self.frames)
        until = min(now, self.completed_at if self.completed_at is not None else now)
        first = self.starts_at + ENGINE_START_SECONDS
        if until < first:
            return 0
        return min(len(self.frames), math.floor((until - first) / self.frame_seconds + 1e-9))

    def frame_at(self, index: int) -> float:
        """When the frame ``index`` was done."""
        return self.starts_at + ENGINE_START_SECONDS + (index + 1) * self.frame_seconds


class WorkflowRuns:
    """Start runs, end them on the clock, cancel them, read them back."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.runs: dict[str, Run] = {}
        self._results_sizes: dict[str, int] = {}
        """Run id -> the length of its ended run's ``results.json`` (what a poll reports
        as the artifact's size): encoded once, not on every poll or listing."""
        # Each organization's runs, oldest first: the jobs feed reads them per request.
        self._of_organization: dict[str, list[Run]] = {}
        self._live: LiveJobs[Run] = LiveJobs(world.agenda)

    # ── reads ──

    def get(self, key: ApiKey, run_id: str) -> Run:
        run = self.runs.get(run_id.strip().lower())
        if run is None or run.organization_id != key.organization_id:
            raise NotFound(f"Workflow run '{run_id}' not found")
        return run

    def of_workflow(self, workflow: Workflow) -> Sequence[Run]:
        """Its runs, newest first (a view: a page looks up only its own)."""
        return NewestLookedUp(workflow.run_ids, self.runs)

    def of_organization(self, organization_id: str) -> list[Run]:
        """The organization's runs, oldest first (read only)."""
        return self._of_organization.get(organization_id, [])

    def live(self, organization_id: str) -> list[Run]:
        """The organization's queued and processing runs."""
        return [r for r in self._live.jobs.values() if r.organization_id == organization_id]

    def job(self, run: Run) -> JobView:
        """The run as the jobs feed shows it (type ``workflow_run``)."""
        status = self.status(run)
        done = run.frames_done(self._world.now())
        return JobView(
            id=run.id,
            type=WORKFLOW_RUN_JOB,
            status=_JOB_STATUS.get(status, status),
            progress=100.0 if status == "completed" else round(100.0 * done / len(run.frames), 1),
            name=run.workflow_name,
            dataset_id=run.dataset_id,
            error=run.error,
            created_at=run.created_at,
            updated_at=run.completed_at if run.completed_at is not None else run.created_at,
            completed_at=run.completed_at,
            cancellable=status in _ACTIVE,
            detail={
                "workflow_id": run.workflow_id,
                "frames_done": done,
                "frames_total": len(run.frames),
                "gpu": run.gpu,
            },
            order=workflow_run_order(run),
        )

    def status(self, run: Run) -> str:
        if run.status not in _ACTIVE:
            return run.status
        return "queued" if self._world.now() < run.starts_at else "processing"

    # ── starting ──

    def start(
        self,
        key: ApiKey,
        workflow: Workflow,
        source: dict[str, Any] | None,
        gpu: str | None,
        *,
        precision: str | None = None,
    ) -> Run:
        """Start a run of ``workflow`` over its own source or ``source`` (an invoke's), on
        ``gpu`` (None: the workflow's), its Model blocks at ``precision`` (None: each one's
        own; only SDK 1.69.113 and 1.69.114 name a run's precision).

        400 when its graph has errors or its source cannot be read; 402 when the
        estimate is not spendable. Nothing is made when it is refused.
        """
        world = self._world
        errors = [
            i
            for i in world.workflows.issues(key.organization_id, workflow.graph)
            if i.severity == "error"
        ]
        if errors:
            raise InvalidRequest(
                f"Workflow '{workflow.name}' cannot run: " + " ".join(i.message for i in errors),
                status=400,
                code="workflow_invalid",
                errors=[
                    field_error(("graph", i.node_id or "graph"), i.message, i.code) for i in errors
                ],
            )
        endpoints = world.built("workflow_endpoints")
        if endpoints is not None:
            endpoints.refuse_run(workflow)
        if workflow.status == "archived":
            raise Conflict(
                f"Workflow '{workflow.name}' is archived: set its status to draft or ready "
                "to run it."
            )
        graph = workflow.graph if precision is None else at_precision(workflow.graph, precision)
        order = topological(graph)
        source_node = next(n for n in order if n["type"] == "source")
        read = dict(source_node["config"]) if source is None else source
        if tracks_an_image(read, order):
            # The SDK's `invoke` names this 400: one image has no frames to follow.
            raise InvalidRequest(IMAGE_UNDER_TRACKING, status=400, code="invalid_source")
        gpu = gpu or workflow.gpu
        frames, sample_fps = self._frames(key, read)
        if not frames:
            raise InvalidRequest(
                "The source has no images to run over: add images to it, or name another.",
                status=400,
                code="empty_source",
            )
        models: dict[str, Model] = {}
        for node in order:
            if node["type"] == "model":
                models[node["id"]] = world.registry.of_organization(
                    key.organization_id, node["config"]["model"]
                )
        precision = run_precision(order)
        frame_seconds = seconds_per_frame(order, gpu)
        now = world.now()
        starts = now + QUEUE_SECONDS
        processing = ENGINE_START_SECONDS + frame_seconds * len(frames)
        rate = WORKFLOW_GPUS[gpu].micro_usd_per_minute
        # The estimate bills whole minutes; the charge, the seconds measured.
        deposit = math.ceil(processing / 60) * rate
        org = world.organizations[key.organization_id]
        spendable = world.billing.spendable(org)
        if spendable < deposit:
            needed, has = usd_pair(deposit, spendable)
            raise InsufficientCredits(
                f"This run is estimated at {needed} of compute; the organization has {has}. "
                "Top up credits or run over a smaller source.",
                required=deposit,
                remaining=spendable,
            )
        events, steps = execute_blocks(order, frames, models, world)
        triggers = first_of_each_trigger(events)
        dataset_id = (
            world.dataset(key.organization_id, str(read["dataset"])).id
            if read.get("kind") == "dataset"
            else ""
        )
        run = Run(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            workflow_id=workflow.id,
            gpu=gpu,
            precision=precision,
            created_at=now,
            starts_at=starts,
            ends_at=round(starts + processing, 6),
            frame_seconds=frame_seconds,
            frames=frames,
            source=read,
            model_ids=[m.id for m in models.values()],
            events=events,
            triggers=triggers,
            step_results=steps,
            deposit_micro_usd=deposit,
            writes_results=any(n["type"] == "output" for n in order),
            sample_fps=sample_fps,
            workflow_name=workflow.name,
            dataset_id=dataset_id,
            seq=len(self.runs),
            runs_before=len(world.runs),
        )
        first = next(iter(models.values()), None)
        if first is not None:
            run.model_name, run.model_task = first.name, first.model_type
        self.runs[run.id] = run
        self._of_organization.setdefault(run.organization_id, []).append(run)
        self._live.start(run)
        workflow.run_ids.append(run.id)
        workflow.last_run_id = run.id
        return run

    def _frames(self, key: ApiKey, source: dict[str, Any]) -> tuple[list[Frame], float | None]:
        world = self._world
        kind = source.get("kind")
        if kind == "dataset":
            dataset = world.dataset(key.organization_id, str(source.get("dataset") or ""))
            world.cold_storage.require_warm(dataset, "a workflow run over its images")
            folder = source.get("directory_path")
            images = world.dataset_images(dataset)
            if folder not in (None, "", "/"):
                prefix = "/" + str(folder).strip("/")
                images = [
                    i
                    for i in images
                    if i.directory_path == prefix or i.directory_path.startswith(prefix + "/")
                ]
            return [self._image_frame(n, i) for n, i in enumerate(images)], None
        uploaded = source.get("gcs_uri")
        uri = uploaded or source.get("url")
        name = str(uri).rsplit("/", 1)[-1]
        if kind == "image":
            if uploaded is None:
                # A link: the API downloads it first; the fake fetches nothing, so the
                # image is one frame of its own, unknown to the organization.
                return [Frame(0, name, None, *FRAME_SIZE, _digest(str(uri)))], None
            content = self._uploaded(key, str(uploaded))
            width, height = image_size(content)
            digest = content_hash(content)
            known = world.predictions.known(key.organization_id, digest)
            return [Frame(0, name, None, width, height, digest, known)], None
        fps = float(source.get("sample_fps") or 1.0)
        seconds = float(source.get("duration_seconds") or DEFAULT_VIDEO_SECONDS)
        if uploaded is not None:
            self._uploaded(key, str(uploaded))
        count = max(1, math.floor(seconds * fps))
        frames = [
            Frame(n, f"{name}#{n}", None, *FRAME_SIZE, _digest(f"{uri}#{n}")) for n in range(count)
        ]
        return frames, fps

    def _image_frame(self, index: int, image: Image) -> Frame:
        content, _ = self._world.image_service.content(image)
        width, height = image_size(content)
        return Frame(index, image.filename, image.id, width, height, content_hash(content), image)

    def _uploaded(self, key: ApiKey, uri: str) -> bytes:
        """The bytes of an uploaded source (its ``gcs_uri``), or 400 naming what to upload."""
        content = self._world.workflows.source_bytes(key, uri)
        if content is None:
            raise InvalidRequest(
                f"No uploaded source at '{uri}' in your organization: upload it with "
                "client.workflows.upload_source(...) and pass the gcs_uri it returns.",
                status=400,
            )
        return content

    # ── cancelling ──

    def cancel(self, key: ApiKey, run: Run) -> None:
        """Stop a queued or processing run; it is free. 409 for one that has ended."""
        if run.id not in self._live:
            raise Conflict(
                f"Workflow run '{run.id}' has already ended ({run.status}): only a queued or "
                "processing run can be cancelled."
            )
        self._end(run, "cancelled", "Cancelled by request.")

    def bulk_cancel(self, key: ApiKey, ids: list[str]) -> tuple[list[str], list[str]]:
        if not ids:
            raise InvalidRequest(
                "run_ids must name at least one run.",
                errors=[field_error(("body", "run_ids"), "must not be empty", "too_short")],
            )
        succeeded: list[str] = []
        not_found: list[str] = []
        for ref in distinct_ids(ids):
            run = self.runs.get(ref.strip().lower())
            if (
                run is None
                or run.organization_id != key.organization_id
                or run.id not in self._live
            ):
                not_found.append(ref)
                continue
            self._end(run, "cancelled", "Cancelled by request.")
            succeeded.append(ref)
        return succeeded, not_found

    def forget(self, workflow: Workflow) -> None:
        """Drop a deleted workflow's runs (its live ones stop first, free)."""
        gone = set(workflow.run_ids)
        for run_id in gone:
            self._live.drop(run_id)
            del self.runs[run_id]
            self._results_sizes.pop(run_id, None)
        if gone:
            kept = self._of_organization[workflow.organization_id]
            kept[:] = [r for r in kept if r.id not in gone]

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When a run ends next, at the earliest (for the world's agenda)."""
        return self._live.next_event

    def advance_to(self, now: float) -> None:
        """End, in time order, every run due at or before ``now``."""
        for run in self._live.take_due(now):
            self._finish(run)

    def _finish(self, run: Run) -> None:
        world = self._world
        gone = [m for m in run.model_ids if m not in world.models]
        if gone:
            self._end(
                run,
                "error",
                "A model the run uses was deleted while it ran: pick another model in its "
                "Model block and run again.",
                at=run.ends_at,
            )
            return
        processing = run.ends_at - run.starts_at
        gpu = WORKFLOW_GPUS[run.gpu]
        amount = math.ceil(processing * gpu.micro_usd_per_minute / 60)
        org = world.organizations[run.organization_id]
        world.billing.post(
            org,
            f"workflow_{run.gpu}",
            -amount,
            description=f"Workflow run {run.id} on a {gpu.label}, {processing:.1f} s",
            metadata={"run_id": run.id, "workflow_id": run.workflow_id},
            at=run.ends_at,
        )
        run.final_micro_usd = amount
        self._end(run, "completed", None, at=run.ends_at)

    def _end(self, run: Run, status: str, error: str | None, *, at: float | None = None) -> None:
        world = self._world
        self._live.drop(run.id)
        run.status = status
        run.error = error
        run.completed_at = world.now() if at is None else at
        if status == "cancelled":
            return  # the caller cancelled it: no event
        kind = "workflow_run_complete" if status == "completed" else "workflow_run_failed"
        world.feeds.announce(
            run.organization_id,
            kind,
            "Workflow run completed" if status == "completed" else "Workflow run failed",
            at=run.completed_at,
            message=error,
            metadata={
                "run_id": run.id,
                "workflow_id": run.workflow_id,
                "status": status,
                "final_micro_usd": run.final_micro_usd,
            },
        )

    # ── results ──

    def results_size(self, run: Run) -> int:
        """The length of :meth:`results` of a run that has ended (its frames are final)."""
        size = self._results_sizes.get(run.id)
        if size is None:
            size = self._results_sizes[run.id] = len(self.results(run))
        return size

    def results(self, run: Run) -> bytes:
        """``results.json``: each frame as the last block left it."""
        rows = [
            {
                "frame": f.index,
                "image": f.image,
                "image_id": f.image_id,
                "detections": [_detection(p) for p in f.found],
                "track_ids": f.track_ids,
                "occupancy": f.occupancy,
            }
            for f in run.frames
        ]
        return json.dumps({"run_id": run.id, "frames": rows}, indent=1).encode()


def seconds_per_frame(blocks: Sequence[dict[str, Any]], gpu: str) -> float:
    """Virtual seconds one frame takes through ``blocks`` on ``gpu``: each block's
    ``seconds_per_frame`` (a Model block's halved at fp16), scaled by the GPU's ``speed``.

    What a run is timed and estimated by, and what a workflow's tool card prices a frame
    at; ``blocks`` are a graph's nodes of known types (a run's, in its order).
    """
    total = 0.0
    for node in blocks:
        seconds = node_type(node["type"]).seconds_per_frame
        if node["type"] == "model" and node["config"].get("precision") == "fp16":
            seconds /= 2
        total += seconds
    return round(total * WORKFLOW_GPUS[gpu].speed, 6)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _detection(found: Prediction) -> dict[str, Any]:
    return {"class": found.name, "score": found.score, "kind": found.kind, "box": found.box}


def execute_blocks(
    order: list[dict[str, Any]], frames: list[Frame], models: dict[str, Model], world: World
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run each block over every frame, in the graph's order; the events and step results."""
    events: list[dict[str, Any]] = []
    steps: dict[str, Any] = {}
    for node in order:
        config = node["config"]
        kind = node["type"]
        if kind == "source":
            steps[node["id"]] = {"frames": len(frames)}
        elif kind == "model":
            model = models[node["id"]]
            # A null confidence is the block's default, as an absent one is.
            confidence = float(node_type("model").setting(config, "confidence"))
            for frame in frames:
                frame.found = _predict(world, model, frame, confidence)
            steps[node["id"]] = {"model": model.name, "detections": _count(frames)}
        elif kind == "filter":
            keep = set(config.get("classes") or [])
            least = float(config.get("min_confidence") or 0.0)
            for frame in frames:
                frame.found = [
                    p for p in frame.found if (not keep or p.name in keep) and p.score >= least
                ]
            steps[node["id"]] = {"detections": _count(frames)}
        elif kind == "track":
            for frame in frames:
                seen: dict[str, int] = {}
                frame.track_ids = []
                for p in frame.found:
                    seen[p.name] = seen.get(p.name, 0) + 1
                    frame.track_ids.append(f"{p.name}-{seen[p.name]}")
            steps[node["id"]] = {"tracks": sum(len(f.track_ids) for f in frames)}
        elif kind == "measure":
            steps[node["id"]] = _measure(node, frames, events)
        else:
            steps[node["id"]] = {"frames_written": len(frames)}
    # Each block writes its events over every frame: the run's are in time order, each
    # frame's in the graph's order (its log reads them oldest first).
    events.sort(key=itemgetter("frame"))
    return events, steps


def _predict(world: World, model: Model, frame: Frame, confidence: float) -> list[Prediction]:
    return predict_for(
        world,
        model,
        model.current,
        frame.digest,
        frame.width,
        frame.height,
        frame.known,
        confidence=confidence,
    )


def _count(frames: list[Frame]) -> int:
    return sum(len(f.found) for f in frames)


def _measure(
    node: dict[str, Any], frames: list[Frame], events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Each zone's occupancy per frame (its tracks), and an ``entry`` event where it
    rises, an ``exit`` where it falls (the SDK's event kinds); lines count no crossing
    (the fake's frames do not move)."""
    counts: dict[str, Any] = {}
    for geometry in node["config"]["geometries"]:
        name = geometry["name"]
        if geometry["kind"] == "line":
            counts[name] = {"kind": "line", "crossings": 0}
            continue
        before = 0
        peak = 0
        for frame in frames:
            inside = len(frame.track_ids)
            frame.occupancy[name] = inside
            peak = max(peak, inside)
            if inside != before:
                events.append(zone_event(node["id"], name, frame, before, inside))
            before = inside
        counts[name] = {"kind": "zone", "peak_occupancy": peak}
    return counts


def first_of_each_trigger(events: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first of ``events`` of each trigger, by trigger, in the order they came."""
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        first.setdefault(event["trigger"], event)
    return first


def zone_event(measure: str, name: str, frame: Frame, before: int, inside: int) -> dict[str, Any]:
    """A zone's ``entry`` (its occupancy rose on ``frame``) or ``exit`` (it fell) event."""
    kind = "entry" if inside > before else "exit"
    return {
        "frame": frame.index,
        # "<kind>-<8 hex>", one per zone and kind, as the SDK describes it.
        "trigger": f"{kind}-{_digest(f'{measure}/{name}/{kind}')[:8]}",
        "kind": kind,
        "measure": measure,
        "name": name,
        "moved": abs(inside - before),
        "inside": inside,
        "classes": sorted({p.name for p in frame.found}),
        "track_ids": list(frame.track_ids),
    }


def workflow_run_order(run: Run) -> JobOrder:
    """Where a run stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(WORKFLOW_RUN_JOB, run.created_at, run.runs_before, run.seq)
