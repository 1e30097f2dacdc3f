#!/usr/bin/env bash
# --preserve-fds N (run, create, exec): the caller's fds 3 to 3+N-1 reach
# the workload, and no other fd of the caller's does; the monitor keeps no
# copy of any of them. A count that is not a number, or a hole in the
# range, is refused before anything is created.
source "$(dirname "$0")/../lib.sh"
echo three >"$WORK/f3"
echo four >"$WORK/f4"
echo nine >"$WORK/f9"
# Reads fds 3, 4 and 9; a closed one prints `closed N`.
make_bundle "$WORK/b" /bin/sh -c \
  'for fd in 3 4 9; do (cat <&$fd) 2>/dev/null || echo "closed $fd"; done'

"$RT" run --preserve-fds 2 --bundle "$WORK/b" p1 3<"$WORK/f3" 4<"$WORK/f4" 9<"$WORK/f9" \
  >"$WORK/out" 2>&1 || fail "run --preserve-fds 2: $(cat "$WORK/out")"
expect_eq "$(tr '\n' ' ' <"$WORK/out")" "three four closed 9 " "run --preserve-fds 2"

"$RT" run --bundle "$WORK/b" p2 3<"$WORK/f3" 4<"$WORK/f4" >"$WORK/out" 2>&1 ||
  fail "run: $(cat "$WORK/out")"
expect_eq "$(tr '\n' ' ' <"$WORK/out")" "closed 3 closed 4 closed 9 " "run without --preserve-fds"

# create + start: the workload holds the fd from create on; the monitor has
# no copy of it, nor of the caller's fd 9.
"$RT" create --preserve-fds 1 --bundle "$WORK/b" p3 3<"$WORK/f3" 9<"$WORK/f9" >"$WORK/out3" 2>&1
mon=$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/p3/state.json")
for fd in /proc/"$mon"/fd/*; do
  case "$(readlink "$fd")" in
    "$WORK"/f*) fail "the monitor holds the caller's $(readlink "$fd") as fd ${fd##*/}" ;;
  esac
done
"$RT" start p3
tail --pid="$mon" -f /dev/null  # blocks until the monitor has exited
expect_eq "$(tr '\n' ' ' <"$WORK/out3")" "three closed 4 closed 9 " "create --preserve-fds 1"
"$RT" delete p3

# exec
make_bundle "$WORK/s" /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/s" p4
"$RT" exec --preserve-fds 1 p4 -- /bin/sh -c 'cat <&3; (cat <&4) 2>/dev/null || echo closed 4' \
  3<"$WORK/f3" 4<"$WORK/f4" >"$WORK/out4" 2>&1 || fail "exec --preserve-fds 1: $(cat "$WORK/out4")"
expect_eq "$(tr '\n' ' ' <"$WORK/out4")" "three closed 4 " "exec --preserve-fds 1"

# Refused, with nothing created: a hole in the range, a bad count.
rc=0; "$RT" run --preserve-fds 2 --bundle "$WORK/b" p5 3<"$WORK/f3" 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "exit status with fd 4 closed"
grep -q -- "--preserve-fds 2: fd 4 is not open" "$WORK/err" || fail "unclear error: $(cat "$WORK/err")"
[ ! -e "$REAPER_RUNTIME_ROOT/p5" ] || fail "state of p5 left after a refused run"
for bad in -1 x 1x 70000; do
  rc=0; "$RT" run --preserve-fds "$bad" --bundle "$WORK/b" p6 2>"$WORK/err" || rc=$?
  expect_eq "$rc" 1 "exit status of --preserve-fds $bad"
  grep -q -- "--preserve-fds: \`$bad\` is not a count" "$WORK/err" ||
    fail "unclear error for $bad: $(cat "$WORK/err")"
done
rc=0; "$RT" exec --preserve-fds 1 p4 -- /bin/true 2>"$WORK/err" || rc=$?
expect_eq "$rc" 1 "exec with fd 3 closed"
grep -q -- "fd 3 is not open" "$WORK/err" || fail "unclear exec error: $(cat "$WORK/err")"
[ -z "$(ls "$REAPER_RUNTIME_ROOT/p4/exec" 2>/dev/null)" ] || fail "exec state left"
"$RT" delete --force p4
pass
