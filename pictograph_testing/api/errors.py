"""Every error body the fake sends is built here: the envelope plus the legacy ``detail``."""

from __future__ import annotations

import json
from typing import Any

from pictograph_testing.catalog import UPGRADE_URL
from pictograph_testing.world.errors import (
    ApiRefusal,
    InsufficientCredits,
    InvalidRequest,
)

__all__ = ["error_body", "gateway_error_body", "refusal_body"]


def error_body(
    code: str, message: str, *, details: dict[str, Any] | None = None, detail: Any = None
) -> bytes:
    """Encode ``{"error": {code, message, details}, "detail": <legacy>}``.

    SDKs before 1.61.3 read only ``detail``; later ones read ``error``: both are always sent.
    """
    body = {
        "error": {"code": code, "message": message, "details": details or {}},
        "detail": message if detail is None else detail,
    }
    # An error may quote what the client sent: a lone surrogate in it becomes '?', so an
    # error body can always be encoded (an exception here would escape the API).
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "replace")


def refusal_body(refusal: ApiRefusal) -> bytes:
    """Encode a world refusal with the legacy ``detail`` shape its status calls for."""
    detail: Any = None
    if isinstance(refusal, InvalidRequest) and refusal.errors:
        detail = refusal.errors
    elif isinstance(refusal, InsufficientCredits):
        detail = {
            "message": refusal.message,
            "error": refusal.code,
            "required": refusal.required,
            "remaining": refusal.remaining,
            "unit": refusal.unit,
            "block_reason": "insufficient_credits",
            "upgrade_url": UPGRADE_URL,
        }
        if refusal.unit is None:
            del detail["unit"]
    return error_body(refusal.code, refusal.message, details=refusal.details, detail=detail)


def gateway_error_body(slug: str, detail: str, **extra: Any) -> bytes:
    """Encode the inference gateway's flat error, ``{"error": "<slug>", "detail": ...}``
    (and ``extra`` beside them): the gateway is not the API and sends no envelope."""
    return json.dumps(
        {"error": slug, "detail": detail, **extra}, separators=(",", ":"), ensure_ascii=False
    ).encode()
