#!/usr/bin/env bash
# ctr run through reaper: output, exit codes (0, 42, 137 on kill), a
# detached task in `ctr task ls`, and exactly one /tasks/exit per process.
source "$(dirname "$0")/lib.sh"
# Every shim also logs to the node's REAPER_SHIM_LOG (read from the config).
echo "REAPER_SHIM_LOG=$E2E/shims.log" >>"$REAPER_CONFIG"
start_containerd

out=$(crun --rm t-out /bin/sh -c 'echo "hello from $(id -u)"')
expect_eq "output" "hello from 0" "$out"
expect_eq "exit 0" 0 "$(rc_of crun --rm t-zero /bin/true)"
expect_eq "exit 42" 42 "$(rc_of crun --rm t-42 /bin/sh -c 'exit 42')"
# A binary that cannot be executed: Start fails with exec's error (as with
# runc, ctr then exits 1).
err=$(crun --rm t-enoent /nonexistent/binary 2>&1) && fail "start of a missing binary succeeded"
expect_in "start error" "exec \`/nonexistent/binary\`: No such file or directory" "$err"

events_start
# Detached: listed as RUNNING with its pid, which is a host process.
crun -d t-bg /bin/sleep 1000 >/dev/null
ls_line=$(c task ls | awk '$1 == "t-bg"')
expect_in "task ls" RUNNING "$ls_line"
pid=$(awk '{print $2}' <<<"$ls_line")
[ "$(readlink /proc/"$pid"/exe)" = /usr/bin/sleep ] || fail "pid $pid is not the workload"
# Killed: one /tasks/exit with 137; STOPPED until deleted; the process is gone.
c task kill -s KILL t-bg
# (Up to t-bg's: t-enoent's exit may still be on its way when we subscribed.)
evs=$(events_until '/tasks/exit*"t-bg"')
expect_in "exit event" '"exit_status":137' "$(grep /tasks/exit <<<"$evs")"
expect_in "exit event" "\"pid\":$pid" "$(grep /tasks/exit <<<"$evs")"
expect_eq "task ls after kill" STOPPED "$(c task ls | awk '$1 == "t-bg" {print $3}')"
kill -0 "$pid" 2>/dev/null && fail "workload $pid still runs"
c task delete t-bg
c containers delete t-bg
events_until '/containers/delete' >/dev/null

# Exactly one /tasks/exit for a run, between its /tasks/start and /tasks/delete.
crun --rm t-events /bin/sh -c 'exit 3' || true
evs=$(events_until '/containers/delete')
expect_eq "exit events for t-events: $evs" 1 "$(grep -c '/tasks/exit' <<<"$evs")"
expect_in "exit status" '"exit_status":3' "$(grep /tasks/exit <<<"$evs")"
order=$(grep -o '/tasks/[a-z-]*' <<<"$evs" | tr '\n' ' ')
expect_eq "event order" "/tasks/create /tasks/start /tasks/exit /tasks/delete " "$order"

# A foreground run killed from outside returns 137.
crun --rm t-fg /bin/sleep 1000 >/dev/null &
ctr_pid=$!
events_until '/tasks/start' >/dev/null
c task kill -s SIGKILL t-fg
rc=0
wait "$ctr_pid" || rc=$?
expect_eq "killed foreground run" 137 "$rc"

# The shims' lines, each with its pid: t-out's shim said where it served.
grep -q 'msg="serving on .*first container t-out)" runtime=io.containerd.reaper.v2 pid=[0-9]' \
  "$E2E/shims.log" || fail "no serving line in REAPER_SHIM_LOG: $(head -5 "$E2E/shims.log")"
pass
