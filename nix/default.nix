# The flake's outputs: the package, `nix run .#regress`, the dev shell, the checks.
{ self, nixpkgs }:
let
  systems = [ "x86_64-linux" ];
  forAll = f: nixpkgs.lib.genAttrs systems (system: f (import nixpkgs { inherit system; }));
  per = pkgs: rec {
    toolchain = import ./toolchain.nix { inherit pkgs nixpkgs; };
    framelock = import ./package.nix { inherit pkgs self toolchain; };
    regress = import ./regress.nix { inherit pkgs self framelock; };
    checks = import ./checks.nix { inherit pkgs self framelock toolchain; };
  };
in
{
  packages = forAll (pkgs: rec {
    framelock = (per pkgs).framelock;
    default = framelock;
  });

  apps = forAll (pkgs: rec {
    regress = {
      type = "app";
      program = "${(per pkgs).regress}/bin/framelock-regress";
    };
    default = {
      type = "app";
      program = "${(per pkgs).framelock}/bin/framelock";
    };
  });

  devShells = forAll (pkgs: {
    default = pkgs.mkShell ((per pkgs).toolchain.env // {
      packages = [
        pkgs.cargo
        pkgs.rustc
        pkgs.clippy
        pkgs.rustfmt
        (per pkgs).toolchain.ffmpeg
        (per pkgs).toolchain.ldd
      ];
    });
  });

  checks = forAll (pkgs: (per pkgs).checks);

  formatter = forAll (pkgs: pkgs.nixfmt-rfc-style);
}
