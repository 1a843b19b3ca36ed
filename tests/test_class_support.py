"""Class support through the real SDK: what a run trains, counted in its export.

Under the ``current`` profile a run trains the classes its export labels in a kind its
pipeline learns from, in the train split; it leaves the rest out with a
``classes_not_trained`` warning, and a run with no such class is refused with
``no_trainable_classes``. The ``classic`` profile (the training guide) trains every
class it names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox, KeypointAnnotation, Point
from pictograph.exceptions import ValidationError
from pictograph.models.image import ImageSplit
from PIL import Image

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import GPU_TIERS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph
    from pictograph.models.training import PipelineType

LOT = "parking-lot"
IMAGES = 5  # the classic profile trains on no fewer


def _box(name: str) -> BBoxAnnotation:
    return BBoxAnnotation(name=name, bounding_box=BoundingBox(x=4, y=4, w=10, h=8))


def _lot(client: pictograph.Client, tmp_path: Path, *, export: str = "v1") -> list[str]:
    """Five images of two box classes: every image has a ``car``, none a ``cone``."""
    client.datasets.create(
        LOT,
        annotation_types=["bbox"],
        classes=[{"name": "car", "type": "bbox"}, {"name": "cone", "type": "bbox"}],
    )
    filenames = []
    for n in range(IMAGES):
        path = tmp_path / f"lot-{n}.png"
        Image.new("RGB", (32, 24), (30 * n, 90, 160)).save(path)
        filenames.append(client.images.upload(LOT, path).filename)
        client.annotations.save(LOT, filenames[-1], [_box("car")])
    client.exports.create(LOT, export)
    return filenames


@pytest.fixture
def current() -> Iterator[tuple[FakePictograph, pictograph.Client]]:
    with FakePictograph(seed=4, profile="current") as fake, fake.client(max_retries=0) as client:
        yield fake, client


def _lot_with_splits(
    client: pictograph.Client, tmp_path: Path, splits: list[ImageSplit | None]
) -> None:
    """A car on every image of ``LOT``, a cone only on those assigned a split (val or
    test), one image per entry of ``splits``; exported as ``v1``."""
    client.datasets.create(
        LOT,
        annotation_types=["bbox"],
        classes=[{"name": "car", "type": "bbox"}, {"name": "cone", "type": "bbox"}],
    )
    for n, split in enumerate(splits):
        path = tmp_path / f"lot-{n}.png"
        Image.new("RGB", (32, 24), (30 * n, 90, 160)).save(path)
        filename = client.images.upload(LOT, path).filename
        client.annotations.save(LOT, filename, [_box("car"), *([_box("cone")] if split else [])])
        if split is not None:
            client.images.set_split(LOT, filename, split)
    client.exports.create(LOT, "v1")


def _entries(support: Any) -> dict[str, tuple[Any, ...]]:
    return {
        c.name: (c.support, c.train, c.val, c.test, c.trainable, c.reason) for c in support.classes
    }


def test_a_class_without_labels_is_left_out_with_a_warning(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    _lot(client, tmp_path)

    quote = client.training.quote(LOT, "v1", pipeline_type="yolox")
    run = client.training.create(LOT, "v1", pipeline_type="yolox", name="lot")

    support = quote.class_support
    assert support is not None
    assert (support.unit, support.trains_on, support.split) == (
        "annotations",
        "bounding boxes",
        "random",
    )
    assert _entries(support) == {
        "car": (IMAGES, None, None, None, True, None),
        "cone": (0, None, None, None, False, "no_training_data"),
    }
    assert support.untrainable == ["cone"]
    assert quote.classes == ["car"]
    assert run.status == "completed"
    [warning] = run.warnings or []
    assert warning.code == "classes_not_trained"
    assert warning.message == "1 class left out of this model: cone."
    assert warning.classes == [{"name": "cone", "reason": "no_training_data", "val": 0, "test": 0}]
    assert warning.unit == "annotations"
    assert run.model_id is not None
    model = client.models.get(model_id=run.model_id)
    assert model.class_mapping == {"classes": ["car"]}


def test_an_assigned_split_counts_per_split_and_needs_the_train_split(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    _lot_with_splits(client, tmp_path, ["val", "test", None, None])

    quote = client.training.quote(LOT, "v1", pipeline_type="rfdetr_detection")

    support = quote.class_support
    assert support is not None
    assert support.split == "assigned"
    # Unassigned images train: two cars in train, one in val, one in test.
    assert _entries(support) == {
        "car": (4, 2, 1, 1, True, None),
        "cone": (2, 0, 1, 1, False, "not_in_train_split"),
    }
    run = client.training.create(LOT, "v1", pipeline_type="rfdetr_detection", name="r")
    [warning] = run.warnings or []
    assert warning.classes == [
        {"name": "cone", "reason": "not_in_train_split", "val": 1, "test": 1}
    ]


def test_an_assigned_split_counts_val_and_test_apart(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    # One image in val and two in test, each with a cone: the two splits count differently.
    _lot_with_splits(client, tmp_path, ["val", "test", "test", None, None])

    quote = client.training.quote(LOT, "v1", pipeline_type="rfdetr_detection")

    assert quote.class_support is not None
    assert _entries(quote.class_support) == {
        "car": (5, 2, 1, 2, True, None),
        "cone": (3, 0, 1, 2, False, "not_in_train_split"),
    }


def test_a_runs_warning_is_on_it_from_creation_through_training(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    # The prep decides what is left out before the run starts: every read of the run,
    # queued, while it trains and in the listing, carries the same warning.
    fake, client = current
    _lot(client, tmp_path)
    queued = client.training.create(LOT, "v1", pipeline_type="yolox", name="lot", wait=False)
    assert queued.status == "queued"

    fake.clock.advance(GPU_TIERS["a10g"].cold_start_seconds + 1)
    running = client.training.get(run_id=queued.id)
    [listed] = client.training.list()

    assert running.status == listed.status == "running"
    for run in (queued, running, listed):
        assert [w.code for w in run.warnings or []] == ["classes_not_trained"]
        [warning] = run.warnings or []
        assert warning.classes == [
            {"name": "cone", "reason": "no_training_data", "val": 0, "test": 0}
        ]


def test_a_run_with_no_class_to_learn_is_refused_and_changes_nothing(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    fake, client = current
    _lot(client, tmp_path)
    balance = fake.balance_micro_usd

    with pytest.raises(ValidationError) as quoted:
        client.training.quote(LOT, "v1", pipeline_type="sm_pytorch")
    with pytest.raises(ValidationError) as created:
        client.training.create(LOT, "v1", pipeline_type="sm_pytorch", name="seg")

    for caught in (quoted, created):
        assert caught.value.status_code == 400
        assert caught.value.code == "no_trainable_classes"
        assert caught.value.message == (
            "Export 'v1' cannot train pipeline 'sm_pytorch', which trains on polygons: "
            "'car': no labels of that kind anywhere in the export; "
            "'cone': no labels of that kind anywhere in the export."
        )
    assert client.training.list() == []
    assert fake.balance_micro_usd == balance


def test_classification_counts_images_by_their_one_selected_tag(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    filenames = _lot(client, tmp_path)
    ids = [client.images.get(LOT, name).id for name in filenames]
    client.images.bulk_tag(LOT, ids[:2], ["car"])
    client.images.bulk_tag(LOT, ids[1:3], ["cone"])  # the second image has both: dropped
    client.images.bulk_tag(LOT, ids[3:], ["sunny"])  # not a class: the image teaches none
    client.exports.create(LOT, "tagged")

    quote = client.training.quote(LOT, "tagged", pipeline_type="classification")

    support = quote.class_support
    assert support is not None
    assert (support.unit, support.trains_on) == ("images", "image tags")
    assert support.multi_tag_images == 1
    assert _entries(support) == {
        "car": (1, None, None, None, True, None),
        "cone": (1, None, None, None, True, None),
    }


def test_overrides_count_a_class_as_its_target(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    filenames = _lot(client, tmp_path)
    client.annotations.save(LOT, filenames[0], [_box("car"), _box("cone")])
    client.exports.create(LOT, "v2")

    quote = client.training.quote(
        LOT, "v2", pipeline_type="yolox", config={"class_overrides": {"cone": "car"}}
    )
    run = client.training.create(
        LOT, "v2", pipeline_type="yolox", name="r", config={"class_overrides": {"cone": "car"}}
    )

    assert quote.class_support is not None
    assert _entries(quote.class_support) == {"car": (IMAGES + 1, None, None, None, True, None)}
    assert run.warnings is None


def test_keypoint_detection_refuses_to_leave_a_class_out(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    client.datasets.create(
        "poses",
        annotation_types=["keypoint"],
        classes=[{"name": "joint", "type": "keypoint"}, {"name": "tip", "type": "keypoint"}],
    )
    for n in range(3):
        path = tmp_path / f"pose-{n}.png"
        Image.new("RGB", (32, 24), (60 * n, 90, 160)).save(path)
        filename = client.images.upload("poses", path).filename
        joint = KeypointAnnotation(name="joint", keypoint=Point(x=5, y=6), instance_id=1)
        client.annotations.save("poses", filename, [joint])
    client.exports.create("poses", "v1")

    with pytest.raises(ValidationError, match="'tip': no labels of that kind") as caught:
        client.training.create("poses", "v1", pipeline_type="rfdetr_keypoint", name="kp")

    assert caught.value.code == "no_trainable_classes"
    assert client.training.list() == []


def test_classic_trains_every_class_it_names(tmp_path: Path) -> None:
    with FakePictograph(seed=4) as fake, fake.client(max_retries=0) as client:
        _lot(client, tmp_path)
        client.images.bulk_tag(LOT, [i.id for i in client.images.list(LOT)], ["car"])
        client.exports.create(LOT, "v2")

        run = client.training.create(LOT, "v2", pipeline_type="yolox", name="r")
        quote = client.training.quote(LOT, "v2", pipeline_type="yolox")

    assert run.status == "completed"
    assert run.warnings is None
    assert quote.classes == ["car", "cone"]
    assert quote.class_support is not None
    assert _entries(quote.class_support) == {
        "car": (IMAGES, None, None, None, True, None),
        "cone": (0, None, None, None, True, None),
    }


async def test_async_quote_and_create_see_the_same_support(tmp_path: Path) -> None:
    with FakePictograph(seed=4, profile="current") as fake:
        with fake.client(max_retries=0) as client:
            _lot(client, tmp_path)
        async with fake.async_client(max_retries=0) as aclient:
            quote = await aclient.training.quote(LOT, "v1", pipeline_type="yolox")
            run = await aclient.training.create(LOT, "v1", pipeline_type="yolox", name="a")
            with pytest.raises(ValidationError) as refused:
                await aclient.training.create(LOT, "v1", pipeline_type="sm_pytorch", name="s")

    assert quote.class_support is not None
    assert quote.class_support.untrainable == ["cone"]
    assert [w.code for w in run.warnings or []] == ["classes_not_trained"]
    assert refused.value.code == "no_trainable_classes"


def test_a_run_trains_the_classes_the_export_was_taken_with(
    current: tuple[FakePictograph, pictograph.Client], tmp_path: Path
) -> None:
    _, client = current
    _lot(client, tmp_path)
    client.annotations.rename_class(LOT, "car", "auto")  # the dataset's, not the export's

    quote = client.training.quote(LOT, "v1", pipeline_type="yolox")
    run = client.training.create(LOT, "v1", pipeline_type="yolox", name="r")

    assert quote.classes == ["car"]
    assert run.model_id is not None
    assert client.models.get(model_id=run.model_id).class_mapping == {"classes": ["car"]}


def test_an_export_s_class_filter_selects_what_trains(
    current: tuple[FakePictograph, pictograph.Client],
) -> None:
    fake, client = current
    fake.add_dataset(LOT, images=6, completed_images=6, classes=["car", "cone"])
    fake.add_export(LOT, "cars", class_filter=["car"])

    pipelines: tuple[PipelineType, ...] = ("yolox", "classification")
    for pipeline in pipelines:
        quote = client.training.quote(LOT, "cars", pipeline_type=pipeline)
        assert quote.classes == ["car"]
        assert quote.class_support is not None
        assert [c.name for c in quote.class_support.classes] == ["car"]
    run = client.training.create(LOT, "cars", pipeline_type="classification", name="c")
    assert run.warnings is None
    assert run.model_id is not None
    assert client.models.get(model_id=run.model_id).class_mapping == {"classes": ["car"]}


def test_images_deleted_since_the_export_teach_nothing(
    current: tuple[FakePictograph, pictograph.Client],
) -> None:
    fake, client = current
    fake.add_dataset(LOT, images=4, completed_images=4, classes=["car", "cone"])
    fake.add_export(LOT, "v1")
    before = client.training.quote(LOT, "v1", pipeline_type="yolox")
    for image in client.images.list(LOT)[:3]:
        client.images.delete(LOT, image.filename, permanent=True)

    after = client.training.quote(LOT, "v1", pipeline_type="yolox")

    assert before.deleted_images == 0
    assert after.deleted_images == 3
    assert before.image_count == after.image_count == 4  # what the export names, still
    assert before.class_support is not None
    assert after.class_support is not None
    assert (after.class_support.images, after.class_support.export_images) == (1, 4)
    assert [c.support for c in before.class_support.classes] == [4, 4]
    assert [c.support for c in after.class_support.classes] == [1, 1]


def test_box_is_another_name_for_a_bounding_box(
    current: tuple[FakePictograph, pictograph.Client],
) -> None:
    fake, client = current
    fake.add_dataset(LOT, images=3, completed_images=3, classes=["car"], annotation_types=["box"])
    fake.add_export(LOT, "v1")

    run = client.training.create(LOT, "v1", pipeline_type="yolox", name="r")

    assert run.status == "completed"
    assert run.warnings is None
