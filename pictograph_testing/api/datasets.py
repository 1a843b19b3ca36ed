"""``/api/v1/developer/datasets/``: the dataset lifecycle, its insights and download listing."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pictograph_testing.api import spec
from pictograph_testing.api.dialects import (
    CHARGED_RESTORES,
    DATASET_STORAGE,
    DATASETS_BY_NAME,
    LEGACY_ENVELOPES,
    PROJECT_ARCHIVES,
    PROJECTS,
    Wire,
)
from pictograph_testing.api.images import image_payload
from pictograph_testing.api.route_paths import DEVELOPER_PATH
from pictograph_testing.api.spec import (
    EXAMPLE_DATASET,
    Bool,
    Field,
    Int,
    Json,
    List,
    Obj,
    Param,
    Str,
)
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.world.datasets import ANNOTATION_TYPES, CLASS_NAME_LIMIT
from pictograph_testing.world.entities import IMAGE_STATUSES
from pictograph_testing.world.images import check_status

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.state import World

__all__ = ["CREATE", "UPDATE", "dataset_payload", "storage_payload"]


def _legacy_dataset(dataset: dict[str, Any]) -> dict[str, Any]:
    # Before 1.61 the archived count was read as `archived_images`.
    return {**dataset, "archived_images": dataset["archived_image_count"]}


def _legacy_datasets(body: dict[str, Any]) -> dict[str, Any]:
    rows = [_legacy_dataset(d) for d in body["datasets"]]
    # `projects.list` reads the same rows under `projects`.
    return {**body, "datasets": rows, "projects": rows}


def _legacy_under(key: str, *also: str) -> Callable[[Any], Any]:
    """The rewrite of a dataset reply read under ``key`` (and ``also``) before 1.61."""

    def rewrite(body: dict[str, Any]) -> dict[str, Any]:
        dataset = _legacy_dataset(body.pop(key))
        return {key: dataset, **dict.fromkeys(also, dataset), **body}

    return rewrite


# Before 1.61 the same row was two resources: `datasets` (read) and `projects` (create,
# rename, delete), each reading its own key. Only `projects.*` creates and renames.
_PROJECT_WIRE = Wire(
    LEGACY_ENVELOPES,
    envelope="project",
    rewrite=_legacy_under("project"),
    note="`project`, with `archived_images`",
)
_DATASET_WIRE = Wire(
    LEGACY_ENVELOPES,
    envelope="dataset",
    # `datasets.get` reads `dataset`, `projects.get` (the same row) `project`.
    rewrite=_legacy_under("dataset", "project"),
    note="`dataset` and `project`, with `archived_images`",
)
EMBEDDED_IMAGES_CAP = 10_000
DOWNLOAD_CAP = 10_000
DOWNLOAD_MODES = ("full", "images_only", "annotations_only")
NAME = replace(spec.NAME, example=EXAMPLE_DATASET)
CLASS = Obj(
    {
        "name": Field(
            Str(min_length=1, max_length=CLASS_NAME_LIMIT, not_blank=True), required=True
        ),
        "type": Field(Str()),
        "color": Field(Str()),
        "attributes": Field(List()),
        "skeleton": Field(Json()),
    },
    extra=True,
)
"""A class as the API takes it (documented here; the world checks each one, since its
rules read the dataset: unique names, known attribute types, colours)."""
_CLASSES = Field(List(Json(doc=CLASS.schema()), noun="class objects"))
_WRITABLE = {
    "readme": Field(Str()),
    "description": Field(Str()),
    # Checked by the world, which also takes the alias `box`.
    "annotation_types": Field(List(Str(enum=ANNOTATION_TYPES, enforced=False))),
    "classes": _CLASSES,
}
CREATE = Obj({"name": Field(NAME, required=True), **_WRITABLE})
UPDATE = Obj({"new_name": Field(NAME), **_WRITABLE, "classes_base": _CLASSES}, at_least_one="value")


@endpoint(
    "GET",
    "datasets/",
    summary="List datasets, newest first",
    sdk=("datasets.list", "datasets.iter"),
    reply=Page("Dataset"),
    query=(*page_params(1000, default=100), Param("archived", Bool(), default=False)),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            envelope="datasets",
            rewrite=_legacy_datasets,
            note="`datasets` and `projects`, with `archived_images`",
        ),
    ),
    aliases=(("projects/", PROJECTS),),
)
def list_datasets(call: Call) -> Reply:
    # Newest first; datasets made at one virtual instant, newest created first.
    datasets = call.world.dataset_service.listing(
        call.key.organization_id, archived=call.args["archived"]
    )
    chunk, pagination = page(datasets, call.args["offset"], call.args["limit"])
    return reply({"data": [dataset_payload(call, d) for d in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "datasets/",
    summary="Create a dataset",
    sdk=("datasets.create", "images.upload_from_directory"),
    reply=Data("Dataset"),
    status=201,
    body=CREATE,
    role="member",
    action="create datasets",
    errors=(402, 403, 409),
    wires=(_PROJECT_WIRE,),
    aliases=(("projects/", PROJECTS),),
)
def create_dataset(call: Call) -> Reply:
    body = call.fields()
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


@endpoint(
    "GET",
    "datasets/{dataset}",
    summary="A dataset by name or id, optionally with a page of its images",
    sdk=("datasets.get", "images.upload_from_directory"),
    reply=Data("Dataset"),
    query=(
        Param("include_images", Bool(), default=False),
        Param("images_limit", Int(minimum=1, cap=EMBEDDED_IMAGES_CAP), default=1000),
        Param("images_offset", Int(minimum=0), default=0),
    ),
    wires=(_DATASET_WIRE,),
    aliases=(
        ("datasets/by-name/{dataset}", DATASETS_BY_NAME),
        ("projects/{dataset}", PROJECTS),
    ),
)
def get_dataset(call: Call) -> Reply:
    dataset = _dataset(call)
    payload = dataset_payload(call, dataset)
    if call.args["include_images"]:
        offset, limit = call.args["images_offset"], call.args["images_limit"]
        images = call.world.dataset_images(dataset)[offset : offset + limit]
        payload["images"] = [image_payload(call, image) for image in images]
    return reply({"data": payload})


@endpoint(
    "PATCH",
    "datasets/{dataset}",
    summary="Rename, describe or edit the classes of a dataset",
    sdk=("datasets.update",),
    reply=Data("Dataset"),
    body=UPDATE,
    role="member",
    action="update datasets",
    errors=(403, 409),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            envelope="project",
            rewrite=_legacy_under("project"),
            renames={"name": "new_name"},
            # A class's own `name` is not a new name for the dataset.
            renames_in_lists=False,
            note="`project`, with `archived_images`; renames with `name`",
        ),
    ),
    aliases=(
        ("datasets/by-name/{dataset}", DATASETS_BY_NAME),
        ("projects/{dataset}", PROJECTS),
    ),
)
def update_dataset(call: Call) -> Reply:
    body = call.fields()
    dataset = _dataset(call)
    call.world.dataset_service.update(
        dataset,
        new_name=body.get("new_name"),
        readme=body.get("readme"),
        description=body.get("description"),
        annotation_types=body.get("annotation_types"),
        classes=body.get("classes"),
        classes_base=body.get("classes_base"),
    )
    return reply({"data": dataset_payload(call, dataset)})


@endpoint(
    "DELETE",
    "datasets/{dataset}",
    summary="Delete a dataset with its images",
    sdk=("datasets.delete",),
    reply=Data("DatasetDeleted"),
    role="admin",
    action="delete datasets",
    errors=(400, 403),
    wires=(Wire(LEGACY_ENVELOPES, envelope="deleted", note="`deleted`"),),
    aliases=(
        ("datasets/by-name/{dataset}", DATASETS_BY_NAME),
        ("projects/{dataset}", PROJECTS),
    ),
)
def delete_dataset(call: Call) -> Reply:
    return reply({"data": call.world.dataset_service.delete(call.key, _dataset(call))})


@endpoint(
    "GET",
    "datasets/{dataset}/insights",
    summary="Counts by status and class",
    sdk=("datasets.insights",),
    reply=Data("DatasetInsights"),
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="the insights at the root"),),
    aliases=(("datasets/by-name/{dataset}/insights", DATASETS_BY_NAME),),
)
def insights(call: Call) -> Reply:
    return reply({"data": call.world.dataset_service.insights(_dataset(call))})


@endpoint(
    "GET",
    "datasets/{dataset}/download",
    summary="Signed URLs for a dataset's images and its annotation files",
    sdk=("datasets.download",),
    reply=Data("DatasetDownload"),
    query=(
        Param("mode", Str(enum=DOWNLOAD_MODES), default="full"),
        Param("limit", Int(minimum=1, maximum=DOWNLOAD_CAP), default=DOWNLOAD_CAP),
        # The world's 400 for an unknown stage, as the API answers.
        Param("status_filter", Str(enum=("all", *IMAGE_STATUSES), enforced=False)),
    ),
    errors=(400, 409),
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            hoist=True,
            rewrite=lambda listing: {"dataset_id": listing.pop("id"), **listing},
            note="`items` and `dataset_id` at the root",
        ),
    ),
    aliases=(("datasets/by-name/{dataset}/download", DATASETS_BY_NAME),),
)
def download(call: Call) -> Reply:
    return _download(call, call.path_args["dataset"])


def _archived_result(body: dict[str, Any]) -> dict[str, Any]:
    dataset = body["data"]
    return {"success": True, "project_id": dataset["id"], "is_archived": dataset["is_archived"]}


# `projects.archive` and `projects.restore` (1.57.0 to 1.60.0) return the reply's dict
# as it is, documented as these three keys; no earlier release archives.
_ARCHIVED_WIRE = Wire(
    PROJECT_ARCHIVES,
    rewrite=_archived_result,
    note="`success`, `project_id` and `is_archived` at the root",
)


@endpoint(
    "POST",
    "datasets/{dataset}/archive",
    summary="Archive a dataset",
    sdk=("datasets.archive",),
    reply=Data("Dataset"),
    role="admin",
    action="archive datasets",
    errors=(403,),
    wires=(_ARCHIVED_WIRE,),
    aliases=(
        ("datasets/by-name/{dataset}/archive", DATASETS_BY_NAME),
        ("projects/{dataset}/archive", PROJECT_ARCHIVES),
    ),
)
def archive(call: Call) -> Reply:
    dataset = _dataset(call)
    call.world.dataset_service.set_archived(dataset, True)
    return reply({"data": dataset_payload(call, dataset)})


@endpoint(
    "POST",
    "datasets/{dataset}/unarchive",
    summary="Bring an archived dataset back",
    sdk=("datasets.unarchive",),
    reply=Data("Dataset"),
    role="admin",
    action="unarchive datasets",
    errors=(403,),
    wires=(_ARCHIVED_WIRE,),
    aliases=(
        ("datasets/by-name/{dataset}/unarchive", DATASETS_BY_NAME),
        ("projects/{dataset}/restore", PROJECT_ARCHIVES),
    ),
)
def unarchive(call: Call) -> Reply:
    dataset = _dataset(call)
    call.world.dataset_service.set_archived(dataset, False)
    return reply({"data": dataset_payload(call, dataset)})


# ── cold storage ──

# Before 1.61 the storage routes' replies are read at the root (`datasets.storage_status
# (dataset_id)`, by id only); from 1.61 to 1.69.43 a name is sent as `by-name/{name}`.
_STORAGE_ROOT = Wire(LEGACY_ENVELOPES, hoist=True, note="the storage state at the root")


def _charged(transition: dict[str, Any]) -> dict[str, Any]:
    return {**transition, "charged_micro_usd": transition.get("quoted_micro_usd")}


# The fee a restore will charge, read as `charged_micro_usd` before 1.69.58.
_TRANSITION_WIRES = (
    Wire(
        LEGACY_ENVELOPES,
        hoist=True,
        rewrite=_charged,
        note="the job at the root, its fee as `charged_micro_usd`",
    ),
    Wire(
        CHARGED_RESTORES,
        rewrite=lambda body: {**body, "data": _charged(body["data"])},
        note="the fee as `charged_micro_usd`",
    ),
)


@endpoint(
    "GET",
    "datasets/{dataset}/storage",
    summary="Where a dataset's image files are kept, and what restoring them costs",
    sdk=("datasets.storage_status", "datasets.wait_for_storage"),
    reply=Data("DatasetStorageStatus"),
    span=DATASET_STORAGE,
    wires=(_STORAGE_ROOT,),
    aliases=(("datasets/by-name/{dataset}/storage", DATASETS_BY_NAME),),
)
def storage_status(call: Call) -> Reply:
    return reply({"data": storage_payload(call, _dataset(call))})


@endpoint(
    "POST",
    "datasets/{dataset}/storage/freeze",
    summary="Move a dataset's image files to cold storage (free; a background job)",
    sdk=("datasets.freeze",),
    reply=Data("DatasetStorageTransition"),
    role="admin",
    action="freeze datasets",
    errors=(403, 409),
    span=DATASET_STORAGE,
    wires=_TRANSITION_WIRES,
    aliases=(("datasets/by-name/{dataset}/storage/freeze", DATASETS_BY_NAME),),
)
def freeze(call: Call) -> Reply:
    dataset = call.world.cold_storage.freeze(_dataset(call))
    return reply({"data": _transition(dataset)})


@endpoint(
    "POST",
    "datasets/{dataset}/storage/restore",
    summary="Bring a cold dataset's image files back (charged when the restore succeeds)",
    sdk=("datasets.restore",),
    reply=Data("DatasetStorageTransition"),
    role="admin",
    action="restore datasets",
    errors=(402, 403, 409),
    span=DATASET_STORAGE,
    wires=_TRANSITION_WIRES,
    aliases=(("datasets/by-name/{dataset}/storage/restore", DATASETS_BY_NAME),),
)
def restore(call: Call) -> Reply:
    dataset = call.world.cold_storage.restore(_dataset(call))
    return reply({"data": _transition(dataset)})


def _transition(dataset: Dataset) -> dict[str, Any]:
    return {
        "job_id": dataset.storage_job_id,
        "storage_state": dataset.storage_state,
        "quoted_micro_usd": dataset.restore_quote,
    }


def storage_payload(call: Call, dataset: Dataset) -> dict[str, Any]:
    """The ``DatasetStorageStatus`` object; the restore quote only while cold and idle."""
    service = call.world.cold_storage
    cold_bytes, cold_images = service.cold_files(dataset)
    estimate = service.estimate(dataset)
    return {
        "storage_class": dataset.storage_class,
        "storage_state": dataset.storage_state,
        "cold_since": call.iso(dataset.cold_since),
        "cold_bytes": cold_bytes,
        "cold_image_count": cold_images,
        "storage_job_id": dataset.storage_job_id,
        "restore_estimate": (
            None
            if estimate is None
            else {
                "operation": "dataset_restore",
                "cold_bytes": estimate.cold_bytes,
                "cold_image_count": estimate.cold_image_count,
                "days_in_cold": estimate.days_in_cold,
                "min_storage_days": estimate.min_storage_days,
                "monthly_savings_micro_usd": estimate.monthly_savings_micro_usd,
                "retrieval_micro_usd": estimate.retrieval_micro_usd,
                "early_delete_micro_usd": estimate.early_delete_micro_usd,
                "operations_micro_usd": estimate.operations_micro_usd,
                "total_micro_usd": estimate.total_micro_usd,
            }
        ),
    }


def _dataset(call: Call) -> Dataset:
    return call.world.dataset(call.key.organization_id, call.path_args["dataset"])


def _download(call: Call, ref: str) -> Reply:
    """The listing ``datasets.download`` fetches: a signed image URL per image, and the
    authenticated annotation-file URL."""
    mode, limit, wanted = call.args["mode"], call.args["limit"], call.args["status_filter"]
    # "all" is every stage, as for exports.
    status = None if wanted in (None, "all") else check_status(wanted)
    world = call.world
    dataset = world.dataset(call.key.organization_id, ref)
    if mode != "annotations_only":
        # The listing signs a URL to each image's file: none can be read while cold.
        world.cold_storage.require_warm(dataset, "a download of its images")
    images = [i for i in world.dataset_images(dataset) if status is None or i.status == status]
    service = world.image_service
    base = f"{call.base_url}{DEVELOPER_PATH}"
    items = []
    for image in images[:limit]:
        image_url = None
        if mode != "annotations_only":
            # Signed, so the SDK's unauthenticated client can fetch it; made when fetched.
            path = world.storage.sign(
                f"image/{image.id}",
                image.filename,
                service.served_type(image),
                _bytes_of(world, image),
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


def _bytes_of(world: World, image: Image) -> Callable[[], bytes | None]:
    # An image deleted for good since is gone from storage too.
    return lambda: world.image_service.content(image)[0] if image.id in world.images else None


def dataset_payload(call: Call, dataset: Dataset) -> dict[str, Any]:
    """The ``Dataset`` object; its counts are kept by the image service as images change."""
    counts = call.world.image_service.counts(dataset)
    return {
        "id": dataset.id,
        "organization_id": dataset.organization_id,
        "name": dataset.name,
        "description": dataset.description,
        "readme": dataset.readme,
        "annotation_types": dataset.annotation_types,
        "classes": dataset.classes,
        "image_count": counts.live,
        "completed_image_count": counts.completed,
        "archived_image_count": counts.archived,
        "total_size": counts.live_bytes,
        "is_public": dataset.visibility == "public",
        "is_archived": dataset.archived_at is not None,
        "archived_at": call.iso(dataset.archived_at),
        "storage_class": dataset.storage_class,
        "created_at": call.iso(dataset.created_at),
        "updated_at": call.iso(dataset.updated_at),
    }
