# Sourced by the scripts: make (or reuse) the project's virtual environment, installed.
#
# The first run installs the package with its dev extra (the SDK, pytest, ruff, mypy,
# onnxruntime, ...): a few minutes on a fresh machine, so each step says what it is doing
# and pip prints one line per package it collects. Later runs reuse .venv until
# pyproject.toml changes, and say so in one line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
_env_say() { printf '[set-up %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# pip's output cut to one line per package collected or downloaded, and the summary (its
# errors go to stderr, untouched); the pipeline's status stays pip's (pipefail).
_env_progress() { grep --line-buffered -E '^ *(Collecting|Downloading|Installing collected|Successfully)' >&2 || true; }
# Make (or reuse) virtual environment $1 with interpreter $2, installed with the dev
# extra for this pyproject.toml (scripts/test_pythons.sh makes one per Python).
env_ready() {
  local venv="$1" python_bin="$2" stamp started
  if [ ! -x "$venv/bin/python" ]; then
    _env_say "creating the virtual environment in $venv ($("$python_bin" --version))"
    "$python_bin" -m venv "$venv"
  fi
  stamp="$venv/.installed-$(sha256sum <pyproject.toml | cut -c1-16)"
  if [ -f "$stamp" ]; then
    _env_say "reusing $venv (installed for this pyproject.toml)"
    return 0
  fi
  started=$SECONDS
  _env_say "step 1/2: upgrading pip in $venv"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    --upgrade pip | _env_progress; then
    _env_say "upgrading pip failed (see pip's messages above)"
    exit 1
  fi
  _env_say "step 2/2: installing pictograph-testing with its dev extra into $venv (a few minutes the first time)"
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    -e ".[dev]" | _env_progress; then
    _env_say "the install failed (see pip's messages above)"
    exit 1
  fi
  touch "$stamp"
  _env_say "installed in $((SECONDS - started))s"
}
env_ready .venv python3
# shellcheck disable=SC1091
. .venv/bin/activate

# Install Debian package $2 with apt-get (as root, else through sudo) when command $1 is
# missing: the system tools a script needs (chromium, valgrind) are never downloaded by
# the tools themselves.
apt_install_missing() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
