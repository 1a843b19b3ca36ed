"""``/api/v1/developer/exports/``: create, read, list, download and delete exports.

``GET exports/{x}`` names an export by its name when ``?dataset=`` comes with it, and by
its UUID when it does not; the same holds for ``…/download`` and ``DELETE``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import (
    Call,
    Reply,
    bulk_reply,
    check_fields,
    id_list,
    name_field,
    page,
    reply,
)
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error
from pictograph_testing.world.exports import (
    DOWNLOAD_TTL_SECONDS,
    EXPORT_FORMATS,
    EXPORT_STATUSES,
)

if TYPE_CHECKING:
    from pictograph_testing.world.state import Export

__all__ = ["export_payload", "route"]

_CREATE_REQUIRED: dict[str, type | tuple[type, ...]] = {"dataset_name": str, "name": str}
_CREATE_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "include_images": bool,
    "class_filter": list,
    "status_filter": str,
    "organize_by_split": bool,
}


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", ("",):
            return _list(call)
        case "POST", ("",):
            return _create(call)
        case "POST", ("bulk-delete",):
            return _bulk_delete(call)
        case "GET", (ref,) if ref:
            return reply({"data": export_payload(call, _addressed(call, ref))})
        case "GET", (ref, "download") if ref:
            return _download(call, _addressed(call, ref))
        case "DELETE", (ref,) if ref:
            export = _addressed(call, ref)
            call.world.export_service.delete(call.key, export)
            return reply({"data": {"id": export.id, "name": export.name, "deleted": True}})
    raise NotFound(f"No exports route {call.method} /exports/{'/'.join(call.segments)}")


def _addressed(call: Call, ref: str) -> Export:
    """The export a path segment names: by name with ``?dataset=``, else by UUID."""
    service = call.world.export_service
    dataset = call.text("dataset")
    if dataset:
        return service.by_name(call.key, dataset, ref)
    return service.by_id(call.key, ref)


def export_payload(call: Call, export: Export) -> dict[str, Any]:
    """The ``Export`` object at the call's virtual instant."""
    job = call.world.export_service.job(export)
    completed = export.status == "completed"
    expires = None
    if completed and job.completed_at is not None:
        expires = _iso_after(call, job.completed_at + DOWNLOAD_TTL_SECONDS)
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
        "file_size": len(call.world.export_service.archive(export)) if completed else None,
        "image_count": export.image_count,
        "annotation_count": export.annotation_count,
        "created_at": call.iso(export.created_at),
        "completed_at": call.iso(job.completed_at),
        "expires_at": expires,
        # A signed URL is minted by the download route only (the field may be null).
        "download_url": None,
    }


def _iso_after(call: Call, seconds: float) -> str:
    # Past the memo on purpose: expiries are one-off instants, not polled ones.
    return format_timestamp(call.world.clock.start + timedelta(seconds=seconds))


def _create(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required=_CREATE_REQUIRED, optional=_CREATE_OPTIONAL)
    name_field(body, "name")
    export_format = body.get("format") or "pictograph"
    if export_format not in EXPORT_FORMATS:
        allowed = ", ".join(f"'{f}'" for f in EXPORT_FORMATS)
        raise InvalidRequest(
            f"Unknown export format '{export_format}': choose one of {allowed}.",
            errors=[field_error(("body", "format"), f"Input should be {allowed}", "literal_error")],
        )
    class_filter = body.get("class_filter")
    if class_filter is not None and not all(isinstance(c, str) for c in class_filter):
        raise InvalidRequest(
            "class_filter must be a list of class names.",
            errors=[
                field_error(
                    ("body", "class_filter"), "Input should be a list of strings", "list_type"
                )
            ],
        )
    export = call.world.export_service.request(
        call.key,
        body["dataset_name"],
        body["name"],
        export_format=export_format,
        include_images=bool(body.get("include_images")),
        status_filter=body.get("status_filter"),
        class_filter=class_filter,
        organize_by_split=bool(body.get("organize_by_split")),
    )
    return reply({"data": export_payload(call, export)})


def _list(call: Call) -> Reply:
    limit, offset = call.page_window(cap=1000, default=100)
    exports = call.world.export_service.listing(
        call.key,
        dataset_ref=call.text("dataset_name"),
        status=call.choice("status", EXPORT_STATUSES),
    )
    chunk, pagination = page(exports, offset, limit)
    return reply({"data": [export_payload(call, e) for e in chunk], "pagination": pagination})


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
                "file_size": len(call.world.export_service.archive(export)),
            }
        }
    )


def _bulk_delete(call: Call) -> Reply:
    export_ids = id_list(call, "export_ids", "export")
    succeeded, not_found = call.world.export_service.bulk_delete(call.key, export_ids)
    return bulk_reply(succeeded, not_found, legacy_deleted=True)
