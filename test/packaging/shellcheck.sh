#!/usr/bin/env bash
# Runs shellcheck over the packaging and deployment scripts and these tests; the
# POSIX sh ones (maintainer scripts, the installer image's entrypoint) also
# parse under dash.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v shellcheck >/dev/null || skip "shellcheck not installed (packaging/deps.sh installs it)"
cd "$REPO"
posix=(packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm deploy/node-installer/entrypoint.sh)
bash_scripts=(packaging/install.sh packaging/uninstall.sh packaging/deb/build.sh test/packaging/*.sh)
shellcheck -x "${bash_scripts[@]}" "${posix[@]}" || fail "shellcheck reports problems (above)"
for f in "${posix[@]}"; do
  head -1 "$f" | grep -qx '#!/bin/sh' || fail "$f: expected #!/bin/sh"
  dash -n "$f" || fail "$f does not parse as POSIX sh (dash)"
done
pass "${#bash_scripts[@]} bash and ${#posix[@]} sh scripts"
