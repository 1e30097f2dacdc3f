#!/usr/bin/env bash
# install.sh / uninstall.sh edge cases, each in a fresh private root:
# config format detection for a new or empty file (from containerd's
# version), an existing or conflicting reaper-v2 table, configs it must
# refuse without touching them (inline runtimes, invalid TOML), a foreign
# file where a symlink goes, --dry-run, edits made after install, the
# containerd restart decision, the parser-less fallback, and a binary
# upgrade that leaves the old inode intact.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

fresh() {  # fresh NAME: a new empty private root for one case
  CASE=$1
  R=$T/$1
  mkdir -p "$R/etc/containerd"
  CFG=$R/etc/containerd/config.toml
}
fail_case() { fail "[$CASE] $*"; }
ok() { echo "ok: $CASE"; }

# Fakes on PATH: containerd 2.x (answers --version; `config default` prints
# a 2.0 default config; `config dump` prints the file), systemctl (records
# its calls; ActiveEnterTimestamp from $FAKE_SINCE), a python3 without tomllib.
fake=$T/fake
mkdir -p "$fake/ctrd2" "$fake/systemd" "$fake/nopy"
cat >"$fake/ctrd2/containerd" <<SH
#!/bin/sh
case "\$1" in
  --version) echo "containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542"; exit 0 ;;
  config) cat "$FIXTURES/containerd-2.0.toml"; exit 0 ;;
  --config) cat "\$2"; exit 0 ;;
esac
exit 2
SH
cat >"$fake/systemd/systemctl" <<'SH'
#!/bin/sh
echo "$*" >>"$FAKE_LOG"
case "$1" in show) [ -n "${FAKE_SINCE:-}" ] && echo "@$FAKE_SINCE"; exit 0 ;; esac
exit 0
SH
printf '#!/bin/sh\nexit 1\n' >"$fake/nopy/python3"
chmod +x "$fake"/*/*
export FAKE_LOG=$T/systemctl.log
: >"$FAKE_LOG"

runtime_table() {  # runtime_table FILE PLUGIN: prints runtime_type of reaper-v2
  python3 -c 'import sys, tomllib; d = tomllib.load(open(sys.argv[1], "rb")); print(d["plugins"][sys.argv[2]]["containerd"]["runtimes"]["reaper-v2"]["runtime_type"])' "$1" "$2"
}

# --- A: no config file, containerd 2.x: a version 3 file ---------------------
fresh new-2x
rmdir "$R/etc/containerd"
PATH=$fake/ctrd2:$PATH inst --no-binary --no-config >"$T/a.log" 2>&1 || { cat "$T/a.log" >&2; fail_case "install failed"; }
head -1 "$CFG" | grep -q '^# BEGIN reaper runtime reaper-v2' || fail_case "the new file does not start with the block"
grep -qx 'version = 3' "$CFG" || fail_case "no version = 3 line"
[ "$(runtime_table "$CFG" io.containerd.cri.v1.runtime)" = io.containerd.reaper.v2 ] || fail_case "runtime missing"
python3 -c 'import sys, tomllib; r = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runc"]; assert r["sandboxer"] == "podsandbox" and r["options"]["SystemdCgroup"] is True, r' "$CFG" ||
  fail_case "containerd's default runc runtime was not repeated from \`containerd config default\`"
grep -q "created	" "$R/var/lib/reaper/install.manifest" || fail_case "manifest does not say the file was created"
uninst >"$T/a2.log" 2>&1 || fail_case "uninstall failed"
if [ -e "$CFG" ] || [ -e "$R/etc/containerd" ]; then fail_case "uninstall left the created file or its directory"; fi
ok

# --- B: no config file, the real containerd 1.x: a version 2 file it reads ---
if command -v containerd >/dev/null && containerd --version | grep -qE ' v?1\.[0-9]+'; then
  fresh new-1x
  inst --no-binary --no-config >"$T/b.log" 2>&1 || { cat "$T/b.log" >&2; fail_case "install failed"; }
  grep -qx 'version = 2' "$CFG" || fail_case "no version = 2 line"
  containerd --config "$CFG" config dump >"$T/b.dump" 2>&1 || { cat "$T/b.dump" >&2; fail_case "containerd rejects it"; }
  python3 -c 'import sys, tomllib; r = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]; assert sorted(r) == ["reaper-v2", "runc"], sorted(r)' "$T/b.dump" ||
    fail_case "containerd does not see exactly runc and reaper-v2"
  ok
fi

# --- C: no file, no containerd: refused; --containerd-version decides --------
fresh no-containerd
emptybin=$T/emptybin
mkdir -p "$emptybin"
for tool in bash sh cat awk sed grep sort cut head cmp cp mv rm ln mkdir rmdir mktemp chmod chown stat date dirname basename readlink sha256sum id ls python3 find; do
  ln -sf "$(command -v "$tool")" "$emptybin/$tool"
done
if PATH=$emptybin inst --no-binary --no-config >"$T/c.log" 2>&1; then fail_case "install without a way to tell the format succeeded"; fi
grep -q -- '--containerd-version' "$T/c.log" || { cat "$T/c.log" >&2; fail_case "the error does not say what to do"; }
[ ! -e "$CFG" ] || fail_case "a config was written anyway"
PATH=$emptybin inst --no-binary --no-config --containerd-version 1.7.2 >"$T/c2.log" 2>&1 || { cat "$T/c2.log" >&2; fail_case "--containerd-version 1.7.2 failed"; }
grep -qx 'version = 2' "$CFG" || fail_case "--containerd-version 1.7.2 did not give version 2"
grep -q 'runtimes.runc]' "$CFG" || fail_case "runc was not repeated"
ok

# --- D: a comment-only file gets its version inside the block ---------------
fresh comments-only
printf '# managed by hand\n' >"$CFG"
cp "$CFG" "$T/d.orig"
inst --no-binary --no-config --containerd-version 2.1.0 >"$T/d.log" 2>&1 || { cat "$T/d.log" >&2; fail_case "install failed"; }
[ "$(runtime_table "$CFG" io.containerd.cri.v1.runtime)" = io.containerd.reaper.v2 ] || fail_case "runtime missing"
uninst >/dev/null 2>&1 || fail_case "uninstall failed"
expect_same "$T/d.orig" "$CFG" "[$CASE] not restored"
ok

# --- E: the admin's own reaper-v2 table: left alone, not recorded -----------
fresh existing
cat "$FIXTURES/containerd-1.6.toml" >"$CFG"
printf '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2]\n  runtime_type = "io.containerd.reaper.v2"\n' >>"$CFG"
cp "$CFG" "$T/e.orig"
inst >"$T/e.log" 2>&1 || { cat "$T/e.log" >&2; fail_case "install failed"; }
grep -q "unchanged: $CFG" "$T/e.log" || fail_case "install did not report the table as present"
expect_same "$T/e.orig" "$CFG" "[$CASE] the config was changed"
! grep -q '^containerd' "$R/var/lib/reaper/install.manifest" || fail_case "the admin's table was recorded as install's"
uninst >/dev/null 2>&1 || fail_case "uninstall failed"
expect_same "$T/e.orig" "$CFG" "[$CASE] uninstall touched the admin's table"
ok

# --- F: a reaper-v2 table of another runtime_type: refused ------------------
fresh conflict
printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2]\n  runtime_type = "io.containerd.runc.v2"\n' >"$CFG"
cp "$CFG" "$T/f.orig"
if inst --no-binary --no-config >"$T/f.log" 2>&1; then fail_case "accepted a conflicting table"; fi
grep -q 'io.containerd.runc.v2' "$T/f.log" || { cat "$T/f.log" >&2; fail_case "error does not name the conflicting type"; }
expect_same "$T/f.orig" "$CFG" "[$CASE] the config was changed"
[ "$(ls -A "$R/etc/containerd")" = config.toml ] || fail_case "left files beside the config: $(ls -A "$R/etc/containerd")"
ok

# --- G, H: inline runtimes, invalid TOML: refused, untouched ----------------
for kind in inline invalid; do
  fresh "$kind"
  if [ "$kind" = inline ]; then
    printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } }\n' >"$CFG"
    want="inline"
  else
    printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri"\n' >"$CFG"
    want="not valid TOML"
  fi
  cp "$CFG" "$T/$kind.orig"
  if inst --no-binary --no-config >"$T/$kind.log" 2>&1; then fail_case "accepted"; fi
  grep -q "$want" "$T/$kind.log" || { cat "$T/$kind.log" >&2; fail_case "error does not say \`$want\`"; }
  expect_same "$T/$kind.orig" "$CFG" "[$CASE] the config was changed"
  [ "$(ls -A "$R/etc/containerd")" = config.toml ] || fail_case "left files beside the config: $(ls -A "$R/etc/containerd")"
  ok
done

# --- I: a foreign file where a symlink goes -----------------------------------
fresh foreign
mkdir -p "$R/usr/local/bin"
echo "not ours" >"$R/usr/local/bin/reaper-runtime"
if inst --no-containerd >"$T/i.log" 2>&1; then fail_case "replaced a foreign file"; fi
grep -q "reaper-runtime exists and is not a symlink" "$T/i.log" || { cat "$T/i.log" >&2; fail_case "unclear error"; }
[ "$(cat "$R/usr/local/bin/reaper-runtime")" = "not ours" ] || fail_case "the foreign file was changed"
ok

# --- J: --dry-run changes nothing (install and uninstall) ---------------------
fresh dry-run
cp "$FIXTURES/containerd-1.6.toml" "$CFG"
snapshot "$R" times >"$T/j.before"
inst --dry-run >"$T/j.log" 2>&1 || { cat "$T/j.log" >&2; fail_case "dry run failed"; }
snapshot "$R" times >"$T/j.after"
expect_same "$T/j.before" "$T/j.after" "[$CASE] --dry-run changed files"
grep -q "would add" "$T/j.log" || fail_case "dry run does not say what it would add"
inst >/dev/null 2>&1 || fail_case "install failed"
snapshot "$R" times >"$T/j.installed"
uninst --dry-run >"$T/j2.log" 2>&1 || fail_case "uninstall --dry-run failed"
snapshot "$R" times >"$T/j.after2"
expect_same "$T/j.installed" "$T/j.after2" "[$CASE] uninstall --dry-run changed files"
ok

# --- K: edits after install survive uninstall ---------------------------------
fresh edited
cp "$FIXTURES/containerd-1.6.toml" "$CFG"
inst >/dev/null 2>&1 || fail_case "install failed"
printf '\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n' >>"$CFG"
echo "REAPER_DNS_MODE=kubernetes" >>"$R/etc/reaper/reaper.conf"
uninst >"$T/k.log" 2>&1 || { cat "$T/k.log" >&2; fail_case "uninstall failed"; }
{ cat "$FIXTURES/containerd-1.6.toml"; printf '\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/opt/cni/bin"\n'; } >"$T/k.want"
expect_same "$T/k.want" "$CFG" "[$CASE] uninstall did not remove exactly the block"
grep -q REAPER_DNS_MODE=kubernetes "$R/etc/reaper/reaper.conf" || fail_case "uninstall removed an edited reaper.conf"
grep -q "kept $R/etc/reaper/reaper.conf" "$T/k.log" || fail_case "uninstall did not say it kept reaper.conf"
ok

# --- L: restarting containerd only when asked, and only when needed ---------
fresh restart
cp "$FIXTURES/containerd-1.6.toml" "$CFG"
PATH=$fake/systemd:$PATH inst >/dev/null 2>&1 || fail_case "install failed"
! grep -q restart "$FAKE_LOG" || fail_case "restarted containerd without --restart-containerd"
uninst >/dev/null 2>&1
: >"$FAKE_LOG"
PATH=$fake/systemd:$PATH inst --restart-containerd >/dev/null 2>&1 || fail_case "install --restart-containerd failed"
[ "$(grep -c '^restart containerd.service$' "$FAKE_LOG")" = 1 ] || fail_case "changed config + --restart-containerd: expected one restart, log: $(cat "$FAKE_LOG")"
: >"$FAKE_LOG"
FAKE_SINCE=$(($(stat -c %Y "$CFG") + 10)) PATH=$fake/systemd:$PATH inst --restart-containerd >/dev/null 2>&1 || fail_case "rerun failed"
! grep -q '^restart' "$FAKE_LOG" || fail_case "restarted a containerd that had already loaded the config"
FAKE_SINCE=$(($(stat -c %Y "$CFG") - 10)) PATH=$fake/systemd:$PATH inst --restart-containerd >/dev/null 2>&1 || fail_case "rerun failed"
grep -q '^restart containerd.service$' "$FAKE_LOG" || fail_case "did not restart a containerd started before the config changed"
ok

# --- M: without tomllib, the same result, and the same idempotence ----------
fresh no-python
cp "$FIXTURES/containerd-1.6.toml" "$CFG"
PATH=$fake/nopy:$PATH inst --no-binary --no-config >"$T/m.log" 2>&1 || { cat "$T/m.log" >&2; fail_case "install failed"; }
cp "$FIXTURES/containerd-1.6.toml" "$T/m.toml"
inst --no-binary --no-config --state-dir "$T/m-state" --containerd-config "$T/m.toml" >/dev/null 2>&1 || fail_case "reference install failed"
expect_same "$T/m.toml" "$CFG" "[$CASE] the result differs from the tomllib path"
PATH=$fake/nopy:$PATH inst --no-binary --no-config >"$T/m2.log" 2>&1 || fail_case "second install failed"
grep -q "nothing changed" "$T/m2.log" || { cat "$T/m2.log" >&2; fail_case "the fallback did not find its own table"; }
ok

# --- N: upgrading the binary replaces it by rename: the old inode lives on --
fresh upgrade
inst --no-containerd >/dev/null 2>&1 || fail_case "install failed"
ln "$R/usr/local/bin/reaper" "$T/old-inode"
cp "$REAPER_BIN/reaper" "$T/reaper-new"
printf 'upgrade' >>"$T/reaper-new"   # a different file that still runs
inst --no-containerd --binary "$T/reaper-new" >"$T/n.log" 2>&1 || { cat "$T/n.log" >&2; fail_case "upgrade failed"; }
grep -q "installed $R/usr/local/bin/reaper" "$T/n.log" || fail_case "upgrade not reported"
cmp -s "$T/reaper-new" "$R/usr/local/bin/reaper" || fail_case "the new binary is not installed"
cmp -s "$REAPER_BIN/reaper" "$T/old-inode" || fail_case "the old binary's inode was modified in place"
[ "$(stat -c %i "$T/old-inode")" != "$(stat -c %i "$R/usr/local/bin/reaper")" ] || fail_case "same inode after upgrade"
ok

pass
