// reaper-runtime create: start the container's monitor; the workload waits for `start`.
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_create(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"bundle|b", true}, {"pid-file", true},
                                       {"console-socket", true}, {"namespace|n", true},
                                       {"no-pivot"}, {"no-new-keyring"}, {"preserve-fds", true}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "create [--bundle DIR] ID"); !st)
    return fail(inv, st.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  runtime::CreateRequest req;
  req.id = flags->positional[0];
  req.bundle = flags->get("bundle", ".");
  req.stdio.console_socket = flags->get("console-socket");
  req.cli_namespace = flags->get("namespace");
  auto pid = runtime::create(*ctx, req);
  if (!pid) return fail(inv, pid.error());
  if (flags->has("pid-file")) {
    if (auto st = write_pid_file(flags->get("pid-file"), *pid); !st) return fail(inv, st.error());
  }
  return 0;
}

}  // namespace reaper::cli
