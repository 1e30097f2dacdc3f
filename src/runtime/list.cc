// reaper-runtime list: every container in the state root.
#include "common/json.h"
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_list(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"format|f", true}, {"quiet|q"}});
  if (!flags) return fail(inv, flags.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto ids = ctx->store.list();
  if (!ids) return fail(inv, ids.error());
  std::string format = flags->get("format", "table");
  if (format != "table" && format != "json")
    return fail(inv, make_error("--format: `{}` is not table or json", format));
  JsonWriter w(2);
  w.begin_array();
  if (format == "table" && !flags->has("quiet"))
    fmt::print("{:<24} {:<8} {:<9} {:<40} {}\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  for (const auto& id : *ids) {
    auto st = runtime::get_state(*ctx, id);
    if (!st) continue;  // being created or deleted right now
    pid_t pid = st->status == runtime::ProcessStatus::stopped ? 0 : st->record.pid;
    auto created = state::format_rfc3339(st->record.created_ns);
    if (flags->has("quiet")) {
      fmt::print("{}\n", id);
    } else if (format == "table") {
      fmt::print("{:<24} {:<8} {:<9} {:<40} {}\n", id, pid, runtime::to_string(st->status),
                 st->record.bundle, created);
    } else {
      w.begin_object().key("id").value(id).key("pid").value(pid);
      w.key("status").value(runtime::to_string(st->status)).key("bundle").value(st->record.bundle);
      w.key("created").value(created).end_object();
    }
  }
  w.end_array();
  if (format == "json") fmt::print("{}\n", w.str());
  return 0;
}

}  // namespace reaper::cli
