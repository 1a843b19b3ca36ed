"""What a catch-up leaves for later: read late, it answers as it would have read at once.

Completing a run defers what no one has asked for yet (a trained version's metrics are
read from its run when first read, its id formatted from the bits drawn for it); these
tests hold the deferred answers to the ones read the moment the runs ended, byte for
byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

import pictograph_testing.strategies as pst
from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from pictograph.models.training import PipelineType

DATASET, EXPORT = "road-signs", "road-signs-v1"
CHECKS = settings(max_examples=10)


def _late_reads(requests: list[dict[str, Any]], *, read_at_once: bool) -> list[bytes]:
    """Train ``requests``, then more; return the bodies of the reads made at the end.

    ``read_at_once``: the models are also read the moment the first runs end.
    """
    with FakePictograph(seed=5, balance_usd=1000.0) as fake:
        fake.add_dataset(DATASET, images=12, completed_images=12, classes=["stop", "yield"])
        fake.add_export(DATASET, EXPORT)
        client = fake.client(max_retries=0)
        for request in requests:
            client.training.create(**request, wait=False)
        fake.clock.advance(hours=3)
        if read_at_once:
            for model in client.models.list(limit=100):
                client.models.get(model.id)
                client.models.versions(model_id=model.id)
        # More happens before the late reads: another run ends, a version of a model.
        newest = next(iter(client.models.list(limit=1)), None)
        client.training.create(
            DATASET,
            EXPORT,
            # The fake keeps a pipeline as the str it was asked for: one the SDK lists.
            pipeline_type=cast(
                "PipelineType", fake.world.models[newest.id].pipeline_type if newest else "yolox"
            ),
            name="later",
            config={"epochs": 1},
            version_of_model_id=newest.id if newest else None,
            wait=False,
        )
        fake.clock.advance(hours=3)
        bodies: list[bytes] = []

        def record(response: httpx.Response) -> None:
            response.read()
            bodies.append(response.content)

        client._transport._client.event_hooks["response"].append(record)
        runs = {run.id: run for run in client.training.list(limit=100)}
        for model in client.models.list(limit=100):
            client.models.get(model.id)
            for version in client.models.versions(model_id=model.id).versions:
                assert version.training_run_id is not None
                run = runs[version.training_run_id]
                # A version reports its run's final metrics, bar the epoch.
                assert version.metrics == {k: v for k, v in run.metrics.items() if k != "epoch"}
        client.close()
    return bodies


@CHECKS
@given(
    requests=st.lists(
        pst.create_requests(dataset=DATASET, export=EXPORT, max_epochs=3), min_size=1, max_size=4
    )
)
def test_models_read_late_answer_as_read_the_moment_their_runs_ended(
    requests: list[dict[str, Any]],
) -> None:
    late = _late_reads(requests, read_at_once=False)

    assert late == _late_reads(requests, read_at_once=True)
    assert late  # the reads were made and recorded
