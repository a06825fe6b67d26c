# A stand-in for nixpkgs, for evaluating framelock's flake offline (scripts/check-nix.sh):
# `nix eval --override-input nixpkgs path:tests/nix/nixpkgs-stand-in`. It builds nothing. It
# has exactly the attributes framelock's flake uses, at the paths nixpkgs has them at the pinned
# revision (6a08e6bb4e46ff7fcbb53d409b253f6bad8a28ce), so a misspelt attribute fails here too;
# default.nix names the nixpkgs file each one stands for. What it cannot show: that the real
# packages build, and their versions. `nix flake check` with the real input does that.
{
  outputs = { self }: {
    lib = import ./lib.nix;
  };
}
