"""Which of the SDK's modules exist in the installed release, and what it is called.

The couplings reach into modules that came and went across SDK releases: the async
client (``pictograph.aio`` and ``pictograph._http.async_transport``) arrived in 1.16.0;
signed-URL transfers moved between modules. Each coupling asks here for a module and
couples what it gets, so an SDK without one is coupled in every way it can be.
"""

from __future__ import annotations

import importlib
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "ASYNC_CLIENT_SINCE",
    "AsyncClientUnavailable",
    "client_defaults",
    "optional_module",
    "require_async_client",
    "sdk_version",
]

ASYNC_CLIENT_SINCE = "1.16.0"
"""The first SDK release with ``pictograph.AsyncClient``."""

_ASYNC_CLIENT_MODULE = "pictograph.aio"


class AsyncClientUnavailable(RuntimeError):
    """The installed SDK has no async client to hand out."""


def sdk_version() -> str:
    """The installed SDK's version, as ``pictograph.__version__`` spells it."""
    import pictograph

    return str(pictograph.__version__)


def optional_module(name: str) -> ModuleType | None:
    """Import the SDK module ``name``, or ``None`` if this release has no such module.

    Only the module (or a package above it) being absent counts: an error raised while
    importing a module that does exist is the SDK's and propagates.
    """
    module = sys.modules.get(name)
    if module is not None:
        return module
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
            return None
        raise


def require_async_client() -> None:
    """Raise :class:`AsyncClientUnavailable` unless the installed SDK has ``AsyncClient``."""
    if optional_module(_ASYNC_CLIENT_MODULE) is None:
        raise AsyncClientUnavailable(
            f"pictograph {sdk_version()} has no AsyncClient (it arrived in "
            f"{ASYNC_CLIENT_SINCE}): use fake.client(), or install pictograph>={ASYNC_CLIENT_SINCE}"
        )


@lru_cache(maxsize=1)
def client_defaults() -> tuple[float | None, int | None]:
    """The SDK's own default ``timeout`` and ``max_retries`` (its ``ClientConfig``'s).

    A fake's clients pass them when a test gives none, so ``PICTOGRAPH_TIMEOUT`` or
    ``PICTOGRAPH_MAX_RETRIES`` in the shell does not change what a test does. ``None``
    where a release declares no such default: the SDK then resolves it as it would.
    """
    module = optional_module("pictograph._internal.config")
    fields = getattr(getattr(module, "ClientConfig", None), "model_fields", {})

    def default(name: str) -> object:
        field = fields.get(name)
        return getattr(field, "default", None)

    timeout, retries = default("timeout"), default("max_retries")
    return (
        float(timeout) if isinstance(timeout, (int, float)) else None,
        retries if isinstance(retries, int) else None,
    )
