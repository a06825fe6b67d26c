#!/usr/bin/env bash
# Installs what framelock needs on Debian 12+ when it is missing: chromium-headless-shell (with
# its bundled SwiftShader), ffmpeg and the pinned fonts, from Debian's packages. Sourced by
# scripts/regress.sh and scripts/test.sh (`framelock_setup`, or `framelock_setup tests` to also
# require git, Slurm, nix, rustfmt and clippy); running it directly does the same as `framelock_setup`.
# It only installs what is missing, so running it again is cheap.
set -euo pipefail

framelock_say() { printf 'framelock setup: %s\n' "$*" >&2; }

framelock_check_rust() {
  local for_tests=$1
  if ! command -v cargo >/dev/null 2>&1; then
    framelock_say "cargo not found: install Rust 1.85 or newer with rustup, then run this again"
    exit 3
  fi
  local version
  version=$(rustc --version 2>/dev/null | awk '{print $2}')
  if [ -z "$version" ] || [ "$(printf '%s\n%s\n' 1.85.0 "$version" | sort -V | head -n1)" != 1.85.0 ]; then
    framelock_say "rustc ${version:-(none)} is too old: framelock needs Rust 1.85 or newer (rustup update)"
    exit 3
  fi
  if [ "$for_tests" = tests ]; then
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
      framelock_say "the tests need rustfmt and clippy: rustup component add rustfmt clippy"
      exit 3
    fi
  fi
}

framelock_setup() {
  local for_tests=${1:-}
  framelock_check_rust "$for_tests"

  local missing=() using=()
  if [ -n "${FRAMELOCK_CHROME:-}" ]; then
    using+=("browser \$FRAMELOCK_CHROME=$FRAMELOCK_CHROME")
  elif command -v chrome-headless-shell >/dev/null 2>&1 || command -v chromium-headless-shell >/dev/null 2>&1; then
    using+=("chromium-headless-shell")
  else
    missing+=(chromium-headless-shell)
  fi
  if [ -n "${FRAMELOCK_FFMPEG:-}" ]; then
    using+=("ffmpeg \$FRAMELOCK_FFMPEG=$FRAMELOCK_FFMPEG")
  elif command -v ffmpeg >/dev/null 2>&1; then
    using+=("ffmpeg")
  else
    missing+=(ffmpeg)
  fi
  # ffprobe (in Debian's ffmpeg package) reads the media of compositions with video or sound.
  if [ -z "${FRAMELOCK_FFMPEG:-}" ] && ! command -v ffprobe >/dev/null 2>&1; then
    missing+=(ffmpeg)
  fi
  # The tests parse and evaluate the Nix flake offline (scripts/check-nix.sh), bisect
  # temporary git histories, and submit array jobs to a single-node Slurm.
  if [ "$for_tests" = tests ]; then
    if command -v git >/dev/null 2>&1; then
      using+=("git")
    else
      missing+=(git)
    fi
    # The scale-out tests run a real single-node Slurm (daemons started and stopped by them).
    if command -v slurmctld >/dev/null 2>&1 && command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
      using+=("slurm")
    else
      missing+=(slurm-wlm munge)
    fi
    if command -v nix-instantiate >/dev/null 2>&1; then
      using+=("nix $(nix --version 2>/dev/null | awk '{print $NF}')")
    else
      missing+=(nix-bin)
    fi
  fi
  if [ -n "${FONTCONFIG_FILE:-}" ]; then
    using+=("fonts from \$FONTCONFIG_FILE=$FONTCONFIG_FILE")
  elif [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    using+=("fonts-dejavu-core")
  else
    missing+=(fonts-dejavu-core)
  fi

  if [ ${#missing[@]} -eq 0 ]; then
    framelock_say "using $(IFS=,; echo "${using[*]}" | sed 's/,/, /g')"
    return 0
  fi
  # shellcheck disable=SC2207
  missing=($(printf '%s\n' "${missing[@]}" | sort -u))
  if ! command -v apt-get >/dev/null 2>&1; then
    framelock_say "missing: ${missing[*]}, and this is not a Debian system (no apt-get)."
    framelock_say "chromium-headless-shell is packaged by Debian 12+; elsewhere point FRAMELOCK_CHROME at a"
    framelock_say "chrome-headless-shell binary and FRAMELOCK_FFMPEG at ffmpeg (a Nix flake that pins both is planned)"
    exit 3
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      framelock_say "need root (or sudo) to install: ${missing[*]}"
      exit 3
    fi
    sudo=(sudo)
  fi
  framelock_say "installing from Debian's packages: ${missing[*]}"
  framelock_say "running: apt-get update"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq; then
    framelock_say "apt-get update failed: check the network and the apt sources, then run this again"
    exit 3
  fi
  framelock_say "running: apt-get install -y --no-install-recommends ${missing[*]}"
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
    framelock_say "apt-get install failed. chromium-headless-shell is packaged by Debian 12+ only;"
    framelock_say "elsewhere point FRAMELOCK_CHROME at a chrome-headless-shell binary"
    exit 3
  fi
  framelock_say "installed: ${missing[*]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  framelock_setup "${1:-}"
fi
