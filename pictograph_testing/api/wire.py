"""What every resource module shares: the call, replies, query and body parsing, pages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pictograph_testing.api import messages, strict_json
from pictograph_testing.api.spec import Int, Param
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pictograph_testing.api.caches import WireCache
    from pictograph_testing.api.dialects import Client, Version
    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.state import World
    from pictograph_testing.world.webhooks import Outbound, Outcome

__all__ = [
    "AfterSend",
    "Call",
    "Reply",
    "bulk_reply",
    "encode",
    "encode_text",
    "is_json_type",
    "page",
    "page_params",
    "reply",
]

# allow_nan=False: a non-finite number that got into the world is a 500 (a bug to
# fix), never a bare `NaN` token that strict JSON parsers reject.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def encode(payload: Any) -> bytes:
    """Compact JSON, keys in insertion order: the same payload gives the same bytes."""
    return _encode(payload).encode()


def encode_text(payload: Any) -> str:
    """:func:`encode` as text, for a reply joined from encoded pieces."""
    return _encode(payload)


@dataclass(frozen=True, slots=True)
class AfterSend:
    """A webhook to send before answering, once the world lock is released.

    The receiver may call the fake back, so it must never run while a request holds
    the lock; ``finish`` builds the answer from what the receiver said.
    """

    outbound: Outbound
    finish: Callable[[Outcome], Reply]
    fault: str | None = None
    """What an armed fault did to the request (for the journal)."""


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"
    after_send: AfterSend | None = None
    """Set by a route that answers only once a webhook was sent (``webhooks.test``)."""
    fault: str | None = None
    """The journal's label of a refusal a test armed in the world (``ApiRefusal.fault``)."""


def reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, encode(payload))


def bulk_reply(succeeded: list[str], not_found: list[str], *, legacy_deleted: bool) -> Reply:
    """``{"data": {succeeded, not_found, count}}``, the reply of every bulk route.

    Bulk deletes also send ``deleted`` (the same list): SDKs before the rename read it.
    """
    result: dict[str, Any] = {"succeeded": succeeded}
    if legacy_deleted:
        result["deleted"] = succeeded
    result["not_found"] = not_found
    result["count"] = len(succeeded)
    return reply({"data": result})


@dataclass(slots=True)
class Call:
    """One authenticated API request, as a handler sees it.

    ``path_args`` are the endpoint's path parameters (decoded), ``args`` its declared
    query parameters, checked and with defaults applied, and :meth:`fields` the body,
    checked against the endpoint's spec (see :mod:`.table`).
    """

    method: str
    path_args: dict[str, str]
    raw_query: str
    body: bytes
    key: ApiKey
    world: World
    now: float
    base_url: str
    cache: WireCache
    """The answering ``Api``'s encodings memo: never state of the world."""
    sdk: Version
    """The SDK release whose dialect the answer speaks (see :mod:`.dialects`)."""
    client: Client = "sync"
    """Which of that release's clients asks (its async twin has at times sent another
    wire)."""
    content_type: str | None = None
    """The request's Content-Type header, as sent (``None``: none was)."""
    args: dict[str, Any] = field(default_factory=dict)
    _query: dict[str, list[str]] | None = field(default=None)
    _fields: dict[str, Any] | None = field(default=None)

    # ── time ──

    def iso(self, seconds: float | None) -> str | None:
        """Render a virtual second as the API's ISO-8601 UTC timestamp."""
        if seconds is None:
            return None
        # Runs are polled thousands of times with the same few instants: format each once.
        text = self.cache.iso.get(seconds)
        if text is None:
            text = self.cache.remember_iso(
                seconds, format_timestamp(self.world.clock.start + timedelta(seconds=seconds))
            )
        return text

    # ── query ──

    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.raw_query, keep_blank_values=True)
        return self._query

    # ── body ──

    def fields(self) -> dict[str, Any]:
        """The body's fields (parsed once; checked by the router before the handler)."""
        if self._fields is None:
            self._fields = self.json_object()
        return self._fields

    def use_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Take ``fields`` as the body (an older release's, read as today's)."""
        self._fields = fields
        return fields

    def json_object(self, *, allow_empty: bool = False) -> dict[str, Any]:
        """Parse the body as a JSON object, or refuse with 422 saying what is wrong."""
        if self._fields is not None:
            return self._fields
        if not self.body:
            if allow_empty:
                self._fields = {}
                return self._fields
            raise InvalidRequest(
                messages.BODY_REQUIRED,
                errors=[field_error(("body",), "Field required", "missing")],
            )
        if self.content_type is not None and not _read_as_json(self.content_type):
            # As the API (FastAPI) does: a body labelled a form or text is not read as
            # JSON, whatever it holds. A fetch() of a JSON string sends text/plain.
            raise InvalidRequest(
                messages.BODY_NOT_JSON.format(kind=messages.shown(self.content_type)),
                errors=[
                    field_error(
                        ("body",),
                        "Input should be a valid dictionary or object to extract fields from",
                        "model_attributes_type",
                    )
                ],
            )
        try:
            parsed = strict_json.parse(self.body)
        except strict_json.UnfitJson as unfit:
            raise InvalidRequest(
                unfit.message, errors=[field_error(("body",), unfit.summary, unfit.kind)]
            ) from None
        if not isinstance(parsed, dict):
            raise InvalidRequest(
                messages.BODY_NOT_OBJECT,
                errors=[field_error(("body",), "Input should be a valid dictionary", "dict_type")],
            )
        self._fields = parsed
        return parsed


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type names JSON: ``application/json`` or any
    ``application/*+json``, parameters aside."""
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _read_as_json(content_type: str) -> bool:
    # The API reads a body as JSON under a JSON type, or an empty one.
    return not content_type.partition(";")[0].strip() or is_json_type(content_type)


def page_params(cap: int, default: int = 50) -> tuple[Param, Param]:
    """``limit`` (capped at ``cap``, as the API does) and ``offset``: a listing's window."""
    return (
        Param("limit", Int(minimum=1, cap=cap), default=default),
        Param("offset", Int(minimum=0), default=0),
    )


def page(items: Sequence[Any], offset: int, limit: int) -> tuple[Sequence[Any], dict[str, Any]]:
    """Slice one page and describe it with ``has_more`` (the field the SDK's pager trusts)."""
    chunk = items[offset : offset + limit]
    total = len(items)
    return chunk, {
        "limit": limit,
        "offset": offset,
        "total": total,
        "has_more": offset + len(chunk) < total,
    }
