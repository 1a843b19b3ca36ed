"""Cold storage: freezing a dataset's image files, restoring them, and what a cold
dataset cannot do.

A freeze is free and a restore is charged when it succeeds (SDK 1.69.58 on; the quote
is the ``restore_estimate`` read while cold). Both are background jobs on the clock:
while one runs, and while the dataset is cold, the dataset's image files are neither
read nor written (:meth:`ColdStorage.require_warm`), as the platform's own rule has it
(the SDK's CLI, ``cli/_inputs.py``: "a dataset's images are read only while it is
standard AND idle"). Browsing and annotating go on as usual.

The state lives on the :class:`Dataset` itself (``storage_*``), so a saved scenario
keeps a transition under way and this service only keeps the order they end in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pictograph_testing.catalog import COLD_STORAGE
from pictograph_testing.world.billing import usd_pair
from pictograph_testing.world.errors import Conflict, DatasetCold, InsufficientCredits

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Dataset
    from pictograph_testing.world.state import World

__all__ = [
    "FREEZE_SECONDS",
    "RESTORE_SECONDS",
    "SECONDS_PER_IMAGE",
    "STORAGE_CLASSES",
    "STORAGE_STATES",
    "ColdStorage",
    "RestoreEstimate",
]

STORAGE_CLASSES = ("standard", "coldline")
STORAGE_STATES = ("idle", "freezing", "restoring")
FREEZE_SECONDS = 10.0
"""How long a freeze of an empty dataset takes; each image adds :data:`SECONDS_PER_IMAGE`."""
RESTORE_SECONDS = 30.0
"""How long a restore of an empty dataset takes (reading cold files back is slower)."""
SECONDS_PER_IMAGE = 0.02
_DAY = 86_400.0
_GB = 1_000_000_000
_RESTORE_OPERATION = "dataset_restore"


@dataclass(frozen=True)
class RestoreEstimate:
    """What restoring a cold dataset now costs, line by line (µUSD, each marked up)."""

    cold_bytes: int
    cold_image_count: int
    days_in_cold: float
    min_storage_days: float
    monthly_savings_micro_usd: int
    retrieval_micro_usd: int
    early_delete_micro_usd: int
    operations_micro_usd: int

    @property
    def total_micro_usd(self) -> int:
        return self.retrieval_micro_usd + self.early_delete_micro_usd + self.operations_micro_usd


class ColdStorage:
    """Start freezes and restores, end them on the clock, and refuse what a cold dataset
    cannot do."""

    def __init__(self, world: World) -> None:
        self._world = world
        # The datasets with a transition under way, by id (its end is on the dataset).
        self._moving: dict[str, Dataset] = {}
        self._next_event = math.inf
        # Each organization's datasets in cold storage, by id: what counts half.
        self._cold: dict[str, dict[str, Dataset]] = {}

    # ── reads ──

    def cold_files(self, dataset: Dataset) -> tuple[int, int]:
        """The bytes and the number of the dataset's image files in cold storage."""
        if dataset.storage_class != "coldline":
            return 0, 0
        counts = self._world.image_service.counts(dataset)
        return counts.live_bytes, counts.live

    def quota_discount(self, organization_id: str) -> int:
        """The images the plan's image limit does not count: half of those in cold
        storage ("images count half toward quota", the SDK's ``datasets freeze``)."""
        cold = self._cold.get(organization_id)
        if not cold:
            return 0
        # Files only cold datasets hold: one a warm image shares counts in full.
        return self._world.image_service.cold_only_files(organization_id, cold.values()) // 2

    def mark(self, dataset: Dataset) -> None:
        """Keep ``dataset`` among its organization's cold datasets while it is cold."""
        held = self._cold.setdefault(dataset.organization_id, {})
        if dataset.storage_class == "coldline":
            held[dataset.id] = dataset
        else:
            held.pop(dataset.id, None)

    def estimate(self, dataset: Dataset) -> RestoreEstimate | None:
        """The restore quote, while the dataset is cold and idle (else ``None``)."""
        if dataset.storage_class != "coldline" or dataset.storage_state != "idle":
            return None
        tariff = COLD_STORAGE
        cold_bytes, images = self.cold_files(dataset)
        since = dataset.cold_since if dataset.cold_since is not None else self._world.now()
        days = max(0.0, (self._world.now() - since) / _DAY)
        left_months = max(0.0, tariff.min_storage_days - days) / 30.0
        gigabytes = cold_bytes / _GB

        def marked_up(micro_usd: float) -> int:
            return math.floor(micro_usd * tariff.markup + 0.5)

        saved = tariff.standard_micro_usd_per_gb_month - tariff.cold_micro_usd_per_gb_month
        return RestoreEstimate(
            cold_bytes=cold_bytes,
            cold_image_count=images,
            days_in_cold=round(days, 2),
            min_storage_days=tariff.min_storage_days,
            monthly_savings_micro_usd=marked_up(gigabytes * saved),
            retrieval_micro_usd=marked_up(gigabytes * tariff.retrieval_micro_usd_per_gb),
            early_delete_micro_usd=marked_up(
                gigabytes * tariff.cold_micro_usd_per_gb_month * left_months
            ),
            operations_micro_usd=marked_up(images * tariff.operation_micro_usd_per_image),
        )

    def require_warm(self, dataset: Dataset, doing: str) -> None:
        """Refuse (409 ``dataset_cold``) ``doing`` on a dataset whose files are not warm.

        ``doing`` names what needed the image files (``"an export"``); the message says
        what to do about it, by the state the dataset is in.
        """
        name = dataset.name
        if dataset.storage_state == "freezing":
            raise DatasetCold(
                f"Dataset '{name}' is moving to cold storage, and {doing} needs its image "
                f"files: restore it once the move ends (datasets.wait_for_storage('{name}'), "
                f"then datasets.restore('{name}')).",
                details=self._details(dataset),
            )
        if dataset.storage_state == "restoring":
            raise DatasetCold(
                f"Dataset '{name}' is being restored from cold storage, and {doing} needs "
                f"its image files: wait for the restore (datasets.wait_for_storage('{name}')) "
                "and try again.",
                details=self._details(dataset),
            )
        if dataset.storage_class == "coldline":
            raise DatasetCold(
                f"Dataset '{name}' is in cold storage, and {doing} needs its image files: "
                f"restore it first (datasets.restore('{name}'), then "
                f"datasets.wait_for_storage('{name}')).",
                details=self._details(dataset),
            )

    @staticmethod
    def _details(dataset: Dataset) -> dict[str, object]:
        return {
            "dataset_id": dataset.id,
            "storage_class": dataset.storage_class,
            "storage_state": dataset.storage_state,
        }

    # ── writes ──

    def freeze(self, dataset: Dataset) -> Dataset:
        """Start moving the dataset's files to cold storage (free); 409 unless warm and idle."""
        self._require_idle(dataset)
        if dataset.storage_class == "coldline":
            raise Conflict(
                f"Dataset '{dataset.name}' is already in cold storage: there is nothing to "
                f"freeze (datasets.restore('{dataset.name}') brings it back)."
            )
        if dataset.visibility == "public":
            raise Conflict(
                f"Dataset '{dataset.name}' is public: Explore serves its files, so it cannot "
                "be frozen. Unpublish it first."
            )
        forks = self._world.catalog.forks(dataset)
        if forks:
            copies = "copy shares" if forks == 1 else "copies share"
            raise Conflict(
                f"Dataset '{dataset.name}' has forks ({forks} imported {copies} its files), "
                "so it cannot be frozen."
            )
        images = self._world.image_service.counts(dataset).live
        self._start(dataset, "freezing", FREEZE_SECONDS + SECONDS_PER_IMAGE * images, None)
        return dataset

    def restore(self, dataset: Dataset) -> Dataset:
        """Start bringing a cold dataset back; charged on success, so the balance must
        cover the quote now (402 otherwise); 409 unless cold and idle."""
        self._require_idle(dataset)
        estimate = self.estimate(dataset)
        if estimate is None:
            raise Conflict(
                f"Dataset '{dataset.name}' is not in cold storage: there is nothing to "
                "restore (datasets.storage_status shows where its files are)."
            )
        world = self._world
        org = world.organizations[dataset.organization_id]
        quote = estimate.total_micro_usd
        # The restores under way are charged when they end: what they will take is not
        # the balance's to promise again (two restores must not overdraw it together).
        promised = sum(
            other.restore_quote or 0
            for other in self._moving.values()
            if other.organization_id == org.id and world.datasets.get(other.id) is other
        )
        spendable = world.billing.spendable(org) - promised
        if spendable < quote:
            needs, has = usd_pair(quote, max(0, spendable))
            under_way = " once the restores under way are paid" if promised else ""
            raise InsufficientCredits(
                f"Not enough compute credit to restore dataset '{dataset.name}' "
                f"(needs {needs}, has {has}{under_way}).",
                required=quote,
                remaining=max(0, spendable),
            )
        seconds = RESTORE_SECONDS + SECONDS_PER_IMAGE * estimate.cold_image_count
        self._start(dataset, "restoring", seconds, quote)
        return dataset

    def _require_idle(self, dataset: Dataset) -> None:
        if dataset.storage_state != "idle":
            moving = "to" if dataset.storage_state == "freezing" else "out of"
            raise Conflict(
                f"Dataset '{dataset.name}' is moving {moving} cold storage (job "
                f"{dataset.storage_job_id}): wait for it with "
                f"datasets.wait_for_storage('{dataset.name}') first."
            )

    def _start(self, dataset: Dataset, state: str, seconds: float, quote: int | None) -> None:
        world = self._world
        dataset.storage_state = state
        dataset.storage_job_id = world.ids.uuid()
        dataset.storage_until = world.now() + round(seconds, 3)
        dataset.restore_quote = quote
        dataset.updated_at = world.now()
        self.resume(dataset)

    def resume(self, dataset: Dataset) -> None:
        """Follow the dataset's transition under way (a new one, or a saved world's)."""
        if dataset.storage_state == "idle" or dataset.storage_until is None:
            return
        self._moving[dataset.id] = dataset
        self._next_event = min(self._next_event, dataset.storage_until)
        self._world.agenda.expect(self._next_event)

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When a transition ends next, at the earliest (for the world's agenda)."""
        return self._next_event

    def advance_to(self, now: float) -> None:
        """End, in time order, every transition due at or before ``now``."""
        if now < self._next_event:
            return
        datasets = self._world.datasets
        for gone in [d for d in self._moving.values() if datasets.get(d.id) is not d]:
            # Deleted while moving: nothing is left to move or to charge for.
            del self._moving[gone.id]
        due = sorted(
            (d for d in self._moving.values() if (d.storage_until or 0.0) <= now),
            key=lambda d: (d.storage_until, d.storage_job_id),
        )
        for dataset in due:
            self._end(dataset)
        self._next_event = min(
            (d.storage_until or math.inf for d in self._moving.values()), default=math.inf
        )
        self._world.agenda.expect(self._next_event)

    def _end(self, dataset: Dataset) -> None:
        at = dataset.storage_until if dataset.storage_until is not None else self._world.now()
        del self._moving[dataset.id]
        if dataset.storage_state == "freezing":
            dataset.storage_class = "coldline"
            dataset.cold_since = at
        else:
            quote = dataset.restore_quote or 0
            if quote > 0:
                world = self._world
                world.billing.post(
                    world.organizations[dataset.organization_id],
                    _RESTORE_OPERATION,
                    -quote,
                    description=f"Restore of dataset '{dataset.name}' from cold storage",
                    metadata={"dataset_id": dataset.id, "job_id": dataset.storage_job_id},
                    at=at,
                )
            dataset.storage_class = "standard"
            dataset.cold_since = None
        dataset.storage_state = "idle"
        dataset.storage_until = None
        dataset.restore_quote = None
        dataset.updated_at = at
        self.mark(dataset)
