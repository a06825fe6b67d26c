# Stand-ins for the nixpkgs lib functions the flake uses (lib/attrsets.nix, lib/strings.nix).
rec {
  # lib/attrsets.nix
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  mapAttrsToList = f: attrs: map (n: f n attrs.${n}) (builtins.attrNames attrs);
  filterAttrs =
    pred: attrs:
    builtins.listToAttrs (
      builtins.concatMap (n: if pred n attrs.${n} then [ { name = n; value = attrs.${n}; } ] else [ ]) (
        builtins.attrNames attrs
      )
    );
  # lib/strings.nix: single quotes around the value, inner quotes escaped.
  escapeShellArg = s: "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s)}'";
}
