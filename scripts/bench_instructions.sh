#!/usr/bin/env bash
# The instruction benchmark (benchmarks/bench_instructions.py): the fake's per-call cost
# counted under cachegrind. Installs Debian's valgrind with apt-get when it is missing; a
# valgrind that cannot be had fails the run, it is never skipped. Counts do not depend on
# the machine's load, so CI runs this beside the tests, not with the timed benchmarks.
source "$(dirname "$0")/_env.sh"
apt_install_missing valgrind valgrind
python benchmarks/bench_instructions.py "$@"
