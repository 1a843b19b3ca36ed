"""Connector imports on every release (all have ``client.connectors``): a V7 source
validated, the plan checked, an import waited for and one cancelled, sync and async.
Releases before 1.69.90 cannot read a cancelled import back (``dialects.SDK_DEFECTS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import ServerError

from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import SDK_DEFECTS, Client, parse_version

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

RELEASE = parse_version(sdk_version())
KEY = "v7-key"


def _fails(call: str, client: Client) -> str | None:
    """The failure the API gave this release's ``client`` for ``call``, or ``None``."""
    for defect in SDK_DEFECTS:
        if defect.span.holds(RELEASE, client) and any(call in calls for calls in defect.calls):
            return defect.failure
    return None


@pytest.fixture
def source(world: FakePictograph) -> None:
    world.add_connector_source("v7", KEY, workspace="acme", datasets={"Signs": 4, "Birds": 2})


@pytest.mark.usefixtures("source")
def test_a_source_is_validated_imported_and_cancelled(sdk: pictograph.Client) -> None:
    listed = sdk.connectors.validate("v7", KEY)
    assert (listed.valid, [d.image_count for d in listed.datasets]) == (True, [4, 2])
    assert sdk.connectors.check_limits(total_images=6, estimated_size_bytes=0).allowed
    done = sdk.connectors.import_("v7", KEY, listed.datasets[:1])
    assert (done.status, done.imported_images) == ("completed", 4)
    job = sdk.connectors.import_("v7", KEY, listed.datasets[1:], wait=False)
    if _fails("cancel_import", "sync"):
        with pytest.raises(ServerError):
            sdk.connectors.cancel_import(job.import_id)
    else:
        assert sdk.connectors.cancel_import(job.import_id).status == "cancelled"


@pytest.mark.usefixtures("source")
async def test_async_a_source_is_validated_imported_and_cancelled(
    async_sdk: pictograph.AsyncClient,
) -> None:
    listed = await async_sdk.connectors.validate("v7", KEY)
    job = await async_sdk.connectors.import_("v7", KEY, listed.datasets[:1], wait=False)
    done = await async_sdk.connectors.wait_for_import(job.import_id)
    assert (done.status, done.imported_images) == ("completed", 4)
    job = await async_sdk.connectors.import_("v7", KEY, listed.datasets[1:], wait=False)
    if _fails("cancel_import", "async"):
        with pytest.raises(ServerError):
            await async_sdk.connectors.cancel_import(job.import_id)
    else:
        assert (await async_sdk.connectors.cancel_import(job.import_id)).status == "cancelled"
