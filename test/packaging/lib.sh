# shellcheck shell=bash disable=SC2034
# Shared helpers for the packaging tests. Each test is one bash file that
# sources this and exits 0 (pass), 1 (fail) or 77 (skip). Everything a test
# installs goes below its own temp dir $T (a private "root" $R for
# install.sh), except the .deb test, which installs into / and removes it.
set -euo pipefail

: "${REAPER_BIN:?REAPER_BIN must name the directory of the built reaper binary}"
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PKG=$REPO/packaging
FIXTURES=$REPO/test/packaging/fixtures
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
# The project's version, from its one place.
VERSION=$(sed -n "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$REPO/meson.build" | head -1)

fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
pass() { echo "PASS: $TEST_NAME${1:+: $1}"; exit 0; }
skip() { echo "SKIP: $TEST_NAME: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }

[ -x "$REAPER_BIN/reaper" ] || fail "no executable $REAPER_BIN/reaper"
[ -n "$VERSION" ] || fail "cannot read the project version from $REPO/meson.build"

T=$(mktemp -d "/tmp/reaper-pkg-$TEST_NAME.XXXXXX")
R=$T/root
mkdir -p "$R"
# Functions to run at exit before $T goes (tests add theirs).
cleanup_hooks=()
pkg_cleanup() {
  local rc=$? hook
  set +e
  for hook in "${cleanup_hooks[@]}"; do "$hook"; done
  if [ "${PKG_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
  exit $rc
}
trap pkg_cleanup EXIT

# inst [ARGS...]: install.sh into the private root $R.
inst() {
  bash "$PKG/install.sh" --binary "$REAPER_BIN/reaper" --prefix "$R/usr/local" \
    --config-dir "$R/etc/reaper" --state-dir "$R/var/lib/reaper" \
    --containerd-config "$R/etc/containerd/config.toml" "$@"
}
uninst() { bash "$PKG/uninstall.sh" --state-dir "$R/var/lib/reaper" "$@"; }

# snapshot DIR [times]: every path below DIR with its type, mode and link
# target, and the checksum of every file; with `times`, mtimes too.
snapshot() {
  local fmt='%y %m %p -> %l\n'
  [ "${2:-}" = times ] && fmt='%y %m %T@ %p -> %l\n'
  (cd "$1" && find . -printf "$fmt" | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# expect_same FILE1 FILE2 WHAT: fails with a diff.
expect_same() {
  cmp -s "$1" "$2" || { diff -u "$1" "$2" | head -40 >&2 || true; fail "$3"; }
}

# A python3 that can import yaml (Debian's python3-yaml): the system one first.
yaml_python() {
  local py
  for py in /usr/bin/python3 python3; do
    command -v "$py" >/dev/null && "$py" -c 'import yaml' 2>/dev/null && { echo "$py"; return 0; }
  done
  return 1
}
