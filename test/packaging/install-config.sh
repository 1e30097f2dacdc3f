#!/usr/bin/env bash
# install.sh against a private copy of one containerd config fixture:
#   install-config.sh FIXTURE FORMAT
# checks the binary, its symlinks and --version under every name, the
# default reaper.conf (parsed by reaper itself), the runtime added in the
# right format with nothing else changed (python tomllib, and containerd's
# own `config dump` for formats it reads), the backup, that a second run
# changes no byte and no mtime, and that uninstall.sh restores the original
# config byte for byte and removes everything else it added.
TEST_NAME="install-config-$(basename "${1:?fixture}" .toml)"
export TEST_NAME
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
fixture=$FIXTURES/$1 format=${2:?format}
[ -f "$fixture" ] || fail "no fixture $fixture"
case $format in
  1) plugin=cri ;;
  2) plugin=io.containerd.grpc.v1.cri ;;
  3) plugin=io.containerd.cri.v1.runtime ;;
  *) fail "format $format?" ;;
esac
cfg=$R/etc/containerd/config.toml
mkdir -p "$R/etc/containerd"
cp "$fixture" "$cfg"
cp "$fixture" "$T/orig.toml"
snapshot "$R" >"$T/before"

# --- install --------------------------------------------------------------
inst >"$T/install1.log" 2>&1 || { cat "$T/install1.log" >&2; fail "install.sh failed"; }
cat "$T/install1.log"

bin=$R/usr/local/bin
cmp -s "$REAPER_BIN/reaper" "$bin/reaper" || fail "$bin/reaper is not the built binary"
[ "$(stat -c %a "$bin/reaper")" = 755 ] || fail "$bin/reaper mode $(stat -c %a "$bin/reaper"), expected 755"
for n in containerd-shim-reaper-v2 reaper-runtime reaper-monitor; do
  [ "$(readlink "$bin/$n")" = reaper ] || fail "$bin/$n is not a symlink to reaper"
done
for n in reaper reaper-runtime containerd-shim-reaper-v2; do
  out=$("$bin/$n" --version 2>&1) || fail "$n --version failed: $out"
  grep -q "$VERSION" <<<"$out" || fail "$n --version does not name version $VERSION: $out"
done
# reaper-monitor has no --version of its own; the name must reach the monitor.
out=$("$bin/reaper-monitor" --version 2>&1) || true
[[ $out == reaper-monitor* ]] || fail "reaper-monitor did not answer as the monitor: $out"

conf=$R/etc/reaper/reaper.conf
[ -f "$conf" ] || fail "no $conf"
[ "$(stat -c %a "$conf")" = 644 ] || fail "$conf mode $(stat -c %a "$conf"), expected 644"
bash "$PKG/install.sh" --print-default-config | cmp -s - "$conf" || fail "$conf is not the default config"
REAPER_CONFIG=$conf "$bin/reaper-runtime" --root "$T/state" list >"$T/list.out" 2>&1 ||
  { cat "$T/list.out" >&2; fail "reaper-runtime rejects the installed default config"; }

# The config: the fixture's bytes, then the block; tomllib sees the fixture
# plus exactly the runtime (and containerd's defaults where it had none).
size=$(stat -c %s "$T/orig.toml")
cmp -s -n "$size" "$T/orig.toml" "$cfg" || fail "install changed the existing content of the config (not append-only)"
python3 - "$T/orig.toml" "$cfg" "$plugin" <<'PY' || fail "the config is not the fixture plus the runtime"
import sys, tomllib
orig = tomllib.load(open(sys.argv[1], "rb"))
new = tomllib.load(open(sys.argv[2], "rb"))
plugin = sys.argv[3]
rts = new["plugins"][plugin]["containerd"]["runtimes"]
want = {"runtime_type": "io.containerd.reaper.v2", "pod_annotations": ["reaper.runtime/*"]}
assert rts.pop("reaper-v2") == want, "reaper-v2 table"
orig_rts = orig.get("plugins", {}).get(plugin, {}).get("containerd", {}).get("runtimes")
if orig_rts is None:
    # containerd's defaults were repeated: exactly runc, of type runc.v2
    assert list(rts) == ["runc"] and rts["runc"]["runtime_type"] == "io.containerd.runc.v2", rts
    del new["plugins"][plugin]["containerd"]["runtimes"]
    if not new["plugins"][plugin]["containerd"]: del new["plugins"][plugin]["containerd"]
assert new == orig, "other content changed"
PY
backups=("$cfg".reaper-backup.*)
if [ ${#backups[@]} != 1 ] || [ ! -f "${backups[0]}" ]; then fail "expected one backup beside the config, got: ${backups[*]}"; fi
expect_same "$T/orig.toml" "${backups[0]}" "the backup is not the original config"

# containerd itself, for the formats this containerd reads (1.x: 1 and 2).
if command -v containerd >/dev/null && [ "$format" != 3 ] &&
  containerd --version | grep -qE ' v?1\.[0-9]+'; then
  containerd --config "$cfg" config dump >"$T/dump.toml" 2>"$T/dump.err" ||
    { cat "$T/dump.err" >&2; fail "containerd rejects the installed config"; }
  python3 - "$T/dump.toml" "$T/orig.toml" <<'PY' || fail "containerd does not read the runtimes as expected"
import sys, tomllib, subprocess
dump = tomllib.load(open(sys.argv[1], "rb"))
rts = dump["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
r = rts["reaper-v2"]
assert r["runtime_type"] == "io.containerd.reaper.v2", r
assert r["pod_annotations"] == ["reaper.runtime/*"], r
orig = subprocess.run(["containerd", "--config", sys.argv[2], "config", "dump"], capture_output=True, check=True).stdout
orig_rts = tomllib.loads(orig.decode())["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
for name, table in orig_rts.items():
    assert rts.get(name) == table, f"runtime {name} changed: {rts.get(name)} != {table}"
assert set(rts) == set(orig_rts) | {"reaper-v2"}, sorted(rts)
print("containerd reads runtimes:", ", ".join(sorted(rts)))
PY
fi

# --- a second run changes nothing, not even an mtime ------------------------
snapshot "$R" times >"$T/after1"
inst >"$T/install2.log" 2>&1 || { cat "$T/install2.log" >&2; fail "second install.sh failed"; }
grep -q "done: nothing changed" "$T/install2.log" || { cat "$T/install2.log" >&2; fail "second run reported changes"; }
snapshot "$R" times >"$T/after2"
expect_same "$T/after1" "$T/after2" "the second install changed files"

# --- uninstall --------------------------------------------------------------
uninst >"$T/uninstall.log" 2>&1 || { cat "$T/uninstall.log" >&2; fail "uninstall.sh failed"; }
cat "$T/uninstall.log"
expect_same "$T/orig.toml" "$cfg" "uninstall did not restore the config byte for byte"
rm -f "${backups[0]}"   # the one file uninstall keeps on purpose
snapshot "$R" >"$T/after-uninstall"
expect_same "$T/before" "$T/after-uninstall" "uninstall left something behind or removed too much"
uninst >"$T/uninstall2.log" 2>&1 || fail "second uninstall.sh failed"
grep -q "nothing changed" "$T/uninstall2.log" || fail "second uninstall reported changes"
pass "format $format"
