"""A scenario's organization and its keys: mistakes are refused, saying where and what.

An allowance or budget below zero used to load and read back through
``credits.balance()`` as an overspent organization; two keys marked ``default`` loaded
with the last one silently chosen for the fake's own clients.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pictograph.exceptions import NotFoundError

from pictograph_testing import FakePictograph


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"organization": {"allowance_micro_usd": -1}},
            "organization.allowance_micro_usd must be a whole number from 0",
        ),
        (
            {"organization": {"budget_micro_usd": -5_000_000}},
            "organization.budget_micro_usd must be a whole number from 0",
        ),
        (
            {
                "api_keys": [
                    {"role": "owner", "name": "ci", "default": True},
                    {"role": "admin", "name": "ops", "default": True},
                ]
            },
            "api_keys[0] and api_keys[1] are both marked default",
        ),
    ],
)
def test_a_bad_organization_or_key_list_is_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FakePictograph(scenario={"schema_version": 1, **document})


def test_an_organization_s_allowance_and_budget_read_back_through_the_sdk() -> None:
    document = {
        "schema_version": 1,
        "organization": {"allowance_micro_usd": 7_000_000, "budget_micro_usd": 3_000_000},
        "api_keys": [{"role": "owner", "name": "ci"}, {"role": "admin", "default": True}],
    }
    with FakePictograph(scenario=document) as fake:
        balance = fake.client().credits.balance()
        assert fake.client().api_keys.list()  # the admin key marked default answers
    assert balance.included_allowance_micro_usd == 7_000_000
    assert balance.budget_micro_usd == 3_000_000
    assert balance.period_overage_micro_usd == 0


async def test_the_key_marked_default_is_the_async_client_s() -> None:
    document = {
        "schema_version": 1,
        "api_keys": [{"role": "owner", "name": "ci"}, {"role": "admin", "default": True}],
    }
    with FakePictograph(scenario=document) as fake:
        async with fake.async_client() as client:
            me = await client.organizations.me()
    assert me.id == fake.world.default_org.id
    assert fake.world.default_key.role == "admin"


def test_a_scenario_s_organization_slug_is_the_one_explore_names() -> None:
    document = {"schema_version": 1, "organization": {"slug": "acme-vision", "name": "Acme"}}
    with FakePictograph(scenario=document) as fake:
        fake.add_dataset("Parts", images=2, visibility="public")
        client = fake.client()
        assert client.organizations.me().slug == "acme-vision"
        assert client.explore.dataset("acme-vision/parts").name == "Parts"
        old_slug = FakePictograph().world.default_org.slug  # what the seed would have named
        with pytest.raises(NotFoundError):
            client.explore.dataset(f"{old_slug}/parts")
