"""The inventory of unserved SDK methods (``api.sdk_surface``) names real methods, once each."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import pictograph
import pytest

from pictograph_testing.api.sdk_surface import CLIENT_SIDE, NOT_SERVED

if TYPE_CHECKING:
    from collections.abc import Iterator

_ROUTE = re.compile(r"(GET|POST|PUT|PATCH|DELETE) /\S")


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[object, object]]:
    """Both clients, never used to send: only their resources' attributes are read."""
    sync = pictograph.Client(api_key="x", base_url="http://127.0.0.1:9")
    asynchronous = pictograph.AsyncClient(api_key="x", base_url="http://127.0.0.1:9")
    yield sync, asynchronous
    sync.close()
    asyncio.run(asynchronous.aclose())


def _method(client: object, key: str) -> object:
    resource_name, _, method_name = key.partition(".")
    resource = getattr(client, resource_name, None)
    return None if resource is None else getattr(resource, method_name, None)


@pytest.mark.parametrize("key", [*CLIENT_SIDE, *NOT_SERVED])
def test_every_key_names_a_public_sdk_method(key: str, clients: tuple[object, object]) -> None:
    resource_name, dot, method_name = key.partition(".")
    assert dot
    assert resource_name
    assert method_name
    assert not method_name.startswith("_")
    assert any(callable(_method(client, key)) for client in clients), key


def test_no_method_is_in_both_mappings() -> None:
    assert not set(CLIENT_SIDE) & set(NOT_SERVED)


def test_mappings_are_sorted_by_key() -> None:
    assert list(CLIENT_SIDE) == sorted(CLIENT_SIDE)
    assert list(NOT_SERVED) == sorted(NOT_SERVED)


@pytest.mark.parametrize(("key", "value"), sorted(CLIENT_SIDE.items()))
def test_client_side_values_are_sentences(key: str, value: str) -> None:
    assert isinstance(value, str)
    assert value.strip() == value
    assert value


def test_not_served_values_start_with_a_route() -> None:
    # Empty while every public method of the pinned release is served; a method a newer
    # release adds is entered here, with the route it sends first.
    for key, value in NOT_SERVED.items():
        assert value.strip() == value
        assert _ROUTE.match(value), f"{key}: {value!r}"
