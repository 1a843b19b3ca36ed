"""The fake behind a real HTTP server: an ASGI adapter over the same API, and ways to run it.

Everything the public API answers comes from :meth:`Api.handle`, exactly as in process.
The adapter adds the control routes under ``/_fake/`` (the public API lives under
``/api/v1/developer/`` and signed URLs under ``/_storage/``, so the two never meet; the
API's router has no route outside its prefix, so no public path reaches them):

- ``GET /_fake/``: the base URL, API key, profile, seed, virtual time, server errors;
- ``GET /_fake/clock`` and ``POST /_fake/clock/advance`` ``{"seconds": N}`` (or
  ``minutes`` / ``hours``);
- ``POST /_fake/clock/speed`` ``{"speed": N}``: let time run at that pace (0 pauses);
- ``GET /_fake/ui``: the dashboard (HTML, ``docs/dashboard.md``), and ``GET
  /_fake/ui/world`` the part of it that refreshes;
- ``POST /_fake/reset``: a fresh world with the server's settings;
- ``GET /_fake/snapshot``: the world as a scenario document; ``POST /_fake/snapshot``
  loads one (a document, or ``{"scenario": "<name>"}``: by name only, never a path);
- ``GET /_fake/journal?since=N&limit=M``: the calls the API answered, oldest first;
- ``GET /_fake/unserved``: the calls to routes the fake does not serve (yet);
- ``GET /_fake/openapi.json``: the OpenAPI document of the public routes;
- ``GET`` / ``POST /_fake/webhooks/routes`` ``{"url": ..., "target": ...}``: send an
  endpoint's deliveries to another URL (a local receiver; ``null`` removes the route);
  ``POST /_fake/webhooks/deliver`` sends every delivery due now;
- ``GET`` / ``POST /_fake/cameras`` ``{"source": ..., "fps": ..., "frames": ...}``: the
  cameras a deployment's stream can connect to;
- ``POST /_fake/faults``: arm faults from JSON (one spec, or ``{"faults": [...]}``; see
  ``Faults.arm``), all or none; ``GET /_fake/faults`` lists what is armed, ``DELETE``
  disarms everything.

Over HTTP the control plane is locked (``docs/server.md``, "Security"): every request
must name a Host the server answers to (no DNS rebinding; a target in absolute form, as
sent through a proxy, is routed by its path and its host is the one checked); control
routes other than the info, the clock, the snapshot, the dashboard and the OpenAPI
document need the control key in ``X-Fake-Control-Key``, and without it the info and
the snapshot carry no API key; control POSTs must be ``application/json`` (no form or
``text/plain`` post from a web page). :meth:`FakeAsgiApp.control`, called in process, is trusted.

:class:`FakeServer` runs the app with uvicorn in a background thread (tests, the docs'
examples, benchmarks); ``pictograph-fake serve`` runs it in the foreground.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from pictograph_testing import scenarios
from pictograph_testing._sdk.idempotency import seeded_key
from pictograph_testing.activation import coupling
from pictograph_testing.api import messages, strict_json
from pictograph_testing.api.wire import is_json_type
from pictograph_testing.arguments import sendable
from pictograph_testing.bounds import MAX_SPEED
from pictograph_testing.clock import format_timestamp
from pictograph_testing.fake import FakePictograph
from pictograph_testing.faults import TransportFault
from pictograph_testing.journal import JOURNAL_LIMIT, Call
from pictograph_testing.world.errors import InvalidRequest
from pictograph_testing.world.streams import RESULTS_PROTOCOL, Closing
from pictograph_testing.world.webhooks import TIMEOUT_SECONDS

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
    from types import TracebackType
    from typing import TypeAlias

    import httpx
    import pictograph
    import uvicorn

    from pictograph_testing.catalog import ProfileName
    from pictograph_testing.clock import VirtualClock

    ScenarioRef: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any]"
    FakeFactory: TypeAlias = "Callable[[ScenarioRef | None], FakePictograph]"
    """Builds the served fake: with ``None``, from the server's own settings; with a
    scenario, that scenario's world, reached at the server's base URL, key and speed."""

__all__ = [
    "CONTROL_KEY_HEADER",
    "CONTROL_PREFIX",
    "MAX_HEADER_BYTES",
    "MAX_TARGET_BYTES",
    "NEEDS_UVICORN",
    "REDACTED",
    "FakeAsgiApp",
    "FakeServer",
    "HostCheck",
    "base_url_of",
    "bind",
    "fake_factory",
    "new_control_key",
    "public_base_url",
    "require_uvicorn",
    "served_hosts",
    "uvicorn_config",
    "uvicorn_server",
]

CONTROL_PREFIX = "/_fake/"
CONTROL_KEY_HEADER = "X-Fake-Control-Key"
REDACTED = "[redacted: send X-Fake-Control-Key]"
"""What stands for an API key in what the server shows without the control key."""
JOURNAL_PAGE = 1000
"""The most calls one ``GET /_fake/journal`` returns; page on with ``since``."""
JOURNAL_PAGE_BYTES = 8 * 1024 * 1024
"""Body bytes after which a journal page stops (it holds at least one call): a page of
large bodies must not keep the server from answering everyone else."""
_WHOLE_DIGITS = 15
_WHOLE_MAX = 10**_WHOLE_DIGITS - 1
"""The largest ``since`` or ``limit`` the journal takes: more calls than any journal holds,
and an index a page can start at."""
MAX_TARGET_BYTES = 16 * 1024
"""The longest path and query served; a longer one gets 414 in the API's envelope."""
MAX_HEADER_BYTES = 64 * 1024
"""The most header bytes (names and values) served; more gets 431 in the API's envelope."""
H11_MAX_INCOMPLETE_EVENT = 4 * 1024 * 1024
"""What uvicorn's h11 parser buffers for a request line and headers. Above the limits
above, so that the fake answers those in its envelope; a request beyond this one gets
uvicorn's own plain-text 400 before the app sees it."""
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_ABSOLUTE_FORM = re.compile(r"https?://([^/?#]*)", re.IGNORECASE)
_PAGES = frozenset({"/ui", "/ui/world"})
"""The dashboard and the part of it that refreshes: HTML, and open (they show no key)."""
_CAMERA_SETTINGS = frozenset({"fps", "frames", "width", "height"})
"""What ``POST /_fake/cameras`` takes beside a camera's ``source``."""
_OPEN_ROUTES = frozenset(
    {
        ("GET", ""),
        ("GET", "/clock"),
        ("GET", "/openapi.json"),
        ("GET", "/snapshot"),
        *(("GET", page) for page in _PAGES),
    }
)
"""Control routes answered without the control key (API keys redacted)."""
PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""The dashboard's Content-Security-Policy: its own inline script and style, requests to
this server only, never framed by another page (no clickjacking of its buttons)."""
START_TIMEOUT = 10.0
"""Seconds a :class:`FakeServer` waits for uvicorn to listen before giving up."""

Message = dict[str, Any]
Response = tuple[int, list[tuple[str, str]], bytes]


class ControlError(Exception):
    """A control request that cannot be carried out; answered as JSON with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeAsgiApp:
    """Serve one fake over ASGI; ``make_fake`` builds it (again, on reset and load).

    ``control_key``: the key control routes need in ``X-Fake-Control-Key`` (``None``:
    no key, the control plane is open). ``hosts``: the Host names answered (see
    :func:`served_hosts`; ``None``: any). ``scenario_dirs``: the folders a scenario is
    loaded from by name over HTTP, besides the package's.
    """

    def __init__(
        self,
        make_fake: FakeFactory,
        *,
        control_key: str | None = None,
        hosts: HostCheck | None = None,
        scenario_dirs: Sequence[str | os.PathLike[str]] = (),
    ) -> None:
        if control_key is not None:
            # Sent in a header: a key no client can send would lock the routes for good.
            sendable("control_key", control_key)
        self._make_fake = make_fake
        self._control_key = control_key.encode() if control_key is not None else None
        self._hosts = hosts
        self._scenario_dirs = tuple(scenario_dirs)
        self.fake = make_fake(None)
        self._deliveries: set[asyncio.Task[int]] = set()
        self.abort_connection: Callable[[object], bool] | None = None
        """Closes the connection of the client a scope names (``scope["client"]``) with
        no answer at all, where the server running the app can (:func:`uvicorn_server`);
        whether it did."""

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await self._results_socket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        target, headers, raw_headers = _request_of(scope)
        method = scope["method"]
        control = _is_control(target)
        refused = self._gate(method, target, headers, raw_headers, control)
        trusted = True
        if refused is None and control:
            # Before the body is read: a caller without the key gets nothing buffered.
            refused, trusted = self._control_gate(method, target, headers)
        if refused is None and not control and method in ("GET", "HEAD"):
            refused = _BROWSER_PAGES.get(target.partition("?")[0])
        if refused is not None:
            await _drain(receive)
            await _answer(send, method, refused)
            return
        api = self.fake.api
        limit = api.body_limit(target) if not control else api.body_limit(CONTROL_PREFIX)
        try:
            body, size = await _read_body(receive, headers.get("content-length"), limit)
        except ClientGone:
            return  # the request never arrived whole: nothing is done and no one is answered
        if body is None:
            await _answer(send, method, self._oversized(method, target, size, control))
            return
        if control:
            if (method, target.split("?", 1)[0].rstrip("/")) == (
                "POST",
                f"{CONTROL_PREFIX}webhooks/deliver",
            ):
                sent = await self._deliver_now()
                await _answer(send, method, _json(200, {"sent": sent}))
            else:
                await _answer(send, method, self.control(method, target, body, trusted=trusted))
            return
        try:
            status, response_headers, content, hold = await api.handle_async(
                method, target, headers, body, deliver=False
            )
        except TransportFault:
            await _drop(send, scope.get("client"), self.abort_connection)
            return
        if hold > 0:
            # An injected delay, in real time: an HTTP client's own timeout must fire. A
            # client that gives up first ends the wait: no one is left to answer, and a
            # server stopping then has no request still held to cancel.
            gone = asyncio.ensure_future(_http_disconnect(receive))
            try:
                await asyncio.wait({gone}, timeout=hold)
            finally:
                gone.cancel()
            left = gone.done() and not gone.cancelled()
        else:
            left = False
        if not left:
            await _answer(send, method, (status, response_headers, content))
        # Webhooks that came due go out after the answer (or once its client left), on
        # their own task: a slow receiver, or one that calls this server back, never
        # holds up a client.
        task = asyncio.ensure_future(api.deliver_async())
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _results_socket(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        """A stream's results socket (``/_gateway/.../sessions/{stream}/results``).

        Each message is sent when the fake's clock reaches it, at its pace; when the clock
        moves by hand only (``speed`` 0), in real time, moving the clock there (a read in
        process moves it at once, but a socket cannot tell what its client has read, and
        must not run the clock ahead of it). The close is the stream's.
        """
        if (await receive())["type"] != "websocket.connect":
            return
        target, headers, raw_headers = _request_of(scope)
        api = self.fake.api
        refused = self._gate("GET", target, headers, raw_headers, False)
        # The control plane has no sockets, and is never the API's to journal.
        if refused is not None or _is_control(target):
            await send({"type": "websocket.close", "code": 1008})  # the handshake: 403
            return
        opened = api.open_results(target, headers)
        asked = scope.get("subprotocols") or []
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": RESULTS_PROTOCOL if RESULTS_PROTOCOL in asked else None,
            }
        )
        if isinstance(opened, Closing):
            await send({"type": "websocket.close", "code": opened.code, "reason": opened.reason})
            return
        # The client may go away at any time: its disconnect ends the stream's sending.
        gone = asyncio.ensure_future(_disconnect(receive))
        clock = self.fake.clock
        try:
            while not gone.done():
                got, due = api.next_result(opened)
                if isinstance(got, Closing):
                    await send({"type": "websocket.close", "code": got.code, "reason": got.reason})
                    return
                if got is not None:
                    await send({"type": "websocket.send", "text": got.decode()})
                    await asyncio.sleep(0)  # let a disconnect be read between messages
                elif clock.speed:
                    wait = (due - clock.monotonic()) / clock.speed
                    await asyncio.wait({gone}, timeout=max(0.0, min(wait, 1.0)))
                else:
                    await _real_time_to(clock, due, gone)
        finally:
            gone.cancel()

    async def _deliver_now(self) -> int:
        """Send every attempt due now, counting those a round already under way sends.

        A round started after an earlier answer holds the courier: this one would send
        nothing, and answer before that round's attempts are made. So wait for it first
        (at most a receiver's timeout: a receiver that calls this route from inside its
        handler waits for its own delivery).
        """
        sent = 0
        rounds = [task for task in self._deliveries if not task.done()]
        if rounds:
            done, _ = await asyncio.wait(rounds, timeout=TIMEOUT_SECONDS)
            sent = sum(t.result() for t in done if not t.cancelled() and t.exception() is None)
        # Sent on this loop: a receiver may call this server back meanwhile.
        return sent + await self.fake.webhooks.deliver_async()

    def _gate(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        raw_headers: Iterable[tuple[bytes, bytes]],
        control: bool,
    ) -> Response | None:
        """Refuse what the server does not serve: a foreign Host, a huge target or headers."""
        host = headers.get("host")
        # No Host at all (HTTP/1.0 allows it) names no address either: refused alike.
        if self._hosts is not None and (host is None or not self._hosts(host)):
            message = (
                messages.HOST_MISSING.format(hosts=self._hosts.names)
                if host is None
                else messages.HOST_NOT_SERVED.format(host=host[:200], hosts=self._hosts.names)
            )
            if control:
                return _json(421, {"error": message})
            refusal = InvalidRequest(message, status=421, code="misdirected_request")
            return self.fake.api.refuse(method, target, refusal)
        if len(target) > MAX_TARGET_BYTES:
            message = messages.TARGET_TOO_LONG.format(size=len(target), limit=MAX_TARGET_BYTES)
            if control:
                return _json(414, {"error": message})
            refusal = InvalidRequest(message, status=414, code="uri_too_long")
            return self.fake.api.refuse(method, target, refusal)
        size = sum(len(k) + len(v) for k, v in raw_headers)
        if size > MAX_HEADER_BYTES:
            message = messages.HEADERS_TOO_LARGE.format(size=size, limit=MAX_HEADER_BYTES)
            if control:
                return _json(431, {"error": message})
            refusal = InvalidRequest(message, status=431, code="headers_too_large")
            return self.fake.api.refuse(method, target, refusal)
        return None

    def _oversized(self, method: str, target: str, size: int, control: bool) -> Response:
        if control:
            limit = self.fake.api.body_limit(CONTROL_PREFIX)
            return _json(413, {"error": f"the body is over {limit // (1024 * 1024)} MiB"})
        return self.fake.api.refuse_oversized(method, target, size)

    # ── control routes ──

    def _control_gate(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[Response | None, bool]:
        """Check the control key and the content type: a refusal, and whether it is trusted."""
        route = _route_of(target)
        trusted = self._control_key is None or hmac.compare_digest(
            headers.get(CONTROL_KEY_HEADER.lower(), "").encode("latin-1"), self._control_key
        )
        if not trusted and (_read_as(method), route) not in _OPEN_ROUTES:
            given = CONTROL_KEY_HEADER.lower() in headers
            problem = "is not the server's control key" if given else "is missing"
            message = (
                f"{CONTROL_KEY_HEADER} {problem}: control routes need the key printed at "
                "start (or given with --control-key)"
            )
            return _json(401, {"error": message}), False
        if method == "POST" and not is_json_type(headers.get("content-type", "")):
            # Browsers send forms and text/plain across origins without asking first;
            # application/json needs a preflight this server never grants.
            return _json(415, {"error": "control POSTs take Content-Type: application/json"}), False
        return None, trusted

    def control(self, method: str, target: str, body: bytes, *, trusted: bool = True) -> Response:
        """Answer one request under ``/_fake/``; never raises.

        Called in process it is trusted; the HTTP adapter checks the control key first
        and passes ``trusted=False`` when it was not presented (API keys are redacted).
        """
        path, _, query = target.partition("?")
        route = _route_of(path)
        method = _read_as(method)  # the adapter sends a HEAD's headers without the body
        try:
            if method == "GET" and route in _PAGES:
                return self._page(route)
            return _json(200, self._route(method, route, _query(query), body, trusted))
        except ControlError as error:
            return _json(error.status, {"error": error.message})
        except Exception as exc:  # a control route must answer, whatever went wrong
            self.fake.server_errors.append(exc)
            return _json(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _route(
        self, method: str, route: str, query: dict[str, str], body: bytes, trusted: bool
    ) -> Any:
        # One case per control route: another route (faults, say) is one more case.
        match method, route:
            case "GET", "":
                return self._info(trusted)
            case "GET", "/clock":
                return self._clock()
            case "POST", "/clock/advance":
                try:
                    self.fake.clock.advance(seconds=_advance_seconds(_payload(body)))
                except ValueError as exc:  # past the clock's horizon: it has not moved
                    raise ControlError(422, str(exc)) from None
                return self._clock()
            case "POST", "/clock/speed":
                self._set_speed(_payload(body))
                return self._clock()
            case "POST", "/reset":
                self.fake = self._make_fake(None)
                return self._info(trusted)
            case "GET", "/snapshot":
                try:
                    document = self.fake.snapshot()
                except ValueError as exc:
                    raise ControlError(409, str(exc)) from None
                return document if trusted else _redacted(document)
            case "POST", "/snapshot":
                self.fake = self._load(_payload(body))
                return self._info(trusted)
            case "GET", "/journal":
                return self._journal(query)
            case "GET", "/unserved":
                return {
                    "unserved_calls": [
                        {
                            "method": c.method,
                            "path": c.path,
                            "sdk_methods": list(c.sdk_methods),
                            "request_id": c.request_id,
                            "at": format_timestamp(c.at),
                        }
                        for c in self.fake.unserved_calls
                    ]
                }
            case "GET", "/openapi.json":
                from pictograph_testing.openapi import openapi_document

                return openapi_document(self.fake.base_url)
            case "POST", "/faults":
                return self._arm_faults(_payload(body, _FAULTS_BODY))
            case "GET", "/faults":
                return self._faults()
            case "DELETE", "/faults":
                self.fake.faults.clear()
                return self._faults()
            case "GET", "/webhooks/routes":
                return self._webhook_routes()
            case "POST", "/webhooks/deliver":
                # Over HTTP it is sent on the server's loop (see __call__); in process, here.
                return {"sent": self.fake.webhooks.deliver()}
            case "POST", "/webhooks/routes":
                return self._route_webhook(_payload(body))
            case "GET", "/cameras":
                return self._cameras()
            case "POST", "/cameras":
                return self._add_camera(_payload(body))

        raise ControlError(404, f"no control route {method} {CONTROL_PREFIX[:-1]}{route}")

    def _set_speed(self, payload: dict[str, Any]) -> None:
        speed = payload.get("speed")
        if (
            set(payload) != {"speed"}
            or not isinstance(speed, (int, float))
            or isinstance(speed, bool)
            or not 0 <= speed <= MAX_SPEED
        ):
            raise ControlError(
                422,
                f'send {{"speed": N}}: virtual seconds per real second, from 0 to {MAX_SPEED:,.0f}',
            )
        self.fake.clock.set_speed(float(speed))

    def _page(self, route: str) -> Response:
        """The dashboard (``/ui``) or its live part (``/ui/world``), as HTML."""
        from pictograph_testing.picture.dashboard import dashboard_page
        from pictograph_testing.picture.render import world_sections
        from pictograph_testing.picture.view import picture_of

        picture = picture_of(self.fake)
        if route == "/ui/world":
            markup = world_sections(picture)
        else:
            names = scenarios.available_scenarios(self._scenario_dirs)
            markup = dashboard_page(picture, names, self.fake.clock.speed)
        return (
            200,
            [
                ("content-type", "text/html; charset=utf-8"),
                ("cache-control", "no-store"),
                ("content-security-policy", PAGE_POLICY),
                ("x-content-type-options", "nosniff"),
            ],
            markup.encode(),
        )

    def _route_webhook(self, payload: dict[str, Any]) -> dict[str, Any]:
        url, target = payload.get("url"), payload.get("target")
        if set(payload) != {"url", "target"} or not isinstance(url, str):
            raise ControlError(422, 'send {"url": "<registered URL>", "target": "<URL or null>"}')
        if target is None:
            self.fake.webhooks.unroute(url)
        else:
            try:
                self.fake.webhooks.route(url, target)
            except (TypeError, ValueError) as exc:
                raise ControlError(422, str(exc)) from None
        return self._webhook_routes()

    def _webhook_routes(self) -> dict[str, Any]:
        # A receiver routed in process (a function, an app) has no URL: say what it is.
        return {
            "routes": {
                url: target if isinstance(target, str) else f"<in process: {_named(target)}>"
                for url, target in self.fake.webhooks.routes().items()
            }
        }

    def _add_camera(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add a camera a stream can connect to (see ``FakePictograph.add_camera``)."""
        source = payload.get("source")
        settings = {k: v for k, v in payload.items() if k != "source"}
        if not isinstance(source, str) or not set(settings) <= _CAMERA_SETTINGS:
            raise ControlError(
                422,
                'send {"source": "<rtsp://, rtsps:// or https:// URL>"} and any of '
                + ", ".join(f'"{name}"' for name in sorted(_CAMERA_SETTINGS)),
            )
        try:
            self.fake.add_camera(source, **settings)
        except ValueError as exc:
            raise ControlError(422, str(exc)) from None
        return self._cameras()

    def _cameras(self) -> dict[str, Any]:
        world = self.fake.world
        with world.lock:
            cameras = list(world.streams.cameras.values())
        return {
            "cameras": [
                {
                    "source": c.source,
                    "fps": c.fps,
                    "frames": c.frames,
                    "width": c.width,
                    "height": c.height,
                }
                for c in cameras
            ]
        }

    def _arm_faults(self, payload: dict[str, Any]) -> dict[str, Any]:
        specs = payload.get("faults") if set(payload) == {"faults"} else [payload]
        if not isinstance(specs, list) or not specs:
            raise ControlError(422, f"send {_FAULTS_BODY}")
        try:
            armed = self.fake.faults.arm_all(specs)
        except ValueError as exc:
            raise ControlError(422, str(exc)) from None
        return {"armed": armed, **self._faults()}

    def _faults(self) -> dict[str, Any]:
        faults = self.fake.faults
        return {
            "pending": [
                {
                    "fault": fault.describe(),
                    "method": fault.method,
                    "path": _pattern(fault.path),
                    "remaining": fault.remaining,
                }
                for fault in faults.pending
            ],
            "run_failures": [f.describe() for f in faults.pending_run_failures],
            # Every kind armed, in the words POST answered with: what the dashboard lists.
            "faults": list(faults.described),
        }

    def _load(self, payload: dict[str, Any]) -> FakePictograph:
        named = payload.get("scenario")
        try:
            if set(payload) == {"scenario"} and isinstance(named, str):
                # By name only: a path sent over HTTP would let any caller read files.
                scenario = scenarios.named_scenario(named, directories=self._scenario_dirs)
            elif "schema_version" in payload:
                keys = payload.get("api_keys")
                # Anything but a list is the scenario check's to refuse, below.
                if isinstance(keys, list) and any(
                    isinstance(k, dict) and k.get("key") == REDACTED for k in keys
                ):
                    raise ValueError(
                        "this snapshot's API keys were redacted: fetch GET /_fake/snapshot "
                        f"with {CONTROL_KEY_HEADER} to load it back"
                    )
                scenario = scenarios.load_scenario(payload)
            else:
                raise ControlError(
                    422,
                    'send a scenario document (with "schema_version") or {"scenario": "<name>"}',
                )
            return self._make_fake(scenario.document)
        except scenarios.UnknownScenario as unknown:
            # The names, not the folders searched: those are the server machine's.
            raise ControlError(422, unknown.public) from None
        except ValueError as exc:
            raise ControlError(422, str(exc)) from None

    def _info(self, trusted: bool = True) -> dict[str, Any]:
        fake = self.fake
        return {
            "base_url": fake.base_url,
            "api_key": fake.api_key if trusted else REDACTED,
            "profile": fake.profile,
            "seed": fake.seed,
            **self._clock(),
            "calls": fake.api.journal.total,
            "unserved_calls": len(fake.api.unserved),
            "server_errors": [f"{type(e).__name__}: {e}" for e in fake.server_errors],
        }

    def _clock(self) -> dict[str, Any]:
        clock = self.fake.clock
        return {
            "now": format_timestamp(clock.now()),
            "monotonic": clock.monotonic(),
            "speed": clock.speed,
        }

    def _journal(self, query: dict[str, str]) -> dict[str, Any]:
        since = _whole(query, "since", 0)
        # A page of none would answer next == since: a client following next loops forever.
        limit = min(_whole(query, "limit", JOURNAL_PAGE, lowest=1), JOURNAL_PAGE)
        log = self.fake.api.journal
        start = self.fake.clock.start
        records: list[dict[str, Any]] = []
        budget = JOURNAL_PAGE_BYTES
        for index, entry in log.page(since, limit):
            if records and budget <= 0:
                break
            budget -= len(entry.body) + len(entry.response_body)
            records.append(_call_record(Call(entry, index, start)))
        after = records[-1]["index"] + 1 if records else max(since, log.dropped)
        return {
            "total": log.total,
            "dropped": log.dropped,
            "since": since,
            "next": after if after < log.total else None,
            "calls": records,
        }


def _is_control(target: str) -> bool:
    """Whether a request's target is the control plane's (``/_fake`` or below it)."""
    return target.startswith(CONTROL_PREFIX) or target.split("?", 1)[0] == CONTROL_PREFIX[:-1]


def _call_record(call: Call) -> dict[str, Any]:
    """One journal entry as JSON: bodies as JSON when they are, else text or base64."""
    return {
        "index": call.index,
        "method": call.method,
        "target": call.target,
        "path": call.path,
        "status": call.status,
        "at": format_timestamp(call.at),
        "elapsed": call.elapsed,
        "request_id": call.request_id,
        "idempotency_key": call.idempotency_key,
        "request": _body_record(call.body, call.body_size),
        "response": _body_record(call.response_body, call.response_size),
        # What an injected fault did to the call (status 0: the connection was dropped).
        "fault": call.fault,
        "unserved": call.unserved,
    }


def _body_record(body: bytes, size: int) -> dict[str, Any] | None:
    if not body:
        return None
    if size > len(body):
        # Cut to fit the journal: neither JSON nor, perhaps, whole UTF-8 any more.
        return {"base64": base64.b64encode(body).decode("ascii"), "size": size, "truncated": True}
    try:
        return {"json": strict_json.parse(body)}
    except strict_json.UnfitJson:  # NaN or a lone surrogate: kept as sent, below
        pass
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        # Image and model bytes: as the journal keeps them (the first MiB).
        return {"base64": base64.b64encode(body).decode("ascii"), "size": len(body)}


def _pattern(path: object) -> str | None:
    return path if path is None or isinstance(path, str) else str(getattr(path, "pattern", path))


_FAULTS_BODY = 'a fault ({"kind": ...}) or several ({"faults": [{"kind": ...}, ...]})'
"""What ``POST /_fake/faults`` takes, for its refusals."""


def _payload(body: bytes, shape: str = "") -> dict[str, Any]:
    """A control route's JSON object; ``shape``: what to send, for the refusal of another."""
    try:
        payload = strict_json.parse(body) if body else {}
    except strict_json.UnfitJson as unfit:
        raise ControlError(422, unfit.message) from None
    if not isinstance(payload, dict):
        raise ControlError(422, f"the body must be a JSON object{shape and ': '}{shape}")
    return payload


def _advance_seconds(payload: dict[str, Any]) -> float:
    units = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
    unknown = set(payload) - set(units)
    values = [payload.get(name) for name in units if name in payload]
    valid = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf")
        for v in values
    )
    if unknown or not values or not valid:
        raise ControlError(422, 'send {"seconds": N} (or "minutes", "hours"), each a number >= 0')
    return sum(float(payload[name]) * factor for name, factor in units.items() if name in payload)


def _query(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


def _named(receiver: object) -> str:
    """A receiver's name, the same in every run (no memory address)."""
    name = getattr(receiver, "__qualname__", None)
    return name if isinstance(name, str) else type(receiver).__qualname__


def _read_as(method: str) -> str:
    """A HEAD is answered as the GET it asks about."""
    return "GET" if method == "HEAD" else method


def _whole(query: dict[str, str], name: str, default: int, *, lowest: int = 0) -> int:
    value = query.get(name)
    if value is None:
        return default
    # ASCII digits only (str.isdigit takes "²", which int() refuses), and few enough that
    # the number is an index a page can start at.
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > _WHOLE_DIGITS
        or int(value) < lowest
    ):
        quoted = json.dumps(messages.shown(value), ensure_ascii=False)
        raise ControlError(
            422, f"{name} must be a whole number from {lowest} to {_WHOLE_MAX:,}, got {quoted}"
        )
    return int(value)


_BROWSER_PAGES: dict[str, Response] = {
    # The server's root, opened in a browser, is the dashboard (its key, if any, asked for
    # there); neither path is the API's, so neither is journaled nor reported unserved.
    "/": (307, [("location", f"{CONTROL_PREFIX}ui"), ("content-type", "text/plain")], b""),
    "/favicon.ico": (404, [("content-type", "text/plain")], b""),
}
"""What the server answers a browser outside the API, before the API sees the request."""


def _json(status: int, payload: Any) -> Response:
    # allow_nan=False: strict JSON out, whatever a control route was asked.
    return (
        status,
        [("content-type", "application/json")],
        json.dumps(payload, allow_nan=False).encode(),
    )


class ConnectionDropped(Exception):
    """Raised after a response has started, so uvicorn closes the connection mid-answer."""


async def _drop(
    send: Callable[[Message], Awaitable[None]],
    client: object,
    abort: Callable[[object], bool] | None,
) -> None:
    """Answer an injected transport fault as a network would: a connection cut short.

    Where the server can close the client's connection (uvicorn, through ``abort``), it
    is closed with nothing sent, so no client reads a status line for a request that
    failed. ASGI alone has no way to close a connection unanswered: an app that fails
    after it started a response gets its connection closed, so the client reads headers
    promising a body, then end of file, which httpx raises as ``RemoteProtocolError``
    (the SDK's ``NetworkError``); a HEAD, which expects no body, would read that as an
    answer. The failure is kept out of the server's log (see ``_QuietDrops``).
    """
    if abort is None or not abort(client):
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
        )
    raise ConnectionDropped("an injected transport fault")


class ClientGone(Exception):
    """The client went away before its request's body arrived whole."""


class _QuietDrops(logging.Filter):
    """Keep injected dropped connections out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


async def _read_body(
    receive: Callable[[], Awaitable[Message]], announced: str | None, limit: int
) -> tuple[bytes | None, int]:
    """Read a body of at most ``limit`` bytes; ``(None, size)`` for a larger one.

    A larger body is refused as soon as it is known to be: by its ``Content-Length``,
    or once the chunks read pass the limit. Its bytes are then read and thrown away
    (never kept), so that the client, still sending, reads the refusal rather than a
    reset connection. A client that goes away before its body is whole raises
    :class:`ClientGone`: a request cut off part-way is not the request it was to be
    (half a JSON object can parse, half an image can be stored), so none of it is handled.
    """
    # ASCII digits, few enough for `int` (h11 checks as much; another ASGI server may not).
    if (
        announced is not None
        and announced.isascii()
        and announced.isdigit()
        and len(announced) <= _WHOLE_DIGITS
        and int(announced) > limit
    ):
        await _drain(receive)
        return None, int(announced)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            chunks.clear()
            if message.get("more_body", False):
                size += await _drain(receive)
            return None, size
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), size


async def _drain(receive: Callable[[], Awaitable[Message]]) -> int:
    """Read what is left of a request body, keeping none of it; return its size."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return size
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            return size


async def _answer(
    send: Callable[[Message], Awaitable[None]], method: str, response: Response
) -> None:
    status, headers, content = response
    if not any(name == "content-length" for name, _ in headers):  # HEAD has it
        headers = [*headers, ("content-length", str(len(content)))]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})


def _route_of(target: str) -> str:
    path = target.partition("?")[0]
    return path[len(CONTROL_PREFIX) - 1 :].rstrip("/")


def _redacted(document: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with every API key's text replaced: for callers without the control key."""
    keys = document.get("api_keys")
    if not keys:
        return document
    return {**document, "api_keys": [{**key, "key": REDACTED} for key in keys]}


class HostCheck:
    """Which ``Host`` headers a server answers to: a guard against DNS rebinding.

    A web page can point a name it controls at 127.0.0.1; its requests then carry that
    name as their Host. Answering only to the bound address, ``localhost`` and names
    given on purpose keeps such pages out. A server bound to every interface answers to
    any IP address, which no page can rebind.
    """

    def __init__(self, bound: str, extra: Iterable[str] = ()) -> None:
        self._any_address = bound.strip("[]") in _WILDCARDS
        self._names = frozenset(
            {"localhost", bound.strip("[]").lower(), *(h.strip("[]").lower() for h in extra)}
        )

    @property
    def names(self) -> str:
        """The names answered, for a refusal's message."""
        listed = ", ".join(sorted(self._names - {""}))
        return f"{listed} or any IP address" if self._any_address else listed

    def __call__(self, host: str) -> bool:
        name = _host_name(host)
        if name in self._names:
            return True
        if not self._any_address:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def _request_of(
    scope: MutableMapping[str, Any],
) -> tuple[str, dict[str, str], list[tuple[bytes, bytes]]]:
    """A request's target as sent (path and query), its headers by lower-case name, and
    its raw headers."""
    # The raw path keeps percent-encoding, so a name holding '/' stays one segment.
    raw_path = scope.get("raw_path") or scope["path"].encode()
    target, authority = _origin_form(raw_path.decode("latin-1"))
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    raw_headers = list(scope.get("headers", []))
    headers: dict[str, str] = {}
    for key, value in raw_headers:
        # A name sent twice reads as its first value, as the API's framework reads it.
        headers.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    if authority is not None:
        # RFC 9112 3.2.2: the target's authority is the request's host, whatever the
        # Host header says; so it is what the Host check reads.
        headers["host"] = authority
    return target, headers, raw_headers


async def _real_time_to(clock: VirtualClock, due: float, gone: asyncio.Future[None]) -> None:
    """Wait in real time for a clock that moves by hand only to be at ``due``, then move it
    there (sooner if a hand moves it, never if the socket's client has gone): a socket
    cannot say what its client has read, so it must not run the clock ahead of it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (due - clock.monotonic())
    while not gone.done() and clock.monotonic() < due and loop.time() < deadline:
        await asyncio.wait({gone}, timeout=min(deadline - loop.time(), 0.25))
    if not gone.done():
        clock.reach(due)


async def _http_disconnect(receive: Callable[[], Awaitable[Message]]) -> None:
    """Return once the client of an HTTP request (its body read whole) goes away."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _disconnect(receive: Callable[[], Awaitable[Message]]) -> None:
    """Return once a WebSocket's client has gone."""
    while (await receive())["type"] != "websocket.disconnect":
        pass


def _origin_form(target: str) -> tuple[str, str | None]:
    """Split an absolute-form request target (``http://host:port/path``, what a client
    sends through a proxy) into its path and its authority; any other comes back whole,
    with ``None``.

    uvicorn's h11 protocol hands the target over as the ASGI path unparsed, so without
    this the scheme and host would be read as the route's first segments.
    """
    absolute = _ABSOLUTE_FORM.match(target)
    if absolute is None:
        return target, None
    path = target[absolute.end() :]
    # The authority's user information, if any, is no part of the host.
    return (path if path.startswith("/") else "/" + path), absolute[1].rpartition("@")[2]


def _host_name(host: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case."""
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:
        return ""
    return (name or "").lower()


def served_hosts(
    base_url: str, extra: Iterable[str] = (), public_url: str | None = None
) -> HostCheck:
    """The Host check for a server bound at ``base_url``, also answering to ``extra``
    names and to the host of ``public_url`` (the address clients reach it at)."""
    public = () if public_url is None else (urlsplit(public_url).hostname or "",)
    return HostCheck(urlsplit(base_url).hostname or "", (*extra, *public))


def new_control_key() -> str:
    """A fresh control key: random, not from the seed (anyone can compute a seed's ids)."""
    return f"fk_{secrets.token_urlsafe(24)}"


async def _lifespan(
    receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# ── running it ──


LISTEN_BACKLOG = 2048
"""Connections the kernel holds for the server before it accepts them (uvicorn's own
default): those made between `serve` printing its URL and uvicorn starting wait there."""


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket first, so the base URL carries the real port for port 0.

    It listens at once, before uvicorn starts: `serve` prints the URL as soon as it is
    bound, and a script that reads that line and connects straight away would otherwise
    be refused (the connection now waits in the backlog until uvicorn accepts it).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections whose socket says
    # TCP, and without it every answer (headers, then body) waits ~40 ms for delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def public_base_url(url: str) -> str:
    """``url``, checked as the address clients reach a server at (``http://fake:8765``
    from another container), without a trailing ``/``: ``ValueError`` saying what to fix.

    The fake writes it into what it answers (signed upload and download URLs, gateway
    URLs, ``/_fake/info``), so a client that reaches the server by another name than the
    bound address (``0.0.0.0`` means nothing to another container) can follow them.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"public URL {url!r:.80} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"public URL {url!r:.80} must be http:// or https:// and name a host, "
            "as clients reach the server: 'http://fake:8765'"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"public URL {url!r:.80} must be a scheme, a host and a port only: the server "
            "answers at its root ('http://fake:8765')"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + ("" if port is None else f":{port}")


def base_url_of(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def fake_factory(
    base_url: str,
    *,
    seed: int | None = None,
    profile: ProfileName | None = None,
    balance_usd: float | None = None,
    scenario: ScenarioRef | None = None,
    speed: float = 0.0,
    api_key: str | None = None,
    gpu_workers: dict[str, int] | None = None,
    sdk_version: str | None = None,
    journal_limit: int = JOURNAL_LIMIT,
    scenario_dirs: Sequence[str | os.PathLike[str]] = (),
) -> FakeFactory:
    """The factory a :class:`FakeAsgiApp` (re)builds its fake with.

    Called with ``None`` it makes the server's own world (its settings, its scenario);
    called with a scenario it makes that scenario's world, with the scenario's own seed,
    profile and balance, at the server's base URL and speed. The key stays the server's
    unless the scenario lists API keys of its own (a snapshot does).
    """

    # The key clients were given first: a loaded world keeps accepting it, even when the
    # server's key was generated (from a seed the loaded scenario may not share).
    first_key: list[str] = []

    def make(loaded: ScenarioRef | None) -> FakePictograph:
        if loaded is None:
            fake = FakePictograph(
                seed=seed,
                profile=profile,
                balance_usd=balance_usd,
                base_url=base_url,
                speed=speed,
                api_key=api_key,
                scenario=scenario,
                gpu_workers=gpu_workers,
                sdk_version=sdk_version,
                journal_limit=journal_limit,
                scenario_dirs=scenario_dirs,
            )
            if not first_key:
                first_key.append(fake.api_key)
        else:
            fake = FakePictograph(
                base_url=base_url,
                speed=speed,
                api_key=api_key if api_key is not None else next(iter(first_key), None),
                scenario=loaded,
                gpu_workers=gpu_workers,
                sdk_version=sdk_version,
                journal_limit=journal_limit,
                scenario_dirs=scenario_dirs,
            )
        # A served fake posts webhooks to the URLs they were registered with.
        fake.webhooks.network = True
        return fake

    return make


NEEDS_UVICORN = (
    "serving the fake over HTTP (FakeServer, pictograph-fake serve) needs uvicorn: "
    "pip install 'pictograph-testing[server]'"
)
"""What a server started without its extra says."""


def require_uvicorn() -> None:
    """Raise ``ModuleNotFoundError`` saying which extra to install, if uvicorn is missing."""
    try:
        import uvicorn  # noqa: F401  # the server's own dependency, checked here to say so
    except ModuleNotFoundError as missing:
        raise ModuleNotFoundError(NEEDS_UVICORN, name=missing.name) from None


def uvicorn_server(app: FakeAsgiApp) -> uvicorn.Server:
    """A uvicorn server of ``app`` (:func:`uvicorn_config`) that lets it close a
    client's connection unanswered (an injected transport fault)."""
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app))

    def abort(client: object) -> bool:
        # uvicorn's HTTP protocols keep their peer's address and transport; one that
        # does not (another version's) leaves the fault to the fallback in `_drop`.
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if (
                client is not None
                and transport is not None
                and getattr(connection, "client", None) == client
            ):
                transport.abort()
                return True
        return False

    app.abort_connection = abort
    return server


def uvicorn_config(app: FakeAsgiApp) -> uvicorn.Config:
    """How the fake is served: quiet, no access log, a short graceful shutdown, and no
    header of the server's own."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
        backlog=LISTEN_BACKLOG,
        h11_max_incomplete_event_size=H11_MAX_INCOMPLETE_EVENT,
        # uvicorn's `Date` is the machine's time, not the world's: the same calls would
        # get other bytes each run. The headers sent are the fake's, as in process.
        date_header=False,
        server_header=False,
    )
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in error_log.filters):
        error_log.addFilter(_QuietDrops())
    return config


class FakeServer:
    """Serve a fresh fake over HTTP on a loopback port, in a background thread.

    A context manager (or :meth:`start` / :meth:`stop`)::

        with FakeServer(scenario="ready-to-train", speed=0) as server:
            client = server.client()  # a pictograph.Client for server.base_url
            control = server.control()  # an httpx.Client for /_fake/, with the key
            ...

    ``port=0`` (the default) takes any free port; :attr:`base_url` says which.
    ``speed`` is virtual seconds per real second (0: time moves only by hand, through
    ``server.fake.clock.advance(...)`` or ``POST /_fake/clock/advance``). The fake
    itself is :attr:`fake` (it changes on reset and load); nothing here couples the
    SDK's clock, so clients wait in real time. The ``Idempotency-Key``s of
    :meth:`client`'s and :meth:`async_client`'s writes are drawn from the served fake's
    seed, whatever fake is active beside it.

    The control routes need :attr:`control_key` in ``X-Fake-Control-Key`` (a new random
    key unless ``control_key`` gives one; ``control_auth=False`` opens them to anyone
    who can reach the port). ``allowed_hosts`` are Host names answered besides the
    bound address and ``localhost``; ``scenario_dirs`` are folders of scenarios loaded
    by name; ``journal_limit`` is how many calls the journal keeps. ``public_url`` is the
    address clients reach the server at when it is not the bound one (``http://fake:8765``
    from another container): the fake writes it into signed and gateway URLs, answers to
    its host, and :attr:`base_url` is it.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        profile: ProfileName | None = None,
        balance_usd: float | None = None,
        scenario: ScenarioRef | None = None,
        speed: float = 0.0,
        api_key: str | None = None,
        gpu_workers: dict[str, int] | None = None,
        sdk_version: str | None = None,
        journal_limit: int = JOURNAL_LIMIT,
        scenario_dirs: Sequence[str | os.PathLike[str]] = (),
        control_key: str | None = None,
        control_auth: bool = True,
        allowed_hosts: Sequence[str] = (),
        public_url: str | None = None,
    ) -> None:
        self._host = host
        self._public_url = None if public_url is None else public_base_url(public_url)
        self._port = port
        self._settings: dict[str, Any] = {
            "seed": seed,
            "profile": profile,
            "balance_usd": balance_usd,
            "scenario": scenario,
            "speed": speed,
            "api_key": api_key,
            "gpu_workers": gpu_workers,
            "sdk_version": sdk_version,
            "journal_limit": journal_limit,
            "scenario_dirs": scenario_dirs,
        }
        if control_key is not None and not control_auth:
            raise ValueError("give a control_key or control_auth=False, not both")
        if control_key is not None:
            sendable("control_key", control_key)
        self.control_key: str | None = (control_key or new_control_key()) if control_auth else None
        """The key control routes need in ``X-Fake-Control-Key``; ``None``: none needed."""
        self._allowed_hosts = tuple(allowed_hosts)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._app: FakeAsgiApp | None = None
        self.base_url = ""

    @property
    def app(self) -> FakeAsgiApp:
        if self._app is None:
            raise RuntimeError("the server is not started: use `with FakeServer() as server:`")
        return self._app

    @property
    def fake(self) -> FakePictograph:
        """The fake being served now."""
        return self.app.fake

    @property
    def api_key(self) -> str:
        return self.fake.api_key

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a control request needs: the key (if any) and the JSON type."""
        headers = {"Content-Type": "application/json"}
        if self.control_key is not None:
            headers[CONTROL_KEY_HEADER] = self.control_key
        return headers

    def start(self) -> FakeServer:
        """Bind, start uvicorn in a daemon thread and wait until it listens."""
        require_uvicorn()
        if self._server is not None:
            raise RuntimeError("this FakeServer is already running")
        sock = bind(self._host, self._port)
        bound = base_url_of(sock)
        self.base_url = self._public_url or bound
        try:
            self._app = FakeAsgiApp(
                fake_factory(self.base_url, **self._settings),
                control_key=self.control_key,
                hosts=served_hosts(bound, self._allowed_hosts, self._public_url),
                scenario_dirs=self._settings["scenario_dirs"],
            )
        except BaseException:  # an unknown scenario or profile: nothing may keep the port
            sock.close()
            raise
        server = uvicorn_server(self._app)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="pictograph-fake", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the fake's server did not start on {self.base_url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait (boundedly) for its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        self._server = None
        self._thread = None

    def client(self, *, api_key: str | None = None, **kwargs: Any) -> pictograph.Client:
        """A real ``pictograph.Client`` for this server (over loopback HTTP), with the
        server's key or ``api_key``; other keyword arguments go to the client."""
        import pictograph

        key = self.api_key if api_key is None else api_key
        # Straight to loopback: a proxy the shell names (HTTPS_PROXY) would get the key.
        return coupling.build_direct_client(
            lambda: pictograph.Client(api_key=key, base_url=self.base_url, **kwargs),
            keys=self._idempotency_key,
        )

    def async_client(self, *, api_key: str | None = None, **kwargs: Any) -> pictograph.AsyncClient:
        """A real ``pictograph.AsyncClient`` for this server, as :meth:`client` makes.

        Raises :class:`~pictograph_testing.AsyncClientUnavailable` on an SDK older than
        1.16.0, which has no async client.
        """
        from pictograph_testing._sdk.layout import require_async_client

        require_async_client()
        import pictograph

        key = self.api_key if api_key is None else api_key
        return coupling.build_direct_client(
            lambda: pictograph.AsyncClient(api_key=key, base_url=self.base_url, **kwargs),
            keys=self._idempotency_key,
        )

    def _idempotency_key(self) -> str:
        # The served fake's keys, not the innermost active fake's: a fresh fake of the
        # same seed activated per test would restart its stream, and this world, which
        # outlives it, would be sent the same keys again and replay its stored answers.
        return seeded_key(self.fake.idempotency_keys)

    def control(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` for the control routes: based at ``/_fake``, with the key.

        ``control.post("/clock/advance", json={"hours": 1})``; close it (or use it in a
        ``with``) when done.
        """
        import httpx

        headers = {**self.control_headers, **kwargs.pop("headers", {})}
        # Straight to loopback, as `client`'s: a proxy would get the control key.
        options = {"trust_env": False, **kwargs}
        return httpx.Client(base_url=f"{self.base_url}/_fake", headers=headers, **options)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"serving {self.base_url}" if self._server is not None else "stopped"
        return f"FakeServer({state})"
