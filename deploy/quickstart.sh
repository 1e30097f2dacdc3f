#!/usr/bin/env bash
# Quick start on one node (Debian 12, as root): installs build dependencies,
# builds reaper (static), and runs a sample host workload through
# reaper-runtime in a private state root, showing that
#   - the workload runs as a host process and sees the host's files,
#   - its writes (to /etc, /tmp) land in the overlay, not on the host,
#   - /etc/shadow is masked, runAsUser works, exit codes are reported;
# then removes everything it created.
#
# (The containerd-driven quick start follows when the shim lands; this one
# uses the runtime CLI, which calls the same core in-process.)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root" >&2; exit 2; }

echo "==> installing build dependencies"
packaging/deps.sh
subprojects/fetch-sources.sh simdjson
echo "==> building"
[ -f build-quickstart/build.ninja ] || meson setup build-quickstart -Dstatic=true --buildtype=release >/dev/null
ninja -C build-quickstart >/dev/null
bin=$top/build-quickstart/src
"$bin/reaper" --version

work=$(mktemp -d /tmp/reaper-quickstart.XXXXXX)
state=$(mktemp -d /run/reaper-quickstart.XXXXXX)
export REAPER_RUNTIME_ROOT=$state REAPER_CONFIG=$work/reaper.conf
: >"$REAPER_CONFIG"
cleanup() {
  "$bin/reaper-runtime" delete --force demo >/dev/null 2>&1 || true
  "$bin/reaper-runtime" overlay gc >/dev/null 2>&1 || true
  grep " $state" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work" "$state"
}
trap cleanup EXIT

mkdir -p "$work/bundle"
cat >"$work/bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/sh", "-c", "echo \"hello from $(hostname) as uid $(id -u), pid $$\"; echo demo >/etc/reaper-quickstart; cat /etc/reaper-quickstart; head -c 60 /etc/shadow; echo; exit 42"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
    "cwd": "/"
  },
  "root": {"path": "rootfs"},
  "annotations": {"io.kubernetes.cri.sandbox-namespace": "quickstart"}
}
JSON
echo "==> running the sample workload"
rc=0
"$bin/reaper-runtime" run --bundle "$work/bundle" demo || rc=$?
echo "==> workload exit code: $rc (expected 42)"
if [ -e /etc/reaper-quickstart ]; then
  echo "quickstart: the workload's write reached the host!" >&2; exit 1
fi
echo "==> /etc/reaper-quickstart does not exist on the host: the write stayed in the overlay"
"$bin/reaper-runtime" overlay list
[ "$rc" = 42 ]
echo "==> done; cleaning up"
