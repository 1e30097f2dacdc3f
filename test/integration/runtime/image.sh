#!/usr/bin/env bash
# The image for host processes through the CLI: a bundle whose root.path
# holds a static busybox is shown read-only (nosuid, nodev) at
# $REAPER_IMAGE_ROOT = <state root>/image/<id>; the workload runs the
# image's binary (also as a non-root user, and from an exec), cannot write
# there (EROFS), and still has the host's overlay view as `/`. The mount is
# gone from the group's namespace once the container ended, also when its
# monitor was killed; delete removes the mount point. An empty rootfs means
# no image (no variable); a root.path that is a file fails create with the
# path, leaving nothing.
source "$(dirname "$0")/../lib.sh"
BUSYBOX=${BUSYBOX:-/bin/busybox}
file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked" ||
  { echo "SKIP: no static busybox at $BUSYBOX (packaging/deps.sh installs busybox-static)"; exit 77; }

# in_view CMD...: runs CMD in the group's mount namespace (as a workload
# sees it): its bind mount, or the anchor process's where there is none.
in_view() {
  local ns="$STATE/ns/$NS"
  if [ ! -f "$ns" ] || ! nsenter --mount="$ns" true 2>/dev/null; then
    ns=/proc/$(cut -d' ' -f1 "$STATE/ns/.anchors/$NS")/ns/mnt
  fi
  nsenter --mount="$ns" "$@"
}
# image_mounts ID: the mountinfo lines of ID's image in the view.
image_mounts() { in_view cat /proc/self/mountinfo | awk -v p="$STATE/image/$1" '$5 == p' || true; }

# A small image: a static busybox and a file.
image_bundle() {
  local dir=$1; shift
  make_bundle "$dir" "$@"
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc"
  cp "$BUSYBOX" "$dir/rootfs/bin/busybox"
  echo "from the image" >"$dir/rootfs/etc/motd"
}

# --- the workload runs the image's tool, cannot write there, `/` is the host's view
# (One line: make_bundle puts it into a JSON string as it is.)
script='echo "root=$REAPER_IMAGE_ROOT"; bb="$REAPER_IMAGE_ROOT/bin/busybox"; "$bb" cat "$REAPER_IMAGE_ROOT/etc/motd";'
script+=' "$bb" touch "$REAPER_IMAGE_ROOT/new" 2>&1 | grep -o "Read-only file system" | head -n 1;'
script+=' echo "root fs: $(stat -f -c %T /)";'
script+=' grep -qx "from the image" /etc/motd 2>/dev/null || echo "host files at /: $(test -x /usr/bin/env && echo yes)";'
script+=' awk -v p="$REAPER_IMAGE_ROOT" "\$5 == p {print \"options: \" \$6}" /proc/self/mountinfo'
image_bundle "$WORK/a" /bin/sh -c "$script"
out=$("$RT" run --bundle "$WORK/a" img-a)
expect_eq "$(sed -n 1p <<<"$out")" "root=$STATE/image/img-a" "REAPER_IMAGE_ROOT"
expect_eq "$(sed -n 2p <<<"$out")" "from the image" "a file of the image, through its busybox"
expect_eq "$(sed -n 3p <<<"$out")" "Read-only file system" "write into the image"
expect_eq "$(sed -n 4p <<<"$out")" "root fs: overlayfs" "the view's root"
expect_eq "$(sed -n 5p <<<"$out")" "host files at /: yes" "the host's files at /"
opts=$(sed -n 6p <<<"$out")
for o in ro nosuid nodev; do
  [[ ",${opts#options: }," == *",$o,"* ]] || fail "image mount options '$opts' lack $o"
done
[ ! -e "$WORK/a/rootfs/new" ] || fail "a write reached the image's directory"
# The run is over: unmounted in the view, and delete (run's) removed the mount point.
expect_eq "$(image_mounts img-a)" "" "image mount after the run"
[ ! -e "$STATE/image/img-a" ] || fail "mount point $STATE/image/img-a left after delete"
expect_eq "$(stat -c %a "$STATE")" 711 "state root mode (searchable by workloads)"

# --- a non-root workload reaches it too
USER_JSON='{"uid": 65534, "gid": 65534}' image_bundle "$WORK/u" /bin/sh -c \
  '"$REAPER_IMAGE_ROOT/bin/busybox" id -u; "$REAPER_IMAGE_ROOT/bin/busybox" cat "$REAPER_IMAGE_ROOT/etc/motd"'
out=$("$RT" run --bundle "$WORK/u" img-u | tr '\n' ' ')
expect_eq "$out" "65534 from the image " "non-root workload"

# --- a running container: exec gets the variable; the mount goes when it ends
image_bundle "$WORK/r" /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/r" img-r
[ -n "$(image_mounts img-r)" ] || fail "no image mount in the view while img-r runs"
# Not in the host's namespace (only the view has it).
! awk -v p="$STATE/image/img-r" '$5 == p' /proc/self/mountinfo | grep -q . ||
  fail "the image mount reached the host's namespace"
out=$("$RT" exec img-r -- /bin/sh -c '"$REAPER_IMAGE_ROOT/bin/busybox" cat "$REAPER_IMAGE_ROOT/etc/motd"')
expect_eq "$out" "from the image" "exec"
"$RT" kill img-r KILL
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$STATE/img-r/state.json")
tail --pid="$mon" -f /dev/null
expect_eq "$(image_mounts img-r)" "" "image mount after the container ended"
"$RT" delete img-r
[ ! -e "$STATE/image/img-r" ] || fail "mount point left after delete"

# --- the spec cannot point the variable elsewhere
ENV_JSON='["PATH=/bin:/usr/bin", "REAPER_IMAGE_ROOT=/somewhere/else"]' image_bundle "$WORK/e" \
  /bin/sh -c 'env | grep "^REAPER_IMAGE_ROOT="'
expect_eq "$("$RT" run --bundle "$WORK/e" img-e)" "REAPER_IMAGE_ROOT=$STATE/image/img-e" "spec's value"

# --- a killed monitor: delete still unmounts it
image_bundle "$WORK/k" /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/k" img-k
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$STATE/img-k/state.json")
kill -KILL "$mon"
tail --pid="$mon" -f /dev/null
[ -n "$(image_mounts img-k)" ] || fail "expected the killed monitor's image mount to remain until delete"
"$RT" delete --force img-k
expect_eq "$(image_mounts img-k)" "" "image mount after deleting a container whose monitor was killed"
[ ! -e "$STATE/image/img-k" ] || fail "mount point left after delete"

# --- no image: an empty rootfs, no root.path
make_bundle "$WORK/n" /bin/sh -c 'echo "[${REAPER_IMAGE_ROOT-unset}]"'
expect_eq "$("$RT" run --bundle "$WORK/n" img-n)" "[unset]" "empty rootfs"
make_bundle "$WORK/m" /bin/sh -c 'echo "[${REAPER_IMAGE_ROOT-unset}]"'
sed -i 's/"path": "rootfs"/"path": "no-such-dir"/' "$WORK/m/config.json"
expect_eq "$("$RT" run --bundle "$WORK/m" img-m)" "[unset]" "root.path naming nothing"
make_bundle "$WORK/o" /bin/sh -c 'echo "[${REAPER_IMAGE_ROOT-unset}]"'
sed -i '/"root": {"path": "rootfs"},/d' "$WORK/o/config.json"
expect_eq "$("$RT" run --bundle "$WORK/o" img-o)" "[unset]" "no root"
for id in img-n img-m img-o; do
  [ ! -e "$STATE/image/$id" ] || fail "mount point for $id, which has no image"
done

# --- root.path that is not a directory: create fails, naming it; nothing stays
make_bundle "$WORK/f" /bin/true
rmdir "$WORK/f/rootfs" && echo file >"$WORK/f/rootfs"
"$RT" create --bundle "$WORK/f" img-f 2>"$WORK/err" && fail "create with a file as root.path succeeded"
grep -q "image: root.path \`$WORK/f/rootfs\` is not a directory" "$WORK/err" ||
  fail "unclear error: $(cat "$WORK/err")"
[ ! -e "$STATE/img-f" ] || fail "state of a failed create left behind"
[ ! -e "$STATE/image/img-f" ] || fail "mount point of a failed create left behind"
pass
