"""The API as one function: method, raw path, headers and body in; status, headers, body out.

Adapters (the httpx transport, the server) stay thin because everything that makes the
fake speak like the API happens here: raw-path routing with per-segment decoding,
authentication, Idempotency-Key replay, the error envelope and ``X-Request-Id``.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple
from xml.sax.saxutils import escape

from pictograph_testing.api import gateway, messages, stream_calls
from pictograph_testing.api.caches import WireCache
from pictograph_testing.api.dialects import NEWEST, sdk_client_of, sdk_version_of
from pictograph_testing.api.errors import error_body, gateway_error_body, refusal_body
from pictograph_testing.api.idempotency import (
    IdempotencySlot,
    IdempotencyStore,
    StoredResponse,
    body_fingerprint,
)
from pictograph_testing.api.resources import ROUTER
from pictograph_testing.api.route_paths import (
    API_PREFIX,
    API_ROOT,
    DEVELOPER_PATH,
    below_mount,
    decoded_path,
    one_spelling,
    other_spelling,
)
from pictograph_testing.api.spec import Str, check_body, check_query
from pictograph_testing.api.table import (
    API_METHODS,
    WRITES,
    Fallthrough,
    method_not_allowed,
    no_route,
)
from pictograph_testing.api.unserved import NotImplementedByFake, UnservedCall
from pictograph_testing.api.wire import Call, Reply, encode
from pictograph_testing.catalog import IDEMPOTENCY_TTL_SECONDS, MAX_IMAGE_BYTES
from pictograph_testing.faults import Faults, TransportFault
from pictograph_testing.journal import JOURNAL_LIMIT, CallLog
from pictograph_testing.stream_socket import InProcessResults, closed_connection
from pictograph_testing.world.errors import (
    ApiRefusal,
    Conflict,
    InvalidRequest,
    NotFound,
    field_error,
)
from pictograph_testing.world.storage import STORAGE_PREFIX, SignedUpload
from pictograph_testing.world.streams import Closing, ResultsReader
from pictograph_testing.world.webhooks import Outcome

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pictograph_testing.api.dialects import Client, Version, Wire
    from pictograph_testing.api.table import Endpoint
    from pictograph_testing.faults import Refusal, RequestFault
    from pictograph_testing.world.entities import ApiKey
    from pictograph_testing.world.state import World
    from pictograph_testing.world.webhooks import Courier

__all__ = ["MAX_BODY_BYTES", "Answered", "Api", "Response", "body_too_large"]

_UPPER_VERBS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods as clients send them: taken as they are, where any other is upper-cased."""
MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest API request body taken (JSON); larger ones get 413 ``payload_too_large``.
Signed-URL uploads go to storage, which takes one image: at most ``MAX_IMAGE_BYTES``."""

Response = tuple[int, list[tuple[str, str]], bytes]
_Route = tuple["Callable[[Call], Reply]", dict[str, str]]
"""What answers a call on one endpoint (see :func:`_server`), and the path's arguments."""
_Routed = tuple[str, "Version", "Client", tuple[_Route, ...]]
"""A resolved route: the path below the mount, the release and client answered, and what
answers every endpoint reached (in the caller's dialect), with its path arguments."""
_ROUTED_LIMIT = 1024


class Answered(NamedTuple):
    """An answer, and the real seconds an injected delay holds it back (0 mostly)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    hold: float


_DROPPED = {
    "connect": "[Errno 111] Connection refused",
    "connect_timeout": "timed out while connecting",
    "read_timeout": "The read operation timed out",
    "read_error": "[Errno 104] Connection reset by peer",
}
_UNSENT = Outcome(None, "This API has no courier: webhooks are not sent.")
_CANCELLED = "cancelled while the webhook receiver was awaited"
_CANCELLED_DELAY = "cancelled while the answer was delayed"
_NO_ANSWER = Reply(0, b"")


class Api:
    """Answer requests against one world, as the Pictograph API would."""

    def __init__(
        self,
        world: World,
        base_url: str,
        sdk_version: Version | None = None,
        *,
        journal_limit: int = JOURNAL_LIMIT,
    ) -> None:
        self.world = world
        self._sdk_version = sdk_version
        self.base_url = base_url.rstrip("/")
        path_start = self.base_url.find("/", self.base_url.find("//") + 2)
        self._mount = self.base_url[path_start:] if path_start != -1 else ""
        self._requests = 0
        self._request_prefix = f"req_{world.seed & 0xFFFF:04x}"
        self._idempotency_keys: dict[str, str] = {}
        """The ``Idempotency-Key`` of each request sent one and not journaled yet, by
        request id: the journal keeps it (a poll sends none, so this stays empty)."""
        self.server_errors: list[BaseException] = []
        """Exceptions the fake raised while answering (each answered as a 500)."""
        self.journal = CallLog(journal_limit, lock=world.lock)
        """The newest requests answered, undecoded; ``FakePictograph.calls`` reads them."""
        self.idempotency = IdempotencyStore()
        """Answers kept under their Idempotency-Key: a retry within the TTL replays them."""
        self.wire_cache = WireCache()
        """Encodings kept between requests (timestamps, runs): derived, never world state."""
        self.urls = (self.base_url, gateway.gateway_url(self.base_url))
        """Where the API and the deployments' gateway are: a URL of either names a path."""
        self.faults = Faults(world, self._mount, self.urls)
        """The faults armed on this API (``FakePictograph.faults``)."""
        self.courier: Courier | None = None
        """Sends the world's webhooks (set by the fake); ``None``: nothing is sent."""
        self._attempts = world.agenda.attempts
        """The world's queue of webhook attempts: a request looks at it before asking the
        courier to send anything."""
        self.unserved: list[UnservedCall] = []
        """Calls to routes the fake does not serve (``FakePictograph.unserved_calls``)."""
        self._routed: dict[tuple[str, str, str | None], _Routed] = {}
        """Routes resolved, by method, path as sent and User-Agent: polling asks the same
        few thousands of times. Cleared when the release answered as changes."""

    @property
    def sdk_version(self) -> Version | None:
        """The SDK release to answer as, whatever the User-Agent says; ``None``: read it
        from the User-Agent (the newest release when it names none)."""
        return self._sdk_version

    @sdk_version.setter
    def sdk_version(self, version: Version | None) -> None:
        self._sdk_version = version
        self._routed = {}

    def handle(
        self,
        method: str,
        raw_target: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float | None = None,
    ) -> Response:
        """Answer one request; ``raw_target`` is the path and query exactly as sent.

        ``timeout`` is the client's read timeout, if it has one: an injected delay that
        long or longer ends in a read timeout (in process, a delay is settled against
        it). An injected transport error is raised as
        :class:`~pictograph_testing.faults.TransportFault`, for the adapter to translate.
        Webhooks are sent outside the world lock (see :attr:`courier`): those already
        queued and due before the request is answered, those it made due after.
        """
        courier = self.courier
        # Attempts are queued only while a webhook endpoint exists: mostly nothing to send.
        attempts = self._attempts
        if attempts and courier is not None:
            courier.deliver_due()
        answer, request_id, _, _ = self._locked(method, raw_target, headers, body, timeout)
        if answer.after_send is not None:
            outbound = answer.after_send.outbound
            if courier is None:
                outcome = _UNSENT
            else:
                try:
                    outcome = courier.send(outbound)
                except BaseException as exc:  # a receiver that called pytest.fail, say
                    self._journal_interrupted(method, raw_target, body, request_id, answer, exc)
                    raise
            answer = self._sent(method, raw_target, body, request_id, answer, outcome)
        if attempts and courier is not None:
            courier.deliver_due()
        return _response(answer, request_id, method)

    async def handle_async(
        self,
        method: str,
        raw_target: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float | None = None,
        *,
        deliver: bool = True,
        sleep_delays: bool = False,
    ) -> Answered:
        """:meth:`handle` for an event loop, with the seconds an injected delay holds the
        answer back (an adapter with real time, the server, waits that long before it
        answers, so a client's own timeout fires). Webhooks go to async receivers on this
        loop.

        ``deliver=False`` leaves due webhooks for the caller to send after answering
        (:meth:`deliver_async`: the server does, so a slow receiver never delays a reply).
        ``sleep_delays=True`` (the in-process transport) sleeps an injected delay on the
        virtual clock (:meth:`VirtualClock.async_sleep`) before answering, so the delays
        of requests in flight together overlap, as against a slow API; without it the
        clock moves by the delay at once, as :meth:`handle` moves it.
        """
        attempts = self._attempts  # as in handle
        if deliver and attempts and self.courier is not None:
            await self.courier.deliver_due_async()
        answer, request_id, hold, fault = self._locked(
            method, raw_target, headers, body, timeout, defer_delay=sleep_delays
        )
        if sleep_delays and hold:
            await self._held(method, raw_target, body, request_id, answer, fault, hold, timeout)
            hold = 0.0  # waited out already
        if answer.after_send is not None:
            outbound = answer.after_send.outbound
            if self.courier is None:
                outcome = _UNSENT
            else:
                try:
                    outcome = await self.courier.send_async(outbound)
                except BaseException as exc:  # the caller stopped waiting, most often
                    self._journal_interrupted(method, raw_target, body, request_id, answer, exc)
                    raise
            answer = self._sent(method, raw_target, body, request_id, answer, outcome)
        if deliver and attempts and self.courier is not None:
            await self.courier.deliver_due_async()
        return _answered(answer, request_id, hold, method)

    async def deliver_async(self) -> int:
        """Send every webhook attempt due by now; return how many were sent."""
        return 0 if self.courier is None else await self.courier.deliver_due_async()

    async def _held(
        self,
        method: str,
        raw_target: str,
        body: bytes,
        request_id: str,
        answer: Reply,
        fault: str | None,
        delay: float,
        timeout: float | None,
    ) -> None:
        """Wait out a delay deferred by :meth:`_locked` on the virtual clock, then journal
        the answer (at the moment it is given), or the timeout the client meets first."""
        clock = self.world.clock
        times_out = timeout is not None and delay >= timeout
        try:
            # The client gives up at its timeout; the work is done all the same.
            wait = timeout if times_out and timeout is not None else delay
            # Never past the clock's horizon (see _faulted): it stops a second short.
            await clock.async_sleep(min(wait, clock.room()))
        except BaseException:
            # Cancelled while it waited (a caller's own deadline, say): handled, unanswered.
            with self.world.lock:
                self._journal(
                    method, raw_target, body, _NO_ANSWER, f"{fault}; {_CANCELLED_DELAY}", request_id
                )
            raise
        if times_out:
            with self.world.lock:
                raise self._dropped(
                    method, raw_target, body, request_id, "read_timeout", f"{fault}: timed out"
                )
        if answer.after_send is None:
            with self.world.lock:
                self._journal(method, raw_target, body, answer, fault, request_id)

    def _locked(
        self,
        method: str,
        raw_target: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float | None,
        *,
        defer_delay: bool = False,
    ) -> tuple[Reply, str, float, str | None]:
        """Answer under the world lock, and journal the answer unless a webhook is awaited.

        Returns the answer, its request id, the seconds an injected delay holds it back and
        the fault's label. ``defer_delay``: a delay neither moves the clock nor times out
        here, and its answer is not journaled: the caller waits it out (:meth:`_held`).
        """
        # Most targets carry no query: a membership test costs less than a partition.
        path, _, query = raw_target.partition("?") if "?" in raw_target else (raw_target, "", "")
        hold = 0.0
        lock = self.world.lock
        # acquire/release, not `with`: the same lock for half the cost on every request.
        lock.acquire()
        try:
            self._requests += 1
            request_id = self._request_id()
            idempotency_key = headers.get("idempotency-key")
            if idempotency_key is not None:
                self._idempotency_keys[request_id] = idempotency_key
            if self.faults.armed:
                answer, fault, hold = self._faulted(
                    method,
                    raw_target,
                    path,
                    query,
                    headers,
                    body,
                    timeout,
                    request_id,
                    defer_delay=defer_delay,
                )
            else:
                answer, fault = self._answer(method, path, query, headers, body), None
            if answer.after_send is None:
                if not (defer_delay and hold):
                    self._journal(method, raw_target, body, answer, fault, request_id)
            elif fault is not None:
                answer.after_send = replace(answer.after_send, fault=fault)
        finally:
            lock.release()
        return answer, request_id, hold, fault

    def _sent(
        self,
        method: str,
        raw_target: str,
        body: bytes,
        request_id: str,
        waiting: Reply,
        outcome: Outcome,
    ) -> Reply:
        """The answer of a request that awaited a webhook, journaled now it is known."""
        assert waiting.after_send is not None
        answer = waiting.after_send.finish(outcome)
        with self.world.lock:
            self._journal(method, raw_target, body, answer, waiting.after_send.fault, request_id)
        return answer

    def _journal_interrupted(
        self,
        method: str,
        raw_target: str,
        body: bytes,
        request_id: str,
        waiting: Reply,
        exc: BaseException,
    ) -> None:
        """Journal a request whose webhook send ``exc`` interrupted: no answer was left to
        give, but the call belongs in the journal, as a dropped one (status 0)."""
        assert waiting.after_send is not None
        what = (
            _CANCELLED
            if isinstance(exc, asyncio.CancelledError)
            else f"interrupted while the webhook receiver ran: {type(exc).__name__}"
        )
        fault = waiting.after_send.fault
        label = what if fault is None else f"{fault}; {what}"
        with self.world.lock:
            self._journal(method, raw_target, body, _NO_ANSWER, label, request_id)

    def _journal(
        self,
        method: str,
        raw_target: str,
        body: bytes,
        answer: Reply,
        fault: str | None,
        request_id: str,
    ) -> None:
        # One entry of immutable values per call, decoded only when a test reads the
        # journal: it must cost next to nothing on the hot path. No headers: holding
        # each request's Headers object alive makes every garbage collection slower.
        if answer.fault is not None:  # a refusal a test armed in the world
            fault = answer.fault if fault is None else f"{fault}; {answer.fault}"
        keys = self._idempotency_keys
        self.journal.record(
            method,
            raw_target,
            body,
            answer.status,
            answer.body,
            self.world.clock.monotonic(),
            request_id,
            fault,
            keys.pop(request_id, None) if keys else None,
        )

    def results_socket(self, raw_target: str, headers: Mapping[str, str]) -> InProcessResults:
        """Connect to a stream's results socket (a gateway path), in process: each read
        lets the virtual clock run, outside the world lock, to the next message."""
        opened = self.open_results(raw_target, headers)
        if isinstance(opened, Closing):
            return closed_connection(*opened)
        reader = opened
        clock = self.world.clock

        def next_message() -> tuple[bytes | None, tuple[int, str] | None]:
            while True:
                got, due = self.next_result(reader)
                if isinstance(got, Closing):
                    return None, (got.code, got.reason)
                if got is not None:
                    return got, None
                clock.reach(due)

        return InProcessResults(next_message)

    def open_results(self, raw_target: str, headers: Mapping[str, str]) -> ResultsReader | Closing:
        """Open a stream's results socket (a gateway path): its reader, or the close it
        answers at once (the gateway's refusal as ``4xxx``, a stream gone or unknown).

        The handshake is journaled as a ``GET`` (``101`` when the socket opened, the
        refusal's status otherwise); the messages are not, as a stream sends several a
        second.
        """
        path = raw_target.partition("?")[0]
        path = below_mount(path, self._mount)
        world = self.world
        with world.lock:
            self._requests += 1
            request_id = self._request_id()
            now = world.catch_up()
            inner = path[len(gateway.GATEWAY_PREFIX) :]
            served = (
                gateway.served_host(world, inner, headers)
                if path.startswith(gateway.GATEWAY_PREFIX + "/")
                else Reply(404, b"")
            )
            if isinstance(served, Reply):
                self.journal.record(
                    "GET", raw_target, b"", served.status, served.body, now, request_id, None
                )
                return Closing(4000 + served.status, _slug_of(served.body))
            self.journal.record("GET", raw_target, b"", 101, b"", now, request_id, None)
            return stream_calls.open_results(world, served, inner, now)

    def next_result(self, reader: ResultsReader) -> tuple[bytes | Closing | None, float]:
        """A results socket's next message (encoded) or its close, if due by now; else
        ``None`` and the virtual instant the next one is due."""
        try:
            with self.world.lock:
                now = self.world.catch_up()
                got = reader.take(now)
                if got is None:
                    return None, reader.due()
            return (got if isinstance(got, Closing) else encode(got)), now
        except Exception as exc:  # never a traceback in the reader: its engine stopped
            self.server_errors.append(exc)
            reason = (
                f"its engine stopped: pictograph-testing failed ({type(exc).__name__}); "
                "see FakePictograph.server_errors"
            )
            return Closing(1000, reason), self.world.clock.monotonic()

    def refuse(self, method: str, raw_target: str, refusal: ApiRefusal) -> Response:
        """Answer, and journal, a request an adapter refused before handling it.

        The server refuses targets and headers too long to serve, and Hosts it does not
        answer to; the refusal is journaled like any call, with no body and the target
        cut to the journal's body limit.
        """
        return self._refused(method, raw_target, Reply(refusal.status, refusal_body(refusal)))

    def refuse_oversized(self, method: str, raw_target: str, size: int) -> Response:
        """Answer, and journal, a body over :meth:`body_limit` that the adapter did not keep.

        ``size`` is what was received (or announced) before the adapter stopped keeping it.
        """
        if _is_storage(raw_target.partition("?")[0], self._mount):
            slot = self._storage_slot(raw_target)
            return self._refused(method, raw_target, _storage_too_large(size, slot))
        refusal = body_too_large(size)
        return self._refused(method, raw_target, Reply(refusal.status, refusal_body(refusal)))

    def _refused(self, method: str, raw_target: str, answer: Reply) -> Response:
        with self.world.lock:
            self._requests += 1
            request_id = self._request_id()
            self.journal.record(
                method,
                raw_target[: self.journal.body_limit],
                b"",
                answer.status,
                answer.body,
                self.world.clock.monotonic(),
                request_id,
                None,
            )
        return _response(answer, request_id, method)

    def _answer(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        if method not in _UPPER_VERBS:
            method = method.upper()
        # HEAD is served wherever GET is: GET's answer, sent without its body.
        verb = "GET" if method == "HEAD" else method
        try:
            agent = headers.get("user-agent")
            slot = (verb, path, agent)
            routed = self._routed.get(slot)
            if routed is None:
                first = self._first_look(slot, headers, body)
                if isinstance(first, Reply):
                    return first
                routed = first
            api_path, sdk, client, matches = routed
            if len(body) > MAX_BODY_BYTES:
                raise body_too_large(len(body))
            world = self.world
            # The world is caught up for a refused key too: its time passes all the same.
            now = world.catch_up()
            key = world.authenticate(headers.get("x-api-key"), now)
            idempotency_key = headers.get("idempotency-key") if verb in WRITES else None
            for served, path_args in matches:
                call = Call(
                    verb,
                    path_args,
                    query,
                    body,
                    key,
                    world,
                    now,
                    self.base_url,
                    self.wire_cache,
                    sdk,
                    client,
                    # Only a body has a type to check: a poll reads no header more.
                    headers.get("content-type") if body else None,
                )
                try:
                    if idempotency_key is None:
                        return served(call)
                    return self._idempotent(call, key, idempotency_key, api_path, served)
                except Fallthrough:
                    continue
            raise no_route(verb, api_path)
        except ApiRefusal as refusal:
            if isinstance(refusal, NotImplementedByFake):
                self.unserved.append(
                    UnservedCall(
                        refusal.method,
                        refusal.path,
                        refusal.sdk_methods,
                        self._request_id(),
                        self.world.clock.now(),
                    )
                )
            return _refusal_reply(refusal)
        except Exception as exc:  # the fake must never send a traceback
            self.server_errors.append(exc)
            return Reply(
                500,
                error_body(
                    "internal_error",
                    f"pictograph-testing failed to answer {method} {path} "
                    f"({type(exc).__name__}); see FakePictograph.server_errors.",
                ),
            )

    def _faulted(
        self,
        method: str,
        raw_target: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float | None,
        request_id: str,
        *,
        defer_delay: bool = False,
    ) -> tuple[Reply, str | None, float]:
        """Answer a request while faults are armed: the slow path, taken only then."""
        decoded = decoded_path(path)
        fault, refusal, label = self.faults.intercept(
            method.upper(), decoded, headers.get("x-api-key")
        )
        if refusal is not None:
            return _refused(refusal), label, 0.0
        if fault is not None and fault.error is not None and not fault.after:
            raise self._dropped(method, raw_target, body, request_id, fault.error, label)
        answer = self._answer(method, path, query, headers, body)
        if fault is None:
            return answer, label, 0.0
        if answer.after_send is not None and not fault.delay:
            # The work still holds a webhook to send (`webhooks.test`): it goes out, as
            # the handler's work does, and only then is its answer lost.
            lost = functools.partial(
                self._lost,
                answer.after_send.finish,
                fault,
                label,
                decoded,
                method,
                raw_target,
                body,
                request_id,
            )
            answer.after_send = replace(answer.after_send, finish=lost)
            return answer, label, 0.0
        if fault.error is not None:
            raise self._dropped(method, raw_target, body, request_id, fault.error, label)
        if fault.delay:
            # Armed when it fitted, a delay the clock has no room for since (it was moved
            # near its horizon) takes the room left: the clock stops there, as a clock
            # running by itself stops, rather than refusing the request.
            if defer_delay:
                # Whether the client times out is the full delay's to say, as below:
                # the wait itself is clamped where it is slept (_held).
                return answer, label, fault.delay
            room = self.world.clock.room()
            delay = min(fault.delay, room)
            if timeout is not None and fault.delay >= timeout:
                # The client gives up at its timeout; the work is done all the same.
                self.world.clock.advance(min(timeout, room))
                raise self._dropped(
                    method, raw_target, body, request_id, "read_timeout", f"{label}: timed out"
                )
            self.world.clock.advance(delay)
            return answer, label, delay
        return _refused(self.faults.refusal(fault, decoded)), label, 0.0

    def _lost(
        self,
        finish: Callable[[Outcome], Reply],
        fault: RequestFault,
        label: str | None,
        decoded: str,
        method: str,
        raw_target: str,
        body: bytes,
        request_id: str,
        outcome: Outcome,
    ) -> Reply:
        """The answer an ``after=True`` fault leaves of a request whose webhook was sent:
        its status refusal, or no answer at all (a transport error, journaled here)."""
        finish(outcome)
        if fault.error is not None:
            with self.world.lock:
                raise self._dropped(method, raw_target, body, request_id, fault.error, label)
        return _refused(self.faults.refusal(fault, decoded))

    def _dropped(
        self,
        method: str,
        raw_target: str,
        body: bytes,
        request_id: str,
        kind: str,
        label: str | None,
    ) -> TransportFault:
        """Journal a request that gets no answer (status 0) and return the error to raise."""
        self.journal.record(
            method,
            raw_target,
            body,
            0,
            b"",
            self.world.clock.monotonic(),
            request_id,
            label,
            self._idempotency_keys.pop(request_id, None),
        )
        return TransportFault(kind, f"{_DROPPED[kind]} (injected by pictograph-testing)")

    def _first_look(
        self, slot: tuple[str, str, str | None], headers: Mapping[str, str], body: bytes
    ) -> _Routed | Reply:
        """Route a request not seen before (and remember the route), or answer one for
        the storage or a deployment's gateway, which are not routed."""
        method, path, agent = slot
        path = below_mount(path, self._mount)
        if path == STORAGE_PREFIX[:-1] or path == gateway.GATEWAY_PREFIX:
            path += "/"  # the fake's own roots, in their other spelling
        if path.startswith(STORAGE_PREFIX):
            return self._storage(method, path, headers, body)
        if path.startswith(gateway.GATEWAY_PREFIX + "/"):
            # A deployment's endpoint: its own token and error shape, not the API's.
            inner = path[len(gateway.GATEWAY_PREFIX) :]
            return gateway.answer(self.world, self.base_url, method, inner, headers, body)
        routed = self._route(method, path, agent)
        if len(self._routed) >= _ROUTED_LIMIT:
            self._routed.clear()
        self._routed[slot] = routed
        return routed

    def _route(self, method: str, path: str, agent: str | None) -> _Routed:
        """Resolve an API path (the mount removed) for the release and client ``agent``
        names: the endpoints it reaches, each with its path arguments and dialect.

        Refuse a path outside the API, or one no endpoint of the caller's release serves,
        and a method no route takes.
        """
        if not path.startswith("/"):
            # Neither origin form nor an http(s) URL (RFC 9112, 3.2): no path of the API,
            # and no gap of the fake either.
            raise InvalidRequest(
                f"The request target '{path}' is not a path: send one that starts with "
                "'/' (or an http or https URL, to a proxy).",
                status=400,
                code="bad_request_target",
            )
        raw = _route_key(path)
        sdk = self.sdk_version or sdk_version_of(agent) or NEWEST
        client = sdk_client_of(agent)
        # A route's other spelling, with or without its final '/', is answered directly:
        # no client follows a redirect (the wire spec, section 0.3).
        other = None if raw is None else other_spelling(raw)
        if method not in API_METHODS:
            allowed = [] if raw is None else ROUTER.methods_at(raw, sdk, client)
            if not allowed and other is not None:
                allowed = ROUTER.methods_at(other, sdk, client)
            raise method_not_allowed(method, path, allowed)
        if path in _API_ROOTS:
            # No route lies at the roots themselves; a path the client normalised onto
            # one (a name `..` joined to `/training/`) is the API's own 404, not a gap.
            raise no_route(method, path)
        if raw is None:
            raise _not_served(method, path)
        matches = ROUTER.candidates(method, raw, sdk, client)
        if not matches and other is not None:
            matches = ROUTER.candidates(method, other, sdk, client)
        if not matches:
            # A path retired in the caller's release, or one an old release calls that
            # the API never had, in either spelling: the API's own 404. Anything else is
            # a route the fake does not serve.
            if any(
                ROUTER.serves_another_release(method, spelling)
                or ROUTER.unrouted(method, spelling)
                or ROUTER.sent_empty(method, spelling)
                for spelling in (raw, other)
                if spelling is not None
            ):
                raise no_route(method, path)
            raise _not_served(method, path)
        routes = tuple(
            (_server(found, found.wire_for(sdk, client) if found.wires else None), args)
            for found, args in matches
        )
        return path, sdk, client, routes

    def _request_id(self) -> str:
        """The ``X-Request-Id`` of the request being answered: the prefix, then the
        request's number in 12 hex digits."""
        # Six bytes' hex is those 12 digits, zero-padded, without the format-spec
        # machinery an f-string's `:012x` runs on every request.
        return self._request_prefix + self._requests.to_bytes(6, "big").hex()

    def _idempotent(
        self,
        call: Call,
        key: ApiKey,
        idempotency_key: str,
        path: str,
        handler: Callable[[Call], Reply],
    ) -> Reply:
        """Replay the stored answer to a repeated Idempotency-Key instead of acting twice."""
        # Scoped to the key that sent it: another key (a viewer's, say) reusing the
        # Idempotency-Key is a new request of its own, never a replay of this one.
        slot = (key.organization_id, key.key_id, idempotency_key)
        stored = self.idempotency.get(slot)
        fingerprint = body_fingerprint(call.body, call.content_type)
        # The query is the request too: `models.predict` sends its thresholds in it.
        target = f"{path}?{call.raw_query}" if call.raw_query else path
        if stored is not None and stored.expires_at > call.now:
            # Either spelling of the route is the same request (see other_spelling).
            if (stored.method, _one_target(stored.path), stored.body_fingerprint) != (
                call.method,
                _one_target(target),
                fingerprint,
            ):
                raise Conflict(
                    f"Idempotency-Key '{idempotency_key}' was already used for a different "
                    f"request ({stored.method} {stored.path}); use a new key for a new request.",
                )
            return Reply(
                stored.status, stored.body, (*stored.headers, ("idempotent-replayed", "true"))
            )
        try:
            answer = handler(call)
        except ApiRefusal as refusal:
            answer = _refusal_reply(refusal)
        keep = functools.partial(self._keep, slot, call.method, target, fingerprint, call.now)
        if answer.after_send is None:
            keep(answer)
        else:
            # Known once its webhook was sent (`webhooks.test`): kept then, so a retry
            # replays it rather than sending another test event.
            finish = answer.after_send.finish
            answer.after_send = replace(answer.after_send, finish=lambda o: keep(finish(o)))
        return answer

    def _keep(
        self,
        slot: IdempotencySlot,
        method: str,
        target: str,
        fingerprint: bytes,
        now: float,
        answer: Reply,
    ) -> Reply:
        """Keep ``answer`` under its Idempotency-Key; return it."""
        # Server errors and throttling mean nothing was done: a retry must act afresh.
        if answer.status < 500 and answer.status != 429:
            stored = StoredResponse(
                method,
                target,
                fingerprint,
                answer.status,
                answer.headers,
                answer.body,
                now + IDEMPOTENCY_TTL_SECONDS,
            )
            with self.world.lock:  # a webhook's answer is finished outside the lock
                self.idempotency.keep(slot, stored, now)
        return answer

    def _storage(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        token = path[len(STORAGE_PREFIX) :].split("/", 1)[0]
        if method == "PUT":
            return self._storage_put(token, headers, body)
        if method not in ("GET", "HEAD"):
            return _storage_error(405, "MethodNotAllowed", "Signed URLs take GET or PUT.")
        blob = self.world.storage.resolve(token)
        if blob is None:
            return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
        if self.world.now() >= blob.expires_at:
            return _storage_error(403, "AccessDenied", "Request has expired.")
        content = blob.produce()
        if content is None:  # deleted since it was signed, as a bucket's object would be
            return _storage_error(404, "NoSuchKey", "The specified key does not exist.")
        return Reply(200, content, content_type=blob.content_type)

    def body_limit(self, raw_target: str) -> int:
        """The most bytes a body sent to this target may hold (storage: what its signed
        URL takes, one image unless it was signed for a video)."""
        if not _is_storage(raw_target, self._mount):
            return MAX_BODY_BYTES
        slot = self._storage_slot(raw_target)
        return MAX_IMAGE_BYTES if slot is None else slot.max_bytes

    def _storage_slot(self, raw_target: str) -> SignedUpload | None:
        """The signed upload a storage target names, if any (read without the lock: a
        token's slot is made once and never changes what it takes)."""
        path = raw_target.partition("?")[0]
        path = below_mount(path, self._mount)
        token = path[len(STORAGE_PREFIX) :].split("/", 1)[0]
        return self.world.storage.upload_slot(token)

    def _storage_put(self, token: str, headers: Mapping[str, str], body: bytes) -> Reply:
        slot = self.world.storage.upload_slot(token)
        if len(body) > (MAX_IMAGE_BYTES if slot is None else slot.max_bytes):
            return _storage_too_large(len(body), slot)
        if slot is None:
            return _storage_error(404, "NoSuchUpload", "The signed upload URL is unknown.")
        if self.world.now() >= slot.expires_at:
            return _storage_error(403, "AccessDenied", "Request has expired.")
        sent_type = headers.get("content-type", "")
        if sent_type.split(";")[0].strip() != slot.content_type:
            return _storage_error(
                403,
                "SignatureDoesNotMatch",
                f"Content-Type {sent_type!r} does not match the signed {slot.content_type!r}.",
            )
        self.world.storage.receive(slot, body)
        return Reply(200, b"", content_type="text/plain")


_API_ROOTS = frozenset({API_ROOT, API_ROOT.removesuffix("/"), API_PREFIX, DEVELOPER_PATH})


def _not_served(method: str, path: str) -> NotFound:
    """The 404 for a path no endpoint serves: a gap of the fake, unless the path holds
    the API's prefix after something else (a client whose base URL has a path, such as
    ``https://api.pictograph.io/api/v1``), which no release of the SDK sends."""
    at = path.find(API_ROOT, 1)
    if at > 0:
        hint = messages.BASE_URL_WITH_A_PATH.format(root=API_ROOT, before=path[:at])
        return NotFound(messages.NO_ROUTE.format(method=method, path=path, hint=hint))
    return NotImplementedByFake(method, path)


def _route_key(path: str) -> str | None:
    """What the router matches: the path below the developer prefix, or a path outside it
    as a whole (routes written in full); ``None`` for a path under neither."""
    if path.startswith(API_PREFIX):
        below = path[len(API_PREFIX) :]
        # `/developer//x` would otherwise reach the routes written in full.
        return None if below.startswith("/") else below
    return path if path.startswith(API_ROOT) else None


def _server(found: Endpoint, wire: Wire | None) -> Callable[[Call], Reply]:
    """What answers a call on ``found`` in the dialect ``wire`` (``None``: today's): the
    handler itself when there is nothing to check or adapt, else :func:`_serve`."""
    plain = (
        not found.query
        and found.body is None
        and not found.values
        and found.role is None
        and wire is None
    )
    return found.handler if plain else functools.partial(_serve, found, wire)


def _serve(found: Endpoint, wire: Wire | None, call: Call) -> Reply:
    """Check the call against its endpoint's declaration, run the handler, and answer in
    the caller's dialect (``wire``: ``None`` for today's)."""
    if found.query:
        if wire is None:
            call.args = check_query(found.query, call.query(), closed=found.closed_query)
        else:
            params, query = wire.params(found.query), wire.query(call.query())
            call.args = check_query(params, query, closed=found.closed_query)
    if found.body is not None:
        if wire is None:
            check_body(found.body, call.json_object(allow_empty=found.body_optional))
        else:
            spec = wire.body(found.body)
            if wire.form:
                sent = wire.form_fields(call.body, spec)
            else:
                sent = call.json_object(allow_empty=found.body_optional)
            # The handler reads the body as today's route takes it.
            check_body(spec, call.use_fields(wire.fields(sent)))
    if found.values:
        _check_values(found, call)
    if found.role is not None:
        call.key.require(found.role, found.action)
    if wire is None:
        return found.handler(call)
    try:
        answer = found.handler(call)
    except ApiRefusal as refusal:
        if wire.refuse is None:
            raise
        raise wire.refuse(refusal) from None
    return wire.adapt(answer)


def _response(answer: Reply, request_id: str, method: str) -> Response:
    body = answer.body
    headers = [
        ("content-type", answer.content_type),
        ("x-request-id", request_id),
        *answer.headers,
        ("content-length", str(len(body))),
    ]
    # HEAD: GET's status and headers, its length, and no body (RFC 9110).
    return answer.status, headers, b"" if method.upper() == "HEAD" else body


def _answered(answer: Reply, request_id: str, hold: float, method: str) -> Answered:
    status, headers, content = _response(answer, request_id, method)
    return Answered(status, headers, content, hold)


def _check_values(found: Endpoint, call: Call) -> None:
    """Refuse a value of the body or query (by today's names) that the caller's release's
    API did not take (see ``dialects.Vocabulary``)."""
    for vocabulary in found.values:
        name = vocabulary.name
        if found.body is not None and name in found.body.fields:
            value, spec, loc = call.fields().get(name), found.body.fields[name].spec, "body"
        else:
            param = next(p for p in found.query if p.name == name)
            value, spec, loc = call.args.get(name), param.spec, "query"
        allowed = (spec.enum or ()) if isinstance(spec, Str) else ()
        refusal = vocabulary.refusal(value, call.sdk, call.client, allowed, (loc,))
        if refusal is not None:
            raise refusal


def _one_target(target: str) -> str:
    """A target with its path in the spelling both of a route's spellings share."""
    path, mark, query = target.partition("?")
    return one_spelling(path) + mark + query


def _refusal_reply(refusal: ApiRefusal) -> Reply:
    """The answer to a refusal: its status, the API's envelope, its headers, and the
    journal's label when a test armed it."""
    return Reply(refusal.status, refusal_body(refusal), refusal.headers, fault=refusal.fault)


def _refused(refusal: Refusal) -> Reply:
    if refusal.gateway:
        body = gateway_error_body(refusal.code, refusal.message, **refusal.details)
    else:
        body = error_body(refusal.code, refusal.message, details=refusal.details)
    return Reply(refusal.status, body, refusal.headers)


def body_too_large(size: int) -> InvalidRequest:
    """The 413 a request body over :data:`MAX_BODY_BYTES` gets, in the API's envelope."""
    return InvalidRequest(
        messages.BODY_TOO_LARGE.format(size=size, limit=MAX_BODY_BYTES // (1024 * 1024)),
        status=413,
        code="payload_too_large",
        errors=[field_error(("body",), "Request body too large", "too_large")],
    )


def _is_storage(target: str, mount: str) -> bool:
    return below_mount(target, mount).startswith(STORAGE_PREFIX)


def _storage_too_large(size: int, slot: SignedUpload | None) -> Reply:
    limit, what = (MAX_IMAGE_BYTES, "an image") if slot is None else (slot.max_bytes, slot.what)
    return _storage_error(
        413,
        "EntityTooLarge",
        f"Your proposed upload is {size:,} bytes; {what} may be at most "
        f"{limit // (1024 * 1024)} MiB.",
    )


def _storage_error(status: int, code: str, message: str) -> Reply:
    # Storage speaks XML, as object stores do; the SDK never parses it. A message may
    # quote what was sent (a Content-Type holding '<' or '&'): escaped, it stays XML.
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
    body += f"<Message>{escape(message)}</Message></Error>"
    return Reply(status, body.encode(), content_type="application/xml")


def _slug_of(body: bytes) -> str:
    """A gateway refusal's ``error`` slug: the reason its socket closes with."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return "not_found"
    slug = parsed.get("error") if isinstance(parsed, dict) else None
    return slug if isinstance(slug, str) else "not_found"
