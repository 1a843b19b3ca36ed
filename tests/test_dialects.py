"""Wire dialects: each SDK release gets the wire it expects, chosen per request.

The installed SDK here is the newest; older releases are driven through the real SDK of
each release by the version matrix (``scripts/sdk_matrix.sh``, ``tests/matrix/``). These
tests pin the dialects themselves: how a release is recognised, and what each span of
releases is answered.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing import strategies as pst
from pictograph_testing.api.dialects import NEWEST, format_version, parse_version, sdk_version_of
from pictograph_testing.api.table import RETIRED
from pictograph_testing.clock import parse_timestamp
from pictograph_testing.fidelity import sdk_versions_page
from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
DEV = "/api/v1/developer"
RUN_BODY = {
    "dataset_name": "road-signs",
    "export_name": "road-signs-v1",
    "pipeline_type": "yolox",
    "name": "r1",
    "gpu_type": "a10g",
    "config": {"epochs": 5},
}


def _http(fake: FakePictograph, agent: str | None = None) -> httpx.Client:
    headers = {"X-API-Key": fake.api_key}
    if agent is not None:
        headers["User-Agent"] = agent
    return httpx.Client(transport=fake.transport(), base_url=fake.base_url, headers=headers)


@pytest.fixture
def seed_era() -> Iterator[httpx.Client]:
    fake = FakePictograph(scenario="ready-to-train", sdk_version="1.40.0")
    with _http(fake) as http:
        yield http


# ── recognising the release ──


@pytest.mark.parametrize(
    ("agent", "version"),
    [
        ("pictograph-python/1.40.0", (1, 40, 0)),
        ("pictograph-python-async/1.69.44", (1, 69, 44)),
        ("pictograph-python/1.0.0 extra", (1, 0, 0)),
        ("curl/8.5.0", None),
        ("python-httpx/0.28.1", None),
    ],
)
def test_the_release_is_read_from_the_user_agent(agent: str, version: Any) -> None:
    assert sdk_version_of(agent) == version


def test_a_version_that_is_not_a_release_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="not an SDK release"):
        FakePictograph(sdk_version="latest")
    assert FakePictograph(sdk_version="1.40").sdk_version == "1.40.0"


@pytest.mark.parametrize("version", ["0.1", "0.99.9"])
def test_a_release_older_than_the_first_is_refused_clearly(version: str) -> None:
    # No route serves it: answering as it would make every call a 404 "No route".
    older = re.escape(f"sdk_version '{version}' is older than the first")
    with pytest.raises(ValueError, match=older):
        FakePictograph(sdk_version=version)
    with pytest.raises(ValueError, match=re.escape("answers 1.0.0 to 1.69.146")):
        pst.create_requests(sdk_version=version)
    assert FakePictograph(sdk_version="1.0").sdk_version == "1.0.0"


def test_the_user_agent_picks_the_dialect_per_request() -> None:
    fake = FakePictograph(scenario="ready-to-train")
    with _http(fake, "pictograph-python/1.40.0") as old, _http(fake) as curl:
        run = old.post(f"{DEV}/training/", json=RUN_BODY).json()["training_run"]
        assert curl.get(f"{DEV}/training/{run['id']}").json()["data"]["id"] == run["id"]
        assert old.get(f"{DEV}/training/").json()["training_runs"][0]["id"] == run["id"]


def test_an_explicit_version_wins_over_the_user_agent() -> None:
    fake = FakePictograph(scenario="ready-to-train", sdk_version="1.40.0")
    with _http(fake, f"pictograph-python/{format_version(NEWEST)}") as http:
        assert "training_run" in http.post(f"{DEV}/training/", json=RUN_BODY).json()


def test_the_newest_sdk_is_answered_in_the_newest_dialect(
    fake: FakePictograph, client: Any
) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    assert "data" in fake.calls.last.response_json()


# ── before 1.61: resource-named envelopes ──


def test_seed_era_runs_come_under_their_resource_names(seed_era: httpx.Client) -> None:
    created = seed_era.post(f"{DEV}/training/", json=RUN_BODY).json()
    run = created["training_run"]
    assert "data" not in created
    assert seed_era.get(f"{DEV}/training/{run['id']}").json()["training_run"]["name"] == "r1"
    assert seed_era.get(f"{DEV}/training/").json()["training_runs"][0]["id"] == run["id"]
    cancelled = seed_era.post(f"{DEV}/training/{run['id']}/cancel").json()["training_run"]
    assert cancelled["status"] == "cancelled"


def test_seed_era_bulk_results_are_at_the_root(seed_era: httpx.Client) -> None:
    run = seed_era.post(f"{DEV}/training/", json=RUN_BODY).json()["training_run"]
    result = seed_era.post(f"{DEV}/training/bulk-cancel", json={"run_ids": [run["id"], "x"]})
    assert result.json() == {"succeeded": [run["id"]], "not_found": ["x"], "count": 1}


def test_seed_era_datasets_by_name_with_the_old_archived_count(seed_era: httpx.Client) -> None:
    dataset = seed_era.get(f"{DEV}/datasets/by-name/road-signs").json()["dataset"]
    assert dataset["name"] == "road-signs"
    assert dataset["archived_images"] == dataset["archived_image_count"] == 0
    assert seed_era.get(f"{DEV}/datasets/").json()["datasets"][0]["name"] == "road-signs"


def test_before_1_61_the_archived_count_is_read_as_archived_images() -> None:
    with FakePictograph(scenario="ready-to-train") as fake, fake.client(max_retries=0) as client:
        client.batch.delete(DATASET, [i.id for i in client.images.list(DATASET, limit=3)])
        with _http(fake, "pictograph-python/1.40.0") as old:
            dataset = old.get(f"{DEV}/datasets/by-name/{DATASET}").json()["dataset"]
            [listed] = old.get(f"{DEV}/datasets/").json()["datasets"]
    assert dataset["archived_images"] == dataset["archived_image_count"] == 3
    assert listed["archived_images"] == listed["archived_image_count"] == 3


def test_seed_era_models_and_their_downloads() -> None:
    fake = FakePictograph(scenario="ready-to-train", sdk_version="1.40.0")
    with fake, _http(fake) as http:
        run = http.post(f"{DEV}/training/", json=RUN_BODY).json()["training_run"]
        fake.clock.advance(hours=2)
        model_id = http.get(f"{DEV}/training/{run['id']}").json()["training_run"]["model_id"]
        assert http.get(f"{DEV}/models/{model_id}").json()["model"]["id"] == model_id
        assert http.get(f"{DEV}/models/").json()["models"][0]["id"] == model_id
        download = http.get(f"{DEV}/models/{model_id}/download").json()
        assert download["download_url"].startswith(fake.base_url)
        # A bulk delete's result at the root, with the `deleted` those releases read.
        deleted = http.post(f"{DEV}/models/bulk-delete", json={"model_ids": [model_id, "x"]})
        assert deleted.json() == {
            "succeeded": [model_id],
            "deleted": [model_id],
            "not_found": ["x"],
            "count": 1,
        }
        assert http.get(f"{DEV}/models/").json()["models"] == []


def test_before_1_61_insights_and_near_duplicates_answer_at_the_root() -> None:
    fake = FakePictograph(scenario="ready-to-train")
    with fake, _http(fake, "pictograph-python/1.40.0") as old, _http(fake) as today:
        insights = old.get(f"{DEV}/datasets/by-name/{DATASET}/insights").json()
        assert insights == today.get(f"{DEV}/datasets/{DATASET}/insights").json()["data"]
        scan = old.get(f"{DEV}/datasets/by-name/{DATASET}/duplicates").json()
        scanned = today.get(f"{DEV}/datasets/{DATASET}/duplicates").json()["data"]
    # At the root, with the folder names those releases read beside today's.
    assert scan["groups"]
    assert len(scan["groups"]) == len(scanned["groups"])
    for group in scan["groups"]:
        for member in group["members"]:
            assert member["virtual_folder_path"] == member["virtual_directory_path"]


def test_seed_era_export_bulk_deletes_answer_at_the_root(seed_era: httpx.Client) -> None:
    [export] = seed_era.get(f"{DEV}/exports/", params={"dataset": "road-signs"}).json()["exports"]
    deleted = seed_era.post(f"{DEV}/exports/bulk-delete", json={"export_ids": [export["id"], "x"]})
    assert deleted.json() == {
        "succeeded": [export["id"]],
        "deleted": [export["id"]],
        "not_found": ["x"],
        "count": 1,
    }


# ── 1.61.0 to 1.69.43: by-name paths ──


@pytest.mark.parametrize(
    ("version", "served"), [("1.61.0", True), ("1.69.43", True), ("1.69.44", False)]
)
def test_by_name_paths_are_served_to_the_releases_that_sent_them(
    version: str, served: bool
) -> None:
    fake = FakePictograph(scenario="ready-to-train")
    with _http(fake, f"pictograph-python/{version}") as http:
        http.post(f"{DEV}/training/", json=RUN_BODY)
        for path in ("training/by-name/r1", "datasets/by-name/road-signs"):
            answer = http.get(f"{DEV}/{path}")
            if served:
                assert answer.status_code == 200, (path, answer.text)
                assert "data" in answer.json()
            else:
                assert answer.status_code == 404
                assert "No route" in answer.json()["error"]["message"]
        export = http.get(f"{DEV}/exports/by-name/road-signs/road-signs-v1")
        assert export.status_code == (200 if served else 404)


# ── 1.67.3 to 1.69.105: gpu_count ──


@pytest.mark.parametrize(
    ("version", "taken"), [("1.67.3", True), ("1.69.105", True), ("1.69.106", False)]
)
def test_gpu_count_is_taken_from_the_releases_that_send_it(version: str, taken: bool) -> None:
    fake = FakePictograph(scenario="ready-to-train")
    with _http(fake, f"pictograph-python/{version}") as http:
        answer = http.post(f"{DEV}/training/", json={**RUN_BODY, "gpu_count": 1})
    if taken:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(("gpu_count", "taken"), [(0, False), (1, True), (4, True), (5, False)])
def test_gpu_count_is_one_to_four_as_those_releases_documented(gpu_count: int, taken: bool) -> None:
    fake = FakePictograph(scenario="ready-to-train")
    with _http(fake, "pictograph-python/1.69.105") as http:
        answer = http.post(f"{DEV}/training/", json={**RUN_BODY, "gpu_count": gpu_count})
    assert answer.status_code == (200 if taken else 422), answer.text
    if not taken:
        assert answer.json()["detail"][0]["loc"] == ["body", "gpu_count"]


# ── 1.0.x: whole credits ──


def test_sdk_1_0_counts_money_in_whole_credits() -> None:
    fake = FakePictograph(scenario="ready-to-train", sdk_version="1.0.0")
    with fake, _http(fake) as http:
        run = http.post(f"{DEV}/training/", json=RUN_BODY).json()["training_run"]
        http.post(f"{DEV}/training/{run['id']}/cancel")
        entries = http.get(f"{DEV}/credits/history").json()["entries"]
        estimate = http.get(
            f"{DEV}/credits/estimate", params={"operation": "training_a10g", "quantity": 30}
        ).json()
        balance = http.get(f"{DEV}/credits/balance").json()
    refund = next(e for e in entries if e["operation"].startswith("training_refund_"))
    assert refund["amount"] > 0
    assert isinstance(refund["amount"], int)
    # A cent a credit: what each entry of the µUSD ledger moved the balance, in whole
    # credits (each balance rounded down), so the amounts add up to the balances.
    micro = {e.id: e for e in fake.ledger}
    for entry in entries:
        after, amount = micro[entry["id"]].balance_after, micro[entry["id"]].amount
        assert entry["balance_after"] == after // 10_000
        assert entry["amount"] == after // 10_000 - (after - amount) // 10_000
    assert set(estimate) >= {"credits_per_unit", "total_credits", "credits_remaining", "sufficient"}
    assert "micro_usd_per_unit" not in estimate
    assert balance["credits_remaining"] == int(fake.balance_usd * 100)


def test_sdk_1_0_reads_a_budget_and_part_cents_in_whole_credits() -> None:
    # $100.15 of allowance and a $50 budget, then debits of 1.5 and 1.2 cents:
    # whole credits (a cent each) round every balance down, and each entry's amount is
    # the whole credits it moved, so they add up from one balance to the next.
    cent = 10_000
    allowance, budget = 100_150_000, 50_000_000
    document = {
        "schema_version": 1,
        "organization": {"allowance_micro_usd": allowance, "budget_micro_usd": budget},
        "ledger": [
            {"operation": "dataset_restore", "amount": -15_000},
            {"operation": "dataset_restore", "amount": -12_000},
        ],
    }
    fake = FakePictograph(scenario=document, sdk_version="1.0.0")
    spendable = allowance + budget - 27_000
    credits = spendable // cent
    with fake, _http(fake) as http:
        balance = http.get(f"{DEV}/credits/balance").json()
        page = http.get(f"{DEV}/credits/history", params={"limit": 1, "offset": 1}).json()
        # Classic a10g minutes cost half a cent: a whole credit each, rounded up.
        enough, short = (
            http.get(
                f"{DEV}/credits/estimate", params={"operation": "training_a10g", "quantity": n}
            ).json()
            for n in (credits, credits + 1)
        )

    assert fake.balance_micro_usd == spendable
    # The budget is spent from too; the monthly figure is the allowance alone.
    assert balance["credits_remaining"] == credits
    assert balance["credits_monthly_allowance"] == allowance // cent
    # When the allowance next comes back, not when this period began.
    assert parse_timestamp(balance["credits_reset_at"]) > fake.clock.now()
    # 15,015 → 15,013.5 → 15,012.3 credits: the debits moved it by 2 and then by 1.
    assert [(e["amount"], e["balance_after"]) for e in balance["recent_history"]] == [
        (-1, credits),
        (-2, credits + 1),
    ]
    assert (page["limit"], page["offset"]) == (1, 1)
    assert [(e["amount"], e["balance_after"]) for e in page["entries"]] == [(-2, credits + 1)]
    assert (enough["total_credits"], enough["credits_remaining"]) == (credits, credits)
    assert (short["total_credits"], short["credits_remaining"]) == (credits + 1, credits)
    assert (enough["sufficient"], short["sufficient"]) == (True, False)


@pytest.mark.parametrize("agent", ["pictograph-python/1.65.0", None])
def test_a_retired_route_is_the_apis_own_404_for_every_release(agent: str | None) -> None:
    fake = FakePictograph()
    with _http(fake, agent) as http:
        for gone in RETIRED:
            path = re.sub(r"\{[a-z_]+\}", "3f0c2a8e-5b1d-4c6e-9f7a-2d8b4e6c1a90", gone.path)
            answer = http.request(gone.method, f"{DEV}/{path}")
            assert answer.status_code == 404, (gone, answer.text)
            assert answer.json()["error"]["message"] == f"No route {gone.method} {DEV}/{path}."
    assert {gone.path.split("/")[0] for gone in RETIRED} == {"storage-connections"}
    assert not fake.unserved_calls


def test_sdk_1_0_reads_a_402_in_credits_without_a_unit() -> None:
    fake = FakePictograph(scenario="ready-to-train", sdk_version="1.0.0", balance_usd=0.001)
    with _http(fake) as http:
        answer = http.post(f"{DEV}/training/", json=RUN_BODY)
    # The same refusal on today's wire, in µUSD.
    today = FakePictograph(scenario="ready-to-train", balance_usd=0.001)
    with _http(today) as http:
        micro = http.post(f"{DEV}/training/", json=RUN_BODY).json()["detail"]
    assert answer.status_code == 402
    detail = answer.json()["detail"]
    assert "unit" not in detail
    # A cent a credit: what is needed rounds up, what remains ($0.001) rounds down.
    assert detail["required"] == -(-micro["required"] // 10_000) >= 1
    assert micro["required"] % 10_000 != 0
    assert detail["remaining"] == 0
    assert detail["message"] == micro["message"]


# ── profile and dialect are independent ──


@pytest.mark.parametrize("profile", ["classic", "current"])
@pytest.mark.parametrize("version", ["1.40.0", "1.69.146"])
def test_either_profile_on_either_wire(profile: ProfileName, version: str) -> None:
    fake = FakePictograph(scenario="ready-to-train", profile=profile, sdk_version=version)
    with _http(fake) as http:
        body = http.post(f"{DEV}/training/", json=RUN_BODY).json()
    run = body["training_run" if version == "1.40.0" else "data"]
    assert run["status"] == "queued"
    precharged = [e for e in fake.ledger if e.amount < 0]
    assert bool(precharged) == (profile == "classic")


# ── the setup before training: datasets (projects), images, exports ──

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01"
    b"\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _release(version: str) -> httpx.Client:
    return _http(FakePictograph(scenario="ready-to-train", sdk_version=version))


def test_before_1_61_datasets_are_created_renamed_and_deleted_as_projects() -> None:
    with _release("1.0.0") as http:
        made = http.post(f"{DEV}/projects/", json={"name": "signs", "annotation_types": ["bbox"]})
        assert made.status_code == 201
        project = made.json()["project"]
        assert (project["name"], project["archived_images"]) == ("signs", 0)
        # Renamed with `name`, not today's `new_name`.
        renamed = http.patch(f"{DEV}/projects/signs", json={"name": "signs-2"}).json()["project"]
        assert renamed["id"] == project["id"]
        assert renamed["name"] == "signs-2"
        got = http.get(f"{DEV}/projects/signs-2").json()
        assert got["project"]["id"] == got["dataset"]["id"] == project["id"]
        names = {p["name"] for p in http.get(f"{DEV}/projects/").json()["projects"]}
        assert "signs-2" in names
        deleted = http.delete(f"{DEV}/projects/signs-2").json()
        assert "deleted" in deleted
        assert "data" not in deleted
        assert http.get(f"{DEV}/projects/signs-2").status_code == 404


def test_before_1_61_a_projects_classes_are_replaced_by_name() -> None:
    # `name` renames the project; each class's own `name` is left alone.
    classes = [{"name": "cat", "type": "bbox"}, {"name": "dog", "type": "polygon"}]
    with _release("1.40.0") as http:
        http.post(f"{DEV}/projects/", json={"name": "pets", "annotation_types": ["bbox"]})
        answer = http.patch(f"{DEV}/projects/pets", json={"description": "d", "classes": classes})
        assert answer.status_code == 200, answer.text
        project = answer.json()["project"]
        assert (project["name"], project["description"]) == ("pets", "d")
        assert [(c["name"], c["type"]) for c in project["classes"]] == [
            ("cat", "bbox"),
            ("dog", "polygon"),
        ]
        both = http.patch(f"{DEV}/projects/pets", json={"name": "pets-2", "classes": classes[:1]})
        assert both.status_code == 200, both.text
        renamed = both.json()["project"]
        assert (renamed["name"], [c["name"] for c in renamed["classes"]]) == ("pets-2", ["cat"])


@pytest.mark.parametrize("version", ["1.57.0", "1.60.0"])
def test_from_1_57_to_1_60_projects_are_archived_and_restored(version: str) -> None:
    with _release(version) as http:
        made = http.post(f"{DEV}/projects/", json={"name": "old", "annotation_types": ["bbox"]})
        project_id = made.json()["project"]["id"]
        archived = http.post(f"{DEV}/projects/old/archive")
        assert archived.status_code == 200, archived.text
        assert archived.json() == {"success": True, "project_id": project_id, "is_archived": True}
        listed = http.get(f"{DEV}/projects/", params={"archived": "true"}).json()["projects"]
        assert [(p["name"], p["is_archived"]) for p in listed] == [("old", True)]
        restored = http.post(f"{DEV}/projects/old/restore").json()
        assert restored == {"success": True, "project_id": project_id, "is_archived": False}
        assert http.post(f"{DEV}/projects/nope/archive").status_code == 404


@pytest.mark.parametrize("version", ["1.56.0", "1.61.0"])
def test_projects_are_archived_only_from_1_57_to_1_60(version: str) -> None:
    with _release(version) as http:
        answer = http.post(f"{DEV}/projects/road-signs/archive")
        assert answer.status_code == 404
        assert "No route" in answer.json()["error"]["message"]


def test_projects_are_no_route_from_1_61() -> None:
    with _release("1.61.0") as http:
        answer = http.post(f"{DEV}/projects/", json={"name": "signs"})
        assert answer.status_code == 404
        assert "No route" in answer.json()["error"]["message"]


def test_before_1_61_exports_go_by_dataset_and_name_in_the_path() -> None:
    with _release("1.8.0") as http:
        made = http.post(f"{DEV}/exports/", json={"dataset_name": DATASET, "name": "v2"})
        export = made.json()["export"]
        assert export["project_id"] == export["dataset_id"]
        got = http.get(f"{DEV}/exports/{DATASET}/v2").json()["export"]
        assert got["id"] == export["id"]
        assert next(e["name"] for e in http.get(f"{DEV}/exports/").json()["exports"]) == "v2"
        by_id = http.get(f"{DEV}/exports/{export['id']}").json()["export"]
        assert by_id["name"] == "v2"
        download = http.get(f"{DEV}/exports/{DATASET}/road-signs-v1/download").json()
        assert download["download_url"].startswith("http")
        assert http.get(download["download_url"]).content[:2] == b"PK"
        assert http.delete(f"{DEV}/exports/{DATASET}/v2").status_code == 200
        assert http.get(f"{DEV}/exports/{DATASET}/v2").status_code == 404


def test_the_compound_export_path_is_no_route_from_1_61() -> None:
    with _release("1.61.0") as http:
        answer = http.get(f"{DEV}/exports/{DATASET}/road-signs-v1")
        assert answer.status_code == 404


def test_before_1_61_an_upload_is_registered_with_a_form_and_read_back_by_id() -> None:
    with _release("1.0.0") as http:
        dataset_id = http.get(f"{DEV}/datasets/by-name/{DATASET}").json()["dataset"]["id"]
        slot = http.post(
            f"{DEV}/images/upload-url",
            json={
                "dataset_id": dataset_id,
                "filename": "one.png",
                "folder_path": "/",
                "content_type": "image/png",
            },
        ).json()
        assert {"upload_url", "gcs_bucket", "gcs_path", "gcs_uri"} <= set(slot)
        # The SDK PUTs without its key; storage ignores one, so the same client will do.
        put = http.put(slot["upload_url"], content=PNG, headers={"Content-Type": "image/png"})
        assert put.status_code == 200
        registered = http.post(
            f"{DEV}/images/register",
            data={
                "dataset_id": dataset_id,
                "filename": "one.png",
                **{name: slot[name] for name in ("gcs_bucket", "gcs_path", "gcs_uri")},
                "folder_path": "/",
                "file_size": str(len(PNG)),
                "mime_type": "image/png",
                "image_width": "1",
                "image_height": "",  # None, as httpx sends it in a form
            },
        )
        assert registered.status_code == 201, registered.text
        image_id = registered.json()["image_id"]
        image = http.get(f"{DEV}/images/{image_id}/metadata").json()["image"]
        assert (image["filename"], image["width"], image["file_size"]) == ("one.png", 1, len(PNG))
        assert image["image_url"]
        listed = http.get(f"{DEV}/images/", params={"dataset_id": dataset_id, "folder_path": "/"})
        assert image_id in {i["id"] for i in listed.json()["images"]}


def test_1_61_to_1_69_43_upload_with_dataset_id_under_data() -> None:
    with _release("1.69.42") as http:
        dataset_id = http.get(f"{DEV}/datasets/{DATASET}").json()["data"]["id"]
        slot = http.post(
            f"{DEV}/images/upload-url",
            json={
                "dataset_id": dataset_id,
                "filename": "two.png",
                "folder_path": "/",
                "content_type": "image/png",
            },
        )
        assert slot.json()["data"]["upload_url"]
        listed = http.get(f"{DEV}/images/", params={"dataset_id": dataset_id, "limit": 1})
        assert len(listed.json()["data"]) == 1
    with _release("1.69.44") as http:
        refused = http.get(f"{DEV}/images/", params={"dataset_id": DATASET})
        assert refused.status_code == 422


# ── one declaration per fact ──


def test_the_newest_dialect_is_the_sdk_the_suite_pins() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    newest = format_version(NEWEST)
    assert f"pictograph=={newest}" in project["optional-dependencies"]["dev"]
    assert f"pictograph>=1.0,<={newest}" in project["dependencies"]
    import pictograph

    assert parse_version(pictograph.__version__) == NEWEST


def test_the_sdk_versions_page_is_the_generated_one() -> None:
    page = ROOT / "docs" / "sdk-versions.md"
    assert page.read_text(encoding="utf-8") == sdk_versions_page(), (
        "docs/sdk-versions.md is stale: "
        "python -m pictograph_testing.fidelity versions > docs/sdk-versions.md"
    )
