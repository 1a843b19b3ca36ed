"""``/api/v1/developer/models/``: trained models, their versions, files and downloads."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import (
    Call,
    Reply,
    bulk_reply,
    check_fields,
    id_list,
    name_field,
    page,
    reply,
)
from pictograph_testing.world.artifacts import file_bytes
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.models import UNBUILT_FORMATS, WEIGHT_FORMATS, version_files

if TYPE_CHECKING:
    from pictograph_testing.world.state import Model, ModelVersion

__all__ = ["model_payload", "route"]

MODEL_TYPES = (
    "object_detection",
    "semantic_segmentation",
    "instance_segmentation",
    "classification",
    "keypoint_detection",
)
MODEL_STATUSES = ("training", "ready", "failed", "archived")
FORMATS = (*WEIGHT_FORMATS, *sorted(UNBUILT_FORMATS))
_UPDATE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "description": str,
    "readme": str,
    "visibility": str,
    "license_id": str,
    "license_custom_text": str,
}
_PROVENANCE = {
    "schema_version": 1,
    "build_id": "pictograph-testing",
    "prep_layout_version": 2,
    "libraries": {"cv2": "4.10.0", "torch": "2.5.1"},
}


def route(call: Call) -> Reply:
    registry = call.world.registry
    match call.method, call.segments:
        case "GET", ("",):
            return _list(call)
        case "POST", ("bulk-delete",):
            return _bulk_delete(call)
        case "GET", (ref,) if ref:
            return reply({"data": model_payload(call, registry.find(call.key, ref))})
        case "PATCH", (ref,) if ref:
            return _update(call, registry.find(call.key, ref))
        case "DELETE", (ref,) if ref:
            model = registry.find(call.key, ref)
            registry.delete(call.key, model)
            return reply({"data": {"id": model.id, "name": model.name, "deleted": True}})
        case "GET", (ref, "versions") if ref:
            return reply({"data": _versions(call, registry.find(call.key, ref))})
        case "PATCH", (ref, "current-version") if ref:
            return _set_current(call, registry.find(call.key, ref))
        case "GET", (ref, "files") if ref:
            return reply({"data": _manifest(call, registry.find(call.key, ref))})
        case "GET", (ref, "download") if ref:
            return _download(call, registry.find(call.key, ref))
        case "GET", (ref, "files", "download") if ref:
            return _download_file(call, registry.find(call.key, ref))
    raise NotFound(f"No models route {call.method} /models/{'/'.join(call.segments)}")


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
        "forked_from_model_id": None,
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


def _list(call: Call) -> Reply:
    limit, offset = call.page_window(cap=100)
    models = call.world.registry.listing(
        call.key,
        name=call.text("name"),
        dataset_name=call.text("dataset_name"),
        status=call.choice("status", MODEL_STATUSES),
        model_type=call.choice("model_type", MODEL_TYPES),
    )
    chunk, pagination = page(models, offset, limit)
    return reply({"data": [model_payload(call, m) for m in chunk], "pagination": pagination})


def _update(call: Call, model: Model) -> Reply:
    body = call.json_object()
    check_fields(body, required={}, optional=_UPDATE_FIELDS)
    if not body:
        raise InvalidRequest(
            "Send at least one field to change.",
            errors=[field_error(("body",), "At least one field is required", "missing")],
        )
    name_field(body, "name")
    if "name" in body and body["name"] is None:
        raise InvalidRequest(
            "A model's name cannot be null.",
            errors=[field_error(("body", "name"), "Input should be a valid string", "string_type")],
        )
    if body.get("visibility") not in (None, "private", "public"):
        raise InvalidRequest(
            f"Invalid visibility '{body['visibility']}': choose 'private' or 'public'.",
            errors=[
                field_error(
                    ("body", "visibility"), "Input should be 'private' or 'public'", "literal_error"
                )
            ],
        )
    if "visibility" in body and body["visibility"] is None:
        del body["visibility"]
    updated = call.world.registry.update(call.key, model, body)
    return reply({"data": model_payload(call, updated)})


def _bulk_delete(call: Call) -> Reply:
    model_ids = id_list(call, "model_ids", "model")
    succeeded, not_found = call.world.registry.bulk_delete(call.key, model_ids)
    return bulk_reply(succeeded, not_found, legacy_deleted=True)


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


def _set_current(call: Call, model: Model) -> Reply:
    body = call.json_object()
    check_fields(body, required={"version_id": (str, type(None))}, optional={})
    version_id = body["version_id"]
    if version_id is not None:
        version_id = _canonical_uuid(version_id, ("body", "version_id"))
    call.world.registry.set_current_version(call.key, model, version_id)
    return reply({"data": _versions(call, model)})


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
    path = call.world.storage.sign(name, content_type, lambda: _blob(call, model, version, name))
    return call.base_url + path


def _ready(model: Model) -> None:
    if model.status != "ready":
        raise InvalidRequest(
            f"Model status is '{model.status}'; only 'ready' models can be downloaded.",
            status=400,
        )


def _download(call: Call, model: Model) -> Reply:
    fmt = call.choice("format", FORMATS, default="onnx")
    precision = call.choice("precision", ("fp32", "fp16"))
    assert fmt is not None
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
    raw_version = call.text("version_id")
    name = call.text("name")
    if not raw_version or not name:
        missing = [p for p, v in (("version_id", raw_version), ("name", name)) if not v]
        raise InvalidRequest(
            "Query parameters version_id and name are required.",
            errors=[field_error(("query", p), "Field required", "missing") for p in missing],
        )
    version = model.version(_canonical_uuid(raw_version, ("query", "version_id")))
    if version is None:
        raise NotFound(f"Version '{raw_version}' not found for model '{model.name}'")
    entry = call.world.registry.file(model, version, name)
    url = _signed(call, model, version, entry.name, entry.content_type)
    return reply(
        {"data": {"download_url": url, "filename": entry.name, "content_type": entry.content_type}}
    )


def _canonical_uuid(value: str, loc: tuple[str, ...]) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidRequest(
            f"'{value}' is not a valid version id (a UUID).",
            errors=[field_error(loc, "Input should be a valid UUID", "uuid_parsing")],
        ) from None
