"""How much of each class a run would train on, counted in its export as the trainer counts.

A pipeline learns from some kinds of label only (``Pipeline.trained_kinds``): YOLOX from
bounding boxes, RF-DETR detection from boxes or polygons, the segmentation pipelines from
polygons, keypoint detection from keypoints, classification from image tags. A class's
*support* is its labels of those kinds across the export: annotations, or for
classification images (an image with more than one selected tag is dropped).

When any exported image has a split assigned, the trainer uses the images' own split
(unassigned images go to train) and a class counts per split; otherwise it makes a
random split of its own. A class is trainable when the train split supervises it: no
labels of the right kind anywhere is ``no_training_data``, labels only in val or test
is ``not_in_train_split``. A run trains its trainable classes and says, in a warning,
which it left out; a run with none is refused (``no_trainable_classes``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pictograph_testing.wording import counted

if TYPE_CHECKING:
    from collections.abc import Container, Iterable, Mapping, Sequence

    from pictograph_testing.catalog import Pipeline
    from pictograph_testing.world.exports import FrozenImage

__all__ = ["ClassCount", "ClassSupport", "Reason", "count_support", "left_out_warning"]

Reason = Literal["no_training_data", "not_in_train_split"]
Split = Literal["assigned", "random"]

_SPLITS = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True, slots=True)
class ClassCount:
    """One trained class: its labels of the kinds the pipeline learns from, per split."""

    name: str
    support: int
    train: int
    val: int
    test: int
    reason: Reason | None
    """Why the run would leave it out; ``None`` when it is trainable."""

    @property
    def trainable(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class ClassSupport:
    """What :func:`count_support` found in an export for one pipeline and class list."""

    split: Split
    classes: tuple[ClassCount, ...]
    multi_tag_images: int
    images: int
    """The export's images that still exist (what was counted)."""

    @property
    def trainable(self) -> list[str]:
        return [c.name for c in self.classes if c.reason is None]

    @property
    def untrainable(self) -> list[ClassCount]:
        return [c for c in self.classes if c.reason is not None]

    def all_trainable(self) -> ClassSupport:
        """The same counts with every class trained (an API that checks no support)."""
        classes = tuple(replace(c, reason=None) for c in self.classes)
        return ClassSupport(self.split, classes, self.multi_tag_images, self.images)


def count_support(
    contents: Sequence[FrozenImage],
    pipeline: Pipeline,
    classes: Sequence[str],
    overrides: Mapping[str, str],
    existing: Container[str],
) -> ClassSupport:
    """Count each of ``classes`` (after ``overrides``) in the export's frozen images whose
    ids are still ``existing`` (an image deleted since trains nothing)."""
    kinds = pipeline.trained_kinds
    by_tag = "tag" in kinds
    present = [image for image in contents if image.id in existing]
    assigned = any(image.split in _SPLITS for image in present)
    tally: dict[str, list[int]] = {name: [0, 0, 0] for name in classes}
    multi_tag = 0
    for image in present:
        # Unassigned images go to train; under a random split every label counts there.
        split = _SPLITS.get(image.split or "", 0) if assigned else 0
        labels: Iterable[str]
        if by_tag:
            tags = {overrides.get(tag, tag) for tag in image.tags} & tally.keys()
            if len(tags) > 1:
                multi_tag += 1  # which class would it teach? The trainer drops it.
                continue
            labels = tags
        else:
            labels = (
                overrides.get(a["name"], a["name"])
                for a in image.annotations
                if a.get("type") in kinds and isinstance(a.get("name"), str)
            )
        for name in labels:
            counts = tally.get(name)
            if counts is not None:
                counts[split] += 1
    found = []
    for name, (train, val, test) in tally.items():
        support = train + val + test
        reason: Reason | None = None
        if support == 0:
            reason = "no_training_data"
        elif train == 0:
            reason = "not_in_train_split"
        found.append(ClassCount(name, support, train, val, test, reason))
    mode: Split = "assigned" if assigned else "random"
    return ClassSupport(mode, tuple(found), multi_tag, len(present))


def left_out_warning(support: ClassSupport, unit: str) -> dict[str, Any] | None:
    """The run's ``classes_not_trained`` warning, or ``None`` when it left nothing out."""
    left_out = support.untrainable
    if not left_out:
        return None
    names = ", ".join(c.name for c in left_out)
    return {
        "code": "classes_not_trained",
        "message": f"{counted(len(left_out), 'class', 'classes')} left out of this model: {names}.",
        "classes": [
            {"name": c.name, "reason": c.reason, "val": c.val, "test": c.test} for c in left_out
        ],
        "unit": unit,
    }
