#!/usr/bin/env bash
# Replay the pinned SDK's own unit-test recordings against the fake and compare reply
# shapes route by route (tests/sdk_contract/). Fetches the SDK's sdist once, then replays
# in process the recording of its unit suite the repository keeps
# (tests/sdk_contract/recordings/; without one for the pinned release and today's
# recorder, it records the suite here first, cached in .cache/sdk-replay/).
#
#   scripts/sdk_replay.sh            # the replay's tests
#   scripts/sdk_replay.sh report     # print the per-route report as well
#   scripts/sdk_replay.sh keep       # record afresh and keep it (after a pin or recorder change)
set -euo pipefail
source "$(dirname "$0")/_env.sh"
bash scripts/sdk_sdist.sh >/dev/null
if [ "${1:-}" = "report" ]; then
  python -m tests.sdk_contract.replay
  exit 0
fi
if [ "${1:-}" = "keep" ]; then
  python -m tests.sdk_contract.replay --keep
  exit 0
fi
CI="${CI:-1}" python -m pytest -q -p no:cacheprovider tests/sdk_contract/test_unit_replay.py
