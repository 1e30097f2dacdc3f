// reaper-runtime start: release a created workload; fails if its exec fails.
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_start(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "start ID"); !st) return fail(inv, st.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  if (auto st = runtime::start(*ctx, flags->positional[0]); !st) return fail(inv, st.error());
  return 0;
}

}  // namespace reaper::cli
