// reaper-runtime kill: send a signal (name or number, default SIGTERM) to the
// workload, or with --all to every process of the container.
#include "oci/spec.h"
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_kill(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"all|a"}});
  if (!flags) return fail(inv, flags.error());
  if (flags->positional.empty() || flags->positional.size() > 2)
    return fail(inv, make_error("usage: reaper-runtime kill [--all] ID [SIGNAL]"));
  auto sig = oci::parse_signal(flags->positional.size() == 2 ? flags->positional[1] : "SIGTERM");
  if (!sig) return fail(inv, sig.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  if (auto st = runtime::kill(*ctx, flags->positional[0], {}, *sig, flags->has("all")); !st)
    return fail(inv, st.error());
  return 0;
}

}  // namespace reaper::cli
