"""A workflow served live, through the real SDK (sync and async): deploy, wait_until_live,
pause, resume, update_endpoint, its live log, and the billing of its warm containers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)

from pictograph_testing.catalog import (
    DEPLOYMENT_METER_SECONDS,
    DEPLOYMENT_SERVER_START_SECONDS,
    DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB,
    WORKFLOW_GPUS,
    WORKFLOW_LIVE_COLORS,
)
from pictograph_testing.world.workflow_nodes import chain_graph
from tests.conftest import DATASET
from tests.test_deployments import _png
from tests.test_workflows import _counting_graph, _train, detection_graph

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

RATE = WORKFLOW_GPUS["t4"].micro_usd_per_minute
"""A container-minute on the default GPU."""


def _lot(client: pictograph.Client) -> None:
    """A workflow that can stream: a trained model between a source and an output."""
    _train(client)
    client.workflows.create("Lot", detection_graph("signs"))


def _billed(fake: FakePictograph) -> int:
    return -sum(e.amount for e in fake.ledger if e.operation == "workflow_endpoint_t4")


def _balance_to(fake: FakePictograph, micro_usd: int) -> None:
    """Spend (or top up) the organization's credit to ``micro_usd``, elsewhere."""
    with fake.world.lock:
        org = fake.world.organizations[fake.organization_id]
        fake.world.billing.post(
            org, "test_adjust", micro_usd - fake.balance_micro_usd, description="elsewhere"
        )


def test_deploy_then_wait_until_live_on_the_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    assert client.workflows.get("Lot").endpoint is None  # create never deploys
    deployed = client.workflows.deploy("Lot", max_containers=2, scaledown_window=120)
    assert deployed.endpoint is not None
    assert deployed.endpoint_token is not None
    assert deployed.endpoint_token.startswith("pk_deploy_")
    assert deployed.endpoint.auth_token_prefix == deployed.endpoint_token[:14] + "…"
    assert (deployed.endpoint.status, deployed.endpoint.region) == ("provisioning", "us-east")
    assert deployed.endpoint.endpoint_url is not None
    assert deployed.endpoint.endpoint_url.endswith(f"/us-east/{deployed.endpoint.id}/sessions")
    assert (deployed.endpoint.stream_limit, deployed.endpoint.scaledown_window) == (8, 120)
    assert deployed.endpoint.max_cost_per_hour_micro_usd == 2 * RATE * 60
    assert deployed.endpoint.transfer_per_gib_micro_usd == DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB
    assert deployed.endpoint.runtime is None  # only an active endpoint runs
    start = fake.clock.monotonic()
    live = client.workflows.wait_until_live(deployed, poll_interval=5)
    assert fake.clock.monotonic() - start == pytest.approx(DEPLOYMENT_SERVER_START_SECONDS)
    assert live.endpoint is not None
    assert live.endpoint.status == "active"
    assert live.endpoint.updated_at == live.endpoint.started_at is not None
    assert live.endpoint.runtime is not None
    assert (live.endpoint.runtime.state, live.endpoint.runtime.containers) == ("asleep", 0)
    # The token is shown once; a second deploy is refused.
    assert client.workflows.get("Lot").endpoint_token is None
    with pytest.raises(ConflictError, match="already deployed") as again:
        client.workflows.deploy("Lot")
    assert again.value.code == "already_deployed"
    # Scaled to zero with no stream: nothing held, nothing billed.
    fake.clock.advance(3600)
    assert _billed(fake) == 0
    assert client.workflows.get("Lot").endpoint.accrued_cost_micro_usd == 0  # type: ignore[union-attr]


def test_a_workflow_endpoint_takes_streams_and_refuses_a_single_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    from pictograph.resources._deployment_stream import predict_url, sessions_url

    _lot(client)
    token = client.workflows.deploy("Lot").endpoint_token
    assert token is not None
    bearer = {"Authorization": f"Bearer {token}"}
    first = client.workflows.get("Lot").endpoint
    assert first is not None
    assert first.endpoint_url is not None
    # Deployed the first time, it is not up yet: no save is deploying it again.
    with httpx.Client() as gateway:
        early = gateway.post(first.endpoint_url, json={"source": {"kind": "whip"}}, headers=bearer)
    assert (early.status_code, early.json()) == (
        409,
        {
            "error": "deployment_not_active",
            "detail": "The workflow endpoint is not active (status: provisioning).",
            "status": "provisioning",
        },
    )
    live = client.workflows.wait_until_live("Lot", poll_interval=5)
    assert live.endpoint is not None
    url = live.endpoint.endpoint_url
    assert url is not None
    # Its streams open where its URL points; a predict would go beside it, and is refused.
    assert sessions_url(url) == url
    assert predict_url(url) == url.removesuffix("/sessions") + "/predict"
    refusal = "takes streams, never a single image"
    with (
        client.workflows.connect(live, token) as endpoint,
        pytest.raises(ConflictError, match=refusal) as refused,
    ):
        endpoint.infer_raw(_png())
    assert (refused.value.code, refused.value.status_code) == ("predict_unavailable", 409)
    # The gateway is the deployments': another region is told where the endpoint runs,
    # and its sessions take the endpoint's token (tests/test_streams.py streams them).
    with httpx.Client() as gateway:  # the fake's interception answers its gateway's host
        elsewhere = gateway.post(predict_url(url).replace("/us-east/", "/us-west/"))
        stranger = gateway.post(url, json={"source": {"kind": "whip"}})
        opened = gateway.post(url, json={"source": {"kind": "whip"}}, headers=bearer)
        # Its id is found in any case, as a deployment's is.
        region, endpoint_id, sessions = url.rsplit("/", 2)
        assert endpoint_id != endpoint_id.upper()
        upper = f"{region}/{endpoint_id.upper()}/{sessions}"
        upper_opened = gateway.post(upper, json={"source": {"kind": "whip"}}, headers=bearer)
        unknown = gateway.get(f"{url}/0123456789abcdef", headers=bearer)
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (421, "wrong_region")
    assert elsewhere.json()["detail"] == "The workflow endpoint runs in us-east, not us-west."
    assert (stranger.status_code, stranger.json()["error"]) == (401, "unauthorized")
    assert (opened.status_code, opened.json()["kind"]) == (201, "whip")
    assert upper_opened.status_code == 201
    assert unknown.json() == {
        "error": "session_not_found",
        "detail": "No stream of this workflow endpoint has this id.",
    }
    # Once the workflow is deleted, its endpoint answers nothing.
    client.workflows.delete("Lot")
    with httpx.Client() as gateway:
        gone = gateway.post(predict_url(url))
    assert (gone.status_code, gone.json()["error"]) == (404, "deployment_not_found")


def test_warm_containers_are_billed_and_a_paused_endpoint_is_not(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.workflows.deploy("Lot", min_containers=2, max_containers=2)
    client.workflows.wait_until_live("Lot", poll_interval=5)
    before = fake.balance_micro_usd
    fake.clock.advance(DEPLOYMENT_METER_SECONDS + 30)  # one meter, then half a minute
    assert _billed(fake) == 2 * 5 * RATE  # five minutes of two containers, metered
    paused = client.workflows.pause("Lot")
    assert paused.endpoint is not None
    assert paused.endpoint.status == "paused"
    # The last half minute of both containers, a started container-minute, on the pause.
    assert _billed(fake) == 11 * RATE == paused.endpoint.accrued_cost_micro_usd
    assert fake.balance_micro_usd == before - 11 * RATE
    assert paused.endpoint.paused_at == paused.endpoint.updated_at is not None
    # Each meter is posted at its own instant, naming the endpoint and its workflow.
    metered, stopped = [e for e in fake.ledger if e.operation == "workflow_endpoint_t4"]
    assert stopped.created_at - metered.created_at == 30
    assert metered.description == (
        f"Workflow endpoint {paused.endpoint.id} on a {WORKFLOW_GPUS['t4'].label}: warm containers"
    )
    assert metered.metadata == {"workflow_id": paused.id, "endpoint_id": paused.endpoint.id}
    fake.clock.advance(7200)
    assert _billed(fake) == 11 * RATE
    client.workflows.update_endpoint("Lot", min_containers=1)  # paused: nothing held
    assert _billed(fake) == 11 * RATE
    # Runs wait for its resume; a second pause is a conflict.
    with pytest.raises(ConflictError, match="'Lot' is paused") as refused:
        client.workflows.run("Lot")
    assert refused.value.code == "workflow_paused"
    assert client.workflows.list_runs("Lot") == []
    with pytest.raises(ConflictError, match="cannot be paused: its endpoint is paused"):
        client.workflows.pause("Lot")
    with pytest.raises(ApiError, match="'Lot' is paused"):
        client.workflows.wait_until_live("Lot", poll_interval=5)
    resumed = client.workflows.resume("Lot")
    assert resumed.endpoint is not None
    assert resumed.endpoint.status == "provisioning"
    assert resumed.endpoint_token is None
    assert client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.status == "active"  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="not paused"):
        client.workflows.resume("Lot")
    assert client.workflows.run("Lot").run_id


@pytest.mark.parametrize("left", [3 * RATE + 1, 1, -1])
def test_the_credit_running_out_pauses_the_endpoint(
    fake: FakePictograph, client: pictograph.Client, left: int
) -> None:
    _lot(client)
    client.workflows.deploy("Lot", min_containers=1)
    client.workflows.wait_until_live("Lot", poll_interval=5)
    _balance_to(fake, left)
    fake.clock.advance(DEPLOYMENT_METER_SECONDS)
    endpoint = client.workflows.get("Lot").endpoint
    assert endpoint is not None
    assert endpoint.status == "paused"
    # What is left is paid, to the last µUSD; an overdrawn balance pays nothing.
    assert _billed(fake) == max(left, 0) == endpoint.accrued_cost_micro_usd
    assert fake.balance_micro_usd == min(left, 0)
    fake.clock.advance(3600)  # paused: neither metered nor paused again
    later = client.workflows.get("Lot").endpoint
    assert later is not None
    assert (later.paused_at, later.uptime_seconds) == (endpoint.paused_at, 300)
    with pytest.raises(PaymentRequiredError, match="needs compute credits") as refused:
        client.workflows.resume("Lot")
    assert (refused.value.credit_cost, refused.value.credits_remaining) == (RATE, min(left, 0))
    assert client.workflows.get("Lot").endpoint.status == "paused"  # type: ignore[union-attr]
    # Topped up, it resumes; what the credit could not pay was written off, not billed again.
    _balance_to(fake, 100 * RATE)
    client.workflows.resume("Lot")
    client.workflows.wait_until_live("Lot", poll_interval=5)
    fake.clock.advance(60)
    client.workflows.pause("Lot")
    assert _billed(fake) == max(left, 0) + RATE


def test_update_endpoint_changes_only_what_is_given_and_checks_it_whole(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    with pytest.raises(ConflictError, match="has not been deployed") as undeployed:
        client.workflows.update_endpoint("Lot", min_containers=1)
    assert undeployed.value.code == "not_deployed"
    client.workflows.deploy("Lot")
    cold = client.workflows.wait_until_live("Lot", poll_interval=5).endpoint
    assert cold is not None
    assert cold.updated_at is not None
    fake.clock.advance(90)
    warm = client.workflows.update_endpoint("Lot", min_containers=1, max_containers=3)
    assert warm.endpoint is not None
    assert (warm.endpoint.min_containers, warm.endpoint.max_containers) == (1, 3)
    assert warm.endpoint.scaledown_window == 60
    assert warm.endpoint.updated_at == cold.updated_at + timedelta(seconds=90)
    assert warm.endpoint.runtime is not None
    assert (warm.endpoint.runtime.state, warm.endpoint.runtime.containers) == ("live", 1)
    assert _billed(fake) == 0, "billed from the change on, not before"
    fake.clock.advance(30)
    client.workflows.update_endpoint("Lot", min_containers=0)
    assert _billed(fake) == RATE
    with pytest.raises(
        ValidationError, match=r"min_containers \(3\) is more than max_containers"
    ) as over:
        client.workflows.update_endpoint("Lot", min_containers=3, max_containers=2)
    assert [(e["loc"], e["msg"]) for e in over.value.field_errors or []] == [
        (["body", "min_containers"], "must not exceed max_containers")
    ]
    with pytest.raises(ValidationError, match="max_containers"):
        client.workflows.update_endpoint("Lot", max_containers=11)
    endpoint = client.workflows.get("Lot").endpoint
    assert endpoint is not None
    assert (endpoint.min_containers, endpoint.max_containers) == (0, 3)
    # A raw request the SDK cannot send: a change of nothing.
    with httpx.Client(
        base_url=f"{fake.base_url}/api/v1/developer/", headers={"X-API-Key": fake.api_key}
    ) as raw:
        nothing = raw.patch(f"workflows/{client.workflows.get('Lot').id}/endpoint", json={})
        # A null is a setting left as it is.
        kept = raw.patch(
            f"workflows/{client.workflows.get('Lot').id}/endpoint",
            json={"min_containers": 1, "max_containers": None},
        )
    assert kept.status_code == 200
    assert kept.json()["workflow"]["endpoint"]["max_containers"] == 3
    assert nothing.status_code == 422
    assert "min_containers" in nothing.json()["error"]["message"]


def test_an_endpoint_warmed_by_a_rescale_is_metered_on_the_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.workflows.deploy("Lot")  # scaled to zero: no meter runs
    client.workflows.wait_until_live("Lot", poll_interval=5)
    client.workflows.update_endpoint("Lot", min_containers=2, max_containers=2)
    fake.clock.advance(DEPLOYMENT_METER_SECONDS)
    assert _billed(fake) == 2 * 5 * RATE, "metered on the clock, not only at the next change"
    client.workflows.update_endpoint("Lot", min_containers=0)
    fake.clock.advance(3 * DEPLOYMENT_METER_SECONDS)
    assert _billed(fake) == 2 * 5 * RATE, "scaled to zero again: nothing more"


async def test_the_async_client_warms_an_endpoint_that_the_clock_meters(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _lot(client)
    await aclient.workflows.deploy("Lot")
    await aclient.workflows.wait_until_live("Lot", poll_interval=5)
    await aclient.workflows.update_endpoint("Lot", min_containers=1)
    fake.clock.advance(2 * DEPLOYMENT_METER_SECONDS)
    assert _billed(fake) == 2 * 5 * RATE
    endpoint = (await aclient.workflows.get("Lot")).endpoint
    assert endpoint is not None
    assert endpoint.accrued_cost_micro_usd == 2 * 5 * RATE


def test_bad_deploys_are_refused_and_make_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    with pytest.raises(ValidationError, match="region"):
        client.workflows.deploy("Lot", region="mars")
    with pytest.raises(ValidationError, match="min_containers"):
        client.workflows.deploy("Lot", min_containers=6, max_containers=10)
    with pytest.raises(ValidationError, match="scaledown_window"):
        client.workflows.deploy("Lot", scaledown_window=1)
    assert client.workflows.get("Lot").endpoint is None
    poor = fake.add_organization(balance_usd=0)
    with poor.client(max_retries=0) as theirs:
        theirs.workflows.create("Empty")
        with pytest.raises(PaymentRequiredError, match="the organization has") as poorer:
            theirs.workflows.deploy("Empty")
        # What it needs is a minute of its GPU, and what the organization has, nothing.
        assert (poorer.value.credit_cost, poorer.value.credits_remaining) == (RATE, 0)
        assert theirs.workflows.get("Empty").endpoint is None


def test_a_graph_that_cannot_stream_deploys_as_draft_until_it_is_saved_streamable(
    client: pictograph.Client,
) -> None:
    client.workflows.create("Lot", detection_graph("signs"))
    draft = client.workflows.deploy("Lot", region="us-west")
    assert draft.endpoint is not None
    assert (draft.endpoint.status, draft.endpoint.deployed) == ("draft", False)
    assert draft.endpoint.error_message is not None
    assert "no model 'signs'" in draft.endpoint.error_message
    with pytest.raises(ApiError, match=r"cannot stream: .*no model 'signs'") as refused:
        client.workflows.wait_until_live("Lot", poll_interval=5)
    assert refused.value.code == "workflow_not_streamable"
    _train(client)
    saved = client.workflows.update("Lot", readme="now with its model").endpoint
    assert saved is not None
    assert (saved.status, saved.error_message) == ("provisioning", None)
    live = client.workflows.wait_until_live("Lot", poll_interval=5)
    assert live.endpoint is not None
    assert (live.endpoint.status, live.endpoint.region) == ("active", "us-west")


@pytest.mark.parametrize("kind", [["zone"], {"zone": 1}, 5])
def test_a_draft_whose_geometry_kind_is_not_text_deploys_as_a_draft(
    client: pictograph.Client, kind: Any
) -> None:
    # A graph with errors deploys as a draft; its endpoint shows only what it can read.
    _train(client)
    graph = _counting_graph()
    graph["nodes"][3]["config"]["geometries"] = [{"kind": kind, "name": "Lot"}]
    client.workflows.create("Lot", graph)
    draft = client.workflows.deploy("Lot")
    assert draft.endpoint is not None
    assert (draft.endpoint.status, draft.endpoint.deployed) == ("draft", False)
    assert "config.geometries[0].kind" in (draft.endpoint.error_message or "")


async def test_async_a_draft_with_a_listed_geometry_kind_deploys(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _train(client)
    graph = _counting_graph()
    graph["nodes"][3]["config"]["geometries"] = [{"kind": ["line"], "name": "Gate"}]
    await aclient.workflows.create("Lot", graph)
    draft = await aclient.workflows.deploy("Lot")
    assert draft.endpoint is not None
    assert draft.endpoint.status == "draft"


def test_a_deploy_whose_model_goes_fails_and_deploys_again_in_its_region(
    client: pictograph.Client,
) -> None:
    _lot(client)
    first = client.workflows.deploy("Lot", region="us-west")
    client.models.delete("signs")
    with pytest.raises(ApiError, match=r"failed to deploy: .*no model 'signs'"):
        client.workflows.wait_until_live("Lot", poll_interval=5)
    _train(client)
    again = client.workflows.deploy("Lot", region="us-east")
    assert again.endpoint is not None
    assert first.endpoint is not None
    assert (again.endpoint.id, again.endpoint.region) == (first.endpoint.id, "us-west")
    assert again.endpoint_token is None, "the token is the first deploy's"
    assert client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.status == "active"  # type: ignore[union-attr]


def test_the_live_log_is_the_current_deployments_a_record_a_minute(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    with pytest.raises(NotFoundError, match="has not been deployed") as never:
        client.workflows.live_log("Lot")
    assert never.value.code == "not_deployed"
    client.workflows.deploy("Lot", min_containers=1)
    with pytest.raises(NotFoundError, match="no live log yet") as early:
        client.workflows.live_log_summary("Lot")
    assert early.value.code == "no_log"
    started = client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.started_at  # type: ignore[union-attr]
    assert started is not None
    fake.clock.advance(5 * 60 + 10)
    assert client.workflows.live_log("Lot").records == []  # no streams: no frames
    page = client.workflows.live_log("Lot", stream="stats", limit=2, full=True)
    assert [r.seq for r in page.records] == [4, 3]  # newest first
    assert page.records[0].message is not None
    assert page.records[0].message["containers"] == 1
    assert page.next_cursor is not None
    oldest = list(client.workflows.iter_live_log("Lot", stream="stats", order="asc", page_size=2))
    assert [r.seq for r in oldest] == [0, 1, 2, 3, 4]
    # Record n is written at the end of the endpoint's minute n.
    assert [r.ts for r in oldest] == [started + timedelta(minutes=n) for n in range(1, 6)]
    summary = client.workflows.live_log_summary("Lot")
    assert (summary.streams["stats"].count, summary.streams["frames"].count) == (5, 0)
    # Paused, its log stops; resumed, it logs anew.
    client.workflows.pause("Lot")
    fake.clock.advance(600)
    assert client.workflows.live_log_summary("Lot").streams["stats"].count == 5
    client.workflows.resume("Lot")
    with pytest.raises(NotFoundError, match="no live log yet"):
        client.workflows.live_log("Lot", stream="stats")
    client.workflows.wait_until_live("Lot", poll_interval=5)
    fake.clock.advance(60)
    assert client.workflows.live_log_summary("Lot").streams["stats"].count == 1


def test_another_organizations_workflow_and_a_viewer(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.workflows.deploy("Lot")
    lot = client.workflows.get("Lot")
    with fake.add_organization().client(max_retries=0) as other:
        for call in (
            lambda: other.workflows.deploy(lot.id),
            lambda: other.workflows.pause(lot.id),
            lambda: other.workflows.resume(lot.id),
            lambda: other.workflows.update_endpoint(lot.id, max_containers=2),
            lambda: other.workflows.live_log(lot.id),
            lambda: other.workflows.live_log_summary(lot.id),
        ):
            with pytest.raises(NotFoundError, match=f"Workflow '{lot.id}' not found"):
                call()
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        for call in (
            lambda: viewer.workflows.pause("Lot"),
            lambda: viewer.workflows.resume("Lot"),
            lambda: viewer.workflows.update_endpoint("Lot", max_containers=2),
        ):
            with pytest.raises(ForbiddenError, match="role 'viewer' cannot"):
                call()
        assert viewer.workflows.wait_until_live("Lot", poll_interval=5).endpoint is not None


def test_deleting_a_workflow_bills_its_endpoints_last_minutes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    client.workflows.deploy("Lot", min_containers=1)
    client.workflows.wait_until_live("Lot", poll_interval=5)
    fake.clock.advance(90)
    client.workflows.delete("Lot")
    assert _billed(fake) == 2 * RATE
    fake.clock.advance(3600)
    assert _billed(fake) == 2 * RATE


async def test_the_async_client_serves_a_workflow_live(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _lot(client)
    deployed = await aclient.workflows.deploy("Lot", min_containers=1)
    assert deployed.endpoint_token is not None
    assert deployed.endpoint is not None
    assert deployed.endpoint.transfer_per_gib_micro_usd == DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB
    live = await aclient.workflows.wait_until_live("Lot", poll_interval=5)
    assert live.endpoint is not None
    assert live.endpoint.status == "active"
    scaled = await aclient.workflows.update_endpoint("Lot", max_containers=4)
    assert scaled.endpoint is not None
    assert scaled.endpoint.stream_limit == 16
    fake.clock.advance(180)
    page = await aclient.workflows.live_log("Lot", stream="stats")
    assert [r.seq for r in page.records] == [2, 1, 0]
    records = [r async for r in aclient.workflows.iter_live_log("Lot", stream="stats")]
    assert len(records) == 3
    assert (await aclient.workflows.live_log_summary("Lot")).streams["stats"].count == 3
    paused = await aclient.workflows.pause("Lot")
    assert paused.endpoint is not None
    assert paused.endpoint.status == "paused"
    assert _billed(fake) == 3 * RATE
    resumed = await aclient.workflows.resume("Lot")
    assert resumed.endpoint is not None
    assert resumed.endpoint.status == "provisioning"
    with (
        aclient.workflows.connect(resumed, deployed.endpoint_token) as endpoint,
        pytest.raises(ConflictError) as refused,
    ):
        endpoint.infer_raw(_png())
    assert refused.value.code == "predict_unavailable"


# ── SDK 1.69.142: create served a workflow live ──


def _release(fake: FakePictograph, version: str) -> httpx.Client:
    """A client of an SDK release's wire (the installed SDK cannot send an older body)."""
    return httpx.Client(
        transport=fake.transport(),
        base_url=f"{fake.base_url}/api/v1/developer/",
        headers={"X-API-Key": fake.api_key, "User-Agent": f"pictograph-python/{version}"},
    )


def test_sdk_1_69_142s_create_deploys_the_endpoint_it_sends(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    body = {"name": "Lot", "graph": detection_graph("signs"), "region": "us-west"}
    with _release(fake, "1.69.142") as old:
        refused = old.post("workflows/", json={**body, "min_containers": 3, "max_containers": 2})
        made = old.post("workflows/", json={**body, "min_containers": 1})
    assert refused.status_code == 422
    assert "min_containers (3) is more than max_containers" in refused.json()["error"]["message"]
    assert made.status_code == 200
    assert made.json()["endpoint_token"].startswith("pk_deploy_")
    endpoint = made.json()["workflow"]["endpoint"]
    assert (endpoint["status"], endpoint["region"], endpoint["min_containers"]) == (
        "provisioning",
        "us-west",
        1,
    )
    # The release reads its streams' place beside a /predict URL (see below).
    assert endpoint["endpoint_url"].endswith(f"/us-west/{endpoint['id']}/predict")
    assert [w.name for w in client.workflows.list()] == ["Lot"]  # the refused one made nothing
    assert client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.status == "active"  # type: ignore[union-attr]
    # Today's create takes no endpoint: it never deploys.
    with _release(fake, "1.69.146") as today:
        answer = today.post("workflows/", json={**body, "name": "Gate"})
    assert answer.status_code == 422
    assert "region: Extra inputs are not permitted" in answer.json()["error"]["message"]


def test_a_workflow_endpoints_url_ends_in_predict_before_1_69_144(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 1.69.142 and 1.69.143 open a workflow's streams on the /sessions beside its
    # endpoint_url, which must end in /predict (they refuse any other); 1.69.144 on open
    # them on the endpoint_url itself, which ends in /sessions.
    _lot(client)
    token = client.workflows.deploy("Lot").endpoint_token
    endpoint = client.workflows.get("Lot").endpoint
    assert endpoint is not None
    assert endpoint.endpoint_url is not None
    root = endpoint.endpoint_url.removesuffix("/sessions")
    assert root.endswith(f"/us-east/{endpoint.id}")
    for version, ending in (("1.69.143", "/predict"), ("1.69.144", "/sessions")):
        with _release(fake, version) as sdk:
            replies = [
                sdk.get("workflows/Lot").json()["workflow"],
                sdk.get("workflows/").json()["workflows"][0],
                sdk.patch("workflows/Lot", json={"description": "gate"}).json()["workflow"],
                sdk.patch("workflows/Lot/endpoint", json={"max_containers": 2}).json()["workflow"],
                sdk.post("workflows/Lot/pause").json()["workflow"],
                sdk.post("workflows/Lot/resume").json()["workflow"],
            ]
        urls = [r["endpoint"]["endpoint_url"] for r in replies]
        assert urls == [root + ending] * len(replies), version
    # Either URL leads a predict to the same refusal.
    with httpx.Client() as gateway:
        refused = gateway.post(root + "/predict", headers={"Authorization": f"Bearer {token}"})
    assert (refused.status_code, refused.json()["error"]) == (409, "predict_unavailable")


# ── what its live view runs, reports and draws ──


def _counter(model: str = "signs", *, keep: list[str] | None = None) -> dict[str, Any]:
    """A dataset through a Model at fp16, a Filter, a Track and a Measure of a line and
    two zones, to an Output."""
    return chain_graph(
        ("src", "source", {"kind": "dataset", "dataset": DATASET}),
        ("det", "model", {"model": model, "precision": "fp16", "confidence": 0.25}),
        ("keep", "filter", {"classes": keep or [], "min_confidence": 0.0}),
        ("trk", "track", {"max_age": 30}),
        (
            "count",
            "measure",
            {
                "geometries": [
                    {"kind": "zone", "name": "Lot"},
                    {"kind": "line", "name": "Gate"},
                    {"kind": "zone", "name": "Dock"},
                ]
            },
        ),
        ("out", "output", {"format": "json"}),
    )


def test_the_live_view_is_read_off_the_graph(client: pictograph.Client) -> None:
    _train(client)
    client.workflows.create("Counter", _counter())
    live = client.workflows.deploy("Counter").endpoint.live  # type: ignore[union-attr]
    model = client.models.get("signs")
    assert [(m.model_id, m.name, m.precision, m.model_type) for m in live.models] == [
        (model.id, "signs", "fp16", "object_detection")
    ]
    assert live.classes == ["stop_sign", "yield"]
    assert live.class_types == {"stop_sign": "bbox", "yield": "bbox"}
    assert live.class_colors == {
        "stop_sign": WORKFLOW_LIVE_COLORS[0],
        "yield": WORKFLOW_LIVE_COLORS[1],
    }
    # Lines are L1, L2...; zones P1, P2..., each named as a frame's `measures` names it.
    assert [(m.id, m.kind, m.measure, m.label, m.color) for m in live.measures] == [
        ("Lot", "zone", "occupancy", "P1", WORKFLOW_LIVE_COLORS[0]),
        ("Gate", "line", "line_cross", "L1", WORKFLOW_LIVE_COLORS[1]),
        ("Dock", "zone", "occupancy", "P2", WORKFLOW_LIVE_COLORS[2]),
    ]
    # A results file acts on no event, and no stream has run.
    assert live.events == []
    assert client.workflows.get("Counter").endpoint.live_outputs is None  # type: ignore[union-attr]
    # A Filter's classes are all the view draws; a save changes the view at once.
    narrowed = client.workflows.update("Counter", graph=_counter(keep=["yield"]))
    assert narrowed.endpoint is not None
    assert (narrowed.endpoint.live.classes, narrowed.endpoint.live.class_colors) == (
        ["yield"],
        {"yield": WORKFLOW_LIVE_COLORS[0]},
    )
    # A model deleted since is left out (the endpoint cannot run it either).
    client.models.delete("signs")
    assert client.workflows.get("Counter").endpoint.live.models == []  # type: ignore[union-attr]


async def test_async_the_live_view_is_read_off_the_graph(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    _train(client)
    await aclient.workflows.create("Counter", _counter())
    deployed = await aclient.workflows.deploy("Counter")
    assert deployed.endpoint is not None
    live = deployed.endpoint.live
    assert [(m.name, m.precision) for m in live.models] == [("signs", "fp16")]
    assert [m.label for m in live.measures] == ["P1", "L1", "P2"]
    listed = await aclient.workflows.list()
    assert listed[0].endpoint is not None
    assert listed[0].endpoint.live == live


@pytest.mark.parametrize(
    ("block", "setting", "value"),
    [
        (4, "geometries", [{"kind": "circle", "name": "X"}, {"name": "Y"}, {"kind": "zone"}, 5]),
        (4, "geometries", "Lot"),
        (1, "model", 5),
        (1, "precision", "fp8"),
        (2, "classes", [3, None]),
    ],
)
def test_a_drafts_live_view_leaves_out_what_its_blocks_do_not_take(
    client: pictograph.Client, block: int, setting: str, value: object
) -> None:
    # A saved graph keeps any values (its validation errors say what is wrong; such a
    # graph deploys as `draft`): its live view, and every reply that carries it, must
    # still be answered, with what the blocks do not take left out.
    _train(client)
    graph = _counter()
    graph["nodes"][block]["config"][setting] = value
    client.workflows.create("Draft", graph)
    deployed = client.workflows.deploy("Draft")
    assert deployed.endpoint is not None
    live = deployed.endpoint.live
    assert [w.name for w in client.workflows.list()] == ["Draft"]
    if setting == "geometries":
        assert live.measures == []
    if setting == "model":
        assert (live.models, live.classes) == ([], [])
    if setting == "precision":
        assert [m.precision for m in live.models] == ["fp32"]
    if setting == "classes":
        assert live.classes == ["stop_sign", "yield"]


def test_a_failed_endpoint_deployed_again_keeps_its_id_token_scaling_and_bill(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    first = client.workflows.deploy(
        "Lot", region="us-west", min_containers=1, max_containers=3, scaledown_window=120
    )
    assert first.endpoint is not None
    assert first.endpoint_token is not None
    client.workflows.wait_until_live("Lot", poll_interval=5)
    fake.clock.advance(90)
    client.workflows.pause("Lot")
    assert _billed(fake) == 2 * RATE  # 90 s of one container: two started minutes
    with pytest.raises(ConflictError, match=r"already deployed \(paused\)") as deployed:
        client.workflows.deploy("Lot")
    assert deployed.value.code == "already_deployed"
    # Its model goes while it comes up again: it fails, and neither pauses nor resumes.
    client.workflows.resume("Lot")
    client.models.delete("signs")
    with pytest.raises(ApiError, match="failed to deploy"):
        client.workflows.wait_until_live("Lot", poll_interval=5)
    with pytest.raises(ConflictError, match="cannot be paused: its endpoint is failed"):
        client.workflows.pause("Lot")
    with pytest.raises(ConflictError, match="cannot be resumed: its endpoint is failed"):
        client.workflows.resume("Lot")
    _train(client)
    again = client.workflows.deploy("Lot")  # nothing given: its settings stay
    assert again.endpoint_token is None
    endpoint = again.endpoint
    assert endpoint is not None
    assert (endpoint.id, endpoint.region, endpoint.created_at, endpoint.auth_token_prefix) == (
        first.endpoint.id,
        "us-west",
        first.endpoint.created_at,
        first.endpoint.auth_token_prefix,
    )
    assert (endpoint.min_containers, endpoint.max_containers, endpoint.scaledown_window) == (
        1,
        3,
        120,
    )
    assert (endpoint.accrued_cost_micro_usd, endpoint.uptime_seconds) == (2 * RATE, 90)
    live = client.workflows.wait_until_live("Lot", poll_interval=5).endpoint
    assert live is not None
    assert live.endpoint_url is not None
    # Its streams take the token its first deploy showed.
    with httpx.Client() as gateway:
        opened = gateway.post(
            live.endpoint_url,
            json={"source": {"kind": "whip"}},
            headers={"Authorization": f"Bearer {first.endpoint_token}"},
        )
    assert opened.status_code == 201
    fake.clock.advance(60)
    paused = client.workflows.pause("Lot").endpoint
    assert paused is not None
    # 150 container-seconds in all: three started minutes, the first two billed before.
    assert _billed(fake) == 3 * RATE == paused.accrued_cost_micro_usd
    assert paused.uptime_seconds == 150


def test_a_resume_deploys_the_workflow_on_the_gpu_it_has_now(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _lot(client)
    made = client.workflows.deploy("Lot", min_containers=1).endpoint
    assert made is not None
    # What is not given is the default: one container at most, a minute's scaledown.
    assert (made.max_containers, made.scaledown_window, made.stream_limit) == (1, 60, 4)
    client.workflows.wait_until_live("Lot", poll_interval=5)
    paused = client.workflows.pause("Lot").endpoint
    assert paused is not None
    assert paused.paused_at is not None
    client.workflows.update("Lot", compute={"gpu": "l4"})
    resumed = client.workflows.resume("Lot").endpoint
    assert resumed is not None
    assert (resumed.gpu_type, resumed.paused_at) == ("l4", None)
    client.workflows.wait_until_live("Lot", poll_interval=5)
    fake.clock.advance(60)
    client.workflows.pause("Lot")
    l4 = [e.amount for e in fake.ledger if e.operation == "workflow_endpoint_l4"]
    assert l4 == [-WORKFLOW_GPUS["l4"].micro_usd_per_minute]


def test_an_endpoint_live_once_stays_deployed_when_a_resume_leaves_it_draft(
    client: pictograph.Client,
) -> None:
    # `deployed` is whether it has ever been deployed: a draft that never came up is not;
    # one that was live, then resumed on a graph that cannot stream, is.
    _lot(client)
    client.workflows.deploy("Lot")
    client.workflows.wait_until_live("Lot", poll_interval=5)
    client.workflows.pause("Lot")
    client.workflows.update("Lot", graph=detection_graph("no-such-model"))
    resumed = client.workflows.resume("Lot").endpoint
    assert resumed is not None
    assert (resumed.status, resumed.deployed) == ("draft", True)
    assert "no model 'no-such-model'" in (resumed.error_message or "")


def test_a_draft_endpoint_holds_no_run_back_and_says_it_has_no_log(
    client: pictograph.Client,
) -> None:
    client.workflows.create("Lot", detection_graph("signs"))
    client.workflows.deploy("Lot")
    with pytest.raises(NotFoundError, match="no live log yet: its endpoint is draft"):
        client.workflows.live_log("Lot")
    # The model trained since (no save): the graph runs, though the endpoint is a draft
    # until a save deploys it.
    _train(client)
    assert client.workflows.get("Lot").endpoint.status == "draft"  # type: ignore[union-attr]
    assert client.workflows.run("Lot").run_id


def test_a_save_of_a_workflow_never_deployed_deploys_nothing(client: pictograph.Client) -> None:
    _lot(client)
    client.workflows.deploy("Lot")
    client.workflows.create("Gate", detection_graph("signs"))
    assert client.workflows.update("Gate", readme="# Gate").endpoint is None


def test_sdk_1_69_142s_create_with_an_endpoint_needs_credit_first(fake: FakePictograph) -> None:
    poor = fake.add_organization(balance_usd=0)
    with httpx.Client(
        transport=fake.transport(),
        base_url=f"{fake.base_url}/api/v1/developer/",
        headers={"X-API-Key": poor.api_key, "User-Agent": "pictograph-python/1.69.142"},
    ) as old:
        refused = old.post("workflows/", json={"name": "Lot", "min_containers": 1})
        listed = old.get("workflows/")
    assert refused.status_code == 402
    assert "needs compute credits" in refused.json()["error"]["message"]
    assert listed.json()["workflows"] == []


def test_a_graph_with_warnings_only_deploys(client: pictograph.Client) -> None:
    _train(client)
    graph = detection_graph("signs")
    del graph["nodes"][2]  # no Output: a warning, not an error
    graph["edges"] = graph["edges"][:1]
    client.workflows.create("Lot", graph)
    deployed = client.workflows.deploy("Lot").endpoint
    assert deployed is not None
    assert (deployed.status, deployed.error_message) == ("provisioning", None)
    assert client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.status == "active"  # type: ignore[union-attr]


def test_a_save_deploys_again_for_another_model_but_not_for_another_block(
    client: pictograph.Client,
) -> None:
    _lot(client)
    _train(client, "cones")
    client.workflows.deploy("Lot")
    started = client.workflows.wait_until_live("Lot", poll_interval=5).endpoint.started_at  # type: ignore[union-attr]
    filtered = detection_graph("signs")
    filtered["nodes"].insert(2, {"id": "flt", "type": "filter", "config": {}})
    filtered["edges"][1:] = [{"source": "det", "target": "flt"}, {"source": "flt", "target": "out"}]
    kept = client.workflows.update("Lot", graph=filtered).endpoint
    assert kept is not None
    assert (kept.status, kept.started_at) == ("active", started)
    filtered["nodes"][1]["config"]["model"] = "cones"
    again = client.workflows.update("Lot", graph=filtered).endpoint
    assert again is not None
    assert again.status == "provisioning"
