"""The fake behind a real HTTP server: an ASGI adapter over the same API, and ways to run it.

Everything the public API answers comes from :meth:`Api.handle`, exactly as in process.
The adapter adds the control routes under ``/_fake/`` (the public API lives under
``/api/v1/developer/`` and signed URLs under ``/_storage/``, so the two never meet; the
API's router has no route outside its prefix, so no public path reaches them):

- ``GET /_fake/``: the base URL, API key, profile, seed, virtual time, server errors;
- ``GET /_fake/clock`` and ``POST /_fake/clock/advance`` ``{"seconds": N}`` (or
  ``minutes`` / ``hours``);
- ``POST /_fake/reset``: a fresh world with the server's settings;
- ``GET /_fake/snapshot``: the world as a scenario document; ``POST /_fake/snapshot``
  loads one (a document, or ``{"scenario": "<name>"}``);
- ``GET /_fake/journal?since=N&limit=M``: the calls the API answered, oldest first;
- ``GET /_fake/openapi.json``: the OpenAPI document of the public routes;
- ``POST /_fake/faults``: arm faults from JSON (one spec, or ``{"faults": [...]}``; see
  ``Faults.arm``), all or none; ``GET /_fake/faults`` lists what is armed, ``DELETE``
  disarms everything.

:class:`FakeServer` runs the app with uvicorn in a background thread (tests, the docs'
examples, benchmarks); ``pictograph-fake serve`` runs it in the foreground.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from pictograph_testing.api import strict_json
from pictograph_testing.clock import format_timestamp
from pictograph_testing.fake import FakePictograph
from pictograph_testing.faults import TransportFault

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping
    from types import TracebackType
    from typing import TypeAlias

    import pictograph
    import uvicorn

    from pictograph_testing.journal import Call

    ScenarioRef: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any]"
    FakeFactory: TypeAlias = "Callable[[ScenarioRef | None], FakePictograph]"
    """Builds the served fake: with ``None``, from the server's own settings; with a
    scenario, that scenario's world, reached at the server's base URL, key and speed."""

__all__ = [
    "CONTROL_PREFIX",
    "FakeAsgiApp",
    "FakeServer",
    "base_url_of",
    "bind",
    "fake_factory",
    "uvicorn_config",
]

CONTROL_PREFIX = "/_fake/"
JOURNAL_PAGE = 1000
"""The most calls one ``GET /_fake/journal`` returns; page on with ``since``."""
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
    """Serve one fake over ASGI; ``make_fake`` builds it (again, on reset and load)."""

    def __init__(self, make_fake: FakeFactory) -> None:
        self._make_fake = make_fake
        self.fake = make_fake(None)

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        # The raw path keeps percent-encoding, so a name holding '/' stays one segment.
        raw_path = scope.get("raw_path") or scope["path"].encode()
        target = raw_path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        body = await _read_body(receive)
        method = scope["method"]
        if target.startswith(CONTROL_PREFIX) or target.split("?", 1)[0] == CONTROL_PREFIX[:-1]:
            status, response_headers, content = self.control(method, target, body)
        else:
            try:
                status, response_headers, content = self.fake.api.handle(
                    method, target, headers, body
                )
            except TransportFault:
                await _drop(send)
                return
        if not any(name == "content-length" for name, _ in response_headers):  # HEAD has it
            response_headers = [*response_headers, ("content-length", str(len(content)))]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})

    # ── control routes ──

    def control(self, method: str, target: str, body: bytes) -> Response:
        """Answer one request under ``/_fake/``; never raises."""
        path, _, query = target.partition("?")
        route = path[len(CONTROL_PREFIX) - 1 :].rstrip("/")
        try:
            return _json(200, self._route(method, route, _query(query), body))
        except ControlError as error:
            return _json(error.status, {"error": error.message})
        except Exception as exc:  # a control route must answer, whatever went wrong
            self.fake.server_errors.append(exc)
            return _json(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _route(self, method: str, route: str, query: dict[str, str], body: bytes) -> Any:
        # One case per control route: another route (faults, say) is one more case.
        match method, route:
            case "GET", "":
                return self._info()
            case "GET", "/clock":
                return self._clock()
            case "POST", "/clock/advance":
                try:
                    self.fake.clock.advance(seconds=_advance_seconds(_payload(body)))
                except ValueError as exc:  # past the clock's horizon: it has not moved
                    raise ControlError(422, str(exc)) from None
                return self._clock()
            case "POST", "/reset":
                self.fake = self._make_fake(None)
                return self._info()
            case "GET", "/snapshot":
                try:
                    return self.fake.snapshot()
                except ValueError as exc:
                    raise ControlError(409, str(exc)) from None
            case "POST", "/snapshot":
                self.fake = self._load(_payload(body))
                return self._info()
            case "GET", "/journal":
                return self._journal(query)
            case "GET", "/openapi.json":
                from pictograph_testing.openapi import openapi_document

                return openapi_document(self.fake.base_url)
            case "POST", "/faults":
                return self._arm_faults(_payload(body))
            case "GET", "/faults":
                return self._faults()
            case "DELETE", "/faults":
                self.fake.faults.clear()
                return self._faults()
        raise ControlError(404, f"no control route {method} {CONTROL_PREFIX[:-1]}{route}")

    def _arm_faults(self, payload: dict[str, Any]) -> dict[str, Any]:
        specs = payload.get("faults") if set(payload) == {"faults"} else [payload]
        if not isinstance(specs, list) or not specs:
            raise ControlError(422, 'send a fault ({"kind": ...}) or {"faults": [...]}')
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
        }

    def _load(self, payload: dict[str, Any]) -> FakePictograph:
        named = payload.get("scenario")
        if set(payload) == {"scenario"} and isinstance(named, str):
            scenario: str | dict[str, Any] = named
        elif "schema_version" in payload:
            scenario = payload
        else:
            raise ControlError(
                422, 'send a scenario document (with "schema_version") or {"scenario": "<name>"}'
            )
        try:
            return self._make_fake(scenario)
        except ValueError as exc:
            raise ControlError(422, str(exc)) from None

    def _info(self) -> dict[str, Any]:
        fake = self.fake
        return {
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "profile": fake.profile,
            "seed": fake.seed,
            **self._clock(),
            "calls": len(fake.api.journal),
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
        limit = min(_whole(query, "limit", JOURNAL_PAGE), JOURNAL_PAGE)
        calls = self.fake.calls
        chunk = calls[since : since + limit]
        return {
            "total": len(calls),
            "since": since,
            "calls": [_call_record(call) for call in chunk],
        }


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
        "request": _body_record(call.body),
        "response": _body_record(call.response_body),
        # What an injected fault did to the call (status 0: the connection was dropped).
        "fault": call.fault,
    }


def _body_record(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        return {"json": strict_json.parse(body)}
    except strict_json.UnfitJson:  # NaN or a lone surrogate: kept as sent, below
        pass
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        # Image and model bytes: kept whole, as the journal keeps them.
        return {"base64": base64.b64encode(body).decode("ascii"), "size": len(body)}


def _pattern(path: object) -> str | None:
    return path if path is None or isinstance(path, str) else str(getattr(path, "pattern", path))


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = strict_json.parse(body) if body else {}
    except strict_json.UnfitJson as unfit:
        raise ControlError(422, unfit.message) from None
    if not isinstance(payload, dict):
        raise ControlError(422, "the body must be a JSON object")
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


def _whole(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise ControlError(422, f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _json(status: int, payload: Any) -> Response:
    # allow_nan=False: strict JSON out, whatever a control route was asked.
    return (
        status,
        [("content-type", "application/json")],
        json.dumps(payload, allow_nan=False).encode(),
    )


class ConnectionDropped(Exception):
    """Raised after a response has started, so uvicorn closes the connection mid-answer."""


async def _drop(send: Callable[[Message], Awaitable[None]]) -> None:
    """Answer an injected transport fault as a network would: a connection cut short.

    ASGI has no way to close a connection unanswered, but an app that fails after it
    started a response gets its connection closed: the client reads headers promising a
    body, then end of file, which httpx raises as ``RemoteProtocolError`` (the SDK's
    ``NetworkError``). The failure is kept out of the server's log (see ``_QuietDrops``).
    """
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
    )
    raise ConnectionDropped("an injected transport fault")


class _QuietDrops(logging.Filter):
    """Keep injected dropped connections out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


async def _read_body(receive: Callable[[], Awaitable[Message]]) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket first, so the base URL carries the real port for port 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections whose socket says
    # TCP, and without it every answer (headers, then body) waits ~40 ms for delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def base_url_of(sock: socket.socket) -> str:
    """``http://host:port`` for a bound socket (IPv6 hosts in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def fake_factory(
    base_url: str,
    *,
    seed: int | None = None,
    profile: str | None = None,
    balance_usd: float | None = None,
    scenario: ScenarioRef | None = None,
    speed: float = 0.0,
    api_key: str | None = None,
    gpu_workers: dict[str, int] | None = None,
    sdk_version: str | None = None,
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
            )
            if not first_key:
                first_key.append(fake.api_key)
            return fake
        return FakePictograph(
            base_url=base_url,
            speed=speed,
            api_key=api_key if api_key is not None else next(iter(first_key), None),
            scenario=loaded,
            gpu_workers=gpu_workers,
            sdk_version=sdk_version,
        )

    return make


def uvicorn_config(app: FakeAsgiApp) -> uvicorn.Config:
    """How the fake is served: quiet, no access log, a short graceful shutdown."""
    import uvicorn

    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
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
            ...

    ``port=0`` (the default) takes any free port; :attr:`base_url` says which.
    ``speed`` is virtual seconds per real second (0: time moves only by hand, through
    ``server.fake.clock.advance(...)`` or ``POST /_fake/clock/advance``). The fake
    itself is :attr:`fake` (it changes on reset and load); nothing here couples the
    SDK's clock, so clients wait in real time.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        profile: str | None = None,
        balance_usd: float | None = None,
        scenario: ScenarioRef | None = None,
        speed: float = 0.0,
        api_key: str | None = None,
        gpu_workers: dict[str, int] | None = None,
        sdk_version: str | None = None,
    ) -> None:
        self._host = host
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
        }
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

    def start(self) -> FakeServer:
        """Bind, start uvicorn in a daemon thread and wait until it listens."""
        import uvicorn

        if self._server is not None:
            raise RuntimeError("this FakeServer is already running")
        sock = bind(self._host, self._port)
        self.base_url = base_url_of(sock)
        try:
            self._app = FakeAsgiApp(fake_factory(self.base_url, **self._settings))
        except BaseException:  # an unknown scenario or profile: nothing may keep the port
            sock.close()
            raise
        server = uvicorn.Server(uvicorn_config(self._app))
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

    def client(self, **kwargs: Any) -> pictograph.Client:
        """A real ``pictograph.Client`` for this server (over loopback HTTP)."""
        import pictograph

        return pictograph.Client(api_key=self.api_key, base_url=self.base_url, **kwargs)

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
