"""Send a fake's webhooks to their receivers: your own app in process, or a URL over HTTP.

The world decides what is sent and when (``world/webhooks.py``); the courier here sends
it, never while the world lock is held, so a receiver may call the fake back. In
process, the URL an endpoint was registered with is looked up in the courier's routes:

- a plain callable gets a :class:`WebhookRequest` and answers ``None`` (200), a status
  code, or anything with a ``status_code`` (a framework's response); raising is a 500;
- an ASGI app (``app(scope, receive, send)``: Starlette, FastAPI) or a WSGI app
  (``app(environ, start_response)``: Flask, Django) gets a real HTTP request;
- a URL string (``"http://127.0.0.1:8123/hook"``) is posted to over real HTTP;
- a URL with no route is a sink: the attempt succeeds and is kept in :attr:`sent`.

Behind the offline server (``network=True``) an unrouted URL is posted to as registered.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from urllib.parse import unquote, urlsplit

import httpx

from pictograph_testing.world.webhooks import TIMEOUT_SECONDS, Outbound, Outcome

if TYPE_CHECKING:
    from collections.abc import Awaitable, Coroutine, Iterable, Mapping

    from pictograph_testing.world.state import World

__all__ = [
    "CANCELLED",
    "Receiver",
    "SentWebhook",
    "WebhookCourier",
    "WebhookRequest",
    "interrupted",
]

CANCELLED = "The attempt was cancelled before the receiver answered."
"""The error an async delivery records when its task is cancelled mid-send."""

Receiver: TypeAlias = Callable[..., Any] | str
"""A plain callable, an ASGI app, a WSGI app, or a URL string (see the module)."""
_Kind = Literal["callable", "asgi", "wsgi", "url"]


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery attempt, as a receiver gets it."""

    url: str
    headers: Mapping[str, str]
    """Header names as sent (``X-Pictograph-Signature``); look them up case-sensitively
    or lower-case them first."""
    body: bytes
    at: datetime
    """When it was sent, on the fake's virtual clock (its signature's ``t``)."""

    def header(self, name: str) -> str | None:
        """The value of header ``name``, in any case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_type(self) -> str | None:
        return self.header("X-Pictograph-Event")


@dataclass(frozen=True)
class SentWebhook:
    """One attempt the courier made, and what came of it."""

    request: WebhookRequest
    status_code: int | None
    error: str | None
    delivery_id: str | None
    """The logged delivery (``client.webhooks.deliveries()``); None for a test event."""
    receiver: str
    """``sink``, ``callable``, ``asgi``, ``wsgi`` or ``http``."""


class WebhookCourier:
    """Take due attempts from the world and send them; ``FakePictograph.webhooks``."""

    def __init__(self, world: World, *, network: bool = False) -> None:
        self._world = world
        self.network = network
        """Post unrouted URLs over real HTTP (the offline server) instead of sinking them."""
        self._routes: dict[str, tuple[_Kind, Receiver]] = {}
        self.sent: list[SentWebhook] = []
        """Every attempt sent, oldest first (test events too)."""
        # Held by whoever is sending: one sender at a time, in due order, and a receiver
        # that calls the fake back does not start a nested round.
        self._sending = threading.Lock()

    # ── routes ──

    def route(self, url: str, receiver: Receiver) -> None:
        """Send deliveries for endpoint ``url`` (as registered) to ``receiver``."""
        self._routes[url] = (_kind_of(receiver), receiver)

    def unroute(self, url: str) -> None:
        self._routes.pop(url, None)

    def routes(self) -> dict[str, Receiver]:
        return {url: receiver for url, (_, receiver) in self._routes.items()}

    # ── delivering what is due ──

    def deliver(self) -> int:
        """Catch the world up and send every attempt due by now; return how many.

        Requests do this themselves; call it after moving the clock when no request
        follows. Safe to call from a receiver (it returns 0: the round in progress
        sends what is due).
        """
        with self._world.lock:
            self._world.catch_up()
        return self.deliver_due()

    async def deliver_async(self) -> int:
        """:meth:`deliver` on an event loop: async receivers are awaited on it."""
        with self._world.lock:
            self._world.catch_up()
        return await self.deliver_due_async()

    def deliver_due(self) -> int:
        """Send every queued attempt due by now (a request's catch-up queued them)."""
        if not self._world.webhooks.due_by(self._world.clock.monotonic()):
            return 0
        sent = 0
        while self._sending.acquire(blocking=False):
            try:
                while (outbound := self._take()) is not None:
                    try:
                        outcome = self.send(outbound)
                    except BaseException as exc:
                        # Taken off the queue but never answered (a receiver that called
                        # pytest.fail, say): a failed attempt, retried, not a lost one.
                        self._record(outbound, interrupted(exc))
                        raise
                    self._record(outbound, outcome)
                    sent += 1
            finally:
                self._sending.release()
            # Another thread may have queued an attempt after our last look and found us
            # sending: look again now that the round is over.
            if not self._due():
                break
        return sent

    async def deliver_due_async(self) -> int:
        """:meth:`deliver_due` on an event loop."""
        if not self._world.webhooks.due_by(self._world.clock.monotonic()):
            return 0
        sent = 0
        while self._sending.acquire(blocking=False):
            try:
                while (outbound := self._take()) is not None:
                    try:
                        outcome = await self.send_async(outbound)
                    except BaseException as exc:  # cancelled, most often: as in deliver_due
                        self._record(outbound, interrupted(exc))
                        raise
                    self._record(outbound, outcome)
                    sent += 1
            finally:
                self._sending.release()
            if not self._due():
                break
        return sent

    def _take(self) -> Outbound | None:
        world = self._world
        with world.lock:
            return world.webhooks.take_due(world.catch_up())

    def _due(self) -> bool:
        world = self._world
        with world.lock:
            due = world.webhooks.next_due()
            return due is not None and due <= world.now()

    def _record(self, outbound: Outbound, outcome: Outcome) -> None:
        with self._world.lock:
            self._world.webhooks.record(outbound, outcome)

    # ── sending one ──

    def send(self, outbound: Outbound) -> Outcome:
        """Send one attempt now and return what the receiver answered."""
        kind, receiver = self._receiver(outbound.url)
        request = self._request(outbound)
        try:
            if kind == "sink":
                outcome = Outcome(200)
            elif kind == "http":
                outcome = _post(receiver, outbound)  # its own failures are its outcome
            elif kind == "callable":
                outcome = _status(_settled(receiver(request)))
            elif kind == "wsgi":
                outcome = Outcome(_wsgi(receiver, request))
            else:
                outcome = Outcome(_run(_asgi(receiver, request)))
        except Exception as exc:
            outcome = _crashed(exc)
        except BaseException as exc:
            self._sent(request, interrupted(exc), outbound, kind)
            raise
        return self._sent(request, outcome, outbound, kind)

    async def send_async(self, outbound: Outbound) -> Outcome:
        """:meth:`send` on an event loop: ASGI apps and awaitables are awaited on it.

        A sync receiver (a plain function, a WSGI app) runs in a worker thread, so the
        loop stays free while it runs: behind the server, a receiver that reads the API
        back over HTTP is answered by this same loop.
        """
        kind, receiver = self._receiver(outbound.url)
        if kind == "sink":
            return self.send(outbound)
        request = self._request(outbound)
        clock = self._world.clock
        try:
            if kind == "http":
                outcome = await _post_async(receiver, outbound)
            elif kind == "asgi":
                outcome = Outcome(await _asgi(receiver, request))
            elif kind == "wsgi":
                outcome = Outcome(await clock.to_thread(_wsgi, receiver, request))
            else:
                if _is_async(receiver):
                    answer = receiver(request)
                else:
                    # On a thread, the loop free; the clock waits for it all the same.
                    answer = await clock.to_thread(receiver, request)
                outcome = _status(await answer if inspect.isawaitable(answer) else answer)
        except Exception as exc:
            outcome = _crashed(exc)
        except BaseException as exc:
            self._sent(request, interrupted(exc), outbound, kind)
            raise
        return self._sent(request, outcome, outbound, kind)

    def _receiver(self, url: str) -> tuple[str, Any]:
        routed = self._routes.get(url)
        if routed is None:
            return ("http", url) if self.network else ("sink", None)
        kind, receiver = routed
        return ("http", receiver) if kind == "url" else (kind, receiver)

    def _request(self, outbound: Outbound) -> WebhookRequest:
        at = self._world.clock.start + timedelta(seconds=outbound.at)
        return WebhookRequest(outbound.url, dict(outbound.headers), outbound.body, at)

    def _sent(
        self, request: WebhookRequest, outcome: Outcome, outbound: Outbound, kind: str
    ) -> Outcome:
        with self._world.lock:
            self.sent.append(
                SentWebhook(request, outcome.status_code, outcome.error, outbound.delivery_id, kind)
            )
        return outcome


# ── receivers ──


def _kind_of(receiver: Receiver) -> _Kind:
    if isinstance(receiver, str):
        try:
            url = httpx.URL(receiver)
            port = url.port
        except httpx.InvalidURL as exc:
            raise ValueError(f"{receiver!r} is not a URL httpx can send to: {exc}") from None
        if url.scheme not in ("http", "https"):
            raise ValueError(f"a receiver URL must be http or https, got {receiver!r}")
        if not url.host:
            raise ValueError(f"a receiver URL needs a host, got {receiver!r}")
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"a receiver URL's port must be 1 to 65535, got {receiver!r}")
        return "url"
    if not callable(receiver):
        raise TypeError(f"a webhook receiver must be callable or a URL, got {receiver!r}")
    try:
        parameters = inspect.signature(receiver).parameters.values()
    except (TypeError, ValueError):
        raise TypeError(f"cannot tell what kind of receiver {receiver!r} is") from None
    # Required ones only: `def receiver(request, verbose=False)` takes one argument.
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    kinds: dict[int, _Kind] = {1: "callable", 2: "wsgi", 3: "asgi"}
    kind = kinds.get(len(positional))
    if kind is None:
        raise TypeError(
            "a webhook receiver takes one argument (a WebhookRequest), two (WSGI: environ, "
            "start_response) or three (ASGI: scope, receive, send)"
        )
    if kind == "asgi" and not _is_async(receiver):
        raise TypeError("an ASGI receiver must be an async callable (scope, receive, send)")
    return kind


def _is_async(receiver: Any) -> bool:
    call = receiver if inspect.isroutine(receiver) else type(receiver).__call__
    return inspect.iscoroutinefunction(call)


def _settled(answer: Any) -> Any:
    """What a plain callable answered, awaited to its end when it is awaitable (an async
    function, a ``functools.partial`` of one, a lambda returning a coroutine)."""
    if inspect.isawaitable(answer):
        return _run(_awaited(answer))
    return answer


async def _awaited(answer: Awaitable[Any]) -> Any:
    return await answer


def _status(answer: Any) -> Outcome:
    """What a plain callable returned, as an outcome.

    ``None`` is 200; an HTTP status code, or an object with one (a response), is that
    status; anything else is what a server in front of a broken handler answers, a 500,
    with what came back named.
    """
    if answer is None:
        return Outcome(200)
    code = answer if isinstance(answer, int) else getattr(answer, "status_code", None)
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return Outcome(code)
    return Outcome(
        500,
        f"The receiver returned {_shown(answer)}: return None, an HTTP status code or a response.",
    )


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _shown(value: Any) -> str:
    """``repr(value)`` less the memory address of Python's default reprs
    (``<object object at 0x7f...>`` reads ``<object object>``).

    The message is in the answer to ``webhooks.test`` and in the delivery's record, which
    the same seed and calls must repeat byte for byte; an address differs between
    processes, and between two runs in one.
    """
    return _ADDRESS.sub("", repr(value))


def _crashed(exc: Exception) -> Outcome:
    # What a server in front of a crashing handler answers.
    return Outcome(500, f"The receiver raised {type(exc).__name__}: {exc}")


def interrupted(exc: BaseException) -> Outcome:
    """A failed attempt for a send that ``exc`` stopped before the receiver answered: a
    cancelled task, or a receiver that raised past ``Exception`` (``pytest.fail``)."""
    if isinstance(exc, asyncio.CancelledError):
        return Outcome(None, CANCELLED)
    return Outcome(None, f"The attempt was interrupted: {type(exc).__name__}: {exc}")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end from sync code, on a loop of its own in a worker thread.

    A thread, not this one: this thread may already run a loop (a sync client used
    inside an async test), and the coroutine may call the fake back meanwhile.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="pictograph-webhook", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _target(url: str) -> tuple[str, str, str, int, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.path or "/", parts.query, port, host


async def _asgi(app: Any, request: WebhookRequest) -> int:
    scheme, path, query, port, host = _target(request.url)
    headers = [(b"host", host.encode())]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items()
    ]
    headers.append((b"content-length", str(len(request.body)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": scheme,
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "server": (host, port),
        "client": None,
    }
    sent_body = False
    finished = asyncio.Event()
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    await app(scope, receive, send)
    finished.set()
    if not status:
        raise RuntimeError("the ASGI app returned without starting a response")
    return status[0]


def _wsgi(app: Any, request: WebhookRequest) -> int:
    scheme, path, query, port, host = _target(request.url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path),
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(request.body)),
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        else:
            environ[f"HTTP_{key}"] = value
    status: list[int] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status[:] = [int(line.split(" ", 1)[0])]
        return lambda chunk: None

    body: Iterable[bytes] = app(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        close: Callable[[], Any] | None = getattr(body, "close", None)
        if close is not None:
            close()
    if not status:
        raise RuntimeError("the WSGI app returned without calling start_response")
    return status[0]


def _post(url: str, outbound: Outbound) -> Outcome:
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            answer = http.post(url, content=outbound.body, headers=list(outbound.headers))
    except Exception as exc:  # whatever the send raised (a bad URL too), the attempt failed
        return Outcome(None, f"{type(exc).__name__}: {exc}")
    return Outcome(answer.status_code)


async def _post_async(url: str, outbound: Outbound) -> Outcome:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
            answer = await http.post(url, content=outbound.body, headers=list(outbound.headers))
    except Exception as exc:  # whatever the send raised (a bad URL too), the attempt failed
        return Outcome(None, f"{type(exc).__name__}: {exc}")
    return Outcome(answer.status_code)
