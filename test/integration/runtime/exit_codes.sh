#!/usr/bin/env bash
# run returns the workload's exit code; a signal is 128+N; exit time recorded.
source "$(dirname "$0")/../lib.sh"
make_bundle "$WORK/b42" /bin/sh -c 'exit 42'
rc=0; "$RT" run --bundle "$WORK/b42" e42 || rc=$?
expect_eq "$rc" 42 "run exit code"
[ ! -e "$REAPER_RUNTIME_ROOT/e42" ] || fail "run left its state dir"

make_bundle "$WORK/bk" /bin/sh -c 'kill -9 $$'
rc=0; "$RT" run --bundle "$WORK/bk" ek || rc=$?
expect_eq "$rc" 137 "signal exit code"

make_bundle "$WORK/bs" /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/bs" es
expect_eq "$(state_field es status)" running "detached status"
"$RT" kill es KILL
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/es/state.json")
tail --pid="$mon" -f /dev/null
expect_eq "$(state_field es status)" stopped "status after kill"
expect_eq "$(state_field es exitStatus)" 137 "killed exit status"
at=$(state_field es exitedAt)
[[ "$at" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+\.[0-9]{9}Z$ ]] || fail "exitedAt '$at'"
"$RT" kill es TERM 2>"$WORK/err" && fail "kill of a finished container succeeded"
grep -q "already finished" "$WORK/err" || fail "unclear kill error: $(cat "$WORK/err")"
"$RT" delete es
pass
