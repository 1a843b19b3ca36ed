"""The coupling on an SDK without the async client (every release before 1.16.0).

The installed SDK has every module; an older release is stood in for by hiding its
async modules from the import system, which is what their absence looks like.
"""

from __future__ import annotations

import sys

import pytest

from pictograph_testing import AsyncClientUnavailable, FakePictograph
from pictograph_testing._sdk.layout import optional_module, sdk_version

_ASYNC_MODULES = ("pictograph.aio", "pictograph._http.async_transport")


@pytest.fixture
def without_async_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the async client's modules unimportable, as they are before 1.16.0."""
    for name in _ASYNC_MODULES:
        monkeypatch.setitem(sys.modules, name, None)


def test_a_missing_module_is_none_and_a_present_one_is_imported() -> None:
    assert optional_module("pictograph.no_such_module") is None
    name = "pictograph._http.transport"
    assert optional_module(name) is sys.modules[name]


def test_an_error_inside_an_existing_module_is_not_taken_for_absence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A module of the SDK that exists but fails to import: its error is the SDK's.
    monkeypatch.setitem(sys.modules, "pictograph.broken_dependency", None)
    monkeypatch.setattr(
        "importlib.import_module",
        lambda name: __import__("pictograph.broken_dependency"),
    )
    with pytest.raises(ModuleNotFoundError):
        optional_module("pictograph.fine")


@pytest.mark.usefixtures("without_async_client", "no_real_waiting")
def test_a_fake_starts_and_waits_on_its_clock_without_the_async_client() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("road-signs", images=20, completed_images=12)
        fake.add_export("road-signs", "v1")
        with fake.client(max_retries=0) as client:
            run = client.training.create(
                "road-signs", "v1", pipeline_type="yolox", name="r", wait=True, timeout=7200.0
            )
        assert run.status == "completed"
        assert fake.clock.monotonic() > 60


@pytest.mark.usefixtures("without_async_client")
def test_asking_for_an_async_client_names_the_release() -> None:
    with FakePictograph(seed=1) as fake, pytest.raises(AsyncClientUnavailable) as caught:
        fake.async_client()
    assert sdk_version() in str(caught.value)
    assert "1.16.0" in str(caught.value)
