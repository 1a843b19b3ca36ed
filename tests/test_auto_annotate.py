"""Auto-annotation through the real SDK: batch jobs (quote, charge, drafts, cancel) and
SAM3's point, box and text prompts, sync and async."""

from __future__ import annotations

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
from pictograph.models import BBoxAnnotation
from pictograph.models.annotation import PolygonAnnotation, PolygonGeometry
from pictograph.models.auto_annotate import BatchClass, SimilarScope
from pictograph.models.common import Point

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import AUTO_ANNOTATE
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pictograph

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


def _example(client: pictograph.Client, image: Image, scale: float = 1.0) -> str:
    """Replace the image's labels with one polygon round its drawn rectangle; its id."""
    w, h = (image.width or 0) * scale, (image.height or 0) * scale
    x0, y0 = (image.width or 0) / 2 - w / 4, (image.height or 0) / 2 - h / 4
    ring = [(x0, y0), (x0 + w / 2, y0), (x0 + w / 2, y0 + h / 2), (x0, y0 + h / 2)]
    points = [Point(x=x, y=y) for x, y in ring]
    polygon = PolygonAnnotation(name="sign", polygon=PolygonGeometry(paths=[points]))
    client.annotations.save(DATASET, image.filename, annotations=[polygon])
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
