#!/usr/bin/env bash
# ctr run -t under a terminal of known size (a private tmux server): the
# workload's terminal gets ctr's size, and follows a resize of ctr's terminal
# (SIGWINCH to ctr -> ResizePty -> TIOCSWINSZ -> SIGWINCH to the workload).
source "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
start_containerd
events_start

TMUX_SOCK="$E2E/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
mkfifo "$E2E/pane.fifo"
exec {PANE}<>"$E2E/pane.fifo"
trap 'tm kill-server 2>/dev/null; e2e_cleanup' EXIT
tm -f /dev/null new-session -d -s e2e -x 100 -y 30 "sh"
tm pipe-pane -t e2e "cat >$E2E/pane.fifo"

# pane_until TEXT: reads the pane's output up to a line with TEXT, skipping
# the echo of the typed ctr commands.
pane_until() {
  local line
  while IFS= read -r -t 30 -u "$PANE" line; do
    line=${line//$'\r'/}
    case "$line" in *"--address "*) continue ;; *"$1"*) echo "$line"; return 0 ;; esac
  done
  fail "terminal: no line matching $1 within 30 s"
}

# The workload prints its terminal size at start and whenever it changes
# (trap first, then the first print: ctr's initial resize, sent right after
# Start, is seen one way or the other).
workload='trap "echo size=\$(stty size)" WINCH; echo tty=$(tty); echo size=$(stty size); sleep 1000 & while kill -0 $! 2>/dev/null; do wait $!; done'
tm send-keys -t e2e "ctr --address $CTRD_SOCK --namespace $NS run -t --rm --runtime $RUNTIME --rootfs $E2E/rootfs t-tty bash -c '$workload'; echo ctr-exit=\$?" Enter
line=$(pane_until 'tty=')
expect_in "workload has a terminal" "tty=/dev/pts/" "$line"
pane_until 'size=30 100' >/dev/null
tm resize-window -t e2e -x 120 -y 40
expect_eq "size after resize" "size=40 120" "$(pane_until 'size=')"

c task kill -s KILL t-tty
expect_eq "ctr exit" "ctr-exit=137" "$(pane_until 'ctr-exit=')"

# Typed input reaches the workload through the terminal, and its answer
# comes back; its exit code is ctr's.
tm send-keys -t e2e "ctr --address $CTRD_SOCK --namespace $NS run -t --rm --runtime $RUNTIME --rootfs $E2E/rootfs t-in sh -c 'echo ask; read x; echo got=\$x; exit 5'; echo ctr-exit=\$?" Enter
pane_until 'ask' >/dev/null
tm send-keys -t e2e "hello" Enter
expect_eq "input echoed back" "got=hello" "$(pane_until 'got=')"
expect_eq "ctr exit" "ctr-exit=5" "$(pane_until 'ctr-exit=')"
pass
