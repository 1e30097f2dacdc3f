#!/usr/bin/env bash
# Fetch third-party sources that reaper builds from, using ONLY Debian's apt
# (`apt-get source`): no other download location is allowed for this project.
#
# Usage: subprojects/fetch-sources.sh [simdjson|all]   (default: simdjson)
#
#   simdjson  the Debian simdjson 3.0.1 source; its amalgamated
#             singleheader/simdjson.{h,cpp} are copied into subprojects/simdjson/
#             (git-ignored). meson.build compiles that file for every build
#             (glibc and musl), so this mode must stay small and quick.
#   all       simdjson plus what the static musl build (packaging/musl/build.sh)
#             compiles itself: protobuf 3.21.12 (must equal Debian's protoc),
#             libcap2, fmt 9.1.0 and doctest.
#
# Unpacked sources live in a cache outside the repository:
#   ${REAPER_BUILD_CACHE:-/var/cache/reaper-build}/src/<package>/
# Every step is idempotent: a second run only checks stamps and exits.
#
# Needs root (it may add an apt deb-src entry, run apt-get update and install
# dpkg-dev) unless everything is already cached.
set -euo pipefail

die() { echo "fetch-sources: error: $*" >&2; exit 1; }
log() { echo "fetch-sources: $*" >&2; }

mode=${1:-simdjson}
case $mode in
    simdjson|all) ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown mode '$mode' (expected 'simdjson' or 'all')" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # .../subprojects
cache=${REAPER_BUILD_CACHE:-/var/cache/reaper-build}
srcroot=$cache/src

# Source package -> upstream version we insist on. apt-get source fetches
# whatever bookworm currently carries (including security revisions such as
# 3.21.12-3+deb12u1); we accept any Debian revision but refuse another
# upstream version, because e.g. protobuf's runtime must match protoc exactly.
declare -A want=(
    [simdjson]=3.0.1
    [protobuf]=3.21.12
    [libcap2]=2.66
    [fmtlib]=9.1.0
    [doctest]=2.4.9
)
# What to pass to apt-get source when it differs from the source package name:
# "doctest" alone is also a binary package of haskell-doctest, and apt resolves
# binary names first, so ask for the binary doctest-dev instead.
declare -A apt_name=(
    [doctest]=doctest-dev
)

as_root() {
    [[ $(id -u) -eq 0 ]] || die "$* needs root (run this script as root once to populate $cache)"
    "$@"
}

# True when some deb-src entry is configured, in one-line or deb822 format.
have_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] && grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] && grep -qiE '^Types:.*deb-src' "$f" && return 0
    done
    return 1
}

# Add a deb-src twin of the Debian deb822 sources (same URIs/Suites/
# Components/Signed-By), so `apt-get source` can work. Only when none exists:
# we never touch an admin's own deb-src setup.
ensure_deb_src() {
    have_deb_src && return 0
    local main=/etc/apt/sources.list.d/debian.sources
    local out=/etc/apt/sources.list.d/reaper-deb-src.sources
    [[ -f $main ]] || die "no deb-src entry configured and no $main to mirror; add a deb-src line for bookworm by hand"
    log "adding $out (deb-src mirror of $main)"
    # Copy each stanza, keeping only the fields that matter and forcing
    # Types: deb-src. Stanzas are separated by blank lines.
    local tmp
    tmp=$(mktemp)
    awk '
        BEGIN { IGNORECASE = 1 }
        function flush() {
            if (uris != "" && suites != "") {
                if (n++) print ""
                print "Types: deb-src"
                print "URIs: " uris
                print "Suites: " suites
                if (comps != "") print "Components: " comps
                if (signed != "") print "Signed-By: " signed
            }
            uris = suites = comps = signed = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^#/ { next }
        /^URIs:/       { sub(/^[^:]*:[[:space:]]*/, ""); uris = $0; next }
        /^Suites:/     { sub(/^[^:]*:[[:space:]]*/, ""); suites = $0; next }
        /^Components:/ { sub(/^[^:]*:[[:space:]]*/, ""); comps = $0; next }
        /^Signed-By:/  { sub(/^[^:]*:[[:space:]]*/, ""); signed = $0; next }
        END { flush() }
    ' "$main" >"$tmp"
    [[ -s $tmp ]] || { rm -f "$tmp"; die "could not derive a deb-src entry from $main"; }
    as_root install -m 0644 "$tmp" "$out"
    rm -f "$tmp"
}

# apt-get update only if the deb-src indexes have not been downloaded yet.
ensure_source_indexes() {
    if ! compgen -G '/var/lib/apt/lists/*_source_Sources*' >/dev/null; then
        log "apt-get update (no Sources index yet)"
        as_root apt-get update -qq || die "apt-get update failed"
    fi
}

ensure_dpkg_dev() {
    command -v dpkg-source >/dev/null && return 0
    log "installing dpkg-dev (needed by apt-get source)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null \
        || die "apt-get install dpkg-dev failed"
}

prepared=0
prepare_apt() {
    ((prepared)) && return 0
    ensure_deb_src
    ensure_source_indexes
    ensure_dpkg_dev
    prepared=1
}

# fetch PKG: unpack Debian source package PKG (patches applied) into
# $srcroot/PKG/<pkg>-<version>/ and print that directory. Idempotent via a
# stamp file naming the unpacked directory.
fetch() {
    local pkg=$1 dir=$srcroot/$1 stamp
    stamp=$dir/.fetched
    if [[ -f $stamp ]]; then
        local d
        d=$(<"$stamp")
        if [[ -d $dir/$d ]]; then
            echo "$dir/$d"
            return 0
        fi
    fi
    prepare_apt
    log "apt-get source $pkg -> $dir"
    as_root mkdir -p "$dir"
    # Start clean so a half-finished earlier run cannot confuse us.
    find "$dir" -mindepth 1 -delete
    # APT::Sandbox::User=root: the cache dir is root-owned, and _apt could not
    # write there (apt would warn and fall back anyway).
    local name=${apt_name[$pkg]:-$pkg}
    (cd "$dir" && as_root apt-get source -qq -o APT::Sandbox::User=root "$name" >/dev/null) \
        || die "apt-get source $name failed (is a bookworm deb-src entry reachable?)"
    local d
    d=$(find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
    [[ -n $d && $d != *$'\n'* ]] || die "apt-get source $name: expected one unpacked directory in $dir"
    # Directory is <srcpkg>-<upstream version>[+ds..|~ds..]; check that version.
    [[ $d == "$pkg"-* ]] || die "apt-get source $name unpacked '$d', not source package $pkg"
    local ver=${d#"$pkg"-}
    ver=${ver%%[+~]*}
    [[ $ver == "${want[$pkg]}" ]] \
        || die "$pkg: Debian ships upstream $ver but reaper needs ${want[$pkg]} ($dir/$d)"
    echo "$d" >"$stamp"
    echo "$dir/$d"
}

# copy_if_changed SRC DST: keeps mtimes stable on re-runs so ninja does not
# rebuild simdjson (the slowest translation unit) for nothing.
copy_if_changed() {
    if ! cmp -s "$1" "$2"; then
        install -m 0644 "$1" "$2"
    fi
}

do_simdjson() {
    local d
    d=$(fetch simdjson)
    local f
    for f in simdjson.h simdjson.cpp; do
        [[ -f $d/singleheader/$f ]] || die "simdjson source lacks singleheader/$f ($d)"
    done
    mkdir -p "$here/simdjson"
    copy_if_changed "$d/singleheader/simdjson.h" "$here/simdjson/simdjson.h"
    copy_if_changed "$d/singleheader/simdjson.cpp" "$here/simdjson/simdjson.cpp"
    copy_if_changed "$d/LICENSE" "$here/simdjson/LICENSE"
    log "simdjson ${want[simdjson]} ready in $here/simdjson"
}

do_simdjson
if [[ $mode == all ]]; then
    for p in protobuf libcap2 fmtlib doctest; do
        d=$(fetch "$p")
        log "$p ready in $d"
    done
fi
