"""A client the fake builds reads the SDK's ``PICTOGRAPH_*`` settings from the
environment as the SDK itself does: in any case, and as they are when it is built (the
fake keeps each configuration it built by arguments and environment, never past a change).
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
def test_a_setting_in_the_environment_reaches_the_client(
    fake: FakePictograph, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    before = fake.client()._config.max_retries
    monkeypatch.setenv(name, "7")
    assert fake.client()._config.max_retries == 7 != before
    monkeypatch.delenv(name)
    assert fake.client()._config.max_retries == before


# Names around the prefix: in other cases, cut short, with it inside another name.
names = st.sampled_from(
    ["PICTOGRAPH_MAX_RETRIES", "Pictograph_Max_Retries", "PICTOGRAPH", "XPICTOGRAPH_MAX_RETRIES"]
)


@settings(max_examples=25, deadline=None)
@given(name=names, value=st.integers(0, 9))
def test_the_client_reads_the_environment_the_sdk_reads(name: str, value: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(name, str(value))
        # The SDK's own client, built with no fake active, reads the same settings.
        with pictograph.Client(api_key="pk_live_unused") as plain:
            expected = plain._config.max_retries
        with FakePictograph() as fake:
            assert fake.client()._config.max_retries == expected
