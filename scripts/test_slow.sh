#!/usr/bin/env bash
# The tests scripts/test.sh leaves out: those marked slow (the property tests' hypothesis
# budgets, schemathesis against the served document, the command-line subprocesses).
# CI runs them after scripts/test.sh; HYPOTHESIS_PROFILE=long runs the long budget.
source "$(dirname "$0")/_env.sh"
python -m pytest -q -n 2 -m slow "$@"
