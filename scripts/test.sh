#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup-debian.sh), then checks formatting,
# lints, and runs every test against the real browser and encoder.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "cargo fmt --check"
cargo fmt --all -- --check
framelock_say "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
framelock_say "cargo test (unit tests, then integration tests with chrome-headless-shell and ffmpeg)"
cargo test --all-targets
