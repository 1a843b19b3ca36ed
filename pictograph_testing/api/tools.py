"""``/api/v1/developer/tools/vision``: the vision tools an organization can call, and how.

A tool is SAM3 (built in), each ready model, each active deployment and each workflow.
:data:`TOOL_KINDS` is the catalogue: for each kind, in the order a listing gives them,
where its tools come from, how a handle finds one and how its card is written. The
listing, the cards and the docs are derived from it.

A card is written from what the world stores (a model's classes and type, a
deployment's GPU and settings, a workflow's graph read through the block catalogue) and
from the prices in ``catalog.py``, in the shapes the SDK's ``ToolCard`` parses (its
``tests/fixtures/tool_cards.json`` holds the API's own; ``tests/sdk_cards/workflow.json``
is its workflow card, which ours is held to key by key). A workflow is listed unless it
is archived (a run of it is refused): ``ready``, or ``invalid`` while its graph has
errors, so that its card can say what to fix. Its price per frame is the seconds its
blocks take a frame (:func:`~pictograph_testing.world.workflow_runs.seconds_per_frame`,
what its runs take) at its GPU's rate.
The resource arrived in SDK 1.69.98, with the same routes as today.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pictograph_testing.api.gateway import PUBLIC_API
from pictograph_testing.api.spec import Param, Str
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import (
    AUTO_ANNOTATE,
    DEPLOYMENT_GPUS,
    HOSTED_INFERENCE,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    SAM3_IMAGE_MICRO_USD,
    WORKFLOW_GPUS,
    WORKFLOW_SOURCE_LIMITS,
)
from pictograph_testing.wording import article
from pictograph_testing.world.auto_annotate import SIMILAR_MAX_IMAGES
from pictograph_testing.world.errors import Conflict, NotFound
from pictograph_testing.world.predictions import prediction_kind
from pictograph_testing.world.workflow_nodes import MEASURED, NODES, node_type
from pictograph_testing.world.workflow_runs import seconds_per_frame

if TYPE_CHECKING:
    from pictograph_testing.world.deployments import Deployment
    from pictograph_testing.world.entities import Model
    from pictograph_testing.world.workflows import Workflow

__all__ = ["INPUT_KINDS", "SAM3", "TOOL_KINDS", "ToolKind"]

PAGE_CAP = 500
"""The most tools one page holds (the SDK asks for pages of 500)."""
INPUT_KINDS = ("file", "url", "bytes", "video", "dataset")
"""Every mode answers each of these, in this order (the SDK's card tests rely on it)."""
SAM3 = "sam3"
"""SAM3's handle: the one tool with no name after its kind."""
_DEFAULT_CONFIDENCE = 0.5


@dataclass(frozen=True)
class ToolKind:
    """One kind of tool in the catalogue: what lists them and how a card describes one."""

    kind: str
    listed: Callable[[Call], Sequence[Any]]
    """The organization's callable tools of this kind, in listing order."""
    find: Callable[[Call, str], Any]
    """The tool a handle's name (or UUID) names; 404, or 409 when it cannot be called yet."""
    row: Callable[[Call, Any], dict[str, Any]]
    card: Callable[[Call, Any], dict[str, Any]]


def _inputs(**supported: str | None) -> list[dict[str, Any]]:
    """The five input kinds: a kind named here is supported, its value the note."""
    return [
        {"kind": kind, "supported": kind in supported, "note": supported.get(kind)}
        for kind in INPUT_KINDS
    ]


def _routed(*, instead: Mapping[str, str], **supported: str) -> list[dict[str, Any]]:
    """The five input kinds as :func:`_inputs` gives them, where one that is not supported
    says what to use (``instead``)."""
    return [
        {**row, "note": row["note"] if row["supported"] else instead.get(row["kind"])}
        for row in _inputs(**supported)
    ]


def _cost(
    summary: str, micro_usd: int | None, per: str | None = None, *, estimate: bool = False
) -> dict[str, Any]:
    return {"summary": summary, "micro_usd": micro_usd, "per": per, "estimate": estimate}


def _mode(
    mode: str,
    title: str,
    description: str,
    *,
    inputs: list[dict[str, Any]],
    cost: dict[str, Any],
    cli: str,
    python: str,
    writes: bool | str = False,
    requires: Sequence[str] = ("An API key with the member role or higher.",),
    returns: str | None = None,
    limits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "mode": mode,
        "title": title,
        "description": description,
        "inputs": inputs,
        "limits": limits or {},
        "requires": list(requires),
        "writes": writes,
        "cost": cost,
        "returns": returns,
        "run": {"cli": cli, "python": python, "http": None},
    }


def _one_image(rest: str) -> dict[str, Any]:
    """The limits of a mode that takes the image itself: one, of at most the API's bytes
    and pixels (the fake refuses by bytes only)."""
    megabytes, megapixels = MAX_IMAGE_BYTES // (1024 * 1024), MAX_IMAGE_PIXELS // 1_000_000
    return {
        "images_per_call": 1,
        "max_bytes": MAX_IMAGE_BYTES,
        "max_pixels": MAX_IMAGE_PIXELS,
        "note": f"One image up to {megabytes} MB and {megapixels} megapixels, {rest}",
    }


def _usd(micro_usd: int) -> str:
    return f"${micro_usd / 1_000_000:.4f}".rstrip("0").rstrip(".")


def _usd_small(micro_usd: int) -> str:
    """Dollars to two significant figures, at least four decimals: a frame's price is
    fractions of a cent ($0.0012, $0.000024)."""
    if micro_usd <= 0:
        return "$0"
    decimals = max(4, 1 - math.floor(math.log10(micro_usd / 1_000_000)))
    return f"${micro_usd / 1_000_000:.{decimals}f}"


def _size(n_bytes: int) -> str:
    """A size in the card's words: whole GB or MB."""
    gb, mb = 1024**3, 1024**2
    return f"{n_bytes // gb} GB" if n_bytes % gb == 0 else f"{n_bytes // mb} MB"


# ── SAM3 ──


def _sam3_row(call: Call, _: object = None) -> dict[str, Any]:
    return {
        "tool": SAM3,
        "kind": SAM3,
        "id": None,
        "name": "SAM3",
        "task": "promptable_segmentation",
        "status": "ready",
        "summary": (
            "SAM3 is the built-in segmentation model: it needs no training. Prompt it with "
            "a phrase, a box or a point and it returns the matching objects as polygons or "
            "boxes. Use it to draft labels for any class, including ones no model of yours "
            "knows yet."
        ),
    }


def _sam3_card(call: Call, _: object = None) -> dict[str, Any]:
    fee = _cost(
        f"{_usd(SAM3_IMAGE_MICRO_USD)} per image, charged once when a prompt on that image "
        "completes. More prompts on the same image are free; a prompt that fails is free.",
        SAM3_IMAGE_MICRO_USD,
        "image",
    )
    in_dataset = _inputs(
        dataset="One image already in a dataset: its filename, its path or its id."
    )
    prompts = (
        ("text", "Find every object a phrase describes", 'text_prompt="red car"', "--prompt car"),
        (
            "box",
            "Segment what is inside a box",
            'box={"x": 120, "y": 80, "w": 200, "h": 160}',
            "--box 120,80,200,160",
        ),
        ("point", "Segment the object under a point", "x=320, y=240", "--x 320 --y 240"),
    )
    modes = [
        _mode(
            "image",
            "Run on any image: a file, a URL or bytes",
            "Send the image itself with one prompt; nothing is saved.",
            inputs=_inputs(
                file="Over HTTP it is the multipart `file`.",
                url="The SDK fetches it on your machine, then uploads it.",
                bytes="Python (`image=<bytes>`) or the multipart `file`.",
            ),
            cost=fee,
            cli='pictograph sam3 predict photo.jpg --text "red car" --json',
            python='result = client.sam3.predict("photo.jpg", text="red car")',
            limits=_one_image("and one prompt per call: `text`, `box` or `point`."),
        ),
        *(
            _mode(
                mode,
                title,
                f"A {mode} prompt on one dataset image; nothing is saved.",
                inputs=in_dataset,
                cost=fee,
                cli=f"pictograph auto-annotate {mode} my-dataset photo.jpg {flags}",
                python=f'client.auto_annotate.{mode}("my-dataset", "photo.jpg", {argument})',
                limits={"images_per_call": 1},
            )
            for mode, title, argument, flags in prompts
        ),
        *_drafting_modes(),
    ]
    return {
        **_sam3_row(call),
        "about": None,
        "classes": [],
        "facts": {"training_required": False, "classes": "Any: you name them in the prompt."},
        "parameters": [
            {
                "name": "confidence_threshold",
                "type": "number",
                "default": None,
                "minimum": 0.0,
                "maximum": 1.0,
                "applies_to": ["image", "text", "box", "point"],
                "description": "Minimum score. Default by prompt: text 0.3, box 0.5, point 0.75.",
            }
        ],
        "output": {
            "type": "polygon",
            "description": "One annotation per region: `name` is the class, `polygon.paths` "
            "its rings, `bounding_box` encloses it, `confidence` is 0-1.",
            "coordinates": "Absolute pixels of the image, origin at the top-left.",
        },
        "modes": modes,
        "related": [],
        "notes": [],
    }


_NOT_IN_A_DATASET = {
    "file": "Upload to a dataset first.",
    "video": "Extract frames into a dataset first.",
}
_DRAFTS = "They are drafts: have a person review them before you export and train."
_DRAFTS_WRITE = "Annotations on the dataset's images."


def _drafted_dataset(
    title: str, description: str, per_image: int, price: str, *, cli: str, python: str
) -> dict[str, Any]:
    """A mode that runs a batch job over a dataset's images (or a folder's) and saves what
    it finds as drafts: at most ``AUTO_ANNOTATE.max_images`` a job, priced per image."""
    return _mode(
        "dataset",
        title,
        f"{description} {_DRAFTS}",
        inputs=_routed(
            instead=_NOT_IN_A_DATASET,
            dataset="A whole dataset, or one folder of it (`directory_path`). Images that "
            "already have annotations are skipped unless `overwrite`.",
        ),
        cost=_cost(
            f"{price} `auto_annotate.quote` prices a job before you run it.",
            per_image,
            "image",
            estimate=True,
        ),
        cli=cli,
        python=python,
        writes=_DRAFTS_WRITE,
        returns="A report: how many images were drafted, skipped (already annotated) and "
        "failed, and the job's id.",
        limits={"images_per_call": AUTO_ANNOTATE.max_images},
    )


def _drafting_modes() -> list[dict[str, Any]]:
    """SAM3's modes that save drafts on a dataset's images: by phrase (a batch job over
    the dataset or a folder) and by example (``similar``), each one job of at most so
    many images, priced per image by the fake's tariff."""
    per_image = AUTO_ANNOTATE.sam3_micro_usd_per_pass
    return [
        _drafted_dataset(
            "Draft labels on a dataset's images by phrase",
            "Runs text prompts (one per class) over a dataset's images, or one folder's, "
            "and SAVES the results as annotations.",
            per_image,
            f"About {_usd(per_image)} per image for one class, estimated; more classes and "
            "SAHI tiles add to it.",
            cli="pictograph auto-annotate dataset my-dataset --classes car:bbox --directory /val",
            python='report = client.auto_annotate.dataset("my-dataset", [("car", "bbox")])',
        ),
        _mode(
            "similar",
            "Label every object like your examples",
            "Draw polygons around an example object on one image; SAM3 finds every object "
            "like it in the other images of that image's folder, or of the whole dataset, "
            f"and SAVES each match as an annotation of the class you name. {_DRAFTS}",
            inputs=_routed(
                instead=_NOT_IN_A_DATASET,
                dataset="The example polygons on one dataset image (every polygon of a "
                "class, or by id), then the other images of its folder or, with "
                "`scope='dataset'`, of the whole dataset.",
            ),
            cost=_cost(
                f"About {_usd(per_image)} per image, estimated; the job is charged what it "
                "measured once, when it completes. `auto_annotate.quote_similar` prices it "
                "first.",
                per_image,
                "image",
                estimate=True,
            ),
            cli="pictograph auto-annotate similar my-dataset val/photo.jpg --class car",
            python='job = client.auto_annotate.similar("my-dataset", "val/photo.jpg", '
            'reference_class="car")',
            writes=_DRAFTS_WRITE,
            returns="The job: how many images it labelled and the annotations it added.",
            limits={"images_per_call": SIMILAR_MAX_IMAGES},
        ),
    ]


# ── models ──


def _ready_models(call: Call) -> Sequence[Model]:
    return call.world.registry.listing(
        call.key, name=None, dataset_name=None, status="ready", model_type=None
    )


def _model(call: Call, ref: str) -> Model:
    model = call.world.registry.find(call.key, ref)
    if model.status != "ready":
        raise Conflict(f"Model '{ref}' is not ready (status: {model.status}).")
    return model


def _task_words(model_type: str) -> str:
    """A model type as a summary words it: ``object detection``."""
    return model_type.replace("_", " ")


def _model_row(call: Call, model: Model) -> dict[str, Any]:
    classes = ", ".join(model.current.classes) or "no classes"
    task = _task_words(model.model_type)
    return {
        "tool": f"model/{model.name}",
        "kind": "model",
        "id": model.id,
        "name": model.name,
        "task": model.model_type,
        "status": model.status,
        "summary": (
            f"{article(task).capitalize()} {task} model ({model.pipeline_type}) "
            f"that predicts {classes}."
        ),
    }


def _model_card(call: Call, model: Model) -> dict[str, Any]:
    version = model.current
    kind = prediction_kind(model.model_type)
    name = model.name
    cheapest = next(iter(DEPLOYMENT_GPUS.values()))
    prices = ", ".join(
        f"{_usd(g.micro_usd_per_minute)} on {g.label}" for g in DEPLOYMENT_GPUS.values()
    )
    anywhere = dict.fromkeys(INPUT_KINDS, "Supported.")
    return {
        **_model_row(call, model),
        "about": model.description,
        "classes": [{"name": c, "type": kind} for c in version.classes],
        "facts": {
            "architecture": version.architecture,
            "precision": version.precision,
            "version": version.number,
            "trained_on": model.dataset_name,
            "export": version.export_name,
            "visibility": model.visibility,
        },
        "parameters": [
            {
                "name": "confidence",
                "type": "number",
                "default": _DEFAULT_CONFIDENCE,
                "minimum": HOSTED_INFERENCE.min_confidence,
                "maximum": HOSTED_INFERENCE.max_confidence,
                # As the API's own card: the dataset run takes a threshold too.
                "applies_to": ["hosted", "local", "dataset"],
                "description": "Minimum score a prediction needs to be returned.",
            }
        ],
        "output": {"type": kind, "description": f"One `{kind}` annotation per object found."},
        "modes": [
            _mode(
                "hosted",
                "Run one image on Pictograph (nothing to install)",
                "Send one image; its predictions come back. Nothing is saved.",
                inputs=_inputs(**anywhere),
                cost=_cost("Free on every plan.", 0),
                cli=f'pictograph models predict "{name}" photo.jpg --remote --json',
                python=f'result = client.models.predict("{name}", image="photo.jpg")',
                limits=_one_image("one per call."),
            ),
            _mode(
                "local",
                "Run it on this machine (free, any volume)",
                "Download the weights once, then run offline.",
                inputs=_inputs(**anywhere),
                cost=_cost("Free: it runs on your hardware.", 0),
                cli=f'pictograph models predict "{name}" photo.jpg',
                python=f'model = get_model("{name}", task="{model.model_type}")',
                limits={"note": "None from the platform: speed is this machine's."},
            ),
            _drafted_dataset(
                "Draft labels on a dataset's images",
                "Runs the model over images already in one of your datasets and SAVES its "
                "predictions as annotations.",
                AUTO_ANNOTATE.model_micro_usd_per_image,
                f"About {_usd(AUTO_ANNOTATE.model_micro_usd_per_image)} per image, estimated.",
                cli=f'pictograph auto-annotate dataset my-dataset --model "{name}"',
                python=f'report = client.auto_annotate.dataset("my-dataset", [], model="{name}")',
            ),
            {
                **_mode(
                    "deploy",
                    "Serve it from your own always-on endpoint",
                    "Creates a deployment (provisioning, then a TensorRT engine) billed "
                    "while a container is up.",
                    inputs=_inputs(),
                    cost={
                        **_cost(
                            f"Billed per minute a container is up: {prices}.",
                            cheapest.micro_usd_per_minute,
                            "minute",
                        ),
                        "options": [
                            {
                                "compute": g.name,
                                "label": g.label,
                                "micro_usd_per_minute": g.micro_usd_per_minute,
                            }
                            for g in DEPLOYMENT_GPUS.values()
                        ],
                    },
                    cli=f'pictograph deployments create "{name}" --gpu {cheapest.name}',
                    python=f'client.deployments.create("{name}", gpu_type="{cheapest.name}")',
                    writes="Creates a deployment, billed while it is up.",
                ),
            },
        ],
        "related": [
            {"tool": f"deployment/{d.name}", "relation": "An active endpoint serving this model."}
            for d in _active_deployments(call)
            if d.model_id == model.id
        ],
        "notes": [],
    }


# ── deployments ──


def _active_deployments(call: Call) -> Sequence[Deployment]:
    return call.world.deployments.listing(call.key, model_id=None, name=None, status="active")


def _deployment(call: Call, ref: str) -> Deployment:
    service = call.world.deployments
    named = service.listing(call.key, model_id=None, name=ref, status=None)
    found = named[0] if named else service.find(call.key, ref)
    if found.status != "active":
        raise Conflict(f"Deployment '{ref}' is not active (status: {found.status}).")
    return found


def _deployment_row(call: Call, deployment: Deployment) -> dict[str, Any]:
    gpu = DEPLOYMENT_GPUS[deployment.gpu_type]
    return {
        "tool": f"deployment/{deployment.name}",
        "kind": "deployment",
        "id": deployment.id,
        "name": deployment.name,
        "task": deployment.model_type,
        "status": deployment.status,
        # The API's words: the GPU by its short name ("on T4"), the model with its task.
        "summary": f"An endpoint serving {deployment.model_name} "
        f"({_task_words(deployment.model_type)}) on {gpu.label.removesuffix(' GPU')}. "
        f"Status: {deployment.status}.",
    }


def _deployment_card(call: Call, deployment: Deployment) -> dict[str, Any]:
    gpu = DEPLOYMENT_GPUS[deployment.gpu_type]
    model = call.world.models.get(deployment.model_id)
    version = model.version(deployment.version_id) if model is not None else None
    kind = prediction_kind(deployment.model_type)
    return {
        **_deployment_row(call, deployment),
        "about": deployment.readme,
        "classes": [{"name": c, "type": kind} for c in (version.classes if version else [])],
        "facts": {
            "model": deployment.model_name,
            "compute": gpu.name,
            "precision": deployment.precision,
            "min_containers": deployment.min_containers,
            "max_containers": deployment.max_containers,
            "scaledown_seconds": deployment.scaledown_window,
        },
        "parameters": [
            {
                "name": "confidence",
                "type": "number",
                "default": None,
                "minimum": 0,
                "maximum": 1,
                "applies_to": ["endpoint"],
                "description": "Minimum score to return. Omit to use the deployment's own.",
            }
        ],
        "output": {"type": kind, "description": f"One `{kind}` annotation per object found."},
        "modes": [
            _mode(
                "endpoint",
                "Call the endpoint",
                "Send an image to the deployment's endpoint with its token.",
                inputs=_inputs(file="Supported.", url="Supported.", bytes="Supported."),
                cost=_cost(
                    f"Billed for uptime, not per call: {_usd(gpu.micro_usd_per_minute)} per "
                    "minute while a container is up.",
                    gpu.micro_usd_per_minute,
                    "minute",
                ),
                cli=f"pictograph deployments predict {deployment.name} photo.jpg",
                python=f'client.deployments.connect("{deployment.id}").infer("photo.jpg")',
                requires=("The deployment's auth token.",),
                limits={"images_per_call": 1, "note": "One image per call."},
            )
        ],
        "related": [{"tool": f"model/{deployment.model_name}", "relation": "The model it serves."}],
        "notes": [],
    }


# ── workflows ──

_BLOCK_TYPES = frozenset(block.type for block in NODES)
_TRACKER = "per_class"
"""The fake's Track block: each detection its own track, numbered per class in its frame."""
_RUN_NOTE = "The whole point: frames are sampled, tracked and measured in order."
_RUN_COST = (
    "A run is charged once, on success, for the GPU time it measured; a failed or "
    "cancelled run is free."
)
_RUN_RETURNS = (
    "A run record: `status`, `step_results` (each measure's totals, a time series and "
    "per-track values), `artifacts` (each output file with a signed `download_url`), and "
    "`warnings` (any cap that was hit). `--no-wait` returns `run_id` + `status_url` to poll "
    "instead."
)
_VALID_GRAPH = "A graph with no validation errors."


def _workflows(call: Call) -> Sequence[Workflow]:
    """The organization's workflows a run can be asked of (an archived one cannot)."""
    own = call.world.workflows.of_organization(call.key.organization_id)
    return [w for w in own if w.status != "archived"]


def _workflow(call: Call, ref: str) -> Workflow:
    workflow = call.world.workflows.get(call.key, ref)
    if workflow.status == "archived":
        raise Conflict(
            f"Workflow '{ref}' is archived (status: archived): set its status to draft or "
            "ready to run it."
        )
    return workflow


@dataclass(frozen=True)
class _Graph:
    """What a workflow's graph runs, read through the block catalogue."""

    source_kind: str | None
    models: list[dict[str, Any]]
    """Each Model block's model: its name and current classes (the ref, when it names none)."""
    resolved: list[str]
    """The names of the organization's models it runs (its ``related`` tools)."""
    tracked: bool
    measures: list[dict[str, Any]]
    outputs: list[str]
    errors: list[dict[str, Any]]
    frame_micro_usd: int


def _graph(call: Call, workflow: Workflow) -> _Graph:
    nodes = workflow.graph["nodes"]
    known = [n for n in nodes if n["type"] in _BLOCK_TYPES]
    source = next((n for n in known if n["type"] == "source"), None)
    models: list[dict[str, Any]] = []
    resolved: list[str] = []
    for node in known:
        if node["type"] != "model":
            continue
        ref = str(node["config"].get("model") or "")
        try:
            model = call.world.registry.of_organization(workflow.organization_id, ref)
        except NotFound:  # a graph's validation_errors say so; the card names the ref
            models.append({"kind": "trained", "name": ref, "classes": []})
            continue
        models.append(
            {"kind": "trained", "name": model.name, "classes": list(model.current.classes)}
        )
        resolved.append(model.name)
    outputs_default = next(f.default for f in node_type("output").fields if f.key == "format")
    outputs = [
        str(n["config"].get("format") or outputs_default) for n in known if n["type"] == "output"
    ]
    issues = call.world.workflows.issues(workflow.organization_id, workflow.graph)
    rate = WORKFLOW_GPUS[workflow.gpu].micro_usd_per_minute
    return _Graph(
        source_kind=source["config"].get("kind") if source is not None else None,
        models=models,
        resolved=list(dict.fromkeys(resolved)),
        tracked=any(n["type"] == "track" for n in known),
        measures=[
            {
                "name": g.get("name"),
                "kind": g.get("kind"),
                "measure": MEASURED.get(str(g.get("kind"))),
            }
            for n in known
            if n["type"] == "measure"
            for g in n["config"].get("geometries") or ()
            if isinstance(g, dict)
        ],
        outputs=list(dict.fromkeys(outputs)),
        errors=[i.payload() for i in issues if i.severity == "error"],
        frame_micro_usd=math.ceil(seconds_per_frame(known, workflow.gpu) * rate / 60),
    )


def _workflow_row(call: Call, workflow: Workflow) -> dict[str, Any]:
    return _workflow_summary(workflow, _graph(call, workflow))


def _workflow_summary(workflow: Workflow, graph: _Graph) -> dict[str, Any]:
    does: list[str] = []
    if graph.models:
        does.append("runs " + " + ".join(m["name"] or "an unnamed model" for m in graph.models))
    if graph.tracked:
        does.append("tracks each object across frames")
    kinds = {m["kind"] for m in graph.measures}
    if "zone" in kinds:
        does.append("counts occupancy in zones")
    if "line" in kinds:
        does.append("counts line crossings")
    what = ", ".join(does[:-1]) + (" and " if len(does) > 1 else "") + (does[-1] if does else "")
    summary = f"A workflow that {what}." if does else "A workflow that runs no model yet."
    if graph.outputs:
        summary += f" Outputs: {', '.join(graph.outputs)}."
    return {
        "tool": f"workflow/{workflow.name}",
        "kind": "workflow",
        "id": workflow.id,
        "name": workflow.name,
        "task": "workflow",
        # A graph a run would refuse is listed, so its card can say what to fix.
        "status": "invalid" if graph.errors else "ready",
        "summary": summary,
    }


def _workflow_mode(
    mode: str,
    title: str,
    description: str,
    *,
    inputs: list[dict[str, Any]],
    limits: dict[str, Any],
    cost: dict[str, Any],
    cli: str,
    python: str,
    http: str | None,
    requires: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        **_mode(
            mode,
            title,
            description,
            inputs=inputs,
            cost=cost,
            cli=cli,
            python=python,
            requires=("An API key with the member role or higher.", _VALID_GRAPH, *requires),
            returns=_RUN_RETURNS,
        ),
        "limits": limits,
        "run": {"cli": cli, "python": python, "http": http},
    }


def _invoke_python(name: str, source: str) -> str:
    head = "from pictograph import Client\n\nclient = Client()  # reads PICTOGRAPH_API_KEY\n"
    call = (
        f"run = client.workflows.invoke(\n    {json.dumps(name)},\n    source={source},\n"
        "    wait=True,\n)"
    )
    return f"{head}{call}\nprint(run.status, run.step_results)"


def _invoke_http(name: str, source: dict[str, Any]) -> str:
    url = f"{PUBLIC_API}/api/v1/developer/workflows/{quote(name)}/invoke?wait=true"
    return (
        f'curl -X POST "{url}" \\\n  -H "X-API-Key: $PICTOGRAPH_API_KEY" \\\n'
        f'  -H "Content-Type: application/json" \\\n'
        f"  -d '{json.dumps({'source': source})}'"
    )


def _workflow_card(call: Call, workflow: Workflow) -> dict[str, Any]:
    graph = _graph(call, workflow)
    name = workflow.name
    quoted = json.dumps(name)
    limits = WORKFLOW_SOURCE_LIMITS
    capped = f"A run is capped at {limits.gpu_hours_per_run} hours of GPU time."
    cost = _cost(
        f"About {_usd_small(graph.frame_micro_usd)} per frame, estimated. {_RUN_COST}",
        graph.frame_micro_usd,
        "frame",
        estimate=True,
    )
    link = "https://example.com/clip.mp4"
    dataset = {"kind": "dataset", "dataset": "my-dataset", "directory_path": "/batch-1"}
    outputs = ", ".join(graph.outputs) or "none yet"
    file_python = (
        "from pathlib import Path\n\nfrom pictograph import Client\n\n"
        "client = Client()  # reads PICTOGRAPH_API_KEY\n"
        f'run = client.workflows.invoke({quoted}, source=Path("clip.mp4"), wait=True)\n'
        "print(run.status, run.step_results)"
    )
    return {
        **_workflow_summary(workflow, graph),
        "about": workflow.readme or workflow.description,  # readme supersedes description
        "classes": [],
        "facts": {
            "source_kind": graph.source_kind,
            "models": graph.models,
            "tracker": _TRACKER if graph.tracked else None,
            "measures": graph.measures,
            "outputs": graph.outputs,
            "node_count": len(workflow.graph["nodes"]),
            "validation_errors": graph.errors,
        },
        "parameters": [
            {
                "name": "sample_fps",
                "type": "number",
                "default": None,
                "applies_to": ["file", "url"],
                "description": "Frames per second to sample from a video given as a storage "
                "URI or a link (`--video gs://...`, `--video https://...`). A local file uses "
                "the workflow's own setting.",
            }
        ],
        "output": {
            "type": "workflow_run",
            "description": f"Per-frame detections go to the outputs the graph names ({outputs}); "
            "each measure reports an aggregate, a time series and per-track values in "
            "`step_results`.",
            "coordinates": "Absolute pixels of the image you sent, origin at the top-left, x to "
            "the right and y down. Nothing is normalized to 0-1.",
            "schema": None,
            "example": None,
        },
        "modes": [
            _workflow_mode(
                "file",
                "Run it on a video or image on this machine",
                "Uploads it (a file, or bytes piped in) to your organization's storage, runs "
                "the workflow over it and waits for the result.",
                inputs=_routed(
                    file="A video or an image on disk.",
                    bytes="Python `source=<bytes>`, or the CLI's `--file -` from stdin "
                    "(pictograph 1.69.108 or newer). Whether it is a video or an image is read "
                    "from the bytes.",
                    video=_RUN_NOTE,
                    instead={
                        "url": "Use the url mode: Pictograph downloads it, nothing passes through "
                        "your machine.",
                        "dataset": "Use the dataset mode.",
                    },
                ),
                limits={"note": capped},
                cost=cost,
                cli=f"pictograph workflows invoke {quoted} --file clip.mp4",
                python=file_python,
                http=None,
            ),
            _workflow_mode(
                "url",
                "Run it on a video or image at a URL",
                "Pictograph downloads the file, runs the workflow over its copy and waits for "
                "the result. Nothing passes through your machine.",
                inputs=_routed(
                    url="A public http(s) link to the file itself, not a page that shows it. "
                    'Over HTTP the source is `{"kind": "video", "url": ...}`; the CLI and '
                    "Python (pictograph 1.69.108 or newer) read the kind from the link's "
                    "extension.",
                    video=_RUN_NOTE,
                    instead={
                        "file": "Use the file mode.",
                        "bytes": "Use the file mode.",
                        "dataset": "Use the dataset mode.",
                    },
                ),
                limits={
                    "max_video_bytes": limits.max_video_bytes,
                    "max_image_bytes": limits.max_image_bytes,
                    "download_seconds": limits.download_seconds,
                    "note": f"A video up to {_size(limits.max_video_bytes)}, an image up to "
                    f"{_size(limits.max_image_bytes)}, downloaded within "
                    f"{limits.download_seconds // 60} minutes. {capped}",
                },
                cost=cost,
                cli=f"pictograph workflows invoke {quoted} --file {link}",
                python=_invoke_python(name, json.dumps(link)),
                http=_invoke_http(name, {"kind": "video", "url": link}),
                requires=(
                    "A link anyone can download: one behind a login is refused, and so is any "
                    "address on a private network.",
                ),
            ),
            _workflow_mode(
                "dataset",
                "Run it over a dataset or one of its folders",
                "Runs the workflow over images already in one of your datasets.",
                inputs=_routed(
                    dataset="A dataset by name, optionally one directory of it. Up to "
                    f"{limits.images_per_run:,} images a run.",
                    instead={
                        "file": "Use the file mode.",
                        "url": "Use the url mode.",
                        "bytes": "Use the file mode.",
                        "video": "Use the file or url mode.",
                    },
                ),
                limits={"images_per_call": limits.images_per_run},
                cost=cost,
                cli=f"pictograph workflows invoke {quoted} --dataset my-dataset "
                "--directory /batch-1",
                python=_invoke_python(name, json.dumps(dataset)),
                http=_invoke_http(name, dataset),
            ),
        ],
        "related": [
            {"tool": f"model/{model}", "relation": "A model this workflow runs."}
            for model in graph.resolved
        ],
        "notes": [
            "A video or image already in your organization's storage runs without an upload: "
            "`--video gs://...` / `--image gs://...`.",
            f"Past runs: `pictograph workflows runs {quoted}`. Docs: "
            "https://pictograph.io/docs/workflows",
        ],
    }


TOOL_KINDS: tuple[ToolKind, ...] = (
    ToolKind(SAM3, lambda call: (None,), lambda call, ref: None, _sam3_row, _sam3_card),
    ToolKind("model", _ready_models, _model, _model_row, _model_card),
    ToolKind(
        "deployment",
        _active_deployments,
        _deployment,
        _deployment_row,
        _deployment_card,
    ),
    ToolKind("workflow", _workflows, _workflow, _workflow_row, _workflow_card),
)
"""The catalogue, in listing order: SAM3 first, then models (newest first), active
deployments (newest first) and workflows."""
_BY_KIND = {entry.kind: entry for entry in TOOL_KINDS}
_NAMED_KINDS = tuple(entry.kind for entry in TOOL_KINDS if entry.kind != SAM3)


class _Listing(Sequence[dict[str, Any]]):
    """The tools of several kinds as one sequence: a page builds only its own rows."""

    def __init__(self, call: Call, kinds: Sequence[ToolKind]) -> None:
        self._call = call
        self._parts = [(entry, entry.listed(call)) for entry in kinds]

    def __len__(self) -> int:
        return sum(len(tools) for _, tools in self._parts)

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            raise TypeError("a tool listing is read a page at a time")
        start, stop, _ = index.indices(len(self))
        rows: list[dict[str, Any]] = []
        for entry, tools in self._parts:
            if stop <= 0:
                break
            if start < len(tools):
                rows.extend(entry.row(self._call, t) for t in tools[max(start, 0) : stop])
            start -= len(tools)
            stop -= len(tools)
        return rows


@endpoint(
    "GET",
    "tools/vision/",
    summary="Every vision tool the organization can call: SAM3, ready models, active "
    "deployments, workflows",
    sdk=("tools.list",),
    reply=Page("ToolSummary"),
    query=(
        *page_params(PAGE_CAP, default=PAGE_CAP),
        Param("kind", Str(enum=tuple(e.kind for e in TOOL_KINDS))),
    ),
)
def list_tools(call: Call) -> Reply:
    kind = call.args["kind"]
    kinds = TOOL_KINDS if kind is None else (_BY_KIND[kind],)
    rows, pagination = page(_Listing(call, kinds), call.args["offset"], call.args["limit"])
    return reply({"data": list(rows), "pagination": pagination})


@endpoint(
    "GET",
    "tools/vision/sam3",
    summary="SAM3's card: its prompts, what each costs, and the exact calls",
    sdk=("tools.describe",),
    reply=Data("ToolCard"),
)
def describe_sam3(call: Call) -> Reply:
    return reply({"data": _sam3_card(call)})


@endpoint(
    "GET",
    "tools/vision/{kind}/{name}",
    summary="A model's, deployment's or workflow's card (by name, or by id)",
    sdk=("tools.describe",),
    reply=Data("ToolCard"),
    errors=(409,),
)
def describe(call: Call) -> Reply:
    kind, name = call.path_args["kind"], call.path_args["name"]
    if kind not in _NAMED_KINDS:
        raise NotFound(
            f"No tool kind '{kind}': a tool is 'sam3', or one of {', '.join(_NAMED_KINDS)} "
            "followed by '/' and its name."
        )
    entry = _BY_KIND[kind]
    return reply({"data": entry.card(call, entry.find(call, name))})
