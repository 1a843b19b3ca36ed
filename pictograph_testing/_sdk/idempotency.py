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

__all__ = ["KeyCoupling", "bind_keys", "seeded_key"]

_MODULE = "pictograph._http.idempotency"


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

    def __getattr__(self, name: str) -> Any:
        return getattr(uuid, name)

    def uuid4(self) -> uuid.UUID:
        generator = self._generator()
        # Looked up on the real module at each call: a test's own patch of uuid.uuid4 is
        # what the SDK uses with no fake active, as it would be without the coupling.
        return uuid.uuid4() if generator is None else _seeded_uuid4(generator)


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


def bind_keys(client: Any, draw: Callable[[], str]) -> None:
    """Make ``client``'s writes take their ``Idempotency-Key`` from ``draw`` when the SDK
    would generate one, whether or not any fake is active.

    Only this client's transport changes (its ``request``, an attribute of the instance):
    given no ``idempotency_key``, a write gets ``draw()`` passed as one, which the SDK
    sends (and resends on each retry) as its own; a key the caller gave, as argument or
    header, is sent as given. ``draw`` is called exactly when the SDK would call
    ``generate_key`` (it does even when a header holds the key), so a fake's own client
    and a client the code under test builds draw the same sequence for the same calls.
    """
    module = optional_module(_MODULE)
    if module is None:
        return
    needs_key: Callable[[str], bool] = module.needs_idempotency
    transport = client._transport
    original = transport.request

    def keyed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        method = args[0] if args else kwargs.get("method", "")
        if not kwargs.get("idempotency_key") and needs_key(method):
            kwargs["idempotency_key"] = draw()
        return kwargs

    if inspect.iscoroutinefunction(original):

        async def request_async(*args: Any, **kwargs: Any) -> Any:
            # Drawn once the coroutine runs, where the SDK's own request draws it.
            return await original(*args, **keyed(args, kwargs))

        transport.request = request_async
    else:

        def request(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **keyed(args, kwargs))

        transport.request = request
