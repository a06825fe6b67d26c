#!/usr/bin/env bash
# The main job: installs what is missing (scripts/setup-debian.sh), builds framelock, and runs
# the regression harness over every fixture in distributed-simulated mode:
#   framelock regress --mode distributed-simulated [extra arguments]
# Each fixture is rendered in process and by worker processes that see only a copy of its
# bundle; every chunk is compared exactly, drift is named, and the result is compared with the
# committed baseline. Videos and report.json go to ./framelock-report/ (or --report-dir).
# Exit 0 when every fixture passes, 1 on any regression, 2 usage/input, 3 environment.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "building framelock (release build: a few minutes the first time, seconds after)"
cargo build --release
framelock_say "running: framelock regress --mode distributed-simulated $*"
exec target/release/framelock regress --mode distributed-simulated "$@"
