"""``/api/v1/developer/notifications``: the organization's event feed (bare bodies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.wire import Call, Reply, page, reply
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error

if TYPE_CHECKING:
    from pictograph_testing.world.feeds import Notification

__all__ = ["notification_payload", "route"]

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def route(call: Call) -> Reply:
    feeds = call.world.feeds
    match call.method, call.segments:
        case "GET", () | ("",):
            return _list(call)
        case "GET", ("unread-count",):
            return reply({"unread_count": feeds.unread_count(call.key)})
        case "POST", ("read-all",):
            return reply({"success": True, "marked_count": feeds.mark_all_read(call.key)})
        case "POST", (ref, "read") if ref:
            entry = feeds.mark_read(call.key, ref)
            return reply({"success": True, "id": entry.id, "read": True})
        case "DELETE", (ref,) if ref:
            feeds.delete(call.key, ref)
            return reply({"success": True, "id": ref.lower(), "deleted": True})
    path = "/".join(call.segments)
    raise NotFound(f"No notifications route {call.method} /notifications/{path}")


def _list(call: Call) -> Reply:
    raw = call.text("unread_only")
    unread_only = _BOOLEANS.get(raw.lower()) if raw is not None else False
    if unread_only is None:
        raise InvalidRequest(
            f"Query parameter 'unread_only' must be true or false, got '{raw}'.",
            errors=[
                field_error(
                    ("query", "unread_only"), "Input should be a valid boolean", "bool_parsing"
                )
            ],
        )
    limit, offset = call.page_window(cap=100, default=50)
    feeds = call.world.feeds
    chunk, pagination = page(feeds.listing(call.key, unread_only=unread_only), offset, limit)
    return reply(
        {
            "notifications": [notification_payload(call, n) for n in chunk],
            "unread_count": feeds.unread_count(call.key),
            "pagination": pagination,
        }
    )


def notification_payload(call: Call, entry: Notification) -> dict[str, Any]:
    return {
        "id": entry.id,
        "organization_id": entry.organization_id,
        "user_id": entry.user_id,
        "type": entry.type,
        "title": entry.title,
        "message": entry.message,
        "metadata": entry.metadata,
        "read": entry.read,
        "created_at": call.iso(entry.created_at),
    }
