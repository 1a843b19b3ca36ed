"""``/api/v1/developer/annotations``: an image's annotations, in bulk, and class-wide edits.

Bodies are bare here (no ``data`` envelope): the SDK reads ``annotations``,
``image_id``, ``previous_count``, ``new_count`` and ``status`` at the top level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.images import is_uuid
from pictograph_testing.api.wire import Call, Reply, check_fields, reply
from pictograph_testing.world.annotations import (
    BULK_SAVE_CAP,
    canonical_annotations,
    delete_class,
    merge_class,
    rename_class,
    replace_annotations,
)
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error

if TYPE_CHECKING:
    from pictograph_testing.world.errors import FieldError
    from pictograph_testing.world.state import Dataset, Image

__all__ = ["route"]


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "POST", ("bulk",):
            return _bulk_save(call)
        case "POST", ("rename-class" | "merge-class" | "delete-class" as operation,):
            return _class_edit(call, operation)
        case "GET", (ref, "file") if is_uuid(ref):
            image = call.world.images.get(ref.lower())
            if image is not None and image.organization_id == call.key.organization_id:
                # The annotation file `datasets.download` fetches for each image.
                return reply({"image": image.filename, "annotations": image.annotations})
    segments = call.segments
    if len(segments) >= 2 and all(segments):
        world = call.world
        dataset = world.dataset(call.key.organization_id, segments[0])
        image = world.image_service.at_path(dataset, "/".join(segments[1:]))
        match call.method:
            case "GET":
                return reply(
                    {
                        "success": True,
                        "image_id": image.id,
                        "filename": image.filename,
                        "annotations": image.annotations,
                        "annotation_count": len(image.annotations),
                    }
                )
            case "POST":
                return _save(call, dataset, image)
            case "DELETE":
                call.key.require("admin", "delete annotations")
                deleted = replace_annotations(image, [])
                return reply({"success": True, "image_id": image.id, "deleted_count": deleted})
    raise NotFound(f"No annotations route {call.method} /annotations/{'/'.join(segments)}")


def _save(call: Call, dataset: Dataset, image: Image) -> Reply:
    body = call.json_object()
    # The image is named by the path alone: an `image_id` key is refused, not ignored.
    check_fields(body, required={"annotations": list}, optional={})
    call.key.require("member", "save annotations")
    annotations = canonical_annotations(
        body["annotations"],
        dataset.class_names,
        loc=("body", "annotations"),
        new_id=call.world.ids.uuid,
        dataset_name=dataset.name,
    )
    return reply(_saved(image, replace_annotations(image, annotations)))


def _saved(image: Image, previous: int) -> dict[str, Any]:
    return {
        "success": True,
        "image_id": image.id,
        "previous_count": previous,
        "new_count": len(image.annotations),
        "status": image.status,
    }


def _bulk_save(call: Call) -> Reply:
    """Save many images' annotations; an unknown image or class fails its entry only.

    A malformed body or annotation shape refuses the whole call (422) before anything
    is saved.
    """
    body = call.json_object()
    check_fields(body, required={"saves": list}, optional={})
    saves = body["saves"]
    if len(saves) > BULK_SAVE_CAP:
        raise InvalidRequest(
            f"A bulk save takes at most {BULK_SAVE_CAP} images, got {len(saves)}.",
            errors=[
                field_error(
                    ("body", "saves"), f"List should have at most {BULK_SAVE_CAP} items", "too_long"
                )
            ],
        )
    errors: list[FieldError] = []
    for i, entry in enumerate(saves):
        errors.extend(_entry_errors(entry, ("body", "saves", i)))
    if errors:
        raise InvalidRequest(
            "Invalid bulk save: "
            + "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors[:5]),
            errors=errors,
        )
    call.key.require("member", "save annotations")
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
    return reply({"success": True, "saved": saved, "failed": failed})


def _entry_errors(entry: Any, loc: tuple[str | int, ...]) -> list[FieldError]:
    """What is wrong with one bulk entry's shape (classes are checked per image later)."""
    if not isinstance(entry, dict):
        return [field_error(loc, "Input should be a valid dictionary", "dict_type")]
    try:
        check_fields(entry, required={"image_id": str, "annotations": list}, optional={})
    except InvalidRequest as refusal:
        # check_fields places its errors under "body": put them under this entry.
        return [{**e, "loc": [*loc, *e["loc"][1:]]} for e in refusal.errors]
    try:
        canonical_annotations(
            entry["annotations"], None, loc=(*loc, "annotations"), new_id=str, dataset_name=""
        )
    except InvalidRequest as refusal:
        return refusal.errors
    return []


def _class_edit(call: Call, operation: str) -> Reply:
    """``rename-class``, ``merge-class`` and ``delete-class``: one dataset-wide edit each."""
    body = call.json_object()
    world = call.world
    if operation == "rename-class":
        check_fields(body, required={"dataset": str, "old_name": str, "new_name": str}, optional={})
    elif operation == "merge-class":
        check_fields(
            body, required={"dataset": str, "source_name": str, "target_name": str}, optional={}
        )
    else:
        check_fields(
            body,
            required={"dataset": str, "name": str},
            optional={"class_type": str, "delete_annotations": bool},
        )
    call.key.require("member", "edit classes")
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    if operation == "rename-class":
        outcome = rename_class(world, dataset, body["old_name"], body["new_name"])
    elif operation == "merge-class":
        outcome = merge_class(world, dataset, body["source_name"], body["target_name"])
    else:
        outcome = delete_class(
            world,
            dataset,
            body["name"],
            class_type=body.get("class_type"),
            delete_annotations=body.get("delete_annotations") is True,
        )
    return reply({"data": outcome})
