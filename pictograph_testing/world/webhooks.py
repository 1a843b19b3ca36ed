"""Outbound webhooks: endpoints, their signing secrets, events and the delivery log.

The world decides *what* is sent and *when* (on the virtual clock); it never sends
anything. Every event starts as a notification kind (``Feeds.notify`` / ``Feeds.announce``)
mapped to an event type by :data:`EVENT_OF_KIND`; each enabled, subscribed endpoint of the
organization gets one :class:`WebhookDelivery`, whose attempts sit on a heap by due time.
A courier outside the world lock takes the earliest due attempt (:meth:`Webhooks.take_due`)
as a signed :class:`Outbound`, sends it, and reports the :class:`Outcome` back
(:meth:`Webhooks.record`), which settles the delivery or schedules its retry. Sending
outside the lock is what lets a receiver call the fake back.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.errors import Conflict, InvalidRequest, NotFound, field_error
from pictograph_testing.world.ordered import NewestFirst, SortedIndex, by_seq, index_in

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.state import World

__all__ = [
    "AUTO_DISABLE_AFTER",
    "DELIVERY_STATUSES",
    "EVENT_OF_KIND",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "RETRY_DELAYS",
    "ROTATION_GRACE_SECONDS",
    "SIGNATURE_HEADER",
    "TEST_EVENT",
    "TIMEOUT_SECONDS",
    "USER_AGENT",
    "Courier",
    "DeliveryStatus",
    "Outbound",
    "Outcome",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Webhooks",
    "sign",
]

DeliveryStatus = Literal["pending", "delivered", "failed", "dead_letter"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = get_args(DeliveryStatus)

EVENT_OF_KIND: dict[str, str] = {
    "training_complete": "training_run.completed",
    "training_failed": "training_run.failed",
    "training_cancelled": "training_run.cancelled",
    "export_ready": "export.ready",
    "export_failed": "export.failed",
    "deployment_active": "deployment.active",
    "deployment_failed": "deployment.failed",
    "evaluation_complete": "evaluation.completed",
    "evaluation_failed": "evaluation.failed",
    "credits_low": "credits.low",
    "workflow_run_complete": "workflow_run.completed",
    "workflow_run_failed": "workflow_run.failed",
}
"""The one table from a notification kind (what ended) to the webhook event it sends."""

_SDK_EVENT_TYPES = (
    "workflow_run.completed",
    "workflow_run.failed",
    "workflow_stream.events",
    "workflow_stream.ended",
)
# The SDK (1.69.146) documents only workflow events; the fake sends a run's end, not the
# live streams' (it streams nothing), and the events of what else it simulates are listed
# after them under their own names.
EVENT_TYPES: tuple[str, ...] = tuple(dict.fromkeys((*_SDK_EVENT_TYPES, *EVENT_OF_KIND.values())))
"""What ``GET /webhooks/event-types`` lists: every type an endpoint may subscribe to."""
TEST_EVENT = "webhook.test"
"""The synthetic event ``POST .../test`` sends (not subscribable, never logged)."""

RETRY_DELAYS: tuple[int, ...] = (60, 300, 1800, 7200, 28800)
"""Virtual seconds before each retry of a failed attempt: 1 min, 5 min, 30 min, 2 h, 8 h.
A delivery whose first attempt and every retry failed is ``dead_letter``."""
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
AUTO_DISABLE_AFTER = 15
"""Consecutive failed attempts after which an endpoint is disabled (re-enable to reset)."""
ROTATION_GRACE_SECONDS = 24 * 3600
"""How long the previous secret still signs deliveries after ``rotate-secret``."""
SIGNATURE_HEADER = "X-Pictograph-Signature"
USER_AGENT = "Pictograph-Webhooks/1.0"
TIMEOUT_SECONDS = 10.0
"""How long a real-HTTP delivery waits for the receiver's answer."""

_MAX_URL = 2048
_MAX_DESCRIPTION = 500
_MAX_AUTH_HEADERS = 10
_MAX_HEADER_VALUE = 4096
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PRIVATE_HOSTS = ("localhost", "metadata.google.internal", "metadata")
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")
# Spelled only with digits, hex and dots: a resolver reads it as an IPv4 address, however
# it is written (``127.1``, ``0x7f.0.0.1``, ``0177.0.0.1``, ``2130706433``).
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")
# What a sender may not say in a URL: HTTP clients refuse it, or send it somewhere else.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")
# A URL's userinfo: what lies between its '//' and the last '@' before the path.
_USERINFO = re.compile(r"(?<=//)[^/?#]*@")
# A header value is sent as Latin-1 bytes on one line: visible ASCII, spaces and tabs.
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*[\x21-\x7e][\x20-\x7e\t]*")
# Headers that frame the request itself: set by the sender, never by an endpoint.
_FRAMING_HEADERS = frozenset(
    {
        "connection",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_DISABLED = "The endpoint is disabled."
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
"""NAT64 prefixes for local use (RFC 8215): a network's own, never a public address."""
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Courier(Protocol):
    """What sends the world's deliveries (the fake's in-process or HTTP courier)."""

    def deliver_due(self) -> int: ...

    async def deliver_due_async(self) -> int: ...

    def send(self, outbound: Outbound) -> Outcome: ...

    async def send_async(self, outbound: Outbound) -> Outcome: ...


@dataclass
class WebhookEndpoint:
    id: str
    organization_id: str
    url: str
    description: str | None
    event_types: list[str]
    secret: str
    auth_headers: dict[str, str]
    created_at: float
    enabled: bool = True
    secret_version: int = 1
    previous_secret: str | None = None
    previous_until: float = 0.0
    """Until when (virtual second) :attr:`previous_secret` still signs deliveries: an
    attempt due before then is signed with it too, however late the courier sends it
    (kept past the window, not forgotten at its end, so that how far the clock moved
    before the attempt was sent never changes what the receiver gets)."""
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    last_delivery_at: float | None = None

    def subscribes(self, event_type: str) -> bool:
        # An empty subscription receives every type, including ones added later.
        return not self.event_types or event_type in self.event_types


@dataclass
class WebhookEvent:
    """One thing that happened, frozen as the bytes every delivery of it carries."""

    id: str
    type: str
    created_at: float
    body: bytes


@dataclass
class WebhookDelivery:
    id: str
    seq: int
    endpoint_id: str
    organization_id: str
    event: WebhookEvent
    created_at: float
    status: DeliveryStatus = "pending"
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    due: float | None = None
    """When the next attempt is due (``next_retry_at`` once one failed); None: settled."""
    delivered_at: float | None = None
    generation: int = 0
    """Bumped by a replay, so the heap's entries for the old schedule are skipped."""

    @property
    def next_retry_at(self) -> float | None:
        return self.due if self.status == "failed" else None


@dataclass(frozen=True)
class Outbound:
    """One signed attempt, ready to send: what a receiver gets, and when (virtual)."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    at: float
    endpoint_id: str
    delivery_id: str | None = None
    """The logged delivery it is an attempt of; None for a test event."""
    generation: int = 0


@dataclass(frozen=True)
class Outcome:
    """What a receiver answered: a status code, or the error that stood for one."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 of ``"{t}.{body}"`` under ``secret``, hex: the ``v1`` of a signature."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Webhooks:
    """Keep every organization's endpoints and deliveries; schedule attempts on the clock."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self._by_org: dict[str, dict[str, WebhookEndpoint]] = {}
        # Each organization's endpoints by URL (one each): what a new URL is checked in.
        self._by_url: dict[tuple[str, str], WebhookEndpoint] = {}
        self.deliveries: dict[str, WebhookDelivery] = {}
        # Deliveries by creation (``seq``): per organization, per endpoint, and per
        # status of each, so that a page of any listing costs the page.
        self._deliveries_by_org: dict[str, SortedIndex[WebhookDelivery]] = {}
        self._deliveries_by_endpoint: dict[str, list[WebhookDelivery]] = {}
        self._deliveries_by_status: dict[tuple[str, str], SortedIndex[WebhookDelivery]] = {}
        """Keyed by (organization id, status) and by (endpoint id, status)."""
        self._due = world.agenda.attempts
        self._seq = 0

    @property
    def holds_state(self) -> bool:
        """Whether anything was registered or sent (what a snapshot cannot keep)."""
        return bool(self.endpoints or self.deliveries)

    def due_by(self, now: float) -> bool:
        """Whether an attempt may be due by ``now``: a lock-free hint for every request.

        It may say yes for an attempt a replay or a delete made stale (the caller then
        looks under the lock); it never says no while one is due.
        """
        due = self._due
        return bool(due) and due[0][0] <= now

    # ── endpoints ──

    def create(
        self,
        key: ApiKey,
        url: str,
        *,
        description: str | None,
        event_types: list[str] | None,
        auth_headers: dict[str, Any] | None,
    ) -> tuple[WebhookEndpoint, str]:
        """Register an endpoint; return it and its signing secret (shown only now)."""
        org = key.organization_id
        checked_url = _check_url(url)
        self._unique(org, checked_url, None)
        types = _check_event_types(event_types or [])
        headers = _check_auth_headers(auth_headers or {})
        _check_description(description)
        world = self._world
        endpoint = WebhookEndpoint(
            id=world.ids.uuid(),
            organization_id=org,
            url=checked_url,
            description=description,
            event_types=types,
            secret=self._mint_secret(),
            auth_headers=headers,
            created_at=world.now(),
        )
        self.endpoints[endpoint.id] = endpoint
        self._by_org.setdefault(org, {})[endpoint.id] = endpoint
        self._by_url[(org, checked_url)] = endpoint
        return endpoint, endpoint.secret

    def listing(self, key: ApiKey) -> list[WebhookEndpoint]:
        """The organization's endpoints, oldest first."""
        return list(self._by_org.get(key.organization_id, {}).values())

    def find(self, key: ApiKey, endpoint_id: str) -> WebhookEndpoint:
        found = self.endpoints.get(endpoint_id.lower())
        if found is None or found.organization_id != key.organization_id:
            raise NotFound(f"Webhook endpoint '{endpoint_id}' not found")
        return found

    def update(self, key: ApiKey, endpoint_id: str, changes: dict[str, Any]) -> WebhookEndpoint:
        """Change the fields sent (all checked first); re-enabling clears the failures."""
        endpoint = self.find(key, endpoint_id)
        url = changes.get("url")
        checked_url = _check_url(url) if url is not None else None
        if checked_url is not None:
            self._unique(endpoint.organization_id, checked_url, endpoint.id)
        types = changes.get("event_types")
        checked_types = _check_event_types(types) if types is not None else None
        headers = changes.get("auth_headers")
        checked_headers = _check_auth_headers(headers) if headers is not None else None
        _check_description(changes.get("description"))
        if checked_url is not None:
            del self._by_url[(endpoint.organization_id, endpoint.url)]
            self._by_url[(endpoint.organization_id, checked_url)] = endpoint
            endpoint.url = checked_url
        if changes.get("description") is not None:
            endpoint.description = changes["description"]
        if checked_types is not None:
            endpoint.event_types = checked_types
        if checked_headers is not None:
            endpoint.auth_headers = checked_headers
        enabled = changes.get("enabled")
        if enabled is True and not endpoint.enabled:
            endpoint.enabled = True
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = None
        elif enabled is False and endpoint.enabled:
            self._disable(endpoint)
        return endpoint

    def _withdraw_after(self, endpoint: WebhookEndpoint, at: float) -> None:
        """Take back the endpoint's deliveries of events after ``at``, the moment it was
        disabled: the courier sends once a request's catch-up is over, so a long clock
        move published events to it that, moved in steps, it would never have got.
        None of them was attempted yet (each is first due when its event happened)."""
        mine = self._deliveries_by_endpoint.get(endpoint.id, [])
        cut = len(mine)
        while cut and mine[cut - 1].created_at > at:
            cut -= 1
        if cut == len(mine):
            return
        gone = mine[cut:]
        del mine[cut:]
        org_index = self._deliveries_by_org[endpoint.organization_id]
        for delivery in gone:
            # Their places on the attempts heap go stale (``_drop_stale``).
            del self.deliveries[delivery.id]
            org_index.remove(delivery)
            for owner in (delivery.organization_id, delivery.endpoint_id):
                self._deliveries_by_status[owner, delivery.status].remove(delivery)

    def _disable(self, endpoint: WebhookEndpoint) -> None:
        """Disable an endpoint: its queued attempts end now, as dead letters (a replay
        re-queues one once it is enabled again), rather than waiting to come due."""
        endpoint.enabled = False
        for status in ("pending", "failed"):
            index = self._deliveries_by_status.get((endpoint.id, status))
            if index is None:
                continue
            for delivery in list(index.oldest):
                if delivery.due is None:
                    continue  # being sent: its outcome settles it
                delivery.generation += 1  # its place on the heap goes stale
                delivery.due = None
                delivery.last_error = _DISABLED
                self._set_status(delivery, "dead_letter")

    def delete(self, key: ApiKey, endpoint_id: str) -> WebhookEndpoint:
        """Delete an endpoint and its delivery history (queued attempts are dropped)."""
        endpoint = self.find(key, endpoint_id)
        del self.endpoints[endpoint.id]
        del self._by_org[endpoint.organization_id][endpoint.id]
        del self._by_url[(endpoint.organization_id, endpoint.url)]
        gone = self._deliveries_by_endpoint.pop(endpoint.id, [])
        for delivery in gone:
            del self.deliveries[delivery.id]
        if gone:
            # One pass over each of the organization's indexes, however many went.
            org_id = endpoint.organization_id

            def of_endpoint(delivery: WebhookDelivery) -> bool:
                return delivery.endpoint_id == endpoint.id

            self._deliveries_by_org[org_id].remove_where(of_endpoint)
            for status in DELIVERY_STATUSES:
                index = self._deliveries_by_status.get((org_id, status))
                if index is not None:
                    index.remove_where(of_endpoint)
                self._deliveries_by_status.pop((endpoint.id, status), None)
        return endpoint

    def rotate(self, key: ApiKey, endpoint_id: str) -> tuple[WebhookEndpoint, str]:
        """Mint a new secret; the previous one keeps signing for the grace window."""
        endpoint = self.find(key, endpoint_id)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_until = self._world.now() + ROTATION_GRACE_SECONDS
        endpoint.secret = self._mint_secret()
        endpoint.secret_version += 1
        return endpoint, endpoint.secret

    def _mint_secret(self) -> str:
        return f"whsec_{self._world.ids.hex(40)}"

    def _unique(self, org: str, url: str, own_id: str | None) -> None:
        # Matched exactly, as the SDK resolves URLs: a trailing slash is another URL.
        other = self._by_url.get((org, url))
        if other is not None and other.id != own_id:
            raise Conflict(f"A webhook endpoint is already registered at '{url}'.")

    # ── events ──

    def publish(
        self,
        organization_id: str,
        kind: str,
        *,
        at: float,
        title: str,
        message: str | None,
        metadata: dict[str, Any] | None,
    ) -> WebhookEvent | None:
        """Queue the event ``kind`` stands for to every endpoint subscribed to it.

        A kind with no event type (a notification only) sends nothing; so does an
        organization with no subscribed endpoint (no event is even minted, so ids stay
        as they were for worlds without webhooks). A disabled endpoint gets no delivery,
        but its delivery's id is drawn all the same: the courier may learn only later
        that the endpoint was disabled before this event (see :meth:`_withdraw_after`),
        and the ids drawn must not depend on when it learnt it.
        """
        event_type = EVENT_OF_KIND.get(kind)
        endpoints = self._by_org.get(organization_id)
        if event_type is None or not endpoints:
            return None
        targets = [e for e in endpoints.values() if e.subscribes(event_type)]
        if not targets:
            return None
        world = self._world
        event_id = f"evt_{world.ids.hex(24)}"
        body = _encode(
            {
                "id": event_id,
                "type": event_type,
                "created_at": self._iso(at),
                "organization_id": organization_id,
                "title": title,
                "message": message,
                "data": metadata or {},
            }
        ).encode()
        event = WebhookEvent(event_id, event_type, at, body)
        for endpoint in targets:
            self._seq += 1
            delivery_id = world.ids.uuid()
            if not endpoint.enabled:
                continue
            delivery = WebhookDelivery(
                id=delivery_id,
                seq=self._seq,
                endpoint_id=endpoint.id,
                organization_id=organization_id,
                event=event,
                created_at=at,
                due=at,
            )
            self.deliveries[delivery.id] = delivery
            index_in(self._deliveries_by_org, organization_id, by_seq).add(delivery)
            self._deliveries_by_endpoint.setdefault(endpoint.id, []).append(delivery)
            self._file_status(delivery)
            heapq.heappush(self._due, (at, delivery.seq, delivery.id, 0))
        return event

    def _iso(self, seconds: float) -> str:
        return format_timestamp(self._world.clock.start + timedelta(seconds=seconds))

    # ── deliveries ──

    def next_due(self) -> float | None:
        """When the earliest queued attempt is due (None: nothing queued)."""
        self._drop_stale()
        return self._due[0][0] if self._due else None

    def take_due(self, now: float) -> Outbound | None:
        """Pop the earliest attempt due at or before ``now``, signed, or None.

        Every attempt queued is to an enabled endpoint: disabling one dead-letters its
        queued attempts (:meth:`_disable`).
        """
        self._drop_stale()
        if not self._due or self._due[0][0] > now:
            return None
        at, _, delivery_id, generation = heapq.heappop(self._due)
        delivery = self.deliveries[delivery_id]
        delivery.due = None
        endpoint = self.endpoints[delivery.endpoint_id]
        return self._outbound(endpoint, delivery.event, at, delivery, generation)

    def _drop_stale(self) -> None:
        due = self._due
        while due:
            _, _, delivery_id, generation = due[0]
            delivery = self.deliveries.get(delivery_id)
            if delivery is not None and delivery.generation == generation:
                return
            heapq.heappop(due)

    def _outbound(
        self,
        endpoint: WebhookEndpoint,
        event: WebhookEvent,
        at: float,
        delivery: WebhookDelivery | None,
        generation: int = 0,
    ) -> Outbound:
        timestamp = int((self._world.clock.start + timedelta(seconds=at)).timestamp())
        signatures = [f"v1={sign(endpoint.secret, timestamp, event.body)}"]
        if endpoint.previous_secret is not None and at < endpoint.previous_until:
            signatures.append(f"v1={sign(endpoint.previous_secret, timestamp, event.body)}")
        # The endpoint's own headers first: Pictograph's are layered on top, so a custom
        # header can never replace the signature.
        own = {name.lower(): (name, value) for name, value in endpoint.auth_headers.items()}
        for name, value in (
            ("Content-Type", "application/json"),
            ("User-Agent", USER_AGENT),
            ("X-Pictograph-Event", event.type),
            ("X-Pictograph-Delivery", event.id),
            (SIGNATURE_HEADER, ",".join([f"t={timestamp}", *signatures])),
        ):
            own[name.lower()] = (name, value)
        return Outbound(
            url=endpoint.url,
            headers=tuple(own.values()),
            body=event.body,
            at=at,
            endpoint_id=endpoint.id,
            delivery_id=delivery.id if delivery is not None else None,
            generation=generation,
        )

    def record(self, outbound: Outbound, outcome: Outcome) -> None:
        """Settle an attempt: delivered, or failed with its retry scheduled, or dead."""
        delivery = self.deliveries.get(outbound.delivery_id or "")
        if delivery is None or delivery.generation != outbound.generation:
            return  # deleted, or replayed while it was in flight
        endpoint = self.endpoints[delivery.endpoint_id]
        delivery.attempts += 1
        delivery.last_status_code = outcome.status_code
        endpoint.last_delivery_at = outbound.at
        if outcome.ok:
            self._set_status(delivery, "delivered")
            delivery.delivered_at = outbound.at
            delivery.last_error = None
            delivery.due = None
            endpoint.consecutive_failures = 0
            return
        delivery.last_error = outcome.error or f"The endpoint answered {outcome.status_code}."
        endpoint.consecutive_failures += 1
        if endpoint.enabled and endpoint.consecutive_failures >= AUTO_DISABLE_AFTER:
            endpoint.disabled_reason = (
                f"Disabled after {endpoint.consecutive_failures} consecutive failed deliveries."
            )
            self._withdraw_after(endpoint, outbound.at)
            self._disable(endpoint)
        if delivery.attempts >= MAX_ATTEMPTS or not endpoint.enabled:
            self._set_status(delivery, "dead_letter")
            delivery.due = None
            return
        self._set_status(delivery, "failed")
        delivery.due = outbound.at + RETRY_DELAYS[delivery.attempts - 1]
        heapq.heappush(self._due, (delivery.due, delivery.seq, delivery.id, delivery.generation))

    def delivery_listing(
        self, key: ApiKey, *, endpoint_id: str | None, status: str | None
    ) -> Sequence[WebhookDelivery]:
        """The organization's deliveries, newest first, filtered (a view: do not change it).

        Any filter is an index: a page costs the page.
        """
        if endpoint_id is not None:
            owner = self.find(key, endpoint_id).id
            if status is None:
                return NewestFirst(self._deliveries_by_endpoint.get(owner, []))
        else:
            owner = key.organization_id
            if status is None:
                index = self._deliveries_by_org.get(owner)
                return index.newest if index is not None else ()
        found = self._deliveries_by_status.get((owner, status))
        return found.newest if found is not None else ()

    def _file_status(self, delivery: WebhookDelivery) -> None:
        for owner in (delivery.organization_id, delivery.endpoint_id):
            index_in(self._deliveries_by_status, (owner, delivery.status), by_seq).add(delivery)

    def _set_status(self, delivery: WebhookDelivery, status: DeliveryStatus) -> None:
        if delivery.status == status:
            return
        for owner in (delivery.organization_id, delivery.endpoint_id):
            self._deliveries_by_status[owner, delivery.status].remove(delivery)
        delivery.status = status
        self._file_status(delivery)

    def replay(self, key: ApiKey, delivery_id: str) -> WebhookDelivery:
        """Re-queue a failed or dead-letter delivery now, with a fresh retry budget."""
        delivery = self.deliveries.get(delivery_id.lower())
        if delivery is None or delivery.organization_id != key.organization_id:
            raise NotFound(f"Webhook delivery '{delivery_id}' not found")
        if delivery.status not in ("failed", "dead_letter"):
            raise Conflict(
                f"Only a failed or dead_letter delivery can be replayed; this one is "
                f"'{delivery.status}'."
            )
        endpoint = self.endpoints[delivery.endpoint_id]
        if not endpoint.enabled:
            raise Conflict(
                f"The webhook endpoint '{endpoint.url}' is disabled: enable it "
                "(update(enabled=True)) before replaying its deliveries."
            )
        now = self._world.now()
        delivery.generation += 1
        self._set_status(delivery, "pending")
        delivery.attempts = 0
        delivery.due = now
        heapq.heappush(self._due, (now, delivery.seq, delivery.id, delivery.generation))
        return delivery

    def test_event(self, key: ApiKey, endpoint_id: str) -> Outbound:
        """A signed synthetic event for the endpoint, to send at once (never logged)."""
        endpoint = self.find(key, endpoint_id)
        world = self._world
        now = world.now()
        event_id = f"evt_{world.ids.hex(24)}"
        body = _encode(
            {
                "id": event_id,
                "type": TEST_EVENT,
                "created_at": self._iso(now),
                "organization_id": endpoint.organization_id,
                "title": "Test event",
                "message": "A test event sent by webhooks.test().",
                "data": {"endpoint_id": endpoint.id},
            }
        ).encode()
        return self._outbound(endpoint, WebhookEvent(event_id, TEST_EVENT, now, body), now, None)


# ── checks (all before any change) ──


def _invalid(name: str, message: str, kind: str = "value_error") -> InvalidRequest:
    return InvalidRequest(message, errors=[field_error(("body", name), message, kind)])


def _check_url(url: str) -> str:
    """Refuse a URL that is not https or not publicly routable; return it unchanged."""
    if len(url) > _MAX_URL:
        raise _invalid("url", f"'url' must be at most {_MAX_URL} characters.")
    # Refusals quote the URL without what it says before an '@': a password, say.
    shown = _USERINFO.sub("***@", url, count=1)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise _invalid("url", f"'{shown}' is not a valid URL.") from None
    if parts.scheme != "https":
        raise _invalid("url", f"A webhook URL must be https, got '{shown}'.")
    if (unsafe := _URL_UNSAFE.search(url)) is not None:
        raise _invalid(
            "url",
            f"'url' holds {json.dumps(unsafe.group())} at position {unsafe.start()}: "
            "spaces and control characters must be percent-encoded.",
        )
    if not host:
        raise _invalid("url", f"'{shown}' has no host.")
    if port == 0:
        raise _invalid("url", f"'{shown}' names port 0, which nothing listens on.")
    if parts.username is not None or parts.password is not None:
        raise _invalid("url", "A webhook URL must not carry credentials; use auth_headers.")
    if not host.isascii():
        # Checked as a sender resolves it: IDNA reads '。', '．' and '｡' as dots and
        # full-width letters and digits as ASCII ones, so '127。0.0.1' is 127.0.0.1.
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise _invalid("url", f"'{shown}' has a host name IDNA cannot encode.") from None
    if ":" not in host and "" in host.rstrip(".").split("."):
        raise _invalid("url", f"'{shown}' has a host name with an empty label ('..').")
    if _private_host(host):
        raise _invalid(
            "url",
            f"'{host}' is not publicly routable: private, loopback, link-local and "
            "cloud-metadata targets are refused.",
        )
    return url


def _private_host(host: str) -> bool:
    # A trailing dot names the same host (``localhost.`` is localhost).
    name = host.rstrip(".")
    address = _address(name)
    if address is None:
        return _private_name(name)
    if isinstance(address, ipaddress.IPv6Address) and (
        address.is_site_local
        or address in _NAT64_LOCAL
        or not all(_public(e) for e in _embedded(address))
    ):
        return True
    return not _public(address)


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, however it is spelled; ``None`` for a name."""
    try:
        return ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # Multicast is no one receiver (and `is_global` calls some of it global).
    return address.is_global and not address.is_multicast


def _private_name(name: str) -> bool:
    # Local names, and single labels (resolved inside a network), are private.
    return name in _PRIVATE_HOSTS or name.endswith(_PRIVATE_SUFFIXES) or "." not in name


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one reaches through: mapped, translated, 6to4, NAT64,
    compatible."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address in _NAT64 or address in _COMPATIBLE or address in _TRANSLATED:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _check_event_types(types: list[str]) -> list[str]:
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise _invalid(
            "event_types",
            f"Unknown event type(s): {', '.join(repr(t) for t in unknown)}. "
            f"Choose from: {', '.join(EVENT_TYPES)} (or send none to receive all).",
            "literal_error",
        )
    return list(dict.fromkeys(types))


def _check_auth_headers(headers: dict[str, Any]) -> dict[str, str]:
    if len(headers) > _MAX_AUTH_HEADERS:
        raise _invalid(
            "auth_headers", f"At most {_MAX_AUTH_HEADERS} auth headers, got {len(headers)}."
        )
    seen: dict[str, str] = {}
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise _invalid("auth_headers", f"'{name}' is not a valid HTTP header name.")
        # Header names are case-insensitive: two spellings are one header, and a delivery
        # could carry only one of their values.
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise _invalid(
                "auth_headers",
                f"'{other}' and '{name}' name the same header (header names are "
                "case-insensitive): send it once.",
            )
        if not isinstance(value, str):
            raise _invalid("auth_headers", f"The value of header '{name}' must be a string.")
        if name.lower() in _FRAMING_HEADERS:
            raise _invalid(
                "auth_headers",
                f"'{name}' frames the request and is set by Pictograph; it cannot be an "
                "auth header.",
            )
        if len(value) > _MAX_HEADER_VALUE or not _HEADER_VALUE.fullmatch(value):
            raise _invalid(
                "auth_headers",
                f"The value of header '{name}' must be 1 to {_MAX_HEADER_VALUE} characters "
                "on one line, printable ASCII.",
            )
    return dict(headers)


def _check_description(description: Any) -> None:
    if description is not None and len(description) > _MAX_DESCRIPTION:
        raise _invalid(
            "description", f"'description' must be at most {_MAX_DESCRIPTION} characters."
        )
