"""The OpenAPI document of the fake's routes, generated from the route table.

Every operation comes from one :class:`~pictograph_testing.api.table.Endpoint`: its path,
parameters and request body from the endpoint's declared specs (so what is documented is
what is enforced), its reply from the endpoint's reply shape. Reply objects are the SDK's
own pydantic models where the SDK has one (``TypeAdapter``-style JSON schemas, validation
mode: what the SDK accepts), so a change to a model in the SDK shows up here; the few
replies the SDK reads as plain dicts are described in :data:`WIRE_SCHEMAS`.

Routes only some SDK releases call carry ``x-sdk-releases`` (``since``, ``until``); the
older paths of a route (its aliases: ``/training/by-name/{run}``, ``/projects/``...) are
deprecated operations of their own that name the route they stand for (``x-alias-of``).

The offline server serves the document at ``GET /_fake/openapi.json`` and
``FakePictograph.openapi()`` returns it; CI runs schemathesis against the server with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic.json_schema import models_json_schema

from pictograph_testing.api.dialects import format_version
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.api.route_paths import API_PREFIX, API_ROOT
from pictograph_testing.api.table import ALL_RELEASES, WRITES, Bare, Bytes, Data, Page
from pictograph_testing.catalog import PIPELINES
from pictograph_testing.world.storage import STORAGE_PREFIX

if TYPE_CHECKING:
    from pictograph_testing.api.dialects import Span
    from pictograph_testing.api.spec import Param
    from pictograph_testing.api.table import Endpoint

__all__ = [
    "ALWAYS",
    "OPENAPI_VERSION",
    "RESOURCE_ORDER",
    "STORAGE_ROUTES",
    "WIRE_SCHEMAS",
    "document_path",
    "openapi_document",
    "openapi_path",
    "sdk_models",
]

Schema = dict[str, Any]
OPENAPI_VERSION = "3.1.0"
ALWAYS = (401, 404, 422, 429)
"""Errors every authenticated route may answer: a bad key, an unknown name, a bad request,
a rate limit (the API limits every route)."""
RESOURCE_ORDER = (
    "training",
    "credits",
    "models",
    "model-evaluations",
    "datasets",
    "images",
    "directories",
    "annotations",
    "annotation-comments",
    "tasks",
    "search",
    "batch",
    "exports",
    "notifications",
    "jobs",
    "webhooks",
    "deployments",
    "tools",
    "workflows",
    "organizations",
    "api_keys",
)
_STATUS_TEXT = {
    400: "The request cannot be carried out as sent",
    401: "No API key, or an unknown one",
    402: "Not enough credit",
    403: "The key's role may not do this",
    404: "No such route, or no such thing",
    409: "Conflicts with the world's state",
    413: "The request body is too large",
    422: "The request failed validation",
    429: "Capacity or rate limit reached; see Retry-After",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A reply object: these keys (required first); others may come too."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:
        schema["required"] = list(required)
    return schema


def _list(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def _null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_S: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_BOOL: Schema = {"type": "boolean"}
_OBJECT: Schema = {"type": "object"}
_DOWNLOAD = _obj({"download_url": _S}, {"filename": _S, "content_type": _S})

WIRE_SCHEMAS: dict[str, Schema] = {
    "Error": _obj(
        {"error": _obj({"code": _S, "message": _S, "details": _OBJECT}), "detail": {}},
    ),
    "Pagination": _obj(
        {
            "limit": {"type": "integer", "minimum": 1},
            "offset": {"type": "integer", "minimum": 0},
            "total": _INT,
            "has_more": _BOOL,
        }
    ),
    "CreditHistory": _obj(
        {
            "entries": _list(_ref("CreditLedgerEntry")),
            "limit": _INT,
            "offset": _INT,
            "pagination": _ref("Pagination"),
        }
    ),
    "Deleted": _obj({"id": _S, "name": _S, "deleted": _BOOL}),
    # SAM3's point prompt answers its one annotation under ``annotation``, which the SDK
    # wraps into a PromptResult's list itself.
    "PointPrompt": _obj(
        {"status": _S},
        {
            "annotation": {},
            "score": {"type": ["number", "null"]},
            "inference_time": {"type": "number"},
        },
    ),
    "ExportDeleted": _obj({"success": _BOOL, "message": _S}),
    "DatasetDeleted": _obj(
        {"id": _S, "name": _S, "deleted": _BOOL, "images_deleted": _INT},
        {"directories_deleted": _INT},
    ),
    "DatasetDownload": _obj(
        {
            "id": _S,
            "items": _list(
                _obj(
                    {"id": _S, "filename": _S},
                    {
                        "directory_path": _S,
                        "file_size": _null(_INT),
                        "annotation_count": _INT,
                        "image_url": _null(_S),
                        "annotation_url": _null(_S),
                    },
                )
            ),
            "total_items": _INT,
        }
    ),
    "UploadUrl": _obj(
        {"upload_url": _S, "filename": _S, "directory_path": _S}, {"expires_in_minutes": _INT}
    ),
    "BulkUploadUrls": _obj(
        {"upload_urls": _list(_obj({"upload_url": _S, "filename": _S, "directory_path": _S}))},
        {"expires_in_minutes": _INT},
    ),
    "BulkRegisterResult": _obj(
        {
            "succeeded": _list(_ref("Image")),
            "failed": _list(_obj({"filename": _S, "error": _S}, {"directory_path": _S})),
            "count": _INT,
        }
    ),
    "SplitCounts": _OBJECT,
    "DirectoryList": _list(_ref("Directory")),
    "AnnotationCommentReply": _obj({"comment": _ref("AnnotationComment")}),
    "AnnotationCommentList": _obj({"comments": _list(_ref("AnnotationComment"))}),
    "AnnotationCommentDeleted": _obj({"success": _BOOL, "id": _S}),
    "DirectoryTree": _list(_ref("DirectoryTreeNode")),
    "DirectoryDeleted": _obj({"success": _BOOL, "directory_id": _S, "images_moved": _INT}),
    "SimilarImages": _obj(
        {"results": _list(_ref("SimilarImage")), "count": _INT},
        {"threshold": {"type": "number"}, "query_image_id": _S},
    ),
    "TaggedImages": _obj(
        {"results": _list(_ref("TaggedImage")), "count": _INT},
        {
            "filters": _obj(
                {},
                {
                    "objects": _null(_list(_S)),
                    "scenes": _null(_list(_S)),
                    "attributes": _null(_list(_S)),
                    "dataset_name": _null(_S),
                },
            ),
            "pagination": _obj({"limit": _INT, "offset": _INT}),
        },
    ),
    "BulkTagResult": _obj({"processed": _INT, "tags": _list(_S), "added": _BOOL}),
    "ImageDeleted": _obj({"success": _BOOL, "message": _S}),
    "ReviewResult": _obj({"id": _S, "status": _S, "review_note": _null(_S), "processed": _INT}),
    "SplitResult": _obj({"id": _S, "split": _null(_S), "processed": _INT}),
    "ModelDownload": _obj(
        {"download_url": _S, "filename": _S},
        {"model_name": _S, "content_type": _S, "version_id": _S},
    ),
    "ModelFileDownload": _DOWNLOAD,
    "ExportDownload": _obj(
        {"download_url": _S, "filename": _S}, {"content_type": _S, "file_size": _INT}
    ),
    "OrganizationReply": _obj({"organization": _ref("Organization")}),
    "MemberList": _obj({"members": _list(_ref("OrganizationMember"))}),
    "MemberRoleChanged": _obj({"member": _obj({"id": _S, "role": _S})}),
    "MemberRemoved": _obj({"success": _BOOL, "member_id": _S}),
    "InviteList": _obj({"invites": _list(_ref("OrganizationInvite"))}),
    "InviteReply": _obj({"invite": _ref("OrganizationInvite")}),
    "InviteRevoked": _obj({"success": _BOOL, "invite_id": _S}),
    "ApiKeyList": _obj({"api_keys": _list(_ref("ApiKey"))}, {"success": _BOOL}),
    "ApiKeyReply": _obj({"api_key": _ref("ApiKey")}, {"success": _BOOL}),
    "ApiKeyDeleted": _obj({"success": _BOOL}, {"message": _S}),
    "ConnectorImportStarted": _obj(
        {
            "import_id": _S,
            "job": _S,
            "status": {"const": "started"},
            "datasets": _list(_obj({"name": _S, "project_id": _S, "dataset_id": _S})),
        }
    ),
    "ConnectorImportCancelled": _obj({"status": _S, "import_id": _S, "job": _S}),
    "UnreadCount": _obj({"unread_count": {"type": "integer", "minimum": 0}}),
    "MarkedRead": _obj({"success": _BOOL, "marked_count": {"type": "integer", "minimum": 0}}),
    "NotificationRead": _obj({"success": _BOOL, "id": _S, "read": _BOOL}),
    "NotificationDeleted": _obj({"success": _BOOL, "notification_id": _S, "message": _S}),
    "AnnotationFile": _obj({"image": _S, "annotations": _list(_OBJECT)}),
    "ImageAnnotations": _obj(
        {"image_id": _S, "annotations": _list(_OBJECT)},
        {"success": _BOOL, "filename": _S, "annotation_count": _INT},
    ),
    "SaveResult": _obj(
        {"image_id": _S, "previous_count": _INT, "new_count": _INT, "status": _S},
        {"success": _BOOL},
    ),
    "BulkSaveResult": _obj(
        {"saved": _list(_ref("SaveResult")), "failed": _list(_OBJECT)}, {"success": _BOOL}
    ),
    "AnnotationsDeleted": _obj(
        {"image_id": _S, "deleted_count": _INT}, {"success": _BOOL, "message": _S}
    ),
    "ClassEdit": _OBJECT,
    "WebhookEventTypes": _obj({"event_types": _list(_S)}),
    "WebhookEndpointList": _obj({"endpoints": _list(_ref("WebhookEndpoint"))}),
    "WebhookEndpointReply": _obj({"endpoint": _ref("WebhookEndpoint")}, {"success": _BOOL}),
    "WebhookEndpointDeleted": _obj({"success": _BOOL, "id": _S, "deleted": _BOOL}),
    "WebhookTestResult": _obj(
        {"success": _BOOL, "delivered": _BOOL, "status_code": _null(_INT), "error": _null(_S)},
        {"event_type": _S, "delivery_id": _S},
    ),
    "WebhookReplayed": _obj({"success": _BOOL, "id": _S, "status": _S}),
    "EvaluationEnvelope": _obj({"evaluation": _ref("ModelEvaluation")}),
    "EvaluationReport": _obj({"report": _OBJECT}),
    "DeploymentReply": _obj({"deployment": _ref("Deployment")}, {"success": _BOOL}),
    "DeploymentQuoteReply": _obj({"quote": _ref("DeploymentQuote")}, {"success": _BOOL}),
    "Success": _obj({"success": _BOOL}),
    "WorkflowReply": _obj({"workflow": _ref("Workflow")}, {"success": _BOOL}),
    "WorkflowList": _obj({"workflows": _list(_ref("Workflow"))}),
    "WorkflowTemplateList": _obj({"templates": _list(_ref("WorkflowTemplate"))}),
    "WorkflowRunReply": _obj({"run": _ref("WorkflowRun")}),
}
"""Replies the SDK reads as plain dicts (it has no model for them)."""


def sdk_models() -> dict[str, type[Any]]:
    """The SDK's pydantic models that describe the fake's replies, by component name."""
    from pictograph.models import (
        annotation_comment,
        api_key,
        auto_annotate,
        batch,
        common,
        connector,
        credit,
        dataset,
        deployment,
        directory,
        evaluation,
        explore,
        export,
        image,
        insights,
        job,
        model,
        near_duplicates,
        notification,
        organization,
        sam3,
        search,
        task,
        tool,
        training,
        video,
        webhook,
        workflow,
    )

    classes: list[type[Any]] = [
        training.TrainingRun,
        training.TrainingQuote,
        credit.CreditBalance,
        credit.CreditEstimate,
        credit.CreditLedgerEntry,
        credit.UsageByOperation,
        model.Model,
        model.ModelVersionsPayload,
        model.ModelFileManifest,
        model.ModelPredictResult,
        evaluation.ModelEvaluation,
        dataset.Dataset,
        dataset.DatasetStorageStatus,
        dataset.DatasetStorageTransition,
        explore.PublicDataset,
        explore.PublicModel,
        explore.PublicDatasetImport,
        connector.ValidationResult,
        connector.LimitCheckResult,
        connector.ImportJob,
        insights.DatasetInsights,
        image.Image,
        directory.Directory,
        directory.DirectoryTreeNode,
        directory.DirectoryStats,
        annotation_comment.AnnotationComment,
        search.SimilarImage,
        search.TaggedImage,
        task.Task,
        task.TaskContributions,
        tool.ToolSummary,
        tool.ToolCard,
        near_duplicates.NearDuplicatesResult,
        batch.BatchResult,
        batch.CopyToDatasetResult,
        export.Export,
        notification.Notification,
        job.Job,
        common.BulkDeleteResult,
        common.BulkActionResult,
        webhook.WebhookEndpoint,
        webhook.CreatedWebhookEndpoint,
        webhook.WebhookDelivery,
        deployment.Deployment,
        deployment.CreatedDeployment,
        deployment.DeploymentQuote,
        deployment.DeploymentComputeOptions,
        organization.Organization,
        organization.OrganizationMember,
        organization.OrganizationInvite,
        api_key.ApiKey,
        api_key.CreatedApiKey,
        video.VideoUploadInfo,
        video.VideoMetadata,
        video.VideoExtractionJob,
        auto_annotate.BatchJob,
        auto_annotate.BatchQuote,
        auto_annotate.PromptResult,
        auto_annotate.SimilarQuote,
        sam3.Sam3Prediction,
        workflow.Workflow,
        workflow.WorkflowComputeOptions,
        workflow.WorkflowNodeCatalog,
        workflow.WorkflowTemplate,
        workflow.WorkflowValidation,
        workflow.WorkflowUploadInfo,
        workflow.WorkflowRun,
        workflow.WorkflowRunCreated,
        workflow.WorkflowRunSummary,
        workflow.RunLogPage,
        workflow.RunLogSummary,
    ]
    return {cls.__name__: cls for cls in classes}


def _sdk_schemas() -> dict[str, Schema]:
    models = sdk_models()
    _, document = models_json_schema(
        [(cls, "validation") for cls in models.values()],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Schema] = document.get("$defs", {})
    for schema in schemas.values():
        pipeline = schema.get("properties", {}).get("pipeline_type")
        if pipeline is not None and "enum" in pipeline:
            # The API still sends runs (and quotes) of pipelines the SDK's models no
            # longer name (detectron2, in the classic profile, which newer SDKs fail to
            # read): a reply may name any pipeline the API knows.
            pipeline["enum"] = sorted(PIPELINES)
    clash = set(schemas) & set(WIRE_SCHEMAS)
    if clash:
        raise RuntimeError(f"SDK models and wire schemas share names: {sorted(clash)}")
    return schemas


STORAGE_ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "GET",
        "Download from a signed URL (model weights, export zips, image bytes); no key",
        ("models.download", "models.download_file", "exports.download", "datasets.download"),
    ),
    (
        "PUT",
        "Upload an image's bytes to a signed URL; no key",
        ("images.upload", "images.bulk_upload", "images.upload_from_directory"),
    ),
)
"""The signed-URL routes: storage, not the API (no key, XML errors, served by ``api/app``)."""


def openapi_path(endpoint: Endpoint) -> str:
    """The endpoint's path as the document writes it (``{path...}`` becomes ``{path}``)."""
    return document_path(endpoint.path)


def document_path(template: str) -> str:
    """A route template as the document writes it: under the API prefix, ``{name}`` for
    ``{name:uuid}`` and ``{name...}``."""
    path = template.replace(":uuid}", "}").replace("...}", "}")
    # A route outside the developer API is written in full.
    return path if path.startswith("/") else API_PREFIX + path


def openapi_document(base_url: str | None = None) -> dict[str, Any]:
    """Build the OpenAPI 3.1 document; ``base_url`` becomes its one server."""
    order = {name: i for i, name in enumerate(RESOURCE_ORDER)}
    paths: dict[str, dict[str, Any]] = {}
    endpoints = sorted(ENDPOINTS, key=lambda e: order.get(e.resource.replace("-", "_"), len(order)))
    for endpoint in endpoints:
        paths.setdefault(openapi_path(endpoint), {})[endpoint.method.lower()] = _operation(endpoint)
    for endpoint in endpoints:
        for alias, span in endpoint.aliases:
            item = paths.setdefault(document_path(alias), {})
            if endpoint.method.lower() in item:
                raise ValueError(f"{endpoint.method} {alias}: an alias names a documented route")
            item[endpoint.method.lower()] = _alias_operation(endpoint, alias, span)
    # A signed URL is the token, then the file's name (percent-encoded: one segment).
    signed = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("token", "filename")
    ]
    storage = paths.setdefault(STORAGE_PREFIX + "{token}/{filename}", {})
    for method, summary, sdk in STORAGE_ROUTES:
        storage[method.lower()] = _storage_operation(method, summary, sdk, signed)
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Pictograph developer API (pictograph-testing fake)",
            "version": "1.69.146",
            "description": (
                "The routes the pictograph-testing fake serves, as the pictograph SDK "
                "1.69.146 calls them, generated from the fake's route table. Control routes "
                "under /_fake/ are not part of it."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {**_sdk_schemas(), **WIRE_SCHEMAS},
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{"ApiKey": []}],
    }
    if base_url is not None:
        document["servers"] = [{"url": base_url.rstrip("/")}]
    return document


def _operation_id(method: str, template: str) -> str:
    name = template.removeprefix(API_ROOT).strip("/").replace("/", "_")
    for token in ("{", "}", ":uuid", "..."):
        name = name.replace(token, "")
    return f"{method.lower()}_{name}".replace("-", "_")


def _alias_operation(endpoint: Endpoint, alias: str, span: Span) -> dict[str, Any]:
    """An older path of ``endpoint``: deprecated, served to the releases that send it.

    It names the route it stands for (``x-alias-of``) rather than repeating its body,
    query and reply: those are that route's, in the calling release's dialect.
    """
    today = f"{endpoint.method} {openapi_path(endpoint)}"
    return {
        "operationId": _operation_id(endpoint.method, alias),
        "summary": f"{endpoint.summary} [SDK {span}]",
        "description": (
            f"`{today}` as SDK releases {span} call it. The fake serves this path to those "
            "releases only (read from the User-Agent, or the fake's `sdk_version`); any "
            "other caller gets a 404. The query, body and reply are those of "
            f"`{today}`, in the calling release's dialect (see the SDK versions page)."
        ),
        "deprecated": True,
        "tags": [endpoint.resource],
        "x-sdk-methods": list(endpoint.sdk),
        "x-alias-of": today,
        "x-sdk-releases": _releases(span),
        "parameters": [_path_parameter(alias, p) for p in _params(alias)],
        "responses": {
            str(endpoint.status): {"description": f"As `{today}` answers the calling release"},
            **{
                str(status): {
                    "description": _STATUS_TEXT[status],
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
                for status in sorted({*ALWAYS, *endpoint.errors})
            },
        },
    }


def _releases(span: Span) -> dict[str, str]:
    """``x-sdk-releases``: the first release that calls a route, and the first that no
    longer does (absent while every newer release still does)."""
    releases = {"since": format_version(span.since)}
    if span.until is not None:
        releases["until"] = format_version(span.until)
    if span.client is not None:
        releases["client"] = span.client
    return releases


def _params(template: str) -> list[str]:
    return [
        segment.strip("{}").split(":")[0].removesuffix("...")
        for segment in template.split("/")
        if segment.startswith("{")
    ]


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint.method, endpoint.path),
        "summary": endpoint.summary,
        "tags": [endpoint.resource],
        "x-sdk-methods": list(endpoint.sdk),
        "parameters": [
            *(_path_parameter(endpoint.path, p) for p in endpoint.params),
            *(_query_parameter(p) for p in endpoint.query),
        ],
        "responses": _responses(endpoint),
    }
    if endpoint.role is not None:
        operation["x-role"] = endpoint.role
    if endpoint.span != ALL_RELEASES:
        operation["x-sdk-releases"] = _releases(endpoint.span)
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": not endpoint.body_optional,
            "content": {"application/json": {"schema": endpoint.body.schema()}},
        }
    return operation


# A path segment that is not `.` or `..` (clients remove those dot segments before a
# request leaves them; `.hidden` is a name like any other), written without lookarounds,
# which not every tool that reads the pattern takes.
_SEGMENT = r"([^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)"


def _path_parameter(template: str, name: str) -> dict[str, Any]:
    schema: Schema = {"type": "string", "minLength": 1, "pattern": f"^{_SEGMENT}$"}
    description = None
    if f"{{{name}:uuid}}" in template:
        schema = {"type": "string", "format": "uuid"}
    elif f"{{{name}...}}" in template:
        description = "One or more path segments: a directory path and a file name."
        schema = {"type": "string", "minLength": 1, "pattern": f"^{_SEGMENT}(/{_SEGMENT})*$"}
    entry: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
    if description is not None:
        entry["description"] = description
    return entry


def _query_parameter(param: Param) -> dict[str, Any]:
    schema = param.spec.schema()
    if param.default is not None:
        schema["default"] = param.default
    entry: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "schema": schema,
    }
    if schema.get("type") == "array":
        # Repeated, one value per item (`objects=car&objects=bus`), as the SDK sends lists.
        entry["style"], entry["explode"] = "form", True
    if param.description is not None:
        entry["description"] = param.description
    return entry


def _reply_schema(endpoint: Endpoint) -> Schema:
    shape = endpoint.reply
    if isinstance(shape, Data):
        return _obj({"data": _ref(shape.schema)})
    if isinstance(shape, Page):
        return _obj({shape.key: _list(_ref(shape.schema)), "pagination": _ref("Pagination")})
    if isinstance(shape, Bare):
        return _ref(shape.schema)
    raise TypeError(f"{shape!r} is not JSON")


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    if isinstance(endpoint.reply, Bytes):
        success: dict[str, Any] = {
            "description": "OK",
            "content": {endpoint.reply.media: {"schema": {"type": "string", "format": "binary"}}},
        }
    else:
        success = {
            "description": "OK",
            "content": {"application/json": {"schema": _reply_schema(endpoint)}},
        }
    responses: dict[str, Any] = {str(endpoint.status): success}
    statuses = {*ALWAYS, *endpoint.errors}
    if endpoint.role is not None:
        statuses.add(403)
    if endpoint.body is not None or endpoint.method in WRITES:
        statuses.add(413)  # any request body over the API's limit (`MAX_BODY_BYTES`)
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses


def _storage_operation(
    method: str, summary: str, sdk: tuple[str, ...], parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": "OK",
        # The file's own type: application/zip, image/jpeg, application/octet-stream...
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_storage",
        "summary": summary,
        "tags": ["storage"],
        "x-sdk-methods": list(sdk),
        "security": [],
        "parameters": parameters,
        "responses": {
            "200": success
            if method == "GET"
            else {"description": "Stored", "content": {"text/plain": {"schema": _S}}},
            # Storage speaks XML, as object stores do.
            **{
                str(status): {
                    "description": "Storage refused the request",
                    "content": {"application/xml": {"schema": _S}},
                }
                # 413: a PUT over what its signed URL takes.
                for status in ((403, 404) if method == "GET" else (403, 404, 413))
            },
        },
    }
    if method == "PUT":
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    return operation
