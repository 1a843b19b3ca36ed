"""Clients built while a fake is active read the SDK's ``PICTOGRAPH_*`` settings from the
environment as the SDK itself does: in any case, and as they are when each is built (the
fake keeps each configuration it built by arguments and environment, never past a
change). The fake's own clients (``fake.client()``, the fixtures') take the SDK's
defaults instead, so a setting left in the shell does not change what a test does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pictograph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def fake() -> Iterator[FakePictograph]:
    with FakePictograph() as active:
        yield active


@pytest.mark.parametrize("name", ["PICTOGRAPH_MAX_RETRIES", "pictograph_max_retries"])
def test_a_setting_in_the_environment_reaches_a_client_the_code_builds(
    fake: FakePictograph, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with pictograph.Client() as built:
        before = built._config.max_retries
    monkeypatch.setenv(name, "7")
    with pictograph.Client() as built:
        assert built._config.max_retries == 7 != before
    # The fake's own client keeps the SDK's default.
    assert fake.client()._config.max_retries == before
    monkeypatch.delenv(name)
    with pictograph.Client() as built:
        assert built._config.max_retries == before


def test_a_setting_changed_in_place_reaches_the_next_client(
    fake: FakePictograph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment keeps the same names from one client to the next: only the value
    # moves, and each client reads the value it finds.
    monkeypatch.setenv("PICTOGRAPH_MAX_RETRIES", "7")
    with pictograph.Client() as built:
        assert built._config.max_retries == 7
    monkeypatch.setenv("PICTOGRAPH_MAX_RETRIES", "8")
    with pictograph.Client() as built:
        assert built._config.max_retries == 8
    # Another spelling in place of the first: the same number of names, another name.
    monkeypatch.delenv("PICTOGRAPH_MAX_RETRIES")
    monkeypatch.setenv("Pictograph_Max_Retries", "5")
    with pictograph.Client() as built:
        assert built._config.max_retries == 5


# Names around the prefix: in other cases, cut short, with it inside another name.
names = st.sampled_from(
    ["PICTOGRAPH_MAX_RETRIES", "Pictograph_Max_Retries", "PICTOGRAPH", "XPICTOGRAPH_MAX_RETRIES"]
)


@settings(max_examples=25, deadline=None)
@given(name=names, value=st.integers(0, 9))
def test_a_client_built_under_a_fake_reads_the_environment_the_sdk_reads(
    name: str, value: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name, str(value))
        # The SDK's own client, built with no fake active, reads the same settings.
        with pictograph.Client(api_key="pk_live_unused") as plain:
            expected = plain._config.max_retries
        with FakePictograph() as fake, pictograph.Client() as built:
            assert built._config.max_retries == expected
            assert fake.client()._config.max_retries == 3  # the SDK's default
