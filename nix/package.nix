# framelock built from Cargo.lock, wrapped so it runs on the pinned toolchain.
{ pkgs, self, toolchain }:
let
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);
  wrapArgs = builtins.concatStringsSep " " (
    pkgs.lib.mapAttrsToList (name: value: "--set ${name} ${pkgs.lib.escapeShellArg value}") toolchain.env
  );
in
pkgs.rustPlatform.buildRustPackage {
  pname = "framelock";
  version = cargoToml.package.version;
  src = self;
  cargoLock.lockFile = ../Cargo.lock;
  nativeBuildInputs = [ pkgs.makeWrapper ];
  # The test suite needs the browser; it runs as its own check (checks.tests).
  doCheck = false;
  postInstall = ''
    wrapProgram $out/bin/framelock ${wrapArgs} --prefix PATH : ${toolchain.ldd}/bin
  '';
  passthru.wrapperEnv = toolchain.env;
  meta.mainProgram = "framelock";
}
