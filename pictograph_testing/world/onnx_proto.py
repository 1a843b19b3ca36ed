"""Write a :class:`~pictograph_testing.world.onnx_graphs.Graph` as ONNX protobuf bytes.

A hand-written encoder for the few messages a small inference graph needs
(``ModelProto``, ``GraphProto``, ``NodeProto``, ``AttributeProto``, ``TensorProto``,
``ValueInfoProto`` / ``TypeProto``, ``OperatorSetIdProto``,
``StringStringEntryProto``), so a plain install serves real graphs without the
``onnx`` package, which pulls in protobuf and numpy for what is here a few hundred
lines of bytes.

The output is the canonical encoding, the one ``onnx`` itself writes for the same
model: fields in field-number order, repeated scalars unpacked (``onnx.proto`` is
proto2, where repeated ``int64`` is not packed by default), every field the ONNX
helpers set written even when it holds its default (proto2 keeps presence, so the
empty default opset domain is there). The field numbers are ``onnx.proto``'s; they
are frozen by the format, so this module never needs to follow ``onnx`` releases.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.onnx_graphs import Graph, Node, Port, Tensor

__all__ = ["model_bytes"]

# TensorProto.DataType
_FLOAT = 1
_INT64 = 7
_DTYPES = {"F32": _FLOAT, "I64": _INT64}
# AttributeProto.AttributeType
_ATTR_FLOAT = 1
_ATTR_INT = 2
_ATTR_INTS = 7

_VARINT = 0
_LENGTH = 2
_FIXED32 = 5


def _varint(value: int) -> bytes:
    # Negative int64s go out as their 64-bit two's complement: ten bytes, as protobuf does.
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _int(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value)


def _float(field: int, value: float) -> bytes:
    return _key(field, _FIXED32) + struct.pack("<f", value)


def _message(field: int, payload: bytes) -> bytes:
    """A length-delimited field: a sub-message, a string or raw bytes."""
    return _key(field, _LENGTH) + _varint(len(payload)) + payload


def _text(field: int, value: str) -> bytes:
    return _message(field, value.encode())


def _tensor(name: str, tensor: Tensor) -> bytes:
    """``TensorProto``: dims (1), data_type (2), name (8), raw_data (9)."""
    return (
        b"".join(_int(1, d) for d in tensor.shape)
        + _int(2, _DTYPES[tensor.dtype])
        + _text(8, name)
        + _message(9, tensor.raw)
    )


def _value_info(port: Port) -> bytes:
    """``ValueInfoProto`` of a float tensor with a static shape."""
    dims = b"".join(_message(1, _int(1, d)) for d in port.shape)  # Dimension.dim_value
    tensor_type = _int(1, _FLOAT) + _message(2, dims)  # elem_type, shape
    return _text(1, port.name) + _message(2, _message(1, tensor_type))  # name, type


def _attribute(name: str, value: int | float | tuple[int, ...]) -> bytes:
    """``AttributeProto``: name (1), then f (2), i (3) or ints (8), then type (20)."""
    if isinstance(value, tuple):
        return _text(1, name) + b"".join(_int(8, v) for v in value) + _int(20, _ATTR_INTS)
    if isinstance(value, int):
        return _text(1, name) + _int(3, value) + _int(20, _ATTR_INT)
    return _text(1, name) + _float(2, value) + _int(20, _ATTR_FLOAT)


def _node(index: int, node: Node) -> bytes:
    """``NodeProto``: inputs (1), outputs (2), name (3), op_type (4), attributes (5)."""
    return (
        b"".join(_text(1, i) for i in node.inputs)
        + b"".join(_text(2, o) for o in node.outputs)
        + _text(3, f"{node.op_type}_{index}")
        + _text(4, node.op_type)
        + b"".join(_message(5, _attribute(k, v)) for k, v in node.attributes)
    )


def _graph(graph: Graph) -> bytes:
    """``GraphProto``: nodes (1), name (2), initializers (5), input (11), outputs (12)."""
    spec = graph.spec
    return (
        b"".join(_message(1, _node(i, n)) for i, n in enumerate(graph.nodes))
        + _text(2, spec.architecture or spec.layout)
        + b"".join(_message(5, _tensor(name, t)) for name, t in graph.initializers)
        + _message(11, _value_info(graph.input))
        + b"".join(_message(12, _value_info(p)) for p in graph.outputs)
    )


def _entries(metadata: Iterable[tuple[str, str]]) -> bytes:
    """``metadata_props`` (14): ``StringStringEntryProto`` key (1), value (2)."""
    return b"".join(_message(14, _text(1, k) + _text(2, v)) for k, v in metadata)


def model_bytes(
    graph: Graph,
    *,
    ir_version: int,
    opset: int,
    producer_name: str,
    producer_version: str,
    doc_string: str,
    metadata: Sequence[tuple[str, str]] = (),
) -> bytes:
    """Serialise ``graph`` as an ONNX ``ModelProto`` importing the default domain at ``opset``.

    ``metadata`` lands in ``metadata_props`` in the given order. Pure: the same
    arguments give the same bytes in every process.
    """
    opset_import = _text(1, "") + _int(2, opset)  # domain, version
    return (
        _int(1, ir_version)
        + _text(2, producer_name)
        + _text(3, producer_version)
        + _text(6, doc_string)
        + _message(7, _graph(graph))
        + _message(8, opset_import)
        + _entries(metadata)
    )
