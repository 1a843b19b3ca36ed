"""``/api/v1/developer/models/``: trained models, their versions, files and downloads."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    BY_NAME_PATHS,
    LEGACY_ENVELOPES,
    MODEL_FORMATS_BY_RELEASE,
    Wire,
)
from pictograph_testing.api.spec import ID_LIST, NAME, Field, Obj, Param, Str
from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, bulk_reply, page, page_params, reply
from pictograph_testing.catalog import MODEL_TYPES
from pictograph_testing.world.artifacts import file_bytes
from pictograph_testing.world.entities import MODEL_STATUSES, VISIBILITIES
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound
from pictograph_testing.world.models import UNBUILT_FORMATS, WEIGHT_FORMATS, version_files

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Model, ModelVersion

__all__ = ["FORMATS", "MODEL_WIRE", "UPDATE", "model_payload"]

MODEL_WIRE = Wire(LEGACY_ENVELOPES, envelope="model", note="`model`")
"""One model under ``model``, as releases before 1.61.0 read it."""
FORMATS = (*WEIGHT_FORMATS, *sorted(UNBUILT_FORMATS))
PRECISIONS = ("fp32", "fp16")
UPDATE = Obj(
    {
        "name": Field(NAME, nullable=False),
        "description": Field(Str()),
        "readme": Field(Str()),
        "visibility": Field(Str(enum=VISIBILITIES)),
        "license_id": Field(Str()),
        "license_custom_text": Field(Str()),
    },
    at_least_one="key",
)
_PROVENANCE = {
    "schema_version": 1,
    "build_id": "pictograph-testing",
    "prep_layout_version": 2,
    "libraries": {"cv2": "4.10.0", "torch": "2.5.1"},
}


@endpoint(
    "GET",
    "models/",
    summary="List trained models",
    sdk=("models.list", "models.iter", "models.get_by_name"),
    reply=Page("Model"),
    query=(
        *page_params(100),
        Param("name", Str()),
        Param("dataset_name", Str()),
        Param("status", Str(enum=MODEL_STATUSES)),
        Param("model_type", Str(enum=MODEL_TYPES)),
    ),
    wires=(Wire(LEGACY_ENVELOPES, envelope="models", note="`models`"),),
)
def list_models(call: Call) -> Reply:
    args = call.args
    models = call.world.registry.listing(
        call.key,
        name=args["name"],
        dataset_name=args["dataset_name"],
        status=args["status"],
        model_type=args["model_type"],
    )
    chunk, pagination = page(models, args["offset"], args["limit"])
    return reply({"data": [model_payload(call, m) for m in chunk], "pagination": pagination})


@endpoint(
    "POST",
    "models/bulk-delete",
    summary="Delete many models",
    sdk=("models.bulk_delete",),
    reply=Data("BulkDeleteResult"),
    body=Obj({"model_ids": Field(ID_LIST("model id strings"), required=True)}),
    errors=(403,),
    role="admin",
    action="delete models",
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="the result at the root"),),
)
def bulk_delete(call: Call) -> Reply:
    registry = call.world.registry
    succeeded, not_found = registry.bulk_delete(call.key, call.fields()["model_ids"])
    return bulk_reply(succeeded, not_found, legacy_deleted=True)


@endpoint(
    "GET",
    "models/{model}",
    summary="A model by id or name",
    sdk=("models.get",),
    reply=Data("Model"),
    wires=(MODEL_WIRE,),
    aliases=(("models/by-name/{model}", BY_NAME_PATHS),),
)
def get_model(call: Call) -> Reply:
    return reply({"data": model_payload(call, _model(call))})


@endpoint(
    "PATCH",
    "models/{model}",
    summary="Rename or describe a model, or change its visibility",
    sdk=("models.update",),
    reply=Data("Model"),
    body=UPDATE,
    errors=(400, 403),
    role="member",
    action="update models",
    wires=(MODEL_WIRE,),
    aliases=(("models/by-name/{model}", BY_NAME_PATHS),),
)
def update_model(call: Call) -> Reply:
    changes = {k: v for k, v in call.fields().items() if not (k == "visibility" and v is None)}
    updated = call.world.registry.update(call.key, _model(call), changes)
    return reply({"data": model_payload(call, updated)})


@endpoint(
    "DELETE",
    "models/{model}",
    summary="Delete a model and its files",
    sdk=("models.delete",),
    reply=Data("Deleted"),
    errors=(403,),
    role="admin",
    action="delete models",
    aliases=(("models/by-name/{model}", BY_NAME_PATHS),),
)
def delete_model(call: Call) -> Reply:
    model = _model(call)
    call.world.registry.delete(call.key, model)
    return reply({"data": {"id": model.id, "name": model.name, "deleted": True}})


@endpoint(
    "GET",
    "models/{model}/versions",
    summary="A model's versions, newest first",
    sdk=("models.versions",),
    reply=Data("ModelVersionsPayload"),
    aliases=(("models/by-name/{model}/versions", BY_NAME_PATHS),),
)
def versions(call: Call) -> Reply:
    return reply({"data": _versions(call, _model(call))})


@endpoint(
    "PATCH",
    "models/{model}/current-version",
    summary="Pin a version as current (null: follow the latest)",
    sdk=("models.set_current_version",),
    reply=Data("ModelVersionsPayload"),
    body=Obj({"version_id": Field(Str(format="uuid"), required=True, nullable=True)}),
    errors=(403,),
    role="admin",
    action="pin a model version",
    aliases=(("models/by-name/{model}/current-version", BY_NAME_PATHS),),
)
def set_current_version(call: Call) -> Reply:
    model = _model(call)
    version_id = call.fields()["version_id"]
    if version_id is not None:
        version_id = str(uuid.UUID(version_id))
    call.world.registry.set_current_version(call.key, model, version_id)
    return reply({"data": _versions(call, model)})


@endpoint(
    "GET",
    "models/{model}/files",
    summary="Every file of every version",
    sdk=("models.files",),
    reply=Data("ModelFileManifest"),
    aliases=(("models/by-name/{model}/files", BY_NAME_PATHS),),
)
def files(call: Call) -> Reply:
    return reply({"data": _manifest(call, _model(call))})


@endpoint(
    "GET",
    "models/{model}/download",
    summary="A signed URL for the current version's weights",
    sdk=("models.download",),
    reply=Data("ModelDownload"),
    wires=(Wire(LEGACY_ENVELOPES, hoist=True, note="`download_url` at the root"),),
    query=(
        Param("format", Str(enum=FORMATS), default="onnx"),
        Param("precision", Str(enum=PRECISIONS)),
    ),
    values=(MODEL_FORMATS_BY_RELEASE,),
    errors=(400, 409),
    aliases=(("models/by-name/{model}/download", BY_NAME_PATHS),),
)
def download(call: Call) -> Reply:
    return _download(call, _model(call))


@endpoint(
    "GET",
    "models/{model}/files/download",
    summary="A signed URL for one file of one version",
    sdk=("models.download_file",),
    reply=Data("ModelFileDownload"),
    query=(
        Param("version_id", Str(format="uuid"), required=True),
        Param("name", Str(min_length=1), required=True),
    ),
    aliases=(("models/by-name/{model}/files/download", BY_NAME_PATHS),),
)
def download_file(call: Call) -> Reply:
    return _download_file(call, _model(call))


def _model(call: Call) -> Model:
    return call.world.registry.find(call.key, call.path_args["model"])


def model_payload(call: Call, model: Model) -> dict[str, Any]:
    current = model.current
    config = current.training_config
    return {
        "id": model.id,
        "organization_id": model.organization_id,
        "name": model.name,
        "description": model.description,
        "model_type": model.model_type,
        "architecture": current.architecture,
        "visibility": model.visibility,
        "status": model.status,
        "metrics": current.metrics,
        "class_mapping": {"classes": current.classes},
        "training_config": config,
        "version": current.label,
        "parent_model_id": None,
        "forked_from_model_id": model.forked_from_model_id,
        "precision": current.precision,
        "created_at": call.iso(model.created_at),
        "updated_at": call.iso(model.updated_at),
        "current_version_id": current.id,
        "pipeline_type": model.pipeline_type,
        "dataset_id": model.dataset_id,
        "dataset_name": model.dataset_name,
        "readme": model.readme,
        "license_id": model.license_id,
    }


def _version_entry(call: Call, model: Model, version: ModelVersion) -> dict[str, Any]:
    current = version.id == model.current.id
    return {
        "id": version.id,
        "version_id": version.id,
        "version_number": version.number,
        "version_label": version.label,
        "created_at": call.iso(version.created_at),
        "status": version.status,
        "is_latest": current,
        "is_current": current,
        "precision": version.precision,
        "training_run_id": version.training_run_id,
        "architecture": version.architecture,
        "metrics": version.metrics,
        "export_name": version.export_name,
        "pipeline_provenance": _PROVENANCE,
    }


def _versions(call: Call, model: Model) -> dict[str, Any]:
    return {
        "versions": [_version_entry(call, model, v) for v in reversed(model.versions)],
        "current_version_id": model.current.id,
        "pinned_version_id": model.pinned_version_id,
        "latest_version_id": model.latest.id,
    }


def _manifest(call: Call, model: Model) -> dict[str, Any]:
    files = []
    for version in reversed(model.versions):
        for entry in version_files():
            files.append(
                {
                    "version_id": version.id,
                    "name": entry.name,
                    "kind": entry.kind,
                    "format": entry.format,
                    "size_bytes": len(_blob(call, model, version, entry.name)),
                    "content_type": entry.content_type,
                    "updated_at": call.iso(version.created_at),
                    "runtime": entry.runtime,
                    "precision": version.precision if entry.kind == "weights" else None,
                    "target_key": None,
                    "toolchain_version": None,
                    "stale": False,
                    "artifact_id": None,
                }
            )
    return {
        "versions": [_version_entry(call, model, v) for v in reversed(model.versions)],
        "files": files,
        "pinned_version_id": model.pinned_version_id,
    }


def _blob(call: Call, model: Model, version: ModelVersion, name: str) -> bytes:
    return call.world.storage.cached((version.id, name), lambda: file_bytes(model, version, name))


def _signed(call: Call, model: Model, version: ModelVersion, name: str, content_type: str) -> str:
    path = call.world.storage.sign(
        f"model/{version.id}/{name}",
        name,
        content_type,
        lambda: _blob(call, model, version, name),
    )
    return call.base_url + path


def _ready(model: Model) -> None:
    if model.status != "ready":
        raise InvalidRequest(
            f"Model status is '{model.status}'; only 'ready' models can be downloaded.",
            status=400,
        )


def _download(call: Call, model: Model) -> Reply:
    fmt, precision = call.args["format"], call.args["precision"]
    _ready(model)
    if fmt in UNBUILT_FORMATS:
        raise Conflict(
            f"No {fmt} build of model '{model.name}' exists yet; available formats: "
            + ", ".join(WEIGHT_FORMATS)
        )
    version = model.current
    if precision is not None and precision != version.precision:
        raise Conflict(
            f"Model '{model.name}' has no {precision} {fmt} build; available precision: "
            f"{version.precision}"
        )
    filename = WEIGHT_FORMATS[fmt][0]
    url = _signed(call, model, version, filename, "application/octet-stream")
    return reply(
        {
            "data": {
                "download_url": url,
                "model_name": model.name,
                "filename": filename,
                "content_type": "application/octet-stream",
                "version_id": version.id,
            }
        }
    )


def _download_file(call: Call, model: Model) -> Reply:
    raw_version, name = call.args["version_id"], call.args["name"]
    version = model.version(str(uuid.UUID(raw_version)))
    if version is None:
        raise NotFound(f"Version '{raw_version}' not found for model '{model.name}'")
    entry = call.world.registry.file(model, version, name)
    url = _signed(call, model, version, entry.name, entry.content_type)
    return reply(
        {"data": {"download_url": url, "filename": entry.name, "content_type": entry.content_type}}
    )
