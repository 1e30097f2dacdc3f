#!/usr/bin/env bash
# After install.sh into a private prefix, a private containerd (Debian's,
# through test/e2e/lib.sh) whose config install.sh patched runs a workload
# with the reaper runtime, the shim found through PATH in the install
# prefix only (the build directory is taken off PATH), the shim reading the
# installed default reaper.conf:
#   ctr run --rm --runtime io.containerd.reaper.v2 --rootfs DIR id /bin/echo hi
# (with the namespace annotation Kubernetes' CRI would add).
# Then uninstall.sh restores containerd's config byte for byte.
TEST_NAME=containerd-run
# shellcheck source=../e2e/lib.sh
source "$(dirname "$0")/../e2e/lib.sh"
PKG=$(cd "$(dirname "$0")/../../packaging" && pwd)

# The build dir off PATH; the install prefix on it.
BUILD_BIN=$REAPER_BIN
PATH=${PATH#"$BUILD_BIN:"}
prefix=$E2E/prefix
bash "$PKG/install.sh" --binary "$BUILD_BIN/reaper" --prefix "$prefix" \
  --config-dir "$E2E/etc/reaper" --state-dir "$E2E/var/lib/reaper" --no-containerd >"$E2E/install.log" 2>&1 ||
  { cat "$E2E/install.log" >&2; fail "install.sh failed"; }
REAPER_BIN=$prefix/bin
export PATH="$REAPER_BIN:$PATH"
export REAPER_CONFIG=$E2E/etc/reaper/reaper.conf
expect_eq "shim found on PATH" "$prefix/bin/containerd-shim-reaper-v2" "$(command -v containerd-shim-reaper-v2)"

# install.sh adds the runtime to the config lib.sh wrote, before containerd starts.
patch_config() {
  cp "$1" "$E2E/config.orig.toml"
  bash "$PKG/install.sh" --no-binary --no-config --state-dir "$E2E/var/lib/reaper" \
    --containerd-config "$1" >>"$E2E/install.log" 2>&1 || { cat "$E2E/install.log" >&2; return 1; }
}
CTRD_CONFIG_HOOK=patch_config
start_containerd
grep -q '^\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2\]' "$E2E/config.toml" ||
  fail "install.sh did not add the runtime to containerd's config"
# (lib.sh's containerd disables CRI, so `config dump` leaves the runtimes
# out; install-config checks what containerd reads from them.)

# The namespace annotation containerd's CRI would set: the installed default
# config groups overlays by Kubernetes namespace.
out=$(c run --rm --runtime "$RUNTIME" --annotation io.kubernetes.cri.sandbox-namespace=packaging \
  --rootfs "$E2E/rootfs" pkg-echo /bin/echo hi 2>&1) || {
  echo "$out" >&2
  grep -qi unimplemented <<<"$out" && fail "the shim answers Unimplemented (task backend not in this build)"
  fail "ctr run through the installed shim failed"
}
expect_eq "workload output" "hi" "$out"
[ -z "$(c containers ls -q)" ] || fail "container left behind after --rm"

stop_containerd
bash "$PKG/uninstall.sh" --state-dir "$E2E/var/lib/reaper" >"$E2E/uninstall.log" 2>&1 ||
  { cat "$E2E/uninstall.log" >&2; fail "uninstall.sh failed"; }
cmp -s "$E2E/config.orig.toml" "$E2E/config.toml" || fail "uninstall.sh did not restore containerd's config"
[ ! -e "$prefix/bin/reaper" ] || fail "uninstall.sh left the binary"
REAPER_BIN=$BUILD_BIN   # for lib.sh's cleanup
pass
