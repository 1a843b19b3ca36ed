"""The prediction engine on its own (no HTTP): geometry, thresholds, truth, determinism."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph.models.annotation import Annotation, KeypointAnnotation
from pictograph.models.training import PipelineType
from pydantic import TypeAdapter

from pictograph_testing import FakePictograph
from pictograph_testing.world.images import synthetic_image
from pictograph_testing.world.predictions import (
    Prediction,
    UnreadableImage,
    content_hash,
    image_size,
    inference_seconds,
    model_quality,
    predict,
    prediction_kind,
    render_result,
)
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from pathlib import Path

    from pictograph_testing.world.entities import Image, Model


def _trained(fake: FakePictograph, pipeline: PipelineType = "yolox", **options: Any) -> Model:
    with fake.client(max_retries=0) as sdk:
        run = sdk.training.create(DATASET, EXPORT, pipeline_type=pipeline, name="m", **options)
    assert run.model_id is not None
    return fake.world.models[run.model_id]


def _known_images(fake: FakePictograph, count: int) -> list[tuple[Image, bytes]]:
    """The dataset's first ``count`` images and their bytes (served once, so the world
    knows them)."""
    world = fake.world
    images = world.dataset_images(world.dataset(fake.organization_id, DATASET))[:count]
    return [(image, world.image_service.content(image)[0]) for image in images]


def _known(fake: FakePictograph) -> tuple[Image, bytes]:
    """The dataset's first image and its bytes."""
    return _known_images(fake, 1)[0]


def test_boxes_lie_inside_the_image_and_name_the_models_classes(fake: FakePictograph) -> None:
    model = _trained(fake)
    content = synthetic_image(333, 211, "image/png", "stranger")

    found = predict(fake.world, model, model.current, content, confidence=0.05)

    assert found
    for p in found:
        assert p.kind == "bbox"
        assert p.name in {"stop_sign", "yield"}
        assert p.box is not None
        x, y, w, h = p.box
        assert min(x, y) >= 0
        assert min(w, h) > 0
        assert x + w <= 333 + 1e-6
        assert y + h <= 211 + 1e-6
    assert [p.score for p in found] == sorted((p.score for p in found), reverse=True)


def test_a_higher_threshold_returns_a_subset(fake: FakePictograph) -> None:
    model = _trained(fake)
    _, content = _known(fake)

    low = predict(fake.world, model, model.current, content, confidence=0.05)
    high = predict(fake.world, model, model.current, content, confidence=0.9)

    assert all(p.score >= 0.9 for p in high)
    assert high == [p for p in low if p.score >= 0.9]


def test_a_known_image_is_predicted_from_its_ground_truth(fake: FakePictograph) -> None:
    model = _trained(fake)
    world = fake.world
    near = 0
    # Several images: a model of modest mAP may miss every object of any one of them.
    for image, content in _known_images(fake, 6):
        found = predict(world, model, model.current, content, confidence=0.05)
        truth = {(a["name"], a["bounding_box"]["x"]) for a in image.annotations}
        # A found object lies near its truth (jitter shrinks as the model's mAP grows).
        near += sum(
            1
            for p in found
            if p.box is not None
            and any(p.name == name and abs(p.box[0] - x) < 40 for name, x in truth)
        )
    assert near >= 3


def test_a_better_model_finds_more_of_the_truth(fake: FakePictograph) -> None:
    world = fake.world
    model = _trained(fake)
    dataset = world.dataset(fake.organization_id, DATASET)
    images = [(i, world.image_service.content(i)[0]) for i in world.dataset_images(dataset)]

    def hits(quality: float) -> int:
        model.current.metrics["mAP"] = quality
        total = 0
        for image, content in images:
            found = predict(world, model, model.current, content, confidence=0.3)
            total += min(len(found), len(image.annotations))
        return total

    assert hits(0.95) > hits(0.1)


def test_segmentation_models_answer_polygons_inside_the_image(fake: FakePictograph) -> None:
    model = _trained(fake, "rfdetr_segmentation")
    _, content = _known(fake)
    width, height = image_size(content)

    found = predict(fake.world, model, model.current, content, confidence=0.05)

    assert found
    for p in found:
        assert p.kind == "polygon"
        assert p.polygon is not None
        assert len(p.polygon) >= 3
        assert all(0 <= x <= width and 0 <= y <= height for x, y in p.polygon)
        annotation = p.annotation()
        assert annotation["type"] == "polygon"
        assert annotation["bounding_box"]["w"] > 0


def test_classification_answers_tags_capped_by_top_k(fake: FakePictograph) -> None:
    model = _trained(fake, "classification")
    _, content = _known(fake)

    found = predict(fake.world, model, model.current, content, confidence=0.0, top_k=1)
    every = predict(fake.world, model, model.current, content, confidence=0.0)

    assert [p.kind for p in found] == ["tag"]
    assert found == every[:1]
    assert {p.name for p in every} == {"stop_sign", "yield"}
    assert sum(p.score for p in every) == pytest.approx(1.0, abs=1e-5)
    rendered = render_result(model, every, width=10, height=10)
    assert rendered["annotations"] == []
    assert rendered["tags"] == [p.name for p in every]
    assert rendered["tag_scores"] == [p.score for p in every]


def test_the_rendered_result_parses_as_the_sdks_model(fake: FakePictograph) -> None:
    from pictograph.models.model import ModelPredictResult

    model = _trained(fake)
    _, content = _known(fake)
    width, height = image_size(content)
    found = predict(fake.world, model, model.current, content, confidence=0.05)

    parsed = ModelPredictResult.model_validate(
        render_result(model, found, width=width, height=height)
    )

    assert parsed.model_type == "object_detection"
    assert len(parsed.annotations) == len(found)
    assert parsed.inference_seconds > 0


def test_predictions_are_deterministic_across_worlds() -> None:
    def run() -> tuple[str, list[Prediction]]:
        with FakePictograph(seed=7) as fake:
            fake.add_dataset(DATASET, images=6, completed_images=6, classes=["a", "b"])
            fake.add_export(DATASET, EXPORT)
            model = _trained(fake)
            _, content = _known(fake)
            return content_hash(content), predict(
                fake.world, model, model.current, content, confidence=0.05
            )

    assert run() == run()


def test_bytes_that_are_not_an_image_are_refused(fake: FakePictograph) -> None:
    model = _trained(fake)
    with pytest.raises(UnreadableImage, match="not an image"):
        predict(fake.world, model, model.current, b"plain text", confidence=0.5)


def test_another_organizations_image_is_not_ground_truth(fake: FakePictograph) -> None:
    _, content = _known(fake)
    other = fake.add_organization(balance_usd=10)

    assert fake.world.predictions.known(other.id, content_hash(content)) is None
    assert fake.world.predictions.known(fake.organization_id, content_hash(content)) is not None


def test_uploaded_bytes_are_indexed(fake: FakePictograph, tmp_path: Path) -> None:
    content = synthetic_image(64, 48, "image/png", "upload")
    (tmp_path / "up.png").write_bytes(content)
    with fake.client(max_retries=0) as sdk:
        sdk.images.upload(DATASET, tmp_path / "up.png")
    known = fake.world.predictions.known(fake.organization_id, content_hash(content))
    assert known is not None
    assert known.filename == "up.png"


@pytest.mark.parametrize(
    ("pipeline", "metrics", "quality"),
    [
        # The pipeline's headline metric counts first, over a plain mAP beside it.
        ("rfdetr_segmentation", {"mAP": 0.3, "mask_mAP": 0.8}, 0.8),
        ("yolox", {"accuracy": 0.3, "mAP": 0.7}, 0.7),
        # Kept inside [0.05, 0.99]: a model is never perfect nor hopeless.
        ("yolox", {"mAP": 1.5}, 0.99),
        ("yolox", {"mAP": 0.0}, 0.05),
        # A flag is not a score: a version with no usable metric is of middling quality.
        ("yolox", {"mAP": True}, 0.5),
        ("yolox", {"mAP": "0.9"}, 0.5),
    ],
)
def test_a_versions_quality_is_its_headline_metric_kept_in_bounds(
    fake: FakePictograph, pipeline: PipelineType, metrics: dict[str, Any], quality: float
) -> None:
    model = _trained(fake, pipeline)
    model.current.metrics.clear()
    model.current.metrics.update(metrics)
    assert model_quality(model, model.current) == quality


def test_a_keypoint_prediction_is_the_sdks_keypoint_annotation() -> None:
    # The SDK reads a keypoint model's answer as a KeypointAnnotation: the point under
    # `keypoint`, with no box or outline beside it.
    found = Prediction("joint", 0.87, "keypoint", point=(12.5, 7.25)).annotation()
    parsed = TypeAdapter(Annotation).validate_python(found)
    assert isinstance(parsed, KeypointAnnotation)
    assert (parsed.keypoint.x, parsed.keypoint.y) == (12.5, 7.25)
    assert found == {
        "name": "joint",
        "type": "keypoint",
        "keypoint": {"x": 12.5, "y": 7.25},
        "confidence": 0.87,
    }


@pytest.mark.parametrize(
    ("model_type", "kind"),
    [
        ("object_detection", "bbox"),
        ("classification", "tag"),
        ("instance_segmentation", "polygon"),
        ("semantic_segmentation", "polygon"),
        ("keypoint_detection", "keypoint"),
    ],
)
def test_each_model_type_predicts_the_annotation_type_it_is_trained_on(
    model_type: str, kind: str
) -> None:
    # Workflows and tools read a model's output kind from here, not only its predictions.
    assert prediction_kind(model_type) == kind


def test_inference_takes_longer_on_a_larger_image(fake: FakePictograph) -> None:
    # A hundredth of a second a megapixel, on top of the model's cost per image.
    model = _trained(fake)
    one = inference_seconds(model, 1000, 1000)
    assert inference_seconds(model, 2000, 1000) == pytest.approx(one + 0.01)
    assert inference_seconds(model, 1000, 3000) == pytest.approx(one + 0.02)


def test_an_unknown_image_gets_one_to_three_objects(fake: FakePictograph) -> None:
    model = _trained(fake)
    counts = {
        len(
            predict(
                fake.world,
                model,
                model.current,
                synthetic_image(96, 64, "image/png", f"stranger-{n}"),
                confidence=0.0,
            )
        )
        for n in range(24)
    }
    assert counts == {1, 2, 3}


def test_two_models_do_not_predict_alike_on_the_same_image(fake: FakePictograph) -> None:
    # Each version draws from its own random stream: two models trained alike still
    # see a stranger's picture differently.
    first, second = _trained(fake), _trained(fake)
    content = synthetic_image(333, 211, "image/png", "stranger")
    assert predict(fake.world, first, first.current, content, confidence=0.0) != predict(
        fake.world, second, second.current, content, confidence=0.0
    )


def test_predictions_come_best_first_and_a_score_at_the_threshold_is_kept(
    fake: FakePictograph,
) -> None:
    model = _trained(fake)
    world = fake.world
    several = 0
    for _, content in _known_images(fake, 6):
        found = predict(world, model, model.current, content, confidence=0.05)
        scores = [p.score for p in found]
        assert scores == sorted(scores, reverse=True)
        several += len(found) > 1
        if found:
            # "At or above the threshold": the weakest one, as the threshold, stays.
            at = predict(world, model, model.current, content, confidence=scores[-1])
            assert at == found
    assert several
