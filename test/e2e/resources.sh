#!/usr/bin/env bash
# Resources through containerd: ctr's spec names a cgroupsPath
# (/<namespace>/<id>), so the workload is placed in that cgroup: `ctr task
# metrics` shows its usage; a memory limit kills a memory hog with 137 and
# one /tasks/oom before its /tasks/exit. (This node is cgroup v1 hybrid.)
source "$(dirname "$0")/lib.sh"
start_containerd
events_start

crun -d t-metrics /bin/sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 1000' >/dev/null
pid=$(c task ls | awk '$1 == "t-metrics" {print $2}')
grep -q "/$NS/t-metrics" "/proc/$pid/cgroup" || fail "not in its cgroup: $(cat "/proc/$pid/cgroup")"
m=$(c task metrics --format json t-metrics)
python3 - "$m" <<'PY' || fail "metrics: $m"
import json, sys
m = json.loads(sys.argv[1])
assert m["pids"]["current"] >= 1, m
cpu = m["cpu"]["usage"].get("total") or m["cpu"]["usage"].get("usage_usec")
assert cpu and cpu > 0, m
mem = m["memory"]["usage"]["usage"] if "usage" in m["memory"] else m["memory"]["usage"]
assert mem > 0, m
PY
c task kill -s KILL t-metrics
events_until '/tasks/exit*"t-metrics"' >/dev/null
c task delete t-metrics >/dev/null
c containers delete t-metrics
[ ! -d "/sys/fs/cgroup/memory/$NS/t-metrics" ] || fail "cgroup left after delete"

# The memory hog: `tail` keeps the current line, which /dev/zero never ends.
rc=0
crun --rm --memory-limit=67108864 t-oom /usr/bin/tail /dev/zero || rc=$?
expect_eq "OOM-killed exit" 137 "$rc"
evs=$(events_until '/tasks/exit*"t-oom"')
grep -q '/tasks/oom.*"t-oom"' <<<"$evs" || fail "no /tasks/oom before the exit: $evs"
pass
