#!/usr/bin/env bash
# stdio through FIFOs (as the shim passes them): stdout and stderr separate,
# multi-line output complete (seq 1 20000), stdin delivered, the reader sees
# EOF after the exit; empty paths mean /dev/null; a missing FIFO is a clear
# error that leaves nothing behind; a regular file path is appended to.
source "$(dirname "$0")/../lib.sh"
mkfifo "$WORK/in" "$WORK/out" "$WORK/err"
make_bundle "$WORK/b" /bin/sh -c 'read -r line; echo "got:$line"; seq 1 20000; echo to-stderr >&2'
# Readers first (as containerd does), then create; the reads end at EOF.
cat "$WORK/out" >"$WORK/out.txt" & r1=$!
cat "$WORK/err" >"$WORK/err.txt" & r2=$!
exec 3<>"$WORK/in"
"$RT" create --bundle "$WORK/b" --stdin "$WORK/in" --stdout "$WORK/out" --stderr "$WORK/err" f1
"$RT" start f1
echo "hello-stdin" >&3
exec 3>&-
wait $r1 $r2   # returns only once the monitor closed the FIFOs after the exit
expect_eq "$(sed -n 1p "$WORK/out.txt")" "got:hello-stdin" "stdin line"
expect_eq "$(wc -l <"$WORK/out.txt")" 20001 "stdout lines"
expect_eq "$(tail -n1 "$WORK/out.txt")" 20000 "last line"
expect_eq "$(cat "$WORK/err.txt")" "to-stderr" "stderr"
"$RT" delete f1

make_bundle "$WORK/n" /bin/sh -c 'echo nowhere; cat; echo done-$?'
"$RT" create --bundle "$WORK/n" --stdin "" --stdout "" --stderr "" f2
"$RT" start f2
"$RT" delete --force f2

"$RT" create --bundle "$WORK/n" --stdout "$WORK/missing" f3 2>"$WORK/e" && fail "missing FIFO accepted"
grep -q "stdout: stat \`$WORK/missing\`: No such file or directory" "$WORK/e" || fail "missing FIFO message: $(cat "$WORK/e")"
[ ! -e "$REAPER_RUNTIME_ROOT/f3" ] || fail "state left after a failed create"
"$RT" create --bundle "$WORK/n" --stdout /dev/zero f4 2>"$WORK/e" && fail "device accepted as stdout"
grep -q "neither a FIFO" "$WORK/e" || fail "device message: $(cat "$WORK/e")"

make_bundle "$WORK/l" /bin/echo appended
echo first >"$WORK/log.txt"
"$RT" create --bundle "$WORK/l" --stdout "$WORK/log.txt" --stderr "$WORK/log.txt" f5
"$RT" start f5
tail --pid="$(sed -n 's/.*"monitor_pid":\([0-9]*\).*/\1/p' "$REAPER_RUNTIME_ROOT/f5/state.json")" -f /dev/null
expect_eq "$(cat "$WORK/log.txt" | tr '\n' ' ')" "first appended " "file append"
pass
