"""Workflow runs through the real SDK: the clock a run keeps, what its blocks do to its
frames, the sources it reads, what it is charged and sends, and how the jobs feed and
the log show it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ConflictError,
    PaymentRequiredError,
    ValidationError,
)
from pictograph.models.workflow import WorkflowRun, WorkflowRunCreated

from pictograph_testing.catalog import WORKFLOW_GPUS
from tests.conftest import DATASET, EXPORT
from tests.test_webhooks import Inbox
from tests.test_workflows import _counting_graph, _lot, _train, detection_graph

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph
    from pictograph.models.workflow import RunLogRecord

    from pictograph_testing import FakePictograph

VIDEO = "https://cdn.example.com/gate.mp4"
HOOK = "https://hooks.example.com/runs"


def _video(seconds: float, fps: float | None = 1.0) -> dict[str, Any]:
    source: dict[str, Any] = {"kind": "video", "url": VIDEO, "duration_seconds": seconds}
    if fps is not None:
        source["sample_fps"] = fps
    return source


def _ran(client: pictograph.Client, workflow: str, **source: Any) -> WorkflowRun:
    """A run of ``workflow`` (over ``source`` when given), waited for to its end."""
    if source:
        created = client.workflows.invoke(workflow, source=source)
    else:
        created = client.workflows.run(workflow)
    assert isinstance(created, WorkflowRunCreated)
    return client.workflows.wait_for_run(created.run_id, poll_interval=1)


def _frames(client: pictograph.Client, run_id: str) -> list[RunLogRecord]:
    return list(client.workflows.iter_run_log(run_id, stream="frames", full=True))


def _annotations(frame: RunLogRecord) -> list[dict[str, Any]]:
    assert frame.pictograph is not None
    found: list[dict[str, Any]] = frame.pictograph["annotations"]
    return found


# ── the clock ──


def test_a_run_waits_two_seconds_loads_five_then_takes_each_frame_in_turn(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    created = client.workflows.invoke("Lot", source=_video(7))  # 7 frames of 0.071 s
    assert isinstance(created, WorkflowRunCreated)
    run_id = created.run_id
    fake.clock.advance(1.5)
    assert client.workflows.get_run(run_id).status == "queued"
    assert client.jobs.get(run_id).status == "queued"
    fake.clock.advance(0.5)  # two seconds: it has a runner
    started = client.workflows.get_run(run_id)
    assert (started.status, started.frames_done, started.progress) == ("processing", 0, 0.0)
    job = client.jobs.get(run_id)
    assert (job.status, job.progress, job.cancel_path is not None) == ("running", 0.0, True)
    fake.clock.advance(5.0)  # the engine has loaded: no frame is done yet
    assert client.workflows.get_run(run_id).frames_done == 0
    fake.clock.advance(0.25)  # 3 frames and a half
    midway = client.workflows.get_run(run_id)
    assert (midway.frames_done, midway.progress) == (3, 42.9)
    job = client.jobs.get(run_id)
    assert (job.progress, job.detail["frames_done"], job.detail["frames_total"]) == (42.9, 3, 7)
    frames = _frames(client, run_id)
    assert [f.frame for f in frames] == [0, 1, 2]
    assert started.created_at is not None
    # Each frame is logged when it is done: after the queue, the engine and its own time.
    offsets = [(f.ts - started.created_at).total_seconds() for f in frames]
    assert offsets == pytest.approx([7.071, 7.142, 7.213], abs=1e-3)

    client.workflows.cancel_run(run_id)
    fake.clock.advance(3600)
    cancelled = client.workflows.get_run(run_id)
    assert (cancelled.status, cancelled.frames_done, cancelled.progress) == ("cancelled", 3, 42.9)
    assert len(_frames(client, run_id)) == 3
    assert cancelled.completed_at == started.created_at + timedelta(seconds=7.25)
    job = client.jobs.get(run_id)
    assert (job.status, job.detail["frames_done"]) == ("cancelled", 3)
    assert job.updated_at == job.completed_at == cancelled.completed_at


@pytest.mark.parametrize(
    ("gpu", "precision", "seconds_per_frame"),
    [
        ("t4", "fp32", 0.071),  # source 0.02 + model 0.05 + output 0.001
        ("t4", "fp16", 0.046),  # the model's half at fp16
        ("l4", "fp32", 0.0426),  # an L4 takes 0.6 of a T4's time
        ("l4", "fp16", 0.0276),
    ],
)
def test_a_frame_takes_its_blocks_seconds_halved_at_fp16_and_shortened_on_an_l4(
    fake: FakePictograph,
    client: pictograph.Client,
    gpu: str,
    precision: str,
    seconds_per_frame: float,
) -> None:
    _train(client)
    graph = detection_graph("signs")
    graph["nodes"][1]["config"]["precision"] = precision
    client.workflows.create("Lot", graph, compute={"gpu": gpu})
    before = fake.balance_micro_usd
    done = _ran(client, "Lot")
    assert done.compute.model_dump() == {"gpu": gpu, "precision": precision}
    [frame, *_] = _frames(client, done.id)
    assert frame.latency_total_ms == pytest.approx(seconds_per_frame * 1000)
    [summary] = client.workflows.list_runs("Lot")
    assert summary.runtime_seconds == pytest.approx(2 + 5 + 20 * seconds_per_frame, abs=1e-3)
    rate = WORKFLOW_GPUS[gpu].micro_usd_per_minute
    assert done.final_micro_usd == -(-(5 + 20 * seconds_per_frame) * rate // 60)
    assert fake.balance_micro_usd == before - done.final_micro_usd
    [entry] = [e for e in client.credits.history() if e.operation == f"workflow_{gpu}"]
    assert entry.amount == -done.final_micro_usd


def test_a_filter_a_track_and_a_measure_each_take_their_own_time(
    client: pictograph.Client,
) -> None:
    _train(client)
    client.workflows.create("Counter", _counting_graph())
    graph = _counting_graph()
    graph["nodes"].insert(2, {"id": "flt", "type": "filter", "config": {}})
    graph["edges"][1:2] = [{"source": "det", "target": "flt"}, {"source": "flt", "target": "trk"}]
    client.workflows.create("Filtered", graph)
    # source 0.02 + model 0.05 + track 0.002 + measure 0.001 + output 0.001; a filter 0.001
    for name, milliseconds in (("Counter", 74.0), ("Filtered", 75.0)):
        [frame, *_] = _frames(client, _ran(client, name).id)
        assert frame.latency_total_ms == pytest.approx(milliseconds), name


def test_only_a_model_blocks_precision_halves_its_time(client: pictograph.Client) -> None:
    _train(client)
    graph = detection_graph("signs")
    for block in (graph["nodes"][0], graph["nodes"][2]):
        block["config"]["precision"] = "fp16"  # a setting these blocks do not have
    client.workflows.create("Lot", graph)
    done = _ran(client, "Lot")
    assert done.compute.model_dump() == {"gpu": "t4", "precision": "fp32"}
    [frame, *_] = _frames(client, done.id)
    assert frame.latency_total_ms == pytest.approx(71.0)


def test_a_completed_run_is_charged_and_dated_when_it_ended_however_late_it_is_read(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    created = client.workflows.run("Lot")
    fake.clock.advance(3600)
    done = client.workflows.get_run(created.run_id)
    assert done.created_at is not None
    assert done.completed_at is not None
    ran = (done.completed_at - done.created_at).total_seconds()
    assert ran == pytest.approx(2 + 5 + 20 * 0.071, abs=1e-3)
    [entry] = [e for e in client.credits.history() if e.operation == "workflow_t4"]
    assert entry.created_at == done.completed_at
    assert entry.metadata == {"run_id": done.id, "workflow_id": done.workflow_id}
    job = client.jobs.get(done.id)
    assert job.updated_at == job.completed_at == done.completed_at


# ── what a run is refused ──


def test_a_run_needs_its_estimate_spendable_to_the_micro_dollar(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    estimate = WORKFLOW_GPUS["t4"].micro_usd_per_minute  # 6.42 s: a minute
    with fake.world.lock:
        org = fake.world.organizations[fake.organization_id]
        fake.world.billing.post(
            org, "test_spend", estimate - fake.balance_micro_usd - 1, description="spent"
        )
    with pytest.raises(PaymentRequiredError) as refused:
        client.workflows.run("Lot")
    assert (refused.value.credit_cost, refused.value.credits_remaining) == (
        estimate,
        estimate - 1,
    )
    assert client.workflows.list_runs("Lot") == []
    with fake.world.lock:
        fake.world.billing.post(org, "test_top_up", 1, description="a micro-dollar")
    created = client.workflows.run("Lot")  # the estimate exactly is enough
    assert created.deposit_micro_usd == estimate


def test_an_archived_workflow_is_not_run(client: pictograph.Client) -> None:
    _lot(client)
    client.workflows.update("Lot", status="archived")
    with pytest.raises(ConflictError, match="Workflow 'Lot' is archived"):
        client.workflows.run("Lot")
    with pytest.raises(ConflictError, match="is archived"):
        client.workflows.invoke("Lot", source=_video(1))
    assert client.workflows.list_runs("Lot") == []
    client.workflows.update("Lot", status="ready")
    assert _ran(client, "Lot").status == "completed"


def test_a_run_is_refused_naming_each_block_with_an_error(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    graph = detection_graph("nowhere")
    graph["nodes"][0]["config"]["dataset"] = "elsewhere"
    client.workflows.create("Lot", graph)
    with pytest.raises(ValidationError) as refused:
        client.workflows.run("Lot")
    assert refused.value.status_code == 400
    body = fake.calls.last.response_json()["error"]
    assert body["code"] == "workflow_invalid"
    assert [e["loc"] for e in body["details"]["errors"]] == [["graph", "src"], ["graph", "det"]]


def test_a_graph_with_warnings_only_runs_and_one_without_an_output_writes_no_results(
    client: pictograph.Client,
) -> None:
    _train(client)
    graph = detection_graph("signs")
    del graph["nodes"][2]
    del graph["edges"][1]
    assert [(i.code, i.severity) for i in client.workflows.validate(graph).issues] == [
        ("no_output", "warning")
    ]
    client.workflows.create("Lot", graph)
    done = _ran(client, "Lot")
    assert (done.status, done.frames_done, done.artifacts) == ("completed", 20, [])
    assert client.workflows.list_runs("Lot")[0].artifact_count == 0


def test_a_dataset_in_cold_storage_is_not_run_over(client: pictograph.Client) -> None:
    _lot(client)
    client.datasets.freeze(DATASET)
    with pytest.raises(ConflictError, match="a workflow run over its images"):
        client.workflows.run("Lot")
    assert client.workflows.list_runs("Lot") == []


def test_bulk_cancel_needs_a_run_and_takes_each_id_once_in_any_case(
    client: pictograph.Client,
) -> None:
    _lot(client)
    with pytest.raises(ValidationError, match="run_ids must name at least one run"):
        client.workflows.bulk_cancel_runs([])
    run_id = client.workflows.run("Lot").run_id
    shouted = f" {run_id.upper()} "
    assert client.workflows.get_run(shouted).id == run_id
    result = client.workflows.bulk_cancel_runs([shouted, run_id])
    assert (result.succeeded, result.not_found) == ([shouted], [])
    assert client.workflows.get_run(run_id).status == "cancelled"


# ── sources ──


def test_a_dataset_source_reads_one_directory_and_its_subdirectories(
    client: pictograph.Client,
) -> None:
    _train(client)
    ids = [i.id for i in client.images.list(DATASET, limit=20)]
    client.batch.move(DATASET, ids[:3], target_directory_path="/cam")
    client.batch.move(DATASET, ids[3:5], target_directory_path="/cam/left")
    client.batch.move(DATASET, ids[5:9], target_directory_path="/camera")
    client.workflows.create("Lot", detection_graph("signs"))
    runs = {
        folder: _ran(client, "Lot", kind="dataset", dataset=DATASET, directory_path=folder)
        for folder in ("/cam", "cam/", "/camera", "/")
    }
    assert {folder: r.frames_total for folder, r in runs.items()} == {
        "/cam": 5,
        "cam/": 5,
        "/camera": 4,
        "/": 20,
    }
    assert {f.image_id for f in _frames(client, runs["/cam"].id)} == set(ids[:5])
    with pytest.raises(ValidationError, match="The source has no images to run over") as empty:
        client.workflows.invoke(
            "Lot", source={"kind": "dataset", "dataset": DATASET, "directory_path": "/val"}
        )
    assert empty.value.status_code == 400


def test_a_video_is_its_seconds_times_its_rate_in_frames_each_a_picture_of_its_own(
    client: pictograph.Client,
) -> None:
    _lot(client)
    plain = _ran(client, "Lot", kind="video", url=VIDEO)
    assert (plain.frames_total, plain.sample_fps) == (10, 1.0)  # 10 s at a frame a second
    assert _ran(client, "Lot", **_video(10, None)).sample_fps == 1.0
    assert _ran(client, "Lot", **_video(2.5)).frames_total == 2  # whole frames only
    assert _ran(client, "Lot", **_video(0.1)).frames_total == 1  # never none
    frames = _frames(client, plain.id)
    assert [f.image for f in frames] == [f"gate.mp4#{n}" for n in range(10)]
    predicted = {tuple(sorted(a["name"] for a in _annotations(f))) for f in frames}
    predicted |= {(str(f.min_confidence),) for f in frames}
    assert len(predicted) > 2, "each frame is predicted as a picture of its own"


def test_a_video_not_uploaded_is_refused(client: pictograph.Client) -> None:
    _lot(client)
    with pytest.raises(ValidationError, match=r"No uploaded source at 'gs://elsewhere/clip\.mp4'"):
        client.workflows.invoke(
            "Lot", source={"kind": "video", "gcs_uri": "gs://elsewhere/clip.mp4"}
        )
    assert client.workflows.list_runs("Lot") == []


def test_an_uploaded_image_the_organization_has_is_predicted_as_models_predict_does(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    _lot(client)
    world = fake.world
    image = world.dataset_images(world.dataset(fake.organization_id, DATASET))[3]
    content, _ = world.image_service.content(image)
    photo = tmp_path / "photo.png"
    photo.write_bytes(content)
    done = client.workflows.invoke("Lot", source=photo, wait=True, poll_interval=1)
    assert isinstance(done, WorkflowRun)
    [frame] = _frames(client, done.id)
    predicted = client.models.predict("signs", image=content, confidence=0.25)
    assert sorted((a["name"], a["score"]) for a in _annotations(frame)) == sorted(
        (a["name"], a["confidence"]) for a in predicted.annotations
    )
    assert (frame.image, frame.image_width, frame.image_height) == (
        "photo.png",
        image.width,
        image.height,
    )
    # An uploaded file is read, not a link sent beside it.
    uri = client.workflows.upload_source(photo)
    both = client.workflows.invoke(
        "Lot",
        source={"kind": "image", "gcs_uri": uri, "url": "https://cdn.example.com/other.jpg"},
        wait=True,
        poll_interval=1,
    )
    assert isinstance(both, WorkflowRun)
    [again] = _frames(client, both.id)
    assert (again.image, again.image_width, _annotations(again)) == (
        "photo.png",
        image.width,
        _annotations(frame),
    )


# ── the blocks ──


def test_a_model_block_predicts_at_its_own_confidence(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    graph = detection_graph("signs")
    graph["nodes"][1]["config"]["confidence"] = 0.6
    client.workflows.create("Sure", graph)
    frames = _frames(client, _ran(client, "Sure").id)
    world = fake.world
    images = world.dataset_images(world.dataset(fake.organization_id, DATASET))
    counts = [
        len(
            client.models.predict(
                "signs", image=world.image_service.content(i)[0], confidence=c
            ).annotations
        )
        for c in (0.6, 0.25)
        for i in images
    ]
    assert [(f.image, f.image_id) for f in frames] == [(i.filename, i.id) for i in images]
    assert [f.annotation_count for f in frames] == counts[:20]
    assert counts[:20] != counts[20:], "the seeded model finds less at 0.6"
    assert all(f.min_confidence is None or f.min_confidence >= 0.6 for f in frames)


def _filtered(classes: list[str] | None, least: float | None) -> dict[str, Any]:
    """Source -> Model -> Filter (``classes``, ``min_confidence``) -> Output."""
    graph = detection_graph("signs")
    config: dict[str, Any] = {}
    if classes is not None:
        config["classes"] = classes
    if least is not None:
        config["min_confidence"] = least
    graph["nodes"][2:2] = [{"id": "flt", "type": "filter", "config": config}]
    graph["edges"] = [
        {"source": "src", "target": "det"},
        {"source": "det", "target": "flt"},
        {"source": "flt", "target": "out"},
    ]
    return graph


def test_a_filter_keeps_the_classes_named_at_or_above_its_confidence(
    client: pictograph.Client,
) -> None:
    _train(client)
    client.workflows.create("All", detection_graph("signs"))
    every = [_annotations(f) for f in _frames(client, _ran(client, "All").id)]
    scores = sorted({a["score"] for found in every for a in found if a["name"] == "stop_sign"})
    assert len(scores) > 2
    least = scores[1]  # a score a detection has: it is kept
    for name, classes, threshold in (
        ("Stops", ["stop_sign"], least),
        ("Sure", None, least),
        ("Stop signs", ["stop_sign"], None),
    ):
        client.workflows.create(name, _filtered(classes, threshold))
        done = _ran(client, name)
        kept = [_annotations(f) for f in _frames(client, done.id)]
        assert kept == [
            [
                a
                for a in found
                if (classes is None or a["name"] in classes) and a["score"] >= (threshold or 0)
            ]
            for found in every
        ], name
        assert done.step_results["flt"] == {"detections": sum(len(k) for k in kept)}
    assert client.workflows.list_runs("Sure")  # some are kept, some are not
    sure = [_annotations(f) for f in _frames(client, client.workflows.list_runs("Sure")[0].id)]
    assert 0 < sum(map(len, sure)) < sum(map(len, every))


def test_a_track_numbers_each_class_per_frame_and_a_zone_counts_its_peak(
    client: pictograph.Client,
) -> None:
    _train(client)
    client.workflows.create("Lot", _counting_graph())
    done = _ran(client, "Lot")
    frames = _frames(client, done.id)
    expected = []
    for frame in frames:
        seen: dict[str, int] = {}
        ids = []
        for a in _annotations(frame):
            seen[a["name"]] = seen.get(a["name"], 0) + 1
            ids.append(f"{a['name']}-{seen[a['name']]}")
        expected.append(ids)
    assert [f.track_ids for f in frames] == expected
    assert any(len(ids) > len({i.rpartition("-")[0] for i in ids}) for ids in expected)
    inside = [len(ids) for ids in expected]
    assert done.step_results == {
        "src": {"frames": 20},
        "det": {"model": "signs", "detections": sum(inside)},
        "trk": {"tracks": sum(inside)},
        "lot": {
            "Lot": {"kind": "zone", "peak_occupancy": max(inside)},
            "Gate": {"kind": "line", "crossings": 0},
        },
        "out": {"frames_written": 20},
    }
    assert max(inside) != inside[-1]
    assert [f.measures for f in frames] == [{"Lot": n} for n in inside]
    # An event names the classes on its frame once each, in order.
    events = list(client.workflows.iter_run_log(done.id, stream="events"))
    assert [e.classes for e in events] == [frames[e.frame or 0].classes for e in events]
    assert [e.track_ids for e in events] == [frames[e.frame or 0].track_ids for e in events]


def test_two_measures_log_their_events_in_time_order_each_zone_its_own_triggers(
    client: pictograph.Client,
) -> None:
    _train(client)
    graph = _counting_graph()
    # A second Measure block with a zone of the same name: its triggers are its own.
    second = {"geometries": [{"kind": "zone", "name": "Lot"}]}
    graph["nodes"].insert(4, {"id": "bay", "type": "measure", "config": second})
    graph["edges"] += [{"source": "trk", "target": "bay"}, {"source": "bay", "target": "out"}]
    assert client.workflows.validate(graph).valid
    client.workflows.create("Lot", graph)
    done = _ran(client, "Lot")
    events = list(client.workflows.iter_run_log(done.id, stream="events"))
    measures = [next(iter(e.rule_values or {"?:?": 0})).split(":")[1] for e in events]
    frames = [e.frame or 0 for e in events]
    assert list(zip(frames, measures, strict=True)) == [
        (frame, measure) for frame in sorted(set(frames)) for measure in ("lot", "bay")
    ]
    assert len({e.trigger for e in events}) == 4
    names = client.workflows.run_log(done.id, limit=1).event_names
    assert sorted((n.name, n.kind) for n in names.values()) == [
        ("Entry · Lot", "entry"),
        ("Entry · Lot", "entry"),
        ("Exit · Lot", "exit"),
        ("Exit · Lot", "exit"),
    ]


def test_results_json_holds_each_frame_as_the_last_block_left_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    client.workflows.create("Lot", _counting_graph())
    done = _ran(client, "Lot")
    frames = _frames(client, done.id)
    [artifact] = done.artifacts
    results = httpx.Client(transport=fake.transport()).get(artifact["url"]).json()
    assert results["run_id"] == done.id
    assert [
        (r["frame"], r["image"], r["image_id"], r["track_ids"], r["occupancy"])
        for r in results["frames"]
    ] == [(f.frame, f.image, f.image_id, f.track_ids, f.measures) for f in frames]
    assert [
        [(d["class"], d["score"], d["kind"], d["box"]) for d in r["detections"]]
        for r in results["frames"]
    ] == [[(a["name"], a["score"], a["type"], a["box"]) for a in _annotations(f)] for f in frames]


# ── what a run sends and shows ──


def test_a_runs_webhook_events_carry_its_id_status_charge_and_why_it_failed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.webhooks.create(HOOK)
    inbox = Inbox()
    fake.webhooks.route(HOOK, inbox)
    done = _ran(client, "Lot")
    doomed = client.workflows.run("Lot").run_id
    client.models.delete("signs")
    fake.clock.advance(3600)
    failed = client.workflows.get_run(doomed)
    assert failed.created_at is not None
    # It failed when it would have ended, however late it is read.
    assert failed.completed_at == failed.created_at + timedelta(seconds=2 + 5 + 20 * 0.071)
    assert inbox.types() == ["workflow_run.completed", "workflow_run.failed"]
    completed, crashed = (r.json() for r in inbox.requests)
    assert completed["data"] == {
        "run_id": done.id,
        "workflow_id": done.workflow_id,
        "status": "completed",
        "final_micro_usd": done.final_micro_usd,
    }
    assert crashed["data"]["status"] == "error"
    assert crashed["data"]["run_id"] == doomed
    assert failed.error is not None
    assert crashed["message"] == failed.error
    job = client.jobs.get(doomed)
    assert (job.status, job.error) == ("failed", failed.error)


def test_the_jobs_feed_shows_an_organizations_own_live_runs_only(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization()
    other.add_dataset(DATASET, images=20, completed_images=20, classes=["stop_sign", "yield"])
    other.add_export(DATASET, EXPORT)
    with other.client(max_retries=0) as theirs:
        _train(theirs)
        theirs.workflows.create("Lot", detection_graph("signs"))
        _train(client)
        client.workflows.create("Lot", detection_graph("signs"))
        theirs.workflows.run("Lot")
        mine = client.workflows.run("Lot", gpu="l4").run_id
    [job] = client.jobs.list(type="workflow_run", status="queued")
    assert (job.id, job.detail["gpu"]) == (mine, "l4")


def test_runs_made_at_the_instant_of_a_training_run_are_in_the_feed_after_it(
    client: pictograph.Client,
) -> None:
    _lot(client)
    training = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="signs 2", wait=False
    ).id
    first = client.workflows.run("Lot").run_id
    second = client.workflows.run("Lot").run_id
    made = {training, first, second}
    listed = [j for j in client.jobs.list(status="all") if j.id in made]
    assert len({j.created_at for j in listed}) == 1
    assert [j.id for j in listed] == [second, first, training]
