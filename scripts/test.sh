#!/usr/bin/env bash
# Lint, type-check and run the test suite (everything CI checks).
source "$(dirname "$0")/_env.sh"
ruff check .
ruff format --check .
mypy
# Two workers (pytest-xdist): every test has a world of its own, so the suite runs in
# parallel, and running it so keeps that true. Tests marked slow (hypothesis budgets,
# subprocesses) are left to scripts/test_slow.sh, which CI runs too.
python -m pytest -q -n 2 -m "not slow" "$@"
# The docs site: every page in the nav, every link and anchor resolved (--strict).
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
mkdocs build --strict --quiet --site-dir "$site"
