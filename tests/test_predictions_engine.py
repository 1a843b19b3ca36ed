"""The prediction engine on its own (no HTTP): geometry, thresholds, truth, determinism."""

from __future__ import annotations

import math
import statistics
from contextlib import contextmanager
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
    predict_for,
    prediction_kind,
    render_result,
    true_tag,
)
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from pictograph_testing.catalog import ProfileName
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


# ── the engine's draws and geometry, over many pictures ──


def _of_quality(model: Model, quality: float) -> Model:
    """``model`` with its current version's quality set to ``quality`` (a plain mAP)."""
    model.current.metrics.clear()
    model.current.metrics["mAP"] = quality
    assert model_quality(model, model.current) == quality
    return model


def _with_truth(fake: FakePictograph, annotations: list[dict[str, Any]]) -> Image:
    """The dataset's first image, holding ``annotations`` as its whole ground truth."""
    image = _known(fake)[0]
    image.annotations = annotations
    image.tags = []
    return image


def _pictures(
    fake: FakePictograph,
    model: Model,
    known: Image | None,
    count: int,
    *,
    width: int = 400,
    height: int = 300,
) -> list[list[Prediction]]:
    """What ``model`` predicts, at no threshold, on ``count`` pictures of ``width`` by
    ``height`` showing ``known``'s truth (``None``: pictures the world does not know):
    each picture's hash seeds draws of its own."""
    return [
        predict_for(
            fake.world, model, model.current, f"picture-{n}", width, height, known, confidence=0.0
        )
        for n in range(count)
    ]


def _box(name: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"name": name, "type": "bbox", "bounding_box": {"x": x, "y": y, "w": w, "h": h}}


def _polygon(name: str, *rings: list[tuple[float, float]]) -> dict[str, Any]:
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    box = {"x": min(xs), "y": min(ys), "w": max(max(xs) - min(xs), 1.0)}
    box["h"] = max(max(ys) - min(ys), 1.0)
    paths = [[{"x": x, "y": y} for x, y in ring] for ring in rings]
    return {"name": name, "type": "polygon", "bounding_box": box, "polygon": {"paths": paths}}


@contextmanager
def _world_of(
    classes: list[str],
    annotation_types: tuple[str, ...] = ("bbox",),
    profile: ProfileName = "classic",
) -> Iterator[FakePictograph]:
    """A fake whose dataset (six labelled images, exported) has ``classes``."""
    with FakePictograph(seed=1, profile=profile) as fake:
        fake.add_dataset(
            DATASET,
            images=6,
            completed_images=6,
            classes=classes,
            annotation_types=annotation_types,
        )
        fake.add_export(DATASET, EXPORT)
        yield fake


def _assert_a_pixel_inside(p: Prediction, width: int, height: int) -> None:
    """``p``'s box is a pixel across at least, and inside a ``width`` x ``height`` picture
    (give or take the hundredth each of x and w is rounded to)."""
    assert p.box is not None
    x, y, w, h = p.box
    assert min(w, h) >= 1
    assert min(x, y) >= 0
    assert x + w <= width + 0.01
    assert y + h <= height + 0.01


def _near(
    found: Sequence[Prediction], name: str, box: tuple[float, float, float, float], tol: float
) -> bool:
    return any(
        p.name == name
        and p.box is not None
        and all(abs(a - b) <= tol for a, b in zip(p.box, box, strict=True))
        for p in found
    )


def test_a_strangers_objects_are_drawn_evenly_within_their_bounds(fake: FakePictograph) -> None:
    # A picture the world does not know: each object's sides a tenth to a half of the
    # picture's, placed anywhere in the room the box leaves, scored from 0.3 to 0.99.
    model = _trained(fake)
    found = [p for run in _pictures(fake, model, None, 200) for p in run]
    boxes = [p.box for p in found if p.box is not None]
    assert len(boxes) == len(found) > 300
    for sides in ([w / 400 for _, _, w, _ in boxes], [h / 300 for _, _, _, h in boxes]):
        assert 0.1 - 1e-4 <= min(sides) < 0.12
        assert 0.48 < max(sides) <= 0.5 + 1e-4
    # Where a box starts, as a share of the room it leaves: even from edge to edge.
    for shares in (
        [x / (400 - w) for x, _, w, _ in boxes],
        [y / (300 - h) for _, y, _, h in boxes],
    ):
        assert 0 <= min(shares) < 0.02
        assert statistics.mean(shares) == pytest.approx(0.5, abs=0.05)
        assert max(shares) <= 1
    scores = [p.score for p in found]
    assert 0.3 <= min(scores) < 0.32
    assert 0.97 < max(scores) <= 0.99
    # Pixels to the hundredth; scores to the millionth.
    coordinates = [v for box in boxes for v in box]
    assert all(v == round(v, 2) for v in coordinates)
    assert any(v != round(v, 1) for v in coordinates)
    assert any(s != round(s, 2) for s in scores)
    # On a picture a few pixels across, a box is still a pixel at least, and inside it.
    for run in _pictures(fake, model, None, 20, width=5, height=4):
        for p in run:
            _assert_a_pixel_inside(p, 5, 4)


def test_a_segmenter_outlines_a_stranger_as_an_octagon_in_its_box(fake: FakePictograph) -> None:
    # With no truth to trace, the outline is the octagon inscribed in the box, its first
    # point at the middle of the box's right side, going round by eighths of a turn.
    model = _trained(fake, "rfdetr_segmentation")
    found = [p for run in _pictures(fake, model, None, 60) for p in run]
    assert len(found) > 90
    for p in found:
        assert p.box is not None
        assert p.polygon is not None
        x, y, w, h = p.box
        assert len(p.polygon) == 8
        for k, (px, py) in enumerate(p.polygon):
            turn = math.pi * k / 4
            assert px == pytest.approx(x + w / 2 + w / 2 * math.cos(turn), abs=0.02)
            assert py == pytest.approx(y + h / 2 + h / 2 * math.sin(turn), abs=0.02)


def test_false_positives_come_as_often_and_score_as_low_as_the_quality_says(
    fake: FakePictograph,
) -> None:
    # Nothing to find: whatever is predicted is a false positive. Each picture has three
    # chances of one, each at 0.6 x (1 - quality), scored 0.05 + 0.55 x (1 - quality) x
    # a draw + 0.2 x another.
    model = _trained(fake)
    empty = _with_truth(fake, [])

    _of_quality(model, 0.05)
    poor = [p for run in _pictures(fake, model, empty, 300) for p in run]
    assert len(poor) / 300 == pytest.approx(3 * 0.6 * 0.95, abs=0.15)
    scores = [p.score for p in poor]
    assert 0.05 <= min(scores) < 0.1
    assert 0.7 < max(scores) <= 0.05 + 0.55 * 0.95 + 0.2 + 1e-6

    _of_quality(model, 0.99)
    good = [p for run in _pictures(fake, model, empty, 300) for p in run]
    assert len(good) < 15


@pytest.mark.parametrize("classes", [["stop_sign", "yield"], ["stop_sign", "yield", "speed"]])
def test_a_truth_is_found_confused_scored_and_moved_as_the_quality_says(
    classes: list[str],
) -> None:
    # Of quality q, an object is missed 0.6 x (1 - q) of the time, given another class
    # 0.15 x (1 - q) of the time (any of the others), scored 0.3 + 0.69 x draw ** (1 - q),
    # and its box moved and resized by about 0.12 x (1 - q) of its size, each side apart.
    with _world_of(classes) as fake:
        model = _of_quality(_trained(fake), 0.25)
        x, y, w, h = 10.0, 10.0, 24.0, 12.0
        truth = _with_truth(fake, [_box("stop_sign", x, y, w, h)])
        # A stranger's box is 40 pixels wide at least: a narrower one is the truth found.
        found = [
            p
            for run in _pictures(fake, model, truth, 1000)
            for p in run
            if p.box is not None and p.box[2] < 35
        ]
        assert len(found) / 1000 == pytest.approx(1 - 0.6 * 0.75, abs=0.05)
        confused = [p.name for p in found if p.name != "stop_sign"]
        assert len(confused) / len(found) == pytest.approx(0.15 * 0.75, abs=0.04)
        assert set(confused) == set(classes) - {"stop_sign"}
        assert all(confused.count(c) > len(confused) / 4 for c in set(confused))
        scores = [p.score for p in found]
        assert min(scores) >= 0.3
        assert max(scores) <= 0.99
        assert statistics.mean(scores) == pytest.approx(0.3 + 0.69 / 1.75, abs=0.03)
        boxes = [p.box for p in found if p.box is not None]
        spread = 0.12 * 0.75
        moves = [
            [(bx - x) / w for bx, _, _, _ in boxes],
            [(by - y) / h for _, by, _, _ in boxes],
            [math.log(bw / w) for _, _, bw, _ in boxes],
            [math.log(bh / h) for _, _, _, bh in boxes],
        ]
        for move in moves:
            assert statistics.mean(move) == pytest.approx(0, abs=0.015)
            assert statistics.pstdev(move) == pytest.approx(spread, rel=0.15)
        assert abs(_correlation(moves[2], moves[3])) < 0.2


def _correlation(first: list[float], second: list[float]) -> float:
    a, b = statistics.mean(first), statistics.mean(second)
    covariance = statistics.mean((u - a) * (v - b) for u, v in zip(first, second, strict=True))
    return covariance / (statistics.pstdev(first) * statistics.pstdev(second))


def test_a_good_detector_finds_each_truth_clamped_into_the_image(fake: FakePictograph) -> None:
    # A truth overflowing the picture is found inside it: slid in, as wide as the
    # picture at most, a pixel at least; a wide box keeps its width on a low picture.
    model = _of_quality(_trained(fake), 0.99)
    truth = _with_truth(
        fake,
        [
            _box("stop_sign", -30, 250, 100, 80),
            _box("yield", -50, 20, 500, 40),
            _box("stop_sign", 380, 100, 50, 30),
            _box("yield", 200, 150, 0.4, 0.3),
            _box("stop_sign", 20, 180, 350, 20),
            _box("yield", 100, -20, 30, 400),
            _box("stop_sign", 150, -10, 40, 30),
        ],
    )
    expected = [
        ("stop_sign", (0, 220, 100, 80)),
        ("yield", (0, 20, 400, 40)),
        ("stop_sign", (350, 100, 50, 30)),
        ("yield", (200, 150, 1, 1)),
        ("stop_sign", (20, 180, 350, 20)),
        ("yield", (100, 0, 30, 300)),
        ("stop_sign", (150, 0, 40, 30)),
    ]
    for found in _pictures(fake, model, truth, 3):
        assert len(found) == len(expected)
        for name, box in expected:
            assert _near(found, name, box, 2.5)
        for p in found:
            _assert_a_pixel_inside(p, 400, 300)


def test_a_detector_learns_from_every_geometry_of_its_own_classes(fake: FakePictograph) -> None:
    # Boxes, outlines, lines and points of the model's classes are all truth to find: an
    # outline or a line by its box, a point as a square a twentieth of the picture's
    # shorter side (two pixels at least) centred on it. A class the model was not
    # trained on is never predicted.
    model = _of_quality(_trained(fake), 0.99)
    truth = _with_truth(
        fake,
        [
            _box("stop_sign", 10, 10, 60, 40),
            _polygon("yield", [(100, 20), (160, 20), (130, 70)]),
            {
                "name": "stop_sign",
                "type": "polyline",
                "bounding_box": {"x": 200, "y": 30, "w": 80, "h": 50},
                "polyline": {"path": [{"x": 200, "y": 30}, {"x": 280, "y": 80}]},
            },
            {"name": "yield", "type": "keypoint", "keypoint": {"x": 300, "y": 200}},
            _box("speed_limit", 50, 150, 100, 100),
        ],
    )
    expected = [
        ("stop_sign", (10, 10, 60, 40)),
        ("yield", (100, 20, 60, 50)),
        ("stop_sign", (200, 30, 80, 50)),
        ("yield", (292.5, 192.5, 15, 15)),
    ]
    for found in _pictures(fake, model, truth, 3):
        assert len(found) == len(expected)
        for name, box in expected:
            assert _near(found, name, box, 1.0)
    tiny = _with_truth(
        fake, [{"name": "yield", "type": "keypoint", "keypoint": {"x": 15, "y": 10}}]
    )
    (found,) = _pictures(fake, model, tiny, 1, width=30, height=20)
    assert _near(found, "yield", (14, 9, 2, 2), 0.05)


def test_a_good_segmenter_traces_the_truths_first_ring_clipped_to_the_image(
    fake: FakePictograph,
) -> None:
    # The predicted outline is the truth's first ring, carried with its box; a ring
    # reaching past the picture is cut at its edge, and the box encloses what is left,
    # a pixel wide at least.
    model = _of_quality(_trained(fake, "rfdetr_segmentation"), 0.99)
    triangle = [(100.0, 20.0), (180.0, 20.0), (140.0, 60.0)]
    hole = [(130.0, 25.0), (150.0, 25.0), (140.0, 35.0)]
    overflowing = [(-40.0, 250.0), (60.0, 250.0), (60.0, 330.0), (-40.0, 330.0)]
    past_the_top_right = [(350.0, -20.0), (450.0, -20.0), (450.0, 40.0), (350.0, 40.0)]
    sliver = [(400.0, 100.0), (400.0, 150.0), (400.0, 125.0)]
    level_sliver = [(200.0, 300.0), (250.0, 300.0), (225.0, 300.0)]
    truth = _with_truth(
        fake,
        [
            _polygon("yield", triangle, hole),
            _polygon("stop_sign", overflowing),
            _polygon("stop_sign", past_the_top_right),
            _polygon("yield", sliver),
            _polygon("stop_sign", level_sliver),
        ],
    )
    clipped = [(0.0, 250.0), (60.0, 250.0), (60.0, 300.0), (0.0, 300.0)]
    clipped_top_right = [(350.0, 0.0), (400.0, 0.0), (400.0, 40.0), (350.0, 40.0)]
    for found in _pictures(fake, model, truth, 3):
        assert len(found) == 5
        rings = sorted(p.polygon for p in found if p.polygon is not None)
        expected = sorted([clipped, clipped_top_right, triangle, sliver, level_sliver])
        for ring, outline in zip(rings, expected, strict=True):
            assert len(ring) == len(outline)
            for (px, py), (ex, ey) in zip(ring, outline, strict=True):
                assert px == pytest.approx(ex, abs=1.5)
                assert py == pytest.approx(ey, abs=1.5)
        assert _near(found, "yield", (100, 20, 80, 40), 1.5)
        assert _near(found, "stop_sign", (0, 250, 60, 50), 1.5)
        assert _near(found, "stop_sign", (350, 0, 50, 40), 1.5)
        assert _near(found, "yield", (399, 100, 1, 50), 0.2)
        assert _near(found, "stop_sign", (200, 299, 50, 1), 0.2)


def test_a_good_keypoint_model_points_where_the_truth_does() -> None:
    # The point is the centre of the box found for its truth: a point's own square, a
    # box's middle. A point on the picture's edge is found on it, not inward by half its
    # square (7.5 pixels here), and one past the edge is found on the edge.
    # Only the `current` profile trains keypoint detection.
    with _world_of(["joint"], ("keypoint",), "current") as fake:
        model = _of_quality(_trained(fake, "rfdetr_keypoint"), 0.99)
        truth = _with_truth(
            fake,
            [
                {"name": "joint", "type": "keypoint", "keypoint": {"x": 100, "y": 120}},
                {"name": "joint", "type": "keypoint", "keypoint": {"x": 250.5, "y": 60.25}},
                _box("joint", 300, 200, 40, 60),
                {"name": "joint", "type": "keypoint", "keypoint": {"x": 0, "y": 150}},
                {"name": "joint", "type": "keypoint", "keypoint": {"x": 420, "y": -5}},
            ],
        )
        expected = [(0, 150), (100, 120), (250.5, 60.25), (320, 230), (400, 0)]
        for every in _pictures(fake, model, truth, 3):
            # At this quality a false positive scores under 0.26, a found object 0.3 up.
            found = [p for p in every if p.score >= 0.3]
            points = sorted(p.point for p in found if p.point is not None)
            assert len(points) == len(found) == len(expected)
            for (px, py), (ex, ey) in zip(points, expected, strict=True):
                assert px == pytest.approx(ex, abs=1.0)
                assert py == pytest.approx(ey, abs=1.0)


def test_a_detector_answers_at_most_a_hundred_objects_the_best_first(
    fake: FakePictograph,
) -> None:
    model = _of_quality(_trained(fake), 0.99)
    crowd = _with_truth(
        fake, [_box("stop_sign", 20 * (n % 15), 20 * (n // 15), 15, 15) for n in range(150)]
    )
    (found,) = _pictures(fake, model, crowd, 1)
    assert len(found) == 100
    scores = [p.score for p in found]
    assert scores == sorted(scores, reverse=True)


# ── a classifier's tags ──


def test_a_strangers_tags_crown_any_class_and_share_the_rest_unevenly() -> None:
    # Unknown to the world, a picture's top tag is any class, evenly; it scores from 0.45
    # to 0.95, and the others split what is left by draws of their own, each at least a
    # hundredth of a share.
    with _world_of(["stop_sign", "yield", "speed"]) as fake:
        model = _of_quality(_trained(fake, "classification"), 0.9)
        runs = _pictures(fake, model, None, 300)
        tops = [run[0].score for run in runs]
        assert 0.45 <= min(tops) < 0.47
        assert 0.93 < max(tops) <= 0.95
        winners = [run[0].name for run in runs]
        assert all(winners.count(c) > 300 / 4 for c in ("stop_sign", "yield", "speed"))
        shares = []
        for run in runs:
            scores = [p.score for p in run]
            assert [p.kind for p in run] == ["tag"] * 3
            assert scores == sorted(scores, reverse=True)
            assert sum(scores) == pytest.approx(1.0, abs=1e-5)
            shares.append(scores[2] / (scores[1] + scores[2]))
        assert min(shares) > 0.0095
        assert min(shares) < 0.1


def test_a_known_pictures_class_tops_its_tags_as_often_as_the_quality_says() -> None:
    with _world_of(["stop_sign", "yield", "speed"]) as fake:
        model = _of_quality(_trained(fake, "classification"), 0.8)
        image = _with_truth(fake, [])
        image.tags = ["yield"]
        winners = [run[0].name for run in _pictures(fake, model, image, 400)]
        assert winners.count("yield") / 400 == pytest.approx(0.8, abs=0.06)
        # When wrong, it is wrong for any other class.
        assert winners.count("stop_sign") > 20
        assert winners.count("speed") > 20


def test_a_one_class_classifier_always_tags_its_class_surely() -> None:
    # Whatever its quality, a classifier that knows one class can only answer that one,
    # with all the certainty there is.
    with _world_of(["stop_sign"]) as fake, fake.client(max_retries=0) as sdk:
        model = _of_quality(_trained(fake, "classification"), 0.05)
        for _, content in _known_images(fake, 4):
            result = sdk.models.predict(model.id, image=content, confidence=0.05)
            assert result.tags == ["stop_sign"]
            assert result.tag_scores == [1.0]


def test_a_tag_scored_at_the_threshold_is_kept(fake: FakePictograph) -> None:
    model = _trained(fake, "classification")
    _, content = _known(fake)
    every = predict(fake.world, model, model.current, content, confidence=0.0)
    weakest = every[-1].score
    assert 0 < weakest < 0.5
    assert predict(fake.world, model, model.current, content, confidence=weakest) == every


def test_a_pictures_class_is_its_first_tag_of_them_else_its_first_annotations(
    fake: FakePictograph,
) -> None:
    image = _with_truth(fake, [_box("other", 0, 0, 5, 5), _box("yield", 0, 0, 5, 5)])
    classes = ["stop_sign", "yield", "speed"]
    assert true_tag(image, classes) == "yield"
    image.annotations.append(_box("stop_sign", 0, 0, 5, 5))
    assert true_tag(image, classes) == "yield"
    image.tags = ["outdoor", "speed", "stop_sign"]
    assert true_tag(image, classes) == "speed"
    image.tags = ["outdoor"]
    image.annotations = [_box("other", 0, 0, 5, 5)]
    assert true_tag(image, classes) is None
    assert true_tag(None, classes) is None


def test_the_rendered_inference_time_is_the_pictures_own(fake: FakePictograph) -> None:
    # The time grows with the picture's pixels: its width by its height.
    model = _trained(fake)
    rendered = render_result(model, [], width=3000, height=1000)
    assert rendered["inference_seconds"] == inference_seconds(model, 3000, 1000)
    assert rendered["inference_seconds"] < inference_seconds(model, 3000, 3000)
