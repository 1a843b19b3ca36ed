"""Couple the SDK's waits to a fake's virtual clock, in the SDK's modules and those named.

While a fake is active, the ``time``, ``asyncio`` and ``random`` names inside the
``pictograph`` package's modules are replaced by stand-ins: ``sleep`` advances the
virtual clock instead of blocking, ``monotonic`` and ``time`` read it, and the retry
jitter comes from the fake's seeded generator. Everything else is forwarded to the real
module. The global ``time`` module is never touched, so the test runner, the event loop
and the user's own code keep real time, except in the modules a fake names in
``clock_modules`` (:meth:`ClockCoupling.couple_modules`), which get the same stand-ins.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import sys
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pictograph_testing._sdk.layout import optional_module

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from pictograph_testing.clock import VirtualClock

__all__ = ["ClockCoupling"]

_SDK_PACKAGE = "pictograph"


class _TimeStandIn(ModuleType):
    """``time`` as SDK modules see it while coupled."""

    def __init__(self, clock: Callable[[], VirtualClock | None]) -> None:
        super().__init__("time")
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        clock = self._clock()
        if clock is None:
            time.sleep(seconds)
        else:
            clock.sleep(seconds)

    def monotonic(self) -> float:
        clock = self._clock()
        return time.monotonic() if clock is None else clock.monotonic()

    def time(self) -> float:
        clock = self._clock()
        return time.time() if clock is None else clock.timestamp()


class _AsyncioStandIn(ModuleType):
    """``asyncio`` as SDK modules see it while coupled: ``sleep`` sleeps on the fake's
    clock; ``to_thread`` runs its (file) work in place, in order, and ``as_completed``
    starts and hands back its awaitables in the order given.

    ``for_sdk=False``: as a module named in ``clock_modules`` sees it, where only
    ``sleep`` changes: the user's own thread work stays on a thread, and the order in
    which their awaitables complete stays theirs.
    """

    def __init__(self, clock: Callable[[], VirtualClock | None], *, for_sdk: bool) -> None:
        super().__init__("asyncio")
        self._clock = clock
        self._for_sdk = for_sdk

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def as_completed(self, fs: Iterable[Awaitable[Any]], *, timeout: float | None = None) -> Any:
        if not self._for_sdk or timeout is not None or self._clock() is None:
            return asyncio.as_completed(fs, timeout=timeout)
        # asyncio's starts the awaitables in the order of a set (memory addresses): the
        # SDK's async dataset download sent its requests in another order each run.
        # Started in the order given and handed back in that order, the journal repeats.
        return iter([asyncio.ensure_future(awaitable) for awaitable in fs])

    async def to_thread(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        clock = self._clock()
        if clock is None or not self._for_sdk:
            return await asyncio.to_thread(func, *args, **kwargs)
        # The SDK's file reads and writes (every release's every use), run in place: on
        # a thread pool, gathered uploads reached the fake in whatever order the threads
        # finished, so the same calls gave different journals. In place, the clock stays
        # put while they work (the loop is busy), and the tasks take turns in order.
        result = func(*args, **kwargs)
        await asyncio.sleep(0)  # the turn a thread's await gave the other tasks
        return result

    async def sleep(self, delay: float, result: Any = None) -> Any:
        clock = self._clock()
        if clock is None:
            return await asyncio.sleep(delay, result)
        # On the virtual timeline: concurrent tasks' sleeps overlap (see sleepers).
        await clock.async_sleep(delay)
        return result


class _RandomStandIn(ModuleType):
    """``random`` as SDK modules see it while coupled: seeded, so backoff jitter repeats."""

    def __init__(self, generator: Callable[[], random.Random | None]) -> None:
        super().__init__("random")
        self._generator = generator

    def __getattr__(self, name: str) -> Any:
        return getattr(random, name)

    def uniform(self, a: float, b: float) -> float:
        generator = self._generator()
        return random.uniform(a, b) if generator is None else generator.uniform(a, b)


def _hashable(value: object) -> object:
    # Module namespaces hold unhashable values too (lists, dicts): those are never clocks.
    try:
        hash(value)
    except TypeError:
        return None
    return value


def _load_sdk() -> None:
    """Import the SDK's clients, so that every module that waits is there to couple.

    Before 1.16.0 there is no async client: the sync one is all there is to load.
    """
    import pictograph  # noqa: F401

    optional_module("pictograph.aio")


class ClockCoupling:
    """Install and remove the stand-ins in every loaded ``pictograph`` module.

    Finding the names to replace means reading every attribute of every SDK module
    (a few hundred microseconds); the places found are kept and reused while the set
    of loaded modules is unchanged, so activating a fake per test stays cheap.
    """

    def __init__(
        self,
        clock: Callable[[], VirtualClock | None],
        generator: Callable[[], random.Random | None],
    ) -> None:
        self._stand_ins: dict[ModuleType, ModuleType] = {
            time: _TimeStandIn(clock),
            asyncio: _AsyncioStandIn(clock, for_sdk=True),
            random: _RandomStandIn(generator),
        }
        # The user's own modules (`clock_modules`): their sleeps on the clock, no more.
        self._user_asyncio = _AsyncioStandIn(clock, for_sdk=False)
        # Each place a stand-in goes: (the module's namespace, attribute, real module,
        # stand-in). Namespaces, not modules: installing per test pays no `vars()` calls.
        self._saved: list[tuple[dict[str, Any], str, ModuleType]] = []
        self._targets: list[tuple[dict[str, Any], str, ModuleType, ModuleType]] = []
        # The modules the places are in, by name: a new scan when any is not loaded as
        # that same object (a checked tuple compare, no Python per module).
        self._scanned_names: tuple[str, ...] = ()
        self._scanned: tuple[ModuleType, ...] = ()
        self._scanned_modules = -1

    def install(self) -> None:
        """Put the stand-ins in place of the real modules in every loaded SDK module."""
        if self._saved:
            return
        _load_sdk()
        if not self._targets_current():
            self._targets = self._scan()
            self._scanned_modules = len(sys.modules)
        saved = self._saved
        for namespace, attribute, original, stand_in in self._targets:
            # Only replace what is still the real module: never stack stand-ins.
            if namespace.get(attribute) is original:
                saved.append((namespace, attribute, original))
                namespace[attribute] = stand_in

    def _targets_current(self) -> bool:
        """Whether the places found last time are still every place to replace.

        A module imported since (the count changed) or one re-imported as a new object
        (pytester, importlib.reload) means a new scan.
        """
        if len(sys.modules) != self._scanned_modules:
            return False
        # Modules compare by identity: equal tuples hold the very modules scanned.
        return tuple(map(sys.modules.get, self._scanned_names)) == self._scanned

    def _scan(self) -> list[tuple[dict[str, Any], str, ModuleType, ModuleType]]:
        """Every (SDK module's namespace, attribute, real module, stand-in) to replace."""
        targets = []
        scanned: dict[str, ModuleType] = {}
        for module_name, module in list(sys.modules.items()):
            if module is None or not (
                module_name == _SDK_PACKAGE or module_name.startswith(_SDK_PACKAGE + ".")
            ):
                continue
            namespace = vars(module)
            for attribute, value in list(namespace.items()):
                if isinstance(value, ModuleType) and value in self._stand_ins:
                    targets.append((namespace, attribute, value, self._stand_ins[value]))
                    scanned[module_name] = module
        self._scanned_names = tuple(scanned)
        self._scanned = tuple(scanned.values())
        return targets

    def couple_modules(self, names: Sequence[str]) -> list[tuple[ModuleType, str, object]]:
        """Put the stand-ins in the named modules (the user's own); return what to restore.

        Each module is imported if it is not yet. In it, the names bound to the ``time``
        or ``asyncio`` module, and those bound to ``time.sleep``, ``time.monotonic``,
        ``time.time`` or ``asyncio.sleep`` themselves (``from time import sleep``), are
        replaced; submodules are not, name them too. Give the result to
        :meth:`uncouple_modules`.
        """
        functions: dict[object, object] = {
            time.sleep: self._stand_ins[time].sleep,
            time.monotonic: self._stand_ins[time].monotonic,
            time.time: self._stand_ins[time].time,
            asyncio.sleep: self._user_asyncio.sleep,
        }
        replaced: list[tuple[ModuleType, str, object]] = []
        for name in names:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as missing:
                self.uncouple_modules(replaced)
                raise ValueError(f"clock_modules: cannot import {name!r} ({missing})") from None
            namespace = vars(module)
            for attribute, value in list(namespace.items()):
                if value is asyncio:
                    stand_in: object = self._user_asyncio
                elif value is time:
                    stand_in = self._stand_ins[time]
                elif not isinstance(value, ModuleType) and _hashable(value) in functions:
                    stand_in = functions[value]
                else:
                    continue
                replaced.append((module, attribute, value))
                namespace[attribute] = stand_in
        return replaced

    def uncouple_modules(self, replaced: list[tuple[ModuleType, str, object]]) -> None:
        """Undo one :meth:`couple_modules`."""
        for module, attribute, original in reversed(replaced):
            vars(module)[attribute] = original
        replaced.clear()

    def uninstall(self) -> None:
        """Put the real modules back wherever :meth:`install` replaced them."""
        for namespace, attribute, original in reversed(self._saved):
            namespace[attribute] = original
        self._saved.clear()
