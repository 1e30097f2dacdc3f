# Shared helpers for the integration scenarios. Each scenario is one bash
# file that sources this, drives the real binary ($REAPER, via its
# personality symlinks in $REAPER_BIN) and exits 0 (pass), 1 (fail) or
# 77 (skip, e.g. not root).
set -euo pipefail

: "${REAPER_BIN:?REAPER_BIN must name the directory of the built reaper binary}"
RT="$REAPER_BIN/reaper-runtime"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/reaper-it-$TEST_NAME.XXXXXX")
# The state root lives on /run (tmpfs) like the real one: overlay upper and
# work dirs go below it.
STATE=$(mktemp -d "/run/reaper-it-$TEST_NAME.XXXXXX")
export REAPER_RUNTIME_ROOT="$STATE"
export REAPER_CONFIG="$WORK/reaper.conf"
: >"$REAPER_CONFIG"
# Each scenario gets its own overlay group (its own namespace name), so
# scenarios never see each other's files.
NS="it-$TEST_NAME"
NS=${NS//_/-}

cleanup() {
  local rc=$?
  set +e +o pipefail  # best effort from here: nothing in cleanup may change the verdict
  # Stop whatever the scenario left running, then drop the state and mounts.
  if [ -d "$REAPER_RUNTIME_ROOT" ]; then
    for d in "$REAPER_RUNTIME_ROOT"/*/; do
      [ -f "$d/state.json" ] || continue
      "$RT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
    done
    "$RT" overlay gc >/dev/null 2>&1 || true
  fi
  local dir
  for dir in "$STATE" "$WORK"; do
    grep " $dir" /proc/self/mountinfo 2>/dev/null | awk '{print $5}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  done
  # A scenario's own cleanup (after its containers are gone), e.g. cgroup parents.
  if [ -n "${EXTRA_CLEANUP:-}" ]; then "$EXTRA_CLEANUP"; fi
  rm -rf "$WORK" "$STATE"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $TEST_NAME"; exit 0; }

# make_bundle DIR ARG... : a bundle whose process runs ARGs as root in /.
# Optional variables: CWD, USER_JSON, ENV_JSON, TERMINAL, EXTRA_PROCESS,
# EXTRA_CONFIG (raw JSON members appended to process / the top level).
make_bundle() {
  local dir=$1; shift
  mkdir -p "$dir/rootfs"
  local args="" a
  for a in "$@"; do
    a=${a//\\/\\\\}; a=${a//\"/\\\"}
    args+="${args:+, }\"$a\""
  done
  local user='{"uid": 0, "gid": 0}'
  local env='["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]'
  user=${USER_JSON:-$user}
  env=${ENV_JSON:-$env}
  cat >"$dir/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": ${TERMINAL:-false},
    "user": $user,
    "args": [$args],
    "env": $env,
    "cwd": "${CWD:-/}"${EXTRA_PROCESS:-}
  },
  "root": {"path": "rootfs"},
  "annotations": {"io.kubernetes.cri.sandbox-namespace": "$NS", "test.reaper/name": "$TEST_NAME"}${EXTRA_CONFIG:-}
}
JSON
}

# state_field ID FIELD: one top-level field of `state` output.
state_field() {
  "$RT" state "$1" | sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p"
}

expect_eq() {
  [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}
