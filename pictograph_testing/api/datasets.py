"""``/api/v1/developer/datasets/``: the dataset lifecycle, its insights and download listing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.images import DEVELOPER_PATH, image_payload
from pictograph_testing.api.wire import Call, Reply, check_fields, name_field, page, reply
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error
from pictograph_testing.world.images import check_status

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.world.images import ImageService
    from pictograph_testing.world.state import Dataset, Image

__all__ = ["dataset_payload", "route"]

EMBEDDED_IMAGES_CAP = 10_000
DOWNLOAD_CAP = 10_000
DOWNLOAD_MODES = ("full", "images_only", "annotations_only")
NAME_LIMIT = 100
_WRITABLE: dict[str, type | tuple[type, ...]] = {
    "readme": str,
    "description": str,
    "annotation_types": list,
    "classes": list,
}


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", ("",):
            return _list(call)
        case "POST", ("",):
            return _create(call)
        case "GET", (ref,) if ref:
            return _get(call, ref)
        case "PATCH", (ref,) if ref:
            return _update(call, ref)
        case "DELETE", (ref,) if ref:
            call.key.require("admin", "delete datasets")
            world = call.world
            dataset = world.dataset(call.key.organization_id, ref)
            return reply({"data": world.dataset_service.delete(call.key, dataset)})
        case "GET", (ref, "insights") if ref:
            dataset = call.world.dataset(call.key.organization_id, ref)
            return reply({"data": call.world.dataset_service.insights(dataset)})
        case "GET", (ref, "download") if ref:
            return _download(call, ref)
        case "POST", (ref, "archive" | "unarchive" as verb) if ref:
            call.key.require("admin", f"{verb} datasets")
            world = call.world
            dataset = world.dataset(call.key.organization_id, ref)
            world.dataset_service.set_archived(dataset, verb == "archive")
            return reply({"data": dataset_payload(call, dataset)})
    raise NotFound(f"No datasets route {call.method} /datasets/{'/'.join(call.segments)}")


def _list(call: Call) -> Reply:
    limit, offset = call.page_window(cap=1000, default=100)
    archived = call.flag("archived")
    mine = [
        (n, d)
        for n, d in enumerate(call.world.datasets.values())
        if d.organization_id == call.key.organization_id and (d.archived_at is not None) == archived
    ]
    # Newest first; datasets made at one virtual instant, newest created first.
    datasets = [d for _, d in sorted(mine, key=lambda nd: (nd[1].created_at, nd[0]), reverse=True)]
    chunk, pagination = page(datasets, offset, limit)
    return reply({"data": [dataset_payload(call, d) for d in chunk], "pagination": pagination})


def _get(call: Call, ref: str) -> Reply:
    dataset = call.world.dataset(call.key.organization_id, ref)
    if not call.flag("include_images"):
        return reply({"data": dataset_payload(call, dataset)})
    limit = call.integer("images_limit", 1000, low=1)
    offset = call.integer("images_offset", 0, low=0)
    images = call.world.dataset_images(dataset)[offset : offset + min(limit, EMBEDDED_IMAGES_CAP)]
    payload = dataset_payload(call, dataset)
    payload["images"] = [image_payload(call, image) for image in images]
    return reply({"data": payload})


def _create(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required={"name": str}, optional=_WRITABLE)
    name_field(body, "name", limit=NAME_LIMIT)
    call.key.require("member", "create datasets")
    annotation_types = body.get("annotation_types")
    dataset = call.world.dataset_service.create(
        call.key.organization_id,
        body["name"],
        annotation_types=["bbox"] if annotation_types is None else annotation_types,
        classes=body.get("classes") or [],
        description=body.get("description"),
        readme=body.get("readme"),
    )
    return reply({"data": dataset_payload(call, dataset)}, status=201)


def _update(call: Call, ref: str) -> Reply:
    body = call.json_object()
    check_fields(body, required={}, optional={"new_name": str, **_WRITABLE, "classes_base": list})
    name_field(body, "new_name", limit=NAME_LIMIT)
    if all(value is None for value in body.values()):
        raise InvalidRequest(
            "Nothing to update: send at least one of new_name, readme, description, "
            "annotation_types, classes.",
            errors=[field_error(("body",), "At least one field is required", "missing")],
        )
    call.key.require("member", "update datasets")
    world = call.world
    dataset = world.dataset(call.key.organization_id, ref)
    world.dataset_service.update(
        dataset,
        new_name=body.get("new_name"),
        readme=body.get("readme"),
        description=body.get("description"),
        annotation_types=body.get("annotation_types"),
        classes=body.get("classes"),
        classes_base=body.get("classes_base"),
    )
    return reply({"data": dataset_payload(call, dataset)})


def _download(call: Call, ref: str) -> Reply:
    """The listing ``datasets.download`` fetches: a signed image URL per image, and the
    authenticated annotation-file URL."""
    mode = call.choice("mode", DOWNLOAD_MODES, default="full")
    limit = call.integer("limit", DOWNLOAD_CAP, low=1, high=DOWNLOAD_CAP)
    wanted = call.text("status_filter")
    # "all" is every stage, as for exports; anything else must be a stage.
    status = None if wanted in (None, "all") else check_status(str(wanted))
    world = call.world
    dataset = world.dataset(call.key.organization_id, ref)
    images = [i for i in world.dataset_images(dataset) if status is None or i.status == status]
    service = world.image_service
    base = f"{call.base_url}{DEVELOPER_PATH}"
    items = []
    for image in images[:limit]:
        image_url = None
        if mode != "annotations_only":
            # Signed, so the SDK's unauthenticated client can fetch it; made when fetched.
            path = world.storage.sign(
                image.filename, service.served_type(image), _bytes_of(service, image)
            )
            image_url = call.base_url + path
        items.append(
            {
                "id": image.id,
                "filename": image.filename,
                "directory_path": image.directory_path,
                "file_size": image.file_size,
                "annotation_count": len(image.annotations),
                "image_url": image_url,
                "annotation_url": (
                    f"{base}/annotations/{image.id}/file" if mode != "images_only" else None
                ),
            }
        )
    return reply({"data": {"id": dataset.id, "items": items, "total_items": len(images)}})


def _bytes_of(service: ImageService, image: Image) -> Callable[[], bytes]:
    return lambda: service.content(image)[0]


def dataset_payload(call: Call, dataset: Dataset) -> dict[str, Any]:
    """The ``Dataset`` object; its counts are derived from its images on every read."""
    everything = call.world.dataset_images(dataset, archived=True)
    live = [image for image in everything if not image.is_archived]
    return {
        "id": dataset.id,
        "organization_id": dataset.organization_id,
        "name": dataset.name,
        "description": dataset.description,
        "readme": dataset.readme,
        "annotation_types": dataset.annotation_types,
        "classes": dataset.classes,
        "image_count": len(live),
        "completed_image_count": sum(1 for image in live if image.status == "complete"),
        "archived_image_count": len(everything) - len(live),
        "total_size": sum(image.file_size for image in live),
        "is_public": False,
        "is_archived": dataset.archived_at is not None,
        "archived_at": call.iso(dataset.archived_at),
        "storage_class": "standard",
        "created_at": call.iso(dataset.created_at),
        "updated_at": call.iso(dataset.updated_at),
    }
