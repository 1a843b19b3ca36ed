"""Model evaluations through the real SDK: lifecycle, metrics, billing, errors, async."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.metrics import confusion_matrix, evaluate_detections
from pictograph.models.annotation import Annotation
from pictograph.models.training import PipelineType
from pydantic import TypeAdapter

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import EVALUATION_TIER, OPERATIONS
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph
    from pictograph.models.evaluation import ModelEvaluation

_ANNOTATION: TypeAdapter[Annotation] = TypeAdapter(Annotation)
PRICE = OPERATIONS[EVALUATION_TIER.operation].micro_usd_per_unit or 0


def _train(client: pictograph.Client, name: str = "m1", pipeline: PipelineType = "yolox") -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type=pipeline, name=name)
    assert run.model_id is not None
    return run.model_id


@pytest.fixture
def model(client: pictograph.Client) -> str:
    """A trained YOLOX model ``m1``; its id."""
    return _train(client)


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


def _sdk_reference(
    client: pictograph.Client, tmp_path: Path, confidence: float
) -> tuple[dict[str, list[Annotation]], dict[str, list[Annotation]]]:
    """Predictions (hosted inference on each image's downloaded bytes) and ground truth."""
    predictions: dict[str, list[Annotation]] = {}
    truth: dict[str, list[Annotation]] = {}
    for image in client.images.list(DATASET, limit=100):
        saved = client.images.download(DATASET, image.id, tmp_path / f"{image.id}.jpg")
        found = client.models.predict("m1", image=saved, confidence=confidence)
        predictions[image.id] = [_ANNOTATION.validate_python(a) for a in found.annotations]
        truth[image.id] = client.annotations.get(DATASET, image.id)
    return predictions, truth


# ── metrics ──


@pytest.mark.parametrize(("iou", "confidence"), [(0.5, 0.5), (0.75, 0.3)])
def test_metrics_equal_the_sdks_own_on_the_same_predictions(
    client: pictograph.Client, model: str, tmp_path: Path, iou: float, confidence: float
) -> None:
    ev = client.model_evaluations.evaluate(
        "m1", DATASET, EXPORT, iou_threshold=iou, confidence_threshold=confidence
    )
    predictions, truth = _sdk_reference(client, tmp_path, confidence)

    reference = evaluate_detections(predictions, truth, iou_threshold=iou)
    matrix = confusion_matrix(predictions, truth, iou_threshold=iou)

    assert ev.status == "completed"
    assert ev.per_class_metrics is not None
    assert ev.overall_metrics is not None
    assert ev.confusion_matrix is not None
    assert {
        c.class_name: (c.tp, c.fp, c.fn, c.support, c.precision, c.recall, c.f1, c.ap)
        for c in ev.per_class_metrics
    } == {
        name: (
            m.true_positives,
            m.false_positives,
            m.false_negatives,
            m.support,
            m.precision,
            m.recall,
            m.f1,
            m.average_precision,
        )
        for name, m in reference.per_class.items()
    }
    overall = ev.overall_metrics
    assert (overall.tp, overall.fp, overall.fn) == (
        reference.true_positives,
        reference.false_positives,
        reference.false_negatives,
    )
    assert (overall.precision, overall.recall, overall.f1, overall.macro_f1, overall.map) == (
        reference.precision,
        reference.recall,
        reference.f1,
        reference.macro_f1,
        reference.mean_average_precision,
    )
    assert ev.confusion_matrix.labels == matrix.labels
    assert ev.confusion_matrix.grid == matrix.grid()
    assert ev.confusion_matrix.iou_threshold == iou
    # Not a degenerate case: the model found some and missed or confused some.
    assert overall.tp > 0
    assert overall.fp + overall.fn > 0


def test_worst_and_best_images(client: pictograph.Client, model: str) -> None:
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    assert ev.worst_images
    assert ev.best_images
    worst = [i.fp + i.fn for i in ev.worst_images]
    assert worst == sorted(worst, reverse=True)
    assert all(i.fp + i.fn > 0 for i in ev.worst_images)
    best = [i.fp + i.fn for i in ev.best_images]
    assert best == sorted(best)
    for image in [*ev.worst_images, *ev.best_images]:
        assert image.gt_count == len(image.ground_truth or [])
        assert image.pred_count == len(image.predictions or [])
        assert image.tp + image.fn == image.gt_count
        assert image.filename is not None
        assert image.filename.startswith("img-")


def test_a_better_model_scores_better(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client, "weak")
    _train(client, "strong")
    # Models differ by what their training reached: stand in a near-perfect one.
    fake.world.registry.find(fake.world.default_key, "strong").current.metrics["mAP"] = 0.98
    fake.world.registry.find(fake.world.default_key, "weak").current.metrics["mAP"] = 0.2

    weak = client.model_evaluations.evaluate("weak", DATASET, EXPORT)
    strong = client.model_evaluations.evaluate("strong", DATASET, EXPORT)

    assert weak.overall_metrics is not None
    assert strong.overall_metrics is not None
    assert strong.overall_metrics.f1 > weak.overall_metrics.f1
    assert strong.overall_metrics.recall > weak.overall_metrics.recall


def test_classification_reports_accuracy(client: pictograph.Client) -> None:
    _train(client, "clf", "classification")

    ev = client.model_evaluations.evaluate("clf", DATASET, EXPORT, confidence_threshold=0.0)

    overall = ev.overall_metrics
    assert overall is not None
    assert overall.map is None
    assert overall.accuracy is not None
    assert 0 < overall.accuracy <= 1
    assert overall.tp == round(overall.accuracy * ev.evaluated_images)
    assert ev.confusion_matrix is not None
    assert ev.confusion_matrix.iou_threshold is None
    assert ev.confusion_matrix.labels == ["stop_sign", "yield", "__background__"]
    assert sum(map(sum, ev.confusion_matrix.grid)) == ev.evaluated_images
    diagonal = sum(ev.confusion_matrix.grid[i][i] for i in range(2))
    assert diagonal == overall.tp


def test_instance_segmentation_is_scored(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_dataset("fields", images=8, completed_images=8, annotation_types=("polygon",))
    fake.add_export("fields", "fields-v1")
    client.training.create("fields", "fields-v1", pipeline_type="rfdetr_segmentation", name="seg")

    ev = client.model_evaluations.evaluate("seg", "fields", "fields-v1")

    assert ev.status == "completed"
    assert ev.overall_metrics is not None
    assert ev.overall_metrics.map is not None
    assert ev.total_images == ev.evaluated_images == 8


# ── lifecycle on the virtual clock ──


def test_lifecycle_pending_running_completed(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    assert (created.status, created.progress, created.started_at) == ("pending", 0, None)
    assert created.overall_metrics is None
    assert created.total_images == 20

    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 1)
    running = client.model_evaluations.get(created.id)
    assert running.status == "running"
    assert running.started_at is not None
    assert 0 <= running.progress < 100
    assert running.overall_metrics is None

    done = client.model_evaluations.wait_for_completion(created.id, poll_interval=5)
    assert done.status == "completed"
    assert (done.progress, done.evaluated_images, done.failed_images) == (100, 20, 0)
    assert done.completed_at is not None
    assert done.started_at is not None
    assert done.completed_at > done.started_at > created.created_at  # type: ignore[operator]


def test_evaluations_queue_for_the_tiers_workers(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    made = [client.model_evaluations.create("m1", DATASET, EXPORT) for _ in range(3)]
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 1)

    statuses = [client.model_evaluations.get(e.id).status for e in made]

    assert statuses == ["running"] * EVALUATION_TIER.workers + ["pending"]
    last = client.model_evaluations.wait_for_completion(made[-1].id)
    first = client.model_evaluations.get(made[0].id)
    assert last.started_at is not None
    assert first.completed_at is not None
    assert last.started_at > first.completed_at


def test_wait_times_out_on_the_virtual_clock(client: pictograph.Client, model: str) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    with pytest.raises(PollTimeoutError, match="did not complete"):
        client.model_evaluations.wait_for_completion(created.id, poll_interval=1, timeout=5)


# ── billing and notifications ──


def test_a_completed_evaluation_is_billed_per_started_minute(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    before = fake.balance_micro_usd
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    entry = fake.ledger[-1]
    assert entry.operation == "inference_t4"
    assert entry.metadata == {"evaluation_id": ev.id, "model_id": model}
    assert ev.started_at is not None
    assert ev.completed_at is not None
    minutes = -(-(ev.completed_at - ev.started_at).total_seconds() // 60)
    assert entry.amount == -PRICE * int(minutes)
    assert fake.balance_micro_usd == before + entry.amount


def test_the_debit_is_dated_when_the_evaluation_ended(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    # Nobody asks for two days after it ends: the debit is dated at the end all the same.
    started = client.model_evaluations.create("m1", DATASET, EXPORT)
    fake.clock.advance(hours=48)
    ev = client.model_evaluations.get(started.id)
    newest = client.credits.history(limit=1)[0]

    assert ev.status == "completed"
    assert newest.operation == "inference_t4"
    assert newest.metadata == {"evaluation_id": ev.id, "model_id": model}
    assert newest.created_at == ev.completed_at


def test_the_end_is_notified(client: pictograph.Client, model: str) -> None:
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    note = client.notifications.list()[0]
    assert note.type == "evaluation_complete"
    assert note.metadata == {"evaluation_id": ev.id, "model_id": model}
    assert note.created_at == ev.completed_at


async def test_an_injected_failure_fires_through_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model: str
) -> None:
    fake.faults.fail_evaluation("GPU lost")
    before = len(fake.ledger)
    with pytest.raises(ApiError, match="GPU lost") as ended:
        await aclient.model_evaluations.evaluate("m1", DATASET, EXPORT)
    assert ended.value.code == "job_failed"
    assert fake.faults.unfired == ()
    assert fake.faults.described == ()
    assert len(fake.ledger) == before  # a failed evaluation is free


def test_an_injected_failure_fails_unbilled_and_notifies(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    fake.faults.fail_evaluation("GPU lost")
    assert [f.describe() for f in fake.faults.unfired] == ["fail the next 1 evaluation(s)"]
    before = len(fake.ledger)

    with pytest.raises(ApiError, match="GPU lost") as ended:
        client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    assert ended.value.code == "job_failed"
    assert fake.faults.unfired == ()
    assert fake.faults.described == ()
    failed = client.model_evaluations.list()[0]
    assert (failed.status, failed.error_message) == ("failed", "GPU lost")
    assert failed.overall_metrics is None
    assert len(fake.ledger) == before
    note = client.notifications.list()[0]
    assert note.type == "evaluation_failed"
    assert note.metadata == {"evaluation_id": failed.id, "model_id": model}


def test_an_export_without_ground_truth_fails(
    fake: FakePictograph, client: pictograph.Client, model: str, tmp_path: Path
) -> None:
    client.datasets.create("blank", annotation_types=["bbox"])
    picture = tmp_path / "a.png"
    from pictograph_testing.world.images import synthetic_image

    picture.write_bytes(synthetic_image(64, 64, "image/png", "blank"))
    client.images.upload("blank", picture)
    fake.add_export("blank", "blank-v1")

    with pytest.raises(ApiError, match="nothing to score"):
        client.model_evaluations.evaluate("m1", "blank", "blank-v1")


# ── cancel ──


def test_cancel_a_pending_evaluation_is_free(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    before = len(fake.ledger)
    created = client.model_evaluations.create("m1", DATASET, EXPORT)

    cancelled = client.model_evaluations.cancel(created.id)

    assert cancelled.status == "cancelled"
    assert cancelled.started_at is None
    assert len(fake.ledger) == before
    with pytest.raises(ApiError, match="cancelled") as ended:
        client.model_evaluations.wait_for_completion(created.id)
    assert ended.value.code == "job_cancelled"


def test_cancel_a_running_evaluation_bills_its_minutes(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 2)

    cancelled = client.model_evaluations.cancel(created.id)

    assert cancelled.status == "cancelled"
    assert fake.ledger[-1].operation == "inference_t4"
    assert fake.ledger[-1].amount == -PRICE
    # It keeps the progress it made, which it is debited for, in the feed too.
    assert cancelled.progress > 0
    assert cancelled.evaluated_images > 0
    assert client.jobs.get(created.id).progress == cancelled.progress
    # Nothing more happens to it as time passes.
    fake.clock.advance(3600)
    later = client.model_evaluations.get(created.id)
    assert later.status == "cancelled"
    assert (later.progress, later.evaluated_images) == (
        cancelled.progress,
        cancelled.evaluated_images,
    )


async def test_async_a_cancelled_evaluation_keeps_its_progress(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model: str
) -> None:
    created = await aclient.model_evaluations.create("m1", DATASET, EXPORT)
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 2)
    running = await aclient.model_evaluations.get(created.id)
    cancelled = await aclient.model_evaluations.cancel(created.id)
    assert 0 < running.progress == cancelled.progress


def _pets(fake: FakePictograph, client: pictograph.Client) -> None:
    """Ten cats and dogs exported whole (``all``) and cats only (``cats``), and a classifier
    ``clf`` trained on them all."""
    fake.add_dataset("pets", images=10, completed_images=10, classes=["cat", "dog"])
    fake.add_export("pets", "all")
    fake.add_export("pets", "cats", class_filter=["cat"])
    client.training.create("pets", "all", pipeline_type="classification", name="clf")


def test_a_classification_evaluation_scores_what_the_class_filter_kept(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The export's class filter defines which ground truth is scored, for every model type.
    _pets(fake, client)
    everything = client.model_evaluations.evaluate("clf", "pets", "all", confidence_threshold=0)
    cats = client.model_evaluations.evaluate("clf", "pets", "cats", confidence_threshold=0)

    assert cats.per_class_metrics is not None
    support = {m.class_name: m.support for m in cats.per_class_metrics}
    assert support["cat"] > 0
    assert support.get("dog", 0) == 0
    assert cats.confusion_matrix is not None
    dog_row = cats.confusion_matrix.grid[cats.confusion_matrix.labels.index("dog")]
    assert sum(dog_row) == 0
    assert everything.per_class_metrics is not None
    everyone = {m.class_name: m.support for m in everything.per_class_metrics}
    assert everyone["dog"] > 0


def test_cancel_an_ended_evaluation_conflicts(client: pictograph.Client, model: str) -> None:
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)
    with pytest.raises(ConflictError, match="already completed"):
        client.model_evaluations.cancel(ev.id)


def test_cancel_frees_a_worker_for_the_queue(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    made = [client.model_evaluations.create("m1", DATASET, EXPORT) for _ in range(3)]
    client.model_evaluations.cancel(made[0].id)
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 1)
    assert client.model_evaluations.get(made[2].id).status == "running"


# ── list / iter / get / report ──


def test_list_is_newest_first_and_filters(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    _train(client, "m2")
    fake.add_dataset("other", images=4, completed_images=4, classes=["stop_sign", "yield"])
    fake.add_export("other", "other-v1")
    a = client.model_evaluations.create("m1", DATASET, EXPORT)
    b = client.model_evaluations.create("m2", DATASET, EXPORT)
    c = client.model_evaluations.create("m1", "other", "other-v1")

    assert [e.id for e in client.model_evaluations.list()] == [c.id, b.id, a.id]
    assert [e.id for e in client.model_evaluations.list(model="m1")] == [c.id, a.id]
    assert [e.id for e in client.model_evaluations.list(dataset_name="other")] == [c.id]
    assert [e.id for e in client.model_evaluations.list(limit=1)] == [c.id]
    assert [e.id for e in client.model_evaluations.iter(page_size=1)] == [c.id, b.id, a.id]
    assert [e.id for e in client.model_evaluations.iter(model="m2")] == [b.id]
    assert c.dataset_id != a.dataset_id


def test_get_and_report(client: pictograph.Client, model: str) -> None:
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    assert client.model_evaluations.get(ev.id) == ev
    report = client.model_evaluations.report(ev.id)

    assert report["schema_version"] == 1
    assert report["evaluation_id"] == ev.id
    assert report["model"]["name"] == "m1"
    assert report["export"]["name"] == EXPORT
    assert report["dataset"]["name"] == DATASET
    assert ev.overall_metrics is not None
    assert report["overall_metrics"]["f1"] == ev.overall_metrics.f1
    assert [c["class_name"] for c in report["per_class_metrics"]] == ["stop_sign", "yield"]
    assert ev.confusion_matrix is not None
    assert report["confusion_matrix"]["grid"] == ev.confusion_matrix.grid
    assert report["warnings"] == []


def test_report_of_an_unfinished_evaluation_conflicts(
    client: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    with pytest.raises(ConflictError, match="only a completed evaluation"):
        client.model_evaluations.report(created.id)


def test_unknown_or_foreign_evaluations_are_not_found(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    ev = client.model_evaluations.create("m1", DATASET, EXPORT)
    other = fake.add_organization()
    with other.client(max_retries=0) as theirs:
        for call in (
            theirs.model_evaluations.get,
            theirs.model_evaluations.cancel,
            theirs.model_evaluations.report,
        ):
            with pytest.raises(NotFoundError):
                call(ev.id)
        assert theirs.model_evaluations.list() == []
    with pytest.raises(NotFoundError):
        client.model_evaluations.get("00000000-0000-4000-8000-000000000000")


# ── create's refusals ──


def test_create_needs_member(viewer: pictograph.Client, model: str) -> None:
    with pytest.raises(ForbiddenError, match="member"):
        viewer.model_evaluations.create("m1", DATASET, EXPORT)


def test_cancel_needs_member(
    client: pictograph.Client, viewer: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    with pytest.raises(ForbiddenError, match="member"):
        viewer.model_evaluations.cancel(created.id)
    assert viewer.model_evaluations.get(created.id).status == "pending"


def test_create_refuses_unknown_model_or_export(client: pictograph.Client, model: str) -> None:
    with pytest.raises(NotFoundError):
        client.model_evaluations.create("nope", DATASET, EXPORT)
    with pytest.raises(NotFoundError):
        client.model_evaluations.create("m1", DATASET, "nope")
    with pytest.raises(NotFoundError):
        client.model_evaluations.create("m1", DATASET, "00000000-0000-4000-8000-000000000000")


def test_create_refuses_an_unfinished_export(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    fake.add_export(DATASET, "later", status="pending")
    with pytest.raises(ConflictError, match="completed export"):
        client.model_evaluations.create("m1", DATASET, "later")
    assert client.model_evaluations.list() == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"iou_threshold": 0.0}, "iou_threshold"),
        ({"iou_threshold": 1.5}, "iou_threshold"),
        ({"confidence_threshold": 0.99}, "confidence_threshold"),
    ],
)
def test_create_refuses_thresholds_out_of_range(
    client: pictograph.Client, model: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        client.model_evaluations.create("m1", DATASET, EXPORT, **options)


def test_create_refuses_a_model_type_it_does_not_score(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    # No pipeline trains keypoint models: stand one in.
    fake.world.registry.find(fake.world.default_key, "m1").model_type = "keypoint_detection"
    with pytest.raises(ValidationError, match="keypoint_detection"):
        client.model_evaluations.create("m1", DATASET, EXPORT)
    assert client.model_evaluations.list() == []


def test_create_needs_the_estimated_cost(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client, "Shared")
    client.models.update("Shared", visibility="public")
    slug = fake.world.organizations[fake.organization_id].slug
    broke = fake.add_organization(balance_usd=0)
    broke.add_dataset(DATASET, images=4, completed_images=4, classes=["stop_sign", "yield"])
    broke.add_export(DATASET, EXPORT)
    with broke.client(max_retries=0) as theirs:
        theirs.models.fork(slug, "Shared")
        with pytest.raises(PaymentRequiredError, match="evaluation"):
            theirs.model_evaluations.create("Shared", DATASET, EXPORT)
        assert theirs.model_evaluations.list() == []


def _leave(fake: FakePictograph, micro_usd: int) -> None:
    """Spend the organization's balance down to ``micro_usd`` (one ledger debit)."""
    with fake.world.lock:
        org = fake.world.organizations[fake.organization_id]
        spent = fake.balance_micro_usd - micro_usd
        fake.world.billing.post(org, "adjustment", -spent, description="spent")


def test_a_402_never_says_the_balance_covers_the_estimate(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    # Half a cent left against a one-cent estimate: both round to $0.01, so the message
    # shows them to the micro-dollar rather than "estimated $0.01, has $0.01".
    _leave(fake, 5_000)
    with pytest.raises(PaymentRequiredError) as caught:
        client.model_evaluations.create("m1", DATASET, EXPORT)
    assert "(estimated $0.01, has $0.005)" in caught.value.message
    assert client.model_evaluations.list() == []


async def test_async_a_402_never_says_the_balance_covers_the_estimate(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model: str
) -> None:
    _leave(fake, 9_999)
    with pytest.raises(PaymentRequiredError) as caught:
        await aclient.model_evaluations.create("m1", DATASET, EXPORT)
    assert "(estimated $0.01, has $0.009999)" in caught.value.message


# ── async ──


async def test_every_method_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model: str
) -> None:
    evaluations = aclient.model_evaluations
    done = await evaluations.evaluate("m1", DATASET, EXPORT)
    assert done.status == "completed"

    created = await evaluations.create("m1", DATASET, EXPORT, iou_threshold=0.6)
    assert created.iou_threshold == 0.6
    assert (await evaluations.get(created.id)).status == "pending"
    with pytest.raises(ConflictError):
        await evaluations.report(created.id)
    cancelled = await evaluations.cancel(created.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(ApiError) as ended:
        await evaluations.wait_for_completion(created.id)
    assert ended.value.code == "job_cancelled"

    third = await evaluations.create("m1", DATASET, EXPORT)
    waited: ModelEvaluation = await evaluations.wait_for_completion(third.id, poll_interval=10)
    assert waited.status == "completed"

    assert [e.id for e in await evaluations.list()] == [third.id, created.id, done.id]
    assert [e.id async for e in evaluations.iter(model="m1", page_size=2)] == [
        third.id,
        created.id,
        done.id,
    ]
    report = await evaluations.report(done.id)
    assert report["evaluation_id"] == done.id
    with pytest.raises(NotFoundError):
        await evaluations.get("00000000-0000-4000-8000-000000000000")


# ── determinism ──


def test_same_seed_same_calls_same_bytes() -> None:
    def bodies() -> list[bytes]:
        with FakePictograph(seed=11) as fake:
            fake.add_dataset(DATASET, images=10, completed_images=10, classes=["a", "b", "c"])
            fake.add_export(DATASET, EXPORT)
            with fake.client(max_retries=0) as sdk:
                _train(sdk)
                ev = sdk.model_evaluations.evaluate("m1", DATASET, EXPORT)
                sdk.model_evaluations.report(ev.id)
            return [c.response_body for c in fake.calls if "model-evaluations" in c.path]

    first = bodies()
    assert any(b'"completed"' in body for body in first)
    assert first == bodies()


# ── the jobs feed ──


def test_evaluations_are_jobs(fake: FakePictograph, client: pictograph.Client, model: str) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)

    job = client.jobs.get(created.id)
    assert (job.type, job.status, job.progress) == ("evaluation", "queued", 0.0)
    assert job.cancel_path == f"/api/v1/developer/model-evaluations/{created.id}/cancel"
    assert [j.id for j in client.jobs.list(type="evaluation")] == [created.id]
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 1)
    assert client.jobs.get(created.id).status == "running"

    cancelled = client.jobs.cancel(created.id)

    assert cancelled.status == "cancelled"
    assert cancelled.cancel_path is None
    assert client.model_evaluations.get(created.id).status == "cancelled"
    assert list(client.jobs.list(type="evaluation")) == []
    assert [j.id for j in client.jobs.list(status="finished", type="evaluation")] == [created.id]


async def test_an_evaluation_job_is_waited_on_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, model: str
) -> None:
    created = await aclient.model_evaluations.create("m1", DATASET, EXPORT)
    done = await aclient.jobs.wait(created.id, poll_interval=5)
    assert (done.type, done.status, done.progress) == ("evaluation", "completed", 100.0)


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
"""A HEIC header: the service keeps such an upload without reading its pixels."""


def test_a_heic_image_of_the_export_is_a_failed_image(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    heic = tmp_path / "phone.heic"
    heic.write_bytes(HEIC)
    client.images.upload(DATASET, heic)
    fake.add_export(DATASET, "with-heic")
    _train(client)
    plain = client.model_evaluations.evaluate("m1", DATASET, EXPORT)

    ev = client.model_evaluations.evaluate("m1", DATASET, "with-heic")

    assert ev.status == "completed"
    assert ev.failed_images == plain.failed_images + 1
    assert ev.evaluated_images == plain.evaluated_images
    assert ev.overall_metrics == plain.overall_metrics


async def test_a_heic_image_of_the_export_is_a_failed_image_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    heic = tmp_path / "phone.heic"
    heic.write_bytes(HEIC)
    await aclient.images.upload(DATASET, heic)
    fake.add_export(DATASET, "with-heic")
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")

    ev = await aclient.model_evaluations.evaluate("m1", DATASET, "with-heic")

    assert ev.status == "completed"
    assert ev.failed_images == 1


# ── rules a mutation run of the evaluation service found untested ──


def test_a_balance_of_exactly_the_estimate_starts_an_evaluation(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    _leave(fake, PRICE)  # one started minute: the estimate of 20 images
    assert client.model_evaluations.create("m1", DATASET, EXPORT).status == "pending"


def test_an_evaluation_names_its_dataset_as_it_is_called_now(
    client: pictograph.Client, model: str
) -> None:
    client.datasets.update(DATASET, new_name="traffic-signs")
    created = client.model_evaluations.evaluate("m1", "traffic-signs", EXPORT)
    read = client.model_evaluations.get(created.id)
    assert read.config is not None
    assert read.config["dataset_name"] == "traffic-signs"
    assert client.model_evaluations.report(created.id)["dataset"]["name"] == "traffic-signs"


def test_an_evaluation_is_found_by_its_id_in_any_case(
    client: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    assert client.model_evaluations.get(created.id.upper()).id == created.id


async def test_async_an_evaluation_is_found_by_its_id_in_any_case(
    aclient: pictograph.AsyncClient, model: str
) -> None:
    created = await aclient.model_evaluations.create("m1", DATASET, EXPORT)
    assert (await aclient.model_evaluations.get(created.id.upper())).id == created.id


def test_an_evaluation_created_with_a_run_at_one_instant_lists_as_the_newer_job(
    client: pictograph.Client, model: str
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m2", wait=False)
    evaluation = client.model_evaluations.create("m1", DATASET, EXPORT)
    assert [j.id for j in client.jobs.list()][:2] == [evaluation.id, run.id]


def test_a_cancel_bills_the_minutes_run_after_the_cold_start(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    # 600 images keep the worker busy past a minute: cancelled 40 s into the run, 70 s
    # after it was created, it is billed one minute.
    fake.add_dataset("street", images=600, completed_images=600)
    fake.add_export("street", "v1")
    created = client.model_evaluations.create("m1", "street", "v1")
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 40)
    assert client.model_evaluations.cancel(created.id).status == "cancelled"
    assert (fake.ledger[-1].operation, fake.ledger[-1].amount) == ("inference_t4", -PRICE)


def test_evaluations_ending_at_one_instant_are_billed_in_creation_order(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    made = [client.model_evaluations.create("m1", DATASET, EXPORT) for _ in range(2)]
    client.model_evaluations.wait_for_completion(made[1].id)
    billed = [e for e in fake.ledger if e.operation == "inference_t4"]
    assert [e.metadata["evaluation_id"] for e in billed if e.metadata] == [m.id for m in made]
    assert billed[0].created_at == billed[1].created_at


def test_waiting_evaluations_start_first_in_first_out_as_workers_free(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    workers = EVALUATION_TIER.workers
    made = [client.model_evaluations.create("m1", DATASET, EXPORT) for _ in range(workers + 3)]
    client.model_evaluations.wait_for_completion(made[0].id, poll_interval=1)
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 1)
    statuses = [client.model_evaluations.get(e.id).status for e in made]
    assert statuses == ["completed"] * workers + ["running"] * workers + ["pending"]


def test_an_evaluation_with_nothing_to_score_still_counts_the_images_it_ran(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    # The worker ran the model on every image; none carried truth for its classes.
    fake.add_dataset("unlabelled", images=3)
    for image in client.images.list("unlabelled"):
        client.annotations.delete("unlabelled", image.id)
    fake.add_export("unlabelled", "v1")
    created = client.model_evaluations.create("m1", "unlabelled", "v1")
    with pytest.raises(ApiError, match="nothing to score"):
        client.model_evaluations.wait_for_completion(created.id)
    failed = client.model_evaluations.get(created.id)
    assert (failed.status, failed.progress, failed.evaluated_images) == ("failed", 0, 3)
    assert client.jobs.get(created.id).progress is None


def test_an_ended_evaluation_notifies_its_creator_and_a_cancelled_one_no_one(
    fake: FakePictograph, model: str
) -> None:
    member = fake.add_member("eva@example.com", "member", full_name="Eva Lund")
    with fake.client(api_key=fake.add_api_key("member", member=member)) as theirs:
        cancelled = theirs.model_evaluations.create("m1", DATASET, EXPORT)
        theirs.model_evaluations.cancel(cancelled.id)
        theirs.model_evaluations.evaluate("m1", DATASET, EXPORT)
        fake.faults.fail_evaluation("GPU lost")
        with pytest.raises(ApiError, match="GPU lost"):
            theirs.model_evaluations.evaluate("m1", DATASET, EXPORT)
        notes = [n for n in theirs.notifications.list() if n.type.startswith("evaluation")]
    assert [(n.type, n.title) for n in notes] == [
        ("evaluation_failed", "Evaluation failed"),
        ("evaluation_complete", "Evaluation complete"),
    ]
    assert {n.user_id for n in notes} == {member.user_id}
    assert cancelled.id not in {(n.metadata or {}).get("evaluation_id") for n in notes}


def test_a_running_evaluation_job_was_last_updated_when_it_started(
    fake: FakePictograph, client: pictograph.Client, model: str
) -> None:
    created = client.model_evaluations.create("m1", DATASET, EXPORT)
    fake.clock.advance(EVALUATION_TIER.cold_start_seconds + 5)
    running = client.model_evaluations.get(created.id)
    assert running.started_at is not None
    assert client.jobs.get(created.id).updated_at == running.started_at != created.created_at


def test_an_image_deleted_for_good_since_the_export_is_a_failed_image(
    client: pictograph.Client, model: str
) -> None:
    client.images.delete(DATASET, "img-00020.jpg", permanent=True)
    ev = client.model_evaluations.evaluate("m1", DATASET, EXPORT)
    assert (ev.status, ev.failed_images, ev.evaluated_images) == ("completed", 1, 19)


# ── hand-placed scenes, scored by the definitions ──


def _sharp(fake: FakePictograph, name: str, metric: str, reached: float) -> None:
    """Stand in a model whose training reached ``reached`` (0.99: near-perfect)."""
    fake.world.registry.find(fake.world.default_key, name).current.metrics[metric] = reached


def _scene(
    fake: FakePictograph,
    client: pictograph.Client,
    classes: list[str],
    annotations: list[dict[str, Any]],
) -> None:
    """A dataset ``scene`` of one 640 x 480 image holding ``annotations``; export ``all``."""
    fake.add_dataset(
        "scene",
        images=1,
        completed_images=1,
        classes=classes,
        annotation_types=("bbox", "keypoint"),
    )
    (image,) = client.images.list("scene")
    client.annotations.save(
        "scene", image.id, [_ANNOTATION.validate_python(a) for a in annotations]
    )
    fake.add_export("scene", "all")


def _bbox(name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"name": name, "type": "bbox", "bounding_box": {"x": x, "y": y, "w": w, "h": h}}


def _point(name: str, x: float, y: float) -> dict[str, Any]:
    return {"name": name, "type": "keypoint", "keypoint": {"x": x, "y": y}}


def test_the_most_confident_prediction_claims_a_box_and_every_class_seen_is_scored(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("roads", images=5, completed_images=5, classes=["car", "sign"])
    fake.add_export("roads", "roads-v1")
    client.training.create("roads", "roads-v1", pipeline_type="yolox", name="sharp")
    _sharp(fake, "sharp", "mAP", 0.99)
    # A near-perfect model finds each annotation of its classes where it is; a keypoint
    # is no box to score, but the model finds a 24 x 24 box (5% of the height) around it.
    _scene(
        fake,
        client,
        ["car", "sign", "tree"],
        [
            _bbox("car", 100, 100, 24, 24),
            # A second car box 4 px right of the first: IoU 20 x 24 / (2 x 576 - 480).
            _point("car", 116, 112),
            # A sign found where no sign is, and a tree the model has no class for.
            _point("sign", 400, 300),
            _bbox("tree", 300, 50, 40, 40),
        ],
    )

    ev = client.model_evaluations.evaluate("sharp", "scene", "all", iou_threshold=0.5)

    assert ev.status == "completed"
    assert ev.per_class_metrics is not None
    # Both car boxes overlap the car (IoU ~1 and 5/7): the more confident claims it, so
    # the class's precision-recall curve starts at (1, 1) and its AP is 1.
    assert {
        c.class_name: (c.tp, c.fp, c.fn, c.support, c.precision, c.recall, c.ap)
        for c in ev.per_class_metrics
    } == {
        "car": (1, 1, 0, 1, 0.5, 1.0, 1.0),
        "sign": (0, 1, 0, 0, 0.0, 0.0, 0.0),
        "tree": (0, 0, 1, 1, 0.0, 0.0, 0.0),
    }
    f1 = {c.class_name: c.f1 for c in ev.per_class_metrics}
    assert f1["car"] == pytest.approx(2 / 3)
    assert (f1["sign"], f1["tree"]) == (0.0, 0.0)
    overall = ev.overall_metrics
    assert overall is not None
    assert (overall.tp, overall.fp, overall.fn) == (1, 2, 1)
    assert overall.precision == pytest.approx(1 / 3)
    assert overall.recall == pytest.approx(1 / 2)
    assert overall.f1 == pytest.approx(2 / 5)
    # Unweighted means over the three classes that occur.
    assert overall.macro_f1 == pytest.approx(2 / 9)
    assert overall.map == pytest.approx(1 / 3)
    # Matched again regardless of class: the car is the one claimed, the second car box
    # and the sign are unmatched predictions, the tree an unmatched truth.
    matrix = ev.confusion_matrix
    assert matrix is not None
    assert matrix.labels == ["car", "sign", "tree", "__background__"]
    assert matrix.grid == [
        [1, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 1],
        [1, 1, 0, 0],
    ]
    (image,) = ev.worst_images or []
    assert (image.tp, image.fp, image.fn, image.gt_count, image.pred_count) == (1, 2, 1, 2, 3)


def test_a_classifier_with_no_tag_above_the_threshold_guesses_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("pets", images=6, completed_images=6, classes=["zebra", "ant"])
    fake.add_export("pets", "all")
    client.training.create("pets", "all", pipeline_type="classification", name="clf")

    # No class's score reaches 0.95 (the winner's is under it, the others share the rest).
    ev = client.model_evaluations.evaluate("clf", "pets", "all", confidence_threshold=0.95)

    overall = ev.overall_metrics
    assert overall is not None
    assert overall.accuracy == 0.0
    assert (overall.tp, overall.fp, overall.fn) == (0, 0, 6)
    assert ev.per_class_metrics is not None
    assert {c.class_name: (c.tp, c.fp, c.fn) for c in ev.per_class_metrics} == {
        "ant": (0, 0, 3),
        "zebra": (0, 0, 3),
    }
    # Every image lands in the no-prediction column; the classes are sorted.
    matrix = ev.confusion_matrix
    assert matrix is not None
    assert matrix.labels == ["ant", "zebra", "__background__"]
    assert matrix.grid == [[0, 0, 3], [0, 0, 3], [0, 0, 0]]
    # A missed image is a false negative, not a false positive: nothing was predicted.
    assert ev.worst_images
    for image in ev.worst_images:
        assert (image.tp, image.fp, image.fn, image.gt_count, image.pred_count) == (0, 0, 1, 1, 0)
        assert image.predictions == []


def test_a_class_only_ever_predicted_is_scored_with_its_false_positives(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _pets(fake, client)
    # A poor classifier: most cats are taken for dogs.
    _sharp(fake, "clf", "accuracy", 0.05)

    ev = client.model_evaluations.evaluate("clf", "pets", "cats", confidence_threshold=0)

    assert ev.per_class_metrics is not None
    scored = {c.class_name: (c.tp, c.fp, c.fn) for c in ev.per_class_metrics}
    cat_tp, cat_fp, cat_fn = scored["cat"]
    # Every cat is guessed (threshold 0): right, or a dog; no dog is in the truth.
    assert (cat_fp, cat_tp + cat_fn) == (0, ev.evaluated_images)
    assert cat_fn > 0
    assert scored["dog"] == (0, cat_fn, 0)
