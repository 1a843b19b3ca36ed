"""Organizations through the real SDK: the key's organization, its members and invites."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import INVITE_TTL_SECONDS, PLANS
from tests.image_files import raw

if TYPE_CHECKING:
    import pictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


# ── me and update ──


def test_me_reports_the_plan_credit_and_counts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    org = client.organizations.me()
    plan = PLANS["pro"]
    assert (org.id, org.name) == (fake.organization_id, fake.organization.name)
    assert org.slug == fake.world.default_org.slug
    assert org.subscription_tier == "pro"
    assert (org.max_users, org.max_images) == (plan.max_users, plan.max_images)
    assert org.max_storage_bytes == plan.max_storage_bytes
    # Whole dollars, as credits.balance reports them.
    balance = client.credits.balance()
    assert org.credits_remaining == balance.credits_remaining == 100
    assert org.credits_monthly_allowance == 100
    assert org.credits_reset_at == balance.credits_reset_at
    assert (org.member_count, org.pending_invite_count) == (1, 0)
    assert org.created_at == org.updated_at == fake.clock.now()
    assert org.description is None
    assert org.is_public is False


def test_me_follows_spending_and_the_plan(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.top_up(25.5)
    fake.organization.subscription_tier = "free"
    org = client.organizations.me()
    assert org.credits_remaining == 125
    assert org.subscription_tier == "free"
    assert org.max_users == PLANS["free"].max_users


def test_update_changes_only_what_is_sent(fake: FakePictograph, client: pictograph.Client) -> None:
    slug = client.organizations.me().slug
    fake.clock.advance(minutes=5)
    org = client.organizations.update(name="Acme Vision", description="Road signs")
    assert (org.name, org.description, org.is_public) == ("Acme Vision", "Road signs", False)
    assert org.slug == slug  # the slug is an address: renaming keeps it
    assert org.updated_at == fake.clock.now()
    assert org.created_at < org.updated_at
    org = client.organizations.update(is_public=True)
    assert (org.name, org.is_public) == ("Acme Vision", True)
    assert client.organizations.me() == org


def test_update_needs_an_admin_key_and_a_valid_name(fake: FakePictograph) -> None:
    with (
        fake.organization.client(role="member", max_retries=0) as member,
        pytest.raises(ForbiddenError, match="update the organization's profile"),
    ):
        member.organizations.update(name="Mine now")
    with fake.organization.client(role="admin", max_retries=0) as admin:
        with pytest.raises(ValidationError, match="'name' must be 1 to 100"):
            admin.organizations.update(name="   ")
        with pytest.raises(ValueError, match="at least one field"):
            admin.organizations.update()
        assert admin.organizations.update(name="Ok").name == "Ok"
    assert fake.organization.name == "Ok"


async def test_me_and_update_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    org = await aclient.organizations.me()
    assert org.id == fake.organization_id
    updated = await aclient.organizations.update(description="async")
    assert updated.description == "async"
    async with fake.organization.async_client(role="viewer", max_retries=0) as viewer:
        with pytest.raises(ForbiddenError):
            await viewer.organizations.update(is_public=True)


async def test_an_organizations_client_takes_one_of_its_own_keys(fake: FakePictograph) -> None:
    other = fake.add_organization(name="Second Org")
    admin_key = other.add_api_key("admin")

    with other.client(api_key=admin_key, max_retries=0) as admin:
        assert admin.organizations.update(description="by key").id == other.id
    async with other.async_client(api_key=admin_key, max_retries=0) as admin_async:
        assert (await admin_async.organizations.me()).description == "by key"
    # Another organization's key would act as that organization: refused, with what to do.
    with pytest.raises(ValueError, match="not a key of the organization 'Second Org'"):
        other.client(api_key=fake.api_key)
    with pytest.raises(ValueError, match="not a key of the organization"):
        other.async_client(api_key="pk_live_unknown")
    with pytest.raises(ValueError, match=r"role= .* or api_key=, not both"):
        other.client(role="viewer", api_key=admin_key)


# ── members ──


def test_the_founder_is_the_only_member_and_owns_the_keys(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    [founder] = client.organizations.list_members()
    assert founder.role == "owner"
    assert founder.email is not None
    assert "@" in founder.email
    assert founder.full_name
    assert founder.joined_at == fake.clock.now()
    # The fake's keys are the founder's.
    assert fake.world.default_key.created_by == founder.user_id


def test_a_founders_address_is_their_name_at_the_organizations_slug(
    fake: FakePictograph,
) -> None:
    # The founding owner's made-up address: the words of their name joined by dots,
    # at the organization's slug (hyphens kept) under example.com.
    with fake.add_organization(name="Acme Vision").client(max_retries=0) as theirs:
        [founder] = theirs.organizations.list_members()
    assert founder.full_name is not None
    local = ".".join("".join(c for c in w if c.isalnum()) for w in founder.full_name.split())
    assert founder.email == f"{local.lower()}@acme-vision.example.com"
    # A name without a letter or digit makes no slug: the domain is then `example`.
    with fake.add_organization(name="!!!").client(max_retries=0) as theirs:
        [founder] = theirs.organizations.list_members()
    assert founder.email is not None
    assert founder.email.endswith("@example.example.com")


def test_members_are_listed_in_the_order_they_joined(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(seconds=10)
    added = fake.add_member("Ada@Example.com ", "annotator", full_name="Ada Lovelace")
    assert added.email == "ada@example.com"  # trimmed and lowercased
    members = client.organizations.list_members()
    assert [m.role for m in members] == ["owner", "annotator"]
    assert members[1].id == added.id
    assert members[1].full_name == "Ada Lovelace"
    assert members[1].joined_at == members[0].joined_at + timedelta(seconds=10)
    assert client.organizations.me().member_count == 2
    with pytest.raises(ValueError, match="already a member"):
        fake.add_member("ada@example.com")


def test_an_admin_changes_roles_up_to_its_own(fake: FakePictograph) -> None:
    ada = fake.add_member("ada@example.com", "viewer")
    with fake.organization.client(role="admin", max_retries=0) as admin:
        ack = admin.organizations.update_member_role(ada.id, role="admin")
        assert ack == {"id": ada.id, "role": "admin"}
        assert admin.organizations.list_members()[1].role == "admin"
        with pytest.raises(ForbiddenError, match="up to its own"):
            admin.organizations.update_member_role(ada.id, role="owner")
        founder = admin.organizations.list_members()[0]
        with pytest.raises(ForbiddenError, match="from 'owner'"):
            admin.organizations.update_member_role(founder.id, role="member")
    with (
        fake.organization.client(role="member", max_retries=0) as member,
        pytest.raises(ForbiddenError, match="change members' roles"),
    ):
        member.organizations.update_member_role(ada.id, role="viewer")


def test_a_role_refusal_names_the_keys_role_and_the_members_roles(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    ada = fake.add_member("ada@example.com", "viewer")
    founder = client.organizations.list_members()[0]
    with fake.organization.client(role="admin", max_retries=0) as admin:
        with pytest.raises(ForbiddenError) as raised:
            admin.organizations.update_member_role(ada.id, role="owner")
        assert raised.value.message == (
            "This API key's role 'admin' cannot change a member from 'viewer' to 'owner': "
            "a key acts on roles up to its own."
        )
        with pytest.raises(ForbiddenError) as raised:
            admin.organizations.remove_member(founder.id)
        assert raised.value.message == (
            "This API key's role 'admin' cannot remove a member whose role is 'owner': "
            "a key acts on roles up to its own."
        )
    # The last owner's refusal says what to do instead.
    with pytest.raises(ValidationError) as refused:
        client.organizations.update_member_role(founder.id, role="viewer")
    assert refused.value.message == (
        "Cannot demote the last owner of the organization. Promote another member to owner first."
    )
    with pytest.raises(ValidationError) as refused:
        client.organizations.remove_member(founder.id)
    assert refused.value.message == (
        "Cannot remove the last owner of the organization. Promote another member to owner first."
    )


def test_the_last_owner_cannot_be_demoted_until_there_is_another(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    founder = client.organizations.list_members()[0]
    with pytest.raises(ValidationError, match="last owner") as refused:
        client.organizations.update_member_role(founder.id, role="admin")
    assert refused.value.status_code == 400
    ada = fake.add_member("ada@example.com", "member")
    client.organizations.update_member_role(ada.id, role="owner")
    assert client.organizations.update_member_role(founder.id, role="admin")["role"] == "admin"
    with pytest.raises(ValidationError, match="last owner"):
        client.organizations.update_member_role(ada.id, role="viewer")


def test_a_role_outside_the_ladder_and_unknown_members_are_refused(
    client: pictograph.Client,
) -> None:
    with pytest.raises(ValidationError, match="Invalid role 'boss'"):
        client.organizations.update_member_role(UNKNOWN_ID, role="boss")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="Member not found"):
        client.organizations.update_member_role("missing", role="admin")


def test_remove_member(fake: FakePictograph, client: pictograph.Client) -> None:
    ada = fake.add_member("ada@example.com", "admin")
    bob = fake.add_member("bob@example.com", "owner")
    founder = client.organizations.list_members()[0]
    with fake.organization.client(role="admin", max_retries=0) as admin:
        with pytest.raises(ForbiddenError, match="whose role is 'owner'"):
            admin.organizations.remove_member(bob.id)
        admin.organizations.remove_member(ada.id)
    assert [m.id for m in client.organizations.list_members()] == [founder.id, bob.id]
    with pytest.raises(NotFoundError):
        client.organizations.remove_member(ada.id)
    client.organizations.remove_member(founder.id)  # bob still owns it
    with pytest.raises(ValidationError, match="last owner") as refused:
        client.organizations.remove_member(bob.id)
    assert refused.value.status_code == 400
    # Gone means gone: the address may be invited again.
    assert client.organizations.invite("ada@example.com").status == "pending"


def test_another_organizations_member_is_a_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization()
    stranger = other.add_member("eve@example.com", "member")
    with pytest.raises(NotFoundError):
        client.organizations.remove_member(stranger.id)
    with pytest.raises(NotFoundError):
        client.organizations.update_member_role(stranger.id, role="viewer")
    with other.client(max_retries=0) as theirs:
        assert [m.email for m in theirs.organizations.list_members()][1] == "eve@example.com"
    assert len(client.organizations.list_members()) == 1


def test_member_and_invite_ids_are_read_in_any_case(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # UUIDs in any case, as keys, runs and models are read.
    ada = fake.add_member("ada@example.com", "member")
    changed = client.organizations.update_member_role(ada.id.upper(), role="viewer")
    assert changed == {"id": ada.id, "role": "viewer"}
    # Trimmed too, as an invite's id is.
    changed = client.organizations.update_member_role(f" {ada.id} ", role="annotator")
    assert changed == {"id": ada.id, "role": "annotator"}
    invite = client.organizations.invite("bo@example.com")
    client.organizations.revoke_invite(f"  {invite.id.upper()} ")
    assert [i.status for i in client.organizations.list_invites()] == ["revoked"]
    client.organizations.remove_member(ada.id.upper())
    assert ada.id not in {m.id for m in client.organizations.list_members()}


async def test_members_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    ada = fake.add_member("ada@example.com", "member")
    members = await aclient.organizations.list_members()
    assert [m.id for m in members][1] == ada.id
    assert await aclient.organizations.update_member_role(ada.id, role="viewer") == {
        "id": ada.id,
        "role": "viewer",
    }
    with pytest.raises(ValidationError, match="last owner"):
        await aclient.organizations.update_member_role(members[0].id, role="viewer")
    with pytest.raises(ValidationError, match="last owner"):
        await aclient.organizations.remove_member(members[0].id)
    await aclient.organizations.remove_member(ada.id)
    with pytest.raises(NotFoundError):
        await aclient.organizations.remove_member(ada.id)


# ── invites ──


def test_invite_lists_and_counts_as_pending(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(minutes=3)  # sent now, not when the world began
    invite = client.organizations.invite("  Ada@Example.COM", role="admin")
    founder = client.organizations.list_members()[0]
    assert invite.email == "ada@example.com"
    assert (invite.role, invite.status) == ("admin", "pending")
    assert invite.organization_id == fake.organization_id
    assert invite.invited_by == founder.user_id
    assert invite.created_at == fake.clock.now()
    assert invite.expires_at == invite.created_at + timedelta(seconds=INVITE_TTL_SECONDS)
    assert client.organizations.invite("bob@example.com").role == "member"
    assert [i.email for i in client.organizations.list_invites()] == [
        "bob@example.com",
        "ada@example.com",
    ]
    assert client.organizations.me().pending_invite_count == 2
    assert client.organizations.list_invites(status="accepted") == []


def test_an_accepted_invite_makes_a_member_with_its_role(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    invite = client.organizations.invite("ada@example.com", role="annotator")
    member = fake.accept_invite("ada@example.com", full_name="Ada")
    assert (member.email, member.role, member.full_name) == ("ada@example.com", "annotator", "Ada")
    assert client.organizations.list_members()[1].full_name == "Ada"
    [accepted] = client.organizations.list_invites(status="accepted")
    assert accepted.id == invite.id
    org = client.organizations.me()
    assert (org.member_count, org.pending_invite_count) == (2, 0)
    with pytest.raises(ValidationError, match="status 'accepted'"):
        client.organizations.revoke_invite(invite.id)
    with pytest.raises(ConflictError, match="already a member"):
        client.organizations.invite("ada@example.com")
    declined = client.organizations.invite("bob@example.com")
    assert fake.decline_invite(declined.id).status == "declined"
    assert client.organizations.list_invites(status="declined")[0].id == declined.id
    with pytest.raises(ValueError, match="declined, not pending"):
        fake.accept_invite(declined.id)


def test_a_pending_invite_expires_after_a_week(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    invite = client.organizations.invite("ada@example.com")
    fake.clock.advance(seconds=INVITE_TTL_SECONDS - 1)
    assert client.organizations.list_invites(status="pending")[0].id == invite.id
    fake.clock.advance(seconds=1)
    assert client.organizations.list_invites(status="pending") == []
    assert client.organizations.list_invites(status="expired")[0].id == invite.id
    assert client.organizations.me().pending_invite_count == 0
    with pytest.raises(ValidationError, match="status 'expired'"):
        client.organizations.revoke_invite(invite.id)
    # An expired invite no longer blocks the address.
    assert client.organizations.invite("ada@example.com").status == "pending"


def test_invites_expire_each_at_the_end_of_its_own_week(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Three invites ten seconds apart: once the first has expired, the next to expire
    # is the second, not the one sent last.
    sent: list[str] = []
    for name in ("ada", "bob", "cy"):
        sent.append(client.organizations.invite(f"{name}@example.com").id)
        fake.clock.advance(seconds=10)
    fake.clock.advance(seconds=INVITE_TTL_SECONDS - 30)
    assert [i.id for i in client.organizations.list_invites(status="expired")] == [sent[0]]
    fake.clock.advance(seconds=10)
    expired = client.organizations.list_invites(status="expired")
    assert [i.id for i in expired] == [sent[1], sent[0]]
    assert [i.id for i in client.organizations.list_invites(status="pending")] == [sent[2]]


def test_invite_refusals(fake: FakePictograph, client: pictograph.Client) -> None:
    client.organizations.invite("ada@example.com")
    with pytest.raises(ConflictError, match="pending invite already exists"):
        client.organizations.invite("ADA@example.com")
    founder = client.organizations.list_members()[0]
    with pytest.raises(ConflictError, match="already a member"):
        client.organizations.invite(founder.email or "")
    with pytest.raises(ValidationError, match="not a valid email") as malformed:
        client.organizations.invite("not-an-address")
    assert malformed.value.field_errors == [
        {
            "loc": ["body", "email"],
            "msg": "value is not a valid email address",
            "type": "value_error",
        }
    ]
    with pytest.raises(ValidationError, match="Owners cannot be invited"):
        client.organizations.invite("boss@example.com", role="owner")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="Invalid role 'chief'"):
        client.organizations.invite("boss@example.com", role="chief")  # type: ignore[arg-type]
    with (
        fake.organization.client(role="member", max_retries=0) as member,
        pytest.raises(ForbiddenError, match="invite members"),
    ):
        member.organizations.invite("carol@example.com")
    # Nothing refused was kept.
    assert [i.email for i in client.organizations.list_invites()] == ["ada@example.com"]


@pytest.mark.parametrize(
    "address",
    [
        "@example.com",  # nobody before the '@'
        "ada@localhost",  # a domain without a dot
        "ada@.example.com",  # an empty label
        "ada@example..com",
        "ada@example.com bob@example.com",  # an address followed by more
    ],
)
def test_an_address_the_sign_up_form_would_refuse_is_a_422(
    client: pictograph.Client, address: str
) -> None:
    with pytest.raises(ValidationError) as malformed:
        client.organizations.invite(address)
    assert malformed.value.status_code == 422
    # The words quote the address as it was sent, not as it would be stored.
    assert malformed.value.message == f"'{address}' is not a valid email address."
    assert client.organizations.list_invites() == []


def test_a_malformed_address_is_quoted_as_sent(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as malformed:
        client.organizations.invite(" Not-An-Address ")
    assert malformed.value.message == "' Not-An-Address ' is not a valid email address."


def test_an_invites_role_refusals_point_at_the_role(client: pictograph.Client) -> None:
    allowed = "'admin', 'member', 'annotator', 'viewer'"
    with pytest.raises(ValidationError) as unknown:
        client.organizations.invite("boss@example.com", role="chief")  # type: ignore[arg-type]
    assert unknown.value.message == f"Invalid role 'chief': choose one of {allowed}."
    assert unknown.value.field_errors == [
        {"loc": ["body", "role"], "msg": f"Input should be {allowed}", "type": "literal_error"}
    ]
    # An owner is a role, but one an invite never carries: a different error, same field.
    with pytest.raises(ValidationError) as owner:
        client.organizations.invite("boss@example.com", role="owner")  # type: ignore[arg-type]
    assert owner.value.field_errors == [
        {"loc": ["body", "role"], "msg": "Owners cannot be invited", "type": "value_error"}
    ]


def test_the_plans_member_cap_counts_pending_invites(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.organization.subscription_tier = "free"  # two users
    client.organizations.invite("ada@example.com")
    with pytest.raises(PaymentRequiredError, match="allows 2 users") as capped:
        client.organizations.invite("bob@example.com")
    assert capped.value.status_code == 402
    assert capped.value.code == "limit_exceeded"
    assert capped.value.upgrade_url == "/settings?tab=billing"
    details = capped.value.response["error"]["details"]
    assert (details["limit_type"], details["current"], details["pending"]) == ("users", 1, 1)
    assert details["limit"] == 2
    # Revoking the pending invite frees the seat.
    ada = client.organizations.list_invites()[0]
    client.organizations.revoke_invite(ada.id)
    assert client.organizations.list_invites(status="revoked")[0].id == ada.id
    assert client.organizations.invite("bob@example.com").status == "pending"


def test_the_member_cap_refusal_counts_members_and_invites_apart(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.organization.subscription_tier = "free"  # two users
    fake.add_member("ada@example.com")
    with pytest.raises(PaymentRequiredError) as capped:
        client.organizations.invite("bob@example.com")
    assert capped.value.message == (
        "The 'free' plan allows 2 users (members plus pending invites): 2 members and "
        "0 pending invites. Revoke an invite, remove a member or upgrade the plan."
    )
    assert capped.value.response["error"]["details"] == {
        "error": "limit_exceeded",
        "limit_type": "users",
        "current": 2,
        "pending": 0,
        "limit": 2,
        "upgrade_url": "/settings?tab=billing",
    }


def test_revoke_invite_refusals(fake: FakePictograph, client: pictograph.Client) -> None:
    invite = client.organizations.invite("ada@example.com")
    with fake.organization.client(role="member", max_retries=0) as member:
        with pytest.raises(ForbiddenError, match="revoke invites"):
            member.organizations.revoke_invite(invite.id)
        # Reading invites takes any role.
        assert member.organizations.list_invites()[0].id == invite.id
    with pytest.raises(NotFoundError, match="Invite not found"):
        client.organizations.revoke_invite(UNKNOWN_ID)
    client.organizations.revoke_invite(invite.id)
    with pytest.raises(ValidationError, match="status 'revoked'"):
        client.organizations.revoke_invite(invite.id)
    with pytest.raises(ValidationError, match="Invalid status"):
        client.organizations.list_invites(status="gone")  # type: ignore[arg-type]
    with fake.add_organization().client(max_retries=0) as theirs:
        with pytest.raises(NotFoundError):
            theirs.organizations.revoke_invite(invite.id)
        assert theirs.organizations.list_invites() == []


def test_an_invite_is_revoked_by_its_id_not_its_email(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    invite = client.organizations.invite("ada@example.com")

    # The API looks invites up by id: an address (however it is spelled) is none.
    for address in ("ada@example.com", " ADA@example.com "):
        with pytest.raises(NotFoundError, match="Invite not found"):
            client.organizations.revoke_invite(address)
    assert [(i.id, i.status) for i in client.organizations.list_invites()] == [
        (invite.id, "pending")
    ]
    # The invitee's side, the fake's own, still finds the invite by its address.
    fake.accept_invite("Ada@Example.com")
    assert client.organizations.list_invites()[0].status == "accepted"


async def test_async_an_invite_is_revoked_by_its_id_not_its_email(
    aclient: pictograph.AsyncClient,
) -> None:
    invite = await aclient.organizations.invite("bob@example.com")
    with pytest.raises(NotFoundError):
        await aclient.organizations.revoke_invite("bob@example.com")
    assert (await aclient.organizations.list_invites())[0].status == "pending"
    await aclient.organizations.revoke_invite(invite.id)
    assert (await aclient.organizations.list_invites())[0].status == "revoked"


async def test_invites_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    invite = await aclient.organizations.invite("ada@example.com", role="viewer")
    assert invite.status == "pending"
    with pytest.raises(ConflictError):
        await aclient.organizations.invite("ada@example.com")
    assert [i.id for i in await aclient.organizations.list_invites(status="pending")] == [invite.id]
    await aclient.organizations.revoke_invite(invite.id)
    with pytest.raises(ValidationError, match="status 'revoked'"):
        await aclient.organizations.revoke_invite(invite.id)
    fake.organization.subscription_tier = "free"
    await aclient.organizations.invite("bob@example.com")
    with pytest.raises(PaymentRequiredError):
        await aclient.organizations.invite("carol@example.com")


async def test_async_refusals_say_what_and_where(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    with pytest.raises(ValidationError) as malformed:
        await aclient.organizations.invite("ada@localhost")
    assert malformed.value.message == "'ada@localhost' is not a valid email address."
    with pytest.raises(ValidationError) as owner:
        await aclient.organizations.invite("boss@example.com", role="owner")  # type: ignore[arg-type]
    assert owner.value.field_errors == [
        {"loc": ["body", "role"], "msg": "Owners cannot be invited", "type": "value_error"}
    ]
    founder = (await aclient.organizations.list_members())[0]
    with pytest.raises(ValidationError) as refused:
        await aclient.organizations.update_member_role(f" {founder.id} ", role="admin")
    assert refused.value.message.startswith("Cannot demote the last owner of the organization.")
    fake.organization.subscription_tier = "free"  # two users
    fake.add_member("ada@example.com")
    with pytest.raises(PaymentRequiredError) as capped:
        await aclient.organizations.invite("bob@example.com")
    details = capped.value.response["error"]["details"]
    assert (details["error"], details["current"], details["pending"]) == ("limit_exceeded", 2, 0)


def test_the_same_seed_and_calls_give_the_same_people() -> None:
    def run() -> list[object]:
        fake = FakePictograph(seed=5)
        with fake.client(max_retries=0) as client:
            invite = client.organizations.invite("ada@example.com")
            fake.accept_invite(invite.id)
            return [client.organizations.list_members(), client.organizations.list_invites()]

    assert run() == run()


def test_the_last_owner_may_be_given_the_owner_role_again(client: pictograph.Client) -> None:
    # Owner to owner demotes nobody: the last owner stays, and the change is acknowledged.
    founder = client.organizations.list_members()[0]
    ack = client.organizations.update_member_role(founder.id, role="owner")
    assert ack == {"id": founder.id, "role": "owner"}
    assert [m.role for m in client.organizations.list_members()] == ["owner"]


def test_adding_an_invited_address_accepts_its_invite(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    invite = client.organizations.invite("ada@example.com", role="viewer")
    fake.add_member("Ada@Example.com", "admin")
    assert [(i.id, i.status) for i in client.organizations.list_invites()] == [
        (invite.id, "accepted")
    ]
    org = client.organizations.me()
    assert (org.member_count, org.pending_invite_count) == (2, 0)
    with pytest.raises(ValidationError, match="status 'accepted'"):
        client.organizations.revoke_invite(invite.id)
    # It expires no more either.
    fake.clock.advance(seconds=INVITE_TTL_SECONDS)
    assert client.organizations.list_invites()[0].status == "accepted"


def test_an_invite_names_the_member_whose_key_sent_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    ada = fake.add_member("ada@example.com", "admin")
    with fake.client(api_key=fake.add_api_key("admin", member=ada), max_retries=0) as hers:
        invite = hers.organizations.invite("bob@example.com")
        minted = hers.api_keys.create("helper", role="admin").api_key
    assert invite.invited_by == ada.user_id
    # A key minted by her key is hers too.
    with fake.client(api_key=minted, max_retries=0) as helper:
        assert helper.organizations.invite("dee@example.com").invited_by == ada.user_id
    assert client.organizations.list_invites()[0].invited_by == ada.user_id
    founder = client.organizations.list_members()[0]
    assert client.organizations.invite("cy@example.com").invited_by == founder.user_id


def test_an_answered_invite_keeps_its_status_past_its_week(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    accepted = client.organizations.invite("ada@example.com")
    declined = client.organizations.invite("bob@example.com")
    revoked = client.organizations.invite("cy@example.com")
    fake.accept_invite(accepted.id)
    fake.decline_invite(declined.id)
    client.organizations.revoke_invite(revoked.id)
    fake.clock.advance(seconds=INVITE_TTL_SECONDS + 1)
    statuses = {i.id: i.status for i in client.organizations.list_invites()}
    assert statuses == {accepted.id: "accepted", declined.id: "declined", revoked.id: "revoked"}
    assert client.organizations.list_invites(status="expired") == []


async def test_async_an_answered_invite_keeps_its_status_past_its_week(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    ada = fake.add_member("ada@example.com", "admin")
    async with fake.async_client(
        api_key=fake.add_api_key("admin", member=ada), max_retries=0
    ) as hers:
        invite = await hers.organizations.invite("bob@example.com")
    assert invite.invited_by == ada.user_id
    await aclient.organizations.revoke_invite(invite.id)
    fake.clock.advance(seconds=INVITE_TTL_SECONDS + 1)
    [listed] = await aclient.organizations.list_invites()
    assert (listed.id, listed.status, listed.invited_by) == (invite.id, "revoked", ada.user_id)


def test_an_invite_sent_without_a_role_is_a_members(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK always sends a role; the API's default is for callers that leave it out.
    with raw(fake) as http:
        answer = http.post(
            "/api/v1/developer/organizations/invites", json={"email": "ada@example.com"}
        )
    assert answer.status_code == 200
    assert answer.json()["invite"]["role"] == "member"
    assert client.organizations.list_invites()[0].role == "member"


def test_the_builders_defaults_are_a_members_key_a_member_and_100_usd(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization()
    assert other.balance_usd == 100.0
    assert fake.add_organization(balance_usd=2.5).balance_usd == 2.5  # to the cent
    for key in (fake.add_api_key(), other.add_api_key()):
        assert fake.world.api_keys[key].role == "member"
    fake.add_member("ada@example.com")
    assert [(m.email, m.role) for m in client.organizations.list_members()][-1] == (
        "ada@example.com",
        "member",
    )


def test_an_invite_that_expired_by_now_is_not_answered_by_a_builder(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """Each builder first brings the world up to the clock: an invite whose week ran out
    since the last call is expired, whichever builder is the first to look."""
    accepted = client.organizations.invite("ada@example.com", role="viewer")
    fake.clock.advance(seconds=INVITE_TTL_SECONDS)
    with pytest.raises(ValueError, match="expired, not pending"):
        fake.accept_invite(accepted.id)
    declined = client.organizations.invite("bob@example.com")
    fake.clock.advance(seconds=INVITE_TTL_SECONDS)
    with pytest.raises(ValueError, match="expired, not pending"):
        fake.decline_invite(declined.id)
    added = client.organizations.invite("cy@example.com", role="viewer")
    fake.clock.advance(seconds=INVITE_TTL_SECONDS)
    assert fake.add_member("cy@example.com", "admin").role == "admin"
    assert [(i.id, i.status) for i in client.organizations.list_invites()] == [
        (invite.id, "expired")
        for invite in (added, declined, accepted)  # newest first
    ]


def test_an_organizations_handle_answers_its_invites_and_reads_its_runs(
    fake: FakePictograph,
) -> None:
    other = fake.add_organization()
    other.add_dataset("signs", images=10, completed_images=10)
    other.add_export("signs", "signs-v1")
    with other.client(max_retries=0) as theirs:
        invite = theirs.organizations.invite("bob@example.com")
        assert other.decline_invite(invite.id).status == "declined"
        started = theirs.training.create(
            "signs", "signs-v1", pipeline_type="yolox", name="r", wait=False
        )
        assert other.run("r").status == theirs.training.get(run_id=started.id).status
    with pytest.raises(ValueError, match="no run with the id or name 'r'"):
        fake.run("r")  # the default organization's runs only
