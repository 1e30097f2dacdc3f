#!/usr/bin/env bash
# Pod network through containerd: with REAPER_NETWORK=pod in the node
# config, a pod shaped as CRI makes it (the sandbox's spec names the pod's
# namespace, the app container's names the sandbox's pause process,
# /proc/1/ns/net for reaper's simulated sandbox) runs its app container and
# its exec processes in the pod's namespace; so does `ctr run --with-ns
# network:<path>`; a spec whose network entry has no path is refused with
# the reason; the reaper.runtime/network=host annotation keeps a container
# on the host's network.
source "$(dirname "$0")/lib.sh"
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) not installed"; exit 77; }

NETNS="reaper-e2e-net-$$-$RANDOM"
# A veth pair: one end only the pod's namespace has, one only the host's.
POD_IF="rpe$$p"
HOST_IF="rpe$$h"
net_cleanup() {
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NETNS" 2>/dev/null || true
}
# Ours first, keeping the exit status for e2e_cleanup (which exits with it);
# without errexit, or a failing status would end the trap before it.
net_exit() {
  local rc=$?
  set +e
  net_cleanup
  (exit "$rc")
  e2e_cleanup
}
trap net_exit EXIT
ip netns add "$NETNS"
ip link add "$HOST_IF" type veth peer name "$POD_IF" netns "$NETNS"

echo "REAPER_NETWORK=pod" >"$REAPER_CONFIG"
start_containerd

IFACES='tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " "'
pod=(--annotation=io.kubernetes.cri.sandbox-id=net-pod --annotation=io.kubernetes.cri.sandbox-namespace=e2e-net)
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=sandbox \
  --with-ns="network:/var/run/netns/$NETNS" net-pod /pause >/dev/null
crun -d "${pod[@]}" --annotation=io.kubernetes.cri.container-type=container \
  --with-ns=network:/proc/1/ns/net net-app /bin/sleep 1000 >/dev/null
pid=$(c task ls | awk '$1 == "net-app" {print $2}')
[ "$(readlink "/proc/$pid/ns/net")" = "$(ip netns exec "$NETNS" readlink /proc/self/ns/net)" ] ||
  fail "the app container is not in the pod's network namespace"
out=$(c task exec --exec-id e1 net-app /bin/sh -c "$IFACES")
expect_eq "exec: interfaces in the pod network" "lo $POD_IF " "$out"
out=$(c task exec --exec-id e2 --user 65534 net-app /bin/sh -c "$IFACES")
expect_eq "unprivileged exec: interfaces" "lo $POD_IF " "$out"
c task delete --force net-app >/dev/null
c containers delete net-app
c task delete --force net-pod >/dev/null
c containers delete net-pod

out=$(crun --rm --with-ns="network:/var/run/netns/$NETNS" net-run /bin/sh -c "$IFACES")
expect_eq "run: interfaces in the pod network" "lo $POD_IF " "$out"

# ctr's default spec asks for a new network namespace (no path): refused,
# naming the reason, and no state is left.
err=$(crun --rm net-nopath /bin/true 2>&1) && fail "pod network without a path accepted"
expect_in "no path" "network mode \`pod\` (REAPER_NETWORK) needs the pod's network namespace" "$err"
[ ! -e "$REAPER_RUNTIME_ROOT/net-nopath" ] || fail "state of the refused container left behind"

out=$(crun --rm --annotation=reaper.runtime/network=host net-host /bin/sh -c "$IFACES")
expect_in "network=host: host interfaces" " $HOST_IF " " $out"
case " $out" in *" $POD_IF "*) fail "network=host sees the pod's interface: $out" ;; esac
pass
