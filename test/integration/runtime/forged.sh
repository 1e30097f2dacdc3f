#!/usr/bin/env bash
# Forged records and fake monitor sockets. The state root is on the host's
# /run, which root workloads can write; the runtime must not be turned on a
# process that is not the monitor a record or a socket claims. Every
# refusal names the process and why, and the decoy (a `sleep` of ours, a
# python3 listener of ours, another container) survives it:
#   - state.json naming a `sleep` as the monitor: state, kill, start,
#     delete refused; delete --force ends the real monitor (found through
#     its socket), not the sleep;
#   - a python3 listener bound in place of monitor.sock: refused before
#     anything is sent to it, also when the record names the listener;
#   - another container's monitor socket hard-linked in place of ours,
#     the record naming that monitor: refused (it is another container's);
#   - state.json garbage or missing: delete --force still ends the monitor
#     and its workload (it used to leave them running); with a fake
#     listener instead of the monitor, delete --force refuses and keeps
#     the state;
#   - exit.json forged: the container reads as stopped, delete --force
#     still ends its monitor.
source "$(dirname "$0")/../lib.sh"
ROOT=$REAPER_RUNTIME_ROOT

null_stdio=(--stdin "" --stdout "" --stderr "")
OURS=()  # our own decoy processes, ended at exit
# After a failure the records may still be forged: lib.sh's delete --force
# would refuse them, so the monitors of this root (ours) are ended first.
end_ours() {
  local p
  for p in "${OURS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ps -eo pid=,args= | awk -v r="$ROOT" '$2 == "reaper-monitor" && $4 == r {print $1}' |
    while read -r p; do kill -KILL "$p" 2>/dev/null || true; done
}
# (set +e: under errexit, `(exit $rc)` would end the trap before cleanup.)
trap 'rc=$?; set +e; end_ours; (exit $rc); cleanup' EXIT

field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$ROOT/$1/state.json"; }
start_time() { awk '{print $22}' "/proc/$1/stat"; }  # comm of our decoys has no space
# forge ID PID: ID's state.json names PID (and its start time) as the monitor.
forge() {
  sed -i "s/\"monitor_pid\":[0-9]*/\"monitor_pid\":$2/; s/\"monitor_start\":[0-9]*/\"monitor_start\":$(start_time "$2")/" \
    "$ROOT/$1/state.json"
}
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat")" != Z ]; }
# wait_gone PID: a process that is not our child ends (pidfd, 10 s at most).
wait_gone() { python3 "$(dirname "$0")/../../e2e/wait-pid.py" "$1" 10; }
# refuse NAME EXPECTED ARGS...: fails within 20 s, saying EXPECTED.
refuse() {
  local name=$1 msg=$2 rc=0; shift 2
  timeout 20 "$RT" "$@" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || fail "$name: hung"
  [ "$rc" -ne 0 ] || fail "$name: succeeded: $(cat "$WORK/out")"
  grep -qF -- "$msg" "$WORK/out" || fail "$name: expected '$msg', got: $(cat "$WORK/out")"
}
# A listener standing in for a monitor: logs what it is sent, answers ok.
cat >"$WORK/fake.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(8)
print(os.getpid(), flush=True)
log = open(sys.argv[2], "ab", 0)
while True:
    c, _ = s.accept()
    try:
        m = c.recv(4096)  # empty: connected to and closed, nothing sent
        if m:
            log.write(m + b"\n")
            c.send(b"ok")
    except OSError:
        pass
    c.close()
PY
FAKE=""
fake_listener() {  # fake_listener PATH: binds a fake at PATH, sets FAKE (its pid)
  : >"$WORK/fake.log"
  exec {fake_out}< <(exec python3 "$WORK/fake.py" "$1" "$WORK/fake.log")
  read -r -t 10 -u "$fake_out" FAKE || fail "the fake listener did not start"
  OURS+=("$FAKE")
}
make_bundle "$WORK/b" /bin/sleep 1000
run_container() {  # run_container ID: created and started, sleeping
  "$RT" create --bundle "$WORK/b" "${null_stdio[@]}" "$1"
  "$RT" start "$1"
}

# --- a record naming a sleep of ours ----------------------------------------------------
sleep 1000 &
decoy=$!
OURS+=("$decoy")
run_container v
mon=$(field v monitor_pid)
work=$(field v pid)
forge v "$decoy"
not_it="pid $decoy is not the monitor of container \`v\`: it runs \`$(readlink /proc/$decoy/exe)\`, not reaper"
refuse "state, record names a sleep" "$not_it" state v
refuse "kill, record names a sleep" "$not_it" kill v KILL
refuse "kill --all, record names a sleep" "$not_it" kill --all v KILL
refuse "start, record names a sleep" "$not_it" start v
refuse "delete, record names a sleep" "$not_it" delete v
alive "$decoy" || fail "the sleep named by a forged record was killed"
alive "$mon" || fail "v's monitor ended on a refusal"
"$RT" delete --force v || fail "delete --force v: $?"
wait_gone "$mon" || fail "delete --force left v's monitor $mon running"
wait_gone "$work" || fail "delete --force left v's workload $work running"
alive "$decoy" || fail "delete --force killed the sleep a forged record named"
[ ! -e "$ROOT/v" ] || fail "v not deleted"

# --- a fake listener in place of monitor.sock -----------------------------------------
run_container w
wmon=$(field w monitor_pid)
mv "$ROOT/w/monitor.sock" "$ROOT/w/monitor.sock.real"
fake_listener "$ROOT/w/monitor.sock"
refuse "kill through a fake socket" \
  "\`$ROOT/w/monitor.sock\` is served by pid $FAKE, not by the monitor its record names (pid $wmon): refusing it" \
  kill w KILL
# The record naming the fake too: its executable gives it away.
cp "$ROOT/w/state.json" "$WORK/w-state.json"
forge w "$FAKE"
refuse "kill, fake socket and record" "pid $FAKE is not the monitor of container \`w\`: it runs" kill w KILL
refuse "delete --force, fake socket and record" "pid $FAKE is not the monitor of container \`w\`" \
  delete --force w
[ -d "$ROOT/w" ] || fail "delete --force removed w's state with its monitor unaccounted for"
[ ! -s "$WORK/fake.log" ] || fail "the fake listener was sent: $(cat "$WORK/fake.log")"
alive "$FAKE" || fail "the fake listener was killed"
alive "$wmon" || fail "w's monitor ended"
kill -KILL "$FAKE"
rm "$ROOT/w/monitor.sock"
mv "$ROOT/w/monitor.sock.real" "$ROOT/w/monitor.sock"
cp "$WORK/w-state.json" "$ROOT/w/state.json"
expect_eq "$(state_field w status)" running "w with its own records back"

# --- another container's monitor socket, hard-linked --------------------------------------
run_container x
xmon=$(field x monitor_pid)
xwork=$(field x pid)
mv "$ROOT/x/monitor.sock" "$ROOT/x/monitor.sock.real"
ln "$ROOT/w/monitor.sock" "$ROOT/x/monitor.sock"
refuse "kill x through w's socket" "is served by pid $wmon, not by the monitor its record names" kill x KILL
forge x "$wmon"
refuse "kill x, record and socket w's" "pid $wmon is not the monitor of container \`x\`: it is the monitor of container \`w\`" \
  kill x KILL
expect_eq "$(state_field w status)" running "w after the attempts through x"
rm "$ROOT/x/monitor.sock"
mv "$ROOT/x/monitor.sock.real" "$ROOT/x/monitor.sock"

# --- state.json unreadable: delete --force still ends the monitor --------------------------
echo 'not json {' >"$ROOT/x/state.json"
refuse "state of a garbage record" "state.json" state x
"$RT" delete --force x || fail "delete --force of a garbage record: $?"
wait_gone "$xmon" || fail "delete --force left x's monitor $xmon running"
wait_gone "$xwork" || fail "delete --force left x's workload $xwork running"
[ ! -e "$ROOT/x" ] || fail "x not deleted"
expect_eq "$(state_field w status)" running "w after x's delete"

run_container y
ymon=$(field y monitor_pid)
rm "$ROOT/y/state.json"
"$RT" delete --force y || fail "delete --force without a record: $?"
wait_gone "$ymon" || fail "delete --force left y's monitor $ymon running"

# A garbage record and a fake listener: nothing to end safely, so refused.
run_container z
zmon=$(field z monitor_pid)
echo garbage >"$ROOT/z/state.json"
mv "$ROOT/z/monitor.sock" "$ROOT/z/monitor.sock.real"
fake_listener "$ROOT/z/monitor.sock"
refuse "delete --force, garbage record, fake socket" "pid $FAKE is not the monitor of container \`z\`" \
  delete --force z
[ -d "$ROOT/z" ] && alive "$zmon" && alive "$FAKE" || fail "z's state, monitor or the fake changed"
[ ! -s "$WORK/fake.log" ] || fail "the fake listener was sent: $(cat "$WORK/fake.log")"
kill -KILL "$FAKE"
rm "$ROOT/z/monitor.sock"
mv "$ROOT/z/monitor.sock.real" "$ROOT/z/monitor.sock"
"$RT" delete --force z
wait_gone "$zmon" || fail "z's monitor survived its delete"

# A forged exit.json: the container reads as stopped, but delete --force
# still finds its monitor listening and ends it.
run_container s
smon=$(field s monitor_pid)
swork=$(field s pid)
echo '{"version": 1, "status": 0, "exited_ns": 1, "reason": "exited"}' >"$ROOT/s/exit.json"
expect_eq "$(state_field s status)" stopped "s with a forged exit.json"
"$RT" delete --force s || fail "delete --force of s: $?"
wait_gone "$smon" || fail "delete --force left s's monitor $smon running"
wait_gone "$swork" || fail "delete --force left s's workload $swork running"

"$RT" delete --force w
wait_gone "$wmon" || fail "w's monitor survived its delete"
alive "$decoy" || fail "the decoy sleep did not survive"
pass
