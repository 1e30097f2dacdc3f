#!/usr/bin/env bash
# The script the node installer image runs (deploy/node-installer/
# entrypoint.sh), under a POSIX shell (dash; busybox sh too when installed),
# against this machine as "host" (REAPER_HOST_ROOT=/) but with every path in
# a private root: it stages the payload, runs install.sh through chroot (and
# directly), labels the node after installing (a fake kubectl records its
# calls and what the config held at that moment), blocks until SIGTERM and
# then exits 0; uninstall removes the label before uninstall.sh restores the
# config; failures are reported and leave no staging behind. nsenter into
# PID 1, the image's default, runs in a new PID namespace (unshare) whose
# PID 1 is the entrypoint, so it enters this machine's own namespaces.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need_root
command -v chroot >/dev/null || skip "no chroot"

payload=$T/payload fake=$T/fake
mkdir -p "$payload" "$fake" "$R/etc/containerd"
cp "$REAPER_BIN/reaper" "$PKG/install.sh" "$PKG/uninstall.sh" "$REPO/deploy/node-installer/entrypoint.sh" "$payload/"
cfg=$R/etc/containerd/config.toml
cp "$FIXTURES/containerd-1.6.toml" "$cfg"
snapshot "$R" >"$T/before"

cat >"$fake/kubectl" <<SH
#!/bin/sh
echo "kubectl \$* (config has reaper block: \$(grep -c '^# BEGIN reaper runtime' "$cfg"))" >>"$T/calls.log"
SH
cat >"$fake/systemctl" <<SH
#!/bin/sh
echo "systemctl \$*" >>"$T/calls.log"
SH
chmod +x "$fake/kubectl" "$fake/systemctl"
export PATH=$fake:$PATH
export REAPER_HOST_ROOT=/ REAPER_STAGING=$T/staging REAPER_PAYLOAD=$payload NODE_NAME=node-a
export REAPER_DONE_FILE=$T/done
export REAPER_INSTALL_ARGS="--prefix $R/usr/local --config-dir $R/etc/reaper --state-dir $R/var/lib/reaper --containerd-config $cfg"
entry=$payload/entrypoint.sh

shells=(dash)
command -v busybox >/dev/null && busybox sh -c true 2>/dev/null && shells+=("busybox sh")
for sh in "${shells[@]}"; do
  echo "--- under $sh"
  : >"$T/calls.log"
  rm -f "$T/done"
  # install, then wait for SIGTERM: read its output until it says it waits.
  mkfifo "$T/out"
  REAPER_HOST_EXEC=chroot $sh "$entry" install >"$T/out" 2>&1 &
  pid=$!
  exec {out}<"$T/out"
  rm -f "$T/out"
  waiting=0
  while IFS= read -r -t 60 -u "$out" line; do
    echo "  | $line"
    if [[ $line == *"waiting for SIGTERM"* ]]; then waiting=1; break; fi
  done
  if ((!waiting)); then kill "$pid" 2>/dev/null; wait "$pid" || true; fail "[$sh] install did not reach its wait"; fi
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  exec {out}<&-
  [ "$rc" = 0 ] || fail "[$sh] exit status $rc after SIGTERM, expected 0"
  [ -f "$T/done" ] || fail "[$sh] no readiness file"
  cmp -s "$REAPER_BIN/reaper" "$R/usr/local/bin/reaper" || fail "[$sh] binary not installed"
  grep -q '^\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2\]' "$cfg" || fail "[$sh] runtime not added"
  [ ! -e "$T/staging" ] || fail "[$sh] staging directory left behind"
  grep -qx 'kubectl label node node-a reaper.runtime/installed=true --overwrite (config has reaper block: 1)' "$T/calls.log" ||
    fail "[$sh] node not labelled after the install: $(cat "$T/calls.log")"
  ! grep -q '^systemctl' "$T/calls.log" || fail "[$sh] systemctl called without REAPER_RESTART_CONTAINERD"

  # Again, run directly, asked to restart: nothing changes; install.sh got
  # --restart-containerd (it asks systemd whether containerd is running).
  : >"$T/calls.log"
  REAPER_HOST_EXEC=none REAPER_WAIT=false REAPER_RESTART_CONTAINERD=true $sh "$entry" install >"$T/again.log" 2>&1 ||
    { cat "$T/again.log" >&2; fail "[$sh] second install failed"; }
  grep -q "done: nothing changed" "$T/again.log" || fail "[$sh] second install changed something"
  grep -q '^systemctl show containerd.service' "$T/calls.log" || fail "[$sh] --restart-containerd was not passed on"
  ! grep -q '^systemctl restart' "$T/calls.log" || fail "[$sh] restarted a containerd that is not running"

  # uninstall: label first, then the host is as before.
  : >"$T/calls.log"
  REAPER_HOST_EXEC=chroot REAPER_WAIT=false $sh "$entry" uninstall >"$T/uninstall.log" 2>&1 ||
    { cat "$T/uninstall.log" >&2; fail "[$sh] uninstall failed"; }
  grep -qx 'kubectl label node node-a reaper.runtime/installed- (config has reaper block: 1)' "$T/calls.log" ||
    fail "[$sh] label not removed before uninstalling: $(cat "$T/calls.log")"
  expect_same "$FIXTURES/containerd-1.6.toml" "$cfg" "[$sh] config not restored"
  rm -f "$cfg".reaper-backup.*
  snapshot "$R" >"$T/after"
  expect_same "$T/before" "$T/after" "[$sh] uninstall left something behind"
  [ ! -e "$T/staging" ] || fail "[$sh] staging directory left behind by uninstall"
done

# The image's default, nsenter into PID 1: in a new PID namespace whose
# PID 1 is the entrypoint itself (unshare), so "the host" is this machine.
if command -v unshare >/dev/null && command -v nsenter >/dev/null; then
  for action in install uninstall; do
    : >"$T/calls.log"
    REAPER_HOST_EXEC=nsenter REAPER_WAIT=false unshare --pid --fork --mount-proc dash "$entry" "$action" \
      >"$T/nsenter-$action.log" 2>&1 || { cat "$T/nsenter-$action.log" >&2; fail "[nsenter] $action failed"; }
    grep -q "running $action.sh on the host (nsenter)" "$T/nsenter-$action.log" || fail "[nsenter] $action did not use nsenter"
    grep -q '^kubectl label node node-a' "$T/calls.log" || fail "[nsenter] no label change on $action"
  done
  expect_same "$FIXTURES/containerd-1.6.toml" "$cfg" "[nsenter] config not restored"
  rm -f "$cfg".reaper-backup.*
  snapshot "$R" >"$T/after"
  expect_same "$T/before" "$T/after" "[nsenter] uninstall left something behind"
  shells+=("nsenter")
fi

# Failures: a conflicting config stops the install before any label; the
# staging directory goes; the message names the node.
printf '\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2]\n  runtime_type = "io.containerd.runc.v2"\n' >>"$cfg"
: >"$T/calls.log"
if REAPER_HOST_EXEC=none REAPER_WAIT=false dash "$entry" install >"$T/fail.log" 2>&1; then fail "install over a conflicting config succeeded"; fi
grep -q "install.sh failed on node node-a" "$T/fail.log" || { cat "$T/fail.log" >&2; fail "no clear failure message"; }
! grep -q '^kubectl' "$T/calls.log" || fail "labelled the node although the install failed"
[ ! -e "$T/staging" ] || fail "staging directory left behind after a failure"
rm "$payload/install.sh"
if REAPER_HOST_EXEC=none REAPER_WAIT=false dash "$entry" install >"$T/fail2.log" 2>&1; then fail "install without install.sh succeeded"; fi
grep -q "install.sh is missing from the image" "$T/fail2.log" || { cat "$T/fail2.log" >&2; fail "unclear message for a broken image"; }
pass "${shells[*]}"
