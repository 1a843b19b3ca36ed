"""Model evaluations: batch-inference jobs on the virtual GPU clock that score a model.

An evaluation runs a model version over the images an export froze and scores its
predictions (the prediction engine's, at the evaluation's confidence threshold) against
the images' ground truth with the SDK's metric definitions (:mod:`.scoring`); a semantic
segmentation model's polygons are scored per pixel, on a coarse raster, against the truth's
polygons of the model's classes.

Lifecycle, discrete-event and lazy like training: ``pending`` while it waits for one of
the tier's workers and during the cold start, ``running`` while the images go through,
then ``completed`` (or ``failed``: nothing to score, or a failure a test armed).
``cancelled`` from ``pending`` or ``running``. The next end comes from a heap.

Billing: the running minutes of a ``completed`` evaluation, or of one cancelled while
running, are debited as the tier's operation (``inference_t4``, started minutes); a
``failed`` evaluation is free. Creating one needs the estimated cost spendable (402).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pictograph_testing.catalog import EVALUATION_TIER, OPERATIONS, PIPELINES
from pictograph_testing.world.billing import billable_minutes, usd_pair
from pictograph_testing.world.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    field_error,
)
from pictograph_testing.world.failures import FailureQueue
from pictograph_testing.world.job_kinds import EVALUATION_JOB, JobOrder, JobView, job_order
from pictograph_testing.world.ordered import NewestFirst, SortedIndex, by_seq, index_in
from pictograph_testing.world.predictions import (
    UnreadableImage,
    content_hash,
    image_size,
    predict_for,
    true_tag,
)
from pictograph_testing.world.scoring import (
    ImageTally,
    Scores,
    score_detections,
    score_pixels,
    score_tags,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.entities import ApiKey, Export, Model, ModelVersion
    from pictograph_testing.world.state import World

__all__ = [
    "EVALUATED_MODEL_TYPES",
    "Evaluation",
    "EvaluationService",
    "EvaluationStatus",
    "ImageOutcome",
    "evaluation_job",
    "evaluation_order",
    "unscored",
]

EvaluationStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
EVALUATED_MODEL_TYPES = (
    "object_detection",
    "instance_segmentation",
    "semantic_segmentation",
    "classification",
)
"""What the service evaluates (keypoint models are not scored)."""


def unscored(model: Model, scored: Sequence[str]) -> InvalidRequest:
    """The 422 of evaluating a model of a type the API does not score (``scored``: the
    types it does, for the caller)."""
    return InvalidRequest(
        f"Model '{model.name}' is a {model.model_type} model; evaluations score "
        f"{', '.join(scored)} models.",
        errors=[field_error(("body", "model_id"), "model type not evaluable", "value_error")],
    )


_RANKED_IMAGES = 5
"""How many best and worst images an evaluation shows."""
NOTHING_TO_SCORE = (
    "None of the export's images carries ground truth for the model's classes; there is "
    "nothing to score."
)
DEFAULT_FAILURE = "The inference worker crashed while evaluating (injected by pictograph-testing)."


@dataclass(frozen=True)
class ImageOutcome:
    """One image's tallies with its predictions and ground truth (best / worst lists)."""

    tally: ImageTally
    filename: str
    directory_path: str
    predictions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]


@dataclass
class Evaluation:
    id: str
    seq: int
    organization_id: str
    model_id: str
    model_name: str
    version_id: str
    dataset_id: str
    dataset_name: str
    export_id: str
    export_name: str
    iou_threshold: float
    confidence_threshold: float
    total_images: int
    running_seconds: float
    created_at: float
    created_by: str
    status: EvaluationStatus = "pending"
    started_at: float | None = None
    """When the worker starts on the images (after the cold start); ``None``: queued."""
    ends_at: float | None = None
    completed_at: float | None = None
    updated_at: float = 0.0
    error_message: str | None = None
    failure: str | None = None
    """A failure a test armed: it strikes when the evaluation would have ended."""
    scores: Scores | None = None
    evaluated_images: int = 0
    failed_images: int = 0
    best: list[ImageOutcome] = field(default_factory=list)
    worst: list[ImageOutcome] = field(default_factory=list)
    runs_before: int = 0
    """Training runs created before it: orders it among jobs created at the same instant."""

    @property
    def terminal(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def status_at(self, now: float) -> EvaluationStatus:
        """The status it shows at ``now`` (the world has caught up to ``now``)."""
        if self.terminal or self.started_at is None or now < self.started_at:
            return self.status
        return "running"

    def progress_at(self, now: float) -> tuple[int, int]:
        """Percent done and images evaluated so far (a cancelled one: when it stopped)."""
        if self.status == "completed":
            return 100, self.evaluated_images
        if self.status == "failed":
            return 0, self.evaluated_images
        if self.status == "cancelled" and self.completed_at is not None:
            # Cancelled while running, it keeps what it did (and is debited for it).
            now = self.completed_at
        if self.started_at is None or now < self.started_at:
            return 0, 0
        share = min(1.0, (now - self.started_at) / self.running_seconds)
        return min(99, int(share * 100)), min(self.total_images, int(share * self.total_images))


class EvaluationService:
    """Create, find, list and cancel evaluations, and run them on the virtual clock."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.evaluations: dict[str, Evaluation] = {}
        # Creation order (``seq``), per organization and per (organization, model or
        # dataset): a page of any listing costs the page.
        self._by_org: dict[str, list[Evaluation]] = {}
        self._by_model: dict[tuple[str, str], list[Evaluation]] = {}
        self._by_dataset: dict[tuple[str, str], list[Evaluation]] = {}
        # For the jobs feed: the live ones per organization, the ended ones per
        # (organization, status), so a filtered page reads neither the other nor history.
        self._live: dict[str, dict[str, Evaluation]] = {}
        self._ended: dict[tuple[str, str], SortedIndex[Evaluation]] = {}
        self._busy: set[str] = set()
        self._waiting: deque[str] = deque()
        self._ends: list[tuple[float, int, str]] = []
        self.failures = FailureQueue("evaluation", DEFAULT_FAILURE)
        """The failures armed for the next evaluations (``fake.faults.fail_evaluation``)."""
        self._seq = 0

    # ── creating ──

    def create(
        self,
        key: ApiKey,
        model: Model,
        export: Export,
        *,
        iou_threshold: float,
        confidence_threshold: float,
    ) -> Evaluation:
        """Start evaluating ``model``'s current version on ``export``; validate first.

        409 for an export that is not completed or a model that is not ready, 422 for a
        model type the service does not score, 402 when the estimated cost is not
        spendable.
        """
        world = self._world
        if model.model_type not in EVALUATED_MODEL_TYPES:
            raise unscored(model, EVALUATED_MODEL_TYPES)
        if model.status != "ready":
            raise Conflict(
                f"Model '{model.name}' is {model.status}; only a ready model is evaluated."
            )
        if export.status != "completed":
            raise Conflict(
                f"Export '{export.name}' is {export.status}; evaluate a completed export."
            )
        version = model.current
        running = _running_seconds(model, version, export.image_count)
        org = world.organizations[key.organization_id]
        estimate = _cost(running)
        spendable = world.billing.spendable(org)
        if spendable < estimate:
            needs, has = usd_pair(estimate, spendable)
            raise InsufficientCredits(
                f"Not enough compute credit for this evaluation (estimated {needs}, has {has}).",
                required=estimate,
                remaining=spendable,
            )
        now = world.now()
        self._seq += 1
        dataset = world.datasets.get(export.dataset_id)
        evaluation = Evaluation(
            id=world.ids.uuid(),
            seq=self._seq,
            organization_id=key.organization_id,
            model_id=model.id,
            model_name=model.name,
            version_id=version.id,
            dataset_id=export.dataset_id,
            dataset_name=dataset.name if dataset is not None else export.dataset_name,
            export_id=export.id,
            export_name=export.name,
            iou_threshold=iou_threshold,
            confidence_threshold=confidence_threshold,
            total_images=export.image_count,
            running_seconds=running,
            created_at=now,
            created_by=key.created_by,
            updated_at=now,
            failure=self.failures.take(),
            runs_before=len(world.runs),
        )
        self.evaluations[evaluation.id] = evaluation
        org_id = key.organization_id
        self._by_org.setdefault(org_id, []).append(evaluation)
        self._by_model.setdefault((org_id, model.id), []).append(evaluation)
        self._by_dataset.setdefault((org_id, evaluation.dataset_id), []).append(evaluation)
        self._live.setdefault(org_id, {})[evaluation.id] = evaluation
        if len(self._busy) < EVALUATION_TIER.workers:
            self._assign(evaluation, now)
        else:
            self._waiting.append(evaluation.id)
        return evaluation

    # ── reading ──

    def find(self, key: ApiKey, evaluation_id: str) -> Evaluation:
        """The organization's evaluation with this id, or 404."""
        found = self.evaluations.get(evaluation_id.strip().lower())
        if found is None or found.organization_id != key.organization_id:
            raise NotFound(f"Model evaluation '{evaluation_id}' not found")
        return found

    def listing(
        self, key: ApiKey, *, model_id: str | None, dataset_id: str | None
    ) -> Sequence[Evaluation]:
        """The organization's evaluations, newest first (by creation, which is also their
        jobs' order), filtered by model and dataset (a view: do not change it)."""
        org = key.organization_id
        if model_id is None:
            if dataset_id is None:
                return NewestFirst(self._by_org.get(org, []))
            return NewestFirst(self._by_dataset.get((org, dataset_id), []))
        of_model = NewestFirst(self._by_model.get((org, model_id), []))
        if dataset_id is None:
            return of_model
        return [e for e in of_model if e.dataset_id == dataset_id]

    def live(self, organization_id: str) -> Iterable[Evaluation]:
        """The organization's evaluations not ended yet (pending or running)."""
        return self._live.get(organization_id, {}).values()

    def ended(self, organization_id: str, status: str) -> Sequence[Evaluation]:
        """The organization's evaluations that ended with ``status``, newest first."""
        index = self._ended.get((organization_id, status))
        return index.newest if index is not None else ()

    # ── cancelling ──

    def cancel(self, evaluation: Evaluation) -> Evaluation:
        """Cancel a pending or running evaluation (409 once it has ended)."""
        if evaluation.terminal:
            raise Conflict(
                f"Model evaluation '{evaluation.id}' is already {evaluation.status}; only a "
                "pending or running evaluation can be cancelled."
            )
        now = self._world.now()
        if evaluation.id in self._busy:
            self._busy.discard(evaluation.id)
            if evaluation.started_at is not None and now > evaluation.started_at:
                self._charge(evaluation, now - evaluation.started_at, now)
            self._end(evaluation, "cancelled", now)
            self._start_waiting(now)
        else:
            self._waiting.remove(evaluation.id)
            self._end(evaluation, "cancelled", now)
        return evaluation

    # ── faults ──

    def fail_next(self, message: str = DEFAULT_FAILURE, *, count: int = 1) -> None:
        """Make the next ``count`` evaluations created end ``failed`` with ``message``."""
        self.failures.arm(message, count=count)

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When an evaluation ends next, at the earliest (for the world's agenda)."""
        return self._ends[0][0] if self._ends else math.inf

    def advance_to(self, now: float) -> None:
        """End, in time order, every evaluation whose moment is at or before ``now``."""
        while self._ends and self._ends[0][0] <= now:
            at, _, evaluation_id = heapq.heappop(self._ends)
            evaluation = self.evaluations[evaluation_id]
            if evaluation_id not in self._busy or evaluation.ends_at != at:
                continue  # cancelled since
            self._busy.discard(evaluation_id)
            self._finish(evaluation, at)
            self._start_waiting(at)

    def _assign(self, evaluation: Evaluation, at: float) -> None:
        self._busy.add(evaluation.id)
        evaluation.started_at = at + EVALUATION_TIER.cold_start_seconds
        evaluation.ends_at = evaluation.started_at + evaluation.running_seconds
        heapq.heappush(self._ends, (evaluation.ends_at, evaluation.seq, evaluation.id))
        self._world.agenda.expect(evaluation.ends_at)

    def _start_waiting(self, at: float) -> None:
        while self._waiting and len(self._busy) < EVALUATION_TIER.workers:
            self._assign(self.evaluations[self._waiting.popleft()], at)

    def _finish(self, evaluation: Evaluation, at: float) -> None:
        if evaluation.failure is not None:
            self._end(evaluation, "failed", at, evaluation.failure)
            return
        model = self._world.models.get(evaluation.model_id)
        version = model.version(evaluation.version_id) if model is not None else None
        if model is None or version is None:
            self._end(evaluation, "failed", at, "The model was deleted while it was evaluated.")
            return
        self._score(evaluation, model, version)
        scores = evaluation.scores
        if scores is None or not any(t.gt_count for t in scores.images):
            evaluation.scores = None
            evaluation.best, evaluation.worst = [], []
            self._end(evaluation, "failed", at, NOTHING_TO_SCORE)
            return
        self._charge(evaluation, evaluation.running_seconds, at)
        self._end(evaluation, "completed", at)

    def _end(
        self, evaluation: Evaluation, status: EvaluationStatus, at: float, error: str | None = None
    ) -> None:
        evaluation.status = status
        org_id = evaluation.organization_id
        del self._live[org_id][evaluation.id]
        index_in(self._ended, (org_id, status), by_seq).add(evaluation)
        evaluation.completed_at = at
        evaluation.updated_at = at
        evaluation.error_message = error
        if status == "cancelled":
            return
        feeds = self._world.feeds
        title = "Evaluation complete" if status == "completed" else "Evaluation failed"
        message = (
            f"The evaluation of model '{evaluation.model_name}' on export "
            f"'{evaluation.export_name}' is ready."
            if status == "completed"
            else f"The evaluation of model '{evaluation.model_name}' failed: {error}"
        )
        feeds.notify(
            evaluation.organization_id,
            "evaluation_complete" if status == "completed" else "evaluation_failed",
            title,
            at=at,
            message=message,
            metadata={"evaluation_id": evaluation.id, "model_id": evaluation.model_id},
            user_id=evaluation.created_by,
        )

    def _charge(self, evaluation: Evaluation, seconds: float, at: float) -> None:
        """Debit ``seconds`` of running, dated ``at``, when the evaluation ended (however
        much later a catch-up reaches it)."""
        cost = _cost(seconds)
        if cost <= 0:
            return
        world = self._world
        world.billing.post(
            world.organizations[evaluation.organization_id],
            EVALUATION_TIER.operation,
            -cost,
            description=(
                f"Model evaluation on {EVALUATION_TIER.name} ({billable_minutes(seconds)} min)"
            ),
            metadata={"evaluation_id": evaluation.id, "model_id": evaluation.model_id},
            at=at,
        )

    # ── scoring ──

    def _score(self, evaluation: Evaluation, model: Model, version: ModelVersion) -> None:
        world = self._world
        export = world.exports.get(evaluation.export_id)
        image_ids = export.image_ids if export is not None else []
        class_filter = set(export.class_filter) if export and export.class_filter else None
        semantic = model.model_type == "semantic_segmentation"
        # A classifier's truth is an image's class among those the export kept.
        tag_classes = [c for c in version.classes if class_filter is None or c in class_filter]
        # Semantic segmentation paints every polygon the model found, whatever its score,
        # so the threshold sweep can be scored from one inference per image.
        floor = 0.0 if semantic else evaluation.confidence_threshold
        predictions: dict[str, list[dict[str, Any]]] = {}
        truth: dict[str, list[dict[str, Any]]] = {}
        sizes: dict[str, tuple[int, int]] = {}
        tags: dict[str, str | None] = {}
        true_tags: dict[str, str] = {}
        outcomes: dict[str, tuple[str, str]] = {}
        failed = 0
        for image_id in image_ids:
            image = world.images.get(image_id)
            if image is None:
                failed += 1
                continue
            content, _ = world.image_service.content(image)
            try:
                width, height = image_size(content)
            except UnreadableImage:
                # A HEIC image is kept by its header alone: its pixels are not read, so the
                # model cannot run on it. It is a failed image, as a deleted one is.
                failed += 1
                continue
            found = predict_for(
                world,
                model,
                version,
                content_hash(content),
                width,
                height,
                image,
                confidence=floor,
            )
            outcomes[image.id] = (image.filename, image.directory_path)
            if model.model_type == "classification":
                label = true_tag(image, tag_classes)
                if label is not None:
                    true_tags[image.id] = label
                    tags[image.id] = found[0].name if found else None
                continue
            predictions[image.id] = [p.annotation() for p in found]
            truth[image.id] = [
                a
                for a in image.annotations
                if class_filter is None or a.get("name") in class_filter
            ]
            if semantic:
                # A mask model has a channel per class it trained on, and masks are polygons.
                truth[image.id] = [
                    a
                    for a in truth[image.id]
                    if a.get("type") == "polygon" and a.get("name") in version.classes
                ]
                sizes[image.id] = (width, height)
        evaluation.failed_images = failed
        evaluation.evaluated_images = len(outcomes)
        if model.model_type == "classification":
            scores = score_tags(tags, true_tags, version.classes)
        elif semantic:
            scores = score_pixels(
                predictions, truth, sizes, confidence=evaluation.confidence_threshold
            )
        else:
            scores = score_detections(predictions, truth, iou_threshold=evaluation.iou_threshold)
        evaluation.scores = scores

        def outcome(tally: ImageTally) -> ImageOutcome:
            filename, directory = outcomes[tally.image_id]
            if model.model_type == "classification":
                guess = tags.get(tally.image_id)
                return ImageOutcome(
                    tally,
                    filename,
                    directory,
                    [] if guess is None else [{"name": guess, "type": "tag"}],
                    [{"name": true_tags[tally.image_id], "type": "tag"}],
                )
            shown = [
                p
                for p in predictions[tally.image_id]
                if p["confidence"] >= evaluation.confidence_threshold
            ]
            return ImageOutcome(tally, filename, directory, shown, truth[tally.image_id])

        ranked = [t for t in scores.images if t.gt_count > 0]
        if scores.family == "semantic_segmentation":
            # Ranked by the image's mIoU, as the service ranks masks.
            worst = sorted(ranked, key=lambda t: t.miou or 0.0)
            best = sorted(ranked, key=lambda t: -(t.miou or 0.0))
            evaluation.worst = [outcome(t) for t in worst[:_RANKED_IMAGES] if (t.miou or 0.0) < 1.0]
        else:
            worst = sorted(ranked, key=lambda t: -(t.fp + t.fn))
            best = sorted(ranked, key=lambda t: t.fp + t.fn)
            evaluation.worst = [outcome(t) for t in worst[:_RANKED_IMAGES] if t.fp + t.fn > 0]
        evaluation.best = [outcome(t) for t in best[:_RANKED_IMAGES]]


def evaluation_job(evaluation: Evaluation, now: float) -> JobView:
    """An evaluation as a job of the jobs feed (``pending`` read as ``queued``)."""
    status = evaluation.status_at(now)
    progress, _ = evaluation.progress_at(now)
    updated = evaluation.updated_at
    if status == "running" and evaluation.started_at is not None:
        updated = max(updated, evaluation.started_at)
    return JobView(
        id=evaluation.id,
        type=EVALUATION_JOB,
        status="queued" if status == "pending" else status,
        progress=float(progress) if status != "failed" else None,
        name=f"{evaluation.model_name} on {evaluation.export_name}",
        dataset_id=evaluation.dataset_id,
        error=evaluation.error_message,
        created_at=evaluation.created_at,
        updated_at=updated,
        completed_at=evaluation.completed_at,
        cancellable=not evaluation.terminal,
        detail={
            "model_id": evaluation.model_id,
            "export_id": evaluation.export_id,
            "total_images": evaluation.total_images,
            "gpu_type": EVALUATION_TIER.name,
        },
        order=evaluation_order(evaluation),
    )


def evaluation_order(evaluation: Evaluation) -> JobOrder:
    """Where an evaluation stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(EVALUATION_JOB, evaluation.created_at, evaluation.runs_before, evaluation.seq)


def _running_seconds(model: Model, version: ModelVersion, images: int) -> float:
    """How long the worker spends on ``images`` images of this model's architecture."""
    pipeline = PIPELINES.get(model.pipeline_type)
    per_image = 0.1
    if pipeline is not None:
        variant = next(
            (v for v in pipeline.variants.values() if v.architecture == version.architecture),
            pipeline.variant(None),
        )
        per_image = variant.seconds_per_image
    tier = EVALUATION_TIER
    return round(tier.overhead_seconds + images * per_image * tier.inference_share / tier.speed, 3)


def _cost(seconds: float) -> int:
    price = OPERATIONS[EVALUATION_TIER.operation].micro_usd_per_unit or 0
    return price * billable_minutes(seconds)
