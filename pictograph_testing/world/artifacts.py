"""The bytes of a model version's files, made on demand and the same every time."""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import PIPELINES

if TYPE_CHECKING:
    from pictograph_testing.world.state import Model, ModelVersion

__all__ = ["config_document", "file_bytes"]


def config_document(model: Model, version: ModelVersion) -> dict[str, Any]:
    """The ``config.json`` the SDK's loader reads and ``training.create`` takes back."""
    pipeline = PIPELINES[model.pipeline_type]
    config = {k: v for k, v in version.training_config.items() if k != "gpu_autoselect"}
    return {
        "_pictograph": {
            "schema_version": 1,
            "pipeline": pipeline.name,
            "model_type": model.model_type,
            "architecture": version.architecture,
            "class_mapping": {"classes": list(version.classes)},
            "input_shape": [
                int(config.get("image_height", 640)),
                int(config.get("image_width", 640)),
            ],
            "name": model.name,
            "export_name": version.export_name,
            "dataset_name": model.dataset_name,
        },
        "config": config,
    }


def _safetensors(model: Model, version: ModelVersion) -> bytes:
    # A structurally valid file (the SDK checks the header): one small F32 tensor.
    values = [((i * 37 + version.number) % 97) / 97.0 for i in range(len(version.classes) * 4)]
    data = struct.pack(f"<{len(values)}f", *values)
    header = {
        "__metadata__": {"format": "pt", "model_id": model.id, "version_id": version.id},
        "head.weight": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]},
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data


def file_bytes(model: Model, version: ModelVersion, name: str) -> bytes:
    """Return the content of file ``name`` of ``version`` (a placeholder for weights)."""
    if name == "config.json":
        return json.dumps(config_document(model, version), indent=2).encode()
    if name == "model.safetensors":
        return _safetensors(model, version)
    # Weights stand-in: deterministic and self-describing until real graphs are generated.
    return (
        f"pictograph-testing placeholder weights\nfile: {name}\nmodel: {model.id}\n"
        f"version: {version.id}\narchitecture: {version.architecture}\n"
        f"classes: {','.join(version.classes)}\n"
    ).encode()
