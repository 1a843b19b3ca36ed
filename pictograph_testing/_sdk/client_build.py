"""Let the SDK's transports take a prepared httpx client instead of building their own.

``pictograph.Client`` always builds its own ``httpx.Client``, which sets up TLS (about
23 ms). While the hook is in place, ``Transport._build_client`` and
``AsyncTransport._build_client`` first look for a client to adopt (a fake's own clients
need no TLS), then, for a base URL an active fake serves, build the client the SDK would
build but with its network transport set up only if a request ever leaves for the
network (the fake's respx route answers it either way). Every other construction is
untouched.

While held, the SDK's clients also build their ``ClientConfig`` (pydantic-settings,
which reads and validates the environment: about 85 % of building a client) once per
set of arguments and ``PICTOGRAPH_*`` environment, and hand each client a copy.

The hook is held, not just installed: activation holds it while any fake is active, and
building a fake's own client holds it for the duration of the build (a fake need not be
active to hand out clients). The SDK's own methods are back in place once nothing holds
it.
"""

from __future__ import annotations

import os
import threading
from contextvars import ContextVar
from functools import lru_cache
from operator import itemgetter
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from pictograph_testing._http_client import (
    DeferredAsyncHTTPTransport,
    DeferredHTTPTransport,
    FakeAsyncHttpClient,
    FakeHttpClient,
)
from pictograph_testing._sdk.layout import optional_module

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ClientBuildHook", "sdk_environment"]

_Built = TypeVar("_Built")

_METHOD = "_build_client"

# The httpx client a transport being built should adopt. A context variable, so only the
# thread building a fake's client is affected.
_adopt: ContextVar[httpx.Client | httpx.AsyncClient | _Direct | None] = ContextVar(
    "pictograph_testing_adopt", default=None
)


class _Direct:
    """What :data:`_adopt` holds while a client is built to go straight to its host."""


_DIRECT = _Direct()


class ClientBuildHook:
    """Replace the SDK transports' ``_build_client`` while held; restore it when released."""

    def __init__(self, serves: Callable[[httpx.URL], bool]) -> None:
        self._serves = serves
        self._holds = 0
        # Holds come from the activating thread and from any thread building a client.
        self._lock = threading.Lock()
        # What was replaced: (transport class, its method) and (client module, its config).
        self._saved: list[tuple[type | ModuleType, Any]] = []
        self._replacements: dict[Any, Callable[[Any], Any]] = {}

    def install(self) -> None:
        """Hold the hook: put it in place if nothing held it yet."""
        with self._lock:
            self._holds += 1
            if self._holds == 1:
                self._patch()

    def uninstall(self) -> None:
        """Release one hold: put the SDK's own methods back when none is left."""
        with self._lock:
            if not self._holds:
                return
            self._holds -= 1
            if not self._holds:
                while self._saved:
                    owner, original = self._saved.pop()
                    name = _CONFIG if isinstance(owner, ModuleType) else _METHOD
                    setattr(owner, name, original)

    def _replacing(self, original: Any, *, is_async: bool) -> Callable[[Any], Any]:
        """The ``_build_client`` that stands in for the SDK's ``original`` while held."""
        serves = self._serves
        deferring = _deferring(original, is_async=is_async)

        def _build_client(transport: Any) -> Any:
            adopted = _adopt.get()
            if adopted is _DIRECT:
                direct = _direct(original)
                return original(transport) if direct is None else direct(transport)
            if adopted is not None:
                return adopted
            if deferring is not None and _serves_base_url(transport, serves):
                return deferring(transport)
            return original(transport)

        return _build_client

    def adopting(
        self, http: httpx.Client | httpx.AsyncClient, build: Callable[[], _Built]
    ) -> _Built:
        """Call ``build`` (which makes an SDK client) so that its transport adopts ``http``."""
        return self._building(http, build)

    def direct(self, build: Callable[[], _Built]) -> _Built:
        """Call ``build`` (which makes an SDK client) so that its transport builds the
        httpx client the SDK would, but one that never goes through a proxy the
        environment names (``HTTPS_PROXY``): a served fake's own clients, on loopback."""
        return self._building(_DIRECT, build)

    def _building(
        self, adopt: httpx.Client | httpx.AsyncClient | _Direct, build: Callable[[], _Built]
    ) -> _Built:
        """Call ``build`` with the hook held and ``adopt`` for the transport it makes."""
        self.install()
        token = _adopt.set(adopt)
        try:
            return build()
        finally:
            _adopt.reset(token)
            self.uninstall()

    def _patch(self) -> None:
        for module_name, class_name, is_async in _TRANSPORTS:
            module = optional_module(module_name)
            owner = getattr(module, class_name, None) if module is not None else None
            if not isinstance(owner, type) or _METHOD not in vars(owner):
                continue  # an SDK without this transport (async before 1.16.0)
            original = vars(owner)[_METHOD]
            # Made once per original: a fake per test puts the hook in place each time.
            replacement = self._replacements.get(original)
            if replacement is None:
                replacement = self._replacements[original] = self._replacing(
                    original, is_async=is_async
                )
            self._saved.append((owner, original))
            setattr(owner, _METHOD, replacement)
        for module_name in _CONFIG_USERS:
            module = optional_module(module_name)
            if module is None:
                continue  # an SDK without this client (async before 1.16.0)
            config_class = getattr(module, _CONFIG, None)
            if isinstance(config_class, type):
                self._saved.append((module, config_class))
                setattr(module, _CONFIG, _reused_config(config_class))


# The SDK's transports, by module and class: the async one exists since 1.16.0.
_TRANSPORTS = (
    ("pictograph._http.transport", "Transport", False),
    ("pictograph._http.async_transport", "AsyncTransport", True),
)
# The SDK's client modules, which build a `ClientConfig` per client.
_CONFIG = "ClientConfig"
_CONFIG_USERS = ("pictograph.client", "pictograph.aio.client")
_ENV_PREFIX = "PICTOGRAPH_"
_CONFIGS_KEPT = 32


class _ReusedConfig:
    """Build the SDK's ``ClientConfig`` once per arguments and environment; copy it out.

    The config reads only its arguments and the ``PICTOGRAPH_*`` environment variables
    (in any case), so the same of both give the same config: a copy of the one built
    then (so no client shares a mutable config with another) costs about a twentieth of
    building it. A config that fails to validate is never kept, so it fails every time.
    """

    def __init__(self, config_class: type) -> None:
        self.config_class = config_class
        self._built: dict[tuple[object, ...], Any] = {}

    def __call__(self, **kwargs: Any) -> Any:
        try:
            key: tuple[object, ...] = (tuple(sorted(kwargs.items())), sdk_environment())
            built = self._built.get(key)
        except TypeError:  # an argument that cannot be a key: build it as the SDK would
            return self.config_class(**kwargs)
        if built is None:
            built = self.config_class(**kwargs)
            if len(self._built) >= _CONFIGS_KEPT:
                self._built.clear()
            self._built[key] = built
        return built.model_copy()


def sdk_environment() -> tuple[tuple[str, str], ...]:
    """The ``PICTOGRAPH_*`` environment variables (any case), sorted by name."""
    # Iterating os.environ decodes every name (about 5 µs a variable). Its encoded table,
    # where CPython keeps one (POSIX: names in bytes), is searched instead, and only when
    # its names change: a fake's start and its client's config each ask, and between them
    # only values move.
    raw = getattr(os.environ, "_data", None)
    if os.name != "posix" or not isinstance(raw, dict):
        found_here = [name for name in os.environ if name.upper().startswith(_ENV_PREFIX)]
        return tuple(sorted((name, os.environ[name]) for name in found_here))
    names = tuple(raw)
    found = _names_found.get(names)
    if found is None:
        found = [
            (name, os.fsdecode(name))
            for name in names
            if name[:_PREFIX_LENGTH].upper() == _ENV_BYTES
        ]
        found.sort(key=itemgetter(1))  # by name, as the other ways sort (a name is there once)
        if len(_names_found) >= _SEARCHES_KEPT:
            _names_found.clear()
        _names_found[names] = found
    return tuple([(text, os.fsdecode(raw[name])) for name, text in found])


_ENV_BYTES = _ENV_PREFIX.encode()
_PREFIX_LENGTH = len(_ENV_BYTES)
_names_found: dict[tuple[bytes, ...], list[tuple[bytes, str]]] = {}
"""The ``PICTOGRAPH_*`` names of the encoded environment (each also decoded), by all its
names: a fake's start and stop move between two sets of names (its variables set, then
not), so each is searched once."""
_SEARCHES_KEPT = 8


@lru_cache(maxsize=8)
def _reused_config(config_class: type) -> _ReusedConfig:
    # One per config class for the process, so what it built outlives a fake.
    return _ReusedConfig(config_class)


def _serves_base_url(transport: Any, serves: Callable[[httpx.URL], bool]) -> bool:
    """Whether an active fake serves the base URL the SDK's ``transport`` is built for."""
    try:
        base_url = str(transport._config.base_url)
    except AttributeError:
        return False  # an SDK built differently: let it build its own client, TLS and all
    return serves(httpx.URL(base_url.rstrip("/")))


@lru_cache(maxsize=8)
def _direct(original: Any) -> Callable[[Any], Any] | None:
    """The SDK's own ``_build_client``, building a client that ignores the environment's
    proxies (``trust_env=False``); ``None`` if ``original`` is not a plain function.
    Made once per function, as :func:`_deferring` is."""
    return _with_httpx(original, _DirectHttpx("httpx"))


@lru_cache(maxsize=8)
def _deferring(original: Any, *, is_async: bool) -> Callable[[Any], Any] | None:
    """The SDK's own ``_build_client``, building a client whose TLS set-up is put off.

    It runs the SDK's code (so base URL, timeout, headers, pool limits and HTTP/2 are
    whatever the installed release chose: 1.0.x asked for HTTP/2 on the sync client,
    later releases for HTTP/1.1) over its own globals, in which ``httpx`` builds a
    :class:`~pictograph_testing._http_client.FakeHttpClient` on a deferred transport.
    The SDK's module is not touched, so no other thread sees the change. ``None`` if
    ``original`` is not a plain function (something else wraps it): then it is called
    as is. Made once per function (copying the module's globals costs a millisecond).
    """
    return _with_httpx(original, _DeferringHttpx(is_async=is_async))


def _with_httpx(original: Any, httpx_module: ModuleType) -> Callable[[Any], Any] | None:
    """``original`` run over a copy of its globals in which ``httpx`` is
    ``httpx_module``; ``None`` if it is not a plain function."""
    if not isinstance(original, FunctionType):
        return None
    namespace = dict(original.__globals__)
    namespace["httpx"] = httpx_module
    copy = FunctionType(
        original.__code__,
        namespace,
        original.__name__,
        original.__defaults__,
        original.__closure__,
    )
    copy.__kwdefaults__ = original.__kwdefaults__
    return copy


# What httpx hands on from a client's arguments to the network transport it builds.
_TRANSPORT_OPTIONS = ("verify", "cert", "trust_env", "http1", "http2", "limits")


class _DirectHttpx(ModuleType):
    """``httpx`` as the SDK's ``_build_client`` sees it building a direct client."""

    def __getattr__(self, name: str) -> Any:
        return getattr(httpx, name)

    def Client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(**{**kwargs, "trust_env": False})

    def AsyncClient(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(**{**kwargs, "trust_env": False})


class _DeferringHttpx(ModuleType):
    """``httpx`` as the SDK's ``_build_client`` sees it when a fake serves its base URL."""

    def __init__(self, *, is_async: bool) -> None:
        super().__init__("httpx")
        self._is_async = is_async

    def __getattr__(self, name: str) -> Any:
        return getattr(httpx, name)

    # The SDK passes everything by keyword; the transport gets what httpx would give it.
    def Client(self, **kwargs: Any) -> httpx.Client:
        options = {k: kwargs[k] for k in _TRANSPORT_OPTIONS if k in kwargs}
        return FakeHttpClient(**kwargs, transport=DeferredHTTPTransport(**options))

    def AsyncClient(self, **kwargs: Any) -> httpx.AsyncClient:
        options = {k: kwargs[k] for k in _TRANSPORT_OPTIONS if k in kwargs}
        return FakeAsyncHttpClient(**kwargs, transport=DeferredAsyncHTTPTransport(**options))
