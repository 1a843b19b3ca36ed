"""Make a model version's files on demand, the same bytes every time.

- ``model.onnx``: a tiny, valid ONNX graph whose input and outputs are the ones the
  SDK's local inference reads for the model's type (see
  :mod:`pictograph_testing.world.onnx_graphs`), seeded by the version id, written
  without the ``onnx`` package (:mod:`pictograph_testing.world.onnx_proto`).
- ``model.safetensors``: a valid safetensors file holding the graph's learned tensors,
  by the same names and shapes as the ONNX initializers (needs no extra package).
- ``model.pth``: a text placeholder, deliberately. A real checkpoint is a pickle that
  only ``torch.load`` can judge, torch is not a dependency, and the SDK's ``.pth`` path
  rebuilds the full training architecture, which no few-KB file could satisfy.
- ``config.json``: what the SDK's loader reads (``_pictograph``) and what
  ``training.create(config=...)`` takes back.
"""

from __future__ import annotations

import json
import struct
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import PIPELINES
from pictograph_testing.world.onnx_graphs import (
    KEYPOINTS_PER_CLASS,
    Graph,
    GraphSpec,
    build_graph,
    onnx_bytes,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Model, ModelVersion

__all__ = ["config_document", "file_bytes", "graph_spec"]

_DEFAULT_SIDE = 640
"""The SDK loader's own default when a config declares no input size."""


def _input_shape(version: ModelVersion) -> tuple[int, int]:
    config = version.training_config
    return (
        int(config.get("image_height", _DEFAULT_SIDE)),
        int(config.get("image_width", _DEFAULT_SIDE)),
    )


def graph_spec(model: Model, version: ModelVersion) -> GraphSpec:
    """Return what ``version``'s weights depend on: type, architecture, classes, size, id."""
    height, width = _input_shape(version)
    return GraphSpec(
        model_type=model.model_type,
        architecture=version.architecture,
        classes=tuple(version.classes),
        height=height,
        width=width,
        seed=version.id,
    )


def _keypoint_schema(classes: list[str]) -> dict[str, Any]:
    # Must agree with the graph's keypoints output: KEYPOINTS_PER_CLASS joints for
    # every class, chained by a skeleton that is 1-indexed on the wire (COCO style).
    joints = KEYPOINTS_PER_CLASS
    return {
        "class_names": list(classes),
        "num_keypoints_per_class": [joints] * len(classes),
        "keypoint_names": {c: [f"{c}_point_{i}" for i in range(joints)] for c in classes},
        "skeleton": {c: [[i, i + 1] for i in range(1, joints)] for c in classes},
    }


def config_document(model: Model, version: ModelVersion) -> dict[str, Any]:
    """The ``config.json`` the SDK's loader reads and ``training.create`` takes back."""
    pipeline = PIPELINES[model.pipeline_type]
    config = {k: v for k, v in version.training_config.items() if k != "gpu_autoselect"}
    envelope: dict[str, Any] = {
        "schema_version": 1,
        "pipeline": pipeline.name,
        "model_type": model.model_type,
        "architecture": version.architecture,
        "class_mapping": {"classes": list(version.classes)},
        "input_shape": list(_input_shape(version)),
        # A version a scenario wrote by hand may not say: the model's name then.
        "name": version.model_name or model.name,
        "export_name": version.export_name,
        "dataset_name": model.dataset_name,
    }
    if model.model_type == "keypoint_detection":
        envelope["keypoint_schema"] = _keypoint_schema(version.classes)
    return {"_pictograph": envelope, "config": config}


def _safetensors(model: Model, version: ModelVersion, graph: Graph) -> bytes:
    tensors = graph.weights()
    header: dict[str, Any] = {
        "__metadata__": {
            "format": "pt",
            "model_id": model.id,
            "version_id": version.id,
            "architecture": version.architecture,
        }
    }
    offset = 0
    for name, tensor in tensors.items():
        header[name] = {
            "dtype": tensor.dtype,
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(tensor.raw)],
        }
        offset += len(tensor.raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    # The format pads the header with spaces so the tensor data starts 8-aligned.
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(t.raw for t in tensors.values())


def _onnx(model: Model, version: ModelVersion, graph: Graph) -> bytes:
    metadata = (
        ("pictograph.model_type", model.model_type),
        ("pictograph.architecture", version.architecture),
        ("pictograph.classes", json.dumps(list(version.classes))),
        ("pictograph.version_id", version.id),
    )
    return onnx_bytes(graph, metadata)


def _placeholder(model: Model, version: ModelVersion, name: str) -> bytes:
    # Deterministic and self-describing, so a test that opens it sees what it is.
    return (
        f"pictograph-testing placeholder weights\nfile: {name}\nmodel: {model.id}\n"
        f"version: {version.id}\narchitecture: {version.architecture}\n"
        f"classes: {','.join(version.classes)}\n"
    ).encode()


def file_bytes(model: Model, version: ModelVersion, name: str) -> bytes:
    """Return the content of file ``name`` of ``version``."""
    if name == "config.json":
        return json.dumps(config_document(model, version), indent=2).encode()
    if name == "model.onnx":
        return _onnx(model, version, build_graph(graph_spec(model, version)))
    if name == "model.safetensors":
        return _safetensors(model, version, build_graph(graph_spec(model, version)))
    return _placeholder(model, version, name)
