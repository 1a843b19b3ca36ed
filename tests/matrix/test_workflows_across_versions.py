"""Saved workflows and their runs on every release that has ``client.workflows`` (1.2.0 on),
sync and async.

Every release from 1.2.0 speaks the same wire for what it has: the same paths and methods,
``workflow`` / ``workflows`` / ``run`` / ``data`` replies, the same run statuses. What
changed is what a release has (bulk deletes from 1.6.7, bulk cancels from 1.7.7, names for
ids from 1.69.28, ``list_runs`` from 1.69.80, ``validate`` from 1.69.141) and, in 1.69.113
and 1.69.114 only, a ``precision`` in a workflow's and a run's ``compute``, which later
releases set on each Model block instead. A workflow served live (1.69.142 on) has an
``endpoint_url`` ending in ``/predict`` for 1.69.142 and 1.69.143, whose streams open on the
``/sessions`` beside it, and in ``/sessions`` itself from 1.69.144.
"""

from __future__ import annotations

import inspect
import io
from typing import TYPE_CHECKING, Any

import pytest
from pictograph.exceptions import ApiError, ConflictError, NotFoundError
from PIL import Image

from pictograph_testing._sdk.layout import sdk_version
from tests.matrix.conftest import DATASET, EXPORT, WORKFLOW_GRAPH

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph


def _workflows(client: Any) -> Any:
    workflows = getattr(client, "workflows", None)
    if workflows is None or not hasattr(workflows, "run"):
        pytest.skip(f"pictograph {sdk_version()} has no client.workflows (1.2.0 on)")
    return workflows


def _takes(method: Any, parameter: str) -> bool:
    return parameter in inspect.signature(method).parameters


def _by_name(workflows: Any) -> bool:
    """Whether the release addresses a workflow by name (1.69.28 on); before, by id."""
    return _takes(workflows.get, "workflow")


def _precision_in_compute() -> bool:
    """1.69.113 and 1.69.114: a workflow's and a run's compute carry a precision."""
    from pictograph.models import workflow as models

    compute = getattr(models, "WorkflowCompute", None)
    return compute is not None and "precision" in compute.model_fields


def test_a_workflow_is_made_run_to_completion_cancelled_and_deleted(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    workflows = _workflows(sdk)
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    made = workflows.create("Lot", WORKFLOW_GRAPH, description="the car park")
    assert (made.name, made.status, made.description) == ("Lot", "draft", "the car park")
    assert [n["id"] for n in made.graph["nodes"]] == ["src", "det", "out"]
    ref = "Lot" if _by_name(workflows) else made.id
    assert [w.id for w in workflows.list()] == [made.id]
    assert workflows.get(ref).id == made.id
    if hasattr(workflows, "validate"):
        assert workflows.validate(WORKFLOW_GRAPH).valid

    renamed = workflows.update(ref, name="Lot B", status="ready")
    assert (renamed.id, renamed.name, renamed.status) == (made.id, "Lot B", "ready")
    ref = "Lot B" if _by_name(workflows) else made.id

    created = workflows.run(ref)
    assert created.deposit_micro_usd > 0
    assert workflows.get_run(created.run_id).status == "queued"
    done = workflows.wait_for_run(created.run_id, poll_interval=1)
    assert (done.id, done.workflow_id, done.status) == (created.run_id, made.id, "completed")
    assert (done.frames_done, done.frames_total, done.progress) == (20, 20, 100.0)
    assert done.final_micro_usd is not None
    assert done.final_micro_usd > 0
    assert workflows.get(ref).last_run_id == created.run_id

    second = workflows.run(ref)
    workflows.cancel_run(second.run_id)
    with pytest.raises(ApiError, match="ended with status 'cancelled'"):
        workflows.wait_for_run(second.run_id, poll_interval=1)
    assert workflows.get_run(second.run_id).final_micro_usd in (None, 0)
    if hasattr(workflows, "list_runs"):
        runs = workflows.list_runs(ref)
        assert [(r.id, r.status) for r in runs] == [
            (second.run_id, "cancelled"),
            (created.run_id, "completed"),
        ]
        assert runs[1].cost_micro_usd == done.final_micro_usd
    if hasattr(workflows, "bulk_cancel_runs"):
        third = workflows.run(ref)
        result = workflows.bulk_cancel_runs([third.run_id, second.run_id])
        assert (result.succeeded, result.not_found) == ([third.run_id], [second.run_id])
        assert workflows.get_run(third.run_id).status == "cancelled"

    workflows.delete(ref)
    assert list(workflows.list()) == []
    with pytest.raises(NotFoundError):
        workflows.get(made.id)
    with pytest.raises(NotFoundError):
        workflows.get_run(created.run_id)


def test_bulk_delete_reports_what_it_did_not_find(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    workflows = _workflows(sdk)
    if not hasattr(workflows, "bulk_delete"):
        pytest.skip(f"pictograph {sdk_version()} has no workflows.bulk_delete (1.6.7 on)")
    kept = workflows.create("Kept", WORKFLOW_GRAPH)
    gone = workflows.create("Gone", WORKFLOW_GRAPH)
    unknown = "00000000-0000-4000-8000-000000000000"
    result = workflows.bulk_delete([gone.id, unknown])
    assert (list(result.deleted), result.not_found) == ([gone.id], [unknown])
    assert [w.id for w in workflows.list()] == [kept.id]


def test_a_workflows_compute_and_a_runs_gpu_and_precision(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    workflows = _workflows(sdk)
    if not _takes(workflows.create, "compute"):
        pytest.skip(f"pictograph {sdk_version()} has no workflow compute (1.69.113 on)")
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    if _precision_in_compute():
        # 1.69.113-1.69.114: the precision is the workflow's, and a run may name its own.
        made = workflows.create("Lot", WORKFLOW_GRAPH, compute={"gpu": "l4", "precision": "fp16"})
        assert made.compute.model_dump() == {"gpu": "l4", "precision": "fp16"}
        wanted = {"gpu": "l4", "precision": "fp16"}
        created = workflows.run("Lot")
        override = workflows.run("Lot", gpu="t4", precision="fp32")
    else:
        made = workflows.create("Lot", WORKFLOW_GRAPH, compute={"gpu": "l4"})
        assert made.compute.gpu == "l4"
        wanted = {"gpu": "l4", "precision": "fp32"}
        created = workflows.run("Lot")
        override = workflows.run("Lot", gpu="t4")
    done = workflows.wait_for_run(created.run_id, poll_interval=1)
    assert done.compute.model_dump() == wanted
    assert workflows.wait_for_run(override.run_id, poll_interval=1).compute.model_dump() == {
        "gpu": "t4",
        "precision": "fp32",
    }


def test_a_workflow_served_live_opens_its_streams_where_the_release_looks(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    workflows = _workflows(sdk)
    if not hasattr(workflows, "connect"):
        pytest.skip(f"pictograph {sdk_version()} serves no workflow live (1.69.142 on)")
    from pictograph.resources._deployment_stream import sessions_url

    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    workflows.create("Lot", WORKFLOW_GRAPH)
    token = workflows.deploy("Lot").endpoint_token
    live = workflows.wait_until_live("Lot", poll_interval=5)
    assert live.endpoint is not None
    assert live.endpoint.status == "active"
    view = live.endpoint.live
    assert [(m.name, m.precision) for m in view.models] == [("signs", "fp32")]
    assert view.class_types == dict.fromkeys(view.classes, "bbox")
    assert view.classes
    # The release's own rule (which refuses a URL it does not expect) finds the streams.
    found = sessions_url(live.endpoint.endpoint_url)
    assert found.endswith(f"/{live.endpoint.region}/{live.endpoint.id}/sessions")
    image = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 90, 160)).save(image, format="PNG")
    with workflows.connect(live, token) as endpoint, pytest.raises(ConflictError) as refused:
        endpoint.infer_raw(image.getvalue())
    assert refused.value.code == "predict_unavailable"
    # Its streams run each frame through the graph, on the virtual clock.
    world.add_camera("rtsp://cam.example.com/lot", fps=10, frames=5)
    with (
        workflows.connect(live, token) as endpoint,
        endpoint.open_stream("rtsp://cam.example.com/lot") as stream,
    ):
        frames = list(stream.frames())
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[0].message["model"]["name"] == "signs"
    assert stream.ended == "source_ended"
    # What the stream ran is in the endpoint's live log, as this release reads it.
    logged = workflows.live_log("Lot", stream="frames", order="asc").records
    assert [(r.source, r.frame) for r in logged] == [(stream.id, n) for n in range(5)]


async def test_async_a_workflow_is_run_listed_and_deleted(
    world: FakePictograph, sdk: pictograph.Client, async_sdk: pictograph.AsyncClient
) -> None:
    workflows = _workflows(async_sdk)
    sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="signs")
    made = await workflows.create("Lot", WORKFLOW_GRAPH)
    assert (made.name, made.status) == ("Lot", "draft")
    ref = "Lot" if _by_name(workflows) else made.id
    assert [w.name for w in await workflows.list()] == ["Lot"]
    assert (await workflows.update(ref, description="north gate")).description == "north gate"
    created = await workflows.run(ref)
    done = await workflows.wait_for_run(created.run_id, poll_interval=1)
    assert (done.status, done.frames_done) == ("completed", 20)
    other = await workflows.run(ref)
    await workflows.cancel_run(other.run_id)
    assert (await workflows.get_run(other.run_id)).status == "cancelled"
    if hasattr(workflows, "list_runs"):
        assert [r.status for r in await workflows.list_runs(ref)] == ["cancelled", "completed"]
    await workflows.delete(ref)
    assert list(await workflows.list()) == []
