"""The sync and the async client of each release, given one scenario, get the same answers.

Each client drives a fresh world of the same seed through every resource both clients of
the release have (datasets, images, annotations, batch edits, exports, training with its
waits, cancels, listings and pagers, models, evaluations, deployments, predictions,
credits, organizations, keys, webhooks, notifications, jobs) and what each call returns,
or the error it raises, is compared call by call: where the two clients send different
wires for one call, the fake must answer each in its own. The calls the API of their
day failed for one client only (``dialects.SDK_DEFECTS``) are tested elsewhere
(``test_release_limits_across_versions.py``); their releases skip here.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import optional_module, sdk_version
from pictograph_testing.api.dialects import SDK_DEFECTS, parse_version

if TYPE_CHECKING:
    from collections.abc import Callable

RELEASE = parse_version(sdk_version())
DATASET = "road-signs"
EXPORT = "road-signs-20260512-120000"
_MISSING = object()
_REQUEST_ID = re.compile(r"req_[0-9a-f]{16}")
# The releases whose async client fails calls its sync twin makes (by a filename, as here).
_ONE_SIDED = [
    d.span
    for d in SDK_DEFECTS
    if d.span.client == "async" and "given an image's id" not in d.failure
]


class Ctx:
    """The ids a scenario learns as it goes, and its files."""

    def __init__(self, fake: FakePictograph, tmp: Path) -> None:
        self.fake = fake
        self.tmp = tmp
        self.ids: dict[str, Any] = {}
        for name, shade in (("a.png", 40), ("b.png", 80)):
            PILImage.new("RGB", (32, 24), (shade, 90, 160)).save(tmp / name)
        (tmp / "dir" / "stop_sign").mkdir(parents=True)
        PILImage.new("RGB", (32, 24), (120, 90, 160)).save(tmp / "dir" / "stop_sign" / "c.png")
        self.png = tmp / "a.png"
        dataset = fake.world.dataset(fake.organization_id, DATASET)
        image = fake.world.image_service.find(dataset, "/", "img-00001.jpg")
        assert image is not None
        # A seeded image, by its filename: every release's per-image calls reach it.
        self.ids.update(dataset_id=dataset.id, image_id=image.id, image_name=image.filename)


def _value(ctx: Ctx, resource: str, param: str) -> Any:
    """What the scenario passes for a parameter of this name."""
    i = ctx.ids
    if param == "name":
        names: dict[str, Any] = {"datasets": DATASET, "projects": DATASET, "exports": "exp-2"}
        names |= {"training": "parity-run", "models": i.get("model_name"), "api_keys": "k2"}
        return names.get(resource, "x")
    table: dict[str, Any] = {
        "dataset_id": i["dataset_id"],
        "project_id": i["dataset_id"],
        "dataset_name": DATASET,
        "dataset": DATASET,
        "export_name": EXPORT,
        "run_id": i.get("run_id"),
        "model_id": i.get("model_id"),
        "model": i.get("model_id"),
        "name_or_id": i.get("model_id"),
        "export_id": i.get("export_id"),
        "evaluation_id": i.get("evaluation_id"),
        "deployment_id": i.get("deployment_id"),
        "deployment": i.get("deployment_id"),
        "deployment_ids": [i.get("deployment_id")],
        "deployments": [i.get("deployment_id")],
        "run_ids": [i.get("run2_id")],
        "model_ids": [i.get("model_id")],
        "export_ids": [i.get("export_id")],
        "key_id": i.get("key_id"),
        "endpoint_id": i.get("endpoint_id"),
        "endpoint": i.get("endpoint_id"),
        "delivery_id": i.get("delivery_id"),
        "notification_id": i.get("notification_id"),
        "member_id": i.get("member_id"),
        "invite_id": i.get("invite_id"),
        "job_id": i.get("run_id"),
        "organization_id": ctx.fake.organization_id,
        "organization": ctx.fake.organization_id,
        "output_path": ctx.tmp / "out.bin",
        "output_dir": ctx.tmp / "out",
        "file_path": ctx.png,
        "file_paths": [ctx.tmp / "b.png"],
        "directory": ctx.tmp / "dir",
        "image_id": i["image_id"],
        "image": i["image_name"],
        "image_ids": [i["image_id"]],
        "tags": ["t1"],
        "annotations": [_box()],
        "saves": {i["image_id"]: [_box()]},
        "old_name": "stop_sign",
        "new_name": "halt",
        "source_name": "yield",
        "target_name": "halt",
        "action": "approve",
        "split": "train",
        "email": "dee@example.com",
        "url": "https://hooks.example.com/x",
        "operation": "training_a10g",
        "pipeline_type": "yolox",
        "role": "viewer",
        "file_name": "model.onnx",
        "version_id": None,
        "target_dataset_name": "other",
    }
    return table.get(param, _MISSING)


def _box() -> BBoxAnnotation:
    return BBoxAnnotation(
        id="box-1", name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=10, h=8)
    )


def _arguments(
    ctx: Ctx, resource: str, method: Callable[..., Any], given: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The call's arguments, as the release's signature names them."""
    signature = inspect.signature(method)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    by_id = {"run_id", "model_id", "dataset_id"} & set(given)
    for position, p in enumerate(signature.parameters.values()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        named_optional = p.default is None and p.name in ("name", "output_dir", "output_path")
        if p.name in given:
            value = given[p.name]
        elif p.default is p.empty or (named_optional and not by_id):
            value = _value(ctx, resource, p.name)
            if value is _MISSING:
                raise LookupError(f"no value for {resource}.{p.name}")
        else:
            continue
        if p.kind == p.POSITIONAL_OR_KEYWORD and not kwargs and len(args) == position:
            args.append(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


def _resolved(ctx: Ctx, given: dict[str, Any]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            return ctx.png if value == "$png" else ctx.ids.get(value[1:])
        return value

    return {k: [one(x) for x in v] if isinstance(v, list) else one(v) for k, v in given.items()}


def _plain(value: Any, tmp: Path) -> Any:
    """A result as comparable data: models dumped, files hashed, request ids elided."""
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"), tmp)
    if isinstance(value, dict):
        return {str(k): _plain(v, tmp) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, tmp) for v in value]
    if isinstance(value, Path):
        digest = hashlib.sha256(value.read_bytes()).hexdigest() if value.is_file() else ""
        return f"{str(value).replace(str(tmp), '<tmp>')} {digest[:12]}"
    if isinstance(value, str):
        return _REQUEST_ID.sub("req_", value.replace(str(tmp), "<tmp>"))
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return f"<{type(value).__name__}>"


def _saves(key: str, attribute: str = "id") -> Callable[[Ctx, Any], None]:
    def save(ctx: Ctx, result: Any) -> None:
        ctx.ids[key] = getattr(result, attribute)

    return save


def _save_run(ctx: Ctx, run: Any) -> None:
    ctx.ids.setdefault("run_id", run.id)
    ctx.ids["model_id"] = run.model_id or ctx.ids.get("model_id")


def _save_first(key: str, attribute: str, index: int = 0) -> Callable[[Ctx, Any], None]:
    def save(ctx: Ctx, found: Any) -> None:
        if found:
            ctx.ids[key] = getattr(found[index], attribute)

    return save


def _save_deployment(ctx: Ctx, created: Any) -> None:
    ctx.ids["deployment_id"] = created.deployment.id


def _save_key(ctx: Ctx, created: Any) -> None:
    ctx.ids["key_id"] = getattr(created, "key_id", None) or getattr(created, "id", None)


def _save_endpoint(ctx: Ctx, created: Any) -> None:
    ctx.ids["endpoint_id"] = created.endpoint.id


def _save_member(ctx: Ctx, members: Any) -> None:
    others = [m for m in members if m.role != "owner"]
    ctx.ids["member_id"] = others[0].id if others else None


STEPS: list[tuple[str, str, dict[str, Any], Callable[[Ctx, Any], Any] | None]] = [
    ("organizations", "me", {}, None),
    ("organizations", "update", {"description": "parity"}, None),
    ("credits", "balance", {}, None),
    ("credits", "history", {}, None),
    ("credits", "iter", {}, None),
    ("credits", "usage_by_operation", {}, None),
    ("credits", "estimate", {}, None),
    ("datasets", "list", {}, None),
    ("datasets", "iter", {}, None),
    ("datasets", "get", {}, None),
    ("datasets", "insights", {}, None),
    ("projects", "list", {}, None),
    ("projects", "get", {}, None),
    (
        "datasets",
        "create",
        {"name": "other", "classes": [{"name": "stop_sign", "type": "bbox"}]},
        None,
    ),
    (
        "projects",
        "create",
        {"name": "other", "classes": [{"name": "stop_sign", "type": "bbox"}]},
        None,
    ),
    ("datasets", "update", {"description": "d2"}, None),
    ("projects", "update", {"description": "d2"}, None),
    ("datasets", "archive", {"name": "other"}, None),
    ("datasets", "unarchive", {"name": "other"}, None),
    ("images", "list", {}, None),
    ("images", "iter", {}, None),
    ("images", "get", {}, None),
    ("images", "download", {}, None),
    ("images", "download_bundle", {}, None),
    ("annotations", "save", {}, None),
    ("annotations", "get", {}, None),
    ("annotations", "bulk_save", {}, None),
    ("images", "review", {}, None),
    ("images", "set_split", {}, None),
    ("images", "bulk_tag", {}, None),
    ("images", "assign_splits", {}, None),
    ("batch", "update", {"status": "complete"}, None),
    ("batch", "copy", {}, None),
    ("batch", "move", {}, None),
    ("batch", "copy_to_dataset", {}, None),
    ("annotations", "rename_class", {}, None),
    ("annotations", "merge_class", {}, None),
    ("annotations", "delete_class", {}, None),
    ("annotations", "delete", {}, None),
    ("exports", "list", {}, None),
    ("exports", "iter", {}, None),
    ("exports", "get", {}, _saves("export_id")),
    ("exports", "get_by_id", {}, None),
    ("exports", "wait_for_completion", {}, None),
    ("exports", "download", {}, None),
    ("exports", "download_by_id", {}, None),
    ("exports", "create", {"name": "exp-2", "wait": False}, _saves("export2_id")),
    ("webhooks", "create", {}, _save_endpoint),
    ("training", "quote", {}, None),
    ("training", "create", {"name": "parity-run", "config": {"epochs": 5}}, _save_run),
    ("training", "create", {"name": "parity-run-2", "wait": False}, _saves("run2_id")),
    ("training", "get", {"run_id": "$run_id"}, None),
    ("training", "get", {}, None),
    ("training", "wait_for_completion", {"run_id": "$run_id"}, None),
    ("training", "list", {}, None),
    ("training", "iter", {}, None),
    ("training", "cancel", {"run_id": "$run2_id"}, None),
    ("training", "create", {"name": "parity-run-3", "wait": False}, _saves("run2_id")),
    ("training", "bulk_cancel", {}, None),
    ("jobs", "list", {}, None),
    ("jobs", "get", {}, None),
    ("jobs", "wait", {}, None),
    ("models", "list", {}, _save_first("model_name", "name")),
    ("models", "iter", {}, None),
    ("models", "get", {"model_id": "$model_id"}, None),
    ("models", "get", {}, None),
    ("models", "get_by_name", {}, None),
    ("models", "update", {"model_id": "$model_id", "description": "m"}, None),
    ("models", "versions", {"model_id": "$model_id"}, None),
    ("models", "files", {"model_id": "$model_id"}, None),
    ("models", "download", {"model_id": "$model_id"}, None),
    ("models", "download_file", {"model_id": "$model_id"}, None),
    ("models", "predict", {"image": "$png"}, None),
    ("model_evaluations", "create", {}, _saves("evaluation_id")),
    ("model_evaluations", "get", {}, None),
    ("model_evaluations", "wait_for_completion", {}, None),
    ("model_evaluations", "list", {}, None),
    ("model_evaluations", "iter", {}, None),
    ("model_evaluations", "report", {}, None),
    ("model_evaluations", "create", {}, _saves("evaluation_id")),
    ("model_evaluations", "cancel", {}, None),
    ("training", "get", {"run_id": "no-such-run"}, None),
    ("datasets", "create", {"name": DATASET}, None),
    ("training", "create", {"name": "bad", "gpu_type": "nope", "wait": False}, None),
    ("training", "iter", {"page_size": 1}, None),
    ("images", "iter", {"page_size": 7}, None),
    ("credits", "iter", {"page_size": 2}, None),
    ("datasets", "iter", {"page_size": 1}, None),
    ("exports", "iter", {"page_size": 1}, None),
    ("models", "iter", {"page_size": 1}, None),
    ("model_evaluations", "iter", {"page_size": 1}, None),
    ("exports", "create", {"name": "exp-3"}, None),
    ("deployments", "compute_options", {}, None),
    ("deployments", "quote", {}, None),
    ("deployments", "create", {}, _save_deployment),
    ("deployments", "get", {}, None),
    ("deployments", "wait_until_active", {}, None),
    ("deployments", "list", {}, None),
    ("deployments", "iter", {}, None),
    ("deployments", "iter", {"page_size": 1}, None),
    ("deployments", "update", {"max_containers": 2}, None),
    ("deployments", "pause", {}, None),
    ("deployments", "resume", {}, None),
    ("deployments", "bulk_pause", {}, None),
    ("deployments", "bulk_resume", {}, None),
    ("models", "predict", {"image": "$png"}, None),
    ("api_keys", "list", {}, None),
    ("api_keys", "create", {}, _save_key),
    ("api_keys", "get", {}, None),
    ("api_keys", "update", {"name": "k3"}, None),
    ("webhooks", "event_types", {}, None),
    ("webhooks", "list", {}, None),
    ("webhooks", "get", {}, None),
    ("webhooks", "update", {"description": "w"}, None),
    ("webhooks", "test", {}, None),
    ("webhooks", "deliveries", {}, _save_first("delivery_id", "id", -1)),
    ("webhooks", "replay", {}, None),
    ("webhooks", "rotate_secret", {}, None),
    ("notifications", "list", {}, _save_first("notification_id", "id")),
    ("notifications", "unread_count", {}, None),
    ("notifications", "mark_read", {}, None),
    ("notifications", "mark_all_read", {}, None),
    ("notifications", "delete", {}, None),
    ("organizations", "invite", {}, _saves("invite_id")),
    ("organizations", "list_invites", {}, None),
    ("organizations", "revoke_invite", {}, None),
    ("organizations", "list_members", {}, _save_member),
    ("organizations", "update_member_role", {}, None),
    ("organizations", "remove_member", {}, None),
    ("images", "delete", {}, None),
    ("images", "upload", {}, None),
    ("images", "bulk_upload", {}, None),
    ("images", "upload_from_directory", {}, None),
    ("deployments", "delete", {}, None),
    ("deployments", "bulk_delete", {}, None),
    ("models", "bulk_delete", {}, None),
    ("models", "delete", {"model_id": "$model_id"}, None),
    ("exports", "bulk_delete", {"export_ids": ["$export2_id"]}, None),
    ("exports", "delete", {}, None),
    ("webhooks", "delete", {}, None),
    ("api_keys", "delete", {}, None),
    ("datasets", "download", {}, None),
    ("datasets", "delete", {"name": "other"}, None),
    ("projects", "delete", {"name": "other"}, None),
]


def _present(client: Any, resource: str, method: str) -> Callable[..., Any] | None:
    found = getattr(getattr(client, resource, None), method, None)
    return found if callable(found) else None


async def _drive(kind: str, tmp: Path, steps: list[int]) -> list[Any]:
    """Run the scenario's ``steps`` through one client on a fresh world."""
    log: list[Any] = []
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(DATASET, EXPORT)
        fake.add_member("mem@example.com", role="member")
        ctx = Ctx(fake, tmp)
        sync_client = fake.client(max_retries=0) if kind == "sync" else None
        async_client = fake.async_client(max_retries=0) if kind == "async" else None
        client: Any = sync_client or async_client
        for index in steps:
            resource, name, given, save = STEPS[index]
            method = _present(client, resource, name)
            assert method is not None
            try:
                args, kwargs = _arguments(ctx, resource, method, _resolved(ctx, given))
            except LookupError as missing:
                log.append((resource, name, "skipped", str(missing)))
                continue
            try:
                result = method(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                if hasattr(result, "__aiter__"):
                    result = [item async for item in result]
                elif hasattr(result, "__next__") or type(result).__name__.endswith("Pager"):
                    result = list(result)
            except Exception as error:  # the error is the answer compared
                log.append((resource, name, type(error).__name__, _plain(str(error), tmp)))
                continue
            log.append((resource, name, "ok", _plain(result, tmp)))
            if save is not None:
                save(ctx, result)
        if sync_client is not None:
            sync_client.close()
        if async_client is not None:
            await async_client.aclose()
        log.append(("fake", "server errors", [repr(e) for e in fake.server_errors]))
        log.append(("fake", "unserved", [repr(c) for c in fake.unserved_calls]))
        log.append(("fake", "5xx", [c.target for c in fake.calls if c.status >= 500]))
    return log


async def test_both_clients_get_the_same_answers(no_real_waiting: None, tmp_path: Path) -> None:
    if optional_module("pictograph.aio") is None:
        pytest.skip(f"pictograph {sdk_version()} has no AsyncClient")
    if any(span.holds(RELEASE, "async") for span in _ONE_SIDED):
        pytest.skip(f"pictograph {sdk_version()}'s async client fails calls its sync one makes")
    with FakePictograph(seed=1) as probe:
        sync_client = probe.client()
        async_client = probe.async_client()
        # The steps both clients of the release have: a method one lacks is the SDK's own.
        steps = [
            i
            for i, (resource, name, _, _) in enumerate(STEPS)
            if _present(sync_client, resource, name) and _present(async_client, resource, name)
        ]
        sync_client.close()
        await async_client.aclose()
    (tmp_path / "sync").mkdir()
    (tmp_path / "async").mkdir()
    sync_log = await _drive("sync", tmp_path / "sync", steps)
    async_log = await _drive("async", tmp_path / "async", steps)
    assert sync_log[-3:] == [
        ("fake", "server errors", []),
        ("fake", "unserved", []),
        ("fake", "5xx", []),
    ]
    answered = {f"{call[0]}.{call[1]}" for call in sync_log if call[2] == "ok"}
    # The scenario reached the resources every async-era release has.
    assert {"training.create", "exports.get", "models.download", "deployments.pause"} <= answered
    for sync_call, async_call in zip(sync_log, async_log, strict=True):
        assert async_call == sync_call
