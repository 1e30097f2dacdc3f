#!/usr/bin/env bash
# exec: output, exit code 7, a missing binary (127 with a clear error), user
# honoured (--user and process.user), --process file, ps lists it.
source "$(dirname "$0")/../lib.sh"
make_bundle "$WORK/b" /bin/sleep 1000
"$RT" run --detach --bundle "$WORK/b" ex
out=$("$RT" exec ex -- /bin/echo exec-output)
expect_eq "$out" exec-output "exec output"
rc=0; "$RT" exec ex -- /bin/sh -c 'exit 7' || rc=$?
expect_eq "$rc" 7 "exec exit code"
rc=0; "$RT" exec ex -- /no/such/binary 2>"$WORK/err" || rc=$?
expect_eq "$rc" 127 "missing binary exit code"
grep -q "no/such/binary" "$WORK/err" || fail "missing binary error unclear: $(cat "$WORK/err")"
expect_eq "$("$RT" exec --user 1000:1000 ex -- /usr/bin/id -u)" 1000 "exec --user"
cat >"$WORK/p.json" <<JSON
{"args": ["/bin/sh", "-c", "id -u; id -g"], "user": {"uid": 4242, "gid": 4343}, "cwd": "/", "env": ["PATH=/bin"]}
JSON
out=$("$RT" exec --process "$WORK/p.json" ex | tr '\n' ' ')
expect_eq "$out" "4242 4343 " "exec --process user"
"$RT" exec --detach --exec-id bg ex -- /bin/sleep 1000
"$RT" ps ex | grep -q "bg" || fail "ps does not show the exec: $("$RT" ps ex)"
"$RT" delete ex 2>/dev/null && fail "delete of a running container succeeded without --force"
"$RT" delete --force ex
pass
