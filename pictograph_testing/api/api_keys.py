"""``/api/v1/api-keys/``: the organization's API keys (outside ``/developer``, as in the API).

Listing and reading take any role; creating, changing and deleting need admin or higher,
and never reach above the calling key's own role (``world/keys.py``). The secret is in
the reply to create only (bare, with a warning to store it); every other reply shows the
key's first 12 characters (``key_prefix``).
"""

from __future__ import annotations

from datetime import timezone
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import NAME, Bool, Field, Int, Obj, Param, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.bounds import LATEST_INSTANT
from pictograph_testing.clock import format_timestamp, parse_timestamp
from pictograph_testing.world.entities import ROLES
from pictograph_testing.world.errors import InvalidRequest, field_error
from pictograph_testing.world.keys import key_prefix

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey

__all__ = ["CREATE", "UPDATE", "api_key_payload"]

_COLLECTION = "/api/v1/api-keys/"
_ONE = "/api/v1/api-keys/{key_id}"
CREATE = Obj(
    {
        "organization_id": Field(Str(format="uuid"), required=True),
        "name": Field(NAME, required=True),
        "role": Field(Str(enum=ROLES)),
        "rate_limit": Field(Int(minimum=1)),
        "expires_at": Field(Str(format="date-time")),
    }
)
UPDATE = Obj(
    {
        "name": Field(NAME, nullable=False),
        # `null` lifts the key's cap: it follows its plan's limit again.
        "rate_limit": Field(Int(minimum=1)),
        "is_active": Field(Bool(), nullable=False),
        # Declared to be refused with a message that says what to do instead.
        "role": Field(Str()),
    },
    at_least_one="key",
)
WARNING = "Store this API key securely. It will not be shown again."


@endpoint(
    "GET",
    _COLLECTION,
    summary="The organization's API keys, newest first (never their secrets)",
    sdk=("api_keys.list",),
    reply=Bare("ApiKeyList"),
    query=(Param("organization_id", Str(format="uuid")),),
    errors=(403,),
)
def list_keys(call: Call) -> Reply:
    wanted = call.args["organization_id"]
    if wanted is not None:
        call.world.keyring.check_own(call.key, wanted)
    keys = call.world.keyring.listing(call.key.organization_id)
    return reply({"success": True, "api_keys": [api_key_payload(call, k) for k in keys]})


@endpoint(
    "POST",
    _COLLECTION,
    summary="Create a key (its secret is in this reply only)",
    sdk=("api_keys.create",),
    reply=Bare("CreatedApiKey"),
    status=201,
    body=CREATE,
    role="admin",
    action="create API keys",
)
def create_key(call: Call) -> Reply:
    fields = call.fields()
    expires_at = fields.get("expires_at")
    key = call.world.keyring.issue(
        call.key,
        fields["organization_id"],
        name=fields["name"].strip(),
        role=fields.get("role") or "member",
        rate_limit=fields.get("rate_limit"),
        expires_at=None if expires_at is None else _instant(call, expires_at),
    )
    return reply(
        {
            "success": True,
            "api_key": key.key,
            "key_id": key.key_id,
            "key_prefix": key_prefix(key),
            "name": key.name,
            "role": key.role,
            "rate_limit": call.world.keyring.rate_limit(key),
            "expires_at": call.iso(key.expires_at),
            "created_at": call.iso(key.created_at),
            "warning": WARNING,
        },
        status=201,
    )


@endpoint(
    "GET",
    _ONE,
    summary="One key's metadata (never its secret)",
    sdk=("api_keys.get",),
    reply=Bare("ApiKeyReply"),
)
def get_key(call: Call) -> Reply:
    key = call.world.keyring.find(call.key.organization_id, call.path_args["key_id"])
    return reply({"success": True, "api_key": api_key_payload(call, key)})


@endpoint(
    "PATCH",
    _ONE,
    summary="Rename a key, cap it or lift its cap, turn it off or on",
    sdk=("api_keys.update",),
    reply=Bare("ApiKeyReply"),
    body=UPDATE,
    role="admin",
    action="change API keys",
)
def update_key(call: Call) -> Reply:
    fields = call.fields()
    if "role" in fields:
        raise InvalidRequest(
            "A key's role cannot change: create a new key with the role you want, switch to "
            "it, then delete this one.",
            errors=[field_error(("body", "role"), "The role of a key is immutable", "frozen")],
        )
    name = fields.get("name")
    key = call.world.keyring.amend(
        call.key,
        call.path_args["key_id"],
        name=None if name is None else name.strip(),
        rate_limit=fields.get("rate_limit"),
        clear_rate_limit="rate_limit" in fields and fields["rate_limit"] is None,
        is_active=fields.get("is_active"),
    )
    return reply({"success": True, "api_key": api_key_payload(call, key)})


@endpoint(
    "DELETE",
    _ONE,
    summary="Delete a key for good (it answers 401 from then on)",
    sdk=("api_keys.delete",),
    reply=Bare("ApiKeyDeleted"),
    role="admin",
    action="delete API keys",
)
def delete_key(call: Call) -> Reply:
    call.world.keyring.delete(call.key, call.path_args["key_id"])
    return reply({"success": True, "message": "API key deleted successfully"})


def api_key_payload(call: Call, key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "organization_id": key.organization_id,
        "name": key.name,
        "key_prefix": key_prefix(key),
        "role": key.role,
        "rate_limit": call.world.keyring.rate_limit(key),
        "is_active": key.is_active,
        "last_used_at": call.iso(key.last_used_at),
        "expires_at": call.iso(key.expires_at),
        "created_at": call.iso(key.created_at),
    }


def _instant(call: Call, text: str) -> float:
    """An ISO 8601 date or date-time as a virtual second (no zone: UTC), or a 422."""
    try:
        moment = parse_timestamp(text.strip())
        # Years 1 and 9999 with a zone can fall outside what a datetime holds in UTC.
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"'expires_at' must be an ISO 8601 date or date-time "
            f"(2026-12-31 or 2026-12-31T23:59:59Z), got '{text}'.",
            errors=[
                field_error(
                    ("body", "expires_at"), "Input should be a valid datetime", "datetime_parsing"
                )
            ],
        ) from None
    if moment >= LATEST_INSTANT:
        # A "never" such as `datetime.max`: past every instant the clock can reach.
        raise InvalidRequest(
            f"'expires_at' must be before {format_timestamp(LATEST_INSTANT)}, which the "
            f"virtual clock never reaches, got '{text}': leave it out for a key that "
            "never expires.",
            errors=[
                field_error(
                    ("body", "expires_at"),
                    f"Input should be before {format_timestamp(LATEST_INSTANT)}",
                    "less_than",
                )
            ],
        )
    return (moment - call.world.clock.start).total_seconds()
