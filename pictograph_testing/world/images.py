"""Images of datasets: uploads, bytes, review stages, splits, tags and batch operations."""

from __future__ import annotations

import copy
import functools
import hashlib
import heapq
import io
import itertools
import re
import uuid
import zlib
from bisect import bisect_left
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from pictograph_testing.world.entities import IMAGE_STATUSES, Image
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.ids import canonical_id, distinct_ids
from pictograph_testing.world.image_files import check_image_bytes
from pictograph_testing.world.ordered import NewestLookedUp, SortedIndex, index_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from pictograph_testing.world.entities import Dataset
    from pictograph_testing.world.state import World

__all__ = [
    "BULK_UPLOAD_CAP",
    "MAX_FILENAME",
    "SPLITS",
    "STATUS_MESSAGE",
    "BatchOutcome",
    "ImageCounts",
    "ImageService",
    "UploadEntry",
    "check_content_type",
    "check_directory_name",
    "check_filename",
    "check_status",
    "directory_path",
    "drawn_image",
    "min_confidence",
    "split_path",
    "synthetic_image",
    "synthetic_length",
]

SPLITS = ("train", "val", "test")
STATUS_MESSAGE = f"Invalid status. Must be one of: {list(IMAGE_STATUSES)}"
BULK_UPLOAD_CAP = 500
SYNTHETIC_FALLBACK_SIZE = (640, 480)
_MAX_SYNTHETIC_SIDE = 4096
_DIRECTORIES_NAMED = 5
"""How many directories a 404 for a bare filename names before "and N more"."""

Loc = tuple[str | int, ...]
Rank = int | Fraction
"""An image's place in its dataset's order (see ``ImageService._rank``)."""
Filter = tuple[str | None, str | None]
"""A listing's (status, split), ``None`` for either matching any."""


@dataclass(frozen=True)
class UploadEntry:
    """One image named by an upload or register request, already validated."""

    filename: str
    directory_path: str
    content_type: str
    width: int | None = None
    height: int | None = None
    file_size: int | None = None
    """The size the register declares: which of several uploads to one path it names."""


@dataclass
class BatchOutcome:
    """What a batch operation did: the images it processed and the ids it could not."""

    processed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    directories: set[str] = field(default_factory=set)
    renamed: int = 0
    classes_added: list[str] = field(default_factory=list)


def split_path(image_path: str) -> tuple[str, str]:
    """Split ``dir/sub/file.jpg`` into the canonical directory ``/dir/sub`` and the filename."""
    directory, _, filename = image_path.strip("/").rpartition("/")
    return ("/" + directory if directory else "/"), filename


def directory_path(value: str, loc: Loc) -> str:
    """Normalise a virtual directory to ``/`` or ``/a/b``; refuse ``.`` and ``..`` parts,
    blank ones, backslashes and control characters (each part is a name
    :func:`check_directory_name` would take)."""
    parts = [part for part in value.split("/") if part]
    if any(part in (".", "..") or part.isspace() for part in parts) or _UNSAFE.search(value):
        raise InvalidRequest(
            f"Invalid directory_path {value!r}: '.', '..' and blank names are not directory "
            "names, and backslashes and control characters are not allowed.",
            errors=[field_error(loc, "Invalid directory path", "value_error")],
        )
    return "/" + "/".join(parts)


# A backslash is a separator where archives are unpacked on Windows: `..\..\evil.png`
# would climb out of the folder an export unpacks into. Control characters (NUL above
# all) break URLs and file systems.
_UNSAFE = re.compile(r"[\\\x00-\x1f\x7f]")


MAX_FILENAME = 255
"""The longest filename an image takes, in characters (a file system's usual bound)."""


def check_filename(value: str, loc: Loc) -> str:
    """Refuse a filename that is blank, too long, ``.`` or ``..``, or holds a ``/``, a
    backslash or a control character."""
    if (
        not value.strip()
        or "/" in value
        or value in (".", "..")
        or len(value) > MAX_FILENAME
        or _UNSAFE.search(value)
    ):
        raise InvalidRequest(
            f"Invalid filename {value!r}: 1 to {MAX_FILENAME} characters, no '/', no backslash and "
            "no control characters.",
            errors=[field_error(loc, "Invalid filename", "value_error")],
        )
    return value


def check_directory_name(value: str, loc: Loc) -> str:
    """Refuse a directory name that is blank, ``.`` or ``..``, or holds a ``/``, a
    backslash or a control character: a name is one segment of a path, not a path."""
    if not value.strip() or "/" in value or value in (".", "..") or _UNSAFE.search(value):
        raise InvalidRequest(
            f"Invalid directory name {value!r}: a name is one path segment (not a path): "
            "not blank, no '/', not '.' or '..', no backslash and no control characters.",
            errors=[field_error(loc, "Invalid directory name", "value_error")],
        )
    return value


def check_content_type(value: str, loc: Loc) -> str:
    """Refuse anything but an ``image/*`` MIME type (the API stores images only)."""
    if not value.startswith("image/") or len(value) <= len("image/"):
        raise InvalidRequest(
            f"Invalid content_type '{value}': only image/* files can be uploaded.",
            errors=[field_error(loc, "Content type must be image/*", "value_error")],
        )
    return value


def check_status(value: str) -> str:
    """Refuse any image status but the four stages (400, as the API answers)."""
    if value not in IMAGE_STATUSES:
        # No field errors on purpose: the API's legacy `detail` is this very string.
        raise InvalidRequest(STATUS_MESSAGE, status=400)
    return value


def min_confidence(image: Image) -> float | None:
    """The smallest annotation confidence on the image; ``None`` without annotations."""
    if not image.annotations:
        return None
    return min(float(a.get("confidence", 1.0)) for a in image.annotations)


def _hash_int(*parts: object) -> int:
    text = "\0".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass
class ImageCounts:
    """A dataset's image counts, as its ``Dataset`` object reports them."""

    live: int = 0
    completed: int = 0
    """Live images in the ``complete`` stage."""
    archived: int = 0
    live_bytes: int = 0


class ImageService:
    """Keep every dataset's images: where they sit, their bytes, and what may change them."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._paths: dict[tuple[str, str, str], str] = {}
        """(dataset id, directory, filename) -> image id: the uniqueness the API enforces."""
        self._directories: dict[tuple[str, str], dict[str, None]] = {}
        """(dataset id, filename) -> the directories holding an image of that name (a 404
        for a bare filename names them); kept with ``_paths`` by ``_file``/``_unfile``."""
        self._blobs: dict[str, str] = {}
        """image id -> the blob it shares (copies point at their source's); default: itself."""
        self._blob_users: dict[str, int] = {}
        """How many of the world's images each stored file is the bytes of."""
        self.removals = 0
        """Images deleted permanently so far: what an export names may be gone since."""
        self._registrations: dict[str, dict[tuple[str, str], int]] = {}
        """dataset id -> (directory, filename) -> uploads registered at that path so far:
        the generation the next one's id derives from (see :meth:`_registered_id`)."""
        self._counts: dict[str, ImageCounts] = {}
        """dataset id -> its counts, kept as images come, go, change stage or archive."""
        self._stored: dict[str, dict[str, int]] = {}
        """organization id -> each stored file its live images are the bytes of -> how
        many: a copy shares its source's file, and the quota counts files, not copies."""
        self._stored_bytes: dict[str, int] = {}
        """organization id -> the bytes of those stored files, each file once."""
        self._rank: dict[str, Rank] = {}
        """image id -> its place in its dataset's order, a number that never changes:
        ranks rise along ``Dataset.image_ids``, so an index sorted by rank keeps that order."""
        self._live: dict[str, dict[Filter, SortedIndex[str]]] = {}
        """dataset id -> (status, split) -> its live images of that stage and split, by
        rank; ``None`` for either matches any (see :meth:`_index`): a filtered page costs
        the page, not the dataset."""

    def stored(self, organization_id: str) -> tuple[int, int]:
        """The stored files the organization's live images are, and their bytes: what its
        plan's limits count (a copy made by ``copy_to_dataset`` shares its source's file,
        and counts once)."""
        return (
            len(self._stored.get(organization_id, ())),
            self._stored_bytes.get(organization_id, 0),
        )

    def cold_only_files(self, organization_id: str, cold: Iterable[Dataset]) -> int:
        """How many stored files only the ``cold`` datasets' live images are the bytes of
        (a file a warm image shares, a copy's say, is not one of them). Reads the cold
        datasets' images: called by a plan limit's check, not per request."""
        held = self._stored.get(organization_id, {})
        users: dict[str, int] = {}
        images = self._world.images
        for dataset in cold:
            for image_id in dataset.image_ids:
                image = images.get(image_id)
                if image is not None and not image.is_archived:
                    blob = self._blobs.get(image.id, image.id)
                    users[blob] = users.get(blob, 0) + 1
        return sum(1 for blob, count in users.items() if held.get(blob, 0) == count)

    def counts(self, dataset: Dataset) -> ImageCounts:
        """The dataset's image counts (read only), kept rather than recounted per read."""
        return self._counts.get(dataset.id) or ImageCounts()

    def _tally(self, image: Image, sign: int) -> None:
        """Add (``+1``) or take away (``-1``) the image from every tally it is in: its
        dataset's and its directory's (around any change of stage, size or archiving)."""
        self._world.directory_service.count(image, sign)
        counts = self._counts.setdefault(image.dataset_id, ImageCounts())
        if image.is_archived:
            counts.archived += sign
            return
        org = image.organization_id
        stored = self._stored.setdefault(org, {})
        blob = self._blobs.get(image.id, image.id)
        users = stored.get(blob, 0) + sign
        if users > 0:
            stored[blob] = users
        else:
            stored.pop(blob, None)
        if users == (1 if sign > 0 else 0):  # the file came, or went
            self._stored_bytes[org] = self._stored_bytes.get(org, 0) + sign * image.file_size
        counts.live += sign
        counts.live_bytes += sign * image.file_size
        if image.status == "complete":
            counts.completed += sign

    # ── finding ──

    def get(self, organization_id: str, image_id: str) -> Image:
        """The organization's image with this id, or 404."""
        image = self._world.images.get(image_id.strip().lower())
        if image is None or image.organization_id != organization_id:
            raise NotFound(f"Image '{image_id}' not found")
        return image

    def find(self, dataset: Dataset, directory: str, filename: str) -> Image | None:
        image_id = self._paths.get((dataset.id, directory, filename))
        return self._world.images.get(image_id) if image_id is not None else None

    def named(self, dataset: Dataset, filename: str) -> list[Image]:
        """Every image of the dataset called ``filename``, the root's first, then by
        directory (from the index of names: never a scan of the dataset)."""
        held = self._directories.get((dataset.id, filename), {})
        found = (self.find(dataset, directory, filename) for directory in sorted(held))
        return [image for image in found if image is not None]

    def at_path(self, dataset: Dataset, image_path: str) -> Image:
        """The image at ``dir/filename`` of the dataset (archived ones too), or 404."""
        directory, filename = split_path(image_path)
        image = self.find(dataset, directory, filename) if filename else None
        if image is None:
            raise NotFound(
                f"Image '{image_path}' not found in dataset '{dataset.name}'"
                + self._elsewhere_hint(dataset, directory, filename)
            )
        return image

    def _elsewhere_hint(self, dataset: Dataset, directory: str, filename: str) -> str:
        """Where else in the dataset an image called ``filename`` is, as a 404 says it.

        A per-image route folds the directory into the path, so a bare filename names
        the dataset's root: the API's 404 names the directories that hold the name
        instead (the SDK relies on it rather than looking the name up first). The first
        few, by path, from an index: never a scan of the dataset.
        """
        held = self._directories.get((dataset.id, filename), {})
        others = len(held) - (directory in held)
        if not filename or others <= 0:
            return ""
        named = heapq.nsmallest(_DIRECTORIES_NAMED + 1, held)
        named = [d for d in named if d != directory][:_DIRECTORIES_NAMED]
        more = others - len(named)
        where = ", ".join(named) + (f" and {more} more" if more else "")
        first = named[0]
        return (
            f"; an image of that name is in {where}: address it with its "
            f"directory, as '{first.strip('/')}/{filename}' (or directory_path='{first}' "
            "where the call takes one)"
        )

    def _file(self, dataset_id: str, image: Image) -> None:
        """Index ``image`` at its path in the dataset (its directory made if need be)."""
        self._paths[(dataset_id, image.directory_path, image.filename)] = image.id
        self._directories.setdefault((dataset_id, image.filename), {})[image.directory_path] = None
        self._world.directory_service.file(image)

    def _unfile(self, dataset_id: str, image: Image) -> None:
        """Take ``image`` off the index of its path in the dataset."""
        if self._paths.pop((dataset_id, image.directory_path, image.filename), None) is None:
            return
        self._world.directory_service.unfile(image)
        slot = (dataset_id, image.filename)
        held = self._directories[slot]
        del held[image.directory_path]
        if not held:
            del self._directories[slot]

    def listing(
        self,
        dataset: Dataset,
        *,
        directory: str | None = None,
        filename: str | None = None,
        status: str | None = None,
        split: str | None = None,
        include_archived: bool = False,
        min_confidence_lt: float | None = None,
    ) -> Sequence[Image]:
        """The dataset's images matching every filter given, newest first.

        Images registered at one virtual instant count as newer the later their path
        sorts (see :meth:`add`). A page costs the page, not the dataset: the live images,
        or those of a stage, a split or both, are a view of their index; the archived
        too, a view of the dataset's order; by filename, the few images of that name,
        found by their paths; by directory or confidence, a list of the matches among
        the narrowest index's images.
        """
        table = self._world.images
        live = self._live.get(dataset.id, {})
        if (directory, filename, min_confidence_lt) == (None, None, None):
            if not include_archived:
                index = live.get((status, split))
                return () if index is None else NewestLookedUp(index.oldest, table)
            if (status, split) == (None, None):
                return NewestLookedUp(dataset.image_ids, table)

        def matches(image: Image) -> bool:
            if not (
                (include_archived or not image.is_archived)
                and (directory is None or image.directory_path == directory)
                and (filename is None or image.filename == filename)
                and (status is None or image.status == status)
                and (split is None or image.split == split)
            ):
                return False
            if min_confidence_lt is None:
                return True
            lowest = min_confidence(image)
            return lowest is not None and lowest < min_confidence_lt

        if filename is not None:
            # `images.get(dataset, filename)` lists by filename: the paths index has them.
            held = self._directories.get((dataset.id, filename), {})
            named = [table[self._paths[(dataset.id, where, filename)]] for where in held]
            found = [image for image in named if matches(image)]
            if len(found) > 1:  # one name in several folders: in the dataset's order
                found.sort(key=lambda image: self._rank[image.id], reverse=True)
            return found
        # A directory or a confidence: read the narrowest index of live images there is.
        ids = dataset.image_ids
        if not include_archived:
            index = live.get((status, split))
            ids = [] if index is None else index.oldest
        return [image for i in reversed(ids) if matches(image := table[i])]

    # ── adding ──

    def add(self, dataset: Dataset, image: Image, *, blob: str | None = None) -> Image:
        """Place a new image in its dataset (the caller checked its path is free).

        ``blob`` is the stored file it shares (a copy's source's, see :meth:`blob`);
        ``None``, its own. Images that arrive at the same virtual instant are kept in
        path order, so an upload from a thread pool leaves the same dataset whatever the
        scheduling.
        """
        world = self._world
        world.images[image.id] = image
        if blob is not None and blob != image.id:
            self._blobs[image.id] = blob
        blob = self.blob(image)
        self._blob_users[blob] = self._blob_users.get(blob, 0) + 1
        if image.content is None:
            # Bytes made on demand: the image reports the length they download as.
            image.file_size = self.generated_size(image)
        if image.content is not None:
            world.predictions.add(image, image.content)
        self._file(dataset.id, image)
        ids = dataset.image_ids
        place = len(ids)
        path = (image.directory_path, image.filename)
        while place > 0:
            before = world.images[ids[place - 1]]
            if before.created_at != image.created_at or (
                (before.directory_path, before.filename) < path
            ):
                break
            place -= 1
        self._rank[image.id] = self._rank_at(ids, place)
        ids.insert(place, image.id)
        self._tally(image, +1)
        self._index(image, +1)
        return image

    def _rank_at(self, ids: list[str], place: int) -> Rank:
        """A rank between those of the images either side of ``place`` in ``ids``.

        Most images come last (the rank after the last one's, an integer); one of an
        instant's uploads that sorts before others of that instant takes the midpoint of
        its neighbours' ranks, exact as a fraction however often it happens.
        """
        ranks = self._rank
        if place == len(ids):
            return ranks[ids[-1]] + 1 if ids else 0
        after = ranks[ids[place]]
        return after - 1 if place == 0 else (ranks[ids[place - 1]] + after) / Fraction(2)

    def _index(self, image: Image, sign: int) -> None:
        """File a live image in (``+1``), or take it out of (``-1``), the indexes of its
        dataset's live images it belongs to: all of them, its stage's, its split's and
        its stage's within its split (around any change of stage, split or archiving)."""
        if image.is_archived:
            return
        live = self._live.setdefault(image.dataset_id, {})
        status, split = image.status, image.split
        filters: tuple[Filter, ...] = (
            ((None, None), (status, None))
            if split is None
            else ((None, None), (status, None), (None, split), (status, split))
        )
        for name in filters:
            if sign > 0:
                index_in(live, name, self._rank.__getitem__).add(image.id)
            else:
                live[name].remove(image.id)

    def _unindex(self, dataset: Dataset, gone: Mapping[str, Image]) -> None:
        """Take the images ``gone`` (the dataset's own, by id) out of its order and indexes."""
        ids = dataset.image_ids
        if len(gone) == len(ids):
            self._live.pop(dataset.id, None)
            ids.clear()
        elif len(gone) * 32 > len(ids):  # many: one pass over each list
            for index in self._live.get(dataset.id, {}).values():
                index.remove_where(gone.__contains__)
            ids[:] = [i for i in ids if i not in gone]
        else:  # a few: each found by its rank, as a page is
            rank_of = self._rank.__getitem__
            for image_id, image in gone.items():
                self._index(image, -1)
                del ids[bisect_left(ids, rank_of(image_id), key=rank_of)]

    def restore_order(self, dataset: Dataset, image_ids: Sequence[str]) -> None:
        """Put the dataset's images in a saved order (a snapshot's), whatever adding gave.

        Raise ``ValueError`` unless ``image_ids`` are exactly the dataset's images.
        """
        if sorted(image_ids) != sorted(dataset.image_ids):
            raise ValueError("a saved image order must name each of the dataset's images once")
        dataset.image_ids = list(image_ids)
        self._rank.update(zip(image_ids, itertools.count()))
        self._live.pop(dataset.id, None)
        images = self._world.images
        for image_id in image_ids:
            self._index(images[image_id], +1)

    def _conflict(self, dataset: Dataset, existing: Image) -> Conflict:
        where = existing.directory_path
        archived = (
            " (archived: restore it with batch.update(is_archived=False))"
            if existing.is_archived
            else ""
        )
        return Conflict(
            f"An image named '{existing.filename}' already exists in '{where}' of dataset "
            f"'{dataset.name}'{archived}"
        )

    def sign_upload(self, dataset: Dataset, entry: UploadEntry, *, refuse_existing: bool) -> str:
        """Return the storage path of a signed PUT URL for one image's bytes."""
        self._world.cold_storage.require_warm(dataset, "an upload")
        existing = self.find(dataset, entry.directory_path, entry.filename)
        if refuse_existing and existing is not None:
            raise self._conflict(dataset, existing)
        return self._world.storage.sign_upload(
            (dataset.id, entry.directory_path, entry.filename), entry.content_type
        )

    def register(self, dataset: Dataset, entry: UploadEntry) -> Image:
        """Register bytes PUT to a signed URL as a new ``new`` image; 409 on a taken path."""
        self._world.cold_storage.require_warm(dataset, "an upload")
        existing = self.find(dataset, entry.directory_path, entry.filename)
        if existing is not None:
            raise self._conflict(dataset, existing)
        key = (dataset.id, entry.directory_path, entry.filename)
        slot = self._world.storage.received(key, entry.file_size)
        if slot is None or slot.content is None:
            path = entry.directory_path.rstrip("/") + "/" + entry.filename
            raise NotFound(
                f"No uploaded bytes for '{path}' in dataset '{dataset.name}': PUT the file "
                "to the upload_url from images/upload-url before registering it."
            )
        # Decoded before anything changes: bytes that are no image stay where they were.
        size = check_image_bytes(slot.content, entry.filename)
        self._world.storage.take_upload(key, slot)
        registered = self._registrations.setdefault(dataset.id, {})
        place = (entry.directory_path, entry.filename)
        generation = registered.get(place, 0)
        # Never an id the world holds. A world loaded from a scenario saved without its
        # registrations (written before they were saved) counts from 0 again, while the
        # image first uploaded to this path, moved away since, still has generation 0's
        # id. The next free generation is the one the saved world would have given,
        # unless an image of this path was deleted there since.
        while self._registered_id(key, generation) in self._world.images:
            generation += 1
        registered[place] = generation + 1
        image = Image(
            id=self._registered_id(key, generation),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            filename=entry.filename,
            directory_path=entry.directory_path,
            content_type=slot.content_type,
            file_size=len(slot.content),
            # Measured from the bytes (upright), as the SDK measures them before it
            # registers; a HEIC image, whose pixels are not read, keeps the declared size.
            width=entry.width if size is None else size[0],
            height=entry.height if size is None else size[1],
            created_at=self._world.now(),
            content=slot.content,
        )
        return self.add(dataset, image)

    def bulk_register(
        self, dataset: Dataset, entries: Sequence[UploadEntry]
    ) -> tuple[list[Image], list[tuple[UploadEntry, str]]]:
        """Register each entry on its own: a taken path or missing bytes fail that entry only.

        A cold dataset refuses the whole request, not each entry.
        """
        self._world.cold_storage.require_warm(dataset, "an upload")
        succeeded: list[Image] = []
        failed: list[tuple[UploadEntry, str]] = []
        for entry in entries:
            try:
                succeeded.append(self.register(dataset, entry))
            except (Conflict, NotFound, InvalidRequest) as refusal:
                failed.append((entry, refusal.message))
        return succeeded, failed

    def registrations(self, dataset: Dataset) -> dict[tuple[str, str], int]:
        """(directory, filename) -> how many uploads the dataset has registered at that
        path, ever: what a snapshot saves so uploads after loading get the same ids."""
        return dict(self._registrations.get(dataset.id, {}))

    def restore_registrations(
        self, dataset: Dataset, counts: Mapping[tuple[str, str], int]
    ) -> None:
        """Take a saved :meth:`registrations` (a snapshot's) as the dataset's own."""
        self._registrations[dataset.id] = dict(counts)

    def _registered_id(self, key: tuple[str, str, str], generation: int) -> str:
        # Derived from the seed and the image's place rather than drawn in call order:
        # `upload_from_directory` registers from a thread pool, and the ids it gets must
        # not depend on which thread the scheduler ran first.
        digest = hashlib.blake2b(
            "\0".join((str(self._world.seed), *key, str(generation))).encode(), digest_size=16
        ).digest()
        return str(uuid.UUID(bytes=digest, version=4))

    # ── bytes ──

    def blob(self, image: Image) -> str:
        """The stored file the image's bytes are (copies share their source's)."""
        return self._blobs.get(image.id, image.id)

    def blob_users(self, blob: str) -> int:
        """How many of the world's images :meth:`blob` names ``blob`` for."""
        return self._blob_users.get(blob, 0)

    def served_type(self, image: Image) -> str:
        """The MIME type :meth:`content` serves the image's bytes as."""
        if image.content is not None:
            return image.content_type
        return "image/png" if image.content_type == "image/png" else "image/jpeg"

    def generated_size(self, image: Image) -> int:
        """The length of the bytes :meth:`content` makes for an image without uploaded ones."""
        width, height = _drawn_size(image.width, image.height)
        return synthetic_length(width, height, self.served_type(image), self.blob(image))

    def content(self, image: Image) -> tuple[bytes, str]:
        """The image's bytes and their MIME type; made once for images added by count."""
        kind = self.served_type(image)
        if image.content is not None:
            return image.content, kind
        blob = self.blob(image)
        made = self._world.storage.cached(
            ("image", blob), lambda: drawn_image(image.width, image.height, kind, blob)
        )
        # Bytes made on demand become known once served: a model run on them finds them.
        self._world.predictions.add(image, made)
        return made, kind

    # ── review, split, tags ──

    def review(self, image: Image, action: str) -> str:
        """Approve (``complete``) or send back (``annotate``); return the new status."""
        statuses = {"approve": "complete", "request_changes": "annotate"}
        if action not in statuses:
            raise InvalidRequest(
                f"Invalid action '{action}': choose 'approve' or 'request_changes'.",
                errors=[
                    field_error(
                        ("body", "action"),
                        "Input should be 'approve' or 'request_changes'",
                        "literal_error",
                    )
                ],
            )
        self._tally(image, -1)
        self._index(image, -1)
        image.status = statuses[action]
        self._tally(image, +1)
        self._index(image, +1)
        return image.status

    def set_split(self, image: Image, split: str | None) -> str | None:
        if split is not None and split not in SPLITS:
            raise InvalidRequest(
                f"Invalid split '{split}': choose 'train', 'val', 'test' or null.",
                errors=[
                    field_error(
                        ("body", "split"), "Input should be 'train', 'val' or 'test'", "enum"
                    )
                ],
            )
        self._index(image, -1)
        image.split = split
        self._index(image, +1)
        return split

    def assign_splits(
        self, dataset: Dataset, weights: dict[str, int], seed: int, mode: str
    ) -> dict[str, int]:
        """Split every live image by integer percentages; val and test floor, train the rest.

        The order is a pure function of ``seed`` and the image ids, so the same seed gives
        the same assignment.
        """
        errors = [
            field_error(("body", name), "Input should be between 0 and 100", "range_error")
            for name, weight in weights.items()
            if not 0 <= weight <= 100
        ]
        if not errors and sum(weights.values()) != 100:
            errors.append(field_error(("body",), "train + val + test must be 100", "value_error"))
        if errors:
            raise InvalidRequest(
                "Split weights are integer percentages from 0 to 100 that sum to 100.",
                errors=errors,
            )
        if mode not in ("random", "embedding"):
            raise InvalidRequest(
                f"Invalid split_mode '{mode}': choose 'random' or 'embedding'.",
                errors=[
                    field_error(
                        ("body", "split_mode"),
                        "Input should be 'random' or 'embedding'",
                        "literal_error",
                    )
                ],
            )
        if mode == "embedding":
            raise Conflict(
                f"Dataset '{dataset.name}' has no embedding map, so it cannot be split per "
                "cluster; use split_mode='random'."
            )
        images = sorted(
            self._world.dataset_images(dataset), key=lambda i: (_hash_int(seed, i.id), i.id)
        )
        total = len(images)
        val = total * weights["val"] // 100
        test = total * weights["test"] // 100
        train = total - val - test
        for n, image in enumerate(images):
            self._index(image, -1)
            image.split = "train" if n < train else "val" if n < train + val else "test"
            self._index(image, +1)
        return {"processed": total, "train": train, "val": val, "test": test}

    def bulk_tag(
        self, dataset: Dataset, image_ids: Sequence[str], tags: Sequence[str], *, add: bool
    ) -> int:
        """Add (union) or remove user tags; return how many of the ids are the dataset's."""
        touched = 0
        for image in self._members(dataset, image_ids)[0]:
            touched += 1
            if add:
                image.tags[:] = list(dict.fromkeys([*image.tags, *tags]))
            else:
                image.tags[:] = [t for t in image.tags if t not in tags]
        return touched

    # ── archive and delete ──

    def archive(self, images: Iterable[Image]) -> None:
        for image in images:
            self._tally(image, -1)
            self._index(image, -1)
            image.is_archived = True
            self._tally(image, +1)
            self._index(image, +1)  # nothing: archived images are in no index

    def remove(self, images: Iterable[Image]) -> None:
        """Delete images permanently: the rows go, and with them their paths."""
        world = self._world
        gone: dict[str, dict[str, Image]] = {}
        for image in images:
            if world.images.pop(image.id, None) is not None:
                gone.setdefault(image.dataset_id, {})[image.id] = image
                self.removals += 1
                self._tally(image, -1)
                blob = self.blob(image)
                users = self._blob_users[blob] - 1
                if users:
                    self._blob_users[blob] = users
                else:
                    del self._blob_users[blob]
            self._unfile(image.dataset_id, image)
            self._blobs.pop(image.id, None)
        comments = world.built("comments")
        search = world.built("search")
        for dataset_id, removed in gone.items():
            if comments is not None:
                comments.forget_images(removed)
            if search is not None:
                search.forget(removed)
            dataset = world.datasets.get(dataset_id)
            if dataset is not None:
                self._unindex(dataset, removed)
            for image_id in removed:
                del self._rank[image_id]

    # ── batch operations ──

    def _members(
        self, dataset: Dataset, image_ids: Sequence[str]
    ) -> tuple[list[Image], list[tuple[str, str]]]:
        """The dataset's images among ``image_ids`` (each once) and the ids that are not."""
        found: list[Image] = []
        failed: list[tuple[str, str]] = []
        # One id sent again in another case (or with spaces) is the same image, once.
        for image_id in distinct_ids(image_ids):
            image = self._world.images.get(canonical_id(image_id.strip()))
            if image is None or image.dataset_id != dataset.id:
                failed.append((image_id, f"Image not found in dataset '{dataset.name}'"))
            else:
                found.append(image)
        return found, failed

    def _matching(
        self, dataset: Dataset, image_ids: Sequence[str]
    ) -> tuple[list[Image], BatchOutcome]:
        found, failed = self._members(dataset, image_ids)
        if not found:
            raise NotFound(f"None of the given image ids is an image of dataset '{dataset.name}'")
        return found, BatchOutcome(failed=failed)

    def batch_update(
        self,
        dataset: Dataset,
        image_ids: Sequence[str],
        *,
        status: str | None,
        display_name: str | None,
        is_archived: bool | None,
    ) -> BatchOutcome:
        """Set the given fields on each of the dataset's images among ``image_ids``."""
        if status is not None:
            check_status(status)
        images, outcome = self._matching(dataset, image_ids)
        for image in images:
            self._tally(image, -1)
            self._index(image, -1)
            if status is not None:
                image.status = status
            if display_name is not None:
                image.display_name = display_name
            if is_archived is not None:
                image.is_archived = is_archived
            self._tally(image, +1)
            self._index(image, +1)
            outcome.processed += 1
            outcome.directories.add(image.directory_path)
        return outcome

    def batch_delete(
        self, dataset: Dataset, image_ids: Sequence[str], *, permanent: bool
    ) -> BatchOutcome:
        images, outcome = self._matching(dataset, image_ids)
        if permanent:
            self.remove(images)
        else:
            self.archive(images)
        outcome.processed = len(images)
        outcome.directories.update(i.directory_path for i in images)
        return outcome

    def move(self, dataset: Dataset, image_ids: Sequence[str], target: str) -> BatchOutcome:
        """Move images into ``target``; a taken name there gets a ``-{n}`` suffix."""
        images, outcome = self._matching(dataset, image_ids)
        outcome.directories.add(target)
        for image in images:
            outcome.processed += 1
            if image.directory_path == target:
                continue
            outcome.directories.add(image.directory_path)
            name = self._free_name(dataset, target, image.filename, first=1)
            outcome.renamed += name != image.filename
            self._place(dataset, image, target, name)
        return outcome

    def relocate(self, dataset: Dataset, images: Iterable[Image], directory: str) -> None:
        """Move images to ``directory`` under their own names (the caller checked that
        none is taken there): a directory's rename or a cascading delete."""
        for image in list(images):
            self._place(dataset, image, directory, image.filename)

    def _place(self, dataset: Dataset, image: Image, directory: str, filename: str) -> None:
        """Give ``image`` a new path, every index and tally following it."""
        self._unfile(dataset.id, image)
        self._world.directory_service.count(image, -1)
        image.directory_path, image.filename = directory, filename
        self._world.directory_service.count(image, +1)
        self._file(dataset.id, image)

    def copy(
        self,
        dataset: Dataset,
        image_ids: Sequence[str],
        target: str,
        *,
        duplicate_handling: str,
        copy_annotations: bool,
    ) -> BatchOutcome:
        """Copy images into ``target`` of the same dataset; the copies share the files."""
        # A copy is a new image file of the dataset (the sharing is the fake's own
        # economy): refused, as an upload is, while the files are cold or moving.
        self._world.cold_storage.require_warm(dataset, "a copy of its images")
        images, outcome = self._matching(dataset, image_ids)
        sources = {image.id for image in images}
        outcome.directories.add(target)
        for image in images:
            name = image.filename
            existing = self.find(dataset, target, name)
            if existing is not None:
                if duplicate_handling == "skip":
                    outcome.failed.append((image.id, f"'{name}' already exists in '{target}'"))
                    continue
                if duplicate_handling == "overwrite":
                    if existing.id in sources:
                        outcome.failed.append(
                            (image.id, f"'{name}' in '{target}' is itself being copied")
                        )
                        continue
                    self.remove([existing])
                else:
                    # The documented rename for copies starts at -2 ("photo-2.png").
                    name = self._free_name(dataset, target, name, first=2)
            self._copy_into(dataset, image, target, name, labels=copy_annotations)
            outcome.processed += 1
        return outcome

    def copy_to_dataset(
        self, source: Dataset, image_ids: Sequence[str], target: Dataset, directory: str
    ) -> BatchOutcome:
        """Copy images with their labels, tags, split and stage into another dataset.

        Classes the copied labels use that the target lacks are added to it as the source
        defines them.
        """
        # The copies' bytes are read from the source's files and written as the
        # target's: neither may be cold or moving.
        cold = self._world.cold_storage
        cold.require_warm(source, "a copy of its images into another dataset")
        cold.require_warm(target, "a copy of images into it")
        images, outcome = self._matching(source, image_ids)
        outcome.directories.add(directory)
        self._copy_across(source, images, target, lambda _image: directory, outcome)
        return outcome

    def import_dataset(self, source: Dataset, target: Dataset) -> int:
        """Copy every live image of ``source`` into ``target`` where it sits in the source
        (same directory and name, ``-1``... if the target has one there already), with
        labels, tags, split and stage; the copies share the source's files. Returns how
        many were copied."""
        outcome = BatchOutcome()
        images = self._world.dataset_images(source)
        self._copy_across(source, images, target, lambda image: image.directory_path, outcome)
        return outcome.processed

    def _copy_across(
        self,
        source: Dataset,
        images: Sequence[Image],
        target: Dataset,
        directory_of: Callable[[Image], str],
        outcome: BatchOutcome,
    ) -> None:
        known = set(target.class_names)
        definitions = {str(c["name"]): c for c in source.classes}
        added: list[dict[str, Any]] = []
        for image in images:
            directory = directory_of(image)
            name = self._free_name(target, directory, image.filename, first=1)
            outcome.renamed += name != image.filename
            copied = self._copy_into(target, image, directory, name, labels=True)
            copied.tags = list(image.tags)
            self._index(copied, -1)
            copied.split = image.split
            self._index(copied, +1)
            outcome.processed += 1
            for annotation in image.annotations:
                label = str(annotation.get("name"))
                if label in known:
                    continue
                known.add(label)
                definition = definitions.get(label) or {
                    "name": label,
                    "type": annotation.get("type"),
                }
                added.append(copy.deepcopy(definition))
                outcome.classes_added.append(label)
        if added:
            from pictograph_testing.world.datasets import with_colors

            target.classes = with_colors([*target.classes, *added])
            target.updated_at = self._world.now()

    def _copy_into(
        self, dataset: Dataset, source: Image, directory: str, filename: str, *, labels: bool
    ) -> Image:
        world = self._world
        image = Image(
            id=world.ids.uuid(),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            filename=filename,
            directory_path=directory,
            content_type=source.content_type,
            file_size=source.file_size,
            width=source.width,
            height=source.height,
            created_at=world.now(),
            status=source.status if labels else "new",
            annotations=copy.deepcopy(source.annotations) if labels else [],
            content=source.content,
        )
        return self.add(dataset, image, blob=self.blob(source))

    def _free_name(self, dataset: Dataset, directory: str, filename: str, *, first: int) -> str:
        """``filename`` if it is free in ``directory``, else ``stem-{n}.ext`` for the lowest n,
        its stem cut so that the name stays within :data:`MAX_FILENAME`."""
        if self.find(dataset, directory, filename) is None:
            return filename
        stem, dot, extension = filename.rpartition(".")
        if not stem:
            stem, dot, extension = filename, "", ""
        n = first
        while True:
            suffix = f"-{n}{dot}{extension}"
            room = MAX_FILENAME - len(suffix)
            if room < 1:  # an extension near the bound itself: cut the whole name instead
                suffix = f"-{n}"
                candidate = filename[: MAX_FILENAME - len(suffix)] + suffix
            else:
                candidate = stem[:room] + suffix
            if self.find(dataset, directory, candidate) is None:
                return candidate
            n += 1


_SHADES = 16
"""Colour pairs a generated image is drawn in. Each is drawn once per size and type, so
an image's length is known without drawing it (a listing reports ``file_size``)."""

_JPEG_COMMENT = b"\xff\xfe"
_PNG_TEXT_KEY = b"Comment\x00"
_DIGEST_HEX = 32
"""Every generated image carries its token's digest (hex) in a comment of fixed length,
so no two images share bytes (a prediction finds its image by them) and the length
depends only on the drawing."""
_MARK_LENGTH = {
    "image/jpeg": len(_JPEG_COMMENT) + 2 + _DIGEST_HEX,
    "image/png": 4 + 4 + len(_PNG_TEXT_KEY) + _DIGEST_HEX + 4,
}


def _drawn_size(width: int | None, height: int | None) -> tuple[int, int]:
    """The pixel size a generated image is drawn at: its own, if it is a plausible one."""
    if not 0 < (width or 0) <= _MAX_SYNTHETIC_SIDE or not 0 < (height or 0) <= _MAX_SYNTHETIC_SIDE:
        return SYNTHETIC_FALLBACK_SIZE
    return width or 0, height or 0


def drawn_image(width: int | None, height: int | None, content_type: str, blob: str) -> bytes:
    """The bytes an image without uploaded ones is drawn as, from its ``blob``: what its
    image route serves, and what an export holds of it after it is deleted for good."""
    return synthetic_image(*_drawn_size(width, height), content_type, blob)


def synthetic_image(width: int, height: int, content_type: str, token: str) -> bytes:
    """A small valid JPEG or PNG of ``width`` x ``height``, unique to ``token``.

    Its length is :func:`synthetic_length`. Any ``content_type`` but ``image/png`` is a JPEG.
    """
    kind = "image/png" if content_type == "image/png" else "image/jpeg"
    digest = hashlib.blake2b(token.encode(), digest_size=16)
    drawn = _drawn(width, height, kind, digest.digest()[0] % _SHADES)
    mark = digest.hexdigest().encode("ascii")
    if kind == "image/png":
        # A tEXt chunk right after the signature and IHDR (8 + 25 bytes).
        text = b"tEXt" + _PNG_TEXT_KEY + mark
        chunk = (len(text) - 4).to_bytes(4, "big") + text + zlib.crc32(text).to_bytes(4, "big")
        return drawn[:33] + chunk + drawn[33:]
    # A COM segment right after SOI.
    return drawn[:2] + _JPEG_COMMENT + (2 + len(mark)).to_bytes(2, "big") + mark + drawn[2:]


def synthetic_length(width: int, height: int, content_type: str, token: str) -> int:
    """``len(synthetic_image(...))``, from the drawing alone (drawn once per shade)."""
    kind = "image/png" if content_type == "image/png" else "image/jpeg"
    shade = hashlib.blake2b(token.encode(), digest_size=16).digest()[0] % _SHADES
    return len(_drawn(width, height, kind, shade)) + _MARK_LENGTH[kind]


@functools.lru_cache(maxsize=256)
def _drawn(width: int, height: int, kind: str, shade: int) -> bytes:
    """The picture of a generated image: a rectangle on a background, in shade ``shade``."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    colour = hashlib.blake2b(bytes([shade]), digest_size=3).digest()
    background = (colour[0], colour[1], colour[2])
    foreground = (255 - colour[0], 255 - colour[1], 255 - colour[2])
    picture = PILImage.new("RGB", (width, height), background)
    ImageDraw.Draw(picture).rectangle(
        # PIL fills both corners: the last pixel of the middle half is one short of 3/4.
        (width // 4, height // 4, (3 * width) // 4 - 1, (3 * height) // 4 - 1),
        fill=foreground,
    )
    out = io.BytesIO()
    if kind == "image/png":
        picture.save(out, format="PNG", optimize=False)
    else:
        picture.save(out, format="JPEG", quality=85)
    return out.getvalue()
