#!/bin/sh
# Entrypoint of the reaper node installer image (deploy/node-installer):
# installs reaper onto the node this pod runs on, or removes it, with the
# same packaging/install.sh an administrator would run by hand.
#
#   entrypoint.sh install | uninstall
#
# install:   copies the static binary and the scripts from the image to a
#            staging directory on the host, runs install.sh there in the
#            host's namespaces, removes the staging directory, labels the node.
# uninstall: removes the label first (no new reaper pods land here), then
#            runs uninstall.sh on the host the same way.
# Then it stays running until SIGTERM (a DaemonSet's pod must), blocked on
# a pipe nobody writes to.
#
# Environment:
#   NODE_NAME                  the node (from the downward API); labelled with kubectl
#   REAPER_NODE_LABEL          label KEY=VALUE (default reaper.runtime/installed=true); empty: none
#   REAPER_RESTART_CONTAINERD  true: restart containerd (systemctl) when it has not loaded the change
#   REAPER_INSTALL_ARGS        more arguments for install.sh / uninstall.sh, split on blanks
#                              (e.g. "--containerd-config /etc/containerd/config.toml")
#   REAPER_HOST_EXEC           how to reach the host: nsenter (default; needs hostPID and
#                              privileged), chroot (into REAPER_HOST_ROOT), or none (run here)
#   REAPER_HOST_ROOT           where the host's / is mounted (default /host)
#   REAPER_STAGING             staging directory, a host path (default /var/lib/reaper-installer)
#   REAPER_PAYLOAD             where the image keeps reaper and the scripts (default /opt/reaper)
#   REAPER_WAIT                false: exit when done instead of waiting for SIGTERM
#   REAPER_DONE_FILE           written once the work succeeded (the pod's readiness probe
#                              reads it; default /tmp/reaper-node-installer.done)
# POSIX sh: the image's shell is busybox's.
set -eu

action=${1:-install}
host_root=${REAPER_HOST_ROOT:-/host}
staging=${REAPER_STAGING:-/var/lib/reaper-installer}
payload=${REAPER_PAYLOAD:-/opt/reaper}
how=${REAPER_HOST_EXEC:-nsenter}
label=${REAPER_NODE_LABEL-reaper.runtime/installed=true}

say() { echo "reaper-node-installer: $*"; }
die() { echo "reaper-node-installer: error: $*" >&2; exit 1; }

case $action in install | uninstall) ;; *) die "usage: $0 install|uninstall (got \`$action\`)" ;; esac
case $how in nsenter | chroot | none) ;; *) die "REAPER_HOST_EXEC=$how: expected nsenter, chroot or none" ;; esac
case $staging in /*) ;; *) die "REAPER_STAGING=$staging: must be an absolute path" ;; esac
[ -d "$host_root" ] || die "REAPER_HOST_ROOT=$host_root: no such directory (mount the host's / there)"

# The staging directory as seen from here, and as the host sees it.
here_staging=${host_root%/}$staging
if [ "$how" = none ]; then host_staging=$here_staging; else host_staging=$staging; fi

on_host() {
  case $how in
    nsenter) nsenter -t 1 -m -u -i -n -p -- "$@" ;;  # short options: busybox and util-linux
    chroot) chroot "$host_root" "$@" ;;
    none) "$@" ;;
  esac
}

stage() {
  for f in reaper install.sh uninstall.sh; do
    [ -f "$payload/$f" ] || die "$payload/$f is missing from the image"
  done
  mkdir -p "$here_staging" || die "cannot create $here_staging"
  for f in reaper install.sh uninstall.sh; do
    if ! { cp "$payload/$f" "$here_staging/.$f.new" && chmod 0755 "$here_staging/.$f.new" &&
      mv -f "$here_staging/.$f.new" "$here_staging/$f"; }; then
      die "cannot copy $f to $here_staging"
    fi
  done
}

unstage() {
  rm -f "$here_staging/reaper" "$here_staging/install.sh" "$here_staging/uninstall.sh"
  rmdir "$here_staging" 2>/dev/null || true
}

run_script() {  # run_script install.sh|uninstall.sh: on the host, with the settings
  script=$1
  set --
  [ "$script" = install.sh ] && set -- --binary "$host_staging/reaper"
  [ "${REAPER_RESTART_CONTAINERD:-false}" = true ] && set -- "$@" --restart-containerd
  # shellcheck disable=SC2086 # split on purpose: a list of arguments
  set -- "$@" ${REAPER_INSTALL_ARGS:-}
  say "running $script on the host ($how): $*"
  if ! on_host bash "$host_staging/$script" "$@"; then
    unstage
    die "$script failed on node ${NODE_NAME:-?}; see the messages above"
  fi
}

node_label() {  # node_label set|remove
  if [ -z "$label" ]; then return 0; fi
  if [ -z "${NODE_NAME:-}" ]; then
    say "NODE_NAME is not set: not labelling the node"
    return 0
  fi
  command -v kubectl >/dev/null || die "kubectl is not in the image: cannot label node $NODE_NAME"
  if [ "$1" = set ]; then
    kubectl label node "$NODE_NAME" "$label" --overwrite || die "cannot label node $NODE_NAME with $label"
  else
    kubectl label node "$NODE_NAME" "${label%%=*}-" || die "cannot remove label ${label%%=*} from node $NODE_NAME"
  fi
}

hold() {
  : >"${REAPER_DONE_FILE:-/tmp/reaper-node-installer.done}"
  [ "${REAPER_WAIT:-true}" = false ] && exit 0
  fifo=$(mktemp -u /tmp/reaper-node-installer.XXXXXX)
  mkfifo "$fifo"
  exec 3<>"$fifo"
  rm -f "$fifo"
  cat <&3 &
  holder=$!
  trap 'kill "$holder" 2>/dev/null; say "stopping"; exit 0' TERM INT
  say "done; waiting for SIGTERM"
  wait "$holder"
}

if [ "$action" = install ]; then
  stage
  run_script install.sh
  unstage
  node_label set
  say "reaper is installed on node ${NODE_NAME:-?}"
else
  node_label remove
  stage
  run_script uninstall.sh
  unstage
  say "reaper is removed from node ${NODE_NAME:-?}"
fi
hold
