"""The credits ledger, the single source of truth for every balance, and its policies.

Two policies, chosen by the profile:

- ``prepaid`` (the training guide): the estimate is debited at create as
  ``training_<gpu>_per_minute``; whatever the run did not use comes back as one positive
  ``training_refund_<gpu>`` entry when it completes, fails or is cancelled.
- ``charge_on_success`` (the API today): create needs $2.00 spendable; one
  ``training_<gpu>`` debit when the run completes; failed and cancelled runs are free.

The spendable balance is always ``allowance + budget + sum(ledger amounts)``.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import CREDITS_LOW_MICRO_USD, MICRO_USD, OPERATIONS, Operation
from pictograph_testing.world.entities import LedgerEntry, Organization, TrainingRun
from pictograph_testing.world.errors import InsufficientCredits, InvalidRequest

if TYPE_CHECKING:
    from pictograph_testing.world.state import World

__all__ = [
    "AUTO_ANNOTATE_REFUND",
    "REFUND",
    "SPEND_RETURNED",
    "TOP_UP",
    "Billing",
    "Estimate",
    "billable_minutes",
    "unknown_operation",
    "usd",
    "usd_pair",
]

TOP_UP = "top_up"
"""The ledger operation of credit bought (``fake.top_up``): money in, never spend."""
REFUND = "training_refund_"
"""What the operation of a run's refund starts with (then its GPU): spend given back."""
AUTO_ANNOTATE_REFUND = "auto_annotate_refund"
"""The operation of an auto-annotate job's deposit returned (cancelled before it started)."""
SPEND_RETURNED = (REFUND, AUTO_ANNOTATE_REFUND)
"""What the operations of spend given back start with. Every other credit (a top-up, a
monthly reset, a scenario's grant) is money in, not spend returned."""


def usd(micro: int) -> str:
    """Format µUSD as dollars for messages: ``$2.00``."""
    return f"${micro / MICRO_USD:,.2f}"


def usd_pair(needed: int, has: int) -> tuple[str, str]:
    """``needed`` and ``has`` for a "needs X, has Y" message: in cents, unless both round
    to the same cents while they differ (``$0.01`` and ``$0.005``); then each to the
    micro-dollar, so the message never says one needs what one has."""
    shown = usd(needed), usd(has)
    if shown[0] != shown[1] or needed == has:
        return shown
    return _exact_usd(needed), _exact_usd(has)


def _exact_usd(micro: int) -> str:
    whole, cents = f"{micro / MICRO_USD:,.6f}".split(".")
    return f"${whole}.{cents.rstrip('0').ljust(2, '0')}"


def billable_minutes(seconds: float) -> int:
    """GPU minutes billed for ``seconds`` of running time (started minutes count)."""
    return math.ceil(seconds / 60.0 - 1e-9) if seconds > 0 else 0


def unknown_operation(slug: str) -> InvalidRequest:
    """The API's 400 for an operation ``credits.estimate`` does not price."""
    return InvalidRequest(f"Unknown operation: {slug}", status=400, code="unknown_operation")


@dataclass(frozen=True)
class Estimate:
    operation: Operation
    quantity: int
    micro_usd_per_unit: int
    total_micro_usd: int


class Debits:
    """One operation's debits of one organization in time order, with running totals, so
    the spend since any instant is one binary search (``credits.usage_by_operation``)."""

    __slots__ = ("_spent", "_times")

    def __init__(self) -> None:
        self._times: list[float] = []
        self._spent: list[int] = []
        """``_spent[i]``: µUSD of the first ``i + 1`` debits."""

    def add(self, at: float, micro_usd: int) -> None:
        times, spent = self._times, self._spent
        if not times or at >= times[-1]:
            times.append(at)
            spent.append((spent[-1] if spent else 0) + micro_usd)
            return
        # Dated in the past (a meter caught up lazily, a scenario's entry): the totals
        # after it move, which costs the debits dated later, not the ledger.
        index = bisect_right(times, at)
        times.insert(index, at)
        spent.insert(index, (spent[index - 1] if index else 0) + micro_usd)
        for later in range(index + 1, len(spent)):
            spent[later] += micro_usd

    def since(self, instant: float | None) -> tuple[int, int]:
        """µUSD spent and debits counted at or after ``instant`` (``None``: ever)."""
        times, spent = self._times, self._spent
        start = 0 if instant is None else bisect_left(times, instant)
        if start == len(times):
            return 0, 0
        return spent[-1] - (spent[start - 1] if start else 0), len(times) - start


class Billing:
    """Post ledger entries and answer balance questions for every organization."""

    def __init__(self, world: World) -> None:
        self._world = world
        # Kept beside the ledger (its source of truth) as entries are appended.
        self._debits: dict[str, dict[str, Debits]] = {}
        self._held: dict[str, int] = {}
        """Per organization, the pre-charges of its runs not settled yet (µUSD)."""
        self._returned: dict[str, Debits] = {}
        """Per organization, the positive entries that give spend back (refunds), in
        time order: a period's spend is its debits less these."""
        self._carried: dict[str, tuple[float, int]] = {}
        """Per organization, the month start its pre-charges were last held across, and
        their sum then: that period's spend (see ``period_spend``)."""

    # ── balances ──

    def spendable(self, org: Organization) -> int:
        """What the organization can still spend (µUSD): allowance + budget + ledger."""
        ledger = self._world.ledgers[org.id]
        return ledger[-1].balance_after if ledger else self._opening(org)

    def _opening(self, org: Organization) -> int:
        return org.allowance_micro_usd + org.budget_micro_usd

    def held(self, organization_id: str) -> int:
        """The pre-charges of the organization's runs that have not ended (µUSD): spent
        from the balance, but not settled until each run's refund."""
        return self._held.get(organization_id, 0)

    def post(
        self,
        org: Organization,
        operation: str,
        amount: int,
        *,
        description: str,
        metadata: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> LedgerEntry:
        """Append one signed entry (negative debits, positive credits) to the ledger.

        A debit that takes the balance below :data:`CREDITS_LOW_MICRO_USD` sends the
        ``credits_low`` event (once per crossing: a top-up above it arms it again).

        ``at`` dates it at a virtual second already passed (a meter caught up lazily);
        by default it is dated now.
        """
        world = self._world
        when = world.now() if at is None else at
        # A month's start at or before the entry's date is reset first (see allowances).
        world.resets.reach(when)
        ledger = world.ledgers[org.id]
        before = ledger[-1].balance_after if ledger else self._opening(org)
        # Positional: a catch-up posts one entry per run it ends, and keywords cost a
        # dataclass's __init__ a dict of them (about three times the call).
        entry = LedgerEntry(
            world.ids.uuid(),  # id
            org.id,  # organization_id
            operation,
            amount,
            before + amount,  # balance_after
            description,
            metadata,
            when,  # created_at
        )
        ledger.append(entry)
        self._index(entry)
        if entry.balance_after < self._opening(org):
            # Below the allowance: the month's start gives it back (``MonthlyResets``).
            world.resets.spent(org.id)
        if before >= CREDITS_LOW_MICRO_USD > entry.balance_after:
            world.feeds.announce(
                org.id,
                "credits_low",
                "Credits low",
                at=entry.created_at,
                message=f"Your balance is {usd(entry.balance_after)}, below "
                f"{usd(CREDITS_LOW_MICRO_USD)}.",
                metadata={
                    "balance_micro_usd": entry.balance_after,
                    "threshold_micro_usd": CREDITS_LOW_MICRO_USD,
                    "ledger_entry_id": entry.id,
                    "operation": operation,
                },
            )
        return entry

    def adopt(self, entry: LedgerEntry) -> None:
        """Append an entry made elsewhere (a scenario's), its id and balance as they are."""
        world = self._world
        world.ledgers[entry.organization_id].append(entry)
        self._index(entry)
        world.resets.loaded(entry.created_at)
        org = world.organizations.get(entry.organization_id)
        if org is not None and entry.balance_after < self._opening(org):
            world.resets.spent(org.id)

    def _index(self, entry: LedgerEntry) -> None:
        if entry.amount < 0:
            by_operation = self._debits.setdefault(entry.organization_id, {})
            debits = by_operation.get(entry.operation)
            if debits is None:
                debits = by_operation[entry.operation] = Debits()
            debits.add(entry.created_at, -entry.amount)
        elif entry.amount > 0 and entry.operation.startswith(SPEND_RETURNED):
            returned = self._returned.get(entry.organization_id)
            if returned is None:
                returned = self._returned[entry.organization_id] = Debits()
            returned.add(entry.created_at, entry.amount)

    def spend_since(
        self, organization_id: str, instant: float | None
    ) -> dict[str, tuple[int, int]]:
        """Per operation, the µUSD an organization's debits at or after ``instant`` (``None``:
        ever) add up to and how many there are; operations with none are left out.

        Costs the operations (a binary search each), not the ledger.
        """
        spend = {}
        for operation, debits in self._debits.get(organization_id, {}).items():
            spent, count = debits.since(instant)
            if count:
                spend[operation] = (spent, count)
        return spend

    def period_spend(self, organization_id: str, period_start: float) -> int:
        """What the organization spent in the billing period that began at
        ``period_start`` (µUSD): its debits since, less the refunds since, plus the
        pre-charges held across that start (a run under way then is the new period's
        spend until its refund). Top-ups and resets are money in, not spend back.

        Costs the operations (a binary search each), not the ledger.
        """
        spent = sum(spent for spent, _ in self.spend_since(organization_id, period_start).values())
        returned = self._returned.get(organization_id)
        if returned is not None:
            spent -= returned.since(period_start)[0]
        at, held = self._carried.get(organization_id, (None, 0))
        if at == period_start:
            spent += held
        return max(0, spent)

    def carry_holds(self, at: float) -> None:
        """Note the pre-charges held across the month start ``at`` (``MonthlyResets``)."""
        for organization_id, held in self._held.items():
            if held:
                self._carried[organization_id] = (at, held)

    def moved(self, old_id: str, new_id: str) -> None:
        """An organization's ledger now goes by ``new_id`` (see ``World.replace_organization``)."""
        if old_id in self._debits:
            self._debits[new_id] = self._debits.pop(old_id)
        if old_id in self._held:
            self._held[new_id] = self._held.pop(old_id)
        if old_id in self._returned:
            self._returned[new_id] = self._returned.pop(old_id)
        if old_id in self._carried:
            self._carried[new_id] = self._carried.pop(old_id)

    def top_up(self, org: Organization, micro_usd: int) -> LedgerEntry:
        if micro_usd <= 0:
            raise ValueError("a top-up must be a positive amount")
        return self.post(org, TOP_UP, micro_usd, description="Credit top-up")

    # ── estimates ──

    def rate(self, gpu: str) -> int:
        return self._world.profile.rate(gpu)

    def estimate(self, slug: str, quantity: int) -> Estimate:
        """Price ``quantity`` units of an operation, or refuse an unknown slug with 400."""
        operation = OPERATIONS.get(slug)
        if operation is None:
            raise unknown_operation(slug)
        if operation.gpu is not None:
            # Per-unit and total are rounded separately from the exact rate, as the API does.
            profile = self._world.profile
            per_unit = profile.cost(operation.gpu, 1)
            total = profile.cost(operation.gpu, quantity)
        else:
            per_unit = operation.micro_usd_per_unit or 0
            total = per_unit * quantity
        return Estimate(operation, quantity, per_unit, total)

    # ── training ──

    def admit_run(self, org: Organization, gpu: str, planned_seconds: float) -> int:
        """Check the organization may start a run; return the pre-charge it will pay.

        Raises 402 when the balance does not cover the profile's requirement.
        """
        profile = self._world.profile
        spendable = self.spendable(org)
        if profile.billing == "charge_on_success":
            gate = profile.start_gate_micro_usd
            if spendable < gate:
                needs, has = usd_pair(gate, spendable)
                raise InsufficientCredits(
                    f"Not enough compute credit to start training (needs {needs}, has {has}).",
                    required=gate,
                    remaining=spendable,
                )
            return 0
        precharge = profile.cost(gpu, profile.precharge_minutes(planned_seconds))
        if spendable < precharge:
            needs, has = usd_pair(precharge, spendable)
            raise InsufficientCredits(
                f"Not enough compute credit for this run's pre-charge (needs {needs}, has {has}).",
                required=precharge,
                remaining=spendable,
            )
        return precharge

    def precharge(self, org: Organization, run: TrainingRun, amount: int) -> None:
        if amount <= 0:
            return
        run.precharge_micro_usd = amount
        self._held[org.id] = self.held(org.id) + amount
        self.post(
            org,
            f"training_{run.gpu_type}_per_minute",
            -amount,
            description="Training pre-charge",
            metadata={"run_id": run.id},
        )

    def settle(self, run: TrainingRun, used_seconds: float, at: float) -> None:
        """Close a run's account once it has ended, whatever the way it ended.

        The charge or refund is dated ``at``, when the run ended: a run a catch-up ends
        long after (nobody asked in between) is billed when it ended, as the API bills it,
        not when it was next asked about.
        """
        world = self._world
        org = world.organizations[run.organization_id]
        minutes = billable_minutes(used_seconds)
        cost = world.profile.cost(run.gpu_type, minutes)
        if run.billing == "prepaid":
            if run.precharge_micro_usd:
                self._held[org.id] -= run.precharge_micro_usd
            spent = min(cost, run.precharge_micro_usd)
            run.charged_micro_usd = spent
            refund = run.precharge_micro_usd - spent
            if refund > 0:
                run.refunded_micro_usd = refund
                self.post(
                    org,
                    f"{REFUND}{run.gpu_type}",
                    refund,
                    description=f"Refund of unused training minutes ({run.status})",
                    metadata={"run_id": run.id},
                    at=at,
                )
            return
        if run.status == "completed" and cost > 0:
            run.charged_micro_usd = cost
            self.post(
                org,
                f"training_{run.gpu_type}",
                -cost,
                description=f"Training on {run.gpu_type} ({minutes} min)",
                metadata={"run_id": run.id},
                at=at,
            )
