"""Training: listing, lookups, quotes and refusals, on the fake and the real API."""

from __future__ import annotations

import pictograph
import pytest
from pictograph.exceptions import NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from tests.contract.conftest import TrainingData

pytestmark = pytest.mark.pictograph(profile="current")

STATUSES = {"pending", "queued", "running", "completed", "failed", "cancelled"}


def test_listed_runs_have_known_statuses(pictograph_client: pictograph.Client) -> None:
    runs = pictograph_client.training.list(limit=10)

    assert len(runs) <= 10
    assert {run.status for run in runs} <= STATUSES


def test_an_unknown_run_is_404(pictograph_client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        pictograph_client.training.get(run_id="00000000-0000-4000-8000-000000000000")

    assert missing.value.status_code == 404


def test_a_run_on_an_unknown_dataset_is_refused_and_costs_nothing(
    pictograph_client: pictograph.Client,
) -> None:
    before = pictograph_client.credits.balance()

    with pytest.raises(NotFoundError):
        pictograph_client.training.create(
            "no-such-dataset-for-contract", "v1", pipeline_type="yolox", name="never", wait=False
        )

    after = pictograph_client.credits.balance()
    assert after.budget_remaining_micro_usd == before.budget_remaining_micro_usd
    assert after.included_remaining_micro_usd == before.included_remaining_micro_usd


def test_a_quote_prices_the_run_on_every_tier(
    pictograph_client: pictograph.Client, training_data: TrainingData
) -> None:
    quote = pictograph_client.training.quote(
        training_data.dataset, training_data.export, pipeline_type="yolox"
    )

    assert quote.dataset_name == training_data.dataset
    assert quote.export_name == training_data.export
    assert {tier.gpu_type for tier in quote.tiers} >= {"a10g", "a100", "h100"}
    assert quote.estimate.minutes >= 1
    assert quote.estimate.total_micro_usd > 0
    assert isinstance(quote.can_start, bool)


def test_a_config_out_of_range_is_refused_before_anything_starts(
    pictograph_client: pictograph.Client, training_data: TrainingData
) -> None:
    runs_before = pictograph_client.training.list(limit=100)

    with pytest.raises(ValidationError) as refused:
        pictograph_client.training.create(
            training_data.dataset,
            training_data.export,
            pipeline_type="yolox",
            name="contract-refused",
            config={"epochs": 0},
            wait=False,
        )

    assert refused.value.status_code in (400, 422)
    assert "epochs" in refused.value.message
    assert len(pictograph_client.training.list(limit=100)) == len(runs_before)


@pytest.mark.pictograph_fake_only  # a real run costs money
def test_a_run_trains_to_a_model_and_is_charged_once(
    pictograph_fake: FakePictograph,
    pictograph_client: pictograph.Client,
    training_data: TrainingData,
) -> None:
    run = pictograph_client.training.create(
        training_data.dataset, training_data.export, pipeline_type="yolox", name="contract-run"
    )

    assert run.status == "completed"
    assert pictograph_client.models.get(model_id=run.model_id).status == "ready"
    debits = [e for e in pictograph_fake.ledger if e.amount < 0]
    assert len(debits) == 1
