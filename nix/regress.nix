# `nix run .#regress`: the harness over the current checkout's fixtures and baselines when run
# from one, else over the copies packaged with it; reports go to the current directory, never
# into the read-only store.
{ pkgs, self, framelock }:
pkgs.writeShellApplication {
  name = "framelock-regress";
  text = ''
    if [ -d fixtures ] && [ -d baselines ]; then
      fixtures=fixtures
      baselines=baselines
    else
      fixtures=${self}/fixtures
      baselines=${self}/baselines
    fi
    exec ${framelock}/bin/framelock regress \
      --fixtures "$fixtures" --baselines "$baselines" "$@"
  '';
}
