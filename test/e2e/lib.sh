# Shared helpers for the end-to-end scenarios: each starts its own private
# containerd (Debian's package) on a socket, root and state dir under a temp
# dir, with reaper's shim found through PATH, and stops it by PID at exit.
# Never touches /etc/containerd, a system containerd or foreign processes.
#
# Exit codes: 0 pass, 1 fail, 77 skip (not root, no containerd).
set -euo pipefail

: "${REAPER_BIN:?REAPER_BIN must name the directory of the built reaper binary}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v containerd >/dev/null && command -v ctr >/dev/null ||
  { echo "SKIP: containerd/ctr not installed"; exit 77; }

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E=$(mktemp -d "/run/reaper-e2e-$TEST_NAME.XXXXXX")
CTRD_SOCK="$E2E/containerd.sock"
CTRD_PID=""
NS=e2e
RUNTIME=io.containerd.reaper.v2
# The shim's own state and node config (the shim inherits containerd's env).
export REAPER_RUNTIME_ROOT="$E2E/reaper"
export REAPER_CONFIG="$E2E/reaper.conf"
: >"$REAPER_CONFIG"
export PATH="$REAPER_BIN:$PATH"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $TEST_NAME"; exit 0; }
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected \`$2\`, got \`$3\`"; }
# expect_in WHAT NEEDLE HAYSTACK
expect_in() { case "$3" in *"$2"*) ;; *) fail "$1: \`$2\` not in \`$3\`" ;; esac; }

# crun [CTR-RUN-FLAGS...] ID ARGS...: `ctr run` of a host command through
# reaper (an empty rootfs: reaper runs host binaries). Flags taking a value
# must be written --flag=value.
crun() {
  local flags=()
  while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do flags+=("$1"); shift; done
  c run --runtime "$RUNTIME" ${flags[@]+"${flags[@]}"} --rootfs "$E2E/rootfs" "$@"
}

# wait_gone PID [SECONDS]: waits (pidfd) for a process that is not our child.
wait_gone() { python3 "$E2E_DIR/wait-pid.py" "$1" "${2:-10}"; }
# The bundle dir containerd made for a task.
bundle_of() { echo "$E2E/state/io.containerd.runtime.v2.task/$NS/$1"; }

# The exit code of a command, without tripping `set -e`.
rc_of() { local rc=0; "$@" || rc=$?; echo "$rc"; }

# Subscribes `ctr events` to a FIFO and returns once it is known to be
# subscribed (a marker namespace's event came through). Sets EVENTS_FD.
EVENTS_PID=""
events_start() {
  mkfifo "$E2E/events.fifo"
  exec {EVENTS_FD}<>"$E2E/events.fifo"
  ctr --address "$CTRD_SOCK" events >"$E2E/events.fifo" 2>/dev/null &
  EVENTS_PID=$!
  local marker="marker-$RANDOM" line
  # The namespace is created (and its event sent) only once: repeat it
  # under new names until one is seen, since the subscription may lag.
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    ctr --address "$CTRD_SOCK" namespaces create "$marker-$i" >/dev/null
    while read -r -t 1 -u "$EVENTS_FD" line; do
      case "$line" in *"$marker-"*) return 0 ;; esac
    done
  done
  fail "ctr events did not subscribe"
}
# events_until PATTERN: prints the event lines up to the first matching one.
events_until() {
  local line
  while read -r -t 30 -u "$EVENTS_FD" line; do
    echo "$line"
    case "$line" in *$1*) return 0 ;; esac
  done
  fail "no event matching $1 within 30 s"
}
events_stop() { [ -z "$EVENTS_PID" ] || { kill "$EVENTS_PID" 2>/dev/null; wait "$EVENTS_PID" 2>/dev/null; EVENTS_PID=""; }; }

# ctr against the private containerd, in the test namespace.
c() { ctr --address "$CTRD_SOCK" --namespace "$NS" "$@"; }

# Writes the config and starts containerd; returns once its socket answers.
# Extra TOML lines for the config may be passed in CTRD_EXTRA_CONFIG; a
# command in CTRD_CONFIG_HOOK runs with the config's path once it is written,
# before containerd reads it (the packaging tests run install.sh on it).
# CTRD_LOG_LEVEL sets containerd's log level (default debug; the benchmarks
# use info, containerd's own default). CTRD_WRAPPER, a command prefix, runs
# containerd under another program (the benchmarks' CPU meter); CTRD_PID is
# then that program's pid, which must pass SIGTERM on.
start_containerd() {
  mkdir -p "$E2E/root" "$E2E/state" "$E2E/rootfs"
  cat >"$E2E/config.toml" <<TOML
version = 2
root = "$E2E/root"
state = "$E2E/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$E2E/debug.sock"
${CTRD_EXTRA_CONFIG:-}
TOML
  if [ -n "${CTRD_CONFIG_HOOK:-}" ]; then
    "$CTRD_CONFIG_HOOK" "$E2E/config.toml" || fail "CTRD_CONFIG_HOOK $CTRD_CONFIG_HOOK failed"
  fi
  # containerd sends sd_notify READY=1 once it serves: wait for that
  # datagram (a blocking read with a timeout), not for the socket file.
  local notify="$E2E/notify.sock" line waiter
  exec {waiter}< <(python3 "$E2E_DIR/sd-notify-wait.py" "$notify")
  read -r -t 10 -u "$waiter" line && [ "$line" = bound ] || fail "readiness listener did not start"
  # shellcheck disable=SC2086  # CTRD_WRAPPER is a command prefix: split it
  NOTIFY_SOCKET="$notify" ${CTRD_WRAPPER:-} containerd --config "$E2E/config.toml" --log-level "${CTRD_LOG_LEVEL:-debug}" \
    >>"$E2E/containerd.log" 2>&1 &
  CTRD_PID=$!
  if ! read -r -t 30 -u "$waiter" line || [ "$line" != ready ]; then
    exec {waiter}<&-
    cat "$E2E/containerd.log" >&2
    fail "containerd did not become ready within 30 s"
  fi
  exec {waiter}<&-
}

stop_containerd() {
  [ -n "$CTRD_PID" ] || return 0
  kill -TERM "$CTRD_PID" 2>/dev/null || true
  wait "$CTRD_PID" 2>/dev/null || true
  CTRD_PID=""
}

e2e_cleanup() {
  local rc=$?
  set +e +o pipefail
  events_stop
  if [ -n "$CTRD_PID" ]; then
    for t in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$t" >/dev/null 2>&1; c task delete -f "$t" >/dev/null 2>&1; done
    for t in $(c containers ls -q 2>/dev/null); do c containers delete "$t" >/dev/null 2>&1; done
  fi
  stop_containerd
  # Shims we started (children of our containerd, reparented now) are found
  # by the shim.pid files containerd wrote under $E2E, and what they left
  # running by reaper's own state under $E2E: nothing else is touched.
  local pidfile pid d
  for pidfile in $(find "$E2E/state" -name shim.pid 2>/dev/null); do
    pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  done
  for d in "$REAPER_RUNTIME_ROOT"/*/; do
    [ -f "$d/state.json" ] || continue
    "$REAPER_BIN/reaper-runtime" delete --force "$(basename "$d")" >/dev/null 2>&1
  done
  "$REAPER_BIN/reaper-runtime" overlay gc >/dev/null 2>&1
  if [ $rc -ne 0 ]; then
    echo "--- containerd log (tail) ---" >&2
    tail -n 60 "$E2E/containerd.log" >&2
  fi
  grep " $E2E" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null
  done
  [ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$E2E"
  exit $rc
}
trap e2e_cleanup EXIT
