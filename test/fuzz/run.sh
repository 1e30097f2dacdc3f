#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time:
#   run.sh EXE SEED_DIR ARTIFACT_DIR SECONDS
# REAPER_FUZZ_SECONDS, when set, replaces SECONDS. The target works on a
# temporary copy of its committed seeds (what it discovers is thrown away;
# the source tree is never written); a crashing input is kept as
# ARTIFACT_DIR/<target>-crash-<sha1> and the test fails.
set -euo pipefail
exe=$(realpath "$1") seeds=$(realpath "$2")
mkdir -p "$3"
artifacts=$(realpath "$3")
seconds=${REAPER_FUZZ_SECONDS:-$4}
name=$(basename "$exe")

work=$(mktemp -d "${TMPDIR:-/tmp}/reaper-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
if [ -d "$seeds" ]; then cp -R "$seeds"/. "$work/corpus/"; fi

# libFuzzer's default exit code for a crash is 77, which meson reads as
# "skipped": make every finding an ordinary failure. It writes its
# artifacts relative to its working directory unless told otherwise.
cd "$work"
rc=0
"$exe" "$work/corpus" \
  -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" || rc=$?
echo "$name: $(find "$work/corpus" -type f | wc -l) inputs in the corpus after the run"
exit "$rc"
