#!/usr/bin/env bash
# Removes what packaging/install.sh added on this node, as recorded in its
# install manifest (default /var/lib/reaper/install.manifest): the runtime's
# block in containerd's config (the file is restored byte for byte), the
# symlinks, the binary, reaper.conf if nobody edited it, and the directories
# install created. Running containers are not touched.
#
#   uninstall.sh [--state-dir D] [--restart-containerd] [--dry-run]
#
# The logic lives in install.sh (one place for the manifest and config
# formats); this is its uninstall mode.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -f $here/install.sh ]] || { echo "uninstall.sh: error: $here/install.sh is missing (the two scripts ship together)" >&2; exit 1; }
exec bash "$here/install.sh" --uninstall "$@"
