"""Replay the SDK's unit-test recordings against the fake and compare reply shapes.

The SDK's ``tests/unit`` answer every request with a canned reply written to mirror the
API. :mod:`.recorder` writes each (request, canned reply) pair a run of those tests
actually exercised; this module sends each request to a fake whose world holds what the
request names (its dataset, image, export), and compares the fake's reply with the canned
one by route: the envelope, the top-level keys, the keys one level down, the JSON types,
and the status class. A pair the fake cannot answer like for like is classified (a route
it does not serve, a canned error, a precondition the replay does not build), never
silently dropped.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from pictograph_testing import FakePictograph
from pictograph_testing.api.resources import ROUTER
from pictograph_testing.api.route_paths import API_PREFIX, API_ROOT
from pictograph_testing.api.table import Bare, Data, Endpoint, Page
from pictograph_testing.openapi import openapi_document, sdk_models
from pictograph_testing.world.entities import Image

ROOT = Path(__file__).resolve().parents[2]
RECORDER = Path(__file__).with_name("recorder.py")
KEPT = Path(__file__).with_name("recordings")
"""The recording CI replays, kept in the repository: recording the SDK's unit suite
takes minutes of both cores, replaying it seconds."""
ALLOWED = Path(__file__).with_name("allowed.toml")

_PINNED = re.search(r'"pictograph==([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
VERSION = _PINNED.group(1) if _PINNED else ""
"""The SDK release the dev extra pins: the one whose sdist is replayed."""


def sdist_folder(version: str = VERSION) -> Path:
    """Where ``scripts/sdk_sdist.sh`` unpacks ``version`` (``SDK_SDIST_CACHE`` overrides)."""
    return Path(os.environ.get("SDK_SDIST_CACHE", ROOT / ".cache" / "sdk-sdist")) / version


Pair = dict[str, Any]


# ── recording ──


def _recorded_as(version: str) -> str:
    """A recording's name: the release, and the recorder that wrote it (its digest)."""
    digest = hashlib.sha256(RECORDER.read_bytes()).hexdigest()[:12]
    return f"{version}-{digest}.jsonl"


def recording_path(version: str) -> Path:
    """Where a recording of ``version`` made on this machine is cached."""
    return ROOT / ".cache" / "sdk-replay" / _recorded_as(version)


def kept_recording(version: str) -> Path:
    """Where the repository keeps the recording of ``version`` by today's recorder."""
    return KEPT / (_recorded_as(version) + ".xz")


def record(sdist: Path, version: str) -> Path:
    """The recording of the SDK's unit tests: the one kept in the repository for this
    release and recorder, else one made here (once per release and recorder)."""
    kept = kept_recording(version)
    if kept.exists():
        return kept
    target = recording_path(version)
    if not target.exists():
        _record(sdist, target)
    return target


def keep(sdist: Path, version: str) -> Path:
    """Record the SDK's unit tests afresh and keep the recording in the repository, in
    place of any other (run after changing the pinned release or the recorder)."""
    target = recording_path(version)
    target.unlink(missing_ok=True)
    _record(sdist, target)
    kept = kept_recording(version)
    KEPT.mkdir(exist_ok=True)
    for stale in KEPT.glob("*.jsonl.xz"):
        stale.unlink()
    kept.write_bytes(lzma.compress(target.read_bytes(), preset=9))
    return kept


def _record(sdist: Path, target: Path) -> None:
    """Run the SDK's unit tests under the recorder, writing their pairs to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    unit = sdist / "tests" / "unit"
    # Only the modules that answer requests with canned replies send anything.
    modules = sorted(
        str(p.relative_to(sdist)) for p in unit.rglob("test_*.py") if "httpx_mock" in p.read_text()
    )
    raw = target.with_suffix(".part")
    env = {**os.environ, "SDK_REPLAY_RECORD": str(raw), "PYTHONPATH": str(RECORDER.parent)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "recorder",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "-n",
            "2",
            *modules,
        ],
        cwd=sdist,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    lines: list[str] = []
    for part in sorted(raw.parent.glob(raw.name + "*")):
        lines.extend(part.read_text(encoding="utf-8").splitlines())
        part.unlink()
    pairs = sorted((json.loads(line) for line in lines), key=lambda p: (p["test"], p["seq"]))
    target.write_text("".join(json.dumps(p, sort_keys=True) + "\n" for p in pairs))


def load(path: Path) -> list[Pair]:
    """The pairs of a recording, kept (``.xz``) or cached."""
    raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


# ── routing ──


def route_of(pair: Pair) -> tuple[Endpoint, dict[str, str]] | None:
    """The fake's endpoint for the pair's request (today's release), or ``None``."""
    path = pair["path"]
    if path.startswith(API_PREFIX):
        raw = path[len(API_PREFIX) :]
    elif path.startswith(API_ROOT):
        raw = path
    else:
        return None
    found = ROUTER.candidates(pair["method"], raw)
    return found[0] if found else None


def route_name(pair: Pair) -> str:
    found = route_of(pair)
    if found is None:
        return f"{pair['method']} {pair['path'].removeprefix(API_PREFIX.rstrip('/'))} (unserved)"
    return f"{found[0].method} {found[0].path}"


# ── the world a pair needs ──


def _dataset_names(pair: Pair, args: dict[str, str]) -> list[str]:
    names = [args["dataset"]] if "dataset" in args else []
    body = pair["body"] if isinstance(pair["body"], dict) else {}
    for key in ("dataset_name", "dataset", "target_dataset", "source_dataset"):
        if isinstance(body.get(key), str):
            names.append(body[key])
    for key, value in pair["query"]:
        if key in ("dataset", "dataset_name") and value:
            names.append(value)
    return list(dict.fromkeys(names))


def _add_image(fake: FakePictograph, dataset_name: str, path: str, image_id: str | None) -> None:
    world = fake.world
    with world.lock:
        dataset = world.dataset(fake.organization_id, dataset_name)
        directory, _, filename = path.rpartition("/")
        if world.image_service.find(dataset, "/" + directory, filename) is not None:
            return
        image = Image(
            id=image_id or world.ids.uuid(),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            filename=filename,
            directory_path="/" + directory,
            content_type="image/jpeg",
            file_size=0,
            width=640,
            height=480,
            created_at=world.now(),
            status="complete",
            # The annotations of the dataset's first (synthetic) image: the world's own shape.
            annotations=[dict(a) for a in world.dataset_images(dataset)[0].annotations],
        )
        world.image_service.add(dataset, image)


def build_world(pair: Pair, args: dict[str, str]) -> FakePictograph:
    """A fake holding the datasets, image and export the pair's request names."""
    fake = FakePictograph(profile="current", balance_usd=1000.0)
    datasets = _dataset_names(pair, args)
    for name in datasets:
        fake.add_dataset(name, images=3, completed_images=3)
    if datasets and "path" in args:
        _add_image(fake, datasets[0], args["path"], None)
    body = pair["body"] if isinstance(pair["body"], dict) else {}
    if datasets and isinstance(body.get("image_ids"), list):
        for n, image_id in enumerate(body["image_ids"]):
            if isinstance(image_id, str):
                _add_image(fake, datasets[0], f"replayed-{n}.jpg", image_id)
    if "image" in args:
        # An image addressed by its id alone: put it in a dataset of its own.
        if not datasets:
            fake.add_dataset("replayed", images=1, completed_images=1)
        _add_image(fake, datasets[0] if datasets else "replayed", "addressed.jpg", args["image"])
    if datasets and "export" in args:
        fake.add_export(datasets[0], args["export"])
    return fake


def send(fake: FakePictograph, pair: Pair) -> httpx.Response:
    url = pair["path"] + (
        "?" + urlencode([tuple(q) for q in pair["query"]]) if pair["query"] else ""
    )
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as client:
        headers = {"X-API-Key": fake.api_key}
        if pair["body"] is not None:
            return client.request(pair["method"], url, json=pair["body"], headers=headers)
        return client.request(pair["method"], url, headers=headers)


# ── shapes ──


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _compatible(canned: str, fake: str) -> bool:
    # A canned null says nothing about the type; an integer is a number.
    return canned == fake or "null" in (canned, fake) or (canned, fake) == ("number", "integer")


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects one level down: the value itself, or a list's items."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


@dataclass(frozen=True, order=True)
class Difference:
    route: str
    key: str
    """``a`` for a top-level key, ``a.b`` for one level down, ``<envelope>`` for the body."""
    kind: str
    """``missing`` (canned has it, the fake not), ``extra`` (the other way), ``type``."""
    detail: str = ""


Declared = dict[str, frozenset[str]]
"""Keys the SDK's own model declares: ``""`` for the reply object, ``key`` one level down."""

_SCHEMAS: dict[str, Any] = openapi_document()["components"]["schemas"]
_SDK_MODELS = frozenset(sdk_models())


def _properties(schema: Any) -> tuple[frozenset[str], Any]:
    """The property names of a schema (through ``$ref``, ``anyOf`` and ``items``)."""
    if not isinstance(schema, dict):
        return frozenset(), None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in _SDK_MODELS:
            return frozenset(), None
        target = _SCHEMAS.get(name, {})
        return frozenset(target.get("properties", {})), target
    for branch in schema.get("anyOf", []):
        names, target = _properties(branch)
        if names:
            return names, target
    if "items" in schema:
        return _properties(schema["items"])
    return frozenset(), None


def declared(endpoint: Endpoint) -> Declared:
    """What the SDK's model of the route's reply declares (nothing for a plain-dict reply).

    A key the fake sends that the canned reply lacks is no difference when the SDK's own
    model has it: the API sends it and the hand-written reply left it out.
    """
    shape = endpoint.reply
    if not isinstance(shape, Data | Page | Bare):
        return {}
    top, target = _properties({"$ref": f"#/components/schemas/{shape.schema}"})
    keys: Declared = {"": top}
    for name, prop in (target or {}).get("properties", {}).items():
        keys[name] = _properties(prop)[0]
    return keys


_DEPTH = 3
"""How far down the keys are compared (``data.modes.limits.max_bytes``: a tool card's
limits are three levels below its envelope); deeper, a reply's values are the world's."""


def compare(
    route: str, canned: Any, answered: Any, known: Declared | None = None
) -> set[Difference]:
    """The shape differences between a canned reply and the fake's, by route."""
    found: set[Difference] = set()
    if json_type(canned) != json_type(answered):
        found.add(Difference(route, "<envelope>", "type", f"{canned!r:.40} vs {answered!r:.40}"))
        return found
    if not isinstance(canned, dict):
        return found
    if "data" in answered and "data" not in canned and isinstance(answered["data"], dict):
        # A reply without the envelope: the SDK reads `response.get("data", response)`
        # on such routes; the keys are compared inside it.
        found.add(Difference(route, "<envelope>", "unwrapped"))
        answered = answered["data"]
    _compare_objects(route, "", canned, answered, found, depth=0, known=known or {})
    return found


def _compare_objects(
    route: str,
    prefix: str,
    canned: dict[str, Any],
    answered: dict[str, Any],
    found: set[Difference],
    depth: int,
    known: Declared,
) -> None:
    for key in canned.keys() - answered.keys():
        found.add(Difference(route, prefix + key, "missing"))
    parent = prefix.rstrip(".").removeprefix("data.").removeprefix("data")
    for key in answered.keys() - canned.keys():
        if key not in known.get(parent, frozenset()):
            found.add(Difference(route, prefix + key, "extra"))
    for key in canned.keys() & answered.keys():
        c, a = canned[key], answered[key]
        if not _compatible(json_type(c), json_type(a)):
            found.add(Difference(route, prefix + key, "type", f"{json_type(c)} vs {json_type(a)}"))
            continue
        # The envelope's `data` is the reply itself: compare inside it as the top level.
        inner = depth + (0 if (depth == 0 and key == "data") else 1)
        if inner > _DEPTH:
            continue
        canned_items, answered_items = _objects(c), _objects(a)
        if canned_items and answered_items:
            _compare_objects(
                route,
                f"{prefix}{key}.",
                _common(canned_items),
                _union(answered_items),
                found,
                inner,
                known,
            )


def _common(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys every canned item has: a key some items omit is optional, never missing."""
    shared = set.intersection(*(set(obj) for obj in objects))
    return {key: value for key, value in _union(objects).items() if key in shared}


def _union(objects: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for obj in objects:
        for key, value in obj.items():
            if key not in merged or merged[key] is None:
                merged[key] = value
    return merged


# ── the replay ──


@dataclass
class Outcome:
    pairs: int = 0
    classified: Counter[str] = field(default_factory=Counter)
    compared: Counter[str] = field(default_factory=Counter)
    """Pairs compared, by route."""
    differences: dict[Difference, list[str]] = field(default_factory=lambda: defaultdict(list))
    """Each difference with the tests whose pairs showed it."""
    extras: dict[Difference, int] = field(default_factory=Counter)
    """Keys the fake sends beyond the canned reply and the SDK's model: reported, not
    failures (a hand-written reply omits what its test does not read; an SDK ignores keys
    it does not know)."""
    unbuilt: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Pairs the fake refused for want of a precondition, by route and the fake's status."""


def replay(pairs: list[Pair]) -> Outcome:
    outcome = Outcome()
    for pair in pairs:
        outcome.pairs += 1
        found = route_of(pair)
        if found is None:
            outcome.classified["route not served by the fake"] += 1
            continue
        if not 200 <= pair["status"] < 300:
            outcome.classified["canned error reply (the SDK's error handling)"] += 1
            continue
        if pair["reply"] is None or pair["multipart"]:
            outcome.classified["not JSON (bytes, downloads, multipart)"] += 1
            continue
        endpoint, args = found
        route = f"{endpoint.method} {endpoint.path}"
        with build_world(pair, args) as fake:
            response = send(fake, pair)
        if not 200 <= response.status_code < 300:
            outcome.unbuilt[route][str(response.status_code)] += 1
            outcome.classified["precondition the replay does not build"] += 1
            continue
        try:
            answered = response.json()
        except ValueError:
            outcome.classified["the fake answers bytes"] += 1
            continue
        outcome.compared[route] += 1
        for difference in compare(route, pair["reply"], answered, declared(endpoint)):
            if difference.kind == "extra":
                outcome.extras[difference] += 1
            else:
                outcome.differences[difference].append(pair["test"])
    return outcome


@dataclass(frozen=True)
class Allowance:
    route: str
    key: str
    kind: str
    reason: str


def allowances(path: Path = ALLOWED) -> list[Allowance]:
    """The reviewed allow-list (TOML: read with the standard library's 3.11 parser)."""
    if sys.version_info < (3, 11):
        raise RuntimeError("the replay reads its allow-list with tomllib (Python 3.11+)")
    # mypy checks as Python 3.10, where tomllib is missing: the check above ends there.
    import tomllib  # type: ignore[import-not-found, unreachable]

    with path.open("rb") as handle:
        document = tomllib.load(handle)
    return [
        Allowance(entry["route"], entry["key"], entry["kind"], entry["reason"])
        for entry in document.get("allow", [])
    ]


def allowed(difference: Difference, entries: list[Allowance]) -> Allowance | None:
    for entry in entries:
        # `a.*`: every key under `a` (a map keyed by data, not a schema).
        key_matches = entry.key == difference.key or (
            entry.key.endswith(".*") and difference.key.startswith(entry.key[:-1])
        )
        if key_matches and (entry.route, entry.kind) == (difference.route, difference.kind):
            return entry
    return None


def unexplained(outcome: Outcome, entries: list[Allowance]) -> list[Difference]:
    """The differences no allow-list entry explains."""
    return sorted(d for d in outcome.differences if allowed(d, entries) is None)


def unused(outcome: Outcome, entries: list[Allowance]) -> list[Allowance]:
    """Allow-list entries no difference needs any more (stale: remove them)."""
    return [e for e in entries if not any(allowed(d, [e]) for d in outcome.differences)]


def report(outcome: Outcome, entries: list[Allowance]) -> str:
    """A per-route summary: what was compared, classified, allowed and left over."""
    lines = [
        f"pairs replayed: {outcome.pairs}",
        f"pairs compared: {sum(outcome.compared.values())} on {len(outcome.compared)} routes",
    ]
    lines += [f"  {why}: {n}" for why, n in sorted(outcome.classified.items())]
    for route, statuses in sorted(outcome.unbuilt.items()):
        lines.append(f"  unbuilt {route}: {dict(statuses)}")
    lines.append(f"keys the fake adds (not failures): {len(outcome.extras)}")
    lines += [f"  extra {d.route} {d.key}" for d in sorted(outcome.extras)]
    for difference, tests in sorted(outcome.differences.items()):
        entry = allowed(difference, entries)
        mark = "allowed" if entry else "DIFFERENT"
        lines.append(
            f"{mark} {difference.route} {difference.key} {difference.kind} "
            f"{difference.detail} ({len(tests)} pairs, e.g. {tests[0]})"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the per-route report of the pinned release's replay; with ``--keep``,
    record the SDK's unit suite afresh and keep that recording in the repository."""
    if sys.argv[1:] == ["--keep"]:
        print(f"kept {keep(sdist_folder(), VERSION).relative_to(ROOT)}")
        return
    outcome = replay(load(record(sdist_folder(), VERSION)))
    print(report(outcome, allowances()))


if __name__ == "__main__":
    main()
