"""Auto-annotation through the real SDK: batch jobs (quote, charge, drafts, cancel) and
SAM3's point, box and text prompts, sync and async."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)
from pictograph.models import BBoxAnnotation, BoundingBox
from pictograph.models.annotation import PolygonAnnotation, PolygonGeometry
from pictograph.models.auto_annotate import BatchClass, SimilarScope
from pictograph.models.common import Point

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import AUTO_ANNOTATE
from tests.conftest import DATASET, EXPORT
from tests.image_files import write_image

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph
    from pictograph.models.annotation import Annotation

    from pictograph_testing.world.entities import Image

STOP = BatchClass(name="stop_sign", output_type="bbox")
PASS = AUTO_ANNOTATE.sam3_micro_usd_per_pass


def _images(fake: FakePictograph) -> list[Image]:
    world = fake.world
    return world.dataset_images(world.dataset(fake.organization_id, DATASET))


def _unlabelled(client: pictograph.Client, fake: FakePictograph, count: int) -> list[Image]:
    """The dataset's first ``count`` images, their annotations deleted through the SDK."""
    images = _images(fake)[:count]
    for image in images:
        client.annotations.delete(DATASET, image.filename)
    return images


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


# ── quote and charge ──


def test_the_quote_is_the_charge_and_the_drafts_are_saved(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 3)
    names = [image.filename for image in images]
    classes = [STOP, BatchClass(name="yield", output_type="polygon")]

    quote = client.auto_annotate.quote(dataset_name=DATASET, image_filenames=names, classes=classes)
    before = fake.balance_micro_usd
    job = client.auto_annotate.batch(DATASET, names, classes, confidence_threshold=0.0)

    assert quote.total_images == 3
    assert quote.estimated_credits == 3 * 2 * PASS  # one grounding pass per class
    assert quote.sufficient
    assert quote.remaining_credits == before
    assert before - fake.balance_micro_usd == quote.estimated_credits
    assert job.status == "completed"
    assert job.progress == 100
    assert job.processed_images == 3
    saved = [client.annotations.get(DATASET, name) for name in names]
    assert job.total_annotations_added == sum(len(s) for s in saved) > 0
    assert {(a.name, a.type) for s in saved for a in s} <= {
        ("stop_sign", "bbox"),
        ("yield", "polygon"),
    }


def test_a_draft_outlines_the_object_drawn_in_the_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    (image,) = _unlabelled(client, fake, 1)
    client.auto_annotate.batch(DATASET, [image.id], [STOP], confidence_threshold=0.0)

    (draft,) = client.annotations.get(DATASET, image.filename)
    assert isinstance(draft, BBoxAnnotation)
    box = draft.bounding_box
    assert box is not None
    assert image.width is not None
    assert image.height is not None
    # A generated image is a rectangle over its middle half, on a plain background.
    assert box.x == pytest.approx(image.width / 4, abs=8)
    assert box.y == pytest.approx(image.height / 4, abs=8)
    assert box.w == pytest.approx(image.width / 2, abs=12)
    assert box.h == pytest.approx(image.height / 2, abs=12)


def test_a_higher_confidence_threshold_keeps_fewer_drafts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 8)
    names = [image.id for image in images]
    classes = [STOP, BatchClass(name="yield", output_type="bbox")]

    low = client.auto_annotate.batch(DATASET, names, classes, confidence_threshold=0.0)
    for image in images:
        client.annotations.delete(DATASET, image.filename)
    high = client.auto_annotate.batch(DATASET, names, classes, confidence_threshold=0.8)

    assert low.total_annotations_added == 16
    assert 0 <= high.total_annotations_added < low.total_annotations_added
    kept = [a for image in images for a in client.annotations.get(DATASET, image.filename)]
    assert all(a.confidence >= 0.8 for a in kept)


def test_a_draft_that_repeats_an_annotation_of_its_class_is_dropped(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    (image,) = _unlabelled(client, fake, 1)
    first = client.auto_annotate.batch(DATASET, [image.id], [STOP], confidence_threshold=0.0)
    again = client.auto_annotate.batch(DATASET, [image.id], [STOP], confidence_threshold=0.0)

    assert first.total_annotations_added == 1
    assert again.total_annotations_added == 0
    assert len(client.annotations.get(DATASET, image.filename)) == 1


def test_402_when_the_balance_does_not_cover_the_quote() -> None:
    with FakePictograph(seed=1, balance_usd=0.004) as fake:
        fake.add_dataset(DATASET, images=3, classes=["stop_sign"])
        with fake.client(max_retries=0) as client:
            names = [image.id for image in _images(fake)]
            quote = client.auto_annotate.quote(
                dataset_name=DATASET, image_filenames=names, classes=[STOP]
            )
            with pytest.raises(PaymentRequiredError) as refused:
                client.auto_annotate.batch(DATASET, names, [STOP])

            assert not quote.sufficient
            assert refused.value.status_code == 402
            assert "top up" in str(refused.value)
            assert fake.ledger == ()


def test_a_quote_prices_projected_images_and_sahi_tiles(client: pictograph.Client) -> None:
    plain = client.auto_annotate.quote(projected=[{"count": 10}], classes=[STOP])
    sliced = client.auto_annotate.quote(
        projected=[{"count": 10, "width": 1920, "height": 1080}],
        classes=[STOP],
        sahi=True,
        sahi_slice_size=640,
    )

    assert plain.total_images == 10
    assert plain.estimated_credits == 10 * PASS
    assert plain.sahi_tiles == 0
    # 1920 x 1080 in 640-pixel tiles overlapping by a fifth: 4 across, 2 down.
    assert sliced.sahi_tiles == 10 * 8
    assert sliced.estimated_credits == 10 * (1 + 8) * PASS
    assert plain.containers == sliced.containers == 1


# ── refusals ──


@pytest.mark.parametrize(
    ("classes", "says"),
    [
        ([], "at least one class"),
        ([BatchClass(name="giraffe", output_type="bbox")], "not a class of dataset"),
        ([BatchClass(name="stop_sign", output_type="tag")], "classification model"),
    ],
)
def test_a_job_sam3_cannot_write_is_refused(
    fake: FakePictograph, client: pictograph.Client, classes: list[BatchClass], says: str
) -> None:
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError) as refused:
        client.auto_annotate.batch(DATASET, [_images(fake)[0].id], classes)

    assert refused.value.status_code == 422
    assert says in str(refused.value)
    assert fake.balance_micro_usd == before


def test_unknown_images_and_jobs_are_404(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError, match=r"ghost\.jpg"):
        client.auto_annotate.batch(DATASET, ["ghost.jpg"], [STOP])
    with pytest.raises(NotFoundError):
        client.auto_annotate.get_batch("00000000-0000-4000-8000-000000000000")

    other = fake.add_organization(name="Other")
    other.add_dataset("theirs", images=1, classes=["stop_sign"])
    with other.client(max_retries=0) as theirs:
        job = theirs.auto_annotate.batch("theirs", ["img-00001.jpg"], [STOP], wait=False)
    with pytest.raises(NotFoundError):
        client.auto_annotate.get_batch(job.job_id)


def test_a_viewer_quotes_and_reads_but_cannot_start(
    fake: FakePictograph, viewer: pictograph.Client
) -> None:
    name = _images(fake)[0].id
    assert viewer.auto_annotate.quote(dataset_name=DATASET, image_filenames=[name], classes=[STOP])
    with pytest.raises(ForbiddenError):
        viewer.auto_annotate.batch(DATASET, [name], [STOP])
    with pytest.raises(ForbiddenError):
        viewer.auto_annotate.box(
            DATASET, name, box={"x": 0, "y": 0, "w": 10, "h": 10}, name="stop_sign"
        )


def test_sahi_is_for_sam3_only(client: pictograph.Client, fake: FakePictograph) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    with pytest.raises(ValidationError) as refused:
        client.auto_annotate.batch(DATASET, [_images(fake)[0].id], [STOP], model="m1", sahi=True)
    assert refused.value.status_code == 400
    assert "SAHI" in str(refused.value)


# ── the job on the clock ──


def test_wait_false_returns_the_pending_kickoff_and_polls_to_the_end(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 2)
    kickoff = client.auto_annotate.batch(DATASET, [i.id for i in images], [STOP], wait=False)

    assert kickoff.status == "pending"
    assert kickoff.estimated_credits == 2 * PASS
    assert kickoff.processed_images == 0
    done = client.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=1)
    assert done.status == "completed"
    assert done.completed_at is not None


def test_a_job_cancelled_while_pending_is_refunded_and_writes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 4)
    before = fake.balance_micro_usd
    spent_before = client.credits.balance().period_spend_micro_usd
    kickoff = client.auto_annotate.batch(DATASET, [i.id for i in images], [STOP], wait=False)

    cancelled = client.auto_annotate.cancel_batch(kickoff.job_id)

    assert cancelled.status == "cancelled"
    assert cancelled.processed_images == 0
    assert fake.balance_micro_usd == before
    # The deposit came back as spend returned, not as money in: the period spent nothing.
    assert client.credits.balance().period_spend_micro_usd == spent_before
    assert all(client.annotations.get(DATASET, i.filename) == [] for i in images)
    with pytest.raises(ApiError) as ended:
        client.auto_annotate.wait_for_batch(kickoff.job_id)
    assert "cancelled" in str(ended.value)


def test_a_running_job_cancelled_keeps_what_it_drafted_and_its_charge(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 20)
    before = fake.balance_micro_usd
    kickoff = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], confidence_threshold=0.0, wait=False
    )
    # Past the queue and half the run: its container has done about half the images.
    fake.clock.advance(AUTO_ANNOTATE.queue_seconds + 10 * AUTO_ANNOTATE.seconds_per_pass)
    running = client.auto_annotate.get_batch(kickoff.job_id)

    cancelled = client.auto_annotate.cancel_batch(kickoff.job_id)

    assert running.status == "running"
    assert 0 < running.processed_images < 20
    assert 0 < running.progress < 100
    assert cancelled.processed_images == running.processed_images
    assert before - fake.balance_micro_usd == kickoff.estimated_credits
    drafted = [i for i in images if client.annotations.get(DATASET, i.filename)]
    assert drafted == images[: cancelled.processed_images]
    with pytest.raises(ConflictError, match="already cancelled"):
        client.auto_annotate.cancel_batch(kickoff.job_id)


def test_a_running_job_writes_each_images_drafts_as_it_is_done(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 20)
    kickoff = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], confidence_threshold=0.0, wait=False
    )
    fake.clock.advance(AUTO_ANNOTATE.queue_seconds + 10 * AUTO_ANNOTATE.seconds_per_pass)
    running = client.auto_annotate.get_batch(kickoff.job_id)
    saved = [client.annotations.get(DATASET, i.filename) for i in images]

    assert running.status == "running"
    assert 0 < running.processed_images < 20
    # The images done so far have their drafts, counted; the rest have none yet.
    assert all(saved[: running.processed_images])
    assert not any(saved[running.processed_images :])
    assert running.total_annotations_added == sum(map(len, saved)) > 0
    done = client.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=1)
    final = [client.annotations.get(DATASET, i.filename) for i in images]
    assert final[: running.processed_images] == saved[: running.processed_images]
    assert done.total_annotations_added == sum(map(len, final))


async def test_the_async_client_reads_a_running_jobs_drafts(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    images = _unlabelled(client, fake, 10)
    kickoff = await aclient.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], confidence_threshold=0.0, wait=False
    )
    fake.clock.advance(AUTO_ANNOTATE.queue_seconds + 5 * AUTO_ANNOTATE.seconds_per_pass)
    running = await aclient.auto_annotate.get_batch(kickoff.job_id)
    saved = [await aclient.annotations.get(DATASET, i.filename) for i in images]
    assert running.status == "running"
    assert 0 < running.processed_images < 10
    assert running.total_annotations_added == sum(map(len, saved)) > 0
    assert not any(saved[running.processed_images :])


def _two_jobs_drafted(steps: int) -> tuple[list[Any], list[tuple[int, int]]]:
    """Two jobs side by side over one dataset's images, the clock moved in ``steps``:
    every draft as saved (ids included), and each job as it ended."""
    with FakePictograph(seed=3) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=20, completed_images=20, classes=["stop_sign"])
        images = _unlabelled(client, fake, 20)
        ids = [i.id for i in images]
        first = client.auto_annotate.batch(
            DATASET, ids[:13], [STOP], confidence_threshold=0.0, wait=False
        )
        fake.clock.advance(0.7 * AUTO_ANNOTATE.seconds_per_pass)
        second = client.auto_annotate.batch(
            DATASET, ids[13:], [STOP], confidence_threshold=0.0, wait=False
        )
        span = AUTO_ANNOTATE.queue_seconds + 20 * AUTO_ANNOTATE.seconds_per_pass
        for _ in range(steps):
            fake.clock.advance(span / steps)
            client.credits.balance()  # a read: the world catches up to each step
        jobs = [client.auto_annotate.get_batch(j.job_id) for j in (first, second)]
        assert all(job.status == "completed" for job in jobs)
        drafts = [client.annotations.get(DATASET, i.filename) for i in images]
        return drafts, [(j.processed_images, j.total_annotations_added) for j in jobs]


def test_side_by_side_jobs_draft_the_same_however_the_clock_moved() -> None:
    at_once = _two_jobs_drafted(1)
    drafts, ended = at_once
    assert all(drafts), "every image drafted"
    assert ended == [(13, sum(map(len, drafts[:13]))), (7, sum(map(len, drafts[13:])))]
    assert _two_jobs_drafted(7) == at_once
    assert _two_jobs_drafted(53) == at_once


# ── trained models ──


def test_a_detector_drafts_the_classes_asked_for(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    images = _unlabelled(client, fake, 6)
    before = fake.balance_micro_usd

    job = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], model="m1", confidence_threshold=0.0
    )

    assert before - fake.balance_micro_usd == 6 * AUTO_ANNOTATE.model_micro_usd_per_image
    drafts = [a for i in images for a in client.annotations.get(DATASET, i.filename)]
    assert job.total_annotations_added == len(drafts) > 0
    assert {(a.name, a.type) for a in drafts} == {("stop_sign", "bbox")}


def test_a_classifier_writes_image_tags(fake: FakePictograph, client: pictograph.Client) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="classification", name="clf")
    images = _images(fake)[:4]
    untagged = [image.id for image in images]
    client.images.bulk_tag(DATASET, untagged, ["stop_sign", "yield"], add=False)

    job = client.auto_annotate.batch(
        DATASET,
        untagged,
        [
            BatchClass(name="stop_sign", output_type="tag"),
            BatchClass(name="yield", output_type="tag"),
        ],
        model="clf",
        confidence_threshold=0.0,
        top_k=1,
    )

    assert job.status == "completed"
    assert job.total_annotations_added == 0
    for image in images:
        tags = client.images.get(DATASET, image.filename).tags
        assert len(set(tags) & {"stop_sign", "yield"}) == 1


# ── the whole dataset ──


def test_dataset_drafts_the_unlabelled_images_only(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 3)

    report = client.auto_annotate.dataset(
        DATASET, [("stop_sign", "bbox")], confidence_threshold=0.0
    )

    assert report.images_attempted == 3
    assert report.images_skipped == 17
    assert report.images_processed == 3
    assert report.job_status == "completed"
    assert report.success
    assert all(client.annotations.get(DATASET, i.filename) for i in images)


def test_dataset_in_text_mode_saves_each_images_prompts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 2)

    report = client.auto_annotate.dataset(
        DATASET, [("yield", "polygon")], mode="text", confidence_threshold=0.0
    )

    assert report.images_processed == 2
    assert report.annotations_added == 2
    for image in images:
        (saved,) = client.annotations.get(DATASET, image.filename)
        assert (saved.name, saved.type) == ("yield", "polygon")


async def test_async_batch_polls_on_the_virtual_clock(
    fake: FakePictograph, aclient: pictograph.AsyncClient, no_real_waiting: None
) -> None:
    image = _images(fake)[0]
    kickoff = await aclient.auto_annotate.batch(DATASET, [image.id], [STOP], wait=False)
    quote = await aclient.auto_annotate.quote(
        dataset_name=DATASET, image_filenames=[image.id], classes=[STOP]
    )

    done = await aclient.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=2)
    again = await aclient.auto_annotate.get_batch(kickoff.job_id)

    assert kickoff.estimated_credits == quote.estimated_credits
    assert done.status == again.status == "completed"
    with pytest.raises(ConflictError):
        await aclient.auto_annotate.cancel_batch(kickoff.job_id)


# ── SAM3 prompts ──


def test_a_point_grows_the_object_under_it(fake: FakePictograph, client: pictograph.Client) -> None:
    image = _images(fake)[0]
    w, h = image.width, image.height
    assert w is not None
    assert h is not None

    inside = client.auto_annotate.point(DATASET, image.filename, x=w // 2, y=h // 2, name="yield")
    outside = client.auto_annotate.point(DATASET, image.filename, x=5, y=5, name="yield")

    assert inside.status == "success"
    (polygon,) = inside.annotations
    assert polygon.name == "yield"
    assert polygon.type == "polygon"
    xs = [p.x for p in polygon.polygon.paths[0]]
    ys = [p.y for p in polygon.polygon.paths[0]]
    assert (min(xs), max(xs)) == pytest.approx((w / 4, 3 * w / 4), abs=8)
    assert (min(ys), max(ys)) == pytest.approx((h / 4, 3 * h / 4), abs=8)
    # The background around it is the other region: it reaches the image's corners.
    (background,) = outside.annotations
    assert isinstance(background, PolygonAnnotation)
    assert background.bounding_box is not None
    assert background.bounding_box.w == pytest.approx(w, abs=1)


def test_a_point_outside_the_image_is_refused(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError) as refused:
        client.auto_annotate.point(DATASET, image.filename, x=10_000, y=5)

    assert refused.value.status_code == 422
    assert "outside the image" in str(refused.value)
    assert fake.balance_micro_usd == before


def test_a_box_clips_the_object_to_it(fake: FakePictograph, client: pictograph.Client) -> None:
    image = _images(fake)[0]
    w, h = image.width, image.height
    assert w is not None
    assert h is not None
    box = {"x": 0, "y": 0, "w": w / 2, "h": h / 2}

    both = client.auto_annotate.box(DATASET, image.filename, box=box, name="stop_sign")
    boxed = client.auto_annotate.box(
        DATASET, image.filename, box=box, name="stop_sign", return_polygon=False
    )
    empty = client.auto_annotate.box(
        DATASET, image.filename, box={"x": 0, "y": 0, "w": 20, "h": 20}, name="stop_sign"
    )

    assert both.status == "success"
    assert [a.type for a in both.annotations] == ["bbox", "polygon"]
    assert [a.type for a in boxed.annotations] == ["bbox"]
    boxed_found = boxed.annotations[0]
    assert isinstance(boxed_found, BBoxAnnotation)
    found = boxed_found.bounding_box
    assert found is not None
    # The object's top-left quarter: from its corner to the box's edge.
    assert found.x == pytest.approx(w / 4, abs=8)
    assert found.x + found.w == pytest.approx(w / 2, abs=8)
    assert empty.status == "no_detection"
    assert empty.annotations == []


def test_the_session_fee_is_charged_once_per_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    first, second = _images(fake)[:2]
    before = fake.balance_micro_usd

    client.auto_annotate.text(DATASET, first.filename, text_prompt="stop sign")
    client.auto_annotate.point(DATASET, first.filename, x=5, y=5)
    client.auto_annotate.text(DATASET, second.id, text_prompt="stop sign")

    assert before - fake.balance_micro_usd == 2 * AUTO_ANNOTATE.session_micro_usd


def test_a_prompt_without_the_session_fee_is_402() -> None:
    with FakePictograph(seed=1, balance_usd=0.01) as fake:
        fake.add_dataset(DATASET, images=1, classes=["stop_sign"])
        with fake.client(max_retries=0) as client, pytest.raises(PaymentRequiredError):
            client.auto_annotate.text(DATASET, "img-00001.jpg", text_prompt="sign")
        assert fake.ledger == ()


async def test_async_prompts(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    image = _images(fake)[0]
    w, h = image.width, image.height
    assert w is not None
    assert h is not None

    text = await aclient.auto_annotate.text(
        DATASET, image.filename, text_prompt="stop_sign", output_type="bbox", confidence_threshold=0
    )
    point = await aclient.auto_annotate.point(DATASET, image.id, x=w // 2, y=h // 2)
    box = await aclient.auto_annotate.box(
        DATASET, image.filename, box={"x": 0, "y": 0, "w": w, "h": h}, name="stop_sign"
    )

    assert [a.type for a in text.annotations] == ["bbox"]
    assert point.status == box.status == "success"
    text_found = text.annotations[0]
    assert isinstance(text_found, BBoxAnnotation)
    found = text_found.bounding_box
    assert found is not None
    assert found.x == pytest.approx(w / 4, abs=8)
    with pytest.raises(NotFoundError):
        await aclient.auto_annotate.text(DATASET, "ghost.jpg", text_prompt="sign")


# ── "Annotate similar" ──


@pytest.fixture
def shapes() -> Iterator[FakePictograph]:
    """Six images of one polygon-and-box class; the first's example outlines its object."""
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=6, classes=["sign"], annotation_types=("polygon", "bbox"))
        yield fake


def _example_polygon(image: Image, scale: float = 1.0) -> PolygonAnnotation:
    """A ``sign`` polygon round the image's drawn rectangle, scaled about its centre."""
    w, h = (image.width or 0) * scale, (image.height or 0) * scale
    x0, y0 = (image.width or 0) / 2 - w / 4, (image.height or 0) / 2 - h / 4
    ring = [(x0, y0), (x0 + w / 2, y0), (x0 + w / 2, y0 + h / 2), (x0, y0 + h / 2)]
    points = [Point(x=x, y=y) for x, y in ring]
    return PolygonAnnotation(name="sign", polygon=PolygonGeometry(paths=[points]))


def _example(client: pictograph.Client, image: Image, scale: float = 1.0) -> str:
    """Replace the image's labels with one polygon round its drawn rectangle; its id."""
    client.annotations.save(DATASET, image.filename, annotations=[_example_polygon(image, scale)])
    (saved,) = client.annotations.get(DATASET, image.filename)
    return str(saved.id)


def test_quote_similar_is_what_similar_charges_when_it_completes(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first, *others = _images(shapes)
        example = _example(client, first)
        for image in others:
            client.annotations.delete(DATASET, image.filename)

        quote = client.auto_annotate.quote_similar(
            DATASET, first.filename, annotation_ids=[example]
        )
        before = shapes.balance_micro_usd
        kickoff = client.auto_annotate.similar(
            DATASET, first.filename, annotation_ids=[example], wait=False
        )
        charged_at_start = before - shapes.balance_micro_usd
        done = client.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=1)

        assert (quote.total_images, quote.total_in_scope, quote.examples) == (5, 5, 1)
        assert (quote.target_class, quote.scope, quote.directory) == ("sign", "directory", "/")
        assert charged_at_start == 0
        assert before - shapes.balance_micro_usd == quote.estimated_credits == 5 * PASS
        assert done.status == "completed"
        # Each other image's rectangle is the example's size: one match on each.
        assert done.total_annotations_added == 5
        for image in others:
            (match,) = client.annotations.get(DATASET, image.filename)
            assert (match.name, match.type) == ("sign", "polygon")


def test_similar_matches_only_objects_the_examples_size(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first, *others = _images(shapes)
        _example(client, first, scale=0.1)  # an example a tenth of the objects' size
        for image in others:
            client.annotations.delete(DATASET, image.filename)

        done = client.auto_annotate.similar(
            DATASET, first.filename, reference_class="sign", output_type="bbox", poll_interval=1
        )

        assert done.total_annotations_added == 0


def test_a_cancelled_similar_job_is_free(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
        before = shapes.balance_micro_usd
        kickoff = client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", wait=False
        )
        shapes.clock.advance(AUTO_ANNOTATE.queue_seconds + 0.5)

        cancelled = client.auto_annotate.cancel_batch(kickoff.job_id)

        assert cancelled.status == "cancelled"
        assert shapes.balance_micro_usd == before


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"annotation_ids": ["nope"]}, NotFoundError, "nope"),
        ({"reference_class": "ghost"}, ValidationError, "no polygon of class"),
        ({"reference_class": "sign", "target_class": "giraffe"}, ValidationError, "not a class"),
        ({"reference_class": "sign", "confidence": 0.95}, ValidationError, "confidence"),
    ],
)
def test_quote_similar_refuses_what_similar_would(
    shapes: FakePictograph, kwargs: dict[str, object], error: type[Exception], says: str
) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
        with pytest.raises(error, match=says):
            client.auto_annotate.quote_similar(DATASET, first.filename, **kwargs)  # type: ignore[arg-type]


def test_a_box_output_needs_a_box_class() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=3, classes=["sign"], annotation_types=("polygon",))
        with fake.client(max_retries=0) as client:
            first = _images(fake)[0]
            _example(client, first)
            with pytest.raises(ValidationError, match="writes bbox annotations"):
                client.auto_annotate.quote_similar(
                    DATASET, first.filename, reference_class="sign", output_type="obb"
                )


@pytest.mark.parametrize(("scope", "advice"), [("dataset", True), ("directory", False)])
def test_a_402_for_similar_suggests_the_narrower_scope_only_when_not_taken(
    scope: SimilarScope, advice: bool
) -> None:
    with FakePictograph(seed=1, balance_usd=0.0001) as fake:
        fake.add_dataset(DATASET, images=6, classes=["sign"], annotation_types=("polygon", "bbox"))
        with fake.client(max_retries=0) as client:
            first = _images(fake)[0]
            _example(client, first)
            with pytest.raises(PaymentRequiredError, match="top up") as refused:
                client.auto_annotate.similar(
                    DATASET, first.filename, reference_class="sign", scope=scope, wait=False
                )
        assert ("scope='directory'" in refused.value.message) is advice
        assert fake.ledger == ()


async def test_async_a_402_for_similar_in_a_directory_says_to_top_up() -> None:
    with FakePictograph(seed=1, balance_usd=0.0001) as fake:
        fake.add_dataset(DATASET, images=6, classes=["sign"], annotation_types=("polygon", "bbox"))
        with fake.client(max_retries=0) as client:
            first = _images(fake)[0]
            _example(client, first)
        async with fake.async_client(max_retries=0) as aclient:
            with pytest.raises(PaymentRequiredError) as refused:
                await aclient.auto_annotate.similar(
                    DATASET, first.filename, reference_class="sign", wait=False
                )
        assert refused.value.message.endswith("top up.")


async def test_async_similar(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
    async with shapes.async_client(max_retries=0) as aclient:
        quote = await aclient.auto_annotate.quote_similar(
            DATASET, first.filename, reference_class="sign", scope="dataset", output_type="obb"
        )
        done = await aclient.auto_annotate.similar(
            DATASET, first.filename, reference_class="sign", output_type="obb", poll_interval=1
        )

    assert quote.scope == "dataset"
    assert done.status == "completed"
    assert done.total_annotations_added == 5


# ── the jobs feed ──


@pytest.mark.usefixtures("no_real_waiting")
def test_a_batch_job_is_an_auto_annotate_job_in_the_feed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 4)
    ids = [i.id for i in images]
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    kickoff = client.auto_annotate.batch(DATASET, ids, [STOP], wait=False)

    queued = client.jobs.get(kickoff.job_id)
    assert (queued.type, queued.status, queued.progress, queued.name) == (
        "auto_annotate",
        "queued",  # the job's pending, in the feed's words
        0.0,
        f"Auto-annotate 4 images of '{DATASET}' with SAM3",
    )
    assert queued.cancel_path == f"/api/v1/developer/auto-annotate/batch/{kickoff.job_id}/cancel"
    assert queued.detail["total_images"] == 4
    # Newest first, after the run created before it.
    assert [j.id for j in client.jobs.list()][:2] == [kickoff.job_id, run.id]
    assert [j.id for j in client.jobs.list(type="auto_annotate")] == [kickoff.job_id]

    fake.clock.advance(AUTO_ANNOTATE.queue_seconds + 0.01)
    running = client.jobs.get(kickoff.job_id)
    assert running.status == "running"
    batch = client.auto_annotate.get_batch(kickoff.job_id)
    assert (running.progress, running.detail["processed_images"]) == (
        batch.progress,
        batch.processed_images,
    )
    # jobs.cancel goes through the batch's own cancel route.
    cancelled = client.jobs.cancel(kickoff.job_id)
    assert (cancelled.status, cancelled.cancel_path) == ("cancelled", None)
    assert client.auto_annotate.get_batch(kickoff.job_id).status == "cancelled"
    assert [j.id for j in client.jobs.list(status="cancelled", type="auto_annotate")] == [
        kickoff.job_id
    ]
    with pytest.raises(ApiError) as ended:
        client.jobs.wait(kickoff.job_id)
    assert ended.value.code == "job_cancelled"

    second = client.auto_annotate.batch(DATASET, ids[:1], [STOP], wait=False)
    done = client.jobs.wait(second.job_id, poll_interval=1)
    assert (done.status, done.progress, done.completed_at is not None) == ("completed", 100.0, True)
    assert [j.id for j in client.jobs.list(status="completed", type="auto_annotate")] == [
        second.job_id
    ]
    every = client.jobs.list(status="all", type="auto_annotate")
    assert [j.id for j in every] == [second.job_id, kickoff.job_id]
    other = fake.add_organization()
    with other.client(max_retries=0) as them, pytest.raises(NotFoundError):
        them.jobs.get(second.job_id)


async def test_the_async_jobs_feed_reads_and_cancels_a_batch_job(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    image = _images(fake)[0]
    kickoff = await aclient.auto_annotate.batch(DATASET, [image.id], [STOP], wait=False)
    assert (await aclient.jobs.get(kickoff.job_id)).type == "auto_annotate"
    assert [j.id async for j in aclient.jobs.list(type="auto_annotate")] == [kickoff.job_id]
    cancelled = await aclient.jobs.cancel(kickoff.job_id)
    assert cancelled.status == "cancelled"
    again = await aclient.auto_annotate.batch(DATASET, [image.id], [STOP], wait=False)
    assert (await aclient.jobs.wait(again.job_id, poll_interval=1)).status == "completed"


# ── naming images ──


def test_an_image_is_named_by_its_id_in_any_case_or_by_a_rooted_filename(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    first, second = _unlabelled(client, fake, 2)

    job = client.auto_annotate.batch(
        DATASET, [first.id.upper(), "/" + second.filename], [STOP], confidence_threshold=0.0
    )

    assert (job.total_images, job.total_annotations_added) == (2, 2)


def test_a_rooted_filename_names_the_roots_image_and_a_bare_one_every_such_image(
    client: pictograph.Client, tmp_path: Path
) -> None:
    picture = write_image(tmp_path / "twin.png", (64, 48))
    client.images.upload(DATASET, picture)
    client.images.upload(DATASET, picture, directory_path="/val")

    rooted = client.auto_annotate.batch(DATASET, ["/twin.png"], [STOP])
    bare = client.auto_annotate.batch(DATASET, ["twin.png"], [STOP])

    assert (rooted.total_images, bare.total_images) == (1, 2)


def test_another_datasets_image_is_not_this_datasets(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("other", images=1, classes=["stop_sign"])
    world = fake.world
    (theirs,) = world.dataset_images(world.dataset(fake.organization_id, "other"))

    with pytest.raises(NotFoundError, match=theirs.id):
        client.auto_annotate.batch(DATASET, [theirs.id], [STOP])


# ── drafts beside annotations ──


def _save_box(client: pictograph.Client, image: Image, shift: float, kind: str) -> None:
    """Label the image with one ``stop_sign`` of the given kind over the drawn rectangle,
    moved right by ``shift`` of its width."""
    w, h = image.width or 0, image.height or 0
    x0, y0 = w / 4 + shift * w / 2, h / 4
    if kind == "bbox":
        box = BoundingBox(x=x0, y=y0, w=w / 2, h=h / 2)
        saved: BBoxAnnotation | PolygonAnnotation = BBoxAnnotation(
            name="stop_sign", bounding_box=box
        )
    else:
        ring = [(x0, y0), (x0 + w / 2, y0), (x0 + w / 2, y0 + h / 2), (x0, y0 + h / 2)]
        paths = [[Point(x=x, y=y) for x, y in ring]]
        saved = PolygonAnnotation(name="stop_sign", polygon=PolygonGeometry(paths=paths))
    client.annotations.save(DATASET, image.filename, annotations=[saved])


@pytest.mark.parametrize(
    ("shift", "kind", "added"),
    [
        (0.0, "bbox", 0),  # the same box: a repeat
        (0.05, "bbox", 0),  # IoU 0.905: still a repeat
        (0.2, "bbox", 1),  # IoU 0.67: another object beside it
        (0.0, "polygon", 1),  # a polygon is not the bbox draft's repeat
    ],
)
def test_a_draft_repeats_an_annotation_of_its_class_and_type_over_nine_tenths(
    fake: FakePictograph, client: pictograph.Client, shift: float, kind: str, added: int
) -> None:
    (image,) = _unlabelled(client, fake, 1)
    _save_box(client, image, shift, kind)

    job = client.auto_annotate.batch(DATASET, [image.id], [STOP], confidence_threshold=0.0)

    assert job.total_annotations_added == added
    assert len(client.annotations.get(DATASET, image.filename)) == 1 + added


# ── the clock ──


def test_a_job_queues_then_does_each_image_at_its_share_of_the_passes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Three images, two classes: six passes of 0.4 s on one container, 2.4 s after the
    # queue; each image is done at its share of that, its drafts written then.
    images = _unlabelled(client, fake, 3)
    classes = [STOP, BatchClass(name="yield", output_type="bbox")]
    started = fake.clock.monotonic()
    kickoff = client.auto_annotate.batch(
        DATASET, [i.id for i in images], classes, confidence_threshold=0.0, wait=False
    )

    def at(seconds: float) -> tuple[str, int, int, list[int]]:
        """The job and each image's drafts, ``seconds`` past the queue."""
        fake.clock.reach(started + AUTO_ANNOTATE.queue_seconds + seconds)
        job = client.auto_annotate.get_batch(kickoff.job_id)
        drafts = [len(client.annotations.get(DATASET, i.filename)) for i in images]
        return job.status, job.processed_images, job.progress, drafts

    assert at(-0.01) == ("pending", 0, 0, [0, 0, 0])
    assert at(0.0) == ("running", 0, 0, [0, 0, 0])
    # The first image is done a hair after its third: its drafts are there by 0.81.
    assert at(0.81) == ("running", 1, 33, [2, 0, 0])
    assert at(2.39) == ("running", 2, 66, [2, 2, 0])
    assert at(2.4) == ("completed", 3, 100, [2, 2, 2])


def _upload_into_val(client: pictograph.Client, tmp_path: Path, filename: str) -> None:
    """Upload a picture (a block in its top-left corner) as ``/val/<filename>``."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    picture = PILImage.new("RGB", (200, 100), (0, 0, 0))
    ImageDraw.Draw(picture).rectangle((0, 0, 49, 24), fill=(255, 255, 255))
    local = tmp_path / filename
    picture.save(local, format="JPEG")
    client.images.upload(DATASET, local, directory_path="/val")


def test_a_bare_filename_is_every_image_of_that_name_and_a_prompts_the_roots(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    root = _images(fake)[0]
    _upload_into_val(client, tmp_path, root.filename)

    quote = client.auto_annotate.quote(
        dataset_name=DATASET, image_filenames=[root.filename], classes=[STOP]
    )
    prompt = client.auto_annotate.text(
        DATASET, root.filename, text_prompt="sign", output_type="bbox", confidence_threshold=0
    )

    assert quote.total_images == 2
    # The root's image: its rectangle over the middle half, not the copy's corner block.
    found = prompt.annotations[0]
    assert isinstance(found, BBoxAnnotation)
    assert found.bounding_box is not None
    assert found.bounding_box.x == pytest.approx((root.width or 0) / 4, abs=8)


# ── credits ──


def _funded(micro_usd: int, images: int) -> FakePictograph:
    """A fake whose organization can spend exactly ``micro_usd``, with a dataset of
    ``images`` images of one class, ``sign`` (polygons and boxes)."""
    fake = FakePictograph(seed=1, balance_usd=micro_usd / 1e6)
    fake.add_dataset(DATASET, images=images, classes=["sign"], annotation_types=("polygon", "bbox"))
    return fake


SIGN = BatchClass(name="sign", output_type="bbox")


def test_a_balance_of_exactly_a_jobs_price_starts_it() -> None:
    with _funded(3 * PASS, images=3) as fake, fake.client(max_retries=0) as client:
        names = [image.id for image in _images(fake)]
        quote = client.auto_annotate.quote(
            dataset_name=DATASET, image_filenames=names, classes=[SIGN]
        )
        job = client.auto_annotate.batch(DATASET, names, [SIGN])

        assert (quote.estimated_credits, quote.sufficient) == (3 * PASS, True)
        assert job.status == "completed"
        assert fake.balance_micro_usd == 0


def test_a_balance_of_exactly_the_session_fee_pays_for_a_prompt() -> None:
    with _funded(AUTO_ANNOTATE.session_micro_usd, images=1) as fake:
        with fake.client(max_retries=0) as client:
            found = client.auto_annotate.text(DATASET, "img-00001.jpg", text_prompt="sign")

        assert found.status == "success"
        assert fake.balance_micro_usd == 0


def test_a_balance_of_exactly_the_estimate_starts_annotate_similar() -> None:
    with _funded(5 * PASS, images=6) as fake, fake.client(max_retries=0) as client:
        first = _images(fake)[0]
        _example(client, first)
        quote = client.auto_annotate.quote_similar(DATASET, first.id, reference_class="sign")
        done = client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", poll_interval=1
        )

        assert (quote.estimated_credits, quote.sufficient) == (5 * PASS, True)
        assert done.status == "completed"
        assert fake.balance_micro_usd == 0


# ── the jobs feed ──


def test_the_feed_dates_a_job_by_its_last_change(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    kickoff = client.auto_annotate.batch(DATASET, [_images(fake)[0].id], [STOP], wait=False)

    queued = client.jobs.get(kickoff.job_id)
    fake.clock.advance(AUTO_ANNOTATE.queue_seconds + 0.1)
    running = client.jobs.get(kickoff.job_id)
    done = client.jobs.wait(kickoff.job_id, poll_interval=1)

    assert queued.updated_at == queued.created_at
    # Running since its queue time ended, not since it was read.
    assert running.updated_at is not None
    assert running.created_at is not None
    assert running.updated_at - running.created_at == timedelta(seconds=AUTO_ANNOTATE.queue_seconds)
    assert done.updated_at == done.completed_at is not None


def test_another_organizations_live_job_is_not_in_the_feed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization(name="Other")
    other.add_dataset("theirs", images=1, classes=["stop_sign"])
    with other.client(max_retries=0) as theirs:
        job = theirs.auto_annotate.batch("theirs", ["img-00001.jpg"], [STOP], wait=False)
        assert [j.id for j in theirs.jobs.list(type="auto_annotate")] == [job.job_id]

    assert list(client.jobs.list(type="auto_annotate")) == []
    assert list(client.jobs.list(status="queued")) == []


def test_an_image_deleted_before_its_turn_fails_and_gets_no_drafts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = _unlabelled(client, fake, 3)
    kickoff = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], confidence_threshold=0.0, wait=False
    )
    client.images.delete(DATASET, images[1].filename, permanent=True)

    done = client.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=1)
    feed = client.jobs.get(kickoff.job_id)

    assert (done.processed_images, done.failed_images, done.total_annotations_added) == (2, 1, 2)
    assert (feed.detail["processed_images"], feed.detail["failed_images"]) == (2, 1)


# ── "Annotate similar", more ──


def _add_label(client: pictograph.Client, image: Image, label: Annotation) -> None:
    """Save ``label`` beside the image's annotations."""
    kept = client.annotations.get(DATASET, image.filename)
    client.annotations.save(DATASET, image.filename, annotations=[*kept, label])


def test_a_similar_job_cancelled_while_pending_is_free_and_refunds_nothing(
    shapes: FakePictograph,
) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
        kickoff = client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", wait=False
        )
        listed = client.jobs.get(kickoff.job_id)

        cancelled = client.auto_annotate.cancel_batch(kickoff.job_id)

        assert listed.detail["similar"] is True
        assert cancelled.status == "cancelled"
        # It was never charged, so nothing comes back either.
        assert shapes.ledger == ()


def test_examples_of_several_classes_need_a_target_class() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=3, classes=["sign", "mark"], annotation_types=("polygon",))
        with fake.client(max_retries=0) as client:
            first = _images(fake)[0]
            _example(client, first)
            ring = [Point(x=1, y=1), Point(x=9, y=1), Point(x=9, y=9)]
            mark = PolygonAnnotation(name="mark", polygon=PolygonGeometry(paths=[ring]))
            _add_label(client, first, mark)
            ids = [str(a.id) for a in client.annotations.get(DATASET, first.filename)]

            with pytest.raises(ValidationError, match=r"several classes \(mark, sign\)"):
                client.auto_annotate.quote_similar(DATASET, first.id, annotation_ids=ids)
            quote = client.auto_annotate.quote_similar(
                DATASET, first.id, annotation_ids=ids, target_class="sign"
            )
            assert (quote.examples, quote.target_class) == (2, "sign")


def test_reference_class_learns_from_the_classs_polygons_only(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
        _add_label(
            client,
            first,
            BBoxAnnotation(name="sign", bounding_box=BoundingBox(x=1, y=1, w=20, h=20)),
        )

        quote = client.auto_annotate.quote_similar(DATASET, first.id, reference_class="sign")

        assert quote.examples == 1


def test_the_directory_scope_is_the_examples_folder(shapes: FakePictograph, tmp_path: Path) -> None:
    with shapes.client(max_retries=0) as client:
        first = _images(shapes)[0]
        _example(client, first)
        _upload_into_val(client, tmp_path, "elsewhere.jpg")

        folder = client.auto_annotate.quote_similar(DATASET, first.id, reference_class="sign")
        everywhere = client.auto_annotate.quote_similar(
            DATASET, first.id, reference_class="sign", scope="dataset"
        )

        assert (folder.total_in_scope, folder.directory) == (5, "/")
        assert everywhere.total_in_scope == 6


def test_an_example_up_to_four_times_the_objects_size_matches_them(
    shapes: FakePictograph,
) -> None:
    with shapes.client(max_retries=0) as client:
        first, *others = _images(shapes)
        _example(client, first, scale=1.7)  # 2.89 times the area of each object
        for image in others:
            client.annotations.delete(DATASET, image.filename)

        done = client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", poll_interval=1
        )

        assert done.total_annotations_added == 5


# ── trained models, more ──


def test_a_detector_with_no_classes_drafts_every_class_it_finds(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    images = _unlabelled(client, fake, 6)

    job = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [], model="m1", confidence_threshold=0.0
    )

    drafts = [a for i in images for a in client.annotations.get(DATASET, i.filename)]
    assert job.total_annotations_added == len(drafts)
    assert {(a.name, a.type) for a in drafts} == {("stop_sign", "bbox"), ("yield", "bbox")}


def test_a_tag_class_needs_a_classifier(fake: FakePictograph, client: pictograph.Client) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    before = fake.balance_micro_usd

    with pytest.raises(ValidationError, match="only a classification model writes"):
        client.auto_annotate.batch(
            DATASET,
            [_images(fake)[0].id],
            [BatchClass(name="stop_sign", output_type="tag")],
            model="m1",
        )
    assert fake.balance_micro_usd == before


@pytest.mark.parametrize(
    ("classes", "top_k"),
    [
        (["stop_sign", "yield"], 2),
        ([], 1),  # no class named: the classifier's own best guess
    ],
)
def test_a_classifier_tags_its_top_k_guesses(
    fake: FakePictograph, client: pictograph.Client, classes: list[str], top_k: int
) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="classification", name="clf")
    images = _images(fake)[6:10]
    ids = [image.id for image in images]
    client.images.bulk_tag(DATASET, ids, ["stop_sign", "yield"], add=False)

    client.auto_annotate.batch(
        DATASET,
        ids,
        [BatchClass(name=name, output_type="tag") for name in classes],
        model="clf",
        confidence_threshold=0.0,
        top_k=top_k,
    )

    for image in images:
        tags = client.images.get(DATASET, image.filename).tags
        assert len(tags) == top_k
        assert set(tags) <= {"stop_sign", "yield"}


def test_the_ledger_names_what_each_charge_paid_for(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    image = _images(fake)[0]
    history_before = len(client.credits.history(limit=100))

    client.auto_annotate.batch(DATASET, [image.id], [STOP])
    client.auto_annotate.batch(DATASET, [image.id], [STOP], model="m1")
    client.auto_annotate.text(DATASET, image.id, text_prompt="sign")

    entries = client.credits.history(limit=100)[
        : len(client.credits.history(limit=100)) - history_before
    ]
    assert [(e.operation, e.amount) for e in reversed(entries)] == [
        ("sam3_auto_annotation", -PASS),
        ("auto_annotate_model", -AUTO_ANNOTATE.model_micro_usd_per_image),
        ("sam3_session", -AUTO_ANNOTATE.session_micro_usd),
    ]


def test_matches_are_sized_by_the_examples_mean_area(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first, *others = _images(shapes)
        # A quarter and 4.41 times an object's area: on average 2.33 times, within 4.
        _example(client, first, scale=0.5)
        _add_label(client, first, _example_polygon(first, scale=2.1))
        for image in others:
            client.annotations.delete(DATASET, image.filename)

        done = client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", poll_interval=1
        )

        assert done.total_annotations_added == 5


def test_an_obb_match_is_a_box_with_its_oriented_box_unturned(shapes: FakePictograph) -> None:
    with shapes.client(max_retries=0) as client:
        first, second, *_ = _images(shapes)
        _example(client, first)
        client.annotations.delete(DATASET, second.filename)

        client.auto_annotate.similar(
            DATASET, first.id, reference_class="sign", output_type="obb", poll_interval=1
        )

        (match,) = client.annotations.get(DATASET, second.filename)
        assert isinstance(match, BBoxAnnotation)
        box, turned = match.bounding_box, match.oriented_box
        assert box is not None
        assert turned is not None
        assert (turned.cx, turned.cy, turned.w, turned.h, turned.angle) == (
            box.x + box.w / 2,
            box.y + box.h / 2,
            box.w,
            box.h,
            0.0,
        )


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
"""The header of a HEIC image: taken as one, its pixels never read."""


def test_sam3_does_not_read_a_heic_image(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    (image,) = _unlabelled(client, fake, 1)
    (tmp_path / "phone.heic").write_bytes(HEIC)
    client.images.upload(DATASET, tmp_path / "phone.heic")
    before = fake.balance_micro_usd

    with pytest.raises(ValidationError) as refused:
        client.auto_annotate.text(DATASET, "phone.heic", text_prompt="sign")
    job = client.auto_annotate.batch(
        DATASET, [image.id, "phone.heic"], [STOP], confidence_threshold=0.0
    )

    assert refused.value.code == "image_unreadable"
    assert before - fake.balance_micro_usd == 2 * PASS  # the job, not the refused prompt
    assert (job.processed_images, job.failed_images, job.total_annotations_added) == (1, 1, 1)


def test_a_trained_models_job_takes_one_pass_an_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Two images, one pass each: 0.8 s after the queue; halfway, one image is done, and
    # a job short of its end reads 99 percent of its share done.
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    images = _unlabelled(client, fake, 2)
    started = fake.clock.monotonic()
    kickoff = client.auto_annotate.batch(
        DATASET, [i.id for i in images], [STOP], model="m1", confidence_threshold=0.0, wait=False
    )

    fake.clock.reach(started + AUTO_ANNOTATE.queue_seconds + 0.41)
    halfway = client.auto_annotate.get_batch(kickoff.job_id)
    fake.clock.reach(started + AUTO_ANNOTATE.queue_seconds + 0.8)
    done = client.auto_annotate.get_batch(kickoff.job_id)

    assert (halfway.status, halfway.processed_images, halfway.progress) == ("running", 1, 49)
    assert (done.status, done.progress) == ("completed", 100)


# ── the routes' own rules ──


@pytest.mark.parametrize(
    ("group", "tiles"),
    [
        ({"count": 1}, 3 * 2),  # the assumed 1280 x 720
        ({"count": 1, "width": 1920}, 4 * 2),  # 1920 x the assumed 720
        ({"count": 1, "height": 1080}, 3 * 2),  # the assumed 1280 x 1080
        ({"count": 1, "width": 640, "height": 640}, 1),
    ],
)
def test_a_projected_group_takes_the_assumed_size_for_what_it_leaves_out(
    client: pictograph.Client, group: dict[str, int], tiles: int
) -> None:
    quote = client.auto_annotate.quote(projected=[group], classes=[STOP], sahi=True)

    assert quote.sahi_tiles == tiles
    assert quote.estimated_credits == (1 + tiles) * PASS


@pytest.mark.parametrize(
    ("count", "exceeds"), [(AUTO_ANNOTATE.max_images, False), (AUTO_ANNOTATE.max_images + 1, True)]
)
def test_a_quote_says_when_a_job_is_past_the_most_images(
    client: pictograph.Client, count: int, exceeds: bool
) -> None:
    quote = client.auto_annotate.quote(projected=[{"count": count}], classes=[STOP])

    assert (quote.total_images, quote.max_images) == (count, AUTO_ANNOTATE.max_images)
    assert quote.exceeds_max_images is exceeds


def test_model_sam3_is_sam3(fake: FakePictograph, client: pictograph.Client) -> None:
    quote = client.auto_annotate.quote(projected=[{"count": 2}], classes=[STOP], model="sam3")
    job = client.auto_annotate.batch(
        DATASET, [_images(fake)[0].id], [STOP], model="sam3", wait=False
    )

    assert quote.estimated_credits == 2 * PASS
    assert job.estimated_credits == PASS
    assert client.jobs.get(job.job_id).detail["model_name"] == "SAM3"


def test_a_point_prompt_grows_every_positive_point_less_the_negatives(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    w, h = image.width or 0, image.height or 0
    centre = (w // 2, h // 2)

    both = client.auto_annotate.point(
        DATASET, image.id, x=5, y=5, positive_points=[centre], score_threshold=0
    )
    carved = client.auto_annotate.point(
        DATASET,
        image.id,
        x=5,
        y=5,
        positive_points=[centre],
        negative_points=[centre],
        score_threshold=0,
    )

    # The background and the rectangle on it fill the image: nothing around them to
    # stand out from (0.5). Less the rectangle, the background stands out from it.
    (whole,) = both.annotations
    assert isinstance(whole, PolygonAnnotation)
    assert whole.bounding_box is not None
    assert (whole.bounding_box.w, whole.bounding_box.h) == (w, h)
    assert (both.score, carved.score) == (0.5, 0.99)


@pytest.mark.parametrize(
    ("points", "loc"),
    [
        ({"x": 10_000}, ["body", "x"]),
        ({"positive_points": [(5, 5), (5, 10_000)]}, ["body", "positive_points", 1]),
        ({"negative_points": [(10_000, 5)]}, ["body", "negative_points", 0]),
    ],
)
def test_every_point_of_a_prompt_must_be_inside_the_image(
    fake: FakePictograph, client: pictograph.Client, points: dict[str, Any], loc: list[Any]
) -> None:
    where: dict[str, Any] = {"x": 5, "y": 5} | points
    with pytest.raises(ValidationError, match="outside the image") as refused:
        client.auto_annotate.point(DATASET, _images(fake)[0].id, **where)

    assert [error["loc"] for error in refused.value.field_errors] == [loc]


def test_a_prompt_below_its_threshold_reports_the_score_it_got(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    box: dict[str, float] = {"x": 0, "y": 0, "w": image.width or 0, "h": image.height or 0}

    point = client.auto_annotate.point(
        DATASET,
        image.id,
        x=(image.width or 0) // 2,
        y=(image.height or 0) // 2,
        score_threshold=1.0,
    )
    boxed = client.auto_annotate.box(
        DATASET, image.id, box=box, name="sign", confidence_threshold=1.0
    )
    text = client.auto_annotate.text(
        DATASET, image.id, text_prompt="sign", confidence_threshold=1.0
    )

    assert (point.status, point.annotations, point.score) == ("below_threshold", [], 0.99)
    assert (boxed.status, boxed.annotations, boxed.score) == ("below_threshold", [], 0.99)
    assert (text.status, text.annotations) == ("below_threshold", [])
    # One region each found: the GPU time of a decode and one outline.
    assert point.inference_time == boxed.inference_time == text.inference_time == 0.09


def test_a_negative_box_must_cover_some_of_the_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    with pytest.raises(ValidationError, match="does not cover any of the image"):
        client.auto_annotate.box(
            DATASET,
            image.id,
            box={"x": 0, "y": 0, "w": 100, "h": 100},
            name="sign",
            negative_boxes=[{"x": -20, "y": 0, "w": 20, "h": 10}],
        )


def test_a_prompt_on_a_dataset_going_cold_is_409_and_free(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    client.datasets.freeze(DATASET)
    before = fake.balance_micro_usd

    with pytest.raises(ConflictError) as refused:
        client.auto_annotate.text(DATASET, image.id, text_prompt="sign")

    assert refused.value.code == "dataset_cold"
    assert fake.balance_micro_usd == before


def test_a_prompt_at_exactly_its_threshold_keeps_the_object(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = _images(fake)[0]
    w, h = image.width or 0, image.height or 0
    best = client.auto_annotate.text(DATASET, image.id, text_prompt="sign", confidence_threshold=0)
    top = best.annotations[0].confidence
    assert top is not None

    point = client.auto_annotate.point(DATASET, image.id, x=w // 2, y=h // 2, score_threshold=0.99)
    boxed = client.auto_annotate.box(
        DATASET, image.id, box={"x": 0, "y": 0, "w": w, "h": h}, name="s", confidence_threshold=0.99
    )
    text = client.auto_annotate.text(
        DATASET, image.id, text_prompt="sign", confidence_threshold=top
    )

    assert (point.status, point.score) == ("success", 0.99)
    assert (boxed.status, boxed.score) == ("success", 0.99)
    assert (text.status, len(text.annotations)) == ("success", 1)


@pytest.mark.parametrize("prompt", ["point", "box"])
def test_a_point_or_box_prompt_alone_pays_the_session_fee(
    fake: FakePictograph, client: pictograph.Client, prompt: str
) -> None:
    image = _images(fake)[0]
    before = fake.balance_micro_usd

    if prompt == "point":
        client.auto_annotate.point(DATASET, image.id, x=5, y=5)
    else:
        box: dict[str, float] = {"x": 0, "y": 0, "w": 50, "h": 50}
        client.auto_annotate.box(DATASET, image.id, box=box, name="sign")

    assert before - fake.balance_micro_usd == AUTO_ANNOTATE.session_micro_usd


def test_a_text_prompts_matches_are_named_after_the_trimmed_phrase(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    found = client.auto_annotate.text(
        DATASET, _images(fake)[0].id, text_prompt="  stop sign ", confidence_threshold=0
    )

    assert {a.name for a in found.annotations} == {"stop sign"}


@pytest.mark.parametrize(
    ("point", "box"),
    [
        ((1, 0), {"x": 0, "y": 0, "w": 10, "h": 0}),  # x = width; a box of no height
        ((0, 1), {"x": 0, "y": -10, "w": 10, "h": 10}),  # y = height; a box ending at y = 0
    ],
)
def test_a_prompt_on_the_images_far_edge_is_outside_it(
    fake: FakePictograph,
    client: pictograph.Client,
    point: tuple[int, int],
    box: dict[str, float],
) -> None:
    image = _images(fake)[0]
    x, y = point[0] * (image.width or 0), point[1] * (image.height or 0)
    with pytest.raises(ValidationError, match="outside the image"):
        client.auto_annotate.point(DATASET, image.id, x=x or 5, y=y or 5)
    with pytest.raises(ValidationError, match="does not cover any of the image"):
        client.auto_annotate.box(DATASET, image.id, box=box, name="sign")


def test_a_similar_refusal_names_the_image_by_its_path(shapes: FakePictograph) -> None:
    """``a.jpg`` at the root, ``cam/day/a.jpg`` below it: as the per-image routes say it."""
    with shapes.client(max_retries=0) as client:
        first, second = _images(shapes)[:2]
        _example(client, first)
        with pytest.raises(NotFoundError) as unknown:
            client.auto_annotate.quote_similar(DATASET, first.id, annotation_ids=["nope"])
        assert f"is not on image '{first.filename}':" in unknown.value.message
        client.batch.move(DATASET, [second.id], target_directory_path="/cam/day")
        with pytest.raises(NotFoundError) as unknown:
            client.auto_annotate.quote_similar(DATASET, second.id, annotation_ids=["nope"])
        assert f"is not on image 'cam/day/{second.filename}':" in unknown.value.message
        with pytest.raises(ValidationError) as bare:
            client.auto_annotate.quote_similar(DATASET, second.id, reference_class="ghost")
        assert bare.value.message.startswith(f"Image 'cam/day/{second.filename}' has no polygon")
