"""Invariants of a fake's world, checked by the property, access and concurrency tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
