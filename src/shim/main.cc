// containerd-shim-reaper-v2: `start` and `delete` are short runs by
// containerd; without an action the binary is the shim server.

#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>

#include "common/fs.h"
#include "personalities.h"
#include "shim/bootstrap.h"
#include "shim/flags.h"
#include "shim/serve.h"
#include "version.h"

namespace reaper {

namespace {

constexpr std::string_view self_name = "containerd-shim-reaper-v2";

int fail(std::string_view action, const Error& error) {
  fmt::print(stderr, "{}: {}: {}\n", self_name, action, error.what());
  return 1;
}

int start(const shim::ShimFlags& flags) {
  auto address = shim::shim_start(flags, shim::StartOptions{});
  if (!address.ok()) return fail("start", address.error());
  if (auto st = fs::write_all(1, *address); !st) return fail("start", st.error());
  return 0;
}

int remove(const shim::ShimFlags& flags) {
  auto response = shim::shim_delete(flags, environ);
  if (!response.ok()) return fail("delete", response.error());
  if (auto st = fs::write_all(1, response->SerializeAsString()); !st)
    return fail("delete", st.error());
  return 0;
}

}  // namespace

int shim_main(Args args) {
  auto flags = shim::parse_flags(args.empty() ? args : args.subspan(1));
  if (flags.version) {
    fmt::print("{}:\n  Version: {}\n  Revision: {}\n", self_name, build::version, build::commit);
    return 0;
  }
  if (flags.action == "start") return start(flags);
  if (flags.action == "delete") return remove(flags);
  if (!flags.action.empty()) {
    fmt::print(stderr, "{}: unknown action `{}` (expected start, delete, or none for the server)\n",
               self_name, flags.action);
    return 2;
  }
  return shim::shim_serve(flags);
}

}  // namespace reaper
