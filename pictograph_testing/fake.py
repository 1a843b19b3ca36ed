"""``FakePictograph``: one world, its clock, and the ways to reach it."""

from __future__ import annotations

import functools
import inspect
import os
import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    NamedTuple,
    ParamSpec,
    TypeVar,
    cast,
    overload,
)

import httpx

from pictograph_testing import activation, arguments, scenarios
from pictograph_testing._http_client import API_KEY_HEADER, FakeAsyncHttpClient, FakeHttpClient
from pictograph_testing._sdk.idempotency import seeded_key
from pictograph_testing._sdk.layout import client_defaults, require_async_client
from pictograph_testing.api.app import Api
from pictograph_testing.api.dialects import (
    answered_release,
    check_installed_sdk,
    format_version,
)
from pictograph_testing.api.gateway import GATEWAY_PREFIX, gateway_url, holds_endpoint
from pictograph_testing.bounds import (
    MAX_BALANCE_USD,
    MAX_CLIENT_RETRIES,
    MAX_CLIENT_TIMEOUT,
    MAX_SCENARIO_COUNT,
    MAX_SEED,
)
from pictograph_testing.catalog import MICRO_USD, NAME_LIMIT, PLANS, ProfileName, profile_named
from pictograph_testing.clock import VirtualClock
from pictograph_testing.hosts import HostKey, host_key
from pictograph_testing.journal import JOURNAL_LIMIT, Journal
from pictograph_testing.strictness import (
    StrayCall,
    TeardownCheckFailed,
    host_allowed,
    is_pictograph_host,
    normalised_hosts,
    pictograph_message,
    stray_message,
    teardown_problems,
)
from pictograph_testing.transport import FakeTransport
from pictograph_testing.webhooks import WebhookCourier
from pictograph_testing.world.entities import IMAGE_STATUSES, VISIBILITIES
from pictograph_testing.world.errors import ApiRefusal
from pictograph_testing.world.state import World
from pictograph_testing.world.storage import STORAGE_PREFIX
from pictograph_testing.world.streams import make_camera
from pictograph_testing.world.training import run_state
from pictograph_testing.world.video_files import video_header

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from types import TracebackType

    import pictograph
    from typing_extensions import Self

    from pictograph_testing.api.unserved import UnservedCall
    from pictograph_testing.faults import Faults
    from pictograph_testing.world.entities import (
        Dataset,
        Export,
        LedgerEntry,
        Model,
        Role,
        Visibility,
    )
    from pictograph_testing.world.members import Invite, Member, MemberRole
    from pictograph_testing.world.streams import Camera, Streams, StreamView
    from pictograph_testing.world.tasks import Task, TaskKind
    from pictograph_testing.world.training import RunView
    from pictograph_testing.world.videos import Video

__all__ = ["FakeOrganization", "FakePictograph"]

DEFAULT_BASE_URL = "https://api.pictograph.io"


class FakePictograph:
    """A stateful, in-memory Pictograph API that the real SDK runs against.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`): while active, the
    SDK's sleeps and polling deadlines run on :attr:`clock`, and its signed-URL downloads
    reach the fake. Clients from :meth:`client` and :meth:`async_client` are real
    ``pictograph`` clients wired to the fake with no network.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        profile: ProfileName | None = None,
        balance_usd: float | None = None,
        base_url: str = DEFAULT_BASE_URL,
        start: datetime | None = None,
        gpu_workers: dict[str, int] | None = None,
        scenario: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        api_key: str | None = None,
        speed: float = 0.0,
        faults: Sequence[Mapping[str, Any]] | None = None,
        rate_limit: int | None = None,
        sdk_version: str | None = None,
        journal_limit: int = JOURNAL_LIMIT,
        scenario_dirs: Sequence[str | os.PathLike[str]] = (),
        strict: bool = False,
        allow_hosts: Sequence[str] = (),
        assert_all_fired: bool = True,
        assert_all_served: bool = True,
        assert_streams_stopped: bool = False,
        clock_modules: Sequence[str] = (),
    ) -> None:
        # A scenario (a name in fixtures/ or in `scenario_dirs`, a JSON path, or a
        # snapshot) supplies the settings it names; an argument given here overrides it.
        # Without one: seed 0, classic, $100.
        if isinstance(scenario_dirs, (str, os.PathLike)) or not isinstance(scenario_dirs, Iterable):
            raise TypeError(f"scenario_dirs must be a list of folders, got {scenario_dirs!r}")
        _check_arguments(seed, api_key, base_url, sdk_version, start, speed)
        # Checked with or without a scenario: a folder that is not there is a mistake to
        # hear about now, not when a name is first looked up in it.
        scenario_dirs = [scenarios.scenario_folder(folder) for folder in scenario_dirs]
        loaded = (
            scenarios.load_scenario(scenario, directories=scenario_dirs)
            if scenario is not None
            else None
        )
        balance_argument = balance_usd
        seed, profile_name, balance_usd, start = scenarios.fake_settings(
            loaded, seed=seed, profile=profile, balance_usd=balance_usd, start=start
        )
        # `faults` (fault specs, see Faults.arm) are armed once the world is built;
        # `rate_limit` allows each key that many requests per virtual minute.
        # speed > 0 lets time run by itself (the offline server); tests keep it manual.
        self.clock = VirtualClock(start, speed=speed)
        self.world = World(
            seed=seed,
            profile=profile_named(profile_name),
            clock=self.clock,
            balance_usd=balance_usd,
            gpu_workers=gpu_workers,
            api_key=api_key,
        )
        self.base_url = base_url.rstrip("/")
        self._idempotency_keys: random.Random | None = None  # see `idempotency_keys`
        # `sdk_version` answers every request in that SDK release's wire dialect, whatever
        # its User-Agent says (for clients that replace the header, and for curl).
        check_installed_sdk()
        # `journal_limit`: the newest calls `calls` keeps (older ones are counted, not kept).
        self.api = Api(
            self.world,
            self.base_url,
            answered_release(sdk_version) if sdk_version else None,
            journal_limit=journal_limit,
        )
        self._webhooks = WebhookCourier(self.world)
        self.api.courier = self._webhooks
        self._transport = FakeTransport(self.api)
        hosts = _parsed_hosts(self.base_url)
        self._url, self._gateway, self._hosts, self._host_keys, self._gateway_key = hosts
        self._gateway_transport = FakeTransport(self.api, prefix=GATEWAY_PREFIX)
        # What teardown checks (see `strictness`): faults fired, routes served, and with
        # `strict`, no request to a host that is neither a fake's nor in `allow_hosts`.
        for name, flag in (
            ("strict", strict),
            ("assert_all_fired", assert_all_fired),
            ("assert_all_served", assert_all_served),
            ("assert_streams_stopped", assert_streams_stopped),
        ):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if isinstance(allow_hosts, str) or not all(isinstance(h, str) for h in allow_hosts):
            raise TypeError(f"allow_hosts must be a list of host names, got {allow_hosts!r}")
        self.strict = strict
        # Normalised once, here, for every check of this fake's requests.
        self.allow_hosts = normalised_hosts(allow_hosts)
        self.assert_all_fired = assert_all_fired
        self.assert_all_served = assert_all_served
        self.assert_streams_stopped = assert_streams_stopped
        """Teardown fails for a stream still running (off by default: a stream nobody
        stops ends idle, as on the API, billed until then)."""
        if isinstance(clock_modules, str) or not all(
            isinstance(m, str) and m.strip() for m in clock_modules
        ):
            raise TypeError(f"clock_modules must be a list of module names, got {clock_modules!r}")
        self.clock_modules = tuple(clock_modules)
        """Modules of the code under test whose ``time.sleep``, ``time.monotonic``,
        ``time.time`` and ``asyncio.sleep`` follow this fake's clock while it is active
        (as the SDK's do); see ``docs/clock.md``."""
        self.stray_calls: list[StrayCall] = []
        """Requests a strict fake refused (hosts neither a fake's nor allowed), oldest first."""
        if loaded is not None:
            loaded.apply(self.world, balance_usd=balance_argument)
        if rate_limit is not None:
            try:
                self.faults.rate_limit(rate_limit)
            except ValueError as exc:
                # Its message names `faults.rate_limit`'s parameter, not this one.
                raise ValueError(f"rate_limit (requests per minute): {exc}") from None
        if faults:
            self.faults.arm_all(faults)

    # ── identity ──

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def profile(self) -> str:
        return self.world.profile.name

    @property
    def sdk_version(self) -> str | None:
        """The SDK release whose dialect every answer speaks; ``None``: the caller's own
        (from its User-Agent), or the newest."""
        version = self.api.sdk_version
        return None if version is None else format_version(version)

    @functools.cached_property
    def jitter(self) -> random.Random:
        """The generator the SDK's retry jitter draws from while coupled, seeded with the
        fake's seed: made when first drawn from (most tests never retry)."""
        return random.Random(self.world.seed)

    def _jitter_uniform(self, low: float, high: float) -> float:
        # What a client's retry policy draws its jitter with: the generator is made then.
        return self.jitter.uniform(low, high)

    @property
    def idempotency_keys(self) -> random.Random:
        """The generator the SDK's ``Idempotency-Key``s draw from while this fake is the
        innermost active one, and its own clients' always, seeded with the fake's seed.

        Apart from :attr:`jitter`, so that a retry does not shift the keys of the writes
        after it. Made when first drawn from.
        """
        generator = self._idempotency_keys
        if generator is None:
            # Under a lock: two threads of an SDK upload pool drawing the first key at once
            # must not make a generator each, and so both send its first key.
            with self.world.lock:
                generator = self._idempotency_keys
                if generator is None:
                    # A string seed (hashed with SHA-512, the same in every process): a
                    # stream of its own, not the jitter's (seeded with the bare number).
                    generator = random.Random(f"idempotency-keys {self.world.seed}")
                    self._idempotency_keys = generator
        return generator

    def _draw_idempotency_key(self) -> str:
        # What this fake's own clients send when the SDK would generate a key: the key
        # the coupled `generate_key` gives (`uuid4().hex`), from this fake's generator.
        return seeded_key(self.idempotency_keys)

    @property
    def api_key(self) -> str:
        """The owner key of the default organization."""
        return self.world.default_key.key

    @property
    def organization_id(self) -> str:
        return self.world.default_org.id

    @property
    def organization(self) -> FakeOrganization:
        """The default organization: the one :attr:`api_key` and the ``add_*`` use."""
        return FakeOrganization(self, self.world.default_org.id, self.world.default_key.key)

    # ── webhooks ──

    @property
    def webhooks(self) -> WebhookCourier:
        """Where this fake's webhooks go: ``route(url, receiver)``, ``deliver()``, ``sent``.

        Deliveries are sent after each request (outside the world lock) once they are
        due on the clock; ``deliver()`` sends what is due without a request. See
        ``docs/webhooks.md``.
        """
        return self._webhooks

    # ── faults ──

    @property
    def faults(self) -> Faults:
        """The faults armed on this fake: see :mod:`pictograph_testing.faults`."""
        return self.api.faults

    # ── activation ──

    def start(self) -> FakePictograph:
        """Activate: couple the SDK's clock and signed-URL transfers to this fake.

        While active, httpx requests to this fake's host from any client reach it
        (through respx), and ``PICTOGRAPH_API_KEY`` holds its key, so code that builds
        its own ``pictograph.Client()`` talks to the fake unchanged.
        """
        activation.activate(self)
        return self

    def stop(self) -> None:
        activation.deactivate(self)

    @property
    def active(self) -> bool:
        return activation.active_fake() is self

    def __enter__(self) -> FakePictograph:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None:
            # A body that raised has already failed: its error says more than these would.
            self.verify()

    def verify(self) -> None:
        """Fail if the test left a fault unfired, called an unserved route or a stray host.

        Raise :class:`~pictograph_testing.strictness.TeardownCheckFailed` (an
        ``AssertionError``) listing each problem and what to do about it. Leaving the
        ``with`` block (or the decorated function) calls it when the body raised nothing;
        the plugin's fixtures call it at teardown when the test passed. See
        ``assert_all_fired``, ``assert_all_served``, ``assert_streams_stopped``,
        ``strict`` and ``allow_hosts``.
        """
        __tracebackhide__ = True  # the report shows the problems, not this method's source
        problems = teardown_problems(self)
        if problems:
            raise TeardownCheckFailed("\n".join(problems))

    def refuse_stray(self, request: httpx.Request) -> str | None:
        """Record and say why, when this strict fake keeps ``request`` off the network.

        ``None`` when the fake is not strict or the host is allowed.
        """
        if host_allowed(request.url, self.allow_hosts):
            return None
        if self.strict:
            message = stray_message(request.method, request.url, self.base_url)
        elif is_pictograph_host(request.url):
            message = pictograph_message(request.method, request.url, self.base_url)
        else:
            return None
        with self.world.lock:
            self.stray_calls.append(StrayCall(request.method, str(request.url), self.clock.now()))
        return message

    # ── as a decorator ──

    _arguments: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        fake = super().__new__(cls)
        # Kept for use as a decorator: each call of the decorated function gets a fresh
        # fake made with the same arguments, never the state of the last call.
        fake._arguments = (args, kwargs)
        return fake

    @overload
    def __call__(
        self, func: Callable[Concatenate[FakePictograph, _Params], _Result]
    ) -> Callable[_Params, _Result]: ...

    @overload
    def __call__(self, func: _Function) -> _Function: ...

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate a test function (sync or async) to run inside a fresh, active fake.

        Every call gets a new fake made with this one's arguments (this instance is
        only the template). A function with a parameter named ``pictograph_fake``
        receives the fake there; the parameter is hidden from the wrapper's signature,
        so pytest does not look for a fixture of that name.
        """
        return _decorated(self, func)

    @property
    def url(self) -> httpx.URL:
        """The base URL, parsed: its host serves the API and the signed storage URLs."""
        return self._url

    @property
    def gateway_url(self) -> httpx.URL:
        """Where its deployments' endpoints answer: ``https://workflows.pictograph.io``
        beside the default base URL, else the base URL's ``/_gateway`` path."""
        return self._gateway

    @property
    def hosts(self) -> tuple[httpx.URL, ...]:
        """One URL per host this fake answers: the API's, and the gateway's when apart."""
        return self._hosts

    @property
    def host_keys(self) -> tuple[HostKey, ...]:
        """What identifies each of :attr:`hosts` (scheme, host and explicit port)."""
        return self._host_keys

    def owns(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on one of this fake's hosts (its API, its signed storage URLs,
        its deployments' gateway)."""
        return host_key(url) in self._host_keys

    def signed(self, url: httpx.URL) -> bool:
        """Whether ``url`` is a signed storage URL this fake minted (and still knows).

        Nested fakes share a host: a transfer goes to the fake that signed its URL.
        """
        path = url.path
        at = path.find(STORAGE_PREFIX)
        if at == -1 or not self.owns(url):
            return False
        token = path[at + len(STORAGE_PREFIX) :].split("/", 1)[0]
        storage = self.world.storage
        return storage.resolve(token) is not None or storage.upload_slot(token) is not None

    def holds_endpoint(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on this fake's deployments' gateway and names an endpoint
        its world holds. Nested fakes share a gateway: a call goes to the endpoint's fake
        (an outer fake's deployment is still answered while an inner fake is active)."""
        # The gateway's own host (the API's, below `/_gateway`, or one of its own).
        prefix = self._gateway.path.rstrip("/")
        path = url.path
        if host_key(url) != host_key(self._gateway) or not path.startswith(prefix + "/"):
            return False
        return holds_endpoint(self.world, path[len(prefix) :])

    def transport_for(self, url: httpx.URL) -> FakeTransport:
        """The transport that answers ``url`` (a URL this fake :meth:`owns`)."""
        if host_key(url) == self._gateway_key:
            return self._gateway_transport
        return self._transport

    # ── ways in ──

    def transport(self) -> FakeTransport:
        """The httpx transport (sync and async) that answers from this fake."""
        return self._transport

    def client(
        self,
        *,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> pictograph.Client:
        """A real ``pictograph.Client`` bound to this fake: no network, no TLS set-up."""
        import pictograph
        from pictograph._http.transport import _build_user_agent

        return self._bound_client(
            pictograph.Client, FakeHttpClient, _build_user_agent(), api_key, timeout, max_retries
        )

    def async_client(
        self,
        *,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> pictograph.AsyncClient:
        """A real ``pictograph.AsyncClient`` bound to this fake.

        Raises :class:`~pictograph_testing.AsyncClientUnavailable` on an SDK older than
        1.16.0, which has no async client.
        """
        require_async_client()
        import pictograph
        from pictograph._http.async_transport import _build_user_agent

        return self._bound_client(
            pictograph.AsyncClient,
            FakeAsyncHttpClient,
            _build_user_agent(),
            api_key,
            timeout,
            max_retries,
        )

    def _bound_client(
        self,
        sdk_class: Callable[..., _Built],
        http_class: type[FakeHttpClient] | type[FakeAsyncHttpClient],
        user_agent: str,
        api_key: str | None,
        timeout: float | None,
        max_retries: int | None,
    ) -> _Built:
        # The SDK's own headers on a client whose transport is this fake; the SDK's
        # transport adopts it instead of building one, and backs off on this fake's clock.
        _check_client_options(timeout, max_retries)
        if api_key is not None:
            arguments.sendable("api_key", api_key)
        key = api_key if api_key is not None else self.api_key
        # The SDK's defaults, not the shell's PICTOGRAPH_TIMEOUT / _MAX_RETRIES.
        default_timeout, default_retries = client_defaults()
        timeout = timeout if timeout is not None else default_timeout
        max_retries = max_retries if max_retries is not None else default_retries
        http = http_class.bound(
            self.base_url,
            self._transport,
            timeout if timeout is not None else 30.0,
            ((API_KEY_HEADER, key), ("User-Agent", user_agent), ("Accept", "application/json")),
        )
        return activation.coupling.build_client(
            lambda: sdk_class(
                api_key=key, base_url=self.base_url, timeout=timeout, max_retries=max_retries
            ),
            http,
            clock=self.clock,
            jitter=self._jitter_uniform,
            keys=self._draw_idempotency_key,
        )

    # ── building the world ──

    def add_dataset(
        self,
        name: str,
        *,
        images: int = 0,
        completed_images: int = 0,
        classes: Sequence[str] | None = None,
        annotation_types: Sequence[str] = ("bbox",),
        description: str | None = None,
        organization: str | FakeOrganization | None = None,
        visibility: Visibility = "private",
        license_id: str | None = None,
    ) -> Dataset:
        """Add a dataset with ``images`` labelled images.

        ``completed_images`` of them have status ``complete``, the rest ``new``. Without
        ``classes`` the dataset has one class, ``object``. Each class is defined once per
        type of ``annotation_types``, and every image holds an annotation of each (boxes
        by default: ``("bbox", "polygon")`` also trains the segmentation pipelines,
        ``("keypoint",)`` keypoint detection); each image is tagged with one class, which
        classification trains on. It belongs to the default organization unless
        ``organization`` (an id or a handle) names another. ``visibility="public"``
        publishes it to Explore at once (see :meth:`publish_dataset`), under
        ``license_id``.
        """
        arguments.api_name("name", name)
        arguments.whole("images", images, high=MAX_SCENARIO_COUNT)
        arguments.whole("completed_images", completed_images)
        if classes is not None:
            arguments.strings("classes", classes)
        arguments.strings("annotation_types", annotation_types)
        for field, value in (("description", description), ("license_id", license_id)):
            if value is not None:
                arguments.text(field, value)
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
        if not 0 <= completed_images <= images:
            raise ValueError(
                f"completed_images must be between 0 and images ({images}), got {completed_images}"
            )
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            try:
                dataset = world.dataset_service.create(
                    org_id,
                    name,
                    annotation_types=annotation_types,
                    classes=[
                        {"name": n, "type": kind}
                        for kind in (annotation_types or ("bbox",))
                        for n in (classes or ["object"])
                    ],
                    description=description,
                    # A test sets its world up as it says, as add_image goes past the
                    # plan's image limit: the API's routes hold the plan's caps.
                    within_plan=False,
                )
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            world.dataset_service.add_synthetic_images(dataset, images, completed=completed_images)
            dataset.license_id = license_id
            if visibility == "public":
                world.catalog.publish_dataset(dataset)
            return dataset

    def publish_dataset(
        self,
        dataset: str,
        *,
        license_id: str | None = None,
        star_count: int | None = None,
        auto_tags: Sequence[str] | None = None,
        organization: str | FakeOrganization | None = None,
    ) -> Dataset:
        """Publish ``dataset`` (a name or id) to Explore, as the app's "Publish" does.

        The developer API cannot publish a dataset, so a test does it here. Every
        organization then lists it (``client.explore.datasets()``), reads it as
        ``"<organization slug>/<dataset name or slug>"`` and may import it. What is given
        is set: its license, its stars (``popular`` orders by them) and its auto tags
        (``top_auto_tags``; ``search`` matches them). Publishing a public dataset again
        only sets those. ``ValueError`` for a dataset the organization does not have.
        """
        arguments.text("dataset", dataset)
        if star_count is not None:
            arguments.whole("star_count", star_count, high=MAX_SCENARIO_COUNT)
        if license_id is not None:
            arguments.text("license_id", license_id)
        if auto_tags is not None:
            arguments.strings("auto_tags", auto_tags)
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            try:
                found = world.dataset(org_id, dataset)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            catalog = world.catalog
            catalog.publish_dataset(found)
            if license_id is not None:
                found.license_id = license_id
            if auto_tags is not None:
                found.auto_tags = [str(tag) for tag in auto_tags]
            if star_count is not None:
                with catalog.dataset_changing(found):
                    found.star_count = star_count
            return found

    def unpublish_dataset(
        self, dataset: str, *, organization: str | FakeOrganization | None = None
    ) -> Dataset:
        """Take ``dataset`` (a name or id) out of Explore: private again, a 404 to other
        organizations; the copies imported from it stay theirs."""
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            try:
                found = world.dataset(org_id, dataset)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            world.catalog.withdraw_dataset(found)
            return found

    def add_connector_source(
        self,
        provider: str,
        api_key: str,
        *,
        workspace: str = "workspace",
        datasets: Mapping[str, int | Sequence[str]],
    ) -> None:
        """Register what ``api_key`` opens at ``provider`` (``"v7"`` or ``"roboflow"``).

        The fake reaches no provider: ``connectors.validate`` lists these ``datasets`` for
        this key (any other is ``"Invalid API key"``) and an import copies their images.
        Each dataset is given by name with its image count (files ``<slug>-00001.jpg`` on)
        or the names of its files. Registering the same key again replaces what it opens:
        a dataset left out is gone for the imports still to copy it.
        """
        from pictograph_testing.world.connectors import PROVIDERS, slug_of

        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}, got {provider!r}")
        if not arguments.text("api_key", api_key).strip():
            raise ValueError("api_key must not be blank")
        arguments.text("workspace", workspace)
        if not isinstance(datasets, Mapping):
            raise TypeError(
                f"datasets must map dataset names to counts or file names, got {datasets!r:.60}"
            )
        files: dict[str, Sequence[str]] = {}
        for name, given in datasets.items():
            arguments.text("each dataset name", name)
            if not name.strip() or len(name) > NAME_LIMIT or "/" in name:
                # An import names its dataset after the source's: one the API would take.
                raise ValueError(
                    f"dataset name {name!r}: 1 to {NAME_LIMIT} characters, not blank, no '/'"
                )
            if isinstance(given, int):
                if isinstance(given, bool) or given < 0:
                    raise ValueError(f"dataset {name!r}: a count of 0 or more, got {given!r}")
                files[name] = [f"{slug_of(name)}-{n:05d}.jpg" for n in range(1, given + 1)]
            else:
                arguments.strings(f"dataset {name!r}'s file names", given)
                bad = [f for f in given if not f.strip() or "/" in f]
                if bad or len(set(given)) != len(given):
                    raise ValueError(
                        f"dataset {name!r}: file names must be distinct, not blank and hold "
                        f"no '/', got {list(given)!r}"
                    )
                files[name] = list(given)
        with self.world.lock:
            self.world.catch_up()  # images due before the change were copied from the old
            self.world.connector_imports.add_source(provider, api_key, workspace, files)

    def remove_connector_source(self, provider: str, api_key: str) -> None:
        """Forget a registered source, as if its key were revoked: the imports still copying
        from it fail, and ``validate`` answers ``"Invalid API key"``."""
        with self.world.lock:
            self.world.catch_up()
            try:
                self.world.connector_imports.remove_source(provider, api_key)
            except KeyError:
                raise ValueError(f"no {provider!r} source is registered for that key") from None

    def star_model(
        self, model: str, star_count: int, *, organization: str | FakeOrganization | None = None
    ) -> Model:
        """Give ``model`` (a name or id) ``star_count`` stars, which Explore's ``popular``
        order sorts by (the API has no call to star a model)."""
        if isinstance(star_count, bool) or not isinstance(star_count, int) or star_count < 0:
            raise ValueError(f"star_count must be a count of 0 or more, got {star_count!r}")
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            try:
                found = world.registry.of_organization(org_id, model)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            with world.catalog.model_changing(found):
                found.star_count = star_count
            return found

    def add_export(
        self,
        dataset: str,
        name: str,
        *,
        status: str = "completed",
        status_filter: str | None = None,
        class_filter: Sequence[str] | None = None,
        export_format: str = "pictograph",
        organization: str | FakeOrganization | None = None,
    ) -> Export:
        """Add an export of ``dataset`` (a name or id), freezing the images it matches.

        With ``status_filter="complete"`` (or another stage) it names the images of that
        stage, with ``None`` every image; it is ``completed`` at once unless ``status`` says
        otherwise. A ``status_filter`` that is no stage (``"all"``) is refused here: the
        API matches it exactly, so it would name no image (an empty export, which the SDK
        sends only by mistake).
        """
        if status not in ("pending", "processing", "completed", "failed"):
            raise ValueError(f"unknown export status {status!r}")
        arguments.text("dataset", dataset)
        arguments.api_name("name", name)
        arguments.text("export_format", export_format)
        if status_filter is not None:
            arguments.text("status_filter", status_filter)
            if status_filter not in IMAGE_STATUSES:
                raise ValueError(
                    f"status_filter must be an image stage ({', '.join(IMAGE_STATUSES)}), or "
                    f"None for every image; got {status_filter!r:.40}, which the API matches "
                    "exactly, so it would name no image"
                )
        if class_filter is not None:
            arguments.strings("class_filter", class_filter)
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            try:
                found = world.dataset(org_id, dataset)
                return world.export_service.create(
                    found,
                    name,
                    export_format=export_format,
                    status_filter=status_filter,
                    class_filter=class_filter,
                    status=status,
                )
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None

    def add_video(
        self,
        *,
        duration_seconds: float,
        fps: float = 30.0,
        width: int = 1280,
        height: int = 720,
        filename: str = "video.mp4",
        organization: str | FakeOrganization | None = None,
    ) -> Video:
        """Put a video in the organization's temporary storage as ``video.upload`` would,
        with the metadata given instead of a file: ``video.probe(video.gcs_path)`` reports
        ``round(duration_seconds * fps)`` frames of ``width`` x ``height`` at ``fps``, and
        ``video.extract_frames`` takes its frames (for a format the fake cannot read, such
        as WebM, or code that is handed a ``gcs_path`` rather than uploading).
        """
        header = video_header(
            duration_seconds=duration_seconds, fps=fps, width=width, height=height
        )
        world = self.world
        org_id = self._org_id(organization)
        with world.lock:
            return world.videos.register(org_id, filename, header)

    def add_camera(
        self,
        source: str,
        *,
        fps: float = 30.0,
        frames: int | None = None,
        width: int = 1280,
        height: int = 720,
    ) -> Camera:
        """Put a camera where a deployment's stream can connect to it: ``source`` is its
        URL as a stream names it (``rtsp://``, ``rtsps://``, or a WebRTC camera's
        ``https://`` WHEP URL; its address public, as the API requires).

        It sends ``fps`` frames a second of ``width`` x ``height`` from the instant a
        stream opens, each one the deployment's model's findings, and stops after
        ``frames`` of them (``None``: never; the stream then ends when stopped, idle or at
        its four-hour limit). The fake reaches no network, so a stream on a camera not
        added here fails to open (``session_failed``). Any number of streams may read the
        same camera; adding one at the same URL again replaces it for later streams.
        """
        camera = make_camera(source, fps=fps, frames=frames, width=width, height=height)
        with self.world.lock:
            return self.world.streams.add_camera(camera)

    def add_api_key(
        self,
        role: Role = "member",
        *,
        organization: str | FakeOrganization | None = None,
        member: Member | None = None,
    ) -> str:
        """Mint another key with ``role`` and return it.

        The key is the default organization's unless ``organization`` names another, and
        the founder's unless ``member`` (from :meth:`add_member`) is given: what the key
        writes is that person's (a comment's author, whose edits are theirs alone).
        """
        org_id = self._org_id(organization)
        if member is not None:
            arguments.member_of("member", member, org_id)
        with self.world.lock:
            created_by = member.user_id if member is not None else None
            return self.world.add_api_key(org_id, role=role, created_by=created_by).key

    def revoke_api_key(self, key: str) -> None:
        """Revoke ``key``: every request that presents it from now on gets a 401."""
        with self.world.lock:
            self.world.revoke_api_key(key)

    def add_organization(
        self, *, balance_usd: float = 100.0, name: str | None = None
    ) -> FakeOrganization:
        """Add another organization, with an owner key; it sees only what is its own.

        Use the handle's ``client()``, ``api_key`` and ``add_*`` methods, or pass it as
        ``organization=`` to the fake's. Another organization's resources are a 404 to
        it, never a 403.
        """
        if name is not None:
            arguments.api_name("name", name)
        with self.world.lock:
            org = self.world.add_organization(balance_usd=balance_usd, name=name)
            key = self.world.add_api_key(org.id, role="owner")
        return FakeOrganization(self, org.id, key.key)

    # ── people ──

    def add_member(
        self,
        email: str,
        role: MemberRole = "member",
        *,
        full_name: str | None = None,
        organization: str | FakeOrganization | None = None,
    ) -> Member:
        """Make someone a member at once, as if they had accepted an invite.

        ``organizations.list_members`` lists them; their ``id`` is what
        ``update_member_role`` and ``remove_member`` take. A pending invite of the same
        address counts as accepted. ``ValueError`` for an address already a member.
        """
        org_id = self._org_id(organization)
        arguments.text("email", email)
        if full_name is not None:
            arguments.text("full_name", full_name)
        with self.world.lock:
            self.world.catch_up()  # an invite that expired by now is not accepted
            try:
                return self.world.people.add(org_id, email, role, full_name)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None

    def accept_invite(
        self,
        invite: str,
        *,
        full_name: str | None = None,
        organization: str | FakeOrganization | None = None,
    ) -> Member:
        """Accept a pending invite (by id or email) as the invitee would in the web app.

        The invitee joins with the invite's role; ``ValueError`` when no pending invite
        matches.
        """
        org_id = self._org_id(organization)
        arguments.text("invite", invite)
        if full_name is not None:
            arguments.text("full_name", full_name)
        with self.world.lock:
            self.world.catch_up()
            try:
                return self.world.people.accept(org_id, invite, full_name)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None

    def decline_invite(
        self, invite: str, *, organization: str | FakeOrganization | None = None
    ) -> Invite:
        """Decline a pending invite (by id or email) as the invitee would."""
        org_id = self._org_id(organization)
        with self.world.lock:
            self.world.catch_up()
            try:
                return self.world.people.decline(org_id, invite)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None

    # ── annotation tasks ──

    def add_task(
        self,
        dataset: str,
        *,
        assignees: Sequence[Member] = (),
        images: int | Sequence[str] | None = None,
        title: str | None = None,
        kind: TaskKind = "annotate",
        organization: str | FakeOrganization | None = None,
    ) -> Task:
        """Assign images of ``dataset`` to ``assignees`` (from :meth:`add_member`), as the app does.

        ``images`` is how many of the dataset's images, oldest first, or their paths
        (``"val/a.jpg"``); by default all of them. The set is frozen: images added later
        are not in the task. ``tasks.contributions`` credits the members who save the
        images' annotations (their keys: ``add_api_key(member=...)``) and the editing
        time :meth:`track_task_time` records.
        """
        org_id = self._org_id(organization)
        arguments.text("dataset", dataset)
        if title is not None:
            arguments.text("title", title)
        assignees = arguments.members_of("assignees", assignees, org_id)
        world = self.world
        with world.lock:
            world.catch_up()
            try:
                found = world.dataset(org_id, dataset)
                if isinstance(images, int) and not isinstance(images, bool):
                    chosen = world.dataset_images(found)[: arguments.whole("images", images)]
                elif images is None:
                    chosen = world.dataset_images(found)
                else:
                    paths = arguments.strings("images (a count, or image paths)", images)
                    chosen = [world.image_service.at_path(found, path) for path in paths]
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            return world.tasks.add(
                found,
                title=title if title is not None else f"Label {found.name}",
                kind=kind,
                images=chosen,
                assignees=assignees,
            )

    def track_task_time(self, task: Task, member: Member, image: str, seconds: int) -> None:
        """Record ``seconds`` of ``member``'s active editing on ``image`` (a path) of ``task``.

        The app measures this time in its editor, which the fake has not; it is what
        ``tasks.contributions`` reports as ``active_seconds``, and the image counts among
        the member's ``images_worked``.
        """
        from pictograph_testing.world.tasks import Task

        if not isinstance(task, Task):
            raise TypeError(f"task must be a task from add_task, got {task!r:.60}")
        arguments.member_of("member", member, task.organization_id)
        arguments.text("image", image)
        arguments.whole("seconds", seconds)
        world = self.world
        with world.lock:
            try:
                found = world.dataset(task.organization_id, task.dataset_id)
                picture = world.image_service.at_path(found, image)
            except ApiRefusal as refusal:
                raise ValueError(refusal.message) from None
            world.tasks.track(task, member.user_id, picture, seconds)

    def _org_id(self, organization: str | FakeOrganization | None) -> str:
        if organization is None:
            return self.world.default_org.id
        org_id = organization.id if isinstance(organization, FakeOrganization) else organization
        if org_id not in self.world.organizations:
            raise ValueError(f"no organization {org_id!r} in this fake")
        return org_id

    # ── credits ──

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """The default organization's ledger, oldest entry first."""
        return self._ledger(self.world.default_org.id)

    @property
    def balance_micro_usd(self) -> int:
        """What the default organization can spend: allowance + budget + ledger."""
        return self._balance(self.world.default_org.id)

    @property
    def balance_usd(self) -> float:
        return self.balance_micro_usd / MICRO_USD

    def top_up(
        self, usd: float, *, organization: str | FakeOrganization | None = None
    ) -> LedgerEntry:
        """Credit an organization with a positive ``top_up`` ledger entry.

        The default organization unless ``organization`` names another.
        """
        usd = arguments.real("usd", usd, above=0, high=MAX_BALANCE_USD)
        org_id = self._org_id(organization)
        with self.world.lock:
            # Dated now: what the clock's services owe until now is posted before it.
            self.world.catch_up()
            org = self.world.organizations[org_id]
            return self.world.billing.top_up(org, round(usd * MICRO_USD))

    def _ledger(self, org_id: str) -> tuple[LedgerEntry, ...]:
        with self.world.lock:
            self.world.catch_up()
            return tuple(self.world.ledgers[org_id])

    def _balance(self, org_id: str) -> int:
        with self.world.lock:
            self.world.catch_up()
            return self.world.billing.spendable(self.world.organizations[org_id])

    # ── scenarios ──

    def snapshot(self) -> dict[str, Any]:
        """The world as an exact scenario document (the format: ``fixtures/README.md``)."""
        return scenarios.snapshot(self.world)

    def save_scenario(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`snapshot` to ``path``; ``FakePictograph(scenario=path)`` loads it."""
        return scenarios.save_scenario(self.world, path)

    # ── inspection ──

    def report(self, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
        """Write the world at this virtual instant to ``path`` as a self-contained HTML file.

        The timeline of runs on the GPU workers, the balance and its ledger, the
        resources and the journal's newest calls, as the server's dashboard shows them
        (``docs/dashboard.md``); no script or style from the network. The same world
        gives the same bytes. Return the path written.
        """
        from pictograph_testing.picture import write_report

        return write_report(self, path, title=title)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of the routes this fake serves, with its URL as server.

        Generated from the route table, like ``GET /_fake/openapi.json`` on the server:
        every route, parameter, bound and enumeration the fake enforces, and the SDK
        methods that call each route.
        """
        from pictograph_testing.openapi import openapi_document

        return openapi_document(self.base_url)

    def run(self, ref: str, *, organization: str | FakeOrganization | None = None) -> RunView:
        """The run with this id or name (newest of that name) as a poll would see it now.

        Its ``status``, ``progress``, ``epoch`` and ``metrics`` are what
        ``client.training.get(ref)`` answers at this virtual instant; the run itself (its
        plan, history, ledger figures) is ``fake.world.runs[run_id]``.
        """
        arguments.text("ref", ref)
        org_id = self._org_id(organization)
        with self.world.lock:
            now = self.world.catch_up()
            try:
                found = self.world.training.resolve(org_id, ref)
            except ApiRefusal:
                raise ValueError(f"no run with the id or name {ref!r}") from None
            return run_state(found, now)

    @property
    def streams(self) -> tuple[StreamView, ...]:
        """Every stream opened on this fake's deployments and workflow endpoints, oldest
        first, as things stand now: which ended and why (``stopped``, ``idle``,
        ``source_ended``...), and the frames each camera sent. For a test of code that
        manages streams: ``assert all(s.ended for s in fake.streams)``."""
        with self.world.lock:
            now = self.world.catch_up()
            built: Streams | None = self.world.built("streams")
            return built.views(now) if built is not None else ()

    @property
    def calls(self) -> Journal:
        """Every call this fake answered, oldest first: filter it and assert on it.

        ``calls.filter(method="POST", path="/api/v1/developer/training/")`` is truthy
        when such a call was made; ``.last``, ``.assert_called(...)`` and
        ``.assert_not_called(...)`` fail with a list of the calls seen. It keeps the
        newest ``journal_limit`` calls (10,000 by default; ``calls.dropped`` counts the
        rest) and the first MiB of each body (``call.truncated`` says when it cut one).
        """
        return Journal(self.api.journal, self.clock.start, self.api.urls)

    @property
    def unserved_calls(self) -> tuple[UnservedCall, ...]:
        """Every call to a route the fake does not serve (yet), oldest first.

        Each was answered 404 ``not_implemented_by_fake`` (not the API's own 404 for an
        unknown id) and names the SDK methods known to send it; ``docs/fidelity.md``
        lists what the fake serves. The journal (:attr:`calls`) marks them too.
        """
        with self.world.lock:
            return tuple(self.api.unserved)

    @property
    def server_errors(self) -> list[BaseException]:
        """Exceptions the fake raised while answering (each was answered as a 500)."""
        return self.api.server_errors

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return (
            f"FakePictograph(seed={self.seed}, profile={self.profile!r}, "
            f"base_url={self.base_url!r}, {state}, now={self.clock.now().isoformat()})"
        )


# A builder's parameters and result (a method of an organization takes the same), and a
# decorated function's without its first parameter, the fake.
_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


class _InOrganization(Generic[_Params, _Result]):
    """A world builder of :class:`FakePictograph`, as a method of one organization.

    It takes the builder's own parameters (so a type checker and ``help()`` see them,
    declared once, on the builder), with ``organization`` given: the organization's.
    """

    def __init__(self, builder: Callable[Concatenate[FakePictograph, _Params], _Result]) -> None:
        self._builder = builder
        self.__doc__ = f"As :meth:`FakePictograph.{builder.__name__}`, in this organization."
        # What `help()` and `inspect` show: the builder's parameters, less the fake and
        # the organization (functools.wraps alone would show both).
        signature = inspect.signature(builder)
        self._signature = signature.replace(
            parameters=[
                p for p in list(signature.parameters.values())[1:] if p.name != "organization"
            ]
        )

    @overload
    def __get__(self, organization: None, owner: type) -> Self: ...

    @overload
    def __get__(
        self, organization: FakeOrganization, owner: type
    ) -> Callable[_Params, _Result]: ...

    def __get__(
        self, organization: FakeOrganization | None, owner: type
    ) -> Self | Callable[_Params, _Result]:
        if organization is None:
            return self
        builder: Callable[..., _Result] = self._builder
        fake, org_id = organization._fake, organization.id

        @functools.wraps(builder)
        def in_organization(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
            if "organization" in kwargs:
                raise TypeError(
                    f"{builder.__name__}() of an organization builds in that organization: "
                    "leave organization= out (or call the fake's own)"
                )
            return builder(fake, *args, organization=org_id, **kwargs)

        in_organization.__signature__ = self._signature  # type: ignore[attr-defined]
        return in_organization


class FakeOrganization:
    """One organization of a fake's world, with its owner key: what it sees is its own.

    From :meth:`FakePictograph.add_organization` (or :attr:`FakePictograph.organization`
    for the default one). Its clients, datasets, exports and ledger are scoped to it.
    """

    __slots__ = ("_fake", "api_key", "id")

    def __init__(self, fake: FakePictograph, organization_id: str, api_key: str) -> None:
        self._fake = fake
        self.id = organization_id
        self.api_key = api_key
        """The organization's owner key."""

    @property
    def name(self) -> str:
        return self._fake.world.organizations[self.id].name

    @property
    def slug(self) -> str:
        """The organization's slug: the first part of its public datasets' and models'
        qualified names (``f"{org.slug}/road-signs"``)."""
        return self._fake.world.organizations[self.id].slug

    @property
    def subscription_tier(self) -> str:
        """The organization's plan (``catalog.PLANS``): its member cap, its keys' rate."""
        return self._fake.world.organizations[self.id].subscription_tier

    @subscription_tier.setter
    def subscription_tier(self, tier: str) -> None:
        if tier not in PLANS:
            raise ValueError(f"unknown plan {tier!r}; choose one of: {', '.join(PLANS)}")
        with self._fake.world.lock:
            self._fake.world.organizations[self.id].subscription_tier = tier

    add_member = _InOrganization(FakePictograph.add_member)

    accept_invite = _InOrganization(FakePictograph.accept_invite)

    def decline_invite(self, invite: str) -> Invite:
        """As :meth:`FakePictograph.decline_invite`, in this organization."""
        return self._fake.decline_invite(invite, organization=self.id)

    def client(
        self,
        *,
        role: Role | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> pictograph.Client:
        """A ``pictograph.Client`` with the owner key, a new key of ``role``, or
        ``api_key`` (one of this organization's keys)."""
        _check_client_options(timeout, max_retries)  # before a key is minted for it
        key = self._key_for(role, api_key)
        return self._fake.client(api_key=key, timeout=timeout, max_retries=max_retries)

    def async_client(
        self,
        *,
        role: Role | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> pictograph.AsyncClient:
        """A ``pictograph.AsyncClient`` with the owner key, a new key of ``role``, or
        ``api_key`` (one of this organization's keys)."""
        require_async_client()
        _check_client_options(timeout, max_retries)
        key = self._key_for(role, api_key)
        return self._fake.async_client(api_key=key, timeout=timeout, max_retries=max_retries)

    def _key_for(self, role: Role | None, api_key: str | None) -> str:
        if api_key is None:
            return self.add_api_key(role) if role is not None else self.api_key
        if role is not None:
            raise ValueError("give a client role= (a new key) or api_key=, not both")
        key = self._fake.world.api_keys.get(api_key)
        if key is None or key.organization_id != self.id:
            # A key of another organization would act as that organization.
            raise ValueError(
                f"api_key is not a key of the organization {self.name!r}: mint one with "
                "add_api_key(), or take the client from the key's own organization"
            )
        return api_key

    def add_api_key(self, role: Role = "member", *, member: Member | None = None) -> str:
        return self._fake.add_api_key(role, organization=self.id, member=member)

    add_dataset = _InOrganization(FakePictograph.add_dataset)
    publish_dataset = _InOrganization(FakePictograph.publish_dataset)
    add_export = _InOrganization(FakePictograph.add_export)
    add_task = _InOrganization(FakePictograph.add_task)
    add_video = _InOrganization(FakePictograph.add_video)

    def top_up(self, usd: float) -> LedgerEntry:
        return self._fake.top_up(usd, organization=self.id)

    def run(self, ref: str) -> RunView:
        """As :meth:`FakePictograph.run`, in this organization."""
        return self._fake.run(ref, organization=self.id)

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """This organization's ledger, oldest entry first."""
        return self._fake._ledger(self.id)

    @property
    def balance_micro_usd(self) -> int:
        return self._fake._balance(self.id)

    @property
    def balance_usd(self) -> float:
        return self.balance_micro_usd / MICRO_USD

    def __repr__(self) -> str:
        return f"FakeOrganization(id={self.id!r}, name={self.name!r})"


class _Hosts(NamedTuple):
    """Where a base URL's fake answers, worked out once per base URL."""

    url: httpx.URL
    gateway: httpx.URL
    served: tuple[httpx.URL, ...]
    """One URL per host: the API's, and the gateway's when apart."""
    keys: tuple[HostKey, ...]
    """What identifies each host served, as the interception routes them."""
    gateway_key: HostKey | None
    """The gateway's host, when it is not the API's (``None``: one host serves both)."""


def _check_client_options(timeout: object, max_retries: object) -> None:
    """Refuse a client's ``timeout`` or ``max_retries`` the SDK would not take."""
    if timeout is not None:
        arguments.real("timeout", timeout, above=0, high=MAX_CLIENT_TIMEOUT)
    if max_retries is not None:
        arguments.whole("max_retries", max_retries, high=MAX_CLIENT_RETRIES)


def _check_arguments(
    seed: object,
    api_key: object,
    base_url: object,
    sdk_version: object,
    start: object,
    speed: object,
) -> None:
    """Refuse a value of the wrong type (``TypeError``) or a seed out of range, saying
    which argument, before anything is built from it."""
    for name, value, kind, what in (
        ("seed", seed, int, "a whole number"),
        ("api_key", api_key, str, "a string"),
        ("base_url", base_url, str, "a URL string"),
        ("sdk_version", sdk_version, str, "a release string such as '1.40.0'"),
        ("start", start, datetime, "a timezone-aware datetime"),
        ("speed", speed, (int, float), "a number"),
    ):
        if value is None and name not in ("base_url", "speed"):
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            raise TypeError(f"{name} must be {what}, got {value!r:.60}")
    if api_key is not None:
        arguments.sendable("api_key", api_key)  # sent in a header by every client
    if seed is not None and not 0 <= cast("int", seed) <= MAX_SEED:
        # A snapshot writes the seed as a JSON number: it must load back.
        raise ValueError(f"seed must be a whole number from 0 to 2**53, got {seed!r:.60}")


@functools.lru_cache(maxsize=32)
def _parsed_hosts(base_url: str) -> _Hosts:
    """The API's URL and its gateway's, and the hosts they are on; ``ValueError`` for a
    base URL a client cannot reach (no http(s) scheme, no host, a bad port), not a fake
    that answers nothing."""
    # Parsed once per base URL (a fake per test would parse the same two each time, and
    # read their hosts at each start and stop); an httpx.URL is never changed in place,
    # so fakes can share them.
    try:
        url = httpx.URL(base_url)
        port = url.port
    except httpx.InvalidURL as exc:
        raise ValueError(f"base_url {base_url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"base_url must be an absolute http(s) URL like 'https://api.pictograph.io', "
            f"got {base_url!r}"
        )
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"base_url's port must be 1 to 65535, got {base_url!r}")
    gateway = httpx.URL(gateway_url(base_url))
    own, gateway_key = host_key(url), host_key(gateway)
    if gateway_key == own:
        return _Hosts(url, gateway, (url,), (own,), None)
    return _Hosts(url, gateway, (url, gateway), (own, gateway_key), gateway_key)


_Built = TypeVar("_Built")
_Function = TypeVar("_Function", bound="Callable[..., Any]")
FAKE_PARAMETER = "pictograph_fake"
"""The parameter through which a decorated function receives its fake."""


def _decorated(template: FakePictograph, func: _Function) -> _Function:
    if isinstance(func, type):
        raise TypeError(
            "FakePictograph decorates functions, not classes: decorate each test method, "
            "so that every test gets a world of its own"
        )
    args, kwargs = template._arguments
    factory = type(template)
    signature = inspect.signature(func)
    wants_fake = FAKE_PARAMETER in signature.parameters

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def run_async(*call_args: Any, **call_kwargs: Any) -> Any:
            with factory(*args, **kwargs) as fake:
                if wants_fake:
                    call_kwargs[FAKE_PARAMETER] = fake
                return await func(*call_args, **call_kwargs)

        wrapper: Callable[..., Any] = run_async
    else:

        @functools.wraps(func)
        def run(*call_args: Any, **call_kwargs: Any) -> Any:
            with factory(*args, **kwargs) as fake:
                if wants_fake:
                    call_kwargs[FAKE_PARAMETER] = fake
                return func(*call_args, **call_kwargs)

        wrapper = run
    if wants_fake:
        parameters = [p for p in signature.parameters.values() if p.name != FAKE_PARAMETER]
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
