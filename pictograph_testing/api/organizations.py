"""``/api/v1/developer/organizations``: the key's organization, its members and invites.

Every route is scoped to the calling key's organization (there is no organization id in
any path). Replies are keyed by what they hold: ``organization``, ``members``, ``member``,
``invites``, ``invite``. Reads take any role; changes need admin or higher, and the world
keeps a key from acting above its own role (``world/members.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.credits import billing_period, credits_left
from pictograph_testing.api.dialects import (
    INTEGER_CREDITS,
    INVITE_STATUSES_BY_RELEASE,
    ROLES_BY_RELEASE,
    Wire,
)
from pictograph_testing.api.spec import NAME, Bool, Field, Obj, Param, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import LEGACY_CREDIT_MICRO_USD, MICRO_USD, PLANS
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.members import INVITE_ROLES, INVITE_STATUSES, MEMBER_ROLES

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Organization
    from pictograph_testing.world.members import Invite, Member

__all__ = ["UPDATE", "invite_payload", "member_payload", "organization_payload"]

UPDATE = Obj(
    {
        "name": Field(NAME, nullable=False),
        "description": Field(Str(max_length=1000)),
        "is_public": Field(Bool(), nullable=False),
    },
    at_least_one="key",
)
_ADMIN_ERRORS = (400, 403)
_WHOLE_CREDITS = Wire(INTEGER_CREDITS, note="credits in whole legacy credits")
"""The organization's credits in the unit of the release's ``credits.balance`` (its
payload picks the unit: the reply's shape is today's)."""


@endpoint(
    "GET",
    "organizations/me",
    summary="The calling key's organization: plan, caps, credit, member counts",
    sdk=("organizations.me", "api_keys.create", "api_keys.list"),
    reply=Bare("OrganizationReply"),
    wires=(_WHOLE_CREDITS,),
)
def me(call: Call) -> Reply:
    return reply({"organization": organization_payload(call, _org(call))})


@endpoint(
    "PATCH",
    "organizations/me",
    summary="Rename or describe the organization, or make its profile public",
    sdk=("organizations.update",),
    reply=Bare("OrganizationReply"),
    body=UPDATE,
    wires=(_WHOLE_CREDITS,),
    role="admin",
    action="update the organization's profile",
)
def update(call: Call) -> Reply:
    fields = call.fields()
    org = _org(call)
    if fields.get("name") is not None:
        org.name = fields["name"].strip()
    if "description" in fields:
        org.description = fields["description"]
    if fields.get("is_public") is not None:
        org.is_public = fields["is_public"]
    org.updated_at = call.now
    return reply({"organization": organization_payload(call, org)})


@endpoint(
    "GET",
    "organizations/members",
    summary="Every member, in the order they joined",
    sdk=("organizations.list_members",),
    reply=Bare("MemberList"),
)
def list_members(call: Call) -> Reply:
    roster = call.world.people.roster(call.key.organization_id)
    return reply({"members": [member_payload(call, m) for m in roster]})


@endpoint(
    "PATCH",
    "organizations/members/{member_id}",
    summary="Change a member's role (never the last owner's, never above the key's)",
    sdk=("organizations.update_member_role",),
    reply=Bare("MemberRoleChanged"),
    body=Obj({"role": Field(Str(enum=MEMBER_ROLES), required=True)}),
    values=(ROLES_BY_RELEASE,),
    role="admin",
    action="change members' roles",
    errors=_ADMIN_ERRORS,
)
def update_member_role(call: Call) -> Reply:
    member = call.world.people.change_role(
        call.key, call.path_args["member_id"], call.fields()["role"]
    )
    return reply({"member": {"id": member.id, "role": member.role}})


@endpoint(
    "DELETE",
    "organizations/members/{member_id}",
    summary="Remove a member (never the last owner, never one above the key's role)",
    sdk=("organizations.remove_member",),
    reply=Bare("MemberRemoved"),
    role="admin",
    action="remove members",
    errors=_ADMIN_ERRORS,
)
def remove_member(call: Call) -> Reply:
    member = call.world.people.remove(call.key, call.path_args["member_id"])
    return reply({"success": True, "member_id": member.id})


@endpoint(
    "GET",
    "organizations/invites",
    summary="The organization's invites, newest first",
    sdk=("organizations.list_invites",),
    reply=Bare("InviteList"),
    query=(Param("status", Str(enum=INVITE_STATUSES)),),
    values=(INVITE_STATUSES_BY_RELEASE,),
)
def list_invites(call: Call) -> Reply:
    invites = call.world.people.sent(call.key.organization_id, call.args["status"])
    return reply({"invites": [invite_payload(call, i) for i in invites]})


@endpoint(
    "POST",
    "organizations/invites",
    summary="Invite someone by email with a role (not owner)",
    sdk=("organizations.invite",),
    reply=Bare("InviteReply"),
    body=Obj(
        {
            "email": Field(
                Str(min_length=3, max_length=320, format="email", example="ada@example.com"),
                required=True,
            ),
            # The world refuses `owner` with a message that says what to do instead.
            "role": Field(Str(enum=INVITE_ROLES, enforced=False), nullable=False),
        }
    ),
    values=(ROLES_BY_RELEASE,),
    role="admin",
    action="invite members",
    errors=(402, 403, 409),
)
def invite(call: Call) -> Reply:
    fields = call.fields()
    made = call.world.people.invite(
        call.key.organization_id, fields["email"], fields.get("role", "member"), by=call.key
    )
    return reply({"invite": invite_payload(call, made)})


@endpoint(
    "DELETE",
    "organizations/invites/{invite_id}",
    summary="Revoke a pending invite",
    sdk=("organizations.revoke_invite",),
    reply=Bare("InviteRevoked"),
    role="admin",
    action="revoke invites",
    errors=_ADMIN_ERRORS,
)
def revoke_invite(call: Call) -> Reply:
    revoked = call.world.people.revoke(call.key, call.path_args["invite_id"])
    return reply({"success": True, "invite_id": revoked.id})


def _org(call: Call) -> Organization:
    return call.world.organizations[call.key.organization_id]


def organization_payload(call: Call, org: Organization) -> dict[str, Any]:
    world = call.world
    plan = PLANS[org.subscription_tier]
    _, reset_at = billing_period(call)
    unit = LEGACY_CREDIT_MICRO_USD if INTEGER_CREDITS.holds(call.sdk, call.client) else MICRO_USD
    return {
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "description": org.description,
        "is_public": org.is_public,
        "subscription_tier": org.subscription_tier,
        # In the unit credits.balance reports them in, rounded down: whole dollars today,
        # whole legacy credits for the releases that count money in them.
        "credits_remaining": credits_left(world.billing.spendable(org), unit),
        "credits_monthly_allowance": credits_left(org.allowance_micro_usd, unit),
        "credits_reset_at": format_timestamp(reset_at),
        "max_users": plan.max_users,
        "max_images": plan.max_images,
        "max_storage_bytes": plan.max_storage_bytes,
        "member_count": world.people.count(org.id),
        "pending_invite_count": world.people.pending_count(org.id),
        "created_at": call.iso(org.created_at),
        "updated_at": call.iso(org.created_at if org.updated_at is None else org.updated_at),
    }


def member_payload(call: Call, member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "user_id": member.user_id,
        "email": member.email,
        "full_name": member.full_name,
        "role": member.role,
        "joined_at": call.iso(member.joined_at),
    }


def invite_payload(call: Call, invite: Invite) -> dict[str, Any]:
    return {
        "id": invite.id,
        "organization_id": invite.organization_id,
        "email": invite.email,
        "role": invite.role,
        "status": invite.status,
        "invited_by": invite.invited_by,
        "expires_at": call.iso(invite.expires_at),
        "created_at": call.iso(invite.created_at),
    }
