"""What a user's type checker sees: code written against the package under `mypy --strict`.

The package ships ``py.typed``; these tests check, as a user's project would, that a
misspelt import is an error (the lazy imports are hidden from checkers), that settings
with a fixed set of values take only those, and that a function decorated with a fake
loses its ``pictograph_fake`` parameter. One mypy run, with its own cache.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

USER_CODE = """
from __future__ import annotations

import pytest

from pictograph_testing import (
    FailureReason,
    FakePictograph,
    FakeServer,
    MemberRole,
    ProfileName,
    Receiver,
    Role,
    TaskKind,
    Visibility,
    WebhookRequest,
)
from pictograph_testing import FakePictogrpah  # error: no such name


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_roles(pictograph_fake: FakePictograph, role: Role) -> None:
    pictograph_fake.add_api_key(role)


def receive(request: WebhookRequest) -> None: ...


def settings(fake: FakePictograph, reason: FailureReason, profile: ProfileName) -> None:
    fake.faults.fail_run(reason=reason)
    fake.webhooks.route("https://hooks.example.com/in", receive)
    member: MemberRole = "annotator"
    kind: TaskKind = "review"
    seen: Visibility = "public"
    where: Receiver = "https://hooks.example.com/in"
    del member, kind, seen, where
    with FakePictograph(profile=profile) as fake_of_that_profile:
        del fake_of_that_profile


def wrong(fake: FakePictograph) -> None:
    fake.faults.fail_run(reason="oom_killed")  # error: no such reason
    FakePictograph(profile="currnet")  # error: no such profile
    fake.webhooks.route("https://hooks.example.com/in", 42)  # error: no receiver


def org_builders(fake: FakePictograph) -> None:
    other = fake.add_organization(name="Other")
    other.add_dataset("d", images=3, completed_images=1)
    other.add_dataset("e", imags=3)  # error: no such parameter
    other.client(role="viewer", max_retries=0)


@FakePictograph(seed=1)
def job(pictograph_fake: FakePictograph) -> int:
    return len(pictograph_fake.calls)


def call_it() -> int:
    with FakeServer() as server:
        del server
    return job()  # the fake is the decorator's to give
"""

# The lines mypy must report, and only those: each says so.
EXPECTED = {
    number
    for number, line in enumerate(USER_CODE.lstrip("\n").splitlines(), start=1)
    if "# error:" in line
}


def test_mypy_strict_sees_the_public_api_as_documented(tmp_path: Path) -> None:
    from mypy import api

    code = tmp_path / "user_tests.py"
    code.write_text(USER_CODE.lstrip("\n"), encoding="utf-8")
    out, err, status = api.run(
        [
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--python-version",
            "3.10",
            str(code),
        ]
    )
    assert status == 1, (out, err)
    lines = {int(found) for found in re.findall(r"user_tests\.py:(\d+): error", out)}
    assert lines == EXPECTED, out
    assert 'Module "pictograph_testing" has no attribute "FakePictogrpah"' in out
    assert "\"Literal['oom', 'preemption', 'data_error']\"" in out
    assert "\"Literal['classic', 'current'] | None\"" in out
