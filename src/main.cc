// One executable, several names: dispatch on basename(argv[0]) through a
// table; `reaper <personality> args...` does the same, busybox style.

#include <fmt/format.h>
#include <sys/prctl.h>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "common/json.h"
#include "personalities.h"
#include "version.h"

namespace {

struct Personality {
  std::string_view name;
  int (*main)(reaper::Args);
  std::string_view summary;
};

constexpr Personality personalities[] = {
    {"containerd-shim-reaper-v2", reaper::shim_main,
     "containerd shim v2 (io.containerd.reaper.v2)"},
    {"reaper-runtime", reaper::runtime_main, "OCI-runtime-style command line"},
    {"reaper-monitor", reaper::monitor_main, "parent of one workload process (internal)"},
};

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

void print_version() {
  fmt::print("reaper version {}\ncommit: {}\nbuilt: {}\nlibc: {}\n", reaper::build::version,
             reaper::build::commit, reaper::build::date, reaper::build::libc);
}

void print_usage(std::FILE* out) {
  fmt::print(out,
             "usage: reaper <personality> [args...]\n"
             "       reaper --version | --help\n\n"
             "The same executable answers to each personality's name (symlinks):\n");
  for (const auto& p : personalities) fmt::print(out, "  {:<27} {}\n", p.name, p.summary);
}

const Personality* find(std::string_view name) {
  for (const auto& p : personalities)
    if (p.name == name) return &p;
  return nullptr;
}

// Monitors and the shim's server are started through /proc/self/exe, which
// would show them as `exe` in ps, top and /proc/PID/comm. The process is
// named after its personality instead (the kernel keeps 15 characters:
// `reaper-monitor`, `containerd-shim` as for every containerd shim).
int run(const Personality& p, reaper::Args args) {
  std::string comm(p.name.substr(0, 15));
  ::prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0);
  return p.main(args);
}

int dispatch(int argc, char** argv) {
  reaper::use_portable_json_parser();
  reaper::Args args(argv, static_cast<size_t>(argc));
  std::string_view self = args.empty() ? "reaper" : base_name(args[0]);

  if (const auto* p = find(self)) return run(*p, args);

  if (self != "reaper") {
    fmt::print(stderr, "reaper: unknown name `{}`\n", self);
    print_usage(stderr);
    return 2;
  }
  if (args.size() < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string_view first = args[1];
  if (first == "--version" || first == "-v" || first == "version") {
    print_version();
    return 0;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(stdout);
    return 0;
  }
  if (const auto* p = find(first)) return run(*p, args.subspan(1));
  fmt::print(stderr, "reaper: unknown personality `{}`\n", first);
  print_usage(stderr);
  return 2;
}

}  // namespace

// Errors are values (common/error.h); an exception here is a bug or memory
// exhaustion (std::bad_alloc). It ends the process with a message and
// EX_SOFTWARE rather than an abort.
int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reaper: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "reaper: internal error: unknown exception\n");
  }
  return 70;
}
