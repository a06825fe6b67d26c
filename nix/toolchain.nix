# The pinned toolchain: what rasterises, encodes and draws text. Attribute paths are nixpkgs'
# at the pinned revision (see the README's table for where each was read).
{ pkgs, nixpkgs }:
let
  # Playwright's chrome-headless-shell build
  # (pkgs/development/web/playwright/chromium-headless-shell.nix, exposed by
  # pkgs/development/web/playwright/driver.nix as playwright-driver.components). It bundles its
  # own SwiftShader (chrome-linux/libvk_swiftshader.so and ANGLE's libEGL/libGLESv2), which is
  # the rasteriser `--use-angle=swiftshader` selects: pinning the browser pins SwiftShader.
  chromeShell = pkgs.playwright-driver.components.chromium-headless-shell;
in
rec {
  inherit chromeShell;
  chrome = "${chromeShell}/chrome-linux/headless_shell";
  # ffmpeg without X, SDL or other desktop libraries (pkgs/development/libraries/ffmpeg).
  ffmpeg = pkgs.ffmpeg-headless;
  # A fontconfig file that lists only the pinned fonts (fontconfig/make-fonts-conf.nix).
  fonts = pkgs.makeFontsConf { fontDirectories = [ pkgs.dejavu_fonts ]; };
  # `ldd`, which the toolchain fingerprint uses to find the libraries the browser and ffmpeg
  # load; not on PATH in the build sandbox or on every NixOS.
  ldd = pkgs.glibc.bin;
  # What framelock records as the toolchain it ran on.
  label = "nix flake, nixpkgs ${nixpkgs.rev or "(unlocked)"}";
  # The environment the wrapper, the dev shell and the checks give framelock.
  env = {
    TZ = "UTC";
    LANG = "C.UTF-8";
    FONTCONFIG_FILE = "${fonts}";
    FRAMELOCK_CHROME = chrome;
    FRAMELOCK_FFMPEG = "${ffmpeg}/bin/ffmpeg";
    FRAMELOCK_PINNED_TOOLCHAIN = label;
  };
}
