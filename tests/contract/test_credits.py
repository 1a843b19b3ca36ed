"""Credits: what the balance, history and estimates promise, on the fake and the real API."""

from __future__ import annotations

import pictograph
import pytest
from pictograph.exceptions import ValidationError

# The real API today is what the `current` profile models.
pytestmark = pytest.mark.pictograph(profile="current")

MICRO_FIELDS = (
    "included_allowance_micro_usd",
    "included_remaining_micro_usd",
    "budget_micro_usd",
    "period_spend_micro_usd",
    "budget_remaining_micro_usd",
)


def test_the_balance_is_whole_micro_usd(pictograph_client: pictograph.Client) -> None:
    balance = pictograph_client.credits.balance()

    for field in MICRO_FIELDS:
        value = getattr(balance, field)
        assert isinstance(value, int), field
        assert value >= 0, field
    assert balance.included_remaining_micro_usd <= balance.included_allowance_micro_usd


def test_history_is_newest_first_and_honours_the_limit(
    pictograph_client: pictograph.Client,
) -> None:
    entries = pictograph_client.credits.history(limit=5)

    assert len(entries) <= 5
    stamps = [entry.created_at for entry in entries]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("operation", ["training_a10g", "training_a100", "training_h100"])
def test_a_training_estimate_is_the_rate_times_the_minutes(
    pictograph_client: pictograph.Client, operation: str
) -> None:
    estimate = pictograph_client.credits.estimate(operation, quantity=10)

    assert (estimate.operation, estimate.unit, estimate.quantity) == (operation, "minute", 10)
    assert estimate.micro_usd_per_unit > 0
    # Totals are rounded once from the exact rate, not summed from the rounded one.
    assert abs(estimate.total_micro_usd - 10 * estimate.micro_usd_per_unit) <= 10


def test_an_unknown_operation_is_refused(pictograph_client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        pictograph_client.credits.estimate("no_such_operation")

    assert refused.value.status_code == 400
    assert "no_such_operation" in refused.value.message
