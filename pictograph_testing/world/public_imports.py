"""Imports of public datasets: a private copy of another organization's published dataset.

``datasets.import_public`` starts one (SDK 1.69.124 on). The copy is made at once, with
the source's classes, description, card and license but no images, so its id and name
are in the first reply; the import is ``pending`` until a copier takes it, ``running``
while the image rows copy, and ``completed`` when they are all in (the copies share the
source's files, as the platform references rather than copies them). The images are
the source's as they are when the import completes: unpublishing the source meanwhile
changes nothing, deleting it fails the import. A failed import leaves no copy behind
unless something was put into it meanwhile.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pictograph_testing.catalog import PLANS
from pictograph_testing.world.agenda import LiveJobs
from pictograph_testing.world.entities import PublicImport
from pictograph_testing.world.errors import ImageLimitExceeded, NotFound, under_way
from pictograph_testing.world.failures import FailureQueue
from pictograph_testing.world.ids import suffixed_name
from pictograph_testing.world.job_kinds import PUBLIC_IMPORT_JOB, JobOrder, JobView, job_order

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey, Dataset
    from pictograph_testing.world.state import World

__all__ = [
    "DEFAULT_FAILURE",
    "IMPORTED_SUFFIX",
    "IMPORT_SECONDS",
    "QUEUE_SECONDS",
    "SECONDS_PER_IMAGE",
    "PublicImports",
    "public_import_order",
]

QUEUE_SECONDS = 2.0
"""How long an import stays ``pending`` before its rows start to copy."""
IMPORT_SECONDS = 5.0
"""How long copying an empty dataset takes; each image adds :data:`SECONDS_PER_IMAGE`."""
SECONDS_PER_IMAGE = 0.01
IMPORTED_SUFFIX = " (imported)"
"""What a copy's name gets when the organization already has a dataset of that name."""
DEFAULT_FAILURE = "Copying the dataset's images failed; import it again."
"""The reason an import fails with when a test arms a failure without one."""


class PublicImports:
    """Start imports, end them on the clock, and read them back."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.imports: dict[str, PublicImport] = {}
        """Every import, by id, in the order they were started."""
        self._of_organization: dict[str, list[PublicImport]] = {}
        """Each organization's imports, oldest first (the jobs feed reads them)."""
        self._live: LiveJobs[PublicImport] = LiveJobs(world.agenda)
        self._failing: dict[str, str] = {}
        """Import id -> the reason a failure armed for it ends it with."""
        self.failures = FailureQueue("public import", DEFAULT_FAILURE)
        """The failures armed for the next imports (``fake.faults.fail_public_import``)."""

    # ── reads ──

    def get(self, key: ApiKey, import_id: str) -> PublicImport:
        """The organization's import with this id, or 404 (another's is none of its)."""
        job = self.imports.get(import_id.strip().lower())
        if job is None or job.organization_id != key.organization_id:
            raise NotFound(f"Import '{import_id}' not found")
        return job

    def status(self, job: PublicImport) -> str:
        """``pending`` until a copier takes it, ``running`` until it ends, then how it ended."""
        if job.status in ("completed", "failed"):
            return job.status
        return "pending" if self._world.now() < job.starts_at else "running"

    def copied(self, job: PublicImport) -> int:
        """The images copied so far: all of them once it completed, a share while running."""
        if job.status in ("completed", "failed"):
            return job.image_count
        now = self._world.now()
        if now < job.starts_at or job.ends_at <= job.starts_at:
            return 0
        share = min(1.0, (now - job.starts_at) / (job.ends_at - job.starts_at))
        return min(job.total_images, math.floor(job.total_images * share))

    def of_organization(self, organization_id: str) -> list[PublicImport]:
        """The organization's imports, oldest first."""
        return self._of_organization.get(organization_id, [])

    def live(self, organization_id: str) -> list[PublicImport]:
        """The organization's imports still under way, oldest first."""
        return [j for j in self._live.jobs.values() if j.organization_id == organization_id]

    def job(self, job: PublicImport) -> JobView:
        """The import as the jobs feed shows it (type ``public_dataset_import``)."""
        status = self.status(job)
        return JobView(
            id=job.id,
            type=PUBLIC_IMPORT_JOB,
            status="queued" if status == "pending" else status,
            progress=self.progress(job),
            name=f"Import {job.source_organization}/{job.source_name} as '{job.dataset_name}'",
            dataset_id=job.dataset_id,
            error=job.error,
            created_at=job.created_at,
            updated_at=job.completed_at if job.completed_at is not None else job.created_at,
            completed_at=job.completed_at,
            cancellable=False,  # the API has no cancel for an import of a public dataset
            detail={
                "source": f"{job.source_organization}/{job.source_name}",
                "total_images": job.total_images,
                "copied_images": self.copied(job),
            },
            order=public_import_order(job),
        )

    def progress(self, job: PublicImport) -> float:
        if job.status == "completed":
            return 100.0
        if job.status == "failed" or job.total_images == 0:
            return 0.0
        return round(100.0 * self.copied(job) / job.total_images, 1)

    @property
    def holds_state(self) -> bool:
        """Whether any import was started (a snapshot cannot keep one yet)."""
        return bool(self.imports)

    # ── writes ──

    def start(self, key: ApiKey, organization: str, ref: str, name: str | None) -> PublicImport:
        """Import the public dataset ``organization/ref`` into the key's organization.

        404 for a dataset that is not public (or not there: the two read the same, so no
        private dataset of another organization is ever confirmed); 402
        ``image_limit_exceeded`` when its images would take the organization past its
        plan's limit. Nothing is made when it is refused. The copy is named ``name`` (the
        source's by default), suffixed ``(imported)`` when the organization has that name.
        """
        world = self._world
        source = world.catalog.dataset(organization, ref)
        if source is None:
            raise NotFound(f"Public dataset '{organization}/{ref}' not found")
        org = world.organizations[key.organization_id]
        additional = world.image_service.counts(source).live
        promised = world.images_promised(key.organization_id)
        current = world.images_of(key.organization_id) + promised
        limit = PLANS[org.subscription_tier].max_images
        if current + additional > limit:
            raise ImageLimitExceeded(
                f"Importing '{organization}/{source.name}' ({additional} images) would take "
                f"the organization to {current + additional} images{under_way(promised)}, "
                f"past its '{org.subscription_tier}' plan's limit of {limit}: delete images "
                "or upgrade the plan first.",
                details={
                    "current_images": current,
                    "additional_images": additional,
                    "max_images": limit,
                },
            )
        copy = world.dataset_service.create(
            key.organization_id,
            self._free_name(key.organization_id, name if name is not None else source.name),
            annotation_types=source.annotation_types,
            classes=source.classes,
            description=source.description,
            readme=source.readme,
        )
        copy.license_id = source.license_id
        copy.imported_from = source.id
        world.catalog.fork_made(copy)
        now = world.now()
        starts = now + QUEUE_SECONDS
        job = PublicImport(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            source_id=source.id,
            source_organization=organization,
            source_name=source.name,
            dataset_id=copy.id,
            dataset_name=copy.name,
            total_images=additional,
            seq=len(self.imports),
            runs_before=len(world.runs),
            created_at=now,
            starts_at=starts,
            ends_at=starts + round(IMPORT_SECONDS + SECONDS_PER_IMAGE * additional, 3),
        )
        self.imports[job.id] = job
        self._of_organization.setdefault(job.organization_id, []).append(job)
        failure = self.failures.take()
        if failure is not None:
            self._failing[job.id] = failure
        self._live.start(job)
        return job

    def promised(self, organization_id: str) -> int:
        """The images the organization's imports under way will add (at their end)."""
        return sum(job.total_images for job in self.live(organization_id))

    def _free_name(self, organization_id: str, wanted: str) -> str:
        named = self._world.dataset_service.named
        if named(organization_id, wanted) is None:
            return wanted
        candidate = suffixed_name(wanted, IMPORTED_SUFFIX)
        n = 2
        while named(organization_id, candidate) is not None:
            candidate = suffixed_name(wanted, f" (imported {n})")
            n += 1
        return candidate

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When an import ends next, at the earliest (for the world's agenda)."""
        return self._live.next_event

    def advance_to(self, now: float) -> None:
        """End, in time order, every import due at or before ``now``."""
        for job in self._live.take_due(now):
            self._end(job)

    def _end(self, job: PublicImport) -> None:
        world = self._world
        source = world.datasets.get(job.source_id)
        copy = world.datasets.get(job.dataset_id)
        failure = self._failing.pop(job.id, None)
        if copy is None:
            self._fail(job, None, "The copy was deleted before its images were copied.")
        elif source is None:
            self._fail(
                job,
                copy,
                f"The source dataset '{job.source_organization}/{job.source_name}' was "
                "deleted before its images were copied.",
            )
        elif failure is not None:
            self._fail(job, copy, failure)
        else:
            job.image_count = job.total_images = world.image_service.import_dataset(source, copy)
            job.status = "completed"
            job.completed_at = job.ends_at
            copy.updated_at = job.ends_at

    def _fail(self, job: PublicImport, copy: Dataset | None, reason: str) -> None:
        job.status = "failed"
        job.error = reason
        job.image_count = 0
        job.completed_at = job.ends_at
        world = self._world
        if copy is not None and not copy.image_ids and not world.export_service.of_dataset(copy.id):
            # Nothing of the import is left half made; a copy someone has put images (or
            # exports) into since it was made is theirs now, and stays. (The key is only
            # read for a role, which the API checked when the import was asked for.)
            world.dataset_service.delete(world.default_key, copy)


def public_import_order(job: PublicImport) -> JobOrder:
    """Where an import stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(PUBLIC_IMPORT_JOB, job.created_at, job.runs_before, job.seq)
