"""Properties of the fake itself: arbitrary requests never break it, and a stateful machine
of creates, cancels, quotes, clock moves, faults and retries keeps every invariant.

The example budget comes from the hypothesis profile (``tests/conftest.py``): ``ci`` by
default, ``HYPOTHESIS_PROFILE=long`` for the long run documented in
``docs/reliability.md``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from pictograph.exceptions import ApiError, NetworkError

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing.journal import JournalEntry
from pictograph_testing.world.state import World
from pictograph_testing.world.training import RunRequest, live_status
from tests.invariants import check_balances, check_charges, check_models, fingerprint

# Hypothesis budgets over whole worlds: run by scripts/test_slow.sh, not scripts/test.sh.
pytestmark = pytest.mark.slow

# ── the fuzz: anything through the transport ──

DATASET, EXPORT, THEIRS = "signs", "v1", "theirs"
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # method, path under /api/v1/developer/ ({…} filled from the world), body fields
    ("GET", "training/", ()),
    (
        "POST",
        "training/",
        (
            "dataset_name",
            "export_name",
            "pipeline_type",
            "gpu_type",
            "config",
            "name",
            "version_of_model_id",
        ),
    ),
    (
        "POST",
        "training/quote",
        (
            "dataset_name",
            "export_name",
            "pipeline_type",
            "gpu_type",
            "config",
            "version_of_model_id",
        ),
    ),
    ("POST", "training/bulk-cancel", ("run_ids",)),
    ("GET", "training/{run}", ()),
    ("POST", "training/{run}/cancel", ()),
    ("GET", "credits/balance", ()),
    ("GET", "credits/history", ()),
    ("GET", "credits/usage-by-operation", ()),
    ("GET", "credits/estimate", ()),
    ("GET", "models/", ()),
    ("POST", "models/bulk-delete", ("model_ids",)),
    ("GET", "models/{model}", ()),
    ("PATCH", "models/{model}", ("name", "description", "readme", "visibility", "license_id")),
    ("DELETE", "models/{model}", ()),
    ("GET", "models/{model}/versions", ()),
    ("PATCH", "models/{model}/current-version", ("version_id",)),
    ("GET", "models/{model}/files", ()),
    ("GET", "models/{model}/download", ()),
    ("GET", "models/{model}/files/download", ()),
    ("GET", "datasets/", ()),
    ("POST", "datasets/", ("name", "description", "readme", "annotation_types", "classes")),
    ("GET", "datasets/{dataset}", ()),
    (
        "PATCH",
        "datasets/{dataset}",
        ("new_name", "description", "readme", "classes", "annotation_types"),
    ),
    ("DELETE", "datasets/{dataset}", ()),
    ("GET", "datasets/{dataset}/insights", ()),
    ("GET", "datasets/{dataset}/download", ()),
    ("POST", "datasets/{dataset}/archive", ()),
    ("POST", "datasets/{dataset}/unarchive", ()),
    ("GET", "images/", ()),
    ("POST", "images/upload-url", ("dataset", "filename", "content_type", "directory_path")),
    (
        "POST",
        "images/register",
        ("dataset", "filename", "content_type", "directory_path", "file_size", "width", "height"),
    ),
    ("POST", "images/bulk-upload-url", ("dataset", "images")),
    ("POST", "images/bulk-register", ("dataset", "images")),
    ("POST", "images/assign-splits", ("dataset", "train", "val", "test", "seed", "split_mode")),
    ("POST", "images/bulk-tag", ("dataset", "image_ids", "tags", "add")),
    ("GET", "images/{image}", ()),
    ("GET", "images/{image}/metadata", ()),
    ("GET", "images/{dataset}/{path}", ()),
    ("DELETE", "images/{dataset}/{path}", ()),
    ("GET", "images/{dataset}/{path}/metadata", ()),
    ("GET", "images/{dataset}/{path}/data-bundle", ()),
    ("POST", "images/{dataset}/{path}/review", ("action", "note")),
    ("POST", "images/{dataset}/{path}/split", ("split",)),
    ("POST", "annotations/bulk", ("saves",)),
    ("POST", "annotations/rename-class", ("dataset", "old_name", "new_name")),
    ("POST", "annotations/merge-class", ("dataset", "source_name", "target_name")),
    ("POST", "annotations/delete-class", ("dataset", "name", "class_type", "delete_annotations")),
    ("GET", "annotations/{image}/file", ()),
    ("GET", "annotations/{dataset}/{path}", ()),
    ("POST", "annotations/{dataset}/{path}", ("annotations",)),
    ("DELETE", "annotations/{dataset}/{path}", ()),
    ("PATCH", "batch/images/update", ("dataset_name", "image_ids", "updates")),
    ("POST", "batch/images/move", ("dataset_name", "image_ids", "target_directory_path")),
    (
        "POST",
        "batch/images/copy",
        (
            "dataset_name",
            "image_ids",
            "target_directory_path",
            "duplicate_handling",
            "copy_annotations",
        ),
    ),
    (
        "POST",
        "batch/images/copy-to-dataset",
        ("dataset_name", "image_ids", "target_dataset_name", "target_directory_path"),
    ),
    ("POST", "batch/images/delete", ("dataset_name", "image_ids", "permanent")),
    ("GET", "exports/", ()),
    (
        "POST",
        "exports/",
        (
            "dataset_name",
            "name",
            "format",
            "include_images",
            "class_filter",
            "status_filter",
            "organize_by_split",
        ),
    ),
    ("POST", "exports/bulk-delete", ("export_ids",)),
    ("GET", "exports/{export}", ()),
    ("GET", "exports/{export}/download", ()),
    ("DELETE", "exports/{export}", ()),
    ("GET", "notifications", ()),
    ("GET", "notifications/unread-count", ()),
    ("POST", "notifications/read-all", ()),
    ("POST", "notifications/{notification}/read", ()),
    ("DELETE", "notifications/{notification}", ()),
    ("GET", "jobs", ()),
    ("GET", "jobs/{run}", ()),
)
PARAMETERS = (
    "limit",
    "offset",
    "status",
    "dataset",
    "dataset_name",
    "name",
    "include_images",
    "images_limit",
    "images_offset",
    "format",
    "precision",
    "version_id",
    "operation",
    "quantity",
    "range",
    "unread_only",
    "type",
    "mode",
    "permanent",
    "archived",
    "split",
    "status_filter",
    "directory_path",
    "filename",
    "include_archived",
    "min_confidence_lt",
    "model_type",
)
ODD_SEGMENTS = ("", "%", "%zz", "%ff%fe", "%2F", "..", "%00", "a%2Fb", "%E2%9C%93")
KEYS = ("owner", "member", "viewer", "other", "none", "junk")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "BREW")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=10,
)


def _mostly(valid: st.SearchStrategy[Any], edge: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` nine times in ten, else ``edge``: most requests get past validation."""
    return st.integers(0, 9).flatmap(lambda n: edge if n == 9 else valid)


def _plausible(refs: dict[str, str]) -> dict[str, st.SearchStrategy[Any]]:
    """A value for each body field that the API would take, or nearly."""
    names = _mostly(
        st.sampled_from(["a", "b", "new", "c d/e%"]),
        st.sampled_from(["", " ", "x" * 100, "x" * 101, "\x00", "é" * 101]),
    )
    any_ids = st.sampled_from([refs[k] for k in ("run", "done", "model", "export", "image")])
    ids = st.lists(_mostly(st.sampled_from([refs["run"], refs["image"]]), any_ids), max_size=3)
    box = st.fixed_dictionaries({k: st.integers(-5, 900) for k in ("x", "y", "w", "h")})
    annotation = _mostly(
        st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "b"]), "type": st.just("bbox"), "bounding_box": box}
        ),
        st.fixed_dictionaries(
            {"name": st.sampled_from(["a", "z"]), "type": st.sampled_from(["bbox", "polygon"])},
            optional={"polygon": st.lists(st.lists(st.integers(-5, 900), max_size=3))},
        ),
    )
    image_entry = st.fixed_dictionaries(
        {
            "filename": _mostly(
                st.sampled_from(["n.png", "m.jpg"]), st.sampled_from(["img-00001.jpg", "", "a/b"])
            ),
            "content_type": _mostly(st.just("image/png"), st.sampled_from(["text/plain", ""])),
        },
        optional={
            "directory_path": st.sampled_from(["/", "/d", "d/e/", "//", "/../x"]),
            "file_size": st.integers(-1, 10**6),
            "width": st.integers(-1, 5000),
            "height": st.integers(-1, 5000),
        },
    )
    dataset = _mostly(st.just(DATASET), st.sampled_from([THEIRS, "missing", refs["image"]]))
    small = st.integers(1, 3)
    return {
        "dataset_name": dataset,
        "dataset": dataset,
        "target_dataset_name": _mostly(st.just(DATASET), st.sampled_from([THEIRS, "missing"])),
        "export_name": _mostly(st.just(EXPORT), st.just("missing")),
        "pipeline_type": _mostly(
            st.sampled_from(["yolox", "rfdetr_detection"]),
            st.sampled_from(["classification", "sm_pytorch", "detectron2", "rfdetr_keypoint"]),
        ),
        "gpu_type": _mostly(st.sampled_from(["a10g", "h100"]), st.sampled_from(["auto", "t4"])),
        "config": st.fixed_dictionaries(
            {},
            optional={
                "epochs": _mostly(small, st.integers(-1, 1001)),
                "batch_size": _mostly(small, st.integers(0, 513)),
                "learning_rate": _mostly(st.just(0.01), st.floats(-1, 2)),
                "model_size": st.sampled_from(["nano", "m", "x", "medium", "huge"]),
                "image_size": _mostly(st.just(320), st.integers(16, 5000)),
                "class_overrides": st.dictionaries(
                    st.sampled_from(["a", "b", "q"]), st.sampled_from(["a", "b", "z", 1])
                ),
                "_pictograph": _mostly(
                    st.fixed_dictionaries({"pipeline": st.sampled_from(["yolox", "sm_pytorch"])}),
                    json_values,
                ),
                "config": json_values,
                "unknown_key": json_values,
            },
        ),
        "name": names,
        "new_name": names,
        "old_name": names,
        "source_name": names,
        "target_name": names,
        "description": st.text(max_size=20),
        "readme": st.text(max_size=20),
        "visibility": st.sampled_from(["public", "private", "secret"]),
        "license_id": st.sampled_from(["mit", "apache-2.0"]),
        "version_id": st.sampled_from([refs["version"], refs["run"], "not-a-uuid"]),
        "version_of_model_id": st.sampled_from([refs["model"], refs["run"]]),
        "run_ids": ids,
        "model_ids": ids,
        "export_ids": ids,
        "image_ids": ids,
        "annotation_types": st.lists(st.sampled_from(["bbox", "polygon", "keypoint", "blob"])),
        "classes": st.lists(
            st.fixed_dictionaries({"name": names, "type": st.sampled_from(["bbox", "tag"])}),
            max_size=3,
        ),
        "filename": st.sampled_from(["n.png", "img-00001.jpg", "", "a/b.png"]),
        "content_type": st.sampled_from(["image/png", "image/jpeg", "text/plain"]),
        "directory_path": st.sampled_from(["/", "/d", "d/e/", "//"]),
        "target_directory_path": st.sampled_from(["/", "/d", "d/e/", "//", "/.."]),
        "file_size": st.integers(-1, 10**6),
        "width": st.integers(-1, 5000),
        "height": st.integers(-1, 5000),
        "images": st.lists(image_entry, max_size=3),
        "annotations": st.lists(annotation, max_size=3),
        "saves": st.lists(
            st.fixed_dictionaries(
                {
                    "image_id": st.sampled_from([refs["image"], refs["run"], " "]),
                    "annotations": st.lists(annotation, max_size=2),
                }
            ),
            max_size=2,
        ),
        "train": st.integers(-1, 100),
        "val": st.integers(-1, 100),
        "test": st.integers(-1, 100),
        "seed": st.integers(-(2**70), 2**70),
        "split_mode": st.sampled_from(["random", "stratified", "odd"]),
        "tags": st.lists(st.sampled_from(["t", "", "u"]), max_size=3),
        "add": st.booleans(),
        "action": st.sampled_from(["approve", "request_changes", "maybe"]),
        "note": st.text(max_size=10),
        "split": st.sampled_from(["train", "val", "test", None, "holdout"]),
        "updates": st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["new", "complete", "odd"]),
                "display_name": st.text(max_size=8),
                "is_archived": st.booleans(),
            },
        ),
        "duplicate_handling": st.sampled_from(["rename", "skip", "overwrite", "merge"]),
        "copy_annotations": st.booleans(),
        "permanent": st.booleans(),
        "class_type": st.sampled_from(["bbox", "tag"]),
        "delete_annotations": st.booleans(),
        "format": st.sampled_from(["pictograph", "coco", "yolo", "odd"]),
        "include_images": st.booleans(),
        "class_filter": st.lists(st.sampled_from(["a", "b", "z"]), max_size=2),
        "status_filter": st.sampled_from(["complete", "new", "all", "odd"]),
        "organize_by_split": st.booleans(),
    }


@st.composite
def mutated(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Any:
    """A value of ``values`` with one node, at any depth, swapped for arbitrary JSON."""
    value = draw(values)
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, (dict, list)):
            for key, child in node.items() if isinstance(node, dict) else enumerate(node):
                walk(child, (*path, key))

    walk(value, ())
    path = draw(st.sampled_from(paths))
    odd = draw(json_values)
    if not path:
        return odd
    node = value
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = odd
    return value


@st.composite
def body_for(draw: st.DrawFn, fields: tuple[str, ...], refs: dict[str, str]) -> bytes:
    """A JSON body for a route: its fields, plausible or odd, sometimes one too many."""
    plausible = _plausible(refs)
    body: dict[str, Any] = {}
    for name in fields:
        if draw(st.booleans()) or draw(st.booleans()) or draw(st.booleans()):
            body[name] = draw(_mostly(plausible[name], mutated(plausible[name])))
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return json.dumps(body).encode()


odd_bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=40),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.just(b'{"name": NaN, "config": {"epochs": Infinity}}'),
    st.just(b'{"name": "\\ud800"}'),
)


@st.composite
def requests(draw: st.DrawFn, refs: dict[str, str]) -> tuple[str, str, dict[str, str], bytes]:
    """A method, a raw target (path and query), headers and a body, any of them odd."""
    method, template, fields = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(METHODS))
    segments = []
    for part in template.split("/"):
        if part.startswith("{") and draw(st.integers(0, 5)) > 0:
            segments.append(quote(refs[part[1:-1]], safe="/" if part == "{path}" else ""))
        elif part.startswith("{") or draw(st.integers(0, 30)) == 0:
            odd = st.one_of(
                st.sampled_from(ODD_SEGMENTS),
                st.text(max_size=10).map(lambda s: quote(s, safe="")),
                st.uuids().map(str),
                st.sampled_from(list(refs.values())),
            )
            segments.append(draw(odd))
        else:
            segments.append(part)
    where = draw(st.integers(0, 19))
    path = "/api/v1/developer/" + "/".join(segments)
    if where == 0:
        path = "/_storage/" + "/".join(segments)
    elif where == 1:
        path = "/" + "/".join(segments)
    params = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=5)),
                st.one_of(
                    st.integers(-(10**30), 10**30).map(str),
                    st.sampled_from(["true", "false", "", "all", "1_000", " 7", "١٢", "0.5"]),
                    st.sampled_from(list(refs.values())),
                    st.sampled_from([DATASET, EXPORT, "complete", "onnx", "fp16", "training"]),
                    st.text(max_size=8),
                ),
            ),
            max_size=4,
        )
    )
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    headers = {}
    key = draw(_mostly(st.sampled_from(["owner", "member"]), st.sampled_from(KEYS)))
    if key != "none":
        headers["x-api-key"] = key
    if draw(st.booleans()):
        headers["idempotency-key"] = draw(st.sampled_from(["k1", "k2"]))
    body = draw(_mostly(body_for(fields, refs), odd_bodies) if fields else odd_bodies)
    return method, path + ("?" + query if query else ""), headers, body


def _fuzzed_world() -> tuple[FakePictograph, dict[str, str]]:
    """A small world with one of everything: datasets in two organizations, an export, a
    completed run and its model, a live run, images, notifications; and its keys.

    Built straight through the world (about 2 ms); the seed fixes every id, so the refs
    are the same in every example.
    """
    fake = FakePictograph(seed=11, balance_usd=1000.0)
    fake.add_dataset(DATASET, images=6, completed_images=6, classes=["a", "b"])
    fake.add_export(DATASET, EXPORT)
    world = fake.world
    with world.lock:
        done = world.training.create(
            world.default_key, RunRequest(DATASET, EXPORT, "yolox", "a10g", {"epochs": 2}, "done")
        )
        fake.clock.advance(hours=1)
        world.catch_up()
        live = world.training.create(
            world.default_key, RunRequest(DATASET, EXPORT, "yolox", "a10g", {}, "live")
        )
    other = fake.add_organization(balance_usd=10)
    other.add_dataset(THEIRS, images=3, completed_images=3)
    assert done.model_id is not None
    model = world.models[done.model_id]
    image = world.images[world.dataset(world.default_org.id, DATASET).image_ids[0]]
    refs = {
        "owner": fake.api_key,
        "member": fake.add_api_key("member"),
        "viewer": fake.add_api_key("viewer"),
        "other": other.api_key,
        "junk": "pk_live_nope",
        "run": live.id,
        "done": done.id,
        "model": model.id,
        "version": model.versions[0].id,
        "dataset": DATASET,
        "export": next(iter(world.exports)),
        "image": image.id,
        "path": image.path,
        "notification": next(iter(world.feeds.notifications)),
    }
    return fake, refs


_, REFS = _fuzzed_world()


# Each names a fault armed just before an SDK call, on the call's own route. Alone, one
# is absorbed by the SDK's retries (one fault, three retries), so the call's outcome is
# what it would have been without it; with a stray fault and a rate limit on top, the
# retries can run out (see `transient`).
FAULTS: dict[str, dict[str, Any]] = {
    "503 before": {"status": 503},
    "503 after": {"status": 503, "after": True},
    "502 after": {"status": 502, "after": True},
    "429": {"status": 429, "retry_after": 3},
    "408": {"status": 408},
    "connect error": {"error": "connect"},
    "read timeout after": {"error": "read_timeout", "after": True},
    "read error after": {"error": "read_error", "after": True},
}


@given(
    sent=st.lists(requests(REFS), min_size=1, max_size=3),
    fault=st.none() | st.sampled_from(sorted(FAULTS)),
)
# A refused HEAD: GET's status with no body (the long profile found it; the default seldom does).
@example(sent=[("HEAD", "//", {"x-api-key": "owner"}, b"")], fault=None)
def test_no_request_breaks_the_fake(
    sent: list[tuple[str, str, dict[str, str], bytes]], fault: str | None
) -> None:
    fake, refs = _fuzzed_world()
    assert refs == REFS
    if fault is not None:
        fake.faults.fail_next(**FAULTS[fault])  # hits the first request, whatever it is
    transport = fake.transport()
    for method, target, headers, body in sent:
        if "x-api-key" in headers:
            headers = {**headers, "x-api-key": refs[headers["x-api-key"]]}
        before = fingerprint(fake.world)
        request = httpx.Request(method, fake.base_url + target, headers=headers, content=body)
        try:
            response = transport.handle_request(request)
        except httpx.TransportError:
            assert fake.calls.last.fault is not None, "a transport error nobody injected"
            continue
        injected = fake.calls.last.fault is not None

        assert not fake.server_errors, fake.server_errors
        assert 200 <= response.status_code < 500 or injected, response.content[:300]
        if response.status_code >= 400 and not target.startswith("/_storage/"):
            if method.upper() == "HEAD":
                # GET's status and length, never a body (RFC 9110): no envelope to read.
                assert response.content == b""
            else:
                envelope = response.json()
                assert envelope["error"]["code"]
                assert envelope["error"]["message"]
            if not (injected and FAULTS[fault or ""].get("after")):
                assert fingerprint(fake.world) == before, "a refused request changed the world"


# ── the live view: what the fake shows of a run is what a poll answers ──

# Small steps land inside cold starts and epochs; large ones skip whole runs and queues.
CLOCK_STEP = st.one_of(st.integers(0, 60), st.floats(0.0, 90.0), st.integers(300, 4000)).map(float)
LIVE_STEP = st.one_of(
    st.tuples(st.just("advance"), CLOCK_STEP),
    st.tuples(st.just("cancel"), st.integers(0, 3).map(float)),
)


@given(
    epochs=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    steps=st.lists(LIVE_STEP, min_size=1, max_size=15),
)
def test_the_fakes_view_of_a_run_is_what_a_poll_answers(
    epochs: list[int], steps: list[tuple[str, float]]
) -> None:
    # One a10g worker: the later runs wait queued behind the first.
    with FakePictograph(seed=5, gpu_workers={"a10g": 1}) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            run_ids = [
                client.training.create(
                    DATASET,
                    EXPORT,
                    pipeline_type="yolox",
                    name=f"r{i}",
                    config={"epochs": n, "model_size": "nano"},
                    wait=False,
                ).id
                for i, n in enumerate(epochs)
            ]
            for kind, value in steps:
                if kind == "advance":
                    fake.clock.advance(seconds=value)
                else:
                    target = run_ids[int(value) % len(run_ids)]
                    if fake.run(target).status not in ("completed", "failed", "cancelled"):
                        client.training.cancel(target)
                for run_id in run_ids:
                    seen = fake.run(run_id)
                    polled = client.training.get(run_id)
                    assert (seen.status, seen.progress, seen.epoch, seen.metrics) == (
                        polled.status,
                        polled.progress,
                        polled.current_epoch,
                        polled.metrics,
                    )
                    assert seen.training_seconds == polled.training_time_seconds


# ── the stateful machine: interleaved operations, faults and retries ──

ROLES = ("owner", "member", "viewer")
# The statuses the SDK retries (pictograph._http.retry.RETRYABLE_STATUS_CODES): the fake
# answers them here only for an injected fault or the rate limit.
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
RANK = {"pending": 0, "queued": 1, "running": 2, "completed": 3, "failed": 3, "cancelled": 3}
OPERATIONS = ("training_a10g", "training_h100_per_minute", "inference_t4", "sam3_auto_annotation")


def transient(outcome: str) -> bool:
    """Whether ``outcome`` is the SDK giving up once its retries ran out: a retryable
    status, or no answer at all (``lost``, from a transport error).

    Such an outcome says nothing of what the handler did or would have answered: the
    last attempt may never have reached it (a fault before it, the rate limit), or
    reached it and lost the answer (a fault after it), and an earlier attempt may have
    done the write. The rules then check the world, not the outcome.
    """
    words = outcome.split()
    if words[0] == "lost":
        return True
    return words[0] == "refused" and words[1].isdigit() and int(words[1]) in RETRYABLE


class Env:
    """One world and the SDK clients of two organizations, each with three roles."""

    def __init__(self, profile: ProfileName, seed: int) -> None:
        self.fake = FakePictograph(seed=seed, profile=profile, balance_usd=40.0).start()
        fake = self.fake
        other = fake.add_organization(balance_usd=6.0)
        self.orgs = (fake.organization, other)
        self.clients: dict[tuple[int, str], Any] = {}
        self.async_clients: dict[tuple[int, str], Any] = {}
        for index, org in enumerate(self.orgs):
            org.add_dataset(DATASET, images=20, completed_images=20, classes=["a", "b"])
            org.add_export(DATASET, EXPORT)
            for role in ROLES:
                key = org.api_key if role == "owner" else org.add_api_key(role)  # type: ignore[arg-type]
                self.clients[index, role] = fake.client(api_key=key, max_retries=3)
                self.async_clients[index, role] = fake.async_client(api_key=key, max_retries=3)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.fake.stop()

    def perform(self, step: tuple[str, dict[str, Any]]) -> str:
        """Carry out one recorded step through the SDK; return its outcome in words."""
        action, args = step
        fake = self.fake
        if action == "advance":
            fake.clock.advance(args["seconds"])
            return "advanced"
        if action == "fail_run":
            fake.faults.fail_run(epoch=args["epoch"], reason=args["reason"])
            return "armed"
        if action == "preempt_run":
            fake.faults.preempt_run(epoch=args["epoch"])
            return "armed"
        if action == "stray_fault":
            fake.faults.fail_next(**FAULTS[args["fault"]])
            return "armed"
        if action == "rate_limit":
            fake.faults.rate_limit(args["requests"], per_seconds=10)
            return "limited"
        if args.get("fault") is not None:
            method, path = args["route"]
            fake.faults.fail_next(method, path, **FAULTS[args["fault"]])
        client = self.clients[args["org"], args["role"]]
        try:
            if action == "create":
                call = {
                    "pipeline_type": "yolox",
                    "name": args["name"],
                    "gpu_type": args["gpu"],
                    "config": {"epochs": args["epochs"]},
                    "wait": False,
                }
                if args["use_async"]:
                    aclient = self.async_clients[args["org"], args["role"]]
                    run = asyncio.run(aclient.training.create(DATASET, EXPORT, **call))
                else:
                    run = client.training.create(DATASET, EXPORT, **call)
                return f"created {run.id}"
            if action == "cancel":
                return f"cancelled {client.training.cancel(run_id=args['run']).status}"
            if action == "bulk_cancel":
                result = client.training.bulk_cancel(args["runs"])
                return f"bulk {sorted(result.succeeded)} {sorted(result.not_found)}"
            if action == "get":
                return f"got {client.training.get(run_id=args['run']).status}"
            if action == "wait":
                run = client.training.wait_for_completion(run_id=args["run"], poll_interval=60)
                return f"waited {run.status}"
            if action == "quote":
                quote = client.training.quote(
                    DATASET, EXPORT, pipeline_type="yolox", gpu_type=args["gpu"]
                )
                return f"quote {quote.can_start} {[b.code for b in quote.blocking]}"
            if action == "estimate":
                estimate = client.credits.estimate(args["operation"], quantity=args["quantity"])
                return f"estimate {estimate.total_micro_usd}"
        except ApiError as refused:
            return f"refused {refused.status_code} {refused.code}"
        except NetworkError as lost:  # RequestTimeoutError too: the last attempt's answer
            return f"lost {type(lost).__name__}"
        raise AssertionError(f"unknown step {action}")


class ReadOnly:
    """What must hold after a step that only reads (a quote, an estimate).

    The SDK's retries wait on the virtual clock, and runs move on meanwhile, so the
    whole world is compared only when no time passed; otherwise nothing may have been
    written that time alone does not write (runs, and pre-charges, come from creates).
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.at = world.clock.monotonic()
        self.state = fingerprint(world)
        self.runs = set(world.runs)
        self.precharges = self._precharges()

    def _precharges(self) -> int:
        return sum(
            1
            for ledger in self.world.ledgers.values()
            for entry in ledger
            if entry.operation.endswith("_per_minute")
        )

    def check(self, what: str) -> None:
        assert set(self.world.runs) == self.runs, f"{what} created a run"
        assert self._precharges() == self.precharges, f"{what} charged"
        if self.world.clock.monotonic() == self.at:
            assert fingerprint(self.world) == self.state, f"{what} changed the world"


class FakeWorldMachine(RuleBasedStateMachine):
    """Interleave creates, cancels, quotes, estimates, clock moves and faults in two
    organizations; after every step, check the invariants of money and of runs."""

    def __init__(self) -> None:
        super().__init__()
        self.env: Env | None = None
        self.settings: tuple[ProfileName, int] = ("classic", 0)
        self.steps: list[tuple[str, dict[str, Any]]] = []
        self.outcomes: list[str] = []
        self.runs: dict[str, int] = {}
        """Every run a create made, and its organization's index: the runs creates
        answered, and those a create whose answer was lost had made (adopted)."""
        self.calls: list[JournalEntry] = []
        """The calls the last step made, as the fake journaled them."""
        self.seen: dict[str, tuple[int, int]] = {}
        """Per run: the rank of its last status, and how often it had been requeued."""
        self.terminal: dict[str, tuple[Any, ...]] = {}

    @initialize(profile=st.sampled_from(["classic", "current"]), seed=st.integers(0, 2**16))
    def build(self, profile: ProfileName, seed: int) -> None:
        self.settings = (profile, seed)
        self.env = Env(profile, seed)

    def teardown(self) -> None:
        if self.env is None:
            return
        first = self.env
        journal = list(first.fake.api.journal)
        first.close()
        # Replaying the seed and the steps must reproduce every response, byte for byte.
        second = Env(*self.settings)
        try:
            replayed = [second.perform(step) for step in self.steps]
            assert replayed == self.outcomes
            assert list(second.fake.api.journal) == journal
        finally:
            second.close()

    # ── steps ──

    def _do(self, action: str, **args: Any) -> str:
        assert self.env is not None
        journal = self.env.fake.api.journal
        mark = journal.total
        step = (action, args)
        self.steps.append(step)
        outcome = self.env.perform(step)
        self.outcomes.append(outcome)
        assert not self.env.fake.server_errors, self.env.fake.server_errors
        # Read from the log itself: `fake.calls` would copy the whole journal every step.
        self.calls = [entry for _, entry in journal.page(mark, journal.total - mark)]
        # The rules accept a transient outcome (a retryable status, or no answer) in
        # place of the one they expect: only because every such answer was injected.
        for call in self.calls:
            if call.status == 0 or call.status in RETRYABLE:
                assert call.fault is not None, f"{call[:4]}: a transient answer nobody injected"
        if transient(outcome):
            assert self.calls, outcome
            assert self.calls[-1].fault is not None, outcome
            # Shown by --hypothesis-show-statistics: how often the retries ran out.
            event(f"{action}: retries ran out ({outcome.split()[1]})")
        return outcome

    def _answer_lost(self, method: str, route: str) -> bool:
        """Whether a call of the last step to ``method`` ``route`` reached the handler and
        lost its answer to a fault after it: the one way a write goes unanswered."""
        return any(
            call.method.upper() == method
            and call.target.partition("?")[0].rstrip("/").endswith("/" + route.rstrip("/"))
            and (call.fault or "").endswith("after the handler")
            for call in self.calls
        )

    def _cancelled(self) -> set[str]:
        """The runs cancelled so far: only a cancel writes the status (fail_next_run's
        reasons end runs `failed`), so a run newly in it is one a cancel step cancelled."""
        with self.world.lock:
            return {run_id for run_id, run in self.world.runs.items() if run.status == "cancelled"}

    def _read_only(self) -> ReadOnly:
        return ReadOnly(self.world)

    @property
    def world(self) -> World:
        assert self.env is not None
        return self.env.fake.world

    @rule(
        org=st.integers(0, 1),
        role=st.sampled_from(ROLES),
        name=st.sampled_from(["r", "nightly", "a/b c%"]),
        gpu=st.sampled_from(["a10g", "h100"]),
        epochs=st.integers(1, 4),
        fault=st.none() | st.sampled_from(sorted(FAULTS)),
        use_async=st.booleans(),
    )
    def create(
        self,
        org: int,
        role: str,
        name: str,
        gpu: str,
        epochs: int,
        fault: str | None,
        use_async: bool,
    ) -> None:
        known = set(self.world.runs)
        outcome = self._do(
            "create",
            org=org,
            role=role,
            name=name,
            gpu=gpu,
            epochs=epochs,
            fault=fault,
            route=("POST", "training/"),
            use_async=use_async,
        )
        assert self.env is not None
        new = set(self.world.runs) - known
        for run_id in new:
            assert self.world.runs[run_id].organization_id == self.env.orgs[org].id
        if outcome.startswith("created "):
            # One create, one run, however many attempts the faults made it take.
            assert new == {outcome.split()[1]}, outcome
        elif transient(outcome) and role != "viewer" and self._answer_lost("POST", "training/"):
            # The retries ran out after an attempt had made the run and lost the answer:
            # the run is this create's (later attempts carry the same Idempotency-Key, so
            # at most one), and the model learns it; the invariants then follow it.
            assert len(new) <= 1, (outcome, new)
            event(f"create: answer lost, {len(new)} run adopted")
        else:
            # Refused by the handler, or never past the faults and the rate limit: no run.
            # A viewer's create makes none whatever happened in transit.
            assert not new, outcome
            if role == "viewer" and not transient(outcome):
                assert outcome == "refused 403 forbidden"
        self.runs.update(dict.fromkeys(new, org))

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data(), org=st.integers(0, 1), role=st.sampled_from(ROLES))
    def cancel(self, data: st.DataObject, org: int, role: str) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        fault = data.draw(st.none() | st.sampled_from(sorted(FAULTS)))
        route = ("POST", f"training/{run_id}/cancel")
        cancelled = self._cancelled()
        outcome = self._do("cancel", org=org, role=role, run=run_id, fault=fault, route=route)
        mine = role != "viewer" and self.runs[run_id] == org
        # Whatever the outcome: only a member's cancel of its own organization's run
        # cancels, and only that run.
        assert self._cancelled() - cancelled <= ({run_id} if mine else set()), outcome
        if transient(outcome):
            return  # cancelled or not: the world, checked above, says which
        if role == "viewer":
            # The role is checked before the handler looks the run up (docs/routes.md):
            # a viewer is refused whichever run it names, its organization's or not.
            assert outcome == "refused 403 forbidden"
        elif not mine:
            assert outcome == "refused 404 not_found"  # another organization's run
        elif outcome == "cancelled cancelled":
            assert run_id in self._cancelled()
        else:
            # Already ended: refused, and left as it ended.
            assert outcome == "refused 400 validation_error", outcome
            assert run_id not in self._cancelled() - cancelled

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data(), org=st.integers(0, 1), role=st.sampled_from(ROLES))
    def bulk_cancel(self, data: st.DataObject, org: int, role: str) -> None:
        runs = data.draw(st.lists(st.sampled_from(sorted(self.runs)), min_size=1, max_size=4))
        fault = data.draw(st.none() | st.sampled_from(sorted(FAULTS)))
        route = ("POST", "training/bulk-cancel")
        cancelled = self._cancelled()
        outcome = self._do("bulk_cancel", org=org, role=role, runs=runs, fault=fault, route=route)
        mine = {r for r in runs if self.runs[r] == org} if role != "viewer" else set()
        newly = self._cancelled() - cancelled
        assert newly <= mine, f"cancelled another org's run, or a viewer cancelled: {outcome}"
        if transient(outcome):
            return
        if role == "viewer":
            assert outcome == "refused 403 forbidden"
        else:
            succeeded = {r for r in runs if r in outcome.split("] [")[0]}
            # What it answers it cancelled is what it cancelled (a replay answers the
            # attempt that did the work).
            assert succeeded == newly, outcome

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data(), fault=st.none() | st.sampled_from(["503 before", "read timeout after"]))
    def get(self, data: st.DataObject, fault: str | None) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        org = self.runs[run_id]
        route = ("GET", f"training/{run_id}")
        outcome = self._do("get", org=org, role="viewer", run=run_id, fault=fault, route=route)
        assert outcome.startswith("got ") or transient(outcome), outcome

    @rule(
        org=st.integers(0, 1),
        role=st.sampled_from(ROLES),
        gpu=st.sampled_from(["a10g", "h100"]),
        fault=st.none() | st.sampled_from(sorted(FAULTS)),
    )
    def quote(self, org: int, role: str, gpu: str, fault: str | None) -> None:
        before = self._read_only()
        route = ("POST", "training/quote")
        outcome = self._do("quote", org=org, role=role, gpu=gpu, fault=fault, route=route)
        before.check("a quote")
        if not transient(outcome):
            assert outcome.startswith("quote "), outcome
            # A key below member is told so in `blocking`, never with a 403.
            assert ("forbidden" in outcome) == (role == "viewer")

    @rule(
        org=st.integers(0, 1),
        operation=st.sampled_from(OPERATIONS),
        quantity=st.integers(1, 500),
        fault=st.none() | st.sampled_from(sorted(FAULTS)),
    )
    def estimate(self, org: int, operation: str, quantity: int, fault: str | None) -> None:
        before = self._read_only()
        route = ("GET", "credits/estimate")
        outcome = self._do(
            "estimate",
            org=org,
            role="viewer",
            operation=operation,
            quantity=quantity,
            fault=fault,
            route=route,
        )
        assert outcome.startswith("estimate ") or transient(outcome), outcome
        before.check("an estimate")

    @rule(seconds=st.sampled_from([1.0, 30.0, 61.5, 300.0, 1800.0]))
    def advance(self, seconds: float) -> None:
        self._do("advance", seconds=seconds)

    @rule(
        epoch=st.integers(1, 4),
        reason=st.sampled_from(["oom", "preemption", "data_error", "preempt and requeue"]),
    )
    def fail_next_run(self, epoch: int, reason: str) -> None:
        if reason == "preempt and requeue":
            self._do("preempt_run", epoch=epoch)
        else:
            self._do("fail_run", epoch=epoch, reason=reason)

    @precondition(lambda self: self.env is not None and not self.env.fake.faults.pending)
    @rule(fault=st.sampled_from(sorted(FAULTS)))
    def stray_fault(self, fault: str) -> None:
        """Arm a fault for whatever request comes next, in whichever later step."""
        self._do("stray_fault", fault=fault)

    @precondition(lambda self: bool(self.runs))
    @rule(data=st.data())
    def wait(self, data: st.DataObject) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.runs)))
        outcome = self._do("wait", org=self.runs[run_id], role="viewer", run=run_id)
        assert transient(outcome) or outcome in (
            "waited completed",
            "refused None job_failed",
            "refused None job_cancelled",
        ), outcome

    @rule(requests=st.none() | st.integers(1, 3))
    def rate_limit(self, requests: int | None) -> None:
        self._do("rate_limit", requests=requests)

    # ── invariants, after every step ──

    @invariant()
    def balances_are_allowance_plus_ledger(self) -> None:
        if self.env is not None:
            check_balances(self.world)

    @invariant()
    def runs_are_charged_once_and_refunded_at_most_that(self) -> None:
        if self.env is not None:
            check_charges(self.world)

    @invariant()
    def a_completed_run_has_exactly_one_model(self) -> None:
        if self.env is not None:
            check_models(self.world)

    @invariant()
    def statuses_move_forward_and_terminal_runs_never_change(self) -> None:
        if self.env is None:
            return
        world = self.world
        # Runs are learned only in a create step (answered, or adopted when the answer
        # was lost): one appearing in any other step fails here.
        assert set(world.runs) == set(self.runs), "a run exists that no create answered"
        with world.lock:
            now = world.catch_up()
            for run_id, run in world.runs.items():
                rank = RANK[live_status(run, now)]
                requeues = sum(1 for status, _ in run.history if status == "queued") - 1
                last_rank, last_requeues = self.seen.get(run_id, (0, 0))
                # Backwards only to `queued`, and only when a preemption requeued it.
                assert rank >= last_rank or (rank == 1 and requeues > last_requeues)
                self.seen[run_id] = (rank, requeues)
                if run.terminal:
                    state = (
                        run.status,
                        run.completed_at,
                        run.final,
                        run.model_id,
                        run.error_message,
                        run.charged_micro_usd,
                        run.refunded_micro_usd,
                    )
                    assert self.terminal.setdefault(run_id, state) == state


TestFakeWorld = FakeWorldMachine.TestCase
