"""What a test passes the world builders is checked before anything is built from it.

A value of the wrong type is a ``TypeError`` and one out of range a ``ValueError``, each
naming the argument; a refused builder leaves the world as it was (read back through
the real SDK), and what is accepted is only what the API could have made, so no later
listing fails on it.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pictograph
import pytest

from pictograph_testing import FakePictograph, VirtualClock

NOTHING: Any = None


def listed(client: pictograph.Client) -> tuple[object, ...]:
    """What the organization's listings show: what a refused builder must not change."""
    return (
        [d.name for d in client.datasets.list()],
        [(e.name, e.dataset_name) for e in client.exports.list()],
        [m.email for m in client.organizations.list_members()],
        [k.id for k in client.api_keys.list()],
        client.credits.balance().model_dump(),
        [d.name for d in client.explore.datasets()],
    )


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        # Counts: whole numbers in range, before the dataset is made.
        (lambda f: f.add_dataset("d", images=2.5), TypeError, "images must be a whole number"),
        (lambda f: f.add_dataset("d", images="5"), TypeError, "images must be a whole number"),
        (lambda f: f.add_dataset("d", images=True), TypeError, "images must be a whole number"),
        (lambda f: f.add_dataset("d", images=10**12), ValueError, "from 0 to 100,000"),
        (
            lambda f: f.add_dataset("d", images=3, completed_images=1.5),
            TypeError,
            "completed_images must be a whole number",
        ),
        (
            lambda f: f.add_dataset("d", images=2, completed_images=3),
            ValueError,
            "completed_images must be between 0 and images",
        ),
        (lambda f: f.add_dataset("d", visibility="shared"), ValueError, "visibility must be one"),
        # Names: the API's rule for them.
        (lambda f: f.add_dataset(""), ValueError, "'name' must be 1 to 100 characters"),
        (lambda f: f.add_dataset("   "), ValueError, "not blank"),
        (lambda f: f.add_dataset("x" * 300), ValueError, "1 to 100 characters"),
        (lambda f: f.add_dataset(".."), ValueError, "'..'"),
        (lambda f: f.add_dataset(NOTHING), TypeError, "name must be a string"),
        (lambda f: f.add_export("road-signs", ""), ValueError, "'name' must be 1 to 100"),
        (lambda f: f.add_export("road-signs", NOTHING), TypeError, "name must be a string"),
        (lambda f: f.add_export(NOTHING, "e"), TypeError, "dataset must be a string"),
        (
            lambda f: f.add_export("nowhere", "e", status="done"),
            ValueError,
            "^unknown export status 'done'$",
        ),
        (
            lambda f: f.add_export("road-signs", "e", export_format=5),
            TypeError,
            "export_format must be a string",
        ),
        (
            lambda f: f.add_export("road-signs", "e", status_filter=5),
            TypeError,
            "status_filter must be a string",
        ),
        # A lone string where a list goes: never read as its letters.
        (lambda f: f.add_dataset("d", classes="stop"), TypeError, "classes must be a list"),
        (
            lambda f: f.add_dataset("d", annotation_types="bbox"),
            TypeError,
            "annotation_types must be a list",
        ),
        (
            lambda f: f.add_export("road-signs", "e", class_filter="stop"),
            TypeError,
            "class_filter must be a list",
        ),
        (
            lambda f: f.publish_dataset("road-signs", auto_tags="car"),
            TypeError,
            "auto_tags must be a list",
        ),
        # Values Explore and the member list would fail to send.
        (
            lambda f: f.add_dataset("d", license_id=5, visibility="public"),
            TypeError,
            "license_id must be a string",
        ),
        (
            lambda f: f.publish_dataset("road-signs", star_count=math.nan),
            TypeError,
            "star_count must be a whole number",
        ),
        (
            lambda f: f.publish_dataset("road-signs", star_count=2.5),
            TypeError,
            "star_count must be a whole number",
        ),
        (lambda f: f.publish_dataset(NOTHING), TypeError, "dataset must be a string"),
        (
            lambda f: f.publish_dataset("road-signs", star_count=10**12),
            ValueError,
            "star_count must be a whole number from 0 to 100,000",
        ),
        (
            lambda f: f.publish_dataset("road-signs", license_id=5),
            TypeError,
            "license_id must be a string",
        ),
        (lambda f: f.add_member("a@example.com", full_name=5), TypeError, "full_name must be"),
        (lambda f: f.add_member(NOTHING), TypeError, "email must be a string"),
        (lambda f: f.accept_invite(NOTHING), TypeError, "invite must be a string"),
        (lambda f: f.add_task(NOTHING), TypeError, "dataset must be a string"),
        (lambda f: f.add_task("road-signs", title=5), TypeError, "title must be a string"),
        # Money: a positive, finite amount a ledger holds.
        (lambda f: f.top_up(1e10), ValueError, "usd must be a number over 0, up to 1e+09"),
        (lambda f: f.top_up(math.nan), ValueError, "usd must be a number over 0"),
        (lambda f: f.top_up(True), TypeError, "usd must be a number"),
        (lambda f: f.top_up("5"), TypeError, "usd must be a number"),
        # A key a client could not send in a header.
        (lambda f: f.client(api_key="ключ"), ValueError, "printable ASCII"),
        (lambda f: f.client(timeout="abc"), TypeError, "timeout must be a number"),
        (lambda f: f.client(timeout=10**9), ValueError, "timeout must be a number over 0, up to"),
        (lambda f: f.run(NOTHING), TypeError, "ref must be a string"),
        (lambda f: f.run("no-such-run"), ValueError, "no run with the id or name"),
        (lambda f: f.add_api_key(member="m@example.com"), TypeError, "member must be a member"),
        (lambda f: f.add_organization(name=5), TypeError, "name must be a string"),
        (
            lambda f: f.add_connector_source("v7", "k" * 20, datasets=["a"]),
            TypeError,
            "datasets must map dataset names",
        ),
    ],
)
def test_a_refused_builder_names_the_argument_and_changes_nothing(
    build: Any, error: type[Exception], message: str
) -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("road-signs", images=4, completed_images=2)
        fake.add_export("road-signs", "v1")
        client = fake.client(max_retries=0)
        before = listed(client)
        with pytest.raises(error, match=message.replace("(", r"\(").replace("+", r"\+")):
            build(fake)
        assert listed(client) == before


def test_an_organization_client_refused_mints_no_key() -> None:
    with FakePictograph(seed=1) as fake:
        other = fake.add_organization(name="Other")
        owner = other.client(max_retries=0)
        keys = [key.id for key in owner.api_keys.list()]
        with pytest.raises(TypeError, match="timeout must be a number"):
            other.client(role="viewer", timeout="abc")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_retries must be a whole number from 0"):
            other.client(role="viewer", max_retries=-1)
        with pytest.raises(TypeError, match="timeout must be a number"):
            other.async_client(role="viewer", timeout="abc")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_retries must be a whole number from 0"):
            other.async_client(role="viewer", max_retries=-1)
        assert [key.id for key in owner.api_keys.list()] == keys
        viewer = other.client(role="viewer", max_retries=0)
        assert viewer.credits.balance() is not None


def test_tasks_take_members_of_their_organization_and_whole_seconds() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("road-signs", images=3)
        member = fake.add_member("a@example.com")
        stranger = fake.add_organization().add_member("z@example.com")
        with pytest.raises(TypeError, match="assignees must be a list of members"):
            fake.add_task("road-signs", assignees=member)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="is not a member of that organization"):
            fake.add_task("road-signs", assignees=[stranger])
        with pytest.raises(TypeError, match="images \\(a count, or image paths\\)"):
            fake.add_task("road-signs", images=2.5)  # type: ignore[arg-type]
        task = fake.add_task("road-signs", assignees=[member], images=2)
        image = fake.client().images.list("road-signs")[-1].filename
        for seconds, error in ((math.nan, TypeError), (1.5, TypeError), (-1, ValueError)):
            with pytest.raises(error, match="seconds must be a whole number"):
                fake.track_task_time(task, member, image, seconds)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="is not a member of that organization"):
            fake.track_task_time(task, stranger, image, 5)
        with pytest.raises(TypeError, match="task must be a task from add_task"):
            fake.track_task_time(task.id, member, image, 5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="image must be a string"):
            fake.track_task_time(task, member, NOTHING, 5)
        fake.track_task_time(task, member, image, 5)
        report = fake.client().tasks.contributions(task.id)
        assert [(c.email, c.active_seconds) for c in report.contributors] == [("a@example.com", 5)]


def test_the_journal_refuses_criteria_no_call_could_meet() -> None:
    """`assert_not_called(status="200")` passed whatever the fake answered: a criterion
    of the wrong type is a mistake, refused, never an empty match."""
    with FakePictograph(seed=1) as fake:
        fake.client().credits.balance()
        calls = fake.calls
        with pytest.raises(ValueError, match="status must be an HTTP status code"):
            calls.assert_not_called("GET", "credits/balance", status="200")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="method must be one of GET"):
            calls.assert_not_called(method="FETCH")
        with pytest.raises(TypeError, match="fault must be True, False or None"):
            calls.filter(fault="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="params must be a mapping"):
            calls.filter(params=[1])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="path must be a string or a compiled pattern"):
            calls.filter(path=5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="times must be a whole number of calls"):
            calls.assert_called("GET", "credits/balance", times="1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="times must be a whole number of calls"):
            calls.assert_called("GET", "credits/balance", times=-1)
        calls.assert_called("GET", "credits/balance", status=200, times=1)
        calls.assert_not_called("GET", "credits/balance", status=500)
        calls.assert_not_called(method="OPTIONS")  # a real method: none was sent


def test_the_clock_and_the_fake_refuse_arguments_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="start must be a timezone-aware datetime"):
        VirtualClock("2024-01-01")  # type: ignore[arg-type]
    clock = VirtualClock()
    with pytest.raises(TypeError, match="moment must be a number of virtual seconds"):
        clock.reach("5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="speed must be a number"):
        clock.set_speed("1")  # type: ignore[arg-type]
    clock.reach(5)
    assert clock.monotonic() == 5
    with pytest.raises(TypeError, match="scenario must be a name, a path"):
        FakePictograph(scenario=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="scenario_dirs must be a list of folders"):
        FakePictograph(scenario_dirs=NOTHING)
    with pytest.raises(TypeError, match="clock_modules must be a list of module names"):
        FakePictograph(clock_modules=[""])
    with pytest.raises(ValueError, match="api_key must be printable ASCII"):
        FakePictograph(api_key="pk_live_a\nb")


@pytest.mark.parametrize(
    "flag", ["strict", "assert_all_fired", "assert_all_served", "assert_streams_stopped"]
)
def test_a_fake_takes_only_true_or_false_for_a_teardown_check(flag: str) -> None:
    wrong: dict[str, Any] = {flag: "no"}
    with pytest.raises(TypeError, match=f"^{flag} must be True or False, got 'no'$"):
        FakePictograph(**wrong)


def test_a_fake_refuses_a_lone_string_where_a_list_of_names_goes() -> None:
    """``allow_hosts="example.com"`` is a list forgotten: never read as its letters."""
    with pytest.raises(TypeError, match=r"^allow_hosts must be a list of host names"):
        FakePictograph(allow_hosts="example.com")
    with pytest.raises(TypeError, match=r"^clock_modules must be a list of module names"):
        FakePictograph(clock_modules="my_app")
    fake = FakePictograph(allow_hosts=["Example.COM"], clock_modules=["my_app"])
    assert (fake.allow_hosts, fake.clock_modules) == (("example.com",), ("my_app",))


def test_an_organizations_builders_take_the_fakes_parameters_in_that_organization() -> None:
    with FakePictograph(seed=1) as fake:
        other = fake.add_organization(name="Other")
        other.add_dataset("road-signs", images=3, completed_images=1)
        other.add_export("road-signs", "v1")
        assert [d.name for d in other.client().datasets.list()] == ["road-signs"]
        assert fake.client().datasets.list() == []
        shown = inspect.signature(other.add_dataset).parameters
        assert "images" in shown
        assert "organization" not in shown
        with pytest.raises(TypeError, match="imags"):
            other.add_dataset("more", imags=3)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="leave organization= out"):
            other.add_dataset("more", organization=fake.organization)
        with pytest.raises(TypeError, match="images must be a whole number"):
            other.add_dataset("more", images=2.5)  # type: ignore[arg-type]
        assert [d.name for d in other.client().datasets.list()] == ["road-signs"]
