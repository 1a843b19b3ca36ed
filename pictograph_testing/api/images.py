"""``/api/v1/developer/images``: uploads, listing, bytes, review, splits and tags.

Routes are matched in the API's order: the fixed ones (``upload-url``, ``register``,
``bulk-*``, ``assign-splits``, ``bulk-tag``) first, then ``{uuid}`` and
``{uuid}/metadata`` when the first segment is an image id of the organization, then the
per-image catch-all ``{dataset}/{directory/filename}`` whose path keeps its ``/``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Call, Reply, check_fields, page, reply
from pictograph_testing.world.errors import Forbidden, InvalidRequest, NotFound, field_error
from pictograph_testing.world.images import (
    BULK_UPLOAD_CAP,
    SPLITS,
    UploadEntry,
    check_content_type,
    check_filename,
    check_status,
    directory_path,
    min_confidence,
)

if TYPE_CHECKING:
    from pictograph_testing.world.errors import FieldError
    from pictograph_testing.world.state import Dataset, Image

__all__ = ["DEVELOPER_PATH", "image_payload", "is_uuid", "route", "string_list"]

DEVELOPER_PATH = "/api/v1/developer"
UPLOAD_URL_MINUTES = 15
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_LIST_PARAMETERS = frozenset(
    {
        "dataset",
        "limit",
        "offset",
        "directory_path",
        "filename",
        "status",
        "split",
        "include_archived",
        "min_confidence_lt",
    }
)
_BUNDLE_TIME = (1980, 1, 1, 0, 0, 0)
"""Every bundle entry's timestamp: the same image gives the same zip bytes."""


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a canonical UUID (how the SDK tells ids from names)."""
    return bool(_UUID.match(value))


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", ("",):
            return _list(call)
        case "POST", ("upload-url",):
            return _upload_url(call)
        case "POST", ("register",):
            return _register(call)
        case "POST", ("bulk-upload-url",):
            return _bulk_upload_url(call)
        case "POST", ("bulk-register",):
            return _bulk_register(call)
        case "POST", ("assign-splits",):
            return _assign_splits(call)
        case "POST", ("bulk-tag",):
            return _bulk_tag(call)
        case "GET", (ref,) if is_uuid(ref):
            return _bytes(call, call.world.image_service.get(call.key.organization_id, ref))
        case "GET", (ref, "metadata") if is_uuid(ref):
            image = _org_image(call, ref)
            if image is not None:
                return reply({"data": image_payload(call, image)})
            if ref.lower() not in call.world.datasets:
                raise NotFound(f"Image '{ref}' not found")
            # A dataset id, then, with an image called `metadata`: the catch-all serves it.
    segments = call.segments
    if len(segments) >= 2 and all(segments):
        return _per_image(call, segments[0], segments[1:])
    raise NotFound(f"No images route {call.method} /images/{'/'.join(segments)}")


def image_payload(call: Call, image: Image) -> dict[str, Any]:
    """The ``Image`` object: one shape for lists, metadata, register and dataset embeds."""
    base = f"{call.base_url}{DEVELOPER_PATH}"
    return {
        "id": image.id,
        "dataset_id": image.dataset_id,
        "filename": image.filename,
        "display_name": call.world.image_service.display_name(image),
        "status": image.status,
        "split": image.split,
        "annotation_count": len(image.annotations),
        "min_confidence": min_confidence(image),
        "file_size": image.file_size,
        "width": image.width,
        "height": image.height,
        "content_type": image.content_type,
        "directory_path": image.directory_path,
        "tags": list(image.tags),
        "is_archived": image.is_archived,
        "image_url": f"{base}/images/{image.id}",
        "thumbnail_url": None,
        "annotation_url": f"{base}/annotations/{image.id}/file",
        "created_at": call.iso(image.created_at),
    }


def _org_image(call: Call, ref: str) -> Image | None:
    image = call.world.images.get(ref.lower())
    return (
        image if image is not None and image.organization_id == call.key.organization_id else None
    )


# ── listing ──


def _list(call: Call) -> Reply:
    unknown = sorted(set(call.query()) - _LIST_PARAMETERS)
    if unknown:
        raise InvalidRequest(
            f"Unknown query parameter(s): {', '.join(unknown)}. Name the dataset with "
            "'dataset' (a name or an id).",
            errors=[
                field_error(("query", name), "Extra inputs are not permitted", "extra_forbidden")
                for name in unknown
            ],
        )
    ref = call.text("dataset")
    if not ref:
        raise InvalidRequest(
            "Query parameter 'dataset' (a dataset name or id) is required.",
            errors=[field_error(("query", "dataset"), "Field required", "missing")],
        )
    limit, offset = call.page_window(cap=1000, default=100)
    status = call.text("status")
    directory = call.text("directory_path")
    threshold = call.text("min_confidence_lt")
    filters: dict[str, Any] = {
        "directory": (
            directory_path(directory, ("query", "directory_path")) if directory else None
        ),
        "filename": call.text("filename"),
        "status": check_status(status) if status is not None else None,
        "split": call.choice("split", SPLITS),
        "include_archived": call.flag("include_archived"),
        "min_confidence_lt": _fraction(threshold) if threshold is not None else None,
    }
    dataset = call.world.dataset(call.key.organization_id, ref)
    images = call.world.image_service.listing(dataset, **filters)
    chunk, pagination = page(images, offset, limit)
    return reply({"data": [image_payload(call, i) for i in chunk], "pagination": pagination})


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 <= number <= 1:
        raise InvalidRequest(
            f"Query parameter 'min_confidence_lt' must be a number from 0 to 1, got '{value}'.",
            errors=[
                field_error(
                    ("query", "min_confidence_lt"), "Input should be between 0 and 1", "float"
                )
            ],
        )
    return number


# ── uploads ──


def _entry(item: dict[str, Any], loc: tuple[str | int, ...]) -> UploadEntry:
    """An upload or register entry, normalised (``directory_path`` to ``/`` or ``/a/b``)."""
    width, height = item.get("width"), item.get("height")
    for side, value in (("width", width), ("height", height)):
        if value is not None and value < 1:
            raise InvalidRequest(
                f"'{side}' must be a positive number of pixels, got {value}.",
                errors=[
                    field_error((*loc, side), "Input should be greater than 0", "greater_than")
                ],
            )
    size = item.get("file_size")
    if size is not None and size < 0:
        raise InvalidRequest(
            f"'file_size' cannot be negative, got {size}.",
            errors=[field_error((*loc, "file_size"), "Input should be >= 0", "greater_than_equal")],
        )
    content_type = item.get("content_type")
    return UploadEntry(
        filename=check_filename(item["filename"], (*loc, "filename")),
        directory_path=directory_path(item.get("directory_path") or "/", (*loc, "directory_path")),
        content_type=(
            check_content_type(content_type, (*loc, "content_type"))
            if content_type is not None
            else ""
        ),
        width=width,
        height=height,
    )


_UPLOAD_FIELDS: dict[str, type | tuple[type, ...]] = {
    "filename": str,
    "content_type": str,
}
_UPLOAD_OPTIONAL: dict[str, type | tuple[type, ...]] = {"directory_path": str}
_REGISTER_OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "directory_path": str,
    "file_size": int,
    "content_type": str,
    "width": int,
    "height": int,
}


def _upload_url(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required={"dataset": str, **_UPLOAD_FIELDS}, optional=_UPLOAD_OPTIONAL)
    call.key.require("member", "upload images")
    entry = _entry(body, ("body",))
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    path = world.image_service.sign_upload(dataset, entry, refuse_existing=True)
    return reply(
        {
            "data": {
                "upload_url": call.base_url + path,
                "filename": entry.filename,
                "directory_path": entry.directory_path,
                "expires_in_minutes": UPLOAD_URL_MINUTES,
            }
        }
    )


def _register(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required={"dataset": str, "filename": str}, optional=_REGISTER_OPTIONAL)
    call.key.require("member", "upload images")
    entry = _entry(body, ("body",))
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    image = world.image_service.register(dataset, entry)
    return reply({"data": image_payload(call, image)}, status=201)


def _entries(
    body: dict[str, Any],
    required: dict[str, type | tuple[type, ...]],
    optional: dict[str, type | tuple[type, ...]],
) -> list[UploadEntry]:
    """Check every item of ``body["images"]`` before any is acted on (422 on the first bad)."""
    items = body["images"]
    if not 1 <= len(items) <= BULK_UPLOAD_CAP:
        raise InvalidRequest(
            f"'images' must hold 1 to {BULK_UPLOAD_CAP} entries, got {len(items)}.",
            errors=[
                field_error(
                    ("body", "images"), f"List should have 1 to {BULK_UPLOAD_CAP} items", "too_long"
                )
            ],
        )
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        errors.extend(_item_errors(item, ("body", "images", i), required, optional))
    if errors:
        raise InvalidRequest(
            "The request failed validation: "
            + "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors[:5]),
            errors=errors,
        )
    return [_entry(item, ("body", "images", i)) for i, item in enumerate(items)]


def _item_errors(
    item: Any,
    loc: tuple[str | int, ...],
    required: dict[str, type | tuple[type, ...]],
    optional: dict[str, type | tuple[type, ...]],
) -> list[FieldError]:
    if not isinstance(item, dict):
        return [field_error(loc, "Input should be a valid dictionary", "dict_type")]
    try:
        check_fields(item, required=required, optional=optional)
    except InvalidRequest as refusal:
        return [{**e, "loc": [*loc, *e["loc"][1:]]} for e in refusal.errors]
    return []


def _bulk_upload_url(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required={"dataset": str, "images": list}, optional={})
    call.key.require("member", "upload images")
    entries = _entries(body, _UPLOAD_FIELDS, _UPLOAD_OPTIONAL)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    # A taken name is refused at bulk-register, per file, not here (as the API does).
    urls = [
        {
            "filename": entry.filename,
            "directory_path": entry.directory_path,
            "upload_url": call.base_url
            + world.image_service.sign_upload(dataset, entry, refuse_existing=False),
        }
        for entry in entries
    ]
    return reply({"data": {"upload_urls": urls, "expires_in_minutes": UPLOAD_URL_MINUTES}})


def _bulk_register(call: Call) -> Reply:
    body = call.json_object()
    check_fields(body, required={"dataset": str, "images": list}, optional={})
    call.key.require("member", "upload images")
    entries = _entries(body, {"filename": str}, _REGISTER_OPTIONAL)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    succeeded, failed = world.image_service.bulk_register(dataset, entries)
    return reply(
        {
            "data": {
                "succeeded": [image_payload(call, image) for image in succeeded],
                "failed": [
                    {
                        "filename": entry.filename,
                        "directory_path": entry.directory_path,
                        "error": error,
                    }
                    for entry, error in failed
                ],
                "count": len(succeeded),
            }
        }
    )


# ── dataset-wide writes ──


def string_list(body: dict[str, Any], name: str, *, at_least: int = 0) -> list[str]:
    """Refuse (422) a body field that is not a list of non-blank strings."""
    values = body[name]
    if not all(isinstance(v, str) and v.strip() for v in values) or len(values) < at_least:
        wanted = f"at least {at_least} " if at_least else ""
        raise InvalidRequest(
            f"'{name}' must be a list of {wanted}non-blank strings.",
            errors=[field_error(("body", name), "Input should be a list of strings", "list_type")],
        )
    return [str(v) for v in values]


def _assign_splits(call: Call) -> Reply:
    body = call.json_object()
    check_fields(
        body,
        required={"dataset": str},
        optional={"train": int, "val": int, "test": int, "seed": int, "split_mode": str},
    )
    call.key.require("member", "assign splits")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    weights = {
        name: body[name] if body.get(name) is not None else default
        for name, default in (("train", 70), ("val", 20), ("test", 10))
    }
    seed = body.get("seed")
    counts = world.image_service.assign_splits(
        dataset, weights, 42 if seed is None else seed, body.get("split_mode") or "random"
    )
    return reply({"data": counts})


def _bulk_tag(call: Call) -> Reply:
    body = call.json_object()
    check_fields(
        body, required={"dataset": str, "image_ids": list, "tags": list}, optional={"add": bool}
    )
    call.key.require("member", "tag images")
    image_ids = string_list(body, "image_ids")
    tags = string_list(body, "tags", at_least=1)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    add = body.get("add")
    processed = world.image_service.bulk_tag(dataset, image_ids, tags, add=add is not False)
    return reply({"data": {"processed": processed}})


# ── one image ──


def _per_image(call: Call, dataset_ref: str, rest: tuple[str, ...]) -> Reply:
    world = call.world
    dataset = world.dataset(call.key.organization_id, dataset_ref)
    service = world.image_service
    path = "/".join(rest)
    suffix, under = rest[-1], "/".join(rest[:-1])
    match call.method:
        case "GET":
            # An image may itself be called `metadata` or `data-bundle`: the image wins.
            if len(rest) >= 2 and suffix in ("metadata", "data-bundle"):
                directory, filename = path.rpartition("/")[0], suffix
                if service.find(dataset, "/" + directory if directory else "/", filename) is None:
                    image = service.at_path(dataset, under)
                    if suffix == "metadata":
                        return reply({"data": image_payload(call, image)})
                    return _bundle(call, dataset, image)
            return _bytes(call, service.at_path(dataset, path))
        case "DELETE":
            return _delete(call, service.at_path(dataset, path))
        case "POST" if len(rest) >= 2 and suffix == "review":
            return _review(call, service.at_path(dataset, under))
        case "POST" if len(rest) >= 2 and suffix == "split":
            return _split(call, service.at_path(dataset, under))
    raise NotFound(f"No images route {call.method} /images/{'/'.join(call.segments)}")


def _bytes(call: Call, image: Image) -> Reply:
    # Bytes, never JSON: `image_url` and `images.download` both stream this.
    content, kind = call.world.image_service.content(image)
    return Reply(200, content, content_type=kind)


def _delete(call: Call, image: Image) -> Reply:
    service = call.world.image_service
    if call.flag("permanent"):
        if not call.key.has("admin"):
            raise Forbidden("Only admin or owner roles can permanently delete images.")
        service.remove([image])
        return reply({"success": True, "message": "Image permanently deleted"})
    call.key.require("member", "archive images")
    service.archive([image])
    return reply({"success": True, "message": "Image archived"})


def _review(call: Call, image: Image) -> Reply:
    body = call.json_object()
    check_fields(body, required={"action": str}, optional={"note": str})
    call.key.require("member", "review images")
    status = call.world.image_service.review(image, body["action"])
    note = body.get("note") if status == "annotate" else None
    return reply({"data": {"id": image.id, "status": status, "review_note": note}})


def _split(call: Call, image: Image) -> Reply:
    body = call.json_object()
    check_fields(body, required={"split": (str, type(None))}, optional={})
    call.key.require("member", "set image splits")
    split = call.world.image_service.set_split(image, body["split"])
    return reply({"data": {"id": image.id, "split": split}})


def _bundle(call: Call, dataset: Dataset, image: Image) -> Reply:
    """The image's data bundle: its bytes, its annotations and a manifest, as one zip."""
    content, kind = call.world.image_service.content(image)
    annotations = {"image": image.filename, "annotations": image.annotations}
    manifest = {
        "image_id": image.id,
        "dataset": dataset.name,
        "filename": image.filename,
        "directory_path": image.directory_path,
        "content_type": kind,
        "included": ["image", "annotations"],
        "omitted": {"depth_map": "no depth map has been generated for this image"},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in (
            (image.filename, content),
            ("annotations.json", json.dumps(annotations, indent=2).encode()),
            ("manifest.json", json.dumps(manifest, indent=2).encode()),
        ):
            bundle.writestr(zipfile.ZipInfo(name, _BUNDLE_TIME), data)
    return Reply(200, out.getvalue(), content_type="application/zip")
