"""``/api/v1/developer/notifications``: the organization's event feed (bare bodies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import Bool, Param
from pictograph_testing.api.table import Bare, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply

if TYPE_CHECKING:
    from pictograph_testing.world.feeds import Notification

__all__ = ["notification_payload"]


@endpoint(
    "GET",
    "notifications",
    summary="The event feed, newest first",
    sdk=("notifications.list",),
    reply=Page("Notification", key="notifications"),
    query=(*page_params(100), Param("unread_only", Bool(), default=False)),
)
def list_notifications(call: Call) -> Reply:
    feeds = call.world.feeds
    chunk, pagination = page(
        feeds.listing(call.key, unread_only=call.args["unread_only"]),
        call.args["offset"],
        call.args["limit"],
    )
    return reply(
        {
            "notifications": [notification_payload(call, n) for n in chunk],
            "unread_count": feeds.unread_count(call.key),
            "pagination": pagination,
        }
    )


@endpoint(
    "GET",
    "notifications/unread-count",
    summary="How many are unread",
    sdk=("notifications.unread_count",),
    reply=Bare("UnreadCount"),
)
def unread_count(call: Call) -> Reply:
    return reply({"unread_count": call.world.feeds.unread_count(call.key)})


@endpoint(
    "POST",
    "notifications/read-all",
    summary="Mark every notification read",
    sdk=("notifications.mark_all_read",),
    reply=Bare("MarkedRead"),
)
def mark_all_read(call: Call) -> Reply:
    return reply({"success": True, "marked_count": call.world.feeds.mark_all_read(call.key)})


@endpoint(
    "POST",
    "notifications/{notification_id}/read",
    summary="Mark one notification read",
    sdk=("notifications.mark_read",),
    reply=Bare("NotificationRead"),
)
def mark_read(call: Call) -> Reply:
    entry = call.world.feeds.mark_read(call.key, call.path_args["notification_id"])
    return reply({"success": True, "id": entry.id, "read": True})


@endpoint(
    "DELETE",
    "notifications/{notification_id}",
    summary="Delete one notification",
    sdk=("notifications.delete",),
    reply=Bare("NotificationDeleted"),
    # The feed is the organization's: removing an entry is a write (viewers read only).
    role="member",
    action="delete notifications",
    errors=(403,),
)
def delete(call: Call) -> Reply:
    ref = call.path_args["notification_id"]
    call.world.feeds.delete(call.key, ref)
    return reply(
        {"success": True, "notification_id": ref.lower(), "message": "Notification deleted"}
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
