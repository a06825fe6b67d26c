#!/usr/bin/env bash
# What can be checked of the Nix flake on a machine that cannot fetch nixpkgs: every .nix file
# parses, and the flake's outputs evaluate against a stand-in for nixpkgs
# (tests/nix/nixpkgs-stand-in, which builds nothing), with the names, app paths, checks and
# wrapper environment the README promises. `nix flake check` with the real nixpkgs is the
# GitHub workflow's job (.github/workflows/nix.yml).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "framelock nix check: $*" >&2; }
fail() {
  say "$*"
  exit 1
}

files=$(git ls-files '*.nix')
for f in $files; do
  nix-instantiate --parse "$f" >/dev/null || fail "$f does not parse"
done
say "$(echo "$files" | wc -l) .nix files parse"

# A private store: no daemon, no root, nothing left in /nix.
store=$(mktemp -d)
trap 'chmod -R u+w "$store" 2>/dev/null; rm -rf "$store" "$store.log"' EXIT
evaluate() {
  # --no-eval-cache: Nix 2.8's evaluation cache reads a string with several store references
  # back as one path, so a second run in a clean checkout would fail on the wrapper's script.
  nix --store "$store" --extra-experimental-features 'nix-command flakes' \
    --option flake-registry "" eval --no-eval-cache --override-input nixpkgs "path:$PWD/tests/nix/nixpkgs-stand-in" \
    "$@" 2>"$store.log" || fail "nix eval $* failed: $(grep -v '^warning\|^•\|^ ' "$store.log" | tr '\n' ' ')"
}
# check WHAT PATTERN EVAL-ARGS...: the evaluated value must match the glob PATTERN.
check() {
  local what=$1 want=$2 got
  shift 2
  got=$(evaluate --raw "$@") || exit 1
  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  [[ $got == $want ]] || fail "$what: expected $want, found $got"
}
names='a: builtins.concatStringsSep " " (builtins.attrNames a)'

system=x86_64-linux
check "packages" "default framelock" ".#packages.$system" --apply "$names"
check "apps" "default regress" ".#apps.$system" --apply "$names"
check "apps.regress.type" "app" ".#apps.$system.regress.type"
check "apps.regress.program" "/nix/store/*-framelock-regress/bin/framelock-regress" ".#apps.$system.regress.program"
check "apps.default.program" "/nix/store/*-framelock-*/bin/framelock" ".#apps.$system.default.program"
check "checks" "build clippy regress rustfmt tests" ".#checks.$system" --apply "$names"
check "devShells" "default" ".#devShells.$system" --apply "$names"
check "formatter" "nixfmt" ".#formatter.$system.name"
check "package" "/nix/store/*-framelock-*.drv" ".#packages.$system.default.drvPath"
check "wrapper" "*wrapProgram \$out/bin/framelock *--set TZ 'UTC'*--prefix PATH : /nix/store/*-glibc-bin/bin*" ".#packages.$system.default.postInstall"

# The wrapper's environment, from the evaluated derivation.
wrapper=".#packages.$system.default.wrapperEnv"
check TZ "UTC" "$wrapper.TZ"
check LANG "C.UTF-8" "$wrapper.LANG"
check FONTCONFIG_FILE "/nix/store/*-fonts.conf" "$wrapper.FONTCONFIG_FILE"
check FRAMELOCK_CHROME "/nix/store/*-playwright-chromium-headless-shell/chrome-linux/headless_shell" "$wrapper.FRAMELOCK_CHROME"
check FRAMELOCK_FFMPEG "/nix/store/*-ffmpeg-headless/bin/ffmpeg" "$wrapper.FRAMELOCK_FFMPEG"
check FRAMELOCK_PINNED_TOOLCHAIN "nix flake, nixpkgs *" "$wrapper.FRAMELOCK_PINNED_TOOLCHAIN"
# The same environment reaches the test check and the dev shell.
chrome=$(evaluate --raw "$wrapper.FRAMELOCK_CHROME") || exit 1
fonts=$(evaluate --raw "$wrapper.FONTCONFIG_FILE") || exit 1
check "checks.tests FRAMELOCK_CHROME" "$chrome" ".#checks.$system.tests.FRAMELOCK_CHROME"
check "devShell FONTCONFIG_FILE" "$fonts" ".#devShells.$system.default.FONTCONFIG_FILE"
# The end-to-end check runs the harness in distributed-simulated mode on the packaged fixtures.
check "checks.regress" "*framelock regress --mode distributed-simulated*--fixtures /nix/store/*-source/fixtures*" ".#checks.$system.regress.buildCommand"
say "the flake evaluates against the nixpkgs stand-in: packages, apps, checks, dev shell and wrapper environment as documented"
