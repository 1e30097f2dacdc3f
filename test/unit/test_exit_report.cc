// src/runtime/spawn_monitor.cc: the monitor's last line on the sync pipe
// (--report-exit), as a foreground `run` or `exec` reads it.

#include <doctest/doctest.h>

#include <unistd.h>

#include <string>

#include "runtime/spawn_monitor.h"

using namespace reaper;

namespace {

// A pipe holding `text`, its write end closed unless `keep_open`.
runtime::ExitReport report_of(const std::string& text, std::string pending = {},
                              UniqueFd* keep_open = nullptr) {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  REQUIRE(::write(p[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  if (keep_open != nullptr)
    keep_open->reset(p[1]);
  else
    ::close(p[1]);
  return runtime::ExitReport{UniqueFd(p[0]), std::move(pending)};
}

}  // namespace

TEST_CASE("exit report: the status of `exit N`, 0 to 255") {
  for (auto [text, status] : {std::pair{"exit 0\n", 0}, {"exit 137\n", 137}, {"exit 255", 255}}) {
    auto r = report_of(text);
    auto got = runtime::read_exit_report(r);
    REQUIRE(got.has_value());
    CHECK(*got == status);
    CHECK_FALSE(r.fd);  // read once
    CHECK_FALSE(runtime::read_exit_report(r).has_value());
  }
}

TEST_CASE("exit report: none when the monitor closed the pipe without one, or wrote another") {
  for (const char* text : {"", "exit\n", "exit -1\n", "exit 256\n", "exit 1x\n", "ok 12\n",
                           "exit  3\n", "err monitor-lost\n"}) {
    auto r = report_of(text);
    CHECK_FALSE(runtime::read_exit_report(r).has_value());
  }
  runtime::ExitReport none;
  CHECK_FALSE(runtime::read_exit_report(none).has_value());
}

TEST_CASE("exit report: a line read with the start-up report is not read again") {
  // The workload ended before the CLI read its start-up report: the last
  // line came with it, and the pipe, still open, holds nothing more.
  UniqueFd writer;
  auto r = report_of("", "exit 3\n", &writer);
  auto got = runtime::read_exit_report(r);
  REQUIRE(got.has_value());
  CHECK(*got == 3);
}
