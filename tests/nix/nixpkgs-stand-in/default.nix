# `import nixpkgs { system }`: the package set, as stand-ins. Each is a derivation that would
# fail if built, carrying the attributes it was given, so tests can read what framelock's flake
# passes (the wrapper's environment, the checks' commands).
{ system, ... }:
let
  lib = import ./lib.nix;
  # Only what a derivation's environment can hold.
  envOf = lib.filterAttrs (
    _: v: !(builtins.isFunction v) && !(builtins.isAttrs v && !(v ? outPath))
  );
  mk =
    name: attrs:
    derivation (
      envOf attrs
      // {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo 'nixpkgs stand-in: evaluation only' >&2; exit 1" ];
      }
    );
  pkg = name: mk name { };
  # pkgs/build-support/rust/build-rust-package (rustPlatform.buildRustPackage), with
  # overrideAttrs and passthru as mkDerivation gives them.
  buildRustPackage =
    attrs:
    mk "${attrs.pname}-${attrs.version}" (builtins.removeAttrs attrs [ "passthru" ])
    // (attrs.passthru or { })
    // {
      overrideAttrs = f: buildRustPackage (attrs // f attrs);
      inherit (attrs) pname version;
      nativeBuildInputs = attrs.nativeBuildInputs or [ ];
    };
in
{
  inherit lib;

  # pkgs/development/web/playwright/driver.nix: playwright-driver.components, from
  # pkgs/development/web/playwright/chromium-headless-shell.nix.
  playwright-driver = {
    components.chromium-headless-shell = pkg "playwright-chromium-headless-shell";
  };
  # pkgs/development/libraries/ffmpeg/default.nix: ffmpeg-headless = ffmpeg_7-headless.
  ffmpeg-headless = pkg "ffmpeg-headless";
  # pkgs/development/libraries/glibc/default.nix (its `bin` output has ldd).
  glibc = {
    bin = pkg "glibc-bin";
  };
  # pkgs/data/fonts/dejavu-fonts/default.nix.
  dejavu_fonts = pkg "dejavu-fonts";
  # pkgs/development/libraries/fontconfig/make-fonts-conf.nix.
  makeFontsConf = { fontDirectories }: mk "fonts.conf" { inherit fontDirectories; };
  # pkgs/build-support/setup-hooks/make-wrapper.sh (pkgs.makeWrapper).
  makeWrapper = pkg "hook";
  rustPlatform = { inherit buildRustPackage; };
  # pkgs/build-support/trivial-builders (writeShellApplication, runCommand).
  writeShellApplication = { name, text, ... }: mk name { inherit text; };
  runCommand = name: env: script: mk name (env // { buildCommand = script; });
  # pkgs/build-support/mkshell.
  mkShell = attrs: mk "nix-shell" attrs;
  cargo = pkg "cargo";
  rustc = pkg "rustc";
  clippy = pkg "clippy";
  rustfmt = pkg "rustfmt";
  # pkgs/by-name/ni/nixfmt-rfc-style.
  nixfmt-rfc-style = pkg "nixfmt";
}
