#!/usr/bin/env bash
# `run` without --keep: the monitor deletes the container itself once all
# has ended (image mount point and state included) and `run` exits with the
# workload's status; with exec processes still holding state there, it is
# left to the CLI's delete, which stops and waits for them first. --keep
# keeps the stopped container.
source "$(dirname "$0")/../lib.sh"
mkdir -p "$WORK/img/rootfs/bin"
cp /bin/true "$WORK/img/rootfs/bin/"  # a non-empty rootfs: the image is mounted
make_bundle "$WORK/img" /bin/sh -c 'test -d "$REAPER_IMAGE_ROOT/bin" || exit 9; exit 3'
rc=0; "$RT" run --bundle "$WORK/img" r1 || rc=$?
expect_eq "$rc" 3 "run exit status"
[ ! -e "$REAPER_RUNTIME_ROOT/r1" ] || fail "state of r1 left: $(ls "$REAPER_RUNTIME_ROOT/r1")"
[ ! -e "$REAPER_RUNTIME_ROOT/image/r1" ] || fail "image mount point of r1 left"

rc=0; "$RT" run --keep --bundle "$WORK/img" r2 || rc=$?
expect_eq "$rc" 3 "run --keep exit status"
expect_eq "$(state_field r2 status)" stopped "status after run --keep"
expect_eq "$(state_field r2 exitStatus)" 3 "exit status kept"
"$RT" delete r2

# An exec process outlives nothing: killed with the init process, its
# monitor waited for by run's delete, all state gone.
make_bundle "$WORK/s" /bin/sh -c 'echo up; exec sleep 1000'
# The workload's stdout is this pipe: its first line says it runs, the
# last one is run's exit status.
exec 3< <(rc=0; "$RT" run --bundle "$WORK/s" r3 || rc=$?; echo "rc=$rc")
read -r up <&3
expect_eq "$up" up "workload started"
"$RT" exec --detach --exec-id bg r3 -- /bin/sleep 1000
exec_mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/r3/exec/bg/state.json")
"$RT" kill r3 KILL
read -r rc <&3 || fail "no exit status from run"
expect_eq "$rc" rc=137 "run exit status after SIGKILL"
[ ! -e "$REAPER_RUNTIME_ROOT/r3" ] || fail "state of r3 left"
# Gone, or a zombie waiting for whoever adopted it (exec --detach exited).
if grep -q '^State:' /proc/"$exec_mon"/status 2>/dev/null; then
  grep -q '^State:.*Z' /proc/"$exec_mon"/status || fail "exec monitor $exec_mon still running"
fi

# The monitor killed: its report pipe closes without the last line, and run
# still returns (the exit as the records have it: the monitor was lost),
# leaving nothing behind.
make_bundle "$WORK/k" /bin/sh -c 'echo up; exec sleep 1000'
exec 4< <(rc=0; "$RT" run --bundle "$WORK/k" r4 2>/dev/null || rc=$?; echo "rc=$rc")
read -r up <&4
expect_eq "$up" up "workload r4 started"
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/r4/state.json")
kill -KILL "$mon"
read -r rc <&4 || fail "no exit status from run after its monitor was killed"
[ "$rc" != rc=0 ] || fail "run succeeded although its monitor was killed"
[ ! -e "$REAPER_RUNTIME_ROOT/r4" ] || fail "state of r4 left"
pass
