// Regressions for what the fuzz targets (test/fuzz) and the hostile-input
// scenarios (test/integration/runtime/hostile.sh) found: each case is the
// smallest input that showed the bug, and says what the fix was.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/fs.h"
#include "monitor/control.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "shim/socket_address.h"
#include "shim/unix_socket.h"
#include "state/id.h"
#include "state/record.h"

using namespace reaper;

TEST_CASE("a repeated annotation: the shim and the runtime read the same value (last wins)") {
  // fuzz-annotations: the shim kept the first value, oci::parse_spec the last.
  constexpr std::string_view config = R"({"ociVersion": "1.0.2", "annotations": {
    "io.kubernetes.cri.sandbox-id": "first", "io.kubernetes.cri.sandbox-id": "last"}})";
  auto shim_view = shim::parse_annotations(config);
  auto spec = oci::parse_spec(config, "config.json");
  REQUIRE(shim_view.ok());
  REQUIRE(spec.ok());
  CHECK(shim_view->at("io.kubernetes.cri.sandbox-id") == "last");
  CHECK(spec->annotations.at("io.kubernetes.cri.sandbox-id") == "last");
}

TEST_CASE("state records: a number that does not fit its field is refused, not cut") {
  // fuzz-state-records: pid 2^32+1 was read as pid 1, a negative
  // monitor_start as a huge one.
  auto wide_pid =
      state::parse_process_record(R"({"version": 1, "id": "c1", "pid": 4294967297})", "state.json");
  REQUIRE_FALSE(wide_pid.ok());
  CHECK(wide_pid.error().message() == "state.json: pid: 4294967297 is out of range");

  auto negative_start = state::parse_process_record(
      R"({"version": 1, "id": "c1", "monitor_start": -5})", "state.json");
  REQUIRE_FALSE(negative_start.ok());
  CHECK(negative_start.error().message() ==
        "state.json: monitor_start: expected an unsigned integer");

  auto wide_status =
      state::parse_exit_record(R"({"version": 1, "status": -2147483649})", "exit.json");
  REQUIRE_FALSE(wide_status.ok());
  CHECK(wide_status.error().message() == "exit.json: status: -2147483649 is out of range");

  // The whole range of each field still round-trips.
  state::ProcessRecord r;
  r.id = "c1";
  r.pid = -1;
  r.monitor_pid = 2147483647;
  r.monitor_start = 18446744073709551615ULL;
  r.created_ns = -9223372036854775807LL - 1;
  auto back = state::parse_process_record(state::to_json(r), "state.json");
  REQUIRE(back.ok());
  CHECK(back->pid == -1);
  CHECK(back->monitor_pid == 2147483647);
  CHECK(back->monitor_start == 18446744073709551615ULL);
  CHECK(back->created_ns == r.created_ns);
}

namespace {

// A private directory under /tmp, removed with everything in it.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/reaper-unit-hostile.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

}  // namespace

TEST_CASE(
    "records: a symlink, FIFO or device in place of a file is refused, not followed or opened") {
  // hostile.sh: a FIFO planted as state.json blocked every reader (the shim's
  // event loop with it); a symlink was refused with a bare ELOOP.
  TempDir t;
  auto dir = fs::open_dir(t.path);
  REQUIRE(dir.ok());
  REQUIRE(fs::write_file_atomic_at(dir->get(), "real.json", "{}").ok());
  REQUIRE(::symlinkat("real.json", dir->get(), "link.json") == 0);
  REQUIRE(::mkfifoat(dir->get(), "fifo.json", 0600) == 0);

  CHECK(fs::read_file_at(dir->get(), "real.json").value() == "{}");
  auto link = fs::read_file_at(dir->get(), "link.json");
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().what() == "`" + t.path + "/link.json` is a symbolic link: not following it");
  auto fifo = fs::read_file_at(dir->get(), "fifo.json");  // returns: nothing opened the FIFO
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().what() == "`" + t.path + "/fifo.json` is not a regular file");
  auto device = fs::read_file("/dev/zero");
  REQUIRE_FALSE(device.ok());
  CHECK(device.error().what() == "`/dev/zero` is not a regular file");
  auto missing = fs::read_file_at(dir->get(), "missing.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().err() == ENOENT);
  CHECK(missing.error().what() == "open `" + t.path + "/missing.json`: No such file or directory");
}

TEST_CASE("a planted monitor.sock symlink is never connected to") {
  // hostile.sh: `kill v KILL` with v/monitor.sock a symlink to another
  // container's socket killed that other container's workload.
  TempDir t;
  auto dir = fs::open_dir(t.path);
  REQUIRE(dir.ok());
  REQUIRE(::mkdirat(dir->get(), "target", 0700) == 0);
  auto target = fs::open_dir_at(dir->get(), "target");
  REQUIRE(target.ok());
  auto listener = monitor::listen_at(target->get());
  REQUIRE(listener.ok());
  REQUIRE(::symlinkat("target/monitor.sock", dir->get(), "monitor.sock") == 0);

  auto reply = monitor::request(dir->get(), monitor::Identity{t.path, "c1", "", 0, 0}, "kill 9 0");
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().what() ==
        "`" + t.path + "/monitor.sock` is a symbolic link: not following it");
  // Nothing reached the real socket.
  int pending = ::accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK);
  CHECK(pending < 0);
  CHECK(errno == EAGAIN);

  REQUIRE(::unlinkat(dir->get(), "monitor.sock", 0) == 0);
  REQUIRE(fs::write_file_atomic_at(dir->get(), "monitor.sock", "").ok());
  auto not_socket =
      monitor::request(dir->get(), monitor::Identity{t.path, "c1", "", 0, 0}, "kill 9 0");
  REQUIRE_FALSE(not_socket.ok());
  CHECK(not_socket.error().what() == "`" + t.path + "/monitor.sock` is not a socket");

  REQUIRE(::unlinkat(dir->get(), "monitor.sock", 0) == 0);
  auto gone = monitor::request(dir->get(), monitor::Identity{t.path, "c1", "", 0, 0}, "kill 9 0");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().err() == ESRCH);
}

TEST_CASE("state dirs: a symlinked container dir or exec/ dir is refused as such") {
  // hostile.sh: `<root>/<id>` as a symlink said only "Not a directory";
  // process_dir followed an `exec` symlink (O_NOFOLLOW covers the last
  // component of "exec/<id>" only).
  TempDir t;
  std::string root = t.path + "/root";
  std::string decoy = t.path + "/decoy";
  REQUIRE(::mkdir(decoy.c_str(), 0700) == 0);
  REQUIRE(::mkdir((decoy + "/e1").c_str(), 0700) == 0);
  const char* envp[] = {"REAPER_CONFIG=", nullptr};
  auto ctx = runtime::make_context(envp, root);
  REQUIRE(ctx.ok());

  REQUIRE(::symlink(decoy.c_str(), (root + "/evil").c_str()) == 0);
  auto evil = runtime::get_state(*ctx, "evil");
  REQUIRE_FALSE(evil.ok());
  CHECK(evil.error().what() == "`" + root + "/evil` is a symbolic link: not following it");

  REQUIRE(::mkdir((root + "/c1").c_str(), 0700) == 0);
  REQUIRE(::symlink(decoy.c_str(), (root + "/c1/exec").c_str()) == 0);
  auto exec = runtime::get_state(*ctx, "c1", "e1");
  REQUIRE_FALSE(exec.ok());
  CHECK(exec.error().what() == "`" + root + "/c1/exec` is a symbolic link: not following it");
}

TEST_CASE("the shim's socket is 0600 whatever the umask") {
  // containerd's shims chmod their socket; ours kept the umask's mode (0755
  // under the usual 022, 0777 under 0): only the peer uid check was left.
  TempDir t;
  std::string path = t.path + "/s.sock";
  mode_t old = ::umask(0);
  auto listener = shim::listen_unix("unix://" + path);
  ::umask(old);
  REQUIRE(listener.ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("ids from the shim: a NUL or a control byte is refused and shown escaped") {
  // argv cannot carry a NUL; a task request can (fuzz-task-requests checks
  // every id it decodes the same way).
  using namespace std::string_literals;
  auto nul = state::validate_id("a\0b"s, "exec id");
  REQUIRE_FALSE(nul.ok());
  CHECK(nul.error().message() == "exec id `a\\x00b` has a character outside [A-Za-z0-9._-]");
  auto esc = state::validate_id("\x1b[2J", "container id");
  REQUIRE_FALSE(esc.ok());
  CHECK(esc.error().message() == "container id `\\x1b[2J` must start with a letter or digit");
}
