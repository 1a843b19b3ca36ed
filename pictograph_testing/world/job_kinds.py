"""The jobs feed's vocabulary: its job types, statuses and filters, and one job's view.

Every service whose work shows in the feed (``client.jobs``) builds its :class:`JobView`
here and orders it with :func:`job_order`; :mod:`pictograph_testing.world.feeds` reads
them all as one feed. The order of :data:`JOB_TYPES` is the feed's tie-break between
kinds created at one instant, so it is declared once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "AUTO_ANNOTATE_JOB",
    "CONNECTOR_IMPORT_JOB",
    "EVALUATION_JOB",
    "EXPORT_JOB",
    "JOB_STATUSES",
    "JOB_STATUS_FILTERS",
    "JOB_TYPES",
    "PUBLIC_IMPORT_JOB",
    "TRAINING_JOB",
    "VIDEO_JOB",
    "WORKFLOW_RUN_JOB",
    "JobOrder",
    "JobView",
    "job_order",
]

JOB_TYPES = (
    TRAINING_JOB := "training",
    EXPORT_JOB := "export",
    EVALUATION_JOB := "evaluation",
    CONNECTOR_IMPORT_JOB := "connector_import",
    VIDEO_JOB := "video_extract",
    WORKFLOW_RUN_JOB := "workflow_run",
    AUTO_ANNOTATE_JOB := "auto_annotate",
    PUBLIC_IMPORT_JOB := "public_dataset_import",
)
"""Every job type the fake simulates, in the order the feed breaks a tie of creation."""
_RANKS = {job_type: rank for rank, job_type in enumerate(JOB_TYPES)}

JOB_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
JOB_STATUS_FILTERS = ("active", "finished", "all", *JOB_STATUSES)
ACTIVE_JOB_STATUSES = frozenset({"queued", "running"})

JobOrder = tuple[float, int, int, int]
"""Where a job stands in the feed, newest last: created at, work created before it, its
type's rank, and its number among its kind."""


def job_order(job_type: str, created_at: float, runs_before: int, seq: int) -> JobOrder:
    """A job's place in the feed.

    ``runs_before`` counts the training runs created before it, so that a job created at
    the instant of a run sorts after the runs made earlier (a run's own is its number);
    ``seq`` numbers the jobs of its type.
    """
    return (created_at, runs_before, _RANKS[job_type], seq)


@dataclass(frozen=True)
class JobView:
    """A run, an export or any other job as the jobs feed shows it, at one instant."""

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
    order: JobOrder = (0.0, 0, 0, 0)
    """Creation order across kinds: the later-created job sorts higher."""

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES
