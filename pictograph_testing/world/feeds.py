"""What an organization can watch: its notifications, and its jobs (every kind of work).

Notifications are written when something ends on the virtual clock (a run, an export);
jobs are not stored at all but read from the work they describe (one source per job
type), so the feed can never disagree with the resource it stands for.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from pictograph_testing.world.auto_annotate import auto_annotate_order
from pictograph_testing.world.connectors import connector_order
from pictograph_testing.world.errors import NotFound
from pictograph_testing.world.evaluations import evaluation_job, evaluation_order
from pictograph_testing.world.job_kinds import (
    ACTIVE_JOB_STATUSES,
    AUTO_ANNOTATE_JOB,
    CONNECTOR_IMPORT_JOB,
    EVALUATION_JOB,
    EXPORT_JOB,
    JOB_STATUSES,
    JOB_TYPES,
    PUBLIC_IMPORT_JOB,
    TRAINING_JOB,
    VIDEO_JOB,
    WORKFLOW_RUN_JOB,
    JobOrder,
    JobView,
    job_order,
)
from pictograph_testing.world.ordered import SortedIndex, index_in
from pictograph_testing.world.public_imports import public_import_order
from pictograph_testing.world.training import run_state
from pictograph_testing.world.videos import extraction_order
from pictograph_testing.world.workflow_runs import workflow_run_order

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from pictograph_testing.world.auto_annotate import AutoAnnotateJob, AutoAnnotation
    from pictograph_testing.world.connectors import ConnectorImport, ConnectorImports
    from pictograph_testing.world.entities import ApiKey, Export, PublicImport, TrainingRun
    from pictograph_testing.world.evaluations import Evaluation
    from pictograph_testing.world.exports import ExportJob, ExportService
    from pictograph_testing.world.public_imports import PublicImports
    from pictograph_testing.world.state import World
    from pictograph_testing.world.videos import FrameExtraction, VideoService
    from pictograph_testing.world.workflow_runs import Run, WorkflowRuns

__all__ = ["Feeds", "Notification"]

JOB_LIST_LIMIT = 1000
"""The API reads at most the newest thousand jobs of a filter."""
_ENDED_JOBS_KEPT = 4096
"""Ended runs' job views kept before the memo starts over (a page reads at most 1,000)."""
_RUN_JOB_STATUS = {"pending": "queued", "queued": "queued"}
_EXPORT_JOB_STATUS = {"pending": "queued", "processing": "running"}
_VIDEO_JOB_STATUS = {"processing": "running", "complete": "completed", "failed": "failed"}
_LIVE_FILTERS = frozenset({"active", *ACTIVE_JOB_STATUSES})
"""Job filters only live work can match (the live work of each kind answers them)."""
_ENDED_JOB_STATUSES = frozenset(JOB_STATUSES) - ACTIVE_JOB_STATUSES
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
        # Where the jobs feed reads each kind of work, in the order of JOB_TYPES.
        self._sources = tuple(_SOURCES[job_type](world) for job_type in JOB_TYPES)
        self._by_type = {source.type: source for source in self._sources}

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
        """The organization's jobs of every kind (or of one), newest first, filtered.

        ``status`` is ``active``, ``finished``, ``all`` or one job status; ``kind`` a job
        type (kinds the fake does not simulate simply have no jobs). At most the newest
        :data:`JOB_LIST_LIMIT` are returned, as the API reads no further. With ``all``
        the jobs are a lazy sequence: a page of it builds only the views on that page.
        """
        now = self._world.now()
        org_id = key.organization_id
        if kind is None:
            sources: Sequence[_JobSource] = self._sources
        else:
            found = self._by_type.get(kind)
            sources = () if found is None else (found,)
        if status in _LIVE_FILTERS:
            # Only live work can be active: read those, not the organization's history.
            views = [
                view
                for source in sources
                for view in source.live(org_id, now)
                if _matches(view, status)
            ]
            views.sort(key=_view_order, reverse=True)
            return views[:JOB_LIST_LIMIT]
        # One ended status reads the work filed under it, not the whole history.
        ended = status if status in _ENDED_JOB_STATUSES else None
        # Each source yields (order, maker), newest first; an order holds its job type's
        # rank, so orders are unique across sources and merged by them alone.
        streams = [source.newest_first(key, ended, now) for source in sources]
        if not streams:
            return []
        merged = (
            entry[1]
            for entry in (
                streams[0]
                if len(streams) == 1
                else heapq.merge(*streams, key=_entry_order, reverse=True)
            )
        )
        if status == "all":
            total = sum(source.count(key) for source in sources)
            return LazyJobs(merged, min(total, JOB_LIST_LIMIT))
        picked: list[JobView] = []
        for make in merged:
            view = make()
            if _matches(view, status):
                picked.append(view)
                if len(picked) == JOB_LIST_LIMIT:
                    break
        return picked

    def job(self, key: ApiKey, job_id: str) -> JobView:
        """One job of any kind by its id; 404 for another organization's, or none."""
        ref = job_id.lower()
        now = self._world.now()
        for source in self._sources:
            view = source.find(ref, key.organization_id, now)
            if view is not None:
                return view
        raise NotFound(f"Job '{job_id}' not found")


Maker = Callable[[], JobView]
"""Builds one job's view when a page reaches it."""


class _JobSource:
    """One kind of work as the jobs feed reads it: a job type's views, live and past.

    Each kind keeps its work its own way; a source reads it through the indexes its
    service keeps, so a page of the feed costs the jobs on it, not the organization's
    history.
    """

    type: str

    def __init__(self, world: World) -> None:
        self._world = world

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        """The organization's work not ended yet, as views (any order)."""
        raise NotImplementedError

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        """The organization's work, newest first, each with its order and a maker of its
        view; with ``ended`` (an ended job status), a source that keeps its ended work
        by status may give only that work (the feed filters the views it makes)."""
        raise NotImplementedError

    def count(self, key: ApiKey) -> int:
        """How many jobs of this kind the organization has."""
        raise NotImplementedError

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        """The organization's job with this (lower-case) id, or ``None``."""
        raise NotImplementedError


class _Runs(_JobSource):
    type = TRAINING_JOB

    def __init__(self, world: World) -> None:
        super().__init__(world)
        # The job views of ended runs, which never change again: the jobs feed's pages
        # are mostly those. Derived, not state; bounded, so it cannot grow forever.
        self._ended: dict[str, JobView] = {}

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        return [run_job(r, now) for r in self._world.training.live(organization_id)]

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        training = self._world.training
        runs: Iterable[TrainingRun] = (
            training.listing(key, dataset_name=None, status=ended)
            if ended is not None
            else reversed(training.of_organization(key.organization_id))
        )
        return ((run_order(r), partial(self._view, r, now)) for r in runs)

    def _view(self, run: TrainingRun, now: float) -> JobView:
        if run.final is None:
            return run_job(run, now)
        view = self._ended.get(run.id)
        if view is None:
            if len(self._ended) >= _ENDED_JOBS_KEPT:
                self._ended.clear()
            view = self._ended[run.id] = run_job(run, now)
        return view

    def count(self, key: ApiKey) -> int:
        return len(self._world.training.of_organization(key.organization_id))

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        run = self._world.runs.get(job_id)
        if run is None or run.organization_id != organization_id:
            return None
        return run_job(run, now)


class _Exports(_JobSource):
    type = EXPORT_JOB

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        exports = self._world.export_service
        return [export_job(e, exports.job(e), now) for e in exports.active(organization_id)]

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        exports = self._world.export_service
        exported: Iterable[Export] = (
            exports.listing(key, dataset_ref=None, status=ended)
            if ended is not None
            else reversed(exports.of_organization(key.organization_id))
        )
        return ((exports.job_order(e), partial(_export_view, exports, e, now)) for e in exported)

    def count(self, key: ApiKey) -> int:
        return len(self._world.export_service.of_organization(key.organization_id))

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        export = self._world.exports.get(job_id)
        if export is None or export.organization_id != organization_id:
            return None
        return _export_view(self._world.export_service, export, now)


class _Evaluations(_JobSource):
    type = EVALUATION_JOB

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        return [evaluation_job(e, now) for e in self._world.evaluations.live(organization_id)]

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        # Newest first by creation, which is their jobs' order.
        evaluations = self._world.evaluations
        evaluated: Iterable[Evaluation] = (
            evaluations.ended(key.organization_id, ended)
            if ended is not None
            else evaluations.listing(key, model_id=None, dataset_id=None)
        )
        return ((evaluation_order(e), partial(evaluation_job, e, now)) for e in evaluated)

    def count(self, key: ApiKey) -> int:
        return len(self._world.evaluations.listing(key, model_id=None, dataset_id=None))

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        evaluation = self._world.evaluations.evaluations.get(job_id)
        if evaluation is None or evaluation.organization_id != organization_id:
            return None
        return evaluation_job(evaluation, now)


class _VideoExtractions(_JobSource):
    type = VIDEO_JOB

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        videos = self._world.videos
        return [video_job(videos, j) for j in videos.live(organization_id)]

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        videos = self._world.videos
        extracted: Iterable[FrameExtraction] = reversed(videos.of_organization(key.organization_id))
        if ended is not None:
            # An ended extraction never changes again: its status is read off as is.
            extracted = (j for j in extracted if _VIDEO_JOB_STATUS[j.status] == ended)
        return ((extraction_order(j), partial(video_job, videos, j)) for j in extracted)

    def count(self, key: ApiKey) -> int:
        return len(self._world.videos.of_organization(key.organization_id))

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        videos = self._world.videos
        found = videos.extractions.get(job_id)
        if found is None or found.organization_id != organization_id:
            return None
        return video_job(videos, found)


class _Owned(Protocol):
    organization_id: str


_Job = TypeVar("_Job", bound=_Owned)


class _Keeper(Protocol[_Job]):
    """A service that keeps its jobs per organization and makes their views itself."""

    def of_organization(self, organization_id: str) -> Sequence[_Job]: ...

    def live(self, organization_id: str) -> Iterable[_Job]: ...

    def job(self, item: _Job, /) -> JobView: ...


class _KeptJobs(_JobSource, Generic[_Job]):
    """A kind whose service keeps few jobs per organization and views them itself: its
    history is every job, newest first, and the feed's filter picks an ended status."""

    def _keeper(self) -> _Keeper[_Job]:
        raise NotImplementedError

    def _by_id(self) -> Mapping[str, _Job]:
        raise NotImplementedError

    def _order(self, item: _Job) -> JobOrder:
        raise NotImplementedError

    def live(self, organization_id: str, now: float) -> Iterable[JobView]:
        keeper = self._keeper()
        return [keeper.job(j) for j in keeper.live(organization_id)]

    def newest_first(
        self, key: ApiKey, ended: str | None, now: float
    ) -> Iterable[tuple[JobOrder, Maker]]:
        keeper = self._keeper()
        return (
            (self._order(j), partial(keeper.job, j))
            for j in reversed(keeper.of_organization(key.organization_id))
        )

    def count(self, key: ApiKey) -> int:
        return len(self._keeper().of_organization(key.organization_id))

    def find(self, job_id: str, organization_id: str, now: float) -> JobView | None:
        found = self._by_id().get(job_id)
        if found is None or found.organization_id != organization_id:
            return None
        return self._keeper().job(found)


class _ConnectorImports(_KeptJobs["ConnectorImport"]):
    type = CONNECTOR_IMPORT_JOB

    def _keeper(self) -> ConnectorImports:
        return self._world.connector_imports

    def _by_id(self) -> Mapping[str, ConnectorImport]:
        return self._world.connector_imports.imports

    def _order(self, item: ConnectorImport) -> JobOrder:
        return connector_order(item)


class _WorkflowRuns(_KeptJobs["Run"]):
    type = WORKFLOW_RUN_JOB

    def _keeper(self) -> WorkflowRuns:
        return self._world.workflow_runs

    def _by_id(self) -> Mapping[str, Run]:
        return self._world.workflow_runs.runs

    def _order(self, item: Run) -> JobOrder:
        return workflow_run_order(item)


class _AutoAnnotateJobs(_KeptJobs["AutoAnnotateJob"]):
    type = AUTO_ANNOTATE_JOB

    def _keeper(self) -> AutoAnnotation:
        return self._world.auto_annotation

    def _by_id(self) -> Mapping[str, AutoAnnotateJob]:
        return self._world.auto_annotation.jobs

    def _order(self, item: AutoAnnotateJob) -> JobOrder:
        return auto_annotate_order(item)


class _PublicImports(_KeptJobs["PublicImport"]):
    type = PUBLIC_IMPORT_JOB

    def _keeper(self) -> PublicImports:
        return self._world.public_imports

    def _by_id(self) -> Mapping[str, PublicImport]:
        return self._world.public_imports.imports

    def _order(self, item: PublicImport) -> JobOrder:
        return public_import_order(item)


_SOURCES: dict[str, type[_JobSource]] = {
    source.type: source
    for source in (
        _Runs,
        _Exports,
        _Evaluations,
        _ConnectorImports,
        _VideoExtractions,
        _WorkflowRuns,
        _AutoAnnotateJobs,
        _PublicImports,
    )
}
"""Where the feed reads each job type; every type of :data:`JOB_TYPES` has one."""


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


def _view_order(view: JobView) -> JobOrder:
    return view.order


def _entry_order(entry: tuple[JobOrder, Maker]) -> JobOrder:
    return entry[0]


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
        type=TRAINING_JOB,
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
        order=run_order(run),
    )


def run_order(run: TrainingRun) -> JobOrder:
    """Where a run stands in the jobs feed: a run's own number is its runs before."""
    return job_order(TRAINING_JOB, run.created_at, run.seq, 0)


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
        type=EXPORT_JOB,
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
        order=job_order(EXPORT_JOB, export.created_at, job.runs_before, job.seq),
    )
