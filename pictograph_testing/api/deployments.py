"""``/api/v1/developer/deployments/``: model deployments, their prices and their lifecycle.

Replies are keyed by resource, not ``data``: ``{"deployment": ...}``, ``{"deployments":
[...]}``, ``{"quote": ...}``, and the bulk results at the root, as SDK 1.69.146 reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import COMPUTE_TYPES, Wire
from pictograph_testing.api.gateway import endpoint_url, gateway_url
from pictograph_testing.api.spec import ID_LIST, NAME, Field, Int, Json, Obj, Param, Str
from pictograph_testing.api.table import Bare, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply
from pictograph_testing.catalog import (
    DEPLOYMENT_GPUS,
    DEPLOYMENT_MAX_CONTAINERS,
    DEPLOYMENT_MAX_MIN_CONTAINERS,
    DEPLOYMENT_PRECISIONS,
    DEPLOYMENT_REGIONS,
    DEPLOYMENT_SCALEDOWN_SECONDS,
    DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
)
from pictograph_testing.world.deployments import (
    AUTO_REGION,
    DEPLOYMENT_STATUSES,
    check_scaling,
    resolve_region,
)
from pictograph_testing.world.streams import stream_containers

if TYPE_CHECKING:
    from pictograph_testing.world.deployments import Deployment
    from pictograph_testing.world.streams import Streams

__all__ = ["deployment_payload"]

_GPUS = tuple(DEPLOYMENT_GPUS)
_PRECISIONS = tuple(p for p, _, _ in DEPLOYMENT_PRECISIONS)
_REGIONS = (AUTO_REGION, *(r for r, _, _ in DEPLOYMENT_REGIONS))
# "draft" is a workflow endpoint's state: the SDK may filter on it, and no deployment has it.
_STATUS_FILTER = (*DEPLOYMENT_STATUSES, "draft")
_MIN = Int(minimum=0, maximum=DEPLOYMENT_MAX_MIN_CONTAINERS)
_MAX = Int(minimum=1, maximum=DEPLOYMENT_MAX_CONTAINERS)
_SCALEDOWN = Int(minimum=DEPLOYMENT_SCALEDOWN_SECONDS[0], maximum=DEPLOYMENT_SCALEDOWN_SECONDS[1])
_GPU = Str(enum=_GPUS)
_COMPUTE_TYPE = Str(enum=("gpu",))
"""What releases before 1.69.127 send as `compute_type`: every deployment is on a GPU."""
_COMPUTE_TYPE_NOTE = "takes `compute_type` `gpu` (and ignores it)"
_REGION = Str(enum=_REGIONS)
CREATE = Obj(
    {
        "model_id": Field(Str(format="uuid"), required=True),
        "name": Field(NAME),
        "region": Field(_REGION),
        "gpu_type": Field(_GPU),
        "precision": Field(Str(enum=_PRECISIONS)),
        "min_containers": Field(_MIN),
        "max_containers": Field(_MAX),
        "scaledown_window": Field(_SCALEDOWN),
        "rate_limit_rpm": Field(Int(minimum=1)),
        "inference_config": Field(Json(doc={"type": "object"})),
    }
)
UPDATE = Obj(
    {
        "name": Field(NAME, nullable=False),
        "readme": Field(Str(max_length=20_000), nullable=False),
        "min_containers": Field(_MIN, nullable=False),
        "max_containers": Field(_MAX, nullable=False),
        "scaledown_window": Field(_SCALEDOWN, nullable=False),
        "rate_limit_rpm": Field(Int(minimum=0), nullable=False),
    },
    at_least_one="key",
)
_IDS = Obj({"deployment_ids": Field(ID_LIST("deployment id strings"), required=True)})
_BULK: dict[str, Any] = {"body": _IDS, "errors": (403,), "role": "member"}


@endpoint(
    "GET",
    "deployments/",
    summary="List deployments, newest first",
    sdk=("deployments.list", "deployments.iter"),
    reply=Page("Deployment", key="deployments"),
    query=(
        *page_params(100),
        Param("model_id", Str()),
        Param("name", Str()),
        Param("status", Str(enum=_STATUS_FILTER)),
    ),
)
def list_deployments(call: Call) -> Reply:
    args = call.args
    found = call.world.deployments.listing(
        call.key, model_id=args["model_id"], name=args["name"], status=args["status"]
    )
    chunk, pagination = page(found, args["offset"], args["limit"])
    return reply(
        {
            "success": True,
            "deployments": [deployment_payload(call, d) for d in chunk],
            "pagination": pagination,
        }
    )


@endpoint(
    "POST",
    "deployments/",
    summary="Deploy a ready model on a GPU (answers provisioning, with its one-time token)",
    sdk=("deployments.create",),
    reply=Bare("CreatedDeployment"),
    status=201,
    body=CREATE,
    wires=(
        # Every deployment the fake runs is on a GPU (as today's API's are): a release
        # that still names the compute type may name that one; `cpu` is refused (422).
        Wire(
            COMPUTE_TYPES,
            extra_fields={"compute_type": Field(_COMPUTE_TYPE)},
            note=_COMPUTE_TYPE_NOTE,
        ),
    ),
    role="member",
    action="create deployments",
    errors=(402, 409),
)
def create(call: Call) -> Reply:
    fields = call.fields()
    world = call.world
    model = world.registry.find(call.key, fields["model_id"])
    deployment = world.deployments.create(
        call.key,
        model,
        name=fields.get("name"),
        region=_given(fields, "region", AUTO_REGION),
        gpu_type=_given(fields, "gpu_type", "t4"),
        precision=_given(fields, "precision", "fp32"),
        min_containers=_given(fields, "min_containers", 0),
        max_containers=_given(fields, "max_containers", 1),
        scaledown_window=_given(fields, "scaledown_window", 60),
        rate_limit_rpm=fields.get("rate_limit_rpm"),
        inference_config=_given(fields, "inference_config", {}),
    )
    return reply(
        {
            "success": True,
            "deployment": deployment_payload(call, deployment),
            "auth_token": deployment.auth_token,
        },
        status=201,
    )


@endpoint(
    "GET",
    "deployments/compute-options",
    summary="The regions, GPU tiers (container and price) and precisions a deployment takes",
    sdk=("deployments.compute_options",),
    reply=Bare("DeploymentComputeOptions"),
    query=(Param("region", _REGION, default=AUTO_REGION),),
)
def compute_options(call: Call) -> Reply:
    gateway = gateway_url(call.base_url)
    return reply(
        {
            "success": True,
            "region": resolve_region(call.args["region"]),
            "regions": [
                {"id": r, "label": label, "location": where, "ping_url": f"{gateway}/{r}/ping"}
                for r, label, where in DEPLOYMENT_REGIONS
            ],
            "options": [
                {
                    "key": gpu.name,
                    "label": gpu.label,
                    "compute_type": "gpu",
                    "gpu_type": gpu.name,
                    "is_gpu": True,
                    "description": gpu.description,
                    "vram_gb": gpu.vram_gb,
                    "cpu_cores": gpu.cpu_cores,
                    "memory_gib": gpu.memory_gib,
                    "rate_per_min_micro_usd": gpu.micro_usd_per_minute,
                    "cost_per_hour_micro_usd": gpu.micro_usd_per_minute * 60,
                }
                for gpu in DEPLOYMENT_GPUS.values()
            ],
            "precisions": [
                {"precision": p, "label": label, "description": text}
                for p, label, text in DEPLOYMENT_PRECISIONS
            ],
            "transfer_per_gib_micro_usd": DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
        }
    )


@endpoint(
    "GET",
    "deployments/quote",
    summary="What a deployment would cost while it is up",
    sdk=("deployments.quote",),
    reply=Bare("DeploymentQuoteReply"),
    wires=(
        # As `create` takes it from these releases: a quote for a GPU, the only kind the
        # fake deploys; `cpu` is refused rather than answered with a GPU's price.
        Wire(
            COMPUTE_TYPES,
            extra_params=(Param("compute_type", _COMPUTE_TYPE),),
            note=_COMPUTE_TYPE_NOTE,
        ),
    ),
    query=(
        Param("gpu_type", _GPU, default="t4"),
        Param("min_containers", _MIN, default=0),
        Param("max_containers", _MAX, default=1),
        Param("region", _REGION, default=AUTO_REGION),
    ),
)
def quote(call: Call) -> Reply:
    args = call.args
    low, high = args["min_containers"], args["max_containers"]
    check_scaling(low, high, sent_in="query")
    prices = _prices(args["gpu_type"], low, high)
    warm = prices["warm_cost_per_hour_micro_usd"]
    return reply(
        {
            "success": True,
            "quote": {
                "rate_per_min_micro_usd": DEPLOYMENT_GPUS[args["gpu_type"]].micro_usd_per_minute,
                "container_cost_per_hour_micro_usd": prices["container"],
                "cost_per_hour_micro_usd": prices["cost_per_hour_micro_usd"],
                "cost_per_day_micro_usd": prices["cost_per_hour_micro_usd"] * 24,
                "warm_cost_per_hour_micro_usd": warm,
                "warm_cost_per_day_micro_usd": warm * 24,
                "max_cost_per_hour_micro_usd": prices["max_cost_per_hour_micro_usd"],
                "transfer_per_gib_micro_usd": DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
                "scale_to_zero": low == 0,
                "billing_note": (
                    "Charged only while a container is up (per started container-minute); "
                    "it scales to zero when idle."
                    if low == 0
                    else "Charged continuously for the containers kept warm (per started "
                    "container-minute)."
                ),
            },
        }
    )


@endpoint(
    "POST",
    "deployments/bulk-pause",
    summary="Pause many deployments",
    sdk=("deployments.bulk_pause",),
    reply=Bare("BulkActionResult"),
    action="pause deployments",
    **_BULK,
)
def bulk_pause(call: Call) -> Reply:
    return _bulk(call, "pause")


@endpoint(
    "POST",
    "deployments/bulk-resume",
    summary="Resume many paused deployments",
    sdk=("deployments.bulk_resume",),
    reply=Bare("BulkActionResult"),
    action="resume deployments",
    **_BULK,
)
def bulk_resume(call: Call) -> Reply:
    return _bulk(call, "resume")


@endpoint(
    "POST",
    "deployments/bulk-delete",
    summary="Delete (terminate) many deployments",
    sdk=("deployments.bulk_delete",),
    reply=Bare("BulkDeleteResult"),
    action="delete deployments",
    **_BULK,
)
def bulk_delete(call: Call) -> Reply:
    return _bulk(call, "delete")


@endpoint(
    "GET",
    "deployments/{deployment}",
    summary="A deployment by id",
    sdk=("deployments.get", "deployments.wait_until_active"),
    reply=Bare("DeploymentReply"),
)
def get_deployment(call: Call) -> Reply:
    return _answer(call, _deployment(call))


@endpoint(
    "PATCH",
    "deployments/{deployment}",
    summary="Rename it, write its README, change its autoscaling or its request ceiling",
    sdk=("deployments.update",),
    reply=Bare("DeploymentReply"),
    body=UPDATE,
    role="member",
    action="update deployments",
    errors=(402, 403, 409),
)
def update(call: Call) -> Reply:
    deployment = _deployment(call)
    return _answer(call, call.world.deployments.update(call.key, deployment, call.fields()))


@endpoint(
    "DELETE",
    "deployments/{deployment}",
    summary="Terminate a deployment and tear down its endpoint",
    sdk=("deployments.delete",),
    reply=Bare("Success"),
    role="member",
    action="delete deployments",
    errors=(403, 409),
)
def delete(call: Call) -> Reply:
    call.world.deployments.delete(_deployment(call))
    return reply({"success": True})


@endpoint(
    "POST",
    "deployments/{deployment}/pause",
    summary="Pause a deployment (stops its server and its billing)",
    sdk=("deployments.pause",),
    reply=Bare("DeploymentReply"),
    role="member",
    action="pause deployments",
    errors=(403, 409),
)
def pause(call: Call) -> Reply:
    return _answer(call, call.world.deployments.pause(_deployment(call)))


@endpoint(
    "POST",
    "deployments/{deployment}/resume",
    summary="Resume a paused deployment (provisioning again, on its model's current version)",
    sdk=("deployments.resume",),
    reply=Bare("DeploymentReply"),
    role="member",
    action="resume deployments",
    errors=(402, 403, 409),
)
def resume(call: Call) -> Reply:
    return _answer(call, call.world.deployments.resume(_deployment(call)))


# ── replies ──


def _deployment(call: Call) -> Deployment:
    return call.world.deployments.find(call.key, call.path_args["deployment"])


def _given(fields: dict[str, Any], name: str, default: Any) -> Any:
    value = fields.get(name)
    return default if value is None else value


def _answer(call: Call, deployment: Deployment) -> Reply:
    return reply({"success": True, "deployment": deployment_payload(call, deployment)})


def _bulk(call: Call, action: Any) -> Reply:
    ids = call.fields()["deployment_ids"]
    succeeded, not_found = call.world.deployments.bulk(call.key, action, ids)
    result: dict[str, Any] = {"success": True, "succeeded": succeeded}
    if action == "delete":
        result["deleted"] = succeeded  # SDKs before the rename read `deleted`
    result.update({"not_found": not_found, "count": len(succeeded)})
    return reply(result)


def _prices(gpu_type: str, low: int, high: int) -> dict[str, int]:
    container = DEPLOYMENT_GPUS[gpu_type].micro_usd_per_minute * 60
    warm = container * low
    return {
        "container": container,
        "warm_cost_per_hour_micro_usd": warm,
        "cost_per_hour_micro_usd": warm if low else container,
        "max_cost_per_hour_micro_usd": container * high,
    }


def deployment_payload(call: Call, d: Deployment) -> dict[str, Any]:
    """A deployment as the API answers it, at the call's virtual instant."""
    now = call.now
    prices = _prices(d.gpu_type, d.min_containers, d.max_containers)
    build = d.build
    return {
        "id": d.id,
        "organization_id": d.organization_id,
        "model_id": d.model_id,
        "version_id": d.version_id,
        "name": d.name,
        "readme": d.readme,
        "status": d.status,
        "region": d.region,
        "compute_type": "gpu",
        "gpu_type": d.gpu_type,
        "precision": d.precision,
        "min_containers": d.min_containers,
        "max_containers": d.max_containers,
        "scaledown_window": d.scaledown_window,
        "rate_limit_rpm": d.rate_limit_rpm,
        "endpoint_url": endpoint_url(call.base_url, d.region, d.id),
        "auth_token_prefix": d.auth_token[:14] + "…",
        "inference_config": d.inference_config,
        "engine_build": None
        if build is None
        else {
            "state": "built" if build.built(now) else "building",
            "models": [
                {
                    "model_id": build.model_id,
                    # A build is of one of its model's versions: the deployment's model.
                    "name": d.model_name,
                    "precision": build.precision,
                    "state": "built" if build.built(now) else "building",
                    "started_at": call.iso(build.started_at),
                    "estimate_s": build.estimate_s,
                    "build_s": build.ends_at - build.started_at if build.built(now) else None,
                }
            ],
        },
        "error_message": d.error_message,
        "cost_rate_per_min": DEPLOYMENT_GPUS[d.gpu_type].micro_usd_per_minute,
        "cost_per_hour_micro_usd": prices["cost_per_hour_micro_usd"],
        "max_cost_per_hour_micro_usd": prices["max_cost_per_hour_micro_usd"],
        "transfer_per_gib_micro_usd": DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
        "accrued_cost_micro_usd": d.accrued_cost,
        "uptime_seconds": int(d.uptime_seconds),
        "transfer_bytes": d.transfer_bytes,
        "transfer_cost_micro_usd": d.transfer_cost,
        "last_metered_at": call.iso(d.last_metered_at),
        "metrics": {
            "requests": d.requests,
            "errors": d.errors,
            "avg_latency_ms": round(d.latency_ms_total / d.requests, 3) if d.requests else 0.0,
            "error_rate": round(d.errors / d.requests, 4) if d.requests else 0.0,
            "last_request_at": call.iso(d.last_request_at),
        },
        "runtime": _runtime(call, d) if d.status == "active" else None,
        "stream_limit": d.stream_limit(),
        "models": {
            "id": d.model_id,
            "name": d.model_name,
            "model_type": d.model_type,
            "architecture": d.architecture,
        },
        "created_by": d.created_by,
        "created_at": call.iso(d.created_at),
        "updated_at": call.iso(d.updated_at),
        "started_at": call.iso(d.started_at),
        "paused_at": call.iso(d.paused_at),
    }


def _runtime(call: Call, d: Deployment) -> dict[str, Any]:
    awake = d.awake(call.now)
    streams: Streams | None = call.world.built("streams")
    running = streams.running_on(d.id, call.now) if streams is not None else 0
    return {
        "state": "live" if awake else "asleep",
        "containers": max(d.min_containers, 1) if awake else 0,
        "creating": 0,
        # The containers serving its streams, never counted in ``containers``.
        "streams": stream_containers(running),
        "waiting_since": None,
        "checked_at": call.iso(call.now),
    }
