"""Arbitrary bytes, in every encoding JSON comes in, to every route of the route table.

The routes are the route table's (``ENDPOINTS``), their path parameters filled with
names of a small world or junk, their bodies arbitrary bytes or the route's own fields
holding odd values (lone surrogates, ``NaN``, ``Infinity``, huge numbers, deep nesting),
encoded as UTF-8, -16 or -32. Each request goes straight to ``Api.handle``; whatever it
is, no exception comes out, no answer is a 5xx or anything but strict JSON, the journal
holds the request, and a refused request leaves the world's digest as it was.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pictograph_testing import FakePictograph
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.world.training import RunRequest
from tests.invariants import state_digest

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
    }
    return fake, refs


_, REFS = _world()

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
    body = draw(bodies(fields)) if fields or draw(st.booleans()) else b""
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
