// reaper-runtime state: the OCI state of a container as JSON.
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_state(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "state ID"); !st) return fail(inv, st.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto st = runtime::get_state(*ctx, flags->positional[0]);
  if (!st) return fail(inv, st.error());
  fmt::print("{}", state_json(*st));
  return 0;
}

}  // namespace reaper::cli
