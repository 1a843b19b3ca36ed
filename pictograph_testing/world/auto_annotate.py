"""Auto-annotation: SAM3 prompts on one image, and batch jobs over many.

A batch job labels the images it names with SAM3 (a phrase per class, read from each
image's pixels: :mod:`pictograph_testing.world.sam3`) or with a trained model's current
version (:func:`~pictograph_testing.world.predictions.predict_for`). Its price is one
function (:meth:`AutoAnnotation.price`), which both ``quote`` and the start call, so the
quote is the charge; the whole estimate is debited when the job starts, 402 when the
balance does not cover it. The job is ``pending`` for the tariff's queue time, then
``running`` while its containers share the images, and ``completed`` when they are
done. Each image's drafts are written at the instant it is done, beside its annotations
(one that repeats an annotation of its class is dropped), a class of
``output_type="tag"`` as image tags.

In the jobs feed (``client.jobs``) a job is of type :data:`AUTO_ANNOTATE_JOB`, read from
it as it stands (:meth:`AutoAnnotation.job`): ``pending`` is the feed's ``queued``, and
its cancel route is ``cancel_batch``'s.

A cancel ends it at once: the images processed by then keep their drafts, the rest get
none. The SDK says a cancel does not give the pre-charge back "by the time an SDK
caller can cancel, the GPU job has already started": so a running job's is kept, and
only a job cancelled while still ``pending`` (no container started) is refunded whole.

Interactive prompts (``sam3/point``, ``box``, ``text``) write nothing; they charge the
session fee once per image (by its bytes) for the organization, when the first prompt
on it completes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import AUTO_ANNOTATE
from pictograph_testing.world.annotations import canonical_annotations, class_list
from pictograph_testing.world.billing import AUTO_ANNOTATE_REFUND, usd_pair
from pictograph_testing.world.datasets import class_kind
from pictograph_testing.world.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
)
from pictograph_testing.world.job_kinds import AUTO_ANNOTATE_JOB, JobOrder, JobView, job_order
from pictograph_testing.world.predictions import (
    UnreadableImage,
    content_hash,
    image_size,
    predict_for,
)
from pictograph_testing.world.sam3 import Picture, read_picture

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.entities import ApiKey, Dataset, Image, Model
    from pictograph_testing.world.state import World

__all__ = [
    "BATCH_OPERATION",
    "MODEL_OPERATION",
    "REFUND_OPERATION",
    "SAM3",
    "SESSION_OPERATION",
    "SIMILAR_MAX_IMAGES",
    "SIMILAR_OPERATION",
    "AutoAnnotateJob",
    "AutoAnnotation",
    "BatchPlan",
    "ClassSpec",
    "SimilarPlan",
    "auto_annotate_order",
]

SAM3 = "sam3"
"""The ``model_id`` that names SAM3 rather than a trained model."""
_JOB_STATUS = {"pending": "queued"}
"""A job's status in the feed's words, where they differ (``running``, ``completed`` and
``cancelled`` are the same)."""
BATCH_OPERATION = "sam3_auto_annotation"
"""The ledger operation of a SAM3 batch job's pre-charge."""
MODEL_OPERATION = "auto_annotate_model"
"""The ledger operation of a trained-model batch job's pre-charge."""
SESSION_OPERATION = "sam3_session"
"""The ledger operation of an interactive SAM3 prompt's session fee."""
REFUND_OPERATION = AUTO_ANNOTATE_REFUND
"""The ledger operation that gives back a job cancelled before it started."""
SIMILAR_MAX_IMAGES = 2000
"""The most images one "Annotate similar" job labels (the SDK's ``SimilarQuote``)."""
SIMILAR_AREA_FACTOR = 4.0
"""How much larger or smaller than the examples a match may be."""
SIMILAR_OPERATION = "sam3_annotate_similar"
"""The ledger operation of an "Annotate similar" job's charge, posted when it completes."""
_DUPLICATE_IOU = 0.9
"""A draft overlapping an annotation of its class this much repeats it, and is dropped."""


@dataclass(frozen=True)
class ClassSpec:
    """One class a job labels: its name, and what it writes (polygon, bbox or tag)."""

    name: str
    output_type: str


@dataclass(frozen=True)
class BatchPlan:
    """What a job over some images would do and cost: the one price quote and start use."""

    total_images: int
    prices: tuple[int, ...]
    """Each image's price (µUSD), in the job's order (projected images last)."""
    passes: int
    """Grounding passes over all the images (a trained model's: one an image)."""
    sahi_tiles: int
    containers: int

    @property
    def total(self) -> int:
        return sum(self.prices)

    @property
    def seconds(self) -> float:
        """How long the job's containers run, sharing its passes."""
        if not self.containers:
            return 0.0
        return round(self.passes * AUTO_ANNOTATE.seconds_per_pass / self.containers, 3)


@dataclass(slots=True)
class AutoAnnotateJob:
    """One batch job: what it labels, with what, and how it stands."""

    id: str
    organization_id: str
    dataset_id: str
    image_ids: list[str]
    classes: list[ClassSpec]
    model_id: str | None
    """``None``: SAM3."""
    version_id: str | None
    confidence: float
    top_k: int
    plan: BatchPlan
    created_at: float
    starts_at: float
    ends_at: float
    status: str = "pending"
    """``pending`` and ``running`` are read off the clock; this holds how it ended."""
    processed: int = 0
    applied: int = 0
    """Images whose drafts are written (or which failed): the first ``applied`` of them."""
    annotations_added: int = 0
    failed_images: int = 0
    error: str | None = None
    completed_at: float | None = None
    refunded: int = 0
    tags: dict[str, list[str]] = field(default_factory=dict)
    example_area: float | None = None
    """An "Annotate similar" job's: the mean area of its examples' boxes, which a match's
    must be within a factor of :data:`SIMILAR_AREA_FACTOR` of. ``None``: a batch job."""
    name: str = ""
    """What it does, in a sentence: its ledger entry's and its jobs-feed row's."""
    seq: int = 0
    """Its place among the world's jobs of this kind (the jobs feed orders by it)."""
    runs_before: int = 0
    """Training runs created before it (a run made at the same instant sorts below it)."""

    @property
    def similar(self) -> bool:
        """An "Annotate similar" job: charged when it completes, free if it does not."""
        return self.example_area is not None


@dataclass(frozen=True)
class SimilarPlan:
    """What an "Annotate similar" job would label, and its estimate: quote and start."""

    examples: list[dict[str, Any]]
    target_class: str
    output_type: str
    scope: str
    directory: str
    images: list[Image]
    """The images it labels (the scope's, at most the cap), the example's own left out."""
    total_in_scope: int
    plan: BatchPlan


class AutoAnnotation:
    """Price, start, cancel and end batch jobs; answer SAM3 prompts."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.jobs: dict[str, AutoAnnotateJob] = {}
        self._of_organization: dict[str, list[AutoAnnotateJob]] = {}
        """Each organization's jobs, oldest first (the jobs feed reads one organization's)."""
        self._live: dict[str, AutoAnnotateJob] = {}
        self._sessions: set[tuple[str, str]] = set()
        """(organization id, SHA-256 of an image's bytes) whose session fee is paid."""
        self._next_event = math.inf

    @property
    def holds_state(self) -> bool:
        """Whether a job was started or a session paid (a snapshot cannot keep them yet)."""
        return bool(self.jobs or self._sessions)

    # ── images ──

    def images(self, dataset: Dataset, refs: Sequence[str]) -> list[Image]:
        """The images ``refs`` name, each once, in the order named: an id or a path is
        that image, a bare filename every image of that name; 404 naming what matched
        nothing."""
        found: dict[str, Image] = {}
        missing: list[str] = []
        for ref in refs:
            matched = self._matching(dataset, ref)
            if not matched:
                missing.append(ref)
            for image in matched:
                found.setdefault(image.id, image)
        if missing:
            shown = ", ".join(f"'{m}'" for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise NotFound(
                f"No image of dataset '{dataset.name}' matches {shown}{more}: name each "
                "image by its id, its path inside the dataset ('val/x.jpg') or its filename."
            )
        return list(found.values())

    def image(self, dataset: Dataset, ref: str) -> Image:
        """The one image ``ref`` names (a bare filename: the dataset root's first), or 404."""
        matched = self._matching(dataset, ref)
        if not matched:
            raise NotFound(f"Image '{ref}' not found in dataset '{dataset.name}'")
        return matched[0]

    def _matching(self, dataset: Dataset, ref: str) -> list[Image]:
        world = self._world
        by_id = world.images.get(ref.strip().lower())
        if by_id is not None and by_id.dataset_id == dataset.id:
            return [by_id]
        # A path names one image: a rooted filename ('/x.jpg') the root's, as 'val/x.jpg'
        # names val's; only a bare filename names every image called so.
        if ref.startswith("/") or "/" in ref.strip("/"):
            directory, _, filename = ref.strip("/").rpartition("/")
            image = world.image_service.find(dataset, "/" + directory, filename)
            return [image] if image is not None else []
        return world.image_service.named(dataset, ref.strip("/"))

    # ── prices ──

    def price(
        self,
        sizes: Sequence[tuple[int, int]],
        classes: Sequence[ClassSpec],
        model: Model | None,
        sahi_slice: int | None,
    ) -> BatchPlan:
        """The plan (and price) of a job over images of these sizes: quote and start."""
        tariff = AUTO_ANNOTATE
        prices: list[int] = []
        passes = tiles = 0
        for width, height in sizes:
            if model is not None:
                prices.append(tariff.model_micro_usd_per_image)
                passes += 1
                continue
            image_tiles = _tiles(width, height, sahi_slice) if sahi_slice else 0
            image_passes = max(1, len(classes)) * (1 + image_tiles)
            tiles += max(1, len(classes)) * image_tiles
            passes += image_passes
            prices.append(image_passes * tariff.sam3_micro_usd_per_pass)
        count = len(sizes)
        containers = min(tariff.max_containers, math.ceil(count / tariff.images_per_container))
        return BatchPlan(count, tuple(prices), passes, tiles, containers)

    def stored_size(self, image: Image) -> tuple[int, int]:
        """The size an image is priced at: its recorded one, else the tariff's assumed."""
        if image.width and image.height:
            return image.width, image.height
        return AUTO_ANNOTATE.assumed_size

    # ── jobs ──

    def get(self, key: ApiKey, job_id: str) -> AutoAnnotateJob:
        """The organization's job with this id, or 404 (another's is none of its)."""
        job = self.jobs.get(job_id.strip().lower())
        if job is None or job.organization_id != key.organization_id:
            raise NotFound(f"Auto-annotate job '{job_id}' not found")
        return job

    def status(self, job: AutoAnnotateJob) -> str:
        if job.status != "pending":
            return job.status
        return "pending" if self._world.now() < job.starts_at else "running"

    def processed(self, job: AutoAnnotateJob) -> int:
        """Images done: all that ran once it ended, a share of them while running."""
        if job.status != "pending":
            return job.processed
        return _done_at(job, self._world.now())

    def progress(self, job: AutoAnnotateJob) -> int:
        """Percent done: 100 once completed, short of it while any image is left."""
        total = len(job.image_ids)
        if self.status(job) == "completed":
            return 100
        return (99 * self.processed(job)) // total if total else 0

    def of_organization(self, organization_id: str) -> list[AutoAnnotateJob]:
        """The organization's jobs, oldest first (read only)."""
        return self._of_organization.get(organization_id, [])

    def _keep(self, job: AutoAnnotateJob) -> None:
        """Keep a job just started: by id, by organization, and among the live ones."""
        self.jobs[job.id] = job
        self._of_organization.setdefault(job.organization_id, []).append(job)
        self._live[job.id] = job

    def live(self, organization_id: str) -> list[AutoAnnotateJob]:
        """The organization's jobs still pending or running."""
        return [j for j in self._live.values() if j.organization_id == organization_id]

    def job(self, job: AutoAnnotateJob) -> JobView:
        """The job as the jobs feed shows it (type :data:`AUTO_ANNOTATE_JOB`)."""
        status = self.status(job)
        model = self._world.models.get(job.model_id) if job.model_id is not None else None
        return JobView(
            id=job.id,
            type=AUTO_ANNOTATE_JOB,
            status=_JOB_STATUS.get(status, status),
            progress=float(self.progress(job)),
            name=job.name,
            dataset_id=job.dataset_id,
            error=job.error,
            created_at=job.created_at,
            updated_at=(
                job.completed_at
                if job.completed_at is not None
                else job.starts_at
                if status == "running"
                else job.created_at
            ),
            completed_at=job.completed_at,
            cancellable=status in ("pending", "running"),
            detail={
                "model_id": job.model_id or SAM3,
                "model_name": model.name if model is not None else "SAM3",
                "similar": job.similar,
                "total_images": len(job.image_ids),
                "processed_images": self.processed(job),
                "total_annotations_added": job.annotations_added,
                "failed_images": job.failed_images,
            },
            order=auto_annotate_order(job),
        )

    def start(
        self,
        key: ApiKey,
        dataset: Dataset,
        images: Sequence[Image],
        classes: Sequence[ClassSpec],
        model: Model | None,
        *,
        confidence: float,
        top_k: int,
        sahi_slice: int | None,
    ) -> AutoAnnotateJob:
        """Charge the plan's price and queue the job; 402 (nothing charged) when the
        balance does not cover it."""
        world = self._world
        world.cold_storage.require_warm(dataset, "auto-annotation")
        self.check_classes(dataset, classes, model)
        plan = self.price([self.stored_size(i) for i in images], classes, model, sahi_slice)
        org = world.organizations[key.organization_id]
        spendable = world.billing.spendable(org)
        if spendable < plan.total:
            needs, has = usd_pair(plan.total, spendable)
            raise InsufficientCredits(
                f"Not enough credit for this auto-annotate job of {plan.total_images} "
                f"images (estimated {needs}, has {has}): top up or send fewer images.",
                required=plan.total,
                remaining=spendable,
            )
        now = world.now()
        starts = now + AUTO_ANNOTATE.queue_seconds
        job = AutoAnnotateJob(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            dataset_id=dataset.id,
            image_ids=[image.id for image in images],
            classes=list(classes),
            model_id=model.id if model is not None else None,
            version_id=model.current.id if model is not None else None,
            confidence=confidence,
            top_k=top_k,
            plan=plan,
            created_at=now,
            starts_at=starts,
            ends_at=starts + plan.seconds,
            name=f"Auto-annotate {plan.total_images} images of '{dataset.name}' with "
            + (f"model '{model.name}'" if model is not None else "SAM3"),
            seq=len(self.jobs),
            runs_before=len(world.runs),
        )
        world.billing.post(
            org,
            MODEL_OPERATION if model is not None else BATCH_OPERATION,
            -plan.total,
            description=job.name,
            metadata={"job_id": job.id, "dataset_id": dataset.id},
        )
        self._keep(job)
        self._next_event = min(self._next_event, _image_done_at(job, 1))
        world.agenda.expect(self._next_event)
        return job

    def check_classes(
        self, dataset: Dataset, classes: Sequence[ClassSpec], model: Model | None
    ) -> None:
        """Refuse (422) what the job could not write: no class for SAM3, a tag class
        for SAM3, or a polygon/bbox class the dataset does not have."""
        if model is None and not classes:
            raise InvalidRequest(
                "SAM3 needs at least one class to find: send classes=[{'name': ..., "
                "'output_type': 'polygon'}], or name a trained model."
            )
        known = dataset.class_names
        for spec in classes:
            if spec.output_type == "tag":
                if model is None or model.model_type != "classification":
                    raise InvalidRequest(
                        f"Class '{spec.name}' asks for output_type 'tag', which only a "
                        "classification model writes: use 'polygon' or 'bbox' with SAM3 "
                        "or a detector."
                    )
            elif spec.name not in known:
                listed = class_list(known)
                raise InvalidRequest(
                    f"'{spec.name}' is not a class of dataset '{dataset.name}' (classes: "
                    f"{listed}): add it to the dataset first, or label with one of them."
                )

    def cancel(self, job: AutoAnnotateJob) -> AutoAnnotateJob:
        """End a pending or running job now (409 once it has ended)."""
        status = self.status(job)
        if status not in ("pending", "running"):
            raise Conflict(
                f"Auto-annotate job '{job.id}' is already {status}; only a pending or "
                "running job can be cancelled."
            )
        world = self._world
        done = self.processed(job)
        del self._live[job.id]
        self._apply(job, done, world.now())
        job.status = "cancelled"
        job.completed_at = world.now()
        if status == "pending" and not job.similar:
            # No container had started: nothing was spent, and the deposit comes back.
            job.refunded = job.plan.total
            world.billing.post(
                world.organizations[job.organization_id],
                REFUND_OPERATION,
                job.refunded,
                description="Auto-annotate job cancelled before it started",
                metadata={"job_id": job.id},
            )
        self._plan_next()
        return job

    # ── "Annotate similar" ──

    def plan_similar(
        self,
        key: ApiKey,
        dataset: Dataset,
        image: Image,
        *,
        annotation_ids: Sequence[str],
        reference_class: str | None,
        scope: str,
        target_class: str | None,
        output_type: str,
    ) -> SimilarPlan:
        """Every check a start makes, and its estimate: 404 for an example id the image
        lacks, 422 for examples that are not polygons or name no one class, a target the
        dataset lacks or of the wrong kind, or nothing else in scope."""
        examples = self._examples(image, annotation_ids, reference_class)
        target = target_class
        if target is None:
            names = sorted({str(e["name"]) for e in examples})
            if len(names) != 1:
                raise InvalidRequest(
                    f"The examples are of several classes ({', '.join(names)}): name the "
                    "class to label their matches as with target_class."
                )
            target = names[0]
        kinds: dict[str, set[object]] = {}
        for c in dataset.classes:
            kinds.setdefault(str(c["name"]), set()).add(class_kind(c.get("type")))
        if target not in kinds:
            listed = class_list(kinds)
            raise InvalidRequest(
                f"'{target}' is not a class of dataset '{dataset.name}' (classes: {listed})."
            )
        wanted = "polygon" if output_type == "polygon" else "bbox"
        if wanted not in kinds[target] and None not in kinds[target]:
            has = " and ".join(sorted(str(k) for k in kinds[target]))
            raise InvalidRequest(
                f"output_type '{output_type}' writes {wanted} annotations, and class "
                f"'{target}' is a {has} class: pick a {wanted} class as target_class, or "
                "the output_type that fits it."
            )
        world = self._world
        if scope == "directory":
            in_scope = [
                other
                for other in world.dataset_images(dataset)
                if other.directory_path == image.directory_path
            ]
        else:
            in_scope = world.dataset_images(dataset)
        others = [other for other in in_scope if other.id != image.id]
        if not others:
            where = f"folder '{image.directory_path}'" if scope == "directory" else "dataset"
            raise InvalidRequest(
                f"Nothing to label: the {where} holds no image but the example's. Use "
                "scope='dataset', or add images first."
            )
        chosen = others[:SIMILAR_MAX_IMAGES]
        spec = [ClassSpec(target, output_type)]
        plan = self.price([self.stored_size(i) for i in chosen], spec, None, None)
        return SimilarPlan(
            examples=examples,
            target_class=target,
            output_type=output_type,
            scope=scope,
            directory=image.directory_path,
            images=chosen,
            total_in_scope=len(others),
            plan=plan,
        )

    def _examples(
        self, image: Image, annotation_ids: Sequence[str], reference_class: str | None
    ) -> list[dict[str, Any]]:
        if annotation_ids:
            by_id = {str(a.get("id")): a for a in image.annotations}
            missing = [i for i in annotation_ids if i not in by_id]
            if missing:
                raise NotFound(
                    f"Annotation '{missing[0]}' is not on image '{image.path}': "
                    "client.annotations.get lists the image's annotations and their ids."
                )
            examples = [by_id[i] for i in annotation_ids]
            flat = [str(e.get("id")) for e in examples if e.get("type") != "polygon"]
            if flat:
                raise InvalidRequest(
                    f"Annotation '{flat[0]}' is not a polygon: the examples of "
                    "'Annotate similar' are polygons drawn around an object."
                )
            return examples
        examples = [
            a
            for a in image.annotations
            if a.get("name") == reference_class and a.get("type") == "polygon"
        ]
        if not examples:
            raise InvalidRequest(
                f"Image '{image.path}' has no polygon of class '{reference_class}' to learn "
                "from: draw one around an example object first."
            )
        return examples

    def start_similar(
        self, key: ApiKey, dataset: Dataset, similar: SimilarPlan, confidence: float
    ) -> AutoAnnotateJob:
        """Queue the job; 402 when the balance does not cover its estimate (it is charged
        when it completes, and not at all if it fails or is cancelled)."""
        world = self._world
        world.cold_storage.require_warm(dataset, "Annotate similar")
        plan = similar.plan
        org = world.organizations[key.organization_id]
        spendable = world.billing.spendable(org)
        if spendable < plan.total:
            needs, has = usd_pair(plan.total, spendable)
            # The narrower scope is advice only to a call that has not taken it.
            narrower = "" if similar.scope == "directory" else ", or use scope='directory'"
            raise InsufficientCredits(
                f"Not enough credit to start 'Annotate similar' on {plan.total_images} "
                f"images (estimated {needs}, has {has}): top up{narrower}.",
                required=plan.total,
                remaining=spendable,
            )
        areas = [b[2] * b[3] for b in map(_box, similar.examples) if b is not None]
        now = world.now()
        starts = now + AUTO_ANNOTATE.queue_seconds
        job = AutoAnnotateJob(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            dataset_id=dataset.id,
            image_ids=[image.id for image in similar.images],
            classes=[ClassSpec(similar.target_class, similar.output_type)],
            model_id=None,
            version_id=None,
            confidence=confidence,
            top_k=1,
            plan=plan,
            created_at=now,
            starts_at=starts,
            ends_at=starts + plan.seconds,
            example_area=sum(areas) / len(areas) if areas else 0.0,
            name=f"Annotate similar: {len(similar.images)} images",
            seq=len(self.jobs),
            runs_before=len(world.runs),
        )
        self._keep(job)
        self._next_event = min(self._next_event, _image_done_at(job, 1))
        world.agenda.expect(self._next_event)
        return job

    # ── the clock ──

    @property
    def next_event(self) -> float:
        return self._next_event

    def advance_to(self, now: float) -> None:
        """Write, in time order, the drafts of every image done by ``now``, and end every
        job due by then.

        Jobs running side by side take turns by the instant each image is done (then by
        their order), so the drafts' ids are drawn in the same order however the clock
        got to ``now``.
        """
        if now < self._next_event:
            return
        live = self._live
        while live:
            turns = sorted((_image_done_at(j, j.applied + 1), j.seq, j) for j in live.values())
            at, seq, job = turns[0]
            if at > now:
                break
            # Up to the next image of another job: at that instant, the job first in order.
            bound = now
            if len(turns) > 1:
                other_at, other_seq, _ = turns[1]
                if other_at <= bound:
                    bound = other_at if seq < other_seq else math.nextafter(other_at, -math.inf)
            if job.ends_at > bound:
                done = _done_at(job, bound)
                self._apply(job, done, _image_done_at(job, done))
                continue
            del live[job.id]
            self._apply(job, len(job.image_ids), job.ends_at)
            job.status = "completed"
            job.completed_at = job.ends_at
            if job.similar:
                self._world.billing.post(
                    self._world.organizations[job.organization_id],
                    SIMILAR_OPERATION,
                    -job.plan.total,
                    description=job.name,
                    metadata={"job_id": job.id, "dataset_id": job.dataset_id},
                    at=job.ends_at,
                )
        self._plan_next()

    def _plan_next(self) -> None:
        self._next_event = min(
            (_image_done_at(j, j.applied + 1) for j in self._live.values()), default=math.inf
        )
        self._world.agenda.expect(self._next_event)

    # ── drafts ──

    def _apply(self, job: AutoAnnotateJob, count: int, at: float) -> None:
        """Write the drafts of the job's first ``count`` images (those not written yet);
        the last of them was done at ``at``."""
        if count <= job.applied:
            return
        world = self._world
        dataset = world.datasets.get(job.dataset_id)
        model = world.models.get(job.model_id) if job.model_id is not None else None
        first, job.applied = job.applied, count
        for image_id in job.image_ids[first:count]:
            image = world.images.get(image_id)
            if dataset is None or image is None or image.dataset_id != dataset.id:
                job.failed_images += 1  # deleted (or moved away) since the job started
                continue
            content, _ = world.image_service.content(image)
            tags: list[str] = []
            try:
                if model is None:
                    drafts = self._sam3_drafts(job, content)
                else:
                    drafts, tags = self._model_drafts(job, model, image, content)
            except UnreadableImage:
                job.failed_images += 1  # HEIC: its pixels are not read
                continue
            job.processed += 1
            if tags:
                image.tags[:] = list(dict.fromkeys([*image.tags, *tags]))
                job.tags[image.id] = tags
            kept = [d for d in drafts if not _repeats(d, image.annotations)]
            if kept:
                checked = canonical_annotations(
                    kept,
                    None,
                    loc=("job", image.id),
                    new_id=world.ids.uuid,
                    dataset_name=dataset.name,
                )
                image.annotations = [*image.annotations, *checked]
                job.annotations_added += len(checked)
        if dataset is not None:
            dataset.updated_at = at

    def _sam3_drafts(self, job: AutoAnnotateJob, content: bytes) -> list[dict[str, Any]]:
        picture = read_picture(content)
        digest = content_hash(content)
        drafts: list[dict[str, Any]] = []
        for spec in job.classes:
            for region in picture.objects(spec.name, digest):
                if region.score < job.confidence or not _alike(region.box, job.example_area):
                    continue
                kind = "bbox" if spec.output_type == "obb" else spec.output_type
                draft = region.annotation("", spec.name, kind)
                del draft["id"]
                if spec.output_type == "obb":
                    x, y, w, h = region.box
                    turned = {"cx": x + w / 2, "cy": y + h / 2, "w": w, "h": h, "angle": 0.0}
                    draft["oriented_box"] = turned
                drafts.append(draft)
        return drafts

    def _model_drafts(
        self, job: AutoAnnotateJob, model: Model, image: Image, content: bytes
    ) -> tuple[list[dict[str, Any]], list[str]]:
        world = self._world
        width, height = image_size(content)
        version = next((v for v in model.versions if v.id == job.version_id), model.current)
        found = predict_for(
            world,
            model,
            version,
            content_hash(content),
            width,
            height,
            # The model sees what is in the picture: an image already labelled shows it
            # the objects it was labelled with; an unlabelled one, what its bytes hold.
            image if image.annotations else None,
            confidence=job.confidence,
            top_k=job.top_k,
        )
        wanted = {spec.name: spec.output_type for spec in job.classes}
        dataset = world.datasets[image.dataset_id]
        if model.model_type == "classification":
            return [], [p.name for p in found if not wanted or p.name in wanted]
        drafts = []
        for prediction in found:
            kind = wanted.get(prediction.name) if wanted else prediction.kind
            if kind is None or prediction.name not in dataset.class_names:
                continue
            draft = prediction.annotation()
            if kind == "bbox" and draft["type"] == "polygon":
                draft = {k: v for k, v in draft.items() if k != "polygon"} | {"type": "bbox"}
            drafts.append(draft)
        return drafts, []

    # ── interactive prompts ──

    def session(self, key: ApiKey, content: bytes) -> tuple[Picture, str]:
        """The picture of ``content`` and its SHA-256; 402 when its session is unpaid and
        the balance does not cover the fee (charged by :meth:`charge_session`)."""
        picture = read_picture(content)
        sha = hashlib.sha256(content).hexdigest()
        if (key.organization_id, sha) not in self._sessions:
            org = self._world.organizations[key.organization_id]
            spendable = self._world.billing.spendable(org)
            fee = AUTO_ANNOTATE.session_micro_usd
            if spendable < fee:
                needs, has = usd_pair(fee, spendable)
                raise InsufficientCredits(
                    f"Not enough credit for a SAM3 session on this image (the fee is "
                    f"{needs}, has {has}): top up first.",
                    required=fee,
                    remaining=spendable,
                )
        return picture, sha

    def charge_session(self, key: ApiKey, sha: str) -> None:
        """Charge the session fee for this image, once per organization."""
        if (key.organization_id, sha) in self._sessions:
            return
        self._sessions.add((key.organization_id, sha))
        self._world.billing.post(
            self._world.organizations[key.organization_id],
            SESSION_OPERATION,
            -AUTO_ANNOTATE.session_micro_usd,
            description="SAM3 session",
            metadata={"image_sha256": sha},
        )


def auto_annotate_order(job: AutoAnnotateJob) -> JobOrder:
    """Where a job stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(AUTO_ANNOTATE_JOB, job.created_at, job.runs_before, job.seq)


def _tiles(width: int, height: int, side: int) -> int:
    """SAHI tiles over an image: overlapping ``side``-pixel squares covering it."""
    step = side * (1 - AUTO_ANNOTATE.sahi_overlap)

    def along(extent: int) -> int:
        return 1 if extent <= side else 1 + math.ceil((extent - side) / step)

    return along(width) * along(height)


def _alike(box: tuple[float, float, float, float], area: float | None) -> bool:
    """Whether a region is the examples' size, give or take :data:`SIMILAR_AREA_FACTOR`
    (any region is, for a batch job)."""
    if not area:
        return True
    size = box[2] * box[3]
    return area / SIMILAR_AREA_FACTOR <= size <= area * SIMILAR_AREA_FACTOR


def _box(annotation: dict[str, Any]) -> tuple[float, float, float, float] | None:
    box = annotation.get("bounding_box")
    if not isinstance(box, dict):
        return None
    return float(box["x"]), float(box["y"]), float(box["w"]), float(box["h"])


def _repeats(draft: dict[str, Any], existing: Sequence[dict[str, Any]]) -> bool:
    """Whether an annotation of the draft's class and type already covers its box."""
    box = _box(draft)
    if box is None:
        return False
    for annotation in existing:
        if annotation.get("name") != draft["name"] or annotation.get("type") != draft["type"]:
            continue
        other = _box(annotation)
        if other is not None and _iou(box, other) >= _DUPLICATE_IOU:
            return True
    return False


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _done_at(job: AutoAnnotateJob, at: float) -> int:
    """How many of a live job's images its containers have done by ``at``."""
    total = len(job.image_ids)
    if at >= job.ends_at:
        return total
    if at < job.starts_at or job.ends_at <= job.starts_at:
        return 0
    share = (at - job.starts_at) / (job.ends_at - job.starts_at)
    return min(total, math.floor(total * share))


def _image_done_at(job: AutoAnnotateJob, count: int) -> float:
    """The instant a live job has done ``count`` images (its end, for all or more)."""
    total = len(job.image_ids)
    if count >= total or job.ends_at <= job.starts_at:
        return job.ends_at
    at = min(job.ends_at, job.starts_at + count * (job.ends_at - job.starts_at) / total)
    # The first instant the share reads as done: rounding can leave it a hair short.
    while _done_at(job, at) < count:
        at = math.nextafter(at, math.inf)
    return at
