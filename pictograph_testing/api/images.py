"""``/api/v1/developer/images``: uploads, listing, bytes, review, splits and tags.

The router tries the fixed routes (``upload-url``, ``register``, ``bulk-*``,
``assign-splits``, ``bulk-tag``) first, then ``{uuid}`` and ``{uuid}/metadata``, then
the per-image routes ``{dataset}/{directory/filename}[/suffix]`` whose path keeps its
``/``. An image may itself be called ``metadata`` or ``data-bundle``: the image wins.

SDK releases up to 1.69.43 address one image by its id alone (``DELETE /images/{id}``,
``/images/{id}/review``, ``/images/{id}/split``: routes of their own, for those releases
only) and a dataset by ``dataset_id`` (``dataset_name`` in the list from 1.69.30); until
1.69.42 they say ``folder_path`` for ``directory_path``. Their wires rename those fields
to today's before the checks, and add ``folder_path`` to the images they read.

Before 1.61 (the seed era) the results come at the root, not under ``data``; images are
read with ``virtual_folder_path`` and ``mime_type``; uploads say ``mime_type`` and
``image_width`` / ``image_height``, and a bulk upload is read back as ``registered``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    FOLDER_PATHS,
    FOLDER_UPLOADS,
    IMAGE_ID_PATHS,
    IMAGES_BY_ID,
    LEGACY_ENVELOPES,
    Wire,
)
from pictograph_testing.api.route_paths import DEVELOPER_PATH
from pictograph_testing.api.spec import (
    EXAMPLE_DATASET,
    Bool,
    Field,
    Int,
    List,
    Num,
    Obj,
    Param,
    Str,
)
from pictograph_testing.api.table import Bare, Bytes, Data, Fallthrough, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.bounds import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from pictograph_testing.world.entities import IMAGE_STATUSES
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
from pictograph_testing.world.search import TAG_MAX_LENGTH

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Dataset, Image

__all__ = ["image_payload", "org_image"]

UPLOAD_URL_MINUTES = 15
_BUNDLE_TIME = (1980, 1, 1, 0, 0, 0)
"""Every bundle entry's timestamp: the same image gives the same zip bytes."""


_FOLDER_NAMES = {"dataset_id": "dataset", "folder_path": "directory_path"}
"""Before 1.61, an upload's dataset and directory under their old names."""
_BUCKET_FIELDS = ("gcs_bucket", "gcs_path", "gcs_uri")
_BUCKET = "pictograph-testing"


def _with_bucket(body: dict[str, Any]) -> dict[str, Any]:
    """``upload-url``'s answer as releases before 1.61 read it: where the object lands
    too, which they send back to ``register``."""
    path = f"uploads/{body['directory_path'].strip('/')}/{body['filename']}".replace("//", "/")
    return {
        **body,
        "gcs_bucket": _BUCKET,
        "gcs_path": path,
        "gcs_uri": f"gs://{_BUCKET}/{path}",
    }


def image_payload(call: Call, image: Image) -> dict[str, Any]:
    """The ``Image`` object: one shape for lists, metadata, register and dataset embeds."""
    base = f"{call.base_url}{DEVELOPER_PATH}"
    return {
        "id": image.id,
        "organization_id": image.organization_id,
        "dataset_id": image.dataset_id,
        # The dataset id under its old name, as the API still sends it.
        "project_id": image.dataset_id,
        "filename": image.filename,
        "display_name": image.display_name,
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


def with_folder_paths(payload: Any) -> Any:
    """``payload`` with ``folder_path`` beside every ``directory_path`` (the name SDKs
    before 1.69.43 read), in every object however deep."""
    if isinstance(payload, list):
        return [with_folder_paths(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {key: with_folder_paths(value) for key, value in payload.items()}
    if "directory_path" in out and "folder_path" not in out:
        out["folder_path"] = out["directory_path"]
    return out


_DATASET_ID = {"dataset_id": "dataset"}
_FOLDER_PATH = {"folder_path": "directory_path"}
_READ_FOLDER_PATHS = Wire(FOLDER_PATHS, rewrite=with_folder_paths, note="adds `folder_path`")


def _by_id_wires(renames: dict[str, str], what: str) -> tuple[Wire, ...]:
    """The wires of a route the id-era SDKs call with ``renames`` in their requests:
    with ``folder_path`` too (and read back) until 1.69.43, without it from there."""
    return (
        Wire(
            FOLDER_PATHS,
            renames={**renames, **_FOLDER_PATH},
            rewrite=with_folder_paths,
            note=f"{what} with `folder_path`; reads `folder_path`",
        ),
        Wire(IMAGES_BY_ID, renames=renames, note=what),
    )


# ── the seed era's names (SDK before 1.61) ──

_SEED_IMAGE_NAMES = {"directory_path": "virtual_folder_path", "content_type": "mime_type"}
"""Today's ``Image`` fields under the names releases before 1.61 read them by."""
_SEED_REGISTER_NAMES = {
    **_FOLDER_NAMES,
    "mime_type": "content_type",
    "image_width": "width",
    "image_height": "height",
}
"""A registered image's fields as releases before 1.61 send them (form or JSON)."""


def _with_seed_image_names(payload: Any) -> Any:
    """``payload`` with ``virtual_folder_path`` and ``mime_type`` beside today's names in
    every image object however deep (the names the ``Image`` of 1.0.3 to 1.60 reads)."""
    if isinstance(payload, list):
        return [_with_seed_image_names(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {key: _with_seed_image_names(value) for key, value in payload.items()}
    for today, old in _SEED_IMAGE_NAMES.items():
        if today in out and old not in out:
            out[old] = out[today]
    return out


def _seed_registered(result: dict[str, Any]) -> dict[str, Any]:
    """``bulk-register``'s result as releases before 1.61 read it: ``registered`` (an
    image id and where it landed, per file) and ``failed``, at the root."""
    return {
        "registered": [
            {
                "filename": image["filename"],
                "image_id": image["id"],
                "folder_path": image["directory_path"],
                "status": image["status"],
                "image_url": image["image_url"],
            }
            for image in result["succeeded"]
        ],
        "failed": with_folder_paths(result["failed"]),
        "count": result["count"],
    }


_SEED_RESULT = Wire(LEGACY_ENVELOPES, hoist=True, note="the result at the root")


def org_image(call: Call, ref: str) -> Image | None:
    """The caller's organization's image with id ``ref``, or ``None``."""
    image = call.world.images.get(ref.lower())
    return (
        image if image is not None and image.organization_id == call.key.organization_id else None
    )


# ── listing ──


@endpoint(
    "GET",
    "images/",
    summary="A dataset's images, filtered and paged",
    sdk=("images.list", "images.iter", "images.get"),
    reply=Page("Image"),
    query=(
        Param(
            "dataset",
            Str(min_length=1, example=EXAMPLE_DATASET),
            required=True,
            description="A dataset name or id.",
        ),
        *page_params(1000, default=100),
        Param("directory_path", Str()),
        Param("filename", Str()),
        # The world's 400 for an unknown stage, as the API answers.
        Param("status", Str(enum=IMAGE_STATUSES, enforced=False)),
        Param("split", Str(enum=SPLITS)),
        Param("include_archived", Bool(), default=False),
        Param("min_confidence_lt", Num(minimum=0, maximum=1)),
    ),
    closed_query=True,
    errors=(400,),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            envelope="images",
            renames=_FOLDER_NAMES,
            rewrite=_with_seed_image_names,
            note="`images`, with `virtual_folder_path` and `mime_type`; filtered by "
            "`dataset_id` and `folder_path`",
        ),
        # `dataset_name` for a name from 1.69.30; an id before that (and after, for a UUID).
        *_by_id_wires({**_DATASET_ID, "dataset_name": "dataset"}, "`dataset_id` or `dataset_name`"),
    ),
)
def list_images(call: Call) -> Reply:
    args = call.args
    directory, status = args["directory_path"], args["status"]
    dataset = call.world.dataset(call.key.organization_id, args["dataset"])
    images = call.world.image_service.listing(
        dataset,
        directory=directory_path(directory, ("query", "directory_path")) if directory else None,
        filename=args["filename"],
        status=check_status(status) if status is not None else None,
        split=args["split"],
        include_archived=args["include_archived"],
        min_confidence_lt=args["min_confidence_lt"],
    )
    chunk, pagination = page(images, args["offset"], args["limit"])
    return reply({"data": [image_payload(call, i) for i in chunk], "pagination": pagination})


@endpoint(
    "GET",
    "images/{image:uuid}",
    summary="An image's bytes by its id",
    sdk=("images.download",),
    reply=Bytes("image/*"),
    errors=(409,),
)
def image_bytes(call: Call) -> Reply:
    image = call.world.image_service.get(call.key.organization_id, call.path_args["image"])
    return _bytes(call, image)


@endpoint(
    "GET",
    "images/{image:uuid}/metadata",
    summary="An image by its id",
    sdk=("images.get",),
    reply=Data("Image"),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            envelope="image",
            rewrite=_with_seed_image_names,
            note="`image`, with `virtual_folder_path` and `mime_type`",
        ),
        _READ_FOLDER_PATHS,
    ),
)
def image_by_id(call: Call) -> Reply:
    ref = call.path_args["image"]
    image = org_image(call, ref)
    if image is not None:
        return reply({"data": image_payload(call, image)})
    if ref.lower() not in call.world.datasets:
        raise NotFound(f"Image '{ref}' not found")
    # A dataset id, then, with an image called `metadata`: the path route serves it.
    raise Fallthrough


# ── uploads ──

_UPLOAD = {
    "filename": Field(Str(), required=True),
    "content_type": Field(Str(), required=True),
    "directory_path": Field(Str()),
}
_REGISTER = {
    "filename": Field(Str(), required=True),
    "directory_path": Field(Str()),
    "file_size": Field(Int(minimum=0)),
    "content_type": Field(Str()),
    # The sides an image file may have (as an uploaded file's are checked): a COCO
    # export draws each polygon's mask at the image's size.
    "width": Field(Int(minimum=1, maximum=MAX_IMAGE_SIDE)),
    "height": Field(Int(minimum=1, maximum=MAX_IMAGE_SIDE)),
}
_DATASET = Field(Str(example=EXAMPLE_DATASET), required=True)


def _entry(item: dict[str, Any], loc: tuple[str | int, ...]) -> UploadEntry:
    """An upload or register entry, normalised (``directory_path`` to ``/`` or ``/a/b``)."""
    content_type = item.get("content_type")
    _checked_size(item, loc)
    return UploadEntry(
        filename=check_filename(item["filename"], (*loc, "filename")),
        directory_path=directory_path(item.get("directory_path") or "/", (*loc, "directory_path")),
        content_type=(
            check_content_type(content_type, (*loc, "content_type"))
            if content_type is not None
            else ""
        ),
        width=item.get("width"),
        height=item.get("height"),
        file_size=item.get("file_size"),
    )


def _checked_size(item: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    """Refuse a registered size of more pixels than an image file may hold."""
    width, height = item.get("width"), item.get("height")
    if width is not None and height is not None and width * height > MAX_IMAGE_PIXELS:
        raise InvalidRequest(
            f"An image of {width}x{height} holds more than {MAX_IMAGE_PIXELS:,} pixels.",
            errors=[field_error((*loc, "width"), "too many pixels", "too_large")],
        )


@endpoint(
    "POST",
    "images/upload-url",
    summary="A signed URL to PUT one image's bytes to",
    sdk=("images.upload",),
    reply=Data("UploadUrl"),
    body=Obj({"dataset": _DATASET, **_UPLOAD}),
    role="member",
    action="upload images",
    errors=(403, 409),
    wires=(
        Wire(
            FOLDER_UPLOADS,
            hoist=True,
            renames=_FOLDER_NAMES,
            rewrite=_with_bucket,
            note="takes `dataset_id` and `folder_path`; the URL and its bucket at the root",
        ),
        *_by_id_wires(_DATASET_ID, "`dataset_id`"),
    ),
)
def upload_url(call: Call) -> Reply:
    body = call.fields()
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


@endpoint(
    "POST",
    "images/register",
    summary="Record an uploaded image in its dataset",
    sdk=("images.upload",),
    reply=Data("Image"),
    status=201,
    body=Obj({"dataset": _DATASET, **_REGISTER}),
    role="member",
    action="upload images",
    errors=(403, 409),
    wires=(
        Wire(
            FOLDER_UPLOADS,
            form=True,
            renames=_SEED_REGISTER_NAMES,
            # Sent back from `upload-url`'s answer; the fake's slot knows where it is.
            extra_fields={name: Field(Str()) for name in _BUCKET_FIELDS},
            rewrite=lambda body: {"image_id": body["image"]["id"], **body},
            envelope="image",
            note="form-encoded, with `dataset_id`, `folder_path`, `mime_type`, "
            "`image_width` / `image_height`; `image_id` at the root",
        ),
        *_by_id_wires(_DATASET_ID, "`dataset_id`"),
    ),
)
def register(call: Call) -> Reply:
    body = call.fields()
    entry = _entry(body, ("body",))
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    image = world.image_service.register(dataset, entry)
    return reply({"data": image_payload(call, image)}, status=201)


def _entries(call: Call) -> list[UploadEntry]:
    return [_entry(item, ("body", "images", i)) for i, item in enumerate(call.fields()["images"])]


@endpoint(
    "POST",
    "images/bulk-upload-url",
    summary="Signed URLs for many images",
    sdk=("images.bulk_upload", "images.upload_from_directory"),
    reply=Data("BulkUploadUrls"),
    body=Obj(
        {
            "dataset": _DATASET,
            "images": Field(List(Obj(_UPLOAD), min_items=1, max_items=BULK_UPLOAD_CAP), True),
        }
    ),
    wires=(
        Wire(
            FOLDER_UPLOADS,
            hoist=True,
            renames=_FOLDER_NAMES,
            note="`dataset_id`, `folder_path` in each entry; `upload_urls` at the root",
        ),
        *_by_id_wires(_DATASET_ID, "`dataset_id`"),
    ),
    role="member",
    action="upload images",
    errors=(403, 409),
)
def bulk_upload_url(call: Call) -> Reply:
    entries = _entries(call)
    world = call.world
    dataset = world.dataset(call.key.organization_id, call.fields()["dataset"])
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


@endpoint(
    "POST",
    "images/bulk-register",
    summary="Record many uploaded images (each one succeeds or fails alone)",
    sdk=("images.bulk_upload", "images.upload_from_directory"),
    reply=Data("BulkRegisterResult"),
    body=Obj(
        {
            "dataset": _DATASET,
            "images": Field(List(Obj(_REGISTER), min_items=1, max_items=BULK_UPLOAD_CAP), True),
        }
    ),
    wires=(
        Wire(
            FOLDER_UPLOADS,
            hoist=True,
            renames=_SEED_REGISTER_NAMES,
            rewrite=_seed_registered,
            note="`dataset_id`, and `folder_path`, `mime_type`, `image_width` / "
            "`image_height` in each entry; `registered` (with `image_id`) and `failed` "
            "at the root",
        ),
        *_by_id_wires(_DATASET_ID, "`dataset_id`"),
    ),
    role="member",
    action="upload images",
    errors=(403, 409),
)
def bulk_register(call: Call) -> Reply:
    entries = _entries(call)
    world = call.world
    dataset = world.dataset(call.key.organization_id, call.fields()["dataset"])
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


def _renamed(result: Any, old: str, new: str) -> Any:
    """``result`` with its ``old`` key called ``new`` (in place of it, in order)."""
    if not isinstance(result, dict):
        return result
    return {new if key == old else key: value for key, value in result.items()}


@endpoint(
    "POST",
    "images/assign-splits",
    summary="Split a dataset's images into train / val / test",
    sdk=("images.assign_splits",),
    reply=Data("SplitCounts"),
    body=Obj(
        {
            "dataset": _DATASET,
            "train": Field(Int(minimum=0)),
            "val": Field(Int(minimum=0)),
            "test": Field(Int(minimum=0)),
            "seed": Field(Int()),
            "split_mode": Field(Str()),
        }
    ),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            hoist=True,
            renames=_DATASET_ID,
            rewrite=lambda result: _renamed(result, "dataset", "dataset_id"),
            note="`dataset_id`; the result at the root, naming the dataset `dataset_id`",
        ),
        Wire(IMAGES_BY_ID, renames=_DATASET_ID, note="`dataset_id`"),
    ),
    role="member",
    action="assign splits",
    # 409: `mode="embedding"` on a dataset without an embedding map.
    errors=(403, 409),
)
def assign_splits(call: Call) -> Reply:
    body = call.fields()
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    weights = {
        name: body[name] if body.get(name) is not None else default
        for name, default in (("train", 70), ("val", 20), ("test", 10))
    }
    seed, mode = body.get("seed"), body.get("split_mode")
    # Only a mode left out (or null) is the default: blank text is refused as no mode.
    counts = world.image_service.assign_splits(
        dataset, weights, 42 if seed is None else seed, "random" if mode is None else mode
    )
    # The dataset is named by its id, whatever the request named it by.
    return reply({"data": {"dataset": dataset.id, **counts}})


@endpoint(
    "POST",
    "images/bulk-tag",
    summary="Add or remove tags on many images",
    sdk=("images.bulk_tag",),
    reply=Data("BulkTagResult"),
    body=Obj(
        {
            "dataset": _DATASET,
            "image_ids": Field(List(Str(not_blank=True), noun="non-blank strings"), True),
            "tags": Field(
                List(
                    Str(not_blank=True, max_length=TAG_MAX_LENGTH),
                    min_items=1,
                    noun=f"non-blank strings of at most {TAG_MAX_LENGTH} characters",
                ),
                True,
            ),
            "add": Field(Bool()),
        }
    ),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            hoist=True,
            renames=_DATASET_ID,
            note="`dataset_id`; the result at the root",
        ),
        Wire(IMAGES_BY_ID, renames=_DATASET_ID, note="`dataset_id`"),
    ),
    role="member",
    action="tag images",
    errors=(403,),
)
def bulk_tag(call: Call) -> Reply:
    body = call.fields()
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    added = body.get("add") is not False
    processed = world.image_service.bulk_tag(dataset, body["image_ids"], body["tags"], add=added)
    return reply({"data": {"processed": processed, "tags": list(body["tags"]), "added": added}})


# ── one image, by dataset and path ──


def _at(call: Call, path: str) -> tuple[Dataset, Image]:
    world = call.world
    dataset = world.dataset(call.key.organization_id, call.path_args["dataset"])
    return dataset, world.image_service.at_path(dataset, path)


def _named_like_suffix(call: Call, suffix: str) -> None:
    """Fall through to the bytes route when an image is itself called ``suffix``."""
    world = call.world
    dataset = world.dataset(call.key.organization_id, call.path_args["dataset"])
    under = call.path_args["path"]
    if world.image_service.find(dataset, "/" + under, suffix) is not None:
        raise Fallthrough


@endpoint(
    "GET",
    "images/{dataset}/{path...}/metadata",
    summary="An image by its dataset and path",
    sdk=("images.get",),
    reply=Data("Image"),
)
def image_metadata(call: Call) -> Reply:
    _named_like_suffix(call, "metadata")
    _, image = _at(call, call.path_args["path"])
    return reply({"data": image_payload(call, image)})


@endpoint(
    "GET",
    "images/{dataset}/{path...}/data-bundle",
    summary="An image with its annotations and a manifest, as one zip",
    sdk=("images.download_bundle",),
    reply=Bytes("application/zip"),
    errors=(409,),
)
def image_bundle(call: Call) -> Reply:
    _named_like_suffix(call, "data-bundle")
    dataset, image = _at(call, call.path_args["path"])
    return _bundle(call, dataset, image)


@endpoint(
    "GET",
    "images/{dataset}/{path...}",
    summary="An image's bytes by its dataset and path",
    sdk=("images.download",),
    reply=Bytes("image/*"),
    errors=(409,),
)
def image_bytes_at(call: Call) -> Reply:
    return _bytes(call, _at(call, call.path_args["path"])[1])


_PERMANENT = (Param("permanent", Bool(), default=False),)
_REVIEW = Obj({"action": Field(Str(), required=True), "note": Field(Str())})
# The world checks the split's name.
_SPLIT = Obj({"split": Field(Str(enum=SPLITS, enforced=False), required=True, nullable=True)})


@endpoint(
    "DELETE",
    "images/{dataset}/{path...}",
    summary="Archive an image, or delete it for good (permanent=true, admin+)",
    sdk=("images.delete",),
    reply=Bare("ImageDeleted"),
    query=_PERMANENT,
    role="member",
    action="archive images",
    errors=(403,),
)
def delete_image(call: Call) -> Reply:
    return _delete(call, _at(call, call.path_args["path"])[1])


def _delete(call: Call, image: Image) -> Reply:
    service = call.world.image_service
    if call.args["permanent"]:
        if not call.key.has("admin"):
            raise Forbidden("Only admin or owner roles can permanently delete images.")
        service.remove([image])
        return reply({"success": True, "message": "Image permanently deleted"})
    service.archive([image])
    return reply({"success": True, "message": "Image archived"})


@endpoint(
    "POST",
    "images/{dataset}/{path...}/review",
    summary="Approve or reject an image in review",
    sdk=("images.review",),
    reply=Data("ReviewResult"),
    body=_REVIEW,
    role="member",
    action="review images",
    errors=(400, 403),
)
def review(call: Call) -> Reply:
    path = call.path_args["path"]
    return _review(call, _at(call, path)[1], path)


def _review(call: Call, image: Image, named: str) -> Reply:
    """``named``: the image as the request addressed it (its path, or its id)."""
    body = call.fields()
    status = call.world.image_service.review(image, body["action"])
    note = body.get("note") if status == "annotate" else None
    return reply({"data": {"id": named, "status": status, "review_note": note, "processed": 1}})


@endpoint(
    "POST",
    "images/{dataset}/{path...}/split",
    summary="Put one image in a split (null: none)",
    sdk=("images.set_split",),
    reply=Data("SplitResult"),
    body=_SPLIT,
    role="member",
    action="set image splits",
    errors=(403,),
)
def set_split(call: Call) -> Reply:
    path = call.path_args["path"]
    return _set_split(call, _at(call, path)[1], path)


def _set_split(call: Call, image: Image, named: str) -> Reply:
    split = call.world.image_service.set_split(image, call.fields()["split"])
    return reply({"data": {"id": named, "split": split, "processed": 1}})


# ── one image, by its id alone (SDK 1.0.0 to 1.69.43) ──


def _by_id(call: Call) -> Image:
    return call.world.image_service.get(call.key.organization_id, call.path_args["image"])


@endpoint(
    "DELETE",
    "images/{image:uuid}",
    summary="Archive an image by its id, or delete it for good (permanent=true, admin+)",
    sdk=("images.delete",),
    reply=Bare("ImageDeleted"),
    query=_PERMANENT,
    span=IMAGE_ID_PATHS,
    role="member",
    action="archive images",
    errors=(403,),
)
def delete_image_by_id(call: Call) -> Reply:
    return _delete(call, _by_id(call))


@endpoint(
    "POST",
    "images/{image:uuid}/review",
    summary="Approve or reject an image in review, by its id",
    sdk=("images.review",),
    reply=Data("ReviewResult"),
    body=_REVIEW,
    span=IMAGE_ID_PATHS,
    wires=(_SEED_RESULT,),
    role="member",
    action="review images",
    errors=(400, 403),
)
def review_by_id(call: Call) -> Reply:
    image = _by_id(call)
    return _review(call, image, image.id)


@endpoint(
    "POST",
    "images/{image:uuid}/split",
    summary="Put one image in a split (null: none), by its id",
    sdk=("images.set_split",),
    reply=Data("SplitResult"),
    body=_SPLIT,
    span=IMAGE_ID_PATHS,
    wires=(_SEED_RESULT,),
    role="member",
    action="set image splits",
    errors=(403,),
)
def set_split_by_id(call: Call) -> Reply:
    image = _by_id(call)
    return _set_split(call, image, image.id)


def _bytes(call: Call, image: Image) -> Reply:
    # Bytes, never JSON: `image_url` and `images.download` both stream this.
    _require_warm_file(call, image)
    content, kind = call.world.image_service.content(image)
    return Reply(200, content, content_type=kind)


def _require_warm_file(call: Call, image: Image) -> None:
    # An image's file is read only while its dataset is warm and idle, as the dataset's
    # batch download is (an export's ZIP, built before a freeze, is its own file).
    dataset = call.world.datasets[image.dataset_id]
    call.world.cold_storage.require_warm(dataset, "a download of its images")


def _bundle(call: Call, dataset: Dataset, image: Image) -> Reply:
    """The image's data bundle: its bytes, its annotations and a manifest, as one zip."""
    _require_warm_file(call, image)
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
