#!/usr/bin/env bash
# Faults: a monitor killed with -9 (the container is reported stopped with
# 255, nothing of it keeps running); the shim killed with -9 while three
# containers run (each gets its exit, no monitor stays); 200 create/start/
# delete cycles (REAPER_FAULT_CYCLES, default 200) in one pod's shim leak no
# fd, zombie, mount, state or socket;
# the state root full (create refused with ENOSPC, nothing left; an exit
# after it filled up still recorded) or read-only (the exit still reaches
# Wait and TaskExit, carried by the monitor's exit status).
source "$(dirname "$0")/lib.sh"
# The shim's state root on a small tmpfs of its own, for section 4 (lib.sh's
# cleanup unmounts it with everything else under $E2E).
mkdir -p "$REAPER_RUNTIME_ROOT"
mount -t tmpfs -o size=4m,nr_inodes=2048,mode=0700 reaper-e2e-state "$REAPER_RUNTIME_ROOT"
room_again() {
  mount -o remount,rw "$REAPER_RUNTIME_ROOT" 2>/dev/null || true
  rm -rf "$REAPER_RUNTIME_ROOT/fill"
}
# (set +e: under errexit, `(exit $rc)` would end the trap before the cleanup.)
trap 'rc=$?; set +e; room_again; (exit $rc); e2e_cleanup' EXIT
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
# (The ASan+UBSan run of test/run-all.sh does fewer: LeakSanitizer checks
# every process that exits, and each cycle is slower there.)
cycles=${REAPER_FAULT_CYCLES:-200}
pod=(--annotation=io.kubernetes.cri.sandbox-id=podc --annotation=io.kubernetes.cri.sandbox-namespace=cycles)
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=sandbox podc /pause >/dev/null
shim=$(cat "$(bundle_of podc)/shim.pid")
crun --rm "${pod[@]}" warmup /bin/true
fds_before=$(ls "/proc/$shim/fd" | wc -l)
# Only mounts under this test's directories: other work on the node may
# mount and unmount meanwhile.
our_mounts() { grep -c " $E2E" /proc/self/mountinfo || true; }
mounts_before=$(our_mounts)
for i in $(seq 1 "$cycles"); do
  crun --rm "${pod[@]}" "cyc$i" /bin/true || fail "cycle $i failed"
done
expect_eq "shim fds after $cycles cycles" "$fds_before" "$(ls "/proc/$shim/fd" | wc -l)"
expect_eq "mounts after $cycles cycles" "$mounts_before" "$(our_mounts)"
zombies=$(ps -o stat= --ppid "$shim" | grep -c Z || true)
expect_eq "zombie children of the shim" 0 "$zombies"
expect_eq "state dirs" "podc" "$(ls "$REAPER_RUNTIME_ROOT" | grep -v -e '^overlay$' -e '^ns$' | tr '\n' ' ' | xargs)"
expect_eq "shim sockets" 1 "$(ls /run/containerd/s | grep -c "$(basename "$(cat "$(bundle_of podc)/address")")" || true)"
c task kill -s KILL podc
events_until '/tasks/exit*"podc"' >/dev/null
c task delete podc >/dev/null
c containers delete podc

# 4. The state root full, then read-only.
fill_state() {  # no space left, then no inode either
  mkdir -p "$REAPER_RUNTIME_ROOT/fill"
  dd if=/dev/zero of="$REAPER_RUNTIME_ROOT/fill/space" bs=64k 2>/dev/null || true
  local i=0
  while { : >"$REAPER_RUNTIME_ROOT/fill/i$i"; } 2>/dev/null; do i=$((i + 1)); done
}
left_over() {  # containers, mounts and monitors of this state root
  ls -A "$REAPER_RUNTIME_ROOT" | grep -v -e '^overlay$' -e '^ns$' -e '^fill$' || true
  our_mounts
  ps -eo args= | awk -v r="$REAPER_RUNTIME_ROOT" '$1 == "reaper-monitor" && $3 == r' || true
}
podf=(--annotation=io.kubernetes.cri.sandbox-id=podf)
before=$(left_over)
fill_state
out=$(crun -d "${podf[@]}" t-full /bin/true 2>&1) && fail "a task was created on a full state root"
expect_in "create on a full state root" "No space left on device" "$out"
expect_in "create on a full state root" "$REAPER_RUNTIME_ROOT/t-full" "$out"
expect_eq "left after the failed create" "$before" "$(left_over)"
c containers delete t-full 2>/dev/null || true
room_again

# An exit once the root has filled up: recorded in its reserved room; Wait
# (`ctr run` in the foreground) and TaskExit get the status.
mkfifo "$E2E/up" "$E2E/go"
waits_for_go=(/bin/sh -c "echo up >$E2E/up; read x <$E2E/go; exit \$0")
crun --rm "${podf[@]}" t-fill "${waits_for_go[@]}" 7 </dev/null >/dev/null 2>&1 &
runner=$!
read -r _ <"$E2E/up"
fill_state
echo go >"$E2E/go"
expect_in "TaskExit on a full state root" '"exit_status":7' "$(events_until '/tasks/exit*"t-fill"')"
rc=0; wait "$runner" || rc=$?
expect_eq "ctr run's exit code on a full state root" 7 "$rc"
room_again

# An exit that cannot be written at all.
crun --rm "${podf[@]}" t-ro "${waits_for_go[@]}" 9 </dev/null >/dev/null 2>&1 &
runner=$!
read -r _ <"$E2E/up"
mount -o remount,ro "$REAPER_RUNTIME_ROOT" || fail "remount the state root read-only"
echo go >"$E2E/go"
expect_in "TaskExit on a read-only state root" '"exit_status":9' "$(events_until '/tasks/exit*"t-ro"')"
rc=0; wait "$runner" || rc=$?
expect_eq "ctr run's exit code on a read-only state root" 9 "$rc"
[ ! -e "$REAPER_RUNTIME_ROOT/t-ro/exit.json" ] || fail "exit.json written on a read-only state root?"
room_again
# Its records could not be removed while read-only; they can now.
reaper-runtime delete --force t-ro
expect_eq "left at the end" "$before" "$(left_over)"
pass
