"""Intercept httpx traffic to active fakes with respx, so code that builds its own client works.

While at least one fake is active, a respx router has one catch-all route per host that
an active fake serves (the base URL's host, which also serves the signed storage URLs the
fake hands out); the route answers from the innermost active fake on that host. (Held
between the plugin's fakes, a host's route stays while no fake serves it: it then passes
every request on, as if it were not there.) So a
``pictograph.Client()`` or ``pictograph.AsyncClient()`` built by the code under test
(with the key from ``PICTOGRAPH_API_KEY``) reaches the fake with no change, and so does
any other httpx client aimed at the fake's host.

The router runs on a respx mocker of its own, :class:`NetworkTransportMocker`, which
patches httpx's network transports (``HTTPTransport`` / ``AsyncHTTPTransport``) rather
than respx's default ``httpcore`` level or the client level:

- only requests that would go to the network are seen: a client built with its own
  transport (an ``httpx.MockTransport``, a fake's tuned client) is never taken over;
- a request is already an ``httpx.Request`` there, so none is rebuilt from httpcore's
  form and back (that round trip costs more than the fake takes to answer);
- everything not for a fake is passed on to the real transport unchanged (unless the
  innermost fake is strict and the host not allowed: then it is refused), so a test's
  own ``respx.mock`` (which works at the ``httpcore`` level below, or at the client level
  above) applies to it exactly as it would without the fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import respx
from respx.mocks import Mocker
from respx.models import PassThrough

from pictograph_testing.hosts import HostKey, host_key
from pictograph_testing.strictness import StrayRequest

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pictograph_testing.transport import FakeTransport

__all__ = [
    "FakeHostRoute",
    "FakeRouter",
    "NetworkTransportMocker",
    "RespxInterception",
]


def _mocker_name() -> str:
    """A name respx has not given a mocker yet: this module is imported again when a
    pytester run nested in a test imported it first (pytester drops the modules a nested
    session imported), and respx names each mocker once."""
    name, again = "pictograph_testing", 1
    while name in Mocker.registry:
        again += 1
        name = f"pictograph_testing_{again}"
    return name


class NetworkTransportMocker(Mocker):
    """A respx mocker that patches httpx's network transports, one level above httpcore."""

    name: ClassVar[str] = _mocker_name()
    targets: ClassVar[list[str]] = [
        "httpx._transports.default.HTTPTransport",
        "httpx._transports.default.AsyncHTTPTransport",
    ]
    target_methods: ClassVar[list[str]] = ["handle_request", "handle_async_request"]

    # A fixture activates a fake per test: patch with plain attribute swaps, as respx's
    # ``mock.patch`` with autospec costs more than the rest of the activation together.
    # Other tools (pytest-httpx's ``httpx_mock``, a test's ``monkeypatch``) patch the same
    # methods, over our swap or under it, and put back what they found when they end; so
    # each method keeps its swaps as layers, oldest first: (what it wraps, the wrapper).
    _methods: ClassVar[tuple[tuple[type, str], ...]] = (
        (httpx.HTTPTransport, "handle_request"),
        (httpx.AsyncHTTPTransport, "handle_async_request"),
    )
    _swapped: ClassVar[dict[tuple[type, str], list[tuple[Any, Any]]]] = {}

    @classmethod
    def on_top(cls) -> bool:
        """Whether httpx's transports ask the routers first (our newest swap is in place)."""
        for owner, name in cls._methods:
            layers = cls._swapped.get((owner, name))
            if not layers or vars(owner)[name] is not layers[-1][1]:
                return False
        return True

    @classmethod
    def start(cls) -> None:
        """Patch the transports, or patch them again over whatever replaced our patch.

        Another tool that patched them after us (``httpx_mock``) would otherwise answer
        a fake's host itself; one that patched them before us and has since put back
        what it found would otherwise have taken our patch out.
        """
        for owner, name in cls._methods:
            layers = cls._swapped.setdefault((owner, name), [])
            current = vars(owner)[name]
            # Swaps newer than the one in place were undone by another tool's undo.
            wrappers = [wrapper for _, wrapper in layers]
            if current in wrappers:
                del layers[wrappers.index(current) + 1 :]
                continue
            layers.append((current, cls.mock(current, name)))
            setattr(owner, name, layers[-1][1])

    @classmethod
    def stop(cls, force: bool = False) -> None:
        if cls.routers and not force:
            return
        for (owner, name), layers in cls._swapped.items():
            while layers:
                below, wrapper = layers.pop()
                # Put back only what is still ours: a swap another tool has since
                # replaced, or patched over, is that tool's to undo (putting back what
                # it wrapped could bring back a patch of its own that has ended).
                if vars(owner)[name] is wrapper:
                    setattr(owner, name, below)
        cls._swapped.clear()

    @classmethod
    def mock(cls, spec: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
        """Wrap a transport method: ask the routers first, fall back to the real one.

        ``name``: the method it stands in for (``spec``'s own name by default; another
        tool's patch it wraps has a name of its own).
        """
        if (name or spec.__name__) == "handle_async_request":

            async def handle_async_request(self: Any, request: httpx.Request) -> httpx.Response:
                try:
                    response: httpx.Response | None = await cls.async_handler(request)  # type: ignore[no-untyped-call]
                except PassThrough:
                    response = None
                # None: no router (a swap left behind by another tool's undo) answered.
                if response is None:
                    return await spec(self, request)  # type: ignore[no-any-return]
                return response

            return handle_async_request

        def handle_request(self: Any, request: httpx.Request) -> httpx.Response:
            try:
                response: httpx.Response | None = cls.handler(request)  # type: ignore[no-untyped-call]
            except PassThrough:
                response = None
            if response is None:
                return spec(self, request)  # type: ignore[no-any-return]
            return response

        return handle_request


class FakeHostRoute(respx.Route):
    """A catch-all route for one host, answered by the active fake that owns the URL."""

    def __init__(self, key: HostKey, resolve: Callable[[httpx.URL], FakeTransport | None]) -> None:
        scheme, host, port = key
        lookups: dict[str, Any] = {"scheme": scheme, "host": host}
        if port is not None:
            lookups["port"] = port
        # The pattern describes the route; matching is the tuple compare below, which
        # costs far less than respx's general lookups on every request.
        super().__init__(**lookups)
        self._key = key
        self._resolve = resolve

    # One route per host: respx's router compares a route it adds with each it holds,
    # and a route's own comparison hashes its whole pattern (a few µs per fake started).
    def __eq__(self, other: object) -> bool:
        if isinstance(other, FakeHostRoute):
            return self._key == other._key
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self._key)

    def transport_for(self, request: httpx.Request) -> FakeTransport | None:
        """The fake transport that answers ``request``, or ``None`` if not this route's."""
        url = request.url
        if host_key(url) != self._key:
            return None
        return self._resolve(url)

    def match(self, request: httpx.Request) -> httpx.Response | None:
        transport = self.transport_for(request)
        return transport.handle_request(request) if transport is not None else None


class FakeRouter(respx.MockRouter):
    """The respx router of the active fakes: their hosts' routes, everything else passed on."""

    def __init__(
        self,
        refuse: Callable[[httpx.Request], str | None] | None = None,
        passing_on: Callable[[httpx.Request], None] | None = None,
    ) -> None:
        super().__init__(
            assert_all_called=False, assert_all_mocked=False, using=NetworkTransportMocker.name
        )
        self._refuse = refuse
        self._passing_on = passing_on

    def start(self) -> None:
        # respx's start also snapshots routes and calls (for its rollback on stop), and
        # each snapshot builds mock objects; the routes here are managed one by one.
        self.Mocker = NetworkTransportMocker
        NetworkTransportMocker.register(self)
        NetworkTransportMocker.start()

    def stop(self, clear: bool = True, reset: bool = True, quiet: bool = False) -> None:
        NetworkTransportMocker.unregister(self)
        NetworkTransportMocker.stop()

    def handler(self, request: httpx.Request) -> httpx.Response:
        # respx's own resolve would record every call (the fake's journal already does)
        # and answer an unmatched request with an empty 200; neither is wanted here.
        return self._transport(request).handle_request(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        response: Awaitable[httpx.Response] = self._transport(request).handle_async_request(request)
        return await response

    def _transport(self, request: httpx.Request) -> FakeTransport:
        for route in self.routes:
            transport = route.transport_for(request) if isinstance(route, FakeHostRoute) else None
            if transport is not None:
                return transport
        refusal = self._refuse(request) if self._refuse is not None else None
        if refusal is not None:
            # A strict fake keeps the test off the network, as respx's assert_all_mocked.
            raise StrayRequest(refusal)
        if self._passing_on is not None:
            self._passing_on(request)
        raise PassThrough(
            f"{request!r} is not for a fake: sent on as usual",
            request=request,
            origin=_PASSED_ON,
        )


_PASSED_ON = respx.Route().pass_through()


class RespxInterception:
    """Keep one route per active fake host, on a router started while the SDK is coupled."""

    def __init__(
        self,
        resolve: Callable[[httpx.URL], FakeTransport | None],
        refuse: Callable[[httpx.Request], str | None] | None = None,
        passing_on: Callable[[httpx.Request], None] | None = None,
    ) -> None:
        """``passing_on`` sees each request passed on to the network, before it goes."""
        self._resolve = resolve
        self._router = FakeRouter(refuse, passing_on)
        self._hosts: dict[HostKey, int] = {}
        # Routes are kept once made: a respx Route builds mock objects as it is made.
        self._routes: dict[HostKey, FakeHostRoute] = {}
        # Hosts no fake serves whose route is left in the router (see `remove`).
        self._parked: set[HostKey] = set()

    @property
    def router(self) -> FakeRouter:
        """The respx router (its ``routes`` show the hosts being intercepted)."""
        return self._router

    def install(self) -> None:
        """Start the router: httpx's network transports ask it first from now on."""
        self._router.start()

    def keep_on_top(self) -> None:
        """Patch httpx's transports again if another tool replaced our patch since
        :meth:`install` (see :meth:`NetworkTransportMocker.start`)."""
        if not NetworkTransportMocker.on_top():
            NetworkTransportMocker.start()

    def uninstall(self) -> None:
        """Stop the router, restoring httpx's network transports, and forget every host."""
        for key in (*self._hosts, *self._parked):
            self._router.routes.pop(_route_name(key))  # type: ignore[no-untyped-call]
        self._hosts.clear()
        self._parked.clear()
        self._router.stop()

    def add(self, key: HostKey) -> None:
        """Route the host ``key`` names to the fakes (counted: several fakes may share a
        host)."""
        count = self._hosts.get(key, 0)
        self._hosts[key] = count + 1
        if count:
            return
        if key in self._parked:
            self._parked.discard(key)
            return
        route = self._routes.get(key)
        if route is None:
            route = self._routes[key] = FakeHostRoute(key, self._resolve)
        self._router.routes.add(route, name=_route_name(key))

    def remove(self, key: HostKey, *, keep_route: bool = False) -> None:
        """Undo one :meth:`add`.

        ``keep_route``: when no fake is left on the host, its route stays in the router
        until :meth:`uninstall` (or the host's next :meth:`add`). It answers nothing
        then (no active fake owns the URL, so the request is passed on as if there were
        no route), and taking it out and putting it back costs more than a fake's
        activation otherwise does.
        """
        count = self._hosts.get(key, 0)
        if count > 1:
            self._hosts[key] = count - 1
            return
        if count == 0:
            return
        del self._hosts[key]
        if keep_route:
            self._parked.add(key)
        else:
            self._router.routes.pop(_route_name(key))  # type: ignore[no-untyped-call]


def _route_name(key: HostKey) -> str:
    scheme, host, port = key
    return f"pictograph-fake {scheme}://{host}" + (f":{port}" if port is not None else "")
