"""The API as one function: method, raw path, headers and body in; status, headers, body out.

Adapters (the httpx transport, the server) stay thin because everything that makes the
fake speak like the API happens here: raw-path routing with per-segment decoding,
authentication, Idempotency-Key replay, the error envelope and ``X-Request-Id``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pictograph_testing.api import messages
from pictograph_testing.api.caches import WireCache
from pictograph_testing.api.dialects import NEWEST, sdk_version_of
from pictograph_testing.api.errors import error_body, refusal_body
from pictograph_testing.api.idempotency import IdempotencySlot, StoredResponse
from pictograph_testing.api.resources import ROUTER
from pictograph_testing.api.spec import check_body, check_query
from pictograph_testing.api.table import Fallthrough, no_route
from pictograph_testing.api.wire import Call, Reply
from pictograph_testing.catalog import IDEMPOTENCY_TTL_SECONDS
from pictograph_testing.faults import Faults, TransportFault, status_refusal
from pictograph_testing.journal import JournalEntry
from pictograph_testing.world.errors import ApiRefusal, Conflict, InvalidRequest, field_error
from pictograph_testing.world.storage import STORAGE_PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pictograph_testing.api.dialects import Version
    from pictograph_testing.api.table import Endpoint
    from pictograph_testing.faults import Refusal
    from pictograph_testing.world.state import ApiKey, World

__all__ = ["API_PREFIX", "MAX_BODY_BYTES", "Api", "Response"]

API_PREFIX = "/api/v1/developer/"
_WRITES = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest API request body taken (JSON); larger ones get 413 ``payload_too_large``.
Signed-URL uploads go to storage, which has no such limit."""

Response = tuple[int, list[tuple[str, str]], bytes]
_DROPPED = {
    "connect": "[Errno 111] Connection refused",
    "connect_timeout": "timed out while connecting",
    "read_timeout": "The read operation timed out",
    "read_error": "[Errno 104] Connection reset by peer",
}


class Api:
    """Answer requests against one world, as the Pictograph API would."""

    def __init__(self, world: World, base_url: str, sdk_version: Version | None = None) -> None:
        self.world = world
        self.sdk_version = sdk_version
        """The SDK release to answer as, whatever the User-Agent says; ``None``: read it
        from the User-Agent (the newest release when it names none)."""
        self.base_url = base_url.rstrip("/")
        path_start = self.base_url.find("/", self.base_url.find("//") + 2)
        self._mount = self.base_url[path_start:] if path_start != -1 else ""
        self._requests = 0
        self._request_prefix = f"req_{world.seed & 0xFFFF:04x}"
        self.server_errors: list[BaseException] = []
        """Exceptions the fake raised while answering (each answered as a 500)."""
        self.journal: list[JournalEntry] = []
        """Every request answered, undecoded; ``FakePictograph.calls`` reads them."""
        self.idempotency: dict[IdempotencySlot, StoredResponse] = {}
        """Answers kept under their Idempotency-Key: a retry within the TTL replays them."""
        self.wire_cache = WireCache()
        """Encodings kept between requests (timestamps, runs): derived, never world state."""
        self.faults = Faults(world, self._mount)
        """The faults armed on this API (``FakePictograph.faults``)."""

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
        long or longer ends in a read timeout. An injected transport error is raised as
        :class:`~pictograph_testing.faults.TransportFault`, for the adapter to translate.
        """
        path, _, query = raw_target.partition("?")
        with self.world.lock:
            self._requests += 1
            request_id = f"{self._request_prefix}{self._requests:012x}"
            if self.faults.armed:
                answer, fault = self._faulted(
                    method, raw_target, path, query, headers, body, timeout, request_id
                )
            else:
                answer, fault = self._answer(method, path, query, headers, body), None
            # One entry of immutable values per call, decoded only when a test reads the
            # journal: it must cost next to nothing on the hot path. No headers: holding
            # each request's Headers object alive makes every garbage collection slower.
            self.journal.append(
                JournalEntry(
                    method,
                    raw_target,
                    body,
                    answer.status,
                    answer.body,
                    self.world.clock.monotonic(),
                    request_id,
                    fault,
                )
            )
        response_headers = [
            ("content-type", answer.content_type),
            ("x-request-id", request_id),
            *answer.headers,
        ]
        if method.upper() == "HEAD":
            # GET's status and headers, its length, and no body (RFC 9110).
            response_headers.append(("content-length", str(len(answer.body))))
            return answer.status, response_headers, b""
        return answer.status, response_headers, answer.body

    def _answer(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        method = method.upper()
        try:
            # HEAD is served wherever GET is: the same answer, sent without its body.
            return self._dispatch("GET" if method == "HEAD" else method, path, query, headers, body)
        except ApiRefusal as refusal:
            return Reply(refusal.status, refusal_body(refusal))
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
    ) -> tuple[Reply, str | None]:
        """Answer a request while faults are armed: the slow path, taken only then."""
        decoded = unquote(path) if "%" in path else path
        fault, refusal, label = self.faults.intercept(
            method.upper(), decoded, headers.get("x-api-key")
        )
        if refusal is not None:
            return _refused(refusal), label
        if fault is not None and fault.error is not None and not fault.after:
            raise self._dropped(method, raw_target, body, request_id, fault.error, label)
        answer = self._answer(method, path, query, headers, body)
        if fault is None:
            return answer, label
        if fault.error is not None:
            raise self._dropped(method, raw_target, body, request_id, fault.error, label)
        if fault.delay:
            if timeout is not None and fault.delay >= timeout:
                # The client gives up at its timeout; the work is done all the same.
                self.world.clock.advance(timeout)
                raise self._dropped(
                    method, raw_target, body, request_id, "read_timeout", f"{label}: timed out"
                )
            self.world.clock.advance(fault.delay)
            return answer, label
        return _refused(status_refusal(fault)), label

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
        self.journal.append(
            JournalEntry(
                method, raw_target, body, 0, b"", self.world.clock.monotonic(), request_id, label
            )
        )
        return TransportFault(kind, f"{_DROPPED[kind]} (injected by pictograph-testing)")

    def _dispatch(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        if self._mount and path.startswith(self._mount):
            path = path[len(self._mount) :]
        if path.startswith(STORAGE_PREFIX):
            return self._storage(method, path, headers, body)
        if not path.startswith(API_PREFIX):
            raise no_route(method, path, ROUTER.resources)
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequest(
                messages.BODY_TOO_LARGE.format(
                    size=len(body), limit=MAX_BODY_BYTES // (1024 * 1024)
                ),
                status=413,
                code="payload_too_large",
                errors=[field_error(("body",), "Request body too large", "too_large")],
            )
        sdk = self.sdk_version or sdk_version_of(headers.get("user-agent")) or NEWEST
        matches = ROUTER.candidates(method, path[len(API_PREFIX) :], sdk)
        if not matches:
            raise no_route(method, path, ROUTER.resources)
        key = self.world.authenticate(headers.get("x-api-key"))
        now = self.world.catch_up()
        idempotency_key = headers.get("idempotency-key") if method in _WRITES else None
        for found, path_args in matches:
            call = Call(
                method,
                path_args,
                query,
                body,
                key,
                self.world,
                now,
                self.base_url,
                self.wire_cache,
                sdk,
            )
            try:
                if idempotency_key is None:
                    return _serve(found, call)
                return self._idempotent(
                    call, key, idempotency_key, path, functools.partial(_serve, found)
                )
            except Fallthrough:
                continue
        raise no_route(method, path, ROUTER.resources)

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
        if stored is not None and stored.expires_at > call.now:
            if (stored.method, stored.path, stored.body_fingerprint) != (
                call.method,
                path,
                call.body,
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
            answer = Reply(refusal.status, refusal_body(refusal))
        # Server errors and throttling mean nothing was done: a retry must act afresh.
        if answer.status < 500 and answer.status != 429:
            self.idempotency[slot] = StoredResponse(
                call.method,
                path,
                call.body,
                answer.status,
                answer.headers,
                answer.body,
                call.now + IDEMPOTENCY_TTL_SECONDS,
            )
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
        return Reply(200, blob.produce(), content_type=blob.content_type)

    def _storage_put(self, token: str, headers: Mapping[str, str], body: bytes) -> Reply:
        slot = self.world.storage.upload_slot(token)
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


def _serve(found: Endpoint, call: Call) -> Reply:
    """Check the call against its endpoint's declaration, run the handler, and answer in
    the caller's dialect."""
    wire = found.wire_for(call.sdk) if found.wires else None
    if found.query:
        query = call.query() if wire is None else wire.query(call.query())
        call.args = check_query(found.query, query, closed=found.closed_query)
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


def _refused(refusal: Refusal) -> Reply:
    body = error_body(refusal.code, refusal.message, details=refusal.details)
    return Reply(refusal.status, body, refusal.headers)


def _storage_error(status: int, code: str, message: str) -> Reply:
    # Storage speaks XML, as object stores do; the SDK never parses it.
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
    body += f"<Message>{message}</Message></Error>"
    return Reply(status, body.encode(), content_type="application/xml")
