"""What the fake serves of the SDK, method by method: the source of ``docs/fidelity.md``.

Every public method of every resource of the installed SDK (sync and async clients) gets
one verdict: **served** (an endpoint of the route table names it), **client-side** (it
sends nothing of its own: :data:`~pictograph_testing.api.sdk_surface.CLIENT_SIDE`) or
**not served** (its routes are listed in
:data:`~pictograph_testing.api.sdk_surface.NOT_SERVED`). A method in none of them, or in
two, is an error: the test suite fails, and so does ``python -m pictograph_testing.fidelity``,
which prints the page (``> docs/fidelity.md`` to regenerate it).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from dataclasses import dataclass
from typing import Any

from pictograph_testing.api.dialects import NEWEST, OLDEST, SDK_DEFECTS, Version, format_version
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.api.route_paths import API_PREFIX, DEVELOPER_PATH
from pictograph_testing.api.sdk_surface import CLIENT_SIDE, NOT_SERVED
from pictograph_testing.api.table import ALL_RELEASES
from pictograph_testing.openapi import RESOURCE_ORDER, openapi_path

__all__ = [
    "Verdict",
    "fidelity_page",
    "routes_snapshot",
    "sdk_methods",
    "sdk_versions_page",
    "verdicts",
]


@dataclass(frozen=True)
class Verdict:
    """How the fake answers one SDK method."""

    method: str
    status: str
    """``served``, ``client-side`` or ``not served``."""
    routes: str
    """The routes it calls (served, not served) or what it does instead (client-side)."""


def sdk_methods() -> dict[str, tuple[str, ...]]:
    """Every public method of every resource of the SDK's clients, by resource."""
    import pictograph

    found: dict[str, set[str]] = {}
    key, url = "pk_test_" + "0" * 32, "http://127.0.0.1:9"
    sync = pictograph.Client(api_key=key, base_url=url)
    asynchronous = pictograph.AsyncClient(api_key=key, base_url=url)
    for client in (sync, asynchronous):
        for resource, value in vars(client).items():
            if resource.startswith("_") or not type(value).__module__.startswith(
                "pictograph.resources"
            ):
                continue
            names = found.setdefault(resource, set())
            for name, member in inspect.getmembers(type(value)):
                if not name.startswith("_") and callable(member):
                    names.add(name)
    sync.close()
    asyncio.run(asynchronous.aclose())
    return {resource: tuple(sorted(names)) for resource, names in sorted(found.items())}


def _served() -> dict[str, list[str]]:
    served: dict[str, list[str]] = {}
    for endpoint in ENDPOINTS:
        route = f"`{endpoint.method} {openapi_path(endpoint).removeprefix(DEVELOPER_PATH)}`"
        for method in endpoint.sdk:
            routes = served.setdefault(method, [])
            if route not in routes:
                routes.append(route)
    return served


def verdicts() -> list[Verdict]:
    """One verdict per SDK method; ``ValueError`` names any method with none or two."""
    served = _served()
    problems: list[str] = []
    out: list[Verdict] = []
    methods = {f"{r}.{m}" for r, names in sdk_methods().items() for m in names}
    for method in sorted(methods | set(CLIENT_SIDE) | set(NOT_SERVED)):
        places = [
            name
            for name, table in (
                ("served", served),
                ("client-side", CLIENT_SIDE),
                ("not served", NOT_SERVED),
            )
            if method in table
        ]
        if method not in methods:
            problems.append(f"{method}: listed, but the SDK has no such method")
        elif len(places) != 1:
            problems.append(f"{method}: {' and '.join(places) or 'neither served nor listed'}")
            continue
        else:
            status = places[0]
            if status == "served":
                routes = ", ".join(served[method])
            elif status == "client-side":
                routes = CLIENT_SIDE[method]
            else:
                routes = NOT_SERVED[method]
            out.append(Verdict(method, status, routes))
    if problems:
        raise ValueError(
            "SDK methods the route table does not account for:\n" + "\n".join(problems)
        )
    return out


def fidelity_page() -> str:
    """The Markdown of ``docs/fidelity.md``."""
    import pictograph

    by_resource: dict[str, list[Verdict]] = {}
    for verdict in verdicts():
        by_resource.setdefault(verdict.method.split(".")[0], []).append(verdict)
    order = [r for r in RESOURCE_ORDER if r in by_resource]
    order += sorted(set(by_resource) - set(order))
    counts = dict.fromkeys(("served", "client-side", "not served"), 0)
    for verdict in (v for vs in by_resource.values() for v in vs):
        counts[verdict.status] += 1
    total = sum(counts.values())
    lines = [
        "# Fidelity",
        "",
        "<!-- Generated from the route table: python -m pictograph_testing.fidelity "
        "> docs/fidelity.md -->",
        "",
        f"What the fake serves, per SDK resource, for `pictograph` {pictograph.__version__}: "
        f"{counts['served']} of the {total} public methods of the sync and async clients are "
        f"**served**, {counts['client-side']} are **client-side** and "
        f"{counts['not served']} are **not served**.",
        "",
        "- **served**: the fake answers the method's routes with the API's shapes and rules, "
        "and this repository's tests drive the method through the real SDK.",
        "- **client-side**: the method sends no request of its own; it composes served "
        "methods or works on local files.",
        "- **not served**: the fake answers its routes with `404` and the code "
        "`not_implemented_by_fake`, whose message names the route and the SDK methods "
        "that send it (never the API's own 404 for an unknown id), and records each call "
        "in `FakePictograph.unserved_calls` (and marks it in `fake.calls`). A request to "
        "any other path under the API that no route serves gets the same answer and record"
        + (
            ": the one kind of unserved call left while no SDK method is unserved."
            if not counts["not served"]
            else "."
        )
        + " A path that reaches a served route once an id or name sent empty is filled in "
        "(`tasks//contributions`), a collection asked for without its `/`, and a route "
        "retired in the caller's release get the API's own 404 (\"No route ...\") instead: "
        "they are the caller's to fix, not gaps of the fake.",
        "",
        "Routes are relative to `/api/v1/developer`; those outside it are written in full. "
        "The [OpenAPI document]"
        "(server.md#the-openapi-document) has every served route with its parameters and "
        "shapes, and names the SDK methods that call it.",
    ]
    for resource in order:
        lines += ["", f"## {resource}", "", "| Method | Routes | |", "|---|---|---|"]
        for verdict in by_resource[resource]:
            text = verdict.routes.replace("|", "\\|")
            lines.append(f"| `{verdict.method}` | {text} | {verdict.status} |")
    return "\n".join(lines) + "\n"


def _dialect_rows() -> list[tuple[Version, str, str, str]]:
    rows: list[tuple[Version, str, str, str]] = []
    for endpoint in ENDPOINTS:
        route = f"`{endpoint.method} {openapi_path(endpoint).removeprefix(DEVELOPER_PATH)}`"
        if endpoint.span != ALL_RELEASES:
            span = endpoint.span
            rows.append((span.since, str(span), route, "only these releases call it"))
        for path, span in endpoint.aliases:
            alias = API_PREFIX + path.replace(":uuid}", "}").replace("...}", "}")
            rows.append(
                (
                    span.since,
                    str(span),
                    route,
                    f"also called as `{alias.removeprefix(DEVELOPER_PATH)}`",
                )
            )
        for path, spans in endpoint.unrouted:
            sent = API_PREFIX + path.replace(":uuid}", "}")
            for span in spans:
                what = (
                    f"calls `{sent.removeprefix(DEVELOPER_PATH)}` instead, which today's API "
                    "does not serve: its own 404 `No route`"
                )
                rows.append((span.since, str(span), route, what))
        for wire in endpoint.wires:
            what = wire.note or (f"`{wire.envelope}`" if wire.envelope else "rewritten")
            rows.append((wire.span.since, str(wire.span), route, what))
        for vocabulary in endpoint.values:
            for value, span in vocabulary.spans.items():
                what = f"takes `{vocabulary.name}` `{value}`"
                rows.append((span.since, str(span), route, what))
    return sorted(rows, key=lambda row: (row[0], row[2]))


def sdk_versions_page() -> str:
    """The Markdown of ``docs/sdk-versions.md``: releases served and what differs."""
    lines = [
        "# SDK versions",
        "",
        "<!-- Generated from the route table: python -m pictograph_testing.fidelity versions "
        "> docs/sdk-versions.md -->",
        "",
        f"The fake answers every `pictograph` release from {format_version(OLDEST)} to "
        f"{format_version(NEWEST)} in the wire that release expects (its *dialect*): the "
        "envelope it reads, the paths it sends, the body fields it adds, the units of its "
        "money. Newer releases get the newest dialect, with a warning.",
        "",
        "## How the dialect is chosen",
        "",
        "- From the request's `User-Agent`: every SDK sends `pictograph-python/<version>` "
        "(sync) or `pictograph-python-async/<version>` (async, from 1.16.0).",
        "- Or explicitly, for clients that replace the header and for curl: "
        '`FakePictograph(sdk_version="1.40.0")`, the marker '
        '`@pytest.mark.pictograph(sdk_version="1.40.0")`, the ini option '
        "`pictograph_sdk_version`, or `pictograph-fake serve --sdk-version 1.40.0`.",
        "- Otherwise the newest.",
        "",
        "Handlers answer in today's shape; each route declares in the route table the "
        "releases it serves and how older ones differ, and the reply is rewritten for the "
        "caller's release (see [the route table](routes.md)).",
        "",
        "## Billing profile and dialect",
        "",
        "They are independent. The real API pre-charged runs and refunded the rest (the "
        "`classic` profile, the training guide's) for the SDKs up to 1.60.0, and has charged "
        "on success (`current`) since 1.61.0. Both other combinations are possible here, "
        "for tests that want them.",
        "",
        "## What changed when",
        "",
        "| Releases | Route | How the route differs for them |",
        "|---|---|---|",
    ]
    for _, span, route, what in _dialect_rows():
        lines.append(f"| {span} | {route} | {what} |")
    lines += [
        "",
        "A value marked *takes* is refused to older releases (a 422 naming the values "
        "they could send, or the API's own refusal), so no release makes a value its "
        "models cannot parse. One the world holds from elsewhere (a member added as an "
        "`annotator` with `fake.add_member`, an invite its invitee declined) is answered "
        "as today's API answers it: an older release then fails to parse that listing.",
        "",
        "## Calls that failed against the API too",
        "",
        "Some releases send, for some calls, a wire the API of their day did not serve, "
        "or one today's API no longer serves. The fake answers them as the API does, so "
        "code that works here works there:",
        "",
        "| Releases | Calls | What the caller sees | Why |",
        "|---|---|---|---|",
    ]
    for defect in SDK_DEFECTS:
        calls = "<br>".join(f"`{call}`" for call in defect.calls)
        lines.append(f"| {defect.span} | {calls} | {defect.failure} | {defect.cause} |")
    return "\n".join(lines) + "\n"


def routes_snapshot() -> dict[str, Any]:
    """The route snapshot the SDK's ``tests/contract`` binds every request against.

    The format of the API's own generated ``rest-routes.json`` (what the SDK's
    ``PICTOGRAPH_REST_ROUTES_SNAPSHOT`` names): ``{"routes": [{"path", "methods",
    "params", "body"}]}``, with ``{name:path}`` for a parameter that spans segments. One
    entry per endpoint the newest release calls, in today's wire: its declared query
    parameters and body fields. A body that takes any key (``Obj(extra=True)``) lists
    none, which the contract reads as unchecked. Entries with more literal segments come
    first, because the contract binds a request to the first route that matches it.
    """
    routes: list[dict[str, Any]] = []
    for endpoint in ENDPOINTS:
        if not (endpoint.span.holds(NEWEST, "sync") or endpoint.span.holds(NEWEST, "async")):
            continue
        path = endpoint.path.replace(":uuid}", "}").replace("...}", ":path}")
        body = endpoint.body
        routes.append(
            {
                "path": path if path.startswith("/") else API_PREFIX + path,
                "methods": [endpoint.method],
                "params": [param.name for param in endpoint.query],
                "body": [] if body is None or body.extra else list(body.fields),
            }
        )

    def specificity(route: dict[str, Any]) -> tuple[int, int]:
        segments = route["path"].strip("/").split("/")
        literal = sum(not segment.startswith("{") for segment in segments)
        spanning = sum(segment.endswith(":path}") for segment in segments)
        return (spanning, -literal)

    return {"routes": sorted(routes, key=specificity)}


if __name__ == "__main__":  # pragma: no cover - a documentation tool
    if sys.argv[1:] == ["routes-snapshot"]:
        sys.stdout.write(json.dumps(routes_snapshot(), indent=1) + "\n")
    else:
        page = sdk_versions_page() if sys.argv[1:] == ["versions"] else fidelity_page()
        sys.stdout.write(page)
