"""``/api/v1/developer/model-evaluations``: score a model against an export's ground truth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    EVALUATED_DATASETS,
    EVALUATED_TYPES_BY_RELEASE,
    Span,
    Wire,
)
from pictograph_testing.api.spec import Field, Num, Obj, Param, Str
from pictograph_testing.api.table import Bare, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import EVALUATION_TIER
from pictograph_testing.world.errors import Conflict, NotFound
from pictograph_testing.world.evaluations import EVALUATED_MODEL_TYPES, unscored
from pictograph_testing.world.scoring import RASTER_CELLS

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Export
    from pictograph_testing.world.evaluations import Evaluation, ImageOutcome
    from pictograph_testing.world.scoring import Scores

__all__ = ["REPORT_SCHEMA_VERSION", "evaluation_payload"]

REPORT_SCHEMA_VERSION = 1
_UUID = Str(format="uuid")


def _numbered_iou(payload: Any) -> Any:
    """A confusion matrix's ``iou_threshold`` as a number (the evaluation's own), for the
    release that scored classification but read the field as a number."""
    found = payload.get("evaluations") if isinstance(payload, dict) else None
    for evaluation in found if isinstance(found, list) else [payload.get("evaluation", payload)]:
        matrix = evaluation.get("confusion_matrix") if isinstance(evaluation, dict) else None
        if isinstance(matrix, dict) and matrix.get("iou_threshold") is None:
            matrix["iou_threshold"] = evaluation["iou_threshold"]
    return payload


_SCORES_CLASSIFICATION = EVALUATED_TYPES_BY_RELEASE["classification"].since
_SCORES_PIXELS = EVALUATED_TYPES_BY_RELEASE["semantic_segmentation"].since
_DETECTION_ONLY = Wire(
    Span(until=_SCORES_CLASSIFICATION),
    note="scores detection and instance segmentation models only (422 for the others)",
)
_NUMBERED_IOU = Wire(
    Span(_SCORES_CLASSIFICATION, _SCORES_PIXELS),
    rewrite=_numbered_iou,
    note="scores classification but not semantic segmentation; a confusion matrix's "
    "`iou_threshold` is always a number",
)


@endpoint(
    "POST",
    "model-evaluations",
    summary="Start evaluating a model on an export (a billed GPU job)",
    sdk=("model_evaluations.create", "model_evaluations.evaluate"),
    reply=Bare("EvaluationEnvelope"),
    status=201,
    body=Obj(
        {
            "model_id": Field(_UUID, required=True),
            "export_id": Field(_UUID, required=True),
            "iou_threshold": Field(Num(minimum=0.05, maximum=1.0)),
            "confidence_threshold": Field(Num(minimum=0.0, maximum=0.95)),
        }
    ),
    errors=(402, 403, 409),
    role="member",
    action="evaluate models",
    wires=(
        Wire(
            EVALUATED_DATASETS,
            extra_fields={"project_id": Field(_UUID, required=True)},
            unsent=("export_id",),
            note="names the dataset (`project_id`): evaluated on its newest completed export",
        ),
        _DETECTION_ONLY,
        _NUMBERED_IOU,
    ),
)
def create_evaluation(call: Call) -> Reply:
    fields = call.fields()
    world = call.world
    model = world.registry.find(call.key, fields["model_id"])
    scored_since = EVALUATED_TYPES_BY_RELEASE.get(model.model_type)
    if scored_since is not None and not scored_since.holds(call.sdk, call.client):
        # The release's API did not score this type yet (its models cannot read the
        # metrics): refused as that API refused it, before anything is made.
        raise unscored(model, _scored_by(call))
    if "export_id" in fields:
        export = _export(call, fields["export_id"])
    else:
        export = _newest_export(call, fields["project_id"])
    evaluation = world.evaluations.create(
        call.key,
        model,
        export,
        iou_threshold=_or(fields.get("iou_threshold"), 0.5),
        confidence_threshold=_or(fields.get("confidence_threshold"), 0.5),
    )
    return reply({"evaluation": evaluation_payload(call, evaluation)}, status=201)


@endpoint(
    "GET",
    "model-evaluations",
    summary="The organization's evaluations, newest first",
    sdk=("model_evaluations.list", "model_evaluations.iter"),
    reply=Page("ModelEvaluation", key="evaluations"),
    query=(*page_params(100), Param("model_id", _UUID), Param("project_id", _UUID)),
    wires=(_NUMBERED_IOU,),
)
def list_evaluations(call: Call) -> Reply:
    args = call.args
    found = call.world.evaluations.listing(
        call.key, model_id=_lower(args["model_id"]), dataset_id=_lower(args["project_id"])
    )
    chunk, pagination = page(found, args["offset"], args["limit"])
    return reply(
        {
            "success": True,
            "evaluations": [evaluation_payload(call, e) for e in chunk],
            "pagination": pagination,
        }
    )


@endpoint(
    "GET",
    "model-evaluations/{evaluation}",
    summary="One evaluation, with its metrics once completed",
    sdk=(
        "model_evaluations.get",
        "model_evaluations.wait_for_completion",
        "model_evaluations.evaluate",
    ),
    reply=Bare("EvaluationEnvelope"),
    wires=(_NUMBERED_IOU,),
)
def get_evaluation(call: Call) -> Reply:
    evaluation = call.world.evaluations.find(call.key, call.path_args["evaluation"])
    return reply({"evaluation": evaluation_payload(call, evaluation)})


@endpoint(
    "POST",
    "model-evaluations/{evaluation}/cancel",
    summary="Cancel a pending or running evaluation",
    sdk=("model_evaluations.cancel",),
    reply=Bare("EvaluationEnvelope"),
    errors=(403, 409),
    role="member",
    action="cancel evaluations",
    wires=(_NUMBERED_IOU,),
)
def cancel_evaluation(call: Call) -> Reply:
    service = call.world.evaluations
    evaluation = service.cancel(service.find(call.key, call.path_args["evaluation"]))
    return reply({"evaluation": evaluation_payload(call, evaluation)})


@endpoint(
    "GET",
    "model-evaluations/{evaluation}/export",
    summary="A completed evaluation's full report",
    sdk=("model_evaluations.report",),
    reply=Bare("EvaluationReport"),
    errors=(409,),
)
def evaluation_report(call: Call) -> Reply:
    evaluation = call.world.evaluations.find(call.key, call.path_args["evaluation"])
    if evaluation.status != "completed" or evaluation.scores is None:
        raise Conflict(
            f"Model evaluation '{evaluation.id}' is {evaluation.status_at(call.now)}; only a "
            "completed evaluation has a report."
        )
    return reply({"report": _report(call, evaluation, evaluation.scores)})


# ── payloads ──


def evaluation_payload(call: Call, evaluation: Evaluation) -> dict[str, Any]:
    """An evaluation as the SDK's ``ModelEvaluation`` reads it (``project_id`` too)."""
    now = call.now
    status = evaluation.status_at(now)
    progress, evaluated = evaluation.progress_at(now)
    started = evaluation.started_at
    shown_start = started if started is not None and started <= now else None
    if (
        evaluation.status == "cancelled"
        and started is not None
        and started >= (evaluation.completed_at or 0.0)
    ):
        shown_start = None
    updated = max(evaluation.updated_at, shown_start or 0.0)
    scores = evaluation.scores if evaluation.status == "completed" else None
    return {
        "id": evaluation.id,
        "organization_id": evaluation.organization_id,
        "model_id": evaluation.model_id,
        "dataset_id": evaluation.dataset_id,
        "project_id": evaluation.dataset_id,
        "export_id": evaluation.export_id,
        "status": status,
        "progress": progress,
        "iou_threshold": evaluation.iou_threshold,
        "confidence_threshold": evaluation.confidence_threshold,
        "total_images": evaluation.total_images,
        "evaluated_images": evaluated,
        "failed_images": evaluation.failed_images if evaluation.terminal else 0,
        "overall_metrics": None if scores is None else _overall(scores),
        "per_class_metrics": None if scores is None else _per_class(scores),
        "confusion_matrix": None if scores is None else _confusion(evaluation, scores),
        "worst_images": None if scores is None else _images(evaluation.worst),
        "best_images": None if scores is None else _images(evaluation.best),
        "seg_metrics": None if scores is None else _seg_metrics(evaluation, scores),
        "config": {
            "model_name": evaluation.model_name,
            "model_version_id": evaluation.version_id,
            "dataset_name": evaluation.dataset_name,
            "export_name": evaluation.export_name,
            "gpu_type": EVALUATION_TIER.name,
        },
        "error_message": evaluation.error_message,
        "created_at": call.iso(evaluation.created_at),
        "updated_at": call.iso(updated),
        "started_at": call.iso(shown_start),
        "completed_at": call.iso(evaluation.completed_at),
    }


def _overall(scores: Scores) -> dict[str, Any]:
    family = scores.family
    if family == "classification":
        # Macro-averaged rates, accuracy the headline, no mAP.
        rates = (scores.macro("precision"), scores.macro("recall"), scores.macro("f1"))
    else:
        # Micro rates: over matched boxes, or over pixels (mIoU the headline, no mAP).
        rates = (scores.precision, scores.recall, scores.f1)
    overall: dict[str, Any] = {
        "tp": scores.tp,
        "fp": scores.fp,
        "fn": scores.fn,
        "precision": rates[0],
        "recall": rates[1],
        "f1": rates[2],
        "macro_f1": scores.macro_f1,
        "map": scores.map if family == "detection" else None,
        "accuracy": scores.accuracy if family == "classification" else None,
    }
    if family == "semantic_segmentation":
        # The family's discriminator (`miou`) and the rest of its pixel metrics.
        overall.update(
            miou=scores.macro("iou"),
            mean_dice=scores.macro("dice"),
            pixel_accuracy=scores.pixel_accuracy,
            mean_pixel_accuracy=scores.mean_pixel_accuracy,
            frequency_weighted_iou=scores.frequency_weighted_iou,
        )
    return overall


def _per_class(scores: Scores) -> list[dict[str, Any]]:
    semantic = scores.family == "semantic_segmentation"
    rows = []
    for c in scores.per_class:
        row: dict[str, Any] = {
            "class_name": c.class_name,
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
            "support": c.support,
            "precision": c.precision,
            "recall": c.recall,
            "f1": c.f1,
            "ap": c.ap,
        }
        if semantic:
            row["iou"] = c.iou
            row["dice"] = c.dice
        rows.append(row)
    return rows


def _confusion(evaluation: Evaluation, scores: Scores) -> dict[str, Any]:
    return {
        # Only detection matches at an IoU: classification and pixels are compared as is.
        "iou_threshold": evaluation.iou_threshold if scores.family == "detection" else None,
        "labels": scores.labels,
        "grid": scores.grid,
    }


def _images(outcomes: list[ImageOutcome]) -> list[dict[str, Any]]:
    shown = []
    for o in outcomes:
        image: dict[str, Any] = {
            "image_id": o.tally.image_id,
            "filename": o.filename,
            "virtual_directory_path": o.directory_path,
            "tp": o.tally.tp,
            "fp": o.tally.fp,
            "fn": o.tally.fn,
            "gt_count": o.tally.gt_count,
            "pred_count": o.tally.pred_count,
            "predictions": o.predictions,
            "ground_truth": o.ground_truth,
        }
        if o.tally.miou is not None:
            image["miou"] = o.tally.miou
        shown.append(image)
    return shown


def _seg_metrics(evaluation: Evaluation, scores: Scores) -> dict[str, Any] | None:
    """Semantic segmentation's own payload: per-class IoU/Dice and the threshold sweep."""
    pixels = scores.pixels
    if pixels is None:
        return None
    best = pixels.best
    return {
        "per_class_iou": {c.class_name: c.iou for c in scores.per_class},
        "per_class_dice": {c.class_name: c.dice for c in scores.per_class},
        "thresholds": [p.threshold for p in pixels.sweep],
        "miou": [p.miou for p in pixels.sweep],
        "mean_dice": [p.mean_dice for p in pixels.sweep],
        "pixel_accuracy": [p.pixel_accuracy for p in pixels.sweep],
        "best_miou": best.miou,
        "best_miou_threshold": best.threshold,
        "operating_threshold": evaluation.confidence_threshold,
        "raster": {"columns": RASTER_CELLS, "rows": RASTER_CELLS},
    }


def _report(call: Call, evaluation: Evaluation, scores: Scores) -> dict[str, Any]:
    warnings = []
    if evaluation.failed_images:
        warnings.append(
            f"{evaluation.failed_images} image(s) of the export were deleted since it was "
            "made and were not scored."
        )
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "evaluation_id": evaluation.id,
        "generated_at": call.iso(call.now),
        "model": {
            "id": evaluation.model_id,
            "name": evaluation.model_name,
            "version_id": evaluation.version_id,
        },
        "dataset": {"id": evaluation.dataset_id, "name": evaluation.dataset_name},
        "export": {"id": evaluation.export_id, "name": evaluation.export_name},
        "config": {
            "iou_threshold": evaluation.iou_threshold,
            "confidence_threshold": evaluation.confidence_threshold,
        },
        "images": {
            "total": evaluation.total_images,
            "evaluated": evaluation.evaluated_images,
            "failed": evaluation.failed_images,
        },
        "overall_metrics": _overall(scores),
        "per_class_metrics": _per_class(scores),
        "confusion_matrix": _confusion(evaluation, scores),
        **(
            {}
            if scores.pixels is None
            # Only semantic segmentation's report has it: the others' stay as they were.
            else {"seg_metrics": _seg_metrics(evaluation, scores)}
        ),
        "best_images": _images(evaluation.best),
        "worst_images": _images(evaluation.worst),
        "warnings": warnings,
        "created_at": call.iso(evaluation.created_at),
        "completed_at": call.iso(evaluation.completed_at),
    }


# ── lookups ──


def _export(call: Call, export_id: str) -> Export:
    export = call.world.exports.get(export_id.strip().lower())
    if export is None or export.organization_id != call.key.organization_id:
        raise NotFound(f"Export '{export_id}' not found")
    return export


def _scored_by(call: Call) -> list[str]:
    """The model types the caller's release's API scored."""
    return [
        t
        for t in EVALUATED_MODEL_TYPES
        if t not in EVALUATED_TYPES_BY_RELEASE
        or EVALUATED_TYPES_BY_RELEASE[t].holds(call.sdk, call.client)
    ]


def _newest_export(call: Call, dataset_id: str) -> Export:
    """The export an evaluation of the dataset ``dataset_id`` scores against: its newest
    completed one (its annotated images, frozen), for releases that named the dataset."""
    dataset = call.world.datasets.get(dataset_id.strip().lower())
    if dataset is None or dataset.organization_id != call.key.organization_id:
        raise NotFound(f"Dataset '{dataset_id}' not found")
    exports = call.world.export_service.of_dataset(dataset.id).values()  # oldest first
    completed = [e for e in exports if e.status == "completed"]
    if not completed:
        raise Conflict(
            f"Dataset '{dataset.name}' has no completed export; export its annotated images "
            "first, then evaluate."
        )
    return completed[-1]


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


def _or(value: float | None, default: float) -> float:
    return float(value) if value is not None else default
