#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "common/fs.h"
#include "oci/spec.h"

using namespace reaper;
using namespace reaper::oci;

namespace {

// What containerd's CRI plugin writes for a Kubernetes container (trimmed):
// also test/fuzz/corpus/oci_spec/config-cri.json.
constexpr std::string_view cri_config = R"json({
  "ociVersion": "1.1.0",
  "process": {
    "user": {
      "uid": 65534,
      "gid": 65534,
      "umask": 18,
      "additionalGids": [65534, 10]
    },
    "args": ["/usr/local/bin/server", "--port=8080", "--log-level=info"],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOSTNAME=web-7d4b9c8f6-x2k9p",
      "KUBERNETES_SERVICE_HOST=10.96.0.1",
      "KUBERNETES_PORT=tcp://10.96.0.1:443",
      "EMPTY="
    ],
    "cwd": "/app",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                   "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"],
      "effective": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1024},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "apparmorProfile": "cri-containerd.apparmor.d",
    "oomScoreAdj": 1000,
    "noNewPrivileges": true
  },
  "root": {
    "path": "rootfs"
  },
  "hostname": "web-7d4b9c8f6-x2k9p",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/etc/hosts", "type": "bind",
     "source": "/var/lib/kubelet/pods/0f3c/etc-hosts", "options": ["rbind", "rprivate", "rw"]},
    {"destination": "/dev/termination-log", "type": "bind",
     "source": "/var/lib/kubelet/pods/0f3c/containers/web/1a2b", "options": ["rbind", "rprivate", "rw"]},
    {"destination": "/etc/hostname", "type": "bind",
     "source": "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/5e6f/hostname",
     "options": ["rbind", "rprivate", "rw"]},
    {"destination": "/etc/resolv.conf", "type": "bind",
     "source": "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/5e6f/resolv.conf",
     "options": ["rbind", "rprivate", "rw"]},
    {"destination": "/dev/shm", "type": "bind",
     "source": "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/5e6f/shm",
     "options": ["rbind", "rprivate", "rw"]},
    {"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "type": "bind",
     "source": "/var/lib/kubelet/pods/0f3c/volumes/kubernetes.io~projected/kube-api-access-8xk2q",
     "options": ["rbind", "rprivate", "ro"]}
  ],
  "annotations": {
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.container-name": "web",
    "io.kubernetes.cri.image-name": "registry.example.com/web:1.4.2",
    "io.kubernetes.cri.sandbox-id": "5e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304a5b6c7",
    "io.kubernetes.cri.sandbox-name": "web-7d4b9c8f6-x2k9p",
    "io.kubernetes.cri.sandbox-namespace": "default",
    "io.kubernetes.cri.sandbox-uid": "0f3c2d1e-4b5a-6978-8a9b-0c1d2e3f4a5b"
  },
  "linux": {
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 268435456, "swap": 268435456},
      "cpu": {"shares": 256, "quota": 50000, "period": 100000},
      "pids": {"limit": 1024},
      "unified": {"memory.oom.group": "1"}
    },
    "cgroupsPath": "kubepods-burstable-pod0f3c2d1e.slice:cri-containerd:9a8b7c6d",
    "namespaces": [
      {"type": "pid"},
      {"type": "ipc", "path": "/proc/4242/ns/ipc"},
      {"type": "uts", "path": "/proc/4242/ns/uts"},
      {"type": "mount"},
      {"type": "network", "path": "/var/run/netns/cni-1f2e3d4c-5b6a-7988-a7b6-c5d4e3f2a1b0"},
      {"type": "cgroup"}
    ],
    "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                    "/proc/scsi", "/sys/firmware"],
    "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                      "/proc/sysrq-trigger"],
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}
  }
}
)json";

// The error message of a parse that must fail; "<ok>" if it did not.
template <typename T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? "<ok>" : r.error().what();
}

std::string spec_error(std::string_view json) {
  return error_of(parse_spec(json, "config.json"));
}

// A config whose process has `fields` (JSON members without the braces).
std::string with_process(std::string_view fields) {
  return fmt::format(R"({{"ociVersion":"1.0.2","process":{{{}}}}})", fields);
}

constexpr std::string_view valid_user = R"("user":{"uid":0,"gid":0})";

// A valid config with `members` added at the top level.
std::string with_top(std::string_view members) {
  return fmt::format(R"({{"ociVersion":"1.0.2",{}}})", members);
}

// A temporary bundle directory, removed with its config.json.
class TempBundle {
 public:
  TempBundle() {
    char tmpl[] = "/tmp/reaper-test-oci-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempBundle() {
    ::unlink((path_ + "/config.json").c_str());
    ::rmdir(path_.c_str());
  }
  TempBundle(const TempBundle&) = delete;
  TempBundle& operator=(const TempBundle&) = delete;

  void write_config(std::string_view text) const {
    auto dir = fs::open_dir(path_);
    REQUIRE(dir.ok());
    REQUIRE(fs::write_file_atomic_at(dir->get(), "config.json", text).ok());
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("a CRI config.json parses to the right values") {
  auto r = parse_spec(cri_config, "config.json");
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  const Spec& spec = *r;
  CHECK(spec.oci_version == "1.1.0");
  CHECK(spec.root_path == "rootfs");
  CHECK_FALSE(spec.root_readonly);
  CHECK(spec.hostname == "web-7d4b9c8f6-x2k9p");

  REQUIRE(spec.process.has_value());
  const Process& p = *spec.process;
  CHECK_FALSE(p.terminal);
  CHECK_FALSE(p.console_size.has_value());
  CHECK(p.user.uid == 65534);
  CHECK(p.user.gid == 65534);
  REQUIRE(p.user.umask.has_value());
  CHECK(*p.user.umask == 022);
  CHECK(p.user.additional_gids == std::vector<gid_t>{65534, 10});
  CHECK(p.args ==
        std::vector<std::string>{"/usr/local/bin/server", "--port=8080", "--log-level=info"});
  REQUIRE(p.env.size() == 5);
  CHECK(p.env[0] == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  CHECK(p.env[3] == "KUBERNETES_PORT=tcp://10.96.0.1:443");
  CHECK(p.env[4] == "EMPTY=");
  CHECK(p.cwd == "/app");
  REQUIRE(p.capabilities.has_value());
  CHECK(p.capabilities->bounding.size() == 14);
  CHECK(p.capabilities->bounding[13] == "CAP_AUDIT_WRITE");
  CHECK(p.capabilities->effective ==
        std::vector<std::string>{"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"});
  CHECK(p.capabilities->permitted == p.capabilities->effective);
  CHECK(p.capabilities->inheritable.empty());
  CHECK(p.capabilities->ambient.empty());
  REQUIRE(p.rlimits.size() == 2);
  CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(p.rlimits[0].hard == 1048576);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(p.rlimits[1].type == "RLIMIT_CORE");
  CHECK(p.rlimits[1].hard == RLIM_INFINITY);
  CHECK(p.rlimits[1].soft == 0);
  CHECK(p.no_new_privileges);
  CHECK(p.oom_score_adj == 1000);

  REQUIRE(spec.mounts.size() == 12);
  CHECK(spec.mounts[0].destination == "/proc");
  CHECK(spec.mounts[0].type == "proc");
  CHECK(spec.mounts[0].source == "proc");
  CHECK(spec.mounts[0].options == std::vector<std::string>{"nosuid", "noexec", "nodev"});
  const Mount& hosts = spec.mounts[6];
  CHECK(hosts.destination == "/etc/hosts");
  CHECK(hosts.type == "bind");
  CHECK(hosts.source == "/var/lib/kubelet/pods/0f3c/etc-hosts");
  CHECK(hosts.options == std::vector<std::string>{"rbind", "rprivate", "rw"});
  CHECK(spec.mounts[11].destination == "/var/run/secrets/kubernetes.io/serviceaccount");
  CHECK(spec.mounts[11].options.back() == "ro");

  CHECK(spec.annotations.size() == 7);
  CHECK(spec.annotations.at("io.kubernetes.cri.container-type") == "container");
  CHECK(spec.annotations.at("io.kubernetes.cri.sandbox-id") ==
        "5e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071829304a5b6c7");
  CHECK(spec.annotations.at("io.kubernetes.cri.image-name") == "registry.example.com/web:1.4.2");

  CHECK(spec.cgroups_path == "kubepods-burstable-pod0f3c2d1e.slice:cri-containerd:9a8b7c6d");
  CHECK(
      spec.resources_json ==
      R"({"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":268435456,"swap":268435456},)"
      R"("cpu":{"shares":256,"quota":50000,"period":100000},"pids":{"limit":1024},)"
      R"("unified":{"memory.oom.group":"1"}})");
  REQUIRE(spec.namespaces.size() == 6);
  CHECK(spec.namespaces[0].type == "pid");
  CHECK(spec.namespaces[0].path.empty());
  CHECK(spec.namespaces[1].type == "ipc");
  CHECK(spec.namespaces[1].path == "/proc/4242/ns/ipc");
  CHECK(spec.namespaces[4].type == "network");
  CHECK(spec.namespaces[4].path == "/var/run/netns/cni-1f2e3d4c-5b6a-7988-a7b6-c5d4e3f2a1b0");
  CHECK(spec.namespaces[5].type == "cgroup");
}

TEST_CASE("a minimal config leaves the optional parts empty") {
  auto r = parse_spec(R"({"ociVersion":"1.0.2"})", "config.json");
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK_FALSE(r->process.has_value());
  CHECK(r->root_path.empty());
  CHECK(r->mounts.empty());
  CHECK(r->annotations.empty());
  CHECK(r->cgroups_path.empty());
  CHECK(r->resources_json.empty());
  CHECK(r->namespaces.empty());
}

TEST_CASE("unknown fields are ignored and null means absent") {
  auto r = parse_spec(R"({
    "ociVersion": "1.2.0", "futureThing": {"deep": [1, 2.5, null, {"x": "y"}]},
    "hostname": null, "hooks": {"prestart": [{"path": "/bin/true"}]},
    "process": {"user": {"uid": 1, "gid": 2, "username": "x", "umask": null},
                "args": ["a"], "cwd": "/", "env": null, "capabilities": null,
                "selinuxLabel": "s0", "ioPriority": {"class": "IOPRIO_CLASS_RT"},
                "scheduler": {"policy": "SCHED_OTHER"}, "oomScoreAdj": null},
    "root": {"path": "/r", "readonly": true, "extra": 1},
    "mounts": [{"destination": "/x", "uidMappings": [], "future": true}],
    "linux": {"resources": null, "namespaces": [{"type": "user", "extra": 0}],
              "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}
  })",
                      "config.json");
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->oci_version == "1.2.0");
  CHECK(r->hostname.empty());
  CHECK(r->root_path == "/r");
  CHECK(r->root_readonly);
  REQUIRE(r->process.has_value());
  CHECK(r->process->user.uid == 1);
  CHECK(r->process->user.gid == 2);
  CHECK_FALSE(r->process->user.umask.has_value());
  CHECK(r->process->env.empty());
  CHECK_FALSE(r->process->capabilities.has_value());
  CHECK_FALSE(r->process->oom_score_adj.has_value());
  REQUIRE(r->mounts.size() == 1);
  CHECK(r->mounts[0].destination == "/x");
  CHECK(r->mounts[0].type.empty());
  CHECK(r->resources_json.empty());
  REQUIRE(r->namespaces.size() == 1);
  CHECK(r->namespaces[0].type == "user");
}

TEST_CASE("process errors name the JSON path") {
  struct Case {
    std::string json;
    std::string message;
  };
  auto p = [](std::string_view fields) { return with_process(fields); };
  const std::string rest = R"("args":["sh"],"cwd":"/")";
  auto user = [&](std::string_view u) { return p(fmt::format(R"("user":{},{})", u, rest)); };
  auto more = [&](std::string_view extra) {
    return p(fmt::format(R"({},{},{})", valid_user, rest, extra));
  };
  const Case cases[] = {
      {user(R"({"uid":"0","gid":0})"), "process.user.uid: expected unsigned integer"},
      {user(R"({"uid":-1,"gid":0})"), "process.user.uid: expected unsigned integer"},
      {user(R"({"uid":1.5,"gid":0})"), "process.user.uid: expected unsigned integer"},
      {user(R"({"uid":4294967296,"gid":0})"),
       "process.user.uid: 4294967296 does not fit in 32 bits"},
      {user(R"({"uid":4294967295,"gid":0})"), "process.user.uid: 4294967295 is not a valid ID"},
      {user(R"({"uid":0})"), "process.user.gid: missing required field"},
      {user(R"({"uid":0,"gid":18446744073709551615})"),
       "process.user.gid: 18446744073709551615 does not fit in 32 bits"},
      {user(R"({"uid":0,"gid":0,"additionalGids":[1,"x"]})"),
       "process.user.additionalGids[1]: expected unsigned integer"},
      {user(R"({"uid":0,"gid":0,"additionalGids":5})"),
       "process.user.additionalGids: expected array"},
      {user(R"({"uid":0,"gid":0,"umask":512})"), "process.user.umask: 01000 is greater than 0777"},
      {user(R"([0,0])"), "process.user: expected object"},
      {p(rest), "process.user: missing required field"},
      {p(fmt::format(R"({},"args":[],"cwd":"/")", valid_user)), "process.args: must not be empty"},
      {p(fmt::format(R"({},"cwd":"/")", valid_user)), "process.args: missing required field"},
      {p(fmt::format(R"({},"args":"sh","cwd":"/")", valid_user)), "process.args: expected array"},
      {p(fmt::format(R"({},"args":["sh",1],"cwd":"/")", valid_user)),
       "process.args[1]: expected string"},
      {p(fmt::format(R"({},"args":["a\u0000b"],"cwd":"/")", valid_user)),
       "process.args[0]: contains a NUL byte"},
      {p(fmt::format(R"({},"args":["sh"],"cwd":"app")", valid_user)),
       "process.cwd: must be an absolute path"},
      {p(fmt::format(R"({},"args":["sh"],"cwd":"")", valid_user)),
       "process.cwd: must be an absolute path"},
      {p(fmt::format(R"({},"args":["sh"])", valid_user)), "process.cwd: missing required field"},
      {more(R"("env":["A=1","SECRET"])"), "process.env[1]: expected KEY=VALUE"},
      {more(R"("env":"A=1")"), "process.env: expected array"},
      {more(R"("capabilities":{"bounding":["CAP_CHOWN","CAP_FOO"]})"),
       "process.capabilities.bounding[1]: unknown capability `CAP_FOO`"},
      {more(R"("capabilities":{"ambient":["cap_chown"]})"),
       "process.capabilities.ambient[0]: unknown capability `cap_chown`"},
      {more(R"("capabilities":{"effective":["CHOWN"]})"),
       "process.capabilities.effective[0]: unknown capability `CHOWN`"},
      {more(R"("capabilities":["CAP_CHOWN"])"), "process.capabilities: expected object"},
      {more(R"("rlimits":[{"type":"RLIMIT_FOO","hard":1,"soft":1}])"),
       "process.rlimits[0].type: unknown rlimit type `RLIMIT_FOO`"},
      {more(R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":1}])"),
       "process.rlimits[0].soft: missing required field"},
      {more(R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":-1,"soft":1}])"),
       "process.rlimits[0].hard: expected unsigned integer"},
      {more(R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":5,"soft":10}])"),
       "process.rlimits[0]: soft limit 10 is above hard limit 5"},
      {more(
           R"("rlimits":[{"type":"RLIMIT_NOFILE","hard":5,"soft":5},{"type":"RLIMIT_CORE","hard":0,"soft":0},)"
           R"({"type":"RLIMIT_NOFILE","hard":6,"soft":6}])"),
       "process.rlimits[2].type: duplicate `RLIMIT_NOFILE`"},
      {more(R"("oomScoreAdj":1001)"), "process.oomScoreAdj: must be between -1000 and 1000"},
      {more(R"("oomScoreAdj":-1001)"), "process.oomScoreAdj: must be between -1000 and 1000"},
      {more(R"("oomScoreAdj":"5")"), "process.oomScoreAdj: expected integer"},
      {more(R"("oomScoreAdj":9223372036854775808)"), "process.oomScoreAdj: integer out of range"},
      {more(R"("terminal":"yes")"), "process.terminal: expected boolean"},
      {more(R"("noNewPrivileges":1)"), "process.noNewPrivileges: expected boolean"},
      {more(R"("consoleSize":{"height":24})"), "process.consoleSize.width: missing required field"},
      {more(R"("consoleSize":{"height":24,"width":-80})"),
       "process.consoleSize.width: expected unsigned integer"},
      {R"({"ociVersion":"1.0.2","process":[]})", "process: expected object"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    CHECK(spec_error(c.json) == "config.json: " + c.message);
  }
}

TEST_CASE("spec errors name the JSON path") {
  struct Case {
    std::string json;
    std::string message;
  };
  const Case cases[] = {
      {"{}", "ociVersion: missing required field"},
      {R"({"ociVersion":1})", "ociVersion: expected string"},
      {"[]", "expected a JSON object"},
      {R"("config")", "expected a JSON object"},
      {with_top(R"("hostname":true)"), "hostname: expected string"},
      {with_top(R"("root":{})"), "root.path: missing required field"},
      {with_top(R"("root":{"path":"r","readonly":"no"})"), "root.readonly: expected boolean"},
      {with_top(R"("mounts":{})"), "mounts: expected array"},
      {with_top(R"("mounts":[{"destination":"/a"},{"destination":"/b"},{"destination":"c"}])"),
       "mounts[2].destination: must be an absolute path"},
      {with_top(R"("mounts":[{"type":"tmpfs"}])"), "mounts[0].destination: missing required field"},
      {with_top(R"("mounts":[{"destination":"/a","options":"ro"}])"),
       "mounts[0].options: expected array"},
      {with_top(R"("mounts":[{"destination":"/a","options":["ro",false]}])"),
       "mounts[0].options[1]: expected string"},
      {with_top(R"("mounts":[{"destination":"/a","source":7}])"),
       "mounts[0].source: expected string"},
      {with_top(R"("mounts":["/a"])"), "mounts[0]: expected object"},
      {with_top(R"("annotations":{"a":"b","io.x/y":1})"),
       R"(annotations["io.x/y"]: expected string)"},
      {with_top(R"("annotations":[])"), "annotations: expected object"},
      {with_top(R"("linux":[])"), "linux: expected object"},
      {with_top(R"("linux":{"resources":[]})"), "linux.resources: expected object"},
      {with_top(R"("linux":{"cgroupsPath":5})"), "linux.cgroupsPath: expected string"},
      {with_top(R"("linux":{"namespaces":[{"type":"pid"},{"type":"net"}]})"),
       "linux.namespaces[1].type: unknown namespace type `net`"},
      {with_top(R"("linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"pid"}]})"),
       "linux.namespaces[2].type: duplicate `pid`"},
      {with_top(R"("linux":{"namespaces":[{"type":"network","path":"netns/x"}]})"),
       "linux.namespaces[0].path: must be an absolute path"},
      {with_top(R"("linux":{"namespaces":[{"path":"/proc/1/ns/net"}]})"),
       "linux.namespaces[0].type: missing required field"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    CHECK(spec_error(c.json) == "config.json: " + c.message);
  }
}

TEST_CASE("malformed JSON gives simdjson's message and the origin") {
  CHECK(spec_error("") == "config.json: malformed JSON: empty document");
  CHECK(spec_error("   ") ==
        "config.json: malformed JSON: " + std::string(simdjson::error_message(simdjson::EMPTY)));
  CHECK(spec_error(R"({"ociVersion":"1.0.2",})") ==
        "config.json: malformed JSON: " +
            std::string(simdjson::error_message(simdjson::TAPE_ERROR)));
  CHECK(spec_error("{\"ociVersion\":\"1.0\xff\"}") ==
        "config.json: malformed JSON: " +
            std::string(simdjson::error_message(simdjson::UTF8_ERROR)));
  CHECK(spec_error(R"({"ociVersion":"1.0.2","process":{"args":["sh"],)") ==
        "config.json: malformed JSON: " +
            std::string(simdjson::error_message(simdjson::TAPE_ERROR)));
  CHECK(spec_error(R"({"ociVersion":"1.0.2"} {})") ==
        "config.json: malformed JSON: " +
            std::string(simdjson::error_message(simdjson::TAPE_ERROR)));
  std::string deep(2000, '[');
  CHECK(spec_error(deep).starts_with("config.json: malformed JSON: "));
  std::string unterminated = R"({"ociVersion":"1.0.2)";
  CHECK(spec_error(unterminated).starts_with("config.json: malformed JSON: "));
}

TEST_CASE("parse_process reads a standalone process with paths relative to it") {
  auto r = parse_process(
      R"({"terminal":true,"consoleSize":{"height":24,"width":80},"user":{"uid":1000,"gid":1000},)"
      R"("args":["/bin/sh","-c","ls"],"env":["TERM=xterm"],"cwd":"/root",)"
      R"("capabilities":{"bounding":["CAP_KILL"],"ambient":[]},"oomScoreAdj":-999})",
      "process.json");
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->terminal);
  REQUIRE(r->console_size.has_value());
  CHECK(r->console_size->height == 24);
  CHECK(r->console_size->width == 80);
  CHECK(r->user.uid == 1000);
  CHECK(r->args == std::vector<std::string>{"/bin/sh", "-c", "ls"});
  CHECK(r->env == std::vector<std::string>{"TERM=xterm"});
  CHECK(r->cwd == "/root");
  CHECK(r->capabilities->bounding == std::vector<std::string>{"CAP_KILL"});
  CHECK(r->oom_score_adj == -999);

  const std::string empty_args = R"({"user":{"uid":0,"gid":0},"args":[],"cwd":"/"})";
  CHECK(error_of(parse_process(empty_args, "process.json")) ==
        "process.json: args: must not be empty");
  CHECK(error_of(parse_process(empty_args, "")) == "args: must not be empty");
  CHECK(error_of(parse_process(R"({"user":{"uid":0,"gid":"0"}})", "p")) ==
        "p: user.gid: expected unsigned integer");
  CHECK(error_of(parse_process("[1]", "p")) == "p: expected a JSON object");
  CHECK(error_of(parse_process("{", "p")).starts_with("p: malformed JSON: "));
}

TEST_CASE("load_spec reads <bundle>/config.json") {
  TempBundle bundle;
  std::string config_path = bundle.path() + "/config.json";

  auto missing = load_spec(bundle.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().err() == ENOENT);
  CHECK(missing.error().what() == "open `" + config_path + "`: No such file or directory");

  bundle.write_config(cri_config);
  auto r = load_spec(bundle.path());
  REQUIRE_MESSAGE(r.ok(), error_of(r));
  CHECK(r->process->args.front() == "/usr/local/bin/server");

  bundle.write_config(with_process(R"("user":{"uid":0,"gid":0},"args":[],"cwd":"/")"));
  CHECK(error_of(load_spec(bundle.path())) ==
        "`" + config_path + "`: process.args: must not be empty");
}

TEST_CASE("parse_signal accepts names, numbers and real-time forms") {
  struct Case {
    std::string_view text;
    int number;
  };
  const Case cases[] = {
      {"SIGTERM", SIGTERM},
      {"TERM", SIGTERM},
      {"term", SIGTERM},
      {"SigKill", SIGKILL},
      {"sighup", SIGHUP},
      {"HUP", 1},
      {"SIGCHLD", SIGCHLD},
      {"CLD", SIGCHLD},
      {"SIGWINCH", SIGWINCH},
      {"usr1", SIGUSR1},
      {"SIGSYS", SIGSYS},
      {"15", 15},
      {"1", 1},
      {"64", 64},
      {"09", 9},
      {"SIGRTMIN", 34},
      {"SIGRTMIN+3", 37},
      {"rtmin+0", 34},
      {"RTMIN+30", 64},
      {"RTMAX", 64},
      {"RTMAX-1", 63},
      {"sigrtmax-30", 34},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = parse_signal(c.text);
    REQUIRE_MESSAGE(r.ok(), error_of(r));
    CHECK(*r == c.number);
  }
}

TEST_CASE("parse_signal rejects everything else") {
  const std::string_view bad[] = {
      "0",          "65",     "-1",       "+15",      " 15",
      "15 ",        "15x",    "",         "SIG",      "SIGFOO",
      "SIGSIGTERM", "TERM!",  "RTMIN+31", "RTMAX-31", "RTMIN-1",
      "RTMAX+1",    "RTMIN+", "RTMIN+ 1", "RTMINX",   "99999999999999999999",
  };
  for (auto text : bad) {
    CAPTURE(text);
    CHECK(error_of(parse_signal(text)) == fmt::format("invalid signal `{}`", text));
  }
}

TEST_CASE("capability and rlimit tables agree with libcap and the libc") {
  CHECK(capability_number("CAP_CHOWN") == 0);
  CHECK(capability_number("CAP_SYS_ADMIN") == 21);
  CHECK(capability_number("CAP_PERFMON") == 38);
  CHECK(capability_number("CAP_BPF") == 39);
  CHECK(capability_number("CAP_CHECKPOINT_RESTORE") == 40);
  CHECK_FALSE(capability_number("cap_chown").has_value());
  CHECK_FALSE(capability_number("CAP_41").has_value());
  CHECK_FALSE(capability_number("").has_value());
  for (int i = 0; i <= 40; ++i) {
    char* name = cap_to_name(static_cast<cap_value_t>(i));
    REQUIRE(name != nullptr);
    std::string upper(name);
    cap_free(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CAPTURE(upper);
    CHECK(capability_number(upper) == i);
  }

  CHECK(rlimit_resource("RLIMIT_NOFILE") == RLIMIT_NOFILE);
  CHECK(rlimit_resource("RLIMIT_CORE") == RLIMIT_CORE);
  CHECK(rlimit_resource("RLIMIT_RTTIME") == RLIMIT_RTTIME);
  CHECK_FALSE(rlimit_resource("RLIMIT_FOO").has_value());
  CHECK_FALSE(rlimit_resource("rlimit_nofile").has_value());
}
