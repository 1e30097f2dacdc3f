// src/monitor/options.cc: the monitor's command line, and the count of
// --preserve-fds that the CLI shares with it.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "monitor/options.h"

using namespace reaper;

namespace {

Result<monitor::Options> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "reaper-monitor");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return monitor::parse_options(Args(argv.data(), argv.size()));
}

}  // namespace

TEST_CASE("monitor options: the required ones, --preserve-fds and the sync fd above them") {
  auto o = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3"});
  REQUIRE(o.ok());
  CHECK(o->preserve_fds == 0);
  CHECK(o->sync_fd == 3);

  o = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--preserve-fds", "2", "--sync-fd", "5",
             "--start"});
  REQUIRE(o.ok());
  CHECK(o->preserve_fds == 2);
  CHECK(o->sync_fd == 5);
  CHECK(o->start);

  // The sync fd among the preserved ones would be handed to the workload.
  o = parse(
      {"--root", "/r", "--id", "c", "--bundle", "/b", "--preserve-fds", "2", "--sync-fd", "4"});
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.error().what()).find("--sync-fd 4 is among the 2 preserved fds (3-4)") !=
        std::string::npos);

  o = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3", "--preserve-fds"});
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.error().what()).find("needs a value") != std::string::npos);
}

TEST_CASE("--preserve-fds: a decimal count from 0 to the maximum, nothing else") {
  CHECK(*monitor::parse_preserve_fds("0") == 0);
  CHECK(*monitor::parse_preserve_fds("7") == 7);
  CHECK(*monitor::parse_preserve_fds(std::to_string(monitor::max_preserved_fds)) ==
        monitor::max_preserved_fds);
  for (const char* bad : {"", "-1", "+1", "x", "1x", " 1", "0x10", "65537", "99999999999"}) {
    auto n = monitor::parse_preserve_fds(bad);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().err() == EINVAL);
    CHECK(std::string(n.error().what()).find("is not a count of fds") != std::string::npos);
  }
}

TEST_CASE("--report-exit: only with --start") {
  auto o = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3", "--start",
                  "--report-exit"});
  REQUIRE(o.ok());
  CHECK(o->report_exit);
  o = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3", "--report-exit"});
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.error().what()) == "--report-exit needs --start");
}

TEST_CASE("--cgroup-fd: an fd of its own, for an init process") {
  auto o =
      parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3", "--cgroup-fd", "4"});
  REQUIRE(o.ok());
  CHECK(o->cgroup_fd == 4);
  CHECK(parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3"})->cgroup_fd == -1);
  struct {
    std::vector<std::string> extra;
    const char* message;
  } refused[] = {
      {{"--cgroup-fd", "3"}, "--cgroup-fd and --sync-fd are the same fd"},
      {{"--cgroup-fd", "2"}, "--cgroup-fd: `2` is not a file descriptor number >= 3"},
      {{"--cgroup-fd", "4x"}, "--cgroup-fd: `4x` is not a file descriptor number >= 3"},
      {{"--cgroup-fd", "4", "--exec-id", "e"}, "--cgroup-fd is for an init process"},
  };
  for (const auto& r : refused) {
    std::vector<std::string> args{"--root", "/r", "--id", "c", "--bundle", "/b", "--sync-fd", "3"};
    args.insert(args.end(), r.extra.begin(), r.extra.end());
    auto got = parse(args);
    REQUIRE_FALSE(got.ok());
    CHECK(std::string(got.error().what()) == r.message);
  }
  auto among = parse({"--root", "/r", "--id", "c", "--bundle", "/b", "--preserve-fds", "2",
                      "--sync-fd", "5", "--cgroup-fd", "4"});
  REQUIRE_FALSE(among.ok());
  CHECK(std::string(among.error().what()) == "--cgroup-fd 4 is among the 2 preserved fds (3-4)");
}
