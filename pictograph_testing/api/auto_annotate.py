"""``/api/v1/developer/auto-annotate``: SAM3 prompts on an image, and batch jobs.

Replies are bare (the SDK reads ``job_id``, ``status``, ``annotations``... at the top
level). A job is answered with its id under ``job_id`` and ``job`` both: builds of
2026-08-01 to 2026-10-02 sent only ``job``, which SDK 1.69.90 learned to read, and every
release reads ``job_id``. What a job does, costs and writes is in
:mod:`pictograph_testing.world.auto_annotate`; what SAM3 finds, in
:mod:`pictograph_testing.world.sam3`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import EXAMPLE_DATASET, Bool, Field, Int, List, Num, Obj, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import AUTO_ANNOTATE
from pictograph_testing.world.auto_annotate import SAM3, SIMILAR_MAX_IMAGES, ClassSpec
from pictograph_testing.world.errors import InvalidRequest, field_error
from pictograph_testing.world.predictions import UnreadableImage

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.world.auto_annotate import AutoAnnotateJob, SimilarPlan
    from pictograph_testing.world.entities import Dataset, Image, Model
    from pictograph_testing.world.sam3 import Picture, Region

__all__ = [
    "OUTPUT_TYPES",
    "PROMPT_OUTPUT_TYPES",
    "SIMILAR_CONFIDENCE",
    "SIMILAR_OUTPUT_TYPES",
    "SIMILAR_SCOPES",
]

OUTPUT_TYPES = ("polygon", "bbox", "tag")
"""What a batch class writes (``tag``: image tags, from a classification model)."""
PROMPT_OUTPUT_TYPES = ("polygon", "bbox")
SIMILAR_SCOPES = ("directory", "dataset")
SIMILAR_OUTPUT_TYPES = ("polygon", "bbox", "obb")
SIMILAR_CONFIDENCE = 0.45
""""Annotate similar"'s confidence when none is sent: the app modal's default."""
_MAX_PROMPT_DETECTIONS = 100

_DATASET = Field(Str(not_blank=True, example=EXAMPLE_DATASET), required=True)
_IMAGE = Field(Str(not_blank=True, example="frame_001.jpg"), required=True)
_UNIT = Num(minimum=0, maximum=1)
_CLASSES = List(
    Obj(
        {
            "name": Field(Str(not_blank=True, max_length=100), required=True),
            "output_type": Field(Str(enum=OUTPUT_TYPES)),
        }
    ),
    noun="class objects",
)
_SLICE = Int(minimum=256, maximum=1024)
_BOX = Obj(
    {
        "x": Field(Num(), required=True),
        "y": Field(Num(), required=True),
        "w": Field(Num(minimum=0), required=True),
        "h": Field(Num(minimum=0), required=True),
    }
)
_POINTS = List(List(Num(), min_items=2, max_items=2, noun="numbers"), noun="[x, y] pairs")
_PROJECTED = List(
    Obj(
        {
            "count": Field(Int(minimum=0), required=True),
            "width": Field(Int(minimum=1)),
            "height": Field(Int(minimum=1)),
        }
    ),
    noun="projected image groups",
)


# ── batch jobs ──


@endpoint(
    "POST",
    "auto-annotate/batch/quote",
    summary="What a batch job would cost, without running it (the price its start charges)",
    sdk=("auto_annotate.quote",),
    reply=Bare("BatchQuote"),
    body=Obj(
        {
            "dataset_name": Field(Str(not_blank=True, example=EXAMPLE_DATASET)),
            "image_filenames": Field(List(Str(not_blank=True), noun="image names")),
            "projected": Field(_PROJECTED),
            "classes": Field(_CLASSES),
            "model_id": Field(Str(not_blank=True)),
            "sahi_enabled": Field(Bool()),
            "sahi_slice_size": Field(_SLICE),
        }
    ),
    # 400: SAHI asked of a trained model (it slices for SAM3 only).
    errors=(400, 404),
)
def quote(call: Call) -> Reply:
    fields = call.fields()
    world = call.world
    service = world.auto_annotation
    refs = fields.get("image_filenames") or []
    name = fields.get("dataset_name")
    if refs and name is None:
        raise InvalidRequest(
            "Name the dataset of the images to price: send dataset_name with image_filenames.",
            errors=[field_error(("body", "dataset_name"), "Field required", "missing")],
        )
    model = _model(call, fields.get("model_id"))
    sahi = _sahi(fields, model)
    classes = _classes(fields)
    sizes: list[tuple[int, int]] = []
    if refs and name is not None:
        dataset = world.dataset(call.key.organization_id, name)
        sizes = [service.stored_size(image) for image in service.images(dataset, refs)]
    assumed = AUTO_ANNOTATE.assumed_size
    for group in fields.get("projected") or []:
        size = (group.get("width") or assumed[0], group.get("height") or assumed[1])
        sizes.extend([size] * group["count"])
    if model is None and not classes:
        raise InvalidRequest(
            "SAM3 needs at least one class to price: each class is a grounding pass.",
            errors=[field_error(("body", "classes"), "At least one class", "too_short")],
        )
    plan = service.price(sizes, classes, model, sahi)
    org = world.organizations[call.key.organization_id]
    remaining = world.billing.spendable(org)
    return reply(
        {
            "total_images": plan.total_images,
            "estimated_credits": plan.total,
            "sahi_tiles": plan.sahi_tiles,
            "containers": plan.containers,
            "remaining_credits": remaining,
            "sufficient": remaining >= plan.total,
            "max_images": AUTO_ANNOTATE.max_images,
            "exceeds_max_images": plan.total_images > AUTO_ANNOTATE.max_images,
        }
    )


@endpoint(
    "POST",
    "auto-annotate/batch",
    summary="Start a batch job labelling images with SAM3 or a trained model",
    sdk=("auto_annotate.batch", "auto_annotate.dataset"),
    reply=Bare("BatchJob"),
    body=Obj(
        {
            "dataset_name": _DATASET,
            "image_filenames": Field(
                List(
                    Str(not_blank=True),
                    min_items=1,
                    max_items=AUTO_ANNOTATE.max_images,
                    noun="image names",
                ),
                required=True,
            ),
            "classes": Field(_CLASSES, required=True),
            "confidence_threshold": Field(_UNIT),
            "top_k": Field(Int(minimum=1, maximum=100)),
            "model_id": Field(Str(not_blank=True)),
            "sahi_enabled": Field(Bool()),
            "sahi_slice_size": Field(_SLICE),
        }
    ),
    role="member",
    action="auto-annotate images",
    errors=(400, 402, 403, 404, 409),
)
def batch(call: Call) -> Reply:
    fields = call.fields()
    world = call.world
    service = world.auto_annotation
    dataset = world.dataset(call.key.organization_id, fields["dataset_name"])
    model = _model(call, fields.get("model_id"))
    sahi = _sahi(fields, model)
    classes = _classes(fields)
    service.check_classes(dataset, classes, model)
    images = service.images(dataset, fields["image_filenames"])
    confidence = fields.get("confidence_threshold")
    job = service.start(
        call.key,
        dataset,
        images,
        classes,
        model,
        confidence=0.5 if confidence is None else confidence,
        top_k=fields.get("top_k") or 1,
        sahi_slice=sahi,
    )
    return reply(_job(call, job, kickoff=True))


@endpoint(
    "GET",
    "auto-annotate/batch/{job_id}",
    summary="A batch job's progress and outcome",
    sdk=("auto_annotate.get_batch", "auto_annotate.wait_for_batch"),
    reply=Bare("BatchJob"),
)
def get_batch(call: Call) -> Reply:
    job = call.world.auto_annotation.get(call.key, call.path_args["job_id"])
    return reply(_job(call, job))


@endpoint(
    "POST",
    "auto-annotate/batch/{job_id}/cancel",
    summary="Cancel a pending or running batch job (drafts of images done by then stay)",
    sdk=("auto_annotate.cancel_batch",),
    reply=Bare("BatchJob"),
    role="member",
    action="cancel auto-annotate jobs",
    errors=(403, 409),
)
def cancel_batch(call: Call) -> Reply:
    service = call.world.auto_annotation
    job = service.cancel(service.get(call.key, call.path_args["job_id"]))
    return reply(_job(call, job))


# ── "Annotate similar" ──

_SIMILAR = Obj(
    {
        "dataset_name": _DATASET,
        "image_filename": _IMAGE,
        "annotation_ids": Field(List(Str(not_blank=True), noun="annotation ids")),
        "reference_class": Field(Str(not_blank=True, max_length=100)),
        "scope": Field(Str(enum=SIMILAR_SCOPES)),
        "target_class": Field(Str(not_blank=True, max_length=100)),
        "output_type": Field(Str(enum=SIMILAR_OUTPUT_TYPES)),
        "confidence": Field(Num(minimum=0.2, maximum=0.8)),
    }
)


@endpoint(
    "POST",
    "auto-annotate/similar/quote",
    summary='What "Annotate similar" would label and cost, without running it',
    sdk=("auto_annotate.quote_similar",),
    reply=Bare("SimilarQuote"),
    body=_SIMILAR,
    errors=(404,),
)
def quote_similar(call: Call) -> Reply:
    _, planned = _similar(call)
    world = call.world
    remaining = world.billing.spendable(world.organizations[call.key.organization_id])
    plan = planned.plan
    return reply(
        {
            "total_images": plan.total_images,
            "total_in_scope": planned.total_in_scope,
            "capped": planned.total_in_scope > SIMILAR_MAX_IMAGES,
            "max_images": SIMILAR_MAX_IMAGES,
            "estimated_credits": plan.total,
            "containers": plan.containers,
            "remaining_credits": remaining,
            "sufficient": remaining >= plan.total,
            "examples": len(planned.examples),
            "target_class": planned.target_class,
            "output_type": planned.output_type,
            "scope": planned.scope,
            "directory": planned.directory,
        }
    )


@endpoint(
    "POST",
    "auto-annotate/similar",
    summary='Start "Annotate similar": label every object like the example polygons',
    sdk=("auto_annotate.similar",),
    reply=Bare("BatchJob"),
    body=_SIMILAR,
    role="member",
    action="auto-annotate images",
    errors=(402, 403, 404, 409),
)
def similar(call: Call) -> Reply:
    dataset, plan = _similar(call)
    confidence = call.fields().get("confidence")
    job = call.world.auto_annotation.start_similar(
        call.key, dataset, plan, SIMILAR_CONFIDENCE if confidence is None else confidence
    )
    payload = _job(call, job, kickoff=True)
    payload.update(
        {
            "total_in_scope": plan.total_in_scope,
            "capped": plan.total_in_scope > SIMILAR_MAX_IMAGES,
            "max_images": SIMILAR_MAX_IMAGES,
            "examples": len(plan.examples),
            "target_class": plan.target_class,
            "output_type": plan.output_type,
            "scope": plan.scope,
            "confidence": job.confidence,
        }
    )
    return reply(payload)


def _similar(call: Call) -> tuple[Dataset, SimilarPlan]:
    fields = call.fields()
    ids, reference = fields.get("annotation_ids") or [], fields.get("reference_class")
    if bool(ids) == (reference is not None):
        raise InvalidRequest(
            "Name the example polygons one way: annotation_ids, or reference_class for "
            "every polygon of that class on the image."
        )
    world = call.world
    dataset = world.dataset(call.key.organization_id, fields["dataset_name"])
    service = world.auto_annotation
    image = service.image(dataset, fields["image_filename"])
    return dataset, service.plan_similar(
        call.key,
        dataset,
        image,
        annotation_ids=ids,
        reference_class=reference,
        scope=fields.get("scope") or "directory",
        target_class=fields.get("target_class"),
        output_type=fields.get("output_type") or "polygon",
    )


def _job(call: Call, job: AutoAnnotateJob, *, kickoff: bool = False) -> dict[str, Any]:
    service = call.world.auto_annotation
    status = service.status(job)
    total = len(job.image_ids)
    processed = service.processed(job)
    progress = service.progress(job)
    payload: dict[str, Any] = {
        "job_id": job.id,
        "job": job.id,
        "status": status,
        "progress": progress,
        "total_images": total,
        "processed_images": processed,
        "total_annotations_added": job.annotations_added,
        "failed_images": job.failed_images,
        "error_message": job.error,
        "completed_at": call.iso(job.completed_at),
    }
    if kickoff:
        payload["estimated_credits"] = job.plan.total
    return payload


def _model(call: Call, model_id: str | None) -> Model | None:
    if model_id is None or model_id == SAM3:
        return None
    model = call.world.registry.find(call.key, model_id)
    if model.status != "ready":
        raise InvalidRequest(
            f"Model '{model.name}' is {model.status}; only a ready model auto-annotates.",
            status=400,
        )
    return model


def _sahi(fields: dict[str, Any], model: Model | None) -> int | None:
    if not fields.get("sahi_enabled"):
        return None
    if model is not None:
        raise InvalidRequest(
            "SAHI slices images for SAM3 only: drop sahi for a trained-model job.",
            status=400,
        )
    size: int | None = fields.get("sahi_slice_size")
    return 640 if size is None else size


def _classes(fields: dict[str, Any]) -> list[ClassSpec]:
    return [
        ClassSpec(c["name"], c.get("output_type") or "polygon") for c in fields.get("classes") or []
    ]


# ── SAM3 prompts ──


@endpoint(
    "POST",
    "auto-annotate/sam3/point",
    summary="SAM3 point prompt: the region grown from the point, as one polygon",
    sdk=("auto_annotate.point",),
    reply=Bare("PointPrompt"),
    body=Obj(
        {
            "dataset_name": _DATASET,
            "image_filename": _IMAGE,
            "x": Field(Num(), required=True),
            "y": Field(Num(), required=True),
            "name": Field(Str(not_blank=True, max_length=100)),
            "score_threshold": Field(_UNIT),
            "positive_points": Field(_POINTS),
            "negative_points": Field(_POINTS),
        }
    ),
    role="member",
    action="auto-annotate images",
    errors=(402, 403, 404),
)
def point(call: Call) -> Reply:
    fields = call.fields()
    picture, _, finish = _prompt(call, fields)
    points = [(fields["x"], fields["y"]), *(tuple(p) for p in fields.get("positive_points") or [])]
    for i, (x, y) in enumerate(points):
        _inside(picture, x, y, ("body", "x") if i == 0 else ("body", "positive_points", i - 1))
    negatives = [tuple(p) for p in fields.get("negative_points") or []]
    for i, (x, y) in enumerate(negatives):
        _inside(picture, x, y, ("body", "negative_points", i))
    region = picture.grow(
        [picture.cell_at(x, y) for x, y in points],
        [picture.cell_at(x, y) for x, y in negatives],
    )
    threshold = fields.get("score_threshold")
    threshold = 0.75 if threshold is None else threshold
    name = fields.get("name") or "object"
    finish()
    if region is None:
        return reply({"status": "no_detection", "annotation": None, "score": None, **_t(0)})
    if region.score < threshold:
        return reply(
            {"status": "below_threshold", "annotation": None, "score": region.score, **_t(1)}
        )
    annotation = region.annotation(call.world.ids.uuid(), name, "polygon")
    return reply({"status": "success", "annotation": annotation, "score": region.score, **_t(1)})


@endpoint(
    "POST",
    "auto-annotate/sam3/box",
    summary="SAM3 box prompt: the object inside the box, as a box and a polygon",
    sdk=("auto_annotate.box",),
    reply=Bare("PromptResult"),
    body=Obj(
        {
            "dataset_name": _DATASET,
            "image_filename": _IMAGE,
            "box": Field(_BOX, required=True),
            "name": Field(Str(not_blank=True, max_length=100), required=True),
            "confidence_threshold": Field(_UNIT),
            "return_polygon": Field(Bool()),
            "negative_boxes": Field(List(_BOX, noun="boxes")),
        }
    ),
    role="member",
    action="auto-annotate images",
    errors=(402, 403, 404),
)
def box(call: Call) -> Reply:
    fields = call.fields()
    picture, _, finish = _prompt(call, fields)
    prompt = _box(picture, fields["box"], ("body", "box"))
    negatives = [
        _box(picture, b, ("body", "negative_boxes", i))
        for i, b in enumerate(fields.get("negative_boxes") or [])
    ]
    region = picture.in_box(prompt, negatives)
    threshold = fields.get("confidence_threshold")
    threshold = 0.5 if threshold is None else threshold
    finish()
    if region is None:
        return reply({"status": "no_detection", "annotations": [], "score": None, **_t(0)})
    if region.score < threshold:
        return reply(
            {"status": "below_threshold", "annotations": [], "score": region.score, **_t(1)}
        )
    world = call.world
    name = fields["name"]
    found = [region.annotation(world.ids.uuid(), name, "bbox")]
    if fields.get("return_polygon", True) is not False:
        found.append(region.annotation(world.ids.uuid(), name, "polygon"))
    return reply({"status": "success", "annotations": found, "score": region.score, **_t(1)})


@endpoint(
    "POST",
    "auto-annotate/sam3/text",
    summary="SAM3 text prompt: every object of the image the phrase finds, best first",
    sdk=("auto_annotate.text", "auto_annotate.dataset"),
    reply=Bare("PromptResult"),
    body=Obj(
        {
            "dataset_name": _DATASET,
            "image_filename": _IMAGE,
            "text_prompt": Field(Str(not_blank=True, max_length=200), required=True),
            "output_type": Field(Str(enum=PROMPT_OUTPUT_TYPES)),
            "confidence_threshold": Field(_UNIT),
            "max_detections": Field(Int(minimum=1, maximum=_MAX_PROMPT_DETECTIONS)),
        }
    ),
    role="member",
    action="auto-annotate images",
    errors=(402, 403, 404),
)
def text(call: Call) -> Reply:
    fields = call.fields()
    picture, sha, finish = _prompt(call, fields)
    phrase = fields["text_prompt"].strip()
    threshold = fields.get("confidence_threshold")
    threshold = 0.3 if threshold is None else threshold
    found = picture.objects(phrase, sha)
    finish()
    kept: list[Region] = [r for r in found if r.score >= threshold]
    kept = kept[: fields.get("max_detections") or 50]
    status = "success" if kept else ("below_threshold" if found else "no_detection")
    kind = fields.get("output_type") or "polygon"
    world = call.world
    annotations = [r.annotation(world.ids.uuid(), phrase, kind) for r in kept]
    return reply({"status": status, "annotations": annotations, **_t(len(found))})


def _prompt(call: Call, fields: dict[str, Any]) -> tuple[Picture, str, Callable[[], None]]:
    """The prompted image's picture, its SHA-256, and what charges its session once the
    prompt is answered (a refused prompt is free)."""
    world = call.world
    dataset: Dataset = world.dataset(call.key.organization_id, fields["dataset_name"])
    world.cold_storage.require_warm(dataset, "a SAM3 prompt")
    service = world.auto_annotation
    image: Image = service.image(dataset, fields["image_filename"])
    content, _ = world.image_service.content(image)
    try:
        picture, sha = service.session(call.key, content)
    except UnreadableImage as exc:
        raise InvalidRequest(str(exc), code="image_unreadable") from None
    return picture, sha, lambda: service.charge_session(call.key, sha)


def _inside(picture: Picture, x: float, y: float, loc: tuple[str | int, ...]) -> None:
    if not (0 <= x < picture.width and 0 <= y < picture.height):
        raise InvalidRequest(
            f"The point ({x:g}, {y:g}) is outside the image ({picture.width} x "
            f"{picture.height} pixels): send a point inside it.",
            errors=[field_error(loc, "Point outside the image", "value_error")],
        )


def _box(
    picture: Picture, box: dict[str, float], loc: tuple[str | int, ...]
) -> tuple[float, float, float, float]:
    x, y, w, h = box["x"], box["y"], box["w"], box["h"]
    if w <= 0 or h <= 0 or x >= picture.width or y >= picture.height or x + w <= 0 or y + h <= 0:
        raise InvalidRequest(
            f"The box (x={x:g}, y={y:g}, w={w:g}, h={h:g}) does not cover any of the image "
            f"({picture.width} x {picture.height} pixels): send a box with a positive width "
            "and height over the image.",
            errors=[field_error(loc, "Box outside the image", "value_error")],
        )
    return x, y, w, h


def _t(regions: int) -> dict[str, float]:
    """The GPU time a prompt reports: a decode, and a little per region it outlined."""
    return {"inference_time": round(0.08 + 0.01 * regions, 3)}
