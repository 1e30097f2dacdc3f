#!/usr/bin/env bash
# The environment is exactly process.env (nothing of the caller's leaks);
# PATH lookup uses process.env's PATH; cwd is applied.
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
pass
