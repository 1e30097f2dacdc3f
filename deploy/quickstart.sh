#!/usr/bin/env bash
# Quick start on one node (Debian 12, as root): installs build dependencies,
# builds reaper (static), starts a private containerd (Debian's package) on a
# socket under a temp dir with reaper configured as io.containerd.reaper.v2,
# and runs sample host workloads through it with ctr, showing that
#   - the workload runs as a host process and sees the host's files,
#   - its writes (to /etc, /tmp) land in the overlay, not on the host,
#   - /etc/shadow is masked, exec --user works, exit codes are reported;
# then stops that containerd and removes everything it created. The system's
# containerd and /etc/containerd are never touched.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root" >&2; exit 2; }

echo "==> installing build dependencies"
packaging/deps.sh
subprojects/fetch-sources.sh simdjson
echo "==> building"
[ -f build-quickstart/build.ninja ] || meson setup build-quickstart -Dstatic=true --buildtype=release >/dev/null
# Only the executable and its names: the tests are test/run-all.sh's job.
ninja -C build-quickstart src/reaper src/containerd-shim-reaper-v2 src/reaper-runtime src/reaper-monitor >/dev/null
bin=$top/build-quickstart/src
"$bin/reaper" --version

work=$(mktemp -d /run/reaper-quickstart.XXXXXX)
export REAPER_RUNTIME_ROOT=$work/reaper REAPER_CONFIG=$work/reaper.conf
: >"$REAPER_CONFIG"
sock=$work/containerd.sock
ctrd_pid=""
ctr_() { ctr --address "$sock" --namespace quickstart "$@"; }
cleanup() {
  set +e
  if [ -n "$ctrd_pid" ]; then
    for t in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -s KILL "$t"; ctr_ task delete -f "$t"; done >/dev/null 2>&1
    for t in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers delete "$t"; done >/dev/null 2>&1
    kill "$ctrd_pid" && wait "$ctrd_pid"
  fi
  "$bin/reaper-runtime" overlay gc >/dev/null 2>&1
  grep " $work" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> starting a private containerd in $work"
mkdir -p "$work/rootfs"
cat >"$work/config.toml" <<TOML
version = 2
root = "$work/root"
state = "$work/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
TOML
# containerd finds containerd-shim-reaper-v2 on its PATH and passes its
# environment (REAPER_*) to the shim. It tells systemd-style when it is
# ready: wait for that datagram rather than for the socket file.
exec {ready}< <(python3 "$top/test/e2e/sd-notify-wait.py" "$work/notify.sock")
read -r -u "$ready" line  # "bound"
PATH="$bin:$PATH" NOTIFY_SOCKET="$work/notify.sock" \
  containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
ctrd_pid=$!
read -r -t 30 -u "$ready" line && [ "$line" = ready ] || {
  cat "$work/containerd.log" >&2; echo "quickstart: containerd did not start" >&2; exit 1; }
exec {ready}<&-

# `--rootfs` takes the next argument as the directory: it goes right before
# the id. Any directory will do: reaper runs host binaries.
run=(run --runtime io.containerd.reaper.v2 --annotation io.kubernetes.cri.sandbox-namespace=quickstart)
echo "==> ctr run: a host command through reaper"
rc=0
ctr_ "${run[@]}" --rm --rootfs "$work/rootfs" demo /bin/sh -c \
  'echo "hello from $(hostname) as uid $(id -u), pid $$"; echo demo >/etc/reaper-quickstart; cat /etc/reaper-quickstart; head -c 60 /etc/shadow; echo; exit 42' || rc=$?
echo "==> workload exit code: $rc (expected 42)"
if [ -e /etc/reaper-quickstart ]; then
  echo "quickstart: the workload's write reached the host!" >&2; exit 1
fi
echo "==> /etc/reaper-quickstart does not exist on the host: the write stayed in the overlay"

echo "==> a long-running task, exec into it as another user, list its processes"
ctr_ "${run[@]}" -d --rootfs "$work/rootfs" daemon /bin/sleep 600 >/dev/null
ctr_ task ls
ctr_ task exec --exec-id who --user 65534 daemon /bin/sh -c 'echo "exec as $(id -u); sees the overlay: $(cat /etc/reaper-quickstart)"'
ctr_ task ps daemon
ctr_ task kill -s KILL daemon
ctr_ task delete daemon >/dev/null 2>&1 || true  # a killed task's delete reports its status
ctr_ containers delete daemon
"$bin/reaper-runtime" overlay list
[ "$rc" = 42 ]
echo "==> done; stopping containerd and cleaning up"
