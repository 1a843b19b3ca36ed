"""An organization's people: members with roles, and the invites that bring new ones in.

Every organization is founded by one owner (made with the organization); API keys the
fake mints are that founder's. Through the API, a key of admin role or higher invites
people and changes or removes members, never above its own role, and never so that the
organization is left without an owner. Invitees accept or decline in the web app, which
the fake stands in for with :meth:`MemberService.accept` and :meth:`MemberService.decline`;
a pending invite expires after :data:`~pictograph_testing.catalog.INVITE_TTL_SECONDS` on
the virtual clock.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, get_args

from pictograph_testing.catalog import INVITE_TTL_SECONDS, PLANS, UPGRADE_URL
from pictograph_testing.world.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    field_error,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey, Organization
    from pictograph_testing.world.state import World

__all__ = [
    "INVITE_ROLES",
    "INVITE_STATUSES",
    "MEMBER_ROLES",
    "Invite",
    "InviteRole",
    "InviteStatus",
    "Member",
    "MemberRole",
    "MemberService",
    "check_invite_role",
    "checked_email",
    "outranks",
]

MemberRole = Literal["viewer", "annotator", "member", "admin", "owner"]
MEMBER_ROLES: tuple[MemberRole, ...] = get_args(MemberRole)
"""Lowest first: owner > admin > member > annotator > viewer (the SDK's hierarchy)."""
InviteRole = Literal["admin", "member", "annotator", "viewer"]
INVITE_ROLES: tuple[InviteRole, ...] = get_args(InviteRole)
InviteStatus = Literal["pending", "accepted", "expired", "revoked", "declined"]
INVITE_STATUSES: tuple[InviteStatus, ...] = get_args(InviteStatus)
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(MEMBER_ROLES)}
# An address with one '@', something before it and a dotted domain after it: what a
# sign-up form takes, not RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


@dataclass
class Member:
    """One person's membership of one organization (``id`` is the membership's)."""

    id: str
    organization_id: str
    user_id: str
    email: str | None
    full_name: str | None
    role: MemberRole
    joined_at: float


@dataclass
class Invite:
    """An invitation of an email address into an organization with a role."""

    id: str
    organization_id: str
    email: str
    role: InviteRole
    status: InviteStatus
    invited_by: str | None
    expires_at: float
    created_at: float


def outranks(key: ApiKey, role: str) -> bool:
    """Whether a key's role is ``role`` or above it (key roles sit in the member ladder)."""
    return _RANK[key.role] >= _RANK[role]


class MemberService:
    """Keep every organization's members and invites, indexed per organization."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.members: dict[str, Member] = {}
        self.invites: dict[str, Invite] = {}
        self._roster: dict[str, list[str]] = {}
        """Member ids per organization, in the order they joined."""
        self._sent: dict[str, list[str]] = {}
        """Invite ids per organization, oldest first."""
        self._emails: dict[str, dict[str, str]] = {}
        """Member id by email, per organization."""
        self._users: dict[str, set[str]] = {}
        """The members' user ids, per organization: whose keys still have a creator."""
        self._pending: dict[str, dict[str, str]] = {}
        """The pending invite's id by email, per organization."""
        self._expiries: list[tuple[float, int, str]] = []
        self._seq = 0

    # ── founding ──

    def found(self, org: Organization) -> Member:
        """Make the organization's first owner (a generated person)."""
        full_name = self._world.ids.person()
        return self._join(org.id, _email_for(full_name, org.slug), "owner", full_name)

    def founder(self, organization_id: str) -> Member | None:
        """The organization's first owner still a member (else its first member)."""
        roster = self.roster(organization_id)
        return next((m for m in roster if m.role == "owner"), roster[0] if roster else None)

    def move(self, old_id: str, new_id: str) -> None:
        """Re-home an organization's members and invites under its new id (scenarios)."""
        self._roster[new_id] = self._roster.pop(old_id, [])
        self._sent[new_id] = self._sent.pop(old_id, [])
        for member_id in self._roster[new_id]:
            self.members[member_id].organization_id = new_id
        for invite_id in self._sent[new_id]:
            self.invites[invite_id].organization_id = new_id
        self._emails[new_id] = self._emails.pop(old_id, {})
        self._users[new_id] = self._users.pop(old_id, set())
        self._pending[new_id] = self._pending.pop(old_id, {})

    def clear(self, organization_id: str) -> None:
        """Forget the organization's members and invites (a scenario brings its own)."""
        for member_id in self._roster.pop(organization_id, []):
            del self.members[member_id]
        for invite_id in self._sent.pop(organization_id, []):
            del self.invites[invite_id]
        self._emails.pop(organization_id, None)
        self._users.pop(organization_id, None)
        self._pending.pop(organization_id, None)

    def adopt_member(self, member: Member) -> None:
        """Add a member made elsewhere (a scenario's), its ids as they are."""
        self._add(member)

    def adopt_invite(self, invite: Invite) -> None:
        """Add an invite made elsewhere (a scenario's), its ids and status as they are."""
        self._file(invite)

    # ── members ──

    def roster(self, organization_id: str) -> list[Member]:
        """The organization's members, in the order they joined."""
        return [self.members[i] for i in self._roster.get(organization_id, ())]

    def is_member(self, organization_id: str, user_id: str) -> bool:
        """Whether the user (a key's creator, say) is a member of the organization."""
        return user_id in self._users.get(organization_id, ())

    def count(self, organization_id: str) -> int:
        return len(self._roster.get(organization_id, ()))

    def member(self, organization_id: str, member_id: str) -> Member:
        """The organization's member with this membership id, or 404."""
        # Ids are UUIDs, read in any case (as keys, runs and models are).
        member = self.members.get(member_id.strip().lower())
        if member is None or member.organization_id != organization_id:
            raise NotFound("Member not found")
        return member

    def add(
        self, organization_id: str, email: str, role: MemberRole, full_name: str | None = None
    ) -> Member:
        """Make someone a member at once, as if they had accepted an invite."""
        address = checked_email(email)
        if role not in _RANK:
            raise InvalidRequest(f"Invalid role '{role}': choose one of {', '.join(MEMBER_ROLES)}.")
        if address in self._emails.get(organization_id, {}):
            raise Conflict("User is already a member of this organization.")
        pending = self._pending.get(organization_id, {}).get(address)
        if pending is not None:
            self._end(self.invites[pending], "accepted")
        return self._join(organization_id, address, role, full_name)

    def change_role(self, key: ApiKey, member_id: str, role: MemberRole) -> Member:
        """Give a member another role: never above the key's own, never the last owner's."""
        member = self.member(key.organization_id, member_id)
        if not outranks(key, member.role) or not outranks(key, role):
            raise Forbidden(
                f"This API key's role '{key.role}' cannot change a member from '{member.role}' "
                f"to '{role}': a key acts on roles up to its own."
            )
        if member.role == "owner" and role != "owner" and self._owners(member) == 1:
            raise InvalidRequest(
                "Cannot demote the last owner of the organization. Promote another member "
                "to owner first.",
                status=400,
            )
        member.role = role
        return member

    def remove(self, key: ApiKey, member_id: str) -> Member:
        """Remove a member: never one above the key's role, never the last owner."""
        member = self.member(key.organization_id, member_id)
        if not outranks(key, member.role):
            raise Forbidden(
                f"This API key's role '{key.role}' cannot remove a member whose role is "
                f"'{member.role}': a key acts on roles up to its own."
            )
        if member.role == "owner" and self._owners(member) == 1:
            raise InvalidRequest(
                "Cannot remove the last owner of the organization. Promote another member "
                "to owner first.",
                status=400,
            )
        del self.members[member.id]
        self._roster[member.organization_id].remove(member.id)
        self._users[member.organization_id].discard(member.user_id)
        if member.email is not None:
            self._emails.get(member.organization_id, {}).pop(member.email, None)
        return member

    def _owners(self, member: Member) -> int:
        return sum(1 for m in self.roster(member.organization_id) if m.role == "owner")

    def _join(
        self, organization_id: str, email: str | None, role: MemberRole, full_name: str | None
    ) -> Member:
        ids = self._world.ids
        member = Member(
            id=ids.uuid(),
            organization_id=organization_id,
            user_id=ids.uuid(),
            email=email,
            full_name=full_name,
            role=role,
            joined_at=self._world.now(),
        )
        self._add(member)
        return member

    def _add(self, member: Member) -> None:
        self.members[member.id] = member
        self._roster.setdefault(member.organization_id, []).append(member.id)
        self._users.setdefault(member.organization_id, set()).add(member.user_id)
        if member.email is not None:
            self._emails.setdefault(member.organization_id, {})[member.email] = member.id

    # ── invites ──

    def sent(self, organization_id: str, status: InviteStatus | None = None) -> list[Invite]:
        """The organization's invites, newest first, optionally of one status."""
        found = [self.invites[i] for i in reversed(self._sent.get(organization_id, ()))]
        return found if status is None else [i for i in found if i.status == status]

    def pending_count(self, organization_id: str) -> int:
        return len(self._pending.get(organization_id, ()))

    def invite(self, org_id: str, email: str, role: str, *, by: ApiKey | None) -> Invite:
        """Invite ``email`` with ``role``, after every rule has passed (nothing half-done).

        ``by`` is the key that invites (``None``: the founder, for scenarios). 422 for a
        malformed address or the owner role, 409 when the address is a member or already
        has a pending invite, 402 when members plus pending invites reach the plan's
        ``max_users``.
        """
        address = checked_email(email)
        check_invite_role(role)
        if by is not None and not outranks(by, role):
            raise Forbidden(f"This API key's role '{by.role}' cannot invite a '{role}'.")
        if address in self._emails.get(org_id, {}):
            raise Conflict("User is already a member of this organization.")
        if address in self._pending.get(org_id, {}):
            raise Conflict("A pending invite already exists for this email.")
        org = self._world.organizations[org_id]
        limit = PLANS[org.subscription_tier].max_users
        current, pending = self.count(org_id), self.pending_count(org_id)
        if current + pending >= limit:
            raise LimitExceeded(
                f"The '{org.subscription_tier}' plan allows {limit} users (members plus pending "
                f"invites): {current} members and {pending} pending invites. Revoke an invite, "
                "remove a member or upgrade the plan.",
                details={
                    "error": "limit_exceeded",
                    "limit_type": "users",
                    "current": current,
                    "pending": pending,
                    "limit": limit,
                    "upgrade_url": UPGRADE_URL,
                },
            )
        now = self._world.now()
        invite = Invite(
            id=self._world.ids.uuid(),
            organization_id=org_id,
            email=address,
            role=role,  # type: ignore[arg-type]  # checked against INVITE_ROLES by the route
            status="pending",
            invited_by=by.created_by if by is not None else self._founder_id(org_id),
            expires_at=now + INVITE_TTL_SECONDS,
            created_at=now,
        )
        self._file(invite)
        return invite

    def _founder_id(self, organization_id: str) -> str | None:
        founder = self.founder(organization_id)
        return None if founder is None else founder.user_id

    def invitation(self, organization_id: str, invite_id: str) -> Invite:
        """The organization's invite with this id, or 404 (an email is no invite's id: the
        API looks invites up by id only)."""
        invite = self.invites.get(invite_id.strip().lower())
        if invite is None or invite.organization_id != organization_id:
            raise NotFound("Invite not found")
        return invite

    def _invitation_of(self, organization_id: str, ref: str) -> Invite:
        """The invite with this id, or the pending invite of this email (the fake's own
        accept and decline take either)."""
        pending = self._pending.get(organization_id, {}).get(ref.strip().lower())
        return self.invitation(organization_id, pending if pending is not None else ref)

    def revoke(self, key: ApiKey, invite_id: str) -> Invite:
        """Revoke a pending invite; any other status is a 400."""
        invite = self.invitation(key.organization_id, invite_id)
        if invite.status != "pending":
            raise InvalidRequest(
                f"Cannot revoke invite with status '{invite.status}': only pending invites "
                "can be revoked.",
                status=400,
            )
        self._end(invite, "revoked")
        return invite

    def accept(self, organization_id: str, ref: str, full_name: str | None = None) -> Member:
        """The invitee accepts (the web app's part): they join with the invite's role."""
        invite = self._open(organization_id, ref)
        self._end(invite, "accepted")
        return self._join(organization_id, invite.email, invite.role, full_name)

    def decline(self, organization_id: str, ref: str) -> Invite:
        """The invitee says no (the web app's part)."""
        invite = self._open(organization_id, ref)
        self._end(invite, "declined")
        return invite

    def _open(self, organization_id: str, ref: str) -> Invite:
        invite = self._invitation_of(organization_id, ref)
        if invite.status != "pending":
            raise Conflict(f"The invite for {invite.email} is {invite.status}, not pending.")
        return invite

    def _file(self, invite: Invite) -> None:
        self.invites[invite.id] = invite
        self._sent.setdefault(invite.organization_id, []).append(invite.id)
        if invite.status == "pending":
            self._pending.setdefault(invite.organization_id, {})[invite.email] = invite.id
            self._seq += 1
            heapq.heappush(self._expiries, (invite.expires_at, self._seq, invite.id))
            self._world.agenda.expect(invite.expires_at)

    def _end(self, invite: Invite, status: InviteStatus) -> None:
        invite.status = status
        self._pending.get(invite.organization_id, {}).pop(invite.email, None)

    # ── time ──

    @property
    def next_event(self) -> float:
        """When an invite expires next, at the earliest (for the world's agenda)."""
        return self._expiries[0][0] if self._expiries else math.inf

    def advance_to(self, now: float) -> None:
        """Expire every pending invite whose week has run out by ``now``."""
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _, _, invite_id = heapq.heappop(expiries)
            invite = self.invites.get(invite_id)
            if invite is not None and invite.status == "pending":
                self._end(invite, "expired")


def check_invite_role(role: str) -> None:
    """A 422 unless ``role`` is one an invite may carry (an owner is promoted, never invited)."""
    if role not in INVITE_ROLES and role != "owner":
        allowed = ", ".join(f"'{r}'" for r in INVITE_ROLES)
        raise InvalidRequest(
            f"Invalid role '{role}': choose one of {allowed}.",
            errors=[field_error(("body", "role"), f"Input should be {allowed}", "literal_error")],
        )
    if role == "owner":
        raise InvalidRequest(
            "Owners cannot be invited: invite them as 'admin' and promote them to owner "
            "once they have accepted.",
            errors=[field_error(("body", "role"), "Owners cannot be invited", "value_error")],
        )


def checked_email(email: str) -> str:
    """The address lowercased and trimmed (as the API stores it), or a 422."""
    address = email.strip().lower()
    if not _EMAIL.fullmatch(address):
        raise InvalidRequest(
            f"'{email}' is not a valid email address.",
            errors=[
                field_error(("body", "email"), "value is not a valid email address", "value_error")
            ],
        )
    return address


@lru_cache(maxsize=1024)  # every world of a seed founds its first organization alike
def _email_for(full_name: str, slug: str) -> str:
    local = ".".join("".join(c for c in part if c.isalnum()) for part in full_name.lower().split())
    domain = "".join(c for c in slug if c.isalnum() or c == "-").strip("-") or "example"
    return f"{local or 'owner'}@{domain}.example.com"
