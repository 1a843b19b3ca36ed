#!/usr/bin/env bash
# Run tests/matrix (the training guide, images and annotations) against several SDK releases.
#
#   scripts/sdk_matrix.sh                  # the default releases (see DEFAULT_VERSIONS)
#   scripts/sdk_matrix.sh 1.0.0 1.69.146   # just these
#
# Each release gets a virtualenv of its own in .venv-sdk/<version>/ holding only
# `pictograph==<version>`; a .pth file layers the project's venv (.venv, made by
# scripts/_env.sh: this package, its dependencies and the test tools) under it, so the
# release under test shadows the pinned SDK and nothing else is installed twice. Every
# release since 1.0.0 pins the same httpx, pydantic and Pillow ranges as this package,
# so the shared dependencies fit all of them. Venvs are reused while pyproject.toml is
# unchanged. Releases run two at a time (the machine has two cores), each with its log
# in .venv-sdk/logs/<version>.log and PICTOGRAPH_SDK_MATRIX=<version> set, which
# tests/matrix checks against the SDK it imports. Prints one summary line per release
# and exits non-zero if any release failed to install or failed a test.
#
# From a git worktree (which has no venvs of its own), point it at the main checkout's:
#   PROJECT_VENV=/path/to/main/.venv SDK_VENVS=/path/to/main/.venv-sdk \
#   SDK_MATRIX_LOGS=/tmp/matrix-logs scripts/sdk_matrix.sh 1.0.0
# The tests (and the package under test) are always this checkout's.
set -euo pipefail

# The first and last release of each span the route table tells apart (docs/sdk-versions.md):
# 1.0.x whole credits, detectron2 up to 1.8.0, async from 1.16.0, resource-named envelopes
# up to 1.60.0 (projects archived and restored from 1.57.0), by-name paths and
# id-addressed images 1.61.0-1.69.43 (images listed by dataset_name from 1.69.30,
# folder_path up to 1.69.42), gpu_count 1.67.3-1.69.105,
# evaluations of a dataset (project_id) up to 1.66.1, the annotator role from 1.69.69,
# annotation comments deleted outright (left out of listings) up to 1.69.69,
# classification evaluations from 1.69.73 and semantic segmentation ones from 1.69.74,
# declined invites from 1.69.91, deployments created with a compute_type up to 1.69.126;
# the values that arrived late (export formats darwin 1.4.0, datumaro 1.45.0, yolo_obb
# and dota 1.63.0, yolo_pose 1.64.0; model formats safetensors 1.67.9, pte and engine
# 1.69.1; rfdetr_keypoint 1.67.16) and Imagen Fast, priced up to 1.69.92;
# and the calls that failed against the API too
# (dialects.SDK_DEFECTS): 1.66.0's track calls, 1.67.16's reads of a keypoint model, the
# async id wire to 1.69.47 and its uploads to 1.69.48, sync
# images.get by id to 1.69.91, images by id in both clients to 1.69.78. Every release
# where a declared span begins or ends is here (tests/test_sdk_matrix_releases.py); so is
# 1.0.1, the first to read an image's folder (virtual_folder_path); 1.5.0, the first to fork
# a public model (by its id, to 1.69.43); 1.65.0, the first with client.storage (bucket
# connections, removed with the API's in 1.69.43); and the first
# releases of workflows (1.2.0), tasks (1.69.59) and tools (1.69.98); a workflow's and a
# run's compute with a precision 1.69.113-1.69.114 (each Model block's from 1.69.115);
# 1.69.142, whose workflows.create sent an endpoint's region and scaling, 1.69.143,
# the first that deploys apart, and 1.69.144, the first to read a workflow endpoint's
# URL ending in /sessions.
DEFAULT_VERSIONS=(
  1.0.0 1.0.1 1.0.3 1.1.0 1.2.0 1.4.0 1.5.0 1.7.34 1.8.0 1.8.1 1.15.0 1.16.0 1.35.0 1.45.0 1.57.0 1.60.0
  1.61.0 1.61.3 1.63.0 1.64.0 1.65.0 1.66.0 1.66.1 1.66.2 1.67.1 1.67.3 1.67.9 1.67.16 1.67.17
  1.69.1 1.69.30 1.69.42 1.69.43 1.69.44 1.69.48 1.69.49 1.69.58 1.69.59
  1.69.68 1.69.69 1.69.70 1.69.72 1.69.73 1.69.74 1.69.78 1.69.79 1.69.90 1.69.91 1.69.92 1.69.93
  1.69.98 1.69.105 1.69.106 1.69.113 1.69.115 1.69.123 1.69.124 1.69.126 1.69.127 1.69.142 1.69.143 1.69.144
  1.69.146
)
JOBS=2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venvs="${SDK_VENVS:-$root/.venv-sdk}"
logs="${SDK_MATRIX_LOGS:-$venvs/logs}"
mkdir -p "$logs/tmp"

if [ "$#" -gt 0 ]; then
  versions=("$@")
else
  versions=("${DEFAULT_VERSIONS[@]}")
fi

say() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "$1" "$2"; }

base="${PROJECT_VENV:-$root/.venv}"
if [ ! -x "$base/bin/python" ]; then
  echo "no project venv at $base: run scripts/test.sh (or source scripts/_env.sh) first" >&2
  exit 2
fi
base_site="$("$base/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# Make (or reuse) the venv for one release; each step's failure ends it.
install() {
  local version="$1" venv="$venvs/$1" log="$logs/$1.log"
  local stamp
  stamp="$venv/.installed-$({ cat pyproject.toml; echo "$version"; } | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ]; then
    say "$version" "reusing $venv"
    return 0
  fi
  say "$version" "creating $venv"
  local started=$SECONDS
  rm -rf "$venv"
  "$base/bin/python" -m venv --without-pip "$venv" >>"$log" 2>&1 || return 1
  local site
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  # After this venv's own site-packages: its pictograph wins, the rest comes from .venv.
  echo "import site; site.addsitedir('$base_site')" >"$site/_project_venv.pth"
  "$base/bin/python" -m pip --python "$venv/bin/python" install --quiet \
    --disable-pip-version-check --no-deps "pictograph==$version" >>"$log" 2>&1 || return 1
  touch "$stamp"
  say "$version" "installed in $((SECONDS - started))s"
}

# Install and test one release; leave its summary line and exit status in logs/.
run_one() {
  local version="$1" log="$logs/$1.log" result="$logs/$1.result"
  : >"$log"
  echo 1 >"$logs/$version.status"
  if ! install "$version"; then
    echo "$version: install failed (see $log)" >"$result"
    say "$version" "$(cat "$result")"
    return 0
  fi
  say "$version" "testing"
  local status=0
  # A temporary folder of its own: releases run side by side, and pytests sharing the
  # numbered folders under the system's can race cleaning them up (an unclosed directory
  # scan then fails the run at exit, its tests all passed).
  # Only the plugins tests/matrix uses: autoloading every installed one (hypothesis,
  # schemathesis, faker, pytest-httpx...) took half of each release's time, twice its tests'.
  # pytest-timeout reads the project's `timeout` (pytest refuses an ini option nothing reads).
  PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 PICTOGRAPH_SDK_MATRIX="$version" \
    "$venvs/$version/bin/python" -m pytest -q -p asyncio -p pytest_timeout \
    -p pictograph_testing.pytest_plugin \
    -p no:cacheprovider --basetemp "$logs/tmp/$version" tests/matrix >>"$log" 2>&1 || status=$?
  # pytest's last line counts the outcomes: "2 failed, 20 passed, 2 skipped in 3.1s".
  local counts passed=0 failed=0 n outcome
  counts="$(tail -n 1 "$log" | sed -E 's/^=+ //; s/ in [0-9.]+s.*$//')"
  while read -r n outcome; do
    case "$outcome" in
      passed) passed=$n ;;
      failed | error | errors) failed=$((failed + n)) ;;
    esac
  done < <(grep -oE '[0-9]+ (passed|failed|errors?)' <<<"$counts" || true)
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed="?"  # pytest stopped before counting (a usage or collection error)
  fi
  echo "$version: $passed passed, $failed failed ($counts)" >"$result"
  echo "$status" >"$logs/$version.status"
  say "$version" "$(cat "$result")"
}

say matrix "SDK releases: ${versions[*]} ($JOBS at a time; logs in $logs)"
for version in "${versions[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
    wait -n || true
  done
  run_one "$version" &
done
wait

echo
echo "SDK matrix summary:"
failures=0
for version in "${versions[@]}"; do
  cat "$logs/$version.result" 2>/dev/null || echo "$version: no result"
  if [ "$(cat "$logs/$version.status" 2>/dev/null || echo 1)" != 0 ]; then
    failures=$((failures + 1))
  fi
done
if [ "$failures" -gt 0 ]; then
  echo "$failures of ${#versions[@]} releases failed"
  exit 1
fi
