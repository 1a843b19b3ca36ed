"""A scenario's members and invites are checked whole, with where and what, before loading.

Exact records (a snapshot's, with ``id``) used to go in as written: a role or status the
SDK's models do not know, or a ``joined_at`` that is not a number, surfaced later as a
500 on ``organizations.list_members()`` / ``list_invites()``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pictograph.exceptions import ConflictError, NotFoundError

from pictograph_testing import FakePictograph

OWNER: dict[str, Any] = {
    "id": "m-1",
    "user_id": "u-1",
    "email": "ada@example.com",
    "full_name": "Ada",
    "role": "owner",
    "joined_at": 0.0,
}
ADMIN: dict[str, Any] = {**OWNER, "id": "m-2", "user_id": "u-2", "email": "bob@example.com"}
ADMIN["role"] = "admin"
INVITE: dict[str, Any] = {
    "id": "i-1",
    "email": "cy@example.com",
    "role": "member",
    "status": "pending",
    "invited_by": "u-1",
    "expires_at": 600.0,
    "created_at": 0.0,
}


def _with(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema_version": 1,
        "members": [copy.deepcopy(OWNER), copy.deepcopy(ADMIN)],
        "invites": [copy.deepcopy(INVITE)],
    }
    document.update(changes)
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_with(members=[OWNER, {**ADMIN, "role": "god"}]), "members[1].role must be one of"),
        (_with(members=[{**OWNER, "joined_at": "yesterday"}]), "members[0].joined_at must be"),
        (_with(members=[{**OWNER, "full_name": 5}]), "members[0].full_name must be"),
        (_with(members=[{**OWNER, "email": "nope"}]), "members[0].email: 'nope' is not a valid"),
        (_with(members=[{**OWNER, "role": "admin"}]), "members needs at least one member whose"),
        (_with(members=[OWNER, {**ADMIN, "id": "m-1"}]), "members[1].id 'm-1' is also members[0]"),
        (_with(members=[OWNER, {**ADMIN, "user_id": "u-1"}]), "members[1].user_id 'u-1'"),
        (_with(members=[OWNER, {**ADMIN, "email": OWNER["email"]}]), "members[1].email"),
        (_with(members=[{"role": "owner"}]), "members[0]: a required key is missing: 'email'"),
        (_with(members=[{"email": 5, "role": "owner"}]), "members[0].email must be"),
        (_with(members=["ada@example.com"]), "members must be a list of objects"),
        (_with(invites=[{**INVITE, "status": "weird"}]), "invites[0].status must be one of"),
        (_with(invites=[{**INVITE, "expires_at": "soon"}]), "invites[0].expires_at must be"),
        (_with(invites=[INVITE, {**INVITE, "email": "dee@example.com"}]), "invites[1].id 'i-1'"),
        (_with(invites=[{"email": 5}]), "invites[0].email must be a string"),
        (_with(invites=[{"role": "viewer"}]), "invites[0]: a required key is missing: 'email'"),
        (_with(invites=[{"email": "x@example.com", "role": "owner"}]), "invites[0].role: Owners"),
    ],
)
def test_a_bad_member_or_invite_says_where_and_what(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FakePictograph(scenario=document)


def test_good_members_and_invites_load_and_list_through_the_sdk() -> None:
    with FakePictograph(scenario=_with()) as fake:
        client = fake.client()
        assert [(m.email, m.role) for m in client.organizations.list_members()] == [
            ("ada@example.com", "owner"),
            ("bob@example.com", "admin"),
        ]
        assert [i.email for i in client.organizations.list_invites()] == ["cy@example.com"]


async def test_good_members_list_through_the_async_sdk() -> None:
    with FakePictograph(scenario=_with()) as fake:
        async with fake.async_client() as client:
            members = await client.organizations.list_members()
    assert [m.role for m in members] == ["owner", "admin"]


def test_two_pending_invites_of_one_address_are_refused() -> None:
    again = {**INVITE, "id": "i-2", "email": "CY@example.com"}
    with pytest.raises(ValueError, match=re.escape("invites[1].email 'cy@example.com' is also")):
        FakePictograph(scenario=_with(invites=[INVITE, again]))


def test_a_revoked_invite_beside_a_pending_one_of_the_same_address_loads() -> None:
    revoked = {**INVITE, "id": "i-0", "status": "revoked"}
    with FakePictograph(scenario=_with(invites=[revoked, INVITE])) as fake:
        pending = fake.client().organizations.list_invites(status="pending")
    assert [i.id for i in pending] == ["i-1"]


def test_an_answered_invite_loaded_beside_none_pending_leaves_its_address_free() -> None:
    # Only a pending invite holds its address and a seat; one loaded as revoked or
    # accepted neither blocks a new invite nor counts as pending.
    revoked = {**INVITE, "status": "revoked"}
    accepted = {**INVITE, "id": "i-2", "email": "dee@example.com", "status": "accepted"}
    with FakePictograph(scenario=_with(invites=[revoked, accepted])) as fake:
        client = fake.client(max_retries=0)
        assert client.organizations.me().pending_invite_count == 0
        assert client.organizations.invite("cy@example.com").status == "pending"
        assert client.organizations.invite("dee@example.com").status == "pending"
        assert client.organizations.me().pending_invite_count == 2


# A training-ready dataset, to show a key's creator is still a member.
_TRAINABLE: list[dict[str, Any]] = [
    {"name": "d", "synthetic_images": {"count": 5, "complete": 5}, "exports": [{"name": "v1"}]}
]


def test_the_founder_follows_the_organization_to_the_scenarios_id() -> None:
    org_id = "0a0a0a0a-0000-4000-8000-00000000000a"
    document = {"schema_version": 1, "organization": {"id": org_id}, "datasets": _TRAINABLE}
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        [founder] = client.organizations.list_members()
        assert founder.email is not None
        # Still a member under the new id: their address taken, their membership found,
        # and the keys they made still theirs to train with.
        with pytest.raises(ConflictError, match="already a member"):
            client.organizations.invite(founder.email)
        ack = client.organizations.update_member_role(founder.id, role="owner")
        assert ack == {"id": founder.id, "role": "owner"}
        assert client.training.create("d", "v1", pipeline_type="yolox", name="r").status
    assert fake.organization_id == org_id


def test_members_by_hand_leave_nothing_of_the_founder_they_replace() -> None:
    # The same seed founds the same owner; the scenario's members replace them whole.
    with FakePictograph(seed=4) as plain, plain.client(max_retries=0) as client:
        [replaced] = client.organizations.list_members()
    assert replaced.email is not None
    document = {"schema_version": 1, "members": [copy.deepcopy(OWNER)]}
    with FakePictograph(seed=4, scenario=document) as fake, fake.client(max_retries=0) as client:
        with pytest.raises(NotFoundError):
            client.organizations.remove_member(replaced.id)
        # Their address is no member's: it may be invited.
        assert client.organizations.invite(replaced.email).status == "pending"
        assert [m.email for m in client.organizations.list_members()] == ["ada@example.com"]
