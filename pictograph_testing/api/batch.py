"""``/api/v1/developer/batch/images``: update, move, copy and delete many images at once.

Bodies are bare ``BatchResult`` objects (a ``data`` envelope breaks the SDK). Ids that
are not images of the dataset land in ``failed``; the call is refused (404) only when
the dataset is unknown or none of the ids is one of its images.

SDK releases before 1.69.43 (from 1.0.0: the batch wire did not change at 1.61) say
``target_folder_path`` and read ``affected_folders``; their wire renames the one and adds
the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import TARGET_FOLDER_PATHS, Wire
from pictograph_testing.api.spec import EXAMPLE_DATASET, Bool, Field, List, Obj, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.world.errors import Forbidden
from pictograph_testing.world.images import check_status, directory_path

if TYPE_CHECKING:
    from pictograph_testing.world.images import BatchOutcome

__all__ = ["BATCH_CAP", "UPDATES"]

BATCH_CAP = 10_000
DUPLICATE_HANDLING = ("rename", "skip", "overwrite")
_TARGETS = {
    "dataset_name": Field(Str(example=EXAMPLE_DATASET), required=True),
    "image_ids": Field(
        List(Str(not_blank=True), min_items=1, max_items=BATCH_CAP, noun="non-blank strings"),
        required=True,
    ),
}
_INTO = {"target_directory_path": Field(Str())}


def _with_affected_folders(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "affected_folders": result["affected_directories"]}


_READ_FOLDERS = (
    Wire(TARGET_FOLDER_PATHS, rewrite=_with_affected_folders, note="reads `affected_folders`"),
)
_FOLDER_PATH = (
    Wire(
        TARGET_FOLDER_PATHS,
        renames={"target_folder_path": "target_directory_path"},
        rewrite=_with_affected_folders,
        note="`target_folder_path`; reads `affected_folders`",
    ),
)
UPDATES = Obj(
    {"status": Field(Str()), "display_name": Field(Str()), "is_archived": Field(Bool())},
    at_least_one="key",
)


@endpoint(
    "PATCH",
    "batch/images/update",
    summary="Set status, display name or archived on many images",
    sdk=("batch.update",),
    reply=Bare("BatchResult"),
    body=Obj({**_TARGETS, "updates": Field(UPDATES, required=True)}),
    wires=_READ_FOLDERS,
    role="member",
    action="update images",
    errors=(400, 403),
)
def update(call: Call) -> Reply:
    body = call.fields()
    updates = body["updates"]
    status = updates.get("status")
    if status is not None:
        check_status(status)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.batch_update(
        dataset,
        body["image_ids"],
        status=status,
        display_name=updates.get("display_name"),
        is_archived=updates.get("is_archived"),
    )
    return reply(_result(outcome))


@endpoint(
    "POST",
    "batch/images/move",
    summary="Move many images to another directory",
    sdk=("batch.move",),
    reply=Bare("BatchResult"),
    body=Obj({**_TARGETS, **_INTO}),
    wires=_FOLDER_PATH,
    role="member",
    action="move images",
    errors=(403,),
)
def move(call: Call) -> Reply:
    body = call.fields()
    target = _target_directory(body)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    return reply(_result(world.image_service.move(dataset, body["image_ids"], target)))


@endpoint(
    "POST",
    "batch/images/copy",
    summary="Copy many images within their dataset",
    sdk=("batch.copy",),
    reply=Bare("BatchResult"),
    body=Obj(
        {
            **_TARGETS,
            **_INTO,
            "duplicate_handling": Field(Str(enum=DUPLICATE_HANDLING)),
            "copy_annotations": Field(Bool()),
        }
    ),
    wires=_FOLDER_PATH,
    role="member",
    action="copy images",
    errors=(403, 409),
)
def copy(call: Call) -> Reply:
    body = call.fields()
    target = _target_directory(body)
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.copy(
        dataset,
        body["image_ids"],
        target,
        duplicate_handling=body.get("duplicate_handling") or "rename",
        copy_annotations=body.get("copy_annotations") is True,
    )
    return reply(_result(outcome))


@endpoint(
    "POST",
    "batch/images/copy-to-dataset",
    summary="Copy many images into another dataset",
    sdk=("batch.copy_to_dataset",),
    reply=Bare("CopyToDatasetResult"),
    body=Obj({**_TARGETS, "target_dataset_name": Field(Str(), required=True), **_INTO}),
    role="member",
    action="copy images",
    errors=(403, 409),
)
def copy_to_dataset(call: Call) -> Reply:
    body = call.fields()
    target = _target_directory(body)
    world = call.world
    source = world.dataset(call.key.organization_id, body["dataset_name"])
    into = world.dataset(call.key.organization_id, body["target_dataset_name"])
    outcome = world.image_service.copy_to_dataset(source, body["image_ids"], into, target)
    return reply(
        {**_result(outcome), "target_dataset": into.name, "classes_added": outcome.classes_added}
    )


@endpoint(
    "POST",
    "batch/images/delete",
    summary="Archive many images, or delete them for good (permanent, admin+)",
    sdk=("batch.delete",),
    reply=Bare("BatchResult"),
    body=Obj({**_TARGETS, "permanent": Field(Bool())}),
    wires=_READ_FOLDERS,
    role="member",
    action="archive images",
    errors=(403,),
)
def delete(call: Call) -> Reply:
    body = call.fields()
    permanent = body.get("permanent") is True
    if permanent and not call.key.has("admin"):
        raise Forbidden("Only admin or owner roles can permanently delete images.")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.batch_delete(dataset, body["image_ids"], permanent=permanent)
    return reply(_result(outcome, "deleted" if permanent else "archived"))


def _target_directory(body: dict[str, Any]) -> str:
    return directory_path(
        body.get("target_directory_path") or "/", ("body", "target_directory_path")
    )


def _result(outcome: BatchOutcome, operation: str | None = None) -> dict[str, Any]:
    return {
        "success": True,
        "processed": outcome.processed,
        "failed": [{"id": image_id, "reason": reason} for image_id, reason in outcome.failed],
        "affected_directories": sorted(outcome.directories),
        "renamed": outcome.renamed,
        "operation": operation,
    }
