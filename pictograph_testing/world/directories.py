"""Virtual directories of datasets: rows that images sit in, made by uploads or by hand.

A directory is a row of its own (an empty one exists until it is deleted), while an image
names its directory by path. Every path an image is placed in has a row, its parents too:
:class:`~pictograph_testing.world.images.ImageService` reports each image it files here,
so the rows, and the images each directory holds, are kept rather than found by a scan.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pictograph_testing.world.entities import IMAGE_STATUSES, Directory
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.images import check_directory_name, directory_path

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.state import World

__all__ = ["DirectoryService", "DirectoryTally", "parent_paths"]

_CASCADE_NAMED = 5
"""How many subdirectories or taken names a refused delete names before "and N more"."""


@dataclass
class DirectoryTally:
    """The images directly in one directory (or summed over several)."""

    live: int = 0
    live_bytes: int = 0
    archived: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    """Live images per review stage (stages with none are left out)."""

    def add(self, other: DirectoryTally) -> None:
        self.live += other.live
        self.live_bytes += other.live_bytes
        self.archived += other.archived
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    def by_status(self) -> dict[str, int]:
        """The stages with images, in the order images move through them."""
        return {s: self.statuses[s] for s in IMAGE_STATUSES if self.statuses.get(s)}


def parent_paths(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b", "/a/b/c"]``: the directory and its ancestors,
    outermost first (the root is none of them)."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    return ["/" + "/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _depth_order(directory: Directory) -> tuple[str, ...]:
    # Segment by segment: a directory's children follow it before its next sibling
    # (a plain string sort puts `/a-b` between `/a` and `/a/b`).
    return tuple(directory.path.split("/"))


class DirectoryService:
    """Keep every dataset's directories and what each holds."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._rows: dict[str, dict[str, Directory]] = {}
        """dataset id -> path -> its directory."""
        self._by_id: dict[str, Directory] = {}
        self._held: dict[tuple[str, str], dict[str, None]] = {}
        """(dataset id, path) -> the ids of the images directly in it, archived ones too
        (the root, ``/``, included)."""
        self._tallies: dict[tuple[str, str], DirectoryTally] = {}
        """(dataset id, path) -> its images' counts, kept as they come, go and change."""
        self._made: dict[tuple[str, str], int] = {}
        """(dataset id, path) -> directories made at that path so far: the generation the
        next one's id derives from, so a path made again gets a new id."""

    # ── reading ──

    def of_dataset(self, dataset: Dataset) -> list[Directory]:
        """The dataset's directories, each followed by its subdirectories, by name."""
        return sorted(self._rows.get(dataset.id, {}).values(), key=_depth_order)

    def children(self, dataset: Dataset, parent: str) -> list[Directory]:
        """The directories directly in ``parent`` (``/``: the top-level ones), by name."""
        return [d for d in self.of_dataset(dataset) if d.parent_path == parent]

    def at(self, dataset: Dataset, path: str) -> Directory:
        """The dataset's directory at ``path`` (normalised), or 404."""
        found = self._rows.get(dataset.id, {}).get(path)
        if found is None:
            raise NotFound(f"Directory '{path}' not found in dataset '{dataset.name}'")
        return found

    def subtree(self, dataset: Dataset, directory: Directory) -> list[Directory]:
        """The directory and every directory below it, in :meth:`of_dataset`'s order."""
        below = directory.path + "/"
        return [
            d
            for d in self.of_dataset(dataset)
            if d.path == directory.path or d.path.startswith(below)
        ]

    def tally(self, dataset: Dataset, path: str) -> DirectoryTally:
        """The images directly in ``path`` (read only)."""
        return self._tallies.get((dataset.id, path)) or DirectoryTally()

    def image_counts(self, dataset: Dataset) -> dict[str, tuple[int, int]]:
        """path -> (live images directly in it, live images in its whole subtree), for
        every directory of the dataset, in one pass over its directories."""
        rows = self.of_dataset(dataset)
        own = {d.path: self.tally(dataset, d.path).live for d in rows}
        nested = dict(own)
        # Deepest first: each directory's total is complete before it joins its parent's.
        for directory in reversed(rows):
            parent = directory.parent_path
            if parent in nested:
                nested[parent] += nested[directory.path]
        return {path: (own[path], nested[path]) for path in own}

    def stats(
        self, dataset: Dataset, directory: Directory, *, include_subdirectories: bool
    ) -> tuple[int, DirectoryTally]:
        """How many directories are counted, and their images' tally."""
        rows = self.subtree(dataset, directory) if include_subdirectories else [directory]
        total = DirectoryTally()
        for row in rows:
            total.add(self.tally(dataset, row.path))
        return len(rows), total

    def held(self, dataset: Dataset, path: str) -> list[Image]:
        """The images directly in ``path`` (archived ones too), oldest first."""
        images = self._world.images
        return [images[i] for i in self._held.get((dataset.id, path), {})]

    # ── what images report (ImageService) ──

    def file(self, image: Image) -> None:
        """``image`` now sits at its directory path: make the directories it needs."""
        self._held.setdefault((image.dataset_id, image.directory_path), {})[image.id] = None
        dataset = self._world.datasets.get(image.dataset_id)
        if dataset is not None:
            self.ensure(dataset, image.directory_path)

    def unfile(self, image: Image) -> None:
        slot = (image.dataset_id, image.directory_path)
        held = self._held.get(slot)
        if held is not None:
            held.pop(image.id, None)
            if not held:
                del self._held[slot]

    def count(self, image: Image, sign: int) -> None:
        """Add (``+1``) or take away (``-1``) ``image`` from its directory's tally."""
        slot = (image.dataset_id, image.directory_path)
        tally = self._tallies.setdefault(slot, DirectoryTally())
        if image.is_archived:
            tally.archived += sign
        else:
            tally.live += sign
            tally.live_bytes += sign * image.file_size
            tally.statuses[image.status] = tally.statuses.get(image.status, 0) + sign
            if not tally.statuses[image.status]:
                del tally.statuses[image.status]
        if tally == DirectoryTally():
            del self._tallies[slot]

    # ── changing ──

    def ensure(
        self,
        dataset: Dataset,
        path: str,
        *,
        created_by: str | None = None,
    ) -> Directory | None:
        """The directory at ``path``, made with any missing parents; ``None`` for the root."""
        rows = self._rows.setdefault(dataset.id, {})
        found: Directory | None = None
        for step in parent_paths(path):
            found = rows.get(step)
            if found is None:
                at = self._world.now()
                found = Directory(
                    id=self._new_id(dataset.id, step),
                    organization_id=dataset.organization_id,
                    dataset_id=dataset.id,
                    path=step,
                    created_at=at,
                    updated_at=at,
                    created_by=created_by,
                )
                self.adopt(found)
        return found

    def create(self, dataset: Dataset, raw_path: str, *, created_by: str) -> Directory:
        """The directory at ``raw_path``, made (with its parents) unless it exists."""
        path = directory_path(raw_path, ("body", "directory_path"))
        if path == "/":
            raise InvalidRequest(
                f"Invalid directory_path {raw_path!r}: the root is the dataset itself, not a "
                "directory; name one below it, like '/train'.",
                errors=[field_error(("body", "directory_path"), "Names the root", "value_error")],
            )
        made = self.ensure(dataset, path, created_by=created_by)
        assert made is not None
        return made

    def rename(self, dataset: Dataset, directory: Directory, new_name: str) -> Directory:
        """Give ``directory`` a new name in its parent: its subdirectories and every image
        in the subtree move with it, in one step."""
        check_directory_name(new_name, ("body", "new_name"))
        parent = directory.parent_path
        target = (parent.rstrip("/") + "/" + new_name) if parent != "/" else "/" + new_name
        if target == directory.path:
            return directory
        rows = self._rows[dataset.id]
        if target in rows:
            raise Conflict(
                f"Directory '{target}' already exists in dataset '{dataset.name}': choose "
                "another name, or delete that directory first"
            )
        now = self._world.now()
        moved = self.subtree(dataset, directory)
        old = directory.path
        # The rows move first: the images filed at the new paths find their directories.
        for row in moved:
            del rows[row.path]
        for row in moved:
            row.path = target + row.path[len(old) :]
            row.updated_at = now
            rows[row.path] = row
        service = self._world.image_service
        for row in moved:
            from_path = old + row.path[len(target) :]
            service.relocate(dataset, self.held(dataset, from_path), row.path)
        return directory

    def delete(self, dataset: Dataset, directory: Directory, *, cascade: bool) -> int:
        """Delete an empty directory, or with ``cascade`` one whose images move to its
        parent first; return how many images moved. Nothing changes on a refusal."""
        path = directory.path
        below = [d.path for d in self.subtree(dataset, directory) if d is not directory]
        if below:
            named = ", ".join(f"'{p}'" for p in below[:_CASCADE_NAMED])
            more = f" and {len(below) - _CASCADE_NAMED} more" if len(below) > _CASCADE_NAMED else ""
            raise InvalidRequest(
                f"Directory '{path}' has subdirectories ({named}{more}): delete or rename "
                "them first; a delete never removes a directory tree.",
                status=400,
            )
        images = self.held(dataset, path)
        parent = directory.parent_path
        if images and not cascade:
            raise InvalidRequest(
                f"Directory '{path}' holds {len(images)} image(s): move them out first, or "
                f"delete with cascade=True to move them to '{parent}'.",
                status=400,
            )
        service = self._world.image_service
        taken = [i.filename for i in images if service.find(dataset, parent, i.filename)]
        if taken:
            named = ", ".join(f"'{n}'" for n in sorted(taken)[:_CASCADE_NAMED])
            more = f" and {len(taken) - _CASCADE_NAMED} more" if len(taken) > _CASCADE_NAMED else ""
            raise Conflict(
                f"Cannot move the images of '{path}' to '{parent}': an image named {named}"
                f"{more} already exists there. Rename or move those images first; nothing "
                "was changed."
            )
        service.relocate(dataset, images, parent)
        del self._rows[dataset.id][path]
        del self._by_id[directory.id]
        return len(images)

    def drop(self, dataset: Dataset) -> None:
        """Forget a deleted dataset's directories (its images are gone already)."""
        for directory in self._rows.pop(dataset.id, {}).values():
            del self._by_id[directory.id]

    def generations(self, dataset: Dataset) -> dict[str, int]:
        """Path -> how many directories the dataset has made at that path, ever: what a
        snapshot saves so a path made again after loading gets the id the original gives."""
        return {path: n for (owner, path), n in self._made.items() if owner == dataset.id}

    def restore_generations(self, dataset: Dataset, counts: Mapping[str, int]) -> None:
        """Take saved :meth:`generations` (a snapshot's) as the dataset's own."""
        for path, count in counts.items():
            self._made[(dataset.id, path)] = count

    def adopt(self, directory: Directory) -> None:
        """Keep a directory made elsewhere (a scenario's) as it is."""
        self._rows.setdefault(directory.dataset_id, {})[directory.path] = directory
        self._by_id[directory.id] = directory

    def _new_id(self, dataset_id: str, path: str) -> str:
        # Derived from the seed and the path rather than drawn: uploads make directories,
        # and an upload from a thread pool must not shift the ids drawn after it.
        slot = (dataset_id, path)
        generation = self._made.get(slot, 0)
        while True:
            digest = hashlib.blake2b(
                "\0".join(
                    (str(self._world.seed), "directory", dataset_id, path, str(generation))
                ).encode(),
                digest_size=16,
            ).digest()
            generation += 1
            made = str(uuid.UUID(bytes=digest, version=4))
            if made not in self._by_id:
                break
        self._made[slot] = generation
        return made
