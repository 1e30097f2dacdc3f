#!/usr/bin/env bash
# Builds the Debian package of reaper with dpkg-deb (no debhelper, no
# source package: the binary is built beforehand, normally the musl release
# binary of packaging/musl/build.sh).
#
#   packaging/deb/build.sh OUTDIR BINARY      -> OUTDIR/reaper_<version>_<arch>.deb
#
# The version is the project's (meson.build); BINARY must answer that
# version, be statically linked, and its architecture names the package's.
# Contents:
#   /usr/bin/reaper + symlinks containerd-shim-reaper-v2, reaper-runtime,
#     reaper-monitor
#   /etc/reaper/reaper.conf          conffile: install.sh's default (all commented out)
#   /usr/share/reaper/install.sh, uninstall.sh, containerd/*.toml
#   /usr/share/doc/reaper/           README, docs, copyright
# The maintainer scripts (beside this file) leave containerd's config and
# service alone unless asked through the environment (see postinst).
#
# Environment: SOURCE_DATE_EPOCH (file times; default: the last commit's),
# DEB_MAINTAINER (default "reaper maintainers <reaper@localhost>").
set -euo pipefail
umask 022

die() { echo "deb/build.sh: error: $*" >&2; exit 1; }
(($# == 2)) || die "usage: $0 OUTDIR BINARY"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
outdir=$1 binary=$2
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (apt-get install dpkg-dev)"
[[ -f $binary ]] || die "$binary: no such file"

version=$(sed -n "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$repo/meson.build" | head -1)
[[ -n $version ]] || die "cannot read the project version from $repo/meson.build"
answer=$(exec -a reaper "$binary" --version 2>&1 | head -1) || true
[[ $answer == "reaper version $version" ]] ||
  die "$binary answers \`$answer\`, but meson.build's version is $version (a stale build?)"
info=$(file -b "$binary")
[[ $info == *"statically linked"* || $info == *"static-pie linked"* ]] ||
  die "$binary is not statically linked ($info): the package ships a static binary"
case $info in
  *x86-64*) arch=amd64 ;;
  *aarch64*) arch=arm64 ;;
  *) die "$binary: unknown architecture ($info)" ;;
esac

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/etc/reaper" "$root/usr/share/reaper/containerd" \
  "$root/usr/share/doc/reaper"

install -m 0755 "$binary" "$root/usr/bin/reaper"
for name in containerd-shim-reaper-v2 reaper-runtime reaper-monitor; do
  ln -s reaper "$root/usr/bin/$name"
done
bash "$repo/packaging/install.sh" --print-default-config >"$root/etc/reaper/reaper.conf"
install -m 0755 "$repo/packaging/install.sh" "$repo/packaging/uninstall.sh" "$root/usr/share/reaper/"
install -m 0644 "$repo"/deploy/containerd/*.toml "$root/usr/share/reaper/containerd/"
install -m 0644 "$repo/README.md" "$root/usr/share/doc/reaper/"
for doc in install operations troubleshooting configuration security cli architecture; do
  [[ -f $repo/docs/$doc.md ]] && install -m 0644 "$repo/docs/$doc.md" "$root/usr/share/doc/reaper/"
done
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: reaper"
  echo
  echo "Files: *"
  echo "License: MIT"
  sed 's/^$/./; s/^/ /' "$repo/LICENSE"
} >"$root/usr/share/doc/reaper/copyright"

for script in postinst prerm postrm; do
  install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
echo /etc/reaper/reaper.conf >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/control" <<CONTROL
Package: reaper
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-reaper maintainers <reaper@localhost>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Section: admin
Priority: optional
Suggests: containerd, python3
Description: Kubernetes runtime that runs pod commands as host processes
 reaper is a containerd shim v2 (runtime_type io.containerd.reaper.v2, CRI
 handler reaper-v2) for workloads that must run on the node: their commands
 are host binaries run as host processes, seeing the host's root through an
 overlayfs, so their writes never reach the host's files.
 .
 One static executable, acting by name as containerd-shim-reaper-v2,
 reaper-runtime (an OCI-runtime-style command line) and reaper-monitor.
 containerd's config is changed only when asked: see
 /usr/share/doc/reaper/install.md.
CONTROL
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0r md5sum) >"$root/DEBIAN/md5sums"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p "$outdir"
deb=$outdir/reaper_${version}_$arch.deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
