"""``/api/v1/developer/sam3``: SAM3 on an image sent with the call; nothing is saved.

``sam3.predict`` sends the image and ONE prompt as ``multipart/form-data``: ``text`` (with
``max_detections``), ``box`` (``"x,y,w,h"``, with any ``negative_box``) or ``point``
(each ``"x,y"``, a negative one ``"x,y,neg"``), plus ``output``, ``name`` and
``confidence_threshold``. What SAM3 finds is read from the image's pixels
(:mod:`pictograph_testing.world.sam3`), as for the auto-annotate prompts; the session fee
is the same, once per image by its bytes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pictograph_testing.api import messages
from pictograph_testing.api.predictions import multipart_parts
from pictograph_testing.api.table import Data, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.catalog import MAX_IMAGE_BYTES
from pictograph_testing.world.errors import InvalidRequest, field_error
from pictograph_testing.world.predictions import UnreadableImage

if TYPE_CHECKING:
    from pictograph_testing.world.sam3 import Picture, Region

__all__ = ["PROMPT_DEFAULT_CONFIDENCE", "PROMPT_FIELDS"]

PROMPT_FIELDS = ("text", "box", "point")
PROMPT_DEFAULT_CONFIDENCE = {"text": 0.3, "box": 0.5, "point": 0.75}
"""The minimum score when none is sent, by prompt (the SDK's ``Sam3.predict`` docs)."""
_OUTPUTS = ("polygon", "bbox")
_FORM_FIELDS = frozenset(
    {"file", "output", "name", "confidence_threshold", "max_detections", "negative_box"}
) | frozenset(PROMPT_FIELDS)


@endpoint(
    "POST",
    "sam3/predict",
    summary="SAM3 on an image sent with the call, with one prompt (nothing is saved)",
    sdk=("sam3.predict",),
    reply=Data("Sam3Prediction"),
    role="member",
    action="run SAM3",
    errors=(402, 403, 413),
)
def predict(call: Call) -> Reply:
    form: dict[str, list[bytes]] = {}
    for field, payload in multipart_parts(call.body):
        form.setdefault(field, []).append(payload)
    unknown = sorted(set(form) - _FORM_FIELDS)
    if unknown:
        raise _refuse(unknown[0], f"Unknown form field '{unknown[0]}'.")
    content = form.get("file", [b""])[0]
    if "file" not in form or not content:
        raise _refuse("file", messages.MULTIPART_FILE_REQUIRED.format(field="file"))
    if len(content) > MAX_IMAGE_BYTES:
        raise InvalidRequest(
            messages.IMAGE_TOO_LARGE.format(
                size=len(content), limit=MAX_IMAGE_BYTES // (1024 * 1024)
            ),
            status=413,
            code="payload_too_large",
            errors=[field_error(("body", "file"), "File too large", "too_large")],
        )
    given = [kind for kind in PROMPT_FIELDS if kind in form]
    if len(given) != 1:
        raise _refuse(
            "text",
            "Send exactly one prompt: text, box or point (got "
            f"{' and '.join(given) if given else 'none'}).",
        )
    prompt = given[0]
    output = _text(form, "output") or "polygon"
    if output not in _OUTPUTS:
        raise _refuse("output", f"output is one of {messages.choices(_OUTPUTS)}, got '{output}'.")
    confidence = _number(form, "confidence_threshold", PROMPT_DEFAULT_CONFIDENCE[prompt])
    if not 0 <= confidence <= 1:
        raise _refuse("confidence_threshold", "confidence_threshold is a number from 0 to 1.")
    service = call.world.auto_annotation
    try:
        picture, sha = service.session(call.key, content)
    except UnreadableImage as exc:
        raise InvalidRequest(
            str(exc),
            code="image_unreadable",
            errors=[field_error(("body", "file"), str(exc), "value_error")],
        ) from None
    name = _text(form, "name")
    found, cut = _found(form, prompt, picture, sha)
    service.charge_session(call.key, sha)
    kept = [region for region in found if region.score >= confidence][:cut]
    status = "success" if kept else ("below_threshold" if found else "no_detection")
    label = name or (_text(form, "text") if prompt == "text" else None) or "object"
    ids = call.world.ids
    return reply(
        {
            "data": {
                "status": status,
                "annotations": [r.annotation(ids.uuid(), label, output) for r in kept],
                "score": kept[0].score if kept and prompt != "text" else None,
                "inference_time": round(0.08 + 0.01 * len(found), 3),
                "prompt": prompt,
                "width": picture.width,
                "height": picture.height,
                "image_sha256": sha,
                "confidence_threshold": confidence,
                "degraded": False,
            }
        }
    )


def _found(
    form: dict[str, list[bytes]], prompt: str, picture: Picture, sha: str
) -> tuple[list[Region], int]:
    """What the prompt finds, best first, and how many of them may come back."""
    if prompt == "text":
        phrase = _text(form, "text") or ""
        if not phrase:
            raise _refuse("text", "text must not be blank.")
        cut = int(_number(form, "max_detections", 50))
        if not 1 <= cut <= 100:
            raise _refuse("max_detections", "max_detections is a whole number from 1 to 100.")
        return picture.objects(phrase, sha), cut
    if prompt == "box":
        box = _box(picture, _text(form, "box") or "", "box")
        carved = [
            _box(picture, raw.decode("utf-8", "replace"), "negative_box")
            for raw in form.get("negative_box", [])
        ]
        region = picture.in_box(box, carved)
        return ([region] if region is not None else []), 1
    positives: list[tuple[int, int]] = []
    negatives: list[tuple[int, int]] = []
    for raw in form["point"]:
        values = raw.decode("utf-8", "replace").split(",")
        negative = len(values) == 3 and values[2].strip() == "neg"
        x, y = _floats(values[:2] if negative else values, 2, "point")
        if not (0 <= x < picture.width and 0 <= y < picture.height):
            raise _refuse(
                "point",
                f"The point ({x:g}, {y:g}) is outside the image ({picture.width} x "
                f"{picture.height} pixels): send a point inside it.",
            )
        (negatives if negative else positives).append(picture.cell_at(x, y))
    if not positives:
        raise _refuse("point", "Send at least one positive point (negative ones end ',neg').")
    region = picture.grow(positives, negatives)
    return ([region] if region is not None else []), 1


def _box(picture: Picture, text: str, field: str) -> tuple[float, float, float, float]:
    x, y, w, h = _floats(text.split(","), 4, field)
    if w <= 0 or h <= 0 or x >= picture.width or y >= picture.height or x + w <= 0 or y + h <= 0:
        raise _refuse(
            field,
            f"The {field} ({text}) does not cover any of the image ({picture.width} x "
            f"{picture.height} pixels): send x,y,w,h with a positive width and height over it.",
        )
    return x, y, w, h


def _floats(values: list[str], count: int, field: str) -> tuple[float, ...]:
    try:
        numbers = tuple(float(v) for v in values)
    except ValueError:
        numbers = ()
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        shape = "x,y" if count == 2 else "x,y,w,h"
        raise _refuse(field, f"{field} is {count} numbers, '{shape}'.")
    return numbers


def _text(form: dict[str, list[bytes]], field: str) -> str | None:
    values = form.get(field)
    return values[0].decode("utf-8", "replace").strip() if values else None


def _number(form: dict[str, list[bytes]], field: str, default: float) -> float:
    text = _text(form, field)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise _refuse(field, f"{field} is a number, got '{text}'.") from None
    if not math.isfinite(value):
        raise _refuse(field, f"{field} is a finite number, got '{text}'.")
    return value


def _refuse(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, errors=[field_error(("body", field), message, "value_error")])
