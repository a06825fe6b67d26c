#!/usr/bin/env bash
# The load runs: determinism under stress, on every fixture that declares no expected finding
# (the heavy 1080p ones included). Slow on two cores (most of an hour); not part of the tests.
#   1. regress --repeat 10: ten uncached in-process renders of each fixture must agree, while
#      two busy loops and a memory hog holding half of MemAvailable run beside them;
#   2. for chunk sizes 7 and 20: the render by two workers taking chunks in shuffled order must
#      be byte-identical to the in-process render of the same chunk plan;
#   3. framelock vary on each fixture must exit 0.
# Usage: scripts/load-runs.sh [--fixture NAME]... [--from STEP]   (default: every fixture
# without expectedFindings, from step 1). Writes into ./framelock-load/; exits 1 at the first
# step that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-debian.sh
. scripts/setup-debian.sh
framelock_setup

framelock_say "building framelock (release)"
cargo build --release --quiet
say() { printf 'load-runs: %s\n' "$*" >&2; }
fl=target/release/framelock
out=framelock-load
mkdir -p "$out"
export FRAMELOCK_STORE="$out/store"

fixtures=()
from=1
while [ $# -gt 0 ]; do
  case "$1" in
    --fixture) fixtures+=("$2"); shift 2 ;;
    --from)
      case "${2:-}" in 1|2|3) from=$2 ;; *) echo "load-runs: --from takes 1, 2 or 3, found ${2:-nothing}" >&2; exit 2 ;; esac
      shift 2 ;;
    *) echo "load-runs: unknown argument $1 (expected --fixture NAME or --from STEP)" >&2; exit 2 ;;
  esac
done
if [ ${#fixtures[@]} -eq 0 ]; then
  for meta in fixtures/*/meta.json; do
    grep -q '"expectedFindings"' "$meta" || fixtures+=("$(basename "$(dirname "$meta")")")
  done
fi
selected=()
for f in "${fixtures[@]}"; do selected+=(--fixture "$f"); done

# What runs beside step 1, stopped on every exit.
beside=()
stop_beside() { for pid in "${beside[@]}"; do kill "$pid" 2>/dev/null || true; done; beside=(); }
trap stop_beside EXIT

if [ "$from" -le 1 ]; then
  for _ in 1 2; do
    sh -c 'while :; do :; done' &
    beside+=($!)
  done
  half_kib=$(awk '/^MemAvailable:/ { print int($2 / 2) }' /proc/meminfo)
  /usr/bin/python3 -c "
import sys, time
hog = bytearray($half_kib * 1024)
for i in range(0, len(hog), 4096):
    hog[i] = 1
print('memory hog: holding', len(hog) >> 20, 'MiB', file=sys.stderr, flush=True)
time.sleep(1e9)
" &
  beside+=($!)
  sleep 5
  say "1/3: regress --repeat 10 --no-cache (two busy loops and a memory hog beside it): ${fixtures[*]}"
  "$fl" regress --repeat 10 --no-cache --report-dir "$out/repeat" "${selected[@]}"
  stop_beside
fi

if [ "$from" -le 2 ]; then
  say "2/3: two workers, shuffled chunk order, chunks of 7 and 20, against in process"
  for f in "${fixtures[@]}"; do
    ext=mp4
    grep -q '"format": *"webm"' "fixtures/$f/meta.json" && ext=webm
    for size in 7 20; do
      # A store of its own, empty: nothing is reused, and it keeps the bundle diff-runs names
      # the differing elements from.
      store="$out/store-$f-$size"
      rm -rf "$store"
      a="$out/$f-$size-in-process.$ext" b="$out/$f-$size-workers.$ext"
      FRAMELOCK_STORE=$store "$fl" render "fixtures/$f" -o "$a" --chunk-size "$size"
      FRAMELOCK_STORE=$store "$fl" render "fixtures/$f" -o "$b" --chunk-size "$size" \
        --mode distributed-simulated --workers 2 --chunk-order shuffled
      if ! cmp -s "$a" "$b"; then
        echo "load-runs: $f, chunks of $size: the workers' video differs from the in-process one" >&2
        "$fl" diff-runs "$a" "$b" --store "$store" --out "$out/$f-$size-diff" >&2 || true
        exit 1
      fi
      rm -rf "$store"
      say "$f, chunks of $size: byte-identical"
    done
  done
fi

say "3/3: framelock vary on each"
for f in "${fixtures[@]}"; do
  "$fl" vary "fixtures/$f" --out "$out/vary-$f"
done
say "load runs passed: ${fixtures[*]}"
