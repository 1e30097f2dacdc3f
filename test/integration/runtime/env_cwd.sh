#!/usr/bin/env bash
# The environment is exactly process.env (nothing of the caller's leaks);
# PATH lookup uses process.env's PATH; cwd is applied, and created when missing.
source "$(dirname "$0")/../lib.sh"
mkdir -p "$WORK/bin"; printf '#!/bin/sh\necho custom-tool\n' >"$WORK/bin/mytool"; chmod +x "$WORK/bin/mytool"
ENV_JSON="[\"PATH=$WORK/bin:/usr/bin:/bin\", \"FOO=bar baz\"]" CWD=/usr/share \
  make_bundle "$WORK/b" /bin/sh -c 'env | sort; pwd; mytool'
LEAK=should-not-leak REAPER_SHIM_LOG=/dev/null "$RT" run --bundle "$WORK/b" env1 >"$WORK/out"
grep -qx "FOO=bar baz" "$WORK/out" || fail "FOO missing: $(cat "$WORK/out")"
grep -q "LEAK\|REAPER_" "$WORK/out" && fail "caller environment leaked: $(cat "$WORK/out")"
n=$(grep -c '=' "$WORK/out")
# sh adds PWD (and possibly SHLVL, _): allow those, nothing else.
extra=$(grep '=' "$WORK/out" | grep -v '^PATH=\|^FOO=\|^PWD=\|^SHLVL=\|^_=' || true)
[ -z "$extra" ] || fail "unexpected variables ($n): $extra"
grep -qx "/usr/share" "$WORK/out" || fail "cwd not applied"
grep -qx "custom-tool" "$WORK/out" || fail "PATH of process.env not used for lookup"

# A working directory the node lacks (an image's WORKDIR) is created, in the
# overlay view only, as runc does; uid 1000 can work in it.
missing="/opt/reaper-it-cwd-$$/work"
CWD=$missing USER_JSON='{"uid": 1000, "gid": 1000}' make_bundle "$WORK/c" /bin/sh -c 'pwd'
out=$("$RT" run --bundle "$WORK/c" cwd1 2>&1) || fail "missing cwd: $out"
expect_eq "$out" "$missing" "created cwd"
[ ! -e "/opt/reaper-it-cwd-$$" ] || { rm -rf "/opt/reaper-it-cwd-$$"; fail "the cwd was created on the host"; }
pass
