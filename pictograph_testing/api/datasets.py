"""``/api/v1/developer/datasets/``: the dataset reads a training flow makes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Call, Reply, page, reply
from pictograph_testing.world.errors import NotFound

if TYPE_CHECKING:
    from pictograph_testing.world.state import Dataset

__all__ = ["dataset_payload", "route"]


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", ("",):
            limit, offset = call.page_window(cap=1000, default=100)
            datasets = sorted(
                (
                    d
                    for d in call.world.datasets.values()
                    if d.organization_id == call.key.organization_id
                ),
                key=lambda d: (d.created_at, d.name),
                reverse=True,
            )
            chunk, pagination = page(datasets, offset, limit)
            return reply(
                {"data": [dataset_payload(call, d) for d in chunk], "pagination": pagination}
            )
        case "GET", (ref,) if ref:
            dataset = call.world.dataset(call.key.organization_id, ref)
            return reply({"data": dataset_payload(call, dataset)})
    raise NotFound(f"No datasets route {call.method} /datasets/{'/'.join(call.segments)}")


def dataset_payload(call: Call, dataset: Dataset) -> dict[str, Any]:
    everything = call.world.dataset_images(dataset, archived=True)
    live = [image for image in everything if not image.is_archived]
    return {
        "id": dataset.id,
        "organization_id": dataset.organization_id,
        "name": dataset.name,
        "description": dataset.description,
        "annotation_types": dataset.annotation_types,
        "classes": dataset.classes,
        "image_count": len(live),
        "completed_image_count": sum(1 for image in live if image.status == "complete"),
        "archived_image_count": len(everything) - len(live),
        "total_size": sum(image.file_size for image in live),
        "is_public": False,
        "is_archived": False,
        "archived_at": None,
        "storage_class": "standard",
        "created_at": call.iso(dataset.created_at),
        "updated_at": call.iso(dataset.updated_at),
    }
