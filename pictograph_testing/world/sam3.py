"""What SAM3 finds in an image: regions read from its own pixels, deterministically.

The fake has no segmentation model; it reads the picture instead. The image (upright,
in RGB) is shrunk to a grid of at most :data:`GRID_SIDE` cells a side, and:

- a **point** grows the region of cells whose colour is within :data:`SHADE_TOLERANCE`
  of the point's (in every channel), four-connected; more positive points add their
  regions, negative points take theirs away;
- a **box** finds, inside it, the cells that differ from the shade of the box's own
  border (the background it was drawn on) and keeps the largest connected group; a
  negative box takes its cells out;
- a **phrase** finds every connected group of cells that differs from the image's
  border shade: each is an object, and the phrase's affinity for it (a hash of the
  phrase and the image's bytes) scales its score by 0.55 to 1, so above a threshold a
  phrase finds some objects and not others, the same ones every time.

Each region comes back as its bounding box and a polygon (the convex hull of its cells)
in the image's pixels. A score is the region's contrast with what surrounds it, so a
flat image scores low and an object on a plain background high.
"""

from __future__ import annotations

import hashlib
import io
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pictograph_testing.world.predictions import UnreadableImage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "GRID_SIDE",
    "SHADE_TOLERANCE",
    "Picture",
    "Region",
    "read_picture",
]

GRID_SIDE = 96
"""The most cells the analysis grid has along an image's longer side."""
SHADE_TOLERANCE = 24
"""How far (of 255) a cell's grey may be from the seed's to join its region."""
_MIN_CELLS = 2
"""Fewer cells than this are noise, not an object."""

Cell = tuple[int, int]
Colour = tuple[int, int, int]
Box = tuple[float, float, float, float]
if TYPE_CHECKING:
    _Test = Callable[[Cell], bool]


@dataclass(frozen=True)
class Region:
    """One object: its box and outline in image pixels, and how sure SAM3 is of it."""

    box: Box
    """``(x, y, w, h)``."""
    polygon: tuple[tuple[float, float], ...]
    score: float

    def annotation(self, annotation_id: str, name: str, kind: str) -> dict[str, object]:
        """The region as a canonical annotation: a ``polygon`` (with its box) or a ``bbox``."""
        x, y, w, h = self.box
        out: dict[str, object] = {
            "id": annotation_id,
            "name": name,
            "type": kind,
            "bounding_box": {"x": x, "y": y, "w": w, "h": h},
        }
        if kind == "polygon":
            out["polygon"] = {"paths": [[{"x": px, "y": py} for px, py in self.polygon]]}
        out["confidence"] = self.score
        return out


class Picture:
    """An image's colour grid, and the regions prompts find in it."""

    def __init__(self, shades: bytes, columns: int, rows: int, width: int, height: int) -> None:
        self._shades = shades
        self.columns = columns
        self.rows = rows
        self.width = width
        """The upright image's width in pixels (the space every coordinate is in)."""
        self.height = height
        self._sx = width / columns
        self._sy = height / rows

    def _shade(self, cell: Cell) -> Colour:
        at = 3 * (cell[1] * self.columns + cell[0])
        return self._shades[at], self._shades[at + 1], self._shades[at + 2]

    def cell_at(self, x: float, y: float) -> Cell:
        """The grid cell holding pixel ``(x, y)`` (clamped into the image)."""
        column = min(self.columns - 1, max(0, int(x / self._sx)))
        row = min(self.rows - 1, max(0, int(y / self._sy)))
        return column, row

    def cells_in(self, box: Box) -> set[Cell]:
        """The cells whose centres lie inside ``box`` (at least the one under its centre)."""
        x, y, w, h = box
        first, top = self.cell_at(x, y)
        last, bottom = self.cell_at(x + w, y + h)
        cells = {
            (c, r)
            for c in range(first, last + 1)
            for r in range(top, bottom + 1)
            if x <= (c + 0.5) * self._sx <= x + w and y <= (r + 0.5) * self._sy <= y + h
        }
        return cells or {self.cell_at(x + w / 2, y + h / 2)}

    # ── prompts ──

    def grow(self, seeds: Sequence[Cell], negatives: Sequence[Cell] = ()) -> Region | None:
        """The region grown from the positive seeds, less the negative seeds' regions."""
        cells: set[Cell] = set()
        for seed in seeds:
            cells |= self._flood(seed, self._similar_to(self._shade(seed)), None)
        for seed in negatives:
            cells -= self._flood(seed, self._similar_to(self._shade(seed)), None)
        return self._region(cells, 1.0) if cells else None

    def in_box(self, box: Box, exclude: Iterable[Box] = ()) -> Region | None:
        """The largest object inside ``box``: cells unlike the box's border, connected."""
        area = self.cells_in(box)
        for other in exclude:
            area -= self.cells_in(other)
        if not area:
            return None
        # The border is the cells beside one the box leaves out, the image's edge too: a
        # box over the whole image reads the background off the image's own border.
        border = [cell for cell in area if not all(n in area for n in _around(cell))]
        background = _median(self._shade(cell) for cell in border)
        unlike = self._unlike(background)
        objects = self._groups({cell for cell in area if unlike(cell)})
        if not objects:
            return None
        return self._region(max(objects, key=lambda group: (len(group), min(group))), 1.0)

    def objects(self, phrase: str, digest: str) -> list[Region]:
        """Every object of the image, scored by the phrase's affinity for it; best first."""
        edge = [
            (c, r)
            for c in range(self.columns)
            for r in range(self.rows)
            if c in (0, self.columns - 1) or r in (0, self.rows - 1)
        ]
        background = _median(self._shade(cell) for cell in edge)
        unlike = self._unlike(background)
        everything = {(c, r) for c in range(self.columns) for r in range(self.rows)}
        groups = self._groups({cell for cell in everything if unlike(cell)})
        groups.sort(key=lambda group: (-len(group), min(group)))
        found = []
        for i, group in enumerate(groups):
            affinity = _unit(f"{phrase.strip().lower()}:{digest}:{i}")
            found.append(self._region(group, 0.55 + 0.45 * affinity))
        found.sort(key=lambda region: -region.score)
        return found

    # ── cells ──

    def _similar_to(self, shade: Colour) -> _Test:
        return lambda cell: _distance(self._shade(cell), shade) <= SHADE_TOLERANCE

    def _unlike(self, shade: Colour) -> _Test:
        return lambda cell: _distance(self._shade(cell), shade) > SHADE_TOLERANCE

    def _neighbours(self, cell: Cell) -> Iterable[Cell]:
        """The cells beside ``cell`` on the image."""
        for nc, nr in _around(cell):
            if 0 <= nc < self.columns and 0 <= nr < self.rows:
                yield nc, nr

    def _flood(self, seed: Cell, joins: _Test, within: set[Cell] | None) -> set[Cell]:
        seen = {seed}
        queue = deque([seed])
        while queue:
            for neighbour in self._neighbours(queue.popleft()):
                if neighbour in seen or (within is not None and neighbour not in within):
                    continue
                if joins(neighbour):
                    seen.add(neighbour)
                    queue.append(neighbour)
        return seen

    def _groups(self, cells: set[Cell]) -> list[set[Cell]]:
        """The four-connected groups of ``cells`` big enough to be objects."""
        left = set(cells)
        groups = []
        for cell in sorted(cells):
            if cell not in left:
                continue
            group = self._flood(cell, lambda _: True, left)
            left -= group
            if len(group) >= _MIN_CELLS:
                groups.append(group)
        return groups

    def _region(self, cells: set[Cell], affinity: float) -> Region:
        columns = [c for c, _ in cells]
        rows = [r for _, r in cells]
        x0, x1 = min(columns) * self._sx, (max(columns) + 1) * self._sx
        y0, y1 = min(rows) * self._sy, (max(rows) + 1) * self._sy
        corners = {
            (min(self.width, max(0.0, cx * self._sx)), min(self.height, max(0.0, cy * self._sy)))
            for c, r in cells
            for cx, cy in ((c, r), (c + 1, r), (c, r + 1), (c + 1, r + 1))
        }
        hull = _hull(corners)
        inside = _mean(self._shade(cell) for cell in cells)
        ring = {n for cell in cells for n in self._neighbours(cell) if n not in cells}
        # A region that fills the image stands out from nothing: its contrast is nil.
        outside = _mean(self._shade(cell) for cell in ring) if ring else inside
        contrast = min(1.0, max(abs(a - b) for a, b in zip(inside, outside, strict=True)) / 96)
        score = round(min(0.99, (0.5 + 0.49 * contrast) * affinity), 4)
        return Region(
            box=(_r(x0), _r(y0), _r(x1 - x0), _r(y1 - y0)),
            polygon=tuple((_r(px), _r(py)) for px, py in hull),
            score=score,
        )


def read_picture(content: bytes) -> Picture:
    """The grey grid of an image's bytes; :class:`UnreadableImage` when they are none."""
    from PIL import Image as PILImage
    from PIL import ImageOps, UnidentifiedImageError

    try:
        with PILImage.open(io.BytesIO(content)) as opened:
            upright = ImageOps.exif_transpose(opened)
            width, height = upright.size
            scale = min(1.0, GRID_SIDE / max(width, height))
            columns, rows = max(1, round(width * scale)), max(1, round(height * scale))
            small = upright.convert("RGB").resize((columns, rows), PILImage.Resampling.BOX)
            shades = small.tobytes()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UnreadableImage(
            "The file is not an image SAM3 can read: send a JPEG, PNG, WebP, BMP, GIF or "
            "TIFF image."
        ) from exc
    return Picture(shades, columns, rows, width, height)


def _median(values: Iterable[Colour]) -> Colour:
    """The colour of the channel-wise medians."""
    channels = list(zip(*values, strict=True))
    if not channels:
        return 0, 0, 0
    r, g, b = (sorted(channel)[len(channel) // 2] for channel in channels)
    return r, g, b


def _mean(values: Iterable[Colour]) -> tuple[float, ...]:
    channels = list(zip(*values, strict=True))
    return tuple(sum(channel) / len(channel) for channel in channels)


def _around(cell: Cell) -> tuple[Cell, ...]:
    """The four cells beside ``cell``, those off the image included."""
    c, r = cell
    return (c - 1, r), (c + 1, r), (c, r - 1), (c, r + 1)


def _distance(a: Colour, b: Colour) -> int:
    return max(abs(a[0] - b[0]), abs(a[1] - b[1]), abs(a[2] - b[2]))


def _unit(text: str) -> float:
    """A number in ``[0, 1)`` fixed by ``text``."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _r(value: float) -> float:
    return round(value, 2)


def _hull(points: set[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull, counter-clockwise from the lowest-leftmost point (monotone chain)."""
    ordered = sorted(points)
    if len(ordered) <= 2:
        return ordered

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in ordered:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(ordered):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
