"""Connector imports: datasets brought in from a source provider (V7, Roboflow).

The fake has no network, so a source is something a test registers
(``fake.add_connector_source``): a provider, the API key that opens it, its workspace
and its datasets, each with the names of its image files. ``connectors.validate`` lists
a registered source's datasets; any other key is the provider's "Invalid API key".

An import is a job on the virtual clock. When it starts, each dataset asked for gets a
destination dataset in the organization (named as the source names it, numbered when
the name is taken); the import waits :data:`QUEUE_SECONDS`, then copies the datasets
one after another, one image every :data:`SECONDS_PER_IMAGE`, each a real image of the
destination (its bytes made from its id, the source's file name kept). A cancel stops
it where it stands: the images copied so far stay, as the SDK documents. A source that
is gone (removed, or re-registered without the dataset) fails the datasets still to
copy from it, and the import ends in ``error``. A destination that received no image by
the end of a cancelled or failed import is removed, unless something was put into it
meanwhile: nothing of the import is left half made.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pictograph_testing.catalog import PLANS, UPGRADE_URL
from pictograph_testing.world.entities import Image
from pictograph_testing.world.errors import (
    Conflict,
    DatasetCold,
    ImageLimitExceeded,
    InvalidRequest,
    NotFound,
    field_error,
    under_way,
)
from pictograph_testing.world.ids import numbered_name
from pictograph_testing.world.job_kinds import CONNECTOR_IMPORT_JOB, JobOrder, JobView, job_order

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.entities import ApiKey, Dataset
    from pictograph_testing.world.state import World

__all__ = [
    "IMAGE_SIZE",
    "INVALID_KEY",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "QUEUE_SECONDS",
    "SECONDS_PER_IMAGE",
    "ConnectorImport",
    "ConnectorImports",
    "ConnectorSource",
    "ImportRow",
    "RemoteDataset",
    "connector_order",
    "slug_of",
]

PROVIDERS = ("v7", "roboflow")
"""The source providers the SDK names (``ConnectorProvider``)."""
PROVIDER_NAMES = {"v7": "V7", "roboflow": "Roboflow"}
QUEUE_SECONDS = 2.0
"""How long an import waits before its first image is copied."""
SECONDS_PER_IMAGE = 0.125
"""How long one image takes to download from the source and store (8 a second, so the
SDK's default hour-long wait sees 28,800 images in: a large V7 export takes its half hour;
a binary fraction, so image times add up exactly)."""
IMAGE_SIZE = (640, 480)
"""The size of an imported image (its bytes are drawn at it)."""
_JOB_STATUS = {"processing": "running", "error": "failed"}
"""An import's status in the jobs feed's vocabulary (``queued`` until it starts copying)."""
INVALID_KEY = "Invalid API key"
"""What a provider answers a key it does not know with (the SDK's example)."""


@dataclass(slots=True)
class RemoteDataset:
    """One dataset of a source, as the provider lists it."""

    id: str
    name: str
    slug: str
    filenames: tuple[str, ...]
    version: int | None = None
    """Roboflow's dataset version (V7 has none)."""


@dataclass(slots=True)
class ConnectorSource:
    """A provider account a test registered: what its key opens."""

    provider: str
    api_key: str
    workspace: str
    datasets: dict[str, RemoteDataset]
    """By id, in the order they were given."""


@dataclass(slots=True)
class ImportRow:
    """One dataset of an import: where it comes from, where it goes, how far it got."""

    remote_id: str
    name: str
    dataset_id: str
    filenames: tuple[str, ...]
    """The source's files when the import started (what ``total_images`` counts)."""
    status: str = "pending"
    imported: int = 0
    failed: int = 0


@dataclass(slots=True)
class ConnectorImport:
    id: str
    organization_id: str
    provider: str
    api_key: str
    """Kept in memory to reach the source while copying; never sent back."""
    rows: list[ImportRow]
    created_at: float
    seq: int
    """Its place among the world's imports (orders it in the jobs feed)."""
    runs_before: int
    """The runs created before it: at one instant, it is listed above them as a job."""
    status: str = "processing"
    row: int = 0
    """The row being copied (``len(rows)`` once every row ended)."""
    row_started_at: float = 0.0
    """When the current row's first image began to copy."""
    completed_at: float | None = None
    error: str | None = None
    updated_at: float = 0.0
    """When an image was last copied, or the import started or ended."""

    @property
    def total_images(self) -> int:
        return sum(len(row.filenames) for row in self.rows)

    @property
    def imported_images(self) -> int:
        return sum(row.imported for row in self.rows)

    @property
    def failed_images(self) -> int:
        return sum(row.failed for row in self.rows)


class ConnectorImports:
    """Registered sources; imports started, copied on the clock, cancelled and read."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._sources: dict[tuple[str, str], ConnectorSource] = {}
        """(provider, api key) -> the source the key opens."""
        self.imports: dict[str, ConnectorImport] = {}
        """Every import, by id, in the order they were started."""
        self._of_organization: dict[str, list[ConnectorImport]] = {}
        """Organization id -> its imports, oldest first."""
        self._live: dict[str, ConnectorImport] = {}
        self._next_event = math.inf

    # ── sources (what a test registers) ──

    def add_source(
        self, provider: str, api_key: str, workspace: str, datasets: dict[str, Sequence[str]]
    ) -> ConnectorSource:
        """Register (or replace) what ``api_key`` opens at ``provider``."""
        remote: dict[str, RemoteDataset] = {}
        for n, (name, filenames) in enumerate(datasets.items()):
            slug = slug_of(name)
            if provider == "roboflow":
                found = RemoteDataset(f"{workspace}/{slug}", name, slug, tuple(filenames), 1)
            else:
                found = RemoteDataset(str(100_001 + n), name, slug, tuple(filenames))
            remote[found.id] = found
        source = ConnectorSource(provider, api_key, workspace, remote)
        self._sources[(provider, api_key)] = source
        return source

    def remove_source(self, provider: str, api_key: str) -> None:
        """Forget the source: its key is revoked (``KeyError`` when none is registered)."""
        del self._sources[(provider, api_key)]

    def source(self, provider: str, api_key: str) -> ConnectorSource | None:
        return self._sources.get((provider, api_key))

    # ── the organization's capacity ──

    def usage(self, organization_id: str) -> tuple[int, int]:
        """The organization's live images and the bytes they take, as its plan counts
        them (each stored file once, and cold ones half: see ``World.images_of``)."""
        _, stored = self._world.image_service.stored(organization_id)
        return self._world.images_of(organization_id), stored

    # ── reads ──

    def get(self, key: ApiKey, import_id: str) -> ConnectorImport:
        """The organization's import with this id, or 404 (another's is none of its)."""
        job = self.imports.get(import_id.strip().lower())
        if job is None or job.organization_id != key.organization_id:
            raise NotFound(f"Import '{import_id}' not found")
        return job

    def progress(self, job: ConnectorImport) -> float:
        if job.status == "completed":
            return 100.0
        total = job.total_images
        done = job.imported_images + job.failed_images
        return round(100.0 * done / total, 1) if total else 0.0

    def current_dataset(self, job: ConnectorImport) -> str:
        """The name of the dataset being copied (the last one once the import ended)."""
        if not job.rows:
            return ""
        return job.rows[min(job.row, len(job.rows) - 1)].name

    def of_organization(self, organization_id: str) -> list[ConnectorImport]:
        """The organization's imports, oldest first (read only)."""
        return self._of_organization.get(organization_id, [])

    def promised(self, organization_id: str) -> int:
        """The images the organization's imports under way have still to copy."""
        return sum(
            job.total_images - job.imported_images - job.failed_images
            for job in self.live(organization_id)
        )

    def live(self, organization_id: str) -> list[ConnectorImport]:
        """The organization's imports still processing."""
        return [j for j in self._live.values() if j.organization_id == organization_id]

    def job(self, job: ConnectorImport) -> JobView:
        """The import as the jobs feed shows it (type ``connector_import``)."""
        status = _JOB_STATUS.get(job.status, job.status)
        if status == "running" and self._world.now() < job.created_at + QUEUE_SECONDS:
            status = "queued"
        names = ", ".join(row.name for row in job.rows)
        return JobView(
            id=job.id,
            type=CONNECTOR_IMPORT_JOB,
            status=status,
            progress=self.progress(job),
            name=f"Import from {PROVIDER_NAMES[job.provider]}: {names}",
            dataset_id=job.rows[0].dataset_id,
            error=job.error,
            created_at=job.created_at,
            updated_at=job.updated_at,
            completed_at=job.completed_at,
            cancellable=job.status == "processing",
            detail={
                "provider": job.provider,
                "total_images": job.total_images,
                "imported_images": job.imported_images,
                "failed_images": job.failed_images,
            },
            order=connector_order(job),
        )

    @property
    def holds_state(self) -> bool:
        """Whether a source was registered or an import started (a snapshot keeps neither)."""
        return bool(self.imports or self._sources)

    # ── writes ──

    def start(
        self, key: ApiKey, provider: str, api_key: str, wanted: Sequence[str]
    ) -> ConnectorImport:
        """Start importing the source's datasets ``wanted`` (ids) into the key's organization.

        422 for a key the provider refuses or a dataset it does not list; 402
        ``image_limit_exceeded`` when the images would take the organization past its
        plan's limit. Nothing is made when it is refused.
        """
        world = self._world
        source = self.source(provider, api_key)
        if source is None:
            raise InvalidRequest(
                f"{PROVIDER_NAMES[provider]} refused the api_key ({INVALID_KEY}): check it "
                "with connectors.validate and send the key that lists these datasets.",
                errors=[field_error(("body", "api_key"), INVALID_KEY, "value_error")],
            )
        rows: list[RemoteDataset] = []
        for n, remote_id in enumerate(wanted):
            found = source.datasets.get(remote_id)
            if found is None:
                raise InvalidRequest(
                    f"{PROVIDER_NAMES[provider]} workspace '{source.workspace}' has no dataset "
                    f"'{remote_id}': send the id of a dataset connectors.validate lists.",
                    errors=[
                        field_error(("body", "datasets", n, "id"), "Unknown dataset", "value_error")
                    ],
                )
            if found in rows:
                raise InvalidRequest(
                    f"Dataset '{remote_id}' is asked for twice: send each dataset once.",
                    errors=[field_error(("body", "datasets", n, "id"), "Duplicate", "value_error")],
                )
            rows.append(found)
        org = world.organizations[key.organization_id]
        promised = world.images_promised(key.organization_id)
        current = world.images_of(key.organization_id) + promised
        additional = sum(len(r.filenames) for r in rows)
        limit = PLANS[org.subscription_tier].max_images
        if current + additional > limit:
            raise ImageLimitExceeded(
                f"Importing {additional} images would take the organization to "
                f"{current + additional} images{under_way(promised)}, past its "
                f"'{org.subscription_tier}' plan's limit of {limit}: delete images, import "
                "fewer datasets or upgrade the plan.",
                details={
                    "current_images": current,
                    "additional_images": additional,
                    "max_images": limit,
                    "limit_type": "images",
                    "current": current,
                    "limit": limit,
                    "upgrade_url": UPGRADE_URL,
                },
            )
        # Each row becomes a dataset: all of them or none, so the room is checked first.
        world.dataset_service.require_room(key.organization_id, len(rows))
        now = world.now()
        job = ConnectorImport(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            provider=provider,
            api_key=api_key,
            rows=[],
            created_at=now,
            seq=len(self.imports),
            runs_before=len(world.runs),
            row_started_at=now + QUEUE_SECONDS,
            updated_at=now,
        )
        for remote in rows:
            destination = world.dataset_service.create(
                key.organization_id, self._free_name(key.organization_id, remote.name)
            )
            row = ImportRow(remote.id, destination.name, destination.id, remote.filenames)
            job.rows.append(row)
        self.imports[job.id] = job
        self._of_organization.setdefault(key.organization_id, []).append(job)
        self._live[job.id] = job
        self._plan()
        return job

    def cancel(self, key: ApiKey, import_id: str) -> ConnectorImport:
        """Stop a processing import now; 409 for one that already ended."""
        job = self.get(key, import_id)
        if job.status != "processing":
            raise Conflict(
                f"Import '{job.id}' is already {job.status}: only a processing import can "
                "be cancelled."
            )
        now = self._world.now()
        for row in job.rows[job.row :]:
            row.status = "cancelled"
        job.status = "cancelled"
        job.completed_at = job.updated_at = now
        self._finish(job)
        return job

    def _free_name(self, organization_id: str, wanted: str) -> str:
        named = self._world.dataset_service.named
        candidate, n = wanted, 2
        while named(organization_id, candidate) is not None:
            candidate = numbered_name(wanted, n)
            n += 1
        return candidate

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When an import copies its next image, at the earliest (for the world's agenda)."""
        return self._next_event

    def advance_to(self, now: float) -> None:
        """Copy, in time order, every image due at or before ``now``."""
        if now < self._next_event:
            return
        for job in sorted(self._live.values(), key=lambda j: (j.created_at, j.id)):
            self._copy_until(job, now)
        self._plan()

    def _due(self, job: ConnectorImport) -> float:
        """When the import's next image is copied (or its current empty row ends)."""
        row = job.rows[job.row]
        if not row.filenames:
            return job.row_started_at
        return job.row_started_at + (row.imported + 1) * SECONDS_PER_IMAGE

    def _copy_until(self, job: ConnectorImport, now: float) -> None:
        world = self._world
        while job.row < len(job.rows):
            row = job.rows[job.row]
            due = self._due(job)
            if due > now:
                return
            source = self.source(job.provider, job.api_key)
            remote = source.datasets.get(row.remote_id) if source is not None else None
            destination = world.datasets.get(row.dataset_id)
            refusal = self._refusal(job, row, remote, destination)
            if refusal is not None or destination is None:
                row.status = "error"
                row.failed = len(row.filenames) - row.imported
                job.error = job.error or refusal
                self._next_row(job, due)
                continue
            row.status = "processing"
            if row.filenames:
                self._copy(destination, row.filenames[row.imported], due)
                row.imported += 1
                job.updated_at = due
            if row.imported == len(row.filenames):
                row.status = "completed"
                self._next_row(job, due)
        job.status = "error" if job.error is not None else "completed"
        job.completed_at = job.updated_at = job.row_started_at
        self._finish(job)

    def _refusal(
        self,
        job: ConnectorImport,
        row: ImportRow,
        remote: RemoteDataset | None,
        destination: Dataset | None,
    ) -> str | None:
        """Why the row's next image cannot be copied, if it cannot: the source gone, the
        destination deleted, or moved to cold storage (whose files take no upload) since
        the import started."""
        if destination is None:
            return f"The destination dataset '{row.name}' was deleted during the import."
        if remote is None:
            return (
                f"The {PROVIDER_NAMES[job.provider]} dataset '{row.name}' could not be "
                "read: the source is gone or the key no longer opens it."
            )
        try:
            self._world.cold_storage.require_warm(destination, "the import")
        except DatasetCold as cold:
            return cold.message
        return None

    def _next_row(self, job: ConnectorImport, at: float) -> None:
        job.row += 1
        job.row_started_at = at

    def _copy(self, destination: Dataset, filename: str, at: float) -> None:
        world = self._world
        name = filename
        n = 2
        while world.image_service.find(destination, "/", name) is not None:
            stem, dot, suffix = filename.rpartition(".")
            name = f"{stem}-{n}.{suffix}" if dot else f"{filename}-{n}"
            n += 1
        width, height = IMAGE_SIZE
        world.image_service.add(
            destination,
            Image(
                id=world.ids.uuid(),
                organization_id=destination.organization_id,
                dataset_id=destination.id,
                filename=name,
                directory_path="/",
                content_type="image/png" if name.lower().endswith(".png") else "image/jpeg",
                file_size=0,
                width=width,
                height=height,
                created_at=at,
            ),
        )
        destination.updated_at = at

    def _finish(self, job: ConnectorImport) -> None:
        """Take the ended import off the clock; remove the destinations it left empty."""
        self._live.pop(job.id, None)
        if job.status == "completed":
            return
        world = self._world
        for row in job.rows:
            destination = world.datasets.get(row.dataset_id)
            if (
                destination is not None
                and not destination.image_ids
                and not world.export_service.of_dataset(destination.id)
            ):
                # The key is only read for a role, which the API checked at the start.
                world.dataset_service.delete(world.default_key, destination)

    def _plan(self) -> None:
        self._next_event = min((self._due(job) for job in self._live.values()), default=math.inf)
        self._world.agenda.expect(self._next_event)


def connector_order(job: ConnectorImport) -> JobOrder:
    """Where an import stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(CONNECTOR_IMPORT_JOB, job.created_at, job.runs_before, job.seq)


def slug_of(name: str) -> str:
    """A source dataset's slug, as the providers make them (``Road Signs``: ``road-signs``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "dataset"
