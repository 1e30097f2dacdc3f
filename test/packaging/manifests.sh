#!/usr/bin/env bash
# Every YAML file under deploy/ parses and names only fields that exist
# (check_manifests.py: a per-kind field whitelist, cross-file consistency,
# the Ansible playbook's keywords and module parameters, the containerd
# snippets). Then a negative control: a copy of deploy/ with one mistake of
# each kind must be rejected, each mistake reported.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
py=$(yaml_python) || fail "no python3 with the yaml module (packaging/deps.sh installs python3-yaml)"
checker=$REPO/test/packaging/check_manifests.py

"$py" "$checker" "$REPO" || fail "deploy/ has problems (above)"

# Negative control.
mkdir -p "$T/repo"
cp -r "$REPO/deploy" "$REPO/packaging" "$T/repo/"
cd "$T/repo/deploy"
sed -i '0,/readOnly: true/s//readonly: true/' examples/04-volumes/volumes.yaml
sed -i 's/^handler: reaper-v2$/handler: reaper/' runtimeclass.yaml
sed -i 's/prefix: reaper-install\./prefx: reaper-install./' ansible/reaper.yml
sed -i 's/containerPort: 9500/containerPort: "9500"/' examples/02-client-server/server.yaml
sed -i '/reaper.runtime\/allowed: "true"/d' examples/namespace.yaml
sed -i 's/runtime_type = "io.containerd.reaper.v2"/runtime_type = "io.containerd.runc.v2"/' containerd/config-v3.toml
printf 'a: [\n' >examples/broken.yaml
rc=0
"$py" "$checker" "$T/repo" >"$T/neg.log" 2>&1 || rc=$?
cat "$T/neg.log"
[ "$rc" = 1 ] || fail "the checker accepted broken manifests (exit $rc)"
for want in "unknown field \`readonly\`" "handler reaper-v2" "has no parameter \`prefx\`" \
  "containerPort: expected an integer" "not labelled reaper.runtime/allowed=true" \
  "deploy/containerd/config-v3.toml: expected exactly" "deploy/examples/broken.yaml: does not parse"; do
  grep -qF "$want" "$T/neg.log" || fail "the checker did not report: $want"
done
pass
