"""What a trained model predicts for an image: deterministic, plausible, no HTTP.

One engine serves every route that runs a model (hosted test inference, evaluations,
deployments)::

    found = predict(world, model, version, image_bytes, confidence=0.5)
    payload = render_result(model, version, found, image_bytes)

How predictions are made:

- The image's width and height are read from its bytes; every box, polygon and
  keypoint lies inside them.
- An image the world knows (its bytes were uploaded to, or served from, a dataset of
  the organization) is matched by content hash through an index, and the model
  predicts from that image's ground truth: each annotation of one of the model's
  classes is found or missed, its geometry jittered, and sometimes its class confused,
  by amounts that shrink as the version's headline metric (``mAP``, ``mask_mAP``,
  ``accuracy``...) grows; a few low-scoring false positives are added.
- An image the world does not know gets one to three objects of the model's classes.
- Every candidate gets a score; only those at or above ``confidence`` are returned, so
  raising the threshold returns a subset. Classification models return tags, best
  first, at most ``top_k``.
- Randomness comes from ``random.Random`` seeded with the world's seed, the version id
  and the image's hash: the same model version on the same bytes predicts the same.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pictograph_testing.catalog import PIPELINES
from pictograph_testing.world.image_files import UndecodableImage, decoded_size, upright_size

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.entities import Image, Model, ModelVersion
    from pictograph_testing.world.state import World

__all__ = [
    "ContentIndex",
    "Prediction",
    "UnreadableImage",
    "content_hash",
    "decoded_image_size",
    "image_size",
    "inference_seconds",
    "model_quality",
    "predict",
    "predict_for",
    "prediction_kind",
    "render_result",
    "true_tag",
]

Kind = Literal["bbox", "polygon", "keypoint", "tag"]
_MAX_OBJECTS = 100
"""A detector's usual cap on objects per image."""
_BACKGROUND_QUALITY = 0.5
"""The quality assumed for a version whose metrics say nothing usable."""


class UnreadableImage(ValueError):
    """The bytes are not an image this service decodes."""


_UNREADABLE = (
    "The file is not an image this service can decode: {reason}. Send a JPEG, PNG, WebP, "
    "BMP, GIF or TIFF image."
)


@dataclass(frozen=True)
class Prediction:
    """One thing a model found: a class name, a score, and its geometry (``tag``: none).

    ``box`` is ``(x, y, w, h)`` in pixels; ``polygon`` one ring of ``(x, y)`` points;
    ``point`` one ``(x, y)``.
    """

    name: str
    score: float
    kind: Kind
    box: tuple[float, float, float, float] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    point: tuple[float, float] | None = None

    def annotation(self) -> dict[str, Any]:
        """The prediction as a canonical Pictograph annotation dict (``tag``: none)."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "keypoint" and self.point is not None:
            out["keypoint"] = {"x": self.point[0], "y": self.point[1]}
        else:
            if self.box is not None:
                x, y, w, h = self.box
                out["bounding_box"] = {"x": x, "y": y, "w": w, "h": h}
            if self.polygon is not None:
                out["polygon"] = {"paths": [[{"x": px, "y": py} for px, py in self.polygon]]}
        out["confidence"] = self.score
        return out


# ── image bytes ──


def content_hash(content: bytes) -> str:
    """The hash images are matched by (hex BLAKE2b, 128 bits)."""
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def image_size(content: bytes) -> tuple[int, int]:
    """Read ``(width, height)`` from an image's header, as it is displayed (its EXIF
    orientation applied); :class:`UnreadableImage` if none."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(io.BytesIO(content)) as picture:
            width, height = upright_size(picture)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableImage(_UNREADABLE.format(reason="it is not an image")) from exc
    if width <= 0 or height <= 0:
        raise UnreadableImage("The image has no pixels.")
    return int(width), int(height)


def decoded_image_size(content: bytes) -> tuple[int, int]:
    """Decode an inbound image in full and return ``(width, height)``.

    For bytes a caller sends to run a model on: unlike :func:`image_size`, which reads a
    header, this refuses (:class:`UnreadableImage`, saying why) what the service would
    fail to decode: a truncated or corrupt file, a format it does not take, one too
    large to decode (a few bytes can declare billions of pixels), or HEIC, whose pixels
    this service does not read.
    """
    try:
        size = decoded_size(content)
    except UndecodableImage as exc:
        raise UnreadableImage(_UNREADABLE.format(reason=exc)) from None
    if size is None:
        raise UnreadableImage(_UNREADABLE.format(reason="HEIC images are not decoded here"))
    return size


class ContentIndex:
    """Images by the hash of their bytes, so a prediction finds its ground truth in O(1).

    Entries are added when an image's bytes become known (uploaded, or made for an image
    added by count) and never removed: a lookup skips images since deleted or moved to
    another organization.
    """

    def __init__(self, world: World) -> None:
        self._world = world
        self._by_hash: dict[str, list[str]] = {}

    def add(self, image: Image, content: bytes) -> None:
        """Remember that ``image`` holds ``content``."""
        ids = self._by_hash.setdefault(content_hash(content), [])
        if image.id not in ids:
            ids.append(image.id)

    def known(self, organization_id: str, digest: str) -> Image | None:
        """The organization's live image holding these bytes (the first one indexed)."""
        for image_id in self._by_hash.get(digest, ()):
            image = self._world.images.get(image_id)
            if image is not None and image.organization_id == organization_id:
                return image
        return None


# ── the model ──


def prediction_kind(model_type: str) -> str:
    """The annotation type a model of ``model_type`` predicts (``tag`` for a classifier)."""
    return {
        "classification": "tag",
        "instance_segmentation": "polygon",
        "semantic_segmentation": "polygon",
        "keypoint_detection": "keypoint",
    }.get(model_type, "bbox")


def model_quality(model: Model, version: ModelVersion) -> float:
    """How good the version is, in ``[0.05, 0.99]``: its headline metric when it has one."""
    pipeline = PIPELINES.get(model.pipeline_type)
    headline = pipeline.headline_metric if pipeline is not None else "mAP"
    for key in (headline, "mAP", "accuracy", "mIoU"):
        value = version.metrics.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return min(0.99, max(0.05, float(value)))
    return _BACKGROUND_QUALITY


def inference_seconds(model: Model, width: int, height: int) -> float:
    """Seconds the CPU inference service reports spending on one image."""
    pipeline = PIPELINES.get(model.pipeline_type)
    per_image = 0.1
    if pipeline is not None:
        variant = pipeline.variant(None)
        per_image = variant.seconds_per_image * 4.0 * (variant.input_size / 640) ** 2
    megapixels = width * height / 1_000_000
    return round(0.05 + per_image + 0.01 * megapixels, 4)


# ── predicting ──


def predict(
    world: World,
    model: Model,
    version: ModelVersion,
    image: bytes,
    *,
    confidence: float,
    top_k: int | None = None,
    organization_id: str | None = None,
) -> list[Prediction]:
    """Run ``version`` of ``model`` on the image ``image`` (its bytes); best score first.

    The image's ground truth is looked up among ``organization_id``'s images (default:
    the model's organization). Raises :class:`UnreadableImage` for bytes that are not an
    image. ``top_k`` caps a classification model's tags (other models ignore it).
    """
    width, height = image_size(image)
    digest = content_hash(image)
    known = world.predictions.known(organization_id or model.organization_id, digest)
    return predict_for(
        world,
        model,
        version,
        digest,
        width,
        height,
        known,
        confidence=confidence,
        top_k=top_k,
    )


def predict_for(
    world: World,
    model: Model,
    version: ModelVersion,
    digest: str,
    width: int,
    height: int,
    known: Image | None,
    *,
    confidence: float,
    top_k: int | None = None,
) -> list[Prediction]:
    """Predict for an image already measured and hashed; ``known``: its ground truth.

    Evaluations call this for each image of an export, with the image itself as
    ``known``; :func:`predict` calls it for bytes it was handed.
    """
    rng = random.Random(f"{world.seed}:{version.id}:{digest}")
    quality = model_quality(model, version)
    classes = list(version.classes)
    if not classes:
        return []
    if model.model_type == "classification":
        return _tags(rng, classes, quality, known, confidence, top_k)
    kind: Kind = prediction_kind(model.model_type)  # type: ignore[assignment]
    frame = _Frame(float(width), float(height))
    candidates: list[Prediction] = []
    truth = [a for a in known.annotations if _usable(a)] if known is not None else []
    if known is None:
        for _ in range(1 + rng.randrange(3)):
            name = classes[rng.randrange(len(classes))]
            score = 0.3 + 0.69 * rng.random()
            candidates.append(_shape(kind, name, score, frame.random_box(rng), None, frame))
    else:
        for annotation in truth:
            candidates.extend(_found(rng, annotation, classes, quality, kind, frame))
        for _ in range(_false_positive_count(rng, quality)):
            name = classes[rng.randrange(len(classes))]
            score = 0.05 + 0.55 * (1.0 - quality) * rng.random() + 0.2 * rng.random()
            candidates.append(_shape(kind, name, score, frame.random_box(rng), None, frame))
    kept = [c for c in candidates if c.score >= confidence]
    kept.sort(key=lambda c: -c.score)
    return kept[:_MAX_OBJECTS]


def _usable(annotation: dict[str, Any]) -> bool:
    return isinstance(annotation.get("name"), str) and annotation.get("type") in (
        "bbox",
        "polygon",
        "polyline",
        "keypoint",
    )


def _false_positive_count(rng: random.Random, quality: float) -> int:
    chance = 0.6 * (1.0 - quality)
    return sum(1 for _ in range(3) if rng.random() < chance)


def _found(
    rng: random.Random,
    annotation: dict[str, Any],
    classes: list[str],
    quality: float,
    kind: Kind,
    frame: _Frame,
) -> list[Prediction]:
    """The prediction (if any) a model of ``quality`` makes for one ground-truth object."""
    # Every draw is made whatever the outcome, so one object's fate never shifts the
    # random stream of the next.
    miss, confuse, pick, score_draw = rng.random(), rng.random(), rng.random(), rng.random()
    jitter = [rng.gauss(0.0, 1.0) for _ in range(4)]
    name = str(annotation["name"])
    if name not in classes or miss < 0.6 * (1.0 - quality):
        return []
    if len(classes) > 1 and confuse < 0.15 * (1.0 - quality):
        others = [c for c in classes if c != name]
        name = others[int(pick * len(others)) % len(others)]
    score = 0.3 + 0.69 * score_draw ** (1.0 - quality)
    spread = 0.12 * (1.0 - quality)
    box = _truth_box(annotation, frame)
    x, y, w, h = box
    moved = (
        x + jitter[0] * spread * w,
        y + jitter[1] * spread * h,
        w * math.exp(jitter[2] * spread),
        h * math.exp(jitter[3] * spread),
    )
    ring = _truth_ring(annotation)
    # A point is jittered from where it is and then kept inside the picture: the centre
    # of its square clamped inside would lie inward of a point at the edge.
    found = moved if kind == "keypoint" else frame.clamp(moved)
    return [_shape(kind, name, score, found, (box, ring), frame)]


def _truth_box(annotation: dict[str, Any], frame: _Frame) -> tuple[float, float, float, float]:
    """The truth's box inside the picture; a point's square centred on the point (inside
    the picture), which may reach past its edge."""
    box = annotation.get("bounding_box")
    if isinstance(box, dict):
        return frame.clamp((box["x"], box["y"], box["w"], box["h"]))
    point = annotation.get("keypoint") or {"x": frame.width / 2, "y": frame.height / 2}
    x, y = frame.point(point["x"], point["y"])
    side = max(2.0, min(frame.width, frame.height) * 0.05)
    return x - side / 2, y - side / 2, side, side


def _truth_ring(annotation: dict[str, Any]) -> list[tuple[float, float]] | None:
    polygon = annotation.get("polygon")
    if isinstance(polygon, dict) and polygon.get("paths"):
        return [(p["x"], p["y"]) for p in polygon["paths"][0]]
    return None


def _shape(
    kind: Kind,
    name: str,
    score: float,
    box: tuple[float, float, float, float],
    truth: tuple[tuple[float, float, float, float], list[tuple[float, float]] | None] | None,
    frame: _Frame,
) -> Prediction:
    """Give a candidate the geometry its model type emits, inside the frame."""
    score = round(min(0.999999, max(0.0, score)), 6)
    x, y, w, h = box
    if kind == "keypoint":
        px, py = frame.point(x + w / 2, y + h / 2)
        return Prediction(name, score, "keypoint", point=(_r(px), _r(py)))
    if kind == "polygon":
        ring: list[tuple[float, float]]
        if truth is not None and truth[1] is not None:
            # The truth's outline, carried into the predicted box.
            (tx, ty, tw, th), outline = truth[0], truth[1]
            ring = [
                (x + (px - tx) / tw * w if tw else x, y + (py - ty) / th * h if th else y)
                for px, py in outline
            ]
        else:
            ring = _octagon(box)
        ring = [frame.point(px, py) for px, py in ring]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        left, top = min(xs), min(ys)
        enclosing = (left, top, max(max(xs) - left, 1.0), max(max(ys) - top, 1.0))
        return Prediction(
            name,
            score,
            "polygon",
            box=tuple(_r(v) for v in frame.clamp(enclosing)),  # type: ignore[arg-type]
            polygon=tuple((_r(px), _r(py)) for px, py in ring),
        )
    return Prediction(name, score, "bbox", box=(_r(x), _r(y), _r(w), _r(h)))


def _octagon(box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2
    return [
        (cx + w / 2 * math.cos(math.pi * k / 4), cy + h / 2 * math.sin(math.pi * k / 4))
        for k in range(8)
    ]


def _tags(
    rng: random.Random,
    classes: list[str],
    quality: float,
    known: Image | None,
    confidence: float,
    top_k: int | None,
) -> list[Prediction]:
    """Scores over every class (summing to 1), the true class on top as often as ``quality``."""
    truth = true_tag(known, classes)
    draws = [rng.random() for _ in classes]
    right = rng.random() < quality
    top = 0.45 + 0.5 * rng.random() if len(classes) > 1 else 1.0
    if truth is None:
        winner = classes[int(draws[0] * len(classes)) % len(classes)]
    elif right or len(classes) == 1:
        winner = truth
    else:
        others = [c for c in classes if c != truth]
        winner = others[int(draws[0] * len(others)) % len(others)]
    rest = [c for c in classes if c != winner]
    weights = [draws[i] + 0.01 for i, c in enumerate(classes) if c != winner]
    total = sum(weights)
    scored = [(winner, top)] + [
        (c, (1.0 - top) * w / total) for c, w in zip(rest, weights, strict=True)
    ]
    scored.sort(key=lambda item: -item[1])
    # The threshold is held against the score as reported, as a detector's is.
    reported = [Prediction(name, round(score, 6), "tag") for name, score in scored]
    found = [p for p in reported if p.score >= confidence]
    return found[:top_k] if top_k is not None else found


def true_tag(known: Image | None, classes: Sequence[str]) -> str | None:
    """The image's class for a classifier: its first tag of ``classes``, else its first
    annotation's class of them; ``None`` when it has neither."""
    if known is None:
        return None
    for tag in known.tags:
        if tag in classes:
            return tag
    for annotation in known.annotations:
        if annotation.get("name") in classes:
            return str(annotation["name"])
    return None


def _r(value: float) -> float:
    return round(value, 2)


@dataclass(frozen=True)
class _Frame:
    """The image's pixel extent: everything predicted is clamped inside it."""

    width: float
    height: float

    def clamp(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = box
        w = min(max(w, 1.0), self.width)
        h = min(max(h, 1.0), self.height)
        x = min(max(x, 0.0), self.width - w)
        y = min(max(y, 0.0), self.height - h)
        return x, y, w, h

    def point(self, x: float, y: float) -> tuple[float, float]:
        return min(max(x, 0.0), self.width), min(max(y, 0.0), self.height)

    def random_box(self, rng: random.Random) -> tuple[float, float, float, float]:
        w = self.width * (0.1 + 0.4 * rng.random())
        h = self.height * (0.1 + 0.4 * rng.random())
        x = (self.width - w) * rng.random()
        y = (self.height - h) * rng.random()
        return self.clamp((x, y, w, h))


# ── the reply ──


def render_result(
    model: Model, predictions: Sequence[Prediction], *, width: int, height: int
) -> dict[str, Any]:
    """Render predictions as the SDK's ``ModelPredictResult`` (the ``data`` of the reply).

    Classification models answer ``tags`` and the index-parallel ``tag_scores``; every
    other model answers ``annotations``.
    """
    tags = [p for p in predictions if p.kind == "tag"]
    return {
        "success": True,
        "annotations": [p.annotation() for p in predictions if p.kind != "tag"],
        "tags": [p.name for p in tags],
        "tag_scores": [p.score for p in tags],
        "model_type": model.model_type,
        "inference_seconds": inference_seconds(model, width, height),
    }
