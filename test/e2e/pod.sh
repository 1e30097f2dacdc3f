#!/usr/bin/env bash
# A pod as CRI drives it: a sandbox (pause) container, simulated without a
# process, and two app containers that share its shim through the
# sandbox-id annotation and its overlay through the sandbox namespace.
source "$(dirname "$0")/lib.sh"
start_containerd
events_start

pod=(--annotation=io.kubernetes.cri.sandbox-id=pod1 --annotation=io.kubernetes.cri.sandbox-namespace=e2e-pod)
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=sandbox pod1 /pause >/dev/null
expect_eq "sandbox task" "1 RUNNING" "$(c task ls | awk '$1 == "pod1" {print $2, $3}')"
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=container app1 /bin/sleep 1000 >/dev/null
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=container app2 /bin/sleep 1000 >/dev/null

# One shim serves the pod.
addr=$(cat "$(bundle_of pod1)/address")
expect_eq "app1's shim" "$addr" "$(cat "$(bundle_of app1)/address")"
expect_eq "app2's shim" "$addr" "$(cat "$(bundle_of app2)/address")"
shim=$(cat "$(bundle_of pod1)/shim.pid")
[ ! -e "$(bundle_of app2)/shim.pid" ] || fail "a second shim started for app2"

# The apps share one overlay view (the pod's namespace); the host sees none of it.
marker="/tmp/reaper-e2e-pod-$RANDOM"
c task exec --exec-id w app1 /bin/sh -c "echo shared >$marker"
expect_eq "app2 sees app1's write" shared "$(c task exec --exec-id r app2 /bin/cat "$marker")"
[ ! -e "$marker" ] || fail "the write reached the host's $marker"
# The sandbox lists no processes and takes no exec.
expect_eq "sandbox pids" "" "$(c task ps pod1 | tail -n +2)"
err=$(c task exec --exec-id x pod1 /bin/true 2>&1) && fail "exec in the sandbox succeeded"
expect_in "exec in sandbox" "simulated pod sandbox" "$err"

# Apps go; the shim stays for the sandbox.
for a in app1 app2; do
  c task kill -s KILL $a
  events_until "/tasks/exit*\"id\":\"$a\"" >/dev/null
  c task delete $a >/dev/null
  c containers delete $a
done
kill -0 "$shim" 2>/dev/null || fail "the shim exited while the sandbox remains"
# Stopping the pod: the sandbox's Wait returns 128+SIGKILL; the shim exits.
c task kill -s KILL pod1
expect_in "sandbox exit" '"exit_status":137' "$(events_until '/tasks/exit*"id":"pod1"')"
c task delete pod1 >/dev/null
c containers delete pod1
wait_gone "$shim" 10 || fail "the shim did not exit after its last container"
[ -z "$(ls "$REAPER_RUNTIME_ROOT" | grep -v -e '^overlay$' -e '^ns$')" ] || fail "state left: $(ls "$REAPER_RUNTIME_ROOT")"
pass
