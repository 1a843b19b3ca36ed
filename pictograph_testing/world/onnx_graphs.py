"""Build tiny, valid ONNX graphs that stand in for a trained model version's weights.

A completed run's ``model.onnx`` is a real graph: ``onnx.checker`` accepts it, ONNX
Runtime runs it, and the SDK's own local inference (``client.models.load``) decodes its
outputs, because every layout below is the one the SDK's vendored wrapper for that
model type reads (``pictograph/inference/_wrappers``). It is not a trained network: a
few KB of weights drawn from a generator seeded by the version id, wired so outputs
look like a model's (about three confident detections per image, boxes inside the
frame, masks and keypoints inside their boxes) and still depend on the image.

Input, for every layout: ``images`` float32 ``[1, 3, H, W]``, H and W the version's
``image_height`` / ``image_width``; the SDK reads H and W back off the graph. C is the
number of classes. Outputs, in this order (the SDK identifies RF-DETR tensors by shape,
and boxes must come first because a 3-class model's logits are 4 wide too):

=====================  ===============================  ==================================
layout (architecture)  outputs                          meaning
=====================  ===============================  ==================================
``yolox``              ``output`` [1, A, 5 + C]         YOLOX's packed head, not decoded:
(yolox-*)                                               grid offsets, log sizes, sigmoid
                                                        objectness, sigmoid class scores;
                                                        A = sum of (H//s)*(W//s) for
                                                        s in 8, 16, 32, the SDK's grid
``detr_detection``     ``boxes`` [1, 300, 4]            cx, cy, w, h normalised to [0, 1]
(rfdetr-*)             ``logits`` [1, 300, C + 1]       raw class logits; the last column
                                                        is RF-DETR's background slot
``detr_segmentation``  ``boxes`` [1, 100, 4]            as above
(rfdetr-seg-*,         ``logits`` [1, 100, C + 1]       as above
mask-rcnn-*)           ``masks`` [1, 100, H//4, W//4]   mask logits (> 0 is inside)
``detr_keypoint``      ``boxes`` [1, 300, 4]            as above
(rfdetr-keypoint-*)    ``logits`` [1, 300, C + 1]       as above
                       ``keypoints`` [1, 300, C*K, 3]   per class K joints: x, y
                                                        normalised, visibility logit
``semantic``           ``logits`` [1, C + 1, H, W]      background + one channel per
(unet-*)                                                class, raw logits; a 1-class
                       or ``mask`` [1, 1, H, W]         model has one sigmoid channel
``classification``     ``logits`` [1, C]                raw logits (the SDK softmaxes)
=====================  ===============================  ==================================

Why these and not one ``boxes`` / ``scores`` convention: the SDK runs every
``instance_segmentation`` model (Detectron2's too) through its RF-DETR-Seg decoder,
rejects a semantic graph whose channels are not C + 1 (or 1), counts YOLOX anchors
against its own grid, and takes RF-DETR logits C + 1 wide. K is
:data:`KEYPOINTS_PER_CLASS`; the ``config.json`` of a keypoint model carries the
matching ``keypoint_schema``. Every class's keypoint block holds the same joints.

Determinism: the graph is a pure function of :class:`GraphSpec`; weights come from
BLAKE2b of (seed, tensor name, counter), never ``random``; the producer, IR version
and opset are fixed (:data:`PRODUCER_VERSION` changes only when the graphs do), and
only plain protobuf fields are set (no maps, no timestamps), so the same spec gives
byte-identical files in every process, whatever its hash seed. Confident queries
sit at rows chosen with integer arithmetic, so which rows they are cannot drift with
a runtime's float rounding.

No ``onnx`` package is needed, at run time or to install: the graph is described
here in plain Python (:func:`build_graph`, also the source of the safetensors tensors,
which mirror the graph's learned initializers by name and shape) and
:mod:`pictograph_testing.world.onnx_proto` writes its protobuf bytes directly, the
same bytes ``onnx`` would write for it.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pictograph_testing.world.onnx_proto import model_bytes

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "DOC_STRING",
    "INPUT_NAME",
    "IR_VERSION",
    "KEYPOINTS_PER_CLASS",
    "OPSET",
    "PRODUCER_NAME",
    "PRODUCER_VERSION",
    "Graph",
    "GraphSpec",
    "Layout",
    "Node",
    "Port",
    "Tensor",
    "build_graph",
    "layout_for",
    "onnx_bytes",
]

Layout = Literal[
    "yolox", "detr_detection", "detr_segmentation", "detr_keypoint", "semantic", "classification"
]

IR_VERSION = 8
"""IR 8 / opset 17: loadable by every ONNX Runtime the SDK accepts (>= 1.17) and older."""
OPSET = 17
PRODUCER_NAME = "pictograph-testing"
PRODUCER_VERSION = "onnx_graphs/1"
"""Bumped when the graphs change, never with the package version, so bytes stay stable."""
INPUT_NAME = "images"
DOC_STRING = "Synthetic stand-in made by pictograph-testing: valid, not trained."
KEYPOINTS_PER_CLASS = 5
"""Joints per keypoint class: the arity the SDK measured on a real 1-class RF-DETR model."""

_HIDDEN = 8
_DETR_QUERIES = 300
# Fewer queries for masks: [queries, H/4, W/4] floats is what a test run pays per image.
_SEGMENTATION_QUERIES = 100
_MASK_STRIDE = 4
_YOLOX_STRIDES = (8, 16, 32)
_CONFIDENT_QUERIES = 3
_CONFIDENCE_BOOST = 8.0
"""Logit added to a confident query: from about sigmoid(-3) to about sigmoid(5)."""
_BACKGROUND_LOGIT = (-4.5, -3.5)


@dataclass(frozen=True)
class GraphSpec:
    """What a version's graph depends on, and nothing else."""

    model_type: str
    architecture: str
    classes: tuple[str, ...]
    height: int
    width: int
    seed: str
    """The version id: two versions of one model get different weights."""

    @property
    def layout(self) -> Layout:
        return layout_for(self.model_type, self.architecture)


@dataclass(frozen=True)
class Tensor:
    """An initializer: little-endian bytes, as both ONNX raw_data and safetensors store them."""

    dtype: Literal["F32", "I64"]
    shape: tuple[int, ...]
    raw: bytes


@dataclass(frozen=True)
class Port:
    """A graph input or output: its name and static shape."""

    name: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Node:
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: tuple[tuple[str, int | float | tuple[int, ...]], ...] = ()


@dataclass(frozen=True)
class Graph:
    """A whole graph in plain data: what :func:`onnx_bytes` and safetensors are written from."""

    spec: GraphSpec
    input: Port
    outputs: tuple[Port, ...]
    nodes: tuple[Node, ...]
    initializers: tuple[tuple[str, Tensor], ...]
    weight_names: tuple[str, ...]
    """The learned float tensors (what a checkpoint holds); the rest are shape constants."""

    def weights(self) -> dict[str, Tensor]:
        """Return the learned tensors by name, in the order they were made."""
        table = dict(self.initializers)
        return {name: table[name] for name in self.weight_names}


def layout_for(model_type: str, architecture: str) -> Layout:
    """Pick the output layout the SDK's wrapper for this model type and architecture reads."""
    if model_type == "keypoint_detection":
        return "detr_keypoint"
    if model_type == "object_detection":
        # The SDK's dispatch: a YOLOX architecture gets the YOLOX decoder, any other
        # detector the RF-DETR one.
        return "yolox" if architecture.lower().startswith("yolox") else "detr_detection"
    if model_type == "instance_segmentation":
        return "detr_segmentation"
    if model_type == "semantic_segmentation":
        return "semantic"
    if model_type == "classification":
        return "classification"
    raise ValueError(f"no ONNX layout for model type {model_type!r}")


# ── weights ──


def _unit_values(seed: str, name: str, count: int) -> list[float]:
    """``count`` floats in [0, 1) from BLAKE2b of (seed, name, block): stable everywhere."""
    values: list[float] = []
    block = 0
    while len(values) < count:
        digest = hashlib.blake2b(f"{seed}\x00{name}\x00{block}".encode(), digest_size=64).digest()
        values.extend(word / 4294967296.0 for (word,) in struct.iter_unpack("<I", digest))
        block += 1
    return values[:count]


def _f32(values: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


class _Builder:
    """Collects nodes and initializers; names are derived from a counter, so stable."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.nodes: list[Node] = []
        self.initializers: dict[str, Tensor] = {}
        self.weight_names: list[str] = []
        self._made = 0

    def weight(
        self, name: str, shape: tuple[int, ...], ranges: Sequence[tuple[float, float]]
    ) -> str:
        """A learned tensor, uniform in ``ranges[j]`` for last-axis column j.

        The last range covers every column after it, so one range means all columns.
        """
        count = math.prod(shape)
        columns = shape[-1] if shape else 1
        unit = _unit_values(self.seed, name, count)
        values = [
            low + (high - low) * u
            for i, u in enumerate(unit)
            for low, high in (ranges[min(i % columns, len(ranges) - 1)],)
        ]
        self.initializers[name] = Tensor("F32", shape, _f32(values))
        self.weight_names.append(name)
        return name

    def scalar(self, value: float) -> str:
        name = f"const/f/{value!r}"
        self.initializers.setdefault(name, Tensor("F32", (), _f32([value])))
        return name

    def ints(self, *values: int) -> str:
        name = "const/i/" + "_".join(str(v) for v in values)
        data = struct.pack(f"<{len(values)}q", *values)
        self.initializers.setdefault(name, Tensor("I64", (len(values),), data))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs: object) -> str:
        return self.multi(op_type, inputs, 1, out=out, **attrs)[0]

    def multi(
        self,
        op_type: str,
        inputs: Sequence[str],
        outputs: int,
        out: str | None = None,
        **attrs: object,
    ) -> tuple[str, ...]:
        self._made += 1
        if out is not None:
            names: tuple[str, ...] = (out,)
        else:
            names = tuple(f"{op_type.lower()}_{self._made}_{i}" for i in range(outputs))
        normalised = tuple(sorted((k, _attribute(v)) for k, v in attrs.items()))
        self.nodes.append(Node(op_type, tuple(inputs), names, normalised))
        return names


def _attribute(value: object) -> int | float | tuple[int, ...]:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, tuple | list) and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise TypeError(f"unsupported attribute value {value!r}")


# ── shared pieces ──


def _trunk(b: _Builder, pixel_scale: float) -> str:
    """``[1, HIDDEN]`` image features: per-channel means through one tanh layer."""
    pooled = b.op("GlobalAveragePool", INPUT_NAME)
    feature = b.op("Flatten", pooled, axis=1)
    # YOLOX takes raw 0..255 pixels, the others ImageNet-normalised ones: scale the
    # first layer so the tanh does not saturate on either.
    weight = b.weight("trunk.weight", (3, _HIDDEN), [(-pixel_scale, pixel_scale)])
    bias = b.weight("trunk.bias", (_HIDDEN,), [(-0.5, 0.5)])
    return b.op("Tanh", b.op("Gemm", feature, weight, bias))


def _rows(b: _Builder, count: int) -> str:
    """``[count, 1]`` row indices 0, 1, … as floats (exact up to 2**24)."""
    index = b.op("Range", b.scalar(0.0), b.scalar(float(count)), b.scalar(1.0))
    return b.op("Unsqueeze", index, b.ints(1))


def _head(
    b: _Builder,
    name: str,
    hidden: str,
    rows: str,
    width: int,
    bias: Sequence[tuple[float, float]],
) -> str:
    """``[rows, width]`` pre-activations: a per-row wave plus an image-dependent term.

    The wave (``sin(row * frequency + phase)``) is what makes rows differ without a
    stored weight per row, which keeps an 8400-anchor YOLOX head a few hundred floats.
    """
    frequency = b.weight(f"{name}.frequency", (1, width), [(0.5, 3.0)])
    phase = b.weight(f"{name}.phase", (1, width), [(0.0, 2 * math.pi)])
    wave = b.op("Sin", b.op("Add", b.op("Mul", rows, frequency), phase))
    weight = b.weight(f"{name}.weight", (_HIDDEN, width), [(-0.25, 0.25)])
    offset = b.weight(f"{name}.bias", (width,), bias)
    return b.op("Add", wave, b.op("Gemm", hidden, weight, offset))


def _confidence(b: _Builder, rows: str, count: int) -> str:
    """``[rows, 1]``: :data:`_CONFIDENCE_BOOST` on about three rows, ~0 elsewhere.

    The rows are ``start + k * period``: integer arithmetic in float32, so exact, and
    ``exp(-3 d**2)`` is 1 on them and below 0.05 one row away.
    """
    period = max(1, count // _CONFIDENT_QUERIES)
    (unit,) = _unit_values(b.seed, "confidence.start", 1)
    start = float(int(unit * period))
    distance = b.op("Mod", b.op("Add", rows, b.scalar(start)), b.scalar(float(period)), fmod=1)
    spread = b.op("Mul", b.op("Mul", distance, distance), b.scalar(-3.0))
    return b.op("Mul", b.op("Exp", spread), b.scalar(_CONFIDENCE_BOOST))


def _yolox_confidence(b: _Builder, rows: str, spec: GraphSpec) -> str:
    """``[anchors, 1]``: :data:`_CONFIDENCE_BOOST` on three anchors of the finest grid,
    ~0 elsewhere.

    The SDK pastes an image at the top left of the square input and pads the rest, and
    maps boxes back by scale alone: an anchor confident in the padding gives a box
    outside the image. So the confident anchors sit, with their whole boxes (a few
    cells wide), in the top-left square every image between 9:16 and 16:9 fills.
    """
    stride = _YOLOX_STRIDES[0]
    across = spec.width // stride
    cells = min(spec.width, spec.height) * 9 // 16 // stride
    margin = 4  # cells from the square's edges: a confident box is at most ~4 wide
    span = max(1, cells - 2 * margin)
    units = _unit_values(b.seed, "confidence.anchors", 2 * _CONFIDENT_QUERIES)
    total: str | None = None
    for k in range(_CONFIDENT_QUERIES):
        row = margin + int(units[2 * k] * span)
        column = margin + int(units[2 * k + 1] * span)
        distance = b.op("Sub", rows, b.scalar(float(row * across + column)))
        spread = b.op("Mul", b.op("Mul", distance, distance), b.scalar(-3.0))
        near = b.op("Exp", spread)
        total = near if total is None else b.op("Add", total, near)
    assert total is not None
    return b.op("Mul", total, b.scalar(_CONFIDENCE_BOOST))


def _box_parts(b: _Builder, boxes: str) -> tuple[str, str]:
    """Centres ``[N, 2]`` and half sizes ``[N, 2]`` of normalised cxcywh boxes."""
    centre, size = b.multi("Split", (boxes, b.ints(2, 2)), 2, axis=1)
    return centre, b.op("Mul", size, b.scalar(0.5))


def _detr_queries(b: _Builder, spec: GraphSpec, queries: int) -> tuple[str, str, str, str]:
    """Shared RF-DETR head: ``(hidden, rows, boxes [N, 4], logits [N, C + 1])``."""
    hidden = _trunk(b, 1.0)
    rows = _rows(b, queries)
    # Centres anywhere; widths and heights mostly 5-35% of the frame.
    box_bias = [(-0.6, 0.6), (-0.6, 0.6), (-2.2, -1.2), (-2.2, -1.2)]
    boxes = b.op("Sigmoid", _head(b, "boxes", hidden, rows, 4, box_bias))
    raw = _head(b, "logits", hidden, rows, len(spec.classes) + 1, [_BACKGROUND_LOGIT])
    logits = b.op("Add", raw, _confidence(b, rows, queries))
    return hidden, rows, boxes, logits


# ── layouts ──


def _yolox(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    anchors = sum((spec.height // s) * (spec.width // s) for s in _YOLOX_STRIDES)
    width = 5 + len(spec.classes)
    hidden = _trunk(b, 1.0 / 128.0)
    rows = _rows(b, anchors)
    bias = [(-0.5, 0.5), (-0.5, 0.5), (0.3, 1.2), (0.3, 1.2), _BACKGROUND_LOGIT]
    raw = _head(b, "head", hidden, rows, width, bias)
    centres, sizes, scores = b.multi("Split", (raw, b.ints(2, 2, width - 4)), 3, axis=1)
    # The SDK adds the grid to the offsets and exponentiates the sizes itself; the
    # exported graph has already applied the sigmoids to objectness and classes.
    boosted = b.op("Add", scores, _yolox_confidence(b, rows, spec))
    packed = b.op(
        "Concat",
        b.op("Sigmoid", centres),
        b.op("Softplus", sizes),
        b.op("Sigmoid", boosted),
        axis=1,
    )
    b.op("Unsqueeze", packed, b.ints(0), out="output")
    return (Port("output", (1, anchors, width)),)


def _detr_detection(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    n, c = _DETR_QUERIES, len(spec.classes)
    _, _, boxes, logits = _detr_queries(b, spec, n)
    b.op("Unsqueeze", boxes, b.ints(0), out="boxes")
    b.op("Unsqueeze", logits, b.ints(0), out="logits")
    return (Port("boxes", (1, n, 4)), Port("logits", (1, n, c + 1)))


def _detr_segmentation(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    n, c = _SEGMENTATION_QUERIES, len(spec.classes)
    mh, mw = spec.height // _MASK_STRIDE, spec.width // _MASK_STRIDE
    hidden, rows, boxes, logits = _detr_queries(b, spec, n)
    b.op("Unsqueeze", boxes, b.ints(0), out="boxes")
    b.op("Unsqueeze", logits, b.ints(0), out="logits")

    # Signed distance to the box edge, positive inside: the mask is the box, with
    # edges moved by the image's colours.
    centre, half = _box_parts(b, boxes)
    low, high = b.op("Sub", centre, half), b.op("Add", centre, half)
    x1, y1 = (
        b.op("Reshape", t, b.ints(1, n, 1, 1))
        for t in b.multi("Split", (low, b.ints(1, 1)), 2, axis=1)
    )
    x2, y2 = (
        b.op("Reshape", t, b.ints(1, n, 1, 1))
        for t in b.multi("Split", (high, b.ints(1, 1)), 2, axis=1)
    )
    xs = b.op("Reshape", _pixel_centres(b, mw), b.ints(1, 1, 1, mw))
    ys = b.op("Reshape", _pixel_centres(b, mh), b.ints(1, 1, mh, 1))
    across = b.op("Min", b.op("Sub", xs, x1), b.op("Sub", x2, xs))
    down = b.op("Min", b.op("Sub", ys, y1), b.op("Sub", y2, ys))
    inside = b.op("Mul", b.op("Min", across, down), b.scalar(24.0))

    stride = [_MASK_STRIDE, _MASK_STRIDE]
    small = b.op("AveragePool", INPUT_NAME, kernel_shape=stride, strides=stride)
    kernel = b.weight("masks.kernel", (1, 3, 1, 1), [(-1.0, 1.0)])
    texture = b.op("Conv", small, kernel)
    gain = b.op("Reshape", _head(b, "masks", hidden, rows, 1, [(-0.3, 0.3)]), b.ints(1, n, 1, 1))
    b.op("Add", inside, b.op("Mul", texture, b.op("Mul", gain, b.scalar(0.3))), out="masks")
    return (
        Port("boxes", (1, n, 4)),
        Port("logits", (1, n, c + 1)),
        Port("masks", (1, n, mh, mw)),
    )


def _pixel_centres(b: _Builder, count: int) -> str:
    """``[count]``: (i + 0.5) / count, a mask pixel's centre in normalised coordinates."""
    index = b.op("Range", b.scalar(0.0), b.scalar(float(count)), b.scalar(1.0))
    return b.op("Div", b.op("Add", index, b.scalar(0.5)), b.scalar(float(count)))


def _detr_keypoint(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    n, c, k = _DETR_QUERIES, len(spec.classes), KEYPOINTS_PER_CLASS
    hidden, rows, boxes, logits = _detr_queries(b, spec, n)
    b.op("Unsqueeze", boxes, b.ints(0), out="boxes")
    b.op("Unsqueeze", logits, b.ints(0), out="logits")

    # One block of K joints per query, repeated for every class: the SDK reads only
    # the predicted class's block, so a per-class weight would be dead weight.
    joint_bias = [(-1.0, 1.0), (-1.0, 1.0), (0.5, 2.5)] * k  # x, y offset; visibility
    joints = _head(b, "keypoints", hidden, rows, k * 3, joint_bias)
    shaped = b.op("Reshape", joints, b.ints(n, 1, k, 3))
    tiled = b.op("Reshape", b.op("Tile", shaped, b.ints(1, c, 1, 1)), b.ints(n, c * k, 3))
    offset, visibility = b.multi("Split", (tiled, b.ints(2, 1)), 2, axis=2)
    centre, half = _box_parts(b, boxes)
    spread = b.op("Mul", b.op("Tanh", offset), b.op("Unsqueeze", half, b.ints(1)))
    xy = b.op("Add", b.op("Unsqueeze", centre, b.ints(1)), spread)
    points = b.op("Concat", xy, visibility, axis=2)
    b.op("Unsqueeze", points, b.ints(0), out="keypoints")
    return (
        Port("boxes", (1, n, 4)),
        Port("logits", (1, n, c + 1)),
        Port("keypoints", (1, n, c * k, 3)),
    )


def _semantic(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    # Segmentation Models PyTorch as the pipeline builds it: one sigmoid channel for
    # a single class, else background plus a channel per class, raw.
    channels = 1 if len(spec.classes) == 1 else len(spec.classes) + 1
    kernel = b.weight("segmentation.kernel", (channels, 3, 1, 1), [(-1.5, 1.5)])
    bias = b.weight("segmentation.bias", (channels,), [(-0.5, 0.5)])
    raw = b.op("Conv", INPUT_NAME, kernel, bias)
    name = "mask" if channels == 1 else "logits"
    if channels == 1:
        b.op("Sigmoid", raw, out=name)
    else:
        b.op("Identity", raw, out=name)
    return (Port(name, (1, channels, spec.height, spec.width)),)


def _classification(b: _Builder, spec: GraphSpec) -> tuple[Port, ...]:
    c = len(spec.classes)
    hidden = _trunk(b, 1.0)
    weight = b.weight("classifier.weight", (_HIDDEN, c), [(-1.5, 1.5)])
    bias = b.weight("classifier.bias", (c,), [(-0.5, 0.5)])
    b.op("Gemm", hidden, weight, bias, out="logits")
    return (Port("logits", (1, c)),)


_LAYOUTS = {
    "yolox": _yolox,
    "detr_detection": _detr_detection,
    "detr_segmentation": _detr_segmentation,
    "detr_keypoint": _detr_keypoint,
    "semantic": _semantic,
    "classification": _classification,
}


@functools.lru_cache(maxsize=64)
def build_graph(spec: GraphSpec) -> Graph:
    """Describe the graph for ``spec``: ports, nodes and initializers, in plain data.

    Cached because both ``model.onnx`` and ``model.safetensors`` are made from it.
    """
    if not spec.classes:
        raise ValueError("a model graph needs at least one class")
    if spec.height < 32 or spec.width < 32:
        raise ValueError(f"input {spec.height}x{spec.width} is below the 32 px minimum")
    b = _Builder(spec.seed)
    outputs = _LAYOUTS[spec.layout](b, spec)
    return Graph(
        spec=spec,
        input=Port(INPUT_NAME, (1, 3, spec.height, spec.width)),
        outputs=outputs,
        nodes=tuple(b.nodes),
        initializers=tuple(b.initializers.items()),
        weight_names=tuple(b.weight_names),
    )


# ── serialisation ──


def onnx_bytes(graph: Graph, metadata: Sequence[tuple[str, str]] = ()) -> bytes:
    """Serialise ``graph`` as an ONNX model at :data:`IR_VERSION` / :data:`OPSET`.

    ``metadata`` lands in the model's ``metadata_props`` in the given order.
    """
    return model_bytes(
        graph,
        ir_version=IR_VERSION,
        opset=OPSET,
        producer_name=PRODUCER_NAME,
        producer_version=PRODUCER_VERSION,
        doc_string=DOC_STRING,
        metadata=metadata,
    )
