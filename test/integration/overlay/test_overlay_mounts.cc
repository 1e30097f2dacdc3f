// Real-mount tests of the overlay groups: each scenario forks workloads that
// call overlay::enter() (as a monitor does) and report what they see; the
// test process itself never leaves the host's mount namespace. Every fixture
// works under a fresh state root on its own tmpfs (/run/reaper-test-XXXXXX)
// and a host directory under /var/tmp, and unmounts everything at the end;
// main() checks that the host's mount table is the same afterwards.
// Needs root and overlayfs; exits 77 (skipped) otherwise.

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/fs.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"

using namespace reaper;
using namespace reaper::overlay;

namespace {

// --- small helpers (usable in children) -------------------------------------

std::string read_or_error(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("ERR:") + std::strerror(errno);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "ok" or "ERR:<strerror>".
std::string write_file(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::string("ERR:") + std::strerror(errno);
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size())) return std::string("ERR:") + std::strerror(err);
  return "ok";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

uint64_t ns_inode_of_self() {
  struct stat st {};
  ::stat("/proc/self/ns/mnt", &st);
  return st.st_ino;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return {std::string("ERR:") + std::strerror(errno)};
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

// Mount points (field 5 of mountinfo) of the calling process's namespace.
std::vector<std::string> mount_points();

// The mount points this program could have left behind (other engineers'
// tests may mount elsewhere meanwhile).
std::vector<std::string> our_mount_points() {
  std::vector<std::string> out;
  for (const auto& mp : mount_points())
    if (mp.rfind("/run/reaper-test-", 0) == 0 || mp.rfind("/var/tmp/reaper-test-", 0) == 0 ||
        mp.rfind("/var/tmp/reaper-host-", 0) == 0)
      out.push_back(mp);
  return out;
}

std::vector<std::string> mount_points() {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string id, parent, dev, root, mp;
    ss >> id >> parent >> dev >> root >> mp;
    out.push_back(mp);
  }
  return out;
}

std::map<std::string, std::string> parse_report(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// Escapes newlines so that a file's content fits on one report line.
std::string one_line(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void close_all_except(const std::set<int>& keep) {
  std::vector<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return;
  int dfd = ::dirfd(d);
  while (dirent* e = ::readdir(d)) {
    int fd = std::atoi(e->d_name);
    if (e->d_name[0] == '.' || fd < 3 || fd == dfd || keep.count(fd) != 0) continue;
    fds.push_back(fd);
  }
  ::closedir(d);
  for (int fd : fds) ::close(fd);
}

// --- a workload: a forked child that enters a group -------------------------

// The child enters the group, runs `body` and reports "OK\n<body output>" or
// "ERR <error>", then stays alive until finish() (so that it counts as a
// user of the group meanwhile).
class Workload {
 public:
  using Body = std::function<std::string()>;

  Workload(const NodeConfig& cfg, const std::string& group, const oci::Spec& spec,
           const std::string& cid, const Body& body, EnterOptions opts = {}, int start_fd = -1) {
    int rep[2], rel[2];
    REQUIRE(::pipe2(rep, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(rel, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      close_all_except({rep[1], rel[0], start_fd});
      if (start_fd >= 0) {
        char c;
        while (::read(start_fd, &c, 1) > 0) {
        }
      }
      auto st = enter_with(cfg, group, spec, cid, opts);
      std::string out = st.ok() ? "OK\n" + body() : "ERR " + st.error().what();
      out += '\0';
      (void)fs::write_all(rep[1], out);
      char c;
      while (::read(rel[0], &c, 1) > 0) {
      }
      ::_exit(0);
    }
    ::close(rep[1]);
    ::close(rel[0]);
    report_fd_ = rep[0];
    release_fd_ = rel[1];
  }
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  ~Workload() { finish(); }

  const std::string& report() {
    if (!have_report_) {
      char buf[4096];
      for (;;) {
        ssize_t n = ::read(report_fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        report_.append(buf, static_cast<size_t>(n));
        if (!report_.empty() && report_.back() == '\0') break;
      }
      if (!report_.empty() && report_.back() == '\0') report_.pop_back();
      have_report_ = true;
    }
    return report_;
  }
  bool ok() { return report().rfind("OK\n", 0) == 0; }
  std::map<std::string, std::string> values() { return parse_report(report()); }
  [[nodiscard]] pid_t pid() const { return pid_; }

  void finish() {
    if (pid_ <= 0) return;
    (void)report();
    ::close(release_fd_);
    ::close(report_fd_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  int release_fd_ = -1;
  std::string report_;
  bool have_report_ = false;
};

// Runs one workload to completion and returns it finished.
std::map<std::string, std::string> run(const NodeConfig& cfg, const std::string& group,
                                       const oci::Spec& spec, const std::string& cid,
                                       const Workload::Body& body, std::string* error = nullptr,
                                       EnterOptions opts = {}) {
  Workload w(cfg, group, spec, cid, body, opts);
  std::string rep = w.report();
  w.finish();
  if (rep.rfind("OK\n", 0) != 0) {
    if (error != nullptr) {
      *error = rep;
    } else {
      FAIL("workload `" << cid << "` failed: " << rep);
    }
    return {};
  }
  return parse_report(rep);
}

// Runs `fn` in a child with stdout captured; returns {exit code, output}.
std::pair<int, std::string> capture(const std::function<int()>& fn) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  std::fflush(stdout);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(p[1], 1);
    int rc = fn();
    std::fflush(stdout);
    ::_exit(rc);
  }
  ::close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

oci::Mount bind_mount(const std::string& src, const std::string& dest,
                      std::vector<std::string> extra = {}) {
  oci::Mount m;
  m.type = "bind";
  m.source = src;
  m.destination = dest;
  m.options = {"rbind", "rprivate"};
  m.options.insert(m.options.end(), extra.begin(), extra.end());
  return m;
}

int counter = 0;
std::string unique(const std::string& stem) {
  return fmt::format("{}-{}-{}", stem, ::getpid(), ++counter);
}

// --- the fixture ----------------------------------------------------------------

// A private state root (tmpfs, like /run) and a host directory with test
// files on the root filesystem; everything unmounted and removed afterwards.
struct Fixture {
  std::string root;
  std::string host;
  NodeConfig cfg;
  std::vector<std::string> host_mounts;

  explicit Fixture(bool root_on_tmpfs = true) {
    std::string tmpl = root_on_tmpfs ? "/run/reaper-test-XXXXXX" : "/var/tmp/reaper-test-XXXXXX";
    std::vector<char> a(tmpl.begin(), tmpl.end());
    a.push_back('\0');
    REQUIRE(::mkdtemp(a.data()) != nullptr);
    root = a.data();
    if (root_on_tmpfs) REQUIRE(::mount("reaper-test", root.c_str(), "tmpfs", 0, "mode=0755") == 0);
    char h[] = "/var/tmp/reaper-host-XXXXXX";
    REQUIRE(::mkdtemp(h) != nullptr);
    host = h;
    ::chmod(host.c_str(), 0755);
    cfg.state_root = root;
  }

  // A tmpfs mounted on the host only: invisible in a view unless cloned in.
  std::string host_tmpfs(const std::string& name) {
    std::string dir = host + "/" + name;
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    REQUIRE(::mount("reaper-test-src", dir.c_str(), "tmpfs", 0, "mode=0755") == 0);
    host_mounts.push_back(dir);
    return dir;
  }

  ~Fixture() {
    std::set<std::string> groups;
    for (const auto& dir : {cfg.overlay_base_dir(), cfg.ns_dir()})
      for (const auto& n : list_dir(dir))
        if (validate_group(n).ok()) groups.insert(n);
    for (const auto& g : groups) {
      auto st = reset_group(cfg, g, true);
      CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().what()));
    }
    for (auto it = host_mounts.rbegin(); it != host_mounts.rend(); ++it)
      ::umount2(it->c_str(), MNT_DETACH);
    // Everything reaper mounted on the host lives below the state root.
    ::umount2(root.c_str(), MNT_DETACH);
    if (exists(root + "/overlay")) ::umount2((root + "/overlay").c_str(), MNT_DETACH);
    if (exists(root + "/ns")) ::umount2((root + "/ns").c_str(), MNT_DETACH);
    for (const auto& mp : mount_points()) {
      bool leaked = kernel::path_within(mp, root) || kernel::path_within(mp, host);
      CHECK_MESSAGE(!leaked, "mount left behind: " << mp);
    }
    (void)kernel::remove_tree(root);
    (void)kernel::remove_tree(host);
  }
};

oci::Spec spec_with(std::vector<oci::Mount> mounts = {},
                    std::map<std::string, std::string> annotations = {}) {
  oci::Spec s;
  s.mounts = std::move(mounts);
  s.annotations = std::move(annotations);
  return s;
}

}  // namespace

// --- scenarios --------------------------------------------------------------------

TEST_CASE("writes stay in the group's overlay; the group shares them, others do not") {
  Fixture fx;
  std::string name = unique("reaper-test");
  std::vector<std::string> paths = {"/etc/" + name, "/usr/" + name, "/tmp/" + name};

  auto a = run(fx.cfg, "ns1", spec_with(), "a", [&] {
    std::string out = fmt::format("ns={}\n", ns_inode_of_self());
    for (size_t i = 0; i < paths.size(); ++i)
      out += fmt::format("write{}={}\n", i, write_file(paths[i], "from a " + paths[i]));
    return out;
  });
  for (size_t i = 0; i < paths.size(); ++i) {
    CHECK(a["write" + std::to_string(i)] == "ok");
    CHECK_MESSAGE(!exists(paths[i]), paths[i] << " reached the host");
  }
  // The upper layer holds them.
  CHECK(exists(paths_for(fx.cfg, "ns1").upper + "/etc/" + name));

  auto reader = [&] {
    std::string out = fmt::format("ns={}\n", ns_inode_of_self());
    for (size_t i = 0; i < paths.size(); ++i)
      out += fmt::format("read{}={}\n", i, read_or_error(paths[i]));
    return out;
  };
  auto b = run(fx.cfg, "ns1", spec_with(), "b", reader);
  CHECK(b["ns"] == a["ns"]);
  for (size_t i = 0; i < paths.size(); ++i)
    CHECK(b["read" + std::to_string(i)] == "from a " + paths[i]);

  auto c = run(fx.cfg, "ns2", spec_with(), "c", reader);
  CHECK(c["ns"] != a["ns"]);
  for (size_t i = 0; i < paths.size(); ++i)
    CHECK(c["read" + std::to_string(i)] == "ERR:No such file or directory");

  auto d = run(fx.cfg, "ns1.other", spec_with(), "d", reader);
  CHECK(d["ns"] != a["ns"]);
  CHECK(d["read0"] == "ERR:No such file or directory");
  CHECK(ns_inode_of_self() != std::stoull(a["ns"]));
}

TEST_CASE("the view: overlay root, host /proc, passwd readable, secrets masked") {
  Fixture fx;
  std::string host_shadow = read_or_error("/etc/shadow");
  std::string host_passwd = read_or_error("/etc/passwd");
  REQUIRE(write_file(fx.host + "/secret.txt", "top secret") == "ok");
  REQUIRE(write_file(fx.host + "/allowed.txt", "not secret") == "ok");
  REQUIRE(::mkdir((fx.host + "/secretdir").c_str(), 0750) == 0);
  REQUIRE(write_file(fx.host + "/secretdir/key", "k") == "ok");
  fx.cfg.filter_paths = {fx.host + "/secret.txt", fx.host + "/secretdir", fx.host + "/allowed.txt",
                         fx.host + "/does-not-exist"};
  fx.cfg.filter_allowlist = {fx.host + "/allowed.txt"};

  auto v = run(fx.cfg, "default", spec_with(), "v", [&] {
    struct statfs sfs {};
    ::statfs("/", &sfs);
    std::string out;
    out += fmt::format("root_overlay={}\n", sfs.f_type == kernel::overlayfs_magic);
    out += fmt::format("proc_self={}\n",
                       read_or_error("/proc/self/status").find("Pid:") != std::string::npos);
    out += fmt::format("proc_1={}\n", read_or_error("/proc/1/stat").rfind("1 (", 0) == 0);
    out += fmt::format("passwd={}\n", one_line(read_or_error("/etc/passwd")));
    out += fmt::format("shadow={}\n", one_line(read_or_error("/etc/shadow")));
    out += fmt::format("secret={}\n", read_or_error(fx.host + "/secret.txt"));
    out += fmt::format("secret_write={}\n", write_file(fx.host + "/secret.txt", "x"));
    out += fmt::format("secretdir={}\n", list_dir(fx.host + "/secretdir").size());
    out += fmt::format("secretdir_write={}\n", write_file(fx.host + "/secretdir/new", "x"));
    out += fmt::format("allowed={}\n", read_or_error(fx.host + "/allowed.txt"));
    out += fmt::format("base_listing={}\n", list_dir(fx.cfg.overlay_base_dir()).size());
    // What useradd does: write a new file and rename it over /etc/shadow.
    out += fmt::format("shadow_tmp={}\n", write_file("/etc/shadow.reaper-test", "u:!:1::::::\n"));
    out += fmt::format("shadow_rename={}\n", ::rename("/etc/shadow.reaper-test", "/etc/shadow") == 0
                                                 ? "ok"
                                                 : std::strerror(errno));
    out += fmt::format("shadow_after={}\n", one_line(read_or_error("/etc/shadow")));
    return out;
  });
  CHECK(v["root_overlay"] == "true");
  CHECK(v["proc_self"] == "true");
  CHECK(v["proc_1"] == "true");
  CHECK(v["passwd"] == one_line(host_passwd));
  if (host_shadow.rfind("ERR:", 0) != 0) {
    CHECK(v["shadow"] == one_line(sanitize_password_database(host_shadow)));
    CHECK(v["shadow"].find('$') == std::string::npos);
    CHECK(v["shadow_rename"] == "ok");
    CHECK(v["shadow_after"] == "u:!:1::::::\\n");
    CHECK(read_or_error("/etc/shadow") == host_shadow);  // the host's is untouched
  }
  CHECK(v["secret"].empty());
  CHECK(v["secret_write"] == "ERR:Read-only file system");
  CHECK(v["secretdir"] == "0");
  CHECK(v["secretdir_write"] == "ERR:Read-only file system");
  CHECK(v["allowed"] == "not secret");
  CHECK(v["base_listing"] == "0");
  CHECK(read_or_error(fx.host + "/secret.txt") == "top secret");
}

TEST_CASE("volumes: cloned from the host, read-only enforced, missing source refused") {
  Fixture fx;
  std::string rw = fx.host + "/rw";
  REQUIRE(::mkdir(rw.c_str(), 0755) == 0);
  std::string secret = fx.host_tmpfs("secret");  // like kubelet's tmpfs for a Secret
  REQUIRE(write_file(secret + "/token", "tok-123") == "ok");
  REQUIRE(write_file(fx.host + "/app.conf", "conf=1") == "ok");

  auto spec = spec_with({bind_mount(rw, "/data/rw"), bind_mount(secret, "/mnt/secret", {"ro"}),
                         bind_mount(fx.host + "/app.conf", "/etc/app.conf", {"ro"}),
                         bind_mount("/proc", "/proc/ignored")});
  auto v = run(fx.cfg, "vol", spec, "pod1", [&] {
    std::string out;
    out += fmt::format("rw_write={}\n", write_file("/data/rw/x", "written inside"));
    out += fmt::format("token={}\n", read_or_error("/mnt/secret/token"));
    out += fmt::format("token_write={}\n", write_file("/mnt/secret/token", "x"));
    out += fmt::format("secret_new={}\n", write_file("/mnt/secret/new", "x"));
    out += fmt::format("conf={}\n", read_or_error("/etc/app.conf"));
    out += fmt::format("conf_write={}\n", write_file("/etc/app.conf", "x"));
    return out;
  });
  CHECK(v["rw_write"] == "ok");
  CHECK(read_or_error(rw + "/x") == "written inside");  // a bind: writes reach the source
  CHECK(v["token"] == "tok-123");
  CHECK(v["token_write"] == "ERR:Read-only file system");
  CHECK(v["secret_new"] == "ERR:Read-only file system");
  CHECK(v["conf"] == "conf=1");
  CHECK(v["conf_write"] == "ERR:Read-only file system");
  CHECK(read_or_error(secret + "/token") == "tok-123");

  // The host's view is unchanged: no /data, no /mnt/secret mount.
  CHECK_FALSE(exists("/data/rw"));

  SUBCASE("a missing source refuses the workload, naming the step") {
    std::string error;
    run(
        fx.cfg, "vol", spec_with({bind_mount(fx.host + "/missing", "/data/m")}), "pod2",
        [] { return std::string(); }, &error);
    CHECK(error == fmt::format("ERR overlay `vol`: volume `/data/m`: source `{}/missing`: No such "
                               "file or directory",
                               fx.host));
  }
  SUBCASE("a later workload finds the gone pod's volumes removed") {
    auto w = run(fx.cfg, "vol", spec_with(), "pod3", [&] {
      return fmt::format("token={}\nrw={}\n", read_or_error("/mnt/secret/token"),
                         exists("/data/rw/x") ? "visible" : "gone");
    });
    CHECK(w["token"] == "ERR:No such file or directory");
    CHECK(w["rw"] == "gone");
  }
}

TEST_CASE("volumes: re-created pod at the same destination, release, exec") {
  Fixture fx;
  std::string s1 = fx.host_tmpfs("s1");
  std::string s2 = fx.host_tmpfs("s2");
  REQUIRE(write_file(s1 + "/v", "one") == "ok");
  REQUIRE(write_file(s2 + "/v", "two") == "ok");
  auto reader = [] { return fmt::format("v={}\n", read_or_error("/mnt/v/v")); };

  CHECK(run(fx.cfg, "g", spec_with({bind_mount(s1, "/mnt/v")}), "pod", reader)["v"] == "one");
  // Same pod id again, other source: the stale mount of the first is replaced.
  CHECK(run(fx.cfg, "g", spec_with({bind_mount(s2, "/mnt/v")}), "pod", reader)["v"] == "two");

  // A live pod's mount is not taken away by a newer one at the same place,
  // and comes back when the newer one is released.
  Workload first(fx.cfg, "g", spec_with({bind_mount(s1, "/mnt/v")}), "live", [&] {
    return reader() + fmt::format("id={}\n", [] {
             UniqueFd fd(::open("/mnt/v", O_PATH));
             return kernel::mount_info(fd.get())->id;
           }());
  });
  REQUIRE(first.ok());
  CHECK(first.values()["v"] == "one");

  // An exec of the live container only joins: same mount, not a new one.
  auto exec = run(fx.cfg, "g", spec_with({bind_mount(s2, "/mnt/v")}), "live", [&] {
    UniqueFd fd(::open("/mnt/v", O_PATH));
    return reader() + fmt::format("id={}\n", kernel::mount_info(fd.get())->id);
  });
  CHECK(exec["v"] == "one");
  CHECK(exec["id"] == first.values()["id"]);

  auto newer = run(fx.cfg, "g", spec_with({bind_mount(s2, "/mnt/v")}), "newer", [&] {
    std::string out = reader();
    auto st = release(fx.cfg, "g", "newer");
    out += fmt::format("release={}\n", st.ok() ? "ok" : st.error().what());
    out += fmt::format("after={}\n", read_or_error("/mnt/v/v"));
    return out;
  });
  CHECK(newer["v"] == "two");
  CHECK(newer["release"] == "ok");
  CHECK(newer["after"] == "one");

  // release() from the host namespace (as `delete` does) once the container
  // is gone: its volume is unmounted inside the view.
  first.finish();
  auto st = release(fx.cfg, "g", "live");
  CHECK_MESSAGE(st.ok(), (st.ok() ? "" : st.error().what()));
  CHECK(run(fx.cfg, "g", spec_with(), "after", reader)["v"] == "ERR:No such file or directory");
  CHECK(read_or_error(paths_for(fx.cfg, "g").users_dir + "/g").find("\nlive ") ==
        std::string::npos);
}

TEST_CASE("volumes: on a masked path, below one, and through a /proc symlink") {
  Fixture fx;
  REQUIRE(::mkdir((fx.host + "/masked").c_str(), 0755) == 0);
  REQUIRE(write_file(fx.host + "/masked/host-key", "host") == "ok");
  fx.cfg.filter_paths = {fx.host + "/masked"};
  std::string keys = fx.host_tmpfs("keys");
  REQUIRE(write_file(keys + "/id", "pod-key") == "ok");

  // On the masked directory: the pod's volume covers the mask.
  auto on = run(fx.cfg, "m", spec_with({bind_mount(keys, fx.host + "/masked")}), "on", [&] {
    return fmt::format("id={}\nhost={}\n", read_or_error(fx.host + "/masked/id"),
                       read_or_error(fx.host + "/masked/host-key"));
  });
  CHECK(on["id"] == "pod-key");
  CHECK(on["host"] == "ERR:No such file or directory");
  // Once that pod is gone, the mask is back, the host's file still hidden.
  auto after = run(fx.cfg, "m", spec_with(), "after",
                   [&] { return fmt::format("n={}\n", list_dir(fx.host + "/masked").size()); });
  CHECK(after["n"] == "0");

  // Below it: the mount point cannot be created in the read-only mask.
  std::string error;
  run(
      fx.cfg, "m", spec_with({bind_mount(keys + "/id", fx.host + "/masked/id")}), "below",
      [] { return std::string(); }, &error);
  CHECK(error.find("Read-only file system") != std::string::npos);

  // A workload plants a symlink into the host's tree through /proc/<pid>/root
  // of a host process (this test's); a later volume there is refused.
  std::string target = fx.host + "/escape-target";
  REQUIRE(::mkdir(target.c_str(), 0755) == 0);
  std::string via = fmt::format("/proc/{}/root{}", ::getpid(), target);
  auto planted = run(fx.cfg, "m", spec_with(), "planter", [&] {
    bool linked = ::symlink(via.c_str(), "/srv-link") == 0;
    return fmt::format("link={}\nreach={}\n", linked,
                       exists("/srv-link/.") ? "host" : std::string("no: ") + std::strerror(errno));
  });
  CHECK(planted["reach"] == "host");  // the escape a root workload has anyway
  CHECK(planted["link"] == "true");
  run(
      fx.cfg, "m", spec_with({bind_mount(keys, "/srv-link/sub")}), "victim",
      [] { return std::string(); }, &error);
  CHECK_MESSAGE(error.find("a symlink on the way leads through /proc") != std::string::npos, error);
  CHECK_FALSE(exists(target + "/sub"));
}

TEST_CASE("20 concurrent first workloads end in exactly one namespace") {
  Fixture fx;
  int start[2];
  REQUIRE(::pipe2(start, O_CLOEXEC) == 0);
  std::vector<std::unique_ptr<Workload>> ws;
  for (int i = 0; i < 20; ++i)
    ws.push_back(std::make_unique<Workload>(
        fx.cfg, "race", spec_with(), fmt::format("c{}", i),
        [] { return fmt::format("ns={}\n", ns_inode_of_self()); }, EnterOptions{}, start[0]));
  ::close(start[0]);
  ::close(start[1]);  // all of them go at once
  std::set<std::string> inodes;
  for (auto& w : ws) {
    REQUIRE_MESSAGE(w->ok(), w->report());
    inodes.insert(w->values()["ns"]);
  }
  CHECK(inodes.size() == 1);
  // The persisted namespace is that one.
  struct stat st {};
  REQUIRE(::stat(paths_for(fx.cfg, "race").ns_file.c_str(), &st) == 0);
  CHECK(std::to_string(st.st_ino) == *inodes.begin());
  // All 20 are recorded as users while they live.
  auto [rc, out] = capture([&] { return admin_command(fx.cfg, {"list"}); });
  CHECK(rc == 0);
  CHECK(out.find("race ") != std::string::npos);
  CHECK(out.find("c19") != std::string::npos);
  ws.clear();
}

TEST_CASE("overlay list, reset and gc") {
  Fixture fx;
  auto writer = [] {
    return fmt::format("w={}\nns={}\n", write_file("/tmp/keep", "data"), ns_inode_of_self());
  };
  Workload live(fx.cfg, "busy", spec_with(), "busy-ctr", writer);
  REQUIRE_MESSAGE(live.ok(), live.report());
  auto idle = run(fx.cfg, "idle", spec_with(), "idle-ctr", writer);
  CHECK(idle["w"] == "ok");

  auto [rc, out] = capture([&] { return admin_command(fx.cfg, {"list"}); });
  CHECK(rc == 0);
  CHECK(out.find("GROUP") == 0);
  CHECK(out.find("busy-ctr") != std::string::npos);
  CHECK(out.find("active") != std::string::npos);

  // reset is refused while busy is in use
  auto [rc2, out2] = capture([&] { return admin_command(fx.cfg, {"reset", "busy"}); });
  CHECK(rc2 == 1);
  CHECK(reset_group(fx.cfg, "busy", false).error().err() == EBUSY);

  // gc drops idle only
  auto [rc3, out3] = capture([&] { return admin_command(fx.cfg, {"gc"}); });
  CHECK(rc3 == 0);
  CHECK(out3 == "removed idle\n");
  CHECK_FALSE(exists(paths_for(fx.cfg, "idle").dir));
  CHECK_FALSE(exists(paths_for(fx.cfg, "idle").ns_file));
  CHECK(exists(paths_for(fx.cfg, "busy").ns_file));

  // a new workload in idle gets a fresh namespace and upper layer
  auto again = run(fx.cfg, "idle", spec_with(), "idle-2", [] {
    return fmt::format("keep={}\nns={}\n", read_or_error("/tmp/keep"), ns_inode_of_self());
  });
  CHECK(again["keep"] == "ERR:No such file or directory");

  // --force resets a group in use
  auto [rc4, out4] = capture([&] { return admin_command(fx.cfg, {"reset", "busy", "--force"}); });
  CHECK(rc4 == 0);
  CHECK(out4 == "reset busy\n");
  CHECK_FALSE(exists(paths_for(fx.cfg, "busy").ns_file));
  live.finish();

  auto [rc5, out5] = capture([&] { return admin_command(fx.cfg, {"reset", "../etc"}); });
  CHECK(rc5 == 1);
  auto [rc6, out6] = capture([&] { return admin_command(fx.cfg, {"frobnicate"}); });
  CHECK(rc6 == 2);
}

TEST_CASE("DNS: kubernetes mode writes kubelet's resolv.conf into the group, host mode restores") {
  Fixture fx;
  std::string kubelet = fx.host + "/resolv.conf";
  std::string pod_dns = "nameserver 10.96.0.10\nsearch default.svc.cluster.local\n";
  REQUIRE(write_file(kubelet, pod_dns) == "ok");
  std::string host_resolv = read_or_error("/etc/resolv.conf");
  auto reader = [] {
    return fmt::format("resolv={}\n", one_line(read_or_error("/etc/resolv.conf")));
  };
  oci::Mount m = bind_mount(kubelet, "/etc/resolv.conf");

  auto k =
      run(fx.cfg, "dns", spec_with({m}, {{"reaper.runtime/dns-mode", "kubernetes"}}), "k", reader);
  CHECK(k["resolv"] == one_line(pod_dns));
  CHECK(read_or_error("/etc/resolv.conf") == host_resolv);

  auto h = run(fx.cfg, "dns", spec_with({m}), "h", reader);
  if (host_resolv.rfind("ERR:", 0) != 0) CHECK(h["resolv"] == one_line(host_resolv));

  std::string error;
  run(fx.cfg, "dns", spec_with({}, {{"reaper.runtime/dns-mode", "kubernetes"}}), "none", reader,
      &error);
  CHECK(error.find("ERR overlay `dns`: dns: DNS mode is kubernetes but the container has no "
                   "/etc/resolv.conf mount") == 0);
}

TEST_CASE("fallback: anchor process where the namespace file cannot be bound") {
  Fixture fx;
  EnterOptions opts;
  opts.force_anchor = true;
  auto a = run(
      fx.cfg, "anch", spec_with(), "a",
      [] {
        return fmt::format("w={}\nns={}\n", write_file("/etc/anchored", "1"), ns_inode_of_self());
      },
      nullptr, opts);
  auto p = paths_for(fx.cfg, "anch");
  CHECK_FALSE(exists(p.ns_file));
  std::string anchor = read_or_error(p.anchor_file);
  REQUIRE(anchor.rfind("ERR:", 0) != 0);
  pid_t anchor_pid = std::stoi(anchor);
  CHECK(anchor.find(a["ns"]) != std::string::npos);
  CHECK(::kill(anchor_pid, 0) == 0);
  // A sibling of the process that entered (a monitor ends its descendants).
  std::string stat = read_or_error(fmt::format("/proc/{}/stat", anchor_pid));
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string state;
  pid_t ppid = 0;
  fields >> state >> ppid;
  CHECK(ppid == ::getpid());
  // The anchor keeps nothing of its creator: no inherited fds beyond stdio.
  std::string fds;
  for (const auto& fd : list_dir(fmt::format("/proc/{}/fd", anchor_pid))) {
    char target[256] = {};
    ::readlink(fmt::format("/proc/{}/fd/{}", anchor_pid, fd).c_str(), target, sizeof target - 1);
    fds += fd + "->" + target + " ";
  }
  CHECK_MESSAGE(list_dir(fmt::format("/proc/{}/fd", anchor_pid)).size() == 3, fds);
  // ps names it and its group, not the command line of the process it was
  // forked from (the rest of that room is zeroed).
  std::string cmdline = read_or_error(fmt::format("/proc/{}/cmdline", anchor_pid));
  cmdline.erase(cmdline.find_last_not_of('\0') + 1);
  CHECK(cmdline == std::string("reaper-anchor\0--group\0anch", 26));

  auto b = run(fx.cfg, "anch", spec_with(), "b", [] {
    return fmt::format("r={}\nns={}\n", read_or_error("/etc/anchored"), ns_inode_of_self());
  });
  CHECK(b["ns"] == a["ns"]);
  CHECK(b["r"] == "1");

  REQUIRE(reset_group(fx.cfg, "anch", false).ok());
  // The anchor is gone (a zombie at most, until init reaps it).
  std::string after = read_or_error(fmt::format("/proc/{}/stat", anchor_pid));
  CHECK((after.rfind("ERR:", 0) == 0 || after.find(") Z ") != std::string::npos));
  ::waitpid(anchor_pid, nullptr, WNOHANG);
  CHECK_FALSE(exists(p.anchor_file));
}

TEST_CASE("fallback: kernels without open_tree bind what the view can see, refuse the rest") {
  Fixture fx;
  EnterOptions opts;
  opts.force_no_open_tree = true;
  std::string dir = fx.host + "/plain";
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  REQUIRE(write_file(dir + "/f", "plain") == "ok");
  auto v = run(
      fx.cfg, "old", spec_with({bind_mount(dir, "/mnt/plain", {"ro"})}), "a",
      [] {
        return fmt::format("f={}\nw={}\n", read_or_error("/mnt/plain/f"),
                           write_file("/mnt/plain/g", "x"));
      },
      nullptr, opts);
  CHECK(v["f"] == "plain");
  CHECK(v["w"] == "ERR:Read-only file system");

  std::string secret = fx.host_tmpfs("tmpfs-src");
  std::string error;
  run(
      fx.cfg, "old", spec_with({bind_mount(secret, "/mnt/s")}), "b", [] { return std::string(); },
      &error, opts);
  CHECK(error.find("without open_tree(2)") != std::string::npos);
}

TEST_CASE("an overlay base on the root filesystem gets a tmpfs of its own") {
  Fixture fx(false);  // state root under /var/tmp: the root filesystem
  auto v = run(fx.cfg, "rootfs", spec_with(), "a",
               [] { return fmt::format("w={}\n", write_file("/etc/reaper-rootfs-test", "1")); });
  CHECK(v["w"] == "ok");
  CHECK_FALSE(exists("/etc/reaper-rootfs-test"));
  CHECK(kernel::is_mount_point(fx.cfg.overlay_base_dir()).value());
}

TEST_CASE("node mode, disabled overlay, bad groups") {
  Fixture fx;
  fx.cfg.overlay_isolation = OverlayIsolation::per_node;
  auto g = group_for(fx.cfg, {}, "");
  REQUIRE(g.ok());
  auto a =
      run(fx.cfg, *g, spec_with(), "a", [] { return fmt::format("ns={}\n", ns_inode_of_self()); });
  auto b =
      run(fx.cfg, *g, spec_with(), "b", [] { return fmt::format("ns={}\n", ns_inode_of_self()); });
  CHECK(a["ns"] == b["ns"]);

  std::string error;
  run(
      fx.cfg, "../../etc", spec_with(), "c", [] { return std::string(); }, &error);
  CHECK(error.find("ERR overlay `../../etc`: `../../etc` is not an overlay group") == 0);
  fx.cfg.overlay_enabled = false;
  run(
      fx.cfg, "x", spec_with(), "c", [] { return std::string(); }, &error);
  CHECK(error.find("the overlay is disabled") != std::string::npos);
}

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "overlay mount tests: need root, skipped\n");
    return 77;
  }
  if (read_or_error("/proc/filesystems").find("overlay") == std::string::npos) {
    std::fprintf(stderr, "overlay mount tests: no overlayfs, skipped\n");
    return 77;
  }
  pid_t probe = ::fork();
  if (probe == 0) ::_exit(::unshare(CLONE_NEWNS) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(probe, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "overlay mount tests: cannot create mount namespaces, skipped\n");
    return 77;
  }
  auto before = our_mount_points();
  doctest::Context ctx(argc, argv);
  int rc = ctx.run();
  if (ctx.shouldExit()) return rc;
  auto after = our_mount_points();
  if (after != before) {
    for (const auto& mp : after)
      std::fprintf(stderr, "overlay mount tests: left behind: %s\n", mp.c_str());
    return 1;
  }
  return rc;
}
