{
  description = "framelock: proof that HTML-to-video rendering is reproducible, on a pinned toolchain";

  # nixos-unstable as locked in nix-community/home-manager's flake.lock (master, commit
  # d47259b685b1145b610fd8c28e7498304a97fa78, "flake.lock: Update", 2025-10-28); flake.lock
  # holds that node unchanged. The logic is in nix/.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/6a08e6bb4e46ff7fcbb53d409b253f6bad8a28ce";

  outputs = { self, nixpkgs }: import ./nix { inherit self nixpkgs; };
}
