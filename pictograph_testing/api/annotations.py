"""``/api/v1/developer/annotations``: an image's annotations, in bulk, and class-wide edits.

Bodies are bare here (no ``data`` envelope): the SDK reads ``annotations``,
``image_id``, ``previous_count``, ``new_count`` and ``status`` at the top level.

SDK releases up to 1.69.43 name the image by its id alone (``/annotations/{image_id}``,
routes of their own for those releases, with the id repeated in a save's body; the
seed era's and the id era's wire are the same here), and 1.61.0 to 1.69.43 name the
dataset of a class edit by ``dataset_id``, which their wire renames to today's
``dataset``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import IMAGE_ID_PATHS, IMAGES_BY_ID, Wire
from pictograph_testing.api.images import org_image
from pictograph_testing.api.spec import EXAMPLE_DATASET, Bool, Field, Json, List, Obj, Str
from pictograph_testing.api.table import Bare, Data, Fallthrough, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.world.annotations import (
    ANNOTATION_TYPES,
    BULK_SAVE_CAP,
    canonical_annotations,
    delete_class,
    merge_class,
    rename_class,
    replace_annotations,
)
from pictograph_testing.world.errors import InvalidRequest, NotFound, describe

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.errors import FieldError

__all__ = ["ANNOTATIONS"]


ANNOTATION_DOC = {
    "type": "object",
    "description": "One annotation; its geometry keys depend on its type.",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "type": {"type": "string", "enum": list(ANNOTATION_TYPES)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["name", "type"],
}
# Shapes are the world's to check (they depend on the type and the dataset's classes).
ANNOTATIONS = List(Json(doc=ANNOTATION_DOC, accepts=()), noun="annotation objects")
_DATASET_ID = (Wire(IMAGES_BY_ID, renames={"dataset_id": "dataset"}, note="`dataset_id`"),)


@endpoint(
    "POST",
    "annotations/bulk",
    summary="Save many images' annotations (an unknown image or class fails its entry)",
    sdk=("annotations.bulk_save",),
    reply=Bare("BulkSaveResult"),
    body=Obj(
        {
            "saves": Field(
                List(
                    Obj(
                        {
                            "image_id": Field(Str(), required=True),
                            "annotations": Field(ANNOTATIONS, required=True),
                        }
                    ),
                    max_items=BULK_SAVE_CAP,
                ),
                required=True,
            )
        }
    ),
    role="member",
    action="save annotations",
    errors=(403,),
)
def bulk_save(call: Call) -> Reply:
    """Save many images' annotations; an unknown image or class fails its entry only.

    A malformed body or annotation shape refuses the whole call (422) before anything
    is saved.
    """
    saves = call.fields()["saves"]
    errors: list[FieldError] = []
    for i, entry in enumerate(saves):
        errors.extend(_entry_errors(entry, ("body", "saves", i)))
    if errors:
        raise InvalidRequest(
            "Invalid bulk save: " + describe(errors),
            errors=errors,
        )
    world = call.world
    saved: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for i, entry in enumerate(saves):
        image_id = entry["image_id"]
        image = world.images.get(image_id.strip().lower())
        if image is None or image.organization_id != call.key.organization_id:
            failed.append({"image_id": image_id, "error": f"Image '{image_id}' not found"})
            continue
        dataset = world.datasets[image.dataset_id]
        try:
            annotations = canonical_annotations(
                entry["annotations"],
                dataset.class_names,
                loc=("body", "saves", i, "annotations"),
                new_id=world.ids.uuid,
                dataset_name=dataset.name,
            )
        except InvalidRequest as refusal:
            failed.append({"image_id": image_id, "error": refusal.message})
            continue
        saved.append(_saved(image, replace_annotations(image, annotations)))
        world.tasks.record_save(image, call.key.created_by)
    return reply({"success": True, "saved": saved, "failed": failed})


@endpoint(
    "POST",
    "annotations/rename-class",
    summary="Rename a class across a dataset",
    sdk=("annotations.rename_class",),
    reply=Data("ClassEdit"),
    body=Obj(
        {
            "dataset": Field(Str(example=EXAMPLE_DATASET), required=True),
            "old_name": Field(Str(), required=True),
            "new_name": Field(Str(), required=True),
        }
    ),
    wires=_DATASET_ID,
    role="member",
    action="edit classes",
    errors=(403, 409),
)
def rename(call: Call) -> Reply:
    body = call.fields()
    dataset = _dataset(call, body["dataset"])
    return reply({"data": rename_class(call.world, dataset, body["old_name"], body["new_name"])})


@endpoint(
    "POST",
    "annotations/merge-class",
    summary="Merge one class into another across a dataset",
    sdk=("annotations.merge_class",),
    reply=Data("ClassEdit"),
    body=Obj(
        {
            "dataset": Field(Str(example=EXAMPLE_DATASET), required=True),
            "source_name": Field(Str(), required=True),
            "target_name": Field(Str(), required=True),
        }
    ),
    wires=_DATASET_ID,
    role="member",
    action="edit classes",
    errors=(403,),
)
def merge(call: Call) -> Reply:
    body = call.fields()
    dataset = _dataset(call, body["dataset"])
    outcome = merge_class(call.world, dataset, body["source_name"], body["target_name"])
    return reply({"data": outcome})


@endpoint(
    "POST",
    "annotations/delete-class",
    summary="Remove a class from a dataset (and its annotations, if asked)",
    sdk=("annotations.delete_class",),
    reply=Data("ClassEdit"),
    body=Obj(
        {
            "dataset": Field(Str(example=EXAMPLE_DATASET), required=True),
            "name": Field(Str(), required=True),
            "class_type": Field(Str()),
            "delete_annotations": Field(Bool()),
        }
    ),
    wires=_DATASET_ID,
    role="member",
    action="edit classes",
    errors=(403,),
)
def remove_class(call: Call) -> Reply:
    body = call.fields()
    outcome = delete_class(
        call.world,
        _dataset(call, body["dataset"]),
        body["name"],
        class_type=body.get("class_type"),
        delete_annotations=body.get("delete_annotations") is True,
    )
    return reply({"data": outcome})


@endpoint(
    "GET",
    "annotations/{image:uuid}/file",
    summary="An image's annotation file (what datasets.download fetches)",
    sdk=("datasets.download",),
    reply=Bare("AnnotationFile"),
)
def annotation_file(call: Call) -> Reply:
    ref = call.path_args["image"]
    image = org_image(call, ref)
    if image is None:
        if not _names_a_dataset(call, ref):
            # The id is an image's that is gone (a stale `annotation_url`): its 404
            # names the image, not a dataset of that id.
            call.world.image_service.get(call.key.organization_id, ref)
        # A dataset id, then, with an image called `file`: the path route serves it.
        raise Fallthrough
    return reply({"image": image.filename, "annotations": image.annotations})


@endpoint(
    "GET",
    "annotations/{dataset}/{path...}",
    summary="An image's annotations",
    sdk=("annotations.get",),
    reply=Bare("ImageAnnotations"),
)
def get_annotations(call: Call) -> Reply:
    return _annotations_of(_image(call)[1])


def _annotations_of(image: Image) -> Reply:
    return reply(
        {
            "success": True,
            "image_id": image.id,
            "filename": image.filename,
            "annotations": image.annotations,
            "annotation_count": len(image.annotations),
        }
    )


@endpoint(
    "POST",
    "annotations/{dataset}/{path...}",
    summary="Replace an image's annotations",
    sdk=("annotations.save",),
    reply=Bare("SaveResult"),
    # The image is named by the path alone: an `image_id` key is refused, not ignored.
    body=Obj({"annotations": Field(ANNOTATIONS, required=True)}),
    role="member",
    action="save annotations",
    errors=(403,),
)
def save(call: Call) -> Reply:
    return _save(call, *_image(call))


def _save(call: Call, dataset: Dataset, image: Image) -> Reply:
    annotations = canonical_annotations(
        call.fields()["annotations"],
        dataset.class_names,
        loc=("body", "annotations"),
        new_id=call.world.ids.uuid,
        dataset_name=dataset.name,
    )
    previous = replace_annotations(image, annotations)
    call.world.tasks.record_save(image, call.key.created_by)
    return reply(_saved(image, previous))


@endpoint(
    "DELETE",
    "annotations/{dataset}/{path...}",
    summary="Remove every annotation of an image",
    sdk=("annotations.delete",),
    reply=Bare("AnnotationsDeleted"),
    role="admin",
    action="delete annotations",
    errors=(403,),
)
def delete(call: Call) -> Reply:
    return _delete(call, _image(call)[1])


def _delete(call: Call, image: Image) -> Reply:
    deleted = replace_annotations(image, [])
    # Emptying an image is its last save: a task credits its (now no) annotations to them.
    call.world.tasks.record_save(image, call.key.created_by)
    message = "Annotations deleted" if deleted else "No annotations to delete"
    return reply(
        {"success": True, "image_id": image.id, "deleted_count": deleted, "message": message}
    )


# ── one image's annotations, by the image's id alone (SDK 1.0.0 to 1.69.43) ──


def _by_id(call: Call) -> tuple[Dataset, Image]:
    world = call.world
    image = world.image_service.get(call.key.organization_id, call.path_args["image"])
    return world.datasets[image.dataset_id], image


@endpoint(
    "GET",
    "annotations/{image:uuid}",
    summary="An image's annotations, by its id",
    sdk=("annotations.get",),
    reply=Bare("ImageAnnotations"),
    span=IMAGE_ID_PATHS,
)
def get_annotations_by_id(call: Call) -> Reply:
    return _annotations_of(_by_id(call)[1])


@endpoint(
    "POST",
    "annotations/{image:uuid}",
    summary="Replace an image's annotations, by its id",
    sdk=("annotations.save",),
    reply=Bare("SaveResult"),
    # These releases repeat the path's id in the body; it names nothing more.
    body=Obj({"image_id": Field(Str()), "annotations": Field(ANNOTATIONS, required=True)}),
    span=IMAGE_ID_PATHS,
    role="member",
    action="save annotations",
    errors=(403,),
)
def save_by_id(call: Call) -> Reply:
    return _save(call, *_by_id(call))


@endpoint(
    "DELETE",
    "annotations/{image:uuid}",
    summary="Remove every annotation of an image, by its id",
    sdk=("annotations.delete",),
    reply=Bare("AnnotationsDeleted"),
    span=IMAGE_ID_PATHS,
    role="admin",
    action="delete annotations",
    errors=(403,),
)
def delete_by_id(call: Call) -> Reply:
    return _delete(call, _by_id(call)[1])


def _dataset(call: Call, ref: str) -> Dataset:
    return call.world.dataset(call.key.organization_id, ref)


def _names_a_dataset(call: Call, ref: str) -> bool:
    try:
        _dataset(call, ref)
    except NotFound:
        return False
    return True


def _image(call: Call) -> tuple[Dataset, Image]:
    dataset = _dataset(call, call.path_args["dataset"])
    return dataset, call.world.image_service.at_path(dataset, call.path_args["path"])


def _saved(image: Image, previous: int) -> dict[str, Any]:
    return {
        "success": True,
        "image_id": image.id,
        "previous_count": previous,
        "new_count": len(image.annotations),
        "status": image.status,
    }


def _entry_errors(entry: dict[str, Any], loc: tuple[str | int, ...]) -> list[FieldError]:
    """What is wrong with one bulk entry's annotation shapes (classes are per image)."""
    try:
        canonical_annotations(
            entry["annotations"], None, loc=(*loc, "annotations"), new_id=str, dataset_name=""
        )
    except InvalidRequest as refusal:
        return refusal.errors
    return []
