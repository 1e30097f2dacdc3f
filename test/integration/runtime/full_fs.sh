#!/usr/bin/env bash
# The state root on a full filesystem: a small tmpfs this scenario mounts
# (lib.sh's cleanup unmounts it).
#  1. With no space left, then with no inode left either, `create` fails
#     naming what, where and why (No space left on device) and leaves
#     nothing: no container directory, no monitor, no mount, no new group.
#     A create that fails later, once in the overlay view (its cwd lies
#     below a file), leaves no volume mounted in the view either.
#  2. A workload that exits after the filesystem filled up: its exit is
#     still recorded (exit.json's room is reserved at create) and `run`
#     exits with its status.
#  3. An exit that cannot be written at all (the filesystem remounted
#     read-only while the workload runs, as ext4's errors=remount-ro does):
#     `run` and a foreground `exec` still exit with the workload's status,
#     carried by the exit status of its monitor, their child.
source "$(dirname "$0")/../lib.sh"

FS="$WORK/small"
mkdir -p "$FS"
mount -t tmpfs -o size=2m,nr_inodes=1024,mode=0700 reaper-full-fs "$FS"
ROOT="$FS/root"
export REAPER_RUNTIME_ROOT="$ROOT"
room_again() {
  mount -o remount,rw "$FS" 2>/dev/null || true
  rm -rf "$FS/fill"
}
# (set +e: under errexit, `(exit $rc)` would end the trap before cleanup.)
trap 'rc=$?; set +e; room_again; (exit $rc); cleanup' EXIT

null_stdio=(--stdin "" --stdout "" --stderr "")
fill_space() {
  mkdir -p "$FS/fill"
  dd if=/dev/zero of="$FS/fill/space" bs=64k 2>/dev/null && fail "a 2 MB tmpfs took everything dd wrote"
  return 0
}
fill_inodes() {
  mkdir -p "$FS/fill" || return 0  # no inode left for it: full already
  local i=0
  while { : >"$FS/fill/i$i"; } 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 5000 ] || fail "inodes never ran out"
  done
}
# What a failed create must not change: the containers in the state root,
# the mounts below the scenario's directories, the monitors of this root,
# the overlay groups.
snapshot() {
  ls -A "$ROOT" | grep -v -e '^overlay$' -e '^ns$' -e '^fill$' || true
  ls -A "$ROOT/overlay" "$ROOT/ns" 2>/dev/null || true
  grep -E " ($STATE|$WORK)[/ ]" /proc/self/mountinfo | awk '{print $5}' | sort
  ps -eo args= | awk -v r="$ROOT" '$1 == "reaper-monitor" && $3 == r' || true
}
# refuse_create NAME EXPECTED BUNDLE ID: fails with EXPECTED and ENOSPC's
# message, and changes nothing.
refuse_create() {
  local name=$1 msg=$2 bundle=$3 id=$4 rc=0
  snapshot >"$WORK/before"
  timeout 30 "$RT" create --bundle "$bundle" "${null_stdio[@]}" "$id" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || fail "$name: hung"
  [ "$rc" -ne 0 ] || fail "$name: create succeeded on a full filesystem"
  grep -qF -- "$msg" "$WORK/out" || fail "$name: expected '$msg', got: $(cat "$WORK/out")"
  grep -qF "No space left on device" "$WORK/out" || fail "$name: no ENOSPC in: $(cat "$WORK/out")"
  snapshot >"$WORK/after"
  diff "$WORK/before" "$WORK/after" >"$WORK/diff" || fail "$name: left behind: $(cat "$WORK/diff")"
  [ ! -e "$ROOT/$id" ] || fail "$name: $ROOT/$id left behind"
}

# The group and the node setup exist (as they would on a busy node).
make_bundle "$WORK/true" /bin/true
"$RT" run --bundle "$WORK/true" "${null_stdio[@]}" warm || fail "run on an empty filesystem"
# A bundle of another overlay group: a failed create must not make one.
NS=it-full-fs-new make_bundle "$WORK/newgroup" /bin/true

# --- 1. create on a full filesystem -------------------------------------------------
fill_space
refuse_create "no space" "create \`c1\`: reserve room for the exit record: \`$ROOT/c1/.exit.json.slot\`" \
  "$WORK/true" c1
refuse_create "no space, new group" "reserve room for the exit record" "$WORK/newgroup" c2
refuse_create "no space, run" "reserve room for the exit record" "$WORK/true" c3
fill_inodes
refuse_create "no inode" "create \`$ROOT/c4\`" "$WORK/true" c4
rc=0
"$RT" run --bundle "$WORK/true" "${null_stdio[@]}" c5 >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -qF "No space left on device" "$WORK/out" || fail "run on a full filesystem: $rc $(cat "$WORK/out")"
[ ! -e "$ROOT/c5" ] || fail "run left $ROOT/c5"
room_again
"$RT" run --bundle "$WORK/true" "${null_stdio[@]}" c6 || fail "run once there is room again"

# Failing after the view was entered and the pod's volume mounted there.
mkdir -p "$WORK/volsrc"
CWD=/etc/passwd/not-a-dir EXTRA_CONFIG=', "mounts": [{"destination": "/mnt/reaper-full-fs-vol", "type": "bind", "source": "'"$WORK/volsrc"'", "options": ["rbind"]}]' \
  make_bundle "$WORK/badcwd" /bin/true
in_view() { nsenter --mount="$ROOT/ns/$NS" grep -q reaper-full-fs-vol /proc/self/mountinfo; }
[ -e "$ROOT/ns/$NS" ] || fail "no persisted namespace at $ROOT/ns/$NS"
# The check sees a volume where there is one: a container created (not
# started) with the same volume and a cwd that exists.
CWD=/ EXTRA_CONFIG=', "mounts": [{"destination": "/mnt/reaper-full-fs-vol", "type": "bind", "source": "'"$WORK/volsrc"'", "options": ["rbind"]}]' \
  make_bundle "$WORK/goodcwd" /bin/true
"$RT" create --bundle "$WORK/goodcwd" "${null_stdio[@]}" c8
in_view || fail "the volume of a created container is not seen in the view"
"$RT" delete c8
in_view && fail "the volume of a deleted container is still in the view"
rc=0
"$RT" create --bundle "$WORK/badcwd" "${null_stdio[@]}" c7 >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] && grep -qF "chdir to \`/etc/passwd/not-a-dir\`" "$WORK/out" || fail "create with an unusable cwd: $rc $(cat "$WORK/out")"
[ ! -e "$ROOT/c7" ] || fail "a failed create left $ROOT/c7"
in_view && fail "a failed create left its volume mounted in the group's view"

# --- 2. the filesystem fills up while the workload runs ---------------------------------
mkfifo "$STATE/up" "$STATE/go"
# The FIFOs are on the host's /run, which the view shares (a FIFO seen
# through the overlay would be another pipe).
make_bundle "$WORK/seven" /bin/sh -c "echo up >$STATE/up; read x <$STATE/go; exit 7"
run_until_up() {  # run_until_up ID [OTHER RUN FLAGS]: sets RUNNER
  local id=$1; shift
  "$RT" run --keep --bundle "$WORK/seven" "${null_stdio[@]}" "$@" "$id" &
  RUNNER=$!
  read -r _ <"$STATE/up"
}
run_until_up f7
fill_space
fill_inodes
echo go >"$STATE/go"
rc=0; wait "$RUNNER" || rc=$?
expect_eq "$rc" 7 "run's exit code, the filesystem full since the workload started"
grep -q '"status":7' "$ROOT/f7/exit.json" || fail "exit.json on the full filesystem: $(cat "$ROOT/f7/exit.json" 2>&1)"
expect_eq "$(state_field f7 status)" stopped "f7 after its exit"
"$RT" delete f7 || fail "delete on a full filesystem"
[ ! -e "$ROOT/f7" ] || fail "f7 not deleted"
room_again

# --- 3. the exit cannot be written: a read-only filesystem -----------------------------
run_until_up r7
mount -o remount,ro "$FS" || fail "remount read-only (a file open for writing?)"
echo go >"$STATE/go"
rc=0; wait "$RUNNER" || rc=$?
expect_eq "$rc" 7 "run's exit code, exit.json impossible to write"
[ ! -e "$ROOT/r7/exit.json" ] || fail "exit.json written on a read-only filesystem?"
room_again
"$RT" delete --force r7

# An exec in the foreground, its container created before.
make_bundle "$WORK/sleep" /bin/sleep 1000
"$RT" create --bundle "$WORK/sleep" "${null_stdio[@]}" ex
"$RT" start ex
"$RT" exec ex -- /bin/sh -c "echo up >$STATE/up; read x <$STATE/go; exit 5" </dev/null >/dev/null 2>&1 &
RUNNER=$!
read -r _ <"$STATE/up"
mount -o remount,ro "$FS" || fail "remount read-only (a file open for writing?)"
echo go >"$STATE/go"
rc=0; wait "$RUNNER" || rc=$?
expect_eq "$rc" 5 "exec's exit code, exit.json impossible to write"
room_again
expect_eq "$(state_field ex status)" running "the container after its exec"
"$RT" delete --force ex
pass
