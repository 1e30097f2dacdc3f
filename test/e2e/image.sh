#!/usr/bin/env bash
# The image for host processes through containerd: a real OCI image (built
# here: one layer with a static busybox), imported and run from its
# overlayfs snapshot. The workload runs the image's busybox from
# $REAPER_IMAGE_ROOT (and an exec does), cannot write there, and `/` is
# still the host's view. Once the container ended the mount is gone from
# the group's namespace, and delete unmounts the snapshot from the bundle;
# after a shim crash, the `delete` action does the same. A pod sandbox
# gets no image.
source "$(dirname "$0")/lib.sh"
BUSYBOX=${BUSYBOX:-/bin/busybox}
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" ||
  { echo "SKIP: no static busybox at $BUSYBOX (packaging/deps.sh installs busybox-static)"; exit 77; }
start_containerd
events_start

IMAGE=docker.io/library/reaper-e2e-tools:1
echo "from the image" >"$E2E/motd"
python3 "$E2E_DIR/make-image.py" "$E2E/image.tar" "$IMAGE" bin/busybox="$BUSYBOX" etc/motd="$E2E/motd"
c images import "$E2E/image.tar" >/dev/null
c images ls -q | grep -qx "$IMAGE" || fail "image not imported: $(c images ls)"

# irun [CTR-RUN-FLAGS...] ID ARGS...: `ctr run` of the image through reaper.
irun() {
  local flags=()
  while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do flags+=("$1"); shift; done
  c run --runtime "$RUNTIME" ${flags[@]+"${flags[@]}"} "$IMAGE" "$@"
}
# in_view CMD...: CMD in the group's mount namespace (containerd's namespace
# names the group here): its bind mount, or the anchor's where there is none.
in_view() {
  local ns="$REAPER_RUNTIME_ROOT/ns/$NS"
  if [ ! -f "$ns" ] || ! nsenter --mount="$ns" true 2>/dev/null; then
    ns=/proc/$(cut -d' ' -f1 "$REAPER_RUNTIME_ROOT/ns/.anchors/$NS")/ns/mnt
  fi
  nsenter --mount="$ns" "$@"
}
image_mounts() {  # ID: the image's mounts in the view
  in_view cat /proc/self/mountinfo | awk -v p="$REAPER_RUNTIME_ROOT/image/$1" '$5 == p' || true
}
host_mounts_of() {  # PATH: mounts on PATH in the host's namespace
  awk -v p="$1" '$5 == p' /proc/self/mountinfo
}

# 1. Run from the image: its busybox, read-only, `/` the host's view.
out=$(irun --rm t-img /bin/sh -c '
  echo "$REAPER_IMAGE_ROOT"
  "$REAPER_IMAGE_ROOT/bin/busybox" cat "$REAPER_IMAGE_ROOT/etc/motd"
  "$REAPER_IMAGE_ROOT/bin/busybox" touch "$REAPER_IMAGE_ROOT/x" 2>&1 | grep -o "Read-only file system" | head -n 1
  stat -f -c %T /
  grep -qx "from the image" /etc/motd 2>/dev/null && echo "image at /" || echo "host at /"')
expect_eq "REAPER_IMAGE_ROOT" "$REAPER_RUNTIME_ROOT/image/t-img" "$(sed -n 1p <<<"$out")"
expect_eq "the image's file" "from the image" "$(sed -n 2p <<<"$out")"
expect_eq "write into the image" "Read-only file system" "$(sed -n 3p <<<"$out")"
expect_eq "root fs" overlayfs "$(sed -n 4p <<<"$out")"
expect_eq "the view's /" "host at /" "$(sed -n 5p <<<"$out")"
expect_eq "image mount after --rm" "" "$(image_mounts t-img)"
[ ! -e "$REAPER_RUNTIME_ROOT/image/t-img" ] || fail "t-img's mount point left"

# 2. Detached: mounted while it runs (the snapshot on the bundle, read-only
# in the view), exec sees it; gone from the view once it ended, and the
# snapshot is unmounted from the bundle by delete.
irun -d t-run /bin/sleep 1000 >/dev/null
bundle=$(bundle_of t-run)
[ -n "$(host_mounts_of "$bundle/rootfs")" ] || fail "the snapshot is not mounted on $bundle/rootfs"
[ -n "$(image_mounts t-run)" ] || fail "no image mount in the view while t-run runs"
[ -z "$(host_mounts_of "$REAPER_RUNTIME_ROOT/image/t-run")" ] || fail "the image mount is in the host's namespace"
out=$(c task exec --exec-id e1 t-run /bin/sh -c '"$REAPER_IMAGE_ROOT/bin/busybox" cat "$REAPER_IMAGE_ROOT/etc/motd"')
expect_eq "exec" "from the image" "$out"
c task kill -s KILL t-run
events_until '/tasks/exit*"id":"t-run"' >/dev/null  # (not e1's)
expect_eq "image mount once t-run ended" "" "$(image_mounts t-run)"
c task delete t-run >/dev/null
expect_eq "snapshot mount after delete" "" "$(host_mounts_of "$bundle/rootfs")"
[ ! -e "$REAPER_RUNTIME_ROOT/image/t-run" ] || fail "t-run's mount point left"
c containers delete t-run

# 3. The shim crashes (containerd down): the `delete` action ends the
# container and leaves neither mount behind.
irun -d t-crash /bin/sleep 1000 >/dev/null
bundle=$(bundle_of t-crash)
shim=$(cat "$bundle/shim.pid")
events_stop || true  # (its wait reports the kill)
stop_containerd
kill -KILL "$shim"
wait_gone "$shim" 10
[ -n "$(image_mounts t-crash)" ] || fail "no image mount while t-crash runs"
(cd "$bundle" && containerd-shim-reaper-v2 -namespace "$NS" -address "$CTRD_SOCK" -id t-crash \
  -bundle "$bundle" delete >/dev/null) || fail "the delete action failed"
expect_eq "image mount after the delete action" "" "$(image_mounts t-crash)"
expect_eq "snapshot mount after the delete action" "" "$(host_mounts_of "$bundle/rootfs")"
[ ! -e "$REAPER_RUNTIME_ROOT/image/t-crash" ] || fail "t-crash's mount point left"
start_containerd
c containers delete t-crash

# 4. A pod sandbox (simulated) gets no image: nothing is mounted for it.
irun -d --annotation=io.kubernetes.cri.container-type=sandbox t-sandbox /pause >/dev/null
expect_eq "sandbox snapshot on the bundle" "" "$(host_mounts_of "$(bundle_of t-sandbox)/rootfs")"
[ ! -e "$REAPER_RUNTIME_ROOT/image/t-sandbox" ] || fail "a mount point for the sandbox"
c task kill -s KILL t-sandbox
c task delete t-sandbox >/dev/null
c containers delete t-sandbox
pass
