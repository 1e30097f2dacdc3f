#!/usr/bin/env bash
# process.terminal: the workload gets a pty (its controlling terminal) of
# process.consoleSize; `run` relays it to its own stdio; with
# --console-socket the master is sent over SCM_RIGHTS (runc's convention).
source "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
TERMINAL=true EXTRA_PROCESS=', "consoleSize": {"height": 30, "width": 100}' \
  make_bundle "$WORK/b" /bin/sh -c 'tty; stty size; test -t 0 && echo stdin-is-tty'
"$RT" run --bundle "$WORK/b" t1 </dev/null >"$WORK/out"
grep -q "^/dev/pts/" "$WORK/out" || fail "no pty: $(cat "$WORK/out")"
grep -q "^30 100" "$WORK/out" || fail "console size: $(cat "$WORK/out")"
grep -q "stdin-is-tty" "$WORK/out" || fail "stdin is not the tty"

"$RT" create --bundle "$WORK/b" t2 2>"$WORK/err" && fail "terminal without console socket accepted by create"
grep -q "console-socket" "$WORK/err" || fail "message: $(cat "$WORK/err")"

# A console socket receiver: prints what the terminal master delivers.
cat >"$WORK/recv.py" <<'PY'
import os, socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
out = b""
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break  # EIO: the slave side is closed
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace"))
PY
mkfifo "$WORK/ready"
python3 "$WORK/recv.py" "$WORK/console.sock" >"$WORK/ready" 2>&1 &
rpid=$!
exec 4<"$WORK/ready"
read -r line <&4
expect_eq "$line" listening "receiver ready"
"$RT" create --bundle "$WORK/b" --console-socket "$WORK/console.sock" t3
"$RT" start t3
out=$(cat <&4)
wait $rpid || true
echo "$out" | grep -q "30 100" || fail "console socket output: $out"
"$RT" delete t3
pass
