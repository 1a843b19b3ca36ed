#!/usr/bin/env bash
# Lint, type-check and run the test suite (everything CI checks).
source "$(dirname "$0")/_env.sh"
ruff check .
ruff format --check .
mypy
# Two workers (pytest-xdist): every test has a world of its own, so the suite runs in
# parallel, and running it so keeps that true.
python -m pytest -q -n 2 "$@"
# The docs site: every page in the nav, every link and anchor resolved (--strict).
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
mkdocs build --strict --quiet --site-dir "$site"
