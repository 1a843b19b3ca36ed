"""``/api/v1/developer/training/``: runs, quotes and cancels, in the shapes the SDK parses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.caches import RunWire
from pictograph_testing.api.credits import legacy_refusal
from pictograph_testing.api.dialects import (
    BY_NAME_PATHS,
    GPU_COUNT,
    GPU_TYPES_BY_RELEASE,
    INTEGER_CREDITS,
    LEGACY_ENVELOPES,
    PIPELINES_BY_RELEASE,
    Wire,
)
from pictograph_testing.api.spec import (
    EXAMPLE_DATASET,
    EXAMPLE_EXPORT,
    ID_LIST,
    NAME,
    Field,
    Int,
    Json,
    Obj,
    Param,
    Str,
)
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import (
    Call,
    Reply,
    bulk_reply,
    encode_text,
    page,
    page_params,
    reply,
)
from pictograph_testing.catalog import GPU_CHOICES, PIPELINES
from pictograph_testing.world.entities import RUN_STATUSES, TERMINAL
from pictograph_testing.world.training import (
    CONFIG_LIMITS,
    RunRequest,
    eta_seconds,
    run_state,
    running_snapshot,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import TrainingRun
    from pictograph_testing.world.training import Quote

__all__ = ["CREATE", "QUOTE", "RUN_PLAN", "run_payload", "run_reply"]

CONFIG_DOC = {
    "type": "object",
    "description": "Pipeline settings; unknown keys are kept with the run.",
    "properties": {
        name: {"type": "integer", "minimum": low, "maximum": high}
        for name, (low, high) in CONFIG_LIMITS.items()
    },
}
RUN_PLAN: dict[str, Field] = {
    "dataset_name": Field(Str(example=EXAMPLE_DATASET), required=True),
    "export_name": Field(Str(example=EXAMPLE_EXPORT), required=True),
    # Which pipelines and tiers a world takes depends on its profile: the world checks.
    "pipeline_type": Field(Str(enum=tuple(PIPELINES), enforced=False), required=True),
    "gpu_type": Field(Str(enum=GPU_CHOICES, enforced=False)),
    "config": Field(Json(doc=CONFIG_DOC)),
    "version_of_model_id": Field(Str(format="uuid")),
}
_RUN_WIRE = Wire(LEGACY_ENVELOPES, envelope="training_run", note="`training_run`")
CREATE = Obj(
    {
        **RUN_PLAN,
        # The guide: a run without a name is called `<pipeline>-run-<timestamp>`.
        "name": Field(NAME),
    }
)
QUOTE = Obj(RUN_PLAN)


@endpoint(
    "GET",
    "training/{run}",
    summary="A run by id or name (the newest of that name)",
    sdk=("training.get", "training.wait_for_completion", "jobs.get"),
    reply=Data("TrainingRun"),
    wires=(_RUN_WIRE,),
    aliases=(("training/by-name/{run}", BY_NAME_PATHS),),
)
def get_run(call: Call) -> Reply:
    return run_reply(call, call.world.training.find(call.key, call.path_args["run"]))


@endpoint(
    "GET",
    "training/",
    summary="List training runs, newest first",
    sdk=("training.list", "training.iter"),
    reply=Page("TrainingRun"),
    wires=(Wire(LEGACY_ENVELOPES, envelope="training_runs", note="`training_runs`"),),
    query=(
        *page_params(1000),
        Param("dataset_name", Str()),
        Param("status", Str(enum=RUN_STATUSES)),
    ),
)
def list_runs(call: Call) -> Reply:
    runs = call.world.training.listing(
        call.key, dataset_name=call.args["dataset_name"], status=call.args["status"]
    )
    chunk, pagination = page(runs, call.args["offset"], call.args["limit"])
    return reply({"data": [run_payload(call, r) for r in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "training/",
    summary="Start a training run",
    sdk=("training.create",),
    reply=Data("TrainingRun"),
    body=CREATE,
    errors=(400, 402, 403, 409),
    values=(PIPELINES_BY_RELEASE, GPU_TYPES_BY_RELEASE),
    wires=(
        Wire(
            INTEGER_CREDITS,
            envelope="training_run",
            refuse=legacy_refusal,
            note="`training_run`; a 402 in whole credits",
        ),
        _RUN_WIRE,
        Wire(
            GPU_COUNT,
            extra_fields={"gpu_count": Field(Int(minimum=1, maximum=4))},
            note="takes `gpu_count` (and ignores it)",
        ),
    ),
    role="member",
    action="start training runs",
)
def create_run(call: Call) -> Reply:
    return run_reply(
        call, call.world.training.create(call.key, _plan_request(call, with_name=True))
    )


@endpoint(
    "POST",
    "training/quote",
    summary="Check and price a run without starting it",
    sdk=("training.quote",),
    reply=Data("TrainingQuote"),
    body=QUOTE,
    errors=(400,),
    values=(PIPELINES_BY_RELEASE, GPU_TYPES_BY_RELEASE),
)
def quote_run(call: Call) -> Reply:
    return _quote(call)


@endpoint(
    "POST",
    "training/bulk-cancel",
    summary="Cancel many runs",
    sdk=("training.bulk_cancel",),
    reply=Data("BulkActionResult"),
    body=Obj({"run_ids": Field(ID_LIST("run id strings", at_least=1), required=True)}),
    errors=(403,),
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="the result at the root"),),
    role="member",
    action="cancel training runs",
)
def bulk_cancel(call: Call) -> Reply:
    succeeded, not_found = call.world.training.bulk_cancel(call.key, call.fields()["run_ids"])
    return bulk_reply(succeeded, not_found, legacy_deleted=False)


@endpoint(
    "POST",
    "training/{run}/cancel",
    summary="Cancel a run",
    sdk=("training.cancel", "jobs.cancel"),
    reply=Data("TrainingRun"),
    errors=(400, 403),
    wires=(_RUN_WIRE,),
    aliases=(("training/by-name/{run}/cancel", BY_NAME_PATHS),),
    role="member",
    action="cancel training runs",
)
def cancel_run(call: Call) -> Reply:
    training = call.world.training
    return run_reply(
        call, training.cancel(call.key, training.find(call.key, call.path_args["run"]))
    )


def _plan_request(call: Call, *, with_name: bool) -> RunRequest:
    body = call.fields()
    return RunRequest(
        dataset_name=body["dataset_name"],
        export_name=body["export_name"],
        pipeline_type=body["pipeline_type"],
        gpu_type=body.get("gpu_type"),
        config=body.get("config") or {},
        name=body.get("name") if with_name else None,
        version_of_model_id=body.get("version_of_model_id"),
    )


def run_payload(call: Call, run: TrainingRun) -> dict[str, Any]:
    """The ``TrainingRun`` object at the call's virtual instant."""
    return {**_fixed_fields(call, run), **_live_fields(call, run)}


def run_reply(call: Call, run: TrainingRun) -> Reply:
    """``{"data": TrainingRun}``, encoded without a general-purpose JSON pass.

    Polling is the hot path of every test that waits for a run. The fields that never
    change are encoded once per run, the metrics once per finished epoch, and the few
    live scalars are written directly; the bytes parse to ``{"data": run_payload(...)}``.
    """
    wire = call.cache.runs.get(run.id)
    if wire is None:
        fixed = encode_text(_fixed_fields(call, run))[:-1]
        wire = call.cache.runs[run.id] = RunWire('{"data":' + fixed)
    now = call.now
    started = run.started_at
    if started is not None and now >= started and run.status not in TERMINAL:
        # Training: run_state's running view, written without building the view.
        progress, epoch, metrics, eta = running_snapshot(run, now)
        metrics_json = wire.metrics.get(epoch)
        if metrics_json is None:
            metrics_json = wire.metrics[epoch] = encode_text(metrics)
        if wire.running_since != started:
            # What a running run's last fields say is fixed from its start until it ends.
            wire.running_since = started
            wire.running_tail = (
                ',"training_time_seconds":null,"model_id":null,"error_message":null,'
                f'"warnings":{_warnings(run)},"started_at":"{call.iso(started)}",'
                '"completed_at":null}}'
            )
        # Text joined, then encoded once: cheaper than formatting bytes with `%`.
        return Reply(
            200,
            f'{wire.head},"status":"running","progress":{progress},"current_epoch":{epoch},'
            f'"metrics":{metrics_json},"eta_seconds":{eta}{wire.running_tail}'.encode(),
        )
    # Queued or ended: read far less often than a running run is polled.
    view = run_state(run, now)
    error = "null" if view.error_message is None else encode_text(view.error_message)
    return Reply(
        200,
        (
            f'{wire.head},"status":"{view.status}","progress":{view.progress},'
            f'"current_epoch":{view.epoch},"metrics":{encode_text(view.metrics)},'
            f'"eta_seconds":{_number(eta_seconds(run, now))},'
            f'"training_time_seconds":{_number(view.training_seconds)},'
            f'"model_id":{_plain(view.model_id)},'
            f'"error_message":{error},'
            f'"warnings":{_warnings(run)},'
            f'"started_at":{_plain(call.iso(view.started_at))},'
            f'"completed_at":{_plain(call.iso(view.completed_at))}}}}}'
        ).encode(),
    )


def _warnings(run: TrainingRun) -> str:
    # Most runs leave no class out: their warnings are a plain null.
    return "null" if run.warning is None else encode_text([run.warning])


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def _plain(value: str | None) -> str:
    # Only for ids and timestamps, which never hold a character JSON must escape.
    return "null" if value is None else f'"{value}"'


def _fixed_fields(call: Call, run: TrainingRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "organization_id": run.organization_id,
        "name": run.name,
        "dataset_id": run.dataset_id,
        "export_id": run.export_id,
        "export_name": run.export_name,
        "pipeline_type": run.pipeline_type,
        "gpu_type": run.gpu_type,
        "total_epochs": run.plan.epochs,
        "config": run.config,
        "created_at": call.iso(run.created_at),
        "created_by": run.created_by,
    }


def _live_fields(call: Call, run: TrainingRun) -> dict[str, Any]:
    view = run_state(run, call.now)
    return {
        "status": view.status,
        "progress": view.progress,
        "current_epoch": view.epoch,
        "metrics": view.metrics,
        "eta_seconds": eta_seconds(run, call.now),
        "training_time_seconds": view.training_seconds,
        "model_id": view.model_id,
        "error_message": view.error_message,
        "warnings": None if run.warning is None else [run.warning],
        "started_at": call.iso(view.started_at),
        "completed_at": call.iso(view.completed_at),
    }


def _quote(call: Call) -> Reply:
    quote = call.world.training.quote(call.key, _plan_request(call, with_name=False))
    admission = quote.admission
    plan = admission.plan
    note = (
        "the run is pre-charged and refunded what it does not use."
        if quote.billing == "prepaid"
        else "a run is billed once, when it succeeds, for the GPU time it used."
    )
    payload = {
        "dataset_id": admission.dataset.id,
        "dataset_name": admission.dataset.name,
        "export_id": admission.export.id,
        "export_name": admission.export.name,
        "image_count": admission.export.image_count,
        "annotation_count": admission.export.annotation_count,
        "pipeline_type": admission.pipeline.name,
        "requested_gpu_type": admission.requested_gpu,
        "gpu_type": plan.tier.name,
        "fits": quote.fits,
        "recommended_gpu_type": admission.recommended_gpu,
        "gpu_autoselect": admission.autoselect,
        "tiers": [
            {
                "gpu_type": fit.tier.name,
                "total_mib": fit.tier.total_mib,
                "fits": fit.fits,
                "micro_usd_per_minute": fit.micro_usd_per_minute,
            }
            for fit in quote.tiers
        ],
        "epochs": plan.epochs,
        "classes": admission.classes,
        "class_support": _class_support(quote),
        "deleted_images": admission.export.image_count - admission.support.images,
        "estimate": {
            "minutes": quote.minutes,
            "micro_usd_per_minute": quote.micro_usd_per_minute,
            "total_micro_usd": quote.total_micro_usd,
            "note": f"An estimate only: {note}",
        },
        "balance": {
            "budget_remaining_micro_usd": quote.spendable_micro_usd,
            "required_to_start_micro_usd": quote.required_to_start_micro_usd,
            "covers_estimate": quote.covers_estimate,
        },
        "can_start": quote.can_start,
        "blocking": [{"code": b.code, "message": b.message} for b in quote.blocking],
        "config": admission.config,
    }
    return reply({"data": payload})


def _class_support(quote: Quote) -> dict[str, Any]:
    admission = quote.admission
    pipeline = admission.pipeline
    export = admission.export
    support = admission.support
    assigned = support.split == "assigned"
    return {
        "pipeline_type": pipeline.name,
        "unit": pipeline.support_unit,
        "trains_on": pipeline.trains_on,
        "split": support.split,
        "images": support.images,
        "export_images": export.image_count,
        "classes": [
            {
                "name": count.name,
                "support": count.support,
                "train": count.train if assigned else None,
                "val": count.val if assigned else None,
                "test": count.test if assigned else None,
                "trainable": count.trainable,
                "reason": count.reason,
            }
            for count in support.classes
        ],
        "untrainable": [count.name for count in support.untrainable],
        "multi_tag_images": support.multi_tag_images,
    }
