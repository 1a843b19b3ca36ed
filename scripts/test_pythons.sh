#!/usr/bin/env bash
# The quick test suite (scripts/test.sh's) on every other CPython the package says it
# supports: the "Programming Language :: Python :: 3.X" classifiers of pyproject.toml,
# less the one .venv runs. Each is looked for as python3.X on PATH, then under pyenv, and
# gets a virtual environment of its own (.venv-py3.X, reused until pyproject.toml
# changes). CI runs it on the oldest (3.10); run it on all before a change that could
# differ between versions (the standard library, typing, asyncio, deprecations).
# `bash scripts/test_pythons.sh 3.10` runs one version; a version this machine does not
# have is named and left out, and none found at all fails.
source "$(dirname "$0")/_env.sh"
if [ "$#" -gt 0 ]; then
  versions=("$@")
else
  mapfile -t versions < <(python - <<'PY'
import sys
import tomllib

with open("pyproject.toml", "rb") as file:
    classifiers = tomllib.load(file)["project"]["classifiers"]
ours = f"{sys.version_info.major}.{sys.version_info.minor}"
prefix = "Programming Language :: Python :: "
for classifier in classifiers:
    version = classifier.removeprefix(prefix)
    if classifier.startswith(prefix) and version.count(".") == 1 and version != ours:
        print(version)
PY
  )
fi

interpreter() {
  # The first that runs and is that version: a pyenv shim on PATH is there for every
  # version pyenv has, but runs only the ones selected.
  local candidate
  for candidate in "$(command -v "python$1" || true)" \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$1".*/bin/python 2>/dev/null | sort -V -r); do
    if [ -n "$candidate" ] && "$candidate" -c \
      "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$1')" 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ran=0
missing=()
for version in "${versions[@]}"; do
  if ! python_bin="$(interpreter "$version")"; then
    missing+=("$version")
    continue
  fi
  venv=".venv-py$version"
  env_ready "$venv" "$python_bin"
  _env_say "the test suite on $("$venv/bin/python" --version)"
  "$venv/bin/python" -m pytest -q -n 2 -m "not slow" -p no:cacheprovider
  ran=$((ran + 1))
done
if [ "${#missing[@]}" -gt 0 ]; then
  _env_say "not on this machine, so not run: Python ${missing[*]}"
fi
if [ "$ran" -eq 0 ]; then
  _env_say "no other supported Python found: nothing was tested"
  exit 1
fi
