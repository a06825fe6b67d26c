#!/usr/bin/env bash
# The main job. Until `framelock regress` exists, it renders every fixture in fixtures/ twice
# with the same chunk plan (a third of the frames per chunk): in one process, and as
# distributed-simulated workers (separate processes, each with its own browser, that see only
# a copy of the bundle). It checks that both have the same per-frame hashes and the same
# video bytes; a fixture whose meta.json declares expectedFindings must instead differ from a
# chunk start on. Exit 0 when every fixture passes, 1 when any fails or fails to render.
# Videos, frames.json files and each render's log go to ./framelock-out/ (or $FRAMELOCK_OUT);
# chunk records are cached in the store (see README), so a second run is fast.
# Extra arguments are passed to every `framelock render`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "building framelock (release build: a few minutes the first time, seconds after)"
cargo build --release
bin=target/release/framelock
out=${FRAMELOCK_OUT:-framelock-out}
mkdir -p "$out"

hashes() { awk '/"frame_hashes"/{on=1; next} on && /\]/{exit} on{gsub(/[ ",]/,""); print}' "$1"; }
frames_of() { "$bin" plan "$1" -o "$2" >/dev/null 2>&1 && awk -F': ' '/"frames"/{gsub(/,/,"",$2); print $2; exit}' "$2/plan.json"; }

render() { # fixture-dir name mode chunk-size [args…] → 0 when the render succeeded
  local log="$out/$2.$3.log"
  "$bin" render "$1" -o "$out/$2.$3.mp4" --mode "$3" --chunk-size "$4" "${@:5}" >"$log" 2>&1
}

passed=0 failed=0
printf '\n%-20s %6s %6s  %s\n' fixture frames chunk result
for dir in fixtures/*/; do
  name=$(basename "$dir")
  scratch=$(mktemp -d)
  frames=$(frames_of "$dir" "$scratch/bundle" || echo 0)
  rm -rf "$scratch"
  chunk=$(( frames / 3 > 0 ? frames / 3 : 1 ))
  if ! render "$dir" "$name" in-process "$chunk" "$@" \
    || ! render "$dir" "$name" distributed-simulated "$chunk" --workers 2 "$@"; then
    printf '%-20s %6s %6s  %s\n' "$name" "$frames" "$chunk" \
      "FAILED: render error: $(grep -h '^error:' "$out/$name".*.log | head -n1 | cut -d: -f2-)"
    failed=$((failed + 1))
    continue
  fi
  a=$(hashes "$out/$name.in-process.mp4.frames.json")
  b=$(hashes "$out/$name.distributed-simulated.mp4.frames.json")
  if grep -q '"expectedFindings"' "$dir/meta.json" 2>/dev/null; then
    # A fixture that keeps its own state across frames must differ, from a chunk start on.
    first=$(paste <(printf '%s\n' "$a") <(printf '%s\n' "$b") | awk '$1 != $2 { print NR - 1; exit }')
    if [ -n "$first" ] && [ "$first" -gt 0 ] && [ $((first % chunk)) -eq 0 ]; then
      printf '%-20s %6s %6s  %s\n' "$name" "$frames" "$chunk" "passed: differs from chunk start $first on, as its meta expects"
      passed=$((passed + 1))
    else
      printf '%-20s %6s %6s  %s\n' "$name" "$frames" "$chunk" "FAILED: its expected chunk-boundary difference is missing"
      failed=$((failed + 1))
    fi
    continue
  fi
  if [ -n "$a" ] && [ "$a" = "$b" ] && cmp -s "$out/$name.in-process.mp4" "$out/$name.distributed-simulated.mp4"; then
    printf '%-20s %6s %6s  %s\n' "$name" "$frames" "$chunk" "passed: workers = in-process (frame hashes and bytes)"
    passed=$((passed + 1))
  else
    printf '%-20s %6s %6s  %s\n' "$name" "$frames" "$chunk" "FAILED: workers and in-process differ"
    failed=$((failed + 1))
  fi
done
printf '\n%d passed, %d failed (outputs and logs in %s/)\n' "$passed" "$failed" "$out"
[ "$failed" -eq 0 ]
