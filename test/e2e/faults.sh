#!/usr/bin/env bash
# Faults: a monitor killed with -9 (the container is reported stopped with
# 255, nothing of it keeps running); the shim killed with -9 while three
# containers run (each gets its exit, no monitor stays); 200 create/start/
# delete cycles in one pod's shim leak no fd, zombie, mount, state or socket.
source "$(dirname "$0")/lib.sh"
start_containerd
events_start

monitor_of() {  # the monitor of a task: the parent of its workload
  awk '{print $4}' "/proc/$1/stat"
}

# 1. A monitor killed: exit 255 (monitor-lost), its processes ended.
crun -d t-mon /bin/sh -c 'sleep 1000 & sleep 1001' >/dev/null
pid=$(c task ls | awk '$1 == "t-mon" {print $2}')
mon=$(monitor_of "$pid")
grep -q reaper-monitor "/proc/$mon/cmdline" || fail "parent $mon of $pid is not a monitor"
kill -KILL "$mon"
expect_in "exit after the monitor died" '"exit_status":255' "$(events_until '/tasks/exit*"t-mon"')"
expect_eq "status" STOPPED "$(c task ls | awk '$1 == "t-mon" {print $3}')"
wait_gone "$pid" 10 || fail "workload $pid survived its monitor"
# Its background child too, through the container's cgroup, before Delete.
left=$(pgrep -f '^sleep 100[01]$' || true)
[ -z "$left" ] || fail "processes of t-mon still run: $left"
c task delete t-mon >/dev/null
c containers delete t-mon

# 2. The shim killed while three containers run.
pids=()
for i in 1 2 3; do
  crun -d --annotation=io.kubernetes.cri.sandbox-id=podk "k$i" /bin/sleep 1000 >/dev/null
  pids+=("$(c task ls | awk -v id="k$i" '$1 == id {print $2}')")
done
shim=$(cat "$(bundle_of k1)/shim.pid")
monitors=()
for p in "${pids[@]}"; do monitors+=("$(monitor_of "$p")"); done
kill -KILL "$shim"
# Three exits, in any order (containerd cleans each task up on its own).
evs=""
for i in 1 2 3; do evs+=$(events_until '/tasks/exit*"k'); evs+=$'\n'; done
for i in 1 2 3; do
  expect_in "k$i's exit" '"exit_status":137' "$(grep "/tasks/exit.*\"k$i\"" <<<"$evs")"
done
for p in "${pids[@]}" "${monitors[@]}"; do wait_gone "$p" 10 || fail "process $p survived"; done
for i in 1 2 3; do c containers delete "k$i"; done

# 3. 200 cycles through one pod's shim: its fds come back to where they were.
pod=(--annotation=io.kubernetes.cri.sandbox-id=podc --annotation=io.kubernetes.cri.sandbox-namespace=cycles)
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=sandbox podc /pause >/dev/null
shim=$(cat "$(bundle_of podc)/shim.pid")
crun --rm "${pod[@]}" warmup /bin/true
fds_before=$(ls "/proc/$shim/fd" | wc -l)
# Only mounts under this test's directories: other work on the node may
# mount and unmount meanwhile.
our_mounts() { grep -c " $E2E" /proc/self/mountinfo || true; }
mounts_before=$(our_mounts)
for i in $(seq 1 200); do
  crun --rm "${pod[@]}" "cyc$i" /bin/true || fail "cycle $i failed"
done
expect_eq "shim fds after 200 cycles" "$fds_before" "$(ls "/proc/$shim/fd" | wc -l)"
expect_eq "mounts after 200 cycles" "$mounts_before" "$(our_mounts)"
zombies=$(ps -o stat= --ppid "$shim" | grep -c Z || true)
expect_eq "zombie children of the shim" 0 "$zombies"
expect_eq "state dirs" "podc" "$(ls "$REAPER_RUNTIME_ROOT" | grep -v -e '^overlay$' -e '^ns$' | tr '\n' ' ' | xargs)"
expect_eq "shim sockets" 1 "$(ls /run/containerd/s | grep -c "$(basename "$(cat "$(bundle_of podc)/address")")" || true)"
c task kill -s KILL podc
events_until '/tasks/exit*"podc"' >/dev/null
c task delete podc >/dev/null
c containers delete podc
pass
