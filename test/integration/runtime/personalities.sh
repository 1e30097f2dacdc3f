#!/usr/bin/env bash
# One executable, three names (plus `reaper <name>`); unknown names exit 2
# with the list of valid ones.
source "$(dirname "$0")/../lib.sh"
R=$REAPER_BIN/reaper
out=$("$R" --version)
echo "$out" | grep -q "^reaper version [0-9]" || fail "--version: $out"
echo "$out" | grep -Eq "^libc: (glibc|musl)$" || fail "libc line: $out"
echo "$out" | grep -Eq "^commit: [0-9a-f]{7,}|^commit: unknown" || fail "commit line: $out"
"$REAPER_BIN/reaper-runtime" --version | grep -q "reaper-runtime version" || fail "reaper-runtime --version"
"$R" reaper-runtime --version | grep -q "reaper-runtime version" || fail "reaper reaper-runtime"
"$REAPER_BIN/containerd-shim-reaper-v2" -v | grep -qi "version" || fail "shim -v"
rc=0; "$REAPER_BIN/reaper-monitor" >"$WORK/out" 2>&1 || rc=$?
expect_eq "$rc" 2 "monitor without arguments"
grep -q "required" "$WORK/out" || fail "monitor message: $(cat "$WORK/out")"
ln -s "$R" "$WORK/frobnicate"
rc=0; "$WORK/frobnicate" >"$WORK/out" 2>&1 || rc=$?
expect_eq "$rc" 2 "unknown name"
grep -q "unknown name \`frobnicate\`" "$WORK/out" || fail "unknown name message"
grep -q "reaper-runtime" "$WORK/out" || fail "valid names not listed"
rc=0; "$R" bogus >"$WORK/out" 2>&1 || rc=$?
expect_eq "$rc" 2 "unknown personality"
grep -q "containerd-shim-reaper-v2" "$WORK/out" || fail "valid names not listed"
"$R" --help | grep -q "reaper-monitor" || fail "--help"
file -L "$R" | grep -q "statically linked" || echo "note: this build is not static"
pass
