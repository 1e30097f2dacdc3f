#!/usr/bin/env bash
# The Ansible playbook (deploy/ansible/reaper.yml), run for real against
# localhost (connection local) with every path in a private root: it
# installs (one `changed` task), a second run changes nothing (changed=0,
# no byte or mtime differs), reaper_state=absent restores containerd's
# config byte for byte and removes the rest, and a second absent run
# changes nothing. Skipped where ansible-playbook is not installed.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
command -v ansible-playbook >/dev/null || skip "ansible-playbook not installed (apt-get install ansible-core)"

mkdir -p "$R/etc/containerd"
cfg=$R/etc/containerd/config.toml
cp "$FIXTURES/containerd-1.6.toml" "$cfg"
snapshot "$R" >"$T/before"
export ANSIBLE_HOME=$T/ansible ANSIBLE_LOCAL_TEMP=$T/ansible/tmp ANSIBLE_REMOTE_TEMP=$T/ansible/remote
: >"$T/ansible.cfg"   # no user or system ansible.cfg
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_CONFIG=$T/ansible.cfg
args=$(printf '"%s",' --prefix "$R/usr/local" --config-dir "$R/etc/reaper" --state-dir "$R/var/lib/reaper" \
  --containerd-config "$cfg")
py=/usr/bin/python3
[ -x $py ] || py=$(command -v python3)
extra="{\"reaper_hosts\": \"all\", \"reaper_become\": false, \"reaper_binary\": \"$REAPER_BIN/reaper\",
  \"ansible_python_interpreter\": \"$py\", \"reaper_install_args\": [${args%,}]}"

play() {  # play NAME [-e ...]: runs the playbook, output in $T/NAME.log
  local name=$1
  shift
  ansible-playbook -i localhost, -c local "$REPO/deploy/ansible/reaper.yml" -e "$extra" "$@" \
    >"$T/$name.log" 2>&1 || { cat "$T/$name.log" >&2; fail "ansible-playbook ($name) failed"; }
}
recap() { sed -n 's/^localhost *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/changed=\1 failed=\2/p' "$T/$1.log"; }

play install
[ "$(recap install)" = "changed=1 failed=0" ] || { cat "$T/install.log" >&2; fail "first run: $(recap install), expected changed=1"; }
cmp -s "$REAPER_BIN/reaper" "$R/usr/local/bin/reaper" || fail "binary not installed"
grep -q '^\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.reaper-v2\]' "$cfg" || fail "runtime not added"

snapshot "$R" times >"$T/installed"
play again
[ "$(recap again)" = "changed=0 failed=0" ] || { cat "$T/again.log" >&2; fail "second run: $(recap again), expected changed=0"; }
snapshot "$R" times >"$T/installed2"
expect_same "$T/installed" "$T/installed2" "the second run changed files"

play absent -e reaper_state=absent
[ "$(recap absent)" = "changed=1 failed=0" ] || { cat "$T/absent.log" >&2; fail "absent: $(recap absent), expected changed=1"; }
expect_same "$FIXTURES/containerd-1.6.toml" "$cfg" "the config was not restored"
rm -f "$cfg".reaper-backup.*
snapshot "$R" >"$T/after"
expect_same "$T/before" "$T/after" "reaper_state=absent left something behind"
play absent2 -e reaper_state=absent
[ "$(recap absent2)" = "changed=0 failed=0" ] || fail "second absent run: $(recap absent2), expected changed=0"
[ -z "$(find /tmp -maxdepth 1 -name 'reaper-install.*' -newer "$T/before" 2>/dev/null)" ] || fail "staging directories left in /tmp"
pass
