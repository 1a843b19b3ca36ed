"""What a stream runs on, and what its engine makes of each frame.

A deployment's stream runs each frame through its model, as its ``infer`` does; a
workflow endpoint's runs each frame through every block of the workflow's graph, as a
run does (its Model blocks, its Filter, its tracker, its lines and zones), and each frame
carries its lines' and zones' counts so far (``measures``, by the names its endpoint's
``live.measures`` gives). A frame's findings are seeded by the stream and the frame, so
the same seed streams the same frames.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from pictograph_testing.world.deployments import engine_timings
from pictograph_testing.world.errors import NotFound
from pictograph_testing.world.predictions import predict_for
from pictograph_testing.world.streams import LoggedFrame
from pictograph_testing.world.workflow_endpoints import served_graph
from pictograph_testing.world.workflow_nodes import topological
from pictograph_testing.world.workflow_runs import (
    Frame,
    execute_blocks,
    seconds_per_frame,
    zone_event,
)

if TYPE_CHECKING:
    from pictograph_testing.world.deployments import Deployment
    from pictograph_testing.world.entities import Model
    from pictograph_testing.world.predictions import Prediction
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import Camera, Stream
    from pictograph_testing.world.workflow_endpoints import Endpoint
    from pictograph_testing.world.workflows import Workflow

__all__ = ["DeploymentHost", "WorkflowHost"]


class DeploymentHost:
    """A deployment's streams: each frame through its model, at its inference defaults."""

    what = "deployment"

    def __init__(self, world: World, deployment: Deployment) -> None:
        self._world = world
        self.deployment = deployment

    @property
    def id(self) -> str:
        return self.deployment.id

    @property
    def status(self) -> str:
        return self.deployment.status

    def stream_limit(self) -> int:
        return self.deployment.stream_limit()

    def activity(self, now: float) -> None:
        self._world.deployments.stream_activity(self.deployment, now)

    def version(self) -> None:
        """A deployment's streams run its model: nothing to keep with each."""
        return

    def frame(self, stream: Stream, camera: Camera, index: int) -> dict[str, Any]:
        deployment = self.deployment
        world = self._world
        decode, infer, total = engine_timings(deployment, camera.width, camera.height)
        found: list[Prediction] = []
        task = deployment.model_type
        model = world.models.get(deployment.model_id)
        version = model.version(deployment.version_id) if model is not None else None
        if model is not None and version is not None:
            options = deployment.inference_config
            found = predict_for(
                world,
                model,
                version,
                _digest(stream, index),
                camera.width,
                camera.height,
                None,
                confidence=float(options.get("confidence", 0.5)),
                top_k=options.get("top_k"),
            )
            if options.get("class_filter"):
                found = [p for p in found if p.name in options["class_filter"]]
        return _message(
            stream,
            camera,
            index,
            {"total": total, "engine": round(decode + infer, 3), "inference": infer},
            {"name": deployment.model_name, "task": task},
            found,
        )


class _Plan:
    """One graph as a stream runs it: its blocks in order, and each Model block's model."""

    def __init__(self, world: World, organization_id: str, graph: dict[str, Any]) -> None:
        self.graph = graph
        self.order = topological(graph)
        # Each Model block's model, as a run resolves them (a model deleted since is gone).
        self.models: dict[str, Model] = {}
        for node in self.order:
            if node["type"] == "model":
                try:
                    model = world.registry.of_organization(
                        organization_id, str(node["config"].get("model"))
                    )
                except NotFound:
                    continue
                self.models[node["id"]] = model


class WorkflowHost:
    """A workflow endpoint's streams: each frame through every block of its graph.

    A stream runs the graph its endpoint served when it opened (:meth:`version`): a save
    is live from the endpoint's next stream on.
    """

    what = "workflow endpoint"

    def __init__(self, world: World, endpoint: Endpoint, workflow: Workflow) -> None:
        self._world = world
        self.endpoint = endpoint
        self._organization_id = workflow.organization_id
        self._served = served_graph(endpoint, workflow)
        self._plans: dict[int, _Plan] = {}
        """Each graph's plan, by the graph's identity (a graph is never changed in place:
        a save puts a new one in the workflow)."""

    def version(self) -> dict[str, Any]:
        """The graph a stream opened now runs: the one the endpoint serves."""
        return self._served

    def _plan(self, stream: Stream) -> _Plan:
        graph = stream.runs if stream.runs is not None else self._served
        plan = self._plans.get(id(graph))
        if plan is None or plan.graph is not graph:
            plan = self._plans[id(graph)] = _Plan(self._world, self._organization_id, graph)
        return plan

    @property
    def id(self) -> str:
        return self.endpoint.id

    @property
    def status(self) -> str:
        return self.endpoint.status

    def stream_limit(self) -> int:
        return self.endpoint.stream_limit()

    def activity(self, now: float) -> None:
        """Its warm containers are billed whether or not it streams (see the endpoints)."""

    def frame(self, stream: Stream, camera: Camera, index: int) -> dict[str, Any]:
        logged = self.fold(stream, camera, index)
        total = self.latency_ms(stream)
        first = self.first_model(stream)
        message = _message(
            stream,
            camera,
            index,
            {"total": total, "engine": total, "inference": total},
            {"name": first.name, "task": first.model_type} if first is not None else None,
            logged.frame.found,
        )
        message["measures"] = logged.measures
        return message

    def latency_ms(self, stream: Stream) -> float:
        """What a frame of ``stream`` takes through every block of its graph, in ms."""
        return round(seconds_per_frame(self._plan(stream).order, self.endpoint.gpu) * 1000, 3)

    def first_model(self, stream: Stream) -> Model | None:
        """The model of ``stream``'s graph's first Model block (one deleted is none)."""
        return next(iter(self._plan(stream).models.values()), None)

    def fold_until(self, stream: Stream, now: float) -> None:
        """Log every frame its camera sent by ``now`` (or by its end)."""
        camera = stream.camera
        if camera is None:
            return
        end = stream.end()[0]
        sent = stream.frames_before(now + 1e-9) if end > now else stream.frames_before(end)
        if sent:
            self.fold(stream, camera, sent - 1)

    def fold(self, stream: Stream, camera: Camera, index: int) -> LoggedFrame:
        """Frame ``index`` through the graph, with its lines' and zones' counts so far;
        the frames before it are logged first, as lines and zones count across frames."""
        log = stream.log
        while log.folded <= index:
            frame = self._run(stream, camera, log.folded)
            log.add(LoggedFrame(frame, stream.frame_time(frame.index), self._count(stream, frame)))
        found = log.frame(index)
        if found is None:  # read so late it left the log: run it again (counts as now)
            found = LoggedFrame(
                self._run(stream, camera, index), stream.frame_time(index), log.counts_now()
            )
        return found

    def _run(self, stream: Stream, camera: Camera, index: int) -> Frame:
        frame = Frame(
            index, f"{stream.id}#{index}", None, camera.width, camera.height, _digest(stream, index)
        )
        plan = self._plan(stream)
        if plan.models.keys() >= {n["id"] for n in plan.order if n["type"] == "model"}:
            execute_blocks(plan.order, [frame], plan.models, self._world)
        return frame

    def _count(self, stream: Stream, frame: Frame) -> dict[str, dict[str, int]]:
        """Add ``frame`` to each line's and zone's counts, and log its zones' events: a
        zone's ``in`` and ``out`` count its occupancy's rises and falls, its ``total`` is
        who is inside now; a line counts no crossing (the fake's frames do not move)."""
        log = stream.log
        counts = log.counts
        for node in self._plan(stream).order:
            if node["type"] != "measure":
                continue
            for geometry in node["config"].get("geometries") or []:
                name = geometry["name"]
                these = counts.setdefault(name, {"in": 0, "out": 0, "total": 0})
                if geometry["kind"] == "line":
                    continue
                inside, before = frame.occupancy.get(name, 0), these["total"]
                if inside != before:
                    these["in" if inside > before else "out"] += abs(inside - before)
                    these["total"] = inside
                    log.add_event(zone_event(node["id"], name, frame, before, inside))
        return log.counts_now()


def _digest(stream: Stream, index: int) -> str:
    return hashlib.sha256(f"stream:{stream.id}:{index}".encode()).hexdigest()


def _message(
    stream: Stream,
    camera: Camera,
    index: int,
    latency: dict[str, float],
    model: dict[str, str] | None,
    found: list[Prediction],
) -> dict[str, Any]:
    """A frame message as the engine sends it, the Pictograph JSON under ``pictograph``."""
    classifier = model is not None and model["task"] == "classification"
    record: dict[str, Any] = {
        "image_width": camera.width,
        "image_height": camera.height,
        "image_tags": [p.name for p in found] if classifier else [],
        "annotation_count": len(found),
        "annotations": []
        if classifier
        else [
            {"id": f"{stream.id}-{index}-{n}", **p.annotation()}
            for n, p in enumerate(found, start=1)
        ],
    }
    message: dict[str, Any] = {
        "type": "frame",
        "schema": 2,
        "engine": "pictograph-prt",
        "source": stream.id,
        "frame": index,
        "pts": round(index / camera.fps, 6),
        "latency_ms": latency,
        "model": model,
    }
    if classifier:
        message["tag_confidences"] = {p.name: p.score for p in found}
    message["pictograph"] = record
    return message
