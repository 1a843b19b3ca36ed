"""Exports: a frozen selection of a dataset's images, ready for training."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pictograph_testing.world.errors import Conflict
from pictograph_testing.world.state import Export

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.state import Dataset, World

__all__ = ["ExportService"]


class ExportService:
    """Create exports and keep their lifecycle."""

    def __init__(self, world: World) -> None:
        self._world = world

    def create(
        self,
        dataset: Dataset,
        name: str,
        *,
        export_format: str = "pictograph",
        include_images: bool = False,
        status_filter: str | None = None,
        class_filter: Sequence[str] | None = None,
        status: str = "pending",
    ) -> Export:
        """Freeze the dataset's images that match the filters into a new export.

        ``status_filter`` matches the image status exactly (``None`` or ``"all"``: every
        stage); ``class_filter`` keeps images with at least one annotation of those classes.
        """
        world = self._world
        if any(e.dataset_id == dataset.id and e.name == name for e in world.exports.values()):
            raise Conflict(f"An export named '{name}' already exists in dataset '{dataset.name}'")
        wanted = None if status_filter in (None, "all") else status_filter
        classes = set(class_filter) if class_filter else None
        images = [
            image
            for image in world.dataset_images(dataset)
            if (wanted is None or image.status == wanted)
            and (classes is None or any(a.get("name") in classes for a in image.annotations))
        ]
        annotations = sum(
            sum(1 for a in image.annotations if classes is None or a.get("name") in classes)
            for image in images
        )
        export = Export(
            id=world.ids.uuid(),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            name=name,
            format=export_format,
            include_images=include_images,
            status=status,
            status_filter=wanted,
            class_filter=list(class_filter) if class_filter else None,
            image_ids=[image.id for image in images],
            annotation_count=annotations,
            created_at=world.now(),
            error_message="Export failed." if status == "failed" else None,
        )
        world.exports[export.id] = export
        return export
