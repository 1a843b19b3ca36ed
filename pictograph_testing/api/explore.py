"""``/api/v1/developer/public/``: Explore's catalog and the import of a public dataset.

Every organization reads the same catalog: the datasets and the public, ready models any
organization published. A public item is named by its organization's slug and its own
slug or display name; a private one, or none, is one and the same 404, so another
organization's private data is never confirmed. From SDK 1.69.124 (``EXPLORE``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api import messages
from pictograph_testing.api.dialects import EXPLORE
from pictograph_testing.api.spec import NAME, Field, Obj, Param, Str
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import MODEL_TYPES
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error
from pictograph_testing.world.explore import DATASET_SORTS, MODEL_SORTS
from pictograph_testing.world.models import slugify

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Dataset, Model, PublicImport

__all__ = [
    "LISTED_CLASSES",
    "import_payload",
    "public_dataset_payload",
    "public_model_payload",
]

LISTED_CLASSES = 5
"""The classes a row of the dataset listing carries (the detail carries them all)."""
PAGE_CAP = 100
"""The most rows a page holds (``limit`` above it is capped, as the SDK documents)."""


@endpoint(
    "GET",
    "public/datasets",
    summary="Public datasets of every organization (Explore)",
    sdk=("explore.datasets", "explore.iter_datasets"),
    reply=Page("PublicDataset"),
    query=(
        *page_params(PAGE_CAP),
        Param("search", Str()),
        Param("class", Str()),
        Param("sort", Str(enum=DATASET_SORTS), default="recent"),
    ),
    span=EXPLORE,
)
def list_datasets(call: Call) -> Reply:
    args = call.args
    found = call.world.catalog.datasets(
        sort=args["sort"], search=args["search"], class_name=args["class"]
    )
    chunk, pagination = page(found, args["offset"], args["limit"])
    rows = [public_dataset_payload(call, d, detail=False) for d in chunk]
    return reply({"data": rows, "pagination": pagination})


@endpoint(
    "GET",
    "public/datasets/{organization}/{dataset}",
    summary="One public dataset: its card, license, every class and its counts",
    sdk=("explore.dataset",),
    reply=Data("PublicDataset"),
    span=EXPLORE,
)
def get_dataset(call: Call) -> Reply:
    return reply({"data": public_dataset_payload(call, _public_dataset(call), detail=True)})


@endpoint(
    "GET",
    "public/models",
    summary="Public, ready models of every organization (Explore)",
    sdk=("explore.models", "explore.iter_models"),
    reply=Page("PublicModel"),
    query=(
        *page_params(PAGE_CAP),
        Param("search", Str()),
        Param("model_type", Str(enum=MODEL_TYPES)),
        Param("sort", Str(enum=MODEL_SORTS), default="recent"),
    ),
    span=EXPLORE,
)
def list_models(call: Call) -> Reply:
    args = call.args
    found = call.world.catalog.models(
        sort=args["sort"], search=args["search"], model_type=args["model_type"]
    )
    chunk, pagination = page(found, args["offset"], args["limit"])
    return reply({"data": [public_model_payload(call, m) for m in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "public/datasets/{organization}/{dataset}/import",
    summary="Import a public dataset into your organization as a private copy (a job)",
    sdk=("datasets.import_public",),
    reply=Data("PublicDatasetImport"),
    status=202,
    body=Obj({"name": Field(NAME)}),
    body_optional=True,
    role="member",
    action="create datasets",
    errors=(402, 403),
    span=EXPLORE,
)
def import_dataset(call: Call) -> Reply:
    name = call.fields().get("name")
    if name is not None and "/" in name:
        raise InvalidRequest(
            messages.SLASH_IN_NAME.format(name="name", value=name),
            errors=[field_error(("body", "name"), "Value must not contain '/'", "value_error")],
        )
    job = call.world.public_imports.start(
        call.key, call.path_args["organization"], call.path_args["dataset"], name
    )
    return reply({"data": import_payload(call, job)}, status=202)


@endpoint(
    "GET",
    "public/imports/{import_id}",
    summary="A public-dataset import's progress and outcome",
    sdk=("datasets.get_public_import", "datasets.wait_for_public_import"),
    reply=Data("PublicDatasetImport"),
    span=EXPLORE,
)
def get_import(call: Call) -> Reply:
    job = call.world.public_imports.get(call.key, call.path_args["import_id"])
    return reply({"data": import_payload(call, job)})


def _public_dataset(call: Call) -> Dataset:
    organization, ref = call.path_args["organization"], call.path_args["dataset"]
    found = call.world.catalog.dataset(organization, ref)
    if found is None:
        raise NotFound(f"Public dataset '{organization}/{ref}' not found")
    return found


def _organization(call: Call, organization_id: str) -> dict[str, Any]:
    org = call.world.organizations[organization_id]
    return {"id": org.id, "name": org.name, "slug": org.slug, "is_public": org.is_public}


def public_dataset_payload(call: Call, dataset: Dataset, *, detail: bool) -> dict[str, Any]:
    """A ``PublicDataset``: a listing's row (its first classes), or the detail (all of
    them, and its card)."""
    world = call.world
    images = world.dataset_images(dataset)
    classes = dataset.classes if detail else dataset.classes[:LISTED_CLASSES]
    return {
        "id": dataset.id,
        "name": dataset.name,
        "slug": slugify(dataset.name),
        "description": dataset.description,
        "organization_id": dataset.organization_id,
        "organization": _organization(call, dataset.organization_id),
        "image_count": len(images),
        "annotation_count": sum(len(image.annotations) for image in images),
        "annotation_types": list(dataset.annotation_types),
        "classes": [dict(c) for c in classes],
        "class_count": len(dataset.classes),
        "top_auto_tags": list(dataset.auto_tags),
        "license_id": dataset.license_id,
        "star_count": dataset.star_count,
        "is_fork": dataset.imported_from is not None,
        "hf_repo": None,
        "readme": dataset.readme if detail else None,
        "published_at": call.iso(dataset.published_at),
        "created_at": call.iso(dataset.created_at),
        "updated_at": call.iso(dataset.updated_at),
    }


def public_model_payload(call: Call, model: Model) -> dict[str, Any]:
    """A ``PublicModel``: what Explore shows of a public, ready model."""
    current = model.current
    return {
        "id": model.id,
        "organization_id": model.organization_id,
        "organization": _organization(call, model.organization_id),
        "name": model.name,
        "slug": slugify(model.name),
        "description": model.description,
        "model_type": model.model_type,
        "architecture": current.architecture,
        "visibility": model.visibility,
        "status": model.status,
        "version": current.label,
        "precision": current.precision,
        "metrics": current.metrics,
        "class_mapping": {"classes": current.classes},
        "training_config": current.training_config,
        "license_id": model.license_id,
        "star_count": model.star_count,
        "weights_size_bytes": None,
        "is_fork": model.forked_from_model_id is not None,
        "hf_repo": None,
        "created_at": call.iso(model.created_at),
        "updated_at": call.iso(model.updated_at),
    }


def import_payload(call: Call, job: PublicImport) -> dict[str, Any]:
    """A ``PublicDatasetImport``: the import as it stands on the clock now."""
    imports = call.world.public_imports
    copy = call.world.datasets.get(job.dataset_id)
    return {
        "import_id": job.id,
        "status": imports.status(job),
        "dataset_id": job.dataset_id if copy is not None else None,
        "dataset_name": copy.name if copy is not None else job.dataset_name,
        "source": {
            "organization": job.source_organization,
            "dataset": job.source_name,
            "dataset_id": job.source_id,
        },
        "total_images": job.total_images,
        "image_count": imports.copied(job),
        "progress": imports.progress(job),
        "error": job.error,
        "created_at": call.iso(job.created_at),
        "completed_at": call.iso(job.completed_at),
    }
