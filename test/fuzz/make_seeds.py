#!/usr/bin/env python3
# Writes the generated part of the seed corpora, test/fuzz/corpus/<target>/:
# real-looking ttrpc streams and task requests (protobuf encoded by hand
# below), configs, records and names. Hand-written seeds live beside them.
# Re-run after changing it and commit the result.
import os, json, struct
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')

def w(target, name, data):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(os.path.join(d, name), 'wb').write(data)

# --- protobuf encoding -------------------------------------------------------
def varint(n):
    n &= (1 << 64) - 1
    out = b''
    while True:
        b = n & 0x7f; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def f_varint(num, v): return varint(num << 3) + varint(v)
def f_bytes(num, b):
    if isinstance(b, str): b = b.encode()
    return varint(num << 3 | 2) + varint(len(b)) + b
def msg(*fields): return b''.join(fields)

def frame(stream, typ, payload, flags=0):
    return struct.pack('>IIBB', len(payload), stream, typ, flags) + payload
def request(service, method, payload, timeout=0, md=()):
    r = f_bytes(1, service) + f_bytes(2, method) + f_bytes(3, payload)
    if timeout: r += f_varint(4, timeout)
    for k, v in md: r += f_bytes(5, f_bytes(1, k) + f_bytes(2, v))
    return r
def response(code, message, payload=b''):
    status = (f_varint(1, code) if code else b'') + (f_bytes(2, message) if message else b'')
    return f_bytes(1, status) + (f_bytes(2, payload) if payload else b'')

V2 = 'containerd.task.v2.Task'
cid = 'b7d2c8f1a4e9'
bundle = f'/run/containerd/io.containerd.runtime.v2.task/k8s.io/{cid}'
fifo = f'/run/containerd/io.containerd.grpc.v1.cri/containers/{cid}/io/2418131911'
mount = msg(f_bytes(1, 'overlay'), f_bytes(2, 'overlay'), f_bytes(4, 'lowerdir=/var/lib/a:/var/lib/b'), f_bytes(4, 'upperdir=/u'))
create = msg(f_bytes(1, cid), f_bytes(2, bundle), f_bytes(3, mount), f_bytes(5, ''), f_bytes(6, fifo + '-stdout'), f_bytes(7, fifo + '-stderr'),
             f_bytes(10, msg(f_bytes(1, 'containerd.runc.v1.Options'), f_bytes(2, f_bytes(2, 'systemd')))))
process = json.dumps({"terminal": False, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "date"],
                      "env": ["PATH=/usr/bin:/bin"], "cwd": "/", "capabilities": {"bounding": ["CAP_KILL"]}}).encode()
exec_ = msg(f_bytes(1, cid), f_bytes(2, 'exec-1f2e'), f_bytes(5, fifo + '-exec-stdout'),
            f_bytes(7, msg(f_bytes(1, 'types.containerd.io/opencontainers/runtime-spec/1/Process'), f_bytes(2, process))))
start = msg(f_bytes(1, cid))
start_exec = msg(f_bytes(1, cid), f_bytes(2, 'exec-1f2e'))
kill = msg(f_bytes(1, cid), f_varint(3, 15), f_varint(4, 1))
kill_bad = msg(f_bytes(1, cid), f_varint(3, 0xffffffff))
resize = msg(f_bytes(1, cid), f_bytes(2, 'exec-1f2e'), f_varint(3, 120), f_varint(4, 40))
delete = msg(f_bytes(1, cid))
update = msg(f_bytes(1, cid), f_bytes(2, msg(f_bytes(1, 'linux resources'), f_bytes(2, b'{"memory":{"limit":1}}'))))
shutdown = msg(f_bytes(1, cid), f_varint(2, 1))
bad_id = msg(f_bytes(1, '../../etc'), f_bytes(2, 'a/b'))

methods = ["Create", "Start", "State", "Wait", "Kill", "Delete", "Exec", "ResizePty", "CloseIO", "Pids",
           "Stats", "Update", "Pause", "Resume", "Checkpoint", "Connect", "Shutdown"]
def call(method, payload, v3=False):
    return bytes([methods.index(method) | (0x80 if v3 else 0)]) + struct.pack('>H', len(payload)) + payload

# task_requests: method | u16 length | payload
w('task_requests', 'lifecycle', call('Create', create) + call('Start', start) + call('State', start) +
  call('Wait', start) + call('Kill', kill) + call('Delete', delete))
w('task_requests', 'exec', call('Exec', exec_) + call('Start', start_exec) + call('ResizePty', resize) +
  call('CloseIO', start_exec) + call('Delete', start_exec))
w('task_requests', 'v3-misc', call('Connect', start, True) + call('Pids', start, True) + call('Stats', start, True) +
  call('Update', update, True) + call('Pause', start) + call('Checkpoint', start) + call('Shutdown', shutdown))
w('task_requests', 'hostile', call('Kill', kill_bad) + call('Delete', bad_id) + call('Create', create[:40]) +
  call('Exec', b'\x0a\xff\xff\xff\xff\x0f'))

# ttrpc_server: chunk byte, then the raw stream
def stream(*reqs):
    out = b''; sid = 1
    for svc, m, p in reqs:
        out += frame(sid, 1, request(svc, m, p)); sid += 2
    return out
w('ttrpc_server', 'create-start', b'\x07' + stream((V2, 'Create', create), (V2, 'Start', start), (V2, 'Wait', start)))
w('ttrpc_server', 'unknown-service', b'\x00' + stream(('grpc.health.v1.Health', 'Check', b''), (V2, 'Frobnicate', b'')))
w('ttrpc_server', 'bad-stream-ids', b'\x10' + frame(2, 1, request(V2, 'State', start)) + frame(3, 1, request(V2, 'State', start)) +
  frame(3, 1, request(V2, 'State', start)) + frame(1, 1, request(V2, 'State', start)))
w('ttrpc_server', 'not-requests', b'\x03' + frame(1, 2, response(0, '')) + frame(3, 3, b'data', 1) + frame(5, 9, b'') +
  frame(7, 1, b'\xff\xff'))
w('ttrpc_server', 'oversize', b'\x01' + struct.pack('>IIBB', (4 << 20) + 1, 1, 1, 0) + b'x' * 64 +
  frame(3, 1, request(V2, 'Connect', start)))
w('ttrpc_server', 'timeout-metadata', b'\x20' + frame(1, 1, request(V2, 'Kill', kill, 1000000000, [('containerd-namespace', 'k8s.io')])))
w('ttrpc_server', 'truncated', b'\x05' + frame(1, 1, request(V2, 'Exec', exec_))[:-7])

# ttrpc_frames: chunk byte, then the stream (server and client side)
w('ttrpc_frames', 'requests', b'\x03' + stream((V2, 'Create', create), (V2, 'Delete', delete)))
w('ttrpc_frames', 'responses', b'\x11' + frame(1, 2, response(0, '', f_varint(1, 4242))) +
  frame(3, 2, response(5, 'container b7d2 not found')) + frame(5, 2, response(99, 'code out of range')))
w('ttrpc_frames', 'oversize-then-frame', b'\x3f' + struct.pack('>IIBB', 5000, 1, 1, 0) + b'y' * 5000 +
  frame(3, 1, request(V2, 'State', start)))
w('ttrpc_frames', 'partial', b'\x00' + frame(1, 1, request(V2, 'Start', start))[:12])

# oci_spec extras
base = {"ociVersion": "1.0.2", "process": {"user": {"uid": 1000, "gid": 1000, "additionalGids": [4, 24]},
        "args": ["/bin/sleep", "3600"], "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": True,
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
        "root": {"path": "rootfs"}, "hostname": "node-tool",
        "mounts": [{"destination": "/data", "type": "bind", "source": "/var/lib/kubelet/pods/8c1d/volumes/kubernetes.io~empty-dir/data", "options": ["rbind", "rw"]},
                   {"destination": "/host/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro", "nosuid", "nodev"]},
                   {"destination": "/proc/sys", "type": "bind", "source": "/proc/sys", "options": ["bind"]},
                   {"destination": "/dev/termination-log", "source": "/tmp/t", "options": ["bind"]}],
        "annotations": {"io.kubernetes.cri.sandbox-namespace": "kube-system", "reaper.runtime/overlay-name": "Tools",
                        "reaper.runtime/dns-mode": "kubernetes"},
        "linux": {"cgroupsPath": "/kubepods/besteffort/pod8c1d/abc", "resources": {"pids": {"limit": 64}},
                  "namespaces": [{"type": "mount"}, {"type": "network", "path": "/var/run/netns/x"}]}}
w('oci_spec', 'config-volumes.json', json.dumps(base, indent=1))
w('oci_spec', 'config-nulls.json', '{"ociVersion":"1.0.0","process":null,"mounts":null,"annotations":null,"linux":{"resources":null,"namespaces":null}}')
w('oci_spec', 'config-escapes.json', '{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["a\\u0000b","\\ud83d\\ude00"],"cwd":"/\\u00e9t\\u00e9","env":["A=\\n"]},"annotations":{"k\\"ey":"v\\\\al"}}')

# oci_process extras
w('oci_process', 'process-minimal.json', '{"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/"}')
w('oci_process', 'process-full.json', json.dumps({"terminal": False, "user": {"uid": 33, "gid": 33, "umask": 0o22, "additionalGids": [4]},
  "args": ["/usr/bin/env"], "env": ["A=1", "B="], "cwd": "/var/www",
  "capabilities": {"bounding": ["CAP_NET_BIND_SERVICE"], "effective": [], "inheritable": [], "permitted": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"]},
  "rlimits": [{"type": "RLIMIT_CORE", "hard": 0, "soft": 0}, {"type": "RLIMIT_NPROC", "hard": 100, "soft": 50}],
  "noNewPrivileges": True, "oomScoreAdj": -500, "apparmorProfile": "unconfined", "selinuxLabel": ""}))
w('oci_process', 'process-bad.json', '{"user":{"uid":4294967295,"gid":0},"args":["x"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","hard":1,"soft":2}],"oomScoreAdj":1001}')

# annotations: config.json texts
def cfg(ann): return json.dumps({"ociVersion": "1.0.2", "annotations": ann})
w('annotations', 'cri-sandbox.json', cfg({"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "5e6f0a1b2c3d",
  "io.kubernetes.cri.sandbox-namespace": "default", "io.kubernetes.cri.sandbox-name": "web-0"}))
w('annotations', 'overlay-name.json', cfg({"io.kubernetes.cri.sandbox-namespace": "monitoring", "reaper.runtime/overlay-name": "node-exporter",
  "reaper.runtime/dns-mode": "host", "io.containerd.runc.v2.group": "grp-1"}))
w('annotations', 'hostile.json', cfg({"io.kubernetes.cri.sandbox-namespace": "../../etc", "reaper.runtime/overlay-name": "a/b",
  "reaper.runtime/dns-mode": "K8S", "io.kubernetes.cri.sandbox-id": "../../../../tmp/x"}))
w('annotations', 'duplicates.json', '{"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-namespace":"a","io.kubernetes.cri.sandbox-namespace":"b"}}')
w('annotations', 'no-annotations.json', '{"ociVersion":"1.0.2","annotations":null}')

# state_records: mode byte + text
state = {"version": 1, "id": cid, "bundle": bundle, "pid": 4242, "monitor_pid": 4240, "monitor_start": 1234567,
         "created_ns": 1764084683123456789, "terminal": False, "sandbox": False, "stdin": "", "stdout": fifo + "-stdout",
         "stderr": fifo + "-stderr", "overlay_group": "default", "annotations": {"io.kubernetes.cri.sandbox-namespace": "default"}}
w('state_records', 'state.json', b'\x00' + json.dumps(state).encode())
st2 = dict(state, exec_id="exec-1f2e", pid=4294967297, monitor_pid=-1, monitor_start=-5)
w('state_records', 'state-ranges.json', b'\x00' + json.dumps(st2).encode())
w('state_records', 'exit.json', b'\x00' + b'{"version":1,"status":137,"exited_ns":1764084690000000000,"reason":"signaled"}')
w('state_records', 'exit-wrong.json', b'\x00' + b'{"version":2,"status":"x"}')
w('state_records', 'users', b'\x02' + b'reaper-overlay-users 1\nc1 4240 1234567 4026532000 812=/data 813=/host%20etc\nc2 5000 99 4026532000\n')
w('state_records', 'reply-ok', b'\x03ok 4242')
w('state_records', 'reply-err', b'\x03err 3 the process is not running')
w('state_records', 'record-fields', b'\x01' + bytes(range(1, 200)))

# node_config: file text [NUL env lines]
w('node_config', 'reaper.conf', '''# reaper node configuration
REAPER_RUNTIME_ROOT=/run/reaper
REAPER_OVERLAY_ISOLATION=namespace
REAPER_OVERLAY_BASE="/var/lib/reaper/overlay"
REAPER_FILTER_MODE=append
REAPER_FILTER_PATHS=/etc/secret:/var/lib/app/keys
REAPER_FILTER_ALLOWLIST=/etc/sudoers
REAPER_DNS_MODE=kubernetes
REAPER_ANNOTATIONS_ALLOWLIST=reaper.runtime/dns-mode,overlay-name
REAPER_CGROUPS=disabled
REAPER_OVERLAY_NS=obsolete
''')
w('node_config', 'env-only', '\0REAPER_OVERLAY_ENABLED=false\nREAPER_RUNTIME_LOG=/var/log/reaper.log\nPATH=/bin\nREAPER_UNKNOWN=1')
w('node_config', 'bad-lines', "REAPER_RUNTIME_ROOT=/run/../etc\nREAPER_NOPE=1\nnot a line\n REAPER_FILTER_PATHS = '/' \n")
w('node_config', 'commas', 'REAPER_RUNTIME_ROOT=/run/re,aper\n\0REAPER_OVERLAY_NS_DIR=/run/ns\n')

# ids_signals
for n, t in [('id', cid), ('id-dots', 'a.b_c-d'), ('id-slash', 'a/b'), ('id-dotdot', '..'), ('id-ctl', 'a\x1b[31mred'),
             ('sig-term', 'SIGTERM'), ('sig-rt', 'SIGRTMIN+3'), ('sig-rtmax', 'rtmax-1'), ('sig-num', '9'), ('sig-big', '65'), ('sig-neg', '-1')]:
    w('ids_signals', n, t)
