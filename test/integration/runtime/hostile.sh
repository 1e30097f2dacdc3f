#!/usr/bin/env bash
# Hostile input through the CLI. Each attempt must be refused with a message
# that names what was refused, where and why, and must change nothing: the
# state directory, the mounts below the scenario's directories, the decoy
# files a followed symlink would have reached, and a running container are
# checked after every refusal.
#   - ids with `/`, `..`, control characters, 10 KB (a NUL cannot cross argv:
#     the shim's ids are covered by test/fuzz's task_requests target);
#   - symlinks planted in the state directory, which root workloads can
#     write through the view's /run: the container dir, state.json,
#     exit.json, monitor.sock (pointing at another container's monitor),
#     exec/, the state root itself; a FIFO in place of a record;
#   - stdio paths: FIFO and regular file accepted, /dev/null also under
#     another name, devices, directories and sockets refused;
#   - volume sources: a symlink to /etc is followed on the host, as runc and
#     kubelet do, and `ro` holds; `..`, relative and dangling sources refused;
#   - signals out of range or unknown;
#   - a state root whose path would break the overlayfs mount options.
source "$(dirname "$0")/../lib.sh"
ROOT=$REAPER_RUNTIME_ROOT

# What must not change: the state tree (overlay internals aside), mounts
# below our directories, the decoys, and the `keep` container's workload.
snapshot() {
  (cd "$ROOT" && find . \( -path ./overlay -o -path ./ns \) -prune -o -printf '%p %y %s\n' | sort)
  grep -E " ($STATE|$WORK)[/ ]" /proc/self/mountinfo | awk '{print $5}' | sort
  (cd "$WORK/decoy" && find . -printf '%p %y %s %T@\n' | sort)
  stat -c '%n %s %Y' /etc/passwd /etc/hostname
  state_field keep status
}

# refuse NAME EXPECTED-MESSAGE ARGS...: the call fails (within 20 s: a FIFO
# must not block it), says EXPECTED-MESSAGE, prints no raw control
# character, and the snapshot is unchanged.
refuse() {
  local name=$1 msg=$2 rc=0; shift 2
  snapshot >"$WORK/before"
  timeout 20 "$RT" "$@" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || fail "$name: hung"
  [ "$rc" -ne 0 ] || fail "$name: succeeded: $(cat "$WORK/out")"
  grep -qF -- "$msg" "$WORK/out" || fail "$name: expected '$msg', got: $(cat "$WORK/out")"
  if LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$WORK/out"); then
    fail "$name: raw control characters in: $(cat -v "$WORK/out")"
  fi
  snapshot >"$WORK/after"
  diff "$WORK/before" "$WORK/after" >"$WORK/diff" || fail "$name: changed: $(cat "$WORK/diff")"
}

# Containers get /dev/null stdio: none may hold the test's own output open.
null_stdio=(--stdin "" --stdout "" --stderr "")
# Whatever a failed check leaves planted in `v` is put back first, so that
# lib.sh's cleanup can stop it.
restore_v() {
  [ -d "$ROOT/v" ] || return 0
  if [ -f "$WORK/v-state.json" ]; then rm -f "$ROOT/v/state.json"; cp "$WORK/v-state.json" "$ROOT/v/state.json"; fi
  if [ -S "$ROOT/v/monitor.sock.real" ]; then rm -f "$ROOT/v/monitor.sock"; mv "$ROOT/v/monitor.sock.real" "$ROOT/v/monitor.sock"; fi
  [ -L "$ROOT/v/exit.json" ] && rm -f "$ROOT/v/exit.json"
  return 0
}
# (set +e: under errexit, `(exit $rc)` would end the trap before cleanup.)
trap 'rc=$?; set +e; restore_v; rm -f "$ROOT/evil" "$ROOT/etc-link" "$ROOT/keep/exec"; (exit $rc); cleanup' EXIT

mkdir -p "$WORK/decoy/exec/e1"
echo keep >"$WORK/decoy/keep-me"
make_bundle "$WORK/b" /bin/sleep 1000
"$RT" create --bundle "$WORK/b" "${null_stdio[@]}" keep
"$RT" start keep
cp "$ROOT/keep/state.json" "$WORK/decoy/state.json"
cp "$ROOT/keep/state.json" "$WORK/decoy/exec/e1/state.json"

# --- ids ----------------------------------------------------------------------
long=$(head -c 10240 /dev/zero | tr '\0' a)
for verb in "create --bundle $WORK/b" start state kill delete "delete --force" ps "exec -d"; do
  extra=(); [ "$verb" = "exec -d" ] && extra=(/bin/true)
  # shellcheck disable=SC2086,SC2016
  {
    refuse "$verb a/b" "container id \`a/b\` has a character outside [A-Za-z0-9._-]" $verb a/b "${extra[@]}"
    refuse "$verb ../../etc" "container id \`../../etc\` must start with a letter or digit" $verb ../../etc "${extra[@]}"
    refuse "$verb .." "container id \`..\` must start with a letter or digit" $verb .. "${extra[@]}"
    refuse "$verb ESC" 'container id `a\x1b[2Jb` has a character outside' $verb $'a\e[2Jb' "${extra[@]}"
    refuse "$verb newline" 'container id `a\x0ab` has a character outside' $verb $'a\nb' "${extra[@]}"
    refuse "$verb 10 KB" "is 10240 characters long (at most 256)" $verb "$long" "${extra[@]}"
  }
done
refuse "exec-id a/b" "exec id \`a/b\` has a character outside" exec -d --exec-id a/b keep /bin/true
refuse "exec-id .." "exec id \`..\` must start with a letter or digit" exec -d --exec-id .. keep /bin/true
refuse "exec-id 10 KB" "exec id \`aaaa" exec -d --exec-id "$long" keep /bin/true
[ ! -e "$ROOT/keep/exec" ] || [ -z "$(ls "$ROOT/keep/exec")" ] || fail "exec dir left: $(ls "$ROOT/keep/exec")"

# --- symlinks and FIFOs in the state directory ----------------------------------
# A container dir that is a symlink (to a decoy that looks like one, and to /etc).
ln -s "$WORK/decoy" "$ROOT/evil"
for verb in state start kill delete "delete --force" ps "exec -d"; do
  extra=(); [ "$verb" = "exec -d" ] && extra=(/bin/true)
  # shellcheck disable=SC2086
  refuse "$verb evil" "\`$ROOT/evil\` is a symbolic link: not following it" $verb evil "${extra[@]}"
done
refuse "create over evil" "container \`evil\` already exists" create --bundle "$WORK/b" evil
"$RT" list | grep -q evil && fail "list shows the symlink"
rm "$ROOT/evil"
ln -s /etc "$ROOT/etc-link"
refuse "state etc-link" "\`$ROOT/etc-link\` is a symbolic link: not following it" state etc-link
refuse "kill etc-link" "\`$ROOT/etc-link\` is a symbolic link: not following it" kill etc-link KILL
rm "$ROOT/etc-link"

# A second container whose files get replaced, one at a time.
"$RT" create --bundle "$WORK/b" "${null_stdio[@]}" v
cp "$ROOT/v/state.json" "$WORK/v-state.json"
rm "$ROOT/v/state.json"
ln -s "$ROOT/keep/state.json" "$ROOT/v/state.json"
refuse "state.json symlink" "\`$ROOT/v/state.json\` is a symbolic link: not following it" state v
rm "$ROOT/v/state.json"
mkfifo "$ROOT/v/state.json"
refuse "state.json FIFO" "\`$ROOT/v/state.json\` is not a regular file" state v
refuse "state.json FIFO, kill" "\`$ROOT/v/state.json\` is not a regular file" kill v
restore_v

ln -s "$WORK/decoy/keep-me" "$ROOT/v/exit.json"
refuse "exit.json symlink" "\`$ROOT/v/exit.json\` is a symbolic link: not following it" state v
rm "$ROOT/v/exit.json"

# monitor.sock pointing at keep's monitor: a kill of v must not reach keep.
mv "$ROOT/v/monitor.sock" "$ROOT/v/monitor.sock.real"
ln -s "$ROOT/keep/monitor.sock" "$ROOT/v/monitor.sock"
refuse "monitor.sock symlink, kill" "\`$ROOT/v/monitor.sock\` is a symbolic link: not following it" kill v KILL
refuse "monitor.sock symlink, start" "\`$ROOT/v/monitor.sock\` is a symbolic link: not following it" start v
rm "$ROOT/v/monitor.sock"
echo not-a-socket >"$ROOT/v/monitor.sock"
refuse "monitor.sock regular file" "\`$ROOT/v/monitor.sock\` is not a socket" kill v KILL
restore_v
expect_eq "$(state_field v status)" created "v after the refusals"

# exec/ that is a symlink: no exec process is created through it.
ln -s "$WORK/decoy/exec" "$ROOT/keep/exec"
refuse "exec/ symlink" "\`$ROOT/keep/exec\` is a symbolic link: not following it" exec -d --exec-id e2 keep /bin/true
rm "$ROOT/keep/exec"

# The state root itself a symlink.
ln -s "$ROOT" "$WORK/root-link"
refuse "root symlink" "\`$WORK/root-link\` is a symbolic link: not following it" --root "$WORK/root-link" list
rm "$WORK/root-link"

# delete --force cleans a tampered container without following anything.
ln -s "$WORK/decoy" "$ROOT/v/planted"
"$RT" delete --force v
[ ! -e "$ROOT/v" ] || fail "v not deleted"
expect_eq "$(cat "$WORK/decoy/keep-me")" keep "decoy after delete --force"

# --- stdio paths -------------------------------------------------------------------
make_bundle "$WORK/e" /bin/sh -c 'echo out; echo err >&2'
refuse "stdin device" "stdin: \`/dev/zero\` is neither a FIFO, a regular file nor /dev/null" \
  create --bundle "$WORK/e" --stdin /dev/zero s1
ln -s /dev/zero "$WORK/zero-link"
refuse "stdout symlink to a device" "stdout: \`$WORK/zero-link\` is neither a FIFO" \
  create --bundle "$WORK/e" --stdout "$WORK/zero-link" s1
refuse "stderr directory" "stderr: \`$WORK/decoy\` is neither a FIFO" \
  create --bundle "$WORK/e" --stderr "$WORK/decoy" s1
refuse "stdout socket" "stdout: \`$ROOT/keep/monitor.sock\` is neither a FIFO" \
  create --bundle "$WORK/e" --stdout "$ROOT/keep/monitor.sock" s1
refuse "stdout missing" "stdout: stat \`$WORK/nope\`: No such file or directory" \
  create --bundle "$WORK/e" --stdout "$WORK/nope" s1
# Accepted: /dev/null under another name, a regular file, a FIFO.
ln -s /dev/null "$WORK/null-link"
: >"$WORK/out.txt"  # stdio opens files, it does not create them
mkfifo "$WORK/err.fifo"
cat "$WORK/err.fifo" >"$WORK/err.txt" &
reader=$!
"$RT" run --bundle "$WORK/e" --stdin "$WORK/null-link" --stdout "$WORK/out.txt" \
  --stderr "$WORK/err.fifo" s2 || fail "stdio: null link, file, FIFO refused"
wait $reader
expect_eq "$(cat "$WORK/out.txt")/$(cat "$WORK/err.txt")" "out/err" "stdio to a file and a FIFO"

# --- volume sources ------------------------------------------------------------------
# A source that is a symlink to /etc is the host's /etc, read-only as asked.
ln -s /etc "$WORK/etc-link"
vol() {  # vol SOURCE OPTIONS: a bundle in $WORK/m mounting SOURCE on /mnt/hostile
  EXTRA_CONFIG=', "mounts": [{"destination": "/mnt/hostile", "type": "bind", "source": "'"$1"'", "options": '"$2"'}]' \
    make_bundle "$WORK/m" /bin/sh -c 'cat /mnt/hostile/hostname; (echo x >/mnt/hostile/hostile-write) 2>/dev/null && echo wrote || echo read-only'
}
vol "$WORK/etc-link" '["rbind", "ro"]'
expect_eq "$("$RT" run --bundle "$WORK/m" m1 | tr '\n' ' ')" "$(cat /etc/hostname) read-only " "volume via a symlink to /etc"
[ ! -e /etc/hostile-write ] || { rm -f /etc/hostile-write; fail "write reached the host's /etc"; }
vol "$WORK/../$(basename "$WORK")/decoy" '["rbind"]'
refuse "volume source with .." "volume \`/mnt/hostile\`: source \`$WORK/../" run --bundle "$WORK/m" m2
vol "decoy" '["rbind"]'
refuse "relative volume source" "volume \`/mnt/hostile\`: source \`decoy\` is not an absolute path" run --bundle "$WORK/m" m3
ln -s "$WORK/gone" "$WORK/dangling"
vol "$WORK/dangling" '["rbind"]'
refuse "dangling volume source" "volume \`/mnt/hostile\`: source \`$WORK/dangling\`: No such file or directory" \
  run --bundle "$WORK/m" m4

# --- signals -------------------------------------------------------------------------
refuse "signal 65" "invalid signal \`65\`" kill keep 65
refuse "signal 0" "invalid signal \`0\`" kill keep 0
refuse "signal -1 (as a flag)" "unknown flag \`-1\`" kill keep -1
refuse "signal -1" "invalid signal \`-1\`" kill keep -- -1
refuse "signal SIGFOO" "invalid signal \`SIGFOO\`" kill keep SIGFOO
refuse "signal SIGRTMAX+1" "invalid signal \`SIGRTMAX+1\`" kill keep SIGRTMAX+1
refuse "signal 2^32+9" "invalid signal \`4294967305\`" kill keep 4294967305
refuse "empty signal" "invalid signal \`\`" kill keep ""

# --- a state root the overlay options cannot carry ------------------------------------
# (Not through refuse: the monitor sets up the new root's own directories.)
comma="$WORK/with,comma"
"$RT" --root "$comma" run --bundle "$WORK/e" c1 >"$WORK/out" 2>&1 && fail "ran under a state root with a comma"
grep -qF "overlay base \`$comma/overlay\`: \`,\`, \`:\` and \`\\\` cannot appear in overlayfs options" "$WORK/out" ||
  fail "state root with a comma: $(cat "$WORK/out")"
[ ! -e "$comma/c1" ] || fail "state left under $comma"

expect_eq "$(state_field keep status)" running "keep after everything"
"$RT" delete --force keep
pass
