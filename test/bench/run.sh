#!/usr/bin/env bash
# reaper side by side with runc and crun (issue 7). As root:
#
#   test/bench/run.sh [--rounds N] [--quick] [--only 1,2,...] [--out FILE]
#
# Measures (each runs reaper, runc and crun alternately in the same run and
# reports medians and reaper/peer ratios; docs/performance.md explains them):
#   1  OCI CLI lifecycle of /bin/true: `run` (create+start+wait+delete)
#   2  `ctr run --rm --rootfs DIR ID /bin/true` through a private containerd
#   3  memory per running container: shims (+ reaper's monitors), smaps_rollup
#   4  start throughput: 200 `ctr run -d` started 8 at a time
#   5  log throughput: 1 GiB on stdout read through containerd's FIFO by ctr
#   6  exit -> Wait latency (the /tasks/exit event, and ctr's return)
#   7  binary size and cold start of `--version`
#
# Options:
#   --rounds N   rounds of the timing loops (measures 1, 2 and 6; 1 runs 2N,
#                7 runs 5N); default 20
#   --heavy N    rounds of measures 4 and 5; default 3
#   --quick      few rounds and smaller sizes, for development: rounds 3,
#                heavy 1, 40 containers instead of 200/100, 256 MiB of logs
#   --only LIST  the measures to run, e.g. `1,2,7`
#   --out FILE   where the Markdown report goes (also printed); default
#                $REAPER_BENCH_OUT or /tmp/reaper-bench-<time>.md, with the
#                raw samples next to it (FILE.jsonl)
#
# Environment: REAPER_BIN (the directory of the reaper binary and its
# personality links; default build-bench/src, else build/src), REAPER_MUSL
# (the musl release binary: measure 7, and extra rows in 1 and 2; default
# build-musl/src/reaper or build-ci/musl/src/reaper, else built with
# packaging/musl/build.sh into /tmp/bench-musl; one found in the tree gets
# the rows in 1 and 2 only if built from REAPER_BIN's commit; the report
# shows the commit of each binary). CPU figures need `perf`
# (linux-perf) for measure 1 and 7; without it they are left out.
#
# What it sets up: it re-runs itself in a private mount namespace (unshare),
# so that nothing it mounts is seen outside or outlives it, and mounts a
# tmpfs on its temp dir under /run (a node's /run is a tmpfs; on a machine
# whose /run is a disk filesystem the state files of all three runtimes
# would otherwise go to disk). Below that dir: a private containerd
# (test/e2e/lib.sh: its own socket, root, state; never the system's), the
# state roots of reaper, runc and crun, a minimal rootfs for runc and crun
# (copies of true, sleep, sh, dd, date, cat and the libraries they load;
# reaper runs the host's binaries and shows the rootfs read-only at
# $REAPER_IMAGE_ROOT, as it does an image), OCI bundles from
# `runc spec`. crun 1.8 refuses a hybrid cgroup layout whose cgroup2
# hierarchy has a controller (this project's machine): then the cgroup2
# mount at /sys/fs/cgroup/unified is unmounted in that namespace, and all
# three runtimes see the same legacy (v1) layout. Only processes this
# script started are ever stopped, by PID.
#
# This is a benchmark, not a test: it asserts nothing about timings and
# fails only when a runtime fails to run the workloads.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

rounds=20 heavy=3 quick=0 only="1,2,3,4,5,6,7" out=${REAPER_BENCH_OUT:-}
rounds_set=0 heavy_set=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; rounds_set=1; shift 2 ;;
    --rounds=*) rounds=${1#*=}; rounds_set=1; shift ;;
    --heavy) heavy=$2; heavy_set=1; shift 2 ;;
    --heavy=*) heavy=${1#*=}; heavy_set=1; shift ;;
    --quick) quick=1; shift ;;
    --only) only=$2; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument \`$1\` (--help)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ && $heavy =~ ^[1-9][0-9]*$ ]] ||
  { echo "run.sh: --rounds and --heavy take a positive number" >&2; exit 2; }
n_start=200 n_mem=100 log_mib=1024
if [ "$quick" = 1 ]; then
  [ "$rounds_set" = 1 ] || rounds=3
  [ "$heavy_set" = 1 ] || heavy=1
  n_start=40 n_mem=40 log_mib=256
fi
want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }

[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (containers, mounts)" >&2; exit 2; }
for tool in runc crun containerd ctr python3 unshare; do
  type -P "$tool" >/dev/null || { echo "run.sh: $tool is not installed (packaging/deps.sh)" >&2; exit 2; }
done

# Into a private mount namespace (see the header).
if [ -z "${REAPER_BENCH_IN_NS:-}" ]; then
  again=(--rounds "$rounds" --heavy "$heavy" --only "$only")
  [ -z "$out" ] || again+=(--out "$out")
  [ "$quick" = 0 ] || again+=(--quick)
  exec unshare --mount --propagation private env REAPER_BENCH_IN_NS=1 \
    bash "${BASH_SOURCE[0]}" "${again[@]}"
fi
# crun 1.8 refuses a hybrid layout (cgroup v1 on a tmpfs, plus cgroup2 at
# unified) whose cgroup2 has controllers: without that mount, it is v1 only.
hybrid_dropped=0
if [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
  [ -n "$(tr -d ' \n' </sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
  umount /sys/fs/cgroup/unified
  hybrid_dropped=1
fi

if [ -z "${REAPER_BIN:-}" ]; then
  for d in "$top/build-bench/src" "$top/build/src"; do
    [ -x "$d/reaper" ] && { REAPER_BIN=$d; break; }
  done
fi
if [ -z "${REAPER_BIN:-}" ] || [ ! -x "$REAPER_BIN/reaper" ]; then
  echo "run.sh: no reaper binary: build one (meson setup build-bench -Dstatic=true --buildtype=release && ninja -C build-bench src/reaper src/reaper-runtime src/containerd-shim-reaper-v2) or set REAPER_BIN" >&2
  exit 2
fi
REAPER_BIN=$(cd "$REAPER_BIN" && pwd)
export REAPER_BIN
# The musl release build (measure 7, and extra rows in measures 1 and 2).
# A build found in the tree gets the extra rows only if it was built from
# the same commit as REAPER_BIN (an old one may lack whole features).
commit_of() { "$1" --version 2>/dev/null | sed -n 's/^commit: //p'; }
musl=${REAPER_MUSL:-}
# Absolute: measure 2 links the shim's name to it.
[ -z "$musl" ] || musl=$(realpath "$musl")
musl_rows=1
if [ -z "$musl" ]; then
  for f in "$top/build-musl/src/reaper" "$top/build-ci/musl/src/reaper"; do
    [ -x "$f" ] && { musl=$f; break; }
  done
  if [ -n "$musl" ] && [ "$(commit_of "$musl")" != "$(commit_of "$REAPER_BIN/reaper")" ]; then
    echo "run.sh: $musl is from another commit than $REAPER_BIN/reaper: no musl rows in measures 1 and 2 (set REAPER_MUSL to force)" >&2
    musl_rows=0
  fi
fi
RUNC=$(type -P runc)
CRUN=$(type -P crun)   # test/e2e/lib.sh defines a function named crun
CTR=$(type -P ctr)

# The private containerd, its cleanup, `c`: test/e2e/lib.sh.
# shellcheck disable=SC2034  # read by lib.sh
TEST_NAME=bench
CTRD_LOG_LEVEL=${CTRD_LOG_LEVEL:-info}
# shellcheck source=SCRIPTDIR/../e2e/lib.sh
source "$top/test/e2e/lib.sh"
NS=bench
mount -t tmpfs -o mode=0700 reaper-bench "$E2E"
: >"$REAPER_CONFIG"
W=$E2E/bench
mkdir -p "$W/tmp"
export TMPDIR=$W/tmp  # bench.py's scratch files go with the rest
stamp=$(date +%Y%m%d-%H%M%S)
out=${out:-/tmp/reaper-bench-$stamp.md}
results=$out.jsonl
: >"$results"
py() { python3 "$here/bench.py" "$@"; }
say() { printf '\n== %s ==\n' "$*" >&2; }

# runc and crun containers made by measure 1 go with their state dirs;
# then lib.sh's cleanup (containerd, shims, reaper's state, mounts).
bench_cleanup() {
  set +e
  local rt id
  for rt in "$RUNC" "$CRUN"; do
    for id in $("$rt" --root "$W/state-$(basename "$rt")" list -q 2>/dev/null); do
      "$rt" --root "$W/state-$(basename "$rt")" delete -f "$id" >/dev/null 2>&1
    done
  done
  rmdir /sys/fs/cgroup/*/reaper-bench-cli /sys/fs/cgroup/*/reaper-bench-floor 2>/dev/null
  [ -f "$results" ] && [ ! -s "$results" ] && rm -f "$results"
}
# shellcheck disable=SC2154  # bench_rc is assigned in the trap
trap 'bench_rc=$?; bench_cleanup; (exit $bench_rc); e2e_cleanup' EXIT

# --- the machine and the versions ---------------------------------------------

machine() {
  local model cores mem
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  cores=$(nproc)
  mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
  echo "- machine: $model, $cores CPUs, $mem, kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "- cgroups: $(stat -f -c %T /sys/fs/cgroup)$([ "$hybrid_dropped" = 1 ] && echo ' (hybrid; v1 only in the benchmark'"'"'s mount namespace: crun 1.8 refuses this hybrid layout)')"
  echo "- reaper: $("$REAPER_BIN/reaper" --version | head -2 | tr '\n' ' ')($REAPER_BIN/reaper, $(file -b "$REAPER_BIN/reaper" | cut -d, -f1,5 | tr -s ' '))"
  [ -z "$musl" ] || echo "- reaper, musl build: $("$musl" --version | head -2 | tr '\n' ' ')($musl)"
  echo "- runc: $("$RUNC" --version | head -1)"
  echo "- crun: $("$CRUN" --version | head -1)"
  echo "- containerd: $(containerd --version)"
  echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- options: rounds $rounds, heavy $heavy$([ "$quick" = 1 ] && echo ', --quick')"
}
header=$(machine)
echo "$header" >&2

# --- fixtures -------------------------------------------------------------------

# A minimal rootfs for runc and crun: copies of the binaries the workloads
# use and the libraries they load (ldd).
ROOTFS=$W/rootfs
mkdir -p "$ROOTFS/bin"
for b in true sleep sh dd date cat; do
  p=$(readlink -f "$(type -P "$b")")
  cp "$p" "$ROOTFS/bin/$b"
  for l in $(ldd "$p" 2>/dev/null | grep -o '/[^ ]*'); do
    mkdir -p "$ROOTFS$(dirname "$l")"
    [ -e "$ROOTFS$l" ] || cp "$(readlink -f "$l")" "$ROOTFS$l"
  done
done
# runc's default spec (namespaces, mounts, masked paths, capabilities), less
# its ambient capabilities: reaper refuses to raise an ambient capability
# that is not inheritable (EPERM) where runc and crun skip it, and `runc
# spec` lists three with no inheritable set; containerd's specs have none.
# bundle DIR CGROUPS_PATH ARG...
bundle() {
  local dir=$1 cgpath=$2; shift 2
  mkdir -p "$dir"
  (cd "$dir" && rm -f config.json && "$RUNC" spec)
  python3 - "$dir/config.json" "$ROOTFS" "$cgpath" "$@" <<'PY'
import json, sys
path, rootfs, cgpath, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
c = json.load(open(path))
c["process"]["args"] = args
c["process"]["terminal"] = False
c["process"]["capabilities"].pop("ambient", None)
c["root"] = {"path": rootfs, "readonly": True}
c["annotations"] = {"io.kubernetes.cri.sandbox-namespace": "bench-cli"}
if cgpath:
    c["linux"]["cgroupsPath"] = cgpath
else:
    c["linux"].pop("cgroupsPath", None)
json.dump(c, open(path, "w"), indent=2)
PY
}

# containerd under bench.py's subreaper: the CPU of the shims (which
# daemonize and would be reaped by init) is summed up as they exit.
CTRD_WRAPPER="python3 $here/bench.py subreaper --cpu-file $E2E/reaped-cpu --"
cpu_args=()
ctrd_up=0
containerd_up() {
  [ "$ctrd_up" = 1 ] && return 0
  start_containerd
  ctrd_up=1
  cpu_args=(--cpu-wrapper "$CTRD_PID" --cpu-file "$E2E/reaped-cpu")
}

CTRC="$CTR --address $CTRD_SOCK --namespace $NS"
RT_REAPER="--runtime io.containerd.reaper.v2"
RT_RUNC="--runtime io.containerd.runc.v2"
RT_CRUN="--runtime io.containerd.runc.v2 --runc-binary $CRUN"

# teardown PREFIX N: removes the tasks and containers PREFIX0..N-1 (8 at a time).
teardown() {
  py par --n "$2" --jobs 8 \
    "teardown=sh -c '$CTRC task delete -f $1{i} >/dev/null 2>&1; $CTRC containers delete $1{i}'" \
    2>/dev/null
}

# --- 1: OCI CLI lifecycle -------------------------------------------------------

if want 1; then
  say "1. OCI CLI: run /bin/true (create+start+wait+delete)"
  bundle "$W/cli" /reaper-bench-cli /bin/true
  bundle "$W/cli-nocg" "" /bin/true
  mkdir -p "$W/state-runc" "$W/state-crun"
  musl_case=()
  if [ -n "$musl" ] && [ "$musl_rows" = 1 ] && ! cmp -s "$musl" "$REAPER_BIN/reaper"; then
    musl_case=("(reaper, musl build)=$musl reaper-runtime --root $REAPER_RUNTIME_ROOT run --bundle $W/cli cli-m{i}")
  fi
  # The floor (test/bench/floor.cc): the kernel work of a reaper `run`
  # without reaper, in reaper's own overlay view of the bundle's group,
  # which the first `run` makes.
  # Built with musl when its toolchain is here (packaging/musl/build.sh): a
  # static glibc binary pays glibc's start-up (CPUID, which a VM traps) in
  # each of its two execs, which the musl reaper does not.
  zigcxx=${REAPER_BUILD_CACHE:-/var/cache/reaper-build}/toolchain/bin/zig-c++
  if [ -x "$zigcxx" ]; then
    floor_libc=musl
    "$zigcxx" -O2 -static -std=c++20 -o "$W/bench-floor" "$here/floor.cc"
  else
    floor_libc=glibc
    c++ -O2 -static -std=c++20 -o "$W/bench-floor" "$here/floor.cc"
  fi
  "$REAPER_BIN/reaper-runtime" --root "$REAPER_RUNTIME_ROOT" run --bundle "$W/cli" cli-first
  # The view's namespace is bound on <root>/ns/<group>; where the kernel
  # refuses that bind (nested namespaces) an anchor process holds it.
  view=$REAPER_RUNTIME_ROOT/ns/bench-cli
  [ -e "$view" ] || view=/proc/$(cut -d' ' -f1 "$REAPER_RUNTIME_ROOT/ns/.anchors/bench-cli")/ns/mnt
  floor="$W/bench-floor --state $W/floor-state --cgroup /reaper-bench-floor"
  floor+=" --mntns $view --image $ROOTFS"
  floor+=" --image-at $REAPER_RUNTIME_ROOT/image/bench-floor -- /bin/true"
  py time --results "$results" --measure "1. OCI CLI lifecycle: run /bin/true" \
    --rounds $((2 * rounds)) --warmup 2 --progress \
    --cpu-rounds "$rounds" --cpu-perf \
    "reaper=$REAPER_BIN/reaper-runtime --root $REAPER_RUNTIME_ROOT run --bundle $W/cli cli-r{i}" \
    "runc=$RUNC --root $W/state-runc run --bundle $W/cli cli-u{i}" \
    "crun=$CRUN --root $W/state-crun run --bundle $W/cli cli-c{i}" \
    "(reaper, no cgroupsPath)=$REAPER_BIN/reaper-runtime --root $REAPER_RUNTIME_ROOT run --bundle $W/cli-nocg cli-n{i}" \
    ${musl_case[@]+"${musl_case[@]}"} \
    "(floor: the kernel work alone, floor.cc, $floor_libc)=$floor" \
    "(host /bin/true, no runtime)=/bin/true"
fi

# --- 2: ctr run --rm ------------------------------------------------------------

if want 2; then
  say "2. ctr run --rm /bin/true through a private containerd"
  containerd_up
  musl_case=()
  if [ -n "$musl" ] && [ "$musl_rows" = 1 ] && ! cmp -s "$musl" "$REAPER_BIN/reaper"; then
    # containerd takes an absolute path as the runtime: the shim binary itself.
    mkdir -p "$W/musl"
    ln -sf "$musl" "$W/musl/containerd-shim-reaper-v2"
    musl_case=("(reaper, musl build)=$CTRC run --rm --runtime $W/musl/containerd-shim-reaper-v2 --rootfs $ROOTFS cr{i} /bin/true")
  fi
  py time --results "$results" --measure "2. containerd: ctr run --rm /bin/true" \
    --rounds "$rounds" --warmup 1 --progress \
    --cpu-rounds "$rounds" "${cpu_args[@]}" \
    "reaper=$CTRC run --rm $RT_REAPER --rootfs $ROOTFS cr{i} /bin/true" \
    "runc=$CTRC run --rm $RT_RUNC --rootfs $ROOTFS cr{i} /bin/true" \
    "crun=$CTRC run --rm $RT_CRUN --rootfs $ROOTFS cr{i} /bin/true" \
    ${musl_case[@]+"${musl_case[@]}"} \
    "(ctr alone: containers ls)=$CTRC containers ls -q"
fi

# --- 3: memory per running container ---------------------------------------------

if want 3; then
  say "3. memory: $n_mem sleep containers per runtime"
  containerd_up
  for rt in reaper runc; do
    case $rt in reaper) rtflags=$RT_REAPER ;; runc) rtflags=$RT_RUNC ;; esac
    cmd="$CTRC run -d $rtflags --rootfs $ROOTFS mem-$rt{i} /bin/sleep 3600"
    py par --n "$n_mem" --jobs 8 "$rt=$cmd" 2>/dev/null
    sleep 2  # let the shims settle (lazy allocations after start)
    anchors=()
    if [ "$rt" = reaper ]; then
      for f in "$REAPER_RUNTIME_ROOT"/ns/.anchors/*; do [ -f "$f" ] && anchors+=(--anchor-file "$f"); done
    fi
    py mem --results "$results" --measure "3. memory per running container ($n_mem containers)" \
      --name "$rt" --containers "$n_mem" --exclude sleep --command "$cmd  (x$n_mem, 8 at a time)" \
      --address "$CTRD_SOCK" ${anchors[@]+"${anchors[@]}"}
    teardown "mem-$rt" "$n_mem"
  done
fi

# --- 4: start throughput ------------------------------------------------------------

if want 4; then
  say "4. start throughput: $n_start containers, 8 at a time"
  containerd_up
  for _ in $(seq "$heavy"); do
    for rt in reaper runc crun; do
      case $rt in reaper) rtflags=$RT_REAPER ;; runc) rtflags=$RT_RUNC ;; crun) rtflags=$RT_CRUN ;; esac
      py par --results "$results" --measure "4. start throughput ($n_start x ctr run -d, 8 at a time)" \
        --n "$n_start" --jobs 8 "$rt=$CTRC run -d $rtflags --rootfs $ROOTFS tp-$rt{i} /bin/sleep 3600"
      teardown "tp-$rt" "$n_start"
    done
  done
fi

# --- 5: log throughput ----------------------------------------------------------------

if want 5; then
  say "5. log throughput: $log_mib MiB on stdout through containerd's FIFO"
  containerd_up
  count=$((log_mib * 16))  # 64 KiB blocks
  dd_cmd="/bin/dd if=/dev/zero bs=64k count=$count"
  py logs --results "$results" --measure "5. log throughput ($log_mib MiB to stdout, ctr's stdout on /dev/null)" \
    --rounds "$heavy" "${cpu_args[@]}" \
    "reaper=$CTRC run --rm $RT_REAPER --rootfs $ROOTFS lg{i} $dd_cmd" \
    "runc=$CTRC run --rm $RT_RUNC --rootfs $ROOTFS lg{i} $dd_cmd" \
    "crun=$CTRC run --rm $RT_CRUN --rootfs $ROOTFS lg{i} $dd_cmd" \
    "(host: dd to a pipe, cat to /dev/null)=sh -c '$dd_cmd | cat'"
fi

# --- 6: exit -> Wait ----------------------------------------------------------------------

if want 6; then
  say "6. exit -> Wait latency"
  containerd_up
  py exitlat --results "$results" --measure "6. exit to Wait: workload exit -> /tasks/exit event received (ms)" \
    --rounds "$rounds" --warmup 1 \
    --events "$CTR --address $CTRD_SOCK events" \
    --marker "$CTR --address $CTRD_SOCK namespaces create bench-marker-{i}" \
    --id-template "el{i}" \
    "reaper=$CTRC run --rm $RT_REAPER --rootfs $ROOTFS el{i} /bin/date +%s%N" \
    "runc=$CTRC run --rm $RT_RUNC --rootfs $ROOTFS el{i} /bin/date +%s%N" \
    "crun=$CTRC run --rm $RT_CRUN --rootfs $ROOTFS el{i} /bin/date +%s%N"
fi

# --- 7: binary size and cold start ------------------------------------------------------------

if want 7; then
  say "7. binary size and cold start of --version"
  if [ -z "$musl" ]; then
    echo "run.sh: no musl build: packaging/musl/build.sh /tmp/bench-musl" >&2
    nice "$top/packaging/musl/build.sh" /tmp/bench-musl >&2
    musl=/tmp/bench-musl/src/reaper
  fi
  m="7a. binary size (bytes)"
  py note --results "$results" --measure "$m" --name "reaper (musl static, stripped)" \
    --unit bytes --command "stat -c %s $musl" "$(stat -c %s "$musl")"
  strip -o "$W/reaper.stripped" "$REAPER_BIN/reaper"
  py note --results "$results" --measure "$m" --name "(reaper, glibc static, stripped copy)" \
    --unit bytes --command "strip -o X $REAPER_BIN/reaper; stat -c %s X" "$(stat -c %s "$W/reaper.stripped")"
  py note --results "$results" --measure "$m" --name "runc" --unit bytes \
    --command "stat -c %s $RUNC" "$(stat -c %s "$RUNC")"
  mapfile -t crun_libs < <(ldd "$CRUN" | grep -o '/[^ ]*' | grep -v -e libc.so -e ld-linux)
  crun_total=$(stat -L -c %s "$CRUN" "${crun_libs[@]}" | awk '{s+=$1} END {print s}')
  py note --results "$results" --measure "$m" --name "crun (+ its shared libraries but libc)" \
    --unit bytes --command "stat -c %s $CRUN (+ ldd)" "$crun_total"
  shim=$(type -P containerd-shim-runc-v2)
  py note --results "$results" --measure "$m" --name "(containerd-shim-runc-v2)" --unit bytes \
    --command "stat -c %s $shim" "$(stat -c %s "$shim")"
  py time --results "$results" --measure "7b. cold start: --version" \
    --rounds $((5 * rounds)) --warmup 3 \
    --cpu-rounds "$rounds" --cpu-perf \
    "reaper (musl)=$musl --version" \
    "runc=$RUNC --version" \
    "crun=$CRUN --version" \
    "(reaper, glibc static)=$REAPER_BIN/reaper --version" \
    "(host /bin/true)=/bin/true"
fi

# --- the report ----------------------------------------------------------------------------------

{
  echo "## Results $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$header"
  echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- \$W below is the run's temp dir ($W)"
  echo
  py report "$results" | sed "s#$W#\$W#g; s#$E2E#\$E2E#g"
} >"$out"
cat "$out"
echo "run.sh: report in $out, samples in $results" >&2
