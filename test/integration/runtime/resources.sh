#!/usr/bin/env bash
# Resources on this node's cgroup v1 hierarchies, for real: linux.resources
# written to the cgroup files, workload and exec processes inside (the
# monitor outside), stats, `update` raising limits live, a fork bomb stopped
# by pids.max and killed whole, a memory hog OOM-killed (137 and an oom
# event), a cpu quota that slows a spinner, cgroups removed after exit,
# invalid values refused at create, REAPER_CGROUPS=disabled.
#
# cgroupsPath is relative ("reaper-it-<pid>/<id>"), so every cgroup lives
# below this test's own cgroup in each hierarchy: nothing outside it is touched.
source "$(dirname "$0")/../lib.sh"
command -v jq >/dev/null || { echo "SKIP: needs jq"; exit 77; }

CONTROLLERS="cpu cpuacct cpuset memory pids freezer"
CGPARENT="reaper-it-$$"

# The mount point of the v1 hierarchy holding controller $1.
v1_mount() {
  awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++)
    if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo
}
# This process's cgroup in that hierarchy ("" for the root).
own_cgroup() {
  awk -F: -v c="$1" '{ n = split($2, o, ","); for (i = 1; i <= n; i++)
    if (o[i] == c) { sub(/\/$/, "", $3); print $3; exit } }' /proc/self/cgroup
}
for c in $CONTROLLERS; do
  [ -n "$(v1_mount "$c")" ] || { echo "SKIP: no cgroup v1 hierarchy for $c"; exit 77; }
done
# cg_dir CONTROLLER ID: the container's cgroup directory.
cg_dir() { echo "$(v1_mount "$1")$(own_cgroup "$1")/$CGPARENT/$2"; }
remove_parents() {
  for c in $CONTROLLERS; do rmdir "$(v1_mount "$c")$(own_cgroup "$c")/$CGPARENT" 2>/dev/null; done
  return 0
}
EXTRA_CLEANUP=remove_parents

# cg_bundle DIR ID RESOURCES ARG...: a bundle whose container gets cgroup
# $CGPARENT/ID with linux.resources RESOURCES.
cg_bundle() {
  local dir=$1 id=$2 res=$3; shift 3
  EXTRA_CONFIG=", \"linux\": {\"cgroupsPath\": \"$CGPARENT/$id\", \"resources\": $res}" \
    make_bundle "$dir" "$@"
}
expect_gone() {
  for c in $CONTROLLERS; do
    [ ! -e "$(cg_dir "$c" "$1")" ] || fail "cgroup of $1 left behind: $(cg_dir "$c" "$1")"
  done
}
stats() { "$RT" events --stats "$1" | jq -r ".data.$2"; }
monitor_of() { sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/$1/state.json"; }

# --- limits applied, processes placed, stats, update -----------------------------
cg_bundle "$WORK/lim" lim '{"memory": {"limit": 67108864, "swap": 67108864, "reservation": 33554432},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
  "pids": {"limit": 64}}' /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/lim" lim
mem=$(cg_dir memory lim)
expect_eq "$(cat "$mem/memory.limit_in_bytes")" 67108864 "memory limit"
expect_eq "$(cat "$mem/memory.memsw.limit_in_bytes")" 67108864 "memory+swap limit"
expect_eq "$(cat "$mem/memory.soft_limit_in_bytes")" 33554432 "memory reservation"
expect_eq "$(cat "$(cg_dir cpu lim)/cpu.shares")" 512 "cpu shares"
expect_eq "$(cat "$(cg_dir cpu lim)/cpu.cfs_quota_us")" 50000 "cpu quota"
expect_eq "$(cat "$(cg_dir cpu lim)/cpu.cfs_period_us")" 100000 "cpu period"
expect_eq "$(cat "$(cg_dir cpuset lim)/cpuset.cpus")" 0 "cpuset cpus"
expect_eq "$(cat "$(cg_dir pids lim)/pids.max")" 64 "pids limit"
pid=$(state_field lim pid)
for c in $CONTROLLERS; do
  grep -qx "$pid" "$(cg_dir "$c" lim)/cgroup.procs" || fail "workload $pid not in the $c cgroup"
done
mon=$(monitor_of lim)
! grep -q "/$CGPARENT/lim\$" "/proc/$mon/cgroup" || fail "the monitor is inside the container's cgroup"
# Exec processes go where their container is, whatever REAPER_CGROUPS says
# now (a pod's shim keeps the setting it started with).
for setting in enabled disabled; do
  out=$(REAPER_CGROUPS=$setting "$RT" exec lim -- /bin/cat /proc/self/cgroup)
  for c in memory pids freezer; do
    grep -q ":$c:.*/$CGPARENT/lim\$" <<<"$out" ||
      fail "exec process ($setting) not in the $c cgroup: $out"
  done
done
expect_eq "$(stats lim cgroup)" v1 "stats source"
expect_eq "$(stats lim memory.usage.limit)" 67108864 "stats memory limit"
expect_eq "$(stats lim pids.limit)" 64 "stats pids limit"
[ "$(stats lim pids.current)" -ge 1 ] || fail "stats: no pids"
[ "$(stats lim memory.usage.usage)" -gt 0 ] || fail "stats: no memory usage"
[ "$(stats lim cpu.usage.total)" -gt 0 ] || fail "stats: no cpu usage"

"$RT" update --memory 128m --memory-swap 128m --pids-limit 128 --cpu-quota 80000 lim
expect_eq "$(cat "$mem/memory.limit_in_bytes")" 134217728 "raised memory limit"
expect_eq "$(cat "$mem/memory.memsw.limit_in_bytes")" 134217728 "raised memory+swap limit"
expect_eq "$(cat "$(cg_dir pids lim)/pids.max")" 128 "raised pids limit"
expect_eq "$(cat "$(cg_dir cpu lim)/cpu.cfs_quota_us")" 80000 "raised cpu quota"
echo '{"memory": {"limit": 100663296, "swap": 100663296}}' | "$RT" update --resources - lim
expect_eq "$(cat "$mem/memory.limit_in_bytes")" 100663296 "lowered memory limit"
rc=0; "$RT" update --cpu-period 10 lim 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "invalid update exit code"
grep -q "resources.cpu.period: 10 is outside 1000..1000000" "$WORK/err" ||
  fail "unclear update error: $(cat "$WORK/err")"
expect_eq "$(cat "$(cg_dir cpu lim)/cpu.cfs_period_us")" 100000 "period after a refused update"

# ended_with_exec ID EXEC STATUS KILL-ARGS...: with an exec process EXEC
# running beside ID's init process, `kill KILL-ARGS` ends both with STATUS,
# and the cgroup goes.
ended_with_exec() {
  local id=$1 ex=$2 status=$3 init_mon ex_mon
  shift 3
  "$RT" exec --detach --exec-id "$ex" "$id" -- /bin/sleep 1001
  init_mon=$(monitor_of "$id")
  ex_mon=$(monitor_of "$id/exec/$ex")
  "$RT" kill "$@"
  tail --pid="$init_mon" -f /dev/null
  tail --pid="$ex_mon" -f /dev/null
  expect_eq "$(state_field "$id" exitStatus)" "$status" "init after kill $*"
  grep -q "\"status\":$status" "$REAPER_RUNTIME_ROOT/$id/exec/$ex/exit.json" ||
    fail "exec after kill $*: $(cat "$REAPER_RUNTIME_ROOT/$id/exec/$ex/exit.json")"
  expect_gone "$id"
  "$RT" delete "$id"
}
# kill --all reaches the exec process through the cgroup; then the cgroup goes.
ended_with_exec lim bg 143 --all lim TERM
# The init process alone is killed: its monitor kills the exec process too,
# which is in the cgroup but not its descendant (rmdir finds the cgroup busy
# until it has exited), and the cgroup still goes.
cg_bundle "$WORK/pair" pair '{}' /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/pair" pair
ended_with_exec pair ex 137 pair KILL

# --- update raises a pids limit live: forks that would fail succeed ------------
mkfifo "$WORK/gate" "$WORK/forked"
: >"$WORK/fork.err"
cg_bundle "$WORK/fork" fork '{"pids": {"limit": 4}}' /bin/sh -c \
  'read go; i=0; while [ $i -lt 8 ]; do sleep 1000 & i=$((i+1)); done; echo "forked $i"; wait'
"$RT" create --bundle "$WORK/fork" --stdin "$WORK/gate" --stdout "$WORK/forked" \
  --stderr "$WORK/fork.err" fork
"$RT" start fork
"$RT" update --pids-limit 20 fork
echo go >"$WORK/gate"
read -r line <"$WORK/forked"
expect_eq "$line" "forked 8" "forks after raising pids.max"
expect_eq "$(stats fork pids.current)" 9 "pids: sh and 8 sleeps"
"$RT" delete --force fork
expect_gone fork

# --- a fork bomb stops at pids.max; everything is killed at the end ------------
cg_bundle "$WORK/bomb" bomb '{"pids": {"limit": 8}}' /bin/sh -c 'while :; do sleep 1000 & done'
rc=0; "$RT" run --bundle "$WORK/bomb" bomb 2>"$WORK/bomb.err" || rc=$?
expect_eq "$rc" 2 "fork loop exit (fork failed)"
grep -q "Cannot fork" "$WORK/bomb.err" || fail "no fork failure: $(cat "$WORK/bomb.err")"
expect_gone bomb  # rmdir succeeded: none of the 7 sleeps survived

cg_bundle "$WORK/bb" bb '{"pids": {"limit": 20}, "cpu": {"quota": 20000, "period": 100000}}' \
  /bin/bash -c 'b() { b | b & }; b; exec sleep 1000'
"$RT" run --detach --stdin "" --stdout "" --stderr "" --bundle "$WORK/bb" bb
events="$(cg_dir pids bb)/pids.events"
for _ in $(seq 1 200); do  # bounded wait for the bomb to reach the limit
  [ "$(awk '$1 == "max" {print $2}' "$events")" -gt 0 ] && break
  sleep 0.05
done
[ "$(awk '$1 == "max" {print $2}' "$events")" -gt 0 ] || fail "the bash fork bomb never hit pids.max"
[ "$(cat "$(cg_dir pids bb)/pids.current")" -le 20 ] || fail "more than 20 tasks"
"$RT" delete --force bb  # freezer: frozen, killed, thawed
expect_gone bb

# --- a memory hog is OOM-killed: 137 and an oom event --------------------------
cg_bundle "$WORK/hog" hog '{"memory": {"limit": 33554432, "swap": 33554432}}' /usr/bin/tail /dev/zero
"$RT" create --bundle "$WORK/hog" hog
exec 3< <("$RT" events --interval 0 hog)
read -r first <&3
[[ "$first" == *'"type":"stats"'* ]] || fail "events did not start with stats: $first"
"$RT" start hog
events=$(cat <&3)  # ends with the container
exec 3<&-
grep -qx '{"type":"oom","id":"hog"}' <<<"$events" || fail "no oom event: $events"
expect_eq "$(state_field hog exitStatus)" 137 "OOM-killed exit status"
expect_gone hog
"$RT" delete hog

# --- a cpu quota of 10% slows a spinner; without one it runs -------------------
# CPU time over a fixed wall interval, in permille of one CPU.
cpu_permille() {
  local u0 u1 t0 t1
  u0=$(stats "$1" cpu.usage.total); t0=$(date +%s%N)
  sleep 2
  u1=$(stats "$1" cpu.usage.total); t1=$(date +%s%N)
  echo $(((u1 - u0) * 1000 / (t1 - t0)))
}
cg_bundle "$WORK/slow" slow '{"cpu": {"quota": 10000, "period": 100000}}' \
  /bin/sh -c 'while :; do :; done'
cg_bundle "$WORK/fast" fast '{}' /bin/sh -c 'while :; do :; done'
"$RT" run --detach --bundle "$WORK/slow" slow
slow=$(cpu_permille slow)
throttled=$(stats slow cpu.throttling.throttledPeriods)
"$RT" delete --force slow
"$RT" run --detach --bundle "$WORK/fast" fast
fast=$(cpu_permille fast)
"$RT" delete --force fast
echo "cpu: quota 10% -> ${slow}/1000 of a CPU ($throttled throttled periods); no quota -> ${fast}/1000"
[ "$slow" -lt 300 ] || fail "a 10% quota let the spinner use ${slow}/1000 of a CPU"
[ "$fast" -gt $((2 * slow)) ] || fail "no quota: ${fast}/1000, not clearly above ${slow}/1000"
[ "$throttled" -gt 0 ] || fail "no throttled periods under a quota"
expect_gone slow
expect_gone fast

# --- invalid values are refused at create, nothing is left ---------------------
cg_bundle "$WORK/bad" bad '{"cpu": {"period": 500}}' /bin/true
rc=0; "$RT" create --bundle "$WORK/bad" bad 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "create with an invalid period"
grep -q "linux.resources.cpu.period: 500 is outside 1000..1000000" "$WORK/err" ||
  fail "unclear create error: $(cat "$WORK/err")"
[ ! -e "$REAPER_RUNTIME_ROOT/bad" ] || fail "a refused create left its state"
expect_gone bad
EXTRA_CONFIG=', "linux": {"cgroupsPath": "../escape"}' make_bundle "$WORK/esc" /bin/true
rc=0; "$RT" create --bundle "$WORK/esc" esc 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "create with .. in cgroupsPath"
grep -q 'cgroupsPath `../escape`: `.` and `..` are not allowed' "$WORK/err" ||
  fail "unclear cgroupsPath error: $(cat "$WORK/err")"

# --- the cgroup is made by the CLI while the monitor starts, and removed by --
# --- the CLI when the monitor fails (before or after it took the cgroup) -------
# A leaf that exists in one hierarchy (freezer's): someone else's.
last=$(echo $CONTROLLERS | awk '{print $NF}')
mkdir -p "$(cg_dir "$last" taken)"
cg_bundle "$WORK/taken" taken '{}' /bin/true
rc=0; "$RT" run --bundle "$WORK/taken" taken 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "run with a cgroup that exists"
grep -q "cgroup \`$(cg_dir "$last" taken)\` already exists" "$WORK/err" ||
  fail "unclear error for an existing cgroup: $(cat "$WORK/err")"
[ -d "$(cg_dir "$last" taken)" ] || fail "the cgroup that was someone else's was removed"
rmdir "$(cg_dir "$last" taken)"
expect_gone taken
[ ! -e "$REAPER_RUNTIME_ROOT/taken" ] || fail "a refused run left its state"
# A monitor that fails in its own set-up (no console socket to send its
# terminal to) gets no cgroup, and the CLI removes the one it made.
TERMINAL=true cg_bundle "$WORK/nosock" nosock '{"pids": {"limit": 10}}' /bin/true
rc=0; "$RT" create --console-socket "$WORK/missing.sock" --bundle "$WORK/nosock" nosock \
  2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "create with a console socket that is not there"
grep -q "console socket" "$WORK/err" || fail "unclear console socket error: $(cat "$WORK/err")"
expect_gone nosock
[ ! -e "$REAPER_RUNTIME_ROOT/nosock" ] || fail "a failed create left its state"
# A workload whose set-up fails after it joined the cgroup (its cwd is a
# file): its monitor had taken the cgroup, leaves it emptied, and the CLI
# removes it.
CWD=/etc/passwd cg_bundle "$WORK/badcwd" badcwd '{}' /bin/true
rc=0; "$RT" run --bundle "$WORK/badcwd" badcwd 2>"$WORK/err" || rc=$?
[ "$rc" -ne 0 ] || fail "run with a file as its cwd succeeded"
grep -q "chdir to \`/etc/passwd\`" "$WORK/err" || fail "unclear cwd error: $(cat "$WORK/err")"
expect_gone badcwd
[ ! -e "$REAPER_RUNTIME_ROOT/badcwd" ] || fail "a failed run left its state"

# --- REAPER_CGROUPS=disabled: no cgroup, stats from /proc, updates ignored -----
cg_bundle "$WORK/off" off '{"memory": {"limit": 33554432}}' /bin/sleep 1000
REAPER_CGROUPS=disabled "$RT" run --detach --bundle "$WORK/off" off
expect_gone off
pid=$(state_field off pid)
! grep -q "$CGPARENT" "/proc/$pid/cgroup" || fail "disabled, yet in a container cgroup"
expect_eq "$(REAPER_CGROUPS=disabled stats off cgroup)" none "stats source when disabled"
[ "$(stats off pids.current)" -ge 1 ] || fail "/proc stats: no pids"
[ "$(stats off memory.usage.usage)" -gt 0 ] || fail "/proc stats: no memory"
REAPER_CGROUPS=disabled "$RT" update --memory 64m off || fail "update not ignored when disabled"
rc=0; "$RT" update --memory 64m off 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "update of a container without a cgroup"
grep -q "has no cgroup" "$WORK/err" || fail "unclear update error: $(cat "$WORK/err")"
"$RT" delete --force off
expect_gone off
pass
