"""Everything that reaches into the SDK's internals, put in place and taken out as one.

While any fake is active, :class:`SdkCoupling` keeps these in place:

- :mod:`.clock`: the ``time``, ``asyncio`` and ``random`` names in the SDK's modules
  (the retry policy's among them) follow the innermost fake's clock and jitter;
- :mod:`.idempotency`: the ``uuid`` name in the SDK's idempotency module draws the
  ``Idempotency-Key`` of each write from the innermost fake's seeded generator (a write
  the interception passes on to a host no fake serves leaves with a key of its own);
- :mod:`.transfers`: the ``httpx`` name in the modules that move bytes to signed URLs
  sends the fakes' URLs to the fakes;
- :mod:`.interception`: httpx's network transports ask a respx router, which has a
  route per active fake host, before going to the network;
- :mod:`.client_build`: the SDK transports' ``_build_client`` adopts a prepared client,
  or skips the TLS set-up for a host a fake serves;
- :mod:`.results_socket`: a deployment stream's results socket (a WebSocket, outside
  httpx) reads the stream of the fake owning its host, in process.

:meth:`SdkCoupling.install` is called when the first fake starts and
:meth:`SdkCoupling.uninstall` when the last one stops, the way time-machine patches when
its stack goes from empty and restores when it empties: afterwards every name it
replaced is the original object again. The couplings never hold a fake; they ask for
the innermost one (or the one owning a URL) through the lookups they are given.
:mod:`.retry` and :func:`.idempotency.bind_keys` bind a fake's own clients to that fake
(its clock, jitter and keys), which changes only those clients;
:mod:`.loop_closing` closes contract mode's live async client on the loop it used.
Each coupling asks :mod:`.layout` for the SDK modules it reaches into and couples only
those the installed release has (an SDK before 1.16.0 has no async client).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

from pictograph_testing._sdk.client_build import ClientBuildHook
from pictograph_testing._sdk.clock import ClockCoupling
from pictograph_testing._sdk.idempotency import KeyCoupling, bind_keys
from pictograph_testing._sdk.interception import RespxInterception
from pictograph_testing._sdk.results_socket import ResultsSocketCoupling
from pictograph_testing._sdk.retry import bind_retries
from pictograph_testing._sdk.transfers import TransferRouting

if TYPE_CHECKING:
    import random
    from collections.abc import Callable, Sequence
    from types import ModuleType

    import httpx

    from pictograph_testing._sdk.interception import FakeRouter
    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.hosts import HostKey
    from pictograph_testing.transport import FakeTransport

__all__ = ["SdkCoupling"]

_Built = TypeVar("_Built")


class SdkCoupling:
    """Couple the SDK to the active fakes: installed with the first, removed with the last."""

    def __init__(
        self,
        *,
        clock: Callable[[], VirtualClock | None],
        jitter: Callable[[], random.Random | None],
        keys: Callable[[], random.Random | None],
        owner: Callable[[httpx.URL], FakeTransport | None],
        serves: Callable[[httpx.URL], bool],
        refuse: Callable[[httpx.Request], str | None] | None = None,
    ) -> None:
        """Take the lookups: the innermost fake's clock, jitter and idempotency-key
        generator, the fakes' hosts, and whether a request for no fake's host is refused
        (why, or ``None``)."""
        self._clock = ClockCoupling(clock, jitter)
        self._keys = KeyCoupling(keys)
        self._transfers = TransferRouting(owner)
        # A seeded key leaves for a host no fake serves as a key of its own.
        self._interception = RespxInterception(owner, refuse, self._keys.off_the_fakes)
        self._client_build = ClientBuildHook(serves)
        self._results_socket = ResultsSocketCoupling(owner)
        self._installed = False
        self._modules = 0  # how many modules were loaded when it was put in place

    @property
    def installed(self) -> bool:
        """Whether the SDK is coupled (some fake is active)."""
        return self._installed

    @property
    def router(self) -> FakeRouter:
        """The respx router (its ``routes`` show the hosts being intercepted)."""
        return self._interception.router

    def install(self) -> None:
        """Couple the SDK: call when the first fake starts.

        Already in place (held from one fake to the next), it is put in place afresh
        if modules were imported since: an SDK module loaded in between is coupled too.
        """
        if self._installed:
            if len(sys.modules) == self._modules:
                self.keep_interception_on_top()
                return
            self.uninstall()
        self._client_build.install()
        self._clock.install()
        self._keys.install()
        self._transfers.install()
        self._interception.install()
        self._results_socket.install()
        self._installed = True
        self._modules = len(sys.modules)

    def keep_interception_on_top(self) -> None:
        """Make httpx's transports ask the fakes first again, if another tool patched
        them since (pytest-httpx's ``httpx_mock`` patches over them, a ``monkeypatch``
        put back what it found): a fake's host is the fake's, whatever else mocks httpx."""
        if self._installed:
            self._interception.keep_on_top()

    def uninstall(self) -> None:
        """Uncouple the SDK: call when the last fake stops; every name is the original again."""
        if not self._installed:
            return
        self._installed = False
        self._results_socket.uninstall()
        self._interception.uninstall()
        self._transfers.uninstall()
        self._keys.uninstall()
        self._clock.uninstall()
        self._client_build.uninstall()

    def couple_modules(self, names: Sequence[str]) -> list[tuple[ModuleType, str, object]]:
        """Put the named modules (the user's) on the innermost fake's clock; see
        :meth:`.clock.ClockCoupling.couple_modules`."""
        return self._clock.couple_modules(names)

    def uncouple_modules(self, replaced: list[tuple[ModuleType, str, object]]) -> None:
        """Undo one :meth:`couple_modules`."""
        self._clock.uncouple_modules(replaced)

    def route(self, host: HostKey) -> None:
        """Intercept requests to ``host``: a fake serving it has started."""
        self._interception.add(host)

    def unroute(self, host: HostKey, *, keep_route: bool = False) -> None:
        """Undo one :meth:`route`: a fake serving ``host`` has stopped.

        ``keep_route``: the host's route stays in place until the coupling is removed
        (it passes every request on while no fake serves the host), for a fake that
        will serve it again soon.
        """
        self._interception.remove(host, keep_route=keep_route)

    def build_direct_client(
        self, build: Callable[[], _Built], *, keys: Callable[[], str] | None = None
    ) -> _Built:
        """Call ``build`` to make an SDK client that goes straight to its host, never
        through a proxy the environment names (a served fake's, on loopback).

        ``keys``: the ``Idempotency-Key`` of each write the client would generate.
        """
        client = self._client_build.direct(build)
        if keys is not None:
            bind_keys(client, keys)
        return client

    def build_client(
        self,
        build: Callable[[], _Built],
        http: httpx.Client | httpx.AsyncClient,
        *,
        clock: VirtualClock,
        jitter: Callable[[float, float], float],
        keys: Callable[[], str],
    ) -> _Built:
        """Call ``build`` to make an SDK client on ``http`` that backs off on ``clock``.

        ``http`` is adopted as the client's httpx client (no TLS set-up), its retries
        draw their jitter with ``jitter`` (as ``random.Random.uniform``), and the
        ``Idempotency-Key`` of each write it would generate is ``keys()``. Works whether
        or not a fake is active.
        """
        client = self._client_build.adopting(http, build)
        bind_retries(client, clock, jitter)
        bind_keys(client, keys)
        return client
