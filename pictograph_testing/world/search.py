"""Image search: auto-tags, visual similarity and near-duplicate clusters.

The API embeds every image with SigLIP and tags it with a tagger; the fake runs neither
model. Its stand-ins are honest about what they see:

- An image's **embedding** is computed from its actual pixels: the picture, turned
  upright, shrunk to :data:`EMBEDDING_SIDE` x :data:`EMBEDDING_SIDE` RGB, each channel
  centred on mid-grey and the vector scaled to unit length. Two images' similarity is
  the cosine of their embeddings, taken as 0 when negative: the same picture uploaded
  twice scores 1.0, a re-encoded or slightly shaded copy close to it, and pictures of
  other colours or layouts far less. Images added by count share one of a few drawings,
  so those of one drawing are (truly) duplicates of each other. The embedding is made
  once per image, when first needed, and dropped when the image goes; a file the
  service cannot decode (HEIC) has none and is never a match.
- An image's **auto-tags** are its own tags (``images.bulk_tag``, or a class name for
  images added by count), filed by category: ``scenes:outdoor`` under ``scenes``,
  ``attributes:sunny`` under ``attributes``, and every other tag (``objects:car`` or
  plain ``car``) under ``objects``.

Costs: a similarity search compares the source with the images of its directory
(O(images there)); a near-duplicate scan compares each distinct sampled picture with
each distinct picture of its scope (O(sample x images of the dataset or directory) at
worst, far less where images share a picture), both bounded by the route's caps.
"""

from __future__ import annotations

import bisect
import heapq
import io
import itertools
import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pictograph_testing.world.errors import Conflict, InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.state import World

__all__ = [
    "EMBEDDING_SIDE",
    "TAG_CATEGORIES",
    "TAG_MAX_LENGTH",
    "DuplicateScan",
    "ImageSearch",
    "auto_tags",
    "embedding_of",
    "similarity",
]

EMBEDDING_SIDE = 8
"""The side of the thumbnail an embedding is made of (8 x 8 pixels, 3 channels)."""
TAG_CATEGORIES = ("objects", "scenes", "attributes")
"""The auto-tag categories, in the order the API sends them; the first takes plain tags."""
TAG_MAX_LENGTH = 200
"""A tag's most characters: what ``images.bulk_tag`` stores and search by tag looks for."""

Embedding = tuple[float, ...]


def embedding_of(content: bytes) -> Embedding | None:
    """The unit vector of ``content``'s pixels, or ``None`` for a file not decoded here."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    try:
        with PILImage.open(io.BytesIO(content)) as picture:
            # A JPEG decodes at a reduced scale straight away: the thumbnail is all we keep.
            picture.draft("RGB", (EMBEDDING_SIDE * 8, EMBEDDING_SIDE * 8))
            upright = ImageOps.exif_transpose(picture).convert("RGB")
            small = upright.resize((EMBEDDING_SIDE, EMBEDDING_SIDE), PILImage.Resampling.BOX)
    except Exception:  # HEIC (no decoder here), or bytes Pillow cannot read
        return None
    # Centred on 127.5, which no 8-bit value equals: the vector is never all zeros.
    values = [(channel - 127.5) / 127.5 for channel in small.tobytes()]
    norm = math.sqrt(sum(v * v for v in values))
    return tuple(v / norm for v in values)


def similarity(first: Embedding, second: Embedding) -> float:
    """The cosine of two embeddings in ``[0, 1]`` (opposites are not "similar"), to 4 places."""
    cosine: float = sum(map(operator.mul, first, second))
    return round(min(1.0, max(0.0, cosine)), 4)


def auto_tags(image: Image) -> dict[str, list[str]]:
    """The image's tags filed by category (see the module's docstring)."""
    # A dict per category, as an ordered set: `car` and `objects:car` are one tag.
    filed: dict[str, dict[str, None]] = {category: {} for category in TAG_CATEGORIES}
    for tag in image.tags:
        category, _, value = tag.partition(":")
        if value and category in filed:
            filed[category][value] = None
        else:
            filed[TAG_CATEGORIES[0]][tag] = None
    return {category: list(values) for category, values in filed.items()}


@dataclass(frozen=True)
class DuplicateScan:
    """The bounds of one near-duplicate scan, already clamped."""

    threshold: float
    sample: int
    neighbors: int
    max_pairs: int
    directory: str | None


class ImageSearch:
    """Search the images of an organization by tag and by picture."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._embeddings: dict[str, Embedding | None] = {}
        """image id -> its embedding (``None``: its file is not decoded here)."""

    def embedding(self, image: Image) -> Embedding | None:
        if image.id not in self._embeddings:
            content, _ = self._world.image_service.content(image)
            self._embeddings[image.id] = embedding_of(content)
        return self._embeddings[image.id]

    def embedded(self, image_id: str) -> bool:
        """Whether the image's embedding has been made (and not dropped since)."""
        return image_id in self._embeddings

    def forget(self, image_ids: Iterable[str]) -> None:
        """Drop the embeddings of images deleted for good."""
        for image_id in image_ids:
            self._embeddings.pop(image_id, None)

    # ── by tags ──

    def by_tags(
        self, organization_id: str, wanted: dict[str, list[str]], dataset: Dataset | None
    ) -> list[Image]:
        """The organization's live images holding every wanted tag of every category,
        datasets oldest first and each dataset's images in its order."""
        if not any(wanted.values()):
            raise InvalidRequest(
                "Send at least one tag to search by: 'objects', 'scenes' or 'attributes'.",
                errors=[
                    field_error(("query", category), "At least one tag is required", "missing")
                    for category in TAG_CATEGORIES
                ],
            )
        world = self._world
        datasets: Sequence[Dataset]
        if dataset is not None:
            datasets = [dataset]
        else:
            # The organization's own index: other organizations' datasets cost nothing.
            shelf = world.dataset_service.of_organization(organization_id)
            datasets = shelf.oldest if shelf is not None else []
        found = []
        for each in datasets:
            for image in world.dataset_images(each):
                filed = auto_tags(image)
                if all(set(tags) <= set(filed[c]) for c, tags in wanted.items()):
                    found.append(image)
        return found

    # ── by similarity ──

    def similar(
        self, source: Image, directory: str | None, threshold: float, limit: int
    ) -> list[tuple[Image, float]]:
        """The live images of the source's dataset and directory (``directory``, when
        given) at least ``threshold`` similar to it, most similar first; not the source."""
        probe = self._probe(source)
        scope = directory if directory is not None else source.directory_path
        dataset = self._world.datasets[source.dataset_id]
        scored: list[tuple[float, int, Image]] = []
        for place, image in enumerate(self._world.dataset_images(dataset)):
            if image.id == source.id or image.directory_path != scope:
                continue
            vector = self.embedding(image)
            if vector is None:
                continue
            score = similarity(probe, vector)
            if score >= threshold:
                scored.append((-score, place, image))
        scored.sort(key=lambda entry: entry[:2])
        return [(image, -negative) for negative, _, image in scored[:limit]]

    def _probe(self, source: Image) -> Embedding:
        probe = self.embedding(source)
        if probe is None:
            raise Conflict(
                f"Image '{source.id}' has no embedding: its file ({source.content_type}) is "
                "not decoded by the search index. Search from a JPEG, PNG, WebP, BMP, TIFF "
                "or GIF image."
            )
        return probe

    # ── near duplicates ──

    def near_duplicates(self, dataset: Dataset, scan: DuplicateScan) -> dict[str, Any]:
        """Cluster the scope's near-duplicates: each of the first ``sample`` live images
        keeps its ``neighbors`` most similar at ``threshold`` or more, the strongest
        ``max_pairs`` of those pairs join clusters (connected components)."""
        scope = [
            image
            for image in self._world.dataset_images(dataset)
            if scan.directory is None or image.directory_path == scan.directory
        ]
        vectors = [self.embedding(image) for image in scope]
        # Images of one picture share one embedding (those added by count share a few
        # drawings): each distinct one is scored once per distinct probe, not per image.
        holders: dict[Embedding, list[int]] = {}
        for place, vector in enumerate(vectors):
            if vector is not None:
                holders.setdefault(vector, []).append(place)
        ranked_for: dict[Embedding, list[tuple[float, list[list[int]]]]] = {}
        sources = range(min(scan.sample, len(scope)))
        pairs: dict[tuple[int, int], float] = {}
        near = _Neighbourhood(holders, scan.threshold)
        for s in sources:
            probe = vectors[s]
            if probe is None or scan.neighbors <= 0:
                continue
            ranked = ranked_for.get(probe)
            if ranked is None:
                levels: dict[float, list[list[int]]] = {}
                for vector, places in near.around(probe):
                    score = similarity(probe, vector)
                    if score >= scan.threshold:
                        levels.setdefault(score, []).append(places)
                ranked = ranked_for[probe] = [
                    (score, levels[score]) for score in sorted(levels, reverse=True)
                ]
            # The most similar first, ties in scope order: its `neighbors` nearest.
            taken = 0
            for score, places_of_level in ranked:
                for other in heapq.merge(*places_of_level):
                    if other == s:
                        continue
                    pairs[(min(s, other), max(s, other))] = score
                    taken += 1
                    if taken == scan.neighbors:
                        break
                if taken == scan.neighbors:
                    break
        kept = sorted(pairs.items(), key=lambda pair: (-pair[1], pair[0]))
        pairs_capped = len(kept) > scan.max_pairs
        groups = _clusters(kept[: scan.max_pairs])
        return {
            "groups": [
                {
                    "members": [_member(scope[i]) for i in members],
                    "size": len(members),
                    "max_similarity": strongest,
                }
                for members, strongest in groups
            ],
            "group_count": len(groups),
            "duplicate_image_count": sum(len(members) for members, _ in groups),
            "redundant_count": sum(len(members) - 1 for members, _ in groups),
            "analyzed": len(sources),
            "total_images": len(scope),
            "sample_limit": scan.sample,
            "sample_capped": len(scope) > scan.sample,
            "pairs_capped": pairs_capped,
            "threshold": scan.threshold,
            "directory_path": scan.directory,
        }


class _Neighbourhood:
    """The distinct embeddings that may score ``threshold`` or more against a probe, found
    without scoring them all.

    For unit vectors the cosine is ``1 - |u - v|^2 / 2``, and a projection never
    lengthens ``u - v``: two pictures whose mean colours lie far apart cannot be alike.
    The embeddings are sorted by their projection on the grey axis (all channels at
    once), so only a window of that order is read, and each embedding in it is let
    through only if its projection on the three colour axes is near enough too. What is
    left out provably scores under the threshold (with room for the score's rounding to
    4 places and for floating point), so the scan finds exactly what scoring every
    embedding would, far faster where pictures differ.
    """

    def __init__(self, holders: dict[Embedding, list[int]], threshold: float) -> None:
        # Scores of `threshold - 0.00005` round up to it: anything at least that close.
        self._reach = 2.0 * (1.0 - threshold + 0.0001) + 1e-9
        keyed = sorted(
            (
                (_grey(colours), colours, vector, places)
                for vector, places in holders.items()
                for colours in (_colours(vector),)
            ),
            key=operator.itemgetter(0),
        )
        self._greys = [entry[0] for entry in keyed]
        self._entries = [entry[1:] for entry in keyed]

    def around(self, probe: Embedding) -> Iterator[tuple[Embedding, list[int]]]:
        """The embeddings near enough to ``probe`` to be scored, and their holders, in
        the order of their projection on the grey axis."""
        colours = _colours(probe)
        grey = _grey(colours)
        radius = math.sqrt(self._reach)
        low = bisect.bisect_left(self._greys, grey - radius)
        high = bisect.bisect_right(self._greys, grey + radius)
        reach = self._reach
        r, g, b = colours
        for (cr, cg, cb), vector, places in itertools.islice(self._entries, low, high):
            if (cr - r) ** 2 + (cg - g) ** 2 + (cb - b) ** 2 <= reach:
                yield vector, places


# Each channel's 64 values (RGB interleaved) projected on its unit axis: sum / sqrt(64).
_CHANNEL_SCALE = 1.0 / EMBEDDING_SIDE
_GREY_SCALE = 1.0 / math.sqrt(3.0)


def _colours(vector: Embedding) -> tuple[float, float, float]:
    return (
        sum(vector[0::3]) * _CHANNEL_SCALE,
        sum(vector[1::3]) * _CHANNEL_SCALE,
        sum(vector[2::3]) * _CHANNEL_SCALE,
    )


def _grey(colours: tuple[float, float, float]) -> float:
    return sum(colours) * _GREY_SCALE


def _clusters(pairs: Sequence[tuple[tuple[int, int], float]]) -> list[tuple[list[int], float]]:
    """Connected components of the pairs, largest first (then the most similar, then the
    one whose first image comes first), each with its images in scope order."""
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for (first, second), _ in pairs:
        a, b = root(first), root(second)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for node in sorted(parent):
        members.setdefault(root(node), []).append(node)
    strongest: dict[int, float] = {}
    for (first, _), score in pairs:
        top = root(first)
        strongest[top] = max(strongest.get(top, 0.0), score)
    clusters = [(nodes, strongest[top]) for top, nodes in members.items()]
    clusters.sort(key=lambda cluster: (-len(cluster[0]), -cluster[1], cluster[0][0]))
    return clusters


def _member(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "filename": image.filename,
        "virtual_directory_path": image.directory_path,
        "status": image.status,
        "annotation_count": len(image.annotations),
    }
