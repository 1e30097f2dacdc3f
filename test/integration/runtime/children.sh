#!/usr/bin/env bash
# Background children (even ones that left the session) are gone once the
# main process exits; 20 parallel creates all work; SIGTERM reaches a trap.
source "$(dirname "$0")/../lib.sh"
make_bundle "$WORK/b" /bin/sh -c 'sleep 1000 & setsid sleep 1001 & echo $!; exit 3'
rc=0; "$RT" run --bundle "$WORK/b" bg >"$WORK/child" || rc=$?
expect_eq "$rc" 3 "exit code"
child=$(cat "$WORK/child")
[ ! -d /proc/"$child" ] || fail "setsid child $child survived"

# The workload says "ready" on its stdout, a FIFO we read: the read blocks
# until the trap is installed, no sleeping.
mkfifo "$WORK/ready"
make_bundle "$WORK/t" /bin/sh -c 'trap "exit 0" TERM; echo ready; sleep 1000 & wait $!'
"$RT" run --detach --bundle "$WORK/t" trap >"$WORK/ready" &
read -r line <"$WORK/ready"
expect_eq "$line" ready "trap workload ready"
wait
"$RT" kill trap TERM
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/trap/state.json")
tail --pid="$mon" -f /dev/null
expect_eq "$(state_field trap exitStatus)" 0 "trap exit status"
"$RT" delete trap

make_bundle "$WORK/p" /bin/sleep 1000
for i in $(seq 1 20); do "$RT" create --bundle "$WORK/p" "par$i" & done
wait
n=$("$RT" list -q | grep -c '^par')
expect_eq "$n" 20 "parallel creates"
for i in $(seq 1 20); do "$RT" delete --force "par$i" & done
wait
expect_eq "$("$RT" list -q | grep -c '^par' || true)" 0 "parallel deletes"
pass
