#!/usr/bin/env bash
# Lint gates, run by `meson test --suite lint`:
#   format  clang-format of every C++ file in src/ and test/ matches .clang-format
#   tidy    clang-tidy (.clang-tidy) over src/ with the build's compile database
#           (a clang build's: gcc's warning options are unknown to it), one
#           process per CPU
set -euo pipefail
mode=$1 top=$2 build=${3:-}
cd "$top"
mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'test/*.cc' 'test/*.h' 2>/dev/null ||
                     find src test -name '*.cc' -o -name '*.h')
case $mode in
  format)
    clang-format --dry-run -Werror "${files[@]}"
    echo "clang-format: ${#files[@]} files clean" ;;
  tidy)
    mapfile -t srcs < <(printf '%s\n' "${files[@]}" | grep '^src/.*\.cc$')
    # xargs exits non-zero when any clang-tidy did (WarningsAsErrors: '*').
    printf '%s\0' "${srcs[@]}" |
      xargs -0 -P "$(nproc)" -n 4 clang-tidy --quiet -p "$build"
    echo "clang-tidy: ${#srcs[@]} files clean" ;;
  *) echo "lint: unknown mode $mode" >&2; exit 2 ;;
esac
