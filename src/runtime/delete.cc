// reaper-runtime delete: remove a stopped (or, with --force, any) container.
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_delete(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"force|f"}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "delete [--force] ID"); !st)
    return fail(inv, st.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  bool force = flags->has("force");
  if (auto st = runtime::remove(*ctx, flags->positional[0], force); !st) {
    // runc: deleting a container that does not exist is fine with --force.
    if (force && st.error().err() == ENOENT) return 0;
    return fail(inv, st.error());
  }
  return 0;
}

}  // namespace reaper::cli
