"""The fake behind a real HTTP server: an ASGI adapter over the same API, and ``serve``.

Everything the API answers comes from :meth:`Api.handle`, exactly as in process. The
adapter adds the control routes under ``/_fake/`` (the public API lives under
``/api/v1/developer/`` and signed URLs under ``/_storage/``, so the two never meet):

- ``GET /_fake/``: the base URL, API key, profile, seed and virtual time;
- ``GET /_fake/clock`` and ``POST /_fake/clock/advance`` ``{"seconds": N}``;
- ``POST /_fake/reset``: a fresh world with the same settings.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pictograph_testing.clock import format_timestamp

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    from pictograph_testing.fake import FakePictograph

__all__ = ["CONTROL_PREFIX", "FakeAsgiApp"]

CONTROL_PREFIX = "/_fake/"

Message = dict[str, Any]


class FakeAsgiApp:
    """Serve one fake over ASGI; ``make_fake`` builds it (again, on reset)."""

    def __init__(self, make_fake: Callable[[], FakePictograph]) -> None:
        self._make_fake = make_fake
        self.fake = make_fake()

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
        if target.startswith(CONTROL_PREFIX) or target.rstrip("/") == CONTROL_PREFIX.rstrip("/"):
            status, response_headers, content = self._control(method, target, body)
        else:
            status, response_headers, content = self.fake.api.handle(method, target, headers, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]
                + [(b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})

    def _control(
        self, method: str, target: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path = target.split("?", 1)[0].rstrip("/")
        route = path[len(CONTROL_PREFIX.rstrip("/")) :]
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _json(422, {"error": "the body must be JSON"})
        if not isinstance(payload, dict):
            return _json(422, {"error": "the body must be a JSON object"})
        match method, route:
            case "GET", "":
                return _json(200, self._info())
            case "GET", "/clock":
                return _json(200, self._clock())
            case "POST", "/clock/advance":
                seconds = payload.get("seconds")
                if (
                    isinstance(seconds, bool)
                    or not isinstance(seconds, (int, float))
                    or seconds < 0
                ):
                    return _json(422, {"error": 'send {"seconds": N} with N >= 0'})
                self.fake.clock.advance(seconds=float(seconds))
                return _json(200, self._clock())
            case "POST", "/reset":
                self.fake = self._make_fake()
                return _json(200, self._info())
        return _json(404, {"error": f"no control route {method} {path}"})

    def _info(self) -> dict[str, Any]:
        fake = self.fake
        return {
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "profile": fake.profile,
            "seed": fake.seed,
            **self._clock(),
        }

    def _clock(self) -> dict[str, Any]:
        clock = self.fake.clock
        return {
            "now": format_timestamp(clock.now()),
            "monotonic": clock.monotonic(),
            "speed": clock.speed,
        }


def _json(status: int, payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("content-type", "application/json")], json.dumps(payload).encode()


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
