#!/usr/bin/env bash
# Run the SDK's own live, e2e and contract suites, unmodified, against a served fake:
#
#   scripts/sdk_suites.sh              # the pinned SDK release's suites
#   scripts/sdk_suites.sh -- -k images # extra pytest arguments after --
#
# Fetches the pinned release's sdist once (scripts/sdk_sdist.sh), then
# `python -m pictograph_testing.sdk_suites` picks the live and e2e files whose SDK calls
# the route table serves, writes the route snapshot tests/contract binds requests against,
# starts `pictograph-fake serve --profile current` on a free loopback port for each of the
# two xdist workers and runs them in one pytest. Exits non-zero if any test fails.
set -euo pipefail
source "$(dirname "$0")/_env.sh"
sdist="$(bash scripts/sdk_sdist.sh)"
python -m pictograph_testing.sdk_suites "$sdist" "$@"
