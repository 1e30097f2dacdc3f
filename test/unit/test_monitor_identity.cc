// Who may answer as a monitor (monitor/identity.h, the client side of
// monitor/control.h) and the reserved room of the exit record
// (monitor/exit_slot.h). The integration scenarios forged.sh and full_fs.sh
// drive the same through the binary; these cases pin the messages and the
// corner cases.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/fs.h"
#include "common/syscalls.h"
#include "monitor/control.h"
#include "monitor/exit_slot.h"
#include "monitor/identity.h"
#include "process/proc.h"

extern char** environ;

using namespace reaper;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/reaper-unit-identity.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// A child of ours running /bin/sleep: some process that is not a monitor.
struct Sleeper {
  Sleeper() {
    char arg0[] = "sleep";
    char arg1[] = "1000";
    char* argv[] = {arg0, arg1, nullptr};
    REQUIRE(::posix_spawn(&pid, "/bin/sleep", nullptr, nullptr, argv, environ) == 0);
    pidfd = UniqueFd(sys::pidfd_open(pid));
    REQUIRE(pidfd.valid());
    // posix_spawn returns once the exec happened (vfork semantics).
  }
  ~Sleeper() { end(); }
  void end() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = 0;
  }
  pid_t pid = 0;
  UniqueFd pidfd;
};

std::string read_all(int dirfd, const char* name) {
  auto text = fs::read_file_at(dirfd, name);
  REQUIRE(text.ok());
  return *text;
}

}  // namespace

TEST_CASE("identity: a process that is not a reaper-monitor is refused, naming what it runs") {
  Sleeper s;
  auto start = proc::read_stat(s.pid);
  REQUIRE(start.ok());
  monitor::Identity who{"/run", "c1", "", s.pid, start->start_time};
  auto st = monitor::verify(s.pidfd.get(), s.pid, who);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().err() == EPERM);
  CHECK(st.error().message().starts_with(
      fmt::format("pid {} is not the monitor of container `c1`: it runs `/usr/bin/sleep`", s.pid)));

  // Another start time: not the recorded process (a reused pid): gone.
  who.start_time += 1;
  CHECK(monitor::verify(s.pidfd.get(), s.pid, who).error().err() == ESRCH);

  // Exited (a zombie, then reaped): gone, not "not a monitor".
  who.start_time -= 1;
  ::kill(s.pid, SIGKILL);
  CHECK(monitor::exited_within(s.pidfd.get(), 10'000));
  CHECK(monitor::verify(s.pidfd.get(), s.pid, who).error().err() == ESRCH);
  pid_t pid = s.pid;
  s.end();
  CHECK(monitor::verify(s.pidfd.get(), pid, who).error().err() == ESRCH);
}

TEST_CASE("identity: our own executable with another command line is not a monitor") {
  // The unit-test binary passes the executable check against itself; its
  // argv[0] gives it away.
  UniqueFd self(sys::pidfd_open(::getpid()));
  REQUIRE(self.valid());
  auto st = monitor::verify(self.get(), ::getpid(), monitor::Identity{"/run", "c1", "", 0, 0});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().err() == EPERM);
  CHECK(st.error().message().find("not a reaper-monitor") != std::string::npos);
}

TEST_CASE("control: a listener that is not the recorded monitor is sent nothing") {
  TempDir t;
  auto dir = fs::open_dir(t.path);
  REQUIRE(dir.ok());
  auto listener = monitor::listen_at(dir->get());  // bound by us: not a monitor
  REQUIRE(listener.ok());
  std::string sock = t.path + "/monitor.sock";

  // The record names another pid: refused on the peer's pid alone.
  auto other = monitor::request(dir->get(), monitor::Identity{t.path, "c1", "", 1, 1}, "kill 9 1");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().err() == EPERM);
  CHECK(other.error().message() ==
        fmt::format("`{}` is served by pid {}, not by the monitor its record names (pid 1): "
                    "refusing it",
                    sock, ::getpid()));

  // No record (pid unknown): the peer itself is checked.
  auto unknown =
      monitor::request(dir->get(), monitor::Identity{t.path, "c1", "", 0, 0}, "kill 9 1");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().err() == EPERM);
  CHECK(unknown.error().message().starts_with(
      fmt::format("`{}`: pid {} is not the monitor of container `c1`", sock, ::getpid())));

  // Connections were made, never a request sent on them.
  for (int i = 0; i < 2; ++i) {
    UniqueFd conn(::accept4(listener->get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    REQUIRE(conn.valid());
    char buf[64];
    CHECK(::recv(conn.get(), buf, sizeof buf, MSG_DONTWAIT) == 0);  // closed, nothing in it
  }
}

TEST_CASE("exit slot: the exit record goes into the reserved room, then a fresh file") {
  TempDir t;
  auto dir = fs::open_dir(t.path);
  REQUIRE(dir.ok());
  REQUIRE(monitor::reserve_exit_slot(dir->get()).ok());
  struct stat st {};
  REQUIRE(::fstatat(dir->get(), monitor::exit_slot_name, &st, 0) == 0);
  CHECK(static_cast<size_t>(st.st_size) == monitor::exit_slot_size);
  // Reserved once: a second reservation of the same process is refused.
  CHECK_FALSE(monitor::reserve_exit_slot(dir->get()).ok());

  REQUIRE(monitor::write_exit_record(dir->get(), R"({"status":7})").ok());
  CHECK(read_all(dir->get(), "exit.json") == R"({"status":7})");
  CHECK(::fstatat(dir->get(), monitor::exit_slot_name, &st, 0) < 0);  // renamed

  // The slot gone (or never made): a new temp file, as for any record.
  REQUIRE(monitor::write_exit_record(dir->get(), R"({"status":8})").ok());
  CHECK(read_all(dir->get(), "exit.json") == R"({"status":8})");

  // A FIFO planted as the slot is neither opened (that would block) nor used.
  REQUIRE(::mkfifoat(dir->get(), monitor::exit_slot_name, 0600) == 0);
  REQUIRE(monitor::write_exit_record(dir->get(), R"({"status":9})").ok());
  CHECK(read_all(dir->get(), "exit.json") == R"({"status":9})");
  REQUIRE(::fstatat(dir->get(), monitor::exit_slot_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}
