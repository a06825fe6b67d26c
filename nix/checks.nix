# `nix flake check`: build, clippy, rustfmt, the test suite and the end-to-end harness, all
# inside the build sandbox (no network: the fixtures are self-contained). There Chrome runs as
# an unprivileged user without user namespaces or a setuid helper, so framelock's
# `--chrome-sandbox=auto` turns Chrome's sandbox off and says so (DESIGN.md, "Nix").
{ pkgs, self, framelock, toolchain }:
let
  # Chrome needs a home and a writable temporary folder in the sandbox.
  sandboxEnv = ''
    export HOME=$TMPDIR XDG_CACHE_HOME=$TMPDIR/cache FRAMELOCK_STORE=$TMPDIR/store CI=1
  '';
in
{
  build = framelock;

  clippy = framelock.overrideAttrs (old: {
    pname = "framelock-clippy";
    nativeBuildInputs = old.nativeBuildInputs ++ [ pkgs.clippy ];
    buildPhase = "cargo clippy --all-targets --offline -- -D warnings";
    installPhase = "touch $out";
    postInstall = "";
  });

  rustfmt = pkgs.runCommand "framelock-rustfmt" {
    nativeBuildInputs = [ pkgs.cargo pkgs.rustfmt ];
  } ''
    cd ${self}
    cargo fmt --check
    touch $out
  '';

  tests = framelock.overrideAttrs (old: toolchain.env // {
    pname = "framelock-tests";
    doCheck = true;
    # The tests call ffmpeg and ffprobe themselves; the fingerprint calls ldd.
    nativeCheckInputs = [ toolchain.ffmpeg toolchain.ldd ];
    preCheck = sandboxEnv;
  });

  regress = pkgs.runCommand "framelock-regress-check" { } ''
    ${sandboxEnv}
    mkdir -p $out
    ${framelock}/bin/framelock regress --mode distributed-simulated \
      --fixtures ${self}/fixtures --baselines ${self}/baselines --report-dir $out/report
  '';
}
