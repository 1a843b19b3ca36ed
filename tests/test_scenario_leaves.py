"""Scenario documents: every leaf of a real snapshot, mutated, loads whole and sound or not at all.

A snapshot is the richest document there is (every id, timestamp and the id generator's
state). Each leaf is swapped for values of the wrong type, out of range or malformed,
and the document loaded: either the load is refused with ``ValueError`` (a 422 over the
server) and nothing is loaded, or the world it makes answers every read route without a
5xx, takes a write, snapshots again and runs its clock on.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from pictograph_testing import FakePictograph
from tests.image_files import write_image

# Hundreds of mutated snapshots, each loaded and used: run by scripts/test_slow.sh, not
# scripts/test.sh.
pytestmark = pytest.mark.slow

DATASET = "road-signs"
EXPORT = "road-signs-v1"


def _rich_snapshot() -> dict[str, Any]:
    """A snapshot holding one of everything schema v1 captures, kept small."""
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=2, completed_images=1, classes=["stop", "yield"])
        client = fake.client(max_retries=0)
        fake.add_export(DATASET, EXPORT, status_filter="complete")
        fake.add_export(DATASET, "pending-one", status="pending")
        fake.add_api_key("viewer")
        image = client.images.list(DATASET)[0]
        client.images.set_split(DATASET, image.id, "train")
        client.images.bulk_tag(DATASET, [image.id], ["sunny"])
        client.batch.update(DATASET, [image.id], display_name="shown.jpg")
        # A copy shares its source's file (`blob`); an upload counts at its path
        # (`registrations`).
        client.batch.copy(DATASET, [image.id], target_directory_path="/copies")
        with tempfile.TemporaryDirectory() as scratch:
            client.images.upload(DATASET, write_image(Path(scratch) / "up.png"))
        fake.world.feeds.notify(
            fake.world.default_org.id, "export_ready", "Export ready", at=1.0, metadata={"a": 1}
        )
        fake.world.export_service.fail_next("disk full")
        fake.clock.advance(seconds=30)
        return fake.snapshot()


SNAPSHOT = _rich_snapshot()


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _leaves(child, (*path, key))]
    if isinstance(node, list) and node:
        return [p for i, child in enumerate(node) for p in _leaves(child, (*path, i))]
    return [path]


def _kinds(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One leaf of each kind: ``images[1].status`` is ``images[0].status`` again (and the
    id generator's 625 state words are one), which keeps the test quick."""
    seen: set[tuple[Any, ...]] = set()
    chosen = []
    for path in _leaves(document):
        kind = tuple("[]" if isinstance(p, int) else p for p in path)
        if kind not in seen:
            seen.add(kind)
            chosen.append(path)
    return chosen


def _mutants(value: Any) -> list[Any]:
    """Values a leaf may be swapped for: wrong types, edges, and malformed text."""
    out: list[Any] = [None, "x", -1, True, [], {"k": 1}]
    if isinstance(value, bool):
        out += [0, "true"]
    elif isinstance(value, (int, float)):
        out += [10**20, -1e300, 0.5, 0]
    elif isinstance(value, str):
        out += ["", "9999-12-31T23:59:59Z", "../x", value * 40]
    return out


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(document)
    node: Any = mutated
    for key in path[:-1]:
        node = node[key]
    if path:
        node[path[-1]] = value
    return mutated


READS = (
    "datasets/",
    "datasets/?archived=true",
    f"datasets/{DATASET}?include_images=true",
    f"datasets/{DATASET}/insights",
    f"datasets/{DATASET}/download",
    f"images/?dataset={DATASET}",
    f"exports/?dataset_name={DATASET}",
    "credits/balance",
    "credits/history",
    "credits/usage-by-operation",
    "jobs",
    "notifications",
    "notifications/unread-count",
    "training/",
    "models/",
)


def _probe(fake: FakePictograph) -> list[str]:
    """Every answer of the loaded world that is a 5xx, as ``route: status``."""
    transport = fake.transport()
    broken: list[str] = []

    def send(method: str, target: str, body: Any = None) -> httpx.Response:
        request = httpx.Request(
            method,
            f"{fake.base_url}/api/v1/developer/{target}",
            headers={"x-api-key": fake.api_key},
            json=body,
        )
        response = transport.handle_request(request)
        response.read()
        if response.status_code >= 500:
            broken.append(f"{method} {target}: {response.status_code} {response.content[:200]!r}")
        return response

    for target in READS:
        send("GET", target)
    images = send("GET", f"images/?dataset={DATASET}&limit=100")
    for image in images.json().get("data", []) if images.status_code == 200 else []:
        send("GET", f"images/{image['id']}")
        send("GET", f"images/{image['id']}/metadata")
        send("GET", f"annotations/{image['id']}")
    exports = send("GET", "exports/")
    for export in exports.json().get("data", []) if exports.status_code == 200 else []:
        send("GET", f"exports/{export['name']}?dataset={DATASET}")
        send("GET", f"exports/{export['name']}/download?dataset={DATASET}")
    jobs = send("GET", "jobs")
    for job in jobs.json().get("data", []) if jobs.status_code == 200 else []:
        send("GET", f"jobs/{job['id']}")
    send(
        "POST",
        "training/quote",
        {"dataset_name": DATASET, "export_name": EXPORT, "pipeline_type": "yolox"},
    )
    send("POST", "datasets/", {"name": "probe"})
    fake.clock.advance(hours=30)
    for target in READS:
        send("GET", target)
    fake.snapshot()
    broken.extend(f"server error: {e!r}" for e in fake.server_errors)
    return broken


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def test_every_mutated_leaf_loads_sound_or_is_refused() -> None:
    failures: list[str] = []
    loaded = refused = 0
    for path in _kinds(SNAPSHOT):
        for mutant in _mutants(_get(SNAPSHOT, path)):
            document = _set(SNAPSHOT, path, mutant)
            where = f"{'.'.join(map(str, path))} = {mutant!r:.40}"
            try:
                fake = FakePictograph(scenario=document)
            except ValueError:
                refused += 1
                continue
            except Exception as exc:
                failures.append(f"{where}: load raised {exc!r:.200}")
                continue
            loaded += 1
            try:
                broken = _probe(fake)
            except Exception as exc:
                broken = [f"probe raised {exc!r:.200}"]
            failures.extend(f"{where}: {b}" for b in broken[:2])
    print(loaded, refused, len(failures))
    assert not failures, "\n".join(failures[:80]) + f"\n... {len(failures)} in all"
