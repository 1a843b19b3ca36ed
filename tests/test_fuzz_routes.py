"""Arbitrary bytes, in every encoding JSON comes in, to every route of the route table.

The routes are the route table's (``ENDPOINTS``), their path parameters filled with
names of a small world or junk, their bodies arbitrary bytes or the route's own fields
holding odd values (lone surrogates, ``NaN``, ``Infinity``, huge numbers, deep nesting),
encoded as UTF-8, -16 or -32. Each request goes straight to ``Api.handle``; whatever it
is, no exception comes out, no answer is a 5xx or anything but strict JSON, the journal
holds the request, and a refused request leaves the world's digest as it was.

The second sweep sends what reaches the served app (``FakeAsgiApp``) instead: any
release's ``User-Agent`` (so each dialect's renames and aliases are read), the old
paths, the old field names beside today's, any content type, repeated and bare query
parameters. The same request to the fake's httpx transport, on a twin world, gets the
same status and bytes, and a refused one leaves the world's scenario export (its
snapshot) and its digest as they were.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pictograph_testing import FakePictograph
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.server import FakeAsgiApp
from pictograph_testing.world.training import RunRequest
from tests.invariants import state_digest
from tests.test_tools import _counting_graph

# A hypothesis budget over every route: run by scripts/test_slow.sh, not scripts/test.sh.
pytestmark = pytest.mark.slow

DATASET = "road-signs"
EXPORT = "road-signs-v1"
# A path parameter of a route template: `{name}`, `{name:uuid}` or `{name...}`.
PARAMETER = re.compile(r"\{(?P<name>[a-z_]+)(?::uuid|\.\.\.)?\}")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be")


def _world() -> tuple[FakePictograph, dict[str, str]]:
    """One of everything a route can name: a dataset, images, exports, a finished run and
    its model, a notification; an owner and a viewer key."""
    fake = FakePictograph(scenario="ready-to-train")
    world = fake.world
    with world.lock:
        run = world.training.create(
            world.default_key, RunRequest(DATASET, EXPORT, "yolox", "a10g", {"epochs": 2}, "done")
        )
        fake.clock.advance(hours=1)
        world.catch_up()
    image = world.images[world.dataset(world.default_org.id, DATASET).image_ids[0]]
    notification = next(iter(world.feeds.notifications))
    with fake.client(max_retries=0) as client:
        # A deployed workflow, so a route that carries its endpoint (and its live view,
        # read off whatever graph a fuzzed save left) is answered too.
        client.workflows.create("Lot", _counting_graph("done"))
        client.workflows.deploy("Lot")
    refs = {
        "owner": fake.api_key,
        "viewer": fake.add_api_key("viewer"),
        "dataset": DATASET,
        "export": EXPORT,
        "run": run.id,
        "job": run.id,
        "model": str(run.model_id),
        "image": image.id,
        "path": image.filename,
        "notification_id": notification,
        "workflow": "Lot",
    }
    return fake, refs


_, REFS = _world()
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

odd_text = st.one_of(
    st.text(max_size=6),
    st.tuples(st.text(max_size=3), st.sampled_from(["\ud800", "\udfff", "\udc00\ud800"])).map(
        "".join
    ),
    st.sampled_from([DATASET, EXPORT, "yolox", "a10g", "train", "complete", "image/png", "a.png"]),
)
odd_numbers = st.one_of(
    st.integers(-5, 5),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 10**400, -(10**30), 0.5]),
)
json_values = st.recursive(
    st.none() | st.booleans() | odd_numbers | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)


def _encode(value: Any) -> str:
    # allow_nan: NaN and Infinity go out as the bare tokens json.loads takes.
    return json.dumps(value, allow_nan=True, ensure_ascii=False)


@st.composite
def bodies(draw: st.DrawFn, fields: tuple[str, ...]) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=48))
    if kind == 1:
        depth = draw(st.sampled_from([31, 32, 33, 100, 5000]))
        text = "[" * depth + "]" * depth
    elif kind == 2:
        text = _encode(draw(json_values))
    else:
        body = {name: draw(json_values) for name in fields if draw(st.booleans())}
        text = _encode(body)
    if draw(st.integers(0, 5)) == 0:
        text = text.replace("0.5", "1e400")  # a number that overflows a float
    return text.encode(draw(st.sampled_from(ENCODINGS)), "surrogatepass")


ROUTES = [
    (e.method, e.path, tuple(e.body.fields) if e.body is not None else (), e.query)
    for e in ENDPOINTS
]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    method, template, fields, params = draw(st.sampled_from(ROUTES))
    if method == "GET" and draw(st.integers(0, 4)) == 0:
        method = "HEAD"

    def segment(match: Any) -> str:
        name = match.group("name")
        if name in REFS and draw(st.integers(0, 4)) > 0:
            return quote(REFS[name], safe="")
        return quote(draw(odd_text), safe="", errors="surrogatepass")

    path = PARAMETER.sub(segment, template)
    query = "&".join(
        f"{p.name}={quote(draw(odd_text), safe='', errors='surrogatepass')}"
        for p in params
        if draw(st.booleans())
    )
    headers = {"x-api-key": REFS[draw(st.sampled_from(["owner", "owner", "viewer"]))]}
    if draw(st.booleans()):
        headers["idempotency-key"] = "fuzz"
    with_body = bool(fields) or draw(st.booleans())
    body = draw(bodies(fields)) if with_body else b""
    target = "/api/v1/developer/" + path + ("?" + query if query else "")
    return method, target, headers, body


def _strict(text: bytes) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"the fake sent a bare {token}")

    return json.loads(text, parse_constant=refuse)


@settings(max_examples=150, deadline=None)
@given(sent=st.lists(requests(), min_size=1, max_size=4))
def test_no_bytes_break_any_route(sent: list[tuple[str, str, dict[str, str], bytes]]) -> None:
    fake, refs = _world()
    assert refs["run"] == REFS["run"]
    api = fake.api
    for method, target, headers, body in sent:
        before = state_digest(fake.world)
        calls = len(api.journal)
        status, response_headers, content = api.handle(method, target, headers, body)
        assert status < 500, content[:300]
        assert not fake.server_errors, fake.server_errors
        assert len(api.journal) == calls + 1, "a request missing from the journal"
        assert api.journal[-1].target == target
        kind = dict(response_headers)["content-type"]
        if kind == "application/json" and content:
            answer = _strict(content)
            if status >= 400:
                assert answer["error"]["code"]
                assert answer["error"]["message"]
        if status >= 400:
            assert state_digest(fake.world) == before, f"{method} {target} changed the world"


# ── the served app: any release, any content type, repeated parameters ──

RELEASES: tuple[str, ...] = (
    "1.0.0",
    "1.8.0",
    "1.56.9",
    "1.60.0",
    "1.66.1",
    "1.67.2",
    "1.69.43",
    "1.69.47",
)
RELEASES += ("1.69.48", "1.69.78", "1.69.92", "1.69.105", "1.69.126", "1.69.146", "99.0")
AGENTS = (
    None,
    "curl/8.5.0",
    *(f"pictograph-python{kind}/{release}" for release in RELEASES for kind in ("", "-async")),
)
CONTENT_TYPES = (
    None,
    "",
    "application/json",
    "application/json; charset=utf-16",
    "application/merge-patch+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "image/png",
)
SERVED = [
    (e, template, sorted({old for wire in e.wires for old in wire.renames}))
    for e in ENDPOINTS
    for template in (e.path, *(alias for alias, _ in e.aliases))
]


def _served_world() -> FakePictograph:
    """A dataset with images and an export, and no run: a world its snapshot holds whole."""
    return FakePictograph(scenario="ready-to-train")


@st.composite
def served_requests(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]], bytes]:
    endpoint, template, renamed = draw(st.sampled_from(SERVED))
    method = endpoint.method if draw(st.integers(0, 9)) else draw(st.sampled_from(METHODS))

    def segment(match: Any) -> str:
        name = match.group("name")
        if name in REFS and name != "run" and draw(st.integers(0, 3)) > 0:
            return quote(REFS[name], safe="")
        return quote(draw(odd_text), safe="", errors="surrogatepass")

    path = PARAMETER.sub(segment, template)
    path = path if path.startswith("/") else "/api/v1/developer/" + path
    names = [p.name for p in endpoint.query] + renamed
    pairs: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(names)) if names else draw(odd_text)
        value = quote(draw(odd_text), safe="", errors="surrogatepass")
        # Bare (`?limit`) and repeated (`?limit=1&limit=x`) parameters too.
        name = quote(name, safe="", errors="surrogatepass")
        pairs.append(name + ("" if draw(st.integers(0, 5)) == 0 else f"={value}"))
        if draw(st.integers(0, 3)) == 0:
            pairs.append(pairs[-1])
    fields = (*(endpoint.body.fields if endpoint.body is not None else ()), *renamed)
    with_body = bool(fields) or draw(st.booleans())
    body = draw(bodies(tuple(fields))) if with_body else b""
    headers = [("x-api-key", draw(st.sampled_from(["owner", "owner", "viewer"])))]
    agent = draw(st.sampled_from(AGENTS))
    if agent is not None:
        headers.append(("user-agent", agent))
    kind = draw(st.sampled_from(CONTENT_TYPES))
    if kind is not None:
        headers.append(("content-type", kind))
    if draw(st.integers(0, 3)) == 0:
        headers.append(("idempotency-key", "fuzz"))
    return method, path + ("?" + "&".join(pairs) if pairs else ""), headers, body


async def _serve(
    app: FakeAsgiApp, method: str, target: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn hands it over."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers],
    }
    waiting = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return waiting.pop() if waiting else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _export(fake: FakePictograph) -> str:
    """The world's scenario document, but for when each key was last used (every
    authenticated request stamps it, refused or not, as the API records a key's use)."""
    document = fake.snapshot()
    for key in document.get("api_keys", []):
        key.pop("last_used_at", None)
    return json.dumps(document, sort_keys=True)


@settings(max_examples=60, deadline=None)
@given(sent=st.lists(served_requests(), min_size=1, max_size=4))
def test_nothing_sent_to_the_served_app_breaks_it_or_half_applies(
    sent: list[tuple[str, str, list[tuple[str, str]], bytes]],
) -> None:
    app = FakeAsgiApp(lambda _: _served_world())
    fake, twin = app.fake, _served_world()
    viewer = fake.add_api_key("viewer")
    assert twin.add_api_key("viewer") == viewer
    keys = {"owner": fake.api_key, "viewer": viewer}
    transport = twin.transport()
    loop = asyncio.new_event_loop()
    try:
        for method, target, headers, body in sent:
            headers = [(k, keys.get(v, v) if k == "x-api-key" else v) for k, v in headers]
            before, digest = _export(fake), state_digest(fake.world)
            status, content = loop.run_until_complete(_serve(app, method, target, headers, body))
            assert status < 500, content[:300]
            assert not fake.server_errors, fake.server_errors
            request = httpx.Request(method, twin.base_url + target, headers=headers, content=body)
            direct = transport.handle_request(request)
            assert (direct.status_code, direct.read()) == (status, content), target
            if status >= 400:
                if method != "HEAD":
                    refusal = _strict(content)["error"]
                    assert refusal["code"]
                    assert refusal["message"]
                assert _export(fake) == before, f"{method} {target} changed the export"
                assert state_digest(fake.world) == digest, f"{method} {target} changed the world"
    finally:
        loop.close()
