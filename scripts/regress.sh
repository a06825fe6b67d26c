#!/usr/bin/env bash
# The main job. Until `framelock regress` exists, it renders every fixture in fixtures/ twice
# (each render a separate framelock process with its own browser) and checks that both renders
# have the same per-frame hashes. Exit 0 when every fixture passes, 1 when any differs or fails.
# Videos, frames.json files and each render's log go to ./framelock-out/ (or $FRAMELOCK_OUT);
# extra arguments are passed to `framelock render`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "building framelock (release; the first build takes a few minutes)"
cargo build --release
bin=target/release/framelock
out=${FRAMELOCK_OUT:-framelock-out}
mkdir -p "$out"

hashes() { awk '/"frame_hashes"/{on=1; next} on && /\]/{exit} on{gsub(/[ ",]/,""); print}' "$1"; }

render() { # fixture-dir name run → 0 when the render succeeded; its log is kept either way
  local log="$out/$2.$3.log"
  if "$bin" render "$1" -o "$out/$2.$3.mp4" "${@:4}" >"$log" 2>&1; then
    return 0
  fi
  return 1
}

passed=0 failed=0
printf '\n%-18s %6s  %s\n' fixture frames result
for dir in fixtures/*/; do
  name=$(basename "$dir")
  if ! render "$dir" "$name" a "$@" || ! render "$dir" "$name" b "$@"; then
    printf '%-18s %6s  %s\n' "$name" - "FAILED: render error: $(grep '^error:' "$out/$name".*.log | head -n1 | cut -d: -f3-)"
    failed=$((failed + 1))
    continue
  fi
  a=$(hashes "$out/$name.a.mp4.frames.json")
  b=$(hashes "$out/$name.b.mp4.frames.json")
  frames=$(printf '%s\n' "$a" | grep -c .)
  if [ "$frames" -gt 0 ] && [ "$a" = "$b" ]; then
    printf '%-18s %6s  %s\n' "$name" "$frames" "passed: two renders, identical frame hashes"
    passed=$((passed + 1))
  else
    printf '%-18s %6s  %s\n' "$name" "$frames" "FAILED: the two renders differ"
    failed=$((failed + 1))
  fi
done
printf '\n%d passed, %d failed (outputs and logs in %s/)\n' "$passed" "$failed" "$out"
[ "$failed" -eq 0 ]
