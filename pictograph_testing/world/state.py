"""The entities of a fake world and the container that owns them (no HTTP here)."""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, get_args

from pictograph_testing.catalog import DEFAULT_PLAN, MICRO_USD, Profile
from pictograph_testing.world.agenda import Agenda
from pictograph_testing.world.errors import Forbidden, NotFound, Unauthorized
from pictograph_testing.world.ids import IdFactory, uuid_text

if TYPE_CHECKING:
    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.world.billing import Billing
    from pictograph_testing.world.datasets import DatasetService
    from pictograph_testing.world.deployments import DeploymentService
    from pictograph_testing.world.evaluations import EvaluationService
    from pictograph_testing.world.exports import ExportService
    from pictograph_testing.world.feeds import Feeds
    from pictograph_testing.world.images import ImageService
    from pictograph_testing.world.inference import InferencePool
    from pictograph_testing.world.keys import KeyRing
    from pictograph_testing.world.members import MemberService
    from pictograph_testing.world.models import ModelRegistry
    from pictograph_testing.world.predictions import ContentIndex
    from pictograph_testing.world.storage import BlobStore
    from pictograph_testing.world.training import RunFailure, RunPlan, RunView, TrainingService
    from pictograph_testing.world.webhooks import Webhooks

__all__ = [
    "IMAGE_STATUSES",
    "MODEL_STATUSES",
    "ROLES",
    "RUN_STATUSES",
    "TERMINAL",
    "VISIBILITIES",
    "ApiKey",
    "Dataset",
    "Export",
    "Image",
    "LedgerEntry",
    "Model",
    "ModelStatus",
    "ModelVersion",
    "Organization",
    "Role",
    "TrainingRun",
    "Visibility",
    "World",
]

Role = Literal["viewer", "member", "admin", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "member", "admin", "owner")
_ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
_KEY_SHAPE = re.compile(r"pk_(?:live|test)_[A-Za-z0-9]{16,128}")
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

    @property
    def class_names(self) -> list[str]:
        return [str(c["name"]) for c in self.classes]


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


@lru_cache(maxsize=1024)  # every world of a seed names its first organization alike
def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name).lower().split())


class _Timed(Protocol):
    """A service with events on the clock."""

    @property
    def next_event(self) -> float: ...

    def advance_to(self, now: float) -> None: ...


# The services with events on the clock, in the order a catch-up runs them: the webhooks
# after every service whose events queue a webhook.
_TIMED_SERVICES = (
    "training",
    "export_service",
    "evaluations",
    "deployments",
    "webhooks",
    "people",
)


class _ServiceKinds(NamedTuple):
    """The classes of a world's services."""

    Billing: type[Billing]
    DatasetService: type[DatasetService]
    ExportService: type[ExportService]
    ImageService: type[ImageService]
    TrainingService: type[TrainingService]
    ModelRegistry: type[ModelRegistry]
    BlobStore: type[BlobStore]
    Feeds: type[Feeds]
    ContentIndex: type[ContentIndex]
    EvaluationService: type[EvaluationService]
    InferencePool: type[InferencePool]
    DeploymentService: type[DeploymentService]
    Webhooks: type[Webhooks]
    MemberService: type[MemberService]
    KeyRing: type[KeyRing]


@lru_cache(maxsize=1)
def _service_kinds() -> _ServiceKinds:
    # Imported on first use: the services import this module for the entity types. Once,
    # not per world: fifteen import statements cost a tenth of building an empty world.
    from pictograph_testing.world.billing import Billing
    from pictograph_testing.world.datasets import DatasetService
    from pictograph_testing.world.deployments import DeploymentService
    from pictograph_testing.world.evaluations import EvaluationService
    from pictograph_testing.world.exports import ExportService
    from pictograph_testing.world.feeds import Feeds
    from pictograph_testing.world.images import ImageService
    from pictograph_testing.world.inference import InferencePool
    from pictograph_testing.world.keys import KeyRing
    from pictograph_testing.world.members import MemberService
    from pictograph_testing.world.models import ModelRegistry
    from pictograph_testing.world.predictions import ContentIndex
    from pictograph_testing.world.storage import BlobStore
    from pictograph_testing.world.training import TrainingService
    from pictograph_testing.world.webhooks import Webhooks

    return _ServiceKinds(
        Billing=Billing,
        DatasetService=DatasetService,
        ExportService=ExportService,
        ImageService=ImageService,
        TrainingService=TrainingService,
        ModelRegistry=ModelRegistry,
        BlobStore=BlobStore,
        Feeds=Feeds,
        ContentIndex=ContentIndex,
        EvaluationService=EvaluationService,
        InferencePool=InferencePool,
        DeploymentService=DeploymentService,
        Webhooks=Webhooks,
        MemberService=MemberService,
        KeyRing=KeyRing,
    )


class World:
    """Own every entity of one fake: organizations, keys, data, runs, models, ledgers.

    One re-entrant lock guards it all; the api layer holds it for a whole request, so a
    request sees and leaves a consistent world. Times are virtual seconds since the
    clock's start.
    """

    def __init__(
        self,
        *,
        seed: int,
        profile: Profile,
        clock: VirtualClock,
        balance_usd: float,
        gpu_workers: dict[str, int] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.seed = seed
        self.profile = profile
        self.clock = clock
        self.lock = threading.RLock()
        self.agenda = Agenda()
        """When the timed services next act (see :meth:`catch_up`)."""
        self.ids = IdFactory(seed)
        self.organizations: dict[str, Organization] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.datasets: dict[str, Dataset] = {}
        self.images: dict[str, Image] = {}
        self.exports: dict[str, Export] = {}
        self.runs: dict[str, TrainingRun] = {}
        self.models: dict[str, Model] = {}
        self.ledgers: dict[str, list[LedgerEntry]] = {}
        # The services are built when first used (a fake per test may use few of them);
        # none draws an id or reads the clock when built, so when is of no consequence.
        self._gpu_workers = gpu_workers or {}
        if self._gpu_workers:
            self.training  # noqa: B018 (built now: an unknown GPU tier is raised here)
        self.default_org = self.add_organization(balance_usd=balance_usd)
        self.default_key = self.add_api_key(self.default_org.id, role="owner", secret=api_key)

    # ── services ──

    @cached_property
    def billing(self) -> Billing:
        return _service_kinds().Billing(self)

    @cached_property
    def dataset_service(self) -> DatasetService:
        return _service_kinds().DatasetService(self)

    @cached_property
    def export_service(self) -> ExportService:
        return _service_kinds().ExportService(self)

    @cached_property
    def image_service(self) -> ImageService:
        return _service_kinds().ImageService(self)

    @cached_property
    def training(self) -> TrainingService:
        return _service_kinds().TrainingService(self, self._gpu_workers)

    @cached_property
    def registry(self) -> ModelRegistry:
        return _service_kinds().ModelRegistry(self)

    @cached_property
    def storage(self) -> BlobStore:
        return _service_kinds().BlobStore(self)

    @cached_property
    def feeds(self) -> Feeds:
        return _service_kinds().Feeds(self)

    @cached_property
    def predictions(self) -> ContentIndex:
        return _service_kinds().ContentIndex(self)

    @cached_property
    def evaluations(self) -> EvaluationService:
        return _service_kinds().EvaluationService(self)

    @cached_property
    def inference_pool(self) -> InferencePool:
        return _service_kinds().InferencePool(self)

    @cached_property
    def deployments(self) -> DeploymentService:
        return _service_kinds().DeploymentService(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        return _service_kinds().Webhooks(self)

    @cached_property
    def people(self) -> MemberService:
        return _service_kinds().MemberService(self)

    @cached_property
    def keyring(self) -> KeyRing:
        return _service_kinds().KeyRing(self)

    # ── time ──

    def now(self) -> float:
        return self.clock.monotonic()

    def built(self, service: str) -> Any:
        """The world's service of that attribute name if it was built (a service is built
        on first use), else ``None``: what was never built holds nothing to look at."""
        return self.__dict__.get(service)

    def catch_up(self) -> float:
        """Bring every simulated process up to the clock; return the virtual now.

        Nothing can happen before the agenda's next event, so until then this is one
        comparison; a service not built yet has planned nothing.
        """
        now = self.clock.monotonic()
        agenda = self.agenda
        if now < agenda.due:
            return now
        for name in _TIMED_SERVICES:
            # Looked up in turn: one an earlier one's events built is run in its own turn.
            service: _Timed | None = self.built(name)
            if service is not None:
                service.advance_to(now)
        timed = (self.built(name) for name in _TIMED_SERVICES)
        agenda.due = min((s.next_event for s in timed if s is not None), default=math.inf)
        return now

    # ── organizations and keys ──

    def add_organization(self, *, balance_usd: float, name: str | None = None) -> Organization:
        org_id = self.ids.uuid()
        org_name = name or self.ids.company()
        slug = _slug(org_name)
        org = Organization(
            id=org_id,
            slug=slug,
            name=org_name,
            allowance_micro_usd=round(balance_usd * MICRO_USD),
            budget_micro_usd=0,
            created_at=self.now(),
        )
        self.organizations[org_id] = org
        self.ledgers[org_id] = []
        self.people.found(org)
        return org

    def add_api_key(
        self,
        organization_id: str,
        *,
        role: Role,
        name: str | None = None,
        secret: str | None = None,
        created_by: str | None = None,
        rate_limit: int | None = None,
        expires_at: float | None = None,
    ) -> ApiKey:
        """Mint a key; ``secret`` fixes its text (the offline server's ``--api-key``).

        The key is ``created_by`` that user, by default the organization's founder.
        """
        if role not in _ROLE_RANK:
            raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        generated = f"pk_live_{self.ids.hex(32)}"
        if secret is not None and (not secret.strip() or secret in self.api_keys):
            raise ValueError("an API key must be non-blank and not already in use")
        if created_by is None:
            founder = self.people.founder(organization_id)
            created_by = founder.user_id if founder is not None else self.ids.uuid()
        key = ApiKey(
            key=secret.strip() if secret is not None else generated,
            key_id=self.ids.uuid(),
            organization_id=organization_id,
            role=role,
            created_by=created_by,
            name=name or f"{role} key",
            created_at=self.now(),
            rate_limit=rate_limit,
            expires_at=expires_at,
        )
        self.api_keys[key.key] = key
        self.keyring.file(key)
        return key

    def replace_organization(self, old: Organization, new: Organization) -> None:
        """Put ``new`` in ``old``'s place (a scenario's own id): its keys and ledger follow."""
        del self.organizations[old.id]
        self.organizations[new.id] = new
        self.ledgers[new.id] = self.ledgers.pop(old.id)
        billing: Billing | None = self.built("billing")
        if billing is not None:
            billing.moved(old.id, new.id)
        self.people.move(old.id, new.id)
        self.keyring.move(old.id, new.id)
        for key in self.api_keys.values():
            if key.organization_id == old.id:
                key.organization_id = new.id
        if self.default_org is old:
            self.default_org = new

    def adopt_api_key(self, key: ApiKey) -> None:
        """Add a key made elsewhere (a scenario's), its text and id as they are."""
        self.api_keys[key.key] = key
        self.keyring.file(key)

    def remove_api_keys(self, organization_id: str) -> None:
        """Forget every key of the organization (a scenario brings its own)."""
        for key in [k for k in self.api_keys.values() if k.organization_id == organization_id]:
            del self.api_keys[key.key]
            self.keyring.drop(key)

    def use_default_key(self, key: ApiKey) -> None:
        """Make ``key`` the one the fake's own clients present."""
        self.default_key = key

    def revoke_api_key(self, presented: str) -> None:
        """Revoke a key: every request that presents it from now on gets a 401.

        Raise ``ValueError`` if the world holds no such key.
        """
        key = self.api_keys.get(presented)
        if key is None:
            raise ValueError("no such API key in this fake")
        key.revoked = True

    def authenticate(self, presented: str | None, now: float) -> ApiKey:
        """Return the key behind an ``X-API-Key`` header, or refuse with 401.

        The refusal's ``details.reason`` says why: ``missing``, ``malformed`` (not a
        ``pk_live_…`` / ``pk_test_…`` key made of letters and digits), ``unknown``,
        ``revoked`` (or deleted), ``inactive`` (disabled) or ``expired``. A key the world
        was given verbatim (``api_key=``) is never malformed. A key let in is stamped
        ``last_used_at`` (``now``, the virtual second of the request).
        """
        # Every request comes here: a key sent as stored, live and with no expiry is
        # let in at once; anything else takes the full look below.
        key = self.api_keys.get(presented) if presented else None
        if key is None or key.revoked or not key.is_active or key.expires_at is not None:
            return self._authenticate_fully(presented, now)
        key.last_used_at = now
        return key

    def _authenticate_fully(self, presented: str | None, now: float) -> ApiKey:
        if not presented or not presented.strip():
            raise Unauthorized(
                "Missing API key: send it in the X-API-Key header.", details={"reason": "missing"}
            )
        key = self.api_keys.get(presented.strip())
        if key is None:
            if not _KEY_SHAPE.fullmatch(presented.strip()):
                raise Unauthorized(
                    "Malformed API key: keys look like 'pk_live_' followed by letters and digits.",
                    details={"reason": "malformed"},
                )
            raise Unauthorized("Invalid API key.", details={"reason": "unknown"})
        if key.revoked:
            raise Unauthorized("This API key has been revoked.", details={"reason": "revoked"})
        if not key.is_active:
            raise Unauthorized(
                "This API key is disabled: another admin key can turn it on again "
                "(api_keys.update(key_id, is_active=True)).",
                details={"reason": "inactive"},
            )
        if key.expires_at is not None and now >= key.expires_at:
            raise Unauthorized("This API key has expired.", details={"reason": "expired"})
        key.last_used_at = now
        return key

    # ── datasets and exports ──

    def dataset(self, organization_id: str, ref: str) -> Dataset:
        """Find a dataset of the organization by id or name, or refuse with 404."""
        found = self.datasets.get(ref)
        if found is not None and found.organization_id == organization_id:
            return found
        named = self.dataset_service.named(organization_id, ref)
        if named is not None:
            return named
        raise NotFound(f"Dataset '{ref}' not found")

    def dataset_images(self, dataset: Dataset, *, archived: bool = False) -> list[Image]:
        """The dataset's images, oldest first (archived ones only when asked)."""
        images = [self.images[i] for i in dataset.image_ids]
        return images if archived else [i for i in images if not i.is_archived]

    def export(self, dataset: Dataset, name: str) -> Export:
        found = self.export_service.of_dataset(dataset.id).get(name)
        if found is not None:
            return found
        raise NotFound(f"Export '{name}' not found in dataset '{dataset.name}'")
