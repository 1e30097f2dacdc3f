#!/usr/bin/env bash
# Bad input gets a clear error and leaves no state behind.
source "$(dirname "$0")/../lib.sh"
make_bundle "$WORK/b" /bin/true
check() {  # check NAME EXPECTED-MESSAGE ARGS...
  local name=$1 msg=$2; shift 2
  if "$RT" "$@" >"$WORK/out" 2>&1; then fail "$name: succeeded"; fi
  grep -q -- "$msg" "$WORK/out" || fail "$name: expected '$msg', got: $(cat "$WORK/out")"
}
check "dotdot id" "must start with a letter or digit" create --bundle "$WORK/b" ..
check "slash id" "outside \[A-Za-z0-9._-\]" create --bundle "$WORK/b" a/b
check "empty id" "is empty" create --bundle "$WORK/b" ""
check "long id" "characters long" create --bundle "$WORK/b" "$(printf 'a%.0s' {1..300})"
check "reserved id" "is reserved" create --bundle "$WORK/b" overlay
check "missing bundle" "bundle \`$WORK/nope\`" create --bundle "$WORK/nope" c1
mkdir -p "$WORK/bad"; echo '{"process": {"args": ["x"], ' >"$WORK/bad/config.json"
check "malformed json" "config.json" create --bundle "$WORK/bad" c2
echo '{"ociVersion": "1.0.2", "process": {"args": ["x"], "cwd": "/", "user": {"uid": "root", "gid": 0}}}' >"$WORK/bad/config.json"
check "wrong type" "process.user.uid" create --bundle "$WORK/bad" c3
echo '{"ociVersion": "1.0.2", "process": {"args": [], "cwd": "/", "user": {"uid": 0, "gid": 0}}}' >"$WORK/bad/config.json"
check "empty args" "process.args" create --bundle "$WORK/bad" c4
check "unknown verb" "unknown command" frobnicate
check "unknown flag" "unknown flag" create --bogus x
check "bad signal" "signal" kill c1 SIGNOPE
make_bundle "$WORK/m" /no/such/program
rc=0; "$RT" run --bundle "$WORK/m" c5 >"$WORK/out" 2>&1 || rc=$?
expect_eq "$rc" 127 "missing program exit code"
grep -q "exec \`/no/such/program\`: No such file or directory" "$WORK/out" || fail "missing program message: $(cat "$WORK/out")"
# run creates and starts in one step: a workload that fails during its
# set-up (a cwd below a file) is a create error there too, for the
# foreground and the detached run alike.
CWD=/etc/hostname/below make_bundle "$WORK/cwd" /bin/true
for mode in "" --detach; do
  rc=0; "$RT" run $mode --bundle "$WORK/cwd" c6 >"$WORK/out" 2>&1 || rc=$?
  expect_eq "$rc" 1 "run $mode: set-up failure exit code"
  grep -q "/etc/hostname/below" "$WORK/out" || fail "run $mode: set-up failure message: $(cat "$WORK/out")"
done
left=$(ls "$REAPER_RUNTIME_ROOT" 2>/dev/null | grep -v '^overlay$\|^ns$\|^image$' || true)
[ -z "$left" ] || fail "state left behind: $left"
pgrep -f "reaper-monitor --root $REAPER_RUNTIME_ROOT " >/dev/null && fail "a monitor was left running"

# Errors also go to the node's REAPER_RUNTIME_LOG; --log, when given, wins.
rc=0; REAPER_RUNTIME_LOG="$WORK/runtime.log" "$RT" state no-such-one 2>/dev/null || rc=$?
expect_eq "$rc" 1 "state of a missing container"
grep -q "error reaper-runtime: state: container \`no-such-one\` does not exist" "$WORK/runtime.log" ||
  fail "REAPER_RUNTIME_LOG: $(cat "$WORK/runtime.log" 2>&1)"
echo "REAPER_RUNTIME_LOG=$WORK/runtime.log" >>"$REAPER_CONFIG"
"$RT" --log "$WORK/cli.log" state other-one 2>/dev/null && fail "state of a missing container succeeded"
grep -q "other-one" "$WORK/cli.log" || fail "--log: $(cat "$WORK/cli.log" 2>&1)"
grep -q "other-one" "$WORK/runtime.log" && fail "the error went to REAPER_RUNTIME_LOG despite --log"
"$RT" state third-one 2>/dev/null && fail "state of a missing container succeeded"
grep -q "third-one" "$WORK/runtime.log" || fail "REAPER_RUNTIME_LOG from the config file"
pass
