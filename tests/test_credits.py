"""Credits through the real SDK: balance, ledger history and paging, usage, estimates."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import ValidationError
from pictograph.models.training import GpuType
from pictograph.resources.credits import UsageRange

from pictograph_testing import FakePictograph, ProfileName
from tests.conftest import DATASET, EXPORT, create_past_the_cap
from tests.image_files import raw

if TYPE_CHECKING:
    import pictograph
    from pictograph.models.credit import CreditEstimate, CreditLedgerEntry

MICRO_USD = 1_000_000
ALLOWANCE = 100 * MICRO_USD
"""What the fixtures' organization starts with (``balance_usd=100.0``)."""


def _train(client: pictograph.Client, name: str, gpu_type: GpuType = "a10g") -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, gpu_type=gpu_type
    )
    assert run.status == "completed"


def _top_ups(fake: FakePictograph, count: int) -> None:
    """Post ``count`` top-ups of $1, $2, … one virtual minute apart."""
    for dollars in range(1, count + 1):
        fake.clock.advance(minutes=1)
        fake.top_up(dollars)


def _ids(entries: list[CreditLedgerEntry]) -> list[str]:
    return [e.id for e in entries]


def _since(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ── balance ──


def test_balance_of_a_fresh_organization(fake: FakePictograph, client: pictograph.Client) -> None:
    balance = client.credits.balance()

    assert balance.included_allowance_micro_usd == ALLOWANCE > 0
    assert balance.included_remaining_micro_usd == ALLOWANCE
    assert balance.period_spend_micro_usd == 0
    assert balance.period_overage_micro_usd == 0
    assert balance.budget_micro_usd == 0
    assert balance.budget_remaining_micro_usd == 0
    assert balance.credits_remaining == 100
    assert balance.credits_monthly_allowance == 100
    assert balance.remaining_usd == balance.allowance_usd == 100.0
    assert balance.recent_history == []
    assert balance.period_start is not None
    assert balance.credits_reset_at is not None
    assert balance.period_start <= fake.clock.now() < balance.credits_reset_at
    # The SDK's model has no field for it; the body names the organization it is for.
    assert fake.calls.last.response_json()["organization_id"] == fake.organization_id


def test_balance_after_a_run_shows_the_period_spend(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "m1")

    balance = client.credits.balance()

    spent = -sum(e.amount for e in fake.ledger)
    assert spent > 0
    assert balance.period_spend_micro_usd == spent
    assert balance.included_remaining_micro_usd == ALLOWANCE - spent
    assert balance.period_overage_micro_usd == 0
    assert balance.spend_usd == pytest.approx(spent / MICRO_USD)
    # Deprecated whole dollars round down: they never claim more than is left.
    assert balance.credits_remaining == (ALLOWANCE - spent) // MICRO_USD == 99
    assert balance.credits_monthly_allowance == 100
    # The guide's prepaid billing: a pre-charge, then the unused minutes come back.
    assert [e.operation for e in balance.recent_history] == [
        "training_refund_a10g",
        "training_a10g_per_minute",
    ]
    refund, precharge = balance.recent_history
    assert precharge.amount < 0 < refund.amount
    assert refund.created_at >= precharge.created_at
    assert precharge.metadata == refund.metadata
    assert precharge.metadata is not None
    assert "run_id" in precharge.metadata


@pytest.mark.parametrize("profile", ["classic", "current"])
def test_a_top_up_does_not_hide_the_period_spend(profile: ProfileName) -> None:
    # A top-up lifts the balance above the allowance; what is spent after it is still
    # the period's spend, and the top-up itself is none.
    with FakePictograph(seed=1, profile=profile, balance_usd=100) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign"])
        fake.add_export(DATASET, EXPORT)
        client = fake.client(max_retries=0)
        fake.top_up(50)
        assert client.credits.balance().period_spend_micro_usd == 0

        _train(client, "m1")
        balance = client.credits.balance()

    spent = -sum(e.amount for e in fake.ledger if e.operation != "top_up")
    assert spent > 0
    assert balance.period_spend_micro_usd == spent
    assert balance.spend_usd == pytest.approx(spent / MICRO_USD)
    assert balance.period_overage_micro_usd == 0
    assert (
        balance.included_remaining_micro_usd + balance.budget_remaining_micro_usd
        == ALLOWANCE + 50 * MICRO_USD - spent
    )


def test_spend_after_a_top_up_carried_into_a_new_month_counts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # May ends above the allowance (no reset is due): June's spend is June's debits.
    fake.top_up(50)
    fake.clock.advance(JUNE_FIRST - fake.clock.now() + timedelta(hours=1))
    assert client.credits.balance().period_spend_micro_usd == 0

    _train(client, "june")
    balance = client.credits.balance()

    june = [e for e in client.credits.iter() if e.created_at >= JUNE_FIRST]
    assert [e.operation for e in june] == ["training_refund_a10g", "training_a10g_per_minute"]
    assert balance.period_spend_micro_usd == -sum(e.amount for e in june) > 0


def test_a_scenario_s_grant_is_money_in_not_spend_given_back() -> None:
    # Only a run's refund gives spend back: a credit a scenario writes under a name of
    # its own (a grant) lifts the balance, like a top-up, and the spend still counts.
    scenario = {
        "schema_version": 1,
        "balance_usd": 100,
        "ledger": [{"operation": "promo_grant", "amount": 20 * MICRO_USD}],
    }
    with FakePictograph(seed=1, scenario=scenario) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign"])
        fake.add_export(DATASET, EXPORT)
        client = fake.client(max_retries=0)
        _train(client, "m1")
        balance = client.credits.balance()

    spent = -sum(e.amount for e in fake.ledger if e.operation != "promo_grant")
    assert balance.period_spend_micro_usd == spent > 0


async def test_async_balance_after_a_top_up(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.top_up(10)
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")

    balance = await aclient.credits.balance()

    spent = ALLOWANCE + 10 * MICRO_USD - fake.balance_micro_usd
    assert balance.period_spend_micro_usd == spent > 0


def test_a_top_up_of_one_micro_dollar_is_posted(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    entry = fake.top_up(0.000001)

    [top_up] = client.credits.history()
    assert (top_up.id, top_up.operation, top_up.amount) == (entry.id, "top_up", 1)
    assert top_up.balance_after == ALLOWANCE + 1


def test_a_top_up_is_posted_after_what_the_clock_owed_until_then(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """Dated now: the refund of a run that ended since the last request is posted first,
    so the top-up's balance after holds it."""
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False)
    fake.clock.advance(timedelta(days=2))
    entry = fake.top_up(5)
    newest = client.credits.history()
    assert [e.operation for e in newest[:2]] == ["top_up", "training_refund_a10g"]
    assert entry.balance_after == newest[0].balance_after == fake.balance_micro_usd


def test_a_top_up_that_rounds_to_nothing_is_refused(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Under half a micro-dollar rounds to 0 µUSD: no entry of nothing is written.
    with pytest.raises(ValueError, match="positive amount"):
        fake.top_up(0.0000004)
    assert client.credits.history() == []
    assert fake.balance_micro_usd == ALLOWANCE


def test_recent_history_is_the_newest_twenty_entries(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _top_ups(fake, 25)

    recent = client.credits.balance().recent_history

    assert [e.amount for e in recent] == [d * MICRO_USD for d in range(25, 5, -1)]
    created = [e.created_at for e in recent]
    assert created == sorted(set(created), reverse=True)
    assert _ids(recent) == _ids(client.credits.history(limit=20))


@pytest.mark.parametrize("world", ["fake", "current_fake"])
def test_ledger_invariant_holds_under_both_profiles(
    world: str, request: pytest.FixtureRequest
) -> None:
    fake: FakePictograph = request.getfixturevalue(world)
    with fake.client(max_retries=0) as client:
        _train(client, "m1")
        fake.top_up(5)
        _train(client, "m2", gpu_type="a100")

        balance = client.credits.balance()
        ledger = client.credits.history(limit=100)

    spendable = balance.included_remaining_micro_usd + balance.budget_remaining_micro_usd
    allowance = balance.included_allowance_micro_usd + balance.budget_micro_usd
    assert spendable == allowance + sum(e.amount for e in ledger) == fake.balance_micro_usd
    assert ledger[0].balance_after == spendable
    # Walking the ledger oldest first, each entry moves the balance by its amount.
    running = allowance
    for entry in reversed(ledger):
        running += entry.amount
        assert entry.balance_after == running


def test_charge_on_success_posts_one_debit_per_completed_run(
    current_fake: FakePictograph,
) -> None:
    with current_fake.client(max_retries=0) as client:
        run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
        ledger = client.credits.history()

    assert [e.operation for e in ledger] == ["training_a10g"]
    assert ledger[0].amount < 0
    assert ledger[0].metadata == {"run_id": run.id}
    assert ledger[0].created_at == run.completed_at


def test_a_charge_is_dated_when_the_run_ended_not_when_next_asked(
    current_fake: FakePictograph,
) -> None:
    # Nobody asks for two days after the run ends: its charge is still dated at the end,
    # so a day's usage leaves it out and a week's counts it.
    with current_fake.client(max_retries=0) as client:
        started = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False
        )
        current_fake.clock.advance(timedelta(days=2))
        ledger = client.credits.history()
        run = client.training.get(run_id=started.id)
        day = client.credits.usage_by_operation(range="day")
        week = client.credits.usage_by_operation(range="week")

    assert run.status == "completed"
    assert [(e.operation, e.created_at) for e in ledger] == [("training_a10g", run.completed_at)]
    assert ledger[0].created_at < current_fake.clock.now() - timedelta(days=1)
    assert day.operations == []
    assert [(o.operation, o.event_count) for o in week.operations] == [("training_a10g", 1)]


def test_one_clock_move_posts_every_service_s_entries_in_time_order(
    current_fake: FakePictograph,
) -> None:
    # A live deployment meters every five minutes while a run trains: the run's charge
    # lands between two meter entries, as it would have read step by step.
    with current_fake.client(max_retries=0) as client:
        model = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
        assert model.model_id is not None
        created = client.deployments.create(model.model_id, min_containers=1)
        client.deployments.wait_until_active(created.deployment)
        started = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="m2", wait=False
        )
        current_fake.clock.advance(timedelta(hours=3))
        ledger = client.credits.history(limit=100)
        run = client.training.get(run_id=started.id)

    dates = [e.created_at for e in ledger]
    assert dates == sorted(dates, reverse=True)
    # Each balance follows from the one before it: the entries were posted in this order.
    for older, newer in itertools.pairwise(reversed(ledger)):
        assert older.balance_after is not None
        assert newer.balance_after == pytest.approx(older.balance_after + newer.amount)
    charge = next(e for e in ledger if e.metadata == {"run_id": run.id})
    assert charge.created_at == run.completed_at
    assert any(e.created_at > charge.created_at for e in ledger if e is not charge)


def test_a_refund_is_dated_when_the_run_ended(fake: FakePictograph) -> None:
    # The classic profile pre-charges at creation and refunds what the run did not use
    # when it ends: each entry is dated at its own moment, however late it is read.
    with fake.client(max_retries=0) as client:
        started = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False
        )
        fake.clock.advance(timedelta(days=2))
        ledger = client.credits.history()
        run = client.training.get(run_id=started.id)

    assert [e.operation for e in ledger] == ["training_refund_a10g", "training_a10g_per_minute"]
    refund, precharge = ledger
    assert refund.created_at == run.completed_at
    assert precharge.created_at == run.created_at
    assert precharge.balance_after is not None
    assert refund.balance_after == precharge.balance_after + refund.amount


def test_the_fakes_balance_and_ledger_are_read_as_of_now(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """Read with no request since the clock moved: the refund of a run that ended
    meanwhile is posted, as a request would have found it."""
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False)
    charged = fake.balance_micro_usd
    fake.clock.advance(timedelta(days=2))
    assert fake.balance_micro_usd > charged
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m2", wait=False)
    posted = len(fake.ledger)
    fake.clock.advance(timedelta(days=2))
    assert [e.operation for e in fake.ledger[posted:]] == ["training_refund_a10g"]


async def test_async_sees_the_charge_dated_when_the_run_ended(
    current_fake: FakePictograph,
) -> None:
    async with current_fake.async_client(max_retries=0) as client:
        started = await client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="m1", wait=False
        )
        current_fake.clock.advance(timedelta(days=2))
        ledger = await client.credits.history()
        run = await client.training.get(run_id=started.id)

    assert [e.created_at for e in ledger] == [run.completed_at]


# ── the monthly reset ──

JUNE_FIRST = datetime.fromisoformat("2026-06-01T00:00:00+00:00")
"""The first month start after the fixtures' clock starts (2026-05-12T12:00Z)."""


def test_the_allowance_comes_back_when_the_month_begins(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "m1")
    spent = client.credits.balance()
    assert spent.period_spend_micro_usd > 0
    assert spent.credits_reset_at == JUNE_FIRST

    fake.clock.advance(timedelta(days=25))  # 2026-06-06
    balance = client.credits.balance()

    reset = balance.recent_history[0]
    assert (reset.operation, reset.created_at) == ("monthly_reset", JUNE_FIRST)
    assert reset.amount == spent.period_spend_micro_usd
    assert reset.balance_after == ALLOWANCE
    assert balance.included_remaining_micro_usd == ALLOWANCE
    assert balance.period_spend_micro_usd == 0
    assert (balance.period_start, balance.credits_reset_at) == (
        JUNE_FIRST,
        datetime.fromisoformat("2026-07-01T00:00:00+00:00"),
    )
    assert client.organizations.me().credits_reset_at == balance.credits_reset_at
    # A reset is no spend: usage counts debits only.
    usage = client.credits.usage_by_operation(range="all")
    assert "monthly_reset" not in {o.operation for o in usage.operations}


def test_the_reset_gives_back_the_overage_budget_spent_too() -> None:
    # $0.01 of allowance and a $9.99 overage budget: a run spends past the allowance into
    # the budget, and June 1 gives back all of it, allowance and budget whole again.
    document = {
        "schema_version": 1,
        "organization": {"allowance_micro_usd": 10_000, "budget_micro_usd": 9_990_000},
    }
    with FakePictograph(scenario=document, start=JUNE_FIRST - timedelta(days=20)) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            _train(client, "m1")
            spent = client.credits.balance()
            fake.clock.advance(timedelta(days=25))
            balance = client.credits.balance()

    assert spent.period_overage_micro_usd > 0  # the run spent into the budget
    assert spent.budget_micro_usd == 9_990_000  # the cap, not what is left under it
    # A cent of allowance is no whole dollar: the deprecated figure rounds down.
    assert spent.credits_monthly_allowance == balance.credits_monthly_allowance == 0
    spend = 10 * MICRO_USD - spent.included_remaining_micro_usd - spent.budget_remaining_micro_usd
    reset = balance.recent_history[0]
    assert (reset.operation, reset.created_at) == ("monthly_reset", JUNE_FIRST)
    assert (reset.amount, reset.balance_after) == (spend, 10 * MICRO_USD)
    assert balance.included_remaining_micro_usd == 10_000
    assert balance.budget_remaining_micro_usd == 9_990_000
    assert balance.period_overage_micro_usd == 0


def test_one_micro_dollar_spent_comes_back() -> None:
    # The smallest spend there is: the month's start gives back that one µUSD.
    document = {
        "schema_version": 1,
        "ledger": [{"operation": "dataset_restore", "amount": -1}],
    }
    with FakePictograph(scenario=document, start=JUNE_FIRST - timedelta(days=20)) as fake:
        fake.clock.advance(timedelta(days=25))
        with fake.client(max_retries=0) as client:
            ledger = client.credits.history()

    assert [(e.operation, e.amount, e.balance_after) for e in ledger] == [
        ("monthly_reset", 1, ALLOWANCE),
        ("dataset_restore", -1, ALLOWANCE - 1),
    ]
    assert ledger[0].created_at == JUNE_FIRST


def _december_fake() -> FakePictograph:
    """The fixtures' world, its clock started late in December: the next month start is
    New Year's Day of the next year."""
    fake = FakePictograph(seed=1, start=datetime.fromisoformat("2026-12-20T12:00:00+00:00"))
    fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    fake.add_export(DATASET, EXPORT)
    return fake


NEW_YEAR = datetime.fromisoformat("2027-01-01T00:00:00+00:00")


def test_the_december_allowance_comes_back_on_new_years_day() -> None:
    with _december_fake() as fake, fake.client(max_retries=0) as client:
        _train(client, "m1")
        spent = client.credits.balance()
        assert (spent.period_start, spent.credits_reset_at) == (
            datetime.fromisoformat("2026-12-01T00:00:00+00:00"),
            NEW_YEAR,
        )
        fake.clock.advance(timedelta(days=15))  # 2027-01-04
        balance = client.credits.balance()

    reset = balance.recent_history[0]
    assert (reset.operation, reset.created_at) == ("monthly_reset", NEW_YEAR)
    assert reset.amount == spent.period_spend_micro_usd > 0
    assert reset.balance_after == ALLOWANCE
    assert (balance.period_start, balance.credits_reset_at) == (
        NEW_YEAR,
        datetime.fromisoformat("2027-02-01T00:00:00+00:00"),
    )


async def test_async_the_december_allowance_comes_back_on_new_years_day() -> None:
    with _december_fake() as fake:
        async with fake.async_client(max_retries=0) as client:
            await client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
            assert (await client.credits.balance()).credits_reset_at == NEW_YEAR
            fake.clock.advance(timedelta(days=15))
            balance = await client.credits.balance()

    assert balance.recent_history[0].created_at == NEW_YEAR
    assert balance.included_remaining_micro_usd == ALLOWANCE
    assert (balance.period_start, balance.credits_reset_at) == (
        NEW_YEAR,
        datetime.fromisoformat("2027-02-01T00:00:00+00:00"),
    )


def test_a_month_without_spend_posts_no_reset(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(timedelta(days=70))
    assert client.credits.history() == []
    assert fake.world.agenda.due == math.inf  # nothing planned while nothing was spent


@pytest.mark.parametrize("looks", ["between the months", "only at the end"])
def test_each_month_gives_back_what_was_spent_in_it(looks: str) -> None:
    # A live deployment meters through two month starts: each gives back that month's
    # spend, in time order among the meter's own entries, whether or not anything read
    # the world between them (one long clock move is caught up as steps would be). The
    # plan's allowance is large enough that the deployment never runs out of credit.
    allowance = 5_000 * MICRO_USD
    with FakePictograph(seed=1, profile="current", balance_usd=5_000) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            model = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
            assert model.model_id is not None
            created = client.deployments.create(model.model_id, min_containers=1)
            client.deployments.wait_until_active(created.deployment)
            fake.clock.advance(timedelta(days=21))  # 2026-06-02T12:00Z
            if looks == "between the months":
                client.credits.balance()
            fake.clock.advance(timedelta(days=30))  # 2026-07-02T12:00Z
            ledger = list(client.credits.iter())
            assert client.deployments.get(created.deployment.id).status == "active"

    dates = [e.created_at for e in ledger]
    assert dates == sorted(dates, reverse=True)
    for older, newer in itertools.pairwise(reversed(ledger)):
        assert older.balance_after is not None
        assert newer.balance_after == older.balance_after + newer.amount
    resets = [e for e in ledger if e.operation == "monthly_reset"]
    assert [e.created_at.isoformat() for e in reversed(resets)] == [
        "2026-06-01T00:00:00+00:00",
        "2026-07-01T00:00:00+00:00",
    ]
    for reset in resets:
        before = next(e for e in ledger if e.created_at < reset.created_at)
        assert before.balance_after is not None
        assert reset.amount == allowance - before.balance_after > 0


_Books = tuple[tuple[tuple[datetime, str, int, int], ...], datetime, int, int]


def _books(fake: FakePictograph, client: pictograph.Client) -> _Books:
    """The ledger as (date, operation, amount, balance), and February's books."""
    balance = client.credits.balance()
    assert balance.period_start is not None
    ledger = tuple(
        (fake.clock.start + timedelta(seconds=e.created_at), e.operation, e.amount, e.balance_after)
        for e in fake.ledger
    )
    spent = balance.included_allowance_micro_usd - balance.included_remaining_micro_usd
    return ledger, balance.period_start, balance.period_spend_micro_usd, spent


_JANUARY_31_23H = datetime.fromisoformat("2028-01-31T23:00:55+00:00")


def _assert_reset_before_the_tick(
    fake: FakePictograph, client: pictograph.Client, midnight_text: str
) -> None:
    """At that month start the reset is posted before the meter's tick there, the
    period starts then, and the month's books add up."""
    ledger, period_start, period_spend, spent = _books(fake, client)
    midnight = datetime.fromisoformat(midnight_text)
    at_midnight = [(op, amount > 0) for when, op, amount, _ in ledger if when == midnight]
    assert at_midnight == [("monthly_reset", True), ("deployment_t4", False)]
    assert period_start == midnight
    assert period_spend == spent > 0


def _metering_from_january_31(fake: FakePictograph) -> tuple[pictograph.Client, str]:
    """``fake``'s client, and the id of a t4 deployment of a model trained for it: started
    at :data:`_JANUARY_31_23H`, it is active at 23:10 and its five-minute meter ticks at
    every midnight from then on."""
    client = fake.client(max_retries=0)
    client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="m")
    created = client.deployments.create("m", gpu_type="t4", min_containers=1)
    client.deployments.wait_until_active(created.deployment)
    return client, created.deployment.id


@pytest.mark.parametrize("steps", [1, 12])
def test_a_meter_tick_at_midnight_counts_in_the_new_month_however_the_clock_moved(
    steps: int,
) -> None:
    # Started so that the deployment is active at 23:10, and its 5-minute meter ticks at
    # midnight itself: the reset comes first, and the tick is February's.
    with FakePictograph(scenario="ready-to-train", start=_JANUARY_31_23H) as fake:
        client, _ = _metering_from_january_31(fake)
        total = (datetime.fromisoformat("2028-02-01T00:30:00+00:00") - fake.clock.now()).seconds
        for _ in range(steps):
            fake.clock.advance(seconds=total / steps)
            client.credits.balance()
        _assert_reset_before_the_tick(fake, client, "2028-02-01T00:00:00+00:00")


def test_a_meter_tick_at_the_next_midnight_counts_in_its_month_too() -> None:
    # As above, a month on: February's reset is posted, then March's must come before the
    # tick at midnight on March 1 as well (2028 is a leap year: 29 days of five-minute
    # ticks after February 1's midnight tick, the meter ticks at midnight again). The
    # allowance is large enough that the deployment never runs out of credit.
    with FakePictograph(
        scenario="ready-to-train", start=_JANUARY_31_23H, balance_usd=10_000
    ) as fake:
        client, deployment_id = _metering_from_january_31(fake)
        for until in ("2028-02-01T00:30:00+00:00", "2028-03-01T00:30:00+00:00"):
            fake.clock.advance(datetime.fromisoformat(until) - fake.clock.now())
            client.credits.balance()
        assert client.deployments.get(deployment_id).status == "active"
        _assert_reset_before_the_tick(fake, client, "2028-03-01T00:00:00+00:00")


@pytest.mark.parametrize("elapsed_days", [None, 12, 70])
def test_a_snapshot_loaded_past_a_month_start_resets_at_that_start(
    elapsed_days: int | None,
) -> None:
    # A debit late on January 31 in the loaded timeline, the clock past February 1: the
    # world is given the reset it passed, dated then, not at the month after.
    with FakePictograph(seed=1, start=datetime.fromisoformat("2028-01-20T12:00:00+00:00")) as fake:
        fake.add_dataset("ds", images=20, completed_images=12)
        client = fake.client(max_retries=0)
        client.datasets.freeze("ds")
        client.datasets.wait_for_storage("ds")
        client.datasets.restore("ds")
        client.datasets.wait_for_storage("ds")
        snapshot = fake.snapshot()
    (debit,) = snapshot["ledger"]
    if elapsed_days is None:  # the same document, another start: the debit falls at 23:59
        loaded = FakePictograph(
            scenario=snapshot, start=datetime.fromisoformat("2028-01-31T23:59:16+00:00")
        )
    else:
        snapshot["clock"]["elapsed_seconds"] = elapsed_days * 86400.0
        loaded = FakePictograph(scenario=snapshot)
    with loaded, loaded.client(max_retries=0) as again:
        ledger, period_start, period_spend, spent = _books(loaded, again)
        assert period_spend == spent == 0
        loaded.clock.advance(timedelta(days=40))
        assert _books(loaded, again)[0] == ledger  # nothing given back twice

    assert [(op, amount) for _, op, amount, _ in ledger] == [
        ("dataset_restore", debit["amount"]),
        ("monthly_reset", -debit["amount"]),
    ]
    assert ledger[1][0] == datetime.fromisoformat("2028-02-01T00:00:00+00:00")
    assert period_start.day == 1


def _restore(client: pictograph.Client) -> None:
    """Freeze the fixtures' dataset and restore it: one ``dataset_restore`` debit."""
    client.datasets.freeze(DATASET)
    client.datasets.wait_for_storage(DATASET)
    client.datasets.restore(DATASET)
    client.datasets.wait_for_storage(DATASET)


def test_a_loaded_ledger_of_two_months_resets_next_at_the_month_after_its_last_entry(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Saved in June: May's spend came back on June 1 (that reset is in the document) and
    # June's is still spent. Loaded, the world owes nothing at June 1 again, and July 1
    # gives back June's spend, once.
    _restore(client)
    may_spend = client.credits.balance().period_spend_micro_usd
    fake.clock.advance(timedelta(days=25))  # 2026-06-06
    _restore(client)
    june_spend = client.credits.balance().period_spend_micro_usd
    assert may_spend > 0
    assert june_spend > 0
    snapshot = fake.snapshot()

    with FakePictograph(scenario=snapshot) as loaded, loaded.client(max_retries=0) as again:
        balance = again.credits.balance()
        loaded.clock.advance(timedelta(days=30))  # 2026-07-06
        resets = [e for e in again.credits.iter() if e.operation == "monthly_reset"]

    assert (balance.period_start, balance.period_spend_micro_usd) == (JUNE_FIRST, june_spend)
    assert balance.included_remaining_micro_usd == ALLOWANCE - june_spend
    assert [(e.created_at.isoformat(), e.amount) for e in reversed(resets)] == [
        ("2026-06-01T00:00:00+00:00", may_spend),
        ("2026-07-01T00:00:00+00:00", june_spend),
    ]


def test_a_clock_a_hair_short_of_midnight_is_still_in_the_old_period(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Sums of float seconds land a hair short of an instant (0.3 + 0.3 from 0.6 s before
    # it, say), which reads as that instant to the microsecond: the period reported is
    # the one the ledger is in, not the next one.
    _train(client, "m1")
    spent = client.credits.balance().period_spend_micro_usd
    fake.clock.reach(math.nextafter((JUNE_FIRST - fake.clock.start).total_seconds(), 0.0))
    assert fake.clock.now() == JUNE_FIRST
    balance = client.credits.balance()
    assert balance.period_start is not None
    assert balance.period_start < JUNE_FIRST == balance.credits_reset_at
    assert balance.period_spend_micro_usd == spent
    fake.clock.advance(1e-6)
    after = client.credits.balance()
    assert (after.period_start, after.period_spend_micro_usd) == (JUNE_FIRST, 0)
    assert after.recent_history[0].operation == "monthly_reset"


def _cost_of(ledger: list[CreditLedgerEntry], run_id: str) -> int:
    """What a run cost in the end: its pre-charge less its refund (µUSD)."""
    return -sum(e.amount for e in ledger if (e.metadata or {}).get("run_id") == run_id)


def test_a_run_under_way_at_the_month_start_keeps_its_pre_charge_held(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The classic profile pre-charges at create and refunds the unused part at the end.
    # A reset between the two gives back the month's spend but not the pre-charge still
    # held for the run: its refund returns that part once, and the balance never rises
    # above the allowance (the fixtures' budget is zero).
    first = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
    fake.clock.advance(JUNE_FIRST - timedelta(minutes=1) - fake.clock.now())
    started = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m2", wait=False)
    fake.clock.advance(timedelta(days=1))
    run = client.training.get(run_id=started.id)
    balance = client.credits.balance()
    ledger = list(client.credits.iter())

    assert run.status == "completed"
    assert run.completed_at is not None
    assert run.created_at < JUNE_FIRST < run.completed_at
    assert [e.operation for e in ledger] == [
        "training_refund_a10g",
        "monthly_reset",
        "training_a10g_per_minute",
        "training_refund_a10g",
        "training_a10g_per_minute",
    ]
    reset = ledger[1]
    assert reset.created_at == JUNE_FIRST
    assert reset.amount == _cost_of(ledger, first.id)  # May's spend, not m2's pre-charge
    spendable = balance.included_remaining_micro_usd + balance.budget_remaining_micro_usd
    assert max(e.balance_after or 0 for e in ledger) <= ALLOWANCE
    assert spendable == ALLOWANCE - _cost_of(ledger, run.id) < ALLOWANCE
    assert spendable == ALLOWANCE + sum(e.amount for e in ledger) == fake.balance_micro_usd
    assert balance.period_spend_micro_usd == _cost_of(ledger, run.id)

    # What m2 used is June's spend: July's reset gives exactly that back.
    fake.clock.advance(timedelta(days=30))
    july = client.credits.history(limit=1)[0]
    assert (july.operation, july.amount, july.balance_after) == (
        "monthly_reset",
        _cost_of(ledger, run.id),
        ALLOWANCE,
    )


def test_a_pre_charge_held_across_the_month_start_and_used_whole_comes_back_a_month_on(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A run created at 23:00 on May 31 runs into the two-hour cap in June: its pre-charge
    # was held across June 1 and, stopped at the cap, it used all of it (no refund entry
    # follows). That is June's spend, and July 1 gives it back.
    fake.clock.advance(JUNE_FIRST - timedelta(hours=1) - fake.clock.now())
    run = create_past_the_cap(fake, client)
    fake.clock.advance(timedelta(days=3))
    assert client.training.get(run_id=run.id).status == "failed"
    fake.clock.advance(timedelta(days=30))  # 2026-07-03
    ledger = client.credits.history()

    assert [e.operation for e in ledger] == ["monthly_reset", "training_a10g_per_minute"]
    reset, precharge = ledger
    assert reset.created_at == datetime.fromisoformat("2026-07-01T00:00:00+00:00")
    assert (reset.amount, reset.balance_after) == (-precharge.amount, ALLOWANCE)


async def test_async_a_pre_charge_held_across_the_month_start_is_refunded_once(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.clock.advance(JUNE_FIRST - timedelta(minutes=1) - fake.clock.now())
    started = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="m", wait=False
    )
    fake.clock.advance(timedelta(days=1))
    balance = await aclient.credits.balance()
    ledger = await aclient.credits.history()

    # Nothing else was spent in May: the reset has nothing to give back.
    assert [e.operation for e in ledger] == ["training_refund_a10g", "training_a10g_per_minute"]
    assert balance.included_remaining_micro_usd == ALLOWANCE - _cost_of(ledger, started.id)
    assert balance.included_remaining_micro_usd < ALLOWANCE


async def test_async_sees_the_reset(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _train(client, "m1")
    fake.clock.advance(timedelta(days=25))
    balance = await aclient.credits.balance()
    assert balance.recent_history[0].operation == "monthly_reset"
    assert balance.included_remaining_micro_usd == ALLOWANCE


# ── history / iter ──


def test_history_is_newest_first_and_pages_with_limit_and_offset(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _top_ups(fake, 12)

    everything = client.credits.history()
    pages = [client.credits.history(limit=5, offset=o) for o in (0, 5, 10)]

    assert [e.amount for e in everything] == [d * MICRO_USD for d in range(12, 0, -1)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert _ids([e for p in pages for e in p]) == _ids(everything)
    assert client.credits.history(offset=12) == []
    assert everything[-1].operation == "top_up"
    assert everything[-1].balance_after == ALLOWANCE + MICRO_USD


def test_history_says_which_page_it_answers(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK keeps only the entries; the body also says the window it was cut at.
    _top_ups(fake, 12)

    assert len(client.credits.history(limit=5, offset=10)) == 2

    body = fake.calls.last.response_json()
    assert (body["limit"], body["offset"]) == (5, 10)
    assert body["pagination"] == {"limit": 5, "offset": 10, "total": 12, "has_more": False}


def test_history_caps_a_page_at_100(fake: FakePictograph, client: pictograph.Client) -> None:
    _top_ups(fake, 120)

    page = client.credits.history(limit=500)

    assert len(page) == 100
    assert page[0].amount == 120 * MICRO_USD
    assert page[-1].amount == 21 * MICRO_USD


def test_history_refuses_a_limit_below_one(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.credits.history(limit=0)
    assert refused.value.status_code == 422


def test_iter_walks_the_whole_ledger_in_order(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _top_ups(fake, 30)
    newest_first = _ids(client.credits.history(limit=100))

    assert _ids(client.credits.iter(page_size=7).all()) == newest_first
    assert _ids(list(client.credits.iter(page_size=4, max_total=10))) == newest_first[:10]
    assert client.credits.iter(max_total=0).all() == []
    first = client.credits.iter().first()
    assert first is not None
    assert first.id == newest_first[0]


def test_iter_follows_has_more_past_the_server_cap(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _top_ups(fake, 120)

    # The server answers at most 100 of the 150 asked for; has_more keeps the pager going.
    entries = client.credits.iter(page_size=150).all()

    assert len(entries) == 120
    assert len(set(_ids(entries))) == 120
    assert [e.amount for e in entries] == [d * MICRO_USD for d in range(120, 0, -1)]


def test_iter_stops_on_has_more_false_after_a_full_page(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _top_ups(fake, 20)
    pages: list[str] = []

    def count(request: httpx.Request) -> None:
        if request.url.path.endswith("/credits/history"):
            pages.append(request.url.params["offset"])

    # Observe the SDK's own API client: no third, empty page is asked for.
    client._transport._client.event_hooks["request"].append(count)
    entries = client.credits.iter(page_size=10).all()

    assert len(entries) == 20
    assert pages == ["0", "10"]


async def test_async_history_and_iter(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    _top_ups(fake, 15)

    page = await aclient.credits.history(limit=5, offset=5)
    walked = [e async for e in aclient.credits.iter(page_size=4)]
    capped = await aclient.credits.iter(page_size=4, max_total=6).all()

    assert [e.amount for e in page] == [d * MICRO_USD for d in range(10, 5, -1)]
    assert [e.amount for e in walked] == [d * MICRO_USD for d in range(15, 0, -1)]
    assert _ids(capped) == _ids(walked[:6])


async def test_async_balance(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")

    balance = await aclient.credits.balance()

    assert balance.included_allowance_micro_usd == ALLOWANCE
    assert balance.included_remaining_micro_usd == fake.balance_micro_usd < ALLOWANCE
    assert balance.period_spend_micro_usd == ALLOWANCE - fake.balance_micro_usd
    assert balance.credits_reset_at is not None
    assert _ids(balance.recent_history) == [e.id for e in reversed(fake.ledger)]


# ── usage by operation ──


@pytest.fixture
def spread_ledger(fake: FakePictograph, client: pictograph.Client) -> FakePictograph:
    """Debits at about 38 days, 13 days, 3 days and 1 hour ago, plus top-ups and refunds."""
    _train(client, "h", gpu_type="h100")
    fake.clock.advance(timedelta(days=25))
    _train(client, "a", gpu_type="a100")
    fake.top_up(3)
    fake.clock.advance(timedelta(days=10))
    _train(client, "w")
    fake.clock.advance(timedelta(days=3))
    _train(client, "d")
    fake.top_up(1)
    fake.clock.advance(hours=1)
    return fake


@pytest.mark.parametrize(
    ("window", "length", "counts"),
    [
        ("day", timedelta(days=1), {"training_a10g_per_minute": 1}),
        ("week", timedelta(days=7), {"training_a10g_per_minute": 2}),
        (
            "month",
            timedelta(days=30),
            {"training_a10g_per_minute": 2, "training_a100_per_minute": 1},
        ),
        (
            "all",
            None,
            {
                "training_a10g_per_minute": 2,
                "training_a100_per_minute": 1,
                "training_h100_per_minute": 1,
            },
        ),
    ],
)
def test_usage_by_operation_sums_the_debits_in_each_window(
    spread_ledger: FakePictograph,
    client: pictograph.Client,
    window: UsageRange,
    length: timedelta | None,
    counts: dict[str, int],
) -> None:
    now = spread_ledger.clock.now()
    since = None if length is None else now - length

    usage = client.credits.usage_by_operation(range=window)

    debits = [
        e
        for e in client.credits.history(limit=100)
        if e.amount < 0 and (since is None or e.created_at >= since)
    ]
    assert usage.range == window
    if since is None:
        assert usage.since is None
    else:
        assert _since(usage.since) == since
    assert {o.operation: o.event_count for o in usage.operations} == counts
    for op in usage.operations:
        assert op.total_micro_usd == -sum(e.amount for e in debits if e.operation == op.operation)
        assert op.total_micro_usd > 0
    spends = [o.total_micro_usd for o in usage.operations]
    assert spends == sorted(spends, reverse=True)
    assert usage.total_micro_usd == sum(spends) == -sum(e.amount for e in debits)
    assert usage.total_events == sum(counts.values()) == len(debits)


@pytest.mark.parametrize(
    ("window", "length"),
    [("day", timedelta(days=1)), ("week", timedelta(days=7)), ("month", timedelta(days=30))],
)
def test_usage_window_is_rolling_even_in_a_young_world(
    fake: FakePictograph, client: pictograph.Client, window: UsageRange, length: timedelta
) -> None:
    fake.clock.advance(hours=5)

    usage = client.credits.usage_by_operation(range=window)

    assert _since(usage.since) == fake.clock.now() - length


def test_usage_defaults_to_the_month(
    spread_ledger: FakePictograph, client: pictograph.Client
) -> None:
    usage = client.credits.usage_by_operation()

    assert usage.range == "month"
    assert usage == client.credits.usage_by_operation(range="month")


def test_usage_never_counts_refunds_or_top_ups(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.top_up(10)
    assert client.credits.usage_by_operation(range="all").operations == []

    _train(client, "m1")
    usage = client.credits.usage_by_operation(range="all")

    assert [o.operation for o in usage.operations] == ["training_a10g_per_minute"]
    assert usage.total_micro_usd == -min(e.amount for e in fake.ledger)


def test_usage_refuses_an_unknown_range(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        # Deliberately a range the SDK's Literal refuses: the fake must refuse it too.
        client.credits.usage_by_operation(range="year")  # type: ignore[arg-type]

    assert refused.value.status_code == 422
    assert refused.value.field_errors is not None
    assert refused.value.field_errors[0]["loc"] == ["query", "range"]


async def test_async_usage_by_operation(
    spread_ledger: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    usage = await aclient.credits.usage_by_operation(range="week")

    assert usage.range == "week"
    assert [(o.operation, o.event_count) for o in usage.operations] == [
        ("training_a10g_per_minute", 2)
    ]
    with pytest.raises(ValidationError):
        # Deliberately a range the SDK's Literal refuses: the fake must refuse it too.
        await aclient.credits.usage_by_operation(range="fortnight")  # type: ignore[arg-type]


# ── estimate ──


@pytest.mark.parametrize(
    ("operation", "unit", "per_unit"),
    [
        ("training_a10g", "minute", 5_000),
        ("training_a10g_per_minute", "minute", 5_000),  # the guide's spelling
        ("training_h100", "minute", 66_667),
        ("image_edit_gemini_flash", "call", 39_000),
    ],
)
def test_estimate_prices_an_operation(
    client: pictograph.Client, operation: str, unit: str, per_unit: int
) -> None:
    estimate = client.credits.estimate(operation, quantity=30)

    assert estimate.operation == operation
    assert estimate.unit == unit
    assert estimate.quantity == 30
    assert estimate.micro_usd_per_unit == per_unit
    assert estimate.remaining_micro_usd == ALLOWANCE
    assert estimate.sufficient is True
    assert estimate.per_unit_usd == per_unit / MICRO_USD
    # Deprecated whole dollars: costs round up, what remains rounds down.
    assert estimate.credits_per_unit == math.ceil(per_unit / MICRO_USD)
    assert estimate.total_credits == math.ceil(estimate.total_micro_usd / MICRO_USD)
    assert estimate.credits_remaining == 100
    assert estimate.minimum == 0


def test_estimate_quantity_defaults_to_one(client: pictograph.Client) -> None:
    estimate = client.credits.estimate("training_a10g")

    assert estimate.quantity == 1
    assert estimate.total_micro_usd == estimate.micro_usd_per_unit


@pytest.mark.parametrize("world", ["fake", "current_fake"])
@pytest.mark.parametrize("operation", ["training_a10g", "training_a100", "training_h100"])
def test_estimate_rounds_each_total_from_the_rate(
    world: str, operation: str, request: pytest.FixtureRequest
) -> None:
    fake: FakePictograph = request.getfixturevalue(world)
    with fake.client(max_retries=0) as client:
        per_unit = client.credits.estimate(operation, quantity=1)
        for quantity in (2, 7, 10, 30, 600):
            total = client.credits.estimate(operation, quantity=quantity).total_micro_usd
            # The live-tested bound: rounded once, never drifting by more than a µUSD a unit.
            assert abs(total - per_unit.micro_usd_per_unit * quantity) <= quantity

    assert per_unit.total_micro_usd == per_unit.micro_usd_per_unit


def test_estimate_total_is_the_exact_rate_times_quantity_rounded(
    current_fake: FakePictograph,
) -> None:
    exact_a10g_per_minute = Fraction(2_200_000, 60)  # $2.20 an hour
    with current_fake.client(max_retries=0) as client:
        estimate = client.credits.estimate("training_a10g", quantity=10)

    assert estimate.total_micro_usd == round(exact_a10g_per_minute * 10) == 366_667


def test_per_call_operations_multiply_exactly(client: pictograph.Client) -> None:
    estimate = client.credits.estimate("image_generate_gemini_3_1_flash", quantity=7)

    assert estimate.unit == "call"
    assert estimate.total_micro_usd == estimate.micro_usd_per_unit * 7 == 175_000


@pytest.mark.parametrize(
    ("world", "a10g", "h100"),
    [("fake", 5_000, 66_667), ("current_fake", 36_667, 131_667)],
)
def test_training_prices_follow_the_profile(
    world: str, a10g: int, h100: int, request: pytest.FixtureRequest
) -> None:
    fake: FakePictograph = request.getfixturevalue(world)
    with fake.client(max_retries=0) as client:
        assert client.credits.estimate("training_a10g").micro_usd_per_unit == a10g
        assert client.credits.estimate("training_h100").micro_usd_per_unit == h100
        alias = client.credits.estimate("training_a10g_per_minute", quantity=30)
        slug = client.credits.estimate("training_a10g", quantity=30)

    assert alias.total_micro_usd == slug.total_micro_usd
    assert alias.operation == "training_a10g_per_minute"


def _guide_cost_check(client: pictograph.Client) -> CreditEstimate:
    """The training guide's "Cost estimation" example, verbatim."""
    estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)
    if not estimate.sufficient:
        raise RuntimeError(f"Need {estimate.total_credits}, have {estimate.credits_remaining}")
    return estimate


def test_the_guides_cost_check_passes_with_credit(client: pictograph.Client) -> None:
    estimate = _guide_cost_check(client)

    assert estimate.sufficient is True
    assert estimate.total_micro_usd == 150_000
    assert estimate.total_credits == 1
    assert estimate.credits_remaining == 100


def test_the_guides_cost_check_stops_a_poor_organization() -> None:
    with FakePictograph(seed=1, balance_usd=0.01) as fake, fake.client(max_retries=0) as client:
        with pytest.raises(RuntimeError, match=r"^Need 1, have 0$"):
            _guide_cost_check(client)
        estimate = client.credits.estimate("training_a10g_per_minute", quantity=30)

    assert estimate.sufficient is False
    assert estimate.remaining_micro_usd == 10_000
    assert estimate.total_micro_usd == 150_000
    assert estimate.remaining_usd == 0.01


def test_exactly_enough_credit_is_sufficient() -> None:
    with FakePictograph(seed=1, balance_usd=0.15) as fake, fake.client(max_retries=0) as client:
        just = client.credits.estimate("training_a10g", quantity=30)
        over = client.credits.estimate("training_a10g", quantity=31)

    assert just.remaining_micro_usd == just.total_micro_usd == 150_000
    assert just.sufficient is True
    assert over.sufficient is False


def test_estimate_sees_the_balance_after_spending(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "m1")

    estimate = client.credits.estimate("training_a10g")

    assert estimate.remaining_micro_usd == fake.balance_micro_usd < ALLOWANCE
    assert estimate.credits_remaining == fake.balance_micro_usd // MICRO_USD


def test_estimate_refuses_an_unknown_operation(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.credits.estimate("bogus")

    error = refused.value
    assert error.status_code == 400
    assert error.message == "Unknown operation: bogus"
    assert isinstance(error.response, dict)
    assert error.response["detail"] == "Unknown operation: bogus"


@pytest.mark.parametrize(
    ("quantity", "refused"), [(0, True), (1_000_000, False), (1_000_001, True)]
)
def test_estimate_takes_a_quantity_from_one_to_a_million(
    client: pictograph.Client, quantity: int, refused: bool
) -> None:
    if not refused:
        assert client.credits.estimate("training_a10g", quantity=quantity).quantity == quantity
        return
    with pytest.raises(ValidationError) as caught:
        client.credits.estimate("training_a10g", quantity=quantity)
    assert caught.value.status_code == 422
    assert caught.value.field_errors is not None
    assert caught.value.field_errors[0]["loc"] == ["query", "quantity"]


@pytest.mark.parametrize(
    ("route", "params", "field", "default"),
    [
        ("usage-by-operation", {}, "range", "month"),
        ("estimate", {"operation": "training_a10g"}, "quantity", 1),
    ],
)
def test_a_query_the_sdk_always_sends_has_its_default_when_left_out(
    fake: FakePictograph, route: str, params: dict[str, str], field: str, default: object
) -> None:
    # Today's SDK always sends `range` and `quantity`; a request without them gets the
    # defaults the SDK's own signatures have.
    with raw(fake) as http:
        answer = http.get(f"/api/v1/developer/credits/{route}", params=params)
    assert answer.status_code == 200
    assert answer.json()[field] == default


def test_estimate_without_an_operation_is_refused(fake: FakePictograph) -> None:
    with raw(fake) as http:
        answer = http.get("/api/v1/developer/credits/estimate", params={"quantity": 3})
    assert answer.status_code == 422
    [error] = answer.json()["error"]["details"]["errors"]
    assert (error["loc"], error["type"]) == (["query", "operation"], "missing")


async def test_async_estimate(aclient: pictograph.AsyncClient) -> None:
    estimate = await aclient.credits.estimate("training_a10g_per_minute", quantity=30)

    assert (estimate.operation, estimate.unit, estimate.quantity) == (
        "training_a10g_per_minute",
        "minute",
        30,
    )
    assert estimate.total_micro_usd == 150_000
    assert estimate.sufficient is True
    with pytest.raises(ValidationError, match="Unknown operation: bogus") as refused:
        await aclient.credits.estimate("bogus")
    assert refused.value.status_code == 400


# ── spend by period and window: what a mutation run found no test holding ──


def test_a_balance_below_zero_leaves_nothing_and_counts_the_debt_as_overage() -> None:
    # A debit larger than all there was: nothing is left of the allowance or the budget,
    # and neither reads below zero.
    debt = 3 * MICRO_USD
    document = {
        "schema_version": 1,
        "ledger": [{"operation": "dataset_restore", "amount": -(ALLOWANCE + debt)}],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        balance = client.credits.balance()

    assert fake.balance_micro_usd == -debt
    assert balance.included_remaining_micro_usd == 0
    assert balance.budget_remaining_micro_usd == 0
    assert balance.period_overage_micro_usd == debt
    assert balance.credits_remaining == 0


def test_usage_lists_operations_of_equal_spend_by_name() -> None:
    # Neither the order they were spent in nor its reverse: ties go by the slug.
    spent = ["sam3_per_minute", "image_generate", "training_a10g"]
    document = {
        "schema_version": 1,
        "ledger": [{"operation": operation, "amount": -MICRO_USD} for operation in spent],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        usage = client.credits.usage_by_operation(range="all")

    assert [o.operation for o in usage.operations] == sorted(spent)
    assert [o.total_micro_usd for o in usage.operations] == [MICRO_USD] * 3


def test_a_pre_charge_held_across_one_month_start_is_not_the_next_months_spend(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Held across June 1, used and refunded in June: June's spend, none of July's.
    fake.clock.advance(JUNE_FIRST - timedelta(minutes=1) - fake.clock.now())
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m", wait=False)
    fake.clock.advance(timedelta(days=1))
    ledger = client.credits.history()
    assert client.credits.balance().period_spend_micro_usd == _cost_of(ledger, run.id) > 0
    fake.clock.advance(timedelta(days=31))  # 2026-07-02
    balance = client.credits.balance()
    assert balance.period_start == datetime.fromisoformat("2026-07-01T00:00:00+00:00")
    assert balance.period_spend_micro_usd == 0


def test_a_period_whose_refunds_outweigh_its_debits_spent_nothing() -> None:
    # A refund of a pre-charge from before the period: the period spent nothing, never
    # less than nothing.
    document = {
        "schema_version": 1,
        "ledger": [{"operation": "training_refund_a10g", "amount": 5 * MICRO_USD}],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        balance = client.credits.balance()
    assert balance.period_spend_micro_usd == 0
    assert balance.included_remaining_micro_usd == ALLOWANCE + 5 * MICRO_USD


def test_a_loaded_ledger_out_of_date_order_counts_each_window_as_dated() -> None:
    # A document may list its entries in any order: the last day's usage counts what is
    # dated in it, whatever the document listed before.
    day = 86_400.0
    entries = [(1, 0.0), (2, 3 * day), (4, day)]  # dollars, dated; the last out of order
    balance, ledger = ALLOWANCE, []
    for n, (dollars, at) in enumerate(entries):
        balance -= dollars * MICRO_USD
        ledger.append(
            {
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "operation": "dataset_restore",
                "amount": -dollars * MICRO_USD,
                "balance_after": balance,
                "description": "Dataset restore",
                "metadata": None,
                "created_at": at,
            }
        )
    document = {"schema_version": 1, "ledger": ledger}
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        fake.clock.advance(timedelta(days=3.5))
        usage = {
            window: {
                o.operation: o.total_micro_usd
                for o in client.credits.usage_by_operation(range=window).operations
            }
            for window in ("day", "week")
        }
    assert usage["day"] == {"dataset_restore": 2 * MICRO_USD}
    assert usage["week"] == {"dataset_restore": 7 * MICRO_USD}


def test_two_pre_charges_held_across_the_month_start_are_both_held(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Nothing but two runs' pre-charges was spent in May, both still held on June 1: the
    # reset has nothing to give back (what the runs do not use comes back as refunds).
    fake.clock.advance(JUNE_FIRST - timedelta(minutes=1) - fake.clock.now())
    for name in ("m1", "m2"):
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)
    fake.clock.advance(timedelta(days=1))
    operations = [e.operation for e in client.credits.history()]
    assert "monthly_reset" not in operations
    assert operations.count("training_a10g_per_minute") == 2


def test_a_runs_ledger_entries_say_what_they_were_for(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "done")
    stopped = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="stopped", wait=False
    )
    client.training.cancel(run_id=stopped.id)
    ledger = client.credits.history()
    descriptions = {
        (e.operation, (e.metadata or {}).get("run_id") == stopped.id): e.description for e in ledger
    }
    assert descriptions == {
        ("training_a10g_per_minute", False): "Training pre-charge",
        ("training_refund_a10g", False): "Refund of unused training minutes (completed)",
        ("training_a10g_per_minute", True): "Training pre-charge",
        ("training_refund_a10g", True): "Refund of unused training minutes (cancelled)",
    }


def test_a_charge_on_success_runs_entry_names_its_gpu_and_minutes() -> None:
    with FakePictograph(seed=1, profile="current") as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m1")
            [entry] = client.credits.history()
    assert run.training_time_seconds is not None
    minutes = math.ceil(run.training_time_seconds / 60)
    assert (entry.operation, entry.description) == (
        "training_a10g",
        f"Training on a10g ({minutes} min)",
    )
