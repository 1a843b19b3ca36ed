"""Every validation rule, with its message: a 4xx with the error envelope and field
errors, and the world left exactly as it was. Raw HTTP is for what the SDK never sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ValidationError

from pictograph_testing import FakePictograph
from pictograph_testing.api.app import MAX_BODY_BYTES
from pictograph_testing.api.messages import LONE_SURROGATE, REQUEST_BODY, TOO_DEEP
from pictograph_testing.bounds import MAX_JSON_DEPTH
from tests.conftest import DATASET, EXPORT
from tests.invariants import fingerprint

if TYPE_CHECKING:
    import pictograph

DEV = "/api/v1/developer"
CREATE = {
    "dataset_name": DATASET,
    "export_name": EXPORT,
    "pipeline_type": "yolox",
    "gpu_type": "a10g",
    "name": "run",
}


@pytest.fixture
def http(fake: FakePictograph) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as client:
        yield client


def refused(
    fake: FakePictograph,
    send: Any,
    *,
    status: int,
    message: str,
    loc: list[str] | None = None,
    code: str = "validation_error",
) -> dict[str, Any]:
    """Send, and check the refusal: status, envelope, message, field error, no change."""
    before = fingerprint(fake.world)
    response: httpx.Response = send()
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] == message
    if loc is not None:
        assert loc in [e["loc"] for e in error["details"]["errors"]]
        assert response.json()["detail"] == error["details"]["errors"]  # legacy shape too
    assert fingerprint(fake.world) == before, "a refused request changed the world"
    assert not fake.server_errors
    return error  # type: ignore[no-any-return]


# ── names ──

NAME_MESSAGE = "'{field}' must be 1 to 100 characters and not blank."


@pytest.mark.parametrize("name", ["", " ", "\t \n", "x" * 101, "é" * 101, "🚦" * 101])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/training/", CREATE, "name"),
        ("/datasets/", {}, "name"),
        ("/exports/", {"dataset_name": DATASET}, "name"),
    ],
)
def test_names_are_1_to_100_characters_and_not_blank(
    fake: FakePictograph, http: httpx.Client, path: str, body: dict[str, Any], field: str, name: str
) -> None:
    refused(
        fake,
        lambda: http.post(DEV + path, json={**body, field: name}),
        status=422,
        message=NAME_MESSAGE.format(field=field),
        loc=["body", field],
    )


def test_renames_follow_the_same_rule(
    fake: FakePictograph, client: pictograph.Client, http: httpx.Client
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m")
    assert run.model_id is not None
    refused(
        fake,
        lambda: http.patch(f"{DEV}/models/{run.model_id}", json={"name": "x" * 101}),
        status=422,
        message=NAME_MESSAGE.format(field="name"),
        loc=["body", "name"],
    )
    refused(
        fake,
        lambda: http.patch(f"{DEV}/datasets/{DATASET}", json={"new_name": " "}),
        status=422,
        message=NAME_MESSAGE.format(field="new_name"),
        loc=["body", "new_name"],
    )


_NAMING_CALLS: dict[str, Callable[[pictograph.Client, str, str], object]] = {
    "datasets.create": lambda c, _model, name: c.datasets.create(name),
    "datasets.update": lambda c, _model, name: c.datasets.update(DATASET, new_name=name),
    "exports.create": lambda c, _model, name: c.exports.create(DATASET, name, wait=False),
    "training.create": lambda c, _model, name: c.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False
    ),
    "models.update": lambda c, model, name: c.models.update(model_id=model, new_name=name),
    "models.fork": lambda c, model, name: c.models.fork(_org(c), model, name=name),
    "deployments.create": lambda c, model, name: c.deployments.create(model, name=name),
    "deployments.update": lambda c, _model, name: c.deployments.update("live", name=name),
}
"""Every SDK call that names something, sending ``name`` as that name."""


def _org(client: pictograph.Client) -> str:
    return client.organizations.me().id


@pytest.mark.parametrize("name", [".", ".."])
@pytest.mark.parametrize("call", list(_NAMING_CALLS))
def test_dot_names_are_refused_where_anything_is_named(
    fake: FakePictograph, client: pictograph.Client, call: str, name: str
) -> None:
    # The SDK puts names in URL paths, where `.` and `..` are resolved away before the
    # request leaves: whatever bore such a name could never be looked up by it.
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m")
    assert run.model_id is not None
    client.models.update(model_id=run.model_id, visibility="public")
    client.deployments.create(run.model_id, name="live")
    before = fingerprint(fake.world)

    with pytest.raises(ValidationError) as caught:
        _NAMING_CALLS[call](client, run.model_id, name)

    assert caught.value.status_code in (400, 422)
    assert f"cannot be '{name}'" in caught.value.message
    assert "Choose a name with other characters" in caught.value.message
    assert fingerprint(fake.world) == before, "a refused name changed the world"


async def test_async_dot_names_are_refused(aclient: pictograph.AsyncClient) -> None:
    with pytest.raises(ValidationError, match=r"'name' cannot be '\.\.'"):
        await aclient.datasets.create("..")
    with pytest.raises(ValidationError, match=r"'name' cannot be '\.'"):
        await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name=".")
    assert [d.name for d in await aclient.datasets.list()] == [DATASET]


def test_a_length_rule_says_the_bound_that_applies(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A text with only a floor or only a ceiling is told that one, and "not blank" only
    # where a blank one is refused (an empty README clears it).
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m")
    assert run.model_id is not None
    client.deployments.create(run.model_id, name="live")
    before = fingerprint(fake.world)
    cases: list[tuple[Callable[[], object], str, list[str]]] = [
        (lambda: client.webhooks.create(""), "'url' must be at least 1 character.", ["url"]),
        (
            lambda: client.deployments.update("live", readme="x" * 20_001),
            "'readme' must be at most 20000 characters.",
            ["readme"],
        ),
        (
            lambda: client.organizations.update(description="x" * 1001),
            "'description' must be at most 1000 characters.",
            ["description"],
        ),
    ]
    for send, message, field in cases:
        with pytest.raises(ValidationError) as caught:
            send()
        assert caught.value.status_code == 422
        assert caught.value.message == message
        assert caught.value.field_errors[0]["loc"] == ["body", *field]
        assert "None" not in caught.value.field_errors[0]["msg"]
    assert fingerprint(fake.world) == before


async def test_async_a_length_rule_says_the_bound_that_applies(
    aclient: pictograph.AsyncClient,
) -> None:
    with pytest.raises(ValidationError) as short:
        await aclient.webhooks.create("")
    assert short.value.message == "'url' must be at least 1 character."
    with pytest.raises(ValidationError) as long:
        await aclient.organizations.update(description="é" * 1001)
    assert long.value.message == "'description' must be at most 1000 characters."


@pytest.mark.parametrize(
    "name",
    [
        "x" * 100,
        "🚦" * 100,
        "a/b c",
        "100% sure",
        "q?a=1&b#frag",
        "ünïcödé ✓",
        "...",  # not "..": the client's URL handling removes dot segments, as any would
        "%2F",
        "+ plus",
    ],
)
def test_names_that_need_percent_encoding_round_trip(
    fake: FakePictograph, client: pictograph.Client, name: str
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)

    assert run.name == name
    assert client.training.get(name).id == run.id
    assert client.training.cancel(name).status == "cancelled"
    dataset = client.datasets.create(name)
    assert client.datasets.get(name).id == dataset.id


# ── the training config ──


@pytest.mark.parametrize(
    ("config", "message", "field"),
    [
        ({"epochs": 0}, "epochs must be between 1 and 1000", "epochs"),
        ({"epochs": 1001}, "epochs must be between 1 and 1000", "epochs"),
        ({"epochs": "ten"}, "epochs must be a whole number", "epochs"),
        ({"epochs": 2.0}, "epochs must be a whole number", "epochs"),
        ({"epochs": True}, "epochs must be a whole number", "epochs"),
        ({"batch_size": 0}, "batch_size must be between 1 and 512", "batch_size"),
        ({"batch_size": 513}, "batch_size must be between 1 and 512", "batch_size"),
        ({"learning_rate": 0}, "learning_rate must be a number in (0, 1]", "learning_rate"),
        ({"learning_rate": 1.5}, "learning_rate must be a number in (0, 1]", "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate must be a number in (0, 1]", "learning_rate"),
        ({"image_size": 31}, "image_size must be between 32 and 4096", "image_size"),
        ({"image_width": 4097}, "image_width must be between 32 and 4096", "image_width"),
        ({"image_height": 16}, "image_height must be between 32 and 4096", "image_height"),
        (
            {"model_size": "huge"},
            "model_size pipeline 'yolox' has no model_size 'huge'; "
            "choose 'nano', 'tiny', 's', 'm', 'l', 'x'",
            "model_size",
        ),
        (
            {"model_size": "medium"},  # an RF-DETR size: not one of YOLOX's
            "model_size pipeline 'yolox' has no model_size 'medium'; "
            "choose 'nano', 'tiny', 's', 'm', 'l', 'x'",
            "model_size",
        ),
        (
            {"model_size": ["m"]},
            "model_size pipeline 'yolox' has no model_size [\"m\"]; "
            "choose 'nano', 'tiny', 's', 'm', 'l', 'x'",
            "model_size",
        ),
    ],
)
def test_config_values_out_of_range_are_400_with_the_field(
    fake: FakePictograph, http: httpx.Client, config: dict[str, Any], message: str, field: str
) -> None:
    for path in ("/training/", "/training/quote"):
        body = {**CREATE, "config": config}
        if path.endswith("quote"):
            del body["name"]
        refused(
            fake,
            lambda path=path, body=body: http.post(DEV + path, json=body),
            status=400,
            message=f"The config does not suit pipeline 'yolox': {message}",
            loc=["body", "config", field],
        )


def test_every_bad_config_field_is_reported_at_once(
    fake: FakePictograph, http: httpx.Client
) -> None:
    error = refused(
        fake,
        lambda: http.post(
            f"{DEV}/training/", json={**CREATE, "config": {"epochs": 0, "batch_size": 0}}
        ),
        status=400,
        message="The config does not suit pipeline 'yolox': epochs must be between 1 and 1000; "
        "batch_size must be between 1 and 512",
    )
    assert [e["loc"][-1] for e in error["details"]["errors"]] == ["epochs", "batch_size"]


def test_model_sizes_are_per_pipeline(fake: FakePictograph, client: pictograph.Client) -> None:
    # `medium` is an RF-DETR size: refused for YOLOX above, taken here.
    run = client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="rfdetr_detection",
        name="r",
        config={"model_size": "medium"},
        wait=False,
    )
    assert run.config["model_size"] == "medium"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"yield": "giraffe"},
            "class_overrides targets must be classes of dataset 'road-signs': 'giraffe'",
        ),
        ({"yield": 7}, "class_overrides targets must be classes of dataset 'road-signs': 7"),
        (
            ["yield"],
            'config.class_overrides must map class names to class names, got ["yield"].',
        ),
        # Falsy is not "none": only an absent or null class_overrides means no overrides.
        ([], "config.class_overrides must map class names to class names, got []."),
        (0, "config.class_overrides must map class names to class names, got 0."),
        (False, "config.class_overrides must map class names to class names, got false."),
    ],
)
def test_class_overrides_must_target_classes_of_the_dataset(
    fake: FakePictograph, http: httpx.Client, overrides: Any, message: str
) -> None:
    refused(
        fake,
        lambda: http.post(
            f"{DEV}/training/", json={**CREATE, "config": {"class_overrides": overrides}}
        ),
        status=400,
        message=message,
        loc=["body", "config", "class_overrides"],
    )


def test_a_null_class_overrides_is_none(client: pictograph.Client) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="r", config={"class_overrides": None}
    )
    assert run.status == "completed"
    assert run.model_id is not None
    model = client.models.get(model_id=run.model_id)
    assert model.class_mapping == {"classes": ["stop_sign", "yield"]}


def test_the_sdk_raises_validation_error_with_field_errors(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(ValidationError) as raised:
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 0}, wait=False
        )
    assert raised.value.status_code == 400
    assert raised.value.field_errors == [
        {
            "loc": ["body", "config", "epochs"],
            "msg": "must be between 1 and 1000",
            "type": "range_error",
        }
    ]
    assert client.training.list() == []


# ── body fields ──


@pytest.mark.parametrize(
    ("body", "message", "loc"),
    [
        (
            {**CREATE, "gpu_count": 1},
            "The request failed validation: gpu_count: Extra inputs are not permitted",
            ["body", "gpu_count"],
        ),
        (
            {k: v for k, v in CREATE.items() if k != "export_name"},
            "The request failed validation: export_name: Field required",
            ["body", "export_name"],
        ),
        (
            {**CREATE, "dataset_name": 7},
            "The request failed validation: dataset_name: Input should be a valid string",
            ["body", "dataset_name"],
        ),
        (
            {**CREATE, "config": [1]},
            "The request failed validation: config: Input should be a valid dictionary",
            ["body", "config"],
        ),
    ],
)
def test_fields_are_checked_and_unknown_ones_forbidden(
    fake: FakePictograph, http: httpx.Client, body: dict[str, Any], message: str, loc: list[str]
) -> None:
    refused(
        fake, lambda: http.post(f"{DEV}/training/", json=body), status=422, message=message, loc=loc
    )


QUOTE = {field: value for field, value in CREATE.items() if field != "name"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        *(("/training/", CREATE, f) for f in ("dataset_name", "export_name", "pipeline_type")),
        *(("/training/quote", QUOTE, f) for f in ("dataset_name", "export_name", "pipeline_type")),
    ],
)
def test_a_run_plan_without_a_required_field_is_refused(
    fake: FakePictograph, http: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    without = {name: value for name, value in body.items() if name != field}
    refused(
        fake,
        lambda: http.post(DEV + path, json=without),
        status=422,
        message=f"The request failed validation: {field}: Field required",
        loc=["body", field],
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/datasets/", {"name": "d", "colour": "red"}),
        ("/exports/", {"dataset_name": DATASET, "name": "e", "colour": "red"}),
        ("/training/bulk-cancel", {"run_ids": [], "colour": "red"}),
        ("/images/bulk-tag", {"dataset": DATASET, "image_ids": [], "tags": ["t"], "colour": "red"}),
        ("/annotations/bulk", {"saves": [], "colour": "red"}),
    ],
)
def test_every_write_forbids_unknown_fields(
    fake: FakePictograph, http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    error = refused(
        fake, lambda: http.post(DEV + path, json=body), status=422, message=error_text(body)
    )
    assert ["body", "colour"] in [e["loc"] for e in error["details"]["errors"]]


def error_text(body: dict[str, Any]) -> str:
    return "The request failed validation: colour: Extra inputs are not permitted"


# ── bodies that are not JSON objects, or too large ──


@pytest.mark.parametrize(
    ("content", "message", "kind"),
    [
        (b"", "The request body is empty; send a JSON object.", "missing"),
        (b"dataset_name=road-signs", "The request body is not valid JSON.", "json_invalid"),
        (b"\xff\xfe{}", "The request body is not valid JSON.", "json_invalid"),
        (b"[1, 2]", "The request body must be a JSON object.", "dict_type"),
        (b'"text"', "The request body must be a JSON object.", "dict_type"),
        (
            b"[" * 100_000 + b"]" * 100_000,
            TOO_DEEP.format(subject=REQUEST_BODY, limit=MAX_JSON_DEPTH),
            "too_deep",
        ),
        (b'{"name": "\\ud800"}', LONE_SURROGATE.format(subject=REQUEST_BODY), "string_unicode"),
    ],
)
def test_bodies_that_are_not_json_objects_are_422(
    fake: FakePictograph, http: httpx.Client, content: bytes, message: str, kind: str
) -> None:
    error = refused(
        fake,
        lambda: http.post(f"{DEV}/training/", content=content),
        status=422,
        message=message,
        loc=["body"],
    )
    assert error["details"]["errors"][0]["type"] == kind


def test_an_oversized_body_is_413(fake: FakePictograph, http: httpx.Client) -> None:
    content = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    refused(
        fake,
        lambda: http.post(f"{DEV}/datasets/", content=content),
        status=413,
        code="payload_too_large",
        message=f"The request body is {len(content):,} bytes; the API takes at most 32 MiB.",
        loc=["body"],
    )


def test_a_body_at_the_limit_is_read(fake: FakePictograph, http: httpx.Client) -> None:
    padding = MAX_BODY_BYTES - len(b'{"name": "d", "description": ""}')
    content = b'{"name": "d", "description": "' + b" " * padding + b'"}'
    assert len(content) == MAX_BODY_BYTES
    assert http.post(f"{DEV}/datasets/", content=content).status_code == 201


# ── limits and offsets ──

LISTS = [
    "/training/",
    "/models/",
    "/datasets/",
    f"/images/?dataset={DATASET}&",
    "/exports/",
    "/credits/history",
    "/notifications",
    "/jobs",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "message", "kind"),
    [
        ("limit=0", "Query parameter 'limit' must be at least 1, got 0.", "range_error"),
        ("limit=-5", "Query parameter 'limit' must be at least 1, got -5.", "range_error"),
        ("offset=-1", "Query parameter 'offset' must be at least 0, got -1.", "range_error"),
        ("limit=ten", "Query parameter 'limit' must be a whole number, got 'ten'.", "int_parsing"),
        (
            "limit=1_000",
            "Query parameter 'limit' must be a whole number, got '1_000'.",
            "int_parsing",
        ),
        (
            "offset=2.5",
            "Query parameter 'offset' must be a whole number, got '2.5'.",
            "int_parsing",
        ),
    ],
)
def test_limits_and_offsets_are_checked_on_every_list(
    fake: FakePictograph, http: httpx.Client, path: str, query: str, message: str, kind: str
) -> None:
    separator = "" if path.endswith("&") else "?"
    error = refused(
        fake,
        lambda: http.get(f"{DEV}{path}{separator}{query}"),
        status=422,
        message=message,
        loc=["query", query.split("=")[0]],
    )
    assert error["details"]["errors"][0]["type"] == kind


@pytest.mark.parametrize("path", LISTS)
def test_a_huge_limit_is_capped_and_a_huge_offset_is_an_empty_page(
    http: httpx.Client, path: str
) -> None:
    separator = "" if path.endswith("&") else "?"
    response = http.get(f"{DEV}{path}{separator}limit={10**30}&offset={10**30}")
    assert response.status_code == 200
    items = response.json().get("data", response.json().get("entries"))
    if items is None:
        items = response.json()["notifications"]
    assert items == []
