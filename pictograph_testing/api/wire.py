"""What every resource module shares: the call, replies, query and body parsing, pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.api.caches import WireCache
    from pictograph_testing.world.state import ApiKey, World

__all__ = ["Call", "Reply", "encode", "page", "reply"]

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_INTEGER = re.compile(r"[+-]?[0-9]+")


def encode(payload: Any) -> bytes:
    """Compact JSON, keys in insertion order: the same payload gives the same bytes."""
    return _encode(payload).encode()


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "application/json"


def reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, encode(payload))


def id_list(call: Call, field_name: str, noun: str) -> list[str]:
    """Read a bulk body ``{field_name: [ids]}``: a JSON object with only a list of strings."""
    body = call.json_object()
    check_fields(body, required={field_name: list}, optional={})
    ids = body[field_name]
    if not all(isinstance(i, str) for i in ids):
        raise InvalidRequest(
            f"{field_name} must be a list of {noun} id strings.",
            errors=[
                field_error(("body", field_name), "Input should be a list of strings", "list_type")
            ],
        )
    return ids  # type: ignore[no-any-return]


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
    """One authenticated API request, as a resource module sees it."""

    method: str
    segments: tuple[str, ...]
    raw_query: str
    body: bytes
    key: ApiKey
    world: World
    now: float
    base_url: str
    cache: WireCache
    """The answering ``Api``'s encodings memo: never state of the world."""
    _query: dict[str, list[str]] | None = field(default=None)

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

    def text(self, name: str) -> str | None:
        values = self.query().get(name)
        return values[-1] if values else None

    def choice(self, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            allowed = ", ".join(f"'{c}'" for c in choices)
            raise InvalidRequest(
                f"Invalid {name} '{value}': choose one of {allowed}.",
                errors=[
                    field_error(("query", name), f"Input should be {allowed}", "literal_error")
                ],
            )
        return value

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            # ASCII digits only: int() would also take '1_000', ' 7' and other scripts' digits.
            if not _INTEGER.fullmatch(value):
                raise ValueError(value)
            number = int(value)
        except ValueError:
            raise InvalidRequest(
                f"Query parameter '{name}' must be a whole number, got '{value}'.",
                errors=[
                    field_error(("query", name), "Input should be a valid integer", "int_parsing")
                ],
            ) from None
        if number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidRequest(
                f"Query parameter '{name}' must be {bound}, got {number}.",
                errors=[field_error(("query", name), f"Input should be {bound}", "range_error")],
            )
        return number

    def flag(self, name: str, default: bool = False) -> bool:
        """Read a boolean query parameter (``true``/``false``, ``1``/``0``), else 422."""
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise InvalidRequest(
            f"Query parameter '{name}' must be true or false, got '{value}'.",
            errors=[
                field_error(("query", name), "Input should be a valid boolean", "bool_parsing")
            ],
        )

    def page_window(self, *, cap: int, default: int = 50) -> tuple[int, int]:
        """Read ``limit`` and ``offset``; a limit above ``cap`` is capped, as the API does."""
        limit = self.integer("limit", default, low=1)
        offset = self.integer("offset", 0, low=0)
        return min(limit, cap), offset

    # ── body ──

    def json_object(self, *, allow_empty: bool = False) -> dict[str, Any]:
        """Parse the body as a JSON object, or refuse with 422 saying what is wrong."""
        if not self.body:
            if allow_empty:
                return {}
            raise InvalidRequest(
                "The request body is empty; send a JSON object.",
                errors=[field_error(("body",), "Field required", "missing")],
            )
        try:
            parsed = json.loads(self.body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            raise InvalidRequest(
                "The request body is not valid JSON.",
                errors=[field_error(("body",), "JSON decode error", "json_invalid")],
            ) from None
        # `\ud800` escapes (and raw UTF-8 surrogates, which json.loads lets pass) parse to
        # text no response can encode: refuse them here, before anything stores them.
        if (b"\\u" in self.body or b"\xed" in self.body) and not _encodable(parsed):
            raise InvalidRequest(
                "The request body holds text that is not valid Unicode (a lone surrogate).",
                errors=[field_error(("body",), "Invalid Unicode in string", "string_unicode")],
            )
        if not isinstance(parsed, dict):
            raise InvalidRequest(
                "The request body must be a JSON object.",
                errors=[field_error(("body",), "Input should be a valid dictionary", "dict_type")],
            )
        return parsed


def _encodable(parsed: Any) -> bool:
    try:
        _encode(parsed).encode()
    except UnicodeEncodeError:
        return False
    return True


def check_fields(
    body: dict[str, Any],
    *,
    required: dict[str, type | tuple[type, ...]],
    optional: dict[str, type | tuple[type, ...]],
) -> None:
    """Refuse (422) missing or mistyped fields and any field the API does not accept."""
    errors = []
    for name, kind in required.items():
        if name not in body:
            errors.append(field_error(("body", name), "Field required", "missing"))
        elif not _is(body[name], kind):
            errors.append(field_error(("body", name), _type_message(kind), "type_error"))
    for name, kind in optional.items():
        if name in body and body[name] is not None and not _is(body[name], kind):
            errors.append(field_error(("body", name), _type_message(kind), "type_error"))
    for name in body:
        if name not in required and name not in optional:
            errors.append(
                field_error(("body", name), "Extra inputs are not permitted", "extra_forbidden")
            )
    if errors:
        raise InvalidRequest(
            "The request failed validation: "
            + "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors),
            errors=errors,
        )


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and kind in (int, (int, float)):
        return False
    return isinstance(value, kind)


def _type_message(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a valid string",
        int: "a valid integer",
        dict: "a valid dictionary",
        list: "a valid list",
        bool: "a valid boolean",
    }
    if isinstance(kind, tuple):
        return "Input should be " + " or ".join(names.get(k, k.__name__) for k in kind)
    return "Input should be " + names.get(kind, kind.__name__)


def name_field(body: dict[str, Any], field_name: str, *, limit: int = 100) -> None:
    """Refuse a name that is empty, blank or longer than ``limit`` characters."""
    value = body.get(field_name)
    if isinstance(value, str) and not (1 <= len(value) <= limit and value.strip()):
        raise InvalidRequest(
            f"'{field_name}' must be 1 to {limit} characters and not blank.",
            errors=[
                field_error(
                    ("body", field_name),
                    f"String should have 1 to {limit} characters",
                    "string_length",
                )
            ],
        )


def page(items: list[Any], offset: int, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """Slice one page and describe it with ``has_more`` (the field the SDK's pager trusts)."""
    chunk = items[offset : offset + limit]
    total = len(items)
    return chunk, {
        "limit": limit,
        "offset": offset,
        "total": total,
        "has_more": offset + len(chunk) < total,
    }
