"""The refusals the world can give, as exceptions that carry the API's error code.

The world raises these; the api layer turns them into the wire envelope (one place:
``pictograph_testing.api.errors``). Each keeps what the envelope needs and nothing about
HTTP beyond the status it maps to.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pictograph_testing.catalog import UPGRADE_URL

__all__ = [
    "LONE_SURROGATE",
    "ApiRefusal",
    "Conflict",
    "DatasetCold",
    "FieldError",
    "Forbidden",
    "ImageLimitExceeded",
    "InsufficientCredits",
    "InvalidRequest",
    "KeyWithoutCreator",
    "LimitExceeded",
    "NotFound",
    "Unauthorized",
    "describe",
    "field_error",
    "sent",
    "under_way",
]

FieldError = dict[str, Any]

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""A code point of U+D800 to U+DFFF standing alone in a ``str``: text that is not valid
Unicode, which no encoding writes. The API refuses it wherever text arrives (a JSON
body, a test's own set-up)."""


def field_error(loc: tuple[str | int, ...], msg: str, kind: str) -> FieldError:
    """Build one FastAPI-shaped field error: ``{"loc": [...], "msg": ..., "type": ...}``."""
    return {"loc": list(loc), "msg": msg, "type": kind}


def describe(errors: list[FieldError], limit: int | None = 5) -> str:
    """``field.path: msg; other.field: msg`` for a message (``loc`` without its first part)."""
    shown = errors if limit is None else errors[:limit]
    return "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in shown)


def sent(value: Any) -> str:
    """A value a request sent, quoted for a message as JSON spells it: a string in single
    quotes, as the messages quote names, anything else as JSON (``null``, ``true``,
    ``["m"]``), never as Python would print it."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


class ApiRefusal(Exception):
    """A request the API answers with a 4xx; ``status`` and ``code`` pick the envelope."""

    status = 400
    code = "bad_request"
    headers: tuple[tuple[str, str], ...] = ()
    """Response headers the refusal carries (``Retry-After`` on a 429)."""
    fault: str | None = None
    """The journal's label for a refusal a test armed (``Call.fault``): ``None`` for the
    world's own."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidRequest(ApiRefusal):
    """400 or 422: the request cannot be carried out as given."""

    code = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        code: str = "validation_error",
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message, details={"errors": errors} if errors else None)
        self.status = status
        self.code = code
        self.errors: list[FieldError] = errors or []


class Unauthorized(ApiRefusal):
    status = 401
    code = "unauthorized"


class InsufficientCredits(ApiRefusal):
    """402 with both the µUSD keys and the legacy ones, as every SDK generation reads."""

    status = 402
    code = "insufficient_credits"

    def __init__(
        self, message: str, *, required: int, remaining: int, unit: str | None = "micro_usd"
    ) -> None:
        details: dict[str, Any] = {
            "required_micro_usd": required,
            "remaining_micro_usd": remaining,
            "required": required,
            "remaining": remaining,
            "credit_cost": required,
            "credits_remaining": remaining,
            "unit": unit,
            "upgrade_url": UPGRADE_URL,
            "block_reason": "insufficient_credits",
        }
        if unit != "micro_usd":
            # Amounts in another unit (SDK 1.0.x's whole credits) carry no µUSD keys.
            del details["required_micro_usd"], details["remaining_micro_usd"]
            if unit is None:
                del details["unit"]
        super().__init__(message, details=details)
        self.required = required
        self.remaining = remaining
        self.unit = unit


class LimitExceeded(ApiRefusal):
    """402 ``limit_exceeded``: a plan's cap (members, say) is reached; ``details`` says which."""

    status = 402
    code = "limit_exceeded"


class ImageLimitExceeded(LimitExceeded):
    """402 ``image_limit_exceeded``: what was asked would take the organization's images
    past its plan's limit (``details``: ``current_images``, ``additional_images``,
    ``max_images``); nothing was made."""

    code = "image_limit_exceeded"


def under_way(promised: int) -> str:
    """What an image-limit refusal adds for the images work under way will still add."""
    if not promised:
        return ""
    return f" ({promised} of them still to come from imports and extractions under way)"


class Forbidden(ApiRefusal):
    status = 403
    code = "forbidden"


class KeyWithoutCreator(Forbidden):
    """403: the key's creator has left the organization, so the key starts no runs (a
    quote lists it as a blocker of this code)."""

    code = "key_without_creator"

    def __init__(self) -> None:
        super().__init__(
            "This API key's creator is no longer a member of the organization, so it cannot "
            "start runs: use a key created by a current member."
        )


class NotFound(ApiRefusal):
    status = 404
    code = "not_found"


class Conflict(ApiRefusal):
    status = 409
    code = "conflict"


class DatasetCold(Conflict):
    """A dataset in cold storage, or moving in or out of it: its image files cannot be
    read or written until it is restored (the CLI reads ``dataset_cold`` as a conflict)."""

    code = "dataset_cold"
