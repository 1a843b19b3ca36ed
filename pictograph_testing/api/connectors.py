"""``/api/v1/developer/connectors/``: datasets imported from V7 or Roboflow.

Replies are bare, as the SDK reads them (``ValidationResult``, ``LimitCheckResult``,
``ImportJob``). The import's id goes out as ``import_id`` and as ``job`` (the SDK takes
either since 1.69.90; releases before it read ``import_id``), and each dataset row of an
import carries ``name`` and ``project_name``, ``dataset_id`` and ``project_id``, so every
release since 1.0.0 parses it. Releases before 1.69.90 cannot parse a row ``cancelled``
(``dialects.SDK_DEFECTS``), as against the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import Field, Int, List, Obj, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import PLANS
from pictograph_testing.world.connectors import INVALID_KEY, PROVIDERS

if TYPE_CHECKING:
    from pictograph_testing.world.connectors import ConnectorImport

__all__ = ["import_payload"]

_PROVIDER = Field(Str(enum=PROVIDERS), required=True)
_API_KEY = Field(Str(not_blank=True, example="v7-api-key"), required=True)
_REMOTE_DATASET = Obj(
    {
        "id": Field(Str(not_blank=True, example="100001"), required=True),
        "name": Field(Str()),
        "slug": Field(Str()),
        "image_count": Field(Int(minimum=0)),
        "version": Field(Int(minimum=1)),
    },
    # A dict the caller built may carry more of what validate listed; the id is enough.
    extra=True,
)


@endpoint(
    "POST",
    "connectors/validate",
    summary="Check a source provider's API key and list the datasets it opens",
    sdk=("connectors.validate",),
    reply=Bare("ValidationResult"),
    body=Obj({"provider": _PROVIDER, "api_key": _API_KEY}),
)
def validate(call: Call) -> Reply:
    fields = call.fields()
    source = call.world.connector_imports.source(fields["provider"], fields["api_key"])
    if source is None:
        # The provider's own answer, not the API's refusal: the SDK reads ``valid``.
        return reply({"valid": False, "workspace": "", "datasets": [], "error": INVALID_KEY})
    listed = [
        {
            "id": remote.id,
            "name": remote.name,
            "slug": remote.slug,
            "image_count": len(remote.filenames),
            "version": remote.version,
        }
        for remote in source.datasets.values()
    ]
    return reply({"valid": True, "workspace": source.workspace, "datasets": listed, "error": None})


@endpoint(
    "POST",
    "connectors/check-limits",
    summary="Whether an import of this size fits the organization's plan",
    sdk=("connectors.check_limits",),
    reply=Bare("LimitCheckResult"),
    body=Obj(
        {
            "total_images": Field(Int(minimum=0, example=250), required=True),
            "estimated_size_bytes": Field(Int(minimum=0, example=50_000_000), required=True),
        }
    ),
)
def check_limits(call: Call) -> Reply:
    fields = call.fields()
    world = call.world
    plan = PLANS[world.organizations[call.key.organization_id].subscription_tier]
    images, stored = world.connector_imports.usage(call.key.organization_id)
    images_after = images + fields["total_images"]
    stored_after = stored + fields["estimated_size_bytes"]
    over_images = images_after > plan.max_images
    over_storage = stored_after > plan.max_storage_bytes
    exceeded = (
        "both"
        if over_images and over_storage
        else "images"
        if over_images
        else "storage"
        if over_storage
        else None
    )
    return reply(
        {
            "allowed": exceeded is None,
            "current_images": images,
            "image_limit": plan.max_images,
            "images_after_import": images_after,
            "current_storage_bytes": stored,
            "storage_limit_bytes": plan.max_storage_bytes,
            "storage_after_import_bytes": stored_after,
            "exceeded": exceeded,
        }
    )


@endpoint(
    "POST",
    "connectors/import/start",
    summary="Start importing datasets from V7 or Roboflow (a job)",
    sdk=("connectors.import_",),
    reply=Bare("ConnectorImportStarted"),
    status=202,
    body=Obj(
        {
            "provider": _PROVIDER,
            "api_key": _API_KEY,
            "datasets": Field(List(_REMOTE_DATASET, min_items=1, noun="datasets"), required=True),
        }
    ),
    role="member",
    action="create datasets",
    errors=(402, 403),
)
def start_import(call: Call) -> Reply:
    fields = call.fields()
    job = call.world.connector_imports.start(
        call.key,
        fields["provider"],
        fields["api_key"],
        [str(d["id"]) for d in fields["datasets"]],
    )
    rows = [
        {"name": row.name, "project_id": row.dataset_id, "dataset_id": row.dataset_id}
        for row in job.rows
    ]
    return reply({"import_id": job.id, "job": job.id, "status": "started", "datasets": rows}, 202)


@endpoint(
    "GET",
    "connectors/import/status/{import_id}",
    summary="An import's progress: totals and each dataset's",
    sdk=("connectors.get_import", "connectors.wait_for_import"),
    reply=Bare("ImportJob"),
)
def import_status(call: Call) -> Reply:
    job = call.world.connector_imports.get(call.key, call.path_args["import_id"])
    return reply(import_payload(call, job))


@endpoint(
    "POST",
    "connectors/import/cancel/{import_id}",
    summary="Cancel a processing import; the images copied so far stay",
    sdk=("connectors.cancel_import", "jobs.cancel"),
    reply=Bare("ConnectorImportCancelled"),
    role="member",
    action="create datasets",
    errors=(403, 409),
)
def cancel_import(call: Call) -> Reply:
    job = call.world.connector_imports.cancel(call.key, call.path_args["import_id"])
    return reply({"status": job.status, "import_id": job.id, "job": job.id})


def import_payload(call: Call, job: ConnectorImport) -> dict[str, Any]:
    """An ``ImportJob``: the import as it stands on the clock now."""
    imports = call.world.connector_imports
    return {
        "import_id": job.id,
        "job": job.id,
        "status": job.status,
        "progress": imports.progress(job),
        "total_images": job.total_images,
        "imported_images": job.imported_images,
        "failed_images": job.failed_images,
        "current_dataset": imports.current_dataset(job),
        "error": job.error,
        "datasets": [
            {
                "name": row.name,
                "project_name": row.name,
                "dataset_id": row.dataset_id,
                "project_id": row.dataset_id,
                "status": row.status,
                "imported": row.imported,
                "failed": row.failed,
            }
            for row in job.rows
        ],
        "created_at": call.iso(job.created_at),
        "completed_at": call.iso(job.completed_at),
    }
