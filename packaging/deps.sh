#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing reaper use.
# Idempotent: packages already installed are not reinstalled, and apt's lists
# are refreshed only when something is missing.
set -euo pipefail

packages=(
  meson ninja-build pkg-config g++ protobuf-compiler libprotobuf-dev libcap-dev
  libfmt-dev doctest-dev dpkg-dev file clang-format clang-tidy python3
  # the fuzz build (test/fuzz): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  containerd runc crun util-linux procps psmisc iproute2 tmux
  # the image tests (integration image.sh, e2e image.sh): a static binary to
  # put into an image
  busybox-static
  # the packaging suite: YAML manifests, shell scripts, the Ansible playbook
  python3-yaml shellcheck ansible-core
  # the benchmarks (test/bench): CPU figures (perf stat) and the analysis in
  # docs/performance.md (strace -c -f, perf record)
  strace linux-perf
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
