#!/usr/bin/env bash
# The .deb: packaging/deb/build.sh builds it from the built binary with the
# project's version; its contents, modes, symlinks and conffile are as
# listed; `dpkg -i` installs it into / (this machine's real root), the
# installed binary answers under every name, reaper reads the installed
# reaper.conf, and the system's containerd config is not touched; `dpkg -r`
# removes everything but the conffile and `dpkg --purge` that too, leaving
# nothing. Then the opt-in path: REAPER_CONFIGURE_CONTAINERD=1 with a
# private containerd config adds the runtime, and `dpkg -r` restores the
# file byte for byte.
# Refuses (skips) if a reaper package or reaper's files are already on the
# machine: it never replaces what it did not install.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
command -v dpkg-deb >/dev/null && command -v dpkg >/dev/null || skip "no dpkg/dpkg-deb"
status=$(dpkg-query -W -f='${db:Status-Status}' reaper 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || skip "a reaper package is already on this machine (status $status): not touching it"
for p in /usr/bin/reaper /usr/bin/reaper-runtime /usr/bin/reaper-monitor /usr/bin/containerd-shim-reaper-v2 \
  /etc/reaper /usr/share/reaper /usr/share/doc/reaper /var/lib/reaper/dpkg; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || skip "$p already exists: not installing over it"
done

installed=0
purge_if_installed() { if ((installed)); then dpkg --purge reaper >/dev/null 2>&1; fi; }
cleanup_hooks+=(purge_if_installed)

# --- build and inspect ------------------------------------------------------
# Stripped, like the release binary (and xz is quicker on it).
strip -o "$T/reaper" "$REAPER_BIN/reaper" || fail "strip failed"
deb=$(bash "$PKG/deb/build.sh" "$T/out" "$T/reaper") || fail "build.sh failed"
[ "$deb" = "$T/out/reaper_${VERSION}_amd64.deb" ] || fail "unexpected package file $deb"
[ "$(dpkg-deb -f "$deb" Package)" = reaper ] || fail "Package field"
[ "$(dpkg-deb -f "$deb" Version)" = "$VERSION" ] || fail "Version field is not the project version $VERSION"
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "Architecture field"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6, $7, $8 }' | sed 's|^\(.\{10\}\) root/root \./|\1 |' | LC_ALL=C sort >"$T/contents"
cat >"$T/want" <<'EOF2'
-rw-r--r-- etc/reaper/reaper.conf  
-rw-r--r-- usr/share/doc/reaper/copyright  
-rw-r--r-- usr/share/reaper/containerd/config-v2.toml  
-rw-r--r-- usr/share/reaper/containerd/config-v3.toml  
-rwxr-xr-x usr/bin/reaper  
-rwxr-xr-x usr/share/reaper/install.sh  
-rwxr-xr-x usr/share/reaper/uninstall.sh  
lrwxrwxrwx usr/bin/containerd-shim-reaper-v2 -> reaper
lrwxrwxrwx usr/bin/reaper-monitor -> reaper
lrwxrwxrwx usr/bin/reaper-runtime -> reaper
EOF2
grep -v -e '^d' -e 'usr/share/doc/reaper/.*\.md' "$T/contents" | sed 's/ *$//' >"$T/got"
sed 's/ *$//' "$T/want" | LC_ALL=C sort >"$T/want.sorted"
expect_same "$T/want.sorted" "$T/got" "package contents"
grep -q 'usr/share/doc/reaper/install.md' "$T/contents" || fail "docs/install.md is not in the package"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$T/conffiles"
[ "$(cat "$T/conffiles")" = /etc/reaper/reaper.conf ] || fail "conffiles: $(cat "$T/conffiles")"

# --- install into / -----------------------------------------------------------
ctrd_sum=$( [ -e /etc/containerd/config.toml ] && sha256sum </etc/containerd/config.toml || echo absent)
installed=1
env -u REAPER_CONFIGURE_CONTAINERD -u REAPER_RESTART_CONTAINERD dpkg -i "$deb" >"$T/dpkg-i.log" 2>&1 ||
  { cat "$T/dpkg-i.log" >&2; fail "dpkg -i failed"; }
cat "$T/dpkg-i.log"
[ "$(dpkg-query -W -f='${Status}' reaper)" = "install ok installed" ] || fail "not installed: $(dpkg-query -W -f='${Status}' reaper)"
grep -q "containerd's config was left unchanged" "$T/dpkg-i.log" || fail "postinst did not say how to configure containerd"
cmp -s "$T/reaper" /usr/bin/reaper || fail "/usr/bin/reaper is not the packaged binary"
for n in reaper reaper-runtime containerd-shim-reaper-v2; do
  out=$(PATH=/usr/bin "$n" --version 2>&1) || fail "$n --version failed: $out"
  grep -q "$VERSION" <<<"$out" || fail "$n --version: $out"
done
out=$(/usr/bin/reaper-monitor --version 2>&1) || true
[[ $out == reaper-monitor* ]] || fail "reaper-monitor did not answer as the monitor: $out"
REAPER_CONFIG=/etc/reaper/reaper.conf /usr/bin/reaper-runtime --root "$T/state" list >"$T/list" 2>&1 ||
  { cat "$T/list" >&2; fail "reaper rejects the packaged reaper.conf"; }
dpkg -V reaper >"$T/verify" 2>&1 && [ ! -s "$T/verify" ] || { cat "$T/verify" >&2; fail "dpkg -V reaper reports differences"; }
now=$( [ -e /etc/containerd/config.toml ] && sha256sum </etc/containerd/config.toml || echo absent)
[ "$now" = "$ctrd_sum" ] || fail "installing the package changed /etc/containerd/config.toml"
[ ! -e /var/lib/reaper/dpkg ] || fail "postinst recorded a containerd change it was not asked for"

# --- remove, purge -------------------------------------------------------------
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' >"$T/files"
dpkg -r reaper >"$T/dpkg-r.log" 2>&1 || { cat "$T/dpkg-r.log" >&2; fail "dpkg -r failed"; }
[ "$(dpkg-query -W -f='${Status}' reaper)" = "deinstall ok config-files" ] || fail "after -r: $(dpkg-query -W -f='${Status}' reaper)"
while read -r f; do
  if [ "$f" = /etc/reaper/reaper.conf ]; then
    [ -f "$f" ] || fail "dpkg -r removed the conffile $f"
  elif [ -e "$f" ] || [ -L "$f" ]; then
    fail "dpkg -r left $f"
  fi
done <"$T/files"
dpkg --purge reaper >"$T/purge.log" 2>&1 || { cat "$T/purge.log" >&2; fail "dpkg --purge failed"; }
installed=0
status=$(dpkg-query -W -f='${db:Status-Status}' reaper 2>/dev/null || true)
[ -z "$status" ] || [ "$status" = not-installed ] || fail "after purge: status $status"
for p in $(cat "$T/files") /etc/reaper /usr/share/reaper /usr/share/doc/reaper /var/lib/reaper/dpkg; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "left after purge: $p"
done

# --- opt-in: containerd's config, a private one --------------------------------
cfg=$T/config.toml
cp "$FIXTURES/containerd-1.6.toml" "$cfg"
installed=1
REAPER_CONFIGURE_CONTAINERD=1 REAPER_CONTAINERD_CONFIG=$cfg dpkg -i "$deb" >"$T/dpkg-i2.log" 2>&1 ||
  { cat "$T/dpkg-i2.log" >&2; fail "dpkg -i with REAPER_CONFIGURE_CONTAINERD=1 failed"; }
grep -q '^\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2\]' "$cfg" || fail "postinst did not add the runtime"
[ -f /var/lib/reaper/dpkg/install.manifest ] || fail "postinst did not record the change"
dpkg -r reaper >"$T/dpkg-r2.log" 2>&1 || { cat "$T/dpkg-r2.log" >&2; fail "dpkg -r failed"; }
expect_same "$FIXTURES/containerd-1.6.toml" "$cfg" "dpkg -r did not restore the containerd config"
dpkg --purge reaper >/dev/null 2>&1 || fail "dpkg --purge failed"
installed=0
[ ! -e /var/lib/reaper/dpkg ] || fail "left after purge: /var/lib/reaper/dpkg"
now=$( [ -e /etc/containerd/config.toml ] && sha256sum </etc/containerd/config.toml || echo absent)
[ "$now" = "$ctrd_sum" ] || fail "the system's /etc/containerd/config.toml changed"
pass
