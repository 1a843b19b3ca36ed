"""``/api/v1/developer/batch/images``: update, move, copy and delete many images at once.

Bodies are bare ``BatchResult`` objects (a ``data`` envelope breaks the SDK). Ids that
are not images of the dataset land in ``failed``; the call is refused (404) only when
the dataset is unknown or none of the ids is one of its images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.images import string_list
from pictograph_testing.api.wire import Call, Reply, check_fields, reply
from pictograph_testing.world.errors import Forbidden, InvalidRequest, NotFound, field_error
from pictograph_testing.world.images import check_status, directory_path

if TYPE_CHECKING:
    from pictograph_testing.world.images import BatchOutcome

__all__ = ["route"]

BATCH_CAP = 10_000
DUPLICATE_HANDLING = ("rename", "skip", "overwrite")
_TARGETS: dict[str, type | tuple[type, ...]] = {
    "dataset_name": str,
    "image_ids": list,
}
_UPDATES: dict[str, type | tuple[type, ...]] = {
    "status": str,
    "display_name": str,
    "is_archived": bool,
}


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "PATCH", ("images", "update"):
            return _update(call)
        case "POST", ("images", "move"):
            return _move(call)
        case "POST", ("images", "copy"):
            return _copy(call)
        case "POST", ("images", "copy-to-dataset"):
            return _copy_to_dataset(call)
        case "POST", ("images", "delete"):
            return _delete(call)
    raise NotFound(f"No batch route {call.method} /batch/{'/'.join(call.segments)}")


def _targets(
    call: Call, optional: dict[str, type | tuple[type, ...]], required: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Parse the body: the dataset, 1 to 10,000 image ids, and the operation's fields."""
    body = call.json_object()
    check_fields(body, required={**_TARGETS, **(required or {})}, optional=optional)
    image_ids = string_list(body, "image_ids", at_least=1)
    if len(image_ids) > BATCH_CAP:
        raise InvalidRequest(
            f"A batch takes at most {BATCH_CAP} image ids, got {len(image_ids)}.",
            errors=[
                field_error(
                    ("body", "image_ids"), f"List should have at most {BATCH_CAP} items", "too_long"
                )
            ],
        )
    return body, image_ids


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


def _update(call: Call) -> Reply:
    body, image_ids = _targets(call, {}, {"updates": dict})
    updates = body["updates"]
    if not updates:
        raise InvalidRequest(
            "Nothing to update: 'updates' needs at least one of status, display_name, is_archived.",
            errors=[field_error(("body", "updates"), "At least one field is required", "missing")],
        )
    try:
        check_fields(updates, required={}, optional=_UPDATES)
    except InvalidRequest as refusal:
        raise InvalidRequest(
            refusal.message,
            errors=[{**e, "loc": ["body", "updates", *e["loc"][1:]]} for e in refusal.errors],
        ) from None
    status = updates.get("status")
    if status is not None:
        check_status(status)
    call.key.require("member", "update images")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.batch_update(
        dataset,
        image_ids,
        status=status,
        display_name=updates.get("display_name"),
        is_archived=updates.get("is_archived"),
    )
    return reply(_result(outcome))


def _move(call: Call) -> Reply:
    body, image_ids = _targets(call, {"target_directory_path": str})
    target = _target_directory(body)
    call.key.require("member", "move images")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    return reply(_result(world.image_service.move(dataset, image_ids, target)))


def _copy(call: Call) -> Reply:
    body, image_ids = _targets(
        call,
        {"target_directory_path": str, "duplicate_handling": str, "copy_annotations": bool},
    )
    target = _target_directory(body)
    handling = body.get("duplicate_handling") or "rename"
    if handling not in DUPLICATE_HANDLING:
        allowed = ", ".join(f"'{h}'" for h in DUPLICATE_HANDLING)
        raise InvalidRequest(
            f"Invalid duplicate_handling '{handling}': choose one of {allowed}.",
            errors=[
                field_error(
                    ("body", "duplicate_handling"), f"Input should be {allowed}", "literal_error"
                )
            ],
        )
    call.key.require("member", "copy images")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.copy(
        dataset,
        image_ids,
        target,
        duplicate_handling=handling,
        copy_annotations=body.get("copy_annotations") is True,
    )
    return reply(_result(outcome))


def _copy_to_dataset(call: Call) -> Reply:
    body, image_ids = _targets(call, {"target_directory_path": str}, {"target_dataset_name": str})
    target = _target_directory(body)
    call.key.require("member", "copy images")
    world = call.world
    source = world.dataset(call.key.organization_id, body["dataset_name"])
    into = world.dataset(call.key.organization_id, body["target_dataset_name"])
    outcome = world.image_service.copy_to_dataset(source, image_ids, into, target)
    return reply(
        {**_result(outcome), "target_dataset": into.name, "classes_added": outcome.classes_added}
    )


def _delete(call: Call) -> Reply:
    body, image_ids = _targets(call, {"permanent": bool})
    permanent = body.get("permanent") is True
    if permanent and not call.key.has("admin"):
        raise Forbidden("Only admin or owner roles can permanently delete images.")
    call.key.require("member", "archive images")
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    outcome = world.image_service.batch_delete(dataset, image_ids, permanent=permanent)
    return reply(_result(outcome, "deleted" if permanent else "archived"))
