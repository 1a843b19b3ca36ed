"""``models/{id}/predict`` (hosted test inference) and ``models/{org}/{model}/fork``."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from pictograph_testing.api import messages
from pictograph_testing.api.dialects import MODEL_FORKS_BY_ID, MODEL_FORKS_BY_NAME
from pictograph_testing.api.models import MODEL_WIRE, model_payload
from pictograph_testing.api.spec import NAME, Field, Int, Num, Obj, Param
from pictograph_testing.api.table import Data, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import HOSTED_INFERENCE
from pictograph_testing.world.errors import Conflict, InvalidRequest, field_error
from pictograph_testing.world.predictions import (
    UnreadableImage,
    decoded_image_size,
    predict,
    render_result,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Model

__all__ = ["multipart_file", "multipart_parts"]

_PART_NAME = re.compile(rb'\bname="([^"]*)"')

_FORK_NAME = replace(NAME, status=400)
"""A fork's name: the fork route checks it itself, so a bad one is a 400, not the 422 of
the API's validation (the wire spec, models.fork: over 100 characters is a 400)."""


@endpoint(
    "POST",
    "models/{model}/predict",
    summary="Run one image through the model (hosted test inference, free)",
    sdk=("models.predict",),
    reply=Data("ModelPredictResult"),
    query=(
        Param(
            "confidence_threshold",
            Num(minimum=HOSTED_INFERENCE.min_confidence, maximum=HOSTED_INFERENCE.max_confidence),
            default=0.5,
        ),
        Param("top_k", Int(minimum=1, maximum=HOSTED_INFERENCE.max_top_k), default=3),
    ),
    errors=(403, 409, 413, 429),
    role="member",
    action="run hosted inference",
)
def predict_image(call: Call) -> Reply:
    model = call.world.registry.find(call.key, call.path_args["model"])
    content = multipart_file(call.body, "file")
    limit = HOSTED_INFERENCE.max_image_bytes
    if len(content) > limit:
        raise InvalidRequest(
            messages.IMAGE_TOO_LARGE.format(size=len(content), limit=limit // (1024 * 1024)),
            status=413,
            code="payload_too_large",
            errors=[field_error(("body", "file"), "File too large", "too_large")],
        )
    if not content:
        raise InvalidRequest(
            messages.IMAGE_EMPTY,
            errors=[field_error(("body", "file"), "File is empty", "value_error")],
        )
    if model.status != "ready":
        raise Conflict(
            f"Model '{model.name}' is {model.status}; only a ready model runs inference."
        )
    try:
        width, height = decoded_image_size(content)
    except UnreadableImage as exc:
        raise InvalidRequest(
            str(exc), errors=[field_error(("body", "file"), str(exc), "value_error")]
        ) from None
    # Validated in full: only now does the call take from the shared pool.
    call.world.inference_pool.admit(call.now)
    found = predict(
        call.world,
        model,
        model.current,
        content,
        confidence=call.args["confidence_threshold"],
        top_k=call.args["top_k"],
        organization_id=call.key.organization_id,
    )
    return reply({"data": render_result(model, found, width=width, height=height)})


@endpoint(
    "POST",
    "models/{organization}/{model}/fork",
    summary="Copy a public model of any organization into yours",
    sdk=("models.fork",),
    reply=Data("Model"),
    status=201,
    body=Obj({"name": Field(_FORK_NAME)}),
    body_optional=True,
    errors=(400, 403),
    role="member",
    action="create models",
    span=MODEL_FORKS_BY_NAME,
    aliases=(("models/{model}/fork", MODEL_FORKS_BY_ID),),
    wires=(MODEL_WIRE,),
)
def fork_model(call: Call) -> Reply:
    registry = call.world.registry
    organization = call.path_args.get("organization")
    copy: Model = (
        registry.fork_by_id(call.key, call.path_args["model"])
        if organization is None
        else registry.fork(
            call.key, organization, call.path_args["model"], call.fields().get("name")
        )
    )
    return reply({"data": model_payload(call, copy)}, status=201)


def multipart_file(body: bytes, field_name: str) -> bytes:
    """The bytes of the part named ``field_name`` of a ``multipart/form-data`` body.

    The boundary is read from the body's first line, which is where clients put it (no
    preamble); 422 when the body is not multipart or has no such part.
    """
    for name, payload in multipart_parts(body, field_name):
        if name == field_name:
            return payload
    raise _no_file(field_name)


def multipart_parts(body: bytes, file_field: str = "file") -> list[tuple[str, bytes]]:
    """Every part of a ``multipart/form-data`` body, as ``(name, bytes)`` in the order
    sent (a repeated field is several parts); 422 naming ``file_field`` when the body is
    not multipart."""
    first, _, _ = body.partition(b"\r\n")
    if not first.startswith(b"--") or len(first) < 3:
        raise _no_file(file_field)
    delimiter = b"\r\n" + first
    parts = []
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, payload = part.partition(b"\r\n\r\n")
        disposition = next(
            (
                line
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-disposition:")
            ),
            b"",
        )
        named = _PART_NAME.search(disposition)
        if named is not None:
            parts.append((named.group(1).decode("utf-8", "replace"), payload))
    return parts


def _no_file(field_name: str) -> InvalidRequest:
    return InvalidRequest(
        messages.MULTIPART_FILE_REQUIRED.format(field=field_name),
        errors=[field_error(("body", field_name), "Field required", "missing")],
    )
