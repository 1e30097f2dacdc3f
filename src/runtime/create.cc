// reaper-runtime create: start the container's monitor; the workload waits for `start`.
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_create(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {REAPER_CREATE_FLAGS});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "create [--bundle DIR] ID"); !st)
    return fail(inv, st.error());
  auto req = create_request(*flags);  // first: before any fd of ours is opened
  if (!req) return fail(inv, req.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto pid = runtime::create(*ctx, *req);
  if (!pid) return fail(inv, pid.error());
  if (flags->has("pid-file")) {
    if (auto st = write_pid_file(flags->get("pid-file"), *pid); !st) {
      (void)runtime::remove(*ctx, req->id, true);  // nothing half-created stays
      return fail(inv, st.error());
    }
  }
  return 0;
}

}  // namespace reaper::cli
