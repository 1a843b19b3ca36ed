"""Models: listing and lookups, on the fake and the real API."""

from __future__ import annotations

from pathlib import Path

import pictograph
import pytest
from pictograph.exceptions import NotFoundError

from tests.contract.conftest import TrainingData

pytestmark = pytest.mark.pictograph(profile="current")


def test_listed_models_name_themselves(pictograph_client: pictograph.Client) -> None:
    models = pictograph_client.models.list(limit=10)

    assert len(models) <= 10
    for model in models:
        assert model.id
        assert model.name


def test_an_unknown_model_is_404(pictograph_client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        pictograph_client.models.get("no-such-model-for-contract")

    assert missing.value.status_code == 404


def test_downloading_an_unknown_model_is_404(
    pictograph_client: pictograph.Client, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        pictograph_client.models.download(
            "no-such-model-for-contract", output_path=tmp_path / "m.onnx"
        )
    assert not list(tmp_path.iterdir())  # nothing half-written


async def test_the_async_client_agrees(pictograph_async_client: pictograph.AsyncClient) -> None:
    with pytest.raises(NotFoundError):
        await pictograph_async_client.models.get("no-such-model-for-contract")


@pytest.mark.pictograph_fake_only  # training a model to download costs money live
def test_a_trained_model_downloads_as_onnx(
    pictograph_client: pictograph.Client, training_data: TrainingData, tmp_path: Path
) -> None:
    run = pictograph_client.training.create(
        training_data.dataset, training_data.export, pipeline_type="yolox", name="contract-m"
    )

    path = pictograph_client.models.download(model_id=run.model_id, output_path=tmp_path / "m")

    assert path.read_bytes()[:1] == b"\x08"  # an ONNX protobuf starts with its IR version
