// reaper-runtime ps: the processes of a container (init, descendants, execs).
#include "common/json.h"
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_ps(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"format|f", true}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "ps [--format table|json] ID"); !st)
    return fail(inv, st.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto pids = runtime::pids(*ctx, flags->positional[0]);
  if (!pids) return fail(inv, pids.error());
  if (flags->get("format", "table") == "json") {
    JsonWriter w;
    w.begin_array();
    for (const auto& p : *pids) w.value(p.pid);
    w.end_array();
    fmt::print("{}\n", w.str());
    return 0;
  }
  fmt::print("{:<8} {}\n", "PID", "EXEC");
  for (const auto& p : *pids) fmt::print("{:<8} {}\n", p.pid, p.exec_id);
  return 0;
}

}  // namespace reaper::cli
