#!/usr/bin/env bash
# Fetch (once) and unpack the SDK's source distribution, with its own test suites, and print
# the unpacked folder:
#
#   scripts/sdk_sdist.sh            # the SDK release pinned in the dev extra
#   scripts/sdk_sdist.sh 1.69.146   # any release
#
# Kept in .cache/sdk-sdist/<version>/ (SDK_SDIST_CACHE overrides the folder), so the
# network is used once per release and the tests that read the suites never touch it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${SDK_SDIST_CACHE:-$root/.cache/sdk-sdist}"
version="${1:-$(sed -n 's/.*"pictograph==\([0-9.]*\)".*/\1/p' "$root/pyproject.toml" | head -n1)}"
if [ -z "$version" ]; then
  echo "no SDK release given and none pinned in pyproject.toml" >&2
  exit 2
fi
target="$cache/$version"
if [ ! -f "$target/.unpacked" ]; then
  python="${PYTHON:-python3}"
  [ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
  download="$(mktemp -d)"
  trap 'rm -rf "$download"' EXIT
  "$python" -m pip download --quiet --no-deps --no-binary :all: "pictograph==$version" -d "$download" >&2
  rm -rf "$target"
  mkdir -p "$target"
  tar -xzf "$download"/pictograph-"$version".tar.gz -C "$target" --strip-components=1
  touch "$target/.unpacked"
fi
echo "$target"
