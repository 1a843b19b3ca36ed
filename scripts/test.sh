#!/usr/bin/env bash
# Lint, type-check and run the test suite (everything CI checks).
source "$(dirname "$0")/_env.sh"
ruff check .
ruff format --check .
mypy
# Two workers (pytest-xdist): every test has a world of its own, so the suite runs in
# parallel, and running it so keeps that true.
python -m pytest -q -n 2 "$@"
