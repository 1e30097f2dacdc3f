#!/usr/bin/env bash
# create -> state(created) -> start -> stopped with exit 0 -> delete; pid file;
# output of a shell script reaches the caller's stdout.
source "$(dirname "$0")/../lib.sh"
B=$WORK/b; make_bundle "$B" /bin/sh -c 'echo hello from reaper; echo line2'
"$RT" create --bundle "$B" --pid-file "$WORK/pid" c1 >"$WORK/out" 2>&1
expect_eq "$(state_field c1 status)" created "status after create"
pid=$(cat "$WORK/pid")
expect_eq "$(state_field c1 pid)" "$pid" "pid in state"
[ -d /proc/"$pid" ] || fail "workload pid $pid not alive while created"
"$RT" start c1
# Wait for the exit through the monitor, not by sleeping: `run` covers the
# foreground path; here the state must turn to stopped once the monitor ends.
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/c1/state.json")
while [ -d /proc/"$mon" ] && ! grep -q '^State:.*Z' /proc/"$mon"/status 2>/dev/null; do
  # The monitor exits within microseconds of the workload; block on its pidfd
  # through `tail --pid`, which waits with pidfd/poll rather than sleeping.
  tail --pid="$mon" -f /dev/null
done
expect_eq "$(state_field c1 status)" stopped "status after exit"
expect_eq "$(state_field c1 exitStatus)" 0 "exit status"
grep -q "hello from reaper" "$WORK/out" || fail "output missing: $(cat "$WORK/out")"
grep -q "line2" "$WORK/out" || fail "second line missing"
"$RT" state c1 | grep -q '"test.reaper/name": "lifecycle"' || fail "annotations not stored"
"$RT" delete c1
[ ! -e "$REAPER_RUNTIME_ROOT/c1" ] || fail "state dir left after delete"
"$RT" state c1 2>"$WORK/err" && fail "state of deleted container succeeded"
grep -q "does not exist" "$WORK/err" || fail "unclear error: $(cat "$WORK/err")"
pass
