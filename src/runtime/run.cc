// reaper-runtime run: create + start + wait + delete; exits with the
// workload's exit code (128+signal when it was killed). --detach returns
// once the workload runs.
#include "runtime/cli.h"
#include "runtime/wait_foreground.h"

namespace reaper::cli {

int cmd_run(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {REAPER_CREATE_FLAGS, {"detach|d"}, {"keep"}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, "run [--bundle DIR] ID"); !st)
    return fail(inv, st.error());
  auto made = create_request(*flags);  // first: before any fd of ours is opened
  if (!made) return fail(inv, made.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto& req = *made;
  req.stdio.foreground = !flags->has("detach");
  // Foreground without --keep: the monitor deletes the container itself
  // when it has ended; remove() below only finishes what it could not.
  req.remove_at_exit = !flags->has("detach") && !flags->has("keep");
  // Created and started in one step (as runc's run, the pid file follows).
  auto started = runtime::create_started(*ctx, req);
  if (!started) return fail(inv, started.error());
  if (flags->has("pid-file")) {
    if (auto st = write_pid_file(flags->get("pid-file"), started->pid); !st) {
      (void)runtime::remove(*ctx, req.id, true);
      return fail(inv, st.error());
    }
  }
  if (flags->has("detach")) {
    if (!started->exec) {
      (void)runtime::remove(*ctx, req.id, true);
      return fail(inv, started->exec.error());
    }
    return 0;
  }
  auto exit =
      wait_foreground(*ctx, req.id, {}, std::move(started->monitor), std::move(started->report));
  if (!started->exec) fail(inv, started->exec.error());  // e.g. exec failed: 127, reported
  if (!flags->has("keep")) {
    auto st = runtime::remove(*ctx, req.id, true);
    if (!st && st.error().err() != ENOENT) fail(inv, st.error());
  }
  if (!exit) return fail(inv, exit.error());
  return exit->status;
}

}  // namespace reaper::cli
