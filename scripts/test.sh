#!/usr/bin/env bash
# Lint, type-check and run the test suite (everything CI checks).
source "$(dirname "$0")/_env.sh"
ruff check .
ruff format --check .
mypy
python -m pytest -q "$@"
