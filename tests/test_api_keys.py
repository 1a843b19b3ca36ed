"""API keys through the real SDK: issued by other keys, shown once, and gone when deleted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import AuthError, ForbiddenError, NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import PLANS
from tests.image_files import raw

if TYPE_CHECKING:
    import pictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
PRO_RATE = PLANS["pro"].rate_limit_per_hour


def test_create_shows_the_secret_once_and_the_key_works(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = client.api_keys.create("ci", role="viewer")
    assert created.api_key.startswith("pk_live_")
    assert created.key_prefix == created.api_key[:12]
    assert (created.name, created.role, created.rate_limit) == ("ci", "viewer", PRO_RATE)
    assert created.expires_at is None
    assert created.created_at == fake.clock.now()
    # The organization was looked up with organizations.me (no id was given).
    fake.calls.assert_called("GET", "/api/v1/developer/organizations/me")
    fake.calls.assert_called("POST", "/api/v1/api-keys/", status=201)
    # Nothing after create shows the secret.
    listed = fake.calls.filter("GET", "/api/v1/api-keys/")
    assert created.api_key.encode() not in b"".join(c.response_body for c in listed)
    with fake.client(api_key=created.api_key, max_retries=0) as ci:
        assert ci.organizations.me().id == fake.organization_id
        with pytest.raises(ForbiddenError):
            ci.api_keys.create("escalate", role="member")
    fetched = client.api_keys.get(created.key_id)
    assert fetched.last_used_at == fake.clock.now()
    assert not hasattr(fetched, "api_key")


def test_list_get_update_delete(fake: FakePictograph, client: pictograph.Client) -> None:
    created = client.api_keys.create("ci", organization=fake.organization_id, role="member")
    keys = client.api_keys.list()
    assert [k.id for k in keys] == [created.key_id, fake.world.default_key.key_id]
    assert keys[1].role == "owner"
    assert all(k.organization_id == fake.organization_id and k.is_active for k in keys)
    got = client.api_keys.get(created.key_id)
    assert (got.name, got.key_prefix, got.rate_limit) == ("ci", created.key_prefix, PRO_RATE)

    renamed = client.api_keys.update(created.key_id, name="ci-2", rate_limit=100)
    assert (renamed.name, renamed.rate_limit) == ("ci-2", 100)
    cleared = client.api_keys.update(created.key_id, clear_rate_limit=True)
    assert cleared.rate_limit == PRO_RATE  # follows the plan again
    assert client.api_keys.get(created.key_id) == cleared

    client.api_keys.delete(created.key_id)
    assert [k.id for k in client.api_keys.list()] == [fake.world.default_key.key_id]
    with pytest.raises(NotFoundError, match="API key not found"):
        client.api_keys.get(created.key_id)
    with pytest.raises(NotFoundError):
        client.api_keys.delete(created.key_id)
    with fake.client(api_key=created.api_key, max_retries=0) as gone, pytest.raises(AuthError):
        gone.organizations.me()


def test_a_disabled_key_is_refused_until_turned_on(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = client.api_keys.create("batch")
    off = client.api_keys.update(created.key_id, is_active=False)
    assert off.is_active is False
    with fake.client(api_key=created.api_key, max_retries=0) as batch:
        with pytest.raises(AuthError, match="disabled") as refused:
            batch.credits.balance()
        assert refused.value.response["error"]["details"]["reason"] == "inactive"
        client.api_keys.update(created.key_id, is_active=True)
        assert batch.credits.balance().credits_remaining == 100


def test_a_key_expires_on_the_virtual_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    expiry = fake.clock.now() + timedelta(hours=1)
    created = client.api_keys.create("temp", expires_at=expiry)
    assert created.expires_at == expiry
    with fake.client(api_key=created.api_key, max_retries=0) as temp:
        assert temp.organizations.me()
        fake.clock.advance(hours=1)
        with pytest.raises(AuthError, match="expired"):
            temp.organizations.me()
    # A date alone is midnight UTC; a time with no zone is UTC.
    dated = client.api_keys.create("dated", expires_at="2026-12-31")
    assert dated.expires_at == datetime(2026, 12, 31, tzinfo=timezone.utc)
    naive = client.api_keys.create("naive", expires_at="2026-12-31T10:00:00")
    assert naive.expires_at == datetime(2026, 12, 31, 10, tzinfo=timezone.utc)


# ISO 8601 texts Python 3.10's fromisoformat does not read and 3.11's does: the fake
# reads them alike on every Python (on 3.10 through the backport), never a 422 on one
# Python for what another accepts.
ISO_TEXTS = [
    ("2026-12-31T23:59:59.5Z", datetime(2026, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc)),
    (
        "2026-12-31T23:59:59.123456789Z",
        datetime(2026, 12, 31, 23, 59, 59, 123456, tzinfo=timezone.utc),
    ),
    ("2026-12-31T23:59:59,25z", datetime(2026, 12, 31, 23, 59, 59, 250000, tzinfo=timezone.utc)),
    ("20261231T235959+0100", datetime(2026, 12, 31, 22, 59, 59, tzinfo=timezone.utc)),
    ("2026-W53-4", datetime(2026, 12, 31, tzinfo=timezone.utc)),
]


@pytest.mark.parametrize(("text", "moment"), ISO_TEXTS, ids=[t for t, _ in ISO_TEXTS])
def test_an_expiry_reads_alike_on_every_python(
    client: pictograph.Client, text: str, moment: datetime
) -> None:
    assert client.api_keys.create("dated", expires_at=text).expires_at == moment


async def test_async_an_expiry_reads_alike_on_every_python(
    aclient: pictograph.AsyncClient,
) -> None:
    for text, moment in ISO_TEXTS:
        created = await aclient.api_keys.create("dated", expires_at=text)
        assert created.expires_at == moment


def test_a_cap_never_holds_above_a_smaller_plan(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # "can never raise a key above the plan": a cap set under Pro reads at
    # the Free plan's rate once the organization moves down, and its own again back up.
    capped = client.api_keys.create("capped", rate_limit=PRO_RATE - 1)
    free_rate = PLANS["free"].rate_limit_per_hour
    assert free_rate < PRO_RATE - 1
    fake.organization.subscription_tier = "free"
    assert client.api_keys.get(capped.key_id).rate_limit == free_rate
    assert client.api_keys.create("new").rate_limit == free_rate
    fake.organization.subscription_tier = "pro"
    assert client.api_keys.get(capped.key_id).rate_limit == PRO_RATE - 1


async def test_async_reads_the_cap_under_the_plan(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    capped = client.api_keys.create("capped", rate_limit=PRO_RATE - 1)
    fake.organization.subscription_tier = "free"
    got = await aclient.api_keys.get(capped.key_id)
    assert got.rate_limit == PLANS["free"].rate_limit_per_hour


def test_create_refusals(fake: FakePictograph, client: pictograph.Client) -> None:
    before = [k.id for k in client.api_keys.list()]
    with pytest.raises(ValidationError, match="in the future"):
        client.api_keys.create("old", expires_at=fake.clock.now() - timedelta(seconds=1))
    for text in ("next tuesday", "9999-12-31T23:59:59-14:00"):  # the second: past year 9999
        with pytest.raises(ValidationError, match="ISO 8601"):
            client.api_keys.create("bad", expires_at=text)
    with pytest.raises(ValidationError, match=f"plan's limit \\({PRO_RATE} requests"):
        client.api_keys.create("fast", rate_limit=PRO_RATE + 1)
    with pytest.raises(ValidationError, match="'name' must be 1 to 100"):
        client.api_keys.create("x" * 101)
    with pytest.raises(ValidationError, match="Invalid role 'root'"):
        client.api_keys.create("root", role="root")  # type: ignore[arg-type]
    other = fake.add_organization()
    with pytest.raises(ForbiddenError, match="its own organization"):
        client.api_keys.create("theirs", organization=other.id)
    with pytest.raises(NotFoundError, match="is not your organization"):
        client.api_keys.create("theirs", organization=other.name)  # the SDK checks names
    assert [k.id for k in client.api_keys.list()] == before


def test_no_key_reaches_above_its_own_role(fake: FakePictograph) -> None:
    owner_key = fake.world.default_key.key_id
    with fake.organization.client(role="admin", max_retries=0) as admin:
        assert admin.api_keys.create("helper", role="admin").role == "admin"
        with pytest.raises(ForbiddenError, match="above its own role"):
            admin.api_keys.create("boss", role="owner")
        with pytest.raises(ForbiddenError, match="cannot change a key with role 'owner'"):
            admin.api_keys.update(owner_key, is_active=False)
        with pytest.raises(ForbiddenError, match="cannot delete a key with role 'owner'"):
            admin.api_keys.delete(owner_key)
    with fake.organization.client(role="member", max_retries=0) as member:
        # Reading takes any role; managing needs admin.
        assert len(member.api_keys.list()) == 4
        with pytest.raises(ForbiddenError, match="create API keys"):
            member.api_keys.create("mine")
        with pytest.raises(ForbiddenError, match="change API keys"):
            member.api_keys.update(owner_key, name="x")
        with pytest.raises(ForbiddenError, match="delete API keys"):
            member.api_keys.delete(owner_key)


def test_another_organizations_keys_are_not_reachable(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization()
    theirs = fake.world.api_keys[other.api_key].key_id
    with pytest.raises(NotFoundError):
        client.api_keys.get(theirs)
    with pytest.raises(NotFoundError):
        client.api_keys.delete(theirs)
    with pytest.raises(ForbiddenError, match="its own organization"):
        client.api_keys.list(organization=other.id)
    assert [k.id for k in client.api_keys.list(organization=fake.organization_id)] == [
        fake.world.default_key.key_id
    ]
    # By name or slug, the SDK resolves it through organizations.me.
    slug = client.organizations.me().slug
    assert len(client.api_keys.list(organization=slug)) == 1


def test_a_keys_role_never_changes(fake: FakePictograph, client: pictograph.Client) -> None:
    import httpx

    created = client.api_keys.create("ci")
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as http:
        answer = http.patch(f"/api/v1/api-keys/{created.key_id}", json={"role": "admin"})
    assert answer.status_code == 422
    assert "role cannot change" in answer.json()["error"]["message"]
    assert client.api_keys.get(created.key_id).role == "member"
    with pytest.raises(ValueError, match="At least one"):
        client.api_keys.update(created.key_id)


def test_a_key_revoked_by_the_test_is_listed_no_more(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    spare = fake.add_api_key("viewer")
    spare_id = fake.world.api_keys[spare].key_id
    assert spare_id in [k.id for k in client.api_keys.list()]
    fake.revoke_api_key(spare)
    assert spare_id not in [k.id for k in client.api_keys.list()]


async def test_api_keys_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    created = await aclient.api_keys.create("async", role="viewer", rate_limit=10)
    assert created.rate_limit == 10
    assert next(k.id for k in await aclient.api_keys.list()) == created.key_id
    assert (await aclient.api_keys.get(created.key_id)).name == "async"
    updated = await aclient.api_keys.update(created.key_id, name="renamed", is_active=False)
    assert (updated.name, updated.is_active) == ("renamed", False)
    with pytest.raises(ForbiddenError):
        await aclient.api_keys.create("x", organization=fake.add_organization().id)
    await aclient.api_keys.delete(created.key_id)
    with pytest.raises(NotFoundError):
        await aclient.api_keys.get(created.key_id)
    async with fake.async_client(api_key=created.api_key, max_retries=0) as gone:
        with pytest.raises(AuthError):
            await gone.organizations.me()


def test_an_expiry_past_the_clocks_reach_is_refused_and_makes_no_key(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # `datetime.max` is a common "never": the clock never gets there, so the key is
    # refused with what to do instead, and nothing is made (listing still answers).
    before = [k.id for k in client.api_keys.list()]
    never = datetime.max.replace(tzinfo=timezone.utc)
    for expiry in (never, "2200-01-01T00:00:00Z"):
        with pytest.raises(ValidationError, match=r"before 2200-01-01T00:00:00Z.*leave it out"):
            client.api_keys.create("forever", expires_at=expiry)
    assert [k.id for k in client.api_keys.list()] == before
    last = client.api_keys.create("late", expires_at="2199-12-31T23:59:59Z")
    assert last.expires_at == datetime(2199, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    assert not fake.server_errors


async def test_async_expiry_past_the_clocks_reach(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    never = datetime.max.replace(tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match="before 2200-01-01"):
        await aclient.api_keys.create("forever", expires_at=never)
    assert [k.id for k in await aclient.api_keys.list()] == [fake.world.default_key.key_id]


def test_an_organization_id_in_capitals_names_the_same_organization(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK takes a UUID in any case as an id (its `looks_like_id`), as listing does.
    created = client.api_keys.create("ci", organization=fake.organization_id.upper())
    assert created.key_id in [k.id for k in client.api_keys.list()]
    assert fake.world.api_keys[created.api_key].organization_id == fake.organization_id
    assert not fake.server_errors


async def test_async_organization_id_in_capitals(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    created = await aclient.api_keys.create("ci", organization=fake.organization_id.upper())
    assert (await aclient.api_keys.get(created.key_id)).organization_id == fake.organization_id


def test_an_expiry_must_be_after_now(fake: FakePictograph, client: pictograph.Client) -> None:
    before = [k.id for k in client.api_keys.list()]
    with pytest.raises(ValidationError, match="in the future"):
        client.api_keys.create("now", expires_at=fake.clock.now())
    assert [k.id for k in client.api_keys.list()] == before
    soon = fake.clock.now() + timedelta(seconds=1)
    assert client.api_keys.create("soon", expires_at=soon).expires_at == soon


def test_update_refuses_a_cap_above_the_plan_and_changes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = client.api_keys.create("ci", rate_limit=10)
    with pytest.raises(ValidationError, match=f"plan's limit \\({PRO_RATE} requests"):
        client.api_keys.update(created.key_id, name="fast", rate_limit=PRO_RATE + 1)
    got = client.api_keys.get(created.key_id)
    assert (got.name, got.rate_limit) == ("ci", 10)
    assert client.api_keys.update(created.key_id, rate_limit=PRO_RATE).rate_limit == PRO_RATE


def test_a_key_id_is_read_in_any_case(fake: FakePictograph, client: pictograph.Client) -> None:
    created = client.api_keys.create("ci")
    assert client.api_keys.get(created.key_id.upper()).id == created.key_id
    renamed = client.api_keys.update(created.key_id.upper(), name="ci-2")
    assert (renamed.id, renamed.name) == (created.key_id, "ci-2")
    client.api_keys.delete(created.key_id.upper())
    assert [k.id for k in client.api_keys.list()] == [fake.world.default_key.key_id]


async def test_async_key_refusals_and_ids_in_any_case(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    with pytest.raises(ValidationError, match="in the future"):
        await aclient.api_keys.create("now", expires_at=fake.clock.now())
    created = await aclient.api_keys.create("ci", rate_limit=10)
    with pytest.raises(ValidationError, match="plan's limit"):
        await aclient.api_keys.update(created.key_id, rate_limit=PRO_RATE + 1)
    got = await aclient.api_keys.get(created.key_id.upper())
    assert (got.id, got.rate_limit) == (created.key_id, 10)


def test_a_key_sent_without_a_role_is_a_members_and_names_are_trimmed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK always sends a role; the API's default is for callers that leave it out.
    with raw(fake) as http:
        answer = http.post(
            "/api/v1/api-keys/", json={"organization_id": fake.organization_id, "name": " ci "}
        )
    assert answer.status_code == 201
    assert (answer.json()["role"], answer.json()["name"]) == ("member", "ci")
    key_id = answer.json()["key_id"]
    assert client.api_keys.update(key_id, name="  ci-2\t").name == "ci-2"
    assert client.api_keys.create("  spaced  ").name == "spaced"
