"""The SDK's own unit-test recordings, replayed against the fake: reply shapes by route.

The pinned SDK's sdist (``scripts/sdk_sdist.sh``) ships ``tests/unit``, whose canned
replies mirror the API. Its requests and canned replies are recorded once per release and
recorder, kept in the repository (``recordings/``; ``scripts/sdk_replay.sh keep`` records
afresh), then replayed here in process: every difference in envelope, keys (down to three
levels: ``replay._DEPTH``), JSON types or status class fails, unless ``allowed.toml`` says
why the fake is right. Without the sdist this module skips, except in CI (``CI`` set),
where it fails: ``scripts/sdk_replay.sh`` fetches the sdist first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.sdk_contract import replay

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="reads TOML with tomllib")

VERSION = replay.VERSION


def _sdist() -> Path:
    folder = replay.sdist_folder()
    if not (folder / ".unpacked").exists():
        if os.environ.get("CI"):
            pytest.fail(f"no sdist of pictograph {VERSION}: run scripts/sdk_sdist.sh first")
        pytest.skip(f"no sdist of pictograph {VERSION} (scripts/sdk_sdist.sh fetches it)")
    return folder


# Without a kept recording it runs the SDK's whole unit suite under the recorder first:
# about 2.5 minutes on an idle machine, past the suite's 5-minute timeout on a busy one.
@pytest.mark.timeout(900)
def test_every_reply_shape_matches_or_is_explained() -> None:
    # One test, so that pytest-xdist records and replays once. The SDK's unit suite
    # sends about 1,265 requests: a recorder that lost its hook would replay nothing
    # and find nothing different.
    outcome = replay.replay(replay.load(replay.record(_sdist(), VERSION)))
    entries = replay.allowances()
    assert outcome.pairs > 1000
    assert sum(outcome.compared.values()) > 300
    assert not replay.unexplained(outcome, entries), "\n" + replay.report(outcome, entries)
    assert not replay.unused(outcome, entries), "stale allow-list entries"


def test_the_kept_recording_is_of_the_pinned_release_and_recorder() -> None:
    # Else CI records the SDK's unit suite on every run: minutes of both cores.
    kept = replay.kept_recording(VERSION)
    assert kept.exists(), (
        f"no recording of pictograph {VERSION} by today's recorder in the repository: "
        "run scripts/sdk_replay.sh keep and commit it"
    )
    assert [path.name for path in replay.KEPT.iterdir()] == [kept.name], "stale recordings"
    assert len(replay.load(kept)) > 1000


def test_every_allowance_says_why() -> None:
    entries = replay.allowances()
    assert entries
    assert all(len(entry.reason.split()) >= 8 for entry in entries)
