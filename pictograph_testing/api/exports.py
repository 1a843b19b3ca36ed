"""``/api/v1/developer/exports/``: create, read, list, download and delete exports.

``GET exports/{x}`` names an export by its name when ``?dataset=`` comes with it, and by
its UUID when it does not; the same holds for ``…/download`` and ``DELETE``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    BY_NAME_PATHS,
    COMPOUND_EXPORT_PATHS,
    EXPORT_FORMATS_BY_RELEASE,
    LEGACY_ENVELOPES,
    Wire,
)
from pictograph_testing.api.spec import (
    EXAMPLE_DATASET,
    ID_LIST,
    NAME,
    Bool,
    Field,
    List,
    Obj,
    Param,
    Str,
)
from pictograph_testing.api.table import Bare, Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, bulk_reply, page, page_params, reply
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InvalidRequest
from pictograph_testing.world.exports import (
    DOWNLOAD_TTL_SECONDS,
    EXPORT_FORMATS,
    EXPORT_STATUSES,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Export

__all__ = ["CREATE", "export_payload"]

CREATE = Obj(
    {
        "dataset_name": Field(Str(example=EXAMPLE_DATASET), required=True),
        "name": Field(NAME, required=True),
        "format": Field(Str(enum=EXPORT_FORMATS)),
        "include_images": Field(Bool()),
        "class_filter": Field(List(Str(), noun="class names")),
        # Any text: a value that names no stage exports nothing (as the API does).
        "status_filter": Field(Str()),
        "organize_by_split": Field(Bool()),
    }
)
_EXPORT_WIRE = Wire(LEGACY_ENVELOPES, envelope="export", note="`export`")
_BY_DATASET = Param(
    "dataset",
    Str(min_length=1, example=EXAMPLE_DATASET),
    description="Name the export by its name within this dataset (else by its UUID).",
)


@endpoint(
    "GET",
    "exports/",
    summary="List exports, newest first",
    sdk=("exports.list", "exports.iter"),
    reply=Page("Export"),
    query=(
        *page_params(1000, default=100),
        Param("dataset_name", Str()),
        Param("status", Str(enum=EXPORT_STATUSES)),
    ),
    wires=(Wire(LEGACY_ENVELOPES, envelope="exports", note="`exports`"),),
)
def list_exports(call: Call) -> Reply:
    exports = call.world.export_service.listing(
        call.key, dataset_ref=call.args["dataset_name"], status=call.args["status"]
    )
    chunk, pagination = page(exports, call.args["offset"], call.args["limit"])
    return reply({"data": [export_payload(call, e) for e in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "exports/",
    summary="Start an export of a dataset",
    sdk=("exports.create",),
    reply=Data("Export"),
    body=CREATE,
    errors=(403, 409),
    role="member",
    action="create exports",
    wires=(_EXPORT_WIRE,),
    values=(EXPORT_FORMATS_BY_RELEASE,),
)
def create_export(call: Call) -> Reply:
    body = call.fields()
    export = call.world.export_service.request(
        call.key,
        body["dataset_name"],
        body["name"],
        export_format=body.get("format") or "pictograph",
        include_images=bool(body.get("include_images")),
        status_filter=body.get("status_filter"),
        class_filter=body.get("class_filter"),
        organize_by_split=bool(body.get("organize_by_split")),
    )
    return reply({"data": export_payload(call, export)})


@endpoint(
    "POST",
    "exports/bulk-delete",
    summary="Delete many exports",
    sdk=("exports.bulk_delete",),
    reply=Data("BulkDeleteResult"),
    body=Obj({"export_ids": Field(ID_LIST("export id strings"), required=True)}),
    errors=(403,),
    role="admin",
    action="delete exports",
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="the result at the root"),),
)
def bulk_delete(call: Call) -> Reply:
    service = call.world.export_service
    succeeded, not_found = service.bulk_delete(call.key, call.fields()["export_ids"])
    return bulk_reply(succeeded, not_found, legacy_deleted=True)


@endpoint(
    "GET",
    "exports/{export}",
    summary="An export by UUID, or by name with ?dataset=",
    sdk=("exports.get", "exports.get_by_id", "exports.wait_for_completion", "exports.create"),
    reply=Data("Export"),
    query=(_BY_DATASET,),
    wires=(_EXPORT_WIRE,),
    aliases=(
        ("exports/{dataset}/{export}", COMPOUND_EXPORT_PATHS),
        ("exports/by-name/{dataset}/{export}", BY_NAME_PATHS),
    ),
)
def get_export(call: Call) -> Reply:
    return reply({"data": export_payload(call, _addressed(call))})


@endpoint(
    "GET",
    "exports/{export}/download",
    summary="A signed URL for a completed export's zip",
    sdk=("exports.download", "exports.download_by_id"),
    reply=Data("ExportDownload"),
    query=(_BY_DATASET,),
    errors=(400,),
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="`download_url` at the root"),),
    aliases=(
        ("exports/{dataset}/{export}/download", COMPOUND_EXPORT_PATHS),
        ("exports/by-name/{dataset}/{export}/download", BY_NAME_PATHS),
    ),
)
def download(call: Call) -> Reply:
    return _download(call, _addressed(call))


@endpoint(
    "DELETE",
    "exports/{export}",
    summary="Delete an export",
    sdk=("exports.delete",),
    reply=Bare("ExportDeleted"),
    query=(_BY_DATASET,),
    errors=(403, 409),
    role="admin",
    action="delete exports",
    aliases=(
        ("exports/{dataset}/{export}", COMPOUND_EXPORT_PATHS),
        ("exports/by-name/{dataset}/{export}", BY_NAME_PATHS),
    ),
)
def delete_export(call: Call) -> Reply:
    export = _addressed(call)
    call.world.export_service.delete(call.key, export)
    # No release reads the body (`exports.delete` returns None).
    return reply({"success": True, "message": "Export deleted"})


def _addressed(call: Call) -> Export:
    """The export a path segment names: by name with ``?dataset=``, else by UUID."""
    service = call.world.export_service
    ref = call.path_args["export"]
    # By name within a dataset: `?dataset=`, or the dataset in the path (`by-name/` from
    # 1.61 to 1.69.43, `exports/{dataset}/{export}` before).
    dataset = call.path_args.get("dataset") or call.args["dataset"]
    if dataset:
        return service.by_name(call.key, dataset, ref)
    return service.by_id(call.key, ref)


def export_payload(call: Call, export: Export) -> dict[str, Any]:
    """The ``Export`` object at the call's virtual instant."""
    job = call.world.export_service.job(export)
    completed = export.status == "completed"
    expires = download_path = None
    if completed and job.completed_at is not None:
        closes = job.completed_at + DOWNLOAD_TTL_SECONDS
        expires = _iso_after(call, closes)
        download_path = call.world.export_service.listed_path(export, closes)
    return {
        "id": export.id,
        "organization_id": export.organization_id,
        "dataset_id": export.dataset_id,
        # The seed-era SDKs read the dataset id under its old name.
        "project_id": export.dataset_id,
        "dataset_name": export.dataset_name,
        "name": export.name,
        "format": export.format,
        "include_images": export.include_images,
        "class_filter": export.class_filter,
        "status_filter": export.status_filter,
        "organize_by_split": job.organize_by_split,
        "status": export.status,
        "error_message": export.error_message,
        "file_size": call.world.export_service.archive_size(export) if completed else None,
        "image_count": export.image_count,
        "annotation_count": export.annotation_count,
        "created_at": call.iso(export.created_at),
        "completed_at": call.iso(job.completed_at),
        "expires_at": expires,
        # The SDK reads it on get and list once completed; the download route mints a
        # fresh, shorter-lived one per call.
        "download_url": None if download_path is None else call.base_url + download_path,
    }


def _iso_after(call: Call, seconds: float) -> str:
    # Past the memo on purpose: expiries are one-off instants, not polled ones.
    return format_timestamp(call.world.clock.start + timedelta(seconds=seconds))


def _download(call: Call, export: Export) -> Reply:
    if export.status != "completed":
        raise InvalidRequest(
            f"Export '{export.name}' is not ready to download (status: {export.status}).",
            status=400,
            code="export_not_ready",
        )
    path = call.world.export_service.download_path(export)
    filename = path.rsplit("/", 1)[-1]
    return reply(
        {
            "data": {
                "download_url": call.base_url + path,
                "filename": filename,
                "content_type": "application/zip",
                "file_size": call.world.export_service.archive_size(export),
            }
        }
    )
