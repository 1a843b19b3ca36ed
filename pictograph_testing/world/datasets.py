"""Datasets: their class config, lifecycle (rename, archive, delete) and synthetic images."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import PLANS, UPGRADE_URL
from pictograph_testing.world.entities import IMAGE_STATUSES, Dataset, Image
from pictograph_testing.world.errors import (
    LONE_SURROGATE,
    Conflict,
    InvalidRequest,
    LimitExceeded,
    describe,
    field_error,
)
from pictograph_testing.world.images import min_confidence
from pictograph_testing.world.ordered import SortedIndex, index_in

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.errors import FieldError
    from pictograph_testing.world.state import World

__all__ = [
    "ANNOTATION_TYPES",
    "CLASS_COLORS",
    "CLASS_NAME_LIMIT",
    "DatasetService",
    "canonical_class",
    "check_annotation_types",
    "check_classes",
    "class_kind",
    "with_colors",
]

CLASS_COLORS = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#808000", "#000075", "#a9a9a9", "#e6beff",
)  # fmt: skip
"""The SDK's own palette: a class saved without a colour gets the next one."""
ANNOTATION_TYPES = ("bbox", "box", "polygon", "polyline", "keypoint")
"""What a dataset may allow; ``bbox`` and ``box`` are aliases."""
ATTRIBUTE_TYPES = ("text", "number", "select", "checkbox")
CLASS_NAME_LIMIT = 120
"""The most characters the name of a class, or of a class's attribute, may hold."""
SYNTHETIC_SIZE = (640, 480)
_CLASS_KEYS = ("name", "type", "color", "attributes", "skeleton")
_NAME_LENGTH = f"String should have 1 to {CLASS_NAME_LIMIT} characters"
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def class_kind(class_type: object) -> object:
    """What a class type is compared as: ``box`` is ``bbox``, any other type itself.

    The platform stores ``box`` on a box class and ``bbox`` on a box annotation, and the
    SDK's own CLI sends ``box`` for either spelling: so ``car`` the box and ``car`` the
    bbox are one class wherever classes are matched, told apart or checked for clashes.
    A class keeps the type as it was written; only comparisons go through here.
    """
    return "bbox" if class_type == "box" else class_type


class DatasetService:
    """Create, change and delete datasets, and fill them with images."""

    def __init__(self, world: World) -> None:
        self._world = world
        # Each organization's datasets by name, kept in step with `world.datasets` by
        # `_file`, `_unfile` and renames (the only places that change either).
        self._named: dict[str, dict[str, Dataset]] = {}
        # Each organization's datasets in listing order: created_at, then filing order
        # (the order of `world.datasets`, which a dataset keeps while it exists).
        self._ordered: dict[str, SortedIndex[Dataset]] = {}
        self._filed: dict[str, int] = {}
        # The same split by whether a dataset is archived, for listings of either kind:
        # kept by `_file`, `_unfile` and `set_archived`.
        self._shelves: dict[tuple[str, bool], SortedIndex[Dataset]] = {}

    def named(self, organization_id: str, name: str) -> Dataset | None:
        """The organization's dataset called ``name``, if it has one."""
        return self._named.get(organization_id, {}).get(name)

    def of_organization(self, organization_id: str) -> SortedIndex[Dataset] | None:
        """The organization's datasets, oldest first (read only)."""
        return self._ordered.get(organization_id)

    def listing(self, organization_id: str, *, archived: bool) -> Sequence[Dataset]:
        """The organization's archived (or not archived) datasets, newest first (a view)."""
        shelf = self._shelves.get((organization_id, archived))
        return shelf.newest if shelf is not None else []

    def _shelf(self, dataset: Dataset) -> SortedIndex[Dataset]:
        slot = (dataset.organization_id, dataset.archived_at is not None)
        return index_in(self._shelves, slot, self._listing_key)

    def _file(self, dataset: Dataset) -> None:
        self._world.datasets[dataset.id] = dataset
        self._filed[dataset.id] = len(self._filed)
        index_in(self._ordered, dataset.organization_id, self._listing_key).add(dataset)
        self._shelf(dataset).add(dataset)
        self._named.setdefault(dataset.organization_id, {}).setdefault(dataset.name, dataset)

    def _listing_key(self, dataset: Dataset) -> tuple[float, int]:
        return (dataset.created_at, self._filed[dataset.id])

    def _unfile(self, dataset: Dataset) -> None:
        del self._world.datasets[dataset.id]
        self._world.catalog.dataset_deleted(dataset)
        self._ordered[dataset.organization_id].remove(dataset)
        self._shelf(dataset).remove(dataset)
        named = self._named.get(dataset.organization_id, {})
        if named.get(dataset.name) is dataset:
            del named[dataset.name]

    def _name_taken(self, organization_id: str, name: str, *, other_than: str = "") -> bool:
        holder = self.named(organization_id, name)
        return holder is not None and holder.id != other_than

    def create(
        self,
        organization_id: str,
        name: str,
        *,
        annotation_types: Sequence[str] = ("bbox",),
        classes: Sequence[dict[str, Any]] = (),
        description: str | None = None,
        readme: str | None = None,
        within_plan: bool = True,
    ) -> Dataset:
        """Add a dataset; 422 for a bad type or class, 409 when the name is taken, 402
        when the plan holds no more (``within_plan=False``: a test's own set-up, let be)."""
        world = self._world
        for field, text in (("name", name), ("description", description), ("readme", readme)):
            if text is not None and LONE_SURROGATE.search(text):
                # What the API's JSON reader refuses, for a test's own set-up too: a lone
                # surrogate cannot be sent, encoded or written to a report.
                raise InvalidRequest(
                    f"The dataset's {field} holds a lone surrogate (text that is not valid "
                    "Unicode, like os.fsdecode of bytes that are not UTF-8); decode it first.",
                    errors=[field_error(("body", field), "Invalid Unicode", "string_unicode")],
                )
        types = check_annotation_types(annotation_types, ("body", "annotation_types"))
        definitions = check_classes(classes, ("body", "classes"))
        if self._name_taken(organization_id, name):
            raise Conflict(f"A dataset named '{name}' already exists")
        if within_plan:
            self.require_room(organization_id)
        now = world.now()
        dataset = Dataset(
            id=world.ids.uuid(),
            organization_id=organization_id,
            name=name,
            description=description,
            annotation_types=types,
            classes=with_colors(definitions),
            created_at=now,
            updated_at=now,
            readme=readme,
        )
        self._file(dataset)
        return dataset

    def require_room(self, organization_id: str, count: int = 1) -> None:
        """402 ``limit_exceeded`` unless the plan lets the organization hold ``count``
        datasets more (archived ones count: they are still held)."""
        org = self._world.organizations[organization_id]
        limit = PLANS[org.subscription_tier].max_datasets
        held = self._ordered.get(organization_id)
        current = 0 if held is None else len(held)
        if current + count > limit:
            wanted = "one more" if count == 1 else f"{count} more"
            raise LimitExceeded(
                f"The '{org.subscription_tier}' plan allows {limit} datasets; the "
                f"organization holds {current} and this needs {wanted}: delete "
                f"{current + count - limit} or upgrade the plan.",
                details={
                    "error": "limit_exceeded",
                    "limit_type": "datasets",
                    "current": current,
                    "additional": count,
                    "limit": limit,
                    "upgrade_url": UPGRADE_URL,
                },
            )

    def adopt(self, dataset: Dataset) -> None:
        """Add a dataset made elsewhere (a scenario's), its id and fields as they are."""
        self._file(dataset)
        # A freeze or restore under way when it was saved goes on where it was.
        self._world.cold_storage.resume(dataset)
        # A public one is in Explore, as it was published.
        self._world.catalog.adopt_dataset(dataset)

    def update(
        self,
        dataset: Dataset,
        *,
        new_name: str | None = None,
        readme: str | None = None,
        description: str | None = None,
        annotation_types: Sequence[str] | None = None,
        classes: Sequence[dict[str, Any]] | None = None,
        classes_base: Sequence[dict[str, Any]] | None = None,
    ) -> Dataset:
        """Change what is given; ``classes`` replaces the list, or with ``classes_base``
        applies the edit from the base to ``classes`` onto the list stored now."""
        types = (
            check_annotation_types(annotation_types, ("body", "annotation_types"))
            if annotation_types is not None
            else None
        )
        wanted = check_classes(classes, ("body", "classes")) if classes is not None else None
        if classes_base is not None and wanted is None:
            raise InvalidRequest(
                "classes_base is the list that classes edits: send classes too.",
                errors=[field_error(("body", "classes"), "Field required", "missing")],
            )
        base = (
            check_classes(classes_base, ("body", "classes_base"))
            if classes_base is not None
            else None
        )
        if new_name is not None and self._name_taken(
            dataset.organization_id, new_name, other_than=dataset.id
        ):
            raise Conflict(f"A dataset named '{new_name}' already exists")
        # Everything is checked: from here on the update cannot be refused.
        if new_name is not None and new_name != dataset.name:
            named = self._named.setdefault(dataset.organization_id, {})
            if named.get(dataset.name) is dataset:
                del named[dataset.name]
            with self._world.catalog.dataset_changing(dataset):
                dataset.name = new_name
            named[new_name] = dataset
            for export in self._world.export_service.of_dataset(dataset.id).values():
                export.dataset_name = new_name
        if readme is not None:
            dataset.readme = readme
        if description is not None:
            dataset.description = description
        if types is not None:
            dataset.annotation_types = types
        if wanted is not None:
            merged = wanted if base is None else _apply_edit(dataset.classes, base, wanted)
            dataset.classes = with_colors(merged)
        dataset.updated_at = self._world.now()
        return dataset

    def set_archived(self, dataset: Dataset, archived: bool) -> Dataset:
        """Archive or unarchive; idempotent, and the first archive time is kept."""
        if archived != (dataset.archived_at is not None):
            self._shelf(dataset).remove(dataset)
            now = self._world.now()
            dataset.archived_at = now if archived else None
            dataset.updated_at = now
            self._shelf(dataset).add(dataset)
        return dataset

    def delete(self, key: ApiKey, dataset: Dataset) -> dict[str, Any]:
        """Delete the dataset (``admin`` or higher) with its images and exports.

        Returns the API's deletion summary; a file another dataset's copy still shares is
        retained, not deleted. A public dataset is refused (400): Explore lists it, and
        others may be importing it, until it is unpublished.
        """
        world = self._world
        if dataset.visibility == "public":
            raise InvalidRequest(
                f"Dataset '{dataset.name}' is public: unpublish it from Explore before "
                "deleting it.",
                status=400,
            )
        images = world.dataset_images(dataset, archived=True)
        service = world.image_service
        # A file is shared when more of the world's images use it than this dataset's do.
        own: dict[str, int] = {}
        for image in images:
            blob = service.blob(image)
            own[blob] = own.get(blob, 0) + 1
        blobs = set(own)
        shared = {blob for blob, count in own.items() if service.blob_users(blob) > count}
        summary = {
            "id": dataset.id,
            "name": dataset.name,
            "deleted": True,
            "images_deleted": len(images),
            "directories_deleted": len(world.directory_service.of_dataset(dataset)),
            "gcs_blobs_deleted": len(blobs - shared),
            "gcs_blobs_retained_for_forks": len(shared),
        }
        service.remove(images)
        world.directory_service.drop(dataset)
        for export in list(world.export_service.of_dataset(dataset.id).values()):
            world.export_service.delete(key, export)
        self._unfile(dataset)
        return summary

    def insights(self, dataset: Dataset) -> dict[str, Any]:
        """Totals, stages, class balance, density and dimensions over the live images."""
        images = self._world.dataset_images(dataset)
        annotations = [a for image in images for a in image.annotations]
        class_images: dict[str, int] = {}
        for image in images:
            for name in dict.fromkeys(str(a.get("name")) for a in image.annotations):
                class_images[name] = class_images.get(name, 0) + 1
        lowest = [m for m in (min_confidence(image) for image in images) if m is not None]
        flagged = [m for m in lowest if m < 1.0]
        sized = [(i.width, i.height) for i in images if i.width and i.height]
        sizes: dict[tuple[int, int], int] = {}
        for size in sized:
            sizes[size] = sizes.get(size, 0) + 1
        return {
            "total_images": len(images),
            "total_annotations": len(annotations),
            "annotated_images": sum(1 for i in images if i.annotations),
            "unannotated_images": sum(1 for i in images if not i.annotations),
            "avg_annotations_per_image": (
                round(len(annotations) / len(images), 2) if images else 0.0
            ),
            "total_bytes": sum(i.file_size for i in images),
            "status_counts": {s: sum(1 for i in images if i.status == s) for s in IMAGE_STATUSES},
            "class_annotation_counts": _counts(str(a.get("name")) for a in annotations),
            "class_image_counts": class_images,
            "type_counts": _counts(str(a.get("type")) for a in annotations),
            "annotation_density": _counts(_density(len(i.annotations)) for i in images),
            "dimensions": {
                "min_width": min((w for w, _ in sized), default=None),
                "max_width": max((w for w, _ in sized), default=None),
                "avg_width": round(sum(w for w, _ in sized) / len(sized)) if sized else None,
                "min_height": min((h for _, h in sized), default=None),
                "max_height": max((h for _, h in sized), default=None),
                "avg_height": round(sum(h for _, h in sized) / len(sized)) if sized else None,
                "orientation": {
                    "landscape": sum(1 for w, h in sized if w > h),
                    "portrait": sum(1 for w, h in sized if w < h),
                    "square": sum(1 for w, h in sized if w == h),
                },
                "sizes": [
                    {"w": w, "h": h, "count": n}
                    for (w, h), n in sorted(sizes.items(), key=lambda s: (-s[1], s[0]))[:200]
                ],
                "distinct_size_count": len(sizes),
                "images_with_dimensions": len(sized),
                "images_missing_dimensions": len(images) - len(sized),
            },
            "model_confidence": (
                {
                    "flagged": len(flagged),
                    "lowest": min(flagged),
                    "avg_flagged": round(sum(flagged) / len(flagged), 4),
                    "buckets": {
                        "lt50": sum(1 for m in flagged if m < 0.5),
                        "b50_70": sum(1 for m in flagged if 0.5 <= m < 0.7),
                        "b70_90": sum(1 for m in flagged if 0.7 <= m < 0.9),
                        "b90_100": sum(1 for m in flagged if m >= 0.9),
                    },
                }
                if flagged
                else None
            ),
        }

    def add_synthetic_images(
        self, dataset: Dataset, count: int, *, completed: int, annotations_per_image: int = 2
    ) -> list[Image]:
        """Add ``count`` labelled images (the first ``completed`` of them complete).

        Their bytes are made on demand. Each has ``annotations_per_image`` slots whose
        classes cycle through the dataset's; a slot holds an annotation of its class in
        each type the class is defined with (a box, a polygon, a keypoint, a polyline),
        and the image is tagged with its first slot's class: whatever a pipeline learns
        from, a class defined for it has labels to learn.
        """
        world = self._world
        kinds: dict[str, list[str]] = {}
        for definition in dataset.classes:
            kind = str(class_kind(definition.get("type") or "bbox"))
            kinds.setdefault(str(definition["name"]), []).append(kind)
        names = list(kinds) or ["object"]
        width, height = SYNTHETIC_SIZE
        start = len(dataset.image_ids)
        added = []
        for n in range(start, start + count):
            filename = f"img-{n + 1:05d}.jpg"
            while world.image_service.find(dataset, "/", filename) is not None:
                filename = f"img-{n + 1:05d}-{world.ids.hex(4)}.jpg"
            slots = [names[(n + a) % len(names)] for a in range(annotations_per_image)]
            image = Image(
                id=world.ids.uuid(),
                organization_id=dataset.organization_id,
                dataset_id=dataset.id,
                filename=filename,
                directory_path="/",
                content_type="image/jpeg",
                file_size=0,
                width=width,
                height=height,
                created_at=world.now(),
                status="complete" if n - start < completed else "new",
                tags=slots[:1],
                annotations=[
                    _synthetic(f"{n + 1:05d}-{a}{_SUFFIX[kind]}", name, kind, a)
                    for a, name in enumerate(slots)
                    for kind in kinds.get(name, ["bbox"])
                ],
            )
            added.append(world.image_service.add(dataset, image))
        return added


def with_colors(classes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy class definitions, giving each one without a colour the next unused palette colour.

    Once every palette colour is taken, colours repeat by the class's place in the list.
    """
    taken = {str(c["color"]).lower() for c in classes if c.get("color")}
    free = [color for color in CLASS_COLORS if color not in taken]
    colored = []
    for i, definition in enumerate(classes):
        entry = dict(definition)
        if not entry.get("color"):
            entry["color"] = free.pop(0) if free else CLASS_COLORS[i % len(CLASS_COLORS)]
        colored.append(canonical_class(entry))
    return colored


def canonical_class(definition: dict[str, Any]) -> dict[str, Any]:
    """A class definition with its keys in the API's order (name, type, colour,
    attributes, skeleton, then any other): a dataset answers with the same bytes however
    its classes were written (a colour given or drawn, a scenario's keys sorted)."""
    ordered = {k: definition[k] for k in _CLASS_KEYS if k in definition}
    ordered.update((k, v) for k, v in definition.items() if k not in ordered)
    return ordered


def check_annotation_types(types: Sequence[Any], loc: tuple[str | int, ...]) -> list[str]:
    """Refuse (422) an annotation type a dataset cannot allow."""
    errors = [
        field_error(
            (*loc, i),
            "Input should be " + ", ".join(f"'{t}'" for t in ANNOTATION_TYPES),
            "literal_error",
        )
        for i, kind in enumerate(types)
        if kind not in ANNOTATION_TYPES
    ]
    if errors:
        bad = ", ".join(repr(types[int(e["loc"][-1])]) for e in errors)
        raise InvalidRequest(
            f"Unknown annotation type(s) {bad}; a dataset allows {', '.join(ANNOTATION_TYPES)}.",
            errors=errors,
        )
    return list(dict.fromkeys(str(t) for t in types))


def check_classes(classes: Sequence[Any], loc: tuple[str | int, ...]) -> list[dict[str, Any]]:
    """Validate class definitions; return them with absent values and unknown keys dropped.

    Keys the API does not model are ignored (as its request models do); a class is keyed
    by name and type (``box`` and ``bbox`` one type), so the same pair twice is refused.
    """
    errors: list[FieldError] = []
    cleaned: list[dict[str, Any]] = []
    seen: set[tuple[Any, Any]] = set()
    for i, definition in enumerate(classes):
        at = (*loc, i)
        if not isinstance(definition, dict):
            errors.append(field_error(at, "Input should be a valid dictionary", "dict_type"))
            continue
        entry = {k: definition[k] for k in _CLASS_KEYS if definition.get(k) is not None}
        errors.extend(_class_errors(entry, at))
        pair = (entry.get("name"), class_kind(entry.get("type")))
        # A non-string name or type is already an error above, and may be unhashable.
        if isinstance(pair[0], str) and isinstance(pair[1], (str, type(None))):
            if pair in seen:
                errors.append(
                    field_error((*at, "name"), f"Duplicate class {pair[0]!r}", "value_error")
                )
            seen.add(pair)
        cleaned.append(entry)
    if errors:
        raise InvalidRequest(
            "Invalid class definitions: " + describe(errors, limit=None),
            errors=errors,
        )
    return cleaned


def _class_errors(entry: dict[str, Any], at: tuple[str | int, ...]) -> list[FieldError]:
    errors = []
    name = entry.get("name")
    if not isinstance(name, str):
        errors.append(field_error((*at, "name"), "Field required (a string)", "missing"))
    elif not 1 <= len(name) <= CLASS_NAME_LIMIT or not name.strip():
        errors.append(field_error((*at, "name"), _NAME_LENGTH, "string_length"))
    if "type" in entry and not isinstance(entry["type"], str):
        errors.append(field_error((*at, "type"), "Input should be a valid string", "string_type"))
    color = entry.get("color")
    if color is not None and not (isinstance(color, str) and _COLOR.match(color)):
        errors.append(
            field_error(
                (*at, "color"), "Input should be a hex colour like '#e6194b'", "value_error"
            )
        )
    attributes = entry.get("attributes")
    if attributes is not None:
        errors.extend(_attribute_errors(attributes, (*at, "attributes")))
    skeleton = entry.get("skeleton")
    if skeleton is not None:
        errors.extend(_skeleton_errors(skeleton, (*at, "skeleton")))
    return errors


def _attribute_errors(attributes: Any, at: tuple[str | int, ...]) -> list[FieldError]:
    if not isinstance(attributes, list):
        return [field_error(at, "Input should be a valid list", "list_type")]
    errors = []
    for j, attribute in enumerate(attributes):
        where = (*at, j)
        if not isinstance(attribute, dict):
            errors.append(field_error(where, "Input should be a valid dictionary", "dict_type"))
            continue
        name = attribute.get("name")
        if not isinstance(name, str):
            errors.append(field_error((*where, "name"), "Field required (a string)", "missing"))
        elif not 1 <= len(name) <= CLASS_NAME_LIMIT:
            errors.append(field_error((*where, "name"), _NAME_LENGTH, "string_length"))
        if attribute.get("type", "text") not in ATTRIBUTE_TYPES:
            errors.append(
                field_error(
                    (*where, "type"),
                    "Input should be " + ", ".join(f"'{t}'" for t in ATTRIBUTE_TYPES),
                    "literal_error",
                )
            )
        values = attribute.get("values")
        if values is not None and not (
            isinstance(values, list) and all(isinstance(v, str) for v in values)
        ):
            errors.append(
                field_error((*where, "values"), "Input should be a list of strings", "list_type")
            )
    return errors


def _skeleton_errors(skeleton: Any, at: tuple[str | int, ...]) -> list[FieldError]:
    if not isinstance(skeleton, dict):
        return [field_error(at, "Input should be a valid dictionary", "dict_type")]
    nodes = skeleton.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        return [field_error((*at, "nodes"), "List should have at least 1 item", "too_short")]
    errors = []
    for j, node in enumerate(nodes):
        where = (*at, "nodes", j)
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            errors.append(field_error(where, "A joint needs a name", "missing"))
            continue
        for axis in ("x", "y"):
            value = node.get(axis, 0.5)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (0 <= value <= 1)
            ):
                errors.append(
                    field_error((*where, axis), "Input should be between 0 and 1", "range_error")
                )
    edges = skeleton.get("edges", [])
    if not isinstance(edges, list):
        return [*errors, field_error((*at, "edges"), "Input should be a valid list", "list_type")]
    for j, edge in enumerate(edges):
        if not (
            isinstance(edge, list)
            and len(edge) == 2
            and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(nodes) for v in edge
            )
        ):
            errors.append(
                field_error(
                    (*at, "edges", j), "An edge is a pair of 0-based joint indices", "value_error"
                )
            )
    return errors


def _class_key(definition: dict[str, Any]) -> tuple[str, object]:
    return str(definition["name"]), class_kind(definition.get("type"))


def _apply_edit(
    stored: list[dict[str, Any]], base: list[dict[str, Any]], wanted: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply the edit ``base -> wanted`` (classes added, removed, changed) to ``stored``.

    Classes are keyed by (name, type), ``box`` and ``bbox`` one type. A class another
    writer added since ``base`` was read is not in the edit, so it survives.
    """
    before = {_class_key(c): c for c in base}
    after = {_class_key(c): c for c in wanted}
    removed = before.keys() - after.keys()
    changed = {k: c for k, c in after.items() if before.get(k) != c}
    merged = []
    for definition in stored:
        key = _class_key(definition)
        if key in removed:
            continue
        merged.append(changed.pop(key, definition))
    # What is left was added by the edit, or changed by it after another writer removed it.
    merged.extend(changed.values())
    return merged


def _counts(keys: Iterable[str]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for key in keys:
        counted[key] = counted.get(key, 0) + 1
    return counted


def _density(count: int) -> str:
    """The annotations-per-image bucket an image falls in."""
    if count <= 1:
        return str(count)
    return "2-5" if count <= 5 else "6-10" if count <= 10 else "11+"


# The first type keeps the id a box always had; another type of the same slot is told apart.
_SUFFIX = {"bbox": "", "polygon": "-polygon", "keypoint": "-keypoint", "polyline": "-polyline"}


def _synthetic(suffix: str, name: str, kind: str, index: int) -> dict[str, Any]:
    """One annotation of ``kind``, its shape in the ``index``-th slot."""
    x, y, w, h = 40.0 + 90 * index, 60.0, 80.0, 120.0
    annotation: dict[str, Any] = {"id": f"synthetic-{suffix}", "name": name, "type": kind}
    if kind == "keypoint":
        annotation["keypoint"] = {"x": x + w / 2, "y": y + h / 2}
    else:
        annotation["bounding_box"] = {"x": x, "y": y, "w": w, "h": h}
    if kind == "polygon":
        corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
        annotation["polygon"] = {"paths": [[{"x": cx, "y": cy} for cx, cy in corners]]}
    elif kind == "polyline":
        annotation["polyline"] = {"path": [{"x": x, "y": y}, {"x": x + w, "y": y + h}]}
    annotation["confidence"] = 1.0
    annotation["attributes"] = []
    if kind == "keypoint":
        # Keypoint pipelines group points by instance: each slot is an instance of its own.
        annotation["instance_id"] = index + 1
    return annotation
