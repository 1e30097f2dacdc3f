#!/usr/bin/env bash
# Pod network (reaper.runtime/network: pod, REAPER_NETWORK=pod): the workload
# and its exec processes join the network namespace named in the spec's
# linux.namespaces and see only its interfaces; a server inside is reachable
# from the host through a veth pair. A missing path, a file that is no
# network namespace, pod mode without a path and an unknown mode are refused
# at create and leave no state. Without the annotation the host's network
# is used, as before.
source "$(dirname "$0")/../lib.sh"
command -v ip >/dev/null || { echo "SKIP: ip (iproute2) not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

# Names unique to this run (interface names: at most 15 characters).
NETNS="reaper-it-net-$$-$RANDOM"
VETH_HOST="rpn$$h"
VETH_POD="rpn$$p"
net_cleanup() {
  ip link del "$VETH_HOST" 2>/dev/null
  ip netns del "$NETNS" 2>/dev/null
}
# shellcheck disable=SC2034  # run by lib.sh's cleanup, after the containers are gone
EXTRA_CLEANUP=net_cleanup

# A /30 from 10.x that no interface of the host uses yet.
subnet=""
for _ in 1 2 3 4 5 6 7 8; do
  candidate="10.$((200 + RANDOM % 50)).$((RANDOM % 256))"
  ip -o -4 addr show | grep -q " $candidate\." || { subnet=$candidate; break; }
done
[ -n "$subnet" ] || fail "no free 10.x subnet for the veth pair"
HOST_IP="$subnet.1"
POD_IP="$subnet.2"
PORT=7077

ip netns add "$NETNS"
ip link add "$VETH_HOST" type veth peer name "$VETH_POD" netns "$NETNS"
ip addr add "$HOST_IP/30" dev "$VETH_HOST"
ip link set "$VETH_HOST" up
ip -n "$NETNS" addr add "$POD_IP/30" dev "$VETH_POD"
ip -n "$NETNS" link set "$VETH_POD" up
ip -n "$NETNS" link set lo up
NETNS_PATH="/var/run/netns/$NETNS"  # as CRI names it (/var/run -> /run)

# net_bundle DIR MODE NETNS-PATH ARG...: a bundle whose annotation
# reaper.runtime/network is MODE and whose linux.namespaces has a network
# entry with NETNS-PATH (either left out when empty). ANNOTATE="k=v ..."
# adds annotations.
net_bundle() {
  local dir=$1 mode=$2 path=$3
  shift 3
  make_bundle "$dir" "$@"
  python3 - "$dir/config.json" "$mode" "$path" "${ANNOTATE:-}" <<'PY'
import json, sys
file, mode, path, extra = sys.argv[1:5]
with open(file) as f:
    config = json.load(f)
if mode:
    config["annotations"]["reaper.runtime/network"] = mode
for pair in extra.split():
    key, value = pair.split("=", 1)
    config["annotations"][key] = value
namespaces = [{"type": "mount"}]
if path:
    namespaces.append({"type": "network", "path": path})
config["linux"] = {"namespaces": namespaces}
with open(file, "w") as f:
    json.dump(config, f)
PY
}

# The interface names in /proc/net/dev (per network namespace), sorted, one line.
IFACES='tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " "'

# --- the workload sees only the pod's interfaces -------------------------------
net_bundle "$WORK/list" pod "$NETNS_PATH" /bin/sh -c "$IFACES"
out=$("$RT" run --bundle "$WORK/list" c-list)
expect_eq "$out" "lo $VETH_POD " "interfaces in the pod network"

# --- a server inside is reachable from the host --------------------------------
# (The view's lower layer is the host's /, so the workload reads the script.)
cat >"$WORK/server.py" <<PY
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", $PORT))
s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"pong from the pod network\n")
    c.close()
PY
net_bundle "$WORK/srv" pod "$NETNS_PATH" /usr/bin/python3 "$WORK/server.py"
mkfifo "$WORK/srv.out"
exec {srv_out}<>"$WORK/srv.out"
: >"$WORK/srv.err"
"$RT" create --bundle "$WORK/srv" --stdin "" --stdout "$WORK/srv.out" --stderr "$WORK/srv.err" srv
grep -Eq "\"netns\": ?\"$NETNS_PATH\"" "$STATE/srv/state.json" ||
  fail "state.json does not record the network namespace: $(cat "$STATE/srv/state.json")"
"$RT" state srv | grep -Eq "\"netns\": ?\"$NETNS_PATH\"" ||
  fail "\`state\` does not show the network namespace: $("$RT" state srv)"
"$RT" start srv
read -r -t 30 -u "$srv_out" line || fail "the server did not report ready: $(cat "$WORK/srv.err")"
expect_eq "$line" ready "server readiness"
exec {conn}<>"/dev/tcp/$POD_IP/$PORT"
read -r -t 10 -u "$conn" reply || fail "no reply from $POD_IP:$PORT"
exec {conn}<&-
expect_eq "$reply" "pong from the pod network" "reply through the veth pair"
# The server listens in the pod's namespace, not the host's.
if ss -Hltn "sport = :$PORT" | grep -q .; then fail "port $PORT is open in the host's network"; fi

# --- exec processes join the same namespace ------------------------------------
out=$("$RT" exec srv -- /bin/sh -c "$IFACES")
expect_eq "$out" "lo $VETH_POD " "interfaces seen by an exec"
out=$("$RT" exec srv -- /bin/bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && read -r l <&3 && echo \"\$l\"")
expect_eq "$out" "pong from the pod network" "exec reaches the server on the pod's loopback"
# As another user too: the namespace is joined before the identity is applied.
out=$("$RT" exec --user 65534:65534 srv -- /bin/sh -c "$IFACES")
expect_eq "$out" "lo $VETH_POD " "interfaces seen by an unprivileged exec"
"$RT" kill srv KILL
"$RT" delete --force srv
exec {srv_out}<&-

# --- CRI's shape: an app container names its sandbox's pause process ----------
# (/proc/<sandbox pid>/ns/net: pid 1 for reaper's simulated sandbox, the
# host's namespace). The pod's own comes from the sandbox's spec, recorded.
ANNOTATE="io.kubernetes.cri.container-type=sandbox io.kubernetes.cri.sandbox-id=sb1" \
  net_bundle "$WORK/sb1" "" "$NETNS_PATH" /pause
"$RT" create --bundle "$WORK/sb1" sb1
ANNOTATE="io.kubernetes.cri.container-type=container io.kubernetes.cri.sandbox-id=sb1" \
  net_bundle "$WORK/app1" pod /proc/1/ns/net /bin/sh -c "$IFACES"
out=$("$RT" run --bundle "$WORK/app1" c-app1)
expect_eq "$out" "lo $VETH_POD " "interfaces of a pod's app container (CRI's shape)"
# A sandbox whose spec named no network namespace (a hostNetwork pod).
ANNOTATE="io.kubernetes.cri.container-type=sandbox io.kubernetes.cri.sandbox-id=sb2" \
  net_bundle "$WORK/sb2" "" "" /pause
"$RT" create --bundle "$WORK/sb2" sb2
ANNOTATE="io.kubernetes.cri.container-type=container io.kubernetes.cri.sandbox-id=sb2" \
  net_bundle "$WORK/app2" pod /proc/1/ns/net /bin/true
rc=0; "$RT" create --bundle "$WORK/app2" c-app2 2>"$WORK/err" || rc=$?
[ "$rc" -ne 0 ] || fail "pod network through a sandbox without one was accepted"
# shellcheck disable=SC2016  # backticks are part of the message
grep -qF 'names the network namespace of pod sandbox `sb2` (/proc/1/ns/net), which has none' "$WORK/err" ||
  fail "unclear error for a sandbox without a network namespace: $(cat "$WORK/err")"
[ ! -e "$STATE/c-app2" ] || fail "c-app2: state directory left behind"
"$RT" delete --force sb1
"$RT" delete --force sb2

# --- the host's network without the annotation (even with a spec path) --------
net_bundle "$WORK/host" "" "$NETNS_PATH" /bin/sh -c "$IFACES"
out=$("$RT" run --bundle "$WORK/host" c-host)
case " $out" in *" $VETH_HOST "*) ;; *) fail "default: host interfaces not seen: $out" ;; esac
case " $out" in *" $VETH_POD "*) fail "default: the pod's interface is seen: $out" ;; esac
net_bundle "$WORK/host2" host "$NETNS_PATH" /bin/sh -c "$IFACES"
out=$("$RT" run --bundle "$WORK/host2" c-host2)
case " $out" in *" $VETH_HOST "*) ;; *) fail "network=host: host interfaces not seen: $out" ;; esac

# --- the node's default: REAPER_NETWORK=pod, the annotation can say host -------
echo "REAPER_NETWORK=pod" >"$REAPER_CONFIG"
net_bundle "$WORK/node" "" "$NETNS_PATH" /bin/sh -c "$IFACES"
out=$("$RT" run --bundle "$WORK/node" c-node)
expect_eq "$out" "lo $VETH_POD " "interfaces with REAPER_NETWORK=pod"
out=$("$RT" run --bundle "$WORK/host2" c-node-host)
case " $out" in *" $VETH_HOST "*) ;; *) fail "REAPER_NETWORK=pod, annotation host: $out" ;; esac
printf '# node\nREAPER_NETWORK=bridge\n' >"$REAPER_CONFIG"
rc=0; "$RT" run --bundle "$WORK/node" c-badconf 2>"$WORK/err" || rc=$?
[ "$rc" -ne 0 ] || fail "an invalid REAPER_NETWORK was accepted"
grep -qF "$REAPER_CONFIG:2: REAPER_NETWORK: \`bridge\` is not a network mode (host|pod)" "$WORK/err" ||
  fail "unclear config error: $(cat "$WORK/err")"
: >"$REAPER_CONFIG"

# --- refused at create, nothing left behind ------------------------------------
# refused ID EXPECTED-TEXT: create of bundle $WORK/bad fails naming EXPECTED-TEXT,
# and no state directory of ID remains.
refused() {
  local id=$1 text=$2 rc=0
  "$RT" create --bundle "$WORK/bad" "$id" 2>"$WORK/err" || rc=$?
  [ "$rc" -ne 0 ] || fail "$id: create succeeded"
  grep -qF -- "$text" "$WORK/err" || fail "$id: error does not say \`$text\`: $(cat "$WORK/err")"
  [ ! -e "$STATE/$id" ] || fail "$id: state directory left behind: $(ls -la "$STATE/$id")"
}
net_bundle "$WORK/bad" pod "/var/run/netns/$NETNS-missing" /bin/true
refused c-missing "pod network: network namespace \`/var/run/netns/$NETNS-missing\`: No such file or directory"
: >"$WORK/plain-file"
net_bundle "$WORK/bad" pod "$WORK/plain-file" /bin/true
refused c-file "network namespace \`$WORK/plain-file\`: not a namespace file"
net_bundle "$WORK/bad" pod /proc/self/ns/mnt /bin/true
refused c-mntns "network namespace \`/proc/self/ns/mnt\`: is a mount namespace, not a network namespace"
net_bundle "$WORK/bad" pod "" /bin/true
refused c-nopath "network mode \`pod\` (annotation reaper.runtime/network) needs the pod's network namespace"
# (This shell's: the host's network namespace, as /proc/1/ns/net would be.)
net_bundle "$WORK/bad" pod "/proc/$$/ns/net" /bin/true
refused c-hostns "network namespace \`/proc/$$/ns/net\`: is the one reaper runs in (the host's), not a pod's"
net_bundle "$WORK/bad" bridge "$NETNS_PATH" /bin/true
refused c-unknown "annotation reaper.runtime/network: \`bridge\` is not a network mode (host|pod)"
pass
