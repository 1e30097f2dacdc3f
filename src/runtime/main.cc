// reaper-runtime: an OCI-runtime-style command line over the runtime core.
// Global flags are runc's (--root --log --log-format --debug
// --systemd-cgroup); each verb is one file.

#include <unistd.h>

#include <string_view>

#include "personalities.h"
#include "runtime/cli.h"
#include "version.h"

extern char** environ;  // the process environment, read once here and passed down

namespace reaper {

namespace {

struct Verb {
  std::string_view name;
  int (*run)(const cli::Invocation&);
  std::string_view usage;
};

constexpr Verb verbs[] = {
    {"create", cli::cmd_create,
     "create [--bundle DIR] [--pid-file F] [--console-socket S] [--namespace NS] [--stdin P] "
     "[--stdout P] [--stderr P] ID"},
    {"start", cli::cmd_start, "start ID"},
    {"state", cli::cmd_state, "state ID"},
    {"kill", cli::cmd_kill, "kill [--all] ID [SIGNAL]"},
    {"delete", cli::cmd_delete, "delete [--force] ID"},
    {"exec", cli::cmd_exec,
     "exec [--process P.json] [--tty] [--detach] [--pid-file F] [--exec-id E] [--cwd D] [--env "
     "K=V] [--user UID[:GID]] ID [-- ARGS...]"},
    {"run", cli::cmd_run, "run [--bundle DIR] [--pid-file F] [--namespace NS] [--detach] ID"},
    {"list", cli::cmd_list, "list [--format table|json]"},
    {"ps", cli::cmd_ps, "ps [--format table|json] ID"},
    {"features", cli::cmd_features, "features"},
    {"overlay", cli::cmd_overlay, "overlay list | reset GROUP [--force] | gc"},
    {"update", cli::cmd_update,
     "update [--resources FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N] "
     "[--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] "
     "[--pids-limit N] ID"},
    {"events", cli::cmd_events, "events [--stats] [--interval DURATION] ID"},
};

void usage(std::FILE* out) {
  fmt::print(out,
             "usage: reaper-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug]\n"
             "                      [--systemd-cgroup] COMMAND [ARGS...]\n\ncommands:\n");
  for (const auto& v : verbs) fmt::print(out, "  {}\n", v.usage);
}

}  // namespace

int runtime_main(Args args) {
  cli::Invocation inv;
  inv.envp = environ;
  size_t i = 1;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.empty() || a[0] != '-') break;
    auto eq = a.find('=');
    std::string_view name = a.substr(0, eq);
    auto value = [&]() -> std::optional<std::string> {
      if (eq != std::string_view::npos) return std::string(a.substr(eq + 1));
      if (i + 1 < args.size()) return std::string(args[++i]);
      return std::nullopt;
    };
    if (name == "--version" || name == "-v") {
      fmt::print("reaper-runtime version {}\ncommit: {}\nbuilt: {}\nlibc: {}\nspec: 1.0.2\n",
                 build::version, build::commit, build::date, build::libc);
      return 0;
    }
    if (name == "--help" || name == "-h") {
      usage(stdout);
      return 0;
    }
    if (name == "--debug") {
      inv.globals.debug = true;
      continue;
    }
    if (name == "--systemd-cgroup") {
      inv.globals.systemd_cgroup = true;
      continue;
    }
    if (name == "--root" || name == "--log" || name == "--log-format" || name == "--pid-file" ||
        name == "--criu" || name == "--rootless") {
      auto v = value();
      if (!v) return cli::fail(inv, make_error("flag `{}` needs a value", name));
      if (name == "--root") inv.globals.root = *v;
      if (name == "--log") inv.globals.log = *v;
      if (name == "--log-format") {
        if (*v != "text" && *v != "json")
          return cli::fail(inv, make_error("--log-format: `{}` is not text or json", *v));
        inv.globals.log_format = *v;
      }
      continue;
    }
    return cli::fail(inv, make_error("unknown global flag `{}`", a));
  }
  if (i >= args.size()) {
    usage(stderr);
    return 2;
  }
  inv.verb = args[i];
  for (size_t j = i + 1; j < args.size(); ++j) inv.args.emplace_back(args[j]);
  for (const auto& v : verbs) {
    if (v.name != inv.verb) continue;
    if (!inv.args.empty() && (inv.args[0] == "--help" || inv.args[0] == "-h")) {
      fmt::print("usage: reaper-runtime {}\n", v.usage);
      return 0;
    }
    return v.run(inv);
  }
  fmt::print(stderr, "reaper-runtime: unknown command `{}`\n", inv.verb);
  usage(stderr);
  return 2;
}

}  // namespace reaper
