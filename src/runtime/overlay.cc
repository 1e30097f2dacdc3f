// reaper-runtime overlay: administer overlay groups (list, reset, gc).
#include "overlay/overlay.h"
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_overlay(const Invocation& inv) {
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  return overlay::admin_command(ctx->config, inv.args);
}

}  // namespace reaper::cli
