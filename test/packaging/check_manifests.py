#!/usr/bin/env python3
"""Checks every YAML file under deploy/ (and the containerd snippets).

usage: check_manifests.py REPO

- Every file parses (PyYAML, Debian's python3-yaml).
- Kubernetes objects: each (apiVersion, kind) must be one of SCHEMAS below,
  and every field the object names must exist in that kind, with the
  right type (a minimal whitelist, written from the Kubernetes API
  reference for the fields these manifests use; a field missing here is
  reported, not guessed).
- Consistency between files: the RuntimeClass's handler and name are
  reaper-v2, every pod that names a RuntimeClass names that one, the
  RuntimeClass selects the label the node installer sets, the policy
  exempts exactly the label the examples' namespace has, selectors match
  their templates, volume mounts name volumes.
- The Ansible playbook: known play and task keywords, modules and their
  parameters, and the scripts it copies exist.
- The containerd snippets hold exactly the reaper-v2 runtime table.

Prints one line per problem and exits 1 if there is any.
"""
import pathlib
import re
import sys
import tomllib

import yaml

# ---------------------------------------------------------------------------
# Field whitelist. A schema is: a type name ("str", "int", "bool", "intstr",
# "quantity", "map" = string->string), ("enum", {...}), a dict of
# field -> schema, or a one-element list [schema] for a list of those.
# ---------------------------------------------------------------------------
STR, INT, BOOL, INTSTR, QTY, MAP = "str", "int", "bool", "intstr", "quantity", "map"


def enum(*values):
    return ("enum", set(values))


META = {"name": STR, "namespace": STR, "labels": MAP, "annotations": MAP}
SELECTOR = {
    "matchLabels": MAP,
    "matchExpressions": [{"key": STR, "operator": enum("In", "NotIn", "Exists", "DoesNotExist"),
                          "values": [STR]}],
}
TOLERATION = {"key": STR, "operator": enum("Exists", "Equal"), "value": STR,
              "effect": enum("NoSchedule", "PreferNoSchedule", "NoExecute"), "tolerationSeconds": INT}
PROBE = {
    "exec": {"command": [STR]},
    "tcpSocket": {"port": INTSTR, "host": STR},
    "httpGet": {"path": STR, "port": INTSTR, "host": STR, "scheme": enum("HTTP", "HTTPS")},
    "initialDelaySeconds": INT, "periodSeconds": INT, "timeoutSeconds": INT,
    "successThreshold": INT, "failureThreshold": INT,
}
CONTAINER_SECURITY = {
    "privileged": BOOL, "allowPrivilegeEscalation": BOOL, "readOnlyRootFilesystem": BOOL,
    "runAsUser": INT, "runAsGroup": INT, "runAsNonRoot": BOOL,
    "capabilities": {"add": [STR], "drop": [STR]},
}
CONTAINER = {
    "name": STR, "image": STR, "imagePullPolicy": enum("Always", "IfNotPresent", "Never"),
    "command": [STR], "args": [STR], "workingDir": STR,
    "env": [{"name": STR, "value": STR,
             "valueFrom": {"fieldRef": {"fieldPath": STR, "apiVersion": STR}}}],
    "ports": [{"name": STR, "containerPort": INT, "hostPort": INT,
               "protocol": enum("TCP", "UDP", "SCTP")}],
    "resources": {"requests": {"*": QTY}, "limits": {"*": QTY}},
    "securityContext": CONTAINER_SECURITY,
    "volumeMounts": [{"name": STR, "mountPath": STR, "readOnly": BOOL, "subPath": STR,
                      "mountPropagation": enum("None", "HostToContainer", "Bidirectional")}],
    "readinessProbe": PROBE, "livenessProbe": PROBE, "startupProbe": PROBE,
}
VOLUME = {
    "name": STR,
    "configMap": {"name": STR, "defaultMode": INT, "optional": BOOL,
                  "items": [{"key": STR, "path": STR, "mode": INT}]},
    "secret": {"secretName": STR, "defaultMode": INT, "optional": BOOL,
               "items": [{"key": STR, "path": STR, "mode": INT}]},
    "hostPath": {"path": STR, "type": enum("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File",
                                           "Socket", "CharDevice", "BlockDevice")},
    "emptyDir": {"medium": enum("", "Memory"), "sizeLimit": QTY},
}
POD_SPEC = {
    "runtimeClassName": STR, "hostNetwork": BOOL, "hostPID": BOOL, "hostIPC": BOOL,
    "dnsPolicy": enum("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"),
    "nodeSelector": MAP, "tolerations": [TOLERATION], "serviceAccountName": STR,
    "priorityClassName": STR, "terminationGracePeriodSeconds": INT, "restartPolicy": enum("Always", "OnFailure", "Never"),
    "securityContext": {"runAsUser": INT, "runAsGroup": INT, "runAsNonRoot": BOOL,
                        "supplementalGroups": [INT], "fsGroup": INT},
    "containers": [CONTAINER], "initContainers": [CONTAINER], "volumes": [VOLUME],
}
TEMPLATE = {"metadata": META, "spec": POD_SPEC}
ROLLING = {"maxUnavailable": INTSTR, "maxSurge": INTSTR}
RULE = {"apiGroups": [STR], "apiVersions": [STR], "resources": [STR],
        "operations": [enum("CREATE", "UPDATE", "DELETE", "CONNECT", "*")],
        "scope": enum("Cluster", "Namespaced", "*")}


def top(**fields):
    return {"apiVersion": STR, "kind": STR, "metadata": META, **fields}


SCHEMAS = {
    ("v1", "Namespace"): top(),
    ("v1", "ServiceAccount"): top(),
    ("v1", "ConfigMap"): top(data=MAP, binaryData=MAP),
    ("v1", "Secret"): top(type=STR, data=MAP, stringData=MAP),
    ("v1", "Service"): top(spec={
        "selector": MAP, "type": enum("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
        "clusterIP": STR,
        "ports": [{"name": STR, "port": INT, "targetPort": INTSTR, "nodePort": INT,
                   "protocol": enum("TCP", "UDP", "SCTP")}]}),
    ("apps/v1", "DaemonSet"): top(spec={
        "selector": SELECTOR, "template": TEMPLATE, "minReadySeconds": INT,
        "updateStrategy": {"type": enum("RollingUpdate", "OnDelete"), "rollingUpdate": ROLLING}}),
    ("apps/v1", "Deployment"): top(spec={
        "replicas": INT, "selector": SELECTOR, "template": TEMPLATE, "minReadySeconds": INT,
        "strategy": {"type": enum("RollingUpdate", "Recreate"), "rollingUpdate": ROLLING}}),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): top(rules=[{
        "apiGroups": [STR], "resources": [STR], "verbs": [STR], "resourceNames": [STR]}]),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): top(
        roleRef={"apiGroup": STR, "kind": enum("ClusterRole", "Role"), "name": STR},
        subjects=[{"kind": enum("ServiceAccount", "User", "Group"), "name": STR, "namespace": STR,
                   "apiGroup": STR}]),
    ("node.k8s.io/v1", "RuntimeClass"): top(
        handler=STR, overhead={"podFixed": {"*": QTY}},
        scheduling={"nodeSelector": MAP, "tolerations": [TOLERATION]}),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): top(spec={
        "failurePolicy": enum("Fail", "Ignore"),
        "matchConstraints": {"resourceRules": [RULE], "excludeResourceRules": [RULE],
                             "namespaceSelector": SELECTOR, "objectSelector": SELECTOR,
                             "matchPolicy": enum("Exact", "Equivalent")},
        "validations": [{"expression": STR, "message": STR, "messageExpression": STR,
                         "reason": enum("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge")}],
        "variables": [{"name": STR, "expression": STR}],
        "matchConditions": [{"name": STR, "expression": STR}]}),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): top(spec={
        "policyName": STR, "validationActions": [enum("Deny", "Warn", "Audit")],
        "matchResources": {"namespaceSelector": SELECTOR, "objectSelector": SELECTOR,
                           "resourceRules": [RULE], "excludeResourceRules": [RULE],
                           "matchPolicy": enum("Exact", "Equivalent")}}),
}

# Ansible: play and task keywords, and each module's parameters, that the
# playbook may use (ansible-core 2.14 documentation).
PLAY_KEYS = {"name", "hosts", "become", "gather_facts", "vars", "tasks", "pre_tasks", "post_tasks"}
TASK_KEYS = {"name", "register", "when", "loop", "changed_when", "failed_when", "become",
             "block", "rescue", "always", "tags", "no_log"}
MODULES = {
    "ansible.builtin.assert": {"that", "fail_msg", "success_msg", "quiet"},
    "ansible.builtin.tempfile": {"state", "prefix", "suffix", "path"},
    "ansible.builtin.copy": {"src", "dest", "mode", "owner", "group", "content", "remote_src"},
    "ansible.builtin.command": {"argv", "cmd", "chdir", "creates", "removes", "stdin"},
    "ansible.builtin.file": {"path", "state", "mode", "owner", "group"},
    "ansible.builtin.debug": {"var", "msg", "verbosity"},
}

problems = []


def g(d, *keys):
    """d[k1][k2]... or {} where any step is missing or not a mapping."""
    for k in keys:
        d = d.get(k) if isinstance(d, dict) else None
    return d if d is not None else {}


def problem(where, msg):
    problems.append(f"{where}: {msg}")


def check(value, schema, where):
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return problem(where, f"expected a mapping, got {type(value).__name__}")
        for key, v in value.items():
            sub = schema.get(key, schema.get("*"))
            if sub is None:
                problem(where, f"unknown field `{key}`")
            else:
                check(v, sub, f"{where}.{key}")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            return problem(where, f"expected a list, got {type(value).__name__}")
        for i, v in enumerate(value):
            check(v, schema[0], f"{where}[{i}]")
    elif isinstance(schema, tuple):
        if value not in schema[1]:
            problem(where, f"`{value}` is not one of {sorted(schema[1])}")
    elif schema == STR:
        if not isinstance(value, str):
            problem(where, f"expected a string, got {value!r}")
    elif schema == INT:
        if not isinstance(value, int) or isinstance(value, bool):
            problem(where, f"expected an integer, got {value!r}")
    elif schema == BOOL:
        if not isinstance(value, bool):
            problem(where, f"expected true/false, got {value!r}")
    elif schema == INTSTR:
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            problem(where, f"expected an integer or a name, got {value!r}")
    elif schema == QTY:
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or
                                           (isinstance(value, str) and re.fullmatch(r"[0-9.]+([EPTGMk]i?|m|)", value))):
            problem(where, f"not a quantity: {value!r}")
    elif schema == MAP:
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            problem(where, f"expected a string-to-string mapping (quote numbers and booleans), got {value!r}")
    else:
        raise AssertionError(schema)


def pod_templates(objs):
    for where, obj in objs:
        if obj.get("kind") in ("DaemonSet", "Deployment"):
            yield where, obj, obj.get("spec", {}).get("template", {})


def check_kubernetes(objs, repo):
    for where, obj in objs:
        key = (obj.get("apiVersion"), obj.get("kind"))
        schema = SCHEMAS.get(key)
        if schema is None:
            problem(where, f"apiVersion/kind {key} is not in the whitelist")
            continue
        check(obj, schema, where)
        if not g(obj, "metadata", "name"):
            problem(where, "no metadata.name")

    by_kind = {}
    for where, obj in objs:
        by_kind.setdefault(obj.get("kind"), []).append((where, obj))

    # The RuntimeClass and who uses it.
    rcs = by_kind.get("RuntimeClass", [])
    if len(rcs) != 1:
        problem("deploy/", f"expected exactly one RuntimeClass, found {len(rcs)}")
    else:
        where, rc = rcs[0]
        if g(rc, "metadata", "name") != "reaper-v2" or rc.get("handler") != "reaper-v2":
            problem(where, "the RuntimeClass must be named reaper-v2 with handler reaper-v2")
        selector = g(rc, "scheduling", "nodeSelector")
        entry = (repo / "deploy/node-installer/entrypoint.sh").read_text()
        m = re.search(r"REAPER_NODE_LABEL-([^}]+)\}", entry)
        if not m or "=" not in m.group(1):
            problem("deploy/node-installer/entrypoint.sh", "no default REAPER_NODE_LABEL found")
        else:
            k, v = m.group(1).split("=", 1)
            if selector != {k: v}:
                problem(where, f"scheduling.nodeSelector {selector} is not the installer's label {k}={v}")
    for where, obj, tpl in pod_templates(objs):
        rcn = g(tpl, "spec").get("runtimeClassName")
        if rcn is not None and rcn != "reaper-v2":
            problem(where, f"runtimeClassName {rcn}: not the reaper-v2 RuntimeClass")
        if where.startswith("deploy/examples/") and rcn != "reaper-v2":
            problem(where, "an example pod without runtimeClassName: reaper-v2")
        sel = g(obj, "spec", "selector", "matchLabels")
        labels = g(tpl, "metadata", "labels")
        if not sel or any(labels.get(k) != v for k, v in sel.items()):
            problem(where, f"selector {sel} does not match the template's labels {labels}")
        spec = g(tpl, "spec")
        volumes = {g(v, "name") for v in spec.get("volumes") or []}
        names = [g(c, "name") for c in spec.get("containers") or []]
        if len(names) != len(set(names)):
            problem(where, f"duplicate container names {names}")
        for c in spec.get("containers") or []:
            for m in g(c, "volumeMounts") or []:
                if g(m, "name") not in volumes:
                    problem(where, f"container {c.get('name')} mounts undefined volume {m.get('name')}")
            for field in ("name", "image"):
                if not c.get(field):
                    problem(where, f"a container without {field}")

    # The policy and the namespaces it lets through.
    bindings = by_kind.get("ValidatingAdmissionPolicyBinding", [])
    policies = {g(o, "metadata", "name") for _, o in by_kind.get("ValidatingAdmissionPolicy", [])}
    allowed_label = None
    for where, b in bindings:
        if g(b, "spec").get("policyName") not in policies:
            problem(where, f"binds unknown policy {g(b, 'spec').get('policyName')}")
        for e in g(b, "spec", "matchResources", "namespaceSelector").get("matchExpressions") or []:
            if g(e).get("operator") == "NotIn" and g(e).get("values") == ["true"]:
                allowed_label = e.get("key")
    for where, p in by_kind.get("ValidatingAdmissionPolicy", []):
        if not any("reaper-v2" in str(g(v).get("expression", "")) for v in g(p, "spec").get("validations") or []):
            problem(where, "no validation mentions reaper-v2")
    if allowed_label is None:
        problem("deploy/policy/", "no binding exempts namespaces labelled <key>=true (NotIn [\"true\"])")
    ns_of_examples = set()
    for where, obj in objs:
        if where.startswith("deploy/examples/"):
            if obj.get("kind") == "Namespace":
                if g(obj, "metadata", "labels").get(allowed_label) != "true":
                    problem(where, f"the examples' namespace is not labelled {allowed_label}=true")
                ns_of_examples.add(g(obj, "metadata", "name"))
    for where, obj in objs:
        if where.startswith("deploy/examples/") and obj.get("kind") != "Namespace":
            if g(obj, "metadata").get("namespace") not in ns_of_examples:
                problem(where, f"namespace {g(obj, 'metadata').get('namespace')} is not the examples' namespace")


def check_ansible(where, plays, repo):
    if not isinstance(plays, list):
        return problem(where, "a playbook is a list of plays")
    for i, play in enumerate(plays):
        pw = f"{where}[{i}]"
        if not isinstance(play, dict):
            problem(pw, "a play is a mapping")
            continue
        for k in play:
            if k not in PLAY_KEYS:
                problem(pw, f"unknown play keyword `{k}`")
        for section in ("pre_tasks", "tasks", "post_tasks"):
            check_tasks(play.get(section, []), f"{pw}.{section}")
    text = (repo / where).read_text()
    for script in re.findall(r"\b(install\.sh|uninstall\.sh)\b", text):
        if not (repo / "packaging" / script).is_file():
            problem(where, f"copies packaging/{script}, which does not exist")


def check_tasks(tasks, where):
    if not isinstance(tasks, list):
        return problem(where, "tasks are a list")
    for i, task in enumerate(tasks):
        tw = f"{where}[{i}]"
        if not isinstance(task, dict):
            problem(tw, "a task is a mapping")
            continue
        modules = [k for k in task if k not in TASK_KEYS]
        if "block" in task:
            if modules:
                problem(tw, f"a block with module keys {modules}")
            for section in ("block", "rescue", "always"):
                check_tasks(task.get(section, []), f"{tw}.{section}")
            continue
        if len(modules) != 1:
            problem(tw, f"expected one module, found {modules}")
            continue
        module = modules[0]
        if module not in MODULES:
            problem(tw, f"module `{module}` is not in the whitelist (use its ansible.builtin. name)")
            continue
        params = task[module]
        if not isinstance(params, dict):
            problem(tw, f"{module}: parameters must be a mapping")
            continue
        for p in params:
            if p not in MODULES[module]:
                problem(tw, f"{module} has no parameter `{p}`")
        if not task.get("name"):
            problem(tw, "a task without a name")


def check_snippets(repo):
    plugins = {"config-v2.toml": "io.containerd.grpc.v1.cri", "config-v3.toml": "io.containerd.cri.v1.runtime"}
    want = {"runtime_type": "io.containerd.reaper.v2", "pod_annotations": ["reaper.runtime/*"]}
    for name, plugin in plugins.items():
        path = repo / "deploy/containerd" / name
        try:
            doc = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            problem(f"deploy/containerd/{name}", str(e))
            continue
        expected = {"plugins": {plugin: {"containerd": {"runtimes": {"reaper-v2": want}}}}}
        if doc != expected:
            problem(f"deploy/containerd/{name}", f"expected exactly {expected}, got {doc}")


def main():
    repo = pathlib.Path(sys.argv[1]).resolve()
    files = sorted(p for p in (repo / "deploy").rglob("*") if p.suffix in (".yaml", ".yml"))
    if not files:
        problem("deploy/", "no YAML files")
    objs = []
    for path in files:
        rel = str(path.relative_to(repo))
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            problem(rel, f"does not parse: {e}")
            continue
        if rel.startswith("deploy/ansible/"):
            for d in docs:
                check_ansible(rel, d, repo)
            continue
        for i, d in enumerate(docs):
            if not isinstance(d, dict):
                problem(f"{rel}#{i}", "not a Kubernetes object")
                continue
            objs.append((f"{rel}#{i} ({d.get('kind')} {g(d, 'metadata', 'name')})", d))
    check_kubernetes(objs, repo)
    check_snippets(repo)
    for p in problems:
        print(p)
    print(f"checked {len(files)} YAML files, {len(objs)} Kubernetes objects: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
