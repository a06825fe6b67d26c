#!/usr/bin/env bash
# The main job. Until `framelock regress` exists, it renders every fixture in fixtures/ twice in
# one process and checks that both renders have the same per-frame hashes; exit 1 if any fixture
# differs. Reports and videos go to ./framelock-out/ (or $FRAMELOCK_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "building framelock (release)"
cargo build --release --quiet
bin=target/release/framelock
out=${FRAMELOCK_OUT:-framelock-out}
mkdir -p "$out"

hashes() { awk '/"frame_hashes"/{on=1; next} on && /\]/{exit} on{gsub(/[ ",]/,""); print}' "$1"; }

failed=0
printf '%-20s %7s  %s\n' fixture frames result
for dir in fixtures/*/; do
  name=$(basename "$dir")
  "$bin" render "$dir" -o "$out/$name.a.mp4" "$@"
  "$bin" render "$dir" -o "$out/$name.b.mp4" "$@"
  frames=$(hashes "$out/$name.a.mp4.frames.json" | wc -l)
  if diff -q <(hashes "$out/$name.a.mp4.frames.json") <(hashes "$out/$name.b.mp4.frames.json") >/dev/null; then
    printf '%-20s %7s  %s\n' "$name" "$frames" "passed: two renders, identical frame hashes"
  else
    printf '%-20s %7s  %s\n' "$name" "$frames" "FAILED: the two renders differ"
    failed=1
  fi
done
exit $failed
