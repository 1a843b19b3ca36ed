"""The SDK's own live tests for organizations and API keys, unmodified, against the fake.

The SDK's sdist ships ``tests/live/``: tests for the production API that read the key
from ``PICTOGRAPH_TEST_KEY`` and the base URL from ``PICTOGRAPH_TEST_BASE_URL``. Copies of
the organizations and API-key ones sit in ``tests/sdk_live/`` (origin and license in each
header, the SDK's MIT license beside them). Here they run in a pytest of their own, in a
subprocess, against a served fake: the same ``pictograph-fake serve`` app on a loopback
port, no network beyond it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from pictograph_testing.server import FakeServer

LIVE = Path(__file__).resolve().parent / "sdk_live"
FILES = ("test_organizations_live.py", "test_api_keys_live.py")


def _outcomes(report: Path) -> dict[str, str]:
    """Each test's outcome (``passed``, ``failed``, ``error``, ``skipped``) from JUnit XML."""
    outcomes = {}
    for case in ElementTree.parse(report).iter("testcase"):
        found = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[case.attrib["name"]] = (
            {"failure": "failed"}.get(found[0], found[0]) if found else "passed"
        )
    return outcomes


def test_the_sdks_live_tests_pass_against_a_served_fake(tmp_path: Path) -> None:
    report = tmp_path / "live.xml"
    with FakeServer(seed=11) as server:
        env = {
            **os.environ,
            "PICTOGRAPH_TEST_KEY": server.api_key,
            "PICTOGRAPH_TEST_BASE_URL": server.base_url,
            # They need no plugin, and loading every installed one costs seconds.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-c",
                str(LIVE / "pytest.ini"),
                "--rootdir",
                str(LIVE),
                "--confcutdir",
                str(LIVE),
                "-p",
                "no:cacheprovider",
                "-m",
                "live",
                f"--junitxml={report}",
                *(str(LIVE / name) for name in FILES),
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        fake = server.fake
        assert result.returncode == 0, result.stdout + result.stderr
        assert fake.server_errors == []
        assert fake.unserved_calls == ()
        # They reached the fake: a key was made, read, renamed, disabled and deleted.
        for method in ("POST", "DELETE"):
            fake.calls.assert_called(method, "/api/v1/api-keys/**")
    outcomes = _outcomes(report)
    assert outcomes == {
        "test_me_returns_current_org": "passed",
        "test_list_members": "passed",
        "test_list_invites": "passed",
        "test_list_invites_with_status_filter": "passed",
        "test_list_contains_current_key": "passed",
        "test_create_get_update_delete": "passed",
        "test_update_requires_at_least_one_field": "passed",
    }
