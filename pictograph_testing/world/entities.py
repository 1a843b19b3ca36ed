"""The entities of a fake world: organizations, keys, datasets, images, exports, ledger
entries, training runs and models, as plain records (no HTTP, no services here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from pictograph_testing.catalog import DEFAULT_PLAN
from pictograph_testing.world.errors import Forbidden
from pictograph_testing.world.ids import uuid_text

if TYPE_CHECKING:
    from pictograph_testing.world.training import RunFailure, RunPlan, RunView

__all__ = [
    "IMAGE_STATUSES",
    "MODEL_STATUSES",
    "ROLES",
    "RUN_STATUSES",
    "TERMINAL",
    "VISIBILITIES",
    "ApiKey",
    "Dataset",
    "Directory",
    "Export",
    "Image",
    "LedgerEntry",
    "Model",
    "ModelStatus",
    "ModelVersion",
    "Organization",
    "PublicImport",
    "Role",
    "RunStatus",
    "TrainingRun",
    "Visibility",
]

Role = Literal["viewer", "member", "admin", "owner"]
ROLES: tuple[Role, ...] = get_args(Role)
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
RunStatus = Literal["pending", "queued", "running", "completed", "failed", "cancelled"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
ModelStatus = Literal["training", "ready", "failed", "archived"]
MODEL_STATUSES: tuple[ModelStatus, ...] = get_args(ModelStatus)
Visibility = Literal["private", "public"]
VISIBILITIES: tuple[Visibility, ...] = get_args(Visibility)
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


@dataclass
class Organization:
    id: str
    slug: str
    name: str
    allowance_micro_usd: int
    budget_micro_usd: int
    created_at: float
    description: str | None = None
    is_public: bool = False
    subscription_tier: str = DEFAULT_PLAN
    """A name in ``catalog.PLANS``: the organization's caps."""
    updated_at: float | None = None
    """When its profile last changed; ``None``: never since it was created."""


@dataclass
class ApiKey:
    key: str
    key_id: str
    organization_id: str
    role: Role
    created_by: str
    name: str
    revoked: bool = False
    """Deleted (through the API) or revoked by a test: a 401 from then on."""
    created_at: float = 0.0
    rate_limit: int | None = None
    """A per-key cap in requests per hour; ``None``: the plan's limit."""
    expires_at: float | None = None
    is_active: bool = True
    """False: disabled through the API (a 401 until it is turned on again)."""
    last_used_at: float | None = None

    def require(self, role: Role, action: str) -> None:
        """Refuse with 403 unless this key holds ``role`` or a higher one."""
        if _ROLE_RANK[self.role] < _ROLE_RANK[role]:
            raise Forbidden(
                f"This API key's role '{self.role}' cannot {action}; it needs '{role}' or higher."
            )

    def has(self, role: Role) -> bool:
        return _ROLE_RANK[self.role] >= _ROLE_RANK[role]

    def lets_in(self, now: float) -> bool:
        """Whether the API would let this key in at virtual second ``now``: not revoked,
        not disabled, not expired."""
        return (
            not self.revoked
            and self.is_active
            and (self.expires_at is None or now < self.expires_at)
        )


IMAGE_STATUSES = ("new", "annotate", "review", "complete")


@dataclass(slots=True)
class Image:
    """One image of a dataset: where it sits, its review stage, and its annotations."""

    id: str
    organization_id: str
    dataset_id: str
    filename: str
    directory_path: str
    """Canonical: ``/`` or ``/a/b`` (no trailing slash)."""
    content_type: str
    file_size: int
    width: int | None
    height: int | None
    created_at: float
    status: str = "new"
    split: str | None = None
    tags: list[str] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    is_archived: bool = False
    display_name: str | None = None
    """The name shown for the image (``batch.update(display_name=...)``); the path keeps
    ``filename``. Kept on the image, so a snapshot records it with the rest."""
    content: bytes | None = None
    """The uploaded bytes; ``None`` for images a test added by count (made on demand)."""

    @property
    def path(self) -> str:
        """``directory/filename`` as the per-image routes address it (no leading ``/``)."""
        directory = self.directory_path.strip("/")
        return f"{directory}/{self.filename}" if directory else self.filename


@dataclass(slots=True)
class Dataset:
    id: str
    organization_id: str
    name: str
    description: str | None
    annotation_types: list[str]
    classes: list[dict[str, Any]]
    created_at: float
    updated_at: float
    image_ids: list[str] = field(default_factory=list)
    """The dataset's images, oldest first; counts are derived from them on every read."""
    readme: str | None = None
    archived_at: float | None = None
    """When the dataset was archived (hidden from the default list); ``None`` when active."""
    storage_class: str = "standard"
    """Where its image files are kept: ``standard``, or ``coldline`` once frozen."""
    storage_state: str = "idle"
    """``idle``, or the storage transition under way: ``freezing`` or ``restoring``."""
    cold_since: float | None = None
    """When its files reached cold storage; ``None`` while they are in standard storage."""
    storage_job_id: str | None = None
    """The job of its latest freeze or restore."""
    storage_until: float | None = None
    """When the transition under way ends; ``None`` while idle."""
    restore_quote: int | None = None
    """What the restore under way charges when it ends (µUSD); ``None`` otherwise."""
    visibility: Visibility = "private"
    """``public``: published to Explore, which every organization reads. The developer API
    cannot publish a dataset (the app does): a test publishes one through the fake."""
    published_at: float | None = None
    """When it was last made public; ``None`` while private."""
    license_id: str | None = None
    """The license it is published under (``cc-by-4.0``); an import carries it along."""
    star_count: int = 0
    """The stars Explore shows it with (the API has no call to star: a test sets them)."""
    auto_tags: list[str] = field(default_factory=list)
    """What its images show, most often first, as Explore lists it (``top_auto_tags``) and
    its search matches: the fake reads no pixels, so a test says what they show."""
    imported_from: str | None = None
    """The public dataset it is an import of (its id); ``None`` for one made here."""

    @property
    def class_names(self) -> list[str]:
        return [str(c["name"]) for c in self.classes]


@dataclass(slots=True)
class Directory:
    """A virtual directory of a dataset: a row of its own, so an empty one exists too.

    Images name their directory by path (``Image.directory_path``); a directory is made
    for every path an image is placed in (its parents too) or by an explicit create, and
    keeps its id when renamed.
    """

    id: str
    organization_id: str
    dataset_id: str
    path: str
    """Canonical: ``/a/b`` (never the root, which is no directory)."""
    created_at: float
    updated_at: float
    created_by: str | None = None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def parent_path(self) -> str:
        """The directory holding this one: ``/`` for a top-level directory."""
        return self.path.rpartition("/")[0] or "/"


@dataclass(slots=True)
class Export:
    id: str
    organization_id: str
    dataset_id: str
    dataset_name: str
    name: str
    format: str
    include_images: bool
    status: str
    status_filter: str | None
    class_filter: list[str] | None
    image_ids: list[str]
    """The images the export named when it was created: frozen from then on."""
    annotation_count: int
    created_at: float
    error_message: str | None = None

    @property
    def image_count(self) -> int:
        return len(self.image_ids)


@dataclass(slots=True)
class PublicImport:
    """An import of a public dataset into an organization: a job on the clock.

    The copy (``dataset_id``) is made, empty but for its classes, when the import starts;
    its images are copied from the source as the source is when the import completes.
    """

    id: str
    organization_id: str
    source_id: str
    source_organization: str
    """The source's organization's slug, as the import was asked for."""
    source_name: str
    dataset_id: str
    dataset_name: str
    """The copy's name when the import started (the copy's own name is read while it exists)."""
    total_images: int
    created_at: float
    starts_at: float
    """When it leaves ``pending`` for ``running``."""
    ends_at: float
    status: str = "pending"
    image_count: int = 0
    completed_at: float | None = None
    error: str | None = None
    seq: int = 0
    """Its number among the imports ever started (the jobs feed's tie-break)."""
    runs_before: int = 0
    """Training runs created before it (the jobs feed's order across kinds)."""


@dataclass(slots=True)
class LedgerEntry:
    id: str
    organization_id: str
    operation: str
    amount: int
    balance_after: int
    description: str
    metadata: dict[str, Any] | None
    created_at: float


@dataclass(slots=True)
class TrainingRun:
    id: str
    seq: int
    organization_id: str
    name: str
    dataset_id: str
    export_id: str
    export_name: str
    pipeline_type: str
    gpu_type: str
    requested_gpu_type: str
    config: dict[str, Any]
    classes: list[str]
    plan: RunPlan
    created_at: float
    created_by: str
    billing: Literal["prepaid", "charge_on_success"]
    noise_seed: int
    version_of_model_id: str | None = None
    warning: dict[str, Any] | None = None
    """Its ``classes_not_trained`` warning: the classes its export could not teach."""
    status: RunStatus = "pending"
    assigned_at: float | None = None
    started_at: float | None = None
    ends_at: float | None = None
    """When the plan finishes the run (completed or failed) if nothing intervenes."""
    completed_at: float | None = None
    error_message: str | None = None
    model_id: str | None = None
    precharge_micro_usd: int = 0
    charged_micro_usd: int = 0
    refunded_micro_usd: int = 0
    history: list[tuple[str, float]] = field(default_factory=list)
    """Every status the run took, with the virtual second it took it."""
    final_memo: RunView | None = None
    """``final`` once built (see there); ``None`` until first read."""
    metrics_memo: dict[int, dict[str, Any]] = field(default_factory=dict)
    failure: RunFailure | None = None
    """A failure a test injected, still to strike (see ``TrainingService.arm_failure``)."""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def final(self) -> RunView | None:
        """What the run shows from the moment it ended on; ``None`` while it is live.

        Built on first read, not when the run ends: a catch-up that ends thousands of
        runs builds none of their views (nor keeps them for the garbage collector).
        """
        if self.status not in TERMINAL:
            return None
        view = self.final_memo
        if view is None:
            # Imported here: the training module imports this one for the entity types.
            from pictograph_testing.world.training import final_view

            view = self.final_memo = final_view(self)
        return view


@dataclass(slots=True)
class ModelVersion:
    id_drawn: str | int
    """:attr:`id`, or until it is first read, the bits drawn for it (a trained version's)."""
    number: int
    run: TrainingRun | None
    """The run that trained it; ``None`` for a copy of another model's version (a fork)."""
    architecture: str
    metrics_memo: dict[str, Any] | None
    """:attr:`metrics` once known: ``None`` for a trained version until first read."""
    export_name: str | None
    training_config: dict[str, Any]
    classes: list[str]
    created_at: float
    status: str = "ready"
    precision: str = "fp32"
    model_name: str = ""
    """The model's name when this version was made: its ``config.json``, written once when
    training completes, keeps it through later renames."""

    @property
    def id(self) -> str:
        """The version's UUID: drawn when the version was made, formatted when first read."""
        drawn = self.id_drawn
        if isinstance(drawn, str):
            return drawn
        text = self.id_drawn = uuid_text(drawn)
        return text

    @property
    def training_run_id(self) -> str | None:
        return self.run.id if self.run is not None else None

    @property
    def metrics(self) -> dict[str, Any]:
        """The final validation metrics (the dict is kept: changes to it stay).

        A trained version reads them from its run on first read, not when the run
        completes: they follow from the run alone, so computing them later gives what
        computing them then would have, and a catch-up ending thousands of runs
        computes none.
        """
        memo = self.metrics_memo
        if memo is None:
            assert self.run is not None, "a version without a run is made with its metrics"
            # Imported here: the training module imports this one for the entity types.
            from pictograph_testing.world.training import final_metrics

            memo = self.metrics_memo = final_metrics(self.run)
        return memo

    @property
    def label(self) -> str:
        return f"{self.number}.0.0"


@dataclass(slots=True)
class Model:
    id: str
    organization_id: str
    name: str
    model_type: str
    pipeline_type: str
    dataset_id: str | None
    dataset_name: str | None
    created_at: float
    updated_at: float
    versions: list[ModelVersion]
    description: str | None = None
    readme: str | None = None
    license_id: str | None = None
    license_custom_text: str | None = None
    visibility: Visibility = "private"
    status: ModelStatus = "ready"
    pinned_version_id: str | None = None
    forked_from_model_id: str | None = None
    """The public model this one was copied from (``models.fork``)."""
    published_at: float | None = None
    """When it was last made public (Explore's ``recent`` order); ``None`` while private."""
    star_count: int = 0
    """The stars Explore shows it with (the API has no call to star: a test sets them)."""

    @property
    def latest(self) -> ModelVersion:
        """The newest ready version."""
        ready = [v for v in self.versions if v.status == "ready"]
        return ready[-1] if ready else self.versions[-1]

    @property
    def current(self) -> ModelVersion:
        """The version in effect: the pin if there is one, otherwise the newest ready."""
        if self.pinned_version_id is not None:
            for version in self.versions:
                if version.id == self.pinned_version_id:
                    return version
        return self.latest

    def version(self, version_id: str) -> ModelVersion | None:
        for version in self.versions:
            if version.id == version_id:
                return version
        return None
