"""What an organization can watch: its notifications, and its jobs (runs and exports).

Notifications are written when something ends on the virtual clock (a run, an export);
jobs are not stored at all but read from the runs and exports they describe, so the feed
can never disagree with the resource it stands for.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, overload

from pictograph_testing.world.auto_annotate import AUTO_ANNOTATE_JOB, auto_annotate_order
from pictograph_testing.world.connectors import connector_order
from pictograph_testing.world.errors import NotFound
from pictograph_testing.world.evaluations import evaluation_job, evaluation_order
from pictograph_testing.world.ordered import SortedIndex, index_in
from pictograph_testing.world.training import run_state
from pictograph_testing.world.videos import extraction_order
from pictograph_testing.world.workflow_runs import WORKFLOW_RUN_JOB, workflow_run_order

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from pictograph_testing.world.auto_annotate import AutoAnnotateJob
    from pictograph_testing.world.entities import ApiKey, Export, TrainingRun
    from pictograph_testing.world.evaluations import Evaluation
    from pictograph_testing.world.exports import ExportJob, ExportService
    from pictograph_testing.world.state import World
    from pictograph_testing.world.videos import FrameExtraction, VideoService

__all__ = [
    "JOB_STATUSES",
    "JOB_STATUS_FILTERS",
    "VIDEO_JOB",
    "Feeds",
    "JobView",
    "Notification",
]

JOB_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
JOB_STATUS_FILTERS = ("active", "finished", "all", *JOB_STATUSES)
_ACTIVE = frozenset({"queued", "running"})
JOB_LIST_LIMIT = 1000
"""The API reads at most the newest thousand jobs of a filter."""
_ENDED_JOBS_KEPT = 4096
"""Ended runs' job views kept before the memo starts over (a page reads at most 1,000)."""
_RUN_JOB_STATUS = {"pending": "queued", "queued": "queued"}
_EXPORT_JOB_STATUS = {"pending": "queued", "processing": "running"}
VIDEO_JOB = "video_extract"
"""The jobs feed's type for a video's frame extraction (``video.extract_frames``)."""
_VIDEO_JOB_STATUS = {"processing": "running", "complete": "completed", "failed": "failed"}
_LIVE_FILTERS = frozenset({"active", *_ACTIVE})
"""Job filters only live work can match (the live runs and exports answer them)."""
_ENDED_JOB_STATUSES = frozenset(JOB_STATUSES) - _ACTIVE
"""Job statuses only ended work shows; each is also the run and the export status it
reads (no export is ever cancelled: that index is empty)."""


@dataclass(slots=True)
class Notification:
    """One event in an organization's feed."""

    id: str
    seq: int
    organization_id: str
    type: str
    title: str
    created_at: float
    user_id: str | None = None
    message: str | None = None
    metadata: dict[str, Any] | None = None
    read: bool = False


@dataclass(frozen=True)
class JobView:
    """A run or an export as the jobs feed shows it, at one instant."""

    id: str
    type: str
    status: str
    progress: float | None
    name: str
    dataset_id: str
    error: str | None
    created_at: float
    updated_at: float
    completed_at: float | None
    cancellable: bool
    detail: dict[str, Any] = field(default_factory=dict)
    order: tuple[float, int, int, int] = (0.0, 0, 0, 0)
    """Creation order across kinds: the later-created job sorts higher."""

    @property
    def active(self) -> bool:
        return self.status in _ACTIVE


class Feeds:
    """Write notifications as things end; read notifications and jobs per organization."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.notifications: dict[str, Notification] = {}
        self.seq = 0
        # Each organization's notifications in feed order, and its unread ones: kept by
        # `_file`, `mark_read`, `mark_all_read` and `delete` (all that change them).
        self._ordered: dict[str, SortedIndex[Notification]] = {}
        self._unread: dict[str, SortedIndex[Notification]] = {}
        # The job views of ended runs, which never change again: the jobs feed's pages
        # are mostly those. Derived, not state; bounded, so it cannot grow forever.
        self._ended_jobs: dict[str, JobView] = {}

    def _file(self, entry: Notification) -> None:
        self.notifications[entry.id] = entry
        index_in(self._ordered, entry.organization_id, _feed_order).add(entry)
        if not entry.read:
            index_in(self._unread, entry.organization_id, _feed_order).add(entry)

    # ── events ──

    def notify(
        self,
        organization_id: str,
        kind: str,
        title: str,
        *,
        at: float,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Notification:
        """Append one notification to the organization's feed (and send its webhook event)."""
        self.seq += 1
        # Positional: a catch-up files one per run it ends (keywords cost a dict).
        entry = Notification(
            self._world.ids.uuid(),  # id
            self.seq,
            organization_id,
            kind,  # type
            title,
            at,  # created_at
            user_id,
            message,
            metadata,
        )
        self._file(entry)
        self._world.webhooks.publish(
            organization_id, kind, at=at, title=title, message=message, metadata=metadata
        )
        return entry

    def announce(
        self,
        organization_id: str,
        kind: str,
        title: str,
        *,
        at: float,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Send the webhook event of ``kind`` without a notification (what is not news)."""
        self._world.webhooks.publish(
            organization_id, kind, at=at, title=title, message=message, metadata=metadata
        )

    def adopt(self, entry: Notification) -> None:
        """Add a notification made elsewhere (a scenario's); later ones number after it."""
        self._file(entry)
        self.seq = max(self.seq, entry.seq)

    def run_ended(self, run: TrainingRun, at: float) -> None:
        """Tell the run's organization that it completed or failed.

        A cancel is not news in the feed (the caller cancelled it), but it is a webhook
        event: another service may be waiting on the run.
        """
        if run.status == "completed" and run.model_id is not None:
            model = self._world.models.get(run.model_id)
            name = model.name if model is not None else run.name
            self.notify(
                run.organization_id,
                "training_complete",
                "Training complete",
                at=at,
                message=f"Your model '{name}' is ready.",
                metadata={
                    "run_id": run.id,
                    "model_id": run.model_id,
                    "dataset_id": run.dataset_id,
                },
                user_id=run.created_by,
            )
        elif run.status == "failed":
            self.notify(
                run.organization_id,
                "training_failed",
                "Training failed",
                at=at,
                message=f"Training run '{run.name}' failed: {run.error_message}",
                metadata={"run_id": run.id, "dataset_id": run.dataset_id},
                user_id=run.created_by,
            )
        elif run.status == "cancelled":
            self.announce(
                run.organization_id,
                "training_cancelled",
                "Training cancelled",
                at=at,
                message=f"Training run '{run.name}' was cancelled.",
                metadata={"run_id": run.id, "dataset_id": run.dataset_id},
            )

    def export_ended(self, export: Export, at: float, user_id: str | None) -> None:
        """Tell the export's organization that it is ready, or that it failed."""
        metadata = {
            "export_id": export.id,
            "dataset_id": export.dataset_id,
            "export_name": export.name,
        }
        if export.status == "completed":
            self.notify(
                export.organization_id,
                "export_ready",
                "Export ready",
                at=at,
                message=f"Export '{export.name}' of dataset '{export.dataset_name}' is ready "
                "to download.",
                metadata=metadata,
                user_id=user_id,
            )
        elif export.status == "failed":
            self.notify(
                export.organization_id,
                "export_failed",
                "Export failed",
                at=at,
                message=f"Export '{export.name}' failed: {export.error_message}",
                metadata=metadata,
                user_id=user_id,
            )

    # ── notifications ──

    def listing(self, key: ApiKey, *, unread_only: bool) -> Sequence[Notification]:
        """The organization's notifications, newest first (all of them: a view)."""
        ordered = self._ordered.get(key.organization_id)
        if ordered is None:
            return []
        if unread_only:
            unread = self._unread.get(key.organization_id)
            return unread.newest if unread is not None else []
        return ordered.newest

    def unread_count(self, key: ApiKey) -> int:
        unread = self._unread.get(key.organization_id)
        return len(unread) if unread is not None else 0

    def find(self, key: ApiKey, notification_id: str) -> Notification:
        found = self.notifications.get(notification_id.lower())
        if found is None or found.organization_id != key.organization_id:
            raise NotFound(f"Notification '{notification_id}' not found")
        return found

    def mark_read(self, key: ApiKey, notification_id: str) -> Notification:
        """Mark one notification read; marking it again changes nothing."""
        found = self.find(key, notification_id)
        if not found.read:
            found.read = True
            self._unread[found.organization_id].remove(found)
        return found

    def mark_all_read(self, key: ApiKey) -> int:
        """Mark every unread notification of the organization read; return how many."""
        unread = self._unread.pop(key.organization_id, None)
        if unread is None:
            return 0
        for entry in unread.oldest:
            entry.read = True
        return len(unread)

    def delete(self, key: ApiKey, notification_id: str) -> None:
        found = self.find(key, notification_id)
        del self.notifications[found.id]
        self._ordered[found.organization_id].remove(found)
        if not found.read:
            self._unread[found.organization_id].remove(found)

    # ── jobs ──

    def jobs(self, key: ApiKey, *, status: str, kind: str | None) -> Sequence[JobView]:
        """The organization's runs, exports and evaluations as jobs, newest first, filtered.

        ``status`` is ``active``, ``finished``, ``all`` or one job status; ``kind`` a job
        type (kinds the fake does not simulate simply have no jobs). At most the newest
        :data:`JOB_LIST_LIMIT` are returned, as the API reads no further. With ``all``
        the jobs are a lazy sequence: a page of it builds only the views on that page.
        """
        world = self._world
        now = world.now()
        org_id = key.organization_id
        exports = world.export_service
        if status in _LIVE_FILTERS:
            # Only live work can be active: read those, not the organization's history.
            views = (
                [run_job(r, now) for r in world.training.live(org_id)]
                if kind in (None, "training")
                else []
            )
            if kind in (None, "export"):
                views.extend(export_job(e, exports.job(e), now) for e in exports.active(org_id))
            if kind in (None, "evaluation"):
                views.extend(evaluation_job(e, now) for e in world.evaluations.live(org_id))
            if kind in (None, "connector_import"):
                connectors = world.connector_imports
                views.extend(connectors.job(j) for j in connectors.live(org_id))
            if kind in (None, VIDEO_JOB):
                views.extend(video_job(world.videos, j) for j in world.videos.live(org_id))
            if kind in (None, AUTO_ANNOTATE_JOB):
                annotating = world.auto_annotation
                views.extend(annotating.job(j) for j in annotating.live(org_id))
            if kind in (None, WORKFLOW_RUN_JOB):
                flows = world.workflow_runs
                views.extend(flows.job(r) for r in flows.live(org_id))
            views = [v for v in views if _matches(v, status)]
            views.sort(key=lambda v: v.order, reverse=True)
            return views[:JOB_LIST_LIMIT]
        # One ended status: the runs and exports filed under it, not the whole history.
        ended = status in _ENDED_JOB_STATUSES
        # Each source yields (order, source, maker), newest first; orders are unique
        # within a source, so tuples never compare two makers.
        sources: list[Iterable[tuple[tuple[float, int, int, int], int, Callable[[], JobView]]]]
        sources = []
        if kind in (None, "training"):
            runs: Iterable[TrainingRun] = (
                world.training.listing(key, dataset_name=None, status=status)
                if ended
                else reversed(world.training.of_organization(org_id))
            )
            sources.append(
                ((r.created_at, r.seq, 0, 0), 0, partial(self._run_job, r, now)) for r in runs
            )
        if kind in (None, "export"):
            exported: Iterable[Export] = (
                exports.listing(key, dataset_ref=None, status=status)
                if ended
                else reversed(exports.of_organization(org_id))
            )
            sources.append(
                (exports.job_order(e), 1, partial(_export_view, exports, e, now)) for e in exported
            )
        if kind in (None, "evaluation"):
            # Newest first by creation, which is their jobs' order: each view is made
            # only if the page reaches it.
            evaluated: Iterable[Evaluation] = (
                world.evaluations.ended(org_id, status)
                if ended
                else world.evaluations.listing(key, model_id=None, dataset_id=None)
            )
            sources.append(
                (evaluation_order(e), 2, partial(evaluation_job, e, now)) for e in evaluated
            )
        if kind in (None, "connector_import"):
            # Few per organization: every one, newest first; the filter below picks.
            connectors = world.connector_imports
            sources.append(
                (connector_order(j), 3, partial(connectors.job, j))
                for j in reversed(connectors.of_organization(org_id))
            )
        if kind in (None, VIDEO_JOB):
            # Newest first; an ended status reads the ended ones only (none changes again).
            videos = world.videos
            extracted: Iterable[FrameExtraction] = reversed(videos.of_organization(org_id))
            if ended:
                extracted = (j for j in extracted if _VIDEO_JOB_STATUS[j.status] == status)
            sources.append(
                (extraction_order(j), 4, partial(video_job, videos, j)) for j in extracted
            )
        if kind in (None, AUTO_ANNOTATE_JOB):
            # Newest first; the filter below picks (a pending job reads as queued).
            annotating = world.auto_annotation
            batches: Iterable[AutoAnnotateJob] = reversed(annotating.of_organization(org_id))
            sources.append((auto_annotate_order(j), 6, partial(annotating.job, j)) for j in batches)
        if kind in (None, WORKFLOW_RUN_JOB):
            # Newest first; the filter below picks an ended status.
            flows = world.workflow_runs
            sources.append(
                (workflow_run_order(r), 5, partial(flows.job, r))
                for r in reversed(flows.of_organization(org_id))
            )
        merged = (
            entry[2]
            for entry in (sources[0] if len(sources) == 1 else heapq.merge(*sources, reverse=True))
        )
        if status == "all":
            total = 0
            if kind in (None, "training"):
                total += len(world.training.of_organization(org_id))
            if kind in (None, "export"):
                total += len(exports.of_organization(org_id))
            if kind in (None, "evaluation"):
                total += len(world.evaluations.listing(key, model_id=None, dataset_id=None))
            if kind in (None, "connector_import"):
                total += len(world.connector_imports.of_organization(org_id))
            if kind in (None, VIDEO_JOB):
                total += len(world.videos.of_organization(org_id))
            if kind in (None, AUTO_ANNOTATE_JOB):
                total += len(world.auto_annotation.of_organization(org_id))
            if kind in (None, WORKFLOW_RUN_JOB):
                total += len(world.workflow_runs.of_organization(org_id))
            return LazyJobs(merged, min(total, JOB_LIST_LIMIT))
        found: list[JobView] = []
        for make in merged:
            view = make()
            if _matches(view, status):
                found.append(view)
                if len(found) == JOB_LIST_LIMIT:
                    break
        return found

    def _run_job(self, run: TrainingRun, now: float) -> JobView:
        if run.final is None:
            return run_job(run, now)
        view = self._ended_jobs.get(run.id)
        if view is None:
            if len(self._ended_jobs) >= _ENDED_JOBS_KEPT:
                self._ended_jobs.clear()
            view = self._ended_jobs[run.id] = run_job(run, now)
        return view

    def job(self, key: ApiKey, job_id: str) -> JobView:
        """One job by its id (a run's, an export's or an evaluation's); 404 for any other."""
        world = self._world
        ref = job_id.lower()
        run = world.runs.get(ref)
        if run is not None and run.organization_id == key.organization_id:
            return run_job(run, world.now())
        export = world.exports.get(ref)
        if export is not None and export.organization_id == key.organization_id:
            return export_job(export, world.export_service.job(export), world.now())
        evaluation = world.evaluations.evaluations.get(ref)
        if evaluation is not None and evaluation.organization_id == key.organization_id:
            return evaluation_job(evaluation, world.now())
        imported = world.connector_imports.imports.get(ref)
        if imported is not None and imported.organization_id == key.organization_id:
            return world.connector_imports.job(imported)
        extraction = world.videos.extractions.get(ref)
        if extraction is not None and extraction.organization_id == key.organization_id:
            return video_job(world.videos, extraction)
        batch = world.auto_annotation.jobs.get(ref)
        if batch is not None and batch.organization_id == key.organization_id:
            return world.auto_annotation.job(batch)
        flow = world.workflow_runs.runs.get(ref)
        if flow is not None and flow.organization_id == key.organization_id:
            return world.workflow_runs.job(flow)
        raise NotFound(f"Job '{job_id}' not found")


class LazyJobs(Sequence[JobView]):
    """The jobs feed unfiltered: ``len`` known up front, views built per slice read."""

    def __init__(self, makers: Iterator[Callable[[], JobView]], length: int) -> None:
        self._pending = makers
        self._makers: list[Callable[[], JobView]] = []
        self._length = length

    def __len__(self) -> int:
        return self._length

    def _fill(self, stop: int) -> None:
        while len(self._makers) < min(stop, self._length):
            self._makers.append(next(self._pending))

    @overload
    def __getitem__(self, index: int) -> JobView: ...

    @overload
    def __getitem__(self, index: slice) -> list[JobView]: ...

    def __getitem__(self, index: int | slice) -> JobView | list[JobView]:
        if isinstance(index, slice):
            picked = range(*index.indices(self._length))
            if not picked:
                return []
            self._fill(max(picked) + 1)
            return [self._makers[i]() for i in picked]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("job index out of range")
        self._fill(index + 1)
        return self._makers[index]()


def _export_view(exports: ExportService, export: Export, now: float) -> JobView:
    return export_job(export, exports.job(export), now)


def _feed_order(entry: Notification) -> tuple[float, int]:
    return (entry.created_at, entry.seq)


def _matches(view: JobView, status: str) -> bool:
    if status == "all":
        return True
    if status == "active":
        return view.active
    if status == "finished":
        return not view.active
    return view.status == status


def run_job(run: TrainingRun, now: float) -> JobView:
    """A training run as a job: its id, the jobs vocabulary, progress, and epochs."""
    view = run_state(run, now)
    state = view.status
    status = _RUN_JOB_STATUS.get(state, state)
    progress = float(view.progress)
    updated = run.history[-1][1] if run.history else run.created_at
    if state == "running" and view.started_at is not None:
        updated = max(updated, view.started_at)
    return JobView(
        id=run.id,
        type="training",
        status=status,
        progress=progress,
        name=run.name,
        dataset_id=run.dataset_id,
        error=run.error_message,
        created_at=run.created_at,
        updated_at=updated,
        completed_at=run.completed_at,
        cancellable=not run.terminal,
        detail={
            "pipeline_type": run.pipeline_type,
            "current_epoch": view.epoch,
            "total_epochs": run.plan.epochs,
            "gpu_type": run.gpu_type,
        },
        order=(run.created_at, run.seq, 0, 0),
    )


def video_job(videos: VideoService, job: FrameExtraction) -> JobView:
    """A video's frame extraction as a job: ``processing`` read as ``running``."""
    return JobView(
        id=job.id,
        type=VIDEO_JOB,
        status=_VIDEO_JOB_STATUS[job.status],
        progress=float(videos.progress(job)) if job.status != "failed" else None,
        name=job.filename,
        dataset_id=job.dataset_id,
        error=job.error if job.status == "failed" else None,
        created_at=job.created_at,
        updated_at=job.completed_at if job.completed_at is not None else job.created_at,
        completed_at=job.completed_at,
        # The API has no route that cancels an extraction.
        cancellable=False,
        detail={
            "dataset_name": job.dataset_name,
            "directory_path": job.directory_path,
            "sample_fps": job.sample_fps,
            "frames_extracted": videos.frames_extracted(job),
            "total_frames": job.total_frames,
        },
        order=extraction_order(job),
    )


def export_job(export: Export, job: ExportJob, now: float) -> JobView:
    """An export as a job: its id, ``pending`` read as ``queued``, progress while processing."""
    status = _EXPORT_JOB_STATUS.get(export.status, export.status)
    progress: float | None
    if export.status == "completed":
        progress = 100.0
    elif export.status == "processing":
        span = max(job.ends_at - job.processing_at, 1e-9)
        progress = min(99.0, round(100.0 * (now - job.processing_at) / span, 1))
    elif export.status == "pending":
        progress = 0.0
    else:
        progress = None
    if export.status in ("completed", "failed"):
        updated = job.completed_at if job.completed_at is not None else export.created_at
    elif export.status == "processing":
        updated = max(export.created_at, job.processing_at)
    else:
        updated = export.created_at
    return JobView(
        id=export.id,
        type="export",
        status=status,
        progress=progress,
        name=export.name,
        dataset_id=export.dataset_id,
        error=export.error_message,
        created_at=export.created_at,
        updated_at=updated,
        completed_at=job.completed_at,
        # Exports have no cancel route.
        cancellable=False,
        detail={
            "dataset_name": export.dataset_name,
            "format": export.format,
            "image_count": export.image_count,
            "include_images": export.include_images,
        },
        # Runs created before the export (at the same instant) sort below it.
        order=(export.created_at, job.runs_before, 1, job.seq),
    )
