#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup-debian.sh), then checks formatting
# and lints and runs every test against the real browser and encoder. The first run compiles
# the dependencies (a few minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup tests

framelock_say "cargo fmt --check"
cargo fmt --all -- --check
framelock_say "cargo clippy --all-targets -- -D warnings (compiles everything the first time)"
cargo clippy --quiet --all-targets -- -D warnings
framelock_say "cargo test: unit tests, then integration tests against chrome-headless-shell and ffmpeg"
cargo test --all-targets
framelock_say "Nix flake: every .nix file parses and the outputs evaluate offline (scripts/check-nix.sh)"
scripts/check-nix.sh
