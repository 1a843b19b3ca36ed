"""Exports: a frozen selection of a dataset's images, processed on the virtual clock.

An export names its images when it is created and never changes them after. It then
waits :data:`QUEUE_SECONDS` (``pending``), processes for a time that grows with its
images (``processing``), and ends ``completed`` (its ZIP ready) or ``failed``. Like
training runs, nothing runs in the background: :meth:`ExportService.advance_to` replays
whatever the clock has passed whenever the world catches up.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pictograph_testing.world.entities import Export
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.failures import FailureQueue
from pictograph_testing.world.ids import distinct_ids, splitmix64
from pictograph_testing.world.job_kinds import EXPORT_JOB, JobOrder, job_order
from pictograph_testing.world.ordered import SortedIndex, index_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from pictograph_testing.world.entities import ApiKey, Dataset, Image
    from pictograph_testing.world.state import World

__all__ = [
    "BASE_SECONDS",
    "DOWNLOAD_TTL_SECONDS",
    "EXPORT_FORMATS",
    "EXPORT_STATUSES",
    "FINAL_STATUSES",
    "KEPT",
    "QUEUE_SECONDS",
    "REMOVED",
    "SECONDS_PER_IMAGE",
    "SECONDS_PER_IMAGE_BYTES",
    "ExportJob",
    "ExportService",
    "FrozenImage",
    "changed_since",
    "export_classes",
    "processing_seconds",
    "removed_since",
]

EXPORT_FORMATS = (
    "pictograph",
    "darwin",
    "coco",
    "yolo",
    "yolo_obb",
    "yolo_pose",
    "dota",
    "pascal_voc",
    "cvat",
    "datumaro",
    "labelme",
    "csv",
)
EXPORT_STATUSES = ("pending", "processing", "completed", "failed")
FINAL_STATUSES = frozenset({"completed", "failed"})
"""Where an export ends; an export added by a test may also start there (it never ran)."""
QUEUE_SECONDS = 2.0
"""How long a new export waits for an export worker (``pending``)."""
BASE_SECONDS = 3.0
SECONDS_PER_IMAGE = 0.05
SECONDS_PER_IMAGE_BYTES = 0.25
"""Extra processing per image when the ZIP carries the image files too."""
DOWNLOAD_TTL_SECONDS = 7 * 24 * 3600.0
"""How long a completed export's ZIP is kept (the ``expires_at`` soft TTL)."""
DEFAULT_FAILURE = "Export processing failed: the export worker stopped unexpectedly."
_SPLIT_DIRECTORIES = {"train": "train", "val": "valid", "test": "test"}
_YOLO_FORMATS = ("yolo", "yolo_obb", "yolo_pose")
_ENTRY_OVERHEAD = 30 + 46
"""A stored entry's local header and central directory record, without its name."""
_END_RECORD = 22
_ZIP64_ENTRY_MARGIN = 1.05
"""Python's ``zipfile`` gives an entry a ZIP64 local header once its length times this
passes ``zipfile.ZIP64_LIMIT`` (it leaves room for the entry to grow while written)."""


def processing_seconds(images: int, include_images: bool) -> float:
    """How long an export of ``images`` images processes (deterministic)."""
    per_image = SECONDS_PER_IMAGE + (SECONDS_PER_IMAGE_BYTES if include_images else 0.0)
    return round(BASE_SECONDS + per_image * images, 3)


@dataclass(frozen=True, slots=True)
class FrozenImage:
    """An image as the export saw it at creation: what its ZIP is built from."""

    id: str
    filename: str
    directory_path: str
    content_type: str
    width: int | None
    height: int | None
    status: str
    split: str | None
    tags: tuple[str, ...]
    annotations: tuple[dict[str, Any], ...]
    content: bytes | None
    blob: str | None = None
    """What an image without uploaded bytes is drawn from (:func:`drawn_image`): its
    bytes outlive it in the export."""

    @property
    def path(self) -> str:
        directory = self.directory_path.strip("/")
        return f"{directory}/{self.filename}" if directory else self.filename


@dataclass
class ExportJob:
    """An export's life on the clock, beside the export itself."""

    seq: int
    runs_before: int
    """Training runs created before this export (orders jobs created at one instant)."""
    organize_by_split: bool
    processing_at: float
    ends_at: float
    failure: str | None
    """The error the export fails with when processing ends; ``None``: it completes."""
    contents: tuple[FrozenImage, ...]
    classes: tuple[str, ...] = ()
    """The dataset's class names when the export was made (the ZIP lists them)."""
    completed_at: float | None = None
    user_id: str | None = None


class ExportService:
    """Create, find, delete exports and keep their lifecycle on the clock."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.jobs: dict[str, ExportJob] = {}
        self.seq = 0
        self._active: list[Export] = []
        self._next_event = math.inf
        self.failures = FailureQueue("export", DEFAULT_FAILURE)
        """The failures armed for the next exports (``fake.faults.fail_export``)."""
        # Each dataset's exports by name, kept by `restore` and `_forget` (the only two
        # places that add to or take from `world.exports`).
        self._named: dict[str, dict[str, Export]] = {}
        # Each organization's exports in jobs-feed order (see `feeds.export_job`), and
        # the same per status: a listing filtered by status reads one page of its own.
        self._ordered: dict[str, SortedIndex[Export]] = {}
        self._by_status: dict[tuple[str, str], SortedIndex[Export]] = {}
        # Each dataset's exports in the same order, whole and per status: a listing by
        # dataset reads one page of its own, however many exports the dataset holds.
        self._of_dataset: dict[str, SortedIndex[Export]] = {}
        self._of_dataset_by_status: dict[tuple[str, str], SortedIndex[Export]] = {}
        # Each completed export's archive length (an export never changes once made), and
        # the image files of those that carry them, as first read for the size or the ZIP.
        self._sizes: dict[str, int] = {}
        self._files: dict[str, tuple[bytes, ...]] = {}

    # ── knobs for tests ──

    def fail_next(self, message: str = DEFAULT_FAILURE, *, count: int = 1) -> None:
        """Make the next ``count`` exports fail with ``message`` when processing ends."""
        self.failures.arm(message, count=count)

    # ── writes ──

    def request(
        self,
        key: ApiKey,
        dataset_ref: str,
        name: str,
        *,
        export_format: str,
        include_images: bool,
        status_filter: str | None,
        class_filter: Sequence[str] | None,
        organize_by_split: bool,
    ) -> Export:
        """Create an export on behalf of an API key (``member`` or higher)."""
        dataset = self._world.dataset(key.organization_id, dataset_ref)
        # Checked here, not in `create`: a test's `add_export` may stage a cold dataset's.
        self._world.cold_storage.require_warm(dataset, "an export")
        return self.create(
            dataset,
            name,
            export_format=export_format,
            include_images=include_images,
            status_filter=status_filter,
            class_filter=class_filter,
            organize_by_split=organize_by_split,
            user_id=key.created_by,
        )

    def job_order(self, export: Export) -> JobOrder:
        """Where the export sorts among the jobs: after the runs created before it."""
        job = self.jobs[export.id]
        return job_order(EXPORT_JOB, export.created_at, job.runs_before, job.seq)

    def of_organization(self, organization_id: str) -> list[Export]:
        """The organization's exports in jobs-feed order, oldest first (read only)."""
        ordered = self._ordered.get(organization_id)
        return ordered.oldest if ordered is not None else []

    def active(self, organization_id: str) -> list[Export]:
        """The organization's exports still pending or processing."""
        return [
            e
            for e in self._active
            if e.organization_id == organization_id and e.status not in FINAL_STATUSES
        ]

    def of_dataset(self, dataset_id: str) -> dict[str, Export]:
        """The dataset's exports by name, oldest first (read only: kept by this service)."""
        return self._named.get(dataset_id, {})

    def create(
        self,
        dataset: Dataset,
        name: str,
        *,
        export_format: str = "pictograph",
        include_images: bool = False,
        status_filter: str | None = None,
        class_filter: Sequence[str] | None = None,
        organize_by_split: bool = False,
        status: str = "pending",
        user_id: str | None = None,
    ) -> Export:
        """Freeze the dataset's images that match the filters into a new export.

        ``status_filter`` matches the image status exactly (``None``: every stage); a value
        that is no stage, ``"all"`` or ``"in_progress"`` as old agent tools sent them,
        matches no image, as on the API (the SDK's ``create_export`` tool maps ``"all"`` to
        ``None`` for that reason); ``class_filter`` keeps images with at least one
        annotation of those classes.
        ``status`` is where the export starts: ``pending`` and ``processing`` go on along
        the clock, ``completed`` and ``failed`` are final at once.
        """
        world = self._world
        if export_format not in EXPORT_FORMATS:
            raise InvalidRequest(
                f"Unknown export format '{export_format}': choose one of "
                f"{', '.join(EXPORT_FORMATS)}."
            )
        if status not in EXPORT_STATUSES:
            raise ValueError(f"unknown export status {status!r}; choose one of {EXPORT_STATUSES}")
        if name in self.of_dataset(dataset.id):
            raise Conflict(f"An export named '{name}' already exists in dataset '{dataset.name}'")
        wanted = status_filter
        classes = _selected(class_filter)
        images = [
            image
            for image in world.dataset_images(dataset)
            if (wanted is None or image.status == wanted)
            and (classes is None or any(a.get("name") in classes for a in image.annotations))
        ]
        contents = tuple(_freeze(image, classes, world) for image in images)
        now = world.now()
        export = Export(
            id=world.ids.uuid(),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            name=name,
            format=export_format,
            include_images=include_images,
            status=status,
            status_filter=wanted,
            class_filter=list(class_filter) if class_filter else None,
            image_ids=[image.id for image in images],
            annotation_count=sum(len(frozen.annotations) for frozen in contents),
            created_at=now,
            error_message="Export failed." if status == "failed" else None,
        )
        if status in FINAL_STATUSES:
            processing_at = ends_at = now
            failure = export.error_message
        else:
            processing_at = now + (QUEUE_SECONDS if status == "pending" else 0.0)
            ends_at = processing_at + processing_seconds(len(images), include_images)
            failure = self.failures.take()
        self.seq += 1
        job = ExportJob(
            seq=self.seq,
            runs_before=len(world.runs),
            organize_by_split=organize_by_split,
            processing_at=processing_at,
            ends_at=ends_at,
            failure=failure,
            contents=contents,
            classes=tuple(dataset.class_names),
            completed_at=now if status in FINAL_STATUSES else None,
            user_id=user_id,
        )
        self.restore(export, job)
        return export

    def adopt(
        self,
        export: Export,
        as_exported: Mapping[str, Mapping[str, Any]] | None = None,
        removed: Mapping[str, Mapping[str, Any]] | None = None,
        **lifecycle: Any,
    ) -> ExportJob:
        """Restore a saved export: its contents re-frozen from its images, then its job.

        ``as_exported`` holds, per image id, the fields an image had when the export was
        taken that it no longer has (:func:`changed_since`): labels edited since stay
        out of the export. ``removed`` holds, per image id, the images deleted for good
        since, as the export froze them (:func:`removed_since`). ``lifecycle`` holds the
        :class:`ExportJob` fields other than ``contents``.
        """
        classes = _selected(export.class_filter)
        images = self._world.images
        then = as_exported or {}
        gone = removed or {}
        contents = tuple(
            _as_then(_freeze(images[i], classes, self._world), then.get(i))
            if i in images
            else _as_removed(i, gone[i])
            for i in export.image_ids
            if i in images or i in gone
        )
        lifecycle["classes"] = tuple(lifecycle.get("classes", ()))
        job = ExportJob(contents=contents, **lifecycle)
        self.restore(export, job)
        return job

    def restore(self, export: Export, job: ExportJob) -> None:
        """Put an export and its job into the world (creation, or loading a scenario)."""
        self._world.exports[export.id] = export
        self._named.setdefault(export.dataset_id, {}).setdefault(export.name, export)
        self.jobs[export.id] = job
        index_in(self._ordered, export.organization_id, self.job_order).add(export)
        index_in(self._of_dataset, export.dataset_id, self.job_order).add(export)
        self._filed(export)
        self.seq = max(self.seq, job.seq)
        if export.status not in FINAL_STATUSES:
            self._active.append(export)
            self._next_event = min(self._next_event, _next_time(export, job))
            self._world.agenda.expect(self._next_event)
        self._size_when_done(export)

    def delete(self, key: ApiKey, export: Export) -> None:
        """Delete an export (``admin`` or higher); its runs keep their own record."""
        self._forget(export)

    def bulk_delete(self, key: ApiKey, export_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Delete the organization's exports among ``export_ids``; report the rest."""
        if not export_ids:
            raise InvalidRequest(
                "export_ids must name at least one export.",
                errors=[
                    field_error(
                        ("body", "export_ids"), "List should have at least 1 item", "too_short"
                    )
                ],
            )
        succeeded: list[str] = []
        not_found: list[str] = []
        for export_id in distinct_ids(export_ids):
            export = self._world.exports.get(export_id.lower())
            if export is None or export.organization_id != key.organization_id:
                not_found.append(export_id)
                continue
            self._forget(export)
            succeeded.append(export_id)
        return succeeded, not_found

    def _filed(self, export: Export) -> None:
        """File the export under its status (it must be out of every other's index)."""
        slot = (export.organization_id, export.status)
        index_in(self._by_status, slot, self.job_order).add(export)
        held = (export.dataset_id, export.status)
        index_in(self._of_dataset_by_status, held, self.job_order).add(export)

    def _unfiled(self, export: Export) -> None:
        self._by_status[(export.organization_id, export.status)].remove(export)
        self._of_dataset_by_status[(export.dataset_id, export.status)].remove(export)

    def _move(self, export: Export, status: str) -> None:
        """Change the export's status, and the index it is filed under with it."""
        self._unfiled(export)
        export.status = status
        self._filed(export)

    def _forget(self, export: Export) -> None:
        del self._world.exports[export.id]
        self._ordered[export.organization_id].remove(export)
        self._of_dataset[export.dataset_id].remove(export)
        self._unfiled(export)
        named = self._named.get(export.dataset_id, {})
        if named.get(export.name) is export:
            del named[export.name]
            if not named:
                del self._named[export.dataset_id]
        self.discard(export)

    def discard(self, export: Export) -> None:
        """Drop the lifecycle of an export that left the world (deleted with its dataset)."""
        self.jobs.pop(export.id, None)
        self._sizes.pop(export.id, None)
        self._files.pop(export.id, None)
        if export in self._active:
            self._active.remove(export)

    # ── reads ──

    def job(self, export: Export) -> ExportJob:
        return self.jobs[export.id]

    def by_id(self, key: ApiKey, ref: str) -> Export:
        """The organization's export with this UUID, or 404."""
        export = self._world.exports.get(ref.lower())
        if export is None or export.organization_id != key.organization_id:
            raise NotFound(
                f"Export '{ref}' not found (an export is addressed by its id, or by its "
                f"name with ?dataset=<dataset name or id>)"
            )
        return export

    def by_name(self, key: ApiKey, dataset_ref: str, name: str) -> Export:
        """The export called ``name`` in the dataset (a name or id); its id works too."""
        dataset = self._world.dataset(key.organization_id, dataset_ref)
        named = self._named.get(dataset.id, {}).get(name)
        if named is not None:
            return named
        by_id = self._world.exports.get(name.lower())
        if by_id is not None and by_id.dataset_id == dataset.id:
            return by_id
        raise NotFound(f"Export '{name}' not found in dataset '{dataset.name}'")

    def listing(
        self, key: ApiKey, *, dataset_ref: str | None, status: str | None
    ) -> Sequence[Export]:
        """The organization's exports, newest first, filtered (a view: do not change it).

        A page of it costs the page, however it is filtered (each filter has its index).
        """
        org_id = key.organization_id
        if dataset_ref is None:
            found = (
                self._ordered.get(org_id)
                if status is None
                else self._by_status.get((org_id, status))
            )
            return found.newest if found is not None else []
        try:
            dataset = self._world.dataset(org_id, dataset_ref)
        except NotFound:
            return []
        found = (
            self._of_dataset.get(dataset.id)
            if status is None
            else self._of_dataset_by_status.get((dataset.id, status))
        )
        return found.newest if found is not None else []

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When an export moves on next, at the earliest (for the world's agenda)."""
        return self._next_event

    def advance_to(self, now: float) -> None:
        """Start and end, in time order, every export whose moment is at or before ``now``."""
        if now < self._next_event:
            return
        exports = self._world.exports
        for gone in [e for e in self._active if exports.get(e.id) is not e]:
            # Deleted with its dataset: it ends quietly, with no one left to tell.
            self.discard(gone)
        for export in sorted(
            self._active, key=lambda e: (self.jobs[e.id].ends_at, self.jobs[e.id].seq)
        ):
            job = self.jobs[export.id]
            if export.status == "pending" and now >= job.processing_at:
                self._move(export, "processing")
            if export.status == "processing" and now >= job.ends_at:
                self._end(export, job)
        self._active = [e for e in self._active if e.status not in FINAL_STATUSES]
        self._next_event = min(
            (_next_time(e, self.jobs[e.id]) for e in self._active), default=math.inf
        )
        self._world.agenda.expect(self._next_event)

    def _end(self, export: Export, job: ExportJob) -> None:
        at = job.ends_at
        if job.failure is None:
            self._move(export, "completed")
        else:
            self._move(export, "failed")
            export.error_message = job.failure
        job.completed_at = at
        self._size_when_done(export)
        self._world.feeds.export_ended(export, at, job.user_id)

    # ── the archive ──

    def archive(self, export: Export) -> bytes:
        """The export's ZIP (built once, from the images as they were at creation)."""
        job = self.jobs[export.id]
        return self._world.storage.cached(
            (export.id, "export.zip"),
            lambda: build_archive(self._world, export, job, self._image_files(export, job)),
        )

    def archive_size(self, export: Export) -> int:
        """The length of the export's ZIP in bytes, without building it.

        Summed from the archive's layout (its entries are stored, so each one's length is
        known before it is written). An export without image files is sized once, when it
        completes; one with image files on its first read, from the images' bytes.
        """
        size = self._sizes.get(export.id)
        if size is None:
            job = self.jobs[export.id]
            size = self._sizes[export.id] = sized_archive(
                self._world, export, job, self._image_files(export, job)
            )
        return size

    def _size_when_done(self, export: Export) -> None:
        # Sized as it completes, so no read pays for it; with image files, the first
        # read does (gathering them here would make the clock's catch-up pay instead).
        if export.status == "completed" and not export.include_images:
            self.archive_size(export)

    def _image_files(self, export: Export, job: ExportJob) -> Callable[[], tuple[bytes, ...]]:
        """The image files the ZIP holds, gathered once (the size and the bytes agree)."""

        def gather() -> tuple[bytes, ...]:
            files = self._files.get(export.id)
            if files is None:
                files = self._files[export.id] = tuple(
                    _image_bytes(self._world, image) for image in job.contents
                )
            return files

        return gather

    def download_path(self, export: Export) -> str:
        """Mint a signed storage path for the export's ZIP (one per request, as the API does)."""
        return self._world.storage.sign(
            f"export/{export.id}", _zip_name(export), "application/zip", self._zip(export)
        )

    def listed_path(self, export: Export, expires_at: float) -> str | None:
        """The signed path a read of the export reports (``download_url``), valid until the
        export's download window closes; ``None`` once it has."""
        if self._world.now() >= expires_at:
            return None
        return self._world.storage.sign_lasting(
            f"export/{export.id}",
            _zip_name(export),
            "application/zip",
            self._zip(export),
            expires_at,
        )

    def _zip(self, export: Export) -> Callable[[], bytes | None]:
        """What a signed URL of the export's ZIP fetches: nothing once it is deleted."""
        return lambda: self.archive(export) if export.id in self.jobs else None


def _zip_name(export: Export) -> str:
    """The ZIP's file name: the export's name, safe in a URL and on a disk."""
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", export.name).strip("_") or "export"
    return f"{filename}.zip"


def _next_time(export: Export, job: ExportJob) -> float:
    return job.processing_at if export.status == "pending" else job.ends_at


KEPT = ("filename", "directory_path", "status", "split", "tags", "annotations")
"""What of an image an export keeps that the image may change after it."""


def changed_since(job: ExportJob, world: World, export: Export) -> dict[str, dict[str, Any]]:
    """Per image id, the kept fields whose value the export holds and the image no longer
    does (JSON values): what a saved world needs to freeze the export again as it was."""
    classes = _selected(export.class_filter)
    changed: dict[str, dict[str, Any]] = {}
    for frozen in job.contents:
        image = world.images.get(frozen.id)
        if image is None:
            continue
        now = _freeze(image, classes, world)
        diff = {
            name: list(value) if isinstance(value, tuple) else value
            for name in KEPT
            if (value := getattr(frozen, name)) != getattr(now, name)
        }
        if diff:
            changed[frozen.id] = diff
    return changed


REMOVED = (*KEPT, "content_type", "width", "height", "blob")
"""What of an image deleted for good an export keeps: all it needs of it, uploaded bytes
aside (``blob`` draws the bytes of one added by count again; ``null`` for an upload)."""


def removed_since(job: ExportJob, world: World) -> dict[str, dict[str, Any]]:
    """Per image id, the images of the export deleted for good since, as it froze them
    (JSON values): a saved world has no image left to freeze them from again."""
    return {
        frozen.id: {
            name: list(value) if isinstance(value, tuple) else value
            for name in REMOVED
            for value in (getattr(frozen, name),)
        }
        for frozen in job.contents
        if frozen.id not in world.images
    }


def _as_removed(image_id: str, record: Mapping[str, Any]) -> FrozenImage:
    # Snapshots saved before `blob` was kept lack it: their images come back undrawn.
    values: dict[str, Any] = {name: record.get(name) for name in REMOVED}
    values["tags"] = tuple(values["tags"])
    values["annotations"] = tuple(dict(a) for a in values["annotations"])
    return FrozenImage(id=image_id, content=None, **values)


def _as_then(frozen: FrozenImage, then: Mapping[str, Any] | None) -> FrozenImage:
    if not then:
        return frozen
    values = {name: then[name] for name in KEPT if name in then}
    for name in ("tags", "annotations"):
        if name in values:
            values[name] = tuple(values[name])
    return replace(frozen, **values)


def _selected(class_filter: Sequence[str] | None) -> set[str] | None:
    """The classes an export keeps the annotations of; ``None``: every class."""
    return set(class_filter) if class_filter else None


def export_classes(export: Export, taken_with: Iterable[str]) -> list[str]:
    """The classes an export carries, each once: those it was taken with, narrowed by its
    class filter (what its archive lists and what a run trained on it learns)."""
    selected = _selected(export.class_filter)
    return [name for name in dict.fromkeys(taken_with) if selected is None or name in selected]


def _freeze(image: Image, classes: set[str] | None, world: World) -> FrozenImage:
    annotations = tuple(
        dict(a) for a in image.annotations if classes is None or a.get("name") in classes
    )
    return FrozenImage(
        id=image.id,
        filename=image.filename,
        directory_path=image.directory_path,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        status=image.status,
        split=image.split,
        tags=tuple(image.tags),
        annotations=annotations,
        content=image.content,
        blob=None if image.content is not None else world.image_service.blob(image),
    )


# ── building the ZIP ──


def archive_entries(
    export: Export, job: ExportJob, image_files: Callable[[], tuple[bytes, ...]]
) -> Iterator[tuple[str, bytes]]:
    """Yield the export's ZIP entries in order: names and contents.

    ``pictograph`` (and every format the fake does not model in detail) holds one JSON
    file per image; ``coco`` one ``annotations.json`` per split directory (boxes, and
    polygons' masks); the ``yolo``
    family one label file per image and a ``data.yaml``; ``pascal_voc`` one XML file per
    image under ``Annotations/``, as the SDK's ``to_pascal_voc`` writes it. With
    ``organize_by_split`` each image goes under ``train/``, ``valid/`` or ``test/`` (no
    split: ``train/``).
    ``image_files`` is called only when the export carries its images.
    """
    # A name held by classes of two types (a `car` box and a `car` polygon) is one class.
    classes = export_classes(export, job.classes)
    yolo = export.format in _YOLO_FORMATS
    voc = export.format == "pascal_voc"
    files: dict[str, bytes] = {}
    if export.include_images:
        files = dict(zip((image.id for image in job.contents), image_files(), strict=True))
    groups: dict[str, list[FrozenImage]] = {}
    for image in job.contents:
        prefix = _split_prefix(image) if job.organize_by_split else ""
        groups.setdefault(prefix, []).append(image)
    entries = []
    for prefix, images in groups.items():
        if export.format == "coco":
            yield f"{prefix}annotations.json", _json(_coco(images, classes))
        # YOLO pairs an image with its labels by the stem: `a.png` and `a.jpg` of one
        # directory would share `a.txt`, so the later one is stored as `a-1.png`.
        stems: set[str] = set()
        for image in images:
            entry: dict[str, Any] = {"id": image.id, "path": image.path, "split": image.split}
            stored = image.path
            if yolo or voc:  # each pairs its file with an image by the stem
                stored = _unshared_stem(image.path, stems)
            if yolo:
                label = f"{prefix}labels/{_stem(stored)}.txt"
                yield label, _yolo_labels(image, classes, export.format).encode()
                entry["labels"] = label
            elif voc:
                name = f"{prefix}Annotations/{_stem(stored)}.xml"
                yield name, _pascal_voc(image, stored)
                entry["annotations"] = name
            elif export.format != "coco":
                name = f"{prefix}annotations/{image.path}.json"
                yield name, _json(_pictograph(image))
                entry["annotations"] = name
            if export.include_images:
                name = f"{prefix}images/{stored}"
                yield name, files[image.id]
                entry["image"] = name
            entries.append(entry)
    if yolo:
        yield "data.yaml", _yolo_data(classes, sorted(groups) if job.organize_by_split else None)
    manifest = {
        "schema_version": 1,
        "export": {
            "id": export.id,
            "name": export.name,
            "format": export.format,
            "dataset_id": export.dataset_id,
            "dataset_name": export.dataset_name,
            "status_filter": export.status_filter,
            "class_filter": export.class_filter,
            "include_images": export.include_images,
            "organize_by_split": job.organize_by_split,
        },
        "classes": classes,
        "image_count": len(job.contents),
        "annotation_count": export.annotation_count,
        "images": entries,
    }
    yield "manifest.json", _json(manifest)


def build_archive(
    world: World, export: Export, job: ExportJob, image_files: Callable[[], tuple[bytes, ...]]
) -> bytes:
    """Write the export's ZIP: a manifest, the annotations in the export's format, images.

    Every entry is stored, not deflated: image files are compressed already, and a
    stored entry's length is known before it is written, so :func:`sized_archive` gives
    the archive's length without building it.
    """
    moment = world.clock.start + timedelta(seconds=export.created_at)
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in archive_entries(export, job, image_files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            # Pinned, or the bytes would depend on the platform that wrote them.
            info.create_system = 3
            archive.writestr(info, content)
    return buffer.getvalue()


def sized_archive(
    world: World, export: Export, job: ExportJob, image_files: Callable[[], tuple[bytes, ...]]
) -> int:
    """The length :func:`build_archive` gives, summed from the ZIP layout.

    Per stored entry: a local header (30 bytes + the name) and the content, then a
    central directory record (46 bytes + the name); then the 22-byte end record. An
    archive past the limits where Python's ``zipfile`` writes ZIP64 records (65,535
    entries; an offset, or 1.05 times an entry's length, past ``zipfile.ZIP64_LIMIT``,
    2 GiB, not the format's 4 GiB) is built and measured instead.
    """
    # Read on each call: the ZIP is written by `zipfile`, under the limits it holds now.
    limit = zipfile.ZIP64_LIMIT
    total = entries = 0
    large = False
    for name, content in archive_entries(export, job, image_files):
        total += _ENTRY_OVERHEAD + 2 * len(name.encode()) + len(content)
        entries += 1
        large = large or len(content) * _ZIP64_ENTRY_MARGIN > limit
    if large or entries > zipfile.ZIP_FILECOUNT_LIMIT or total > limit:
        return len(build_archive(world, export, job, image_files))
    return total + _END_RECORD


def _json(document: Any) -> bytes:
    # On one line: an `indent` turns json's C encoder off, and its Python one took half
    # of an export's sizing and building (each pass encodes every image's file).
    return json.dumps(document, ensure_ascii=False).encode()


def _split_prefix(image: FrozenImage) -> str:
    return _SPLIT_DIRECTORIES.get(image.split or "train", "train") + "/"


def _stem(path: str) -> str:
    head, dot, _ = path.rpartition(".")
    # A dot in a directory, or leading a hidden file's name, starts no suffix.
    suffix = path[len(head) :]
    return head if dot and head and not head.endswith("/") and "/" not in suffix else path


def _unshared_stem(path: str, stems: set[str]) -> str:
    """``path``, or ``stem-N.ext`` for the first N whose stem ``stems`` does not hold yet
    (which it then does)."""
    stem = _stem(path)
    suffix = path[len(stem) :]
    candidate, n = stem, 0
    while candidate in stems:
        n += 1
        candidate = f"{stem}-{n}"
    stems.add(candidate)
    return candidate + suffix


def _yolo_data(classes: list[str], splits: list[str] | None) -> bytes:
    """``data.yaml``: where the images of each split are, and the classes by index.

    Paths are relative to the file (Ultralytics reads them so); without splits, every
    image trains and validates alike.
    """
    if splits is None:
        where = {"train": "images", "val": "images"}
    else:
        named = {directory.rstrip("/"): key for key, directory in _SPLIT_DIRECTORIES.items()}
        where = {named[prefix.rstrip("/")]: f"{prefix}images" for prefix in splits}
        # A split with no images still needs its key for training to start.
        where.setdefault("train", "train/images")
        where.setdefault("val", where["train"])
    paths = "".join(f"{key}: {where[key]}\n" for key in ("train", "val", "test") if key in where)
    names = "".join(f"  {i}: {_yaml_quoted(n)}\n" for i, n in enumerate(classes))
    return f"{paths}nc: {len(classes)}\nnames:\n{names}".encode()


def _yaml_quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as ``text``: printable
    ASCII as it is, every other character escaped, past U+FFFF as one eight-digit
    escape (JSON's surrogate pairs of four-digit escapes read as two characters)."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _pascal_voc(image: FrozenImage, stored: str) -> bytes:
    """One image's Pascal VOC XML, as the SDK's ``to_pascal_voc`` writes it: each box,
    and each polygon's enclosing box, at whole pixels (VOC holds no other shape, so
    polylines and keypoints are left out)."""
    from xml.etree import ElementTree

    root = ElementTree.Element("annotation")
    ElementTree.SubElement(root, "directory").text = image.directory_path
    ElementTree.SubElement(root, "filename").text = stored.rpartition("/")[2]
    size = ElementTree.SubElement(root, "size")
    ElementTree.SubElement(size, "width").text = str(image.width or 0)
    ElementTree.SubElement(size, "height").text = str(image.height or 0)
    ElementTree.SubElement(size, "depth").text = "3"
    for annotation in image.annotations:
        box = _box(annotation)
        if box is None or annotation.get("type") in ("polyline", "keypoint"):
            continue
        x, y, w, h = box
        found = ElementTree.SubElement(root, "object")
        ElementTree.SubElement(found, "name").text = str(annotation.get("name", ""))
        ElementTree.SubElement(found, "pose").text = "Unspecified"
        ElementTree.SubElement(found, "truncated").text = "0"
        ElementTree.SubElement(found, "difficult").text = "0"
        corners = ElementTree.SubElement(found, "bndbox")
        for tag, value in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
            ElementTree.SubElement(corners, tag).text = str(round(value))
    return ElementTree.tostring(root, encoding="unicode").encode()


def _pictograph(image: FrozenImage) -> dict[str, Any]:
    return {
        "image": image.filename,
        "image_id": image.id,
        "directory_path": image.directory_path,
        "width": image.width,
        "height": image.height,
        "status": image.status,
        "split": image.split,
        "tags": list(image.tags),
        "annotations": list(image.annotations),
    }


def _box(annotation: dict[str, Any]) -> tuple[float, float, float, float] | None:
    box = annotation.get("bounding_box")
    if not isinstance(box, dict):
        return None
    try:
        return float(box["x"]), float(box["y"]), float(box["w"]), float(box["h"])
    except (KeyError, TypeError, ValueError):
        return None


def _point(annotation: dict[str, Any]) -> tuple[float, float] | None:
    point = annotation.get("keypoint")
    if not isinstance(point, dict):
        return None
    try:
        return float(point["x"]), float(point["y"])
    except (KeyError, TypeError, ValueError):
        return None


def _keypoint_box(
    point: tuple[float, float], image: FrozenImage
) -> tuple[float, float, float, float]:
    """The box a training format gives a lone keypoint, as the SDK's ``trainable_bbox``
    does: a square about the point, each side the larger of 1 px and 5% of the image's
    shorter side, clipped to the image (a 1 px square when its size is unknown)."""
    width, height = float(image.width or 0), float(image.height or 0)
    known = width > 0 and height > 0
    side = max(_MIN_KEYPOINT_SIDE, _KEYPOINT_BOX_FRACTION * min(width, height)) if known else 1.0
    box = (point[0] - side / 2, point[1] - side / 2, side, side)
    return _clipped(box, width, height) if known else box


def _clipped(
    box: tuple[float, float, float, float], width: float, height: float
) -> tuple[float, float, float, float]:
    """``box`` (x, y, w, h) cut to a ``width`` x ``height`` image: empty (a side of 0)
    when it lies wholly outside."""
    x, y, w, h = box
    x0, y0 = max(0.0, min(x, width)), max(0.0, min(y, height))
    x1, y1 = max(0.0, min(x + w, width)), max(0.0, min(y + h, height))
    return x0, y0, x1 - x0, y1 - y0


def _visibility(annotation: dict[str, Any]) -> int:
    """COCO's ``v`` of a placed point: 1 when its attributes call it occluded, else 2
    (the SDK's ``point_visibility``)."""
    attributes = annotation.get("attributes")
    raw = attributes.get("occluded") if isinstance(attributes, dict) else None
    if isinstance(raw, bool):
        return 1 if raw else 2
    return 1 if raw is not None and str(raw).strip().lower() in _OCCLUDED else 2


_MIN_KEYPOINT_SIDE = 1.0
_KEYPOINT_BOX_FRACTION = 0.05
"""A lone keypoint's box: at least 1 px, and 5% of the image's shorter side (the SDK's
``MIN_KEYPOINT_SIDE`` and ``MIN_KEYPOINT_BOX_FRACTION``)."""
_OCCLUDED = frozenset({"true", "1", "yes", "y", "t", "occluded"})
"""How an ``occluded`` attribute spells yes (the SDK's ``_TRUTHY``)."""


def _coco(images: list[FrozenImage], classes: list[str]) -> dict[str, Any]:
    category = {name: i + 1 for i, name in enumerate(classes)}
    coco_images = []
    coco_annotations: list[dict[str, Any]] = []
    for number, image in enumerate(images, start=1):
        coco_images.append(
            {"id": number, "file_name": image.path, "width": image.width, "height": image.height}
        )
        for annotation in image.annotations:
            kind = annotation.get("type")
            # A polyline has no COCO form (the SDK's `to_coco` skips it too).
            if kind == "polyline" or annotation.get("name") not in category:
                continue
            if kind == "keypoint":
                # Each point on its own (no template joins them), as the SDK's `to_coco`
                # writes it: one [x, y, v] triplet and the box a detector can learn.
                point = _point(annotation)
                if point is None:
                    continue
                box = _keypoint_box(point, image)
                shape: dict[str, Any] = {
                    "keypoints": [*point, _visibility(annotation)],
                    "num_keypoints": 1,
                    "segmentation": [],
                }
            else:
                found = _box(annotation)
                if found is None:
                    continue
                box, shape = found, _coco_mask(annotation, image)
            coco_annotations.append(
                {
                    "id": len(coco_annotations) + 1,
                    "image_id": number,
                    "category_id": category[annotation["name"]],
                    "bbox": list(box),
                    "area": box[2] * box[3],
                    **shape,
                    "iscrowd": 0,
                }
            )
    return {
        "images": coco_images,
        "annotations": coco_annotations,
        "categories": [{"id": i, "name": n} for n, i in category.items()],
    }


def _rings(annotation: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """A polygon annotation's rings (the outer one first, then its holes), as points."""
    polygon = annotation.get("polygon")
    paths = polygon.get("paths") if isinstance(polygon, dict) else None
    if annotation.get("type") != "polygon" or not isinstance(paths, list):
        return []
    try:
        rings = [[(float(p["x"]), float(p["y"])) for p in path] for path in paths]
    except (KeyError, TypeError, ValueError):
        return []
    return [ring for ring in rings if len(ring) >= 3]


def _ring_area(ring: list[tuple[float, float]]) -> float:
    """The area a ring encloses (the shoelace formula)."""
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs)) / 2


def _coco_mask(annotation: dict[str, Any], image: FrozenImage) -> dict[str, Any]:
    """A polygon's ``segmentation`` and ``area``; nothing for other shapes.

    COCO's polygon form is a union of rings, with no holes: a polygon with holes is
    written as an (uncompressed) RLE mask of the image instead, as the API does, when
    the image's size is known.
    """
    rings = _rings(annotation)
    if not rings:
        return {}
    outer, holes = rings[0], rings[1:]
    if holes and image.width and image.height:
        return _rle(outer, holes, image.width, image.height)
    area = _ring_area(outer) - sum(_ring_area(hole) for hole in holes)
    return {"segmentation": [[c for point in outer for c in point]], "area": max(area, 0.0)}


def _rle(
    outer: list[tuple[float, float]],
    holes: list[list[tuple[float, float]]],
    width: int,
    height: int,
) -> dict[str, Any]:
    """The mask of ``outer`` less ``holes`` as COCO's uncompressed RLE (column-major runs,
    starting with the zeros).

    A pixel is in the mask when its centre is inside the outer ring and outside every
    hole, so the mask's area is the polygon's (a 50 x 50 square covers 2,500 pixels,
    within its box). PIL's `polygon` fills the boundary's pixels too: a pixel more
    each way.
    """
    from PIL import Image as PILImage

    mask = bytearray(width * height)
    _fill(mask, outer, width, height, b"\x01")
    for hole in holes:  # each on its own: overlapping holes stay holes
        _fill(mask, hole, width, height, b"\x00")
    image = PILImage.frombytes("L", (width, height), bytes(mask))
    # Transposed, each row of bytes is a column of the mask: COCO counts down columns.
    pixels = image.transpose(PILImage.Transpose.TRANSPOSE).tobytes()
    # Runs found with `bytes.find`, not pixel by pixel: a 12-megapixel mask has a few
    # thousand runs and twelve million pixels.
    counts: list[int] = []
    start, end, value = 0, len(pixels), 0
    while start < end:
        stop = pixels.find(_OTHER[value], start)
        stop = end if stop == -1 else stop
        counts.append(stop - start)
        start, value = stop, 1 - value
    area = sum(counts[1::2])
    return {"segmentation": {"size": [height, width], "counts": counts}, "area": float(area)}


def _fill(
    mask: bytearray, ring: list[tuple[float, float]], width: int, height: int, value: bytes
) -> None:
    """Set to ``value`` the pixels of ``mask`` (rows of ``width``) whose centres ``ring``
    encloses, row by row: where each row's centre line crosses the ring, inside between
    odd and even crossings."""
    edges = [
        (x0, y0, x1, y1)
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
        if y0 != y1
    ]
    top = max(0, math.floor(min(y for _, y in ring)))
    bottom = min(height, math.ceil(max(y for _, y in ring)) + 1)
    for row in range(top, bottom):
        centre = row + 0.5
        crossings = sorted(
            x0 + (centre - y0) * (x1 - x0) / (y1 - y0)
            for x0, y0, x1, y1 in edges
            if (y0 <= centre < y1) or (y1 <= centre < y0)
        )
        for enter, leave in zip(crossings[::2], crossings[1::2], strict=False):
            first = max(0, math.ceil(enter - 0.5))
            last = min(width, math.ceil(leave - 0.5))
            if first < last:
                mask[row * width + first : row * width + last] = value * (last - first)


_OTHER = (b"\x01", b"\x00")
"""The byte that ends a run of zeros, and the one that ends a run of ones."""


def _yolo_labels(image: FrozenImage, classes: list[str], format_name: str) -> str:
    """One image's label file: a ``class cx cy w h`` line a shape, normalised to the image.

    A box is clipped to the image (YOLO's coordinates lie in 0 to 1, and Ultralytics
    drops a label file that strays). A polyline has no YOLO form (the SDK's `to_yolo`
    skips it), and a keypoint has one only in ``yolo_pose``: its trainable box.
    """
    width, height = image.width or 1, image.height or 1
    lines = []
    for annotation in image.annotations:
        kind, name = annotation.get("type"), annotation.get("name")
        if kind == "polyline" or name not in classes:
            continue
        if kind == "keypoint":
            point = _point(annotation) if format_name == "yolo_pose" else None
            box = None if point is None else _keypoint_box(point, image)
        else:
            box = _box(annotation)
        if box is None:
            continue
        if image.width and image.height:  # a HEIC image's size is not known: as saved
            box = _clipped(box, width, height)
            if box[2] <= 0 or box[3] <= 0:
                continue  # wholly outside the image
        x, y, w, h = box
        lines.append(
            f"{classes.index(name)} {(x + w / 2) / width:.6f} {(y + h / 2) / height:.6f} "
            f"{w / width:.6f} {h / height:.6f}\n"
        )
    return "".join(lines)


def _image_bytes(world: World, image: FrozenImage) -> bytes:
    """The image's own bytes; for one added by count, the bytes its image route serves."""
    if image.content is not None:
        return image.content
    current = world.images.get(image.id)
    if current is not None:
        return world.image_service.content(current)[0]
    if image.blob is not None:  # deleted for good: drawn again as it was
        from pictograph_testing.world.images import drawn_image

        return drawn_image(image.width, image.height, image.content_type, image.blob)
    return _placeholder_png(image)


def _placeholder_png(image: FrozenImage) -> bytes:
    """A solid-colour PNG of the image's size (its image is gone, so are its own bytes)."""
    width, height = image.width or 64, image.height or 48
    mixed = splitmix64(zlib.crc32(image.id.encode()))
    pixel = bytes(((mixed >> shift) & 0xFF) for shift in (0, 8, 16))
    raw = (b"\x00" + pixel * width) * height

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
