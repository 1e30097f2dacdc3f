#!/usr/bin/env bash
# Recovery: containerd restarted while a container and an exec run (the shim
# keeps serving them); the shim killed with -9 (containerd's delete action
# ends the container and reports its exit); a container that exits while
# its shim is dead keeps its real exit code.
source "$(dirname "$0")/lib.sh"
start_containerd

crun -d t1 /bin/sleep 1000 >/dev/null
c task exec -d --exec-id e1 t1 /bin/sleep 1001
pid=$(c task ls | awk '$1 == "t1" {print $2}')
shim=$(cat "$(bundle_of t1)/shim.pid")

# 1. containerd restarts: it reconnects to the live shim; nothing is lost.
stop_containerd
start_containerd
events_start
expect_eq "t1 after restart" "$pid RUNNING" "$(c task ls | awk '$1 == "t1" {print $2, $3}')"
kill -0 "$shim" || fail "the shim did not survive containerd's restart"
expect_eq "exec after restart" ok "$(c task exec --exec-id e2 t1 /bin/echo ok)"
c task kill --exec-id e1 -s KILL t1
expect_in "e1's exit" '"exit_status":137' "$(events_until '/tasks/exit*"id":"e1"')"
c task kill -s TERM t1
expect_in "t1's exit" '"exit_status":143' "$(events_until '/tasks/exit*"id":"t1"')"
c task delete t1 >/dev/null
c containers delete t1

# 2. The shim is killed: containerd runs `delete`, which ends the workload
# and reports it (137); no monitor or workload stays behind.
crun -d t2 /bin/sleep 1000 >/dev/null
pid=$(c task ls | awk '$1 == "t2" {print $2}')
shim=$(cat "$(bundle_of t2)/shim.pid")
kill -KILL "$shim"
ev=$(events_until '/tasks/exit*"t2"')
expect_in "t2's exit after the shim died" '"exit_status":137' "$ev"
expect_in "t2's exit pid" "\"pid\":$pid" "$ev"
wait_gone "$pid" 10 || fail "workload $pid still runs"
[ ! -e "$REAPER_RUNTIME_ROOT/t2" ] || fail "t2's state is left behind"
c containers delete t2

# 3. The workload exits while its shim is dead and containerd is down: its
# monitor records 42, and the delete action reports exactly that.
crun -d t3 /bin/sh -c 'trap "exit 42" TERM; sleep 1000 & wait' >/dev/null
pid=$(c task ls | awk '$1 == "t3" {print $2}')
shim=$(cat "$(bundle_of t3)/shim.pid")
stop_containerd
kill -KILL "$shim"
wait_gone "$shim" 10
kill -TERM "$pid"
wait_gone "$pid" 10 || fail "t3 did not exit on SIGTERM"
read -r dpid dstatus dsecs < <(cd "$(bundle_of t3)" && containerd-shim-reaper-v2 -namespace "$NS" \
  -address "$CTRD_SOCK" -id t3 -bundle "$(bundle_of t3)" delete | python3 "$E2E_DIR/delete-response.py")
expect_eq "delete action's pid" "$pid" "$dpid"
expect_eq "delete action's status" 42 "$dstatus"
[ "$dsecs" -ge "$(($(date +%s) - 60))" ] || fail "exited_at $dsecs is not the exit's time"
# containerd, restarted, cleans the dead shim's task up (its own delete run
# now finds nothing: idempotent) and keeps working.
start_containerd
[ -z "$(c task ls -q)" ] || fail "tasks left: $(c task ls)"
c containers delete t3
expect_eq "a new run" fine "$(crun --rm t4 /bin/echo fine)"
pass
