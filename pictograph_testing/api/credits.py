"""``/api/v1/developer/credits``: balance, ledger history, usage and estimates (bare bodies)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Call, Reply, page, reply
from pictograph_testing.catalog import MICRO_USD
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error

if TYPE_CHECKING:
    from pictograph_testing.world.state import LedgerEntry

__all__ = ["route"]

RECENT_HISTORY = 20
USAGE_WINDOWS = {"day": 86_400.0, "week": 7 * 86_400.0, "month": 30 * 86_400.0, "all": None}


def route(call: Call) -> Reply:
    match call.method, call.segments:
        case "GET", ("balance",):
            return reply(_balance(call))
        case "GET", ("history",):
            limit, offset = call.page_window(cap=100)
            entries = _newest_first(call)
            chunk, pagination = page(entries, offset, limit)
            return reply(
                {
                    "entries": [_entry(call, e) for e in chunk],
                    "limit": limit,
                    "offset": offset,
                    "pagination": pagination,
                }
            )
        case "GET", ("usage-by-operation",):
            return reply(_usage(call))
        case "GET", ("estimate",):
            return reply(_estimate(call))
    raise NotFound(f"No credits route {call.method} /credits/{'/'.join(call.segments)}")


def _newest_first(call: Call) -> list[LedgerEntry]:
    return call.world.ledgers[call.key.organization_id][::-1]


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


def _period(call: Call) -> tuple[datetime, datetime]:
    start = call.world.clock.start
    period_start = datetime(start.year, start.month, 1, tzinfo=timezone.utc)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return period_start, datetime(year, month, 1, tzinfo=timezone.utc)


def _balance(call: Call) -> dict[str, Any]:
    world = call.world
    org = world.organizations[call.key.organization_id]
    spendable = world.billing.spendable(org)
    allowance, budget = org.allowance_micro_usd, org.budget_micro_usd
    spend = max(0, allowance + budget - spendable)
    overage = max(0, spend - allowance)
    budget_remaining = max(0, budget - overage)
    period_start, reset_at = _period(call)
    return {
        "included_allowance_micro_usd": allowance,
        "included_remaining_micro_usd": max(0, spendable - budget_remaining),
        "budget_micro_usd": budget,
        "period_spend_micro_usd": spend,
        "period_overage_micro_usd": overage,
        "budget_remaining_micro_usd": budget_remaining,
        "period_start": format_timestamp(period_start),
        "credits_reset_at": format_timestamp(reset_at),
        "credits_remaining": max(0, spendable // MICRO_USD),
        "credits_monthly_allowance": allowance // MICRO_USD,
        "recent_history": [_entry(call, e) for e in _newest_first(call)[:RECENT_HISTORY]],
    }


def _usage(call: Call) -> dict[str, Any]:
    window = call.choice("range", tuple(USAGE_WINDOWS), default="month")
    assert window is not None
    length = USAGE_WINDOWS[window]
    since = None if length is None else call.now - length
    totals: dict[str, list[int]] = {}
    for entry in call.world.ledgers[call.key.organization_id]:
        if entry.amount >= 0 or (since is not None and entry.created_at < since):
            continue
        bucket = totals.setdefault(entry.operation, [0, 0])
        bucket[0] += -entry.amount
        bucket[1] += 1
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
    operation = call.text("operation")
    if not operation:
        raise InvalidRequest(
            "Query parameter 'operation' is required.",
            errors=[field_error(("query", "operation"), "Field required", "missing")],
        )
    quantity = call.integer("quantity", 1, low=1, high=1_000_000)
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
        "credits_per_unit": math.ceil(estimate.micro_usd_per_unit / MICRO_USD),
        "total_credits": math.ceil(estimate.total_micro_usd / MICRO_USD),
        "minimum": 0,
        "credits_remaining": max(0, spendable // MICRO_USD),
    }
