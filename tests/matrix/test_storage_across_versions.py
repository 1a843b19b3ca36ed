"""``client.storage`` (bucket connections, SDK 1.65.0 to 1.69.42) through its own releases.

SDK 1.69.43 removed the resource with the API's: every call of those releases gets the
API's own "No route" 404 today (``dialects.SDK_DEFECTS``), never a gap of the fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph.exceptions import NotFoundError

from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import SDK_DEFECTS, STORAGE_CONNECTIONS, parse_version

if TYPE_CHECKING:
    from collections.abc import Callable

    import pictograph

    from pictograph_testing import FakePictograph

RELEASE = parse_version(sdk_version())
CONNECTION = "3f0c2a8e-5b1d-4c6e-9f7a-2d8b4e6c1a90"


def _storage(client: object) -> Any:
    storage = getattr(client, "storage", None)
    if storage is None:
        pytest.skip(f"pictograph {sdk_version()} has no storage resource (1.65.0 to 1.69.42)")
    assert STORAGE_CONNECTIONS.holds(RELEASE)
    assert any(d.span == STORAGE_CONNECTIONS for d in SDK_DEFECTS)
    return storage


def _calls(storage: Any) -> list[Callable[[], Any]]:
    """One call of each route the resource sends."""
    return [
        lambda: storage.connect(
            name="Acme imagery", bucket="acme", access_key_id="AKIA", secret_access_key="s"
        ),
        lambda: storage.list(),
        lambda: storage.get(CONNECTION),
        lambda: storage.delete(CONNECTION),
        lambda: storage.browse(CONNECTION, prefix="2026/"),
        lambda: storage.import_images(CONNECTION, CONNECTION),
        lambda: storage.get_import(CONNECTION),
        lambda: storage.cancel_import(CONNECTION),
    ]


def test_every_storage_call_gets_the_apis_own_404(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    storage = _storage(sdk)
    for call in _calls(storage):
        with pytest.raises(NotFoundError, match="No route"):
            call()
    sent = world.calls.filter(where=lambda c: "/storage-connections" in c.path)
    assert [c.status for c in sent] == [404] * 8
    assert not world.unserved_calls  # retired by the API: no gap of the fake


async def test_async_every_storage_call_gets_the_apis_own_404(
    world: FakePictograph, async_sdk: pictograph.AsyncClient
) -> None:
    storage = _storage(async_sdk)
    for call in _calls(storage):
        with pytest.raises(NotFoundError, match="No route"):
            await call()
    assert not world.unserved_calls
