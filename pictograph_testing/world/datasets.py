"""Datasets and their images: creation, synthetic images for tests, derived counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.world.errors import Conflict
from pictograph_testing.world.state import Dataset, Image

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.state import World

__all__ = ["CLASS_COLORS", "DatasetService"]

CLASS_COLORS = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#469990", "#9a6324", "#800000", "#808000", "#000075", "#a9a9a9", "#e6beff",
)  # fmt: skip
"""The SDK's own palette: a class saved without a colour gets the next one."""
SYNTHETIC_SIZE = (640, 480)


class DatasetService:
    """Create datasets and fill them with images."""

    def __init__(self, world: World) -> None:
        self._world = world

    def create(
        self,
        organization_id: str,
        name: str,
        *,
        annotation_types: Sequence[str] = ("bbox",),
        classes: Sequence[dict[str, Any]] = (),
        description: str | None = None,
        readme: str | None = None,
    ) -> Dataset:
        """Add a dataset; 409 when the organization already has one of that name."""
        world = self._world
        if any(
            d.organization_id == organization_id and d.name == name for d in world.datasets.values()
        ):
            raise Conflict(f"A dataset named '{name}' already exists")
        now = world.now()
        dataset = Dataset(
            id=world.ids.uuid(),
            organization_id=organization_id,
            name=name,
            description=description,
            annotation_types=list(annotation_types),
            classes=with_colors(classes),
            created_at=now,
            updated_at=now,
            readme=readme,
        )
        world.datasets[dataset.id] = dataset
        return dataset

    def add_synthetic_images(
        self, dataset: Dataset, count: int, *, completed: int, annotations_per_image: int = 2
    ) -> list[Image]:
        """Add ``count`` annotated images (the first ``completed`` of them complete).

        Their bytes are made on demand; each carries ``annotations_per_image`` boxes whose
        classes cycle through the dataset's.
        """
        world = self._world
        names = dataset.class_names or ["object"]
        width, height = SYNTHETIC_SIZE
        start = len(dataset.image_ids)
        added = []
        for n in range(start, start + count):
            image = Image(
                id=world.ids.uuid(),
                organization_id=dataset.organization_id,
                dataset_id=dataset.id,
                filename=f"img-{n + 1:05d}.jpg",
                directory_path="/",
                content_type="image/jpeg",
                file_size=0,
                width=width,
                height=height,
                created_at=world.now(),
                status="complete" if n - start < completed else "new",
                annotations=[
                    _box(f"{n + 1:05d}-{a}", names[(n + a) % len(names)], a)
                    for a in range(annotations_per_image)
                ],
            )
            world.images[image.id] = image
            dataset.image_ids.append(image.id)
            added.append(image)
        return added


def with_colors(classes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy class definitions, giving each one without a colour the next palette colour."""
    colored = []
    for i, definition in enumerate(classes):
        entry = dict(definition)
        if not entry.get("color"):
            entry["color"] = CLASS_COLORS[i % len(CLASS_COLORS)]
        colored.append(entry)
    return colored


def _box(suffix: str, name: str, index: int) -> dict[str, Any]:
    return {
        "id": f"synthetic-{suffix}",
        "name": name,
        "type": "bbox",
        "bounding_box": {"x": 40.0 + 90 * index, "y": 60.0, "w": 80.0, "h": 120.0},
        "confidence": 1.0,
        "attributes": [],
    }
