"""API keys as the API manages them: issued, listed, amended and deleted by other keys.

A key acts only in its own organization and never above its own role: it cannot mint a
key of a higher role, nor change or delete one. The secret is shown once, when the key is
issued; afterwards only its first :data:`PREFIX_LENGTH` characters are. A deleted key is
gone for good (every request with it gets a 401), a disabled one until another key turns
it on, an expired one from its ``expires_at`` on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pictograph_testing.catalog import PLANS
from pictograph_testing.world.errors import Forbidden, InvalidRequest, NotFound, field_error
from pictograph_testing.world.members import outranks

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey, Role
    from pictograph_testing.world.state import World

__all__ = ["PREFIX_LENGTH", "KeyRing", "key_prefix"]

PREFIX_LENGTH = 12
"""``pk_live_abc1``: what the API shows of a key after it was issued (safe to log)."""


def key_prefix(key: ApiKey) -> str:
    return key.key[:PREFIX_LENGTH]


class KeyRing:
    """Index every organization's keys by id, and carry out the API's key management."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._by_id: dict[str, ApiKey] = {}
        self._by_org: dict[str, dict[str, ApiKey]] = {}
        """Each organization's keys by id, oldest first."""

    # ── the index (kept by World as keys come and go) ──

    def file(self, key: ApiKey) -> None:
        self._by_id[key.key_id] = key
        self._by_org.setdefault(key.organization_id, {})[key.key_id] = key

    def drop(self, key: ApiKey) -> None:
        self._by_id.pop(key.key_id, None)
        self._by_org.get(key.organization_id, {}).pop(key.key_id, None)

    def move(self, old_id: str, new_id: str) -> None:
        self._by_org[new_id] = self._by_org.pop(old_id, {})

    # ── reads ──

    def listing(self, organization_id: str) -> list[ApiKey]:
        """The organization's keys that were not deleted, newest first."""
        keys = self._by_org.get(organization_id, {}).values()
        return [k for k in reversed(keys) if not k.revoked]

    def find(self, organization_id: str, key_id: str) -> ApiKey:
        """The organization's key with this id (never its secret), or 404."""
        key = self._by_id.get(key_id.lower())
        if key is None or key.organization_id != organization_id or key.revoked:
            raise NotFound("API key not found")
        return key

    def rate_limit(self, key: ApiKey) -> int:
        """Requests per hour the key may send: its own cap, else its plan's limit, and
        never above the plan's (a cap set under a bigger plan holds below it only)."""
        plan = self._plan_limit(key.organization_id)
        cap = key.rate_limit
        return plan if cap is None or cap > plan else cap

    def _plan_limit(self, organization_id: str) -> int:
        tier = self._world.organizations[organization_id].subscription_tier
        return PLANS[tier].rate_limit_per_hour

    # ── writes: every rule is checked before anything changes ──

    def issue(
        self,
        caller: ApiKey,
        organization_id: str,
        *,
        name: str,
        role: Role,
        rate_limit: int | None,
        expires_at: float | None,
    ) -> ApiKey:
        """Mint a key in the caller's organization, at most of the caller's role."""
        self.check_own(caller, organization_id)
        # The caller's own id, as the organization stores it: the one sent may differ in case.
        organization_id = caller.organization_id
        if not outranks(caller, role):
            raise Forbidden(
                f"This API key's role '{caller.role}' cannot create a key with role '{role}': "
                "a key never mints one above its own role."
            )
        self._check_rate_limit(organization_id, rate_limit)
        if expires_at is not None and expires_at <= self._world.now():
            raise InvalidRequest(
                "'expires_at' must be in the future.",
                errors=[
                    field_error(
                        ("body", "expires_at"), "Date should be in the future", "value_error"
                    )
                ],
            )
        return self._world.add_api_key(
            organization_id,
            role=role,
            name=name,
            created_by=caller.created_by,
            rate_limit=rate_limit,
            expires_at=expires_at,
        )

    def amend(
        self,
        caller: ApiKey,
        key_id: str,
        *,
        name: str | None,
        rate_limit: int | None,
        clear_rate_limit: bool,
        is_active: bool | None,
    ) -> ApiKey:
        """Rename a key, cap it (or lift its cap), or turn it off or on."""
        key = self._reachable(caller, key_id, "change")
        if rate_limit is not None:
            self._check_rate_limit(key.organization_id, rate_limit)
        if name is not None:
            key.name = name
        if rate_limit is not None:
            key.rate_limit = rate_limit
        elif clear_rate_limit:
            key.rate_limit = None
        if is_active is not None:
            key.is_active = is_active
        return key

    def delete(self, caller: ApiKey, key_id: str) -> ApiKey:
        """Delete a key for good: it answers 401 from now on and is listed no more."""
        key = self._reachable(caller, key_id, "delete")
        key.revoked = True
        return key

    def check_own(self, caller: ApiKey, organization_id: str) -> None:
        """Refuse (403) an organization id that is not the caller's own."""
        if organization_id.lower() != caller.organization_id:
            raise Forbidden(
                "An API key can only manage keys for its own organization "
                f"('{caller.organization_id}')."
            )

    def _reachable(self, caller: ApiKey, key_id: str, verb: str) -> ApiKey:
        key = self.find(caller.organization_id, key_id)
        if not outranks(caller, key.role):
            raise Forbidden(
                f"This API key's role '{caller.role}' cannot {verb} a key with role "
                f"'{key.role}': a key acts on keys up to its own role."
            )
        return key

    def _check_rate_limit(self, organization_id: str, rate_limit: int | None) -> None:
        limit = self._plan_limit(organization_id)
        if rate_limit is not None and rate_limit > limit:
            raise InvalidRequest(
                f"'rate_limit' can only hold a key below its plan's limit ({limit} requests "
                f"per hour), got {rate_limit}; omit it to follow the plan.",
                errors=[
                    field_error(
                        ("body", "rate_limit"),
                        f"Input should be less than or equal to {limit}",
                        "less_than_equal",
                    )
                ],
            )
