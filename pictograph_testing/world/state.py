"""A fake world: the container that owns its entities and builds its services (no HTTP
here). The entities themselves are in :mod:`.entities`."""

from __future__ import annotations

import math
import re
import threading
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from pictograph_testing.bounds import MAX_BALANCE_USD
from pictograph_testing.catalog import MICRO_USD, Profile
from pictograph_testing.world.agenda import Agenda
from pictograph_testing.world.allowances import MonthlyResets
from pictograph_testing.world.auto_annotate import AutoAnnotation
from pictograph_testing.world.billing import Billing
from pictograph_testing.world.cold_storage import ColdStorage
from pictograph_testing.world.comments import CommentService
from pictograph_testing.world.connectors import ConnectorImports
from pictograph_testing.world.datasets import DatasetService
from pictograph_testing.world.deployments import DeploymentService
from pictograph_testing.world.directories import DirectoryService
from pictograph_testing.world.entities import (
    ROLES,
    ApiKey,
    Dataset,
    Export,
    Image,
    LedgerEntry,
    Model,
    Organization,
    Role,
    TrainingRun,
)
from pictograph_testing.world.errors import NotFound, Unauthorized
from pictograph_testing.world.evaluations import EvaluationService
from pictograph_testing.world.explore import PublicCatalog
from pictograph_testing.world.exports import ExportService
from pictograph_testing.world.feeds import Feeds
from pictograph_testing.world.ids import IdFactory, by_id
from pictograph_testing.world.images import ImageService
from pictograph_testing.world.inference import InferencePool
from pictograph_testing.world.keys import KeyRing
from pictograph_testing.world.members import MemberService
from pictograph_testing.world.models import ModelRegistry
from pictograph_testing.world.predictions import ContentIndex
from pictograph_testing.world.public_imports import PublicImports
from pictograph_testing.world.search import ImageSearch
from pictograph_testing.world.storage import BlobStore
from pictograph_testing.world.streams import Streams
from pictograph_testing.world.tasks import TaskService
from pictograph_testing.world.training import TrainingService
from pictograph_testing.world.videos import VideoService
from pictograph_testing.world.webhooks import Webhooks
from pictograph_testing.world.workflow_endpoints import WorkflowEndpoints
from pictograph_testing.world.workflow_runs import WorkflowRuns
from pictograph_testing.world.workflows import WorkflowService

if TYPE_CHECKING:
    from pictograph_testing.clock import VirtualClock

__all__ = ["World"]

_KEY_BODY = (16, 128)
"""How many letters and digits follow a key's ``pk_live_`` or ``pk_test_``."""
_KEY_SHAPE = re.compile(rf"pk_(?:live|test)_[A-Za-z0-9]{{{_KEY_BODY[0]},{_KEY_BODY[1]}}}")
_UNKNOWN_KEY = (
    "Invalid API key. It is none of this fake's keys: a client built before the fake "
    "started (at import time, say) keeps the key it was built with; build it once the "
    "fake is active, or give the fake that key (FakePictograph(api_key=...), "
    "@pytest.mark.pictograph(api_key=...))."
)
_MALFORMED = (
    f"Malformed API key: keys are 'pk_live_' or 'pk_test_' followed by {_KEY_BODY[0]} to "
    f"{_KEY_BODY[1]} letters and digits."
)


@lru_cache(maxsize=1024)  # every world of a seed names its first organization alike
def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name).lower().split())


class _Timed(Protocol):
    """A service with events on the clock."""

    @property
    def next_event(self) -> float: ...

    def advance_to(self, now: float) -> None: ...


# The services with events on the clock, in the order a catch-up runs them (ties go to
# the one listed first). Webhook attempts are not among them: the courier sends them
# once the request is answered, outside the world lock, each dated when it was due.
_TIMED_SERVICES = (
    # First: a month that begins with a run's end starts with its allowance back.
    "resets",
    "training",
    "export_service",
    "cold_storage",
    "public_imports",
    "connector_imports",
    "videos",
    "auto_annotation",
    "workflow_runs",
    "workflow_endpoints",
    "evaluations",
    "deployments",
    "people",
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
        self._slugs: dict[str, list[str]] = {}
        """slug -> the ids of the organizations bearing it, in ``organizations``' order."""
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
        return Billing(self)

    @cached_property
    def resets(self) -> MonthlyResets:
        return MonthlyResets(self)

    @cached_property
    def dataset_service(self) -> DatasetService:
        return DatasetService(self)

    @cached_property
    def export_service(self) -> ExportService:
        return ExportService(self)

    @cached_property
    def cold_storage(self) -> ColdStorage:
        return ColdStorage(self)

    @cached_property
    def catalog(self) -> PublicCatalog:
        return PublicCatalog(self)

    @cached_property
    def public_imports(self) -> PublicImports:
        return PublicImports(self)

    @cached_property
    def connector_imports(self) -> ConnectorImports:
        return ConnectorImports(self)

    @cached_property
    def videos(self) -> VideoService:
        return VideoService(self)

    @cached_property
    def auto_annotation(self) -> AutoAnnotation:
        return AutoAnnotation(self)

    @cached_property
    def image_service(self) -> ImageService:
        return ImageService(self)

    @cached_property
    def directory_service(self) -> DirectoryService:
        return DirectoryService(self)

    @cached_property
    def comments(self) -> CommentService:
        return CommentService(self)

    @cached_property
    def search(self) -> ImageSearch:
        return ImageSearch(self)

    @cached_property
    def tasks(self) -> TaskService:
        return TaskService(self)

    @cached_property
    def training(self) -> TrainingService:
        return TrainingService(self, self._gpu_workers)

    @cached_property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self)

    @cached_property
    def storage(self) -> BlobStore:
        return BlobStore(self)

    @cached_property
    def feeds(self) -> Feeds:
        return Feeds(self)

    @cached_property
    def predictions(self) -> ContentIndex:
        return ContentIndex(self)

    @cached_property
    def evaluations(self) -> EvaluationService:
        return EvaluationService(self)

    @cached_property
    def inference_pool(self) -> InferencePool:
        return InferencePool(self)

    @cached_property
    def deployments(self) -> DeploymentService:
        return DeploymentService(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self)

    @cached_property
    def people(self) -> MemberService:
        return MemberService(self)

    @cached_property
    def keyring(self) -> KeyRing:
        return KeyRing(self)

    @cached_property
    def workflows(self) -> WorkflowService:
        return WorkflowService(self)

    @cached_property
    def workflow_runs(self) -> WorkflowRuns:
        return WorkflowRuns(self)

    @cached_property
    def workflow_endpoints(self) -> WorkflowEndpoints:
        return WorkflowEndpoints(self)

    @cached_property
    def streams(self) -> Streams:
        return Streams(self)

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
        comparison; a service not built yet has planned nothing. Services take turns:
        the one whose next event is earliest runs up to the next event of any other, so
        what several of them post in one catch-up (a run's charge, a deployment's meter)
        lands on the ledger in time order, as if the clock had been read step by step.
        """
        now = self.clock.monotonic()
        agenda = self.agenda
        if now < agenda.due:
            return now
        # Month starts are events whether or not anyone has spent: a debit posted while
        # another service catches up must not carry it past one. Built here (on first
        # use), the resets plan the first month start after the agenda's due.
        _ = self.resets
        while True:
            first: _Timed | None = None
            first_at = second_at = math.inf
            for name in _TIMED_SERVICES:
                # Looked up each turn: a service an event built joins on the next one.
                service: _Timed | None = self.built(name)
                if service is None:
                    continue
                at = service.next_event
                if at < first_at:  # strictly: a tie goes to the service listed first
                    first, first_at, second_at = service, at, first_at
                elif at < second_at:
                    second_at = at
            if first is None or first_at > now:
                break
            first.advance_to(min(second_at, now))
        agenda.due = first_at
        return now

    # ── organizations and keys ──

    def add_organization(self, *, balance_usd: float, name: str | None = None) -> Organization:
        # Checked before an id is drawn: a refused organization leaves no trace.
        if (
            isinstance(balance_usd, bool)
            or not isinstance(balance_usd, (int, float))
            or not 0 <= balance_usd <= MAX_BALANCE_USD  # NaN too
        ):
            raise ValueError(
                f"balance_usd must be a number of dollars from 0 to {MAX_BALANCE_USD:,.0f}, "
                f"got {balance_usd!r:.40}"
            )
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
        self._slugs.setdefault(slug, []).append(org_id)
        self.ledgers[org_id] = []
        self.people.found(org)
        return org

    def organization_by_slug(self, slug: str) -> Organization | None:
        """The first organization made (or put in place) with that slug, if any."""
        ids = self._slugs.get(slug)
        return self.organizations[ids[0]] if ids else None

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
        if role not in ROLES:
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
        self._slugs[old.slug].remove(old.id)
        self._slugs.setdefault(new.slug, []).append(new.id)
        self.ledgers[new.id] = self.ledgers.pop(old.id)
        billing: Billing | None = self.built("billing")
        if billing is not None:
            billing.moved(old.id, new.id)
        resets: MonthlyResets | None = self.built("resets")
        if resets is not None:
            resets.moved(old.id, new.id)
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
                raise Unauthorized(_MALFORMED, details={"reason": "malformed"})
            raise Unauthorized(_UNKNOWN_KEY, details={"reason": "unknown"})
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

    def images_of(self, organization_id: str) -> int:
        """The organization's live images as its plan's image limit counts them: each
        stored file once, so copies that share their source's file count once (the
        SDK's ``batch.copy_to_dataset``: they "do not count toward your image quota a
        second time"), and those of datasets in cold storage half."""
        files = self.image_service.stored(organization_id)[0]
        return files - self.cold_storage.quota_discount(organization_id)

    def images_promised(self, organization_id: str) -> int:
        """The images the organization's imports and frame extractions under way will
        still add: the plan's image limit holds them already, so two imports started
        back to back cannot each take the room that is left."""
        return sum(
            service.promised(organization_id)
            for service in (
                self.built("public_imports"),
                self.built("connector_imports"),
                self.built("videos"),
            )
            if service is not None
        )

    def dataset(self, organization_id: str, ref: str) -> Dataset:
        """Find a dataset of the organization by id or name, or refuse with 404."""
        found = by_id(self.datasets, ref)
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
