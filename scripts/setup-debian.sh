#!/usr/bin/env bash
# Installs what framelock needs on Debian 12+ when it is missing: chromium-headless-shell
# (with its bundled SwiftShader), ffmpeg and the pinned fonts, from Debian's packages. Sourced by
# scripts/regress.sh and scripts/test.sh; safe to run again (it only installs what is missing).
set -euo pipefail

framelock_say() { printf 'framelock setup: %s\n' "$*" >&2; }

framelock_setup() {
  local missing=()
  command -v chromium-headless-shell >/dev/null 2>&1 || command -v chrome-headless-shell >/dev/null 2>&1 \
    || [ -n "${FRAMELOCK_CHROME:-}" ] || missing+=(chromium-headless-shell)
  command -v ffmpeg >/dev/null 2>&1 || [ -n "${FRAMELOCK_FFMPEG:-}" ] || missing+=(ffmpeg)
  command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || [ -n "${FONTCONFIG_FILE:-}" ] \
    || missing+=(fonts-dejavu-core)

  if [ ${#missing[@]} -gt 0 ]; then
    # shellcheck disable=SC2207
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    if ! command -v apt-get >/dev/null 2>&1; then
      framelock_say "missing: ${missing[*]}, and this is not a Debian system (no apt-get)."
      framelock_say "use the Nix flake instead: nix develop, then run this again."
      exit 3
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null 2>&1 || { framelock_say "need root (or sudo) to install: ${missing[*]}"; exit 3; }
      sudo=(sudo)
    fi
    framelock_say "installing from Debian's packages: ${missing[*]} (apt-get update, then apt-get install)"
    "${sudo[@]}" apt-get update -qq
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
      framelock_say "apt-get install failed. chromium-headless-shell is packaged by Debian 12+ only;"
      framelock_say "on Ubuntu and elsewhere use the Nix flake: nix develop"
      exit 3
    fi
  else
    framelock_say "chromium-headless-shell, ffmpeg and fonts are installed"
  fi

  if ! command -v cargo >/dev/null 2>&1; then
    framelock_say "cargo not found: install Rust 1.85 or newer (https://rustup.rs), then run this again"
    exit 3
  fi
}
