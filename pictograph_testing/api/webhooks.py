"""``/api/v1/developer/webhooks``: endpoints, their secrets, and the delivery log (bare bodies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.spec import Bool, Field, Int, Json, List, Obj, Param, Str
from pictograph_testing.api.table import Bare, Page, endpoint
from pictograph_testing.api.wire import AfterSend, Call, Reply, page, reply
from pictograph_testing.world.webhooks import DELIVERY_STATUSES, EVENT_TYPES, TEST_EVENT

if TYPE_CHECKING:
    from pictograph_testing.world.webhooks import Outcome, WebhookDelivery, WebhookEndpoint

__all__ = ["delivery_payload", "endpoint_payload"]

_SHOWN_ONCE = "Store this signing secret now: it is shown once and cannot be retrieved again."
_URL = Str(min_length=1, example="https://hooks.example.com/pictograph")
_EVENT_TYPES = List(Str(), noun="event type names")
_AUTH_HEADERS = Json(
    doc={"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 10}
)


@endpoint(
    "POST",
    "webhooks/endpoints",
    summary="Register an endpoint (its signing secret is returned once)",
    sdk=("webhooks.create",),
    reply=Bare("CreatedWebhookEndpoint"),
    status=201,
    role="admin",
    action="manage webhooks",
    body=Obj(
        {
            "url": Field(_URL, required=True),
            "description": Field(Str()),
            "event_types": Field(_EVENT_TYPES),
            "auth_headers": Field(_AUTH_HEADERS),
        }
    ),
    errors=(403, 409),
)
def create(call: Call) -> Reply:
    fields = call.fields()
    found, secret = call.world.webhooks.create(
        call.key,
        fields["url"],
        description=fields.get("description"),
        event_types=fields.get("event_types"),
        auth_headers=fields.get("auth_headers"),
    )
    payload = {"endpoint": endpoint_payload(call, found), "secret": secret, "message": _SHOWN_ONCE}
    return reply(payload, status=201)


@endpoint(
    "GET",
    "webhooks/event-types",
    summary="The event types an endpoint can subscribe to",
    sdk=("webhooks.event_types",),
    reply=Bare("WebhookEventTypes"),
)
def event_types(call: Call) -> Reply:
    return reply({"event_types": list(EVENT_TYPES)})


@endpoint(
    "GET",
    "webhooks/endpoints",
    summary="Every endpoint of the organization, oldest first",
    sdk=("webhooks.list",),
    reply=Bare("WebhookEndpointList"),
)
def list_endpoints(call: Call) -> Reply:
    found = call.world.webhooks.listing(call.key)
    return reply({"endpoints": [endpoint_payload(call, e) for e in found]})


@endpoint(
    "GET",
    "webhooks/endpoints/{endpoint_id}",
    summary="One endpoint",
    sdk=("webhooks.get",),
    reply=Bare("WebhookEndpointReply"),
)
def get(call: Call) -> Reply:
    found = call.world.webhooks.find(call.key, call.path_args["endpoint_id"])
    return reply({"endpoint": endpoint_payload(call, found)})


@endpoint(
    "PATCH",
    "webhooks/endpoints/{endpoint_id}",
    summary="Change an endpoint (re-enabling clears its failures)",
    sdk=("webhooks.update",),
    reply=Bare("WebhookEndpointReply"),
    role="admin",
    action="manage webhooks",
    body=Obj(
        {
            "url": Field(_URL),
            "description": Field(Str()),
            "event_types": Field(_EVENT_TYPES),
            "enabled": Field(Bool()),
            "auth_headers": Field(_AUTH_HEADERS),
        },
        at_least_one="value",
    ),
    errors=(403, 409),
)
def update(call: Call) -> Reply:
    found = call.world.webhooks.update(call.key, call.path_args["endpoint_id"], call.fields())
    return reply({"success": True, "endpoint": endpoint_payload(call, found)})


@endpoint(
    "DELETE",
    "webhooks/endpoints/{endpoint_id}",
    summary="Delete an endpoint and its delivery history",
    sdk=("webhooks.delete",),
    reply=Bare("WebhookEndpointDeleted"),
    role="admin",
    action="manage webhooks",
    errors=(403,),
)
def delete(call: Call) -> Reply:
    found = call.world.webhooks.delete(call.key, call.path_args["endpoint_id"])
    return reply({"success": True, "id": found.id, "deleted": True})


@endpoint(
    "POST",
    "webhooks/endpoints/{endpoint_id}/test",
    summary="Send a signed test event now; answer what the endpoint said",
    sdk=("webhooks.test",),
    reply=Bare("WebhookTestResult"),
    role="member",
    action="send webhook test events",
    errors=(403,),
)
def send_test(call: Call) -> Reply:
    outbound = call.world.webhooks.test_event(call.key, call.path_args["endpoint_id"])

    def finish(outcome: Outcome) -> Reply:
        return reply(
            {
                "success": True,
                "delivered": outcome.ok,
                "status_code": outcome.status_code,
                "error": None if outcome.ok else _error_text(outcome),
                "event_type": TEST_EVENT,
                "delivery_id": dict(outbound.headers)["X-Pictograph-Delivery"],
            }
        )

    # The receiver may call the fake back: it is sent once the lock is released.
    return Reply(202, b"", after_send=AfterSend(outbound, finish))


def _error_text(outcome: Outcome) -> str:
    return outcome.error or f"The endpoint answered {outcome.status_code}."


@endpoint(
    "POST",
    "webhooks/endpoints/{endpoint_id}/rotate-secret",
    summary="Mint a new signing secret (the old one signs too for 24 hours)",
    sdk=("webhooks.rotate_secret",),
    reply=Bare("CreatedWebhookEndpoint"),
    role="admin",
    action="manage webhooks",
    errors=(403,),
)
def rotate_secret(call: Call) -> Reply:
    found, secret = call.world.webhooks.rotate(call.key, call.path_args["endpoint_id"])
    return reply(
        {"endpoint": endpoint_payload(call, found), "secret": secret, "message": _SHOWN_ONCE}
    )


@endpoint(
    "GET",
    "webhooks/deliveries",
    summary="The delivery log, newest first, by endpoint and status",
    sdk=("webhooks.deliveries",),
    reply=Page("WebhookDelivery", key="deliveries"),
    query=(
        Param("limit", Int(minimum=1, maximum=200), default=50),
        Param("offset", Int(minimum=0), default=0),
        Param("endpoint_id", Str(min_length=1)),
        Param("status", Str(enum=DELIVERY_STATUSES)),
    ),
)
def deliveries(call: Call) -> Reply:
    found = call.world.webhooks.delivery_listing(
        call.key, endpoint_id=call.args["endpoint_id"], status=call.args["status"]
    )
    chunk, pagination = page(found, call.args["offset"], call.args["limit"])
    return reply(
        {"deliveries": [delivery_payload(call, d) for d in chunk], "pagination": pagination}
    )


@endpoint(
    "POST",
    "webhooks/deliveries/{delivery_id}/replay",
    summary="Re-queue a failed or dead-letter delivery with a fresh retry budget",
    sdk=("webhooks.replay",),
    reply=Bare("WebhookReplayed"),
    role="member",
    action="replay webhook deliveries",
    errors=(403, 409),
)
def replay(call: Call) -> Reply:
    found = call.world.webhooks.replay(call.key, call.path_args["delivery_id"])
    return reply({"success": True, "id": found.id, "status": found.status})


def endpoint_payload(call: Call, found: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": found.id,
        "organization_id": found.organization_id,
        "url": found.url,
        "description": found.description,
        "event_types": list(found.event_types),
        "enabled": found.enabled,
        "secret_version": found.secret_version,
        "secret_prefix": found.secret[:10],
        "consecutive_failures": found.consecutive_failures,
        "disabled_reason": found.disabled_reason,
        # Only the names: the values are never returned.
        "auth_header_names": list(found.auth_headers) or None,
        "last_delivery_at": call.iso(found.last_delivery_at),
        "created_at": call.iso(found.created_at),
    }


def delivery_payload(call: Call, found: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": found.id,
        "endpoint_id": found.endpoint_id,
        "organization_id": found.organization_id,
        "event_type": found.event.type,
        "delivery_id": found.event.id,
        "status": found.status,
        "attempts": found.attempts,
        "last_status_code": found.last_status_code,
        "last_error": found.last_error,
        "next_retry_at": call.iso(found.next_retry_at),
        "created_at": call.iso(found.created_at),
        "delivered_at": call.iso(found.delivered_at),
    }
