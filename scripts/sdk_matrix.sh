#!/usr/bin/env bash
# Run the training guide's tests (tests/matrix) against several releases of the SDK.
#
#   scripts/sdk_matrix.sh                  # the default releases (see DEFAULT_VERSIONS)
#   scripts/sdk_matrix.sh 1.0.0 1.69.146   # just these
#
# Each release gets a virtualenv of its own in .venv-sdk/<version>/, reused while
# pyproject.toml is unchanged (the stamp file is keyed by a hash of it and the version).
# A venv holds `pictograph==<version>`, this package's other runtime dependencies and
# the test tools, installed in one resolve (so a release whose own pins clash with
# ours fails to install, and says so in its log), then this package itself with
# --no-deps: its own `pictograph>=...` requirement would replace the release under
# test. Releases run two at a time (the machine has two cores), each with its log in
# .venv-sdk/logs/<version>.log and PICTOGRAPH_SDK_MATRIX=<version> set, which
# tests/matrix checks against the SDK it imports. Prints one summary line per release
# and exits non-zero if any release failed to install or failed a test. Downloads come
# from pip's own cache after the first run. PYTHON picks the interpreter (python3).
set -euo pipefail

DEFAULT_VERSIONS=(1.0.0 1.7.34 1.35.0 1.60.0 1.61.0 1.69.44 1.69.146)
JOBS=2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
venvs="$root/.venv-sdk"
logs="$venvs/logs"
mkdir -p "$logs"

if [ "$#" -gt 0 ]; then
  versions=("$@")
else
  versions=("${DEFAULT_VERSIONS[@]}")
fi

say() { printf '%s [%s] %s\n' "$(date +%H:%M:%S)" "$1" "$2"; }

# Our runtime dependencies minus the SDK, and the test tools as the dev extra pins them.
requirements() {
  "$python" - <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
name = re.compile(r"[A-Za-z0-9_.-]+")
wanted = {"pytest", "pytest-asyncio", "hypothesis"}
for spec in project["dependencies"]:
    if name.match(spec).group() != "pictograph":
        print(spec)
for spec in project["optional-dependencies"]["dev"]:
    if name.match(spec).group() in wanted:
        print(spec)
PY
}

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
  "$python" -m venv "$venv" >>"$log" 2>&1 || return 1
  local -a deps
  mapfile -t deps < <(requirements)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "pictograph==$version" "${deps[@]}" >>"$log" 2>&1 || return 1
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . \
    >>"$log" 2>&1 || return 1
  # What the release and this package disagree on, beyond our own pin of the SDK
  # (which the release under test breaks on purpose).
  local conflicts
  conflicts="$("$venv/bin/python" -m pip check 2>&1 | grep -v '^pictograph-testing ' \
    | grep -v '^No broken requirements' || true)"
  if [ -n "$conflicts" ]; then
    printf 'pip check:\n%s\n' "$conflicts" >>"$log"
    say "$version" "dependency conflicts: $(tr '\n' ';' <<<"$conflicts")"
  fi
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
  PICTOGRAPH_SDK_MATRIX="$version" "$venvs/$version/bin/python" -m pytest -q \
    -p no:cacheprovider tests/matrix >>"$log" 2>&1 || status=$?
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
