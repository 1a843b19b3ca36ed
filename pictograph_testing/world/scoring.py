"""Score predictions against ground truth with the SDK's metric definitions.

The definitions are those of :mod:`pictograph.metrics` (SDK 1.69.146), applied to plain
annotation dicts so the fake does not depend on the SDK at run time (it serves SDK
releases older than that module):

- matching is class-aware and greedy by confidence: within each image, predictions
  (highest confidence first, ties in the order given) claim the unmatched ground-truth
  box of their class with the greatest IoU at or above the threshold; a claimed pair is
  a true positive, an unclaimed prediction a false positive, an unclaimed truth a false
  negative. Boxes are the annotations' ``bounding_box`` (a polygon's or polyline's
  enclosing box when it has none); keypoints have no box and are not scored.
- per-class precision, recall and F1 from TP/FP/FN (0 when undefined); average
  precision by all-points interpolation; overall scores micro-averaged, ``macro_f1`` and
  mAP the unweighted means over the classes that occur.
- the confusion matrix matches class-agnostically (rows ground truth, columns
  predicted), unmatched predictions in the ``__background__`` row and unmatched truths
  in its column; labels are the classes seen, sorted, then ``__background__``.

``tests/test_evaluations.py`` runs :mod:`pictograph.metrics` on the same predictions and
asserts the numbers are equal.

Semantic segmentation (:func:`score_pixels`) is scored per pixel, on a coarse raster:
each image is cut into :data:`RASTER_CELLS` x :data:`RASTER_CELLS` cells and a cell takes
the class of the polygon covering its centre (even-odd over all of a polygon's rings).
Ground truth is painted in annotation order (a later polygon wins an overlap);
predictions in rising score (the most confident wins); an uncovered cell is
``__background__``. Every count is a count of cells. A class is scored where it occurs
(in truth or prediction): IoU ``tp / (tp + fp + fn)``, Dice ``2 tp / (2 tp + fp + fn)``
(its F1, so ``2 IoU / (1 + IoU)``); mIoU and mean Dice are the unweighted means over
those foreground classes, pixel accuracy counts every cell, background too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "BACKGROUND",
    "RASTER_CELLS",
    "SWEEP_THRESHOLDS",
    "ClassScore",
    "Family",
    "ImageTally",
    "PixelScores",
    "Scores",
    "SweepPoint",
    "score_detections",
    "score_pixels",
    "score_tags",
]

BACKGROUND = "__background__"
Box = tuple[float, float, float, float]
Family = Literal["detection", "classification", "semantic_segmentation"]
RASTER_CELLS = 64
"""Cells per side of the raster semantic segmentation is scored on (64 x 64 per image):
coarse, so scoring stays cheap; a polygon thinner than a cell may cover no centre."""
SWEEP_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""The confidence thresholds semantic segmentation is also scored at (with the
evaluation's own), for the operating-threshold sweep."""


@dataclass(frozen=True)
class ClassScore:
    """One class's tallies and the rates derived from them, as the SDK defines them."""

    class_name: str
    tp: int
    fp: int
    fn: int
    ap: float = 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def iou(self) -> float:
        """Jaccard index of the class's predictions and truth (semantic segmentation)."""
        union = self.tp + self.fp + self.fn
        return self.tp / union if union else 0.0

    @property
    def dice(self) -> float:
        """Dice coefficient: the F1 by another name, ``2 IoU / (1 + IoU)``."""
        return self.f1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) else 0.0


@dataclass(frozen=True)
class ImageTally:
    """One image's true positives, false positives and false negatives."""

    image_id: str
    tp: int
    fp: int
    fn: int
    gt_count: int
    pred_count: int
    miou: float | None = None
    """The image's mIoU (semantic segmentation only): what its images are ranked by."""


@dataclass(frozen=True)
class SweepPoint:
    """Semantic segmentation scored at one confidence threshold."""

    threshold: float
    miou: float
    mean_dice: float
    pixel_accuracy: float


@dataclass(frozen=True)
class PixelScores:
    """What only a semantic segmentation evaluation has: the cells, and the sweep."""

    correct: int
    """Cells whose predicted class is their true one (background included)."""
    total: int
    sweep: list[SweepPoint]

    @property
    def best(self) -> SweepPoint:
        """The sweep's point of highest mIoU (the lowest threshold of a tie)."""
        return max(self.sweep, key=lambda p: p.miou)


@dataclass
class Scores:
    """Everything an evaluation reports: per-class, overall, confusion, per-image."""

    per_class: list[ClassScore]
    labels: list[str]
    grid: list[list[int]]
    images: list[ImageTally] = field(default_factory=list)
    accuracy: float | None = None
    """Top-1 accuracy (classification only)."""
    pixels: PixelScores | None = None
    """Semantic segmentation only."""

    @property
    def family(self) -> Family:
        """Which model family was scored, hence which metrics the evaluation reports."""
        if self.pixels is not None:
            return "semantic_segmentation"
        return "classification" if self.accuracy is not None else "detection"

    @property
    def tp(self) -> int:
        return sum(c.tp for c in self.per_class)

    @property
    def fp(self) -> int:
        return sum(c.fp for c in self.per_class)

    @property
    def fn(self) -> int:
        return sum(c.fn for c in self.per_class)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(c.f1 for c in self.per_class) / len(self.per_class) if self.per_class else 0.0

    @property
    def map(self) -> float:
        if not self.per_class:
            return 0.0
        return sum(c.ap for c in self.per_class) / len(self.per_class)

    def macro(self, rate: str) -> float:
        """The unweighted mean of a per-class rate (classification's overall scores, and
        semantic segmentation's mIoU and mean Dice)."""
        if not self.per_class:
            return 0.0
        return sum(float(getattr(c, rate)) for c in self.per_class) / len(self.per_class)

    @property
    def pixel_accuracy(self) -> float:
        pixels = self.pixels
        return pixels.correct / pixels.total if pixels is not None and pixels.total else 0.0

    @property
    def mean_pixel_accuracy(self) -> float:
        """Mean per-class pixel accuracy (recall) over the classes with true pixels."""
        present = [c for c in self.per_class if c.support]
        return sum(c.recall for c in present) / len(present) if present else 0.0

    @property
    def frequency_weighted_iou(self) -> float:
        """The classes' IoUs weighted by their true pixels (foreground, as mIoU)."""
        support = sum(c.support for c in self.per_class)
        return sum(c.support * c.iou for c in self.per_class) / support if support else 0.0


def _box(annotation: Mapping[str, Any]) -> Box | None:
    box = annotation.get("bounding_box")
    if isinstance(box, dict):
        return (box["x"], box["y"], box["w"], box["h"])
    points: list[Mapping[str, float]] = []
    if annotation.get("type") == "polygon":
        points = annotation["polygon"]["paths"][0]
    elif annotation.get("type") == "polyline":
        points = annotation["polyline"]["path"]
    if not points:
        return None
    xs = [p["x"] for p in points]
    ys = [p["y"] for p in points]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _iou(a: Box, b: Box) -> float:
    ax2, ay2 = a[0] + a[2], a[1] + a[3]
    bx2, by2 = b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(a[0], b[0])
    ih = min(ay2, by2) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _confidence(annotation: Mapping[str, Any]) -> float:
    value = annotation.get("confidence")
    return 1.0 if value is None else float(value)


def _average_precision(records: list[tuple[float, bool]], n_gt: int) -> float:
    if n_gt <= 0 or not records:
        return 0.0
    ordered = sorted(records, key=lambda r: r[0], reverse=True)
    tp = fp = 0
    recalls: list[float] = []
    precisions: list[float] = []
    for _conf, is_tp in ordered:
        if is_tp:
            tp += 1
        else:
            fp += 1
        precisions.append(tp / (tp + fp))
        recalls.append(tp / n_gt)
    mrec = [0.0, *recalls, recalls[-1]]
    mpre = [0.0, *precisions, 0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum(
        (mrec[i + 1] - mrec[i]) * mpre[i + 1]
        for i in range(len(mrec) - 1)
        if mrec[i + 1] != mrec[i]
    )


def _boxed(annotations: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Box]]:
    return [(a, box) for a in annotations if (box := _box(a)) is not None]


def score_detections(
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    truth: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    iou_threshold: float,
) -> Scores:
    """Score detections per image (keys: image ids, in the order to tally them)."""
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    records: dict[str, list[tuple[float, bool]]] = {}
    confusion: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    tallies: list[ImageTally] = []

    def bump(counter: dict[str, int], name: str) -> None:
        counter[name] = counter.get(name, 0) + 1

    def record(gt_label: str, pred_label: str) -> None:
        row = confusion.setdefault(gt_label, {})
        row[pred_label] = row.get(pred_label, 0) + 1
        seen.update(label for label in (gt_label, pred_label) if label != BACKGROUND)

    for image_id in dict.fromkeys([*predictions, *truth]):
        preds = _boxed(predictions.get(image_id, ()))
        gts = _boxed(truth.get(image_id, ()))
        ranked = sorted(preds, key=lambda pb: _confidence(pb[0]), reverse=True)
        image_tp = image_fp = 0
        matched: set[int] = set()
        for pred, pbox in ranked:
            name = str(pred["name"])
            best_iou, best = iou_threshold, -1
            for idx, (gt, gbox) in enumerate(gts):
                if idx in matched or gt["name"] != name:
                    continue
                iou = _iou(pbox, gbox)
                if iou >= best_iou:
                    best_iou, best = iou, idx
            if best >= 0:
                matched.add(best)
                bump(tp, name)
                image_tp += 1
            else:
                bump(fp, name)
                image_fp += 1
            records.setdefault(name, []).append((_confidence(pred), best >= 0))
        for idx, (gt, _) in enumerate(gts):
            if idx not in matched:
                bump(fn, str(gt["name"]))
        tallies.append(
            ImageTally(image_id, image_tp, image_fp, len(gts) - len(matched), len(gts), len(preds))
        )
        # The confusion matrix matches again, regardless of class.
        claimed: set[int] = set()
        for pred, pbox in ranked:
            best_iou, best = iou_threshold, -1
            for idx, (_gt, gbox) in enumerate(gts):
                if idx in claimed:
                    continue
                iou = _iou(pbox, gbox)
                if iou >= best_iou:
                    best_iou, best = iou, idx
            if best >= 0:
                claimed.add(best)
                record(str(gts[best][0]["name"]), str(pred["name"]))
            else:
                record(BACKGROUND, str(pred["name"]))
        for idx, (gt, _) in enumerate(gts):
            if idx not in claimed:
                record(str(gt["name"]), BACKGROUND)

    per_class = [
        ClassScore(
            name,
            tp.get(name, 0),
            fp.get(name, 0),
            fn.get(name, 0),
            _average_precision(records.get(name, []), tp.get(name, 0) + fn.get(name, 0)),
        )
        for name in sorted(set(tp) | set(fp) | set(fn))
    ]
    labels = [*sorted(seen), BACKGROUND]
    grid = [[confusion.get(gt, {}).get(pred, 0) for pred in labels] for gt in labels]
    return Scores(per_class, labels, grid, tallies)


def score_tags(
    predicted: Mapping[str, str | None], truth: Mapping[str, str], classes: Sequence[str]
) -> Scores:
    """Score top-1 classification: ``predicted`` (``None``: nothing above the threshold).

    Per class, a true positive is an image of the class predicted as it; a false positive
    an image predicted as the class that is not of it; a false negative an image of the
    class predicted otherwise. The matrix is true-vs-predicted over ``classes`` (sorted)
    and ``__background__`` (no prediction).
    """
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    labels = [*sorted(classes), BACKGROUND]
    at = {label: i for i, label in enumerate(labels)}
    grid = [[0] * len(labels) for _ in labels]
    tallies: list[ImageTally] = []
    correct = 0
    for image_id, true_class in truth.items():
        guess = predicted.get(image_id)
        grid[at.get(true_class, at[BACKGROUND])][at.get(guess or BACKGROUND, at[BACKGROUND])] += 1
        hit = guess == true_class
        if hit:
            correct += 1
            tp[true_class] = tp.get(true_class, 0) + 1
        else:
            fn[true_class] = fn.get(true_class, 0) + 1
            if guess is not None:
                fp[guess] = fp.get(guess, 0) + 1
        tallies.append(
            ImageTally(
                image_id,
                int(hit),
                int(not hit and guess is not None),
                int(not hit),
                1,
                int(guess is not None),
            )
        )
    per_class = [
        ClassScore(name, tp.get(name, 0), fp.get(name, 0), fn.get(name, 0))
        for name in sorted(set(tp) | set(fp) | set(fn))
    ]
    accuracy = correct / len(truth) if truth else 0.0
    return Scores(per_class, labels, grid, tallies, accuracy=accuracy)


# ── semantic segmentation ──

Ring = list[tuple[float, float]]


def _rings(annotation: Mapping[str, Any]) -> list[Ring]:
    polygon = annotation.get("polygon")
    if annotation.get("type") != "polygon" or not isinstance(polygon, dict):
        return []
    return [[(p["x"], p["y"]) for p in path] for path in polygon.get("paths") or () if path]


def _cells(rings: Sequence[Ring], width: int, height: int) -> list[int]:
    """The raster cells whose centre the rings cover (even-odd), as ``row * N + column``."""
    n = RASTER_CELLS
    cell_w, cell_h = width / n, height / n
    points = [p for ring in rings for p in ring]
    if not points or cell_w <= 0 or cell_h <= 0:
        return []
    # Only the cells under the rings' enclosing box can be covered.
    first_col = max(0, int(min(x for x, _ in points) / cell_w - 0.5))
    last_col = min(n - 1, int(max(x for x, _ in points) / cell_w))
    first_row = max(0, int(min(y for _, y in points) / cell_h - 0.5))
    last_row = min(n - 1, int(max(y for _, y in points) / cell_h))
    edges = [(ring[i - 1], ring[i]) for ring in rings if len(ring) >= 3 for i in range(len(ring))]
    covered: list[int] = []
    for row in range(first_row, last_row + 1):
        cy = (row + 0.5) * cell_h
        # Where the rings' edges cross this row's centre line: inside between pairs.
        crossings = sorted(
            x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
            for (x0, y0), (x1, y1) in edges
            if (y0 <= cy) != (y1 <= cy)
        )
        for col in range(first_col, last_col + 1):
            cx = (col + 0.5) * cell_w
            if sum(1 for x in crossings if x < cx) % 2:
                covered.append(row * n + col)
    return covered


@dataclass(frozen=True)
class _Layer:
    """One predicted polygon, rasterised once and painted at every threshold it passes."""

    name: str
    score: float
    cells: list[int]


def _tallies(pairs: Counter[tuple[str, str]]) -> dict[str, ClassScore]:
    """Per foreground class that occurs, its cells: ``pairs`` counts (truth, predicted)."""
    tp: dict[str, int] = {}
    fp: dict[str, int] = {}
    fn: dict[str, int] = {}
    for (true, guess), count in pairs.items():
        if true == guess:
            if true != BACKGROUND:
                tp[true] = tp.get(true, 0) + count
            continue
        if guess != BACKGROUND:
            fp[guess] = fp.get(guess, 0) + count
        if true != BACKGROUND:
            fn[true] = fn.get(true, 0) + count
    return {
        name: ClassScore(name, tp.get(name, 0), fp.get(name, 0), fn.get(name, 0))
        for name in sorted(set(tp) | set(fp) | set(fn))
    }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def score_pixels(
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    truth: Mapping[str, Sequence[Mapping[str, Any]]],
    sizes: Mapping[str, tuple[int, int]],
    *,
    confidence: float,
) -> Scores:
    """Score semantic segmentation per cell (keys: image ids, in the order to tally them).

    ``predictions`` are every polygon the model found, whatever its score: the scores
    are those at ``confidence`` (polygons scoring below it are not painted), the sweep
    repeats them at :data:`SWEEP_THRESHOLDS` and ``confidence``. An image with neither
    true nor predicted pixels has an mIoU of 1 (nothing to get wrong).
    """
    truth_masks: dict[str, list[str]] = {}
    layers: dict[str, list[_Layer]] = {}
    for image_id in sizes:
        width, height = sizes[image_id]
        mask = [BACKGROUND] * (RASTER_CELLS * RASTER_CELLS)
        for annotation in truth.get(image_id, ()):
            name = str(annotation["name"])
            for cell in _cells(_rings(annotation), width, height):
                mask[cell] = name
        truth_masks[image_id] = mask
        found = [
            _Layer(str(a["name"]), _confidence(a), _cells(_rings(a), width, height))
            for a in predictions.get(image_id, ())
        ]
        # Painted least confident first, so the most confident wins an overlap.
        layers[image_id] = sorted(found, key=lambda layer: layer.score)

    def paired(image_id: str, threshold: float) -> Counter[tuple[str, str]]:
        mask = [BACKGROUND] * (RASTER_CELLS * RASTER_CELLS)
        for layer in layers[image_id]:
            if layer.score >= threshold:
                for cell in layer.cells:
                    mask[cell] = layer.name
        return Counter(zip(truth_masks[image_id], mask, strict=True))

    def scored(threshold: float) -> tuple[Counter[tuple[str, str]], list[ImageTally]]:
        pairs: Counter[tuple[str, str]] = Counter()
        tallies: list[ImageTally] = []
        for image_id in sizes:
            image_pairs = paired(image_id, threshold)
            pairs.update(image_pairs)
            classes = _tallies(image_pairs).values()
            tallies.append(
                ImageTally(
                    image_id,
                    sum(c.tp for c in classes),
                    sum(c.fp for c in classes),
                    sum(c.fn for c in classes),
                    len(truth.get(image_id, ())),
                    sum(1 for layer in layers[image_id] if layer.score >= threshold),
                    miou=_mean([c.iou for c in classes]) if classes else 1.0,
                )
            )
        return pairs, tallies

    def point(threshold: float, pairs: Counter[tuple[str, str]]) -> SweepPoint:
        classes = _tallies(pairs).values()
        total = sum(pairs.values())
        correct = sum(n for (true, guess), n in pairs.items() if true == guess)
        return SweepPoint(
            threshold,
            _mean([c.iou for c in classes]),
            _mean([c.dice for c in classes]),
            correct / total if total else 0.0,
        )

    sweep: list[SweepPoint] = []
    operating: tuple[Counter[tuple[str, str]], list[ImageTally]] | None = None
    for threshold in sorted({*SWEEP_THRESHOLDS, confidence}):
        pairs, tallies = scored(threshold)
        sweep.append(point(threshold, pairs))
        if threshold == confidence:
            operating = pairs, tallies
    assert operating is not None  # the evaluation's own threshold is always swept
    pairs, tallies = operating
    per_class = list(_tallies(pairs).values())
    labels = [*(c.class_name for c in per_class), BACKGROUND]
    grid = [[pairs.get((true, guess), 0) for guess in labels] for true in labels]
    correct = sum(n for (true, guess), n in pairs.items() if true == guess)
    pixels = PixelScores(correct, sum(pairs.values()), sweep)
    return Scores(per_class, labels, grid, tallies, pixels=pixels)
