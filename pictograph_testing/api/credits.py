"""``/api/v1/developer/credits``: balance, ledger history, usage and estimates (bare bodies)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import INTEGER_CREDITS, OPERATIONS_BY_RELEASE, Wire
from pictograph_testing.api.spec import Int, Param, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import LEGACY_CREDIT_MICRO_USD, MICRO_USD, OPERATIONS
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InsufficientCredits
from pictograph_testing.world.ordered import NewestFirst

if TYPE_CHECKING:
    from pictograph_testing.world.entities import LedgerEntry
    from pictograph_testing.world.errors import ApiRefusal

__all__ = [
    "USAGE_WINDOWS",
    "billing_period",
    "credits_left",
    "legacy_balance",
    "legacy_estimate",
    "legacy_history",
    "legacy_refusal",
    "to_credits",
]

RECENT_HISTORY = 20
USAGE_WINDOWS = {"day": 86_400.0, "week": 7 * 86_400.0, "month": 30 * 86_400.0, "all": None}


@endpoint(
    "GET",
    "credits/balance",
    summary="The spendable balance and recent ledger entries",
    sdk=("credits.balance",),
    reply=Bare("CreditBalance"),
    wires=(Wire(INTEGER_CREDITS, rewrite=lambda b: legacy_balance(b), note="whole credits"),),
)
def balance(call: Call) -> Reply:
    return reply(_balance(call))


@endpoint(
    "GET",
    "credits/history",
    summary="The ledger, newest first",
    sdk=("credits.history", "credits.iter"),
    reply=Bare("CreditHistory"),
    query=page_params(100),
    wires=(Wire(INTEGER_CREDITS, rewrite=lambda b: legacy_history(b), note="whole credits"),),
)
def history(call: Call) -> Reply:
    limit, offset = call.args["limit"], call.args["offset"]
    chunk, pagination = page(_newest_first(call), offset, limit)
    return reply(
        {
            "entries": [_entry(call, e) for e in chunk],
            "limit": limit,
            "offset": offset,
            "pagination": pagination,
        }
    )


@endpoint(
    "GET",
    "credits/usage-by-operation",
    summary="Spend per operation over a window",
    sdk=("credits.usage_by_operation",),
    reply=Bare("UsageByOperation"),
    query=(Param("range", Str(enum=tuple(USAGE_WINDOWS)), default="month"),),
)
def usage(call: Call) -> Reply:
    return reply(_usage(call))


@endpoint(
    "GET",
    "credits/estimate",
    summary="Price an operation",
    sdk=("credits.estimate",),
    reply=Bare("CreditEstimate"),
    query=(
        # An unknown operation is the world's 400 `unknown_operation`, as the API answers.
        Param("operation", Str(enum=tuple(OPERATIONS), enforced=False), required=True),
        Param("quantity", Int(minimum=1, maximum=1_000_000), default=1),
    ),
    errors=(400,),
    values=(OPERATIONS_BY_RELEASE,),
    wires=(Wire(INTEGER_CREDITS, rewrite=lambda b: legacy_estimate(b), note="whole credits"),),
)
def estimate(call: Call) -> Reply:
    return reply(_estimate(call))


def _newest_first(call: Call) -> NewestFirst[LedgerEntry]:
    # A view, not a copy: a page of a ledger of any length costs the page.
    return NewestFirst(call.world.ledgers[call.key.organization_id])


def _entry(call: Call, entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "operation": entry.operation,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "description": entry.description,
        "metadata": entry.metadata,
        "created_at": call.iso(entry.created_at),
    }


def billing_period(call: Call) -> tuple[datetime, datetime]:
    """The current monthly period: its start and when the allowance resets (see
    ``world.allowances``, which resets it then, and says which period the ledger is in)."""
    begins, resets_at = call.world.resets.period()
    start = call.world.clock.start
    return start + timedelta(seconds=begins), start + timedelta(seconds=resets_at)


def _balance(call: Call) -> dict[str, Any]:
    world = call.world
    org = world.organizations[call.key.organization_id]
    spendable = world.billing.spendable(org)
    allowance, budget = org.allowance_micro_usd, org.budget_micro_usd
    # The budget is drawn last, once the allowance and any top-ups are spent: however
    # far the balance is below the budget is overage.
    overage = max(0, budget - spendable)
    budget_remaining = max(0, budget - overage)
    period_start, reset_at = billing_period(call)
    start = (period_start - world.clock.start).total_seconds()
    return {
        "organization_id": org.id,
        "included_allowance_micro_usd": allowance,
        "included_remaining_micro_usd": max(0, spendable - budget_remaining),
        "budget_micro_usd": budget,
        "period_spend_micro_usd": world.billing.period_spend(org.id, start),
        "period_overage_micro_usd": overage,
        "budget_remaining_micro_usd": budget_remaining,
        "period_start": format_timestamp(period_start),
        "credits_reset_at": format_timestamp(reset_at),
        "credits_remaining": credits_left(spendable, MICRO_USD),
        "credits_monthly_allowance": credits_left(allowance, MICRO_USD),
        "recent_history": [_entry(call, e) for e in _newest_first(call)[:RECENT_HISTORY]],
    }


def _usage(call: Call) -> dict[str, Any]:
    window = call.args["range"]
    length = USAGE_WINDOWS[window]
    since = None if length is None else call.now - length
    totals = call.world.billing.spend_since(call.key.organization_id, since)
    operations = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    return {
        "range": window,
        "since": call.iso(since) if since is not None else None,
        "operations": [
            {"operation": op, "total_micro_usd": spent, "event_count": count}
            for op, (spent, count) in operations
        ],
        "total_micro_usd": sum(spent for spent, _ in totals.values()),
        "total_events": sum(count for _, count in totals.values()),
    }


def _estimate(call: Call) -> dict[str, Any]:
    operation, quantity = call.args["operation"], call.args["quantity"]
    world = call.world
    estimate = world.billing.estimate(operation, quantity)
    spendable = world.billing.spendable(world.organizations[call.key.organization_id])
    return {
        "operation": operation,
        "unit": estimate.operation.unit,
        "quantity": quantity,
        "micro_usd_per_unit": estimate.micro_usd_per_unit,
        "total_micro_usd": estimate.total_micro_usd,
        "remaining_micro_usd": spendable,
        "sufficient": spendable >= estimate.total_micro_usd,
        # Deprecated whole-dollar fields, still required by SDK 1.0.x: costs round up,
        # what remains rounds down, so they never claim more headroom than there is.
        "credits_per_unit": to_credits(estimate.micro_usd_per_unit, MICRO_USD),
        "total_credits": to_credits(estimate.total_micro_usd, MICRO_USD),
        "minimum": 0,
        "credits_remaining": credits_left(spendable, MICRO_USD),
    }


# ── SDK 1.0.x: money in whole legacy credits ──


def to_credits(micro_usd: int, unit: int = LEGACY_CREDIT_MICRO_USD) -> int:
    """An amount in whole ``unit`` s (legacy credits by default), rounded away from zero:
    no charge or refund vanishes, and a cost never reads cheaper than it is."""
    whole = -(-abs(micro_usd) // unit)
    return whole if micro_usd >= 0 else -whole


def credits_left(micro_usd: int, unit: int = LEGACY_CREDIT_MICRO_USD) -> int:
    """What remains, in whole ``unit`` s, rounded down: never more headroom than there is."""
    return max(0, micro_usd) // unit


def _legacy_entry(entry: dict[str, Any]) -> dict[str, Any]:
    # The amount is what the entry moved the balance in whole credits, so that each
    # entry's balance_after is the one before it plus its amount, and the balance is the
    # start plus the ledger's sum (rounding each amount by itself drifted from both).
    after = entry["balance_after"]
    return {
        **entry,
        "amount": credits_left(after) - credits_left(after - entry["amount"]),
        "balance_after": credits_left(after),
    }


def legacy_balance(body: dict[str, Any]) -> dict[str, Any]:
    """Today's balance as SDK 1.0.x reads it: credits, and the recent entries in credits."""
    spendable = body["included_remaining_micro_usd"] + body["budget_remaining_micro_usd"]
    allowance = body["included_allowance_micro_usd"]
    return {
        "credits_remaining": credits_left(spendable),
        "credits_monthly_allowance": credits_left(allowance),
        "credits_reset_at": body["credits_reset_at"],
        "recent_history": [_legacy_entry(e) for e in body["recent_history"]],
    }


def legacy_history(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "entries": [_legacy_entry(e) for e in body["entries"]]}


def legacy_estimate(body: dict[str, Any]) -> dict[str, Any]:
    """An estimate as SDK 1.0.x reads it: its model defines the total as
    ``credits_per_unit * quantity`` (``minimum`` being 0) and ``sufficient`` as the
    credits remaining covering that total, so both follow the per-unit price in whole
    credits (rounded up: a cost never reads cheaper than it is)."""
    per_unit = to_credits(body["micro_usd_per_unit"])
    total = per_unit * body["quantity"]
    remaining = credits_left(body["remaining_micro_usd"])
    return {
        "operation": body["operation"],
        "unit": body["unit"],
        "quantity": body["quantity"],
        "credits_per_unit": per_unit,
        "total_credits": total,
        "minimum": 0,
        "sufficient": remaining >= total,
        "credits_remaining": remaining,
    }


def legacy_refusal(refusal: ApiRefusal) -> ApiRefusal:
    """A 402 in legacy credits, with no unit (SDK 1.0.x); other refusals as they are."""
    if not isinstance(refusal, InsufficientCredits):
        return refusal
    return InsufficientCredits(
        refusal.message,
        required=to_credits(refusal.required),
        remaining=credits_left(refusal.remaining),
        unit=None,
    )
