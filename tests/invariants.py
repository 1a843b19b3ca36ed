"""Invariants of a fake's world, checked by the property, access and concurrency tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pictograph_testing.world.state import World


def fingerprint(world: World) -> str:
    """Everything a request may change, in one comparable string (idempotency replies
    and signed URLs aside: storing and signing them is not a change of the world)."""
    world.catch_up()
    return repr(
        (
            sorted(
                (r.id, r.name, r.status, r.ends_at, r.charged_micro_usd, r.model_id)
                for r in world.runs.values()
            ),
            {
                org: [(e.operation, e.amount) for e in ledger]
                for org, ledger in world.ledgers.items()
            },
            sorted(
                (d.id, d.name, d.description, d.readme, repr(d.classes), d.image_ids, d.archived_at)
                for d in world.datasets.values()
            ),
            sorted(
                (i.id, i.filename, i.directory_path, i.status, i.split, i.tags, i.is_archived)
                for i in world.images.values()
            ),
            sorted((i.id, repr(i.annotations)) for i in world.images.values()),
            sorted((e.id, e.name, e.status) for e in world.exports.values()),
            sorted(
                (m.id, m.name, m.description, m.visibility, m.status, m.pinned_version_id)
                for m in world.models.values()
            ),
            sorted((m.id, len(m.versions)) for m in world.models.values()),
            sorted((n.id, n.read) for n in world.feeds.notifications.values()),
            sorted((k.key, k.role, k.revoked) for k in world.api_keys.values()),
        )
    )


def check_balances(world: World) -> None:
    """Every organization's balance is its allowance and budget plus its ledger, and each
    entry's ``balance_after`` is the running sum."""
    with world.lock:
        world.catch_up()
        for org in world.organizations.values():
            ledger = world.ledgers[org.id]
            opening = org.allowance_micro_usd + org.budget_micro_usd
            assert world.billing.spendable(org) == opening + sum(e.amount for e in ledger)
            running = opening
            for entry in ledger:
                running += entry.amount
                assert entry.balance_after == running


def check_charges(world: World) -> None:
    """No run is charged twice, and no run is refunded more than it was charged."""
    debits: dict[str, int] = {}
    refunds: dict[str, int] = {}
    with world.lock:
        world.catch_up()
        for ledger in world.ledgers.values():
            for entry in ledger:
                run_id = (entry.metadata or {}).get("run_id")
                if run_id is None:
                    continue
                book = debits if entry.amount < 0 else refunds
                assert run_id not in book, f"run {run_id} has two {entry.operation} entries"
                book[run_id] = entry.amount
        for run_id, run in world.runs.items():
            charged = -debits.get(run_id, 0)
            assert refunds.get(run_id, 0) <= charged
            if run.billing == "charge_on_success":
                assert (charged > 0) == (run.status == "completed" and run.charged_micro_usd > 0)
            else:
                assert charged == run.precharge_micro_usd


def check_models(world: World) -> None:
    """A completed run has exactly one model version; no other run has any."""
    versions: dict[str, int] = {}
    with world.lock:
        world.catch_up()
        for model in world.models.values():
            for version in model.versions:
                if version.training_run_id is not None:
                    run_id = version.training_run_id
                    versions[run_id] = versions.get(run_id, 0) + 1
        for run_id, run in world.runs.items():
            if run.status == "completed":
                assert run.model_id in world.models
                assert versions.get(run_id) == 1
            else:
                assert run.model_id is None
                assert run_id not in versions


# Parts of the object graph that are not state of the world: its lock and clock (time is
# moved by tests, not by requests), back-references, and the signed-URL tables (signing
# and receiving bytes is storage, not a change of the world).
_NOT_STATE = frozenset(
    {"lock", "clock", "_world", "world", "storage", "last_used_at", "agenda", "metrics_memo"}
)
"""Not world state: plumbing, ``ApiKey.last_used_at``, which every authenticated request
stamps, refused or not (as the API records a key's use), the world's agenda, a bound
worked out from the services' own queues (its webhook attempts are the webhooks
service's, walked there), and the metrics memos of runs and model versions, filled by
whichever read first asks for an epoch's metrics (``tests/test_catch_up.py`` holds a
memo filled late to the answer read at once)."""


def _drawn(name: str, value: Any) -> Any:
    """A field's value as the world answers with it: an id kept as the bits drawn for it
    until first read (``ModelVersion.id_drawn``) is the same id once formatted."""
    if name.endswith("_drawn") and isinstance(value, int):
        from pictograph_testing.world.ids import uuid_text

        return uuid_text(value)
    return value


def state_digest(world: World) -> str:
    """A digest of every value the world holds, reached by walking its object graph.

    Unlike :func:`fingerprint`, nothing is picked by hand: every attribute of the world
    and its services, and every entity they hold, down to the id generator's state, goes
    in (but for ``_NOT_STATE``). Two worlds with the same digest answer alike.
    """
    import dataclasses
    import functools
    import hashlib
    import types
    from collections import deque

    digest = hashlib.blake2b(digest_size=16)
    seen: set[int] = set()
    with world.lock:
        # A service is built on first use, empty: built or not, the world is the same.
        for name, member in vars(type(world)).items():
            if isinstance(member, functools.cached_property):
                getattr(world, name)
        world.catch_up()
        stack: list[Any] = [world]
        while stack:
            node = stack.pop()
            if node is None or isinstance(node, (str, bytes, int, float, bool)):
                digest.update(repr(node).encode("utf-8", "backslashreplace"))
                continue
            if id(node) in seen:
                digest.update(b"<seen>")
                continue
            seen.add(id(node))
            digest.update(type(node).__name__.encode())
            if isinstance(node, dict):
                for key in node:
                    digest.update(repr(key).encode("utf-8", "backslashreplace"))
                stack.extend(node.values())
            elif isinstance(node, (list, tuple, deque)):
                stack.extend(node)
            elif isinstance(node, (set, frozenset)):
                digest.update(repr(sorted(map(repr, node))).encode("utf-8", "backslashreplace"))
            elif dataclasses.is_dataclass(node):
                stack.extend(
                    _drawn(f.name, getattr(node, f.name))
                    for f in dataclasses.fields(node)
                    if f.name not in _NOT_STATE
                )
            elif isinstance(node, types.BuiltinMethodType):  # a kept `rng.getrandbits`
                digest.update(node.__name__.encode())
                stack.append(node.__self__)
            elif hasattr(node, "getstate"):  # random.Random
                digest.update(repr(node.getstate()).encode())
            elif hasattr(node, "__dict__"):
                # By name: the order services were built in (a catch-up builds the
                # month's resets) is not state.
                for name, value in sorted(vars(node).items(), key=lambda item: item[0]):
                    if name not in _NOT_STATE:
                        digest.update(name.encode())
                        stack.append(value)
            elif hasattr(node, "__slots__"):
                for name in node.__slots__:
                    if name not in _NOT_STATE and hasattr(node, name):
                        stack.append(getattr(node, name))
            else:
                digest.update(repr(node).encode("utf-8", "backslashreplace"))
    return digest.hexdigest()
