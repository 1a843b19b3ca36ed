"""Wire dialects: what each SDK release expects of a route, declared beside the route.

Every SDK sends ``User-Agent: pictograph-python/<version>`` (sync) or
``pictograph-python-async/<version>`` (async); the fake reads the release from it, or
takes an explicit ``sdk_version`` (for clients that replace the header, and for curl),
and answers in that release's dialect. Without either, the newest.

A route declares its dialects in the route table (``@endpoint(..., span=..., wires=...)``):

- ``span``: the releases that call the route at all (``/training/by-name/{name}`` is only
  sent by 1.61.0 to 1.69.43);
- ``wires``: for a span of releases, how the route's request and reply differ from
  today's: the envelope key the release reads (``training_run`` instead of ``data``),
  body fields it sends that today's API refuses (``gpu_count``), its older names for
  today's fields (``renames``: ``dataset_id`` for ``dataset``, ``folder_path`` for
  ``directory_path``), a form-encoded body, the units of money (whole credits), or a
  rewrite of the reply declared in the resource module.

``renames`` are applied to the request before any check: to the query's parameter
names, to the body's keys and (unless the wire says not to) to the keys of objects in
the body's lists (the ``images`` of a bulk upload). The route's spec and handler then
see today's names.

Handlers never branch on a version: they answer today's shape, and the route's wire for
the caller's release rewrites it. The newest release pays nothing for this.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from pictograph_testing.api import messages
from pictograph_testing.api.spec import Int, Obj, Param
from pictograph_testing.world.billing import unknown_operation
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from pictograph_testing.api.spec import Field
    from pictograph_testing.api.wire import Reply
    from pictograph_testing.world.errors import ApiRefusal

__all__ = [
    "BY_NAME_PATHS",
    "CHARGED_RESTORES",
    "CLIENTS",
    "COMMENTS_HARD_DELETED",
    "COMPOUND_EXPORT_PATHS",
    "COMPUTE_TYPES",
    "DATASETS_BY_NAME",
    "DATASET_STORAGE",
    "DIRECTORY_IDS",
    "DIRECTORY_IDS_CREATE",
    "EVALUATED_DATASETS",
    "EVALUATED_TYPES_BY_RELEASE",
    "EXPLORE",
    "EXPORT_FORMATS_BY_RELEASE",
    "FOLDERS",
    "FOLDER_PATHS",
    "FOLDER_UPLOADS",
    "GPU_COUNT",
    "GPU_TYPES_BY_RELEASE",
    "IMAGES_BY_ID",
    "IMAGE_ID_PATHS",
    "INTEGER_CREDITS",
    "INVITE_STATUSES_BY_RELEASE",
    "LEGACY_ENVELOPES",
    "MODEL_FORKS_BY_ID",
    "MODEL_FORKS_BY_NAME",
    "MODEL_FORMATS_BY_RELEASE",
    "NEAR_DUPLICATES",
    "NEWEST",
    "OLDEST",
    "OPERATIONS_BY_RELEASE",
    "PIPELINES_BY_RELEASE",
    "PROJECTS",
    "PROJECT_ARCHIVES",
    "ROLES_BY_RELEASE",
    "SDK_DEFECTS",
    "STORAGE_CONNECTIONS",
    "TARGET_FOLDER_PATHS",
    "VIRTUAL_FOLDER_PATHS",
    "WORKFLOW_ENDPOINT_ON_CREATE",
    "WORKFLOW_PRECISION",
    "WORKFLOW_PREDICT_URL",
    "Client",
    "Defect",
    "NewerSdkWarning",
    "Span",
    "Version",
    "Vocabulary",
    "Wire",
    "answered_release",
    "before",
    "check_installed_sdk",
    "format_version",
    "parse_version",
    "sdk_client_of",
    "sdk_version_of",
    "since",
]

Version = tuple[int, int, int]
OLDEST: Version = (1, 0, 0)
NEWEST: Version = (1, 69, 146)
"""The newest SDK release whose wire the fake knows (and the suite has run against)."""

_AGENT = re.compile(r"pictograph-python(?:-async)?/([0-9]+(?:\.[0-9]+){0,2})")
_ASYNC_AGENT = "pictograph-python-async/"
Client = Literal["sync", "async"]
CLIENTS: tuple[Client, ...] = ("sync", "async")
_VERSION = re.compile(r"([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?")
_seen: dict[str, Version | None] = {}


def parse_version(text: str) -> Version:
    """``"1.40"`` → ``(1, 40, 0)``; ``ValueError`` for anything that is not a release."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an SDK release (like '1.40.0')")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    return (major, minor, patch)


def answered_release(text: str) -> Version:
    """The release an explicit ``sdk_version`` names, for the fake to answer as.

    ``ValueError`` for text that is not a release, and for one older than
    :data:`OLDEST` (no route serves it, so every call would be a puzzling 404). A newer
    release is answered in :data:`NEWEST`'s wire, as a newer installed SDK is.
    """
    version = parse_version(text)
    if version < OLDEST:
        raise ValueError(
            f"sdk_version {text!r} is older than the first SDK release; the fake answers "
            f"{format_version(OLDEST)} to {format_version(NEWEST)} (and newer releases in "
            f"{format_version(NEWEST)}'s wire)"
        )
    return version


def format_version(version: Version) -> str:
    return ".".join(map(str, version))


def sdk_version_of(user_agent: str | None) -> Version | None:
    """The SDK release named in a ``User-Agent`` header, or ``None`` (not the SDK)."""
    if user_agent is None:
        return None
    if user_agent in _seen:
        return _seen[user_agent]
    match = _AGENT.search(user_agent)
    try:
        found = parse_version(match.group(1)) if match else None
    except ValueError:
        # A part int() cannot read (over 4,300 digits) names no release: such a client
        # is answered as one that names none, in the newest wire, as a huge release is.
        found = None
    if len(_seen) > 256:
        _seen.clear()
    _seen[user_agent] = found
    return found


class NewerSdkWarning(UserWarning):
    """The installed SDK is newer than every release whose wire the fake knows."""


@functools.cache
def check_installed_sdk() -> Version | None:
    """The installed SDK's release; warn (once) when it is newer than :data:`NEWEST`.

    A newer SDK gets the newest dialect the fake knows, which is right until the API
    changes; the warning says so instead of letting a test fail in a puzzling way.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = parse_version(version("pictograph"))
    except (PackageNotFoundError, ValueError):
        return None
    if installed > NEWEST:
        warnings.warn(
            f"pictograph {format_version(installed)} is newer than the newest SDK release "
            f"pictograph-testing knows ({format_version(NEWEST)}); the fake answers it in "
            f"{format_version(NEWEST)}'s wire. Upgrade pictograph-testing, or pin "
            f"pictograph<={format_version(NEWEST)}.",
            NewerSdkWarning,
            stacklevel=3,
        )
    return installed


def sdk_client_of(user_agent: str | None) -> Client:
    """Which client sent a request: ``async`` for ``pictograph-python-async/...``, else
    ``sync`` (the sync client, and every caller that is not the SDK)."""
    return "async" if user_agent is not None and _ASYNC_AGENT in user_agent else "sync"


@dataclass(frozen=True)
class Span:
    """The releases from ``since`` up to, not including, ``until``; of one client only
    when ``client`` says which (a release's async twin has at times sent another wire
    than its sync client)."""

    since: Version = OLDEST
    until: Version | None = None
    client: Client | None = None

    def holds(self, version: Version, client: Client = "sync") -> bool:
        return (
            self.since <= version
            and (self.until is None or version < self.until)
            and (self.client is None or self.client == client)
        )

    def __str__(self) -> str:
        low = format_version(self.since)
        text = f"{low}+" if self.until is None else f"{low} to before {format_version(self.until)}"
        return text if self.client is None else f"{text} ({self.client} client)"


def before(version: str, *, since: str | None = None, client: Client | None = None) -> Span:
    """The releases before ``version`` (and from ``since``, if given)."""
    low = parse_version(since) if since is not None else OLDEST
    return Span(low, parse_version(version), client)


def since(version: str, *, client: Client | None = None) -> Span:
    """The releases from ``version`` on."""
    return Span(parse_version(version), None, client)


@dataclass(frozen=True)
class Wire:
    """How one route's request and reply differ for a span of SDK releases."""

    span: Span
    envelope: str | None = None
    """The key the release reads the reply under, instead of ``data`` (a page's items,
    for a listing)."""
    hoist: bool = False
    """The release reads the ``data`` object's fields at the root of the reply."""
    extra_fields: dict[str, Field] = field(default_factory=dict)
    """Body fields the release sends that today's API refuses: accepted, and ignored
    unless the handler reads them (as it does a field named in ``unsent``'s place)."""
    extra_params: tuple[Param, ...] = ()
    """Query parameters the release sends that today's route does not declare: checked,
    and ignored unless the handler reads them."""
    unsent: tuple[str, ...] = ()
    """Fields today's route requires that the release never sends (an ``extra_fields``
    one stands in for each): optional for this span."""
    renames: dict[str, str] = field(default_factory=dict)
    """The release's names for today's body fields and query parameters (old → new),
    read as today's before they are checked."""
    renames_in_lists: bool = True
    """Whether ``renames`` also apply to the keys of objects in the body's lists (each
    of a bulk upload's ``images``); off where those objects have a field of a renamed
    name of their own (each of a dataset's ``classes`` has a ``name``)."""
    form: bool = False
    """The release sends the body form-encoded (``null`` as an empty value), not JSON."""
    rewrite: Callable[[Any], Any] | None = None
    """A change to the decoded reply (after the envelope), declared by the resource."""
    refuse: Callable[[ApiRefusal], ApiRefusal] | None = None
    """A change to the route's refusals (the 402's units, for one)."""
    note: str = ""
    """What changed, for the docs' table of dialects."""

    def body(self, spec: Obj) -> Obj:
        """The route's body spec as this span of releases sends it."""
        if not self.extra_fields and not self.unsent:
            return spec
        fields = {**spec.fields, **self.extra_fields}
        for name in self.unsent:
            fields[name] = replace(fields[name], required=False)
        return Obj(fields, extra=spec.extra)

    def params(self, params: tuple[Param, ...]) -> tuple[Param, ...]:
        """The route's query parameters as this span of releases sends them."""
        return (*params, *self.extra_params) if self.extra_params else params

    def query(self, query: dict[str, list[str]]) -> dict[str, list[str]]:
        """The query as today's route reads it."""
        if not self.renames:
            return query
        renamed: dict[str, list[str]] = {}
        for name, values in query.items():
            renamed.setdefault(self.renames.get(name, name), []).extend(values)
        return renamed

    def fields(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body's fields under today's names, one level into lists of objects
        (unless :attr:`renames_in_lists` is off).

        A key already sent under today's name is left alone: the spec then refuses the
        old one as unknown rather than the fake picking one of the two.
        """
        if not self.renames:
            return body
        renamed = self._renamed(body)
        if not self.renames_in_lists:
            return renamed
        for name, value in renamed.items():
            if isinstance(value, list):
                renamed[name] = [self._renamed(v) if isinstance(v, dict) else v for v in value]
        return renamed

    def _renamed(self, obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.items():
            new = self.renames.get(name, name)
            out[new if new not in obj else name] = value
        return out

    def form_fields(self, raw: bytes, spec: Obj) -> dict[str, Any]:
        """A form-encoded body as the JSON one it stands for: an empty value is a field
        not sent, and a field the spec (by today's name) reads as an integer is one."""
        fields: dict[str, Any] = {}
        for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            if value == "":
                continue
            declared = spec.fields.get(self.renames.get(name, name))
            if declared is not None and isinstance(declared.spec, Int) and _integer(value):
                fields[name] = int(value)
            else:
                fields[name] = value
        return fields

    def adapt(self, answer: Reply) -> Reply:
        """Rewrite today's successful JSON reply into this span's shape."""
        if answer.status >= 400 or answer.content_type != "application/json":
            return answer
        if self.envelope is None and self.rewrite is None and not self.hoist:
            return answer
        payload = json.loads(answer.body)
        if self.envelope is not None and isinstance(payload, dict) and "data" in payload:
            payload = {self.envelope: payload.pop("data"), **payload}
        elif self.hoist and isinstance(payload, dict) and isinstance(payload.get("data"), dict):
            payload = {**payload.pop("data"), **payload}
        if self.rewrite is not None:
            payload = self.rewrite(payload)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return type(answer)(answer.status, body, answer.headers, answer.content_type)


_INTEGER_TEXT = re.compile(r"-?[0-9]{1,300}")


def _integer(text: str) -> bool:
    # ASCII digits only (str.isdigit takes '²' and '١'), and few enough for a float.
    return _INTEGER_TEXT.fullmatch(text) is not None


# ── the releases where the wire changed (each route declares which it follows) ──

LEGACY_ENVELOPES = before("1.61.0")
"""Replies under resource-named keys (``training_run``, ``models``...), not ``data``."""
INTEGER_CREDITS = before("1.1.0")
"""Money in whole legacy credits, not micro-USD."""
BY_NAME_PATHS = before("1.69.44", since="1.61.0")
"""Names addressed as ``/{resource}/by-name/{name}`` (runs, models, datasets, exports)."""
DATASETS_BY_NAME = before("1.69.44")
"""``datasets.get(name)`` as ``/datasets/by-name/{name}``, from the first release."""
GPU_COUNT = before("1.69.106", since="1.67.3")
"""``training.create`` sends ``gpu_count``."""
WORKFLOW_ENDPOINT_ON_CREATE = before("1.69.143", since="1.69.142")
"""``workflows.create`` sends the endpoint's ``region`` and scaling (when not the
defaults): the release served a workflow live on its create."""
WORKFLOW_PREDICT_URL = before("1.69.144", since="1.69.142")
"""A workflow endpoint's ``endpoint_url`` ends in ``/predict`` (its streams open on the
``/sessions`` beside it); from 1.69.144 it ends in ``/sessions``, where they open."""
WORKFLOW_PRECISION = before("1.69.115", since="1.69.113")
"""A workflow's ``compute`` (create, update, and the replies) and a run's (run, invoke)
carry a ``precision``; from 1.69.115 each Model block holds its own (its config's)."""
COMPUTE_TYPES = before("1.69.127")
"""``deployments.create`` sends ``compute_type`` (``cpu`` or ``gpu``); 1.69.127 deploys
on a GPU only and stopped sending it."""
EVALUATED_DATASETS = before("1.66.2")
"""``model_evaluations.create`` names the dataset (``project_id``), not an export."""
EVALUATED_TYPES_BY_RELEASE: Mapping[str, Span] = {
    "classification": since("1.69.73"),
    "semantic_segmentation": since("1.69.74"),
}
"""Model types ``model_evaluations`` scores that arrived after detection and instance
segmentation: older releases' models cannot parse their metrics (``map`` null, no
``miou``), so the fake scores for each release what its API scored."""
DATASET_STORAGE = since("1.4.0")
"""``datasets.storage_status``, ``freeze``, ``restore`` and ``wait_for_storage`` (cold
storage), first sent by 1.4.0 (1.2.0 has none of them)."""
CHARGED_RESTORES = before("1.69.58", since="1.61.0")
"""``DatasetStorageTransition`` reads a restore's fee as ``charged_micro_usd``; 1.69.58
renamed it ``quoted_micro_usd`` when the fee moved to the restore's success. (So do the
releases before 1.61.0, whose wire of the route, the legacy envelope's, says so too.)"""
MODEL_FORKS_BY_ID = before("1.69.44", since="1.5.0")
"""``models.fork(model_id)``, a public model addressed by its id (``models/{id}/fork``);
1.69.44 addresses it by its owner's slug and its own (``models/{organization}/{model}``)."""
MODEL_FORKS_BY_NAME = since("1.69.44")
"""``models.fork(organization, model)``: see :data:`MODEL_FORKS_BY_ID`."""
EXPLORE = since("1.69.124")
"""The public catalog (``explore.*``) and the import of a public dataset
(``datasets.import_public``, ``get_public_import``, ``wait_for_public_import``), first
sent by 1.69.124; no release since has changed their wire."""
PROJECTS = before("1.61.0")
"""Datasets created, read, renamed and deleted as ``/projects/`` (``projects.*``)."""
PROJECT_ARCHIVES = before("1.61.0", since="1.57.0")
"""``projects.archive`` and ``projects.restore`` (``/projects/{name}/archive`` and
``/restore``), which read ``success``, ``project_id`` and ``is_archived`` at the root."""
COMPOUND_EXPORT_PATHS = before("1.61.0")
"""Exports addressed by name as ``/exports/{dataset}/{export}`` (not URL-encoded before
1.7.27, which the router does not mind)."""
FOLDER_UPLOADS = before("1.61.0")
"""Images uploaded with ``dataset_id`` and ``folder_path``, registered with a
form-encoded body that answers a bare ``image_id``, then read back by id."""
IMAGES_BY_ID = before("1.69.44", since="1.61.0")
"""Images and annotations addressed by id (``/images/{id}``, ``/annotations/{id}``), and
datasets by ``dataset_id`` in bodies and the images list (``dataset_name`` from 1.69.30)."""
FOLDER_PATHS = before("1.69.43", since="1.61.0")
"""``folder_path`` where today says ``directory_path`` (for batch's
``target_folder_path``, see :data:`TARGET_FOLDER_PATHS`)."""
IMAGE_ID_PATHS = before("1.69.44")
"""One image and its annotations addressed by the image's id alone (``DELETE
/images/{id}``, ``/images/{id}/review``, ``/annotations/{id}``): the seed era's wire
and the id era's alike, up to 1.69.43."""
FOLDERS = before("1.69.43")
"""The releases of the ``folders`` resource (``client.folders``, on ``/folders/...``):
the API renamed it ``directories`` with SDK 1.69.43 ("the server renamed at the same
time, so 1.69.42 and earlier call an endpoint that no longer exists", its changelog), so
today's API answers those paths with its "No route" 404."""

STORAGE_CONNECTIONS = before("1.69.43", since="1.65.0")
"""The releases of the ``storage`` resource (``client.storage``: a bucket of the
organization's own, connected, browsed and imported from, on ``/storage-connections``),
which 1.69.43 removed ("never exercised by a customer, and it held the
highest-consequence secret in the product", its changelog): today's API serves none of
its paths."""

NEAR_DUPLICATES = since("1.35.0")
"""``datasets.near_duplicates``, first sent by 1.35.0 (1.34.0 has none)."""
VIRTUAL_FOLDER_PATHS = before("1.69.43")
"""Search results and near-duplicate clusters read an image's directory as
``virtual_folder_path`` and a scan's scope as ``folder_path``, and the query names a
directory ``folder_path``: every release before 1.69.43 (search from the first,
``near_duplicates`` from 1.35.0), not only those of :data:`FOLDER_PATHS`."""

DIRECTORY_IDS = (
    before("1.69.44", since="1.69.43", client="sync"),
    before("1.69.48", since="1.69.43", client="async"),
)
"""The directories resource's first releases, which address a dataset and a directory by
id (``/directories/list/{id}``, ``/directories/tree/{id}``, ``/directories/{id}``...):
paths the API never served (the SDK's own docstring says so), answered with its "No
route" 404 whatever the release. The sync client calls the named paths from 1.69.44, the
async one from 1.69.48."""
DIRECTORY_IDS_CREATE = before("1.69.44", since="1.69.43")
"""``directories.create`` names the dataset by ``dataset_id`` (as the id era's bodies
do); the async client kept sending it to 1.69.47, which the API refused (a defect)."""
COMMENTS_HARD_DELETED = before("1.69.70")
"""Annotation comments before threads: the API deleted a comment outright, and the
model these releases parse has no ``is_deleted``, so a deleted comment is left out of
their listing rather than shown as a live one with an empty body."""
TARGET_FOLDER_PATHS = before("1.69.43")
"""Batch moves and copies send ``target_folder_path`` and every batch reply is read for
``affected_folders``: the batch wire did not change at 1.61, only at 1.69.43."""


# ── values of a field that only some releases' API took ──


@dataclass(frozen=True)
class Vocabulary:
    """The values of one request field (today's name) that only some releases' API took.

    ``spans`` maps each such value to the releases whose API took it; a value not named
    there is taken by every release. A route names its vocabularies
    (``@endpoint(values=...)``); a caller whose release is outside a value's span is
    refused before the handler runs, as that release's API refused a value it did not
    know, so the fake never answers a release with a value its models cannot parse
    (a run on ``auto``, a ``rfdetr_keypoint`` run, an export in ``yolo_pose``...).
    """

    name: str
    spans: Mapping[str, Span]
    refuse: Callable[[str], ApiRefusal] | None = None
    """The refusal, when the API's is not the 422 of an unknown literal."""
    parsed: Mapping[str, Span] = field(default_factory=dict)
    """Values every release's API took but only some releases' models parse: the API
    answers them all the same, and a newer SDK fails to read the reply."""

    def readable(self, value: str, version: Version, client: Client = "sync") -> bool:
        """Whether ``version``'s API takes ``value`` and its models parse a reply holding it."""
        return all(
            span.holds(version, client)
            for span in (self.spans.get(value), self.parsed.get(value))
            if span is not None
        )

    def refusal(
        self,
        value: object,
        version: Version,
        client: Client,
        allowed: tuple[str, ...],
        loc: tuple[str, ...],
    ) -> ApiRefusal | None:
        """The refusal of ``value`` from ``version``, or ``None`` when its API took it.

        ``allowed`` is the route's declared enum; the field error lists those of them
        the release's API took.
        """
        span = self.spans.get(value) if isinstance(value, str) else None
        if span is None or span.holds(version, client):
            return None
        assert isinstance(value, str)
        if self.refuse is not None:
            return self.refuse(value)
        took = tuple(
            v for v in allowed if v not in self.spans or self.spans[v].holds(version, client)
        )
        return InvalidRequest(
            messages.RELEASE_VALUE.format(
                name=self.name, value=value, span=span, version=format_version(version)
            ),
            errors=[
                field_error(
                    (*loc, self.name),
                    f"Input should be {messages.choices(took)}",
                    "literal_error",
                )
            ],
        )


PIPELINES_BY_RELEASE = Vocabulary(
    "pipeline_type",
    {"rfdetr_keypoint": since("1.67.16")},
    parsed={"detectron2": before("1.8.1")},
)
"""Training pipelines that arrived after 1.0.0 (``TrainingRun.pipeline_type``). The
classic profile's ``detectron2`` is still taken from every release, as the training
guide's API did, but left the SDK's ``PipelineType`` literal at 1.8.1: later releases
cannot parse a run (or quote) that holds it."""
GPU_TYPES_BY_RELEASE = Vocabulary("gpu_type", {"auto": since("1.67.3")})
"""``gpu_type="auto"`` (resolved to a tier at create), from 1.67.3."""
EXPORT_FORMATS_BY_RELEASE = Vocabulary(
    "format",
    {
        "darwin": since("1.4.0"),
        "datumaro": since("1.45.0"),
        "yolo_obb": since("1.63.0"),
        "dota": since("1.63.0"),
        "yolo_pose": since("1.64.0"),
    },
)
"""Dataset export formats after the first seven (``Export.format``)."""
MODEL_FORMATS_BY_RELEASE = Vocabulary(
    "format", {"safetensors": since("1.67.9"), "pte": since("1.69.1"), "engine": since("1.69.1")}
)
"""Model download formats after ``onnx`` and ``pytorch``."""


ROLES_BY_RELEASE = Vocabulary("role", {"annotator": since("1.69.69")})
"""Member and invite roles after the first four (``OrganizationRole``, ``InviteRole``)."""
INVITE_STATUSES_BY_RELEASE = Vocabulary("status", {"declined": since("1.69.91")})
"""Invite statuses after the first four (``InviteStatus``)."""


OPERATIONS_BY_RELEASE = Vocabulary(
    "operation",
    {
        "image_generate_imagen_fast": before("1.69.93"),
        "sam3_per_minute": before("1.1.0"),
        "image_inference": before("1.1.0"),
    },
    refuse=unknown_operation,
)
"""Operations ``credits.estimate`` priced for some releases only: Imagen 4 Fast was
retired on 2026-09-08 (SDK 1.69.93 stopped naming it), and the API has answered its
slug with ``400 Unknown operation`` since; SDK 1.0.x's ``sam3_per_minute`` and
``image_inference`` became ``sam3_auto_annotation`` and ``inference_t4`` in 1.1.0."""


# ── calls that failed against the API in their day too ──


@dataclass(frozen=True)
class Defect:
    """Calls of some releases that the API of their day could not answer as they expected.

    The fake answers them as that API did (it serves no wire the API did not), so code
    that works here works there. The SDK versions page lists them, and ``tests/matrix``
    pins each failure through the releases themselves.
    """

    span: Span
    calls: tuple[str, ...]
    failure: str
    """What the caller sees."""
    cause: str
    """Why, and the release that fixed it."""


SDK_DEFECTS = (
    Defect(
        STORAGE_CONNECTIONS,
        (
            "storage.connect / list / get / delete / browse / import_images / get_import / "
            "cancel_import / wait_for_import",
        ),
        "`NotFoundError` (404)",
        "call `/storage-connections/...`, which the API no longer serves: SDK 1.69.43 "
        "removed `client.storage` (its changelog); `client.connectors` imports from V7 and "
        "Roboflow",
    ),
    Defect(
        before("1.66.1", since="1.66.0"),
        ("annotations.interpolate_track / clear_track",),
        "`ValidationError` (422)",
        "post to `/annotations/tracks/interpolate` and `/tracks/clear`, which the API "
        "never served: its `annotations/{dataset}/{path}` route reads them as annotations "
        "saved to image `interpolate` of a dataset `tracks`, and refuses the body; 1.66.1 "
        "removed both methods",
    ),
    Defect(
        before("1.67.17", since="1.67.16"),
        ("models.get / list / iter once a keypoint model exists",),
        "`ServerError` (the reply does not parse)",
        "cannot parse `model_type: keypoint_detection`: 1.67.16 added `rfdetr_keypoint` "
        "to `PipelineType` but not `keypoint_detection` to `ModelType`; 1.67.17 did",
    ),
    Defect(
        before("1.69.90"),
        ("connectors.get_import / wait_for_import / cancel_import of a cancelled import",),
        "`ServerError`",
        "cannot parse a dataset row `cancelled`, as the API records a dataset a cancel "
        "cut short, since their `DatasetImportStatus` lacks it; 1.69.90 takes it (its "
        "changelog)",
    ),
    Defect(
        FOLDERS,
        ("folders.list / tree / stats / create / delete / rename",),
        "`NotFoundError` (404)",
        "call `/folders/...`, which the API renamed `/directories/...` along with SDK "
        "1.69.43 (its changelog), so no release's `folders` reaches today's API; "
        "`client.directories` replaces it",
    ),
    Defect(
        DIRECTORY_IDS[0],
        ("directories.list / tree / stats / delete / rename",),
        "`NotFoundError` (404)",
        "call `/directories/list/{id}`, `/directories/tree/{id}` and `/directories/{id}`, "
        "which the API never served (stats, delete and rename first resolve the path "
        "through list); 1.69.44 calls `/directories/{dataset}/{path}`",
    ),
    Defect(
        DIRECTORY_IDS[1],
        ("directories.list / tree / stats / delete / rename",),
        "`NotFoundError` (404)",
        "call the id-addressed paths above, as the sync client did; fixed in 1.69.48",
    ),
    Defect(
        before("1.69.48", since="1.69.44", client="async"),
        ("directories.create",),
        "`ValidationError` (422)",
        "sends `dataset_id`, which the API stopped taking when the sync client moved to "
        "`dataset` (1.69.44); fixed in 1.69.48",
    ),
    Defect(
        before("1.69.92", since="1.69.44", client="sync"),
        ("images.get(dataset, <image id>)",),
        "`UnicodeDecodeError`",
        "reads `GET /images/{id}`, which serves the image's bytes, as JSON; 1.69.92 reads "
        "`/images/{id}/metadata` (its changelog)",
    ),
    Defect(
        before("1.69.79", since="1.69.44", client="sync"),
        (
            "images.download / download_bundle / delete / review / set_split",
            "annotations.get / save / delete",
        ),
        "`UnicodeDecodeError`, given an image's id (its filename works)",
        "resolve the id to the image's path through `GET /images/{id}` (the bytes); "
        "1.69.79 asks `/images/{id}/metadata`",
    ),
    Defect(
        before("1.69.49", since="1.69.44", client="async"),
        ("images.upload / bulk_upload / upload_from_directory",),
        "`ValidationError` (422)",
        "send `dataset_id`, which the upload routes stopped taking when the sync client "
        "moved to `dataset` (1.69.44); fixed in 1.69.49",
    ),
    Defect(
        before("1.69.48", since="1.69.44", client="async"),
        (
            "images.bulk_tag / assign_splits",
            "annotations.rename_class / merge_class / delete_class",
        ),
        "`ValidationError` (422)",
        "send `dataset_id` (as above); fixed in 1.69.48",
    ),
    Defect(
        before("1.69.48", since="1.69.44", client="async"),
        ("images.delete / review / set_split", "annotations.get / save / delete"),
        "`NotFoundError` (404)",
        "resolve the image to its id and call `/images/{id}` and `/annotations/{id}`, "
        "routes the API no longer served (the SDK's B290); 1.69.48 calls the path routes",
    ),
    Defect(
        before("1.69.79", since="1.69.48", client="async"),
        ("images.delete / review / set_split", "annotations.get / save / delete"),
        "`UnicodeDecodeError`, given an image's id (its filename works)",
        "resolve the id through `GET /images/{id}` (the bytes), as the sync client did; "
        "fixed in 1.69.79",
    ),
)
"""Why the fake does not serve these releases the wire they send: the API never did."""
