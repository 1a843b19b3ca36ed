"""Draw the SDK's ``Idempotency-Key``s from a fake's seeded generator, so journals repeat.

Every SDK release tags each write (POST, PUT, PATCH) its transport's ``request`` sends
with ``pictograph._http.idempotency.generate_key()``, which is ``uuid.uuid4().hex``, and
sends that one key on every retry of the write. Drawn from the operating system, the keys
made the same calls differ run to run, and a journal that kept them could not repeat.

- While a fake is active, the ``uuid`` name in that module (and only there: the SDK's
  other draws, such as the ids of annotations saved without one, stay its own) is a
  stand-in whose ``uuid4`` makes a version-4 UUID from the innermost fake's seeded
  generator; with no fake active (the coupling held between tests) it calls the real
  ``uuid.uuid4``. The SDK's ``generate_key`` still runs and shapes the key, as for the
  clock's stand-ins.
- A fake's own clients draw from that fake, active or not (:func:`bind_keys`), as their
  retries back off on its clock (:mod:`.retry`); so do a ``FakeServer``'s, from the fake
  it serves, whose world outlives the fakes a test activates beside it.

A key a caller gives (``idempotency_key=`` or an ``Idempotency-Key`` header) is sent as
given either way.

A seeded key is for the fakes only. A write the coupled SDK sends to a host no fake
serves (a staging API, a ``FakeServer`` reached by a plain ``pictograph.Client``) would
carry the same key every run, or every test with a fresh fake of the same seed, and a
server that remembers keys would answer it with an earlier write's stored answer instead
of doing it. So such a write leaves with a key of the operating system's in place of the
seeded one (:meth:`KeyCoupling.off_the_fakes`, called by the interception as it passes
the request on), the same one on each of its retries.
"""

from __future__ import annotations

import inspect
import uuid
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pictograph_testing._sdk.layout import optional_module

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    import httpx

__all__ = ["KeyCoupling", "bind_keys", "seeded_key"]

_MODULE = "pictograph._http.idempotency"
_HEADER = "Idempotency-Key"
_REMEMBERED = 4096
"""How many of the latest seeded keys are told apart from a caller's own."""


def _seeded_uuid4(generator: random.Random) -> uuid.UUID:
    """A version-4 UUID from ``generator``'s next 128 bits (the version and variant bits
    set as ``uuid.uuid4`` sets them), so its ``hex`` has the shape of the SDK's keys."""
    return uuid.UUID(int=generator.getrandbits(128), version=4)


def seeded_key(generator: random.Random) -> str:
    """The key the coupled SDK's ``generate_key`` (``uuid4().hex``) returns next from
    ``generator``: what :func:`bind_keys` hands a fake's own clients."""
    return _seeded_uuid4(generator).hex


class _UuidStandIn(ModuleType):
    """``uuid`` as the SDK's idempotency module sees it while coupled: ``uuid4`` seeded."""

    def __init__(self, generator: Callable[[], random.Random | None]) -> None:
        super().__init__("uuid")
        self._generator = generator
        self._source: random.Random | None = None
        self.drawn: dict[str, str | None] = {}
        """The keys drawn from the current generator, oldest first, each with the key of
        the operating system's sent in its place to a host no fake serves (``None``
        until one is). A fresh generator starts afresh: a fake of the same seed draws
        the same keys again, and each of its writes off the fakes needs a key of its own."""

    def __getattr__(self, name: str) -> Any:
        return getattr(uuid, name)

    def uuid4(self) -> uuid.UUID:
        generator = self._generator()
        if generator is None:
            # Looked up on the real module at each call: a test's own patch of uuid.uuid4
            # is what the SDK uses with no fake active, as without the coupling.
            return uuid.uuid4()
        drawn = self.drawn
        if generator is not self._source:
            self._source = generator
            drawn.clear()
        elif len(drawn) >= _REMEMBERED:
            del drawn[next(iter(drawn))]  # a write's retries come long before this
        key = _seeded_uuid4(generator)
        drawn[key.hex] = None
        return key


class KeyCoupling:
    """Install and remove the ``uuid`` stand-in in the SDK's idempotency module."""

    def __init__(self, generator: Callable[[], random.Random | None]) -> None:
        self._stand_in = _UuidStandIn(generator)
        self._saved: dict[str, Any] | None = None

    def install(self) -> None:
        """Put the stand-in in place of ``uuid`` in ``pictograph._http.idempotency``."""
        if self._saved is not None:
            return
        module = optional_module(_MODULE)
        if module is None:
            return
        namespace = vars(module)
        # Only the real module is replaced: never a stand-in, nor a name the SDK rebound.
        if namespace.get("uuid") is uuid:
            namespace["uuid"] = self._stand_in
            self._saved = namespace

    def uninstall(self) -> None:
        """Put the real ``uuid`` back."""
        if self._saved is not None:
            self._saved["uuid"] = uuid
            self._saved = None

    def off_the_fakes(self, request: httpx.Request) -> None:
        """Give ``request``, leaving for a host no fake serves, a key of the operating
        system's in place of a seeded one (see the module's docstring): the same one for
        every attempt of its write. A key the caller chose is left as it is."""
        sent = request.headers.get(_HEADER)
        if sent is None:
            return
        drawn = self._stand_in.drawn
        if sent not in drawn:
            return
        own = drawn[sent]
        if own is None:
            own = drawn[sent] = uuid.uuid4().hex
        request.headers[_HEADER] = own


def bind_keys(client: Any, draw: Callable[[], str]) -> None:
    """Make ``client``'s writes take their ``Idempotency-Key`` from ``draw`` when the SDK
    would generate one, whether or not any fake is active.

    Only this client's transport changes: it becomes an instance of a subclass of its
    class (:func:`_keyed_class`, made once per class) that holds ``draw``. Given no
    ``idempotency_key``, a write gets ``draw()`` passed as one, which the SDK sends (and
    resends on each retry) as its own; a key the caller gave, as argument or header, is
    sent as given. ``draw`` is called exactly when the SDK would call ``generate_key``
    (it does even when a header holds the key), so a fake's own client and a client the
    code under test builds draw the same sequence for the same calls.

    A class, not a wrapper on the instance: a wrapper holding the transport's bound
    method made a reference cycle, so every closed client (its httpx client and 26
    resources) waited for a garbage collection, which the tests after it paid for; and
    building a wrapper per client cost more than the rest of the binding.
    """
    transport = client._transport
    base = type(transport)
    keyed = _keyed_classes.get(base)
    if keyed is None:
        module = optional_module(_MODULE)
        if module is None:
            return
        keyed = _keyed_class(base, module.needs_idempotency)
        # A keyed transport bound again keeps its class.
        _keyed_classes[base] = _keyed_classes[keyed] = keyed
    if "request" in vars(transport):
        # Another tool's `request` on this very instance would hide the class's: the
        # coupled stand-in still seeds the key while a fake is active.
        return
    setattr(transport, _DRAW, draw)
    transport.__class__ = keyed


_DRAW = "_pictograph_testing_draw_key"
"""The attribute of a keyed transport holding what draws its writes' keys."""
_keyed_classes: dict[type, type] = {}
"""Each SDK transport class's keyed subclass, and each keyed subclass as its own."""


def _keyed_class(base: type, needs_key: Callable[[str], bool]) -> type:
    """The subclass of the SDK transport ``base`` whose writes draw their keys with the
    instance's :data:`_DRAW` (``base.request`` is looked up at each call: a test's patch
    of the SDK's class applies to these transports too)."""

    def with_key(transport: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        method = args[0] if args else kwargs.get("method", "")
        if not kwargs.get("idempotency_key") and needs_key(method):
            kwargs["idempotency_key"] = getattr(transport, _DRAW)()
        return kwargs

    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": base.__module__,
        "__qualname__": base.__qualname__,
    }
    if inspect.iscoroutinefunction(base.request):  # type: ignore[attr-defined]

        async def request_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            # Drawn once the coroutine runs, where the SDK's own request draws it.
            return await base.request(self, *args, **with_key(self, args, kwargs))  # type: ignore[attr-defined]

        namespace["request"] = request_async
    else:

        def request(self: Any, *args: Any, **kwargs: Any) -> Any:
            # A poll (the SDK's methods name their verb first, in capitals) goes straight
            # on: a `wait=True` loop sends hundreds, and none is a write.
            if args and args[0] == "GET":
                return base.request(self, *args, **kwargs)  # type: ignore[attr-defined]
            return base.request(self, *args, **with_key(self, args, kwargs))  # type: ignore[attr-defined]

        namespace["request"] = request
    return type(base.__name__, (base,), namespace)
