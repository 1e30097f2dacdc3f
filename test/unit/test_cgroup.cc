// src/cgroup: cgroupsPath of both drivers, hierarchy detection, resource
// conversions and refusals, and the cgroup lifecycle against a fake cgroupfs
// (plain directories in a temporary tree, with Layout's seam doing what the
// kernel does on mkdir and rmdir). One case uses the node's real cgroup2
// mount when it is writable: join, cgroup.kill and rmdir for real.

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cgroup/cgroup.h"
#include "cgroup/handover.h"
#include "cgroup/layout.h"
#include "cgroup/oom.h"
#include "cgroup/path.h"
#include "cgroup/record.h"
#include "cgroup/resources.h"
#include "cgroup/stats.h"
#include "common/fd_passing.h"
#include "common/fs.h"
#include "common/syscalls.h"

using namespace reaper;
using namespace reaper::cgroup;

namespace {

std::string read_text(const std::string& path) {
  auto t = fs::read_file(path);
  REQUIRE_MESSAGE(t.ok(), path);
  return *t;
}

void write_text(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE_MESSAGE(fd >= 0, path);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void remove_tree(const std::string& path) {
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string sub = path + "/" + name;
      if (e->d_type == DT_DIR)
        remove_tree(sub);
      else
        ::unlink(sub.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(path.c_str());
}

// The control files a kernel would create in a new cgroup directory.
const std::map<std::string, std::map<std::string, std::string>> v1_files = {
    {"cpu",
     {{"cpu.shares", "1024\n"},
      {"cpu.cfs_quota_us", "-1\n"},
      {"cpu.cfs_period_us", "100000\n"},
      {"cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n"}}},
    {"cpuacct",
     {{"cpuacct.usage", "3000\n"},
      {"cpuacct.usage_user", "2000\n"},
      {"cpuacct.usage_sys", "1000\n"},
      {"cpuacct.usage_percpu", "1000 2000 \n"}}},
    {"cpuset", {{"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}}},
    {"memory",
     {{"memory.limit_in_bytes", "9223372036854771712\n"},
      {"memory.memsw.limit_in_bytes", "9223372036854771712\n"},
      {"memory.soft_limit_in_bytes", "9223372036854771712\n"},
      {"memory.usage_in_bytes", "4096000\n"},
      {"memory.max_usage_in_bytes", "5000000\n"},
      {"memory.failcnt", "0\n"},
      {"memory.stat", "cache 1000\nrss 2000\ntotal_cache 1000\ntotal_inactive_file 96000\n"},
      {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
      {"cgroup.event_control", ""}}},
    {"pids", {{"pids.max", "max\n"}, {"pids.current", "3\n"}}},
    {"freezer", {{"freezer.state", "THAWED\n"}}},
};

const std::map<std::string, std::string> v2_files = {
    {"cgroup.controllers", "cpuset cpu io memory pids\n"},
    {"cgroup.subtree_control", "\n"},
    {"cgroup.kill", ""},
    {"cpu.weight", "100\n"},
    {"cpu.max", "max 100000\n"},
    {"cpu.stat",
     "usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 1\nnr_throttled 1\n"
     "throttled_usec 3\n"},
    {"cpuset.cpus", "\n"},
    {"cpuset.mems", "\n"},
    {"memory.max", "max\n"},
    {"memory.low", "0\n"},
    {"memory.swap.max", "max\n"},
    {"memory.current", "8192\n"},
    {"memory.stat", "anon 4096\nfile 4096\ninactive_file 1024\n"},
    {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
    {"pids.max", "max\n"},
    {"pids.current", "1\n"},
};

// A fake cgroupfs: v1 (one directory per controller, plus devices, which
// reaper does not manage) or v2 (one directory).
class FakeCgroupfs {
 public:
  explicit FakeCgroupfs(Version v) : version_(v) {
    char tmpl[] = "/tmp/reaper-cgroup-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::string mountinfo;
    int id = 30;
    auto mount = [&](const std::string& name, const std::string& fstype, const std::string& opts) {
      std::string dir = root_ + "/" + name;
      ::mkdir(dir.c_str(), 0755);
      mountinfo += fmt::format("{} 20 0:{} / {} rw,relatime shared:{} - {} {} {}\n", id, id, dir,
                               id, fstype, fstype, opts);
      ++id;
    };
    if (v == Version::v1) {
      for (const auto& [ctl, files] : v1_files) {
        mount(ctl, "cgroup", "rw," + ctl);
        populate(root_ + "/" + ctl);
      }
      mount("devices", "cgroup", "rw,devices");
      mount("systemd", "cgroup", "rw,name=systemd");
      mount("unified", "cgroup2", "rw");  // hybrid: ignored while v1 holds the controllers
      write_text(root_ + "/cpuset/cpuset.cpus", "0-1\n");
      write_text(root_ + "/cpuset/cpuset.mems", "0\n");
    } else {
      mount("unified", "cgroup2", "rw,nsdelegate");
      populate(root_ + "/unified");
    }
    mountinfo_ = mountinfo;
  }
  ~FakeCgroupfs() { remove_tree(root_); }
  FakeCgroupfs(const FakeCgroupfs&) = delete;
  FakeCgroupfs& operator=(const FakeCgroupfs&) = delete;

  // The layout as detect_layout() would build it, with the kernel's part
  // played by populate() and unpopulate().
  Layout layout(std::string_view self_cgroup = "") const {
    auto l = parse_layout(mountinfo_, self_cgroup);
    REQUIRE(l.ok());
    l->after_mkdir = [this](const std::string& dir) { populate(dir); };
    l->before_rmdir = [](const std::string& dir) { unpopulate(dir); };
    return *l;
  }
  std::string dir(const std::string& hierarchy, const std::string& path) const {
    return root_ + "/" + hierarchy + path;
  }
  const std::string& root() const { return root_; }
  const std::string& mountinfo() const { return mountinfo_; }

  void populate(const std::string& dir) const {
    write_text(dir + "/cgroup.procs", "");
    if (version_ == Version::v1) write_text(dir + "/tasks", "");
    if (version_ == Version::v2) {
      for (const auto& [f, text] : v2_files) write_text(dir + "/" + f, text);
      return;
    }
    std::string hierarchy = dir.substr(root_.size() + 1);
    hierarchy = hierarchy.substr(0, hierarchy.find('/'));
    auto it = v1_files.find(hierarchy);
    if (it == v1_files.end()) return;
    for (const auto& [f, text] : it->second) write_text(dir + "/" + f, text);
  }
  static void unpopulate(const std::string& dir) {
    if (DIR* d = ::opendir(dir.c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_type == DT_REG) ::unlinkat(::dirfd(d), e->d_name, 0);
      ::closedir(d);
    }
  }

 private:
  Version version_;
  std::string root_;
  std::string mountinfo_;
};

Resources parse_ok(std::string_view json) {
  auto r = parse_resources(json, "linux.resources");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().what()));
  return *r;
}

std::string parse_error(std::string_view json) {
  auto r = parse_resources(json, "linux.resources");
  REQUIRE_FALSE(r.ok());
  return r.error().what();
}

// file -> value of a plan, in order.
std::vector<std::pair<std::string, std::string>> writes(const Resources& r, Version v) {
  auto p = plan(r, v);
  REQUIRE(p.ok());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& step : *p)
    for (const auto& w : step.writes) out.emplace_back(w.file, w.value);
  return out;
}

CgroupPath path_of(std::string_view text) {
  auto p = parse_cgroups_path(text);
  REQUIRE(p.ok());
  return *p;
}

// A child blocked on a pipe until killed, as a workload before start.
struct Blocked {
  pid_t pid = 0;
  int wr = -1;
  // `first` runs in the child before it blocks; `ok` is what it returned.
  bool ok = true;
  explicit Blocked(const std::function<bool()>& first = {}) {
    int p[2];
    int r[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(r, O_CLOEXEC) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(p[1]);
      ::close(r[0]);
      char verdict = !first || first() ? 'y' : 'n';
      (void)::write(r[1], &verdict, 1);
      char c;
      (void)::read(p[0], &c, 1);
      ::_exit(0);
    }
    ::close(p[0]);
    ::close(r[1]);
    char verdict = 'n';
    ok = ::read(r[0], &verdict, 1) == 1 && verdict == 'y';
    ::close(r[0]);
    wr = p[1];
  }
  ~Blocked() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(wr);
  }
  int wait_status() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = 0;
    return status;
  }
};

}  // namespace

// --- cgroupsPath ---------------------------------------------------------------

TEST_CASE("cgroup path: cgroupfs driver") {
  auto p = path_of("/kubepods/burstable/pod1234/abcd");
  CHECK(p.driver == Driver::cgroupfs);
  CHECK(p.path == "/kubepods/burstable/pod1234/abcd");
  CHECK_FALSE(p.relative());
  CHECK(path_of("//kubepods//besteffort/pod1/c/").path == "/kubepods/besteffort/pod1/c");
  auto rel = path_of("reaper/c1");
  CHECK(rel.relative());
  CHECK(resolve(rel, "/process_api/x") == "/process_api/x/reaper/c1");
  CHECK(resolve(rel, "/") == "/reaper/c1");
  CHECK(resolve(p, "/ignored") == "/kubepods/burstable/pod1234/abcd");
}

TEST_CASE("cgroup path: systemd driver") {
  auto p = path_of("kubepods-burstable-pod1234.slice:cri-containerd:abcd");
  CHECK(p.driver == Driver::systemd);
  CHECK(p.path ==
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
        "cri-containerd-abcd.scope");
  CHECK(path_of("system.slice:docker:x").path == "/system.slice/docker-x.scope");
  CHECK(path_of(":docker:x").path == "/system.slice/docker-x.scope");  // default slice
  CHECK(path_of("-.slice:p:x").path == "/p-x.scope");                  // the root slice
  CHECK(path_of("a.slice::x").path == "/a.slice/x.scope");
  CHECK(path_of("a-b.slice:p:c.slice").path == "/a.slice/a-b.slice/c.slice");
}

TEST_CASE("cgroup path: expand_slice") {
  CHECK(*expand_slice("a.slice") == "/a.slice");
  CHECK(*expand_slice("a-b-c.slice") == "/a.slice/a-b.slice/a-b-c.slice");
  CHECK(*expand_slice("-.slice") == "");
  for (auto bad : {"a--b.slice", "-a.slice", "a-.slice", ".slice", "a", "a/b.slice", "a.scope"})
    CHECK_MESSAGE(!expand_slice(bad).ok(), bad);
}

TEST_CASE("cgroup path: refusals") {
  for (auto bad : {"", "/", "///", "/a/../b", "a/./b", "..", "a:b", "a:b:c:d", "bad slice:p:x",
                   "a.slice:p:", "a.slice:p/q:x", "a.slice:p:x/y"}) {
    auto p = parse_cgroups_path(bad);
    CHECK_MESSAGE(!p.ok(), bad);
  }
  CHECK(parse_cgroups_path("/a/../b").error().what().find("`..`") != std::string::npos);
  CHECK(parse_cgroups_path("/").error().what().find("root cgroup") != std::string::npos);
}

// --- layout --------------------------------------------------------------------

// This machine's kind of node: v1 hierarchies, cpu and cpuacct mounted
// apart, a cgroup2 mount at /sys/fs/cgroup/unified without controllers.
constexpr std::string_view hybrid_mountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr std::string_view hybrid_self =
    "9:name=systemd:/\n8:pids:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

TEST_CASE("cgroup layout: hybrid v1 node") {
  auto l = parse_layout(hybrid_mountinfo, hybrid_self);
  REQUIRE(l.ok());
  CHECK(l->version == Version::v1);
  std::vector<std::string> mounts;
  for (const auto& h : l->hierarchies) mounts.push_back(h.mount);
  CHECK(mounts == std::vector<std::string>{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
                                           "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
                                           "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/pids"});
  const auto& memory = l->hierarchies[3];
  CHECK(memory.has("memory"));
  CHECK(memory.own == "/process_api/abc");
  CHECK(*memory.dir_of("/process_api/abc/reaper/c1") ==
        "/sys/fs/cgroup/memory/process_api/abc/reaper/c1");
  CHECK(l->hierarchies[0].own == "/");
}

TEST_CASE("cgroup layout: unified v2, co-mounted and escaped v1, mount roots") {
  auto v2 = parse_layout("29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
                         "0::/user.slice/session-1.scope\n");
  REQUIRE(v2.ok());
  CHECK(v2->version == Version::v2);
  REQUIRE(v2->hierarchies.size() == 1);
  CHECK(v2->hierarchies[0].own == "/user.slice/session-1.scope");
  CHECK(*v2->hierarchies[0].dir_of("/kubepods/pod1/c") == "/sys/fs/cgroup/kubepods/pod1/c");

  auto co = parse_layout(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "33 31 0:30 / /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory\n"
      "34 31 0:30 / /mnt/again rw - cgroup cgroup rw,memory\n",  // the same hierarchy, again
      "3:cpu,cpuacct:/a\n2:memory:/b\n");
  REQUIRE(co.ok());
  REQUIRE(co->hierarchies.size() == 2);
  CHECK(co->hierarchies[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(co->hierarchies[0].own == "/a");
  CHECK(co->hierarchies[1].mount == "/sys/fs/cgroup/my mem");

  // In a cgroup namespace or a bind of a subtree: field 4 is not "/".
  auto sub =
      parse_layout("35 31 0:32 /kubepods /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "");
  REQUIRE(sub.ok());
  const auto& h = sub->hierarchies[0];
  CHECK(*h.dir_of("/kubepods/pod1/c") == "/sys/fs/cgroup/memory/pod1/c");
  CHECK_FALSE(h.dir_of("/other/c").ok());
  CHECK_FALSE(h.dir_of("/kubepodsX/c").ok());

  CHECK_FALSE(parse_layout("22 1 0:21 / /proc rw - proc proc rw\n", "").ok());
}

TEST_CASE("cgroup layout: detect_layout reads this process's view") {
  auto l = detect_layout();
  if (!l.ok()) return;  // no cgroup mounted here at all
  CHECK_FALSE(l->hierarchies.empty());
  for (const auto& h : l->hierarchies) CHECK(h.mount.starts_with("/"));
}

// --- resources -----------------------------------------------------------------

constexpr std::string_view cri_resources = R"({
  "devices": [{"allow": false, "access": "rwm"}],
  "memory": {"limit": 134217728, "reservation": 67108864, "swap": 134217728},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
  "pids": {"limit": 100},
  "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
  "blockIO": {"weight": 10}
})";

TEST_CASE("cgroup resources: the CRI subset on v1") {
  auto r = parse_ok(cri_resources);
  CHECK(r.memory_limit == 134217728);
  CHECK(r.cpu_shares == 512u);
  auto w = writes(r, Version::v1);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"memory.limit_in_bytes", "134217728"},
      {"memory.memsw.limit_in_bytes", "134217728"},
      {"memory.soft_limit_in_bytes", "67108864"},
      {"cpu.shares", "512"},
      {"cpu.cfs_period_us", "100000"},
      {"cpu.cfs_quota_us", "50000"},
      {"cpuset.cpus", "0-1"},
      {"cpuset.mems", "0"},
      {"pids.max", "100"},
  };
  CHECK(w == expected);

  // Real-time bandwidth: period, then runtime; v1 only.
  auto rt = parse_ok(R"({"cpu": {"realtimeRuntime": 95000, "realtimePeriod": 1000000}})");
  CHECK(writes(rt, Version::v1) ==
        std::vector<std::pair<std::string, std::string>>{{"cpu.rt_period_us", "1000000"},
                                                         {"cpu.rt_runtime_us", "95000"}});
  auto v2 = plan(rt, Version::v2);
  REQUIRE_FALSE(v2.ok());
  CHECK(std::string(v2.error().what()).find("no real-time") != std::string::npos);
}

TEST_CASE("cgroup resources: v2 conversions") {
  auto w = writes(parse_ok(cri_resources), Version::v2);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"memory.max", "134217728"}, {"memory.swap.max", "0"},    {"memory.low", "67108864"},
      {"cpu.weight", "20"},        {"cpu.max", "50000 100000"}, {"cpuset.cpus", "0-1"},
      {"cpuset.mems", "0"},        {"pids.max", "100"},
  };
  CHECK(w == expected);

  CHECK(shares_to_weight(2) == 1);
  CHECK(shares_to_weight(1024) == 39);
  CHECK(shares_to_weight(262144) == 10000);

  auto unlimited =
      writes(parse_ok(R"({"memory": {"limit": -1}, "cpu": {"quota": -1, "period": 50000},
                                      "pids": {"limit": -1}})"),
             Version::v2);
  CHECK(unlimited == std::vector<std::pair<std::string, std::string>>{{"memory.max", "max"},
                                                                      {"memory.swap.max", "max"},
                                                                      {"cpu.max", "max 50000"},
                                                                      {"pids.max", "max"}});
  auto swap =
      writes(parse_ok(R"({"memory": {"limit": 100000000, "swap": 300000000}})"), Version::v2);
  CHECK(swap == std::vector<std::pair<std::string, std::string>>{{"memory.max", "100000000"},
                                                                 {"memory.swap.max", "200000000"}});
  auto unified = writes(parse_ok(R"({"unified": {"memory.high": "50000000"}})"), Version::v2);
  CHECK(unified == std::vector<std::pair<std::string, std::string>>{{"memory.high", "50000000"}});
  CHECK_FALSE(plan(parse_ok(R"({"unified": {"memory.high": "1"}})"), Version::v1).ok());
}

TEST_CASE("cgroup resources: absent, null and 0 leave a value alone") {
  CHECK(parse_ok("{}").empty());
  CHECK(parse_ok(R"({"memory": null, "cpu": {"shares": 0, "quota": 0, "period": 0, "cpus": ""},
                    "pids": {"limit": 0}})")
            .empty());
  auto r = parse_ok(R"({"memory": {"limit": -1}})");
  // Unlimited memory lifts memory+swap too (v1), or the old memsw limit would still bind.
  CHECK(writes(r, Version::v1) ==
        std::vector<std::pair<std::string, std::string>>{{"memory.limit_in_bytes", "-1"},
                                                         {"memory.memsw.limit_in_bytes", "-1"}});
  CHECK(writes(parse_ok(R"({"pids": {"limit": -1}})"), Version::v1) ==
        std::vector<std::pair<std::string, std::string>>{{"pids.max", "max"}});
}

TEST_CASE("cgroup resources: invalid values are refused with their JSON path") {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"memory": {"limit": -2}})", "linux.resources.memory.limit: -2 is negative"},
      {R"({"memory": {"limit": "1G"}})", "linux.resources.memory.limit: expected integer"},
      {R"({"memory": {"limit": 1e30}})", "linux.resources.memory.limit: expected integer"},
      {R"({"memory": {"limit": 100000000, "swap": 50000000}})",
       "linux.resources.memory.swap: 50000000 is below the memory limit"},
      {R"({"memory": {"swap": 50000000}})", "a swap limit needs a memory limit"},
      {R"({"cpu": {"shares": 1}})", "linux.resources.cpu.shares: 1 is outside 2..262144"},
      {R"({"cpu": {"shares": 300000}})", "outside 2..262144"},
      {R"({"cpu": {"shares": -5}})", "linux.resources.cpu.shares: expected unsigned integer"},
      {R"({"cpu": {"quota": 500}})",
       "linux.resources.cpu.quota: 500 is below the kernel's minimum"},
      {R"({"cpu": {"quota": -7}})", "linux.resources.cpu.quota: -7 is negative"},
      {R"({"cpu": {"period": 500}})", "linux.resources.cpu.period: 500 is outside 1000..1000000"},
      {R"({"cpu": {"period": 2000000}})", "outside 1000..1000000"},
      {R"({"cpu": {"realtimeRuntime": -2}})",
       "linux.resources.cpu.realtimeRuntime: -2 is negative"},
      {R"({"cpu": {"realtimeRuntime": 2000, "realtimePeriod": 1000}})",
       "realtimeRuntime: 2000 is longer than linux.resources.cpu.realtimePeriod 1000"},
      {R"({"cpu": {"cpus": "0-"}})", "linux.resources.cpu.cpus: `0-` is not a list"},
      {R"({"cpu": {"cpus": "3-1"}})", "is not a list"},
      {R"({"cpu": {"mems": "a"}})", "linux.resources.cpu.mems"},
      {R"({"cpu": {"cpus": 3}})", "linux.resources.cpu.cpus: expected string"},
      {R"({"pids": {"limit": "10"}})", "linux.resources.pids.limit: expected integer"},
      {R"({"pids": []})", "linux.resources.pids: expected object"},
      {R"({"unified": {"cgroup.procs": "1"}})", "not a controller file name"},
      {R"({"unified": {"../x.y": "1"}})", "not a controller file name"},
      {R"({"unified": {"memory.high": 5}})", "expected string"},
      {R"([])", "linux.resources: expected object"},
      {R"({"memory": )", "malformed JSON"},
      {"", "malformed JSON"},
  };
  for (const auto& c : cases) {
    std::string err = parse_error(c.json);
    CHECK_MESSAGE(err.find(c.message) != std::string::npos, c.json, " -> ", err);
  }
}

// --- the lifecycle on a fake v1 tree --------------------------------------------

TEST_CASE("cgroup v1 (fake): create in every hierarchy, apply, join, remove only the leaf") {
  FakeCgroupfs fake(Version::v1);
  auto layout = fake.layout("4:memory:/sandbox\n");
  auto cg = Cgroup::create(layout, path_of("/kubepods/burstable/pod1/c1"), parse_ok(cri_resources));
  REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().what()));
  CHECK(cg->version() == Version::v1);

  std::string mem =
      fake.dir("memory", "/kubepods/burstable/pod1/c1");  // absolute: not below /sandbox
  CHECK(read_text(mem + "/memory.limit_in_bytes") == "134217728");
  CHECK(read_text(mem + "/memory.memsw.limit_in_bytes") == "134217728");
  CHECK(read_text(mem + "/memory.soft_limit_in_bytes") == "67108864");
  std::string cpu = fake.dir("cpu", "/kubepods/burstable/pod1/c1");
  CHECK(read_text(cpu + "/cpu.shares") == "512");
  CHECK(read_text(cpu + "/cpu.cfs_quota_us") == "50000");
  CHECK(read_text(cpu + "/cpu.cfs_period_us") == "100000");
  CHECK(read_text(fake.dir("pids", "/kubepods/burstable/pod1/c1") + "/pids.max") == "100");
  // cpuset: the parents reaper created inherited the root's CPUs and memory nodes.
  CHECK(read_text(fake.dir("cpuset", "/kubepods/burstable") + "/cpuset.cpus") == "0-1");
  CHECK(read_text(fake.dir("cpuset", "/kubepods/burstable/pod1") + "/cpuset.mems") == "0");
  CHECK(read_text(fake.dir("cpuset", "/kubepods/burstable/pod1/c1") + "/cpuset.cpus") == "0-1");
  CHECK_FALSE(exists(fake.dir("devices", "/kubepods")));  // not managed

  // v1: the calling thread moves itself through `tasks` (Cgroup::join_self).
  REQUIRE(cg->join_self().ok());
  for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
    CHECK(read_text(fake.dir(h, "/kubepods/burstable/pod1/c1") + "/tasks") == "0");

  auto rec = cg->record();
  CHECK(rec.dirs.size() == 6);
  CHECK(rec.cgroups_path == "/kubepods/burstable/pod1/c1");

  REQUIRE(cg->remove().ok());
  for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"}) {
    CHECK_FALSE(exists(fake.dir(h, "/kubepods/burstable/pod1/c1")));
    CHECK(exists(fake.dir(h, "/kubepods/burstable/pod1")));  // parents are left alone
  }
}

TEST_CASE("cgroup v1 (fake): relative paths are below the own cgroup of each hierarchy") {
  FakeCgroupfs fake(Version::v1);
  ::mkdir(fake.dir("memory", "/sandbox").c_str(), 0755);
  fake.populate(fake.dir("memory", "/sandbox"));
  auto cg = Cgroup::create(fake.layout("4:memory:/sandbox\n1:cpu:/\n"), path_of("reaper/c2"), {});
  REQUIRE(cg.ok());
  CHECK(exists(fake.dir("memory", "/sandbox/reaper/c2/memory.stat")));
  CHECK(exists(fake.dir("cpu", "/reaper/c2/cpu.shares")));
}

TEST_CASE("cgroup v1 (fake): errors leave nothing behind") {
  FakeCgroupfs fake(Version::v1);
  auto layout = fake.layout();

  SUBCASE("an existing leaf is someone else's") {
    ::mkdir(fake.dir("memory", "/c3").c_str(), 0755);  // the 4th hierarchy of 6
    auto cg = Cgroup::create(layout, path_of("/c3"), {});
    REQUIRE_FALSE(cg.ok());
    CHECK(cg.error().err() == EEXIST);
    CHECK(cg.error().what().find("already exists") != std::string::npos);
    CHECK_FALSE(exists(fake.dir("cpu", "/c3")));  // created before the clash, removed
    CHECK(exists(fake.dir("memory", "/c3")));     // not ours: kept
  }
  SUBCASE("a value the kernel refuses") {
    Layout broken = layout;
    broken.after_mkdir = [&fake](const std::string& dir) {
      fake.populate(dir);
      if (dir.find("/pids/") != std::string::npos) ::unlink((dir + "/pids.max").c_str());
    };
    auto cg = Cgroup::create(broken, path_of("/c4"), parse_ok(R"({"pids": {"limit": 5}})"));
    REQUIRE_FALSE(cg.ok());
    CHECK(cg.error().what().find("pids.max") != std::string::npos);
    for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
      CHECK_FALSE(exists(fake.dir(h, "/c4")));
  }
  SUBCASE("v2-only values on v1, refused before any mkdir") {
    auto cg =
        Cgroup::create(layout, path_of("/c5"), parse_ok(R"({"unified": {"memory.high": "1"}})"));
    REQUIRE_FALSE(cg.ok());
    CHECK_FALSE(exists(fake.dir("cpu", "/c5")));
  }
}

TEST_CASE(
    "cgroup v1 (fake): a remove() that got only some leaves is finished by kill_all, remove") {
  FakeCgroupfs fake(Version::v1);
  Layout layout = fake.layout();
  bool busy = true;  // the memory leaf still holds something on the first try
  layout.before_rmdir = [&busy](const std::string& dir) {
    if (busy && dir.find("/memory/") != std::string::npos) return;  // populated: rmdir fails
    FakeCgroupfs::unpopulate(dir);
  };
  auto cg = Cgroup::create(layout, path_of("/p1"), {});
  REQUIRE(cg.ok());
  CHECK_FALSE(cg->remove().ok());
  CHECK(exists(fake.dir("memory", "/p1")));
  CHECK_FALSE(exists(fake.dir("cpu", "/p1")));
  busy = false;
  // The directories already gone hold nobody: no error for them.
  auto killed = cg->kill_all(true);
  REQUIRE_MESSAGE(killed.ok(), (killed.ok() ? "" : killed.error().what()));
  REQUIRE(cg->remove().ok());
  for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
    CHECK_FALSE(exists(fake.dir(h, "/p1")));
}

TEST_CASE("cgroup v1 (fake): handed over with its fds; the sender removes it until disowned") {
  FakeCgroupfs fake(Version::v1);
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
  UniqueFd ours(sp[0]);
  UniqueFd theirs(sp[1]);

  SUBCASE("received: the same directories, kept when the receiver's copy goes") {
    auto created =
        Cgroup::create(fake.layout(), path_of("/h1/c1"), parse_ok(R"({"pids": {"limit": 9}})"));
    REQUIRE(created.ok());
    REQUIRE(send_cgroup(ours.get(), *created).ok());
    {
      auto got = receive_cgroup(theirs.get());
      REQUIRE_MESSAGE(got.ok(), (got.ok() ? "" : got.error().what()));
      CHECK(to_json(got->record()) == to_json(created->record()));
      // Its fds are the directories themselves: a write through them lands.
      REQUIRE(got->apply(parse_ok(R"({"pids": {"limit": 11}})")).ok());
      CHECK(read_text(fake.dir("pids", "/h1/c1/pids.max")) == "11");
    }
    for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
      CHECK(exists(fake.dir(h, "/h1/c1")));  // adopted, not owned
    SUBCASE("not disowned: the sender removes it") {
      created = Cgroup();
    }
    SUBCASE("disowned: it stays") {
      created->disown();
      created = Cgroup();
      CHECK(exists(fake.dir("memory", "/h1/c1")));
      for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"}) {
        FakeCgroupfs::unpopulate(fake.dir(h, "/h1/c1"));
        ::rmdir(fake.dir(h, "/h1/c1").c_str());
      }
    }
    for (auto h : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
      CHECK_FALSE(exists(fake.dir(h, "/h1/c1")));
  }
  SUBCASE("the sender gave up: a clear error") {
    ours.reset();
    auto got = receive_cgroup(theirs.get());
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().what() == "the caller did not create it");
  }
  SUBCASE("a record and fds that do not match are refused, the fds closed") {
    Record one;
    one.version = Version::v1;
    one.cgroups_path = "/x";
    one.dirs.push_back({fake.dir("pids", "/x"), {"pids"}});
    int fds[] = {theirs.get()};
    REQUIRE(send_with_fds(ours.get(), to_json(one), fds).ok());
    auto open_fds = [] {
      size_t n = 0;
      if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
      }
      return n;
    };
    size_t before = open_fds();
    auto got = receive_cgroup(theirs.get());
    CHECK(open_fds() == before);
    REQUIRE_FALSE(got.ok());
    CHECK_MESSAGE(
        got.error().what().find("1 fds for the 1 directories of cgroup `/x`") != std::string::npos,
        got.error().what());
  }
}

TEST_CASE("cgroup v1 (fake): record round trip, update through open(), stats") {
  FakeCgroupfs fake(Version::v1);
  auto created =
      Cgroup::create(fake.layout(), path_of("/c6"), parse_ok(R"({"memory": {"limit": 1000000}})"));
  REQUIRE(created.ok());
  auto text = to_json(created->record());
  auto rec = parse_record(text, "cgroup.json");
  REQUIRE(rec.ok());
  CHECK(rec->version == Version::v1);
  CHECK(rec->dirs.size() == 6);
  CHECK_FALSE(rec->removed);
  CHECK_FALSE(rec->final_oom_kills);

  auto opened = Cgroup::open(*rec);
  REQUIRE(opened.ok());
  REQUIRE(opened->apply(parse_ok(R"({"memory": {"limit": 2000000}, "pids": {"limit": 7}})")).ok());
  CHECK(read_text(fake.dir("memory", "/c6/memory.limit_in_bytes")) == "2000000");
  CHECK(read_text(fake.dir("pids", "/c6/pids.max")) == "7");

  auto s = read_stats(*opened);
  REQUIRE(s.ok());
  CHECK(s->cpu_usage_ns == 3000);
  CHECK(s->cpu_user_ns == 2000);
  CHECK(s->cpu_per_cpu_ns == std::vector<uint64_t>{1000, 2000});
  CHECK(s->cpu_throttled_periods == 4);
  CHECK(s->memory_usage == 4096000);
  CHECK(s->working_set() == 4000000);
  CHECK(s->pids_current == 3);
  CHECK(s->pids_limit == 7);
  auto m = to_metrics(*s);
  CHECK(m.type_url == "io.containerd.cgroups.v1.Metrics");
  CHECK_FALSE(m.value.empty());

  rec->final_oom_kills = 2;
  rec->removed = true;
  auto again = parse_record(to_json(*rec), "cgroup.json");
  REQUIRE(again.ok());
  CHECK(again->final_oom_kills == 2u);
  CHECK(again->removed);

  // Read back from a state directory a workload might write: only cgroups,
  // never a hierarchy's root, are acted on.
  auto fake_dirs = verify_record(*rec);
  REQUIRE_FALSE(fake_dirs.ok());
  CHECK(fake_dirs.error().what().find("not on a cgroup filesystem") != std::string::npos);
  Record gone = *rec;
  for (auto& d : gone.dirs) d.path = "/nonexistent/reaper/c6";
  CHECK(verify_record(gone).ok());  // removed already: nothing to act on
  if (auto node = detect_layout(); node.ok()) {
    Record root{node->version, "/", {{node->hierarchies[0].mount, {}}}, {}, false};
    auto v = verify_record(root);
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().what().find("the root of a cgroup hierarchy") != std::string::npos);
  }

  const char* bad_records[] = {
      "",
      "{}",
      R"({"version": 2})",
      R"({"version":1,"cgroup":"v3","cgroups_path":"/a","dirs":[],"removed":false})",
      R"({"version":1,"cgroup":"v1","cgroups_path":"/a","dirs":[{"path":"rel","controllers":[]}],"removed":false})",
      R"({"version":1,"cgroup":"v1","cgroups_path":"/a","dirs":[{"path":"/sys/fs/cgroup/memory/../../etc","controllers":[]}],"removed":false})",
  };
  for (const char* bad : bad_records) CHECK_MESSAGE(!parse_record(bad, "cgroup.json").ok(), bad);
}

TEST_CASE("cgroup v1 (fake): kill_all freezes, kills the listed processes, thaws") {
  FakeCgroupfs fake(Version::v1);
  auto cg = Cgroup::create(fake.layout(), path_of("/c7"), {});
  REQUIRE(cg.ok());
  Blocked child;
  write_text(fake.dir("memory", "/c7/cgroup.procs"), fmt::format("{}\n", child.pid));
  REQUIRE(cg->kill_all(true).ok());
  int status = child.wait_status();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK(read_text(fake.dir("freezer", "/c7/freezer.state")) == "THAWED");
}

TEST_CASE("cgroup v1 (fake): the OOM watch registers an eventfd and counts kills") {
  FakeCgroupfs fake(Version::v1);
  auto cg = Cgroup::create(fake.layout(), path_of("/c8"), {});
  REQUIRE(cg.ok());
  auto w = OomWatch::open(cg->record(), UniqueFd());
  REQUIRE(w.ok());
  CHECK(w->valid());
  // "<eventfd> <memory.oom_control fd>": the kernel would signal that eventfd.
  auto reg = read_text(fake.dir("memory", "/c8/cgroup.event_control"));
  int efd = std::atoi(reg.c_str());
  REQUIRE(efd == w->fd());
  auto notify = [efd] {
    uint64_t one = 1;
    REQUIRE(::write(efd, &one, sizeof one) == sizeof one);
  };
  auto set_kills = [&fake](int n) {
    write_text(fake.dir("memory", "/c8/memory.oom_control"),
               fmt::format("oom_kill_disable 0\nunder_oom 0\noom_kill {}\n", n));
  };
  CHECK_FALSE(w->consume());

  // The kernel notifies before it picks the victim: reported at once...
  notify();
  CHECK(w->consume());
  CHECK(w->kills() == 1);
  notify();  // ...once, however often that OOM notifies,
  CHECK_FALSE(w->consume());
  set_kills(1);  // and not again when the counter catches up.
  CHECK_FALSE(w->consume());
  // A kill seen only in the counter (the notification came first, read early).
  set_kills(2);
  CHECK(w->consume());
  CHECK_FALSE(w->consume());
  CHECK(w->kills() == 2);

  CHECK_FALSE(OomWatch().valid());
  CHECK_FALSE(OomWatch().consume());
}

// --- v2 on a fake tree ----------------------------------------------------------

TEST_CASE("cgroup v2 (fake): controllers enabled in the ancestors, conversions written") {
  FakeCgroupfs fake(Version::v2);
  auto cg = Cgroup::create(fake.layout("0::/\n"),
                           path_of("kubepods-burstable-pod9.slice:cri-containerd:c9"),
                           parse_ok(cri_resources));
  REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().what()));
  CHECK(cg->version() == Version::v2);
  std::string base = fake.dir("unified", "");
  std::string leaf = base +
                     "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9.slice/"
                     "cri-containerd-c9.scope";
  CHECK(read_text(base + "/cgroup.subtree_control") == "+cpu +cpuset +io +memory +pids");
  CHECK(read_text(base + "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9.slice/"
                         "cgroup.subtree_control")
            .find("+memory") != std::string::npos);
  CHECK(read_text(leaf + "/memory.max") == "134217728");
  CHECK(read_text(leaf + "/memory.swap.max") == "0");
  CHECK(read_text(leaf + "/cpu.weight") == "20");
  CHECK(read_text(leaf + "/cpu.max") == "50000 100000");
  CHECK(read_text(leaf + "/pids.max") == "100");

  auto s = read_stats(*cg);
  REQUIRE(s.ok());
  CHECK(s->cpu_usage_ns == 7000);
  CHECK(s->cpu_throttled_ns == 3000);
  CHECK(s->memory_usage == 8192);
  CHECK(s->memory_limit == 134217728);
  CHECK(s->working_set() == 8192 - 1024);
  CHECK(to_metrics(*s).type_url == "io.containerd.cgroups.v2.Metrics");

  REQUIRE(cg->kill_all(false).ok());
  CHECK(read_text(leaf + "/cgroup.kill") == "1");
  REQUIRE(cg->remove().ok());
  CHECK_FALSE(exists(leaf));
  CHECK(exists(base + "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9.slice"));
}

TEST_CASE("cgroup v2 (fake): a missing controller file names the controller") {
  FakeCgroupfs fake(Version::v2);
  auto layout = fake.layout();
  layout.after_mkdir = [&fake](const std::string& dir) {
    fake.populate(dir);
    ::unlink((dir + "/memory.max").c_str());
  };
  auto cg = Cgroup::create(layout, path_of("/c10"), parse_ok(R"({"memory": {"limit": 1000000}})"));
  REQUIRE_FALSE(cg.ok());
  CHECK(cg.error().what().find("`memory` controller is not enabled") != std::string::npos);
  CHECK_FALSE(exists(fake.dir("unified", "/c10")));
}

TEST_CASE("cgroup v2 (fake): OOM watch on memory.events, with the final count after removal") {
  FakeCgroupfs fake(Version::v2);
  char tmpl[] = "/tmp/reaper-cgroup-state-XXXXXX";
  std::string state = ::mkdtemp(tmpl);
  auto cg = Cgroup::create(fake.layout(), path_of("/c11"), {});
  REQUIRE(cg.ok());
  auto state_fd = fs::open_dir(state);
  REQUIRE(state_fd.ok());
  REQUIRE(write_record(state_fd->get(), cg->record()).ok());
  auto w = OomWatch::open(cg->record(), std::move(*state_fd));
  REQUIRE(w.ok());
  pollfd p{w->fd(), POLLIN, 0};
  CHECK(::poll(&p, 1, 0) == 0);

  std::string events = fake.dir("unified", "/c11/memory.events");
  write_text(events, "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  REQUIRE(::poll(&p, 1, 5000) == 1);  // inotify: readable without anyone polling a file
  CHECK(w->consume());
  write_text(events, "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
  REQUIRE(::poll(&p, 1, 5000) == 1);
  CHECK_FALSE(w->consume());  // another counter moved, not oom_kill

  // The monitor records the final count, then the cgroup goes.
  auto rec = cg->record();
  rec.final_oom_kills = 2;
  auto dirfd = fs::open_dir(state);
  REQUIRE(write_record(dirfd->get(), rec).ok());
  REQUIRE(cg->remove().ok());
  CHECK(w->consume());
  CHECK(w->kills() == 2);
  remove_tree(state);
}

// --- a real cgroup2 hierarchy, when writable -------------------------------------

TEST_CASE("cgroup v2 (real, no controllers needed): join, kill, rmdir") {
  std::string mount;
  // The node's cgroup2 mount: the unified one of a hybrid node, or the only one.
  auto mi = fs::read_file("/proc/self/mountinfo");
  REQUIRE(mi.ok());
  for (std::string_view line : reaper::cgroup::split(*mi, '\n')) {
    if (line.find(" - cgroup2 ") == std::string_view::npos) continue;
    auto f = reaper::cgroup::split(line, ' ');
    mount = std::string(f[4]);
    break;
  }
  if (mount.empty() || ::geteuid() != 0 || ::access((mount + "/cgroup.procs").c_str(), W_OK) != 0) {
    MESSAGE("no writable cgroup2 mount: skipped");
    return;
  }
  auto self = fs::read_file("/proc/self/cgroup");
  REQUIRE(self.ok());
  std::string own = "/";
  for (std::string_view line : reaper::cgroup::split(*self, '\n'))
    if (line.starts_with("0::")) own = std::string(line.substr(3));
  Layout layout;
  layout.version = Version::v2;
  layout.hierarchies.push_back({{}, mount, "/", own});
  std::string parent = fmt::format("reaper-unit-{}", ::getpid());
  {
    auto cg = Cgroup::create(layout, path_of(parent + "/leaf"), {});
    REQUIRE_MESSAGE(cg.ok(), (cg.ok() ? "" : cg.error().what()));
    Blocked child([&] { return cg->join_self().ok(); });
    REQUIRE(child.ok);
    auto where = fs::read_file(fmt::format("/proc/{}/cgroup", child.pid));
    REQUIRE(where.ok());
    CHECK(where->find("0::" + resolve(path_of(parent + "/leaf"), own)) != std::string::npos);
    REQUIRE(cg->kill_all(true).ok());
    int status = child.wait_status();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    REQUIRE(cg->remove().ok());
    CHECK_FALSE(exists(*layout.hierarchies[0].dir_of(resolve(path_of(parent + "/leaf"), own))));
  }
  auto pdir = layout.hierarchies[0].dir_of(resolve(path_of(parent), own));
  REQUIRE(pdir.ok());
  CHECK(::rmdir(pdir->c_str()) == 0);
}
