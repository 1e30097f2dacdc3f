#!/usr/bin/env bash
# ctr task exec (with --user), ctr task ps (exec ids), kill -a.
source "$(dirname "$0")/lib.sh"
start_containerd
events_start

crun -d t1 /bin/sleep 1000 >/dev/null
out=$(c task exec --exec-id e1 t1 /bin/sh -c 'echo "in $(id -u)"')
expect_eq "exec output" "in 0" "$out"
out=$(c task exec --exec-id e2 --user 65534 t1 /bin/sh -c 'echo "as $(id -u):$(id -g)"')
expect_eq "exec --user" "as 65534:0" "$out"
expect_eq "exec exit code" 7 "$(rc_of c task exec --exec-id e3 t1 /bin/sh -c 'exit 7')"
evs=$(events_until '/tasks/exit*"id":"e3"')
expect_eq "exec exits so far" 3 "$(grep -c /tasks/exit <<<"$evs")"

# ps lists the init process and a running exec.
c task exec --exec-id e4 -d t1 /bin/sleep 1000
events_until '/tasks/exec-started*"e4"' >/dev/null
ps_out=$(c task ps t1)
init_pid=$(c task ls | awk '$1 == "t1" {print $2}')
grep -q "^$init_pid " <<<"$ps_out" || fail "init $init_pid missing in: $ps_out"
grep -q "e4" <<<"$ps_out" || fail "exec e4 missing in: $ps_out"
expect_eq "processes" 2 "$(tail -n +2 <<<"$ps_out" | wc -l)"

# kill -a reaches every process of the container; one exit each, the init
# process's last.
c task kill -a -s KILL t1
evs=$(events_until '/tasks/exit*"id":"t1"')
exits=$(grep '/tasks/exit' <<<"$evs")
expect_in "e4's exit before init's" '"id":"e4"' "$exits"
expect_eq "init exit is the last" t1 "$(tail -1 <<<"$exits" | grep -o '"id":"[^"]*"' | cut -d'"' -f4)"
c task delete t1
c containers delete t1
pass
