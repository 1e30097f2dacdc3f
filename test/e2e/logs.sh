#!/usr/bin/env bash
# --log-uri: file:// appends the workload's stdout and stderr to a file;
# binary:// hands them to a logging program (fd 3 and 4, ready on fd 5).
source "$(dirname "$0")/lib.sh"
start_containerd

log="$E2E/out.log"
echo "before" >"$log"
crun --rm --log-uri="file://$log" t-file /bin/sh -c 'echo to-stdout; echo to-stderr >&2; exit 4' &&
  fail "exit status lost"
expect_eq "file log" "before
to-stdout
to-stderr" "$(cat "$log")"
expect_eq "log file mode" 644 "$(stat -c %a "$log")"  # existing file: left as it was

# A file that does not exist yet is created, owner-only.
crun --rm --log-uri="file://$E2E/new.log" t-new /bin/echo fresh
expect_eq "new log" fresh "$(cat "$E2E/new.log")"
expect_eq "new log mode" 600 "$(stat -c %a "$E2E/new.log")"

# The logging program: a script that copies fd 3 and fd 4 into files named
# by its arguments and reports its environment, then closes fd 5.
cat >"$E2E/logger" <<'SH'
#!/bin/sh
echo "id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE args=$*" >"$2.env"
cat <&3 >"$2.out" 5>&- &
cat <&4 >"$2.err" 5>&- &
exec 5>&-
wait
SH
chmod +x "$E2E/logger"
crun --rm --log-uri="binary://$E2E/logger?dir=$E2E/bin" t-bin /bin/sh -c 'echo out-line; echo err-line >&2'
# Delete is answered once the logging program exited: when ctr returns,
# the logs are complete.
expect_eq "logger env" "id=t-bin ns=$NS args=dir $E2E/bin" "$(cat "$E2E/bin.env")"
expect_eq "logger stdout" out-line "$(cat "$E2E/bin.out")"
expect_eq "logger stderr" err-line "$(cat "$E2E/bin.err")"

# A stdio URI the shim cannot serve: a clear error at create.
err=$(crun --rm --log-uri="http://example/x" t-bad /bin/true 2>&1) && fail "http:// log accepted"
expect_in "bad scheme" "unsupported scheme \`http\`" "$err"
pass
