#!/usr/bin/env bash
# Mount propagation of volumes (Kubernetes' mountPropagation, as CRI's
# options): the source is a shared mount, as every mount of a systemd host
# is. `rprivate` (None, the default): mounts made under the volume in the
# view do not reach the host, and host mounts made after the container was
# created are not seen in it. `rslave` (HostToContainer): host mounts are
# seen, the view's are not sent back. `rshared` (Bidirectional): both ways.
source "$(dirname "$0")/../lib.sh"
tag=reaper-it-prop-$$
src="$WORK/src"
mkdir -p "$src"
mount -t tmpfs reaper-it-prop "$src"
mount --make-shared "$src"

# case NAME OPTIONS...: one container whose volume /mnt/$tag comes from
# $src with the given options. The workload mounts a tmpfs under the
# volume, then waits on a FIFO while the host mounts one under the source,
# then reports whether it sees the host's.
run_case() {
  local name=$1 inview; shift
  local opts='"rbind"' o
  for o in "$@"; do opts+=", \"$o\""; done
  mkdir -p "$src/$name/inview" "$src/$name/fromhost"
  mkfifo "$src/$name/ready" "$src/$name/go"
  local v=/mnt/$tag script
  script="mount -t tmpfs view-$name $v/inview || exit 3; echo ready >$v/ready; read -r _ <$v/go;"
  script+=" if mountpoint -q $v/fromhost; then echo seen; else echo unseen; fi"
  EXTRA_CONFIG=', "mounts": [{"destination": "/mnt/'"$tag"'", "type": "bind", "source": "'"$src/$name"'", "options": ['"$opts"']}]' \
    make_bundle "$WORK/$name" /bin/sh -c "$script"
  "$RT" run --bundle "$WORK/$name" "p-$name" >"$WORK/$name.out" 2>&1 &
  local runner=$!
  # The workload runs (its volume is attached) and has mounted its tmpfs
  # once it says ready; only then does the host mount.
  # (A workload that fails before writing would leave this read waiting
  # forever: -t bounds it, only as a failure path.)
  read -r -t 60 _ <>"$src/$name/ready" || fail "$name: the workload never got ready: $(cat "$WORK/$name.out")"
  # While it runs (when it ends, its volume's unmount takes what propagated).
  if mountpoint -q "$src/$name/inview"; then inview=reached; else inview=stayed; fi
  mount -t tmpfs "host-$name" "$src/$name/fromhost"
  echo go >"$src/$name/go"
  wait "$runner" || fail "$name: run failed: $(cat "$WORK/$name.out")"
  echo "$(cat "$WORK/$name.out") $inview"
}

expect_eq "$(run_case default)" "unseen stayed" "no option (rprivate)"
expect_eq "$(run_case private rprivate)" "unseen stayed" "rprivate"
expect_eq "$(run_case slave rslave)" "seen stayed" "rslave"
expect_eq "$(run_case shared rshared)" "seen reached" "rshared"
pass
