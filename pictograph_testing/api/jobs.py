"""``/api/v1/developer/jobs``: every run and export of the organization in one feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.route_paths import API_PREFIX
from pictograph_testing.api.spec import Param, Str
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, encode, page, page_params, reply
from pictograph_testing.world.job_kinds import (
    AUTO_ANNOTATE_JOB,
    CONNECTOR_IMPORT_JOB,
    EVALUATION_JOB,
    JOB_STATUS_FILTERS,
    TRAINING_JOB,
    WORKFLOW_RUN_JOB,
)

if TYPE_CHECKING:
    from pictograph_testing.world.job_kinds import JobView

__all__ = ["job_payload"]

# Each kind of job is cancelled through its own resource's route.
_CANCEL_PATHS = {
    TRAINING_JOB: f"{API_PREFIX}training/{{id}}/cancel",
    EVALUATION_JOB: f"{API_PREFIX}model-evaluations/{{id}}/cancel",
    CONNECTOR_IMPORT_JOB: f"{API_PREFIX}connectors/import/cancel/{{id}}",
    AUTO_ANNOTATE_JOB: f"{API_PREFIX}auto-annotate/batch/{{id}}/cancel",
    WORKFLOW_RUN_JOB: f"{API_PREFIX}workflows/runs/{{id}}/cancel",
}


@endpoint(
    "GET",
    "jobs",
    summary="The organization's runs and exports as one feed of jobs",
    sdk=("jobs.list",),
    reply=Page("Job"),
    query=(
        *page_params(100),
        Param("status", Str(enum=JOB_STATUS_FILTERS), default="active"),
        Param("type", Str()),
    ),
)
def list_jobs(call: Call) -> Reply:
    jobs = call.world.feeds.jobs(
        call.key, status=call.args["status"], kind=call.args["type"] or None
    )
    chunk, pagination = page(jobs, call.args["offset"], call.args["limit"])
    # The bytes of reply({"data": [...], "pagination": ...}), with each ended run's job
    # encoded once: most of a long feed's pages are runs that will never change again.
    ended = call.cache.ended_jobs
    parts = []
    for job in chunk:
        if job.type == TRAINING_JOB and not job.active:
            encoded = ended.get(job.id)
            if encoded is None:
                encoded = call.cache.remember_ended_job(job.id, encode(job_payload(call, job)))
        else:
            encoded = encode(job_payload(call, job))
        parts.append(encoded)
    tail = b'],"pagination":' + encode(pagination) + b"}"
    return Reply(200, b'{"data":[' + b",".join(parts) + tail)


@endpoint(
    "GET",
    "jobs/{job}",
    summary="One job by id",
    sdk=("jobs.get", "jobs.wait"),
    reply=Data("Job"),
)
def get_job(call: Call) -> Reply:
    return reply({"data": job_payload(call, call.world.feeds.job(call.key, call.path_args["job"]))})


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
