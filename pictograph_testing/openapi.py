"""The OpenAPI document of the fake's public routes, built from one route table.

:data:`ROUTES` lists every route the fake serves under ``/api/v1/developer/`` (and the
signed storage URLs), with the SDK methods that call it; :func:`openapi_document` turns
the table into an OpenAPI 3.0 document. The offline server serves it at
``GET /_fake/openapi.json``, and CI runs schemathesis against the server with it: no 5xx,
every status and body as documented. Enumerations come from the catalog and the world
(one source of truth), so the document cannot drift from what the fake accepts.

The document describes *this fake*: its statuses, its strict request bodies (an unknown
field is a 422) and the fields it sends. Objects in responses stay open (extra keys are
allowed), as the SDK's own models ignore extra keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pictograph_testing.api.app import API_PREFIX
from pictograph_testing.catalog import GPU_TIERS, OPERATIONS, PIPELINES
from pictograph_testing.world.exports import EXPORT_FORMATS, EXPORT_STATUSES
from pictograph_testing.world.feeds import JOB_STATUS_FILTERS, JOB_STATUSES
from pictograph_testing.world.images import SPLITS
from pictograph_testing.world.state import IMAGE_STATUSES
from pictograph_testing.world.storage import STORAGE_PREFIX

__all__ = ["ROUTES", "Param", "Route", "openapi_document"]

Schema = dict[str, Any]

OPENAPI_VERSION = "3.0.3"
RUN_STATUSES = ("pending", "queued", "running", "completed", "failed", "cancelled")
MODEL_STATUSES = ("training", "ready", "failed", "archived")
MODEL_TYPES = (
    "object_detection",
    "semantic_segmentation",
    "instance_segmentation",
    "classification",
    "keypoint_detection",
)
ALWAYS = (401, 404, 422)
"""Errors every authenticated route may answer: a bad key, an unknown name, a bad request."""

# Examples name the `ready-to-train` scenario's world, so a schemathesis run against a
# server started with it reaches the routes' success paths, not only their 404s.
EXAMPLE_DATASET = "road-signs"
EXAMPLE_EXPORT = "road-signs-v1"


# ── schema builders ──


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _s(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _null(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def _int(**extra: Any) -> Schema:
    return {"type": "integer", **extra}


def _enum(values: tuple[str, ...] | list[str]) -> Schema:
    return {"type": "string", "enum": list(values)}


def _list(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


_BOOL: Schema = {"type": "boolean"}
_NUMBER: Schema = {"type": "number"}
_OBJECT: Schema = {"type": "object"}
_TIME: Schema = _s(format="date-time")
_NAME: Schema = _s(minLength=1, maxLength=100, pattern=r"\S")


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A response object: these keys (required first); others may come too."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    return schema


def _body(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A request body as the fake checks it: an unknown key is refused with 422."""
    return {**_obj(required, optional), "additionalProperties": False}


def _data(schema: Schema) -> Schema:
    return _obj({"data": schema})


def _page(item: Schema, key: str = "data") -> Schema:
    return _obj({key: _list(item), "pagination": _ref("Pagination")})


# ── components ──

_PIPELINE = _enum(list(PIPELINES))
_GPU = _enum(list(GPU_TIERS))

SCHEMAS: dict[str, Schema] = {
    "Error": _obj(
        {
            "error": _obj({"code": _s(), "message": _s(), "details": _OBJECT}),
            "detail": {},
        }
    ),
    "Pagination": _obj(
        {"limit": _int(minimum=1), "offset": _int(minimum=0), "total": _int(), "has_more": _BOOL}
    ),
    "TrainingRun": _obj(
        {
            "id": _s(format="uuid"),
            "organization_id": _s(),
            "name": _s(),
            "pipeline_type": _PIPELINE,
            "status": _enum(RUN_STATUSES),
            "progress": _int(minimum=0, maximum=100),
            "current_epoch": _int(minimum=0),
            "metrics": _OBJECT,
            "config": _OBJECT,
            "created_at": _TIME,
        },
        {
            "dataset_id": _null(_s()),
            "export_id": _null(_s()),
            "export_name": _null(_s()),
            "model_id": _null(_s()),
            "gpu_type": _null(_GPU),
            "total_epochs": _null(_int()),
            "eta_seconds": _null(_int(minimum=0)),
            "training_time_seconds": _null(_int(minimum=0)),
            "error_message": _null(_s()),
            "warnings": _null(_list(_OBJECT)),
            "started_at": _null(_TIME),
            "completed_at": _null(_TIME),
            "created_by": _null(_s()),
        },
    ),
    "TrainingQuote": _obj(
        {
            "dataset_id": _s(),
            "dataset_name": _s(),
            "export_id": _s(),
            "export_name": _s(),
            "pipeline_type": _PIPELINE,
            "requested_gpu_type": _s(),
            "gpu_type": _GPU,
            "epochs": _int(),
            "estimate": _obj(
                {"minutes": _int(), "micro_usd_per_minute": _int(), "total_micro_usd": _int()},
                {"note": _s()},
            ),
            "balance": _obj(
                {
                    "budget_remaining_micro_usd": _int(),
                    "required_to_start_micro_usd": _int(),
                    "covers_estimate": _BOOL,
                }
            ),
            "can_start": _BOOL,
        },
        {
            "image_count": _null(_int()),
            "annotation_count": _null(_int()),
            "fits": _null(_BOOL),
            "recommended_gpu_type": _null(_s()),
            "gpu_autoselect": _null(_OBJECT),
            "tiers": _list(
                _obj(
                    {"gpu_type": _s(), "total_mib": _int(), "micro_usd_per_minute": _int()},
                    {"fits": _null(_BOOL)},
                )
            ),
            "classes": _list(_s()),
            "class_support": _null(_OBJECT),
            "deleted_images": _null(_int()),
            "blocking": _list(_obj({"code": _s(), "message": _s()})),
            "config": _OBJECT,
        },
    ),
    "BulkResult": _obj(
        {"succeeded": _list(_s()), "not_found": _list(_s()), "count": _int(minimum=0)}
    ),
    "LedgerEntry": _obj(
        {
            "id": _s(),
            "operation": _s(),
            "amount": _int(),
            "balance_after": _int(),
            "created_at": _TIME,
        },
        {"description": _null(_s()), "metadata": _null(_OBJECT)},
    ),
    "CreditBalance": _obj(
        {
            "included_allowance_micro_usd": _int(),
            "included_remaining_micro_usd": _int(),
            "budget_micro_usd": _int(),
            "period_spend_micro_usd": _int(),
            "budget_remaining_micro_usd": _int(),
            "credits_remaining": _int(),
            "recent_history": _list(_ref("LedgerEntry")),
        },
        {
            "period_overage_micro_usd": _int(),
            "period_start": _TIME,
            "credits_reset_at": _TIME,
            "credits_monthly_allowance": _int(),
        },
    ),
    "CreditHistory": _obj(
        {
            "entries": _list(_ref("LedgerEntry")),
            "limit": _int(),
            "offset": _int(),
            "pagination": _ref("Pagination"),
        }
    ),
    "CreditUsage": _obj(
        {
            "range": _enum(("day", "week", "month", "all")),
            "since": _null(_TIME),
            "operations": _list(
                _obj({"operation": _s(), "total_micro_usd": _int(), "event_count": _int()})
            ),
            "total_micro_usd": _int(),
            "total_events": _int(),
        }
    ),
    "CreditEstimate": _obj(
        {
            "operation": _s(),
            "unit": _s(),
            "quantity": _int(minimum=1),
            "micro_usd_per_unit": _int(),
            "total_micro_usd": _int(),
            "remaining_micro_usd": _int(),
            "sufficient": _BOOL,
            "credits_per_unit": _int(),
            "total_credits": _int(),
            "minimum": _int(),
            "credits_remaining": _int(),
        }
    ),
    "Model": _obj(
        {
            "id": _s(format="uuid"),
            "name": _s(),
            "model_type": _enum(MODEL_TYPES),
            "status": _enum(MODEL_STATUSES),
            "visibility": _enum(("private", "public")),
            "metrics": _OBJECT,
            "class_mapping": _OBJECT,
            "version": _s(),
            "precision": _s(),
            "created_at": _TIME,
        },
        {
            "organization_id": _s(),
            "description": _null(_s()),
            "architecture": _null(_s()),
            "training_config": _null(_OBJECT),
            "parent_model_id": _null(_s()),
            "forked_from_model_id": _null(_s()),
            "updated_at": _null(_TIME),
            "current_version_id": _null(_s()),
            "pipeline_type": _null(_s()),
            "dataset_id": _null(_s()),
            "dataset_name": _null(_s()),
            "readme": _null(_s()),
            "license_id": _null(_s()),
        },
    ),
    "ModelVersion": _obj(
        {
            "id": _s(),
            "version_number": _int(),
            "version_label": _s(),
            "created_at": _TIME,
            "is_latest": _BOOL,
            "precision": _s(),
            "metrics": _OBJECT,
        },
        {
            "version_id": _s(),
            "status": _s(),
            "is_current": _BOOL,
            "training_run_id": _null(_s()),
            "architecture": _null(_s()),
            "export_name": _null(_s()),
            "pipeline_provenance": _null(_OBJECT),
        },
    ),
    "ModelVersions": _obj(
        {"versions": _list(_ref("ModelVersion")), "current_version_id": _s()},
        {"pinned_version_id": _null(_s()), "latest_version_id": _s()},
    ),
    "ModelFiles": _obj(
        {
            "versions": _list(_ref("ModelVersion")),
            "files": _list(
                _obj(
                    {"version_id": _s(), "name": _s(), "kind": _s(), "size_bytes": _int()},
                    {"format": _null(_s()), "content_type": _null(_s())},
                )
            ),
        },
        {"pinned_version_id": _null(_s())},
    ),
    "Download": _obj(
        {"download_url": _s()},
        {"filename": _s(), "content_type": _s(), "file_size": _int()},
    ),
    "Deleted": _obj({"id": _s(), "name": _s(), "deleted": _BOOL}),
    "DatasetClass": _obj(
        {"name": _s()},
        {
            "type": _null(_s()),
            "color": _null(_s()),
            "attributes": _null(_list(_OBJECT)),
            "skeleton": _null(_OBJECT),
        },
    ),
    "Dataset": _obj(
        {
            "id": _s(format="uuid"),
            "name": _s(),
            "annotation_types": _list(_s()),
            "classes": _list(_ref("DatasetClass")),
            "image_count": _int(minimum=0),
            "completed_image_count": _int(minimum=0),
            "archived_image_count": _int(minimum=0),
            "total_size": _int(minimum=0),
            "is_archived": _BOOL,
            "created_at": _TIME,
        },
        {
            "organization_id": _s(),
            "description": _null(_s()),
            "readme": _null(_s()),
            "is_public": _BOOL,
            "archived_at": _null(_TIME),
            "storage_class": _s(),
            "updated_at": _null(_TIME),
            "images": _list(_ref("Image")),
        },
    ),
    "DatasetDeleted": _obj(
        {"id": _s(), "name": _s(), "deleted": _BOOL, "images_deleted": _int()},
        {
            "directories_deleted": _int(),
            "gcs_blobs_deleted": _int(),
            "gcs_blobs_retained_for_forks": _int(),
        },
    ),
    "DatasetInsights": _obj(
        {
            "total_images": _int(),
            "total_annotations": _int(),
            "status_counts": _obj({s: _int() for s in IMAGE_STATUSES}),
            "class_annotation_counts": _OBJECT,
        }
    ),
    "DatasetListing": _obj(
        {
            "id": _s(),
            "items": _list(
                _obj(
                    {"id": _s(), "filename": _s()},
                    {
                        "directory_path": _s(),
                        "file_size": _int(),
                        "annotation_count": _int(),
                        "image_url": _null(_s()),
                        "annotation_url": _null(_s()),
                    },
                )
            ),
            "total_items": _int(),
        }
    ),
    "Image": _obj(
        {
            "id": _s(format="uuid"),
            "dataset_id": _s(),
            "filename": _s(),
            "status": _enum(IMAGE_STATUSES),
            "directory_path": _s(),
            "created_at": _TIME,
        },
        {
            "display_name": _null(_s()),
            "split": _null(_enum(SPLITS)),
            "annotation_count": _int(),
            "min_confidence": _null(_NUMBER),
            "file_size": _null(_int()),
            "width": _null(_int()),
            "height": _null(_int()),
            "content_type": _null(_s()),
            "tags": _list(_s()),
            "is_archived": _BOOL,
            "image_url": _null(_s()),
            "thumbnail_url": _null(_s()),
            "annotation_url": _null(_s()),
        },
    ),
    "UploadUrl": _obj(
        {"upload_url": _s(), "filename": _s(), "directory_path": _s()},
        {"expires_in_minutes": _int()},
    ),
    "Annotation": _obj({"id": _s(), "name": _s(), "type": _s()}),
    "SaveResult": _obj(
        {"image_id": _s(), "previous_count": _int(), "new_count": _int(), "status": _s()},
        {"success": _BOOL},
    ),
    "BatchResult": _obj(
        {
            "success": _BOOL,
            "processed": _int(minimum=0),
            "failed": _list(_obj({"id": _s(), "reason": _s()})),
            "affected_directories": _list(_s()),
        },
        {"renamed": _OBJECT, "operation": _null(_s())},
    ),
    "Export": _obj(
        {
            "id": _s(format="uuid"),
            "dataset_id": _s(),
            "name": _s(),
            "format": _enum(EXPORT_FORMATS),
            "status": _enum(EXPORT_STATUSES),
            "image_count": _int(minimum=0),
            "created_at": _TIME,
        },
        {
            "organization_id": _s(),
            "project_id": _s(),
            "dataset_name": _s(),
            "include_images": _BOOL,
            "class_filter": _null(_list(_s())),
            "status_filter": _null(_s()),
            "organize_by_split": _BOOL,
            "error_message": _null(_s()),
            "file_size": _null(_int()),
            "annotation_count": _int(),
            "completed_at": _null(_TIME),
            "expires_at": _null(_TIME),
            "download_url": _null(_s()),
        },
    ),
    "Notification": _obj(
        {"id": _s(), "type": _s(), "title": _s(), "read": _BOOL, "created_at": _TIME},
        {
            "organization_id": _s(),
            "user_id": _null(_s()),
            "message": _null(_s()),
            "metadata": _null(_OBJECT),
        },
    ),
    "Job": _obj(
        {
            "id": _s(),
            "type": _s(),
            "status": _enum(JOB_STATUSES),
            "created_at": _TIME,
        },
        {
            "progress": _null({"type": "number", "minimum": 0, "maximum": 100}),
            "name": _null(_s()),
            "dataset_id": _null(_s()),
            "error": _null(_s()),
            "updated_at": _null(_TIME),
            "completed_at": _null(_TIME),
            "cancel_path": _null(_s()),
            "detail": _null(_OBJECT),
        },
    ),
}

# Request bodies, as strict as the fake's checks.
_DATASET_CLASS = _body(
    {"name": _s(minLength=1, maxLength=120, pattern=r"\S")},
    {
        "type": _enum(("bbox", "polygon", "polyline", "keypoint", "tag")),
        "color": _s(pattern="^#[0-9a-f]{6}$"),
    },
)
_RUN_PLAN = {
    "dataset_name": _s(example=EXAMPLE_DATASET),
    "export_name": _s(example=EXAMPLE_EXPORT),
    "pipeline_type": _PIPELINE,
}
_RUN_OPTIONS = {
    # `auto` too under the current profile; the classic one (the default) refuses it.
    "gpu_type": _GPU,
    "config": _obj({}, {"epochs": _int(minimum=1, maximum=300)}),
    "version_of_model_id": _s(format="uuid"),
}
_BBOX = _body(
    {
        "name": _s(),
        "type": _enum(("bbox",)),
        "bounding_box": _body({"x": _NUMBER, "y": _NUMBER, "w": _NUMBER, "h": _NUMBER}),
    },
    {"id": _s(), "confidence": {"type": "number", "minimum": 0, "maximum": 1}},
)
_IMAGE_IDS = _list(_s(format="uuid"), minItems=1, maxItems=50)


# ── the route table ──


@dataclass(frozen=True)
class Param:
    """A path or query parameter."""

    name: str
    schema: Schema
    where: str = "query"
    required: bool = False
    example: Any = None


@dataclass(frozen=True)
class Route:
    """One route of the fake: what it takes, what it answers, and which SDK calls use it."""

    method: str
    path: str
    """Under ``/api/v1/developer`` (or absolute for storage), OpenAPI path-template style."""
    tag: str
    summary: str
    sdk: tuple[str, ...]
    response: Schema | None
    ok: int = 200
    body: Schema | None = None
    body_optional: bool = False
    params: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()
    """Statuses besides the success and :data:`ALWAYS`."""
    media: str = "application/json"
    public: bool = False
    """Reached without ``X-API-Key`` (signed storage URLs)."""


def _path(name: str, example: str | None = None) -> Param:
    # minLength: an empty segment is another route (``/training/`` is the list).
    return Param(name, _s(minLength=1, pattern=r"^[^/.]"), "path", True, example)


def _limit(cap: int) -> tuple[Param, ...]:
    return (
        Param("limit", _int(minimum=1, maximum=cap)),
        Param("offset", _int(minimum=0, maximum=100_000)),
    )


_RUN = _path("run", "yolox-run-1")
_MODEL = _path("model")
_DATASET = _path("dataset", EXAMPLE_DATASET)
_EXPORT = _path("export", EXAMPLE_EXPORT)
_BY_DATASET = Param("dataset", _s(minLength=1), example=EXAMPLE_DATASET)

ROUTES: tuple[Route, ...] = (
    # ── training ──
    Route(
        "POST",
        "/training/",
        "training",
        "Start a training run",
        ("training.create",),
        _data(_ref("TrainingRun")),
        body=_body({**_RUN_PLAN, "name": _NAME}, _RUN_OPTIONS),
        errors=(400, 402, 403),
    ),
    Route(
        "GET",
        "/training/",
        "training",
        "List training runs, newest first",
        ("training.list", "training.iter"),
        _page(_ref("TrainingRun")),
        params=(
            *_limit(1000),
            Param("dataset_name", _s()),
            Param("status", _enum(RUN_STATUSES)),
        ),
    ),
    Route(
        "POST",
        "/training/quote",
        "training",
        "Check and price a run without starting it",
        ("training.quote",),
        _data(_ref("TrainingQuote")),
        body=_body(_RUN_PLAN, _RUN_OPTIONS),
        errors=(400,),
    ),
    Route(
        "POST",
        "/training/bulk-cancel",
        "training",
        "Cancel many runs",
        ("training.bulk_cancel",),
        _data(_ref("BulkResult")),
        body=_body({"run_ids": _list(_s(), minItems=1, maxItems=20)}),
        errors=(403,),
    ),
    Route(
        "GET",
        "/training/{run}",
        "training",
        "A run by id or name (the newest of that name)",
        ("training.get", "training.wait_for_completion", "jobs.get"),
        _data(_ref("TrainingRun")),
        params=(_RUN,),
    ),
    Route(
        "POST",
        "/training/{run}/cancel",
        "training",
        "Cancel a run",
        ("training.cancel", "jobs.cancel"),
        _data(_ref("TrainingRun")),
        params=(_RUN,),
        errors=(400, 403),
    ),
    # ── credits ──
    Route(
        "GET",
        "/credits/balance",
        "credits",
        "The spendable balance and recent ledger entries",
        ("credits.balance",),
        _ref("CreditBalance"),
    ),
    Route(
        "GET",
        "/credits/history",
        "credits",
        "The ledger, newest first",
        ("credits.history", "credits.iter"),
        _ref("CreditHistory"),
        params=_limit(100),
    ),
    Route(
        "GET",
        "/credits/usage-by-operation",
        "credits",
        "Spend per operation over a window",
        ("credits.usage_by_operation",),
        _ref("CreditUsage"),
        params=(Param("range", _enum(("day", "week", "month", "all"))),),
    ),
    Route(
        "GET",
        "/credits/estimate",
        "credits",
        "Price an operation",
        ("credits.estimate",),
        _ref("CreditEstimate"),
        params=(
            Param("operation", _enum(list(OPERATIONS)), required=True),
            Param("quantity", _int(minimum=1, maximum=1_000_000)),
        ),
        errors=(400,),
    ),
    # ── models ──
    Route(
        "GET",
        "/models/",
        "models",
        "List trained models",
        ("models.list", "models.iter", "models.get_by_name"),
        _page(_ref("Model")),
        params=(
            *_limit(100),
            Param("name", _s()),
            Param("dataset_name", _s()),
            Param("status", _enum(MODEL_STATUSES)),
            Param("model_type", _enum(MODEL_TYPES)),
        ),
    ),
    Route(
        "POST",
        "/models/bulk-delete",
        "models",
        "Delete many models",
        ("models.bulk_delete",),
        _data(_ref("BulkResult")),
        body=_body({"model_ids": _list(_s(), maxItems=20)}),
        errors=(403,),
    ),
    Route(
        "GET",
        "/models/{model}",
        "models",
        "A model by id or name",
        ("models.get", "models.get_by_name"),
        _data(_ref("Model")),
        params=(_MODEL,),
    ),
    Route(
        "PATCH",
        "/models/{model}",
        "models",
        "Rename or describe a model",
        ("models.update",),
        _data(_ref("Model")),
        params=(_MODEL,),
        body=_body(
            {},
            {
                "name": _NAME,
                "description": _s(),
                "readme": _s(),
                "visibility": _enum(("private", "public")),
                "license_id": _s(),
                "license_custom_text": _s(),
            },
        ),
        errors=(403, 409),
    ),
    Route(
        "DELETE",
        "/models/{model}",
        "models",
        "Delete a model",
        ("models.delete",),
        _data(_ref("Deleted")),
        params=(_MODEL,),
        errors=(403,),
    ),
    Route(
        "GET",
        "/models/{model}/versions",
        "models",
        "A model's versions, newest first",
        ("models.versions",),
        _data(_ref("ModelVersions")),
        params=(_MODEL,),
    ),
    Route(
        "PATCH",
        "/models/{model}/current-version",
        "models",
        "Pin a version (or unpin with null)",
        ("models.set_current_version",),
        _data(_ref("ModelVersions")),
        params=(_MODEL,),
        body=_body({"version_id": _null(_s(format="uuid"))}),
        errors=(403,),
    ),
    Route(
        "GET",
        "/models/{model}/files",
        "models",
        "Every file of every version",
        ("models.files",),
        _data(_ref("ModelFiles")),
        params=(_MODEL,),
    ),
    Route(
        "GET",
        "/models/{model}/download",
        "models",
        "A signed URL for the weights",
        ("models.download",),
        _data(_ref("Download")),
        params=(
            _MODEL,
            Param("format", _enum(("onnx", "pytorch", "safetensors", "pte", "engine"))),
            Param("precision", _enum(("fp32", "fp16"))),
        ),
        errors=(400, 409),
    ),
    Route(
        "GET",
        "/models/{model}/files/download",
        "models",
        "A signed URL for one file of one version",
        ("models.download_file",),
        _data(_ref("Download")),
        params=(
            _MODEL,
            Param("version_id", _s(format="uuid"), required=True),
            Param("name", _s(minLength=1), required=True),
        ),
        errors=(400,),
    ),
    # ── datasets ──
    Route(
        "GET",
        "/datasets/",
        "datasets",
        "List datasets, newest first",
        ("datasets.list", "datasets.iter"),
        _page(_ref("Dataset")),
        params=(*_limit(1000), Param("archived", _BOOL)),
    ),
    Route(
        "POST",
        "/datasets/",
        "datasets",
        "Create a dataset",
        ("datasets.create", "images.upload_from_directory"),
        _data(_ref("Dataset")),
        ok=201,
        body=_body(
            {"name": _NAME},
            {
                "readme": _s(),
                "description": _s(),
                "annotation_types": _list(_enum(("bbox", "polygon", "polyline", "keypoint"))),
                "classes": _list(_DATASET_CLASS, maxItems=5),
            },
        ),
        errors=(403, 409),
    ),
    Route(
        "GET",
        "/datasets/{dataset}",
        "datasets",
        "A dataset by name or id",
        ("datasets.get",),
        _data(_ref("Dataset")),
        params=(
            _DATASET,
            Param("include_images", _BOOL),
            Param("images_limit", _int(minimum=1, maximum=10_000)),
            Param("images_offset", _int(minimum=0, maximum=100_000)),
        ),
    ),
    Route(
        "PATCH",
        "/datasets/{dataset}",
        "datasets",
        "Rename, describe or edit the classes of a dataset",
        ("datasets.update",),
        _data(_ref("Dataset")),
        params=(_DATASET,),
        body=_body(
            {},
            {
                "new_name": _NAME,
                "readme": _s(),
                "description": _s(),
                "annotation_types": _list(_enum(("bbox", "polygon", "polyline", "keypoint"))),
                "classes": _list(_DATASET_CLASS, maxItems=5),
            },
        ),
        errors=(400, 403, 409),
    ),
    Route(
        "DELETE",
        "/datasets/{dataset}",
        "datasets",
        "Delete a dataset with its images and exports",
        ("datasets.delete",),
        _data(_ref("DatasetDeleted")),
        params=(_DATASET,),
        errors=(403, 409),
    ),
    Route(
        "GET",
        "/datasets/{dataset}/insights",
        "datasets",
        "Totals, stages and class balance",
        ("datasets.insights",),
        _data(_ref("DatasetInsights")),
        params=(_DATASET,),
    ),
    Route(
        "GET",
        "/datasets/{dataset}/download",
        "datasets",
        "The listing datasets.download fetches",
        ("datasets.download",),
        _data(_ref("DatasetListing")),
        params=(
            _DATASET,
            Param("mode", _enum(("full", "images_only", "annotations_only"))),
            Param("limit", _int(minimum=1, maximum=10_000)),
            Param("status_filter", _enum([*IMAGE_STATUSES, "all"])),
        ),
        errors=(400,),
    ),
    Route(
        "POST",
        "/datasets/{dataset}/archive",
        "datasets",
        "Archive a dataset",
        ("datasets.archive",),
        _data(_ref("Dataset")),
        params=(_DATASET,),
        errors=(403, 409),
    ),
    Route(
        "POST",
        "/datasets/{dataset}/unarchive",
        "datasets",
        "Unarchive a dataset",
        ("datasets.unarchive",),
        _data(_ref("Dataset")),
        params=(_DATASET,),
        errors=(403, 409),
    ),
    # ── images ──
    Route(
        "GET",
        "/images/",
        "images",
        "List a dataset's images",
        ("images.list", "images.iter"),
        _page(_ref("Image")),
        params=(
            Param("dataset", _s(minLength=1), required=True, example=EXAMPLE_DATASET),
            *_limit(1000),
            Param("status", _enum(IMAGE_STATUSES)),
            Param("split", _enum(SPLITS)),
            Param("filename", _s()),
            Param("include_archived", _BOOL),
            Param("min_confidence_lt", {"type": "number", "minimum": 0, "maximum": 1}),
        ),
        errors=(400,),
    ),
    Route(
        "POST",
        "/images/upload-url",
        "images",
        "A signed URL to PUT one image's bytes to",
        ("images.upload", "images.upload_from_directory"),
        _data(_ref("UploadUrl")),
        body=_body(
            {
                "dataset": _s(example=EXAMPLE_DATASET),
                "filename": _s(minLength=1, maxLength=60, pattern=r"^[a-z0-9]+\.png$"),
                "content_type": _enum(("image/png", "image/jpeg")),
            },
            {"directory_path": _enum(("/", "/train", "/a/b"))},
        ),
        errors=(400, 403, 409),
    ),
    Route(
        "POST",
        "/images/register",
        "images",
        "Register an uploaded image",
        ("images.upload", "images.upload_from_directory"),
        _data(_ref("Image")),
        ok=201,
        body=_body(
            {"dataset": _s(example=EXAMPLE_DATASET), "filename": _s(minLength=1)},
            {
                "directory_path": _s(),
                "file_size": _int(minimum=0),
                "content_type": _s(),
                "width": _int(minimum=1),
                "height": _int(minimum=1),
            },
        ),
        errors=(400, 403, 409),
    ),
    Route(
        "POST",
        "/images/bulk-upload-url",
        "images",
        "Signed upload URLs for many images",
        ("images.bulk_upload",),
        _data(_obj({"upload_urls": _list(_ref("UploadUrl"))})),
        body=_body(
            {
                "dataset": _s(example=EXAMPLE_DATASET),
                "images": _list(
                    _body(
                        {"filename": _s(minLength=1), "content_type": _s()},
                        {"directory_path": _s()},
                    ),
                    maxItems=5,
                ),
            }
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/images/bulk-register",
        "images",
        "Register many uploaded images",
        ("images.bulk_upload",),
        _data(
            _obj(
                {
                    "succeeded": _list(_ref("Image")),
                    "failed": _list(_obj({"filename": _s(), "error": _s()})),
                    "count": _int(),
                }
            )
        ),
        body=_body(
            {
                "dataset": _s(example=EXAMPLE_DATASET),
                "images": _list(
                    _body({"filename": _s(minLength=1)}, {"file_size": _int(minimum=0)}),
                    maxItems=5,
                ),
            }
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/images/assign-splits",
        "images",
        "Assign train/val/test splits at random",
        ("images.assign_splits",),
        _data(_OBJECT),
        body=_body(
            {"dataset": _s(example=EXAMPLE_DATASET)},
            {
                "train": _int(minimum=0, maximum=100),
                "val": _int(minimum=0, maximum=100),
                "test": _int(minimum=0, maximum=100),
                "seed": _int(minimum=0),
                "split_mode": _enum(("random",)),
            },
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/images/bulk-tag",
        "images",
        "Add or remove tags on many images",
        ("images.bulk_tag",),
        _data(_obj({"processed": _int()})),
        body=_body(
            {
                "dataset": _s(example=EXAMPLE_DATASET),
                "image_ids": _IMAGE_IDS,
                "tags": _list(_s(minLength=1, pattern=r"\S"), minItems=1, maxItems=5),
            },
            {"add": _BOOL},
        ),
        errors=(400, 403),
    ),
    Route(
        "GET",
        "/images/{image_id}",
        "images",
        "An image's bytes, by id",
        ("images.download",),
        None,
        params=(Param("image_id", _s(format="uuid"), "path", True),),
        media="image/*",
    ),
    Route(
        "GET",
        "/images/{image_id}/metadata",
        "images",
        "An image's record, by id",
        ("images.get",),
        _data(_ref("Image")),
        params=(Param("image_id", _s(format="uuid"), "path", True),),
    ),
    Route(
        "GET",
        "/images/{dataset}/{filename}",
        "images",
        "An image's bytes, by dataset and path (directories keep their '/')",
        ("images.download",),
        None,
        params=(_DATASET, _path("filename", "img-00001.jpg")),
        media="image/*",
    ),
    Route(
        "DELETE",
        "/images/{dataset}/{filename}",
        "images",
        "Archive an image (permanent=true deletes it; admin)",
        ("images.delete",),
        _obj({"success": _BOOL, "message": _s()}),
        params=(_DATASET, _path("filename", "img-00020.jpg"), Param("permanent", _BOOL)),
        errors=(403,),
    ),
    Route(
        "POST",
        "/images/{dataset}/{filename}/review",
        "images",
        "Approve an image or send it back",
        ("images.review",),
        _data(_obj({"id": _s(), "status": _enum(IMAGE_STATUSES), "review_note": _null(_s())})),
        params=(_DATASET, _path("filename", "img-00001.jpg")),
        body=_body({"action": _enum(("approve", "request_changes"))}, {"note": _s()}),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/images/{dataset}/{filename}/split",
        "images",
        "Set an image's split",
        ("images.set_split",),
        _data(_obj({"id": _s(), "split": _null(_enum(SPLITS))})),
        params=(_DATASET, _path("filename", "img-00001.jpg")),
        body=_body({"split": _null(_enum(SPLITS))}),
        errors=(400, 403),
    ),
    Route(
        "GET",
        "/images/{dataset}/{filename}/data-bundle",
        "images",
        "An image with its annotations and a manifest, as one zip",
        ("images.download_bundle",),
        None,
        params=(_DATASET, _path("filename", "img-00001.jpg")),
        media="application/zip",
    ),
    # ── annotations ──
    Route(
        "GET",
        "/annotations/{dataset}/{filename}",
        "annotations",
        "An image's annotations (bare body)",
        ("annotations.get",),
        _obj({"image_id": _s(), "annotations": _list(_ref("Annotation"))}),
        params=(_DATASET, _path("filename", "img-00001.jpg")),
    ),
    Route(
        "POST",
        "/annotations/{dataset}/{filename}",
        "annotations",
        "Replace an image's annotations (bare body)",
        ("annotations.save",),
        _ref("SaveResult"),
        params=(_DATASET, _path("filename", "img-00001.jpg")),
        body=_body({"annotations": _list(_BBOX, maxItems=5)}),
        errors=(400, 403),
    ),
    Route(
        "DELETE",
        "/annotations/{dataset}/{filename}",
        "annotations",
        "Delete an image's annotations (bare body)",
        ("annotations.delete",),
        _obj({"image_id": _s(), "deleted_count": _int()}),
        params=(_DATASET, _path("filename", "img-00002.jpg")),
        errors=(403,),
    ),
    Route(
        "GET",
        "/annotations/{image_id}/file",
        "annotations",
        "The annotation file datasets.download fetches",
        ("datasets.download",),
        _obj({"image": _s(), "annotations": _list(_ref("Annotation"))}),
        params=(Param("image_id", _s(format="uuid"), "path", True),),
    ),
    Route(
        "POST",
        "/annotations/bulk",
        "annotations",
        "Save many images' annotations (bare body)",
        (
            "annotations.bulk_save",
            "annotations.import_coco",
            "annotations.import_yolo",
            "annotations.import_pascal_voc",
        ),
        _obj({"saved": _list(_ref("SaveResult")), "failed": _list(_OBJECT)}),
        body=_body(
            {
                "saves": _list(
                    _body({"image_id": _s(format="uuid"), "annotations": _list(_BBOX)}),
                    maxItems=5,
                )
            }
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/annotations/rename-class",
        "annotations",
        "Rename a class across a dataset",
        ("annotations.rename_class",),
        _data(_OBJECT),
        body=_body({"dataset": _s(example=EXAMPLE_DATASET), "old_name": _s(), "new_name": _s()}),
        errors=(400, 403, 409),
    ),
    Route(
        "POST",
        "/annotations/merge-class",
        "annotations",
        "Merge one class into another",
        ("annotations.merge_class",),
        _data(_OBJECT),
        body=_body(
            {"dataset": _s(example=EXAMPLE_DATASET), "source_name": _s(), "target_name": _s()}
        ),
        errors=(400, 403, 409),
    ),
    Route(
        "POST",
        "/annotations/delete-class",
        "annotations",
        "Delete a class (and, if asked, its annotations)",
        ("annotations.delete_class",),
        _data(_OBJECT),
        body=_body(
            {"dataset": _s(example=EXAMPLE_DATASET), "name": _s()},
            {"class_type": _s(), "delete_annotations": _BOOL},
        ),
        errors=(400, 403, 409),
    ),
    # ── batch ──
    Route(
        "PATCH",
        "/batch/images/update",
        "batch",
        "Set the status, name or archive flag of many images",
        ("batch.update",),
        _ref("BatchResult"),
        body=_body(
            {
                "dataset_name": _s(example=EXAMPLE_DATASET),
                "image_ids": _IMAGE_IDS,
                "updates": {
                    **_body(
                        {},
                        {
                            "status": _enum(IMAGE_STATUSES),
                            "display_name": _s(),
                            "is_archived": _BOOL,
                        },
                    ),
                    "minProperties": 1,
                },
            }
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/batch/images/move",
        "batch",
        "Move many images to a directory",
        ("batch.move",),
        _ref("BatchResult"),
        body=_body(
            {"dataset_name": _s(example=EXAMPLE_DATASET), "image_ids": _IMAGE_IDS},
            {"target_directory_path": _enum(("/", "/val", "/a/b"))},
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/batch/images/copy",
        "batch",
        "Copy many images within their dataset",
        ("batch.copy",),
        _ref("BatchResult"),
        body=_body(
            {"dataset_name": _s(example=EXAMPLE_DATASET), "image_ids": _IMAGE_IDS},
            {
                "target_directory_path": _enum(("/", "/copies")),
                "duplicate_handling": _enum(("rename", "skip", "overwrite")),
                "copy_annotations": _BOOL,
            },
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/batch/images/copy-to-dataset",
        "batch",
        "Copy many images into another dataset",
        ("batch.copy_to_dataset",),
        _ref("BatchResult"),
        body=_body(
            {
                "dataset_name": _s(example=EXAMPLE_DATASET),
                "image_ids": _IMAGE_IDS,
                "target_dataset_name": _s(),
            },
            {"target_directory_path": _enum(("/", "/copies"))},
        ),
        errors=(400, 403),
    ),
    Route(
        "POST",
        "/batch/images/delete",
        "batch",
        "Archive (or, permanent, delete) many images",
        ("batch.delete",),
        _ref("BatchResult"),
        body=_body(
            {"dataset_name": _s(example=EXAMPLE_DATASET), "image_ids": _IMAGE_IDS},
            {"permanent": _BOOL},
        ),
        errors=(400, 403),
    ),
    # ── exports ──
    Route(
        "POST",
        "/exports/",
        "exports",
        "Start an export (it completes on the virtual clock)",
        ("exports.create",),
        _data(_ref("Export")),
        body=_body(
            {"dataset_name": _s(example=EXAMPLE_DATASET), "name": _NAME},
            {
                "format": _enum(EXPORT_FORMATS),
                "include_images": _BOOL,
                "class_filter": _list(_s(), maxItems=5),
                "status_filter": _enum([*IMAGE_STATUSES, "all"]),
                "organize_by_split": _BOOL,
            },
        ),
        errors=(400, 403, 409),
    ),
    Route(
        "GET",
        "/exports/",
        "exports",
        "List exports, newest first",
        ("exports.list", "exports.iter"),
        _page(_ref("Export")),
        params=(
            *_limit(1000),
            Param("dataset_name", _s()),
            Param("status", _enum(EXPORT_STATUSES)),
        ),
    ),
    Route(
        "POST",
        "/exports/bulk-delete",
        "exports",
        "Delete many exports",
        ("exports.bulk_delete",),
        _data(_ref("BulkResult")),
        body=_body({"export_ids": _list(_s(), maxItems=20)}),
        errors=(403,),
    ),
    Route(
        "GET",
        "/exports/{export}",
        "exports",
        "An export by name (with ?dataset=) or by id",
        ("exports.get", "exports.get_by_id", "exports.wait_for_completion"),
        _data(_ref("Export")),
        params=(_EXPORT, _BY_DATASET),
    ),
    Route(
        "GET",
        "/exports/{export}/download",
        "exports",
        "A signed URL for the export's zip",
        ("exports.download", "exports.download_by_id"),
        _data(_ref("Download")),
        params=(_EXPORT, _BY_DATASET),
        errors=(400,),
    ),
    Route(
        "DELETE",
        "/exports/{export}",
        "exports",
        "Delete an export",
        ("exports.delete",),
        _data(_ref("Deleted")),
        params=(_EXPORT, _BY_DATASET),
        errors=(403, 409),
    ),
    # ── notifications ──
    Route(
        "GET",
        "/notifications",
        "notifications",
        "The event feed, newest first (bare body)",
        ("notifications.list",),
        _obj(
            {
                "notifications": _list(_ref("Notification")),
                "unread_count": _int(minimum=0),
                "pagination": _ref("Pagination"),
            }
        ),
        params=(*_limit(100), Param("unread_only", _BOOL)),
    ),
    Route(
        "GET",
        "/notifications/unread-count",
        "notifications",
        "How many are unread",
        ("notifications.unread_count",),
        _obj({"unread_count": _int(minimum=0)}),
    ),
    Route(
        "POST",
        "/notifications/read-all",
        "notifications",
        "Mark every notification read",
        ("notifications.mark_all_read",),
        _obj({"marked_count": _int(minimum=0)}),
        body=_OBJECT,
        body_optional=True,
    ),
    Route(
        "POST",
        "/notifications/{notification_id}/read",
        "notifications",
        "Mark one notification read",
        ("notifications.mark_read",),
        _obj({"id": _s(), "read": _BOOL}),
        params=(_path("notification_id"),),
    ),
    Route(
        "DELETE",
        "/notifications/{notification_id}",
        "notifications",
        "Delete one notification",
        ("notifications.delete",),
        _obj({"id": _s(), "deleted": _BOOL}),
        params=(_path("notification_id"),),
    ),
    # ── jobs ──
    Route(
        "GET",
        "/jobs",
        "jobs",
        "Runs and exports as one feed of jobs",
        ("jobs.list", "jobs.wait"),
        _page(_ref("Job")),
        params=(
            *_limit(100),
            Param("status", _enum(JOB_STATUS_FILTERS)),
            Param("type", _enum(("training", "export"))),
        ),
    ),
    Route(
        "GET",
        "/jobs/{job_id}",
        "jobs",
        "One job",
        ("jobs.get", "jobs.wait"),
        _data(_ref("Job")),
        params=(_path("job_id"),),
    ),
    # ── signed storage URLs ──
    Route(
        "GET",
        f"{STORAGE_PREFIX}{{token}}",
        "storage",
        "Download from a signed URL (model weights, export zips, image bytes); no key",
        ("models.download", "models.download_file", "exports.download", "datasets.download"),
        None,
        params=(_path("token"),),
        errors=(403, 404),
        media="application/octet-stream",
        public=True,
    ),
    Route(
        "PUT",
        f"{STORAGE_PREFIX}{{token}}",
        "storage",
        "Upload an image's bytes to a signed URL; no key",
        ("images.upload", "images.bulk_upload", "images.upload_from_directory"),
        None,
        params=(_path("token"),),
        body={"type": "string", "format": "binary"},
        errors=(403, 404),
        media="text/plain",
        public=True,
    ),
)

_STATUS_TEXT = {
    400: "The request cannot be carried out as sent",
    401: "No API key, or an unknown one",
    402: "Not enough credit",
    403: "The key's role may not do this",
    404: "No such route, or no such thing",
    409: "Conflicts with the world's state",
    422: "The request failed validation",
}


def openapi_document(base_url: str | None = None) -> dict[str, Any]:
    """Build the OpenAPI 3.0 document; ``base_url`` becomes its one server."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        full = route.path if route.public else API_PREFIX.rstrip("/") + route.path
        paths.setdefault(full, {})[route.method.lower()] = _operation(route)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Pictograph developer API (pictograph-testing fake)",
            "version": "1.69.146",
            "description": (
                "The routes the pictograph-testing fake serves, as the pictograph SDK "
                "1.69.146 calls them. Control routes under /_fake/ are not part of it."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{"ApiKey": []}],
    }
    if base_url is not None:
        document["servers"] = [{"url": base_url.rstrip("/")}]
    return document


def _operation(route: Route) -> dict[str, Any]:
    name = route.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{route.tag}_{name}".replace("-", "_"),
        "summary": route.summary,
        "tags": [route.tag],
        "x-sdk-methods": list(route.sdk),
        "parameters": [_parameter(p) for p in route.params],
        "responses": _responses(route),
    }
    if route.public:
        operation["security"] = []
    if route.body is not None:
        media = "application/octet-stream" if route.public else "application/json"
        operation["requestBody"] = {
            "required": not route.body_optional,
            "content": {media: {"schema": route.body}},
        }
    return operation


def _parameter(param: Param) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": param.name,
        "in": param.where,
        "required": param.required or param.where == "path",
        "schema": param.schema,
    }
    if param.example is not None:
        entry["example"] = param.example
    return entry


def _responses(route: Route) -> dict[str, Any]:
    if route.response is None:
        success: dict[str, Any] = {
            "description": "OK",
            "content": {route.media: {"schema": {"type": "string", "format": "binary"}}},
        }
        if route.method == "PUT":
            success = {"description": "Stored", "content": {"text/plain": {"schema": _s()}}}
    else:
        success = {
            "description": "OK",
            "content": {"application/json": {"schema": route.response}},
        }
    responses: dict[str, Any] = {str(route.ok): success}
    if route.public:
        # Storage speaks XML, as object stores do.
        for status in route.errors:
            responses[str(status)] = {
                "description": "Storage refused the request",
                "content": {"application/xml": {"schema": _s()}},
            }
        return responses
    for status in sorted({*ALWAYS, *route.errors}):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses
