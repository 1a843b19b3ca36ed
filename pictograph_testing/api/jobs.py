"""``/api/v1/developer/jobs``: every run and export of the organization in one feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Call, Reply, page, reply
from pictograph_testing.world.errors import NotFound
from pictograph_testing.world.feeds import JOB_STATUS_FILTERS

if TYPE_CHECKING:
    from pictograph_testing.world.feeds import JobView

__all__ = ["job_payload", "route"]

# Each kind of job is cancelled through its own resource's route.
_CANCEL_PATHS = {"training": "/api/v1/developer/training/{id}/cancel"}


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", () | ("",):
            return _list(call)
        case "GET", (ref,) if ref:
            return reply({"data": job_payload(call, call.world.feeds.job(call.key, ref))})
    raise NotFound(f"No jobs route {call.method} /jobs/{'/'.join(call.segments)}")


def _list(call: Call) -> Reply:
    limit, offset = call.page_window(cap=100, default=50)
    status = call.choice("status", JOB_STATUS_FILTERS, default="active")
    assert status is not None
    kind = call.text("type") or None
    jobs = call.world.feeds.jobs(call.key, status=status, kind=kind)
    chunk, pagination = page(jobs, offset, limit)
    return reply({"data": [job_payload(call, j) for j in chunk], "pagination": pagination})


def job_payload(call: Call, job: JobView) -> dict[str, Any]:
    """The ``Job`` object: the jobs vocabulary, progress 0-100, and the route that cancels it."""
    template = _CANCEL_PATHS.get(job.type)
    cancel_path = template.format(id=job.id) if template and job.cancellable else None
    return {
        "id": job.id,
        "type": job.type,
        "status": job.status,
        "progress": job.progress,
        "name": job.name,
        "dataset_id": job.dataset_id,
        "error": job.error,
        "created_at": call.iso(job.created_at),
        "updated_at": call.iso(job.updated_at),
        "completed_at": call.iso(job.completed_at),
        "cancel_path": cancel_path,
        "detail": job.detail,
    }
