"""Annotations as the API stores them (canonical Pictograph JSON), and class-wide edits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pictograph_testing.bounds import MAX_COORDINATE
from pictograph_testing.catalog import ANNOTATION_NAMES_ARE_CLASSES
from pictograph_testing.world.datasets import class_kind
from pictograph_testing.world.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    describe,
    field_error,
    sent,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable

    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.errors import FieldError
    from pictograph_testing.world.state import World

__all__ = [
    "ANNOTATION_TYPES",
    "BULK_SAVE_CAP",
    "canonical_annotations",
    "class_list",
    "delete_class",
    "merge_class",
    "rename_class",
    "replace_annotations",
]

ANNOTATION_TYPES = ("bbox", "polygon", "polyline", "keypoint")


def class_list(names: Iterable[str]) -> str:
    """A dataset's classes for a refusal's words, each name once (a class is declared
    once per annotation type)."""
    return ", ".join(dict.fromkeys(names)) or "none yet"


BULK_SAVE_CAP = 200
_COMMON = frozenset({"id", "name", "type", "confidence", "created_by", "attributes"})
_GEOMETRY: dict[str, frozenset[str]] = {
    "bbox": frozenset({"bounding_box", "oriented_box"}),
    "polygon": frozenset({"bounding_box", "polygon"}),
    "polyline": frozenset({"bounding_box", "polyline"}),
    "keypoint": frozenset({"keypoint", "instance_id"}),
}
_DEGENERATE_EXTENT = 1.0
"""The side a computed box gets along an axis its points do not span (a level polyline):
the SDK refuses a box whose width or height is 0."""

Loc = tuple[str | int, ...]


def canonical_annotations(
    raw: Any,
    class_names: Collection[str] | None,
    *,
    loc: Loc,
    new_id: Callable[[], str],
    dataset_name: str,
) -> list[dict[str, Any]]:
    """Validate a list of annotations as the API's model does; return them canonical.

    Refuses (422, with one field error per problem) unknown or missing keys, bad
    geometry, an id already used earlier in the list, and class names that are not
    classes of the dataset. The server computes ``bounding_box`` for polygons and
    polylines sent without one. ``new_id`` is called only once the whole list is valid,
    for annotations sent without an ``id``; with ``class_names`` ``None`` the shapes
    alone are checked.
    """
    errors: list[FieldError] = []
    if not isinstance(raw, list):
        errors.append(field_error(loc, "Input should be a valid list", "list_type"))
        raise _refusal(errors)
    checked = [_annotation(item, (*loc, i), errors) for i, item in enumerate(raw)]
    _check_unique_ids(checked, loc, errors)
    for i, annotation in enumerate(checked):
        name = annotation.get("name")
        if class_names is None or not ANNOTATION_NAMES_ARE_CLASSES:
            break
        if isinstance(name, str) and name.strip() and name not in class_names:
            known = class_list(class_names)
            errors.append(
                field_error(
                    (*loc, i, "name"),
                    f"'{name}' is not a class of dataset '{dataset_name}' (classes: {known})",
                    "value_error",
                )
            )
    if errors:
        raise _refusal(errors)
    for annotation in checked:
        if annotation["id"] is None:
            annotation["id"] = new_id()
    return checked


def _check_unique_ids(checked: list[dict[str, Any]], loc: Loc, errors: list[FieldError]) -> None:
    """Refuse an id sent twice: an annotation's id is unique within its image (the SDK's
    model says so), so a list that repeats one is not stored, nor quietly cut down."""
    first: dict[str, int] = {}
    for i, annotation in enumerate(checked):
        annotation_id = annotation.get("id")
        if annotation_id is None:  # missing (a fresh one is minted) or already refused
            continue
        if annotation_id in first:
            where = f"{loc[-1]}.{first[annotation_id]}"
            errors.append(
                field_error(
                    (*loc, i, "id"),
                    f"annotation id '{annotation_id}' is already used by {where}: "
                    "each annotation of an image needs an id of its own",
                    "value_error",
                )
            )
        else:
            first[annotation_id] = i


def replace_annotations(image: Image, annotations: list[dict[str, Any]]) -> int:
    """Replace the image's annotations (its status stays); return how many it had."""
    previous = len(image.annotations)
    image.annotations = annotations
    return previous


def _refusal(errors: list[FieldError]) -> InvalidRequest:
    shown = describe(errors)
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return InvalidRequest(f"Invalid annotations: {shown}{more}", errors=errors)


def _annotation(item: Any, at: Loc, errors: list[FieldError]) -> dict[str, Any]:
    """Check one annotation; append what is wrong to ``errors``; return it canonical."""
    if not isinstance(item, dict):
        errors.append(field_error(at, "Input should be a valid dictionary", "dict_type"))
        return {}
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in _GEOMETRY:  # a dict or list is unhashable
        allowed = ", ".join(f"'{t}'" for t in ANNOTATION_TYPES)
        errors.append(
            field_error(
                (*at, "type"),
                f"Input tag {sent(kind)} found using 'type' does not match any of the expected "
                f"tags: {allowed}",
                "union_tag_invalid",
            )
        )
        return {}
    present = {k for k, v in item.items() if v is not None}
    for extra in sorted(present - _COMMON - _GEOMETRY[kind]):
        errors.append(
            field_error((*at, extra), "Extra inputs are not permitted", "extra_forbidden")
        )
    out: dict[str, Any] = {
        "id": _text(item, "id", at, errors, required=False),
        "name": _text(item, "name", at, errors, required=True),
        "type": kind,
    }
    box = item.get("bounding_box")
    if kind == "bbox":
        out["bounding_box"] = _box(box, (*at, "bounding_box"), errors, required=True)
        if item.get("oriented_box") is not None:
            out["oriented_box"] = _oriented(item["oriented_box"], (*at, "oriented_box"), errors)
    elif kind == "polygon":
        paths = _rings(item.get("polygon"), (*at, "polygon"), errors)
        out["bounding_box"] = _box(box, (*at, "bounding_box"), errors, required=False)
        out["polygon"] = {"paths": paths}
        if out["bounding_box"] is None:
            out["bounding_box"] = _enclosing([p for ring in paths for p in ring])
    elif kind == "polyline":
        path = _polyline(item.get("polyline"), (*at, "polyline"), errors)
        out["bounding_box"] = _box(box, (*at, "bounding_box"), errors, required=False)
        out["polyline"] = {"path": path}
        if out["bounding_box"] is None:
            out["bounding_box"] = _enclosing(path)
    else:
        out["keypoint"] = _point(item.get("keypoint"), (*at, "keypoint"), errors)
    out["confidence"] = _confidence(item.get("confidence"), (*at, "confidence"), errors)
    created_by = item.get("created_by")
    if created_by is not None:
        if not isinstance(created_by, str):
            errors.append(
                field_error((*at, "created_by"), "Input should be a valid string", "string_type")
            )
        out["created_by"] = created_by
    attributes = item.get("attributes")
    if attributes is None:
        attributes = []
    elif not isinstance(attributes, (dict, list)):
        errors.append(
            field_error((*at, "attributes"), "Input should be a dictionary or a list", "model_type")
        )
    out["attributes"] = attributes
    if kind == "keypoint" and item.get("instance_id") is not None:
        instance = item["instance_id"]
        if isinstance(instance, bool) or not isinstance(instance, int) or instance < 1:
            errors.append(
                field_error(
                    (*at, "instance_id"), "Input should be an integer >= 1", "greater_than_equal"
                )
            )
        out["instance_id"] = instance
    return out


def _text(
    item: dict[str, Any], key: str, at: Loc, errors: list[FieldError], *, required: bool
) -> str | None:
    value = item.get(key)
    if value is None:
        if required:
            errors.append(field_error((*at, key), "Field required", "missing"))
        return None
    if not isinstance(value, str):
        errors.append(field_error((*at, key), "Input should be a valid string", "string_type"))
        return None
    if not value.strip():
        errors.append(
            field_error((*at, key), "must not be blank or whitespace-only", "value_error")
        )
        return None
    return value


def _number(value: Any, at: Loc, errors: list[FieldError]) -> float:
    """A coordinate, a size or an angle: a finite number within :data:`MAX_COORDINATE`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors.append(field_error(at, "Input should be a valid number", "float_type"))
        return 0.0
    if not -MAX_COORDINATE <= value <= MAX_COORDINATE:
        errors.append(
            field_error(
                at,
                f"Input should be between {-MAX_COORDINATE:,.0f} and {MAX_COORDINATE:,.0f} pixels",
                "range_error",
            )
        )
        return 0.0
    return float(value)


def _fields(
    value: Any,
    names: tuple[str, ...],
    at: Loc,
    errors: list[FieldError],
    optional: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """Check that ``value`` is an object with exactly ``names`` (plus ``optional``)."""
    if not isinstance(value, dict):
        errors.append(field_error(at, "Input should be a valid dictionary", "dict_type"))
        return None
    before = len(errors)
    for name in names:
        if value.get(name) is None:
            errors.append(field_error((*at, name), "Field required", "missing"))
    for extra in sorted(set(value) - set(names) - set(optional)):
        errors.append(
            field_error((*at, extra), "Extra inputs are not permitted", "extra_forbidden")
        )
    return value if len(errors) == before else None


def _point(value: Any, at: Loc, errors: list[FieldError]) -> dict[str, float]:
    checked = _fields(value, ("x", "y"), at, errors)
    if checked is None:
        return {"x": 0.0, "y": 0.0}
    return {
        "x": _number(checked["x"], (*at, "x"), errors),
        "y": _number(checked["y"], (*at, "y"), errors),
    }


def _box(
    value: Any, at: Loc, errors: list[FieldError], *, required: bool
) -> dict[str, float] | None:
    if value is None:
        if required:
            errors.append(field_error(at, "Field required", "missing"))
        return None
    checked = _fields(value, ("x", "y", "w", "h"), at, errors)
    if checked is None:
        return None
    box = {k: _number(checked[k], (*at, k), errors) for k in ("x", "y", "w", "h")}
    for side in ("w", "h"):
        # The value sent, not the checked one: a side refused as too large reads as 0.
        if isinstance(checked[side], (int, float)) and checked[side] <= 0:
            errors.append(
                field_error((*at, side), "Input should be greater than 0", "greater_than")
            )
    return box


def _oriented(value: Any, at: Loc, errors: list[FieldError]) -> dict[str, float]:
    checked = _fields(value, ("cx", "cy", "w", "h"), at, errors, optional=("angle",))
    if checked is None:
        return {}
    box = {k: _number(checked[k], (*at, k), errors) for k in ("cx", "cy", "w", "h")}
    for side in ("w", "h"):
        if isinstance(checked[side], (int, float)) and checked[side] <= 0:
            errors.append(
                field_error((*at, side), "Input should be greater than 0", "greater_than")
            )
    angle = _number(checked.get("angle", 0.0), (*at, "angle"), errors)
    if not 0 <= angle < 360:
        errors.append(field_error((*at, "angle"), "Input should be in [0, 360)", "range_error"))
    box["angle"] = angle
    return box


def _points(
    value: Any, at: Loc, errors: list[FieldError], *, least: int, what: str
) -> list[dict[str, float]]:
    if not isinstance(value, list):
        errors.append(field_error(at, "Input should be a valid list", "list_type"))
        return []
    if len(value) < least:
        errors.append(
            field_error(
                at, f"{what} has {len(value)} point(s); it needs at least {least}", "too_short"
            )
        )
    return [_point(p, (*at, i), errors) for i, p in enumerate(value)]


def _rings(value: Any, at: Loc, errors: list[FieldError]) -> list[list[dict[str, float]]]:
    checked = _fields(value, ("paths",), at, errors)
    if checked is None:
        return []
    paths = checked["paths"]
    if not isinstance(paths, list) or not paths:
        errors.append(field_error((*at, "paths"), "List should have at least 1 ring", "too_short"))
        return []
    return [
        _points(ring, (*at, "paths", i), errors, least=3, what=f"paths[{i}]")
        for i, ring in enumerate(paths)
    ]


def _polyline(value: Any, at: Loc, errors: list[FieldError]) -> list[dict[str, float]]:
    checked = _fields(value, ("path",), at, errors)
    if checked is None:
        return []
    return _points(checked["path"], (*at, "path"), errors, least=2, what="path")


def _confidence(value: Any, at: Loc, errors: list[FieldError]) -> float:
    if value is None:
        return 1.0
    number = _number(value, at, errors)
    if not 0 <= number <= 1:
        errors.append(field_error(at, "Input should be between 0 and 1", "range_error"))
    return number


def _enclosing(points: list[dict[str, float]]) -> dict[str, float]:
    if not points:
        return {"x": 0.0, "y": 0.0, "w": _DEGENERATE_EXTENT, "h": _DEGENERATE_EXTENT}
    xs = [p["x"] for p in points]
    ys = [p["y"] for p in points]
    left, top = min(xs), min(ys)
    return {
        "x": left,
        "y": top,
        "w": (max(xs) - left) or _DEGENERATE_EXTENT,
        "h": (max(ys) - top) or _DEGENERATE_EXTENT,
    }


# ── class-wide edits ──


def _class_missing(dataset: Dataset, name: str, class_type: str | None = None) -> NotFound:
    typed = "" if class_type is None else f" ('{class_type}')"
    return NotFound(f"Class '{name}'{typed} not found in dataset '{dataset.name}'")


def _uses(world: World, dataset: Dataset, name: str, kind: object = None) -> bool:
    """Whether an annotation of the dataset is labelled ``name`` (of type ``kind``, when
    given): a class can outlive its ontology entry on its labels."""
    return any(
        a.get("name") == name and (kind is None or a.get("type") == kind)
        for image in world.dataset_images(dataset, archived=True)
        for a in image.annotations
    )


def _relabel(world: World, dataset: Dataset, old: str, new: str) -> tuple[int, int]:
    """Give every annotation labelled ``old`` the label ``new``; count images and labels."""
    images = annotations = 0
    for image in world.dataset_images(dataset, archived=True):
        hits = sum(1 for a in image.annotations if a.get("name") == old)
        if hits:
            # New dicts, never edits in place: exports keep copies of the old ones.
            image.annotations = [
                {**a, "name": new} if a.get("name") == old else a for a in image.annotations
            ]
        images += bool(hits)
        annotations += hits
    return images, annotations


def _check_class_name(value: str, field: str) -> None:
    if not value.strip() or len(value) > 120:
        raise InvalidRequest(
            f"'{field}' must be a class name of 1 to 120 characters.",
            errors=[field_error(("body", field), "Invalid class name", "value_error")],
        )


def rename_class(world: World, dataset: Dataset, old: str, new: str) -> dict[str, Any]:
    """Rename a class in the ontology and on every annotation; 409 onto an existing class."""
    _check_class_name(new, "new_name")
    renamed = [c for c in dataset.classes if c["name"] == old]
    if not renamed and not _uses(world, dataset, old):
        raise _class_missing(dataset, old)
    if old == new:
        raise InvalidRequest(
            "new_name is the class's current name.",
            errors=[field_error(("body", "new_name"), "Must differ from old_name", "value_error")],
        )
    taken = {class_kind(c.get("type")) for c in dataset.classes if c["name"] == new}
    if any(class_kind(c.get("type")) in taken for c in renamed):
        raise Conflict(
            f"A class named '{new}' of that type already exists in dataset '{dataset.name}'; "
            "use merge_class to combine them."
        )
    dataset.classes = [{**c, "name": new} if c["name"] == old else c for c in dataset.classes]
    images, annotations = _relabel(world, dataset, old, new)
    if renamed:
        dataset.updated_at = world.now()
    return {
        "dataset_id": dataset.id,
        "old_name": old,
        "new_name": new,
        "images_updated": images,
        "annotations_updated": annotations,
        "config_updated": bool(renamed),
    }


def merge_class(world: World, dataset: Dataset, source: str, target: str) -> dict[str, Any]:
    """Relabel ``source`` annotations as ``target`` and drop ``source`` from the ontology."""
    if source == target:
        raise InvalidRequest(
            "A class cannot be merged into itself.",
            errors=[
                field_error(("body", "target_name"), "Must differ from source_name", "value_error")
            ],
        )
    if target not in dataset.class_names:
        raise _class_missing(dataset, target)
    if source not in dataset.class_names and not _uses(world, dataset, source):
        raise _class_missing(dataset, source)
    kept = [c for c in dataset.classes if c["name"] != source]
    config_updated = len(kept) != len(dataset.classes)
    dataset.classes = kept
    images, annotations = _relabel(world, dataset, source, target)
    dataset.updated_at = world.now()
    return {
        "dataset_id": dataset.id,
        "source_name": source,
        "target_name": target,
        "images_updated": images,
        "annotations_updated": annotations,
        "config_updated": config_updated,
    }


def delete_class(
    world: World,
    dataset: Dataset,
    name: str,
    *,
    class_type: str | None,
    delete_annotations: bool,
) -> dict[str, Any]:
    """Remove a class from the ontology (one ``(name, type)`` entry with ``class_type``).

    ``box`` and ``bbox`` name one type. With ``delete_annotations`` its annotations go
    too (only those of ``class_type``, when it is given), also when the ontology has no
    entry for it any more (``config_updated`` false, as the SDK reads it).
    """
    kind = class_kind(class_type)
    doomed = [
        c
        for c in dataset.classes
        if c["name"] == name and (kind is None or class_kind(c.get("type")) == kind)
    ]
    if not doomed and not (delete_annotations and _uses(world, dataset, name, kind)):
        raise _class_missing(dataset, name, class_type)
    dataset.classes = [c for c in dataset.classes if not any(c is d for d in doomed)]
    images = removed = 0
    if delete_annotations:
        for image in world.dataset_images(dataset, archived=True):
            kept = [
                a
                for a in image.annotations
                if a.get("name") != name or (kind is not None and a.get("type") != kind)
            ]
            images += len(kept) != len(image.annotations)
            removed += len(image.annotations) - len(kept)
            image.annotations = kept
    dataset.updated_at = world.now()
    return {
        "dataset_id": dataset.id,
        "name": name,
        "config_updated": bool(doomed),
        "images_updated": images,
        "annotations_removed": removed,
    }
